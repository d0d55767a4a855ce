/* scatter.c - ScatterElements (and its opset-9 name Scatter) and ScatterND:
 * Y is a copy of data with the updates written (or added, multiplied,
 * maxed, minned) at the places the indices name.
 *
 * Both ops copy data into Y, then walk the updates in order; with a
 * reduction, repeated indices fold every update in, without one the last
 * write wins. Indices are read in eval and checked there. */
#include "onyx_kernel.h"

#include <stdlib.h>
#include <string.h>

enum { S_DATA = 0, S_INDICES = 1, S_UPDATES = 2, S_Y = 0 };

#define INDEX_TYPES (ONYX_MASK(ONYX_INT64) | ONYX_MASK(ONYX_INT32))
/* what a reduction computes on; plain writes take any element size */
#define REDUCE_TYPES                                                           \
    (ONYX_MASK(ONYX_FLOAT) | ONYX_MASK(ONYX_DOUBLE) | ONYX_MASK(ONYX_INT64) |  \
     ONYX_MASK(ONYX_INT32))
#define ANY_TYPES                                                              \
    (ONYX_DATA_DTYPES | ONYX_MASK(ONYX_DOUBLE) | ONYX_MASK(ONYX_UINT8) |       \
     ONYX_MASK(ONYX_INT8) | ONYX_MASK(ONYX_UINT16) | ONYX_MASK(ONYX_INT16) |   \
     ONYX_MASK(ONYX_UINT32) | ONYX_MASK(ONYX_UINT64) |                         \
     ONYX_MASK(ONYX_FLOAT16) | ONYX_MASK(ONYX_BFLOAT16))

static const char index_error[] = "index out of range";

typedef enum { RED_NONE, RED_ADD, RED_MUL, RED_MAX, RED_MIN } reduction;

/* Index k of an int64 or int32 tensor, negative values counted from the end
 * of an axis of length d. Returns -1 when out of [-d, d-1]. */
static inline int64_t get_index(const onyx_tensor *I, int64_t k, int64_t d)
{
    int64_t i = I->dtype == ONYX_INT64 ? ((const int64_t *)I->data)[k]
                                       : ((const int32_t *)I->data)[k];
    if (i < 0) i += d;
    return i >= 0 && i < d ? i : -1;
}

static onyx_status get_reduction(onyx_prep *p, reduction *r)
{
    const char *s = onyx_attr_string(p, "reduction", "none");
    if (!strcmp(s, "none"))
        *r = RED_NONE;
    else if (!strcmp(s, "add"))
        *r = RED_ADD;
    else if (!strcmp(s, "mul"))
        *r = RED_MUL;
    else if (!strcmp(s, "max"))
        *r = RED_MAX;
    else if (!strcmp(s, "min"))
        *r = RED_MIN;
    else
        return onyx_fail(p, ONYX_ERR_INVALID,
                         "reduction '%s' is not none, add, mul, max or min", s);
    if (*r != RED_NONE) ONYX_TRY(onyx_need_dtype(p, S_DATA, REDUCE_TYPES));
    return ONYX_OK;
}

static onyx_status check_common(onyx_prep *p, reduction *r)
{
    ONYX_TRY(onyx_need_dtype(p, S_DATA, ANY_TYPES));
    ONYX_TRY(onyx_need_dtype(p, S_INDICES, INDEX_TYPES));
    ONYX_TRY(onyx_need_input(p, S_UPDATES));
    const onyx_tensor *X = p->in[S_DATA], *U = p->in[S_UPDATES];
    ONYX_CHECK(p, U->dtype == X->dtype, "updates are %s, data %s",
               onyx_dtype_name(U->dtype), onyx_dtype_name(X->dtype));
    ONYX_CHECK(p, X->rank >= 1, "data must have rank >= 1");
    ONYX_TRY(get_reduction(p, r));
    if (p->out[S_Y]) onyx_set_shape(p->out[S_Y], X->dtype, X->rank, X->dims);
    return ONYX_OK;
}

/* *y = *y (op) *u for one element of type T; integer sums and products
 * wrap (through the unsigned type W), as numpy's do, without undefined
 * overflow. */
#define FOLD(T, W)                                                             \
    static inline void fold_##T(void *y, const void *u, reduction r)           \
    {                                                                          \
        T a, b;                                                                \
        memcpy(&a, y, sizeof a);                                               \
        memcpy(&b, u, sizeof b);                                               \
        switch (r) {                                                           \
        case RED_ADD: a = (T)((W)a + (W)b); break;                             \
        case RED_MUL: a = (T)((W)a * (W)b); break;                             \
        case RED_MAX: a = b > a ? b : a; break;                                \
        case RED_MIN: a = b < a ? b : a; break;                                \
        default: a = b; break;                                                 \
        }                                                                      \
        memcpy(y, &a, sizeof a);                                               \
    }
