/* gemm_rows_tmpl.h - the body of the packed small-M product, written once
 * on GNU C vectors and made for each ISA by the file that includes it
 * (gemv_x86.c, gemv_neon.c) after defining
 *   GR_NAME  the function's name (signature onyx_gemm_rows_fn, gemv_arch.h)
 *   GR_VL    floats a vector: 4 (NEON), 8 (AVX2), 16 (AVX-512)
 *   GR_MR    rows of C at once (their A values are broadcast)
 *   GR_NP    full panels of ONYX_GEMV_NR columns at once
 *   GR_ATTR  the function attributes (target ISA), possibly empty
 * GR_MR * GR_NP * ONYX_GEMV_NR / GR_VL vectors of sums stay in registers
 * while the panels are read once for the GR_MR rows: a few rows of A by a
 * constant matrix at several times the speed of one gemv per row, which
 * reads the whole matrix again for every row. Each column of each row is
 * summed over p in order, as the gemv micro-kernel sums it: a row's result
 * does not depend on how many rows were computed with it. Layout:
 * gemv_arch.h. */
#include "gemv_arch.h"

#include <string.h>

#define GR_CAT2(a, b) a##_##b
#define GR_CAT(a, b)  GR_CAT2(a, b)
#define GR_(x)        GR_CAT(GR_NAME, x)
#define GR_NV         (ONYX_GEMV_NR / GR_VL) /* vectors a full panel */

typedef float GR_(vf) __attribute__((vector_size(4 * GR_VL)));
typedef float GR_(v4) __attribute__((vector_size(16)));

/* *yp = alpha * acc + beta * *yp, as the reference writes it */
#define GR_FINISH(T, acc, yp)                                                  \
    do {                                                                       \
        T r_ = (acc), c_;                                                      \
        if (alpha != 1.0f) r_ = alpha * r_;                                    \
        if (beta != 0.0f) {                                                    \
            memcpy(&c_, (yp), sizeof c_);                                      \
            r_ += beta == 1.0f ? c_ : beta * c_;                               \
        }                                                                      \
        memcpy((yp), &r_, sizeof r_);                                          \
    } while (0)

/* R rows of C (row stride ldc) over NP full panels side by side, P at the
 * first; the panels are k * NR floats apart */
GR_ATTR static inline __attribute__((always_inline)) void
GR_(block)(const int R, const int NP, int k, float alpha,
           const float *restrict A, long lda, const float *restrict P,
           float beta, float *C, long ldc)
{
    typedef GR_(vf) vf;
    vf a[GR_MR][GR_NP][GR_NV];
    const long ps = (long)k * ONYX_GEMV_NR;
    for (int r = 0; r < R; r++)
        for (int q = 0; q < NP; q++)
            for (int v = 0; v < GR_NV; v++)
                a[r][q][v] = (vf){0};
    for (int p = 0; p < k; p++, P += ONYX_GEMV_NR) {
        float s[GR_MR];
        for (int r = 0; r < R; r++)
            s[r] = A[r * lda + p];
        for (int q = 0; q < NP; q++)
            for (int v = 0; v < GR_NV; v++) {
                vf w;
                memcpy(&w, P + q * ps + v * GR_VL, sizeof w);
                for (int r = 0; r < R; r++)
                    a[r][q][v] += s[r] * w;
            }
    }
    for (int r = 0; r < R; r++)
        for (int q = 0; q < NP; q++)
            for (int v = 0; v < GR_NV; v++)
                GR_FINISH(vf, a[r][q][v],
                          C + r * ldc + q * ONYX_GEMV_NR + v * GR_VL);
}

/* the last, narrower panel (N4 vectors of 4 columns, 1 to 4: the n % NR
 * columns left, rounded up to 4) for R rows: the sums into T (R rows of
 * 16), alpha and beta left to the caller */
