package Test::Nginx::Util;

# Engine of the small Test::Nginx::Socket-compatible runner that lives under
# t/lib (see t/lib/Test/Nginx/Socket.pm for the supported subset).
#
# Written from scratch for this project; the behaviour (nginx.conf template,
# test names, number of assertions per check, environment variables) follows
# OpenResty's Test::Nginx::Util / Test::Nginx::Socket (v0.29) so that the
# data-driven t/*.t files behave the same under both.

use strict;
use warnings;

use Exporter ();
our @ISA = ('Exporter');

use POSIX qw(SIGQUIT SIGKILL SIGTERM WNOHANG);
use Time::HiRes qw(sleep time);
use File::Spec ();
use File::Path qw(make_path remove_tree);
use IO::Socket::INET ();
use IO::Select ();
use Errno qw(EAGAIN EWOULDBLOCK EINTR);
use List::Util qw(shuffle min);
use Scalar::Util qw(looks_like_number);
use HTTP::Response ();
use Test::More ();
use Test::LongString ();
use Carp qw(croak);

our $VERSION = '0.29_oic1';

# ---------------------------------------------------------------------------
# global settings (same names / defaults / env variables as the real one)

our $Verbose              = $ENV{TEST_NGINX_VERBOSE};
our $RepeatEach           = 1;
our $NoShuffle            = $ENV{TEST_NGINX_NO_SHUFFLE} || 0;
our $Timeout              = $ENV{TEST_NGINX_TIMEOUT} || 3;
our $ServerAddr           = '127.0.0.1';
our $ServerName           = 'localhost';
our $NginxBinary          = $ENV{TEST_NGINX_BINARY} || default_nginx_binary();
our $Workers              = 1;
our $WorkerConnections    = 64;
our $LogLevel             = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';
our $MasterProcessEnabled = $ENV{TEST_NGINX_MASTER_PROCESS} || 'off';
our $DaemonEnabled        = 'on';
our $ServerPort           = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT} || 1984;
our $ServerPortForClient  = $ENV{TEST_NGINX_CLIENT_PORT} || $ServerPort || 1984;
our $NoRootLocation       = 0;
our $TestNginxSleep       = $ENV{TEST_NGINX_SLEEP} || 0.015;
our $ForceRestartOnTest   = defined $ENV{TEST_NGINX_FORCE_RESTART_ON_TEST}
                            ? $ENV{TEST_NGINX_FORCE_RESTART_ON_TEST} : 1;
our $LoadModules          = $ENV{TEST_NGINX_LOAD_MODULES};
our $PostponeOutput       = $ENV{TEST_NGINX_POSTPONE_OUTPUT};
our $EventType            = $ENV{TEST_NGINX_EVENT_TYPE};
our $ReusePort            = $ENV{TEST_NGINX_REUSE_PORT};
our $CheckAccumErrLog     = $ENV{TEST_NGINX_CHECK_ACCUM_ERR_LOG};
our $Randomize            = $ENV{TEST_NGINX_RANDOMIZE};
our $WorkerUser           = $ENV{TEST_NGINX_WORKER_USER};
# extra (not in the real one): how long error_log checks keep re-reading the
# log when an expected pattern is still missing (lines of the request may be
# written a few ms after the response was received).
our $ErrLogWait           = defined $ENV{TEST_NGINX_ERROR_LOG_WAIT}
                            ? $ENV{TEST_NGINX_ERROR_LOG_WAIT} : 1;
# valgrind, as the real one: TEST_NGINX_USE_VALGRIND=1 means memcheck with
# its default options, any other value is the valgrind options themselves.
our $UseValgrind          = $ENV{TEST_NGINX_USE_VALGRIND};
our $ValgrindExitOnFirstErr = $ENV{TEST_NGINX_VALGRIND_EXIT_ON_FIRST_ERR};
our $ValgrindStartTimeout = 60;    # seconds for nginx to start / to quit

our $NoLongString;
our $ConfigPreamble = '';
our @EnvToNginx;
our @BlockPreprocessors;
our @CleanupHandlers;
our @ResponseBodyChecks;
our $NginxVersion;
our $NginxRawVersion;
our $PrevConfig;
our $PrevBlock;
our $ErrLogFilePos = 0;
our $FirstTime = 1;
our $InSubprocess;
our $QuietTruncation;

if (defined $WorkerUser && $WorkerUser !~ /^\w+(?:\s+\w+)?$/) {
    die "Bad value in the env TEST_NGINX_WORKER_USER: $WorkerUser\n";
}

for my $unsupported (qw(TEST_NGINX_USE_HUP
                        TEST_NGINX_USE_STAP TEST_NGINX_CHECK_LEAK
                        TEST_NGINX_BENCHMARK TEST_NGINX_USE_HTTP2
                        TEST_NGINX_USE_HTTP3 TEST_NGINX_USE_RR
                        TEST_NGINX_NO_NGINX_MANAGER))
{
    if ($ENV{$unsupported}) {
        warn "WARNING: $unsupported is not supported by the t/lib "
             . "Test::Nginx runner and is ignored\n";
    }
}

srand $$;

# under valgrind nginx runs in the foreground (master as the test says)
$DaemonEnabled = 'off' if $UseValgrind;

if ($Randomize) {
    $ServerPort = gen_rand_port(1000)
        or die "Cannot find an available listening port number.\n";
    $ServerPortForClient = $ServerPort;
}

our $ServRoot = $Randomize
    ? File::Spec->rel2abs("t/servroot_$ServerPort")
    : ($ENV{TEST_NGINX_SERVROOT} || File::Spec->rel2abs('t/servroot'));
$ServRoot =~ s{/+$}{};
$ENV{TEST_NGINX_SERVER_ROOT} = $ServRoot;

our $LogDir     = File::Spec->catfile($ServRoot, 'logs');
our $ErrLogFile = File::Spec->catfile($LogDir, 'error.log');
our $AccLogFile = File::Spec->catfile($LogDir, 'access.log');
our $HtmlDir    = File::Spec->catfile($ServRoot, 'html');
our $ConfDir    = File::Spec->catfile($ServRoot, 'conf');
our $ConfFile   = File::Spec->catfile($ConfDir, 'nginx.conf');
our $PidFile    = File::Spec->catfile($LogDir, 'nginx.pid');
# nginx's stderr of the last start command (not a file of the real one)
our $StderrFile = File::Spec->catfile($LogDir, 'nginx.stderr');

our @EXPORT = qw(
    env_to_nginx is_str no_long_string $NoLongString
    $ServerAddr server_addr $ServerName server_name
    $ServerPort $ServerPortForClient server_port server_port_for_client
    parse_time verbose sleep_time bail_out add_cleanup_handler
    access_log_data error_log_data setup_server_root write_config_file
    get_canon_version get_nginx_version trim show_all_chars parse_headers
    run_tests run_test get_pid_from_pidfile
    $NginxVersion $PidFile $ServRoot $ConfFile $RepeatEach
    add_block_preprocessor add_response_body_check timeout
    worker_connections workers master_on master_off config_preamble
    repeat_each master_process_enabled log_level no_shuffle
    no_root_location html_dir server_root check_accum_error_log
    no_nginx_manager use_hup is_running
);

# ---------------------------------------------------------------------------
# small helpers / setters (exported)

sub default_nginx_binary {
    for my $dir (split /:/, $ENV{PATH} || '') {
        next if $dir eq '';
        my $p = "$dir/nginx";
        return $p if -f $p && -x _;
    }
    return '/usr/sbin/nginx';
}

sub no_long_string ()      { $NoLongString = 1 }
sub no_shuffle ()          { $NoShuffle = 1 }
sub no_root_location ()    { $NoRootLocation = 1 }
sub check_accum_error_log () { $CheckAccumErrLog = 1 }
sub master_on ()           { $MasterProcessEnabled = 'on' }
sub master_off ()          { $MasterProcessEnabled = 'off' }
sub config_preamble ($)    { $ConfigPreamble = shift }
sub sleep_time             { $TestNginxSleep }
sub verbose                { $Verbose }
sub html_dir ()            { $HtmlDir }
sub server_root ()         { $ServRoot }

sub no_nginx_manager () {
    croak "no_nginx_manager() is not supported by the t/lib Test::Nginx runner";
}

sub use_hup () {
    croak "use_hup() is not supported by the t/lib Test::Nginx runner";
}

sub _getset {
    my ($ref, @args) = @_;
    if (@args) { $$ref = $args[0]; return; }
    return $$ref;
}

sub server_addr (@)            { _getset(\$ServerAddr, @_) }
sub server_name (@)            { _getset(\$ServerName, @_) }
sub timeout (@)                { _getset(\$Timeout, @_) }
sub worker_connections (@)     { _getset(\$WorkerConnections, @_) }
sub workers (@)                { _getset(\$Workers, @_) }
sub log_level (@)              { _getset(\$LogLevel, @_) }
sub server_port_for_client (@) { _getset(\$ServerPortForClient, @_) }

