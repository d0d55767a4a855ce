/* depth_space.c - DepthToSpace and SpaceToDepth: blocks of b x b pixels
 * moved between the channel axis and the two spatial axes of an NCHW tensor.
 *
 * Both are one mapping between a "deep" tensor D (N, C*b*b, H, W) and a
 * "wide" one S (N, C, H*b, W*b):
 *   S[n, c, h*b + i, w*b + j] = D[n, ch, h, w]
 *   ch = (i*b + j)*C + c   (DCR: depth, column, row; SpaceToDepth's order)
 *   ch = c*b*b + i*b + j   (CRD: column, row, depth)
 * DepthToSpace writes S from D, SpaceToDepth writes D from S. */
#include "onyx_kernel.h"

#include <stdlib.h>
#include <string.h>

enum { DS_X = 0, DS_Y = 0 };

#define ANY_TYPES                                                              \
    (ONYX_DATA_DTYPES | ONYX_MASK(ONYX_DOUBLE) | ONYX_MASK(ONYX_UINT8) |       \
     ONYX_MASK(ONYX_INT8) | ONYX_MASK(ONYX_UINT16) | ONYX_MASK(ONYX_INT16) |   \
     ONYX_MASK(ONYX_UINT32) | ONYX_MASK(ONYX_UINT64) |                         \
     ONYX_MASK(ONYX_FLOAT16) | ONYX_MASK(ONYX_BFLOAT16))

typedef struct {
    int to_space; /* DepthToSpace: write S from D */
    int crd;
    int64_t n, c, h, w, b; /* c, h, w: of the wide tensor's C and D's H, W */
    size_t esize;
} depth_space_params;

static onyx_status depth_space_prepare(onyx_prep *p)
{
    ONYX_TRY(onyx_need_dtype(p, DS_X, ANY_TYPES));
    const onyx_tensor *X = p->in[DS_X];
    char a[96];
    ONYX_CHECK(p, X->rank == 4, "input %s must be 4-D (N, C, H, W)",
               onyx_shape_str(X, a, sizeof a));
    int64_t b = onyx_attr_int(p, "blocksize", 0);
    ONYX_CHECK(p, b >= 1 && b <= 0x10000, "blocksize %lld must be given, >= 1",
               (long long)b);
    int to_space = !strcmp(p->op_type, "DepthToSpace");
    int crd = 0;
    if (to_space) {
        const char *mode = onyx_attr_string(p, "mode", "DCR");
        ONYX_CHECK(p, !strcmp(mode, "DCR") || !strcmp(mode, "CRD"),
                   "mode '%s' is not DCR or CRD", mode);
        crd = !strcmp(mode, "CRD");
    }
    int64_t dims[4] = {X->dims[0], 0, 0, 0};
    depth_space_params *dp = calloc(1, sizeof *dp);
    if (!dp) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    dp->to_space = to_space;
    dp->crd = crd;
    dp->b = b;
    dp->n = X->dims[0];
    dp->esize = onyx_dtype_size(X->dtype);
    if (to_space) {
        if (X->dims[1] % (b * b)) {
            free(dp);
            return onyx_fail(p, ONYX_ERR_INVALID,
                             "input %s: channels are not a multiple of "
                             "blocksize^2 = %lld",
                             onyx_shape_str(X, a, sizeof a),
                             (long long)(b * b));
        }
        dp->c = X->dims[1] / (b * b);
        dp->h = X->dims[2];
        dp->w = X->dims[3];
        dims[1] = dp->c;
        dims[2] = onyx_size_mul(dp->h, b);
        dims[3] = onyx_size_mul(dp->w, b);
        if (dims[2] < 0 || dims[3] < 0) {
            free(dp);
            return onyx_fail(p, ONYX_ERR_LIMIT, "input %s is too large",
                             onyx_shape_str(X, a, sizeof a));
        }
    } else {
        if (X->dims[2] % b || X->dims[3] % b) {
            free(dp);
            return onyx_fail(p, ONYX_ERR_INVALID,
                             "input %s: height and width are not multiples "
                             "of blocksize %lld",
                             onyx_shape_str(X, a, sizeof a), (long long)b);
        }
        dp->c = X->dims[1];
        dp->h = X->dims[2] / b;
        dp->w = X->dims[3] / b;
        dims[1] = dp->c * b * b, dims[2] = dp->h, dims[3] = dp->w;
    }
    p->params = dp;
    if (p->out[DS_Y]) onyx_set_shape(p->out[DS_Y], X->dtype, 4, dims);
    return ONYX_OK;
}

static onyx_status depth_space_eval(onyx_exec *e)
{
    const depth_space_params *dp = e->params;
    if (!e->out[DS_Y]) return ONYX_OK;
    const char *x = e->in[DS_X]->data;
    char *y = e->out[DS_Y]->data;
    int64_t b = dp->b, C = dp->c, H = dp->h, W = dp->w;
    int64_t es = (int64_t)dp->esize;
    for (int64_t n = 0; n < dp->n; n++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t h = 0; h < H; h++)
                for (int64_t i = 0; i < b; i++)
                    for (int64_t w = 0; w < W; w++)
                        for (int64_t j = 0; j < b; j++) {
                            int64_t ch = dp->crd ? (c * b + i) * b + j
                                                 : (i * b + j) * C + c;
                            int64_t deep =
                                ((n * C * b * b + ch) * H + h) * W + w;
                            int64_t wide =
                                ((n * C + c) * H * b + h * b + i) * W * b +
                                w * b + j;
                            if (dp->to_space)
                                memcpy(y + wide * es, x + deep * es,
                                       (size_t)es);
                            else
                                memcpy(y + deep * es, x + wide * es,
                                       (size_t)es);
                        }
    return ONYX_OK;
}

const onyx_op onyx_op_DepthToSpace = {"DepthToSpace", depth_space_prepare,
                                      depth_space_eval, 0, NULL};
const onyx_op onyx_op_SpaceToDepth = {"SpaceToDepth", depth_space_prepare,
                                      depth_space_eval, 0, NULL};
