/* gru_vec_tmpl.h - the body of the fused GRU step (gru_arch.h) on the
 * plain layout of onyx_gru_pack_vec, written once on GNU C vectors and made
 * for each ISA by the file that includes it (gru_x86.c) after defining
 *   GV_NAME  the step's name (signature onyx_gru_step_fn); GV_NAME_tanh is
 *            its tanh (onyx_gru_tanh_fn)
 *   GV_VL    floats a vector, the units of a group: 8 (AVX2), 16 (AVX-512)
 *   GV_ATTR  the function attributes (target ISA)
 * Whether a += s * w becomes a fused multiply-add is up to the region it is
 * included in (fp-contract). Two groups go through h together, each with its
 * 3 sums; a group alone splits its sums over h's even and odd units: either
 * way 6 chains of multiply-adds are in flight. */
#include "gru_arch.h"

#include <string.h>

#define GV_CAT2(a, b) a##_##b
#define GV_CAT(a, b)  GV_CAT2(a, b)
#define GV_(x)        GV_CAT(GV_NAME, x)

typedef float GV_(vf) __attribute__((vector_size(4 * GV_VL)));
typedef int GV_(vi) __attribute__((vector_size(4 * GV_VL)));

/* tanh as gru_arch.h defines it: clamped, x P(x^2) / Q(x^2), exact division */
GV_ATTR static inline __attribute__((always_inline)) GV_(vf)
    GV_(tanhv)(GV_(vf) x)
{
    typedef GV_(vf) vf;
    typedef GV_(vi) vi;
    const vf c = (vf){0} + ONYX_GRU_CLAMP;
    vi hi = x > c, lo = x < -c;
    x = (vf)(((vi)x & ~(hi | lo)) | ((vi)c & hi) | ((vi)-c & lo));
    const vf z = x * x;
    vf p = z * ONYX_GRU_P4 + ONYX_GRU_P3;
    p = p * z + ONYX_GRU_P2;
    p = p * z + ONYX_GRU_P1;
    p = (p * z + 1.0f) * x;
    vf q = z * ONYX_GRU_Q4 + ONYX_GRU_Q3;
    q = q * z + ONYX_GRU_Q2;
    q = q * z + ONYX_GRU_Q1;
    q = q * z + 1.0f;
    return p / q;
}

GV_ATTR void GV_(tanh)(float *y, const float *x, int n)
{
    typedef GV_(vf) vf;
    int i = 0;
    for (; i + GV_VL <= n; i += GV_VL) {
        vf v;
        memcpy(&v, x + i, sizeof v);
        v = GV_(tanhv)(v);
        memcpy(y + i, &v, sizeof v);
    }
    if (i < n) {
        float t[GV_VL] = {0};
        memcpy(t, x + i, (size_t)(n - i) * sizeof(float));
        vf v;
        memcpy(&v, t, sizeof v);
        v = GV_(tanhv)(v);
        memcpy(t, &v, sizeof v);
        memcpy(y + i, t, (size_t)(n - i) * sizeof(float));
    }
}

/* a group's sums: z/2, r/2 (tanh arguments), Rh h + Rbh, Wh x + Wbh */
typedef struct GV_(acc) {
    GV_(vf) z, r, hr, hx;
} GV_(acc);

/* the group's initial sums and its inputs' terms; *pw past them */
GV_ATTR static inline __attribute__((always_inline)) void
GV_(start)(GV_(acc) * a, const float **pw, int I, const float *x)
{
    typedef GV_(vf) vf;
    const float *w = *pw;
    memcpy(&a->z, w, sizeof(vf));
    memcpy(&a->r, w + GV_VL, sizeof(vf));
    memcpy(&a->hr, w + 2 * GV_VL, sizeof(vf));
    memcpy(&a->hx, w + 3 * GV_VL, sizeof(vf));
    w += 4 * GV_VL;
    for (int i = 0; i < I; i++, w += 3 * GV_VL) {
        vf wz, wr, wh;
        memcpy(&wz, w, sizeof wz);
        memcpy(&wr, w + GV_VL, sizeof wr);
        memcpy(&wh, w + 2 * GV_VL, sizeof wh);
        a->z += x[i] * wz;
        a->r += x[i] * wr;
        a->hx += x[i] * wh;
    }
    *pw = w;
}

