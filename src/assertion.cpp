// RFC 7523 user assertions: signer loading, minting, and secret files.
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "jwt_internal.hpp"
#include "util.hpp"

struct oic_signer_s {
    oic::Pkey   pkey;
    std::string x5t;  // base64url(SHA-1(cert DER)), empty without a certificate
};

namespace oic {

namespace {
struct FileDel { void operator()(FILE *f) const { fclose(f); } };
}  // namespace

// Declared in jwt_internal.hpp.
bool read_file(const char *what, const char *path, size_t max, std::string *out, char *err, size_t errlen) {
    std::unique_ptr<FILE, FileDel> f(fopen(path, "rb"));
    if (!f) {
        set_err(err, errlen, "%s \"%s\": %s", what, path, strerror(errno));
        return false;
    }
    out->resize(max + 1);
    size_t n = fread(&(*out)[0], 1, max + 1, f.get());
    if (ferror(f.get())) {
        set_err(err, errlen, "%s \"%s\": %s", what, path, strerror(errno));
        return false;
    }
    if (n > max) {
        OPENSSL_cleanse(&(*out)[0], out->size());
        set_err(err, errlen, "%s \"%s\": larger than %zu bytes", what, path, max);
        return false;
    }
    out->resize(n);
    return true;
}

namespace {

constexpr size_t kMaxPemFile = 64 * 1024;
constexpr size_t kMaxSecret = 4096;

struct BioDel { void operator()(BIO *b) const { BIO_free(b); } };
struct X509Del { void operator()(X509 *x) const { X509_free(x); } };
struct MdCtxDel { void operator()(EVP_MD_CTX *c) const { EVP_MD_CTX_free(c); } };

// Passphrase callback that refuses, and records that a passphrase was wanted.
int refuse_passphrase(char *, int, int, void *asked) {
    *static_cast<bool *>(asked) = true;
    return -1;
}

std::string json_compact(const json_t *j) {
    char *s = json_dumps(j, JSON_COMPACT);
    if (!s) throw std::bad_alloc();
    std::string out(s);
    free(s);
    return out;
}

// Set a string member; false when the value is not valid UTF-8.
bool set_str(json_t *o, const char *k, const char *v) {
    json_t *s = json_string(v);
    return s && json_object_set_new(o, k, s) == 0;
}

}  // namespace
}  // namespace oic

using namespace oic;

extern "C" oic_signer_t *oic_signer_load(const char *key_path, const char *cert_path, char *err, size_t errlen) {
    try {
        if (!key_path) {
            set_err(err, errlen, "no key file");
            return nullptr;
        }
        std::string pem;
        if (!read_file("key file", key_path, kMaxPemFile, &pem, err, errlen)) return nullptr;
        std::unique_ptr<BIO, BioDel> bio(BIO_new_mem_buf(pem.data(), int(pem.size())));
        if (!bio) throw std::bad_alloc();
        bool asked = false;
        auto s = std::make_unique<oic_signer_s>();
        s->pkey.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, refuse_passphrase, &asked));
        OPENSSL_cleanse(&pem[0], pem.size());
        ERR_clear_error();
        if (!s->pkey) {
            set_err(err, errlen, asked ? "key file \"%s\": private key is encrypted (not supported)"
                                       : "key file \"%s\": no PEM private key",
                    key_path);
            return nullptr;
        }
        if (!EVP_PKEY_is_a(s->pkey.get(), "RSA")) {
            set_err(err, errlen, "key file \"%s\": not an RSA key", key_path);
            return nullptr;
        }
        if (EVP_PKEY_get_bits(s->pkey.get()) < 2048) {
            set_err(err, errlen, "key file \"%s\": RSA key shorter than 2048 bits", key_path);
            return nullptr;
        }
        if (cert_path && *cert_path) {
            std::string cpem;
            if (!read_file("certificate file", cert_path, kMaxPemFile, &cpem, err, errlen)) return nullptr;
            std::unique_ptr<BIO, BioDel> cbio(BIO_new_mem_buf(cpem.data(), int(cpem.size())));
            if (!cbio) throw std::bad_alloc();
            std::unique_ptr<X509, X509Del> cert(PEM_read_bio_X509(cbio.get(), nullptr, nullptr, nullptr));
            ERR_clear_error();
            if (!cert) {
                set_err(err, errlen, "certificate file \"%s\": no PEM certificate", cert_path);
                return nullptr;
            }
            EVP_PKEY *pub = X509_get0_pubkey(cert.get());
            if (!pub || EVP_PKEY_eq(pub, s->pkey.get()) != 1) {
                ERR_clear_error();
                set_err(err, errlen, "certificate file \"%s\": does not match the private key", cert_path);
                return nullptr;
            }
            unsigned char *der = nullptr;
            int n = i2d_X509(cert.get(), &der);
            if (n <= 0) throw std::bad_alloc();
            s->x5t = b64url_encode(sha1(std::string_view(reinterpret_cast<char *>(der), size_t(n))));
            OPENSSL_free(der);
        }
        return s.release();
    } catch (...) {
        ERR_clear_error();
        set_err(err, errlen, "out of memory");
        return nullptr;
    }
}

