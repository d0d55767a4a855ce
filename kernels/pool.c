/* pool.c - AveragePool, MaxPool (with the optional Indices output),
 * GlobalAveragePool and GlobalMaxPool over 1 to 3 spatial dims.
 *
 * prepare works out, for every output position along every axis, which
 * input positions its window covers (clipped to the input, and to the padded
 * input for count_include_pad); eval builds each output row tap by tap, in
 * loops without bounds checks. 1-D and 2-D pools run as 3-D ones with
 * leading dims of 1. MaxPool also takes int8 and uint8: they are pooled as
 * float32 (exactly) in scratch. */
#include "onyx_kernel.h"
#include "math/gemm.h"
#include "math/spatial.h"
#include "math/threadpool.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { POOL_X = 0 };
enum { POOL_Y = 0, POOL_INDICES = 1 };

typedef enum { POOL_AVG, POOL_MAX, POOL_GLOBAL_AVG, POOL_GLOBAL_MAX } pool_kind;

/* One output position's window along one axis: taps first, first + d, ...
 * (n of them) lie inside the input; npad taps lie inside the padded input. */
typedef struct {
    int64_t first, n, npad;
} pool_win;

typedef struct {
    pool_kind kind;
    int64_t NC;                      /* N * C planes */
    int64_t in[3], out[3];           /* spatial sizes, 1-padded in front */
    int64_t k[3], s[3], d[3], pb[3]; /* kernel, stride, dilation, pad begin */
    int64_t S_in, S_out;             /* products of in[] and out[] */
    int64_t istr[3]; /* Indices: stride of each axis (storage_order) */
    int count_include_pad;
    onyx_dtype dtype; /* X's: float32, or int8/uint8 (MaxPool) */
    pool_win *win[3]; /* win[a][o], o < out[a]: points into wins */
    pool_win wins[];
} pool_plan;

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static onyx_status global_prepare(onyx_prep *p, pool_kind kind)
{
    ONYX_TRY(onyx_need_dtype(p, POOL_X, ONYX_MASK(ONYX_FLOAT)));
    const onyx_tensor *X = p->in[POOL_X];
    char sx[96];
    ONYX_CHECK(p, X->rank >= 2, "X %s must be (N, C, spatial...)",
               onyx_shape_str(X, sx, sizeof sx));
    pool_plan *q = calloc(1, sizeof *q);
    if (!q) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    q->kind = kind;
    q->NC = X->dims[0] * X->dims[1];
    q->S_in = 1;
    int64_t ydims[ONYX_MAX_RANK];
    for (int i = 0; i < X->rank; i++) {
        ydims[i] = i < 2 ? X->dims[i] : 1;
        if (i >= 2) q->S_in *= X->dims[i];
    }
    q->S_out = 1;
    p->params = q;
    ONYX_CHECK(p, q->S_in > 0 || q->NC == 0, "X %s has an empty spatial extent",
               onyx_shape_str(X, sx, sizeof sx));
    if (p->out[POOL_Y])
        onyx_set_shape(p->out[POOL_Y], ONYX_FLOAT, X->rank, ydims);
    p->flops = onyx_numel(X); /* every input element once */
    return ONYX_OK;
}

