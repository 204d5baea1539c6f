/*
 * Unit tests of fleet mode's secrets in Redis, through the C API only
 * (include/oic_fleet.h): key files, key names, sealed values. The known
 * answers were computed independently (Python's hmac and the cryptography
 * package's AESGCM) from the layout written in include/oic_fleet.h.
 */
#define _GNU_SOURCE     /* memmem */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oic_fleet.h"

static const char *PREFIX = "oic_auth:";
static const char *TOKEN = "eyJhbGciOiJSUzI1NiJ9.token-for-app1";

/* ---- helpers ---- */

static oic_fleet_t *fleet_of(unsigned char first)
{
    unsigned char key[OIC_FLEET_KEY_LEN];
    oic_fleet_t *f;

    for (size_t i = 0; i < sizeof(key); i++) key[i] = (unsigned char) (first + i);
    f = oic_fleet_new(key);
    assert_non_null(f);
    return f;
}

static char *name_of(oic_fleet_t *f, const char *tag, const char *id, char *buf, size_t size)
{
    oic_str_t fields[2] = { { "https://iam.example.com/oauth2/v1/token", 39 }, { id, strlen(id) } };
    int n = oic_fleet_name(f, PREFIX, strlen(PREFIX), tag, fields, 2, buf, size);
    assert_int_equal(n, (int) strlen(PREFIX) + OIC_FLEET_NAME_HASH_LEN);
    assert_int_equal(buf[n], '\0');
    return buf;
}

static void seal(oic_fleet_t *f, const char *name, const char *payload, uint64_t expires,
                 unsigned char **out, size_t *out_len)
{
    assert_int_equal(oic_fleet_seal(f, name, strlen(name), (const unsigned char *) payload,
                                    strlen(payload), expires, out, out_len),
                     OIC_FLEET_OK);
    assert_non_null(*out);
    assert_int_equal(*out_len, strlen(payload) + OIC_FLEET_OVERHEAD);
}

static oic_fleet_rc_t open_at(oic_fleet_t *f, const char *name, const unsigned char *v, size_t len,
                              uint64_t now)
{
    unsigned char *p = (unsigned char *) "x";
    size_t plen = 99;
    uint64_t end = 99;
    oic_fleet_rc_t rc = oic_fleet_open(f, name, strlen(name), v, len, now, &p, &plen, &end);
    if (rc != OIC_FLEET_OK) {
        /* closed: nothing comes out */
        assert_null(p);
        assert_int_equal(plen, 0);
        assert_int_equal(end, 0);
    }
    oic_free(p);
    return rc;
}

static char *write_file(const char *content, size_t len, mode_t mode)
{
    char tmpl[] = "/tmp/oic-fleet-key-XXXXXX";
    int fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, len), (ssize_t) len);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
    return strdup(tmpl);
}

/* Load content from a file of that mode: the fleet, or NULL with err. */
static oic_fleet_t *load(const char *content, size_t len, mode_t mode, char *err, size_t errlen)
{
    char *path = write_file(content, len, mode);
    oic_fleet_t *f;

    err[0] = '\0';
    f = oic_fleet_load(path, err, errlen);
    unlink(path);
    free(path);
    return f;
}

static void key_id_of(const char *content, size_t len, char id[OIC_FLEET_KEY_ID_LEN + 1])
{
    char err[256];
    oic_fleet_t *f = load(content, len, 0600, err, sizeof(err));
    if (f == NULL) fail_msg("refused: %s", err);
    oic_fleet_key_id(f, id);
    oic_fleet_free(f);
}

/* ---- sealed values ---- */

