/* mvn.c - MeanVarianceNormalization: Y = (X - mean) / (std + 1e-9), the mean
 * and (population) standard deviation taken over a set of axes (default
 * [0, 2, 3]: per channel of an NCHW tensor), as ONNX's function body does.
 *
 * Every element of X belongs to one "slot" of statistics, found from its
 * kept coordinates: sstr[i] is the stride of axis i in the slot array (0 on a
 * reduced axis). eval walks X three times in C order with an odometer:
 * sums, squared deviations, then the normalisation. */
#include "onyx_kernel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { MVN_X = 0, MVN_Y = 0 };

/* ONNX adds it to the standard deviation, not to the variance */
#define MVN_EPSILON 1e-9

typedef struct {
    int rank;
    int64_t dims[ONYX_MAX_RANK];
    int64_t sstr[ONYX_MAX_RANK]; /* stride in the slots, 0 when reduced */
    int64_t n_slots;             /* product of the kept dims */
    int64_t count;               /* elements per slot */
    int64_t n;                   /* elements of X */
} mvn_params;

static onyx_status mvn_prepare(onyx_prep *p)
{
    ONYX_CHECK(p, p->n_in == 1, "MeanVarianceNormalization takes one input");
    ONYX_TRY(onyx_need_dtype(p, MVN_X, ONYX_MASK(ONYX_FLOAT)));
    const onyx_tensor *X = p->in[MVN_X];
    const int64_t *axes = NULL;
    int64_t nax = onyx_attr_ints(p, "axes", &axes);
    static const int64_t dflt[] = {0, 2, 3};
    if (nax < 0) {
        ONYX_CHECK(p, X->rank == 4,
                   "the default axes [0,2,3] need a 4-D X, it has rank %d",
                   X->rank);
        axes = dflt;
        nax = 3;
    }
    int reduced[ONYX_MAX_RANK] = {0};
    for (int64_t i = 0; i < nax; i++) {
        int ax;
        ONYX_TRY(onyx_axis(p, axes[i], X->rank, 0, &ax));
        ONYX_CHECK(p, !reduced[ax], "axis %lld is listed twice in axes",
                   (long long)axes[i]);
        reduced[ax] = 1;
    }

    mvn_params *mp = calloc(1, sizeof *mp);
    if (!mp) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    mp->rank = X->rank;
    mp->n = onyx_numel(X);
    mp->n_slots = 1;
    mp->count = 1;
    for (int i = X->rank - 1; i >= 0; i--) {
        mp->dims[i] = X->dims[i];
        if (reduced[i]) {
            mp->count *= X->dims[i];
        } else {
            mp->sstr[i] = mp->n_slots;
            mp->n_slots *= X->dims[i];
        }
    }
    p->params = mp;
    /* mean and sum of squared deviations per slot, in double */
    p->scratch_bytes = 2 * (size_t)mp->n_slots * sizeof(double);
    if (p->out[MVN_Y])
        onyx_set_shape(p->out[MVN_Y], ONYX_FLOAT, X->rank, X->dims);
    return ONYX_OK;
}

/* Advance the odometer idx over dims by one element; s follows the slot. */
static inline void mvn_next(const mvn_params *mp, int64_t *idx, int64_t *s)
{
    for (int k = mp->rank - 1; k >= 0; k--) {
        *s += mp->sstr[k];
        if (++idx[k] < mp->dims[k]) return;
        *s -= mp->sstr[k] * mp->dims[k];
        idx[k] = 0;
    }
}

static onyx_status mvn_eval(onyx_exec *e)
{
    const mvn_params *mp = e->params;
    const float *x = e->in[MVN_X]->data;
    if (!e->out[MVN_Y] || mp->n == 0) return ONYX_OK;
    float *y = e->out[MVN_Y]->data;
    double *mean = e->scratch, *dev = mean + mp->n_slots;
    for (int64_t s = 0; s < mp->n_slots; s++)
        mean[s] = dev[s] = 0.0;

    int64_t idx[ONYX_MAX_RANK] = {0}, s = 0;
    for (int64_t i = 0; i < mp->n; i++, mvn_next(mp, idx, &s))
        mean[s] += x[i];
    for (int64_t k = 0; k < mp->n_slots; k++)
        mean[k] /= (double)mp->count;

    /* the odometer is back at the start after n steps */
    for (int64_t i = 0; i < mp->n; i++, mvn_next(mp, idx, &s)) {
        double d = x[i] - mean[s];
        dev[s] += d * d;
    }
    /* dev becomes 1 / (std + epsilon) */
    for (int64_t k = 0; k < mp->n_slots; k++)
        dev[k] = 1.0 / (sqrt(dev[k] / (double)mp->count) + MVN_EPSILON);

    for (int64_t i = 0; i < mp->n; i++, mvn_next(mp, idx, &s))
        y[i] = (float)((x[i] - mean[s]) * dev[s]);
    return ONYX_OK;
}

const onyx_op onyx_op_MeanVarianceNormalization = {
    "MeanVarianceNormalization", mvn_prepare, mvn_eval, 0, NULL};
