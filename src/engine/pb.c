/* pb.c - protobuf wire-format primitives; see pb.h. */
#include "pb.h"

#include <string.h>

uint64_t pb_varint(pb_reader *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (r->p >= r->end) {
            r->bad = 1;
            return 0;
        }
        uint8_t b = *r->p++;
        if (shift == 63 && (b & 0x7e)) { /* more than 64 bits */
            r->bad = 1;
            return 0;
        }
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return v;
    }
    r->bad = 1;
    return 0;
}

int pb_next(pb_reader *r, uint32_t *field, int *wire)
{
    if (!pb_more(r)) return 0;
    uint64_t key = pb_varint(r);
    if (r->bad) return 0;
    *field = (uint32_t)(key >> 3);
    *wire = (int)(key & 7);
    if (*field == 0 || key >> 32) {
        r->bad = 1;
        return 0;
    }
    return 1;
}

pb_reader pb_sub(pb_reader *r)
{
    pb_reader s = pb_open(r->p, 0);
    uint64_t len = pb_varint(r);
    if (r->bad || len > (uint64_t)(r->end - r->p)) {
        r->bad = 1;
        s.bad = 1;
        return s;
    }
    s.p = r->p;
    s.end = r->p + len;
    r->p += len;
    return s;
}

uint32_t pb_fixed32(pb_reader *r)
{
    if (r->end - r->p < 4) {
        r->bad = 1;
        return 0;
    }
    uint32_t v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 |
                 (uint32_t)r->p[2] << 16 | (uint32_t)r->p[3] << 24;
    r->p += 4;
    return v;
}

uint64_t pb_fixed64(pb_reader *r)
{
    uint64_t lo = pb_fixed32(r);
    uint64_t hi = pb_fixed32(r);
    return lo | hi << 32;
}

float pb_float(pb_reader *r)
{
    uint32_t u = pb_fixed32(r);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

double pb_double(pb_reader *r)
{
    uint64_t u = pb_fixed64(r);
    double d;
    memcpy(&d, &u, 8);
    return d;
}

void pb_skip(pb_reader *r, int wire)
{
    switch (wire) {
    case PB_VARINT: (void)pb_varint(r); break;
    case PB_FIXED64: (void)pb_fixed64(r); break;
    case PB_FIXED32: (void)pb_fixed32(r); break;
    case PB_LEN: (void)pb_sub(r); break;
    default: r->bad = 1; /* groups (3, 4) and 6, 7 are not valid here */
    }
}
