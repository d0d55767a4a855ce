/* lstm_neon.c - the fused LSTM step (lstm_arch.h) for 32-bit ARM NEON
 * (Bela), as arch/gru_neon.c does the GRU's: per group of 4 units the 4
 * sums stay in registers, each hidden unit adds one structure load (its 4
 * gates' weights) times a lane of h, and the cell is applied on the
 * registers; the tanh is gru_tanh_neon.h's. */
#if defined(__ARM_NEON) && !defined(__aarch64__)
#include "gru_tanh_neon.h"
#include "lstm_arch.h"

/* the 4 sums += one row of weights at w times lane l of hv */
#define LSTM_LANE(w, hv, l)                                                    \
    do {                                                                       \
        const float32x4x4_t r_ = vld4q_f32(w);                                 \
        ai = GRU_MLA_LANE(ai, r_.val[0], hv, l);                               \
        ao = GRU_MLA_LANE(ao, r_.val[1], hv, l);                               \
        af = GRU_MLA_LANE(af, r_.val[2], hv, l);                               \
        ac = GRU_MLA_LANE(ac, r_.val[3], hv, l);                               \
    } while (0)

void onyx_lstm_step_neon(int H, int I, const float *F, const float *x,
                         const float *hin, float *c, float *hout, float *hout2)
{
    const int H4 = (H + 3) / 4 * 4;
    const float32x4_t half = vdupq_n_f32(0.5f);
    float hl[4] = {0, 0, 0, 0}; /* h's last partial vector, zero-padded */
    for (int i = H & ~3; i < H; i++)
        hl[i - (H & ~3)] = hin[i];
    for (int g = 0; 4 * g < H; g++) {
        const float32x4x4_t b = vld4q_f32(F);
        float32x4_t ai = b.val[0], ao = b.val[1], af = b.val[2], ac = b.val[3];
        const float *w = F + 16;
        for (int i = 0; i < I; i++, w += 16) {
            const float32x4x4_t r = vld4q_f32(w);
            ai = GRU_MLA_N(ai, r.val[0], x[i]);
            ao = GRU_MLA_N(ao, r.val[1], x[i]);
            af = GRU_MLA_N(af, r.val[2], x[i]);
            ac = GRU_MLA_N(ac, r.val[3], x[i]);
        }
        for (int i = 0; i < H4; i += 4, w += 64) {
            const float32x4_t hv = vld1q_f32(i + 4 <= H ? hin + i : hl);
            LSTM_LANE(w, hv, 0);
            LSTM_LANE(w + 16, hv, 1);
            LSTM_LANE(w + 32, hv, 2);
            LSTM_LANE(w + 48, hv, 3);
        }
        F = w;
        const float32x4_t gi = GRU_MLA(half, half, gru_tanh4(ai));
        const float32x4_t go = GRU_MLA(half, half, gru_tanh4(ao));
        const float32x4_t gf = GRU_MLA(half, half, gru_tanh4(af));
        const float32x4_t gc = gru_tanh4(ac);
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
