/* constant.c - ops that make a tensor out of attributes and scalars:
 * Constant, ConstantOfShape and Range. */
#include "onyx_kernel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Constant and ConstantOfShape only copy bytes, so they also make float16
 * and bfloat16 values (which the engine widens for the ops that read them:
 * see src/engine/half.c) */
static int is_data_type(onyx_dtype t)
{
    return t > 0 && t < 32 &&
           ((ONYX_DATA_DTYPES | ONYX_MASK(ONYX_FLOAT16) |
             ONYX_MASK(ONYX_BFLOAT16)) &
            ONYX_MASK(t));
}

/* params of Constant and ConstantOfShape: the bytes to write */
typedef struct {
    size_t bytes; /* Constant: the whole value; ConstantOfShape: one element */
    unsigned char data[];
} bytes_params;

static bytes_params *bytes_new(onyx_prep *p, const void *src, size_t bytes)
{
    bytes_params *bp = malloc(sizeof *bp + (bytes ? bytes : 1));
    if (!bp) return NULL;
    bp->bytes = bytes;
    if (bytes) memcpy(bp->data, src, bytes);
    p->params = bp;
    return bp;
}

/* ---- Constant ------------------------------------------------------------ */

static onyx_status constant_prepare(onyx_prep *p)
{
    static const char *const refused[] = {"value_string", "value_strings",
                                          "sparse_value"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        if (onyx_attr_get(p, refused[i]))
            return onyx_fail(p, ONYX_ERR_UNSUPPORTED,
                             "attribute %s is not supported", refused[i]);
    static const char *const names[] = {"value", "value_float", "value_floats",
                                        "value_int", "value_ints"};
    const onyx_attr *a = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const onyx_attr *b = onyx_attr_get(p, names[i]);
        ONYX_CHECK(p, !(a && b), "attributes %s and %s are both given",
                   a ? a->name : "", names[i]);
        if (b) a = b;
    }
    ONYX_CHECK(p, a != NULL,
               "needs one of the attributes value, value_float, "
               "value_floats, value_int, value_ints");

    onyx_dtype dt;
    int rank = 0;
    int64_t dims[ONYX_MAX_RANK];
    const void *src;
    size_t bytes;
    if (strcmp(a->name, "value") == 0) {
        ONYX_CHECK(p, a->type == ONYX_ATTR_TENSOR && a->t,
                   "attribute value is not a tensor");
        const onyx_tensor *t = a->t;
        if (!is_data_type(t->dtype))
            return onyx_fail(p, ONYX_ERR_UNSUPPORTED,
                             "value has dtype %s, which onyx does not take",
                             onyx_dtype_name(t->dtype));
        dt = t->dtype;
        rank = t->rank;
        for (int k = 0; k < rank; k++)
            dims[k] = t->dims[k];
        src = t->data;
        bytes = (size_t)onyx_numel(t) * onyx_dtype_size(dt);
        ONYX_CHECK(p, src || !bytes, "value has no data");
    } else if (strcmp(a->name, "value_float") == 0) {
        ONYX_CHECK(p, a->type == ONYX_ATTR_FLOAT, "value_float is not a float");
        dt = ONYX_FLOAT;
        src = &a->f;
        bytes = sizeof(float);
    } else if (strcmp(a->name, "value_int") == 0) {
        ONYX_CHECK(p, a->type == ONYX_ATTR_INT, "value_int is not an int");
        dt = ONYX_INT64;
        src = &a->i;
        bytes = sizeof(int64_t);
    } else if (strcmp(a->name, "value_floats") == 0) {
        ONYX_CHECK(p, a->type == ONYX_ATTR_FLOATS,
                   "value_floats is not floats");
        dt = ONYX_FLOAT;
        rank = 1;
        dims[0] = a->n;
        src = a->floats;
        bytes = (size_t)a->n * sizeof(float);
    } else {
        ONYX_CHECK(p, a->type == ONYX_ATTR_INTS, "value_ints is not ints");
        dt = ONYX_INT64;
        rank = 1;
        dims[0] = a->n;
        src = a->ints;
        bytes = (size_t)a->n * sizeof(int64_t);
    }
    if (p->out[0]) onyx_set_shape(p->out[0], dt, rank, dims);
    if (!bytes_new(p, src, bytes))
        return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    return ONYX_OK;
}

