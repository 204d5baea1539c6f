# oic_auth bearer (issue #3): key sets. JWKS fetched once for all workers,
# the verified-token cache across workers, unknown kid -> one refetch then
# throttling, rotation, outages, oic_auth_jwks_refresh, https JWKS, IAM key
# rotation (same kid), and oic_auth_jwks_file (JWKS JSON and PEM, ES384/ES512
# tokens signed with the openssl CLI). A master and 4 workers.
#
#   TEST_NGINX_BINARY=/usr/sbin/nginx TEST_NGINX_MODULE=$PWD/build/ngx_http_oic_auth_module.so \
#   TEST_NGINX_PORT=26984 TEST_NGINX_SERVROOT=/tmp/bearer-servroot prove -I t/lib t/bearer-jwks.t
#
# Blocks of several steps check the module's log through GET /_errlog (the
# --- error_log checks would apply to every request of the block), filtered
# by main::summary (t/inc/OicBearer.pm): one module message a line. Only the
# IAM rotation block uses IAM tokens (it rotates the mock IAM's key).

use FindBin; use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use OicTest;
use OicBearer;
use HTTP::Tiny;
use JSON::PP;

master_on();
workers(4);
worker_connections(1024);

our $CERTS = $ENV{TEST_NGINX_CERTS};
our $JSONC = JSON::PP->new->canonical;

# the JWKS of a tenant as the mock publishes it now, written to a file
sub jwks_file {
    my $tid = shift;
    my $r = HTTP::Tiny->new->get(OicTest::entra_jwks_uri($tid));
    die "JWKS of $tid: $r->{status}\n" unless $r->{success};
    return write_temp("$tid.json", $r->{content});
}

sub claims { return { aud => 'api://oic-gateway', iat => time, exp => time + 3600, sub => 'openssl', @_ }; }

# keys for the PEM key set: the test PKI's P-256 and RSA certificates, new
# P-384 and P-521 keys (SubjectPublicKeyInfo), the RSA key as PKCS#1
our ($K384, $P384) = openssl_key('p384', 'EC', 'P-384');
our ($K521, $P521) = openssl_key('p521', 'EC', 'P-521');
our $PEMSET = write_temp('keys.pem', join '', map { local $/; open my $f, '<', $_ or die "$_: $!"; <$f> }
                         "$CERTS/ec.pem", "$CERTS/assertion.pem", $P384, $P521);
our $RSA_PKCS1 = write_temp('rsa-pkcs1.pem', scalar qx{openssl rsa -in $CERTS/assertion.key -RSAPublicKey_out 2>/dev/null});

# mock state set before any block runs (each tenant belongs to one block)
entra_jwks_fault('j-single', mode => 'delay', ms => 1000, times => 1);
entra_jwks_fault('j-down', mode => 'status', status => 500);
entra_jwks_fault('j-recover', mode => 'status', status => 500, times => 1);
entra_jwks_fault('j-mal', mode => 'malformed');
entra_jwks_fault('j-empty', mode => 'empty');
entra_jwks_fault('j-slow', mode => 'delay', ms => 3000);
our $ROT_NEW = entra_rotate('j-rot', add => 1, hidden => 1)->{kid};
our $ROT_OLD = entra_mint('j-rot', {})->{kid};

