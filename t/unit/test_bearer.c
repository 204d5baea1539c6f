/* Bearer credential parsing (RFC 6750 2.1) through the C API. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "oic_auth.h"

static oic_bearer_rc_t parse(const char *h, char *tok, size_t toksz)
{
    size_t off = 0, len = 0;
    oic_bearer_rc_t rc = oic_bearer_parse(h, strlen(h), &off, &len);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_other_schemes),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