static onyx_status constant_eval(onyx_exec *e)
{
    const bytes_params *bp = e->params;
    if (e->out[0] && bp->bytes) memcpy(e->out[0]->data, bp->data, bp->bytes);
    return ONYX_OK;
}

const onyx_op onyx_op_Constant = {"Constant", constant_prepare, constant_eval,
                                  0, NULL};

/* ---- ConstantOfShape ----------------------------------------------------- */

static onyx_status cos_prepare(onyx_prep *p)
{
    ONYX_TRY(onyx_need_value(p, 0));
    ONYX_TRY(onyx_need_dtype(p, 0, ONYX_MASK(ONYX_INT64)));
    const onyx_tensor *S = p->in[0];
    ONYX_CHECK(p, S->rank == 1, "shape must be a 1-D tensor, not rank %d",
               S->rank);
    int64_t n = S->dims[0]; /* 0: a scalar */
    ONYX_CHECK(p, n <= ONYX_MAX_RANK, "shape has %lld entries, more than %d",
               (long long)n, ONYX_MAX_RANK);
    const int64_t *dims = S->data;
    for (int64_t i = 0; i < n; i++)
        ONYX_CHECK(p, dims[i] >= 0, "shape[%lld] is %lld", (long long)i,
                   (long long)dims[i]);

    static const float zero = 0.0f;
    onyx_dtype dt = ONYX_FLOAT;
    const void *src = &zero;
    const onyx_attr *a = onyx_attr_get(p, "value");
    if (a) {
        ONYX_CHECK(p, a->type == ONYX_ATTR_TENSOR && a->t,
                   "attribute value is not a tensor");
        const onyx_tensor *t = a->t;
        ONYX_CHECK(p, onyx_numel(t) == 1,
                   "value must have one element, not %lld",
                   (long long)onyx_numel(t));
        if (!is_data_type(t->dtype))
            return onyx_fail(p, ONYX_ERR_UNSUPPORTED,
                             "value has dtype %s, which onyx does not take",
                             onyx_dtype_name(t->dtype));
        ONYX_CHECK(p, t->data != NULL, "value has no data");
        dt = t->dtype;
        src = t->data;
    }
    if (p->out[0]) onyx_set_shape(p->out[0], dt, (int)n, dims);
    if (!bytes_new(p, src, onyx_dtype_size(dt)))
        return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    return ONYX_OK;
}

static onyx_status cos_eval(onyx_exec *e)
{
    const bytes_params *bp = e->params;
    onyx_tensor *Y = e->out[0];
    if (!Y) return ONYX_OK;
    int64_t n = onyx_numel(Y);
    unsigned char *y = Y->data;
    size_t es = bp->bytes;
    int all_zero = 1;
    for (size_t b = 0; b < es; b++)
        all_zero &= bp->data[b] == 0;
    if (all_zero) {
        memset(y, 0, (size_t)n * es);
        return ONYX_OK;
    }
    for (int64_t i = 0; i < n; i++)
        memcpy(y + i * (int64_t)es, bp->data, es);
    return ONYX_OK;
}

const onyx_op onyx_op_ConstantOfShape = {"ConstantOfShape", cos_prepare,
                                         cos_eval, 0, NULL};

/* ---- Range --------------------------------------------------------------- */

enum { RG_START = 0, RG_LIMIT, RG_DELTA };

#define RANGE_TYPES                                                            \
    (ONYX_MASK(ONYX_FLOAT) | ONYX_MASK(ONYX_INT64) | ONYX_MASK(ONYX_INT32))

