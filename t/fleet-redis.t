# Fleet mode's Redis client against Debian's real redis-server (t/inc/OicRedis.pm):
# each worker connects at start, authenticates (password_file=), selects its
# db, names itself (CLIENT SETNAME oic_auth:<host>:<pid>:<key id>); the
# first worker runs the key check; Redis killed: one failure line per worker,
# requests served, the circuit open; Redis back: the workers reconnect after
# their backoff and say so; a wrong password is a failure that never shows
# the password; gateways with another key file are named in a warning; unix
# socket and IPv6 addresses. The blocks run in order: 3 and 4 reuse the
# nginx of block 2 (no --- config).
#
#   TEST_NGINX_BINARY=/usr/sbin/nginx TEST_NGINX_MODULE=$PWD/build/ngx_http_oic_auth_module.so \
#   TEST_NGINX_PORT=22000 prove -I t/lib t/fleet-redis.t

use FindBin; use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use OicTest;
use OicRedis password => 'Redis-Pw-7c1e';
use IO::Socket::IP ();

master_on();
workers(2);
no_shuffle();

our $KEY_ID  = OicRedis::key_id($ENV{TEST_NGINX_REDIS_KEY_FILE});
our $KEY_ID2 = OicRedis::key_id($ENV{TEST_NGINX_REDIS_KEY_FILE2});

$ENV{TEST_NGINX_WRONG_PASSWORD_FILE} = $OicRedis::Default->write_file('wrong.password', "Wrong-Pw-99\n", 0600);

# block 1: gateways with another key file already use the prefix "other:"
OicRedis::cli('-n', 3, 'ZADD', OicRedis::ids_name('other:'), time + 3600, $KEY_ID2);
OicRedis::cli('-n', 3, 'ZADD', OicRedis::ids_name('other:'), time + 3600, 'ffffffff00000000');

our $OTHER_IDS = join ', ', sort($KEY_ID2, 'ffffffff00000000');

$ENV{TEST_NGINX_REDIS_IPV6} = IO::Socket::IP->new(PeerHost => '::1', PeerPort => $ENV{TEST_NGINX_REDIS_PORT})
                              ? 1 : 0;

# the pids of nginx's workers
sub workers_pids {
    open my $fh, '<', $Test::Nginx::Util::PidFile or return ();
    my $master = <$fh>;
    chomp $master;
    opendir my $d, '/proc' or return ();
    my @pids;
    for my $p (grep { /^\d+$/ } readdir $d) {
        open my $st, '<', "/proc/$p/stat" or next;
        my @f = split / /, scalar <$st>;
        push @pids, $p if $f[3] == $master;
    }
    return sort { $a <=> $b } @pids;
}

# The module's connections: one per worker, with db and name as configured.
sub check_clients {
    my ($what, %want) = @_;
    my @c = sort { $a->{name} cmp $b->{name} } OicRedis::oic_clients();
    my @w = workers_pids();
    is(scalar @c, scalar @w, "$what: one connection per worker (" . scalar(@w) . ")");
    my %pid = map { $_ => 1 } @w;
    for my $c (@c) {
        my ($host, $pid, $id) = $c->{name} =~ /^oic_auth:([^:]+):(\d+):([0-9a-f]{16})$/;
        ok($pid && $pid{$pid}, "$what: $c->{name} is a worker's");
        is($id, $want{key_id}, "$what: $c->{name} has the key id of its key file");
        is($c->{db}, $want{db}, "$what: $c->{name} selected db $want{db}");
        like($c->{addr}, $want{addr}, "$what: $c->{name} connected to the configured address")
            if $want{addr};
    }
}

# Lines of this nginx's error.log matching $re (read here: error_log_data()
# would move the block's own position in the log).
sub log_count {
    my $re = shift;
    open my $fh, '<', $Test::Nginx::Util::ErrLogFile or return 0;
    return scalar grep { /$re/ } <$fh>;
}

