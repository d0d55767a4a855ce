/* norm.c - the normalisations: BatchNormalization (inference, plus the
 * training-mode statistics of opset 14+), InstanceNormalization and
 * LayerNormalization. They share the per-channel affine map y = a*x + b and
 * the mean/variance of a run of floats. */
#include "onyx_kernel.h"
#include "math/vmath.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared math (four lanes, vmath.h) ---- */

/* Mean and population variance of x (n,): two passes for accuracy; float
 * lanes summed in blocks of 1024 into a double so long rows stay exact. */
static void mean_var(const float *x, int64_t n, float *mean, float *var)
{
    if (n == 0) {
        *mean = *var = 0.0f;
        return;
    }
    double s = 0.0, v = 0.0;
    for (int64_t k0 = 0; k0 < n; k0 += 1024) {
        int64_t k1 = n - k0 < 1024 ? n : k0 + 1024, k = k0;
        v4f acc = {0, 0, 0, 0};
        for (; k + 4 <= k1; k += 4)
            acc += v4_load(x + k);
        float t = v4_sum(acc);
        for (; k < k1; k++)
            t += x[k];
        s += t;
    }
    float m = (float)(s / (double)n);
    for (int64_t k0 = 0; k0 < n; k0 += 1024) {
        int64_t k1 = n - k0 < 1024 ? n : k0 + 1024, k = k0;
        v4f acc = {0, 0, 0, 0};
        for (; k + 4 <= k1; k += 4) {
            v4f d = v4_load(x + k) - m;
            acc += d * d;
        }
        float t = v4_sum(acc);
        for (; k < k1; k++)
            t += (x[k] - m) * (x[k] - m);
        v += t;
    }
    *mean = m;
    *var = (float)(v / (double)n);
}

/* y (n,) = a * x + b */
static void affine_row(float *y, const float *x, float a, float b, int64_t n)
{
    int64_t k = 0;
    for (; k + 4 <= n; k += 4)
        v4_store(y + k, v4_load(x + k) * a + b);
    for (; k < n; k++)
        y[k] = a * x[k] + b;
}

/* Y (outer, C, inner) = a[c] * X + b[c]. */
static void channel_affine(float *y, const float *x, const float *a,
                           const float *b, int64_t outer, int64_t C,
                           int64_t inner)
{
    if (inner == 1) { /* (N, C): the channel is the fast axis */
        for (int64_t o = 0; o < outer; o++)
            for (int64_t c = 0; c < C; c++)
                y[o * C + c] = a[c] * x[o * C + c] + b[c];
        return;
    }
    for (int64_t o = 0; o < outer; o++)
        for (int64_t c = 0; c < C; c++)
            affine_row(y + (o * C + c) * inner, x + (o * C + c) * inner, a[c],
                       b[c], inner);
}

/* y (n,) = (x - m) * r * scale + bias; bias may be NULL */
static void norm_row(float *y, const float *x, float m, float r,
                     const float *scale, const float *bias, int64_t n)
{
    int64_t k = 0;
    if (bias) {
        for (; k + 4 <= n; k += 4)
            v4_store(y + k, (v4_load(x + k) - m) * r * v4_load(scale + k) +
                                v4_load(bias + k));
        for (; k < n; k++)
            y[k] = (x[k] - m) * r * scale[k] + bias[k];
    } else {
        for (; k + 4 <= n; k += 4)
            v4_store(y + k, (v4_load(x + k) - m) * r * v4_load(scale + k));
        for (; k < n; k++)
            y[k] = (x[k] - m) * r * scale[k];
    }
}

/* Data of optional output i, or NULL when the graph does not use it. */
static float *out_data(onyx_exec *e, int i)
{
    return i < e->n_out && e->out[i] ? e->out[i]->data : NULL;
}

/* Does input i hold a float32 tensor of exactly n elements? */
static onyx_status need_vector(onyx_prep *p, int i, const char *what, int64_t n)
{
    ONYX_TRY(onyx_need_dtype(p, i, ONYX_MASK(ONYX_FLOAT)));
    char buf[96];
    ONYX_CHECK(p, onyx_numel(p->in[i]) == n,
               "%s has shape %s, expected %lld elements", what,
               onyx_shape_str(p->in[i], buf, sizeof buf), (long long)n);
    return ONYX_OK;
}

