# The $oic_auth_* variables (issue #7, items 1, 2 and 9): which are set when,
# how they are escaped, and empty values.
#
#   - what comes from credentials ($oic_auth_subject, _user, _scopes,
#     _claim_*, _client_id, _token) is empty unless the module granted
#     access: never from a token that failed a check (a forged signature, the
#     route's scopes), nor for Basic credentials IAM refused, nor for a
#     request another access module let in (satisfy any);
#   - no value carries a raw control character: bytes < 0x20, 0x7f and the
#     backslash are written as \xHH (so a claim cannot add a header upstream
#     or a line to a log); UTF-8 stays as it is;
#   - an empty value is "not found" with a valid pointer (the UBSan job runs
#     the blocks that use empty values in add_header).
#
#   TEST_NGINX_BINARY=/usr/sbin/nginx TEST_NGINX_MODULE=$PWD/build/ngx_http_oic_auth_module.so \
#   TEST_NGINX_PORT=21000 prove -I t/lib t/variables.t
#
# Every protected location forwards to /up/ of the same nginx, which answers
# what it received ("what the upstream saw"); /vars.log serves the access
# log of the blocks that write one.

use FindBin; use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use OicTest;
use OicBearer;
use HTTP::Tiny;
use JSON::PP;

master_on();
workers(1);

our $ISS = 'https://login.microsoftonline.com/v-main/v2.0';
our $JSONC = JSON::PP->new->canonical;

# the kid of the first RSA key the tenant publishes
sub rsa_kid {
    my $tid = shift;
    my $r = HTTP::Tiny->new->get(OicTest::entra_jwks_uri($tid));
    die "JWKS of $tid: $r->{status}\n" unless $r->{success};
    return (grep { $_->{kty} eq 'RSA' } @{ decode_json($r->{content})->{keys} })[0]{kid};
}

# a token with a known kid, the attacker's payload (valid claims) and the signature "AAAA"
sub forged {
    my %claims = (aud => 'api://oic-gateway', iss => $ISS, iat => time, nbf => time,
                  exp => time + 3600, sub => 'mallory-sub', preferred_username => 'mallory@evil.example',
                  name => 'Mallory', scp => 'oic_api_HR oic_api_admin', @_);
    return b64u($JSONC->encode({ alg => 'RS256', typ => 'JWT', kid => rsa_kid('v-main') }))
           . '.' . b64u($JSONC->encode(\%claims)) . '.AAAA';
}

tokens(
    valid   => ['v-main', { user => 'alice@example.com', claims => { sub => 'alice-sub', name => 'Alice', scp => 'oic_api_HR' } }],
    forged  => sub { main::forged() },
    noscope => ['v-main', { user => 'bob@example.com', claims => { sub => 'bob-sub', name => 'Bob', scp => 'oic_api_IT' } }],
    crlf    => ['v-main', { user => "carol\r\nX-Injected: user",
                            claims => { sub => "carol-sub\nX-Injected: sub", name => "Alice\r\nX-Injected: yes",
                                        scp => "oic_api_HR\r\nX-Injected: scp",
                                        groups => ["g1\r\nX-Injected: array", "g2"] } }],
    bytes   => ['v-main', { user => "dave\\\x{7f}\@example.com",
                            claims => { name => "Zo\x{eb} \x{65e5}\x{672c} tab\there", note => 'a\x41 b\\\\c' } }],
);

our $LOG = q{log_format vars escape=none '$status|$oic_auth_subject|$oic_auth_user|$oic_auth_scopes|$oic_auth_claim_name|$oic_auth_client_id|$oic_auth_token|$oic_auth_error';};

our $UP = <<'_EOC_';
    location /up/ {
        return 200 "auth=[$http_authorization] user=[$http_x_user] sub=[$http_x_sub] name=[$http_x_name] scopes=[$http_x_scopes] groups=[$http_x_groups] note=[$http_x_note] client=[$http_x_client] inj=[$http_x_injected]\n";
    }
    location = /vars.log {
        alias logs/vars.log;
    }
_EOC_

our $BEARER = <<'_EOC_';
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/v-main/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/v-main/v2.0;
        oic_auth_audience api://oic-gateway;
        oic_auth_user_claim preferred_username;
