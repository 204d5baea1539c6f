# oic_auth_metrics (issue #10): known traffic through each mode, over 4
# workers, then the exact values the endpoint reports. Basic mode (hits,
# misses, remembered refusals, no and malformed credentials, limits passed,
# delayed and rejected), IAM failures (5xx, malformed answers, a dropped
# connection, a timeout, the failure limit, the budget, a 429 and the block
# after it), bearer refusals by reason (and the verified-token cache, the
# forced JWKS refetch and its throttle), exchange mode, a JWKS URI that
# fails; the endpoint itself (method, format, not counted, not behind
# oic_auth) and its configuration checks; a request back in its location
# counted once; the protection states whose numbers depend on timing
# (UPDATING, STALE, WAIT, a failure's backoff, iam_busy), checked against
# what the answers said. t/metrics-reload.sh: the same counts across a
# reload; t/metrics-promtool.sh: promtool check metrics.
#
#   TEST_NGINX_BINARY=/usr/sbin/nginx TEST_NGINX_MODULE=$PWD/build/ngx_http_oic_auth_module.so \
#   TEST_NGINX_PORT=31000 prove -I t/lib t/metrics.t
#
# Each block has an nginx of its own (a new metrics zone); its traffic goes
# through the mock's load generator (one connection per request, spread
# over the 4 workers by reuseport), one request at a time where the order
# decides the value (a hit after a miss), so that every value is exact. The
# last request of a block is the scrape; its body is shown as its lines
# with a value other than 0, without the histograms' buckets and sums (the
# times vary) and the zones' bytes, the mock's ports as "PORT".

