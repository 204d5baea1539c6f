/*
 * Unit tests of the token endpoint answer mapping, of a token's life in the
 * cache and of the backoff between failed calls, through the C API only
 * (include/oic_auth.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oic_auth.h"

/* A JWT as IAM issues it (shape only). */
#define JWT "eyJ4NXQjUzI1NiI6Ik1rN2Q.eyJzdWIiOiJjbGllbnQiLCJzdWJfdHlwZSI6ImNsaWVudCJ9.c2ln_-xYz0123"

/* ---- helpers ---- */

static oic_token_result_t parse(long status, const char *body)
{
    oic_token_result_t r;
    memset(&r, 0x5a, sizeof(r));  /* every field must be set by the parser */
    oic_token_response_parse(status, body, body ? strlen(body) : 0, &r);
    return r;
}

static void expect_ok(long status, const char *body, const char *token, long long expires_in)
{
    oic_token_result_t r = parse(status, body);
    assert_int_equal(r.rc, OIC_TOKEN_OK);
    assert_non_null(r.access_token);
    assert_string_equal(r.access_token, token);
    assert_int_equal(r.access_token_len, strlen(token));
    assert_int_equal(r.expires_in, expires_in);
    assert_string_equal(r.reason, "token issued");
    oic_token_result_free(&r);
    assert_null(r.access_token);
    assert_int_equal(r.access_token_len, 0);
}

static void expect_fail(long status, const char *body, oic_token_rc_t rc,
                        const char *error, const char *reason)
{
    oic_token_result_t r = parse(status, body);
    assert_int_equal(r.rc, rc);
    assert_null(r.access_token);
    assert_int_equal(r.access_token_len, 0);
    assert_int_equal(r.expires_in, -1);
    assert_string_equal(r.error, error);
    assert_string_equal(r.reason, reason);
    assert_null(strstr(r.reason, "eyJ"));  /* never the token */
    oic_token_result_free(&r);
}

static long long expires_of(const char *expires_json)
{
    char body[256];
    snprintf(body, sizeof(body),
             "{\"access_token\":\"abc\",\"token_type\":\"Bearer\",\"expires_in\":%s}", expires_json);
    oic_token_result_t r = parse(200, body);
    assert_int_equal(r.rc, OIC_TOKEN_OK);
    assert_string_equal(r.access_token, "abc");
    long long e = r.expires_in;
    oic_token_result_free(&r);
    return e;
}

/* ---- success ---- */

static void test_iam_success(void **state)
{
    (void) state;
    expect_ok(200, "{\"access_token\":\"" JWT "\",\"token_type\":\"Bearer\",\"expires_in\":3600}",
              JWT, 3600);
    oic_token_result_t r = parse(200, "{\"access_token\":\"" JWT "\",\"token_type\":\"Bearer\",\"expires_in\":3600}");
    assert_string_equal(r.error, "");
    oic_token_result_free(&r);
    /* other members, other order, whitespace */
    expect_ok(200, " {\n \"expires_in\" : 60 , \"scope\":\"urn:opc:resource:consumer::all\","
                   " \"token_type\":\"Bearer\", \"access_token\" : \"" JWT "\" }\n",
              JWT, 60);
    /* any 2xx */
    expect_ok(201, "{\"access_token\":\"t\",\"expires_in\":1}", "t", 1);
    expect_ok(299, "{\"access_token\":\"t\"}", "t", -1);
    /* RFC 8693 token exchange answer */
    expect_ok(200, "{\"access_token\":\"" JWT "\",\"issued_token_type\":"
                   "\"urn:ietf:params:oauth:token-type:access_token\",\"token_type\":\"Bearer\","
                   "\"expires_in\":86400}", JWT, 86400);
    /* bytes after len are not read */
    const char *b = "{\"access_token\":\"abc\"}GARBAGE";
    oic_token_result_t r2;
    oic_token_response_parse(200, b, strlen("{\"access_token\":\"abc\"}"), &r2);
    assert_int_equal(r2.rc, OIC_TOKEN_OK);
    assert_string_equal(r2.access_token, "abc");
    oic_token_result_free(&r2);
    oic_token_result_free(&r2);  /* twice is harmless */
    oic_token_result_free(NULL);
    oic_token_response_parse(200, b, 3, NULL);  /* no crash */
}

