# oic_auth bearer (issue #3): every directive and every answer, end to end,
# with one nginx worker. The hostile tokens are in t/bearer-hostile.t; JWKS
# fetching, refresh, rotation, outages, jwks_file and the multi-worker cache
# in t/bearer-jwks.t.
#
#   TEST_NGINX_BINARY=/usr/sbin/nginx TEST_NGINX_MODULE=$PWD/build/ngx_http_oic_auth_module.so \
#   TEST_NGINX_PORT=26984 TEST_NGINX_SERVROOT=/tmp/bearer-servroot prove -I t/lib t/bearer.t
#
# t/mock/idp.js plays Entra ID (tenants created on first use, each block uses
# its own) and OCI IAM. t/inc/OicBearer.pm: tokens are declared below by name
# and minted once, or per block when they run for those whose age matters
# (main::auth('name') = "Authorization: Bearer <token>"); a
# preprocessor adds the cache zone ("oic"), a "# <block name>" line (one nginx
# per block) and helper locations (/_echo answers the Authorization header it
# received, /_errlog serves error.log, /ctl/ /stats /drive reach the mock).

use FindBin; use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use OicTest;
use OicBearer;
use MIME::Base64 ();

master_on();
workers(1);

our $NOW = time;
our $AUD = $OicTest::OIC_AUDIENCE;

tokens(
    # TEST 1-2
    v2          => ['b-v2', { claims => { scp => 'oic_api_HR oic_api_read' } }],
    fwd         => ['b-fwd', {}],
    # TEST 3-4
    v1          => ['b-ver', { ver => '1.0', user => 'bob@contoso.com' }],
    v2b         => ['b-ver', { user => 'carol@contoso.com' }],
    v2only      => ['b-iss', {}],
    iss_noslash => ['b-iss', { ver => '1.0', claims => { iss => 'https://sts.windows.net/b-iss' } }],
    iss_none    => ['b-iss', { claims => { iss => undef } }],
    iss_other   => ['b-iss2', { claims => { iss => 'https://issuer.example/' } }],
    # TEST 5
    aud_arr     => ['b-aud', { claims => { aud => ['api://other', 'api://oic-gateway'] } }],
    aud_mixed   => ['b-aud', { claims => { aud => [1, { a => 'api://oic-gateway' }, undef, 'api://oic-gateway'] } }],
    aud_other   => ['b-aud', { claims => { aud => 'api://other' } }],
    aud_arr_no  => ['b-aud', { claims => { aud => ['api://other', 'api://oic-gateway/'] } }],
    aud_none    => ['b-aud', { claims => { aud => undef } }],
    aud_second  => ['b-aud', { claims => { aud => 'api://second' } }],
    aud_case    => ['b-aud', { claims => { aud => 'API://OIC-GATEWAY' } }],
    # TEST 6-8
    noc         => ['b-noc', {}],
    mal         => ['b-mal', {}],
    # TEST 9-10
    no_exp      => ['b-time', { claims => { exp => undef } }],
    frac_exp    => ['b-time', { claims => { exp => $NOW + 3600.25 } }],
    no_nbf_iat  => ['b-time', { claims => { nbf => undef, iat => undef } }],
    # TEST 11-12
    alg_rs256   => ['b-alg', { alg => 'RS256' }],
    alg_rs384   => ['b-alg', { alg => 'RS384' }],
    alg_rs512   => ['b-alg', { alg => 'RS512' }],
    alg_ps256   => ['b-alg', { alg => 'PS256' }],
    alg_ps384   => ['b-alg', { alg => 'PS384' }],
    alg_ps512   => ['b-alg', { alg => 'PS512' }],
    alg_es256   => ['b-alg', { alg => 'ES256' }],
    # TEST 13-17
    hr          => ['b-scope', { claims => { scp => 'oic_api_HR' } }],
    it          => ['b-scope', { claims => { scp => 'oic_api_IT' } }],
    hr_it       => ['b-scope', { claims => { scp => 'oic_api_IT oic_api_HR' } }],
    hr_like     => ['b-scope', { claims => { scp => 'oic_api_HRX oic_api_hr xoic_api_HR' } }],
    noscope     => ['b-scope', { claims => { scp => undef } }],
    app_only    => ['b-scope', { app_only => 1 }],
    iam_scope   => ['b-scope', { claims => { scp => undef, scope => 'oic_api_IT other' } }],
    scopes_mix  => ['b-scope', { claims => { scope => 'c a', scp => 'a  b a', roles => ['d', 'b', 7] } }],
    # TEST 18-19
    claims      => ['b-claim', { ver => '1.0', claims => {
                        num => 42, real => 1.5, t => JSON::PP::true, f => JSON::PP::false,
                        arr => [1, 'x', JSON::PP::true, undef, { o => 1 }, [2]], obj => { a => 'b' },
                        nul => undef, exp => $NOW + 3600.25, str => 'a b' } }],
    u_pref      => ['b-claim', { claims => { preferred_username => 'pref@x' } }],
    u_upn       => ['b-claim', { ver => '1.0', claims => { upn => 'upn@x', unique_name => 'un@x' } }],
    u_unique    => ['b-claim', { ver => '1.0', claims => { upn => undef, unique_name => 'un@x' } }],
    u_empty_upn => ['b-claim', { ver => '1.0', claims => { upn => '', unique_name => 'un@x' } }],
    u_none      => ['b-claim', { app_only => 1 }],
    # TEST 20
    realm_ok    => ['b-realm', { claims => { scp => 'oic_api_IT' } }],
    # TEST 21-22
    iam         => ['iam', { sub => 'hr-app', scope => 'urn:opc:resource:consumer::all' }],
    iam_api     => ['iam', { sub => 'it-app', scope => '/ic/api/' }],
    # TEST 23-24
    graph       => ['b-graph', { header => { nonce => 'AQABAAAAAAB' },
                                 claims => { aud => '00000003-0000-0000-c000-000000000000' } }],
    exp_badsig  => ['b-order', { exp_in => -3600, signature_from => 'x.y.' . ('A' x 342) }],
    aud_badsig  => ['b-order', { claims => { aud => 'api://other' }, sign_with => 'foreign' }],
    # TEST 25-26
    cached      => ['b-cache', {}],
    # TEST 27
    mixed       => ['b-mixed', {}],
    # TEST 38
    memo        => ['b-memo', {}],
    # TEST 39
    tail        => ['b-tail', {}],
    # TEST 40
    located     => ['b-locate', {}],
);

