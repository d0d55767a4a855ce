/* unique.c - Unique: the distinct elements (or slices along an axis) of X,
 * sorted or in order of first appearance, with the index of each one's
 * first appearance, the inverse map and the counts.
 *
 * X is seen as n items of s elements: (outer, n, inner) with the axis in
 * the middle, or n = numel(X) items of one element without an axis; items
 * compare lexicographically over (outer, inner), as numpy's unique does
 * after moving the axis first. A stable merge sort of the items groups the
 * equal ones, the lowest index first in each group.
 *
 * The number of distinct items shapes every output but the inverse map, so
 * prepare groups the items of X's data, which must be known when the model
 * is resolved; eval groups again and fails if the count has changed. */
#include "onyx_kernel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { UQ_X = 0, UQ_Y = 0, UQ_INDICES = 1, UQ_INVERSE = 2, UQ_COUNTS = 3 };

#define UQ_TYPES                                                               \
    (ONYX_MASK(ONYX_FLOAT) | ONYX_MASK(ONYX_DOUBLE) | ONYX_MASK(ONYX_INT64) |  \
     ONYX_MASK(ONYX_INT32) | ONYX_MASK(ONYX_INT8) | ONYX_MASK(ONYX_UINT8) |    \
     ONYX_MASK(ONYX_BOOL))

static const char count_error[] =
    "Unique: the number of distinct values changed since the model was "
    "resolved";

typedef struct {
    int sorted;
    int64_t outer, n, inner, count;
    size_t esize;
} unique_params;

/* work, in int64s: perm, tmp, group of each item, first item and count of
 * each group, output position of each group */
enum { W_PERM, W_TMP, W_GROUP, W_FIRST, W_COUNT, W_POS, W_N };

/* Elements ka and kb of X compared as numbers: <0, 0, >0. */
static int cmp_elem(const onyx_tensor *X, int64_t ka, int64_t kb)
{
    if (X->dtype == ONYX_FLOAT || X->dtype == ONYX_DOUBLE) {
        double a = onyx_get_double(X, ka), b = onyx_get_double(X, kb);
        if (isnan(a) || isnan(b)) return isnan(a) - isnan(b); /* NaN last */
        return (a > b) - (a < b);
    }
    int64_t a = onyx_get_int(X, ka), b = onyx_get_int(X, kb);
    return (a > b) - (a < b);
}

/* Items a and b of X: <0, 0, >0. */
static int cmp_item(const unique_params *up, const onyx_tensor *X, int64_t a,
                    int64_t b)
{
    for (int64_t o = 0; o < up->outer; o++)
        for (int64_t c = 0; c < up->inner; c++) {
            int64_t base = o * up->n * up->inner + c;
            int r = cmp_elem(X, base + a * up->inner, base + b * up->inner);
            if (r) return r;
        }
    return 0;
}

/* Groups the items of X into w (W_N * n int64s); returns the count of
 * distinct items. */
static int64_t unique_group(const unique_params *up, const onyx_tensor *X,
                            int64_t *w)
{
    int64_t n = up->n;
    int64_t *perm = w + W_PERM * n, *tmp = w + W_TMP * n;
    int64_t *group = w + W_GROUP * n, *first = w + W_FIRST * n;
    int64_t *count = w + W_COUNT * n, *pos = w + W_POS * n;
    for (int64_t i = 0; i < n; i++)
        perm[i] = i;
    /* stable bottom-up merge sort */
    for (int64_t width = 1; width < n; width *= 2) {
        for (int64_t lo = 0; lo < n; lo += 2 * width) {
            int64_t mid = lo + width < n ? lo + width : n;
            int64_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            int64_t i = lo, j = mid, o = lo;
            while (i < mid && j < hi)
                tmp[o++] = cmp_item(up, X, perm[j], perm[i]) < 0 ? perm[j++]
                                                                 : perm[i++];
            while (i < mid)
                tmp[o++] = perm[i++];
            while (j < hi)
                tmp[o++] = perm[j++];
        }
        int64_t *t = perm;
        perm = tmp;
        tmp = t;
    }
    int64_t g = -1;
    for (int64_t k = 0; k < n; k++) {
        if (k == 0 || cmp_item(up, X, perm[k - 1], perm[k])) {
            g++;
            first[g] = perm[k];
            count[g] = 0;
        }
        group[perm[k]] = g;
        count[g]++;
    }
    int64_t u = g + 1;
    /* output order: sorted, or by first appearance */
    if (up->sorted) {
        for (int64_t q = 0; q < u; q++)
            pos[q] = q;
    } else {
        int64_t next = 0;
        for (int64_t i = 0; i < n; i++)
            if (first[group[i]] == i) pos[group[i]] = next++;
    }
    return u;
}

