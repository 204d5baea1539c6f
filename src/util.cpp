// Internal helpers of the C++ core.
#include "util.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <cstdlib>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace oic {

namespace {

const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const char kB64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string encode(std::string_view in, const char *alphabet, bool pad) {
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
        out += alphabet[v >> 18];
        out += alphabet[(v >> 12) & 63];
        out += alphabet[(v >> 6) & 63];
        out += alphabet[v & 63];
    }
    size_t rest = in.size() - i;
    if (rest) {
        uint32_t v = uint8_t(in[i]) << 16;
        if (rest == 2) v |= uint8_t(in[i + 1]) << 8;
        out += alphabet[v >> 18];
        out += alphabet[(v >> 12) & 63];
        if (rest == 2) out += alphabet[(v >> 6) & 63];
        if (pad) out.append(rest == 1 ? "==" : "=");
    }
    return out;
}

int value_of(char c, bool url) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (url) {
        if (c == '-') return 62;
        if (c == '_') return 63;
    } else {
        if (c == '+') return 62;
        if (c == '/') return 63;
    }
    return -1;
}

// Decodes unpadded input; rejects non-zero trailing bits (non-canonical forms).
// Decoded into out (room for in.size() / 4 * 3 + 2 bytes): its size, or
// kNoSize for a character outside the alphabet or an impossible length.
size_t decode_to(std::string_view in, bool url, char *out) {
    if (in.size() % 4 == 1) return kNoSize;
    char *o = out;
    uint32_t acc = 0;
    int bits = 0;
    for (char c : in) {
        int v = value_of(c, url);
        if (v < 0) return kNoSize;
        acc = (acc << 6) | uint32_t(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *o++ = char((acc >> bits) & 0xff);
        }
    }
    if (bits && (acc & ((1u << bits) - 1))) return kNoSize;
    return size_t(o - out);
}

std::optional<std::string> decode(std::string_view in, bool url) {
    std::string out(in.size() / 4 * 3 + 2, '\0');
    size_t n = decode_to(in, url, out.data());
    if (n == kNoSize) return std::nullopt;
    out.resize(n);
    return out;
}

// b64_decode's padding: the text without it, or false.
bool strip_pad(std::string_view *in) {
    if (in->size() % 4 != 0) return false;
    size_t pad = 0;
    while (pad < 2 && pad < in->size() && (*in)[in->size() - 1 - pad] == '=') pad++;
    in->remove_suffix(pad);
    return true;
}

}  // namespace

int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string b64_encode(std::string_view in) { return encode(in, kB64, true); }
std::string b64url_encode(std::string_view in) { return encode(in, kB64Url, false); }

std::optional<std::string> b64_decode(std::string_view in) {
    if (!strip_pad(&in)) return std::nullopt;
    return decode(in, false);
}

size_t b64_decode_to(std::string_view in, char *out) {
    if (!strip_pad(&in)) return kNoSize;
    return decode_to(in, false, out);
}

std::optional<std::string> b64url_decode(std::string_view in) { return decode(in, true); }

std::string form_encode(std::string_view in) {
    static const char hexd[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(in.size() * 3);
    for (unsigned char c : in) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '*') {
            out += char(c);
        } else if (c == ' ') {
            out += '+';
        } else {
            out += '%';
            out += hexd[c >> 4];
            out += hexd[c & 15];
        }
    }
    return out;
}

size_t form_decode_to(std::string_view in, char *out) {
    char *o = out;
    for (size_t i = 0; i < in.size(); i++) {
        char c = in[i];
        if (c == '+') {
            *o++ = ' ';
        } else if (c == '%') {
            if (i + 2 >= in.size()) return kNoSize;
            int h = hexval(in[i + 1]), l = hexval(in[i + 2]);
            if (h < 0 || l < 0) return kNoSize;
            *o++ = char(h * 16 + l);
            i += 2;
        } else {
            *o++ = c;
        }
    }
    return size_t(o - out);
}

std::optional<std::string> form_decode(std::string_view in) {
    std::string out(in.size(), '\0');
    size_t n = form_decode_to(in, out.data());
    if (n == kNoSize) return std::nullopt;
    out.resize(n);
    return out;
}