typedef float f32;
typedef double f64;
FOLD(f32, f32)
FOLD(f64, f64)
FOLD(int32_t, uint32_t)
FOLD(int64_t, uint64_t)

/* n elements at y folded with those at u. */
static void fold_run(char *y, const char *u, int64_t n, onyx_dtype dt,
                     size_t es, reduction r)
{
    if (r == RED_NONE) {
        memcpy(y, u, (size_t)n * es);
        return;
    }
    for (int64_t j = 0; j < n; j++, y += es, u += es) {
        switch (dt) {
        case ONYX_FLOAT: fold_f32(y, u, r); break;
        case ONYX_DOUBLE: fold_f64(y, u, r); break;
        case ONYX_INT64: fold_int64_t(y, u, r); break;
        default: fold_int32_t(y, u, r); break;
        }
    }
}

/* ---- ScatterElements, Scatter ------------------------------------------- */

/* Y[i0.., I[i0..] at axis, ..] (op)= U[i0..] for every position of the
 * indices (whose shape the updates share). */
typedef struct {
    reduction red;
    onyx_dtype dtype;
    size_t esize;
    int rank, axis;
    int64_t dims[ONYX_MAX_RANK];      /* of the indices */
    int64_t y_strides[ONYX_MAX_RANK]; /* of Y, elements */
    int64_t axis_len;
} scatter_el_params;

static onyx_status scatter_el_prepare(onyx_prep *p)
{
    reduction red;
    ONYX_TRY(check_common(p, &red));
    const onyx_tensor *X = p->in[S_DATA], *I = p->in[S_INDICES],
                      *U = p->in[S_UPDATES];
    int axis;
    ONYX_TRY(onyx_axis(p, onyx_attr_int(p, "axis", 0), X->rank, 0, &axis));
    char a[96], b[96];
    ONYX_CHECK(p, onyx_same_shape(I, U),
               "indices %s and updates %s must have the same shape",
               onyx_shape_str(I, a, sizeof a), onyx_shape_str(U, b, sizeof b));
    ONYX_CHECK(p, I->rank == X->rank,
               "indices %s and data %s must have the same rank",
               onyx_shape_str(I, a, sizeof a), onyx_shape_str(X, b, sizeof b));
    for (int k = 0; k < X->rank; k++)
        ONYX_CHECK(p, k == axis || I->dims[k] <= X->dims[k],
                   "indices %s is larger than data %s on axis %d",
                   onyx_shape_str(I, a, sizeof a),
                   onyx_shape_str(X, b, sizeof b), k);
    scatter_el_params *sp = calloc(1, sizeof *sp);
    if (!sp) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    sp->red = red;
    sp->dtype = X->dtype;
    sp->esize = onyx_dtype_size(X->dtype);
    sp->rank = X->rank;
    sp->axis = axis;
    sp->axis_len = X->dims[axis];
    int64_t s = 1;
    for (int k = X->rank - 1; k >= 0; k--) {
        sp->dims[k] = I->dims[k];
        sp->y_strides[k] = s;
        s *= X->dims[k];
    }
    p->params = sp;
    return ONYX_OK;
}

static onyx_status scatter_el_eval(onyx_exec *e)
{
    const scatter_el_params *sp = e->params;
    onyx_tensor *Y = e->out[S_Y];
    if (!Y) return ONYX_OK;
    const onyx_tensor *X = e->in[S_DATA], *I = e->in[S_INDICES];
    const char *u = e->in[S_UPDATES]->data;
    char *y = Y->data;
    size_t es = sp->esize;
    if (y != X->data) memcpy(y, X->data, (size_t)onyx_numel(X) * es);
    /* odometer over the indices' shape, off the offset in Y of the element
     * whose axis coordinate is 0 */
    int64_t n = onyx_numel(I), idx[ONYX_MAX_RANK] = {0}, off = 0;
    int64_t axis_stride = sp->y_strides[sp->axis];
    for (int64_t j = 0; j < n; j++) {
        int64_t i = get_index(I, j, sp->axis_len);
        if (i < 0) {
            e->err = index_error;
            return ONYX_ERR_RUNTIME;
        }
        fold_run(y + (off + i * axis_stride) * (int64_t)es, u + j * (int64_t)es,
                 1, sp->dtype, es, sp->red);
        for (int k = sp->rank - 1; k >= 0; k--) {
            if (k != sp->axis) off += sp->y_strides[k];
            if (++idx[k] < sp->dims[k]) break;
            if (k != sp->axis) off -= sp->y_strides[k] * sp->dims[k];
            idx[k] = 0;
        }
    }
    return ONYX_OK;
}

