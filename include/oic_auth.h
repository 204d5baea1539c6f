/*
 * oic_auth core: C API of the C++ core (credentials, cache keys, OAuth token
 * requests and answers, expiry arithmetic).
 *
 * No nginx types here. Nothing in this API throws: every function reports
 * failure through its return value. Strings returned to the caller are
 * malloc()ed and NUL-terminated; free them with oic_free() (or the matching
 * *_free function).
 */
#ifndef OIC_AUTH_H
#define OIC_AUTH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OIC_KEY_LEN 32          /* SHA-256 */

typedef struct {
    const char *data;
    size_t      len;
} oic_str_t;

void oic_free(void *p);

/* ---- HTTP Basic client credentials (RFC 7617, RFC 6749 2.3.1) ---- */

typedef enum {
    OIC_BASIC_OK = 0,
    OIC_BASIC_NONE,        /* no header, or a scheme other than Basic */
    OIC_BASIC_MALFORMED    /* Basic, but bad base64 / no ':' / bad %-escape / NUL / empty id / too long */
} oic_basic_rc_t;

typedef struct {
    char   *client_id;     /* decoded (form-urldecoded) */
    size_t  client_id_len;
    char   *secret;        /* decoded; may be empty */
    size_t  secret_len;
} oic_basic_creds_t;

/*
 * Parse an Authorization header value ("Basic dXNlcjpwYXNz").
 * The scheme is case-insensitive; surrounding spaces are tolerated.
 * On OIC_BASIC_OK, *out holds malloc'd strings: release with oic_basic_creds_free().
 * On failure *out is zeroed.
 */
oic_basic_rc_t oic_basic_parse(const char *hdr, size_t len, oic_basic_creds_t *out);
void oic_basic_creds_free(oic_basic_creds_t *c);

/*
 * oic_basic_parse without the heap: the credentials are decoded into buf
 * (size bytes; len bytes are always enough) and *out points into it, each
 * string NUL-terminated; do not oic_basic_creds_free() them. A buf too small
 * for what the header could decode to: OIC_BASIC_MALFORMED. buf holds the
 * secret: the caller clears it when done.
 */
oic_basic_rc_t oic_basic_parse_into(const char *hdr, size_t len, char *buf, size_t size,
                                    oic_basic_creds_t *out);

/*
 * "Basic " + base64(form_urlencode(id) ":" form_urlencode(secret)):
 * the Authorization header value for a client_secret_basic call to IAM.
 * Returns malloc'd string or NULL on allocation failure.
 */
char *oic_basic_header(const char *id, size_t id_len, const char *secret, size_t secret_len);

/* application/x-www-form-urlencoded encoding of one value (RFC 6749 App. B). */
char *oic_form_encode(const char *s, size_t len);

/*
 * Build "k1=v1&k2=v2..." with every value form-encoded. names/values arrays of n.
 * A value with data == NULL is skipped. Returns malloc'd string.
 */
char *oic_form_body(const char *const *names, const oic_str_t *values, size_t n);

/* ---- Bearer credentials (RFC 6750 2.1) ---- */

typedef enum {
    OIC_BEARER_OK = 0,
    OIC_BEARER_NONE,        /* no header, or a scheme other than Bearer */
    OIC_BEARER_MALFORMED    /* Bearer, but no token, two tokens, or characters outside b64token */
} oic_bearer_rc_t;

/*
 * Parse an Authorization header value "Bearer <b64token>". The scheme is
 * case-insensitive; surrounding spaces are tolerated. On OIC_BEARER_OK,
 * *off and *tok_len locate the token inside hdr (nothing is allocated).
 */
oic_bearer_rc_t oic_bearer_parse(const char *hdr, size_t len, size_t *off,
                                 size_t *tok_len);

/*
 * oic_bearer_parse without checking the token's characters: the same answer
 * and place, except OIC_BEARER_OK where oic_bearer_parse would refuse what
 * is in that place (two tokens, characters outside b64token). For a caller
 * that knows the token by other means: one equal to a token that passed
 * oic_bearer_parse passes it too.
 */
oic_bearer_rc_t oic_bearer_locate(const char *hdr, size_t len, size_t *off,
                                  size_t *tok_len);

/* ---- hashing ---- */

/*
 * Cache key: SHA-256 over a domain tag and each field, length-prefixed, so that
 * no two different field lists collide by concatenation.
 */
void oic_cache_key(const char *tag, const oic_str_t *fields, size_t n,
                   unsigned char out[OIC_KEY_LEN]);

/*
 * Keyed cache keys: HMAC-SHA256 with a secret key over the same input as
 * oic_cache_key (tag and length-prefixed fields). For keys that involve a
 * secret, a token or a user, so that neither the key nor anything derived
 * from it (a log id) can be recomputed from guessed fields.
 *
 * oic_mac_new() prepares the key once (its padded blocks hashed); each
 * oic_mac_key() copies the two prepared digest states instead of setting the
 * key up again, and costs what oic_cache_key does (0.6-0.7 us for a Basic
 * client's fields, bench/jwt_bench.c). A prepared key holds working state:
 * one thread at a time. NULL on failure.
 */
typedef struct oic_mac_s oic_mac_t;

oic_mac_t *oic_mac_new(const unsigned char *key, size_t len);
void oic_mac_free(oic_mac_t *m);

