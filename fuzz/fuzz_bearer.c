/*
 * libFuzzer target: an Authorization header value through oic_bearer_parse()
 * and oic_bearer_locate(). A token parse finds lies inside the header and is
 * a b64token (RFC 6750 2.1); locate finds it at the same place.
 */
#include "fuzz.h"

#include "oic_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t           off = (size_t) -1, len = (size_t) -1;
    oic_bearer_rc_t  rc;

    size_t           loff = (size_t) -1, llen = (size_t) -1;
    oic_bearer_rc_t  lrc;

    rc = oic_bearer_parse((const char *) data, size, &off, &len);
    FZ_CHECK(rc == OIC_BEARER_OK || rc == OIC_BEARER_NONE
             || rc == OIC_BEARER_MALFORMED);

    /* oic_bearer_locate: the same answer and place, except OK where the
       token's characters (or a second token) made parse refuse */
    lrc = oic_bearer_locate((const char *) data, size, &loff, &llen);
    if (rc == OIC_BEARER_OK) {
        FZ_CHECK(lrc == OIC_BEARER_OK && loff == off && llen == len);
    } else if (rc == OIC_BEARER_NONE) {
        FZ_CHECK(lrc == OIC_BEARER_NONE);
    } else {
        FZ_CHECK(lrc == OIC_BEARER_MALFORMED || lrc == OIC_BEARER_OK);
    }
    if (lrc == OIC_BEARER_OK) {
        FZ_CHECK(loff <= size && llen > 0 && llen <= size - loff);
    }
    if (rc != OIC_BEARER_OK) return 0;

    FZ_CHECK(off <= size && len > 0 && len <= size - off);
    FZ_CHECK(off >= 7);      /* after "Bearer " */
    FZ_CHECK(fz_is_b64token((const char *) data + off, len));
    return 0;
}
