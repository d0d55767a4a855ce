/* window.c - the signal-generator ops of opset 17: the cosine-sum windows
 * (HannWindow, HammingWindow, BlackmanWindow) and MelWeightMatrix. Both are
 * computed the way ONNX defines them (the windows' function body, the mel
 * matrix's reference), so outputs match ONNX's test data. */
#include "onyx_kernel.h"

#include <math.h>
#include <stdlib.h>

/* ---- cosine-sum windows ---- */

enum { WIN_SIZE = 0 };
enum { WIN_OUTPUT = 0 };

/* w[k] = a0 - a1 cos(k tau/N) + a2 cos(2 k tau/N), k in [0, size), with
 * N = size (periodic) or size-1 (symmetric). */
typedef struct {
    float a0, a1, a2;
    int periodic;
} window_params;

/* Output element type chosen by an output_datatype attribute: float32 or
 * int64 (values truncated toward zero, like Cast). */
static onyx_status out_dtype(onyx_prep *p, onyx_dtype *dt)
{
    int64_t t = onyx_attr_int(p, "output_datatype", ONYX_FLOAT);
    if (t != ONYX_FLOAT && t != ONYX_INT64)
        return onyx_fail(p, ONYX_ERR_UNSUPPORTED,
                         "output_datatype %lld (%s) is not supported: onyx "
                         "makes float32 or int64",
                         (long long)t, onyx_dtype_name((onyx_dtype)t));
    *dt = (onyx_dtype)t;
    return ONYX_OK;
}

/* A scalar int32/int64 input whose value is needed now. */
static onyx_status int_scalar(onyx_prep *p, int i, const char *what, int64_t *v)
{
    ONYX_TRY(
        onyx_need_dtype(p, i, ONYX_MASK(ONYX_INT64) | ONYX_MASK(ONYX_INT32)));
    ONYX_TRY(onyx_need_value(p, i));
    ONYX_CHECK(p, onyx_numel(p->in[i]) == 1, "%s must be a scalar", what);
    *v = onyx_get_int(p->in[i], 0);
    return ONYX_OK;
}

static onyx_status window_prepare(onyx_prep *p, float a0, float a1, float a2)
{
    int64_t size, periodic = onyx_attr_int(p, "periodic", 1);
    onyx_dtype dt;
    ONYX_CHECK(p, periodic == 0 || periodic == 1, "periodic must be 0 or 1");
    ONYX_TRY(out_dtype(p, &dt));
    ONYX_TRY(int_scalar(p, WIN_SIZE, "size", &size));
    ONYX_CHECK(p, size >= 0, "size %lld must be >= 0", (long long)size);
    window_params *w = malloc(sizeof *w);
    if (!w) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    *w = (window_params){a0, a1, a2, (int)periodic};
    p->params = w;
    if (p->out[WIN_OUTPUT]) onyx_set_shape(p->out[WIN_OUTPUT], dt, 1, &size);
    return ONYX_OK;
}

static onyx_status window_eval(onyx_exec *e)
{
    const window_params *w = e->params;
    onyx_tensor *Y = e->out[WIN_OUTPUT];
    if (!Y) return ONYX_OK;
    int64_t n = Y->dims[0];
    /* float32 arithmetic in the order of ONNX's function body */
    const float tau = 6.2831854820251465f;
    float span = w->periodic ? (float)n : (float)n - 1.0f;
    float inc = tau / span;
    for (int64_t k = 0; k < n; k++) {
        float a = (float)k * inc;
        float v = w->a0 - w->a1 * cosf(a) + w->a2 * cosf(a * 2.0f);
        if (n == 1 && !w->periodic) v = 1.0f; /* 0/0 in the formula */
        if (Y->dtype == ONYX_INT64)
            ((int64_t *)Y->data)[k] = (int64_t)v;
        else
            ((float *)Y->data)[k] = v;
    }
    return ONYX_OK;
}

static onyx_status hann_prepare(onyx_prep *p)
{
    return window_prepare(p, 0.5f, 0.5f, 0.0f);
}

static onyx_status hamming_prepare(onyx_prep *p)
{
    return window_prepare(p, 25.0f / 46.0f, 21.0f / 46.0f, 0.0f);
}

static onyx_status blackman_prepare(onyx_prep *p)
{
    return window_prepare(p, 0.42f, 0.5f, 0.08f);
}

const onyx_op onyx_op_HannWindow = {"HannWindow", hann_prepare, window_eval, 0,
                                    NULL};
const onyx_op onyx_op_HammingWindow = {"HammingWindow", hamming_prepare,
                                       window_eval, 0, NULL};
const onyx_op onyx_op_BlackmanWindow = {"BlackmanWindow", blackman_prepare,
                                        window_eval, 0, NULL};

/* ---- MelWeightMatrix ---- */

enum {
    MEL_NUM_BINS = 0,
    MEL_DFT_LENGTH = 1,
    MEL_SAMPLE_RATE = 2,
    MEL_LOWER_HZ = 3,
    MEL_UPPER_HZ = 4
};

typedef struct {
    int64_t num_mel_bins; /* output columns */
    int64_t dft_length;   /* output rows: dft_length/2 + 1 */
} mel_params;

