# Refresh ahead and stale-if-error (issue #9, points 1, 2 and 9): a token in
# oic_auth_refresh_margin is still served at once while one background
# refresh (single flight across the 4 workers) gets the next one; when the
# refresh fails, the token is served until its real end (the earlier of
# expires_in and its own JWT exp), never after, with tries backing off; a
# definitive refusal of the refresh stops it at once; the backend refusing a
# token can drop it (oic_auth_purge_on_status).
#
#   TEST_NGINX_BINARY=/usr/sbin/nginx TEST_NGINX_MODULE=$PWD/build/ngx_http_oic_auth_module.so \
#   TEST_NGINX_PORT=27000 prove -I t/lib t/iam-refresh.t
#
# Short token lives (expires_in 6 to 12 s) are set per client at run time
# (POST /_test/iam/behavior, in --- init). Time is observed, not slept: a
# paced drive (a request every interval_ms, started by the mock whatever the
# others do) reports what each request got, in order ("timeline"), and the
# times of IAM's token calls; the checks look at the order of the answers
# and at bounds far from the noise (a token of 6 s, requests 200 ms apart).

use FindBin; use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use OicTest;
use OicBasic;
use OicIam;

master_on();
workers(4);
worker_connections(1024);

# an Entra token of a user (valid an hour)
our $IVAN = OicTest::entra_token('xr1', user => 'ivan@example.com');

run_tests();

__DATA__

=== TEST 1: a token in its refresh window (expires_in 12, margin 9: from 3 s on) is served at once (UPDATING) while IAM takes 2 s to refresh it; then the new one is served; one refresh call for all 4 workers
--- init
main::short('app1', { expires_in_raw => '12' }, { expires_in_raw => '12', delay_ms => 2000 });
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_refresh_margin 9s;
        add_header X-Cache $oic_auth_cache_status always;
        add_header X-Error $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
main::paced(n => 30, interval_ms => 200, client => 'app1', auth => main::auth('app1'))
--- response_body_filters eval
main::filter()
--- response_body_like eval
qr/^runs=MISS#1x1 HIT#1x\d+ UPDATING#1x\d+ HIT#2x\d+ iam=2 fast=yes end=none gaps=\d+ retry=\S+ inflight=1$/
--- no_error_log
[error]
--- timeout: 20



=== TEST 2: the same in exchange mode, per user: a burst of 40 requests, 20 at a time, in the refresh window (over 4 workers) makes one refresh call and is served at once (UPDATING: nobody waits for IAM, which takes 1 s)
--- init
main::short('exchange-app2', { expires_in_raw => '8' }, { expires_in_raw => '8', delay_ms => 1000 });
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/xr1/discovery/v2.0/keys;
        oic_auth_issuer any;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_client_id exchange-app2;
        oic_auth_client_secret_file $TEST_NGINX_XDIR/exchange-app2;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_kid oic-gw;
        oic_auth_refresh_margin 6s;
        add_header X-Cache $oic_auth_cache_status always;
        add_header X-Error $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
[main::paced(n => 1, client => 'exchange-app2', auth => "Bearer $main::IVAN"),
 main::paced(n => 40, conc => 20, client => 'exchange-app2', auth => "Bearer $main::IVAN", wait_ms => 2500)]
--- response_body_filters eval
main::filter(counts => 1)
--- response_body_like eval
[qr/^200\/MISS\/-=1 iam=1$/,
 qr/^200\/UPDATING\/-=40 iam=1$/]
--- no_error_log
[error]
--- timeout: 20



=== TEST 3: IAM down from the start of the refresh margin (expires_in 6, margin 4): every request gets 200 (UPDATING, then STALE) until the token's real end, between 5 and 6 s, then 502; IAM sees only the backoff retries (about 1, 2, 4 s apart), not the 45 requests; one log line when the stale period starts, one when it ends
--- init
main::short('app2', { expires_in_raw => '6' }, { status => 500 });
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_refresh_margin 4s;
        add_header X-Cache $oic_auth_cache_status always;
        add_header X-Error $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
[main::paced(n => 45, interval_ms => 200, client => 'app2', auth => main::auth('app2')), "GET /_errlog"]
--- response_body_filters eval
main::filter(errlog => qr/the refresh of the token for client "app2" \(key [0-9a-f]{8}\) failed: the cached token is served until its end in \d s \(STALE\), with tries backing off|the cached token of client "app2" \(key [0-9a-f]{8}\) reached its end after \d failed refreshes: it is no longer served/)
--- response_body_like eval
[qr/^runs=MISS#1x1 (?:HIT#1x\d+ )?UPDATING#1x\d+ (?:STALE#1x\d+ (?:UPDATING#1x\d+ )?)+(?:502\/[-A-Z]+\/iam_unavailablex\d+ ?)+ iam=[345] fast=yes end=(?:4[89]|5\d|6[0-3])\d\d gaps=\d{4,}(?:,(?:[789]\d\d|\d{4,})){1,3} retry=\S+ inflight=\d+$/,
 qr/\Athe refresh of the token for client "app2" \(key K\) failed: the cached token is served until its end in [1-5] s \(STALE\), with tries backing off
the cached token of client "app2" \(key K\) reached its end after [2-4] failed refreshes: it is no longer served
\z/]
--- timeout: 30



