/* conv_direct_tmpl.h - the body of the direct convolution's micro-kernel
 * (conv_direct.h), written once on GNU C vectors and made for each ISA by
 * the file that includes it (conv_direct.c, arch/conv_direct_x86.c) after
 * defining
 *   CD_NAME  the function's name (onyx_conv_direct_kernel's fn)
 *   CD_VL    floats a vector: 4 (SSE, NEON), 8 (AVX2), 16 (AVX-512)
 *   CD_MR    output channels at once
 *   CD_ATTR  the function attributes (target ISA), possibly empty
 * CD_MR x CD_NV vectors of sums stay in registers across every tap. */
#include "../math/conv_direct.h"

#include <string.h>

#define CD_CAT2(a, b) a##_##b
#define CD_CAT(a, b)  CD_CAT2(a, b)
#define CD_(x)        CD_CAT(CD_NAME, x)
#define CD_NV         3 /* vectors of positions at once */

typedef float CD_(vf) __attribute__((vector_size(4 * CD_VL)));

/* Output channels m0 .. m0 + MR - 1 (those < Mg kept) at NV vectors of
 * positions from p0 (those < P kept). */
CD_ATTR static inline __attribute__((always_inline)) void
CD_(tile)(const int NV, const onyx_conv_direct_args *a, int m0, int p0)
{
    typedef CD_(vf) vf;
    const int rows = a->Mg - m0 < CD_MR ? a->Mg - m0 : CD_MR;
    const float *restrict w = a->Wp + (long)m0 * a->K;
    const float *restrict x = a->x + p0;
    const int32_t *restrict off = a->off;
    vf acc[CD_MR][CD_NV];
    for (int r = 0; r < CD_MR; r++) {
        const float b = a->bias && r < rows ? a->bias[m0 + r] : 0.0f;
        for (int v = 0; v < NV; v++)
            acc[r][v] = (vf){0} + b;
    }
    for (int t = 0; t < a->K; t++, w += CD_MR) {
        vf xv[CD_NV];
        for (int v = 0; v < NV; v++)
            memcpy(&xv[v], x + off[t] + v * CD_VL, sizeof(vf));
        for (int r = 0; r < CD_MR; r++)
            for (int v = 0; v < NV; v++)
                acc[r][v] += w[r] * xv[v];
    }
    const int n = a->P - p0 < NV * CD_VL ? a->P - p0 : NV * CD_VL;
    for (int r = 0; r < rows; r++) {
        float *y = a->y + (long)(m0 + r) * a->P + p0;
        if (n == NV * CD_VL) {
            memcpy(y, acc[r], (size_t)n * sizeof(float));
        } else { /* the row's last, partial tile */
            float tmp[CD_NV * CD_VL];
            memcpy(tmp, acc[r], sizeof(vf) * (size_t)NV);
            memcpy(y, tmp, (size_t)n * sizeof(float));
        }
    }
}

CD_ATTR void CD_NAME(const onyx_conv_direct_args *a)
{
    for (int m0 = 0; m0 < a->Mg; m0 += CD_MR) {
        int p0 = 0;
        for (; a->P - p0 >= CD_NV * CD_VL; p0 += CD_NV * CD_VL)
            CD_(tile)(CD_NV, a, m0, p0);
        /* the rest, fewer than CD_NV * CD_VL positions: 0 to CD_NV
         * vectors, the last maybe partial */
        const int left = (a->P - p0 + CD_VL - 1) / CD_VL;
        if (left == 3)
            CD_(tile)(3, a, m0, p0);
        else if (left == 2)
            CD_(tile)(2, a, m0, p0);
        else if (left == 1)
            CD_(tile)(1, a, m0, p0);
    }
}

#undef CD_CAT2
#undef CD_CAT
#undef CD_
#undef CD_NV
