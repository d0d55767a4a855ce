/* fft.c - complex FFT of any length (see fft.h): a mixed-radix
 * Cooley-Tukey (radix 4, 2, 3, 5 and a generic odd radix) when every prime
 * factor of n is small, Bluestein's chirp-z through a mixed-radix FFT of a
 * power-of-two length otherwise. */
#include "fft.h"
#include "vmath.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

/* Prime factors above this go through Bluestein: a generic radix-p
 * butterfly costs p^2 per p outputs. */
#define ONYX_FFT_MAX_RADIX  31
#define ONYX_FFT_MAX_STAGES 32

typedef struct {
    float r, i;
} cpx;

/* The mixed-radix core for one length: stage s splits its length into
 * factor[2s] (the radix p) times factor[2s+1] (what remains, m). */
typedef struct {
    int n;
    int factor[2 * ONYX_FFT_MAX_STAGES];
    cpx *tw; /* (n,) e^{-2 pi i k/n} */
} fft_core;

struct onyx_fft {
    int n;         /* transform length */
    int bluestein; /* 0: core is length n; 1: core is length m >= 2n-1 */
    fft_core core;
    cpx *chirp; /* Bluestein (n,): w_k = e^{-pi i k^2/n} */
    cpx *filt;  /* Bluestein (m,): FFT of conj(w) wrapped around, / m */
};

static inline cpx cmul(cpx a, cpx b)
{
    return (cpx){a.r * b.r - a.i * b.i, a.r * b.i + a.i * b.r};
}

/* Radix order: 4s first (cheapest butterfly), then 2, 3, 5, 7, ... Returns
 * 0 when a prime factor exceeds ONYX_FFT_MAX_RADIX. */
static int factorize(int n, int *factor)
{
    int p = 4, s = 0;
    while (n > 1) {
        while (n % p) {
            p = p == 4 ? 2 : p == 2 ? 3 : p + 2;
            if ((int64_t)p * p > n) p = n;
        }
        if (p > ONYX_FFT_MAX_RADIX || s >= ONYX_FFT_MAX_STAGES) return 0;
        n /= p;
        factor[2 * s] = p;
        factor[2 * s + 1] = n;
        s++;
    }
    if (s == 0) { /* n == 1: one trivial stage */
        factor[0] = 1;
        factor[1] = 1;
    }
    return 1;
}

static void fill_twiddles(cpx *tw, int n)
{
    for (int k = 0; k < n; k++) {
        double a = -2.0 * M_PI * k / n;
        tw[k] = (cpx){(float)cos(a), (float)sin(a)};
    }
}

/* ---- butterflies: combine p sub-transforms of length m in place ---- */

static void bfly2(cpx *F, const cpx *tw, int fstride, int m)
{
    for (int k = 0; k < m; k++) {
        cpx t = cmul(F[k + m], tw[k * fstride]);
        F[k + m] = (cpx){F[k].r - t.r, F[k].i - t.i};
        F[k].r += t.r;
        F[k].i += t.i;
    }
}

static void bfly3(cpx *F, const cpx *tw, int fstride, int m)
{
    float e = tw[fstride * m].i; /* Im e^{-2 pi i/3} = -sqrt(3)/2 */
    for (int k = 0; k < m; k++) {
        cpx s1 = cmul(F[k + m], tw[k * fstride]);
        cpx s2 = cmul(F[k + 2 * m], tw[2 * k * fstride]);
        cpx s3 = {s1.r + s2.r, s1.i + s2.i};
        cpx s0 = {(s1.r - s2.r) * e, (s1.i - s2.i) * e};
        cpx h = {F[k].r - 0.5f * s3.r, F[k].i - 0.5f * s3.i};
        F[k].r += s3.r;
        F[k].i += s3.i;
        F[k + 2 * m] = (cpx){h.r + s0.i, h.i - s0.r};
        F[k + m] = (cpx){h.r - s0.i, h.i + s0.r};
    }
}