static onyx_status pool_prepare(onyx_prep *p, pool_kind kind)
{
    unsigned ints = ONYX_MASK(ONYX_INT8) | ONYX_MASK(ONYX_UINT8);
    ONYX_TRY(onyx_need_dtype(
        p, POOL_X, ONYX_MASK(ONYX_FLOAT) | (kind == POOL_MAX ? ints : 0)));
    const onyx_tensor *X = p->in[POOL_X];
    char sx[96];
    ONYX_CHECK(p, X->rank >= 3 && X->rank <= 5,
               "X %s must have rank 3, 4 or 5 (N, C, 1 to 3 spatial dims)",
               onyx_shape_str(X, sx, sizeof sx));
    int nsp = X->rank - 2;
    int64_t ks[3], st[3], dl[3], pads[6];
    const int64_t *kv;
    int64_t nk = onyx_attr_ints(p, "kernel_shape", &kv);
    ONYX_CHECK(p, nk == nsp,
               "kernel_shape is required, with one entry per spatial axis "
               "(%d)",
               nsp);
    for (int i = 0; i < nsp; i++) {
        ONYX_CHECK(p, kv[i] >= 1 && kv[i] <= SPATIAL_MAX,
                   "kernel_shape[%d] = %lld must be in [1, %d]", i,
                   (long long)kv[i], SPATIAL_MAX);
        ks[i] = kv[i];
    }
    ONYX_TRY(spatial_attr(p, "strides", nsp, 1, 1, st));
    ONYX_TRY(spatial_attr(p, "dilations", nsp, 1, 1, dl));
    ONYX_TRY(spatial_attr(p, "pads", 2 * nsp, 0, 0, pads));
    int ceil_mode = onyx_attr_int(p, "ceil_mode", 0) != 0;
    int64_t order = onyx_attr_int(p, "storage_order", 0);
    ONYX_CHECK(p, order == 0 || order == 1,
               "storage_order = %lld must be 0 (row major) or 1 (column major)",
               (long long)order);
    spatial_pad ap;
    ONYX_TRY(spatial_auto_pad(p, &ap));
    int same_upper = ap == PAD_SAME_UPPER;
    int same = same_upper || ap == PAD_SAME_LOWER, valid = ap == PAD_VALID;

    int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1}, pb[3] = {0, 0, 0},
            pe[3] = {0, 0, 0}, k[3] = {1, 1, 1}, s[3] = {1, 1, 1},
            d[3] = {1, 1, 1};
    int64_t ydims[ONYX_MAX_RANK] = {X->dims[0], X->dims[1]};
    for (int i = 0; i < nsp; i++) {
        int a = 3 - nsp + i;
        int64_t n = X->dims[2 + i], ke = (ks[i] - 1) * dl[i] + 1, o;
        int64_t b = valid ? 0 : pads[i], e = valid ? 0 : pads[nsp + i];
        if (same) {
            o = ceil_div(n, st[i]);
            int64_t total = (o - 1) * st[i] + ke - n;
            if (total < 0) total = 0;
            b = same_upper ? total / 2 : total - total / 2;
            e = total - b;
        } else {
            int64_t span = n + b + e - ke;
            ONYX_CHECK(p, span >= 0,
                       "kernel %lld (dilated %lld) is larger than spatial "
                       "axis %d of X %s with its padding",
                       (long long)ks[i], (long long)ke, i,
                       onyx_shape_str(X, sx, sizeof sx));
            o = (ceil_mode ? ceil_div(span, st[i]) : span / st[i]) + 1;
            /* as PyTorch: the last window must start inside the input or
             * its leading padding */
            if (ceil_mode && (o - 1) * st[i] >= n + b) o--;
        }
        in[a] = n;
        out[a] = o;
        pb[a] = b;
        pe[a] = e;
        k[a] = ks[i];
        s[a] = st[i];
        d[a] = dl[i];
        ydims[2 + i] = o;
    }

    ONYX_CHECK(p,
               (double)out[0] * (double)out[1] * (double)out[2] *
                       (double)(X->dims[0] * X->dims[1]) <
                   0x1p40,
               "output of more than 2^40 elements");
    int64_t nwin = out[0] + out[1] + out[2];
    pool_plan *q = calloc(1, sizeof *q + (size_t)nwin * sizeof(pool_win));
    if (!q) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    p->params = q;
    q->kind = kind;
    q->NC = X->dims[0] * X->dims[1];
    q->count_include_pad = onyx_attr_int(p, "count_include_pad", 0) != 0;
    q->S_in = in[0] * in[1] * in[2];
    q->S_out = out[0] * out[1] * out[2];
    pool_win *w = q->wins;
    for (int a = 0; a < 3; a++) {
        q->in[a] = in[a];
        q->out[a] = out[a];
        q->k[a] = k[a];
        q->s[a] = s[a];
        q->d[a] = d[a];
        q->pb[a] = pb[a];
        q->win[a] = w;
        for (int64_t o = 0; o < out[a]; o++, w++) {
            int64_t start = o * s[a] - pb[a];
            int64_t k0 = start >= 0 ? 0 : ceil_div(-start, d[a]);
            int64_t k1 = in[a] - start > 0
                             ? min64(k[a], ceil_div(in[a] - start, d[a]))
                             : 0;
            int64_t kp =
                in[a] + pe[a] - start > 0
                    ? min64(k[a], ceil_div(in[a] + pe[a] - start, d[a]))
                    : 0;
            w->first = start + k0 * d[a];
            w->n = k1 > k0 ? k1 - k0 : 0;
            w->npad = kp;
        }
    }
    /* Indices are flat over (N, C, spatial...); storage_order 1 numbers the
     * spatial positions column major (the first spatial axis fastest). */
    if (order == 0) {
        q->istr[2] = 1;
        q->istr[1] = in[2];
        q->istr[0] = in[1] * in[2];
    } else {
        int64_t m = 1;
        for (int a = 3 - nsp; a < 3; a++) {
            q->istr[a] = m;
            m *= in[a];
        }
    }

    q->dtype = X->dtype;
    if (p->out[POOL_Y])
        onyx_set_shape(p->out[POOL_Y], X->dtype, X->rank, ydims);
    if (p->n_out > POOL_INDICES && p->out[POOL_INDICES]) {
        ONYX_CHECK(p, kind == POOL_MAX, "only MaxPool has an Indices output");
        onyx_set_shape(p->out[POOL_INDICES], ONYX_INT64, X->rank, ydims);
        /* Indices without Y: the maxima go to scratch */
        if (!p->out[POOL_Y])
            p->scratch_bytes = (size_t)(q->NC * q->S_out) * sizeof(float);
    }
    /* int8/uint8: X and Y as float32 in scratch, [X (NC, S_in)][Y (NC,
     * S_out)] */
    if (q->dtype != ONYX_FLOAT)
        p->scratch_bytes =
            (size_t)(q->NC * (q->S_in + q->S_out)) * sizeof(float);
    /* each output element reads its window, prod(kernel_shape) */
    int64_t per = 1;
    for (int i = 0; i < nsp; i++)
        per = onyx_flops_mul(per, kv[i]);
    p->flops = onyx_flops_mul(onyx_out_numel(p), per);
    return ONYX_OK;
}

