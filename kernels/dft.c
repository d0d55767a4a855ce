/* dft.c - DFT (opset 17): the discrete Fourier transform along one signal
 * axis of a real [..., 1] or complex [..., 2] tensor, through
 * kernels/math/fft.c. */
#include "math/fft.h"
#include "onyx_kernel.h"

#include <stdlib.h>
#include <string.h>

enum { DFT_INPUT = 0, DFT_LENGTH = 1 };
enum { DFT_OUTPUT = 0 };

typedef struct {
    onyx_fft *fft; /* plan for n_fft, owned */
    int64_t outer; /* product of the dims before the axis */
    int64_t inner; /* product of the signal dims after the axis */
    int64_t n_in;  /* input length along the axis */
    int64_t n_fft; /* transform length (dft_length) */
    int64_t n_out; /* output length: n_fft, or n_fft/2+1 when onesided */
    int in_c;      /* 1 real input, 2 complex */
    int inverse;
    size_t work_floats; /* FFT work space, after the two (n_fft,2) buffers */
} dft_params;

static void dft_free(void *params)
{
    dft_params *d = params;
    if (d) onyx_fft_free(d->fft);
    free(d);
}

static onyx_status dft_prepare(onyx_prep *p)
{
    ONYX_TRY(onyx_need_dtype(p, DFT_INPUT, ONYX_MASK(ONYX_FLOAT)));
    const onyx_tensor *X = p->in[DFT_INPUT];
    char sb[96];
    onyx_shape_str(X, sb, sizeof sb);
    ONYX_CHECK(p,
               X->rank >= 3 &&
                   (X->dims[X->rank - 1] == 1 || X->dims[X->rank - 1] == 2),
               "input %s must be [batch, signal dims..., 1 or 2]", sb);
    int64_t axis = onyx_attr_int(p, "axis", 1);
    int64_t inverse = onyx_attr_int(p, "inverse", 0);
    int64_t onesided = onyx_attr_int(p, "onesided", 0);
    if (axis < 0) axis += X->rank; /* opset 20 convention, harmless here */
    ONYX_CHECK(p, axis >= 1 && axis <= X->rank - 2,
               "axis %lld must name a signal dim of %s (1 to %d)",
               (long long)onyx_attr_int(p, "axis", 1), sb, X->rank - 2);
    ONYX_CHECK(p, inverse == 0 || inverse == 1, "inverse must be 0 or 1");
    ONYX_CHECK(p, onesided == 0 || onesided == 1, "onesided must be 0 or 1");

    int64_t n_in = X->dims[axis], n_fft = n_in;
    if (p->n_in > DFT_LENGTH && p->in[DFT_LENGTH] &&
        !(p->in[DFT_LENGTH]->rank > 0 && onyx_numel(p->in[DFT_LENGTH]) == 0)) {
        ONYX_TRY(onyx_need_dtype(
            p, DFT_LENGTH, ONYX_MASK(ONYX_INT64) | ONYX_MASK(ONYX_INT32)));
        ONYX_TRY(onyx_need_value(p, DFT_LENGTH));
        ONYX_CHECK(p, onyx_numel(p->in[DFT_LENGTH]) == 1,
                   "dft_length must be a scalar");
        n_fft = onyx_get_int(p->in[DFT_LENGTH], 0);
    }
    ONYX_CHECK(p, n_fft >= 1 && n_fft <= (1 << 26),
               "dft_length %lld must be in [1, 2^26]", (long long)n_fft);

    dft_params *d = calloc(1, sizeof *d);
    if (!d) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    d->fft = onyx_fft_new((int)n_fft);
    if (!d->fft) {
        free(d);
        return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory for the FFT plan");
    }
    p->params = d;
    p->free_params = dft_free;
    d->outer = 1;
    for (int i = 0; i < axis; i++)
        d->outer *= X->dims[i];
    d->inner = 1;
    for (int i = (int)axis + 1; i < X->rank - 1; i++)
        d->inner *= X->dims[i];
    d->n_in = n_in;
    d->n_fft = n_fft;
    d->n_out = onesided ? n_fft / 2 + 1 : n_fft;
    d->in_c = (int)X->dims[X->rank - 1];
    d->inverse = (int)inverse;
    d->work_floats = onyx_fft_work_floats(d->fft);
    p->scratch_bytes = (4 * (size_t)n_fft + d->work_floats) * sizeof(float);

    if (p->out[DFT_OUTPUT]) {
        int64_t dims[ONYX_MAX_RANK];
        memcpy(dims, X->dims, sizeof dims);
        dims[axis] = d->n_out;
        dims[X->rank - 1] = 2;
        onyx_set_shape(p->out[DFT_OUTPUT], ONYX_FLOAT, X->rank, dims);
    }
    return ONYX_OK;
}

/* Signal s = o * inner + i of x [outer, n_in, inner, c] starts at
 * x + (o * n_in * inner + i) * c, its output at y + (o * n_out * inner + i)
 * * 2; consecutive samples / bins are inner * c / inner * 2 floats apart. */
static onyx_status dft_eval(onyx_exec *e)
{
    const dft_params *d = e->params;
    onyx_tensor *Y = e->out[DFT_OUTPUT];
    if (!Y) return ONYX_OK;
    const float *x = e->in[DFT_INPUT]->data;
    float *y = Y->data;
    float *buf = e->scratch;          /* (n_fft, 2) gathered signal(s) */
    float *spec = buf + 2 * d->n_fft; /* (n_fft, 2) its transform */
    float *work = spec + 2 * d->n_fft;
    int64_t n_copy = d->n_in < d->n_fft ? d->n_in : d->n_fft;
    int64_t inner = d->inner, n_sig = d->outer * inner;
    int c = d->in_c;
    int64_t xstep = inner * c, ystep = inner * 2;
    for (int64_t j = 2 * n_copy; j < 2 * d->n_fft; j++)
        buf[j] = 0;
    for (int64_t s = 0; s < n_sig;) {
        int64_t o = s / inner, i = s % inner;
        const float *xs = x + (o * d->n_in * inner + i) * c;
        float *ys = y + (o * d->n_out * inner + i) * 2;
        if (c == 1 && s + 1 < n_sig) {
            /* two real signals as re and im of one complex FFT */
            int64_t o2 = (s + 1) / inner, i2 = (s + 1) % inner;
            const float *xs2 = x + o2 * d->n_in * inner + i2;
            float *ys2 = y + (o2 * d->n_out * inner + i2) * 2;
            for (int64_t j = 0; j < n_copy; j++) {
                buf[2 * j] = xs[j * xstep];
                buf[2 * j + 1] = xs2[j * xstep];
            }
            onyx_fft_run(d->fft, spec, buf, d->inverse, work);
            onyx_fft_split_real2(ys, ys2, (long)ystep, spec, (int)d->n_fft,
                                 (int)d->n_out);
            s += 2;
            continue;
        }
        for (int64_t j = 0; j < n_copy; j++) {
            buf[2 * j] = xs[j * xstep];
            buf[2 * j + 1] = c == 2 ? xs[j * xstep + 1] : 0.0f;
        }
        onyx_fft_run(d->fft, spec, buf, d->inverse, work);
        for (int64_t k = 0; k < d->n_out; k++) {
            ys[k * ystep] = spec[2 * k];
            ys[k * ystep + 1] = spec[2 * k + 1];
        }
        s++;
    }
    return ONYX_OK;
}

const onyx_op onyx_op_DFT = {"DFT", dft_prepare, dft_eval, 0, NULL};
