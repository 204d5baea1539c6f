package Test::Nginx::Socket;

# Small Test::Nginx::Socket-compatible runner for this project (OpenResty's
# Test::Nginx is not packaged in Debian). See the POD below for the supported
# subset. Use it with:   prove -I t/lib t/*.t
#
# Like the real module, this class inherits from Test::Base, so the block
# format and all Test::Base filters (eval, chomp, ...) and meta sections
# (ONLY, SKIP, LAST) come from Test::Base itself. The engine lives in
# Test::Nginx::Util (same split as the real distribution).

use strict;
use warnings;

use Test::Base -base;
use Test::Nginx::Util;

our $VERSION = $Test::Nginx::Util::VERSION;

# Exported to the test script, on top of Test::Base's own exports (all the
# usual Test::More functions: ok is isnt like unlike is_deeply cmp_ok pass
# fail diag skip plan ..., plus blocks/first_block/next_block ...).
our @EXPORT = qw(
    env_to_nginx is_str plan run_tests run_test
    repeat_each config_preamble worker_connections
    master_process_enabled
    no_long_string workers master_on master_off
    log_level no_shuffle no_root_location use_hup
    server_name
    server_addr server_root html_dir server_port server_port_for_client
    timeout no_nginx_manager check_accum_error_log
    add_block_preprocessor bail_out add_cleanup_handler
    add_response_body_check
    $ServerPort $ServerAddr
);

1;
__END__

=encoding utf-8

=head1 NAME

Test::Nginx::Socket - project-local subset of OpenResty's Test::Nginx::Socket

=head1 SYNOPSIS

    use Test::Nginx::Socket 'no_plan';      # or: use Test::Nginx::Socket;
                                            #     plan tests => repeat_each() * (3 * blocks());
    master_on(); workers(2);                # optional
    no_shuffle();
    run_tests();

    __DATA__

    === TEST 1: hello
    --- config
        location = /t { return 200 "hello"; }
    --- request
    GET /t
    --- response_body chomp
    hello
    --- no_error_log
    [error]

