/*
 * Shared bits of the libFuzzer targets in fuzz/: an invariant check that
 * aborts (libFuzzer then saves the input as a crash), and the checks every
 * target makes on the strings the C API hands back.
 */
#ifndef OIC_FUZZ_H
#define OIC_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FZ_CHECK(c)                                                         \
    do {                                                                    \
        if (!(c)) {                                                         \
            fprintf(stderr, "invariant broken: %s (%s:%d)\n", #c, __FILE__, \
                    __LINE__);                                              \
            abort();                                                        \
        }                                                                   \
    } while (0)

/* err/reason buffers: NUL-terminated inside their size. */
static inline void fz_check_buf(const char *buf, size_t size)
{
    FZ_CHECK(memchr(buf, '\0', size) != NULL);
}

/* A copy of data as a NUL-terminated string (inputs are not terminated). */
static inline char *fz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    FZ_CHECK(s != NULL);
    if (size) memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* RFC 6750 b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
static inline int fz_is_b64token(const char *t, size_t n)
{
    size_t i = 0;
    while (i < n && (((t[i] | 32) >= 'a' && (t[i] | 32) <= 'z')
                     || (t[i] >= '0' && t[i] <= '9')
                     || strchr("-._~+/", t[i]) != NULL) && t[i] != '\0')
        i++;
    if (i == 0) return 0;
    while (i < n && t[i] == '=') i++;
    return i == n;
}

#endif /* OIC_FUZZ_H */
