/* f32_gemm_8x8_neonfma.c - sgemm micro-kernel for AArch64 Advanced SIMD
 * (Bela Gem's Cortex-A53), 8 x 8 tile: 16 accumulators, two registers of A
 * and two of B per k step, 16 fmla by a lane of A (20 of the 32 vector
 * registers). Contract in gemm_ukernel.h. */
#include "../math/gemm_ukernel.h"

#if defined(__aarch64__)
#include <arm_neon.h>

enum { MR = 8, NR = 8 };

/* row i of the tile: c{i}0, c{i}1 += lane l of A register a times B */
#define ROW(i, a, l)                                                           \
    c##i##0 = vfmaq_laneq_f32(c##i##0, b0, a, l);                              \
    c##i##1 = vfmaq_laneq_f32(c##i##1, b1, a, l)

/* one k step: the 8 x 8 outer product of Ap[0..7] and Bp[0..7], then the
 * panels' next step */
#define STEP()                                                                 \
    do {                                                                       \
        const float32x4_t a0 = vld1q_f32(Ap), a1 = vld1q_f32(Ap + 4);          \
        const float32x4_t b0 = vld1q_f32(Bp), b1 = vld1q_f32(Bp + 4);          \
        ROW(0, a0, 0);                                                         \
        ROW(1, a0, 1);                                                         \
        ROW(2, a0, 2);                                                         \
        ROW(3, a0, 3);                                                         \
        ROW(4, a1, 0);                                                         \
        ROW(5, a1, 1);                                                         \
        ROW(6, a1, 2);                                                         \
        ROW(7, a1, 3);                                                         \
        Ap += MR, Bp += NR;                                                    \
    } while (0)

/* C[i][4h .. 4h+3] += c{i}{h} */
#define ADD_C(i, h)                                                            \
    vst1q_f32(C + i * ldc + 4 * h,                                             \
              vaddq_f32(vld1q_f32(C + i * ldc + 4 * h), c##i##h))

/* C (8, 8) += Ap (kc, 8)^T @ Bp (kc, 8); four steps per loop pass */
static void f32_gemm_8x8_neonfma(int kc, const float *restrict Ap,
                                 const float *restrict Bp, float *restrict C,
                                 long ldc)
{
    float32x4_t c00 = vdupq_n_f32(0), c01 = c00, c10 = c00, c11 = c00;
    float32x4_t c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    float32x4_t c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    float32x4_t c60 = c00, c61 = c00, c70 = c00, c71 = c00;
    int p = kc;
    for (; p >= 4; p -= 4) {
        STEP();
        STEP();
        STEP();
        STEP();
    }
    for (; p > 0; p--)
        STEP();
    ADD_C(0, 0), ADD_C(0, 1), ADD_C(1, 0), ADD_C(1, 1);
    ADD_C(2, 0), ADD_C(2, 1), ADD_C(3, 0), ADD_C(3, 1);
    ADD_C(4, 0), ADD_C(4, 1), ADD_C(5, 0), ADD_C(5, 1);
    ADD_C(6, 0), ADD_C(6, 1), ADD_C(7, 0), ADD_C(7, 1);
}

/* As in BLIS: a packed block of A (mc x kc, 64 KB) stays in the
 * Cortex-A53's L2 and one micro-panel of B (kc x 8, 8 KB) in its L1 while
 * the micro-kernel walks down A; nc only sets how often A is packed again. */
const onyx_gemm_ukernel onyx_f32_gemm_8x8_neonfma = {
    "f32_gemm_8x8_neonfma", f32_gemm_8x8_neonfma, MR, NR, 256, 64, 256};

#endif
