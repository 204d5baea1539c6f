# oic_auth exchange: configuration errors "nginx -t" must report (issue #4,
# section 1: the secret and the assertion key are read at configuration
# time), and valid exchange configurations that start.
#
#   TEST_NGINX_BINARY=/usr/sbin/nginx TEST_NGINX_MODULE=$PWD/build/ngx_http_oic_auth_module.so \
#   TEST_NGINX_PORT=23984 TEST_NGINX_SERVROOT=/tmp/exch-servroot prove -I t/lib t/exchange-config.t
#
# The must_die blocks check nginx's start-up error (the runner in t/lib also
# reads nginx's stderr: Debian's nginx logs start-up errors there). Files:
# build/certs ($TEST_NGINX_CERTS, t/mock/gen-certs.sh) and the secret files
# of t/inc/OicExchange.pm ($TEST_NGINX_XSECRETS), plus two keys made below.

use FindBin; use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use OicTest;
use OicExchange;

no_long_string();

# an RSA key too short to sign assertions, and assertion.key in the
# traditional PKCS#1 PEM form ("BEGIN RSA PRIVATE KEY")
for my $cmd ("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out $ENV{TEST_NGINX_XSECRETS}/rsa1024.key",
             "openssl rsa -traditional -in $ENV{TEST_NGINX_CERTS}/assertion.key -out $ENV{TEST_NGINX_XSECRETS}/pkcs1.key") {
    system("$cmd 2>/dev/null") == 0 or die "cannot run: $cmd\n";
}
mkdir "$ENV{TEST_NGINX_XSECRETS}/a-directory";

run_tests();

__DATA__

=== TEST 1: an assertion key file that does not exist
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/c01/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
        oic_auth_assertion_key $TEST_NGINX_XSECRETS/no-such.key;
        oic_auth_assertion_kid oic-gw;
    }
--- must_die
--- error_log eval
qr{"oic_auth_assertion_key" "[^"]*/no-such\.key": key file "[^"]*/no-such\.key": No such file or directory}



=== TEST 2: an assertion key path that cannot be read as a file (a directory)
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/c02/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
        oic_auth_assertion_key $TEST_NGINX_XSECRETS/a-directory;
        oic_auth_assertion_kid oic-gw;
    }
--- must_die
--- error_log eval
qr{"oic_auth_assertion_key" "[^"]*/a-directory": key file "[^"]*/a-directory": Is a directory}



=== TEST 3: an encrypted assertion key is refused (no passphrase support), nginx does not prompt for one
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/c03/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
        oic_auth_assertion_key $TEST_NGINX_CERTS/encrypted.key;
        oic_auth_assertion_kid oic-gw;
    }
--- must_die
--- error_log eval
qr{"oic_auth_assertion_key" "[^"]*/encrypted\.key": key file "[^"]*/encrypted\.key": private key is encrypted \(not supported\)}



=== TEST 4: an EC (P-256) assertion key is refused: assertions are RS256
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/c04/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
        oic_auth_assertion_key $TEST_NGINX_CERTS/ec.key;
        oic_auth_assertion_kid oic-gw;
    }
--- must_die
--- error_log eval
qr{"oic_auth_assertion_key" "[^"]*/ec\.key": key file "[^"]*/ec\.key": not an RSA key}



=== TEST 5: an RSA assertion key shorter than 2048 bits is refused
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/c05/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
        oic_auth_assertion_key $TEST_NGINX_XSECRETS/rsa1024.key;
        oic_auth_assertion_kid oic-gw;
    }
--- must_die
--- error_log eval
qr{"oic_auth_assertion_key" "[^"]*/rsa1024\.key": key file "[^"]*/rsa1024\.key": RSA key shorter than 2048 bits}



=== TEST 6: a certificate given as the assertion key (no private key in the file) is refused
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/c06/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.pem;
        oic_auth_assertion_kid oic-gw;
    }
--- must_die
--- error_log eval
qr{"oic_auth_assertion_key" "[^"]*/assertion\.pem": key file "[^"]*/assertion\.pem": no PEM private key}



=== TEST 7: an assertion certificate that does not match the key is refused (its x5t would name another key)
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/c07/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_certificate $TEST_NGINX_CERTS/unknown-assertion.pem;
        oic_auth_assertion_kid oic-gw;
    }
--- must_die
--- error_log eval
qr{"oic_auth_assertion_key" "[^"]*/assertion\.key": certificate file "[^"]*/unknown-assertion\.pem": does not match the private key}



=== TEST 8: an assertion certificate file that does not exist
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/c08/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_certificate $TEST_NGINX_CERTS/no-such.pem;
        oic_auth_assertion_kid oic-gw;
    }
--- must_die
--- error_log eval
qr{"oic_auth_assertion_key" "[^"]*/assertion\.key": certificate file "[^"]*/no-such\.pem": No such file or directory}



=== TEST 9: a key file given as the assertion certificate is refused
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/c09/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_certificate $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_kid oic-gw;
    }
--- must_die
--- error_log eval
qr{"oic_auth_assertion_key" "[^"]*/assertion\.key": certificate file "[^"]*/assertion\.key": no PEM certificate}



=== TEST 10: a client secret file that does not exist
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/c10/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/no-such-secret;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_kid oic-gw;
    }
