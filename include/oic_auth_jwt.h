/*
 * oic_auth core: JWS/JWK/JWT validation (RFC 7515/7517/7518/7519/8725) and
 * user assertion minting (RFC 7523). C API; no nginx types; never throws.
 * Every returned char* is malloc'd and NUL-terminated: free with oic_free().
 * err/errlen: a short human-readable reason, never containing a whole token.
 */
#ifndef OIC_AUTH_JWT_H
#define OIC_AUTH_JWT_H

#include "oic_auth.h"

#ifdef __cplusplus
extern "C" {
#endif

/* algorithm bitmask */
#define OIC_ALG_RS256  0x001u
#define OIC_ALG_RS384  0x002u
#define OIC_ALG_RS512  0x004u
#define OIC_ALG_PS256  0x008u
#define OIC_ALG_PS384  0x010u
#define OIC_ALG_PS512  0x020u
#define OIC_ALG_ES256  0x040u
#define OIC_ALG_ES384  0x080u
#define OIC_ALG_ES512  0x100u

/* "RS256" -> OIC_ALG_RS256, 0 for an unknown or unsupported name ("none", "HS256"...). */
unsigned oic_alg_from_name(const char *name, size_t len);

/* OIC_ALG_RS256 -> "RS256"; NULL for anything but one algorithm bit. */
const char *oic_alg_name(unsigned alg);

/* ---- key sets ---- */

typedef struct oic_jwks_s oic_jwks_t;

#define OIC_JWKS_MAX_BYTES (512 * 1024)

/*
 * Parse a JWKS document ({"keys":[...]}, at most 64 entries), a single JWK object,
 * or PEM text (every PUBLIC KEY / RSA PUBLIC KEY / CERTIFICATE block becomes a key
 * without kid and alg; other blocks are ignored). Keys are imported once, here.
 * Usable: kty RSA (>= 2048 bits) or EC (P-256/P-384/P-521, point on the curve);
 * use, if present, "sig"; key_ops, if present, contains "verify"; alg, if present,
 * a supported alg that fits kty/crv. Other keys (oct, OKP, enc, bad numbers...)
 * are skipped; a document with no usable key, invalid JSON (duplicate names,
 * depth > 2048), or more than OIC_JWKS_MAX_BYTES is an error (NULL, err set).
 */
oic_jwks_t *oic_jwks_parse(const char *data, size_t len, char *err, size_t errlen);
void oic_jwks_free(oic_jwks_t *ks);
size_t oic_jwks_count(const oic_jwks_t *ks);

/*
 * The algorithms (bitmask) some key of the set may verify: an RSA key serves
 * RS* and PS*, an EC key the ES* of its curve, and a key with a JWK alg only
 * that alg (what oic_jwt_verify accepts). 0 for NULL.
 */
unsigned oic_jwks_algorithms(const oic_jwks_t *ks);

/* ---- tokens ---- */

typedef enum {
    OIC_JWT_OK = 0,
    OIC_JWT_MALFORMED,          /* not three base64url segments, not JSON objects, duplicate names, too large/deep */
    OIC_JWT_BAD_ALG,            /* none, HMAC, not in the allow-list, crit header */
    OIC_JWT_UNKNOWN_KID,        /* no key matches: the caller may refresh the key set once */
    OIC_JWT_BAD_SIGNATURE,      /* also: key's kty/alg/use disagree with the header */
    OIC_JWT_EXPIRED,
    OIC_JWT_NOT_YET_VALID,      /* nbf or iat in the future (beyond leeway) */
    OIC_JWT_BAD_ISSUER,
    OIC_JWT_BAD_AUDIENCE,
    OIC_JWT_BAD_CLAIM,          /* exp missing or not a number, etc. */
    OIC_JWT_INSUFFICIENT_SCOPE
} oic_jwt_rc_t;

#define OIC_JWT_MAX_LEN (16 * 1024)   /* a longer token is MALFORMED */

typedef struct oic_jwt_s oic_jwt_t;

typedef struct {
    const oic_str_t *issuers;     size_t n_issuers;     /* exact match, any; n=0 means no check */
    const oic_str_t *audiences;   size_t n_audiences;   /* aud string or array, any match; n=0 -> BAD_AUDIENCE */
    unsigned         algorithms;                        /* allow-list bitmask */
    long long        leeway;                            /* seconds, for exp/nbf/iat */
    const oic_str_t *scope_claims; size_t n_scope_claims; /* e.g. scope scp roles */
} oic_jwt_policy_t;

/*
 * Split, base64url-decode (strict: no padding) and parse; checks alg against
 * algorithms, rejects crit. kid, if present, must be a string of <= 256 bytes
 * (else MALFORMED). jku, x5u, jwk, x5c are ignored. An empty signature decodes
 * (verify then answers BAD_SIGNATURE). *out is NULL unless OIC_JWT_OK.
 */
oic_jwt_rc_t oic_jwt_decode(const char *token, size_t len, unsigned algorithms,
                            oic_jwt_t **out, char *err, size_t errlen);
void oic_jwt_free(oic_jwt_t *jwt);

/*
 * The heap a decoded token holds, in bytes, as malloc counts it (block
 * headers and rounding included): the token copy, the signature, the kid and
 * every node of the claims' JSON tree. An estimate from jansson's node
 * layouts, for budgets: a payload of many small elements (e.g. 2,000 empty
 * arrays) weighs thirty times its text. SIZE_MAX on failure; 0 for NULL.
 */
size_t oic_jwt_mem(const oic_jwt_t *jwt);

/*
 * Verify the signature with the key set. Candidates: the keys whose kid equals the
 * token's kid (none -> UNKNOWN_KID); without a kid in the token -- or when the set
 * holds only kid-less keys (PEM) -- the single key whose kty/curve fits the alg
 * (zero or several -> UNKNOWN_KID). A candidate whose kty/curve or JWK alg does
 * not fit the header alg is never used (BAD_SIGNATURE "key does not fit alg").
 * No key import happens here. NULL or empty keys -> UNKNOWN_KID.
 */
oic_jwt_rc_t oic_jwt_verify(const oic_jwt_t *jwt, const oic_jwks_t *keys,
                            char *err, size_t errlen);

/*
 * Checks, in this order: aud (string or array; n_audiences == 0 or policy NULL ->
 * BAD_AUDIENCE), iss (if n_issuers > 0; byte-exact), exp (required number ->
 * BAD_CLAIM; now > exp + leeway -> EXPIRED), nbf (now + leeway < nbf ->
 * NOT_YET_VALID), iat (iat > now + leeway -> NOT_YET_VALID). NumericDates may be
 * fractional; a negative leeway counts as 0. Does not verify the signature.
 */
oic_jwt_rc_t oic_jwt_check_claims(const oic_jwt_t *jwt, const oic_jwt_policy_t *policy,
                                  long long now, char *err, size_t errlen);

/*
 * 1 when the token's scopes satisfy required (any or all); n_required == 0 -> 1.
 * Scopes come from policy->scope_claims: a string claim is split on spaces, an
 * array contributes its string elements as they are.
 */
int oic_jwt_has_scopes(const oic_jwt_t *jwt, const oic_jwt_policy_t *policy,
                       const oic_str_t *required, size_t n_required, int match_all);

/*
 * The last second at which oic_jwt_check_claims can pass on time under this
 * policy: *until = floor(exp + leeway), within [LLONG_MIN, LLONG_MAX]; 1, or
 * 0 (and *until untouched) when exp is absent or not a number. The other
 * time checks (nbf, iat) only ever fail too early: a token that passed at
 * now passes at every second from now to *until, and is expired at
 * *until + 1 (what a caller may remember a verdict for).
 */
int oic_jwt_claims_until(const oic_jwt_t *jwt, const oic_jwt_policy_t *policy,
                         long long *until);

/* exp as integer seconds (floor), or -1 when absent, not a number or negative. */
long long oic_jwt_exp(const oic_jwt_t *jwt);

/*
 * The exp claim of a token that has the shape of a JWT (three dot-separated
 * segments whose second is base64url of a JSON object), read WITHOUT any
 * check of its header or signature: for a token the caller obtained itself
 * (an IAM access token), whose own exp may only shorten its use. Integer
 * seconds (floor), or -1 when the token is not of that shape (an opaque
 * token), longer than OIC_JWT_MAX_LEN, or has no usable exp.
 */
long long oic_jwt_peek_exp(const char *token, size_t len);

/*
 * A top-level claim: strings as is, integers in decimal, reals in the shortest
 * %.15g..%.17g form that reads back exactly (1.5, 1700000000.75, 1e+21),
 * booleans true/false, arrays: their scalar elements space-joined (nested
 * arrays/objects/null skipped); NULL if absent, null or an object.
 */
char *oic_jwt_claim(const oic_jwt_t *jwt, const char *name, size_t name_len);

/* The token's scopes from the scope claims, space-separated, de-duplicated in order; "" if none. */
char *oic_jwt_scopes(const oic_jwt_t *jwt, const oic_jwt_policy_t *policy);

/* First present non-empty string claim among names (e.g. upn preferred_username unique_name); NULL if none. */
char *oic_jwt_first_claim(const oic_jwt_t *jwt, const oic_str_t *names, size_t n);

/*
 * Without a copy: *value and *len locate a string claim inside the decoded
 * token, valid as long as jwt is, NUL-terminated (a JSON string holds no NUL:
 * oic_jwt_decode refuses \u0000). Each returns 1 when found, else 0 (*value
 * NULL, *len 0):
 *   oic_jwt_claim_view        the claim name when it is a string (other
 *                             types: 0, oic_jwt_claim gives their text)
 *   oic_jwt_first_claim_view  what oic_jwt_first_claim returns
 */
int oic_jwt_claim_view(const oic_jwt_t *jwt, const char *name, size_t name_len,
                       const char **value, size_t *len);
int oic_jwt_first_claim_view(const oic_jwt_t *jwt, const oic_str_t *names, size_t n,
                             const char **value, size_t *len);

/* ---- user assertion (RFC 7523) ---- */

typedef struct oic_signer_s oic_signer_t;

/*
 * Load an unencrypted PEM RSA private key (PKCS#8 or PKCS#1, >= 2048 bits) and,
 * optionally (cert_path NULL or ""), its PEM certificate, whose public key must
 * match (x5t = base64url(SHA-1(cert DER))). Errors name the file and the reason
 * (strerror, "encrypted", "not an RSA key", "does not match the private key").
 */
oic_signer_t *oic_signer_load(const char *key_path, const char *cert_path,
                              char *err, size_t errlen);
void oic_signer_free(oic_signer_t *s);

/*
 * header {alg RS256, typ JWT, kid?, x5t?}; claims {sub, iss, aud, iat: now,
 * exp: now + lifetime, jti: base64url of 16 random bytes}, RS256 (PKCS#1 v1.5).
 * kid may be NULL/"" only when the signer has a certificate (x5t); iss, sub, aud
 * must be non-empty UTF-8; lifetime > 0.
 */
char *oic_assertion_mint(const oic_signer_t *s, const char *kid, const char *iss,
                         const char *sub, const char *aud, long long now,
                         long long lifetime, char *err, size_t errlen);

/* Read a secret file (<= 4096 bytes, trailing CR/LF stripped); NULL + err if unreadable, empty, larger, or with a NUL byte. */
char *oic_read_secret_file(const char *path, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* OIC_AUTH_JWT_H */
