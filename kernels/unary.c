/* unary.c - the one-input elementwise ops: activations, rounding, Clip, Not,
 * and the rest of the trigonometric and hyperbolic functions and Shrink.
 * Y has X's shape; every op is one flat loop over numel(X) elements. */
#include "onyx_kernel.h"

/* GCC's -O2 vectorises only loops that need no scalar epilogue, and with
 * trapping math it will not turn the selects of the vmath.h routines
 * into blends. Every loop here is a flat elementwise one: ask for both.
 * (Results are unchanged: no reassociation, no fast-math.) */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("tree-vectorize", "vect-cost-model=dynamic",              \
                     "no-trapping-math")
#endif

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The math of Exp, Tanh, Sigmoid, Erf and the expm1 of Elu, Selu, Celu,
 * one float at a time: the loops below are left to the auto-vectoriser,
 * which makes them 4 or 8 lanes wide (see vmath.h). */
#define VMATH_LANES 1
#include "math/vmath.h"

/* clang-format off */
typedef enum {
    U_ABS, U_NEG, U_EXP, U_LOG, U_SQRT, U_RECIPROCAL, U_SIN, U_COS, U_TANH,
    U_SIGMOID, U_RELU, U_LEAKYRELU, U_ELU, U_SELU, U_CELU, U_SOFTPLUS,
    U_SOFTSIGN, U_HARDSIGMOID, U_HARDSWISH, U_ERF, U_FLOOR, U_CEIL, U_ROUND,
    U_SIGN, U_THRESHOLDEDRELU, U_CLIP, U_NOT,
    U_TAN, U_SINH, U_COSH, U_ASIN, U_ACOS, U_ATAN, U_ASINH, U_ACOSH, U_ATANH,
    U_SHRINK,
} unary_kind;
/* clang-format on */

#define F32  ONYX_MASK(ONYX_FLOAT)
#define I64  ONYX_MASK(ONYX_INT64)
#define BOOL ONYX_MASK(ONYX_BOOL)
/* the integer types besides int64 that Clip takes (clip_int below) */
#define CLIP_INTS                                                              \
    (ONYX_MASK(ONYX_INT8) | ONYX_MASK(ONYX_INT16) | ONYX_MASK(ONYX_INT32) |    \
     ONYX_MASK(ONYX_UINT8) | ONYX_MASK(ONYX_UINT16) | ONYX_MASK(ONYX_UINT32) | \
     ONYX_MASK(ONYX_UINT64))

/* Attributes a, b of each op with their ONNX defaults (names NULL: none). */
typedef struct {
    const char *name;
    unary_kind kind;
    unsigned dtypes; /* accepted X dtypes */
    const char *a_name;
    float a_dflt;
    const char *b_name;
    float b_dflt;
} unary_def;

static const unary_def unary_defs[] = {
    {"Abs", U_ABS, F32 | I64, NULL, 0, NULL, 0},
    {"Neg", U_NEG, F32 | I64, NULL, 0, NULL, 0},
    {"Exp", U_EXP, F32, NULL, 0, NULL, 0},
    {"Log", U_LOG, F32, NULL, 0, NULL, 0},
    {"Sqrt", U_SQRT, F32, NULL, 0, NULL, 0},
    {"Reciprocal", U_RECIPROCAL, F32, NULL, 0, NULL, 0},
    {"Sin", U_SIN, F32, NULL, 0, NULL, 0},
    {"Cos", U_COS, F32, NULL, 0, NULL, 0},
    {"Tanh", U_TANH, F32, NULL, 0, NULL, 0},
    {"Sigmoid", U_SIGMOID, F32, NULL, 0, NULL, 0},
    {"Relu", U_RELU, F32 | I64, NULL, 0, NULL, 0},
    {"LeakyRelu", U_LEAKYRELU, F32, "alpha", 0.01f, NULL, 0},
    {"Elu", U_ELU, F32, "alpha", 1.0f, NULL, 0},
    {"Selu", U_SELU, F32, "alpha", 1.67326319217681884765625f, "gamma",
     1.05070102214813232421875f},
    {"Celu", U_CELU, F32, "alpha", 1.0f, NULL, 0},
    {"Softplus", U_SOFTPLUS, F32, NULL, 0, NULL, 0},
    {"Softsign", U_SOFTSIGN, F32, NULL, 0, NULL, 0},
    {"HardSigmoid", U_HARDSIGMOID, F32, "alpha", 0.2f, "beta", 0.5f},
    {"HardSwish", U_HARDSWISH, F32, NULL, 0, NULL, 0},
    {"Erf", U_ERF, F32, NULL, 0, NULL, 0},
    {"Floor", U_FLOOR, F32, NULL, 0, NULL, 0},
    {"Ceil", U_CEIL, F32, NULL, 0, NULL, 0},
    {"Round", U_ROUND, F32, NULL, 0, NULL, 0},
    {"Sign", U_SIGN, F32 | I64, NULL, 0, NULL, 0},
    {"ThresholdedRelu", U_THRESHOLDEDRELU, F32, "alpha", 1.0f, NULL, 0},
    {"Clip", U_CLIP, F32 | I64 | CLIP_INTS, NULL, 0, NULL, 0},
    {"Not", U_NOT, BOOL, NULL, 0, NULL, 0},
    {"Tan", U_TAN, F32, NULL, 0, NULL, 0},
    {"Sinh", U_SINH, F32, NULL, 0, NULL, 0},
    {"Cosh", U_COSH, F32, NULL, 0, NULL, 0},
    {"Asin", U_ASIN, F32, NULL, 0, NULL, 0},
    {"Acos", U_ACOS, F32, NULL, 0, NULL, 0},
    {"Atan", U_ATAN, F32, NULL, 0, NULL, 0},
    {"Asinh", U_ASINH, F32, NULL, 0, NULL, 0},
    {"Acosh", U_ACOSH, F32, NULL, 0, NULL, 0},
    {"Atanh", U_ATANH, F32, NULL, 0, NULL, 0},
    {"Shrink", U_SHRINK, F32, "lambd", 0.5f, "bias", 0.0f},
};