static void test_token_type(void **state)
{
    (void) state;
    expect_ok(200, "{\"access_token\":\"t\",\"token_type\":\"bearer\"}", "t", -1);
    expect_ok(200, "{\"access_token\":\"t\",\"token_type\":\"BEARER\"}", "t", -1);
    expect_ok(200, "{\"access_token\":\"t\"}", "t", -1);
    static const char *const bad[] = {
        "{\"access_token\":\"t\",\"token_type\":\"MAC\"}",
        "{\"access_token\":\"t\",\"token_type\":\"DPoP\"}",
        "{\"access_token\":\"t\",\"token_type\":\"Bearer \"}",
        "{\"access_token\":\"t\",\"token_type\":\"Bearerx\"}",
        "{\"access_token\":\"t\",\"token_type\":\"\"}",
        "{\"access_token\":\"t\",\"token_type\":null}",
        "{\"access_token\":\"t\",\"token_type\":1}",
        "{\"access_token\":\"t\",\"token_type\":[\"Bearer\"]}",
        "{\"access_token\":\"t\",\"token_type\":\"Bearer\\u0000\"}", /* NUL refused by jansson */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]) - 1; i++)
        expect_fail(200, bad[i], OIC_TOKEN_UPSTREAM_ERROR, "",
                    "malformed answer: token_type is not Bearer");
    expect_fail(200, bad[sizeof(bad) / sizeof(bad[0]) - 1], OIC_TOKEN_UPSTREAM_ERROR, "",
                "malformed answer: not a JSON object");
}

static void test_token_characters(void **state)
{
    (void) state;
    expect_ok(200, "{\"access_token\":\"AZaz09-._~+/\"}", "AZaz09-._~+/", -1);
    expect_ok(200, "{\"access_token\":\"abc=\"}", "abc=", -1);
    expect_ok(200, "{\"access_token\":\"abc===\"}", "abc===", -1);
    expect_ok(200, "{\"access_token\":\"\\/x\"}", "/x", -1);  /* JSON escape of '/' */
    expect_ok(200, "{\"access_token\":\"a\"}", "a", -1);
    static const char *const bad[] = {
        "{\"access_token\":\"ab cd\"}",
        "{\"access_token\":\" abcd\"}",
        "{\"access_token\":\"abcd \"}",
        "{\"access_token\":\"ab\\\"cd\"}",
        "{\"access_token\":\"ab'cd\"}",
        "{\"access_token\":\"ab,cd\"}",
        "{\"access_token\":\"ab\\\\cd\"}",
        "{\"access_token\":\"ab\\ncd\"}",
        "{\"access_token\":\"ab\\tcd\"}",
        "{\"access_token\":\"ab\\r\\nX-Injected: 1\"}",
        "{\"access_token\":\"ab=cd\"}",
        "{\"access_token\":\"=\"}",
        "{\"access_token\":\"===abc\"}",
        "{\"access_token\":\"t\\u00f6k\"}",
        "{\"access_token\":\"ab%41\"}",
        "{\"access_token\":\"ab:cd\"}",
        "{\"access_token\":\"ab\\u007fcd\"}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_fail(200, bad[i], OIC_TOKEN_UPSTREAM_ERROR, "",
                    "malformed answer: access_token has invalid characters");
    expect_fail(200, "{\"access_token\":\"\"}", OIC_TOKEN_UPSTREAM_ERROR, "",
                "malformed answer: access_token empty");
}

static void test_token_length(void **state)
{
    (void) state;
    size_t n = OIC_TOKEN_MAX_LEN + 1;
    char *body = malloc(n + 32);
    assert_non_null(body);
    int k = sprintf(body, "{\"access_token\":\"");
    memset(body + k, 'x', n);
    strcpy(body + k + n, "\"}");
    expect_fail(200, body, OIC_TOKEN_UPSTREAM_ERROR, "", "malformed answer: access_token too long");

    /* exactly OIC_TOKEN_MAX_LEN */
    strcpy(body + k + n - 1, "\"}");
    oic_token_result_t r = parse(200, body);
    assert_int_equal(r.rc, OIC_TOKEN_OK);
    assert_int_equal(r.access_token_len, OIC_TOKEN_MAX_LEN);
    assert_int_equal(strlen(r.access_token), OIC_TOKEN_MAX_LEN);
    oic_token_result_free(&r);
    free(body);
}

