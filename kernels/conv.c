/* conv.c - Conv (1-D, 2-D, 3-D; groups, dilations, strides, pads, auto_pad)
 * as im2col + onyx_sgemm per group, with a copy-free path for 1x1 kernels
 * and a direct loop for depthwise convolutions.
 *
 * Every convolution is run as a 3-D one: a 1-D or 2-D input gets leading
 * spatial dims of size 1 (kernel 1, stride 1, no pad), so one loop nest
 * serves all ranks. */
#include "gemm.h"
#include "onyx_kernel.h"
#include "spatial.h"

#include <stdlib.h>
#include <string.h>

enum { CONV_X = 0, CONV_W = 1, CONV_B = 2 };
enum { CONV_Y = 0 };

/* Hot loops: vectorise loops of unknown trip count, which GCC's -O2
 * (very-cheap cost model) leaves scalar. */
#if defined(__GNUC__) && !defined(__clang__)
#define CONV_HOT __attribute__((optimize("O3")))
#else
#define CONV_HOT
#endif

/* Size of one im2col pass, in floats (512 KB, a typical L2). */
#define CONV_COL_FLOATS (128 * 1024)

typedef struct {
    int64_t N, C, M, G;    /* batch, in channels, out channels, groups */
    int64_t Cg, Mg;        /* channels per group: C/G in, M/G out */
    int64_t in[3], out[3]; /* spatial sizes (D, H, W), 1-padded in front */
    int64_t k[3], s[3], d[3], pb[3]; /* kernel, stride, dilation, pad begin */
    int64_t S_in, P; /* in[0]*in[1]*in[2], out[0]*out[1]*out[2] */
    int64_t K;       /* Cg * k[0]*k[1]*k[2]: rows of the column matrix */
    int64_t chunk;   /* output positions per im2col pass: the column
                        matrix (K, chunk) is the scratch */
    int pointwise;   /* 1x1 kernel, stride 1, no pad: X is the columns */
    int depthwise;   /* Cg == 1 and Mg == 1: direct loop, no sgemm */
    int has_bias;
} conv_plan;


