/* reduce.c - the Reduce* family: Sum, Mean, Max, Min, Prod, L1, L2,
 * SumSquare, LogSum and LogSumExp over a set of axes, float32 and int64
 * (LogSum float32 only; LogSumExp float32 and float64).
 *
 * prepare merges neighbouring axes that are all reduced or all kept (and drops
 * axes of size 1), so X becomes a few groups, e.g. (kept 6, reduced 20, kept
 * 4). eval walks the groups with Y as an accumulator: a reduced innermost
 * group is one contiguous run folded into one element of Y, a kept innermost
 * group is a vector update of a row of Y. */
#include "onyx_kernel.h"
#include "math/vmath.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { RD_DATA = 0, RD_AXES };
enum { RD_REDUCED = 0 };

typedef enum {
    RK_SUM,
    RK_MEAN,
    RK_MAX,
    RK_MIN,
    RK_PROD,
    RK_L2,
    RK_SUMSQ,
    RK_LSE,
    RK_L1,
    RK_LOGSUM,
} reduce_kind;

/* How one element of X folds into its accumulator. */
typedef enum {
    ACC_SUM,    /* a += x */
    ACC_SUMSQ,  /* a += x*x */
    ACC_ABSSUM, /* a += |x| */
    ACC_PROD,   /* a *= x */
    ACC_MAX,    /* a = max(a, x) */
    ACC_MIN,    /* a = min(a, x) */
    ACC_SUMEXP, /* a += exp(x - m), m the same element of another array */
} acc_kind;

typedef struct {
    reduce_kind kind;
    onyx_dtype dtype; /* of X and Y: float32, int64 or float64 (LSE) */
    int copy;         /* noop_with_empty_axes with no axes: Y = X */
    int ng;           /* number of merged groups (>= 1) */
    int64_t size[ONYX_MAX_RANK];
    int64_t istr[ONYX_MAX_RANK]; /* stride of group g in X (elements) */
    int64_t ostr[ONYX_MAX_RANK]; /* stride of group g in Y, 0 when reduced */
    int64_t in_n, out_n;
    int64_t count; /* elements of X folded into each element of Y */
} reduce_params;

static const struct {
    const char *name;
    reduce_kind kind;
} reduce_ops[] = {
    {"ReduceSum", RK_SUM},         {"ReduceMean", RK_MEAN},
    {"ReduceMax", RK_MAX},         {"ReduceMin", RK_MIN},
    {"ReduceProd", RK_PROD},       {"ReduceL2", RK_L2},
    {"ReduceSumSquare", RK_SUMSQ}, {"ReduceLogSumExp", RK_LSE},
    {"ReduceL1", RK_L1},           {"ReduceLogSum", RK_LOGSUM},
};

/* ---- float fast paths (four lanes, vmath.h) ---------------------------- */

/* lane-wise a > b ? a : b (want_max) or a < b ? a : b */
static inline v4f pick4(v4f a, v4f b, int want_max)
{
    return want_max ? v4_max(a, b) : v4_min(a, b);
}

/* acc[0] folded with the contiguous run x (n,) for the common folds; 0 when
 * the generic loop must do it. Sums go through four float lanes into a
 * double, per block of 1024, so long runs stay accurate. */
