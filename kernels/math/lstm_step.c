/* lstm_step.c - the fused LSTM step of arch/lstm_arch.h: its packing, its
 * portable reference (one unit at a time, in the order the vector variants
 * sum), and the choice of variant. */
#include "../arch/gru_arch.h"
#include "../arch/lstm_arch.h"

#include <string.h>

size_t onyx_lstm_group_floats(int H, int I)
{
    return 16 * (1 + (size_t)I + (size_t)((H + 3) / 4 * 4));
}

size_t onyx_lstm_pack_floats(int H, int I)
{
    return (size_t)((H + 3) / 4) * onyx_lstm_group_floats(H, I);
}

void onyx_lstm_pack(float *F, int H, int I, const float *W, const float *R,
                    const float *Wb, const float *Rb)
{
    memset(F, 0, onyx_lstm_pack_floats(H, I) * sizeof(float));
    for (int g = 0; g < (H + 3) / 4; g++, F += onyx_lstm_group_floats(H, I))
        for (int l = 0; l < 4 && 4 * g + l < H; l++)
            for (int q = 0; q < 4; q++) {
                const int row = q * H + 4 * g + l; /* of W, R, Wb, Rb */
                const float s = q < 3 ? 0.5f : 1.0f;
                float *f = F + 4 * l + q;
                f[0] = s * ((Wb ? Wb[row] : 0) + (Rb ? Rb[row] : 0));
                for (int i = 0; i < I; i++)
                    f[16 * (1 + i)] = s * W[(size_t)row * I + i];
                for (int j = 0; j < H; j++)
                    f[16 * (1 + I + j)] = s * R[(size_t)row * H + j];
            }
}

void onyx_lstm_step_ref(int H, int I, const float *F, const float *x,
                        const float *hin, float *c, float *hout, float *hout2)
{
    for (int g = 0; g < (H + 3) / 4; g++, F += onyx_lstm_group_floats(H, I))
        for (int l = 0; l < 4 && 4 * g + l < H; l++) {
            const int u = 4 * g + l;
            float a[4]; /* i/2 o/2 f/2 c */
            for (int q = 0; q < 4; q++) {
                const float *f = F + 4 * l + q;
                a[q] = f[0];
                for (int i = 0; i < I; i++)
                    a[q] += x[i] * f[16 * (1 + i)];
                for (int j = 0; j < H; j++)
                    a[q] += hin[j] * f[16 * (1 + I + j)];
            }
            onyx_gru_tanh_ref(a, a, 4);
            const float gi = 0.5f + 0.5f * a[0], go = 0.5f + 0.5f * a[1],
                        gf = 0.5f + 0.5f * a[2];
            float cn = gf * c[u] + gi * a[3], tc;
            onyx_gru_tanh_ref(&tc, &cn, 1);
            c[u] = cn;
            hout[u] = go * tc;
            if (hout2) hout2[u] = hout[u];
        }
}

static const onyx_lstm_variant lstm_all[] = {
    {"ref", onyx_lstm_step_ref},
#if defined(__aarch64__)
    {"neon64", onyx_lstm_step_neon64},
#elif defined(__ARM_NEON)
    {"neon", onyx_lstm_step_neon},
#endif
};

int onyx_lstm_variants(const onyx_lstm_variant **v)
{
    *v = lstm_all;
    return (int)(sizeof lstm_all / sizeof lstm_all[0]);
}