static void test_round_trip(void **state)
{
    (void) state;
    oic_fleet_t *f = fleet_of(1);
    char name[128];
    unsigned char *v, *p;
    size_t vlen, plen;
    uint64_t end;

    name_of(f, "token", "app1", name, sizeof(name));
    seal(f, name, TOKEN, 2000000000, &v, &vlen);

    /* nothing of the payload in clear */
    assert_null(memmem(v, vlen, "token-for-app1", 14));
    assert_int_equal(v[0], OIC_FLEET_SEAL_V1);

    assert_int_equal(oic_fleet_open(f, name, strlen(name), v, vlen, 1900000000, &p, &plen, &end),
                     OIC_FLEET_OK);
    assert_int_equal(plen, strlen(TOKEN));
    assert_memory_equal(p, TOKEN, plen);
    assert_int_equal(p[plen], '\0');
    assert_int_equal(end, 2000000000);
    oic_free(p);

    /* expires may be left out */
    assert_int_equal(oic_fleet_open(f, name, strlen(name), v, vlen, 1900000000, &p, &plen, NULL),
                     OIC_FLEET_OK);
    oic_free(p);
    oic_free(v);

    /* an empty payload, no end */
    seal(f, name, "", 0, &v, &vlen);
    assert_int_equal(oic_fleet_open(f, name, strlen(name), v, vlen, UINT64_MAX - 1, &p, &plen, &end),
                     OIC_FLEET_OK);
    assert_int_equal(plen, 0);
    assert_int_equal(end, 0);
    oic_free(p);
    oic_free(v);

    /* binary payload of the largest size */
    unsigned char *big = malloc(OIC_FLEET_PAYLOAD_MAX);
    for (size_t i = 0; i < OIC_FLEET_PAYLOAD_MAX; i++) big[i] = (unsigned char) (i * 7);
    assert_int_equal(oic_fleet_seal(f, name, strlen(name), big, OIC_FLEET_PAYLOAD_MAX, 0, &v, &vlen),
                     OIC_FLEET_OK);
    assert_int_equal(oic_fleet_open(f, name, strlen(name), v, vlen, 1, &p, &plen, NULL), OIC_FLEET_OK);
    assert_int_equal(plen, OIC_FLEET_PAYLOAD_MAX);
    assert_memory_equal(p, big, plen);
    oic_free(p);
    oic_free(v);

    /* one byte more is refused, sealing and opening */
    v = (unsigned char *) "x";
    assert_int_equal(oic_fleet_seal(f, name, strlen(name), big, OIC_FLEET_PAYLOAD_MAX + 1, 0, &v, &vlen),
                     OIC_FLEET_ERROR);
    assert_null(v);
    assert_int_equal(vlen, 0);
    unsigned char *huge = calloc(1, OIC_FLEET_PAYLOAD_MAX + 1 + OIC_FLEET_OVERHEAD);
    huge[0] = OIC_FLEET_SEAL_V1;
    assert_int_equal(open_at(f, name, huge, OIC_FLEET_PAYLOAD_MAX + 1 + OIC_FLEET_OVERHEAD, 1),
                     OIC_FLEET_BAD);
    free(huge);
    free(big);
    oic_fleet_free(f);
}

static void test_fresh_nonce(void **state)
{
    (void) state;
    oic_fleet_t *f = fleet_of(1);
    unsigned char *a, *b;
    size_t alen, blen;

    seal(f, "n", TOKEN, 0, &a, &alen);
    seal(f, "n", TOKEN, 0, &b, &blen);
    assert_int_equal(alen, blen);
    /* same key, name and payload: another nonce, another ciphertext */
    assert_memory_not_equal(a + 1, b + 1, OIC_FLEET_NONCE_LEN);
    assert_memory_not_equal(a + 1 + OIC_FLEET_NONCE_LEN, b + 1 + OIC_FLEET_NONCE_LEN,
                            alen - 1 - OIC_FLEET_NONCE_LEN);
    oic_free(a);
    oic_free(b);
    oic_fleet_free(f);
}