static void bfly4(cpx *F, const cpx *tw, int fstride, int m)
{
    for (int k = 0; k < m; k++) {
        cpx s0 = cmul(F[k + m], tw[k * fstride]);
        cpx s1 = cmul(F[k + 2 * m], tw[2 * k * fstride]);
        cpx s2 = cmul(F[k + 3 * m], tw[3 * k * fstride]);
        cpx s5 = {F[k].r - s1.r, F[k].i - s1.i};
        cpx f0 = {F[k].r + s1.r, F[k].i + s1.i};
        cpx s3 = {s0.r + s2.r, s0.i + s2.i};
        cpx s4 = {s0.r - s2.r, s0.i - s2.i};
        F[k + 2 * m] = (cpx){f0.r - s3.r, f0.i - s3.i};
        F[k] = (cpx){f0.r + s3.r, f0.i + s3.i};
        F[k + m] = (cpx){s5.r + s4.i, s5.i - s4.r};
        F[k + 3 * m] = (cpx){s5.r - s4.i, s5.i + s4.r};
    }
}

static void bfly5(cpx *F, const cpx *tw, int fstride, int m)
{
    cpx ya = tw[fstride * m], yb = tw[2 * fstride * m]; /* e^{-2 pi i/5}, ^2 */
    for (int u = 0; u < m; u++) {
        cpx s0 = F[u];
        cpx s1 = cmul(F[u + m], tw[u * fstride]);
        cpx s2 = cmul(F[u + 2 * m], tw[2 * u * fstride]);
        cpx s3 = cmul(F[u + 3 * m], tw[3 * u * fstride]);
        cpx s4 = cmul(F[u + 4 * m], tw[4 * u * fstride]);
        cpx s7 = {s1.r + s4.r, s1.i + s4.i}, s10 = {s1.r - s4.r, s1.i - s4.i};
        cpx s8 = {s2.r + s3.r, s2.i + s3.i}, s9 = {s2.r - s3.r, s2.i - s3.i};
        F[u] = (cpx){s0.r + s7.r + s8.r, s0.i + s7.i + s8.i};
        cpx s5 = {s0.r + s7.r * ya.r + s8.r * yb.r,
                  s0.i + s7.i * ya.r + s8.i * yb.r};
        cpx s6 = {s10.i * ya.i + s9.i * yb.i, -s10.r * ya.i - s9.r * yb.i};
        F[u + m] = (cpx){s5.r - s6.r, s5.i - s6.i};
        F[u + 4 * m] = (cpx){s5.r + s6.r, s5.i + s6.i};
        cpx s11 = {s0.r + s7.r * yb.r + s8.r * ya.r,
                   s0.i + s7.i * yb.r + s8.i * ya.r};
        cpx s12 = {-s10.i * yb.i + s9.i * ya.i, s10.r * yb.i - s9.r * ya.i};
        F[u + 2 * m] = (cpx){s11.r + s12.r, s11.i + s12.i};
        F[u + 3 * m] = (cpx){s11.r - s12.r, s11.i - s12.i};
    }
}

/* Any radix p: output q1 of butterfly u is sum_q in_q e^{-2 pi i q k/n}
 * with k = u + q1 m, the twiddle index walked mod n. */
static void bfly_generic(cpx *F, const cpx *tw, int fstride, int m, int p,
                         int n)
{
    cpx s[ONYX_FFT_MAX_RADIX];
    for (int u = 0; u < m; u++) {
        for (int q = 0; q < p; q++)
            s[q] = F[u + q * m];
        for (int q1 = 0, k = u; q1 < p; q1++, k += m) {
            int t = 0, step = fstride * k % n;
            cpx acc = s[0];
            for (int q = 1; q < p; q++) {
                t += step;
                if (t >= n) t -= n;
                cpx v = cmul(s[q], tw[t]);
                acc.r += v.r;
                acc.i += v.i;
            }
            F[k] = acc;
        }
    }
}

/* out (p*m,) = DFT of the p*m inputs in[0], in[stride], ...: decimation in
 * time, recursing on the p interleaved sub-sequences. */
