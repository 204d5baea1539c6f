# oic_auth exchange with 4 worker processes sharing one cache zone (issue #4,
# section 4): concurrent cold requests of one user make exactly one IAM call
# whichever workers they land on, and per-user entries are never shared.
#
#   TEST_NGINX_BINARY=/usr/sbin/nginx TEST_NGINX_MODULE=$PWD/build/ngx_http_oic_auth_module.so \
#   TEST_NGINX_PORT=23984 TEST_NGINX_SERVROOT=/tmp/exch-servroot prove -I t/lib t/exchange-workers.t
#
# Every request goes through /drive (t/inc/OicExchange.pm): the mock fires the
# requests at nginx at once and reports the IAM token calls per user made
# while they ran. X-Pid (the worker's pid) is the only part of the mock OIC's
# echo that differs between requests of one user, so the number of distinct
# bodies of one user's burst ("bodies=N") is the number of workers that
# served it.

# one listening socket per worker (SO_REUSEPORT): the kernel spreads a burst's
# connections over all 4 workers instead of leaving it to whichever wakes first
BEGIN { $ENV{TEST_NGINX_REUSE_PORT} //= 1 }

use FindBin; use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use OicTest;
use OicExchange;

master_on();
workers(4);
worker_connections(2048);
no_long_string();

run_tests();

__DATA__

=== TEST 1: 200 concurrent cold requests of one user across 4 workers: exactly one IAM call, all 200 reach OIC with that user's one token; the next 200 are all hits
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    oic_auth_cache oic;
    oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/w01/discovery/v2.0/keys;
    oic_auth_issuer https://login.microsoftonline.com/w01/v2.0 https://sts.windows.net/w01/;
    oic_auth_audience api://oic-gateway;
    oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
    oic_auth_scope $TEST_NGINX_OIC_SCOPE;
    oic_auth_client_id exchange-app;
    oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
    oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
    oic_auth_assertion_certificate $TEST_NGINX_CERTS/assertion.pem;
    oic_auth_assertion_kid oic-gw;
    proxy_set_header X-Pid $pid;

    location /api {
        oic_auth exchange;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location /cached {
        oic_auth exchange;
        proxy_set_header X-Pid $pid;
        proxy_set_header X-Cache $oic_auth_cache_status;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
my $a = 'Bearer ' . main::etoken('w01', user => 'alice@example.com');
[main::xdrive(path => '/api/a', n => 200, auth => $a), main::xdrive(path => '/cached/b', n => 200, auth => $a)]
--- response_body eval
['200:200 iam=1 users=alice@example.com:1 oic=200 jwks=1 a0(200:200 alice@example.com:200 jtis=1) jti=#1 bodies=4',
 '200:200 iam=0 users=none oic=200 a0(200:200 alice@example.com:200 jtis=1) jti=#1 cache=HIT bodies=4']
--- no_error_log
[error]
[warn]



=== TEST 2: the same with IAM answering in 300 ms (every worker's requests wait for the one fetch): exactly one IAM call, one token for all 200
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/w02/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/w02/v2.0 https://sts.windows.net/w02/;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_client_id exchange-slow-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-slow-app;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_kid oic-gw;
        proxy_set_header X-Pid $pid;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
[main::xdrive(path => '/api/a', n => 200, auth => 'Bearer ' . main::etoken('w02', ver => '1.0', user => 'bob@example.com'))]
--- response_body eval
['200:200 iam=1 users=bob@example.com:1 oic=200 jwks=1 a0(200:200 bob@example.com:200 jtis=1) jti=#1 bodies=4']
--- no_error_log
[error]
[warn]



=== TEST 3: four users, 50 concurrent cold requests each, across 4 workers, IAM answering in 300 ms: exactly one IAM call per user, every request reaches OIC with its own user's token
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/w03/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/w03/v2.0 https://sts.windows.net/w03/;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_client_id exchange-slow-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-slow-app;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_kid oic-gw;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
my @a = map { 'Bearer ' . main::etoken('w03', ver => ($_ =~ /^[ce]/ ? '1.0' : '2.0'), user => $_) }
        qw(carol@example.com dave@example.com erin@example.com frank@example.com);
[main::xdrive(path => '/api/a', n => 200, auth => \@a)]
--- response_body eval
['200:200 iam=4 users=carol@example.com:1,dave@example.com:1,erin@example.com:1,frank@example.com:1 oic=200 jwks=1'
 . ' a0(200:50 carol@example.com:50 jtis=1) a1(200:50 dave@example.com:50 jtis=1) a2(200:50 erin@example.com:50 jtis=1) a3(200:50 frank@example.com:50 jtis=1)'
 . ' jti=#1,#2,#3,#4']
--- no_error_log
[error]
[warn]



=== TEST 4: 200 concurrent cold requests of a user IAM refuses, across 4 workers, IAM answering in 300 ms: all 403, none reaches OIC, the one IAM answer serves every waiter
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/w04/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/w04/v2.0;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_client_id exchange-slow-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-slow-app;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_kid oic-gw;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
[main::xdrive(path => '/api/a', n => 200, auth => 'Bearer ' . main::etoken('w04', user => 'mallory@example.com'))]
--- response_body eval
['403:200 iam=1 users=mallory@example.com:1 oic=0 jwks=1 a0(403:200 jtis=0)']
--- error_log eval
[qr/oic_auth: token request for user "mallory\@example\.com" \(key [0-9a-f]{8}\) refused: IAM error invalid_grant/]
