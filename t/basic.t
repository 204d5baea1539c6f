# oic_auth basic: Basic client credentials in, a cached OCI IAM
# client_credentials token out (issue #2, section 4). A master and ONE
# worker, so that "non-blocking" means something; t/basic-workers.t has the
# multi-worker tests (single flight across workers).
#
#   TEST_NGINX_BINARY=/usr/sbin/nginx TEST_NGINX_MODULE=$PWD/build/ngx_http_oic_auth_module.so \
#   TEST_NGINX_PORT=21984 TEST_NGINX_SERVROOT=/tmp/basic-servroot prove -I t/lib t/basic.t
#
# t/mock/idp.js plays OCI IAM (faults per client id, see t/mock/clients.json)
# and OIC (it verifies the token and echoes its sub/scope/jti). t/inc/OicBasic.pm
# adds "location = /drive" (the mock's load generator; "iam=N" is the number of
# IAM token calls during that drive) and turns bodies into short lines
# ("sub=... scope=... jti=#1": #1 twice in a block = the same token reused).
#
# Blocks may run in any order: IAM calls are counted per drive (deltas), and
# every block starts its own nginx (hence an empty cache).

use FindBin; use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use OicTest;
use OicBasic;
use MIME::Base64 ();

master_on();
workers(1);

our $SCOPE = 'urn:opc:resource:consumer::all';    # the scope claim IAM issues for $OIC_SCOPE

# the summary line of the mock OIC's answer
sub echo_line {
    my ($sub, $n, $extra) = @_;
    return "sub=$sub scope=$SCOPE jti=#$n" . (defined $extra ? " $extra" : '');
}

# a log line of the module about a client's token request (the key is 8 hex digits)
sub about {
    my ($client, $what) = @_;
    return qr/oic_auth: token (?:request )?(?:issued )?for client "\Q$client\E" \(key [0-9a-f]{8}\),? ${\ (ref $what ? $what : quotemeta $what)}/;
}

# Authorization values that never reach IAM: [header value or undef, $oic_auth_error]
our @REJECTED = (
    [undef,                                                  'no_credentials'],
    ['Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln',                 'no_credentials'],
    ['Digest username="app4", realm="oic"',                  'no_credentials'],
    ['BasicX ' . MIME::Base64::encode_base64('app4:x', ''), 'no_credentials'],
    ['Basic',                                                'malformed_credentials'],
    ['Basic !!!!',                                           'malformed_credentials'],
    ['Basic ' . MIME::Base64::encode_base64('app4', ''),     'malformed_credentials'],
    ['Basic ' . MIME::Base64::encode_base64(':secret', ''),  'malformed_credentials'],
    ['Basic ' . MIME::Base64::encode_base64('app4:%zz', ''), 'malformed_credentials'],
    ['Basic ' . MIME::Base64::encode_base64('app4:a%00b', ''), 'malformed_credentials'],
    ['Basic ' . MIME::Base64::encode_base64('app4:' . ('x' x 5000), ''), 'malformed_credentials'],
    ['Basic ' . MIME::Base64::encode_base64('app4:s3cr3t', '') . ' trailing', 'malformed_credentials'],
);

# LRU: finance-app is used between every two other clients, so it stays
# recently used while 18 other tokens go through a 32k zone (about 7 fit)
our @LRU_OTHERS = qw(legacy-app hr-app it-app burst-app app1 app2 app3 app4 app5
                     app6 app7 post-app lag-app lag-app2 lag-app3 bearer-lc-app
                     exchange-app exchange-app2);
our @LRU_SEQ = ('finance-app', map { ($_, 'finance-app') } @LRU_OTHERS);
push @LRU_SEQ, $LRU_OTHERS[0];

# answers of IAM that are no token (all 502, never cached)
our @BROKEN = qw(malformed-app html-app notoken-app tokennum-app empty-body-app
                 oversized-app drop-app partial-app);

our $WRONG = 'wrong-s3cr3t-Q7v9';

run_tests();

__DATA__

=== TEST 1: a miss fetches a token for the client, the next request reuses it (same jti), IAM is not called again
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        add_header X-Cache $oic_auth_cache_status always;
        add_header X-Client $oic_auth_client_id always;
        add_header X-Error $oic_auth_error always;
        proxy_set_header X-Token $oic_auth_token;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /api/orders", "GET /api/orders",
 main::drive(path => '/api/orders', n => 1, client => 'finance-app', auth => main::auth('finance-app'))]
