/* gather.c - Gather (whole slices picked along an axis by an index tensor)
 * and GatherElements (one element per index, numpy's take_along_axis). */
#include "onyx_kernel.h"

#include <stdlib.h>
#include <string.h>

#define INDEX_TYPES (ONYX_MASK(ONYX_INT64) | ONYX_MASK(ONYX_INT32))

enum { G_DATA = 0, G_INDICES = 1, G_OUT = 0 };

static const char index_error[] = "index out of range";

/* Index k of an int64 or int32 tensor, negative values counted from the end
 * of an axis of length d. Returns -1 when out of [-d, d-1]. */
static inline int64_t get_index(const onyx_tensor *I, int64_t k, int64_t d)
{
    int64_t i = I->dtype == ONYX_INT64 ? ((const int64_t *)I->data)[k]
                                       : ((const int32_t *)I->data)[k];
    if (i < 0) i += d;
    return i >= 0 && i < d ? i : -1;
}

static onyx_status check_inputs(onyx_prep *p)
{
    ONYX_TRY(onyx_need_dtype(p, G_DATA, ONYX_DATA_DTYPES));
    ONYX_TRY(onyx_need_dtype(p, G_INDICES, INDEX_TYPES));
    ONYX_CHECK(p, p->in[G_DATA]->rank >= 1, "data must have rank >= 1");
    return ONYX_OK;
}

/* ---- Gather -------------------------------------------------------------- */

/* data seen as (outer, axis_len, inner): for each outer row and each index,
 * one chunk of inner elements. */
typedef struct {
    int64_t outer, axis_len, n_idx;
    size_t chunk; /* bytes */
    /* constant indices that are runs of consecutive values (framing a
     * signal, slicing by Gather): run r copies len[r] chunks from src[r] to
     * dst[r], one memcpy; NULL otherwise */
    int64_t n_runs;
    int64_t *runs; /* (n_runs, 3): dst, src, len; owned */
} gather_params;

static void gather_free(void *params)
{
    gather_params *gp = params;
    if (gp) free(gp->runs);
    free(gp);
}

/* Sets gp->runs when the indices are constant, in range, and come in runs
 * of 8 or more on average. */
static onyx_status gather_runs(onyx_prep *p, gather_params *gp)
{
    const onyx_tensor *I = p->in[G_INDICES];
    if (!p->in_const || !p->in_const[G_INDICES] || !I->data || gp->n_idx < 8)
        return ONYX_OK;
    int64_t n_runs = 0, prev = -2;
    for (int64_t j = 0; j < gp->n_idx; j++) {
        int64_t i = get_index(I, j, gp->axis_len);
        if (i < 0) return ONYX_OK; /* eval reports it */
        n_runs += i != prev + 1;
        prev = i;
    }
    if (n_runs * 8 > gp->n_idx) return ONYX_OK;
    gp->runs = malloc((size_t)n_runs * 3 * sizeof *gp->runs);
    if (!gp->runs) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    int64_t r = -1;
    prev = -2;
    for (int64_t j = 0; j < gp->n_idx; j++) {
        int64_t i = get_index(I, j, gp->axis_len);
        if (i != prev + 1) {
            r++;
            gp->runs[3 * r] = j;
            gp->runs[3 * r + 1] = i;
            gp->runs[3 * r + 2] = 0;
        }
        gp->runs[3 * r + 2]++;
        prev = i;
    }
    gp->n_runs = n_runs;
    return ONYX_OK;
}

static onyx_status gather_prepare(onyx_prep *p)
{
    ONYX_TRY(check_inputs(p));
    const onyx_tensor *X = p->in[G_DATA], *I = p->in[G_INDICES];
    int axis;
    ONYX_TRY(onyx_axis(p, onyx_attr_int(p, "axis", 0), X->rank, 0, &axis));
    int r = X->rank - 1 + I->rank;
    ONYX_CHECK(p, r <= ONYX_MAX_RANK, "output rank %d is more than %d", r,
               ONYX_MAX_RANK);
    int64_t dims[ONYX_MAX_RANK];
    int j = 0;
    for (int k = 0; k < axis; k++)
        dims[j++] = X->dims[k];
    for (int k = 0; k < I->rank; k++)
        dims[j++] = I->dims[k];
    for (int k = axis + 1; k < X->rank; k++)
        dims[j++] = X->dims[k];
    if (p->out[G_OUT]) onyx_set_shape(p->out[G_OUT], X->dtype, r, dims);

    gather_params *gp = calloc(1, sizeof *gp);
    if (!gp) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    gp->outer = 1;
    gp->chunk = onyx_dtype_size(X->dtype);
    for (int k = 0; k < X->rank; k++) {
        if (k < axis) gp->outer *= X->dims[k];
        if (k > axis) gp->chunk *= (size_t)X->dims[k];
    }
    gp->axis_len = X->dims[axis];
    gp->n_idx = onyx_numel(I);
    p->params = gp;
    p->free_params = gather_free;
    return gather_runs(p, gp);
}

/* One outer row: y[j] = row[I[j]] for n chunks of c bytes. c is a constant
 * at the calls that matter (one float, one int64) so the copies inline.
 * Returns 0, or -1 on an index out of range. */
static inline int gather_row(char *y, const char *row, const onyx_tensor *I,
                             int64_t n, int64_t axis_len, size_t c)
{
    for (int64_t j = 0; j < n; j++) {
        int64_t i = get_index(I, j, axis_len);
        if (i < 0) return -1;
        memcpy(y + j * (int64_t)c, row + i * (int64_t)c, c);
    }
    return 0;
}

