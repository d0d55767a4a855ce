/* f32_gemm_6x8_neon.c - sgemm micro-kernel for 32-bit ARM NEON (Bela's
 * Cortex-A8), 6 x 8 tile: 12 q-register accumulators, A's six floats in
 * three d registers and B's eight in two q registers per k step, 12
 * vmla.f32 by a lane of A: 15.5 of the 16 q registers. Contract in
 * gemm_ukernel.h.
 *
 * Each k step is two post-incremented loads, because an armv7 vld1 has no
 * offset and every other address would cost an add: vld3.32 brings A's six
 * floats as {a0 a3} {a1 a4} {a2 a5}, and vld2.32 B's eight split into the
 * even and the odd columns, so the accumulators hold the tile's columns in
 * that order and vld2/vst2 put them back in place when they are added to
 * C. The loop is then 16 instructions for 48 multiply-adds. */
#include "../math/gemm_ukernel.h"

#if defined(__arm__) && defined(__ARM_NEON)
#include <arm_neon.h>

enum { MR = 6, NR = 8 };

/* row i of the tile, even and odd columns, += lane l of a times B */
#define ROW(i, a, l)                                                           \
    c##i##e = vmlaq_lane_f32(c##i##e, b.val[0], a, l);                         \
    c##i##o = vmlaq_lane_f32(c##i##o, b.val[1], a, l)

/* C[i][0..7] += the row's accumulators, interleaved again */
#define ADD_C(i)                                                               \
    do {                                                                       \
        float32x4x2_t t = vld2q_f32(C + i * ldc);                              \
        t.val[0] = vaddq_f32(t.val[0], c##i##e);                               \
        t.val[1] = vaddq_f32(t.val[1], c##i##o);                               \
        vst2q_f32(C + i * ldc, t);                                             \
    } while (0)

/* C (6, 8) += Ap (kc, 6)^T @ Bp (kc, 8) */
static void f32_gemm_6x8_neon(int kc, const float *restrict Ap,
                              const float *restrict Bp, float *restrict C,
                              long ldc)
{
    float32x4_t c0e = vdupq_n_f32(0), c0o = c0e, c1e = c0e, c1o = c0e;
    float32x4_t c2e = c0e, c2o = c0e, c3e = c0e, c3o = c0e;
    float32x4_t c4e = c0e, c4o = c0e, c5e = c0e, c5o = c0e;
    for (const float *end = Ap + MR * kc; Ap != end;) {
        const float32x2x3_t a = vld3_f32(Ap); /* {a0 a3} {a1 a4} {a2 a5} */
        const float32x4x2_t b = vld2q_f32(Bp);
        Ap += MR;
        Bp += NR;
        ROW(0, a.val[0], 0);
        ROW(1, a.val[1], 0);
        ROW(2, a.val[2], 0);
        ROW(3, a.val[0], 1);
        ROW(4, a.val[1], 1);
        ROW(5, a.val[2], 1);
    }
    ADD_C(0);
    ADD_C(1);
    ADD_C(2);
    ADD_C(3);
    ADD_C(4);
    ADD_C(5);
}

/* As in BLIS: a packed block of A (mc x kc, 60 KB) stays in the
 * Cortex-A8's 256 KB L2 and one micro-panel of B (kc x 8, 8 KB) in its
 * 32 KB L1 while the micro-kernel walks down A. nc only sets how often A
 * is packed again: once per 256 columns of C. */
const onyx_gemm_ukernel onyx_f32_gemm_6x8_neon = {
    "f32_gemm_6x8_neon", f32_gemm_6x8_neon, MR, NR, 256, 60, 256};

#endif
