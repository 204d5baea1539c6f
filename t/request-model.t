# The request model (issue #7, items 3, 5 and 6): where the check applies
# and what a request carries once the module has answered, in every mode.
#
#   - subrequests (auth_request, SSI include, mirror): nginx skips the
#     access phase for them; the module checks them in the precontent phase,
#     parks them on a cold cache and resumes them, and gives them their own
#     Authorization header (never the parent's, never raw Basic credentials
#     to a location with oic_auth);
#   - internal redirects (error_page, named locations, try_files): nginx
#     clears module contexts; the module finds its own again, and a location
#     with oic_auth checks the client's own header afresh (its requirements
#     apply), a location without it gets the client's own header back;
#   - satisfy any: the module only answers 401 or 403 there, so that the
#     other access modules have their say; when one of them lets the request
#     in, the module's challenges go and the credentials it refused are not
#     forwarded.
#
#   TEST_NGINX_BINARY=/usr/sbin/nginx TEST_NGINX_MODULE=$PWD/build/ngx_http_oic_auth_module.so \
#   TEST_NGINX_PORT=21000 prove -I t/lib t/request-model.t
#
# The upstream of every location is /up/ of the same nginx, which answers
# "<uri> auth=[<Authorization it received>] user=[<X-User>]".

use FindBin; use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use OicTest;
use OicBearer;

master_on();
workers(1);

tokens(
    valid   => ['r-main', { user => 'alice@example.com', claims => { scp => 'oic_api_HR' } }],
    both    => ['r-main', { user => 'bob@example.com', claims => { scp => 'oic_api_HR oic_api_IT' } }],
    it      => ['r-main', { user => 'carol@example.com', claims => { scp => 'oic_api_IT' } }],
    forged  => ['r-main', { user => 'mallory@example.com', signature_from => 'x.y.' . b64u('z' x 256) }],
    xalice  => ['r-xch', { user => 'alice@example.com' }],
    xnobody => ['r-xch', { user => 'nobody@example.com' }],
    xbad    => ['r-xch', { exp_in => -3600 }],
);

