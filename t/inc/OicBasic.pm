package OicBasic;

# Helpers of the "oic_auth basic" integration tests (t/basic.t,
# t/basic-workers.t). Load it after OicTest:
#
#   use FindBin; use lib "$FindBin::Bin/inc";
#   use Test::Nginx::Socket 'no_plan';
#   use OicTest;
#   use OicBasic;
#
# What it adds to every block (a block preprocessor):
#
# * a first config line "# <block name>": every block has its own nginx,
#   hence an empty cache, even with TEST_NGINX_FORCE_RESTART_ON_TEST=0;
#
# * "location = /drive" (with "oic_auth off"), the mock's load generator
#   reached through nginx (GET /_test/drive of t/mock/idp.js, with port= this
#   nginx), unless the block's config already has one;
#
# * a fresh "summary" response_body_filters (unless the block sets its own),
#   so that --- response_body can compare exact, short lines:
#     - a mock OIC echo  -> "sub=<sub> scope=<scope> jti=#<n>"
#         (#n numbers the distinct token ids seen in this block, in order of
#         appearance, so "jti=#1" twice means the same token was reused;
#         " cache=<X>" is appended when the request carried X-Cache-Status;
#         " token=forwarded" when the request carried X-Token and it is the
#         very token OIC received)
#     - a /drive report -> "<status>:<count> ... iam=<token calls>"
#         (iam: IAM token calls during the drive, of the client= given, or
#         of all clients; plus " jti=#a,#b" for the tokens seen in the (at
#         most 5) sample bodies, and
#         " cache=MISS,WAIT" for the X-Cache-Status values seen, and, when
#         several credentials gave different statuses, one
#         " authN(<status>:<count> sub=<sub>:<count> jtis=<n>)" per credential);
#         the slow_path/fast_path form gives
#         "fast=<st> slow=<st> fast_before_slow=<bool> fast_under_1s=<bool> iam=<n>"
#     - a mock token_log -> "last: <method> <content type> <auth method>
#         grant_type=<...> scope=<...> status=<...>"
#     - an nginx error page -> its <title>, e.g. "401 Authorization Required"
#     - anything else is left as it is.
#
# Block sections are evaluated by Test::Base in its own package: call the
# helpers as main::auth(...) etc.

use strict;
use warnings;

use JSON::PP ();
use OicTest qw(basic_auth client_secret drive_query jwt_decode);

use Exporter ();
our @ISA    = ('Exporter');
our @EXPORT = qw(auth auth_hdr drive summary_filter);

my $JSON = JSON::PP->new->utf8->canonical;

sub import {
    my $class = shift;
    _register_preprocessor();
    $class->export_to_level(1, $class, @_);
}

# The Authorization value of a client of clients.json (its real secret unless
# one is given), encoded as RFC 6749 2.3.1 asks.
sub auth {
    my ($id, $secret) = @_;
    $secret = client_secret($id) if @_ < 2;
    return basic_auth($id, $secret);
}

sub auth_hdr { return 'Authorization: ' . auth(@_) }

# "GET /drive?..." for --- request; bodies=1 unless given.
sub drive {
    my %a = (bodies => 1, @_);
    return 'GET /drive?' . drive_query(%a);
}

