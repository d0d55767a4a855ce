/* resize.c - Resize (opsets 10, 11, 13): nearest, N-linear and N-cubic
 * resampling of any axes, with every ONNX coordinate transformation.
 *
 * The interpolation is separable, so it runs as one 1-D pass per resized
 * axis: [outer, n_in, inner] -> [outer, n_out, inner]. Each pass reads a
 * table made in prepare: for every output position the taps' input indices
 * (already clamped to the edge) and weights. Passes that shrink the tensor
 * run first; intermediate results ping-pong between two scratch buffers, the
 * last pass writes Y. Tables follow ONNX's reference implementation
 * (onnx/backend/test/case/node/resize.py), including its edge cases. */
#include "onyx_kernel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { RS_MODE_NEAREST, RS_MODE_LINEAR, RS_MODE_CUBIC };
enum {
    RS_HALF_PIXEL,
    RS_PYTORCH_HALF_PIXEL,
    RS_ALIGN_CORNERS,
    RS_ASYMMETRIC,
    RS_TF_HALF_PIXEL_FOR_NN,
    RS_TF_CROP_AND_RESIZE
};
enum { RS_ROUND_PREFER_FLOOR, RS_ROUND_PREFER_CEIL, RS_FLOOR, RS_CEIL };

typedef struct {
    int axis;       /* the tensor axis this pass resamples */
    int64_t outer;  /* product of the dims before the axis (at this pass) */
    int64_t n_in;   /* length of the axis before the pass */
    int64_t n_out;  /* length after */
    int64_t inner;  /* product of the dims after the axis (at this pass) */
    double scale;   /* the axis' scale factor (out/in for sizes) */
    size_t off_idx; /* table offsets (bytes) in the table block: */
    size_t off_w;   /*   idx int32 (n_out, taps), w float (n_out, taps), */
    size_t off_ext; /*   ext uint8 (n_out,): 1 = extrapolation_value */
} resize_pass;

typedef struct {
    int mode, ctm, nearest_mode, exclude_outside;
    double cubic_a;
    float extrapolation;
    int taps; /* 1 nearest, 2 linear, 4 cubic */
    int rank;
    int n_pass;
    resize_pass pass[ONYX_MAX_RANK];
    size_t table_bytes;
    int tables_in_scratch; /* roi is not constant: eval builds the tables */
    size_t buf_off[2]; /* byte offsets of the ping-pong buffers in scratch */
    unsigned char *tables; /* table_bytes, owned, when built in prepare */
} resize_params;

static void resize_free(void *params)
{
    resize_params *r = params;
    if (r) free(r->tables);
    free(r);
}

static size_t align64(size_t n)
{
    return (n + 63) & ~(size_t)63;
}

/* ONNX's cubic convolution weights for taps at distances 1+r, r, 1-r, 2-r
 * from the sample point, r in (0, 1]. */
