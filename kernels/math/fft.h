/* fft.h - one complex FFT of any length, shared by DFT and STFT.
 *
 * A plan is made once (in prepare) for a length n and holds every twiddle:
 * radix-2 when n is a power of two, a direct DFT with a twiddle table for
 * small other lengths, Bluestein's chirp-z (through a power-of-two FFT) for
 * large other lengths. Running a plan never allocates.
 *
 * Complex numbers are interleaved float pairs (re, im).
 */
#ifndef ONYX_FFT_H
#define ONYX_FFT_H

#include <stddef.h>

typedef struct onyx_fft onyx_fft;

/* NULL when n < 1 or memory runs out. Free with onyx_fft_free. */
onyx_fft *onyx_fft_new(int n);
void onyx_fft_free(onyx_fft *f);

/* Floats of work space onyx_fft_run needs (0 for most lengths). */
size_t onyx_fft_work_floats(const onyx_fft *f);

/* out (n,2) = DFT of in (n,2):
 *   forward: out[k] = sum_j in[j] e^{-2 pi i jk/n}
 *   inverse: out[k] = 1/n sum_j in[j] e^{+2 pi i jk/n}
 * in and out must not overlap; work holds onyx_fft_work_floats(f) floats. */
void onyx_fft_run(const onyx_fft *f, float *out, const float *in, int inverse,
                  float *work);

/* Two real signals a, b for the price of one complex FFT: given
 * Z (n,2) = transform of a + i b (forward or inverse), write the first n_out
 * bins of each one's transform, bin k at A + k*stride (re, im), likewise B:
 *   A_k = (Z_k + conj Z_{n-k}) / 2,  B_k = (Z_k - conj Z_{n-k}) / 2i. */
void onyx_fft_split_real2(float *A, float *B, long stride, const float *Z,
                          int n, int n_out);

/* Four forward transforms at once, for a power-of-two length n: lane t
 * of re[4 j .. 4 j + 3] and im[...] is element j of transform t (the four
 * interleaved, so each step is one 4-float vector operation). In place; no
 * work space. A radix-2 decimation in time with twiddles computed in
 * double. */
typedef struct onyx_fft4 onyx_fft4;
/* NULL when n is not a power of two >= 2 (or above 2^24), or out of
 * memory. Free with onyx_fft4_free. */
onyx_fft4 *onyx_fft4_new(int n);
void onyx_fft4_free(onyx_fft4 *f);
void onyx_fft4_run(const onyx_fft4 *f, float *re, float *im);

#endif