# tokens whose age matters: each block that uses one gets its own, minted
# when the block runs (expired 20 s ago passes the 60 s leeway, valid 600 s
# ahead fails it, whenever the block runs)
block_tokens(
    # TEST 9-10, 17
    expired     => ['b-time', { exp_in => -600 }],
    not_yet     => ['b-time', { nbf_in => 600 }],
    future_iat  => ['b-time', { iat_in => 600, nbf_in => 0 }],
    expired_8m  => ['b-time', { exp_in => -480 }],
    not_yet_8m  => ['b-time', { nbf_in => 480 }],
    future_iat_8m => ['b-time', { iat_in => 480, nbf_in => 0 }],
    exp_20s_ago => ['b-time', { exp_in => -20 }],
    nbf_in_20s  => ['b-time', { nbf_in => 20, iat_in => 20 }],
    exp_2m_ago  => ['b-time', { exp_in => -120 }],
    # TEST 25
    cached_nbf  => ['b-cache2', { nbf_in => 480, claims => { scp => 'oic_api_HR' } }],
    # TEST 41 (expires 6 s after the block starts; the block waits 8 s)
    verdict     => ['b-verdict', { exp_in => 6, claims => { scp => 'oic_api_HR' } }],
);

# the token with its payload changed (the last character of sub), the same
# length and signature: the same tail
sub same_tail {
    my ($h, $p, $s) = split /\./, shift;
    my $raw = MIME::Base64::decode_base64url($p);
    $raw =~ s/("sub":"[^"]*)(.)"/$1 . ($2 eq 'x' ? 'y' : 'x') . '"'/e or die "no sub claim\n";
    my $p2 = MIME::Base64::encode_base64url($raw);
    die "payload length changed\n" unless length $p2 == length $p;
    return "$h.$p2.$s";
}

run_tests();

__DATA__

