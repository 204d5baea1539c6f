# oic_auth basic with a master and 4 workers: single flight across workers
# (shared-memory cache), failures shared by the waiters, disconnects, a full
# zone under concurrency. Same conventions as t/basic.t (t/inc/OicBasic.pm).
#
#   TEST_NGINX_BINARY=/usr/sbin/nginx TEST_NGINX_MODULE=$PWD/build/ngx_http_oic_auth_module.so \
#   TEST_NGINX_PORT=21984 TEST_NGINX_SERVROOT=/tmp/basic-servroot prove -I t/lib t/basic-workers.t

use FindBin; use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use OicTest;
use OicBasic;

master_on();
workers(4);
worker_connections(1024);

our $WRONG = 'wrong-s3cr3t-Q7v9';

# 19 clients with ordinary tokens, for the 32k zone
our @MANY = qw(legacy-app finance-app hr-app it-app burst-app app1 app2 app3 app4
               app5 app6 app7 post-app lag-app lag-app2 bearer-lc-app
               exchange-app exchange-app2 exchange-slow-app);

run_tests();

__DATA__

=== TEST 1: single flight: 200 concurrent requests of a client whose token takes 300 ms: one IAM call, one token, all 200
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
main::drive(path => '/api', n => 200, client => 'lag-app', auth => main::auth('lag-app'))
--- response_body_like: ^200:200 iam=1 jti=#1 cache=(?:HIT,)?MISS,WAIT$
--- no_error_log
[error]
[warn]
--- timeout: 20



=== TEST 2: single flight with an instant IAM: 200 concurrent requests, one IAM call
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
main::drive(path => '/api', n => 200, client => 'burst-app', auth => main::auth('burst-app'))
--- response_body chomp
200:200 iam=1 jti=#1
--- no_error_log
[error]
[warn]
--- timeout: 20



=== TEST 3: a wrong secret racing the good one: the wrong one always gets 401 and never the token, the good token is cached
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
[main::drive(path => '/api', n => 100, client => 'lag-app2',
             auth => [main::auth('lag-app2'), main::auth('lag-app2', $main::WRONG)]),
 main::drive(path => '/api', n => 1, client => 'lag-app2', auth => main::auth('lag-app2'))]
--- response_body_like eval
['^200:50 401:50 iam=\d+ jti=#1 auth0\(200:50 sub=lag-app2:50 jtis=1\) auth1\(401:50 jtis=0\)$',
 '^200:1 iam=0 jti=#1$']
--- timeout: 20



=== TEST 4: a failed fetch (IAM answers 503 after 1 s) is shared by all its waiters in every worker (one IAM call), and is not cached
--- init
OicTest::iam_behavior('lag-app3', { delay_ms => 1000, status => 503 });
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
[map { main::drive(path => '/api', n => 50, client => 'lag-app3', auth => main::auth('lag-app3')) } 1, 2]
--- response_body eval
["502:50 iam=1", "502:50 iam=1"]
--- error_log eval
[qr/oic_auth: token request for client "lag-app3" \(key [0-9a-f]{8}\) refused: IAM answered 503/]
--- timeout: 20



=== TEST 5: clients waiting in several workers go away (the fetching one too): the others get the token, no worker crashes
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
[main::drive(path => '/api', n => 20, abort => 10, abort_ms => 300, client => 'slow-app', auth => main::auth('slow-app')),
 main::drive(path => '/api', n => 4, client => 'slow-app', auth => main::auth('slow-app'))]
--- response_body eval
["200:10 aborted:10 iam=1 jti=#1", "200:4 iam=0 jti=#1"]
--- no_error_log
[alert]
[crit]
[emerg]
exited on signal
segfault
--- timeout: 20



=== TEST 6: a 32k zone and 19 clients at once, twice: every request is served
--- http_config
    oic_auth_cache_zone tiny:32k;
    oic_auth_iam_rate off;      # 19 clients' first tokens at once
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache tiny;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
[map { main::drive(path => '/api', n => scalar(@main::MANY), bodies => 0, auth => [map { main::auth($_) } @main::MANY]) } 1, 2]
--- response_body_like eval
["^200:19 iam=19\$", "^200:19 iam=\\d+\$"]
--- no_error_log
[alert]
[crit]
[error]
--- timeout: 20



=== TEST 7: the refresh of a token in its refresh window is single flight too (expires_in 65, margin 59 s: refreshed from 6 s on; OIC answers the first 50 after 6.5 s, so the next 50 come after it), and nobody waits for it
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_refresh_margin 59s;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
[main::drive(path => '/api/_delay/6500', n => 50, client => 'exp-65-app', auth => main::auth('exp-65-app')),
 main::drive(path => '/api', n => 50, client => 'exp-65-app', auth => main::auth('exp-65-app'))]
--- response_body_like eval
["^200:50 iam=1 jti=#1\$", "^200:50 iam=1 jti=#1(?:,#2)?\$"]
--- timeout: 20



=== TEST 8: 20 fetches finishing together in a 32k zone (room for about 8 tokens): no entry is evicted before the waiters of other workers saw it, so no waiter fetches again (exactly 20 IAM calls, no "did not finish in time"); the waiters of tokens the zone had no room for get a retryable 503
--- http_config
    oic_auth_cache_zone oic:32k;
--- config eval
CORE::join '', map { "
    location /k$_ {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:\$TEST_NGINX_IAM_PORT/oauth2/v1/token?k=$_;
        oic_auth_scope \$TEST_NGINX_OIC_SCOPE;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_OIC_PORT;
    }" } 1 .. 20
--- request eval
main::drive(path => [map { "/k$_" } 1 .. 20], n => 160, bodies => 0, client => 'slow-app', auth => main::auth('slow-app'))
--- response_body_like: ^200:\d+ (?:503:\d+ )?iam=20$
--- no_error_log
did not finish in time
[alert]
[crit]
--- timeout: 30
