# IAM as a rate-limited, shared dependency (issue #9, points 3 to 9): what a
# caller does cannot make the gateway hammer IAM. The negative cache of
# definitive refusals, the failure limit per client id (per user in exchange
# mode), the token budget shared by the 4 workers, the 429 block, the cap on
# concurrent connections, the share of the zone keys IAM never accepted may
# take, the answers of these local refusals in the request model, JWKS and a
# 429, and their log lines (one per kind and interval, not one per request).
#
#   TEST_NGINX_BINARY=/usr/sbin/nginx TEST_NGINX_MODULE=$PWD/build/ngx_http_oic_auth_module.so \
#   TEST_NGINX_PORT=27000 prove -I t/lib t/iam-guard.t
#
# Counts are IAM's own (the mock counts the token calls of each client
# during a drive); time is observed (paced drives report each answer in
# order and the times of the token calls), not slept, except where a test
# waits for a time-to-live to run out (a lower bound, never an upper one).

use FindBin; use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use OicTest;
use OicBasic;
use OicIam;

master_on();
workers(4);
worker_connections(1024);

our $WRONG = 'wrong-s3cr3t-Q7v9';

# distinct wrong secrets of a client
sub wrongs { my ($client, $n) = @_; return [map { main::auth($client, "guess-$_") } 1 .. $n]; }

# Entra tokens of users (valid an hour)
our $MALLORY = OicTest::entra_token('xg1', user => 'mallory@example.com');
our $IVAN = OicTest::entra_token('xg1', user => 'ivan@example.com');
our $BEARER = OicTest::entra_token('xg2', user => 'judy@example.com');

run_tests();

__DATA__

=== TEST 1: 100 requests with one wrong secret (10 at a time, over 4 workers) make 1 IAM call: the refusal is remembered (NEGATIVE, the same 401 and challenge)
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
[main::paced(n => 100, conc => 10, client => 'hr-app', auth => main::auth('hr-app', $main::WRONG)),
 "GET /api", "GET /_errlog"]
--- more_headers eval
['', main::auth_hdr('hr-app', $main::WRONG), '']
--- error_code eval
[200, 401, 200]
--- response_headers eval
['', "X-Cache: NEGATIVE\nX-Error: invalid_client\nWWW-Authenticate: Basic realm=\"oic\", charset=\"UTF-8\"\n!Retry-After", '']
--- response_body_filters eval
main::filter(counts => 1, errlog => qr/token request for client "hr-app" \(key [0-9a-f]{8}\) refused: .*/)
--- response_body_like eval
[qr/^401\/MISS\/invalid_client=1 401\/NEGATIVE\/invalid_client=\d+(?: 401\/WAIT\/invalid_client=\d+)? iam=1$/,
 qr/^401 Authorization Required$/,
 qr/\Atoken request for client "hr-app" \(key K\) refused: IAM error invalid_client; remembered\n\z/]
--- no_error_log eval
[$main::WRONG]



=== TEST 2: a remembered refusal lasts oic_auth_negative_ttl (2s here), then IAM is asked again; oic_auth_negative_ttl 0 remembers nothing
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_negative_ttl 2s;
        add_header X-Cache $oic_auth_cache_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location /off {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_negative_ttl 0;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /api", "GET /api",
 main::drive(path => '/api', n => 1, client => 'app1', auth => main::auth('app1', $main::WRONG), wait_ms => 3100),
 main::drive(path => '/off', n => 5, conc => 1, client => 'it-app', auth => main::auth('it-app', $main::WRONG))]
--- more_headers eval
[(main::auth_hdr('app1', $main::WRONG)) x 2, '', '']
--- error_code eval
[401, 401, 200, 200]
--- response_headers eval
["X-Cache: MISS", "X-Cache: NEGATIVE", "", ""]
--- response_body_filters eval
main::filter()
--- response_body_like eval
[qr/401/, qr/401/, qr/^401:1 iam=1 jwks=0 inflight=1$/, qr/^401:5 iam=5 jwks=0 inflight=1$/]
--- timeout: 10



