/* rnn_vec_tmpl.h - the bodies of the fused GRU and LSTM steps (gru_arch.h,
 * lstm_arch.h) on the plain layouts of onyx_gru_pack_vec and
 * onyx_lstm_pack_vec, written once on GNU C vectors and made for each ISA
 * by the file that includes it (rnn_x86.c) after defining
 *   RV_ISA   the names' suffix: onyx_gru_step_RV_ISA, onyx_gru_tanh_RV_ISA,
 *            onyx_lstm_step_RV_ISA
 *   RV_VL    floats a vector, the units of a group: 8 (AVX2), 16 (AVX-512)
 *   RV_ATTR  the function attributes (target ISA)
 * Whether a += s * w becomes a fused multiply-add is up to the region it is
 * included in (fp-contract). Two groups go through h together, each with its
 * sums (3 for the GRU, 4 for the LSTM); a group alone splits its sums over
 * h's even and odd units: either way 6 or 8 chains of multiply-adds are in
 * flight. */
#include "gru_arch.h"
#include "lstm_arch.h"

#include <string.h>

#define GV_CAT2(a, b) a##_##b
#define GV_CAT(a, b)  GV_CAT2(a, b)
#define GV_(x)        GV_CAT(x, RV_ISA)
#define GV_VL         RV_VL
#define GV_ATTR       RV_ATTR

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

GV_ATTR void GV_(onyx_gru_tanh)(float *y, const float *x, int n)
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
typedef struct GV_(gacc) {
    GV_(vf) z, r, hr, hx;
} GV_(gacc);