static void test_malformed_success(void **state)
{
    (void) state;
    static const char *const not_object[] = {
        "", " ", "<html><body>Bad Gateway</body></html>", "[]", "[{\"access_token\":\"t\"}]",
        "null", "\"t\"", "42", "{", "{\"access_token\":\"t\"", "{\"access_token\":\"t\"}}",
        "{'access_token':'t'}", "{\"access_token\":\"t\",}", "{\"access_token\":\"t\"} x",
        "{\"access_token\":\"t\",\"expires_in\":NaN}",
        "{\"access_token\":\"t\",\"expires_in\":Infinity}",
        "{\"access_token\":\"t\",\"expires_in\":1e999}",
        "{\"access_token\":\"t\",\"expires_in\":99999999999999999999}",
        "{\"access_token\":\"t\xff\"}",
    };
    for (size_t i = 0; i < sizeof(not_object) / sizeof(not_object[0]); i++)
        expect_fail(200, not_object[i], OIC_TOKEN_UPSTREAM_ERROR, "",
                    "malformed answer: not a JSON object");
    expect_fail(200, NULL, OIC_TOKEN_UPSTREAM_ERROR, "", "malformed answer: not a JSON object");

    oic_token_result_t r;
    oic_token_response_parse(200, NULL, 10, &r);
    assert_int_equal(r.rc, OIC_TOKEN_UPSTREAM_ERROR);
    assert_string_equal(r.reason, "malformed answer: not a JSON object");
    /* a NUL inside the body */
    oic_token_response_parse(200, "{\"access_token\":\"t\"}\0", 21, &r);
    assert_int_equal(r.rc, OIC_TOKEN_UPSTREAM_ERROR);
    assert_null(r.access_token);

    expect_fail(200, "{}", OIC_TOKEN_UPSTREAM_ERROR, "", "malformed answer: access_token missing");
    expect_fail(200, "{\"token\":\"" JWT "\"}", OIC_TOKEN_UPSTREAM_ERROR, "",
                "malformed answer: access_token missing");
    expect_fail(200, "{\"Access_Token\":\"t\"}", OIC_TOKEN_UPSTREAM_ERROR, "",
                "malformed answer: access_token missing");
    expect_fail(200, "{\"access_token\":null}", OIC_TOKEN_UPSTREAM_ERROR, "",
                "malformed answer: access_token not a string");
    expect_fail(200, "{\"access_token\":12345}", OIC_TOKEN_UPSTREAM_ERROR, "",
                "malformed answer: access_token not a string");
    expect_fail(200, "{\"access_token\":[\"t\"]}", OIC_TOKEN_UPSTREAM_ERROR, "",
                "malformed answer: access_token not a string");
    expect_fail(200, "{\"access_token\":{\"v\":\"t\"}}", OIC_TOKEN_UPSTREAM_ERROR, "",
                "malformed answer: access_token not a string");
    /* an OAuth error in a 200: still no token; the code is kept for the log */
    expect_fail(200, "{\"error\":\"invalid_client\"}", OIC_TOKEN_UPSTREAM_ERROR, "invalid_client",
                "malformed answer: access_token missing");
}

static void test_duplicate_keys(void **state)
{
    (void) state;
    expect_fail(200, "{\"access_token\":\"a\",\"access_token\":\"b\"}", OIC_TOKEN_UPSTREAM_ERROR, "",
                "malformed answer: not a JSON object");
    expect_fail(200, "{\"access_token\":\"a\",\"access_token\":\"a\"}", OIC_TOKEN_UPSTREAM_ERROR, "",
                "malformed answer: not a JSON object");
    expect_fail(200, "{\"access_token\":\"a\",\"token_type\":\"MAC\",\"token_type\":\"Bearer\"}",
                OIC_TOKEN_UPSTREAM_ERROR, "", "malformed answer: not a JSON object");
    expect_fail(400, "{\"error\":\"invalid_client\",\"error\":\"invalid_client\"}",
                OIC_TOKEN_UPSTREAM_ERROR, "", "IAM answered 400 without an OAuth error");
    /* duplicates in a nested object are refused too */
    expect_fail(200, "{\"access_token\":\"a\",\"x\":{\"k\":1,\"k\":2}}", OIC_TOKEN_UPSTREAM_ERROR, "",
                "malformed answer: not a JSON object");
}

static char *nested(size_t depth, const char *prefix, const char *suffix, int close)
{
    size_t pl = strlen(prefix), sl = strlen(suffix);
    char *b = malloc(pl + 2 * depth + sl + 1);
    assert_non_null(b);
    memcpy(b, prefix, pl);
    memset(b + pl, '[', depth);
    size_t n = pl + depth;
    if (close) {
        memset(b + n, ']', depth);
        n += depth;
    }
    memcpy(b + n, suffix, sl + 1);
    return b;
}

