/* reverse_sequence.c - ReverseSequence: the first seq_len[b] steps of each
 * batch entry reversed along the time axis, the rest copied.
 *
 * X is (T, B, ...) (time_axis 0) or (B, T, ...) (time_axis 1);
 * Y[t, b] = X[seq_len[b] - 1 - t, b] for t < seq_len[b], else X[t, b]. */
#include "onyx_kernel.h"

#include <stdlib.h>
#include <string.h>

enum { RS_X = 0, RS_LENS = 1, RS_Y = 0 };

static const char len_error[] = "sequence_lens holds a length out of range";

typedef struct {
    int time_axis;
    int64_t steps, batch, inner; /* inner: elements per (t, b) */
    size_t esize;
} rev_params;

static onyx_status rev_prepare(onyx_prep *p)
{
    ONYX_TRY(onyx_need_input(p, RS_X));
    ONYX_TRY(onyx_need_dtype(p, RS_LENS,
                             ONYX_MASK(ONYX_INT64) | ONYX_MASK(ONYX_INT32)));
    const onyx_tensor *X = p->in[RS_X], *L = p->in[RS_LENS];
    char a[96], b[96];
    ONYX_CHECK(p, onyx_dtype_size(X->dtype) > 0,
               "input has dtype %s, which this op does not take",
               onyx_dtype_name(X->dtype));
    ONYX_CHECK(p, X->rank >= 2, "input %s must have rank >= 2",
               onyx_shape_str(X, a, sizeof a));
    int64_t ta = onyx_attr_int(p, "time_axis", 0);
    int64_t ba = onyx_attr_int(p, "batch_axis", 1);
    ONYX_CHECK(p, (ta == 0 && ba == 1) || (ta == 1 && ba == 0),
               "time_axis %lld and batch_axis %lld must be 0 and 1",
               (long long)ta, (long long)ba);
    ONYX_CHECK(p, L->rank == 1 && L->dims[0] == X->dims[ba],
               "sequence_lens %s must be 1-D, one length per batch entry "
               "of input %s",
               onyx_shape_str(L, a, sizeof a), onyx_shape_str(X, b, sizeof b));
    rev_params *rp = calloc(1, sizeof *rp);
    if (!rp) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    rp->time_axis = (int)ta;
    rp->steps = X->dims[ta];
    rp->batch = X->dims[ba];
    rp->inner = 1;
    for (int d = 2; d < X->rank; d++)
        rp->inner *= X->dims[d];
    rp->esize = onyx_dtype_size(X->dtype);
    p->params = rp;
    if (p->out[RS_Y]) onyx_set_shape(p->out[RS_Y], X->dtype, X->rank, X->dims);
    return ONYX_OK;
}

static onyx_status rev_eval(onyx_exec *e)
{
    const rev_params *rp = e->params;
    onyx_tensor *Y = e->out[RS_Y];
    if (!Y) return ONYX_OK;
    const onyx_tensor *L = e->in[RS_LENS];
    const char *x = e->in[RS_X]->data;
    char *y = Y->data;
    int64_t chunk = rp->inner * (int64_t)rp->esize; /* bytes per (t, b) */
    for (int64_t b = 0; b < rp->batch; b++) {
        int64_t len = onyx_get_int(L, b);
        if (len < 0 || len > rp->steps) {
            e->err = len_error;
            return ONYX_ERR_RUNTIME;
        }
        for (int64_t t = 0; t < rp->steps; t++) {
            int64_t src = t < len ? len - 1 - t : t;
            int64_t yo =
                rp->time_axis == 0 ? t * rp->batch + b : b * rp->steps + t;
            int64_t xo =
                rp->time_axis == 0 ? src * rp->batch + b : b * rp->steps + src;
            memcpy(y + yo * chunk, x + xo * chunk, (size_t)chunk);
        }
    }
    return ONYX_OK;
}

const onyx_op onyx_op_ReverseSequence = {"ReverseSequence", rev_prepare,
                                         rev_eval, 0, NULL};
