#!/usr/bin/env bash
# Self-test of the mock IAM / Entra / OIC (t/mock/idp.js).
#   t/mock/selftest.sh [CERTS_DIR]      (default build/certs)
# Prints PASS/FAIL per check and "N passed, N failed"; exits non-zero on any failure.
# Needs: bash, curl, node, openssl.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CERTS=${1:-$ROOT/build/certs}
CLIENTS=$HERE/clients.json
bash "$HERE/gen-certs.sh" "$CERTS" || { echo "FAIL gen-certs"; exit 1; }
CERTS=$(cd "$CERTS" && pwd)

W=$(mktemp -d)
node "$HERE/idp.js" --certs "$CERTS" --clients "$CLIENTS" >"$W/ports" 2>"$W/stderr" &
MOCK=$!
cleanup() { kill "$MOCK" 2>/dev/null; wait "$MOCK" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
for _ in $(seq 100); do [ -s "$W/ports" ] && break; sleep 0.1; done
[ -s "$W/ports" ] || { echo "FAIL mock did not print its ports"; cat "$W/stderr"; exit 1; }
PORTS=$(head -1 "$W/ports")
js() { node -e "$1" "${@:2}"; }
P_IAM=$(js 'console.log(JSON.parse(process.argv[1]).iam)' "$PORTS")
P_IAMS=$(js 'console.log(JSON.parse(process.argv[1]).iams)' "$PORTS")
P_OIC=$(js 'console.log(JSON.parse(process.argv[1]).oic)' "$PORTS")
IAM=http://127.0.0.1:$P_IAM
IAMS=https://127.0.0.1:$P_IAMS
OIC=http://127.0.0.1:$P_OIC
SCOPE='https://oic-test.integration.us-phoenix-1.ocp.oraclecloud.com:443urn:opc:resource:consumer::all'
SCOPE_API='https://oic-test.integration.us-phoenix-1.ocp.oraclecloud.com:443/ic/api/'
echo "# mock: $PORTS"

PASS=0 FAIL=0
ok()  { echo "PASS $1"; PASS=$((PASS + 1)); }
bad() { echo "FAIL $1${2:+: $2}"; FAIL=$((FAIL + 1)); }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name" "status=$ST rc=$RC body=$(head -c 300 "$W/body")"; fi; }

# req CURL-ARGS... : ST = status, RC = curl exit code, body in $W/body, headers in $W/hdr
req() { ST=$(curl -s -o "$W/body" -D "$W/hdr" -w '%{http_code}' --max-time 20 "$@"); RC=$?; }
# jget 'EXPR on j' [file]: evaluate a JS expression on the JSON body
jget() { node -e 'const fs=require("fs");let j;try{j=JSON.parse(fs.readFileSync(process.argv[2],"utf8"))}catch(e){j=undefined};const v=eval(process.argv[1]);process.stdout.write(v===undefined?"undefined":typeof v==="string"?v:JSON.stringify(v))' "$1" "${2:-$W/body}"; }
hdr() { grep -i "^$1:" "$W/hdr" | head -1 | cut -d: -f2- | tr -d '\r' | sed 's/^ *//'; }
secret() { node -e 'const c=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));process.stdout.write(c.clients.find(x=>x.id===process.argv[2]).secret)' "$CLIENTS" "$1"; }
# RFC 6749 2.3.1: form-urlencode id and secret, then base64
basic() { node -e 'const f=s=>new URLSearchParams({a:s}).toString().slice(2);process.stdout.write("Basic "+Buffer.from(f(process.argv[1])+":"+f(process.argv[2])).toString("base64"))' "$1" "$2"; }
token() { local id=$1; shift; req -X POST "$IAM/oauth2/v1/token" -H "Authorization: $(basic "$id" "$(secret "$id")")" "$@"; }
cc() { local id=$1; shift; token "$id" --data-urlencode grant_type=client_credentials --data-urlencode "scope=$SCOPE" "$@"; }
post_json() { req -X POST -H 'Content-Type: application/json' --data-binary "$2" "$IAM$1"; }
is() { [ "$1" = "$2" ] || { echo "#   got '$1', want '$2'" >&2; return 1; }; }
b64u() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

# verify TOKEN JWKS_FILE: checks the signature with the JWKS key of the header's kid (x5t first)
cat >"$W/verify.js" <<'EOF'
const fs = require('fs'), crypto = require('crypto');
const [tok, jwksFile] = process.argv.slice(2);
const [h, p, s] = tok.split('.');
const header = JSON.parse(Buffer.from(h, 'base64url'));
const keys = JSON.parse(fs.readFileSync(jwksFile, 'utf8')).keys;
const cand = keys.filter((k) => k.kid === header.kid && (!header.x5t || !k.x5t || k.x5t === header.x5t));
if (!cand.length) { console.error('no key for kid ' + header.kid); process.exit(1); }
const m = /^(RS|PS|ES)(256|384|512)$/.exec(header.alg);
if (!m) { console.error('alg ' + header.alg); process.exit(1); }
const ok = cand.some((jwk) => {
  const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
  const o = m[1] === 'RS' ? key : m[1] === 'PS' ? { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: m[2] / 8 } : { key, dsaEncoding: 'ieee-p1363' };
  return crypto.verify('sha' + m[2], Buffer.from(h + '.' + p), o, Buffer.from(s, 'base64url'));
});
process.exit(ok ? 0 : 1);
EOF
verify() { node "$W/verify.js" "$1" "$2"; }
claim() { node -e 'const p=JSON.parse(Buffer.from(process.argv[1].split(".")[1],"base64url"));const v=p[process.argv[2]];process.stdout.write(v===undefined?"undefined":typeof v==="string"?v:JSON.stringify(v))' "$1" "$2"; }
hclaim() { node -e 'const p=JSON.parse(Buffer.from(process.argv[1].split(".")[0],"base64url"));const v=p[process.argv[2]];process.stdout.write(v===undefined?"undefined":typeof v==="string"?v:JSON.stringify(v))' "$1" "$2"; }
curl -s "$IAM/admin/v1/SigningCert/jwk" >"$W/iam-jwks.json"

# ------------------------------------------------------------ client_credentials
cc legacy-app
TOK=$(jget j.access_token)
check "cc: legacy-app (secret with : % + / ~ ö space) -> 200" is "$ST" 200
check "cc: token_type Bearer, expires_in 3600" is "$(jget 'j.token_type+" "+j.expires_in')" "Bearer 3600"
check "cc: Cache-Control no-store" is "$(hdr Cache-Control)" no-store
check "cc: JWT signature verifies against the IAM JWKS" verify "$TOK" "$W/iam-jwks.json"
check "cc: header kid SIGNING_KEY + x5t + x5t#S256" is "$(hclaim "$TOK" kid)/$(hclaim "$TOK" alg)/$([ -n "$(hclaim "$TOK" 'x5t#S256')" ] && echo y)" "SIGNING_KEY/RS256/y"
check "cc: claims sub/sub_type/scope/iss" is "$(claim "$TOK" sub) $(claim "$TOK" sub_type) $(claim "$TOK" scope) $(claim "$TOK" iss)" \
  "legacy-app client urn:opc:resource:consumer::all https://identity.oraclecloud.com/"
check "cc: aud array with the OIC audience" is "$(claim "$TOK" aud | node -e 'process.stdout.write(String(JSON.parse(require("fs").readFileSync(0))[0]))')" \
  "https://oic-test.integration.us-phoenix-1.ocp.oraclecloud.com:443"
check "cc: exp = iat + 3600" is "$(( $(claim "$TOK" exp) - $(claim "$TOK" iat) ))" 3600
JTI1=$(claim "$TOK" jti); cc legacy-app
check "cc: jti unique per token" test "$JTI1" != "$(claim "$(jget j.access_token)" jti)"
token finance-app --data-urlencode grant_type=client_credentials --data-urlencode "scope=$SCOPE $SCOPE_API"
check "cc: two scopes -> scope claim has both" is "$(claim "$(jget j.access_token)" scope)" "urn:opc:resource:consumer::all /ic/api/"
req -X POST "$IAM/oauth2/v1/token" --data-urlencode grant_type=client_credentials --data-urlencode "scope=$SCOPE" \
  --data-urlencode client_id=post-app --data-urlencode "client_secret=$(secret post-app)"
check "cc: client_secret_post -> 200" is "$ST" 200
req -X POST "$IAM/oauth2/v1/token" -H "Authorization: Basic $(printf '%s' "legacy-app:$(secret legacy-app)" | base64 -w0)" \
  --data-urlencode grant_type=client_credentials --data-urlencode "scope=$SCOPE"
check "cc: secret not form-urlencoded inside Basic -> 401" is "$ST" 401

token hr-app --data-urlencode grant_type=client_credentials
check "missing scope -> 400 invalid_scope" is "$ST/$(jget j.error)/$(jget j.error_description)" "400/invalid_scope/Required scope missing"
req -X POST "$IAM/oauth2/v1/token" -H "Authorization: $(basic hr-app wrong)" --data-urlencode grant_type=client_credentials --data-urlencode "scope=$SCOPE"
check "wrong secret -> 401 invalid_client" is "$ST/$(jget j.error)/$(jget j.error_description)" "401/invalid_client/Client authentication failed."
check "wrong secret: WWW-Authenticate Basic, ecid" is "$(hdr WWW-Authenticate | cut -c1-5)/$(jget 'typeof j.ecid')" "Basic/string"
req -X POST "$IAM/oauth2/v1/token" -H "Authorization: $(basic nobody x)" --data-urlencode grant_type=client_credentials --data-urlencode "scope=$SCOPE"
check "unknown client -> 401 invalid_client" is "$ST/$(jget j.error)" "401/invalid_client"
cc other-scope-app
check "scope not allowed -> 400 unauthorized_client" is "$ST/$(jget j.error)/$(jget j.error_description)" "400/unauthorized_client/Client authorization failed."
token it-app --data-urlencode grant_type=client_credentials --data-urlencode "scope=urn:nothing"
check "unknown scope -> 400 invalid_scope" is "$ST/$(jget j.error)" "400/invalid_scope"
token it-app --data-urlencode grant_type=password --data-urlencode "scope=$SCOPE"
check "unsupported grant -> 400 unsupported_grant_type" is "$ST/$(jget j.error)" "400/unsupported_grant_type"
token it-app --data-urlencode grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer --data-urlencode "scope=$SCOPE" --data-urlencode assertion=x
check "grant not allowed for client -> 400 unauthorized_client" is "$ST/$(jget j.error)" "400/unauthorized_client"
req -X POST "$IAM/oauth2/v1/token" -H "Authorization: $(basic it-app "$(secret it-app)")" -H 'Content-Type: application/json' -d '{}'
check "JSON body -> 400 invalid_request" is "$ST/$(jget j.error)" "400/invalid_request"

# ------------------------------------------------------------ fault clients
t0=$(date +%s%N); cc slow-app; t1=$(date +%s%N)
check "slow-app answers 200 after >= 2 s" test "$ST" = 200 -a $(( (t1 - t0) / 1000000 )) -ge 1950
t0=$(date +%s%N); cc lag-app; t1=$(date +%s%N)
check "lag-app answers 200 after >= 300 ms" test "$ST" = 200 -a $(( (t1 - t0) / 1000000 )) -ge 290
cc err500-app; check "err500-app -> 500" is "$ST" 500
cc err503-app; check "err503-app -> 503" is "$ST" 503
cc rate-app;   check "rate-app -> 429 + Retry-After: 1" is "$ST/$(hdr Retry-After)" "429/1"
cc malformed-app; check "malformed-app -> 200, body not JSON" is "$ST/$(jget 'j===undefined')" "200/true"
cc html-app; check "html-app -> 200 text/html" is "$ST/$(hdr Content-Type)" "200/text/html"
cc notoken-app; check "notoken-app -> 200 without access_token" is "$ST/$(jget 'j.access_token')" "200/undefined"
cc tokennum-app; check "tokennum-app -> access_token is a number" is "$(jget 'typeof j.access_token')" number
cc empty-body-app; check "empty-body-app -> 200, empty body" is "$ST/$(stat -c %s "$W/body")" "200/0"
cc oversized-app; check "oversized-app -> 200, ~2 MB valid JSON" test "$ST" = 200 -a "$(stat -c %s "$W/body")" -ge 2000000 -a "$(jget 'typeof j.access_token')" = string
cc drop-app; check "drop-app -> connection closed without answer (curl 52)" is "$RC" 52
cc partial-app; check "partial-app -> truncated answer (curl 18)" is "$RC" 18
for c in exp-missing-app:undefined exp-zero-app:0 exp-neg-app:-5 exp-abc-app:abc exp-huge-app:1000000000000 exp-short-app:30 exp-frac-app:3600.5 exp-string-app:3600; do
  id=${c%%:*} want=${c#*:}
  cc "$id"; check "$id -> expires_in $(grep -o '"expires_in":[^,}]*' "$W/body" || echo missing)" is "$ST/$(jget j.expires_in)" "200/$want"
done
cc exp-huge-app; check "exp-huge-app: raw text 1e12" grep -q '"expires_in":1e12' "$W/body"
cc exp-string-app; check "exp-string-app: a JSON string" grep -q '"expires_in":"3600"' "$W/body"
cc exp-short-app; T=$(jget j.access_token); check "exp-short-app: exp = iat + 30" is "$(( $(claim "$T" exp) - $(claim "$T" iat) ))" 30
cc exp-huge-app; T=$(jget j.access_token); check "exp-huge-app: exp = iat + 3600" is "$(( $(claim "$T" exp) - $(claim "$T" iat) ))" 3600
cc mac-app; check "mac-app -> token_type mac" is "$(jget j.token_type)" mac
cc bearer-lc-app; check "bearer-lc-app -> token_type bearer" is "$(jget j.token_type)" bearer
cc flaky-503-app; A=$ST; cc flaky-503-app; check "flaky-503-app: first 200 (expires_in 65), then 503" is "$A/$ST" "200/503"
post_json /_test/iam/behavior '{"client":"app8","behavior":{"status":503}}'; cc app8; A=$ST
post_json /_test/iam/behavior '{"client":"app8","behavior":null}'; cc app8
check "runtime behavior override on app8: 503, then restored 200" is "$A/$ST" "503/200"

# ------------------------------------------------------------ HTTPS
req --cacert "$CERTS/ca.pem" -X POST "$IAMS/oauth2/v1/token" -H "Authorization: $(basic hr-app "$(secret hr-app)")" \
  --data-urlencode grant_type=client_credentials --data-urlencode "scope=$SCOPE"
check "HTTPS with ca.pem -> 200" is "$ST" 200
req --cacert "$CERTS/ca.pem" "https://localhost:$P_IAMS/admin/v1/SigningCert/jwk"
check "HTTPS by name localhost (SAN DNS) -> 200" is "$ST" 200
req --cacert "$CERTS/other-ca.pem" "$IAMS/admin/v1/SigningCert/jwk"
check "HTTPS with other-ca.pem -> TLS verification failure (curl 60)" is "$RC" 60

# ------------------------------------------------------------ discovery
req "$IAM/.well-known/openid-configuration"
check "IAM discovery: issuer, token_endpoint, jwks_uri" is "$(jget 'j.issuer+" "+j.token_endpoint+" "+j.jwks_uri')" \
  "https://identity.oraclecloud.com/ $IAM/oauth2/v1/token $IAM/admin/v1/SigningCert/jwk"
check "IAM JWKS: kid SIGNING_KEY, RSA, use sig, alg RS256" is "$(jget 'j.keys.map(k=>[k.kid,k.kty,k.use,k.alg,!!k.x5t,!!k.n].join()).join(" ")' "$W/iam-jwks.json")" "SIGNING_KEY,RSA,sig,RS256,true,true"

# ------------------------------------------------------------ Entra
curl -s "$IAM/t-self/discovery/v2.0/keys" >"$W/e2.json"
curl -s "$IAM/t-self/discovery/keys" >"$W/e1.json"
check "Entra JWKS v2: 2 RSA keys (x5t = kid, x5c) + 1 EC key, issuer on keys" is \
  "$(jget 'j.keys.filter(k=>k.kty==="RSA"&&k.x5t===k.kid&&k.x5c.length===1).length+"/"+j.keys.filter(k=>k.kty==="EC").length+"/"+j.keys.every(k=>k.issuer==="https://login.microsoftonline.com/t-self/v2.0")' "$W/e2.json")" "2/1/true"
check "Entra JWKS v1: same keys, no issuer" is "$(jget 'j.keys.length+"/"+j.keys.some(k=>k.issuer)' "$W/e1.json")" "3/false"
K1=$(jget 'j.keys[0].x5c[0]' "$W/e2.json")
check "Entra x5c is a certificate whose SHA-1 thumbprint is the kid" is \
  "$(printf '%s' "$K1" | base64 -d | openssl dgst -sha1 -binary | b64u)" "$(jget 'j.keys[0].kid' "$W/e2.json")"
post_json /_test/entra/t-self/mint '{}'; T2=$(jget j.token)
check "Entra mint v2: verifies against JWKS" verify "$T2" "$W/e2.json"
check "Entra mint v2: iss/ver/scp/preferred_username" is "$(claim "$T2" iss) $(claim "$T2" ver) $(claim "$T2" scp) $(claim "$T2" preferred_username)" \
  "https://login.microsoftonline.com/t-self/v2.0 2.0 oic_api_HR alice@example.com"
post_json /_test/entra/t-self/mint '{"ver":"1.0","user":"bob@example.com","claims":{"scp":"a b","oid":null}}'; T1=$(jget j.token)
check "Entra mint v1: iss/upn/unique_name, overrides, null deletes" is "$(claim "$T1" iss) $(claim "$T1" upn) $(claim "$T1" unique_name) $(claim "$T1" scp) $(claim "$T1" oid)" \
  "https://sts.windows.net/t-self/ bob@example.com bob@example.com a b undefined"
check "Entra mint v1: verifies" verify "$T1" "$W/e1.json"
post_json /_test/entra/t-self/mint '{"alg":"ES256"}'; T=$(jget j.token)
check "Entra mint ES256 with the tenant EC key verifies" verify "$T" "$W/e2.json"
post_json /_test/entra/t-self/mint '{"alg":"PS256"}'; T=$(jget j.token)
check "Entra mint PS256 verifies, header alg PS256" test "$(hclaim "$T" alg)" = PS256 -a -n "$(verify "$T" "$W/e2.json" && echo y)"
post_json /_test/entra/t-self/mint '{"unsigned":true}'; T=$(jget j.token)
check "Entra mint unsigned: alg none, empty signature" is "$(hclaim "$T" alg)/${T##*.}" "none/"
post_json /_test/entra/t-self/mint '{"hmac_with_public_key":true}'; T=$(jget j.token)
KID=$(hclaim "$T" kid)
HM=$(node -e 'const c=require("crypto"),fs=require("fs");const [t,f]=process.argv.slice(1);const h=JSON.parse(Buffer.from(t.split(".")[0],"base64url"));const k=JSON.parse(fs.readFileSync(f)).keys.find(k=>k.kid===h.kid);const pem=c.createPublicKey({key:k,format:"jwk"}).export({type:"spki",format:"pem"});process.stdout.write(c.createHmac("sha256",pem).update(t.split(".").slice(0,2).join(".")).digest("base64url"))' "$T" "$W/e2.json")
check "Entra mint hmac_with_public_key: HS256 keyed with the SPKI PEM text of the public key" is "$(hclaim "$T" alg)/$HM" "HS256/${T##*.}"
post_json /_test/entra/t-self/mint "{\"signature_from\":\"$T2\"}"; T=$(jget j.token)
check "Entra mint signature_from: carries the other token's signature" is "${T##*.}" "${T2##*.}"
post_json /_test/entra/t-self/mint '{"raw_payload":"{\"sub\":\"a\",\"sub\":\"b\"}"}'; T=$(jget j.token)
check "Entra mint raw_payload: exact JSON text, still signed" test "$(printf '%s' "$T" | cut -d. -f2 | tr '_-' '/+' | base64 -d 2>/dev/null)" = '{"sub":"a","sub":"b"}' -a -n "$(verify "$T" "$W/e2.json" && echo y)"
post_json /_test/entra/t-self/mint '{"sign_with":"foreign"}'; T=$(jget j.token)
check "Entra mint sign_with foreign: kid unknown to the JWKS" bash -c "! node '$W/verify.js' '$T' '$W/e2.json' 2>/dev/null"
post_json /_test/entra/t-self/mint "{\"sign_with\":\"foreign\",\"header\":{\"kid\":\"$KID\",\"x5t\":\"$KID\"}}"; T=$(jget j.token)
check "Entra mint foreign key under a real kid: signature fails" bash -c "! node '$W/verify.js' '$T' '$W/e2.json'"
post_json /_test/entra/t-self/mint '{"app_only":true}'; T=$(jget j.token)
check "Entra mint app_only: roles, no scp/upn" is "$(claim "$T" roles)/$(claim "$T" scp)/$(claim "$T" preferred_username)" '["OIC.Invoke"]/undefined/undefined'

# rotation
post_json /_test/entra/t-rot/rotate '{"add":1}'; NEW=$(jget j.kid)
curl -s "$IAM/t-rot/discovery/v2.0/keys" >"$W/r.json"
check "rotate add: new kid in JWKS (3 RSA)" is "$(jget "j.keys.filter(k=>k.kty==='RSA').length+'/'+j.keys.some(k=>k.kid==='$NEW')" "$W/r.json")" "3/true"
post_json /_test/entra/t-rot/mint "{\"kid\":\"$NEW\"}"; T=$(jget j.token)
check "mint with the new kid verifies" verify "$T" "$W/r.json"
post_json /_test/entra/t-rot/rotate "{\"remove\":\"$NEW\"}"
curl -s "$IAM/t-rot/discovery/v2.0/keys" >"$W/r.json"
check "rotate remove: kid gone from JWKS" is "$(jget "j.keys.some(k=>k.kid==='$NEW')" "$W/r.json")" false
post_json /_test/entra/t-rot/rotate '{"add":1,"hidden":true}'; HID=$(jget j.kid)
curl -s "$IAM/t-rot/discovery/v2.0/keys" >"$W/r.json"
A=$(jget "j.keys.some(k=>k.kid==='$HID')" "$W/r.json")
post_json /_test/entra/t-rot/rotate "{\"publish\":\"$HID\"}"
curl -s "$IAM/t-rot/discovery/v2.0/keys" >"$W/r.json"
check "rotate hidden then publish" is "$A/$(jget "j.keys.some(k=>k.kid==='$HID')" "$W/r.json")" "false/true"

# JWKS faults
post_json /_test/entra/t-fault/jwks_fault '{"mode":"status","status":503}'; req "$IAM/t-fault/discovery/v2.0/keys"
check "jwks_fault status 503" is "$ST" 503
post_json /_test/entra/t-fault/jwks_fault '{"mode":"malformed"}'; req "$IAM/t-fault/discovery/v2.0/keys"
check "jwks_fault malformed: 200, not JSON" is "$ST/$(jget 'j===undefined')" "200/true"
post_json /_test/entra/t-fault/jwks_fault '{"mode":"delay","ms":400}'; t0=$(date +%s%N); req "$IAM/t-fault/discovery/v2.0/keys"; t1=$(date +%s%N)
check "jwks_fault delay 400 ms" test "$ST" = 200 -a $(( (t1 - t0) / 1000000 )) -ge 390
post_json /_test/entra/t-fault/jwks_fault '{"mode":"status","status":500,"times":1}'; req "$IAM/t-fault/discovery/keys"; A=$ST; req "$IAM/t-fault/discovery/keys"
check "jwks_fault times=1: one failure, then normal" is "$A/$ST" "500/200"
post_json /_test/iam/jwks_fault '{"mode":"auth"}'; req "$IAM/admin/v1/SigningCert/jwk"; A=$ST
req -H "Authorization: $(basic hr-app "$(secret hr-app)")" "$IAM/admin/v1/SigningCert/jwk"
check "IAM jwks_fault auth: 401 anonymous, 200 with client credentials" is "$A/$ST" "401/200"
post_json /_test/iam/jwks_fault '{"mode":"none"}'

# ------------------------------------------------------------ jwt-bearer (RFC 7523)
# assertion KEYFILE HEADER_JSON PAYLOAD_JSON -> JWT signed RS256 with openssl
assertion() {
  local h p
  h=$(printf '%s' "$2" | b64u); p=$(printf '%s' "$3" | b64u)
  printf '%s.%s.%s' "$h" "$p" "$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -sign "$1" -binary | b64u)"
}
NOW=$(date +%s)
PL() { printf '{"iss":"%s","sub":"%s","aud":%s,"iat":%d,"exp":%d,"jti":"%s"}' "${1:-exchange-app}" "${2:-alice@example.com}" "${3:-\"https://identity.oraclecloud.com/\"}" "$NOW" "$(( NOW + ${4:-300} ))" "$RANDOM$RANDOM"; }
jb() { token exchange-app --data-urlencode grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer --data-urlencode "assertion=$1" --data-urlencode "scope=$SCOPE"; }
jb "$(assertion "$CERTS/assertion.key" '{"alg":"RS256","typ":"JWT","kid":"oic-gw"}' "$(PL)")"
T=$(jget j.access_token)
check "jwt-bearer (kid oic-gw) -> 200" is "$ST" 200
check "jwt-bearer: user token sub alice, sub_type user, user_id, client_id" is "$(claim "$T" sub)/$(claim "$T" sub_type)/$([ -n "$(claim "$T" user_id)" ] && echo y)/$(claim "$T" client_id)" "alice@example.com/user/y/exchange-app"
check "jwt-bearer: user token verifies against IAM JWKS" verify "$T" "$W/iam-jwks.json"
X5T=$(openssl x509 -in "$CERTS/assertion.pem" -outform der | openssl dgst -sha1 -binary | b64u)
jb "$(assertion "$CERTS/assertion.key" "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"x5t\":\"$X5T\"}" "$(PL exchange-app bob@example.com '["oauth.idm.oracle.com"]')")"
check "jwt-bearer by x5t, aud array oauth.idm.oracle.com, bob -> 200" is "$ST/$(claim "$(jget j.access_token)" sub)" "200/bob@example.com"
jb "$(assertion "$CERTS/assertion.key" '{"alg":"RS256","kid":"oic-gw"}' "$(PL exchange-app carol@example.com '"https://identity.oraclecloud.com"')")"
check "jwt-bearer aud without trailing slash -> 200" is "$ST" 200
jb "$(assertion "$CERTS/unknown-assertion.key" '{"alg":"RS256","typ":"JWT","kid":"oic-gw"}' "$(PL)")"
check "jwt-bearer signed with unknown-assertion.key -> 400 invalid_grant" is "$ST/$(jget j.error)" "400/invalid_grant"
jb "$(assertion "$CERTS/assertion.key" '{"alg":"RS256","kid":"oic-gw"}' "$(PL someone-else)")"
check "jwt-bearer iss != client -> invalid_grant" is "$ST/$(jget j.error)" "400/invalid_grant"
jb "$(assertion "$CERTS/assertion.key" '{"alg":"RS256","kid":"oic-gw"}' "$(PL exchange-app mallory@example.com)")"
check "jwt-bearer unknown user -> invalid_grant" is "$ST/$(jget j.error)" "400/invalid_grant"
jb "$(assertion "$CERTS/assertion.key" '{"alg":"RS256","kid":"oic-gw"}' "$(PL exchange-app alice@example.com '"https://elsewhere/"')")"
check "jwt-bearer wrong aud -> invalid_grant" is "$ST/$(jget j.error)" "400/invalid_grant"
jb "$(assertion "$CERTS/assertion.key" '{"alg":"RS256","kid":"oic-gw"}' "$(PL exchange-app alice@example.com '"https://identity.oraclecloud.com/"' 7200)")"
check "jwt-bearer exp 2 h ahead -> invalid_grant" is "$ST/$(jget j.error)" "400/invalid_grant"
jb "$(assertion "$CERTS/assertion.key" '{"alg":"RS256","kid":"oic-gw"}' "$(PL exchange-app alice@example.com '"https://identity.oraclecloud.com/"' -10)")"
check "jwt-bearer expired -> invalid_grant" is "$ST/$(jget j.error)" "400/invalid_grant"
H=$(printf '{"alg":"HS256","kid":"oic-gw"}' | b64u); P=$(PL | b64u)
jb "$H.$P.$(printf '%s.%s' "$H" "$P" | openssl dgst -sha256 -hmac x -binary | b64u)"
check "jwt-bearer alg HS256 -> invalid_grant" is "$ST/$(jget j.error)" "400/invalid_grant"
jb "$(assertion "$CERTS/assertion.key" '{"alg":"RS256","kid":"oic-gw"}' "$(PL)")"; A=$ST
token exchange-app --data-urlencode grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer --data-urlencode "assertion=$(assertion "$CERTS/assertion.key" '{"alg":"RS256","kid":"oic-gw"}' "$(PL)")"
check "jwt-bearer without scope -> invalid_scope" is "$A/$ST/$(jget j.error)" "200/400/invalid_scope"

# ------------------------------------------------------------ token exchange (RFC 8693)
tx() { token exchange-app --data-urlencode grant_type=urn:ietf:params:oauth:grant-type:token-exchange --data-urlencode "subject_token=$1" \
  --data-urlencode subject_token_type=urn:ietf:params:oauth:token-type:jwt --data-urlencode requested_token_type=urn:ietf:params:oauth:token-type:access_token \
  --data-urlencode "scope=$SCOPE"; }
tx "$T2"
check "token exchange (Entra v2, preferred_username alice) -> 200" is "$ST/$(jget j.issued_token_type)/$(jget j.token_type)/$(claim "$(jget j.access_token)" sub)" \
  "200/urn:ietf:params:oauth:token-type:access_token/Bearer/alice@example.com"
tx "$T1"; check "token exchange (Entra v1, upn bob) -> 200" is "$ST/$(claim "$(jget j.access_token)" sub)" "200/bob@example.com"
post_json /_test/entra/t-self/mint '{"sign_with":"foreign"}'; tx "$(jget j.token)"
check "token exchange, foreign signature -> invalid_grant" is "$ST/$(jget j.error)" "400/invalid_grant"
post_json /_test/entra/t-self/mint '{"user":"mallory@example.com"}'; tx "$(jget j.token)"
check "token exchange, unknown user -> invalid_grant" is "$ST/$(jget j.error)" "400/invalid_grant"
post_json /_test/entra/t-self/mint '{"exp_in":-120}'; tx "$(jget j.token)"
check "token exchange, expired subject token -> invalid_grant" is "$ST/$(jget j.error)" "400/invalid_grant"
token exchange-app --data-urlencode grant_type=urn:ietf:params:oauth:grant-type:token-exchange --data-urlencode "scope=$SCOPE"
check "token exchange without subject_token -> invalid_request" is "$ST/$(jget j.error)" "400/invalid_request"

# ------------------------------------------------------------ mock OIC
cc hr-app; T=$(jget j.access_token)
req -X POST -H "Authorization: Bearer $T" -H 'X-Trace: 7' -H 'Content-Type: text/plain' --data-binary 'hello' "$OIC/ic/api/integration/v1/flows/rest/X/1.0/run?a=b"
check "OIC accepts an IAM token; echoes method/path/query/sub/headers/body length" is \
  "$ST $(jget 'j.method+" "+j.path+" "+j.query+" "+j.sub+" "+j.sub_type+" "+j.headers["x-trace"]+" "+j.headers["content-type"]+" "+j.body_length')" \
  "200 POST /ic/api/integration/v1/flows/rest/X/1.0/run a=b hr-app client 7 text/plain 5"
req "$OIC/x"; check "OIC without Authorization -> 401 invalid_token" is "$ST/$(jget j.error)/$(jget j.reason)" "401/invalid_token/missing"
req -H "Authorization: $(basic hr-app "$(secret hr-app)")" "$OIC/x"; check "OIC with Basic -> 401" is "$ST/$(jget j.reason)" "401/not_bearer"
req -H "Authorization: Bearer $T2" "$OIC/x"; check "OIC with an Entra token -> 401" is "$ST" 401
req "$IAM/_test/mint_iam?exp_in=-10"; req -H "Authorization: Bearer $(jget j.token)" "$OIC/x"
check "OIC with an expired IAM token -> 401 expired" is "$ST/$(jget j.reason)" "401/expired"
post_json /_test/iam/mint '{"sign_with":"foreign"}'; req -H "Authorization: Bearer $(jget j.token)" "$OIC/x"
check "OIC with a forged IAM token -> 401 signature" is "$ST/$(jget j.reason)" "401/signature"
req "$IAM/_test/mint_iam?aud=https://other.example:443"; req -H "Authorization: Bearer $(jget j.token)" "$OIC/x"
check "OIC with another audience -> 401 audience" is "$ST/$(jget j.reason)" "401/audience"
req "$IAM/_test/mint_iam?sub=carol@example.com&scope=urn:opc:resource:consumer::all"; TU=$(jget j.token)
req -H "Authorization: Bearer $TU" "$OIC/x"
check "mint_iam user token accepted; user_id echoed" is "$ST/$(jget 'j.sub+" "+j.sub_type+" "+(j.user_id?"y":"n")')" "200/carol@example.com user y"
req "$OIC/_plain/anything"; check "OIC /_plain without auth -> 200 plain" is "$ST/$(cat "$W/body")" "200/plain"
req -H "Authorization: Bearer $T" "$OIC/_status/502/x"; check "OIC /_status/502 -> 502 with echo" is "$ST/$(jget j.sub)" "502/hr-app"

# IAM key rotation (kid stays SIGNING_KEY)
post_json /_test/iam/rotate '{"keep_old":true}'; NX5T=$(jget j.x5t)
curl -s "$IAM/admin/v1/SigningCert/jwk" >"$W/iam2.json"
req -H "Authorization: Bearer $T" "$OIC/x"; A=$ST
cc hr-app; T3=$(jget j.access_token)
check "IAM rotate keep_old: 2 keys, both kid SIGNING_KEY; old token still OK; new token has new x5t" is \
  "$(jget 'j.keys.map(k=>k.kid).join()' "$W/iam2.json")/$A/$(hclaim "$T3" x5t)" "SIGNING_KEY,SIGNING_KEY/200/$NX5T"
post_json /_test/iam/rotate '{}'
req -H "Authorization: Bearer $T" "$OIC/x"; check "IAM rotate (drop old): old token rejected" is "$ST/$(jget j.reason)" "401/signature"

# ------------------------------------------------------------ drive
req "$IAM/_test/drive?port=$P_OIC&path=/_plain/x&n=50"
check "drive 50 x /_plain/x on the OIC port -> 50 x 200, 1 distinct body" is "$(jget 'JSON.stringify(j.statuses)+" "+j.bodies_distinct')" '{"200":50} 1'
cc it-app; TI=$(jget j.access_token)
AUTH=$(node -e 'process.stdout.write(encodeURIComponent(process.argv[1]))' "Bearer $TI")
req "$IAM/_test/mint_iam?sub=carol@example.com"; TU=$(jget j.token)
AUTH2=$(node -e 'process.stdout.write(encodeURIComponent(process.argv[1]))' "Bearer $TU")
req "$IAM/_test/drive?port=$P_OIC&path=/api&n=40&auth=$AUTH&auth=$AUTH2&client=it-app"
check "drive with two Authorization values: 20+20, subs separated" is \
  "$(jget 'JSON.stringify(j.statuses)+" "+JSON.stringify(j.by_auth.map(b=>b.subs))+" "+j.token_calls')" '{"200":40} [{"it-app":20},{"carol@example.com":20}] 0'
req "$IAM/_test/drive?port=$P_OIC&path=/_delay/500/x&n=5&auth=$AUTH&abort=2&abort_ms=100"
check "drive abort=2: 2 aborted, 3 x 200" is "$(jget 'j.statuses.aborted+"/"+j.statuses["200"]')" "2/3"
req "$IAM/_test/drive?port=$P_OIC&auth=$AUTH&slow_path=/_delay/800/x&fast_path=/_plain/y"
check "drive slow/fast: fast finishes before slow" is "$(jget 'j.fast_before_slow+" "+j.fast_status+" "+j.slow_status+" "+(j.slow_ms>=750)')" "true 200 200 true"
BA=$(node -e 'process.stdout.write(encodeURIComponent(process.argv[1]))' "$(basic burst-app "$(secret burst-app)")")
req "$IAM/_test/drive?port=$P_IAM&path=/oauth2/v1/token&method=POST&n=3&auth=$BA&client=burst-app"
check "drive counts token calls of a client" is "$(jget 'j.token_calls')" 3

# ------------------------------------------------------------ stats
req "$IAM/_test/stats"
check "stats: token.by_client/by_user, jwks per tenant" is \
  "$(jget '[j.token.by_client["slow-app"],j.token.by_user["alice@example.com"]>=3,j.jwks["t-self"]>=2,j.jwks.iam>=3,typeof j.token.total].join()')" \
  "1,true,true,true,number"
req "$IAM/_test/token_log?client=legacy-app"
check "token_log: legacy-app calls with auth method and scope" is "$(jget 'j.calls[0].auth_method+" "+j.calls[0].grant_type')" "client_secret_basic client_credentials"

# ------------------------------------------------------------ Perl glue (t/inc/OicTest.pm) with a minimal stand-in for Test::Nginx::Socket
cat >"$W/oictest.pl" <<'EOF'
use strict; use warnings; use utf8;
BEGIN {
    package Test::Nginx::Socket; our @PRE; sub add_block_preprocessor { push @PRE, shift } $INC{'Test/Nginx/Socket.pm'} = 1;
    package StubBlock; sub new { bless { v => $_[1] }, $_[0] } sub main_config { $_[0]{v}{main_config} } sub set_value { $_[0]{v}{$_[1]} = $_[2] }
}
use lib $ARGV[0];
use OicTest;
binmode STDOUT, ':utf8';
sub t { my ($name, $ok) = @_; print(($ok ? "PASS" : "FAIL"), " perl: $name\n"); }
my ($b1, $b2) = (StubBlock->new({}), StubBlock->new({ main_config => 'x' }));
$_->($b1), $_->($b2) for @Test::Nginx::Socket::PRE;
t('preprocessor sets main_config load_module', $b1->main_config eq "load_module $ENV{TEST_NGINX_MODULE};" && $b2->main_config eq 'x');
t('env vars', !grep { !$ENV{$_} } qw(TEST_NGINX_IAM_PORT TEST_NGINX_IAMS_PORT TEST_NGINX_OIC_PORT TEST_NGINX_CERTS TEST_NGINX_OIC_SCOPE TEST_NGINX_MODULE TEST_NGINX_MOCK_CLIENTS));
t('client_secret', client_secret('legacy-app') eq 'p:a%s+s/w~ö rd');
t('basic_auth', basic_auth('legacy-app', client_secret('legacy-app')) eq 'Basic ' . MIME::Base64::encode_base64('legacy-app:p%3Aa%25s%2Bs%2Fw%7E%C3%B6+rd', ''));
my (undef, $p) = jwt_decode(entra_token('t-perl', { ver => '1.0', user => 'bob@example.com' }));
t('entra_token', $p->{upn} eq 'bob@example.com' && $p->{iss} eq entra_issuer('t-perl', '1.0'));
(undef, $p) = jwt_decode(iam_token(sub => 'carol@example.com', exp_in => 60));
t('iam_token', $p->{sub_type} eq 'user' && $p->{exp} - $p->{iat} == 60);
my $k = entra_rotate('t-perl', add => 1)->{kid};
t('entra_rotate / entra_info', grep { $_->{kid} eq $k } @{ entra_info('t-perl')->{keys} });
t('entra_jwks_fault', entra_jwks_fault('t-perl', mode => 'empty', times => 1)->{fault}{mode} eq 'empty');
my $res = HTTP::Tiny->new->request('POST', "$ENV{TEST_NGINX_IAM_URL}/oauth2/v1/token", { headers => {
    Authorization => basic_auth('legacy-app', client_secret('legacy-app')), 'Content-Type' => 'application/x-www-form-urlencoded' },
    content => 'grant_type=client_credentials&scope=' . OicTest::_qenc($ENV{TEST_NGINX_OIC_SCOPE}) });
t('basic_auth accepted by the mock IAM', $res->{status} == 200);
t('mock_stats', mock_stats()->{token}{by_client}{'legacy-app'} == 1);
t('drive_query', drive_query(path => '/a b', auth => ['x+y', 'z']) eq 'auth=x%2By&auth=z&path=%2Fa%20b');
EOF
perl "$W/oictest.pl" "$ROOT/t/inc" >"$W/perl.out" 2>&1; RCP=$?
cat "$W/perl.out"
PASS=$((PASS + $(grep -c '^PASS' "$W/perl.out"))); FAIL=$((FAIL + $(grep -c '^FAIL' "$W/perl.out")))
if [ $RCP != 0 ] || ! grep -q '^PASS perl: drive_query' "$W/perl.out"; then bad "perl glue ran to the end (rc $RCP)"; fi

if [ -s "$W/stderr" ]; then echo "# mock stderr:"; sed 's/^/#   /' "$W/stderr"; fi
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
