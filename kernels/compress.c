/* compress.c - Compress and NonZero: the ops whose output length is the
 * number of true (nonzero) elements in their input's data.
 *
 * That count shapes the output, so prepare reads it from the data, which
 * must be known when the model is resolved (a constant, or a value the
 * caller bound); eval counts again and fails if the count has changed. */
#include "onyx_kernel.h"

#include <stdlib.h>
#include <string.h>

static const char count_error[] =
    "the number of nonzero elements changed since the model was resolved";

static onyx_status need_data(onyx_prep *p, int i, const char *what)
{
    ONYX_TRY(onyx_need_input(p, i));
    if (!p->in[i]->data)
        return onyx_fail(p, ONYX_ERR_UNSUPPORTED,
                         "%s must be known when the model is resolved: the "
                         "output shape depends on its data",
                         what);
    return ONYX_OK;
}

/* Is element k of t nonzero? (-0.0 is zero) */
static int is_nonzero(const onyx_tensor *t, int64_t k)
{
    const char *x = t->data;
    switch (t->dtype) {
    case ONYX_FLOAT: return ((const float *)x)[k] != 0;
    case ONYX_DOUBLE: return ((const double *)x)[k] != 0;
    case ONYX_FLOAT16:
    case ONYX_BFLOAT16: {
        uint16_t h;
        memcpy(&h, x + 2 * k, 2);
        return (h & 0x7fff) != 0;
    }
    default: {
        size_t es = onyx_dtype_size(t->dtype);
        for (size_t j = 0; j < es; j++)
            if (x[(size_t)k * es + j]) return 1;
        return 0;
    }
    }
}

/* ---- Compress ------------------------------------------------------------ */

enum { C_INPUT = 0, C_COND = 1, C_OUT = 0 };

/* input seen as (outer, axis_len, inner); without an axis, flattened */
typedef struct {
    int64_t outer, len, inner, count;
    size_t esize;
} compress_params;

static int64_t count_true(const onyx_tensor *C, int64_t n)
{
    int64_t c = 0;
    for (int64_t k = 0; k < n; k++)
        c += ((const uint8_t *)C->data)[k] != 0;
    return c;
}

static onyx_status compress_prepare(onyx_prep *p)
{
    ONYX_TRY(onyx_need_input(p, C_INPUT));
    ONYX_TRY(onyx_need_dtype(p, C_COND, ONYX_MASK(ONYX_BOOL)));
    const onyx_tensor *X = p->in[C_INPUT], *C = p->in[C_COND];
    char a[96];
    ONYX_CHECK(p, onyx_dtype_size(X->dtype) > 0,
               "input has dtype %s, which this op does not take",
               onyx_dtype_name(X->dtype));
    ONYX_CHECK(p, C->rank == 1, "condition %s must be 1-D",
               onyx_shape_str(C, a, sizeof a));
    ONYX_TRY(need_data(p, C_COND, "condition"));
    compress_params cp = {1, onyx_numel(X), 1, 0, onyx_dtype_size(X->dtype)};
    int64_t dims[ONYX_MAX_RANK];
    int rank = 1, axis = -1;
    if (onyx_attr_get(p, "axis")) {
        ONYX_TRY(onyx_axis(p, onyx_attr_int(p, "axis", 0), X->rank, 0, &axis));
        cp.len = X->dims[axis];
        for (int d = 0; d < X->rank; d++) {
            if (d < axis) cp.outer *= X->dims[d];
            if (d > axis) cp.inner *= X->dims[d];
            dims[d] = X->dims[d];
        }
        rank = X->rank;
    }
    ONYX_CHECK(p, C->dims[0] <= cp.len,
               "condition has %lld entries for %lld slices",
               (long long)C->dims[0], (long long)cp.len);
    cp.count = count_true(C, C->dims[0]);
    dims[axis < 0 ? 0 : axis] = cp.count;
    compress_params *pp = malloc(sizeof *pp);
    if (!pp) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    *pp = cp;
    p->params = pp;
    if (p->out[C_OUT]) onyx_set_shape(p->out[C_OUT], X->dtype, rank, dims);
    return ONYX_OK;
}

