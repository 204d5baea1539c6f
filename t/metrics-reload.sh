#!/usr/bin/env bash
# oic_auth_metrics across `nginx -s reload` (issue #10): the counts of the
# workers before a reload are kept by the new ones, summed over 4 workers,
# exactly; a request an old worker still serves when the reload comes is
# counted in the same counters; the reload itself counts nothing. A reload
# without the metrics location drops the counters (nothing is counted
# meanwhile, the module goes on working), one with it again starts from 0.
# Real nginx (master + 4 workers), the mock IAM and OIC; t/inc/metrics.sh.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/t/inc/metrics.sh"

metrics_conf 4
metrics_start
traffic "round 1" "200 200 429"

# app3: 2 allowed, a wrong secret (IAM says invalid_client); app4: 2 passed
# and 1 rejected by the limit, each after its token lookup; bearer: the HR
# token allowed, the IT one refused for its scope, a.b.c malformed; alice
# exchanged twice (the second a hit, her signature known as verified since
# bearer checked it). Misses: app3, app3:wrong, app4, alice. The zone holds
# those 4 answers, the JWKS and 2 verified signatures; the metrics zone 6
# groups (the global one, the cache zone, the token endpoint, the JWKS URI,
# its document in the zone, the limit zone).
round1='oic_auth_requests_total{mode="basic",outcome="allowed",error=""} 4
oic_auth_requests_total{mode="basic",outcome="401",error="invalid_client"} 1
oic_auth_requests_total{mode="basic",outcome="429",error="rate_limited"} 1
oic_auth_requests_total{mode="bearer",outcome="allowed",error=""} 1
oic_auth_requests_total{mode="bearer",outcome="401",error="invalid_token"} 1
oic_auth_requests_total{mode="bearer",outcome="403",error="insufficient_scope"} 1
oic_auth_requests_total{mode="exchange",outcome="allowed",error=""} 2
oic_auth_bearer_refusals_total{mode="bearer",reason="malformed"} 1
oic_auth_bearer_refusals_total{mode="bearer",reason="scope"} 1
oic_auth_token_cache_lookups_total{zone="tokens",result="hit"} 4
oic_auth_token_cache_lookups_total{zone="tokens",result="miss"} 4
oic_auth_verified_cache_lookups_total{zone="tokens",result="hit"} 2
oic_auth_verified_cache_lookups_total{zone="tokens",result="miss"} 2
oic_auth_iam_requests_total{endpoint="PORT/oauth2/v1/token",outcome="ok"} 3
oic_auth_iam_requests_total{endpoint="PORT/oauth2/v1/token",outcome="invalid_client"} 1
oic_auth_iam_request_duration_seconds_count{endpoint="PORT/oauth2/v1/token"} 4
oic_auth_jwks_requests_total{endpoint="PORT/metrics-tenant/discovery/v2.0/keys",outcome="ok"} 1
oic_auth_jwks_request_duration_seconds_count{endpoint="PORT/metrics-tenant/discovery/v2.0/keys"} 1
oic_auth_jwks_keys{zone="tokens",endpoint="PORT/metrics-tenant/discovery/v2.0/keys"} 3
oic_auth_limit_requests_total{zone="perclient",outcome="passed"} 2
oic_auth_limit_requests_total{zone="perclient",outcome="rejected"} 1
oic_auth_zone_entries{zone="tokens",type="cache"} 7
oic_auth_zone_entries{zone="perclient",type="limit"} 1
oic_auth_zone_entries{zone="oic_auth_iam_guard",type="guard"} 3
oic_auth_zone_entries{zone="oic_auth_metrics",type="metrics"} 6'
check "round 1: the values, over 4 workers" "$round1" "$(values)"

# a reload while slow-app's token call (2 s) runs in an old worker
code -u "slow-app:$(secret_of slow-app)" "$u/basic/slow" >"$work/slow" &
slow=$!
sleep 0.5
check "reload 1: new workers" 0 "$(metrics_reload; echo $?)"
wait "$slow"
check "the old worker answered the slow request" 200 "$(cat "$work/slow")"

# the reload counted nothing; the old worker's answer is counted, once
with_slow=$(sed -e 's/\(mode="basic",outcome="allowed",error=""}\) 4/\1 5/' \
                -e 's/\(result="miss"}\) 4/\1 5/' \
                -e 's/\(outcome="ok"}\) 3/\1 4/' \
                -e 's/\(duration_seconds_count{endpoint="PORT\/oauth2\/v1\/token"}\) 4/\1 5/' \
                -e 's/\(type="cache"}\) 7/\1 8/' <<<"$round1")