=== TEST 4: a token whose JWT exp (6 s) comes long before its expires_in (60 s) is refreshed by its exp (margin 4: from 2 s on, every 2 s), not 56 s later
--- init
main::short('app3', { expires_in_raw => '60', jwt_exp_in => 6 });
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_refresh_margin 4s;
        add_header X-Cache $oic_auth_cache_status always;
        add_header X-Error $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
main::paced(n => 20, interval_ms => 250, client => 'app3', auth => main::auth('app3'))
--- response_body_filters eval
main::filter()
--- response_body_like eval
qr/^runs=MISS#1x1 (?:HIT#1x\d+ )?UPDATING#1x\d+ HIT#2x\d+(?: UPDATING#2x\d+(?: HIT#3x\d+)?)? iam=[23] fast=yes end=none gaps=\d+(?:,\d+)? retry=\S+ inflight=\d+$/
--- error_log eval
[qr/oic_auth: token issued for client "app3" \(key [0-9a-f]{8}\), cached for (?:6 s \(its exp claim is earlier than expires_in\), refreshed after 2|5 s \(its exp claim is earlier than expires_in\), refreshed after 1) s/]
--- timeout: 20



=== TEST 5: and a token whose JWT exp comes first is never served at or after it: with IAM down after the first call, 200 until its exp (5 s: between 4 and 5 s), then 502 (the mock OIC would answer 401 to an expired token)
--- init
main::short('app4', { expires_in_raw => '60', jwt_exp_in => 5 }, { status => 500 });
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_refresh_margin 3s;
        add_header X-Cache $oic_auth_cache_status always;
        add_header X-Error $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
main::paced(n => 35, interval_ms => 200, client => 'app4', auth => main::auth('app4'))
--- response_body_filters eval
main::filter()
--- response_body_like eval
qr/^runs=MISS#1x1 (?:HIT#1x\d+ )?UPDATING#1x\d+ (?:STALE#1x\d+ (?:UPDATING#1x\d+ )?)+(?:502\/[-A-Z]+\/iam_unavailablex\d+ ?)+ iam=\d fast=yes end=(?:3[89]|4\d|5[0-3])\d\d gaps=[\d,]+ retry=\S+ inflight=\d+$/
--- timeout: 20



=== TEST 6: a definitive refusal of the refresh (invalid_client: the credentials were revoked) stops the old token at once: the next requests get 401 (NEGATIVE), not the token
--- init
main::short('app5', { expires_in_raw => '8' }, { status => 400, body => '{"error":"invalid_client","error_description":"revoked"}' });
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_refresh_margin 6s;
        add_header X-Cache $oic_auth_cache_status always;
        add_header X-Error $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
main::paced(n => 20, interval_ms => 200, client => 'app5', auth => main::auth('app5'))
--- response_body_filters eval
main::filter()
--- response_body_like eval
qr/^runs=MISS#1x1 (?:HIT#1x\d+ )?UPDATING#1x\d+ 401\/NEGATIVE\/invalid_clientx\d+ iam=2 fast=yes end=\d+ gaps=\d+ retry=\S+ inflight=\d+$/
--- error_log eval
[qr/oic_auth: token request for client "app5" \(key [0-9a-f]{8}\) refused: IAM error invalid_client; remembered; its cached token is no longer served/]
--- timeout: 20



=== TEST 7: expires_in not longer than the margin (30 s, margin 60 s) is cached, its refresh starting halfway: three requests, one IAM call
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
main::paced(n => 3, interval_ms => 100, client => 'exp-short-app', auth => main::auth('exp-short-app'))
--- response_body_filters eval
main::filter()
--- response_body_like eval
qr/^runs=MISS#1x1 HIT#1x2 iam=1 fast=yes end=none gaps=none retry=\S+ inflight=\d+$/



=== TEST 8: oic_auth_purge_on_status 401: the backend refusing a cached token drops it (the next request gets a new one); a second refusal within oic_auth_negative_ttl does not (no IAM call per request against a backend that refuses everything)
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_purge_on_status 401 403;
        add_header X-Cache $oic_auth_cache_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /api/a", "GET /api/_status/401", "GET /api/b", "GET /api/_status/401", "GET /api/c", "GET /_errlog"]
--- more_headers eval
[(main::auth_hdr('app6')) x 5, '']
--- error_code eval
[200, 401, 200, 401, 200, 200]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT", "X-Cache: MISS", "X-Cache: HIT", "X-Cache: HIT", ""]
--- response_body_filters eval
main::filter(errlog => qr/the backend answered \d+ to the token of client "app6" \(key [0-9a-f]{8}\): dropped from the cache/)
--- response_body_like eval
[qr/ jti=#1$/, qr/ jti=#1$/, qr/ jti=#2$/, qr/ jti=#2$/, qr/ jti=#2$/,
 qr/\Athe backend answered 401 to the token of client "app6" \(key K\): dropped from the cache\n\z/]
