/* roialign.c - RoiAlign: each region of interest of X (N, C, H, W) pooled to
 * a fixed (output_height, output_width) grid of bins, each bin the average
 * (or maximum) of sampling_ratio^2 bilinear samples (Mask R-CNN).
 *
 *   rois (R, 4): [x1, y1, x2, y2] in input coordinates times spatial_scale
 *   batch_indices (R): the image of each roi, checked in eval
 *   Y (R, C, output_height, output_width)
 *
 * coordinate_transformation_mode half_pixel (opset 16's default) shifts the
 * roi by -0.5 pixel; output_half_pixel (the earlier behaviour) does not, and
 * makes every roi at least 1x1. The sampling follows ONNX's reference (and
 * ONNX Runtime): a sample more than one pixel outside the image counts as 0,
 * one nearer is clamped to the edge. */
#include "onyx_kernel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { RA_X = 0, RA_ROIS = 1, RA_BATCH = 2, RA_Y = 0 };

/* an adaptive grid (sampling_ratio 0) sized by the data is refused beyond
 * this many samples per bin: a roi of 1e30 pixels would otherwise run for
 * ever in eval */
#define RA_MAX_SAMPLES (1 << 20)

typedef struct {
    int64_t N, C, H, W, R;
    int64_t oh, ow;
    int64_t sampling_ratio;
    float scale;
    int half_pixel;
    int max_mode;
} roialign_params;

static const char batch_error[] = "RoiAlign batch index out of range";
static const char roi_error[] = "RoiAlign roi too large or not finite";

static onyx_status roialign_prepare(onyx_prep *p)
{
    ONYX_CHECK(p, p->n_in == 3, "RoiAlign takes 3 inputs, got %d", p->n_in);
    ONYX_TRY(onyx_need_dtype(p, RA_X, ONYX_MASK(ONYX_FLOAT)));
    ONYX_TRY(onyx_need_dtype(p, RA_ROIS, ONYX_MASK(ONYX_FLOAT)));
    ONYX_TRY(onyx_need_dtype(p, RA_BATCH,
                             ONYX_MASK(ONYX_INT64) | ONYX_MASK(ONYX_INT32)));
    const onyx_tensor *X = p->in[RA_X], *rois = p->in[RA_ROIS],
                      *bi = p->in[RA_BATCH];
    char a[96], b[96];
    ONYX_CHECK(p, X->rank == 4, "X must be (N, C, H, W), it is %s",
               onyx_shape_str(X, a, sizeof a));
    ONYX_CHECK(p, rois->rank == 2 && rois->dims[1] == 4,
               "rois must be (num_rois, 4), it is %s",
               onyx_shape_str(rois, a, sizeof a));
    ONYX_CHECK(p, bi->rank == 1 && bi->dims[0] == rois->dims[0],
               "batch_indices %s must be (num_rois) for rois %s",
               onyx_shape_str(bi, a, sizeof a),
               onyx_shape_str(rois, b, sizeof b));

    roialign_params rp = {.N = X->dims[0],
                          .C = X->dims[1],
                          .H = X->dims[2],
                          .W = X->dims[3],
                          .R = rois->dims[0]};
    rp.oh = onyx_attr_int(p, "output_height", 1);
    rp.ow = onyx_attr_int(p, "output_width", 1);
    ONYX_CHECK(p, rp.oh >= 1 && rp.ow >= 1,
               "output_height %lld and output_width %lld must be >= 1",
               (long long)rp.oh, (long long)rp.ow);
    rp.sampling_ratio = onyx_attr_int(p, "sampling_ratio", 0);
    ONYX_CHECK(p, rp.sampling_ratio >= 0 && rp.sampling_ratio <= 1024,
               "sampling_ratio %lld must be in [0, 1024]",
               (long long)rp.sampling_ratio);
    rp.scale = onyx_attr_float(p, "spatial_scale", 1.0f);
    const char *mode = onyx_attr_string(p, "mode", "avg");
    ONYX_CHECK(p, !strcmp(mode, "avg") || !strcmp(mode, "max"),
               "mode '%s' must be avg or max", mode);
    rp.max_mode = !strcmp(mode, "max");
    const char *ct =
        onyx_attr_string(p, "coordinate_transformation_mode",
                         p->opset >= 16 ? "half_pixel" : "output_half_pixel");
    ONYX_CHECK(p, !strcmp(ct, "half_pixel") || !strcmp(ct, "output_half_pixel"),
               "coordinate_transformation_mode '%s' must be half_pixel or "
               "output_half_pixel",
               ct);
    rp.half_pixel = !strcmp(ct, "half_pixel");

    roialign_params *q = malloc(sizeof *q);
    if (!q) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    *q = rp;
    p->params = q;
    if (p->out[RA_Y])
        onyx_set_shape(p->out[RA_Y], ONYX_FLOAT, 4,
                       (int64_t[]){rp.R, rp.C, rp.oh, rp.ow});
    return ONYX_OK;
}

/* One bilinear sample at (y, x) of an (H, W) plane: the four pixel offsets
 * and their weights; all weights 0 when the point is more than a pixel out. */
typedef struct {
    int64_t o[4];
    float w[4];
} ra_sample;

