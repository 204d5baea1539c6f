/* Unit tests of JWT decode / verify / claims / scopes (include/oic_auth_jwt.h). */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <malloc.h>

#include "jwt_fixture.h"
#include "oic_auth_jwt.h"

#define S(x) {x, sizeof(x) - 1}
#define NOW 1700000000LL
#define ISSUER "https://identity.oraclecloud.com/"
#define AUDIENCE "https://api.example.com"
#define ALL_ALGS 0x1ffu

static EVP_PKEY *rsa_a, *rsa_b, *ec256, *ec384, *ec521;
static oic_jwks_t *ks; /* rs (RSA, no alg), rs256only (RSA, RS256), ec256 (ES256), ec384 (no alg), ec521 (ES512) */
static char err[256];

static const oic_str_t ISSUERS[] = {S(ISSUER), S("https://sts.windows.net/tid/")};
static const oic_str_t AUDIENCES[] = {S(AUDIENCE), S("api://other")};
static const oic_str_t SCOPE_CLAIMS[] = {S("scope"), S("scp"), S("roles")};

static oic_jwt_policy_t policy(void) {
    oic_jwt_policy_t p = {ISSUERS, 2, AUDIENCES, 2, ALL_ALGS, 0, SCOPE_CLAIMS, 3};
    return p;
}

static const char *hdr(const char *alg, const char *kid) {
    return kid ? fx_fmt("{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"%s\"}", alg, kid)
               : fx_fmt("{\"alg\":\"%s\",\"typ\":\"JWT\"}", alg);
}

/* A good claim set, with extra members (",..." or "") appended. */
static const char *claims(const char *extra) {
    return fx_fmt("{\"iss\":\"" ISSUER "\",\"aud\":\"" AUDIENCE "\",\"sub\":\"alice\",\"exp\":%lld,\"iat\":%lld,"
                  "\"nbf\":%lld%s}",
                  NOW + 600, NOW - 10, NOW - 10, extra);
}

/* The error text is short and never quotes the token (base64url of '{"' is "eyJ"). */
static void check_err(void) {
    assert_true(err[0] != '\0');
    assert_true(strlen(err) < 128);
    assert_null(strstr(err, "eyJ"));
}

static oic_jwt_rc_t decode_only(const char *tok, unsigned algs) {
    oic_jwt_t *j = (oic_jwt_t *)1;
    err[0] = '\0';
    oic_jwt_rc_t rc = oic_jwt_decode(tok, strlen(tok), algs, &j, err, sizeof(err));
    if (rc != OIC_JWT_OK) {
        assert_null(j);
        check_err();
    }
    oic_jwt_free(j);
    return rc;
}

/* decode + verify + check_claims at NOW with the default policy: the first failure. */
static oic_jwt_rc_t full(const char *tok, unsigned algs, const oic_jwks_t *keys) {
    oic_jwt_t *j = NULL;
    err[0] = '\0';
    oic_jwt_rc_t rc = oic_jwt_decode(tok, strlen(tok), algs, &j, err, sizeof(err));
    if (rc != OIC_JWT_OK) {
        assert_null(j);
        check_err();
        return rc;
    }
    rc = oic_jwt_verify(j, keys, err, sizeof(err));
    if (rc == OIC_JWT_OK) {
        oic_jwt_policy_t p = policy();
        rc = oic_jwt_check_claims(j, &p, NOW, err, sizeof(err));
    }
    if (rc != OIC_JWT_OK) check_err();
    oic_jwt_free(j);
    return rc;
}

/* Decode an unsigned token (empty signature) for claim tests. */
static oic_jwt_t *claims_jwt(const char *payload) {
    oic_jwt_t *j = NULL;
    const char *tok = fx_token("RS256", NULL, hdr("RS256", "rs"), payload);
    assert_int_equal(oic_jwt_decode(tok, strlen(tok), ALL_ALGS, &j, err, sizeof(err)), OIC_JWT_OK);
    assert_non_null(j);
    return j;
}

static oic_jwt_rc_t claims_rc(const char *payload, long long leeway) {
    oic_jwt_t *j = claims_jwt(payload);
    oic_jwt_policy_t p = policy();
    p.leeway = leeway;
    err[0] = '\0';
    oic_jwt_rc_t rc = oic_jwt_check_claims(j, &p, NOW, err, sizeof(err));
    if (rc != OIC_JWT_OK) check_err();
    oic_jwt_free(j);
    return rc;
}

static int group_setup(void **state) {
    (void)state;
    rsa_a = fx_rsa(2048);
    rsa_b = fx_rsa(2048);
    ec256 = fx_ec("P-256");
    ec384 = fx_ec("P-384");
    ec521 = fx_ec("P-521");
    const char *doc = fx_jwks(5, fx_jwk(rsa_a, "rs", NULL), fx_jwk(rsa_a, "rs256only", "RS256"),
                              fx_jwk(ec256, "ec256", "ES256"), fx_jwk(ec384, "ec384", NULL),
                              fx_jwk(ec521, "ec521", "ES512"));
    ks = oic_jwks_parse(doc, strlen(doc), err, sizeof(err));
    FX_CHECK(ks && oic_jwks_count(ks) == 5);
    fx_release_all();
    return 0;
}

static int group_teardown(void **state) {
    (void)state;
    oic_jwks_free(ks);
    EVP_PKEY_free(rsa_a);
    EVP_PKEY_free(rsa_b);
    EVP_PKEY_free(ec256);
    EVP_PKEY_free(ec384);
    EVP_PKEY_free(ec521);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    fx_release_all();
    return 0;
}

/* ---- algorithms ---- */