static int fast_reduced_f32(acc_kind k, float *acc, const float *x, int64_t n)
{
    if (n < 8) return 0;
    if (k == ACC_SUM || k == ACC_SUMSQ) {
        double a = *acc;
        for (int64_t k0 = 0; k0 < n; k0 += 1024) {
            int64_t k1 = n - k0 < 1024 ? n : k0 + 1024, j = k0;
            v4f s = {0, 0, 0, 0};
            if (k == ACC_SUM)
                for (; j + 4 <= k1; j += 4)
                    s += v4_load(x + j);
            else
                for (; j + 4 <= k1; j += 4) {
                    v4f v = v4_load(x + j);
                    s += v * v;
                }
            float t = v4_sum(s);
            for (; j < k1; j++)
                t += k == ACC_SUM ? x[j] : x[j] * x[j];
            a += t;
        }
        *acc = (float)a;
        return 1;
    }
    if (k == ACC_MAX || k == ACC_MIN) {
        int mx = k == ACC_MAX;
        v4f b = v4_load(x);
        int64_t j = 4;
        for (; j + 4 <= n; j += 4)
            b = pick4(v4_load(x + j), b, mx);
        float a = *acc;
        for (int u = 0; u < 4; u++)
            a = (mx ? b[u] > a : b[u] < a) ? b[u] : a;
        for (; j < n; j++)
            a = (mx ? x[j] > a : x[j] < a) ? x[j] : a;
        *acc = a;
        return 1;
    }
    return 0;
}

/* acc (n,) folded elementwise with x (n,) for the common folds. */
static int fast_kept_f32(acc_kind k, float *acc, const float *x, int64_t n)
{
    int64_t j = 0;
    switch (k) {
    case ACC_SUM:
        for (; j + 4 <= n; j += 4)
            v4_store(acc + j, v4_load(acc + j) + v4_load(x + j));
        for (; j < n; j++)
            acc[j] += x[j];
        return 1;
    case ACC_SUMSQ:
        for (; j + 4 <= n; j += 4) {
            v4f v = v4_load(x + j);
            v4_store(acc + j, v4_load(acc + j) + v * v);
        }
        for (; j < n; j++)
            acc[j] += x[j] * x[j];
        return 1;
    case ACC_MAX:
    case ACC_MIN:
        for (; j + 4 <= n; j += 4)
            v4_store(acc + j,
                     pick4(v4_load(x + j), v4_load(acc + j), k == ACC_MAX));
        for (; j < n; j++)
            acc[j] =
                (k == ACC_MAX ? x[j] > acc[j] : x[j] < acc[j]) ? x[j] : acc[j];
        return 1;
    default: return 0;
    }
}

/* int64 and float64 always take the generic loops */
static int fast_reduced_i64(acc_kind k, int64_t *acc, const int64_t *x,
                            int64_t n)
{
    (void)k, (void)acc, (void)x, (void)n;
    return 0;
}

static int fast_kept_i64(acc_kind k, int64_t *acc, const int64_t *x, int64_t n)
{
    (void)k, (void)acc, (void)x, (void)n;
    return 0;
}

static int fast_reduced_f64(acc_kind k, double *acc, const double *x, int64_t n)
{
    (void)k, (void)acc, (void)x, (void)n;
    return 0;
}

static int fast_kept_f64(acc_kind k, double *acc, const double *x, int64_t n)
{
    (void)k, (void)acc, (void)x, (void)n;
    return 0;
}

/* The walk, once per element type T with accumulator type A.
 * walk_T: x, acc and m (ACC_SUMEXP only) are X, the accumulators (shaped as Y)
 * and the per-output maxima (shaped as Y). */
