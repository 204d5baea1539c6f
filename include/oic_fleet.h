/*
 * oic_auth core: fleet mode's secrets in Redis -- the fleet key (from
 * oic_auth_redis_key_file), the Redis key names derived from it, and the
 * sealing of values (AES-256-GCM).
 *
 * Nothing stored in Redis holds a secret, a token or a user name in clear:
 *
 *   key names  prefix + 64 lower-case hex digits of
 *              HMAC-SHA256(name key; tag, fields), over the same
 *              length-prefixed input as oic_cache_key(); without the fleet
 *              key a name cannot be recomputed from guessed fields, and
 *              every gateway with the same key file computes the same names
 *   values     sealed: version, random nonce, AES-256-GCM ciphertext and
 *              tag, with the key name as additional authenticated data, so
 *              that a value copied under another key name does not open
 *
 * The three keys used are derived from the 32-byte fleet key K with
 * HMAC-SHA256 (oic_mac_key with K; no field):
 *
 *   encryption key  HMAC(K; "oic_auth fleet encryption key")
 *   name key        HMAC(K; "oic_auth fleet name key")
 *   key id          first 8 bytes of HMAC(K; "oic_auth fleet key id"),
 *                   as 16 hex digits: shows in logs and in Redis which key
 *                   file a gateway uses, says nothing about K
 *
 * Sealed value, version 1 (OIC_FLEET_SEAL_V1):
 *
 *   byte 0        0x01
 *   bytes 1..12   nonce, 12 random bytes (RAND_bytes), fresh for each value
 *   then          AES-256-GCM ciphertext of: expires (8 bytes, big-endian
 *                 unsigned Unix time, 0: no end) followed by the payload
 *   last 16       the GCM tag
 *   AAD           byte 0x01 followed by the full Redis key name (prefix
 *                 included)
 *
 * The end is inside the authenticated plaintext because whoever can write
 * to Redis can change a key's TTL: oic_fleet_open() refuses a value whose
 * end has passed, whatever Redis says. Random 96-bit nonces under one key
 * are safe for far more values than a fleet writes in a key's lifetime
 * (NIST SP 800-38D: 2^32).
 *
 * Key rotation: the names derive from the key, so gateways with a new key
 * file look up other names; entries sealed with the old key are never
 * found, they expire. A fleet during a rolling key change is two fleets.
 *
 * A prepared fleet key holds working state (oic_mac_t): one thread at a
 * time. No nginx types, nothing throws.
 */
#ifndef OIC_FLEET_H
#define OIC_FLEET_H

#include <stddef.h>
#include <stdint.h>

#include "oic_auth.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OIC_FLEET_KEY_LEN        32     /* bytes of key material */
#define OIC_FLEET_NAME_HASH_LEN  64     /* hex digits after the prefix */
#define OIC_FLEET_KEY_ID_LEN     16     /* hex digits of a key id */
#define OIC_FLEET_SEAL_V1        0x01
#define OIC_FLEET_NONCE_LEN      12
#define OIC_FLEET_TAG_LEN        16
/* a sealed value is this much longer than its payload */
#define OIC_FLEET_OVERHEAD       (1 + OIC_FLEET_NONCE_LEN + 8 \
                                  + OIC_FLEET_TAG_LEN)
/* the largest payload sealed or opened: a larger value is refused */
#define OIC_FLEET_PAYLOAD_MAX    (64 * 1024)

typedef struct oic_fleet_s  oic_fleet_t;

typedef enum {
    OIC_FLEET_OK = 0,
    OIC_FLEET_BAD,        /* not a value of ours: tampered, sealed with
                             another key or under another name, truncated,
                             too long, garbage: ignore it */
    OIC_FLEET_EXPIRED,    /* authentic, but its end has passed */
    OIC_FLEET_VERSION,    /* a version byte this build does not know */
    OIC_FLEET_ERROR       /* out of memory, or OpenSSL failed */
} oic_fleet_rc_t;

/*
 * Read a key file: 32 random bytes, in one of three forms,
 *
 *   exactly 32 bytes             raw (head -c 32 /dev/urandom)
 *   64 hex digits                openssl rand -hex 32
 *   44 base64 characters         openssl rand -base64 32
 *
 * the text forms with trailing white space (a newline) allowed. Anything
 * else is refused, and so is a file that others than its owner and group
 * may read or write (chmod o-rwx: anyone on the host could open the tokens
 * in Redis), a key of 32 equal bytes, and a file larger than 4096 bytes.
 * NULL + a reason in err (no key material in it) on failure.
 */
oic_fleet_t *oic_fleet_load(const char *path, char *err, size_t errlen);

/* The same from the 32 bytes themselves (NULL on failure). */
oic_fleet_t *oic_fleet_new(const unsigned char key[OIC_FLEET_KEY_LEN]);

/* Wipes the derived keys. NULL is fine. */
void oic_fleet_free(oic_fleet_t *f);

/* The key id: 16 hex digits and a NUL into out. */
void oic_fleet_key_id(const oic_fleet_t *f,
                      char out[OIC_FLEET_KEY_ID_LEN + 1]);

/*
 * A Redis key name: prefix, then the 64 hex digits of HMAC(name key; tag,
 * fields) (the input of oic_cache_key: tag and fields, each preceded by its
 * length as 8 bytes big-endian). Written into out with a NUL; returns its
 * length (prefix_len + 64), or -1 when size is too small (it must hold
 * prefix_len + 65) or hashing failed: then no name is made, never a
 * shared fallback one.
 */