static void test_alg_from_name(void **state) {
    (void)state;
    static const struct { const char *n; unsigned bit; } t[] = {
        {"RS256", OIC_ALG_RS256}, {"RS384", OIC_ALG_RS384}, {"RS512", OIC_ALG_RS512},
        {"PS256", OIC_ALG_PS256}, {"PS384", OIC_ALG_PS384}, {"PS512", OIC_ALG_PS512},
        {"ES256", OIC_ALG_ES256}, {"ES384", OIC_ALG_ES384}, {"ES512", OIC_ALG_ES512},
        {"none", 0}, {"HS256", 0}, {"HS512", 0}, {"rs256", 0}, {"RS256 ", 0}, {"", 0}, {"EdDSA", 0},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        assert_int_equal(oic_alg_from_name(t[i].n, strlen(t[i].n)), t[i].bit);
    assert_int_equal(oic_alg_from_name("RS2560", 5), OIC_ALG_RS256); /* length-delimited */
    assert_int_equal(oic_alg_from_name("RS256", 4), 0);
    assert_int_equal(oic_alg_from_name(NULL, 0), 0);
}

/* ---- valid tokens ---- */

static void test_valid_tokens(void **state) {
    (void)state;
    static const struct { const char *alg, *kid; } t[] = {
        {"RS256", "rs"}, {"RS384", "rs"}, {"RS512", "rs"}, {"PS256", "rs"}, {"PS384", "rs"},
        {"PS512", "rs"}, {"RS256", "rs256only"}, {"ES256", "ec256"}, {"ES384", "ec384"}, {"ES512", "ec521"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        EVP_PKEY *k = t[i].alg[0] == 'E' ? (!strcmp(t[i].kid, "ec256") ? ec256 : !strcmp(t[i].kid, "ec384") ? ec384 : ec521)
                                         : rsa_a;
        const char *tok = fx_token(t[i].alg, k, hdr(t[i].alg, t[i].kid), claims(""));
        assert_int_equal(full(tok, ALL_ALGS, ks), OIC_JWT_OK);
        /* the same token with only its own alg allowed */
        assert_int_equal(full(tok, oic_alg_from_name(t[i].alg, 5), ks), OIC_JWT_OK);
    }
}

static void test_verify_is_repeatable(void **state) {
    (void)state;
    const char *tok = fx_token("ES256", ec256, hdr("ES256", "ec256"), claims(""));
    oic_jwt_t *j = NULL;
    assert_int_equal(oic_jwt_decode(tok, strlen(tok), ALL_ALGS, &j, err, sizeof(err)), OIC_JWT_OK);
    for (int i = 0; i < 3; i++) assert_int_equal(oic_jwt_verify(j, ks, err, sizeof(err)), OIC_JWT_OK);
    oic_jwt_free(j);
}

/* ---- hostile tokens ---- */

static void test_alg_none(void **state) {
    (void)state;
    const char *none = fx_token("RS256", NULL, "{\"alg\":\"none\",\"kid\":\"rs\"}", claims(""));
    assert_int_equal(full(none, ALL_ALGS, ks), OIC_JWT_BAD_ALG);
    const char *none2 = fx_token("RS256", NULL, "{\"alg\":\"None\"}", claims(""));
    assert_int_equal(full(none2, ALL_ALGS, ks), OIC_JWT_BAD_ALG);
    /* alg none carrying a valid RS256 signature is still refused */
    const char *none3 = fx_token("RS256", rsa_a, "{\"alg\":\"none\",\"kid\":\"rs\"}", claims(""));
    assert_int_equal(full(none3, ALL_ALGS, ks), OIC_JWT_BAD_ALG);
    /* missing or non-string alg */
    assert_int_equal(full(fx_token("RS256", rsa_a, "{\"kid\":\"rs\"}", claims("")), ALL_ALGS, ks), OIC_JWT_MALFORMED);
    assert_int_equal(full(fx_token("RS256", rsa_a, "{\"alg\":[\"RS256\"],\"kid\":\"rs\"}", claims("")), ALL_ALGS, ks),
                     OIC_JWT_MALFORMED);
    /* a valid RS256 token with an empty signature: never a pass */
    const char *empty = fx_token("RS256", NULL, hdr("RS256", "rs"), claims(""));
    assert_int_equal(full(empty, ALL_ALGS, ks), OIC_JWT_BAD_SIGNATURE);
}

static void test_hs256_with_public_key(void **state) {
    (void)state;
    const char *pem = fx_pem_pubkey(rsa_a);
    const char *tok = fx_token_hs256(pem, strlen(pem), hdr("HS256", "rs"), claims(""));
    assert_int_equal(full(tok, ALL_ALGS, ks), OIC_JWT_BAD_ALG);
    assert_int_equal(full(tok, 0xffffffffu, ks), OIC_JWT_BAD_ALG);
    /* the same MAC relabelled RS256: a MAC is no RSA signature */
    const char *tok2 = fx_token_hs256(pem, strlen(pem), hdr("RS256", "rs"), claims(""));
    assert_int_equal(full(tok2, ALL_ALGS, ks), OIC_JWT_BAD_SIGNATURE);
}

static void test_alg_not_allowed(void **state) {
    (void)state;
    const char *rs384 = fx_token("RS384", rsa_a, hdr("RS384", "rs"), claims(""));
    assert_int_equal(full(rs384, OIC_ALG_RS256, ks), OIC_JWT_BAD_ALG);
    const char *ps256 = fx_token("PS256", rsa_a, hdr("PS256", "rs"), claims(""));
    assert_int_equal(full(ps256, OIC_ALG_RS256 | OIC_ALG_ES256, ks), OIC_JWT_BAD_ALG);
    assert_int_equal(full(ps256, 0, ks), OIC_JWT_BAD_ALG);
    assert_string_equal(err, "alg PS256 not allowed");
}

static void test_alg_does_not_fit_key(void **state) {
    (void)state;
    /* JWK alg RS256, token PS256 / RS384 with the same (correct) RSA key */
    assert_int_equal(full(fx_token("PS256", rsa_a, hdr("PS256", "rs256only"), claims("")), ALL_ALGS, ks),
                     OIC_JWT_BAD_SIGNATURE);
    assert_string_equal(err, "key does not fit alg PS256");
    assert_int_equal(full(fx_token("RS384", rsa_a, hdr("RS384", "rs256only"), claims("")), ALL_ALGS, ks),
                     OIC_JWT_BAD_SIGNATURE);
    /* EC alg against an RSA key, RSA alg against an EC key, wrong curve, ES256 on a JWK saying ES512 */
    assert_int_equal(full(fx_token("ES256", ec256, hdr("ES256", "rs"), claims("")), ALL_ALGS, ks),
                     OIC_JWT_BAD_SIGNATURE);
    assert_int_equal(full(fx_token("RS256", rsa_a, hdr("RS256", "ec256"), claims("")), ALL_ALGS, ks),
                     OIC_JWT_BAD_SIGNATURE);
    assert_int_equal(full(fx_token("ES384", ec384, hdr("ES384", "ec256"), claims("")), ALL_ALGS, ks),
                     OIC_JWT_BAD_SIGNATURE);
    assert_int_equal(full(fx_token("ES256", ec256, hdr("ES256", "ec384"), claims("")), ALL_ALGS, ks),
                     OIC_JWT_BAD_SIGNATURE);
    assert_string_equal(err, "key does not fit alg ES256");
}

static void test_unknown_kid(void **state) {
    (void)state;
    static const char *kids[] = {"nope", "../../etc/passwd", "\\\"", "rs\\\\", "RS", "rs ", "/dev/stdin",
                                 "' OR 1=1 --", "rs\\u00e9", ""};
    for (size_t i = 0; i < sizeof(kids) / sizeof(kids[0]); i++) {
        const char *tok = fx_token("RS256", rsa_a, hdr("RS256", kids[i]), claims(""));
        assert_int_equal(full(tok, ALL_ALGS, ks), OIC_JWT_UNKNOWN_KID);
        assert_string_equal(err, "kid not in the key set");
    }
    /* a kid of 256 bytes is fine (unknown), 257 or a non-string is malformed */
    char kid[258];
    memset(kid, 'k', 257);
    kid[256] = '\0';
    assert_int_equal(full(fx_token("RS256", rsa_a, hdr("RS256", kid), claims("")), ALL_ALGS, ks),
                     OIC_JWT_UNKNOWN_KID);
    kid[256] = 'k';
    kid[257] = '\0';
    assert_int_equal(full(fx_token("RS256", rsa_a, hdr("RS256", kid), claims("")), ALL_ALGS, ks), OIC_JWT_MALFORMED);
    assert_int_equal(full(fx_token("RS256", rsa_a, "{\"alg\":\"RS256\",\"kid\":7}", claims("")), ALL_ALGS, ks),
                     OIC_JWT_MALFORMED);
    /* a NUL inside kid is refused by the JSON parser */
    assert_int_equal(full(fx_token("RS256", rsa_a, hdr("RS256", "rs\\u0000"), claims("")), ALL_ALGS, ks),
                     OIC_JWT_MALFORMED);
}

static void test_no_kid(void **state) {
    (void)state;
    /* several RSA keys: no kid is ambiguous */
    assert_int_equal(full(fx_token("RS256", rsa_a, hdr("RS256", NULL), claims("")), ALL_ALGS, ks),
                     OIC_JWT_UNKNOWN_KID);
    assert_string_equal(err, "no kid and several keys for RS256");
    /* exactly one P-256 key: used */
    assert_int_equal(full(fx_token("ES256", ec256, hdr("ES256", NULL), claims("")), ALL_ALGS, ks), OIC_JWT_OK);
    /* one RSA key in the set */
    const char *doc = fx_jwks(2, fx_jwk(rsa_a, "only", NULL), fx_jwk(ec256, "e", NULL));
    oic_jwks_t *one = oic_jwks_parse(doc, strlen(doc), err, sizeof(err));
    assert_non_null(one);
    assert_int_equal(full(fx_token("RS256", rsa_a, hdr("RS256", NULL), claims("")), ALL_ALGS, one), OIC_JWT_OK);
    assert_int_equal(full(fx_token("RS256", rsa_b, hdr("RS256", NULL), claims("")), ALL_ALGS, one),
                     OIC_JWT_BAD_SIGNATURE);
    /* no P-384 key at all */
    assert_int_equal(full(fx_token("ES384", ec384, hdr("ES384", NULL), claims("")), ALL_ALGS, one),
                     OIC_JWT_UNKNOWN_KID);
    /* kid given but only other kids in the set */
    assert_int_equal(full(fx_token("RS256", rsa_a, hdr("RS256", "rs"), claims("")), ALL_ALGS, one),
                     OIC_JWT_UNKNOWN_KID);
    oic_jwks_free(one);
    /* no key set */
    assert_int_equal(full(fx_token("RS256", rsa_a, hdr("RS256", "rs"), claims("")), ALL_ALGS, NULL),
                     OIC_JWT_UNKNOWN_KID);
}

static void test_crit_header(void **state) {
    (void)state;
    const char *tok = fx_token("RS256", rsa_a, "{\"alg\":\"RS256\",\"kid\":\"rs\",\"crit\":[\"exp\"],\"exp\":1}",
                               claims(""));
    assert_int_equal(full(tok, ALL_ALGS, ks), OIC_JWT_BAD_ALG);
    assert_string_equal(err, "crit header not supported");
    tok = fx_token("RS256", rsa_a, "{\"alg\":\"RS256\",\"kid\":\"rs\",\"crit\":[]}", claims(""));
    assert_int_equal(full(tok, ALL_ALGS, ks), OIC_JWT_BAD_ALG);
}

static void test_jku_x5u_jwk_ignored(void **state) {
    (void)state;
    const char *attacker_jwk = fx_dump(fx_jwk(rsa_b, "attacker", "RS256"));
    /* signed by the attacker with its key embedded in jwk, kid of a trusted key */
    const char *h1 = fx_fmt("{\"alg\":\"RS256\",\"kid\":\"rs\",\"jwk\":%s}", attacker_jwk);
    assert_int_equal(full(fx_token("RS256", rsa_b, h1, claims("")), ALL_ALGS, ks), OIC_JWT_BAD_SIGNATURE);
    /* ... with the attacker's kid */
    const char *h2 = fx_fmt("{\"alg\":\"RS256\",\"kid\":\"attacker\",\"jwk\":%s}", attacker_jwk);
    assert_int_equal(full(fx_token("RS256", rsa_b, h2, claims("")), ALL_ALGS, ks), OIC_JWT_UNKNOWN_KID);
    /* ... with no kid */
    const char *h3 = fx_fmt("{\"alg\":\"RS256\",\"jwk\":%s}", attacker_jwk);
    assert_int_equal(full(fx_token("RS256", rsa_b, h3, claims("")), ALL_ALGS, ks), OIC_JWT_UNKNOWN_KID);
    /* jku / x5u / x5c pointing elsewhere, attacker-signed */
    const char *h4 = "{\"alg\":\"RS256\",\"kid\":\"rs\",\"jku\":\"https://evil.example/jwks\","
                     "\"x5u\":\"https://evil.example/cert\",\"x5c\":[\"MIIB\"]}";
    assert_int_equal(full(fx_token("RS256", rsa_b, h4, claims("")), ALL_ALGS, ks), OIC_JWT_BAD_SIGNATURE);
    /* ... and the same headers on a genuinely signed token are harmless */
    assert_int_equal(full(fx_token("RS256", rsa_a, h4, claims("")), ALL_ALGS, ks), OIC_JWT_OK);
    assert_int_equal(full(fx_token("RS256", rsa_a, h1, claims("")), ALL_ALGS, ks), OIC_JWT_OK);
}

static void test_signature_tampering(void **state) {
    (void)state;
    const char *t1 = fx_token("RS256", rsa_a, hdr("RS256", "rs"), claims(""));
    const char *t2 = fx_token("RS256", rsa_a, hdr("RS256", "rs"), claims(",\"admin\":true"));
    /* t2's header.payload with t1's signature */
    const char *sig1 = strrchr(t1, '.') + 1;
    char *swapped = fx_fmt("%.*s.%s", (int)(strrchr(t2, '.') - t2), t2, sig1);
    assert_int_equal(full(swapped, ALL_ALGS, ks), OIC_JWT_BAD_SIGNATURE);
    assert_string_equal(err, "signature does not verify");
    /* one flipped character in the signature (keeping base64url validity) */
    char *flip = fx_fmt("%s", t1);
    char *c = strrchr(flip, '.') + 10;
    *c = *c == 'A' ? 'B' : 'A';
    assert_int_equal(full(flip, ALL_ALGS, ks), OIC_JWT_BAD_SIGNATURE);
    /* signature shortened by 3 bytes */
    size_t slen;
    unsigned char *sraw = fx_b64url_decode(sig1, &slen);
    assert_int_equal(slen, 256);
    char *shortsig = fx_fmt("%.*s.%s", (int)(sig1 - 1 - t1), t1, fx_b64url(sraw, 253));
    assert_int_equal(full(shortsig, ALL_ALGS, ks), OIC_JWT_BAD_SIGNATURE);
    /* PS256 signature presented as RS256, and vice versa */
    const char *in = fx_input(hdr("RS256", "rs"), claims(""));
    assert_int_equal(full(fx_fmt("%s.%s", in, fx_sign("PS256", rsa_a, in)), ALL_ALGS, ks), OIC_JWT_BAD_SIGNATURE);
    const char *in2 = fx_input(hdr("PS256", "rs"), claims(""));
    assert_int_equal(full(fx_fmt("%s.%s", in2, fx_sign("RS256", rsa_a, in2)), ALL_ALGS, ks), OIC_JWT_BAD_SIGNATURE);
    /* the ES256 token of another key (same kid) */
    EVP_PKEY *other = fx_ec("P-256");
    assert_int_equal(full(fx_token("ES256", other, hdr("ES256", "ec256"), claims("")), ALL_ALGS, ks),
                     OIC_JWT_BAD_SIGNATURE);
    EVP_PKEY_free(other);
}

static void test_es256_signature_length(void **state) {
    (void)state;
    const char *in = fx_input(hdr("ES256", "ec256"), claims(""));
    const char *good = fx_sign("ES256", ec256, in);
    size_t n;
    unsigned char *raw = fx_b64url_decode(good, &n);
    assert_int_equal(n, 64);
    assert_int_equal(full(fx_fmt("%s.%s", in, good), ALL_ALGS, ks), OIC_JWT_OK);
    unsigned char big[65];
    memcpy(big, raw, 64);
    big[64] = 0;
    assert_int_equal(full(fx_fmt("%s.%s", in, fx_b64url(raw, 63)), ALL_ALGS, ks), OIC_JWT_BAD_SIGNATURE);
    assert_string_equal(err, "ES256 signature must be 64 bytes");
    assert_int_equal(full(fx_fmt("%s.%s", in, fx_b64url(big, 65)), ALL_ALGS, ks), OIC_JWT_BAD_SIGNATURE);
    /* zero-padded r||s where r is shifted: same length, wrong value */
    unsigned char shifted[64] = {0};
    memcpy(shifted + 1, raw, 31);
    memcpy(shifted + 32, raw + 32, 32);
    assert_int_equal(full(fx_fmt("%s.%s", in, fx_b64url(shifted, 64)), ALL_ALGS, ks), OIC_JWT_BAD_SIGNATURE);
    unsigned char zeros[64] = {0};
    assert_int_equal(full(fx_fmt("%s.%s", in, fx_b64url(zeros, 64)), ALL_ALGS, ks), OIC_JWT_BAD_SIGNATURE);
    /* the DER form OpenSSL produces is not a JOSE signature */
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char der[80];
    size_t dlen = sizeof(der);
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, ec256), 1);
    assert_int_equal(EVP_DigestSign(ctx, der, &dlen, (const unsigned char *)in, strlen(in)), 1);
    EVP_MD_CTX_free(ctx);
    assert_int_equal(full(fx_fmt("%s.%s", in, fx_b64url(der, dlen)), ALL_ALGS, ks), OIC_JWT_BAD_SIGNATURE);
    /* ES384 with a 64-byte signature */
    const char *in384 = fx_input(hdr("ES384", "ec384"), claims(""));
    assert_int_equal(full(fx_fmt("%s.%s", in384, good), ALL_ALGS, ks), OIC_JWT_BAD_SIGNATURE);
    assert_string_equal(err, "ES384 signature must be 96 bytes");
}

