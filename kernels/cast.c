/* cast.c - Cast and CastLike between float32, float64, float16, bfloat16,
 * the integer types and bool. Float to integer truncates toward zero (C
 * semantics); anything to bool is x != 0; integers narrow by wrapping, as
 * numpy does; narrowing to float16 and bfloat16 rounds to nearest even
 * (kernel_util.c). A float16/bfloat16 value is read through float32 (exact)
 * and written from float32 (a float64 is rounded to float32 first). */
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
#define CONV_F16(v) onyx_f32_to_f16((float)(v))
#define CONV_BF16(v) onyx_f32_to_bf16((float)(v))
#define CONV_I16(v) ((int16_t)(uint16_t)(uint64_t)AS_INT(v))
#define CONV_U16(v) ((uint16_t)(uint64_t)AS_INT(v))
#define CONV_U32(v) ((uint32_t)(uint64_t)AS_INT(v))
/* uint64 from a float: through int64 (the spec leaves out-of-range values
 * open); from an integer: wrap */
#define CONV_U64(v) ((uint64_t)AS_INT(v))

/* element x of the source type as a value CONV_ takes: half types widen */
#define LOAD(x) (x)
#define LOAD_F16(x) onyx_f16_to_f32(x)
#define LOAD_BF16(x) onyx_bf16_to_f32(x)
/* clang-format on */

/* The dtypes Cast handles: (ONNX enum, C type, short name, how an element
 * is read). */
#define CAST_TYPES(X)                                                          \
    X(ONYX_FLOAT, float, F32, LOAD)                                            \
    X(ONYX_DOUBLE, double, F64, LOAD)                                          \
    X(ONYX_FLOAT16, uint16_t, F16, LOAD_F16)                                   \
    X(ONYX_BFLOAT16, uint16_t, BF16, LOAD_BF16)                                \
    X(ONYX_INT8, int8_t, I8, LOAD)                                             \
    X(ONYX_INT16, int16_t, I16, LOAD)                                          \
    X(ONYX_INT32, int32_t, I32, LOAD)                                          \
    X(ONYX_INT64, int64_t, I64, LOAD)                                          \
    X(ONYX_UINT8, uint8_t, U8, LOAD)                                           \
    X(ONYX_UINT16, uint16_t, U16, LOAD)                                        \
    X(ONYX_UINT32, uint32_t, U32, LOAD)                                        \
    X(ONYX_UINT64, uint64_t, U64, LOAD)                                        \
    X(ONYX_BOOL, uint8_t, BOOL, LOAD)

/* cast_<FROM>_<TO> for every pair */
#define CAST_FN(TI, ni, LD, TO, no)                                            \
    static void cast_##ni##_##no(void *yv, const void *xv, int64_t n)          \
    {                                                                          \
        TO *y = yv;                                                            \
        const TI *x = xv;                                                      \
        for (int64_t i = 0; i < n; i++)                                        \
            y[i] = CONV_##no(LD(x[i]));                                        \
    }
#define CAST_ALL_TO(TI, ni, LD)                                                \
    CAST_FN(TI, ni, LD, float, F32)                                            \
    CAST_FN(TI, ni, LD, double, F64)                                           \
    CAST_FN(TI, ni, LD, uint16_t, F16)                                         \
    CAST_FN(TI, ni, LD, uint16_t, BF16)                                        \
    CAST_FN(TI, ni, LD, int8_t, I8)                                            \
    CAST_FN(TI, ni, LD, int16_t, I16)                                          \
    CAST_FN(TI, ni, LD, int32_t, I32)                                          \
    CAST_FN(TI, ni, LD, int64_t, I64)                                          \
    CAST_FN(TI, ni, LD, uint8_t, U8)                                           \
    CAST_FN(TI, ni, LD, uint16_t, U16)                                         \
    CAST_FN(TI, ni, LD, uint32_t, U32)                                         \
    CAST_FN(TI, ni, LD, uint64_t, U64)                                         \
    CAST_FN(TI, ni, LD, uint8_t, BOOL)