static ra_sample ra_bilinear(double y, double x, int64_t H, int64_t W)
{
    ra_sample s = {{0, 0, 0, 0}, {0, 0, 0, 0}};
    if (y < -1.0 || y > (double)H || x < -1.0 || x > (double)W) return s;
    if (y <= 0) y = 0;
    if (x <= 0) x = 0;
    int64_t y0 = (int64_t)y, x0 = (int64_t)x, y1, x1;
    if (y0 >= H - 1) {
        y0 = y1 = H - 1;
        y = (double)y0;
    } else {
        y1 = y0 + 1;
    }
    if (x0 >= W - 1) {
        x0 = x1 = W - 1;
        x = (double)x0;
    } else {
        x1 = x0 + 1;
    }
    float ly = (float)(y - (double)y0), lx = (float)(x - (double)x0);
    float hy = 1.0f - ly, hx = 1.0f - lx;
    s.o[0] = y0 * W + x0;
    s.o[1] = y0 * W + x1;
    s.o[2] = y1 * W + x0;
    s.o[3] = y1 * W + x1;
    s.w[0] = hy * hx;
    s.w[1] = hy * lx;
    s.w[2] = ly * hx;
    s.w[3] = ly * lx;
    return s;
}

/* Y (C, oh, ow) = the pooled roi [x1, y1, x2, y2] of the image x (C, H, W).
 * Returns 0, or -1 when the roi asks for too many samples. */
static int roialign_one(const roialign_params *rp, float *y, const float *x,
                        const float *roi)
{
    double off = rp->half_pixel ? 0.5 : 0.0;
    double x1 = roi[0] * (double)rp->scale - off;
    double y1 = roi[1] * (double)rp->scale - off;
    double rw = roi[2] * (double)rp->scale - off - x1;
    double rh = roi[3] * (double)rp->scale - off - y1;
    if (!isfinite(x1) || !isfinite(y1) || !isfinite(rw) || !isfinite(rh))
        return -1;
    if (!rp->half_pixel) {
        rw = rw > 1.0 ? rw : 1.0;
        rh = rh > 1.0 ? rh : 1.0;
    }
    double bh = rh / (double)rp->oh, bw = rw / (double)rp->ow;
    double gh = rp->sampling_ratio ? (double)rp->sampling_ratio : ceil(bh);
    double gw = rp->sampling_ratio ? (double)rp->sampling_ratio : ceil(bw);
    if (gh < 0) gh = 0; /* a roi with x2 < x1 samples nothing */
    if (gw < 0) gw = 0;
    if (gh * gw > RA_MAX_SAMPLES) return -1;
    int64_t nh = (int64_t)gh, nw = (int64_t)gw;
    int64_t count = nh * nw > 1 ? nh * nw : 1;
    int64_t plane = rp->H * rp->W;

    for (int64_t ph = 0; ph < rp->oh; ph++)
        for (int64_t pw = 0; pw < rp->ow; pw++) {
            for (int64_t c = 0; c < rp->C; c++) {
                const float *xc = x + c * plane;
                float acc = 0.0f;
                int any = 0;
                for (int64_t iy = 0; iy < nh; iy++) {
                    double sy = y1 + (double)ph * bh +
                                ((double)iy + 0.5) * bh / (double)nh;
                    for (int64_t ix = 0; ix < nw; ix++) {
                        double sx = x1 + (double)pw * bw +
                                    ((double)ix + 0.5) * bw / (double)nw;
                        ra_sample s = ra_bilinear(sy, sx, rp->H, rp->W);
                        if (!rp->max_mode) {
                            for (int k = 0; k < 4; k++)
                                acc += s.w[k] * xc[s.o[k]];
                            continue;
                        }
                        float m = s.w[0] * xc[s.o[0]];
                        for (int k = 1; k < 4; k++) {
                            float v = s.w[k] * xc[s.o[k]];
                            m = v > m ? v : m;
                        }
                        acc = any && acc > m ? acc : m;
                        any = 1;
                    }
                }
                y[(c * rp->oh + ph) * rp->ow + pw] =
                    rp->max_mode ? acc : acc / (float)count;
            }
        }
    return 0;
}

static onyx_status roialign_eval(onyx_exec *e)
{
    const roialign_params *rp = e->params;
    if (!e->out[RA_Y]) return ONYX_OK;
    const float *x = e->in[RA_X]->data, *rois = e->in[RA_ROIS]->data;
    const onyx_tensor *bi = e->in[RA_BATCH];
    float *y = e->out[RA_Y]->data;
    int64_t image = rp->C * rp->H * rp->W, out = rp->C * rp->oh * rp->ow;
    for (int64_t r = 0; r < rp->R; r++) {
        int64_t b = onyx_get_int(bi, r);
        if (b < 0 || b >= rp->N) {
            e->err = batch_error;
            return ONYX_ERR_RUNTIME;
        }
        if (image == 0) {
            memset(y + r * out, 0, (size_t)out * sizeof *y);
            continue;
        }
        if (roialign_one(rp, y + r * out, x + b * image, rois + 4 * r)) {
            e->err = roi_error;
            return ONYX_ERR_RUNTIME;
        }
    }
    return ONYX_OK;
}

const onyx_op onyx_op_RoiAlign = {"RoiAlign", roialign_prepare, roialign_eval,
                                  0, NULL};