static void test_deep_nesting(void **state)
{
    (void) state;
    char *b = nested(10000, "", "", 0);
    expect_fail(200, b, OIC_TOKEN_UPSTREAM_ERROR, "", "malformed answer: not a JSON object");
    expect_fail(400, b, OIC_TOKEN_UPSTREAM_ERROR, "", "IAM answered 400 without an OAuth error");
    free(b);
    b = nested(10000, "", "", 1);
    expect_fail(200, b, OIC_TOKEN_UPSTREAM_ERROR, "", "malformed answer: not a JSON object");
    free(b);
    b = nested(10000, "{\"access_token\":\"t\",\"x\":", "}", 1);
    expect_fail(200, b, OIC_TOKEN_UPSTREAM_ERROR, "", "malformed answer: not a JSON object");
    free(b);
    b = nested(10000, "{\"error\":\"invalid_client\",\"x\":", "}", 1);
    expect_fail(401, b, OIC_TOKEN_UPSTREAM_ERROR, "", "IAM answered 401 without an OAuth error");
    free(b);
    /* moderate nesting is fine */
    b = nested(100, "{\"access_token\":\"t\",\"x\":", "}", 1);
    expect_ok(200, b, "t", -1);
    free(b);
}

static void test_oversized(void **state)
{
    (void) state;
    const char *json = "{\"access_token\":\"t\",\"expires_in\":60}";
    size_t jl = strlen(json);
    char *b = malloc(OIC_TOKEN_MAX_BODY + 2);
    assert_non_null(b);
    /* valid JSON padded with whitespace to exactly the limit: accepted */
    memset(b, ' ', OIC_TOKEN_MAX_BODY + 1);
    memcpy(b, json, jl);
    b[OIC_TOKEN_MAX_BODY] = '\0';
    expect_ok(200, b, "t", 60);
    /* one byte more: refused before parsing */
    b[OIC_TOKEN_MAX_BODY] = ' ';
    b[OIC_TOKEN_MAX_BODY + 1] = '\0';
    expect_fail(200, b, OIC_TOKEN_UPSTREAM_ERROR, "", "oversized answer (HTTP 200)");
    memcpy(b, "{\"error\":\"invalid_client\"}", 26);
    expect_fail(401, b, OIC_TOKEN_UPSTREAM_ERROR, "", "oversized answer (HTTP 401)");
    free(b);
}

/* ---- expires_in ---- */

static void test_expires_in(void **state)
{
    (void) state;
    assert_int_equal(expires_of("3600"), 3600);
    assert_int_equal(expires_of("1"), 1);
    assert_int_equal(expires_of("60"), 60);
    assert_int_equal(expires_of("86400"), 86400);
    assert_int_equal(expires_of("86401"), OIC_EXPIRES_MAX);
    assert_int_equal(expires_of("9223372036854775807"), OIC_EXPIRES_MAX);
    assert_int_equal(expires_of("0"), -1);
    assert_int_equal(expires_of("-0"), -1);
    assert_int_equal(expires_of("-5"), -1);
    assert_int_equal(expires_of("-9223372036854775808"), -1);
    assert_int_equal(expires_of("null"), -1);
    assert_int_equal(expires_of("true"), -1);
    assert_int_equal(expires_of("false"), -1);
    assert_int_equal(expires_of("[3600]"), -1);
    assert_int_equal(expires_of("{\"s\":3600}"), -1);
    /* reals */
    assert_int_equal(expires_of("3600.7"), 3600);
    assert_int_equal(expires_of("3600.0"), 3600);
    assert_int_equal(expires_of("3.6e3"), 3600);
    assert_int_equal(expires_of("1.0"), 1);
    assert_int_equal(expires_of("1.9999"), 1);
    assert_int_equal(expires_of("0.5"), -1);
    assert_int_equal(expires_of("0.0"), -1);
    assert_int_equal(expires_of("-0.5"), -1);
    assert_int_equal(expires_of("-1e30"), -1);
    assert_int_equal(expires_of("1e30"), OIC_EXPIRES_MAX);
    assert_int_equal(expires_of("86400.5"), OIC_EXPIRES_MAX);
    assert_int_equal(expires_of("86399.9"), 86399);
    assert_int_equal(expires_of("1e308"), OIC_EXPIRES_MAX);
    /* strings */
    assert_int_equal(expires_of("\"3600\""), 3600);
    assert_int_equal(expires_of("\"1\""), 1);
    assert_int_equal(expires_of("\"0003600\""), 3600);
    assert_int_equal(expires_of("\"86401\""), OIC_EXPIRES_MAX);
    assert_int_equal(expires_of("\"99999999999999999999999999999999\""), OIC_EXPIRES_MAX);
    assert_int_equal(expires_of("\"0\""), -1);
    assert_int_equal(expires_of("\"\""), -1);
    assert_int_equal(expires_of("\"abc\""), -1);
    assert_int_equal(expires_of("\"NaN\""), -1);
    assert_int_equal(expires_of("\"-5\""), -1);
    assert_int_equal(expires_of("\"+5\""), -1);
    assert_int_equal(expires_of("\"36 00\""), -1);
    assert_int_equal(expires_of("\" 3600\""), -1);
    assert_int_equal(expires_of("\"3600.5\""), -1);
    assert_int_equal(expires_of("\"3600s\""), -1);
    assert_int_equal(expires_of("\"1e3\""), -1);
    /* missing */
    expect_ok(200, "{\"access_token\":\"t\",\"token_type\":\"Bearer\"}", "t", -1);
}

