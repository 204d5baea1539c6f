package OicBearer;

# Helpers of the "oic_auth bearer" integration tests (t/bearer.t,
# t/bearer-hostile.t, t/bearer-jwks.t). Load it after OicTest:
#
#   use FindBin; use lib "$FindBin::Bin/inc";
#   use Test::Nginx::Socket 'no_plan';
#   use OicTest;
#   use OicBearer;
#
# Tokens are declared once per file, by name, and minted lazily on first use
# (Test::Base evaluates every "eval" section of every block before the first
# block runs, so a token's exp/nbf/iat are relative to the start of the file):
#
#   tokens(hr => ['b-scopes', { claims => { scp => 'oic_api_HR' } }],   # Entra tenant b-scopes
#          app => ['iam', { scope => 'urn:opc:resource:consumer::all' }], # mock OCI IAM
#          bad => sub { forge('{"alg":"none"}', '{}', '') });         # anything else
#   ... --- more_headers eval
#   main::auth('hr')                 # "Authorization: Bearer <token hr>"
#
# A token whose age matters (expired 20 s ago, valid from 10 min ahead: the
# test would depend on how fast the runner reaches its block) is declared
# with block_tokens(...) instead: the same specs, but every block that uses
# one gets its own, minted just before the block runs (OicTest::later);
# tok(), auth() and claim() of it give placeholders for the block sections.
#
# Every tenant id should belong to one block only (the mock counts JWKS
# fetches per tenant; a tenant's keys change only when a block rotates them).
#
# A block preprocessor, for every block with a --- config:
#   * a first line "# <block name>": each block gets its own nginx (empty zone);
#   * unless http_config defines a zone: "oic_auth_cache_zone oic:1m;" in
#     http_config and "oic_auth_cache oic;" at server level;
#   * "oic_auth_issuer any;" at server level unless the config sets an issuer
#     there (nginx -t requires one for bearer; the blocks that test issuers
#     set theirs in their locations);
#   * unless the config already has them, these locations:
#       = /drive      the mock's load generator (GET /_test/drive, port = this nginx)
#       /ctl/         the mock's control API (POST /ctl/entra/<tid>/rotate ...)
#       = /stats      the mock's counters (GET /_test/stats)
#       = /_errlog    this nginx's error.log (for blocks of several requests,
#                     whose --- error_log checks would apply to every request)
#       = /_ok        200 "ok"
#       = /_echo      200 "<the Authorization header it received>"
#       = /_pid       200 {"sub":"<X-Pid request header>"} (drive counts "subs")
#
# $OicBearer::DefaultConfig / $OicBearer::DefaultRequest, when a file sets
# them, fill in blocks without --- config / --- request.
#
# summary($tid) is a response_body_filters sub: drive answers, /stats and
# /_errlog bodies become short exact lines (see below); others stay as they are.

use strict;
use warnings;

use File::Temp ();
use JSON::PP ();
use OicTest qw(entra_mint iam_mint jwt_decode drive_query);

use Exporter ();
our @ISA    = ('Exporter');
our @EXPORT = qw(tokens block_tokens tok auth claim invalid forge b64u drive ctl summary
                 write_temp openssl_token openssl_key);

my $JSON = JSON::PP->new->utf8->canonical;

our (%Spec, %Minted, %AtRun, $TmpDir);

# a file may set these: the config of blocks without --- config (and without
# --- must_die), the request of blocks without --- request
our ($DefaultConfig, $DefaultRequest);

sub import { OicTest::helper_import(shift, \&_preprocess, @_) }

sub _die {
    my $msg = shift;
    # a failed mint inside an "eval" section would otherwise silently become
    # the section's value (Test::Base returns $@): stop the whole file
    Test::More::BAIL_OUT("OicBearer: $msg");
    die "OicBearer: $msg\n";
}

# tokens(name => [tid, {mint options}] | ['iam', {...}] | sub { ... }, ...)
sub tokens {
    my %s = @_;
    for my $k (keys %s) {
        _die("token $k declared twice") if exists $Spec{$k};
        $Spec{$k} = $s{$k};
    }
}

# block_tokens(name => spec, ...): as tokens(), each block its own token,
# minted when the block runs
sub block_tokens {
    my %s = @_;
    tokens(%s);
    $AtRun{$_} = 1 for keys %s;
}

# the token named $name (minted on first use; a placeholder for a
# block_tokens one)
sub tok {
    my $name = shift;
    return $Minted{$name} if defined $Minted{$name};
    _die("no token named $name") unless defined $Spec{$name};
    return $Minted{$name} = OicTest::later(sub { _mint($name) }) if $AtRun{$name};
    return $Minted{$name} = _mint($name);
}

