/* f32_gemm_4x8_portable.c - the portable sgemm micro-kernel, 4 x 8 tile, in
 * GNU C vectors of 4 floats (SSE on x86-64, NEON on ARM, plain C elsewhere):
 * the reference every ISA's micro-kernel is tested against, and the one
 * used where none fits. Contract in gemm_ukernel.h. */
#include "../math/gemm_ukernel.h"

#include <string.h>

enum { MR = 4, NR = 8, NV = NR / 4 };

typedef float v4 __attribute__((vector_size(16)));

/* The hot loop gets -O3 (-O2 leaves loops of unknown length scalar). On
 * 32-bit ARM, GCC only maps float vectors to NEON under unsafe-math (NEON
 * flushes denormals): fine for a GEMM. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__arm__)
__attribute__((optimize("O3", "unsafe-math-optimizations")))
#elif defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("O3")))
#endif
static void
f32_gemm_4x8_portable(int kc, const float *restrict Ap,
                      const float *restrict Bp, float *restrict C, long ldc)
{
    v4 acc[MR][NV];
    for (int i = 0; i < MR; i++)
        for (int v = 0; v < NV; v++)
            acc[i][v] = (v4){0, 0, 0, 0};
    for (int p = 0; p < kc; p++, Ap += MR, Bp += NR) {
        v4 b[NV];
        memcpy(b, Bp, sizeof b);
        for (int i = 0; i < MR; i++) {
            const v4 a = {Ap[i], Ap[i], Ap[i], Ap[i]};
            for (int v = 0; v < NV; v++)
                acc[i][v] += a * b[v];
        }
    }
    for (int i = 0; i < MR; i++) {
        float *c = C + i * ldc;
        for (int v = 0; v < NV; v++) {
            v4 t;
            memcpy(&t, c + 4 * v, sizeof t);
            t += acc[i][v];
            memcpy(c + 4 * v, &t, sizeof t);
        }
    }
}

const onyx_gemm_ukernel onyx_f32_gemm_4x8_portable = {
    "f32_gemm_4x8_portable", f32_gemm_4x8_portable, MR, NR, 256, 64, 128};
