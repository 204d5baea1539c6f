/* Unit tests of RFC 7523 assertion minting, signer loading and secret files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jwt_fixture.h"
#include "oic_auth_jwt.h"

#define NOW 1700000000LL
#define AUD "https://identity.oraclecloud.com/"

static char dir[] = "/tmp/oic_assert_XXXXXX";
static EVP_PKEY *key, *other, *ec, *small;
static X509 *cert;
static char *cert_x5t;
static char err[256];

static const char *path(const char *name) { return fx_fmt("%s/%s", dir, name); }

static void write_file(const char *name, const void *data, size_t len) {
    FILE *f = fopen(path(name), "wb");
    FX_CHECK(f);
    FX_CHECK(fwrite(data, 1, len, f) == len);
    fclose(f);
}

static void write_str(const char *name, const char *s) { write_file(name, s, strlen(s)); }

static void write_key(const char *name, EVP_PKEY *k, const EVP_CIPHER *enc, int traditional) {
    BIO *b = BIO_new(BIO_s_mem());
    unsigned char pass[] = "passphrase";
    if (traditional)
        FX_CHECK(PEM_write_bio_PrivateKey_traditional(b, k, enc, enc ? pass : NULL, enc ? 10 : 0, NULL, NULL) == 1);
    else
        FX_CHECK(PEM_write_bio_PrivateKey(b, k, enc, enc ? pass : NULL, enc ? 10 : 0, NULL, NULL) == 1);
    write_str(name, fx_bio_text(b));
}

static int group_setup(void **state) {
    (void)state;
    FX_CHECK(mkdtemp(dir));
    key = fx_rsa(2048);
    other = fx_rsa(2048);
    small = fx_rsa(1024);
    ec = fx_ec("P-256");
    cert = fx_cert(key, "oic assertion signer");
    cert_x5t = strdup(fx_x5t(cert));
    write_key("key.pem", key, NULL, 0);
    write_key("key_rsa.pem", key, NULL, 1);
    write_key("enc.pem", key, EVP_aes_256_cbc(), 0);
    write_key("enc_rsa.pem", key, EVP_aes_256_cbc(), 1);
    write_key("ec.pem", ec, NULL, 0);
    write_key("small.pem", small, NULL, 0);
    write_str("cert.pem", fx_pem_cert(cert));
    X509 *oc = fx_cert(other, "someone else");
    write_str("other_cert.pem", fx_pem_cert(oc));
    X509_free(oc);
    write_str("garbage.pem", "hello\n");
    fx_release_all();
    return 0;
}

static int group_teardown(void **state) {
    (void)state;
    static const char *files[] = {"key.pem", "key_rsa.pem", "enc.pem", "enc_rsa.pem", "ec.pem", "small.pem",
                                  "cert.pem", "other_cert.pem", "garbage.pem", "secret"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) unlink(path(files[i]));
    fx_release_all();
    rmdir(dir);
    EVP_PKEY_free(key);
    EVP_PKEY_free(other);
    EVP_PKEY_free(small);
    EVP_PKEY_free(ec);
    X509_free(cert);
    free(cert_x5t);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    fx_release_all();
    return 0;
}

typedef struct {
    char *header_text, *claims_text;
    json_t *header, *claims;
} parsed_t;

/* Split the compact JWS, check its RS256 signature with OpenSSL against pub, parse both parts. */
static parsed_t verify_with_openssl(const char *jwt, EVP_PKEY *pub) {
    parsed_t p = {0};
    const char *d1 = strchr(jwt, '.'), *d2 = strrchr(jwt, '.');
    assert_non_null(d1);
    assert_true(d2 > d1);
    assert_null(strchr(d1 + 1, '.') == d2 ? NULL : "more than three segments");
    size_t hl = 0, cl = 0, sl = 0;
    unsigned char *h = fx_b64url_decode(fx_fmt("%.*s", (int)(d1 - jwt), jwt), &hl);
    unsigned char *c = fx_b64url_decode(fx_fmt("%.*s", (int)(d2 - d1 - 1), d1 + 1), &cl);
    unsigned char *s = fx_b64url_decode(d2 + 1, &sl);
    assert_non_null(h);
    assert_non_null(c);
    assert_non_null(s);
    assert_int_equal(sl, 256);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    assert_int_equal(EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL, pub), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING), 1);
    int ok = EVP_DigestVerify(ctx, s, sl, (const unsigned char *)jwt, (size_t)(d2 - jwt));
    EVP_MD_CTX_free(ctx);
    assert_int_equal(ok, 1);
    p.header_text = (char *)h;
    p.claims_text = (char *)c;
    p.header = json_loadb((char *)h, hl, JSON_REJECT_DUPLICATES, NULL);
    p.claims = json_loadb((char *)c, cl, JSON_REJECT_DUPLICATES, NULL);
    assert_non_null(p.header);
    assert_non_null(p.claims);
    return p;
}

static void parsed_free(parsed_t *p) {
    json_decref(p->header);
    json_decref(p->claims);
}

