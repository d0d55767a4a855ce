/* gridsample.c - GridSample (opset 16, 4-D): Y (N, C, Ho, Wo) samples X
 * (N, C, H, W) at the points of grid (N, Ho, Wo, 2), each an (x, y) pair
 * normalised to [-1, 1] over the image's width and height.
 *
 * A point is mapped to pixel coordinates (align_corners: -1 and 1 are the
 * centres of the corner pixels, else their outer edges), then moved back
 * inside when it falls outside (padding_mode border: clamped; reflection:
 * mirrored at the image's edges), then interpolated (nearest, bilinear, or
 * bicubic with a = -0.75) from pixels that read as 0 outside the image
 * (zeros) or are again clamped or mirrored in. This follows ONNX's reference
 * implementation step by step. */
#include "onyx_kernel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { GS_X = 0, GS_GRID = 1, GS_Y = 0 };

typedef enum { GS_NEAREST, GS_BILINEAR, GS_BICUBIC } gs_mode;
typedef enum { GS_ZEROS, GS_BORDER, GS_REFLECTION } gs_padding;

typedef struct {
    int64_t N, C, H, W, Ho, Wo;
    gs_mode mode;
    gs_padding padding;
    int align_corners;
} gridsample_params;

static onyx_status gridsample_prepare(onyx_prep *p)
{
    ONYX_CHECK(p, p->n_in == 2, "GridSample takes 2 inputs, got %d", p->n_in);
    ONYX_TRY(onyx_need_dtype(p, GS_X, ONYX_MASK(ONYX_FLOAT)));
    ONYX_TRY(onyx_need_dtype(p, GS_GRID, ONYX_MASK(ONYX_FLOAT)));
    const onyx_tensor *X = p->in[GS_X], *G = p->in[GS_GRID];
    char a[96], b[96];
    ONYX_CHECK(p, X->rank == 4, "X must be (N, C, H, W), it is %s",
               onyx_shape_str(X, a, sizeof a));
    ONYX_CHECK(p, G->rank == 4 && G->dims[0] == X->dims[0] && G->dims[3] == 2,
               "grid %s must be (N, H_out, W_out, 2) for X %s",
               onyx_shape_str(G, a, sizeof a), onyx_shape_str(X, b, sizeof b));

    gridsample_params gp = {.N = X->dims[0],
                            .C = X->dims[1],
                            .H = X->dims[2],
                            .W = X->dims[3],
                            .Ho = G->dims[1],
                            .Wo = G->dims[2]};
    int64_t ac = onyx_attr_int(p, "align_corners", 0);
    ONYX_CHECK(p, ac == 0 || ac == 1, "align_corners %lld must be 0 or 1",
               (long long)ac);
    gp.align_corners = (int)ac;
    /* opset 20 renamed bilinear/bicubic to linear/cubic */
    const char *mode = onyx_attr_string(p, "mode", "bilinear");
    if (!strcmp(mode, "nearest"))
        gp.mode = GS_NEAREST;
    else if (!strcmp(mode, "bilinear") || !strcmp(mode, "linear"))
        gp.mode = GS_BILINEAR;
    else if (!strcmp(mode, "bicubic") || !strcmp(mode, "cubic"))
        gp.mode = GS_BICUBIC;
    else
        return onyx_fail(p, ONYX_ERR_INVALID,
                         "mode '%s' must be bilinear, nearest or bicubic",
                         mode);
    const char *pad = onyx_attr_string(p, "padding_mode", "zeros");
    if (!strcmp(pad, "zeros"))
        gp.padding = GS_ZEROS;
    else if (!strcmp(pad, "border"))
        gp.padding = GS_BORDER;
    else if (!strcmp(pad, "reflection"))
        gp.padding = GS_REFLECTION;
    else
        return onyx_fail(p, ONYX_ERR_INVALID,
                         "padding_mode '%s' must be zeros, border or "
                         "reflection",
                         pad);

    gridsample_params *q = malloc(sizeof *q);
    if (!q) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    *q = gp;
    p->params = q;
    if (p->out[GS_Y])
        onyx_set_shape(p->out[GS_Y], ONYX_FLOAT, 4,
                       (int64_t[]){gp.N, gp.C, gp.Ho, gp.Wo});
    return ONYX_OK;
}

/* x mirrored at lo and hi (as often as needed) into [lo, hi] */
static double gs_reflect(double x, double lo, double hi)
{
    double range = hi - lo;
    if (!(range > 0)) return lo;
    if (x < lo) {
        double dx = lo - x, n = floor(dx / range), r = dx - n * range;
        return fmod(n, 2.0) == 0 ? lo + r : hi - r;
    }
    if (x > hi) {
        double dx = x - hi, n = floor(dx / range), r = dx - n * range;
        return fmod(n, 2.0) == 0 ? hi - r : lo + r;
    }
    return x;
}

/* The extent [lo, hi] of an axis of d pixels in pixel coordinates. */
static void gs_border(const gridsample_params *gp, int64_t d, double *lo,
                      double *hi)
{
    *lo = gp->align_corners ? 0.0 : -0.5;
    *hi = gp->align_corners ? (double)d - 1 : (double)d - 0.5;
}