static void test_tamper_fails_closed(void **state)
{
    (void) state;
    oic_fleet_t *f = fleet_of(1), *other = fleet_of(2);
    char name[128], other_name[128];
    unsigned char *v, *w;
    size_t vlen;

    name_of(f, "token", "app1", name, sizeof(name));
    name_of(f, "token", "app2", other_name, sizeof(other_name));
    seal(f, name, TOKEN, 0, &v, &vlen);
    assert_int_equal(open_at(f, name, v, vlen, 1), OIC_FLEET_OK);

    /* every flipped bit: version, nonce, ciphertext (the end too) and tag */
    w = malloc(vlen + 1);
    for (size_t i = 0; i < vlen; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(w, v, vlen);
            w[i] ^= (unsigned char) (1 << bit);
            assert_int_equal(open_at(f, name, w, vlen, 1), i == 0 ? OIC_FLEET_VERSION : OIC_FLEET_BAD);
        }
    }

    /* truncated anywhere, or one byte longer */
    for (size_t len = 0; len < vlen; len++) assert_int_equal(open_at(f, name, v, len, 1), OIC_FLEET_BAD);
    memcpy(w, v, vlen);
    w[vlen] = 0;
    assert_int_equal(open_at(f, name, w, vlen + 1, 1), OIC_FLEET_BAD);
    free(w);

    /* moved to another key name (the AAD), or a prefix of it, or none */
    assert_int_equal(open_at(f, other_name, v, vlen, 1), OIC_FLEET_BAD);
    unsigned char *p;
    size_t plen;
    assert_int_equal(oic_fleet_open(f, name, strlen(name) - 1, v, vlen, 1, &p, &plen, NULL), OIC_FLEET_BAD);
    assert_null(p);
    assert_int_equal(open_at(f, "", v, vlen, 1), OIC_FLEET_BAD);

    /* another fleet key */
    assert_int_equal(open_at(other, name, v, vlen, 1), OIC_FLEET_BAD);

    /* a version this build does not know, even with a valid rest */
    v[0] = 0x02;
    assert_int_equal(open_at(f, name, v, vlen, 1), OIC_FLEET_VERSION);
    v[0] = 0x00;
    assert_int_equal(open_at(f, name, v, vlen, 1), OIC_FLEET_VERSION);
    v[0] = OIC_FLEET_SEAL_V1;
    assert_int_equal(open_at(f, name, v, vlen, 1), OIC_FLEET_OK);

    oic_free(v);
    oic_fleet_free(f);
    oic_fleet_free(other);
}

static void test_expiry_inside(void **state)
{
    (void) state;
    oic_fleet_t *f = fleet_of(1);
    unsigned char *v;
    size_t vlen;

    seal(f, "k", TOKEN, 1000, &v, &vlen);
    assert_int_equal(open_at(f, "k", v, vlen, 999), OIC_FLEET_OK);
    assert_int_equal(open_at(f, "k", v, vlen, 1000), OIC_FLEET_EXPIRED);
    assert_int_equal(open_at(f, "k", v, vlen, 5000), OIC_FLEET_EXPIRED);
    /* the end cannot be moved: it is authenticated */
    v[1 + OIC_FLEET_NONCE_LEN + 6] ^= 0x10;
    assert_int_equal(open_at(f, "k", v, vlen, 999), OIC_FLEET_BAD);
    oic_free(v);
    oic_fleet_free(f);
}

static void test_bad_arguments(void **state)
{
    (void) state;
    oic_fleet_t *f = fleet_of(1);
    unsigned char *v, *p;
    size_t vlen, plen;

    assert_null(oic_fleet_new(NULL));
    assert_int_equal(oic_fleet_seal(NULL, "k", 1, (const unsigned char *) "a", 1, 0, &v, &vlen),
                     OIC_FLEET_ERROR);
    assert_int_equal(oic_fleet_seal(f, NULL, 3, (const unsigned char *) "a", 1, 0, &v, &vlen),
                     OIC_FLEET_ERROR);
    assert_int_equal(oic_fleet_seal(f, "k", 1, NULL, 1, 0, &v, &vlen), OIC_FLEET_ERROR);
    assert_int_equal(oic_fleet_open(NULL, "k", 1, (const unsigned char *) "a", 1, 0, &p, &plen, NULL),
                     OIC_FLEET_ERROR);
    assert_int_equal(oic_fleet_open(f, "k", 1, NULL, 0, 0, &p, &plen, NULL), OIC_FLEET_BAD);
    oic_fleet_free(NULL);
    oic_fleet_free(f);
}

/* ---- key names ---- */

