/* vmath.h - four-lane float vectors (GNU C vector extensions) and the
 * vectorised float math the kernels share: e^x, e^x - 1, tanh, sigmoid, erf,
 * sin, cos, log.
 *
 * v4f holds 4 floats and v4i 4 int32s. The compiler maps them to SSE on
 * x86-64 and NEON on ARM, so code written with them is vectorised at -O2
 * without relying on the auto-vectoriser. Loads and stores go through
 * memcpy, so pointers need no alignment.
 *
 * Every function is written once, on the lane types VF / VI with names made
 * by V_(), and a file gets it in one of two widths:
 *   - 4 lanes (the default): v4f, v4i, v4_load, v4_exp, v4_tanh, ...
 *   - 1 lane, when the file defines VMATH_LANES as 1 before including this
 *     header: plain float and int32_t, v1_exp, v1_tanh, ..., for loops of
 *     one element a step that the auto-vectoriser widens to what the target
 *     has. unary.c does so, because its loops are also built for AVX2 (8
 *     lanes) and v4f code would stay at 4 there.
 *
 * The math is branch-free (every lane computes every path and a select
 * keeps one), makes no libm calls and takes NaN to NaN. Polynomials are
 * least-squares fits (near minimax). Each function gives its largest error
 * against double-precision libm, measured over every 31st float of the
 * whole range on x86-64 (results below FLT_MIN are not counted: they flush
 * to 0); both widths give the same bits. On 32-bit ARM NEON the 4-lane div
 * is a reciprocal estimate (see there), which adds up to about 2e-7
 * relative error to tanh and sigmoid. */
#ifndef ONYX_VMATH_H
#define ONYX_VMATH_H

#include <stdint.h>
#include <string.h>
#if defined(__ARM_NEON) && !defined(__aarch64__)
#include <arm_neon.h>
#endif
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#ifndef VMATH_LANES
#define VMATH_LANES 4
#endif

#if VMATH_LANES == 4
typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));
typedef uint32_t v4u __attribute__((vector_size(16)));
#define VF       v4f
#define VI       v4i
#define VU       v4u
#define V_(name) v4_##name
#elif VMATH_LANES == 1
#define VF       float
#define VI       int32_t
#define VU       uint32_t
#define V_(name) v1_##name
#else
#error "VMATH_LANES must be 4 or 1"
#endif

/* ---- loads, stores, lane-wise basics ---- */

static inline VF V_(set1)(float a)
{
#if VMATH_LANES == 4
    return (VF){a, a, a, a};
#else
    return a;
#endif
}

