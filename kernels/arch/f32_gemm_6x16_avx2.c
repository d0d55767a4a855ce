/* f32_gemm_6x16_avx2.c - sgemm micro-kernel for x86-64 AVX2 + FMA, 6 x 16
 * tile: 12 ymm accumulators, two of B and a broadcast of A per k step (15
 * of the 16 registers). Compiled for AVX2 by a function attribute; gemm.c
 * uses it only when the CPU has AVX2 and FMA. Contract in gemm_ukernel.h. */
#include "../math/gemm_ukernel.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

enum { MR = 6, NR = 16 };

/* C (6, 16) += Ap (kc, 6)^T @ Bp (kc, 16) */
__attribute__((target("avx2,fma"))) static void
f32_gemm_6x16_avx2(int kc, const float *restrict Ap, const float *restrict Bp,
                   float *restrict C, long ldc)
{
    __m256 acc[MR][2];
    for (int i = 0; i < MR; i++)
        acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    for (int p = 0; p < kc; p++, Ap += MR, Bp += NR) {
        const __m256 b0 = _mm256_loadu_ps(Bp), b1 = _mm256_loadu_ps(Bp + 8);
#pragma GCC unroll 12
        for (int i = 0; i < MR; i++) {
            const __m256 a = _mm256_broadcast_ss(Ap + i);
            acc[i][0] = _mm256_fmadd_ps(a, b0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(a, b1, acc[i][1]);
        }
    }
    for (int i = 0; i < MR; i++) {
        float *c = C + i * ldc;
        _mm256_storeu_ps(c, _mm256_add_ps(_mm256_loadu_ps(c), acc[i][0]));
        _mm256_storeu_ps(c + 8,
                         _mm256_add_ps(_mm256_loadu_ps(c + 8), acc[i][1]));
    }
}

const onyx_gemm_ukernel onyx_f32_gemm_6x16_avx2 = {
    "f32_gemm_6x16_avx2", f32_gemm_6x16_avx2, MR, NR, 256, 72, 256};

#endif
