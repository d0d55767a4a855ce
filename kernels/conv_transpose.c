/* conv_transpose.c - ConvTranspose (1-D, 2-D, 3-D; groups, dilations,
 * strides, pads, auto_pad, output_padding, output_shape) as one sgemm per
 * group into a column matrix, then col2im scattering it into Y.
 *
 * Like conv.c, every case runs as 3-D with leading spatial dims of 1. */
#include "gemm.h"
#include "onyx_kernel.h"
#include "spatial.h"

#include <stdlib.h>
#include <string.h>

enum { CT_X = 0, CT_W = 1, CT_B = 2 };
enum { CT_Y = 0 };

/* Hot loops: vectorise loops of unknown trip count, which GCC's -O2
 * (very-cheap cost model) leaves scalar. */
#if defined(__GNUC__) && !defined(__clang__)
#define CT_HOT __attribute__((optimize("O3")))
#else
#define CT_HOT
#endif

/* Size of one column-matrix pass, in floats (512 KB, a typical L2). */
#define CT_COL_FLOATS (128 * 1024)

typedef struct {
    int64_t N, C, M, G;    /* batch, in channels, out channels, groups */
    int64_t Cg, Mg;        /* C/G, M/G */
    int64_t in[3], out[3]; /* spatial sizes, 1-padded in front */
    int64_t k[3], s[3], d[3], pb[3]; /* kernel, stride, dilation, pad begin */
    int64_t S_in, S_out;             /* products of in[] and out[] */
    int64_t KK;                      /* k[0]*k[1]*k[2] */
    int64_t chunk; /* input positions per sgemm + col2im pass: the column
                      matrix (Mg*KK, chunk) is the scratch */
    int has_bias;
} ct_plan;

/* floor(a / 2), also for negative a (ONNX's reference uses Python's //) */
static int64_t floor_half(int64_t a)
{
    return a >= 0 ? a / 2 : -((-a + 1) / 2);
}