/* ---- error answers ---- */

static void test_rate_limited(void **state)
{
    (void) state;
    expect_fail(429, "", OIC_TOKEN_RATE_LIMITED, "", "IAM answered 429 (rate limited)");
    expect_fail(429, NULL, OIC_TOKEN_RATE_LIMITED, "", "IAM answered 429 (rate limited)");
    expect_fail(429, "{\"error\":\"too_many_requests\"}", OIC_TOKEN_RATE_LIMITED, "",
                "IAM answered 429 (rate limited)");
    /* even with a token in it */
    expect_fail(429, "{\"access_token\":\"t\"}", OIC_TOKEN_RATE_LIMITED, "",
                "IAM answered 429 (rate limited)");
}

static void test_iam_errors(void **state)
{
    (void) state;
    /* the real IAM bodies */
    static const char iam_invalid_client[] =
        "{\"error\":\"invalid_client\",\"error_description\":\"Client authentication failed.\","
        "\"ecid\":\"q2TBp1Ji00000000\"}";
    static const char iam_unauthorized_client[] =
        "{\"error\":\"unauthorized_client\",\"error_description\":\"Client authorization failed.\"}";
    expect_fail(401, iam_invalid_client, OIC_TOKEN_INVALID_CLIENT, "invalid_client",
                "IAM error invalid_client");
    expect_fail(400, iam_invalid_client, OIC_TOKEN_INVALID_CLIENT, "invalid_client",
                "IAM error invalid_client");
    expect_fail(403, iam_invalid_client, OIC_TOKEN_INVALID_CLIENT, "invalid_client",
                "IAM error invalid_client");
    expect_fail(400, iam_unauthorized_client, OIC_TOKEN_FORBIDDEN, "unauthorized_client",
                "IAM error unauthorized_client");
    expect_fail(401, iam_unauthorized_client, OIC_TOKEN_FORBIDDEN, "unauthorized_client",
                "IAM error unauthorized_client");
    expect_fail(400, "{\"error\":\"invalid_scope\",\"error_description\":\"Required scope missing\"}",
                OIC_TOKEN_FORBIDDEN, "invalid_scope", "IAM error invalid_scope");
    expect_fail(403, "{\"error\":\"invalid_scope\"}", OIC_TOKEN_FORBIDDEN, "invalid_scope",
                "IAM error invalid_scope");
    expect_fail(400, "{\"error\":\"invalid_grant\"}", OIC_TOKEN_FORBIDDEN, "invalid_grant",
                "IAM error invalid_grant");

    /* our request's fault, IAM's, or unknown: 502 */
    expect_fail(400, "{\"error\":\"invalid_request\"}", OIC_TOKEN_UPSTREAM_ERROR, "invalid_request",
                "IAM error invalid_request (HTTP 400)");
    expect_fail(400, "{\"error\":\"unsupported_grant_type\"}", OIC_TOKEN_UPSTREAM_ERROR,
                "unsupported_grant_type", "IAM error unsupported_grant_type (HTTP 400)");
    expect_fail(403, "{\"error\":\"access_denied\"}", OIC_TOKEN_UPSTREAM_ERROR, "access_denied",
                "IAM error access_denied (HTTP 403)");
    expect_fail(401, "{\"error\":\"\"}", OIC_TOKEN_UPSTREAM_ERROR, "", "IAM error  (HTTP 401)");
    /* codes are case-sensitive (RFC 6749 5.2) */
    expect_fail(401, "{\"error\":\"INVALID_CLIENT\"}", OIC_TOKEN_UPSTREAM_ERROR, "INVALID_CLIENT",
                "IAM error INVALID_CLIENT (HTTP 401)");
    expect_fail(401, "{\"error\":\"invalid_client \"}", OIC_TOKEN_UPSTREAM_ERROR, "invalid_client ",
                "IAM error invalid_client  (HTTP 401)");

    /* no readable OAuth error: conservative 502, even on 401 */
    static const char *const unreadable[] = {
        "", "Unauthorized", "<html>401</html>", "{}", "[]", "{\"error\":5}", "{\"error\":null}",
        "{\"error\":[\"invalid_client\"]}", "{\"error_description\":\"Client authentication failed.\"}",
        "{\"error\":\"invalid_client\"", "{\"error\":\"invalid\\u0000client\"}",
    };
    for (size_t i = 0; i < sizeof(unreadable) / sizeof(unreadable[0]); i++) {
        expect_fail(401, unreadable[i], OIC_TOKEN_UPSTREAM_ERROR, "",
                    "IAM answered 401 without an OAuth error");
        expect_fail(400, unreadable[i], OIC_TOKEN_UPSTREAM_ERROR, "",
                    "IAM answered 400 without an OAuth error");
        expect_fail(403, unreadable[i], OIC_TOKEN_UPSTREAM_ERROR, "",
                    "IAM answered 403 without an OAuth error");
    }
    expect_fail(401, NULL, OIC_TOKEN_UPSTREAM_ERROR, "", "IAM answered 401 without an OAuth error");

    /* a token in an error answer is ignored */
    expect_fail(400, "{\"error\":\"invalid_grant\",\"access_token\":\"" JWT "\"}", OIC_TOKEN_FORBIDDEN,
                "invalid_grant", "IAM error invalid_grant");
}

