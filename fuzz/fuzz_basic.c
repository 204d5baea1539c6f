/*
 * libFuzzer target: an Authorization header value through oic_basic_parse()
 * and oic_basic_parse_into() (the same answer and strings, in the buffer).
 * What it parses must survive the way back: oic_form_encode() of each part,
 * oic_basic_header() and a second oic_basic_parse() give the same client id
 * and secret (when the re-encoded pair still fits the 4096-byte limit), and
 * the cache key of the pair, and its memo tag (oic_siphash), are computed as
 * the glue does; the pair back from the way back has the same tag.
 */
#include "fuzz.h"

#include "oic_auth.h"

#define MAX_DECODED 4096    /* "id:secret" after base64, as in src/basic.cpp */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    oic_basic_creds_t  c, back;
    oic_basic_rc_t     rc;
    unsigned char      key[OIC_KEY_LEN];
    char               hex[2 * OIC_KEY_LEN + 1];
    char              *id_enc, *secret_enc, *hdr;
    oic_str_t          fields[2];
    uint64_t           tag, back_tag;
    static const unsigned char sip_key[OIC_SIPHASH_KEY_LEN] = "fuzz memo key..";

    oic_basic_creds_t  in;
    oic_basic_rc_t     irc;
    char              *buf;

    rc = oic_basic_parse((const char *) data, size, &c);
    FZ_CHECK(rc == OIC_BASIC_OK || rc == OIC_BASIC_NONE
             || rc == OIC_BASIC_MALFORMED);

    /* oic_basic_parse_into, with the len bytes that are always enough: the
       same answer, the same strings, inside buf */
    buf = malloc(size ? size : 1);
    FZ_CHECK(buf != NULL);
    irc = oic_basic_parse_into((const char *) data, size, buf, size, &in);
    FZ_CHECK(irc == rc);
    if (rc == OIC_BASIC_OK) {
        FZ_CHECK(in.client_id >= buf && in.client_id < buf + size);
        FZ_CHECK(in.secret >= buf && in.secret < buf + size);
        FZ_CHECK(in.client_id_len == c.client_id_len
                 && memcmp(in.client_id, c.client_id, c.client_id_len) == 0
                 && in.client_id[in.client_id_len] == '\0');
        FZ_CHECK(in.secret_len == c.secret_len
                 && memcmp(in.secret, c.secret, c.secret_len) == 0
                 && in.secret[in.secret_len] == '\0');
    }
    free(buf);

    if (rc != OIC_BASIC_OK) {
        FZ_CHECK(c.client_id == NULL && c.secret == NULL);
        return 0;
    }

    /* decoded parts: a non-empty id, no control bytes, NUL-terminated */
    FZ_CHECK(c.client_id != NULL && c.secret != NULL);
    FZ_CHECK(c.client_id_len > 0 && c.client_id_len == strlen(c.client_id));
    FZ_CHECK(c.secret_len == strlen(c.secret));
    FZ_CHECK(c.client_id_len + 1 + c.secret_len <= MAX_DECODED);
    for (size_t i = 0; i < c.client_id_len; i++)
        FZ_CHECK((unsigned char) c.client_id[i] >= 0x20
                 && c.client_id[i] != 0x7f);
    for (size_t i = 0; i < c.secret_len; i++)
        FZ_CHECK((unsigned char) c.secret[i] >= 0x20 && c.secret[i] != 0x7f);

    fields[0].data = c.client_id;
    fields[0].len = c.client_id_len;
    fields[1].data = c.secret;
    fields[1].len = c.secret_len;
    oic_cache_key("basic", fields, 2, key);
    oic_hex(key, sizeof(key), hex);
    FZ_CHECK(strlen(hex) == 2 * OIC_KEY_LEN);

    /* the worker's memo tag of the pair (ngx_http_oic_auth_basic.c) */
    FZ_CHECK(oic_siphash(sip_key, "basic", fields, 2, &tag) == 0);

    /* the way back */
    id_enc = oic_form_encode(c.client_id, c.client_id_len);
    secret_enc = oic_form_encode(c.secret, c.secret_len);
    hdr = oic_basic_header(c.client_id, c.client_id_len, c.secret,
                           c.secret_len);
    FZ_CHECK(id_enc != NULL && secret_enc != NULL && hdr != NULL);
    /* RFC 6749 App. B: unreserved bytes, '+' for space, %XX for the rest */
    for (const char *p = id_enc; *p; p++)
        FZ_CHECK(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                        "0123456789-._*+%", *p) != NULL);

    rc = oic_basic_parse(hdr, strlen(hdr), &back);
    if (strlen(id_enc) + 1 + strlen(secret_enc) <= MAX_DECODED) {
        FZ_CHECK(rc == OIC_BASIC_OK);
        FZ_CHECK(back.client_id_len == c.client_id_len
                 && memcmp(back.client_id, c.client_id, c.client_id_len) == 0);
        FZ_CHECK(back.secret_len == c.secret_len
                 && memcmp(back.secret, c.secret, c.secret_len) == 0);
        /* the same pair, however encoded: the same memo tag */
        fields[0].data = back.client_id;
        fields[1].data = back.secret;
        FZ_CHECK(oic_siphash(sip_key, "basic", fields, 2, &back_tag) == 0
                 && back_tag == tag);
    } else {
        FZ_CHECK(rc == OIC_BASIC_MALFORMED);
    }

    oic_basic_creds_free(&back);
    oic_free(id_enc);
    oic_free(secret_enc);
    oic_free(hdr);
    oic_basic_creds_free(&c);
    FZ_CHECK(c.client_id == NULL && c.secret == NULL);
    return 0;
}
