/*
 * Unit tests of the credential, form-encoding and hashing part of the core,
 * through the C API only (include/oic_auth.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>

#include "oic_auth.h"

/* ---- helpers ---- */

/* "Basic " + base64(pair), with OpenSSL's encoder (independent of the core's). */
static char *basic_of(const char *prefix, const char *pair, size_t len)
{
    size_t plen = strlen(prefix);
    char *h = malloc(plen + 4 * ((len + 2) / 3) + 1);
    assert_non_null(h);
    memcpy(h, prefix, plen);
    EVP_EncodeBlock((unsigned char *) h + plen, (const unsigned char *) pair, (int) len);
    return h;
}

/*
 * oic_basic_parse_into agrees with oic_basic_parse on a header: the same
 * answer, the same credentials, located in a buffer of len bytes (what the
 * header says is always enough), nothing written past it.
 */
static void check_into(const char *hdr, size_t len, oic_basic_rc_t rc, const oic_basic_creds_t *c)
{
    char *buf = malloc(len + 16);
    assert_non_null(buf);
    memset(buf, 0x5a, len + 16);
    oic_basic_creds_t v;
    memset(&v, 0x5a, sizeof(v));
    assert_int_equal(oic_basic_parse_into(hdr, len, buf, len, &v), rc);
    if (rc == OIC_BASIC_OK) {
        assert_int_equal(v.client_id_len, c->client_id_len);
        assert_int_equal(v.secret_len, c->secret_len);
        assert_true(v.client_id >= buf && v.client_id + v.client_id_len < buf + len);
        assert_true(v.secret >= buf && v.secret + v.secret_len < buf + len);
        assert_memory_equal(v.client_id, c->client_id, c->client_id_len + 1);
        assert_memory_equal(v.secret, c->secret, c->secret_len + 1);
    } else {
        assert_null(v.client_id);
        assert_null(v.secret);
        assert_int_equal(v.client_id_len, 0);
        assert_int_equal(v.secret_len, 0);
    }
    for (size_t i = len; i < len + 16; i++)
        assert_int_equal((unsigned char) buf[i], 0x5a);
    free(buf);
}

static oic_basic_rc_t parse_str(const char *hdr, oic_basic_creds_t *c)
{
    size_t len = hdr ? strlen(hdr) : 0;
    oic_basic_rc_t rc = oic_basic_parse(hdr, len, c);
    check_into(hdr, len, rc, c);
    return rc;
}

static void assert_creds(const oic_basic_creds_t *c, const char *id, size_t id_len,
                         const char *secret, size_t secret_len)
{
    assert_non_null(c->client_id);
    assert_non_null(c->secret);
    assert_int_equal(c->client_id_len, id_len);
    assert_int_equal(c->secret_len, secret_len);
    assert_memory_equal(c->client_id, id, id_len);
    assert_int_equal(c->client_id[id_len], '\0');
    if (secret_len)
        assert_memory_equal(c->secret, secret, secret_len);
    assert_int_equal(c->secret[secret_len], '\0');
}

/* Parse "Basic " + base64(pair) and expect id/secret. */
static void expect_pair(const char *pair, size_t pair_len, const char *id, const char *secret)
{
    oic_basic_creds_t c;
    char *h = basic_of("Basic ", pair, pair_len);
    assert_int_equal(parse_str(h, &c), OIC_BASIC_OK);
    assert_creds(&c, id, strlen(id), secret, strlen(secret));
    oic_basic_creds_free(&c);
    free(h);
}

static void expect_rc(const char *hdr, size_t len, oic_basic_rc_t rc)
{
    oic_basic_creds_t c;
    memset(&c, 0x5a, sizeof(c));  /* must be zeroed on failure */
    assert_int_equal(oic_basic_parse(hdr, len, &c), rc);
    check_into(hdr, len, rc, &c);
    assert_null(c.client_id);
    assert_null(c.secret);
    assert_int_equal(c.client_id_len, 0);
    assert_int_equal(c.secret_len, 0);
}

static void expect_pair_malformed(const char *pair, size_t pair_len)
{
    char *h = basic_of("Basic ", pair, pair_len);
    expect_rc(h, strlen(h), OIC_BASIC_MALFORMED);
    free(h);
}

#define PAIR(s) s, sizeof(s) - 1

/* ---- oic_basic_parse_into (every header above also goes through check_into) ---- */

static void test_parse_into(void **state)
{
    (void) state;
    oic_basic_creds_t c;
    char buf[64];

    /* %-escapes and '+' decoded in place: "a%3Ab+c:d%25e:f" */
    char *h = basic_of("Basic ", PAIR("a%3Ab+c:d%25e:f"));
    memset(buf, 'x', sizeof(buf));
    assert_int_equal(oic_basic_parse_into(h, strlen(h), buf, sizeof(buf), &c), OIC_BASIC_OK);
    assert_creds(&c, PAIR("a:b c"), PAIR("d%e:f"));
    assert_true(c.client_id == buf);

    /* the buffer: exactly what the text can decode to plus a NUL, no less */
    const char *u = "Basic dXNlcjpwYXNz";  /* 12 base64 characters: 9 bytes */
    assert_int_equal(oic_basic_parse_into(u, strlen(u), buf, 12, &c), OIC_BASIC_OK);
    assert_creds(&c, PAIR("user"), PAIR("pass"));
    memset(&c, 0x5a, sizeof(c));
    assert_int_equal(oic_basic_parse_into(u, strlen(u), buf, 11, &c), OIC_BASIC_MALFORMED);
    assert_null(c.client_id);
    assert_null(c.secret);
    assert_int_equal(oic_basic_parse_into(u, strlen(u), buf, 0, &c), OIC_BASIC_MALFORMED);
    assert_int_equal(oic_basic_parse_into(u, strlen(u), NULL, 64, &c), OIC_BASIC_MALFORMED);
    assert_null(c.client_id);

    /* not Basic: no buffer needed; no header; nowhere to answer */
    assert_int_equal(oic_basic_parse_into("Bearer abc", 10, NULL, 0, &c), OIC_BASIC_NONE);
    assert_int_equal(oic_basic_parse_into(NULL, 5, buf, sizeof(buf), &c), OIC_BASIC_NONE);
    assert_int_equal(oic_basic_parse_into(u, strlen(u), buf, sizeof(buf), NULL), OIC_BASIC_MALFORMED);

    /* the length argument is honoured */
    const char *g = "Basic dXNlcjpwYXNzgarbage";
    assert_int_equal(oic_basic_parse_into(g, strlen(u), buf, sizeof(buf), &c), OIC_BASIC_OK);
    assert_creds(&c, PAIR("user"), PAIR("pass"));
    free(h);
}

