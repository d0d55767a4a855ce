/* quant.h - what the quantized ops share: rounding to the nearest integer
 * (halves to even) with saturation, and how a scale or zero point tensor
 * applies to its data (one value for the whole tensor, or one per index
 * along an axis). */
#ifndef ONYX_QUANT_H
#define ONYX_QUANT_H

#include "../onyx_kernel.h"

/* The 8-bit element types of quantized data. */
#define QUANT_8BIT (ONYX_MASK(ONYX_UINT8) | ONYX_MASK(ONYX_INT8))

/* The range of a quantized dtype (uint8 or int8). */
static inline int32_t quant_lo(onyx_dtype t)
{
    return t == ONYX_INT8 ? -128 : 0;
}
static inline int32_t quant_hi(onyx_dtype t)
{
    return t == ONYX_INT8 ? 127 : 255;
}

/* For a function that divides by a loop-invariant value and must get the
 * correctly rounded quotient (x / scale at a .5 boundary decides a rounding):
 * under the -funsafe-math-optimizations of the 32-bit ARM build GCC turns
 * such divisions into products with the reciprocal, even with
 * -fno-reciprocal-math, which moves quotients by an ulp. */
#if defined(__GNUC__) && !defined(__clang__)
#define QUANT_EXACT_DIV                                                        \
    __attribute__((optimize("no-unsafe-math-optimizations")))
#else
#define QUANT_EXACT_DIV
#endif

/* round(v) + z clamped to [lo, hi], round taking halves to even (the
 * default rounding mode); NaN gives lo. z is an integer, added after the
 * rounding (adding it first could round v + z in float). v is clamped first
 * so that |v| < 2^22, where adding 1.5 * 2^23 leaves exactly the integer
 * part in the float's low bits: no libm call, and loops of it vectorise. */
static inline __attribute__((always_inline)) int32_t
quant_round_sat(float v, float z, float lo, float hi)
{
    const float vlo = lo - z - 1, vhi = hi - z + 1;
    v = v > vlo ? v : vlo; /* NaN fails the test: vlo, then lo */
    v = v < vhi ? v : vhi;
    float r = ((v + 12582912.0f) - 12582912.0f) + z;
    r = r > lo ? r : lo;
    r = r < hi ? r : hi;
    return (int32_t)r;
}

/* Element k of an 8-bit or int32 zero point tensor, as int32. */
static inline int32_t quant_zp_at(const onyx_tensor *z, int64_t k)
{
    switch (z->dtype) {
    case ONYX_UINT8: return ((const uint8_t *)z->data)[k];
    case ONYX_INT8: return ((const int8_t *)z->data)[k];
    default: return ((const int32_t *)z->data)[k];
    }
}

/* How a scale (or zero point) tensor q applies to data of n values along
 * the axis it follows: returns 1 when q holds one value for everything
 * (rank 0, or one element of rank 1), n when it holds one per index (rank 1
 * of n elements), and 0 when it is neither. */
static inline int64_t quant_count(const onyx_tensor *q, int64_t n)
{
    if (q->rank == 0 || (q->rank == 1 && q->dims[0] == 1)) return 1;
    if (q->rank == 1 && q->dims[0] == n) return n;
    return 0;
}

#endif