static onyx_status avgpool_prepare(onyx_prep *p)
{
    return pool_prepare(p, POOL_AVG);
}
static onyx_status maxpool_prepare(onyx_prep *p)
{
    return pool_prepare(p, POOL_MAX);
}
static onyx_status gavg_prepare(onyx_prep *p)
{
    return global_prepare(p, POOL_GLOBAL_AVG);
}
static onyx_status gmax_prepare(onyx_prep *p)
{
    return global_prepare(p, POOL_GLOBAL_MAX);
}

/* The flat index of the first element of window (a, b, c) equal to v:
 * Indices are a second pass, so the plain max loop stays branch-free. */
static int64_t max_index(const float *x, float v, const pool_win *a,
                         const pool_win *b, const pool_win *c,
                         const pool_plan *q)
{
    for (int64_t i = 0; i < a->n; i++)
        for (int64_t j = 0; j < b->n; j++) {
            int64_t id = a->first + i * q->d[0], ih = b->first + j * q->d[1];
            const float *row = x + (id * q->in[1] + ih) * q->in[2];
            for (int64_t t = 0; t < c->n; t++) {
                int64_t iw = c->first + t * q->d[2];
                if (row[iw] == v)
                    return id * q->istr[0] + ih * q->istr[1] + iw * q->istr[2];
            }
        }
    /* all NaN (or an empty window): the window's first position */
    return a->first * q->istr[0] + b->first * q->istr[1] +
           c->first * q->istr[2];
}

/* y (out...) = max or mean of x (in...) over each window, padding
 * excluded (the mean's divisor counts it with count_include_pad). Each
 * output row is built tap by tap along W, over the outputs that tap does
 * not put on padding, so the inner loops run over whole rows and
 * vectorise. Indices, when asked for, are a second pass over each window. */