const onyx_op onyx_op_ScatterElements = {"ScatterElements", scatter_el_prepare,
                                         scatter_el_eval, 0, NULL};
const onyx_op onyx_op_Scatter = {"Scatter", scatter_el_prepare, scatter_el_eval,
                                 0, NULL};

/* ---- ScatterND ---------------------------------------------------------- */

/* indices (n_idx, q) name slices of data: Y[I[j,0], .., I[j,q-1], :] (op)=
 * U[j, :], each slice `slice` elements. */
typedef struct {
    reduction red;
    onyx_dtype dtype;
    size_t esize;
    int q;
    int64_t n_idx, slice;
    int64_t dims[ONYX_MAX_RANK];    /* of data, the first q */
    int64_t strides[ONYX_MAX_RANK]; /* of data, elements */
} scatter_nd_params;

static onyx_status scatter_nd_prepare(onyx_prep *p)
{
    reduction red;
    ONYX_TRY(check_common(p, &red));
    const onyx_tensor *X = p->in[S_DATA], *I = p->in[S_INDICES],
                      *U = p->in[S_UPDATES];
    char a[96], b[96], c[96];
    ONYX_CHECK(p, I->rank >= 1, "indices must have rank >= 1");
    int64_t q = I->dims[I->rank - 1];
    ONYX_CHECK(p, q >= 1 && q <= X->rank,
               "indices %s: the last axis must be 1 to the rank of data %s",
               onyx_shape_str(I, a, sizeof a), onyx_shape_str(X, b, sizeof b));
    /* updates: indices.shape[:-1] + data.shape[q:] */
    int ok = U->rank == I->rank - 1 + X->rank - (int)q;
    for (int k = 0; ok && k < I->rank - 1; k++)
        ok = U->dims[k] == I->dims[k];
    for (int k = (int)q; ok && k < X->rank; k++)
        ok = U->dims[I->rank - 1 + k - (int)q] == X->dims[k];
    ONYX_CHECK(p, ok, "updates %s do not fit indices %s and data %s",
               onyx_shape_str(U, a, sizeof a), onyx_shape_str(I, b, sizeof b),
               onyx_shape_str(X, c, sizeof c));
    scatter_nd_params *sp = calloc(1, sizeof *sp);
    if (!sp) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    sp->red = red;
    sp->dtype = X->dtype;
    sp->esize = onyx_dtype_size(X->dtype);
    sp->q = (int)q;
    sp->n_idx = onyx_numel(I) / q;
    sp->slice = 1;
    int64_t s = 1;
    for (int k = X->rank - 1; k >= 0; k--) {
        sp->dims[k] = X->dims[k];
        sp->strides[k] = s;
        if (k >= q) sp->slice *= X->dims[k];
        s *= X->dims[k];
    }
    p->params = sp;
    return ONYX_OK;
}

static onyx_status scatter_nd_eval(onyx_exec *e)
{
    const scatter_nd_params *sp = e->params;
    onyx_tensor *Y = e->out[S_Y];
    if (!Y) return ONYX_OK;
    const onyx_tensor *X = e->in[S_DATA], *I = e->in[S_INDICES];
    const char *u = e->in[S_UPDATES]->data;
    char *y = Y->data;
    size_t es = sp->esize;
    if (y != X->data) memcpy(y, X->data, (size_t)onyx_numel(X) * es);
    for (int64_t j = 0; j < sp->n_idx; j++) {
        int64_t off = 0;
        for (int k = 0; k < sp->q; k++) {
            int64_t i = get_index(I, j * sp->q + k, sp->dims[k]);
            if (i < 0) {
                e->err = index_error;
                return ONYX_ERR_RUNTIME;
            }
            off += i * sp->strides[k];
        }
        fold_run(y + off * (int64_t)es, u + j * sp->slice * (int64_t)es,
                 sp->slice, sp->dtype, es, sp->red);
    }
    return ONYX_OK;
}

const onyx_op onyx_op_ScatterND = {"ScatterND", scatter_nd_prepare,
                                   scatter_nd_eval, 0, NULL};
