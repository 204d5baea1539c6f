package OicIam;

# Helpers of the tests of IAM's protection (t/iam-refresh.t, t/iam-guard.t,
# issue #9). Load it after OicTest and OicBasic:
#
#   use FindBin; use lib "$FindBin::Bin/inc";
#   use Test::Nginx::Socket 'no_plan';
#   use OicTest;
#   use OicBasic;
#   use OicIam;
#
# Time is observed, not slept: a paced drive (the mock starts a request every
# interval_ms, whatever the others do) reports what each request got, in
# order, and when IAM's token calls came; checks look at the order of the
# answers and at bounds far from the noise.
#
# What it adds to every block with a --- config (a block preprocessor, after
# OicBasic's): "location = /_errlog" (this nginx's error.log, without
# oic_auth), unless the config has one. $TEST_NGINX_XDIR holds the secret
# file of exchange-app2 (for oic_auth_client_secret_file).
#
# Block sections are evaluated by Test::Base in its own package: call the
# helpers as main::short(...) etc.

use strict;
use warnings;

use File::Temp ();
use JSON::PP ();
use OicTest qw(iam_behavior client_secret);
use OicBasic ();

use Exporter ();
our @ISA    = ('Exporter');
our @EXPORT = qw(short paced filter);

my $JSON = JSON::PP->new->utf8->canonical;

sub import {
    my $class = shift;
    _secrets();
    _register_preprocessor();
    $class->export_to_level(1, $class, @_);
}

sub _secrets {
    return if $ENV{TEST_NGINX_XDIR};
    my $dir = File::Temp::tempdir('oic-iam-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    open my $fh, '>', "$dir/exchange-app2" or die "OicIam: $dir: $!\n";
    print $fh client_secret('exchange-app2'), "\n";
    close $fh;
    $ENV{TEST_NGINX_XDIR} = $dir;
}

# A client's answers from now on (its call count starts over): $first for
# its first call, $then for the next ones (e.g. a failure), or $first for
# all of them when $then is not given.
sub short {
    my ($client, $first, $then) = @_;
    iam_behavior($client, { %$first, $then ? (after => { calls => 1, then => $then }) : () },
                 reset_calls => JSON::PP::true());
}

# "GET /drive?..." reporting each request's answer in order (timeline) and
# the times of the token calls of the client= clients (token_times).
sub paced {
    return OicBasic::drive(path => '/api', timeline => 1, token_times => 1, bodies => 0, @_);
}

# A paced drive's answer as one line:
#   runs=     the answers in order, runs of equal ones: "MISS#1x1 HIT#1x7
#             UPDATING#1x3 HIT#2x8" (a 200: its cache status and the order
#             of appearance of its token; others "502/-/iam_unavailable":
#             status, cache status, $oic_auth_error)
#   iam=      token calls of the client= clients during the run
#   fast=     yes when every answer served from the cache while a refresh
#             ran or had failed (UPDATING, STALE) took less than $fast_ms
#   end=      ms from the start to the first answer that is not 200
#   gaps=     ms between one token call and the next
#   retry=    the Retry-After values of the answers that had one, distinct
#   inflight= the most token calls in flight at once during the run
sub _timeline {
    my ($j, $fast_ms, $counts) = @_;
    return _counts($j) if $counts;
    my (%ord, %retry, @runs, $end);
    my $fast = 'yes';
    for my $e (@{ $j->{timeline} }) {
        my ($t, $st, $xc, $xe, $ra, $jti, $ms) = @$e;
        my $tok;
        if ($st eq '200') {
            $ord{$jti} = 1 + keys %ord if defined $jti && !exists $ord{$jti};
            $tok = ($xc // '-') . '#' . (defined $jti ? $ord{$jti} : '?');
            $fast = "no($ms ms)" if defined $xc && $xc =~ /^(?:UPDATING|STALE)$/ && $ms >= $fast_ms;
        } else {
            $tok = join '/', $st, $xc // '-', $xe // '-';
            $end //= $t;
        }
        $retry{$ra} = 1 if defined $ra;
        if (@runs && $runs[-1][0] eq $tok) { $runs[-1][1]++; } else { push @runs, [$tok, 1]; }
    }
    my @calls = map { $_->[0] } @{ $j->{token_times} || [] };
    my @gaps = map { $calls[$_] - $calls[$_ - 1] } 1 .. $#calls;
    my $iam = ref $j->{token_calls} ? $JSON->encode($j->{token_calls}) : $j->{token_calls};
    return join ' ', 'runs=' . join(' ', map { "$_->[0]x$_->[1]" } @runs),
        "iam=$iam", "fast=$fast", 'end=' . ($end // 'none'),
        'gaps=' . (@gaps ? join(',', @gaps) : 'none'),
        'retry=' . (%retry ? join(',', sort { $a <=> $b } keys %retry) : 'none'),
        "inflight=$j->{token_max_inflight}";
}

# A drive of concurrent requests, whose order of arrival at nginx is not
# theirs: the answers counted by kind ("401/MISS/invalid_client=1 ..."),
# then iam=.
sub _counts {
    my ($j) = @_;
    my %n;
    for my $e (@{ $j->{timeline} }) {
        my ($t, $st, $xc, $xe) = @$e;
        $n{ join '/', $st, $xc // '-', $xe // '-' }++;
    }
    return join ' ', (map { "$_=$n{$_}" } sort keys %n), "iam=$j->{token_calls}";
}

# the lines of an error.log body that match $re (the matched part, without
# nginx's ", client: ..." suffix), with entry ids as "K"
sub _errlog {
    my ($b, $re) = @_;
    my $out = '';
    for my $line (split /\n/, $b) {
        next unless $line =~ $re;
        (my $m = $&) =~ s/\(key [0-9a-f]{8}\)/(key K)/g;
        $m =~ s/, client: .*//;
        $out .= "$m\n";
    }
    return $out;
}

# One response_body_filters sub for every request of a block: a paced
# drive's answer (see _timeline; fast => ms, default 1000; counts => 1: see
# _counts), this nginx's
# error.log (the lines matching errlog => qr/.../), anything else as
# t/basic.t shows it (OicBasic's summary: echo lines with jti=#n, drive
# summaries; a drive also gets " jwks=N inflight=N").
sub filter {
    my (%o) = @_;
    my $summary = OicBasic::summary_filter();
    my $errlog = $o{errlog} // qr/(?!)/;
    return sub {
        my $b = shift;
        return $b unless defined $b;
        return _errlog($b, $errlog) if $b =~ /\A\d{4}\/\d\d\/\d\d /;
        my $j = $b =~ /\A\s*\{/ ? eval { $JSON->decode($b) } : undef;
        return _timeline($j, $o{fast} // 1000, $o{counts}) if ref $j eq 'HASH' && $j->{timeline};
        my $s = $summary->($b);
        $s .= " jwks=$j->{jwks_calls} inflight=$j->{token_max_inflight}"
            if ref $j eq 'HASH' && $j->{statuses};
        return $s;
    };
}

my $ErrlogLocation = <<'_EOC_';

    # added by t/inc/OicIam.pm: this nginx's error.log
    location = /_errlog {
        oic_auth off;
        alias logs/error.log;
        default_type text/plain;
    }
_EOC_

sub _register_preprocessor {
    our $Registered;
    return if $Registered;
    $Registered = 1;
    Test::Nginx::Socket::add_block_preprocessor(sub {
        my $block = shift;
        my $config = $block->config;
        return unless defined $config;
        $block->set_value('config', $config . $ErrlogLocation) if $config !~ /location\s+=\s*\/_errlog\b/;
    });
}

1;
