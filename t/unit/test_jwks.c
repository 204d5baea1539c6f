/* Unit tests of key set parsing (oic_jwks_parse) and key selection across rotations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "jwt_fixture.h"
#include "oic_auth_jwt.h"

#define ALL_ALGS 0x1ffu

static EVP_PKEY *rsa1, *rsa2, *rsa3, *rsa1024, *ec256, *ec384;
static char err[256];

static int group_setup(void **state) {
    (void)state;
    rsa1 = fx_rsa(2048);
    rsa2 = fx_rsa(2048);
    rsa3 = fx_rsa(3072);
    rsa1024 = fx_rsa(1024);
    ec256 = fx_ec("P-256");
    ec384 = fx_ec("P-384");
    return 0;
}

static int group_teardown(void **state) {
    (void)state;
    EVP_PKEY_free(rsa1);
    EVP_PKEY_free(rsa2);
    EVP_PKEY_free(rsa3);
    EVP_PKEY_free(rsa1024);
    EVP_PKEY_free(ec256);
    EVP_PKEY_free(ec384);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    fx_release_all();
    return 0;
}

static oic_jwks_t *parse(const char *doc) {
    err[0] = '\0';
    oic_jwks_t *ks = oic_jwks_parse(doc, strlen(doc), err, sizeof(err));
    if (ks) assert_string_equal(err, "");
    else assert_true(err[0] != '\0');
    return ks;
}

/* Verify a fresh RS256/ES256 token (kid may be NULL) against ks; claims are not checked. */
static oic_jwt_rc_t verify(const oic_jwks_t *ks, const char *alg, EVP_PKEY *k, const char *kid) {
    const char *h = kid ? fx_fmt("{\"alg\":\"%s\",\"kid\":\"%s\"}", alg, kid) : fx_fmt("{\"alg\":\"%s\"}", alg);
    const char *tok = fx_token(alg, k, h, "{\"sub\":\"alice\",\"exp\":1}");
    oic_jwt_t *j = NULL;
    assert_int_equal(oic_jwt_decode(tok, strlen(tok), ALL_ALGS, &j, err, sizeof(err)), OIC_JWT_OK);
    oic_jwt_rc_t rc = oic_jwt_verify(j, ks, err, sizeof(err));
    oic_jwt_free(j);
    return rc;
}

/* A JWK with one member replaced (value is JSON text) or removed (value NULL). */
static json_t *with(json_t *jwk, const char *name, const char *value) {
    if (value) {
        json_t *v = json_loads(value, JSON_DECODE_ANY, NULL);
        FX_CHECK(v);
        json_object_set_new(jwk, name, v);
    } else {
        json_object_del(jwk, name);
    }
    return jwk;
}

