/* det.c - Det: the determinant of each square matrix of X (..., M, M), by LU
 * decomposition with partial pivoting in double. Y has X's batch shape. */
#include "onyx_kernel.h"

#include <math.h>
#include <stdlib.h>

enum { DET_X = 0, DET_Y = 0 };

typedef struct {
    int64_t batch, m;
} det_params;

static onyx_status det_prepare(onyx_prep *p)
{
    ONYX_CHECK(p, p->n_in == 1, "Det takes one input");
    ONYX_TRY(onyx_need_dtype(p, DET_X, ONYX_MASK(ONYX_FLOAT)));
    const onyx_tensor *X = p->in[DET_X];
    char a[96];
    ONYX_CHECK(p, X->rank >= 2 && X->dims[X->rank - 1] == X->dims[X->rank - 2],
               "X must be square matrices (..., M, M), it is %s",
               onyx_shape_str(X, a, sizeof a));
    det_params *dp = malloc(sizeof *dp);
    if (!dp) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    dp->m = X->dims[X->rank - 1];
    dp->batch = 1;
    for (int i = 0; i < X->rank - 2; i++)
        dp->batch *= X->dims[i];
    p->params = dp;
    /* one matrix in double, decomposed in place */
    p->scratch_bytes = (size_t)(dp->m * dp->m) * sizeof(double);
    if (p->out[DET_Y])
        onyx_set_shape(p->out[DET_Y], ONYX_FLOAT, X->rank - 2, X->dims);
    return ONYX_OK;
}

/* det of x (m, m); a (m, m) is scratch */
static double det_one(const float *x, double *a, int64_t m)
{
    for (int64_t i = 0; i < m * m; i++)
        a[i] = x[i];
    double det = 1.0;
    for (int64_t k = 0; k < m; k++) {
        int64_t piv = k;
        for (int64_t i = k + 1; i < m; i++)
            if (fabs(a[i * m + k]) > fabs(a[piv * m + k])) piv = i;
        if (a[piv * m + k] == 0.0) return 0.0;
        if (piv != k) {
            for (int64_t j = 0; j < m; j++) {
                double t = a[k * m + j];
                a[k * m + j] = a[piv * m + j];
                a[piv * m + j] = t;
            }
            det = -det;
        }
        double d = a[k * m + k];
        det *= d;
        for (int64_t i = k + 1; i < m; i++) {
            double f = a[i * m + k] / d;
            for (int64_t j = k + 1; j < m; j++)
                a[i * m + j] -= f * a[k * m + j];
        }
    }
    return det;
}

static onyx_status det_eval(onyx_exec *e)
{
    const det_params *dp = e->params;
    if (!e->out[DET_Y]) return ONYX_OK;
    const float *x = e->in[DET_X]->data;
    float *y = e->out[DET_Y]->data;
    for (int64_t b = 0; b < dp->batch; b++)
        y[b] = (float)det_one(x + b * dp->m * dp->m, e->scratch, dp->m);
    return ONYX_OK;
}

const onyx_op onyx_op_Det = {"Det", det_prepare, det_eval, 0, NULL};
