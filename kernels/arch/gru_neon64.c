/* gru_neon64.c - the fused GRU step (gru_arch.h) for aarch64 NEON (Bela
 * Gem: Cortex-A53). Two groups of 4 units per pass, which aarch64's 32
 * vector registers hold: each vector of h is loaded once for 8 units and
 * its lanes multiply 6 structure loads of weights; the tanh is
 * gru_tanh_neon.h's. */
#if defined(__aarch64__)
#include "gru_tanh_neon.h"

void onyx_gru_tanh_neon64(float *y, const float *x, int n)
{
    const gru64_k k = gru64_consts();
    int i = 0;
    for (; i + 4 <= n; i += 4)
        vst1q_f32(y + i, gru64_tanh4(vld1q_f32(x + i), &k));
    if (i < n) {
        float t[4] = {0};
        for (int j = i; j < n; j++)
            t[j - i] = x[j];
        vst1q_f32(t, gru64_tanh4(vld1q_f32(t), &k));
        for (int j = i; j < n; j++)
            y[j] = t[j - i];
    }
}

/* the 4 sums of a group of 4 units: z/2, r/2 (tanh arguments), Rh h +
 * Rbh, Wh x + Wbh */
typedef struct gru64_acc {
    float32x4_t z, r, hr, hx;
} gru64_acc;

/* a += one input's weights (3 vectors at w) times its value xi */
static inline __attribute__((always_inline)) void
gru64_input(gru64_acc *a, const float *w, float xi)
{
    const float32x4x3_t r = vld3q_f32(w);
    a->z = vfmaq_n_f32(a->z, r.val[0], xi);
    a->r = vfmaq_n_f32(a->r, r.val[1], xi);
    a->hx = vfmaq_n_f32(a->hx, r.val[2], xi);
}

/* a += 4 hidden units' weights (3 blocks at w) times h's lanes hv */
static inline __attribute__((always_inline)) void
gru64_chunk(gru64_acc *a, const float **pw, float32x4_t hv)
{
    const float32x4x4_t b0 = gru_ld4_next(pw), b1 = gru_ld4_next(pw),
                        b2 = gru_ld4_next(pw);
    a->z = vfmaq_laneq_f32(a->z, b0.val[0], hv, 0);
    a->r = vfmaq_laneq_f32(a->r, b0.val[1], hv, 0);
    a->hr = vfmaq_laneq_f32(a->hr, b0.val[2], hv, 0);
    a->z = vfmaq_laneq_f32(a->z, b0.val[3], hv, 1);
    a->r = vfmaq_laneq_f32(a->r, b1.val[0], hv, 1);
    a->hr = vfmaq_laneq_f32(a->hr, b1.val[1], hv, 1);
    a->z = vfmaq_laneq_f32(a->z, b1.val[2], hv, 2);
    a->r = vfmaq_laneq_f32(a->r, b1.val[3], hv, 2);
    a->hr = vfmaq_laneq_f32(a->hr, b2.val[0], hv, 2);
    a->z = vfmaq_laneq_f32(a->z, b2.val[1], hv, 3);
    a->r = vfmaq_laneq_f32(a->r, b2.val[2], hv, 3);
    a->hr = vfmaq_laneq_f32(a->hr, b2.val[3], hv, 3);
}

/* the cell on a group's sums: the new state of its 4 units from their old
 * state h */
static inline __attribute__((always_inline)) float32x4_t
gru64_cell(const gru64_acc *a, float32x4_t h, const gru64_k *k)
{
    const float32x4_t z = vfmaq_f32(k->half, k->half, gru64_tanh4(a->z, k));
    const float32x4_t r = vfmaq_f32(k->half, k->half, gru64_tanh4(a->r, k));
    const float32x4_t n = gru64_tanh4(vfmaq_f32(a->hx, r, a->hr), k);
    return vfmaq_f32(n, z, vsubq_f32(h, n));
}

/* a's 4 units from 4g on: their new state (past H only in the last group,
 * whose old state is then hl) */
static inline __attribute__((always_inline)) void
gru64_store(const gru64_acc *a, int g, int H, const float *hin, const float *hl,
            float *hout, float *hout2, const gru64_k *k)
{
    const int u = 4 * g;
    if (u + 4 <= H) {
        const float32x4_t h = gru64_cell(a, vld1q_f32(hin + u), k);
        vst1q_f32(hout + u, h);
        if (hout2) vst1q_f32(hout2 + u, h);
    } else {
        float t[4];
        vst1q_f32(t, gru64_cell(a, vld1q_f32(hl), k));
        for (int v = u; v < H; v++) {
            hout[v] = t[v - u];
            if (hout2) hout2[v] = t[v - u];
        }
    }
}

/* two (NG = 2, a constant) or one group from group g on; F their weights,
 * GF the floats per group, hl h's last partial vector zero-padded */
static inline __attribute__((always_inline)) void
gru64_groups(int NG, int g, int H, int I, const float *F, size_t GF,
             const float *x, const float *hin, const float *hl, float *hout,
             float *hout2, const gru64_k *k)
{
    const float32x4x4_t i0 = vld4q_f32(F);
    const float32x4x4_t i1 = NG == 2 ? vld4q_f32(F + GF) : i0;
    gru64_acc a0 = {i0.val[0], i0.val[1], i0.val[2], i0.val[3]};
    gru64_acc a1 = {i1.val[0], i1.val[1], i1.val[2], i1.val[3]};
    const float *w0 = F + 16, *w1 = F + GF + 16;
    for (int i = 0; i < I; i++, w0 += 12, w1 += 12) {
        gru64_input(&a0, w0, x[i]);
        if (NG == 2) gru64_input(&a1, w1, x[i]);
    }
    int i = 0;
    for (; i + 4 <= H; i += 4) {
        const float32x4_t hv = vld1q_f32(hin + i);
        gru64_chunk(&a0, &w0, hv);
        if (NG == 2) gru64_chunk(&a1, &w1, hv);
    }
    if (i < H) {
        const float32x4_t hv = vld1q_f32(hl);
        gru64_chunk(&a0, &w0, hv);
        if (NG == 2) gru64_chunk(&a1, &w1, hv);
    }
    gru64_store(&a0, g, H, hin, hl, hout, hout2, k);
    if (NG == 2) gru64_store(&a1, g + 1, H, hin, hl, hout, hout2, k);
}

void onyx_gru_step_neon64(int H, int I, const float *F, const float *x,
                          const float *hin, float *hout, float *hout2)
{
    const gru64_k k = gru64_consts();
    const size_t GF = onyx_gru_group_floats(H, I);
    const int groups = (H + 3) / 4;
    float hl[4] = {0, 0, 0, 0};
    for (int i = H & ~3; i < H; i++)
        hl[i - (H & ~3)] = hin[i];
    int g = 0;
    for (; g + 2 <= groups; g += 2)
        gru64_groups(2, g, H, I, F + g * GF, GF, x, hin, hl, hout, hout2, &k);
    if (g < groups)
        gru64_groups(1, g, H, I, F + g * GF, GF, x, hin, hl, hout, hout2, &k);
}

#else
typedef int onyx_gru_neon64_unused; /* ISO C wants a declaration in a file */
#endif