_EOC_

run_tests();

__DATA__

=== TEST 1: a forged token (known kid, the attacker's payload, signature AAAA) gets 401 and leaves no claim in any variable, in add_header or in the access log; the genuine token's claims are there
--- http_config eval
$main::LOG
--- config eval
<<"_EOC_" . $main::UP
    location /t {
$main::BEARER
        add_header X-Sub \$oic_auth_subject always;
        add_header X-User \$oic_auth_user always;
        add_header X-Scopes \$oic_auth_scopes always;
        add_header X-Name \$oic_auth_claim_name always;
        add_header X-Err \$oic_auth_error always;
        access_log logs/vars.log vars;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/up/;
    }
_EOC_
--- request eval
["GET /t", "GET /t", "GET /vars.log"]
--- more_headers eval
[main::auth('forged'), main::auth('valid'), ""]
--- error_code eval
[401, 200, 200]
--- response_headers eval
["!X-Sub\n!X-User\n!X-Scopes\n!X-Name\nX-Err: invalid_token",
 "X-Sub: alice-sub\nX-User: alice\@example.com\nX-Scopes: oic_api_HR\nX-Name: Alice\n!X-Err",
 ""]
--- response_body_like eval
[qr/<title>401 Authorization Required<\/title>/,
 qr/\Aauth=\[Bearer \Q${\ main::tok('valid')}\E\] user=\[\] /,
 qr/\A401\|\|\|\|\|\|\|invalid_token\n200\|alice-sub\|alice\@example\.com\|oic_api_HR\|Alice\|\|\|\n\z/]



=== TEST 2: satisfy any with allow 127.0.0.1: a forged token gets in through the allow rule, but the upstream sees no forged user and no Authorization header, and the log no forged claim
--- http_config eval
$main::LOG
--- config eval
<<"_EOC_" . $main::UP
    location /t {
        satisfy any;
        allow 127.0.0.1;
        deny all;
$main::BEARER
        proxy_set_header X-User \$oic_auth_user;
        proxy_set_header X-Sub \$oic_auth_subject;
        proxy_set_header X-Scopes \$oic_auth_scopes;
        access_log logs/vars.log vars;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/up/;
    }
_EOC_
--- request eval
["GET /t", "GET /t", "GET /vars.log"]
--- more_headers eval
[main::auth('forged'), main::auth('valid'), ""]
--- error_code eval
[200, 200, 200]
--- response_body eval
["auth=[] user=[] sub=[] name=[] scopes=[] groups=[] note=[] client=[] inj=[]\n",
 "auth=[Bearer " . main::tok('valid') . "] user=[alice\@example.com] sub=[alice-sub] name=[] scopes=[oic_api_HR] groups=[] note=[] client=[] inj=[]\n",
 "200|||||||invalid_token\n200|alice-sub|alice\@example.com|oic_api_HR|Alice|||\n"]
--- response_headers eval
["!WWW-Authenticate", "!WWW-Authenticate", ""]



=== TEST 3: a valid token without the route's scope (403): its claims are not shown either
--- http_config eval
$main::LOG
--- config eval
<<"_EOC_" . $main::UP
    location /t {
$main::BEARER
        oic_auth_scopes_required oic_api_HR;
        add_header X-Sub \$oic_auth_subject always;
        add_header X-Scopes \$oic_auth_scopes always;
        add_header X-Err \$oic_auth_error always;
        access_log logs/vars.log vars;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/up/;
    }
_EOC_
--- request eval
["GET /t", "GET /vars.log"]
--- more_headers eval
[main::auth('noscope'), ""]
--- error_code eval
[403, 200]
--- response_headers eval
["!X-Sub\n!X-Scopes\nX-Err: insufficient_scope", ""]
--- response_body_like eval
[qr/<title>403 Forbidden<\/title>/, qr/\A403\|\|\|\|\|\|\|insufficient_scope\n\z/]



=== TEST 4: CR/LF in a validly signed token's claims never reach the upstream as a header: $oic_auth_claim_name, _user, _subject, _scopes and an array claim are escaped (\x0D\x0A)
--- config eval
<<"_EOC_" . $main::UP
    location /t {
$main::BEARER
        proxy_set_header X-Name \$oic_auth_claim_name;
        proxy_set_header X-User \$oic_auth_user;
        proxy_set_header X-Sub \$oic_auth_subject;
        proxy_set_header X-Scopes \$oic_auth_scopes;
        proxy_set_header X-Groups \$oic_auth_claim_groups;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/up/;
    }
_EOC_
--- request
GET /t
--- more_headers eval
main::auth('crlf')
--- error_code: 200
--- response_body eval
"auth=[Bearer " . main::tok('crlf') . "] user=[carol\\x0D\\x0AX-Injected: user] sub=[carol-sub\\x0AX-Injected: sub]"
. " name=[Alice\\x0D\\x0AX-Injected: yes] scopes=[oic_api_HR\\x0D\\x0AX-Injected: scp]"
. " groups=[g1\\x0D\\x0AX-Injected: array g2] note=[] client=[] inj=[]\n"



=== TEST 5: the escaping is unambiguous and leaves UTF-8 alone: a backslash becomes \x5C (a literal "\x41" in a claim stays distinguishable), DEL \x7F, TAB \x09; é and 日本 are kept
--- config eval
<<"_EOC_" . $main::UP
    location /t {
$main::BEARER
        proxy_set_header X-Name \$oic_auth_claim_name;
        proxy_set_header X-User \$oic_auth_user;
        proxy_set_header X-Note \$oic_auth_claim_note;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/up/;
    }
_EOC_
--- request
GET /t
--- more_headers eval
main::auth('bytes')
--- error_code: 200
--- response_body eval
"auth=[Bearer " . main::tok('bytes') . "] user=[dave\\x5C\\x7F\@example.com] sub=[]"
. " name=[Zo\xc3\xab \xe6\x97\xa5\xe6\x9c\xac tab\\x09here] scopes=[] groups=[] note=[a\\x5Cx41 b\\x5C\\x5Cc] client=[] inj=[]\n"



=== TEST 6: $oic_auth_client_id is shown once IAM accepted the credentials (escaped: a backslash is \x5C, UTF-8 kept); a client IAM refuses, and an id with CR/LF (refused by the Basic parser), leave it empty; $oic_auth_token is the IAM token
--- http_config eval
$main::LOG
--- config eval
<<"_EOC_" . $main::UP
    location /fake {
        oic_auth basic;
        oic_auth_token_endpoint http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/fake-iam;
        oic_auth_scope \$TEST_NGINX_OIC_SCOPE;
        add_header X-Client \$oic_auth_client_id always;
        add_header X-Err \$oic_auth_error always;
        proxy_set_header X-Client \$oic_auth_client_id;
        access_log logs/vars.log vars;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/up/;
    }
    location /iam {
        oic_auth basic;
        oic_auth_token_endpoint http://127.0.0.1:\$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope \$TEST_NGINX_OIC_SCOPE;
        add_header X-Client \$oic_auth_client_id always;
        add_header X-Err \$oic_auth_error always;
        access_log logs/vars.log vars;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/up/;
    }
    location = /fake-iam {
        default_type application/json;
        return 200 '{"access_token":"fake.iam.token","token_type":"Bearer","expires_in":3600}';
    }
_EOC_
--- request eval
["GET /fake", "GET /fake", "GET /iam", "GET /vars.log"]
--- more_headers eval
["Authorization: " . OicTest::basic_auth("back\\slash-\xc3\xa9", 's3cret'),
 "Authorization: Basic " . MIME::Base64::encode_base64("app%0D%0AX-Injected:%20yes:s3cret", ''),
 "Authorization: " . OicTest::basic_auth('nosuch-app', 'nosuch-secret'),
 ""]
--- error_code eval
[200, 401, 401, 200]
--- response_headers eval
["X-Client: back\\x5Cslash-\xc3\xa9\n!X-Err", "!X-Client\nX-Err: malformed_credentials",
 "!X-Client\nX-Err: invalid_client", ""]
--- response_body_like eval
[qr/\Aauth=\[Bearer fake\.iam\.token\] user=\[\] sub=\[\] name=\[\] scopes=\[\] groups=\[\] note=\[\] client=\[back\\x5Cslash-\xc3\xa9\] inj=\[\]\n\z/,
 qr/401 Authorization Required/, qr/401 Authorization Required/,
 qr/\A200\|\|\|\|\|back\\x5Cslash-\xc3\xa9\|fake\.iam\.token\|\n401\|\|\|\|\|\|\|malformed_credentials\n401\|\|\|\|\|\|\|invalid_client\n\z/]



=== TEST 7: empty values in add_header (UBSan: no NULL pointer reaches memcpy): every variable on a request without Authorization, and in a location without oic_auth
--- config eval
<<"_EOC_" . $main::UP
    location /b {
        oic_auth basic;
        oic_auth_token_endpoint http://127.0.0.1:\$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope \$TEST_NGINX_OIC_SCOPE;
        add_header X-C \$oic_auth_client_id always;
        add_header X-S \$oic_auth_cache_status always;
        add_header X-T \$oic_auth_token always;
        add_header X-U \$oic_auth_user always;
        add_header X-Sub \$oic_auth_subject always;
        add_header X-Sc \$oic_auth_scopes always;
        add_header X-N \$oic_auth_claim_name always;
        add_header X-E \$oic_auth_error always;
        add_header X-All "[\$oic_auth_client_id\$oic_auth_cache_status\$oic_auth_token\$oic_auth_user\$oic_auth_subject\$oic_auth_scopes\$oic_auth_claim_name]" always;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/up/;
    }
    location /open {
        add_header X-C \$oic_auth_client_id always;
        add_header X-E \$oic_auth_error always;
        add_header X-All "[\$oic_auth_client_id\$oic_auth_cache_status\$oic_auth_token\$oic_auth_user\$oic_auth_subject\$oic_auth_scopes\$oic_auth_claim_name\$oic_auth_error]" always;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/up/;
    }
_EOC_
--- request eval
["GET /b", "GET /open"]
--- error_code eval
[401, 200]
--- response_headers eval
["!X-C\n!X-S\n!X-T\n!X-U\n!X-Sub\n!X-Sc\n!X-N\nX-E: no_credentials\nX-All: []",
 "!X-C\n!X-E\nX-All: []"]
--- no_error_log eval
[qr/\[alert\]/, qr/ngx_http_script\.c:\d+:\d+: runtime error/]



=== TEST 8: exchange mode: $oic_auth_user is the user exchanged once IAM issued the token; for a user IAM refuses (403 invalid_grant) it stays empty, like every claim of the token
--- http_config eval
$main::LOG
--- config eval
my $secret = main::write_temp('exchange-app', OicTest::client_secret('exchange-app'));
<<"_EOC_" . $main::UP
    location /x {
        oic_auth exchange;
        oic_auth_jwks_uri http://127.0.0.1:\$TEST_NGINX_IAM_PORT/v-xch/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/v-xch/v2.0;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:\$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope \$TEST_NGINX_OIC_SCOPE;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $secret;
        oic_auth_assertion_key \$TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_kid oic-gw;
        add_header X-User \$oic_auth_user always;
        add_header X-Sub \$oic_auth_subject always;
        add_header X-Err \$oic_auth_error always;
        access_log logs/vars.log vars;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/up/;
    }
_EOC_
--- request eval
["GET /x", "GET /x", "GET /vars.log"]
--- more_headers eval
["Authorization: Bearer " . OicTest::entra_token('v-xch', { user => 'alice@example.com', claims => { sub => 'alice-sub', name => 'Alice' } }),
 "Authorization: Bearer " . OicTest::entra_token('v-xch', { user => 'nobody@example.com', claims => { sub => 'nobody-sub', name => 'Nobody' } }),
 ""]
--- error_code eval
[200, 403, 200]
--- response_headers eval
["X-User: alice\@example.com\nX-Sub: alice-sub\n!X-Err", "!X-User\n!X-Sub\nX-Err: invalid_grant", ""]
--- response_body_like eval
[qr/^auth=\[Bearer ey/, qr/403 Forbidden/,
 qr/\A200\|alice-sub\|alice\@example\.com\|[^|]*\|Alice\|\|ey[^|]+\|\n403\|\|\|\|\|\|\|invalid_grant\n\z/]
