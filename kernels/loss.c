/* loss.c - the classification losses: NegativeLogLikelihoodLoss and
 * SoftmaxCrossEntropyLoss (log-softmax over the classes, then the former).
 *
 * Input is (N, C, d1, ..., dk), seen as (N, C, D) with D = prod(d); the
 * target (N, d1, ..., dk) holds one class per (n, j):
 *
 *   loss[n,j] = -w[t] * logp[n, t, j]   (t = target[n,j]; w = 1 unweighted)
 *
 * and 0 where t is ignore_index. reduction "none" returns loss shaped as the
 * target, "sum" its sum, "mean" its sum over the sum of w[t] of the entries
 * not ignored. A target outside [0, C) that is not ignore_index is an error
 * found in eval. */
#include "onyx_kernel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { L_INPUT = 0, L_TARGET = 1, L_WEIGHT = 2 };
enum { L_LOSS = 0, L_LOG_PROB = 1 };

typedef enum { RED_NONE, RED_SUM, RED_MEAN } loss_reduction;

typedef struct {
    int64_t N, C, D;
    loss_reduction reduction;
    int has_ignore;
    int64_t ignore_index;
    int softmax; /* SoftmaxCrossEntropyLoss */
} loss_params;

static const char target_error[] = "target class out of range";

static onyx_status loss_prepare(onyx_prep *p)
{
    int sce = strcmp(p->op_type, "SoftmaxCrossEntropyLoss") == 0;
    ONYX_CHECK(p, p->n_in >= 2 && p->n_in <= 3,
               "%s takes 2 or 3 inputs, got %d", p->op_type, p->n_in);
    ONYX_CHECK(p, sce ? p->n_out <= 2 : p->n_out == 1,
               "%s has too many outputs", p->op_type);
    ONYX_TRY(onyx_need_dtype(p, L_INPUT, ONYX_MASK(ONYX_FLOAT)));
    ONYX_TRY(onyx_need_dtype(p, L_TARGET,
                             ONYX_MASK(ONYX_INT64) | ONYX_MASK(ONYX_INT32)));
    const onyx_tensor *X = p->in[L_INPUT], *T = p->in[L_TARGET];
    const onyx_tensor *W = p->n_in > L_WEIGHT ? p->in[L_WEIGHT] : NULL;
    char a[96], b[96];
    ONYX_CHECK(p, X->rank >= 2, "input must be (N, C, ...), it has rank %d",
               X->rank);
    int ok = T->rank == X->rank - 1 && T->dims[0] == X->dims[0];
    for (int i = 2; ok && i < X->rank; i++)
        ok = T->dims[i - 1] == X->dims[i];
    ONYX_CHECK(p, ok, "target %s does not match input %s (N, C, d1, ...)",
               onyx_shape_str(T, a, sizeof a), onyx_shape_str(X, b, sizeof b));
    if (W) {
        ONYX_TRY(onyx_need_dtype(p, L_WEIGHT, ONYX_MASK(ONYX_FLOAT)));
        ONYX_CHECK(p, W->rank == 1 && W->dims[0] == X->dims[1],
                   "weight %s must be (C) = [%lld]",
                   onyx_shape_str(W, a, sizeof a), (long long)X->dims[1]);
    }

    loss_params lp = {.N = X->dims[0], .C = X->dims[1], .D = 1, .softmax = sce};
    for (int i = 2; i < X->rank; i++)
        lp.D *= X->dims[i];
    const char *red = onyx_attr_string(p, "reduction", "mean");
    if (strcmp(red, "none") == 0)
        lp.reduction = RED_NONE;
    else if (strcmp(red, "sum") == 0)
        lp.reduction = RED_SUM;
    else if (strcmp(red, "mean") == 0)
        lp.reduction = RED_MEAN;
    else
        return onyx_fail(p, ONYX_ERR_INVALID,
                         "reduction '%s' must be none, sum or mean", red);
    lp.has_ignore = onyx_attr_get(p, "ignore_index") != NULL;
    lp.ignore_index = onyx_attr_int(p, "ignore_index", 0);

    loss_params *q = malloc(sizeof *q);
    if (!q) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    *q = lp;
    p->params = q;
    if (p->out[L_LOSS]) {
        if (lp.reduction == RED_NONE)
            onyx_set_shape(p->out[L_LOSS], ONYX_FLOAT, T->rank, T->dims);
        else
            onyx_set_shape(p->out[L_LOSS], ONYX_FLOAT, 0, NULL);
    }
    if (sce && p->n_out > L_LOG_PROB && p->out[L_LOG_PROB])
        onyx_set_shape(p->out[L_LOG_PROB], ONYX_FLOAT, X->rank, X->dims);
    else if (sce) /* log-probabilities go to scratch when not an output */
        p->scratch_bytes = (size_t)onyx_numel(X) * sizeof(float);
    return ONYX_OK;
}

