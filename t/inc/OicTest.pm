package OicTest;

# Glue between the Test::Nginx data-driven .t files and the mock services
# (t/mock/idp.js: mock OCI IAM, mock Entra ID issuer, mock OIC backend).
#
#   use FindBin; use lib "$FindBin::Bin/inc";
#   use Test::Nginx::Socket 'no_plan';
#   use OicTest;
#
# At import: makes sure the test PKI exists (build/certs, via
# t/mock/gen-certs.sh), starts one mock process for this .t process, exports
# the TEST_NGINX_* variables below, and registers a block preprocessor that
# gives every block without a main_config "load_module $TEST_NGINX_MODULE;"
# and puts the values made by later() into the block (see below).
#
# Also the parts the helper modules (t/inc/OicBasic.pm, OicBearer.pm,
# OicExchange.pm) share: their import (helper_import), the config lines they
# add to a block (block_config), and the pieces of their response body
# summaries (json_object, numbering, status_counts, sample_summary,
# title_or_body).
#
# Core Perl only (HTTP::Tiny, JSON::PP, IPC::Open2, MIME::Base64).

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Spec;
use HTTP::Tiny;
use IO::Select;
use IPC::Open2 qw(open2);
use JSON::PP ();
use MIME::Base64 qw(encode_base64);
use POSIX qw(WNOHANG);
use Time::HiRes qw(time sleep);

use Exporter ();
our @ISA = ('Exporter');
our @EXPORT = qw(
    basic_auth basic_auth_raw form_urlencode client_secret
    entra_token entra_mint entra_rotate entra_jwks_fault entra_info entra_issuer entra_jwks_uri
    iam_token iam_mint iam_rotate iam_jwks_fault iam_behavior iam_config
    mock_stats mock_token_log mock_get mock_post drive_query jwt_decode
    later
);

our $OIC_SCOPE     = 'https://oic-test.integration.us-phoenix-1.ocp.oraclecloud.com:443urn:opc:resource:consumer::all';
our $OIC_SCOPE_API = 'https://oic-test.integration.us-phoenix-1.ocp.oraclecloud.com:443/ic/api/';
our $OIC_AUDIENCE  = 'https://oic-test.integration.us-phoenix-1.ocp.oraclecloud.com:443';

our ($Root, $MockPid, $MockOwner, $MockIn, $MockOut, %Ports, $Clients);
my $JSON = JSON::PP->new->utf8->canonical;
my $Http;

sub import {
    my $class = shift;
    _start() unless $MockPid;
    _register_preprocessor();
    $class->export_to_level(1, $class, @_);
}

# ------------------------------------------------------------------ start-up

sub _root {
    return $Root if $Root;
    my $here = dirname(abs_path(__FILE__));                   # .../t/inc
    $Root = abs_path(File::Spec->catdir($here, File::Spec->updir, File::Spec->updir));
    return $Root;
}

sub _find_node {
    return $ENV{NODE} if $ENV{NODE} && -x $ENV{NODE};
    return '/usr/bin/node' if -x '/usr/bin/node';
    for my $d (File::Spec->path) {
        my $p = File::Spec->catfile($d, 'node');
        return $p if -x $p;
    }
    die "OicTest: node (Node.js) is not installed; the mock IdP needs it: apt-get install -y nodejs\n";
}