static void core_work(const fft_core *c, cpx *out, const cpx *in, int fstride,
                      const int *factor)
{
    int p = factor[0], m = factor[1];
    if (m == 1) {
        for (int q = 0; q < p; q++)
            out[q] = in[q * fstride];
    } else {
        for (int q = 0; q < p; q++)
            core_work(c, out + q * m, in + q * fstride, fstride * p,
                      factor + 2);
    }
    switch (p) {
    case 1: break;
    case 2: bfly2(out, c->tw, fstride, m); break;
    case 3: bfly3(out, c->tw, fstride, m); break;
    case 4: bfly4(out, c->tw, fstride, m); break;
    case 5: bfly5(out, c->tw, fstride, m); break;
    default: bfly_generic(out, c->tw, fstride, m, p, c->n); break;
    }
}

/* out (n,) = unnormalised forward DFT of in (n,); no overlap. */
static void core_run(const fft_core *c, cpx *out, const cpx *in)
{
    core_work(c, out, in, 1, c->factor);
}

onyx_fft *onyx_fft_new(int n)
{
    if (n < 1 || n > (1 << 28)) return NULL;
    int factor[2 * ONYX_FFT_MAX_STAGES];
    int bluestein = !factorize(n, factor);
    int m = n;
    if (bluestein) {
        m = 1;
        while (m < 2 * n - 1)
            m <<= 1;
        factorize(m, factor);
    }
    size_t n_cpx = (size_t)m + (bluestein ? (size_t)n + (size_t)m : 0);
    onyx_fft *f = calloc(1, sizeof(onyx_fft) + n_cpx * sizeof(cpx));
    if (!f) return NULL;
    f->n = n;
    f->bluestein = bluestein;
    f->core.n = m;
    for (int i = 0; i < 2 * ONYX_FFT_MAX_STAGES; i++)
        f->core.factor[i] = factor[i];
    f->core.tw = (cpx *)(f + 1);
    fill_twiddles(f->core.tw, m);
    if (!bluestein) return f;

    /* jk = (j^2 + k^2 - (k-j)^2) / 2, so the DFT is w_k * sum_j
     * (x_j w_j) conj(w_{k-j}): a circular convolution of length m. k^2 is
     * reduced mod 2n first to keep the angle exact. */
    f->chirp = f->core.tw + m;
    f->filt = f->chirp + n;
    for (int k = 0; k < n; k++) {
        int64_t k2 = ((int64_t)k * k) % (2 * (int64_t)n);
        double a = -M_PI * (double)k2 / n;
        f->chirp[k] = (cpx){(float)cos(a), (float)sin(a)};
    }
    cpx *b = calloc((size_t)m, sizeof(cpx));
    if (!b) {
        free(f);
        return NULL;
    }
    for (int k = 0; k < n; k++) {
        b[k] = (cpx){f->chirp[k].r, -f->chirp[k].i};
        if (k) b[m - k] = b[k];
    }
    core_run(&f->core, f->filt, b);
    for (int i = 0; i < m; i++) {
        f->filt[i].r /= (float)m;
        f->filt[i].i /= (float)m;
    }
    free(b);
    return f;
}

void onyx_fft_free(onyx_fft *f)
{
    free(f);
}

size_t onyx_fft_work_floats(const onyx_fft *f)
{
    /* conj(in) (n,) for the inverse, then Bluestein's two (m,) buffers */
    return 2 * (size_t)f->n + (f->bluestein ? 4 * (size_t)f->core.n : 0);
}

/* out (n,) = unnormalised forward DFT via Bluestein; work: 2 x (m,). */
static void bluestein(const onyx_fft *f, cpx *out, const cpx *in, cpx *work)
{
    int n = f->n, m = f->core.n;
    cpx *a = work, *fa = work + m;
    for (int j = 0; j < n; j++)
        a[j] = cmul(in[j], f->chirp[j]);
    for (int j = n; j < m; j++)
        a[j] = (cpx){0, 0};
    core_run(&f->core, fa, a);
    /* pointwise product with the filter, conjugated so that the forward
     * core computes the inverse transform: IDFT(y) = conj(DFT(conj y)) */
    for (int j = 0; j < m; j++) {
        cpx v = cmul(fa[j], f->filt[j]);
        fa[j] = (cpx){v.r, -v.i};
    }
    core_run(&f->core, a, fa);
    for (int k = 0; k < n; k++)
        out[k] = cmul((cpx){a[k].r, -a[k].i}, f->chirp[k]);
}

