/* lstm_neon64.c - the fused LSTM step (lstm_arch.h) for aarch64 NEON (Bela
 * Gem), as arch/gru_neon64.c does the GRU's: two groups of 4 units per
 * pass, each vector of h loaded once for 8 units, its lanes multiplying 8
 * structure loads of weights (one per hidden unit and group: the 4 gates);
 * the tanh is gru_tanh_neon.h's. */
#if defined(__aarch64__)
#include "gru_tanh_neon.h"
#include "lstm_arch.h"

/* a group's 4 sums: i/2, o/2, f/2 (tanh arguments) and c */
typedef struct lstm64_acc {
    float32x4_t i, o, f, c;
} lstm64_acc;

/* a += one row of weights (4 gates of 4 units at *pw) times s */
static inline __attribute__((always_inline)) void
lstm64_row(lstm64_acc *a, const float **pw, float s)
{
    const float32x4x4_t w = gru_ld4_next(pw);
    a->i = vfmaq_n_f32(a->i, w.val[0], s);
    a->o = vfmaq_n_f32(a->o, w.val[1], s);
    a->f = vfmaq_n_f32(a->f, w.val[2], s);
    a->c = vfmaq_n_f32(a->c, w.val[3], s);
}

/* a += one row of weights times lane l of hv */
#define LSTM64_LANE(a, pw, hv, l)                                              \
    do {                                                                       \
        const float32x4x4_t w_ = gru_ld4_next(pw);                             \
        (a)->i = vfmaq_laneq_f32((a)->i, w_.val[0], hv, l);                    \
        (a)->o = vfmaq_laneq_f32((a)->o, w_.val[1], hv, l);                    \
        (a)->f = vfmaq_laneq_f32((a)->f, w_.val[2], hv, l);                    \
        (a)->c = vfmaq_laneq_f32((a)->c, w_.val[3], hv, l);                    \
    } while (0)

/* a += 4 hidden units' rows times h's lanes hv */
static inline __attribute__((always_inline)) void
lstm64_chunk(lstm64_acc *a, const float **pw, float32x4_t hv)
{
    LSTM64_LANE(a, pw, hv, 0);
    LSTM64_LANE(a, pw, hv, 1);
    LSTM64_LANE(a, pw, hv, 2);
    LSTM64_LANE(a, pw, hv, 3);
}

/* the cell on a group's sums: h of its 4 units, c updated */
static inline __attribute__((always_inline)) float32x4_t
lstm64_cell(const lstm64_acc *a, float32x4_t *c, const gru64_k *k)
{
    const float32x4_t i = vfmaq_f32(k->half, k->half, gru64_tanh4(a->i, k));
    const float32x4_t o = vfmaq_f32(k->half, k->half, gru64_tanh4(a->o, k));
    const float32x4_t f = vfmaq_f32(k->half, k->half, gru64_tanh4(a->f, k));
    *c = vfmaq_f32(vmulq_f32(f, *c), i, gru64_tanh4(a->c, k));
    return vmulq_f32(o, gru64_tanh4(*c, k));
}

/* a's 4 units from 4g on: their new h, and c (past H only in the last
 * group, whose c is then read and written through a padded copy) */
static inline __attribute__((always_inline)) void
lstm64_store(const lstm64_acc *a, int g, int H, float *c, float *hout,
             float *hout2, const gru64_k *k)
{
    const int u = 4 * g;
    if (u + 4 <= H) {
        float32x4_t cv = vld1q_f32(c + u);
        const float32x4_t h = lstm64_cell(a, &cv, k);
        vst1q_f32(c + u, cv);
        vst1q_f32(hout + u, h);
        if (hout2) vst1q_f32(hout2 + u, h);
    } else {
        float tc[4] = {0, 0, 0, 0}, th[4];
        for (int v = u; v < H; v++)
            tc[v - u] = c[v];
        float32x4_t cv = vld1q_f32(tc);
        vst1q_f32(th, lstm64_cell(a, &cv, k));
        vst1q_f32(tc, cv);
        for (int v = u; v < H; v++) {
            c[v] = tc[v - u];
            hout[v] = th[v - u];
            if (hout2) hout2[v] = th[v - u];
        }
    }
}

/* two (NG = 2, a constant) or one group from group g on; F their weights,
 * GF the floats per group, hl h's last partial vector zero-padded */
static inline __attribute__((always_inline)) void
lstm64_groups(int NG, int g, int H, int I, const float *F, size_t GF,
              const float *x, const float *hin, const float *hl, float *c,
              float *hout, float *hout2, const gru64_k *k)
{
    const float *w0 = F, *w1 = F + GF;
    const float32x4x4_t b0 = gru_ld4_next(&w0);
    const float32x4x4_t b1 = NG == 2 ? gru_ld4_next(&w1) : b0;
    lstm64_acc a0 = {b0.val[0], b0.val[1], b0.val[2], b0.val[3]};
    lstm64_acc a1 = {b1.val[0], b1.val[1], b1.val[2], b1.val[3]};
    for (int i = 0; i < I; i++) {
        lstm64_row(&a0, &w0, x[i]);
        if (NG == 2) lstm64_row(&a1, &w1, x[i]);
    }
    int i = 0;
    for (; i + 4 <= H; i += 4) {
        const float32x4_t hv = vld1q_f32(hin + i);
        lstm64_chunk(&a0, &w0, hv);
        if (NG == 2) lstm64_chunk(&a1, &w1, hv);
    }
    if (i < H) {
        const float32x4_t hv = vld1q_f32(hl);
        lstm64_chunk(&a0, &w0, hv);
        if (NG == 2) lstm64_chunk(&a1, &w1, hv);
    }
    lstm64_store(&a0, g, H, c, hout, hout2, k);
    if (NG == 2) lstm64_store(&a1, g + 1, H, c, hout, hout2, k);
}

void onyx_lstm_step_neon64(int H, int I, const float *F, const float *x,
                           const float *hin, float *c, float *hout,
                           float *hout2)
{
    const gru64_k k = gru64_consts();
    const size_t GF = onyx_lstm_group_floats(H, I);
    const int groups = (H + 3) / 4;
    float hl[4] = {0, 0, 0, 0};
    for (int i = H & ~3; i < H; i++)
        hl[i - (H & ~3)] = hin[i];
    int g = 0;
    for (; g + 2 <= groups; g += 2)
        lstm64_groups(2, g, H, I, F + g * GF, GF, x, hin, hl, c, hout, hout2,
                      &k);
    if (g < groups)
        lstm64_groups(1, g, H, I, F + g * GF, GF, x, hin, hl, c, hout, hout2,
                      &k);
}

#else
typedef int onyx_lstm_neon64_unused; /* ISO C wants a declaration in a file */
#endif