sub server_port (@) {
    if (@_) {
        $ServerPort = shift;
        return;
    }
    return $ServerPort;
}

sub repeat_each (@) {
    if (@_) {
        $RepeatEach = shift;
    }
    return $RepeatEach;
}

sub master_process_enabled (@) {
    if (@_) {
        $MasterProcessEnabled = shift() ? 'on' : 'off';
        return;
    }
    return $MasterProcessEnabled;
}

sub env_to_nginx (@) {
    croak "env_to_nginx: no arguments specified" if !@_;
    for my $v (@_) {
        if ($v !~ /^[A-Za-z_]/ || $v =~ /\n/) {
            croak "env_to_nginx: bad argument value: $v\n";
        }
        push @EnvToNginx, $v;
    }
}

sub add_block_preprocessor (&) {
    unshift @BlockPreprocessors, shift;
}

sub add_cleanup_handler ($) {
    unshift @CleanupHandlers, shift;
}

sub add_response_body_check ($) {
    push @ResponseBodyChecks, shift;
}

sub is_str (@) {
    my ($got, $expected, $desc) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    if (ref $expected && ref $expected eq 'Regexp') {
        return Test::More::like($got, $expected, $desc);
    }
    if ($NoLongString) {
        return Test::More::is($got, $expected, $desc);
    }
    return Test::LongString::is_string($got, $expected, $desc);
}

sub parse_time ($) {
    my $tm = shift;
    if (defined $tm) {
        if ($tm =~ s/([^_a-zA-Z])ms$/$1/) {
            $tm = $tm / 1000;
        } else {
            $tm =~ s/([^_a-zA-Z])s$/$1/;
        }
    }
    return $tm;
}

sub trim ($) {
    my $s = shift;
    return undef if !defined $s;
    $s =~ s/^\s+|\s+$//g;
    $s =~ s/\n/ /gs;
    $s =~ s/\s{2,}/ /gs;
    return $s;
}

sub show_all_chars ($) {
    my $s = shift;
    $s =~ s/\n/\\n/gs;
    $s =~ s/\r/\\r/gs;
    $s =~ s/\t/\\t/gs;
    return $s;
}

sub fmt_str ($) {
    my $str = shift;
    chomp $str;
    $str =~ s/"/\\"/g;
    $str =~ s/\r/\\r/g;
    $str =~ s/\n/\\n/g;
    return $str;
}

# "Name: value" lines => { Name => value }; "!Name" => { Name => undef }
sub parse_headers ($) {
    my $s = shift;
    my %headers;
    for my $line (split /\n/, $s) {
        $line =~ s/^\s+|\s+$//g;
        next if $line eq '';
        if ($line =~ s/^!\s*//) {
            $headers{$line} = undef;
        } else {
            my ($key, $val) = split /\s*:\s*/, $line, 2;
            $headers{$key} = defined $val ? $val : '';
        }
    }
    return \%headers;
}

sub get_canon_version (@) {
    sprintf "%d.%03d%03d", $_[0], $_[1], $_[2];
}

sub get_nginx_version () {
    my $out = `$NginxBinary -V 2>&1`;
    if (!defined $out || $? != 0) {
        $out = '' if !defined $out;
        bail_out("Failed to get the version of the nginx binary "
                 . "\"$NginxBinary\" (set TEST_NGINX_BINARY): $out");
    }
    if ($out =~ m{(?:nginx|openresty)[^/]*/(\d+)\.(\d+)\.(\d+)}s
        || $out =~ m{\w+/(\d+)\.(\d+)\.(\d+)}s)
    {
        $NginxRawVersion = "$1.$2.$3";
        return get_canon_version($1, $2, $3);
    }
    bail_out("Failed to parse the output of \"$NginxBinary -V\": $out");
}

sub gen_rand_port {
    my ($tries, $used) = @_;
    $tries ||= 1000;
    $used ||= {};
    for (1 .. $tries) {
        my $port = int(rand 63550) + 1985;
        next if $used->{$port};
        my $sock = IO::Socket::INET->new(LocalAddr => $ServerAddr,
                                         LocalPort => $port,
                                         Proto => 'tcp', Listen => 1);
        if ($sock) {
            close $sock;
            return $port;
        }
    }
    return undef;
}

# Replaces every $TEST_NGINX_FOO with $ENV{TEST_NGINX_FOO}; unset => bail out
# (as the real one does). $TEST_NGINX_RAND_PORT_N => a free random port.
sub expand_env_in_text ($$$) {
    my ($text, $name, $rand_ports) = @_;
    return undef if !defined $text;
    my $used = { $ServerPort => 1, map { $_ => 1 } values %$rand_ports };
    $text =~ s{\$(TEST_NGINX_[_A-Z0-9]+)}{
        my $var = $1;
        my $val;
        if ($var =~ /^TEST_NGINX_RAND_PORT_[0-9]+$/) {
            if (!defined $rand_ports->{$var}) {
                my $p = gen_rand_port(1000, $used);
                bail_out("$name - Cannot find an available listening port "
                         . "number for $var.") if !defined $p;
                $rand_ports->{$var} = $p;
                $used->{$p} = 1;
            }
            $val = $rand_ports->{$var};
        } else {
            if (!defined $ENV{$var}) {
                bail_out("$name - No environment $var defined.");
            }
            $val = $ENV{$var};
        }
        $val;
    }ge;
    return $text;
}

# recursive version for "--- request eval" / "--- more_headers eval" values
sub expand_env_in_data {
    my ($data, $name, $rand_ports) = @_;
    return undef if !defined $data;
    my $ref = ref $data;
    if (!$ref) {
        return expand_env_in_text($data, $name, $rand_ports);
    }
    if ($ref eq 'ARRAY') {
        return [ map { expand_env_in_data($_, $name, $rand_ports) } @$data ];
    }
    if ($ref eq 'HASH') {
        my %h = %$data;
        $h{value} = expand_env_in_data($h{value}, $name, $rand_ports)
            if exists $h{value};
        return \%h;
    }
    return $data;
}

sub bail_out (@) {
    cleanup();
    Test::More::BAIL_OUT(join '', @_);
}

# ---------------------------------------------------------------------------
# process management

sub is_running ($) {
    my $pid = shift;
    return 0 if !$pid || $pid !~ /^\d+$/;
    return 0 if !kill 0, $pid;
    # a daemonized nginx is re-parented to pid 1, which may not reap it in a
    # container: a zombie is not "running".
    if (open my $in, '<', "/proc/$pid/stat") {
        my $stat = <$in>;
        close $in;
        if (defined $stat && $stat =~ /^\d+ \(.*\) (\S)/s) {
            return 0 if $1 eq 'Z' || $1 eq 'X';
        }
    }
    return 1;
}

sub looks_like_nginx ($) {
    my $pid = shift;
    if (open my $in, '<', "/proc/$pid/cmdline") {
        local $/;
        my $cmd = <$in>;
        close $in;
        return defined $cmd && $cmd =~ /nginx/;
    }
    return 1;    # no /proc: trust the pid file
}

sub get_pid_from_pidfile ($) {
    my ($name) = @_;
    open my $in, '<', $PidFile or return undef;
    my $pid = do { local $/; <$in> };
    close $in;
    return undef if !defined $pid;
    $pid =~ s/\s+//g;
    return $pid =~ /^\d+$/ ? $pid : undef;
}

sub wait_gone ($$) {
    my ($pid, $secs) = @_;
    my $deadline = time + $secs;
    while (is_running($pid)) {
        waitpid($pid, WNOHANG);
        return 0 if time > $deadline;
        sleep 0.01;
    }
    return 1;
}

# SIGQUIT (graceful), then SIGTERM, then SIGKILL (whole process group when
# the pid leads one, which a daemonized nginx does: workers go with it).
sub kill_process ($$) {
    my ($pid, $name) = @_;
    return if !is_running($pid);
    warn "$name - sending QUIT to $pid\n" if $Verbose;
    kill SIGQUIT, $pid;
    return if wait_gone($pid, $UseValgrind ? $ValgrindStartTimeout : timeout());

    warn "$name - nginx $pid did not quit in " . timeout()
         . "s after SIGQUIT; sending SIGTERM\n";
    kill SIGTERM, $pid;
    return if wait_gone($pid, 1);

    warn "$name - WARNING: killing nginx $pid with SIGKILL\n";
    my $pgrp = getpgrp($pid);
    if (defined $pgrp && $pgrp == $pid) {
        kill SIGKILL, -$pid;
    } else {
        kill SIGKILL, $pid;
    }
    wait_gone($pid, 1);
}

sub stop_nginx ($) {
    my ($name) = @_;
    my $pid = get_pid_from_pidfile($name);
    if (defined $pid && is_running($pid)) {
        if ($FirstTime && !looks_like_nginx($pid)) {
            # stale pid file whose pid got reused by something else
            unlink $PidFile;
            return;
        }
        kill_process($pid, $name);
    }
    unlink $PidFile if -f $PidFile;
}