enum { CLIP_IN_MIN = 1, CLIP_IN_MAX = 2 };

typedef struct {
    unary_kind kind;
    onyx_dtype dtype;
    float a, b;    /* the op's attributes (alpha, beta/gamma) */
    float lo, hi;  /* Clip bounds from attributes (opset < 11) */
    int bounds_in; /* Clip: bounds come from inputs 1, 2 (opset >= 11) */
} unary_params;

static const unary_def *unary_find(const char *name)
{
    for (size_t i = 0; i < sizeof unary_defs / sizeof unary_defs[0]; i++)
        if (strcmp(unary_defs[i].name, name) == 0) return &unary_defs[i];
    return NULL;
}

/* A Clip bound input: absent, or a one-element tensor of X's dtype. Empty
 * tensors stand for omitted inputs in some exports. */
static onyx_status clip_check_bound(onyx_prep *p, int i, const char *what)
{
    if (i >= p->n_in || !p->in[i] || onyx_numel(p->in[i]) == 0) return ONYX_OK;
    ONYX_CHECK(p, p->in[i]->dtype == p->in[0]->dtype,
               "Clip %s has dtype %s but X has %s", what,
               onyx_dtype_name(p->in[i]->dtype),
               onyx_dtype_name(p->in[0]->dtype));
    ONYX_CHECK(p, onyx_numel(p->in[i]) == 1,
               "Clip %s must be a scalar, it has %lld elements", what,
               (long long)onyx_numel(p->in[i]));
    return ONYX_OK;
}

static onyx_status unary_prepare(onyx_prep *p)
{
    const unary_def *d = unary_find(p->op_type);
    ONYX_CHECK(p, d != NULL, "op %s is not a unary op", p->op_type);
    ONYX_CHECK(p, p->n_out >= 1, "%s needs one output", d->name);
    ONYX_TRY(onyx_need_dtype(p, 0, d->dtypes));
    const onyx_tensor *X = p->in[0];

    unary_params u = {.kind = d->kind, .dtype = X->dtype};
    if (d->a_name) u.a = onyx_attr_float(p, d->a_name, d->a_dflt);
    if (d->b_name) u.b = onyx_attr_float(p, d->b_name, d->b_dflt);

    if (d->kind == U_CELU)
        ONYX_CHECK(p, u.a != 0.0f, "Celu alpha must not be 0");
    if (d->kind == U_CLIP) {
        if (p->opset < 11) {
            ONYX_CHECK(p, p->n_in == 1,
                       "Clip before opset 11 takes min/max as attributes, "
                       "not inputs");
            ONYX_CHECK(p, X->dtype == ONYX_FLOAT,
                       "Clip before opset 11 takes float32 only");
            u.lo = onyx_attr_float(p, "min", -FLT_MAX);
            u.hi = onyx_attr_float(p, "max", FLT_MAX);
        } else {
            ONYX_CHECK(p, !onyx_attr_get(p, "min") && !onyx_attr_get(p, "max"),
                       "Clip from opset 11 takes min/max as inputs, not "
                       "attributes");
            ONYX_CHECK(p, p->n_in <= 3, "Clip takes at most 3 inputs");
            ONYX_TRY(clip_check_bound(p, CLIP_IN_MIN, "min"));
            ONYX_TRY(clip_check_bound(p, CLIP_IN_MAX, "max"));
            u.bounds_in = 1;
        }
    } else {
        ONYX_CHECK(p, p->n_in == 1, "%s takes one input, got %d", d->name,
                   p->n_in);
    }

    unary_params *up = malloc(sizeof *up);
    if (!up) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    *up = u;
    p->params = up;
    if (p->out[0]) onyx_set_shape(p->out[0], X->dtype, X->rank, X->dims);
    return ONYX_OK;
}