check "after reload 1: the counts kept, the old worker's request counted" "$with_slow" "$(values)"

traffic "round 2" "429 429 429"

# round 2 adds: every token of round 1 a hit (app3 twice, app4 thrice,
# alice twice), the wrong secret refused from the zone (a call not made),
# all 4 signatures known as verified, 3 rejections by the limit
round2='oic_auth_requests_total{mode="basic",outcome="allowed",error=""} 7
oic_auth_requests_total{mode="basic",outcome="401",error="invalid_client"} 2
oic_auth_requests_total{mode="basic",outcome="429",error="rate_limited"} 4
oic_auth_requests_total{mode="bearer",outcome="allowed",error=""} 2
oic_auth_requests_total{mode="bearer",outcome="401",error="invalid_token"} 2
oic_auth_requests_total{mode="bearer",outcome="403",error="insufficient_scope"} 2
oic_auth_requests_total{mode="exchange",outcome="allowed",error=""} 4
oic_auth_bearer_refusals_total{mode="bearer",reason="malformed"} 2
oic_auth_bearer_refusals_total{mode="bearer",reason="scope"} 2
oic_auth_token_cache_lookups_total{zone="tokens",result="hit"} 11
oic_auth_token_cache_lookups_total{zone="tokens",result="miss"} 5
oic_auth_token_cache_lookups_total{zone="tokens",result="negative"} 1
oic_auth_verified_cache_lookups_total{zone="tokens",result="hit"} 6
oic_auth_verified_cache_lookups_total{zone="tokens",result="miss"} 2
oic_auth_iam_requests_total{endpoint="PORT/oauth2/v1/token",outcome="ok"} 4
oic_auth_iam_requests_total{endpoint="PORT/oauth2/v1/token",outcome="invalid_client"} 1
oic_auth_iam_request_duration_seconds_count{endpoint="PORT/oauth2/v1/token"} 5
oic_auth_iam_requests_not_made_total{endpoint="PORT/oauth2/v1/token",reason="negative"} 1
oic_auth_jwks_requests_total{endpoint="PORT/metrics-tenant/discovery/v2.0/keys",outcome="ok"} 1
oic_auth_jwks_request_duration_seconds_count{endpoint="PORT/metrics-tenant/discovery/v2.0/keys"} 1
oic_auth_jwks_keys{zone="tokens",endpoint="PORT/metrics-tenant/discovery/v2.0/keys"} 3
oic_auth_limit_requests_total{zone="perclient",outcome="passed"} 2
oic_auth_limit_requests_total{zone="perclient",outcome="rejected"} 4
oic_auth_zone_entries{zone="tokens",type="cache"} 8
oic_auth_zone_entries{zone="perclient",type="limit"} 1
oic_auth_zone_entries{zone="oic_auth_iam_guard",type="guard"} 3
oic_auth_zone_entries{zone="oic_auth_metrics",type="metrics"} 6'
check "round 2, after the reload: the exact sums" "$round2" "$(values)"

metrics_reload
check "reload 2, same configuration: the counts unchanged" "$round2" "$(values)"

# without the metrics location: no counters, the module works as before
metrics_conf 4 ""
check "reload 3, without the metrics location: new workers" 0 "$(metrics_reload; echo $?)"
check "reload 3: no metrics location" 404 "$(code "$u/metrics")"
traffic "round 3" "429 429 429"

# with it again: a new metrics zone, from 0 (a counter reset to Prometheus);
# the JWKS gauges too, until the next fetch (the JWKS is still in the cache)
metrics_conf 4
check "reload 4, with the metrics location again: new workers" 0 "$(metrics_reload; echo $?)"
check "reload 4: app3 allowed" 200 "$(code -u "app3:$app3" "$u/basic/x")"
check "reload 4: the counters start from 0" \
'oic_auth_requests_total{mode="basic",outcome="allowed",error=""} 1
oic_auth_token_cache_lookups_total{zone="tokens",result="hit"} 1
oic_auth_zone_entries{zone="tokens",type="cache"} 8
oic_auth_zone_entries{zone="perclient",type="limit"} 1
oic_auth_zone_entries{zone="oic_auth_iam_guard",type="guard"} 3
oic_auth_zone_entries{zone="oic_auth_metrics",type="metrics"} 6' "$(values)"

metrics_done