static void test_name_known_answer(void **state)
{
    (void) state;
    unsigned char key[OIC_FLEET_KEY_LEN];
    char buf[128], id[OIC_FLEET_KEY_ID_LEN + 1];
    oic_str_t fields[4] = {
        { "https://iam.example.com/oauth2/v1/token", 39 }, { "app1", 4 }, { "s3cr3t", 6 },
        { "urn:opc:resource:consumer::all", 30 },
    };

    for (size_t i = 0; i < sizeof(key); i++) key[i] = (unsigned char) i;
    oic_fleet_t *f = oic_fleet_new(key);
    assert_non_null(f);

    assert_int_equal(oic_fleet_name(f, "oic_auth:", 9, "token", fields, 4, buf, sizeof(buf)), 9 + 64);
    assert_string_equal(buf, "oic_auth:3c77d3fd445409b50887e8aafac3279dd7d41b06fe7504d4d9c14b5bf7e5e6be");

    assert_int_equal(oic_fleet_name(f, "fleet:", 6, "", NULL, 0, buf, sizeof(buf)), 6 + 64);
    assert_string_equal(buf, "fleet:346378a3f5f54f43e80789ffea1e955e2ebc9699d241f0cf491521b8c790943f");

    oic_fleet_key_id(f, id);
    assert_string_equal(id, "2be9b8b8c4a03e0f");

    /* a value sealed by the layout's independent implementation opens */
    static const char *hexval =
        "016465666768696a6b6c6d6e6f80ee848f1670fddd548045875b161b07e5c8b01f64e5f055d1fbc224501bc2"
        "c94277479a4ebf56c78baa54624b53c38f8294ee5c4d197d4976b0f4";
    unsigned char v[72], *p;
    size_t plen;
    uint64_t end;
    for (size_t i = 0; i < sizeof(v); i++) sscanf(hexval + 2 * i, "%2hhx", &v[i]);
    assert_int_equal(oic_fleet_name(f, "oic_auth:", 9, "token", fields, 4, buf, sizeof(buf)), 73);
    assert_int_equal(oic_fleet_open(f, buf, 73, v, sizeof(v), 1800000000, &p, &plen, &end), OIC_FLEET_OK);
    assert_int_equal(end, 1893456000);
    assert_int_equal(plen, strlen(TOKEN));
    assert_memory_equal(p, TOKEN, plen);
    oic_free(p);
    oic_fleet_free(f);
}

static void test_name_layout(void **state)
{
    (void) state;
    oic_fleet_t *f = fleet_of(1), *g = fleet_of(1), *other = fleet_of(2);
    char a[128], b[128], c[128], d[128];
    const char *secret_fields = "s3cr3t";
    oic_str_t fields[2] = { { "app1", 4 }, { secret_fields, 6 } };

    /* two gateways with the same key compute the same name */
    name_of(f, "token", "app1", a, sizeof(a));
    name_of(g, "token", "app1", b, sizeof(b));
    assert_string_equal(a, b);
    /* another key, field or tag: another name */
    name_of(other, "token", "app1", c, sizeof(c));
    assert_string_not_equal(a, c);
    name_of(f, "token", "app2", c, sizeof(c));
    assert_string_not_equal(a, c);
    name_of(f, "lock", "app1", d, sizeof(d));
    assert_string_not_equal(a, d);

    /* prefix, then lower-case hex only: no field in clear */
    assert_memory_equal(a, PREFIX, strlen(PREFIX));
    for (const char *p = a + strlen(PREFIX); *p; p++) assert_non_null(strchr("0123456789abcdef", *p));
    assert_int_equal(oic_fleet_name(f, "", 0, "token", fields, 2, c, sizeof(c)), 64);
    assert_null(strstr(c, "app1"));
    assert_null(strstr(c, secret_fields));

    /* field boundaries count: ("ab","c") is not ("a","bc") */
    oic_str_t x[2] = { { "ab", 2 }, { "c", 1 } }, y[2] = { { "a", 1 }, { "bc", 2 } };
    assert_int_equal(oic_fleet_name(f, "", 0, "t", x, 2, c, sizeof(c)), 64);
    assert_int_equal(oic_fleet_name(f, "", 0, "t", y, 2, d, sizeof(d)), 64);
    assert_string_not_equal(c, d);

    /* a buffer too small, or bad fields: no name at all */
    size_t need = strlen(PREFIX) + OIC_FLEET_NAME_HASH_LEN + 1;
    memset(c, 'Z', sizeof(c));
    assert_int_equal(oic_fleet_name(f, PREFIX, strlen(PREFIX), "token", fields, 2, c, need - 1), -1);
    assert_int_equal(oic_fleet_name(f, PREFIX, strlen(PREFIX), "token", fields, 2, c, need),
                     (int) need - 1);
    oic_str_t bad = { NULL, 3 };
    assert_int_equal(oic_fleet_name(f, PREFIX, strlen(PREFIX), "token", &bad, 1, c, sizeof(c)), -1);
    assert_int_equal(oic_fleet_name(f, PREFIX, strlen(PREFIX), "token", NULL, 1, c, sizeof(c)), -1);
    assert_int_equal(oic_fleet_name(NULL, PREFIX, strlen(PREFIX), "token", fields, 2, c, sizeof(c)), -1);

    oic_fleet_free(f);
    oic_fleet_free(g);
    oic_fleet_free(other);
}

