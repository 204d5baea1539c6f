# Fleet mode at nginx -t: oic_auth_redis, oic_auth_redis_key_file and
# "oic_auth_cache_zone NAME:SIZE fleet". Each broken configuration must fail
# with a clear message; the good ones must start, with or without a Redis to
# talk to (Redis is never needed to start or to serve).
#
#   TEST_NGINX_BINARY=/usr/sbin/nginx TEST_NGINX_MODULE=$PWD/build/ngx_http_oic_auth_module.so \
#   TEST_NGINX_PORT=22000 prove -I t/lib t/fleet-config.t

use FindBin; use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use OicTest;
use OicRedis start => 0;
use File::Temp ();

our $TMP = File::Temp::tempdir('oic-fleet-conf-XXXXXX', TMPDIR => 1, CLEANUP => 1);

sub put {
    my ($name, $content, $mode) = @_;
    open my $fh, '>', "$TMP/$name" or die "$TMP/$name: $!";
    binmode $fh;
    print $fh $content;
    close $fh;
    chmod $mode, "$TMP/$name";
    return "$TMP/$name";
}

$ENV{TEST_NGINX_FLEET_KEY}     = put('fleet.key', "$OicRedis::KeyHex\n", 0600);
$ENV{TEST_NGINX_FLEET_KEY_RAW} = put('raw.key', pack('H*', $OicRedis::KeyHex), 0640);
$ENV{TEST_NGINX_FLEET_KEY_B64} = put('b64.key', "nxwqe+BNZYHDqV4n0LT2ih58MtWasE5vjSHHtaPpD2Q=\n", 0400);
$ENV{TEST_NGINX_FLEET_KEY_OPEN} = put('open.key', "$OicRedis::KeyHex\n", 0644);
$ENV{TEST_NGINX_FLEET_KEY_SHORT} = put('short.key', substr($OicRedis::KeyHex, 0, 62) . "\n", 0600);
$ENV{TEST_NGINX_FLEET_KEY_ZERO} = put('zero.key', "\0" x 32, 0600);
$ENV{TEST_NGINX_FLEET_PASSWORD} = put('redis.password', "s3cr3t-Pw\n", 0600);
$ENV{TEST_NGINX_FLEET_PASSWORD_EMPTY} = put('empty.password', "\n", 0600);
$ENV{TEST_NGINX_FLEET_TMP} = $TMP;
# a port nothing listens on
$ENV{TEST_NGINX_FLEET_DEAD_PORT} = OicRedis::free_port();

run_tests();

__DATA__

=== TEST 1: a fleet zone without oic_auth_redis
--- http_config
    oic_auth_cache_zone tokens:1m fleet;
--- config
    location = /t { return 204; }
--- must_die
--- error_log
zone "tokens" is "fleet": it requires "oic_auth_redis"



=== TEST 2: oic_auth_redis without a key file: nothing could be encrypted
--- http_config
    oic_auth_cache_zone tokens:1m fleet;
    oic_auth_redis 127.0.0.1:6379;
--- config
    location = /t { return 204; }
--- must_die
--- error_log
"oic_auth_redis" requires "oic_auth_redis_key_file": what is stored in Redis is encrypted with it



=== TEST 3: a key file without oic_auth_redis does nothing: refused
--- http_config
    oic_auth_redis_key_file $TEST_NGINX_FLEET_KEY;
--- config
    location = /t { return 204; }
--- must_die
--- error_log
"oic_auth_redis_key_file" has no effect without "oic_auth_redis"



=== TEST 4: a zone's third parameter can only be "fleet"
--- http_config
    oic_auth_cache_zone tokens:1m shared;
--- config
    location = /t { return 204; }
--- must_die
--- error_log
invalid parameter "shared", it must be "fleet"



=== TEST 5: a bad port
--- http_config
    oic_auth_redis 127.0.0.1:99999;
    oic_auth_redis_key_file $TEST_NGINX_FLEET_KEY;
--- config
    location = /t { return 204; }
--- must_die
--- error_log
invalid Redis address "127.0.0.1:99999": invalid port



=== TEST 6: a path after the address
--- http_config
    oic_auth_redis 127.0.0.1:6379/0;
    oic_auth_redis_key_file $TEST_NGINX_FLEET_KEY;
--- config
    location = /t { return 204; }