=== TEST 3: every definitive refusal is remembered: unauthorized_client, invalid_scope and invalid_grant (403), five requests each, one IAM call each
--- init
OicTest::iam_behavior('app8', { status => 400, body => '{"error":"invalid_grant","error_description":"mock"}' });
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    oic_auth_cache oic;
    oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
    oic_auth_scope $TEST_NGINX_OIC_SCOPE;
    add_header X-Cache $oic_auth_cache_status always;
    add_header X-Error $oic_auth_error always;
    location /api {
        oic_auth basic;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location /unknown-scope {
        oic_auth basic;
        oic_auth_scope "urn:example:no-such-scope";
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
[main::paced(n => 5, conc => 1, client => 'other-scope-app', auth => main::auth('other-scope-app')),
 main::paced(path => '/unknown-scope', n => 5, conc => 1, client => 'app5', auth => main::auth('app5')),
 main::paced(n => 5, conc => 1, client => 'app8', auth => main::auth('app8'))]
--- response_body_filters eval
main::filter()
--- response_body_like eval
[qr/^runs=403\/MISS\/unauthorized_clientx1 403\/NEGATIVE\/unauthorized_clientx4 iam=1 /,
 qr/^runs=403\/MISS\/invalid_scopex1 403\/NEGATIVE\/invalid_scopex4 iam=1 /,
 qr/^runs=403\/MISS\/invalid_grantx1 403\/NEGATIVE\/invalid_grantx4 iam=1 /]



=== TEST 4: the failure limit (3 in 1m here): after 3 refusals for one client id, whatever the secret, new keys of that id are refused locally (401 client_throttled with the challenge and Retry-After), even its right secret for another scope; the key IAM accepted before keeps being served; one log line when the limit is reached, one for the first local refusal
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    oic_auth_cache oic;
    oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
    oic_auth_failure_limit 3 1m;
    add_header X-Cache $oic_auth_cache_status always;
    add_header X-Error $oic_auth_error always;
    location /api {
        oic_auth basic;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location /ic-api {
        oic_auth basic;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE_API;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /api",
 main::paced(n => 6, conc => 1, client => 'burst-app', auth => main::wrongs('burst-app', 6)),
 "GET /api", "GET /api", "GET /ic-api", "GET /_errlog"]
--- more_headers eval
[main::auth_hdr('burst-app'), '', main::auth_hdr('burst-app', 'guess-7'), main::auth_hdr('burst-app'),
 main::auth_hdr('burst-app'), '']
--- error_code eval
[200, 200, 401, 200, 401, 200]
--- response_headers_like eval
["X-Cache: MISS", "",
 "X-Error: client_throttled\nRetry-After: (?:[1-5]\\d|60|[1-9])\nWWW-Authenticate: Basic realm=\"oic\", charset=\"UTF-8\"",
 "X-Cache: HIT",
 "X-Error: client_throttled\nRetry-After: \\d+\nWWW-Authenticate: Basic realm=\"oic\", charset=\"UTF-8\"",
 ""]
--- response_body_filters eval
main::filter(errlog => qr/(?:IAM refused the client id|refused locally: IAM refused its client id).*/)
--- response_body_like eval
[qr/ jti=#1$/,
 qr/^runs=401\/MISS\/invalid_clientx3 401\/-\/client_throttledx3 iam=3 /,
 qr/^401 Authorization Required$/,
 qr/ jti=#1$/,
 qr/^401 Authorization Required$/,
 qr/\AIAM refused the client id of client "burst-app" \(key K\) 3 times within 60 s: new tokens for it are refused locally until that time has passed \(client_throttled\)
refused locally: IAM refused its client id 3 times within 60 s, new tokens for it are refused for \d+ s more \(client_throttled\)
\z/]
--- no_error_log
guess-



=== TEST 5: the failure limit in exchange mode counts per user: mallory, whom IAM does not know, is throttled after 2 refusals (401, Bearer challenge); ivan is not
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/xg1/discovery/v2.0/keys;
        oic_auth_issuer any;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_client_id exchange-app2;
        oic_auth_client_secret_file $TEST_NGINX_XDIR/exchange-app2;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_kid oic-gw;
        oic_auth_negative_ttl 0;
        oic_auth_failure_limit 2 1m;
        add_header X-Cache $oic_auth_cache_status always;
        add_header X-Error $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
[main::paced(n => 4, conc => 1, client => 'exchange-app2', auth => "Bearer $main::MALLORY"),
 "GET /api", "GET /api"]
--- more_headers eval
['', "Authorization: Bearer $main::MALLORY", "Authorization: Bearer $main::IVAN"]
--- error_code eval
[200, 401, 200]
--- response_headers_like eval
['', "X-Error: client_throttled\nWWW-Authenticate: Bearer realm=\"oic\"\nRetry-After: \\d+", "X-Cache: MISS"]
--- response_body_filters eval
main::filter()
--- response_body_like eval
[qr/^runs=403\/MISS\/invalid_grantx2 401\/-\/client_throttledx2 iam=2 /, qr/401/, qr/sub=ivan\@example\.com /]



=== TEST 6: 300 made-up client ids, 50 at a time: IAM gets no more calls than the budget allows (oic_auth_iam_rate 2r/s burst=4, shared by the 4 workers: at most 5 at once, then 2 a second); the others get 503 iam_rate_limited with Retry-After; one log line for the budget in the run, not one per request
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_iam_rate 2r/s burst=4;
        add_header X-Cache $oic_auth_cache_status always;
        add_header X-Error $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
[main::drive(path => '/api', n => 300, conc => 50, rand_clients => 1, timeline => 1, bodies => 0), "GET /_errlog"]
--- response_body_filters eval
my $f = main::filter(errlog => qr/the token budget of "[^"]+" is spent .*?\(iam_rate_limited\)/);
sub {
    my $b = shift;
    my $j = $b =~ /\A\s*\{/ ? JSON::PP::decode_json($b) : undef;
    return $f->($b) unless $j;
    # the budget: 5 at once, then 2 a second (plus one for the second the run started in)
    my $allowed = 5 + 2 * int($j->{ms} / 1000 + 1);
    my (%n, $retry_ok);
    $retry_ok = 'yes';
    for my $e (@{ $j->{timeline} }) {
        $n{"$e->[1]/" . ($e->[3] // '-')}++;
        $retry_ok = 'no' if $e->[1] eq '503' && !(defined $e->[4] && $e->[4] =~ /^[1-9]\d*$/);
    }
    return CORE::join ' ', (map { "$_=$n{$_}" } sort keys %n),
        'within_budget=' . ($j->{token_calls} <= $allowed ? 'yes' : "no($j->{token_calls} > $allowed)"),
        'some_calls=' . ($j->{token_calls} >= 5 ? 'yes' : 'no'), "retry_after=$retry_ok";
}
--- response_body_like eval
[qr/^401\/invalid_client=\d+ 503\/iam_rate_limited=\d+ within_budget=yes some_calls=yes retry_after=yes$/,
 qr/\Athe token budget of "http:\/\/127\.0\.0\.1:\d+\/oauth2\/v1\/token" is spent \(oic_auth_iam_rate 2\.000 r\/s burst=4\): 1 requests for new tokens refused since the last such line \(iam_rate_limited\)\n\z/]
--- timeout: 20



=== TEST 7: the default budget (2r/s burst=8) protects a free identity domain: 100 made-up client ids at once make at most 9 IAM calls, plus 2 a second
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
main::drive(path => '/api', n => 100, conc => 50, rand_clients => 1, bodies => 0)
--- response_body_filters eval
sub {
    my $b = shift;
    my $j = eval { JSON::PP::decode_json($b) } or return $b;
    my $allowed = 9 + 2 * int($j->{ms} / 1000 + 1);
    return 'calls=' . ($j->{token_calls} >= 9 && $j->{token_calls} <= $allowed ? 'within' : "$j->{token_calls} (allowed $allowed)")
        . ' ' . CORE::join ' ', map { "$_:$j->{statuses}{$_}" } sort keys %{ $j->{statuses} };
}
--- response_body_like eval
qr/^calls=within 401:\d+ 503:\d+$/
--- timeout: 20



=== TEST 8: a refresh of a key IAM accepted is never refused by the budget: with a budget of one call a minute spent, a new client gets 503, the known one's refresh goes through (UPDATING, then its new token)
--- init
main::short('app7', { expires_in_raw => '8' }, { expires_in_raw => '60' });
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_iam_rate 1r/m;
        oic_auth_refresh_margin 6s;
        add_header X-Cache $oic_auth_cache_status always;
        add_header X-Error $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
[main::paced(n => 1, client => 'app7', auth => main::auth('app7')),
 "GET /api",
 main::paced(n => 20, interval_ms => 250, client => 'app7', auth => main::auth('app7'))]
--- more_headers eval
['', main::auth_hdr('app8'), '']
--- error_code eval
[200, 503, 200]
--- response_headers_like eval
['', "X-Error: iam_rate_limited\nRetry-After: (?:[3-6]\\d)", '']
--- response_body_filters eval
main::filter()
--- response_body_like eval
[qr/^runs=MISS#1x1 iam=1 /,
 qr/503/,
 qr/^runs=(?:HIT#1x\d+ )?UPDATING#1x\d+ HIT#2x\d+ iam=1 /]
--- timeout: 20



=== TEST 9: IAM answers 429 with Retry-After: 3: no token call to that endpoint from any worker for 3 s (another client's new token gets 503 iam_rate_limited with a Retry-After counting down meanwhile), then calls go again
--- init
main::short('app2', { status => 429, retry_after => '3' });
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
["GET /api", main::paced(n => 16, interval_ms => 250, client => ['app2', 'app4'], auth => main::auth('app4'))]
--- more_headers eval
[main::auth_hdr('app2'), '']
--- error_code eval
[503, 200]
--- response_headers_like eval
["X-Error: iam_rate_limited\nX-Cache: MISS\nRetry-After: 3", '']
--- response_body_filters eval
my $f = main::filter();
sub {
    my $b = shift;
    my $s = $f->($b);
    my $j = $b =~ /"token_times"/ ? JSON::PP::decode_json($b) : undef;
    # the first token call after the 429 (the drive starts right after it)
    $s .= ' first_call=' . ($j->{token_times}[0][0] >= 2500 ? 'after_block' : "at_$j->{token_times}[0][0]")
        if $j && @{ $j->{token_times} };
    return $s;
}
--- response_body_like eval
[qr/503/,
 qr/^runs=503\/-\/iam_rate_limitedx(?:[4-9]|1[0-2]) MISS#1x1(?: (?:WAIT|HIT)#1x\d+)* iam=\{"app2":0,"app4":1\} fast=yes end=\d+ gaps=none retry=1,2,3 inflight=1 first_call=after_block$/]
--- timeout: 20



=== TEST 10: Retry-After as an HTTP-date holds off calls the same way (3 s)
--- init
main::short('app2', { status => 429, retry_after_date => 3 });
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
["GET /api", main::paced(n => 16, interval_ms => 250, client => ['app2', 'app4'], auth => main::auth('app4'))]
--- more_headers eval
[main::auth_hdr('app2'), '']
--- error_code eval
[503, 200]
--- response_body_filters eval
main::filter()
--- response_body_like eval
[qr/503/,
 qr/^runs=503\/-\/iam_rate_limitedx(?:[4-9]|1[0-2]) MISS#1x1(?: (?:WAIT|HIT)#1x\d+)* iam=\{"app2":0,"app4":1\} /]
--- timeout: 20



=== TEST 10a: during a 429 block a known client's token in its refresh window stays served (STALE: its refresh waits for the end of the block), and is refreshed after it
--- init
main::short('app2', { status => 429, retry_after => '3' });
main::short('app3', { expires_in_raw => '8' }, { expires_in_raw => '60' });
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    oic_auth_cache oic;
    oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
    oic_auth_scope $TEST_NGINX_OIC_SCOPE;
    add_header X-Cache $oic_auth_cache_status always;
    add_header X-Error $oic_auth_error always;
    location /api {
        oic_auth basic;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location /known {
        oic_auth basic;
        oic_auth_refresh_margin 7s;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
[main::paced(path => '/known', n => 1, client => 'app3', auth => main::auth('app3')),
 main::drive(path => '/api', n => 1, client => 'app2', auth => main::auth('app2'), wait_ms => 1100),
 main::paced(path => '/known', n => 6, interval_ms => 250, client => 'app3', auth => main::auth('app3')),
 main::paced(path => '/known', n => 4, interval_ms => 250, client => 'app3', auth => main::auth('app3'),
             wait_ms => 2500)]
--- error_code eval
[200, 200, 200, 200]
--- response_body_filters eval
main::filter()
--- response_body_like eval
[qr/^runs=MISS#1x1 iam=1 /,
 qr/^503:1 iam=1 /,
 qr/^runs=STALE#1x6 iam=0 /,
 qr/^runs=UPDATING#1x1 HIT#2x\d+ iam=1 /]
--- timeout: 20



=== TEST 11: 429 without Retry-After: no call for 1 s, then 2 s after the next 429 (doubling up to 60 s)
--- init
main::short('app2', { status => 429 });
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
main::paced(n => 25, interval_ms => 200, client => 'app2', auth => main::auth('app2'))
--- response_body_filters eval
main::filter()
--- response_body_like eval
qr/^runs=503\/MISS\/iam_rate_limitedx1 (?:503\/[-A-Z]+\/iam_rate_limitedx\d+ ?)+ iam=3 fast=yes end=\d+ gaps=(?:9\d\d|1[0-4]\d\d),(?:19|2[0-4])\d\d /
--- timeout: 20



=== TEST 12: at most oic_auth_iam_connections calls in flight per endpoint, over the 4 workers, half of them for keys IAM never accepted: 2 connections, 8 new clients whose calls take 1 s: one call at a time, the others wait for a connection (up to oic_auth_timeout), then 503 iam_busy with Retry-After: 1
--- init
main::short($_, { delay_ms => 1000 }) for qw(app1 app2 app3 app4 app5 app6 app7 app8);
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_iam_connections 2;
        oic_auth_iam_rate off;
        oic_auth_timeout 2500ms;
        add_header X-Cache $oic_auth_cache_status always;
        add_header X-Error $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
main::paced(n => 8, conc => 8, client => [qw(app1 app2 app3 app4 app5 app6 app7 app8)],
            auth => [map { main::auth($_) } qw(app1 app2 app3 app4 app5 app6 app7 app8)])
--- response_body_filters eval
my $f = main::filter();
sub {
    my $j = eval { JSON::PP::decode_json($_[0]) } or return $_[0];
    my %n;
    $n{ $_->[1] eq '200' ? '200' : "$_->[1]/$_->[3]/retry=" . ($_->[4] // '-') }++ for @{ $j->{timeline} };
    return CORE::join ' ', "inflight=$j->{token_max_inflight}", map { "$_:$n{$_}" } sort keys %n;
}
--- response_body_like eval
qr/^inflight=1 200:[2-4] 503\/iam_busy\/retry=1:[4-6]$/
--- timeout: 20



=== TEST 13: 120 made-up client ids at once (the HTTP/2-stream flood of the issue, as plain requests): at most 4 calls in flight (half the default 8 connections), every request answered
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_iam_rate off;
        oic_auth_failure_limit off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
main::drive(path => '/api', n => 120, rand_clients => 1, bodies => 0)
--- response_body_filters eval
main::filter()
--- response_body_like eval
qr/^401:120 iam=120 jwks=0 inflight=[1-4]$/
--- timeout: 20



=== TEST 14: a legitimate client whose token is refreshing during a flood of wrong secrets for its own client id keeps getting 200 (its key was accepted: no failure limit, no budget refusal), and gets its new token
--- init
main::short('app6', { expires_in_raw => '8' }, { expires_in_raw => '60' });
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
[main::paced(n => 1, client => 'app6', auth => main::auth('app6')),
 main::drive(path => '/api', n => 300, interval_ms => 20, client => 'app6',
             auth => [main::auth('app6'), @{ main::wrongs('app6', 29) }])]
--- response_body_filters eval
my $f = main::filter();
sub {
    my $b = shift;
    my $j = $b =~ /"by_auth"/ && $b !~ /"timeline"/ ? JSON::PP::decode_json($b) : undef;
    return $f->($b) unless $j;
    my ($legit, @wrong) = @{ $j->{by_auth} };
    my %w;
    for my $a (@wrong) { $w{$_} += $a->{statuses}{$_} for keys %{ $a->{statuses} }; }
    return CORE::join ' ', 'legit=' . CORE::join(',', map { "$_:$legit->{statuses}{$_}" } sort keys %{ $legit->{statuses} }),
        "tokens=$legit->{jtis_distinct}", 'wrong=' . CORE::join(',', map { "$_:$w{$_}" } sort keys %w);
}
--- response_body_like eval
[qr/^runs=MISS#1x1 iam=1 /,
 qr/^legit=200:10 tokens=2 wrong=401:\d+(?:,503:\d+)?$/]
--- timeout: 20



=== TEST 15: keys IAM never accepted cannot crowd the zone: in a 32k zone shared with a bearer location, 300 made-up client ids leave the known client's token (served without an IAM call) and the JWKS (no refetch) in place
--- http_config
    oic_auth_cache_zone oic:32k;
--- config
    oic_auth_cache oic;
    location /api {
        oic_auth basic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_iam_rate off;
        oic_auth_failure_limit off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location /bearer {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/xg2/discovery/v2.0/keys;
        oic_auth_issuer any;
        oic_auth_audience api://oic-gateway;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
--- request eval
[main::drive(path => '/api', n => 1, client => 'it-app', auth => main::auth('it-app')),
 main::drive(path => '/bearer', n => 1, auth => "Bearer $main::BEARER"),
 main::drive(path => '/api', n => 300, conc => 20, rand_clients => 1, bodies => 0),
 main::drive(path => '/api', n => 1, client => 'it-app', auth => main::auth('it-app')),
 main::drive(path => '/bearer', n => 1, auth => "Bearer $main::BEARER")]
--- response_body_filters eval
main::filter()
--- response_body_like eval
[qr/^200:1 iam=1 jti=#1 jwks=0 /, qr/^200:1 iam=0 jwks=1 /, qr/^401:300 iam=300 jwks=0 /,
 qr/^200:1 iam=0 jti=#1 jwks=0 /, qr/^200:1 iam=0 jwks=0 /]
--- no_error_log
no room
--- timeout: 20



=== TEST 16: the request model: under satisfy any a budget refusal (503) is a 403 (the other modules may still let the request in, without the module's Retry-After or challenge), a failure-limit refusal stays 401; in an auth_request subrequest a budget refusal stays a server error (auth_request: 500)
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    oic_auth_cache oic;
    oic_auth_scope $TEST_NGINX_OIC_SCOPE;
    add_header X-Error $oic_auth_error always;
    location /any-deny {
        satisfy any;
        deny all;
        oic_auth basic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token?for=deny;
        oic_auth_iam_rate 1r/m;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location /any-allow {
        satisfy any;
        allow 127.0.0.1;
        deny all;
        oic_auth basic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token?for=deny;
        oic_auth_iam_rate 1r/m;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
    location /any-throttled {
        satisfy any;
        deny all;
        oic_auth basic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token?for=throttled;
        oic_auth_failure_limit 1 1m;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location /ar {
        auth_request /check;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
    location = /check {
        internal;
        oic_auth basic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token?for=check;
        oic_auth_iam_rate 1r/m;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /any-deny", "GET /any-deny", "GET /any-allow",
 "GET /any-throttled", "GET /any-throttled",
 "GET /ar", "GET /ar"]
--- more_headers eval
[main::auth_hdr('app1', 'guess-1'), main::auth_hdr('app1', 'guess-2'), main::auth_hdr('app1', 'guess-3'),
 main::auth_hdr('app2', 'guess-1'), main::auth_hdr('app2', 'guess-2'),
 main::auth_hdr('app3', 'guess-1'), main::auth_hdr('app3', 'guess-2')]
--- error_code eval
[401, 403, 200, 401, 401, 401, 500]
--- response_headers_like eval
["X-Error: invalid_client", "X-Error: iam_rate_limited", "!Retry-After\n!WWW-Authenticate",
 "X-Error: invalid_client", "X-Error: client_throttled\nRetry-After: \\d+\nWWW-Authenticate: Basic realm=\"oic\", charset=\"UTF-8\"",
 "", ""]
--- response_body_filters eval
main::filter()
--- response_body_like eval
[qr/401/, qr/403/, qr/plain/, qr/401/, qr/401/, qr/401/, qr/500/]



=== TEST 17: JWKS: a 429 with Retry-After: 8 holds off every worker's fetch of that URI for 8 s (longer than the 5 s after another failure): requests without keys fail fast meanwhile, then the keys are fetched
--- init
OicTest::entra_jwks_fault('xg3', mode => 'status', status => 429, retry_after => 8, times => 1);
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /bearer {
        oic_auth bearer;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/xg3/discovery/v2.0/keys;
        oic_auth_issuer any;
        oic_auth_audience api://oic-gateway;
        add_header X-Error $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
--- request eval
my $t = OicTest::entra_token('xg3');
[main::drive(path => '/bearer', n => 1, auth => "Bearer $t"),
 main::drive(path => '/bearer', n => 4, auth => "Bearer $t", wait_ms => 5500),
 main::drive(path => '/bearer', n => 1, auth => "Bearer $t", wait_ms => 3500),
 "GET /_errlog"]
--- response_body_filters eval
main::filter(errlog => qr/JWKS "[^"]+" unavailable: .*|no keys: .*/)
--- response_body_like eval
[qr/^502:1 iam=0 jwks=1 /, qr/^502:4 iam=0 jwks=0 /, qr/^200:1 iam=0 jwks=1 /,
 qr/\AJWKS "[^"]+" unavailable: answered 429, next try in 8000 ms at the earliest; keeping the last good keys, if any
(?:no keys: "[^"]+" failed less than [5-8] s ago\n){5}\z/]
--- timeout: 20



=== TEST 18: nginx -t: oic_auth_iam_rate must be a rate like limit_req's
--- http_config
    oic_auth_cache_zone oic:1m;
    oic_auth_iam_rate 10/s;
--- config
    location /api { oic_auth off; }
--- must_die
--- error_log
invalid rate "10/s", it must be like "10r/s" or "150r/m"



=== TEST 19: nginx -t: a burst that is not a number
--- http_config
    oic_auth_cache_zone oic:1m;
    oic_auth_iam_rate 10r/s burst=many;
--- config
    location /api { oic_auth off; }
--- must_die
--- error_log
invalid burst value "burst=many"



=== TEST 20: nginx -t: oic_auth_failure_limit wants a number of refusals and a window of 1s to 1h, or off
--- http_config
    oic_auth_cache_zone oic:1m;
    oic_auth_failure_limit 0 1m;
--- config
    location /api { oic_auth off; }
--- must_die
--- error_log
invalid value "0", it must be a number of refusals greater than 0



=== TEST 21: nginx -t: a failure-limit window over 1h
--- http_config
    oic_auth_cache_zone oic:1m;
    oic_auth_failure_limit 5 2h;
--- config
    location /api { oic_auth off; }
--- must_die
--- error_log
invalid value "2h", "oic_auth_failure_limit" must be a time between 1s and 1h



=== TEST 22: nginx -t: oic_auth_iam_connections between 1 and 64
--- http_config
    oic_auth_cache_zone oic:1m;
    oic_auth_iam_connections 65;
--- config
    location /api { oic_auth off; }
--- must_die
--- error_log
value must be between 1 and 64



=== TEST 23: nginx -t: oic_auth_purge_on_status takes statuses from 300 to 599
--- http_config
    oic_auth_cache_zone oic:1m;
    oic_auth_purge_on_status 401 200;
--- config
    location /api { oic_auth off; }
--- must_die
--- error_log
invalid value "200", it must be a status code between 300 and 599



=== TEST 24: nginx -t: oic_auth_negative_ttl at most 1h
--- http_config
    oic_auth_cache_zone oic:1m;
    oic_auth_negative_ttl 2h;
--- config
    location /api { oic_auth off; }
--- must_die
--- error_log
invalid value "2h", "oic_auth_negative_ttl" must be at most 1h



=== TEST 25: nginx -t: the guard zone's name is reserved
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic_auth_iam_guard;
        oic_auth_token_endpoint https://iam.example.com/oauth2/v1/token;
        oic_auth_scope urn:opc:resource:consumer::all;
    }
--- must_die
--- error_log
zone name "oic_auth_iam_guard" is reserved by oic_auth



=== TEST 26: nginx -t: off is accepted for the budget, the failure limit and purges; a location may set values of its own
--- http_config
    oic_auth_cache_zone oic:1m;
    oic_auth_iam_rate off;
    oic_auth_failure_limit off;
    oic_auth_purge_on_status off;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_iam_rate 150r/m burst=3;
        oic_auth_failure_limit 3 30s;
        oic_auth_purge_on_status 401 403;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request
GET /api
--- more_headers eval
main::auth_hdr('app1')
--- response_body_like: ^sub=app1 scope=