/* a's z, r, hr += hidden unit i's 3 vectors at w times s */
#define GV_HIDDEN(a, w, s)                                                     \
    do {                                                                       \
        GV_(vf) wz_, wr_, wh_;                                                 \
        memcpy(&wz_, (w), sizeof wz_);                                         \
        memcpy(&wr_, (w) + GV_VL, sizeof wr_);                                 \
        memcpy(&wh_, (w) + 2 * GV_VL, sizeof wh_);                             \
        (a).z += (s)*wz_;                                                      \
        (a).r += (s)*wr_;                                                      \
        (a).hr += (s)*wh_;                                                     \
    } while (0)

/* the cell on a group's sums: the new state of its units, stored from unit
 * u on (only the first H - u past the last full group); hin's vector is
 * read from hl (zero-padded) in a partial group */
GV_ATTR static inline __attribute__((always_inline)) void
GV_(cell)(const GV_(acc) * a, int u, int H, const float *hin, const float *hl,
          float *hout, float *hout2)
{
    typedef GV_(vf) vf;
    const vf z = 0.5f + 0.5f * GV_(tanhv)(a->z);
    const vf r = 0.5f + 0.5f * GV_(tanhv)(a->r);
    const vf n = GV_(tanhv)(a->hx + r * a->hr);
    vf h;
    const int full = u + GV_VL <= H;
    memcpy(&h, full ? hin + u : hl, sizeof h);
    h = n + z * (h - n);
    if (full) {
        memcpy(hout + u, &h, sizeof h);
        if (hout2) memcpy(hout2 + u, &h, sizeof h);
    } else {
        float t[GV_VL];
        memcpy(t, &h, sizeof h);
        memcpy(hout + u, t, (size_t)(H - u) * sizeof(float));
        if (hout2) memcpy(hout2 + u, t, (size_t)(H - u) * sizeof(float));
    }
}

/* two groups from unit u on, their weights at F and F + GF */
GV_ATTR static inline __attribute__((always_inline)) void
GV_(pair)(int u, int H, int I, const float *F, size_t GF, const float *x,
          const float *hin, const float *hl, float *hout, float *hout2)
{
    GV_(acc) a0, a1;
    const float *w0 = F, *w1 = F + GF;
    GV_(start)(&a0, &w0, I, x);
    GV_(start)(&a1, &w1, I, x);
    for (int i = 0; i < H; i++, w0 += 3 * GV_VL, w1 += 3 * GV_VL) {
        const float s = hin[i];
        GV_HIDDEN(a0, w0, s);
        GV_HIDDEN(a1, w1, s);
    }
    GV_(cell)(&a0, u, H, hin, hl, hout, hout2);
    GV_(cell)(&a1, u + GV_VL, H, hin, hl, hout, hout2);
}

/* one group from unit u on: h's even and odd units into two sets of sums */
GV_ATTR static inline __attribute__((always_inline)) void
GV_(single)(int u, int H, int I, const float *F, const float *x,
            const float *hin, const float *hl, float *hout, float *hout2)
{
    GV_(acc) a, b = {{0}, {0}, {0}, {0}};
    const float *w = F;
    GV_(start)(&a, &w, I, x);
    int i = 0;
    for (; i + 2 <= H; i += 2, w += 6 * GV_VL) {
        GV_HIDDEN(a, w, hin[i]);
        GV_HIDDEN(b, w + 3 * GV_VL, hin[i + 1]);
    }
    if (i < H) GV_HIDDEN(a, w, hin[i]);
    a.z += b.z, a.r += b.r, a.hr += b.hr;
    GV_(cell)(&a, u, H, hin, hl, hout, hout2);
}

GV_ATTR void GV_NAME(int H, int I, const float *F, const float *x,
                     const float *hin, float *hout, float *hout2)
{
    const size_t GF = onyx_gru_vec_group_floats(GV_VL, H, I);
    const int last = H / GV_VL * GV_VL; /* the partial group's first unit */
    float hl[GV_VL] = {0};
    memcpy(hl, hin + last, (size_t)(H - last) * sizeof(float));
    int u = 0;
    for (; u + GV_VL < H; u += 2 * GV_VL, F += 2 * GF)
        GV_(pair)(u, H, I, F, GF, x, hin, hl, hout, hout2);
    if (u < H) GV_(single)(u, H, I, F, x, hin, hl, hout, hout2);
}

#undef GV_HIDDEN
#undef GV_CAT2
#undef GV_CAT
#undef GV_