void onyx_fft_run(const onyx_fft *f, float *out, const float *in, int inverse,
                  float *work)
{
    int n = f->n;
    const cpx *x = (const cpx *)in;
    cpx *y = (cpx *)out, *w = (cpx *)work;
    if (inverse) { /* IDFT(x) = conj(DFT(conj x)) / n */
        cpx *xc = w;
        for (int j = 0; j < n; j++)
            xc[j] = (cpx){x[j].r, -x[j].i};
        x = xc;
        w += n;
    }
    if (f->bluestein)
        bluestein(f, y, x, w);
    else
        core_run(&f->core, y, x);
    if (inverse) {
        float sc = 1.0f / (float)n;
        for (int k = 0; k < n; k++)
            y[k] = (cpx){y[k].r * sc, -y[k].i * sc};
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

/* ---- four transforms in the lanes of a vector (fft.h) ---- */

struct onyx_fft4 {
    int n;
    float *twr, *twi; /* (n/2,) e^{-2 pi i k/n} */
    int *rev;         /* (n,) bit reversal */
};

onyx_fft4 *onyx_fft4_new(int n)
{
    if (n < 2 || n > (1 << 24) || (n & (n - 1))) return NULL;
    onyx_fft4 *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->n = n;
    f->twr = malloc((size_t)n / 2 * sizeof(float));
    f->twi = malloc((size_t)n / 2 * sizeof(float));
    f->rev = malloc((size_t)n * sizeof(int));
    if (!f->twr || !f->twi || !f->rev) {
        onyx_fft4_free(f);
        return NULL;
    }
    for (int k = 0; k < n / 2; k++) {
        double a = -2 * M_PI * (double)k / (double)n;
        f->twr[k] = (float)cos(a);
        f->twi[k] = (float)sin(a);
    }
    int bits = 0;
    while ((1 << bits) < n)
        bits++;
    for (int i = 0; i < n; i++) {
        int r = 0;
        for (int b = 0; b < bits; b++)
            r |= ((i >> b) & 1) << (bits - 1 - b);
        f->rev[i] = r;
    }
    return f;
}

void onyx_fft4_free(onyx_fft4 *f)
{
    if (!f) return;
    free(f->twr);
    free(f->twi);
    free(f->rev);
    free(f);
}

void onyx_fft4_run(const onyx_fft4 *f, float *re, float *im)
{
    const int n = f->n;
    for (int i = 0; i < n; i++) {
        int j = f->rev[i];
        if (j <= i) continue;
        v4f t = v4_load(re + 4 * i);
        v4_store(re + 4 * i, v4_load(re + 4 * j));
        v4_store(re + 4 * j, t);
        t = v4_load(im + 4 * i);
        v4_store(im + 4 * i, v4_load(im + 4 * j));
        v4_store(im + 4 * j, t);
    }
    /* the first stage's twiddle is 1 */
    for (int s = 0; s < n; s += 2) {
        float *r0 = re + 4 * s, *i0 = im + 4 * s;
        v4f ar = v4_load(r0), ai = v4_load(i0);
        v4f br = v4_load(r0 + 4), bi = v4_load(i0 + 4);
        v4_store(r0, ar + br);
        v4_store(i0, ai + bi);
        v4_store(r0 + 4, ar - br);
        v4_store(i0 + 4, ai - bi);
    }
    for (int h = 2; h < n; h *= 2) {
        const int step = n / (2 * h);
        for (int s = 0; s < n; s += 2 * h)
            for (int j = 0; j < h; j++) {
                const v4f wr = v4_set1(f->twr[j * step]);
                const v4f wi = v4_set1(f->twi[j * step]);
                float *r0 = re + 4 * (s + j), *i0 = im + 4 * (s + j);
                float *r1 = r0 + 4 * h, *i1 = i0 + 4 * h;
                v4f br = v4_load(r1), bi = v4_load(i1);
                v4f tr = br * wr - bi * wi, ti = br * wi + bi * wr;
                v4f ar = v4_load(r0), ai = v4_load(i0);
                v4_store(r0, ar + tr);
                v4_store(i0, ai + ti);
                v4_store(r1, ar - tr);
                v4_store(i1, ai - ti);
            }
    }
}