static void test_bad_segments(void **state) {
    (void)state;
    const char *t = fx_token("RS256", rsa_a, hdr("RS256", "rs"), claims(""));
    const char *d1 = strchr(t, '.'), *d2 = strrchr(t, '.');
    int h = (int)(d1 - t), hp = (int)(d2 - t);
    const char *bad[] = {
        "",
        ".",
        "..",
        "abc",
        fx_fmt("%.*s", hp, t),                                  /* two segments */
        fx_fmt("%s.", t),                                       /* four segments */
        fx_fmt("%s.xyz", t),
        fx_fmt("%.*s=.%s", h, t, d1 + 1),                       /* padded header */
        fx_fmt("%.*s==%s", hp, t, d2),                          /* padded payload */
        fx_fmt("%s=", t),                                       /* padded signature */
        fx_fmt("%.*s+%s", h, t, d1),                            /* '+' in header */
        fx_fmt("%.*s/%s", hp, t, d2),                           /* '/' in payload */
        fx_fmt("%.*s %s", h, t, d1),                            /* space */
        fx_fmt("%.*s%s", hp - 1, t, d2),                        /* payload truncated by one char */
        fx_fmt("%.*s%s", hp - 4, t, d2),                        /* payload truncated by 4 chars */
        fx_fmt("%.*s%s", h - 2, t, d1),                         /* header truncated */
        fx_fmt(" %s", t),
        fx_fmt("%s\n", t),
        fx_fmt("Bearer %s", t),
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(decode_only(bad[i], ALL_ALGS), OIC_JWT_MALFORMED);
        assert_int_equal(full(bad[i], ALL_ALGS, ks), OIC_JWT_MALFORMED);
    }
    /* an embedded NUL (the length covers it) */
    char *nul = fx_fmt("%s", t);
    nul[h + 3] = '\0';
    oic_jwt_t *j = NULL;
    assert_int_equal(oic_jwt_decode(nul, strlen(t), ALL_ALGS, &j, err, sizeof(err)), OIC_JWT_MALFORMED);
    assert_null(j);
    /* the original still passes */
    assert_int_equal(full(t, ALL_ALGS, ks), OIC_JWT_OK);
    /* NULL arguments */
    assert_int_equal(oic_jwt_decode(NULL, 0, ALL_ALGS, &j, err, sizeof(err)), OIC_JWT_MALFORMED);
    assert_int_equal(oic_jwt_decode(t, strlen(t), ALL_ALGS, NULL, err, sizeof(err)), OIC_JWT_MALFORMED);
    assert_int_equal(oic_jwt_decode(t, strlen(t), ALL_ALGS, &j, NULL, 0), OIC_JWT_OK);
    oic_jwt_free(j);
    oic_jwt_free(NULL);
}

