/* f32_gemm_4x8_neon.c - sgemm micro-kernel for 32-bit ARM NEON (Bela's
 * Cortex-A8), 4 x 8 tile: 8 q-register accumulators, one q register of A and
 * two of B per k step, 8 vmla.f32 by a lane of A (16 q registers in all).
 * Contract in gemm_ukernel.h.
 *
 * B's eight floats of a k step come in with one vld2.32 (post-incremented,
 * where two vld1.32 would cost an address computation each): it splits
 * them into the even and the odd columns, so the accumulators hold the
 * tile's columns in that order, and vld2/vst2 put them back in place when
 * they are added to C. */
#include "gemm_ukernel.h"

#if defined(__arm__) && defined(__ARM_NEON)
#include <arm_neon.h>

enum { MR = 4, NR = 8 };

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

/* C (4, 8) += Ap (kc, 4)^T @ Bp (kc, 8) */
static void f32_gemm_4x8_neon(int kc, const float *restrict Ap,
                              const float *restrict Bp, float *restrict C,
                              long ldc)
{
    float32x4_t c0e = vdupq_n_f32(0), c0o = c0e, c1e = c0e, c1o = c0e;
    float32x4_t c2e = c0e, c2o = c0e, c3e = c0e, c3o = c0e;
    for (const float *end = Ap + MR * kc; Ap != end;) {
        const float32x4_t a = vld1q_f32(Ap);
        const float32x4x2_t b = vld2q_f32(Bp);
        const float32x2_t alo = vget_low_f32(a), ahi = vget_high_f32(a);
        Ap += MR;
        Bp += NR;
        ROW(0, alo, 0);
        ROW(1, alo, 1);
        ROW(2, ahi, 0);
        ROW(3, ahi, 1);
    }
    ADD_C(0);
    ADD_C(1);
    ADD_C(2);
    ADD_C(3);
}

/* kc x nc of B (128 KB) within the Cortex-A8's 256 KB L2 */
const onyx_gemm_ukernel onyx_f32_gemm_4x8_neon = {
    "f32_gemm_4x8_neon", f32_gemm_4x8_neon, MR, NR, 256, 64, 128};

#endif