BEGIN { $ENV{TEST_NGINX_REUSE_PORT} //= 1 }

use FindBin; use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use OicTest;
use OicBasic;
use OicIam;

master_on();
workers(4);
worker_connections(1024);
no_long_string();

our $HR = OicTest::entra_token('m3', claims => { scp => 'oic_api_HR' });
our $IT = OicTest::entra_token('m3', claims => { scp => 'oic_api_IT' });
our @BAD = (
    OicTest::entra_token('m3', exp_in => -3600, iat_in => -7200, nbf_in => -7200),
    OicTest::entra_token('m3', claims => { iss => 'https://login.microsoftonline.com/other/v2.0' }),
    OicTest::entra_token('m3', claims => { aud => 'api://someone-else' }),
    OicTest::entra_token('m3', signature_from => $main::IT),
    OicTest::entra_token('m3', unsigned => 1),
);
our @FOREIGN = map { OicTest::entra_token('m3', sign_with => 'foreign') } 1 .. 2;
our $ALICE = OicTest::entra_token('m4', user => 'alice@example.com');
our $APP_ONLY = OicTest::entra_token('m4', app_only => 1);
our $NOBODY = OicTest::entra_token('m4', user => 'nobody@example.com');
our $M5 = OicTest::entra_token('m5');

sub bearer { return map { "Bearer $_" } @_ }

# a scrape as its lines with a value, a drive as its statuses and IAM calls
sub mfilter {
    my $summary = main::filter();
    return sub {
        my $b = shift;
        return $summary->($b) unless defined $b && $b =~ /\A# HELP /;
        my @l = grep { !/^#/ && !/ 0$/ && !/_bucket\{|_sum\{|_timestamp_seconds|_bytes\{/ } split /\n/, $b;
        s/127\.0\.0\.1:\d+/PORT/g for @l;
        return CORE::join("\n", @l) . "\n";
    };
}

# The protection states, whose numbers depend on timing: the answers of the
# paced drives of a block (their X-Cache and X-Error) are counted as they
# come, and the scrape (last) is shown as whether its counters say the same:
# token cache lookups by result (answers without X-Cache: one refused for
# want of a connection looked up a miss, a 502 iam_unavailable found a
# failure's backoff running), requests by outcome, calls not made for want
# of a connection and for a backoff.
sub mstates {
    my (%ans, %busy);
    return sub {
        my $b = shift;
        if ($b =~ /\A# HELP /) {
            my @out;
            my %c = map { /result="(\w+)"\} (\d+)/ ? (uc $1 => $2) : () }
                    grep { /^oic_auth_token_cache_lookups_total/ } split /\n/, $b;
            my %want = %{ $ans{cache} || {} };
            push @out, 'cache=' . CORE::join(',', map { "$_:" . ($c{$_} // 0) } grep { $c{$_} } sort keys %c);
            push @out, 'as the answers: ' . (CORE::join(',', map { "$_:$want{$_}" } sort grep { $want{$_} } keys %want)
                                            eq CORE::join(',', map { "$_:$c{$_}" } sort grep { $c{$_} } keys %c) ? 'yes' : 'no');
            my ($ok) = $b =~ /^oic_auth_requests_total\{mode="basic",outcome="allowed",error=""\} (\d+)$/m;
            my ($b503) = $b =~ /^oic_auth_requests_total\{mode="basic",outcome="503",error="iam_busy"\} (\d+)$/m;
            my ($nm) = $b =~ /^oic_auth_iam_requests_not_made_total\{endpoint="[^"]*",reason="connections"\} (\d+)$/m;
            my ($bo) = $b =~ /^oic_auth_iam_requests_not_made_total\{endpoint="[^"]*",reason="backoff"\} (\d+)$/m;
            push @out, 'allowed as the answers: ' . (($ok // 0) == ($ans{ok} // 0) ? 'yes' : 'no');
            push @out, 'iam_busy as the answers: ' . (($b503 // 0) == ($busy{n} // 0) && ($nm // 0) == ($busy{n} // 0) ? 'yes' : 'no');
            push @out, 'backoff as the answers: ' . (($bo // 0) == ($ans{cache}{FAILED} // 0) ? 'yes' : 'no');
            return CORE::join(' ', @out) . "\n";
        }
        my $j = eval { JSON::PP::decode_json($b) };
        return $b unless ref $j eq 'HASH' && $j->{timeline};
        my %n;
        for my $e (@{ $j->{timeline} }) {
            my ($t, $st, $xc, $xe) = @$e;
            $xc //= ''; $xe //= '';
            $ans{cache}{ $xc ne '' ? $xc : $xe eq 'iam_busy' ? 'MISS' : $xe eq 'iam_unavailable' ? 'FAILED' : 'OTHER' }++;
            $ans{ok}++ if $st eq '200';
            $busy{n}++ if $xe eq 'iam_busy';
            $n{ CORE::join '/', $st, ($xc // '') eq '' ? '-' : $xc, ($xe // '') eq '' ? '-' : $xe }++;
        }
        return CORE::join ' ', map { "$_=$n{$_}" } sort keys %n;
    };
}

run_tests();

__DATA__

=== TEST 1: basic mode over 4 workers: 10 requests of a client (1 miss, 9 hits, one IAM call), a wrong secret 3 times (one IAM call, then its refusal remembered), no credentials, malformed ones, a limit that passes 2 and rejects 1, one that passes 1 and delays 2; the metrics location itself is not counted
--- http_config
    oic_auth_cache_zone oic:1m;
    oic_auth_limit_zone strict:1m rate=1r/m;
    oic_auth_limit_zone per_s:1m rate=1r/s;
--- config
    oic_auth_cache oic;
    oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
    oic_auth_scope $TEST_NGINX_OIC_SCOPE;
    oic_auth_iam_rate off;
    location /api {
        oic_auth basic;
        proxy_set_header X-Pid $pid;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location /lim {
        oic_auth basic;
        oic_auth_limit strict burst=1 nodelay;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location /slow {
        oic_auth basic;
        oic_auth_limit per_s burst=5;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location = /metrics {
        oic_auth_metrics;
    }
--- request eval
[main::drive(path => '/api', n => 10, conc => 1, client => 'app1', auth => main::auth('app1')),
 main::drive(path => '/api', n => 3, conc => 1, client => 'app1', auth => main::auth('app1', 'wrong')),
 main::drive(path => '/api', n => 2, conc => 1, client => 'app1'),
 main::drive(path => '/api', n => 1, client => 'app1', auth => 'Basic !!!'),
 main::drive(path => '/lim', n => 3, conc => 1, client => 'app2', auth => main::auth('app2')),
 main::drive(path => '/slow', n => 3, conc => 1, client => 'app4', auth => main::auth('app4')),
 "GET /metrics", "GET /metrics"]
--- response_body_filters eval
main::mfilter()
--- response_body eval
['200:10 iam=1 jti=#1 jwks=0 inflight=1',
 '401:3 iam=1 jwks=0 inflight=1',
 '401:2 iam=0 jwks=0 inflight=0',
 '401:1 iam=0 jwks=0 inflight=0',
 '200:2 429:1 iam=1 jti=#2 jwks=0 inflight=1',
 '200:3 iam=1 jti=#3 jwks=0 inflight=1',
 (<<'_EOM_') x 2]
oic_auth_requests_total{mode="none",outcome="401",error="no_credentials"} 2
oic_auth_requests_total{mode="basic",outcome="allowed",error=""} 15
oic_auth_requests_total{mode="basic",outcome="401",error="malformed_credentials"} 1
oic_auth_requests_total{mode="basic",outcome="401",error="invalid_client"} 3
oic_auth_requests_total{mode="basic",outcome="429",error="rate_limited"} 1
oic_auth_token_cache_lookups_total{zone="oic",result="hit"} 13
oic_auth_token_cache_lookups_total{zone="oic",result="miss"} 4
oic_auth_token_cache_lookups_total{zone="oic",result="negative"} 2
oic_auth_iam_requests_total{endpoint="PORT/oauth2/v1/token",outcome="ok"} 3
oic_auth_iam_requests_total{endpoint="PORT/oauth2/v1/token",outcome="invalid_client"} 1
oic_auth_iam_request_duration_seconds_count{endpoint="PORT/oauth2/v1/token"} 4
oic_auth_iam_requests_not_made_total{endpoint="PORT/oauth2/v1/token",reason="negative"} 2
oic_auth_limit_requests_total{zone="strict",outcome="passed"} 2
oic_auth_limit_requests_total{zone="strict",outcome="rejected"} 1
oic_auth_limit_requests_total{zone="per_s",outcome="passed"} 1
oic_auth_limit_requests_total{zone="per_s",outcome="delayed"} 2
oic_auth_zone_entries{zone="oic",type="cache"} 4
oic_auth_zone_entries{zone="strict",type="limit"} 1
oic_auth_zone_entries{zone="per_s",type="limit"} 1
oic_auth_zone_entries{zone="oic_auth_iam_guard",type="guard"} 2
oic_auth_zone_entries{zone="oic_auth_metrics",type="metrics"} 5
_EOM_
--- response_headers eval
[('') x 6, ("Content-Type: text/plain; version=0.0.4; charset=utf-8") x 2]
--- timeout: 20
--- no_error_log
[alert]



=== TEST 2: IAM failures: 5xx twice, malformed answers (truncated JSON, HTML), a dropped connection, a timeout; the failure limit (2 refusals, then a local one); the budget (3 calls, then 2 refused); a 429 and the block after it
--- init
OicTest::iam_behavior('rate-app', { status => 429, retry_after => '30' });
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    oic_auth_cache oic;
    oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
    oic_auth_scope $TEST_NGINX_OIC_SCOPE;
    oic_auth_iam_rate off;
    oic_auth_timeout 1s;
    location /api {
        oic_auth basic;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location /fl {
        oic_auth basic;
        oic_auth_failure_limit 2 1m;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location /budget {
        oic_auth basic;
        oic_auth_iam_rate 1r/m burst=2;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location = /metrics {
        oic_auth_metrics;
    }
--- request eval
[main::drive(path => '/api', n => 2, conc => 1, client => 'err500-app', auth => main::auth('err500-app')),
 main::drive(path => '/api', n => 2, conc => 1, auth => [main::auth('malformed-app'), main::auth('html-app')]),
 main::drive(path => '/api', n => 1, auth => main::auth('drop-app')),
 main::drive(path => '/api', n => 1, auth => main::auth('slow-app')),
 main::drive(path => '/fl', n => 3, conc => 1, client => 'app3', auth => [map { main::auth('app3', "guess-$_") } 1 .. 3]),
 main::drive(path => '/budget', n => 5, conc => 1, rand_clients => 1),
 main::drive(path => '/api', n => 1, client => 'rate-app', auth => main::auth('rate-app')),
 main::drive(path => '/api', n => 1, client => 'app5', auth => main::auth('app5')),
 "GET /metrics"]
--- response_body_filters eval
main::mfilter()
--- response_body_like eval
# libcurl tries a dropped call again once on a fresh connection when the
# dropped one was reused: the mock may count 2 token calls for drop-app
[qr/^502:2 iam=2 jwks=0 inflight=1$/,
 qr/^502:2 iam=2 .*jwks=0 inflight=1$/,
 qr/^502:1 iam=[12] jwks=0 inflight=1$/,
 qr/^502:1 iam=1 jwks=0 inflight=1$/,
 qr/^401:3 iam=2 .*jwks=0 inflight=1$/,
 qr/^401:3 503:2 iam=3 jwks=0 inflight=1$/,
 qr/^503:1 iam=1 jwks=0 inflight=1$/,
 qr/^503:1 iam=0 jwks=0 inflight=0$/,
 do { my $m = <<'_EOM_'; qr/\A\Q$m\E\z/ }]
oic_auth_requests_total{mode="basic",outcome="401",error="invalid_client"} 5
oic_auth_requests_total{mode="basic",outcome="401",error="client_throttled"} 1
oic_auth_requests_total{mode="basic",outcome="502",error="iam_unavailable"} 6
oic_auth_requests_total{mode="basic",outcome="503",error="iam_rate_limited"} 4
oic_auth_token_cache_lookups_total{zone="oic",result="miss"} 16
oic_auth_iam_requests_total{endpoint="PORT/oauth2/v1/token",outcome="invalid_client"} 5
oic_auth_iam_requests_total{endpoint="PORT/oauth2/v1/token",outcome="429"} 1
oic_auth_iam_requests_total{endpoint="PORT/oauth2/v1/token",outcome="5xx"} 2
oic_auth_iam_requests_total{endpoint="PORT/oauth2/v1/token",outcome="malformed"} 2
oic_auth_iam_requests_total{endpoint="PORT/oauth2/v1/token",outcome="timeout"} 1
oic_auth_iam_requests_total{endpoint="PORT/oauth2/v1/token",outcome="connection_failure"} 1
oic_auth_iam_request_duration_seconds_count{endpoint="PORT/oauth2/v1/token"} 12
oic_auth_iam_requests_not_made_total{endpoint="PORT/oauth2/v1/token",reason="failure_limit"} 1
oic_auth_iam_requests_not_made_total{endpoint="PORT/oauth2/v1/token",reason="retry_after"} 1
oic_auth_iam_requests_not_made_total{endpoint="PORT/oauth2/v1/token",reason="budget"} 2
oic_auth_zone_entries{zone="oic",type="cache"} 15
oic_auth_zone_entries{zone="oic_auth_iam_guard",type="guard"} 6
oic_auth_zone_entries{zone="oic_auth_metrics",type="metrics"} 3
_EOM_
--- timeout: 20



=== TEST 3: bearer refusals by reason (expired, issuer, audience, signature, algorithm none, a malformed header and token, unknown keys, scope), the verified-token cache (hits for a repeated token, a verification for each other signature), the JWKS refetch a bad signature forces and the ones its throttle holds off
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /hr {
        oic_auth bearer;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/m3/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/m3/v2.0;
        oic_auth_audience api://oic-gateway;
        oic_auth_scopes_required oic_api_HR;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
    location = /metrics {
        oic_auth_metrics;
    }
--- request eval
[main::drive(path => '/hr', n => 3, conc => 1, auth => "Bearer $main::HR"),
 main::drive(path => '/hr', n => 7, conc => 1, auth => [main::bearer(@main::BAD), 'Bearer a b', 'Bearer abc']),
 main::drive(path => '/hr', n => 2, conc => 1, auth => [main::bearer(@main::FOREIGN)]),
 main::drive(path => '/hr', n => 1, auth => "Bearer $main::IT"),
 "GET /metrics"]
--- response_body_filters eval
main::mfilter()
--- response_body eval
['200:3 iam=0 jwks=1 inflight=0',
 '400:1 401:6 iam=0 auth0(401:1 jtis=0) auth1(401:1 jtis=0) auth2(401:1 jtis=0) auth3(401:1 jtis=0) auth4(401:1 jtis=0) auth5(400:1 jtis=0) auth6(401:1 jtis=0) jwks=1 inflight=0',
 '401:2 iam=0 jwks=0 inflight=0',
 '403:1 iam=0 jwks=0 inflight=0',
 <<'_EOM_']
oic_auth_requests_total{mode="bearer",outcome="allowed",error=""} 3
oic_auth_requests_total{mode="bearer",outcome="400",error="invalid_request"} 1
oic_auth_requests_total{mode="bearer",outcome="401",error="invalid_token"} 8
oic_auth_requests_total{mode="bearer",outcome="403",error="insufficient_scope"} 1
oic_auth_bearer_refusals_total{mode="bearer",reason="malformed"} 2
oic_auth_bearer_refusals_total{mode="bearer",reason="algorithm"} 1
oic_auth_bearer_refusals_total{mode="bearer",reason="unknown_key"} 2
oic_auth_bearer_refusals_total{mode="bearer",reason="signature"} 1
oic_auth_bearer_refusals_total{mode="bearer",reason="expired"} 1
oic_auth_bearer_refusals_total{mode="bearer",reason="issuer"} 1
oic_auth_bearer_refusals_total{mode="bearer",reason="audience"} 1
oic_auth_bearer_refusals_total{mode="bearer",reason="scope"} 1
oic_auth_verified_cache_lookups_total{zone="oic",result="hit"} 2
oic_auth_verified_cache_lookups_total{zone="oic",result="miss"} 6
oic_auth_jwks_requests_total{endpoint="PORT/m3/discovery/v2.0/keys",outcome="ok"} 2
oic_auth_jwks_request_duration_seconds_count{endpoint="PORT/m3/discovery/v2.0/keys"} 2
oic_auth_jwks_requests_not_made_total{endpoint="PORT/m3/discovery/v2.0/keys",reason="refetch_interval"} 2
oic_auth_jwks_keys{zone="oic",endpoint="PORT/m3/discovery/v2.0/keys"} 3
oic_auth_zone_entries{zone="oic",type="cache"} 3
oic_auth_zone_entries{zone="oic_auth_metrics",type="metrics"} 4
_EOM_
--- timeout: 20



=== TEST 4: exchange mode: a user twice (one IAM call, a miss and a hit), a token without a user claim, a user IAM does not know (invalid_grant)
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /x {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/m4/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/m4/v2.0;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_client_id exchange-app2;
        oic_auth_client_secret_file $TEST_NGINX_XDIR/exchange-app2;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_certificate $TEST_NGINX_CERTS/assertion.pem;
        oic_auth_assertion_kid oic-gw;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location = /metrics {
        oic_auth_metrics;
    }
--- request eval
[main::drive(path => '/x', n => 2, conc => 1, auth => "Bearer $main::ALICE"),
 main::drive(path => '/x', n => 2, conc => 1, auth => [main::bearer($main::APP_ONLY, $main::NOBODY)]),
 "GET /metrics"]
--- response_body_filters eval
main::mfilter()
--- response_body eval
['200:2 iam=1 jti=#1 jwks=1 inflight=1',
 '401:1 403:1 iam=1 auth0(401:1 jtis=0) auth1(403:1 jtis=0) jwks=0 inflight=1',
 <<'_EOM_']
oic_auth_requests_total{mode="exchange",outcome="allowed",error=""} 2
oic_auth_requests_total{mode="exchange",outcome="401",error="invalid_token"} 1
oic_auth_requests_total{mode="exchange",outcome="403",error="invalid_grant"} 1
oic_auth_bearer_refusals_total{mode="exchange",reason="user_claim"} 1
oic_auth_token_cache_lookups_total{zone="oic",result="hit"} 1
oic_auth_token_cache_lookups_total{zone="oic",result="miss"} 2
oic_auth_verified_cache_lookups_total{zone="oic",result="hit"} 1
oic_auth_verified_cache_lookups_total{zone="oic",result="miss"} 3
oic_auth_iam_requests_total{endpoint="PORT/oauth2/v1/token",outcome="ok"} 1
oic_auth_iam_requests_total{endpoint="PORT/oauth2/v1/token",outcome="invalid_grant"} 1
oic_auth_iam_request_duration_seconds_count{endpoint="PORT/oauth2/v1/token"} 2
oic_auth_jwks_requests_total{endpoint="PORT/m4/discovery/v2.0/keys",outcome="ok"} 1
oic_auth_jwks_request_duration_seconds_count{endpoint="PORT/m4/discovery/v2.0/keys"} 1
oic_auth_jwks_keys{zone="oic",endpoint="PORT/m4/discovery/v2.0/keys"} 3
oic_auth_zone_entries{zone="oic",type="cache"} 6
oic_auth_zone_entries{zone="oic_auth_iam_guard",type="guard"} 3
oic_auth_zone_entries{zone="oic_auth_metrics",type="metrics"} 5
_EOM_
--- timeout: 20



=== TEST 5: a JWKS URI answering 500: one fetch (5xx), no keys (502), and no fetch while its backoff runs
--- init
OicTest::entra_jwks_fault('m5', mode => 'status', status => 500);
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /hr {
        oic_auth bearer;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/m5/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/m5/v2.0;
        oic_auth_audience api://oic-gateway;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location = /metrics {
        oic_auth_metrics;
    }
--- request eval
[main::drive(path => '/hr', n => 2, conc => 1, auth => "Bearer $main::M5"),
 "GET /metrics"]
--- response_body_filters eval
main::mfilter()
--- response_body eval
['502:2 iam=0 jwks=1 inflight=0',
 <<'_EOM_']
oic_auth_requests_total{mode="bearer",outcome="502",error="jwks_unavailable"} 2
oic_auth_jwks_requests_total{endpoint="PORT/m5/discovery/v2.0/keys",outcome="5xx"} 1
oic_auth_jwks_request_duration_seconds_count{endpoint="PORT/m5/discovery/v2.0/keys"} 1
oic_auth_jwks_requests_not_made_total{endpoint="PORT/m5/discovery/v2.0/keys",reason="backoff"} 2
oic_auth_zone_entries{zone="oic",type="cache"} 1
oic_auth_zone_entries{zone="oic_auth_metrics",type="metrics"} 4
_EOM_
--- timeout: 20



=== TEST 6: the endpoint: GET and HEAD only, Prometheus' content type, HELP and TYPE for every family; the oic_auth it inherits does not apply to it, and it is not counted (the one request counted is the one to /api)
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    oic_auth basic;
    oic_auth_cache oic;
    oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
    oic_auth_scope $TEST_NGINX_OIC_SCOPE;
    location /api {
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location = /metrics {
        oic_auth_metrics;
    }
--- request eval
["POST /metrics\nx", "HEAD /metrics", "GET /api", "GET /metrics", "GET /metrics"]
--- error_code eval
[405, 200, 401, 200, 200]
--- response_headers eval
['', "Content-Type: text/plain; version=0.0.4; charset=utf-8", '', '', '']
--- response_body_filters eval
[sub { my $b = shift; return $b unless $b =~ /\A# HELP /;
       my @l = split /\n/, $b;
       my %help = map { /^# HELP (\S+)/ ? ($1 => 1) : () } @l;
       CORE::join "\n", (grep { /^# TYPE (\S+)/ && $help{$1} || /^oic_auth_requests_total/ } @l), '' }]
--- response_body eval
[qr/405 Not Allowed/, '', qr/401 Authorization Required/, (<<'_EOM_') x 2]
# TYPE oic_auth_requests_total counter
oic_auth_requests_total{mode="none",outcome="401",error="no_credentials"} 1
# TYPE oic_auth_bearer_refusals_total counter
# TYPE oic_auth_token_cache_lookups_total counter
# TYPE oic_auth_verified_cache_lookups_total counter
# TYPE oic_auth_iam_requests_total counter
# TYPE oic_auth_iam_request_duration_seconds histogram
# TYPE oic_auth_iam_requests_not_made_total counter
# TYPE oic_auth_jwks_requests_total counter
# TYPE oic_auth_jwks_request_duration_seconds histogram
# TYPE oic_auth_jwks_requests_not_made_total counter
# TYPE oic_auth_jwks_keys gauge
# TYPE oic_auth_jwks_last_success_timestamp_seconds gauge
# TYPE oic_auth_limit_requests_total counter
# TYPE oic_auth_zone_entries gauge
# TYPE oic_auth_zone_used_bytes gauge
# TYPE oic_auth_zone_free_bytes gauge
# TYPE oic_auth_zone_evictions_total counter
_EOM_
--- no_error_log
[error]



=== TEST 7: nginx -t: oic_auth and oic_auth_metrics in one location, either order
--- config
    location = /metrics {
        oic_auth basic;
        oic_auth_metrics;
    }
--- must_die
--- error_log
"oic_auth_metrics" directive cannot be used in a location with "oic_auth"



=== TEST 8: nginx -t: oic_auth after oic_auth_metrics
--- config
    location = /metrics {
        oic_auth_metrics;
        oic_auth bearer;
    }
--- must_die
--- error_log
"oic_auth" directive cannot be used in a location with "oic_auth_metrics"



=== TEST 9: nginx -t: oic_auth_metrics takes no argument, and only in a location
--- http_config
    oic_auth_metrics;
--- config
--- must_die
--- error_log
"oic_auth_metrics" directive is not allowed here



=== TEST 10: a request that comes back into its location (error_page after the upstream's 404, then 200) is one request: counted once, one token lookup; the scrape sends the same Authorization, it is not checked
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    oic_auth_cache oic;
    oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
    oic_auth_scope $TEST_NGINX_OIC_SCOPE;
    location /api {
        oic_auth basic;
        proxy_intercept_errors on;
        error_page 404 = /api/found;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location = /metrics {
        oic_auth_metrics;
    }
--- request eval
["GET /api/_status/404", "GET /metrics"]
--- more_headers eval
main::auth_hdr('app1')
--- error_code eval
[200, 200]
--- response_body_filters eval
main::mfilter()
--- response_body eval
[qr/^sub=app1 .* jti=#1$/,
 <<'_EOM_']
oic_auth_requests_total{mode="basic",outcome="allowed",error=""} 1
oic_auth_token_cache_lookups_total{zone="oic",result="miss"} 1
oic_auth_iam_requests_total{endpoint="PORT/oauth2/v1/token",outcome="ok"} 1
oic_auth_iam_request_duration_seconds_count{endpoint="PORT/oauth2/v1/token"} 1
oic_auth_zone_entries{zone="oic",type="cache"} 1
oic_auth_zone_entries{zone="oic_auth_iam_guard",type="guard"} 2
oic_auth_zone_entries{zone="oic_auth_metrics",type="metrics"} 3
_EOM_
--- no_error_log
[error]



=== TEST 11: the protection states over 4 workers, counted as the answers said: a token in its refresh window (UPDATING while IAM takes 2 s); 4 requests at once for a client IAM takes 300 ms for (1 MISS, the others WAIT for that call); 6 new clients for 2 connections to IAM (calls of 1 s, a wait of 2.5 s at most: some get 503 iam_busy, a call not made for each); a token whose refreshes fail (UPDATING, STALE, then after its end 502s, local ones while the backoff runs)
--- init
main::short('app1', { expires_in_raw => '12' }, { expires_in_raw => '12', delay_ms => 2000 });
main::short($_, { delay_ms => 1000 }) for qw(app2 app3 app4 app5 app6 app7);
main::short('app8', { expires_in_raw => '6' }, { status => 500 });
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_refresh_margin 9s;
        oic_auth_iam_connections 2;
        oic_auth_iam_rate off;
        oic_auth_timeout 2500ms;
        add_header X-Cache $oic_auth_cache_status always;
        add_header X-Error $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
        location /api/stale {
            oic_auth_refresh_margin 4s;
            proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
        }
    }
    location = /metrics {
        oic_auth_metrics;
    }
--- request eval
[main::paced(n => 30, interval_ms => 200, client => 'app1', auth => main::auth('app1')),
 main::paced(path => '/api/stale', n => 40, interval_ms => 200, client => 'app8', auth => main::auth('app8')),
 main::paced(n => 4, conc => 4, client => 'lag-app', auth => main::auth('lag-app')),
 main::paced(n => 6, conc => 6, client => [qw(app2 app3 app4 app5 app6 app7)],
             auth => [map { main::auth($_) } qw(app2 app3 app4 app5 app6 app7)]),
 "GET /metrics"]
--- response_body_filters eval
main::mstates()
--- response_body_like eval
[qr/^200\/HIT\/-=\d+ 200\/MISS\/-=1 200\/UPDATING\/-=\d+$/,
 qr/^(?:200\/HIT\/-=\d+ )?200\/MISS\/-=1 200\/STALE\/-=\d+ 200\/UPDATING\/-=\d+ 502\/-\/iam_unavailable=\d+(?: 502\/[A-Z]+\/iam_unavailable=\d+)*$/,
 qr/^200\/MISS\/-=1 200\/WAIT\/-=3$/,
 qr/^200\/MISS\/-=[2-4] 503\/-\/iam_busy=[2-4]$/,
 qr/^cache=FAILED:\d+,HIT:\d+,MISS:\d+,STALE:\d+,UPDATING:\d+,WAIT:3 as the answers: yes allowed as the answers: yes iam_busy as the answers: yes backoff as the answers: yes$/]
--- timeout: 30



=== TEST 12: nginx -t: with oic_auth_metrics, no other zone may be called oic_auth_metrics
--- http_config
    oic_auth_limit_zone oic_auth_metrics:1m rate=1r/s;
--- config
    location = /metrics {
        oic_auth_metrics;
    }
--- must_die
--- error_log
zone name "oic_auth_metrics" is reserved by "oic_auth_metrics"
