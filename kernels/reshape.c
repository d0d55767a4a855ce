/* reshape.c - the ops that change a tensor's shape but not its bytes
 * (Reshape, Flatten, Squeeze, Unsqueeze) and the ones that report a shape
 * (Shape, Size). All the work is in prepare; eval copies bytes at most. */
#include "onyx_kernel.h"

#include <stdlib.h>
#include <string.h>

enum { R_DATA = 0, R_ARG = 1, R_OUT = 0 };

/* Y has X's bytes: copy them unless the engine made Y an alias of X. */
static onyx_status copy_eval(onyx_exec *e)
{
    const onyx_tensor *X = e->in[R_DATA];
    onyx_tensor *Y = e->out[R_OUT];
    if (!Y || Y->data == X->data) return ONYX_OK;
    size_t bytes = (size_t)onyx_numel(X) * onyx_dtype_size(X->dtype);
    if (bytes) memmove(Y->data, X->data, bytes);
    return ONYX_OK;
}

/* Output 0: the input's bytes with a new shape, which the engine then makes
 * a view of the input's bytes (Reshape, Flatten, Squeeze, Unsqueeze). */
static void set_out(onyx_prep *p, int rank, const int64_t *dims)
{
    p->view = 1;
    if (p->out[R_OUT])
        onyx_set_shape(p->out[R_OUT], p->in[R_DATA]->dtype, rank, dims);
}

/* Axes from the `axes` attribute (before opset 13) or from input 1 (from
 * opset 13). *n is -1 when none is given. */
static onyx_status read_axes(onyx_prep *p, int64_t *axes, int64_t *n, int max_n)
{
    *n = -1;
    if (p->opset < 13) {
        const int64_t *v;
        int64_t c = onyx_attr_ints(p, "axes", &v);
        if (c < 0) return ONYX_OK;
        ONYX_CHECK(p, c <= max_n, "axes has %lld entries, more than rank %d",
                   (long long)c, max_n);
        for (int64_t i = 0; i < c; i++)
            axes[i] = v[i];
        *n = c;
        return ONYX_OK;
    }
    if (p->n_in <= R_ARG || !p->in[R_ARG]) return ONYX_OK;
    ONYX_TRY(onyx_need_value(p, R_ARG));
    ONYX_TRY(onyx_need_dtype(p, R_ARG,
                             ONYX_MASK(ONYX_INT64) | ONYX_MASK(ONYX_INT32)));
    const onyx_tensor *A = p->in[R_ARG];
    int64_t c = onyx_numel(A);
    ONYX_CHECK(p, A->rank <= 1, "axes must be a 1-D tensor, not rank %d",
               A->rank);
    ONYX_CHECK(p, c <= max_n, "axes has %lld entries, more than rank %d",
               (long long)c, max_n);
    for (int64_t i = 0; i < c; i++)
        axes[i] = onyx_get_int(A, i);
    *n = c;
    return ONYX_OK;
}

/* ---- Reshape ------------------------------------------------------------- */