tokens(
    single   => ['j-single', {}],
    wcache   => ['j-wcache', {}],
    kid_ok   => ['j-kid', {}],
    kid_f1   => ['j-kid', { header => { kid => 'forged-1' } }],
    kid_f2   => ['j-kid', { header => { kid => 'forged-2' } }],
    rot_old  => ['j-rot', {}],
    rot_new  => ['j-rot', { kid => $ROT_NEW }],
    rot_old2 => ['j-rot', { user => 'bob@example.com' }],
    out_1    => ['j-out', {}],
    out_2    => ['j-out', { user => 'bob@example.com' }],
    out_3    => ['j-out', { user => 'carol@example.com' }],
    out_kid  => ['j-out', { header => { kid => 'new-kid-during-outage' } }],
    down     => ['j-down', {}],
    recover  => ['j-recover', {}],
    recover2 => ['j-recover', { user => 'bob@example.com' }],
    mal      => ['j-mal', {}],
    empty    => ['j-empty', {}],
    slow     => ['j-slow', {}],
    ref1_a   => ['j-ref1', {}],
    ref1_b   => ['j-ref1', { user => 'bob@example.com' }],
    ref2_a   => ['j-ref2', {}],
    ref2_b   => ['j-ref2', { user => 'bob@example.com' }],
    tls      => ['j-tls', {}],
    file_rs  => ['j-file', {}],
    file_es  => ['j-file', { alg => 'ES256' }],
    pem_es256 => sub { openssl_token("$CERTS/ec.key", 'ES256', { typ => 'JWT' }, claims()) },
    pem_es384 => sub { openssl_token($K384, 'ES384', { typ => 'JWT', kid => 'any-kid' }, claims()) },
    pem_es512 => sub { openssl_token($K521, 'ES512', { typ => 'JWT' }, claims()) },
    pem_rs256 => sub { openssl_token("$CERTS/assertion.key", 'RS256', { typ => 'JWT' }, claims()) },
    pem_ps384 => sub { openssl_token("$CERTS/assertion.key", 'PS384', { typ => 'JWT' }, claims()) },
    pem_other => sub { openssl_token("$CERTS/unknown-assertion.key", 'RS256', { typ => 'JWT' }, claims()) },
    inh1_uri  => ['j-inh1-uri', {}],
    inh1_file => ['j-inh1-file', {}],
    inh2_uri  => ['j-inh2-uri', {}],
    inh2_file => ['j-inh2-file', {}],
);

run_tests();

__DATA__

=== TEST 1: single flight: 200 concurrent requests of a cold key set in 4 workers make one JWKS fetch (the mock answers it after 1 s), all pass
--- config
    location /t {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/j-single/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/_ok;
    }
--- request eval
main::drive(path => '/t', n => 200, auth => 'Bearer ' . main::tok('single'))
--- response_body_filters eval
main::summary()
--- response_body
200:200 jwks=1
--- grep_error_log eval
qr/fetched, \d+ keys/
--- grep_error_log_out
fetched, 3 keys
--- no_error_log
[error]
[alert]



=== TEST 2: the verified-token cache is shared by the workers: after one verify, 40 requests spread over the 4 workers (reuseport) never verify again
--- http_config
    oic_auth_cache_zone oic:1m;
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1 reuseport;
        location /t {
            oic_auth bearer;
            oic_auth_cache oic;
            oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/j-wcache/discovery/v2.0/keys;
            oic_auth_issuer https://login.microsoftonline.com/j-wcache/v2.0;
            oic_auth_audience api://oic-gateway;
            proxy_set_header X-Pid $pid;
            proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/_pid;
        }
    }
--- config
    oic_auth_cache oic;
    location /t {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/j-wcache/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/_ok;
    }
    location = /drive2 {
        proxy_pass http://127.0.0.1:$TEST_NGINX_IAM_PORT/_test/drive?$args&port=$TEST_NGINX_RAND_PORT_1;
        proxy_read_timeout 30s;
    }
--- request eval
["GET /t", "GET /drive2?" . OicTest::drive_query(path => '/t', n => 40, auth => 'Bearer ' . main::tok('wcache')), "GET /_errlog"]
--- more_headers eval
[main::auth('wcache'), "", ""]
--- response_body_filters eval
main::summary()
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[qr/^ok$/, qr/^200:40 jwks=0 subs=[234]$/,
 qr/\AJWKS "URI:\/j-wcache\/discovery\/v2.0\/keys" fetched, 3 keys\nverifying signature\n(?:signature already verified \(cache\)\n){40}\z/]



=== TEST 3: an unknown kid triggers one refetch (even right after the first fetch), the next unknown kid within 60 s does not; any worker
--- config
    location /t {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/j-kid/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/_ok;
    }
