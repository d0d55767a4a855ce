/* fft.c - complex FFT of any length (see fft.h): radix-2 for powers of two,
 * a direct DFT for short other lengths, Bluestein for long other lengths. */
#include "fft.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

/* Lengths up to this (not a power of two) use the direct O(n^2) DFT: with a
 * precomputed table it beats Bluestein's three FFTs of length >= 2n-1. */
#define ONYX_FFT_DIRECT_MAX 64

enum { FFT_RADIX2, FFT_DIRECT, FFT_BLUESTEIN };

struct onyx_fft {
    int n;        /* transform length */
    int kind;     /* FFT_RADIX2 / FFT_DIRECT / FFT_BLUESTEIN */
    int m;        /* power-of-two length of the radix-2 core (n, or >= 2n-1) */
    int *rev;     /* (m,) bit-reversal permutation of the radix-2 core */
    float *tw;    /* (m/2, 2) e^{-2 pi i k/m}; direct: (n, 2) e^{-2 pi i k/n} */
    float *chirp; /* Bluestein (n, 2): w_k = e^{-pi i k^2/n} */
    float *filt;  /* Bluestein (m, 2): FFT of conj(w) wrapped around, / m */
};

static int is_pow2(int n)
{
    return n > 0 && (n & (n - 1)) == 0;
}

/* out (m,2) = unnormalised DFT of in (m,2), sign -1 forward, +1 inverse.
 * m is a power of two; in and out do not overlap. */
static void radix2(float *out, const float *in, int m, const int *rev,
                   const float *tw, int inverse)
{
    for (int i = 0; i < m; i++) {
        out[2 * i] = in[2 * rev[i]];
        out[2 * i + 1] = in[2 * rev[i] + 1];
    }
    float s = inverse ? -1.0f : 1.0f; /* conjugates the forward twiddles */
    for (int len = 2; len <= m; len <<= 1) {
        int half = len >> 1, step = m / len;
        for (int b = 0; b < m; b += len) {
            float *lo = out + 2 * b, *hi = out + 2 * (b + half);
            for (int j = 0; j < half; j++) {
                float wr = tw[2 * j * step], wi = s * tw[2 * j * step + 1];
                float xr = hi[2 * j] * wr - hi[2 * j + 1] * wi;
                float xi = hi[2 * j] * wi + hi[2 * j + 1] * wr;
                hi[2 * j] = lo[2 * j] - xr;
                hi[2 * j + 1] = lo[2 * j + 1] - xi;
                lo[2 * j] += xr;
                lo[2 * j + 1] += xi;
            }
        }
    }
}

/* Twiddle table for the radix-2 core of length m. */
static void radix2_tables(int m, int *rev, float *tw)
{
    int bits = 0;
    while ((1 << bits) < m)
        bits++;
    for (int i = 0; i < m; i++) {
        int r = 0;
        for (int b = 0; b < bits; b++)
            if (i & (1 << b)) r |= 1 << (bits - 1 - b);
        rev[i] = r;
    }
    for (int k = 0; k < m / 2; k++) {
        double a = -2.0 * M_PI * k / m;
        tw[2 * k] = (float)cos(a);
        tw[2 * k + 1] = (float)sin(a);
    }
}

onyx_fft *onyx_fft_new(int n)
{
    if (n < 1 || n > (1 << 28)) return NULL;
    int kind = is_pow2(n)                 ? FFT_RADIX2
               : n <= ONYX_FFT_DIRECT_MAX ? FFT_DIRECT
                                          : FFT_BLUESTEIN;
    int m = n;
    if (kind == FFT_BLUESTEIN) {
        m = 1;
        while (m < 2 * n - 1)
            m <<= 1;
    }
    if (kind == FFT_DIRECT) m = 0;
    size_t n_tw = kind == FFT_DIRECT ? 2 * (size_t)n : (size_t)m;
    size_t n_chirp = kind == FFT_BLUESTEIN ? 2 * (size_t)n : 0;
    size_t n_filt = kind == FFT_BLUESTEIN ? 2 * (size_t)m : 0;
    /* one block: struct, rev (ints), then the float tables */
    size_t bytes = sizeof(onyx_fft) + (size_t)m * sizeof(int) +
                   (n_tw + n_chirp + n_filt) * sizeof(float);
    onyx_fft *f = calloc(1, bytes);
    if (!f) return NULL;
    f->n = n;
    f->kind = kind;
    f->m = m;
    f->rev = (int *)(f + 1);
    f->tw = (float *)(f->rev + m);
    f->chirp = f->tw + n_tw;
    f->filt = f->chirp + n_chirp;

    if (kind == FFT_DIRECT) {
        for (int k = 0; k < n; k++) {
            double a = -2.0 * M_PI * k / n;
            f->tw[2 * k] = (float)cos(a);
            f->tw[2 * k + 1] = (float)sin(a);
        }
        return f;
    }
    radix2_tables(m, f->rev, f->tw);
    if (kind == FFT_BLUESTEIN) {
        /* jk = (j^2 + k^2 - (k-j)^2) / 2, so the DFT is w_k * sum_j
         * (x_j w_j) conj(w_{k-j}): a convolution done with length-m FFTs.
         * k^2 is reduced mod 2n first to keep the angle exact. */
        for (int k = 0; k < n; k++) {
            int64_t k2 = ((int64_t)k * k) % (2 * (int64_t)n);
            double a = -M_PI * (double)k2 / n;
            f->chirp[2 * k] = (float)cos(a);
            f->chirp[2 * k + 1] = (float)sin(a);
        }
        float *b = calloc(2 * (size_t)m, sizeof(float));
        if (!b) {
            free(f);
            return NULL;
        }
        for (int k = 0; k < n; k++) {
            b[2 * k] = f->chirp[2 * k];
            b[2 * k + 1] = -f->chirp[2 * k + 1];
            if (k) {
                b[2 * (m - k)] = b[2 * k];
                b[2 * (m - k) + 1] = b[2 * k + 1];
            }
        }
        radix2(f->filt, b, m, f->rev, f->tw, 0);
        for (int i = 0; i < 2 * m; i++)
            f->filt[i] /= (float)m;
        free(b);
    }
    return f;
}

