/* cast.c - Cast between float32, float64, int32, int64, int8, uint8 and bool.
 * Float to integer truncates toward zero (C semantics); anything to bool is
 * x != 0; integers narrow by wrapping, as numpy does. */
#include "onyx_kernel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* y (n,) = cast(x (n,)) */
typedef void (*cast_fn)(void *y, const void *x, int64_t n);

/* clang-format off */
/* value v (of any source type) as the integer the target keeps */
#define AS_INT(v)                                                              \
    _Generic((v), float: onyx_f2i((double)(v)),                               \
             double: onyx_f2i((double)(v)), default: (int64_t)(v))

#define CONV_F32(v) ((float)(v))
#define CONV_F64(v) ((double)(v))
#define CONV_I32(v) ((int32_t)(uint32_t)(uint64_t)AS_INT(v))
#define CONV_I64(v) AS_INT(v)
#define CONV_I8(v) ((int8_t)(uint8_t)(uint64_t)AS_INT(v))
#define CONV_U8(v) ((uint8_t)(uint64_t)AS_INT(v))
#define CONV_BOOL(v) ((uint8_t)((v) != 0))
/* clang-format on */

/* The dtypes Cast handles: (ONNX enum, C type, short name). */
#define CAST_TYPES(X)                                                          \
    X(ONYX_FLOAT, float, F32)                                                  \
    X(ONYX_DOUBLE, double, F64)                                                \
    X(ONYX_INT32, int32_t, I32)                                                \
    X(ONYX_INT64, int64_t, I64)                                                \
    X(ONYX_INT8, int8_t, I8)                                                   \
    X(ONYX_UINT8, uint8_t, U8)                                                 \
    X(ONYX_BOOL, uint8_t, BOOL)

/* cast_<FROM>_<TO> for every pair */
#define CAST_FN(TI, ni, TO, no)                                                \
    static void cast_##ni##_##no(void *yv, const void *xv, int64_t n)          \
    {                                                                          \
        TO *y = yv;                                                            \
        const TI *x = xv;                                                      \
        for (int64_t i = 0; i < n; i++)                                        \
            y[i] = CONV_##no(x[i]);                                            \
    }
#define CAST_FROM(ei, TI, ni)                                                  \
    CAST_FN(TI, ni, float, F32)                                                \
    CAST_FN(TI, ni, double, F64)                                               \
    CAST_FN(TI, ni, int32_t, I32)                                              \
    CAST_FN(TI, ni, int64_t, I64)                                              \
    CAST_FN(TI, ni, int8_t, I8)                                                \
    CAST_FN(TI, ni, uint8_t, U8)                                               \
    CAST_FN(TI, ni, uint8_t, BOOL)
CAST_TYPES(CAST_FROM)

/* the function for (from, to), or NULL when either is not a Cast dtype */
static cast_fn cast_pick(onyx_dtype from, onyx_dtype to)
{
#define CAST_TO_CASE(ni)                                                       \
    switch (to) {                                                              \
    case ONYX_FLOAT: return cast_##ni##_F32;                                   \
    case ONYX_DOUBLE: return cast_##ni##_F64;                                  \
    case ONYX_INT32: return cast_##ni##_I32;                                   \
    case ONYX_INT64: return cast_##ni##_I64;                                   \
    case ONYX_INT8: return cast_##ni##_I8;                                     \
    case ONYX_UINT8: return cast_##ni##_U8;                                    \
    case ONYX_BOOL: return cast_##ni##_BOOL;                                   \
    default: return NULL;                                                      \
    }
#define CAST_FROM_CASE(ei, TI, ni)                                             \
    case ei: CAST_TO_CASE(ni)
    switch (from) {
        CAST_TYPES(CAST_FROM_CASE)
    default: return NULL;
    }
#undef CAST_FROM_CASE
#undef CAST_TO_CASE
}

typedef struct {
    cast_fn fn; /* NULL: same dtype, a copy */
    size_t esize;
} cast_params;

static int cast_dtype_ok(onyx_dtype t)
{
    return cast_pick(t, ONYX_FLOAT) != NULL;
}

static onyx_status cast_prepare(onyx_prep *p)
{
    ONYX_CHECK(p, p->n_in == 1, "Cast takes one input, got %d", p->n_in);
    ONYX_TRY(onyx_need_input(p, 0));
    const onyx_tensor *X = p->in[0];
    const onyx_attr *at = onyx_attr_get(p, "to");
    ONYX_CHECK(p, at != NULL, "attribute 'to' is required");
    ONYX_CHECK(p, at->type == ONYX_ATTR_INT,
               "attribute 'to' must be an int (a TensorProto dtype)");
    onyx_dtype to = (onyx_dtype)at->i;
    if (!cast_dtype_ok(X->dtype))
        return onyx_fail(p, ONYX_ERR_UNSUPPORTED,
                         "Cast from %s is not supported (float32, float64, "
                         "int32, int64, int8, uint8, bool are)",
                         onyx_dtype_name(X->dtype));
    if (at->i < 0 || at->i > 31 || !cast_dtype_ok(to))
        return onyx_fail(p, ONYX_ERR_UNSUPPORTED,
                         "Cast to %s (%lld) is not supported (float32, "
                         "float64, int32, int64, int8, uint8, bool are)",
                         onyx_dtype_name(to), (long long)at->i);

    cast_params *c = calloc(1, sizeof *c);
    if (!c) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    p->params = c;
    c->fn = X->dtype == to ? NULL : cast_pick(X->dtype, to);
    c->esize = onyx_dtype_size(to);
    if (p->n_out >= 1 && p->out[0])
        onyx_set_shape(p->out[0], to, X->rank, X->dims);
    return ONYX_OK;
}

static onyx_status cast_eval(onyx_exec *e)
{
    const cast_params *c = e->params;
    const onyx_tensor *X = e->in[0];
    onyx_tensor *Y = e->out[0];
    if (!Y) return ONYX_OK;
    int64_t n = onyx_numel(X);
    if (c->fn)
        c->fn(Y->data, X->data, n);
    else if (Y->data != X->data && n)
        memcpy(Y->data, X->data, (size_t)n * c->esize);
    return ONYX_OK;
}

const onyx_op onyx_op_Cast = {"Cast", cast_prepare, cast_eval};