--- request eval
["GET /t", "GET /t", "GET /t", "GET /stats", "GET /_errlog"]
--- more_headers eval
[main::auth('kid_ok'), main::auth('kid_f1'), main::auth('kid_f2'), "", ""]
--- response_body_filters eval
main::summary('j-kid')
--- error_code eval
[200, 401, 401, 200, 200]
--- response_headers eval
["", "WWW-Authenticate: " . main::invalid('kid not in the key set'), "WWW-Authenticate: " . main::invalid('kid not in the key set'), "", ""]
--- response_body_like eval
[qr/^ok$/, qr/401/, qr/401/, qr/\Ajwks=2\n\z/,
 qr/\AJWKS "URI:\/j-kid\/discovery\/v2.0\/keys" fetched, 3 keys
verifying signature
verifying signature
unknown key id, refreshing
JWKS "URI:\/j-kid\/discovery\/v2.0\/keys" fetched, 3 keys
verifying signature
invalid token: kid not in the key set
verifying signature
unknown key id, was fetched less than 60 s ago
invalid token: kid not in the key set
\z/]



=== TEST 4: key rotation without a restart: a new kid is picked up by one refetch, tokens of the removed key are refused (a token verified before the removal stays accepted until its exp)
--- config
    location /t {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/j-rot/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/_ok;
    }
--- request eval
["GET /t",
 main::ctl('entra/j-rot/rotate', { publish => $main::ROT_NEW, remove => $main::ROT_OLD }),
 "GET /t", "GET /t", "GET /t", "GET /stats"]
--- more_headers eval
[main::auth('rot_old'), "", main::auth('rot_new'), main::auth('rot_old2'), main::auth('rot_old'), ""]
--- response_body_filters eval
main::summary('j-rot')
--- error_code eval
[200, 200, 200, 401, 200, 200]
--- response_headers eval
["", "", "!WWW-Authenticate", "WWW-Authenticate: " . main::invalid('kid not in the key set'), "!WWW-Authenticate", ""]
--- response_body_like eval
[qr/^ok$/, qr/"published":true/, qr/^ok$/, qr/401/, qr/^ok$/, qr/\Ajwks=2\n\z/]



=== TEST 5: a JWKS outage keeps the last good keys: a stale set (refresh 1s) whose refresh fails, and an unknown kid during the outage, get the old keys, not 502 (the drive waits for the background refresh to reach the mock: it may come after the answer)
--- config
    location /t {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/j-out/discovery/v2.0/keys;
        oic_auth_jwks_refresh 1s;
        oic_auth_audience api://oic-gateway;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/_ok;
    }
--- request eval
["GET /t",
 main::ctl('entra/j-out/jwks_fault', { mode => 'status', status => 503 }),
 main::drive(slow_path => '/_ok', gap_ms => 1500, fast_path => '/t', fast_auth => 'Bearer ' . main::tok('out_2'), await_jwks => 1),
 "GET /t", "GET /t", "GET /stats", "GET /_errlog"]
--- more_headers eval
[main::auth('out_1'), "", "", main::auth('out_3'), main::auth('out_kid'), "", ""]
--- response_body_filters eval
main::summary('j-out')
--- error_code eval
[200, 200, 200, 200, 401, 200, 200]
--- response_body_like eval
[qr/^ok$/, qr/"mode":"status"/, qr/^fast=200 slow=200 jwks=1$/, qr/^ok$/, qr/401/, qr/\Ajwks=3\n\z/,
 qr/\AJWKS "URI:\/j-out\/discovery\/v2.0\/keys" fetched, 3 keys
verifying signature
verifying signature
JWKS "URI:\/j-out\/discovery\/v2.0\/keys" unavailable: answered 503; keeping the last good keys, if any
verifying signature
verifying signature
unknown key id, refreshing
JWKS "URI:\/j-out\/discovery\/v2.0\/keys" unavailable: answered 503; keeping the last good keys, if any
verifying signature
invalid token: kid not in the key set
\z/]
--- wait: 0.1
--- timeout: 15



=== TEST 6: no keys yet and the JWKS URI fails: 502 without a challenge; the next request within 5 s fails fast without a fetch
--- config
    location /t {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/j-down/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        add_header X-Err $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/_ok;
    }