static inline float softplusf(float x)
{
    /* log(1 + e^x) = max(x, 0) + log1p(e^-|x|) */
    return fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x)));
}

/* ---- y (n,) = f(x (n,)) ---- */

/* min(max(v, 0), 1) by comparisons, which vectorise (fminf does not) */
static inline float clamp01(float v)
{
    v = v > 0.0f ? v : 0.0f;
    return v < 1.0f ? v : 1.0f;
}

/* On x86-64 the float loops are also compiled for AVX2 (8 floats a vector
 * instead of SSE2's 4), picked at load time by the CPU. Same results: no FMA
 * contraction in ISO C mode. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) &&         \
    defined(__linux__)
#define UNARY_CLONES                                                           \
    __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define UNARY_CLONES
#endif

UNARY_CLONES
static void unary_f32(const unary_params *u, float *y, const float *x,
                      int64_t n, float lo, float hi)
{
    const float a = u->a, b = u->b;
    switch (u->kind) {
    case U_ABS:
        for (int64_t i = 0; i < n; i++)
            y[i] = fabsf(x[i]);
        break;
    case U_NEG:
        for (int64_t i = 0; i < n; i++)
            y[i] = -x[i];
        break;
    case U_EXP:
        for (int64_t i = 0; i < n; i++)
            y[i] = v1_exp(x[i]);
        break;
    case U_LOG:
        for (int64_t i = 0; i < n; i++)
            y[i] = v1_log(x[i]);
        break;
    case U_SQRT:
        for (int64_t i = 0; i < n; i++)
            y[i] = sqrtf(x[i]);
        break;
    case U_RECIPROCAL:
        for (int64_t i = 0; i < n; i++)
            y[i] = 1.0f / x[i];
        break;
    case U_SIN:
    case U_COS: {
        /* vmath's sin/cos hand back |x| > VMATH_SINCOS_MAX (and +-inf) as x
         * itself: those few, marked by huge, go to libm afterwards (found in
         * y, which stays right when y and x are the same buffer) */
        const int is_cos = u->kind == U_COS;
        int huge = 0;
        if (is_cos)
            for (int64_t i = 0; i < n; i++) {
                float v = v1_cos(x[i]);
                huge |= fabsf(v) > VMATH_SINCOS_MAX;
                y[i] = v;
            }
        else
            for (int64_t i = 0; i < n; i++) {
                float v = v1_sin(x[i]);
                huge |= fabsf(v) > VMATH_SINCOS_MAX;
                y[i] = v;
            }
        if (huge)
            for (int64_t i = 0; i < n; i++)
                if (fabsf(y[i]) > VMATH_SINCOS_MAX)
                    y[i] = is_cos ? cosf(y[i]) : sinf(y[i]);
        break;
    }
    case U_TANH:
        for (int64_t i = 0; i < n; i++)
            y[i] = v1_tanh(x[i]);
        break;
    case U_SIGMOID:
        for (int64_t i = 0; i < n; i++)
            y[i] = v1_sigmoid(x[i]);
        break;
    case U_RELU:
        /* NaN passes through, as in numpy and PyTorch */
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] < 0 ? 0.0f : x[i];
        break;
    case U_LEAKYRELU:
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] < 0 ? a * x[i] : x[i];
        break;
    case U_ELU:
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] < 0 ? a * v1_expm1(x[i]) : x[i];
        break;
    case U_SELU:
        /* a = alpha, b = gamma */
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] <= 0 ? b * a * v1_expm1(x[i]) : b * x[i];
        break;
    case U_CELU:
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] < 0 ? a * v1_expm1(x[i] / a) : x[i];
        break;
    case U_SOFTPLUS:
        for (int64_t i = 0; i < n; i++)
            y[i] = softplusf(x[i]);
        break;
    case U_SOFTSIGN:
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] / (1.0f + fabsf(x[i]));
        break;
    case U_HARDSIGMOID:
        for (int64_t i = 0; i < n; i++)
            y[i] = clamp01(a * x[i] + b);
        break;
    case U_HARDSWISH:
        /* x * HardSigmoid(x) with alpha 1/6, beta 1/2 */
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] * clamp01(x[i] * (1.0f / 6) + 0.5f);
        break;
    case U_ERF:
        for (int64_t i = 0; i < n; i++)
            y[i] = v1_erf(x[i]);
        break;
    case U_FLOOR:
        for (int64_t i = 0; i < n; i++)
            y[i] = floorf(x[i]);
        break;
    case U_CEIL:
        for (int64_t i = 0; i < n; i++)
            y[i] = ceilf(x[i]);
        break;
    case U_ROUND:
        /* halves to even, as the default rounding mode does */
        for (int64_t i = 0; i < n; i++)
            y[i] = nearbyintf(x[i]);
        break;
    case U_SIGN:
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] > 0 ? 1.0f : x[i] < 0 ? -1.0f : x[i]; /* 0, NaN */
        break;
    case U_THRESHOLDEDRELU:
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] <= a ? 0.0f : x[i];
        break;
    case U_CLIP:
        /* min(max(x, lo), hi): a NaN x stays NaN */
        for (int64_t i = 0; i < n; i++) {
            float v = x[i] < lo ? lo : x[i];
            y[i] = v > hi ? hi : v;
        }
        break;
    case U_NOT: break;
    /* the rarer functions go to libm one element at a time: no model here
     * spends its time in them */
    case U_TAN:
        for (int64_t i = 0; i < n; i++)
            y[i] = tanf(x[i]);
        break;
    case U_SINH:
        for (int64_t i = 0; i < n; i++)
            y[i] = sinhf(x[i]);
        break;
    case U_COSH:
        for (int64_t i = 0; i < n; i++)
            y[i] = coshf(x[i]);
        break;
    case U_ASIN:
        for (int64_t i = 0; i < n; i++)
            y[i] = asinf(x[i]);
        break;
    case U_ACOS:
        for (int64_t i = 0; i < n; i++)
            y[i] = acosf(x[i]);
        break;
    case U_ATAN:
        for (int64_t i = 0; i < n; i++)
            y[i] = atanf(x[i]);
        break;
    case U_ASINH:
        for (int64_t i = 0; i < n; i++)
            y[i] = asinhf(x[i]);
        break;
    case U_ACOSH:
        for (int64_t i = 0; i < n; i++)
            y[i] = acoshf(x[i]);
        break;
    case U_ATANH:
        for (int64_t i = 0; i < n; i++)
            y[i] = atanhf(x[i]);
        break;
    case U_SHRINK:
        /* a = lambd, b = bias: x - bias above lambd, x + bias below -lambd,
         * 0 between (NaN gives 0 too, as the reference's comparisons do) */
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] < -a ? x[i] + b : x[i] > a ? x[i] - b : 0.0f;
        break;
    }
}

