// JWT (RFC 7519) in JWS compact serialization (RFC 7515): decode, verify, claims, scopes.
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/rsa.h>

#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "jwt_internal.hpp"
#include "util.hpp"

namespace oic {

void set_err(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

Json parse_object(std::string_view text, std::string *why) {
    json_error_t e;
    Json j(json_loadb(text.data(), text.size(), JSON_REJECT_DUPLICATES, &e));
    if (!j) {
        // jansson's text may quote input ("... near 'xyz'"): keep only the reason.
        std::string_view t(e.text);
        if (size_t near = t.find(" near "); near != std::string_view::npos) t = t.substr(0, near);
        *why = "invalid JSON (" + std::string(t) + ")";
        return nullptr;
    }
    if (!json_is_object(j.get())) {
        *why = "not a JSON object";
        return nullptr;
    }
    return j;
}

namespace {

const AlgInfo kAlgs[] = {
    {OIC_ALG_RS256, "RS256", Family::RS, "SHA256", 0, 0},
    {OIC_ALG_RS384, "RS384", Family::RS, "SHA384", 0, 0},
    {OIC_ALG_RS512, "RS512", Family::RS, "SHA512", 0, 0},
    {OIC_ALG_PS256, "PS256", Family::PS, "SHA256", 0, 0},
    {OIC_ALG_PS384, "PS384", Family::PS, "SHA384", 0, 0},
    {OIC_ALG_PS512, "PS512", Family::PS, "SHA512", 0, 0},
    {OIC_ALG_ES256, "ES256", Family::ES, "SHA256", NID_X9_62_prime256v1, 32},
    {OIC_ALG_ES384, "ES384", Family::ES, "SHA384", NID_secp384r1, 48},
    {OIC_ALG_ES512, "ES512", Family::ES, "SHA512", NID_secp521r1, 66},
};

constexpr size_t kMaxKid = 256;

}  // namespace

const AlgInfo *all_algs(size_t *n) {
    *n = sizeof(kAlgs) / sizeof(kAlgs[0]);
    return kAlgs;
}

const AlgInfo *alg_by_name(std::string_view name) {
    for (const AlgInfo &a : kAlgs)
        if (name == a.name) return &a;
    return nullptr;
}

}  // namespace oic

struct oic_jwt_s {
    std::string         signing_input;  // ASCII(header_b64 '.' payload_b64)
    std::string         sig;            // raw signature bytes
    const oic::AlgInfo *alg = nullptr;
    bool                has_kid = false;
    std::string         kid;
    oic::Json           claims;
};

namespace oic {
namespace {

std::string_view str_of(const json_t *j) {
    return {json_string_value(j), json_string_length(j)};
}

struct MdCtxDel { void operator()(EVP_MD_CTX *c) const { EVP_MD_CTX_free(c); } };
struct EcSigDel { void operator()(ECDSA_SIG *s) const { ECDSA_SIG_free(s); } };

// JOSE ECDSA signature (r || s, fixed length) -> DER; empty on failure.
std::string ecdsa_der(const std::string &raw, size_t coord) {
    std::unique_ptr<ECDSA_SIG, EcSigDel> s(ECDSA_SIG_new());
    if (!s) throw std::bad_alloc();
    auto *p = reinterpret_cast<const unsigned char *>(raw.data());
    BIGNUM *r = BN_bin2bn(p, int(coord), nullptr), *ss = BN_bin2bn(p + coord, int(coord), nullptr);
    if (!r || !ss || ECDSA_SIG_set0(s.get(), r, ss) != 1) {
        BN_free(r);
        BN_free(ss);
        throw std::bad_alloc();
    }
    unsigned char *der = nullptr;
    int n = i2d_ECDSA_SIG(s.get(), &der);
    if (n <= 0) throw std::bad_alloc();
    std::string out(reinterpret_cast<char *>(der), size_t(n));
    OPENSSL_free(der);
    return out;
}

// One signature check with an already imported key.
bool verify_with(const Key &k, const AlgInfo &a, std::string_view input, const std::string &sig) {
    std::unique_ptr<EVP_MD_CTX, MdCtxDel> ctx(EVP_MD_CTX_new());
    if (!ctx) throw std::bad_alloc();
    EVP_PKEY_CTX *pctx = nullptr;
    if (EVP_DigestVerifyInit_ex(ctx.get(), &pctx, a.md, nullptr, nullptr, k.pkey.get(), nullptr) != 1)
        return false;
    if (a.family == Family::PS &&
        (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
         EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, a.md, nullptr) != 1))
        return false;
    auto *in = reinterpret_cast<const unsigned char *>(input.data());
    if (a.family == Family::ES) {
        std::string der = ecdsa_der(sig, a.coord);
        return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char *>(der.data()), der.size(), in,
                                input.size()) == 1;
    }
    return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char *>(sig.data()), sig.size(), in,
                            input.size()) == 1;
}