void onyx_fft_free(onyx_fft *f)
{
    free(f);
}

size_t onyx_fft_work_floats(const onyx_fft *f)
{
    return f->kind == FFT_BLUESTEIN ? 4 * (size_t)f->m : 0;
}

/* out (n,2) = unnormalised DFT of in (n,2), direct sum with a twiddle table
 * indexed by jk mod n; accumulates in double. */
static void direct(float *out, const float *in, int n, const float *tw,
                   int inverse)
{
    float s = inverse ? -1.0f : 1.0f;
    for (int k = 0; k < n; k++) {
        double re = 0, im = 0;
        int t = 0; /* j*k mod n */
        for (int j = 0; j < n; j++) {
            float wr = tw[2 * t], wi = s * tw[2 * t + 1];
            re += (double)in[2 * j] * wr - (double)in[2 * j + 1] * wi;
            im += (double)in[2 * j] * wi + (double)in[2 * j + 1] * wr;
            t += k;
            if (t >= n) t -= n;
        }
        out[2 * k] = (float)re;
        out[2 * k + 1] = (float)im;
    }
}

/* out (n,2) = unnormalised DFT via Bluestein; the inverse is
 * conj(DFT(conj(x))). work: a (m,2) then A (m,2). */
static void bluestein(const onyx_fft *f, float *out, const float *in,
                      int inverse, float *work)
{
    int n = f->n, m = f->m;
    float *a = work, *fa = work + 2 * (size_t)m;
    float s = inverse ? -1.0f : 1.0f;
    for (int j = 0; j < n; j++) { /* a_j = x_j w_j */
        float xr = in[2 * j], xi = s * in[2 * j + 1];
        float wr = f->chirp[2 * j], wi = f->chirp[2 * j + 1];
        a[2 * j] = xr * wr - xi * wi;
        a[2 * j + 1] = xr * wi + xi * wr;
    }
    for (int j = 2 * n; j < 2 * m; j++)
        a[j] = 0;
    radix2(fa, a, m, f->rev, f->tw, 0);
    for (int j = 0; j < m; j++) { /* pointwise product with the filter */
        float xr = fa[2 * j], xi = fa[2 * j + 1];
        float br = f->filt[2 * j], bi = f->filt[2 * j + 1];
        fa[2 * j] = xr * br - xi * bi;
        fa[2 * j + 1] = xr * bi + xi * br;
    }
    radix2(a, fa, m, f->rev, f->tw, 1);
    for (int k = 0; k < n; k++) { /* X_k = w_k * conv_k */
        float xr = a[2 * k], xi = a[2 * k + 1];
        float wr = f->chirp[2 * k], wi = f->chirp[2 * k + 1];
        out[2 * k] = xr * wr - xi * wi;
        out[2 * k + 1] = s * (xr * wi + xi * wr);
    }
}

void onyx_fft_run(const onyx_fft *f, float *out, const float *in, int inverse,
                  float *work)
{
    int n = f->n;
    switch (f->kind) {
    case FFT_RADIX2: radix2(out, in, n, f->rev, f->tw, inverse); break;
    case FFT_DIRECT: direct(out, in, n, f->tw, inverse); break;
    default: bluestein(f, out, in, inverse, work); break;
    }
    if (inverse) {
        float sc = 1.0f / (float)n;
        for (int i = 0; i < 2 * n; i++)
            out[i] *= sc;
    }
}

void onyx_fft_split_real2(float *A, float *B, long stride, const float *Z,
                          int n, int n_out)
{
    for (int k = 0; k < n_out; k++) {
        int m = k ? n - k : 0;
        float zr = Z[2 * k], zi = Z[2 * k + 1];
        float mr = Z[2 * m], mi = Z[2 * m + 1];
        float *a = A + k * stride, *b = B + k * stride;
        a[0] = 0.5f * (zr + mr);
        a[1] = 0.5f * (zi - mi);
        b[0] = 0.5f * (zi + mi);
        b[1] = 0.5f * (mr - zr);
    }
}
