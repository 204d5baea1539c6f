// oic_auth core: HTTP Basic client credentials (RFC 7617, RFC 6749 2.3.1),
// form encoding, cache keys and hashing. C API declared in include/oic_auth.h.
#include "oic_auth.h"
#include "util.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

struct oic_mac_s {
    EVP_MD_CTX *inner = EVP_MD_CTX_new();     // SHA-256 after K ^ ipad
    EVP_MD_CTX *outer = EVP_MD_CTX_new();     // SHA-256 after K ^ opad
    EVP_MD_CTX *scratch = EVP_MD_CTX_new();   // a call's working copy
    ~oic_mac_s() {
        EVP_MD_CTX_free(inner);
        EVP_MD_CTX_free(outer);
        EVP_MD_CTX_free(scratch);
    }
};

namespace {

constexpr size_t kMaxDecodedCreds = 4096;  // "id:secret" after base64 decoding
// The longest base64 text that can decode to kMaxDecodedCreds bytes.
constexpr size_t kMaxEncodedCreds = (kMaxDecodedCreds + 2) / 3 * 4;

std::string_view view(const char *p, size_t n) {
    return p ? std::string_view(p, n) : std::string_view();
}

bool is_ws(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
    return s;
}

bool has_control(std::string_view s) {
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f) return true;
    return false;
}

// 8-byte big-endian length, then the bytes.
char *put_field(char *p, std::string_view f) {
    uint64_t n = f.size();
    for (int shift = 56; shift >= 0; shift -= 8) *p++ = char((n >> shift) & 0xff);
    if (!f.empty()) std::memcpy(p, f.data(), f.size());
    return p + f.size();
}

// A key no other input can produce: used when hashing fails, so that a
// failure gives a cache miss, never a hit on someone else's entry.
void unmatchable_key(unsigned char out[OIC_KEY_LEN]) {
    if (RAND_bytes(out, OIC_KEY_LEN) != 1) std::memset(out, 0xff, OIC_KEY_LEN);
}

// A little-endian 64-bit word at p.
inline uint64_t le64(const unsigned char *p) {
    uint64_t w;
    std::memcpy(&w, p, sizeof(w));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

inline uint64_t rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

#define OIC_SIPROUND                                                  \
    do {                                                              \
        v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);     \
        v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                        \
        v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                        \
        v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);     \
    } while (0)