#define CAST_FROM_ALL(ei, TI, ni, LD) CAST_ALL_TO(TI, ni, LD)
CAST_TYPES(CAST_FROM_ALL)

/* the function for (from, to), or NULL when either is not a Cast dtype */
static cast_fn cast_pick(onyx_dtype from, onyx_dtype to)
{
#define CAST_TO_CASE(ni)                                                       \
    switch (to) {                                                              \
    case ONYX_FLOAT: return cast_##ni##_F32;                                   \
    case ONYX_DOUBLE: return cast_##ni##_F64;                                  \
    case ONYX_FLOAT16: return cast_##ni##_F16;                                 \
    case ONYX_BFLOAT16: return cast_##ni##_BF16;                               \
    case ONYX_INT8: return cast_##ni##_I8;                                     \
    case ONYX_INT16: return cast_##ni##_I16;                                   \
    case ONYX_INT32: return cast_##ni##_I32;                                   \
    case ONYX_INT64: return cast_##ni##_I64;                                   \
    case ONYX_UINT8: return cast_##ni##_U8;                                    \
    case ONYX_UINT16: return cast_##ni##_U16;                                  \
    case ONYX_UINT32: return cast_##ni##_U32;                                  \
    case ONYX_UINT64: return cast_##ni##_U64;                                  \
    case ONYX_BOOL: return cast_##ni##_BOOL;                                   \
    default: return NULL;                                                      \
    }
#define CAST_FROM_CASE(ei, TI, ni, LD)                                         \
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

/* Y = X as dtype `to`: Cast's attribute, or CastLike's second input's dtype. */
static onyx_status cast_to(onyx_prep *p, onyx_dtype to)
{
    const onyx_tensor *X = p->in[0];
    if (!cast_dtype_ok(X->dtype))
        return onyx_fail(p, ONYX_ERR_UNSUPPORTED,
                         "%s from %s is not supported (the numeric types and "
                         "bool are)",
                         p->op_type, onyx_dtype_name(X->dtype));
    if ((unsigned)to > 31 || !cast_dtype_ok(to))
        return onyx_fail(p, ONYX_ERR_UNSUPPORTED,
                         "%s to %s (%d) is not supported (the numeric types "
                         "and bool are)",
                         p->op_type, onyx_dtype_name(to), (int)to);

    cast_params *c = calloc(1, sizeof *c);
    if (!c) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    p->params = c;
    c->fn = X->dtype == to ? NULL : cast_pick(X->dtype, to);
    c->esize = onyx_dtype_size(to);
    if (p->n_out >= 1 && p->out[0])
        onyx_set_shape(p->out[0], to, X->rank, X->dims);
    return ONYX_OK;
}

static onyx_status cast_prepare(onyx_prep *p)
{
    ONYX_CHECK(p, p->n_in == 1, "Cast takes one input, got %d", p->n_in);
    ONYX_TRY(onyx_need_input(p, 0));
    const onyx_attr *at = onyx_attr_get(p, "to");
    ONYX_CHECK(p, at != NULL, "attribute 'to' is required");
    ONYX_CHECK(p, at->type == ONYX_ATTR_INT,
               "attribute 'to' must be an int (a TensorProto dtype)");
    ONYX_CHECK(p, at->i >= 0 && at->i <= 31,
               "attribute 'to' = %lld is not a dtype", (long long)at->i);
    return cast_to(p, (onyx_dtype)at->i);
}

/* CastLike(input, target_type): only target_type's dtype matters. */
static onyx_status castlike_prepare(onyx_prep *p)
{
    ONYX_CHECK(p, p->n_in == 2, "CastLike takes two inputs, got %d", p->n_in);
    ONYX_TRY(onyx_need_input(p, 0));
    ONYX_TRY(onyx_need_input(p, 1));
    return cast_to(p, p->in[1]->dtype);
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

const onyx_op onyx_op_Cast = {"Cast", cast_prepare, cast_eval,
                              ONYX_OP_READS_HALF, NULL};
const onyx_op onyx_op_CastLike = {"CastLike", castlike_prepare, cast_eval,
                                  ONYX_OP_READS_HALF, NULL};