static void test_several_keys(void **state) {
    (void)state;
    const char *doc = fx_jwks(5, with(fx_jwk(rsa1, "k1", "RS256"), "use", "\"sig\""), fx_jwk(rsa2, "k2", NULL),
                              with(fx_jwk(rsa3, "k3", "PS384"), "key_ops", "[\"verify\"]"),
                              with(fx_jwk(ec256, "e1", "ES256"), "x5t", "\"abc\""), fx_jwk(ec384, "e2", NULL));
    oic_jwks_t *ks = parse(doc);
    assert_non_null(ks);
    assert_int_equal(oic_jwks_count(ks), 5);
    assert_int_equal(verify(ks, "RS256", rsa1, "k1"), OIC_JWT_OK);
    assert_int_equal(verify(ks, "RS512", rsa2, "k2"), OIC_JWT_OK);
    assert_int_equal(verify(ks, "PS384", rsa3, "k3"), OIC_JWT_OK);
    assert_int_equal(verify(ks, "ES256", ec256, "e1"), OIC_JWT_OK);
    assert_int_equal(verify(ks, "ES384", ec384, "e2"), OIC_JWT_OK);
    /* the order of keys means nothing; a key never verifies for another kid */
    assert_int_equal(verify(ks, "RS256", rsa1, "k2"), OIC_JWT_BAD_SIGNATURE);
    assert_int_equal(verify(ks, "RS256", rsa3, "k3"), OIC_JWT_BAD_SIGNATURE); /* k3 is PS384 only */
    oic_jwks_free(ks);

    /* a single JWK object is accepted as a set of one */
    const char *one = fx_dump(fx_jwk(rsa1, "solo", NULL));
    ks = parse(one);
    assert_int_equal(oic_jwks_count(ks), 1);
    assert_int_equal(verify(ks, "RS256", rsa1, "solo"), OIC_JWT_OK);
    assert_int_equal(verify(ks, "RS256", rsa1, NULL), OIC_JWT_OK);
    oic_jwks_free(ks);

    /* kid may be absent; unknown members are ignored; same kid twice: both tried */
    doc = fx_jwks(3, with(fx_jwk(rsa1, NULL, NULL), "x5c", "[\"MIIB\"]"), fx_jwk(rsa2, "SIGNING_KEY", NULL),
                  fx_jwk(rsa3, "SIGNING_KEY", NULL));
    ks = parse(doc);
    assert_int_equal(oic_jwks_count(ks), 3);
    assert_int_equal(verify(ks, "RS256", rsa2, "SIGNING_KEY"), OIC_JWT_OK);
    assert_int_equal(verify(ks, "RS256", rsa3, "SIGNING_KEY"), OIC_JWT_OK);
    assert_int_equal(verify(ks, "RS256", rsa1, "SIGNING_KEY"), OIC_JWT_BAD_SIGNATURE);
    assert_int_equal(verify(ks, "RS256", rsa1, NULL), OIC_JWT_UNKNOWN_KID); /* three RSA keys */
    oic_jwks_free(ks);
}

static void test_rotation(void **state) {
    (void)state;
    oic_jwks_t *old = parse(fx_jwks(2, fx_jwk(rsa1, "2023", "RS256"), fx_jwk(rsa2, "2024", "RS256")));
    oic_jwks_t *cur = parse(fx_jwks(2, fx_jwk(rsa2, "2024", "RS256"), fx_jwk(rsa3, "2025", "RS256")));
    assert_non_null(old);
    assert_non_null(cur);
    assert_int_equal(verify(old, "RS256", rsa1, "2023"), OIC_JWT_OK);
    assert_int_equal(verify(old, "RS256", rsa3, "2025"), OIC_JWT_UNKNOWN_KID); /* new kid: caller refreshes */
    assert_int_equal(verify(cur, "RS256", rsa3, "2025"), OIC_JWT_OK);
    assert_int_equal(verify(cur, "RS256", rsa2, "2024"), OIC_JWT_OK);
    assert_int_equal(verify(cur, "RS256", rsa1, "2023"), OIC_JWT_UNKNOWN_KID); /* retired */
    assert_string_equal(err, "kid not in the key set");
    oic_jwks_free(old);
    oic_jwks_free(cur);
}