static void test_not_objects(void **state) {
    (void)state;
    static const char *nonobj[] = {"[]", "[{\"alg\":\"RS256\"}]", "\"RS256\"", "42", "true", "null", "", " ", "{",
                                   "{\"alg\":\"RS256\"", "{\"alg\":\"RS256\"} x", "{\"alg\":\"RS256\"}{}",
                                   "{'alg':'RS256'}", "{\"alg\":\"RS256\",}"};
    for (size_t i = 0; i < sizeof(nonobj) / sizeof(nonobj[0]); i++) {
        /* as header */
        assert_int_equal(full(fx_token("RS256", rsa_a, nonobj[i], claims("")), ALL_ALGS, ks), OIC_JWT_MALFORMED);
        /* as payload */
        assert_int_equal(full(fx_token("RS256", rsa_a, hdr("RS256", "rs"), nonobj[i]), ALL_ALGS, ks),
                         OIC_JWT_MALFORMED);
    }
    /* surrounding whitespace in the JSON text is fine */
    assert_int_equal(full(fx_token("RS256", rsa_a, " {\"alg\":\"RS256\",\"kid\":\"rs\"}\n", claims("")), ALL_ALGS, ks),
                     OIC_JWT_OK);
}

static void test_duplicate_names(void **state) {
    (void)state;
    assert_int_equal(full(fx_token("RS256", rsa_a, hdr("RS256", "rs"), claims(",\"exp\":1")), ALL_ALGS, ks),
                     OIC_JWT_MALFORMED);
    assert_int_equal(full(fx_token("RS256", rsa_a, hdr("RS256", "rs"), claims(",\"aud\":\"x\"")), ALL_ALGS, ks),
                     OIC_JWT_MALFORMED);
    assert_int_equal(
        full(fx_token("RS256", rsa_a, "{\"alg\":\"none\",\"kid\":\"rs\",\"alg\":\"RS256\"}", claims("")), ALL_ALGS, ks),
        OIC_JWT_MALFORMED);
    assert_int_equal(
        full(fx_token("RS256", rsa_a, "{\"alg\":\"RS256\",\"kid\":\"x\",\"kid\":\"rs\"}", claims("")), ALL_ALGS, ks),
        OIC_JWT_MALFORMED);
    /* nested duplicates too */
    assert_int_equal(full(fx_token("RS256", rsa_a, hdr("RS256", "rs"), claims(",\"o\":{\"a\":1,\"a\":2}")), ALL_ALGS, ks),
                     OIC_JWT_MALFORMED);
}

static void test_size_limits(void **state) {
    (void)state;
    /* a 64 KB token */
    char *pad = fx_keep(malloc(48 * 1024 + 1));
    memset(pad, 'x', 48 * 1024);
    pad[48 * 1024] = '\0';
    const char *big = fx_token("RS256", rsa_a, hdr("RS256", "rs"), claims(fx_fmt(",\"pad\":\"%s\"", pad)));
    assert_true(strlen(big) > 64000);
    assert_int_equal(full(big, ALL_ALGS, ks), OIC_JWT_MALFORMED);
    assert_string_equal(err, "token longer than 16384 bytes");

    /* exactly OIC_JWT_MAX_LEN passes, one more byte does not */
    for (int target = OIC_JWT_MAX_LEN; target <= OIC_JWT_MAX_LEN + 1; target++) {
        const char *tok = NULL;
        size_t base = strlen(claims("")) + strlen(",\"pad\":\"\"");
        for (int spaces = 0; spaces < 4 && !tok; spaces++) {
            const char *h = fx_fmt("{\"alg\":\"RS256\",\"kid\":\"rs\"%*s}", spaces, "");
            size_t hl = (strlen(h) * 4 + 2) / 3;
            for (size_t p = 11000; p < 12500; p++) {
                size_t pl = ((base + p) * 4 + 2) / 3;
                if (hl + 1 + pl + 1 + 342 == (size_t)target) {
                    pad[p] = '\0';
                    tok = fx_token("RS256", rsa_a, h, claims(fx_fmt(",\"pad\":\"%s\"", pad)));
                    pad[p] = 'x';
                    break;
                }
            }
        }
        assert_non_null(tok);
        assert_int_equal(strlen(tok), target);
        assert_int_equal(full(tok, ALL_ALGS, ks), target == OIC_JWT_MAX_LEN ? OIC_JWT_OK : OIC_JWT_MALFORMED);
    }
}

static char *nested(int depth, int closed) {
    char *s = fx_keep(malloc((size_t)depth * 2 + 16));
    size_t n = 0;
    n += (size_t)sprintf(s, "{\"exp\":1,\"a\":");
    for (int i = 0; i < depth; i++) s[n++] = '[';
    if (closed)
        for (int i = 0; i < depth; i++) s[n++] = ']';
    s[n++] = closed ? '}' : '\0';
    s[n] = '\0';
    return s;
}

static void test_deep_nesting(void **state) {
    (void)state;
    /* 2000 deep is legal JSON within jansson's 2048 limit */
    assert_int_equal(decode_only(fx_token("RS256", NULL, hdr("RS256", "rs"), nested(2000, 1)), ALL_ALGS),
                     OIC_JWT_OK);
    /* 3000 deep, well-formed: refused for depth */
    assert_int_equal(decode_only(fx_token("RS256", NULL, hdr("RS256", "rs"), nested(3000, 1)), ALL_ALGS),
                     OIC_JWT_MALFORMED);
    assert_non_null(strstr(err, "depth"));
    /* 10,000 deep (unclosed, to fit in 16 KB) in payload and header */
    const char *tok = fx_token("RS256", rsa_a, hdr("RS256", "rs"), nested(10000, 0));
    assert_true(strlen(tok) <= OIC_JWT_MAX_LEN);
    assert_int_equal(full(tok, ALL_ALGS, ks), OIC_JWT_MALFORMED);
    assert_non_null(strstr(err, "depth"));
    tok = fx_token("RS256", rsa_a, nested(10000, 0), claims(""));
    assert_int_equal(full(tok, ALL_ALGS, ks), OIC_JWT_MALFORMED);
    /* 10,000 deep, well-formed (20 KB): through the key set parser, which takes 512 KB */
    const char *doc = nested(10000, 1);
    assert_null(oic_jwks_parse(doc, strlen(doc), err, sizeof(err)));
    assert_non_null(strstr(err, "depth"));
}

/* ---- claims ---- */