// SipHash-2-4 of len bytes at p under a 16-byte key.
uint64_t siphash24(const unsigned char key[16], const unsigned char *p, size_t len) {
    uint64_t k0 = le64(key), k1 = le64(key + 8);
    uint64_t v0 = k0 ^ 0x736f6d6570736575ULL, v1 = k1 ^ 0x646f72616e646f6dULL;
    uint64_t v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;
    const unsigned char *end = p + (len & ~size_t(7));
    for (; p != end; p += 8) {
        uint64_t m = le64(p);
        v3 ^= m;
        OIC_SIPROUND;
        OIC_SIPROUND;
        v0 ^= m;
    }
    uint64_t m = uint64_t(len & 0xff) << 56;
    for (size_t i = 0; i < (len & 7); i++) m |= uint64_t(p[i]) << (8 * i);
    v3 ^= m;
    OIC_SIPROUND;
    OIC_SIPROUND;
    v0 ^= m;
    v2 ^= 0xff;
    OIC_SIPROUND;
    OIC_SIPROUND;
    OIC_SIPROUND;
    OIC_SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

#undef OIC_SIPROUND

// The input of a cache key: len64(tag) tag len64(f1) f1 ..., written into a
// buffer on the stack when it fits (keys are derived on every request), else
// on the heap; ok is false for an invalid field list.
class KeyInput {
  public:
    KeyInput(const char *tag, const oic_str_t *fields, size_t n) {
        if (n && !fields) return;
        std::string_view t = tag ? std::string_view(tag) : std::string_view();
        size_t size = 8 + t.size();
        for (size_t i = 0; i < n; i++) {
            if (!fields[i].data && fields[i].len) return;
            size += 8 + fields[i].len;
        }
        char *p = buf_;
        if (size > sizeof(buf_)) {
            heap_.resize(size);
            p = heap_.data();
        }
        data_ = p;
        p = put_field(p, t);
        for (size_t i = 0; i < n; i++) p = put_field(p, view(fields[i].data, fields[i].len));
        size_ = size;
        ok = true;
    }
    const char *data() const { return data_; }
    size_t size() const { return size_; }
    bool ok = false;

  private:
    char buf_[512];
    std::string heap_;
    const char *data_ = nullptr;
    size_t size_ = 0;
};

constexpr size_t kShaBlock = 64;  // SHA-256's block: HMAC's key size

// The scheme and the base64 text of a Basic header: OIC_BASIC_OK with *b64
// the text, else why not.
oic_basic_rc_t basic_text(std::string_view hdr, std::string_view *b64) {
    hdr = trim(hdr);
    static constexpr std::string_view kScheme = "basic";
    if (!oic::iequals(hdr.substr(0, kScheme.size()), kScheme)) return OIC_BASIC_NONE;
    std::string_view rest = hdr.substr(kScheme.size());
    if (rest.empty()) return OIC_BASIC_MALFORMED;  // "Basic" with no credentials
    // Another scheme that merely starts with "Basic" ("BasicX ...") is not ours;
    // "Basic" followed by any other separator (HTAB, ',') is a broken Basic header.
    char sep = rest.front();
    bool tchar = (sep >= 'A' && sep <= 'Z') || (sep >= 'a' && sep <= 'z') ||
                 (sep >= '0' && sep <= '9') ||
                 std::string_view("!#$%&'*+-.^_`|~").find(sep) != std::string_view::npos;
    if (tchar) return OIC_BASIC_NONE;
    if (sep != ' ') return OIC_BASIC_MALFORMED;
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);

    // (the length guard only spares decoding a huge header; the decoded size is what counts)
    if (rest.empty() || rest.size() > kMaxEncodedCreds) return OIC_BASIC_MALFORMED;
    *b64 = rest;
    return OIC_BASIC_OK;
}

// What the base64 text b64 needs of a buffer for parse_pair: the bytes it
// can decode to, and a NUL.
size_t pair_room(std::string_view b64) { return b64.size() / 4 * 3 + 2 + 1; }

// The credentials in the base64 text b64, decoded into buf (pair_room bytes):
// id and secret point into it, each NUL-terminated.
oic_basic_rc_t parse_pair(std::string_view b64, char *buf, std::string_view *id, std::string_view *secret) {
    size_t n = oic::b64_decode_to(b64, buf);
    if (n == oic::kNoSize || n > kMaxDecodedCreds) return OIC_BASIC_MALFORMED;

    // RFC 6749 2.3.1: both sides were form-urlencoded, so the first ':' is the
    // separator; a raw ':' later on belongs to the secret (lax clients).
    std::string_view pair(buf, n);
    size_t colon = pair.find(':');
    if (colon == std::string_view::npos) return OIC_BASIC_MALFORMED;
    // decoded in place: each shrinks, the id's NUL takes the colon's place at most
    size_t id_len = oic::form_decode_to(pair.substr(0, colon), buf);
    size_t secret_len = oic::form_decode_to(pair.substr(colon + 1), buf + colon + 1);
    if (id_len == oic::kNoSize || secret_len == oic::kNoSize) return OIC_BASIC_MALFORMED;
    buf[id_len] = '\0';
    buf[colon + 1 + secret_len] = '\0';
    *id = std::string_view(buf, id_len);
    *secret = std::string_view(buf + colon + 1, secret_len);
    // Control bytes (raw, or %-encoded like %00) are refused after decoding.
    if (id->empty() || has_control(*id) || has_control(*secret)) return OIC_BASIC_MALFORMED;
    return OIC_BASIC_OK;
}

