/* spatial.h - what Conv, ConvTranspose and the pools share about sliding a
 * kernel over 1 to 3 spatial axes: their per-axis attributes, which
 * positions of a sweep stay inside the data (so loops need no bounds
 * checks), and the geometry of a convolution (spatial.c). */
#ifndef ONYX_SPATIAL_H
#define ONYX_SPATIAL_H

#include "onyx_kernel.h"

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

#endif