static void test_exp_types(void **state) {
    (void)state;
    const char *base = "\"iss\":\"" ISSUER "\",\"aud\":\"" AUDIENCE "\"";
    assert_int_equal(claims_rc(fx_fmt("{%s,\"exp\":\"%lld\"}", base, NOW + 600), 0), OIC_JWT_BAD_CLAIM);
    assert_string_equal(err, "exp is not a number");
    assert_int_equal(claims_rc(fx_fmt("{%s}", base), 0), OIC_JWT_BAD_CLAIM);
    assert_string_equal(err, "exp missing");
    assert_int_equal(claims_rc(fx_fmt("{%s,\"exp\":null}", base), 0), OIC_JWT_BAD_CLAIM);
    assert_int_equal(claims_rc(fx_fmt("{%s,\"exp\":true}", base), 0), OIC_JWT_BAD_CLAIM);
    assert_int_equal(claims_rc(fx_fmt("{%s,\"exp\":[%lld]}", base, NOW + 600), 0), OIC_JWT_BAD_CLAIM);
    assert_int_equal(claims_rc(fx_fmt("{%s,\"exp\":%lld}", base, NOW + 600), 0), OIC_JWT_OK);
    /* fractional NumericDate */
    assert_int_equal(claims_rc(fx_fmt("{%s,\"exp\":%lld.5}", base, NOW), 0), OIC_JWT_OK);
    assert_int_equal(claims_rc(fx_fmt("{%s,\"exp\":%lld.5}", base, NOW - 1), 0), OIC_JWT_EXPIRED);
    assert_int_equal(claims_rc(fx_fmt("{%s,\"exp\":1.7000006e9}", base), 0), OIC_JWT_OK);
    assert_int_equal(claims_rc(fx_fmt("{%s,\"exp\":%lld,\"nbf\":\"0\"}", base, NOW + 600), 0), OIC_JWT_BAD_CLAIM);
    assert_int_equal(claims_rc(fx_fmt("{%s,\"exp\":%lld,\"iat\":{}}", base, NOW + 600), 0), OIC_JWT_BAD_CLAIM);
    assert_int_equal(claims_rc(fx_fmt("{%s,\"exp\":%lld,\"nbf\":%lld.25,\"iat\":%lld.75}", base, NOW + 600, NOW - 1, NOW - 1),
                               0),
                     OIC_JWT_OK);
    /* huge numbers do not wrap */
    assert_int_equal(claims_rc(fx_fmt("{%s,\"exp\":9223372036854775807}", base), 3600), OIC_JWT_OK);
    assert_int_equal(claims_rc(fx_fmt("{%s,\"exp\":-9223372036854775807}", base), 3600), OIC_JWT_EXPIRED);
    assert_int_equal(claims_rc(fx_fmt("{%s,\"exp\":1e300}", base), 0), OIC_JWT_OK);
    /* a number too large for jansson is a parse error */
    const char *tok = fx_token("RS256", NULL, hdr("RS256", "rs"), fx_fmt("{%s,\"exp\":1e999}", base));
    assert_int_equal(decode_only(tok, ALL_ALGS), OIC_JWT_MALFORMED);
}

static void test_time_boundaries(void **state) {
    (void)state;
    const char *base = "\"iss\":\"" ISSUER "\",\"aud\":\"" AUDIENCE "\"";
#define EXP(e, l) claims_rc(fx_fmt("{%s,\"exp\":%lld}", base, (long long)(e)), l)
#define NBF(n, l) claims_rc(fx_fmt("{%s,\"exp\":%lld,\"nbf\":%lld}", base, NOW + 600, (long long)(n)), l)
#define IAT(i, l) claims_rc(fx_fmt("{%s,\"exp\":%lld,\"iat\":%lld}", base, NOW + 600, (long long)(i)), l)
    assert_int_equal(EXP(NOW, 0), OIC_JWT_OK);
    assert_int_equal(EXP(NOW - 1, 0), OIC_JWT_EXPIRED);
    assert_string_equal(err, "token expired");
    assert_int_equal(EXP(NOW - 60, 60), OIC_JWT_OK);
    assert_int_equal(EXP(NOW - 61, 60), OIC_JWT_EXPIRED);
    assert_int_equal(EXP(NOW - 1, -5), OIC_JWT_EXPIRED); /* negative leeway counts as 0 */
    assert_int_equal(NBF(NOW, 0), OIC_JWT_OK);
    assert_int_equal(NBF(NOW + 1, 0), OIC_JWT_NOT_YET_VALID);
    assert_string_equal(err, "token not yet valid (nbf)");
    assert_int_equal(NBF(NOW + 60, 60), OIC_JWT_OK);
    assert_int_equal(NBF(NOW + 61, 60), OIC_JWT_NOT_YET_VALID);
    assert_int_equal(IAT(NOW, 0), OIC_JWT_OK);
    assert_int_equal(IAT(NOW + 1, 0), OIC_JWT_NOT_YET_VALID);
    assert_string_equal(err, "token issued in the future (iat)");
    assert_int_equal(IAT(NOW + 60, 60), OIC_JWT_OK);
    assert_int_equal(IAT(NOW + 61, 60), OIC_JWT_NOT_YET_VALID);
    assert_int_equal(IAT(0, 0), OIC_JWT_OK);
#undef EXP
#undef NBF
#undef IAT
}

static void test_issuer(void **state) {
    (void)state;
    const char *rest = "\"aud\":\"" AUDIENCE "\",\"exp\":1800000000";
    assert_int_equal(claims_rc(fx_fmt("{\"iss\":\"%s\",%s}", ISSUER, rest), 0), OIC_JWT_OK);
    assert_int_equal(claims_rc(fx_fmt("{\"iss\":\"https://sts.windows.net/tid/\",%s}", rest), 0), OIC_JWT_OK);
    static const char *wrong[] = {"https://identity.oraclecloud.com", "https://identity.oraclecloud.com//",
                                  "HTTPS://identity.oraclecloud.com/", "https://identity.oraclecloud.com/ ",
                                  "https://sts.windows.net/tid", "https://evil.example/", ""};
    for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
        assert_int_equal(claims_rc(fx_fmt("{\"iss\":\"%s\",%s}", wrong[i], rest), 0), OIC_JWT_BAD_ISSUER);
        assert_string_equal(err, "iss does not match");
    }
    assert_int_equal(claims_rc(fx_fmt("{%s}", rest), 0), OIC_JWT_BAD_ISSUER);
    assert_string_equal(err, "iss missing");
    assert_int_equal(claims_rc(fx_fmt("{\"iss\":[\"%s\"],%s}", ISSUER, rest), 0), OIC_JWT_BAD_ISSUER);
    /* no issuer configured: anything goes */
    oic_jwt_t *j = claims_jwt(fx_fmt("{\"iss\":\"https://evil.example/\",%s}", rest));
    oic_jwt_policy_t p = policy();
    p.n_issuers = 0;
    assert_int_equal(oic_jwt_check_claims(j, &p, NOW, err, sizeof(err)), OIC_JWT_OK);
    oic_jwt_free(j);
}

static void test_audience(void **state) {
    (void)state;
    const char *rest = "\"iss\":\"" ISSUER "\",\"exp\":1800000000";
    assert_int_equal(claims_rc(fx_fmt("{\"aud\":\"%s\",%s}", AUDIENCE, rest), 0), OIC_JWT_OK);
    assert_int_equal(claims_rc(fx_fmt("{\"aud\":\"api://other\",%s}", rest), 0), OIC_JWT_OK);
    assert_int_equal(claims_rc(fx_fmt("{\"aud\":[\"x\",\"%s\"],%s}", AUDIENCE, rest), 0), OIC_JWT_OK);
    assert_int_equal(claims_rc(fx_fmt("{\"aud\":[1,null,{},\"%s\"],%s}", AUDIENCE, rest), 0), OIC_JWT_OK);
    assert_int_equal(claims_rc(fx_fmt("{\"aud\":\"%s/\",%s}", AUDIENCE, rest), 0), OIC_JWT_BAD_AUDIENCE);
    assert_string_equal(err, "aud does not match");
    assert_int_equal(claims_rc(fx_fmt("{\"aud\":\"%s %s\",%s}", AUDIENCE, AUDIENCE, rest), 0), OIC_JWT_BAD_AUDIENCE);
    assert_int_equal(claims_rc(fx_fmt("{\"aud\":[],%s}", rest), 0), OIC_JWT_BAD_AUDIENCE);
    assert_int_equal(claims_rc(fx_fmt("{\"aud\":[[\"%s\"]],%s}", AUDIENCE, rest), 0), OIC_JWT_BAD_AUDIENCE);
    assert_int_equal(claims_rc(fx_fmt("{\"aud\":{\"%s\":1},%s}", AUDIENCE, rest), 0), OIC_JWT_BAD_AUDIENCE);
    assert_int_equal(claims_rc(fx_fmt("{%s}", rest), 0), OIC_JWT_BAD_AUDIENCE);
    assert_string_equal(err, "aud missing");
    /* aud is checked first: a foreign token that is also expired and has a wrong issuer */
    assert_int_equal(claims_rc("{\"aud\":\"https://graph.microsoft.com\",\"iss\":\"x\",\"exp\":1}", 0),
                     OIC_JWT_BAD_AUDIENCE);
    /* no audiences configured -> always refused; NULL policy too */
    oic_jwt_t *j = claims_jwt(fx_fmt("{\"aud\":\"%s\",%s}", AUDIENCE, rest));
    oic_jwt_policy_t p = policy();
    p.n_audiences = 0;
    assert_int_equal(oic_jwt_check_claims(j, &p, NOW, err, sizeof(err)), OIC_JWT_BAD_AUDIENCE);
    assert_int_equal(oic_jwt_check_claims(j, NULL, NOW, err, sizeof(err)), OIC_JWT_BAD_AUDIENCE);
    assert_int_equal(oic_jwt_check_claims(NULL, &p, NOW, err, sizeof(err)), OIC_JWT_MALFORMED);
    oic_jwt_free(j);
}

