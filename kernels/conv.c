/* conv.c - Conv (1-D, 2-D, 3-D; groups, dilations, strides, pads, auto_pad)
 * as im2col + onyx_sgemm per group, with a copy-free path for 1x1 kernels
 * and a direct loop for depthwise convolutions.
 *
 * Every convolution is run as a 3-D one (conv_geom in spatial.h), so one
 * loop nest serves all ranks. */
#include "gemm.h"
#include "onyx_kernel.h"
#include "spatial.h"

#include <stdlib.h>
#include <string.h>

enum { CONV_X = 0, CONV_W = 1, CONV_B = 2 };
enum { CONV_Y = 0 };

/* What eval needs: the geometry, and how to run it. */
typedef struct {
    conv_geom geom;
    int64_t K;     /* Cg * KK: rows of the column matrix */
    int64_t chunk; /* output positions per im2col pass: the column matrix
                      (K, chunk) is the scratch */
    int pointwise; /* 1x1 kernel, stride 1, no pad: X is the columns */
    int depthwise; /* Cg == 1 and Mg == 1: direct loop, no sgemm */
} conv_plan;

static onyx_status conv_prepare(onyx_prep *p)
{
    conv_plan q;
    memset(&q, 0, sizeof q);
    conv_geom *g = &q.geom;
    ONYX_TRY(conv_geom_begin(p, 0, g));
    const onyx_tensor *X = p->in[CONV_X];
    char sx[96];
    /* output size and pad begin per spatial axis, from auto_pad or pads */
    for (int i = 0; i < g->nsp; i++) {
        int a = 3 - g->nsp + i;
        int64_t in = g->in[a], st = g->s[a], out, pb;
        int64_t ke = (g->k[a] - 1) * g->d[a] + 1; /* dilated kernel */
        if (g->auto_pad == PAD_SAME_UPPER || g->auto_pad == PAD_SAME_LOWER) {
            out = ceil_div(in, st);
            int64_t total = (out - 1) * st + ke - in;
            if (total < 0) total = 0;
            pb = g->auto_pad == PAD_SAME_UPPER ? total / 2 : total - total / 2;
        } else if (g->auto_pad == PAD_VALID) {
            out = in >= ke ? (in - ke) / st + 1 : 0;
            pb = 0;
        } else {
            int64_t span = in + g->pads[i] + g->pads[g->nsp + i];
            out = span >= ke ? (span - ke) / st + 1 : 0;
            pb = g->pads[i];
        }
        ONYX_CHECK(p, out >= 1,
                   "kernel %lld (dilated %lld) does not fit spatial axis %d "
                   "of X %s with its padding",
                   (long long)g->k[a], (long long)ke, i,
                   onyx_shape_str(X, sx, sizeof sx));
        g->out[a] = out;
        g->pb[a] = pb;
    }
    ONYX_TRY(conv_geom_end(p, g, p->out[CONV_Y]));
    q.K = g->Cg * g->KK;
    q.pointwise = 1;
    for (int i = 0; i < 3; i++)
        if (g->k[i] != 1 || g->s[i] != 1 || g->pb[i] != 0 ||
            g->out[i] != g->in[i])
            q.pointwise = 0;
    q.depthwise = g->Cg == 1 && g->Mg == 1 && !q.pointwise;
    ONYX_CHECK(
        p, q.K <= 0x7fffffff && g->S_out <= 0x7fffffff && g->M <= 0x7fffffff,
        "convolution too large for a 32-bit sgemm");

    q.chunk = conv_chunk(q.K, g->S_out);
    conv_plan *qp = malloc(sizeof *qp);
    if (!qp) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    *qp = q;
    p->params = qp;
    if (!q.pointwise && !q.depthwise)
        p->scratch_bytes = (size_t)q.K * (size_t)q.chunk * sizeof(float);
    return ONYX_OK;
}

/* col (K, p1 - p0) from x (Cg, D, H, W): row (c, tap) holds, for the
 * output positions p0 <= p < p1 (flat over the output's D, H, W), the input
 * under that kernel tap of channel c, or 0 where it falls on padding. */