static inline VF V_(load)(const float *p)
{
    VF v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void V_(store)(float *p, VF v)
{
    memcpy(p, &v, sizeof v);
}

/* the first n (1..VMATH_LANES) lanes of p; the rest are 0 */
static inline VF V_(load_n)(const float *p, int n)
{
    if (n == VMATH_LANES) return V_(load)(p);
    VF v = V_(set1)(0.0f);
    memcpy(&v, p, (size_t)n * sizeof(float));
    return v;
}

/* the first n (1..VMATH_LANES) lanes of v into p */
static inline void V_(store_n)(float *p, VF v, int n)
{
    if (n == VMATH_LANES)
        V_(store)(p, v);
    else
        memcpy(p, &v, (size_t)n * sizeof(float));
}

#if VMATH_LANES == 4
#if defined(__clang__)
#define VMATH_SHUF(a, b, i, j, k, l) __builtin_shufflevector(a, b, i, j, k, l)
#else
#define VMATH_SHUF(a, b, i, j, k, l) __builtin_shuffle(a, b, (v4i){i, j, k, l})
#endif
/* the 4x4 matrix with rows a, b, c, d transposed in place */
static inline void v4_transpose(v4f *a, v4f *b, v4f *c, v4f *d)
{
    v4f t0 = VMATH_SHUF(*a, *b, 0, 4, 1, 5),
        t1 = VMATH_SHUF(*a, *b, 2, 6, 3, 7);
    v4f t2 = VMATH_SHUF(*c, *d, 0, 4, 1, 5),
        t3 = VMATH_SHUF(*c, *d, 2, 6, 3, 7);
    *a = VMATH_SHUF(t0, t2, 0, 1, 4, 5);
    *b = VMATH_SHUF(t0, t2, 2, 3, 6, 7);
    *c = VMATH_SHUF(t1, t3, 0, 1, 4, 5);
    *d = VMATH_SHUF(t1, t3, 2, 3, 6, 7);
}

/* (v0 + v1) + (v2 + v3) */
static inline float V_(sum)(VF v)
{
    return (v[0] + v[1]) + (v[2] + v[3]);
}
#endif

/* the bits of a float lane as an int32 lane, and back */
static inline VI V_(bits)(VF a)
{
    VI i;
    memcpy(&i, &a, sizeof i);
    return i;
}
static inline VF V_(from_bits)(VI i)
{
    VF a;
    memcpy(&a, &i, sizeof a);
    return a;
}

/* lane-wise c ? a : b, c the result of a comparison (all ones or 0 in a
 * vector lane, 1 or 0 for one lane) */
static inline VF V_(select)(VI c, VF a, VF b)
{
#if VMATH_LANES == 4
    return (VF)((VI)b ^ (((VI)a ^ (VI)b) & c));
#else
    return c ? a : b;
#endif
}

/* lane-wise a < b ? a : b and a > b ? a : b: where either lane is NaN the
 * result is b's lane (as x86's minps and maxps, which they compile to) */
static inline VF V_(min)(VF a, VF b)
{
#if VMATH_LANES == 4 && defined(__SSE__)
    return (VF)_mm_min_ps((__m128)a, (__m128)b);
#else
    return V_(select)(a < b, a, b);
#endif
}
static inline VF V_(max)(VF a, VF b)
{
#if VMATH_LANES == 4 && defined(__SSE__)
    return (VF)_mm_max_ps((__m128)a, (__m128)b);
#else
    return V_(select)(a > b, a, b);
#endif
}

/* a comparison's result as all ones (-1) or 0 in every width (a one-lane
 * comparison gives 1 or 0) */
static inline VI V_(mask)(VI c)
{
#if VMATH_LANES == 4
    return c;
#else
    return -c;
#endif
}

/* int32 lanes to float */
static inline VF V_(cvt)(VI i)
{
#if VMATH_LANES == 4
    return __builtin_convertvector(i, VF);
#else
    return (float)i;
#endif
}

static inline VF V_(abs)(VF a)
{
    return V_(from_bits)(V_(bits)(a) & 0x7fffffff);
}

/* a, which must be >= 0, with the sign of s */
static inline VF V_(with_sign)(VF a, VF s)
{
    return V_(from_bits)(V_(bits)(a) | (V_(bits)(s) & INT32_MIN));
}

/* a / b for b >= 1, or b = +inf (giving 0): all the math below needs.
 * 32-bit ARM NEON has no vector division (the compiler would fall back to
 * four VFP divides, slow on the Cortex-A8): there it is a reciprocal
 * estimate refined by two Newton steps, ~2e-7 relative. */
static inline VF V_(div)(VF a, VF b)
{
#if VMATH_LANES == 4 && defined(__ARM_NEON) && !defined(__aarch64__)
    float32x4_t bb = (float32x4_t)b, r = vrecpeq_f32(bb);
    r = vmulq_f32(r, vrecpsq_f32(bb, r));
    r = vmulq_f32(r, vrecpsq_f32(bb, r));
    return a * (VF)r;
#else
    return a / b;
#endif
}

/* ---- e^x and e^x - 1 ---- */

/* The range reduction of the exponentials: x = n ln2 + r with |r| <= ln2/2
 * and n = round(x / ln2), for |x| < 2^22. Adding 1.5 * 2^23 rounds x / ln2
 * to an integer that lands in the low mantissa bits of t; ln2 is split in
 * two parts so that n * 0.693359375 is exact. Returns r, sets *n. */
static inline VF V_(exp_reduce)(VF x, VI *n)
{
    VF t = x * 1.44269504f + 12582912.0f;
    VF fn = t - 12582912.0f;
    /* in unsigned lanes: outside the range (a lane the caller throws away)
     * the difference wraps instead of overflowing */
    *n = (VI)((VU)V_(bits)(t) - 0x4B400000u);
    VF r = x - fn * 0.693359375f;
    return r + fn * 2.12194440e-4f;
}

/* e^r - 1 = r + r^2 q(r) for |r| <= ln2/2 (after exp_reduce), q of
 * degree 5 */
static inline VF V_(expm1_poly)(VF r)
{
    VF q = V_(set1)(1.99116432e-4f);
    q = q * r + 1.39355962e-3f;
    q = q * r + 8.33328068e-3f;
    q = q * r + 4.16664556e-2f;
    q = q * r + 0.166666672f;
    q = q * r + 0.5f;
    return (q * r) * r + r;
}

/* 2^n as a float for n in [-126, 127], built in the exponent bits (shifted
 * unsigned: the n of a lane whose result is thrown away may be anything) */
static inline VF V_(pow2i)(VI n)
{
    return V_(from_bits)((VI)((VU)(n + 127) << 23));
}

/* e^x for x in [-87.33, 88.37], where 2^n is a normal float; 0.95 ulp.
 * Range reduction x = n ln2 + r (exp_reduce), then (1 + expm1_poly(r)) 2^n.
 * For callers that bound x themselves. */
static inline VF V_(exp_core)(VF x)
{
    VI n;
    VF p = V_(expm1_poly)(V_(exp_reduce)(x, &n)) + 1.0f;
    return p * V_(pow2i)(n);
}

/* e^x, 0.95 ulp, for any x. As exp_core on x clamped to
 * [ln(FLT_MIN), ln(FLT_MAX)] = [-87.34, 88.72], with 2^n applied in two
 * halves so that 2^128 and 2^-126 stay within reach; below the clamp the
 * result is 0, above it +inf. */
static inline VF V_(exp)(VF x)
{
    const VF hi = V_(set1)(88.7228394f), lo = V_(set1)(-87.3365479f);
    /* a NaN x stays NaN through min and max with this order of arguments */
    VF xc = V_(max)(lo, V_(min)(hi, x));
    VI n;
    VF p = V_(expm1_poly)(V_(exp_reduce)(xc, &n)) + 1.0f;
    VI n1 = n >> 1;
    VF y = p * V_(pow2i)(n1) * V_(pow2i)(n - n1);
    y = V_(select)(x < lo, V_(set1)(0.0f), y);
    return V_(select)(x > hi, V_(set1)(__builtin_inff()), y);
}

/* e^x for x <= 0 (softmax), 0.95 ulp and the same values as exp
 * at less cost: exp_core, replaced by 0 below ln(FLT_MIN) = -87.34 (where
 * its n is out of range and its value meaningless). */
static inline VF V_(exp_neg)(VF x)
{
    VF y = V_(exp_core)(x);
    return V_(select)(x < -87.3365479f, V_(set1)(0.0f), y);
}

/* e^x - 1, 1.47 ulp, with no cancellation near 0. Range reduction as exp
 * (x clamped to [-87, 88.72]), e^r - 1 = expm1_poly(r) kept apart from
 * the 1, and 2^n in two halves as in exp:
 * e^x - 1 = (2^n1 (e^r - 1) + (2^n1 - 2^-n2)) 2^n2 with n1 + n2 = n, where
 * 2^n1 - 2^-n2 is exact while it matters and the scaling by 2^n2 is exact.
 * Near 0 (n = 0) that is e^r - 1 itself, even where denormals flush to 0.
 * Below -87 the result is -1, above ln(FLT_MAX) = 88.72 it is +inf. */
static inline VF V_(expm1)(VF x)
{
    const VF hi = V_(set1)(88.7228394f), lo = V_(set1)(-87.0f);
    VF xc = V_(max)(lo, V_(min)(hi, x));
    VI n;
    VF em = V_(expm1_poly)(V_(exp_reduce)(xc, &n));
    VI n1 = n >> 1, n2 = n - n1;
    VF s1 = V_(pow2i)(n1);
    VF y = (em * s1 + (s1 - V_(pow2i)(-n2))) * V_(pow2i)(n2);
    return V_(select)(x > hi, V_(set1)(__builtin_inff()), y);
}

/* ---- tanh, sigmoid, erf ---- */

/* tanh, 1.32 ulp. Below |x| = 0.625 an odd polynomial (x + x^3 q(x^2), q
 * of degree 4; no range reduction). Above, sign(x) (1 - 2 / (e^2|x| + 1))
 * with exp_core on 2|x| clamped at 19: tanh rounds to +-1 from |x| = 9.01
 * on. */
static inline VF V_(tanh)(VF x)
{
    VF z = x * x;
    VF q = V_(set1)(-5.70499059e-3f);
    q = q * z + 2.06390899e-2f;
    q = q * z - 5.37397154e-2f;
    q = q * z + 0.133314416f;
    q = q * z - 0.333332807f;
    VF small = (q * z) * x + x;
    VF a = V_(abs)(x);
    VF e = V_(exp_core)(2.0f * V_(min)(V_(set1)(9.5f), a));
    VF big = 1.0f - V_(div)(V_(set1)(2.0f), e + 1.0f);
    return V_(select)(a < 0.625f, small, V_(with_sign)(big, x));
}

/* sigmoid 1 / (1 + e^-x), 2.43 ulp. e^-x by exp_core on -x clamped at 88
 * above and replaced by 0 where x > ln(FLT_MAX) = 87.34 (there the result
 * rounds to 1). The result flushes to 0 below x = -87.34, where it is
 * under FLT_MIN. */
static inline VF V_(sigmoid)(VF x)
{
    const float lim = 87.3365479f;
    VF E = V_(exp_core)(V_(min)(V_(set1)(88.0f), -x));
    E = V_(select)(x > lim, V_(set1)(0.0f), E);
    VF y = V_(div)(V_(set1)(1.0f), 1.0f + E);
    return V_(select)(x < -lim, V_(set1)(0.0f), y);
}

/* erf, 3.14 ulp. Below |x| = 0.875 an odd polynomial (x p(x^2), p of
 * degree 6; no range reduction). Above, sign(x) (1 - e^R(u)) with R a
 * degree-9 fit of log(erfc(|x|)) in u = min(|x|, 4) - 2.4375 on [0.875, 4]
 * (erf rounds to +-1 beyond 4) and exp_core on R in [-18, -1.5]. */
static inline VF V_(erf)(VF x)
{
    VF z = x * x;
    VF q = V_(set1)(8.53898309e-5f);
    q = q * z - 8.18196509e-4f;
    q = q * z + 5.20443963e-3f;
    q = q * z - 2.68607549e-2f;
    q = q * z + 0.112837195f;
    q = q * z - 0.376126349f;
    q = q * z + 1.12837923f;
    VF small = q * x;
    VF a = V_(abs)(x);
    VF u = V_(min)(V_(set1)(4.0f), a) - 2.4375f; /* NaN stays NaN */
    VF r = V_(set1)(-7.44200168e-9f);
    r = r * u + 1.60649665e-6f;
    r = r * u - 1.40682378e-5f;
    r = r * u + 8.34246894e-5f;
    r = r * u - 4.50382417e-4f;
    r = r * u + 2.30106758e-3f;
    r = r * u - 1.14165274e-2f;
    r = r * u - 0.941805840f;
    r = r * u - 5.23482323f;
    r = r * u - 7.47595692f;
    VF big = 1.0f - V_(exp_core)(r);
    return V_(select)(a < 0.875f, small, V_(with_sign)(big, x));
}

/* ---- sin, cos ---- */

/* sin and cos reduce |x| up to this bound themselves; larger arguments are
 * handed back to the caller (see sin) */
#define VMATH_SINCOS_MAX 1.0e5f

/* h - p, with the rounding error of the subtraction added to *lo (exact
 * where |h| >= |p|, and where h - p is exact, as in every step of
 * sincos_reduce until r is reached) */
static inline VF V_(sub_err)(VF h, VF p, VF *lo)
{
    VF s = h - p;
    *lo = *lo + ((h - s) - p);
    return s;
}

/* The range reduction of sin and cos: |x| = j pi/2 + r with
 * j = round(|x| 2/pi) and |r| <= pi/4 (a hair more where |x| 2/pi rounds
 * the other way), for |x| <= VMATH_SINCOS_MAX, where j <= 2^16. r is
 * returned as r + *lo, within about 2^-53 of the true remainder: the float
 * closest to a multiple of pi/2 in range leaves |r| ~ 2^-28, and its sine
 * needs r to 24 bits from there.
 * Cody-Waite with pi/2 split in three parts of 8 significant bits, whose
 * products with j (16 bits) are exact: |x| - j p1 - j p2 is exact (Sterbenz
 * for the first step, and a result under 1 on the grid of j p2 for the
 * second). Then three more 8-bit parts and a last one of 24 (pi/2 to 2^-82)
 * take the rest, each subtraction's rounding error kept in *lo. */
static inline VF V_(sincos_reduce)(VF a, VI *j, VF *lo)
{
    VF t = a * 0.636619772f + 12582912.0f; /* round(a 2/pi) in low bits */
    VF fj = t - 12582912.0f;
    *j = V_(bits)(t) - 0x4B400000;
    VF r = a - fj * 1.5703125f;
    r = r - fj * 4.84466552734375e-4f;
    VF e = V_(set1)(0.0f);
    r = V_(sub_err)(r, fj * -6.407499313354492e-7f, &e);
    r = V_(sub_err)(r, fj * 9.89530235528946e-10f, &e);
    r = V_(sub_err)(r, fj * 2.5579538487363607e-12f, &e);
    *lo = e - fj * 5.390302953474238e-15f; /* the last two parts */
    return r;
}

/* sin(r + q pi/2) for r + lo from sincos_reduce: sin(r + lo) where bit 0 of
 * q is clear, cos(r + lo) where it is set, negated where bit 1 is set.
 * sin = r + r^3 p(r^2) + lo, cos = 1 - r^2/2 + r^4 c(r^2) - r lo, p and c
 * of degree 2 (Cephes' sinf and cosf). */
static inline VF V_(sincos_poly)(VF r, VF lo, VI q)
{
    VF z = r * r;
    VF s = V_(set1)(-1.9515295891e-4f);
    s = s * z + 8.3321608736e-3f;
    s = s * z - 1.6666654611e-1f;
    s = ((s * z) * r + lo) + r;
    VF c = V_(set1)(2.443315711809948e-5f);
    c = c * z - 1.388731625493765e-3f;
    c = c * z + 4.166664568298827e-2f;
    c = ((c * z) * z - (0.5f * z + r * lo)) + 1.0f;
    VF y = V_(select)((q & 1) != 0, c, s);
    return V_(from_bits)(V_(bits)(y) ^ ((VI)((VU)q << 30) & INT32_MIN));
}

/* sin x, 1.26 ulp for |x| <= VMATH_SINCOS_MAX (measured over every float
 * of [-1e4, 1e4]; 1.19 over every 97th of 1e4 < |x| <= 1e5), sin(-0) = -0:
 * range reduction by sincos_reduce on |x|, sincos_poly, and the sign of x.
 * A lane with a larger |x| (or +-inf) comes back as x itself, which no
 * sine equals, for the caller to recompute with libm's sinf (which reduces
 * any argument exactly, and gives NaN for +-inf); NaN gives NaN. */
static inline VF V_(sin)(VF x)
{
    VF a = V_(abs)(x), lo;
    VI j;
    VF r = V_(sincos_reduce)(a, &j, &lo);
    VF y = V_(sincos_poly)(r, lo, j);
    y = V_(from_bits)(V_(bits)(y) ^ (V_(bits)(x) & INT32_MIN));
    return V_(select)(a > VMATH_SINCOS_MAX, x, y);
}

/* cos x, 1.28 ulp for |x| <= VMATH_SINCOS_MAX (measured as sin): as sin,
 * with cos |x| = sin(r + (j + 1) pi/2). A larger |x| (or +-inf) comes back
 * as x, for libm's cosf; NaN gives NaN. */
static inline VF V_(cos)(VF x)
{
    VF a = V_(abs)(x), lo;
    VI j;
    VF r = V_(sincos_reduce)(a, &j, &lo);
    VF y = V_(sincos_poly)(r, lo, j + 1);
    return V_(select)(a > VMATH_SINCOS_MAX, x, y);
}

/* ---- log ---- */

/* log x, within 1 ulp of libm's logf for normal and subnormal x
 * (measured over every float of (0, +inf), see test_elementwise.c);
 * log 0 = -inf, log +inf = +inf, log x = NaN for x < 0 and NaN.
 * x = 2^e m with m in [sqrt(1/2), sqrt(2)), f = m - 1, and
 * log x = e ln2 + f - f^2/2 + f^3 p(f), p of degree 8 (Cephes' logf), ln2
 * in two parts so that e * 0.693359375 is exact. */
static inline VF V_(log)(VF x)
{
    /* subnormals: scale by 2^25 first */
    VI sub = V_(mask)(x < 1.17549435e-38f);
    VF xs = V_(select)(sub, x * 33554432.0f, x);
    VI b = V_(bits)(xs);
    VI e = ((b >> 23) & 0xff) - 127;
    e = e - (sub & 25);
    VF m = V_(from_bits)((b & 0x007fffff) | 0x3f800000); /* [1, 2) */
    VI big = V_(mask)(m > 1.41421356f);
    m = V_(select)(big, m * 0.5f, m);
    e = e - big; /* +1 where big (all ones is -1) */
    VF f = m - 1.0f, z = f * f;
    VF p = V_(set1)(7.0376836292e-2f);
    p = p * f - 1.1514610310e-1f;
    p = p * f + 1.1676998740e-1f;
    p = p * f - 1.2420140846e-1f;
    p = p * f + 1.4249322787e-1f;
    p = p * f - 1.6668057665e-1f;
    p = p * f + 2.0000714765e-1f;
    p = p * f - 2.4999993993e-1f;
    p = p * f + 3.3333331174e-1f;
    VF fe = V_(cvt)(e);
    VF y = (f * z) * p;
    y = y - fe * 2.12194440e-4f;
    y = y - 0.5f * z;
    y = (f + y) + fe * 0.693359375f;
    /* specials: NaN and x < 0 give NaN, 0 gives -inf, +inf gives +inf */
    y = V_(select)(x == 0.0f, V_(set1)(-__builtin_inff()), y);
    y = V_(select)(x == __builtin_inff(), x, y);
    return V_(select)(V_(mask)(x < 0.0f) | V_(mask)(x != x),
                      V_(set1)(__builtin_nanf("")), y);
}

#undef VF
#undef VI
#undef VU
#undef V_

#endif