/*
 * oic_jwt_claims_until: the last second check_claims passes on time. Checked
 * against check_claims itself: it passes at until (and at seconds before
 * it, back to an nbf/iat that also passes), and fails as expired at until + 1.
 */
static void test_claims_until(void **state) {
    (void)state;
    static const struct { const char *exp, *more; long long leeway, want; } t[] = {
        {"1700000100", "", 0, 1700000100LL},
        {"1700000100", "", 60, 1700000160LL},
        {"1700000100", "", -5, 1700000100LL},          /* a negative leeway counts as 0 */
        {"1700000100.75", "", 0, 1700000100LL},        /* fractional: its floor */
        {"1700000100.25", "", 10, 1700000110LL},
        {"1700000100", ",\"nbf\":1699999990,\"iat\":1699999990", 0, 1700000100LL},
        {"1e300", "", 0, LLONG_MAX},
        {"-1e300", "", 0, LLONG_MIN},
        {"-100", "", 60, -40},                          /* negative: still a second (fuzz_jwt's finding) */
        {"-13301.5", "", 0, -13302},                    /* the floor, not the truncation */
        {"-100", "", 100, 0},
    };
    oic_jwt_policy_t p = policy();
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        oic_jwt_t *j = claims_jwt(fx_fmt("{\"iss\":\"%s\",\"aud\":\"%s\",\"exp\":%s%s}", ISSUER, AUDIENCE,
                                         t[i].exp, t[i].more));
        p.leeway = t[i].leeway;
        long long until = 42;
        assert_int_equal(oic_jwt_claims_until(j, &p, &until), 1);
        assert_int_equal(until, t[i].want);
        if (until > LLONG_MIN && until < LLONG_MAX) {
            /* a clock before it that passes, then it, then the second after */
            long long from = until >= NOW ? NOW : until - 1000;
            if (t[i].more[0] == '\0' || from >= NOW)
                for (long long now = from; now <= until; now += (until - from) / 7 + 1)
                    assert_int_equal(oic_jwt_check_claims(j, &p, now, err, sizeof(err)), OIC_JWT_OK);
            assert_int_equal(oic_jwt_check_claims(j, &p, until, err, sizeof(err)), OIC_JWT_OK);
            assert_int_equal(oic_jwt_check_claims(j, &p, until + 1, err, sizeof(err)), OIC_JWT_EXPIRED);
        }
        oic_jwt_free(j);
    }
    /* no exp, or not a number: nothing to remember, until untouched */
    long long until = 42;
    oic_jwt_t *j = claims_jwt("{\"exp\":\"1700000100\"}");
    assert_int_equal(oic_jwt_claims_until(j, &p, &until), 0);
    oic_jwt_free(j);
    j = claims_jwt("{\"sub\":\"x\"}");
    assert_int_equal(oic_jwt_claims_until(j, &p, &until), 0);
    assert_int_equal(oic_jwt_claims_until(j, NULL, &until), 0);
    assert_int_equal(oic_jwt_claims_until(j, &p, NULL), 0);
    oic_jwt_free(j);
    assert_int_equal(oic_jwt_claims_until(NULL, &p, &until), 0);
    assert_int_equal(until, 42);
}

static void test_audience_array_1000(void **state) {
    (void)state;
    for (int match = 0; match <= 1; match++) {
        size_t cap = 16384, n = 0;
        char *aud = fx_keep(malloc(cap));
        n += (size_t)sprintf(aud + n, "[");
        for (int i = 0; i < 999; i++) n += (size_t)sprintf(aud + n, "\"a%d\",", i);
        n += (size_t)sprintf(aud + n, "\"%s\"]", match ? AUDIENCE : "a999");
        assert_true(n < cap);
        const char *payload = fx_fmt("{\"iss\":\"%s\",\"aud\":%s,\"exp\":%lld}", ISSUER, aud, NOW + 60);
        const char *tok = fx_token("ES256", ec256, hdr("ES256", "ec256"), payload);
        assert_true(strlen(tok) <= OIC_JWT_MAX_LEN);
        assert_int_equal(full(tok, ALL_ALGS, ks), match ? OIC_JWT_OK : OIC_JWT_BAD_AUDIENCE);
        oic_jwt_t *j = claims_jwt(payload);
        char *all = oic_jwt_claim(j, "aud", 3);
        assert_non_null(all);
        assert_int_equal(strncmp(all, "a0 a1 a2 ", 9), 0);
        free(all);
        oic_jwt_free(j);
    }
}

/* ---- scopes and claims ---- */

static void test_scopes(void **state) {
    (void)state;
    oic_jwt_t *j = claims_jwt("{\"scp\":\"read  write read\",\"roles\":[\"Admin\",\"write\",7,\"\",\"Ops Team\"],"
                              "\"scope\":\"urn:opc:resource:consumer::all\"}");
    oic_jwt_policy_t p = policy();
    char *s = oic_jwt_scopes(j, &p);
    assert_string_equal(s, "urn:opc:resource:consumer::all read write Admin Ops Team");
    free(s);

    const oic_str_t read_[] = {S("read")}, admin_missing[] = {S("Admin"), S("delete")},
                    both[] = {S("Admin"), S("write")}, none_[] = {S("delete"), S("rea")},
                    opc[] = {S("urn:opc:resource:consumer::all")}, space[] = {S("Ops Team")}, ops[] = {S("Ops")};
    assert_int_equal(oic_jwt_has_scopes(j, &p, read_, 1, 0), 1);
    assert_int_equal(oic_jwt_has_scopes(j, &p, read_, 1, 1), 1);
    assert_int_equal(oic_jwt_has_scopes(j, &p, admin_missing, 2, 0), 1);
    assert_int_equal(oic_jwt_has_scopes(j, &p, admin_missing, 2, 1), 0);
    assert_int_equal(oic_jwt_has_scopes(j, &p, both, 2, 1), 1);
    assert_int_equal(oic_jwt_has_scopes(j, &p, none_, 2, 0), 0);
    assert_int_equal(oic_jwt_has_scopes(j, &p, none_, 2, 1), 0);
    assert_int_equal(oic_jwt_has_scopes(j, &p, opc, 1, 1), 1);
    assert_int_equal(oic_jwt_has_scopes(j, &p, space, 1, 1), 1); /* array elements are not split */
    assert_int_equal(oic_jwt_has_scopes(j, &p, ops, 1, 1), 0);
    assert_int_equal(oic_jwt_has_scopes(j, &p, NULL, 0, 1), 1);
    assert_int_equal(oic_jwt_has_scopes(j, &p, none_, 0, 0), 1);

    /* only the configured claims count */
    const oic_str_t only_roles[] = {S("roles")};
    p.scope_claims = only_roles;
    p.n_scope_claims = 1;
    assert_int_equal(oic_jwt_has_scopes(j, &p, read_, 1, 0), 0);
    s = oic_jwt_scopes(j, &p);
    assert_string_equal(s, "Admin write Ops Team");
    free(s);
    p.n_scope_claims = 0;
    s = oic_jwt_scopes(j, &p);
    assert_string_equal(s, "");
    free(s);
    assert_int_equal(oic_jwt_has_scopes(j, &p, read_, 1, 0), 0);
    oic_jwt_free(j);

    /* Entra app-only token: roles only */
    j = claims_jwt("{\"roles\":[\"Orders.Read\"]}");
    p = policy();
    const oic_str_t orders[] = {S("Orders.Read")};
    assert_int_equal(oic_jwt_has_scopes(j, &p, orders, 1, 1), 1);
    s = oic_jwt_scopes(j, &p);
    assert_string_equal(s, "Orders.Read");
    free(s);
    oic_jwt_free(j);

    /* scope claims of other types are ignored */
    j = claims_jwt("{\"scope\":{\"read\":true},\"scp\":42}");
    s = oic_jwt_scopes(j, &p);
    assert_string_equal(s, "");
    free(s);
    assert_int_equal(oic_jwt_has_scopes(j, &p, read_, 1, 0), 0);
    oic_jwt_free(j);
}