--- must_die
--- error_log
invalid Redis address "127.0.0.1:6379/0": invalid host



=== TEST 7: no host
--- http_config
    oic_auth_redis :6379;
    oic_auth_redis_key_file $TEST_NGINX_FLEET_KEY;
--- config
    location = /t { return 204; }
--- must_die
--- error_log
invalid Redis address ":6379": no host



=== TEST 8: a password file that is not there
--- http_config
    oic_auth_redis 127.0.0.1:6379 password_file=$TEST_NGINX_FLEET_TMP/none.password;
    oic_auth_redis_key_file $TEST_NGINX_FLEET_KEY;
--- config
    location = /t { return 204; }
--- must_die
--- error_log eval
qr{"oic_auth_redis" password_file: secret file "[^"]+/none\.password": No such file or directory}



=== TEST 9: an empty password file
--- http_config
    oic_auth_redis 127.0.0.1:6379 password_file=$TEST_NGINX_FLEET_PASSWORD_EMPTY;
    oic_auth_redis_key_file $TEST_NGINX_FLEET_KEY;
--- config
    location = /t { return 204; }
--- must_die
--- error_log eval
qr{"oic_auth_redis" password_file: secret file "[^"]+/empty\.password": empty}



=== TEST 10: a key file that is not there
--- http_config
    oic_auth_redis 127.0.0.1:6379;
    oic_auth_redis_key_file $TEST_NGINX_FLEET_TMP/none.key;
--- config
    location = /t { return 204; }
--- must_die
--- error_log eval
qr{"oic_auth_redis_key_file": key file "[^"]+/none\.key": No such file or directory}



=== TEST 11: a key file everyone may read
--- http_config
    oic_auth_redis 127.0.0.1:6379;
    oic_auth_redis_key_file $TEST_NGINX_FLEET_KEY_OPEN;
--- config
    location = /t { return 204; }
--- must_die
--- error_log eval
qr{"oic_auth_redis_key_file": key file "[^"]+/open\.key": others may read or write it \(mode 644\): anyone on this host could open what the fleet stores in Redis; chmod o-rwx it}



=== TEST 12: a key file with 31 bytes of hex
--- http_config
    oic_auth_redis 127.0.0.1:6379;
    oic_auth_redis_key_file $TEST_NGINX_FLEET_KEY_SHORT;
--- config
    location = /t { return 204; }
--- must_die
--- error_log eval
qr{key file "[^"]+/short\.key": it must hold 32 random bytes: raw \(32 bytes\), 64 hex digits or base64 \(openssl rand -hex 32 > FILE\)}
--- no_error_log
9f1c2a7be04d



=== TEST 13: a key file of zeros
--- http_config
    oic_auth_redis 127.0.0.1:6379;
    oic_auth_redis_key_file $TEST_NGINX_FLEET_KEY_ZERO;
--- config
    location = /t { return 204; }
--- must_die
--- error_log eval
qr{key file "[^"]+/zero\.key": 32 equal bytes are not a key}



=== TEST 14: db is a number
--- http_config
    oic_auth_redis 127.0.0.1:6379 db=one;
    oic_auth_redis_key_file $TEST_NGINX_FLEET_KEY;
--- config
    location = /t { return 204; }
--- must_die
--- error_log
invalid value "db=one"



=== TEST 15: db is not negative
--- http_config
    oic_auth_redis 127.0.0.1:6379 db=-1;
    oic_auth_redis_key_file $TEST_NGINX_FLEET_KEY;
--- config
    location = /t { return 204; }
--- must_die
--- error_log
invalid value "db=-1"



=== TEST 16: db given twice
--- http_config
    oic_auth_redis 127.0.0.1:6379 db=1 db=2;
    oic_auth_redis_key_file $TEST_NGINX_FLEET_KEY;
--- config
    location = /t { return 204; }
--- must_die
--- error_log
invalid value "db=2"



=== TEST 17: a timeout of 0
--- http_config
    oic_auth_redis 127.0.0.1:6379 timeout=0;
    oic_auth_redis_key_file $TEST_NGINX_FLEET_KEY;
--- config
    location = /t { return 204; }
--- must_die
--- error_log
invalid value "timeout=0", the timeout must be between 1ms and 10s



=== TEST 18: a timeout longer than 10 s: Redis must not hold requests
--- http_config
    oic_auth_redis 127.0.0.1:6379 timeout=30s;
    oic_auth_redis_key_file $TEST_NGINX_FLEET_KEY;
