# oic_auth bearer (issue #3): the hostile-input list. Every case gets a 401
# invalid_token (400 invalid_request for a malformed header) with the exact
# reason in the challenge and in a log line, never a pass and never a crash.
#
#   TEST_NGINX_BINARY=/usr/sbin/nginx TEST_NGINX_MODULE=$PWD/build/ngx_http_oic_auth_module.so \
#   TEST_NGINX_PORT=26984 TEST_NGINX_SERVROOT=/tmp/bearer-servroot prove -I t/lib t/bearer-hostile.t
#
# A block without --- config gets the location below ($DEFAULT: Entra tenant
# h-main, RS256 only); without --- request, "GET /t". Tokens are declared by
# name below and minted once (see t/inc/OicBearer.pm); main::valid is a
# genuine token of h-main, which the positive control block lets through.

use FindBin; use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use OicTest;
use OicBearer;
use HTTP::Tiny;
use JSON::PP;

master_on();
workers(1);

our $DEFAULT = <<'_EOC_';
    location /t {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/h-main/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/h-main/v2.0;
        oic_auth_audience api://oic-gateway;
        add_header X-Err $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
_EOC_

$OicBearer::DefaultConfig = $DEFAULT;
$OicBearer::DefaultRequest = 'GET /t';

our $IAM = $ENV{TEST_NGINX_IAM_PORT};
our $ISS = 'https://login.microsoftonline.com/h-main/v2.0';
our $JSONC = JSON::PP->new->canonical;

# the JWKS of a tenant as the mock publishes it now
sub tenant_jwks {
    my $tid = shift;
    my $r = HTTP::Tiny->new->get(OicTest::entra_jwks_uri($tid));
    die "JWKS of $tid: $r->{status}\n" unless $r->{success};
    return decode_json($r->{content});
}

# the kid of the first RSA key of a tenant's JWKS
sub rsa_kid { my $tid = shift; return (grep { $_->{kty} eq 'RSA' } @{ tenant_jwks($tid)->{keys} })[0]{kid}; }

# a genuine token's header and payload texts, for forgeries that keep them
sub parts { my @p = split /\./, tok(shift); return @p; }

# a payload that passes every claim check of $DEFAULT
sub payload {
    my %over = @_;
    my %c = (aud => 'api://oic-gateway', iss => $ISS, iat => time, nbf => time, exp => time + 3600, sub => 'x');
    @c{keys %over} = values %over;
    return $JSONC->encode(\%c);
}

# a location with a JWKS file made from tenant $tid's JWKS, each key passed through $edit
sub file_location {
    my ($tid, $edit, @algs) = @_;
    my $jwks = tenant_jwks($tid);
    $edit->($_) for @{ $jwks->{keys} };
    my $path = write_temp("$tid.json", $JSONC->encode($jwks));
    my $algs = @algs ? "oic_auth_algorithms @algs;" : '';
    return <<"_EOC_";
    location /t {
        oic_auth bearer;
        oic_auth_jwks_file $path;
        oic_auth_audience api://oic-gateway;
        $algs
        add_header X-Err \$oic_auth_error always;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_OIC_PORT/_plain/;
    }
_EOC_
}

tokens(
    valid       => ['h-main', {}],
    frac_exp    => ['h-main', { claims => { exp => time + 3600.5, nbf => time - 0.5 } }],
    # alg none / HMAC / not allowed
    none        => ['h-main', { unsigned => 1 }],
    none_sig    => ['h-main', { unsigned => 1, signature_from => 'x.y.' . (split /\./, OicTest::entra_token('h-main', {}))[2] }],
    none_upper  => ['h-main', { header => { alg => 'NONE' } }],
    none_mixed  => ['h-main', { header => { alg => 'nOnE' } }],
    hs_spki     => ['h-main', { hmac_with_public_key => JSON::PP::true }],
    hs_nonl     => ['h-main', { hmac_with_public_key => 'spki_nonl' }],
    hs_pkcs1    => ['h-main', { hmac_with_public_key => 'pkcs1' }],
    hs_der      => ['h-main', { hmac_with_public_key => 'der' }],
    hs_secret   => ['h-main', { hmac_secret => 'secret' }],
    hs512       => ['h-main', { hmac_with_public_key => JSON::PP::true, header => { alg => 'HS512' } }],
    ps256       => ['h-main', { alg => 'PS256' }],
    es256       => ['h-main', { alg => 'ES256' }],
    alg_rs1     => ['h-main', { header => { alg => 'RS1' } }],
    alg_eddsa   => ['h-main', { header => { alg => 'EdDSA' } }],
    alg_missing => ['h-main', { header => { alg => undef } }],
    alg_number  => ['h-main', { header => { alg => 256 } }],
    # key / header disagreements
    jwk_alg     => ['h-jwkalg', {}],
    jwk_enc     => ['h-jwkuse', {}],
    kty_ec_rsa  => sub { my ($h, $p) = parts('valid');
                         forge($JSONC->encode({ alg => 'ES256', typ => 'JWT', kid => rsa_kid('h-main') }), payload(), 'r' x 64) },
    crv_es384   => sub { forge($JSONC->encode({ alg => 'ES384', typ => 'JWT', kid => 'ec-1' }), payload(), 's' x 96) },
    es_short    => sub { forge($JSONC->encode({ alg => 'ES256', typ => 'JWT', kid => 'ec-1' }), payload(), 's' x 63) },
    relabel_ps  => ['h-main', { header => { alg => 'PS256' } }],
    # kid
    kid_unknown => ['h-main', { header => { kid => 'no-such-kid', x5t => 'no-such-kid' } }],
    kid_path    => ['h-main', { header => { kid => '../../../../etc/passwd' } }],
    kid_quote   => ['h-main', { header => { kid => qq{a"b\\c'd\x{7f}} } }],
    kid_sql     => ['h-main', { header => { kid => "' OR '1'='1" } }],
    kid_long    => ['h-main', { header => { kid => 'k' x 300 } }],
    kid_number  => ['h-main', { header => { kid => 17 } }],
    kid_none    => ['h-main', { header => { kid => undef, x5t => undef } }],
    # crit, jku, x5u, jwk
    crit        => ['h-main', { header => { crit => ['exp'], exp => 1 } }],
    crit_empty  => ['h-main', { header => { crit => [] } }],
    jku         => ['h-jku-b', { header => { jku => "http://127.0.0.1:$IAM/h-jku-b/discovery/v2.0/keys" },
                                 claims => { iss => 'https://login.microsoftonline.com/h-jku-a/v2.0' } }],
    x5u         => ['h-jku-b', { header => { x5u => "http://127.0.0.1:$IAM/h-jku-b/discovery/keys" },
                                 claims => { iss => 'https://login.microsoftonline.com/h-jku-a/v2.0' } }],
    jwk_own_kid => ['h-main', { sign_with => 'foreign', embed_jwk => 1 }],
    jwk_our_kid => sub { entra_token('h-main', { sign_with => 'foreign', embed_jwk => 1,
                                                  header => { kid => rsa_kid('h-main') } }) },
    # signatures
    other_sig   => sub { entra_token('h-main', { signature_from => OicTest::entra_token('h-main', { user => 'bob@example.com' }) }) },
    foreign     => sub { entra_token('h-main', { sign_with => 'foreign', header => { kid => rsa_kid('h-main') } }) },
    empty_sig   => sub { my ($h, $p) = parts('valid'); "$h.$p." },
    short_sig   => sub { my ($h, $p) = parts('valid'); "$h.$p." . b64u('x' x 64) },
    own_payload => sub { b64u($JSONC->encode({ alg => 'RS256', typ => 'JWT', kid => rsa_kid('h-main') }))
                         . '.' . b64u(payload(sub => 'mallory', name => 'Mallory', scp => 'oic_api_admin')) . '.AAAA' },
    # JSON structure
    hdr_array   => ['h-main', { raw_header => '["alg","RS256"]' }],
    hdr_string  => ['h-main', { raw_header => '"RS256"' }],
    pay_array   => ['h-main', { raw_payload => '[{"aud":"api://oic-gateway"}]' }],
    pay_string  => ['h-main', { raw_payload => '"api://oic-gateway"' }],
    pay_null    => ['h-main', { raw_payload => 'null' }],
    pay_number  => ['h-main', { raw_payload => '42' }],
    pay_broken  => ['h-main', { raw_payload => '{"aud":"api://oic-gateway",' }],
    pay_trail   => sub { entra_token('h-main', { raw_payload => payload() . 'x' }) },
    dup_claim   => sub { entra_token('h-main', { raw_payload => '{"aud":"api://other",' . substr(payload(), 1) }) },
    dup_header  => sub { entra_token('h-main', { raw_header => '{"alg":"none","alg":"RS256","kid":"' . rsa_kid('h-main') . '"}' }) },
    # claim types
    exp_string  => ['h-main', { claims => { exp => '' . (time + 3600) } }],
    exp_bool    => ['h-main', { claims => { exp => JSON::PP::true } }],
    nbf_string  => ['h-main', { claims => { nbf => '' . time } }],
    iat_object  => ['h-main', { claims => { iat => { t => 1 } } }],
    aud_number  => ['h-main', { claims => { aud => 17 } }],
    iss_array   => ['h-main', { claims => { iss => [$ISS] } }],
    # sizes
    big64k      => ['h-main', { claims => { pad => 'x' x 48000 } }],
    deep10k     => sub { entra_token('h-main', { raw_payload => '{"aud":"api://oic-gateway","x":' . ('[' x 10000) . (']' x 10000) . '}' }) },
    deep10k_open => sub { entra_token('h-main', { raw_payload => '[' x 10000 }) },
    deep5k      => sub { entra_token('h-main', { raw_payload => '{"aud":"api://oic-gateway","x":' . ('[' x 5000) . (']' x 5000) . '}' }) },
    deep_hdr    => sub { entra_token('h-main', { raw_header => '{"alg":"RS256","x":' . ('[' x 3000) . (']' x 3000) . '}' }) },
    aud1000     => ['h-main', { claims => { aud => [map { sprintf 'a%03d', $_ } 0 .. 999] } }],
);

run_tests();

__DATA__

=== TEST 1: positive control: a genuine token of the tenant passes, also with a fractional exp/nbf (RFC 7519 NumericDate)
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
[main::auth('valid'), main::auth('frac_exp')]
--- error_code eval
[200, 200]
--- response_headers eval
["!WWW-Authenticate\n!X-Err", "!WWW-Authenticate\n!X-Err"]
--- no_error_log
[error]



=== TEST 2: alg none (no signature, another token's signature, NONE, nOnE)
--- request eval
[("GET /t") x 4]
--- more_headers eval
[map { main::auth($_) } qw(none none_sig none_upper none_mixed)]
--- error_code eval
[(401) x 4]
--- response_headers eval
[("WWW-Authenticate: " . main::invalid('alg not supported (none, HMAC or unknown)') . "\nX-Err: invalid_token") x 4]
--- error_log
oic_auth: invalid token: alg not supported (none, HMAC or unknown)
--- no_error_log
oic_auth: verifying signature
request started for JWKS
[alert]



=== TEST 3: HS256 keyed with the RSA public key (SPKI PEM with and without the final newline, PKCS#1 PEM, DER), with a plain secret, and HS512
--- request eval
[("GET /t") x 6]
--- more_headers eval
[map { main::auth($_) } qw(hs_spki hs_nonl hs_pkcs1 hs_der hs_secret hs512)]
--- error_code eval
[(401) x 6]
--- response_headers eval
[("WWW-Authenticate: " . main::invalid('alg not supported (none, HMAC or unknown)') . "\nX-Err: invalid_token") x 6]
--- error_log
oic_auth: invalid token: alg not supported (none, HMAC or unknown)
--- no_error_log
oic_auth: verifying signature
[alert]



=== TEST 4: an algorithm outside the allow-list (validly signed PS256 and ES256 tokens where only RS256 is allowed)
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
[main::auth('ps256'), main::auth('es256')]
--- error_code eval
[401, 401]
--- response_headers eval
["WWW-Authenticate: " . main::invalid('alg PS256 not allowed') . "\nX-Err: invalid_token",
 "WWW-Authenticate: " . main::invalid('alg ES256 not allowed') . "\nX-Err: invalid_token"]
--- error_log eval
qr/oic_auth: invalid token: alg (?:PS|ES)256 not allowed/
--- no_error_log
oic_auth: verifying signature
[alert]



=== TEST 5: unknown algorithm names (RS1, EdDSA)
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
[main::auth('alg_rs1'), main::auth('alg_eddsa')]
--- error_code eval
[401, 401]
--- response_headers eval
[("WWW-Authenticate: " . main::invalid('alg not supported (none, HMAC or unknown)')) x 2]
--- error_log
oic_auth: invalid token: alg not supported (none, HMAC or unknown)
--- no_error_log
[alert]



=== TEST 6: a header without alg, or with a non-string alg
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
[main::auth('alg_missing'), main::auth('alg_number')]
--- error_code eval
[401, 401]
--- response_headers eval
[("WWW-Authenticate: " . main::invalid('header alg missing or not a string')) x 2]
--- error_log
oic_auth: invalid token: header alg missing or not a string
--- no_error_log
[alert]



=== TEST 7: header alg differs from the JWK's alg: a validly signed RS256 token whose key is published with "alg":"RS384"
--- config eval
main::file_location('h-jwkalg', sub { $_[0]{alg} = 'RS384' if $_[0]{kty} eq 'RSA' }, 'RS256', 'RS384')
--- more_headers eval
main::auth('jwk_alg')
--- error_code: 401
--- response_headers eval
"WWW-Authenticate: " . main::invalid('key does not fit alg RS256') . "\nX-Err: invalid_token"
--- error_log
oic_auth: invalid token: key does not fit alg RS256
--- no_error_log
[alert]



=== TEST 8: a key published for encryption ("use":"enc") is never used to verify
--- config eval
main::file_location('h-jwkuse', sub { $_[0]{use} = 'enc' if $_[0]{kid} eq main::rsa_kid('h-jwkuse') })
--- more_headers eval
main::auth('jwk_enc')
--- error_code: 401
--- response_headers eval
"WWW-Authenticate: " . main::invalid('kid not in the key set') . "\nX-Err: invalid_token"
--- error_log
oic_auth: invalid token: kid not in the key set
--- no_error_log
[alert]



=== TEST 9: the key's type or curve does not fit the header: ES256 naming an RSA key, ES384 naming the P-256 key
--- config
    location /t {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/h-main/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_algorithms RS256 ES256 ES384;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
[main::auth('kty_ec_rsa'), main::auth('crv_es384')]
--- error_code eval
[401, 401]
--- response_headers eval
["WWW-Authenticate: " . main::invalid('key does not fit alg ES256'),
 "WWW-Authenticate: " . main::invalid('key does not fit alg ES384')]
--- error_log eval
qr/oic_auth: invalid token: key does not fit alg ES(?:256|384)/
--- no_error_log
[alert]



=== TEST 10: an ES256 signature of the wrong length; an RS256 token relabelled PS256
--- config
    location /t {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/h-main/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_algorithms RS256 PS256 ES256;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
[main::auth('es_short'), main::auth('relabel_ps')]
--- error_code eval
[401, 401]
--- response_headers eval
["WWW-Authenticate: " . main::invalid('ES256 signature must be 64 bytes'),
 "WWW-Authenticate: " . main::invalid('signature does not verify')]
--- error_log eval
qr/oic_auth: invalid token: (?:ES256 signature must be 64 bytes|signature does not verify)/
--- no_error_log
[alert]



=== TEST 11: a kid that is not in the JWKS: one refetch, then 401
--- more_headers eval
main::auth('kid_unknown')
--- error_code: 401
--- response_headers eval
"WWW-Authenticate: " . main::invalid('kid not in the key set') . "\nX-Err: invalid_token"
--- error_log
oic_auth: unknown key id, refreshing
oic_auth: invalid token: kid not in the key set
--- no_error_log
[alert]



=== TEST 12: kids with path, quote, backslash, DEL and SQL characters are only compared, never used (no file, no echo into the header)
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
[main::auth('kid_path'), main::auth('kid_quote'), main::auth('kid_sql')]
--- error_code eval
[401, 401, 401]
--- response_headers eval
[("WWW-Authenticate: " . main::invalid('kid not in the key set')) x 3]
--- error_log
oic_auth: invalid token: kid not in the key set
--- no_error_log
etc/passwd
[alert]
[crit]



=== TEST 13: a kid longer than 256 bytes, or not a string
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
[main::auth('kid_long'), main::auth('kid_number')]
--- error_code eval
[401, 401]
--- response_headers eval
[("WWW-Authenticate: " . main::invalid('kid not a string of at most 256 bytes')) x 2]
--- error_log
oic_auth: invalid token: kid not a string of at most 256 bytes
--- no_error_log
[alert]



=== TEST 14: no kid while the JWKS holds several RSA keys
--- more_headers eval
main::auth('kid_none')
--- error_code: 401
--- response_headers eval
"WWW-Authenticate: " . main::invalid('no kid and several keys for RS256')
--- error_log
oic_auth: invalid token: no kid and several keys for RS256
--- no_error_log
[alert]



=== TEST 15: a crit header (with a name, or empty)
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
[main::auth('crit'), main::auth('crit_empty')]
--- error_code eval
[401, 401]
--- response_headers eval
[("WWW-Authenticate: " . main::invalid('crit header not supported')) x 2]
--- error_log
oic_auth: invalid token: crit header not supported
--- no_error_log
oic_auth: verifying signature
[alert]



=== TEST 16: jku and x5u headers pointing at a JWKS holding the signing key are ignored, never fetched
--- config
    location /t {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/h-jku-a/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/h-jku-a/v2.0;
        oic_auth_audience api://oic-gateway;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
--- request eval
["GET /t", "GET /t", "GET /stats", "GET /_errlog"]
--- more_headers eval
[main::auth('jku'), main::auth('x5u'), "", ""]
--- response_body_filters eval
main::summary('h-jku-b')
--- error_code eval
[401, 401, 200, 200]
--- response_headers eval
[("WWW-Authenticate: " . main::invalid('kid not in the key set')) x 2, "", ""]
--- response_body_like eval
[qr/401/, qr/401/, qr/\Ajwks=0\n\z/,
 qr/\AJWKS "URI:\/h-jku-a\/discovery\/v2.0\/keys" fetched, 3 keys
verifying signature
unknown key id, refreshing
JWKS "URI:\/h-jku-a\/discovery\/v2.0\/keys" fetched, 3 keys
verifying signature
invalid token: kid not in the key set
verifying signature
unknown key id, was fetched less than 60 s ago
invalid token: kid not in the key set
\z/]



=== TEST 17: an embedded jwk header is never trusted: with the foreign key's own kid, and with the tenant's kid
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
[main::auth('jwk_own_kid'), main::auth('jwk_our_kid')]
--- error_code eval
[401, 401]
--- response_headers eval
["WWW-Authenticate: " . main::invalid('kid not in the key set'),
 "WWW-Authenticate: " . main::invalid('signature does not verify')]
--- error_log eval
qr/oic_auth: invalid token: (?:kid not in the key set|signature does not verify)/
--- no_error_log
[alert]



=== TEST 18: the signature of another genuine token of the same key; a signature by a key outside the JWKS under the tenant's kid
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
[main::auth('other_sig'), main::auth('foreign')]
--- error_code eval
[401, 401]
--- response_headers eval
[("WWW-Authenticate: " . main::invalid('signature does not verify') . "\nX-Err: invalid_token") x 2]
--- error_log
oic_auth: verifying signature
oic_auth: invalid token: signature does not verify
--- no_error_log
[alert]



=== TEST 19: an empty signature, and an RS256 signature of the wrong length
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
[main::auth('empty_sig'), main::auth('short_sig')]
--- error_code eval
[401, 401]
--- response_headers eval
["WWW-Authenticate: " . main::invalid('empty signature'),
 "WWW-Authenticate: " . main::invalid('signature does not verify')]
--- error_log eval
qr/oic_auth: invalid token: (?:empty signature|signature does not verify)/
--- no_error_log
[alert]



=== TEST 20: truncated tokens: the signature cut short, one segment cut off, a dot too many
--- request eval
[("GET /t") x 5]
--- more_headers eval
["Authorization: Bearer " . substr(main::tok('valid'), 0, -2),
 "Authorization: Bearer " . substr(main::tok('valid'), 0, -1),
 "Authorization: Bearer " . CORE::join('.', (main::parts('valid'))[0, 1]),
 "Authorization: Bearer " . main::tok('valid') . ".x",
 "Authorization: Bearer " . (main::parts('valid'))[0]]
--- error_code eval
[(401) x 5]
--- response_headers eval
["WWW-Authenticate: " . main::invalid('signature does not verify'),
 "WWW-Authenticate: " . main::invalid('signature segment is not base64url'),
 "WWW-Authenticate: " . main::invalid('token is not three dot-separated segments'),
 "WWW-Authenticate: " . main::invalid('token is not three dot-separated segments'),
 "WWW-Authenticate: " . main::invalid('token is not three dot-separated segments')]
--- error_log
oic_auth: invalid token:
--- no_error_log
[alert]



=== TEST 21: padded and non-base64url segments: "=" at the end, "+" and "/" (base64, not base64url), empty segments
--- request eval
[("GET /t") x 5]
--- more_headers eval
["Authorization: Bearer " . main::tok('valid') . "==",
 "Authorization: Bearer " . do { my @p = main::parts('valid'); $p[1] =~ tr/-_/+\//; $p[1] .= 'A+/A'; CORE::join '.', @p },
 "Authorization: Bearer " . do { my @p = main::parts('valid'); "$p[0]+.$p[1].$p[2]" },
 "Authorization: Bearer ..",
 "Authorization: Bearer " . do { my @p = main::parts('valid'); "$p[0]..$p[2]" }]
--- error_code eval
[(401) x 5]
--- response_headers eval
["WWW-Authenticate: " . main::invalid('signature segment is not base64url'),
 "WWW-Authenticate: " . main::invalid('payload segment is not base64url'),
 "WWW-Authenticate: " . main::invalid('header segment is not base64url'),
 "WWW-Authenticate: " . main::invalid('header: invalid JSON (\'[\' or \'{\' expected)'),
 "WWW-Authenticate: " . main::invalid('payload: invalid JSON (\'[\' or \'{\' expected)')]
--- error_log
oic_auth: invalid token:
--- no_error_log
[alert]



=== TEST 22: padding inside the token, and characters outside b64token, are a malformed header: 400
--- request eval
[("GET /t") x 3]
--- more_headers eval
["Authorization: Bearer " . do { my @p = main::parts('valid'); "$p[0]=.$p[1].$p[2]" },
 "Authorization: Bearer " . do { my @p = main::parts('valid'); "$p[0].$p[1]*.$p[2]" },
 "Authorization: Bearer " . main::tok('valid') . "\x01"]
--- error_code eval
[(400) x 3]
--- response_headers eval
[("WWW-Authenticate: Bearer realm=\"oic\", error=\"invalid_request\", error_description=\"malformed Authorization header\"\nX-Err: invalid_request") x 3]
--- error_log
oic_auth: malformed Bearer credentials
--- no_error_log
[alert]



=== TEST 23: a header or payload that is not a JSON object (an array, or a string, null or number where jansson wants [ or {)
--- request eval
[("GET /t") x 6]
--- more_headers eval
[map { main::auth($_) } qw(hdr_array hdr_string pay_array pay_string pay_null pay_number)]
--- error_code eval
[(401) x 6]
--- response_headers eval
["WWW-Authenticate: " . main::invalid('header: not a JSON object'),
 "WWW-Authenticate: " . main::invalid("header: invalid JSON ('[' or '{' expected)"),
 "WWW-Authenticate: " . main::invalid('payload: not a JSON object'),
 "WWW-Authenticate: " . main::invalid("payload: invalid JSON ('[' or '{' expected)"),
 "WWW-Authenticate: " . main::invalid("payload: invalid JSON ('[' or '{' expected)"),
 "WWW-Authenticate: " . main::invalid("payload: invalid JSON ('[' or '{' expected)")]
--- error_log eval
qr/oic_auth: invalid token: (?:header|payload): (?:not a JSON object|invalid JSON \('\[' or '\{' expected\))/
--- no_error_log
[alert]



=== TEST 24: a payload that is not JSON: cut short, trailing bytes
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
[main::auth('pay_broken'), main::auth('pay_trail')]
--- error_code eval
[401, 401]
--- response_headers eval
["WWW-Authenticate: " . main::invalid("payload: invalid JSON (string or '}' expected)"),
 "WWW-Authenticate: " . main::invalid('payload: invalid JSON (end of file expected)')]
--- error_log
oic_auth: invalid token: payload: invalid JSON
--- no_error_log
[alert]



=== TEST 25: duplicate names: aud twice in the payload (the second one would match), alg twice in the header
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
[main::auth('dup_claim'), main::auth('dup_header')]
--- error_code eval
[401, 401]
--- response_headers eval
["WWW-Authenticate: " . main::invalid('payload: invalid JSON (duplicate object key)'),
 "WWW-Authenticate: " . main::invalid('header: invalid JSON (duplicate object key)')]
--- error_log eval
qr/oic_auth: invalid token: (?:payload|header): invalid JSON \(duplicate object key\)/
--- no_error_log
[alert]



=== TEST 26: time claims of the wrong type: exp as a string or a boolean, nbf as a string, iat as an object
--- request eval
[("GET /t") x 4]
--- more_headers eval
[map { main::auth($_) } qw(exp_string exp_bool nbf_string iat_object)]
--- error_code eval
[(401) x 4]
--- response_headers eval
["WWW-Authenticate: " . main::invalid('exp is not a number'),
 "WWW-Authenticate: " . main::invalid('exp is not a number'),
 "WWW-Authenticate: " . main::invalid('nbf is not a number'),
 "WWW-Authenticate: " . main::invalid('iat is not a number')]
--- error_log eval
qr/oic_auth: invalid token: (?:exp|nbf|iat) is not a number/
--- no_error_log
oic_auth: verifying signature
[alert]



=== TEST 27: aud as a number, iss as an array
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
[main::auth('aud_number'), main::auth('iss_array')]
--- error_code eval
[401, 401]
--- response_headers eval
["WWW-Authenticate: " . main::invalid('aud does not match'),
 "WWW-Authenticate: " . main::invalid('iss does not match')]
--- error_log eval
qr/oic_auth: invalid token: (?:aud|iss) does not match/
--- no_error_log
[alert]



=== TEST 28: a 64 KB token: nginx's default header buffers refuse it (400, the module never sees it)
--- request
GET /t
--- more_headers eval
main::auth('big64k')
--- error_code: 400
--- response_headers
!WWW-Authenticate
--- response_body_like eval
qr/<title>400 Request Header Or Cookie Too Large<\/title>/
--- no_error_log
oic_auth:
[alert]



=== TEST 29: a 64 KB token with large header buffers reaches the module: 401, refused on its length before any parsing
--- http_config
    oic_auth_cache_zone oic:1m;
    large_client_header_buffers 4 128k;
--- config eval
"    oic_auth_cache oic;\n$main::DEFAULT"
--- more_headers eval
main::auth('big64k')
--- error_code: 401
--- response_headers eval
"WWW-Authenticate: " . main::invalid('token longer than 16384 bytes') . "\nX-Err: invalid_token"
--- error_log
oic_auth: invalid token: token longer than 16384 bytes
--- no_error_log
[alert]



=== TEST 30: JSON nested 10,000 deep: a complete document (27 KB: too long), 10,000 open brackets (13 KB), 5,000 levels in the payload, 3,000 in the header
--- http_config
    oic_auth_cache_zone oic:1m;
    large_client_header_buffers 4 64k;
--- config eval
"    oic_auth_cache oic;\n$main::DEFAULT"
--- request eval
[("GET /t") x 4]
--- more_headers eval
[map { main::auth($_) } qw(deep10k deep10k_open deep5k deep_hdr)]
--- error_code eval
[(401) x 4]
--- response_headers eval
["WWW-Authenticate: " . main::invalid('token longer than 16384 bytes'),
 "WWW-Authenticate: " . main::invalid('payload: invalid JSON (maximum parsing depth reached)'),
 "WWW-Authenticate: " . main::invalid('payload: invalid JSON (maximum parsing depth reached)'),
 "WWW-Authenticate: " . main::invalid('header: invalid JSON (maximum parsing depth reached)')]
--- error_log
oic_auth: invalid token:
--- no_error_log
[alert]



=== TEST 31: an aud array of 1,000 entries, none of them ours
--- http_config
    oic_auth_cache_zone oic:1m;
    large_client_header_buffers 4 32k;
--- config eval
"    oic_auth_cache oic;\n$main::DEFAULT"
--- more_headers eval
main::auth('aud1000')
--- error_code: 401
--- response_headers eval
"WWW-Authenticate: " . main::invalid('aud does not match') . "\nX-Err: invalid_token"
--- error_log
oic_auth: invalid token: aud does not match
--- no_error_log
oic_auth: verifying signature
[alert]



=== TEST 32: the known kid, the attacker's own payload (every claim check passes) and the signature "AAAA": 401, and none of the attacker's claims in a variable (issue #7)
--- config eval
(my $c = $main::DEFAULT) =~ s/(add_header X-Err)/add_header X-Sub \$oic_auth_subject always;\n        add_header X-Scopes \$oic_auth_scopes always;\n        add_header X-Name \$oic_auth_claim_name always;\n        $1/;
$c
--- more_headers eval
main::auth('own_payload')
--- error_code: 401
--- response_headers eval
"WWW-Authenticate: " . main::invalid('signature does not verify') . "\nX-Err: invalid_token\n!X-Sub\n!X-Scopes\n!X-Name"
--- error_log
oic_auth: invalid token: signature does not verify
--- no_error_log
[alert]