static void test_skipped_keys(void **state) {
    (void)state;
    json_t *plain = fx_jwk(rsa2, NULL, NULL);
    const char *n_padded = fx_fmt("\"%s=\"", json_string_value(json_object_get(plain, "n")));
    json_decref(plain);
    json_t *bad[] = {
        with(fx_jwk(rsa2, "enc", NULL), "use", "\"enc\""),
        with(fx_jwk(rsa2, "use-num", NULL), "use", "1"),
        with(fx_jwk(rsa2, "ops", NULL), "key_ops", "[\"encrypt\",\"sign\"]"),
        with(fx_jwk(rsa2, "ops-str", NULL), "key_ops", "\"verify\""),
        json_pack("{s:s,s:s,s:s}", "kty", "oct", "kid", "hmac", "k", "c2VjcmV0"),
        json_pack("{s:s,s:s,s:s,s:s}", "kty", "OKP", "kid", "ed", "crv", "Ed25519", "x", "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"),
        fx_jwk(rsa1024, "small", NULL),
        fx_jwk(rsa2, "hs", "HS256"),
        fx_jwk(rsa2, "none", "none"),
        fx_jwk(rsa2, "es-on-rsa", "ES256"),
        fx_jwk(rsa2, "oaep", "RSA-OAEP"),
        fx_jwk(ec256, "es384-on-p256", "ES384"),
        fx_jwk(ec256, "rs-on-ec", "RS256"),
        with(fx_jwk(rsa2, "no-e", NULL), "e", NULL),
        with(fx_jwk(rsa2, "e-num", NULL), "e", "65537"),
        with(fx_jwk(rsa2, "n-padded", NULL), "n", n_padded),
        with(fx_jwk(rsa2, "n-b64", NULL), "n", "\"ab+/\""),
        with(fx_jwk(rsa2, "e-even", NULL), "e", "\"AQAA\""),
        with(fx_jwk(ec256, "off-curve", NULL), "y", fx_fmt("\"%s\"", fx_b64url("\x01\x02\x03\x04\x05\x06\x07\x08"
                                                                            "\x01\x02\x03\x04\x05\x06\x07\x08"
                                                                            "\x01\x02\x03\x04\x05\x06\x07\x08"
                                                                            "\x01\x02\x03\x04\x05\x06\x07\x08", 32))),
        with(fx_jwk(ec256, "short-x", NULL), "x", "\"AAAA\""),
        with(fx_jwk(ec256, "no-crv", NULL), "crv", NULL),
        with(fx_jwk(ec256, "k1", NULL), "crv", "\"secp256k1\""),
        with(fx_jwk(rsa2, "kid-num", NULL), "kid", "5"),
        with(fx_jwk(rsa2, "no-kty", NULL), "kty", NULL),
        json_string("not an object"),
    };
    size_t nbad = sizeof(bad) / sizeof(bad[0]);
    /* each bad key alone: no usable key */
    for (size_t i = 0; i < nbad; i++) {
        json_t *arr = json_array();
        json_array_append(arr, bad[i]);
        json_t *doc = json_object();
        json_object_set_new(doc, "keys", arr);
        const char *text = fx_dump(doc);
        assert_null(parse(text));
        assert_non_null(strstr(err, "no usable key"));
    }
    /* mixed with one good key: only the good key remains */
    json_t *arr = json_array();
    for (size_t i = 0; i < nbad; i++) json_array_append_new(arr, bad[i]);
    json_array_append_new(arr, fx_jwk(rsa1, "good", NULL));
    json_t *doc = json_object();
    json_object_set_new(doc, "keys", arr);
    oic_jwks_t *ks = parse(fx_dump(doc));
    assert_non_null(ks);
    assert_int_equal(oic_jwks_count(ks), 1);
    assert_int_equal(verify(ks, "RS256", rsa1, "good"), OIC_JWT_OK);
    assert_int_equal(verify(ks, "RS256", rsa2, "enc"), OIC_JWT_UNKNOWN_KID);
    assert_int_equal(verify(ks, "RS256", rsa1024, "small"), OIC_JWT_UNKNOWN_KID);
    oic_jwks_free(ks);

    /* the reason of the last skip is reported */
    assert_null(parse(fx_jwks(1, fx_jwk(rsa1024, "small", NULL))));
    assert_string_equal(err, "JWKS: no usable key (last skipped: RSA modulus shorter than 2048 bits)");
    assert_null(parse(fx_jwks(1, with(fx_jwk(rsa1, "e", NULL), "use", "\"enc\""))));
    assert_string_equal(err, "JWKS: no usable key (last skipped: key use is not sig)");
}