/* ---- oic_basic_parse ---- */

static void test_parse_rfc7617_example(void **state)
{
    (void) state;
    oic_basic_creds_t c;
    assert_int_equal(parse_str("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", &c), OIC_BASIC_OK);
    assert_creds(&c, PAIR("Aladdin"), PAIR("open sesame"));
    oic_basic_creds_free(&c);
    assert_null(c.client_id);
    assert_null(c.secret);
    oic_basic_creds_free(&c); /* twice is harmless */
    oic_basic_creds_free(NULL);
}

static void test_parse_scheme_case_and_spaces(void **state)
{
    (void) state;
    static const char *const ok[] = {
        "basic dXNlcjpwYXNz",
        "BASIC dXNlcjpwYXNz",
        "bAsIc dXNlcjpwYXNz",
        "Basic    dXNlcjpwYXNz",
        "  Basic dXNlcjpwYXNz",
        "\t Basic dXNlcjpwYXNz \t",
        "Basic dXNlcjpwYXNz   ",
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        oic_basic_creds_t c;
        assert_int_equal(parse_str(ok[i], &c), OIC_BASIC_OK);
        assert_creds(&c, PAIR("user"), PAIR("pass"));
        oic_basic_creds_free(&c);
    }
    /* the length argument is honoured: bytes after len are not read */
    oic_basic_creds_t c;
    const char *h = "Basic dXNlcjpwYXNzgarbage";
    assert_int_equal(oic_basic_parse(h, strlen("Basic dXNlcjpwYXNz"), &c), OIC_BASIC_OK);
    assert_creds(&c, PAIR("user"), PAIR("pass"));
    oic_basic_creds_free(&c);
}

static void test_parse_other_schemes(void **state)
{
    (void) state;
    static const char *const none[] = {
        "", "   ", "\t", "Bearer dXNlcjpwYXNz", "Digest username=\"a\"", "Negotiate abc",
        "Basi", "Bas dXNlcjpwYXNz", "BasicdXNlcjpwYXNz", "Basic-X dXNlcjpwYXNz",
        "Basics dXNlcjpwYXNz", "dXNlcjpwYXNz",
    };
    for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
        expect_rc(none[i], strlen(none[i]), OIC_BASIC_NONE);
    expect_rc(NULL, 0, OIC_BASIC_NONE);
    expect_rc(NULL, 10, OIC_BASIC_NONE);
    assert_int_equal(oic_basic_parse("Basic dXNlcjpwYXNz", 18, NULL), OIC_BASIC_MALFORMED);
}

