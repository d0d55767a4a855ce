/* qconv.c - ConvInteger and QLinearConv: Conv (1-D to 3-D, groups,
 * strides, dilations, pads, auto_pad) of uint8/int8 tensors, as im2col into
 * scratch and onyx_igemm_u8 per group.
 *
 *   ConvInteger  Y (int32) = conv(x - x_zero_point, w - w_zero_point)
 *   QLinearConv  y = saturate(round((acc + B) * x_scale * w_scale / y_scale)
 *                             + y_zero_point), acc the convolution above
 *
 * w's scale and zero point hold one value, or one per output channel. The
 * column matrix is made as uint8 with padding holding x's zero point (so
 * that it adds nothing), then transposed so that both operands of the
 * product have the depth contiguous (as unsigned bytes, or int16 for
 * several output channels on x86-64: igemm.h). A constant w is converted
 * with its row sums once, in prepare. */
#include "math/igemm.h"
#include "onyx_kernel.h"
#include "math/quant.h"
#include "math/spatial.h"

#include <stdlib.h>
#include <string.h>

/* Which inputs are which: ConvInteger (x, w, x_zero_point, w_zero_point)
 * or QLinearConv (x, x_scale, x_zero_point, w, w_scale, w_zero_point,
 * y_scale, y_zero_point, B); -1 for none. */
typedef struct {
    int x, w, zx, zw, sx, sw, sy, zy, b;
} qconv_inputs;

static const qconv_inputs CI_IN = {0, 1, 2, 3, -1, -1, -1, -1, -1};
static const qconv_inputs QLC_IN = {0, 3, 2, 5, 1, 4, 6, 7, 8};

static size_t align64(size_t n)
{
    return (n + 63) / 64 * 64;
}

typedef struct {
    qconv_inputs in;
    int qlinear;
    conv_geom geom;
    int64_t K;     /* Cg * KK: depth of the product */
    int64_t chunk; /* output positions per pass */
    int x_s8, w_s8;
    int wide;     /* operands as int16 (igemm.h) */
    int nzw, nsw; /* w's zero point and scale counts: 1 or M */
    int has_bias;
    onyx_dtype yt;
    /* owned, in the plan's block: the KK taps, and when w is constant, w as
     * igemm's operand (M, K) and its row sums (M); else NULL */
    conv_tap *taps;
    void *Wu;
    int32_t *wsums;
    /* scratch byte offsets: the column matrix (K, chunk), its transpose
     * (chunk, K) and row sums (chunk), w converted and its sums when not in
     * params, the zero points of w (M), the int32 product (Mg, chunk) and
     * the multipliers (M) for QLinearConv */
    size_t s_col, s_row, s_rs, s_w, s_ws, s_zw, s_acc, s_mul;
} qconv_plan;

static void qconv_free(void *params)
{
    free(params);
}

/* Count of a zero point or scale of w: 1, or M (one per output channel). */
static int64_t qconv_count(const onyx_tensor *t, int64_t M)
{
    int64_t e = onyx_numel(t);
    return e == 1 ? 1 : (t->rank == 1 && e == M) ? M : 0;
}