static void test_error_code_sanitized(void **state)
{
    (void) state;
    expect_fail(400, "{\"error\":\"bad\\u0001code\"}", OIC_TOKEN_UPSTREAM_ERROR, "?",
                "IAM error ? (HTTP 400)");
    expect_fail(400, "{\"error\":\"inv\\u00e9lid\"}", OIC_TOKEN_UPSTREAM_ERROR, "?",
                "IAM error ? (HTTP 400)");
    expect_fail(400, "{\"error\":\"a\\nb\"}", OIC_TOKEN_UPSTREAM_ERROR, "?", "IAM error ? (HTTP 400)");
    expect_fail(400, "{\"error\":\"a\\u007fb\"}", OIC_TOKEN_UPSTREAM_ERROR, "?", "IAM error ? (HTTP 400)");
    expect_fail(400, "{\"error\":\" !~\\\"x\"}", OIC_TOKEN_UPSTREAM_ERROR, " !~\"x",
                "IAM error  !~\"x (HTTP 400)");

    /* truncated to 63 characters; the reason still fits */
    char body[400], want_err[64], want_reason[128];
    char code[200];
    for (int i = 0; i < 199; i++) code[i] = 'a' + i % 26;
    code[199] = '\0';
    snprintf(body, sizeof(body), "{\"error\":\"%s\"}", code);
    memcpy(want_err, code, 63);
    want_err[63] = '\0';
    snprintf(want_reason, sizeof(want_reason), "IAM error %s (HTTP 400)", want_err);
    expect_fail(400, body, OIC_TOKEN_UPSTREAM_ERROR, want_err, want_reason);

    /* a long code that starts with a known one is not that code */
    snprintf(body, sizeof(body), "{\"error\":\"invalid_client%s\"}", code);
    oic_token_result_t r = parse(401, body);
    assert_int_equal(r.rc, OIC_TOKEN_UPSTREAM_ERROR);
    assert_int_equal(strlen(r.error), 63);
    assert_memory_equal(r.error, "invalid_client", 14);
    oic_token_result_free(&r);
}

