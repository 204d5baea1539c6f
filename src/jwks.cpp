// Key sets: JWKS / JWK / PEM (public key, RSA public key, certificate) -> imported EVP_PKEYs.
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstring>

#include "jwt_internal.hpp"
#include "util.hpp"

namespace oic {
namespace {

constexpr size_t kMaxKeys = 64;
constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 16384;
constexpr size_t kMaxKid = 256;

struct BnDel { void operator()(BIGNUM *b) const { BN_free(b); } };
struct BldDel { void operator()(OSSL_PARAM_BLD *b) const { OSSL_PARAM_BLD_free(b); } };
struct ParamDel { void operator()(OSSL_PARAM *p) const { OSSL_PARAM_free(p); } };
struct PctxDel { void operator()(EVP_PKEY_CTX *c) const { EVP_PKEY_CTX_free(c); } };
struct BioDel { void operator()(BIO *b) const { BIO_free(b); } };
struct X509Del { void operator()(X509 *x) const { X509_free(x); } };
using Bn = std::unique_ptr<BIGNUM, BnDel>;
using Pctx = std::unique_ptr<EVP_PKEY_CTX, PctxDel>;

struct Curve { const char *crv; int nid; size_t coord; unsigned alg; };
const Curve kCurves[] = {
    {"P-256", NID_X9_62_prime256v1, 32, OIC_ALG_ES256},
    {"P-384", NID_secp384r1, 48, OIC_ALG_ES384},
    {"P-521", NID_secp521r1, 66, OIC_ALG_ES512},
};

const Curve *curve_by_nid(int nid) {
    for (const Curve &c : kCurves)
        if (c.nid == nid) return &c;
    return nullptr;
}

std::string_view str_of(const json_t *j) {
    return {json_string_value(j), json_string_length(j)};
}

// Build an EVP_PKEY from OSSL_PARAMs (public part only).
Pkey from_params(const char *type, OSSL_PARAM_BLD *bld) {
    std::unique_ptr<OSSL_PARAM, ParamDel> params(OSSL_PARAM_BLD_to_param(bld));
    Pctx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    EVP_PKEY *pk = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &pk, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
        return nullptr;
    return Pkey(pk);
}

// Checks common to JWK and PEM keys: RSA size, EC curve (and the point, for EC).
const char *check_pkey(EVP_PKEY *pk, Key &k) {
    if (EVP_PKEY_is_a(pk, "RSA")) {
        int bits = EVP_PKEY_get_bits(pk);
        if (bits < kMinRsaBits) return "RSA modulus shorter than 2048 bits";
        if (bits > kMaxRsaBits) return "RSA modulus too long";
        k.kty = Kty::RSA;
        return nullptr;
    }
    if (EVP_PKEY_is_a(pk, "EC")) {
        char name[64];
        if (EVP_PKEY_get_group_name(pk, name, sizeof(name), nullptr) != 1) return "EC key without a named curve";
        const Curve *c = curve_by_nid(OBJ_sn2nid(name));
        if (!c) return "unsupported EC curve";
        // Import already refuses points off the curve; the quick check (not at infinity, on the
        // curve, coordinates in range) repeats it cheaply. The full check's multiplication by the
        // order adds nothing for these cofactor-1 curves and costs ~150 us per key.
        Pctx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pk, nullptr));
        if (!ctx || EVP_PKEY_public_check_quick(ctx.get()) != 1) return "EC point not on the curve";
        k.kty = Kty::EC;
        k.curve = c->nid;
        return nullptr;
    }
    return "unsupported key type";
}

const char *import_rsa(const json_t *jwk, Key &k) {
    const json_t *jn = json_object_get(jwk, "n"), *je = json_object_get(jwk, "e");
    if (!json_is_string(jn) || !json_is_string(je)) return "RSA key without n or e";
    auto n = b64url_decode(str_of(jn)), e = b64url_decode(str_of(je));
    if (!n || !e || n->empty() || e->empty() || e->size() > 8) return "RSA key with bad n or e";
    auto bin = [](const std::string &s) {
        return Bn(BN_bin2bn(reinterpret_cast<const unsigned char *>(s.data()), int(s.size()), nullptr));
    };
    Bn bn(bin(*n)), be(bin(*e));
    if (!bn || !be) throw std::bad_alloc();
    if (!BN_is_odd(bn.get()) || !BN_is_odd(be.get()) || BN_is_one(be.get())) return "RSA key with bad n or e";
    if (BN_num_bits(bn.get()) < kMinRsaBits) return "RSA modulus shorter than 2048 bits";
    if (BN_num_bits(bn.get()) > kMaxRsaBits) return "RSA modulus too long";
    std::unique_ptr<OSSL_PARAM_BLD, BldDel> bld(OSSL_PARAM_BLD_new());
    if (!bld || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn.get()) ||
        !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, be.get()))
        throw std::bad_alloc();
    k.pkey = from_params("RSA", bld.get());
    if (!k.pkey) return "RSA key import failed";
    return check_pkey(k.pkey.get(), k);
}