static const char *str(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

static long long integer(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

static oic_signer_t *load_ok(const char *k, const char *c) {
    err[0] = '\0';
    oic_signer_t *s = oic_signer_load(path(k), c ? path(c) : NULL, err, sizeof(err));
    assert_non_null(s);
    return s;
}

static void load_fails(const char *k, const char *c, const char *want) {
    err[0] = '\0';
    oic_signer_t *s = oic_signer_load(path(k), c ? path(c) : NULL, err, sizeof(err));
    assert_null(s);
    if (!strstr(err, want)) fail_msg("error \"%s\" lacks \"%s\"", err, want);
    assert_null(strstr(err, "BEGIN")); /* never the key itself */
}

static void test_mint_with_cert(void **state) {
    (void)state;
    oic_signer_t *s = load_ok("key.pem", "cert.pem");
    char *jwt = oic_assertion_mint(s, "alias1", "client-id-1", "alice@example.com", AUD, NOW, 300, err, sizeof(err));
    assert_non_null(jwt);
    parsed_t p = verify_with_openssl(jwt, key);
    assert_string_equal(p.header_text,
                        fx_fmt("{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"alias1\",\"x5t\":\"%s\"}", cert_x5t));
    assert_int_equal(json_object_size(p.header), 4);
    assert_string_equal(str(p.header, "x5t"), cert_x5t);
    assert_int_equal(strlen(cert_x5t), 27); /* 20 bytes */
    assert_int_equal(json_object_size(p.claims), 6);
    assert_string_equal(str(p.claims, "sub"), "alice@example.com");
    assert_string_equal(str(p.claims, "iss"), "client-id-1");
    assert_string_equal(str(p.claims, "aud"), AUD);
    assert_int_equal(integer(p.claims, "iat"), NOW);
    assert_int_equal(integer(p.claims, "exp"), NOW + 300);
    const char *jti = str(p.claims, "jti");
    assert_int_equal(strlen(jti), 22); /* 16 random bytes, base64url */
    size_t n;
    assert_non_null(fx_b64url_decode(jti, &n));
    assert_int_equal(n, 16);

    /* a second mint: same everything but the jti (and so the signature) */
    char *jwt2 = oic_assertion_mint(s, "alias1", "client-id-1", "alice@example.com", AUD, NOW, 300, err, sizeof(err));
    assert_non_null(jwt2);
    parsed_t p2 = verify_with_openssl(jwt2, key);
    assert_string_equal(p2.header_text, p.header_text);
    assert_string_not_equal(str(p2.claims, "jti"), jti);
    assert_string_not_equal(jwt2, jwt);
    /* a signature from another key does not verify */
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    const char *d2 = strrchr(jwt, '.');
    size_t sl = 0;
    unsigned char *sig = fx_b64url_decode(d2 + 1, &sl);
    assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, other), 1);
    assert_int_not_equal(EVP_DigestVerify(ctx, sig, sl, (const unsigned char *)jwt, (size_t)(d2 - jwt)), 1);
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();

    parsed_free(&p);
    parsed_free(&p2);
    free(jwt);
    free(jwt2);
    oic_signer_free(s);
}

static void test_mint_without_cert(void **state) {
    (void)state;
    oic_signer_t *s = load_ok("key_rsa.pem", NULL); /* traditional "RSA PRIVATE KEY" PEM */
    char *jwt = oic_assertion_mint(s, "alias2", "cid", "bob", AUD, NOW, 60, err, sizeof(err));
    assert_non_null(jwt);
    parsed_t p = verify_with_openssl(jwt, key);
    assert_string_equal(p.header_text, "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"alias2\"}");
    assert_int_equal(integer(p.claims, "exp") - integer(p.claims, "iat"), 60);
    parsed_free(&p);
    free(jwt);
    /* neither kid nor certificate: refused */
    assert_null(oic_assertion_mint(s, NULL, "cid", "bob", AUD, NOW, 60, err, sizeof(err)));
    assert_string_equal(err, "assertion needs a kid or a certificate (x5t)");
    assert_null(oic_assertion_mint(s, "", "cid", "bob", AUD, NOW, 60, err, sizeof(err)));
    oic_signer_free(s);

    /* with a certificate the kid may be omitted: x5t alone identifies the key */
    s = load_ok("key.pem", "cert.pem");
    jwt = oic_assertion_mint(s, NULL, "cid", "bob", AUD, NOW, 60, err, sizeof(err));
    assert_non_null(jwt);
    p = verify_with_openssl(jwt, key);
    assert_string_equal(p.header_text, fx_fmt("{\"alg\":\"RS256\",\"typ\":\"JWT\",\"x5t\":\"%s\"}", cert_x5t));
    parsed_free(&p);
    free(jwt);
    oic_signer_free(s);
}