// A JSON number as long double (exact for every json_int_t); false when not a number.
bool number_of(const json_t *j, long double *out) {
    if (json_is_integer(j)) {
        *out = (long double)json_integer_value(j);
        return true;
    }
    if (json_is_real(j)) {
        double d = json_real_value(j);
        if (!std::isfinite(d)) return false;
        *out = d;
        return true;
    }
    return false;
}

bool in_list(std::string_view s, const oic_str_t *list, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (list[i].data && s == std::string_view(list[i].data, list[i].len)) return true;
    return false;
}

// Numbers as text: integers exactly; reals with the fewest digits (<= 17) that read back the same.
std::string number_text(const json_t *j) {
    char buf[64];
    if (json_is_integer(j)) {
        snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(j));
        return buf;
    }
    double d = json_real_value(j);
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof(buf), "%.*g", prec, d);
        if (strtod(buf, nullptr) == d) break;
    }
    return buf;
}

// Scalar claim value as text; false for null, objects and arrays.
bool scalar_text(const json_t *j, std::string *out) {
    switch (json_typeof(j)) {
    case JSON_STRING: out->assign(str_of(j)); return true;
    case JSON_INTEGER:
    case JSON_REAL: *out = number_text(j); return true;
    case JSON_TRUE: *out = "true"; return true;
    case JSON_FALSE: *out = "false"; return true;
    default: return false;
    }
}

// The token's scopes, in order of appearance, de-duplicated; views into the claims.
std::vector<std::string_view> collect_scopes(const oic_jwt_t *jwt, const oic_jwt_policy_t *p) {
    std::vector<std::string_view> out;
    auto add = [&out](std::string_view s) {
        if (s.empty()) return;
        for (std::string_view seen : out)
            if (seen == s) return;
        out.push_back(s);
    };
    for (size_t c = 0; c < p->n_scope_claims; c++) {
        const oic_str_t &name = p->scope_claims[c];
        if (!name.data) continue;
        const json_t *v = json_object_getn(jwt->claims.get(), name.data, name.len);
        if (json_is_string(v)) {
            std::string_view s = str_of(v);
            size_t pos = 0;
            while (pos < s.size()) {
                size_t sp = s.find(' ', pos);
                if (sp == std::string_view::npos) sp = s.size();
                add(s.substr(pos, sp - pos));
                pos = sp + 1;
            }
        } else if (json_is_array(v)) {
            size_t i;
            const json_t *e;
            json_array_foreach(v, i, e) if (json_is_string(e)) add(str_of(e));
        }
    }
    return out;
}

}  // namespace
}  // namespace oic

using namespace oic;

extern "C" unsigned oic_alg_from_name(const char *name, size_t len) {
    if (!name) return 0;
    const AlgInfo *a = alg_by_name(std::string_view(name, len));
    return a ? a->bit : 0;
}

extern "C" const char *oic_alg_name(unsigned alg) {
    size_t n;
    const AlgInfo *a = all_algs(&n);
    for (size_t i = 0; i < n; i++)
        if (a[i].bit == alg) return a[i].name;
    return nullptr;
}

