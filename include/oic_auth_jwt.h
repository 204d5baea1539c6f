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

/* ---- key sets ---- */

typedef struct oic_jwks_s oic_jwks_t;

#define OIC_JWKS_MAX_BYTES (512 * 1024)

/*
 * Parse a JWKS document ({"keys":[...]}) or a PEM public key / certificate.
 * Keys that cannot be used (unknown kty, use != sig, bad numbers, HMAC "oct")
 * are skipped; a document with no usable key is an error (NULL, err set).
 */
oic_jwks_t *oic_jwks_parse(const char *data, size_t len, char *err, size_t errlen);
void oic_jwks_free(oic_jwks_t *ks);
size_t oic_jwks_count(const oic_jwks_t *ks);

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

/* Split, base64url-decode and parse; checks alg against algorithms, rejects crit. */
oic_jwt_rc_t oic_jwt_decode(const char *token, size_t len, unsigned algorithms,
                            oic_jwt_t **out, char *err, size_t errlen);
void oic_jwt_free(oic_jwt_t *jwt);

/* Verify the signature with the key set (kid lookup; no kid -> only if exactly one usable key). */
oic_jwt_rc_t oic_jwt_verify(const oic_jwt_t *jwt, const oic_jwks_t *keys,
                            char *err, size_t errlen);

/* iss, aud, exp (required), nbf, iat against now (unix seconds, may be fractional in token). */
oic_jwt_rc_t oic_jwt_check_claims(const oic_jwt_t *jwt, const oic_jwt_policy_t *policy,
                                  long long now, char *err, size_t errlen);

/* 1 when the token's scopes (from policy->scope_claims) satisfy required (any or all). */
int oic_jwt_has_scopes(const oic_jwt_t *jwt, const oic_jwt_policy_t *policy,
                       const oic_str_t *required, size_t n_required, int match_all);

/* exp as integer seconds (floor), or -1. */
long long oic_jwt_exp(const oic_jwt_t *jwt);

/* A top-level claim: strings as is, numbers as text, booleans true/false, arrays space-joined; NULL if absent or an object. */
char *oic_jwt_claim(const oic_jwt_t *jwt, const char *name, size_t name_len);

/* The token's scopes from the scope claims, space-separated, de-duplicated in order. */
char *oic_jwt_scopes(const oic_jwt_t *jwt, const oic_jwt_policy_t *policy);

/* First present string claim among names (e.g. upn preferred_username unique_name); NULL if none. */
char *oic_jwt_first_claim(const oic_jwt_t *jwt, const oic_str_t *names, size_t n);

/* ---- user assertion (RFC 7523) ---- */

typedef struct oic_signer_s oic_signer_t;

/* Load an unencrypted PEM RSA private key and, optionally, its PEM certificate (for x5t). */
oic_signer_t *oic_signer_load(const char *key_path, const char *cert_path,
                              char *err, size_t errlen);
void oic_signer_free(oic_signer_t *s);

/* header {alg RS256, typ JWT, kid, x5t?}; claims {sub, iss, aud, iat, exp, jti}. */
char *oic_assertion_mint(const oic_signer_t *s, const char *kid, const char *iss,
                         const char *sub, const char *aud, long long now,
                         long long lifetime, char *err, size_t errlen);

/* Read a secret file (trailing CR/LF stripped); NULL + err on failure or empty. */
char *oic_read_secret_file(const char *path, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* OIC_AUTH_JWT_H */