static onyx_status reshape_prepare(onyx_prep *p)
{
    ONYX_TRY(onyx_need_dtype(p, R_DATA, ONYX_DATA_DTYPES));
    ONYX_TRY(onyx_need_value(p, R_ARG));
    ONYX_TRY(onyx_need_dtype(p, R_ARG, ONYX_MASK(ONYX_INT64)));
    const onyx_tensor *X = p->in[R_DATA], *S = p->in[R_ARG];
    ONYX_CHECK(p, S->rank == 1, "shape must be a 1-D tensor, not rank %d",
               S->rank);
    int64_t n = S->dims[0];
    ONYX_CHECK(p, n <= ONYX_MAX_RANK, "shape has %lld entries, more than %d",
               (long long)n, ONYX_MAX_RANK);
    int allowzero = p->opset >= 14 ? (int)onyx_attr_int(p, "allowzero", 0) : 0;
    const int64_t *s = S->data;
    int64_t dims[ONYX_MAX_RANK];
    int infer = -1, has_zero = 0;
    int64_t known = 1;
    for (int i = 0; i < n; i++) {
        int64_t d = s[i];
        if (d == 0 && !allowzero) {
            ONYX_CHECK(p, i < X->rank,
                       "shape[%d] is 0 (copy the input dim) but the input "
                       "has rank %d",
                       i, X->rank);
            d = X->dims[i];
        } else if (d == -1) {
            ONYX_CHECK(p, infer < 0, "shape has more than one -1");
            infer = i;
            dims[i] = -1;
            continue;
        } else {
            ONYX_CHECK(p, d >= 0, "shape[%d] is %lld", i, (long long)d);
        }
        if (d == 0) has_zero = 1;
        dims[i] = d;
        known = onyx_size_mul(known, d);
        ONYX_CHECK(p, known >= 0, "shape[%d] = %lld makes the shape too large",
                   i, (long long)d);
    }
    ONYX_CHECK(p, !(allowzero && has_zero && infer >= 0),
               "shape has both 0 and -1 with allowzero=1");
    int64_t total = onyx_numel(X);
    if (infer >= 0) {
        ONYX_CHECK(p, known != 0 && total % known == 0,
                   "cannot infer the -1 of shape: %lld elements do not "
                   "divide into blocks of %lld",
                   (long long)total, (long long)known);
        dims[infer] = total / known;
        known = total;
    }
    char b[96];
    ONYX_CHECK(
        p, known == total, "input %s has %lld elements, the new shape %lld",
        onyx_shape_str(X, b, sizeof b), (long long)total, (long long)known);
    set_out(p, (int)n, dims);
    return ONYX_OK;
}

const onyx_op onyx_op_Reshape = {"Reshape", reshape_prepare, copy_eval, 0,
                                 NULL};

/* ---- Flatten ------------------------------------------------------------- */

static onyx_status flatten_prepare(onyx_prep *p)
{
    ONYX_TRY(onyx_need_dtype(p, R_DATA, ONYX_DATA_DTYPES));
    const onyx_tensor *X = p->in[R_DATA];
    /* axis in [-r, r]; negative counts from the back (r + axis), which
     * onyx_axis(extra=1) would not do */
    int64_t axis = onyx_attr_int(p, "axis", 1);
    ONYX_CHECK(p, axis >= -X->rank && axis <= X->rank,
               "axis %lld is out of range for rank %d", (long long)axis,
               X->rank);
    if (axis < 0) axis += X->rank;
    int64_t dims[2] = {1, 1};
    for (int k = 0; k < X->rank; k++)
        dims[k < axis ? 0 : 1] *= X->dims[k];
    set_out(p, 2, dims);
    return ONYX_OK;
}

const onyx_op onyx_op_Flatten = {"Flatten", flatten_prepare, copy_eval, 0,
                                 NULL};

/* ---- Squeeze ------------------------------------------------------------- */

static onyx_status squeeze_prepare(onyx_prep *p)
{
    ONYX_TRY(onyx_need_dtype(p, R_DATA, ONYX_DATA_DTYPES));
    const onyx_tensor *X = p->in[R_DATA];
    int64_t axes[ONYX_MAX_RANK], n;
    ONYX_TRY(read_axes(p, axes, &n, X->rank));
    int drop[ONYX_MAX_RANK] = {0};
    if (n <= 0) { /* no axes (or an empty list): every axis of length 1 */
        for (int k = 0; k < X->rank; k++)
            drop[k] = X->dims[k] == 1;
    } else {
        for (int64_t i = 0; i < n; i++) {
            int a;
            ONYX_TRY(onyx_axis(p, axes[i], X->rank, 0, &a));
            ONYX_CHECK(p, X->dims[a] == 1,
                       "cannot squeeze axis %d of length %lld", a,
                       (long long)X->dims[a]);
            drop[a] = 1;
        }
    }
    int64_t dims[ONYX_MAX_RANK];
    int r = 0;
    for (int k = 0; k < X->rank; k++)
        if (!drop[k]) dims[r++] = X->dims[k];
    set_out(p, r, dims);
    return ONYX_OK;
}

