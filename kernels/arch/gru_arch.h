/* gru_arch.h - one step of a GRU with linear_before_reset (PyTorch's GRU)
 * for one batch row, the product and the cell fused: a portable reference
 * (gru_step.c) and one variant per vector ISA (arch/gru_neon.c for 32-bit
 * ARM, arch/gru_neon64.c for aarch64, arch/rnn_x86.c for AVX2 and
 * AVX-512), chosen once; each variant packs the weights in its own layout,
 * and the unit tests run every variant against the reference. rnn.c's
 * lean path calls it at every sample of a per-sample audio model. */
#ifndef ONYX_GRU_ARCH_H
#define ONYX_GRU_ARCH_H

#include <stddef.h>

/* Packed layout (onyx_gru_pack): the units in groups of 4; group g (units
 * 4g .. 4g+3) is onyx_gru_group_floats(H, I) floats:
 *   16        the initial sums, 4 vectors interleaved by 4 (what vld4q
 *             deals back): bz/2, br/2, Rbh, Wbh
 *   12 * I    per input i, 3 vectors interleaved by 3 (vld3q): Wz/2,
 *             Wr/2, Wh of input i
 *   12 * H4   per hidden unit i (H4 = H rounded up to 4; rows past H are
 *             0), 3 vectors Rz/2, Rr/2, Rh of unit i; 4 units' 12 vectors
 *             in 3 blocks of 4 vectors interleaved by 4 (vld4q)
 * Units past H in the last group hold 0. The z and r parts are halved
 * (exactly): sigmoid(a) = 1/2 + tanh(a/2)/2, so the sums are the tanh's
 * arguments. */
size_t onyx_gru_group_floats(int H, int I);
/* floats of the whole packed step: (H + 3) / 4 groups */
size_t onyx_gru_pack_floats(int H, int I);
/* W (3H, I), R (3H, H) in ONNX's gate order z r h; Wb, Rb (3H) each, or
 * NULL for zeros */
void onyx_gru_pack(float *F, int H, int I, const float *W, const float *R,
                   const float *Wb, const float *Rb);

/* The plain layout of the x86 variants (onyx_gru_pack_vec): the units in
 * groups of VL (a vector); group g (units VL g .. VL g + VL - 1, past H 0)
 * is onyx_gru_vec_group_floats(VL, H, I) floats, in vectors of VL:
 *   4 vectors        the initial sums bz/2, br/2, Rbh, Wbh
 *   3 per input i    Wz/2, Wr/2, Wh of input i
 *   3 per hidden i   Rz/2, Rr/2, Rh of hidden unit i (i < H) */
size_t onyx_gru_vec_group_floats(int VL, int H, int I);
size_t onyx_gru_vec_pack_floats(int VL, int H, int I);
void onyx_gru_pack_vec(float *F, int VL, int H, int I, const float *W,
                       const float *R, const float *Wb, const float *Rb);

/* hout (H) = the GRU step (linear_before_reset) from x (I) and hin (H):
 *   z = sigmoid(Wz x + Rz h + bz), r = sigmoid(Wr x + Rr h + br),
 *   n = tanh(Wh x + Wbh + r (.) (Rh h + Rbh)), hout = n + z (.) (h - n),
 * with sigmoid and tanh as onyx_gru_tanh below. hout2, when not NULL,
 * gets the same H floats. hout and hout2 must not overlap hin. */
typedef void onyx_gru_step_fn(int H, int I, const float *F, const float *x,
                              const float *hin, float *hout, float *hout2);
/* y (n) = tanh(x) as the step computes it: x clamped to [-7.9, 7.9], then
 * x P(x^2) / Q(x^2), P and Q of degree 4 (a rational fit of tanh on
 * [0, 9] made for onyx, relative error 2.1e-8 in exact arithmetic). In
 * float, with an exact division: at most 5.5 ulp, 3.3e-7 relative, |y|
 * < 1; the sigmoid 1/2 + tanh(x/2)/2 is then within 2e-7 absolute.
 * 32-bit NEON divides by a reciprocal estimate and two Newton steps;
 * aarch64 sums the polynomials from the powers of x^2 (arch/gru_tanh_neon.h,
 * 4.5 ulp at most over [-12, 12]). */
typedef void onyx_gru_tanh_fn(float *y, const float *x, int n);

#define ONYX_GRU_CLAMP 7.9f
#define ONYX_GRU_P1    1.338103265e-01f
#define ONYX_GRU_P2    3.495596116e-03f
#define ONYX_GRU_P3    2.060921179e-05f
#define ONYX_GRU_P4    1.335483635e-08f
#define ONYX_GRU_Q1    4.671434760e-01f
#define ONYX_GRU_Q2    2.587701194e-02f
#define ONYX_GRU_Q3    3.285647836e-04f
#define ONYX_GRU_Q4    7.776630468e-07f

void onyx_gru_step_ref(int H, int I, const float *F, const float *x,
                       const float *hin, float *hout, float *hout2);
void onyx_gru_tanh_ref(float *y, const float *x, int n);
void onyx_gru_step_neon(int H, int I, const float *F, const float *x,
                        const float *hin, float *hout, float *hout2);
void onyx_gru_tanh_neon(float *y, const float *x, int n);
void onyx_gru_step_neon64(int H, int I, const float *F, const float *x,
                          const float *hin, float *hout, float *hout2);
void onyx_gru_tanh_neon64(float *y, const float *x, int n);
void onyx_gru_step_avx2(int H, int I, const float *F, const float *x,
                        const float *hin, float *hout, float *hout2);
void onyx_gru_tanh_avx2(float *y, const float *x, int n);
void onyx_gru_step_avx512(int H, int I, const float *F, const float *x,
                          const float *hin, float *hout, float *hout2);
void onyx_gru_tanh_avx512(float *y, const float *x, int n);

typedef struct onyx_gru_variant {
    const char *name;
    onyx_gru_step_fn *step;
    onyx_gru_tanh_fn *tanh;
    /* its layout: the floats of the packed step, and the packing (W, R,
     * Wb, Rb as onyx_gru_pack's) */
    size_t (*pack_floats)(int H, int I);
    void (*pack)(float *F, int H, int I, const float *W, const float *R,
                 const float *Wb, const float *Rb);
} onyx_gru_variant;

/* The variants this CPU runs, the reference first; returns how many. The
 * last one is the one to use; when that is the reference (no vector
 * variant), rnn.c keeps its own lean path. */
int onyx_gru_variants(const onyx_gru_variant **v);

#endif