/* ---- BatchNormalization ------------------------------------------------ */

enum { BN_X = 0, BN_SCALE, BN_B, BN_MEAN, BN_VAR };
enum { BN_Y = 0, BN_RUNNING_MEAN, BN_RUNNING_VAR };

typedef struct {
    int64_t N, C, inner; /* X viewed as (N, C, inner) */
    float epsilon, momentum;
    int training; /* opset 14+ training_mode=1: batch statistics */
    int folded;   /* ab holds the folded constants */
    float ab[];   /* a (C,) then b (C,) when folded */
} bn_params;

/* a = scale / sqrt(var + eps), b = B - mean * a; all (C,). */
static void bn_fold(float *a, float *b, const float *scale, const float *B,
                    const float *mean, const float *var, int64_t C, float eps)
{
    for (int64_t c = 0; c < C; c++) {
        a[c] = scale[c] / sqrtf(var[c] + eps);
        b[c] = B[c] - mean[c] * a[c];
    }
}

static onyx_status bn_prepare(onyx_prep *p)
{
    ONYX_TRY(onyx_need_dtype(p, BN_X, ONYX_MASK(ONYX_FLOAT)));
    const onyx_tensor *X = p->in[BN_X];
    char buf[96];
    ONYX_CHECK(p, X->rank >= 2, "X has shape %s; it needs at least (N, C)",
               onyx_shape_str(X, buf, sizeof buf));
    ONYX_CHECK(p, p->out[BN_Y] != NULL, "output Y is required");
    int training = 0;
    if (p->opset >= 14) {
        int64_t tm = onyx_attr_int(p, "training_mode", 0);
        ONYX_CHECK(p, tm == 0 || tm == 1, "training_mode %lld must be 0 or 1",
                   (long long)tm);
        training = (int)tm;
        ONYX_CHECK(p,
                   training || ((p->n_out <= 1 || !p->out[BN_RUNNING_MEAN]) &&
                                (p->n_out <= 2 || !p->out[BN_RUNNING_VAR])),
                   "outputs running_mean and running_var are only defined "
                   "with training_mode=1");
    } else {
        for (int i = 1; i < p->n_out; i++)
            if (p->out[i])
                return onyx_fail(p, ONYX_ERR_UNSUPPORTED,
                                 "output %d is used: training-mode "
                                 "BatchNormalization is only supported from "
                                 "opset 14 (training_mode=1)",
                                 i);
    }
    int64_t C = X->dims[1], inner = 1;
    for (int i = 2; i < X->rank; i++)
        inner *= X->dims[i];
    /* opset < 9 with spatial=0: statistics per activation (C x D1 x ...),
     * which is the (N, C*inner, 1) view of the same affine map. */
    int spatial = p->opset < 9 ? (int)onyx_attr_int(p, "spatial", 1) : 1;
    for (int i = BN_SCALE; i <= BN_VAR; i++)
        ONYX_TRY(onyx_need_input(p, i));
    if (!spatial && onyx_numel(p->in[BN_SCALE]) != C) {
        C *= inner;
        inner = 1;
    }
    static const char *const names[] = {"X", "scale", "B", "mean", "var"};
    for (int i = BN_SCALE; i <= BN_VAR; i++)
        ONYX_TRY(need_vector(p, i, names[i], C));
    float eps = onyx_attr_float(p, "epsilon", 1e-5f);
    ONYX_CHECK(p, eps >= 0.0f, "epsilon %g must not be negative", eps);

    int folded = !training && p->in_const[BN_SCALE] && p->in_const[BN_B] &&
                 p->in_const[BN_MEAN] && p->in_const[BN_VAR];
    bn_params *bp =
        calloc(1, sizeof *bp + (folded ? 2 * (size_t)C : 0) * sizeof(float));
    if (!bp) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    bp->N = X->dims[0];
    bp->C = C;
    bp->inner = inner;
    bp->epsilon = eps;
    bp->momentum = onyx_attr_float(p, "momentum", 0.9f);
    bp->training = training;
    bp->folded = folded;
    if (folded)
        bn_fold(bp->ab, bp->ab + C, p->in[BN_SCALE]->data, p->in[BN_B]->data,
                p->in[BN_MEAN]->data, p->in[BN_VAR]->data, C, eps);
    else
        p->scratch_bytes = (training ? 4 : 2) * (size_t)C * sizeof(float);
    p->params = bp;
    onyx_set_shape(p->out[BN_Y], ONYX_FLOAT, X->rank, X->dims);
    for (int i = BN_RUNNING_MEAN; i <= BN_RUNNING_VAR && i < p->n_out; i++)
        if (p->out[i])
            onyx_set_shape(p->out[i], ONYX_FLOAT, p->in[BN_MEAN]->rank,
                           p->in[BN_MEAN]->dims);
    return ONYX_OK;
}

