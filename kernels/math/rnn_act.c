/* rnn_act.c - sigmoid and tanh for the recurrent cells, 8 lanes wide on
 * x86-64 with AVX2 and 16 with AVX-512. vmath.h's one-lane routines in flat
 * loops that the auto-vectoriser widens (as in unary.c): the same bits as
 * the 4-lane routines rnn.c uses elsewhere, at a half or a quarter of the
 * instructions. For a GRU with 32 units at one sample a call these
 * activations are a third of the time. */
#include "rnn_act.h"

#if ONYX_RNN_ACT_AVX2

/* vectorise loops with an epilogue, and the selects into blends (results
 * are unchanged: no reassociation, no contraction in ISO C mode) */
#pragma GCC optimize("tree-vectorize", "vect-cost-model=dynamic",              \
                     "no-trapping-math")

#define VMATH_LANES 1
#include "vmath.h"

#define RNN_AVX2 __attribute__((target("avx2")))
/* GCC's generic tuning would keep AVX-512 loops at 256 bits */
#define RNN_AVX512                                                             \
    __attribute__((target("avx512f,avx512dq,prefer-vector-width=512")))

RNN_AVX2 void onyx_rnn_sigmoid_avx2(float *y, const float *x, int n)
{
    for (int i = 0; i < n; i++)
        y[i] = v1_sigmoid(x[i]);
}

RNN_AVX2 void onyx_rnn_tanh_avx2(float *y, const float *x, int n)
{
    for (int i = 0; i < n; i++)
        y[i] = v1_tanh(x[i]);
}

RNN_AVX512 void onyx_rnn_sigmoid_avx512(float *y, const float *x, int n)
{
    for (int i = 0; i < n; i++)
        y[i] = v1_sigmoid(x[i]);
}

RNN_AVX512 void onyx_rnn_tanh_avx512(float *y, const float *x, int n)
{
    for (int i = 0; i < n; i++)
        y[i] = v1_tanh(x[i]);
}

#else
typedef int onyx_rnn_act_unused; /* ISO C wants a declaration in a file */
#endif
