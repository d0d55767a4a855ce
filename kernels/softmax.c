/* softmax.c - Softmax and LogSoftmax, numerically stable (the row maximum is
 * subtracted before exp), and Hardmax (1 at the first maximum, 0 elsewhere).
 *
 * All three views reduce to X (outer, n, inner) normalised along n:
 *   opset >= 13: per axis; outer = prod(dims[:axis]), n = dims[axis],
 *                inner = prod(dims[axis+1:]); default axis -1.
 *   opset < 13:  X is coerced to 2-D [prod(dims[:axis]), prod(dims[axis:])]
 *                and each row is normalised; inner = 1; default axis 1. */
#include "onyx_kernel.h"
#include "math/vmath.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { SM_X = 0 };
enum { SM_Y = 0 };

typedef struct {
    int64_t outer, n, inner; /* X viewed as (outer, n, inner) */
    int log;                 /* LogSoftmax */
    int hard;                /* Hardmax */
} softmax_params;

/* ---- the kernels --------------------------------------------------------- */

/* y (n,) = softmax(x (n,)), or log-softmax when log. */
static void softmax_row(float *y, const float *x, int64_t n, int log)
{
    int64_t n4 = n & ~(int64_t)3, k;
    v4f vm = v4_set1(-INFINITY);
    for (k = 0; k < n4; k += 4)
        vm = v4_max(vm, v4_load(x + k));
    float m = -INFINITY;
    for (int u = 0; u < 4; u++)
        m = vm[u] > m ? vm[u] : m;
    for (; k < n; k++)
        m = x[k] > m ? x[k] : m;

    /* y = e^(x - m), s = sum(y) */
    v4f vs = v4_set1(0.0f);
    for (k = 0; k < n4; k += 4) {
        v4f e = v4_exp_neg(v4_load(x + k) - m);
        v4_store(y + k, e);
        vs += e;
    }
    float s = v4_sum(vs);
    for (; k < n; k++) {
        y[k] = expf(x[k] - m);
        s += y[k];
    }
    if (log) {
        float ls = logf(s); /* (x - m) - ls keeps precision for large x */
        for (k = 0; k < n4; k += 4)
            v4_store(y + k, (v4_load(x + k) - m) - ls);
        for (; k < n; k++)
            y[k] = (x[k] - m) - ls;
    } else {
        float r = 1.0f / s;
        for (k = 0; k < n4; k += 4)
            v4_store(y + k, v4_load(y + k) * r);
        for (; k < n; k++)
            y[k] *= r;
    }
}

/* y (n,inner) = softmax of x (n,inner) along n, vectorised over inner.
 * m and s are scratch rows of inner floats (maximum, then sum). */
static void softmax_cols(float *y, const float *x, int64_t n, int64_t inner,
                         int log, float *m, float *s)
{
    int64_t in4 = inner & ~(int64_t)3, j;
    memcpy(m, x, (size_t)inner * sizeof *m);
    memset(s, 0, (size_t)inner * sizeof *s);
    for (int64_t k = 1; k < n; k++) {
        const float *xk = x + k * inner;
        for (j = 0; j < in4; j += 4)
            v4_store(m + j, v4_max(v4_load(m + j), v4_load(xk + j)));
        for (; j < inner; j++)
            m[j] = xk[j] > m[j] ? xk[j] : m[j];
    }
    for (int64_t k = 0; k < n; k++) {
        const float *xk = x + k * inner;
        float *yk = y + k * inner;
        for (j = 0; j < in4; j += 4) {
            v4f e = v4_exp_neg(v4_load(xk + j) - v4_load(m + j));
            v4_store(yk + j, e);
            v4_store(s + j, v4_load(s + j) + e);
        }
        for (; j < inner; j++) {
            yk[j] = expf(xk[j] - m[j]);
            s[j] += yk[j];
        }
    }
    if (log) {
        for (j = 0; j < inner; j++)
            s[j] = logf(s[j]);
        for (int64_t k = 0; k < n; k++) {
            const float *xk = x + k * inner;
            float *yk = y + k * inner;
            for (j = 0; j < in4; j += 4)
                v4_store(yk + j,
                         (v4_load(xk + j) - v4_load(m + j)) - v4_load(s + j));
            for (; j < inner; j++)
                yk[j] = (xk[j] - m[j]) - s[j];
        }
    } else {
        for (j = 0; j < inner; j++)
            s[j] = 1.0f / s[j];
        for (int64_t k = 0; k < n; k++) {
            float *yk = y + k * inner;
            for (j = 0; j < in4; j += 4)
                v4_store(yk + j, v4_load(yk + j) * v4_load(s + j));
            for (; j < inner; j++)
                yk[j] *= s[j];
        }
    }
}

