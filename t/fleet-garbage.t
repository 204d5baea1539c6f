# A "Redis" that is broken or hostile (fake servers of t/inc/OicRedis.pm):
# a reply nobody asked for, replies of the wrong type, an HTTP server, an
# array header of 100000 elements, a 10 MB bulk string, silence, a server
# that hangs up. Each is a failure with one clear line, the circuit opens,
# requests are served, and no worker dies (hiredis' async API in 0.14
# aborts the process on the first of these: this client reads replies with
# hiredis' reader on a connection of its own).
#
#   TEST_NGINX_BINARY=/usr/sbin/nginx TEST_NGINX_MODULE=$PWD/build/ngx_http_oic_auth_module.so \
#   TEST_NGINX_PORT=22000 prove -I t/lib t/fleet-garbage.t

use FindBin; use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use OicTest;
use OicRedis start => 0;
use File::Temp ();

master_on();
workers(2);

our $TMP = File::Temp::tempdir('oic-fleet-garbage-XXXXXX', TMPDIR => 1, CLEANUP => 1);
open my $fh, '>', "$TMP/fleet.key" or die "$TMP/fleet.key: $!";
print $fh "$OicRedis::KeyHex\n";
close $fh;
chmod 0600, "$TMP/fleet.key";
$ENV{TEST_NGINX_FLEET_KEY} = "$TMP/fleet.key";

for my $mode (qw(double wrongtype garbage hugearray hugebulk silent close)) {
    $ENV{'TEST_NGINX_FAKE_' . uc($mode) . '_PORT'} = OicRedis::fake($mode);
}

add_block_preprocessor(sub {
    my $block = shift;
    # a worker that died shows in the master's log; none may
    $block->set_value('no_error_log', "exited on signal\n[alert]\n[crit]\n")
        unless defined $block->no_error_log;
    $block->set_value('config', "    location = /t { return 204; }\n")
        unless defined $block->config;
    $block->set_value('request', "GET /t\n") unless defined $block->request;
    $block->set_value('error_code', 204) unless defined $block->error_code;
    # the workers meet the fake server at start: give them time to fail
    # before the log is read (Test::Nginx reads it once, at once)
    $block->set_value('wait', 1) unless defined $block->wait;
});

run_tests();

__DATA__

=== TEST 1: two replies to one command: "a reply no command asked for" is a failure, not an abort
--- http_config
    oic_auth_cache_zone tokens:1m fleet;
    oic_auth_redis 127.0.0.1:$TEST_NGINX_FAKE_DOUBLE_PORT timeout=1s;
    oic_auth_redis_key_file $TEST_NGINX_FLEET_KEY;
--- error_log eval
qr/oic_auth: redis 127\.0\.0\.1:\d+: a reply no command asked for; Redis is not used for 1000 ms/



=== TEST 2: an integer where OK is expected
--- http_config
    oic_auth_cache_zone tokens:1m fleet;
    oic_auth_redis 127.0.0.1:$TEST_NGINX_FAKE_WRONGTYPE_PORT timeout=1s;
    oic_auth_redis_key_file $TEST_NGINX_FLEET_KEY;
--- error_log eval
qr/oic_auth: redis 127\.0\.0\.1:\d+: CLIENT: unexpected reply of type 3; Redis is not used for 1000 ms/



=== TEST 3: an HTTP server on the Redis port
--- http_config
    oic_auth_cache_zone tokens:1m fleet;
    oic_auth_redis 127.0.0.1:$TEST_NGINX_FAKE_GARBAGE_PORT timeout=1s;
    oic_auth_redis_key_file $TEST_NGINX_FLEET_KEY;
--- error_log eval
qr/oic_auth: redis 127\.0\.0\.1:\d+: protocol error: Protocol error, got "H" as reply type byte; Redis is not used for 1000 ms/



=== TEST 4: an array of 100000 elements is refused before it is allocated
--- http_config
    oic_auth_cache_zone tokens:1m fleet;
    oic_auth_redis 127.0.0.1:$TEST_NGINX_FAKE_HUGEARRAY_PORT timeout=1s;
    oic_auth_redis_key_file $TEST_NGINX_FLEET_KEY;
--- error_log eval
qr/oic_auth: redis 127\.0\.0\.1:\d+: an array of more than 1024 elements; Redis is not used for 1000 ms/



=== TEST 5: a 10 MB bulk string is refused after 1 MB
--- http_config
    oic_auth_cache_zone tokens:1m fleet;
    oic_auth_redis 127.0.0.1:$TEST_NGINX_FAKE_HUGEBULK_PORT timeout=2s;
    oic_auth_redis_key_file $TEST_NGINX_FLEET_KEY;
--- error_log eval
qr/oic_auth: redis 127\.0\.0\.1:\d+: a reply larger than 1048576 bytes; Redis is not used for 1000 ms/



=== TEST 6: a server that never answers: the command's timer drops the connection
--- http_config
    oic_auth_cache_zone tokens:1m fleet;
    oic_auth_redis 127.0.0.1:$TEST_NGINX_FAKE_SILENT_PORT timeout=300ms;
    oic_auth_redis_key_file $TEST_NGINX_FLEET_KEY;
--- error_log eval
qr/oic_auth: redis 127\.0\.0\.1:\d+: (?:CLIENT|PING) timed out after 300 ms; Redis is not used for 1000 ms/



=== TEST 7: a server that hangs up at once
--- http_config
    oic_auth_cache_zone tokens:1m fleet;
    oic_auth_redis 127.0.0.1:$TEST_NGINX_FAKE_CLOSE_PORT timeout=1s;
    oic_auth_redis_key_file $TEST_NGINX_FLEET_KEY;
--- error_log eval
qr/oic_auth: redis 127\.0\.0\.1:\d+: (?:the server closed the connection|send\(\) failed|recv\(\) failed); Redis is not used for 1000 ms/
