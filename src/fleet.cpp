// oic_auth core: the fleet key, Redis key names and sealed values
// (AES-256-GCM). C API and formats in include/oic_fleet.h.
#include "oic_fleet.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "jwt_internal.hpp"
#include "util.hpp"

struct oic_fleet_s {
    unsigned char enc[OIC_FLEET_KEY_LEN] = {0};
    oic_mac_t    *names = nullptr;
    char          id[OIC_FLEET_KEY_ID_LEN + 1] = {0};
    ~oic_fleet_s() {
        OPENSSL_cleanse(enc, sizeof(enc));
        oic_mac_free(names);
    }
};

namespace {

constexpr size_t kMaxKeyFile = 4096;
constexpr size_t kHeader = 1 + OIC_FLEET_NONCE_LEN;     // version, nonce
constexpr size_t kEndLen = 8;                           // expires, in the plaintext

struct CipherCtxDel { void operator()(EVP_CIPHER_CTX *c) const { EVP_CIPHER_CTX_free(c); } };
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDel>;

// Wipes a std::string's bytes when it goes.
struct Wiped {
    std::string s;
    ~Wiped() {
        if (!s.empty()) OPENSSL_cleanse(&s[0], s.size());
    }
};

const EVP_CIPHER *aes_gcm() {
    static EVP_CIPHER *c = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    return c;
}

// The 32 key bytes of a key file's content; false when it is none of the
// three forms.
bool parse_key(const std::string &file, unsigned char key[OIC_FLEET_KEY_LEN]) {
    if (file.size() == OIC_FLEET_KEY_LEN) {
        std::memcpy(key, file.data(), OIC_FLEET_KEY_LEN);
        return true;
    }
    std::string_view t(file);
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ' || t.back() == '\t'))
        t.remove_suffix(1);
    if (t.size() == 2 * OIC_FLEET_KEY_LEN) {
        for (size_t i = 0; i < OIC_FLEET_KEY_LEN; i++) {
            int h = oic::hexval(t[2 * i]), l = oic::hexval(t[2 * i + 1]);
            if (h < 0 || l < 0) return false;
            key[i] = static_cast<unsigned char>(h * 16 + l);
        }
        return true;
    }
    if (t.size() == (OIC_FLEET_KEY_LEN + 2) / 3 * 4) {
        auto raw = oic::b64_decode(t);
        bool ok = raw && raw->size() == OIC_FLEET_KEY_LEN;
        if (ok) std::memcpy(key, raw->data(), OIC_FLEET_KEY_LEN);
        if (raw && !raw->empty()) OPENSSL_cleanse(&(*raw)[0], raw->size());
        return ok;
    }
    return false;
}

void put_be64(unsigned char *p, uint64_t v) {
    for (int i = 7; i >= 0; i--) {
        p[i] = static_cast<unsigned char>(v & 0xff);
        v >>= 8;
    }
}

uint64_t get_be64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
    return v;
}

// The AAD: the version byte, then the key name.
bool add_aad(EVP_CIPHER_CTX *ctx, bool enc, unsigned char version, const char *name,
             size_t name_len) {
    int outl;
    auto update = enc ? EVP_EncryptUpdate : EVP_DecryptUpdate;
    if (update(ctx, nullptr, &outl, &version, 1) != 1) return false;
    return name_len == 0 ||
           update(ctx, nullptr, &outl, reinterpret_cast<const unsigned char *>(name), int(name_len)) == 1;
}

// Printable ASCII without spaces: what a token or an error code may hold
// (it goes into a header or a log line).
bool printable(const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] <= 0x20 || p[i] >= 0x7f) return false;
    return true;
}

}  // namespace