/* Batch mean and population variance per channel of X (N, C, inner). */
static void bn_batch_stats(float *mean, float *var, const float *x, int64_t N,
                           int64_t C, int64_t inner)
{
    for (int64_t c = 0; c < C; c++) {
        double s = 0.0;
        for (int64_t n = 0; n < N; n++) {
            const float *xc = x + (n * C + c) * inner;
            for (int64_t j = 0; j < inner; j++)
                s += xc[j];
        }
        double cnt = (double)(N * inner);
        double m = cnt > 0 ? s / cnt : 0.0, v = 0.0;
        for (int64_t n = 0; n < N; n++) {
            const float *xc = x + (n * C + c) * inner;
            for (int64_t j = 0; j < inner; j++) {
                double d = xc[j] - m;
                v += d * d;
            }
        }
        mean[c] = (float)m;
        var[c] = cnt > 0 ? (float)(v / cnt) : 0.0f;
    }
}

static onyx_status bn_eval(onyx_exec *e)
{
    const bn_params *bp = e->params;
    int64_t C = bp->C;
    const float *x = e->in[BN_X]->data;
    const float *a = bp->ab, *b = bp->ab + C;
    if (!bp->folded) {
        float *ws = e->scratch;
        const float *mean = e->in[BN_MEAN]->data, *var = e->in[BN_VAR]->data;
        if (bp->training) {
            float *bm = ws + 2 * C, *bv = ws + 3 * C;
            bn_batch_stats(bm, bv, x, bp->N, C, bp->inner);
            float mo = bp->momentum;
            float *rm = out_data(e, BN_RUNNING_MEAN);
            float *rv = out_data(e, BN_RUNNING_VAR);
            for (int64_t c = 0; c < C; c++) {
                if (rm) rm[c] = mean[c] * mo + bm[c] * (1.0f - mo);
                if (rv) rv[c] = var[c] * mo + bv[c] * (1.0f - mo);
            }
            mean = bm;
            var = bv;
        }
        bn_fold(ws, ws + C, e->in[BN_SCALE]->data, e->in[BN_B]->data, mean, var,
                C, bp->epsilon);
        a = ws;
        b = ws + C;
    }
    channel_affine(e->out[BN_Y]->data, x, a, b, bp->N, C, bp->inner);
    return ONYX_OK;
}

const onyx_op onyx_op_BatchNormalization = {"BatchNormalization", bn_prepare,
                                            bn_eval, 0, NULL};

/* ---- InstanceNormalization --------------------------------------------- */

enum { IN_X = 0, IN_SCALE, IN_B };
enum { IN_Y = 0 };

typedef struct {
    int64_t N, C, inner; /* X viewed as (N, C, inner) */
    float epsilon;
} instnorm_params;

static onyx_status instnorm_prepare(onyx_prep *p)
{
    ONYX_TRY(onyx_need_dtype(p, IN_X, ONYX_MASK(ONYX_FLOAT)));
    const onyx_tensor *X = p->in[IN_X];
    char buf[96];
    ONYX_CHECK(p, X->rank >= 2, "input has shape %s; it needs at least (N, C)",
               onyx_shape_str(X, buf, sizeof buf));
    ONYX_CHECK(p, p->out[IN_Y] != NULL, "output is required");
    int64_t C = X->dims[1];
    ONYX_TRY(need_vector(p, IN_SCALE, "scale", C));
    ONYX_TRY(need_vector(p, IN_B, "B", C));
    float eps = onyx_attr_float(p, "epsilon", 1e-5f);
    ONYX_CHECK(p, eps >= 0.0f, "epsilon %g must not be negative", eps);
    instnorm_params *ip = calloc(1, sizeof *ip);
    if (!ip) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    ip->N = X->dims[0];
    ip->C = C;
    ip->inner = 1;
    for (int i = 2; i < X->rank; i++)
        ip->inner *= X->dims[i];
    ip->epsilon = eps;
    p->params = ip;
    onyx_set_shape(p->out[IN_Y], ONYX_FLOAT, X->rank, X->dims);
    return ONYX_OK;
}

