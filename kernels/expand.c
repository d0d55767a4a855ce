/* expand.c - Expand (broadcast to a shape) and Tile (repeat along each axis).
 * Both are views of the input with some strides 0, planned in prepare and
 * copied by the strided copy of view.h. */
#include "onyx_kernel.h"
#include "math/view.h"

#include <stdlib.h>
#include <string.h>

enum { E_X = 0, E_ARG = 1, E_OUT = 0 };

/* Y = the view (dims, strides) of X. */
typedef struct {
    int rank;
    size_t esize;
    int64_t dims[ONYX_VIEW_MAX_RANK];
    int64_t strides[ONYX_VIEW_MAX_RANK];
} view_params;

static onyx_status view_eval(onyx_exec *e)
{
    const view_params *vp = e->params;
    if (!e->out[E_OUT]) return ONYX_OK;
    onyx_view_copy(e->out[E_OUT]->data, e->in[E_X]->data, vp->esize, vp->rank,
                   vp->dims, vp->strides);
    return ONYX_OK;
}

/* Input 1 (shape or repeats): a known 1-D int64 tensor of at most
 * ONYX_MAX_RANK non-negative entries. */
static onyx_status read_arg(onyx_prep *p, const char *name, int64_t *n)
{
    ONYX_TRY(onyx_need_value(p, E_ARG));
    ONYX_TRY(onyx_need_dtype(p, E_ARG, ONYX_MASK(ONYX_INT64)));
    const onyx_tensor *A = p->in[E_ARG];
    ONYX_CHECK(p, A->rank == 1, "%s must be a 1-D tensor, not rank %d", name,
               A->rank);
    *n = A->dims[0];
    ONYX_CHECK(p, *n <= ONYX_MAX_RANK, "%s has %lld entries, more than %d",
               name, (long long)*n, ONYX_MAX_RANK);
    const int64_t *v = A->data;
    for (int64_t i = 0; i < *n; i++)
        ONYX_CHECK(p, v[i] >= 0, "%s[%lld] is %lld", name, (long long)i,
                   (long long)v[i]);
    return ONYX_OK;
}

static onyx_status view_finish(onyx_prep *p, view_params *vp)
{
    vp->esize = onyx_dtype_size(p->in[E_X]->dtype);
    vp->rank = onyx_view_simplify(vp->rank, vp->dims, vp->strides);
    p->params = vp;
    return ONYX_OK;
}

/* ---- Expand -------------------------------------------------------------- */

static onyx_status expand_prepare(onyx_prep *p)
{
    ONYX_TRY(onyx_need_dtype(p, E_X, ONYX_DATA_DTYPES));
    int64_t n;
    ONYX_TRY(read_arg(p, "shape", &n));
    const onyx_tensor *X = p->in[E_X];
    onyx_tensor S, Y;
    memset(&S, 0, sizeof S);
    S.rank = (int)n;
    memcpy(S.dims, p->in[E_ARG]->data, (size_t)n * sizeof S.dims[0]);
    const onyx_tensor *both[2] = {X, &S};
    ONYX_TRY(onyx_broadcast_shape(p, both, 2, &Y));
    /* before the view, whose merged dims must not overflow */
    ONYX_TRY(onyx_check_size(p, X->dtype, Y.rank, Y.dims));
    if (p->out[E_OUT]) onyx_set_shape(p->out[E_OUT], X->dtype, Y.rank, Y.dims);

    view_params *vp = calloc(1, sizeof *vp);
    if (!vp) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    vp->rank = Y.rank;
    for (int k = 0; k < Y.rank; k++)
        vp->dims[k] = Y.dims[k];
    onyx_broadcast_strides(X, &Y, vp->strides);
    return view_finish(p, vp);
}

const onyx_op onyx_op_Expand = {"Expand", expand_prepare, view_eval, 0, NULL};

/* ---- Tile ---------------------------------------------------------------- */

/* Y (r0*d0, r1*d1, ...) is the view (r0, d0, r1, d1, ...) of X with strides
 * (0, s0, 0, s1, ...): each repeat axis re-reads the same input. */
static onyx_status tile_prepare(onyx_prep *p)
{
    ONYX_TRY(onyx_need_dtype(p, E_X, ONYX_DATA_DTYPES));
    int64_t n;
    ONYX_TRY(read_arg(p, "repeats", &n));
    const onyx_tensor *X = p->in[E_X];
    ONYX_CHECK(p, n == X->rank, "repeats has %lld entries for rank %d",
               (long long)n, X->rank);
    const int64_t *reps = p->in[E_ARG]->data;
    int64_t dims[ONYX_MAX_RANK];
    for (int k = 0; k < X->rank; k++) {
        dims[k] = onyx_size_mul(X->dims[k], reps[k]);
        ONYX_CHECK(p, dims[k] >= 0, "repeats[%d] = %lld is too large", k,
                   (long long)reps[k]);
    }
    ONYX_TRY(onyx_check_size(p, X->dtype, X->rank, dims)); /* as Expand */
    if (p->out[E_OUT]) onyx_set_shape(p->out[E_OUT], X->dtype, X->rank, dims);

    view_params *vp = calloc(1, sizeof *vp);
    if (!vp) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    vp->rank = 2 * X->rank;
    int64_t s = 1;
    for (int k = X->rank - 1; k >= 0; k--) {
        vp->dims[2 * k] = reps[k];
        vp->strides[2 * k] = 0;
        vp->dims[2 * k + 1] = X->dims[k];
        vp->strides[2 * k + 1] = s;
        s *= X->dims[k];
    }
    return view_finish(p, vp);
}

const onyx_op onyx_op_Tile = {"Tile", tile_prepare, view_eval, 0, NULL};