static void unary_i64(unary_kind kind, int64_t *y, const int64_t *x, int64_t n,
                      int64_t lo, int64_t hi)
{
    switch (kind) {
    case U_ABS:
        /* through uint64: |INT64_MIN| wraps instead of being undefined */
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] < 0 ? (int64_t)(0 - (uint64_t)x[i]) : x[i];
        break;
    case U_NEG:
        for (int64_t i = 0; i < n; i++)
            y[i] = (int64_t)(0 - (uint64_t)x[i]);
        break;
    case U_RELU:
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] > 0 ? x[i] : 0;
        break;
    case U_SIGN:
        for (int64_t i = 0; i < n; i++)
            y[i] = (x[i] > 0) - (x[i] < 0);
        break;
    case U_CLIP:
        for (int64_t i = 0; i < n; i++) {
            int64_t v = x[i] < lo ? lo : x[i];
            y[i] = v > hi ? hi : v;
        }
        break;
    default: break; /* prepare admits no other int64 op */
    }
}

/* Clip of the integer types but int64 (opset 12+): y = min(max(x, lo), hi),
 * a bound NULL when omitted (the type's own limit then). */
#define CLIP_INT(T, TMIN, TMAX)                                                \
    {                                                                          \
        T *y = yv;                                                             \
        const T *x = xv;                                                       \
        const T lo = pl ? *(const T *)pl : TMIN,                               \
                hi = ph ? *(const T *)ph : TMAX;                               \
        for (int64_t i = 0; i < n; i++) {                                      \
            T v = x[i] < lo ? lo : x[i];                                       \
            y[i] = v > hi ? hi : v;                                            \
        }                                                                      \
        break;                                                                 \
    }