sub _mint {
    my $name = shift;
    my $s = $Spec{$name};
    my $t = eval {
        if (ref $s eq 'CODE') {
            $s->();
        } elsif ($s->[0] eq 'iam') {
            iam_mint($s->[1] || {})->{token};
        } else {
            entra_mint($s->[0], $s->[1] || {})->{token};
        }
    };
    _die("minting token $name failed: " . ($@ || 'no token')) if !defined $t || $@;
    return $t;
}

# "Authorization: Bearer <token>"; a second argument replaces "Bearer "
sub auth {
    my ($name, $scheme) = @_;
    return 'Authorization: ' . (defined $scheme ? $scheme : 'Bearer ') . tok($name);
}

# a claim (or, with a third argument true, a header field) of a named token
sub claim {
    my ($name, $claim, $header) = @_;
    my $get = sub {
        my ($h, $p) = jwt_decode(OicTest::later_value(tok($name)));
        my $v = $header ? $h->{$claim} : $p->{$claim};
        return ref $v eq 'ARRAY' ? join(' ', @$v) : $v;
    };
    return $AtRun{$name} ? OicTest::later($get) : $get->();
}

# the challenge of an invalid token
sub invalid {
    my ($desc, $realm) = @_;
    $realm = 'oic' unless defined $realm;
    return qq{Bearer realm="$realm", error="invalid_token", error_description="$desc"};
}

sub b64u { return OicTest::b64url(shift) }

# a token from raw parts: forge(header JSON text, payload JSON text, signature bytes)
sub forge {
    my ($h, $p, $sig) = @_;
    return join '.', b64u($h), b64u($p), b64u(defined $sig ? $sig : '');
}

# "GET /drive?..." (see t/mock/README.md)
sub drive { return 'GET /drive?' . drive_query(@_); }

# "POST /ctl/<path>\n<JSON body>" (the mock's control API through nginx)
sub ctl {
    my ($path, $data) = @_;
    return "POST /ctl/$path\n" . $JSON->encode($data || {});
}

# a file in a private temporary directory (for oic_auth_jwks_file)
sub write_temp {
    my ($name, $content) = @_;
    $TmpDir ||= File::Temp::tempdir('oic-bearer-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    my $path = "$TmpDir/$name";
    open my $fh, '>:raw', $path or _die("cannot write $path: $!");
    print $fh $content;
    close $fh;
    return $path;
}

# --------------------------------------------------------------- openssl

sub _run {
    my @cmd = @_;
    my $out = qx{@cmd 2>&1};
    _die("@cmd failed: $out") if $?;
    return $out;
}

# a key pair made with the openssl CLI in the temporary directory:
# openssl_key('p384', 'EC', 'P-384') -> ($private_pem_path, $public_pem_path)
sub openssl_key {
    my ($name, $type, $param) = @_;
    write_temp('.keep', '');
    my ($key, $pub) = ("$TmpDir/$name.key", "$TmpDir/$name.pub");
    my $opt = $type eq 'EC' ? "-pkeyopt ec_paramgen_curve:$param" : "-pkeyopt rsa_keygen_bits:$param";
    _run("openssl genpkey -algorithm $type $opt -out $key");
    _run("openssl pkey -in $key -pubout -out $pub");
    return ($key, $pub);
}

# a JWS signed with a PEM private key by the openssl CLI:
# openssl_token($key_file, 'ES384', {header}, {claims})
sub openssl_token {
    my ($keyfile, $alg, $header, $claims) = @_;
    my ($fam, $bits) = $alg =~ /^(RS|PS|ES)(256|384|512)$/ or _die("alg $alg");
    my $input = b64u($JSON->encode({ alg => $alg, %$header })) . '.' . b64u($JSON->encode($claims));
    my $in = write_temp('signing-input', $input);
    my $sigopt = $fam eq 'PS' ? '-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest' : '';
    my $der = _run("openssl dgst -sha$bits -binary -sign $keyfile $sigopt $in");
    my $sig = $der;
    if ($fam eq 'ES') {
        # DER SEQUENCE { INTEGER r, INTEGER s } -> r || s, each of the curve's size
        my $size = { 256 => 32, 384 => 48, 512 => 66 }->{$bits};
        my @b = unpack 'C*', $der;
        my $i = 1;
        $i += ($b[$i] & 0x80) ? 1 + ($b[$i] & 0x7f) : 1;
        my $raw = '';
        for (1 .. 2) {
            _die("bad ECDSA signature") unless $b[$i] == 2;
            my $len = $b[$i + 1];
            my $int = pack 'C*', @b[$i + 2 .. $i + 1 + $len];
            $int =~ s/^\x00+//;
            $raw .= ("\x00" x ($size - length $int)) . $int;
            $i += 2 + $len;
        }
        $sig = $raw;
    }
    return "$input." . b64u($sig);
}

# --------------------------------------------------------------- summaries

# The module's log messages that the /_errlog summary keeps, in order.
our @LogPatterns = (
    qr/oic_auth: (verifying signature)/,
    qr/oic_auth: (signature already verified \(cache\))/,
    qr/oic_auth: ((?:unknown key id|signature does not verify), refreshing) /,
    qr/oic_auth: ((?:unknown key id|signature does not verify)), "[^"]*" (was fetched less than 60 s ago)/,
    qr/oic_auth: (JWKS "[^"]*" fetched, \d+ keys)/,
    qr/oic_auth: (JWKS "[^"]*" unavailable: .*?; keeping the last good keys, if any)/,
    qr/oic_auth: (no keys: "[^"]*" failed less than \d+ s ago)/,
    qr/oic_auth: (invalid token: .*?)(?:, client: |$)/,
    qr/oic_auth: (token lacks the required scopes "[^"]*")/,
);