/* On failure (or m NULL), like oic_cache_key: a key that matches nothing. */
void oic_mac_key(oic_mac_t *m, const char *tag, const oic_str_t *fields,
                 size_t n, unsigned char out[OIC_KEY_LEN]);

/*
 * SipHash-2-4 (64-bit output) with a 16-byte secret key over the same input
 * as oic_cache_key (tag and length-prefixed fields): a keyed PRF at a
 * fraction of oic_mac_key's cost (no SHA-256 blocks, no allocation). For
 * lookups in a process's own memory under its own random key, where 64 bits
 * of one PRF, or 128 of two under independent keys, are enough; never for
 * a key in shared memory. 0, or -1 when key or out is NULL or a field has
 * data NULL and len > 0 (the input of oic_cache_key's unmatchable case).
 */
#define OIC_SIPHASH_KEY_LEN 16

int oic_siphash(const unsigned char key[OIC_SIPHASH_KEY_LEN], const char *tag,
                const oic_str_t *fields, size_t n, uint64_t *out);

/* n bytes from OpenSSL's CSPRNG (RAND_bytes): 0, or -1 on failure. */
int oic_random(unsigned char *buf, size_t n);

/* SHA-256 of bytes. */
void oic_sha256(const void *data, size_t len, unsigned char out[OIC_KEY_LEN]);

/* Lower-case hex of the first n bytes of key into buf (buf must hold 2n+1). */
void oic_hex(const unsigned char *key, size_t n, char *buf);

/* ---- the token endpoint's answer (RFC 6749 5.1 / 5.2) ---- */

typedef enum {
    OIC_TOKEN_OK = 0,          /* access_token present */
    OIC_TOKEN_INVALID_CLIENT,  /* invalid_client: client -> 401 */
    OIC_TOKEN_FORBIDDEN,       /* unauthorized_client / invalid_scope / invalid_grant: -> 403 */
    OIC_TOKEN_RATE_LIMITED,    /* HTTP 429: -> 503 */
    OIC_TOKEN_UPSTREAM_ERROR   /* 5xx, other 4xx, malformed, oversized, no token: -> 502 */
} oic_token_rc_t;

#define OIC_TOKEN_MAX_BODY   (64 * 1024)   /* a larger answer is malformed */
#define OIC_TOKEN_MAX_LEN    (16 * 1024)   /* a longer access_token is refused */
#define OIC_EXPIRES_MAX      86400         /* expires_in is capped at this */

typedef struct {
    oic_token_rc_t rc;
    char      *access_token;    /* malloc'd, on OK */
    size_t     access_token_len;
    long long  expires_in;      /* seconds as sent, clamped to [.., OIC_EXPIRES_MAX]; -1 when absent or not a positive number */
    char       error[64];       /* IAM's "error" code (printable ASCII only, truncated), "" if none */
    char       reason[128];     /* a short description for the log, never containing the token */
} oic_token_result_t;

/*
 * Interpret the token endpoint's HTTP status and body.
 * The token must be made of visible ASCII (RFC 6750 b64token chars);
 * token_type, when present, must be Bearer (case-insensitive).
 */
void oic_token_response_parse(long http_status, const char *body, size_t len,
                              oic_token_result_t *out);
void oic_token_result_free(oic_token_result_t *r);

/*
 * The life of a token issued at now (seconds): its real end, never served at
 * or after, is the earlier of now + expires_in and the token's own exp claim
 * (jwt_exp, -1 when none: oic_jwt_peek_exp); its refresh starts at
 * real_end - margin, or halfway through its life when the life is not longer
 * than the margin. Returns
 *   OIC_LIFE_OK       cacheable: real_end and refresh_at set
 *   OIC_LIFE_SHORT    cacheable, life <= margin: refresh_at = now + life / 2
 *   OIC_LIFE_NONE     expires_in missing or invalid (< 0): not cacheable
 *   OIC_LIFE_EXPIRED  the exp claim is not after now: not cacheable
 * by_exp is 1 when the exp claim, not expires_in, set the real end, earlier
 * by more than 1 s (an exp of IAM's iat + expires_in is a second short when a
 * second turned between IAM's clock and now: that is not a shorter life).
 * expires_in is capped at OIC_EXPIRES_MAX; a negative margin counts as 0.
 */
typedef enum {
    OIC_LIFE_NONE = 0,
    OIC_LIFE_OK,
    OIC_LIFE_SHORT,
    OIC_LIFE_EXPIRED
} oic_life_rc_t;

typedef struct {
    long long  real_end;
    long long  refresh_at;
    int        by_exp;
} oic_token_life_t;

int oic_token_life(long long now, long long expires_in, long long jwt_exp,
                   long long margin, oic_token_life_t *out);

/*
 * The wait before the next call after `failures` consecutive failures:
 * base_ms doubling per failure, capped at cap_ms, then spread by +-20 %
 * with rnd (any 32-bit random number: rnd 0 gives 0.8 times the wait,
 * UINT32_MAX just under 1.2 times). 0 for no failure.
 */
long long oic_backoff_ms(unsigned failures, long long base_ms,
                         long long cap_ms, uint32_t rnd);

#ifdef __cplusplus
}
#endif

#endif /* OIC_AUTH_H */