extern "C" void oic_signer_free(oic_signer_t *s) {
    try {
        delete s;
    } catch (...) {
    }
}

extern "C" char *oic_assertion_mint(const oic_signer_t *s, const char *kid, const char *iss, const char *sub,
                                    const char *aud, long long now, long long lifetime, char *err, size_t errlen) {
    try {
        if (!s || !iss || !sub || !aud || !*iss || !*sub || !*aud) {
            set_err(err, errlen, "assertion needs a signer, iss, sub and aud");
            return nullptr;
        }
        if ((!kid || !*kid) && s->x5t.empty()) {
            set_err(err, errlen, "assertion needs a kid or a certificate (x5t)");
            return nullptr;
        }
        if (lifetime <= 0 || now < 0 || now > (1LL << 40) || lifetime > (1LL << 30)) {
            set_err(err, errlen, "bad assertion time or lifetime");
            return nullptr;
        }
        unsigned char rnd[16];
        if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
            ERR_clear_error();
            set_err(err, errlen, "no random bytes for jti");
            return nullptr;
        }

        Json h(json_object()), c(json_object());
        if (!h || !c) throw std::bad_alloc();
        bool ok = set_str(h.get(), "alg", "RS256") && set_str(h.get(), "typ", "JWT") &&
                  (!kid || !*kid || set_str(h.get(), "kid", kid)) &&
                  (s->x5t.empty() || set_str(h.get(), "x5t", s->x5t.c_str()));
        ok = ok && set_str(c.get(), "sub", sub) && set_str(c.get(), "iss", iss) && set_str(c.get(), "aud", aud) &&
             json_object_set_new(c.get(), "iat", json_integer(now)) == 0 &&
             json_object_set_new(c.get(), "exp", json_integer(now + lifetime)) == 0 &&
             set_str(c.get(), "jti", b64url_encode(std::string_view(reinterpret_cast<char *>(rnd), 16)).c_str());
        if (!ok) {
            set_err(err, errlen, "assertion value is not valid UTF-8");
            return nullptr;
        }

        std::string jwt = b64url_encode(json_compact(h.get()));
        jwt += '.';
        jwt += b64url_encode(json_compact(c.get()));

        std::unique_ptr<EVP_MD_CTX, MdCtxDel> ctx(EVP_MD_CTX_new());
        if (!ctx) throw std::bad_alloc();
        size_t siglen = 0;
        auto *in = reinterpret_cast<const unsigned char *>(jwt.data());
        if (EVP_DigestSignInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr, s->pkey.get(), nullptr) != 1 ||
            EVP_DigestSign(ctx.get(), nullptr, &siglen, in, jwt.size()) != 1) {
            ERR_clear_error();
            set_err(err, errlen, "RS256 signing failed");
            return nullptr;
        }
        std::string sig(siglen, '\0');
        if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char *>(&sig[0]), &siglen, in, jwt.size()) != 1) {
            ERR_clear_error();
            set_err(err, errlen, "RS256 signing failed");
            return nullptr;
        }
        sig.resize(siglen);
        jwt += '.';
        jwt += b64url_encode(sig);
        return dup_c(jwt);
    } catch (...) {
        ERR_clear_error();
        set_err(err, errlen, "out of memory");
        return nullptr;
    }
}

extern "C" char *oic_read_secret_file(const char *path, char *err, size_t errlen) {
    try {
        if (!path) {
            set_err(err, errlen, "no secret file");
            return nullptr;
        }
        std::string s;
        if (!read_file("secret file", path, kMaxSecret, &s, err, errlen)) return nullptr;
        while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
        char *out = nullptr;
        if (s.empty())
            set_err(err, errlen, "secret file \"%s\": empty", path);
        else if (s.find('\0') != std::string::npos)
            set_err(err, errlen, "secret file \"%s\": contains a NUL byte", path);
        else if (!(out = dup_c(s)))
            set_err(err, errlen, "out of memory");
        OPENSSL_cleanse(&s[0], s.size());
        return out;
    } catch (...) {
        set_err(err, errlen, "out of memory");
        return nullptr;
    }
}