extern "C" oic_jwt_rc_t oic_jwt_decode(const char *token, size_t len, unsigned algorithms, oic_jwt_t **out,
                                       char *err, size_t errlen) {
    try {
        if (out) *out = nullptr;
        if (!token || !out) {
            set_err(err, errlen, "no token");
            return OIC_JWT_MALFORMED;
        }
        if (len > OIC_JWT_MAX_LEN) {
            set_err(err, errlen, "token longer than %d bytes", OIC_JWT_MAX_LEN);
            return OIC_JWT_MALFORMED;
        }
        std::string_view t(token, len);
        size_t d1 = t.find('.');
        size_t d2 = d1 == std::string_view::npos ? d1 : t.find('.', d1 + 1);
        if (d2 == std::string_view::npos || t.find('.', d2 + 1) != std::string_view::npos) {
            set_err(err, errlen, "token is not three dot-separated segments");
            return OIC_JWT_MALFORMED;
        }
        auto hdr = b64url_decode(t.substr(0, d1));
        auto pay = b64url_decode(t.substr(d1 + 1, d2 - d1 - 1));
        auto sig = b64url_decode(t.substr(d2 + 1));
        if (!hdr || !pay || !sig) {
            set_err(err, errlen, "%s segment is not base64url", !hdr ? "header" : !pay ? "payload" : "signature");
            return OIC_JWT_MALFORMED;
        }
        std::string why;
        Json header = parse_object(*hdr, &why);
        if (!header) {
            set_err(err, errlen, "header: %s", why.c_str());
            return OIC_JWT_MALFORMED;
        }
        auto jwt = std::make_unique<oic_jwt_s>();

        // The header first: a token refused on its alg costs no payload tree.
        const json_t *alg = json_object_get(header.get(), "alg");
        if (!json_is_string(alg)) {
            set_err(err, errlen, "header alg missing or not a string");
            return OIC_JWT_MALFORMED;
        }
        jwt->alg = alg_by_name(str_of(alg));
        if (!jwt->alg) {
            set_err(err, errlen, "alg not supported (none, HMAC or unknown)");
            return OIC_JWT_BAD_ALG;
        }
        if (!(jwt->alg->bit & algorithms)) {
            set_err(err, errlen, "alg %s not allowed", jwt->alg->name);
            return OIC_JWT_BAD_ALG;
        }
        if (json_object_get(header.get(), "crit")) {
            set_err(err, errlen, "crit header not supported");
            return OIC_JWT_BAD_ALG;
        }
        if (const json_t *kid = json_object_get(header.get(), "kid")) {
            if (!json_is_string(kid) || json_string_length(kid) > kMaxKid) {
                set_err(err, errlen, "kid not a string of at most %zu bytes", kMaxKid);
                return OIC_JWT_MALFORMED;
            }
            jwt->has_kid = true;
            jwt->kid.assign(str_of(kid));
        }
        jwt->claims = parse_object(*pay, &why);
        if (!jwt->claims) {
            set_err(err, errlen, "payload: %s", why.c_str());
            return OIC_JWT_MALFORMED;
        }
        // jku, x5u, jwk, x5c: deliberately ignored (RFC 8725 3.10: never fetched nor trusted).
        jwt->signing_input.assign(t.substr(0, d2));
        jwt->sig = std::move(*sig);
        *out = jwt.release();
        return OIC_JWT_OK;
    } catch (...) {
        set_err(err, errlen, "out of memory");
        return OIC_JWT_MALFORMED;
    }
}

extern "C" void oic_jwt_free(oic_jwt_t *jwt) {
    try {
        delete jwt;
    } catch (...) {
    }
}