static onyx_status qconv_prepare(onyx_prep *p)
{
    qconv_plan q;
    memset(&q, 0, sizeof q);
    q.qlinear = !strcmp(p->op_type, "QLinearConv");
    q.in = q.qlinear ? QLC_IN : CI_IN;
    if (q.qlinear)
        ONYX_CHECK(p, p->n_in == 8 || p->n_in == 9,
                   "QLinearConv takes 8 or 9 inputs, got %d", p->n_in);
    else
        ONYX_CHECK(p, p->n_in >= 2 && p->n_in <= 4,
                   "ConvInteger takes 2 to 4 inputs, got %d", p->n_in);
    ONYX_TRY(onyx_need_dtype(p, q.in.x, QUANT_8BIT));
    ONYX_TRY(onyx_need_dtype(p, q.in.w, QUANT_8BIT));
    const onyx_tensor *X = p->in[q.in.x], *W = p->in[q.in.w];
    q.x_s8 = X->dtype == ONYX_INT8;
    q.w_s8 = W->dtype == ONYX_INT8;
    conv_geom *g = &q.geom;
    ONYX_TRY(conv_geom_init(p, 0, X, W, g));
    ONYX_TRY(conv_geom_out(p, g, X));
    char s[96];
    /* x's zero point: one value; w's: one or one per output channel */
    if (q.in.zx < p->n_in && p->in[q.in.zx]) {
        const onyx_tensor *Z = p->in[q.in.zx];
        ONYX_CHECK(p, Z->dtype == X->dtype && onyx_numel(Z) == 1,
                   "x_zero_point (%s %s) must be one value of x's dtype",
                   onyx_dtype_name(Z->dtype), onyx_shape_str(Z, s, sizeof s));
    }
    if (q.in.zw < p->n_in && p->in[q.in.zw]) {
        const onyx_tensor *Z = p->in[q.in.zw];
        q.nzw = (int)qconv_count(Z, g->M);
        ONYX_CHECK(p, Z->dtype == W->dtype && q.nzw,
                   "w_zero_point (%s %s) must be of w's dtype, with one value "
                   "or one per output channel",
                   onyx_dtype_name(Z->dtype), onyx_shape_str(Z, s, sizeof s));
    }
    q.yt = ONYX_INT32;
    if (q.qlinear) {
        for (int i = 0; i < 3; i++) {
            const int k = i == 0 ? q.in.sx : i == 1 ? q.in.sw : q.in.sy;
            ONYX_TRY(onyx_need_dtype(p, k, ONYX_MASK(ONYX_FLOAT)));
            const int64_t c = qconv_count(p->in[k], g->M);
            ONYX_CHECK(p, c == 1 || (i == 1 && c),
                       "%s %s must hold one value%s",
                       i == 0   ? "x_scale"
                       : i == 1 ? "w_scale"
                                : "y_scale",
                       onyx_shape_str(p->in[k], s, sizeof s),
                       i == 1 ? " or one per output channel" : "");
            if (i == 1) q.nsw = (int)c;
        }
        ONYX_TRY(onyx_need_dtype(p, q.in.zy, QUANT_8BIT));
        q.yt = p->in[q.in.zy]->dtype;
        ONYX_CHECK(p, onyx_numel(p->in[q.in.zy]) == 1,
                   "y_zero_point must hold one value");
        if (p->n_in > q.in.b && p->in[q.in.b] &&
            onyx_numel(p->in[q.in.b]) > 0) {
            const onyx_tensor *B = p->in[q.in.b];
            ONYX_TRY(onyx_need_dtype(p, q.in.b, ONYX_MASK(ONYX_INT32)));
            ONYX_CHECK(p, B->rank == 1 && B->dims[0] == g->M,
                       "B %s must be a vector of %lld int32 biases",
                       onyx_shape_str(B, s, sizeof s), (long long)g->M);
            q.has_bias = 1;
        }
    }
    ONYX_TRY(conv_geom_size(p, g, p->out[0], q.yt));
    q.K = g->Cg * g->KK;
    ONYX_CHECK(
        p, q.K <= 0x7fffffff && g->S_out <= 0x7fffffff && g->M <= 0x7fffffff,
        "convolution too large for a 32-bit product");
    /* columns per pass: conv_chunk's budget, in bytes rather than floats */
    q.chunk = conv_chunk(q.K, g->S_out);

    const int wconst = p->in_const && p->in_const[q.in.w] && W->data;
    const size_t M = (size_t)g->M, K = (size_t)q.K, C = (size_t)q.chunk;
    /* several output channels on x86-64: int16 operands (igemm.h) */
    q.wide = ONYX_IGEMM_WIDE && g->Mg > 1;
    const size_t es = q.wide ? 2 : 1;
    size_t off = 0;
    q.s_col = off, off += align64(K * C);
    q.s_row = off, off += align64(C * K * es);
    q.s_rs = off, off += align64(C * 4);
    q.s_w = off, off += wconst ? 0 : align64(M * K * es);
    q.s_ws = off, off += wconst ? 0 : align64(M * 4);
    q.s_zw = off, off += align64(M * 4);
    q.s_acc = off, off += q.qlinear ? align64((size_t)g->Mg * C * 4) : 0;
    q.s_mul = off, off += q.qlinear ? align64(M * 4) : 0;
    p->scratch_bytes = off;

    const size_t head = align64(sizeof q);
    const size_t tbytes = align64((size_t)g->KK * sizeof(conv_tap));
    const size_t wbytes = wconst ? align64(M * K * es) + align64(M * 4) : 0;
    qconv_plan *qp = aligned_alloc(64, head + tbytes + wbytes);
    if (!qp) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    *qp = q;
    qp->taps = (conv_tap *)((char *)qp + head);
    conv_taps_make(qp->taps, &qp->geom);
    if (wconst) {
        qp->Wu = (char *)qp + head + tbytes;
        qp->wsums = (int32_t *)((char *)qp->Wu + align64(M * K * es));
        onyx_u8_from(qp->Wu, q.wide, W->data, q.w_s8, (long)(M * K));
        onyx_u8_row_sums(qp->wsums, qp->Wu, q.wide, (long)K, (int)M, (int)K);
    }
    p->params = qp;
    p->free_params = qconv_free;
    /* each output element: C/group * prod(kernel) multiply-adds */
    const onyx_tensor *Wt = p->in[q.in.w];
    if (Wt->rank >= 2) {
        int64_t per = 1;
        for (int i = 1; i < Wt->rank; i++)
            per = onyx_flops_mul(per, Wt->dims[i]);
        p->flops = onyx_flops_mul(2 * onyx_out_numel(p), per);
    }
    return ONYX_OK;
}

