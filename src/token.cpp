// oic_auth core: the token endpoint's answer (RFC 6749 5.1 / 5.2), a token's
// life in the cache and the backoff between failed calls. C API declared in include/oic_auth.h.
#include "oic_auth.h"
#include "util.hpp"

#include <jansson.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>

namespace {

struct JsonFree {
    void operator()(json_t *j) const { json_decref(j); }
};
using Json = std::unique_ptr<json_t, JsonFree>;

void set_reason(oic_token_result_t *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void set_reason(oic_token_result_t *out, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
    va_end(ap);
}

// expires_in: a positive number (integer, real, or a string of digits as some
// servers send), floored and capped at OIC_EXPIRES_MAX; -1 for anything else.
// The result is always -1 or in [1, OIC_EXPIRES_MAX] (0.5 gives -1, like 0).
long long parse_expires_in(const json_t *v) {
    if (json_is_integer(v)) {
        json_int_t n = json_integer_value(v);
        if (n < 1) return -1;
        return n > OIC_EXPIRES_MAX ? OIC_EXPIRES_MAX : static_cast<long long>(n);
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (!(d >= 1.0)) return -1;  // also NaN
        return d >= OIC_EXPIRES_MAX ? OIC_EXPIRES_MAX : static_cast<long long>(d);  // d >= 1: truncation is floor
    }
    if (json_is_string(v)) {
        std::string_view s(json_string_value(v), json_string_length(v));
        if (s.empty()) return -1;
        long long n = 0;
        for (char c : s) {
            if (c < '0' || c > '9') return -1;
            n = n * 10 + (c - '0');
            if (n > OIC_EXPIRES_MAX) n = OIC_EXPIRES_MAX + 1;  // saturate, no overflow
        }
        if (n < 1) return -1;
        return n > OIC_EXPIRES_MAX ? OIC_EXPIRES_MAX : n;
    }
    return -1;  // missing, null, boolean, array, object
}

// Copy IAM's "error" code: printable ASCII only (otherwise "?"), truncated.
void copy_error(const json_t *obj, oic_token_result_t *out) {
    const json_t *e = json_object_get(obj, "error");
    if (!json_is_string(e)) return;
    std::string_view s(json_string_value(e), json_string_length(e));
    for (char c : s) {
        if (c < 0x20 || c > 0x7e) {
            std::snprintf(out->error, sizeof(out->error), "?");
            return;
        }
    }
    size_t n = s.size() < sizeof(out->error) - 1 ? s.size() : sizeof(out->error) - 1;
    std::memcpy(out->error, s.data(), n);
    out->error[n] = '\0';
}

Json load_object(const char *body, size_t len) {
    json_error_t jerr;
    // Nesting depth is bounded by jansson itself (JSON_PARSER_MAX_DEPTH).
    Json j(json_loadb(body ? body : "", body ? len : 0, JSON_REJECT_DUPLICATES, &jerr));
    if (j && !json_is_object(j.get())) j.reset();
    return j;
}

void parse_success(const char *body, size_t len, oic_token_result_t *out) {
    Json j = load_object(body, len);
    if (!j) {
        set_reason(out, "malformed answer: not a JSON object");
        return;
    }
    copy_error(j.get(), out);
    const json_t *tok = json_object_get(j.get(), "access_token");
    if (!tok) {
        set_reason(out, "malformed answer: access_token missing");
        return;
    }
    if (!json_is_string(tok)) {
        set_reason(out, "malformed answer: access_token not a string");
        return;
    }
    std::string_view t(json_string_value(tok), json_string_length(tok));
    if (t.empty()) {
        set_reason(out, "malformed answer: access_token empty");
        return;
    }
    if (t.size() > OIC_TOKEN_MAX_LEN) {
        set_reason(out, "malformed answer: access_token too long");
        return;
    }
    if (!oic::is_b64token(t)) {
        set_reason(out, "malformed answer: access_token has invalid characters");
        return;
    }
    const json_t *type = json_object_get(j.get(), "token_type");
    if (type && !(json_is_string(type) && oic::iequals(json_string_value(type), "Bearer"))) {
        set_reason(out, "malformed answer: token_type is not Bearer");
        return;
    }
    out->expires_in = parse_expires_in(json_object_get(j.get(), "expires_in"));
    out->access_token = oic::dup_c(t);
    if (!out->access_token) {
        out->expires_in = -1;
        set_reason(out, "internal error");
        return;
    }
    out->access_token_len = t.size();
    out->rc = OIC_TOKEN_OK;
    set_reason(out, "token issued");
}

// 400/401/403 carrying an RFC 6749 5.2 error object.
void parse_error(long status, const char *body, size_t len, oic_token_result_t *out) {
    Json j = load_object(body, len);
    const json_t *e = j ? json_object_get(j.get(), "error") : nullptr;
    if (!json_is_string(e)) {
        // Conservative: without a readable OAuth error we cannot tell a bad
        // client from a broken IAM or proxy, not even on 401; so 502, not 401.
        set_reason(out, "IAM answered %ld without an OAuth error", status);
        return;
    }
    copy_error(j.get(), out);
    std::string_view code(json_string_value(e), json_string_length(e));
    if (code == "invalid_client") {
        out->rc = OIC_TOKEN_INVALID_CLIENT;
    } else if (code == "unauthorized_client" || code == "invalid_scope" || code == "invalid_grant") {
        out->rc = OIC_TOKEN_FORBIDDEN;
    } else {
        // invalid_request, unsupported_grant_type, anything unknown: our fault or IAM's.
        set_reason(out, "IAM error %s (HTTP %ld)", out->error, status);
        return;
    }
    set_reason(out, "IAM error %s", out->error);
}

void parse_response(long status, const char *body, size_t len, oic_token_result_t *out) {
    if (status == 429) {
        out->rc = OIC_TOKEN_RATE_LIMITED;
        set_reason(out, "IAM answered 429 (rate limited)");
        return;
    }
    if (status == 0) {
        set_reason(out, "no answer from IAM");
        return;
    }
    bool success = status >= 200 && status <= 299;
    bool oauth_error = status == 400 || status == 401 || status == 403;
    if (!success && !oauth_error) {
        set_reason(out, "IAM answered %ld", status);
        return;
    }
    if (len > OIC_TOKEN_MAX_BODY) {
        set_reason(out, "oversized answer (HTTP %ld)", status);
        return;
    }
    if (success)
        parse_success(body, len, out);
    else
        parse_error(status, body, len, out);
}

}  // namespace

extern "C" {

void oic_token_response_parse(long http_status, const char *body, size_t len,
                              oic_token_result_t *out) {
    if (!out) return;
    std::memset(out, 0, sizeof(*out));
    out->rc = OIC_TOKEN_UPSTREAM_ERROR;
    out->expires_in = -1;
    try {
        parse_response(http_status, body, len, out);
    } catch (...) {
        oic_token_result_free(out);
        out->rc = OIC_TOKEN_UPSTREAM_ERROR;
        out->expires_in = -1;
        set_reason(out, "internal error");
    }
}

void oic_token_result_free(oic_token_result_t *r) {
    if (!r) return;
    std::free(r->access_token);
    r->access_token = nullptr;
    r->access_token_len = 0;
}

int oic_token_life(long long now, long long expires_in, long long jwt_exp,
                   long long margin, oic_token_life_t *out) {
    if (!out) return OIC_LIFE_NONE;
    out->real_end = 0;
    out->refresh_at = 0;
    out->by_exp = 0;
    if (expires_in < 0) return OIC_LIFE_NONE;
    if (margin < 0) margin = 0;
    if (expires_in > OIC_EXPIRES_MAX) expires_in = OIC_EXPIRES_MAX;
    long long end = now + expires_in;
    if (jwt_exp >= 0 && jwt_exp < end) {
        // IAM's exp is its iat + expires_in: one second less here is a
        // second that turned between its clock and ours, not a shorter life
        out->by_exp = jwt_exp < end - 1;
        end = jwt_exp;
    }
    if (end <= now) return OIC_LIFE_EXPIRED;
    long long life = end - now;
    out->real_end = end;
    if (life > margin) {
        out->refresh_at = end - margin;
        return OIC_LIFE_OK;
    }
    // no room for the margin: the refresh starts halfway through the life
    out->refresh_at = now + life / 2;
    return OIC_LIFE_SHORT;
}

long long oic_backoff_ms(unsigned failures, long long base_ms, long long cap_ms, uint32_t rnd) {
    if (failures == 0 || base_ms <= 0) return 0;
    if (cap_ms < base_ms) cap_ms = base_ms;
    long long d = base_ms;
    for (unsigned i = 1; i < failures && d < cap_ms; i++) d = d > cap_ms / 2 ? cap_ms : d * 2;
    if (d > cap_ms) d = cap_ms;
    // +-20 %: d * [0.8, 1.2), rnd spread uniformly over 32 bits
    long double f = 0.8L + 0.4L * (long double)rnd / 4294967296.0L;
    return (long long)((long double)d * f);
}

}  // extern "C"