# What the blocks' init sections check (in order: no_shuffle).
sub connected_at_start {
    OicRedis::wait_for(sub { OicRedis::oic_clients() == 2 }, 10);
    main::check_clients('at start', db => 3, key_id => $main::KEY_ID, addr => qr/^127\.0\.0\.1:\d+$/);
    OicRedis::wait_for(sub { OicRedis::cli('-n', 3, 'ZCARD', OicRedis::ids_name()) == 1 }, 10);
    is_deeply([OicRedis::cli('-n', 3, 'ZRANGE', OicRedis::ids_name(), 0, -1)], [$main::KEY_ID],
              'the key check set holds this gateway key id');
    my ($ttl) = OicRedis::cli('-n', 3, 'TTL', OicRedis::ids_name());
    ok($ttl > 0 && $ttl <= 360, "the set expires (TTL $ttl)");
    is_deeply([sort(OicRedis::all_keys())], [sort map { '3:' . OicRedis::ids_name($_) } 'oic_auth:', 'other:'],
              'nothing else in Redis than the key check sets');
    is_deeply([OicRedis::clear_text('Redis-Pw-7c1e', $OicRedis::KeyHex, pack('H*', $OicRedis::KeyHex))], [],
              'no password or key in Redis');
}

sub redis_killed {
    OicRedis::wait_for(sub { my @c = OicRedis::oic_clients(); @c == 2 && !grep { $_->{age} < 2 } @c }, 10);
    # a connection counts as having served a while 1 s after its handshake
    # ended (not after Redis accepted it, which is what "age" counts): under
    # ASan on a loaded machine the handshake alone can take a second
    OicRedis::wait_for(sub { main::log_count(qr/: connected, db 3/) >= 2 }, 10);
    select(undef, undef, undef, 1.5);
    OicRedis::kill9();
    ok(OicRedis::wait_for(sub { main::log_count(qr/Redis is not used for 1000 ms/) == 2 }, 10),
       'one failure line per worker');
}

sub redis_back {
    OicRedis::restart();
    ok(OicRedis::wait_for(sub { OicRedis::oic_clients() == 2 }, 40), 'both workers reconnected');
    main::check_clients('after the restart', db => 3, key_id => $main::KEY_ID);
    ok(OicRedis::wait_for(sub { main::log_count(qr/is usable again/) == 2 }, 10), 'one line per worker');
}

sub wrong_password {
    ok(OicRedis::wait_for(sub { main::log_count(qr/AUTH failed/) >= 2 }, 10), 'each worker fails to authenticate');
    is(scalar(OicRedis::oic_clients()), 0, 'no connection named itself');
}

sub other_key_ids {
    ok(OicRedis::wait_for(sub { OicRedis::cli('-n', 3, 'ZSCORE', OicRedis::ids_name('other:'), $main::KEY_ID) }, 10),
       'this gateway wrote its key id');
}

sub over_unix_socket {
    OicRedis::wait_for(sub { OicRedis::oic_clients() == 2 }, 10);
    main::check_clients('over the unix socket', db => 5, key_id => $main::KEY_ID2, addr => qr{redis\.sock});
}

sub over_ipv6 {
    OicRedis::wait_for(sub { OicRedis::oic_clients() == 2 }, 10);
    main::check_clients('over IPv6', db => 0, key_id => $main::KEY_ID, addr => qr/^\[?::1\]?:\d+$/);
}

run_tests();

__DATA__

=== TEST 1: gateways with another key file use this Redis and prefix: the first worker warns, naming their key ids and its own
--- http_config
    oic_auth_cache_zone tokens:1m fleet;
    oic_auth_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT password_file=$TEST_NGINX_REDIS_PASSWORD_FILE db=3 prefix=other: timeout=2s;
    oic_auth_redis_key_file $TEST_NGINX_REDIS_KEY_FILE;
--- config
    location = /t { return 204; }
--- init
main::other_key_ids();
--- request
GET /t
--- error_code: 204
--- error_log eval
[qr/oic_auth: redis 127\.0\.0\.1:\d+ is used by gateways with another "oic_auth_redis_key_file" \(key ids \Q$main::OTHER_IDS\E; this one has $main::KEY_ID\): they share nothing with this gateway/]
--- no_error_log
[alert]
[error]