/* logp (N, C, D) = log-softmax of x (N, C, D) over C */
static void log_softmax_c(const loss_params *lp, float *logp, const float *x)
{
    for (int64_t n = 0; n < lp->N; n++)
        for (int64_t j = 0; j < lp->D; j++) {
            const float *xc = x + n * lp->C * lp->D + j;
            float *yc = logp + n * lp->C * lp->D + j;
            float m = -INFINITY;
            for (int64_t c = 0; c < lp->C; c++)
                m = xc[c * lp->D] > m ? xc[c * lp->D] : m;
            double s = 0.0;
            for (int64_t c = 0; c < lp->C; c++)
                s += expf(xc[c * lp->D] - m);
            float ls = (float)log(s);
            for (int64_t c = 0; c < lp->C; c++)
                yc[c * lp->D] = (xc[c * lp->D] - m) - ls;
        }
}

/* The loss of logp (N, C, D) against T (N, D), weights w (C) or NULL, into
 * y: (N, D) for reduction none, else one element. 0, or -1 on a target out
 * of range. */
static int nll(const loss_params *lp, float *y, const float *logp,
               const onyx_tensor *T, const float *w)
{
    double sum = 0.0, wsum = 0.0;
    for (int64_t n = 0; n < lp->N; n++)
        for (int64_t j = 0; j < lp->D; j++) {
            int64_t k = n * lp->D + j;
            int64_t t = onyx_get_int(T, k);
            float l = 0.0f, wt = 0.0f;
            if (!(lp->has_ignore && t == lp->ignore_index)) {
                if (t < 0 || t >= lp->C) return -1;
                wt = w ? w[t] : 1.0f;
                l = -logp[(n * lp->C + t) * lp->D + j] * wt;
            }
            if (lp->reduction == RED_NONE) y[k] = l;
            sum += l;
            wsum += wt;
        }
    /* a mean over nothing (every target ignored) is 0/0: NaN, as ONNX's */
    if (lp->reduction == RED_SUM) y[0] = (float)sum;
    if (lp->reduction == RED_MEAN) y[0] = (float)(sum / wsum);
    return 0;
}

static onyx_status loss_eval(onyx_exec *e)
{
    const loss_params *lp = e->params;
    const float *x = e->in[L_INPUT]->data;
    const onyx_tensor *W = e->n_in > L_WEIGHT ? e->in[L_WEIGHT] : NULL;
    const float *logp = x;
    if (lp->softmax) {
        float *lsm = e->n_out > L_LOG_PROB && e->out[L_LOG_PROB]
                         ? e->out[L_LOG_PROB]->data
                         : e->scratch;
        log_softmax_c(lp, lsm, x);
        logp = lsm;
    }
    if (!e->out[L_LOSS]) return ONYX_OK;
    if (nll(lp, e->out[L_LOSS]->data, logp, e->in[L_TARGET],
            W ? W->data : NULL)) {
        e->err = target_error;
        return ONYX_ERR_RUNTIME;
    }
    return ONYX_OK;
}

const onyx_op onyx_op_NegativeLogLikelihoodLoss = {
    "NegativeLogLikelihoodLoss", loss_prepare, loss_eval, 0, NULL};
const onyx_op onyx_op_SoftmaxCrossEntropyLoss = {
    "SoftmaxCrossEntropyLoss", loss_prepare, loss_eval, 0, NULL};