GR_ATTR static inline __attribute__((always_inline)) void
GR_(tail)(const int R, const int N4, int k, const float *restrict A, long lda,
          const float *restrict P, float *T)
{
    typedef GR_(v4) v4;
    v4 a[GR_MR][4];
    for (int r = 0; r < R; r++)
        for (int v = 0; v < N4; v++)
            a[r][v] = (v4){0};
    for (int p = 0; p < k; p++, P += 4 * N4)
        for (int v = 0; v < N4; v++) {
            v4 w;
            memcpy(&w, P + 4 * v, sizeof w);
            for (int r = 0; r < R; r++)
                a[r][v] += A[r * lda + p] * w;
        }
    for (int r = 0; r < R; r++)
        for (int v = 0; v < N4; v++)
            memcpy(T + r * 16 + 4 * v, &a[r][v], sizeof a[r][v]);
}

/* the last columns (rest < NR, packed rounded up to 4) of R rows */
GR_ATTR static inline __attribute__((always_inline)) void
GR_(rest)(const int R, int rest, int k, float alpha, const float *A, long lda,
          const float *P, float beta, float *C, long ldc)
{
    float T[GR_MR * 16];
    switch ((rest + 3) / 4) {
    case 1: GR_(tail)(R, 1, k, A, lda, P, T); break;
    case 2: GR_(tail)(R, 2, k, A, lda, P, T); break;
    case 3: GR_(tail)(R, 3, k, A, lda, P, T); break;
    default: GR_(tail)(R, 4, k, A, lda, P, T); break;
    }
    for (int r = 0; r < R; r++)
        for (int i = 0; i < rest; i++) {
            float *y = C + r * ldc + i;
            float v = T[r * 16 + i];
            if (alpha != 1.0f) v = alpha * v;
            if (beta != 0.0f) v += beta == 1.0f ? *y : beta * *y;
            *y = v;
        }
}

/* NP full panels (or, NP == 0, the last `rest` columns) for every row,
 * GR_MR rows at a time: the panels stay in cache while all the rows go by */
GR_ATTR static inline __attribute__((always_inline)) void
GR_(cols)(const int NP, int rest, int m, int k, float alpha, const float *A,
          long lda, const float *P, float beta, float *C, long ldc)
{
#define GR_CALL(R)                                                             \
    (NP ? GR_(block)(R, NP, k, alpha, a, lda, P, beta, c, ldc)                 \
        : GR_(rest)(R, rest, k, alpha, a, lda, P, beta, c, ldc))
    for (int r0 = 0; r0 < m; r0 += GR_MR) {
        const float *a = A + r0 * lda;
        float *c = C + r0 * ldc;
        switch (m - r0 < GR_MR ? m - r0 : GR_MR) { /* GR_MR <= 8 */
        case 1: GR_CALL(1); break;
#if GR_MR > 1
        case 2: GR_CALL(2); break;
#endif
#if GR_MR > 2
        case 3: GR_CALL(3); break;
#endif
#if GR_MR > 3
        case 4: GR_CALL(4); break;
#endif
#if GR_MR > 4
        case 5: GR_CALL(5); break;
#endif
#if GR_MR > 5
        case 6: GR_CALL(6); break;
#endif
#if GR_MR > 6
        case 7: GR_CALL(7); break;
#endif
#if GR_MR > 7
        case 8: GR_CALL(8); break;
#endif
        }
    }
#undef GR_CALL
}

/* Column blocks outermost: a block of GR_NP panels (k x 64 floats on
 * AVX-512) is read from memory once and from cache for every further 4
 * rows, so a matrix larger than the caches is not streamed m / 4 times. */
GR_ATTR void GR_NAME(int m, int n, int k, float alpha, const float *A,
                     long lda, const float *P, float beta, float *C, long ldc)
{
    const long ps = (long)k * ONYX_GEMV_NR;
    int j = 0;
    for (; j + GR_NP * ONYX_GEMV_NR <= n; j += GR_NP * ONYX_GEMV_NR)
        GR_(cols)(GR_NP, 0, m, k, alpha, A, lda, P, beta, C + j, ldc),
            P += GR_NP * ps;
    for (; j + ONYX_GEMV_NR <= n; j += ONYX_GEMV_NR, P += ps)
        GR_(cols)(1, 0, m, k, alpha, A, lda, P, beta, C + j, ldc);
    if (n > j) GR_(cols)(0, n - j, m, k, alpha, A, lda, P, beta, C + j, ldc);
}

#undef GR_CAT2
#undef GR_CAT
#undef GR_
#undef GR_NV
#undef GR_FINISH
