# Self-test of the t/lib Test::Nginx::Socket runner: master_on() + workers(),
# no_shuffle() and a block without "--- config" reusing the running nginx.
#
#   prove -I t/lib t/selftest/master.t

use Test::Nginx::Socket;

master_on();
workers(2);
no_shuffle();

# nginx processes whose parent is $ppid
sub nginx_children {
    my ($ppid) = @_;
    my @kids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $in, '<', $stat or next;
        my $line = <$in>;
        close $in;
        next if !defined $line;
        if ($line =~ /^(\d+) \((.*)\) \S+ (\d+)/s && $2 eq 'nginx' && $3 == $ppid) {
            push @kids, $1;
        }
    }
    return @kids;
}

my %masters;

# one extra assertion per request for blocks with "--- check_workers: N"
add_response_body_check(sub {
    my ($block, $body, $req_idx, $repeated_req_idx, $dry_run) = @_;
    my $n = $block->check_workers;
    return if !defined $n;

    my $name = $block->name;
    my $pidfile = server_root() . '/logs/nginx.pid';
    open my $in, '<', $pidfile or do {
        fail("$name - cannot open $pidfile: $!");
        return;
    };
    chomp(my $master = <$in>);
    close $in;
    $masters{$master} = 1;

    my @kids = nginx_children($master);
    my ($worker) = ($body // '') =~ /worker=(\d+)/;
    ok(@kids == $n && defined $worker && grep({ $_ == $worker } @kids),
       "$name - master $master has $n worker children (@kids), "
       . "request served by one of them (" . ($worker // 'none') . ")");
});

plan tests => repeat_each() * (3 + 3 + 3) + 1;

run_tests();

# TEST 2 has no config, so it must have been served by TEST 1's master
is(scalar(keys %masters), 2, "TEST 1 and TEST 2 share one master, TEST 3 has its own");

__DATA__

=== TEST 1: master + 2 workers (status, body, check_workers => 3)
--- config
    location = /t {
        return 200 "worker=$pid\n";
    }
--- request
GET /t
--- response_body_like: ^worker=\d+$
--- check_workers: 2



=== TEST 2: no --- config: the nginx of TEST 1 is reused (status, body, check_workers => 3)
--- request
GET /t
--- response_body_like: ^worker=\d+$
--- check_workers: 2



=== TEST 3: workers(2) with an explicit error_code (status, body, check_workers => 3)
--- config
    location = /t {
        return 201 "worker=$pid\n";
    }
--- request
GET /t
--- error_code: 201
--- response_body_like: ^worker=\d+$
--- check_workers: 2
