# oic_auth bearer (issue #7, item 4): a worker's memory stays bounded whatever
# tokens it is sent. 1,100 distinct large tokens (7 KB, payloads of many small
# JSON elements, which jansson turns into trees thirty times their size) go to
# one worker; its resident size (VmRSS of /proc/<worker pid>/status, sampled
# by the mock every 20 ms during the run) must not grow by more than 48 MB.
# Before the fix (decoded tokens cached before any check, 1,024 of them
# whatever their size) the first block grew by about 250 MB.
#
#   TEST_NGINX_BINARY=/usr/sbin/nginx TEST_NGINX_MODULE=$PWD/build/ngx_http_oic_auth_module.so \
#   TEST_NGINX_PORT=22000 prove -I t/lib t/bearer-memory.t

# Under AddressSanitizer (make asan) freed memory sits in its quarantine:
# resident sizes say nothing about the module there.
BEGIN {
    if ($ENV{ASAN_OPTIONS}) {
        print "1..0 # SKIP resident sizes are meaningless under AddressSanitizer\n";
        exit 0;
    }
}

use FindBin; use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use OicTest;
use OicBearer;
use JSON::PP;

master_on();
workers(1);

our $BOUND_MB = 48;

$OicBearer::DefaultConfig = <<'_EOC_';
    location /api {
        oic_auth bearer;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/admin/v1/SigningCert/jwk;
        oic_auth_issuer https://identity.oraclecloud.com/;
        oic_auth_audience $TEST_NGINX_OIC_AUDIENCE;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/;
    }
_EOC_

# statuses, then whether the worker's RSS grew by less than $BOUND_MB
sub growth {
    my $b = shift;
    my $j = eval { decode_json($b) } or return $b;
    my $s = $j->{statuses};
    my $out = join ' ', map { "$_:$s->{$_}" } sort keys %$s;
    return "$out no rss\n" unless defined $j->{rss_kb_before} && defined $j->{rss_kb_max};
    my $mb = ($j->{rss_kb_max} - $j->{rss_kb_before}) / 1024;
    Test::More::diag(sprintf "worker RSS %.1f MB before, %.1f MB at most during the run (+%.1f MB)",
                     $j->{rss_kb_before} / 1024, $j->{rss_kb_max} / 1024, $mb);
    return $out . ($mb < $BOUND_MB ? " grew less than $BOUND_MB MB\n" : sprintf(" grew by %.0f MB\n", $mb));
}

# a drive of n tokens minted by the mock (distinct: each has its own drive_n
# claim), warmed up first with one genuine token (the JWKS is fetched then)
sub run_drive {
    my (%mint) = @_;
    my $opts = encode_json(\%mint);
    return ['GET /api', drive(path => '/api', n => 1100, conc => 8, mint => 'iam', mint_opts => $opts)];
}

our $PAD = { claim => 'groups', count => 1700, item => [] };

run_tests();

__DATA__

=== TEST 1: 1,100 RS256 tokens with forged signatures (known kid, claims that pass every check)
--- more_headers eval
"Authorization: Bearer " . OicTest::iam_token()
--- request eval
main::run_drive(sign_with => 'foreign', fill => $main::PAD)
--- response_body_filters eval
[sub { $_[0] eq 'plain' ? "ok\n" : main::growth($_[0]) }]
--- response_body eval
["ok\n", "401:1100 grew less than $main::BOUND_MB MB\n"]
--- error_code eval
[200, 200]
--- timeout: 120



=== TEST 2: 1,100 RS256 tokens with an empty signature
--- more_headers eval
"Authorization: Bearer " . OicTest::iam_token()
--- request eval
main::run_drive(unsigned => 1, header => { alg => 'RS256' }, fill => $main::PAD)
--- response_body_filters eval
[sub { $_[0] eq 'plain' ? "ok\n" : main::growth($_[0]) }]
--- response_body eval
["ok\n", "401:1100 grew less than $main::BOUND_MB MB\n"]
--- error_code eval
[200, 200]
--- timeout: 120



=== TEST 3: 1,100 RS256 tokens for another audience (refused on their claims)
--- more_headers eval
"Authorization: Bearer " . OicTest::iam_token()
--- request eval
main::run_drive(aud => 'https://elsewhere.example.com', fill => $main::PAD)
--- response_body_filters eval
[sub { $_[0] eq 'plain' ? "ok\n" : main::growth($_[0]) }]
--- response_body eval
["ok\n", "401:1100 grew less than $main::BOUND_MB MB\n"]
--- error_code eval
[200, 200]
--- timeout: 120



=== TEST 4: 1,100 genuine, validly signed tokens with many claims (verified, so cached: within the byte budget)
--- more_headers eval
"Authorization: Bearer " . OicTest::iam_token()
--- request eval
main::run_drive(fill => $main::PAD)
--- response_body_filters eval
[sub { $_[0] eq 'plain' ? "ok\n" : main::growth($_[0]) }]
--- response_body eval
["ok\n", "200:1100 grew less than $main::BOUND_MB MB\n"]
--- error_code eval
[200, 200]
--- timeout: 120



=== TEST 5: 1,100 genuine tokens with 600 claims each
--- more_headers eval
"Authorization: Bearer " . OicTest::iam_token()
--- request eval
main::run_drive(fill => { prefix => 'c', count => 600, item => 0 })
--- response_body_filters eval
[sub { $_[0] eq 'plain' ? "ok\n" : main::growth($_[0]) }]
--- response_body eval
["ok\n", "200:1100 grew less than $main::BOUND_MB MB\n"]
--- error_code eval
[200, 200]
--- timeout: 120
