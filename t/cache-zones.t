# The shared zone under pressure, and several zones (issue #7, "also
# suspected"): a worker's parsed key sets belong to one zone (two zones with
# the same JWKS URI count their document versions separately), and JWKS
# entries are pinned (a zone filled with other entries keeps them, and with
# them the throttle of unknown-kid refetches). One worker, so that "this
# worker's key sets" is the one every request meets.
#
#   TEST_NGINX_BINARY=/usr/sbin/nginx TEST_NGINX_MODULE=$PWD/build/ngx_http_oic_auth_module.so \
#   TEST_NGINX_PORT=22000 prove -I t/lib t/cache-zones.t

use FindBin; use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use OicTest;
use OicBearer;

master_on();
workers(1);

# z-zones: a key that is not published yet (signs, but is not in the JWKS)
our $HIDDEN = entra_rotate('z-zones', add => 1, hidden => 1)->{kid};

tokens(
    zones_old => ['z-zones', {}],
    zones_new => ['z-zones', { kid => $HIDDEN }],
    pin_ok    => ['z-pin', {}],
    pin_f1    => ['z-pin', { header => { kid => 'forged-1' } }],
    pin_f2    => ['z-pin', { header => { kid => 'forged-2' } }],
    pin_f3    => ['z-pin', { header => { kid => 'forged-3' } }],
);

run_tests();

__DATA__

=== TEST 1: two zones, one JWKS URI: the second zone's document (a key published meanwhile) is parsed for it, not taken for the first zone's same-numbered version
--- http_config
    oic_auth_cache_zone one:1m;
    oic_auth_cache_zone two:1m;
--- config
    location /one {
        oic_auth bearer;
        oic_auth_cache one;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/z-zones/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/_ok;
    }
    location /two {
        oic_auth bearer;
        oic_auth_cache two;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/z-zones/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/_ok;
    }
--- request eval
["GET /one", main::ctl('entra/z-zones/rotate', { publish => $main::HIDDEN }), "GET /two", "GET /stats", "GET /_errlog"]
--- more_headers eval
[main::auth('zones_old'), "", main::auth('zones_new'), "", ""]
--- response_body_filters eval
main::summary('z-zones')
--- error_code eval
[200, 200, 200, 200, 200]
--- response_body_like eval
[qr/^ok$/, qr/"keys"/, qr/^ok$/, qr/\Ajwks=2\n\z/,
 qr/\AJWKS "URI:\/z-zones\/discovery\/v2.0\/keys" fetched, 3 keys
verifying signature
JWKS "URI:\/z-zones\/discovery\/v2.0\/keys" fetched, 4 keys
verifying signature
\z/]



=== TEST 2: a zone filled with other entries keeps its JWKS entry: the unknown-kid refetch stays throttled (and the filling was real: 150 verified-token marks evict the mark of the first token, it is verified again; credentials IAM never accepted cannot fill a zone, t/iam-guard.t)
--- http_config
    oic_auth_cache_zone oic:32k;
--- config
    oic_auth_cache oic;
    location /t {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/z-pin/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/_ok;
    }
--- request eval
["GET /t", "GET /t", "GET /t",
 main::drive(path => '/t', n => 150, conc => 4, mint => 'z-pin'),
 "GET /t", "GET /t", "GET /stats", "GET /_errlog"]
--- more_headers eval
[main::auth('pin_ok'), main::auth('pin_f1'), main::auth('pin_f2'), "", main::auth('pin_f3'), main::auth('pin_ok'), "", ""]
--- response_body_filters eval
main::summary('z-pin')
--- error_code eval
[200, 401, 401, 200, 401, 200, 200, 200]
--- response_body_like eval
[qr/^ok$/, qr/401/, qr/401/, qr/^200:150 jwks=0$/, qr/401/, qr/^ok$/, qr/\Ajwks=2\n\z/,
 qr/\AJWKS "URI:\/z-pin\/discovery\/v2.0\/keys" fetched, 3 keys
verifying signature
verifying signature
unknown key id, refreshing
JWKS "URI:\/z-pin\/discovery\/v2.0\/keys" fetched, 3 keys
verifying signature
invalid token: kid not in the key set
verifying signature
unknown key id, was fetched less than 60 s ago
invalid token: kid not in the key set
(?:verifying signature
){150}verifying signature
unknown key id, was fetched less than 60 s ago
invalid token: kid not in the key set
verifying signature
\z/]