=== TEST 1: a valid Entra v2 token passes, the request is proxied, the variables carry the token's claims
--- config
    location /t {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-v2/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/b-v2/v2.0;
        oic_auth_audience api://oic-gateway;
        add_header X-Sub $oic_auth_subject always;
        add_header X-User $oic_auth_user always;
        add_header X-Scopes $oic_auth_scopes always;
        add_header X-Ver $oic_auth_claim_ver always;
        add_header X-Tid $oic_auth_claim_tid always;
        add_header X-Err $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
--- request
GET /t
--- more_headers eval
main::auth('v2')
--- error_code: 200
--- response_headers eval
"X-Sub: " . main::claim('v2', 'sub') . "
X-User: alice\@example.com
X-Scopes: oic_api_HR oic_api_read
X-Ver: 2.0
X-Tid: b-v2
!X-Err
!WWW-Authenticate"
--- response_body chomp
plain
--- error_log
oic_auth: verifying signature
--- no_error_log
[error]
[warn]



=== TEST 2: the token is forwarded unchanged; the scheme is case-insensitive and may be followed by several spaces
--- config
    location /t {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-fwd/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/_echo;
    }
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
[main::auth('fwd'), main::auth('fwd', 'bearer '), main::auth('fwd', 'BEARER   ')]
--- error_code eval
[200, 200, 200]
--- response_body eval
["Bearer " . main::tok('fwd'), "bearer " . main::tok('fwd'), "BEARER   " . main::tok('fwd')]
--- no_error_log
[error]



=== TEST 3: Entra v1 and v2 tokens of one tenant: both issuer forms listed, $oic_auth_user is upn (v1) or preferred_username (v2)
--- config
    location /t {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-ver/discovery/keys;
        oic_auth_issuer https://sts.windows.net/b-ver/ https://login.microsoftonline.com/b-ver/v2.0;
        oic_auth_audience api://oic-gateway;
        add_header X-User $oic_auth_user always;
        add_header X-Iss $oic_auth_claim_iss always;
        add_header X-Ver $oic_auth_claim_ver always;
        add_header X-Unique $oic_auth_claim_unique_name always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
[main::auth('v1'), main::auth('v2b')]
--- error_code eval
[200, 200]
--- response_headers eval
["X-User: bob\@contoso.com\nX-Iss: https://sts.windows.net/b-ver/\nX-Ver: 1.0\nX-Unique: bob\@contoso.com",
 "X-User: carol\@contoso.com\nX-Iss: https://login.microsoftonline.com/b-ver/v2.0\nX-Ver: 2.0\n!X-Unique"]
--- no_error_log
[error]



=== TEST 4: oic_auth_issuer is an exact match: another form, no trailing slash, a missing iss are refused; with "oic_auth_issuer any" any issuer passes
--- config
    location /v1only {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-iss/discovery/keys;
        oic_auth_issuer https://sts.windows.net/b-iss/;
        oic_auth_audience api://oic-gateway;
        add_header X-Err $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
    location /any {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-iss2/discovery/keys;
        oic_auth_issuer any;
        oic_auth_audience api://oic-gateway;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
--- request eval
["GET /v1only", "GET /v1only", "GET /v1only", "GET /any"]
--- more_headers eval
[main::auth('v2only'), main::auth('iss_noslash'), main::auth('iss_none'), main::auth('iss_other')]
--- error_code eval
[401, 401, 401, 200]
--- response_headers eval
["WWW-Authenticate: " . main::invalid('iss does not match') . "\nX-Err: invalid_token",
 "WWW-Authenticate: " . main::invalid('iss does not match') . "\nX-Err: invalid_token",
 "WWW-Authenticate: " . main::invalid('iss missing') . "\nX-Err: invalid_token",
 "!WWW-Authenticate"]



=== TEST 5: oic_auth_audience: aud as a string or an array, any listed value matches exactly (case and trailing slash count)
--- config
    location /t {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-aud/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway api://second;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
[map { main::auth($_) } qw(aud_arr aud_mixed aud_second aud_other aud_arr_no aud_none aud_case)]
--- error_code eval
[200, 200, 200, 401, 401, 401, 401]
--- response_headers eval
["!WWW-Authenticate", "!WWW-Authenticate", "!WWW-Authenticate",
 "WWW-Authenticate: " . main::invalid('aud does not match'),
 "WWW-Authenticate: " . main::invalid('aud does not match'),
 "WWW-Authenticate: " . main::invalid('aud missing'),
 "WWW-Authenticate: " . main::invalid('aud does not match')]



=== TEST 6: no credentials, or another scheme, or the token in the query string or a cookie: 401 with a bare Bearer challenge
--- config
    location /t {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-noc/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        add_header X-Err $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t?access_token=" . main::tok('noc'), "GET /t", "GET /t"]
--- more_headers eval
["", "Authorization: Basic " . MIME::Base64::encode_base64('app1:secret', ''),
 "Authorization: Bearertoken " . main::tok('noc'),
 "",
 "Cookie: access_token=" . main::tok('noc'),
 "Authorization: Digest username=\"x\""]
--- error_code eval
[401, 401, 401, 401, 401, 401]
--- response_headers eval
[("WWW-Authenticate: Bearer realm=\"oic\"\nX-Err: no_credentials") x 6]
--- error_log
oic_auth: no credentials
--- no_error_log
oic_auth: verifying signature
[error]



=== TEST 7: a malformed Authorization header: 400 invalid_request (empty token, two tokens, characters outside b64token, a tab)
--- config
    location /t {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-mal/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        add_header X-Err $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
--- request eval
[("GET /t") x 8]
--- more_headers eval
["Authorization: Bearer",
 "Authorization: Bearer    ",
 "Authorization: Bearer " . main::tok('mal') . " " . main::tok('mal'),
 "Authorization: Bearer " . main::tok('mal') . "," . main::tok('mal'),
 "Authorization: Bearer abc=def",
 "Authorization: Bearer \"" . main::tok('mal') . "\"",
 "Authorization: Bearer\t" . main::tok('mal'),
 "Authorization: Bearer " . main::tok('mal') . ";"]
--- error_code eval
[(400) x 8]
--- response_headers eval
[("WWW-Authenticate: Bearer realm=\"oic\", error=\"invalid_request\", error_description=\"malformed Authorization header\"\nX-Err: invalid_request") x 8]
--- error_log
oic_auth: malformed Bearer credentials
--- no_error_log
oic_auth: verifying signature
request started for JWKS



=== TEST 8: an undecodable token: 401 invalid_token with the reason, no JWKS fetch
--- config
    location /t {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-mal/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        add_header X-Err $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
--- request
GET /t
--- more_headers eval
"Authorization: Bearer " . main::forge('hello', '{}', 'sig')
--- error_code: 401
--- response_headers eval
"WWW-Authenticate: " . main::invalid('header: invalid JSON (\'[\' or \'{\' expected)') . "\nX-Err: invalid_token"
--- error_log
oic_auth: invalid token: header: invalid JSON ('[' or '{' expected)
--- no_error_log
request started for JWKS
oic_auth: verifying signature



=== TEST 9: time claims with the default leeway (60 s): expired 10 min or 2 min ago, nbf or iat 10 min ahead, no exp are refused; expired 20 s ago, nbf/iat 20 s ahead, a fractional exp, no nbf/iat pass
--- config
    location /t {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-time/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        add_header X-Exp $oic_auth_claim_exp always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
--- request eval
[("GET /t") x 9]
--- more_headers eval
[map { main::auth($_) } qw(expired exp_2m_ago not_yet future_iat no_exp exp_20s_ago nbf_in_20s frac_exp no_nbf_iat)]
--- error_code eval
[401, 401, 401, 401, 401, 200, 200, 200, 200]
--- response_headers eval
["WWW-Authenticate: " . main::invalid('token expired'),
 "WWW-Authenticate: " . main::invalid('token expired'),
 "WWW-Authenticate: " . main::invalid('token not yet valid (nbf)'),
 "WWW-Authenticate: " . main::invalid('token issued in the future (iat)'),
 "WWW-Authenticate: " . main::invalid('exp missing'),
 "!WWW-Authenticate",
 "!WWW-Authenticate",
 "!WWW-Authenticate\nX-Exp: " . ($main::NOW + 3600) . ".25",
 "!WWW-Authenticate\nX-Exp: " . main::claim('no_nbf_iat', 'exp')]



=== TEST 10: oic_auth_leeway 10m (the most it may be) accepts a token expired 480 s ago, or valid from 480 s in the future; leeway 0 still accepts valid tokens
--- config
    location /lenient {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-time/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_leeway 10m;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
    location /strict {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-time/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_leeway 0;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
--- request eval
["GET /lenient", "GET /lenient", "GET /lenient", "GET /strict", "GET /strict"]
--- more_headers eval
[map { main::auth($_) } qw(expired_8m not_yet_8m future_iat_8m frac_exp expired)]
--- error_code eval
[200, 200, 200, 200, 401]
--- response_headers eval
["!WWW-Authenticate", "!WWW-Authenticate", "!WWW-Authenticate", "!WWW-Authenticate",
 "WWW-Authenticate: " . main::invalid('token expired')]



=== TEST 11: oic_auth_algorithms: RS256 only by default, PS256 and ES256 refused
--- config
    location /t {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-alg/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
--- request eval
[("GET /t") x 4]
--- more_headers eval
[map { main::auth($_) } qw(alg_rs256 alg_ps256 alg_es256 alg_rs384)]
--- error_code eval
[200, 401, 401, 401]
--- response_headers eval
["!WWW-Authenticate",
 "WWW-Authenticate: " . main::invalid('alg PS256 not allowed'),
 "WWW-Authenticate: " . main::invalid('alg ES256 not allowed'),
 "WWW-Authenticate: " . main::invalid('alg RS384 not allowed')]



=== TEST 12: oic_auth_algorithms with every family: RS256/384/512, PS256/384/512 and ES256 tokens of the tenant's keys pass; RS256 is refused where only ES256 is allowed
--- config
    location /all {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-alg/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_algorithms RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
    location /es {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-alg/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_algorithms ES256;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
--- request eval
[("GET /all") x 7, "GET /es", "GET /es"]
--- more_headers eval
[map { main::auth($_) } qw(alg_rs256 alg_rs384 alg_rs512 alg_ps256 alg_ps384 alg_ps512 alg_es256 alg_es256 alg_rs256)]
--- error_code eval
[(200) x 8, 401]
--- response_headers eval
[("!WWW-Authenticate") x 8, "WWW-Authenticate: " . main::invalid('alg RS256 not allowed')]



=== TEST 13: scopes per team: the HR route lets the HR token through and answers 403 insufficient_scope to the IT token (whose scopes, refused, are not shown)
--- config
    location /hr {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-scope/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_scopes_required oic_api_HR;
        add_header X-Err $oic_auth_error always;
        add_header X-Scopes $oic_auth_scopes always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
--- request eval
["GET /hr", "GET /hr", "GET /hr", "GET /hr", "GET /hr"]
--- more_headers eval
[map { main::auth($_) } qw(hr hr_it it hr_like noscope)]
--- error_code eval
[200, 200, 403, 403, 403]
--- response_headers eval
["!WWW-Authenticate\n!X-Err\nX-Scopes: oic_api_HR",
 "!WWW-Authenticate\n!X-Err\nX-Scopes: oic_api_IT oic_api_HR",
 "WWW-Authenticate: Bearer realm=\"oic\", error=\"insufficient_scope\", scope=\"oic_api_HR\"\nX-Err: insufficient_scope\n!X-Scopes",
 "WWW-Authenticate: Bearer realm=\"oic\", error=\"insufficient_scope\", scope=\"oic_api_HR\"\nX-Err: insufficient_scope\n!X-Scopes",
 "WWW-Authenticate: Bearer realm=\"oic\", error=\"insufficient_scope\", scope=\"oic_api_HR\"\nX-Err: insufficient_scope\n!X-Scopes"]
--- error_log
oic_auth: verifying signature



=== TEST 14: oic_auth_scopes_match any (default) and all
--- config
    location /any {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-scope/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_scopes_required oic_api_HR oic_api_IT;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
    location /all {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-scope/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_scopes_required oic_api_HR oic_api_IT;
        oic_auth_scopes_match all;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
--- request eval
["GET /any", "GET /any", "GET /any", "GET /all", "GET /all", "GET /all"]
--- more_headers eval
[map { main::auth($_) } qw(hr it noscope hr_it hr it)]
--- error_code eval
[200, 200, 403, 200, 403, 403]
--- response_headers eval
["!WWW-Authenticate", "!WWW-Authenticate",
 "WWW-Authenticate: Bearer realm=\"oic\", error=\"insufficient_scope\", scope=\"oic_api_HR oic_api_IT\"",
 "!WWW-Authenticate",
 "WWW-Authenticate: Bearer realm=\"oic\", error=\"insufficient_scope\", scope=\"oic_api_HR oic_api_IT\"",
 "WWW-Authenticate: Bearer realm=\"oic\", error=\"insufficient_scope\", scope=\"oic_api_HR oic_api_IT\""]



=== TEST 15: oic_auth_scope_claims: scope, scp and roles by default (an app-only token's roles, an IAM-style scope string); only scp when configured so
--- config
    location /default {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-scope/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_scopes_required OIC.Invoke oic_api_IT;
        add_header X-Scopes $oic_auth_scopes always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
    location /scp {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-scope/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_scope_claims scp;
        oic_auth_scopes_required OIC.Invoke oic_api_IT;
        add_header X-Scopes $oic_auth_scopes always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
--- request eval
["GET /default", "GET /default", "GET /scp", "GET /scp", "GET /scp"]
--- more_headers eval
[map { main::auth($_) } qw(app_only iam_scope app_only iam_scope it)]
--- error_code eval
[200, 200, 403, 403, 200]
--- response_headers eval
["X-Scopes: OIC.Invoke", "X-Scopes: oic_api_IT other",
 "!X-Scopes\nWWW-Authenticate: Bearer realm=\"oic\", error=\"insufficient_scope\", scope=\"OIC.Invoke oic_api_IT\"",
 "!X-Scopes\nWWW-Authenticate: Bearer realm=\"oic\", error=\"insufficient_scope\", scope=\"OIC.Invoke oic_api_IT\"",
 "X-Scopes: oic_api_IT"]



=== TEST 16: $oic_auth_scopes: every scope claim, in the configured order, space-separated, without duplicates (strings split on spaces, array strings as they are)
--- config
    location /t {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-scope/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        add_header X-Scopes $oic_auth_scopes always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
    location /roles-first {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-scope/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_scope_claims roles scp;
        add_header X-Scopes $oic_auth_scopes always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
--- request eval
["GET /t", "GET /roles-first"]
--- more_headers eval
[main::auth('scopes_mix'), main::auth('scopes_mix')]
--- error_code eval
[200, 200]
--- response_headers eval
["X-Scopes: c a b d", "X-Scopes: d b a"]



=== TEST 17: oic_auth_deny_status 404: a valid token without the scopes gets a plain 404, no challenge; invalid tokens still get 401
--- config
    location /hr {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-scope/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_scopes_required oic_api_HR;
        oic_auth_deny_status 404;
        add_header X-Err $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
--- request eval
["GET /hr", "GET /hr", "GET /hr", "GET /hr"]
--- more_headers eval
[main::auth('hr'), main::auth('it'), "", main::auth('expired')]
--- error_code eval
[200, 404, 401, 401]
--- response_headers eval
["!WWW-Authenticate\n!X-Err",
 "!WWW-Authenticate\nX-Err: insufficient_scope",
 "WWW-Authenticate: Bearer realm=\"oic\"\nX-Err: no_credentials",
 "WWW-Authenticate: " . main::invalid('token expired') . "\nX-Err: invalid_token"]
--- response_body_like eval
[qr/^plain$/, qr/<title>404 Not Found<\/title>/, qr/401 Authorization Required/, qr/401 Authorization Required/]



=== TEST 18: $oic_auth_claim_NAME: strings and numbers as they are, booleans, arrays space-joined (scalars only), objects/null/absent empty
--- config
    location /t {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-claim/discovery/keys;
        oic_auth_audience api://oic-gateway;
        add_header X-Num "[$oic_auth_claim_num]" always;
        add_header X-Real "[$oic_auth_claim_real]" always;
        add_header X-T "[$oic_auth_claim_t]" always;
        add_header X-F "[$oic_auth_claim_f]" always;
        add_header X-Arr "[$oic_auth_claim_arr]" always;
        add_header X-Obj "[$oic_auth_claim_obj]" always;
        add_header X-Nul "[$oic_auth_claim_nul]" always;
        add_header X-Absent "[$oic_auth_claim_absent]" always;
        add_header X-Exp "[$oic_auth_claim_exp]" always;
        add_header X-Str "[$oic_auth_claim_str]" always;
        add_header X-Amr "[$oic_auth_claim_amr]" always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
--- request
GET /t
--- more_headers eval
main::auth('claims')
--- error_code: 200
--- response_headers eval
"X-Num: [42]
X-Real: [1.5]
X-T: [true]
X-F: [false]
X-Arr: [1 x true]
X-Obj: []
X-Nul: []
X-Absent: []
X-Exp: [" . ($main::NOW + 3600) . ".25]
X-Str: [a b]
X-Amr: [" . main::claim('claims', 'amr') . "]"



=== TEST 19: $oic_auth_user: the first non-empty of upn, preferred_username, unique_name; empty for an app-only token
--- config
    location /t {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-claim/discovery/keys;
        oic_auth_audience api://oic-gateway;
        add_header X-User "[$oic_auth_user]" always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
--- request eval
[("GET /t") x 5]
--- more_headers eval
[map { main::auth($_) } qw(u_pref u_upn u_unique u_empty_upn u_none)]
--- error_code eval
[(200) x 5]
--- response_headers eval
["X-User: [pref\@x]", "X-User: [upn\@x]", "X-User: [un\@x]", "X-User: [un\@x]", "X-User: []"]



=== TEST 20: oic_auth_realm names the realm of every challenge (no credentials, invalid token, insufficient scope)
--- config
    location /t {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-realm/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_realm "HR APIs";
        oic_auth_scopes_required oic_api_HR;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
["", "Authorization: Bearer", "Authorization: Bearer " . main::forge('[]', '{}', 'sig'), main::auth('realm_ok')]
--- error_code eval
[401, 400, 401, 403]
--- response_headers eval
["WWW-Authenticate: Bearer realm=\"HR APIs\"",
 "WWW-Authenticate: Bearer realm=\"HR APIs\", error=\"invalid_request\", error_description=\"malformed Authorization header\"",
 "WWW-Authenticate: " . main::invalid('header: not a JSON object', 'HR APIs'),
 "WWW-Authenticate: Bearer realm=\"HR APIs\", error=\"insufficient_scope\", scope=\"oic_api_HR\""]



=== TEST 21: the mock OCI IAM's own tokens validate in bearer mode (IAM JWKS, issuer, OIC audience, scope claim) and OIC accepts the forwarded token
--- config
    location /oic {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/admin/v1/SigningCert/jwk;
        oic_auth_issuer https://identity.oraclecloud.com/;
        oic_auth_audience $TEST_NGINX_OIC_AUDIENCE;
        oic_auth_scopes_required urn:opc:resource:consumer::all;
        add_header X-Sub $oic_auth_subject always;
        add_header X-Scopes $oic_auth_scopes always;
        add_header X-Sub-Type $oic_auth_claim_sub_type always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /oic/ic/api/integration/v1/flows", "GET /oic/ic/api/integration/v1/flows"]
--- more_headers eval
[main::auth('iam'), main::auth('iam_api')]
--- error_code eval
[200, 403]
--- response_headers eval
["X-Sub: hr-app\nX-Scopes: urn:opc:resource:consumer::all\nX-Sub-Type: client\n!WWW-Authenticate",
 "!X-Sub\n!X-Scopes\nWWW-Authenticate: Bearer realm=\"oic\", error=\"insufficient_scope\", scope=\"urn:opc:resource:consumer::all\""]
--- response_body_like eval
[qr/^\{"method":"GET","path":"\/oic\/ic\/api\/integration\/v1\/flows",.*"sub":"hr-app","sub_type":"client","scope":"urn:opc:resource:consumer::all"/,
 qr/403 Forbidden/]



=== TEST 22: a Microsoft Graph token (nonce header, Graph audience) is refused on its audience, before any key is fetched or signature checked
--- config
    location /t {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-graph/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/b-graph/v2.0;
        oic_auth_audience api://oic-gateway;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
--- request
GET /t
--- more_headers eval
main::auth('graph')
--- error_code: 401
--- response_headers eval
"WWW-Authenticate: " . main::invalid('aud does not match')
--- error_log
oic_auth: invalid token: aud does not match
--- no_error_log
oic_auth: verifying signature
request started for JWKS



=== TEST 23: claims are checked before the signature: an expired token with a bad signature is refused as expired, a foreign-signed token with a wrong aud on its audience, and no JWKS is fetched
--- config
    location /t {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-order/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
--- request eval
["GET /t", "GET /t", "GET /stats"]
--- more_headers eval
[main::auth('exp_badsig'), main::auth('aud_badsig'), ""]
--- response_body_filters eval
main::summary('b-order')
--- error_code eval
[401, 401, 200]
--- response_headers eval
["WWW-Authenticate: " . main::invalid('token expired'),
 "WWW-Authenticate: " . main::invalid('aud does not match'), ""]
--- response_body_like eval
[qr/401/, qr/401/, qr/^jwks=0$/]
--- no_error_log
oic_auth: verifying signature



=== TEST 24: the verified-token cache: a repeat of a token skips the signature check (here /outer proxies to /inner with the same token)
--- config
    location /outer {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-cache/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/inner;
    }
    location /inner {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-cache/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/_echo;
    }
--- request
GET /outer
--- more_headers eval
main::auth('cached')
--- error_code: 200
--- response_body eval
"Bearer " . main::tok('cached')
--- grep_error_log eval
qr/oic_auth: (?:verifying signature|signature already verified \(cache\))/
--- grep_error_log_out
oic_auth: verifying signature
oic_auth: signature already verified (cache)



=== TEST 25: the cache skips only the signature: time claims and the route's scopes are checked again for a cached token
--- config
    location /lenient {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-cache2/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_leeway 10m;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT$arg_next;
    }
    location /strict-time {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-cache2/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/_echo;
    }
    location /it-only {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-cache2/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_leeway 10m;
        oic_auth_scopes_required oic_api_IT;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/_echo;
    }
--- request eval
["GET /lenient?next=/strict-time", "GET /lenient?next=/it-only", "GET /_errlog"]
--- more_headers eval
[main::auth('cached_nbf'), main::auth('cached_nbf'), ""]
--- response_body_filters eval
main::summary()
--- error_code eval
[401, 403, 200]
--- response_body_like eval
[qr/401 Authorization Required/, qr/403 Forbidden/,
 qr/\AJWKS "URI:\/b-cache2\/discovery\/v2.0\/keys" fetched, 3 keys
verifying signature
invalid token: token not yet valid \(nbf\)
signature already verified \(cache\)
signature already verified \(cache\)
token lacks the required scopes "oic_api_IT"
\z/]



=== TEST 26: oic_auth basic bearer: the scheme picks the mode; without credentials both challenges are offered
--- config
    location /t {
        oic_auth basic bearer;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-mixed/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        add_header X-Err $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/_echo;
    }
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
[main::auth('mixed'), "", "Authorization: Bearer x.y"]
--- error_code eval
[200, 401, 401]
--- response_headers eval
["!WWW-Authenticate",
 "WWW-Authenticate: Basic realm=\"oic\", charset=\"UTF-8\", Bearer realm=\"oic\"\nX-Err: no_credentials",
 "WWW-Authenticate: " . main::invalid('token is not three dot-separated segments') . "\nX-Err: invalid_token"]
--- response_body_like eval
[qr/^Bearer \Q${\ main::tok('mixed')}\E$/, qr/401/, qr/401/]



=== TEST 27: nginx -t: oic_auth_jwks_uri and oic_auth_jwks_file together are refused
--- config
    location /t {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-conf/discovery/v2.0/keys;
        oic_auth_jwks_file $TEST_NGINX_CERTS/ec.pem;
        oic_auth_audience api://oic-gateway;
    }
--- must_die
--- error_log
"oic_auth_jwks_uri" and "oic_auth_jwks_file" cannot be used together



=== TEST 28: nginx -t: oic_auth_algorithms refuses HMAC (HS256)
--- config
    location /t {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-conf/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_algorithms RS256 HS256;
    }
--- must_die
--- error_log
unsupported algorithm "HS256", use RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384 or ES512



=== TEST 29: nginx -t: oic_auth_algorithms none is refused
--- config
    location /t {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-conf/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_algorithms none;
    }
--- must_die
--- error_log
unsupported algorithm "none"



=== TEST 30: nginx -t: oic_auth_deny_status takes only 403 or 404
--- config
    location /t {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-conf/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_deny_status 401;
    }
--- must_die
--- error_log
invalid value "401", it must be 403 or 404



=== TEST 31: nginx -t: oic_auth_scopes_match takes only any or all
--- config
    location /t {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-conf/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_scopes_match some;
    }
--- must_die
--- error_log
invalid value "some"



=== TEST 32: nginx -t: a plain http JWKS URI on another host than loopback is refused
--- config
    location /t {
        oic_auth bearer;
        oic_auth_jwks_uri http://login.microsoftonline.com/tid/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
    }
--- must_die
--- error_log
"oic_auth_jwks_uri" "http://login.microsoftonline.com/tid/discovery/v2.0/keys": plain http is only allowed to a loopback host, use https://



=== TEST 33: nginx -t: an oic_auth_jwks_file that does not exist is refused with its name
--- config
    location /t {
        oic_auth bearer;
        oic_auth_jwks_file $TEST_NGINX_CERTS/no-such-file.json;
        oic_auth_audience api://oic-gateway;
    }
--- must_die
--- error_log eval
qr/open\(\) "[^"]*\/no-such-file\.json" failed/



=== TEST 34: nginx -t: an oic_auth_jwks_file without a usable key (an HMAC "oct" key) is refused with the reason
--- user_files
>>> keys.json
{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"hmac"}]}
--- config
    location /t {
        oic_auth bearer;
        oic_auth_jwks_file ../html/keys.json;
        oic_auth_audience api://oic-gateway;
    }
--- must_die
--- error_log eval
qr/"oic_auth_jwks_file" "[^"]*\/html\/keys\.json": JWKS: no usable key \(last skipped: unsupported kty\)/



=== TEST 35: nginx -t: oic_auth_leeway takes a time
--- config
    location /t {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-conf/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_leeway soon;
    }
--- must_die
--- error_log
"oic_auth_leeway" directive invalid value



=== TEST 36: nginx -t: oic_auth bearer requires oic_auth_audience
--- config
    location /t {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-conf/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/b-conf/v2.0;
    }
--- must_die
--- error_log
"oic_auth bearer" and "oic_auth exchange" require "oic_auth_audience"



=== TEST 37: nginx -t: oic_auth_realm refuses a quote (it goes into the challenge's quoted-string)
--- config
    location /t {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-conf/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_realm 'HR "APIs"';
    }
--- must_die
--- error_log
invalid "oic_auth_realm" "HR "APIs"": quotes, backslashes and control characters are not allowed



=== TEST 38: one zone, two key sets: a token verified (and remembered) under one location's JWKS is still refused by a location whose JWKS lacks its key, however often it passed the first (one worker: one decoded-token cache)
--- config
    location /a {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-memo/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
    location /b {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-memo2/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
--- request eval
["GET /a", "GET /a", "GET /b", "GET /a", "GET /b", "GET /_errlog"]
--- more_headers eval
[main::auth('memo'), main::auth('memo'), main::auth('memo'), main::auth('memo'), main::auth('memo'), ""]
--- response_body_filters eval
main::summary()
--- error_code eval
[200, 200, 401, 200, 401, 200]
--- response_body_like eval
[qr/./, qr/./, qr/401 Authorization Required/, qr/./, qr/401 Authorization Required/,
 qr/\AJWKS "URI:\/b-memo\/discovery\/v2.0\/keys" fetched, 3 keys
verifying signature
signature already verified \(cache\)
JWKS "URI:\/b-memo2\/discovery\/v2.0\/keys" fetched, 3 keys
verifying signature
unknown key id, refreshing
JWKS "URI:\/b-memo2\/discovery\/v2.0\/keys" fetched, 3 keys
verifying signature
invalid token: kid not in the key set
signature already verified \(cache\)
verifying signature
unknown key id, was fetched less than 60 s ago
invalid token: kid not in the key set
\z/]



=== TEST 39: the decoded-token cache finds a token by its tail but the whole text decides: the cached token with another payload and the same signature (same length, same tail) is not taken for it, it is refused on its signature; the genuine one is still served from the cache
--- config
    location /t {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-tail/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        add_header X-Sub $oic_auth_subject always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
--- request eval
["GET /t", "GET /t", "GET /t", "GET /_errlog"]
--- more_headers eval
[main::auth('tail'), "Authorization: Bearer " . main::same_tail(main::tok('tail')), main::auth('tail'), ""]
--- response_body_filters eval
main::summary()
--- error_code eval
[200, 401, 200, 200]
--- response_headers eval
["X-Sub: " . main::claim('tail', 'sub'), "X-Sub: ", "X-Sub: " . main::claim('tail', 'sub'), ""]
--- response_body_like eval
[qr/./, qr/401 Authorization Required/, qr/./, qr/\AJWKS "URI:\/b-tail\/discovery\/v2.0\/keys" fetched, 3 keys
verifying signature
verifying signature
signature does not verify, refreshing
JWKS "URI:\/b-tail\/discovery\/v2.0\/keys" fetched, 3 keys
verifying signature
invalid token: signature does not verify
signature already verified \(cache\)
\z/]



=== TEST 40: a token that passed skips the character check of its header, nothing else does: after it, the same token twice, or with a character outside b64token, is still 400
--- config
    location /t {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-locate/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
[main::auth('located'), main::auth('located') . " " . main::tok('located'), main::auth('located') . "!",
 "Authorization: Bearer  " . main::tok('located') . "  ", main::auth('located')]
--- error_code eval
[200, 400, 400, 200, 200]



=== TEST 41: a token's verdict on a location's claims and scopes is remembered for that location only, and only while it holds: alternating with a location whose scopes it lacks (403) and one for another audience (401), it passes its own each time; once its exp is past (leeway 0; the mock's 8 s pause) it is refused as expired there too
--- config
    location /hr {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-verdict/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_leeway 0;
        oic_auth_scopes_required oic_api_HR;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
    location /it {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-verdict/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_leeway 0;
        oic_auth_scopes_required oic_api_IT;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
    location /other-aud {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/b-verdict/discovery/v2.0/keys;
        oic_auth_audience api://other;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
    location /wait {
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/_delay/8000;
    }
--- request eval
["GET /hr", "GET /it", "GET /hr", "GET /other-aud", "GET /hr", "GET /wait", "GET /hr", "GET /_errlog"]
--- more_headers eval
[(main::auth('verdict')) x 5, "", main::auth('verdict'), ""]
--- timeout: 20
--- response_body_filters eval
main::summary()
--- error_code eval
[200, 403, 200, 401, 200, 200, 401, 200]
--- response_body_like eval
[qr/./, qr/403 Forbidden/, qr/./, qr/401 Authorization Required/, qr/./, qr/./, qr/401 Authorization Required/,
 qr/\AJWKS "URI:\/b-verdict\/discovery\/v2.0\/keys" fetched, 3 keys
verifying signature
signature already verified \(cache\)
token lacks the required scopes "oic_api_IT"
signature already verified \(cache\)
invalid token: aud does not match
signature already verified \(cache\)
invalid token: token expired
\z/]