#define REDUCE_WALK(T, A, SFX, EXP, ABS, ADD, MUL)                             \
    typedef struct {                                                           \
        const reduce_params *rp;                                               \
        acc_kind k;                                                            \
        const T *x;                                                            \
        T *acc;                                                                \
        const T *m;                                                            \
    } walk_##SFX;                                                              \
                                                                               \
    /* acc[0] folded with the contiguous run x (n,); m the matching max. */    \
    static void run_reduced_##SFX(acc_kind k, T *acc, const T *x, int64_t n,   \
                                  T m)                                         \
    {                                                                          \
        if (fast_reduced_##SFX(k, acc, x, n)) return;                          \
        A a = *acc;                                                            \
        switch (k) {                                                           \
        case ACC_SUM:                                                          \
            for (int64_t j = 0; j < n; j++)                                    \
                a = ADD(a, x[j]);                                              \
            break;                                                             \
        case ACC_SUMSQ:                                                        \
            for (int64_t j = 0; j < n; j++)                                    \
                a = ADD(a, MUL((A)x[j], x[j]));                                \
            break;                                                             \
        case ACC_ABSSUM:                                                       \
            for (int64_t j = 0; j < n; j++)                                    \
                a = ADD(a, ABS(x[j]));                                         \
            break;                                                             \
        case ACC_PROD:                                                         \
            for (int64_t j = 0; j < n; j++)                                    \
                a = MUL(a, x[j]);                                              \
            break;                                                             \
        case ACC_MAX:                                                          \
            for (int64_t j = 0; j < n; j++)                                    \
                a = x[j] > a ? x[j] : a;                                       \
            break;                                                             \
        case ACC_MIN:                                                          \
            for (int64_t j = 0; j < n; j++)                                    \
                a = x[j] < a ? x[j] : a;                                       \
            break;                                                             \
        case ACC_SUMEXP:                                                       \
            for (int64_t j = 0; j < n; j++)                                    \
                a += EXP(x[j] - m);                                            \
            break;                                                             \
        }                                                                      \
        *acc = (T)a;                                                           \
    }                                                                          \
                                                                               \
    /* acc (n,) folded elementwise with x (n,); m (n,) the matching maxima. */ \
    static void run_kept_##SFX(acc_kind k, T *acc, const T *x, int64_t n,      \
                               const T *m)                                     \
    {                                                                          \
        if (fast_kept_##SFX(k, acc, x, n)) return;                             \
        switch (k) {                                                           \
        case ACC_SUM:                                                          \
            for (int64_t j = 0; j < n; j++)                                    \
                acc[j] = ADD(acc[j], x[j]);                                    \
            break;                                                             \
        case ACC_SUMSQ:                                                        \
            for (int64_t j = 0; j < n; j++)                                    \
                acc[j] = ADD(acc[j], MUL(x[j], x[j]));                         \
            break;                                                             \
        case ACC_ABSSUM:                                                       \
            for (int64_t j = 0; j < n; j++)                                    \
                acc[j] = ADD(acc[j], ABS(x[j]));                               \
            break;                                                             \
        case ACC_PROD:                                                         \
            for (int64_t j = 0; j < n; j++)                                    \
                acc[j] = MUL(acc[j], x[j]);                                    \
            break;                                                             \
        case ACC_MAX:                                                          \
            for (int64_t j = 0; j < n; j++)                                    \
                acc[j] = x[j] > acc[j] ? x[j] : acc[j];                        \
            break;                                                             \
        case ACC_MIN:                                                          \
            for (int64_t j = 0; j < n; j++)                                    \
                acc[j] = x[j] < acc[j] ? x[j] : acc[j];                        \
            break;                                                             \
        case ACC_SUMEXP:                                                       \
            for (int64_t j = 0; j < n; j++)                                    \
                acc[j] += (T)EXP(x[j] - m[j]);                                 \
            break;                                                             \
        }                                                                      \
    }                                                                          \
                                                                               \
    static void walk_group_##SFX(const walk_##SFX *w, int g, int64_t xo,       \
                                 int64_t ao)                                   \
    {                                                                          \
        const reduce_params *rp = w->rp;                                       \
        int64_t n = rp->size[g];                                               \
        if (g == rp->ng - 1) {                                                 \
            if (rp->ostr[g])                                                   \
                run_kept_##SFX(w->k, w->acc + ao, w->x + xo, n,                \
                               w->m ? w->m + ao : NULL);                       \
            else                                                               \
                run_reduced_##SFX(w->k, w->acc + ao, w->x + xo, n,             \
                                  w->m ? w->m[ao] : 0);                        \
            return;                                                            \
        }                                                                      \
        for (int64_t i = 0; i < n; i++)                                        \
            walk_group_##SFX(w, g + 1, xo + i * rp->istr[g],                   \
                             ao + i * rp->ostr[g]);                            \
    }

