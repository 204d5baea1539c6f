// Internal types shared by jwt.cpp, jwks.cpp and assertion.cpp (not part of the C API).
#pragma once

#include <jansson.h>
#include <openssl/evp.h>

#include <cstdarg>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "oic_auth_jwt.h"

namespace oic {

// ---- small RAII wrappers ----

struct JsonDel { void operator()(json_t *j) const { json_decref(j); } };
struct PkeyDel { void operator()(EVP_PKEY *k) const { EVP_PKEY_free(k); } };
using Json = std::unique_ptr<json_t, JsonDel>;
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDel>;

// snprintf into err (NULL or errlen 0 allowed). Always NUL-terminates.
void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

// Read at most max bytes of a file; false + err (with strerror) on failure
// or when larger (assertion.cpp).
bool read_file(const char *what, const char *path, size_t max, std::string *out, char *err, size_t errlen);

// Parse a JSON object: duplicate names, trailing garbage and depth > 2048 are errors.
// On failure returns null and puts a short reason (no input text) in why.
Json parse_object(std::string_view text, std::string *why);

// ---- algorithms ----

enum class Family { RS, PS, ES };

struct AlgInfo {
    unsigned    bit;
    const char *name;      // "RS256"
    Family      family;
    const char *md;        // OpenSSL digest name
    int         curve;     // ES*: OpenSSL curve NID; 0 otherwise
    size_t      coord;     // ES*: bytes of r and of s (32/48/66)
};

const AlgInfo *alg_by_name(std::string_view name);  // null for none/HS*/unknown
const AlgInfo *all_algs(size_t *n);                 // every supported algorithm

// ---- key sets ----

enum class Kty { RSA, EC };

struct Key {
    Kty         kty = Kty::RSA;
    int         curve = 0;         // EC: NID of the curve
    unsigned    alg = 0;           // the JWK's alg bit, 0 when absent
    bool        has_kid = false;
    std::string kid;
    std::string x5t;               // as given by the JWK, or computed from a PEM certificate
    Pkey        pkey;              // imported once at parse time
};

// Does key k fit alg a by key type (and curve)? The JWK alg is checked separately.
inline bool kty_fits(const Key &k, const AlgInfo &a) {
    if (a.family == Family::ES) return k.kty == Kty::EC && k.curve == a.curve;
    return k.kty == Kty::RSA;
}

// May key k verify a signature made with alg a: its type fits, and its JWK
// alg, when it has one, is a.
inline bool key_serves(const Key &k, const AlgInfo &a) {
    return kty_fits(k, a) && (!k.alg || k.alg == a.bit);
}

}  // namespace oic

struct oic_jwks_s {
    std::vector<oic::Key> keys;
};