SPATIAL_HOT static void im2col(float *restrict col, const float *restrict x,
                               int64_t p0, int64_t p1, const conv_geom *q)
{
    const int64_t sw = q->s[2], plane = q->in[0] * q->in[1];
    for (conv_walk w = conv_walk_start(q, p0, p1); w.c < q->Cg;
         conv_walk_next(q, &w)) {
        /* col[ow - w0] is output column ow: the input under the tap, or 0 */
        const int64_t w0 = w.r.w0, w1 = w.r.w0 + w.r.n, offw = w.t.off[2];
        const float *xr = x + (w.c * plane + w.r.row) * q->in[2];
        int64_t ow = w0;
        for (; ow < w.r.lo; ow++)
            col[ow - w0] = 0;
        if (sw == 1)
            for (; ow < w.r.hi; ow++)
                col[ow - w0] = xr[ow + offw];
        else
            for (; ow < w.r.hi; ow++)
                col[ow - w0] = xr[ow * sw + offw];
        for (; ow < w1; ow++)
            col[ow - w0] = 0;
        col += w.r.n;
    }
}

/* y (out...) = bias + sum over taps of w[tap] * x (in...) shifted: one
 * channel of a depthwise convolution, accumulated tap by tap over the
 * valid output ranges so the inner loop has no bounds checks. */
SPATIAL_HOT static void depthwise_channel(float *restrict y,
                                          const float *restrict x,
                                          const float *restrict w, float bias,
                                          const conv_geom *q)
{
    const int64_t plane = q->out[1] * q->out[2], sw = q->s[2];
    for (int64_t i = 0; i < q->S_out; i++)
        y[i] = bias;
    for (int64_t tap = 0; tap < q->KK; tap++) {
        const float wv = w[tap];
        const conv_tap t = conv_tap_at(q, tap);
        const int64_t offw = t.off[2], wlo = t.lo[2], whi = t.hi[2];
        for (int64_t od = t.lo[0]; od < t.hi[0]; od++) {
            int64_t id = od * q->s[0] + t.off[0];
            for (int64_t oh = t.lo[1]; oh < t.hi[1]; oh++) {
                int64_t ih = oh * q->s[1] + t.off[1];
                const float *xr = x + (id * q->in[1] + ih) * q->in[2];
                float *yr = y + od * plane + oh * q->out[2];
                if (sw == 1)
                    for (int64_t ow = wlo; ow < whi; ow++)
                        yr[ow] += wv * xr[ow + offw];
                else
                    for (int64_t ow = wlo; ow < whi; ow++)
                        yr[ow] += wv * xr[ow * sw + offw];
            }
        }
    }
}

static onyx_status conv_eval(onyx_exec *e)
{
    const conv_plan *q = e->params;
    const conv_geom *cg = &q->geom;
    const float *X = e->in[CONV_X]->data, *W = e->in[CONV_W]->data;
    const float *B = cg->has_bias ? e->in[CONV_B]->data : NULL;
    if (!e->out[CONV_Y]) return ONYX_OK;
    float *Y = e->out[CONV_Y]->data;
    float *col = e->scratch;
    const int Mg = (int)cg->Mg, P = (int)cg->S_out, K = (int)q->K;

    for (int64_t n = 0; n < cg->N; n++) {
        const float *xn = X + n * cg->C * cg->S_in;
        float *yn = Y + n * cg->M * P;
        if (q->depthwise) {
            for (int64_t m = 0; m < cg->M; m++)
                depthwise_channel(yn + m * P, xn + m * cg->S_in, W + m * K,
                                  B ? B[m] : 0.0f, cg);
            continue;
        }
        for (int64_t g = 0; g < cg->G; g++) {
            const float *xg = xn + g * cg->Cg * cg->S_in;
            float *yg = yn + g * cg->Mg * P;
            float beta = 0.0f;
            if (B) {
                for (int64_t m = 0; m < cg->Mg; m++) {
                    float bv = B[g * cg->Mg + m], *yr = yg + m * P;
                    for (int64_t i = 0; i < P; i++)
                        yr[i] = bv;
                }
                beta = 1.0f;
            }
            const float *Wg = W + g * cg->Mg * K;
            if (q->pointwise) {
                /* Y_g (Mg, P) = W_g (Mg, Cg) @ X_g (Cg, P) [+ bias] */
                onyx_sgemm(0, 0, Mg, P, K, 1.0f, Wg, K, xg, P, beta, yg, P);
                continue;
            }
            for (int64_t p0 = 0; p0 < P; p0 += q->chunk) {
                int64_t p1 = p0 + q->chunk < P ? p0 + q->chunk : P;
                int cols = (int)(p1 - p0);
                im2col(col, xg, p0, p1, cg);
                /* Y_g[:, p0:p1] (Mg, cols) = W_g (Mg, K) @ col (K, cols) [+ b]
                 */
                onyx_sgemm(0, 0, Mg, cols, K, 1.0f, Wg, K, col, cols, beta,
                           yg + p0, P);
            }
        }
    }
    return ONYX_OK;
}

const onyx_op onyx_op_Conv = {"Conv", conv_prepare, conv_eval};