sub _start {
    my $root  = _root();
    my $certs = "$root/build/certs";
    my @need  = qw(ca.pem server.pem server.key other-ca.pem assertion.key assertion.pem
                   unknown-assertion.key unknown-assertion.pem encrypted.key ec.key);
    if (grep { !-s "$certs/$_" } @need) {
        system('bash', "$root/t/mock/gen-certs.sh", $certs) == 0
            or die "OicTest: t/mock/gen-certs.sh $certs failed (exit $?)\n";
    }
    my $clients = $ENV{TEST_NGINX_MOCK_CLIENTS} || "$root/t/mock/clients.json";
    my $node = _find_node();

    my ($out, $in);
    my $pid = eval { open2($out, $in, $node, "$root/t/mock/idp.js", '--certs', $certs,
                           '--clients', $clients, '--exit-on-stdin-eof') };
    die "OicTest: cannot start $node t/mock/idp.js: $@\n" unless $pid;
    ($MockPid, $MockOwner, $MockIn, $MockOut) = ($pid, $$, $in, $out);

    # Read the one line with the ports, 10 s at most.
    my ($buf, $deadline, $sel) = ('', time + 10, IO::Select->new($out));
    while ($buf !~ /\n/) {
        my $left = $deadline - time;
        if ($left <= 0) { _stop(); die "OicTest: t/mock/idp.js did not print its ports within 10 s\n"; }
        if ($sel->can_read($left)) {
            my $n = sysread($out, $buf, 4096, length $buf);
            if (!$n) { _stop(); die "OicTest: t/mock/idp.js exited before printing its ports (see stderr above)\n"; }
        }
    }
    my ($line) = $buf =~ /^(.*?)\n/;
    my $p = eval { JSON::PP::decode_json($line) };
    unless ($p && $p->{iam} && $p->{iams} && $p->{oic}) {
        _stop(); die "OicTest: unexpected first line from t/mock/idp.js: $line\n";
    }
    %Ports = %$p;

    $ENV{TEST_NGINX_IAM_PORT}     = $p->{iam};
    $ENV{TEST_NGINX_IAMS_PORT}    = $p->{iams};
    $ENV{TEST_NGINX_OIC_PORT}     = $p->{oic};
    $ENV{TEST_NGINX_IAM_URL}      = "http://127.0.0.1:$p->{iam}";
    $ENV{TEST_NGINX_IAMS_URL}     = "https://127.0.0.1:$p->{iams}";
    $ENV{TEST_NGINX_OIC_URL}      = "http://127.0.0.1:$p->{oic}";
    $ENV{TEST_NGINX_CERTS}        = $certs;
    $ENV{TEST_NGINX_OIC_SCOPE}    = $OIC_SCOPE;
    $ENV{TEST_NGINX_OIC_SCOPE_API} = $OIC_SCOPE_API;
    $ENV{TEST_NGINX_OIC_AUDIENCE} = $OIC_AUDIENCE;
    $ENV{TEST_NGINX_MOCK_CLIENTS} = $clients;
    $ENV{TEST_NGINX_MODULE}     ||= "$root/build/ngx_http_oic_auth_module.so";

    $Http = HTTP::Tiny->new(timeout => 60, keep_alive => 0, agent => 'OicTest/1');

    for my $sig (qw(INT TERM HUP)) {
        my $prev = $SIG{$sig};
        $SIG{$sig} = sub {
            _stop();
            if (ref $prev eq 'CODE') { $prev->(@_); }
            $SIG{$sig} = 'DEFAULT';
            kill $sig, $$;
            exit 128 + 2;   # not reached unless the signal is blocked
        };
    }
}

sub _stop {
    return unless $MockPid && defined $MockOwner && $$ == $MockOwner;   # never from a forked child
    local ($?, $!);
    my $pid = $MockPid;
    undef $MockPid;
    kill 'TERM', $pid;
    my $deadline = time + 3;
    while (time < $deadline) {
        my $r = waitpid($pid, WNOHANG);
        last if $r == $pid || $r == -1;
        sleep 0.02;
    }
    if (kill 0, $pid) { kill 'KILL', $pid; waitpid($pid, 0); }
    close $MockIn if $MockIn;
    close $MockOut if $MockOut;
}

END { _stop() }

sub _register_preprocessor {
    our $Registered;
    return if $Registered;
    my $add = Test::Nginx::Socket->can('add_block_preprocessor');
    unless ($add) {
        warn "OicTest: Test::Nginx::Socket is not loaded; no main_config preprocessor registered\n";
        return;
    }
    $Registered = 1;
    # Test::Nginx runs the preprocessors in the reverse order of their
    # registration: this one, registered before any helper module's, runs
    # last and also fills in what those added.
    $add->(sub {
        my $block = shift;
        $block->set_value('main_config', "load_module $ENV{TEST_NGINX_MODULE};")
            unless defined $block->main_config;
        _fill_block($block);
    });
}

# ------------------------------------------------------------------ values made when a block runs

# Test::Base evaluates the "eval" sections of every block before the first
# block runs, so a token minted there is as old as the run of the whole
# file when its block comes (blocks are shuffled, and a slow runner takes
# minutes). Where the age matters (a token that expired 20 s ago must still
# pass a 60 s leeway), later(sub { ... }) gives a placeholder instead: just
# before the block that holds it runs, the sub is called (once per block)
# and its value replaces the placeholder in every section of the block -
# strings, lists, hashes (request packets), and regexes (quoted there).
# A placeholder survives drive_query, form_urlencode and JSON, but not
# base64 or a digest: compute those inside the later sub.
our (@Later, %LaterNow);
my $LaterRe = qr/__oic_later_(\d+)__/;