/* ---- key files ---- */

static void test_key_file_forms(void **state)
{
    (void) state;
    unsigned char raw[32];
    char hex[70], id_raw[17], id[17];

    for (size_t i = 0; i < sizeof(raw); i++) raw[i] = (unsigned char) (0xa0 + i);
    key_id_of((char *) raw, 32, id_raw);

    for (size_t i = 0; i < 32; i++) sprintf(hex + 2 * i, "%02x", raw[i]);
    key_id_of(hex, 64, id);
    assert_string_equal(id, id_raw);
    strcpy(hex + 64, "\n");
    key_id_of(hex, 65, id);
    assert_string_equal(id, id_raw);
    strcpy(hex + 64, "\r\n");
    key_id_of(hex, 66, id);
    assert_string_equal(id, id_raw);
    for (size_t i = 0; i < 64; i++) hex[i] = (char) toupper((unsigned char) hex[i]);
    key_id_of(hex, 64, id);
    assert_string_equal(id, id_raw);

    /* base64 (openssl rand -base64 32), with its newline */
    static const char b64[] = "oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr8=\n";
    key_id_of(b64, sizeof(b64) - 1, id);
    assert_string_equal(id, id_raw);

    /* group-readable is fine (root:nginx 0640) */
    char err[256];
    oic_fleet_t *f = load(hex, 64, 0640, err, sizeof(err));
    assert_non_null(f);
    oic_fleet_free(f);
}

static void expect_refused(const char *content, size_t len, mode_t mode, const char *why)
{
    char err[512];
    oic_fleet_t *f = load(content, len, mode, err, sizeof(err));
    if (f) fail_msg("accepted a key file that should be refused (%s)", why);
    if (strstr(err, why) == NULL) fail_msg("\"%s\" does not say \"%s\"", err, why);
    assert_non_null(strstr(err, "key file \"/tmp/oic-fleet-key-"));
}

static void test_key_file_refused(void **state)
{
    (void) state;
    char buf[5000];
    const char *form = "it must hold 32 random bytes";
    static const char hex64[] = "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf";

    expect_refused("", 0, 0600, form);
    expect_refused(hex64, 63, 0600, form);                   /* a digit short */
    memcpy(buf, hex64, 64);
    memcpy(buf + 64, "00", 2);
    expect_refused(buf, 66, 0600, form);                     /* 33 bytes of hex */
    memcpy(buf, hex64, 64);
    buf[10] = 'g';
    expect_refused(buf, 64, 0600, form);                     /* not hex */
    expect_refused("oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7w=\n", 41, 0600, form);  /* 29 bytes */
    expect_refused("oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr8", 43, 0600, form);  /* unpadded */
    memset(buf, 'k', 31);
    expect_refused(buf, 31, 0600, form);                     /* raw, short */
    memset(buf, 0x5a, 33);
    buf[32] = '\n';
    expect_refused(buf, 33, 0600, form);                     /* raw + newline */
    memset(buf, 0, 32);
    expect_refused(buf, 32, 0600, "32 equal bytes are not a key");
    memset(buf, 'a', 64);
    expect_refused(buf, 64, 0600, "32 equal bytes are not a key");
    memset(buf, 'a', sizeof(buf));
    expect_refused(buf, sizeof(buf), 0600, "larger than 4096 bytes");

    /* others may read or write it */
    expect_refused(hex64, 64, 0644, "others may read or write it (mode 644)");
    expect_refused(hex64, 64, 0602, "others may read or write it (mode 602)");

    /* no key material in the reasons */
    char err[512];
    assert_null(load(hex64, 63, 0600, err, sizeof(err)));
    assert_null(strstr(err, "a0a1a2"));
    assert_null(load(hex64, 64, 0604, err, sizeof(err)));
    assert_null(strstr(err, "a0a1a2"));

    /* missing, a directory */
    assert_null(oic_fleet_load("/nonexistent/oic-fleet.key", err, sizeof(err)));
    assert_non_null(strstr(err, "No such file or directory"));
    assert_null(oic_fleet_load("/tmp", err, sizeof(err)));
    assert_non_null(strstr(err, "not a regular file"));
    assert_null(oic_fleet_load(NULL, err, sizeof(err)));
}

/* ---- the token flow's entries ---- */

static uint64_t be64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
    return v;
}

