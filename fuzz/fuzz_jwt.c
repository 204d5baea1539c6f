/*
 * libFuzzer target: a bearer token through oic_jwt_decode() and everything
 * that reads a decoded token: oic_jwt_verify() against a fixed key set
 * (fuzz_keys.h), oic_jwt_check_claims() under several policies and clocks,
 * oic_jwt_has_scopes(), oic_jwt_scopes(), oic_jwt_claim(),
 * oic_jwt_first_claim(), their views without a copy (the same text) and
 * oic_jwt_exp().
 *
 * Two input forms:
 *   - a compact JWS as sent by a client ("eyJ...eyJ...sig");
 *   - "{header JSON}\n{payload JSON}\n<signature bytes>": the target
 *     base64url-encodes the three parts, so that mutations of the JSON
 *     (and the dictionary) reach the claim readers.
 */
#include "fuzz.h"

#include "oic_auth_jwt.h"
#include "fuzz_keys.h"

#include <limits.h>

static oic_jwks_t *keys;

static const oic_str_t issuers[] = {
    { "https://identity.oraclecloud.com/", 33 },
    { "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0", 75 },
};
static const oic_str_t audiences[] = {
    { "https://oic-test.integration.us-phoenix-1.ocp.oraclecloud.com:443", 66 },
    { "api://oic-gateway", 17 },
    { "", 0 },
};
static const oic_str_t scope_claims[] = {
    { "scope", 5 }, { "scp", 3 }, { "roles", 5 }, { NULL, 0 },
};
static const oic_str_t required[] = {
    { "urn:opc:resource:consumer::all", 30 }, { "api.read", 8 },
    { "", 0 }, { NULL, 0 },
};
static const oic_str_t user_claims[] = {
    { "upn", 3 }, { "preferred_username", 18 }, { "unique_name", 11 },
    { NULL, 3 }, { "sub", 3 },
};
static const char *const claim_names[] = {
    "sub", "scope", "scp", "roles", "aud", "exp", "iat", "nbf", "iss",
    "upn", "client_id", "tok_type", "", "missing",
};
static const long long clocks[] = {
    0, -1, 1700000000, 4102444800LL, LLONG_MAX, LLONG_MIN,
};
static const long long leeways[] = { 0, 60, -5, LLONG_MAX, LLONG_MIN };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[256];

    (void) argc;
    (void) argv;
    keys = oic_jwks_parse(FZ_JWKS, strlen(FZ_JWKS), err, sizeof(err));
    if (keys == NULL) {
        fprintf(stderr, "fuzz_keys.h: %s\n", err);
        abort();
    }
    return 0;
}