sub later {
    my $code = shift;
    die "OicTest: later() takes a sub\n" unless ref $code eq 'CODE';
    push @Later, $code;
    return "__oic_later_$#Later\__";
}

# a string with its placeholders replaced by this block's values (for a
# later sub that needs the value of another one, e.g. a claim of a token)
sub later_value {
    my $s = shift;
    $s =~ s/$LaterRe/_later_one($1)/ge;
    return $s;
}

sub _later_one {
    my $i = shift;
    die "OicTest: unknown placeholder $i\n" unless $Later[$i];
    $LaterNow{$i} = $Later[$i]->() unless exists $LaterNow{$i};
    return $LaterNow{$i};
}

sub _fill {
    my $v = shift;
    my $r = ref $v;
    if (!defined $v) {
        return $v;
    } elsif (!$r) {
        $v =~ s/$LaterRe/_later_one($1)/ge;
        return $v;
    } elsif ($r eq 'ARRAY') {
        return [ map { _fill($_) } @$v ];
    } elsif ($r eq 'HASH') {
        return { map { ($_ => _fill($v->{$_})) } keys %$v };
    } elsif ($r eq 'Regexp' && "$v" =~ $LaterRe) {
        (my $s = "$v") =~ s/$LaterRe/quotemeta(_later_one($1))/ge;
        return qr/$s/;
    }
    return $v;
}

sub _fill_block {
    my $block = shift;
    %LaterNow = ();
    return unless @Later;
    # a Test::Base block keeps each section as a list in $block->{section}
    for my $k (keys %$block) {
        next if $k =~ /^_/ || ref $block->{$k} ne 'ARRAY';
        $block->{$k} = _fill($block->{$k});
    }
}

# ------------------------------------------------------------------ for the helper modules

# A helper module's import: registers its block preprocessor (once) and
# exports its helpers to the .t file.
#   sub import { OicTest::helper_import(shift, \&_preprocess, @_) }
my %HelperRegistered;

sub helper_import {
    my ($class, $pre, @args) = @_;
    if ($pre && !$HelperRegistered{$class}++) {
        Test::Nginx::Socket->can('add_block_preprocessor')->($pre);
    }
    $class->export_to_level(2, $class, @args);
}

# The config of a block with what a helper module adds: a first line
# "# <block name>" (every configuration is distinct, so that nginx, and its
# cache, is restarted for every block even with
# TEST_NGINX_FORCE_RESTART_ON_TEST=0), then $head (lines for the top of the
# server block, may be ''), the block's own config, and each location of
# @locations ([qr/the block has it already/, text], ...) the block lacks.
sub block_config {
    my ($block, $head, @locations) = @_;
    (my $name = $block->name) =~ s/[\r\n]+/ /g;
    my $config = "    # $name\n" . $head . $block->config;
    for my $l (@locations) {
        my ($re, $text) = @$l;
        $config .= $text if $config !~ $re;
    }
    return $config;
}

# The location through which a block reaches the mock's load generator
# (GET /_test/drive of t/mock/idp.js, port = this nginx): [regex, text]
# for block_config.
# $query: more parameters of the drive ("pid=$pid&": the mock samples the
# memory of the worker that serves the drive).
sub drive_location {
    my ($by, $query) = @_;
    $query = '' unless defined $query;
    return [qr/location\s+=\s*\/drive\b/, <<"_EOC_"];

    # added by $by: the mock's load generator, through nginx
    location = /drive {
        oic_auth off;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_IAM_PORT/_test/drive?port=\$TEST_NGINX_SERVER_PORT&$query\$args;
        proxy_read_timeout 60s;
    }
_EOC_
}

# --------------------------------------------------------------- pieces of the summaries

