/* concat.c - Concat and Split: joining tensors along an axis and cutting one
 * apart. Both see a tensor as (outer, axis * inner) rows and move one chunk
 * of bytes per row and per part. */
#include "onyx_kernel.h"

#include <stdlib.h>
#include <string.h>

/* For both ops: rows = product of the dims before the axis; part i moves
 * chunk[i] bytes per row (0 for an absent part); the whole tensor has
 * row_bytes per row. */
typedef struct {
    int64_t rows;
    int64_t row_bytes;
    int n;
    int64_t chunk[]; /* n entries */
} parts_params;

static parts_params *parts_new(onyx_prep *p, int n)
{
    parts_params *pp = calloc(1, sizeof *pp + (size_t)n * sizeof pp->chunk[0]);
    if (pp) pp->n = n;
    p->params = pp;
    return pp;
}

/* ---- Concat -------------------------------------------------------------- */

enum { C_OUT = 0 };

static onyx_status concat_prepare(onyx_prep *p)
{
    ONYX_CHECK(p, p->n_in >= 1, "needs at least one input");
    /* The reference is the first input with elements; older exports also
     * pass empty 1-D tensors of another rank, which add nothing. */
    const onyx_tensor *R = NULL;
    for (int i = 0; i < p->n_in; i++) {
        ONYX_TRY(onyx_need_dtype(p, i, ONYX_DATA_DTYPES));
        if (!R && onyx_numel(p->in[i]) > 0) R = p->in[i];
    }
    if (!R) R = p->in[0];
    const onyx_attr *aa = onyx_attr_get(p, "axis");
    ONYX_CHECK(p, aa != NULL, "attribute axis is required");
    int axis;
    ONYX_TRY(onyx_axis(p, onyx_attr_int(p, "axis", 0), R->rank, 0, &axis));

    int64_t dims[ONYX_MAX_RANK];
    for (int k = 0; k < R->rank; k++)
        dims[k] = R->dims[k];
    dims[axis] = 0;
    for (int i = 0; i < p->n_in; i++) {
        const onyx_tensor *X = p->in[i];
        ONYX_CHECK(p, X->dtype == R->dtype, "input %d is %s, input 0 is %s", i,
                   onyx_dtype_name(X->dtype), onyx_dtype_name(R->dtype));
        if (X->rank != R->rank && onyx_numel(X) == 0) continue;
        char a[96], b[96];
        int same = X->rank == R->rank;
        for (int k = 0; same && k < R->rank; k++)
            if (k != axis && X->dims[k] != R->dims[k]) same = 0;
        ONYX_CHECK(p, same, "input %d %s does not match %s outside axis %d", i,
                   onyx_shape_str(X, a, sizeof a),
                   onyx_shape_str(R, b, sizeof b), axis);
        dims[axis] += X->dims[axis];
    }
    if (p->out[C_OUT]) onyx_set_shape(p->out[C_OUT], R->dtype, R->rank, dims);

    parts_params *pp = parts_new(p, p->n_in);
    if (!pp) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    int64_t inner = (int64_t)onyx_dtype_size(R->dtype);
    pp->rows = 1;
    for (int k = 0; k < R->rank; k++) {
        if (k < axis) pp->rows *= R->dims[k];
        if (k > axis) inner *= R->dims[k];
    }
    for (int i = 0; i < p->n_in; i++) {
        const onyx_tensor *X = p->in[i];
        pp->chunk[i] = X->rank == R->rank ? X->dims[axis] * inner : 0;
    }
    pp->row_bytes = dims[axis] * inner;
    return ONYX_OK;
}

static onyx_status concat_eval(onyx_exec *e)
{
    const parts_params *pp = e->params;
    if (!e->out[C_OUT]) return ONYX_OK;
    char *y = e->out[C_OUT]->data;
    for (int64_t r = 0; r < pp->rows; r++)
        for (int i = 0; i < pp->n; i++) {
            int64_t c = pp->chunk[i];
            if (!c) continue;
            memcpy(y, (const char *)e->in[i]->data + r * c, (size_t)c);
            y += c;
        }
    return ONYX_OK;
}

const onyx_op onyx_op_Concat = {"Concat", concat_prepare, concat_eval, 0, NULL};

/* ---- Split --------------------------------------------------------------- */

enum { S_X = 0, S_SPLIT = 1 };

