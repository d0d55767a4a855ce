/* upsample.c - Upsample (opsets 7 to 9, deprecated for Resize), mode
 * nearest: Y[d..] = X[floor(d / scale)..] on every axis, Y's dims
 * floor(X's dims * scales). The scales shape Y, so they must be known when
 * the model is resolved (the attribute in opset 7, the input from 9). */
#include "onyx_kernel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { U_X = 0, U_SCALES = 1, U_Y = 0 };

typedef struct {
    int rank;
    size_t esize;
    int64_t x_dims[ONYX_MAX_RANK], y_dims[ONYX_MAX_RANK];
    float scales[ONYX_MAX_RANK];
} upsample_params;

static onyx_status upsample_prepare(onyx_prep *p)
{
    ONYX_TRY(onyx_need_input(p, U_X));
    const onyx_tensor *X = p->in[U_X];
    ONYX_CHECK(p, onyx_dtype_size(X->dtype) > 0,
               "X has dtype %s, which this op does not take",
               onyx_dtype_name(X->dtype));
    const char *mode = onyx_attr_string(p, "mode", "nearest");
    if (strcmp(mode, "nearest"))
        return onyx_fail(p, ONYX_ERR_UNSUPPORTED,
                         "Upsample mode '%s': onyx runs only 'nearest' (use "
                         "Resize for linear)",
                         mode);
    upsample_params *up = calloc(1, sizeof *up);
    if (!up) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    p->params = up;
    up->rank = X->rank;
    up->esize = onyx_dtype_size(X->dtype);
    int64_t n;
    if (p->n_in > U_SCALES && p->in[U_SCALES]) {
        ONYX_TRY(onyx_need_dtype(p, U_SCALES, ONYX_MASK(ONYX_FLOAT)));
        if (!p->in[U_SCALES]->data)
            return onyx_fail(p, ONYX_ERR_UNSUPPORTED,
                             "scales must be known when the model is "
                             "resolved: the output shape depends on them");
        n = onyx_numel(p->in[U_SCALES]);
        ONYX_CHECK(p, n == X->rank, "%lld scales for X of rank %d",
                   (long long)n, X->rank);
        memcpy(up->scales, p->in[U_SCALES]->data, sizeof(float) * (size_t)n);
    } else {
        const float *s;
        n = onyx_attr_floats(p, "scales", &s);
        ONYX_CHECK(p, n == X->rank, "%lld scales for X of rank %d",
                   (long long)n, X->rank);
        memcpy(up->scales, s, sizeof(float) * (size_t)n);
    }
    for (int d = 0; d < X->rank; d++) {
        double y = floor((double)X->dims[d] * up->scales[d]);
        ONYX_CHECK(p, up->scales[d] >= 1 && y < 9.0e15,
                   "scale %g on axis %d must be >= 1 (and finite)",
                   (double)up->scales[d], d);
        up->x_dims[d] = X->dims[d];
        up->y_dims[d] = (int64_t)y;
    }
    if (p->out[U_Y]) onyx_set_shape(p->out[U_Y], X->dtype, X->rank, up->y_dims);
    return ONYX_OK;
}

static onyx_status upsample_eval(onyx_exec *e)
{
    const upsample_params *up = e->params;
    onyx_tensor *Y = e->out[U_Y];
    if (!Y) return ONYX_OK;
    const char *x = e->in[U_X]->data;
    char *y = Y->data;
    int r = up->rank;
    int64_t es = (int64_t)up->esize, n = onyx_numel(Y);
    int64_t idx[ONYX_MAX_RANK] = {0}, xs[ONYX_MAX_RANK];
    int64_t s = 1;
    for (int d = r - 1; d >= 0; d--) {
        xs[d] = s;
        s *= up->x_dims[d];
    }
    for (int64_t j = 0; j < n; j++) {
        int64_t off = 0;
        for (int d = 0; d < r; d++) {
            int64_t i = (int64_t)floor((double)idx[d] / up->scales[d]);
            if (i > up->x_dims[d] - 1) i = up->x_dims[d] - 1;
            off += i * xs[d];
        }
        memcpy(y + j * es, x + off * es, (size_t)es);
        for (int d = r - 1; d >= 0; d--) {
            if (++idx[d] < up->y_dims[d]) break;
            idx[d] = 0;
        }
    }
    return ONYX_OK;
}

const onyx_op onyx_op_Upsample = {"Upsample", upsample_prepare, upsample_eval,
                                  0, NULL};