--- must_die
--- error_log eval
qr{"oic_auth_client_secret_file" "[^"]*/no-such-secret": secret file "[^"]*/no-such-secret": No such file or directory}



=== TEST 11: an empty client secret file is refused
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/c11/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/empty;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_kid oic-gw;
    }
--- must_die
--- error_log eval
qr{"oic_auth_client_secret_file" "[^"]*/empty": secret file "[^"]*/empty": empty}



=== TEST 12: a client secret file holding only a newline is empty too
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/c12/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/newline;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_kid oic-gw;
    }
--- must_die
--- error_log eval
qr{"oic_auth_client_secret_file" "[^"]*/newline": secret file "[^"]*/newline": empty}



=== TEST 13: exchange without oic_auth_client_id is refused
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/c13/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_kid oic-gw;
    }
--- must_die
--- error_log
"oic_auth exchange" requires "oic_auth_client_id" and "oic_auth_client_secret_file"



=== TEST 14: exchange without oic_auth_client_secret_file is refused
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/c14/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_client_id exchange-app;
        oic_auth_exchange_grant token_exchange;
    }
--- must_die
--- error_log
"oic_auth exchange" requires "oic_auth_client_id" and "oic_auth_client_secret_file"



=== TEST 15: the jwt_bearer grant (the default) without oic_auth_assertion_key is refused
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/c15/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
        oic_auth_assertion_kid oic-gw;
    }
--- must_die
--- error_log
"oic_auth exchange" with the jwt_bearer grant requires "oic_auth_assertion_key" and "oic_auth_assertion_kid"



=== TEST 16: the jwt_bearer grant without oic_auth_assertion_kid is refused, even with a certificate
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_exchange_grant jwt_bearer;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/c16/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_certificate $TEST_NGINX_CERTS/assertion.pem;
    }
--- must_die
--- error_log
"oic_auth exchange" with the jwt_bearer grant requires "oic_auth_assertion_key" and "oic_auth_assertion_kid"



=== TEST 17: exchange without oic_auth_token_endpoint is refused
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/c17/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_kid oic-gw;
    }
--- must_die
--- error_log
"oic_auth exchange" requires "oic_auth_token_endpoint"



=== TEST 18: exchange validates the incoming token like bearer: no audience is refused
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/c18/discovery/v2.0/keys;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_kid oic-gw;
    }
--- must_die
--- error_log
"oic_auth bearer" and "oic_auth exchange" require "oic_auth_audience"



=== TEST 19: exchange without a key set (JWKS URI or file) for the incoming token is refused
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_kid oic-gw;
    }
--- must_die
--- error_log
"oic_auth bearer" and "oic_auth exchange" require "oic_auth_jwks_uri" or "oic_auth_jwks_file"



=== TEST 20: an unknown oic_auth_exchange_grant value is refused
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth_exchange_grant saml2_bearer;
    }
--- must_die
--- error_log
invalid value "saml2_bearer" in



=== TEST 21: a zero assertion lifetime is refused (every assertion would be expired)
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/c21/discovery/v2.0/keys;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_kid oic-gw;
        oic_auth_assertion_lifetime 0s;
    }
--- must_die
--- error_log
invalid value "0s", "oic_auth_assertion_lifetime" must be between 1s and 1h



=== TEST 22: exchange and bearer in one oic_auth are refused (both take Bearer tokens; t/mixed.t has the other order)
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange bearer;
    }
--- must_die
--- error_log
"bearer" and "exchange" cannot be combined: both take Bearer tokens



=== TEST 23: token_exchange needs no assertion key: the configuration starts; a request without credentials gets the Bearer challenge and no IAM call
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /api {
        oic_auth exchange;
        oic_auth_exchange_grant token_exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/c23/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/c23/v2.0;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_XSECRETS/exchange-app;
        add_header X-Auth-Error $oic_auth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /api/a", main::xdrive(path => '/api/b', n => 3)]
--- error_code eval
[401, 200]
--- response_headers eval
["WWW-Authenticate: Bearer realm=\"oic\"\nX-Auth-Error: no_credentials", ""]
--- response_body eval
['401 Authorization Required', '401:3 iam=0 users=none oic=0']
--- no_error_log
[error]
[warn]



=== TEST 24: a PKCS#1 ("BEGIN RSA PRIVATE KEY") assertion key, a secret file given relative to the configuration directory (user_files, trailing newline), key and secret inherited from the server level: the exchange works end to end
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    oic_auth_client_id exchange-app;
    oic_auth_client_secret_file ../html/gateway.secret;
    oic_auth_assertion_key $TEST_NGINX_XSECRETS/pkcs1.key;
    oic_auth_assertion_certificate $TEST_NGINX_CERTS/assertion.pem;
    oic_auth_assertion_kid oic-gw;

    location /api {
        oic_auth exchange;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/c24/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/c24/v2.0;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- user_files eval
">>> gateway.secret\n" . OicTest::client_secret('exchange-app') . "\n"
--- request
GET /api/a
--- more_headers eval
main::bearer_hdr('c24', user => 'ivan@example.com')
--- response_body chomp
sub=ivan@example.com type=user client=exchange-app scope=urn:opc:resource:consumer::all jti=#1
--- no_error_log
[error]
[warn]