=== TEST 2: each worker connects, authenticates, selects db 3 and names itself; the first worker writes its key id; nothing else is in Redis
--- http_config
    oic_auth_cache_zone tokens:1m fleet;
    oic_auth_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT password_file=$TEST_NGINX_REDIS_PASSWORD_FILE db=3 timeout=2s;
    oic_auth_redis_key_file $TEST_NGINX_REDIS_KEY_FILE;
--- config
    location = /t { return 204; }
--- init
main::connected_at_start();
--- request
GET /t
--- error_code: 204
--- error_log eval
[qr/oic_auth: redis 127\.0\.0\.1:\d+: connected, db 3/,
 qr/oic_auth: redis 127\.0\.0\.1:\d+: fleet key id $main::KEY_ID/]
--- no_error_log
[error]
[warn]
[alert]
Redis-Pw-7c1e



=== TEST 3: Redis killed: each worker logs one failure, stops using Redis for 1 s, requests are served
--- init
main::redis_killed();
--- request
GET /t
--- error_code: 204
--- error_log eval
[qr/oic_auth: redis 127\.0\.0\.1:\d+ closed the connection, reconnecting/,
 qr/oic_auth: redis 127\.0\.0\.1:\d+: connect\(\) failed; Redis is not used for 1000 ms \(111: Connection refused\)/]
--- no_error_log
[alert]
[crit]



=== TEST 4: Redis back: the workers reconnect after their backoff, with AUTH, SELECT and their names, and say so once
--- init
main::redis_back();
--- request
GET /t
--- error_code: 204
--- error_log eval
qr/oic_auth: redis 127\.0\.0\.1:\d+ is usable again, after \d+ s/
--- no_error_log
[alert]
[crit]



=== TEST 5: a wrong password: AUTH fails, nothing is sent after it, the password is not logged
--- http_config
    oic_auth_cache_zone tokens:1m fleet;
    oic_auth_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT password_file=$TEST_NGINX_WRONG_PASSWORD_FILE db=3 timeout=2s;
    oic_auth_redis_key_file $TEST_NGINX_REDIS_KEY_FILE;
--- config
    location = /t { return 204; }
--- init
main::wrong_password();
--- request
GET /t
--- error_code: 204
--- error_log eval
qr/oic_auth: redis 127\.0\.0\.1:\d+: AUTH failed: WRONGPASS invalid username-password pair or user is disabled\.; Redis is not used for 1000 ms/
--- no_error_log
Wrong-Pw-99
connected, db
[alert]



=== TEST 6: a unix socket address
--- http_config
    oic_auth_cache_zone tokens:1m fleet;
    oic_auth_redis unix:$TEST_NGINX_REDIS_SOCKET password_file=$TEST_NGINX_REDIS_PASSWORD_FILE db=5;
    oic_auth_redis_key_file $TEST_NGINX_REDIS_KEY_FILE2;
--- config
    location = /t { return 204; }
--- init
main::over_unix_socket();
--- request
GET /t
--- error_code: 204
--- error_log eval
qr/oic_auth: redis unix:\S+redis\.sock: connected, db 5/
--- no_error_log
[error]
[alert]



=== TEST 7: an IPv6 address
--- skip_eval: 4: !$ENV{TEST_NGINX_REDIS_IPV6}
--- http_config
    oic_auth_cache_zone tokens:1m fleet;
    oic_auth_redis [::1]:$TEST_NGINX_REDIS_PORT password_file=$TEST_NGINX_REDIS_PASSWORD_FILE;
    oic_auth_redis_key_file $TEST_NGINX_REDIS_KEY_FILE;
--- config
    location = /t { return 204; }
--- init
main::over_ipv6();
--- request
GET /t
--- error_code: 204
--- error_log eval
qr/oic_auth: redis \[::1\]:\d+: connected, db 0/
--- no_error_log
[error]
[alert]
