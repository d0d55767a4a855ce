/* gemv_tmpl.h - the body of the packed matrix-vector micro-kernel, written
 * once on GNU C vectors and made for each ISA by the file that includes it
 * (gemv_x86.c, gemv_neon.c) after defining
 *   GK_NAME  the function's name (signature onyx_gemv_fn, gemv_arch.h)
 *   GK_VL    floats a vector: 4 (NEON), 8 (AVX2), 16 (AVX-512)
 *   GK_ATTR  the function attributes (target ISA), possibly empty
 * Whether acc += s * w becomes a fused multiply-add is up to the region it
 * is included in (fp-contract). Layout: gemv_arch.h. */
#include "gemv_arch.h"

#include <string.h>

#define GK_CAT2(a, b) a##_##b
#define GK_CAT(a, b)  GK_CAT2(a, b)
#define GK_(x)        GK_CAT(GK_NAME, x)
#define GK_NV         (ONYX_GEMV_NR / GK_VL) /* vectors a full panel */

typedef float GK_(vf) __attribute__((vector_size(4 * GK_VL)));
typedef float GK_(v4) __attribute__((vector_size(16)));

/* y[j] = alpha * acc + beta * c[j], as the reference writes it */
#define GK_FINISH(T, acc, cp, yp)                                              \
    do {                                                                       \
        T r_ = (acc), c_;                                                      \
        if (alpha != 1.0f) r_ = alpha * r_;                                    \
        if (beta != 0.0f) {                                                    \
            memcpy(&c_, (cp), sizeof c_);                                      \
            r_ += beta == 1.0f ? c_ : beta * c_;                               \
        }                                                                      \
        memcpy((yp), &r_, sizeof r_);                                          \
    } while (0)

/* NP full panels side by side (more sums in flight), P at the first; the
 * panels are k * NR floats apart */
GK_ATTR static inline __attribute__((always_inline)) void
GK_(panels)(const int NP, int k, float alpha, const float *restrict x,
            const float *restrict P, float beta, const float *c, float *y)
{
    typedef GK_(vf) vf;
    vf a[2][GK_NV];
    const long ps = (long)k * ONYX_GEMV_NR;
    for (int q = 0; q < NP; q++)
        for (int v = 0; v < GK_NV; v++)
            a[q][v] = (vf){0};
    for (int p = 0; p < k; p++, P += ONYX_GEMV_NR) {
        const float s = x[p];
        for (int q = 0; q < NP; q++)
            for (int v = 0; v < GK_NV; v++) {
                vf w;
                memcpy(&w, P + q * ps + v * GK_VL, sizeof w);
                a[q][v] += s * w;
            }
    }
    for (int q = 0; q < NP; q++)
        for (int v = 0; v < GK_NV; v++) {
            int j = q * ONYX_GEMV_NR + v * GK_VL;
            GK_FINISH(vf, a[q][v], c + j, y + j);
        }
}

/* the last, narrower panel: N4 (1 to 3) vectors of 4 */
GK_ATTR static inline __attribute__((always_inline)) void
GK_(tail)(const int N4, int k, float alpha, const float *restrict x,
          const float *restrict P, float beta, const float *c, float *y)
{
    typedef GK_(v4) v4;
    v4 a[3];
    for (int v = 0; v < N4; v++)
        a[v] = (v4){0};
    for (int p = 0; p < k; p++, P += 4 * N4) {
        const float s = x[p];
        for (int v = 0; v < N4; v++) {
            v4 w;
            memcpy(&w, P + 4 * v, sizeof w);
            a[v] += s * w;
        }
    }
    for (int v = 0; v < N4; v++)
        GK_FINISH(v4, a[v], c + 4 * v, y + 4 * v);
}

GK_ATTR void GK_NAME(int n, int k, float alpha, const float *x, const float *P,
                     float beta, const float *c, float *y)
{
    const long ps = (long)k * ONYX_GEMV_NR;
    int j = 0;
    for (; j + 2 * ONYX_GEMV_NR <= n; j += 2 * ONYX_GEMV_NR, P += 2 * ps)
        GK_(panels)(2, k, alpha, x, P, beta, c + j, y + j);
    if (j + ONYX_GEMV_NR <= n) {
        GK_(panels)(1, k, alpha, x, P, beta, c + j, y + j);
        j += ONYX_GEMV_NR, P += ps;
    }
    /* the last columns: a partial 4-vector is computed in full (the packed
     * panel is zero-filled) and only its n - j first lanes are kept */
    int rest = n - j;
    if (rest <= 0) return;
    if (rest % 4 == 0) {
        switch (rest / 4) {
        case 1: GK_(tail)(1, k, alpha, x, P, beta, c + j, y + j); break;
        case 2: GK_(tail)(2, k, alpha, x, P, beta, c + j, y + j); break;
        default: GK_(tail)(3, k, alpha, x, P, beta, c + j, y + j); break;
        }
        return;
    }
    float cc[ONYX_GEMV_NR] = {0}, yy[ONYX_GEMV_NR];
    int n4 = (rest + 3) / 4;
    if (beta != 0.0f) memcpy(cc, c + j, (size_t)rest * sizeof(float));
    switch (n4) {
    case 1: GK_(tail)(1, k, alpha, x, P, beta, cc, yy); break;
    case 2: GK_(tail)(2, k, alpha, x, P, beta, cc, yy); break;
    case 3: GK_(tail)(3, k, alpha, x, P, beta, cc, yy); break;
    default: GK_(panels)(1, k, alpha, x, P, beta, cc, yy); break;
    }
    memcpy(y + j, yy, (size_t)rest * sizeof(float));
}

#undef GK_CAT2
#undef GK_CAT
#undef GK_
#undef GK_NV
#undef GK_FINISH