--- request eval
["GET /t", "GET /t", "GET /stats", "GET /_errlog"]
--- more_headers eval
[main::auth('down'), main::auth('down'), "", ""]
--- response_body_filters eval
main::summary('j-down')
--- error_code eval
[502, 502, 200, 200]
--- response_headers eval
["!WWW-Authenticate\nX-Err: jwks_unavailable", "!WWW-Authenticate\nX-Err: jwks_unavailable", "", ""]
--- response_body_like eval
[qr/502 Bad Gateway/, qr/502 Bad Gateway/, qr/\Ajwks=1\n\z/,
 qr/\AJWKS "URI:\/j-down\/discovery\/v2.0\/keys" unavailable: answered 500; keeping the last good keys, if any
no keys: "URI:\/j-down\/discovery\/v2.0\/keys" failed less than 5 s ago
no keys: "URI:\/j-down\/discovery\/v2.0\/keys" failed less than 5 s ago
\z/]



=== TEST 7: after a failed first fetch the JWKS is tried again 5 s later and the tokens pass
--- config
    location /t {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/j-recover/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/_ok;
    }
--- request eval
["GET /t",
 main::drive(slow_path => '/_ok', gap_ms => 5500, fast_path => '/t', fast_auth => 'Bearer ' . main::tok('recover2'))]
--- more_headers eval
[main::auth('recover'), ""]
--- response_body_filters eval
main::summary('j-recover')
--- error_code eval
[502, 200]
--- response_body_like eval
[qr/502 Bad Gateway/, qr/^fast=200 slow=200 jwks=1$/]
--- timeout: 10



=== TEST 8: JWKS answers that are no key set: malformed JSON, no keys, too slow (oic_auth_timeout), connection refused: 502 jwks_unavailable
--- config
    location /mal {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/j-mal/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        add_header X-Err $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/_ok;
    }
    location /empty {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/j-empty/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        add_header X-Err $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/_ok;
    }
    location /slow {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/j-slow/discovery/v2.0/keys;
        oic_auth_timeout 1s;
        oic_auth_audience api://oic-gateway;
        add_header X-Err $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/_ok;
    }
    location /refused {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:1/keys;
        oic_auth_audience api://oic-gateway;
        add_header X-Err $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/_ok;
    }
--- request eval
["GET /mal", "GET /empty", "GET /slow", "GET /refused", "GET /_errlog"]
--- more_headers eval
[main::auth('mal'), main::auth('empty'), main::auth('slow'), main::auth('mal'), ""]
--- response_body_filters eval
main::summary()
--- error_code eval
[502, 502, 502, 502, 200]
--- response_headers eval
[("!WWW-Authenticate\nX-Err: jwks_unavailable") x 4, ""]
--- response_body_like eval
[(qr/502 Bad Gateway/) x 4,
 qr/\AJWKS "URI:\/j-mal\/discovery\/v2.0\/keys" unavailable: JWKS: invalid JSON \(unexpected token\); keeping the last good keys, if any
no keys: "URI:\/j-mal\/discovery\/v2.0\/keys" failed less than 5 s ago
JWKS "URI:\/j-empty\/discovery\/v2.0\/keys" unavailable: JWKS: no usable key \(last skipped: empty key set\); keeping the last good keys, if any
no keys: "URI:\/j-empty\/discovery\/v2.0\/keys" failed less than 5 s ago
JWKS "URI:\/j-slow\/discovery\/v2.0\/keys" unavailable: Operation timed out after 1\d\d\d milliseconds with 0 bytes received; keeping the last good keys, if any
no keys: "URI:\/j-slow\/discovery\/v2.0\/keys" failed less than 5 s ago
JWKS "URI:\/keys" unavailable: Failed to connect to 127.0.0.1 port 1 [^\n]*; keeping the last good keys, if any
no keys: "URI:\/keys" failed less than 5 s ago
\z/]



=== TEST 9: oic_auth_jwks_refresh 1s: a set older than that is refetched in the background (the request goes on with it; /stats waits for that fetch to reach the mock); with the default 1h it is not
--- config
    location /r1 {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/j-ref1/discovery/v2.0/keys;
        oic_auth_jwks_refresh 1s;
        oic_auth_audience api://oic-gateway;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/_ok;
    }
    location /r2 {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/j-ref2/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/_ok;
    }
--- request eval
["GET /r1", "GET /r2",
 main::drive(slow_path => '/_ok', gap_ms => 1500, fast_path => '/_ok'),
 "GET /r1", "GET /r2", "GET /_ok", "GET /stats?await_jwks=j-ref1:2"]
