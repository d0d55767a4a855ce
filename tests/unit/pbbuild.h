/* pbbuild.h - build protobuf byte strings by hand, for the unit tests that
 * feed the reader and the loader (test_engine.c, test_resolve.c).
 *
 *   bytes b = {{0}, 0};
 *   put_str(&b, 1, "X");        field 1, length-delimited "X"
 *   put_int(&b, 2, 300);        field 2, varint 300
 *   put_ld(&outer, 7, &b);      b as field 7 of outer
 */
#ifndef ONYX_PBBUILD_H
#define ONYX_PBBUILD_H

#include "../../src/engine/pb.h"

#include <check.h>
#include <stdint.h>
#include <string.h>

typedef struct bytes {
    unsigned char b[4096];
    size_t n;
} bytes;

static inline void put(bytes *o, const void *p, size_t n)
{
    ck_assert(o->n + n <= sizeof o->b);
    memcpy(o->b + o->n, p, n);
    o->n += n;
}
static inline void put_varint(bytes *o, uint64_t v)
{
    do {
        unsigned char c = v & 0x7f;
        v >>= 7;
        if (v) c |= 0x80;
        put(o, &c, 1);
    } while (v);
}
static inline void put_key(bytes *o, unsigned field, int wire)
{
    put_varint(o, (uint64_t)field << 3 | (unsigned)wire);
}
static inline void put_int(bytes *o, unsigned field, uint64_t v)
{
    put_key(o, field, PB_VARINT);
    put_varint(o, v);
}
static inline void put_ld(bytes *o, unsigned field, const bytes *payload)
{
    put_key(o, field, PB_LEN);
    put_varint(o, payload->n);
    put(o, payload->b, payload->n);
}
static inline void put_str(bytes *o, unsigned field, const char *s)
{
    put_key(o, field, PB_LEN);
    put_varint(o, strlen(s));
    put(o, s, strlen(s));
}

#endif
