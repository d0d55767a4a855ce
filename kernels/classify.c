/* classify.c - IsInf and IsNaN: one bool per element of a float32 or float64
 * X telling what kind of value it holds. Y has X's shape. */
#include "onyx_kernel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { C_X = 0, C_Y = 0 };

typedef struct {
    int is_nan;       /* IsNaN, else IsInf */
    int neg, pos;     /* IsInf: detect_negative, detect_positive */
    int64_t n;        /* elements of X */
    onyx_dtype dtype; /* of X: float32 or float64 */
} classify_params;

static onyx_status classify_prepare(onyx_prep *p)
{
    ONYX_CHECK(p, p->n_in == 1, "%s takes one input, got %d", p->op_type,
               p->n_in);
    ONYX_TRY(onyx_need_dtype(p, C_X,
                             ONYX_MASK(ONYX_FLOAT) | ONYX_MASK(ONYX_DOUBLE)));
    const onyx_tensor *X = p->in[C_X];
    classify_params c = {.is_nan = strcmp(p->op_type, "IsNaN") == 0,
                         .n = onyx_numel(X),
                         .dtype = X->dtype};
    if (!c.is_nan) {
        int64_t neg = onyx_attr_int(p, "detect_negative", 1);
        int64_t pos = onyx_attr_int(p, "detect_positive", 1);
        ONYX_CHECK(p, (neg == 0 || neg == 1) && (pos == 0 || pos == 1),
                   "detect_negative %lld and detect_positive %lld must be 0 "
                   "or 1",
                   (long long)neg, (long long)pos);
        c.neg = (int)neg;
        c.pos = (int)pos;
    }
    classify_params *cp = malloc(sizeof *cp);
    if (!cp) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    *cp = c;
    p->params = cp;
    if (p->out[C_Y]) onyx_set_shape(p->out[C_Y], ONYX_BOOL, X->rank, X->dims);
    return ONYX_OK;
}

/* y (n,) = class of x (n,), for x float (F32) or double */
#define CLASSIFY_LOOP(T)                                                       \
    do {                                                                       \
        const T *x = X->data;                                                  \
        if (cp->is_nan)                                                        \
            for (int64_t i = 0; i < cp->n; i++)                                \
                y[i] = x[i] != x[i];                                           \
        else                                                                   \
            for (int64_t i = 0; i < cp->n; i++)                                \
                y[i] = (cp->pos && x[i] == (T)INFINITY) ||                     \
                       (cp->neg && x[i] == -(T)INFINITY);                      \
    } while (0)

static onyx_status classify_eval(onyx_exec *e)
{
    const classify_params *cp = e->params;
    const onyx_tensor *X = e->in[C_X];
    if (!e->out[C_Y]) return ONYX_OK;
    uint8_t *y = e->out[C_Y]->data;
    if (cp->dtype == ONYX_FLOAT)
        CLASSIFY_LOOP(float);
    else
        CLASSIFY_LOOP(double);
    return ONYX_OK;
}

const onyx_op onyx_op_IsInf = {"IsInf", classify_prepare, classify_eval, 0,
                               NULL};
const onyx_op onyx_op_IsNaN = {"IsNaN", classify_prepare, classify_eval, 0,
                               NULL};
