# Several oic_auth modes on one location (issue #4, section 2): the
# Authorization scheme picks the mode (Basic -> basic, Bearer -> bearer or
# exchange); no or another scheme gets 401 with one WWW-Authenticate
# challenge per accepted scheme; "bearer" and "exchange" together is a
# configuration error.
#
#   TEST_NGINX_BINARY=/usr/sbin/nginx TEST_NGINX_MODULE=$PWD/build/ngx_http_oic_auth_module.so \
#   TEST_NGINX_PORT=23984 TEST_NGINX_SERVROOT=/tmp/exch-servroot prove -I t/lib t/mixed.t
#
# Helpers: t/inc/OicExchange.pm (/drive, Entra tokens, exact summary lines of
# the mock OIC's echo: "sub=... type=user|client client=... jti=#n x-...=...").

use FindBin; use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use OicTest;
use OicExchange;

master_on();
workers(1);
no_long_string();
worker_connections(1024);

our $SCOPE = 'urn:opc:resource:consumer::all';

# the summary line of the mock OIC's echo
sub echo {
    my ($sub, $type, $client, $n, $extra) = @_;
    return "sub=$sub type=$type client=$client scope=$SCOPE jti=#$n" . (defined $extra ? " $extra" : '');
}

sub basic_hdr { return 'Authorization: ' . basic_auth($_[0], @_ > 1 ? $_[1] : client_secret($_[0])); }