--- more_headers eval
main::auth_hdr('finance-app')
--- error_code eval
[200, 200, 200]
--- response_headers eval
["X-Cache: MISS\nX-Client: finance-app\n!X-Error\n!WWW-Authenticate",
 "X-Cache: HIT\nX-Client: finance-app\n!X-Error", ""]
--- response_body eval
[main::echo_line('finance-app', 1, 'token=forwarded'),
 main::echo_line('finance-app', 1, 'token=forwarded'),
 "200:1 iam=0 jti=#1"]
--- no_error_log
[error]
[warn]



=== TEST 2: the IAM request: one form-encoded POST, client_credentials with the configured scope, the client's credentials as Basic
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location = /iam_log {
        proxy_pass http://127.0.0.1:$TEST_NGINX_IAM_PORT/_test/token_log?$args;
    }
--- request eval
[main::drive(path => '/api', n => 1, client => 'it-app', auth => main::auth('it-app')),
 "GET /iam_log?client=it-app"]
--- response_body eval
["200:1 iam=1 jti=#1",
 "last: POST application/x-www-form-urlencoded client_secret_basic grant_type=client_credentials scope=$OicTest::OIC_SCOPE status=200"]
--- no_error_log
[error]



=== TEST 3: RFC 6749 2.3.1: a secret with : % + / ~ non-ASCII and a space, form-urlencoded inside Basic, is decoded and re-encoded for IAM
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        add_header X-Cache $oic_auth_cache_status always;
        add_header X-Client $oic_auth_client_id always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /api", "GET /api"]
--- more_headers eval
main::auth_hdr('legacy-app')
--- error_code eval
[200, 200]
--- response_headers eval
["X-Cache: MISS\nX-Client: legacy-app", "X-Cache: HIT\nX-Client: legacy-app"]
--- response_body eval
[main::echo_line('legacy-app', 1), main::echo_line('legacy-app', 1)]
--- no_error_log
[error]



=== TEST 4: equivalent encodings of the same credentials share one cache entry (the key is taken after decoding)
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        add_header X-Cache $oic_auth_cache_status always;
        add_header X-Client $oic_auth_client_id always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /api", "GET /api"]