static void test_bad_documents(void **state) {
    (void)state;
    assert_null(parse(""));
    assert_null(parse("   "));
    assert_null(parse("hello"));
    assert_string_equal(err, "key set is neither JSON nor PEM");
    assert_null(parse("[]"));
    assert_null(parse("{\"keys\":[]}"));
    assert_null(parse("{\"keys\":{}}"));
    assert_null(parse("{\"foo\":1}"));
    assert_null(parse("{\"keys\":["));
    assert_null(parse(fx_fmt("%s x", fx_jwks(1, fx_jwk(rsa1, "a", NULL)))));
    /* duplicate names anywhere */
    const char *dup = fx_fmt("{\"keys\":[%s],\"keys\":[]}", fx_dump(fx_jwk(rsa1, "a", NULL)));
    assert_null(parse(dup));
    const char *kidless = fx_dump(fx_jwk(rsa1, NULL, NULL));
    const char *dup2 = fx_fmt("{\"keys\":[{\"kid\":\"a\",\"kid\":\"b\",%s]}", kidless + 1);
    assert_null(parse(dup2));
    assert_non_null(strstr(err, "duplicate"));
    /* 64 keys are fine, 65 are not */
    json_t *arr = json_array();
    for (int i = 0; i < 64; i++) json_array_append_new(arr, fx_jwk(ec256, fx_fmt("k%d", i), NULL));
    json_t *doc = json_object();
    json_object_set(doc, "keys", arr);
    oic_jwks_t *ks = parse(fx_dump(json_incref(doc)));
    assert_int_equal(oic_jwks_count(ks), 64);
    assert_int_equal(verify(ks, "ES256", ec256, "k63"), OIC_JWT_OK);
    oic_jwks_free(ks);
    json_array_append_new(arr, fx_jwk(ec256, "k64", NULL));
    json_decref(arr);
    assert_null(parse(fx_dump(doc)));
    assert_string_equal(err, "JWKS: more than 64 keys");
    /* size bound */
    size_t big = OIC_JWKS_MAX_BYTES + 1;
    char *huge = fx_keep(malloc(big + 1));
    memset(huge, ' ', big);
    memcpy(huge + big - 2, "{}", 2);
    huge[big] = '\0';
    assert_null(oic_jwks_parse(huge, big, err, sizeof(err)));
    assert_non_null(strstr(err, "larger than"));
    /* NULL and count/free of NULL */
    assert_null(oic_jwks_parse(NULL, 0, err, sizeof(err)));
    assert_null(oic_jwks_parse("{}", 2, NULL, 0));
    assert_int_equal(oic_jwks_count(NULL), 0);
    oic_jwks_free(NULL);
}

static void test_pem_inputs(void **state) {
    (void)state;
    /* SubjectPublicKeyInfo RSA */
    oic_jwks_t *ks = parse(fx_pem_pubkey(rsa1));
    assert_int_equal(oic_jwks_count(ks), 1);
    assert_int_equal(verify(ks, "RS256", rsa1, NULL), OIC_JWT_OK);
    assert_int_equal(verify(ks, "PS256", rsa1, NULL), OIC_JWT_OK);
    /* a kid in the token with a kid-less (PEM) key set: the one fitting key is used */
    assert_int_equal(verify(ks, "RS256", rsa1, "SIGNING_KEY"), OIC_JWT_OK);
    assert_int_equal(verify(ks, "RS256", rsa2, NULL), OIC_JWT_BAD_SIGNATURE);
    assert_int_equal(verify(ks, "ES256", ec256, NULL), OIC_JWT_UNKNOWN_KID);
    oic_jwks_free(ks);
    /* PKCS#1 RSA PUBLIC KEY */
    ks = parse(fx_pem_rsa_pubkey(rsa2));
    assert_non_null(strstr(fx_pem_rsa_pubkey(rsa2), "BEGIN RSA PUBLIC KEY"));
    assert_int_equal(oic_jwks_count(ks), 1);
    assert_int_equal(verify(ks, "RS384", rsa2, NULL), OIC_JWT_OK);
    assert_int_equal(verify(ks, "RS384", rsa1, NULL), OIC_JWT_BAD_SIGNATURE);
    oic_jwks_free(ks);
    /* EC public key */
    ks = parse(fx_pem_pubkey(ec384));
    assert_int_equal(verify(ks, "ES384", ec384, NULL), OIC_JWT_OK);
    assert_int_equal(verify(ks, "ES256", ec256, NULL), OIC_JWT_UNKNOWN_KID);
    oic_jwks_free(ks);
    /* certificate, with text around it and a private key block that is ignored */
    X509 *x = fx_cert(rsa1, "iam signing");
    ks = parse(fx_fmt("subject=CN = iam signing\n%s\n%s", fx_pem_privkey(rsa2), fx_pem_cert(x)));
    assert_int_equal(oic_jwks_count(ks), 1);
    assert_int_equal(verify(ks, "RS256", rsa1, NULL), OIC_JWT_OK);
    assert_int_equal(verify(ks, "RS256", rsa2, NULL), OIC_JWT_BAD_SIGNATURE);
    oic_jwks_free(ks);
    X509_free(x);
    /* two blocks: two keys; without a kid the token is ambiguous */
    ks = parse(fx_fmt("%s%s", fx_pem_pubkey(rsa1), fx_pem_pubkey(rsa2)));
    assert_int_equal(oic_jwks_count(ks), 2);
    assert_int_equal(verify(ks, "RS256", rsa1, NULL), OIC_JWT_UNKNOWN_KID);
    oic_jwks_free(ks);
    /* weak or broken PEM */
    X509 *weak = fx_cert(rsa1024, "weak");
    assert_null(parse(fx_pem_cert(weak)));
    assert_string_equal(err, "PEM: no usable key (RSA modulus shorter than 2048 bits)");
    X509_free(weak);
    assert_null(parse(fx_pem_pubkey(rsa1024)));
    assert_null(parse(fx_pem_privkey(rsa1)));
    assert_null(parse("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"));
    assert_null(parse("-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n"));
}