static char *b64url(const uint8_t *in, size_t n, char *out)
{
    static const char a[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t i;

    for (i = 0; i + 2 < n; i += 3) {
        *out++ = a[in[i] >> 2];
        *out++ = a[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
        *out++ = a[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
        *out++ = a[in[i + 2] & 63];
    }
    if (n - i == 1) {
        *out++ = a[in[i] >> 2];
        *out++ = a[(in[i] & 3) << 4];
    } else if (n - i == 2) {
        *out++ = a[in[i] >> 2];
        *out++ = a[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
        *out++ = a[(in[i + 1] & 15) << 2];
    }
    return out;
}

/* "{h}\n{p}\nsig" -> base64url(h).base64url(p).base64url(sig); NULL if not that form. */
static char *compose(const uint8_t *data, size_t size, size_t *len)
{
    const uint8_t *nl1, *nl2;
    char          *tok, *p;

    if (size == 0 || data[0] != '{') return NULL;
    nl1 = memchr(data, '\n', size);
    if (nl1 == NULL) return NULL;
    nl2 = memchr(nl1 + 1, '\n', size - (size_t) (nl1 + 1 - data));
    if (nl2 == NULL) return NULL;
    tok = malloc(size / 3 * 4 + 16);
    FZ_CHECK(tok != NULL);
    p = b64url(data, (size_t) (nl1 - data), tok);
    *p++ = '.';
    p = b64url(nl1 + 1, (size_t) (nl2 - nl1 - 1), p);
    *p++ = '.';
    p = b64url(nl2 + 1, size - (size_t) (nl2 + 1 - data), p);
    *len = (size_t) (p - tok);
    return tok;
}

static void read_token(const oic_jwt_t *jwt)
{
    char              err[128];
    oic_jwt_rc_t      rc;
    oic_jwt_policy_t  pol;
    char             *s;
    const char       *v;
    size_t            vlen;
    long long         exp, until;

    memset(err, 'x', sizeof(err));
    rc = oic_jwt_verify(jwt, keys, err, sizeof(err));
    if (rc != OIC_JWT_OK) fz_check_buf(err, sizeof(err));
    FZ_CHECK(rc == OIC_JWT_OK || rc == OIC_JWT_UNKNOWN_KID
             || rc == OIC_JWT_BAD_SIGNATURE);
    rc = oic_jwt_verify(jwt, NULL, err, sizeof(err));
    FZ_CHECK(rc == OIC_JWT_UNKNOWN_KID);

    memset(&pol, 0, sizeof(pol));
    pol.issuers = issuers;
    pol.audiences = audiences;
    pol.n_audiences = sizeof(audiences) / sizeof(audiences[0]);
    pol.algorithms = 0x1ff;
    pol.scope_claims = scope_claims;
    pol.n_scope_claims = sizeof(scope_claims) / sizeof(scope_claims[0]);

    for (size_t c = 0; c < sizeof(clocks) / sizeof(clocks[0]); c++) {
        for (size_t l = 0; l < sizeof(leeways) / sizeof(leeways[0]); l++) {
            pol.leeway = leeways[l];
            pol.n_issuers = (c + l) % 3;
            memset(err, 'x', sizeof(err));
            rc = oic_jwt_check_claims(jwt, &pol, clocks[c], err, sizeof(err));
            if (rc != OIC_JWT_OK) fz_check_buf(err, sizeof(err));
            FZ_CHECK(rc >= OIC_JWT_OK && rc <= OIC_JWT_INSUFFICIENT_SCOPE);

            /*
             * what the glue remembers a verdict for: a token that passed at
             * a clock passes at the last second oic_jwt_claims_until names,
             * and is expired the second after
             */
            if (rc == OIC_JWT_OK) {
                FZ_CHECK(oic_jwt_claims_until(jwt, &pol, &until) == 1);
                FZ_CHECK(until >= clocks[c]);
                FZ_CHECK(oic_jwt_check_claims(jwt, &pol, until, NULL, 0)
                         == OIC_JWT_OK);
                if (until < LLONG_MAX) {
                    FZ_CHECK(oic_jwt_check_claims(jwt, &pol, until + 1,
                                                  NULL, 0)
                             == OIC_JWT_EXPIRED);
                }
            }
        }
    }
    pol.n_audiences = 0;
    FZ_CHECK(oic_jwt_check_claims(jwt, &pol, 0, err, sizeof(err))
             == OIC_JWT_BAD_AUDIENCE);
    FZ_CHECK(oic_jwt_check_claims(jwt, NULL, 0, NULL, 0)
             == OIC_JWT_BAD_AUDIENCE);

    for (size_t n = 0; n <= sizeof(required) / sizeof(required[0]); n++) {
        int any = oic_jwt_has_scopes(jwt, &pol, required, n, 0);
        int all = oic_jwt_has_scopes(jwt, &pol, required, n, 1);
        FZ_CHECK(any == 0 || any == 1);
        FZ_CHECK(all == 0 || all == 1);
        FZ_CHECK(n == 0 ? (any == 1 && all == 1) : (!all || any));
    }

    /* array elements are kept as they are, spaces included: only check
       that the list is there */
    s = oic_jwt_scopes(jwt, &pol);
    FZ_CHECK(s != NULL);
    oic_free(s);

    for (size_t i = 0; i < sizeof(claim_names) / sizeof(claim_names[0]); i++) {
        /* the view of a string claim is its copy's text, without a copy */
        char *c = oic_jwt_claim(jwt, claim_names[i], strlen(claim_names[i]));
        if (oic_jwt_claim_view(jwt, claim_names[i], strlen(claim_names[i]),
                               &v, &vlen)) {
            FZ_CHECK(v != NULL && c != NULL && v[vlen] == '\0');
            FZ_CHECK(strlen(c) == vlen && memcmp(c, v, vlen) == 0);
        } else {
            FZ_CHECK(v == NULL && vlen == 0);
        }
        oic_free(c);
    }

    s = oic_jwt_first_claim(jwt, user_claims,
                            sizeof(user_claims) / sizeof(user_claims[0]));
    FZ_CHECK(s == NULL || s[0] != '\0');
    if (oic_jwt_first_claim_view(jwt, user_claims,
                                 sizeof(user_claims) / sizeof(user_claims[0]),
                                 &v, &vlen)) {
        FZ_CHECK(s != NULL && strlen(s) == vlen && memcmp(s, v, vlen) == 0);
    } else {
        FZ_CHECK(s == NULL && v == NULL && vlen == 0);
    }
    oic_free(s);

    exp = oic_jwt_exp(jwt);
    FZ_CHECK(exp >= -1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char          err[128];
    oic_jwt_t    *jwt = (oic_jwt_t *) 1;
    oic_jwt_rc_t  rc;
    size_t        len = size;
    char         *composed = compose(data, size, &len);
    const char   *tok = composed ? composed : (const char *) data;

    memset(err, 'x', sizeof(err));
    rc = oic_jwt_decode(tok, len, 0x1ff, &jwt, err, sizeof(err));
    if (rc != OIC_JWT_OK) fz_check_buf(err, sizeof(err));
    FZ_CHECK((rc == OIC_JWT_OK) == (jwt != NULL));
    FZ_CHECK(rc == OIC_JWT_OK || rc == OIC_JWT_MALFORMED
             || rc == OIC_JWT_BAD_ALG);
    if (jwt != NULL) {
        read_token(jwt);
        oic_jwt_free(jwt);
    }

    /* the same token under a narrower allow-list */
    rc = oic_jwt_decode(tok, len, OIC_ALG_RS256, &jwt, NULL, 0);
    FZ_CHECK((rc == OIC_JWT_OK) == (jwt != NULL));
    oic_jwt_free(jwt);

    free(composed);
    return 0;
}