extern "C" {

oic_fleet_t *oic_fleet_new(const unsigned char key[OIC_FLEET_KEY_LEN]) {
    try {
        if (!key) return nullptr;
        auto f = std::make_unique<oic_fleet_s>();
        oic_mac_t *k = oic_mac_new(key, OIC_FLEET_KEY_LEN);
        if (!k) return nullptr;
        unsigned char names[OIC_KEY_LEN], id[OIC_KEY_LEN];
        bool ok = oic::mac_into(k, "oic_auth fleet encryption key", nullptr, 0, f->enc) &&
                  oic::mac_into(k, "oic_auth fleet name key", nullptr, 0, names) &&
                  oic::mac_into(k, "oic_auth fleet key id", nullptr, 0, id);
        oic_mac_free(k);
        if (ok) {
            f->names = oic_mac_new(names, sizeof(names));
            oic_hex(id, OIC_FLEET_KEY_ID_LEN / 2, f->id);
        }
        OPENSSL_cleanse(names, sizeof(names));
        return (ok && f->names) ? f.release() : nullptr;
    } catch (...) {
        return nullptr;
    }
}

oic_fleet_t *oic_fleet_load(const char *path, char *err, size_t errlen) {
    try {
        if (!path) {
            oic::set_err(err, errlen, "no key file");
            return nullptr;
        }
        struct stat st;
        if (stat(path, &st) != 0) {
            oic::set_err(err, errlen, "key file \"%s\": %s", path, strerror(errno));
            return nullptr;
        }
        if (!S_ISREG(st.st_mode)) {
            oic::set_err(err, errlen, "key file \"%s\": not a regular file", path);
            return nullptr;
        }
        if (st.st_mode & (S_IROTH | S_IWOTH)) {
            oic::set_err(err, errlen,
                         "key file \"%s\": others may read or write it (mode %03o): anyone on "
                         "this host could open what the fleet stores in Redis; chmod o-rwx it",
                         path, unsigned(st.st_mode & 0777));
            return nullptr;
        }
        Wiped content;
        if (!oic::read_file("key file", path, kMaxKeyFile, &content.s, err, errlen)) return nullptr;
        unsigned char key[OIC_FLEET_KEY_LEN];
        if (!parse_key(content.s, key)) {
            oic::set_err(err, errlen,
                         "key file \"%s\": it must hold 32 random bytes: raw (32 bytes), 64 hex "
                         "digits or base64 (openssl rand -hex 32 > FILE)", path);
            return nullptr;
        }
        bool same = true;
        for (size_t i = 1; i < OIC_FLEET_KEY_LEN; i++) same = same && key[i] == key[0];
        oic_fleet_t *f = same ? nullptr : oic_fleet_new(key);
        OPENSSL_cleanse(key, sizeof(key));
        if (same)
            oic::set_err(err, errlen, "key file \"%s\": 32 equal bytes are not a key "
                         "(openssl rand -hex 32 > FILE)", path);
        else if (!f)
            oic::set_err(err, errlen, "key file \"%s\": cannot derive the keys", path);
        return f;
    } catch (...) {
        oic::set_err(err, errlen, "out of memory");
        return nullptr;
    }
}

void oic_fleet_free(oic_fleet_t *f) { delete f; }

void oic_fleet_key_id(const oic_fleet_t *f, char out[OIC_FLEET_KEY_ID_LEN + 1]) {
    if (!out) return;
    if (!f) {
        out[0] = '\0';
        return;
    }
    std::memcpy(out, f->id, sizeof(f->id));
}

int oic_fleet_name(oic_fleet_t *f, const char *prefix, size_t prefix_len, const char *tag,
                   const oic_str_t *fields, size_t n, char *out, size_t size) {
    unsigned char h[OIC_KEY_LEN];
    if (!f || !out || (!prefix && prefix_len) || prefix_len > size ||
        size - prefix_len < OIC_FLEET_NAME_HASH_LEN + 1 || prefix_len > INT32_MAX - 65)
        return -1;
    if (!oic::mac_into(f->names, tag, fields, n, h)) return -1;
    if (prefix_len) std::memcpy(out, prefix, prefix_len);
    oic_hex(h, sizeof(h), out + prefix_len);
    return int(prefix_len + OIC_FLEET_NAME_HASH_LEN);
}

oic_fleet_rc_t oic_fleet_seal(oic_fleet_t *f, const char *name, size_t name_len,
                              const unsigned char *payload, size_t payload_len, uint64_t expires,
                              unsigned char **out, size_t *out_len) {
    if (out) *out = nullptr;
    if (out_len) *out_len = 0;
    if (!f || !out || !out_len || (!name && name_len) || name_len > INT32_MAX ||
        (!payload && payload_len) || payload_len > OIC_FLEET_PAYLOAD_MAX || !aes_gcm())
        return OIC_FLEET_ERROR;
    try {
        size_t total = payload_len + OIC_FLEET_OVERHEAD;
        auto *buf = static_cast<unsigned char *>(std::malloc(total));
        if (!buf) return OIC_FLEET_ERROR;
        unsigned char *nonce = buf + 1, *ct = buf + kHeader, *tag = ct + kEndLen + payload_len;
        unsigned char end[kEndLen];
        int outl;
        buf[0] = OIC_FLEET_SEAL_V1;
        put_be64(end, expires);
        CipherCtx ctx(EVP_CIPHER_CTX_new());
        bool ok = ctx && RAND_bytes(nonce, OIC_FLEET_NONCE_LEN) == 1 &&
                  EVP_EncryptInit_ex2(ctx.get(), aes_gcm(), f->enc, nonce, nullptr) == 1 &&
                  add_aad(ctx.get(), true, OIC_FLEET_SEAL_V1, name, name_len) &&
                  EVP_EncryptUpdate(ctx.get(), ct, &outl, end, kEndLen) == 1 && outl == int(kEndLen) &&
                  (payload_len == 0 ||
                   (EVP_EncryptUpdate(ctx.get(), ct + kEndLen, &outl, payload, int(payload_len)) == 1 &&
                    outl == int(payload_len))) &&
                  EVP_EncryptFinal_ex(ctx.get(), tag, &outl) == 1 && outl == 0 &&
                  EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, OIC_FLEET_TAG_LEN, tag) == 1;
        if (!ok) {
            ERR_clear_error();
            OPENSSL_cleanse(buf, total);
            std::free(buf);
            return OIC_FLEET_ERROR;
        }
        *out = buf;
        *out_len = total;
        return OIC_FLEET_OK;
    } catch (...) {
        return OIC_FLEET_ERROR;
    }
}

