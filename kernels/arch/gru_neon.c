/* gru_neon.c - the fused GRU step (gru_arch.h) for 32-bit ARM NEON (Bela:
 * multiply-accumulates not fused, division by a reciprocal estimate and two
 * Newton steps; aarch64 has its own, arch/gru_neon64.c). Per group of 4 units
 * the 4 sums stay in registers: one structure load brings the initial sums,
 * each hidden unit adds 3 vectors times a lane of h (4 units of weights are 3
 * structure loads), and the cell is applied on the registers. */
#if defined(__ARM_NEON) && !defined(__aarch64__)
#include "gru_tanh_neon.h"

void onyx_gru_tanh_neon(float *y, const float *x, int n)
{
    int i = 0;
    for (; i + 4 <= n; i += 4)
        vst1q_f32(y + i, gru_tanh4(vld1q_f32(x + i)));
    if (i < n) {
        float t[4] = {0};
        for (int j = i; j < n; j++)
            t[j - i] = x[j];
        vst1q_f32(t, gru_tanh4(vld1q_f32(t)));
        for (int j = i; j < n; j++)
            y[j] = t[j - i];
    }
}

/* 4 hidden units' rows (3 blocks at *pw) times h's lanes, *pw past them */
#define GRU_ROW(v0, v1, v2, l)                                                 \
    do {                                                                       \
        az = GRU_MLA_LANE(az, v0, hv, l);                                      \
        ar = GRU_MLA_LANE(ar, v1, hv, l);                                      \
        ahr = GRU_MLA_LANE(ahr, v2, hv, l);                                    \
    } while (0)

static inline __attribute__((always_inline)) void
gru_chunk(const float **pw, float32x4_t hv, float32x4_t *paz, float32x4_t *par,
          float32x4_t *pahr)
{
    float32x4_t az = *paz, ar = *par, ahr = *pahr;
    const float32x4x4_t b0 = gru_ld4_next(pw), b1 = gru_ld4_next(pw),
                        b2 = gru_ld4_next(pw);
    GRU_ROW(b0.val[0], b0.val[1], b0.val[2], 0);
    GRU_ROW(b0.val[3], b1.val[0], b1.val[1], 1);
    GRU_ROW(b1.val[2], b1.val[3], b2.val[0], 2);
    GRU_ROW(b2.val[1], b2.val[2], b2.val[3], 3);
    *paz = az, *par = ar, *pahr = ahr;
}

void onyx_gru_step_neon(int H, int I, const float *F, const float *x,
                        const float *hin, float *hout, float *hout2)
{
    const int H4 = (H + 3) / 4 * 4;
    const float32x4_t half = vdupq_n_f32(0.5f);
    /* h's last partial vector, zero-padded */
    float hl[4] = {0, 0, 0, 0};
    for (int i = H & ~3; i < H; i++)
        hl[i - (H & ~3)] = hin[i];
    for (int g = 0; 4 * g < H; g++) {
        float32x4x4_t init = vld4q_f32(F);
        float32x4_t az = init.val[0], ar = init.val[1], ahr = init.val[2],
                    ahx = init.val[3];
        const float *w = F + 16;
        for (int i = 0; i < I; i++, w += 12) {
            float32x4x3_t r = vld3q_f32(w);
            az = GRU_MLA_N(az, r.val[0], x[i]);
            ar = GRU_MLA_N(ar, r.val[1], x[i]);
            ahx = GRU_MLA_N(ahx, r.val[2], x[i]);
        }
        int i = 0;
        for (; i + 4 <= H; i += 4)
            gru_chunk(&w, vld1q_f32(hin + i), &az, &ar, &ahr);
        if (i < H4) gru_chunk(&w, vld1q_f32(hl), &az, &ar, &ahr);
        F = w;
        const float32x4_t z = GRU_MLA(half, half, gru_tanh4(az));
        const float32x4_t r = GRU_MLA(half, half, gru_tanh4(ar));
        const float32x4_t n = gru_tanh4(GRU_MLA(ahx, r, ahr));
        const int u = 4 * g;
        if (u + 4 <= H) {
            float32x4_t h = GRU_MLA(n, z, vsubq_f32(vld1q_f32(hin + u), n));
            vst1q_f32(hout + u, h);
            if (hout2) vst1q_f32(hout2 + u, h);
        } else {
            float t[4];
            vst1q_f32(t, GRU_MLA(n, z, vsubq_f32(vld1q_f32(hl), n)));
            for (int j = u; j < H; j++) {
                hout[j] = t[j - u];
                if (hout2) hout2[j] = t[j - u];
            }
        }
    }
}

#else
typedef int onyx_gru_neon_unused; /* ISO C wants a declaration in a file */
#endif
