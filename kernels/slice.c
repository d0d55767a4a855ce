/* slice.c - Slice: a strided window of the input (starts, ends, axes, steps),
 * planned in prepare as a view and copied by the strided copy of view.h. */
#include "onyx_kernel.h"
#include "math/view.h"

#include <stdlib.h>
#include <string.h>

enum { S_DATA = 0, S_STARTS, S_ENDS, S_AXES, S_STEPS, S_OUT = 0 };

/* Y = the view of X starting at element `base`. */
typedef struct {
    int rank;
    size_t esize;
    int64_t base;
    int64_t dims[ONYX_VIEW_MAX_RANK];
    int64_t strides[ONYX_VIEW_MAX_RANK];
} slice_params;

/* One of starts/ends/axes/steps: from an attribute before opset 10, from an
 * input after. Sets *n to -1 when absent (or an empty optional input). */
static onyx_status slice_arg(onyx_prep *p, const char *name, int input,
                             int64_t *v, int64_t *n)
{
    *n = -1;
    if (p->opset < 10) {
        const int64_t *a;
        int64_t c = onyx_attr_ints(p, name, &a);
        ONYX_CHECK(p, c <= ONYX_MAX_RANK, "%s has %lld entries", name,
                   (long long)c);
        for (int64_t i = 0; i < c; i++)
            v[i] = a[i];
        *n = c;
        return ONYX_OK;
    }
    if (p->n_in <= input || !p->in[input]) return ONYX_OK;
    const onyx_tensor *t = p->in[input];
    if (onyx_numel(t) == 0 && input >= S_AXES) return ONYX_OK;
    ONYX_TRY(onyx_need_value(p, input));
    ONYX_TRY(onyx_need_dtype(p, input,
                             ONYX_MASK(ONYX_INT64) | ONYX_MASK(ONYX_INT32)));
    int64_t c = onyx_numel(t);
    ONYX_CHECK(p, t->rank == 1, "%s must be a 1-D tensor, not rank %d", name,
               t->rank);
    ONYX_CHECK(p, c <= ONYX_MAX_RANK, "%s has %lld entries", name,
               (long long)c);
    for (int64_t i = 0; i < c; i++)
        v[i] = onyx_get_int(t, i);
    *n = c;
    return ONYX_OK;
}

static int64_t clamp(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static onyx_status slice_prepare(onyx_prep *p)
{
    ONYX_TRY(onyx_need_dtype(p, S_DATA, ONYX_DATA_DTYPES));
    const onyx_tensor *X = p->in[S_DATA];
    int r = X->rank;
    int64_t starts[ONYX_MAX_RANK], ends[ONYX_MAX_RANK], axes[ONYX_MAX_RANK],
        steps[ONYX_MAX_RANK];
    int64_t ns, ne, na, nst;
    ONYX_TRY(slice_arg(p, "starts", S_STARTS, starts, &ns));
    ONYX_TRY(slice_arg(p, "ends", S_ENDS, ends, &ne));
    ONYX_TRY(slice_arg(p, "axes", S_AXES, axes, &na));
    ONYX_TRY(slice_arg(p, "steps", S_STEPS, steps, &nst));
    ONYX_CHECK(p, ns >= 0,
               p->opset < 10 ? "attribute starts is required"
                             : "input 1 (starts) is required");
    ONYX_CHECK(p, ne >= 0,
               p->opset < 10 ? "attribute ends is required"
                             : "input 2 (ends) is required");
    ONYX_CHECK(p, ne == ns, "starts has %lld entries, ends %lld", (long long)ns,
               (long long)ne);
    if (na < 0) {
        ONYX_CHECK(p, ns <= r, "starts has %lld entries for rank %d",
                   (long long)ns, r);
        for (int i = 0; i < ns; i++)
            axes[i] = i;
    } else {
        ONYX_CHECK(p, na == ns, "axes has %lld entries, starts %lld",
                   (long long)na, (long long)ns);
    }
    if (nst < 0) {
        for (int i = 0; i < ns; i++)
            steps[i] = 1;
    } else {
        ONYX_CHECK(p, nst == ns, "steps has %lld entries, starts %lld",
                   (long long)nst, (long long)ns);
    }

    /* Every axis starts as the whole range with step 1. */
    int64_t first[ONYX_MAX_RANK], step[ONYX_MAX_RANK], dims[ONYX_MAX_RANK];
    int seen[ONYX_MAX_RANK] = {0};
    for (int k = 0; k < r; k++) {
        first[k] = 0;
        step[k] = 1;
        dims[k] = X->dims[k];
    }
    for (int i = 0; i < ns; i++) {
        int a;
        ONYX_TRY(onyx_axis(p, axes[i], r, 0, &a));
        ONYX_CHECK(p, !seen[a], "axis %d appears twice in axes", a);
        seen[a] = 1;
        int64_t d = X->dims[a], st = steps[i], b = starts[i], e = ends[i];
        ONYX_CHECK(p, st != 0 && st != INT64_MIN, "steps[%d] is %lld", i,
                   (long long)st);
        /* negative start/end count from the back; then clamp to the axis
         * ([0, d] going forward, [-1, d-1] going backward, where -1 is
         * "before the first element") */
        if (b < 0) b += d;
        if (e < 0) e += d;
        int64_t n;
        if (st > 0) {
            b = clamp(b, 0, d);
            e = clamp(e, 0, d);
            n = e > b ? (e - b - 1) / st + 1 : 0;
        } else {
            b = clamp(b, 0, d - 1);
            e = clamp(e, -1, d - 1);
            n = b > e ? (b - e - 1) / -st + 1 : 0;
        }
        first[a] = b;
        step[a] = st;
        dims[a] = n;
    }
    if (p->out[S_OUT]) onyx_set_shape(p->out[S_OUT], X->dtype, r, dims);

    slice_params *sp = calloc(1, sizeof *sp);
    if (!sp) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    sp->esize = onyx_dtype_size(X->dtype);
    int64_t s = 1, empty = 0;
    for (int k = r - 1; k >= 0; k--) {
        sp->dims[k] = dims[k];
        /* a step past the axis' end takes one element and may be any
         * int64: only a step that is taken scales the stride */
        sp->strides[k] = dims[k] > 1 ? s * step[k] : s;
        sp->base += first[k] * s;
        if (dims[k] == 0) empty = 1;
        s *= X->dims[k];
    }
    if (empty) sp->base = 0;
    sp->rank = onyx_view_simplify(r, sp->dims, sp->strides);
    p->params = sp;
    return ONYX_OK;
}

static onyx_status slice_eval(onyx_exec *e)
{
    const slice_params *sp = e->params;
    if (!e->out[S_OUT]) return ONYX_OK;
    const char *x = e->in[S_DATA]->data;
    onyx_view_copy(e->out[S_OUT]->data, x + sp->base * (int64_t)sp->esize,
                   sp->esize, sp->rank, sp->dims, sp->strides);
    return ONYX_OK;
}

const onyx_op onyx_op_Slice = {"Slice", slice_prepare, slice_eval, 0, NULL};