const char *import_ec(const json_t *jwk, Key &k) {
    const json_t *jc = json_object_get(jwk, "crv");
    if (!json_is_string(jc)) return "EC key without crv";
    const Curve *c = nullptr;
    for (const Curve &cv : kCurves)
        if (str_of(jc) == cv.crv) c = &cv;
    if (!c) return "unsupported EC curve";
    const json_t *jx = json_object_get(jwk, "x"), *jy = json_object_get(jwk, "y");
    if (!json_is_string(jx) || !json_is_string(jy)) return "EC key without x or y";
    auto x = b64url_decode(str_of(jx)), y = b64url_decode(str_of(jy));
    if (!x || !y || x->size() != c->coord || y->size() != c->coord) return "EC key with bad x or y";
    std::string point;
    point.reserve(1 + 2 * c->coord);
    point += '\x04';
    point += *x;
    point += *y;
    std::unique_ptr<OSSL_PARAM_BLD, BldDel> bld(OSSL_PARAM_BLD_new());
    if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, c->crv, 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()))
        throw std::bad_alloc();
    k.pkey = from_params("EC", bld.get());
    if (!k.pkey) return "EC point not on the curve";
    return check_pkey(k.pkey.get(), k);
}

// One JWK -> Key; returns the reason when the key is skipped.
const char *import_jwk(const json_t *jwk, Key &k) {
    if (!json_is_object(jwk)) return "key is not an object";
    const json_t *kty = json_object_get(jwk, "kty");
    if (!json_is_string(kty)) return "key without kty";

    if (const json_t *use = json_object_get(jwk, "use"))
        if (!json_is_string(use) || str_of(use) != "sig") return "key use is not sig";
    if (const json_t *ops = json_object_get(jwk, "key_ops")) {
        bool verify = false;
        size_t i;
        const json_t *op;
        if (json_is_array(ops))
            json_array_foreach(ops, i, op) if (json_is_string(op) && str_of(op) == "verify") verify = true;
        if (!verify) return "key_ops without verify";
    }
    if (const json_t *kid = json_object_get(jwk, "kid")) {
        if (!json_is_string(kid) || json_string_length(kid) > kMaxKid) return "bad kid";
        k.has_kid = true;
        k.kid.assign(str_of(kid));
    }
    if (const json_t *x5t = json_object_get(jwk, "x5t"))
        if (json_is_string(x5t)) k.x5t.assign(str_of(x5t));
    const AlgInfo *alg = nullptr;
    if (const json_t *ja = json_object_get(jwk, "alg")) {
        alg = json_is_string(ja) ? alg_by_name(str_of(ja)) : nullptr;
        if (!alg) return "unsupported key alg";
        k.alg = alg->bit;
    }

    const char *why;
    if (str_of(kty) == "RSA")
        why = import_rsa(jwk, k);
    else if (str_of(kty) == "EC")
        why = import_ec(jwk, k);
    else
        return "unsupported kty";
    if (why) return why;
    if (alg && !kty_fits(k, *alg)) return "key alg does not fit its kty/crv";
    return nullptr;
}

oic_jwks_t *parse_json(std::string_view data, char *err, size_t errlen) {
    std::string why;
    Json doc = parse_object(data, &why);
    if (!doc) {
        set_err(err, errlen, "JWKS: %s", why.c_str());
        return nullptr;
    }
    const json_t *arr = json_object_get(doc.get(), "keys");
    std::vector<const json_t *> jwks;
    if (json_is_array(arr)) {
        if (json_array_size(arr) > kMaxKeys) {
            set_err(err, errlen, "JWKS: more than %zu keys", kMaxKeys);
            return nullptr;
        }
        size_t i;
        const json_t *v;
        json_array_foreach(arr, i, v) jwks.push_back(v);
    } else if (json_object_get(doc.get(), "kty")) {
        jwks.push_back(doc.get());  // a single JWK
    } else {
        set_err(err, errlen, "JWKS: no \"keys\" array");
        return nullptr;
    }

    auto ks = std::make_unique<oic_jwks_s>();
    ks->keys.reserve(jwks.size());
    const char *last = "empty key set";
    for (const json_t *j : jwks) {
        Key k;
        if (const char *skip = import_jwk(j, k)) {
            last = skip;
            ERR_clear_error();
            continue;
        }
        ks->keys.push_back(std::move(k));
    }
    if (ks->keys.empty()) {
        set_err(err, errlen, "JWKS: no usable key (last skipped: %s)", last);
        return nullptr;
    }
    return ks.release();
}