static onyx_status compress_eval(onyx_exec *e)
{
    const compress_params *cp = e->params;
    const onyx_tensor *C = e->in[C_COND];
    if (count_true(C, C->dims[0]) != cp->count) {
        e->err = count_error;
        return ONYX_ERR_RUNTIME;
    }
    if (!e->out[C_OUT]) return ONYX_OK;
    const uint8_t *c = C->data;
    const char *x = e->in[C_INPUT]->data;
    char *y = e->out[C_OUT]->data;
    int64_t chunk = cp->inner * (int64_t)cp->esize;
    for (int64_t o = 0; o < cp->outer; o++)
        for (int64_t i = 0; i < C->dims[0]; i++) {
            if (!c[i]) continue;
            memcpy(y, x + (o * cp->len + i) * chunk, (size_t)chunk);
            y += chunk;
        }
    return ONYX_OK;
}

const onyx_op onyx_op_Compress = {"Compress", compress_prepare, compress_eval,
                                  0, NULL};

/* ---- NonZero ------------------------------------------------------------- */

enum { NZ_X = 0, NZ_Y = 0 };

/* Y (rank, count): column j holds the coordinates of the j-th nonzero
 * element of X in C order (a scalar counts as shape [1]). */
typedef struct {
    int rank;
    int64_t count;
    int64_t dims[ONYX_MAX_RANK];
} nonzero_params;

static int64_t count_nonzero(const onyx_tensor *X)
{
    int64_t n = onyx_numel(X), c = 0;
    for (int64_t k = 0; k < n; k++)
        c += is_nonzero(X, k);
    return c;
}

static onyx_status nonzero_prepare(onyx_prep *p)
{
    ONYX_TRY(onyx_need_input(p, NZ_X));
    const onyx_tensor *X = p->in[NZ_X];
    ONYX_CHECK(p, onyx_dtype_size(X->dtype) > 0,
               "input has dtype %s, which this op does not take",
               onyx_dtype_name(X->dtype));
    ONYX_TRY(need_data(p, NZ_X, "the input"));
    nonzero_params *np = calloc(1, sizeof *np);
    if (!np) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    np->rank = X->rank ? X->rank : 1;
    np->dims[0] = 1;
    for (int d = 0; d < X->rank; d++)
        np->dims[d] = X->dims[d];
    np->count = count_nonzero(X);
    p->params = np;
    int64_t dims[2] = {np->rank, np->count};
    if (p->out[NZ_Y]) onyx_set_shape(p->out[NZ_Y], ONYX_INT64, 2, dims);
    return ONYX_OK;
}

static onyx_status nonzero_eval(onyx_exec *e)
{
    const nonzero_params *np = e->params;
    const onyx_tensor *X = e->in[NZ_X];
    if (count_nonzero(X) != np->count) {
        e->err = count_error;
        return ONYX_ERR_RUNTIME;
    }
    if (!e->out[NZ_Y]) return ONYX_OK;
    int64_t *y = e->out[NZ_Y]->data;
    int64_t n = onyx_numel(X), idx[ONYX_MAX_RANK] = {0}, j = 0;
    for (int64_t k = 0; k < n; k++) {
        if (is_nonzero(X, k)) {
            for (int d = 0; d < np->rank; d++)
                y[d * np->count + j] = idx[d];
            j++;
        }
        for (int d = np->rank - 1; d >= 0; d--) {
            if (++idx[d] < np->dims[d]) break;
            idx[d] = 0;
        }
    }
    return ONYX_OK;
}

const onyx_op onyx_op_NonZero = {"NonZero", nonzero_prepare, nonzero_eval, 0,
                                 NULL};