static void cubic_coeffs(double c[4], double r, double A)
{
    double s = 1 - r;
    c[0] = ((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A;
    c[1] = ((A + 2) * r - (A + 3)) * r * r + 1;
    c[2] = ((A + 2) * s - (A + 3)) * s * s + 1;
    c[3] = ((A * (s + 1) - 5 * A) * (s + 1) + 8 * A) * (s + 1) - 4 * A;
}

/* Fill one pass' table: output position j maps to input coordinate x_ori by
 * the coordinate transformation; roi0/roi1 are that axis' crop box
 * (tf_crop_and_resize only). */
static void resize_build(const resize_params *r, const resize_pass *ps,
                         unsigned char *tables, double roi0, double roi1)
{
    int32_t *idx = (int32_t *)(tables + ps->off_idx);
    float *wt = (float *)(tables + ps->off_w);
    unsigned char *ext = tables + ps->off_ext;
    int taps = r->taps;
    double in = (double)ps->n_in, scale = ps->scale;
    double out_w = scale * in; /* the reference's float "output width" */
    for (int64_t j = 0; j < ps->n_out; j++) {
        double x = (double)j, xo;
        int32_t *ij = idx + j * taps;
        float *wj = wt + j * taps;
        ext[j] = 0;
        switch (r->ctm) {
        case RS_ALIGN_CORNERS:
            xo = out_w == 1 ? 0.0 : x * (in - 1) / (out_w - 1);
            break;
        case RS_ASYMMETRIC: xo = x / scale; break;
        case RS_TF_HALF_PIXEL_FOR_NN: xo = (x + 0.5) / scale; break;
        case RS_PYTORCH_HALF_PIXEL:
            xo = out_w == 1 ? -0.5 : (x + 0.5) / scale - 0.5;
            break;
        case RS_TF_CROP_AND_RESIZE:
            xo = out_w == 1 ? (roi1 - roi0) * (in - 1) / 2
                            : x * (roi1 - roi0) * (in - 1) / (out_w - 1);
            xo += roi0 * (in - 1);
            break;
        default: xo = (x + 0.5) / scale - 0.5; break;
        }
        if (r->ctm == RS_TF_CROP_AND_RESIZE && (xo < 0 || xo > in - 1)) {
            ext[j] = 1;
            for (int t = 0; t < taps; t++) {
                ij[t] = 0;
                wj[t] = 0;
            }
            continue;
        }
        /* far outside the axis every tap clamps to an edge: keep x_ori
         * (NaN included) where the integer casts below are defined */
        if (!(xo >= -3)) xo = -3;
        if (xo > in + 2) xo = in + 2;
        /* taps sit left of x_ori: base and ratio in (0, 1] */
        double base = floor(xo), ratio = xo - base;
        if (ratio == 0) {
            base -= 1;
            ratio = 1;
        }
        double c[4];
        int64_t first; /* input index of tap 0 */
        if (r->mode == RS_MODE_NEAREST) {
            int up; /* 1: take base+1 */
            switch (r->nearest_mode) {
            case RS_ROUND_PREFER_CEIL: up = ratio >= 0.5; break;
            case RS_FLOOR: up = 0; break;
            case RS_CEIL: up = 1; break;
            default: up = ratio > 0.5; break;
            }
            if (ratio == 1) up = 1; /* x_ori is an integer: itself */
            first = (int64_t)base + up;
            c[0] = 1;
        } else if (r->mode == RS_MODE_LINEAR) {
            first = (int64_t)base;
            c[0] = 1 - ratio;
            c[1] = ratio;
        } else {
            first = (int64_t)base - 1;
            cubic_coeffs(c, ratio, r->cubic_a);
        }
        if (r->exclude_outside && taps > 1) {
            double sum = 0;
            for (int t = 0; t < taps; t++) {
                int64_t i = first + t;
                if (i < 0 || i >= ps->n_in) c[t] = 0;
                sum += c[t];
            }
            for (int t = 0; t < taps; t++)
                c[t] /= sum;
        }
        for (int t = 0; t < taps; t++) {
            int64_t i = first + t; /* edge padding: clamp into the axis */
            if (i < 0) i = 0;
            if (i > ps->n_in - 1) i = ps->n_in - 1;
            ij[t] = (int32_t)i;
            wj[t] = (float)c[t];
        }
    }
}

static void resize_build_all(const resize_params *r, unsigned char *tables,
                             const onyx_tensor *roi)
{
    for (int k = 0; k < r->n_pass; k++) {
        const resize_pass *ps = &r->pass[k];
        double r0 = 0, r1 = 1;
        if (roi) {
            r0 = onyx_get_double(roi, ps->axis);
            r1 = onyx_get_double(roi, r->rank + ps->axis);
        }
        resize_build(r, ps, tables, r0, r1);
    }
}

static int parse_choice(const char *s, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0) return i;
    return -1;
}

/* An optional input that is present and not the empty-tensor placeholder. */
static int rs_has(const onyx_prep *p, int i)
{
    return i >= 0 && i < p->n_in && p->in[i] &&
           !(p->in[i]->rank > 0 && onyx_numel(p->in[i]) == 0);
}

static onyx_status resize_prepare(onyx_prep *p)
{
    static const char *const modes[] = {"nearest", "linear", "cubic"};
    static const char *const ctms[] = {
        "half_pixel", "pytorch_half_pixel",   "align_corners",
        "asymmetric", "tf_half_pixel_for_nn", "tf_crop_and_resize"};
    static const char *const nearest_modes[] = {
        "round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
    /* inputs: X, scales (opset 10); X, roi, scales, sizes (11, 13) */
    int in_roi = p->opset >= 11 ? 1 : -1;
    int in_scales = p->opset >= 11 ? 2 : 1;
    int in_sizes = p->opset >= 11 ? 3 : -1;

    ONYX_TRY(onyx_need_dtype(p, 0, ONYX_MASK(ONYX_FLOAT)));
    const onyx_tensor *X = p->in[0];
    int rank = X->rank;
    char sb[96];

    const char *mode_s = onyx_attr_string(p, "mode", "nearest");
    int mode = parse_choice(mode_s, modes, 3);
    ONYX_CHECK(p, mode >= 0 && (p->opset >= 11 || mode != RS_MODE_CUBIC),
               "mode '%s' is not one of nearest, linear%s", mode_s,
               p->opset >= 11 ? ", cubic" : " (opset 10)");
    int ctm = RS_ASYMMETRIC, nmode = RS_FLOOR; /* opset 10: Upsample's rule */
    if (p->opset >= 11) {
        const char *s =
            onyx_attr_string(p, "coordinate_transformation_mode", "half_pixel");
        ctm = parse_choice(s, ctms, 6);
        ONYX_CHECK(p, ctm >= 0,
                   "coordinate_transformation_mode '%s' is unknown", s);
        s = onyx_attr_string(p, "nearest_mode", "round_prefer_floor");
        nmode = parse_choice(s, nearest_modes, 4);
        ONYX_CHECK(p, nmode >= 0, "nearest_mode '%s' is unknown", s);
    }
    int64_t exclude = onyx_attr_int(p, "exclude_outside", 0);
    ONYX_CHECK(p, exclude == 0 || exclude == 1,
               "exclude_outside must be 0 or 1");

    /* output size: from scales (floor(in * scale)) or from sizes */
    double scale[ONYX_MAX_RANK];
    int64_t out_dims[ONYX_MAX_RANK];
    int has_scales = rs_has(p, in_scales);
    int has_sizes = rs_has(p, in_sizes);
    ONYX_CHECK(p, has_scales != has_sizes,
               has_scales ? "give scales or sizes, not both"
                          : "either scales or sizes is required");
    if (has_scales) {
        ONYX_TRY(onyx_need_dtype(p, in_scales, ONYX_MASK(ONYX_FLOAT)));
        ONYX_TRY(onyx_need_value(p, in_scales));
        const onyx_tensor *S = p->in[in_scales];
        ONYX_CHECK(p, onyx_numel(S) == rank,
                   "scales has %lld values for an input of rank %d",
                   (long long)onyx_numel(S), rank);
        for (int i = 0; i < rank; i++) {
            scale[i] = ((const float *)S->data)[i];
            ONYX_CHECK(p, scale[i] > 0, "scales[%d] = %g must be > 0", i,
                       scale[i]);
            double od = floor(scale[i] * (double)X->dims[i]);
            ONYX_CHECK(p, od >= 1 && od <= INT32_MAX,
                       "axis %d of %s resizes to %g elements", i,
                       onyx_shape_str(X, sb, sizeof sb), od);
            out_dims[i] = (int64_t)od;
        }
    } else {
        ONYX_TRY(onyx_need_dtype(p, in_sizes, ONYX_MASK(ONYX_INT64)));
        ONYX_TRY(onyx_need_value(p, in_sizes));
        const onyx_tensor *Z = p->in[in_sizes];
        ONYX_CHECK(p, onyx_numel(Z) == rank,
                   "sizes has %lld values for an input of rank %d",
                   (long long)onyx_numel(Z), rank);
        for (int i = 0; i < rank; i++) {
            out_dims[i] = ((const int64_t *)Z->data)[i];
            ONYX_CHECK(p, out_dims[i] >= 1, "sizes[%d] = %lld must be >= 1", i,
                       (long long)out_dims[i]);
            ONYX_CHECK(p, X->dims[i] >= 1, "input %s has an empty axis %d",
                       onyx_shape_str(X, sb, sizeof sb), i);
            scale[i] = (double)out_dims[i] / (double)X->dims[i];
        }
    }
    for (int i = 0; i < rank; i++)
        ONYX_CHECK(p, out_dims[i] >= 1 && out_dims[i] <= INT32_MAX,
                   "axis %d of %s resizes to %lld elements", i,
                   onyx_shape_str(X, sb, sizeof sb), (long long)out_dims[i]);

    /* the tables and scratch below grow with the output: check it first */
    ONYX_TRY(onyx_check_size(p, ONYX_FLOAT, rank, out_dims));

    const onyx_tensor *roi = NULL;
    if (ctm == RS_TF_CROP_AND_RESIZE) {
        ONYX_CHECK(p, rs_has(p, in_roi),
                   "tf_crop_and_resize needs the roi input");
        ONYX_TRY(onyx_need_dtype(p, in_roi, ONYX_MASK(ONYX_FLOAT)));
        roi = p->in[in_roi];
        ONYX_CHECK(p, onyx_numel(roi) == 2 * rank,
                   "roi has %lld values; 2 * rank = %d are needed",
                   (long long)onyx_numel(roi), 2 * rank);
    }

    resize_params *r = calloc(1, sizeof *r);
    if (!r) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    p->params = r;
    p->free_params = resize_free;
    r->mode = mode;
    r->ctm = ctm;
    r->nearest_mode = nmode;
    r->exclude_outside = (int)exclude;
    r->cubic_a = onyx_attr_float(p, "cubic_coeff_a", -0.75f);
    r->extrapolation = onyx_attr_float(p, "extrapolation_value", 0.0f);
    r->taps = mode == RS_MODE_NEAREST ? 1 : mode == RS_MODE_LINEAR ? 2 : 4;
    r->rank = rank;

    /* the passes: axes that change, shrinking ones first */
    int order[ONYX_MAX_RANK], n = 0;
    for (int i = 0; i < rank; i++) {
        int identity = out_dims[i] == X->dims[i] && scale[i] == 1.0 &&
                       ctm != RS_TF_HALF_PIXEL_FOR_NN &&
                       ctm != RS_TF_CROP_AND_RESIZE;
        if (identity) continue;
        int k = n++;
        while (k > 0 && scale[order[k - 1]] > scale[i]) {
            order[k] = order[k - 1];
            k--;
        }
        order[k] = i;
    }
    int64_t cur[ONYX_MAX_RANK];
    memcpy(cur, X->dims, sizeof cur);
    size_t tb = 0, buf_floats[2] = {0, 0};
    r->n_pass = n;
    for (int k = 0; k < n; k++) {
        resize_pass *ps = &r->pass[k];
        int a = order[k];
        ps->axis = a;
        ps->outer = 1;
        for (int i = 0; i < a; i++)
            ps->outer *= cur[i];
        ps->inner = 1;
        for (int i = a + 1; i < rank; i++)
            ps->inner *= cur[i];
        ps->n_in = cur[a];
        ps->n_out = out_dims[a];
        ps->scale = scale[a];
        cur[a] = out_dims[a];
        size_t cnt = (size_t)ps->n_out * (size_t)r->taps;
        ps->off_idx = tb;
        tb = align64(tb + cnt * sizeof(int32_t));
        ps->off_w = tb;
        tb = align64(tb + cnt * sizeof(float));
        ps->off_ext = tb;
        tb = align64(tb + (size_t)ps->n_out);
        if (k < n - 1) { /* passes but the last write a scratch buffer */
            size_t vol = (size_t)(ps->outer * ps->n_out * ps->inner);
            if (vol > buf_floats[k % 2]) buf_floats[k % 2] = vol;
        }
    }
    r->table_bytes = tb;
    r->tables_in_scratch = roi && !p->in_const[in_roi];
    size_t sc = r->tables_in_scratch ? tb : 0;
    r->buf_off[0] = sc;
    r->buf_off[1] = sc + align64(buf_floats[0] * sizeof(float));
    p->scratch_bytes = r->buf_off[1] + buf_floats[1] * sizeof(float);
    if (!r->tables_in_scratch && n > 0) {
        if (roi) ONYX_TRY(onyx_need_value(p, in_roi));
        r->tables = malloc(tb);
        if (!r->tables) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
        resize_build_all(r, r->tables, roi);
    }
    if (p->out[0]) onyx_set_shape(p->out[0], ONYX_FLOAT, rank, out_dims);
    return ONYX_OK;
}

/* y [outer, n_out, inner] = x [outer, n_in, inner] resampled along the
 * middle axis: y[o,j,:] = sum_t w[j,t] x[o, idx[j,t], :], or ext_value
 * where ext[j]. */
static void resize_run_pass(float *y, const float *x, const resize_pass *ps,
                            const unsigned char *tables, int taps,
                            float ext_value)
{
    const int32_t *idx = (const int32_t *)(tables + ps->off_idx);
    const float *wt = (const float *)(tables + ps->off_w);
    const unsigned char *ext = tables + ps->off_ext;
    int64_t n_in = ps->n_in, n_out = ps->n_out, inner = ps->inner;
    for (int64_t o = 0; o < ps->outer; o++) {
        const float *xo = x + o * n_in * inner;
        float *yo = y + o * n_out * inner;
        if (inner == 1) {
            for (int64_t j = 0; j < n_out; j++) {
                const int32_t *ij = idx + j * taps;
                const float *wj = wt + j * taps;
                float acc = 0;
                if (ext[j])
                    acc = ext_value;
                else if (taps == 1)
                    acc = xo[ij[0]];
                else
                    for (int t = 0; t < taps; t++)
                        acc += wj[t] * xo[ij[t]];
                yo[j] = acc;
            }
            continue;
        }
        for (int64_t j = 0; j < n_out; j++) {
            const int32_t *ij = idx + j * taps;
            const float *wj = wt + j * taps;
            float *yr = yo + j * inner;
            if (ext[j]) {
                for (int64_t i = 0; i < inner; i++)
                    yr[i] = ext_value;
                continue;
            }
            if (taps == 1) {
                memcpy(yr, xo + ij[0] * inner, (size_t)inner * sizeof(float));
                continue;
            }
            const float *x0 = xo + ij[0] * inner;
            float w0 = wj[0];
            for (int64_t i = 0; i < inner; i++)
                yr[i] = w0 * x0[i];
            for (int t = 1; t < taps; t++) {
                const float *xt = xo + ij[t] * inner;
                float w = wj[t];
                if (w == 0) continue;
                for (int64_t i = 0; i < inner; i++)
                    yr[i] += w * xt[i];
            }
        }
    }
}

static onyx_status resize_eval(onyx_exec *e)
{
    const resize_params *r = e->params;
    onyx_tensor *Y = e->out[0];
    if (!Y) return ONYX_OK;
    const onyx_tensor *X = e->in[0];
    if (r->n_pass == 0) {
        memcpy(Y->data, X->data, (size_t)onyx_numel(X) * sizeof(float));
        return ONYX_OK;
    }
    unsigned char *sc = e->scratch;
    const unsigned char *tables = r->tables;
    if (r->tables_in_scratch) {
        resize_build_all(r, sc, e->in[1]);
        tables = sc;
    }
    const float *src = X->data;
    for (int k = 0; k < r->n_pass; k++) {
        float *dst = k == r->n_pass - 1 ? (float *)Y->data
                                        : (float *)(sc + r->buf_off[k % 2]);
        resize_run_pass(dst, src, &r->pass[k], tables, r->taps,
                        r->extrapolation);
        src = dst;
    }
    return ONYX_OK;
}

const onyx_op onyx_op_Resize = {"Resize", resize_prepare, resize_eval, 0, NULL};
