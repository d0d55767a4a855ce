/* rnn_act.h - the gate activations of the recurrent cells (rnn.c), 8 floats
 * a vector for x86-64 CPUs with AVX2, 16 with AVX-512 (rnn_act.c). */
#ifndef ONYX_RNN_ACT_H
#define ONYX_RNN_ACT_H

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define ONYX_RNN_ACT_AVX2 1
/* y (n,) = sigmoid(x) or tanh(x) (vmath.h's, the same bits as v4_sigmoid,
 * v4_tanh); y may be x. Call the _avx2 ones only when the CPU has AVX2, the
 * _avx512 ones only when it has AVX-512F. */
void onyx_rnn_sigmoid_avx2(float *y, const float *x, int n);
void onyx_rnn_tanh_avx2(float *y, const float *x, int n);
void onyx_rnn_sigmoid_avx512(float *y, const float *x, int n);
void onyx_rnn_tanh_avx512(float *y, const float *x, int n);
#else
#define ONYX_RNN_ACT_AVX2 0
#endif

#endif