static void test_mint_escaping_and_args(void **state) {
    (void)state;
    oic_signer_t *s = load_ok("key.pem", NULL);
    const char *sub = "o'brien \"the\" \\admin/\n\xc3\xa9\x01";
    char *jwt = oic_assertion_mint(s, "k\"1", "cid", sub, AUD, NOW, 60, err, sizeof(err));
    assert_non_null(jwt);
    parsed_t p = verify_with_openssl(jwt, key);
    assert_string_equal(str(p.claims, "sub"), sub);
    assert_string_equal(str(p.header, "kid"), "k\"1");
    assert_non_null(strstr(p.claims_text, "\\\"the\\\" \\\\admin/\\n"));
    parsed_free(&p);
    free(jwt);
    /* not UTF-8, missing values, bad lifetime */
    assert_null(oic_assertion_mint(s, "k", "cid", "bad\xff", AUD, NOW, 60, err, sizeof(err)));
    assert_string_equal(err, "assertion value is not valid UTF-8");
    assert_null(oic_assertion_mint(s, "k", NULL, "bob", AUD, NOW, 60, err, sizeof(err)));
    assert_null(oic_assertion_mint(s, "k", "cid", "", AUD, NOW, 60, err, sizeof(err)));
    assert_null(oic_assertion_mint(s, "k", "cid", "bob", NULL, NOW, 60, err, sizeof(err)));
    assert_null(oic_assertion_mint(s, "k", "cid", "bob", AUD, NOW, 0, err, sizeof(err)));
    assert_null(oic_assertion_mint(s, "k", "cid", "bob", AUD, NOW, -5, err, sizeof(err)));
    assert_null(oic_assertion_mint(NULL, "k", "cid", "bob", AUD, NOW, 60, err, sizeof(err)));
    oic_signer_free(s);
    oic_signer_free(NULL);
}

static void test_signer_errors(void **state) {
    (void)state;
    load_fails("missing.pem", NULL, strerror(ENOENT));
    load_fails("missing.pem", NULL, "missing.pem");
    load_fails("enc.pem", NULL, "encrypted");
    load_fails("enc_rsa.pem", NULL, "encrypted");
    load_fails("ec.pem", NULL, "not an RSA key");
    load_fails("small.pem", NULL, "shorter than 2048 bits");
    load_fails("garbage.pem", NULL, "no PEM private key");
    load_fails("cert.pem", NULL, "no PEM private key");
    load_fails("key.pem", "other_cert.pem", "does not match the private key");
    load_fails("key.pem", "missing_cert.pem", strerror(ENOENT));
    load_fails("key.pem", "garbage.pem", "no PEM certificate");
    load_fails("key.pem", "key.pem", "no PEM certificate");
    err[0] = '\0';
    assert_null(oic_signer_load(dir, NULL, err, sizeof(err))); /* a directory */
    assert_true(err[0] != '\0');
    assert_null(oic_signer_load(NULL, NULL, err, sizeof(err)));
    assert_null(oic_signer_load(path("enc.pem"), NULL, NULL, 0));
    /* the good pair loads, and an empty cert path means none */
    oic_signer_free(load_ok("key.pem", "cert.pem"));
    oic_signer_t *s = oic_signer_load(path("key.pem"), "", err, sizeof(err));
    assert_non_null(s);
    oic_signer_free(s);
}

static char *secret_of(const void *data, size_t len) {
    write_file("secret", data, len);
    err[0] = '\0';
    char *s = oic_read_secret_file(path("secret"), err, sizeof(err));
    if (!s) assert_true(err[0] != '\0');
    return s;
}

static void test_secret_file(void **state) {
    (void)state;
    static const struct { const char *in, *want; } ok[] = {
        {"s3cr:t%+/~\xc3\xa9", "s3cr:t%+/~\xc3\xa9"},
        {"secret\n", "secret"},
        {"secret\r\n", "secret"},
        {"secret\n\n\r\n", "secret"},
        {"two\nlines\n", "two\nlines"},
        {" spaced \n", " spaced "},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        char *s = secret_of(ok[i].in, strlen(ok[i].in));
        assert_non_null(s);
        assert_string_equal(s, ok[i].want);
        free(s);
    }
    assert_null(secret_of("", 0));
    assert_non_null(strstr(err, "empty"));
    assert_null(secret_of("\r\n\n", 3));
    assert_non_null(strstr(err, "empty"));
    assert_null(secret_of("a\0b", 3));
    /* 4 KiB is the limit */
    char big[4097];
    memset(big, 'x', sizeof(big));
    char *s = secret_of(big, 4096);
    assert_non_null(s);
    assert_int_equal(strlen(s), 4096);
    free(s);
    assert_null(secret_of(big, 4097));
    assert_non_null(strstr(err, "larger than"));
    /* unreadable */
    assert_null(oic_read_secret_file(path("nope"), err, sizeof(err)));
    assert_non_null(strstr(err, strerror(ENOENT)));
    assert_null(oic_read_secret_file(dir, err, sizeof(err)));
    assert_non_null(strstr(err, strerror(EISDIR)));
    assert_null(oic_read_secret_file(NULL, err, sizeof(err)));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_mint_with_cert, teardown),
        cmocka_unit_test_teardown(test_mint_without_cert, teardown),
        cmocka_unit_test_teardown(test_mint_escaping_and_args, teardown),
        cmocka_unit_test_teardown(test_signer_errors, teardown),
        cmocka_unit_test_teardown(test_secret_file, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