SPATIAL_HOT static void pool_plane(float *restrict y, int64_t *ind,
                                   int64_t base, const float *restrict x,
                                   const pool_plan *q)
{
    const pool_win *W0 = q->win[0], *W1 = q->win[1], *W2 = q->win[2];
    const int64_t OW = q->out[2], in2 = q->in[2], s2 = q->s[2];
    const int is_max = q->kind == POOL_MAX;
    /* max over pairs of columns side by side, none on padding (2x2 and 1x2
     * pools of stride 2 along W) */
    const int pair = is_max && q->k[2] == 2 && s2 == 2 && q->d[2] == 1 &&
                     q->pb[2] == 0 && 2 * OW <= in2;
    for (int64_t od = 0; od < q->out[0]; od++)
        for (int64_t oh = 0; oh < q->out[1]; oh++, y += OW) {
            const pool_win *a = &W0[od], *b = &W1[oh];
            for (int64_t ow = 0; ow < OW; ow++)
                y[ow] = is_max ? -INFINITY : 0;
            for (int64_t i = 0; i < a->n; i++)
                for (int64_t j = 0; j < b->n; j++) {
                    const float *row =
                        x + ((a->first + i * q->d[0]) * q->in[1] + b->first +
                             j * q->d[1]) *
                                in2;
                    if (pair) { /* both taps in one pass, in tap order */
                        for (int64_t ow = 0; ow < OW; ow++) {
                            const float u = row[2 * ow], v = row[2 * ow + 1];
                            float m = y[ow];
                            m = u > m ? u : m;
                            y[ow] = v > m ? v : m;
                        }
                        continue;
                    }
                    for (int64_t t = 0; t < q->k[2]; t++) {
                        int64_t off = t * q->d[2] - q->pb[2], lo, hi;
                        tap_range(OW, s2, off, in2, &lo, &hi);
                        if (is_max && s2 == 1)
                            for (int64_t ow = lo; ow < hi; ow++) {
                                float v = row[ow + off];
                                y[ow] = v > y[ow] ? v : y[ow];
                            }
                        else if (is_max)
                            for (int64_t ow = lo; ow < hi; ow++) {
                                float v = row[ow * s2 + off];
                                y[ow] = v > y[ow] ? v : y[ow];
                            }
                        else if (s2 == 1)
                            for (int64_t ow = lo; ow < hi; ow++)
                                y[ow] += row[ow + off];
                        else
                            for (int64_t ow = lo; ow < hi; ow++)
                                y[ow] += row[ow * s2 + off];
                    }
                }
            if (!is_max) {
                for (int64_t ow = 0; ow < OW; ow++) {
                    const pool_win *c = &W2[ow];
                    int64_t cnt = q->count_include_pad
                                      ? a->npad * b->npad * c->npad
                                      : a->n * b->n * c->n;
                    y[ow] = cnt > 0 ? y[ow] / (float)cnt : 0.0f;
                }
            } else if (ind) {
                for (int64_t ow = 0; ow < OW; ow++)
                    *ind++ = base + max_index(x, y[ow], a, b, &W2[ow], q);
            }
        }
}

/* sum and max of x (n), with 8 partial results the compiler vectorises */
SPATIAL_HOT static float sum_f32(const float *x, int64_t n)
{
    float part[8] = {0}, s = 0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int t = 0; t < 8; t++)
            part[t] += x[i + t];
    for (; i < n; i++)
        s += x[i];
    for (int t = 0; t < 8; t++)
        s += part[t];
    return s;
}

SPATIAL_HOT static float max_f32(const float *x, int64_t n)
{
    float part[8], best = -INFINITY;
    for (int t = 0; t < 8; t++)
        part[t] = -INFINITY;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int t = 0; t < 8; t++)
            part[t] = x[i + t] > part[t] ? x[i + t] : part[t];
    for (; i < n; i++)
        best = x[i] > best ? x[i] : best;
    for (int t = 0; t < 8; t++)
        best = part[t] > best ? part[t] : best;
    return best;
}

/* MaxPool of int8/uint8: widen X into scratch, pool, narrow Y back (the
 * maxima are input values, so in range; a window all padding gives the
 * type's minimum). */