static void test_other_statuses(void **state)
{
    (void) state;
    static const char ok_body[] = "{\"access_token\":\"" JWT "\",\"token_type\":\"Bearer\",\"expires_in\":3600}";
    static const long statuses[] = {500, 502, 503, 504, 599, 404, 405, 402, 409, 418, 300, 302, 304,
                                    100, 199, 600, 999, -1};
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        char want[64];
        snprintf(want, sizeof(want), "IAM answered %ld", statuses[i]);
        expect_fail(statuses[i], ok_body, OIC_TOKEN_UPSTREAM_ERROR, "", want);
        expect_fail(statuses[i], "{\"error\":\"invalid_client\"}", OIC_TOKEN_UPSTREAM_ERROR, "", want);
        expect_fail(statuses[i], "", OIC_TOKEN_UPSTREAM_ERROR, "", want);
    }
    expect_fail(0, "", OIC_TOKEN_UPSTREAM_ERROR, "", "no answer from IAM");
    expect_fail(0, NULL, OIC_TOKEN_UPSTREAM_ERROR, "", "no answer from IAM");
    expect_fail(0, ok_body, OIC_TOKEN_UPSTREAM_ERROR, "", "no answer from IAM");
}

static void test_reason_never_has_token(void **state)
{
    (void) state;
    static const char *const bodies[] = {
        "{\"access_token\":\"SECRETTOKEN\",\"token_type\":\"MAC\"}",
        "{\"access_token\":\"SECRETTOKEN with space\"}",
        "{\"access_token\":\"SECRETTOKEN\",\"access_token\":\"SECRETTOKEN\"}",
        "{\"error\":\"invalid_grant\",\"access_token\":\"SECRETTOKEN\"}",
        "SECRETTOKEN",
    };
    static const long statuses[] = {200, 400, 401, 403, 429, 500};
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        for (size_t j = 0; j < sizeof(statuses) / sizeof(statuses[0]); j++) {
            oic_token_result_t r = parse(statuses[j], bodies[i]);
            assert_null(strstr(r.reason, "SECRETTOKEN"));
            assert_null(strstr(r.reason, "{"));
            if (r.rc != OIC_TOKEN_OK)
                assert_null(r.access_token);
            oic_token_result_free(&r);
        }
    }
}

/* ---- oic_token_life ---- */

static int life(long long now, long long expires_in, long long jwt_exp,
                long long margin, oic_token_life_t *l)
{
    memset(l, 0x5a, sizeof(*l));  /* every field must be set */
    return oic_token_life(now, expires_in, jwt_exp, margin, l);
}

static void test_life(void **state)
{
    oic_token_life_t l;
    (void) state;

    /* expires_in sets the end, the refresh starts margin before it */
    assert_int_equal(life(1000, 3600, -1, 60, &l), OIC_LIFE_OK);
    assert_true(l.real_end == 4600 && l.refresh_at == 4540 && l.by_exp == 0);
    assert_int_equal(life(1000, 3600, -1, 0, &l), OIC_LIFE_OK);
    assert_true(l.real_end == 4600 && l.refresh_at == 4600);
    assert_int_equal(life(1000, 61, -1, 60, &l), OIC_LIFE_OK);
    assert_true(l.real_end == 1061 && l.refresh_at == 1001);

    /* an earlier exp claim shortens the life; a later one does not lengthen it */
    assert_int_equal(life(1000, 3600, 1600, 60, &l), OIC_LIFE_OK);
    assert_true(l.real_end == 1600 && l.refresh_at == 1540 && l.by_exp == 1);
    assert_int_equal(life(1000, 3600, 9000, 60, &l), OIC_LIFE_OK);
    assert_true(l.real_end == 4600 && l.by_exp == 0);
    assert_int_equal(life(1000, 3600, 4600, 60, &l), OIC_LIFE_OK);
    assert_true(l.real_end == 4600 && l.by_exp == 0);
    /* exp = IAM's iat + expires_in, with a second turned since its iat: the
       exp still ends it, but that is no shorter life to speak of */
    assert_int_equal(life(1001, 3600, 4600, 60, &l), OIC_LIFE_OK);
    assert_true(l.real_end == 4600 && l.refresh_at == 4540 && l.by_exp == 0);
    assert_int_equal(life(1002, 3600, 4600, 60, &l), OIC_LIFE_OK);
    assert_true(l.real_end == 4600 && l.by_exp == 1);

    /* life not longer than the margin: the refresh starts halfway */
    assert_int_equal(life(1000, 60, -1, 60, &l), OIC_LIFE_SHORT);
    assert_true(l.real_end == 1060 && l.refresh_at == 1030);
    assert_int_equal(life(1000, 30, -1, 60, &l), OIC_LIFE_SHORT);
    assert_true(l.real_end == 1030 && l.refresh_at == 1015);
    assert_int_equal(life(1000, 3600, 1010, 60, &l), OIC_LIFE_SHORT);
    assert_true(l.real_end == 1010 && l.refresh_at == 1005 && l.by_exp == 1);
    assert_int_equal(life(1000, 1, -1, 60, &l), OIC_LIFE_SHORT);
    assert_true(l.real_end == 1001 && l.refresh_at == 1000);

    /* not cacheable */
    assert_int_equal(life(1000, -1, -1, 60, &l), OIC_LIFE_NONE);
    assert_true(l.real_end == 0 && l.refresh_at == 0);
    assert_int_equal(life(1000, -1, 5000, 60, &l), OIC_LIFE_NONE);
    assert_int_equal(life(1000, 3600, 1000, 60, &l), OIC_LIFE_EXPIRED);
    assert_true(l.real_end == 0 && l.by_exp == 1);
    assert_int_equal(life(1000, 3600, 0, 60, &l), OIC_LIFE_EXPIRED);
    assert_int_equal(life(1000, 0, -1, 0, &l), OIC_LIFE_EXPIRED);

    /* bounds */
    assert_int_equal(life(1000, INT64_MAX, -1, 60, &l), OIC_LIFE_OK);
    assert_true(l.real_end == 1000 + OIC_EXPIRES_MAX);
    assert_int_equal(life(1000, 3600, -1, -5, &l), OIC_LIFE_OK);
    assert_true(l.refresh_at == 4600);
    assert_int_equal(life(1000, 3600, -1, INT64_MAX, &l), OIC_LIFE_SHORT);
    assert_true(l.refresh_at == 2800);
    assert_int_equal(oic_token_life(1000, 3600, -1, 60, NULL), OIC_LIFE_NONE);
}

