package OicExchange;

# Helpers of the "oic_auth exchange" and mixed-mode integration tests
# (t/exchange.t, t/exchange-workers.t, t/exchange-config.t, t/mixed.t).
# Load it after OicTest:
#
#   use FindBin; use lib "$FindBin::Bin/inc";
#   use Test::Nginx::Socket 'no_plan';
#   use OicTest;
#   use OicExchange;
#
# At import: writes the gateway's secret files into a private directory,
# exported as $TEST_NGINX_XSECRETS (configs: oic_auth_client_secret_file
# $TEST_NGINX_XSECRETS/exchange-app;):
#   exchange-app        its secret + "\n" (the module strips a trailing newline)
#   exchange-app2, exchange-slow-app    their secrets
#   wrong               a secret IAM does not know for any client
#   empty               an empty file;  newline: only "\n"
#
# A block preprocessor adds to every block that has a --- config:
#   * a first line "# <block name>": every block gets its own nginx, hence an
#     empty cache, even with TEST_NGINX_FORCE_RESTART_ON_TEST=0;
#   * "oic_auth_issuer any;" at server level unless the config sets an issuer
#     there (nginx -t requires one for exchange; the blocks that test issuers
#     set theirs in their locations);
#   * unless the config has them already:
#       location = /drive    the mock's load generator (GET /_test/drive of
#                            t/mock/idp.js, port = this nginx): per-run deltas
#                            of IAM token calls (total and per user) and of
#                            mock OIC calls;
#       location /mock/      the mock's control API (/_test/...), e.g.
#                            POST /mock/iam/behavior, GET /mock/token_log?client=;
#       location ~ ^/(capture|vars)\.log$   servroot/logs/capture.log, written
#                            by a "location = /capture/token" a block may
#                            define with "access_log logs/capture.log capture;"
#                            (the log_format "capture" is added to
#                            http_config), and logs/vars.log, for a block's
#                            own access_log (portable: no --- access_log);
#   * a "summary" response_body_filters (unless the block sets its own) that
#     turns bodies into short exact lines, see summary_filter() below.
#
# Block sections are evaluated by Test::Base in its own package: call the
# helpers as main::etoken(...) etc. (they are exported to main).
#
# etoken() mints when it is called, i.e. when Test::Base evaluates the
# section, before the first block runs; block_etoken() (same arguments) gives
# a placeholder and mints when its block runs (OicTest::later): for a token
# whose age matters (expired 30 s ago within a 60 s leeway).

use strict;
use warnings;

use File::Temp ();
use File::Spec;
use JSON::PP ();
use MIME::Base64 qw(decode_base64);
use Time::HiRes ();
use OicTest qw(client_secret drive_query jwt_decode entra_mint basic_auth);

use Exporter ();
our @ISA    = ('Exporter');
our @EXPORT = qw(etoken block_etoken bearer_hdr xdrive summary_filter);

my $JSON = JSON::PP->new->utf8->canonical;

our ($SecretDir, %Minted, %CertX5t);

sub import {
    _write_secrets();
    OicTest::helper_import(shift, \&_preprocess, @_);
}

# ------------------------------------------------------------------ secrets

sub _write_file {
    my ($path, $content) = @_;
    open my $fh, '>:raw', $path or die "OicExchange: cannot write $path: $!\n";
    print $fh $content;
    close $fh or die "OicExchange: cannot write $path: $!\n";
}

sub _write_secrets {
    return if $SecretDir;
    $SecretDir = File::Temp::tempdir('oic-xsecrets-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    for my $c (qw(exchange-app exchange-app2 exchange-slow-app)) {
        my $s = client_secret($c);
        utf8::encode($s) if utf8::is_utf8($s);
        _write_file("$SecretDir/$c", $s . ($c eq 'exchange-app' ? "\n" : ''));
    }
    _write_file("$SecretDir/wrong", "wrong-s3cr3t-for-the-gateway\n");
    _write_file("$SecretDir/empty", '');
    _write_file("$SecretDir/newline", "\n");
    $ENV{TEST_NGINX_XSECRETS} = $SecretDir;
}