static onyx_status pool_eval_int8(onyx_exec *e, const pool_plan *q)
{
    const int64_t nx = q->NC * q->S_in, ny = q->NC * q->S_out;
    float *xf = e->scratch, *yf = xf + nx;
    const int is_u8 = q->dtype == ONYX_UINT8;
    const void *X = e->in[POOL_X]->data;
    for (int64_t i = 0; i < nx; i++)
        xf[i] = is_u8 ? ((const uint8_t *)X)[i] : ((const int8_t *)X)[i];
    int64_t *I = e->n_out > POOL_INDICES && e->out[POOL_INDICES]
                     ? e->out[POOL_INDICES]->data
                     : NULL;
    for (int64_t nc = 0; nc < q->NC; nc++)
        pool_plane(yf + nc * q->S_out, I ? I + nc * q->S_out : NULL,
                   nc * q->S_in, xf + nc * q->S_in, q);
    if (!e->out[POOL_Y]) return ONYX_OK;
    void *Y = e->out[POOL_Y]->data;
    for (int64_t i = 0; i < ny; i++) {
        float lo = is_u8 ? 0.0f : -128.0f, v = yf[i] < lo ? lo : yf[i];
        if (is_u8)
            ((uint8_t *)Y)[i] = (uint8_t)v;
        else
            ((int8_t *)Y)[i] = (int8_t)v;
    }
    return ONYX_OK;
}

/* Planes nc0 .. nc1 - 1 of Y (and I) from X's. */
SPATIAL_HOT static void pool_planes(float *Y, int64_t *I, const float *X,
                                    const pool_plan *q, int64_t nc0,
                                    int64_t nc1)
{
    for (int64_t nc = nc0; nc < nc1; nc++) {
        const float *x = X + nc * q->S_in;
        float *y = Y ? Y + nc * q->S_out : NULL;
        switch (q->kind) {
        case POOL_AVG:
        case POOL_MAX:
            pool_plane(y, I ? I + nc * q->S_out : NULL, nc * q->S_in, x, q);
            break;
        case POOL_GLOBAL_AVG: *y = sum_f32(x, q->S_in) / (float)q->S_in; break;
        case POOL_GLOBAL_MAX: *y = max_f32(x, q->S_in); break;
        }
    }
}

/* pool_planes of every plane, in bands of planes over the calling thread's
 * pool when there is one and they are worth it (each plane as alone). */
typedef struct pool_split {
    float *Y;
    int64_t *I;
    const float *X;
    const pool_plan *q;
    int parts;
} pool_split;

static void pool_band(void *ctx, int part, void *work)
{
    (void)work;
    const pool_split *s = ctx;
    int lo, hi;
    onyx_threads_range(part, s->parts, (int)s->q->NC, &lo, &hi);
    pool_planes(s->Y, s->I, s->X, s->q, lo, hi);
}

static onyx_status pool_eval(onyx_exec *e)
{
    const pool_plan *q = e->params;
    if (q->dtype != ONYX_FLOAT && q->dtype != ONYX_UNDEFINED)
        return pool_eval_int8(e, q);
    const float *X = e->in[POOL_X]->data;
    float *Y = e->out[POOL_Y] ? e->out[POOL_Y]->data : e->scratch;
    int64_t *I = e->n_out > POOL_INDICES && e->out[POOL_INDICES]
                     ? e->out[POOL_INDICES]->data
                     : NULL;
    if (!Y && !I) return ONYX_OK;
    onyx_threads *t = onyx_gemm_pool();
    pool_split s = {Y, I, X, q, onyx_threads_count(t)};
    if (s.parts > 1 && q->NC >= s.parts && q->NC <= 0x7fffffff &&
        (double)q->NC * q->S_in >= 1 << 16)
        onyx_threads_run(t, pool_band, &s, s.parts);
    else
        pool_planes(Y, I, X, q, 0, q->NC);
    return ONYX_OK;
}

const onyx_op onyx_op_AveragePool = {"AveragePool", avgpool_prepare, pool_eval,
                                     0, NULL};
const onyx_op onyx_op_MaxPool = {"MaxPool", maxpool_prepare, pool_eval, 0,
                                 NULL};
const onyx_op onyx_op_GlobalAveragePool = {"GlobalAveragePool", gavg_prepare,
                                           pool_eval, 0, NULL};
const onyx_op onyx_op_GlobalMaxPool = {"GlobalMaxPool", gmax_prepare, pool_eval,
                                       0, NULL};
