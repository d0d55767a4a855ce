/* conv_transpose.c - ConvTranspose (1-D, 2-D, 3-D; groups, dilations,
 * strides, pads, auto_pad, output_padding, output_shape) as one sgemm per
 * group into a column matrix, then col2im scattering it into Y.
 *
 * Like conv.c, every case runs as 3-D (conv_geom in spatial.h). */
#include "math/gemm.h"
#include "onyx_kernel.h"
#include "math/spatial.h"
#include "math/threadpool.h"

#include <stdlib.h>
#include <string.h>

enum { CT_X = 0, CT_W = 1, CT_B = 2 };
enum { CT_Y = 0 };

/* What eval needs: the geometry, and the pass size. */
typedef struct {
    conv_geom geom;
    int64_t chunk; /* input positions per sgemm + col2im pass: the column
                      matrix (Mg*KK, chunk) is the scratch */
    size_t work;   /* floats into scratch: onyx_sgemm's work space */
} ct_plan;

/* floor(a / 2), also for negative a (ONNX's reference uses Python's //) */
static int64_t floor_half(int64_t a)
{
    return a >= 0 ? a / 2 : -((-a + 1) / 2);
}

static onyx_status ct_prepare(onyx_prep *p)
{
    ct_plan q;
    memset(&q, 0, sizeof q);
    conv_geom *g = &q.geom;
    ONYX_TRY(conv_geom_begin(p, 1, g));
    int nsp = g->nsp;
    int64_t op[3];
    ONYX_TRY(spatial_attr(p, "output_padding", nsp, 0, 0, op));
    int same_upper = g->auto_pad == PAD_SAME_UPPER;
    int same = same_upper || g->auto_pad == PAD_SAME_LOWER;
    /* output_shape: the spatial sizes, or (in older exports) all of N, C too */
    const int64_t *osv;
    int64_t nos = onyx_attr_ints(p, "output_shape", &osv);
    if (nos >= 0) {
        ONYX_CHECK(p, nos == nsp || nos == nsp + 2,
                   "output_shape has %lld entries, expected %d", (long long)nos,
                   nsp);
        osv += nos - nsp;
    }
    /* output size and pad begin per spatial axis: the pads crop the full
     * scatter, or output_shape / SAME fix the size and the pads follow */
    for (int i = 0; i < nsp; i++) {
        int a = 3 - nsp + i;
        int64_t in = g->in[a], st = g->s[a];
        int64_t ke = (g->k[a] - 1) * g->d[a] + 1;  /* dilated kernel */
        int64_t full = st * (in - 1) + op[i] + ke; /* unpadded length */
        int64_t out, pb;
        if (nos >= 0 || same) {
            out = nos >= 0 ? osv[i] : in * st;
            int64_t total = full - out;
            pb = same_upper ? floor_half(total) : total - floor_half(total);
        } else if (g->auto_pad == PAD_VALID) {
            out = full;
            pb = 0;
        } else {
            out = full - g->pads[i] - g->pads[nsp + i];
            pb = g->pads[i];
        }
        ONYX_CHECK(p, out >= 1 && out <= SPATIAL_MAX,
                   "output size %lld on spatial axis %d is not in [1, %d]",
                   (long long)out, i, SPATIAL_MAX);
        g->out[a] = out;
        g->pb[a] = pb;
    }
    ONYX_TRY(conv_geom_end(p, g, p->out[CT_Y]));
    ONYX_CHECK(p, g->Mg * g->KK <= 0x7fffffff && g->S_in <= 0x7fffffff,
               "transposed convolution too large for a 32-bit sgemm");

    q.chunk = conv_chunk(g->Mg * g->KK, g->S_in);
    /* scratch: col (Mg*KK, chunk), then the sgemm's pack buffers */
    q.work = ((size_t)(g->Mg * g->KK) * (size_t)q.chunk + 15) / 16 * 16;
    size_t work_bytes = onyx_sgemm_scratch_bytes((int)(g->Mg * g->KK),
                                                 (int)q.chunk, (int)g->Cg);
    ct_plan *qp = malloc(sizeof *qp);
    if (!qp) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    *qp = q;
    p->params = qp;
    p->scratch_bytes = q.work * sizeof(float) + work_bytes;
    /* each input element scatters into (M/group) * prod(kernel) outputs */
    const onyx_tensor *Wt = p->in[1];
    if (Wt->rank >= 2) {
        int64_t per = 1;
        for (int i = 1; i < Wt->rank; i++)
            per = onyx_flops_mul(per, Wt->dims[i]);
        p->flops = onyx_flops_mul(2 * onyx_numel(p->in[0]), per);
    }
    return ONYX_OK;
}

