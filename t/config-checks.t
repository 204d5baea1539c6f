# Configurations that used to pass "nginx -t" and do something nobody wants
# (issue #7): a Basic route without a scope (IAM refuses every call), scopes
# required where only Basic clients come (silently ignored), bearer without
# an issuer (any issuer accepted), margins, leeways and lifetimes nobody
# means, an algorithm list no key of a key file can serve. Each must fail
# "nginx -t" with a clear message; the configurations next to them that are
# fine must start.
#
#   TEST_NGINX_BINARY=/usr/sbin/nginx TEST_NGINX_MODULE=$PWD/build/ngx_http_oic_auth_module.so \
#   TEST_NGINX_PORT=22000 prove -I t/lib t/config-checks.t

use FindBin; use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use OicTest;
use File::Temp ();

# a client secret file for the exchange blocks
our $TMP = File::Temp::tempdir('oic-cc-XXXXXX', TMPDIR => 1, CLEANUP => 1);
open my $fh, '>', "$TMP/secret" or die "$TMP/secret: $!";
print $fh "s3cr3t\n";
close $fh;
$ENV{TEST_NGINX_CC_SECRET} = "$TMP/secret";

run_tests();

__DATA__

=== TEST 1: oic_auth basic without oic_auth_scope is refused (IAM answers invalid_scope to every call)
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint https://iam.example.com/oauth2/v1/token;
    }
--- must_die
--- error_log
"oic_auth basic" requires "oic_auth_scope"



=== TEST 2: oic_auth exchange without oic_auth_scope is refused too
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri https://login.example.com/keys;
        oic_auth_issuer https://login.example.com/;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint https://iam.example.com/oauth2/v1/token;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_CC_SECRET;
        oic_auth_exchange_grant token_exchange;
    }
--- must_die
--- error_log
"oic_auth exchange" requires "oic_auth_scope"



=== TEST 3: oic_auth_scopes_required next to oic_auth basic is refused (Basic clients get what IAM grants)
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint https://iam.example.com/oauth2/v1/token;
        oic_auth_scope urn:opc:resource:consumer::all;
        oic_auth_scopes_required oic_api_HR;
    }
--- must_die
--- error_log
"oic_auth_scopes_required" has no effect with "oic_auth basic": Basic clients get what IAM grants them for "oic_auth_scope"



=== TEST 4: ... also where the location sets the scopes and inherits oic_auth basic
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    oic_auth basic;
    oic_auth_cache oic;
    oic_auth_token_endpoint https://iam.example.com/oauth2/v1/token;
    oic_auth_scope urn:opc:resource:consumer::all;
    location /api {
        oic_auth_scopes_required oic_api_HR;
    }
--- must_die
--- error_log
"oic_auth_scopes_required" has no effect with "oic_auth basic"



=== TEST 5: ... and at http level (checked after the configuration is read)
--- http_config
    oic_auth_cache_zone oic:1m;
    oic_auth basic;
    oic_auth_cache oic;
    oic_auth_token_endpoint https://iam.example.com/oauth2/v1/token;
    oic_auth_scope urn:opc:resource:consumer::all;
    oic_auth_scopes_required oic_api_HR;
--- config
--- must_die
--- error_log
"oic_auth_scopes_required" has no effect with "oic_auth basic"



=== TEST 6: scopes inherited from a level where bearer uses them are fine in a basic location; with both modes they apply to Bearer tokens
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    oic_auth_cache oic;
    oic_auth_scopes_required oic_api_HR;
    oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
    oic_auth_scope $TEST_NGINX_OIC_SCOPE;
    oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/cc-6/discovery/v2.0/keys;
    oic_auth_issuer https://login.microsoftonline.com/cc-6/v2.0;
    oic_auth_audience api://oic-gateway;
    location /basic {
        oic_auth basic;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location /bearer {
        oic_auth bearer;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
    location /both {
        oic_auth basic bearer;
        oic_auth_scopes_required oic_api_IT;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
--- request eval
["GET /basic", "GET /bearer", "GET /both"]
--- error_code eval
[401, 401, 401]
--- response_headers eval
['WWW-Authenticate: Basic realm="oic", charset="UTF-8"',
 'WWW-Authenticate: Bearer realm="oic"',
 '!X-None']
--- no_error_log
[emerg]
[error]



=== TEST 7: oic_auth bearer without oic_auth_issuer is refused
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth bearer;
        oic_auth_cache oic;
        oic_auth_jwks_uri https://login.example.com/keys;
        oic_auth_audience api://oic-gateway;
    }
--- must_die
--- error_log
"oic_auth bearer" and "oic_auth exchange" require "oic_auth_issuer" ("oic_auth_issuer any" accepts every issuer)



=== TEST 8: oic_auth exchange without oic_auth_issuer is refused
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri https://login.example.com/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint https://iam.example.com/oauth2/v1/token;
        oic_auth_scope urn:opc:resource:consumer::all;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_CC_SECRET;
        oic_auth_exchange_grant token_exchange;
    }
--- must_die
--- error_log
"oic_auth bearer" and "oic_auth exchange" require "oic_auth_issuer"



=== TEST 9: "oic_auth_issuer any" does not combine with issuers
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth bearer;
        oic_auth_cache oic;
        oic_auth_jwks_uri https://login.example.com/keys;
        oic_auth_issuer any https://login.example.com/;
        oic_auth_audience api://oic-gateway;
    }