namespace oic {
namespace {

// What glibc's malloc takes for a request of n bytes: an 8-byte header,
// 16-byte alignment, 32 bytes at least.
size_t chunk(size_t n) {
    size_t c = (n + 8 + 15) & ~size_t(15);
    return c < 32 ? 32 : c;
}

// A table of n entries that starts at 8 and doubles (jansson's arrays and hash buckets).
size_t table_of(size_t n) {
    size_t t = 8;
    while (t < n) t *= 2;
    return t;
}

// The heap behind a jansson 2.x value, from its node layouts (jansson_private.h,
// hashtable.h): json_t is {type, refcount}, 16 bytes; true/false/null are
// shared singletons. Iterative: a payload may nest 2048 levels deep.
size_t json_mem(const json_t *root) {
    size_t m = 0;
    std::vector<const json_t *> todo{root};
    while (!todo.empty()) {
        const json_t *j = todo.back();
        todo.pop_back();
        switch (json_typeof(j)) {
        case JSON_OBJECT: {
            // {json_t, hashtable {size, buckets*, order, list, ordered_list}};
            // 16-byte buckets; per member a pair {2 lists, hash, value*, key_len, key[]}
            m += chunk(16 + 56) + chunk(table_of(json_object_size(j)) * 16);
            const char *k;
            size_t klen;
            json_t *v;
            json_object_keylen_foreach(const_cast<json_t *>(j), k, klen, v) {
                m += chunk(56 + klen + 1);
                todo.push_back(v);
            }
            break;
        }
        case JSON_ARRAY: {
            // {json_t, size, entries, table*} and the table of pointers
            m += chunk(16 + 24) + chunk(table_of(json_array_size(j)) * sizeof(json_t *));
            size_t i;
            json_t *v;
            json_array_foreach(const_cast<json_t *>(j), i, v) todo.push_back(v);
            break;
        }
        case JSON_STRING: m += chunk(16 + 16) + chunk(json_string_length(j) + 1); break;
        case JSON_INTEGER:
        case JSON_REAL: m += chunk(16 + 8); break;
        default: break;
        }
    }
    return m;
}

// A std::string's own heap block (none while it fits the small-string buffer).
size_t string_mem(const std::string &s) {
    return s.capacity() > 15 ? chunk(s.capacity() + 1) : 0;
}

}  // namespace
}  // namespace oic

extern "C" size_t oic_jwt_mem(const oic_jwt_t *jwt) {
    try {
        if (!jwt) return 0;
        return chunk(sizeof(oic_jwt_s)) + string_mem(jwt->signing_input) + string_mem(jwt->sig) +
               string_mem(jwt->kid) + (jwt->claims ? json_mem(jwt->claims.get()) : 0);
    } catch (...) {
        return SIZE_MAX;
    }
}

extern "C" oic_jwt_rc_t oic_jwt_verify(const oic_jwt_t *jwt, const oic_jwks_t *keys, char *err, size_t errlen) {
    try {
        if (!jwt) {
            set_err(err, errlen, "no token");
            return OIC_JWT_MALFORMED;
        }
        if (!keys || keys->keys.empty()) {
            set_err(err, errlen, "no keys");
            return OIC_JWT_UNKNOWN_KID;
        }
        const AlgInfo &a = *jwt->alg;

        // Candidates: the keys with the token's kid; without a kid (or when the set holds
        // only kid-less keys, e.g. a PEM key), the one key whose type fits the alg.
        std::vector<const Key *> cand;
        bool kidless_set = true;
        if (jwt->has_kid)
            for (const Key &k : keys->keys) {
                if (k.has_kid) kidless_set = false;
                if (k.has_kid && k.kid == jwt->kid) cand.push_back(&k);
            }
        if (!jwt->has_kid || (cand.empty() && kidless_set)) {
            for (const Key &k : keys->keys)
                if (kty_fits(k, a)) cand.push_back(&k);
            if (cand.size() != 1) {
                set_err(err, errlen, cand.empty() ? "no key for %s" : "no kid and several keys for %s", a.name);
                return OIC_JWT_UNKNOWN_KID;
            }
        }
        if (cand.empty()) {
            set_err(err, errlen, "kid not in the key set");
            return OIC_JWT_UNKNOWN_KID;
        }

        if (jwt->sig.empty()) {
            set_err(err, errlen, "empty signature");
            return OIC_JWT_BAD_SIGNATURE;
        }
        if (a.family == Family::ES && jwt->sig.size() != 2 * a.coord) {
            set_err(err, errlen, "%s signature must be %zu bytes", a.name, 2 * a.coord);
            return OIC_JWT_BAD_SIGNATURE;
        }
        bool fitted = false;
        for (const Key *k : cand) {
            if (!key_serves(*k, a)) continue;
            fitted = true;
            if (verify_with(*k, a, jwt->signing_input, jwt->sig)) return OIC_JWT_OK;
        }
        ERR_clear_error();
        set_err(err, errlen, fitted ? "signature does not verify" : "key does not fit alg %s", a.name);
        return OIC_JWT_BAD_SIGNATURE;
    } catch (...) {
        ERR_clear_error();
        set_err(err, errlen, "out of memory");
        return OIC_JWT_BAD_SIGNATURE;
    }
}