/* The payload inside a sealed value, opened with the generic function. */
static unsigned char *payload_of(oic_fleet_t *f, const char *name, const unsigned char *v,
                                 size_t vlen, size_t *plen, uint64_t *end)
{
    unsigned char *p;
    assert_int_equal(oic_fleet_open(f, name, strlen(name), v, vlen, 1, &p, plen, end),
                     OIC_FLEET_OK);
    return p;
}

/* A value sealed from raw payload bytes (to build ones the sealers refuse). */
static unsigned char *raw_seal(oic_fleet_t *f, const char *name, const void *payload,
                               size_t len, uint64_t end, size_t *vlen)
{
    unsigned char *v;
    assert_int_equal(oic_fleet_seal(f, name, strlen(name), payload, len, end, &v, vlen),
                     OIC_FLEET_OK);
    return v;
}

static oic_fleet_rc_t open_token_at(oic_fleet_t *f, const char *name, const unsigned char *v,
                                    size_t vlen, uint64_t now)
{
    char *t = (char *) "x";
    size_t tlen = 9;
    oic_fleet_token_times_t times = { 1, 2, 3 };
    oic_fleet_rc_t rc = oic_fleet_open_token(f, name, strlen(name), v, vlen, now, &t, &tlen,
                                             &times);
    if (rc != OIC_FLEET_OK) {
        assert_null(t);
        assert_int_equal(tlen, 0);
        assert_int_equal(times.issued + times.fresh_until + times.valid_until, 0);
    }
    oic_free(t);
    return rc;
}

static oic_fleet_rc_t open_failure_at(oic_fleet_t *f, const char *name, const unsigned char *v,
                                      size_t vlen, uint64_t now)
{
    oic_fleet_failure_t x = { 9, 9, "junk", 9 };
    oic_fleet_rc_t rc = oic_fleet_open_failure(f, name, strlen(name), v, vlen, now, &x);
    if (rc != OIC_FLEET_OK) {
        assert_int_equal(x.kind, 0);
        assert_int_equal(x.status, 0);
        assert_int_equal(x.code[0], '\0');
        assert_int_equal(x.until, 0);
    }
    return rc;
}