static onyx_status gather_eval(onyx_exec *e)
{
    const gather_params *gp = e->params;
    const onyx_tensor *I = e->in[G_INDICES];
    if (!e->out[G_OUT]) return ONYX_OK;
    const char *x = e->in[G_DATA]->data;
    char *y = e->out[G_OUT]->data;
    size_t c = gp->chunk;
    int64_t n = gp->n_idx, len = gp->axis_len;
    for (int64_t o = 0; o < gp->outer; o++) {
        const char *row = x + o * len * (int64_t)c;
        char *yo = y + o * n * (int64_t)c;
        if (gp->runs) {
            for (int64_t r = 0; r < gp->n_runs; r++) {
                const int64_t *q = gp->runs + 3 * r;
                memcpy(yo + q[0] * (int64_t)c, row + q[1] * (int64_t)c,
                       (size_t)q[2] * c);
            }
            continue;
        }
        int bad;
        switch (c) {
        case 4: bad = gather_row(yo, row, I, n, len, 4); break;
        case 8: bad = gather_row(yo, row, I, n, len, 8); break;
        default: bad = gather_row(yo, row, I, n, len, c); break;
        }
        if (bad) {
            e->err = index_error;
            return ONYX_ERR_RUNTIME;
        }
    }
    return ONYX_OK;
}

const onyx_op onyx_op_Gather = {"Gather", gather_prepare, gather_eval, 0, NULL};

/* ---- GatherElements ------------------------------------------------------ */

/* Y has the indices' shape; Y[i0..] = X[i0.., I[i0..] at axis, ..]. */
typedef struct {
    int rank, axis;
    size_t esize;
    int64_t dims[ONYX_MAX_RANK];      /* of the indices (= of Y) */
    int64_t x_strides[ONYX_MAX_RANK]; /* of X, elements */
} gather_el_params;

static onyx_status gather_el_prepare(onyx_prep *p)
{
    ONYX_TRY(check_inputs(p));
    const onyx_tensor *X = p->in[G_DATA], *I = p->in[G_INDICES];
    int axis;
    ONYX_TRY(onyx_axis(p, onyx_attr_int(p, "axis", 0), X->rank, 0, &axis));
    char a[96], b[96];
    ONYX_CHECK(p, I->rank == X->rank,
               "indices %s and data %s must have the same rank",
               onyx_shape_str(I, a, sizeof a), onyx_shape_str(X, b, sizeof b));
    for (int k = 0; k < X->rank; k++)
        ONYX_CHECK(p, k == axis || I->dims[k] <= X->dims[k],
                   "indices %s is larger than data %s on axis %d",
                   onyx_shape_str(I, a, sizeof a),
                   onyx_shape_str(X, b, sizeof b), k);
    if (p->out[G_OUT])
        onyx_set_shape(p->out[G_OUT], X->dtype, I->rank, I->dims);

    gather_el_params *gp = calloc(1, sizeof *gp);
    if (!gp) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    gp->rank = X->rank;
    gp->axis = axis;
    gp->esize = onyx_dtype_size(X->dtype);
    int64_t s = 1;
    for (int k = X->rank - 1; k >= 0; k--) {
        gp->dims[k] = I->dims[k];
        gp->x_strides[k] = s;
        s *= X->dims[k];
    }
    p->params = gp;
    return ONYX_OK;
}

/* Y[j] = X[offset of j with the axis coordinate replaced by I[j]], walked
 * with an odometer over the indices' shape that keeps the offset in X of
 * the element whose axis coordinate is 0. es is a constant at the calls that
 * matter. Returns 0, or -1 on an index out of range. */
static inline int gather_el_all(char *y, const char *x, const onyx_tensor *I,
                                const gather_el_params *gp, int64_t axis_len,
                                size_t es)
{
    int r = gp->rank, axis = gp->axis;
    int64_t n = onyx_numel(I), axis_stride = gp->x_strides[axis];
    int64_t idx[ONYX_MAX_RANK] = {0};
    int64_t off = 0;
    for (int64_t j = 0; j < n; j++) {
        int64_t i = get_index(I, j, axis_len);
        if (i < 0) return -1;
        memcpy(y + j * (int64_t)es, x + (off + i * axis_stride) * (int64_t)es,
               es);
        for (int k = r - 1; k >= 0; k--) {
            if (k != axis) off += gp->x_strides[k];
            if (++idx[k] < gp->dims[k]) break;
            if (k != axis) off -= gp->x_strides[k] * gp->dims[k];
            idx[k] = 0;
        }
    }
    return 0;
}

static onyx_status gather_el_eval(onyx_exec *e)
{
    const gather_el_params *gp = e->params;
    const onyx_tensor *X = e->in[G_DATA], *I = e->in[G_INDICES];
    if (!e->out[G_OUT]) return ONYX_OK;
    int64_t len = X->dims[gp->axis];
    char *y = e->out[G_OUT]->data;
    int bad;
    switch (gp->esize) {
    case 4: bad = gather_el_all(y, X->data, I, gp, len, 4); break;
    case 8: bad = gather_el_all(y, X->data, I, gp, len, 8); break;
    default: bad = gather_el_all(y, X->data, I, gp, len, gp->esize); break;
    }
    if (bad) {
        e->err = index_error;
        return ONYX_ERR_RUNTIME;
    }
    return ONYX_OK;
}

const onyx_op onyx_op_GatherElements = {"GatherElements", gather_el_prepare,
                                        gather_el_eval, 0, NULL};
