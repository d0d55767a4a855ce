/* identity.c - Identity and Dropout in inference mode: Y is a copy of X;
 * Dropout's optional mask output is all true. (The engine usually drops
 * these nodes; the kernels are there for when it cannot.) */
#include "onyx_kernel.h"

#include <stdlib.h>
#include <string.h>

enum { DROP_IN_X = 0, DROP_IN_RATIO = 1, DROP_IN_TRAINING = 2 };
enum { DROP_OUT_Y = 0, DROP_OUT_MASK = 1 };

static onyx_status identity_prepare(onyx_prep *p)
{
    ONYX_CHECK(p, p->n_in == 1, "Identity takes one input, got %d", p->n_in);
    ONYX_TRY(onyx_need_input(p, 0));
    const onyx_tensor *X = p->in[0];
    if (onyx_dtype_size(X->dtype) == 0)
        return onyx_fail(p, ONYX_ERR_UNSUPPORTED,
                         "Identity of %s tensors is not supported",
                         onyx_dtype_name(X->dtype));
    if (p->n_out >= 1 && p->out[0])
        onyx_set_shape(p->out[0], X->dtype, X->rank, X->dims);
    return ONYX_OK;
}

static void copy_tensor(onyx_tensor *Y, const onyx_tensor *X)
{
    size_t bytes = (size_t)onyx_numel(X) * onyx_dtype_size(X->dtype);
    if (bytes && Y->data != X->data) memcpy(Y->data, X->data, bytes);
}

static onyx_status identity_eval(onyx_exec *e)
{
    if (e->n_out >= 1 && e->out[0]) copy_tensor(e->out[0], e->in[0]);
    return ONYX_OK;
}

/* Dropout across opsets: 6 has attributes is_test and ratio, 7-11 ratio and
 * a mask of X's dtype (bool from 10), 12+ takes ratio and training_mode as
 * inputs. Inference only: training_mode must be absent or false -- or true
 * with ratio 0, which drops nothing either. When training_mode or ratio is
 * not known at prepare, eval checks them (params->check_at_eval). */
typedef struct {
    int check_at_eval;
} dropout_params;

/* 1 when training_mode (known value) is true */
static int dropout_training(const onyx_tensor *T)
{
    return T && onyx_numel(T) > 0 && *(const uint8_t *)T->data;
}

/* ratio as a double; 0.5 when omitted */
static double dropout_ratio(const onyx_tensor *R)
{
    if (!R || onyx_numel(R) == 0) return 0.5;
    return onyx_get_double(R, 0);
}

static const char dropout_training_msg[] =
    "training_mode is true with a nonzero ratio: onyx runs Dropout for "
    "inference only";

static onyx_status dropout_prepare(onyx_prep *p)
{
    ONYX_CHECK(p, p->n_in >= 1 && p->n_in <= 3,
               "Dropout takes 1 to 3 inputs, got %d", p->n_in);
    ONYX_CHECK(p, p->n_out >= 1 && p->n_out <= 2,
               "Dropout has 1 or 2 outputs, got %d", p->n_out);
    ONYX_TRY(onyx_need_dtype(p, DROP_IN_X, ONYX_MASK(ONYX_FLOAT)));
    const onyx_tensor *X = p->in[DROP_IN_X];
    int check_at_eval = 0;

    if (p->opset < 12) {
        ONYX_CHECK(p, p->n_in == 1,
                   "Dropout before opset 12 takes ratio as an attribute, "
                   "not an input");
        float ratio = onyx_attr_float(p, "ratio", 0.5f);
        ONYX_CHECK(p, ratio >= 0.0f && ratio < 1.0f,
                   "ratio %g is outside [0, 1)", (double)ratio);
    } else {
        const onyx_tensor *R =
            p->n_in > DROP_IN_RATIO ? p->in[DROP_IN_RATIO] : NULL;
        if (R && onyx_numel(R) > 0) {
            ONYX_CHECK(p, onyx_numel(R) == 1,
                       "ratio must be a scalar, it has %lld elements",
                       (long long)onyx_numel(R));
            ONYX_TRY(onyx_need_dtype(p, DROP_IN_RATIO,
                                     ONYX_MASK(ONYX_FLOAT) |
                                         ONYX_MASK(ONYX_DOUBLE)));
        }
        const onyx_tensor *T =
            p->n_in > DROP_IN_TRAINING ? p->in[DROP_IN_TRAINING] : NULL;
        if (T && onyx_numel(T) > 0) {
            ONYX_CHECK(p, onyx_numel(T) == 1,
                       "training_mode must be a scalar, it has %lld elements",
                       (long long)onyx_numel(T));
            ONYX_TRY(
                onyx_need_dtype(p, DROP_IN_TRAINING, ONYX_MASK(ONYX_BOOL)));
            int ratio_known = !R || onyx_numel(R) == 0 || R->data;
            if (!T->data || !ratio_known)
                check_at_eval = 1;
            else if (dropout_training(T) && dropout_ratio(R) != 0.0)
                return onyx_fail(p, ONYX_ERR_UNSUPPORTED, "%s",
                                 dropout_training_msg);
        }
    }
    if (p->out[DROP_OUT_Y])
        onyx_set_shape(p->out[DROP_OUT_Y], X->dtype, X->rank, X->dims);
    if (p->n_out > DROP_OUT_MASK && p->out[DROP_OUT_MASK]) {
        onyx_dtype mdt = p->opset >= 10 ? ONYX_BOOL : X->dtype;
        onyx_set_shape(p->out[DROP_OUT_MASK], mdt, X->rank, X->dims);
    }
    dropout_params *dp = malloc(sizeof *dp);
    if (!dp) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    dp->check_at_eval = check_at_eval;
    p->params = dp;
    return ONYX_OK;
}

static onyx_status dropout_eval(onyx_exec *e)
{
    const dropout_params *dp = e->params;
    const onyx_tensor *X = e->in[DROP_IN_X];
    if (dp->check_at_eval && dropout_training(e->in[DROP_IN_TRAINING]) &&
        dropout_ratio(e->n_in > DROP_IN_RATIO ? e->in[DROP_IN_RATIO] : NULL) !=
            0.0) {
        e->err = dropout_training_msg;
        return ONYX_ERR_UNSUPPORTED;
    }
    if (e->out[DROP_OUT_Y]) copy_tensor(e->out[DROP_OUT_Y], X);
    onyx_tensor *M = e->n_out > DROP_OUT_MASK ? e->out[DROP_OUT_MASK] : NULL;
    if (M) {
        /* nothing is dropped: every mask entry is true (1.0 before opset 10) */
        int64_t n = onyx_numel(M);
        if (M->dtype == ONYX_BOOL) {
            memset(M->data, 1, (size_t)n);
        } else {
            float *m = M->data;
            for (int64_t i = 0; i < n; i++)
                m[i] = 1.0f;
        }
    }
    return ONYX_OK;
}

const onyx_op onyx_op_Identity = {"Identity", identity_prepare, identity_eval};
const onyx_op onyx_op_Dropout = {"Dropout", dropout_prepare, dropout_eval};
