/* gemv_neon.c - the packed matrix-vector micro-kernel for ARM NEON:
 * armv7-a (Bela; multiply-accumulates are not fused, subnormals flush to
 * zero) and aarch64 (Bela Gem; fused). A panel row of 4N floats (N = 4 for
 * a full panel of ONYX_GEMV_NR, 1 to 3 for the last) is read by one
 * structure load (vld4q/vld3q/vld2q: 1 or 2 instructions), which deals
 * column j to vector j % N, lane j / N; the sums stay in that order and a
 * structure store (vst4q...) puts them back. Each column is still summed
 * on its own, in the reference's order. Four x values are loaded at once
 * and used by lane. */
#if defined(__ARM_NEON)
#include "gemv_arch.h"

#include <arm_neon.h>
#include <string.h>

#if defined(__aarch64__)
#define NEON_MLA_LANE(a, w, x, l) vfmaq_laneq_f32(a, w, x, l)
#define NEON_MLA(a, w, s)         vfmaq_f32(a, w, vdupq_n_f32(s))
#else
#define NEON_MLA_LANE(a, w, x, l)                                              \
    vmlaq_lane_f32(a, w, (l) < 2 ? vget_low_f32(x) : vget_high_f32(x), (l)&1)
#define NEON_MLA(a, w, s) vmlaq_n_f32(a, w, s)
#endif

/* alpha * acc + beta * c, as the reference writes it */
static inline float32x4_t neon_finish(float32x4_t acc, float alpha, float beta,
                                      float32x4_t c)
{
    if (alpha != 1.0f) acc = vmulq_n_f32(acc, alpha);
    if (beta != 0.0f)
        acc = vaddq_f32(acc, beta == 1.0f ? c : vmulq_n_f32(c, beta));
    return acc;
}

/* a += one panel row (4N floats at P, P moves on) times lane L of xv */
#define NEON_ROW(N, T, LD, L)                                                  \
    do {                                                                       \
        T w_ = LD(P);                                                          \
        P += 4 * N;                                                            \
        _Pragma("GCC unroll 4") for (int i = 0; i < N; i++) a[i] =             \
            NEON_MLA_LANE(a[i], w_.val[i], xv, L);                             \
    } while (0)

/* One panel of 4N columns (N = 2, 3, 4; the struct type T, load LD, store
 * ST), y and c the panel's first column. */
#define NEON_PANEL(NAME, N, T, LD, ST)                                         \
    static void NAME(int k, float alpha, const float *x, const float *P,       \
                     float beta, const float *c, float *y)                     \
    {                                                                          \
        float32x4_t a[N];                                                      \
        _Pragma("GCC unroll 4") for (int i = 0; i < N; i++) a[i] =             \
            vdupq_n_f32(0.0f);                                                 \
        int p = 0;                                                             \
        for (; p + 4 <= k; p += 4) {                                           \
            float32x4_t xv = vld1q_f32(x + p);                                 \
            NEON_ROW(N, T, LD, 0);                                             \
            NEON_ROW(N, T, LD, 1);                                             \
            NEON_ROW(N, T, LD, 2);                                             \
            NEON_ROW(N, T, LD, 3);                                             \
        }                                                                      \
        for (; p < k; p++, P += 4 * N) {                                       \
            T w = LD(P);                                                       \
            _Pragma("GCC unroll 4") for (int i = 0; i < N; i++) a[i] =         \
                NEON_MLA(a[i], w.val[i], x[p]);                                \
        }                                                                      \
        if (alpha != 1.0f || beta != 0.0f) {                                   \
            T cv;                                                              \
            if (beta != 0.0f) cv = LD(c);                                      \
            _Pragma("GCC unroll 4") for (int i = 0; i < N; i++) a[i] =         \
                neon_finish(a[i], alpha, beta,                                 \
                            beta != 0.0f ? cv.val[i] : a[i]);                  \
        }                                                                      \
        T r_;                                                                  \
        _Pragma("GCC unroll 4") for (int i = 0; i < N; i++) r_.val[i] = a[i];  \
        ST(y, r_);                                                             \
    }

NEON_PANEL(neon_panel16, 4, float32x4x4_t, vld4q_f32, vst4q_f32)
NEON_PANEL(neon_panel12, 3, float32x4x3_t, vld3q_f32, vst3q_f32)
NEON_PANEL(neon_panel8, 2, float32x4x2_t, vld2q_f32, vst2q_f32)

static void neon_panel4(int k, float alpha, const float *x, const float *P,
                        float beta, const float *c, float *y)
{
    float32x4_t a = vdupq_n_f32(0.0f);
    int p = 0;
    for (; p + 4 <= k; p += 4, P += 16) {
        float32x4_t xv = vld1q_f32(x + p);
        a = NEON_MLA_LANE(a, vld1q_f32(P), xv, 0);
        a = NEON_MLA_LANE(a, vld1q_f32(P + 4), xv, 1);
        a = NEON_MLA_LANE(a, vld1q_f32(P + 8), xv, 2);
        a = NEON_MLA_LANE(a, vld1q_f32(P + 12), xv, 3);
    }
    for (; p < k; p++, P += 4)
        a = NEON_MLA(a, vld1q_f32(P), x[p]);
    vst1q_f32(y, neon_finish(a, alpha, beta, beta != 0.0f ? vld1q_f32(c) : a));
}

void onyx_gemv_f32_neon(int n, int k, float alpha, const float *x,
                        const float *P, float beta, const float *c, float *y)
{
    int j = 0;
    for (; j + ONYX_GEMV_NR <= n;
         j += ONYX_GEMV_NR, P += (long)k * ONYX_GEMV_NR)
        neon_panel16(k, alpha, x, P, beta, c + j, y + j);
    int rest = n - j;
    if (rest <= 0) return;
    /* the last panel, 4 to 16 columns; a partial one goes through yy */
    float cc[ONYX_GEMV_NR] = {0}, yy[ONYX_GEMV_NR];
    const float *cp = c + j;
    float *yp = y + j;
    if (rest % 4) {
        if (beta != 0.0f) memcpy(cc, c + j, (size_t)rest * sizeof(float));
        cp = cc, yp = yy;
    }
    switch ((rest + 3) / 4) {
    case 1: neon_panel4(k, alpha, x, P, beta, cp, yp); break;
    case 2: neon_panel8(k, alpha, x, P, beta, cp, yp); break;
    case 3: neon_panel12(k, alpha, x, P, beta, cp, yp); break;
    default: neon_panel16(k, alpha, x, P, beta, cp, yp); break;
    }
    if (rest % 4) memcpy(y + j, yy, (size_t)rest * sizeof(float));
}

/* Several rows: one gemv per row. (The portable template of
 * arch/gemm_rows_tmpl.h, which reads the panels once for several rows, took
 * 1.6 (armv7) and 3 (aarch64) instructions per multiply-add under qemu,
 * against 1.3 and 1.1 for the blocked sgemm: GCC keeps its sums in memory
 * there.) */
void onyx_gemm_rows_f32_neon(int m, int n, int k, float alpha, const float *A,
                             long lda, const float *P, float beta, float *C,
                             long ldc)
{
    for (int i = 0; i < m; i++)
        onyx_gemv_f32_neon(n, k, alpha, A + i * lda, P, beta, C + i * ldc,
                           C + i * ldc);
}

#else
typedef int onyx_gemv_neon_unused; /* ISO C wants a declaration in a file */
#endif
