/* topk.c - TopK: the k largest (or smallest) elements along an axis and
 * their indices, sorted, ties broken by the lower index first.
 *
 * X is seen as (outer, axis_len, inner). Each of the outer*inner lines is
 * sorted as a list of indices by a stable merge sort (the scratch holds the
 * list and the merge buffer), and the first k are written out. k comes from
 * the K input (opset 10 on) or the attribute (opset 1); it shapes the
 * outputs, so it must be known when the model is resolved. */
#include "onyx_kernel.h"

#include <stdlib.h>
#include <string.h>

enum { TK_X = 0, TK_K = 1, TK_VALUES = 0, TK_INDICES = 1 };

static const char k_error[] = "TopK: k changed since the model was resolved";

typedef struct {
    int64_t outer, len, inner, k;
    int largest;
    onyx_dtype dtype;
    size_t esize;
} topk_params;

static onyx_status topk_prepare(onyx_prep *p)
{
    ONYX_TRY(onyx_need_dtype(p, TK_X,
                             ONYX_MASK(ONYX_FLOAT) | ONYX_MASK(ONYX_DOUBLE) |
                                 ONYX_MASK(ONYX_INT64) |
                                 ONYX_MASK(ONYX_INT32)));
    const onyx_tensor *X = p->in[TK_X];
    ONYX_CHECK(p, X->rank >= 1, "X must have rank >= 1");
    int axis;
    ONYX_TRY(onyx_axis(p, onyx_attr_int(p, "axis", -1), X->rank, 0, &axis));
    int64_t k;
    if (p->opset >= 10 || (p->n_in > TK_K && p->in[TK_K])) {
        ONYX_TRY(onyx_need_dtype(p, TK_K, ONYX_MASK(ONYX_INT64)));
        ONYX_CHECK(p, onyx_numel(p->in[TK_K]) == 1,
                   "K must hold one value, it has %lld",
                   (long long)onyx_numel(p->in[TK_K]));
        if (!p->in[TK_K]->data)
            return onyx_fail(p, ONYX_ERR_UNSUPPORTED,
                             "K must be known when the model is resolved: "
                             "the output shape depends on its value");
        k = *(const int64_t *)p->in[TK_K]->data;
    } else {
        k = onyx_attr_int(p, "k", -1);
    }
    ONYX_CHECK(p, k >= 0 && k <= X->dims[axis],
               "k = %lld is out of range for an axis of length %lld",
               (long long)k, (long long)X->dims[axis]);
    int64_t largest = onyx_attr_int(p, "largest", 1);
    int64_t sorted = onyx_attr_int(p, "sorted", 1);
    ONYX_CHECK(p, largest == 0 || largest == 1, "largest is %lld, not 0 or 1",
               (long long)largest);
    ONYX_CHECK(p, sorted == 0 || sorted == 1, "sorted is %lld, not 0 or 1",
               (long long)sorted);

    topk_params *tp = calloc(1, sizeof *tp);
    if (!tp) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    tp->outer = tp->inner = 1;
    for (int d = 0; d < X->rank; d++) {
        if (d < axis) tp->outer *= X->dims[d];
        if (d > axis) tp->inner *= X->dims[d];
    }
    tp->len = X->dims[axis];
    tp->k = k;
    tp->largest = (int)largest; /* sorted=0 may come in any order: sort */
    tp->dtype = X->dtype;
    tp->esize = onyx_dtype_size(X->dtype);
    p->params = tp;
    p->scratch_bytes = 2 * (size_t)tp->len * sizeof(int64_t);

    int64_t dims[ONYX_MAX_RANK];
    memcpy(dims, X->dims, sizeof dims);
    dims[axis] = k;
    if (p->out[TK_VALUES])
        onyx_set_shape(p->out[TK_VALUES], X->dtype, X->rank, dims);
    if (p->n_out > TK_INDICES && p->out[TK_INDICES])
        onyx_set_shape(p->out[TK_INDICES], ONYX_INT64, X->rank, dims);
    return ONYX_OK;
}

