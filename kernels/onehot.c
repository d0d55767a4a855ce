/* onehot.c - OneHot: each index becomes a row of `depth` off values with an
 * on value at the index, along a new axis.
 *
 * indices (O.., I..) with the new axis between O and I give
 * Y (O.., depth, I..) = values[1] where the index (negative ones counted
 * from depth) equals the position on the new axis, values[0] elsewhere;
 * indices outside [-depth, depth-1] give a row of off values. depth shapes
 * Y, so it must be known when the model is resolved. */
#include "onyx_kernel.h"

#include <stdlib.h>
#include <string.h>

enum { OH_INDICES = 0, OH_DEPTH = 1, OH_VALUES = 2, OH_Y = 0 };

#define NUMBER_TYPES                                                           \
    (ONYX_MASK(ONYX_FLOAT) | ONYX_MASK(ONYX_DOUBLE) | ONYX_MASK(ONYX_INT64) |  \
     ONYX_MASK(ONYX_INT32) | ONYX_MASK(ONYX_INT8) | ONYX_MASK(ONYX_UINT8))

static const char depth_error[] =
    "OneHot: depth changed since the model was resolved";

typedef struct {
    int64_t outer, depth, inner;
    size_t esize;
} onehot_params;

static onyx_status onehot_prepare(onyx_prep *p)
{
    ONYX_TRY(onyx_need_dtype(p, OH_INDICES, NUMBER_TYPES));
    ONYX_TRY(onyx_need_dtype(p, OH_DEPTH, NUMBER_TYPES));
    ONYX_TRY(onyx_need_input(p, OH_VALUES));
    const onyx_tensor *I = p->in[OH_INDICES], *D = p->in[OH_DEPTH],
                      *V = p->in[OH_VALUES];
    ONYX_CHECK(p, onyx_dtype_size(V->dtype) > 0,
               "values have dtype %s, which this op does not take",
               onyx_dtype_name(V->dtype));
    ONYX_CHECK(p, onyx_numel(V) == 2,
               "values must hold [off, on], it has %lld elements",
               (long long)onyx_numel(V));
    ONYX_CHECK(p, onyx_numel(D) == 1, "depth must hold one value, not %lld",
               (long long)onyx_numel(D));
    if (!D->data)
        return onyx_fail(p, ONYX_ERR_UNSUPPORTED,
                         "depth must be known when the model is resolved: "
                         "the output shape depends on its value");
    int64_t depth = onyx_get_int(D, 0);
    ONYX_CHECK(p, depth >= 1, "depth is %lld, it must be >= 1",
               (long long)depth);
    ONYX_CHECK(p, I->rank < ONYX_MAX_RANK, "indices have rank %d, above %d",
               I->rank, ONYX_MAX_RANK - 1);
    int axis;
    ONYX_TRY(onyx_axis(p, onyx_attr_int(p, "axis", -1), I->rank, 1, &axis));

    onehot_params *op = calloc(1, sizeof *op);
    if (!op) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    int64_t dims[ONYX_MAX_RANK];
    op->outer = op->inner = 1;
    op->depth = depth;
    op->esize = onyx_dtype_size(V->dtype);
    for (int d = 0, j = 0; d <= I->rank; d++) {
        if (d == axis) {
            dims[d] = depth;
            continue;
        }
        dims[d] = I->dims[j];
        if (d < axis)
            op->outer *= I->dims[j];
        else
            op->inner *= I->dims[j];
        j++;
    }
    p->params = op;
    if (p->out[OH_Y]) onyx_set_shape(p->out[OH_Y], V->dtype, I->rank + 1, dims);
    return ONYX_OK;
}

static onyx_status onehot_eval(onyx_exec *e)
{
    const onehot_params *op = e->params;
    onyx_tensor *Y = e->out[OH_Y];
    if (!Y) return ONYX_OK;
    if (onyx_get_int(e->in[OH_DEPTH], 0) != op->depth) {
        e->err = depth_error;
        return ONYX_ERR_RUNTIME;
    }
    const onyx_tensor *I = e->in[OH_INDICES];
    const char *off = e->in[OH_VALUES]->data;
    const char *on = off + op->esize;
    char *y = Y->data;
    size_t es = op->esize;
    int64_t depth = op->depth, inner = op->inner, n_y = onyx_numel(Y);
    for (int64_t j = 0; j < n_y; j++)
        memcpy(y + j * (int64_t)es, off, es);
    for (int64_t o = 0; o < op->outer; o++)
        for (int64_t c = 0; c < inner; c++) {
            /* float indices truncate toward zero, as a cast does */
            int64_t i = onyx_get_int(I, o * inner + c);
            if (i < 0 && i >= -depth) i += depth;
            if (i < 0 || i >= depth) continue;
            memcpy(y + ((o * depth + i) * inner + c) * (int64_t)es, on, es);
        }
    return ONYX_OK;
}

const onyx_op onyx_op_OneHot = {"OneHot", onehot_prepare, onehot_eval, 0, NULL};
