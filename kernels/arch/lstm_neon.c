/* lstm_neon.c - the fused LSTM step (lstm_arch.h) for 32-bit ARM NEON
 * (Bela), as arch/gru_neon.c does the GRU's: per group of 4 units the 4
 * sums stay in registers, each hidden unit adds one structure load (its 4
 * gates' weights) times a lane of h, and the cell is applied on the
 * registers; the tanh is gru_tanh_neon.h's. */
#if defined(__ARM_NEON) && !defined(__aarch64__)
#include "gru_tanh_neon.h"
#include "lstm_arch.h"

/* a group's 4 sums: i/2, o/2, f/2 (tanh arguments) and c */
typedef struct lstm_acc {
    float32x4_t i, o, f, c;
} lstm_acc;

/* a += the row of weights at *pw (4 gates of 4 units) times lane l of hv,
 * *pw past it */
#define LSTM_LANE(a, pw, hv, l)                                                \
    do {                                                                       \
        const float32x4x4_t r_ = gru_ld4_next(pw);                             \
        (a)->i = GRU_MLA_LANE((a)->i, r_.val[0], hv, l);                       \
        (a)->o = GRU_MLA_LANE((a)->o, r_.val[1], hv, l);                       \
        (a)->f = GRU_MLA_LANE((a)->f, r_.val[2], hv, l);                       \
        (a)->c = GRU_MLA_LANE((a)->c, r_.val[3], hv, l);                       \
    } while (0)

/* a += 4 hidden units' rows times h's lanes hv */
static inline __attribute__((always_inline)) void
lstm_chunk(lstm_acc *a, const float **pw, float32x4_t hv)
{
    LSTM_LANE(a, pw, hv, 0);
    LSTM_LANE(a, pw, hv, 1);
    LSTM_LANE(a, pw, hv, 2);
    LSTM_LANE(a, pw, hv, 3);
}

void onyx_lstm_step_neon(int H, int I, const float *F, const float *x,
                         const float *hin, float *c, float *hout, float *hout2)
{
    const float32x4_t half = vdupq_n_f32(0.5f);
    float hl[4] = {0, 0, 0, 0}; /* h's last partial vector, zero-padded */
    for (int i = H & ~3; i < H; i++)
        hl[i - (H & ~3)] = hin[i];
    for (int g = 0; 4 * g < H; g++) {
        const float *w = F;
        const float32x4x4_t b = gru_ld4_next(&w);
        lstm_acc a = {b.val[0], b.val[1], b.val[2], b.val[3]};
        for (int i = 0; i < I; i++) {
            const float32x4x4_t r = gru_ld4_next(&w);
            a.i = GRU_MLA_N(a.i, r.val[0], x[i]);
            a.o = GRU_MLA_N(a.o, r.val[1], x[i]);
            a.f = GRU_MLA_N(a.f, r.val[2], x[i]);
            a.c = GRU_MLA_N(a.c, r.val[3], x[i]);
        }
        int i = 0;
        for (; i + 4 <= H; i += 4)
            lstm_chunk(&a, &w, vld1q_f32(hin + i));
        if (i < H) lstm_chunk(&a, &w, vld1q_f32(hl));
        F = w;
        const float32x4_t gi = GRU_MLA(half, half, gru_tanh4(a.i));
        const float32x4_t go = GRU_MLA(half, half, gru_tanh4(a.o));
        const float32x4_t gf = GRU_MLA(half, half, gru_tanh4(a.f));
        const float32x4_t gc = gru_tanh4(a.c);
        const int u = 4 * g;
        if (u + 4 <= H) {
            const float32x4_t cn =
                GRU_MLA(vmulq_f32(gf, vld1q_f32(c + u)), gi, gc);
            const float32x4_t h = vmulq_f32(go, gru_tanh4(cn));
            vst1q_f32(c + u, cn);
            vst1q_f32(hout + u, h);
            if (hout2) vst1q_f32(hout2 + u, h);
        } else {
            float tc[4] = {0, 0, 0, 0}, th[4];
            for (int v = u; v < H; v++)
                tc[v - u] = c[v];
            const float32x4_t cn =
                GRU_MLA(vmulq_f32(gf, vld1q_f32(tc)), gi, gc);
            vst1q_f32(th, vmulq_f32(go, gru_tanh4(cn)));
            vst1q_f32(tc, cn);
            for (int v = u; v < H; v++) {
                c[v] = tc[v - u];
                hout[v] = th[v - u];
                if (hout2) hout2[v] = th[v - u];
            }
        }
    }
}

#else
typedef int onyx_lstm_neon_unused; /* ISO C wants a declaration in a file */
#endif
