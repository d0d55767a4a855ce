/* eyelike.c - EyeLike: a 2-D tensor of X's shape with ones on the diagonal
 * shifted by k (j = i + k) and zeros elsewhere; dtype from the attribute or
 * X's. */
#include "onyx_kernel.h"

#include <stdlib.h>
#include <string.h>

enum { EL_X = 0, EL_Y = 0 };

typedef struct {
    int64_t rows, cols, k;
    size_t esize;
    unsigned char one[8]; /* the bytes of 1 in the output dtype */
} eyelike_params;

/* The bytes of the value 1 in dtype dt; 0 when onyx cannot hold it. */
static int one_of(onyx_dtype dt, unsigned char *one)
{
    memset(one, 0, 8);
    switch (dt) {
    case ONYX_FLOAT: {
        float f = 1;
        memcpy(one, &f, sizeof f);
        return 1;
    }
    case ONYX_DOUBLE: {
        double d = 1;
        memcpy(one, &d, sizeof d);
        return 1;
    }
    case ONYX_FLOAT16: {
        uint16_t h = 0x3c00;
        memcpy(one, &h, sizeof h);
        return 1;
    }
    case ONYX_BFLOAT16: {
        uint16_t h = 0x3f80;
        memcpy(one, &h, sizeof h);
        return 1;
    }
    default: {
        /* integers and bool: 1 in the low byte of a little-endian word */
        uint64_t v = 1;
        size_t es = onyx_dtype_size(dt);
        if (es == 0 || dt == ONYX_STRING || dt == ONYX_COMPLEX64 ||
            dt == ONYX_COMPLEX128)
            return 0;
        memcpy(one, &v, es); /* little-endian targets only, as the loader */
        return 1;
    }
    }
}

static onyx_status eyelike_prepare(onyx_prep *p)
{
    ONYX_TRY(onyx_need_input(p, EL_X));
    const onyx_tensor *X = p->in[EL_X];
    char a[96];
    ONYX_CHECK(p, X->rank == 2, "input %s must be 2-D",
               onyx_shape_str(X, a, sizeof a));
    int64_t dt = onyx_attr_int(p, "dtype", X->dtype);
    eyelike_params *ep = calloc(1, sizeof *ep);
    if (!ep) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    if (dt < 0 || dt > 31 || !one_of((onyx_dtype)dt, ep->one)) {
        free(ep);
        return onyx_fail(p, ONYX_ERR_UNSUPPORTED,
                         "dtype %lld is not one EyeLike makes", (long long)dt);
    }
    ep->rows = X->dims[0];
    ep->cols = X->dims[1];
    ep->k = onyx_attr_int(p, "k", 0);
    ep->esize = onyx_dtype_size((onyx_dtype)dt);
    p->params = ep;
    if (p->out[EL_Y]) onyx_set_shape(p->out[EL_Y], (onyx_dtype)dt, 2, X->dims);
    return ONYX_OK;
}

static onyx_status eyelike_eval(onyx_exec *e)
{
    const eyelike_params *ep = e->params;
    onyx_tensor *Y = e->out[EL_Y];
    if (!Y) return ONYX_OK;
    char *y = Y->data;
    int64_t es = (int64_t)ep->esize;
    memset(y, 0, (size_t)(ep->rows * ep->cols * es));
    for (int64_t i = 0; i < ep->rows; i++) {
        /* j = i + k, computed only when it can be in [0, cols) */
        if (ep->k < -i || ep->k >= ep->cols - i) continue;
        memcpy(y + (i * ep->cols + i + ep->k) * es, ep->one, (size_t)es);
    }
    return ONYX_OK;
}

const onyx_op onyx_op_EyeLike = {"EyeLike", eyelike_prepare, eyelike_eval, 0,
                                 NULL};
