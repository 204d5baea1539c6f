# oic_auth configuration: every error "nginx -t" must report, and valid
# configurations that start and answer (issue #2, section 4).
#
#   TEST_NGINX_BINARY=/usr/sbin/nginx TEST_NGINX_MODULE=$PWD/build/ngx_http_oic_auth_module.so \
#   TEST_NGINX_PORT=21984 TEST_NGINX_SERVROOT=/tmp/config-servroot prove -I t/lib t/config.t
#
# The must_die blocks check nginx's start-up error; the runner in t/lib also
# reads nginx's stderr for them (Debian's nginx logs start-up errors there).

use FindBin; use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use OicTest;

run_tests();

__DATA__

=== TEST 1: a zone smaller than 32k is refused
--- http_config
    oic_auth_cache_zone small:16k;
--- config
--- must_die
--- error_log
zone "small" is too small: 16k, the minimum is 32k



=== TEST 2: a zone without a size is refused
--- http_config
    oic_auth_cache_zone nosize;
--- config
--- must_die
--- error_log
invalid zone "nosize", it must be NAME:SIZE



=== TEST 3: a zone with a bad size is refused
--- http_config
    oic_auth_cache_zone z:lots;
--- config
--- must_die
--- error_log
invalid zone size "z:lots"



=== TEST 4: the same zone defined twice is refused
--- http_config
    oic_auth_cache_zone z:1m;
    oic_auth_cache_zone z:1m;
--- config
--- must_die
--- error_log
duplicate zone "z"



=== TEST 5: oic_auth_cache_zone is an http-level directive
--- config
    location /api {
        oic_auth_cache_zone z:1m;
    }
--- must_die
--- error_log
"oic_auth_cache_zone" directive is not allowed here



=== TEST 6: oic_auth_cache naming an undefined zone is refused
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache nosuch;
        oic_auth_token_endpoint https://iam.example.com/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
    }
--- must_die
--- error_log
"oic_auth_cache" names an unknown zone "nosuch", define it with "oic_auth_cache_zone"



=== TEST 7: oic_auth without oic_auth_cache is refused
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_token_endpoint https://iam.example.com/oauth2/v1/token;
    }
--- must_die
--- error_log
"oic_auth" requires "oic_auth_cache"



=== TEST 8: oic_auth basic without oic_auth_token_endpoint is refused
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
    }
--- must_die
--- error_log
"oic_auth basic" requires "oic_auth_token_endpoint"



=== TEST 9: a plain http token endpoint on another host is refused
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://iam.example.com/oauth2/v1/token;
    }
--- must_die
--- error_log
"oic_auth_token_endpoint" "http://iam.example.com/oauth2/v1/token": plain http is only allowed to a loopback host, use https://



=== TEST 10: plain http to a name that merely starts like a loopback address is refused
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1.example.com/oauth2/v1/token;
    }
--- must_die
--- error_log
plain http is only allowed to a loopback host



=== TEST 11: plain http with a loopback-looking user part before the real host is refused
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:80@iam.example.com/oauth2/v1/token;
    }
--- must_die
--- error_log
plain http is only allowed to a loopback host



=== TEST 12: plain http with a "localhost" user part before the real host is refused
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://localhost:x@iam.example.com/oauth2/v1/token;
    }
--- must_die
--- error_log
plain http is only allowed to a loopback host



=== TEST 13: a token endpoint that is not an http(s) URL is refused
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint ftp://iam.example.com/token;
    }
--- must_die
--- error_log
"oic_auth_token_endpoint" "ftp://iam.example.com/token": invalid URL, it must start with https://



=== TEST 14: an unknown oic_auth value is refused
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basik;
        oic_auth_cache oic;
        oic_auth_token_endpoint https://iam.example.com/oauth2/v1/token;
    }
--- must_die
--- error_log
invalid value "basik", it must be "off", or one or more of "basic", "bearer", "exchange"



=== TEST 15: "off" does not combine with a mode
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic off;
        oic_auth_cache oic;
        oic_auth_token_endpoint https://iam.example.com/oauth2/v1/token;
    }
--- must_die
--- error_log
invalid value "off", it must be "off", or one or more of "basic", "bearer", "exchange"



=== TEST 16: oic_auth twice in a location is refused
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint https://iam.example.com/oauth2/v1/token;
    }
--- must_die
--- error_log
"oic_auth" directive is duplicate



=== TEST 17: the same mode twice in one oic_auth is refused
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint https://iam.example.com/oauth2/v1/token;
    }
--- must_die
--- error_log
duplicate value "basic"



=== TEST 18: bearer and exchange cannot be combined
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth bearer exchange;
        oic_auth_cache oic;
    }
--- must_die
--- error_log
"bearer" and "exchange" cannot be combined: both take Bearer tokens



=== TEST 19: bearer without an audience is refused
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth bearer;
        oic_auth_cache oic;
        oic_auth_jwks_uri https://login.example.com/keys;
    }
--- must_die
--- error_log
"oic_auth bearer" and "oic_auth exchange" require "oic_auth_audience"



=== TEST 20: bearer without a key set (JWKS URI or file) is refused
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth bearer;
        oic_auth_cache oic;
        oic_auth_audience api://oic-gateway;
    }
--- must_die
--- error_log
"oic_auth bearer" and "oic_auth exchange" require "oic_auth_jwks_uri" or "oic_auth_jwks_file"



=== TEST 21: oic_auth_timeout 0 is refused
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint https://iam.example.com/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_timeout 0;
    }
--- must_die
--- error_log
"oic_auth_timeout" must be greater than 0



=== TEST 21b: a quote in oic_auth_realm is refused (it would break the WWW-Authenticate header)
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint https://iam.example.com/oauth2/v1/token;
        oic_auth_realm 'OIC "prod"';
    }
--- must_die
--- error_log
quotes, backslashes and control characters are not allowed



=== TEST 22: a valid basic configuration starts (32k zone, https and loopback http endpoints) and challenges a request without credentials
--- http_config
    oic_auth_cache_zone oic:32k;
--- config
    location /a {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint https://iam.example.com/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        return 200 "not reached";
    }
    location /b {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://localhost:1/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_realm "B";
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location /c {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://[::1]:1/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location /d {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.2/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /b", "GET /c", "GET /d"]
--- error_code eval
[401, 401, 401]
--- response_headers eval
["WWW-Authenticate: Basic realm=\"B\", charset=\"UTF-8\"",
 "WWW-Authenticate: Basic realm=\"oic\", charset=\"UTF-8\"",
 "WWW-Authenticate: Basic realm=\"oic\", charset=\"UTF-8\""]
--- no_error_log
[error]
[emerg]



=== TEST 23: oic_auth off needs nothing else; locations without oic_auth are untouched
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /off {
        oic_auth off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
    location /none {
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
--- request eval
["GET /off", "GET /none"]
--- more_headers
Authorization: Basic Zm9vOmJhcg==
--- error_code eval
[200, 200]
--- response_body eval
["plain", "plain"]
--- no_error_log
[error]
