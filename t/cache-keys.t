# Cache keys and the ids log lines give them (issue #7, item 7). The key of
# an entry that involves a secret, a token or a user is an HMAC with a random
# secret kept in the zone, and the "key xxxxxxxx" of a log line is derived
# from it with that secret too: somebody who reads the log cannot test
# guessed secrets against it. Two zones (each with its own secret) give the
# same client two different ids, neither of them a prefix of the plain
# SHA-256 of (endpoint, id, secret, scope) that ids used to be.
# t/reload.sh checks that a reload keeps a zone's secret (same id after it).
#
#   TEST_NGINX_BINARY=/usr/sbin/nginx TEST_NGINX_MODULE=$PWD/build/ngx_http_oic_auth_module.so \
#   TEST_NGINX_PORT=22000 prove -I t/lib t/cache-keys.t

use FindBin; use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use OicTest;
use Digest::SHA ();

master_on();
workers(1);

our $ENDPOINT = "$ENV{TEST_NGINX_IAM_URL}/oauth2/v1/token";

# The cache key the module used to log a prefix of: SHA-256 over the tag and
# the fields, each preceded by its length as 8 bytes big-endian.
sub sha_key_prefix {
    my ($tag, @fields) = @_;
    my $in = '';
    for my $f ($tag, @fields) {
        my $b = $f;
        utf8::encode($b) if utf8::is_utf8($b);
        $in .= pack('Q>', length $b) . $b;
    }
    return substr(Digest::SHA::sha256_hex($in), 0, 8);
}

# The error log turned into: how many ids the lines about $client carry, how
# many distinct, and whether any is the plain SHA-256 prefix of its fields.
sub ids_of {
    my ($client, $secret) = @_;
    my $plain = sha_key_prefix('basic', $ENDPOINT, $client, $secret, $ENV{TEST_NGINX_OIC_SCOPE});
    return sub {
        my $b = shift;
        return $b unless $b =~ /^\d{4}\/\d\d\/\d\d /;
        my @ids = $b =~ /token (?:request )?(?:issued )?for client "\Q$client\E" \(key ([0-9a-f]{8})\)/g;
        my %seen = map { $_ => 1 } @ids;
        return sprintf "ids=%d distinct=%d plain=%s\n", scalar @ids, scalar keys %seen,
            (grep { $_ eq $plain } @ids) ? 'yes' : 'no';
    };
}

run_tests();

__DATA__

=== TEST 1: the same client in two zones: two different log ids, neither the plain SHA-256 prefix
--- http_config
    oic_auth_cache_zone one:1m;
    oic_auth_cache_zone two:1m;
--- config
    location /one {
        oic_auth basic;
        oic_auth_cache one;
        oic_auth_token_endpoint $TEST_NGINX_IAM_URL/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        proxy_pass $TEST_NGINX_OIC_URL;
    }
    location /two {
        oic_auth basic;
        oic_auth_cache two;
        oic_auth_token_endpoint $TEST_NGINX_IAM_URL/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        proxy_pass $TEST_NGINX_OIC_URL;
    }
    location = /_errlog {
        alias logs/error.log;
        default_type text/plain;
    }
--- request eval
["GET /one", "GET /two", "GET /_errlog"]
--- more_headers eval
"Authorization: " . OicTest::basic_auth('app1', OicTest::client_secret('app1'))
--- response_body_filters eval
[main::ids_of('app1', OicTest::client_secret('app1'))]
--- response_body_like eval
[qr/"sub":"app1"/, qr/"sub":"app1"/, qr/\Aids=2 distinct=2 plain=no\n\z/]
--- no_error_log
[alert]



=== TEST 2: a wrong secret: the refusal's id is not the plain SHA-256 prefix either, and stays the same for the same credentials
--- http_config
    oic_auth_cache_zone one:1m;
--- config
    location /one {
        oic_auth basic;
        oic_auth_cache one;
        oic_auth_negative_ttl 0;    # both refusals come from IAM
        oic_auth_token_endpoint $TEST_NGINX_IAM_URL/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        proxy_pass $TEST_NGINX_OIC_URL;
    }
    location = /_errlog {
        alias logs/error.log;
        default_type text/plain;
    }
--- request eval
["GET /one", "GET /one", "GET /_errlog"]
--- more_headers eval
"Authorization: " . OicTest::basic_auth('app2', 'guessed-secret')
--- response_body_filters eval
[main::ids_of('app2', 'guessed-secret')]
--- response_body_like eval
[qr//, qr//, qr/\Aids=2 distinct=1 plain=no\n\z/]
--- error_code eval
[401, 401, 200]
