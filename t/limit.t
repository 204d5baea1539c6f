# oic_auth_limit_zone / oic_auth_limit: limits applied after authentication,
# per client (basic), per subject (bearer), per user (exchange) or per key=,
# with a master and 4 workers sharing the zones. The reload test is
# t/limit-reload.sh.
#
#   TEST_NGINX_BINARY=/usr/sbin/nginx TEST_NGINX_MODULE=$PWD/build/ngx_http_oic_auth_module.so \
#   TEST_NGINX_PORT=26000 prove -I t/lib t/limit.t
#
# Concurrent requests go through /drive (the mock's load generator, which
# fires them at nginx at once and reports IAM and OIC calls made meanwhile);
# summary() turns its answer into one short line:
#   "<status>:<count> ..." [" aN(<statuses of credential N>)" when several]
#   [" subs=<sub>:<200s>,..."] " iam=<token calls>" [" users=<user>:<calls>"]
#   " oic=<calls that reached the mock OIC>" [" <ms field>=ok" within bounds]
# Rates of 1r/m drain 16 milli-requests a second: within a block a key that
# used its burst stays over it, so the counts are exact.

# one listening socket per worker (SO_REUSEPORT): the kernel spreads a burst's
# connections over all 4 workers
BEGIN { $ENV{TEST_NGINX_REUSE_PORT} //= 1 }

use FindBin; use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use OicTest;
use File::Temp ();
use JSON::PP ();

master_on();
workers(4);
worker_connections(1024);
no_long_string();

our $WRONG = 'wrong-s3cr3t-Q7v9';
our $JSON = JSON::PP->new->utf8->canonical;
our %Tok;

# the gateway's secret for the exchange blocks
my $dir = File::Temp::tempdir('oic-limit-XXXXXX', TMPDIR => 1, CLEANUP => 1);
open my $fh, '>:raw', "$dir/exchange-app" or die "$dir/exchange-app: $!\n";
my $secret = client_secret('exchange-app');
utf8::encode($secret);
print $fh "$secret\n";
close $fh;
$ENV{TEST_NGINX_LIMIT_SECRET} = "$dir/exchange-app";

sub basic { my ($id, @s) = @_; return basic_auth($id, @s ? $s[0] : client_secret($id)); }
sub basic_hdr { return 'Authorization: ' . basic(@_); }

# a named token, minted once: tok('a', iam => {...}) or tok('b', '<tenant>' => {...})
sub tok {
    my ($name, $where, $opts) = @_;
    return $Tok{$name} if defined $Tok{$name};
    die "no token $name\n" unless defined $where;
    return $Tok{$name} = $where eq 'iam' ? iam_token($opts) : entra_token($where, $opts);
}
sub bearer_hdr { return 'Authorization: Bearer ' . tok(@_); }

sub drive { return 'GET /drive?' . drive_query(@_); }

# summary(max_ms => [lo, hi], ...): see the top of this file
sub summary {
    my %bounds = @_;
    return sub {
        my $b = shift;
        return $b unless defined $b;
        return "$1\n" if $b =~ m{<title>(.*?)</title>};
        return $b unless $b =~ /\A\s*\{/;
        my $j = eval { $JSON->decode($b) };
        return $b unless ref $j eq 'HASH';
        if (exists $j->{path} && exists $j->{sub}) {
            return "sub=$j->{sub} path=$j->{path}\n";
        }
        return $b unless exists $j->{statuses};
        my $st = sub { my $s = shift; join ' ', map { "$_:$s->{$_}" } sort keys %$s };
        my @out = ($st->($j->{statuses}));
        my @by = @{ $j->{by_auth} || [] };
        if (@by > 1) {
            my $i = 0;
            push @out, join ' ', map { 'a' . $i++ . '(' . $st->($_->{statuses}) . ')' } @by;
        }
        my %subs;
        for my $a (@by) { $subs{$_} += $a->{subs}{$_} for keys %{ $a->{subs} || {} } }
        push @out, 'subs=' . join(',', map { "$_:$subs{$_}" } sort keys %subs) if %subs;
        push @out, 'iam=' . (ref $j->{token_calls} ? $st->($j->{token_calls}) : $j->{token_calls});
        my $u = $j->{user_calls} || {};
        push @out, 'users=' . join(',', map { "$_:$u->{$_}" } sort keys %$u) if %$u;
        push @out, "oic=$j->{oic_calls}";
        for my $k (sort keys %bounds) {
            my ($lo, $hi) = @{ $bounds{$k} };
            my $v = $j->{$k};
            push @out, (defined $v && $v >= $lo && $v <= $hi) ? "$k=ok" : "$k=" . ($v // '-') . " (not in $lo..$hi)";
        }
        return join(' ', @out) . "\n";
    };
}

# the module's refusal lines in an error.log, sorted (workers write in any order):
#   '<client|subject|user> "<id>" zone=<zone>[ (key "<key>")] more=<n>'
sub refusals {
    my $b = shift;
    return $b unless defined $b && $b =~ /\A\d{4}\//;
    my @out;
    while ($b =~ /oic_auth: limiting requests of (\w+ "[^"]*") by zone "([^"]+)"( \(key "[^"]*"\))?, excess: \d+\.\d{3}, answering 429; (\d+) more refused since this key's last line/g) {
        push @out, "$1 zone=$2" . ($3 // '') . " more=$4\n";
    }
    return join '', sort @out;
}

add_block_preprocessor(sub {
    my $block = shift;
    my $config = $block->config;
    return unless defined $config;
    (my $name = $block->name) =~ s/[\r\n]+/ /g;
    $config = "    # $name\n$config";
    $config .= <<'_EOC_' unless $config =~ m{location = /drive};
    location = /drive {
        oic_auth off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_IAM_PORT/_test/drive?port=$TEST_NGINX_SERVER_PORT&$args;
        proxy_read_timeout 60s;
    }
    location = /_errlog {
        oic_auth off;
        alias logs/error.log;
        default_type text/plain;
    }
_EOC_
    $block->set_value('config', $config);
    $block->set_value('response_body_filters', summary())
        unless defined $block->response_body_filters;
});

run_tests();

__DATA__

=== TEST 1: basic, 4 workers: a client over its rate gets 429 with Retry-After (no IAM call, no upstream request) while another client is unaffected; $oic_auth_limit_status; the access log can tell who was limited ($oic_auth_client_id in the 429)
--- http_config
    oic_auth_cache_zone oic:1m;
    oic_auth_limit_zone perclient:1m rate=1r/m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_limit perclient burst=2 nodelay;
        add_header X-Limit $oic_auth_limit_status always;
        add_header X-Error $oic_auth_error always;
        add_header X-Client $oic_auth_client_id always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
[main::drive(path => '/api/a', n => 20, client => 'app1', auth => main::basic('app1')),
 main::drive(path => '/api/b', n => 3, client => 'app2', auth => main::basic('app2')),
 main::drive(path => '/api/c', n => 10, client => ['app4', 'app5'], auth => [main::basic('app4'), main::basic('app5')]),
 "GET /api/d", "GET /api/e", "GET /api/f"]
--- more_headers eval
["", "", "", main::basic_hdr('app1'), main::basic_hdr('app2'), main::basic_hdr('app6')]
--- error_code eval
[200, 200, 200, 429, 429, 200]
--- response_body eval
["200:3 429:17 subs=app1:3 iam=1 oic=3\n",
 "200:3 subs=app2:3 iam=1 oic=3\n",
 "200:6 429:4 a0(200:3 429:2) a1(200:3 429:2) subs=app4:3,app5:3 iam=app4:1 app5:1 oic=6\n",
 "429 Too Many Requests\n", "429 Too Many Requests\n", "sub=app6 path=/api/f\n"]
--- response_headers_like eval
["", "", "", "Retry-After: 6[0-3]\nX-Limit: REJECTED\nX-Error: rate_limited\nX-Client: app1",
 "Retry-After: 6[0-3]\nX-Limit: REJECTED\nX-Error: rate_limited\nX-Client: app2", "X-Limit: PASSED\nX-Client: app6"]
--- response_headers eval
["", "", "", "!WWW-Authenticate", "!WWW-Authenticate", "!Retry-After"]
--- no_error_log
[alert]
[crit]
[warn]
--- timeout: 30



=== TEST 2: one error-log line per rejected client per 10 s, across 4 workers, naming the client; the next line counts the refusals it did not log
--- http_config
    oic_auth_cache_zone oic:1m;
    oic_auth_limit_zone perclient:1m rate=1r/m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_limit perclient;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    # the mock answers after 10.5 s: the next request comes after the 10 s
    # interval whatever the runner does between requests
    location = /wait {
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_plain/_delay/10500;
        proxy_read_timeout 30s;
    }
--- request eval
[main::drive(path => '/api/a', n => 30, client => 'app7', auth => main::basic('app7')),
 "GET /_errlog",
 "GET /wait",
 "GET /api/b",
 "GET /_errlog"]
--- more_headers eval
["", "", "", main::basic_hdr('app7'), ""]
--- error_code eval
[200, 200, 200, 429, 200]
--- response_body_filters eval
[main::summary(), \&main::refusals]
--- response_body eval
["200:1 429:29 subs=app7:1 iam=1 oic=1\n",
 "client \"app7\" zone=perclient more=0\n",
 "plain",
 "429 Too Many Requests\n",
 "client \"app7\" zone=perclient more=0\nclient \"app7\" zone=perclient more=28\n"]
--- timeout: 40



=== TEST 3: a flood of wrong secrets for a client id does not touch its quota (the limit counts only what IAM accepted)
--- http_config
    oic_auth_cache_zone oic:1m;
    oic_auth_limit_zone perclient:1m rate=1r/m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_limit perclient burst=2 nodelay;
        add_header X-Limit $oic_auth_limit_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
[main::drive(path => '/api/a', n => 50, client => 'app8', auth => main::basic('app8', $main::WRONG)),
 "GET /api/b",
 main::drive(path => '/api/c', n => 4, client => 'app8', auth => main::basic('app8'))]
--- more_headers eval
["", main::basic_hdr('app8', $main::WRONG), ""]
--- error_code eval
[200, 401, 200]
--- response_headers eval
["", "!X-Limit", ""]
--- response_body_like eval
["^401:50 iam=\\d+ oic=0\$", "^401 Authorization Required\$", "^200:3 429:1 subs=app8:3 iam=1 oic=3\$"]
--- timeout: 30



=== TEST 4: a request that waited for IAM is counted once: burst=1 lets two requests of a client through, the first of them a cold one
--- http_config
    oic_auth_cache_zone oic:1m;
    oic_auth_limit_zone perclient:1m rate=1r/m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_limit perclient burst=1 nodelay;
        add_header X-Cache $oic_auth_cache_status always;
        add_header X-Limit $oic_auth_limit_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /api/a", "GET /api/b", "GET /api/c"]
--- more_headers eval
[main::basic_hdr('lag-app'), main::basic_hdr('lag-app'), main::basic_hdr('lag-app')]
--- error_code eval
[200, 200, 429]
--- response_headers eval
["X-Cache: MISS\nX-Limit: PASSED", "X-Cache: HIT\nX-Limit: PASSED", "X-Cache: HIT\nX-Limit: REJECTED"]



=== TEST 5: bearer: per subject (two tokens of one subject share its quota, another subject has its own), and tokens refused (expired) do not count
--- http_config
    oic_auth_cache_zone oic:1m;
    oic_auth_limit_zone persub:1m rate=1r/m;
--- config
    location /api {
        oic_auth bearer;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/admin/v1/SigningCert/jwk;
        oic_auth_issuer https://identity.oraclecloud.com/;
        oic_auth_audience $TEST_NGINX_OIC_AUDIENCE;
        oic_auth_limit persub burst=1 nodelay;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
[main::drive(path => '/api/a', n => 20, auth => 'Bearer ' . main::tok('b5-old', iam => { sub => 'b5-hr', exp_in => -600 })),
 main::drive(path => '/api/b', n => 12,
             auth => ['Bearer ' . main::tok('b5-hr1', iam => { sub => 'b5-hr' }),
                      'Bearer ' . main::tok('b5-hr2', iam => { sub => 'b5-hr' }),
                      'Bearer ' . main::tok('b5-it', iam => { sub => 'b5-it' })])]
--- response_body_like eval
["^401:20 iam=0 oic=0\$",
 "^200:4 429:8 a0\\(.*\\) a1\\(.*\\) a2\\(200:2 429:2\\) subs=b5-hr:2,b5-it:2 iam=0 oic=4\$"]
--- no_error_log
[alert]
[crit]
--- timeout: 30



=== TEST 6: exchange: per user, before the IAM call (an over-limit user causes none); key= a claim: a tenant-wide limit refuses a cold user without asking IAM
--- http_config
    oic_auth_cache_zone oic:1m;
    oic_auth_limit_zone peruser:1m rate=1r/m;
    oic_auth_limit_zone pertenant:1m rate=1r/m;
--- config
    oic_auth_cache oic;
    oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/l-x6/discovery/v2.0/keys;
    oic_auth_issuer https://login.microsoftonline.com/l-x6/v2.0;
    oic_auth_audience api://oic-gateway;
    oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
    oic_auth_scope $TEST_NGINX_OIC_SCOPE;
    oic_auth_client_id exchange-app;
    oic_auth_client_secret_file $TEST_NGINX_LIMIT_SECRET;
    oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
    oic_auth_assertion_certificate $TEST_NGINX_CERTS/assertion.pem;
    oic_auth_assertion_kid oic-gw;

    location /api {
        oic_auth exchange;
        oic_auth_limit peruser;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location /team {
        oic_auth exchange;
        oic_auth_limit pertenant key=$oic_auth_claim_tid;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
[main::drive(path => '/api/a', n => 10, user => ['alice@example.com', 'bob@example.com'],
             auth => ['Bearer ' . main::tok('x6-alice', 'l-x6' => { user => 'alice@example.com' }),
                      'Bearer ' . main::tok('x6-bob', 'l-x6' => { user => 'bob@example.com' })]),
 main::drive(path => '/api/b', n => 5, user => 'alice@example.com', auth => 'Bearer ' . main::tok('x6-alice')),
 main::drive(path => '/team/c', n => 1, user => 'carol@example.com', auth => 'Bearer ' . main::tok('x6-carol', 'l-x6' => { user => 'carol@example.com' })),
 main::drive(path => '/team/d', n => 5, user => 'dave@example.com', auth => 'Bearer ' . main::tok('x6-dave', 'l-x6' => { user => 'dave@example.com' }))]
--- response_body eval
["200:2 429:8 a0(200:1 429:4) a1(200:1 429:4) subs=alice\@example.com:1,bob\@example.com:1 iam=2 users=alice\@example.com:1,bob\@example.com:1 oic=2\n",
 "429:5 iam=0 users=alice\@example.com:0 oic=0\n",
 "200:1 subs=carol\@example.com:1 iam=1 users=carol\@example.com:1 oic=1\n",
 "429:5 iam=0 users=dave\@example.com:0 oic=0\n"]
--- no_error_log
[alert]
[crit]
--- timeout: 30



=== TEST 7: burst without nodelay delays rather than rejects: 4 concurrent requests at 1r/s burst=3 all pass, the last about 3 s later; counted once per request (a delayed request, resumed, is not counted again)
--- http_config
    oic_auth_cache_zone oic:1m;
    oic_auth_limit_zone slow:1m rate=1r/s;
--- config
    location /delay {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_limit slow burst=3;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
main::drive(path => '/delay/a', n => 4, client => 'finance-app', auth => main::basic('finance-app'))
--- response_body_filters eval
main::summary(max_ms => [2500, 9000], p50_ms => [1500, 6000])
--- response_body
200:4 subs=finance-app:4 iam=1 oic=4 max_ms=ok p50_ms=ok
--- no_error_log
[alert]
[crit]
--- timeout: 40



=== TEST 8: the same with nodelay: the 4 requests pass at once
--- http_config
    oic_auth_cache_zone oic:1m;
    oic_auth_limit_zone fast:1m rate=1r/s;
--- config
    location /nodelay {
        oic_auth bearer;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/admin/v1/SigningCert/jwk;
        oic_auth_issuer https://identity.oraclecloud.com/;
        oic_auth_audience $TEST_NGINX_OIC_AUDIENCE;
        oic_auth_limit fast burst=3 nodelay;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
main::drive(path => '/nodelay/b', n => 4, auth => 'Bearer ' . main::tok('b8n', iam => { sub => 'b8n-app' }))
--- response_body_filters eval
main::summary(max_ms => [0, 1500])
--- response_body
200:4 subs=b8n-app:4 iam=0 oic=4 max_ms=ok
--- no_error_log
[alert]
[crit]
--- timeout: 40



=== TEST 9: clients that go away while their requests are delayed: the timers go with the requests, no worker dies, the next requests are answered
--- http_config
    oic_auth_cache_zone oic:1m;
    oic_auth_limit_zone slow:1m rate=1r/s;
--- config
    location /delay {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_limit slow burst=8;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
[main::drive(path => '/delay/a', n => 8, abort => 8, abort_ms => 600, client => 'it-app', auth => main::basic('it-app')),
 main::drive(path => '/delay/b', n => 2, client => 'hr-app', auth => main::basic('hr-app'))]
--- response_body_like eval
["^200:1 aborted:7 subs=it-app:1 iam=1 oic=1\$", "^200:2 subs=hr-app:2 iam=1 oic=2\$"]
--- no_error_log
[alert]
[crit]
exited on signal
--- timeout: 40



=== TEST 10: $oic_auth_limit_status: PASSED, DELAYED (about 1 s at 1r/s burst=1), REJECTED; empty where no limit applies; a delayed exchange request goes on to IAM afterwards
--- http_config
    oic_auth_cache_zone oic:1m;
    oic_auth_limit_zone d:1m rate=1r/s;
    oic_auth_limit_zone r:1m rate=1r/m;
    oic_auth_limit_zone x:1m rate=1r/s;
--- config
    oic_auth_cache oic;
    oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/admin/v1/SigningCert/jwk;
    oic_auth_issuer https://identity.oraclecloud.com/;
    oic_auth_audience $TEST_NGINX_OIC_AUDIENCE;
    add_header X-Limit $oic_auth_limit_status always;

    location /d {
        oic_auth bearer;
        oic_auth_limit d burst=1;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location /r {
        oic_auth bearer;
        oic_auth_limit r;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location /none {
        oic_auth bearer;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location /x {
        oic_auth exchange;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/l-x8/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/l-x8/v2.0;
        oic_auth_audience api://oic-gateway;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_client_id exchange-app;
        oic_auth_client_secret_file $TEST_NGINX_LIMIT_SECRET;
        oic_auth_assertion_key $TEST_NGINX_CERTS/assertion.key;
        oic_auth_assertion_kid oic-gw;
        oic_auth_limit x burst=1;
        add_header X-Limit $oic_auth_limit_status always;
        add_header X-Cache $oic_auth_cache_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /d/1", "GET /d/2", "GET /r/1", "GET /r/2", "GET /none/1", "GET /x/1", "GET /x/2"]
--- more_headers eval
[(main::bearer_hdr('b8', iam => { sub => 'b8-app' })) x 5,
 (main::bearer_hdr('x8', 'l-x8' => { user => 'erin@example.com' })) x 2]
--- error_code eval
[200, 200, 200, 429, 200, 200, 200]
--- response_headers eval
["X-Limit: PASSED", "X-Limit: DELAYED", "X-Limit: PASSED", "X-Limit: REJECTED", "!X-Limit",
 "X-Limit: PASSED\nX-Cache: MISS", "X-Limit: DELAYED\nX-Cache: HIT"]
--- response_body eval
["sub=b8-app path=/d/1\n", "sub=b8-app path=/d/2\n", "sub=b8-app path=/r/1\n", "429 Too Many Requests\n",
 "sub=b8-app path=/none/1\n", "sub=erin\@example.com path=/x/1\n", "sub=erin\@example.com path=/x/2\n"]
--- no_error_log
[alert]
[crit]
--- timeout: 30



=== TEST 11: several limits per location, all must pass; a request one limit refuses does not count against the others (a global limit listed first, a per-client one second)
--- http_config
    oic_auth_cache_zone oic:1m;
    oic_auth_limit_zone global:1m rate=1r/m;
    oic_auth_limit_zone perclient:1m rate=1r/m;
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_limit global key=all burst=3 nodelay;
        oic_auth_limit perclient burst=1 nodelay;
        add_header X-Limit $oic_auth_limit_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /api/1", "GET /api/2", "GET /api/3", "GET /api/4", "GET /api/5", "GET /api/6", "GET /_errlog"]
--- more_headers eval
[main::basic_hdr('app1'), main::basic_hdr('app1'), main::basic_hdr('app1'),
 main::basic_hdr('app2'), main::basic_hdr('app3'), main::basic_hdr('app4'), ""]
--- error_code eval
[200, 200, 429, 200, 200, 429, 200]
--- response_headers eval
["X-Limit: PASSED", "X-Limit: PASSED", "X-Limit: REJECTED", "X-Limit: PASSED", "X-Limit: PASSED", "X-Limit: REJECTED", ""]
--- response_body_filters eval
[main::summary(), \&main::refusals]
--- response_body eval
["sub=app1 path=/api/1\n", "sub=app1 path=/api/2\n", "429 Too Many Requests\n", "sub=app2 path=/api/4\n",
 "sub=app3 path=/api/5\n", "429 Too Many Requests\n",
 "client \"app1\" zone=perclient more=0\nclient \"app4\" zone=global (key \"all\") more=0\n"]



=== TEST 12: key= a complex value evaluated after authentication: per client and URI
--- http_config
    oic_auth_cache_zone oic:1m;
    oic_auth_limit_zone peruri:1m rate=1r/m;
--- config
    location /k {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_limit peruri key=$oic_auth_client_id:$uri;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /k/1", "GET /k/1", "GET /k/2", "GET /k/1", "GET /_errlog"]
--- more_headers eval
[main::basic_hdr('app5'), main::basic_hdr('app5'), main::basic_hdr('app5'), main::basic_hdr('app6'), ""]
--- error_code eval
[200, 429, 200, 200, 200]
--- response_body_filters eval
[main::summary(), \&main::refusals]
--- response_body eval
["sub=app5 path=/k/1\n", "429 Too Many Requests\n", "sub=app5 path=/k/2\n", "sub=app6 path=/k/1\n",
 "client \"app5\" zone=peruri (key \"app5:/k/1\") more=0\n"]



=== TEST 13: satisfy any: a client over its limit gets 429 (the limit stands: it is not an authentication failure), a request oic_auth refuses and another module lets in is not counted
--- http_config
    oic_auth_cache_zone oic:1m;
    oic_auth_limit_zone perclient:1m rate=1r/m;
--- config
    location /sa {
        satisfy any;
        allow 127.0.0.1;
        deny all;
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_limit perclient burst=1 nodelay;
        add_header X-Limit $oic_auth_limit_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /sa/_plain", "GET /sa/_plain", "GET /sa/_plain", "GET /sa/_plain", "GET /sa/_plain"]
--- more_headers eval
["", main::basic_hdr('app2', $main::WRONG), main::basic_hdr('app2'), main::basic_hdr('app2'), main::basic_hdr('app2')]
--- error_code eval
[200, 200, 200, 200, 429]
--- response_headers eval
["!X-Limit", "!X-Limit", "X-Limit: PASSED", "X-Limit: PASSED", "X-Limit: REJECTED"]
--- response_headers_like eval
["", "", "", "", "Retry-After: 6[0-3]"]
--- response_body eval
["plain", "plain", "plain", "plain", "429 Too Many Requests\n"]



=== TEST 14: an internal redirect to another limited location counts the request once (error_page after an upstream 404)
--- http_config
    oic_auth_cache_zone oic:1m;
    oic_auth_limit_zone persub:1m rate=1r/m;
--- config
    oic_auth_cache oic;
    oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/admin/v1/SigningCert/jwk;
    oic_auth_issuer https://identity.oraclecloud.com/;
    oic_auth_audience $TEST_NGINX_OIC_AUDIENCE;
    oic_auth_limit persub burst=1 nodelay;
    add_header X-Limit $oic_auth_limit_status always;

    location /first {
        oic_auth bearer;
        proxy_intercept_errors on;
        error_page 404 = /second;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT/_status/404;
    }
    location /second {
        oic_auth bearer;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /first", "GET /first", "GET /first"]
--- more_headers eval
[(main::bearer_hdr('b12', iam => { sub => 'b12-app' })) x 3]
--- error_code eval
[200, 200, 429]
--- response_body eval
["sub=b12-app path=/second\n", "sub=b12-app path=/second\n", "429 Too Many Requests\n"]
--- response_headers eval
["X-Limit: PASSED", "X-Limit: PASSED", "X-Limit: REJECTED"]



=== TEST 15: error_page 429 to a location under the same limits: the refused request is not counted again there, it gets that location's answer with its 429
--- http_config
    oic_auth_cache_zone oic:1m;
    oic_auth_limit_zone persub:1m rate=1r/m;
--- config
    oic_auth_cache oic;
    oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/admin/v1/SigningCert/jwk;
    oic_auth_issuer https://identity.oraclecloud.com/;
    oic_auth_audience $TEST_NGINX_OIC_AUDIENCE;
    oic_auth_limit persub;
    add_header X-Limit $oic_auth_limit_status always;
    error_page 429 /busy/_plain;

    location /api {
        oic_auth bearer;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location /busy {
        oic_auth bearer;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /api/a", "GET /api/b"]
--- more_headers eval
[(main::bearer_hdr('b14', iam => { sub => 'b14-app' })) x 2]
--- error_code eval
[200, 429]
--- response_body eval
["sub=b14-app path=/api/a\n", "plain"]
--- response_headers eval
["X-Limit: PASSED", "X-Limit: REJECTED"]



=== TEST 16: a 32k zone and a new key on every request (key=$request_id): old keys are evicted, every request is served
--- http_config
    oic_auth_cache_zone oic:1m;
    oic_auth_limit_zone tiny:32k rate=1r/m;
--- config
    location /api {
        oic_auth bearer;
        oic_auth_cache oic;
        oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/admin/v1/SigningCert/jwk;
        oic_auth_issuer https://identity.oraclecloud.com/;
        oic_auth_audience $TEST_NGINX_OIC_AUDIENCE;
        oic_auth_limit tiny key=$request_id;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
[main::drive(path => '/api/a', n => 600, auth => 'Bearer ' . main::tok('b13', iam => { sub => 'b13-app' })),
 main::drive(path => '/api/b', n => 600, auth => 'Bearer ' . main::tok('b13'))]
--- response_body eval
["200:600 subs=b13-app:600 iam=0 oic=600\n", "200:600 subs=b13-app:600 iam=0 oic=600\n"]
--- no_error_log
[alert]
[crit]
[error]
--- timeout: 60



=== TEST 17: inheritance: a level without oic_auth_limit inherits the outer list (http level here), one with its own replaces it, "oic_auth_limit off" clears it
--- http_config
    oic_auth_cache_zone oic:1m;
    oic_auth_limit_zone outer:1m rate=1r/m;
    oic_auth_limit_zone inner:1m rate=1r/m;
    oic_auth_limit outer;
--- config
    oic_auth_cache oic;
    oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
    oic_auth_scope $TEST_NGINX_OIC_SCOPE;
    add_header X-Limit $oic_auth_limit_status always;

    location /inherit {
        oic_auth basic;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location /own {
        oic_auth basic;
        oic_auth_limit inner burst=1 nodelay;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location /off {
        oic_auth basic;
        oic_auth_limit off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
["GET /inherit/1", "GET /inherit/2", "GET /own/1", "GET /own/2", "GET /own/3", "GET /off/1", "GET /off/2"]
--- more_headers eval
[(main::basic_hdr('app3')) x 7]
--- error_code eval
[200, 429, 200, 200, 429, 200, 200]
--- response_headers eval
["X-Limit: PASSED", "X-Limit: REJECTED", "X-Limit: PASSED", "X-Limit: PASSED", "X-Limit: REJECTED", "!X-Limit", "!X-Limit"]



=== TEST 18: tiers as in conf/tiered-limits.conf: a map gives each client one non-empty key (a named team's clients the other zone's), empty keys are not limited
--- http_config
    oic_auth_cache_zone oic:1m;
    oic_auth_limit_zone per_client:1m rate=1r/m;
    oic_auth_limit_zone team:1m rate=1r/m;
    map $oic_auth_client_id $oic_default_tier {
        volatile;
        hr-app     "";
        it-app     "";
        default    $oic_auth_client_id;
    }
    map $oic_auth_client_id $oic_team_tier {
        volatile;
        hr-app     $oic_auth_client_id;
        it-app     $oic_auth_client_id;
        default    "";
    }
--- config
    location /api {
        oic_auth basic;
        oic_auth_cache oic;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
        oic_auth_scope $TEST_NGINX_OIC_SCOPE;
        oic_auth_limit per_client key=$oic_default_tier burst=1 nodelay;
        oic_auth_limit team key=$oic_team_tier burst=3 nodelay;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
--- request eval
[main::drive(path => '/api/a', n => 24, client => ['app1', 'hr-app', 'it-app'],
             auth => [main::basic('app1'), main::basic('hr-app'), main::basic('it-app')]),
 "GET /_errlog"]
--- response_body_filters eval
[main::summary(), \&main::refusals]
--- response_body eval
["200:10 429:14 a0(200:2 429:6) a1(200:4 429:4) a2(200:4 429:4) subs=app1:2,hr-app:4,it-app:4 iam=app1:1 hr-app:1 it-app:1 oic=10\n",
 "client \"app1\" zone=per_client (key \"app1\") more=0\nclient \"hr-app\" zone=team (key \"hr-app\") more=0\nclient \"it-app\" zone=team (key \"it-app\") more=0\n"]
--- timeout: 30



=== TEST 19: a limit in an auth_request target: its 429 reaches the client as 500 (auth_request passes only 2xx, 401 and 403), and the backend is not called for it
--- http_config
    oic_auth_cache_zone oic:1m;
    oic_auth_limit_zone persub:1m rate=1r/m;
--- config
    oic_auth_cache oic;
    oic_auth_jwks_uri http://127.0.0.1:$TEST_NGINX_IAM_PORT/admin/v1/SigningCert/jwk;
    oic_auth_issuer https://identity.oraclecloud.com/;
    oic_auth_audience $TEST_NGINX_OIC_AUDIENCE;

    location /api {
        auth_request /check;
        proxy_pass http://127.0.0.1:$TEST_NGINX_OIC_PORT;
    }
    location = /check {
        internal;
        oic_auth bearer;
        oic_auth_limit persub burst=1 nodelay;
        empty_gif;
    }
--- request eval
main::drive(path => '/api/a', n => 4, auth => 'Bearer ' . main::tok('b19', iam => { sub => 'b19-app' }))
--- response_body
200:2 500:2 subs=b19-app:2 iam=0 oic=2
--- error_log eval
[qr/oic_auth: limiting requests of subject "b19-app" by zone "persub"/,
 qr/auth request unexpected status: 429/]
--- no_error_log
[alert]
[crit]
--- timeout: 30



=== TEST 20: nginx -t: oic_auth_limit naming an undefined zone
--- http_config
    oic_auth_cache_zone oic:1m;
--- config
    location /a {
        oic_auth_limit nosuch;
    }
--- must_die
--- error_log
"oic_auth_limit" names an unknown zone "nosuch", define it with "oic_auth_limit_zone"



=== TEST 21: nginx -t: a rate of 0
--- http_config
    oic_auth_limit_zone z:1m rate=0r/s;
--- config
--- must_die
--- error_log
invalid rate "rate=0r/s", it must be rate=Nr/s or rate=Nr/m, N from 1 to 1000000



=== TEST 22: nginx -t: a rate per hour
--- http_config
    oic_auth_limit_zone z:1m rate=10r/h;
--- config
--- must_die
--- error_log
invalid rate "rate=10r/h"



=== TEST 23: nginx -t: a rate without a unit
--- http_config
    oic_auth_limit_zone z:1m rate=10;
--- config
--- must_die
--- error_log
invalid rate "rate=10"



=== TEST 24: nginx -t: a rate that is not a number
--- http_config
    oic_auth_limit_zone z:1m rate=fastr/s;
--- config
--- must_die
--- error_log
invalid rate "rate=fastr/s"



=== TEST 25: nginx -t: a rate above 1000000r/s
--- http_config
    oic_auth_limit_zone z:1m rate=1000001r/s;
--- config
--- must_die
--- error_log
invalid rate "rate=1000001r/s"



=== TEST 26: nginx -t: a zone without a rate
--- http_config
    oic_auth_limit_zone z:1m;
--- config
--- must_die
--- error_log
invalid number of arguments in "oic_auth_limit_zone" directive



=== TEST 27: nginx -t: something else where the rate goes
--- http_config
    oic_auth_limit_zone z:1m burst=5;
--- config
--- must_die
--- error_log
invalid rate "burst=5"



=== TEST 28: nginx -t: a burst of 0
--- http_config
    oic_auth_limit_zone z:1m rate=1r/s;
--- config
    location /a {
        oic_auth_limit z burst=0;
    }
--- must_die
--- error_log
invalid burst value "burst=0"



=== TEST 29: nginx -t: a burst that is not a number
--- http_config
    oic_auth_limit_zone z:1m rate=1r/s;
--- config
    location /a {
        oic_auth_limit z burst=many;
    }
--- must_die
--- error_log
invalid burst value "burst=many"



=== TEST 30: nginx -t: the same limit zone defined twice
--- http_config
    oic_auth_limit_zone z:1m rate=1r/s;
    oic_auth_limit_zone z:1m rate=2r/s;
--- config
--- must_die
--- error_log
duplicate zone "z"



=== TEST 31: nginx -t: a limit zone with the name of the token zone
--- http_config
    oic_auth_cache_zone oic:1m;
    oic_auth_limit_zone oic:1m rate=1r/s;
--- config
--- must_die
--- error_log
the shared memory zone "oic" is already declared for a different use



=== TEST 32: nginx -t: oic_auth_cache naming a limit zone
--- http_config
    oic_auth_limit_zone z:1m rate=1r/s;
--- config
    location /a {
        oic_auth basic;
        oic_auth_cache z;
        oic_auth_token_endpoint http://127.0.0.1:$TEST_NGINX_IAM_PORT/oauth2/v1/token;
    }
--- must_die
--- error_log
the shared memory zone "z" is already declared for a different use



=== TEST 33: nginx -t: a limit zone smaller than 32k
--- http_config
    oic_auth_limit_zone z:16k rate=1r/s;
--- config
--- must_die
--- error_log
zone "z" is too small: 16k, the minimum is 32k



=== TEST 34: nginx -t: a limit zone without a size
--- http_config
    oic_auth_limit_zone z rate=1r/s;
--- config
--- must_die
--- error_log
invalid zone "z", it must be NAME:SIZE



=== TEST 35: nginx -t: one zone twice in a location
--- http_config
    oic_auth_limit_zone z:1m rate=1r/s;
--- config
    location /a {
        oic_auth_limit z;
        oic_auth_limit z key=$uri;
    }
--- must_die
--- error_log
zone "z" is already limited here



=== TEST 36: nginx -t: an unknown parameter
--- http_config
    oic_auth_limit_zone z:1m rate=1r/s;
--- config
    location /a {
        oic_auth_limit z burst=2 delay=1;
    }
--- must_die
--- error_log
invalid parameter "delay=1"



=== TEST 37: nginx -t: nodelay twice
--- http_config
    oic_auth_limit_zone z:1m rate=1r/s;
--- config
    location /a {
        oic_auth_limit z nodelay nodelay;
    }
--- must_die
--- error_log
invalid parameter "nodelay"



=== TEST 38: nginx -t: an empty key
--- http_config
    oic_auth_limit_zone z:1m rate=1r/s;
--- config
    location /a {
        oic_auth_limit z key=;
    }
--- must_die
--- error_log
invalid key "key="



=== TEST 39: nginx -t: "oic_auth_limit off" with a limit at the same level
--- http_config
    oic_auth_limit_zone z:1m rate=1r/s;
--- config
    location /a {
        oic_auth_limit z;
        oic_auth_limit off;
    }
--- must_die
--- error_log
"oic_auth_limit off" cannot be combined with other "oic_auth_limit" at this level



=== TEST 40: nginx -t: oic_auth_limit_zone is an http-level directive
--- config
    oic_auth_limit_zone z:1m rate=1r/s;
--- must_die
--- error_log
"oic_auth_limit_zone" directive is not allowed here
