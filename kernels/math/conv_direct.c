/* conv_direct.c - the direct 1-D convolution (conv_direct.h): its
 * portable micro-kernel, the pick of one by the CPU, and the layouts the
 * kernels read (packed weights, tap offsets, phase rows). */
#include "conv_direct.h"

#include <string.h>

/* The portable micro-kernel, 4 channels x 3 vectors of 4 positions: GNU C
 * vectors of 4 floats, SSE on x86-64, NEON on ARM (12 of the 16 q
 * registers of armv7 hold sums). -O3 as elsewhere; on 32-bit ARM GCC maps
 * float vectors to NEON only under unsafe-math (NEON flushes subnormals). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__arm__)
#define CD_ATTR __attribute__((optimize("O3", "unsafe-math-optimizations")))
#elif defined(__GNUC__) && !defined(__clang__)
#define CD_ATTR __attribute__((optimize("O3")))
#else
#define CD_ATTR
#endif
#define CD_NAME onyx_conv_direct_f32_v4
#define CD_VL   4
#define CD_MR   4
#include "../arch/conv_direct_tmpl.h"

static const onyx_conv_direct_kernel cd_v4 = {"conv_direct_f32_v4",
                                              onyx_conv_direct_f32_v4, 4};
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
static const onyx_conv_direct_kernel cd_avx2 = {"conv_direct_f32_avx2",
                                                onyx_conv_direct_f32_avx2, 4};
static const onyx_conv_direct_kernel cd_avx512 = {
    "conv_direct_f32_avx512", onyx_conv_direct_f32_avx512, 8};
#define CD_X86 1
#else
#define CD_X86 0
#endif

int onyx_conv_direct_kernels(const onyx_conv_direct_kernel **list, int max)
{
    int n = 0;
    if (n < max) list[n++] = &cd_v4;
#if CD_X86
    __builtin_cpu_init();
    if (n < max && __builtin_cpu_supports("avx2") &&
        __builtin_cpu_supports("fma"))
        list[n++] = &cd_avx2;
    if (n < max && __builtin_cpu_supports("avx512f")) list[n++] = &cd_avx512;
#endif
    return n;
}

/* the last usable one: the widest (called from prepare, not eval) */
const onyx_conv_direct_kernel *onyx_conv_direct_pick(void)
{
    const onyx_conv_direct_kernel *all[3];
    return all[onyx_conv_direct_kernels(all, 3) - 1];
}

void onyx_conv_direct_pack(float *Wp, const float *W, int Mg, int K, int mr)
{
    for (int m0 = 0; m0 < Mg; m0 += mr)
        for (int t = 0; t < K; t++)
            for (int r = 0; r < mr; r++)
                *Wp++ = m0 + r < Mg ? W[(long)(m0 + r) * K + t] : 0.0f;
}

void onyx_conv_direct_offsets(int32_t *off, int64_t Cg, int64_t KK, int64_t d,
                              int64_t s, int64_t Lq)
{
    for (int64_t c = 0; c < Cg; c++)
        for (int64_t k = 0; k < KK; k++)
            off[c * KK + k] = (int32_t)((c * s + k * d % s) * Lq + k * d / s);
}

int64_t onyx_conv_direct_row(int64_t P, int64_t KK, int64_t d, int64_t s)
{
    int64_t whole = (P + ONYX_CONV_DIRECT_OVER - 1) / ONYX_CONV_DIRECT_OVER *
                    ONYX_CONV_DIRECT_OVER;
    return whole + (KK - 1) * d / s;
}

void onyx_conv_direct_phases(float *xp, const float *x, int64_t Cg, int64_t L,
                             int64_t pb, int64_t s, int64_t Lq)
{
    for (int64_t c = 0; c < Cg; c++, x += L)
        for (int64_t r = 0; r < s; r++, xp += Lq) {
            /* xp[j] = x[j*s + r - pb] for j in [lo, hi), zeros around */
            int64_t lo = r >= pb ? 0 : (pb - r + s - 1) / s;
            int64_t hi = L + pb - r <= 0 ? 0 : (L + pb - r + s - 1) / s;
            if (lo > Lq) lo = Lq;
            if (hi > Lq) hi = Lq;
            if (hi < lo) hi = lo;
            memset(xp, 0, (size_t)lo * sizeof *xp);
            if (s == 1 && hi > lo)
                memcpy(xp + lo, x + lo + r - pb,
                       (size_t)(hi - lo) * sizeof *xp);
            else
                for (int64_t j = lo; j < hi; j++)
                    xp[j] = x[j * s + r - pb];
            memset(xp + hi, 0, (size_t)(Lq - hi) * sizeof *xp);
        }
}