/* Which algorithms a key set can serve (what nginx -t checks oic_auth_algorithms against). */
static void test_algorithms(void **state) {
    (void)state;
    const unsigned rsa = OIC_ALG_RS256 | OIC_ALG_RS384 | OIC_ALG_RS512 | OIC_ALG_PS256 | OIC_ALG_PS384 | OIC_ALG_PS512;
    oic_jwks_t *ks;

    assert_int_equal(oic_jwks_algorithms(NULL), 0);

    ks = parse(fx_jwks(1, fx_jwk(rsa1, "a", NULL)));            /* RSA, no alg: RS* and PS* */
    assert_int_equal(oic_jwks_algorithms(ks), rsa);
    oic_jwks_free(ks);

    ks = parse(fx_jwks(1, fx_jwk(rsa1, "a", "PS384")));         /* a JWK alg narrows it */
    assert_int_equal(oic_jwks_algorithms(ks), OIC_ALG_PS384);
    oic_jwks_free(ks);

    ks = parse(fx_jwks(2, fx_jwk(ec256, "e", NULL), fx_jwk(ec384, "f", "ES384")));
    assert_int_equal(oic_jwks_algorithms(ks), OIC_ALG_ES256 | OIC_ALG_ES384);
    oic_jwks_free(ks);

    ks = parse(fx_jwks(2, fx_jwk(rsa1, "a", "RS256"), fx_jwk(ec256, "e", "ES256")));
    assert_int_equal(oic_jwks_algorithms(ks), OIC_ALG_RS256 | OIC_ALG_ES256);
    oic_jwks_free(ks);

    ks = parse(fx_pem_pubkey(ec384));                           /* PEM: by the key's type */
    assert_int_equal(oic_jwks_algorithms(ks), OIC_ALG_ES384);
    oic_jwks_free(ks);

    /* what the set serves is what verify accepts: an ES256 token against an RS256-only set */
    ks = parse(fx_jwks(1, fx_jwk(rsa1, "a", "RS256")));
    assert_false(oic_jwks_algorithms(ks) & OIC_ALG_ES256);
    assert_int_equal(verify(ks, "ES256", ec256, "a"), OIC_JWT_BAD_SIGNATURE);
    assert_false(oic_jwks_algorithms(ks) & OIC_ALG_PS256);
    assert_int_equal(verify(ks, "PS256", rsa1, "a"), OIC_JWT_BAD_SIGNATURE);
    assert_int_equal(verify(ks, "RS256", rsa1, "a"), OIC_JWT_OK);
    oic_jwks_free(ks);

    assert_string_equal(oic_alg_name(OIC_ALG_ES512), "ES512");
    assert_string_equal(oic_alg_name(OIC_ALG_RS256), "RS256");
    assert_null(oic_alg_name(0));
    assert_null(oic_alg_name(OIC_ALG_RS256 | OIC_ALG_RS384));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_several_keys, teardown),
        cmocka_unit_test_teardown(test_rotation, teardown),
        cmocka_unit_test_teardown(test_skipped_keys, teardown),
        cmocka_unit_test_teardown(test_bad_documents, teardown),
        cmocka_unit_test_teardown(test_pem_inputs, teardown),
        cmocka_unit_test_teardown(test_algorithms, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