static void clip_int(onyx_dtype dt, void *yv, const void *xv, int64_t n,
                     const void *pl, const void *ph)
{
    switch (dt) {
    case ONYX_INT8: CLIP_INT(int8_t, INT8_MIN, INT8_MAX)
    case ONYX_INT16: CLIP_INT(int16_t, INT16_MIN, INT16_MAX)
    case ONYX_INT32: CLIP_INT(int32_t, INT32_MIN, INT32_MAX)
    case ONYX_UINT8: CLIP_INT(uint8_t, 0, UINT8_MAX)
    case ONYX_UINT16: CLIP_INT(uint16_t, 0, UINT16_MAX)
    case ONYX_UINT32: CLIP_INT(uint32_t, 0, UINT32_MAX)
    case ONYX_UINT64: CLIP_INT(uint64_t, 0, UINT64_MAX)
    default: break; /* prepare admits no other type */
    }
}

/* The Clip bound in input i, or dflt when it is omitted or empty. */
static const void *clip_bound(const onyx_exec *e, int i)
{
    if (i >= e->n_in || !e->in[i] || onyx_numel(e->in[i]) == 0) return NULL;
    return e->in[i]->data;
}

static onyx_status unary_eval(onyx_exec *e)
{
    const unary_params *u = e->params;
    const onyx_tensor *X = e->in[0];
    onyx_tensor *Y = e->out[0];
    if (!Y) return ONYX_OK;
    int64_t n = onyx_numel(X);

    if (u->dtype == ONYX_FLOAT) {
        float lo = u->lo, hi = u->hi;
        if (u->kind == U_CLIP && u->bounds_in) {
            const float *pl = clip_bound(e, CLIP_IN_MIN);
            const float *ph = clip_bound(e, CLIP_IN_MAX);
            lo = pl ? *pl : -INFINITY;
            hi = ph ? *ph : INFINITY;
        }
        unary_f32(u, Y->data, X->data, n, lo, hi);
    } else if (u->dtype == ONYX_INT64) {
        int64_t lo = INT64_MIN, hi = INT64_MAX;
        if (u->kind == U_CLIP) {
            const int64_t *pl = clip_bound(e, CLIP_IN_MIN);
            const int64_t *ph = clip_bound(e, CLIP_IN_MAX);
            if (pl) lo = *pl;
            if (ph) hi = *ph;
        }
        unary_i64(u->kind, Y->data, X->data, n, lo, hi);
    } else if (u->kind == U_CLIP) {
        clip_int(u->dtype, Y->data, X->data, n, clip_bound(e, CLIP_IN_MIN),
                 clip_bound(e, CLIP_IN_MAX));
    } else { /* bool: Not */
        const uint8_t *x = X->data;
        uint8_t *y = Y->data;
        for (int64_t i = 0; i < n; i++)
            y[i] = !x[i];
    }
    return ONYX_OK;
}

#define UNARY_OP(Name)                                                         \
    const onyx_op onyx_op_##Name = {#Name, unary_prepare, unary_eval, 0, NULL};
UNARY_OP(Abs)
UNARY_OP(Neg)
UNARY_OP(Exp)
UNARY_OP(Log)
UNARY_OP(Sqrt)
UNARY_OP(Reciprocal)
UNARY_OP(Sin)
UNARY_OP(Cos)
UNARY_OP(Tanh)
UNARY_OP(Sigmoid)
UNARY_OP(Relu)
UNARY_OP(LeakyRelu)
UNARY_OP(Elu)
UNARY_OP(Selu)
UNARY_OP(Celu)
UNARY_OP(Softplus)
UNARY_OP(Softsign)
UNARY_OP(HardSigmoid)
UNARY_OP(HardSwish)
UNARY_OP(Erf)
UNARY_OP(Floor)
UNARY_OP(Ceil)
UNARY_OP(Round)
UNARY_OP(Sign)
UNARY_OP(ThresholdedRelu)
UNARY_OP(Clip)
UNARY_OP(Not)
UNARY_OP(Tan)
UNARY_OP(Sinh)
UNARY_OP(Cosh)
UNARY_OP(Asin)
UNARY_OP(Acos)
UNARY_OP(Atan)
UNARY_OP(Asinh)
UNARY_OP(Acosh)
UNARY_OP(Atanh)
UNARY_OP(Shrink)