/* y (Mg, out...) += col (Mg*KK, p1 - p0) scattered, output channels
 * m0 .. m1 - 1: row (m, tap) holds the contribution of that kernel tap for
 * the input positions p0 <= p < p1 (flat over X's D, H, W); each is added
 * to the output position it lands on, unless the padding crops it. */
SPATIAL_HOT static void col2im_rows(float *restrict y,
                                    const float *restrict col, int64_t m0,
                                    int64_t m1, int64_t p0, int64_t p1,
                                    const conv_geom *q)
{
    const int64_t sw = q->s[2], plane = q->out[0] * q->out[1];
    col += m0 * q->KK * (p1 - p0);
    conv_walk w = conv_walk_start(q, p0, p1, NULL);
    for (w.c = m0; w.c < m1; conv_walk_next(q, &w)) {
        /* col[iw - w0] lands on output column iw * sw + offw of row yr */
        const int64_t w0 = w.r.w0, offw = w.t.off[2];
        float *yr = y + (w.c * plane + w.r.row) * q->out[2];
        if (sw == 1)
            for (int64_t iw = w.r.lo; iw < w.r.hi; iw++)
                yr[iw + offw] += col[iw - w0];
        else
            for (int64_t iw = w.r.lo; iw < w.r.hi; iw++)
                yr[iw * sw + offw] += col[iw - w0];
        col += w.r.n;
    }
}

/* col2im_rows of every output channel, in bands of channels over the
 * calling thread's pool when there is one and the scatter is worth it:
 * each channel sums its taps in the same order as alone. */
typedef struct col2im_split {
    float *y;
    const float *col;
    int64_t p0, p1;
    const conv_geom *g;
    int parts;
} col2im_split;

static void col2im_band(void *ctx, int part, void *work)
{
    (void)work;
    const col2im_split *s = ctx;
    int lo, hi;
    onyx_threads_range(part, s->parts, (int)s->g->Mg, &lo, &hi);
    col2im_rows(s->y, s->col, lo, hi, s->p0, s->p1, s->g);
}

static void col2im(float *y, const float *col, int64_t p0, int64_t p1,
                   const conv_geom *g)
{
    onyx_threads *t = onyx_gemm_pool();
    const int parts = onyx_threads_count(t);
    col2im_split s = {y, col, p0, p1, g, 1};
    if (parts > 1 && g->Mg >= parts &&
        (double)g->Mg * g->KK * (p1 - p0) >= 1 << 16) {
        s.parts = parts;
        onyx_threads_run(t, col2im_band, &s, parts);
    } else
        col2im_band(&s, 0, NULL); /* one part: every channel */
}

static onyx_status ct_eval(onyx_exec *e)
{
    const ct_plan *q = e->params;
    const conv_geom *cg = &q->geom;
    const float *X = e->in[CT_X]->data, *W = e->in[CT_W]->data;
    const float *B = cg->has_bias ? e->in[CT_B]->data : NULL;
    if (!e->out[CT_Y]) return ONYX_OK;
    float *Y = e->out[CT_Y]->data;
    float *col = e->scratch, *work = col + q->work;
    const int rows = (int)(cg->Mg * cg->KK), S_in = (int)cg->S_in,
              Cg = (int)cg->Cg;

    for (int64_t n = 0; n < cg->N; n++)
        for (int64_t g = 0; g < cg->G; g++) {
            const float *xg = X + (n * cg->C + g * cg->Cg) * cg->S_in;
            float *yg = Y + (n * cg->M + g * cg->Mg) * cg->S_out;
            for (int64_t m = 0; m < cg->Mg; m++) {
                float bv = B ? B[g * cg->Mg + m] : 0.0f,
                      *ym = yg + m * cg->S_out;
                for (int64_t i = 0; i < cg->S_out; i++)
                    ym[i] = bv;
            }
            const float *Wg = W + g * cg->Cg * rows;
            for (int64_t p0 = 0; p0 < cg->S_in; p0 += q->chunk) {
                int64_t p1 =
                    p0 + q->chunk < cg->S_in ? p0 + q->chunk : cg->S_in;
                int cols = (int)(p1 - p0);
                /* col (Mg*KK, cols) = W_g^T @ X_g[:, p0:p1], with W_g
                 * (Cg, Mg*KK) and X_g (Cg, S_in) */
                onyx_sgemm(1, 0, rows, cols, Cg, 1.0f, Wg, rows, xg + p0, S_in,
                           0.0f, col, cols, work);
                col2im(yg, col, p0, p1, cg);
            }
        }
    return ONYX_OK;
}

const onyx_op onyx_op_ConvTranspose = {"ConvTranspose", ct_prepare, ct_eval, 0,
                                       NULL};