# summary($tid) turns
#   a drive answer   into "200:3 401:1 jwks=1" (statuses, then the JWKS
#                    fetches during the run), plus " subs=N" (distinct subs
#                    of the first auth) when the bodies had a sub, or
#                    "fast=401 slow=401 jwks=1" for the slow/fast form;
#   /stats           into "jwks=N" (JWKS fetches of tenant $tid, or of the
#                    IAM JWKS for 'iam'; "jwks=N M" for [$tid1, $tid2]);
#   /_errlog         into the module messages of @LogPatterns, one a line,
#                    with "http://127.0.0.1:<port>" replaced by "URI:";
# and leaves any other body as it is.
sub summary {
    my ($tid) = @_;
    return sub {
        my $b = shift;
        return $b unless defined $b;
        if ($b =~ /\A\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \[/) {
            my $out = '';
            for my $line (split /\n/, $b) {
                for my $p (@LogPatterns) {
                    my @m = $line =~ $p or next;
                    (my $m = join ', ', grep { defined } @m) =~ s{http://127\.0\.0\.1:\d+}{URI:}g;
                    $out .= "$m\n";
                    last;
                }
            }
            return $out;
        }
        my $j = OicTest::json_object($b) or return $b;
        if (exists $j->{statuses}) {
            my $out = join ' ', OicTest::status_counts($j->{statuses});
            $out .= " jwks=$j->{jwks_calls}";
            my $subs = $j->{by_auth} && $j->{by_auth}[0] && $j->{by_auth}[0]{subs};
            $out .= ' subs=' . scalar(keys %$subs) if $subs && %$subs;
            return "$out\n";
        }
        if (exists $j->{fast_status}) {
            return "fast=$j->{fast_status} slow=$j->{slow_status} jwks=$j->{jwks_calls}\n";
        }
        if (exists $j->{jwks} && exists $j->{token}) {
            return 'jwks=' . join(' ', map { ($j->{jwks}{$_} || 0) } @$tid) . "\n" if ref $tid;
            return 'jwks=' . ($j->{jwks}{ defined $tid ? $tid : 'iam' } || 0) . "\n";
        }
        return $b;
    };
}

# --------------------------------------------------------------- preprocessor

our $Locations = <<'_EOC_';

    location /ctl/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_IAM_PORT/_test/;
    }
    location = /stats {
        proxy_pass http://127.0.0.1:$TEST_NGINX_IAM_PORT/_test/stats;
    }
    location = /_errlog {
        alias logs/error.log;
        default_type text/plain;
    }
    location = /_ok {
        return 200 "ok";
    }
    location = /_echo {
        return 200 "$http_authorization";
    }
    location = /_pid {
        default_type application/json;
        return 200 '{"sub":"$http_x_pid"}';
    }
_EOC_

# [qr/the block has it/, text] of each location above, and /drive
my @Locations = (OicTest::drive_location('t/inc/OicBearer.pm', 'pid=$pid&'),
                 map { /location (=?\s*\S+)/ ? [qr/location\s+\Q$1\E\s*\{/, $_] : () }
                 split /(?=\n    location )/, $Locations);

sub _preprocess {
    my $block = shift;
    $block->set_value('request', $DefaultRequest)
        if defined $DefaultRequest && !defined $block->request;
    $block->set_value('config', $DefaultConfig)
        if defined $DefaultConfig && !defined $block->config && !defined $block->must_die;
    return unless defined $block->config;
    my $http = $block->http_config;
    $http = '' unless defined $http;
    # nginx -t wants an issuer: "any" unless the block names one
    my $head = $block->config =~ /^    oic_auth_issuer\b/m ? '' : "    oic_auth_issuer any;\n";
    if ($http !~ /oic_auth_cache_zone/) {
        $block->set_value('http_config', "    oic_auth_cache_zone oic:1m;\n$http");
        $head .= "    oic_auth_cache oic;\n";
    }
    $block->set_value('config', OicTest::block_config($block, $head, @Locations));
}

1;
