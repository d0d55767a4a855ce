/* f32_gemm_12x32_avx512.c - sgemm micro-kernel for x86-64 AVX-512F, 12 x 32
 * tile: 24 zmm accumulators, two of B and a broadcast of A per k step (27
 * of the 32 registers). Compiled for AVX-512 by a function attribute;
 * gemm.c uses it only when the CPU has AVX-512F. Contract in
 * gemm_ukernel.h. */
#include "../math/gemm_ukernel.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

enum { MR = 12, NR = 32 };

/* C (12, 32) += Ap (kc, 12)^T @ Bp (kc, 32) */
__attribute__((target("avx512f"))) static void
f32_gemm_12x32_avx512(int kc, const float *restrict Ap,
                      const float *restrict Bp, float *restrict C, long ldc)
{
    __m512 acc[MR][2];
    for (int i = 0; i < MR; i++)
        acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (int p = 0; p < kc; p++, Ap += MR, Bp += NR) {
        const __m512 b0 = _mm512_loadu_ps(Bp), b1 = _mm512_loadu_ps(Bp + 16);
#pragma GCC unroll 12
        for (int i = 0; i < MR; i++) {
            const __m512 a = _mm512_set1_ps(Ap[i]);
            acc[i][0] = _mm512_fmadd_ps(a, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(a, b1, acc[i][1]);
        }
    }
    for (int i = 0; i < MR; i++) {
        float *c = C + i * ldc;
        _mm512_storeu_ps(c, _mm512_add_ps(_mm512_loadu_ps(c), acc[i][0]));
        _mm512_storeu_ps(c + 16,
                         _mm512_add_ps(_mm512_loadu_ps(c + 16), acc[i][1]));
    }
}

const onyx_gemm_ukernel onyx_f32_gemm_12x32_avx512 = {
    "f32_gemm_12x32_avx512", f32_gemm_12x32_avx512, MR, NR, 256, 96, 256};

#endif