oic_basic_rc_t parse_basic(std::string_view hdr, oic_basic_creds_t *out) {
    std::string_view b64, id, secret;
    oic_basic_rc_t rc = basic_text(hdr, &b64);
    if (rc != OIC_BASIC_OK) return rc;
    std::string buf(pair_room(b64), '\0');
    rc = parse_pair(b64, buf.data(), &id, &secret);
    if (rc == OIC_BASIC_OK) {
        out->client_id = oic::dup_c(id);
        out->secret = oic::dup_c(secret);
        if (!out->client_id || !out->secret) {
            oic_basic_creds_free(out);
            rc = OIC_BASIC_MALFORMED;
        }
        out->client_id_len = id.size();
        out->secret_len = secret.size();
    }
    OPENSSL_cleanse(buf.data(), buf.size());
    return rc;
}

}  // namespace

// Declared in util.hpp: oic_mac_key's HMAC, with its failure reported.
bool oic::mac_into(oic_mac_t *m, const char *tag, const oic_str_t *fields, size_t n,
                   unsigned char out[OIC_KEY_LEN]) {
    try {
        KeyInput in(tag, fields, n);
        unsigned char inner[OIC_KEY_LEN];
        unsigned int len;
        return m && in.ok && EVP_MD_CTX_copy_ex(m->scratch, m->inner) == 1 &&
               EVP_DigestUpdate(m->scratch, in.data(), in.size()) == 1 &&
               EVP_DigestFinal_ex(m->scratch, inner, &len) == 1 &&
               EVP_MD_CTX_copy_ex(m->scratch, m->outer) == 1 &&
               EVP_DigestUpdate(m->scratch, inner, sizeof(inner)) == 1 &&
               EVP_DigestFinal_ex(m->scratch, out, &len) == 1;
    } catch (...) {
        return false;
    }
}