sub nginx_is_running () {
    my $pid = get_pid_from_pidfile('');
    return defined $pid && is_running($pid);
}

sub cleanup () {
    for my $hdl (@CleanupHandlers) {
        $hdl->();
    }
}

END {
    return if $InSubprocess;
    local $?;    # do not confuse Test::Builder's exit code
    cleanup();
    if (!$ENV{TEST_NGINX_NO_CLEAN}) {
        stop_nginx('END') if defined $PidFile && -f $PidFile;
    }
    1 while waitpid(-1, WNOHANG) > 0;
    if ($Randomize && defined $ServRoot && -d $ServRoot
        && $ServRoot =~ m{/t/servroot_\d+$})
    {
        remove_tree($ServRoot);
    }
}

# ---------------------------------------------------------------------------
# server root + nginx.conf

sub setup_server_root () {
    if (-d $ServRoot) {
        # only remove what we create, never arbitrary user data
        remove_tree($ConfDir, $HtmlDir, $LogDir,
                    glob("$ServRoot/*_cache"), glob("$ServRoot/*_temp"));
        rmdir $ServRoot;    # may fail if the user put other things there
    }
    for my $dir ($ServRoot, $LogDir, $HtmlDir, $ConfDir) {
        next if -d $dir;
        make_path($dir) or bail_out("Failed to do mkdir $dir: $!");
    }
    my $index = "$HtmlDir/index.html";
    open my $out, '>', $index or bail_out("Can't open $index for writing: $!");
    print $out '<html><head><title>It works!</title></head>'
               . '<body>It works!</body></html>';
    close $out;
}

sub write_user_files ($$) {
    my ($block, $rand_ports) = @_;
    my $name = $block->name;
    my $files = $block->user_files;
    return if !$files;

    if (!ref $files) {
        my @list;
        my ($fname, $body, $date);
        for my $line (split /^/, $files) {
            if ($line =~ /^>>> (\S+)(?:\s+(.+))?/) {
                push @list, [$fname, $body, $date] if defined $fname;
                ($fname, $date, $body) = ($1, $2, undef);
            } else {
                $body .= $line;
            }
        }
        push @list, [$fname, $body, $date] if defined $fname;
        $files = \@list;
    } elsif (ref $files ne 'ARRAY') {
        bail_out("$name - wrong value type for --- user_files: " . ref $files);
    }

    for my $file (@$files) {
        my ($fname, $body, $date) = @$file;
        $body = '' if !defined $body;
        my $path = $fname =~ m{^/} ? $fname : "$HtmlDir/$fname";
        if ($path =~ m{(.*)/} && !-d $1) {
            make_path($1) or bail_out("$name - Cannot create directory $1");
        }
        $body = expand_env_in_text($body, $name, $rand_ports);
        open my $out, '>', $path
            or bail_out("$name - Cannot open $path for writing: $!");
        binmode $out;
        print $out $body;
        close $out;
        if ($date) {
            system('touch', '-t', $date, $path) == 0
                or bail_out("$name - Failed to touch -t $date $path");
        }
    }
}

