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

sub import { OicTest::helper_import(shift, \&_preprocess, @_) }

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

sub summary_filter {
    my $ord = OicTest::numbering();

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
        my $j = OicTest::json_object($body);

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
                my @out = (OicTest::status_counts($st), 'iam=' . $JSON->encode($j->{token_calls}));
                my ($jti, $h) = OicTest::sample_summary($j, $ord, 'x-cache-status');
                push @out, $jti if defined $jti;
                push @out, "cache=$h->{'x-cache-status'}" if defined $h->{'x-cache-status'};
                # per credential, when the statuses are mixed
                my $ba = $j->{by_auth} || [];
                if (@$ba > 1 && keys %$st > 1) {
                    for my $i (0 .. $#$ba) {
                        my $x = $ba->[$i];
                        push @out, "auth$i(" . join(' ',
                            OicTest::status_counts($x->{statuses}),
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

        return OicTest::title_or_body($body);
    };
}

my @Locations = (OicTest::drive_location('t/inc/OicBasic.pm'));

sub _preprocess {
    my $block = shift;
    $block->set_value('config', OicTest::block_config($block, '', @Locations))
        if defined $block->config;
    $block->set_value('response_body_filters', summary_filter())
        unless defined $block->response_body_filters;
}

1;