oic_fleet_rc_t oic_fleet_open(oic_fleet_t *f, const char *name, size_t name_len,
                              const unsigned char *value, size_t value_len, uint64_t now,
                              unsigned char **payload, size_t *payload_len, uint64_t *expires) {
    if (payload) *payload = nullptr;
    if (payload_len) *payload_len = 0;
    if (expires) *expires = 0;
    if (!f || !payload || !payload_len || (!name && name_len) || name_len > INT32_MAX ||
        (!value && value_len) || !aes_gcm())
        return OIC_FLEET_ERROR;
    if (value_len < OIC_FLEET_OVERHEAD || value_len - OIC_FLEET_OVERHEAD > OIC_FLEET_PAYLOAD_MAX)
        return OIC_FLEET_BAD;
    if (value[0] != OIC_FLEET_SEAL_V1) return OIC_FLEET_VERSION;
    try {
        size_t plain_len = value_len - kHeader - OIC_FLEET_TAG_LEN;   // end + payload
        const unsigned char *nonce = value + 1, *ct = value + kHeader, *tag = ct + plain_len;
        auto *plain = static_cast<unsigned char *>(std::malloc(plain_len + 1));
        if (!plain) return OIC_FLEET_ERROR;
        unsigned char tagbuf[OIC_FLEET_TAG_LEN];
        std::memcpy(tagbuf, tag, sizeof(tagbuf));
        int outl;
        CipherCtx ctx(EVP_CIPHER_CTX_new());
        bool ok = ctx && EVP_DecryptInit_ex2(ctx.get(), aes_gcm(), f->enc, nonce, nullptr) == 1 &&
                  add_aad(ctx.get(), false, OIC_FLEET_SEAL_V1, name, name_len) &&
                  EVP_DecryptUpdate(ctx.get(), plain, &outl, ct, int(plain_len)) == 1 &&
                  outl == int(plain_len) &&
                  EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, OIC_FLEET_TAG_LEN, tagbuf) == 1;
        if (!ctx) {
            std::free(plain);
            return OIC_FLEET_ERROR;
        }
        // the tag decides: a failed check is BAD whatever else went wrong
        ok = ok && EVP_DecryptFinal_ex(ctx.get(), plain + plain_len, &outl) == 1;
        ERR_clear_error();
        if (!ok) {
            OPENSSL_cleanse(plain, plain_len + 1);
            std::free(plain);
            return OIC_FLEET_BAD;
        }
        uint64_t end = get_be64(plain);
        if (end != 0 && now >= end) {
            OPENSSL_cleanse(plain, plain_len + 1);
            std::free(plain);
            return OIC_FLEET_EXPIRED;
        }
        size_t n = plain_len - kEndLen;
        std::memmove(plain, plain + kEndLen, n);
        OPENSSL_cleanse(plain + n, kEndLen);
        plain[n] = '\0';
        *payload = plain;
        *payload_len = n;
        if (expires) *expires = end;
        return OIC_FLEET_OK;
    } catch (...) {
        return OIC_FLEET_ERROR;
    }
}

oic_fleet_rc_t oic_fleet_seal_token(oic_fleet_t *f, const char *name, size_t name_len,
                                    const char *token, size_t token_len,
                                    const oic_fleet_token_times_t *times, unsigned char **out,
                                    size_t *out_len) {
    if (out) *out = nullptr;
    if (out_len) *out_len = 0;
    auto *tok = reinterpret_cast<const unsigned char *>(token);
    if (!times || times->valid_until == 0 || !token || token_len == 0 ||
        token_len > OIC_FLEET_PAYLOAD_MAX - OIC_FLEET_TOKEN_HEADER || !printable(tok, token_len))
        return OIC_FLEET_ERROR;
    try {
        Wiped p;
        p.s.resize(OIC_FLEET_TOKEN_HEADER + token_len);
        auto *b = reinterpret_cast<unsigned char *>(&p.s[0]);
        b[0] = OIC_FLEET_TOKEN_TYPE;
        put_be64(b + 1, times->issued);
        put_be64(b + 9, std::min(times->fresh_until, times->valid_until));
        std::memcpy(b + OIC_FLEET_TOKEN_HEADER, token, token_len);
        return oic_fleet_seal(f, name, name_len, b, p.s.size(), times->valid_until, out, out_len);
    } catch (...) {
        return OIC_FLEET_ERROR;
    }
}