static onyx_status split_prepare(onyx_prep *p)
{
    ONYX_TRY(onyx_need_dtype(p, S_X, ONYX_DATA_DTYPES));
    const onyx_tensor *X = p->in[S_X];
    int axis;
    ONYX_TRY(onyx_axis(p, onyx_attr_int(p, "axis", 0), X->rank, 0, &axis));
    int n = p->n_out;
    ONYX_CHECK(p, n >= 1, "needs at least one output");
    int64_t len = X->dims[axis];

    /* sizes along the axis: attribute split (before opset 13), input split
     * (from opset 13), or equal parts */
    int64_t *sizes = calloc((size_t)n, sizeof *sizes);
    if (!sizes) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    onyx_status st = ONYX_OK;
    int64_t given = -1;
    if (p->opset < 13) {
        const int64_t *v;
        given = onyx_attr_ints(p, "split", &v);
        for (int64_t i = 0; i < given && i < n; i++)
            sizes[i] = v[i];
    } else if (p->n_in > S_SPLIT && p->in[S_SPLIT] &&
               onyx_numel(p->in[S_SPLIT]) > 0) {
        st = onyx_need_value(p, S_SPLIT);
        if (st == ONYX_OK)
            st = onyx_need_dtype(p, S_SPLIT, ONYX_MASK(ONYX_INT64));
        if (st == ONYX_OK) {
            given = onyx_numel(p->in[S_SPLIT]);
            for (int64_t i = 0; i < given && i < n; i++)
                sizes[i] = onyx_get_int(p->in[S_SPLIT], i);
        }
    }
    if (st == ONYX_OK && given >= 0) {
        int64_t sum = 0;
        if (given != n)
            st = onyx_fail(p, ONYX_ERR_INVALID,
                           "split has %lld entries for %d outputs",
                           (long long)given, n);
        for (int i = 0; st == ONYX_OK && i < n; i++) {
            if (sizes[i] < 0)
                st = onyx_fail(p, ONYX_ERR_INVALID, "split[%d] is %lld", i,
                               (long long)sizes[i]);
            sum += sizes[i];
        }
        if (st == ONYX_OK && sum != len)
            st = onyx_fail(p, ONYX_ERR_INVALID,
                           "split sums to %lld but axis %d has length %lld",
                           (long long)sum, axis, (long long)len);
    } else if (st == ONYX_OK) {
        if (len % n != 0)
            st = onyx_fail(p, ONYX_ERR_INVALID,
                           "axis %d of length %lld does not split into %d "
                           "equal parts",
                           axis, (long long)len, n);
        for (int i = 0; i < n; i++)
            sizes[i] = len / n;
    }
    parts_params *pp = st == ONYX_OK ? parts_new(p, n) : NULL;
    if (st == ONYX_OK && !pp)
        st = onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    if (st != ONYX_OK) {
        free(sizes);
        return st;
    }

    int64_t inner = (int64_t)onyx_dtype_size(X->dtype);
    pp->rows = 1;
    for (int k = 0; k < X->rank; k++) {
        if (k < axis) pp->rows *= X->dims[k];
        if (k > axis) inner *= X->dims[k];
    }
    pp->row_bytes = len * inner;
    for (int i = 0; i < n; i++) {
        pp->chunk[i] = sizes[i] * inner;
        if (!p->out[i]) continue;
        int64_t dims[ONYX_MAX_RANK];
        for (int k = 0; k < X->rank; k++)
            dims[k] = X->dims[k];
        dims[axis] = sizes[i];
        onyx_set_shape(p->out[i], X->dtype, X->rank, dims);
    }
    free(sizes);
    return ONYX_OK;
}

static onyx_status split_eval(onyx_exec *e)
{
    const parts_params *pp = e->params;
    const char *x = e->in[S_X]->data;
    int64_t off = 0; /* bytes of each row before part i */
    for (int i = 0; i < pp->n; i++) {
        int64_t c = pp->chunk[i];
        if (e->out[i] && c)
            for (int64_t r = 0; r < pp->rows; r++)
                memcpy((char *)e->out[i]->data + r * c,
                       x + r * pp->row_bytes + off, (size_t)c);
        off += c;
    }
    return ONYX_OK;
}

const onyx_op onyx_op_Split = {"Split", split_prepare, split_eval, 0, NULL};