--- more_headers eval
[main::auth_hdr('app1'),
 # "app%31" is "app1" and every byte of the secret %-encoded
 "Authorization: Basic " . MIME::Base64::encode_base64('app%31:' . CORE::join('', map { sprintf '%%%02X', ord } split //, OicTest::client_secret('app1')), '')]
--- error_code eval
[200, 200]
--- response_headers eval
["X-Cache: MISS\nX-Client: app1", "X-Cache: HIT\nX-Client: app1"]
--- response_body eval
[main::echo_line('app1', 1), main::echo_line('app1', 1)]
--- no_error_log
[error]



=== TEST 5: the scheme name is case-insensitive and may be followed by several spaces
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        add_header X-Cache $oic_auth_cache_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /api", "GET /api"]
--- more_headers eval
[do { (my $a = main::auth('app2')) =~ s/^Basic /bASIC    /; "Authorization: $a" },
 "Authorization: " . main::auth('app2')]
--- error_code eval
[200, 200]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT"]
--- response_body eval
[main::echo_line('app2', 1), main::echo_line('app2', 1)]



=== TEST 6: token_type "bearer" in lower case is accepted (RFC 6749 5.1: case-insensitive)
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        add_header X-Cache $oic_auth_cache_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /api", "GET /api"]
--- more_headers eval
main::auth_hdr('bearer-lc-app')
--- error_code eval
[200, 200]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT"]
--- response_body eval
[main::echo_line('bearer-lc-app', 1), main::echo_line('bearer-lc-app', 1)]
--- no_error_log
[error]



=== TEST 7: each configured scope has its own token for the same client
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    oic_auth_cache oic;
    oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
    add_header X-Cache $oic_auth_cache_status always;

    location /consumer {
        oic_auth basic;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location /ic/api {
        oic_auth basic;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE_API;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /consumer", "GET /ic/api", "GET /consumer", "GET /ic/api"]
--- more_headers eval
main::auth_hdr('app3')
--- error_code eval
[200, 200, 200, 200]
--- response_headers eval
["X-Cache: MISS", "X-Cache: MISS", "X-Cache: HIT", "X-Cache: HIT"]
--- response_body eval
["sub=app3 scope=urn:opc:resource:consumer::all jti=#1", "sub=app3 scope=/ic/api/ jti=#2",
 "sub=app3 scope=urn:opc:resource:consumer::all jti=#1", "sub=app3 scope=/ic/api/ jti=#2"]



=== TEST 8: server-level settings are inherited; "oic_auth off" in a nested location lets requests through untouched
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    oic_auth basic;
    oic_auth_cache oic;
    oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
    oic_auth_scope $TEST_NGINX_OIC_SCOPE;

    location /api {
        add_header X-Error $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;

        location /api/public {
            oic_auth off;
            add_header X-Error $oic_auth_error always;
            proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
        }
    }
--- request eval
["GET /api/public", "GET /api/orders", "GET /api/orders"]
--- more_headers eval
["", "", main::auth_hdr('post-app')]
--- error_code eval
[200, 401, 200]
--- response_headers eval
["!WWW-Authenticate\n!X-Error",
 "WWW-Authenticate: Basic realm=\"oic\", charset=\"UTF-8\"\nX-Error: no_credentials",
 "!X-Error"]
--- response_body eval
["plain", "401 Authorization Required", main::echo_line('post-app', 1)]
--- no_error_log
[error]



=== TEST 9: no credentials, another scheme, or malformed Basic: 401 with the Basic challenge, and IAM is never called
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        add_header X-Cache $oic_auth_cache_status always;
        add_header X-Client $oic_auth_client_id always;
        add_header X-Error $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
[(map { "GET /api" } @main::REJECTED),
 main::drive(path => '/api', n => scalar(@main::REJECTED), auth => [map { $_->[0] // '' } @main::REJECTED])]
--- more_headers eval
[(map { defined $_->[0] ? "Authorization: $_->[0]" : "" } @main::REJECTED), ""]
--- error_code eval
[(map { 401 } @main::REJECTED), 200]
--- response_headers eval
[(map { "WWW-Authenticate: Basic realm=\"oic\", charset=\"UTF-8\"\nX-Error: $_->[1]\n!X-Cache\n!X-Client" } @main::REJECTED), ""]
--- response_body eval
[(map { "401 Authorization Required" } @main::REJECTED), "401:" . scalar(@main::REJECTED) . " iam=0"]
--- no_error_log
[error]



=== TEST 10: an unknown client: IAM's invalid_client gives 401 with the (configured) realm, and is remembered: the same answer without an IAM call (NEGATIVE; its log line: t/iam-guard.t) ($oic_auth_client_id stays empty: IAM did not accept it)
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_realm "OIC Gateway";
        add_header X-Cache $oic_auth_cache_status always;
        add_header X-Client $oic_auth_client_id always;
        add_header X-Error $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /api", "GET /api",
 main::drive(path => '/api', n => 1, client => 'nosuch-app', auth => main::auth('nosuch-app', 'nosuch-secret'))]
--- more_headers eval
"Authorization: " . main::auth('nosuch-app', 'nosuch-secret')
--- error_code eval
[401, 401, 200]
--- response_headers eval
["WWW-Authenticate: Basic realm=\"OIC Gateway\", charset=\"UTF-8\"\nX-Error: invalid_client\nX-Cache: MISS\n!X-Client",
 "WWW-Authenticate: Basic realm=\"OIC Gateway\", charset=\"UTF-8\"\nX-Error: invalid_client\nX-Cache: NEGATIVE\n!X-Client",
 ""]
--- response_body eval
["401 Authorization Required", "401 Authorization Required", "401:1 iam=0"]
--- no_error_log
nosuch-secret



=== TEST 11: a wrong secret for a known client never gets the cached token: IAM is asked (once: its refusal is remembered), 401, and the good token stays cached
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        add_header X-Cache $oic_auth_cache_status always;
        add_header X-Error $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /api", "GET /api",
 main::drive(path => '/api', n => 1, client => 'hr-app', auth => main::auth('hr-app', $main::WRONG)),
 main::drive(path => '/api', n => 1, client => 'hr-app', auth => main::auth('hr-app'))]
--- more_headers eval
[main::auth_hdr('hr-app'), main::auth_hdr('hr-app', $main::WRONG), "", ""]
--- error_code eval
[200, 401, 200, 200]
--- response_headers eval
["X-Cache: MISS\n!X-Error",
 "X-Cache: MISS\nX-Error: invalid_client\nWWW-Authenticate: Basic realm=\"oic\", charset=\"UTF-8\"",
 "", ""]
--- response_body eval
[main::echo_line('hr-app', 1), "401 Authorization Required", "401:1 iam=0", "200:1 iam=0 jti=#1"]
--- no_error_log eval
[$main::WRONG]



=== TEST 12: IAM unauthorized_client (scope not allowed for the client): 403 without a challenge (remembered: t/iam-guard.t)
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        add_header X-Cache $oic_auth_cache_status always;
        add_header X-Error $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /api"]
--- more_headers eval
main::auth_hdr('other-scope-app')
--- error_code eval
[403]
--- response_headers eval
["X-Error: unauthorized_client\nX-Cache: MISS\n!WWW-Authenticate"]
--- response_body eval
["403 Forbidden"]
--- error_log eval
[main::about('other-scope-app', 'refused: IAM error unauthorized_client')]



=== TEST 13: IAM invalid_scope (a scope IAM does not know): 403 (remembered: t/iam-guard.t)
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope "urn:example:no-such-scope";
        add_header X-Cache $oic_auth_cache_status always;
        add_header X-Error $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /api"]
--- more_headers eval
main::auth_hdr('app5')
--- error_code eval
[403]
--- response_headers eval
["X-Error: invalid_scope\nX-Cache: MISS\n!WWW-Authenticate"]
--- response_body eval
["403 Forbidden"]
--- error_log eval
[main::about('app5', 'refused: IAM error invalid_scope')]



=== TEST 14: IAM invalid_grant: 403 (remembered: t/iam-guard.t)
--- init
OicTest::iam_behavior('app8', { status => 400, body => '{"error":"invalid_grant","error_description":"mock"}' });
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        add_header X-Cache $oic_auth_cache_status always;
        add_header X-Error $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /api"]
--- more_headers eval
main::auth_hdr('app8')
--- error_code eval
[403]
--- response_headers eval
["X-Error: invalid_grant\nX-Cache: MISS\n!WWW-Authenticate"]
--- response_body eval
["403 Forbidden"]
--- error_log eval
[main::about('app8', 'refused: IAM error invalid_grant')]



=== TEST 15: IAM answers 500: 502 iam_unavailable, not cached
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        add_header X-Cache $oic_auth_cache_status always;
        add_header X-Error $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /api", main::drive(path => '/api', n => 1, client => 'err500-app', auth => main::auth('err500-app'))]
--- more_headers eval
main::auth_hdr('err500-app')
--- error_code eval
[502, 200]
--- response_headers eval
["X-Error: iam_unavailable\nX-Cache: MISS\n!WWW-Authenticate", ""]
--- response_body eval
["502 Bad Gateway", "502:1 iam=1"]
--- error_log eval
[main::about('err500-app', 'refused: IAM answered 500')]



=== TEST 16: IAM answers 503: 502 iam_unavailable, not cached
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        add_header X-Cache $oic_auth_cache_status always;
        add_header X-Error $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /api", main::drive(path => '/api', n => 1, client => 'err503-app', auth => main::auth('err503-app'))]
--- more_headers eval
main::auth_hdr('err503-app')
--- error_code eval
[502, 200]
--- response_headers eval
["X-Error: iam_unavailable\nX-Cache: MISS\n!WWW-Authenticate", ""]
--- response_body eval
["502 Bad Gateway", "502:1 iam=1"]
--- error_log eval
[main::about('err503-app', 'refused: IAM answered 503')]



=== TEST 17: IAM rate limit (429): 503 iam_rate_limited (no call until its Retry-After: t/iam-guard.t)
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        add_header X-Cache $oic_auth_cache_status always;
        add_header X-Error $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /api"]
--- more_headers eval
main::auth_hdr('rate-app')
--- error_code eval
[503]
--- response_headers eval
["X-Error: iam_rate_limited\nX-Cache: MISS\n!WWW-Authenticate"]
--- response_body eval
["503 Service Temporarily Unavailable"]
--- error_log eval
[main::about('rate-app', 'refused: IAM answered 429 (rate limited)')]



=== TEST 18: token_type "mac": 502, not cached
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        add_header X-Cache $oic_auth_cache_status always;
        add_header X-Error $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /api", main::drive(path => '/api', n => 1, client => 'mac-app', auth => main::auth('mac-app'))]
--- more_headers eval
main::auth_hdr('mac-app')
--- error_code eval
[502, 200]
--- response_headers eval
["X-Error: iam_unavailable\nX-Cache: MISS\n!WWW-Authenticate", ""]
--- response_body eval
["502 Bad Gateway", "502:1 iam=1"]
--- error_log eval
[main::about('mac-app', 'refused: malformed answer: token_type is not Bearer')]



=== TEST 19: malformed, empty, HTML, oversized (2 MB), dropped and truncated answers: 502, and nothing is cached (IAM is called again)
--- http_config
    oic_auth_cache_zone oic:1m;
    # 16 calls in a second for 8 keys IAM never accepted, 8 at a time
    oic_auth_iam_rate off;
    oic_auth_iam_connections 16;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
[map { main::drive(path => '/api', n => scalar(@main::BROKEN), auth => [map { main::auth($_) } @main::BROKEN]) } 1, 2]
--- response_body_like eval
# at least one IAM call per request, each time: nothing was cached. libcurl
# sends a request again, once, when a kept-alive connection it reused turns
# out dead before any answer (drop-app's hang-up looks like that), so a
# call may reach IAM twice
[map { my $n = scalar(@main::BROKEN); "^502:$n iam=(?:" . CORE::join('|', $n .. 2 * $n) . ")\$" } 1, 2]
--- error_log eval
[main::about('malformed-app', 'refused: malformed answer: not a JSON object'),
 main::about('html-app', 'refused: malformed answer: not a JSON object'),
 main::about('notoken-app', 'refused: malformed answer: access_token missing'),
 main::about('tokennum-app', 'refused: malformed answer: access_token not a string'),
 main::about('empty-body-app', 'refused: malformed answer: not a JSON object'),
 main::about('oversized-app', 'failed: answer too large'),
 main::about('drop-app', 'failed: '),
 main::about('partial-app', 'failed: ')]
--- no_error_log
[alert]
[crit]
--- timeout: 10



=== TEST 20: IAM slower than oic_auth_timeout: 502 as soon as the timeout expires
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_timeout 500ms;
        add_header X-Error $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
# slow-app answers after 2 s; the drive gives up on a request after 1.5 s ("timeout:1")
["GET /api", main::drive(path => '/api', n => 1, timeout_ms => 1500, client => 'slow-app', auth => main::auth('slow-app'))]
--- more_headers eval
main::auth_hdr('slow-app')
--- error_code eval
[502, 200]
--- response_headers eval
["X-Error: iam_unavailable", ""]
--- response_body eval
["502 Bad Gateway", "502:1 iam=1"]
--- error_log eval
[main::about('slow-app', 'failed: Operation timed out')]
--- timeout: 5



=== TEST 21: the token endpoint refuses connections: 502, not cached
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        add_header X-Cache $oic_auth_cache_status always;
        add_header X-Error $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /api", "GET /api"]
--- more_headers eval
main::auth_hdr('app6')
--- error_code eval
[502, 502]
--- response_headers eval
["X-Error: iam_unavailable\nX-Cache: MISS", "X-Error: iam_unavailable\nX-Cache: MISS"]
--- error_log eval
[qr/oic_auth: token request for client "app6" \(key [0-9a-f]{8}\) failed: .*(?:Connection refused|Couldn't connect)/]



=== TEST 22: https to IAM with oic_auth_ssl_trusted_certificate (the test CA)
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint https://127.0.0.1:$TEST_NGINX_IAMS_PORT/oauth2/v1/token;
        oic_auth_ssl_trusted_certificate $TEST_NGINX_CERTS/ca.pem;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        add_header X-Cache $oic_auth_cache_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /api", "GET /api", main::drive(path => '/api', n => 1, client => 'app7', auth => main::auth('app7'))]
--- more_headers eval
main::auth_hdr('app7')
--- error_code eval
[200, 200, 200]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT", ""]
--- response_body eval
[main::echo_line('app7', 1), main::echo_line('app7', 1), "200:1 iam=0 jti=#1"]
--- no_error_log
[error]



=== TEST 23: https to IAM whose certificate is not signed by the trusted CA: 502, IAM never gets the request
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint https://127.0.0.1:$TEST_NGINX_IAMS_PORT/oauth2/v1/token;
        oic_auth_ssl_trusted_certificate $TEST_NGINX_CERTS/other-ca.pem;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        add_header X-Error $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /api", main::drive(path => '/api', n => 1, client => 'app7', auth => main::auth('app7'))]
--- more_headers eval
main::auth_hdr('app7')
--- error_code eval
[502, 200]
--- response_headers eval
["X-Error: iam_unavailable", ""]
--- response_body eval
["502 Bad Gateway", "502:1 iam=0"]
--- error_log eval
[main::about('app7', 'failed: SSL certificate problem')]



=== TEST 24: https without oic_auth_ssl_trusted_certificate uses the system store, which does not know the test CA: 502
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint https://127.0.0.1:$TEST_NGINX_IAMS_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        add_header X-Error $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /api", main::drive(path => '/api', n => 1, client => 'app7', auth => main::auth('app7'))]
--- more_headers eval
main::auth_hdr('app7')
--- error_code eval
[502, 200]
--- response_headers eval
["X-Error: iam_unavailable", ""]
--- response_body eval
["502 Bad Gateway", "502:1 iam=0"]
--- error_log eval
[main::about('app7', 'failed: SSL certificate problem')]



=== TEST 25: oic_auth_ssl_verify off accepts the unverifiable certificate
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint https://127.0.0.1:$TEST_NGINX_IAMS_PORT/oauth2/v1/token;
        oic_auth_ssl_verify off;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /api"]
--- more_headers eval
main::auth_hdr('app7')
--- error_code eval
[200]
--- response_body eval
[main::echo_line('app7', 1)]
--- no_error_log
[error]



=== TEST 26: expires_in missing: the token serves this request but is not cached
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        add_header X-Cache $oic_auth_cache_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /api", main::drive(path => '/api', n => 1, client => 'exp-missing-app', auth => main::auth('exp-missing-app'))]
--- more_headers eval
main::auth_hdr('exp-missing-app')
--- error_code eval
[200, 200]
--- response_headers eval
["X-Cache: MISS", ""]
--- response_body eval
[main::echo_line('exp-missing-app', 1), "200:1 iam=1 jti=#2"]
--- error_log eval
[main::about('exp-missing-app', 'not cached: expires_in -1 with a refresh margin of 60 s')]



=== TEST 27: expires_in 0: the token serves this request but is not cached
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        add_header X-Cache $oic_auth_cache_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /api", main::drive(path => '/api', n => 1, client => 'exp-zero-app', auth => main::auth('exp-zero-app'))]
--- more_headers eval
main::auth_hdr('exp-zero-app')
--- error_code eval
[200, 200]
--- response_headers eval
["X-Cache: MISS", ""]
--- response_body eval
[main::echo_line('exp-zero-app', 1), "200:1 iam=1 jti=#2"]
--- error_log eval
[main::about('exp-zero-app', 'not cached: expires_in -1 with a refresh margin of 60 s')]



=== TEST 28: expires_in -5: the token serves this request but is not cached
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        add_header X-Cache $oic_auth_cache_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /api", main::drive(path => '/api', n => 1, client => 'exp-neg-app', auth => main::auth('exp-neg-app'))]
--- more_headers eval
main::auth_hdr('exp-neg-app')
--- error_code eval
[200, 200]
--- response_headers eval
["X-Cache: MISS", ""]
--- response_body eval
[main::echo_line('exp-neg-app', 1), "200:1 iam=1 jti=#2"]
--- error_log eval
[main::about('exp-neg-app', 'not cached: expires_in -1 with a refresh margin of 60 s')]



=== TEST 29: expires_in "abc": the token serves this request but is not cached
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        add_header X-Cache $oic_auth_cache_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /api", main::drive(path => '/api', n => 1, client => 'exp-abc-app', auth => main::auth('exp-abc-app'))]
--- more_headers eval
main::auth_hdr('exp-abc-app')
--- error_code eval
[200, 200]
--- response_headers eval
["X-Cache: MISS", ""]
--- response_body eval
[main::echo_line('exp-abc-app', 1), "200:1 iam=1 jti=#2"]
--- error_log eval
[main::about('exp-abc-app', 'not cached: expires_in -1 with a refresh margin of 60 s')]



=== TEST 30: expires_in 30, within the 60 s refresh margin: cached, its refresh starting halfway (a warning says so; served from the cache: t/iam-refresh.t)
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        add_header X-Cache $oic_auth_cache_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /api"]
--- more_headers eval
main::auth_hdr('exp-short-app')
--- error_code eval
[200]
--- response_headers eval
["X-Cache: MISS"]
--- response_body eval
[main::echo_line('exp-short-app', 1)]
--- error_log eval
# the token's exp is iat + 30: a second that turns between IAM's iat and the
# module's clock leaves 29 s
[qr/oic_auth: token for client "exp-short-app" \(key [0-9a-f]{8}\),? lives (?:30 s, not longer than the refresh margin of 60 s: its refresh starts halfway, after 15 s|29 s, not longer than the refresh margin of 60 s: its refresh starts halfway, after 14 s)/]



=== TEST 31: expires_in 1e12 is capped at 86400, but the token's own exp (iat + 3600) comes first: cached for 3600 s, refreshed from 3600 - 60 s; 3600.5 and "3600" give 3600 s
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
main::drive(path => '/api', n => 3, auth => [map { main::auth($_) } qw(exp-huge-app exp-frac-app exp-string-app)])
--- response_body chomp
200:3 iam=3 jti=#1,#2,#3
--- error_log eval
# (3599 and 3539 when a second turned between IAM's iat and the module's clock)
[qr/token issued for client "exp-huge-app" \(key [0-9a-f]{8}\), cached for (?:3600 s \(its exp claim is earlier than expires_in\), refreshed after 3540|3599 s \(its exp claim is earlier than expires_in\), refreshed after 3539) s/,
 qr/token issued for client "exp-frac-app" \(key [0-9a-f]{8}\), cached for (?:3600 s, refreshed after 3540|3599 s, refreshed after 3539) s/,
 qr/token issued for client "exp-string-app" \(key [0-9a-f]{8}\), cached for (?:3600 s, refreshed after 3540|3599 s, refreshed after 3539) s/]
--- no_error_log
not cached



=== TEST 32: expires_in 1e12, 3600.5 and "3600": the tokens are cached (the same three are served again, IAM is not called)
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        proxy_set_header X-Cache-Status $oic_auth_cache_status;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
[map { main::drive(path => '/api', n => 3, auth => [map { main::auth($_) } qw(exp-huge-app exp-frac-app exp-string-app)]) } 1, 2]
--- response_body eval
["200:3 iam=3 jti=#1,#2,#3 cache=MISS", "200:3 iam=0 jti=#1,#2,#3 cache=HIT"]



=== TEST 33: oic_auth_refresh_margin: expires_in 65 with a 59 s margin is a hit for 6 s, then still served (UPDATING) while it is fetched again (the hit is answered by OIC after 6.5 s: no sleep in the runner, no window to miss)
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_refresh_margin 59s;
        add_header X-Cache $oic_auth_cache_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /api", "GET /api/_delay/6500", "GET /api"]
--- more_headers eval
main::auth_hdr('exp-65-app')
--- error_code eval
[200, 200, 200]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT", "X-Cache: UPDATING"]
--- response_body eval
[main::echo_line('exp-65-app', 1), main::echo_line('exp-65-app', 1), main::echo_line('exp-65-app', 1)]
--- timeout: 15



=== TEST 34: oic_auth_refresh_margin 0: cached for the whole expires_in
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_refresh_margin 0;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request
GET /api
--- more_headers eval
main::auth_hdr('burst-app')
--- response_body eval
main::echo_line('burst-app', 1)
--- error_log eval
# 3599 s: a second turned between IAM's iat and the module's clock
[main::about('burst-app', qr/cached for (?:3600|3599) s,/)]



=== TEST 35: non-blocking: while a slow token fetch (2 s) is in flight, a request to another location is answered at once
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location /plain {
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
--- request eval
main::drive(slow_path => '/api', slow_auth => main::auth('slow-app'), fast_path => '/plain', gap_ms => 200)
--- response_body chomp
fast=200 slow=200 fast_before_slow=true fast_under_1s=true iam=1
--- timeout: 10



=== TEST 36: non-blocking: while a slow token fetch is in flight, another client's token is fetched and its request answered
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
main::drive(slow_path => '/api', slow_auth => main::auth('slow-app'), fast_path => '/api', fast_auth => main::auth('app6'), gap_ms => 200)
--- response_body chomp
fast=200 slow=200 fast_before_slow=true fast_under_1s=true iam=2
--- timeout: 10



=== TEST 37: every waiting client goes away: the fetch still completes and fills the cache for the next requests
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        add_header X-Cache $oic_auth_cache_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
# slow-app answers after 2 s: the 4 clients leave at 300 ms, the 3 next ones
# join the fetch still in flight, the last request is a plain cache hit
[main::drive(path => '/api', n => 4, abort => 4, abort_ms => 300, client => 'slow-app', auth => main::auth('slow-app')),
 main::drive(path => '/api', n => 3, client => 'slow-app', auth => main::auth('slow-app')),
 "GET /api"]
--- more_headers eval
main::auth_hdr('slow-app')
--- error_code eval
[200, 200, 200]
--- response_headers eval
["", "", "X-Cache: HIT"]
--- response_body eval
["aborted:4 iam=1", "200:3 iam=0 jti=#1", main::echo_line('slow-app', 1)]
--- no_error_log
[alert]
[crit]
[emerg]
exited on signal
segfault
--- timeout: 10



=== TEST 38: some waiting clients go away: the others get the token, nothing crashes, the token is cached
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        add_header X-Cache $oic_auth_cache_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
[main::drive(path => '/api', n => 10, abort => 5, abort_ms => 300, client => 'slow-app', auth => main::auth('slow-app')),
 "GET /api"]
--- more_headers eval
main::auth_hdr('slow-app')
--- error_code eval
[200, 200]
--- response_headers eval
["", "X-Cache: HIT"]
--- response_body eval
["200:5 aborted:5 iam=1 jti=#1", main::echo_line('slow-app', 1)]
--- no_error_log
[alert]
[crit]
[emerg]
exited on signal
segfault
--- timeout: 10



=== TEST 39: a full 32k zone evicts the least recently used tokens and never fails a request
--- http_config
    oic_auth_cache_zone tiny:32k;
    oic_auth_iam_rate off;      # 19 clients' first tokens in a second
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache tiny;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        add_header X-Cache $oic_auth_cache_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
# finance-app, then each other client followed by finance-app; at the end the
# first other client again: evicted long ago
[map { "GET /api" } @main::LRU_SEQ]
--- more_headers eval
[map { main::auth_hdr($_) } @main::LRU_SEQ]
--- error_code eval
[map { 200 } @main::LRU_SEQ]
--- response_headers eval
[map { $_ == 0 || $main::LRU_SEQ[$_] ne 'finance-app' ? "X-Cache: MISS" : "X-Cache: HIT" } 0 .. $#main::LRU_SEQ]
--- response_body_like eval
[map { $_ eq 'finance-app' ? '^' . quotemeta(main::echo_line('finance-app', 1)) . '$' : '^sub=' . quotemeta($_) . ' scope=' } @main::LRU_SEQ]
--- no_error_log
[error]
[crit]
[alert]



=== TEST 40: secrets and credentials never reach the error log, even at debug level
--- log_level: debug
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /api", "GET /api", "GET /api"]
--- more_headers eval
[main::auth_hdr('legacy-app'), main::auth_hdr('finance-app', $main::WRONG), main::auth_hdr('err500-app')]
--- error_code eval
[200, 401, 502]
--- no_error_log eval
my @s;
for my $c (['legacy-app', OicTest::client_secret('legacy-app')], ['finance-app', $main::WRONG],
           ['err500-app', OicTest::client_secret('err500-app')]) {
    my ($id, $secret) = @$c;
    my $raw = $secret;
    utf8::encode($raw);
    my $b64 = main::auth($id, $secret);
    $b64 =~ s/^Basic //;
    # nginx itself logs the request headers at debug level ("http header:"):
    # only the module's own lines must not carry the credentials
    push @s, $raw, OicTest::form_urlencode($secret),
             qr/^(?!.*\bhttp header: "Authorization: ).*\Q$b64\E/;
}
\@s



=== TEST 41: a client's cache key is remembered by the worker (its HMAC not computed again), per location, and only for the same id and secret: a wrong secret or another location derives its own
--- log_level: debug
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    oic_auth_cache oic;
    oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
    add_header X-Cache $oic_auth_cache_status always;

    location /consumer {
        oic_auth basic;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location /ic/api {
        oic_auth basic;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE_API;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
# one request after the other; the error log of the whole sequence is checked
main::drive(n => 5, conc => 1, client => 'app6',
            path => ['/consumer', '/consumer', '/consumer', '/ic/api', '/ic/api'],
            auth => [main::auth('app6'), main::auth('app6'), main::auth('app6', $main::WRONG),
                     main::auth('app6'), main::auth('app6')])
--- response_body chomp
200:4 401:1 iam=3 jti=#1,#2 auth0(200:1 sub=app6:1 jtis=1) auth1(200:1 sub=app6:1 jtis=1) auth2(401:1 jtis=0) auth3(200:1 sub=app6:1 jtis=1) auth4(200:1 sub=app6:1 jtis=1)
--- grep_error_log eval
qr/oic_auth: basic key (?:derived|remembered)/
--- grep_error_log_out
oic_auth: basic key derived
oic_auth: basic key remembered
oic_auth: basic key derived
oic_auth: basic key derived
oic_auth: basic key remembered
