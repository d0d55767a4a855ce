/* trilu.c - Trilu: keep the upper or lower triangle of the last two axes
 * (shifted by the diagonal offset k), zero the rest. */
#include "onyx_kernel.h"

#include <stdlib.h>
#include <string.h>

enum { T_X = 0, T_K = 1, T_Y = 0 };

/* X seen as (batch, rows, cols) */
typedef struct {
    int upper;
    int64_t batch, rows, cols;
    size_t esize;
} trilu_params;

static onyx_status trilu_prepare(onyx_prep *p)
{
    ONYX_TRY(onyx_need_dtype(p, T_X, ONYX_DATA_DTYPES));
    const onyx_tensor *X = p->in[T_X];
    char b[96];
    ONYX_CHECK(p, X->rank >= 2, "input %s must have rank >= 2",
               onyx_shape_str(X, b, sizeof b));
    if (p->n_in > T_K && p->in[T_K] && onyx_numel(p->in[T_K]) > 0) {
        ONYX_TRY(onyx_need_dtype(p, T_K, ONYX_MASK(ONYX_INT64)));
        ONYX_CHECK(p, onyx_numel(p->in[T_K]) == 1,
                   "k must be a scalar, it has %lld elements",
                   (long long)onyx_numel(p->in[T_K]));
    }
    int64_t upper = onyx_attr_int(p, "upper", 1);
    ONYX_CHECK(p, upper == 0 || upper == 1, "upper is %lld, not 0 or 1",
               (long long)upper);
    if (p->out[T_Y]) onyx_set_shape(p->out[T_Y], X->dtype, X->rank, X->dims);

    trilu_params *tp = calloc(1, sizeof *tp);
    if (!tp) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    tp->upper = (int)upper;
    tp->rows = X->dims[X->rank - 2];
    tp->cols = X->dims[X->rank - 1];
    tp->batch = 1;
    for (int d = 0; d < X->rank - 2; d++)
        tp->batch *= X->dims[d];
    tp->esize = onyx_dtype_size(X->dtype);
    p->params = tp;
    return ONYX_OK;
}

static int64_t clamp(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Row i keeps columns j with j - i >= k (upper) or j - i <= k (lower): one
 * run to copy and one to zero per row. Zero bits are 0 for every dtype. */
static onyx_status trilu_eval(onyx_exec *e)
{
    const trilu_params *tp = e->params;
    onyx_tensor *Y = e->out[T_Y];
    if (!Y) return ONYX_OK;
    int64_t k = 0;
    const onyx_tensor *K = e->n_in > T_K ? e->in[T_K] : NULL;
    if (K && onyx_numel(K) > 0) k = *(const int64_t *)K->data;
    k = clamp(k, -tp->rows - 1, tp->cols + 1); /* same result, no overflow */
    const char *x = e->in[T_X]->data;
    char *y = Y->data;
    size_t es = tp->esize;
    int64_t cols = tp->cols, row_bytes = cols * (int64_t)es;
    for (int64_t m = 0; m < tp->batch; m++)
        for (int64_t i = 0; i < tp->rows; i++) {
            int64_t off = (m * tp->rows + i) * row_bytes;
            /* keep [lo, hi) */
            int64_t lo = tp->upper ? clamp(i + k, 0, cols) : 0;
            int64_t hi = tp->upper ? cols : clamp(i + k + 1, 0, cols);
            if (hi < lo) hi = lo;
            memset(y + off, 0, (size_t)(lo * (int64_t)es));
            if (hi > lo)
                memmove(y + off + lo * (int64_t)es, x + off + lo * (int64_t)es,
                        (size_t)((hi - lo) * (int64_t)es));
            memset(y + off + hi * (int64_t)es, 0,
                   (size_t)((cols - hi) * (int64_t)es));
        }
    return ONYX_OK;
}

const onyx_op onyx_op_Trilu = {"Trilu", trilu_prepare, trilu_eval, 0, NULL};