oic_fleet_rc_t oic_fleet_open_token(oic_fleet_t *f, const char *name, size_t name_len,
                                    const unsigned char *value, size_t value_len, uint64_t now,
                                    char **token, size_t *token_len,
                                    oic_fleet_token_times_t *times) {
    if (token) *token = nullptr;
    if (token_len) *token_len = 0;
    if (times) *times = oic_fleet_token_times_t{};
    if (!token || !token_len || !times) return OIC_FLEET_ERROR;
    unsigned char *p;
    size_t n;
    uint64_t end;
    oic_fleet_rc_t rc = oic_fleet_open(f, name, name_len, value, value_len, now, &p, &n, &end);
    if (rc != OIC_FLEET_OK) return rc;
    if (n <= OIC_FLEET_TOKEN_HEADER || p[0] != OIC_FLEET_TOKEN_TYPE || end == 0 ||
        !printable(p + OIC_FLEET_TOKEN_HEADER, n - OIC_FLEET_TOKEN_HEADER)) {
        OPENSSL_cleanse(p, n);
        oic_free(p);
        return OIC_FLEET_BAD;
    }
    times->issued = get_be64(p + 1);
    times->fresh_until = std::min(get_be64(p + 9), end);
    times->valid_until = end;
    n -= OIC_FLEET_TOKEN_HEADER;
    std::memmove(p, p + OIC_FLEET_TOKEN_HEADER, n);
    OPENSSL_cleanse(p + n, OIC_FLEET_TOKEN_HEADER);
    p[n] = '\0';
    *token = reinterpret_cast<char *>(p);
    *token_len = n;
    return OIC_FLEET_OK;
}

oic_fleet_rc_t oic_fleet_seal_failure(oic_fleet_t *f, const char *name, size_t name_len,
                                      const oic_fleet_failure_t *failure, unsigned char **out,
                                      size_t *out_len) {
    if (out) *out = nullptr;
    if (out_len) *out_len = 0;
    if (!failure || failure->until == 0 ||
        (failure->kind != OIC_FLEET_REFUSED && failure->kind != OIC_FLEET_FAILED) ||
        failure->status < 100 || failure->status > 599)
        return OIC_FLEET_ERROR;
    size_t len = strnlen(failure->code, sizeof(failure->code));
    auto *code = reinterpret_cast<const unsigned char *>(failure->code);
    if (len == 0 || len > OIC_FLEET_CODE_MAX || !printable(code, len)) return OIC_FLEET_ERROR;
    unsigned char b[4 + OIC_FLEET_CODE_MAX];
    b[0] = OIC_FLEET_FAILURE_TYPE;
    b[1] = static_cast<unsigned char>(failure->kind);
    b[2] = static_cast<unsigned char>(failure->status >> 8);
    b[3] = static_cast<unsigned char>(failure->status & 0xff);
    std::memcpy(b + 4, code, len);
    return oic_fleet_seal(f, name, name_len, b, 4 + len, failure->until, out, out_len);
}

oic_fleet_rc_t oic_fleet_open_failure(oic_fleet_t *f, const char *name, size_t name_len,
                                      const unsigned char *value, size_t value_len, uint64_t now,
                                      oic_fleet_failure_t *failure) {
    if (!failure) return OIC_FLEET_ERROR;
    *failure = oic_fleet_failure_t{};
    unsigned char *p;
    size_t n;
    uint64_t end;
    oic_fleet_rc_t rc = oic_fleet_open(f, name, name_len, value, value_len, now, &p, &n, &end);
    if (rc != OIC_FLEET_OK) return rc;
    unsigned status = n >= 4 ? (unsigned(p[2]) << 8) | p[3] : 0;
    bool ok = n > 4 && n <= 4 + OIC_FLEET_CODE_MAX && p[0] == OIC_FLEET_FAILURE_TYPE &&
              (p[1] == OIC_FLEET_REFUSED || p[1] == OIC_FLEET_FAILED) && status >= 100 &&
              status <= 599 && end != 0 && printable(p + 4, n - 4);
    if (ok) {
        failure->kind = p[1];
        failure->status = status;
        std::memcpy(failure->code, p + 4, n - 4);
        failure->code[n - 4] = '\0';
        failure->until = end;
    }
    oic_free(p);
    return ok ? OIC_FLEET_OK : OIC_FLEET_BAD;
}

}  // extern "C"