static onyx_status conv_prepare(onyx_prep *p)
{
    ONYX_TRY(onyx_need_dtype(p, CONV_X, ONYX_MASK(ONYX_FLOAT)));
    ONYX_TRY(onyx_need_dtype(p, CONV_W, ONYX_MASK(ONYX_FLOAT)));
    const onyx_tensor *X = p->in[CONV_X], *W = p->in[CONV_W];
    const onyx_tensor *B = p->n_in > CONV_B ? p->in[CONV_B] : NULL;
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
    int64_t C = X->dims[1], M = W->dims[0];
    ONYX_CHECK(
        p, C % G == 0 && W->dims[1] * G == C,
        "X %s with group %lld does not match W %s (W[1] must be C/group)",
        onyx_shape_str(X, sx, sizeof sx), (long long)G,
        onyx_shape_str(W, sw, sizeof sw));
    ONYX_CHECK(p, M % G == 0, "W[0] = %lld is not divisible by group %lld",
               (long long)M, (long long)G);

    int64_t ks[3], st[3], dl[3], pads[6];
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
    ONYX_TRY(spatial_attr(p, "pads", 2 * nsp, 0, 0, pads));
    spatial_pad ap;
    ONYX_TRY(spatial_auto_pad(p, &ap));

    conv_plan q;
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
        int64_t in = X->dims[2 + i], ke = (ks[i] - 1) * dl[i] + 1, out, pb;
        if (ap == PAD_SAME_UPPER || ap == PAD_SAME_LOWER) {
            out = ceil_div(in, st[i]);
            int64_t total = (out - 1) * st[i] + ke - in;
            if (total < 0) total = 0;
            pb = ap == PAD_SAME_UPPER ? total / 2 : total - total / 2;
        } else if (ap == PAD_VALID) {
            out = in >= ke ? (in - ke) / st[i] + 1 : 0;
            pb = 0;
        } else {
            int64_t span = in + pads[i] + pads[nsp + i];
            out = span >= ke ? (span - ke) / st[i] + 1 : 0;
            pb = pads[i];
        }
        ONYX_CHECK(p, out >= 1,
                   "kernel %lld (dilated %lld) does not fit spatial axis %d "
                   "of X %s with its padding",
                   (long long)ks[i], (long long)ke, i,
                   onyx_shape_str(X, sx, sizeof sx));
        q.in[a] = in;
        q.out[a] = out;
        q.k[a] = ks[i];
        q.s[a] = st[i];
        q.d[a] = dl[i];
        q.pb[a] = pb;
        ydims[2 + i] = out;
    }
    if (B) {
        ONYX_TRY(onyx_need_dtype(p, CONV_B, ONYX_MASK(ONYX_FLOAT)));
        ONYX_CHECK(p, B->rank == 1 && B->dims[0] == M,
                   "B %s must be a vector of %lld (W[0]) biases",
                   onyx_shape_str(B, sx, sizeof sx), (long long)M);
        q.has_bias = 1;
    }
    ONYX_CHECK(p,
               (double)q.out[0] * (double)q.out[1] * (double)q.out[2] *
                       (double)(q.N * M) <
                   0x1p40,
               "output of more than 2^40 elements");
    q.S_in = q.in[0] * q.in[1] * q.in[2];
    q.P = q.out[0] * q.out[1] * q.out[2];
    q.K = q.Cg * q.k[0] * q.k[1] * q.k[2];
    q.pointwise = 1;
    for (int i = 0; i < 3; i++)
        if (q.k[i] != 1 || q.s[i] != 1 || q.pb[i] != 0 || q.out[i] != q.in[i])
            q.pointwise = 0;
    q.depthwise = q.Cg == 1 && q.Mg == 1 && !q.pointwise;
    ONYX_CHECK(p, q.K <= 0x7fffffff && q.P <= 0x7fffffff && M <= 0x7fffffff,
               "convolution too large for a 32-bit sgemm");

    if (p->out[CONV_Y])
        onyx_set_shape(p->out[CONV_Y], ONYX_FLOAT, X->rank, ydims);
    /* the column matrix is built CONV_COL_FLOATS at a time (at least 64
     * columns), not whole: it stays in cache for the sgemm, and the scratch
     * stays small for long signals */
    q.chunk = CONV_COL_FLOATS / q.K;
    if (q.chunk < 64) q.chunk = 64;
    if (q.chunk > q.P) q.chunk = q.P;
    conv_plan *qp = malloc(sizeof *qp);
    if (!qp) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    *qp = q;
    p->params = qp;
    if (!q.pointwise && !q.depthwise)
        p->scratch_bytes = (size_t)q.K * (size_t)q.chunk * sizeof(float);
    return ONYX_OK;
}

/* col (K, p1 - p0) from x (Cg, D, H, W): row (c, a, b, w) holds, for the
 * output positions p0 <= p < p1 (flat over the output's D, H, W), the input
 * under kernel tap (a, b, w) of channel c, or 0 where it falls on padding. */
CONV_HOT static void im2col(float *restrict col, const float *restrict x,
                            int64_t p0, int64_t p1, const conv_plan *q)
{
    const int64_t OW = q->out[2], plane = q->out[1] * OW, sw = q->s[2];
    for (int64_t c = 0; c < q->Cg; c++)
        for (int64_t a = 0; a < q->k[0]; a++)
            for (int64_t b = 0; b < q->k[1]; b++)
                for (int64_t w = 0; w < q->k[2]; w++) {
                    int64_t offd = a * q->d[0] - q->pb[0];
                    int64_t offh = b * q->d[1] - q->pb[1];
                    int64_t offw = w * q->d[2] - q->pb[2];
                    int64_t dlo, dhi, hlo, hhi, wlo, whi;
                    tap_range(q->out[0], q->s[0], offd, q->in[0], &dlo, &dhi);
                    tap_range(q->out[1], q->s[1], offh, q->in[1], &hlo, &hhi);
                    tap_range(OW, sw, offw, q->in[2], &wlo, &whi);
                    /* one output row (od, oh) segment [ow0, ow1) at a time;
                     * dst[ow - ow0] is its column ow */
                    for (int64_t p = p0; p < p1;) {
                        int64_t od = p / plane, oh = p % plane / OW;
                        int64_t ow0 = p % OW;
                        int64_t ow1 = OW - ow0 < p1 - p ? OW : ow0 + (p1 - p);
                        float *dst = col;
                        col += ow1 - ow0;
                        p += ow1 - ow0;
                        if (od < dlo || od >= dhi || oh < hlo || oh >= hhi) {
                            for (int64_t ow = ow0; ow < ow1; ow++)
                                dst[ow - ow0] = 0;
                            continue;
                        }
                        int64_t id = od * q->s[0] + offd;
                        int64_t ih = oh * q->s[1] + offh;
                        const float *xr =
                            x +
                            ((c * q->in[0] + id) * q->in[1] + ih) * q->in[2];
                        int64_t lo = wlo > ow0 ? wlo : ow0;
                        int64_t hi = whi < ow1 ? whi : ow1;
                        if (hi < lo) hi = lo;
                        int64_t ow = ow0;
                        for (; ow < lo; ow++)
                            dst[ow - ow0] = 0;
                        if (sw == 1)
                            for (; ow < hi; ow++)
                                dst[ow - ow0] = xr[ow + offw];
                        else
                            for (; ow < hi; ow++)
                                dst[ow - ow0] = xr[ow * sw + offw];
                        for (; ow < ow1; ow++)
                            dst[ow - ow0] = 0;
                    }
                }
}

