#!/usr/bin/env bash
# The answer of oic_auth_metrics passes Prometheus' own `promtool check
# metrics` (Debian package prometheus): the text format parses, every family
# has HELP and TYPE, the lint finds nothing (counters end in _total, base
# units...). Checked after traffic through every mode (so that every family
# has values, the histograms too), and on an nginx that has seen no request.
# promtool is first shown to fail on a broken answer, so that a pass means
# something. Real nginx (master + 2 workers), the mock IAM and OIC;
# t/inc/metrics.sh.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
command -v promtool >/dev/null || { echo "not ok - promtool (apt-get install prometheus, or: make deps)"; exit 1; }
. "$top/t/inc/metrics.sh"

promcheck() { promtool check metrics 2>&1; echo "rc=$?"; }

check "promtool refuses a counter without _total" 1 \
    "$(printf '# HELP a x\n# TYPE a counter\na 1\n' | promcheck | grep -c '_total')"
check "promtool refuses a broken line" 1 \
    "$(printf 'a{b="1} 1\n' | promcheck | grep -c '^rc=[1-9]')"

metrics_conf 2
metrics_start
check "no request yet: promtool check metrics" "rc=0" "$(scrape | promcheck)"

traffic "round 1" "200 200 429"
traffic "round 2" "429 429 429"
scrape >"$work/metrics.txt"

check "after traffic: promtool check metrics" "rc=0" "$(promcheck <"$work/metrics.txt")"
# (no JWKS fetch is held back and no zone is full here)
check "every family has a value" "" "$(
    awk '/^# TYPE / { t[$3] = 1 } !/^#/ { n = $1; sub(/[{ ].*/, "", n);
         sub(/_(bucket|sum|count)$/, "", n); if ($NF != "0") v[n] = 1 }
         END { for (f in t) if (!(f in v)) print f }' "$work/metrics.txt" |
    grep -v -x -E 'oic_auth_jwks_requests_not_made_total|oic_auth_zone_evictions_total' | sort)"
check "the content type" "text/plain; version=0.0.4; charset=utf-8" \
    "$(curl -s -o /dev/null -w '%{content_type}' "$u/metrics")"

# the PromQL of README "Monitoring" and of conf/grafana-dashboard.json: it
# parses (promtool check rules, as recording rules), and every metric it
# names is in the answer
node - "$top/README.md" "$top/conf/grafana-dashboard.json" >"$work/rules.yml" <<'JS'
const fs = require('fs');
const [readme, dash] = process.argv.slice(2);
const out = [];
for (const p of JSON.parse(fs.readFileSync(dash, 'utf8')).panels)
    for (const t of p.targets) out.push(t.expr);
const text = fs.readFileSync(readme, 'utf8');
const block = /```promql\n([\s\S]*?)```/.exec(text.slice(text.indexOf('\n## Monitoring\n')))[1];
for (const line of block.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    if (/^\s/.test(line)) out[out.length - 1] += '\n' + line; else out.push(line);
}
const rules = out.map((e, i) => ({
    record: 'oic_auth:query' + i,
    expr: e.replace(/\$__rate_interval/g, '5m').replace(/\$instance/g, '.*'),
}));
console.log(JSON.stringify({ groups: [{ name: 'oic_auth', rules }] }, null, 1));
JS
check "the queries of the README and the dashboard: more than 15" yes \
    "$([ "$(grep -c '"record"' "$work/rules.yml")" -gt 15 ] && echo yes || echo no)"
check "they parse (promtool check rules)" 0 "$(promtool check rules "$work/rules.yml" >"$work/rules.out" 2>&1; echo $?)"
check "every metric they name is answered" "" "$(
    grep -o -E 'oic_auth_[a-z_]+' "$work/rules.yml" | sort -u |
    while read -r m; do grep -q -E "^$m[{ ]" "$work/metrics.txt" || echo "$m"; done)"

metrics_done
