# oic_auth exchange: an Entra ID user token in, an OCI IAM user token (JWT
# user assertion grant, or RFC 8693 token exchange) out, cached per user
# (issue #4, sections 1 and 4). One worker: see t/exchange-workers.t for the
# multi-worker tests, t/exchange-config.t for nginx -t errors, t/mixed.t for
# several modes on one location.
#
#   TEST_NGINX_BINARY=/usr/sbin/nginx TEST_NGINX_MODULE=$PWD/build/ngx_http_oic_auth_module.so \
#   TEST_NGINX_PORT=23984 TEST_NGINX_SERVROOT=/tmp/exch-servroot prove -I t/lib t/exchange.t
#
# t/mock/idp.js plays Entra ID (tenants created on first use: every block has
# its own), OCI IAM (the jwt-bearer grant checks the assertion's signature
# against the certificate registered under alias "oic-gw", iss, aud, exp and
# that sub is a known user) and OIC (it echoes the IAM token it accepted).
# t/inc/OicExchange.pm adds /drive (the mock's load generator: it reports
# the IAM token calls per user made while it ran), /mock/ (the mock's control
# API), /capture.log (the token requests a "location = /capture/token" in
# front of IAM saw, decoded), /vars.log (a block's own access log) and turns
# bodies into short exact lines.
#
# Blocks may run in any order: nothing the mock counts is compared across
# blocks (every count is a delta measured by /drive), and the only block that
# changes the mock (exchange-app2's behaviour, TEST 22) restores it; no other
# block uses exchange-app2.

use FindBin; use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use OicTest;
use OicExchange;

master_on();
workers(1);
no_long_string();
worker_connections(1024);

our $SCOPE = 'urn:opc:resource:consumer::all';    # the scope claim IAM issues for $OIC_SCOPE

# the summary line of the mock OIC's echo (see OicExchange::summary_filter)
sub echo {
    my ($user, $n, $extra) = @_;
    return "sub=$user type=user client=exchange-app scope=$SCOPE jti=#$n" . (defined $extra ? " $extra" : '');
}

# a log line of the module about a user's token request (the key is 8 hex digits)
sub about {
    my ($user, $what) = @_;
    return qr/oic_auth: token (?:request )?(?:issued )?for user "\Q$user\E" \(key [0-9a-f]{8}\),? ${\ (ref $what ? $what : quotemeta $what)}/;
}

run_tests();

__DATA__

=== TEST 1: an Entra v2 token of alice: one jwt-bearer call for alice, her IAM user token (not the Entra token) reaches OIC, the next request is a cache hit with the same token
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/x01/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/x01/v2.0 https://sts.windows.net/x01/;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_certificate $TEST_NGINX_CERTS/assertion.pem;
        oic_auth_assertion_kid oic-gw;
        proxy_set_header X-Cache $oic_auth_cache_status;
        proxy_set_header X-Token $oic_auth_token;
        proxy_set_header X-User $oic_auth_user;
        add_header X-Cache $oic_auth_cache_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /api/orders", "GET /api/orders", "GET /mock/token_log?client=exchange-app"]
--- more_headers eval
my $h = main::bearer_hdr('x01', user => 'alice@example.com');
[$h, $h, '']
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT", "!X-Cache"]
--- response_body eval
[main::echo('alice@example.com', 1, 'x-cache=MISS x-token=forwarded x-user=alice@example.com'),
 main::echo('alice@example.com', 1, 'x-cache=HIT x-token=forwarded x-user=alice@example.com'),
 'last: grant=jwt-bearer user=alice@example.com scope=OIC auth=client_secret_basic status=200 error=-']
--- no_error_log
[error]
[warn]