/* Does element a come before b in the output? (line: the line's elements
 * at stride `inner`) Larger (or smaller) first; on a tie the lower index,
 * which the stable sort keeps by itself. NaN counts as the largest. */
#define TOPK_BEFORE(T)                                                         \
    static inline int before_##T(const T *line, int64_t inner, int64_t a,      \
                                 int64_t b, int largest)                       \
    {                                                                          \
        T va = line[a * inner], vb = line[b * inner];                          \
        if (va != va) return largest && vb == vb;                              \
        if (vb != vb) return !largest;                                         \
        return largest ? va > vb : va < vb;                                    \
    }
typedef float f32;
typedef double f64;
TOPK_BEFORE(f32)
TOPK_BEFORE(f64)
TOPK_BEFORE(int64_t)
TOPK_BEFORE(int32_t)

static int before(const topk_params *tp, const void *line, int64_t a, int64_t b)
{
    switch (tp->dtype) {
    case ONYX_FLOAT: return before_f32(line, tp->inner, a, b, tp->largest);
    case ONYX_DOUBLE: return before_f64(line, tp->inner, a, b, tp->largest);
    case ONYX_INT64: return before_int64_t(line, tp->inner, a, b, tp->largest);
    default: return before_int32_t(line, tp->inner, a, b, tp->largest);
    }
}

/* Stable bottom-up merge sort of idx (n,) using tmp (n,); returns the array
 * that holds the result. */
static int64_t *merge_sort(const topk_params *tp, const void *line,
                           int64_t *idx, int64_t *tmp, int64_t n)
{
    for (int64_t w = 1; w < n; w *= 2) {
        for (int64_t lo = 0; lo < n; lo += 2 * w) {
            int64_t mid = lo + w < n ? lo + w : n;
            int64_t hi = lo + 2 * w < n ? lo + 2 * w : n;
            int64_t i = lo, j = mid, o = lo;
            while (i < mid && j < hi)
                tmp[o++] =
                    before(tp, line, idx[j], idx[i]) ? idx[j++] : idx[i++];
            while (i < mid)
                tmp[o++] = idx[i++];
            while (j < hi)
                tmp[o++] = idx[j++];
        }
        int64_t *t = idx;
        idx = tmp;
        tmp = t;
    }
    return idx;
}

static onyx_status topk_eval(onyx_exec *e)
{
    const topk_params *tp = e->params;
    if (e->n_in > TK_K && e->in[TK_K] &&
        *(const int64_t *)e->in[TK_K]->data != tp->k) {
        e->err = k_error;
        return ONYX_ERR_RUNTIME;
    }
    onyx_tensor *V = e->out[TK_VALUES];
    onyx_tensor *I = e->n_out > TK_INDICES ? e->out[TK_INDICES] : NULL;
    const char *x = e->in[TK_X]->data;
    int64_t *idx = e->scratch, *tmp = idx + tp->len;
    size_t es = tp->esize;
    int64_t len = tp->len, inner = tp->inner, k = tp->k;
    for (int64_t o = 0; o < tp->outer; o++)
        for (int64_t c = 0; c < inner; c++) {
            const char *line = x + ((o * len) * inner + c) * (int64_t)es;
            for (int64_t j = 0; j < len; j++)
                idx[j] = j;
            const int64_t *s = merge_sort(tp, line, idx, tmp, len);
            int64_t base = (o * k) * inner + c;
            for (int64_t j = 0; j < k; j++) {
                if (V)
                    memcpy((char *)V->data + (base + j * inner) * (int64_t)es,
                           line + s[j] * inner * (int64_t)es, es);
                if (I) ((int64_t *)I->data)[base + j * inner] = s[j];
            }
        }
    return ONYX_OK;
}

const onyx_op onyx_op_TopK = {"TopK", topk_prepare, topk_eval, 0, NULL};