/* y (out...) = bias + sum over taps of w[tap] * x (in...) shifted: one
 * channel of a depthwise convolution, accumulated tap by tap over the
 * valid output ranges so the inner loop has no bounds checks. */
CONV_HOT static void depthwise_channel(float *restrict y,
                                       const float *restrict x,
                                       const float *restrict w, float bias,
                                       const conv_plan *q)
{
    const int64_t plane = q->out[1] * q->out[2];
    for (int64_t i = 0; i < q->P; i++)
        y[i] = bias;
    for (int64_t a = 0; a < q->k[0]; a++)
        for (int64_t b = 0; b < q->k[1]; b++)
            for (int64_t t = 0; t < q->k[2]; t++) {
                float wv = *w++;
                int64_t offd = a * q->d[0] - q->pb[0];
                int64_t offh = b * q->d[1] - q->pb[1];
                int64_t offw = t * q->d[2] - q->pb[2];
                int64_t dlo, dhi, hlo, hhi, wlo, whi;
                tap_range(q->out[0], q->s[0], offd, q->in[0], &dlo, &dhi);
                tap_range(q->out[1], q->s[1], offh, q->in[1], &hlo, &hhi);
                tap_range(q->out[2], q->s[2], offw, q->in[2], &wlo, &whi);
                const int64_t sw = q->s[2];
                for (int64_t od = dlo; od < dhi; od++) {
                    int64_t id = od * q->s[0] + offd;
                    for (int64_t oh = hlo; oh < hhi; oh++) {
                        int64_t ih = oh * q->s[1] + offh;
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
    const float *X = e->in[CONV_X]->data, *W = e->in[CONV_W]->data;
    const float *B = q->has_bias ? e->in[CONV_B]->data : NULL;
    if (!e->out[CONV_Y]) return ONYX_OK;
    float *Y = e->out[CONV_Y]->data;
    float *col = e->scratch;
    const int Mg = (int)q->Mg, P = (int)q->P, K = (int)q->K;

    for (int64_t n = 0; n < q->N; n++) {
        const float *xn = X + n * q->C * q->S_in;
        float *yn = Y + n * q->M * q->P;
        if (q->depthwise) {
            for (int64_t m = 0; m < q->M; m++)
                depthwise_channel(yn + m * q->P, xn + m * q->S_in, W + m * q->K,
                                  B ? B[m] : 0.0f, q);
            continue;
        }
        for (int64_t g = 0; g < q->G; g++) {
            const float *xg = xn + g * q->Cg * q->S_in;
            float *yg = yn + g * q->Mg * q->P;
            float beta = 0.0f;
            if (B) {
                for (int64_t m = 0; m < q->Mg; m++) {
                    float bv = B[g * q->Mg + m], *yr = yg + m * q->P;
                    for (int64_t i = 0; i < q->P; i++)
                        yr[i] = bv;
                }
                beta = 1.0f;
            }
            const float *Wg = W + g * q->Mg * q->K;
            if (q->pointwise) {
                /* Y_g (Mg, P) = W_g (Mg, Cg) @ X_g (Cg, P) [+ bias] */
                onyx_sgemm(0, 0, Mg, P, K, 1.0f, Wg, K, xg, P, beta, yg, P);
                continue;
            }
            for (int64_t p0 = 0; p0 < q->P; p0 += q->chunk) {
                int64_t p1 = p0 + q->chunk < q->P ? p0 + q->chunk : q->P;
                int cols = (int)(p1 - p0);
                im2col(col, xg, p0, p1, q);
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