sub write_config_file ($$$) {
    my ($block, $config, $rand_ports) = @_;
    my $name = $block->name;

    my $http_config = expand_env_in_text($block->http_config, $name, $rand_ports);
    my $main_config = expand_env_in_text($block->main_config, $name, $rand_ports);
    my $post_main_config = expand_env_in_text($block->post_main_config, $name,
                                              $rand_ports);
    $config = '' if !defined $config;
    $http_config = '' if !defined $http_config;
    $main_config = '' if !defined $main_config;
    $post_main_config = '' if !defined $post_main_config;

    my $extra_http_config = '';
    if (defined $PostponeOutput && $http_config !~ /\bpostpone_output\b/) {
        bail_out("Bad TEST_NGINX_POSTPONE_OUTPUT value: $PostponeOutput")
            if $PostponeOutput !~ /^\d+$/;
        $extra_http_config = "\n    postpone_output $PostponeOutput;\n";
    }

    if ($LoadModules) {
        my @modules = map { "load_module $_;" } grep { $_ } split /\s+/,
                      $LoadModules;
        $main_config .= join ' ', @modules;
    }

    my $err_log_file = $block->error_log_file || $ErrLogFile;
    my $server_name = defined $block->server_name ? $block->server_name
                                                  : $ServerName;
    my $listen_opts = $ReusePort ? ' reuseport' : '';

    my $conf = <<_EOC_;
worker_processes  $Workers;
daemon $DaemonEnabled;
master_process $MasterProcessEnabled;
error_log $err_log_file $LogLevel;
pid       $PidFile;
env MOCKEAGAIN_VERBOSE;
env MOCKEAGAIN;
env MOCKEAGAIN_WRITE_TIMEOUT_PATTERN;
env LD_PRELOAD;
env LD_LIBRARY_PATH;
env DYLD_INSERT_LIBRARIES;
env DYLD_FORCE_FLAT_NAMESPACE;
_EOC_

    for my $v (@EnvToNginx) {
        $conf .= ($v =~ /\s/ ? "env '$v';\n" : "env $v;\n");
    }

    $conf .= <<_EOC_;
#env LUA_PATH;
#env LUA_CPATH;

$main_config

http {
    access_log $AccLogFile;
    #access_log off;

    default_type text/plain;
    keepalive_timeout  68;
$extra_http_config
$http_config

    server {
        listen          $ServerPort$listen_opts;
        server_name     '$server_name';

        client_max_body_size 30M;
        #client_body_buffer_size 4k;

        # Begin preamble config...
$ConfigPreamble
        # End preamble config...

        # Begin test case config...
$config
        # End test case config.

_EOC_

    if (!$NoRootLocation) {
        $conf .= <<_EOC_;
        location / {
            root $HtmlDir;
            index index.html index.htm;
        }
_EOC_
    }

    $conf .= "    }\n}\n\n$post_main_config\n\n#timer_resolution 100ms;\n\n"
             . "events {\n    accept_mutex off;\n\n"
             . "    worker_connections  $WorkerConnections;\n";
    $conf .= "    use $EventType;\n" if $EventType;
    $conf .= "}\n";
    $conf .= "env ASAN_OPTIONS;\nenv MOCKNOEAGAIN_VERBOSE;\nenv MOCKNOEAGAIN;\n";

    if (defined $WorkerUser) {
        $conf .= "user $WorkerUser;\n";
    } elsif ($> == 0) {
        $conf .= "user root;\n";
    }

    open my $out, '>', $ConfFile
        or bail_out("Can't open $ConfFile for writing: $!");
    print $out $conf;
    close $out;
}

# Runs the nginx command line (which daemonizes). Returns ($status, $stderr).
# The real one runs "nginx -p ROOT/ -c CONF > /dev/null"; we additionally
# pass "-e logs/error.log" (nginx >= 1.19.5) so that start-up errors land in
# the test's error.log even when nginx was built with another default error
# log (Debian: stderr), and we capture stderr.
# Under valgrind (and unless $plain) nginx stays in the foreground: see
# start_valgrind_nginx.
sub run_nginx_cmd (;$) {
    my ($plain) = @_;
    my @cmd = ($NginxBinary, '-p', "$ServRoot/", '-c', $ConfFile);
    if (defined $NginxVersion && $NginxVersion >= 1.019005) {
        push @cmd, '-e', $ErrLogFile;
    }
    return start_valgrind_nginx(@cmd) if $UseValgrind && !$plain;
    my $pid = spawn(0, @cmd);
    waitpid($pid, 0);
    my $status = $?;
    return ($status, slurp($StderrFile));
}

# fork + exec @cmd with stdout to /dev/null and stderr to $StderrFile; in a
# process group of its own when $own_group. Returns the child's pid.
sub spawn ($@) {
    my ($own_group, @cmd) = @_;
    warn "running: @cmd\n" if $Verbose;
    unlink $StderrFile;
    my $pid = fork();
    bail_out("fork() failed: $!") if !defined $pid;
    if ($pid == 0) {
        $InSubprocess = 1;
        setpgrp if $own_group;
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', $StderrFile;
        open STDIN, '<', '/dev/null';
        { no warnings 'exec'; exec { $cmd[0] } @cmd; }
        print STDERR "exec $cmd[0] failed: $!\n";
        POSIX::_exit(255);
    }
    return $pid;
}

sub slurp ($) {
    my ($file) = @_;
    open my $in, '<', $file or return '';
    local $/;
    my $text = <$in>;
    close $in;
    return defined $text ? $text : '';
}

# ---------------------------------------------------------------------------
# valgrind (TEST_NGINX_USE_VALGRIND), as the real one runs it: "valgrind -q
# <options> nginx ..." with daemon off, one nginx per block, stopped with
# SIGQUIT at the end of the block; ./valgrind.suppress is used when present.
# Unlike the real one (which leaves valgrind's output on the terminal), each
# process writes its report to logs/valgrind.<pid>.log and a block whose nginx
# had any valgrind error fails, with the report as diagnostics.

sub valgrind_options () {
    return split ' ', $UseValgrind if $UseValgrind !~ /^\d+$/;
    my @opts = qw(--tool=memcheck --leak-check=full --keep-debuginfo=yes
                  --show-possibly-lost=no --num-callers=100
                  --gen-suppressions=all);
    push @opts, '--suppressions=valgrind.suppress' if -f 'valgrind.suppress';
    push @opts, qw(--exit-on-first-error=yes --error-exitcode=1)
        if $ValgrindExitOnFirstErr;
    return @opts;
}

# Returns ($status, $stderr) like run_nginx_cmd: 0 once nginx wrote its pid
# file, its exit status if it ended before that.
sub start_valgrind_nginx (@) {
    my @cmd = ('valgrind', '-q', valgrind_options(),
               "--log-file=$LogDir/valgrind.%p.log", @_);
    my $pid = spawn(1, @cmd);
    my $deadline = time + $ValgrindStartTimeout;
    while (time < $deadline) {
        if (waitpid($pid, WNOHANG) == $pid) {
            return ($? || 256, slurp($StderrFile));
        }
        my $p = get_pid_from_pidfile('');
        return (0, '') if defined $p && $p == $pid;
        sleep 0.05;
    }
    return (0, '');    # start_nginx reports the missing pid file
}

# Stops the block's nginx and fails the block on any valgrind report.
sub check_valgrind ($) {
    my ($name) = @_;
    stop_nginx($name);
    my $report = '';
    for my $log (sort glob "$LogDir/valgrind.*.log") {
        my $text = slurp($log);
        $report .= "==> $log\n$text" if $text =~ /\S/;
    }
    if ($report ne '') {
        Test::More::fail("$name - valgrind reported errors");
        Test::More::diag($report);
    }
}

sub port_is_listening ($) {
    my $port = shift;
    my $seen_proc;
    for my $f ('/proc/net/tcp', '/proc/net/tcp6') {
        open my $in, '<', $f or next;
        $seen_proc = 1;
        while (my $line = <$in>) {
            # sl local_address rem_address st ...; st 0A == LISTEN
            if ($line =~ /^\s*\d+:\s+[0-9A-Fa-f]+:([0-9A-Fa-f]{4})\s+\S+\s+0A\b/
                && hex($1) == $port)
            {
                close $in;
                return 1;
            }
        }
        close $in;
    }
    return undef if $seen_proc;
    # no /proc: probe with a connection
    my $sock = IO::Socket::INET->new(PeerAddr => $ServerAddr,
                                     PeerPort => $port, Proto => 'tcp',
                                     Timeout => 0.5);
    if ($sock) {
        close $sock;
        return 1;
    }
    return undef;
}

# Starts nginx for a block; returns undef on success or an error message.
sub start_nginx ($) {
    my ($name) = @_;
    my ($status, $stderr);
    my $deadline = time + 5;
    while (1) {
        ($status, $stderr) = run_nginx_cmd();
        last if $status == 0;
        # another process (or a not yet dead nginx) still holds the port
        last if $stderr !~ /Address already in use/ || time > $deadline;
        sleep 0.1;
    }

    if ($status != 0) {
        my $code = $status == -1 ? 'exec failed' : 'exit code ' . ($status >> 8);
        my $hint = '';
        if ($stderr =~ /Address already in use/) {
            $hint = "\n(port $ServerPort is taken by another process, e.g. "
                    . "another test run: use TEST_NGINX_PORT=<free port> "
                    . "and TEST_NGINX_SERVROOT=<own dir>)";
        }
        return "nginx failed to start ($code): $stderr$hint";
    }

    my $deadline2 = time + timeout();
    my $pid;
    while (1) {
        $pid = get_pid_from_pidfile($name);
        last if defined $pid && is_running($pid);
        if (time > $deadline2) {
            return "nginx started but no live pid in $PidFile after "
                   . timeout() . "s. stderr: $stderr";
        }
        sleep 0.005;
    }
    while (!port_is_listening($ServerPort)) {
        if (!is_running($pid)) {
            return "nginx (pid $pid) exited right after starting. stderr: $stderr";
        }
        if (time > $deadline2) {
            return "nginx (pid $pid) is not listening on port $ServerPort after "
                   . timeout() . "s";
        }
        sleep 0.005;
    }
    if ($stderr ne '' && $Verbose) {
        warn "$name - nginx stderr: $stderr";
    }
    return undef;
}

# ---------------------------------------------------------------------------
# log access

sub read_log_lines ($$) {
    my ($file, $pos_ref) = @_;
    open my $in, '<', $file or return [];
    if ($pos_ref && $$pos_ref > 0) {
        seek $in, $$pos_ref, 0;
    }
    my @lines = <$in>;
    $$pos_ref = tell($in) if $pos_ref;
    close $in;
    return \@lines;
}

# error.log lines of the current request (since the last read) unless
# check_accum_error_log(). Sleeps a little first, as the real one does
# (log-phase lines are written after the response was sent).
sub error_log_data () {
    sleep $TestNginxSleep * 3;
    if ($CheckAccumErrLog) {
        return read_log_lines($ErrLogFile, undef);
    }
    return read_log_lines($ErrLogFile, \$ErrLogFilePos);
}

sub access_log_data () {
    sleep $TestNginxSleep * 3;
    return read_log_lines($AccLogFile, undef);
}

sub log_tail ($$) {
    my ($file, $n) = @_;
    my $lines = read_log_lines($file, undef);
    my @tail = @$lines > $n ? @{$lines}[-$n .. -1] : @$lines;
    return join '', @tail;
}

# ---------------------------------------------------------------------------
# driver

our %Unsupported = map { $_ => 1 } qw(
    tcp_listen tcp_reply tcp_query tcp_query_len tcp_shutdown tcp_no_close
    udp_listen udp_reply udp_query stap stap_out stap_out_like
    stap_out_unlike http2 http3 shutdown_error_log no_shutdown_error_log
    request_eval response_body_eval reload_fails skip_nginx2 skip_openssl
    skip_slave todo_nginx
);

# Become a "child subreaper" (Linux): the daemonized nginx is then
# re-parented to us instead of pid 1 and we can reap it, which avoids piling
# up zombies in containers whose pid 1 does not reap orphans.
sub become_subreaper () {
    return if $^O ne 'linux';
    local $SIG{__WARN__} = sub { };
    eval {
        package main;
        require 'syscall.ph';
        syscall(&SYS_prctl(), 36, 1, 0, 0, 0);    # PR_SET_CHILD_SUBREAPER
    };
}

sub run_tests () {
    $NginxVersion = get_nginx_version();
    become_subreaper();

    if (!defined $ENV{TEST_NGINX_SERVER_PORT}) {
        $ENV{TEST_NGINX_SERVER_PORT} = $ServerPort;
    }

    my @blocks = Test::Base::blocks();
    @blocks = shuffle @blocks if !$NoShuffle;

    for my $block (@blocks) {
        for my $hdl (@BlockPreprocessors) {
            $hdl->($block);
        }
        $block->set_value('name', $0 . ' ' . $block->name);
        run_test($block);
        $PrevBlock = $block;
    }

    cleanup();
}

sub failures_so_far () {
    return scalar grep { !$_ } Test::More->builder->summary;
}

sub run_test ($) {
    my $block = shift;
    return if defined $block->SKIP;

    my $name = $block->name;
    my $fails_before = failures_so_far();

    my @unsupported = grep { exists $block->{$_} } sort keys %Unsupported;
    if (@unsupported) {
        Test::More::fail("$name - section(s) not supported by the t/lib "
                         . "Test::Nginx runner: @unsupported");
        return;
    }

    my $rand_ports = {};
    my $config = expand_env_in_text($block->config, $name, $rand_ports);
    # under valgrind each block's nginx is stopped at its end: a block
    # without config starts a new one with the previous block's config
    $config = $PrevConfig if $UseValgrind && !defined $config;

    local $LogLevel = $LogLevel;
    $LogLevel = $block->log_level if $block->log_level;
    # a must_die nginx is never run under valgrind, nor in the foreground
    local $DaemonEnabled = defined $block->must_die ? 'on' : $DaemonEnabled;

    my ($should_skip, $tests_to_skip, $skip_reason) = get_skip_info($block);
    my ($should_todo, $todo_reason);
    if (defined $block->todo) {
        if ($block->todo =~ /^\s*(\d+)\s*:\s*(.*)/s) {
            ($should_todo, $tests_to_skip, $todo_reason) = (1, $1, $2);
        } else {
            bail_out("$name - Invalid --- todo spec: " . $block->todo);
        }
    }

    my $start_error;

    if (!$should_skip) {
        my $should_restart;
        if (!defined $config) {
            # like the real one: without "--- config" the running nginx (and
            # the configuration) of the previous block is reused
            if (!defined $PrevConfig || !nginx_is_running()) {
                bail_out("$name - No '--- config' section specified and "
                         . "could not get previous one.");
            }
            $should_restart = 0;
        } else {
            $should_restart = $ForceRestartOnTest
                              || !defined $PrevConfig || $config ne $PrevConfig
                              || !nginx_is_running();
        }

        if ($should_restart) {
            $PrevConfig = $config;
            stop_nginx($name);    # previous block's nginx / stale one
            undef $FirstTime;

            setup_server_root();
            write_user_files($block, $rand_ports);
            write_config_file($block, $config, $rand_ports);

            if (defined $block->must_die) {
                run_must_die($block);
                report_failure($block, $fails_before);
                return;
            }

            $start_error = start_nginx($name);
            if (defined $start_error) {
                Test::More::fail("$name - nginx started");
                Test::More::diag($start_error);
                undef $PrevConfig;
            }
        }
    }

    if (defined $block->init && !$should_skip) {
        eval $block->init;
        bail_out("$name - init failed: $@") if $@;
    }

    $ErrLogFilePos = 0;
    for my $i (0 .. $RepeatEach - 1) {
        write_user_files($block, $rand_ports) if $i > 0 && !$should_skip;

        if ($should_skip && defined $tests_to_skip) {
            SKIP: {
                Test::More::skip("$name - $skip_reason", $tests_to_skip);
            }
        } elsif ($should_todo) {
            TODO: {
                Test::More::todo_skip("$name - $todo_reason", $tests_to_skip);
            }
        } else {
            run_test_helper($block, $i, $start_error, $rand_ports);
        }
    }

    check_valgrind($name) if $UseValgrind && !$should_skip;

    if (my $total_errlog = $ENV{TEST_NGINX_ERROR_LOG}) {
        if (-s $ErrLogFile && open my $out, '>>', $total_errlog) {
            print $out "\n=== $name\n", log_tail($ErrLogFile, 1e9);
            close $out;
        }
    }

    report_failure($block, $fails_before);
}

sub report_failure ($$) {
    my ($block, $fails_before) = @_;
    return if failures_so_far() <= $fails_before;
    # the last non-debug lines (a debug log is too chatty to be useful here)
    my @lines = grep { !/^\S+ \S+ \[debug\]/ && /^\d{4}\/\d\d\/\d\d / }
                @{ read_log_lines($ErrLogFile, undef) };
    splice @lines, 0, @lines - 20 if @lines > 20;
    Test::More::diag($block->name . " failed\n  nginx.conf: $ConfFile\n"
                     . "  last non-debug lines of $ErrLogFile:\n"
                     . (@lines ? join('', map { "  $_" } @lines)
                               : "  (none)\n"));
}

sub get_skip_info ($) {
    my $block = shift;
    my $name = $block->name;
    my ($should_skip, $n, $reason);

    if (defined(my $skip_eval = $block->skip_eval)) {
        if ($skip_eval =~ /^\s*(\d+)\s*:\s*(.*)/s) {
            $n = $1;
            $reason = 'skip_eval';
            my $code = $2;
            $should_skip = eval $code;
            bail_out("$name - skip_eval - failed to eval the Perl code "
                     . "\"$code\": $@") if $@;
        }
    }

    if (defined(my $skip_nginx = $block->skip_nginx)) {
        if ($skip_nginx =~ m{^\s*(\d+)\s*:\s*([<>]=?)\s*(\d+)\.(\d+)\.(\d+)
                             (?:\s*:\s*(.*))?\s*$}x)
        {
            $n = $1;
            my ($op, $ver) = ($2, get_canon_version($3, $4, $5));
            $reason = $6 || "nginx version $op $3.$4.$5";
            $should_skip = 1 if eval "$NginxVersion $op $ver";
        } else {
            bail_out("$name - Invalid --- skip_nginx spec: $skip_nginx");
        }
    }

    return ($should_skip, $n, $reason || 'various reasons');
}

sub run_must_die ($) {
    my $block = shift;
    my $name = $block->name;
    my $must_die = $block->must_die;

    $ErrLogFilePos = 0;
    for my $i (0 .. $RepeatEach - 1) {
        my ($status, $stderr) = run_nginx_cmd(1);    # never under valgrind
        if ($status == -1 || ($status >> 8) == 255 && $stderr =~ /^exec .* failed/) {
            Test::More::fail("$name - failed to execute the nginx command line");
        } elsif ($status & 128) {
            Test::More::fail("$name - nginx core dumped");
        } elsif (looks_like_number($must_die)) {
            Test::More::is($status >> 8, $must_die,
                           "$name - die with the expected exit code");
        } else {
            Test::More::isnt($status, 0, "$name - die as expected");
        }

        check_error_log($block, undef, $i, 0, $stderr);

        if ($status == 0) {
            warn "WARNING: $name - nginx must die but it does not; "
                 . "killing it (req $i)\n";
            for (1 .. 100) {
                last if -f $PidFile;
                sleep 0.01;
            }
            stop_nginx($name);
        }
    }
    undef $PrevConfig;
}

# ---------------------------------------------------------------------------
# requests

sub parse_more_headers ($) {
    my ($in) = @_;
    my ($out, $is_chunked) = ('', 0);
    for my $header (split /\n+/, $in) {
        next if $header =~ /^\s*#/;
        my ($key, $val) = split /:\s*/, $header, 2;
        $val = '' if !defined $val;
        $val =~ s/\r$//;
        $is_chunked = 1 if lc($key) eq 'transfer-encoding' && $val eq 'chunked';
        $out .= "$key: $val\r\n";
    }
    return ($out, $is_chunked);
}

# Applies a list of edits [orig_len, replacement, keep] to a list of packets
# so that packet boundaries of the user's request are preserved.
sub apply_edits ($$) {
    my ($packets, $edits) = @_;
    my @out = map { '' } @$packets;
    my ($pi, $off) = (0, 0);
    my $advance = sub {
        while ($pi < $#$packets && $off >= length $packets->[$pi]) {
            $pi++;
            $off = 0;
        }
    };
    for my $e (@$edits) {
        my ($len, $new, $keep) = @$e;
        $advance->();
        $out[$pi] .= $new if !$keep;
        while ($len > 0) {
            $advance->();
            my $avail = length($packets->[$pi]) - $off;
            last if $avail <= 0;
            my $take = $len < $avail ? $len : $avail;
            $out[$pi] .= substr($packets->[$pi], $off, $take) if $keep;
            $off += $take;
            $len -= $take;
        }
    }
    return \@out;
}

# "METHOD [URL [HTTP/x.y]]\nbody" => wire request (Host, Connection,
# Content-Length added as the real one does; the body is trimmed when a
# Content-Length is computed).
sub build_request ($$$$$) {
    my ($name, $more_headers, $is_chunked, $conn, $packets) = @_;
    my $full = join '', @$packets;

    if ($full !~ /\A([^\n]*\n?)/ || $1 eq '') {
        bail_out("$name - Request line should be non-empty");
    }
    my $first = $1;
    my $content = substr $full, length $first;

    if ($first !~ /^(\s*)(\S+)( *)(?:(\S+)( *))?(?:(\S+)( *))?(\s*)$/) {
        bail_out("$name - Request line is not valid. Should be "
                 . "'meth [url [version]]' but got \"$first\".");
    }
    my ($before, $meth, $after_meth, $url, $after_url, $ver, $after_ver, $eol)
        = ($1, $2, $3, $4, $5, $6, $7, $8);

    my $len_header = '';
    my @content_edits;
    if (!$is_chunked && $content ne ''
        && $more_headers !~ /(?:^|\n)Content-Length:/)
    {
        $content =~ /\A(\s*)(.*?)(\s*)\z/s;
        my ($lead, $core, $trail) = ($1, $2, $3);
        $len_header = 'Content-Length: ' . length($core) . "\r\n";
        @content_edits = ([length $lead, '', 0], [length $core, $core, 1],
                          [length $trail, '', 0]);
    } else {
        @content_edits = ([length $content, $content, 1]);
    }

    my $headers = '';
    $headers .= "Host: $ServerName\r\n" if $more_headers !~ /(?:^|\n)Host:/msi;
    $headers .= "Connection: $conn\r\n"
        if $more_headers !~ /(?:^|\n)Connection/msi;
    $headers .= "$more_headers$len_header\r\n";

    my @edits = (
        [length $before, '', 0],
        [length $meth, $meth, 1],
        [length $after_meth, ' ', 0],
        (defined $url ? [length $url, $url, 1] : [0, '/', 0]),
        [defined $after_url ? length $after_url : 0, ' ', 0],
        (defined $ver ? [length $ver, $ver, 1] : [0, 'HTTP/1.1', 0]),
        [(defined $after_ver ? length $after_ver : 0) + length $eol,
         "\r\n$headers", 0],
        @content_edits,
    );
    return apply_edits($packets, \@edits);
}

# Returns (\@requests, $pipelined_count). Each request is an array of
# packets { value => ..., delay_before => ... }.
sub get_req_from_block ($$) {
    my ($block, $rand_ports) = @_;
    my $name = $block->name;
    my @reqs;

    if (defined $block->raw_request) {
        my $raw = $block->raw_request;
        if (ref $raw && ref $raw eq 'ARRAY') {
            push @reqs, [ map { ref $_ ? $_ : { value => $_ } } @$raw ];
        } else {
            push @reqs, [ { value => $raw } ];
        }
        return (\@reqs, 0);
    }

    my $request = expand_env_in_data(scalar $block->request, $name, $rand_ports);
    if (defined $request && !ref $request) {
        # strip leading comment lines and white space
        while ($request =~ s/^\s*\#[^\n]+\s+|^\s+//gs) { }
    }
    my $more_headers = expand_env_in_data(scalar $block->more_headers, $name,
                                          $rand_ports);
    $more_headers = '' if !defined $more_headers;

    my $headers_for = sub {
        my ($i, $what) = @_;
        if (ref $more_headers eq 'ARRAY') {
            my $h = $more_headers->[$i];
            bail_out("$name - --- more_headers lacks data for the $what")
                if !defined $h;
            return parse_more_headers($h);
        }
        return parse_more_headers($more_headers);
    };

    if (my $pipelined = $block->pipelined_requests) {
        if (!ref $pipelined || ref $pipelined ne 'ARRAY') {
            bail_out("$name - invalid entries in --- pipelined_requests");
        }
        $pipelined = expand_env_in_data($pipelined, $name, $rand_ports);
        my $all = '';
        for my $i (0 .. $#$pipelined) {
            my ($hdr, $chunked) = $headers_for->($i, "${i}th pipelined request");
            my $conn = $i == $#$pipelined ? 'close' : 'keep-alive';
            $all .= build_request($name, $hdr, $chunked, $conn,
                                  [$pipelined->[$i]])->[0];
        }
        return ([[ { value => $all } ]], scalar @$pipelined);
    }

    if (!defined $request) {
        bail_out("$name - no --- request section");
    }

    my @list = ref $request eq 'ARRAY' ? @$request : ($request);
    if (ref $request && ref $request ne 'ARRAY') {
        bail_out("$name - invalid --- request: MUST be string or array of "
                 . "requests");
    }

    for my $i (0 .. $#list) {
        my $one = $list[$i];
        my ($hdr, $chunked) = $headers_for->($i, "${i}th request");
        if (!ref $one) {
            push @reqs, [ { value => build_request($name, $hdr, $chunked,
                                                   'close', [$one])->[0] } ];
        } elsif (ref $one eq 'ARRAY') {
            my @pk = map {
                !ref $_ ? { value => $_ }
                : ref $_ eq 'HASH' ? { %$_ }
                : bail_out("$name - Invalid syntax. $_ should be a string or "
                           . "hash with value.")
            } @$one;
            my $bits = build_request($name, $hdr, $chunked, 'close',
                                     [ map { $_->{value} } @pk ]);
            $pk[$_]{value} = $bits->[$_] for 0 .. $#pk;
            push @reqs, \@pk;
        } else {
            bail_out("$name - Invalid syntax. $one should be a string or an "
                     . "array of packets.");
        }
    }
    return (\@reqs, 0);
}

sub connect_to_server ($$) {
    my ($block, $timeout) = @_;
    my $addr = $block->server_addr_for_client;
    $addr = $ServerAddr if !defined $addr;
    my $deadline = time + ($timeout > 2 ? $timeout : 2);
    my $err;
    while (1) {
        my $sock = IO::Socket::INET->new(PeerAddr => $addr,
                                         PeerPort => $ServerPortForClient,
                                         Proto => 'tcp',
                                         Timeout => $timeout);
        return ($sock, undef) if $sock;
        $err = "$!";
        last if time > $deadline;
        sleep 0.05;
    }
    return (undef, "Can't connect to $addr:$ServerPortForClient: $err");
}

# Sends one request (list of packets) on a fresh connection and reads the
# response until the server closes it. $timeout applies between two I/O
# events, as in the real one.
sub send_request ($$$) {
    my ($packets, $block, $timeout) = @_;
    my $name = $block->name;
    my @bits = map { { %$_ } } @$packets;
    my $head_req = (join '', map { $_->{value} } @bits) =~ /^\s*HEAD\s+/ ? 1 : 0;
    my $middle_delay = $block->raw_request_middle_delay;

    my ($sock, $err) = connect_to_server($block, $timeout);
    if (!$sock) {
        Test::More::fail("$name - $err (aborted)");
        return ('', $head_req);
    }
    $sock->blocking(0);
    local $SIG{PIPE} = 'IGNORE';

    my $resp = '';
    my $cur = shift @bits;
    my $wbuf = $cur->{value};
    $wbuf = '' if !defined $wbuf;
    my $woff = 0;
    my $writing = 1;
    my $reading = 1;
    if (defined $cur->{delay_before}) {
        # Test::Nginx sends the first packet at once: its delay_before is
        # ignored there, so here too (a test that relies on it would pass
        # here and fail under the real runner)
        warn "WARNING: $name - delay_before of a request's first packet is "
           . "ignored (as by Test::Nginx)\n";
    }

    while ($reading) {
        my $rsel = IO::Select->new($sock);
        my $wsel = $writing ? IO::Select->new($sock) : undef;
        $! = 0;
        my ($r, $w) = IO::Select->select($rsel, $wsel, undef, $timeout);
        if (!$r && !$w) {
            next if $! == EINTR;
            if (!defined $block->abort) {
                Test::More::fail("ERROR: client socket timed out - $name");
            }
            last;
        }

        if ($w && @$w && $writing) {
            while (1) {
                if ($woff >= length $wbuf) {
                    my $next = shift @bits;
                    if (!defined $next) {
                        $writing = 0;
                        my $shutdown = $block->shutdown;
                        if (defined $shutdown) {
                            $shutdown = 1 if $shutdown !~ /\d/;
                            shutdown($sock, $shutdown);
                        }
                        last;
                    }
                    my $delay = defined $next->{delay_before}
                                ? $next->{delay_before} : $middle_delay;
                    sleep $delay if $delay;
                    $wbuf = defined $next->{value} ? $next->{value} : '';
                    $woff = 0;
                    next;
                }
                my $n = syswrite($sock, $wbuf, length($wbuf) - $woff, $woff);
                if (!defined $n) {
                    last if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
                    warn "WARNING: $name - write failed: $!\n";
                    $writing = 0;
                    last;
                }
                $woff += $n;
            }
        }

        if ($r && @$r) {
            while (1) {
                my $buf;
                my $n = sysread($sock, $buf, 4096);
                if (!defined $n) {
                    last if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
                    warn "WARNING: $name - HTTP response read failure: $!\n"
                        if !($resp ne '' && $!{ECONNRESET});
                    $reading = 0;
                    last;
                }
                if ($n == 0) {
                    $reading = 0;
                    last;
                }
                $resp .= $buf;
            }
        }
    }
    close $sock;
    return ($resp, $head_req);
}

# Returns ($res, $raw_headers, $left). Chunked bodies are de-chunked.
sub parse_response ($$$) {
    my ($name, $raw, $head_req) = @_;
    my $left;
    my $raw_headers = '';
    if ($raw =~ /(.*?\r\n)\r\n/s) {
        $raw_headers = $1;
    }

    my $res = HTTP::Response->parse($raw);
    my $code = $res->code;
    if (defined $code && $code !~ /^\d+$/) {
        undef $code;
        $res->code(undef);
    }
    return ($res, $raw_headers) if $code && ($code == 304 || $code == 101);
    return ($res, $raw_headers) if $head_req;

    my $enc = $res->header('Transfer-Encoding');
    my $len = $res->header('Content-Length');

    if (defined $enc && $enc eq 'chunked') {
        my $body = $res->content;
        $body = '' if !defined $body;
        my $decoded = '';
        while (1) {
            if ($body =~ /\G0[ \t]*(?:;[^\r\n]*)?\r\n(?:[^\r\n]+\r\n)*\r\n/gc) {
                $left = $1 if $body =~ /\G(.+)/gcs;
                last;
            }
            if ($body =~ /\G[ \t]*([A-Fa-f0-9]+)[ \t]*(?:;[^\r\n]*)?\r\n/gc) {
                my $size = hex $1;
                my $pos = pos $body;
                if (length($body) - $pos < $size) {
                    Test::More::fail("$name - invalid chunked data received "
                                     . "(not enough octets for the data section)");
                    return;
                }
                $decoded .= substr $body, $pos, $size;
                pos($body) = $pos + $size;
                if ($body !~ /\G\r\n/gc) {
                    Test::More::fail("$name - invalid chunked data received "
                                     . "(expected CRLF).");
                    return;
                }
            } elsif ($body =~ /\G(.+)/gcs) {
                Test::More::fail("$name - invalid chunked body received: $1");
                return;
            } else {
                Test::More::fail("$name - no last chunk found - $body");
                return;
            }
        }
        $res->content($decoded);
    } elsif (defined $len && $len =~ /^\d+$/) {
        my $body = $res->content;
        $body = '' if !defined $body;
        if (length $body < $len) {
            # (not warned for "--- abort" blocks: truncation is expected)
            warn "WARNING: $name - response body truncated: $len expected, "
                 . "but got " . length($body) . "\n" if !$QuietTruncation;
        } elsif (length $body > $len) {
            $left = substr $body, $len;
            $res->content(substr $body, 0, $len);
        }
    }
    return ($res, $raw_headers, $left);
}

# ---------------------------------------------------------------------------
# checks (test names and counts follow the real Test::Nginx::Socket)

sub get_indexed_value ($$$$) {
    my ($name, $value, $req_idx, $need_array) = @_;
    if ($need_array) {
        return $value->[$req_idx] if ref $value && ref $value eq 'ARRAY';
        bail_out("$name - You asked for many requests, the expected results "
                 . "should be arrays as well.");
    }
    if (ref $value && ref $value eq 'ARRAY') {
        return $value->[0];
    }
    return $value;
}

sub run_test_helper ($$$$) {
    my ($block, $repeated_req_idx, $start_error, $rand_ports) = @_;
    my $name = $block->name;

    my ($reqs, $pipelined) = get_req_from_block($block, $rand_ports);
    bail_out("$name - request empty") if !@$reqs;

    my $timeout = parse_time($block->timeout);
    $timeout = timeout() if !defined $timeout;

    my $need_array = $pipelined ? 1 : @$reqs > 1;
    local $QuietTruncation = defined $block->abort;
    my $n = $pipelined;
    my $res;
    my $req_idx = 0;

    for my $one (@$reqs) {
        my ($raw, $head_req) = ('', 0);
        if (!defined $start_error) {
            ($raw, $head_req) = send_request($one, $block, $timeout);
        }
        warn "$name - response: [$raw]\n" if $Verbose;

        while (1) {
            $raw = '' if !defined $raw;
            my ($raw_headers, $left) = ('');
            if (!defined $block->ignore_response) {
                if (defined $block->http09) {
                    $res = HTTP::Response->new(200, 'OK', [], $raw);
                } else {
                    ($res, $raw_headers, $left) = parse_response($name, $raw,
                                                                 $head_req);
                }
            }

            if ($n) {
                $raw = $left;
                $n--;
            } elsif (defined $left && $left ne '') {
                (my $l = $left) =~ s/([\0-\037\200-\377])/sprintf('\x{%02x}', ord $1)/eg;
                warn "WARNING: $name - unexpected extra bytes after the "
                     . "response: \"$l\"\n";
            }

            if (!defined $block->ignore_response) {
                check_error_code($block, $res, $req_idx, $need_array);
                check_raw_response_headers($block, $raw_headers, $req_idx,
                                           $need_array);
                check_response_headers($block, $res, $raw_headers, $req_idx,
                                       $need_array);
                transform_response_body($block, $res, $req_idx);
                check_response_body($block, $res, $req_idx, $repeated_req_idx,
                                    $need_array);
            }

            if ($n || $req_idx < @$reqs - 1) {
                sleep $block->wait if $block->wait;
                check_error_log($block, $res, $repeated_req_idx, $need_array,
                                undef);
                check_access_log($block, $repeated_req_idx)
                    if !defined $block->ignore_response;
            }

            $req_idx++;
            last if !$n;
        }
    }

    sleep $block->wait if $block->wait;
    check_error_log($block, $res, $repeated_req_idx, $need_array, undef);
    check_access_log($block, $repeated_req_idx)
        if !defined $block->ignore_response;
}

sub check_error_code ($$$$) {
    my ($block, $res, $req_idx, $need_array) = @_;
    my $name = $block->name;
    my $code = ($res && $res->code) || '';
    if (defined $block->error_code_like) {
        my $val = get_indexed_value($name, $block->error_code_like, $req_idx,
                                    $need_array);
        Test::More::like($code, qr/$val/sm, "$name - status code ok");
    } elsif (defined $block->error_code) {
        Test::More::is($code, get_indexed_value($name, $block->error_code,
                                                $req_idx, $need_array),
                       "$name - status code ok");
    } else {
        Test::More::is($code, 200, "$name - status code ok");
    }
}

sub check_raw_response_headers ($$$$) {
    my ($block, $raw_headers, $req_idx, $need_array) = @_;
    my $name = $block->name;
    if (defined $block->raw_response_headers_like) {
        my $exp = get_indexed_value($name, $block->raw_response_headers_like,
                                    $req_idx, $need_array);
        Test::More::like($raw_headers, qr/$exp/s,
                         "$name - raw resp headers like");
    }
    if (defined $block->raw_response_headers_unlike) {
        my $exp = get_indexed_value($name, $block->raw_response_headers_unlike,
                                    $req_idx, $need_array);
        Test::More::unlike($raw_headers, qr/$exp/s,
                           "$name - raw resp headers unlike");
    }
}

sub check_response_headers ($$$$$) {
    my ($block, $res, $raw_headers, $req_idx, $need_array) = @_;
    my $name = $block->name;
    if (defined $block->response_headers) {
        my $headers = parse_headers(get_indexed_value($name,
                          $block->response_headers, $req_idx, $need_array));
        for my $key (sort keys %$headers) {
            my $val = $headers->{$key};
            if (!defined $val) {
                Test::More::unlike($raw_headers, qr/^\s*\Q$key\E\s*:/ms,
                    "$name - header $key not present in the raw headers");
                next;
            }
            $val =~ s/\$ServerPort\b/$ServerPort/g;
            $val =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
            my $actual = $res ? scalar $res->header($key) : undef;
            $actual = '' if !defined $actual;
            Test::More::is($actual, $val, "$name - header $key ok");
        }
    } elsif (defined $block->response_headers_like) {
        my $headers = parse_headers(get_indexed_value($name,
                          $block->response_headers_like, $req_idx,
                          $need_array));
        for my $key (sort keys %$headers) {
            my $val = $headers->{$key};
            $val = '' if !defined $val;
            my $actual = $res ? scalar $res->header($key) : undef;
            $actual = '' if !defined $actual;
            Test::More::like($actual, qr/^$val$/, "$name - header $key like ok");
        }
    }
}

sub run_filter_helper ($$$) {
    my ($block, $filter, $content) = @_;
    my $name = $block->name;
    if (ref $filter && ref $filter eq 'CODE') {
        return $filter->($content);
    }
    if (ref $filter) {
        bail_out("$name - the --- response_body_filters section only "
                 . "supports subroutine reference values and string values");
    }
    if ($filter eq 'md5_hex') {
        require Digest::MD5;
        return Digest::MD5::md5_hex($content);
    }
    if ($filter eq 'sha1_hex') {
        require Digest::SHA;
        return Digest::SHA::sha1_hex($content);
    }
    return uc $content       if $filter eq 'uc';
    return lc $content       if $filter eq 'lc';
    return ucfirst $content  if $filter eq 'ucfirst';
    return lcfirst $content  if $filter eq 'lcfirst';
    return length $content   if $filter eq 'length';
    bail_out("$name - unknown filter, \"$filter\", specified in the "
             . "--- response_body_filters section");
}

sub transform_response_body ($$$) {
    my ($block, $res, $req_idx) = @_;
    return if !defined $res;
    my $content = $res->content;
    return if !defined $content;
    my $filters = $block->response_body_filters;
    return if !defined $filters;

    if (!ref $filters) {
        $filters =~ s/^\s+|\s+$//gs;
        $filters = [ split /\s+/, $filters ];
    } elsif (ref $filters ne 'ARRAY') {
        $filters = [$filters];
    }
    my $f = $filters;
    if (ref $filters->[0] eq 'ARRAY') {
        $f = $filters->[$req_idx];
        bail_out($block->name . " - the --- response_body_filters "
                 . "two-dimensional array does not match the request "
                 . "($req_idx)") if !defined $f;
    }
    for my $one (ref $f eq 'ARRAY' ? @$f : ($f)) {
        $content = run_filter_helper($block, $one, $content);
    }
    $res->content($content);
}

sub check_response_body ($$$$$) {
    my ($block, $res, $req_idx, $repeated_req_idx, $need_array) = @_;
    my $name = $block->name;
    my $content = $res ? $res->content : undef;

    if (defined $block->response_body) {
        my $expected = get_indexed_value($name, $block->response_body,
                                         $req_idx, $need_array);
        if ($block->charset) {
            require Encode;
            Encode::from_to($expected, 'UTF-8', $block->charset);
        }
        if (defined $expected && !ref $expected) {
            $expected =~ s/\$ServerPort\b/$ServerPort/g;
            $expected =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
        }
        my $desc = "$name - response_body - ";
        if (ref $expected) {
            Test::More::like($content, $expected, $desc
                . "like (repeated req $repeated_req_idx, req $req_idx)");
        } elsif ($NoLongString) {
            Test::More::is($content, $expected, $desc
                . "response is expected (repeated req $repeated_req_idx, "
                . "req $req_idx)");
        } else {
            Test::LongString::is_string($content, $expected, $desc
                . "response is expected (repeated req $repeated_req_idx, "
                . "req $req_idx)");
        }
    } elsif (defined $block->response_body_like
             || defined $block->response_body_unlike)
    {
        my $type = defined $block->response_body_like ? 'like' : 'unlike';
        my $patterns = $type eq 'like' ? $block->response_body_like
                                       : $block->response_body_unlike;
        my $pat = get_indexed_value($name, $patterns, $req_idx, $need_array);
        if (!ref $pat) {
            $pat =~ s/\$ServerPort\b/$ServerPort/g;
            $pat =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
        }
        my $summary = trim($content);
        $summary = '' if !defined $summary;
        my $desc = "$name - response_body_$type - response is expected "
                   . "($summary)";
        if ($type eq 'like') {
            Test::More::like($content, qr/$pat/s, $desc);
        } else {
            Test::More::unlike($content, qr/$pat/s, $desc);
        }
    }

    for my $check (@ResponseBodyChecks) {
        $check->($block, $content, $req_idx, $repeated_req_idx, 0);
    }
}

sub value_contains {
    my ($val, $pat) = @_;
    return 0 if !defined $val;
    if (!ref $val || ref $val eq 'Regexp') {
        return $val =~ /\Q$pat\E/;
    }
    if (ref $val eq 'ARRAY') {
        for my $v (@$val) {
            return 1 if value_contains($v, $pat);
        }
    }
    return 0;
}

sub pattern_list ($) {
    my $pats = shift;
    if (!ref $pats) {
        chomp $pats;
        return [ split /\n+/, $pats ];
    }
    return [$pats] if ref $pats eq 'Regexp';
    return [@$pats];
}

sub line_matches ($$) {
    my ($line, $pat) = @_;
    return ref $pat ? $line =~ /$pat/ : $line =~ /\Q$pat\E/;
}

# stderr of a failed start, minus the messages that are already in error.log
sub stderr_lines ($$) {
    my ($stderr, $lines) = @_;
    my @out;
    for my $l (split /^/, $stderr) {
        next if $l !~ /\S/;
        (my $msg = $l) =~ s/^nginx: \[\w+\]\s*//;
        chomp $msg;
        next if $msg ne '' && grep { index($_, $msg) >= 0 } @$lines;
        $l .= "\n" if $l !~ /\n\z/;
        push @out, $l;
    }
    return @out;
}

sub check_error_log ($$$$$) {
    my ($block, $res, $repeated_req_idx, $need_array, $stderr) = @_;
    my $name = $block->name;

    my ($grep_pat, $grep_expected);
    my $grep_pats = $block->grep_error_log;
    if (defined $grep_pats) {
        $grep_pat = ref $grep_pats && ref $grep_pats eq 'ARRAY'
                    ? $grep_pats->[$repeated_req_idx] : $grep_pats;
    } elsif (defined $block->grep_error_log_out) {
        bail_out("$name - No --- grep_error_log defined but "
                 . "--- grep_error_log_out is defined");
    }
    if (defined $grep_pat) {
        $grep_expected = $block->grep_error_log_out;
        bail_out("$name - No --- grep_error_log_out defined but "
                 . "--- grep_error_log is defined") if !defined $grep_expected;
        if (ref $grep_expected && ref $grep_expected eq 'ARRAY') {
            $grep_expected = $grep_expected->[$repeated_req_idx];
        }
    }

    my $want = defined $block->error_log ? pattern_list($block->error_log) : [];
    my $want_none = defined $block->no_error_log
                    ? pattern_list($block->no_error_log) : [];

    my %warn_level = map { $_ => 1 } qw(alert crit emerg);
    for my $lvl (keys %warn_level) {
        delete $warn_level{$lvl}
            if value_contains(scalar $block->error_log, "[$lvl")
            || value_contains(scalar $block->no_error_log, "[$lvl");
    }

    my $need_lines = @$want || @$want_none || defined $grep_pat || %warn_level;
    return if !$need_lines;

    # read the log lines of this request; keep re-reading for a short while
    # if an expected pattern has not shown up yet
    my $lines = error_log_data();
    if (@$want) {
        my $deadline = time + $ErrLogWait;
        while (1) {
            my $all_found = 1;
            for my $pat (@$want) {
                next if !defined $pat;
                if (!grep { line_matches($_, $pat) } @$lines) {
                    $all_found = 0;
                    last;
                }
            }
            last if $all_found || time >= $deadline;
            sleep 0.02;
            my $more = $CheckAccumErrLog
                       ? read_log_lines($ErrLogFile, undef)
                       : read_log_lines($ErrLogFile, \$ErrLogFilePos);
            $lines = $CheckAccumErrLog ? $more : [@$lines, @$more];
        }
    }
    if (defined $stderr) {
        $lines = [@$lines, stderr_lines($stderr, $lines)];
    }

    if (defined $grep_pat) {
        my $matched = '';
        for my $line (@$lines) {
            if (ref $grep_pat ? $line =~ /$grep_pat/ : $line =~ /\Q$grep_pat\E/) {
                my $m = $&;
                $matched .= "$m\n" if $m !~ /\n/;
            }
        }
        my $desc = "$name - grep_error_log_out (req $repeated_req_idx)";
        if (ref $grep_expected && ref $grep_expected eq 'Regexp') {
            Test::More::like($matched, $grep_expected, $desc);
        } elsif ($NoLongString) {
            Test::More::is($matched, $grep_expected, $desc);
        } else {
            Test::LongString::is_string($matched, $grep_expected, $desc);
        }
    }

    for my $pat (@$want) {
        next if !defined $pat;
        if (grep { line_matches($_, $pat) } @$lines) {
            Test::More::pass("$name - pattern \"$pat\" matches a line in "
                             . "error.log (req $repeated_req_idx)");
        } else {
            Test::More::fail("$name - pattern \"$pat\" should match a line in "
                             . "error.log (req $repeated_req_idx)");
        }
    }

    # one assertion per pattern (the real one emits one failure per matching
    # line, which breaks its own plan; we report the first match + count)
    for my $pat (@$want_none) {
        next if !defined $pat;
        my @hits = grep { line_matches($_, $pat) } @$lines;
        my $p = fmt_str($pat);
        if (@hits) {
            my $ln = fmt_str($hits[0]);
            Test::More::fail("$name - pattern \"$p\" should not match any line "
                             . "in error.log but matches line \"$ln\" "
                             . "(req $repeated_req_idx)"
                             . (@hits > 1 ? " and " . (@hits - 1)
                                            . " more line(s)" : ''));
        } else {
            Test::More::pass("$name - pattern \"$p\" does not match a line in "
                             . "error.log (req $repeated_req_idx)");
        }
    }

    if (!defined $stderr) {
        for my $line (@$lines) {
            if ($line =~ /\[(alert|crit|emerg)\]/ && $warn_level{$1}) {
                warn "WARNING: $name - " . fmt_str($line) . "\n";
            }
        }
    }

    for my $line (@$lines) {
        if ($line =~ /\bAssertion .*?failed\b/) {
            chomp(my $l = $line);
            Test::More::fail("$name - $l");
        }
    }
}

sub check_access_log ($$) {
    my ($block, $repeated_req_idx) = @_;
    my $name = $block->name;
    return if !defined $block->access_log && !defined $block->no_access_log;
    my $lines = access_log_data();

    if (defined $block->access_log) {
        for my $pat (@{ pattern_list($block->access_log) }) {
            next if !defined $pat;
            if (grep { line_matches($_, $pat) } @$lines) {
                Test::More::pass("$name - pattern \"$pat\" matches a line in "
                                 . "access.log (req $repeated_req_idx)");
            } else {
                Test::More::fail("$name - pattern \"$pat\" should match a line "
                                 . "in access.log (req $repeated_req_idx)");
            }
        }
    }
    if (defined $block->no_access_log) {
        for my $pat (@{ pattern_list($block->no_access_log) }) {
            next if !defined $pat;
            my @hits = grep { line_matches($_, $pat) } @$lines;
            my $p = fmt_str($pat);
            if (@hits) {
                Test::More::fail("$name - pattern \"$p\" should not match any "
                                 . "line in access.log but matches line \""
                                 . fmt_str($hits[0])
                                 . "\" (req $repeated_req_idx)");
            } else {
                Test::More::pass("$name - pattern \"$p\" does not match a line "
                                 . "in access.log (req $repeated_req_idx)");
            }
        }
    }
}

1;