Run with C<prove -I t/lib t/*.t>. The same files run unchanged under the
real Test::Nginx when it is installed (drop C<-I t/lib>).

=head1 SUPPORTED SUBSET

=head2 Perl functions

run_tests, run_test, plan, blocks (and every Test::More / Test::Base
export), repeat_each, workers, worker_connections, master_on, master_off,
master_process_enabled, log_level, no_shuffle, no_long_string,
no_root_location, config_preamble, env_to_nginx, add_block_preprocessor,
add_cleanup_handler, add_response_body_check, check_accum_error_log,
timeout, server_port, server_port_for_client, server_addr, server_name,
server_root, html_dir, is_str, bail_out; variables C<$ServerPort> and
C<$ServerAddr> (exported here, but NOT exported by the real module: use
C<server_port()> or C<$Test::Nginx::Util::ServerPort> in portable tests).

Blocks are shuffled unless no_shuffle() or TEST_NGINX_NO_SHUFFLE=1, like the
real one.

=head2 Sections

config, http_config, main_config, post_main_config, server_name,
log_level, error_log_file, user_files, init,
request (string "METHOD [URI [HTTP/x.y]]\nbody"; eval: arrayref of
requests, each a string or an arrayref of packets / {value, delay_before}: the
delay before a packet after the first, as in the real one),
raw_request, raw_request_middle_delay, pipelined_requests, more_headers
(string or arrayref per request), timeout (s or ms), abort, shutdown, wait,
ignore_response, http09, error_code, error_code_like, response_body,
response_body_like, response_body_unlike, response_body_filters, charset,
response_headers (C<Name: value>, C<!Name> = absent), response_headers_like,
raw_response_headers_like, raw_response_headers_unlike, error_log,
no_error_log, grep_error_log, grep_error_log_out, access_log,
no_access_log, must_die, skip_nginx, skip_eval, todo, no_check_leak
(ignored), ONLY / SKIP / LAST (Test::Base).

C<$TEST_NGINX_*> variables are expanded in main_config, http_config,
config, post_main_config, user_files (as the real one does) and also in
request, pipelined_requests and more_headers (an extension). An unset
variable bails out. C<$TEST_NGINX_RAND_PORT_N> gives a free random port.

=head2 Environment

TEST_NGINX_BINARY (default: nginx in PATH, else /usr/sbin/nginx),
TEST_NGINX_SERVER_PORT / TEST_NGINX_PORT (1984), TEST_NGINX_CLIENT_PORT,
TEST_NGINX_SERVROOT (t/servroot), TEST_NGINX_LOG_LEVEL (debug),
TEST_NGINX_MASTER_PROCESS, TEST_NGINX_NO_CLEAN, TEST_NGINX_VERBOSE,
TEST_NGINX_NO_SHUFFLE, TEST_NGINX_TIMEOUT (3), TEST_NGINX_SLEEP,
TEST_NGINX_LOAD_MODULES, TEST_NGINX_POSTPONE_OUTPUT, TEST_NGINX_EVENT_TYPE,
TEST_NGINX_REUSE_PORT, TEST_NGINX_WORKER_USER, TEST_NGINX_RANDOMIZE,
TEST_NGINX_FORCE_RESTART_ON_TEST, TEST_NGINX_CHECK_ACCUM_ERR_LOG,
TEST_NGINX_ERROR_LOG, TEST_NGINX_USE_VALGRIND (C<1>: memcheck with
C<--leak-check=full>, else the valgrind options; ./valgrind.suppress when
present; daemon off, one nginx per block, as the real one),
TEST_NGINX_VALGRIND_EXIT_ON_FIRST_ERR. Extension: TEST_NGINX_ERROR_LOG_WAIT
(seconds, default 1) = how long C<--- error_log> keeps re-reading error.log
for a pattern that has not shown up yet.

=head2 Assertion counts (for C<plan tests =E<gt> ...>)

Per block and per repeat_each iteration, as in the real module:

=over

=item * each request: 1 (status code, default 200) + 1 per
raw_response_headers_like/unlike + 1 per distinct header in response_headers
(else 1 per header in response_headers_like) + 1 if response_body /
response_body_like / response_body_unlike

=item * error-log checks run after I<each> request (for several requests,
each check sees only the log lines written since the previous check):
1 per error_log pattern + 1 per no_error_log pattern + 1 if grep_error_log;
the same for access_log / no_access_log

=item * must_die: 1 (nginx died / exit code) + the error-log checks above
(matched against error.log plus nginx's stderr); no request is sent

=item * skip_nginx / skip_eval / todo "N: ...": exactly N (skipped)

=back

=head1 NOT SUPPORTED

tcp_listen/udp_listen mock servers, stap, http2/http3/curl, HUP reload,
check-leak and benchmark modes, shutdown_error_log,
request_eval/response_body_eval (deprecated), skip_nginx2, skip_openssl,
skip_slave. A block using an unsupported section fails loudly.

=head1 DIFFERENCES FROM THE REAL MODULE

nginx is started with an extra C<-e E<lt>servrootE<gt>/logs/error.log>
(nginx E<gt>= 1.19.5) and its stderr is captured, so start-up errors are
visible to error_log checks even with Debian's nginx (built with
C<--error-log-path=stderr>). nginx start-up failure (outside must_die) is one
failing assertion (plus the failing checks of the block) instead of a
BAIL_OUT. no_error_log emits one assertion per pattern even if several lines
match. error_log patterns are re-read for up to TEST_NGINX_ERROR_LOG_WAIT
seconds. After a failing block the tail of error.log is printed with diag.
Under valgrind each nginx process writes logs/valgrind.<pid>.log (the real
one leaves valgrind's output on the terminal) and a block whose nginx had
any valgrind report gets one more, failing, assertion with the report.

=cut