int oic_fleet_name(oic_fleet_t *f, const char *prefix, size_t prefix_len,
                   const char *tag, const oic_str_t *fields, size_t n,
                   char *out, size_t size);

/*
 * Seal payload (at most OIC_FLEET_PAYLOAD_MAX bytes, may be empty) for the
 * key name `name`, to be refused by oic_fleet_open() from `expires` on
 * (Unix time; 0: no end). *out: malloc'd, *out_len bytes (payload_len +
 * OIC_FLEET_OVERHEAD), binary; free with oic_free(). OIC_FLEET_OK or
 * OIC_FLEET_ERROR (too long, no memory, no randomness).
 */
oic_fleet_rc_t oic_fleet_seal(oic_fleet_t *f, const char *name,
                              size_t name_len, const unsigned char *payload,
                              size_t payload_len, uint64_t expires,
                              unsigned char **out, size_t *out_len);

/*
 * Open a value read from Redis under the key name `name`, at time now
 * (Unix time). On OIC_FLEET_OK: *payload malloc'd (NUL-terminated, the NUL
 * not counted in *payload_len; free with oic_free(), after wiping it if it
 * holds a token) and *expires its end (0: none); on any other result they
 * are NULL/0: every failure is closed (no partial plaintext).
 * *expires may be NULL when not wanted.
 */
oic_fleet_rc_t oic_fleet_open(oic_fleet_t *f, const char *name,
                              size_t name_len, const unsigned char *value,
                              size_t value_len, uint64_t now,
                              unsigned char **payload, size_t *payload_len,
                              uint64_t *expires);

/*
 * The entries of the token flow: two payloads, each sealed with
 * oic_fleet_seal() under its own key name, with a type byte first so that
 * one is never read as the other.
 *
 *   token    'T', issued (8 bytes, big-endian Unix time: when the gateway
 *            stored it), fresh_until (8 bytes: its refresh starts), the
 *            token (1 to OIC_FLEET_PAYLOAD_MAX - 17 bytes, printable ASCII
 *            without spaces); sealed with valid_until, its real end, as
 *            the seal's end
 *   failure  'F', kind (1 byte: OIC_FLEET_REFUSED, OIC_FLEET_FAILED),
 *            status (2 bytes, big-endian: the HTTP status answered), the
 *            error code (1 to 31 bytes, printable ASCII without spaces);
 *            sealed with the end of its memory
 *
 * Opening checks the type byte, the lengths and the characters: a value
 * that passes the seal's tag but not these is OIC_FLEET_BAD too.
 */
#define OIC_FLEET_TOKEN_TYPE     'T'
#define OIC_FLEET_FAILURE_TYPE   'F'
#define OIC_FLEET_TOKEN_HEADER   17     /* type, issued, fresh_until */
#define OIC_FLEET_REFUSED        1      /* IAM refused the credentials */
#define OIC_FLEET_FAILED         2      /* the call failed (5xx, timeout...) */
#define OIC_FLEET_CODE_MAX       31

typedef struct {
    uint64_t    issued;         /* when it was stored */
    uint64_t    fresh_until;    /* its refresh starts; at most valid_until */
    uint64_t    valid_until;    /* its real end: never 0 */
} oic_fleet_token_times_t;

typedef struct {
    int         kind;           /* OIC_FLEET_REFUSED or OIC_FLEET_FAILED */
    unsigned    status;         /* 100..599 */
    char        code[OIC_FLEET_CODE_MAX + 1];   /* NUL-terminated */
    uint64_t    until;          /* the end of its memory: never 0 */
} oic_fleet_failure_t;

/*
 * Seal a token entry (times->valid_until must be set; fresh_until is
 * capped to it). OIC_FLEET_OK or OIC_FLEET_ERROR (no end, an empty or
 * invalid token, no memory); *out as oic_fleet_seal().
 */
oic_fleet_rc_t oic_fleet_seal_token(oic_fleet_t *f, const char *name,
                                    size_t name_len, const char *token,
                                    size_t token_len,
                                    const oic_fleet_token_times_t *times,
                                    unsigned char **out, size_t *out_len);

/*
 * Open a token entry at time now: *token malloc'd and NUL-terminated (wipe
 * it, then oic_free()), *times filled. Any other result leaves *token NULL
 * and *times zeroed: a value of another type is OIC_FLEET_BAD.
 */
oic_fleet_rc_t oic_fleet_open_token(oic_fleet_t *f, const char *name,
                                    size_t name_len,
                                    const unsigned char *value,
                                    size_t value_len, uint64_t now,
                                    char **token, size_t *token_len,
                                    oic_fleet_token_times_t *times);

/* The same for a failure entry (until must be set). */
oic_fleet_rc_t oic_fleet_seal_failure(oic_fleet_t *f, const char *name,
                                      size_t name_len,
                                      const oic_fleet_failure_t *failure,
                                      unsigned char **out, size_t *out_len);

oic_fleet_rc_t oic_fleet_open_failure(oic_fleet_t *f, const char *name,
                                      size_t name_len,
                                      const unsigned char *value,
                                      size_t value_len, uint64_t now,
                                      oic_fleet_failure_t *failure);

#ifdef __cplusplus
}
#endif

#endif /* OIC_FLEET_H */