sub basic { my ($id, $secret) = @_; return 'Authorization: ' . OicTest::basic_auth($id, $secret // OicTest::client_secret($id)); }

# an echo line of /up/ (a URI starting with $uri): $auth is a pattern (the
# IAM token: $IAM), lit() makes one of a string
our $IAM = qr/Bearer ey[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/;
sub lit { return quotemeta shift; }
sub bearer { return 'Bearer ' . quotemeta tok(shift); }
sub up { my ($uri, $auth, $user) = @_; $user //= ''; return qr/\Q$uri\E\S* auth=\[$auth\] user=\[\Q$user\E\]\n/; }

our $UP = <<'_EOC_';
    location /up/ {
        return 200 "$uri auth=[$http_authorization] user=[$http_x_user]\n";
    }
    location /nf/ {
        return 404;
    }
_EOC_

our $BEARER = <<'_EOC_';
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/r-main/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/r-main/v2.0;
        oic_auth_audience api://oic-gateway;
        oic_auth_user_claim preferred_username;
_EOC_

our $BASIC = <<'_EOC_';
        oic_auth basic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
_EOC_

our $SECRET = write_temp('exchange-app', OicTest::client_secret('exchange-app'));

our $XCH = <<"_EOC_";
        oic_auth exchange;
        oic_auth_jwks_uri http://127.0.0.1:\$TEST_NGINX_IAM_PORT/r-xch/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/r-xch/v2.0;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:\$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope \$TEST_NGINX_OIC_SCOPE;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $SECRET;
        oic_auth_assertion_key \$TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_kid oic-gw;
_EOC_

# a location that answers what auth_request's target forwarded (X-Seen)
our $AUTHOK = <<'_EOC_';
    location = /authok {
        add_header X-Seen $http_authorization;
        return 204;
    }
_EOC_

# the main location of the auth_request blocks
our $AR = <<'_EOC_';
    location /ar/ {
        auth_request /auth;
        auth_request_set $user $oic_auth_user;
        auth_request_set $seen $upstream_http_x_seen;
        add_header X-Seen $seen always;
        proxy_set_header X-User $user;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/up/;
    }
_EOC_

run_tests();

__DATA__

=== TEST 1: auth_request into a bearer location: no credentials and a garbage token get 401 with the challenge (they used to get through); a valid token passes and its user reaches the upstream
--- config eval
$main::UP . $main::AUTHOK . $main::AR . <<"_EOC_"
    location = /auth {
        internal;
$main::BEARER
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/authok;
    }
_EOC_
--- request eval
["GET /ar/a", "GET /ar/b", "GET /ar/c"]
--- more_headers eval
["", "Authorization: Bearer garbage", main::auth('valid')]
--- error_code eval
[401, 401, 200]
--- response_headers eval
["WWW-Authenticate: Bearer realm=\"oic\"",
 "WWW-Authenticate: Bearer realm=\"oic\", error=\"invalid_token\", error_description=\"token is not three dot-separated segments\"",
 "!WWW-Authenticate\nX-Seen: Bearer " . main::tok('valid')]
--- response_body_like eval
[qr/401 Authorization Required/, qr/401 Authorization Required/,
 main::up('/up/c', main::bearer('valid'), 'alice@example.com')]



=== TEST 2: auth_request into a basic location with a cold cache (the subrequest waits for the IAM call and is resumed): the target's upstream gets the IAM token, never the raw Basic credentials; a wrong secret gets 401 with the Basic challenge
--- config eval
$main::UP . $main::AUTHOK . $main::AR . <<"_EOC_"
    location = /auth {
        internal;
$main::BASIC
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/authok;
    }
_EOC_
--- request eval
["GET /ar/a", "GET /ar/b", "GET /ar/c", "GET /ar/d"]
--- more_headers eval
[main::basic('lag-app'), main::basic('lag-app'), main::basic('lag-app', 'wrong'), ""]
--- error_code eval
[200, 200, 401, 401]
--- response_headers_like eval
["X-Seen: Bearer ey.*", "X-Seen: Bearer ey.*", "WWW-Authenticate: Basic realm=\"oic\", charset=\"UTF-8\"",
 "WWW-Authenticate: Basic realm=\"oic\", charset=\"UTF-8\""]
--- response_body_like eval
[qr/^\/up\/a auth=\[Basic /, qr/^\/up\/b auth=\[Basic /, qr/401 Authorization Required/, qr/401 Authorization Required/]



=== TEST 3: auth_request into an exchange location, cold (the subrequest waits for the JWKS, then for IAM): a valid Entra token passes with the user's IAM token at the target; a user IAM refuses gets 403; an expired token 401
--- config eval
$main::UP . $main::AUTHOK . $main::AR . <<"_EOC_"
    location = /auth {
        internal;
$main::XCH
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/authok;
    }
_EOC_
--- request eval
["GET /ar/a", "GET /ar/b", "GET /ar/c"]
--- more_headers eval
[main::auth('xalice'), main::auth('xnobody'), main::auth('xbad')]
--- error_code eval
[200, 403, 401]
--- response_headers_like eval
["X-Seen: Bearer ey.*", "", "WWW-Authenticate: Bearer realm=\"oic\", error=\"invalid_token\", error_description=\"token expired\""]
--- response_body_like eval
[main::up('/up/a', main::bearer('xalice'), 'alice@example.com'), qr/403 Forbidden/, qr/401 Authorization Required/]



=== TEST 4: an SSI include of a bearer location: without credentials or with a garbage token the include is the 401 page, never the upstream's answer; with a valid token the upstream gets it
--- config eval
$main::UP . <<"_EOC_"
    location = /page.html {
        ssi on;
    }
    location /api/ {
$main::BEARER
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/up/;
    }
_EOC_
--- user_files
>>> page.html
[<!--# include virtual="/api/x" -->]
--- request eval
["GET /page.html", "GET /page.html", "GET /page.html"]
--- more_headers eval
["", "Authorization: Bearer garbage", main::auth('valid')]
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[qr/\A\[<html>\r?\n<head><title>401 Authorization Required<\/title>.*\]\n\z/s,
 qr/\A\[<html>\r?\n<head><title>401 Authorization Required<\/title>.*\]\n\z/s,
 qr/\A\[\/up\/x auth=\[Bearer \Q${\ main::tok('valid')}\E\] user=\[\]\n\]\n\z/]
--- no_error_log
[alert]



=== TEST 5: SSI includes of a basic location with a cold cache: two includes in one page wait for one IAM call and both forward the IAM token (the raw Basic credentials used to reach the backend); a wrong secret and no credentials give the 401 page
--- config eval
$main::UP . <<"_EOC_"
    location = /page.html {
        ssi on;
    }
    location /api/ {
$main::BASIC
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/up/;
    }
_EOC_
--- user_files
>>> page.html
[<!--# include virtual="/api/x" -->|<!--# include virtual="/api/y" -->]
--- request eval
["GET /page.html", "GET /page.html", "GET /page.html"]
--- more_headers eval
[main::basic('lag-app2'), main::basic('lag-app2', 'wrong'), ""]
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[qr/\A\[\/up\/x auth=\[$main::IAM\] user=\[\]\n\|\/up\/y auth=\[$main::IAM\] user=\[\]\n\]\n\z/,
 qr/\A\[<html>.*401 Authorization Required.*\|<html>.*401 Authorization Required.*\]\n\z/s,
 qr/\A\[<html>.*401 Authorization Required.*\|<html>.*401 Authorization Required.*\]\n\z/s]
--- no_error_log
[alert]



=== TEST 6: an SSI include of an exchange location, cold: the include forwards the user's IAM token; an expired token gives the 401 page
--- config eval
$main::UP . <<"_EOC_"
    location = /page.html {
        ssi on;
    }
    location /api/ {
$main::XCH
        proxy_set_header X-User \$oic_auth_user;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/up/;
    }
_EOC_
--- user_files
>>> page.html
[<!--# include virtual="/api/x" -->]
--- request eval
["GET /page.html", "GET /page.html"]
--- more_headers eval
[main::auth('xalice'), main::auth('xbad')]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/\A\[\/up\/x auth=\[$main::IAM\] user=\[alice\@example\.com\]\n\]\n\z/,
 qr/\A\[<html>.*401 Authorization Required.*\]\n\z/s]



=== TEST 7: a protected page (basic) including a protected location and a location without oic_auth: the protected include checks the client's own Basic header (a cache hit) and forwards the IAM token; the other one sees the header the client sent, not the page's IAM token
--- config eval
$main::UP . <<"_EOC_"
    location = /page.html {
$main::BASIC
        ssi on;
    }
    location /api/ {
$main::BASIC
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/up/;
    }
    location /public/ {
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/up/;
    }
_EOC_
--- user_files
>>> page.html
[<!--# include virtual="/api/x" -->|<!--# include virtual="/public/y" -->]
--- request eval
["GET /page.html", "GET /page.html"]
--- more_headers eval
[main::basic('hr-app'), main::basic('hr-app', 'wrong')]
--- error_code eval
[200, 401]
--- response_body_like eval
[qr/\A\[\/up\/x auth=\[$main::IAM\] user=\[\]\n\|\/up\/y auth=\[\Q${\ OicTest::basic_auth('hr-app', OicTest::client_secret('hr-app'))}\E\] user=\[\]\n\]\n\z/,
 qr/401 Authorization Required/]



=== TEST 8: a mirror subrequest into a bearer location is checked too: without credentials the mirror's backend is never called, with a valid token it gets the token
--- http_config
    log_format seen escape=none '$uri $http_authorization';
--- config eval
$main::UP . <<"_EOC_"
    location /m/ {
        mirror /mirror;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/up/;
    }
    location = /mirror {
        internal;
$main::BEARER
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/mirror-up/;
    }
    location /mirror-up/ {
        access_log logs/mirror.log seen;
        return 204;
    }
    location = /mirror.log {
        alias logs/mirror.log;
    }
_EOC_
--- request eval
["GET /m/a", "GET /m/b", "GET /mirror.log"]
--- more_headers eval
["", main::auth('valid'), ""]
--- wait: 0.5
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[qr/\A\/up\/a auth=\[\]/, qr/\A\/up\/b auth=\[Bearer /,
 qr/\A\/mirror-up\/ Bearer \Q${\ main::tok('valid')}\E\n\z/]



=== TEST 9: basic, proxy_intercept_errors and error_page 404 into another basic location (a URI, and a named location): the redirected request is checked again from the client's own header (a cache hit) and goes on with the IAM token (it used to get 401 no_credentials)
--- config eval
$main::UP . <<"_EOC_"
    location /api/ {
$main::BASIC
        proxy_intercept_errors on;
        error_page 404 = /fallback/;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/nf/;
    }
    location /named/ {
$main::BASIC
        proxy_intercept_errors on;
        error_page 404 = \@fb;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/nf/;
    }
    location /fallback/ {
$main::BASIC
        add_header X-Cache \$oic_auth_cache_status always;
        add_header X-Client \$oic_auth_client_id always;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/up/;
    }
    location \@fb {
$main::BASIC
        add_header X-Client \$oic_auth_client_id always;
        rewrite ^ /up/fb break;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT;
    }
_EOC_
--- request eval
["GET /api/a", "GET /named/b", "GET /api/c"]
--- more_headers eval
[main::basic('hr-app'), main::basic('hr-app'), main::basic('hr-app', 'wrong')]
--- error_code eval
[200, 200, 401]
--- response_headers eval
["X-Cache: MISS\nX-Client: hr-app", "X-Client: hr-app", "!X-Client"]
--- response_body_like eval
[main::up('/up/', $main::IAM), main::up('/up/fb', $main::IAM), qr/401 Authorization Required/]
--- no_error_log
no credentials



=== TEST 10: bearer and exchange, error_page into locations with other requirements: the new location's scopes apply (an HR token gets 403 at the IT fallback, a token with both scopes passes; the same requirements pass), and another mode checks the client's own token (exchange into bearer: the Entra token, not the IAM token the exchange put there)
--- config eval
$main::UP . <<"_EOC_"
    location /hr/ {
$main::BEARER
        oic_auth_scopes_required oic_api_HR;
        proxy_intercept_errors on;
        error_page 404 = /it/;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/nf/;
    }
    location /it/ {
$main::BEARER
        oic_auth_scopes_required oic_api_IT;
        proxy_set_header X-User \$oic_auth_user;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/up/;
    }
    location /hr2/ {
$main::BEARER
        oic_auth_scopes_required oic_api_HR;
        proxy_intercept_errors on;
        error_page 404 = \@hr;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/nf/;
    }
    location \@hr {
$main::BEARER
        oic_auth_scopes_required oic_api_HR;
        proxy_set_header X-User \$oic_auth_user;
        rewrite ^ /up/hr break;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT;
    }
    location /x/ {
$main::XCH
        proxy_intercept_errors on;
        error_page 404 = /entra/;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/nf/;
    }
    location /entra/ {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:\$TEST_NGINX_IAM_PORT/r-xch/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/r-xch/v2.0;
        oic_auth_audience api://oic-gateway;
        proxy_set_header X-User \$oic_auth_user;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/up/;
    }
_EOC_
--- request eval
["GET /hr/a", "GET /hr/b", "GET /hr2/c", "GET /x/d"]
--- more_headers eval
[main::auth('valid'), main::auth('both'), main::auth('valid'), main::auth('xalice')]
--- error_code eval
[403, 200, 200, 200]
--- response_headers eval
["WWW-Authenticate: Bearer realm=\"oic\", error=\"insufficient_scope\", scope=\"oic_api_IT\"", "!WWW-Authenticate", "!WWW-Authenticate", "!WWW-Authenticate"]
--- response_body_like eval
[qr/403 Forbidden/, main::up('/up/', main::bearer('both'), 'bob@example.com'),
 main::up('/up/hr', main::bearer('valid'), 'alice@example.com'),
 main::up('/up/', main::bearer('xalice'), 'alice@example.com')]



=== TEST 11: exchange, error_page 404 into another exchange location: the user's IAM token reaches the fallback
--- config eval
$main::UP . <<"_EOC_"
    location /api/ {
$main::XCH
        proxy_intercept_errors on;
        error_page 404 = /fallback/;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/nf/;
    }
    location /fallback/ {
$main::XCH
        proxy_set_header X-User \$oic_auth_user;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/up/;
    }
_EOC_
--- request eval
["GET /api/a", "GET /api/b"]
--- more_headers eval
[main::auth('xalice'), main::auth('xbad')]
--- error_code eval
[200, 401]
--- response_body_like eval
[main::up('/up/', $main::IAM, 'alice@example.com'), qr/401 Authorization Required/]



=== TEST 12: try_files after the check (basic): to a named location and to a URI with oic_auth, the request goes on with the IAM token
--- config eval
$main::UP . <<"_EOC_"
    location /tf/ {
$main::BASIC
        try_files /nonexistent \@tf;
    }
    location /tu/ {
$main::BASIC
        try_files /nonexistent /fallback/;
    }
    location \@tf {
$main::BASIC
        rewrite ^ /up/tf break;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT;
    }
    location /fallback/ {
$main::BASIC
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/up/;
    }
_EOC_
--- request eval
["GET /tf/a", "GET /tu/b"]
--- more_headers eval
[main::basic('hr-app'), main::basic('hr-app')]
--- error_code eval
[200, 200]
--- response_body_like eval
[main::up('/up/tf', $main::IAM), main::up('/up/', $main::IAM)]



=== TEST 13: an internal redirect into a location without oic_auth: it gets the header the client sent (the IAM token was for the location with oic_auth), in basic and in bearer mode
--- config eval
$main::UP . <<"_EOC_"
    location /b/ {
$main::BASIC
        proxy_intercept_errors on;
        error_page 404 = /public/;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/nf/;
    }
    location /t/ {
$main::BEARER
        proxy_intercept_errors on;
        error_page 404 = \@public;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/nf/;
    }
    location /public/ {
        add_header X-Client \$oic_auth_client_id always;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/up/;
    }
    location \@public {
        rewrite ^ /up/pub break;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT;
    }
_EOC_
--- request eval
["GET /b/a", "GET /t/b"]
--- more_headers eval
[main::basic('hr-app'), main::auth('valid')]
--- error_code eval
[200, 200]
--- response_headers eval
["X-Client: hr-app", ""]
--- response_body_like eval
[main::up('/up/', main::lit(OicTest::basic_auth('hr-app', OicTest::client_secret('hr-app')))),
 main::up('/up/pub', main::bearer('valid'))]



=== TEST 14: error_page 401 into another oic_auth location: checked again, still 401, with one challenge (not one per pass)
--- config eval
$main::UP . <<"_EOC_"
    location /api/ {
$main::BASIC
        error_page 401 = /login/;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/up/;
    }
    location /login/ {
$main::BASIC
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/up/;
    }
_EOC_
--- request eval
["GET /api/a", "GET /api/b"]
--- more_headers eval
["", main::basic('hr-app', 'wrong')]
--- error_code eval
[401, 401]
--- raw_response_headers_like eval
[qr/\A(?:(?!WWW-Authenticate)[\s\S])*WWW-Authenticate: Basic realm="oic", charset="UTF-8"\r\n(?:(?!WWW-Authenticate)[\s\S])*\z/,
 qr/\A(?:(?!WWW-Authenticate)[\s\S])*WWW-Authenticate: Basic realm="oic", charset="UTF-8"\r\n(?:(?!WWW-Authenticate)[\s\S])*\z/]



=== TEST 15: bearer, satisfy any, allow 127.0.0.1 matching: every refusal leaves the decision to the allow rule (no credentials: no WWW-Authenticate; a token without the route's scope; "Bearer a b"; a forged token: in, without its Authorization header)
--- config eval
$main::UP . <<"_EOC_"
    location /t/ {
        satisfy any;
        allow 127.0.0.1;
        deny all;
$main::BEARER
        oic_auth_scopes_required oic_api_HR;
        proxy_set_header X-User \$oic_auth_user;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/up/;
    }
_EOC_
--- request eval
["GET /t/a", "GET /t/b", "GET /t/c", "GET /t/d", "GET /t/e"]
--- more_headers eval
["", main::auth('it'), "Authorization: Bearer a b", main::auth('forged'), main::auth('valid')]
--- error_code eval
[200, 200, 200, 200, 200]
--- response_headers eval
[("!WWW-Authenticate") x 5]
--- response_body_like eval
[main::up('/up/', ''), main::up('/up/', ''), main::up('/up/', ''), main::up('/up/', ''),
 main::up('/up/', main::bearer('valid'), 'alice@example.com')]



=== TEST 16: bearer, satisfy any, the allow rule not matching: the module's answers are 401 or 403 (nginx ends the request at once on anything else): "Bearer a b" 401, the deny status 404 becomes 403; the challenges stay
--- config eval
$main::UP . <<"_EOC_"
    location /t/ {
        satisfy any;
        allow 10.255.255.1;
        deny all;
$main::BEARER
        oic_auth_scopes_required oic_api_HR;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/up/;
    }
    location /h/ {
        satisfy any;
        allow 10.255.255.1;
        deny all;
$main::BEARER
        oic_auth_scopes_required oic_api_HR;
        oic_auth_deny_status 404;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/up/;
    }
_EOC_
--- request eval
["GET /t/a", "GET /t/b", "GET /t/c", "GET /h/d", "GET /t/e"]
--- more_headers eval
["", main::auth('it'), "Authorization: Bearer a b", main::auth('it'), main::auth('valid')]
--- error_code eval
[401, 403, 401, 403, 200]
--- response_headers eval
["WWW-Authenticate: Bearer realm=\"oic\"",
 "WWW-Authenticate: Bearer realm=\"oic\", error=\"insufficient_scope\", scope=\"oic_api_HR\"",
 "WWW-Authenticate: Bearer realm=\"oic\", error=\"invalid_request\", error_description=\"malformed Authorization header\"",
 "!WWW-Authenticate", "!WWW-Authenticate"]
--- response_body_like eval
[qr/401 Authorization Required/, qr/403 Forbidden/, qr/401 Authorization Required/, qr/403 Forbidden/,
 main::up('/up/', main::bearer('valid'))]



=== TEST 17: basic, satisfy any, allow matching: a wrong secret and IAM trouble (503, 502) let the allow rule decide, and the raw Basic credentials the module refused are not forwarded; a valid client gets the IAM token
--- config eval
$main::UP . <<"_EOC_"
    location /b/ {
        satisfy any;
        allow 127.0.0.1;
        deny all;
$main::BASIC
        add_header X-Client \$oic_auth_client_id always;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/up/;
    }
_EOC_
--- request eval
["GET /b/a", "GET /b/b", "GET /b/c", "GET /b/d", "GET /b/e", "GET /_errlog"]
--- more_headers eval
["", main::basic('hr-app', 'wrong'), main::basic('err503-app'), main::basic('err500-app'), main::basic('hr-app'), ""]
--- error_code eval
[200, 200, 200, 200, 200, 200]
--- response_headers eval
["!WWW-Authenticate\n!X-Client", "!WWW-Authenticate\n!X-Client", "!WWW-Authenticate\n!X-Client",
 "!WWW-Authenticate\n!X-Client", "!WWW-Authenticate\nX-Client: hr-app", ""]
--- response_body_filters eval
sub { my $b = shift; return $b unless $b =~ m{\A\d{4}/\d\d/\d\d };
      my $n = () = $b =~ /oic_auth: access granted by another module, the refused credentials are not forwarded/g; "granted=$n\n" }
--- response_body_like eval
[main::up('/up/', ''), main::up('/up/', ''), main::up('/up/', ''), main::up('/up/', ''), main::up('/up/', $main::IAM),
 qr/\Agranted=3\n\z/]



=== TEST 18: basic, satisfy any, allow not matching: a wrong secret 401 with the challenge, IAM trouble 403 (503 and 502 would end the request at once), a valid client 200
--- config eval
$main::UP . <<"_EOC_"
    location /b/ {
        satisfy any;
        allow 10.255.255.1;
        deny all;
$main::BASIC
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/up/;
    }
_EOC_
--- request eval
["GET /b/a", "GET /b/b", "GET /b/c", "GET /b/d"]
--- more_headers eval
[main::basic('hr-app', 'wrong'), main::basic('err503-app'), main::basic('err500-app'), main::basic('hr-app')]
--- error_code eval
[401, 403, 403, 200]
--- response_headers eval
["WWW-Authenticate: Basic realm=\"oic\", charset=\"UTF-8\"", "!WWW-Authenticate", "!WWW-Authenticate", "!WWW-Authenticate"]
--- response_body_like eval
[qr/401 Authorization Required/, qr/403 Forbidden/, qr/403 Forbidden/, main::up('/up/', $main::IAM)]



=== TEST 19: exchange under satisfy any: allow matching lets an expired token and a user IAM refuses in without their Authorization header; allow not matching: 401, 403, and 200 for a valid user
--- config eval
$main::UP . <<"_EOC_"
    location /in/ {
        satisfy any;
        allow 127.0.0.1;
        deny all;
$main::XCH
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/up/;
    }
    location /out/ {
        satisfy any;
        allow 10.255.255.1;
        deny all;
$main::XCH
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/up/;
    }
_EOC_
--- request eval
["GET /in/a", "GET /in/b", "GET /in/c", "GET /out/d", "GET /out/e", "GET /out/f"]
--- more_headers eval
[main::auth('xbad'), main::auth('xnobody'), main::auth('xalice'), main::auth('xbad'), main::auth('xnobody'), main::auth('xalice')]
--- error_code eval
[200, 200, 200, 401, 403, 200]
--- response_headers eval
[("!WWW-Authenticate") x 3, "WWW-Authenticate: Bearer realm=\"oic\", error=\"invalid_token\", error_description=\"token expired\"", "!WWW-Authenticate", "!WWW-Authenticate"]
--- response_body_like eval
[main::up('/up/', ''), main::up('/up/', ''), main::up('/up/', $main::IAM),
 qr/401 Authorization Required/, qr/403 Forbidden/, main::up('/up/', $main::IAM)]



=== TEST 20: satisfy all (the default) with an allow rule: the module's answers are unchanged ("Bearer a b" 400, deny status 404); allow not matching refuses a valid token (403)
--- config eval
$main::UP . <<"_EOC_"
    location /t/ {
        allow 127.0.0.1;
        deny all;
$main::BEARER
        oic_auth_scopes_required oic_api_HR;
        oic_auth_deny_status 404;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/up/;
    }
    location /d/ {
        allow 10.255.255.1;
        deny all;
$main::BEARER
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/up/;
    }
_EOC_
--- request eval
["GET /t/a", "GET /t/b", "GET /t/c", "GET /t/d", "GET /d/e"]
--- more_headers eval
["", "Authorization: Bearer a b", main::auth('it'), main::auth('valid'), main::auth('valid')]
--- error_code eval
[401, 400, 404, 200, 403]
--- response_headers eval
["WWW-Authenticate: Bearer realm=\"oic\"",
 "WWW-Authenticate: Bearer realm=\"oic\", error=\"invalid_request\", error_description=\"malformed Authorization header\"",
 "!WWW-Authenticate", "!WWW-Authenticate", "!WWW-Authenticate"]



=== TEST 21: satisfy any with two schemes (basic and bearer, two challenges): when the allow rule lets the request in, neither challenge is left (nginx hides only the first)
--- config eval
$main::UP . <<"_EOC_"
    location /t/ {
        satisfy any;
        allow 127.0.0.1;
        deny all;
        oic_auth basic bearer;
        oic_auth_jwks_uri http://127.0.0.1:\$TEST_NGINX_IAM_PORT/r-main/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/r-main/v2.0;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:\$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope \$TEST_NGINX_OIC_SCOPE;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/up/;
    }
    location /u/ {
        satisfy any;
        allow 10.255.255.1;
        deny all;
        oic_auth basic bearer;
        oic_auth_jwks_uri http://127.0.0.1:\$TEST_NGINX_IAM_PORT/r-main/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/r-main/v2.0;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:\$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope \$TEST_NGINX_OIC_SCOPE;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/up/;
    }
_EOC_
--- request eval
["GET /t/a", "GET /u/b"]
--- error_code eval
[200, 401]
--- raw_response_headers_unlike eval
[qr/WWW-Authenticate/i, qr/\A\z/]
--- raw_response_headers_like eval
[qr/\A/, qr/WWW-Authenticate: Basic realm="oic", charset="UTF-8"\r\nWWW-Authenticate: Bearer realm="oic"\r\n/]



=== TEST 22: a client that goes away while its SSI include waits for IAM (slow-app answers after 2 s): the waiting subrequest is let go, the fetch goes on and fills the cache, the worker stays healthy
--- config eval
$main::UP . <<"_EOC_"
    location = /page.html {
        ssi on;
    }
    location /api/ {
$main::BASIC
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/up/;
    }
_EOC_
--- user_files
>>> page.html
[<!--# include virtual="/api/x" -->]
--- request
GET /page.html
--- more_headers eval
main::basic('slow-app')
--- timeout: 0.5
--- abort
--- wait: 2.5
--- ignore_response
--- error_log
oic_auth: token issued for client "slow-app"
--- no_error_log
[alert]
[crit]



=== TEST 23: auth_request takes 2xx, 401 and 403 (anything else becomes 500): through it, a malformed header gets 401 (with the invalid_request challenge) and a token without the route's scope under oic_auth_deny_status 404 gets 403
--- config eval
$main::UP . $main::AUTHOK . $main::AR . <<"_EOC_"
    location = /auth {
        internal;
$main::BEARER
        oic_auth_scopes_required oic_api_IT;
        oic_auth_deny_status 404;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/authok;
    }
_EOC_
--- request eval
["GET /ar/a", "GET /ar/b", "GET /ar/c"]
--- more_headers eval
["Authorization: Bearer a b", main::auth('valid'), main::auth('it')]
--- error_code eval
[401, 403, 200]
--- response_headers eval
["WWW-Authenticate: Bearer realm=\"oic\", error=\"invalid_request\", error_description=\"malformed Authorization header\"",
 "!WWW-Authenticate", "!WWW-Authenticate"]
--- no_error_log
auth request unexpected status
