/* quantize.c - QuantizeLinear and DequantizeLinear (per tensor, or per
 * index along an axis from opset 13), and DynamicQuantizeLinear, which
 * picks the uint8 scale and zero point that cover its input and 0.
 *
 *   QuantizeLinear    y = saturate(round(x / scale) + zero_point)
 *   DequantizeLinear  y = (x - zero_point) * scale
 *
 * round takes halves to even; saturate clamps to the range of y's dtype
 * (uint8, or int8 when the zero point is int8). */
#include "onyx_kernel.h"
#include "math/quant.h"

#include <stdlib.h>
#include <string.h>

enum { Q_X = 0, Q_SCALE = 1, Q_ZP = 2 };
enum { Q_Y = 0, Q_Y_SCALE = 1, Q_Y_ZP = 2 };

/* X seen as (outer, D, inner); the scale and zero point hold one value, or
 * one per index of D (the axis). */
typedef struct {
    int64_t outer, D, inner;
    int per_axis;      /* scale and zero point have D values */
    onyx_dtype xt, yt; /* dtypes of X and Y */
    int has_zp;        /* the zero point input is given */
} q_params;

/* Checks scale and zero point against X, and plans X as (outer, D, inner).
 * quantize: X is float, the zero point (if any) 8-bit; otherwise X is
 * 8-bit or int32 and the zero point has X's dtype. */
static onyx_status q_plan(onyx_prep *p, int quantize, q_params *q)
{
    ONYX_CHECK(p, p->n_in >= 2 && p->n_in <= 3,
               "%s takes x, scale and an optional zero point, got %d inputs",
               p->op_type, p->n_in);
    if (quantize)
        ONYX_TRY(onyx_need_dtype(p, Q_X, ONYX_MASK(ONYX_FLOAT)));
    else
        ONYX_TRY(onyx_need_dtype(p, Q_X, QUANT_8BIT | ONYX_MASK(ONYX_INT32)));
    ONYX_TRY(onyx_need_dtype(p, Q_SCALE, ONYX_MASK(ONYX_FLOAT)));
    const onyx_tensor *X = p->in[Q_X], *S = p->in[Q_SCALE];
    const onyx_tensor *Z = p->n_in > Q_ZP ? p->in[Q_ZP] : NULL;
    memset(q, 0, sizeof *q);
    q->xt = X->dtype;
    q->has_zp = Z != NULL;
    if (Z) {
        if (quantize)
            ONYX_TRY(onyx_need_dtype(p, Q_ZP, QUANT_8BIT));
        else
            ONYX_CHECK(p, Z->dtype == X->dtype,
                       "x_zero_point is %s, x is %s: they must match",
                       onyx_dtype_name(Z->dtype), onyx_dtype_name(X->dtype));
    }
    q->yt = quantize ? (Z ? Z->dtype : ONYX_UINT8) : ONYX_FLOAT;

    /* opset 13 added per-axis scales; the axis is ignored for a scalar */
    int axis = 0;
    int64_t D = 1;
    char ss[96], sx[96];
    if (p->opset >= 13 && quant_count(S, 1) != 1) {
        ONYX_CHECK(p, X->rank > 0, "a scalar x takes a scalar scale");
        ONYX_TRY(onyx_axis(p, onyx_attr_int(p, "axis", 1), X->rank, 0, &axis));
        D = X->dims[axis];
    }
    int64_t ns = quant_count(S, D);
    ONYX_CHECK(p, ns != 0, "scale %s must be a scalar%s (x is %s)",
               onyx_shape_str(S, ss, sizeof ss),
               p->opset >= 13 ? " or a vector along the axis" : "",
               onyx_shape_str(X, sx, sizeof sx));
    if (Z)
        ONYX_CHECK(
            p, quant_count(Z, D) == ns, "zero point %s does not match scale %s",
            onyx_shape_str(Z, sx, sizeof sx), onyx_shape_str(S, ss, sizeof ss));
    q->per_axis = ns > 1;
    q->D = q->per_axis ? D : 1;
    q->outer = 1;
    q->inner = 1;
    for (int i = 0; i < X->rank; i++) {
        if (q->per_axis && i < axis) q->outer *= X->dims[i];
        if (q->per_axis && i > axis) q->inner *= X->dims[i];
        if (!q->per_axis) q->inner *= X->dims[i];
    }
    if (p->out[Q_Y]) onyx_set_shape(p->out[Q_Y], q->yt, X->rank, X->dims);
    return ONYX_OK;
}

static onyx_status q_prepare(onyx_prep *p, int quantize)
{
    q_params q;
    ONYX_TRY(q_plan(p, quantize, &q));
    q_params *qp = malloc(sizeof *qp);
    if (!qp) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    *qp = q;
    p->params = qp;
    return ONYX_OK;
}

/* ---- the element loops ----------------------------------------------------
 */

/* y (n) = saturate(round(x (n) / s) + z) into [lo, hi], as uint8 or int8 */
QUANT_EXACT_DIV static void quantize_u8(uint8_t *restrict y,
                                        const float *restrict x, int64_t n,
                                        float s, float z, float lo, float hi)
{
    for (int64_t i = 0; i < n; i++)
        y[i] = (uint8_t)quant_round_sat(x[i] / s, z, lo, hi);
}

QUANT_EXACT_DIV static void quantize_s8(int8_t *restrict y,
                                        const float *restrict x, int64_t n,
                                        float s, float z, float lo, float hi)
{
    for (int64_t i = 0; i < n; i++)
        y[i] = (int8_t)quant_round_sat(x[i] / s, z, lo, hi);
}

