package OicRedis;

# A real Redis for the fleet tests: Debian's redis-server on 127.0.0.1 (and
# ::1 when the host has it), an ephemeral port, a temporary directory, no
# persistence. Also fake servers that answer the way a broken or hostile
# "Redis" would.
#
#   use FindBin; use lib "$FindBin::Bin/inc";
#   use Test::Nginx::Socket 'no_plan';
#   use OicTest;
#   use OicRedis password => 's3cr3t';     # starts the default server
#
# At import (unless start => 0): starts the default server and exports
#   TEST_NGINX_REDIS_PORT      its TCP port (127.0.0.1)
#   TEST_NGINX_REDIS_SOCKET    its unix socket
#   TEST_NGINX_REDIS_PASSWORD_FILE   a file with the password (if any)
#   TEST_NGINX_REDIS_KEY_FILE  a fleet key file (64 hex digits, mode 0600)
#   TEST_NGINX_REDIS_KEY_FILE2 another one
#
# Functions (the default server unless called as methods on another one):
#   OicRedis::stop()     SIGTERM, wait       OicRedis::kill9()   SIGKILL
#   OicRedis::restart()  same port, password and socket
#   OicRedis::cli(@args) redis-cli's output (--raw), as a list of lines
#   OicRedis::all_keys() every key, as "db:key" (SCAN)
#   OicRedis::contents() { "db:key" => [type, raw value] } of every key
#   OicRedis::clear_text(@needles)   the keys whose name or value holds
#                        one of the needles (empty: none)
#   OicRedis::clients()  CLIENT LIST as a list of { field => value }
#   OicRedis::wait_for(sub { ... }, $seconds)   true once the sub is
#   OicRedis::key_id($file)   the key id a gateway logs for a key file
#   OicRedis::ids_name($prefix)   the name of the key check's set
#   OicRedis::fake($mode)  a fake server's port (see _fake_reply)
#
# Every server started here is stopped at exit, also when a test dies
# (never from a forked child). Core Perl only (Digest::SHA).

use strict;
use warnings;

use Digest::SHA qw(hmac_sha256 sha256_hex);
use File::Temp ();
use IO::Select;
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Time::HiRes qw(time sleep);

our ($Default, @All, $Owner);
our $KeyHex  = '9f1c2a7be04d6581c3a95e27d0b4f68a1e7c32d59ab04e6f8d21c7b5a3e90f64';
our $KeyHex2 = '0b7e41c9d2a6f3805e19c7a4b28d6f03a9c5e17b40d2f86a3c91e5b7d04a2f68';

sub import {
    my ($class, %opts) = @_;
    $Owner = $$ unless defined $Owner;
    return if exists $opts{start} && !$opts{start};
    return if $Default;
    $Default = $class->start(%opts);
    $ENV{TEST_NGINX_REDIS_PORT} = $Default->{port};
    $ENV{TEST_NGINX_REDIS_SOCKET} = $Default->{socket};
    $ENV{TEST_NGINX_REDIS_PASSWORD_FILE} = $Default->{password_file} if $Default->{password_file};
    $ENV{TEST_NGINX_REDIS_KEY_FILE} = $Default->write_file('fleet.key', "$KeyHex\n", 0600);
    $ENV{TEST_NGINX_REDIS_KEY_FILE2} = $Default->write_file('fleet2.key', "$KeyHex2\n", 0600);
}

sub _find {
    my $name = shift;
    for my $d ('/usr/bin', '/usr/sbin', split /:/, $ENV{PATH} || '') {
        return "$d/$name" if -x "$d/$name";
    }
    die "OicRedis: $name is not installed: apt-get install redis-server (make deps)\n";
}

sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp', Listen => 1)
        or die "OicRedis: no free port: $!\n";
    my $p = $s->sockport;
    close $s;
    return $p;
}

# OicRedis->start(password => 'x', port => N)
sub start {
    my ($class, %opts) = @_;
    my $self = bless {
        dir      => File::Temp::tempdir('oic-redis-XXXXXX', TMPDIR => 1, CLEANUP => 1),
        password => $opts{password},
        port     => $opts{port} || free_port(),
    }, ref $class || $class;
    $self->{socket} = "$self->{dir}/redis.sock";
    $self->{password_file} = $self->write_file('redis.password', "$opts{password}\n", 0600)
        if defined $opts{password};
    push @All, $self;
    $self->_spawn;
    return $self;
}

sub write_file {
    my ($self, $name, $content, $mode) = @_;
    my $path = "$self->{dir}/$name";
    open my $fh, '>', $path or die "OicRedis: $path: $!\n";
    print $fh $content;
    close $fh;
    chmod $mode, $path if defined $mode;
    return $path;
}