static onyx_status range_prepare(onyx_prep *p)
{
    for (int i = RG_START; i <= RG_DELTA; i++) {
        ONYX_TRY(onyx_need_value(p, i)); /* limit decides the length */
        ONYX_TRY(onyx_need_dtype(p, i, RANGE_TYPES));
        ONYX_CHECK(p, onyx_numel(p->in[i]) == 1,
                   "input %d must be a scalar, it has %lld elements", i,
                   (long long)onyx_numel(p->in[i]));
        ONYX_CHECK(p, p->in[i]->dtype == p->in[RG_START]->dtype,
                   "input %d is %s, start is %s", i,
                   onyx_dtype_name(p->in[i]->dtype),
                   onyx_dtype_name(p->in[RG_START]->dtype));
    }
    onyx_dtype dt = p->in[RG_START]->dtype;
    int64_t n;
    if (dt == ONYX_FLOAT) {
        double start = onyx_get_double(p->in[RG_START], 0);
        double limit = onyx_get_double(p->in[RG_LIMIT], 0);
        double delta = onyx_get_double(p->in[RG_DELTA], 0);
        ONYX_CHECK(p,
                   delta != 0 && isfinite(start) && isfinite(limit) &&
                       isfinite(delta),
                   "start %g, limit %g, delta %g do not make a range", start,
                   limit, delta);
        double len = ceil((limit - start) / delta);
        ONYX_CHECK(p, len < 1e12, "range of %g elements is too long", len);
        n = len > 0 ? (int64_t)len : 0;
    } else {
        int64_t start = onyx_get_int(p->in[RG_START], 0);
        int64_t limit = onyx_get_int(p->in[RG_LIMIT], 0);
        int64_t delta = onyx_get_int(p->in[RG_DELTA], 0);
        ONYX_CHECK(p, delta != 0, "delta is 0");
        /* ceil((limit - start) / delta), in uint64: the span between two
         * int64 may not fit in an int64 */
        uint64_t span = 0, step = 1;
        if (delta > 0 && limit > start) {
            span = (uint64_t)limit - (uint64_t)start;
            step = (uint64_t)delta;
        } else if (delta < 0 && limit < start) {
            span = (uint64_t)start - (uint64_t)limit;
            step = 0 - (uint64_t)delta;
        }
        uint64_t len = span / step + (span % step != 0);
        ONYX_CHECK(p, len <= (uint64_t)INT64_MAX,
                   "range of %llu elements is too long",
                   (unsigned long long)len);
        n = (int64_t)len;
    }
    if (p->out[0]) onyx_set_shape(p->out[0], dt, 1, &n);
    return ONYX_OK;
}

/* out[i] = start + i * delta, in the inputs' type */
static onyx_status range_eval(onyx_exec *e)
{
    onyx_tensor *Y = e->out[0];
    if (!Y) return ONYX_OK;
    int64_t n = Y->dims[0];
    const onyx_tensor *S = e->in[RG_START], *D = e->in[RG_DELTA];
    switch (Y->dtype) {
    case ONYX_FLOAT: {
        float start = *(const float *)S->data, delta = *(const float *)D->data;
        float *y = Y->data;
        for (int64_t i = 0; i < n; i++)
            y[i] = start + (float)i * delta;
        break;
    }
    case ONYX_INT64: {
        int64_t start = *(const int64_t *)S->data;
        int64_t delta = *(const int64_t *)D->data;
        int64_t *y = Y->data;
        /* in uint64: exact, as every value lies between start and limit,
         * and no intermediate product overflows */
        for (int64_t i = 0; i < n; i++)
            y[i] = (int64_t)((uint64_t)start + (uint64_t)i * (uint64_t)delta);
        break;
    }
    default: {
        int32_t start = *(const int32_t *)S->data;
        int32_t delta = *(const int32_t *)D->data;
        int32_t *y = Y->data;
        for (int64_t i = 0; i < n; i++)
            y[i] = (int32_t)(start + i * delta);
        break;
    }
    }
    return ONYX_OK;
}

const onyx_op onyx_op_Range = {"Range", range_prepare, range_eval, 0, NULL};