--- must_die
--- error_log
"any" cannot be combined with issuers



=== TEST 10: oic_auth_refresh_margin longer than 1h is refused (no token would ever be cached)
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint https://iam.example.com/oauth2/v1/token;
        oic_auth_scope urn:opc:resource:consumer::all;
        oic_auth_refresh_margin 61m;
    }
--- must_die
--- error_log
invalid value "61m", "oic_auth_refresh_margin" must be at most 1h



=== TEST 11: oic_auth_leeway longer than 10m is refused
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth bearer;
        oic_auth_cache oic;
        oic_auth_jwks_uri https://login.example.com/keys;
        oic_auth_issuer any;
        oic_auth_audience api://oic-gateway;
        oic_auth_leeway 365d;
    }
--- must_die
--- error_log
invalid value "365d", "oic_auth_leeway" must be at most 10m



=== TEST 12: oic_auth_assertion_lifetime longer than 1h is refused (IAM refuses such assertions)
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    oic_auth_assertion_lifetime 365d;
--- must_die
--- error_log
invalid value "365d", "oic_auth_assertion_lifetime" must be between 1s and 1h



=== TEST 13: the largest values of each bound are accepted
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    oic_auth_cache oic;
    oic_auth_refresh_margin 1h;
    oic_auth_leeway 10m;
    oic_auth_assertion_lifetime 1h;
    location /api {
        oic_auth basic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request
GET /api
--- error_code: 401
--- no_error_log
[emerg]



=== TEST 14: oic_auth_algorithms that no key of oic_auth_jwks_file can verify (a P-256 key, RS256 allowed) is refused
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth bearer;
        oic_auth_cache oic;
        oic_auth_jwks_file $TEST_NGINX_CERTS/ec.pem;
        oic_auth_issuer any;
        oic_auth_audience api://oic-gateway;
    }
--- must_die
--- error_log eval
qr{no key of "oic_auth_jwks_file" "[^"]*/ec\.pem" can verify "oic_auth_algorithms" RS256 \(its keys can verify ES256\)}



=== TEST 15: ... nor an RSA certificate with only ES algorithms allowed
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth bearer;
        oic_auth_cache oic;
        oic_auth_jwks_file $TEST_NGINX_CERTS/assertion.pem;
        oic_auth_algorithms ES256 ES384;
        oic_auth_issuer any;
        oic_auth_audience api://oic-gateway;
    }
--- must_die
--- error_log eval
qr{no key of "oic_auth_jwks_file" "[^"]*/assertion\.pem" can verify "oic_auth_algorithms" ES256 ES384 \(its keys can verify RS256 RS384 RS512 PS256 PS384 PS512\)}



=== TEST 16: a key file that can serve one of the algorithms starts; a basic location under a key file is not checked
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    oic_auth_cache oic;
    oic_auth_jwks_file $TEST_NGINX_CERTS/ec.pem;
    location /api {
        oic_auth bearer;
        oic_auth_algorithms RS256 ES256;
        oic_auth_issuer any;
        oic_auth_audience api://oic-gateway;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
    location /basic {
        oic_auth basic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /api", "GET /basic"]
--- error_code eval
[401, 401]
--- no_error_log
[emerg]



=== TEST 17: oic_auth_jwks_uri and oic_auth_jwks_file at the same level are still refused
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth bearer;
        oic_auth_cache oic;
        oic_auth_jwks_uri https://login.example.com/keys;
        oic_auth_jwks_file $TEST_NGINX_CERTS/ec.pem;
        oic_auth_issuer any;
        oic_auth_audience api://oic-gateway;
    }
--- must_die
--- error_log
"oic_auth_jwks_uri" and "oic_auth_jwks_file" cannot be used together