/* ---- oic_backoff_ms ---- */

static void test_backoff(void **state)
{
    (void) state;

    /* 1 s doubling, capped at 30 s; rnd 2^31 is the middle: no jitter */
    assert_int_equal(oic_backoff_ms(0, 1000, 30000, 1u << 31), 0);
    assert_int_equal(oic_backoff_ms(1, 1000, 30000, 1u << 31), 1000);
    assert_int_equal(oic_backoff_ms(2, 1000, 30000, 1u << 31), 2000);
    assert_int_equal(oic_backoff_ms(3, 1000, 30000, 1u << 31), 4000);
    assert_int_equal(oic_backoff_ms(5, 1000, 30000, 1u << 31), 16000);
    assert_int_equal(oic_backoff_ms(6, 1000, 30000, 1u << 31), 30000);
    assert_int_equal(oic_backoff_ms(1000, 1000, 30000, 1u << 31), 30000);
    assert_int_equal(oic_backoff_ms(UINT32_MAX, 1000, 30000, 1u << 31), 30000);

    /* jitter: [0.8, 1.2) times the wait */
    assert_int_equal(oic_backoff_ms(1, 1000, 30000, 0), 800);
    assert_int_equal(oic_backoff_ms(1, 1000, 30000, UINT32_MAX), 1199);
    assert_int_equal(oic_backoff_ms(6, 1000, 30000, 0), 24000);
    assert_int_equal(oic_backoff_ms(6, 1000, 30000, UINT32_MAX), 35999);

    /* a cap under the base is the base; no base, no wait */
    assert_int_equal(oic_backoff_ms(3, 5000, 1000, 1u << 31), 5000);
    assert_int_equal(oic_backoff_ms(3, 0, 1000, 1u << 31), 0);
    assert_int_equal(oic_backoff_ms(3, -1, 1000, 1u << 31), 0);
    assert_true(oic_backoff_ms(64, INT64_MAX / 4, INT64_MAX / 2, 1u << 31)
                == INT64_MAX / 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iam_success),
        cmocka_unit_test(test_token_type),
        cmocka_unit_test(test_token_characters),
        cmocka_unit_test(test_token_length),
        cmocka_unit_test(test_malformed_success),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_oversized),
        cmocka_unit_test(test_expires_in),
        cmocka_unit_test(test_rate_limited),
        cmocka_unit_test(test_iam_errors),
        cmocka_unit_test(test_error_code_sanitized),
        cmocka_unit_test(test_other_statuses),
        cmocka_unit_test(test_reason_never_has_token),
        cmocka_unit_test(test_life),
        cmocka_unit_test(test_backoff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