# ------------------------------------------------------------------ tokens

# An Entra-like token of tenant $tid (a fresh tenant per block keeps blocks
# independent): etoken('t-x', ver => '1.0', user => 'bob@example.com', exp_in => -600, ...)
# Every option of the mock's mint is accepted. The token is remembered so
# that the capture summary can name it ("subject_token=t-x:v1:bob@example.com").
sub etoken {
    my ($tid, %o) = @_;
    my $m = entra_mint($tid, \%o);
    my $c = $m->{claims} || {};
    my $user = $c->{upn} // $c->{preferred_username} // $c->{unique_name} // '-';
    my $ver = ($c->{ver} // '2.0') =~ /^1/ ? 'v1' : 'v2';
    $Minted{ $m->{token} } = "$tid:$ver:$user";
    return $m->{token};
}

# etoken(...) minted when the block that holds it runs (a placeholder until then)
sub block_etoken {
    my @a = @_;
    return OicTest::later(sub { etoken(@a) });
}

# "Authorization: Bearer <etoken(...)>" for --- more_headers eval
sub bearer_hdr { return 'Authorization: Bearer ' . etoken(@_); }

# "GET /drive?..." for --- request eval (bodies=1 unless given)
sub xdrive {
    my %a = (bodies => 1, @_);
    return 'GET /drive?' . drive_query(%a);
}

# ------------------------------------------------------------------ summaries

sub _certs { return $ENV{TEST_NGINX_CERTS}; }

# x5t (base64url SHA-1 of the DER certificate) of a PEM file of build/certs
sub _x5t {
    my $name = shift;
    return $CertX5t{$name} if exists $CertX5t{$name};
    require Digest::SHA;
    my $pem = do { local (@ARGV, $/) = (_certs() . "/$name"); <> };
    my ($b64) = $pem =~ /-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----/s;
    return $CertX5t{$name} = OicTest::b64url(Digest::SHA::sha1(decode_base64($b64)));
}

# which certificate of build/certs verifies an RS256 JWS (openssl CLI)
sub _verified_by {
    my ($jwt) = @_;
    my ($h, $p, $s) = split /\./, $jwt, -1;
    my $sig = OicTest::b64url_decode($s);
    return 'UNDECODABLE' unless defined $sig;
    my $dir = File::Temp::tempdir(CLEANUP => 1);
    _write_file("$dir/in", "$h.$p");
    _write_file("$dir/sig", $sig);
    for my $cert (qw(assertion.pem unknown-assertion.pem)) {
        system("openssl x509 -in " . _certs() . "/$cert -pubkey -noout > $dir/pub.pem 2>/dev/null") == 0
            or return 'NO-OPENSSL';
        my $out = `openssl dgst -sha256 -verify $dir/pub.pem -signature $dir/sig $dir/in 2>&1`;
        return $cert if $out =~ /Verified OK/;
    }
    return 'NONE';
}

sub _form_decode {
    my $s = shift;
    $s =~ tr/+/ /;
    $s =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
    return $s;
}

my %GRANT = (
    'urn:ietf:params:oauth:grant-type:jwt-bearer'     => 'jwt-bearer',
    'urn:ietf:params:oauth:grant-type:token-exchange' => 'token-exchange',
    'client_credentials'                              => 'client_credentials',
);

sub _scope_name {
    my $s = shift;
    return '-' unless defined $s;
    return 'OIC' if $s eq ($OicTest::OIC_SCOPE // '');
    return 'OIC_API' if $s eq ($OicTest::OIC_SCOPE_API // '');
    return $s;
}

# One line per token request that "location = /capture/token" saw:
#   <content type> auth=<client>/<secret ok|WRONG|...> grant=<grant> scope=<OIC|...>
#   params=<sorted names> then, for jwt-bearer,
#   | <alg typ kid x5t of the assertion header, all members>
#   | sub= iss= aud= life=<exp-iat> iat=<now|off by N> jti=<random|...> sig=<cert that verifies it>
#   (the claim members must be exactly aud exp iat iss jti sub)
#   and, for token-exchange, subject_token=<tenant:ver:user of a token this
#   test minted, or UNKNOWN> subject_token_type= requested_token_type=
sub _capture_line {
    my ($line, $jtis) = @_;
    my ($ctype, $auth, $body) = split /\|/, $line, 3;
    return "unparsable: $line" unless defined $body;
    my @out = ($ctype);

    if ($auth =~ /^Basic (\S+)$/) {
        my $dec = decode_base64($1);
        my ($id, $secret) = map { _form_decode($_) } split /:/, $dec, 2;
        $id //= '';
        my $known = eval { client_secret($id) };
        if (defined $known) { utf8::encode($known) if utf8::is_utf8($known); }
        my $st = !defined $secret ? 'NO-SECRET'
               : defined $known && $secret eq $known ? 'secret-ok'
               : $secret eq 'wrong-s3cr3t-for-the-gateway' ? 'secret-wrong' : 'secret-OTHER';
        # exactly what a correct client sends (RFC 6749 2.3.1 encoding)
        $st .= '(encoding-differs)' if defined $known && $auth ne basic_auth($id, $known) && $st eq 'secret-ok';
        push @out, "auth=$id/$st";
    } else {
        push @out, 'auth=' . ($auth eq '-' || $auth eq '' ? 'none' : 'OTHER');
    }

    my (%p, @names);
    for my $kv (split /&/, $body) {
        my ($k, $v) = split /=/, $kv, 2;
        $k = _form_decode($k);
        push @names, $k;
        $p{$k} = defined $v ? _form_decode($v) : '';
    }
    push @out, 'grant=' . ($GRANT{ $p{grant_type} // '' } // $p{grant_type} // '-');
    push @out, 'scope=' . _scope_name($p{scope});
    push @out, 'params=' . join(',', sort @names);

    if (defined $p{assertion}) {
        my $a = $p{assertion};
        my @parts = split /\./, $a, -1;
        my ($h, $c) = eval { jwt_decode($a) };
        if (@parts != 3 || !$h || !$c) {
            push @out, '| assertion=UNDECODABLE';
        } else {
            my %hh = %$h;
            $hh{x5t} = 'x5t(' . ($hh{x5t} eq _x5t('assertion.pem') ? 'assertion.pem'
                               : $hh{x5t} eq _x5t('unknown-assertion.pem') ? 'unknown-assertion.pem'
                               : $hh{x5t}) . ')' if defined $hh{x5t};
            push @out, '| ' . join(' ', map { "$_=$hh{$_}" } sort keys %hh);
            my %cc = %$c;
            my $now = time;
            my @cl;
            utf8::encode($cc{sub}) if defined $cc{sub} && !ref $cc{sub};
            push @cl, "sub=" . ($cc{sub} // '-'), "iss=" . ($cc{iss} // '-'),
                      "aud=" . (ref $cc{aud} ? $JSON->encode($cc{aud}) : $cc{aud} // '-');
            push @cl, 'life=' . ((defined $cc{exp} && defined $cc{iat}) ? $cc{exp} - $cc{iat} : '-');
            push @cl, 'iat=' . (defined $cc{iat} && $cc{iat} =~ /^\d+$/ && abs($cc{iat} - $now) <= 5
                                ? 'now' : 'OFF(' . ($cc{iat} // '-') . ')');
            my $jti = $cc{jti} // '';
            my $jst = $jti =~ /^[A-Za-z0-9_-]{16,}$/ ? 'random' : "BAD($jti)";
            $jst = 'REUSED' if $jti ne '' && $jtis->{$jti}++;
            push @cl, "jti=$jst";
            push @cl, 'claims=' . join(',', sort keys %cc);
            push @cl, 'sig=' . _verified_by($a);
            push @out, '| ' . join(' ', @cl);
        }
    }
    if (defined $p{subject_token}) {
        push @out, 'subject_token=' . ($Minted{ $p{subject_token} } // 'UNKNOWN');
    }
    for my $k (qw(subject_token_type requested_token_type)) {
        push @out, "$k=$p{$k}" if defined $p{$k};
    }
    return join ' ', @out;
}

# The default response_body_filters: short exact lines.
#   - a mock OIC echo -> "sub=<sub> type=<sub_type> client=<client_id>
#       scope=<scope> jti=#<n>" plus " body=<length>:<sha256 prefix>" when
#       OIC received a body, plus " <x-header>=<value>" for every X-*
#       request header OIC received (sorted); X-Token is shown as
#       "x-token=forwarded" when it is the very token OIC received, X-Jti as
#       "x-jti=same" when it is the id of the token OIC received.
#       #n numbers the distinct token ids of the block in order of
#       appearance ("jti=#1" twice = the same IAM token reused).
#   - a /drive report -> "<status>:<count> ... iam=<token calls>
#       users=<user>:<calls>,...|none oic=<calls to the mock OIC>"
#       then, per Authorization value given, " a<i>(<status>:<count> ...
#       <sub>:<count> ... jtis=<distinct>)", then " cache=<X-Cache values
#       seen in sample bodies>" when the config sets X-Cache, and
#       " jti=#a,#b" for the IAM tokens seen in the sample bodies (numbered
#       as for the echo), and " jwks=<JWKS fetches>" when there were any,
#       and " bodies=<distinct bodies>" when the echo carries X-Pid (with
#       nothing else varying, the number of workers that answered).
#   - POST /mock/iam/behavior -> "behavior <client>=<JSON>" 
#   - GET /capture.log -> one _capture_line per token request, "\n"-joined
#   - a mock token_log -> "last: grant=... user=... scope=... auth=... status=... error=..."
#   - an nginx error page -> its <title>
#   - anything else is left as it is
sub summary_filter {
    my %jtis;
    my $ord = OicTest::numbering();

    my $echo = sub {
        my $j = shift;
        return undef unless defined $j->{jti} && defined $j->{sub} && exists $j->{path};
        # claims as UTF-8 bytes; header values arrive as one char per byte
        my %c = map { my $v = $j->{$_} // '-'; utf8::encode($v); ($_ => $v) } qw(sub sub_type client_id scope);
        my $s = "sub=$c{sub} type=$c{sub_type} client=$c{client_id} scope=$c{scope} jti=#" . $ord->($j->{jti});
        $s .= " body=$j->{body_length}:" . substr($j->{body_sha256} // '', 0, 16) if $j->{body_length};
        my $h = $j->{headers} || {};
        for my $k (sort grep { /^x-/ } keys %$h) {
            my $v = $h->{$k};
            utf8::downgrade($v, 1);
            if ($k eq 'x-token') {
                my (undef, $p) = eval { jwt_decode($v) };
                $v = ($p && defined $p->{jti} && $p->{jti} eq $j->{jti}) ? 'forwarded' : 'OTHER';
            } elsif ($k eq 'x-jti') {
                $v = 'same' if $v eq $j->{jti};
            }
            $s .= " $k=$v";
        }
        return $s;
    };

    return sub {
        my $body = shift;

        if (defined $body && $body =~ /^[^\s|]*\|(?:Basic|Bearer|-)/m && $body !~ /^\s*[\{<]/) {
            my @lines = grep { length } split /\n/, $body;
            return join("\n", map { _capture_line($_, \%jtis) } @lines) . "\n";
        }

        my $j = OicTest::json_object($body);
        if ($j) {
            my $e = $echo->($j);
            return $e if defined $e;

            if ($j->{statuses}) {
                my @out = (OicTest::status_counts($j->{statuses}), 'iam=' . $JSON->encode($j->{token_calls}));
                my $u = $j->{user_calls} || {};
                my @u = map { my $n = $_; utf8::encode($n); "$n:$u->{$_}" } sort keys %$u;
                push @out, 'users=' . (@u ? join(',', @u) : 'none');
                push @out, "oic=$j->{oic_calls}";
                push @out, "jwks=$j->{jwks_calls}" if $j->{jwks_calls};
                my $ba = $j->{by_auth} || [];
                for my $i (0 .. $#$ba) {
                    my $x = $ba->[$i];
                    push @out, "a$i(" . join(' ',
                        OicTest::status_counts($x->{statuses}),
                        (map { my $u = $_; utf8::encode($u); "$u:$x->{subs}{$_}" } sort keys %{ $x->{subs} }),
                        "jtis=$x->{jtis_distinct}") . ')';
                }
                my ($jti, $h) = OicTest::sample_summary($j, $ord, 'x-cache', 'x-pid');
                push @out, $jti if defined $jti;
                push @out, "cache=$h->{'x-cache'}" if defined $h->{'x-cache'};
                push @out, "bodies=$j->{bodies_distinct}" if defined $h->{'x-pid'};
                return join ' ', @out;
            }

            if (exists $j->{behavior} && exists $j->{client} && keys %$j == 2) {
                return "behavior $j->{client}=" . $JSON->encode($j->{behavior});
            }

            if (exists $j->{calls} && ref $j->{calls} eq 'ARRAY' && exists $j->{client}) {
                my $c = $j->{calls};
                return 'no calls' unless @$c;
                my $l = $c->[-1];
                return join ' ', 'last:',
                    'grant=' . ($GRANT{ $l->{grant_type} // '' } // $l->{grant_type} // '-'),
                    'user=' . do { my $u = $l->{user} // '-'; utf8::encode($u); $u },
                    'scope=' . _scope_name($l->{scope}),
                    'auth=' . ($l->{auth_method} // '-'),
                    'status=' . ($l->{status} // '-'),
                    'error=' . ($l->{error} // '-');
            }
            return $body;
        }

        return OicTest::title_or_body($body);
    };
}

# ------------------------------------------------------------------ preprocessor

my $HttpConfig = <<'_EOC_';

    # added by t/inc/OicExchange.pm: what "location = /capture/token" logs
    log_format capture escape=none '$content_type|$http_authorization|$request_body';
_EOC_

my @Locations = (
    [qr{location\s+(?:=\s*/capture\.log\b|~\s*\^/\(\?:capture)}, <<'_EOC_'],

    # added by t/inc/OicExchange.pm: the token requests /capture/token saw,
    # and logs/vars.log (for a block's own access_log)
    location ~ ^/(?:capture|vars)\.log$ {
        oic_auth off;
        root logs;
        default_type text/plain;
    }
_EOC_
    OicTest::drive_location('t/inc/OicExchange.pm'),
    [qr/location\s+\/mock\//, <<'_EOC_'],

    # added by t/inc/OicExchange.pm: the mock's control API
    location /mock/ {
        oic_auth off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_IAM_PORT/_test/;
    }
_EOC_
);

sub _preprocess {
    my $block = shift;
    if (defined $block->config) {
        # nginx -t wants an issuer: "any" unless the block names one
        my $iss = $block->config =~ /^    oic_auth_issuer\b/m ? '' : "    oic_auth_issuer any;\n";
        $block->set_value('config', OicTest::block_config($block, $iss, @Locations));
        if (!defined $block->must_die) {
            my $hc = $block->http_config // '';
            $block->set_value('http_config', $hc . $HttpConfig) if $hc !~ /log_format\s+capture\b/;
        }
    }
    $block->set_value('response_body_filters', summary_filter())
        unless defined $block->response_body_filters;
}

1;