extern "C" {

void oic_free(void *p) { std::free(p); }

oic_basic_rc_t oic_basic_parse(const char *hdr, size_t len, oic_basic_creds_t *out) {
    if (!out) return OIC_BASIC_MALFORMED;
    *out = oic_basic_creds_t{};
    if (!hdr) return OIC_BASIC_NONE;
    try {
        return parse_basic(std::string_view(hdr, len), out);
    } catch (...) {
        oic_basic_creds_free(out);
        return OIC_BASIC_MALFORMED;
    }
}

oic_basic_rc_t oic_basic_parse_into(const char *hdr, size_t len, char *buf, size_t size, oic_basic_creds_t *out) {
    if (!out) return OIC_BASIC_MALFORMED;
    *out = oic_basic_creds_t{};
    if (!hdr) return OIC_BASIC_NONE;
    try {
        std::string_view b64, id, secret;
        oic_basic_rc_t rc = basic_text(std::string_view(hdr, len), &b64);
        if (rc != OIC_BASIC_OK) return rc;
        if (!buf || size < pair_room(b64)) return OIC_BASIC_MALFORMED;
        rc = parse_pair(b64, buf, &id, &secret);
        if (rc != OIC_BASIC_OK) return rc;
        out->client_id = const_cast<char *>(id.data());
        out->client_id_len = id.size();
        out->secret = const_cast<char *>(secret.data());
        out->secret_len = secret.size();
        return OIC_BASIC_OK;
    } catch (...) {
        *out = oic_basic_creds_t{};
        return OIC_BASIC_MALFORMED;
    }
}

void oic_basic_creds_free(oic_basic_creds_t *c) {
    if (!c) return;
    std::free(c->client_id);
    std::free(c->secret);
    *c = oic_basic_creds_t{};
}

char *oic_basic_header(const char *id, size_t id_len, const char *secret, size_t secret_len) {
    try {
        std::string pair = oic::form_encode(view(id, id_len)) + ":" +
                           oic::form_encode(view(secret, secret_len));
        return oic::dup_c("Basic " + oic::b64_encode(pair));
    } catch (...) {
        return nullptr;
    }
}

char *oic_form_encode(const char *s, size_t len) {
    try {
        return oic::dup_c(oic::form_encode(view(s, len)));
    } catch (...) {
        return nullptr;
    }
}

char *oic_form_body(const char *const *names, const oic_str_t *values, size_t n) {
    if (n && (!names || !values)) return nullptr;
    try {
        std::string body;
        for (size_t i = 0; i < n; i++) {
            if (!names[i] || !values[i].data) continue;
            if (!body.empty()) body += '&';
            body += oic::form_encode(names[i]);  // a no-op for names like grant_type
            body += '=';
            body += oic::form_encode(std::string_view(values[i].data, values[i].len));
        }
        return oic::dup_c(body);
    } catch (...) {
        return nullptr;
    }
}

// SHA-256( len64(tag) tag  len64(f1) f1 ... ), lengths as 8-byte big-endian:
// the encoding is prefix-free, so different (tag, fields) never share an input.
void oic_cache_key(const char *tag, const oic_str_t *fields, size_t n,
                   unsigned char out[OIC_KEY_LEN]) {
    try {
        KeyInput in(tag, fields, n);
        if (!in.ok) {
            unmatchable_key(out);
            return;
        }
        oic_sha256(in.data(), in.size(), out);
    } catch (...) {
        unmatchable_key(out);
    }
}

// SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
// 2012) over the input of oic_cache_key.
int oic_siphash(const unsigned char key[OIC_SIPHASH_KEY_LEN], const char *tag,
                const oic_str_t *fields, size_t n, uint64_t *out) {
    try {
        if (!key || !out) return -1;
        KeyInput in(tag, fields, n);
        if (!in.ok) return -1;
        *out = siphash24(key, reinterpret_cast<const unsigned char *>(in.data()), in.size());
        return 0;
    } catch (...) {
        return -1;
    }
}

int oic_random(unsigned char *buf, size_t n) {
    if (n == 0) return 0;
    if (!buf || n > INT_MAX) return -1;
    return RAND_bytes(buf, int(n)) == 1 ? 0 : -1;
}

// HMAC-SHA256 (RFC 2104): SHA-256((K ^ opad) || SHA-256((K ^ ipad) || m)).
// The two padded key blocks are hashed once, here; a call copies the two
// prepared digest states instead of setting the key up again.
oic_mac_t *oic_mac_new(const unsigned char *key, size_t len) {
    try {
        if (!key && len) return nullptr;
        auto m = std::make_unique<oic_mac_s>();
        unsigned char k[kShaBlock] = {0}, pad[kShaBlock];
        if (len > kShaBlock)
            oic::sha256_into(key, len, k);
        else if (len)
            std::memcpy(k, key, len);
        const EVP_MD *md = oic::sha256_md();
        bool ok = md && m->inner && m->outer && m->scratch;
        for (int i = 0; ok && i < 2; i++) {
            for (size_t j = 0; j < kShaBlock; j++) pad[j] = k[j] ^ (i ? 0x5c : 0x36);
            EVP_MD_CTX *c = i ? m->outer : m->inner;
            ok = EVP_DigestInit_ex(c, md, nullptr) == 1 && EVP_DigestUpdate(c, pad, kShaBlock) == 1;
        }
        OPENSSL_cleanse(k, sizeof(k));
        OPENSSL_cleanse(pad, sizeof(pad));
        return ok ? m.release() : nullptr;
    } catch (...) {
        return nullptr;
    }
}

void oic_mac_free(oic_mac_t *m) { delete m; }

void oic_mac_key(oic_mac_t *m, const char *tag, const oic_str_t *fields, size_t n,
                 unsigned char out[OIC_KEY_LEN]) {
    if (!oic::mac_into(m, tag, fields, n, out)) unmatchable_key(out);
}

void oic_sha256(const void *data, size_t len, unsigned char out[OIC_KEY_LEN]) {
    oic::sha256_into(data, len, out);
}

void oic_hex(const unsigned char *key, size_t n, char *buf) {
    static const char digits[] = "0123456789abcdef";
    if (!buf) return;
    size_t j = 0;
    for (size_t i = 0; key && i < n; i++) {
        buf[j++] = digits[key[i] >> 4];
        buf[j++] = digits[key[i] & 15];
    }
    buf[j] = '\0';
}

}  // extern "C"