static void test_parse_empty_credentials(void **state)
{
    (void) state;
    static const char *const bad[] = {"Basic", "basic", "Basic ", "Basic     ", " Basic \t",
                                      "Basic\tdXNlcjpwYXNz", "Basic,dXNlcjpwYXNz"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_rc(bad[i], strlen(bad[i]), OIC_BASIC_MALFORMED);
    /* a NUL right after the scheme is not a separator */
    expect_rc("Basic\0dXNlcjpwYXNz", 18, OIC_BASIC_MALFORMED);
    /* '/' is no separator either, though "/zpwYXNz" is valid base64 ("\xff:pass") */
    expect_rc("Basic/zpwYXNz", 13, OIC_BASIC_MALFORMED);
    /* "Basic" ending exactly at len: nothing after it is read */
    expect_rc("Basicx dXNlcjpwYXNz", 5, OIC_BASIC_MALFORMED);
}

static void test_parse_bad_base64(void **state)
{
    (void) state;
    static const char *const bad[] = {
        "Basic dXNlcjpwYXNz!",                 /* bad char */
        "Basic dXNl*jpwYXNz",                  /* bad char */
        "Basic dXNlcj pwYXNz",                 /* space inside */
        "Basic dXNlcjpwYXNz dXNlcjpwYXNz",     /* two tokens */
        "Basic dXNlcjp-YXNz",                  /* base64url alphabet */
        "Basic dXNlcjp_YXNz",                  /* base64url alphabet */
        "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ",    /* padding missing */
        "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=",   /* padding short */
        "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ===", /* padding too long */
        "Basic QWxhZGRpbjpvcGVuIHNlc2FtZ===",  /* three '=' */
        "Basic QWxh=ZGRpbjpvcGVuIHNlc2FtZQ=",  /* '=' inside */
        "Basic YTpiYR==",                      /* non-canonical trailing bits */
        "Basic ====",
        "Basic =",
        "Basic dXNlcjpwYXNz\x01",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_rc(bad[i], strlen(bad[i]), OIC_BASIC_MALFORMED);
    /* the canonical form of "YTpiYR==" is fine */
    oic_basic_creds_t c;
    assert_int_equal(parse_str("Basic YTpiYQ==", &c), OIC_BASIC_OK);
    assert_creds(&c, PAIR("a"), PAIR("ba"));
    oic_basic_creds_free(&c);
}

static void test_parse_no_colon(void **state)
{
    (void) state;
    expect_pair_malformed(PAIR("user"));
    expect_pair_malformed(PAIR("user%3Apass")); /* only an encoded colon */
    expect_pair_malformed(PAIR("x"));
}

static void test_parse_control_chars(void **state)
{
    (void) state;
    expect_pair_malformed(PAIR("us\0er:pass"));
    expect_pair_malformed(PAIR("user:pa\0ss"));
    expect_pair_malformed(PAIR("user:pass\0"));
    expect_pair_malformed(PAIR("\0:pass"));
    expect_pair_malformed(PAIR("user:pa\nss"));
    expect_pair_malformed(PAIR("user:pa\rss"));
    expect_pair_malformed(PAIR("user:pa\tss"));
    expect_pair_malformed(PAIR("user:pa\x1fss"));
    expect_pair_malformed(PAIR("user:pa\x7fss"));
    expect_pair_malformed(PAIR("us\x01" "er:pass"));
    /* the same bytes %-encoded are refused too */
    expect_pair_malformed(PAIR("user:pa%00ss"));
    expect_pair_malformed(PAIR("us%00er:pass"));
    expect_pair_malformed(PAIR("user:pa%0Ass"));
    expect_pair_malformed(PAIR("user:pa%7Fss"));
    expect_pair_malformed(PAIR("user:pa%7fss"));
    /* 0x20 and 0x7e are fine */
    expect_pair(PAIR("u ser:p~ss"), "u ser", "p~ss");
}

static void test_parse_bad_escapes(void **state)
{
    (void) state;
    expect_pair_malformed(PAIR("user:%"));
    expect_pair_malformed(PAIR("user:%4"));
    expect_pair_malformed(PAIR("user:%zz"));
    expect_pair_malformed(PAIR("user:%4g"));
    expect_pair_malformed(PAIR("user:100%"));
    expect_pair_malformed(PAIR("user:100% off"));
    expect_pair_malformed(PAIR("%g1:pass"));
    expect_pair_malformed(PAIR("us%:pass"));
    expect_pair_malformed(PAIR("user%:pass"));
    expect_pair_malformed(PAIR("%%:pass"));
}

static void test_parse_empty_id(void **state)
{
    (void) state;
    expect_pair_malformed(PAIR(":secret"));
    expect_pair_malformed(PAIR(":"));
    expect_pair_malformed(PAIR("::"));
}

static void test_parse_empty_secret(void **state)
{
    (void) state;
    oic_basic_creds_t c;
    char *h = basic_of("Basic ", PAIR("client:"));
    assert_int_equal(parse_str(h, &c), OIC_BASIC_OK);
    assert_creds(&c, PAIR("client"), PAIR(""));
    assert_int_equal(c.secret[0], '\0');
    oic_basic_creds_free(&c);
    free(h);
}

static void test_parse_secret_characters(void **state)
{
    (void) state;
    /* encoded as RFC 6749 2.3.1 asks */
    expect_pair(PAIR("client:se%3Acret"), "client", "se:cret");
    expect_pair(PAIR("client:50%25"), "client", "50%");
    expect_pair(PAIR("client:a%2Bb"), "client", "a+b");
    expect_pair(PAIR("client:a%2Fb"), "client", "a/b");
    expect_pair(PAIR("client:a%7Eb"), "client", "a~b");
    expect_pair(PAIR("client:a+b"), "client", "a b");         /* '+' is a space */
    expect_pair(PAIR("client:p%C3%A4ss%E2%82%AC"), "client", "p\xc3\xa4ss\xe2\x82\xac");
    expect_pair(PAIR("cli%3Aent:x"), "cli:ent", "x");
    expect_pair(PAIR("my+app:x"), "my app", "x");
    /* sent raw by clients that do not encode */
    expect_pair(PAIR("client:se:cr:et"), "client", "se:cr:et");
    expect_pair(PAIR("client::"), "client", ":");
    expect_pair(PAIR("client:a/b~c"), "client", "a/b~c");
    expect_pair(PAIR("client:p\xc3\xa4ss\xe2\x82\xac"), "client", "p\xc3\xa4ss\xe2\x82\xac");
    expect_pair(PAIR("cl\xc3\xaf" "ent:x"), "cl\xc3\xaf" "ent", "x");
    expect_pair(PAIR("client:\xff\xfe"), "client", "\xff\xfe"); /* bytes pass through */
    expect_pair(PAIR("client:\"quoted\" 'x'"), "client", "\"quoted\" 'x'");
}

static void test_parse_length_limit(void **state)
{
    (void) state;
    char *pair = malloc(8192);
    assert_non_null(pair);
    memcpy(pair, "id:", 3);
    memset(pair + 3, 'x', 8192 - 3);

    /* exactly 4096 decoded bytes */
    char *h = basic_of("Basic ", pair, 4096);
    oic_basic_creds_t c;
    assert_int_equal(parse_str(h, &c), OIC_BASIC_OK);
    assert_int_equal(c.client_id_len, 2);
    assert_int_equal(c.secret_len, 4093);
    assert_int_equal(strlen(c.secret), 4093);
    oic_basic_creds_free(&c);
    free(h);

    /* 4097 and more */
    expect_pair_malformed(pair, 4097);
    expect_pair_malformed(pair, 4098);
    expect_pair_malformed(pair, 4099);
    expect_pair_malformed(pair, 8192);
    free(pair);

    /* a huge header of valid base64 */
    size_t big = 1 << 20;
    char *hdr = malloc(big);
    assert_non_null(hdr);
    memcpy(hdr, "Basic ", 6);
    memset(hdr + 6, 'A', big - 6);
    expect_rc(hdr, big, OIC_BASIC_MALFORMED);
    free(hdr);
}

/* ---- oic_basic_header ---- */

static void test_header_vectors(void **state)
{
    (void) state;
    char *h = oic_basic_header(PAIR("Aladdin"), PAIR("open sesame"));
    /* the space is form-encoded to '+' before base64 */
    assert_string_equal(h, "Basic QWxhZGRpbjpvcGVuK3Nlc2FtZQ==");
    oic_free(h);
    h = oic_basic_header(PAIR("user"), PAIR("pass"));
    assert_string_equal(h, "Basic dXNlcjpwYXNz");
    oic_free(h);
    h = oic_basic_header(PAIR("a:b"), PAIR("c"));         /* "a%3Ab:c" */
    assert_string_equal(h, "Basic YSUzQWI6Yw==");
    oic_free(h);
    h = oic_basic_header(PAIR("id"), NULL, 0);              /* "id:" */
    assert_string_equal(h, "Basic aWQ6");
    oic_free(h);
}

struct pair_case {
    const char *id;
    size_t      id_len;
    const char *secret;
    size_t      secret_len;
};

static void test_header_round_trip(void **state)
{
    (void) state;
    static const struct pair_case cases[] = {
        {PAIR("client"), PAIR("secret")},
        {PAIR("client"), PAIR("se:cr:et")},
        {PAIR("client"), PAIR(":")},
        {PAIR("cli:ent"), PAIR("x")},
        {PAIR("client"), PAIR("100%")},
        {PAIR("client"), PAIR("%41%zz%")},
        {PAIR("client"), PAIR("a+b+c")},
        {PAIR("client"), PAIR("a b  c ")},
        {PAIR("client"), PAIR("a/b//c")},
        {PAIR("client"), PAIR("~tilde~")},
        {PAIR("client"), PAIR("p\xc3\xa4ss\xe2\x82\xac\xf0\x9f\x94\x91")},
        {PAIR("cl\xc3\xaf" "ent"), PAIR("x")},
        {PAIR("client"), PAIR("")},
        {PAIR("c"), PAIR("!\"#$&'()*,;<=>?@[\\]^_`{|}")},
        {PAIR("0123456789abcdef0123456789abcdef"), PAIR("2ff3a0b0-0f3c-4b6e-b2e1-3e5f1e7c9d0a")},
        {PAIR("+"), PAIR("+")},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct pair_case *k = &cases[i];
        char *h = oic_basic_header(k->id, k->id_len, k->secret, k->secret_len);
        assert_non_null(h);
        assert_memory_equal(h, "Basic ", 6);
        oic_basic_creds_t c;
        assert_int_equal(parse_str(h, &c), OIC_BASIC_OK);
        assert_creds(&c, k->id, k->id_len, k->secret, k->secret_len);
        oic_basic_creds_free(&c);
        oic_free(h);
    }
}

static void test_header_round_trip_refused(void **state)
{
    (void) state;
    static const struct pair_case cases[] = {
        {PAIR(""), PAIR("secret")},        /* empty id */
        {NULL, 0, PAIR("secret")},
        {PAIR("client"), PAIR("a\0b")},    /* NUL travels as %00, still refused */
        {PAIR("cl\nient"), PAIR("x")},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct pair_case *k = &cases[i];
        char *h = oic_basic_header(k->id, k->id_len, k->secret, k->secret_len);
        assert_non_null(h);
        expect_rc(h, strlen(h), OIC_BASIC_MALFORMED);
        oic_free(h);
    }
    /* over the limit once encoded: 3000 '/' become 9000 bytes of %2F */
    char big[3000];
    memset(big, '/', sizeof(big));
    char *h = oic_basic_header(PAIR("client"), big, sizeof(big));
    assert_non_null(h);
    expect_rc(h, strlen(h), OIC_BASIC_MALFORMED);
    oic_free(h);
}

/* ---- form encoding ---- */

static void expect_form(const char *in, size_t len, const char *want)
{
    char *s = oic_form_encode(in, len);
    assert_non_null(s);
    assert_string_equal(s, want);
    oic_free(s);
}

static void test_form_encode(void **state)
{
    (void) state;
    expect_form(PAIR(""), "");
    expect_form(NULL, 0, "");
    expect_form(PAIR("ABCXYZabcxyz0189-._*"), "ABCXYZabcxyz0189-._*");
    expect_form(PAIR(" "), "+");
    expect_form(PAIR("a b"), "a+b");
    expect_form(PAIR("~"), "%7E");
    expect_form(PAIR("+"), "%2B");
    expect_form(PAIR("%"), "%25");
    expect_form(PAIR(":/?#[]@"), "%3A%2F%3F%23%5B%5D%40");
    expect_form(PAIR("!$&'()=,;"), "%21%24%26%27%28%29%3D%2C%3B");
    expect_form(PAIR("\"<>\\^`{|}"), "%22%3C%3E%5C%5E%60%7B%7C%7D");
    expect_form(PAIR("\xc3\xa9"), "%C3%A9");
    expect_form(PAIR("a\0b"), "a%00b");
    expect_form(PAIR("\x7f\xff\n"), "%7F%FF%0A");
    /* the OIC scope: primary audience + scope, no separator */
    expect_form(PAIR("https://abc.integration.us-ashburn-1.ocp.oraclecloud.com:443urn:opc:resource:consumer::all"),
                "https%3A%2F%2Fabc.integration.us-ashburn-1.ocp.oraclecloud.com%3A443urn%3Aopc%3Aresource%3Aconsumer%3A%3Aall");
    /* only len bytes are read */
    expect_form("abcdef", 3, "abc");
}

static void test_form_body(void **state)
{
    (void) state;
    const char *names[] = {"grant_type", "scope"};
    oic_str_t values[] = {
        {PAIR("client_credentials")},
        {PAIR("https://x.integration.ocp.oraclecloud.com:443urn:opc:resource:consumer::all "
              "https://x.integration.ocp.oraclecloud.com:443/ic/api/")},
    };
    char *b = oic_form_body(names, values, 2);
    assert_string_equal(b,
        "grant_type=client_credentials&scope="
        "https%3A%2F%2Fx.integration.ocp.oraclecloud.com%3A443urn%3Aopc%3Aresource%3Aconsumer%3A%3Aall"
        "+https%3A%2F%2Fx.integration.ocp.oraclecloud.com%3A443%2Fic%2Fapi%2F");
    oic_free(b);

    /* NULL values are skipped, wherever they are; empty values are kept */
    const char *n4[] = {"a", "b", "c", "d"};
    oic_str_t v4[] = {{NULL, 0}, {PAIR("x&y=z")}, {NULL, 5}, {PAIR("")}};
    b = oic_form_body(n4, v4, 4);
    assert_string_equal(b, "b=x%26y%3Dz&d=");
    oic_free(b);

    oic_str_t v_none[] = {{NULL, 0}};
    b = oic_form_body(n4, v_none, 1);
    assert_string_equal(b, "");
    oic_free(b);

    b = oic_form_body(NULL, NULL, 0);
    assert_string_equal(b, "");
    oic_free(b);
    assert_null(oic_form_body(NULL, v4, 1));
    assert_null(oic_form_body(n4, NULL, 1));

    const char *jwt_names[] = {"grant_type", "assertion", "scope"};
    oic_str_t jwt_values[] = {
        {PAIR("urn:ietf:params:oauth:grant-type:jwt-bearer")},
        {PAIR("eyJh.eyJz.c2ln-_")},
        {PAIR("urn:opc:resource:consumer::all")},
    };
    b = oic_form_body(jwt_names, jwt_values, 3);
    assert_string_equal(b, "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"
                           "&assertion=eyJh.eyJz.c2ln-_&scope=urn%3Aopc%3Aresource%3Aconsumer%3A%3Aall");
    oic_free(b);
}

/* ---- hashing ---- */

static void key_of(const char *tag, const oic_str_t *f, size_t n, unsigned char out[OIC_KEY_LEN])
{
    memset(out, 0, OIC_KEY_LEN);
    oic_cache_key(tag, f, n, out);
}

static void test_cache_key_known_answer(void **state)
{
    (void) state;
    /* SHA-256(be64(10) "oic-client" be64(2) "id" be64(6) "secret") */
    oic_str_t f[] = {{PAIR("id")}, {PAIR("secret")}};
    unsigned char k[OIC_KEY_LEN];
    char hex[2 * OIC_KEY_LEN + 1];
    key_of("oic-client", f, 2, k);
    oic_hex(k, OIC_KEY_LEN, hex);
    assert_string_equal(hex, "2e09be38e8d5418d517f356bc4fdb978fc709f187002a647886b85852db880a2");
    /* SHA-256(be64(0)) */
    key_of("", NULL, 0, k);
    oic_hex(k, OIC_KEY_LEN, hex);
    assert_string_equal(hex, "af5570f5a1810b7af78caf4bc70a660f0df51e42baf91d4de5b2328de0e83dfc");
    key_of(NULL, NULL, 0, k);
    oic_hex(k, OIC_KEY_LEN, hex);
    assert_string_equal(hex, "af5570f5a1810b7af78caf4bc70a660f0df51e42baf91d4de5b2328de0e83dfc");
}

static void test_cache_key_separation(void **state)
{
    (void) state;
    unsigned char a[OIC_KEY_LEN], b[OIC_KEY_LEN];

    oic_str_t f1[] = {{PAIR("client")}, {PAIR("secret")}};
    key_of("client", f1, 2, a);
    key_of("client", f1, 2, b);
    assert_memory_equal(a, b, OIC_KEY_LEN);                /* deterministic */

    key_of("user", f1, 2, b);
    assert_memory_not_equal(a, b, OIC_KEY_LEN);            /* tag */

    oic_str_t f2[] = {{PAIR("client")}, {PAIR("secret2")}};
    key_of("client", f2, 2, b);
    assert_memory_not_equal(a, b, OIC_KEY_LEN);            /* secret */

    oic_str_t ab_c[] = {{PAIR("ab")}, {PAIR("c")}};
    oic_str_t a_bc[] = {{PAIR("a")}, {PAIR("bc")}};
    oic_str_t abc[] = {{PAIR("abc")}};
    key_of("t", ab_c, 2, a);
    key_of("t", a_bc, 2, b);
    assert_memory_not_equal(a, b, OIC_KEY_LEN);            /* boundary */
    key_of("t", abc, 1, b);
    assert_memory_not_equal(a, b, OIC_KEY_LEN);            /* count */

    /* tag/field boundary: ("ta", ["b"]) vs ("t", ["ab"]) vs ("tab", []) */
    oic_str_t fb[] = {{PAIR("b")}};
    oic_str_t fab[] = {{PAIR("ab")}};
    unsigned char c[OIC_KEY_LEN];
    key_of("ta", fb, 1, a);
    key_of("t", fab, 1, b);
    key_of("tab", NULL, 0, c);
    assert_memory_not_equal(a, b, OIC_KEY_LEN);
    assert_memory_not_equal(a, c, OIC_KEY_LEN);
    assert_memory_not_equal(b, c, OIC_KEY_LEN);

    /* an empty trailing field counts */
    oic_str_t x[] = {{PAIR("x")}};
    oic_str_t x_empty[] = {{PAIR("x")}, {PAIR("")}};
    key_of("t", x, 1, a);
    key_of("t", x_empty, 2, b);
    assert_memory_not_equal(a, b, OIC_KEY_LEN);

    /* a length prefix cannot be forged by field content */
    oic_str_t two[] = {{PAIR("a")}, {PAIR("b")}};
    oic_str_t forged[] = {{"a\0\0\0\0\0\0\0\1b", 10}};
    key_of("t", two, 2, a);
    key_of("t", forged, 1, b);
    assert_memory_not_equal(a, b, OIC_KEY_LEN);

    /* bytes after len do not matter; bytes within it do */
    oic_str_t p1[] = {{"secretXXX", 6}};
    oic_str_t p2[] = {{"secretYYY", 6}};
    key_of("t", p1, 1, a);
    key_of("t", p2, 1, b);
    assert_memory_equal(a, b, OIC_KEY_LEN);
}

static void test_cache_key_bad_input(void **state)
{
    (void) state;
    /* invalid field lists give a key that matches nothing (not all zero, not stable) */
    unsigned char a[OIC_KEY_LEN], b[OIC_KEY_LEN], zero[OIC_KEY_LEN] = {0};
    key_of("t", NULL, 2, a);
    key_of("t", NULL, 2, b);
    assert_memory_not_equal(a, zero, OIC_KEY_LEN);
    assert_memory_not_equal(a, b, OIC_KEY_LEN);
    oic_str_t f[] = {{NULL, 3}};
    key_of("t", f, 1, a);
    key_of("t", NULL, 0, b);
    assert_memory_not_equal(a, b, OIC_KEY_LEN);
}

static void test_sha256_and_hex(void **state)
{
    (void) state;
    unsigned char k[OIC_KEY_LEN];
    char hex[2 * OIC_KEY_LEN + 1];
    oic_sha256("abc", 3, k);
    oic_hex(k, OIC_KEY_LEN, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    oic_sha256("", 0, k);
    oic_hex(k, OIC_KEY_LEN, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    oic_sha256(NULL, 0, k);
    oic_hex(k, OIC_KEY_LEN, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

    const unsigned char raw[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
    char buf[13];
    memset(buf, '#', sizeof(buf));
    oic_hex(raw, sizeof(raw), buf);
    assert_string_equal(buf, "00017f80abff");
    memset(buf, '#', sizeof(buf));
    oic_hex(raw, 2, buf);
    assert_string_equal(buf, "0001");
    assert_int_equal(buf[5], '#');                          /* writes exactly 2n+1 */
    oic_hex(raw, 0, buf);
    assert_string_equal(buf, "");
}
/* ---- keyed cache keys (HMAC-SHA256) ---- */

static void mac_hex(oic_mac_t *m, const char *tag, const oic_str_t *f, size_t n, char hex[2 * OIC_KEY_LEN + 1])
{
    unsigned char k[OIC_KEY_LEN];
    memset(k, 0, sizeof(k));
    oic_mac_key(m, tag, f, n, k);
    oic_hex(k, OIC_KEY_LEN, hex);
}

static void test_mac_known_answers(void **state)
{
    (void) state;
    /* computed with Python's hmac module over be64(len) tag be64(len) field ... */
    unsigned char k1[20], k2[131];
    char hex[2 * OIC_KEY_LEN + 1];
    memset(k1, 0x0b, sizeof(k1));
    memset(k2, 0xaa, sizeof(k2));

    oic_mac_t *m = oic_mac_new(k1, sizeof(k1));
    assert_non_null(m);
    mac_hex(m, "Hi There", NULL, 0, hex);
    assert_string_equal(hex, "70454c00e162637b41588d34d6e73e7ab2fb58fdde827b1e084ecaeb378dca60");
    oic_mac_free(m);

    /* a key longer than a SHA-256 block is hashed first (RFC 2104) */
    m = oic_mac_new(k2, sizeof(k2));
    oic_str_t f[] = {{PAIR("https://iam/token")}, {PAIR("app")}, {PAIR("s3cr3t")}, {PAIR("scope")}};
    mac_hex(m, "basic", f, 4, hex);
    assert_string_equal(hex, "0f7daa50e127cab8d7eba59e115838ece438519d0464f922d45031c7fc73019d");
    /* the prepared states are copied, never consumed: the same answer again */
    for (int i = 0; i < 3; i++) {
        mac_hex(m, "basic", f, 4, hex);
        assert_string_equal(hex, "0f7daa50e127cab8d7eba59e115838ece438519d0464f922d45031c7fc73019d");
    }
    oic_mac_free(m);

    m = oic_mac_new(NULL, 0);   /* an empty key is a valid HMAC key */
    assert_non_null(m);
    mac_hex(m, "", NULL, 0, hex);
    assert_string_equal(hex, "f375180aba92888401f1919be4a8715a62763b65c1c10e1d0858e81d4d6f9fd2");
    oic_mac_free(m);
    oic_mac_free(NULL);
}

/* Against OpenSSL's own HMAC(), for key lengths around the block size. */
static void test_mac_matches_openssl(void **state)
{
    (void) state;
    static const size_t lens[] = {1, 31, 32, 63, 64, 65, 200};
    unsigned char key[200], want[EVP_MAX_MD_SIZE], got[OIC_KEY_LEN];
    unsigned int wlen;
    /* be64(3) "log" be64(5) "abcde" */
    static const unsigned char msg[] = "\0\0\0\0\0\0\0\3log\0\0\0\0\0\0\0\5abcde";
    oic_str_t f[] = {{PAIR("abcde")}};

    for (size_t i = 0; i < sizeof(key); i++) key[i] = (unsigned char) (i * 7 + 1);
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        oic_mac_t *m = oic_mac_new(key, lens[i]);
        assert_non_null(m);
        oic_mac_key(m, "log", f, 1, got);
        assert_non_null(HMAC(EVP_sha256(), key, (int) lens[i], msg, sizeof(msg) - 1, want, &wlen));
        assert_int_equal(wlen, OIC_KEY_LEN);
        assert_memory_equal(got, want, OIC_KEY_LEN);
        oic_mac_free(m);
    }
}

/*
 * Inputs of every length around where the key input leaves the stack for the
 * heap (512 bytes), and much longer ones: the keys are SHA-256 and HMAC of
 * be64(len) tag be64(len) field, however the input is held.
 */
static void test_keys_long_inputs(void **state)
{
    (void) state;
    static unsigned char field[5000], msg[5100];
    unsigned char key[32], got[OIC_KEY_LEN], want[EVP_MAX_MD_SIZE];
    unsigned int wlen;
    size_t len, i, n;

    for (i = 0; i < sizeof(field); i++) field[i] = (unsigned char) (i * 13 + 5);
    memset(key, 7, sizeof(key));
    oic_mac_t *m = oic_mac_new(key, sizeof(key));
    assert_non_null(m);

    for (len = 440; len <= 5000; len += (len < 540) ? 1 : 1115) {
        oic_str_t f[] = {{PAIR("id")}, {(const char *) field, len}};
        n = 0;
        msg[n++] = 0; msg[n++] = 0; msg[n++] = 0; msg[n++] = 0;
        msg[n++] = 0; msg[n++] = 0; msg[n++] = 0; msg[n++] = 3;
        memcpy(msg + n, "tag", 3); n += 3;
        memset(msg + n, 0, 7); n += 7;
        msg[n++] = 2;
        memcpy(msg + n, "id", 2); n += 2;
        for (i = 0; i < 8; i++) msg[n++] = (unsigned char) ((uint64_t) len >> (56 - 8 * i));
        memcpy(msg + n, field, len); n += len;

        key_of("tag", f, 2, got);
        assert_non_null(EVP_Q_digest(NULL, "SHA256", NULL, msg, n, want, NULL));
        assert_memory_equal(got, want, OIC_KEY_LEN);

        oic_mac_key(m, "tag", f, 2, got);
        assert_non_null(HMAC(EVP_sha256(), key, sizeof(key), msg, n, want, &wlen));
        assert_memory_equal(got, want, OIC_KEY_LEN);
    }
    oic_mac_free(m);
}

/* OpenSSL's SipHash-2-4 (EVP_MAC "SIPHASH", 8-byte output): the oracle */
static uint64_t siphash_oracle(const unsigned char key[16], const unsigned char *msg, size_t n)
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
    assert_non_null(mac);
    EVP_MAC_CTX *c = EVP_MAC_CTX_new(mac);
    assert_non_null(c);
    size_t size = 8, got = 0;
    OSSL_PARAM params[] = {OSSL_PARAM_size_t("size", &size), OSSL_PARAM_END};
    unsigned char out[8];
    assert_int_equal(EVP_MAC_init(c, key, 16, params), 1);
    assert_int_equal(EVP_MAC_update(c, msg, n), 1);
    assert_int_equal(EVP_MAC_final(c, out, &got, sizeof(out)), 1);
    assert_int_equal(got, 8);
    EVP_MAC_CTX_free(c);
    EVP_MAC_free(mac);
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | out[i];  /* little-endian */
    return v;
}

/*
 * oic_siphash is SipHash-2-4 of be64(len) tag be64(len) field ...: the
 * paper's first test vector through the oracle, then every tail length of
 * the last word and inputs on both sides of KeyInput's 512-byte buffer,
 * against OpenSSL's implementation.
 */
static void test_siphash_matches_openssl(void **state)
{
    (void) state;
    static unsigned char field[5000], msg[5100];
    unsigned char key[16];
    uint64_t got;
    size_t len, i, n;

    for (i = 0; i < 16; i++) key[i] = (unsigned char) i;
    assert_true(siphash_oracle(key, msg, 0) == 0x726fdb47dd0e0e31ULL);

    for (i = 0; i < sizeof(field); i++) field[i] = (unsigned char) (i * 31 + 7);
    for (len = 0; len <= 5000; len += (len < 80 || (len >= 480 && len < 520)) ? 1 : 449) {
        for (i = 0; i < 16; i++) key[i] = (unsigned char) (len * 3 + i * 17);
        oic_str_t f[] = {{PAIR("id")}, {(const char *) field, len}};
        n = 0;
        memset(msg + n, 0, 7); n += 7;
        msg[n++] = 5;
        memcpy(msg + n, "basic", 5); n += 5;
        memset(msg + n, 0, 7); n += 7;
        msg[n++] = 2;
        memcpy(msg + n, "id", 2); n += 2;
        for (i = 0; i < 8; i++) msg[n++] = (unsigned char) ((uint64_t) len >> (56 - 8 * i));
        memcpy(msg + n, field, len); n += len;

        got = 0;
        assert_int_equal(oic_siphash(key, "basic", f, 2, &got), 0);
        assert_true(got == siphash_oracle(key, msg, n));
    }
}

static void test_siphash_separation(void **state)
{
    (void) state;
    unsigned char k1[16], k2[16];
    uint64_t a = 0, b = 0;
    oic_str_t f[] = {{PAIR("id")}, {PAIR("secret")}};

    memset(k1, 9, sizeof(k1));
    memcpy(k2, k1, sizeof(k2));
    k2[15] ^= 1;                                            /* one bit apart */
    assert_int_equal(oic_siphash(k1, "basic", f, 2, &a), 0);
    assert_int_equal(oic_siphash(k2, "basic", f, 2, &b), 0);
    assert_true(a != b);                                    /* the key matters */
    assert_int_equal(oic_siphash(k1, "basi", f, 2, &b), 0);
    assert_true(a != b);                                    /* tag */

    oic_str_t ab_c[] = {{PAIR("ab")}, {PAIR("c")}};
    oic_str_t a_bc[] = {{PAIR("a")}, {PAIR("bc")}};
    assert_int_equal(oic_siphash(k1, "t", ab_c, 2, &a), 0);
    assert_int_equal(oic_siphash(k1, "t", a_bc, 2, &b), 0);
    assert_true(a != b);                                    /* field boundary */

    /* what cannot be hashed says so */
    assert_int_equal(oic_siphash(k1, "t", NULL, 2, &a), -1);
    oic_str_t bad[] = {{NULL, 3}};
    assert_int_equal(oic_siphash(k1, "t", bad, 1, &a), -1);
    assert_int_equal(oic_siphash(NULL, "t", f, 2, &a), -1);
    assert_int_equal(oic_siphash(k1, "t", f, 2, NULL), -1);
    assert_int_equal(oic_siphash(k1, NULL, NULL, 0, &a), 0); /* no tag: empty, like oic_cache_key */
}

static void test_mac_separation(void **state)
{
    (void) state;
    unsigned char k1[32], k2[32], a[OIC_KEY_LEN], b[OIC_KEY_LEN], zero[OIC_KEY_LEN] = {0};
    oic_str_t f[] = {{PAIR("id")}, {PAIR("secret")}};

    memset(k1, 1, sizeof(k1));
    memset(k2, 1, sizeof(k2));
    k2[31] = 2;                                             /* one bit apart */
    oic_mac_t *m1 = oic_mac_new(k1, sizeof(k1)), *m2 = oic_mac_new(k2, sizeof(k2));

    oic_mac_key(m1, "basic", f, 2, a);
    oic_mac_key(m2, "basic", f, 2, b);
    assert_memory_not_equal(a, b, OIC_KEY_LEN);             /* the key matters */
    key_of("basic", f, 2, b);
    assert_memory_not_equal(a, b, OIC_KEY_LEN);             /* not the plain SHA-256 key */
    oic_mac_key(m1, "exchange", f, 2, b);
    assert_memory_not_equal(a, b, OIC_KEY_LEN);             /* tag */

    oic_str_t ab_c[] = {{PAIR("ab")}, {PAIR("c")}};
    oic_str_t a_bc[] = {{PAIR("a")}, {PAIR("bc")}};
    oic_mac_key(m1, "t", ab_c, 2, a);
    oic_mac_key(m1, "t", a_bc, 2, b);
    assert_memory_not_equal(a, b, OIC_KEY_LEN);             /* field boundary */

    /* invalid input or no key: a key that matches nothing */
    oic_mac_key(m1, "t", NULL, 2, a);
    oic_mac_key(m1, "t", NULL, 2, b);
    assert_memory_not_equal(a, b, OIC_KEY_LEN);
    assert_memory_not_equal(a, zero, OIC_KEY_LEN);
    oic_mac_key(NULL, "t", f, 2, a);
    oic_mac_key(NULL, "t", f, 2, b);
    assert_memory_not_equal(a, b, OIC_KEY_LEN);
    assert_null(oic_mac_new(NULL, 5));

    oic_mac_free(m1);
    oic_mac_free(m2);
}

static void test_random(void **state)
{
    (void) state;
    unsigned char a[32], b[32], zero[32] = {0};
    memset(a, 0, sizeof(a));
    memset(b, 0, sizeof(b));
    assert_int_equal(oic_random(a, sizeof(a)), 0);
    assert_int_equal(oic_random(b, sizeof(b)), 0);
    assert_memory_not_equal(a, b, sizeof(a));
    assert_memory_not_equal(a, zero, sizeof(a));
    assert_int_equal(oic_random(NULL, 0), 0);
    assert_int_equal(oic_random(NULL, 4), -1);
}


int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_rfc7617_example),
        cmocka_unit_test(test_parse_into),
        cmocka_unit_test(test_parse_scheme_case_and_spaces),
        cmocka_unit_test(test_parse_other_schemes),
        cmocka_unit_test(test_parse_empty_credentials),
        cmocka_unit_test(test_parse_bad_base64),
        cmocka_unit_test(test_parse_no_colon),
        cmocka_unit_test(test_parse_control_chars),
        cmocka_unit_test(test_parse_bad_escapes),
        cmocka_unit_test(test_parse_empty_id),
        cmocka_unit_test(test_parse_empty_secret),
        cmocka_unit_test(test_parse_secret_characters),
        cmocka_unit_test(test_parse_length_limit),
        cmocka_unit_test(test_header_vectors),
        cmocka_unit_test(test_header_round_trip),
        cmocka_unit_test(test_header_round_trip_refused),
        cmocka_unit_test(test_form_encode),
        cmocka_unit_test(test_form_body),
        cmocka_unit_test(test_cache_key_known_answer),
        cmocka_unit_test(test_cache_key_separation),
        cmocka_unit_test(test_cache_key_bad_input),
        cmocka_unit_test(test_keys_long_inputs),
        cmocka_unit_test(test_sha256_and_hex),
        cmocka_unit_test(test_mac_known_answers),
        cmocka_unit_test(test_mac_matches_openssl),
        cmocka_unit_test(test_mac_separation),
        cmocka_unit_test(test_siphash_matches_openssl),
        cmocka_unit_test(test_siphash_separation),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
