/* argmax.c - ArgMax and ArgMin along one axis, float32 or int64 data, int64
 * indices. X is viewed as (outer, n, inner); ties go to the first index, or
 * to the last with select_last_index=1 (opset 12+). */
#include "onyx_kernel.h"

#include <stdlib.h>
#include <string.h>

enum { AM_DATA = 0 };
enum { AM_REDUCED = 0 };

typedef struct {
    int64_t outer, n, inner; /* data viewed as (outer, n, inner) */
    int is_min;              /* ArgMin */
    int last;                /* select_last_index */
    int is_int;              /* int64 data, else float32 */
} argmax_params;

/* Y (outer, inner) = index along n of the best element of X (outer, n,
 * inner), vectorised over inner; best (inner,) is scratch of type T. */
#define ARGMAX_LOOP(T, SFX)                                                    \
    static void argbest_##SFX(int64_t *y, const T *x, const argmax_params *ap, \
                              T *best)                                         \
    {                                                                          \
        int64_t n = ap->n, inner = ap->inner;                                  \
        for (int64_t o = 0; o < ap->outer; o++) {                              \
            const T *xo = x + o * n * inner;                                   \
            int64_t *yo = y + o * inner;                                       \
            for (int64_t j = 0; j < inner; j++) {                              \
                best[j] = xo[j];                                               \
                yo[j] = 0;                                                     \
            }                                                                  \
            for (int64_t k = 1; k < n; k++) {                                  \
                const T *xk = xo + k * inner;                                  \
                if (ap->is_min && ap->last) {                                  \
                    for (int64_t j = 0; j < inner; j++)                        \
                        if (xk[j] <= best[j]) best[j] = xk[j], yo[j] = k;      \
                } else if (ap->is_min) {                                       \
                    for (int64_t j = 0; j < inner; j++)                        \
                        if (xk[j] < best[j]) best[j] = xk[j], yo[j] = k;       \
                } else if (ap->last) {                                         \
                    for (int64_t j = 0; j < inner; j++)                        \
                        if (xk[j] >= best[j]) best[j] = xk[j], yo[j] = k;      \
                } else {                                                       \
                    for (int64_t j = 0; j < inner; j++)                        \
                        if (xk[j] > best[j]) best[j] = xk[j], yo[j] = k;       \
                }                                                              \
            }                                                                  \
        }                                                                      \
    }

ARGMAX_LOOP(float, f32)
ARGMAX_LOOP(int64_t, i64)

static onyx_status argmax_prepare(onyx_prep *p)
{
    ONYX_TRY(onyx_need_dtype(p, AM_DATA,
                             ONYX_MASK(ONYX_FLOAT) | ONYX_MASK(ONYX_INT64)));
    const onyx_tensor *X = p->in[AM_DATA];
    ONYX_CHECK(p, p->out[AM_REDUCED] != NULL, "output reduced is required");
    ONYX_CHECK(p, X->rank >= 1, "data must have at least one axis");
    int axis;
    ONYX_TRY(onyx_axis(p, onyx_attr_int(p, "axis", 0), X->rank, 0, &axis));
    int64_t keepdims = onyx_attr_int(p, "keepdims", 1);
    ONYX_CHECK(p, keepdims == 0 || keepdims == 1,
               "keepdims %lld must be 0 or 1", (long long)keepdims);
    int64_t last =
        p->opset >= 12 ? onyx_attr_int(p, "select_last_index", 0) : 0;
    ONYX_CHECK(p, last == 0 || last == 1,
               "select_last_index %lld must be 0 or 1", (long long)last);
    ONYX_CHECK(p, X->dims[axis] > 0,
               "axis %d has length 0: there is no element to pick", axis);

    argmax_params *ap = calloc(1, sizeof *ap);
    if (!ap) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    p->params = ap;
    ap->is_min = strcmp(p->op_type, "ArgMin") == 0;
    ap->last = (int)last;
    ap->is_int = X->dtype == ONYX_INT64;
    ap->outer = ap->inner = 1;
    ap->n = X->dims[axis];
    int64_t odims[ONYX_MAX_RANK];
    int orank = 0;
    for (int i = 0; i < X->rank; i++) {
        if (i < axis) ap->outer *= X->dims[i];
        if (i > axis) ap->inner *= X->dims[i];
        if (i != axis)
            odims[orank++] = X->dims[i];
        else if (keepdims)
            odims[orank++] = 1;
    }
    p->scratch_bytes = (size_t)ap->inner * 8;
    onyx_set_shape(p->out[AM_REDUCED], ONYX_INT64, orank, odims);
    return ONYX_OK;
}

static onyx_status argmax_eval(onyx_exec *e)
{
    const argmax_params *ap = e->params;
    if (ap->is_int)
        argbest_i64(e->out[AM_REDUCED]->data, e->in[AM_DATA]->data, ap,
                    e->scratch);
    else
        argbest_f32(e->out[AM_REDUCED]->data, e->in[AM_DATA]->data, ap,
                    e->scratch);
    return ONYX_OK;
}

const onyx_op onyx_op_ArgMax = {"ArgMax", argmax_prepare, argmax_eval, 0, NULL};
const onyx_op onyx_op_ArgMin = {"ArgMin", argmax_prepare, argmax_eval, 0, NULL};
