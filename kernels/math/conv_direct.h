/* conv_direct.h - the direct 1-D convolution, for few input channels x
 * taps (conv.c's CONV_DIRECT path): no column matrix and no packing per
 * call, the products summed in registers straight from the input.
 *
 * X of one group is first split by phase (conv_direct_phases): for stride s
 * its row of channel c becomes s rows, phase r holding x[j*s + r - pad] for
 * j = 0, 1, ... (zeros on the padding). Tap t = (c, k), which reads
 * x[p*s + k*d - pad] for output p, then reads phase (k*d) % s at column
 * p + (k*d) / s: the output positions p, p+1, ... are consecutive floats of
 * one row whatever the stride, so a vector of outputs is one load a tap.
 *
 * A micro-kernel (one per ISA, kernels/arch/conv_direct_tmpl.h) keeps MR
 * output channels x a few vectors of positions in registers over every tap
 * t < K = Cg * KK: per tap, a load of the positions' inputs and one
 * broadcast weight per channel. */
#ifndef ONYX_CONV_DIRECT_H
#define ONYX_CONV_DIRECT_H

#include <stdint.h>

/* One group's product: y (Mg, P) = bias + sum over taps t of
 * Wp[., t] * x[off[t] + p]. */
typedef struct {
    float *y;           /* (Mg, P), row stride P */
    const float *x;     /* the phase rows (conv_direct_phases) */
    const int32_t *off; /* (K): where tap t's inputs start in x */
    const float *Wp;    /* (ceil(Mg / MR), K, MR): MR channels' weights per
                           tap, zeros past Mg (conv_direct_pack) */
    const float *bias;  /* (Mg) or NULL */
    int Mg, P, K;
} onyx_conv_direct_args;

typedef struct {
    const char *name;
    void (*fn)(const onyx_conv_direct_args *a);
    int mr; /* output channels at once: Wp's layout */
} onyx_conv_direct_kernel;

/* Floats past the last output position that the kernels may read in a
 * phase row (they load whole vectors): up to this many. */
enum { ONYX_CONV_DIRECT_OVER = 16 };

/* The micro-kernel for this CPU (chosen once); onyx_conv_direct_kernels
 * lists every usable one, the portable one first (for the unit tests). */
const onyx_conv_direct_kernel *onyx_conv_direct_pick(void);
int onyx_conv_direct_kernels(const onyx_conv_direct_kernel **list, int max);

/* The portable micro-kernel's tile, MR 4, and the x86 ones (kernels/arch/
 * conv_direct_x86.c), defined only there. */
void onyx_conv_direct_f32_v4(const onyx_conv_direct_args *a);
void onyx_conv_direct_f32_avx2(const onyx_conv_direct_args *a);
void onyx_conv_direct_f32_avx512(const onyx_conv_direct_args *a);

/* Wp for kernel tile mr from W (Mg, K): ceil(Mg / mr) * K * mr floats. */
void onyx_conv_direct_pack(float *Wp, const float *W, int Mg, int K, int mr);

/* off (Cg * KK) for a 1-D kernel of KK taps, dilation d, stride s, over
 * phase rows Lq floats long (channel c's phase r is row c * s + r). */
void onyx_conv_direct_offsets(int32_t *off, int64_t Cg, int64_t KK, int64_t d,
                              int64_t s, int64_t Lq);

/* Lq: a phase row's length for P outputs, KK taps, dilation d, stride s
 * (the last output's last tap, plus the vector overrun). */
int64_t onyx_conv_direct_row(int64_t P, int64_t KK, int64_t d, int64_t s);

/* xp (Cg * s, Lq) = the phase rows of x (Cg, L) with pb zeros in front. */
void onyx_conv_direct_phases(float *xp, const float *x, int64_t Cg, int64_t L,
                             int64_t pb, int64_t s, int64_t Lq);

#endif