/* The normalised coordinate g on an axis of d pixels, in pixels, brought
 * inside by the padding mode (and rounded first for nearest). */
static double gs_coord(const gridsample_params *gp, float g, int64_t d)
{
    double v = gp->align_corners ? ((double)g + 1) / 2 * (double)(d - 1)
                                 : (((double)g + 1) * (double)d - 1) / 2;
    if (gp->mode == GS_NEAREST) v = nearbyint(v); /* halves to even */
    double lo, hi;
    gs_border(gp, d, &lo, &hi);
    if (v < lo || v > hi) {
        if (gp->padding == GS_BORDER)
            v = v < 0 ? 0 : v > (double)(d - 1) ? (double)(d - 1) : v;
        else if (gp->padding == GS_REFLECTION)
            v = gs_reflect(v, lo, hi);
    }
    /* far outside (or NaN) reads only zero padding: keep the taps' integer
     * arithmetic small */
    if (!(v >= -8.0)) v = -8.0;
    if (v > (double)d + 8) v = (double)d + 8;
    return v;
}

/* Pixel index i of an axis of d pixels, or -1 where the zero padding reads
 * 0. */
static int64_t gs_index(const gridsample_params *gp, int64_t i, int64_t d)
{
    if (gp->padding == GS_BORDER) return i < 0 ? 0 : i >= d ? d - 1 : i;
    if (gp->padding == GS_REFLECTION) {
        double lo, hi;
        gs_border(gp, d, &lo, &hi);
        i = (int64_t)gs_reflect((double)i, lo, hi);
        return i < 0 ? 0 : i >= d ? d - 1 : i;
    }
    return i >= 0 && i < d ? i : -1;
}

/* x (H, W) at pixel (iy, ix) after padding */
static float gs_pixel(const gridsample_params *gp, const float *x, int64_t iy,
                      int64_t ix)
{
    iy = gs_index(gp, iy, gp->H);
    ix = gs_index(gp, ix, gp->W);
    return iy < 0 || ix < 0 ? 0.0f : x[iy * gp->W + ix];
}

/* the four weights of the cubic convolution (a = -0.75) at fraction t */
static void gs_cubic(double t, double c[4])
{
    const double A = -0.75;
    double t1 = t + 1, u = 1 - t, u1 = 2 - t;
    c[0] = ((A * t1 - 5 * A) * t1 + 8 * A) * t1 - 4 * A;
    c[1] = ((A + 2) * t - (A + 3)) * t * t + 1;
    c[2] = ((A + 2) * u - (A + 3)) * u * u + 1;
    c[3] = ((A * u1 - 5 * A) * u1 + 8 * A) * u1 - 4 * A;
}

/* x (H, W) sampled at pixel coordinates (py, px) */
static float gs_sample(const gridsample_params *gp, const float *x, double py,
                       double px)
{
    if (gp->mode == GS_NEAREST)
        return gs_pixel(gp, x, (int64_t)py, (int64_t)px);
    double fy = floor(py), fx = floor(px);
    int64_t y0 = (int64_t)fy, x0 = (int64_t)fx;
    double ty = py - fy, tx = px - fx;
    if (gp->mode == GS_BILINEAR) {
        double v00 = gs_pixel(gp, x, y0, x0), v01 = gs_pixel(gp, x, y0, x0 + 1);
        double v10 = gs_pixel(gp, x, y0 + 1, x0),
               v11 = gs_pixel(gp, x, y0 + 1, x0 + 1);
        return (float)((1 - ty) * ((1 - tx) * v00 + tx * v01) +
                       ty * ((1 - tx) * v10 + tx * v11));
    }
    double cy[4], cx[4], acc = 0;
    gs_cubic(ty, cy);
    gs_cubic(tx, cx);
    for (int i = 0; i < 4; i++) {
        double row = 0;
        for (int j = 0; j < 4; j++)
            row += cx[j] * gs_pixel(gp, x, y0 - 1 + i, x0 - 1 + j);
        acc += cy[i] * row;
    }
    return (float)acc;
}

static onyx_status gridsample_eval(onyx_exec *e)
{
    const gridsample_params *gp = e->params;
    if (!e->out[GS_Y]) return ONYX_OK;
    const float *x = e->in[GS_X]->data, *grid = e->in[GS_GRID]->data;
    float *y = e->out[GS_Y]->data;
    int64_t plane = gp->H * gp->W, npts = gp->Ho * gp->Wo;
    for (int64_t n = 0; n < gp->N; n++) {
        const float *gn = grid + n * npts * 2;
        for (int64_t k = 0; k < npts; k++) {
            double px = gs_coord(gp, gn[2 * k], gp->W);
            double py = gs_coord(gp, gn[2 * k + 1], gp->H);
            for (int64_t c = 0; c < gp->C; c++) {
                const float *xc = x + (n * gp->C + c) * plane;
                y[(n * gp->C + c) * npts + k] =
                    plane ? gs_sample(gp, xc, py, px) : 0.0f;
            }
        }
    }
    return ONYX_OK;
}

const onyx_op onyx_op_GridSample = {"GridSample", gridsample_prepare,
                                    gridsample_eval, 0, NULL};
