// Bearer credentials in an Authorization header (RFC 6750 section 2.1).
#include "oic_auth.h"
#include "util.hpp"

#include <string_view>

namespace {

bool is_space(char c) { return c == ' ' || c == '\t'; }

// The token's place in a Bearer header (not empty), its characters unchecked.
oic_bearer_rc_t locate(std::string_view h, size_t *off, std::string_view *token) {
    size_t b = 0, e = h.size();
    while (b < e && is_space(h[b])) b++;
    while (e > b && is_space(h[e - 1])) e--;
    h = h.substr(b, e - b);

    constexpr std::string_view scheme = "Bearer";
    if (h.size() < scheme.size() || !oic::iequals(h.substr(0, scheme.size()), scheme)) {
        return OIC_BEARER_NONE;
    }
    if (h.size() == scheme.size()) return OIC_BEARER_MALFORMED;  // "Bearer" alone
    if (!is_space(h[scheme.size()])) return OIC_BEARER_NONE;     // "Bearerx ..."

    size_t t = scheme.size();
    while (t < h.size() && h[t] == ' ') t++;
    *token = h.substr(t);
    if (token->empty()) return OIC_BEARER_MALFORMED;
    *off = b + t;
    return OIC_BEARER_OK;
}

}  // namespace

extern "C" oic_bearer_rc_t oic_bearer_locate(const char *hdr, size_t len, size_t *off,
                                             size_t *tok_len) {
    try {
        if (hdr == nullptr || off == nullptr || tok_len == nullptr) return OIC_BEARER_NONE;
        std::string_view token;
        oic_bearer_rc_t rc = locate(std::string_view(hdr, len), off, &token);
        if (rc == OIC_BEARER_OK) *tok_len = token.size();
        return rc;
    } catch (...) {
        return OIC_BEARER_MALFORMED;
    }
}

extern "C" oic_bearer_rc_t oic_bearer_parse(const char *hdr, size_t len, size_t *off,
                                            size_t *tok_len) {
    try {
        if (hdr == nullptr || off == nullptr || tok_len == nullptr) return OIC_BEARER_NONE;
        std::string_view token;
        size_t at = 0;
        oic_bearer_rc_t rc = locate(std::string_view(hdr, len), &at, &token);
        if (rc != OIC_BEARER_OK) return rc;
        if (!oic::is_b64token(token)) return OIC_BEARER_MALFORMED;       // two tokens, bad chars
        *off = at;
        *tok_len = token.size();
        return OIC_BEARER_OK;
    } catch (...) {
        return OIC_BEARER_MALFORMED;
    }
}