--- more_headers eval
[main::auth('ref1_a'), main::auth('ref2_a'), "", main::auth('ref1_b'), main::auth('ref2_b'), "", ""]
--- response_body_filters eval
main::summary(['j-ref1', 'j-ref2'])
--- error_code eval
[200, 200, 200, 200, 200, 200, 200]
--- response_body_like eval
[qr/^ok$/, qr/^ok$/, qr/^fast=200 slow=200 jwks=0$/, qr/^ok$/, qr/^ok$/, qr/^ok$/, qr/\Ajwks=2 1\n\z/]
--- timeout: 15



=== TEST 10: an https JWKS URI is verified against oic_auth_ssl_trusted_certificate (the test CA: 200; another CA: 502, certificate problem logged)
--- config
    location /trusted {
        oic_auth bearer;
        oic_auth_jwks_uri https://127.0.0.1:$TEST_NGINX_IAMS_PORT/j-tls/discovery/v2.0/keys;
        oic_auth_ssl_trusted_certificate $TEST_NGINX_CERTS/ca.pem;
        oic_auth_audience api://oic-gateway;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/_ok;
    }
    location /untrusted {
        oic_auth bearer;
        oic_auth_jwks_uri https://localhost:$TEST_NGINX_IAMS_PORT/j-tls/discovery/v2.0/keys;
        oic_auth_ssl_trusted_certificate $TEST_NGINX_CERTS/other-ca.pem;
        oic_auth_audience api://oic-gateway;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/_ok;
    }
--- request eval
["GET /trusted", "GET /untrusted", "GET /_errlog"]
--- more_headers eval
[main::auth('tls'), main::auth('tls'), ""]
--- response_body_filters eval
main::summary()
--- error_code eval
[200, 502, 200]
--- response_body_like eval
[qr/^ok$/, qr/502 Bad Gateway/,
 qr/\AJWKS "https:\/\/127.0.0.1:\d+\/j-tls\/discovery\/v2.0\/keys" fetched, 3 keys
verifying signature
JWKS "https:\/\/localhost:\d+\/j-tls\/discovery\/v2.0\/keys" unavailable: SSL certificate problem: unable to get local issuer certificate; keeping the last good keys, if any
no keys: "https:\/\/localhost:\d+\/j-tls\/discovery\/v2.0\/keys" failed less than 5 s ago
\z/]



=== TEST 11: oic_auth_jwks_file with a JWKS document (read at start-up): RS256 and ES256 tokens pass without any fetch (jwks=1: the test's own fetch that wrote the file)
--- config eval
"    location /t {
        oic_auth bearer;
        oic_auth_jwks_file " . main::jwks_file('j-file') . ";
        oic_auth_algorithms RS256 ES256;
        oic_auth_audience api://oic-gateway;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/_ok;
    }"
--- request eval
["GET /t", "GET /t", "GET /stats"]
--- more_headers eval
[main::auth('file_rs'), main::auth('file_es'), ""]
--- response_body_filters eval
main::summary('j-file')
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[qr/^ok$/, qr/^ok$/, qr/\Ajwks=1\n\z/]
--- no_error_log
request started for JWKS
[error]



=== TEST 12: oic_auth_jwks_file with PEM keys (P-256 and RSA certificates, P-384 and P-521 public keys): ES256/384/512, RS256 and PS384 tokens, with or without kid, pick the one key that fits
--- config eval
"    location /t {
        oic_auth bearer;
        oic_auth_jwks_file $main::PEMSET;
        oic_auth_algorithms RS256 PS384 ES256 ES384 ES512;
        oic_auth_audience api://oic-gateway;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/_ok;
    }"
--- request eval
[("GET /t") x 6]
--- more_headers eval
[map { main::auth($_) } qw(pem_es256 pem_es384 pem_es512 pem_rs256 pem_ps384 pem_other)]
--- error_code eval
[200, 200, 200, 200, 200, 401]
--- response_headers eval
[("!WWW-Authenticate") x 5, "WWW-Authenticate: " . main::invalid('signature does not verify')]
--- no_error_log
request started for JWKS