# a JSON object's hash, or undef for anything else
sub json_object {
    my $s = shift;
    return undef unless defined $s && $s =~ /^\s*\{/;
    my $j = eval { $JSON->decode($s) };
    return ref $j eq 'HASH' ? $j : undef;
}

# a sub that numbers the distinct values it is given, in order of appearance
# (1, 2, ...): "jti=#1" twice means the same token
sub numbering {
    my %seen;
    return sub {
        my $v = shift;
        $seen{$v} = 1 + scalar(keys %seen) unless exists $seen{$v};
        return $seen{$v};
    };
}

# {"200":3,"401":1} -> ("200:3", "401:1")
sub status_counts {
    my $h = shift;
    return map { "$_:$h->{$_}" } sort keys %$h;
}

# The sample bodies of a drive answer that are mock OIC echoes: their token
# ids (numbered by $ord) and the values of the request headers named
# (lower case) in @headers. Returns ("jti=#1,#2" or undef, { header => "A,B" }).
sub sample_summary {
    my ($j, $ord, @headers) = @_;
    my (%jti, %h);
    for my $b (@{ $j->{sample_bodies} || [] }) {
        my $x = json_object($b) or next;
        next unless defined $x->{jti} && exists $x->{path};
        $jti{ $ord->($x->{jti}) } = 1;
        for my $n (@headers) {
            my $v = ($x->{headers} || {})->{$n};
            $h{$n}{$v} = 1 if defined $v;
        }
    }
    my $jtis = %jti ? 'jti=' . join(',', map { "#$_" } sort { $a <=> $b } keys %jti) : undef;
    return ($jtis, { map { ($_ => join(',', sort keys %{ $h{$_} })) } keys %h });
}

# an nginx error page's <title> ("401 Authorization Required"), else the body
sub title_or_body {
    my $body = shift;
    return $1 if defined $body && $body =~ m{<title>(.*?)</title>}s;
    return $body;
}

# ------------------------------------------------------------------ helpers: credentials

# application/x-www-form-urlencoded of a UTF-8 string (what RFC 6749 2.3.1 asks
# for inside Basic): A-Z a-z 0-9 * - . _ stay, space -> '+', every other byte -> %XX.
sub form_urlencode {
    my $s = shift;
    $s = '' unless defined $s;
    utf8::encode($s) if utf8::is_utf8($s);
    $s =~ s/([^A-Za-z0-9*\-._ ])/sprintf('%%%02X', ord $1)/ge;
    $s =~ tr/ /+/;
    return $s;
}

# The Authorization value a correct legacy client sends: "Basic " . base64(enc(id) ":" enc(secret))
sub basic_auth {
    my ($id, $secret) = @_;
    return 'Basic ' . encode_base64(form_urlencode($id) . ':' . form_urlencode($secret), '');
}

# What a sloppy client sends: base64 of the raw UTF-8 "id:secret", no form-urlencoding.
sub basic_auth_raw {
    my ($id, $secret) = @_;
    my $s = "$id:$secret";
    utf8::encode($s) if utf8::is_utf8($s);
    return 'Basic ' . encode_base64($s, '');
}

sub _clients {
    return $Clients if $Clients;
    my $file = $ENV{TEST_NGINX_MOCK_CLIENTS} || _root() . '/t/mock/clients.json';
    open my $fh, '<:raw', $file or die "OicTest: cannot read $file: $!\n";
    local $/;
    $Clients = JSON::PP->new->utf8->decode(<$fh>);
    return $Clients;
}

# The secret of a client of clients.json, as a Perl character string.
sub client_secret {
    my $id = shift;
    for my $c (@{ _clients()->{clients} }) { return $c->{secret} if $c->{id} eq $id; }
    die "OicTest: no client $id in clients.json\n";
}

# ------------------------------------------------------------------ helpers: control API

sub _url { my $p = shift; return "http://127.0.0.1:$Ports{iam}$p"; }

sub _check {
    my ($res, $what) = @_;
    die "OicTest: $what: $res->{status} $res->{reason}: $res->{content}\n" unless $res->{success};
    return JSON::PP->new->utf8->decode($res->{content});
}

sub mock_get {
    my ($path) = @_;
    die "OicTest: mock not started\n" unless $Http;
    return _check($Http->get(_url($path)), "GET $path");
}

sub mock_post {
    my ($path, $data) = @_;
    die "OicTest: mock not started\n" unless $Http;
    my $res = $Http->request('POST', _url($path), {
        headers => { 'Content-Type' => 'application/json' },
        content => $JSON->encode($data || {}),
    });
    return _check($res, "POST $path");
}

sub _opts { return (@_ == 1 && ref $_[0] eq 'HASH') ? { %{ $_[0] } } : { @_ }; }
sub _tid  { my $t = shift; die "OicTest: tenant id required\n" unless defined $t && length $t; $t =~ s/([^A-Za-z0-9._~-])/sprintf('%%%02X', ord $1)/ge; return $t; }

# entra_token('t-basic', { ver => '1.0', claims => { scp => 'x' }, alg => 'PS256', ... }) -> token string
sub entra_token { my $tid = shift; return entra_mint($tid, @_)->{token}; }
# the full answer: { token, kid, header, claims }
sub entra_mint  { my $tid = shift; return mock_post('/_test/entra/' . _tid($tid) . '/mint', _opts(@_)); }
# entra_rotate('t-rot', add => 1) -> { kid, added, keys }; remove/hide/publish => kid
sub entra_rotate { my $tid = shift; return mock_post('/_test/entra/' . _tid($tid) . '/rotate', _opts(@_)); }
# entra_jwks_fault('t-x', mode => 'delay', ms => 3000); mode none|delay|status|malformed|empty, times => N
sub entra_jwks_fault { my $tid = shift; return mock_post('/_test/entra/' . _tid($tid) . '/jwks_fault', _opts(@_)); }
sub entra_info { my $tid = shift; return mock_get('/_test/entra/' . _tid($tid) . '/info'); }
sub entra_issuer {
    my ($tid, $ver) = @_;
    return (defined $ver && $ver =~ /^1/) ? "https://sts.windows.net/$tid/" : "https://login.microsoftonline.com/$tid/v2.0";
}
sub entra_jwks_uri {
    my ($tid, $ver) = @_;
    return "http://127.0.0.1:$Ports{iam}/$tid/discovery" . ((defined $ver && $ver =~ /^1/) ? '' : '/v2.0') . '/keys';
}

# iam_token(sub => 'alice@example.com', sub_type => 'user', scope => '...', aud => '...', exp_in => -10,
#           claims => {...}, header => {...}, unsigned => 1, ...) -> token string
sub iam_token { return iam_mint(@_)->{token}; }
sub iam_mint  { return mock_post('/_test/iam/mint', _opts(@_)); }
sub iam_rotate { return mock_post('/_test/iam/rotate', _opts(@_)); }
sub iam_jwks_fault { return mock_post('/_test/iam/jwks_fault', _opts(@_)); }
# iam_behavior('app3', { status => 503 }) ; iam_behavior('app3', undef) restores clients.json's
sub iam_behavior {
    my ($client, $b, %more) = @_;
    return mock_post('/_test/iam/behavior', { client => $client, behavior => $b, %more });
}
sub iam_config { return mock_post('/_test/iam/config', _opts(@_)); }

sub mock_stats { return mock_get('/_test/stats'); }
sub mock_token_log { my $c = shift; return mock_get('/_test/token_log?client=' . _qenc($c))->{calls}; }

sub _qenc {
    my $s = shift;
    $s = '' unless defined $s;
    utf8::encode($s) if utf8::is_utf8($s);
    $s =~ s/([^A-Za-z0-9\-._~])/sprintf('%%%02X', ord $1)/ge;
    return $s;
}

# drive_query(path => '/api', n => 200, auth => basic_auth(...), client => 'burst-app')
#   -> "path=%2Fapi&n=200&auth=...&client=burst-app" (for GET /drive?...).
# Array refs give repeated parameters (auth => [$a, $b] alternates credentials).
sub drive_query {
    my %a = @_;
    my @q;
    for my $k (sort keys %a) {
        for my $v (ref $a{$k} eq 'ARRAY' ? @{ $a{$k} } : ($a{$k})) { push @q, _qenc($k) . '=' . _qenc($v); }
    }
    return join '&', @q;
}

# base64url without padding (RFC 7515), of the UTF-8 bytes of a character string
sub b64url {
    my $s = shift;
    utf8::encode($s) if utf8::is_utf8($s);
    (my $b = encode_base64($s, '')) =~ tr{+/}{-_};
    $b =~ s/=+$//;
    return $b;
}

sub _b64url_bytes {
    (my $b = shift) =~ tr{-_}{+/};
    $b .= '=' x ((4 - length($b) % 4) % 4);
    return MIME::Base64::decode_base64($b);
}

# the bytes of unpadded base64url text, undef if it is not that
sub b64url_decode {
    my $s = shift;
    return undef unless defined $s && $s =~ /^[A-Za-z0-9_-]*$/;
    return _b64url_bytes($s);
}

# Decode (without verifying) a JWT: returns ($header, $payload) hash refs.
sub jwt_decode {
    my $t = shift;
    my @p = split /\./, $t, -1;
    return map { JSON::PP->new->utf8->decode(_b64url_bytes($_)) } @p[0, 1];
}

1;