# an IAM user token as a team's application would send it (bearer mode)
sub iam_hdr { return 'Authorization: Bearer ' . iam_token(sub => $_[0], sub_type => 'user', scope => $SCOPE, @_[1 .. $#_]); }

our $BOTH = qq{Basic realm="oic", charset="UTF-8", Bearer realm="oic"};
our $BOTH_RAW = qq{\r\nWWW-Authenticate: Basic realm="oic", charset="UTF-8"\r\nWWW-Authenticate: Bearer realm="oic"\r\n};

run_tests();

__DATA__

=== TEST 1: oic_auth basic exchange: Basic credentials get the client's IAM token, an Entra Bearer token gets its user's IAM token (the scheme's case does not matter); no or another scheme: 401 with a Basic and a Bearer challenge
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic exchange;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/m01/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/m01/v2.0 https://sts.windows.net/m01/;
        oic_auth_audience api://oic-gateway;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_kid oic-gw;
        proxy_set_header X-Cache $oic_auth_cache_status;
        proxy_set_header X-Client $oic_auth_client_id;
        proxy_set_header X-User $oic_auth_user;
        add_header X-Auth-Error $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
[("GET /api/a") x 8]
--- more_headers eval
my $b = main::basic_hdr('app1');
my $e = main::etoken('m01', user => 'alice@example.com');
[$b, "Authorization: Bearer $e", '', 'Authorization: Digest username="app1", realm="oic"',
 'Authorization: Negotiate YIIGhgYGKwYBBQUCoIIGejCCBnagMDAuBgkqhkiC9xIBAgIGCSqGSIb3EgECAgYKKwYBBAGCNwICHgYKKwYBBAGCNwICCqKCBkAEggY8',
 'Authorization: BasicBearer ' . MIME::Base64::encode_base64('app1:x', ''),
 do { (my $l = $b) =~ s/Basic/basic/; $l }, "Authorization: BEARER $e"]
--- error_code eval
[200, 200, 401, 401, 401, 401, 200, 200]
--- response_headers eval
["X-Auth-Error: \n!WWW-Authenticate", "X-Auth-Error: \n!WWW-Authenticate",
 ("X-Auth-Error: no_credentials\nWWW-Authenticate: $main::BOTH") x 4,
 "X-Auth-Error: \n!WWW-Authenticate", "X-Auth-Error: \n!WWW-Authenticate"]
--- raw_response_headers_like eval
['', '', ("\Q$main::BOTH_RAW\E") x 4, '', '']
--- response_body eval
[main::echo('app1', 'client', 'app1', 1, 'x-cache=MISS x-client=app1'),
 main::echo('alice@example.com', 'user', 'exchange-app', 2, 'x-cache=MISS x-user=alice@example.com'),
 ('401 Authorization Required') x 4,
 main::echo('app1', 'client', 'app1', 1, 'x-cache=HIT x-client=app1'),
 main::echo('alice@example.com', 'user', 'exchange-app', 2, 'x-cache=HIT x-user=alice@example.com')]
--- no_error_log
[error]
[warn]



=== TEST 2: oic_auth basic bearer: Basic credentials get the client's IAM token, a valid Bearer token is forwarded unchanged; no or another scheme: 401 with both challenges
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic bearer;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/admin/v1/SigningCert/jwk;
        oic_auth_issuer https://identity.oraclecloud.com/;
        oic_auth_audience $TEST_NGINX_OIC_AUDIENCE;
        proxy_set_header X-Cache $oic_auth_cache_status;
        proxy_set_header X-Client $oic_auth_client_id;
        proxy_set_header X-Jti $oic_auth_claim_jti;
        add_header X-Auth-Error $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
[("GET /api/a") x 5]
--- more_headers eval
[main::basic_hdr('app2'), main::iam_hdr('carol@example.com'), '', 'Authorization: Digest username="app2"',
 main::basic_hdr('app2')]
--- error_code eval
[200, 200, 401, 401, 200]
--- response_headers eval
["X-Auth-Error: \n!WWW-Authenticate", "X-Auth-Error: \n!WWW-Authenticate",
 ("X-Auth-Error: no_credentials\nWWW-Authenticate: $main::BOTH") x 2,
 "X-Auth-Error: \n!WWW-Authenticate"]
--- raw_response_headers_like eval
['', '', ("\Q$main::BOTH_RAW\E") x 2, '']
--- response_body eval
[main::echo('app2', 'client', 'app2', 1, 'x-cache=MISS x-client=app2'),
 main::echo('carol@example.com', 'user', 'exchange-app', 2, 'x-jti=same'),
 ('401 Authorization Required') x 2,
 main::echo('app2', 'client', 'app2', 1, 'x-cache=HIT x-client=app2')]
--- no_error_log
[error]
[warn]



=== TEST 3: once the scheme picked a mode, a failure answers with that scheme's challenge only: malformed Basic credentials -> 401 Basic; a bad, expired or malformed Bearer token -> 401/400 Bearer with the error; nothing reaches IAM or OIC
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic exchange;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/m03/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/m03/v2.0 https://sts.windows.net/m03/;
        oic_auth_audience api://oic-gateway;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_kid oic-gw;
        add_header X-Auth-Error $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
my @a = ('Basic !!!', 'Bearer not-a-jwt', 'Bearer a b',
         'Bearer ' . main::etoken('m03', user => 'bob@example.com', exp_in => -3600),
         'Bearer ' . OicTest::iam_token(sub => 'bob@example.com', sub_type => 'user'));
[("GET /api/a") x 5, main::xdrive(path => '/api/b', n => 5, auth => \@a)]
--- more_headers eval
['Authorization: Basic !!!',
 'Authorization: Bearer not-a-jwt',
 'Authorization: Bearer a b',
 main::bearer_hdr('m03', user => 'bob@example.com', exp_in => -3600),
 main::iam_hdr('bob@example.com'),
 '']
--- error_code eval
[401, 401, 400, 401, 401, 200]
--- response_headers eval
["X-Auth-Error: malformed_credentials\nWWW-Authenticate: Basic realm=\"oic\", charset=\"UTF-8\"",
 "X-Auth-Error: invalid_token\nWWW-Authenticate: Bearer realm=\"oic\", error=\"invalid_token\", error_description=\"token is not three dot-separated segments\"",
 "X-Auth-Error: invalid_request\nWWW-Authenticate: Bearer realm=\"oic\", error=\"invalid_request\", error_description=\"malformed Authorization header\"",
 "X-Auth-Error: invalid_token\nWWW-Authenticate: Bearer realm=\"oic\", error=\"invalid_token\", error_description=\"token expired\"",
 "X-Auth-Error: invalid_token\nWWW-Authenticate: Bearer realm=\"oic\", error=\"invalid_token\", error_description=\"aud does not match\"",
 ""]
--- response_body eval
['401 Authorization Required', '401 Authorization Required', '400 Bad Request',
 '401 Authorization Required', '401 Authorization Required',
 '400:1 401:4 iam=0 users=none oic=0 a0(401:1 jtis=0) a1(401:1 jtis=0) a2(400:1 jtis=0) a3(401:1 jtis=0) a4(401:1 jtis=0)']



=== TEST 4: in a basic exchange location, IAM's invalid_client means the caller's Basic secret is wrong (401 + Basic challenge) for a Basic request, but the gateway's own secret for a Bearer request (502, no challenge)
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic exchange;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/m04/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/m04/v2.0;
        oic_auth_audience api://oic-gateway;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/wrong;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_kid oic-gw;
        add_header X-Auth-Error $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
[("GET /api/a") x 3]
--- more_headers eval
[main::basic_hdr('app3'), main::basic_hdr('app3', 'not-the-s3cr3t'), main::bearer_hdr('m04', user => 'carol@example.com')]
--- error_code eval
[200, 401, 502]
--- response_headers eval
["X-Auth-Error: \n!WWW-Authenticate",
 "X-Auth-Error: invalid_client\nWWW-Authenticate: Basic realm=\"oic\", charset=\"UTF-8\"",
 "X-Auth-Error: invalid_client\n!WWW-Authenticate"]
--- response_body eval
[main::echo('app3', 'client', 'app3', 1), '401 Authorization Required', '502 Bad Gateway']



=== TEST 5: one location, one Basic client and one Entra user through the same IAM client id: two cache entries (a client token and a user token), never mixed up; then hits only
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic exchange;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/m05/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/m05/v2.0;
        oic_auth_audience api://oic-gateway;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_kid oic-gw;
        proxy_set_header X-Cache $oic_auth_cache_status;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
my @a = (OicTest::basic_auth('exchange-app', OicTest::client_secret('exchange-app')),
         'Bearer ' . main::etoken('m05', user => 'dave@example.com'));
[main::xdrive(path => '/api/a', n => 2, auth => \@a), main::xdrive(path => '/api/b', n => 40, auth => \@a)]
--- response_body eval
['200:2 iam=2 users=dave@example.com:1 oic=2 jwks=1 a0(200:1 exchange-app:1 jtis=1) a1(200:1 dave@example.com:1 jtis=1) jti=#1,#2 cache=MISS',
 '200:40 iam=0 users=none oic=40 a0(200:20 exchange-app:20 jtis=1) a1(200:20 dave@example.com:20 jtis=1) jti=#1,#2 cache=HIT']
--- no_error_log
[error]
[warn]



=== TEST 6: modes inherited from the server level and overridden per location; oic_auth_realm appears in every challenge
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    oic_auth basic exchange;
    oic_auth_realm "OIC Gateway";
    oic_auth_cache oic;
    oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
    oic_auth_scope $TEST_NGINX_OIC_SCOPE;
    oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/m06/discovery/v2.0/keys;
    oic_auth_issuer https://login.microsoftonline.com/m06/v2.0;
    oic_auth_audience api://oic-gateway;
    oic_auth_client_id exchange-app;
    oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
    oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
    oic_auth_assertion_kid oic-gw;

    location /both {
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location /basic-only {
        oic_auth basic;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location /exchange-only {
        oic_auth exchange;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location /open {
        oic_auth off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain;
    }
--- request eval
["GET /both/a", "GET /both/b", "GET /basic-only/c", "GET /basic-only/d", "GET /exchange-only/e", "GET /exchange-only/f", "GET /open"]
--- more_headers eval
my $e = main::bearer_hdr('m06', user => 'erin@example.com');
['', $e, $e, main::basic_hdr('app4'), main::basic_hdr('app4'), $e, '']
--- error_code eval
[401, 200, 401, 200, 401, 200, 200]
--- response_headers eval
["WWW-Authenticate: Basic realm=\"OIC Gateway\", charset=\"UTF-8\", Bearer realm=\"OIC Gateway\"", "!WWW-Authenticate",
 "WWW-Authenticate: Basic realm=\"OIC Gateway\", charset=\"UTF-8\"", "!WWW-Authenticate",
 "WWW-Authenticate: Bearer realm=\"OIC Gateway\"", "!WWW-Authenticate", "!WWW-Authenticate"]
--- response_body eval
['401 Authorization Required', main::echo('erin@example.com', 'user', 'exchange-app', 1),
 '401 Authorization Required', main::echo('app4', 'client', 'app4', 2),
 '401 Authorization Required', main::echo('erin@example.com', 'user', 'exchange-app', 1),
 'plain']
--- no_error_log
[error]
[warn]



=== TEST 7: bearer and exchange cannot share a location (both take Bearer tokens), also next to basic
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic bearer exchange;
    }
--- must_die
--- error_log
"bearer" and "exchange" cannot be combined: both take Bearer tokens