=== TEST 13: oic_auth_jwks_file with an RSA PUBLIC KEY (PKCS#1) PEM block
--- config eval
"    location /t {
        oic_auth bearer;
        oic_auth_jwks_file $main::RSA_PKCS1;
        oic_auth_audience api://oic-gateway;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/_ok;
    }"
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
[main::auth('pem_rs256'), main::auth('pem_other')]
--- error_code eval
[200, 401]
--- response_headers eval
["!WWW-Authenticate", "WWW-Authenticate: " . main::invalid('signature does not verify')]



=== TEST 14: OCI IAM rotates its key under the same kid (SIGNING_KEY): a token of the new key passes without a restart
--- config
    location /via-basic {
        oic_auth basic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/oic;
    }
    location /oic {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/admin/v1/SigningCert/jwk;
        oic_auth_issuer https://identity.oraclecloud.com/;
        oic_auth_audience $TEST_NGINX_OIC_AUDIENCE;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/_ok;
    }
--- request eval
["GET /via-basic", main::ctl('iam/rotate', {}), "GET /via-basic", "GET /stats", "GET /_errlog"]
--- more_headers eval
["Authorization: " . OicTest::basic_auth('app1', OicTest::client_secret('app1')), "",
 "Authorization: " . OicTest::basic_auth('app2', OicTest::client_secret('app2')), "", ""]
--- response_body_filters eval
main::summary('iam')
--- error_code eval
[200, 200, 200, 200, 200]
--- response_body_like eval
[qr/^ok$/, qr/"x5t"/, qr/^ok$/, qr/\Ajwks=2\n\z/,
 qr/\AJWKS "URI:\/admin\/v1\/SigningCert\/jwk" fetched, 1 keys
verifying signature
verifying signature
signature does not verify, refreshing
JWKS "URI:\/admin\/v1\/SigningCert\/jwk" fetched, 1 keys
verifying signature
\z/]



=== TEST 15: a location's oic_auth_jwks_file replaces the oic_auth_jwks_uri it inherits (and the other location keeps the URI: one fetch, and one refetch for the unknown kid)
--- config eval
"    oic_auth_jwks_uri http://127.0.0.1:\$TEST_NGINX_IAM_PORT/j-inh1-uri/discovery/v2.0/keys;
    location /file {
        oic_auth bearer;
        oic_auth_jwks_file " . main::jwks_file('j-inh1-file') . ";
        oic_auth_audience api://oic-gateway;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/_ok;
    }
    location /uri {
        oic_auth bearer;
        oic_auth_audience api://oic-gateway;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/_ok;
    }"
--- request eval
["GET /file", "GET /file", "GET /uri", "GET /uri", "GET /stats"]
--- more_headers eval
[main::auth('inh1_file'), main::auth('inh1_uri'), main::auth('inh1_uri'), main::auth('inh1_file'), ""]
--- response_body_filters eval
main::summary(['j-inh1-uri', 'j-inh1-file'])
--- error_code eval
[200, 401, 200, 401, 200]
--- response_body_like eval
[qr/^ok$/, qr/401/, qr/^ok$/, qr/401/, qr/\Ajwks=2 1\n\z/]



=== TEST 16: a location's oic_auth_jwks_uri replaces the oic_auth_jwks_file it inherits (and the other location keeps the file; jwks: one fetch and one refetch for the unknown kid, and the test's own fetch for the file)
--- config eval
"    oic_auth_jwks_file " . main::jwks_file('j-inh2-file') . ";
    location /uri {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:\$TEST_NGINX_IAM_PORT/j-inh2-uri/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/_ok;
    }
    location /file {
        oic_auth bearer;
        oic_auth_audience api://oic-gateway;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/_ok;
    }"
--- request eval
["GET /uri", "GET /uri", "GET /file", "GET /file", "GET /stats"]
--- more_headers eval
[main::auth('inh2_uri'), main::auth('inh2_file'), main::auth('inh2_file'), main::auth('inh2_uri'), ""]
--- response_body_filters eval
main::summary(['j-inh2-uri', 'j-inh2-file'])
--- error_code eval
[200, 401, 200, 401, 200]
--- response_body_like eval
[qr/^ok$/, qr/401/, qr/^ok$/, qr/401/, qr/\Ajwks=2 1\n\z/]