/* y (n,inner) = one-hot of the first maximum of x (n,inner) along n, for
 * each of the inner columns (ties go to the first, as numpy's argmax). */
static void hardmax_cols(float *y, const float *x, int64_t n, int64_t inner)
{
    for (int64_t j = 0; j < inner; j++) {
        int64_t best = 0;
        for (int64_t k = 1; k < n; k++)
            if (x[k * inner + j] > x[best * inner + j]) best = k;
        for (int64_t k = 0; k < n; k++)
            y[k * inner + j] = k == best ? 1.0f : 0.0f;
    }
}

static onyx_status softmax_prepare(onyx_prep *p)
{
    ONYX_TRY(onyx_need_dtype(p, SM_X, ONYX_MASK(ONYX_FLOAT)));
    const onyx_tensor *X = p->in[SM_X];
    int modern = p->opset >= 13;
    int64_t axis_attr = onyx_attr_int(p, "axis", modern ? -1 : 1);
    int axis = 0;
    if (X->rank == 0) {
        /* a scalar: treat as one element along one axis */
        ONYX_CHECK(p, axis_attr == 0 || axis_attr == -1,
                   "axis %lld is out of range for a scalar input",
                   (long long)axis_attr);
    } else if (!modern && axis_attr == X->rank) {
        /* the 2-D view [numel, 1]: the default axis 1 on a 1-D input */
        axis = X->rank;
    } else {
        ONYX_TRY(onyx_axis(p, axis_attr, X->rank, 0, &axis));
    }
    ONYX_CHECK(p, p->out[SM_Y] != NULL, "output Y is required");
    softmax_params *sp = calloc(1, sizeof *sp);
    if (!sp) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    sp->log = p->op_type[0] == 'L';
    sp->hard = p->op_type[0] == 'H';
    sp->outer = sp->n = sp->inner = 1;
    for (int i = 0; i < X->rank; i++) {
        if (i < axis)
            sp->outer *= X->dims[i];
        else if (i == axis || !modern)
            sp->n *= X->dims[i];
        else
            sp->inner *= X->dims[i];
    }
    p->params = sp;
    if (sp->inner > 1 && !sp->hard)
        p->scratch_bytes = 2 * (size_t)sp->inner * sizeof(float);
    onyx_set_shape(p->out[SM_Y], ONYX_FLOAT, X->rank, X->dims);
    return ONYX_OK;
}

static onyx_status softmax_eval(onyx_exec *e)
{
    const softmax_params *sp = e->params;
    const float *x = e->in[SM_X]->data;
    float *y = e->out[SM_Y]->data;
    int64_t block = sp->n * sp->inner;
    if (block == 0) return ONYX_OK;
    if (sp->hard) {
        for (int64_t o = 0; o < sp->outer; o++)
            hardmax_cols(y + o * block, x + o * block, sp->n, sp->inner);
    } else if (sp->inner == 1) {
        for (int64_t o = 0; o < sp->outer; o++)
            softmax_row(y + o * block, x + o * block, sp->n, sp->log);
    } else {
        float *m = e->scratch, *s = m + sp->inner;
        for (int64_t o = 0; o < sp->outer; o++)
            softmax_cols(y + o * block, x + o * block, sp->n, sp->inner,
                         sp->log, m, s);
    }
    return ONYX_OK;
}

const onyx_op onyx_op_Softmax = {"Softmax", softmax_prepare, softmax_eval, 0,
                                 NULL};
const onyx_op onyx_op_LogSoftmax = {"LogSoftmax", softmax_prepare, softmax_eval,
                                    0, NULL};
const onyx_op onyx_op_Hardmax = {"Hardmax", softmax_prepare, softmax_eval, 0,
                                 NULL};