--- config
    location = /t { return 204; }
--- must_die
--- error_log
invalid value "timeout=30s", the timeout must be between 1ms and 10s



=== TEST 19: a timeout that is not a time
--- http_config
    oic_auth_redis 127.0.0.1:6379 timeout=soon;
    oic_auth_redis_key_file $TEST_NGINX_FLEET_KEY;
--- config
    location = /t { return 204; }
--- must_die
--- error_log
invalid value "timeout=soon", the timeout must be between 1ms and 10s



=== TEST 20: an unknown parameter
--- http_config
    oic_auth_redis 127.0.0.1:6379 tls=on;
    oic_auth_redis_key_file $TEST_NGINX_FLEET_KEY;
--- config
    location = /t { return 204; }
--- must_die
--- error_log
invalid parameter "tls=on", it must be one of password_file=, db=, prefix=, timeout=



=== TEST 21: a prefix with a control character or a space
--- http_config
    oic_auth_redis 127.0.0.1:6379 "prefix=oic auth:";
    oic_auth_redis_key_file $TEST_NGINX_FLEET_KEY;
--- config
    location = /t { return 204; }
--- must_die
--- error_log
invalid value "prefix=oic auth:"



=== TEST 22: an empty prefix
--- http_config
    oic_auth_redis 127.0.0.1:6379 prefix=;
    oic_auth_redis_key_file $TEST_NGINX_FLEET_KEY;
--- config
    location = /t { return 204; }
--- must_die
--- error_log
invalid value "prefix="



=== TEST 23: oic_auth_redis twice
--- http_config
    oic_auth_redis 127.0.0.1:6379;
    oic_auth_redis 127.0.0.1:6380;
    oic_auth_redis_key_file $TEST_NGINX_FLEET_KEY;
--- config
    location = /t { return 204; }
--- must_die
--- error_log
"oic_auth_redis" directive is duplicate



=== TEST 24: oic_auth_redis only at http level
--- config
    location = /t {
        oic_auth_redis 127.0.0.1:6379;
        return 204;
    }
--- must_die
--- error_log
"oic_auth_redis" directive is not allowed here



=== TEST 25: a full fleet configuration starts and serves with no Redis there: Redis is never needed to serve
--- http_config
    oic_auth_cache_zone tokens:1m fleet;
    oic_auth_cache_zone local:1m;
    oic_auth_redis 127.0.0.1:$TEST_NGINX_FLEET_DEAD_PORT password_file=$TEST_NGINX_FLEET_PASSWORD db=2 prefix=gw: timeout=150ms;
    oic_auth_redis_key_file $TEST_NGINX_FLEET_KEY;
--- config
    location = /t { return 200 "served\n"; }
--- request
GET /t
--- response_body
served
--- error_log eval
[qr/oic_auth: redis 127\.0\.0\.1:\d+: connect\(\) failed; Redis is not used for 1000 ms \(111: Connection refused\)/]
--- no_error_log
s3cr3t-Pw
[alert]
[crit]



=== TEST 26: the key file as raw bytes (group-readable is fine), IPv6 and unix socket addresses, base64
--- http_config
    oic_auth_cache_zone tokens:1m fleet;
    oic_auth_redis [::1]:$TEST_NGINX_FLEET_DEAD_PORT;
    oic_auth_redis_key_file $TEST_NGINX_FLEET_KEY_RAW;
--- config
    location = /t { return 204; }
--- request
GET /t
--- error_code: 204
--- error_log eval
qr/oic_auth: redis \[::1\]:\d+: connect\(\) failed; Redis is not used for 1000 ms/
--- no_error_log
[alert]



=== TEST 27: a unix socket address, and a base64 key file
--- http_config
    oic_auth_cache_zone tokens:1m fleet;
    oic_auth_redis unix:$TEST_NGINX_FLEET_TMP/none.sock;
    oic_auth_redis_key_file $TEST_NGINX_FLEET_KEY_B64;
--- config
    location = /t { return 204; }
--- request
GET /t
--- error_code: 204
--- error_log eval
qr{oic_auth: redis unix:[^ ]+/none\.sock: connect\(\) to unix:[^ ]+/none\.sock failed; Redis is not used for 1000 ms \(2: No such file or directory\)}
--- no_error_log
[alert]
