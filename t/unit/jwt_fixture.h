/*
 * Test key material and a small independent JWS signer for the JWT/JWKS/assertion
 * unit tests (and bench/jwt_bench.c). Keys are generated at runtime with OpenSSL,
 * so nothing expires. Strings returned by fx_* are kept in a scratch list and
 * freed by fx_release_all() (call it from each test's teardown).
 * Uses only OpenSSL and jansson, never the code under test.
 */
#ifndef JWT_FIXTURE_H
#define JWT_FIXTURE_H

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FX_CHECK(c)                                                              \
    do {                                                                         \
        if (!(c)) {                                                              \
            fprintf(stderr, "fixture: %s failed at %s:%d\n", #c, __FILE__, __LINE__); \
            ERR_print_errors_fp(stderr);                                         \
            abort();                                                             \
        }                                                                        \
    } while (0)

/* ---- scratch allocations ---- */

#define FX_MAX_KEEP 4096
static void *fx_kept[FX_MAX_KEEP];
static size_t fx_nkept;

static inline void *fx_keep(void *p) {
    FX_CHECK(p != NULL && fx_nkept < FX_MAX_KEEP);
    fx_kept[fx_nkept++] = p;
    return p;
}

static inline void fx_release_all(void) {
    while (fx_nkept) free(fx_kept[--fx_nkept]);
}

static inline char *fx_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline char *fx_fmt(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = (char *)fx_keep(malloc((size_t)n + 1));
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* ---- base64url ---- */

static inline char *fx_b64url(const void *data, size_t len) {
    char *out = (char *)fx_keep(malloc(4 * ((len + 2) / 3) + 1));
    int n = EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)data, (int)len);
    while (n > 0 && out[n - 1] == '=') n--;
    out[n] = '\0';
    for (char *p = out; *p; p++) {
        if (*p == '+') *p = '-';
        else if (*p == '/') *p = '_';
    }
    return out;
}

static inline char *fx_b64url_str(const char *s) { return fx_b64url(s, strlen(s)); }

/* Decode unpadded base64url; returns a kept buffer (NUL-terminated) and its length, or NULL. */
static inline unsigned char *fx_b64url_decode(const char *in, size_t *outlen) {
    size_t n = strlen(in);
    *outlen = 0;
    unsigned char *out = (unsigned char *)fx_keep(malloc(n * 3 / 4 + 3));
    unsigned acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        int v = c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26
              : c >= '0' && c <= '9' ? c - '0' + 52 : c == '-' ? 62 : c == '_' ? 63 : -1;
        if (v < 0) return NULL;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    out[o] = 0;
    *outlen = o;
    return out;
}

/* ---- keys ---- */

static inline EVP_PKEY *fx_rsa(unsigned bits) {
    EVP_PKEY *k = EVP_RSA_gen(bits);
    FX_CHECK(k);
    return k;
}

static inline EVP_PKEY *fx_ec(const char *curve /* "P-256" */) {
    EVP_PKEY *k = EVP_EC_gen(curve);
    FX_CHECK(k);
    return k;
}

static inline char *fx_bn_b64(EVP_PKEY *k, const char *param, int pad) {
    BIGNUM *bn = NULL;
    FX_CHECK(EVP_PKEY_get_bn_param(k, param, &bn) == 1);
    int n = pad ? pad : BN_num_bytes(bn);
    unsigned char buf[1024];
    FX_CHECK(n <= (int)sizeof(buf) && BN_bn2binpad(bn, buf, n) == n);
    BN_free(bn);
    return fx_b64url(buf, (size_t)n);
}

/* A public JWK for k (RSA or EC). kid/alg may be NULL (omitted). New reference. */
static inline json_t *fx_jwk(EVP_PKEY *k, const char *kid, const char *alg) {
    json_t *j = json_object();
    if (EVP_PKEY_is_a(k, "RSA")) {
        json_object_set_new(j, "kty", json_string("RSA"));
        json_object_set_new(j, "n", json_string(fx_bn_b64(k, OSSL_PKEY_PARAM_RSA_N, 0)));
        json_object_set_new(j, "e", json_string(fx_bn_b64(k, OSSL_PKEY_PARAM_RSA_E, 0)));
    } else {
        char grp[64];
        FX_CHECK(EVP_PKEY_get_group_name(k, grp, sizeof(grp), NULL) == 1);
        const char *crv = !strcmp(grp, "prime256v1") ? "P-256" : !strcmp(grp, "secp384r1") ? "P-384" : "P-521";
        int coord = !strcmp(crv, "P-256") ? 32 : !strcmp(crv, "P-384") ? 48 : 66;
        json_object_set_new(j, "kty", json_string("EC"));
        json_object_set_new(j, "crv", json_string(crv));
        json_object_set_new(j, "x", json_string(fx_bn_b64(k, OSSL_PKEY_PARAM_EC_PUB_X, coord)));
        json_object_set_new(j, "y", json_string(fx_bn_b64(k, OSSL_PKEY_PARAM_EC_PUB_Y, coord)));
    }
    if (kid) json_object_set_new(j, "kid", json_string(kid));
    if (alg) json_object_set_new(j, "alg", json_string(alg));
    return j;
}

/* Compact JSON text of j (kept); consumes the reference. */
static inline char *fx_dump(json_t *j) {
    char *s = json_dumps(j, JSON_COMPACT);
    FX_CHECK(s);
    json_decref(j);
    return (char *)fx_keep(s);
}