static onyx_status instnorm_eval(onyx_exec *e)
{
    const instnorm_params *ip = e->params;
    const float *x = e->in[IN_X]->data;
    const float *scale = e->in[IN_SCALE]->data, *B = e->in[IN_B]->data;
    float *y = e->out[IN_Y]->data;
    int64_t inner = ip->inner;
    for (int64_t n = 0; n < ip->N; n++)
        for (int64_t c = 0; c < ip->C; c++) {
            const float *xc = x + (n * ip->C + c) * inner;
            float *yc = y + (n * ip->C + c) * inner;
            float m, v;
            mean_var(xc, inner, &m, &v);
            float a = scale[c] / sqrtf(v + ip->epsilon);
            affine_row(yc, xc, a, B[c] - m * a, inner);
        }
    return ONYX_OK;
}

const onyx_op onyx_op_InstanceNormalization = {
    "InstanceNormalization", instnorm_prepare, instnorm_eval, 0, NULL};

/* ---- LayerNormalization ------------------------------------------------ */

enum { LN_X = 0, LN_SCALE, LN_B };
enum { LN_Y = 0, LN_MEAN, LN_INVSTD };

typedef struct {
    int64_t outer, n; /* X viewed as (outer, n): n = prod(dims[axis:]) */
    float epsilon;
    /* Scale and B broadcast to (n,): when not already n elements, eval
     * expands them into scratch through these strides. */
    int rank;                    /* rank of the normalised shape */
    int64_t dims[ONYX_MAX_RANK]; /* the normalised shape X.dims[axis:] */
    int64_t sstr[ONYX_MAX_RANK], bstr[ONYX_MAX_RANK];
    int expand_scale, expand_b;
} layernorm_params;

/* dst (n,) = src broadcast to dims (rank) through strides str. */
static void expand_to(float *dst, const float *src, int rank,
                      const int64_t *dims, const int64_t *str)
{
    int64_t idx[ONYX_MAX_RANK] = {0}, off = 0, n = 1;
    for (int i = 0; i < rank; i++)
        n *= dims[i];
    for (int64_t k = 0; k < n; k++) {
        dst[k] = src[off];
        for (int i = rank - 1; i >= 0; i--) {
            off += str[i];
            if (++idx[i] < dims[i]) break;
            off -= str[i] * dims[i];
            idx[i] = 0;
        }
    }
}

/* Can t be broadcast (unidirectionally) to shape `norm`? */
static onyx_status ln_check_bcast(onyx_prep *p, const onyx_tensor *t,
                                  const char *what, const onyx_tensor *norm)
{
    char a[96], b[96];
    int ok = t->rank <= norm->rank;
    for (int i = 0; ok && i < t->rank; i++) {
        int64_t d = t->dims[t->rank - 1 - i];
        ok = d == 1 || d == norm->dims[norm->rank - 1 - i];
    }
    ONYX_CHECK(p, ok, "%s has shape %s, which does not broadcast to %s", what,
               onyx_shape_str(t, a, sizeof a),
               onyx_shape_str(norm, b, sizeof b));
    return ONYX_OK;
}