/* The claims without a copy: views into the decoded token, strings only. */
static void test_claim_views(void **state) {
    (void)state;
    oic_jwt_t *j = claims_jwt("{\"sub\":\"alice\",\"n\":42,\"arr\":[\"a\"],\"nul\":null,\"u\":\"caf\\u00e9\","
                              "\"esc\":\"a\\\"b\\\\c\\tz\",\"upn\":\"\",\"preferred_username\":7,"
                              "\"unique_name\":\"bob@example.com\"}");
    const char *v = "x";
    size_t len = 99;

    assert_int_equal(oic_jwt_claim_view(j, "sub", 3, &v, &len), 1);
    assert_int_equal(len, 5);
    assert_memory_equal(v, "alice", 6);                      /* NUL-terminated */
    assert_int_equal(oic_jwt_claim_view(j, "subject", 3, &v, &len), 1); /* length-delimited name */
    assert_memory_equal(v, "alice", 6);
    assert_int_equal(oic_jwt_claim_view(j, "u", 1, &v, &len), 1);
    assert_int_equal(len, 5);
    assert_memory_equal(v, "caf\xc3\xa9", 6);
    assert_int_equal(oic_jwt_claim_view(j, "esc", 3, &v, &len), 1);
    assert_int_equal(len, 7);
    assert_memory_equal(v, "a\"b\\c\tz", 8);               /* JSON escapes decoded */
    assert_int_equal(oic_jwt_claim_view(j, "upn", 3, &v, &len), 1);
    assert_int_equal(len, 0);
    assert_string_equal(v, "");

    /* not strings, absent, no token: 0, and nothing located */
    static const char *const none[] = {"n", "arr", "nul", "absent"};
    for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
        v = "x";
        len = 99;
        assert_int_equal(oic_jwt_claim_view(j, none[i], strlen(none[i]), &v, &len), 0);
        assert_null(v);
        assert_int_equal(len, 0);
    }
    assert_int_equal(oic_jwt_claim_view(NULL, "sub", 3, &v, &len), 0);
    assert_int_equal(oic_jwt_claim_view(j, NULL, 3, &v, &len), 0);
    assert_int_equal(oic_jwt_claim_view(j, "sub", 3, NULL, &len), 0);
    assert_int_equal(oic_jwt_claim_view(j, "sub", 3, &v, NULL), 0);

    /* the first non-empty string: what oic_jwt_first_claim copies */
    const oic_str_t names[] = {S("upn"), S("preferred_username"), S("unique_name"), S("sub")};
    assert_int_equal(oic_jwt_first_claim_view(j, names, 4, &v, &len), 1);
    assert_int_equal(len, 15);
    assert_string_equal(v, "bob@example.com");
    assert_int_equal(oic_jwt_first_claim_view(j, names + 3, 1, &v, &len), 1);
    assert_string_equal(v, "alice");
    v = "x";
    len = 99;
    assert_int_equal(oic_jwt_first_claim_view(j, names, 2, &v, &len), 0);  /* "" and a number */
    assert_null(v);
    assert_int_equal(len, 0);
    assert_int_equal(oic_jwt_first_claim_view(j, names, 0, &v, &len), 0);
    assert_int_equal(oic_jwt_first_claim_view(j, NULL, 4, &v, &len), 0);
    assert_int_equal(oic_jwt_first_claim_view(NULL, names, 4, &v, &len), 0);

    /* the view lives in the token: the same bytes on every call, no copy */
    const char *a, *b;
    assert_int_equal(oic_jwt_claim_view(j, "sub", 3, &a, &len), 1);
    assert_int_equal(oic_jwt_first_claim_view(j, names + 3, 1, &b, &len), 1);
    assert_ptr_equal(a, b);
    oic_jwt_free(j);
}