/* the group's initial sums and its inputs' terms; *pw past them */
GV_ATTR static inline __attribute__((always_inline)) void
GV_(gstart)(GV_(gacc) * a, const float **pw, int I, const float *x)
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
GV_(gcell)(const GV_(gacc) * a, int u, int H, const float *hin, const float *hl,
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
GV_(gpair)(int u, int H, int I, const float *F, size_t GF, const float *x,
           const float *hin, const float *hl, float *hout, float *hout2)
{
    GV_(gacc) a0, a1;
    const float *w0 = F, *w1 = F + GF;
    GV_(gstart)(&a0, &w0, I, x);
    GV_(gstart)(&a1, &w1, I, x);
    for (int i = 0; i < H; i++, w0 += 3 * GV_VL, w1 += 3 * GV_VL) {
        const float s = hin[i];
        GV_HIDDEN(a0, w0, s);
        GV_HIDDEN(a1, w1, s);
    }
    GV_(gcell)(&a0, u, H, hin, hl, hout, hout2);
    GV_(gcell)(&a1, u + GV_VL, H, hin, hl, hout, hout2);
}

/* one group from unit u on: h's even and odd units into two sets of sums */
GV_ATTR static inline __attribute__((always_inline)) void
GV_(gsingle)(int u, int H, int I, const float *F, const float *x,
             const float *hin, const float *hl, float *hout, float *hout2)
{
    GV_(gacc) a, b = {{0}, {0}, {0}, {0}};
    const float *w = F;
    GV_(gstart)(&a, &w, I, x);
    int i = 0;
    for (; i + 2 <= H; i += 2, w += 6 * GV_VL) {
        GV_HIDDEN(a, w, hin[i]);
        GV_HIDDEN(b, w + 3 * GV_VL, hin[i + 1]);
    }
    if (i < H) GV_HIDDEN(a, w, hin[i]);
    a.z += b.z, a.r += b.r, a.hr += b.hr;
    GV_(gcell)(&a, u, H, hin, hl, hout, hout2);
}

GV_ATTR void GV_(onyx_gru_step)(int H, int I, const float *F, const float *x,
                                const float *hin, float *hout, float *hout2)
{
    const size_t GF = onyx_gru_vec_group_floats(GV_VL, H, I);
    const int last = H / GV_VL * GV_VL; /* the partial group's first unit */
    float hl[GV_VL] = {0};
    memcpy(hl, hin + last, (size_t)(H - last) * sizeof(float));
    int u = 0;
    for (; u + GV_VL < H; u += 2 * GV_VL, F += 2 * GF)
        GV_(gpair)(u, H, I, F, GF, x, hin, hl, hout, hout2);
    if (u < H) GV_(gsingle)(u, H, I, F, x, hin, hl, hout, hout2);
}

/* ---- the LSTM ---- */

/* a group's sums: i/2, o/2, f/2 (tanh arguments), c */
typedef struct GV_(lacc) {
    GV_(vf) i, o, f, c;
} GV_(lacc);

/* a += the 4 vectors at w times s */
#define LV_ROW(a, w, s)                                                        \
    do {                                                                       \
        GV_(vf) wi_, wo_, wf_, wc_;                                            \
        memcpy(&wi_, (w), sizeof wi_);                                         \
        memcpy(&wo_, (w) + GV_VL, sizeof wo_);                                 \
        memcpy(&wf_, (w) + 2 * GV_VL, sizeof wf_);                             \
        memcpy(&wc_, (w) + 3 * GV_VL, sizeof wc_);                             \
        (a).i += (s)*wi_;                                                      \
        (a).o += (s)*wo_;                                                      \
        (a).f += (s)*wf_;                                                      \
        (a).c += (s)*wc_;                                                      \
    } while (0)

/* the group's biases and its inputs' terms; *pw past them */
GV_ATTR static inline __attribute__((always_inline)) void
GV_(lstart)(GV_(lacc) * a, const float **pw, int I, const float *x)
{
    const float *w = *pw;
    memcpy(&a->i, w, sizeof a->i);
    memcpy(&a->o, w + GV_VL, sizeof a->o);
    memcpy(&a->f, w + 2 * GV_VL, sizeof a->f);
    memcpy(&a->c, w + 3 * GV_VL, sizeof a->c);
    w += 4 * GV_VL;
    for (int i = 0; i < I; i++, w += 4 * GV_VL)
        LV_ROW(*a, w, x[i]);
    *pw = w;
}

/* the cell on a group's sums from unit u on: c updated, the new state
 * stored (only the first H - u past the last full group) */
GV_ATTR static inline __attribute__((always_inline)) void
GV_(lcell)(const GV_(lacc) * a, int u, int H, float *c, float *hout,
           float *hout2)
{
    typedef GV_(vf) vf;
    const vf gi = 0.5f + 0.5f * GV_(tanhv)(a->i);
    const vf go = 0.5f + 0.5f * GV_(tanhv)(a->o);
    const vf gf = 0.5f + 0.5f * GV_(tanhv)(a->f);
    const vf gg = GV_(tanhv)(a->c);
    const int n = H - u < GV_VL ? H - u : GV_VL;
    float t[GV_VL] = {0};
    memcpy(t, c + u, (size_t)n * sizeof(float));
    vf cv;
    memcpy(&cv, t, sizeof cv);
    cv = gf * cv + gi * gg;
    const vf h = go * GV_(tanhv)(cv);
    memcpy(t, &cv, sizeof cv);
    memcpy(c + u, t, (size_t)n * sizeof(float));
    memcpy(t, &h, sizeof h);
    memcpy(hout + u, t, (size_t)n * sizeof(float));
    if (hout2) memcpy(hout2 + u, t, (size_t)n * sizeof(float));
}

GV_ATTR void GV_(onyx_lstm_step)(int H, int I, const float *F, const float *x,
                                 const float *hin, float *c, float *hout,
                                 float *hout2)
{
    const size_t GF = onyx_lstm_vec_group_floats(GV_VL, H, I);
    int u = 0;
    for (; u + GV_VL < H; u += 2 * GV_VL, F += 2 * GF) {
        GV_(lacc) a0, a1;
        const float *w0 = F, *w1 = F + GF;
        GV_(lstart)(&a0, &w0, I, x);
        GV_(lstart)(&a1, &w1, I, x);
        for (int j = 0; j < H; j++, w0 += 4 * GV_VL, w1 += 4 * GV_VL) {
            LV_ROW(a0, w0, hin[j]);
            LV_ROW(a1, w1, hin[j]);
        }
        GV_(lcell)(&a0, u, H, c, hout, hout2);
        GV_(lcell)(&a1, u + GV_VL, H, c, hout, hout2);
    }
    if (u < H) {
        GV_(lacc) a, b = {{0}, {0}, {0}, {0}};
        const float *w = F;
        GV_(lstart)(&a, &w, I, x);
        int j = 0;
        for (; j + 2 <= H; j += 2, w += 8 * GV_VL) {
            LV_ROW(a, w, hin[j]);
            LV_ROW(b, w + 4 * GV_VL, hin[j + 1]);
        }
        if (j < H) LV_ROW(a, w, hin[j]);
        a.i += b.i, a.o += b.o, a.f += b.f, a.c += b.c;
        GV_(lcell)(&a, u, H, c, hout, hout2);
    }
}

#undef LV_ROW

#undef GV_HIDDEN
#undef GV_CAT2
#undef GV_CAT
#undef GV_
#undef GV_VL
#undef GV_ATTR
