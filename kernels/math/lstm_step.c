/* lstm_step.c - the fused LSTM step of arch/lstm_arch.h: its two layouts'
 * packing, its portable reference (one unit at a time, in the order the
 * NEON variants sum), and the choice of variant. */
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

size_t onyx_lstm_vec_group_floats(int VL, int H, int I)
{
    return 4 * (size_t)VL * (1 + (size_t)I + (size_t)H);
}

size_t onyx_lstm_vec_pack_floats(int VL, int H, int I)
{
    return (size_t)((H + VL - 1) / VL) * onyx_lstm_vec_group_floats(VL, H, I);
}

void onyx_lstm_pack_vec(float *F, int VL, int H, int I, const float *W,
                        const float *R, const float *Wb, const float *Rb)
{
    memset(F, 0, onyx_lstm_vec_pack_floats(VL, H, I) * sizeof(float));
    const size_t GF = onyx_lstm_vec_group_floats(VL, H, I);
    for (int u = 0; u < H; u++)
        for (int q = 0; q < 4; q++) {
            const int row = q * H + u; /* of W, R, Wb, Rb */
            const float s = q < 3 ? 0.5f : 1.0f;
            float *f = F + (size_t)(u / VL) * GF + q * VL + u % VL;
            f[0] = s * ((Wb ? Wb[row] : 0) + (Rb ? Rb[row] : 0));
            for (int i = 0; i < I; i++)
                f[(size_t)4 * VL * (1 + i)] = s * W[(size_t)row * I + i];
            for (int j = 0; j < H; j++)
                f[(size_t)4 * VL * (1 + I + j)] = s * R[(size_t)row * H + j];
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

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define LSTM_X86 1
static size_t lstm_floats8(int H, int I)
{
    return onyx_lstm_vec_pack_floats(8, H, I);
}
static size_t lstm_floats16(int H, int I)
{
    return onyx_lstm_vec_pack_floats(16, H, I);
}
static void lstm_pack8(float *F, int H, int I, const float *W, const float *R,
                       const float *Wb, const float *Rb)
{
    onyx_lstm_pack_vec(F, 8, H, I, W, R, Wb, Rb);
}
static void lstm_pack16(float *F, int H, int I, const float *W, const float *R,
                        const float *Wb, const float *Rb)
{
    onyx_lstm_pack_vec(F, 16, H, I, W, R, Wb, Rb);
}
#else
#define LSTM_X86 0
#endif

/* The variants this build has, reference first; which of them the CPU runs
 * is decided once, when the library is loaded (x86-64), or at compile time
 * (NEON). */
static const onyx_lstm_variant lstm_all[] = {
    {"ref", onyx_lstm_step_ref, onyx_lstm_pack_floats, onyx_lstm_pack},
#if defined(__aarch64__)
    {"neon64", onyx_lstm_step_neon64, onyx_lstm_pack_floats, onyx_lstm_pack},
#elif defined(__ARM_NEON)
    {"neon", onyx_lstm_step_neon, onyx_lstm_pack_floats, onyx_lstm_pack},
#endif
#if LSTM_X86
    {"avx2", onyx_lstm_step_avx2, lstm_floats8, lstm_pack8},
    {"avx512", onyx_lstm_step_avx512, lstm_floats16, lstm_pack16},
#endif
};
#if defined(__ARM_NEON)
static int lstm_n_usable = 2;
#else
static int lstm_n_usable = 1;
#endif

#if LSTM_X86
__attribute__((constructor)) static void lstm_pick(void)
{
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
        return;
    lstm_n_usable = __builtin_cpu_supports("avx512f") ? 3 : 2;
}
#endif

int onyx_lstm_variants(const onyx_lstm_variant **v)
{
    *v = lstm_all;
    return lstm_n_usable;
}
