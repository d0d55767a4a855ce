/* transpose.c - Transpose: Y is the view of X with permuted axes, planned
 * in prepare and copied by the strided copy of view.h. */
#include "onyx_kernel.h"
#include "math/view.h"

#include <stdlib.h>

/* ---- Transpose ----------------------------------------------------------- */

/* The simplified view of X that is Y. */
typedef struct {
    int rank;
    size_t esize;
    int64_t dims[ONYX_VIEW_MAX_RANK];
    int64_t strides[ONYX_VIEW_MAX_RANK];
} transpose_params;

enum { T_X = 0, T_Y = 0 };

static onyx_status transpose_prepare(onyx_prep *p)
{
    ONYX_TRY(onyx_need_dtype(p, T_X, ONYX_DATA_DTYPES));
    const onyx_tensor *X = p->in[T_X];
    int r = X->rank;
    int64_t perm[ONYX_MAX_RANK];
    const int64_t *pv;
    int64_t n = onyx_attr_ints(p, "perm", &pv);
    if (n < 0) { /* default: reverse the axes */
        for (int k = 0; k < r; k++)
            perm[k] = r - 1 - k;
    } else {
        ONYX_CHECK(p, n == r, "perm has %lld entries for an input of rank %d",
                   (long long)n, r);
        int seen[ONYX_MAX_RANK] = {0};
        for (int k = 0; k < r; k++) {
            ONYX_CHECK(p, pv[k] >= 0 && pv[k] < r && !seen[pv[k]],
                       "perm is not a permutation of 0..%d (entry %d is %lld)",
                       r - 1, k, (long long)pv[k]);
            seen[pv[k]] = 1;
            perm[k] = pv[k];
        }
    }
    int64_t in_strides[ONYX_MAX_RANK], dims[ONYX_MAX_RANK];
    int64_t s = 1;
    for (int k = r - 1; k >= 0; k--) {
        in_strides[k] = s;
        s *= X->dims[k];
    }
    for (int k = 0; k < r; k++)
        dims[k] = X->dims[perm[k]];
    if (p->out[T_Y]) onyx_set_shape(p->out[T_Y], X->dtype, r, dims);
    /* moving only axes of size 1 keeps the bytes in order: a view */
    int64_t last = -1; /* the previous input axis of size > 1 */
    p->view = 1;
    for (int k = 0; k < r; k++) {
        if (X->dims[perm[k]] == 1) continue;
        if (perm[k] < last) p->view = 0;
        last = perm[k];
    }

    transpose_params *tp = calloc(1, sizeof *tp);
    if (!tp) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    for (int k = 0; k < r; k++) {
        tp->dims[k] = dims[k];
        tp->strides[k] = in_strides[perm[k]];
    }
    tp->rank = onyx_view_simplify(r, tp->dims, tp->strides);
    tp->esize = onyx_dtype_size(X->dtype);
    p->params = tp;
    return ONYX_OK;
}

static onyx_status transpose_eval(onyx_exec *e)
{
    const transpose_params *tp = e->params;
    if (!e->out[T_Y]) return ONYX_OK;
    onyx_view_copy(e->out[T_Y]->data, e->in[T_X]->data, tp->esize, tp->rank,
                   tp->dims, tp->strides);
    return ONYX_OK;
}

const onyx_op onyx_op_Transpose = {"Transpose", transpose_prepare,
                                   transpose_eval, 0, NULL};