#define EXP_F32(v)    expf(v)
#define EXP_I64(v)    exp((double)(v))
#define ABS_F32(v)    fabsf(v)
#define ADD_F32(a, b) ((a) + (b))
#define MUL_F32(a, b) ((a) * (b))
/* int64 sums and products wrap (as numpy's do) instead of overflowing */
#define ABS_I64(v)    ((v) < 0 ? (int64_t)(0 - (uint64_t)(v)) : (v))
#define ADD_I64(a, b) ((int64_t)((uint64_t)(a) + (uint64_t)(b)))
#define MUL_I64(a, b) ((int64_t)((uint64_t)(a) * (uint64_t)(b)))
REDUCE_WALK(float, double, f32, EXP_F32, ABS_F32, ADD_F32, MUL_F32)
REDUCE_WALK(int64_t, int64_t, i64, EXP_I64, ABS_I64, ADD_I64, MUL_I64)
REDUCE_WALK(double, double, f64, exp, fabs, ADD_F32, MUL_F32)

static onyx_status reduce_prepare(onyx_prep *p)
{
    reduce_kind kind = RK_SUM;
    for (size_t i = 0; i < sizeof reduce_ops / sizeof reduce_ops[0]; i++)
        if (strcmp(p->op_type, reduce_ops[i].name) == 0)
            kind = reduce_ops[i].kind;
    unsigned types = ONYX_MASK(ONYX_FLOAT);
    if (kind == RK_LSE) types |= ONYX_MASK(ONYX_DOUBLE);
    if (kind != RK_LSE && kind != RK_LOGSUM) types |= ONYX_MASK(ONYX_INT64);
    ONYX_TRY(onyx_need_dtype(p, RD_DATA, types));
    const onyx_tensor *X = p->in[RD_DATA];
    ONYX_CHECK(p, p->out[RD_REDUCED] != NULL, "output reduced is required");
    int rank = X->rank;

    /* axes: an input for ReduceSum from opset 13 (and all from 18), else an
     * attribute. */
    int axes_input = p->opset >= 18 || (kind == RK_SUM && p->opset >= 13);
    int64_t nax = 0;
    const int64_t *ax_attr = NULL;
    const onyx_tensor *A = NULL;
    if (axes_input) {
        ONYX_CHECK(p, !onyx_attr_get(p, "axes"),
                   "attribute axes is not allowed from opset %d: axes is an "
                   "input",
                   p->opset);
        A = p->n_in > RD_AXES ? p->in[RD_AXES] : NULL;
        if (A && onyx_numel(A) > 0) {
            ONYX_TRY(onyx_need_dtype(p, RD_AXES, ONYX_MASK(ONYX_INT64)));
            ONYX_TRY(onyx_need_value(p, RD_AXES));
            ONYX_CHECK(p, A->rank == 1, "axes must be a 1-D tensor");
            nax = onyx_numel(A);
        }
    } else {
        nax = onyx_attr_ints(p, "axes", &ax_attr);
        if (nax < 0) nax = 0;
    }
    int64_t keepdims = onyx_attr_int(p, "keepdims", 1);
    ONYX_CHECK(p, keepdims == 0 || keepdims == 1,
               "keepdims %lld must be 0 or 1", (long long)keepdims);
    int64_t noop = onyx_attr_int(p, "noop_with_empty_axes", 0);
    ONYX_CHECK(p, noop == 0 || noop == 1,
               "noop_with_empty_axes %lld must be 0 or 1", (long long)noop);

    int reduced[ONYX_MAX_RANK] = {0};
    for (int64_t i = 0; i < nax; i++) {
        int64_t a = ax_attr ? ax_attr[i] : onyx_get_int(A, i);
        int ax;
        ONYX_TRY(onyx_axis(p, a, rank, 0, &ax));
        ONYX_CHECK(p, !reduced[ax], "axis %lld is listed twice in axes",
                   (long long)a);
        reduced[ax] = 1;
    }
    if (nax == 0)
        for (int i = 0; i < rank; i++)
            reduced[i] = !noop;

    reduce_params *rp = calloc(1, sizeof *rp);
    if (!rp) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    p->params = rp;
    rp->kind = kind;
    rp->dtype = X->dtype;
    rp->copy = nax == 0 && noop;
    rp->in_n = onyx_numel(X);

    /* output shape */
    int64_t odims[ONYX_MAX_RANK];
    int orank = 0;
    for (int i = 0; i < rank; i++) {
        if (!reduced[i])
            odims[orank++] = X->dims[i];
        else if (keepdims)
            odims[orank++] = 1;
    }
    onyx_set_shape(p->out[RD_REDUCED], X->dtype, orank, odims);
    rp->out_n = onyx_numel(p->out[RD_REDUCED]);

    /* merged groups, outermost first */
    rp->count = 1;
    for (int i = 0; i < rank; i++) {
        int64_t d = X->dims[i];
        if (reduced[i]) rp->count *= d;
        if (d == 1) continue;
        if (rp->ng > 0 && (rp->ostr[rp->ng - 1] == 0) == reduced[i]) {
            rp->size[rp->ng - 1] *= d;
        } else {
            rp->size[rp->ng] = d;
            rp->ostr[rp->ng] = !reduced[i]; /* marks kept; strides below */
            rp->ng++;
        }
    }
    if (rp->ng == 0) {
        rp->size[0] = 1;
        rp->ostr[0] = 1;
        rp->ng = 1;
    }
    int64_t is = 1, os = 1;
    for (int g = rp->ng - 1; g >= 0; g--) {
        rp->istr[g] = is;
        is *= rp->size[g];
        if (rp->ostr[g]) {
            rp->ostr[g] = os;
            os *= rp->size[g];
        }
    }
    if (kind == RK_LSE)
        p->scratch_bytes = (size_t)rp->out_n * onyx_dtype_size(X->dtype);
    return ONYX_OK;
}

