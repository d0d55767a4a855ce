/* maxunpool.c - MaxUnpool: the inverse of MaxPool with indices. Y is zeros
 * except Y.flat[I[j]] = X[j], I holding flat indices into the whole of Y as
 * MaxPool's Indices output gives them. Y's spatial dims are
 * (in - 1) * stride + kernel - pad_begin - pad_end, or the output_shape
 * input, which must then be known when the model is resolved. The indices
 * always count in the first shape: with output_shape, an element keeps its
 * coordinates, so Y is the unpooled tensor cut or padded with zeros at the
 * end of each axis (as ONNX's tests have it). */
#include "onyx_kernel.h"

#include <stdlib.h>
#include <string.h>

enum { MU_X = 0, MU_I = 1, MU_SHAPE = 2, MU_Y = 0 };

static const char index_error[] = "index out of range";

typedef struct {
    int rank;
    size_t esize;
    int64_t pooled[ONYX_MAX_RANK]; /* the shape the indices count in */
    int64_t out[ONYX_MAX_RANK];    /* Y's */
} maxunpool_params;

static onyx_status maxunpool_prepare(onyx_prep *p)
{
    ONYX_TRY(onyx_need_input(p, MU_X));
    ONYX_TRY(onyx_need_dtype(p, MU_I, ONYX_MASK(ONYX_INT64)));
    const onyx_tensor *X = p->in[MU_X], *I = p->in[MU_I];
    char a[96], b[96];
    ONYX_CHECK(p, onyx_dtype_size(X->dtype) > 0,
               "X has dtype %s, which this op does not take",
               onyx_dtype_name(X->dtype));
    ONYX_CHECK(p, X->rank >= 3, "X %s must be (N, C, D1, ...)",
               onyx_shape_str(X, a, sizeof a));
    ONYX_CHECK(p, onyx_same_shape(X, I), "I %s must have X's shape %s",
               onyx_shape_str(I, a, sizeof a), onyx_shape_str(X, b, sizeof b));
    int ns = X->rank - 2;
    const int64_t *ks, *st = NULL, *pads = NULL;
    ONYX_CHECK(p, onyx_attr_ints(p, "kernel_shape", &ks) == ns,
               "kernel_shape must have one entry per spatial axis (%d)", ns);
    int64_t n_st = onyx_attr_ints(p, "strides", &st);
    int64_t n_pads = onyx_attr_ints(p, "pads", &pads);
    ONYX_CHECK(p, n_st < 0 || n_st == ns, "strides must have %d entries", ns);
    ONYX_CHECK(p, n_pads < 0 || n_pads == 2 * ns, "pads must have %d entries",
               2 * ns);
    int64_t dims[ONYX_MAX_RANK];
    dims[0] = X->dims[0];
    dims[1] = X->dims[1];
    for (int d = 0; d < ns; d++) {
        int64_t s = n_st < 0 ? 1 : st[d];
        int64_t pb = n_pads < 0 ? 0 : pads[d],
                pe = n_pads < 0 ? 0 : pads[ns + d];
        ONYX_CHECK(p,
                   ks[d] >= 1 && ks[d] < (1 << 30) && s >= 1 && s < (1 << 30) &&
                       pb >= 0 && pe >= 0 && pb < (1 << 30) && pe < (1 << 30),
                   "kernel_shape, strides and pads of axis %d are out of "
                   "range",
                   d);
        int64_t span = onyx_size_mul(X->dims[2 + d] - 1, s);
        ONYX_CHECK(p, span >= 0 && span < ((int64_t)1 << 60),
                   "X %s is empty or too large",
                   onyx_shape_str(X, a, sizeof a));
        dims[2 + d] = span + ks[d] - pb - pe;
        ONYX_CHECK(p, dims[2 + d] >= 0, "spatial axis %d has negative size", d);
    }
    maxunpool_params *mp = calloc(1, sizeof *mp);
    if (!mp) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    p->params = mp;
    mp->rank = X->rank;
    mp->esize = onyx_dtype_size(X->dtype);
    memcpy(mp->pooled, dims, sizeof dims);
    if (p->n_in > MU_SHAPE && p->in[MU_SHAPE]) {
        ONYX_TRY(onyx_need_dtype(p, MU_SHAPE, ONYX_MASK(ONYX_INT64)));
        const onyx_tensor *S = p->in[MU_SHAPE];
        if (!S->data)
            return onyx_fail(p, ONYX_ERR_UNSUPPORTED,
                             "output_shape must be known when the model is "
                             "resolved: the output shape depends on it");
        ONYX_CHECK(p, onyx_numel(S) == X->rank,
                   "output_shape has %lld entries for X of rank %d",
                   (long long)onyx_numel(S), X->rank);
        const int64_t *s = S->data;
        for (int d = 0; d < X->rank; d++) {
            ONYX_CHECK(p, s[d] >= 0, "output_shape has a negative entry");
            ONYX_CHECK(p, d >= 2 || s[d] == X->dims[d],
                       "output_shape must keep N and C of X");
            dims[d] = s[d];
        }
    }
    memcpy(mp->out, dims, sizeof dims);
    if (p->out[MU_Y]) onyx_set_shape(p->out[MU_Y], X->dtype, X->rank, dims);
    return ONYX_OK;
}

static onyx_status maxunpool_eval(onyx_exec *e)
{
    const maxunpool_params *mp = e->params;
    onyx_tensor *Y = e->out[MU_Y];
    if (!Y) return ONYX_OK;
    const onyx_tensor *X = e->in[MU_X];
    const int64_t *ix = e->in[MU_I]->data;
    int64_t es = (int64_t)mp->esize, ny = onyx_numel(Y), nx = onyx_numel(X);
    char *y = Y->data;
    const char *x = X->data;
    memset(y, 0, (size_t)(ny * es));
    for (int64_t j = 0; j < nx; j++) {
        /* coordinates of ix[j] in the pooled shape, re-counted in Y's */
        int64_t i = ix[j], off = 0, scale = 1;
        for (int d = mp->rank - 1; d >= 0 && i >= 0; d--) {
            int64_t c = mp->pooled[d] ? i % mp->pooled[d] : 0;
            i = mp->pooled[d] ? i / mp->pooled[d] : -1;
            if (c >= mp->out[d]) i = -1;
            off += c * scale;
            scale *= mp->out[d];
        }
        if (i != 0) {
            e->err = index_error;
            return ONYX_ERR_RUNTIME;
        }
        memcpy(y + off * es, x + j * es, (size_t)es);
    }
    return ONYX_OK;
}

const onyx_op onyx_op_MaxUnpool = {"MaxUnpool", maxunpool_prepare,
                                   maxunpool_eval, 0, NULL};
