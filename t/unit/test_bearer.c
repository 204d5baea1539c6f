/* Bearer credential parsing (RFC 6750 2.1) through the C API. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "oic_auth.h"

/*
 * oic_bearer_locate agrees with oic_bearer_parse's answer rc (and place):
 * the same answer, except OK where parse refused what is in the place.
 */
static void check_locate(const char *h, size_t n, oic_bearer_rc_t rc, size_t off, size_t len)
{
    size_t o = 99, l = 99;
    oic_bearer_rc_t lrc = oic_bearer_locate(h, n, &o, &l);
    if (rc == OIC_BEARER_MALFORMED && lrc == OIC_BEARER_OK) {
        assert_true(l > 0 && o + l <= n);
        return;
    }
    assert_int_equal(lrc, rc);
    if (rc == OIC_BEARER_OK) {
        assert_int_equal(o, off);
        assert_int_equal(l, len);
    } else {
        assert_int_equal(o, 99);   /* untouched */
        assert_int_equal(l, 99);
    }
}

static oic_bearer_rc_t parse(const char *h, char *tok, size_t toksz)
{
    size_t off = 0, len = 0;
    oic_bearer_rc_t rc = oic_bearer_parse(h, strlen(h), &off, &len);
    check_locate(h, strlen(h), rc, off, len);
    tok[0] = '\0';
    if (rc == OIC_BEARER_OK) {
        assert_true(len < toksz);
        memcpy(tok, h + off, len);
        tok[len] = '\0';
    }
    return rc;
}

static void test_valid(void **state)
{
    char tok[256];
    (void) state;
    assert_int_equal(parse("Bearer abc.def.ghi", tok, sizeof tok), OIC_BEARER_OK);
    assert_string_equal(tok, "abc.def.ghi");
    assert_int_equal(parse("bearer   a-b_c~d+e/f==", tok, sizeof tok), OIC_BEARER_OK);
    assert_string_equal(tok, "a-b_c~d+e/f==");
    assert_int_equal(parse("  BEARER x  ", tok, sizeof tok), OIC_BEARER_OK);
    assert_string_equal(tok, "x");
}

static void test_other_schemes(void **state)
{
    char tok[64];
    (void) state;
    assert_int_equal(parse("", tok, sizeof tok), OIC_BEARER_NONE);
    assert_int_equal(parse("Basic dXNlcjpwYXNz", tok, sizeof tok), OIC_BEARER_NONE);
    assert_int_equal(parse("Bearerx abc", tok, sizeof tok), OIC_BEARER_NONE);
    assert_int_equal(parse("Bear abc", tok, sizeof tok), OIC_BEARER_NONE);
    size_t off, len;
    assert_int_equal(oic_bearer_parse(NULL, 0, &off, &len), OIC_BEARER_NONE);
    assert_int_equal(oic_bearer_locate(NULL, 0, &off, &len), OIC_BEARER_NONE);
    assert_int_equal(oic_bearer_locate("Bearer x", 8, NULL, &len), OIC_BEARER_NONE);
    assert_int_equal(oic_bearer_locate("Bearer x", 8, &off, NULL), OIC_BEARER_NONE);
}

static void test_malformed(void **state)
{
    char tok[64];
    (void) state;
    assert_int_equal(parse("Bearer", tok, sizeof tok), OIC_BEARER_MALFORMED);
    assert_int_equal(parse("Bearer ", tok, sizeof tok), OIC_BEARER_MALFORMED);
    assert_int_equal(parse("Bearer a b", tok, sizeof tok), OIC_BEARER_MALFORMED);
    assert_int_equal(parse("Bearer a,b", tok, sizeof tok), OIC_BEARER_MALFORMED);
    assert_int_equal(parse("Bearer \"abc\"", tok, sizeof tok), OIC_BEARER_MALFORMED);
    assert_int_equal(parse("Bearer ab=c", tok, sizeof tok), OIC_BEARER_MALFORMED);
    assert_int_equal(parse("Bearer ===", tok, sizeof tok), OIC_BEARER_MALFORMED);
    assert_int_equal(parse("Bearer a\tb", tok, sizeof tok), OIC_BEARER_MALFORMED);
    const char nul[] = "Bearer ab\0cd";
    size_t off, len;
    assert_int_equal(oic_bearer_parse(nul, sizeof nul - 1, &off, &len), OIC_BEARER_MALFORMED);
}

/*
 * Every byte value at every place of tokens of 1 to 40 characters (the check
 * reads sixteen bytes at a time where it can, then eight, then the rest one
 * by one): a token is valid exactly when each of its characters is a
 * b64token one, '=' only at the end.
 */
static void test_every_byte(void **state)
{
    char hdr[64], tok[48];
    size_t n, i, off, len;
    unsigned c;
    (void) state;
    for (n = 1; n <= 40; n++) {
        for (i = 0; i < n; i++) {
            for (c = 0; c < 256; c++) {
                int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
                         || (c >= '0' && c <= '9') || (c && strchr("-._~+/", (int) c))
                         || (c == '=' && i == n - 1 && n > 1);
                memcpy(hdr, "Bearer ", 7);
                memset(hdr + 7, 'a', n);
                hdr[7 + i] = (char) c;
                if (c == ' ' || c == '\t') {
                    continue;   /* a separator: trimmed or two tokens */
                }
                assert_int_equal(oic_bearer_parse(hdr, 7 + n, &off, &len),
                                 ok ? OIC_BEARER_OK : OIC_BEARER_MALFORMED);
                if (ok) {
                    assert_int_equal(off, 7);
                    assert_int_equal(len, n);
                }
                /* located whatever the characters: the same place */
                off = len = 0;
                assert_int_equal(oic_bearer_locate(hdr, 7 + n, &off, &len), OIC_BEARER_OK);
                assert_int_equal(off, 7);
                assert_int_equal(len, n);
            }
        }
        /* padding after a token of n characters */
        memset(tok, 'b', n);
        memcpy(tok + n, "==", 3);
        snprintf(hdr, sizeof hdr, "Bearer %s", tok);
        assert_int_equal(oic_bearer_parse(hdr, strlen(hdr), &off, &len), OIC_BEARER_OK);
        assert_int_equal(len, n + 2);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_other_schemes),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_every_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
