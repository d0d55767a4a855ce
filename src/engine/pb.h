/* pb.h - a small, bounds-checked reader for the protobuf wire format.
 *
 * A pb_reader is a window [p, end) on borrowed bytes. Every read checks the
 * window first; on any malformed input the reader sets `bad` and the caller
 * stops. Nothing here allocates. */
#ifndef ONYX_PB_H
#define ONYX_PB_H

#include <stddef.h>
#include <stdint.h>

enum { PB_VARINT = 0, PB_FIXED64 = 1, PB_LEN = 2, PB_FIXED32 = 5 };

typedef struct pb_reader {
    const uint8_t *p, *end;
    int bad; /* 1 once malformed input was seen */
} pb_reader;

static inline pb_reader pb_open(const void *data, size_t len)
{
    pb_reader r;
    r.p = (const uint8_t *)data;
    r.end = r.p + len;
    r.bad = 0;
    return r;
}

static inline int pb_more(const pb_reader *r)
{
    return !r->bad && r->p < r->end;
}

/* Reads one varint (up to 10 bytes); sets bad on overrun or overlong. */
uint64_t pb_varint(pb_reader *r);
/* Reads the next field key; returns 0 at the end or on error. */
int pb_next(pb_reader *r, uint32_t *field, int *wire);
/* Reads a length-delimited payload as a sub-reader (checked against end). */
pb_reader pb_sub(pb_reader *r);
uint32_t pb_fixed32(pb_reader *r);
uint64_t pb_fixed64(pb_reader *r);
/* Skips a value of the given wire type; unknown wire types set bad. */
void pb_skip(pb_reader *r, int wire);
/* Reads a float from a fixed32 field. */
float pb_float(pb_reader *r);
double pb_double(pb_reader *r);

#endif