/* {"keys":[...]} from n JWKs (references consumed). */
static inline char *fx_jwks(int n, ...) {
    json_t *arr = json_array();
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) json_array_append_new(arr, va_arg(ap, json_t *));
    va_end(ap);
    json_t *doc = json_object();
    json_object_set_new(doc, "keys", arr);
    return fx_dump(doc);
}

static inline char *fx_bio_text(BIO *b) {
    char *p;
    long n = BIO_get_mem_data(b, &p);
    char *s = (char *)fx_keep(malloc((size_t)n + 1));
    memcpy(s, p, (size_t)n);
    s[n] = '\0';
    BIO_free(b);
    return s;
}

/* "-----BEGIN PUBLIC KEY-----" (SubjectPublicKeyInfo) */
static inline char *fx_pem_pubkey(EVP_PKEY *k) {
    BIO *b = BIO_new(BIO_s_mem());
    FX_CHECK(PEM_write_bio_PUBKEY(b, k) == 1);
    return fx_bio_text(b);
}

/* "-----BEGIN RSA PUBLIC KEY-----" (PKCS#1 RSAPublicKey) */
static inline char *fx_pem_rsa_pubkey(EVP_PKEY *k) {
    unsigned char *der = NULL;
    int n = i2d_PublicKey(k, &der);
    FX_CHECK(n > 0);
    BIO *b = BIO_new(BIO_s_mem());
    FX_CHECK(PEM_write_bio(b, "RSA PUBLIC KEY", "", der, n) > 0);
    OPENSSL_free(der);
    return fx_bio_text(b);
}

static inline char *fx_pem_privkey(EVP_PKEY *k) {
    BIO *b = BIO_new(BIO_s_mem());
    FX_CHECK(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) == 1);
    return fx_bio_text(b);
}

/* A self-signed certificate for k (caller frees with X509_free). */
static inline X509 *fx_cert(EVP_PKEY *k, const char *cn) {
    X509 *x = X509_new();
    FX_CHECK(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 4242);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 365);
    FX_CHECK(X509_set_pubkey(x, k) == 1);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, name);
    FX_CHECK(X509_sign(x, k, EVP_sha256()) > 0);
    return x;
}

static inline char *fx_pem_cert(X509 *x) {
    BIO *b = BIO_new(BIO_s_mem());
    FX_CHECK(PEM_write_bio_X509(b, x) == 1);
    return fx_bio_text(b);
}

/* base64url(SHA-1(DER(cert))) */
static inline char *fx_x5t(X509 *x) {
    unsigned char *der = NULL, md[SHA_DIGEST_LENGTH];
    int n = i2d_X509(x, &der);
    FX_CHECK(n > 0);
    SHA1(der, (size_t)n, md);
    OPENSSL_free(der);
    return fx_b64url(md, sizeof(md));
}

/* ---- an independent JWS signer ---- */

static inline const EVP_MD *fx_md(const char *alg) {
    const char *bits = alg + 2;
    return !strcmp(bits, "256") ? EVP_sha256() : !strcmp(bits, "384") ? EVP_sha384() : EVP_sha512();
}

/* Raw JWS signature bytes of input (RSxxx, PSxxx, ESxxx) as base64url. */
static inline char *fx_sign(const char *alg, EVP_PKEY *k, const char *input) {
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    FX_CHECK(EVP_DigestSignInit(ctx, &pctx, fx_md(alg), NULL, k) == 1);
    if (alg[0] == 'P') {
        FX_CHECK(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1);
        FX_CHECK(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1);
    }
    size_t len = 0;
    FX_CHECK(EVP_DigestSign(ctx, NULL, &len, (const unsigned char *)input, strlen(input)) == 1);
    unsigned char *sig = (unsigned char *)malloc(len);
    FX_CHECK(EVP_DigestSign(ctx, sig, &len, (const unsigned char *)input, strlen(input)) == 1);
    EVP_MD_CTX_free(ctx);
    char *out;
    if (alg[0] == 'E') {
        int coord = !strcmp(alg, "ES256") ? 32 : !strcmp(alg, "ES384") ? 48 : 66;
        const unsigned char *p = sig;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)len);
        FX_CHECK(es);
        unsigned char raw[132];
        FX_CHECK(BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, coord) == coord);
        FX_CHECK(BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + coord, coord) == coord);
        ECDSA_SIG_free(es);
        out = fx_b64url(raw, (size_t)(2 * coord));
    } else {
        out = fx_b64url(sig, len);
    }
    free(sig);
    return out;
}

/* header.payload from raw JSON texts (kept). */
static inline char *fx_input(const char *header, const char *payload) {
    return fx_fmt("%s.%s", fx_b64url_str(header), fx_b64url_str(payload));
}

/* A compact JWS: header/payload are JSON texts, signed with alg under k (k NULL: empty signature). */
static inline char *fx_token(const char *alg, EVP_PKEY *k, const char *header, const char *payload) {
    char *in = fx_input(header, payload);
    return fx_fmt("%s.%s", in, k ? fx_sign(alg, k, in) : "");
}

/* HS256 with an arbitrary secret (for the RS256 -> HS256 confusion attack). */
static inline char *fx_token_hs256(const void *secret, size_t slen, const char *header, const char *payload) {
    char *in = fx_input(header, payload);
    unsigned char mac[32];
    unsigned int maclen = sizeof(mac);
    FX_CHECK(HMAC(EVP_sha256(), secret, (int)slen, (const unsigned char *)in, strlen(in), mac, &maclen));
    return fx_fmt("%s.%s", in, fx_b64url(mac, maclen));
}

#endif /* JWT_FIXTURE_H */
