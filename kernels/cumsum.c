/* cumsum.c - CumSum along one axis (inclusive or exclusive, forward or
 * reverse), of float32, float64, int32, int64, uint32 or uint64. X is viewed as
 * (outer, n, inner) and the sum runs along n, one row of inner elements at a
 * time. */
#include "onyx_kernel.h"

#include <stdlib.h>

enum { CS_X = 0, CS_AXIS };
enum { CS_Y = 0 };

typedef struct {
    int rank;
    int64_t dims[ONYX_MAX_RANK]; /* X's shape, for an axis known only in eval */
    int axis;                    /* -1: read the axis input in eval */
    int exclusive, reverse;
    onyx_dtype dtype;
} cumsum_params;

/* (outer, n, inner) of dims around axis */
static void split_at(const int64_t *dims, int rank, int axis, int64_t *outer,
                     int64_t *n, int64_t *inner)
{
    *outer = *inner = 1;
    *n = rank ? dims[axis] : 1;
    for (int i = 0; i < rank; i++) {
        if (i < axis) *outer *= dims[i];
        if (i > axis) *inner *= dims[i];
    }
}

/* Y (outer, n, inner) = running sums of X along n. */
#define CUMSUM_LOOP(T, SFX, ADD)                                               \
    static void cumsum_##SFX(T *y, const T *x, int64_t outer, int64_t n,       \
                             int64_t inner, int exclusive, int reverse)        \
    {                                                                          \
        /* step between consecutive rows in the direction of the sum */        \
        int64_t step = reverse ? -inner : inner;                               \
        for (int64_t o = 0; o < outer; o++) {                                  \
            if (n == 0) break;                                                 \
            const T *xr = x + o * n * inner + (reverse ? (n - 1) * inner : 0); \
            T *yr = y + o * n * inner + (reverse ? (n - 1) * inner : 0);       \
            for (int64_t j = 0; j < inner; j++)                                \
                yr[j] = exclusive ? 0 : xr[j];                                 \
            for (int64_t k = 1; k < n; k++) {                                  \
                const T *xs = exclusive ? xr : xr + step;                      \
                T *yp = yr;                                                    \
                xr += step;                                                    \
                yr += step;                                                    \
                for (int64_t j = 0; j < inner; j++)                            \
                    yr[j] = ADD(yp[j], xs[j]);                                 \
            }                                                                  \
        }                                                                      \
    }

#define ADD_F(a, b) ((a) + (b))
/* integer sums wrap (as numpy's do) instead of overflowing */
#define ADD_I64(a, b) ((int64_t)((uint64_t)(a) + (uint64_t)(b)))
#define ADD_I32(a, b) ((int32_t)((uint32_t)(a) + (uint32_t)(b)))
CUMSUM_LOOP(float, f32, ADD_F)
CUMSUM_LOOP(double, f64, ADD_F)
CUMSUM_LOOP(int64_t, i64, ADD_I64)
CUMSUM_LOOP(int32_t, i32, ADD_I32)
CUMSUM_LOOP(uint64_t, u64, ADD_F)
CUMSUM_LOOP(uint32_t, u32, ADD_F)

/* Normalise the value of the axis tensor; 0 on success. */
static int read_axis(const onyx_tensor *A, int rank, int *axis)
{
    int64_t a = onyx_get_int(A, 0);
    int64_t r = rank ? rank : 1; /* a scalar is summed as one element */
    if (a < -r || a >= r) return -1;
    *axis = (int)(a < 0 ? a + r : a);
    if (!rank) *axis = 0;
    return 0;
}

static onyx_status cumsum_prepare(onyx_prep *p)
{
    ONYX_TRY(onyx_need_dtype(p, CS_X,
                             ONYX_MASK(ONYX_FLOAT) | ONYX_MASK(ONYX_DOUBLE) |
                                 ONYX_MASK(ONYX_INT64) | ONYX_MASK(ONYX_INT32) |
                                 ONYX_MASK(ONYX_UINT64) |
                                 ONYX_MASK(ONYX_UINT32)));
    ONYX_TRY(onyx_need_dtype(p, CS_AXIS,
                             ONYX_MASK(ONYX_INT32) | ONYX_MASK(ONYX_INT64)));
    const onyx_tensor *X = p->in[CS_X], *A = p->in[CS_AXIS];
    ONYX_CHECK(p, p->out[CS_Y] != NULL, "output y is required");
    ONYX_CHECK(p, onyx_numel(A) == 1 && A->rank <= 1,
               "axis must be a scalar (it has %lld elements)",
               (long long)onyx_numel(A));
    int64_t exclusive = onyx_attr_int(p, "exclusive", 0);
    int64_t reverse = onyx_attr_int(p, "reverse", 0);
    ONYX_CHECK(p, exclusive == 0 || exclusive == 1,
               "exclusive %lld must be 0 or 1", (long long)exclusive);
    ONYX_CHECK(p, reverse == 0 || reverse == 1, "reverse %lld must be 0 or 1",
               (long long)reverse);
    int axis = -1;
    if (A->data && read_axis(A, X->rank, &axis) != 0)
        return onyx_fail(p, ONYX_ERR_INVALID,
                         "axis %lld is out of range for rank %d",
                         (long long)onyx_get_int(A, 0), X->rank);
    cumsum_params *cp = calloc(1, sizeof *cp);
    if (!cp) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    p->params = cp;
    cp->rank = X->rank;
    for (int i = 0; i < X->rank; i++)
        cp->dims[i] = X->dims[i];
    /* only a constant axis may be fixed now; a bound value may change */
    cp->axis = p->in_const[CS_AXIS] ? axis : -1;
    cp->exclusive = (int)exclusive;
    cp->reverse = (int)reverse;
    cp->dtype = X->dtype;
    onyx_set_shape(p->out[CS_Y], X->dtype, X->rank, X->dims);
    return ONYX_OK;
}

static onyx_status cumsum_eval(onyx_exec *e)
{
    const cumsum_params *cp = e->params;
    int axis = cp->axis;
    if (axis < 0 && read_axis(e->in[CS_AXIS], cp->rank, &axis) != 0) {
        e->err = "CumSum: axis is out of range";
        return ONYX_ERR_RUNTIME;
    }
    int64_t outer, n, inner;
    split_at(cp->dims, cp->rank, axis, &outer, &n, &inner);
    void *y = e->out[CS_Y]->data;
    const void *x = e->in[CS_X]->data;
    const int ex = cp->exclusive, rv = cp->reverse;
    switch (cp->dtype) {
    case ONYX_FLOAT: cumsum_f32(y, x, outer, n, inner, ex, rv); break;
    case ONYX_DOUBLE: cumsum_f64(y, x, outer, n, inner, ex, rv); break;
    case ONYX_INT64: cumsum_i64(y, x, outer, n, inner, ex, rv); break;
    case ONYX_INT32: cumsum_i32(y, x, outer, n, inner, ex, rv); break;
    case ONYX_UINT64: cumsum_u64(y, x, outer, n, inner, ex, rv); break;
    case ONYX_UINT32: cumsum_u32(y, x, outer, n, inner, ex, rv); break;
    default: break; /* prepare admits no other type */
    }
    return ONYX_OK;
}

const onyx_op onyx_op_CumSum = {"CumSum", cumsum_prepare, cumsum_eval, 0, NULL};