static onyx_status ct_prepare(onyx_prep *p)
{
    ONYX_TRY(onyx_need_dtype(p, CT_X, ONYX_MASK(ONYX_FLOAT)));
    ONYX_TRY(onyx_need_dtype(p, CT_W, ONYX_MASK(ONYX_FLOAT)));
    const onyx_tensor *X = p->in[CT_X], *W = p->in[CT_W];
    const onyx_tensor *B = p->n_in > CT_B ? p->in[CT_B] : NULL;
    if (B && onyx_numel(B) == 0) B = NULL;
    char sx[96], sw[96];
    ONYX_CHECK(p, X->rank >= 3 && X->rank <= 5,
               "X %s must have rank 3, 4 or 5 (N, C, 1 to 3 spatial dims)",
               onyx_shape_str(X, sx, sizeof sx));
    ONYX_CHECK(p, W->rank == X->rank, "W %s must have the rank of X %s",
               onyx_shape_str(W, sw, sizeof sw),
               onyx_shape_str(X, sx, sizeof sx));
    int nsp = X->rank - 2;
    int64_t G = onyx_attr_int(p, "group", 1);
    ONYX_CHECK(p, G >= 1, "group = %lld must be >= 1", (long long)G);
    int64_t C = X->dims[1];
    ONYX_CHECK(p, W->dims[0] == C && C % G == 0,
               "W %s must have X's %lld channels first, divisible by group "
               "%lld",
               onyx_shape_str(W, sw, sizeof sw), (long long)C, (long long)G);
    int64_t M = W->dims[1] * G;

    int64_t ks[3], st[3], dl[3], op[3], pads[6];
    const int64_t *kv;
    int64_t nk = onyx_attr_ints(p, "kernel_shape", &kv);
    if (nk >= 0) {
        ONYX_CHECK(p, nk == nsp, "kernel_shape has %lld entries, expected %d",
                   (long long)nk, nsp);
        for (int i = 0; i < nsp; i++)
            ONYX_CHECK(p, kv[i] == W->dims[2 + i],
                       "kernel_shape[%d] = %lld does not match W %s", i,
                       (long long)kv[i], onyx_shape_str(W, sw, sizeof sw));
    }
    for (int i = 0; i < nsp; i++) {
        ks[i] = W->dims[2 + i];
        ONYX_CHECK(p, ks[i] >= 1, "W %s has an empty kernel",
                   onyx_shape_str(W, sw, sizeof sw));
    }
    ONYX_TRY(spatial_attr(p, "strides", nsp, 1, 1, st));
    ONYX_TRY(spatial_attr(p, "dilations", nsp, 1, 1, dl));
    ONYX_TRY(spatial_attr(p, "output_padding", nsp, 0, 0, op));
    ONYX_TRY(spatial_attr(p, "pads", 2 * nsp, 0, 0, pads));
    spatial_pad ap;
    ONYX_TRY(spatial_auto_pad(p, &ap));
    int same_upper = ap == PAD_SAME_UPPER;
    int same = same_upper || ap == PAD_SAME_LOWER, valid = ap == PAD_VALID;
    /* output_shape: the spatial sizes, or (in older exports) all of N, C too */
    const int64_t *osv;
    int64_t nos = onyx_attr_ints(p, "output_shape", &osv);
    if (nos >= 0) {
        ONYX_CHECK(p, nos == nsp || nos == nsp + 2,
                   "output_shape has %lld entries, expected %d", (long long)nos,
                   nsp);
        osv += nos - nsp;
    }

    ct_plan q;
    memset(&q, 0, sizeof q);
    q.N = X->dims[0];
    q.C = C;
    q.M = M;
    q.G = G;
    q.Cg = C / G;
    q.Mg = M / G;
    for (int i = 0; i < 3; i++) {
        q.in[i] = q.out[i] = q.k[i] = q.s[i] = q.d[i] = 1;
        q.pb[i] = 0;
    }
    int64_t ydims[ONYX_MAX_RANK] = {q.N, M};
    for (int i = 0; i < nsp; i++) {
        int a = 3 - nsp + i;
        int64_t in = X->dims[2 + i], ke = (ks[i] - 1) * dl[i] + 1;
        int64_t full = st[i] * (in - 1) + op[i] + ke; /* unpadded length */
        int64_t out, pb;
        if (nos >= 0 || same) {
            out = nos >= 0 ? osv[i] : in * st[i];
            int64_t total = full - out;
            pb = same_upper ? floor_half(total) : total - floor_half(total);
        } else if (valid) {
            out = full;
            pb = 0;
        } else {
            out = full - pads[i] - pads[nsp + i];
            pb = pads[i];
        }
        ONYX_CHECK(p, out >= 1 && out <= SPATIAL_MAX,
                   "output size %lld on spatial axis %d is not in [1, %d]",
                   (long long)out, i, SPATIAL_MAX);
        q.in[a] = in;
        q.out[a] = out;
        q.k[a] = ks[i];
        q.s[a] = st[i];
        q.d[a] = dl[i];
        q.pb[a] = pb;
        ydims[2 + i] = out;
    }
    if (B) {
        ONYX_TRY(onyx_need_dtype(p, CT_B, ONYX_MASK(ONYX_FLOAT)));
        ONYX_CHECK(p, B->rank == 1 && B->dims[0] == M,
                   "B %s must be a vector of %lld (W[1] * group) biases",
                   onyx_shape_str(B, sx, sizeof sx), (long long)M);
        q.has_bias = 1;
    }
    ONYX_CHECK(p,
               (double)q.out[0] * (double)q.out[1] * (double)q.out[2] *
                       (double)(q.N * M) <
                   0x1p40,
               "output of more than 2^40 elements");
    q.S_in = q.in[0] * q.in[1] * q.in[2];
    q.S_out = q.out[0] * q.out[1] * q.out[2];
    q.KK = q.k[0] * q.k[1] * q.k[2];
    ONYX_CHECK(p, q.Mg * q.KK <= 0x7fffffff && q.S_in <= 0x7fffffff,
               "transposed convolution too large for a 32-bit sgemm");

    if (p->out[CT_Y]) onyx_set_shape(p->out[CT_Y], ONYX_FLOAT, X->rank, ydims);
    /* the column matrix is made CT_COL_FLOATS at a time (at least 64
     * columns): it stays in cache for col2im, and the scratch stays small */
    q.chunk = CT_COL_FLOATS / (q.Mg * q.KK);
    if (q.chunk < 64) q.chunk = 64;
    if (q.chunk > q.S_in) q.chunk = q.S_in;
    ct_plan *qp = malloc(sizeof *qp);
    if (!qp) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    *qp = q;
    p->params = qp;
    p->scratch_bytes = (size_t)(q.Mg * q.KK) * (size_t)q.chunk * sizeof(float);
    return ONYX_OK;
}