static onyx_status mel_prepare(onyx_prep *p)
{
    int64_t n_mel, n_dft;
    onyx_dtype dt;
    ONYX_TRY(out_dtype(p, &dt));
    ONYX_TRY(int_scalar(p, MEL_NUM_BINS, "num_mel_bins", &n_mel));
    ONYX_TRY(int_scalar(p, MEL_DFT_LENGTH, "dft_length", &n_dft));
    ONYX_CHECK(p, n_mel >= 1, "num_mel_bins %lld must be >= 1",
               (long long)n_mel);
    ONYX_CHECK(p, n_dft >= 1, "dft_length %lld must be >= 1", (long long)n_dft);
    ONYX_TRY(onyx_need_dtype(p, MEL_SAMPLE_RATE,
                             ONYX_MASK(ONYX_INT64) | ONYX_MASK(ONYX_INT32)));
    for (int i = MEL_LOWER_HZ; i <= MEL_UPPER_HZ; i++) {
        ONYX_TRY(onyx_need_dtype(p, i, ONYX_MASK(ONYX_FLOAT)));
        ONYX_CHECK(p, onyx_numel(p->in[i]) == 1, "%s must be a scalar",
                   i == MEL_LOWER_HZ ? "lower_edge_hertz" : "upper_edge_hertz");
    }
    ONYX_CHECK(p, onyx_numel(p->in[MEL_SAMPLE_RATE]) == 1,
               "sample_rate must be a scalar");
    int64_t dims[2] = {n_dft / 2 + 1, n_mel};
    ONYX_TRY(onyx_check_size(p, dt, 2, dims)); /* bounds n_mel + 2 below */
    mel_params *m = malloc(sizeof *m);
    if (!m) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    m->num_mel_bins = n_mel;
    m->dft_length = n_dft;
    p->params = m;
    p->scratch_bytes = (size_t)(n_mel + 2) * sizeof(int64_t);
    if (p->out[0]) onyx_set_shape(p->out[0], dt, 2, dims);
    return ONYX_OK;
}

static double hz_to_mel(double hz)
{
    return 2595.0 * log10(1.0 + hz / 700.0);
}

static onyx_status mel_eval(onyx_exec *e)
{
    const mel_params *m = e->params;
    onyx_tensor *Y = e->out[0];
    if (!Y) return ONYX_OK;
    int64_t n_mel = m->num_mel_bins, n_dft = m->dft_length;
    int64_t n_spec = n_dft / 2 + 1;
    double rate = (double)onyx_get_int(e->in[MEL_SAMPLE_RATE], 0);
    double lo = hz_to_mel(onyx_get_double(e->in[MEL_LOWER_HZ], 0));
    double hi = hz_to_mel(onyx_get_double(e->in[MEL_UPPER_HZ], 0));
    if (rate <= 0) {
        e->err = "sample_rate must be > 0";
        return ONYX_ERR_RUNTIME;
    }
    /* n_mel + 2 band edges, equally spaced in mel (the ONNX reference divides
     * the range by n_mel + 2), mapped to DFT bin indices */
    int64_t *edge = e->scratch;
    double step = (hi - lo) / (double)(n_mel + 2);
    for (int64_t i = 0; i < n_mel + 2; i++) {
        double hz = 700.0 * (pow(10.0, ((double)i * step + lo) / 2595.0) - 1.0);
        edge[i] = onyx_f2i(floor((double)(n_dft + 1) * hz / rate));
    }
    float *yf = Y->dtype == ONYX_FLOAT ? Y->data : NULL;
    int64_t *yi = Y->dtype == ONYX_INT64 ? Y->data : NULL;
    for (int64_t k = 0; k < n_spec * n_mel; k++) {
        if (yf)
            yf[k] = 0;
        else
            yi[k] = 0;
    }
#define MEL_SET(j, i, v)                                                       \
    do {                                                                       \
        if ((j) >= 0 && (j) < n_spec) {                                        \
            if (yf)                                                            \
                yf[(j)*n_mel + (i)] = (float)(v);                              \
            else                                                               \
                yi[(j)*n_mel + (i)] = (int64_t)(v);                            \
        }                                                                      \
    } while (0)
    /* odd frequencies put edges anywhere in int64: the loops visit only
     * rows in [0, n_spec), the weights use the true edges (in double) */
#define IN_SPEC(v) ((v) < 0 ? 0 : (v) > n_spec ? n_spec : (v))
    for (int64_t i = 0; i < n_mel; i++) {
        int64_t left = edge[i], center = edge[i + 1], right = edge[i + 2];
        double l = (double)left, c = (double)center, r = (double)right;
        if (center == left) {
            MEL_SET(center, i, 1.0);
        } else {
            for (int64_t j = IN_SPEC(left); j <= IN_SPEC(center); j++)
                if (j <= center) MEL_SET(j, i, ((double)j - l) / (c - l));
        }
        for (int64_t j = IN_SPEC(center); j < IN_SPEC(right); j++)
            if (j >= center) MEL_SET(j, i, (r - (double)j) / (r - c));
    }
#undef IN_SPEC
#undef MEL_SET
    return ONYX_OK;
}

const onyx_op onyx_op_MelWeightMatrix = {"MelWeightMatrix", mel_prepare,
                                         mel_eval, 0, NULL};