sub _spawn {
    my $self = shift;
    my @cmd = (_find('redis-server'), '--port', $self->{port}, '--bind', '127.0.0.1', '-::1',
               '--unixsocket', $self->{socket}, '--unixsocketperm', '700',
               '--save', '', '--appendonly', 'no', '--dir', $self->{dir},
               '--logfile', "$self->{dir}/redis.log", '--daemonize', 'no',
               '--databases', '16');
    push @cmd, '--requirepass', $self->{password} if defined $self->{password};
    my $pid = fork;
    die "OicRedis: fork: $!\n" unless defined $pid;
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', '/dev/null';
        exec @cmd or POSIX::_exit(127);
    }
    $self->{pid} = $pid;
    $self->wait_for(sub { my @r = eval { $self->cli('PING') }; @r && $r[0] eq 'PONG' }, 10)
        or die "OicRedis: redis-server did not answer on 127.0.0.1:$self->{port} within 10 s ("
               . _tail("$self->{dir}/redis.log") . ")\n";
}

sub _tail {
    my $f = shift;
    open my $fh, '<', $f or return 'no log';
    my @l = <$fh>;
    splice @l, 0, @l - 3 if @l > 3;
    chomp @l;
    return @l ? join(' / ', @l) : 'empty log';
}

sub _self { return ref $_[0] ? shift : $Default // die "OicRedis: no server started\n"; }

sub _reap {
    my ($self, $sig) = @_;
    my $pid = $self->{pid} or return;
    kill $sig, $pid;
    my $deadline = time + 5;
    while (time < $deadline) {
        my $r = waitpid($pid, WNOHANG);
        last if $r == $pid || $r == -1;
        sleep 0.02;
    }
    if (kill 0, $pid) { kill 'KILL', $pid; waitpid($pid, 0); }
    delete $self->{pid};
}

sub stop    { my $self = _self(@_); $self->_reap('TERM'); return 1; }
sub kill9   { my $self = _self(@_); $self->_reap('KILL'); return 1; }
sub restart { my $self = _self(@_); $self->_reap('TERM'); $self->_spawn; return 1; }
sub port    { return _self(@_)->{port}; }
sub running { my $self = _self(@_); return $self->{pid} && kill 0, $self->{pid}; }

# redis-cli --raw ARGS: its output's bytes (stderr dropped; dies when it fails)
sub cli_raw {
    my $self = _self(@_);
    shift if ref $_[0];
    my @cmd = (_find('redis-cli'), '-h', '127.0.0.1', '-p', $self->{port}, '--raw');
    push @cmd, '--no-auth-warning', '-a', $self->{password} if defined $self->{password};
    my $pid = open(my $fh, '-|');
    die "OicRedis: fork: $!\n" unless defined $pid;
    if ($pid == 0) {
        open STDERR, '>', '/dev/null';
        exec @cmd, @_ or POSIX::_exit(127);
    }
    binmode $fh;
    local $/;
    my $out = <$fh>;
    close $fh;
    die "OicRedis: redis-cli @_ failed (exit $?)\n" if $?;
    return defined $out ? $out : '';
}

# The same, as a list of lines.
sub cli {
    my $self = _self(@_);
    shift if ref $_[0];
    return split /\n/, $self->cli_raw(@_);
}

sub all_keys {
    my $self = _self(@_);
    my @k;
    for my $db (0 .. 15) {
        push @k, map { "$db:$_" } $self->cli('-n', $db, '--scan');
    }
    return @k;
}

# { "db:key" => [type, raw value] } for every key of every db
sub contents {
    my $self = _self(@_);
    my %d;
    for my $dbkey ($self->all_keys) {
        my ($db, $k) = split /:/, $dbkey, 2;
        my ($type) = $self->cli('-n', $db, 'TYPE', $k);
        my $v = $type eq 'string' ? $self->cli_raw('-n', $db, 'GET', $k)
              : $type eq 'zset'   ? $self->cli_raw('-n', $db, 'ZRANGE', $k, 0, -1, 'WITHSCORES')
              : $type eq 'hash'   ? $self->cli_raw('-n', $db, 'HGETALL', $k)
              : $type eq 'list'   ? $self->cli_raw('-n', $db, 'LRANGE', $k, 0, -1)
              : $type eq 'set'    ? $self->cli_raw('-n', $db, 'SMEMBERS', $k)
              : '';
        $d{$dbkey} = [$type, $v];
    }
    return \%d;
}

# The keys (as "db:key") whose name or value holds one of the needles.
sub clear_text {
    my $self = _self(@_);
    shift if ref $_[0];
    my @needles = grep { defined && length } @_;
    my $d = $self->contents;
    my @bad;
    for my $k (sort keys %$d) {
        for my $n (@needles) {
            if (index($k, $n) >= 0 || index($d->{$k}[1], $n) >= 0) { push @bad, $k; last; }
        }
    }
    return @bad;
}

sub clients {
    my $self = _self(@_);
    my @c;
    for my $line ($self->cli('CLIENT', 'LIST')) {
        my %f = map { my ($k, $v) = split /=/, $_, 2; ($k => $v // '') } split / /, $line;
        push @c, \%f;
    }
    return @c;
}

# Only the module's connections (named oic_auth:...).
sub oic_clients { return grep { ($_->{name} // '') =~ /^oic_auth:/ } clients(@_); }

sub wait_for {
    shift if ref $_[0] && ref $_[0] ne 'CODE';
    my ($cond, $seconds) = @_;
    my $deadline = time + ($seconds || 10);
    while (1) {
        my $ok = eval { $cond->() };
        return 1 if $ok;
        return 0 if time > $deadline;
        sleep 0.05;
    }
}

# ---- what a gateway computes (include/oic_fleet.h), independently ----

sub _li { my $s = ''; $s .= pack('Q>', length $_) . $_ for @_; return $s; }

sub _key_bytes {
    my $file = shift;
    open my $fh, '<', $file or die "OicRedis: $file: $!\n";
    local $/;
    my $c = <$fh>;
    $c =~ s/\s+\z//;
    die "OicRedis: $file: the helper reads hex key files only\n" unless $c =~ /^[0-9a-fA-F]{64}\z/;
    return pack('H*', $c);
}

sub key_id {
    my $file = shift;
    return unpack('H16', hmac_sha256(_li('oic_auth fleet key id'), _key_bytes($file)));
}

sub ids_name {
    my $prefix = shift // 'oic_auth:';
    return $prefix . sha256_hex(_li('oic_auth fleet key ids'));
}

# ---- fake servers ----

# Answers to what a connection sent, by mode (undef: stay silent):
#   double     the right answers, then one more nobody asked for
#   wrongtype  an integer for every command
#   garbage    an HTTP answer
#   hugearray  an array header of 100000 elements
#   hugebulk   a 10 MB bulk string, 2 MB of it sent
#   silent     nothing, ever
#   close      closes at once
sub _fake_reply {
    my ($mode, $in) = @_;
    my @cmds = $in =~ /(?:^|\n)\*\d+\r\n\$\d+\r\n([A-Za-z]+)\r\n/g;
    return '' unless @cmds;
    if ($mode eq 'double') {
        return join('', map { uc $_ eq 'PING' ? "+PONG\r\n" : "+OK\r\n" } @cmds) . "+OK\r\n";
    }
    return ":1\r\n" x @cmds if $mode eq 'wrongtype';
    return "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n" if $mode eq 'garbage';
    return "*100000\r\n" if $mode eq 'hugearray';
    return "\$10000000\r\n" . ('x' x (2 * 1024 * 1024)) if $mode eq 'hugebulk';
    return undef;
}

sub fake {
    my $mode = shift;
    my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp',
                                  Listen => 64, ReuseAddr => 1)
        or die "OicRedis: fake server: $!\n";
    my $port = $l->sockport;
    my $pid = fork;
    die "OicRedis: fork: $!\n" unless defined $pid;
    if ($pid) {
        close $l;
        push @All, bless { pid => $pid, port => $port, fake => $mode }, __PACKAGE__;
        return $port;
    }
    # the child: a select loop, until killed (or its parent is gone)
    my $parent = getppid;
    my $sel = IO::Select->new($l);
    my %buf;
    while (kill 0, $parent) {
        for my $s ($sel->can_read(0.5)) {
            if ($s == $l) {
                my $c = $l->accept or next;
                if ($mode eq 'close') { close $c; next; }
                $sel->add($c);
                next;
            }
            my $n = sysread($s, my $chunk, 65536);
            if (!$n) { $sel->remove($s); close $s; next; }
            $buf{fileno $s} .= $chunk;
            my $out = _fake_reply($mode, $buf{fileno $s});
            next unless defined $out && length $out;
            $buf{fileno $s} = '';
            local $SIG{PIPE} = 'IGNORE';
            syswrite($s, $out);
        }
    }
    POSIX::_exit(0);
}

sub _stop_all {
    return unless defined $Owner && $$ == $Owner;
    local ($?, $!);
    for my $s (@All) { $s->_reap('TERM') if $s->{pid}; }
}

END { _stop_all() }

for my $sig (qw(INT TERM HUP)) {
    my $prev = $SIG{$sig};
    $SIG{$sig} = sub {
        _stop_all();
        if (ref $prev eq 'CODE') { $prev->(@_); }
        $SIG{$sig} = 'DEFAULT';
        kill $sig, $$;
    };
}

1;
