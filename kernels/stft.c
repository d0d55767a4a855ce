/* stft.c - STFT (opset 17): short-time Fourier transform of a batch of real
 * or complex signals, one FFT (kernels/math/fft.c) per windowed frame. */
#include "math/fft.h"
#include "onyx_kernel.h"

#include <stdlib.h>

enum { STFT_SIGNAL = 0, STFT_STEP = 1, STFT_WINDOW = 2, STFT_LENGTH = 3 };
enum { STFT_OUTPUT = 0 };

typedef struct {
    onyx_fft *fft; /* plan for n_fft, owned */
    int64_t batch;
    int64_t len;    /* signal length */
    int c;          /* 1 real signal, 2 complex */
    int64_t step;   /* frame_step, samples */
    int64_t frames; /* 1 + (len - n_fft) / step */
    int64_t n_fft;  /* frame length = DFT size */
    int64_t n_out;  /* bins per frame: n_fft/2+1 when onesided, else n_fft */
    int has_window;
    size_t work_floats; /* FFT work space, after the two (n_fft,2) buffers */
} stft_params;

static void stft_free(void *params)
{
    stft_params *s = params;
    if (s) onyx_fft_free(s->fft);
    free(s);
}

/* An optional input that is present and not the empty-tensor placeholder. */
static int stft_has(const onyx_prep *p, int i)
{
    return i < p->n_in && p->in[i] &&
           !(p->in[i]->rank > 0 && onyx_numel(p->in[i]) == 0);
}

static onyx_status stft_scalar(onyx_prep *p, int i, const char *what,
                               int64_t *v)
{
    ONYX_TRY(
        onyx_need_dtype(p, i, ONYX_MASK(ONYX_INT64) | ONYX_MASK(ONYX_INT32)));
    ONYX_TRY(onyx_need_value(p, i));
    ONYX_CHECK(p, onyx_numel(p->in[i]) == 1, "%s must be a scalar", what);
    *v = onyx_get_int(p->in[i], 0);
    return ONYX_OK;
}

static onyx_status stft_prepare(onyx_prep *p)
{
    ONYX_TRY(onyx_need_dtype(p, STFT_SIGNAL, ONYX_MASK(ONYX_FLOAT)));
    const onyx_tensor *S = p->in[STFT_SIGNAL];
    char sb[96];
    ONYX_CHECK(p, S->rank == 3 && (S->dims[2] == 1 || S->dims[2] == 2),
               "signal %s must be [batch, length, 1 or 2]",
               onyx_shape_str(S, sb, sizeof sb));
    int64_t onesided = onyx_attr_int(p, "onesided", 1);
    ONYX_CHECK(p, onesided == 0 || onesided == 1, "onesided must be 0 or 1");

    int64_t step = 0, n_fft = -1;
    ONYX_TRY(stft_scalar(p, STFT_STEP, "frame_step", &step));
    ONYX_CHECK(p, step >= 1, "frame_step %lld must be >= 1", (long long)step);
    int has_window = stft_has(p, STFT_WINDOW);
    if (has_window) {
        ONYX_TRY(onyx_need_dtype(p, STFT_WINDOW, ONYX_MASK(ONYX_FLOAT)));
        const onyx_tensor *W = p->in[STFT_WINDOW];
        ONYX_CHECK(p, W->rank == 1, "window %s must be 1-D",
                   onyx_shape_str(W, sb, sizeof sb));
        n_fft = W->dims[0];
    }
    if (stft_has(p, STFT_LENGTH)) {
        int64_t fl;
        ONYX_TRY(stft_scalar(p, STFT_LENGTH, "frame_length", &fl));
        ONYX_CHECK(p, n_fft < 0 || fl == n_fft,
                   "frame_length %lld differs from the window length %lld",
                   (long long)fl, (long long)n_fft);
        n_fft = fl;
    }
    ONYX_CHECK(p, n_fft >= 0, "either a window or frame_length is required");
    ONYX_CHECK(p, n_fft >= 1 && n_fft <= S->dims[1] && n_fft <= (1 << 26),
               "frame length %lld must be in [1, signal length %lld]",
               (long long)n_fft, (long long)S->dims[1]);

    stft_params *s = calloc(1, sizeof *s);
    if (!s) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    s->fft = onyx_fft_new((int)n_fft);
    if (!s->fft) {
        free(s);
        return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory for the FFT plan");
    }
    p->params = s;
    p->free_params = stft_free;
    s->batch = S->dims[0];
    s->len = S->dims[1];
    s->c = (int)S->dims[2];
    s->step = step;
    s->frames = 1 + (s->len - n_fft) / step;
    s->n_fft = n_fft;
    s->n_out = onesided ? n_fft / 2 + 1 : n_fft;
    s->has_window = has_window;
    s->work_floats = onyx_fft_work_floats(s->fft);
    p->scratch_bytes = (4 * (size_t)n_fft + s->work_floats) * sizeof(float);

    if (p->out[STFT_OUTPUT]) {
        int64_t dims[4] = {s->batch, s->frames, s->n_out, 2};
        onyx_set_shape(p->out[STFT_OUTPUT], ONYX_FLOAT, 4, dims);
    }
    return ONYX_OK;
}

static onyx_status stft_eval(onyx_exec *e)
{
    const stft_params *s = e->params;
    onyx_tensor *Y = e->out[STFT_OUTPUT];
    if (!Y) return ONYX_OK;
    const float *x = e->in[STFT_SIGNAL]->data;
    const float *win = s->has_window ? e->in[STFT_WINDOW]->data : NULL;
    float *y = Y->data;
    float *buf = e->scratch;          /* (n_fft, 2) windowed frame(s) */
    float *spec = buf + 2 * s->n_fft; /* (n_fft, 2) its transform */
    float *work = spec + 2 * s->n_fft;
    int c = s->c;
    int64_t n = s->n_fft, n_frames = s->batch * s->frames;
    /* frame g = b * frames + f of x [batch, len, c] starts at sample
     * f * step of batch b; its bins go to y [batch, frames, n_out, 2]. */
    for (int64_t g = 0; g < n_frames;) {
        int64_t b = g / s->frames, f = g % s->frames;
        const float *xs = x + (b * s->len + f * s->step) * c;
        float *ys = y + g * s->n_out * 2;
        if (c == 1 && g + 1 < n_frames) {
            /* two real frames as re and im of one complex FFT */
            int64_t b2 = (g + 1) / s->frames, f2 = (g + 1) % s->frames;
            const float *xs2 = x + b2 * s->len + f2 * s->step;
            for (int64_t j = 0; j < n; j++) {
                float w = win ? win[j] : 1.0f;
                buf[2 * j] = xs[j] * w;
                buf[2 * j + 1] = xs2[j] * w;
            }
            onyx_fft_run(s->fft, spec, buf, 0, work);
            onyx_fft_split_real2(ys, ys + s->n_out * 2, 2, spec, (int)n,
                                 (int)s->n_out);
            g += 2;
            continue;
        }
        for (int64_t j = 0; j < n; j++) {
            float w = win ? win[j] : 1.0f;
            buf[2 * j] = xs[j * c] * w;
            buf[2 * j + 1] = c == 2 ? xs[j * c + 1] * w : 0.0f;
        }
        onyx_fft_run(s->fft, spec, buf, 0, work);
        for (int64_t k = 0; k < 2 * s->n_out; k++)
            ys[k] = spec[k];
        g++;
    }
    return ONYX_OK;
}

const onyx_op onyx_op_STFT = {"STFT", stft_prepare, stft_eval, 0, NULL};
