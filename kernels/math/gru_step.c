/* gru_step.c - the fused GRU step of arch/gru_arch.h: its two layouts'
 * packing, its portable reference (one unit at a time, in the order the
 * NEON variants sum), and the choice of variant. */
#include "../arch/gru_arch.h"

#include <string.h>

size_t onyx_gru_group_floats(int H, int I)
{
    return 16 + 12 * (size_t)I + 12 * (size_t)((H + 3) / 4 * 4);
}

size_t onyx_gru_pack_floats(int H, int I)
{
    return (size_t)((H + 3) / 4) * onyx_gru_group_floats(H, I);
}

void onyx_gru_pack(float *F, int H, int I, const float *W, const float *R,
                   const float *Wb, const float *Rb)
{
    const int H4 = (H + 3) / 4 * 4;
    memset(F, 0, onyx_gru_pack_floats(H, I) * sizeof(float));
    for (int g = 0; g < (H + 3) / 4; g++, F += onyx_gru_group_floats(H, I))
        for (int l = 0; l < 4; l++) {
            const int u = 4 * g + l; /* unit */
            if (u >= H) break;
            const int z = u, r = H + u, h = 2 * H + u; /* rows of W, R */
            float *init = F, *xr = F + 16, *hr = F + 16 + 12 * I;
            init[4 * l + 0] = 0.5f * ((Wb ? Wb[z] : 0) + (Rb ? Rb[z] : 0));
            init[4 * l + 1] = 0.5f * ((Wb ? Wb[r] : 0) + (Rb ? Rb[r] : 0));
            init[4 * l + 2] = Rb ? Rb[h] : 0;
            init[4 * l + 3] = Wb ? Wb[h] : 0;
            for (int i = 0; i < I; i++) {
                float *row = xr + 12 * i;
                row[3 * l + 0] = 0.5f * W[(size_t)z * I + i];
                row[3 * l + 1] = 0.5f * W[(size_t)r * I + i];
                row[3 * l + 2] = W[(size_t)h * I + i];
            }
            for (int i = 0; i < H4 && i < H; i++) {
                /* vector v = 3 (i % 4) + gate of the chunk i / 4: block
                 * v / 4, slot v % 4 of that block */
                float *chunk = hr + 48 * (i / 4);
                const int v0 = 3 * (i % 4);
                const float w3[3] = {0.5f * R[(size_t)z * H + i],
                                     0.5f * R[(size_t)r * H + i],
                                     R[(size_t)h * H + i]};
                for (int q = 0; q < 3; q++) {
                    int v = v0 + q;
                    chunk[16 * (v / 4) + 4 * l + v % 4] = w3[q];
                }
            }
        }
}

size_t onyx_gru_vec_group_floats(int VL, int H, int I)
{
    return (size_t)VL * (4 + 3 * (size_t)I + 3 * (size_t)H);
}

size_t onyx_gru_vec_pack_floats(int VL, int H, int I)
{
    return (size_t)((H + VL - 1) / VL) * onyx_gru_vec_group_floats(VL, H, I);
}

void onyx_gru_pack_vec(float *F, int VL, int H, int I, const float *W,
                       const float *R, const float *Wb, const float *Rb)
{
    memset(F, 0, onyx_gru_vec_pack_floats(VL, H, I) * sizeof(float));
    const size_t GF = onyx_gru_vec_group_floats(VL, H, I);
    for (int u = 0; u < H; u++) {
        float *f = F + (size_t)(u / VL) * GF + u % VL; /* lane of unit u */
        const int z = u, r = H + u, h = 2 * H + u;     /* rows of W, R */
        f[0] = 0.5f * ((Wb ? Wb[z] : 0) + (Rb ? Rb[z] : 0));
        f[VL] = 0.5f * ((Wb ? Wb[r] : 0) + (Rb ? Rb[r] : 0));
        f[2 * VL] = Rb ? Rb[h] : 0;
        f[3 * VL] = Wb ? Wb[h] : 0;
        f += 4 * VL;
        for (int i = 0; i < I; i++, f += 3 * VL) {
            f[0] = 0.5f * W[(size_t)z * I + i];
            f[VL] = 0.5f * W[(size_t)r * I + i];
            f[2 * VL] = W[(size_t)h * I + i];
        }
        for (int i = 0; i < H; i++, f += 3 * VL) {
            f[0] = 0.5f * R[(size_t)z * H + i];
            f[VL] = 0.5f * R[(size_t)r * H + i];
            f[2 * VL] = R[(size_t)h * H + i];
        }
    }
}

