# Self-test of the t/lib Test::Nginx::Socket runner, using stock nginx only.
#
#   prove -I t/lib t/selftest/runner.t
#
# Also passes under OpenResty's real Test::Nginx (v0.31 or later: like this
# runner, it starts nginx with "-e servroot/logs/error.log", so the start-up
# errors of the must_die blocks TEST 9/10 are in error.log, not only on
# stderr):  PERL5LIB=/path/to/test-nginx/lib prove t/selftest/runner.t
# Use TEST_NGINX_PORT / TEST_NGINX_SERVROOT to avoid clashing with another run.

use Test::Nginx::Socket;

repeat_each(2);

# assertions per block (per repeat), see the comment of each block
plan tests => repeat_each() * (3 + 5 + 3 + 6 + 3 + 4 + 3 + 4 + 3 + 2 + 0
                               + 3 + 4 + 3 + 1 + 1 + 2);

run_tests();

__DATA__

=== TEST 1: return + exact body (status, body, no_error_log => 3)
--- config
    location = /t {
        return 200 "hello";
    }
--- request
GET /t
--- response_body chomp
hello
--- no_error_log
[error]



=== TEST 2: response_headers incl. absent header (status, 3 headers, body => 5)
--- config
    location = /t {
        add_header X-Foo "bar baz";
        return 200 "ok\n";
    }
--- request
    GET /t
--- response_headers
X-Foo: bar baz
!X-Bar
Content-Type: text/plain
--- response_body
ok



=== TEST 3: response_headers_like + response_body_like (status, 1 header, body => 3)
--- config
    location = /t {
        return 200 "hello world\n";
    }
--- request
GET /t HTTP/1.0
--- response_headers_like
Server: nginx(/[\d.]+)?
--- response_body_like: ^hello w\w+$



=== TEST 4: several requests + arrays (2 x (status, body, no_error_log) => 6)
--- config
    location = /a {
        return 200 "a\n";
    }
--- request eval
["GET /a", "GET /missing"]
--- error_code eval
[200, 404]
--- response_body_like eval
["^a\$", "404 Not Found"]
--- no_error_log
[alert]



=== TEST 5: POST body, env expansion, access_log (status, body, access_log => 3)
--- http_config
    log_format bodyfmt 'body=[$request_body] len=$content_length';
--- config
    location = /post {
        access_log logs/access.log bodyfmt;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/len;
    }
    location = /len {
        return 200 "len=$http_content_length\n";
    }
--- request
POST /post
hello, world
--- response_body
len=12
--- access_log
body=[hello, world] len=12



=== TEST 6: error_log from a missing file (status, 2 error_log, no_error_log => 4)
--- config
--- request
GET /nonexistent.html
--- error_code: 404
--- error_log eval
[qr/open\(\) ".*?nonexistent\.html" failed/, "No such file or directory"]
--- no_error_log
[alert]



=== TEST 7: bad raw request is logged (status, error_log, grep => 3)
--- config
    location = /t {
        return 200 "never\n";
    }
--- log_level: info
--- raw_request eval
"GET /t HTTP/1.1\r\nConnection: close\r\n\r\n"
--- error_code: 400
--- error_log
client sent HTTP/1.1 request without "Host" header
--- grep_error_log chop
without "Host" header
--- grep_error_log_out
without "Host" header



=== TEST 8: chunked response via SSI + user_files + more_headers (status, 2 headers, body => 4)
--- config
    location /ssi {
        ssi on;
        alias html;
    }
--- user_files
>>> ssi.html
[<!--# echo var="http_x_test" -->]
--- more_headers
X-Test: abc
--- request
GET /ssi/ssi.html
--- response_headers
Transfer-Encoding: chunked
Content-Length:
--- response_body
[abc]



=== TEST 9: must_die with a bad "return" (died, error_log, no_error_log => 3)
--- config
    location = /t {
        return a b c;
    }
--- request
GET /t
--- must_die
--- error_log
invalid number of arguments in "return" directive
--- no_error_log
[error]



=== TEST 10: must_die with the expected exit code (exit code, error_log => 2)
--- main_config
    no_such_directive_here on;
--- config
--- must_die: 1
--- error_log
unknown directive "no_such_directive_here"



=== TEST 11: a SKIP block is never run (Test::Base meta section => 0)
--- config
    location = /t { return 500; }
--- request
GET /t
--- response_body
this would fail
--- SKIP



=== TEST 12: request split in packets (status, body, access_log => 3)
--- http_config
    log_format bodyfmt2 'got=[$request_body]';
--- config
    location = /post {
        access_log logs/access.log bodyfmt2;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/ok;
    }
    location = /ok {
        return 200 "ok\n";
    }
--- request eval
[["POST /post\nhel", {value => "lo world", delay_before => 0.05}]]
--- response_body
ok
--- access_log
got=[hello world]
--- wait: 0.05



=== TEST 13: pipelined requests on one connection (2 x (status, body) => 4)
--- config
    location = /a { return 200 "a\n"; }
    location = /b { return 200 "b\n"; }
--- pipelined_requests eval
["GET /a", "GET /b"]
--- response_body eval
["a\n", "b\n"]



=== TEST 14: HEAD request (status, empty body, no_error_log => 3)
--- config
    location = /t {
        return 200 "head\n";
    }
--- request
HEAD /t
--- response_body
--- no_error_log
[error]



=== TEST 15: slow body, client timeout with abort (status => 1)
--- config
    location = /big.txt {
        root html;
        limit_rate 500;
    }
--- user_files eval
[["big.txt" => "x" x 5000]]
--- request
GET /big.txt
--- timeout: 300ms
--- abort



=== TEST 16: skip_nginx skips exactly N (=> 1 skipped)
--- config
    location = /t { return 500; }
--- request
GET /t
--- skip_nginx: 1: > 0.1.0



=== TEST 17: delay_before of a request's first packet is ignored, as by Test::Nginx: the request goes out at once, before nginx gives up waiting for its header (status, body => 2)
--- config
    client_header_timeout 1s;
    location = /t {
        return 200 "sent at once\n";
    }
--- request eval
[[{ value => "GET /t", delay_before => 3 }]]
--- response_body
sent at once