const onyx_op onyx_op_Squeeze = {"Squeeze", squeeze_prepare, copy_eval, 0,
                                 NULL};

/* ---- Unsqueeze ----------------------------------------------------------- */

static onyx_status unsqueeze_prepare(onyx_prep *p)
{
    ONYX_TRY(onyx_need_dtype(p, R_DATA, ONYX_DATA_DTYPES));
    const onyx_tensor *X = p->in[R_DATA];
    int64_t axes[ONYX_MAX_RANK], n;
    ONYX_TRY(read_axes(p, axes, &n, ONYX_MAX_RANK));
    ONYX_CHECK(p, n >= 0,
               p->opset < 13 ? "attribute axes is required"
                             : "input 1 (axes) is required");
    int r = X->rank + (int)n;
    ONYX_CHECK(p, r <= ONYX_MAX_RANK, "output rank %d is more than %d", r,
               ONYX_MAX_RANK);
    int added[ONYX_MAX_RANK] = {0};
    for (int64_t i = 0; i < n; i++) {
        int a;
        ONYX_TRY(onyx_axis(p, axes[i], r, 0, &a));
        ONYX_CHECK(p, !added[a], "axis %lld appears twice in axes",
                   (long long)axes[i]);
        added[a] = 1;
    }
    int64_t dims[ONYX_MAX_RANK];
    for (int k = 0, j = 0; k < r; k++)
        dims[k] = added[k] ? 1 : X->dims[j++];
    set_out(p, r, dims);
    return ONYX_OK;
}

const onyx_op onyx_op_Unsqueeze = {"Unsqueeze", unsqueeze_prepare, copy_eval, 0,
                                   NULL};

/* ---- Shape --------------------------------------------------------------- */

/* params: the first axis reported (int64_t) */
static onyx_status shape_prepare(onyx_prep *p)
{
    ONYX_TRY(onyx_need_input(p, R_DATA));
    int r = p->in[R_DATA]->rank;
    int64_t start = 0, end = r;
    if (p->opset >= 15) {
        start = onyx_attr_int(p, "start", 0);
        end = onyx_attr_int(p, "end", r);
    }
    /* negative counts from the back; then clamp to [0, r] */
    if (start < 0) start += r;
    if (end < 0) end += r;
    start = start < 0 ? 0 : start > r ? r : start;
    end = end < 0 ? 0 : end > r ? r : end;
    int64_t len = end > start ? end - start : 0;
    if (p->out[R_OUT]) onyx_set_shape(p->out[R_OUT], ONYX_INT64, 1, &len);
    int64_t *sp = malloc(sizeof *sp);
    if (!sp) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    *sp = start;
    p->params = sp;
    return ONYX_OK;
}

static onyx_status shape_eval(onyx_exec *e)
{
    onyx_tensor *Y = e->out[R_OUT];
    if (!Y) return ONYX_OK;
    int64_t start = *(const int64_t *)e->params;
    int64_t *y = Y->data;
    for (int64_t k = 0; k < Y->dims[0]; k++)
        y[k] = e->in[R_DATA]->dims[start + k];
    return ONYX_OK;
}

const onyx_op onyx_op_Shape = {"Shape", shape_prepare, shape_eval,
                               ONYX_OP_SHAPE_ONLY | ONYX_OP_READS_HALF, NULL};

/* ---- Size ---------------------------------------------------------------- */

static onyx_status size_prepare(onyx_prep *p)
{
    ONYX_TRY(onyx_need_input(p, R_DATA));
    if (p->out[R_OUT]) onyx_set_shape(p->out[R_OUT], ONYX_INT64, 0, NULL);
    return ONYX_OK;
}

static onyx_status size_eval(onyx_exec *e)
{
    if (e->out[R_OUT])
        *(int64_t *)e->out[R_OUT]->data = onyx_numel(e->in[R_DATA]);
    return ONYX_OK;
}

const onyx_op onyx_op_Size = {"Size", size_prepare, size_eval,
                              ONYX_OP_SHAPE_ONLY | ONYX_OP_READS_HALF, NULL};
