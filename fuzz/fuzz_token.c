/*
 * libFuzzer target: the token endpoint's answer through
 * oic_token_response_parse(). The input is "<status>\n<body>" (up to 4
 * digits before the first newline; without them the status is 200 and the
 * whole input is the body). The result obeys its contract: a b64token of at
 * most OIC_TOKEN_MAX_LEN on OK and nothing otherwise, expires_in -1 or in
 * [1, OIC_EXPIRES_MAX], a printable error code, a reason without the token.
 */
#include "fuzz.h"

#include "oic_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    long                status = 200;
    size_t              i = 0;
    oic_token_result_t  r;

    while (i < size && i < 4 && data[i] >= '0' && data[i] <= '9') i++;
    if (i > 0 && i < size && data[i] == '\n') {
        status = 0;
        for (size_t d = 0; d < i; d++) status = status * 10 + (data[d] - '0');
        data += i + 1;
        size -= i + 1;
    }

    oic_token_response_parse(status, (const char *) data, size, &r);
    fz_check_buf(r.error, sizeof(r.error));
    fz_check_buf(r.reason, sizeof(r.reason));
    FZ_CHECK(r.reason[0] != '\0');
    for (const char *p = r.error; *p; p++)
        FZ_CHECK(*p >= 0x20 && *p <= 0x7e);

    switch (r.rc) {
    case OIC_TOKEN_OK:
        FZ_CHECK(status >= 200 && status <= 299);
        FZ_CHECK(r.access_token != NULL && r.access_token_len > 0);
        FZ_CHECK(r.access_token_len <= OIC_TOKEN_MAX_LEN);
        FZ_CHECK(strlen(r.access_token) == r.access_token_len);
        FZ_CHECK(fz_is_b64token(r.access_token, r.access_token_len));
        FZ_CHECK(r.expires_in == -1
                 || (r.expires_in >= 1 && r.expires_in <= OIC_EXPIRES_MAX));
        if (r.access_token_len >= 8)
            FZ_CHECK(strstr(r.reason, r.access_token) == NULL);
        break;
    case OIC_TOKEN_INVALID_CLIENT:
    case OIC_TOKEN_FORBIDDEN:
        FZ_CHECK(status == 400 || status == 401 || status == 403);
        /* fall through */
    case OIC_TOKEN_RATE_LIMITED:
    case OIC_TOKEN_UPSTREAM_ERROR:
        FZ_CHECK(r.access_token == NULL && r.access_token_len == 0);
        FZ_CHECK(r.expires_in == -1);
        break;
    default:
        FZ_CHECK(!"unknown rc");
    }

    {
        /* the life of whatever was parsed: never a cacheable end in the past,
           never a refresh after the end */
        oic_token_life_t life;
        int lrc = oic_token_life(1000000, r.expires_in, -1, 60, &life);
        if (lrc == OIC_LIFE_OK || lrc == OIC_LIFE_SHORT) {
            FZ_CHECK(life.real_end > 1000000);
            FZ_CHECK(life.refresh_at >= 1000000 && life.refresh_at <= life.real_end);
        } else {
            FZ_CHECK(lrc == OIC_LIFE_NONE || lrc == OIC_LIFE_EXPIRED);
        }
    }
    oic_token_result_free(&r);
    FZ_CHECK(r.access_token == NULL);
    return 0;
}