static void quantize_run(void *y, onyx_dtype yt, const float *x, int64_t n,
                         float s, int32_t z)
{
    const float lo = (float)quant_lo(yt), hi = (float)quant_hi(yt);
    if (yt == ONYX_INT8)
        quantize_s8(y, x, n, s, (float)z, lo, hi);
    else
        quantize_u8(y, x, n, s, (float)z, lo, hi);
}

/* y (n) = (x (n) - z) * s for x of dtype xt */
static void dequantize_run(float *restrict y, const void *xv, onyx_dtype xt,
                           int64_t n, float s, int32_t z)
{
    if (xt == ONYX_UINT8) {
        const uint8_t *x = xv;
        for (int64_t i = 0; i < n; i++)
            y[i] = (float)((int32_t)x[i] - z) * s;
    } else if (xt == ONYX_INT8) {
        const int8_t *x = xv;
        for (int64_t i = 0; i < n; i++)
            y[i] = (float)((int32_t)x[i] - z) * s;
    } else { /* int32: the difference in int64, as it may not fit */
        const int32_t *x = xv;
        for (int64_t i = 0; i < n; i++)
            y[i] = (float)((int64_t)x[i] - z) * s;
    }
}

static onyx_status q_eval(onyx_exec *e, int quantize)
{
    const q_params *q = e->params;
    onyx_tensor *Y = e->out[Q_Y];
    if (!Y) return ONYX_OK;
    const onyx_tensor *X = e->in[Q_X], *Z = q->has_zp ? e->in[Q_ZP] : NULL;
    const float *S = e->in[Q_SCALE]->data;
    const size_t xs = onyx_dtype_size(X->dtype), ys = onyx_dtype_size(Y->dtype);
    for (int64_t o = 0; o < q->outer; o++)
        for (int64_t d = 0; d < q->D; d++) {
            const int64_t off = (o * q->D + d) * q->inner;
            const char *x = (const char *)X->data + off * (int64_t)xs;
            char *y = (char *)Y->data + off * (int64_t)ys;
            const int32_t z = Z ? quant_zp_at(Z, d) : 0;
            if (quantize)
                quantize_run(y, q->yt, (const float *)x, q->inner, S[d], z);
            else
                dequantize_run((float *)y, x, q->xt, q->inner, S[d], z);
        }
    return ONYX_OK;
}

static onyx_status quantize_prepare(onyx_prep *p)
{
    return q_prepare(p, 1);
}
static onyx_status quantize_eval(onyx_exec *e)
{
    return q_eval(e, 1);
}
static onyx_status dequantize_prepare(onyx_prep *p)
{
    return q_prepare(p, 0);
}
static onyx_status dequantize_eval(onyx_exec *e)
{
    return q_eval(e, 0);
}

const onyx_op onyx_op_QuantizeLinear = {"QuantizeLinear", quantize_prepare,
                                        quantize_eval, 0, NULL};
const onyx_op onyx_op_DequantizeLinear = {
    "DequantizeLinear", dequantize_prepare, dequantize_eval, 0, NULL};

/* ---- DynamicQuantizeLinear ------------------------------------------------
 * The uint8 quantization of x whose range covers min(x) .. max(x) and 0:
 *   lo = min(0, min x), hi = max(0, max x), y_scale = (hi - lo) / 255,
 *   y_zero_point = saturate(round(-lo / y_scale)),
 *   y = saturate(round(x / y_scale) + y_zero_point).
 * An x of zeros (y_scale 0) gives y_zero_point 0 and y 0. */

static onyx_status dql_prepare(onyx_prep *p)
{
    ONYX_CHECK(p, p->n_in == 1, "DynamicQuantizeLinear takes one input, got %d",
               p->n_in);
    ONYX_TRY(onyx_need_dtype(p, Q_X, ONYX_MASK(ONYX_FLOAT)));
    const onyx_tensor *X = p->in[Q_X];
    if (p->n_out > Q_Y && p->out[Q_Y])
        onyx_set_shape(p->out[Q_Y], ONYX_UINT8, X->rank, X->dims);
    if (p->n_out > Q_Y_SCALE && p->out[Q_Y_SCALE])
        onyx_set_shape(p->out[Q_Y_SCALE], ONYX_FLOAT, 0, NULL);
    if (p->n_out > Q_Y_ZP && p->out[Q_Y_ZP])
        onyx_set_shape(p->out[Q_Y_ZP], ONYX_UINT8, 0, NULL);
    return ONYX_OK;
}

QUANT_EXACT_DIV static onyx_status dql_eval(onyx_exec *e)
{
    const onyx_tensor *X = e->in[Q_X];
    const float *x = X->data;
    const int64_t n = onyx_numel(X);
    float lo = 0, hi = 0;
    for (int64_t i = 0; i < n; i++) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
    const float scale = (hi - lo) / 255.0f;
    int32_t zp = 0;
    if (scale > 0) zp = quant_round_sat(-lo / scale, 0, 0, 255);
    onyx_tensor *Y = e->out[Q_Y];
    if (e->n_out > Q_Y_SCALE && e->out[Q_Y_SCALE])
        *(float *)e->out[Q_Y_SCALE]->data = scale;
    if (e->n_out > Q_Y_ZP && e->out[Q_Y_ZP])
        *(uint8_t *)e->out[Q_Y_ZP]->data = (uint8_t)zp;
    if (!Y) return ONYX_OK;
    if (scale > 0)
        quantize_run(Y->data, ONYX_UINT8, x, n, scale, zp);
    else if (n) /* x is all zeros (or NaN) */
        memset(Y->data, 0, (size_t)n);
    return ONYX_OK;
}

const onyx_op onyx_op_DynamicQuantizeLinear = {"DynamicQuantizeLinear",
                                               dql_prepare, dql_eval, 0, NULL};
