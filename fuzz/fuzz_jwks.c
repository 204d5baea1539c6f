/*
 * libFuzzer target: a key set document (JWKS, single JWK or PEM) through
 * oic_jwks_parse(), then oic_jwt_verify() of fixed tokens (fuzz_keys.h,
 * one per algorithm family, with and without kid) against what it parsed.
 */
#include "fuzz.h"

#include "oic_auth_jwt.h"
#include "fuzz_keys.h"

#define N_TOKENS (sizeof(FZ_TOKENS) / sizeof(FZ_TOKENS[0]))

static oic_jwt_t *tokens[N_TOKENS];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[256];

    (void) argc;
    (void) argv;
    for (size_t i = 0; i < N_TOKENS; i++) {
        if (oic_jwt_decode(FZ_TOKENS[i], strlen(FZ_TOKENS[i]), 0x1ff,
                           &tokens[i], err, sizeof(err)) != OIC_JWT_OK)
        {
            fprintf(stderr, "fuzz_keys.h token %zu: %s\n", i, err);
            abort();
        }
    }
    /* the fixtures agree: every token but the last (no kid, two RSA keys) verifies */
    oic_jwks_t *fixed = oic_jwks_parse(FZ_JWKS, strlen(FZ_JWKS), err, sizeof(err));
    FZ_CHECK(fixed != NULL);
    for (size_t i = 0; i < N_TOKENS; i++)
        FZ_CHECK(oic_jwt_verify(tokens[i], fixed, err, sizeof(err))
                 == (i + 1 < N_TOKENS ? OIC_JWT_OK : OIC_JWT_UNKNOWN_KID));
    oic_jwks_free(fixed);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char          err[128];
    oic_jwks_t   *ks;
    oic_jwt_rc_t  rc;
    size_t        n;

    memset(err, 'x', sizeof(err));
    ks = oic_jwks_parse((const char *) data, size, err, sizeof(err));
    fz_check_buf(err, sizeof(err));
    n = oic_jwks_count(ks);
    if (ks == NULL) {
        FZ_CHECK(n == 0 && err[0] != '\0');
        return 0;
    }
    FZ_CHECK(n >= 1 && n <= 64);

    for (size_t i = 0; i < N_TOKENS; i++) {
        memset(err, 'x', sizeof(err));
        rc = oic_jwt_verify(tokens[i], ks, err, sizeof(err));
        if (rc != OIC_JWT_OK) fz_check_buf(err, sizeof(err));
        FZ_CHECK(rc == OIC_JWT_OK || rc == OIC_JWT_UNKNOWN_KID
                 || rc == OIC_JWT_BAD_SIGNATURE);
    }
    oic_jwks_free(ks);
    return 0;
}