/* The fold and initial value for each kind. */
static acc_kind reduce_acc(reduce_kind k)
{
    switch (k) {
    case RK_SUMSQ:
    case RK_L2: return ACC_SUMSQ;
    case RK_L1: return ACC_ABSSUM;
    case RK_PROD: return ACC_PROD;
    case RK_MAX:
    case RK_LSE: return ACC_MAX;
    case RK_MIN: return ACC_MIN;
    default: return ACC_SUM;
    }
}

static void reduce_eval_f32(const reduce_params *rp, const float *x, float *y,
                            float *scratch)
{
    acc_kind k = reduce_acc(rp->kind);
    float init = k == ACC_PROD  ? 1.0f
                 : k == ACC_MAX ? -INFINITY
                 : k == ACC_MIN ? INFINITY
                                : 0.0f;
    for (int64_t o = 0; o < rp->out_n; o++)
        y[o] = init;
    walk_f32 w = {rp, k, x, y, NULL};
    if (rp->in_n) walk_group_f32(&w, 0, 0, 0);
    switch (rp->kind) {
    case RK_MEAN: {
        float r = 1.0f / (float)rp->count; /* inf for count 0: NaN, as numpy */
        for (int64_t o = 0; o < rp->out_n; o++)
            y[o] *= r;
        break;
    }
    case RK_L2:
        for (int64_t o = 0; o < rp->out_n; o++)
            y[o] = sqrtf(y[o]);
        break;
    case RK_LOGSUM:
        for (int64_t o = 0; o < rp->out_n; o++)
            y[o] = logf(y[o]);
        break;
    case RK_LSE: {
        /* log(sum(exp(x))) = m + log(sum(exp(x - m))), m the maximum */
        for (int64_t o = 0; o < rp->out_n; o++)
            scratch[o] = 0.0f;
        walk_f32 w2 = {rp, ACC_SUMEXP, x, scratch, y};
        if (rp->in_n) walk_group_f32(&w2, 0, 0, 0);
        for (int64_t o = 0; o < rp->out_n; o++)
            if (isfinite(y[o])) y[o] += logf(scratch[o]);
        break;
    }
    default: break;
    }
}

