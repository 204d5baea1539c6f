// Internal helpers of the C++ core (not part of the C API).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "oic_auth.h"

struct evp_md_st;  // OpenSSL's EVP_MD

namespace oic {

// RFC 4648 base64 (with padding) and base64url (no padding).
std::string b64_encode(std::string_view in);
std::string b64url_encode(std::string_view in);
// Strict decoders: std::nullopt on any character outside the alphabet,
// wrong padding or impossible length. b64url_decode rejects '=' padding.
std::optional<std::string> b64_decode(std::string_view in);
std::optional<std::string> b64url_decode(std::string_view in);
// b64_decode into out (room for in.size() / 4 * 3 + 2 bytes): the size
// decoded, or kNoSize.
constexpr size_t kNoSize = size_t(-1);
size_t b64_decode_to(std::string_view in, char *out);

// application/x-www-form-urlencoded (RFC 6749 Appendix B).
std::string form_encode(std::string_view in);
// '+' -> ' ', %XX -> byte; nullopt on a bad escape.
std::optional<std::string> form_decode(std::string_view in);
// form_decode into out (room for in.size() bytes; out may be in.data(): the
// output never overtakes the input): the size decoded, or kNoSize.
size_t form_decode_to(std::string_view in, char *out);

// OpenSSL's SHA-256, fetched once per process (nullptr if it cannot be).
const evp_md_st *sha256_md();
std::string sha256(std::string_view in);       // 32 raw bytes
// SHA-256 into out[32], with the digest fetched from OpenSSL once per process
// (OpenSSL 3's one-shot SHA256() looks the algorithm up on every call).
void sha256_into(const void *data, size_t len, unsigned char *out);
std::string sha1(std::string_view in);         // 20 raw bytes
std::string hex(std::string_view raw);
// The value of a hex digit (either case), -1 for any other character.
int hexval(char c);

bool iequals(std::string_view a, std::string_view b);

// RFC 6750 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
bool is_b64token(std::string_view t);

// oic_mac_key's HMAC-SHA256 over (tag, fields) into out[32]; false on
// failure (m NULL, a bad field list, OpenSSL), where oic_mac_key gives an
// unmatchable key instead (basic.cpp).
bool mac_into(oic_mac_t *m, const char *tag, const oic_str_t *fields, size_t n,
              unsigned char out[OIC_KEY_LEN]);

// Copy s into a malloc'd NUL-terminated buffer (nullptr on failure).
char *dup_c(std::string_view s);

}  // namespace oic