static float gru_tanh1(float x)
{
    x = x < -ONYX_GRU_CLAMP  ? -ONYX_GRU_CLAMP
        : x > ONYX_GRU_CLAMP ? ONYX_GRU_CLAMP
                             : x;
    const float z = x * x;
    float p = ONYX_GRU_P4 * z + ONYX_GRU_P3;
    p = p * z + ONYX_GRU_P2;
    p = p * z + ONYX_GRU_P1;
    p = (p * z + 1.0f) * x;
    float q = ONYX_GRU_Q4 * z + ONYX_GRU_Q3;
    q = q * z + ONYX_GRU_Q2;
    q = q * z + ONYX_GRU_Q1;
    q = q * z + 1.0f;
    return p / q;
}

void onyx_gru_tanh_ref(float *y, const float *x, int n)
{
    for (int i = 0; i < n; i++)
        y[i] = gru_tanh1(x[i]);
}

void onyx_gru_step_ref(int H, int I, const float *F, const float *x,
                       const float *hin, float *hout, float *hout2)
{
    const int H4 = (H + 3) / 4 * 4;
    for (int g = 0; g < (H + 3) / 4; g++, F += onyx_gru_group_floats(H, I))
        for (int l = 0; l < 4 && 4 * g + l < H; l++) {
            const int u = 4 * g + l;
            float az = F[4 * l], ar = F[4 * l + 1], ahr = F[4 * l + 2],
                  ahx = F[4 * l + 3];
            const float *xr = F + 16, *hr = F + 16 + 12 * I;
            for (int i = 0; i < I; i++) {
                az += x[i] * xr[12 * i + 3 * l];
                ar += x[i] * xr[12 * i + 3 * l + 1];
                ahx += x[i] * xr[12 * i + 3 * l + 2];
            }
            for (int i = 0; i < H4 && i < H; i++) {
                const float *chunk = hr + 48 * (i / 4);
                float w3[3];
                for (int q = 0; q < 3; q++) {
                    int v = 3 * (i % 4) + q;
                    w3[q] = chunk[16 * (v / 4) + 4 * l + v % 4];
                }
                az += hin[i] * w3[0];
                ar += hin[i] * w3[1];
                ahr += hin[i] * w3[2];
            }
            const float z = 0.5f + 0.5f * gru_tanh1(az);
            const float r = 0.5f + 0.5f * gru_tanh1(ar);
            const float n = gru_tanh1(ahx + r * ahr);
            const float h = n + z * (hin[u] - n);
            hout[u] = h;
            if (hout2) hout2[u] = h;
        }
}

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define GRU_X86 1
static size_t gru_floats8(int H, int I)
{
    return onyx_gru_vec_pack_floats(8, H, I);
}
static size_t gru_floats16(int H, int I)
{
    return onyx_gru_vec_pack_floats(16, H, I);
}
static void gru_pack8(float *F, int H, int I, const float *W, const float *R,
                      const float *Wb, const float *Rb)
{
    onyx_gru_pack_vec(F, 8, H, I, W, R, Wb, Rb);
}
static void gru_pack16(float *F, int H, int I, const float *W, const float *R,
                       const float *Wb, const float *Rb)
{
    onyx_gru_pack_vec(F, 16, H, I, W, R, Wb, Rb);
}
#else
#define GRU_X86 0
#endif

/* The variants this build has, reference first; which of them the CPU runs
 * is decided once, when the library is loaded (x86-64), or at compile time
 * (NEON). */
static const onyx_gru_variant gru_all[] = {
    {"ref", onyx_gru_step_ref, onyx_gru_tanh_ref, onyx_gru_pack_floats,
     onyx_gru_pack},
#if defined(__aarch64__)
    {"neon64", onyx_gru_step_neon64, onyx_gru_tanh_neon64, onyx_gru_pack_floats,
     onyx_gru_pack},
#elif defined(__ARM_NEON)
    {"neon", onyx_gru_step_neon, onyx_gru_tanh_neon, onyx_gru_pack_floats,
     onyx_gru_pack},
#endif
#if GRU_X86
    {"avx2", onyx_gru_step_avx2, onyx_gru_tanh_avx2, gru_floats8, gru_pack8},
    {"avx512", onyx_gru_step_avx512, onyx_gru_tanh_avx512, gru_floats16,
     gru_pack16},
#endif
};
#if defined(__ARM_NEON)
static int gru_n_usable = 2;
#else
static int gru_n_usable = 1;
#endif

#if GRU_X86
__attribute__((constructor)) static void gru_pick(void)
{
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
        return;
    gru_n_usable = __builtin_cpu_supports("avx512f") ? 3 : 2;
}
#endif

int onyx_gru_variants(const onyx_gru_variant **v)
{
    *v = gru_all;
    return gru_n_usable;
}