/* col (K, p1 - p0) from x (Cg, D, H, W) as uint8 (flip: 0x80 for int8):
 * row (c, tap) holds, for the output positions p0 <= p < p1, the input
 * under that tap of channel c, or pad (x's zero point) on padding. */
SPATIAL_HOT static void im2col_u8(uint8_t *restrict col,
                                  const uint8_t *restrict x, uint8_t flip,
                                  uint8_t pad, int64_t p0, int64_t p1,
                                  const conv_geom *q, const conv_tap *taps)
{
    const int64_t sw = q->s[2], plane = q->in[0] * q->in[1];
    for (conv_walk w = conv_walk_start(q, p0, p1, taps); w.c < q->Cg;
         conv_walk_next(q, &w)) {
        const int64_t w0 = w.r.w0, w1 = w.r.w0 + w.r.n, offw = w.t.off[2];
        const uint8_t *xr = x + (w.c * plane + w.r.row) * q->in[2];
        int64_t ow = w0;
        for (; ow < w.r.lo; ow++)
            col[ow - w0] = pad;
        for (; ow < w.r.hi; ow++)
            col[ow - w0] = (uint8_t)(xr[ow * sw + offw] ^ flip);
        for (; ow < w1; ow++)
            col[ow - w0] = pad;
        col += w.r.n;
    }
}

/* rt (n, k) = col (k, n) transposed, as uint8 or (wide) int16 */
SPATIAL_HOT static void transpose_u8(void *restrict rt, int wide,
                                     const uint8_t *restrict col, int64_t k,
                                     int64_t n)
{
    for (int64_t j0 = 0; j0 < n; j0 += 16)
        for (int64_t p = 0; p < k; p++)
            for (int64_t j = j0; j < j0 + 16 && j < n; j++)
                if (wide)
                    ((int16_t *)rt)[j * k + p] = col[p * n + j];
                else
                    ((uint8_t *)rt)[j * k + p] = col[p * n + j];
}

/* y (Mg, cols; row stride ldy) = saturate(round((acc + bias[m]) mul[m]) +
 * zy) from acc (Mg, cols) */
static void qconv_requantize(const qconv_plan *q, const int32_t *acc,
                             const int32_t *bias, const float *mul, float zy,
                             int64_t Mg, int64_t cols, void *y, int64_t ldy)
{
    const float lo = (float)quant_lo(q->yt), hi = (float)quant_hi(q->yt);
    for (int64_t m = 0; m < Mg; m++) {
        const uint32_t b = bias ? (uint32_t)bias[m] : 0;
        const float s = mul[m];
        const int32_t *a = acc + m * cols;
        if (q->yt == ONYX_INT8) {
            int8_t *yr = (int8_t *)y + m * ldy;
            for (int64_t j = 0; j < cols; j++)
                yr[j] = (int8_t)quant_round_sat(
                    (float)(int32_t)((uint32_t)a[j] + b) * s, zy, lo, hi);
        } else {
            uint8_t *yr = (uint8_t *)y + m * ldy;
            for (int64_t j = 0; j < cols; j++)
                yr[j] = (uint8_t)quant_round_sat(
                    (float)(int32_t)((uint32_t)a[j] + b) * s, zy, lo, hi);
        }
    }
}

