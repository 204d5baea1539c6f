/*
 * Micro-benchmark of the JWT core: oic_jwt_verify (RS256-2048, ES256), the whole
 * decode + check_claims + verify path, oic_jwks_parse of a 3-key JWKS, and the
 * cache keys of a Basic client: plain SHA-256 (oic_cache_key) against HMAC with
 * a prepared key (oic_mac_key).
 * Build by hand (after `make unit` or with the core objects at hand):
 *   for f in src/[!n]*.cpp; do
 *     g++ -std=c++17 -O2 -fPIC -Iinclude -c $f -o /tmp/bench_$(basename $f .cpp).o; done
 *   gcc -O2 -Iinclude -It/unit bench/jwt_bench.c /tmp/bench_*.o -o /tmp/jwt_bench -lcrypto -ljansson -lstdc++
 *   /tmp/jwt_bench [iterations]
 */
#include <time.h>

#include "jwt_fixture.h"
#include "oic_auth_jwt.h"

#define S(x) {x, sizeof(x) - 1}

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static oic_jwt_t *decode(const char *tok) {
    oic_jwt_t *j = NULL;
    char err[128];
    FX_CHECK(oic_jwt_decode(tok, strlen(tok), 0x1ff, &j, err, sizeof(err)) == OIC_JWT_OK);
    return j;
}

static void bench_verify(const char *name, const char *tok, const oic_jwks_t *ks, int n) {
    oic_jwt_t *j = decode(tok);
    char err[128];
    for (int i = 0; i < n / 10; i++) FX_CHECK(oic_jwt_verify(j, ks, err, sizeof(err)) == OIC_JWT_OK); /* warm up */
    double t0 = now_us();
    for (int i = 0; i < n; i++)
        if (oic_jwt_verify(j, ks, err, sizeof(err)) != OIC_JWT_OK) abort();
    double t1 = now_us();
    printf("%-44s %8.2f us/op  (%d ops)\n", name, (t1 - t0) / n, n);
    oic_jwt_free(j);
}

/* ks NULL: decode + check_claims only */
static void bench_full(const char *name, const char *tok, const oic_jwks_t *ks, int n) {
    static const oic_str_t iss[] = {S("https://identity.oraclecloud.com/")}, aud[] = {S("https://api.example.com")},
                           sc[] = {S("scope"), S("scp"), S("roles")};
    oic_jwt_policy_t p = {iss, 1, aud, 1, 0x1ff, 60, sc, 3};
    char err[128];
    double t0 = now_us();
    for (int i = 0; i < n; i++) {
        oic_jwt_t *j = NULL;
        if (oic_jwt_decode(tok, strlen(tok), 0x1ff, &j, err, sizeof(err)) != OIC_JWT_OK ||
            oic_jwt_check_claims(j, &p, 1700000000, err, sizeof(err)) != OIC_JWT_OK ||
            (ks && oic_jwt_verify(j, ks, err, sizeof(err)) != OIC_JWT_OK))
            abort();
        oic_jwt_free(j);
    }
    double t1 = now_us();
    printf("%-44s %8.2f us/op  (%d ops)\n", name, (t1 - t0) / n, n);
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 20000;
    EVP_PKEY *rsa = fx_rsa(2048), *rsa2 = fx_rsa(2048), *rsa3 = fx_rsa(2048), *ec = fx_ec("P-256");
    const char *doc = fx_jwks(3, fx_jwk(rsa, "rsa1", "RS256"), fx_jwk(rsa2, "rsa2", "RS256"), fx_jwk(ec, "ec1", "ES256"));
    const char *doc_rsa = fx_jwks(3, fx_jwk(rsa, "rsa1", "RS256"), fx_jwk(rsa2, "rsa2", "RS256"),
                                  fx_jwk(rsa3, "rsa3", "RS256"));
    char err[128];
    oic_jwks_t *ks = oic_jwks_parse(doc, strlen(doc), err, sizeof(err));
    FX_CHECK(ks && oic_jwks_count(ks) == 3);

    const char *claims = "{\"iss\":\"https://identity.oraclecloud.com/\",\"aud\":\"https://api.example.com\","
                         "\"sub\":\"alice\",\"scope\":\"urn:opc:resource:consumer::all\",\"iat\":1699999990,"
                         "\"exp\":1700003600,\"jti\":\"0123456789abcdef\"}";
    const char *rs = fx_token("RS256", rsa, "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"rsa1\"}", claims);
    const char *es = fx_token("ES256", ec, "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"ec1\"}", claims);
    printf("token sizes: RS256 %zu bytes, ES256 %zu bytes\n", strlen(rs), strlen(es));

    bench_verify("oic_jwt_verify RS256-2048", rs, ks, n);
    bench_verify("oic_jwt_verify ES256", es, ks, n);
    bench_full("decode+check_claims (no verify) RS256", rs, NULL, n);
    bench_full("decode+check_claims+verify RS256-2048", rs, ks, n);
    bench_full("decode+check_claims+verify ES256", es, ks, n);

    int m = n / 10 > 0 ? n / 10 : 1;
    const char *docs[2] = {doc, doc_rsa};
    const char *names[2] = {"oic_jwks_parse 3 keys (2 RSA-2048 + P-256)", "oic_jwks_parse 3 keys (3 RSA-2048)"};
    for (int d = 0; d < 2; d++) {
        double t0 = now_us();
        for (int i = 0; i < m; i++) {
            oic_jwks_t *k = oic_jwks_parse(docs[d], strlen(docs[d]), err, sizeof(err));
            if (!k) abort();
            oic_jwks_free(k);
        }
        double t1 = now_us();
        printf("%-44s %8.2f us/op  (%d ops)\n", names[d], (t1 - t0) / m, m);
    }

    /* the cache key of a Basic client (endpoint, id, secret, scope), then a log id */
    static const oic_str_t f[] = {S("https://idcs-0123456789abcdef.identity.oraclecloud.com/oauth2/v1/token"),
                                  S("legacy-app"), S("s3cr3t-D0qOK_mT3SNS3zqc"),
                                  S("https://oic-test.integration.us-phoenix-1.ocp.oraclecloud.com:443"
                                    "urn:opc:resource:consumer::all")};
    unsigned char key[OIC_KEY_LEN], mkey[32];
    FX_CHECK(oic_random(mkey, sizeof(mkey)) == 0);
    oic_mac_t *mac = oic_mac_new(mkey, sizeof(mkey));
    FX_CHECK(mac != NULL);
    int k = n * 20;
    for (int round = 0; round < 2; round++) {
        double t0 = now_us();
        for (int i = 0; i < k; i++) {
            if (round) oic_mac_key(mac, "basic", f, 4, key);
            else oic_cache_key("basic", f, 4, key);
        }
        double t1 = now_us();
        printf("%-44s %8.3f us/op  (%d ops)\n", round ? "oic_mac_key basic (HMAC-SHA256, prepared)" : "oic_cache_key basic (SHA-256)",
               (t1 - t0) / k, k);
    }
    oic_mac_free(mac);

    oic_jwks_free(ks);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(rsa2);
    EVP_PKEY_free(rsa3);
    EVP_PKEY_free(ec);
    fx_release_all();
    return 0;
}
