/* gather_nd.c - GatherND: slices of data picked by tuples of indices, the
 * first batch_dims axes shared by data and indices.
 *
 * data (B.., D0..Dk-1, S..) and indices (B.., N.., k) give
 * Y (B.., N.., S..): Y[b, n, :] = data[b, I[b, n, 0], .., I[b, n, k-1], :]. */
#include "onyx_kernel.h"

#include <stdlib.h>
#include <string.h>

enum { GN_DATA = 0, GN_INDICES = 1, GN_Y = 0 };

static const char index_error[] = "index out of range";

typedef struct {
    int k;
    int64_t batch, n_tuples, slice; /* slice in elements */
    int64_t batch_stride;           /* elements of data per batch */
    int64_t dims[ONYX_MAX_RANK];    /* data's indexed axes */
    int64_t strides[ONYX_MAX_RANK]; /* and their strides, elements */
    size_t esize;
} gather_nd_params;

static onyx_status gather_nd_prepare(onyx_prep *p)
{
    ONYX_TRY(onyx_need_dtype(
        p, GN_DATA,
        ONYX_DATA_DTYPES | ONYX_MASK(ONYX_DOUBLE) | ONYX_MASK(ONYX_INT8) |
            ONYX_MASK(ONYX_UINT8) | ONYX_MASK(ONYX_INT16) |
            ONYX_MASK(ONYX_UINT16) | ONYX_MASK(ONYX_UINT32) |
            ONYX_MASK(ONYX_UINT64) | ONYX_MASK(ONYX_FLOAT16) |
            ONYX_MASK(ONYX_BFLOAT16)));
    ONYX_TRY(onyx_need_dtype(p, GN_INDICES,
                             ONYX_MASK(ONYX_INT64) | ONYX_MASK(ONYX_INT32)));
    const onyx_tensor *X = p->in[GN_DATA], *I = p->in[GN_INDICES];
    char a[96], b[96];
    int64_t bd = onyx_attr_int(p, "batch_dims", 0);
    ONYX_CHECK(p, X->rank >= 1 && I->rank >= 1,
               "data and indices must have rank >= 1");
    ONYX_CHECK(p, bd >= 0 && bd < X->rank && bd < I->rank,
               "batch_dims %lld must be below the ranks of data (%d) and "
               "indices (%d)",
               (long long)bd, X->rank, I->rank);
    for (int d = 0; d < bd; d++)
        ONYX_CHECK(p, X->dims[d] == I->dims[d],
                   "data %s and indices %s differ on batch axis %d",
                   onyx_shape_str(X, a, sizeof a),
                   onyx_shape_str(I, b, sizeof b), d);
    int64_t k = I->dims[I->rank - 1];
    ONYX_CHECK(p, k >= 1 && k <= X->rank - bd,
               "indices %s: the last axis must be 1 to %lld for data %s",
               onyx_shape_str(I, a, sizeof a), (long long)(X->rank - bd),
               onyx_shape_str(X, b, sizeof b));
    int r = I->rank - 1 + X->rank - (int)(bd + k);
    ONYX_CHECK(p, r <= ONYX_MAX_RANK, "output rank %d is more than %d", r,
               ONYX_MAX_RANK);
    int64_t dims[ONYX_MAX_RANK];
    int j = 0;
    for (int d = 0; d < I->rank - 1; d++)
        dims[j++] = I->dims[d];
    for (int d = (int)(bd + k); d < X->rank; d++)
        dims[j++] = X->dims[d];
    if (p->out[GN_Y]) onyx_set_shape(p->out[GN_Y], X->dtype, r, dims);

    gather_nd_params *gp = calloc(1, sizeof *gp);
    if (!gp) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    gp->k = (int)k;
    gp->esize = onyx_dtype_size(X->dtype);
    gp->batch = gp->n_tuples = gp->slice = gp->batch_stride = 1;
    for (int d = 0; d < bd; d++)
        gp->batch *= X->dims[d];
    for (int d = (int)bd; d < I->rank - 1; d++)
        gp->n_tuples *= I->dims[d];
    int64_t s = 1;
    for (int d = X->rank - 1; d >= bd; d--) {
        if (d >= bd + k)
            gp->slice *= X->dims[d];
        else {
            gp->dims[d - bd] = X->dims[d];
            gp->strides[d - bd] = s;
        }
        s *= X->dims[d];
    }
    gp->batch_stride = s;
    p->params = gp;
    return ONYX_OK;
}

static onyx_status gather_nd_eval(onyx_exec *e)
{
    const gather_nd_params *gp = e->params;
    onyx_tensor *Y = e->out[GN_Y];
    if (!Y) return ONYX_OK;
    const onyx_tensor *I = e->in[GN_INDICES];
    const char *x = e->in[GN_DATA]->data;
    char *y = Y->data;
    int64_t cb = gp->slice * (int64_t)gp->esize; /* bytes per slice */
    for (int64_t bi = 0; bi < gp->batch; bi++)
        for (int64_t t = 0; t < gp->n_tuples; t++) {
            int64_t j = bi * gp->n_tuples + t, off = bi * gp->batch_stride;
            for (int d = 0; d < gp->k; d++) {
                int64_t i = I->dtype == ONYX_INT64
                                ? ((const int64_t *)I->data)[j * gp->k + d]
                                : ((const int32_t *)I->data)[j * gp->k + d];
                if (i < 0) i += gp->dims[d];
                if (i < 0 || i >= gp->dims[d]) {
                    e->err = index_error;
                    return ONYX_ERR_RUNTIME;
                }
                off += i * gp->strides[d];
            }
            memcpy(y + j * cb, x + off * (int64_t)gp->esize, (size_t)cb);
        }
    return ONYX_OK;
}

const onyx_op onyx_op_GatherND = {"GatherND", gather_nd_prepare, gather_nd_eval,
                                  0, NULL};