extern "C" oic_jwt_rc_t oic_jwt_check_claims(const oic_jwt_t *jwt, const oic_jwt_policy_t *policy, long long now,
                                             char *err, size_t errlen) {
    try {
        if (!jwt) {
            set_err(err, errlen, "no token");
            return OIC_JWT_MALFORMED;
        }
        if (!policy || policy->n_audiences == 0) {
            set_err(err, errlen, "no audience configured");
            return OIC_JWT_BAD_AUDIENCE;
        }
        const json_t *c = jwt->claims.get();

        // aud first: cheap, and it rejects tokens meant for someone else before anything else.
        const json_t *aud = json_object_get(c, "aud");
        bool aud_ok = false;
        if (json_is_string(aud)) {
            aud_ok = in_list(str_of(aud), policy->audiences, policy->n_audiences);
        } else if (json_is_array(aud)) {
            size_t i;
            const json_t *v;
            json_array_foreach(aud, i, v) if (json_is_string(v) &&
                                              in_list(str_of(v), policy->audiences, policy->n_audiences)) {
                aud_ok = true;
                break;
            }
        }
        if (!aud_ok) {
            set_err(err, errlen, aud ? "aud does not match" : "aud missing");
            return OIC_JWT_BAD_AUDIENCE;
        }

        if (policy->n_issuers > 0) {
            const json_t *iss = json_object_get(c, "iss");
            if (!json_is_string(iss) || !in_list(str_of(iss), policy->issuers, policy->n_issuers)) {
                set_err(err, errlen, iss ? "iss does not match" : "iss missing");
                return OIC_JWT_BAD_ISSUER;
            }
        }

        long double leeway = policy->leeway > 0 ? (long double)policy->leeway : 0;
        long double t = (long double)now, v;
        const json_t *exp = json_object_get(c, "exp");
        if (!exp || !number_of(exp, &v)) {
            set_err(err, errlen, exp ? "exp is not a number" : "exp missing");
            return OIC_JWT_BAD_CLAIM;
        }
        if (t > v + leeway) {
            set_err(err, errlen, "token expired");
            return OIC_JWT_EXPIRED;
        }
        if (const json_t *nbf = json_object_get(c, "nbf")) {
            if (!number_of(nbf, &v)) {
                set_err(err, errlen, "nbf is not a number");
                return OIC_JWT_BAD_CLAIM;
            }
            if (t + leeway < v) {
                set_err(err, errlen, "token not yet valid (nbf)");
                return OIC_JWT_NOT_YET_VALID;
            }
        }
        if (const json_t *iat = json_object_get(c, "iat")) {
            if (!number_of(iat, &v)) {
                set_err(err, errlen, "iat is not a number");
                return OIC_JWT_BAD_CLAIM;
            }
            if (v > t + leeway) {
                set_err(err, errlen, "token issued in the future (iat)");
                return OIC_JWT_NOT_YET_VALID;
            }
        }
        return OIC_JWT_OK;
    } catch (...) {
        set_err(err, errlen, "out of memory");
        return OIC_JWT_BAD_CLAIM;
    }
}

extern "C" int oic_jwt_has_scopes(const oic_jwt_t *jwt, const oic_jwt_policy_t *policy, const oic_str_t *required,
                                  size_t n_required, int match_all) {
    try {
        if (n_required == 0) return 1;
        if (!jwt || !policy || !required) return 0;
        std::vector<std::string_view> have = collect_scopes(jwt, policy);
        for (size_t i = 0; i < n_required; i++) {
            bool found = false;
            if (required[i].data) {
                std::string_view r(required[i].data, required[i].len);
                for (std::string_view h : have)
                    if (h == r) {
                        found = true;
                        break;
                    }
            }
            if (found && !match_all) return 1;
            if (!found && match_all) return 0;
        }
        return match_all ? 1 : 0;
    } catch (...) {
        return 0;
    }
}

namespace oic {
namespace {

// A NumericDate claim as integer seconds (floor); -1 when absent, not a
// number, negative or beyond long long.
long long seconds_of(const json_t *claims, const char *name) {
    long double v;
    if (!number_of(json_object_get(claims, name), &v)) return -1;
    if (v < 0 || v >= 9.2e18L) return -1;
    return (long long)v;  /* v >= 0: truncation is floor */
}

}  // namespace
}  // namespace oic