QUANT_EXACT_DIV static onyx_status qconv_eval(onyx_exec *e)
{
    const qconv_plan *q = e->params;
    const conv_geom *cg = &q->geom;
    if (!e->out[0]) return ONYX_OK;
    char *s = e->scratch;
    const onyx_tensor *X = e->in[q->in.x];
    const int64_t M = cg->M, Mg = cg->Mg, P = cg->S_out, K = q->K;
    const int has_zx = q->in.zx < e->n_in && e->in[q->in.zx];
    const int has_zw = q->in.zw < e->n_in && e->in[q->in.zw];
    const int32_t zx =
        (has_zx ? quant_zp_at(e->in[q->in.zx], 0) : 0) + (q->x_s8 ? 128 : 0);
    int32_t *zw = (int32_t *)(s + q->s_zw);
    for (int64_t m = 0; m < (q->nzw > 1 ? M : 1); m++)
        zw[m] = (has_zw ? quant_zp_at(e->in[q->in.zw], m) : 0) +
                (q->w_s8 ? 128 : 0);
    const int zws = q->nzw > 1;
    /* w (M, K) as unsigned bytes and its row sums, unless prepare made
     * them */
    const void *Wu = q->Wu;
    const int32_t *wsums = q->wsums;
    if (!Wu) {
        onyx_u8_from(s + q->s_w, q->wide, e->in[q->in.w]->data, q->w_s8,
                     (long)(M * K));
        Wu = s + q->s_w;
        onyx_u8_row_sums((int32_t *)(s + q->s_ws), Wu, q->wide, (long)K, (int)M,
                         (int)K);
        wsums = (const int32_t *)(s + q->s_ws);
    }
    /* QLinearConv: the multiplier of each output channel */
    float *mul = (float *)(s + q->s_mul), zy = 0;
    const int32_t *bias = NULL;
    if (q->qlinear) {
        const float sx = *(const float *)e->in[q->in.sx]->data,
                    sy = *(const float *)e->in[q->in.sy]->data;
        const float *sw = e->in[q->in.sw]->data;
        for (int64_t m = 0; m < M; m++)
            mul[m] = sx * sw[q->nsw > 1 ? m : 0] / sy;
        zy = (float)quant_zp_at(e->in[q->in.zy], 0);
        if (q->has_bias) bias = e->in[q->in.b]->data;
    }
    uint8_t *col = (uint8_t *)(s + q->s_col);
    void *rt = s + q->s_row;
    const size_t es = q->wide ? 2 : 1;
    int32_t *rsums = (int32_t *)(s + q->s_rs);
    const uint8_t flip = q->x_s8 ? 0x80 : 0;
    const uint8_t pad = (uint8_t)zx;
    const size_t ys = onyx_dtype_size(q->yt);
    for (int64_t n = 0; n < cg->N; n++) {
        const uint8_t *xn = (const uint8_t *)X->data + n * cg->C * cg->S_in;
        char *yn = (char *)e->out[0]->data + (size_t)(n * M * P) * ys;
        for (int64_t g = 0; g < cg->G; g++) {
            const uint8_t *xg = xn + g * cg->Cg * cg->S_in;
            const int64_t m0 = g * Mg;
            char *yg = yn + (size_t)(m0 * P) * ys;
            for (int64_t p0 = 0; p0 < P; p0 += q->chunk) {
                const int64_t p1 = p0 + q->chunk < P ? p0 + q->chunk : P;
                const int64_t cols = p1 - p0;
                im2col_u8(col, xg, flip, pad, p0, p1, cg, q->taps);
                transpose_u8(rt, q->wide, col, K, cols);
                onyx_u8_row_sums(rsums, rt, q->wide, (long)K, (int)cols,
                                 (int)K);
                /* acc (Mg, cols) = (W_g - zw) (Mg, K) @ (col - zx) */
                int32_t *acc =
                    q->qlinear ? (int32_t *)(s + q->s_acc) : (int32_t *)yg + p0;
                const long ldc = q->qlinear ? (long)cols : (long)P;
                onyx_igemm_u8(q->wide, (int)Mg, (int)cols, (int)K,
                              (const char *)Wu + (size_t)(m0 * K) * es, (long)K,
                              wsums + m0, zw + (zws ? m0 : 0), zws, rt, (long)K,
                              rsums, &zx, 0, acc, ldc);
                if (q->qlinear)
                    qconv_requantize(q, acc, bias ? bias + m0 : NULL, mul + m0,
                                     zy, Mg, cols, yg + (size_t)p0 * ys, P);
            }
        }
    }
    return ONYX_OK;
}

const onyx_op onyx_op_ConvInteger = {"ConvInteger", qconv_prepare, qconv_eval,
                                     0, NULL};
const onyx_op onyx_op_QLinearConv = {"QLinearConv", qconv_prepare, qconv_eval,
                                     0, NULL};
