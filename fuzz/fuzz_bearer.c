/*
 * libFuzzer target: an Authorization header value through oic_bearer_parse().
 * A token it finds lies inside the header and is a b64token (RFC 6750 2.1).
 */
#include "fuzz.h"

#include "oic_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t           off = (size_t) -1, len = (size_t) -1;
    oic_bearer_rc_t  rc;

    rc = oic_bearer_parse((const char *) data, size, &off, &len);
    FZ_CHECK(rc == OIC_BEARER_OK || rc == OIC_BEARER_NONE
             || rc == OIC_BEARER_MALFORMED);
    if (rc != OIC_BEARER_OK) return 0;

    FZ_CHECK(off <= size && len > 0 && len <= size - off);
    FZ_CHECK(off >= 7);      /* after "Bearer " */
    FZ_CHECK(fz_is_b64token((const char *) data + off, len));
    return 0;
}