static void test_claim_rendering(void **state) {
    (void)state;
    oic_jwt_t *j = claims_jwt("{\"sub\":\"alice\",\"n\":42,\"neg\":-7,\"r\":1.5,\"third\":0.1,\"big\":1e21,"
                              "\"t\":true,\"f\":false,\"nul\":null,\"o\":{\"a\":1},\"arr\":[\"a\",1,true,{\"x\":1},"
                              "[2],null,\"b c\"],\"u\":\"caf\\u00e9\",\"exp\":1700000000.75,"
                              "\"upn\":\"\",\"preferred_username\":7,\"unique_name\":\"bob@example.com\"}");
    static const struct { const char *name, *want; } t[] = {
        {"sub", "alice"}, {"n", "42"}, {"neg", "-7"}, {"r", "1.5"}, {"third", "0.1"}, {"big", "1e+21"},
        {"t", "true"}, {"f", "false"}, {"arr", "a 1 true b c"}, {"u", "caf\xc3\xa9"}, {"exp", "1700000000.75"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        char *v = oic_jwt_claim(j, t[i].name, strlen(t[i].name));
        assert_non_null(v);
        assert_string_equal(v, t[i].want);
        free(v);
    }
    assert_null(oic_jwt_claim(j, "nul", 3));
    assert_null(oic_jwt_claim(j, "o", 1));
    assert_null(oic_jwt_claim(j, "absent", 6));
    assert_null(oic_jwt_claim(NULL, "sub", 3));
    char *v = oic_jwt_claim(j, "subject", 3); /* length-delimited name */
    assert_string_equal(v, "alice");
    free(v);
    assert_int_equal(oic_jwt_exp(j), 1700000000LL);

    const oic_str_t names[] = {S("upn"), S("preferred_username"), S("unique_name"), S("sub")};
    v = oic_jwt_first_claim(j, names, 4);
    assert_string_equal(v, "bob@example.com");
    free(v);
    v = oic_jwt_first_claim(j, names + 3, 1);
    assert_string_equal(v, "alice");
    free(v);
    assert_null(oic_jwt_first_claim(j, names, 2));
    assert_null(oic_jwt_first_claim(j, names, 0));
    oic_jwt_free(j);

    j = claims_jwt("{\"exp\":\"1700000000\"}");
    assert_int_equal(oic_jwt_exp(j), -1);
    oic_jwt_free(j);
    j = claims_jwt("{\"sub\":\"x\"}");
    assert_int_equal(oic_jwt_exp(j), -1);
    oic_jwt_free(j);
    j = claims_jwt("{\"exp\":1234}");
    assert_int_equal(oic_jwt_exp(j), 1234);
    oic_jwt_free(j);
    assert_int_equal(oic_jwt_exp(NULL), -1);
}

/* ---- oic_jwt_peek_exp: exp read without any check ---- */

static long long peek(const char *t) { return oic_jwt_peek_exp(t, strlen(t)); }

static void test_peek_exp(void **state)
{
    (void) state;
    /* payloads: {"exp":1700000000}, {"exp":1700000000.9}; any header, any signature */
    assert_int_equal(peek("eyJhbGciOiJub25lIn0.eyJleHAiOjE3MDAwMDAwMDB9.c2ln"), 1700000000LL);
    assert_int_equal(peek("x.eyJleHAiOjE3MDAwMDAwMDB9."), 1700000000LL);
    assert_int_equal(peek("a.eyJleHAiOjE3MDAwMDAwMDAuOX0.b"), 1700000000LL);
    /* no exp, exp a string, negative, out of range, duplicate names, not an object */
    assert_int_equal(peek("a.eyJzdWIiOiJ4In0.b"), -1);
    assert_int_equal(peek("a.eyJleHAiOiIxNzAwMDAwMDAwIn0.b"), -1);
    assert_int_equal(peek("a.eyJleHAiOi01fQ.b"), -1);
    assert_int_equal(peek("a.eyJleHAiOjFlMzB9.b"), -1);
    assert_int_equal(peek("a.eyJleHAiOjEsImV4cCI6Mn0.b"), -1);
    assert_int_equal(peek("a.WzFd.b"), -1);
    /* not the shape of a JWT: opaque, two or four segments, padding, bad base64url */
    assert_int_equal(peek("opaque-token-0123"), -1);
    assert_int_equal(peek("a.eyJleHAiOjE3MDAwMDAwMDB9"), -1);
    assert_int_equal(peek("a.eyJleHAiOjE3MDAwMDAwMDB9.b.c"), -1);
    assert_int_equal(peek("a.eyJleHAiOjE3MDAwMDAwMDB9=.b"), -1);
    assert_int_equal(peek("a.eyJleHAiOjE3MDAwMDAw*DB9.b"), -1);
    assert_int_equal(peek(""), -1);
    assert_int_equal(oic_jwt_peek_exp(NULL, 5), -1);
    /* the length bounds what is read */
    assert_int_equal(oic_jwt_peek_exp("a.eyJleHAiOjE3MDAwMDAwMDB9.b", 2), -1);
    char *big = malloc(OIC_JWT_MAX_LEN + 2);
    assert_non_null(big);
    memset(big, 'A', OIC_JWT_MAX_LEN + 1);
    memcpy(big, "a.eyJleHAiOjE3MDAwMDAwMDB9.", 27);
    big[OIC_JWT_MAX_LEN + 1] = '\0';
    assert_int_equal(oic_jwt_peek_exp(big, OIC_JWT_MAX_LEN + 1), -1);
    assert_int_equal(oic_jwt_peek_exp(big, OIC_JWT_MAX_LEN), 1700000000LL);
    free(big);
}

/* ---- memory estimate ---- */

/* jansson's allocations counted as malloc sees them (usable size + its 8-byte header) */
static long long json_live, json_peak;
static void *count_malloc(size_t n) {
    void *p = malloc(n);
    if (p) json_live += (long long)malloc_usable_size(p) + 8;
    if (json_live > json_peak) json_peak = json_live;
    return p;
}
static void count_free(void *p) {
    if (p) json_live -= (long long)malloc_usable_size(p) + 8;
    free(p);
}

/* A payload: the good claims plus "pad":[<n copies of item>], or n claims "c<i>":<item> when item starts with ':'. */
static const char *padded(size_t n, const char *item) {
    size_t il = strlen(item), cap = n * (il + 16) + 64, len = 0;
    char *p = fx_keep(malloc(cap));
    int many = item[0] == ':';
    if (!many) len += (size_t)snprintf(p + len, cap - len, ",\"pad\":[");
    for (size_t i = 0; i < n; i++) {
        if (many) len += (size_t)snprintf(p + len, cap - len, ",\"c%zu\"%s", i, item);
        else len += (size_t)snprintf(p + len, cap - len, "%s%s", i ? "," : "", item);
    }
    if (!many) len += (size_t)snprintf(p + len, cap - len, "]");
    return claims(p);
}

/*
 * oic_jwt_mem against what jansson really allocated for the claims (counted
 * through json_set_alloc_funcs) plus the token's own copies (signing input,
 * signature), within 5 %.
 */
static void check_mem(const char *payload, size_t min_ratio) {
    const char *tok = fx_token("RS256", rsa_a, hdr("RS256", "rs"), payload);
    size_t toklen = strlen(tok);
    oic_jwt_t *j = NULL;

    json_live = 0;
    json_set_alloc_funcs(count_malloc, count_free);
    assert_int_equal(oic_jwt_decode(tok, toklen, ALL_ALGS, &j, err, sizeof(err)), OIC_JWT_OK);
    long long tree = json_live;
    size_t mem = oic_jwt_mem(j);
    oic_jwt_free(j);
    long long after = json_live;
    json_set_alloc_funcs(malloc, free);

    assert_int_equal(after, 0);     /* everything jansson allocated was freed */
    assert_true(tree > 0);
    assert_true(mem >= (size_t)tree * 19 / 20 + toklen - 400);     /* tree + signing input */
    assert_true(mem <= (size_t)tree * 21 / 20 + 2 * toklen + 512);
    assert_true(mem >= min_ratio * strlen(payload));
}

static void test_jwt_mem(void **state) {
    (void)state;
    assert_int_equal(oic_jwt_mem(NULL), 0);
    check_mem(claims(""), 1);                      /* an ordinary token */
    check_mem(padded(2000, "[]"), 30);             /* empty arrays: ~40x the text */
    check_mem(padded(2000, "{}"), 30);             /* empty objects */
    check_mem(padded(3000, "0"), 10);              /* small integers */
    check_mem(padded(300, "\"abcdefghijklmnopqrstuvwxyz\""), 2);
    check_mem(padded(1000, "1.5"), 5);
    check_mem(padded(600, ":0"), 10);              /* 600 claims */
    check_mem(padded(50, ":[[1,2,{\"a\":\"b\"}],true,null]"), 5);
}

/* A token refused on its header never has its payload parsed. */
static void test_refused_alg_parses_no_payload(void **state) {
    (void)state;
    const char *pay = padded(2000, "[]");
    const char *toks[] = {
        fx_fmt("%s.", fx_input("{\"alg\":\"none\"}", pay)),
        fx_token_hs256("k", 1, "{\"alg\":\"HS256\"}", pay),
        fx_token("RS256", rsa_a, "{\"alg\":\"RS256\",\"crit\":[\"x\"]}", pay),
        fx_token("RS256", rsa_a, hdr("RS256", "rs"), pay), /* allowed: parsed (control) */
    };
    for (size_t i = 0; i < 4; i++) {
        json_live = json_peak = 0;
        json_set_alloc_funcs(count_malloc, count_free);
        oic_jwt_rc_t rc = decode_only(toks[i], i == 3 ? ALL_ALGS : OIC_ALG_RS256 | OIC_ALG_ES256);
        json_set_alloc_funcs(malloc, free);
        if (i < 3) {
            assert_int_equal(rc, OIC_JWT_BAD_ALG);
            assert_true(json_peak < 4096);
        } else {
            assert_int_equal(rc, OIC_JWT_OK);
            assert_true(json_peak > 100000);
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_alg_from_name, teardown),
        cmocka_unit_test_teardown(test_valid_tokens, teardown),
        cmocka_unit_test_teardown(test_verify_is_repeatable, teardown),
        cmocka_unit_test_teardown(test_alg_none, teardown),
        cmocka_unit_test_teardown(test_hs256_with_public_key, teardown),
        cmocka_unit_test_teardown(test_alg_not_allowed, teardown),
        cmocka_unit_test_teardown(test_alg_does_not_fit_key, teardown),
        cmocka_unit_test_teardown(test_unknown_kid, teardown),
        cmocka_unit_test_teardown(test_no_kid, teardown),
        cmocka_unit_test_teardown(test_crit_header, teardown),
        cmocka_unit_test_teardown(test_jku_x5u_jwk_ignored, teardown),
        cmocka_unit_test_teardown(test_signature_tampering, teardown),
        cmocka_unit_test_teardown(test_es256_signature_length, teardown),
        cmocka_unit_test_teardown(test_bad_segments, teardown),
        cmocka_unit_test_teardown(test_not_objects, teardown),
        cmocka_unit_test_teardown(test_duplicate_names, teardown),
        cmocka_unit_test_teardown(test_size_limits, teardown),
        cmocka_unit_test_teardown(test_deep_nesting, teardown),
        cmocka_unit_test_teardown(test_exp_types, teardown),
        cmocka_unit_test_teardown(test_time_boundaries, teardown),
        cmocka_unit_test_teardown(test_issuer, teardown),
        cmocka_unit_test_teardown(test_audience, teardown),
        cmocka_unit_test_teardown(test_audience_array_1000, teardown),
        cmocka_unit_test_teardown(test_scopes, teardown),
        cmocka_unit_test_teardown(test_claim_rendering, teardown),
        cmocka_unit_test_teardown(test_claim_views, teardown),
        cmocka_unit_test(test_peek_exp),
        cmocka_unit_test_teardown(test_claims_until, teardown),
        cmocka_unit_test_teardown(test_jwt_mem, teardown),
        cmocka_unit_test_teardown(test_refused_alg_parses_no_payload, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
