/* identity.c - Identity and Dropout. Identity and inference-mode Dropout
 * copy X to Y (the engine usually drops these nodes; the kernels are there
 * for when it cannot); training-mode Dropout draws its mask the way ONNX's
 * numpy reference does (mt19937.h). */
#include "onyx_kernel.h"
#include "math/mt19937.h"

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
 * inputs and has a seed attribute.
 *
 * Inference (training_mode absent or false, or ratio 0): Y = X, mask all
 * true. Training (training_mode true, ratio nonzero) follows ONNX's
 * reference, which draws from numpy's legacy RandomState seeded with seed
 * (default 0):
 *   u = uniform(0, 1, X.shape)         numpy's random_sample(), C order
 *   mask = u >= ratio                  in double (a float ratio widened)
 *   Y = mask * X * (1 / (1 - ratio))   in float32
 * The generator is re-seeded on every run, so a run's output depends only on
 * its inputs and the seed. training_mode and ratio are read at eval. */
typedef struct {
    uint32_t seed;
    int seed_ok; /* the attribute lies in [0, 2^32 - 1], numpy's range */
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

/* 1 / (1 - ratio) as numpy's reference gets it: in the ratio's own precision
 * (float32 for a float ratio), then used as a float32 factor */
static float dropout_scale(const onyx_tensor *R)
{
    if (!R || onyx_numel(R) == 0) return 2.0f; /* ratio 0.5 */
    if (R->dtype == ONYX_FLOAT) return 1.0f / (1.0f - *(const float *)R->data);
    return (float)(1.0 / (1.0 - onyx_get_double(R, 0)));
}

/* numpy refuses other seeds, so the reference has no answer for them */
#define DROPOUT_SEED_WHY                                                       \
    "outside [0, 2^32 - 1]: training-mode Dropout draws its mask from "        \
    "numpy's RandomState(seed), which takes no other seed"
static const char dropout_seed_msg[] = "seed is " DROPOUT_SEED_WHY;

/* Training-mode Dropout of n floats: u[i] = random_sample() of
 * RandomState(seed), drawn in order;
 *   mask[i] = u[i] >= ratio,  Y[i] = (mask[i] * X[i]) * scale   (float32)
 * so a dropped negative x gives -0 and an infinite scale gives NaN, as in
 * numpy. Y or mask may be NULL; Y may be X. */
static void dropout_train_f32(float *Y, uint8_t *mask, const float *X,
                              int64_t n, double ratio, float scale,
                              uint32_t seed)
{
    onyx_mt19937 rng; /* ~2.5 KB on the stack, seeded afresh every run */
    onyx_mt19937_seed(&rng, seed);
    for (int64_t i = 0; i < n; i++) {
        int keep = onyx_mt19937_next_double(&rng) >= ratio;
        if (Y) Y[i] = ((float)keep * X[i]) * scale;
        if (mask) mask[i] = (uint8_t)keep;
    }
}

/* 1 when Dropout may run in training mode and so draw a mask (it is then
 * no rename): its training_mode input (opset 12+) is present and not a
 * constant false. */
static int dropout_may_train(const onyx_prep *p)
{
    const onyx_tensor *T =
        p->n_in > DROP_IN_TRAINING ? p->in[DROP_IN_TRAINING] : NULL;
    if (!T || onyx_numel(T) == 0) return 0;
    return !p->in_const[DROP_IN_TRAINING] || !T->data ||
           *(const uint8_t *)T->data != 0;
}

static onyx_status dropout_prepare(onyx_prep *p)
{
    ONYX_CHECK(p, p->n_in >= 1 && p->n_in <= 3,
               "Dropout takes 1 to 3 inputs, got %d", p->n_in);
    ONYX_CHECK(p, p->n_out >= 1 && p->n_out <= 2,
               "Dropout has 1 or 2 outputs, got %d", p->n_out);
    ONYX_TRY(onyx_need_dtype(p, DROP_IN_X, ONYX_MASK(ONYX_FLOAT)));
    const onyx_tensor *X = p->in[DROP_IN_X];
    int64_t seed = onyx_attr_int(p, "seed", 0);
    int seed_ok = seed >= 0 && seed <= (int64_t)UINT32_MAX;

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
            /* a bad seed is an error only when the mask is drawn; when
             * training_mode or ratio is not known yet, eval tells */
            int ratio_known = !R || onyx_numel(R) == 0 || R->data;
            ONYX_CHECK(p,
                       seed_ok || !T->data || !ratio_known ||
                           !dropout_training(T) || dropout_ratio(R) == 0.0,
                       "seed %lld is " DROPOUT_SEED_WHY, (long long)seed);
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
    dp->seed = seed_ok ? (uint32_t)seed : 0;
    dp->seed_ok = seed_ok;
    p->params = dp;
    p->rename = (p->n_out <= DROP_OUT_MASK || !p->out[DROP_OUT_MASK]) &&
                !dropout_may_train(p);
    return ONYX_OK;
}

static onyx_status dropout_eval(onyx_exec *e)
{
    const dropout_params *dp = e->params;
    const onyx_tensor *X = e->in[DROP_IN_X];
    const onyx_tensor *R =
        e->n_in > DROP_IN_RATIO ? e->in[DROP_IN_RATIO] : NULL;
    const onyx_tensor *T =
        e->n_in > DROP_IN_TRAINING ? e->in[DROP_IN_TRAINING] : NULL;
    onyx_tensor *Y = e->out[DROP_OUT_Y];
    onyx_tensor *M = e->n_out > DROP_OUT_MASK ? e->out[DROP_OUT_MASK] : NULL;
    double ratio = dropout_ratio(R);
    if (dropout_training(T) && ratio != 0.0) {
        /* training_mode exists from opset 12 on, where the mask is bool */
        if (!dp->seed_ok) {
            e->err = dropout_seed_msg;
            return ONYX_ERR_INVALID;
        }
        dropout_train_f32(Y ? Y->data : NULL, M ? M->data : NULL, X->data,
                          onyx_numel(X), ratio, dropout_scale(R), dp->seed);
        return ONYX_OK;
    }
    if (Y) copy_tensor(Y, X);
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

const onyx_op onyx_op_Identity = {"Identity", identity_prepare, identity_eval,
                                  ONYX_OP_RENAME | ONYX_OP_READS_HALF, NULL};
const onyx_op onyx_op_Dropout = {"Dropout", dropout_prepare, dropout_eval, 0,
                                 NULL};
