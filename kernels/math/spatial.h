/* spatial.h - what Conv, ConvTranspose and the pools share about sliding a
 * kernel over 1 to 3 spatial axes: their per-axis attributes, which
 * positions of a sweep stay inside the data (so loops need no bounds
 * checks), and the geometry of a convolution (spatial.c). */
#ifndef ONYX_SPATIAL_H
#define ONYX_SPATIAL_H

#include "../onyx_kernel.h"

#include <string.h>

/* Cap on kernel sizes, strides, dilations, pads and output sizes, so that
 * sizes computed from them cannot overflow. */
enum { SPATIAL_MAX = 1 << 30 };

/* ceil(a / b) for a >= 0, b > 0 */
static inline int64_t ceil_div(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

/* Of the positions o in [0, n_pos) of a sweep with stride s, those in
 * [*lo, *hi) land at o*s + off inside [0, n): where a kernel tap's sweep
 * does not fall on padding (Conv, pools: o an output position, [0, n) the
 * input), or its scatter lands inside the output (ConvTranspose: o an input
 * position, [0, n) the output). */
static inline void tap_range(int64_t n_pos, int64_t s, int64_t off, int64_t n,
                             int64_t *lo, int64_t *hi)
{
    int64_t a = off >= 0 ? 0 : ceil_div(-off, s);
    int64_t b = n - off <= 0 ? 0 : ceil_div(n - off, s);
    if (a > n_pos) a = n_pos;
    if (b > n_pos) b = n_pos;
    if (b < a) b = a;
    *lo = a;
    *hi = b;
}

/* out (n,) = the ints attribute `name`, which must have n entries (one per
 * spatial axis, or two for pads), each in [min, SPATIAL_MAX]; every entry
 * dflt when the attribute is absent. */
static inline onyx_status spatial_attr(onyx_prep *p, const char *name, int n,
                                       int64_t dflt, int64_t min, int64_t *out)
{
    const int64_t *v;
    int64_t nv = onyx_attr_ints(p, name, &v);
    if (nv < 0) {
        for (int i = 0; i < n; i++)
            out[i] = dflt;
        return ONYX_OK;
    }
    ONYX_CHECK(p, nv == n, "%s has %lld entries, expected %d", name,
               (long long)nv, n);
    for (int i = 0; i < n; i++) {
        ONYX_CHECK(p, v[i] >= min && v[i] <= SPATIAL_MAX,
                   "%s[%d] = %lld must be in [%lld, %d]", name, i,
                   (long long)v[i], (long long)min, SPATIAL_MAX);
        out[i] = v[i];
    }
    return ONYX_OK;
}

/* The auto_pad attribute (default NOTSET; "" counts as NOTSET). */
typedef enum {
    PAD_NOTSET,     /* the pads attribute */
    PAD_SAME_UPPER, /* output = ceil(input / stride), extra pad at the end */
    PAD_SAME_LOWER, /* the same, extra pad at the start */
    PAD_VALID,      /* no padding */
} spatial_pad;

static inline onyx_status spatial_auto_pad(onyx_prep *p, spatial_pad *out)
{
    const char *ap = onyx_attr_string(p, "auto_pad", "NOTSET");
    *out = PAD_NOTSET;
    if (!strcmp(ap, "SAME_UPPER"))
        *out = PAD_SAME_UPPER;
    else if (!strcmp(ap, "SAME_LOWER"))
        *out = PAD_SAME_LOWER;
    else if (!strcmp(ap, "VALID"))
        *out = PAD_VALID;
    else if (strcmp(ap, "NOTSET") && ap[0])
        return onyx_fail(p, ONYX_ERR_INVALID, "unknown auto_pad '%s'", ap);
    return ONYX_OK;
}

/* The geometry of a Conv or ConvTranspose, run as a 3-D one: a 1-D or 2-D
 * input gets leading spatial axes of size 1 (kernel 1, stride 1, no pad), so
 * one loop nest serves all ranks. Both ops take X (N, C, spatial...), W and
 * an optional bias B (M,) as inputs 0, 1, 2; W is (M, C/G, k...) for Conv
 * and (C, M/G, k...) for ConvTranspose. */
typedef struct {
    int transposed;        /* 1: ConvTranspose's W layout */
    int nsp;               /* spatial axes of X: 1 to 3 */
    int64_t N, C, M, G;    /* batch, in channels, out channels, groups */
    int64_t Cg, Mg;        /* channels per group: C/G in, M/G out */
    int64_t in[3], out[3]; /* spatial sizes (D, H, W), 1-padded in front */
    int64_t k[3], s[3], d[3], pb[3]; /* kernel, stride, dilation, pad begin */
    int64_t pads[6]; /* the pads attribute: nsp begins, nsp ends */
    spatial_pad auto_pad;
    int64_t S_in, S_out; /* products of in[] and out[] */
    int64_t KK;          /* k[0]*k[1]*k[2]: taps of one kernel */
    int has_bias;
} conv_geom;

/* Two halves around the op's own rule for output sizes.
 *
 * conv_geom_begin checks X and W (float, ranks, channels against group,
 * kernel_shape against W) and reads group, strides, dilations, pads and
 * auto_pad; it sets every field above but out[] and pb[] (left 1 and 0),
 * S_in, S_out, KK and has_bias. The op then sets out[a] and pb[a] for each
 * spatial axis i < nsp, a = 3 - nsp + i.
 *
 * conv_geom_end checks B, caps the output at 2^40 elements, sets S_in,
 * S_out, KK and has_bias, and gives Y (when not NULL) its dtype and shape. */
onyx_status conv_geom_begin(onyx_prep *p, int transposed, conv_geom *g);
onyx_status conv_geom_end(onyx_prep *p, conv_geom *g, onyx_tensor *Y);

/* The same pieces for the quantized convolutions, whose X and W may be
 * 8-bit and whose W and bias are not inputs 1 and 2:
 * conv_geom_init is conv_geom_begin on X and W given apart, without a
 * dtype check; conv_geom_out is Conv's rule for out[] and pb[] (from
 * auto_pad or pads); conv_geom_size is conv_geom_end without B, Y of dtype
 * yt. */
onyx_status conv_geom_init(onyx_prep *p, int transposed, const onyx_tensor *X,
                           const onyx_tensor *W, conv_geom *g);
onyx_status conv_geom_out(onyx_prep *p, conv_geom *g, const onyx_tensor *X);
onyx_status conv_geom_size(onyx_prep *p, conv_geom *g, onyx_tensor *Y,
                           onyx_dtype yt);

/* ---- the sweep, for eval ----
 * Conv sweeps the output positions over X (a gather); ConvTranspose sweeps
 * X's positions over the output (a scatter). Either way, under a kernel
 * tap, sweep position o lands on data position o * s + off on each axis. */

/* One kernel tap: per axis its shift, and the sweep positions [lo, hi) that
 * land inside the data (tap_range). */
typedef struct {
    int64_t off[3];
    int64_t lo[3], hi[3];
} conv_tap;

/* Tap number `tap` of g's kernel, numbered C-order over (k[0], k[1], k[2])
 * as W stores it. */
static inline conv_tap conv_tap_at(const conv_geom *g, int64_t tap)
{
    const int64_t at[3] = {tap / (g->k[1] * g->k[2]), tap / g->k[2] % g->k[1],
                           tap % g->k[2]};
    conv_tap t;
    for (int i = 0; i < 3; i++) {
        int64_t n_pos = g->transposed ? g->in[i] : g->out[i];
        int64_t n_data = g->transposed ? g->out[i] : g->in[i];
        t.off[i] = at[i] * g->d[i] - g->pb[i];
        tap_range(n_pos, g->s[i], t.off[i], n_data, &t.lo[i], &t.hi[i]);
    }
    return t;
}

/* A run of sweep positions along one row (fixed D, H) of the sweep grid,
 * flat positions p .. p + n - 1 being the row's columns w0 .. w0 + n - 1,
 * seen under one tap. */
typedef struct {
    int64_t w0, n;
    int64_t row;    /* the data row (flat over the data's D, H) it lands on */
    int64_t lo, hi; /* its columns w0 <= lo <= hi <= w0 + n that land inside
                       the data; lo = hi = w0 when the row lands on padding */
} conv_run;

/* The run from flat sweep position p to the end of its row, or to p1. */
static inline conv_run conv_run_at(const conv_geom *g, const conv_tap *t,
                                   int64_t p, int64_t p1)
{
    const int64_t *pos = g->transposed ? g->in : g->out; /* the sweep grid */
    const int64_t *data = g->transposed ? g->out : g->in;
    int64_t d = 0, h = 0;
    conv_run r;
    if (pos[0] == 1 && pos[1] == 1) { /* 1-D: one row, and no division
                                         (none in hardware on the Cortex-A8) */
        r.w0 = p;
    } else {
        d = p / (pos[1] * pos[2]), h = p / pos[2] % pos[1];
        r.w0 = p % pos[2];
    }
    r.n = pos[2] - r.w0 < p1 - p ? pos[2] - r.w0 : p1 - p;
    r.row = 0;
    r.lo = r.hi = r.w0;
    if (d >= t->lo[0] && d < t->hi[0] && h >= t->lo[1] && h < t->hi[1]) {
        r.row = (d * g->s[0] + t->off[0]) * data[1] + h * g->s[1] + t->off[1];
        r.lo = t->lo[2] > r.w0 ? t->lo[2] : r.w0;
        r.hi = t->hi[2] < r.w0 + r.n ? t->hi[2] : r.w0 + r.n;
        if (r.hi < r.lo) r.hi = r.lo;
    }
    return r;
}

/* A walk over a sweep's column matrix, rows (c, tap) for channels c = 0,
 * 1, ... and each of the KK taps, columns the sweep positions p0 .. p1 - 1,
 * in memory order one run at a time:
 *   for (conv_walk w = conv_walk_start(g, p0, p1); w.c < n_channels;
 *        conv_walk_next(g, &w)) ... run w.r of row (w.c, w.tap) ... */
typedef struct {
    int64_t p0, p1;
    int64_t c, tap;       /* the row */
    conv_tap t;           /* tap number `tap` */
    int64_t p;            /* the run's first sweep position */
    conv_run r;           /* the run: r.n columns of the matrix */
    const conv_tap *taps; /* the KK taps made in prepare, or NULL */
} conv_walk;

/* taps: conv_tap_at of every tap, made once in prepare (conv_taps_make),
 * or NULL to work them out on the way */
static inline conv_walk conv_walk_start(const conv_geom *g, int64_t p0,
                                        int64_t p1, const conv_tap *taps)
{
    conv_walk w;
    w.p0 = p0;
    w.p1 = p1;
    w.c = w.tap = 0;
    w.taps = taps;
    w.t = taps ? taps[0] : conv_tap_at(g, 0);
    w.p = p0;
    w.r = conv_run_at(g, &w.t, p0, p1);
    return w;
}

static inline void conv_walk_next(const conv_geom *g, conv_walk *w)
{
    w->p += w->r.n;
    if (w->p == w->p1) { /* the row's end: the next tap, or channel */
        w->p = w->p0;
        if (++w->tap == g->KK) {
            w->tap = 0;
            w->c++;
        }
        w->t = w->taps ? w->taps[w->tap] : conv_tap_at(g, w->tap);
    }
    w->r = conv_run_at(g, &w->t, w->p, w->p1);
}

/* taps (KK) = every tap of g's kernel, for conv_walk_start */
static inline void conv_taps_make(conv_tap *taps, const conv_geom *g)
{
    for (int64_t t = 0; t < g->KK; t++)
        taps[t] = conv_tap_at(g, t);
}

/* Columns per pass of a column matrix of `rows` rows over n_pos sweep
 * positions: about 512 KB of floats (a typical L2), so that it stays in
 * cache from its making to its use and the scratch stays small for long
 * signals; at least 64 columns, at most n_pos. */
static inline int64_t conv_chunk(int64_t rows, int64_t n_pos)
{
    int64_t chunk = rows > 0 ? (128 * 1024) / rows : n_pos;
    if (chunk < 64) chunk = 64;
    return chunk < n_pos ? chunk : n_pos;
}

/* Hot loops: vectorise loops of unknown trip count, which GCC's -O2
 * (very-cheap cost model) leaves scalar. */
#if defined(__GNUC__) && !defined(__clang__)
#define SPATIAL_HOT __attribute__((optimize("O3")))
#else
#define SPATIAL_HOT
#endif

#endif