static void test_token_entry(void **state)
{
    (void) state;
    oic_fleet_t *f = fleet_of(3);
    char tname[128], fname[128];
    unsigned char *v, *p;
    size_t vlen, plen;
    uint64_t end;
    char *t;
    size_t tlen;
    oic_fleet_token_times_t in = { 1700000000, 1700003540, 1700003600 }, out;

    name_of(f, "basic token", "app1", tname, sizeof(tname));
    name_of(f, "basic fail", "app1", fname, sizeof(fname));

    assert_int_equal(oic_fleet_seal_token(f, tname, strlen(tname), TOKEN, strlen(TOKEN), &in,
                                          &v, &vlen),
                     OIC_FLEET_OK);
    assert_int_equal(vlen, OIC_FLEET_OVERHEAD + OIC_FLEET_TOKEN_HEADER + strlen(TOKEN));

    /* the layout of include/oic_fleet.h: 'T', issued, fresh_until, token; the end sealed */
    p = payload_of(f, tname, v, vlen, &plen, &end);
    assert_int_equal(plen, OIC_FLEET_TOKEN_HEADER + strlen(TOKEN));
    assert_int_equal(p[0], 'T');
    assert_int_equal(be64(p + 1), in.issued);
    assert_int_equal(be64(p + 9), in.fresh_until);
    assert_memory_equal(p + 17, TOKEN, strlen(TOKEN));
    assert_int_equal(end, in.valid_until);
    oic_free(p);

    assert_int_equal(oic_fleet_open_token(f, tname, strlen(tname), v, vlen, 1700003599, &t,
                                          &tlen, &out),
                     OIC_FLEET_OK);
    assert_string_equal(t, TOKEN);
    assert_int_equal(tlen, strlen(TOKEN));
    assert_int_equal(out.issued, in.issued);
    assert_int_equal(out.fresh_until, in.fresh_until);
    assert_int_equal(out.valid_until, in.valid_until);
    oic_free(t);

    /* never served at or after its end; not under another name; not as a failure */
    assert_int_equal(open_token_at(f, tname, v, vlen, 1700003600), OIC_FLEET_EXPIRED);
    assert_int_equal(open_token_at(f, fname, v, vlen, 1700000000), OIC_FLEET_BAD);
    assert_int_equal(open_failure_at(f, tname, v, vlen, 1700000000), OIC_FLEET_BAD);
    v[vlen - 20] ^= 0x01;
    assert_int_equal(open_token_at(f, tname, v, vlen, 1700000000), OIC_FLEET_BAD);
    oic_free(v);

    /* a refresh time after the end is capped to it */
    in.fresh_until = in.valid_until + 100;
    assert_int_equal(oic_fleet_seal_token(f, tname, strlen(tname), TOKEN, strlen(TOKEN), &in,
                                          &v, &vlen),
                     OIC_FLEET_OK);
    assert_int_equal(oic_fleet_open_token(f, tname, strlen(tname), v, vlen, 1700000000, &t,
                                          &tlen, &out),
                     OIC_FLEET_OK);
    assert_int_equal(out.fresh_until, in.valid_until);
    oic_free(t);
    oic_free(v);

    /* refused at sealing: no end, no token, control characters or spaces */
    in.valid_until = 0;
    assert_int_equal(oic_fleet_seal_token(f, tname, strlen(tname), TOKEN, strlen(TOKEN), &in,
                                          &v, &vlen),
                     OIC_FLEET_ERROR);
    assert_null(v);
    in.valid_until = 1700003600;
    assert_int_equal(oic_fleet_seal_token(f, tname, strlen(tname), "", 0, &in, &v, &vlen),
                     OIC_FLEET_ERROR);
    assert_int_equal(oic_fleet_seal_token(f, tname, strlen(tname), "a\r\nb", 4, &in, &v, &vlen),
                     OIC_FLEET_ERROR);
    assert_int_equal(oic_fleet_seal_token(f, tname, strlen(tname), "a b", 3, &in, &v, &vlen),
                     OIC_FLEET_ERROR);

    /* authentic values that are not token entries: refused at opening */
    unsigned char bad[17 + 4] = { 'T' };
    memcpy(bad + 17, "a\nb!", 4);
    v = raw_seal(f, tname, bad, sizeof(bad), 1700003600, &vlen);
    assert_int_equal(open_token_at(f, tname, v, vlen, 1700000000), OIC_FLEET_BAD);
    oic_free(v);
    v = raw_seal(f, tname, bad, 17, 1700003600, &vlen);             /* no token */
    assert_int_equal(open_token_at(f, tname, v, vlen, 1700000000), OIC_FLEET_BAD);
    oic_free(v);
    memcpy(bad + 17, "abcd", 4);
    v = raw_seal(f, tname, bad, sizeof(bad), 0, &vlen);             /* no end */
    assert_int_equal(open_token_at(f, tname, v, vlen, 1700000000), OIC_FLEET_BAD);
    oic_free(v);
    bad[0] = 'F';
    v = raw_seal(f, tname, bad, sizeof(bad), 1700003600, &vlen);    /* another type */
    assert_int_equal(open_token_at(f, tname, v, vlen, 1700000000), OIC_FLEET_BAD);
    oic_free(v);

    oic_fleet_free(f);
}