static onyx_status unique_prepare(onyx_prep *p)
{
    ONYX_TRY(onyx_need_dtype(p, UQ_X, UQ_TYPES));
    const onyx_tensor *X = p->in[UQ_X];
    int64_t sorted = onyx_attr_int(p, "sorted", 1);
    ONYX_CHECK(p, sorted == 0 || sorted == 1, "sorted is %lld, not 0 or 1",
               (long long)sorted);
    unique_params *up = calloc(1, sizeof *up);
    if (!up) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    p->params = up;
    up->sorted = (int)sorted;
    up->esize = onyx_dtype_size(X->dtype);
    up->outer = up->inner = 1;
    up->n = onyx_numel(X);
    int axis = -1;
    if (onyx_attr_get(p, "axis")) {
        ONYX_CHECK(p, X->rank >= 1, "a scalar has no axis");
        ONYX_TRY(onyx_axis(p, onyx_attr_int(p, "axis", 0), X->rank, 0, &axis));
        up->n = X->dims[axis];
        for (int d = 0; d < X->rank; d++) {
            if (d < axis) up->outer *= X->dims[d];
            if (d > axis) up->inner *= X->dims[d];
        }
    }
    if (!X->data)
        return onyx_fail(p, ONYX_ERR_UNSUPPORTED,
                         "X must be known when the model is resolved: the "
                         "output shape depends on its data");
    ONYX_CHECK(p, up->n < ((int64_t)1 << 40), "too many items");
    int64_t *w = malloc(sizeof *w * (size_t)(W_N * up->n + 1));
    if (!w) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    up->count = unique_group(up, X, w);
    free(w);
    p->scratch_bytes = sizeof(int64_t) * (size_t)(W_N * up->n);

    int64_t dims[ONYX_MAX_RANK];
    int rank = 1;
    dims[0] = up->count;
    if (axis >= 0) {
        memcpy(dims, X->dims, sizeof dims);
        dims[axis] = up->count;
        rank = X->rank;
    }
    if (p->out[UQ_Y]) onyx_set_shape(p->out[UQ_Y], X->dtype, rank, dims);
    for (int k = UQ_INDICES; k <= UQ_COUNTS && k < p->n_out; k++) {
        int64_t len = k == UQ_INVERSE ? up->n : up->count;
        if (p->out[k]) onyx_set_shape(p->out[k], ONYX_INT64, 1, &len);
    }
    return ONYX_OK;
}

static onyx_status unique_eval(onyx_exec *e)
{
    const unique_params *up = e->params;
    const onyx_tensor *X = e->in[UQ_X];
    int64_t *w = e->scratch, n = up->n;
    if (unique_group(up, X, w) != up->count) {
        e->err = count_error;
        return ONYX_ERR_RUNTIME;
    }
    const int64_t *group = w + W_GROUP * n, *first = w + W_FIRST * n;
    const int64_t *count = w + W_COUNT * n, *pos = w + W_POS * n;
    onyx_tensor *out[4] = {NULL, NULL, NULL, NULL};
    for (int k = 0; k < 4 && k < e->n_out; k++)
        out[k] = e->out[k];
    int64_t u = up->count, es = (int64_t)up->esize, chunk = up->inner * es;
    for (int64_t g = 0; g < u; g++) {
        int64_t q = pos[g];
        if (out[UQ_Y])
            for (int64_t o = 0; o < up->outer; o++)
                memcpy((char *)out[UQ_Y]->data + (o * u + q) * chunk,
                       (const char *)X->data + (o * n + first[g]) * chunk,
                       (size_t)chunk);
        if (out[UQ_INDICES]) ((int64_t *)out[UQ_INDICES]->data)[q] = first[g];
        if (out[UQ_COUNTS]) ((int64_t *)out[UQ_COUNTS]->data)[q] = count[g];
    }
    if (out[UQ_INVERSE])
        for (int64_t i = 0; i < n; i++)
            ((int64_t *)out[UQ_INVERSE]->data)[i] = pos[group[i]];
    return ONYX_OK;
}

const onyx_op onyx_op_Unique = {"Unique", unique_prepare, unique_eval, 0, NULL};