sub _decode {
    my $s = shift;
    return undef unless defined $s && $s =~ /^\s*\{/;
    my $j = eval { $JSON->decode($s) };
    return ref $j eq 'HASH' ? $j : undef;
}

sub summary_filter {
    my %seen;
    my $ord = sub {
        my $jti = shift;
        $seen{$jti} = 1 + scalar(keys %seen) unless exists $seen{$jti};
        return $seen{$jti};
    };

    my $echo = sub {
        my $j = shift;
        return undef unless defined $j->{jti} && defined $j->{sub} && exists $j->{path};
        my $s = "sub=$j->{sub} scope=$j->{scope} jti=#" . $ord->($j->{jti});
        my $h = $j->{headers} || {};
        $s .= " cache=$h->{'x-cache-status'}" if defined $h->{'x-cache-status'};
        if (defined $h->{'x-token'}) {
            my (undef, $p) = eval { jwt_decode($h->{'x-token'}) };
            $s .= ($p && defined $p->{jti} && $p->{jti} eq $j->{jti}
                   && $p->{sub} eq $j->{sub}) ? ' token=forwarded' : ' token=OTHER';
        }
        return $s;
    };

    return sub {
        my $body = shift;
        my $j = _decode($body);

        if ($j) {
            my $e = $echo->($j);
            return $e if defined $e;

            if (exists $j->{fast_before_slow}) {
                return join ' ', "fast=$j->{fast_status}", "slow=$j->{slow_status}",
                    'fast_before_slow=' . ($j->{fast_before_slow} ? 'true' : 'false'),
                    'fast_under_1s=' . ($j->{fast_ms} < 1000 ? 'true' : 'false'),
                    'iam=' . $JSON->encode($j->{token_calls});
            }

            if ($j->{statuses}) {
                my $st = $j->{statuses};
                my @out = map { "$_:$st->{$_}" } sort keys %$st;
                push @out, 'iam=' . $JSON->encode($j->{token_calls});
                my (%jti, %cache);
                for my $b (@{ $j->{sample_bodies} || [] }) {
                    my $x = _decode($b) or next;
                    next unless defined $x->{jti} && exists $x->{path};
                    $jti{ $ord->($x->{jti}) } = 1;
                    my $c = ($x->{headers} || {})->{'x-cache-status'};
                    $cache{$c} = 1 if defined $c;
                }
                push @out, 'jti=' . join(',', map { "#$_" } sort { $a <=> $b } keys %jti) if %jti;
                push @out, 'cache=' . join(',', sort keys %cache) if %cache;
                # per credential, when the statuses are mixed
                my $ba = $j->{by_auth} || [];
                if (@$ba > 1 && keys %$st > 1) {
                    for my $i (0 .. $#$ba) {
                        my $x = $ba->[$i];
                        push @out, "auth$i(" . join(' ',
                            (map { "$_:$x->{statuses}{$_}" } sort keys %{ $x->{statuses} }),
                            (map { "sub=$_:$x->{subs}{$_}" } sort keys %{ $x->{subs} }),
                            "jtis=$x->{jtis_distinct}") . ')';
                    }
                }
                return join ' ', @out;
            }

            if (exists $j->{calls} && ref $j->{calls} eq 'ARRAY' && exists $j->{client}) {
                my $c = $j->{calls};
                return 'no calls' unless @$c;
                my $l = $c->[-1];
                return join ' ', 'last:',
                    map { defined $_ ? $_ : '-' }
                    $l->{method}, $l->{content_type}, $l->{auth_method},
                    'grant_type=' . ($l->{grant_type} // '-'),
                    'scope=' . ($l->{scope} // '-'),
                    'status=' . ($l->{status} // '-');
            }
        }

        return $1 if defined $body && $body =~ m{<title>(.*?)</title>}s;
        return $body;
    };
}

my $DriveLocation = <<'_EOC_';

    # added by t/inc/OicBasic.pm: the mock's load generator, through nginx
    location = /drive {
        oic_auth off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_IAM_PORT/_test/drive?port=$TEST_NGINX_SERVER_PORT&$args;
        proxy_read_timeout 60s;
    }
_EOC_

sub _register_preprocessor {
    our $Registered;
    return if $Registered;
    $Registered = 1;
    Test::Nginx::Socket::add_block_preprocessor(sub {
        my $block = shift;
        my $config = $block->config;
        if (defined $config) {
            # the block's name makes every configuration distinct, so that
            # nginx (and its cache) is always restarted between blocks
            (my $name = $block->name) =~ s/[\r\n]+/ /g;
            $config = "    # $name\n$config";
            $config .= $DriveLocation if $config !~ /location\s+=\s*\/drive\b/;
            $block->set_value('config', $config);
        }
        if (!defined $block->response_body_filters) {
            $block->set_value('response_body_filters', summary_filter());
        }
    });
}

1;