static void test_failure_entry(void **state)
{
    (void) state;
    oic_fleet_t *f = fleet_of(4);
    char fname[128], tname[128];
    unsigned char *v, *p;
    size_t vlen, plen;
    uint64_t end;
    oic_fleet_failure_t in = { OIC_FLEET_REFUSED, 401, "invalid_client", 1700000030 }, out;

    name_of(f, "basic fail", "app1", fname, sizeof(fname));
    name_of(f, "basic token", "app1", tname, sizeof(tname));

    assert_int_equal(oic_fleet_seal_failure(f, fname, strlen(fname), &in, &v, &vlen),
                     OIC_FLEET_OK);
    assert_int_equal(vlen, OIC_FLEET_OVERHEAD + 4 + strlen("invalid_client"));

    /* 'F', kind, status (big-endian), code; the end sealed */
    p = payload_of(f, fname, v, vlen, &plen, &end);
    assert_int_equal(plen, 4 + strlen("invalid_client"));
    assert_int_equal(p[0], 'F');
    assert_int_equal(p[1], OIC_FLEET_REFUSED);
    assert_int_equal(p[2], 401 >> 8);
    assert_int_equal(p[3], 401 & 0xff);
    assert_memory_equal(p + 4, "invalid_client", strlen("invalid_client"));
    assert_int_equal(end, 1700000030);
    oic_free(p);

    assert_int_equal(oic_fleet_open_failure(f, fname, strlen(fname), v, vlen, 1700000000, &out),
                     OIC_FLEET_OK);
    assert_int_equal(out.kind, OIC_FLEET_REFUSED);
    assert_int_equal(out.status, 401);
    assert_string_equal(out.code, "invalid_client");
    assert_int_equal(out.until, 1700000030);

    assert_int_equal(open_failure_at(f, fname, v, vlen, 1700000030), OIC_FLEET_EXPIRED);
    assert_int_equal(open_failure_at(f, tname, v, vlen, 1700000000), OIC_FLEET_BAD);
    assert_int_equal(open_token_at(f, fname, v, vlen, 1700000000), OIC_FLEET_BAD);
    oic_free(v);

    in.kind = OIC_FLEET_FAILED;
    in.status = 502;
    strcpy(in.code, "iam_unavailable");
    assert_int_equal(oic_fleet_seal_failure(f, fname, strlen(fname), &in, &v, &vlen),
                     OIC_FLEET_OK);
    assert_int_equal(oic_fleet_open_failure(f, fname, strlen(fname), v, vlen, 1700000000, &out),
                     OIC_FLEET_OK);
    assert_int_equal(out.kind, OIC_FLEET_FAILED);
    assert_int_equal(out.status, 502);
    assert_string_equal(out.code, "iam_unavailable");
    oic_free(v);

    /* refused at sealing: kind, status, code, end */
    oic_fleet_failure_t bad_kind = { 3, 502, "x", 1 }, bad_status = { 1, 99, "x", 1 },
                        bad_code = { 1, 401, "a b", 1 }, no_code = { 1, 401, "", 1 },
                        no_end = { 1, 401, "x", 0 };
    assert_int_equal(oic_fleet_seal_failure(f, fname, strlen(fname), &bad_kind, &v, &vlen),
                     OIC_FLEET_ERROR);
    assert_int_equal(oic_fleet_seal_failure(f, fname, strlen(fname), &bad_status, &v, &vlen),
                     OIC_FLEET_ERROR);
    assert_int_equal(oic_fleet_seal_failure(f, fname, strlen(fname), &bad_code, &v, &vlen),
                     OIC_FLEET_ERROR);
    assert_int_equal(oic_fleet_seal_failure(f, fname, strlen(fname), &no_code, &v, &vlen),
                     OIC_FLEET_ERROR);
    assert_int_equal(oic_fleet_seal_failure(f, fname, strlen(fname), &no_end, &v, &vlen),
                     OIC_FLEET_ERROR);
    assert_null(v);

    /* authentic values that are not failure entries */
    unsigned char raw[4 + 40] = { 'F', OIC_FLEET_REFUSED, 401 >> 8, 401 & 0xff };
    memset(raw + 4, 'a', 40);
    v = raw_seal(f, fname, raw, sizeof(raw), 1700000030, &vlen);     /* code too long */
    assert_int_equal(open_failure_at(f, fname, v, vlen, 1700000000), OIC_FLEET_BAD);
    oic_free(v);
    v = raw_seal(f, fname, raw, 4, 1700000030, &vlen);               /* no code */
    assert_int_equal(open_failure_at(f, fname, v, vlen, 1700000000), OIC_FLEET_BAD);
    oic_free(v);
    raw[1] = 7;
    v = raw_seal(f, fname, raw, 10, 1700000030, &vlen);              /* unknown kind */
    assert_int_equal(open_failure_at(f, fname, v, vlen, 1700000000), OIC_FLEET_BAD);
    oic_free(v);
    raw[1] = OIC_FLEET_FAILED;
    raw[2] = 0x03;                                                   /* status 769 */
    v = raw_seal(f, fname, raw, 10, 1700000030, &vlen);
    assert_int_equal(open_failure_at(f, fname, v, vlen, 1700000000), OIC_FLEET_BAD);
    oic_free(v);

    oic_fleet_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_fresh_nonce),
        cmocka_unit_test(test_tamper_fails_closed),
        cmocka_unit_test(test_expiry_inside),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_name_known_answer),
        cmocka_unit_test(test_name_layout),
        cmocka_unit_test(test_key_file_forms),
        cmocka_unit_test(test_key_file_refused),
        cmocka_unit_test(test_token_entry),
        cmocka_unit_test(test_failure_entry),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