const EVP_MD *sha256_md() {
    static EVP_MD *md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return md;
}

void sha256_into(const void *data, size_t len, unsigned char *out) {
    const EVP_MD *md = sha256_md();
    static const unsigned char empty = 0;
    const unsigned char *p = data ? static_cast<const unsigned char *>(data) : &empty;
    if (!data) len = 0;
    if (md == nullptr || EVP_Digest(p, len, out, nullptr, md, nullptr) != 1) {
        SHA256(p, len, out);
    }
}

std::string sha256(std::string_view in) {
    unsigned char md[SHA256_DIGEST_LENGTH];
    sha256_into(in.data(), in.size(), md);
    return std::string(reinterpret_cast<char *>(md), sizeof(md));
}

std::string sha1(std::string_view in) {
    unsigned char md[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char *>(in.data()), in.size(), md);
    return std::string(reinterpret_cast<char *>(md), sizeof(md));
}

std::string hex(std::string_view raw) {
    static const char hexd[] = "0123456789abcdef";
    std::string out;
    out.reserve(raw.size() * 2);
    for (unsigned char c : raw) {
        out += hexd[c >> 4];
        out += hexd[c & 15];
    }
    return out;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); i++) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x += 32;
        if (y >= 'A' && y <= 'Z') y += 32;
        if (x != y) return false;
    }
    return true;
}

namespace {

// The b64token characters of RFC 6750 2.1, as a table: a token is read
// eight bytes at a time with one branch (it is checked on every request).
struct B64TokenTable {
    bool ok[256] = {};
    constexpr B64TokenTable() {
        for (int c = 0; c < 256; c++)
            ok[c] = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
    }
};

constexpr B64TokenTable kB64Token;

}  // namespace

bool is_b64token(std::string_view t) {
    const bool *ok = kB64Token.ok;
    const unsigned char *p = reinterpret_cast<const unsigned char *>(t.data());
    size_t i = 0, n = t.size();
#if defined(__SSE2__)
    // sixteen bytes a step: A-Z, a-z, '-' to '9' ("-./0123456789"), '+', '_',
    // '~' (signed compares: bytes from 0x80 are negative, in no range)
    const __m128i a_lo = _mm_set1_epi8('A' - 1), a_hi = _mm_set1_epi8('Z' + 1);
    const __m128i l_lo = _mm_set1_epi8('a' - 1), l_hi = _mm_set1_epi8('z' + 1);
    const __m128i d_lo = _mm_set1_epi8('-' - 1), d_hi = _mm_set1_epi8('9' + 1);
    const __m128i plus = _mm_set1_epi8('+'), under = _mm_set1_epi8('_'), tilde = _mm_set1_epi8('~');
    while (i + 16 <= n) {
        __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p + i));
        __m128i in = _mm_or_si128(
            _mm_or_si128(_mm_and_si128(_mm_cmpgt_epi8(x, a_lo), _mm_cmplt_epi8(x, a_hi)),
                         _mm_and_si128(_mm_cmpgt_epi8(x, l_lo), _mm_cmplt_epi8(x, l_hi))),
            _mm_or_si128(_mm_and_si128(_mm_cmpgt_epi8(x, d_lo), _mm_cmplt_epi8(x, d_hi)),
                         _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, plus), _mm_cmpeq_epi8(x, under)),
                                      _mm_cmpeq_epi8(x, tilde))));
        if (_mm_movemask_epi8(in) != 0xffff) break;
        i += 16;
    }
#endif
    while (i + 8 <= n && (ok[p[i]] & ok[p[i + 1]] & ok[p[i + 2]] & ok[p[i + 3]] & ok[p[i + 4]] &
                          ok[p[i + 5]] & ok[p[i + 6]] & ok[p[i + 7]]))
        i += 8;
    while (i < n && ok[p[i]]) i++;
    if (i == 0) return false;
    for (; i < n; i++) {
        if (t[i] != '=') return false;
    }
    return true;
}

char *dup_c(std::string_view s) {
    char *p = static_cast<char *>(std::malloc(s.size() + 1));
    if (!p) return nullptr;
    if (!s.empty()) std::memcpy(p, s.data(), s.size());
    p[s.size()] = '\0';
    return p;
}

}  // namespace oic
