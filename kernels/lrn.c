/* lrn.c - LRN, local response normalisation across channels (AlexNet):
 *
 *   Y[n,c,d] = X[n,c,d] / (bias + alpha / size * sum_{c'} X[n,c',d]^2)^beta
 *
 * with c' from c - floor((size-1)/2) to c + ceil((size-1)/2), clipped to
 * [0, C-1]. X is (N, C, D1, ..., Dk) seen as (N, C, inner). */
#include "onyx_kernel.h"

#include <math.h>
#include <stdlib.h>

enum { LRN_X = 0, LRN_Y = 0 };

typedef struct {
    int64_t N, C, inner;
    int64_t before, after; /* channels summed before and after c */
    float alpha_n;         /* alpha / size */
    float beta, bias;
} lrn_params;

static onyx_status lrn_prepare(onyx_prep *p)
{
    ONYX_CHECK(p, p->n_in == 1, "LRN takes one input");
    ONYX_TRY(onyx_need_dtype(p, LRN_X, ONYX_MASK(ONYX_FLOAT)));
    const onyx_tensor *X = p->in[LRN_X];
    ONYX_CHECK(p, X->rank >= 3, "X must be (N, C, D1, ...), it has rank %d",
               X->rank);
    int64_t size = onyx_attr_int(p, "size", 0);
    ONYX_CHECK(p, onyx_attr_get(p, "size") != NULL,
               "attribute size is required");
    ONYX_CHECK(p, size >= 1, "size %lld must be >= 1", (long long)size);
    lrn_params lp = {
        .N = X->dims[0],
        .C = X->dims[1],
        .inner = 1,
        .before = (size - 1) / 2,
        .after = size / 2, /* ceil((size-1)/2) */
        .alpha_n = onyx_attr_float(p, "alpha", 1e-4f) / (float)size,
        .beta = onyx_attr_float(p, "beta", 0.75f),
        .bias = onyx_attr_float(p, "bias", 1.0f),
    };
    for (int i = 2; i < X->rank; i++)
        lp.inner *= X->dims[i];
    lrn_params *q = malloc(sizeof *q);
    if (!q) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    *q = lp;
    p->params = q;
    if (p->out[LRN_Y])
        onyx_set_shape(p->out[LRN_Y], ONYX_FLOAT, X->rank, X->dims);
    return ONYX_OK;
}

/* y (C, inner) = LRN of x (C, inner), one image */
static void lrn_image(const lrn_params *lp, float *y, const float *x)
{
    for (int64_t c = 0; c < lp->C; c++) {
        int64_t c0 = c - lp->before < 0 ? 0 : c - lp->before;
        int64_t c1 = c + lp->after >= lp->C ? lp->C - 1 : c + lp->after;
        for (int64_t j = 0; j < lp->inner; j++) {
            float s = 0.0f;
            for (int64_t k = c0; k <= c1; k++) {
                float v = x[k * lp->inner + j];
                s += v * v;
            }
            y[c * lp->inner + j] = x[c * lp->inner + j] /
                                   powf(lp->bias + lp->alpha_n * s, lp->beta);
        }
    }
}

static onyx_status lrn_eval(onyx_exec *e)
{
    const lrn_params *lp = e->params;
    if (!e->out[LRN_Y]) return ONYX_OK;
    const float *x = e->in[LRN_X]->data;
    float *y = e->out[LRN_Y]->data;
    int64_t image = lp->C * lp->inner;
    for (int64_t n = 0; n < lp->N; n++)
        lrn_image(lp, y + n * image, x + n * image);
    return ONYX_OK;
}

const onyx_op onyx_op_LRN = {"LRN", lrn_prepare, lrn_eval, 0, NULL};