/* y (Mg, out...) += col (Mg*KK, p1 - p0) scattered: row (m, a, b, t) holds
 * the contribution of kernel tap (a, b, t) for the input positions
 * p0 <= p < p1 (flat over X's D, H, W); each is added to the output
 * position it lands on, unless the padding crops it. */
CT_HOT static void col2im(float *restrict y, const float *restrict col,
                          int64_t p0, int64_t p1, const ct_plan *q)
{
    const int64_t IW = q->in[2], plane_in = q->in[1] * IW;
    const int64_t plane_out = q->out[1] * q->out[2], sw = q->s[2];
    for (int64_t m = 0; m < q->Mg; m++) {
        float *ym = y + m * q->S_out;
        for (int64_t a = 0; a < q->k[0]; a++)
            for (int64_t b = 0; b < q->k[1]; b++)
                for (int64_t t = 0; t < q->k[2]; t++) {
                    int64_t offd = a * q->d[0] - q->pb[0];
                    int64_t offh = b * q->d[1] - q->pb[1];
                    int64_t offw = t * q->d[2] - q->pb[2];
                    int64_t dlo, dhi, hlo, hhi, wlo, whi;
                    tap_range(q->in[0], q->s[0], offd, q->out[0], &dlo, &dhi);
                    tap_range(q->in[1], q->s[1], offh, q->out[1], &hlo, &hhi);
                    tap_range(IW, sw, offw, q->out[2], &wlo, &whi);
                    /* one input row (id, ih) segment [iw0, iw1) at a time;
                     * src[iw - iw0] is its column iw */
                    for (int64_t p = p0; p < p1;) {
                        int64_t id = p / plane_in, ih = p % plane_in / IW;
                        int64_t iw0 = p % IW;
                        int64_t iw1 = IW - iw0 < p1 - p ? IW : iw0 + (p1 - p);
                        const float *src = col;
                        col += iw1 - iw0;
                        p += iw1 - iw0;
                        if (id < dlo || id >= dhi || ih < hlo || ih >= hhi)
                            continue;
                        int64_t od = id * q->s[0] + offd;
                        int64_t oh = ih * q->s[1] + offh;
                        float *yr = ym + od * plane_out + oh * q->out[2];
                        int64_t lo = wlo > iw0 ? wlo : iw0;
                        int64_t hi = whi < iw1 ? whi : iw1;
                        if (sw == 1)
                            for (int64_t iw = lo; iw < hi; iw++)
                                yr[iw + offw] += src[iw - iw0];
                        else
                            for (int64_t iw = lo; iw < hi; iw++)
                                yr[iw * sw + offw] += src[iw - iw0];
                    }
                }
    }
}

static onyx_status ct_eval(onyx_exec *e)
{
    const ct_plan *q = e->params;
    const float *X = e->in[CT_X]->data, *W = e->in[CT_W]->data;
    const float *B = q->has_bias ? e->in[CT_B]->data : NULL;
    if (!e->out[CT_Y]) return ONYX_OK;
    float *Y = e->out[CT_Y]->data;
    float *col = e->scratch;
    const int rows = (int)(q->Mg * q->KK), S_in = (int)q->S_in, Cg = (int)q->Cg;

    for (int64_t n = 0; n < q->N; n++)
        for (int64_t g = 0; g < q->G; g++) {
            const float *xg = X + (n * q->C + g * q->Cg) * q->S_in;
            float *yg = Y + (n * q->M + g * q->Mg) * q->S_out;
            for (int64_t m = 0; m < q->Mg; m++) {
                float bv = B ? B[g * q->Mg + m] : 0.0f, *ym = yg + m * q->S_out;
                for (int64_t i = 0; i < q->S_out; i++)
                    ym[i] = bv;
            }
            const float *Wg = W + g * q->Cg * rows;
            for (int64_t p0 = 0; p0 < q->S_in; p0 += q->chunk) {
                int64_t p1 = p0 + q->chunk < q->S_in ? p0 + q->chunk : q->S_in;
                int cols = (int)(p1 - p0);
                /* col (Mg*KK, cols) = W_g^T @ X_g[:, p0:p1], with W_g
                 * (Cg, Mg*KK) and X_g (Cg, S_in) */
                onyx_sgemm(1, 0, rows, cols, Cg, 1.0f, Wg, rows, xg + p0, S_in,
                           0.0f, col, cols);
                col2im(yg, col, p0, p1, q);
            }
        }
    return ONYX_OK;
}

const onyx_op onyx_op_ConvTranspose = {"ConvTranspose", ct_prepare, ct_eval};