// PEM: every PUBLIC KEY / RSA PUBLIC KEY / CERTIFICATE block becomes a key (no kid, no alg).
oic_jwks_t *parse_pem(std::string_view data, char *err, size_t errlen) {
    std::unique_ptr<BIO, BioDel> bio(BIO_new_mem_buf(data.data(), int(data.size())));
    if (!bio) throw std::bad_alloc();
    auto ks = std::make_unique<oic_jwks_s>();
    const char *last = "no public key or certificate block";
    for (size_t blocks = 0; blocks < kMaxKeys; blocks++) {
        char *name = nullptr, *header = nullptr;
        unsigned char *der = nullptr;
        long len = 0;
        if (PEM_read_bio(bio.get(), &name, &header, &der, &len) != 1) break;
        std::string type(name);
        OPENSSL_free(name);
        OPENSSL_free(header);
        const unsigned char *p = der;
        Key k;
        if (type == "PUBLIC KEY") {
            k.pkey.reset(d2i_PUBKEY(nullptr, &p, len));
        } else if (type == "RSA PUBLIC KEY") {
            k.pkey.reset(d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, len));
        } else if (type == "CERTIFICATE") {
            std::unique_ptr<X509, X509Del> x(d2i_X509(nullptr, &p, len));
            if (x) {
                k.pkey.reset(X509_get_pubkey(x.get()));
                k.x5t = b64url_encode(sha1(std::string_view(reinterpret_cast<char *>(der), size_t(len))));
            }
        } else {
            OPENSSL_free(der);
            continue;  // e.g. a private key or parameters: not for us
        }
        OPENSSL_free(der);
        const char *why = k.pkey ? check_pkey(k.pkey.get(), k) : "bad PEM key";
        if (why) {
            last = why;
            continue;
        }
        ks->keys.push_back(std::move(k));
    }
    ERR_clear_error();  // PEM_read_bio leaves "no start line" at the end
    if (ks->keys.empty()) {
        set_err(err, errlen, "PEM: no usable key (%s)", last);
        return nullptr;
    }
    return ks.release();
}

}  // namespace
}  // namespace oic

using namespace oic;

extern "C" oic_jwks_t *oic_jwks_parse(const char *data, size_t len, char *err, size_t errlen) {
    try {
        set_err(err, errlen, "%s", "");
        if (!data || len == 0) {
            set_err(err, errlen, "empty key set document");
            return nullptr;
        }
        if (len > OIC_JWKS_MAX_BYTES) {
            set_err(err, errlen, "key set document larger than %d bytes", OIC_JWKS_MAX_BYTES);
            return nullptr;
        }
        std::string_view doc(data, len);
        size_t start = doc.find_first_not_of(" \t\r\n");
        if (start != std::string_view::npos && doc[start] == '{') return parse_json(doc, err, errlen);
        if (doc.find("-----BEGIN ") != std::string_view::npos) return parse_pem(doc, err, errlen);
        set_err(err, errlen, "key set is neither JSON nor PEM");
        return nullptr;
    } catch (...) {
        ERR_clear_error();
        set_err(err, errlen, "out of memory");
        return nullptr;
    }
}

extern "C" void oic_jwks_free(oic_jwks_t *ks) {
    try {
        delete ks;
    } catch (...) {
    }
}

extern "C" size_t oic_jwks_count(const oic_jwks_t *ks) {
    return ks ? ks->keys.size() : 0;
}

extern "C" unsigned oic_jwks_algorithms(const oic_jwks_t *ks) {
    unsigned algs = 0;
    size_t n;
    const AlgInfo *a = all_algs(&n);
    if (!ks) return 0;
    for (const Key &k : ks->keys)
        for (size_t i = 0; i < n; i++)
            if (key_serves(k, a[i])) algs |= a[i].bit;
    return algs;
}