static onyx_status layernorm_prepare(onyx_prep *p)
{
    ONYX_TRY(onyx_need_dtype(p, LN_X, ONYX_MASK(ONYX_FLOAT)));
    ONYX_TRY(onyx_need_dtype(p, LN_SCALE, ONYX_MASK(ONYX_FLOAT)));
    const onyx_tensor *X = p->in[LN_X];
    const onyx_tensor *S = p->in[LN_SCALE];
    const onyx_tensor *B = p->n_in > LN_B ? p->in[LN_B] : NULL;
    if (B && onyx_numel(B) == 0) B = NULL; /* empty optional input */
    if (B) ONYX_TRY(onyx_need_dtype(p, LN_B, ONYX_MASK(ONYX_FLOAT)));
    ONYX_CHECK(p, p->out[LN_Y] != NULL, "output Y is required");
    char buf[96];
    ONYX_CHECK(p, X->rank >= 1, "X has shape %s; it needs at least one axis",
               onyx_shape_str(X, buf, sizeof buf));
    int axis;
    ONYX_TRY(onyx_axis(p, onyx_attr_int(p, "axis", -1), X->rank, 0, &axis));
    int64_t stash = onyx_attr_int(p, "stash_type", 1);
    ONYX_CHECK(p, stash == 1,
               "stash_type %lld is not supported (only 1, float32)",
               (long long)stash);

    float eps = onyx_attr_float(p, "epsilon", 1e-5f);
    ONYX_CHECK(p, eps >= 0.0f, "epsilon %g must not be negative", eps);
    onyx_tensor norm; /* the normalised shape X.dims[axis:] */
    memset(&norm, 0, sizeof norm);
    norm.rank = X->rank - axis;
    for (int i = 0; i < norm.rank; i++)
        norm.dims[i] = X->dims[axis + i];
    ONYX_TRY(ln_check_bcast(p, S, "Scale", &norm));
    if (B) ONYX_TRY(ln_check_bcast(p, B, "B", &norm));

    layernorm_params *lp = calloc(1, sizeof *lp);
    if (!lp) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    p->params = lp;
    lp->epsilon = eps;
    lp->outer = lp->n = 1;
    for (int i = 0; i < X->rank; i++) {
        if (i < axis)
            lp->outer *= X->dims[i];
        else
            lp->n *= X->dims[i];
    }
    lp->rank = norm.rank;
    memcpy(lp->dims, norm.dims, sizeof lp->dims);
    lp->expand_scale = onyx_numel(S) != lp->n;
    lp->expand_b = B && onyx_numel(B) != lp->n;
    onyx_broadcast_strides(S, &norm, lp->sstr);
    if (B) onyx_broadcast_strides(B, &norm, lp->bstr);
    p->scratch_bytes = (size_t)(lp->expand_scale + lp->expand_b) *
                       (size_t)lp->n * sizeof(float);

    onyx_set_shape(p->out[LN_Y], ONYX_FLOAT, X->rank, X->dims);
    int64_t sdims[ONYX_MAX_RANK];
    for (int i = 0; i < X->rank; i++)
        sdims[i] = i < axis ? X->dims[i] : 1;
    for (int i = LN_MEAN; i <= LN_INVSTD && i < p->n_out; i++)
        if (p->out[i]) onyx_set_shape(p->out[i], ONYX_FLOAT, X->rank, sdims);
    return ONYX_OK;
}

static onyx_status layernorm_eval(onyx_exec *e)
{
    const layernorm_params *lp = e->params;
    int64_t n = lp->n;
    const float *x = e->in[LN_X]->data;
    const float *scale = e->in[LN_SCALE]->data;
    const onyx_tensor *Bt = e->n_in > LN_B ? e->in[LN_B] : NULL;
    const float *bias = Bt && onyx_numel(Bt) ? Bt->data : NULL;
    float *ws = e->scratch;
    if (lp->expand_scale) {
        expand_to(ws, scale, lp->rank, lp->dims, lp->sstr);
        scale = ws;
        ws += n;
    }
    if (lp->expand_b) {
        expand_to(ws, bias, lp->rank, lp->dims, lp->bstr);
        bias = ws;
    }
    float *y = e->out[LN_Y]->data;
    float *mean_out = out_data(e, LN_MEAN);
    float *istd_out = out_data(e, LN_INVSTD);
    for (int64_t o = 0; o < lp->outer; o++) {
        const float *xr = x + o * n;
        float *yr = y + o * n;
        float m, v;
        mean_var(xr, n, &m, &v);
        float r = 1.0f / sqrtf(v + lp->epsilon);
        if (mean_out) mean_out[o] = m;
        if (istd_out) istd_out[o] = r;
        norm_row(yr, xr, m, r, scale, bias, n);
    }
    return ONYX_OK;
}

const onyx_op onyx_op_LayerNormalization = {
    "LayerNormalization", layernorm_prepare, layernorm_eval, 0, NULL};