=== TEST 2: Entra v1 and v2 tokens of two users: one IAM call per user, then cache hits only; each user only ever gets its own IAM token
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    oic_auth_cache oic;
    oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/x02/discovery/v2.0/keys;
    oic_auth_issuer https://login.microsoftonline.com/x02/v2.0 https://sts.windows.net/x02/;
    oic_auth_audience api://oic-gateway;
    oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
    oic_auth_scope $TEST_NGINX_OIC_SCOPE;
    oic_auth_client_id exchange-app;
    oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
    oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
    oic_auth_assertion_certificate $TEST_NGINX_CERTS/assertion.pem;
    oic_auth_assertion_kid oic-gw;

    location /api {
        oic_auth exchange;
        proxy_set_header X-Cache $oic_auth_cache_status;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
my @auth = ('Bearer ' . main::etoken('x02', ver => '2.0', user => 'alice@example.com'),
            'Bearer ' . main::etoken('x02', ver => '1.0', user => 'bob@example.com'));
[main::xdrive(path => '/api/a', n => 2, auth => \@auth),
 main::xdrive(path => '/api/b', n => 40, auth => \@auth)]
--- response_body eval
['200:2 iam=2 users=alice@example.com:1,bob@example.com:1 oic=2 jwks=1 a0(200:1 alice@example.com:1 jtis=1) a1(200:1 bob@example.com:1 jtis=1) jti=#1,#2 cache=MISS',
 '200:40 iam=0 users=none oic=40 a0(200:20 alice@example.com:20 jtis=1) a1(200:20 bob@example.com:20 jtis=1) jti=#1,#2 cache=HIT']
--- no_error_log
[error]
[warn]



=== TEST 3: one user with a v2 and then a v1 token (two different Entra tokens): the cache is per user, so the v1 token is a hit on the token the v2 one fetched
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    oic_auth_cache oic;
    oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/x03/discovery/v2.0/keys;
    oic_auth_issuer https://login.microsoftonline.com/x03/v2.0 https://sts.windows.net/x03/;
    oic_auth_audience api://oic-gateway;
    oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
    oic_auth_scope $TEST_NGINX_OIC_SCOPE;
    oic_auth_client_id exchange-app;
    oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
    oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
    oic_auth_assertion_certificate $TEST_NGINX_CERTS/assertion.pem;
    oic_auth_assertion_kid oic-gw;

    location /api {
        oic_auth exchange;
        proxy_set_header X-Cache $oic_auth_cache_status;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
[main::xdrive(path => '/api/v2', auth => 'Bearer ' . main::etoken('x03', ver => '2.0', user => 'carol@example.com')),
 main::xdrive(path => '/api/v1', auth => 'Bearer ' . main::etoken('x03', ver => '1.0', user => 'carol@example.com'))]
--- response_body eval
['200:1 iam=1 users=carol@example.com:1 oic=1 jwks=1 a0(200:1 carol@example.com:1 jtis=1) jti=#1 cache=MISS',
 '200:1 iam=0 users=none oic=1 a0(200:1 carol@example.com:1 jtis=1) jti=#1 cache=HIT']
--- no_error_log
[error]
[warn]



=== TEST 4: the user assertion: RS256, typ JWT, kid = the alias, x5t of the certificate; sub = user, iss = client id, aud = IAM, 300 s, a fresh jti each time, signed with the configured key; posted with the gateway's Basic credentials (secret file's newline stripped); an assertion key IAM does not know gets 403
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    oic_auth_cache oic;
    oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/x04/discovery/v2.0/keys;
    oic_auth_issuer https://login.microsoftonline.com/x04/v2.0 https://sts.windows.net/x04/;
    oic_auth_audience api://oic-gateway;
    oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_SERVER_PORT/capture/token;
    oic_auth_scope $TEST_NGINX_OIC_SCOPE;
    oic_auth_client_id exchange-app;
    oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
    oic_auth_assertion_kid oic-gw;

    location /api {
        oic_auth exchange;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_certificate $TEST_NGINX_CERTS/assertion.pem;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }

    location /unknown-key {
        oic_auth exchange;
        oic_auth_assertion_key $TEST_NGINX_CERTS/unknown-assertion.key;
        oic_auth_assertion_certificate $TEST_NGINX_CERTS/unknown-assertion.pem;
        add_header X-Auth-Error $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }

    location = /capture/token {
        oic_auth off;
        client_body_buffer_size 64k;
        access_log logs/capture.log capture;
        proxy_pass http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
    }
--- request eval
["GET /api/a", "GET /api/b", "GET /unknown-key/c", "GET /capture.log"]
--- more_headers eval
[main::bearer_hdr('x04', ver => '2.0', user => 'alice@example.com'),
 main::bearer_hdr('x04', ver => '1.0', user => 'bob@example.com'),
 main::bearer_hdr('x04', ver => '2.0', user => 'carol@example.com'),
 '']
--- error_code eval
[200, 200, 403, 200]
--- response_headers eval
['', '', "X-Auth-Error: invalid_grant\n!WWW-Authenticate", '']
--- response_body eval
[main::echo('alice@example.com', 1),
 main::echo('bob@example.com', 2),
 '403 Forbidden',
 CORE::join('', map { "application/x-www-form-urlencoded auth=exchange-app/secret-ok grant=jwt-bearer scope=OIC params=assertion,grant_type,scope"
                . " | alg=RS256 kid=oic-gw typ=JWT x5t=x5t($_->[1])"
                . " | sub=$_->[0] iss=exchange-app aud=https://identity.oraclecloud.com/ life=300 iat=now jti=random claims=aud,exp,iat,iss,jti,sub sig=$_->[1]\n" }
          ['alice@example.com', 'assertion.pem'], ['bob@example.com', 'assertion.pem'], ['carol@example.com', 'unknown-assertion.pem'])]



=== TEST 5: assertion options: oic_auth_assertion_audience (IAM also takes it without the slash), oic_auth_assertion_lifetime 10m, no certificate (no x5t)
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/x05/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/x05/v2.0;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_SERVER_PORT/capture/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_kid oic-gw;
        oic_auth_assertion_audience https://identity.oraclecloud.com;
        oic_auth_assertion_lifetime 10m;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }

    location = /capture/token {
        oic_auth off;
        client_body_buffer_size 64k;
        access_log logs/capture.log capture;
        proxy_pass http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
    }
--- request eval
["GET /api/a", "GET /capture.log"]
--- more_headers eval
[main::bearer_hdr('x05', user => 'dave@example.com'), '']
--- response_body eval
[main::echo('dave@example.com', 1),
 "application/x-www-form-urlencoded auth=exchange-app/secret-ok grant=jwt-bearer scope=OIC params=assertion,grant_type,scope"
 . " | alg=RS256 kid=oic-gw typ=JWT"
 . " | sub=dave\@example.com iss=exchange-app aud=https://identity.oraclecloud.com life=600 iat=now jti=random claims=aud,exp,iat,iss,jti,sub sig=assertion.pem\n"]
--- no_error_log
[error]
[warn]