static void reduce_eval_i64(const reduce_params *rp, const int64_t *x,
                            int64_t *y)
{
    acc_kind k = reduce_acc(rp->kind);
    int64_t init = k == ACC_PROD  ? 1
                   : k == ACC_MAX ? INT64_MIN
                   : k == ACC_MIN ? INT64_MAX
                                  : 0;
    for (int64_t o = 0; o < rp->out_n; o++)
        y[o] = init;
    walk_i64 w = {rp, k, x, y, NULL};
    if (rp->in_n) walk_group_i64(&w, 0, 0, 0);
    if (rp->kind == RK_MEAN && rp->count > 0)
        for (int64_t o = 0; o < rp->out_n; o++)
            y[o] /= rp->count;
    if (rp->kind == RK_L2)
        for (int64_t o = 0; o < rp->out_n; o++)
            y[o] = onyx_f2i(sqrt((double)y[o])); /* NaN if it wrapped */
}

/* float64: LogSumExp only, as reduce_eval_f32 computes it */
static void reduce_eval_f64(const reduce_params *rp, const double *x, double *y,
                            double *scratch)
{
    for (int64_t o = 0; o < rp->out_n; o++) {
        y[o] = -INFINITY;
        scratch[o] = 0.0;
    }
    walk_f64 w = {rp, ACC_MAX, x, y, NULL};
    if (rp->in_n) walk_group_f64(&w, 0, 0, 0);
    walk_f64 w2 = {rp, ACC_SUMEXP, x, scratch, y};
    if (rp->in_n) walk_group_f64(&w2, 0, 0, 0);
    for (int64_t o = 0; o < rp->out_n; o++)
        if (isfinite(y[o])) y[o] += log(scratch[o]);
}

static onyx_status reduce_eval(onyx_exec *e)
{
    const reduce_params *rp = e->params;
    const void *x = e->in[RD_DATA]->data;
    void *y = e->out[RD_REDUCED]->data;
    if (rp->copy) {
        memcpy(y, x, (size_t)rp->in_n * onyx_dtype_size(rp->dtype));
        return ONYX_OK;
    }
    if (rp->dtype == ONYX_INT64)
        reduce_eval_i64(rp, x, y);
    else if (rp->dtype == ONYX_DOUBLE)
        reduce_eval_f64(rp, x, y, e->scratch);
    else
        reduce_eval_f32(rp, x, y, e->scratch);
    return ONYX_OK;
}

const onyx_op onyx_op_ReduceSum = {"ReduceSum", reduce_prepare, reduce_eval, 0,
                                   NULL};
const onyx_op onyx_op_ReduceMean = {"ReduceMean", reduce_prepare, reduce_eval,
                                    0, NULL};
const onyx_op onyx_op_ReduceMax = {"ReduceMax", reduce_prepare, reduce_eval, 0,
                                   NULL};
const onyx_op onyx_op_ReduceMin = {"ReduceMin", reduce_prepare, reduce_eval, 0,
                                   NULL};
const onyx_op onyx_op_ReduceProd = {"ReduceProd", reduce_prepare, reduce_eval,
                                    0, NULL};
const onyx_op onyx_op_ReduceL2 = {"ReduceL2", reduce_prepare, reduce_eval, 0,
                                  NULL};
const onyx_op onyx_op_ReduceSumSquare = {"ReduceSumSquare", reduce_prepare,
                                         reduce_eval, 0, NULL};
const onyx_op onyx_op_ReduceLogSumExp = {"ReduceLogSumExp", reduce_prepare,
                                         reduce_eval, 0, NULL};
const onyx_op onyx_op_ReduceL1 = {"ReduceL1", reduce_prepare, reduce_eval, 0,
                                  NULL};
const onyx_op onyx_op_ReduceLogSum = {"ReduceLogSum", reduce_prepare,
                                      reduce_eval, 0, NULL};
