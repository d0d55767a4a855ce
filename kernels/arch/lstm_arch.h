/* lstm_arch.h - one step of an LSTM (PyTorch's: no peepholes, f not tied
 * to i) for one batch row, the product and the cell fused, as gru_arch.h
 * does for the GRU: a portable reference (lstm_step.c) and one variant per
 * vector ISA (arch/lstm_neon.c for 32-bit ARM, arch/lstm_neon64.c for
 * aarch64, arch/rnn_x86.c for AVX2 and AVX-512), chosen once, each packing
 * the weights in its own layout; rnn.c's lean path calls it at every
 * sample. */
#ifndef ONYX_LSTM_ARCH_H
#define ONYX_LSTM_ARCH_H

#include <stddef.h>

/* Packed layout (onyx_lstm_pack): the units in groups of 4; group g (units
 * 4g .. 4g+3) is onyx_lstm_group_floats(H, I) = 16 (1 + I + H4) floats (H4
 * = H rounded up to 4), in rows of 16: the 4 vectors i/2, o/2, f/2, c of
 * the group's units interleaved by 4 (what vld4q deals back; unit l's gate
 * q at 4 l + q):
 *   row 0           the biases Wb + Rb
 *   row 1 + i       W's weights of input i (i < I)
 *   row 1 + I + j   R's weights of hidden unit j (j < H4; 0 past H)
 * Units past H in the last group hold 0. The i, o and f parts are halved
 * (exactly), as gru_arch.h's z and r: sigmoid(a) = 1/2 + tanh(a/2)/2. */
size_t onyx_lstm_group_floats(int H, int I);
/* floats of the whole packed step: (H + 3) / 4 groups */
size_t onyx_lstm_pack_floats(int H, int I);
/* W (4H, I), R (4H, H) in ONNX's gate order i o f c; Wb, Rb (4H) each, or
 * NULL for zeros */
void onyx_lstm_pack(float *F, int H, int I, const float *W, const float *R,
                    const float *Wb, const float *Rb);

/* The plain layout of the x86 variants (onyx_lstm_pack_vec): the units in
 * groups of VL (a vector); group g (units VL g .. VL g + VL - 1, past H 0)
 * is onyx_lstm_vec_group_floats(VL, H, I) = 4 VL (1 + I + H) floats, rows
 * of 4 vectors i/2, o/2, f/2, c of the group's units: the biases, then one
 * row per input, then one per hidden unit. */
size_t onyx_lstm_vec_group_floats(int VL, int H, int I);
size_t onyx_lstm_vec_pack_floats(int VL, int H, int I);
void onyx_lstm_pack_vec(float *F, int VL, int H, int I, const float *W,
                        const float *R, const float *Wb, const float *Rb);

/* hout (H) and c (H, updated in place) = the LSTM step from x (I), hin (H)
 * and c:
 *   i = sigmoid(Wi x + Ri h + bi), o = sigmoid(Wo x + Ro h + bo),
 *   f = sigmoid(Wf x + Rf h + bf), g = tanh(Wc x + Rc h + bc),
 *   c = f (.) c + i (.) g, hout = o (.) tanh(c),
 * with sigmoid and tanh as gru_arch.h's onyx_gru_tanh. hout2, when not
 * NULL, gets the same H floats. hout and hout2 must not overlap hin. */
typedef void onyx_lstm_step_fn(int H, int I, const float *F, const float *x,
                               const float *hin, float *c, float *hout,
                               float *hout2);

void onyx_lstm_step_ref(int H, int I, const float *F, const float *x,
                        const float *hin, float *c, float *hout, float *hout2);
void onyx_lstm_step_neon(int H, int I, const float *F, const float *x,
                         const float *hin, float *c, float *hout, float *hout2);
void onyx_lstm_step_neon64(int H, int I, const float *F, const float *x,
                           const float *hin, float *c, float *hout,
                           float *hout2);
void onyx_lstm_step_avx2(int H, int I, const float *F, const float *x,
                         const float *hin, float *c, float *hout, float *hout2);
void onyx_lstm_step_avx512(int H, int I, const float *F, const float *x,
                           const float *hin, float *c, float *hout,
                           float *hout2);

typedef struct onyx_lstm_variant {
    const char *name;
    onyx_lstm_step_fn *step;
    /* its layout: the floats of the packed step, and the packing (W, R,
     * Wb, Rb as onyx_lstm_pack's) */
    size_t (*pack_floats)(int H, int I);
    void (*pack)(float *F, int H, int I, const float *W, const float *R,
                 const float *Wb, const float *Rb);
} onyx_lstm_variant;

/* The variants this CPU runs, the reference first; returns how many. The
 * last one is the one to use; when that is the reference (no vector
 * variant), rnn.c keeps its own lean path. */
int onyx_lstm_variants(const onyx_lstm_variant **v);

#endif