extern "C" long long oic_jwt_exp(const oic_jwt_t *jwt) {
    try {
        if (!jwt) return -1;
        return seconds_of(jwt->claims.get(), "exp");
    } catch (...) {
        return -1;
    }
}

extern "C" int oic_jwt_claims_until(const oic_jwt_t *jwt, const oic_jwt_policy_t *policy, long long *until) {
    try {
        if (!jwt || !policy || !until) return 0;
        long double v;
        if (!number_of(json_object_get(jwt->claims.get(), "exp"), &v)) return 0;
        // the same sum oic_jwt_check_claims compares with: an integer now
        // passes "now > exp + leeway" exactly when now <= its floor
        v = std::floor(v + (policy->leeway > 0 ? (long double)policy->leeway : 0));
        if (v >= (long double)LLONG_MAX)
            *until = LLONG_MAX;
        else if (v <= (long double)LLONG_MIN)
            *until = LLONG_MIN;
        else
            *until = (long long)v;
        return 1;
    } catch (...) {
        return 0;
    }
}

extern "C" long long oic_jwt_peek_exp(const char *token, size_t len) {
    try {
        if (!token || len > OIC_JWT_MAX_LEN) return -1;
        std::string_view t(token, len);
        size_t d1 = t.find('.');
        size_t d2 = d1 == std::string_view::npos ? d1 : t.find('.', d1 + 1);
        if (d2 == std::string_view::npos || t.find('.', d2 + 1) != std::string_view::npos) return -1;
        auto pay = b64url_decode(t.substr(d1 + 1, d2 - d1 - 1));
        if (!pay) return -1;
        std::string why;
        Json claims = parse_object(*pay, &why);
        if (!claims) return -1;
        return seconds_of(claims.get(), "exp");
    } catch (...) {
        return -1;
    }
}

extern "C" char *oic_jwt_claim(const oic_jwt_t *jwt, const char *name, size_t name_len) {
    try {
        if (!jwt || !name) return nullptr;
        const json_t *v = json_object_getn(jwt->claims.get(), name, name_len);
        if (!v) return nullptr;
        std::string out;
        if (json_is_array(v)) {
            size_t i;
            const json_t *e;
            std::string one;
            json_array_foreach(v, i, e) if (scalar_text(e, &one)) {
                if (!out.empty()) out += ' ';
                out += one;
            }
            return dup_c(out);
        }
        if (!scalar_text(v, &out)) return nullptr;
        return dup_c(out);
    } catch (...) {
        return nullptr;
    }
}

extern "C" char *oic_jwt_scopes(const oic_jwt_t *jwt, const oic_jwt_policy_t *policy) {
    try {
        if (!jwt || !policy) return nullptr;
        std::string out;
        for (std::string_view s : collect_scopes(jwt, policy)) {
            if (!out.empty()) out += ' ';
            out += s;
        }
        return dup_c(out);
    } catch (...) {
        return nullptr;
    }
}

extern "C" int oic_jwt_claim_view(const oic_jwt_t *jwt, const char *name, size_t name_len, const char **value,
                                  size_t *len) {
    try {
        if (value) *value = nullptr;
        if (len) *len = 0;
        if (!jwt || !name || !value || !len) return 0;
        const json_t *v = json_object_getn(jwt->claims.get(), name, name_len);
        if (!json_is_string(v)) return 0;
        *value = json_string_value(v);
        *len = json_string_length(v);
        return 1;
    } catch (...) {
        return 0;
    }
}

extern "C" int oic_jwt_first_claim_view(const oic_jwt_t *jwt, const oic_str_t *names, size_t n, const char **value,
                                        size_t *len) {
    try {
        if (!names) n = 0;
        for (size_t i = 0; i < n; i++) {
            if (names[i].data && oic_jwt_claim_view(jwt, names[i].data, names[i].len, value, len) && *len > 0)
                return 1;
        }
        if (value) *value = nullptr;
        if (len) *len = 0;
        return 0;
    } catch (...) {
        return 0;
    }
}

extern "C" char *oic_jwt_first_claim(const oic_jwt_t *jwt, const oic_str_t *names, size_t n) {
    try {
        const char *v;
        size_t len;
        if (!oic_jwt_first_claim_view(jwt, names, n, &v, &len)) return nullptr;
        return dup_c(std::string_view(v, len));
    } catch (...) {
        return nullptr;
    }
}