=== TEST 6: an assertion lifetime IAM would refuse (2h > 1h) fails nginx -t (TEST 7: IAM's invalid_grant)
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/x06/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/x06/v2.0;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_kid oic-gw;
        oic_auth_assertion_lifetime 2h;
        add_header X-Auth-Error $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- must_die
--- error_log
invalid value "2h", "oic_auth_assertion_lifetime" must be between 1s and 1h



=== TEST 7: a user IAM does not know: 403 with a log line naming the user, OIC is not called (the refusal is remembered: t/iam-guard.t)
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/x07/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/x07/v2.0 https://sts.windows.net/x07/;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_certificate $TEST_NGINX_CERTS/assertion.pem;
        oic_auth_assertion_kid oic-gw;
        add_header X-Auth-Error $oic_auth_error always;
        add_header X-Cache $oic_auth_cache_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /api/a"]
--- more_headers eval
[main::bearer_hdr('x07', ver => '1.0', user => 'mallory@example.com')]
--- error_code eval
[403]
--- response_headers eval
["X-Auth-Error: invalid_grant\nX-Cache: MISS\n!WWW-Authenticate"]
--- response_body eval
['403 Forbidden']
--- error_log eval
[main::about('mallory@example.com', 'refused: IAM error invalid_grant')]



=== TEST 8: the gateway's own client credentials refused by IAM (invalid_client): 502, not 401 (the caller is not at fault), no challenge, the log says why
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/x08/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/x08/v2.0;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/wrong;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_kid oic-gw;
        add_header X-Auth-Error $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request
GET /api/a
--- more_headers eval
main::bearer_hdr('x08', user => 'erin@example.com')
--- error_code: 502
--- response_headers
X-Auth-Error: invalid_client
!WWW-Authenticate
--- response_body: 502 Bad Gateway
--- error_log eval
[main::about('erin@example.com', 'refused: IAM error invalid_client')]



=== TEST 9: an expired Entra token never reaches IAM: 401 invalid_token, no token request, no OIC call
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/x09/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/x09/v2.0 https://sts.windows.net/x09/;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_kid oic-gw;
        add_header X-Auth-Error $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
my @t = (main::etoken('x09', ver => '2.0', user => 'alice@example.com', exp_in => -600),
         main::etoken('x09', ver => '1.0', user => 'bob@example.com', exp_in => -3600));
["GET /api/a", main::xdrive(path => '/api/b', n => 4, auth => [map { "Bearer $_" } @t])]
--- more_headers eval
[main::bearer_hdr('x09', user => 'alice@example.com', exp_in => -600), '']
--- error_code eval
[401, 200]
--- response_headers eval
["X-Auth-Error: invalid_token\nWWW-Authenticate: Bearer realm=\"oic\", error=\"invalid_token\", error_description=\"token expired\"", ""]
--- response_body eval
['401 Authorization Required',
 '401:4 iam=0 users=none oic=0 a0(401:2 jtis=0) a1(401:2 jtis=0)']
--- error_log
oic_auth: invalid token: token expired



=== TEST 10: tokens that fail validation as in bearer mode (audience, issuer of another tenant, algorithm not allowed, not yet valid, HS256 keyed with the public key, a NUL in a claim, not a JWT, empty) never reach IAM
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/x10/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/x10/v2.0 https://sts.windows.net/x10/;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_kid oic-gw;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
my @t = (main::etoken('x10', user => 'alice@example.com', claims => { aud => 'api://other-api' }),
         main::etoken('x10-other', user => 'alice@example.com'),
         main::etoken('x10', user => 'alice@example.com', alg => 'PS256'),
         main::block_etoken('x10', user => 'alice@example.com', nbf_in => 900),
         main::etoken('x10', user => 'alice@example.com', hmac_with_public_key => JSON::PP::true()),
         main::etoken('x10', ver => '1.0', claims => { upn => "alice\@example.com\x{0}bob\@example.com" }));
[main::xdrive(path => '/api/a', n => 8, auth => [(map { "Bearer $_" } @t), 'Bearer not-a-jwt', 'Bearer'])]
--- response_body eval
['400:1 401:7 iam=0 users=none oic=0 a0(401:1 jtis=0) a1(401:1 jtis=0) a2(401:1 jtis=0) a3(401:1 jtis=0) a4(401:1 jtis=0) a5(401:1 jtis=0) a6(401:1 jtis=0) a7(400:1 jtis=0)']
--- error_log
oic_auth: invalid token: aud does not match
oic_auth: invalid token: iss does not match
oic_auth: invalid token: alg PS256 not allowed
oic_auth: invalid token: token not yet valid (nbf)
oic_auth: invalid token: alg not supported (none, HMAC or unknown)
oic_auth: invalid token: payload: invalid JSON (\u0000 is not allowed without JSON_ALLOW_NUL)
oic_auth: invalid token: token is not three dot-separated segments
oic_auth: malformed Bearer credentials
--- no_error_log
[warn]



=== TEST 11: a token whose signature does not verify (bob's claims, alice's signature) never reaches IAM (how often the JWKS is fetched again for it is bearer mode's business, t/bearer*.t)
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/x10b/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/x10b/v2.0 https://sts.windows.net/x10b/;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_kid oic-gw;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
[main::xdrive(path => '/api/a', auth => 'Bearer ' . main::etoken('x10b', user => 'bob@example.com',
                                                                 signature_from => main::etoken('x10b', user => 'alice@example.com')))]
--- response_body_like eval
[qr/^\Q401:1 iam=0 users=none oic=0\E(?: jwks=[12])?\Q a0(401:1 jtis=0)\E$/]
--- error_log
oic_auth: invalid token: signature does not verify
--- no_error_log
[warn]



=== TEST 12: oic_auth_leeway and oic_auth_algorithms apply to the incoming token: expired 30 s ago passes the default 60 s leeway but not 10 s; PS256 passes only where allowed
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    oic_auth_cache oic;
    oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/x10c/discovery/v2.0/keys;
    oic_auth_issuer https://login.microsoftonline.com/x10c/v2.0 https://sts.windows.net/x10c/;
    oic_auth_audience api://oic-gateway;
    oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
    oic_auth_scope $TEST_NGINX_OIC_SCOPE;
    oic_auth_client_id exchange-app;
    oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
    oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
    oic_auth_assertion_kid oic-gw;

    location /default {
        oic_auth exchange;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location /strict {
        oic_auth exchange;
        oic_auth_leeway 10s;
        oic_auth_algorithms RS256 PS256;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
my @a = ('Bearer ' . main::block_etoken('x10c', user => 'frank@example.com', exp_in => -30),
         'Bearer ' . main::etoken('x10c', ver => '1.0', user => 'grace@example.com', alg => 'PS256'));
[main::xdrive(path => '/default/a', n => 2, auth => \@a), main::xdrive(path => '/strict/b', n => 2, auth => \@a)]
--- response_body eval
['200:1 401:1 iam=1 users=frank@example.com:1 oic=1 jwks=1 a0(200:1 frank@example.com:1 jtis=1) a1(401:1 jtis=0) jti=#1',
 '200:1 401:1 iam=1 users=grace@example.com:1 oic=1 a0(401:1 jtis=0) a1(200:1 grace@example.com:1 jtis=1) jti=#2']
--- no_error_log
[warn]



=== TEST 13: oic_auth_scopes_required applies as in bearer mode: a token without the scope gets 403 insufficient_scope and never reaches IAM
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/x11/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/x11/v2.0 https://sts.windows.net/x11/;
        oic_auth_audience api://oic-gateway;
        oic_auth_scopes_required oic_api_HR;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_kid oic-gw;
        proxy_set_header X-Cache $oic_auth_cache_status;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
my $ok  = main::etoken('x11', user => 'alice@example.com');
my $bad = main::etoken('x11', ver => '1.0', user => 'bob@example.com', claims => { scp => 'oic_api_Finance' });
[main::xdrive(path => '/api/a', n => 2, auth => ["Bearer $ok", "Bearer $bad"]), "GET /api/b"]
--- more_headers eval
['', main::bearer_hdr('x11', ver => '1.0', user => 'bob@example.com', claims => { scp => 'oic_api_Finance' })]
--- error_code eval
[200, 403]
--- response_headers eval
["", "WWW-Authenticate: Bearer realm=\"oic\", error=\"insufficient_scope\", scope=\"oic_api_HR\""]
--- response_body eval
['200:1 403:1 iam=1 users=alice@example.com:1 oic=1 jwks=1 a0(200:1 alice@example.com:1 jtis=1) a1(403:1 jtis=0) jti=#1 cache=MISS',
 '403 Forbidden']
--- error_log
oic_auth: token lacks the required scopes "oic_api_HR"



=== TEST 14: a valid token without any user claim (app-only token, or upn/preferred_username/unique_name removed): 401 invalid_token "no user claim", no IAM call
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/x12/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/x12/v2.0 https://sts.windows.net/x12/;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_kid oic-gw;
        add_header X-Auth-Error $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
my @t = (main::etoken('x12', app_only => JSON::PP::true()),
         main::etoken('x12', ver => '1.0', claims => { upn => undef, unique_name => undef }),
         main::etoken('x12', ver => '2.0', claims => { preferred_username => undef }));
["GET /api/a", main::xdrive(path => '/api/b', n => 3, auth => [map { "Bearer $_" } @t])]
--- more_headers eval
[main::bearer_hdr('x12', app_only => JSON::PP::true()), '']
--- error_code eval
[401, 200]
--- response_headers eval
["X-Auth-Error: invalid_token\nWWW-Authenticate: Bearer realm=\"oic\", error=\"invalid_token\", error_description=\"no user claim\"", ""]
--- response_body eval
['401 Authorization Required',
 '401:3 iam=0 users=none oic=0 a0(401:1 jtis=0) a1(401:1 jtis=0) a2(401:1 jtis=0)']
--- error_log
oic_auth: invalid token: no user claim



=== TEST 15: the default user claim: upn, else preferred_username, else unique_name (first present wins)
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/x13/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/x13/v2.0 https://sts.windows.net/x13/;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_kid oic-gw;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
my @t = (main::etoken('x13', ver => '1.0', claims => { upn => 'carol@example.com', unique_name => 'dave@example.com',
                                                       preferred_username => 'heidi@example.com' }),
         main::etoken('x13', ver => '2.0', claims => { preferred_username => 'dave@example.com', unique_name => 'heidi@example.com' }),
         main::etoken('x13', ver => '1.0', claims => { upn => undef, unique_name => 'erin@example.com' }),
         main::etoken('x13', ver => '2.0', claims => { preferred_username => undef, unique_name => 'frank@example.com' }));
[main::xdrive(path => '/api/a', n => 4, auth => [map { "Bearer $_" } @t])]
--- response_body eval
['200:4 iam=4 users=carol@example.com:1,dave@example.com:1,erin@example.com:1,frank@example.com:1 oic=4 jwks=1'
 . ' a0(200:1 carol@example.com:1 jtis=1) a1(200:1 dave@example.com:1 jtis=1) a2(200:1 erin@example.com:1 jtis=1) a3(200:1 frank@example.com:1 jtis=1)'
 . ' jti=#1,#2,#3,#4']
--- no_error_log
[error]
[warn]



=== TEST 16: oic_auth_user_claim email upn: email first, then upn; a token with neither (only preferred_username) has no user claim
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/x14/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/x14/v2.0 https://sts.windows.net/x14/;
        oic_auth_audience api://oic-gateway;
        oic_auth_user_claim email upn;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_kid oic-gw;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
my @t = (main::etoken('x14', ver => '1.0', claims => { email => 'grace@example.com', upn => 'ivan@example.com' }),
         main::etoken('x14', ver => '1.0', user => 'heidi@example.com'),
         main::etoken('x14', ver => '2.0', user => 'ivan@example.com'));
[main::xdrive(path => '/api/a', n => 3, auth => [map { "Bearer $_" } @t])]
--- response_body eval
['200:2 401:1 iam=2 users=grace@example.com:1,heidi@example.com:1 oic=2 jwks=1'
 . ' a0(200:1 grace@example.com:1 jtis=1) a1(200:1 heidi@example.com:1 jtis=1) a2(401:1 jtis=0) jti=#1,#2']
--- error_log
oic_auth: invalid token: no user claim



=== TEST 17: $oic_auth_user, $oic_auth_subject, $oic_auth_claim_NAME, $oic_auth_scopes and $oic_auth_cache_status in proxy_set_header and in the access log
--- http_config
    oic_auth_cache_zone oic:1m;
    log_format oicvars '$oic_auth_user|$oic_auth_subject|$oic_auth_claim_oid|$oic_auth_claim_preferred_username|$oic_auth_scopes|$oic_auth_cache_status|$status';
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/x15/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/x15/v2.0;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_kid oic-gw;
        proxy_set_header X-User $oic_auth_user;
        proxy_set_header X-Subject $oic_auth_subject;
        proxy_set_header X-Oid $oic_auth_claim_oid;
        proxy_set_header X-Scopes $oic_auth_scopes;
        proxy_set_header X-Cache $oic_auth_cache_status;
        access_log logs/vars.log oicvars;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /api/a", "GET /api/b", "GET /vars.log"]
--- more_headers eval
my $h = main::bearer_hdr('x15', user => 'judy@example.com', claims => { sub => 'entra-sub-judy', oid => 'oid-judy', scp => 'oic_api_HR oic_api_Read' });
[$h, $h, '']
--- response_body eval
[main::echo('judy@example.com', 1, 'x-cache=MISS x-oid=oid-judy x-scopes=oic_api_HR oic_api_Read x-subject=entra-sub-judy x-user=judy@example.com'),
 main::echo('judy@example.com', 1, 'x-cache=HIT x-oid=oid-judy x-scopes=oic_api_HR oic_api_Read x-subject=entra-sub-judy x-user=judy@example.com'),
 "judy\@example.com|entra-sub-judy|oid-judy|judy\@example.com|oic_api_HR oic_api_Read|MISS|200\n"
 . "judy\@example.com|entra-sub-judy|oid-judy|judy\@example.com|oic_api_HR oic_api_Read|HIT|200\n"]
--- no_error_log
[error]
[warn]



=== TEST 18: oic_auth_exchange_grant token_exchange (no assertion key needed): RFC 8693 with the incoming token as subject_token; the answer's access_token is forwarded, cached per user
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_exchange_grant token_exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/x16/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/x16/v2.0 https://sts.windows.net/x16/;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_SERVER_PORT/capture/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
        proxy_set_header X-Cache $oic_auth_cache_status;
        proxy_set_header X-Token $oic_auth_token;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }

    location = /capture/token {
        oic_auth off;
        client_body_buffer_size 64k;
        access_log logs/capture.log capture;
        proxy_pass http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
    }
--- request eval
["GET /api/a", "GET /api/b", "GET /capture.log"]
--- more_headers eval
[main::bearer_hdr('x16', ver => '2.0', user => 'alice@example.com'),
 main::bearer_hdr('x16', ver => '1.0', user => 'alice@example.com'),
 '']
--- response_body eval
[main::echo('alice@example.com', 1, 'x-cache=MISS x-token=forwarded'),
 main::echo('alice@example.com', 1, 'x-cache=HIT x-token=forwarded'),
 "application/x-www-form-urlencoded auth=exchange-app/secret-ok grant=token-exchange scope=OIC"
 . " params=grant_type,requested_token_type,scope,subject_token,subject_token_type subject_token=x16:v2:alice\@example.com"
 . " subject_token_type=urn:ietf:params:oauth:token-type:jwt requested_token_type=urn:ietf:params:oauth:token-type:access_token\n"]
--- no_error_log
[error]
[warn]



=== TEST 19: the cache key is (token endpoint, client id, user, scope, grant): changing any one of them is another entry (another IAM call), each then hit
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    oic_auth_cache oic;
    oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/x17/discovery/v2.0/keys;
    oic_auth_issuer https://login.microsoftonline.com/x17/v2.0;
    oic_auth_audience api://oic-gateway;
    oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
    oic_auth_scope $TEST_NGINX_OIC_SCOPE;
    oic_auth_client_id exchange-app;
    oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
    oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
    oic_auth_assertion_certificate $TEST_NGINX_CERTS/assertion.pem;
    oic_auth_assertion_kid oic-gw;
    proxy_set_header X-Cache $oic_auth_cache_status;

    location /base {
        oic_auth exchange;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location /grant {
        oic_auth exchange;
        oic_auth_exchange_grant token_exchange;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location /client {
        oic_auth exchange;
        oic_auth_client_id exchange-slow-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-slow-app;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location /scope {
        oic_auth exchange;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE_API;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location /endpoint {
        oic_auth exchange;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token?endpoint=2;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
my $a = 'Bearer ' . main::etoken('x17', user => 'bob@example.com');
my @p = qw(/base /grant /client /scope /endpoint);
[(map { main::xdrive(path => "$_/x", auth => $a) } @p), (map { main::xdrive(path => "$_/y", auth => $a) } @p)]
--- response_body eval
['200:1 iam=1 users=bob@example.com:1 oic=1 jwks=1 a0(200:1 bob@example.com:1 jtis=1) jti=#1 cache=MISS',
 (map { "200:1 iam=1 users=bob\@example.com:1 oic=1 a0(200:1 bob\@example.com:1 jtis=1) jti=#$_ cache=MISS" } 2 .. 5),
 (map { "200:1 iam=0 users=none oic=1 a0(200:1 bob\@example.com:1 jtis=1) jti=#$_ cache=HIT" } 1 .. 5)]
--- no_error_log
[error]
[warn]



=== TEST 20: four users at once, cold, IAM answering in 300 ms: exactly one IAM call per user, and every request reaches OIC with its own user's token
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/x18/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/x18/v2.0 https://sts.windows.net/x18/;
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
my @a = map { 'Bearer ' . main::etoken('x18', ver => ($_ =~ /^[ac]/ ? '1.0' : '2.0'), user => $_) }
        qw(alice@example.com bob@example.com carol@example.com dave@example.com);
[main::xdrive(path => '/api/a', n => 80, auth => \@a), main::xdrive(path => '/api/a', n => 80, auth => \@a)]
--- response_body eval
['200:80 iam=4 users=alice@example.com:1,bob@example.com:1,carol@example.com:1,dave@example.com:1 oic=80 jwks=1'
 . ' a0(200:20 alice@example.com:20 jtis=1) a1(200:20 bob@example.com:20 jtis=1) a2(200:20 carol@example.com:20 jtis=1) a3(200:20 dave@example.com:20 jtis=1)'
 . ' jti=#1,#2,#3,#4',
 '200:80 iam=0 users=none oic=80'
 . ' a0(200:20 alice@example.com:20 jtis=1) a1(200:20 bob@example.com:20 jtis=1) a2(200:20 carol@example.com:20 jtis=1) a3(200:20 dave@example.com:20 jtis=1)'
 . ' jti=#1,#2,#3,#4']
--- no_error_log
[error]
[warn]



=== TEST 21: 50 concurrent cold requests of one user, IAM answering in 300 ms: one IAM call (one request fetches, the others wait for it), then hits
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/x19/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/x19/v2.0;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_client_id exchange-slow-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-slow-app;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_kid oic-gw;
        proxy_set_header X-Cache $oic_auth_cache_status;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
my $a = 'Bearer ' . main::etoken('x19', user => 'erin@example.com');
[main::xdrive(path => '/api/a', n => 50, auth => $a), main::xdrive(path => '/api/a', n => 50, auth => $a)]
--- response_body eval
['200:50 iam=1 users=erin@example.com:1 oic=50 jwks=1 a0(200:50 erin@example.com:50 jtis=1) jti=#1 cache=MISS,WAIT',
 '200:50 iam=0 users=none oic=50 a0(200:50 erin@example.com:50 jtis=1) jti=#1 cache=HIT']
--- no_error_log
[error]
[warn]



=== TEST 22: IAM failures map as in basic mode (429 -> 503, and no call before its Retry-After of 1 s; 5xx/HTML/dropped -> 502, a scope the client may not use -> 403, timeout -> 502), nothing failed is cached: once IAM is back the next request gets a token (the last request, a hit answered by OIC after 0.5 s, lets the mock finish the timed-out call before the next block counts calls)
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    oic_auth_cache oic;
    oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/x20/discovery/v2.0/keys;
    oic_auth_issuer https://login.microsoftonline.com/x20/v2.0;
    oic_auth_audience api://oic-gateway;
    oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
    oic_auth_scope $TEST_NGINX_OIC_SCOPE;
    oic_auth_client_id exchange-app2;
    oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app2;
    oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
    oic_auth_assertion_kid oic-gw;
    add_header X-Auth-Error $oic_auth_error always;
    add_header X-Cache $oic_auth_cache_status always;

    location /api {
        oic_auth exchange;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location /other-scope {
        oic_auth exchange;
        oic_auth_scope https://oic-other.integration.us-ashburn-1.ocp.oraclecloud.com:443urn:opc:resource:consumer::all;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location /slow {
        oic_auth exchange;
        oic_auth_client_id exchange-slow-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-slow-app;
        oic_auth_timeout 100ms;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
# $b->(behavior, ms): set exchange-app2's behavior, answered ms later
my $b = sub { "POST /mock/iam/behavior" . ($_[1] ? "?wait_ms=$_[1]" : '') . "\n" . JSON::PP->new->canonical->encode({ client => 'exchange-app2', behavior => $_[0] }) };
[$b->({ status => 429, retry_after => '1' }), "GET /api/a",
 $b->({ status => 500 }, 1500), "GET /api/a",
 $b->({ status => 503 }), "GET /api/a",
 $b->({ malformed => 'html' }), "GET /api/a",
 $b->({ drop => JSON::PP::true() }), "GET /api/a",
 $b->(undef), "GET /api/a", "GET /api/a",
 "GET /other-scope/a", "GET /slow/a", "GET /api/_delay/500"]
--- more_headers eval
my $h = main::bearer_hdr('x20', user => 'frank@example.com');
['', $h, '', $h, '', $h, '', $h, '', $h, '', $h, $h, $h, $h, $h]
--- error_code eval
[200, 503, 200, 502, 200, 502, 200, 502, 200, 502, 200, 200, 200, 403, 502, 200]
--- response_headers eval
['', "X-Auth-Error: iam_rate_limited\nX-Cache: MISS\n!WWW-Authenticate",
 '', "X-Auth-Error: iam_unavailable\nX-Cache: MISS\n!WWW-Authenticate",
 '', "X-Auth-Error: iam_unavailable\nX-Cache: MISS\n!WWW-Authenticate",
 '', "X-Auth-Error: iam_unavailable\nX-Cache: MISS\n!WWW-Authenticate",
 '', "X-Auth-Error: iam_unavailable\nX-Cache: MISS\n!WWW-Authenticate",
 '', "X-Auth-Error: \nX-Cache: MISS", "X-Auth-Error: \nX-Cache: HIT",
 "X-Auth-Error: unauthorized_client\nX-Cache: MISS\n!WWW-Authenticate",
 "X-Auth-Error: iam_unavailable\nX-Cache: MISS\n!WWW-Authenticate",
 "X-Auth-Error: \nX-Cache: HIT"]
--- response_body eval
['behavior exchange-app2={"retry_after":"1","status":429}', '503 Service Temporarily Unavailable',
 'behavior exchange-app2={"status":500}', '502 Bad Gateway',
 'behavior exchange-app2={"status":503}', '502 Bad Gateway',
 'behavior exchange-app2={"malformed":"html"}', '502 Bad Gateway',
 'behavior exchange-app2={"drop":true}', '502 Bad Gateway',
 'behavior exchange-app2=null',
 "sub=frank\@example.com type=user client=exchange-app2 scope=urn:opc:resource:consumer::all jti=#1",
 "sub=frank\@example.com type=user client=exchange-app2 scope=urn:opc:resource:consumer::all jti=#1",
 '403 Forbidden', '502 Bad Gateway',
 "sub=frank\@example.com type=user client=exchange-app2 scope=urn:opc:resource:consumer::all jti=#1"]
--- timeout: 10



=== TEST 23: an IAM token whose expires_in is not larger than oic_auth_refresh_margin is cached, its refresh starting halfway through its life (a warning says so; served from the cache: t/iam-refresh.t)
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_refresh_margin 3600s;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/x21/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/x21/v2.0;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_kid oic-gw;
        proxy_set_header X-Cache $oic_auth_cache_status;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /api/a"]
--- more_headers eval
[main::bearer_hdr('x21', user => 'grace@example.com')]
--- response_body eval
[main::echo('grace@example.com', 1, 'x-cache=MISS')]
--- error_log eval
# (3599 s, after 1799 s: a second turned between IAM's iat and the module's clock)
[main::about('grace@example.com', qr/lives (?:3600 s, not longer than the refresh margin of 3600 s: its refresh starts halfway, after 1800|3599 s, not longer than the refresh margin of 3600 s: its refresh starts halfway, after 1799) s/)]



=== TEST 24: a cached user token is refreshed from expires_in - oic_auth_refresh_margin (3600 - 3594 = 6 s): a hit within (OIC then answers after 6.5 s), then still served (UPDATING) while its refresh runs
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_refresh_margin 3594s;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/x22/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/x22/v2.0;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_kid oic-gw;
        proxy_set_header X-Cache $oic_auth_cache_status;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /api/a", "GET /api/_delay/6500", "GET /api/a"]
--- more_headers eval
my $h = main::bearer_hdr('x22', user => 'heidi@example.com');
[$h, $h, $h]
--- response_body eval
[main::echo('heidi@example.com', 1, 'x-cache=MISS'), main::echo('heidi@example.com', 1, 'x-cache=HIT'),
 main::echo('heidi@example.com', 1, 'x-cache=UPDATING')]
--- no_error_log
[error]
[warn]
--- timeout: 15



=== TEST 25: a non-ASCII user name (zoë@example.com, UTF-8) reaches IAM unchanged and gets its own token; the log line shows it as printable ASCII
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/x23/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/x23/v2.0 https://sts.windows.net/x23/;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_kid oic-gw;
        proxy_set_header X-User $oic_auth_user;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request
GET /api/a
--- more_headers eval
main::bearer_hdr('x23', ver => '1.0', user => "zo\x{eb}\@example.com")
--- response_body eval
main::echo("zo\xc3\xab\@example.com", 1, "x-user=zo\xc3\xab\@example.com")
--- error_log eval
# 3599 s: a second turned between IAM's iat and the module's clock
[main::about('zo??@example.com', qr/cached for (?:3600|3599) s,/)]
--- no_error_log
[error]



=== TEST 26: a user name cannot forge log lines: with a quote and a fake level IAM refuses it (403) and the log line shows it sanitised on one line; with a newline or an escape sequence it is refused before any IAM call (401, it would become the IAM user name)
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/x24/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/x24/v2.0 https://sts.windows.net/x24/;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_kid oic-gw;
        add_header X-Error $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location = /errlog {
        oic_auth off;
        alias logs/error.log;
        default_type text/plain;
    }
--- request eval
["GET /api/a", "GET /api/b", "GET /api/c", "GET /mock/token_log?client=exchange-app", "GET /errlog"]
--- more_headers eval
[main::bearer_hdr('x24', ver => '1.0', claims => { upn => qq{eve" [error] forged\@example.com} }),
 main::bearer_hdr('x24', ver => '1.0', claims => { upn => qq{eve"\n\e[31m [error] forged\@example.com} }),
 main::bearer_hdr('x24', ver => '1.0', claims => { upn => qq{eve\x7f\@example.com} }),
 "", ""]
--- error_code eval
[403, 401, 401, 200, 200]
--- response_headers eval
["X-Error: invalid_grant", "X-Error: invalid_token", "X-Error: invalid_token", "", ""]
--- response_body_like eval
[qr/\A403 Forbidden\z/, qr/\A401 Authorization Required\z/, qr/\A401 Authorization Required\z/,
 qr/\Alast: grant=jwt-bearer user=eve" \[error\] forged\@example.com scope=OIC auth=client_secret_basic status=400 error=invalid_grant\z/,
 qr/oic_auth: token request for user "eve\? \[error\] forged\@example\.com" \(key [0-9a-f]{8}\) refused: IAM error invalid_grant.*\n(?s:.*)oic_auth: invalid token: user claim contains control characters.*\n(?s:.*)oic_auth: invalid token: user claim contains control characters/]



=== TEST 27: a full zone evicts the least recently used user tokens: alice, used between every two other users, stays cached while ten other users' tokens pass through a 32k zone; the first of them is fetched again at the end
--- http_config
    oic_auth_cache_zone oic:32k;
    oic_auth_iam_rate off;      # eleven users' first tokens in a second
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/x25/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/x25/v2.0 https://sts.windows.net/x25/;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_kid oic-gw;
        add_header X-Cache $oic_auth_cache_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
[("GET /api/a") x 22]
--- more_headers eval
my @others = ('bob@example.com', 'carol@example.com', 'dave@example.com', 'erin@example.com', 'frank@example.com',
              'grace@example.com', 'heidi@example.com', 'ivan@example.com', 'judy@example.com', "zo\x{eb}\@example.com");
my %h = map { $_ => main::bearer_hdr('x25', ver => '1.0', user => $_) } 'alice@example.com', @others;
[(map { ($h{'alice@example.com'}, $h{$_}) } @others), $h{'alice@example.com'}, $h{ $others[0] }]
--- response_headers eval
['X-Cache: MISS', 'X-Cache: MISS', (('X-Cache: HIT', 'X-Cache: MISS') x 9), 'X-Cache: HIT', 'X-Cache: MISS']
--- no_error_log
[error]



=== TEST 28: clients that give up while their user's token is being fetched (the first five of 20, most likely including the one that started the fetch): the fetch goes on, the others get the token, one IAM call; the next requests are hits
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/x28/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/x28/v2.0;
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
my $a = 'Bearer ' . main::etoken('x28', user => 'ivan@example.com');
[main::xdrive(path => '/api/a', n => 20, abort => 5, abort_ms => 100, auth => $a),
 main::xdrive(path => '/api/b', n => 20, auth => $a)]
--- response_body eval
['200:15 aborted:5 iam=1 users=ivan@example.com:1 oic=15 jwks=1 a0(200:15 aborted:5 ivan@example.com:15 jtis=1) jti=#1',
 '200:20 iam=0 users=none oic=20 a0(200:20 ivan@example.com:20 jtis=1) jti=#1']
--- no_error_log
[error]
[warn]



=== TEST 29: a request body waits with its request while the user's token is fetched (IAM answering in 300 ms) and reaches OIC whole
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/x29/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/x29/v2.0;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_client_id exchange-slow-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-slow-app;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_kid oic-gw;
        client_max_body_size 1m;
        client_body_buffer_size 512k;
        proxy_set_header X-Cache $oic_auth_cache_status;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
"POST /api/upload\n" . ('{"order":"' . ('x' x 200000) . '"}')
--- more_headers eval
"Content-Type: application/json\n" . main::bearer_hdr('x29', user => 'judy@example.com')
--- response_body eval
require Digest::SHA;
'sub=judy@example.com type=user client=exchange-slow-app scope=urn:opc:resource:consumer::all jti=#1 body=200012:'
 . substr(Digest::SHA::sha256_hex('{"order":"' . ('x' x 200000) . '"}'), 0, 16) . ' x-cache=MISS'
--- no_error_log
[error]
[warn]



=== TEST 30: one Entra token, two locations that name its user from different claims (upn; email first): each location forwards its own user's IAM token, alternately, however often the token passed the other (what a decoded token remembers of a location is that location's)
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    oic_auth_cache oic;
    oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/x30/discovery/v2.0/keys;
    oic_auth_issuer https://login.microsoftonline.com/x30/v2.0;
    oic_auth_audience api://oic-gateway;
    oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
    oic_auth_scope $TEST_NGINX_OIC_SCOPE;
    oic_auth_client_id exchange-app;
    oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
    oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
    oic_auth_assertion_kid oic-gw;
    proxy_set_header X-Cache $oic_auth_cache_status;

    location /upn/ {
        oic_auth exchange;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/api/;
    }
    location /email/ {
        oic_auth exchange;
        oic_auth_user_claim email upn;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/api/;
    }
--- request eval
["GET /upn/a", "GET /email/a", "GET /upn/a", "GET /email/a", "GET /upn/a"]
--- more_headers eval
my $h = main::bearer_hdr('x30', claims => { upn => 'ivan@example.com', email => 'grace@example.com' });
[($h) x 5]
--- response_body eval
[main::echo('ivan@example.com', 1, 'x-cache=MISS'), main::echo('grace@example.com', 2, 'x-cache=MISS'),
 main::echo('ivan@example.com', 1, 'x-cache=HIT'), main::echo('grace@example.com', 2, 'x-cache=HIT'),
 main::echo('ivan@example.com', 1, 'x-cache=HIT')]
--- no_error_log
[error]
[warn]
