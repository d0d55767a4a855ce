/* stream_layout.c - what a signal is (onyx_stream.h): the classification
 * of a model's inputs and outputs into signals (a time axis following the
 * block, a channel axis), controls and state pairs, and the block length.
 * Decided once, when the stream is made; stream.c schedules what it finds.
 */
#include "stream_impl.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- classification ---- */

static int is_batch_name(const char *nm)
{
    if (!nm) return 0;
    if (!strcmp(nm, "N")) return 1;
    for (const char *p = nm; *p; p++)
        if (!strncasecmp(p, "batch", 5)) return 1;
    return 0;
}

/* A dim that follows B: symbolic (or unknown) and not a batch dim. */
static int is_time_dim(const onyx_value_info *vi, int d)
{
    return vi->rank > d && vi->dims[d] < 0 && !is_batch_name(vi->dim_names[d]);
}

/* Finds the time and channel axes of a resolved tensor. `declared` is the
 * file's description; `dim_eq` allows a dim equal to B as the time axis.
 * Returns 1 for a signal. */
static int find_axes(const onyx_tensor *t, const onyx_value_info *declared,
                     int B, int dim_eq, int *ta, int *ca)
{
    *ta = *ca = -1;
    for (int d = 0; d < t->rank && *ta < 0; d++)
        if (is_time_dim(declared, d) && t->dims[d] == B) *ta = d;
    for (int d = t->rank - 1; d >= 0 && *ta < 0 && dim_eq; d--)
        if (t->dims[d] == B) *ta = d;
    if (*ta < 0) return 0;
    for (int d = 0; d < t->rank; d++) {
        if (d == *ta || t->dims[d] == 1) continue;
        if (*ca >= 0) return 0; /* two channel-like axes: a control */
        *ca = d;
    }
    return 1;
}

/* Does the resolved output differ from its declaration (or lack one)? Then
 * the declaration cannot say which dim follows B. */
static int decl_unreliable(const onyx_tensor *t, const onyx_value_info *vi)
{
    if (vi->rank != t->rank) return 1;
    for (int d = 0; d < t->rank; d++)
        if (vi->dims[d] >= 0 && vi->dims[d] != t->dims[d]) return 1;
    return 0;
}

static int same_shape(const onyx_tensor *a, const onyx_tensor *b)
{
    if (a->dtype != b->dtype || a->rank != b->rank) return 0;
    for (int d = 0; d < a->rank; d++)
        if (a->dims[d] != b->dims[d]) return 0;
    return 1;
}

static void sig_fill(sig_io *sg, int index, const onyx_tensor *t, int ta,
                     int ca)
{
    int64_t stride[ONYX_MAX_RANK];
    int64_t s = 1;
    for (int d = t->rank - 1; d >= 0; d--) {
        stride[d] = s;
        s *= t->dims[d];
    }
    sg->index = index;
    sg->t_stride = stride[ta];
    sg->channels = ca >= 0 ? (int)t->dims[ca] : 1;
    sg->c_stride = ca >= 0 ? stride[ca] : 0;
}

static int ctl_ok_dtype(onyx_dtype dt)
{
    return dt == ONYX_FLOAT || dt == ONYX_INT64 || dt == ONYX_BOOL;
}

/* the caller's shape for input name, or NULL */
static const onyx_bind *given_shape(const onyx_stream_config *cfg,
                                    const char *name)
{
    for (int k = 0; cfg && k < cfg->n_shapes; k++)
        if (!strcmp(cfg->shapes[k].name, name)) return &cfg->shapes[k];
    return NULL;
}

/* Binds the inputs the caller gave a shape, and every other input's
 * symbolic dims: batch dims to 1, the others to B. */
static onyx_bind *make_binds(const onyx_model *m, const onyx_stream_config *cfg,
                             int B, int *n_binds)
{
    int n = onyx_model_num_inputs(m);
    int n_given = cfg ? cfg->n_shapes : 0;
    onyx_bind *b = calloc((size_t)(n + n_given) + 1, sizeof *b);
    if (!b) return NULL;
    int k = 0;
    for (int g = 0; g < n_given; g++) {
        b[k] = cfg->shapes[g];
        b[k++].data = NULL;
    }
    for (int i = 0; i < n; i++) {
        const onyx_value_info *vi = onyx_model_input(m, i);
        if (given_shape(cfg, vi->name)) continue;
        int sym = 0;
        for (int d = 0; d < vi->rank; d++)
            sym |= vi->dims[d] < 0;
        if (!sym) continue;
        b[k].name = vi->name;
        b[k].rank = vi->rank;
        for (int d = 0; d < vi->rank; d++)
            b[k].dims[d] = vi->dims[d] >= 0                  ? vi->dims[d]
                           : is_batch_name(vi->dim_names[d]) ? 1
                                                             : B;
        k++;
    }
    *n_binds = k;
    return b;
}

static int find_state_in(const onyx_stream *s, int in)
{
    for (int i = 0; i < s->n_st; i++)
        if (s->st[i].in == in) return i;
    return -1;
}

static int find_state_out(const onyx_stream *s, int out)
{
    for (int i = 0; i < s->n_st; i++)
        if (s->st[i].out == out) return i;
    return -1;
}

/* State pairs: the caller's, then every X / X_out of the same shape. */
static onyx_status find_states(onyx_stream *s, const onyx_stream_config *cfg,
                               onyx_error *err)
{
    const onyx_program *p = s->prog;
    const char *path = onyx_model_path(s->model);
    int ni = onyx_program_num_inputs(p), no = onyx_program_num_outputs(p);
    s->st = calloc((size_t)ni + 1, sizeof *s->st);
    if (!s->st) {
        onyx_seterr(err, ONYX_ERR_NOMEM, "out of memory");
        return ONYX_ERR_NOMEM;
    }
    for (int k = 0; cfg && k < cfg->n_pairs; k++) {
        int i = onyx_program_find_input(p, cfg->pair_in[k]);
        int o = onyx_program_find_output(p, cfg->pair_out[k]);
        if (i < 0 || o < 0) {
            onyx_seterr(err, ONYX_ERR_INVALID,
                        "%s: state pair %s:%s: the model has no %s named '%s'",
                        path, cfg->pair_in[k], cfg->pair_out[k],
                        i < 0 ? "input" : "output",
                        i < 0 ? cfg->pair_in[k] : cfg->pair_out[k]);
            return ONYX_ERR_INVALID;
        }
        const onyx_tensor *ti = onyx_program_input_info(p, i);
        const onyx_tensor *to = onyx_program_output_info(p, o);
        if (!same_shape(ti, to)) {
            char a[128], b[128];
            onyx_seterr(
                err, ONYX_ERR_INVALID,
                "%s: state pair %s:%s: %s %s and %s %s differ", path,
                cfg->pair_in[k], cfg->pair_out[k], onyx_dtype_name(ti->dtype),
                onyx_shape_str(ti, a, sizeof a), onyx_dtype_name(to->dtype),
                onyx_shape_str(to, b, sizeof b));
            return ONYX_ERR_INVALID;
        }
        if (find_state_in(s, i) >= 0 || find_state_out(s, o) >= 0) {
            onyx_seterr(err, ONYX_ERR_INVALID,
                        "%s: state pair %s:%s: '%s' is already in a pair", path,
                        cfg->pair_in[k], cfg->pair_out[k],
                        find_state_in(s, i) >= 0 ? cfg->pair_in[k]
                                                 : cfg->pair_out[k]);
            return ONYX_ERR_INVALID;
        }
        s->st[s->n_st++] = (state_io){.in = i,
                                      .out = o,
                                      .bytes = (size_t)onyx_numel(ti) *
                                               onyx_dtype_size(ti->dtype)};
    }
    for (int i = 0; i < ni; i++) {
        if (find_state_in(s, i) >= 0) continue;
        const char *nm = onyx_program_input_name(p, i);
        for (int o = 0; o < no; o++) {
            const char *on = onyx_program_output_name(p, o);
            size_t l = strlen(nm);
            if (strncmp(on, nm, l) || strcmp(on + l, "_out")) continue;
            const onyx_tensor *ti = onyx_program_input_info(p, i);
            if (find_state_out(s, o) >= 0 ||
                !same_shape(ti, onyx_program_output_info(p, o)))
                continue;
            s->st[s->n_st++] = (state_io){.in = i,
                                          .out = o,
                                          .bytes = (size_t)onyx_numel(ti) *
                                                   onyx_dtype_size(ti->dtype)};
        }
    }
    return ONYX_OK;
}

/* Largest dim of the non-state float inputs and outputs: a static model's
 * block. */
static int static_length(const onyx_stream *s)
{
    const onyx_program *p = s->prog;
    int64_t best = 1;
    for (int io = 0; io < 2; io++) {
        int n = io ? onyx_program_num_outputs(p) : onyx_program_num_inputs(p);
        for (int i = 0; i < n; i++) {
            if ((io ? find_state_out(s, i) : find_state_in(s, i)) >= 0)
                continue;
            const onyx_tensor *t = io ? onyx_program_output_info(p, i)
                                      : onyx_program_input_info(p, i);
            if (t->dtype != ONYX_FLOAT) continue;
            for (int d = 0; d < t->rank; d++)
                if (t->dims[d] > best) best = t->dims[d];
        }
    }
    return best > INT_MAX ? INT_MAX : (int)best;
}

static onyx_status classify(onyx_stream *s, int time_symbolic, onyx_error *err)
{
    const onyx_program *p = s->prog;
    const char *path = onyx_model_path(s->model);
    int ni = onyx_program_num_inputs(p), no = onyx_program_num_outputs(p);
    s->sin = calloc((size_t)ni + 1, sizeof *s->sin);
    s->sout = calloc((size_t)no + 1, sizeof *s->sout);
    s->cin = calloc((size_t)ni + 1, sizeof *s->cin);
    s->cout = calloc((size_t)no + 1, sizeof *s->cout);
    if (!s->sin || !s->sout || !s->cin || !s->cout) {
        onyx_seterr(err, ONYX_ERR_NOMEM, "out of memory");
        return ONYX_ERR_NOMEM;
    }
    for (int io = 0; io < 2; io++) {
        int n = io ? no : ni;
        for (int i = 0; i < n; i++) {
            if ((io ? find_state_out(s, i) : find_state_in(s, i)) >= 0)
                continue;
            const onyx_tensor *t = io ? onyx_program_output_info(p, i)
                                      : onyx_program_input_info(p, i);
            const onyx_value_info *vi = io ? onyx_model_output(s->model, i)
                                           : onyx_model_input(s->model, i);
            const char *nm = io ? onyx_program_output_name(p, i)
                                : onyx_program_input_name(p, i);
            /* a dim equal to B is the time axis in a static model, and in
             * an output whose declaration does not follow B */
            int dim_eq = !time_symbolic || (io && decl_unreliable(t, vi));
            int ta, ca;
            if (!s->all_controls && find_axes(t, vi, s->B, dim_eq, &ta, &ca)) {
                if (t->dtype != ONYX_FLOAT) {
                    onyx_seterr(
                        err, ONYX_ERR_UNSUPPORTED,
                        "%s: %s '%s' has a time axis of %d (a signal) but "
                        "dtype %s: signals must be float32",
                        path, io ? "output" : "input", nm, s->B,
                        onyx_dtype_name(t->dtype));
                    return ONYX_ERR_UNSUPPORTED;
                }
                sig_io *sg = io ? &s->sout[s->n_sout++] : &s->sin[s->n_sin++];
                sig_fill(sg, i, t, ta, ca);
                if (io)
                    s->ch_out += sg->channels;
                else
                    s->ch_in += sg->channels;
                continue;
            }
            if (!ctl_ok_dtype(t->dtype)) {
                onyx_seterr(err, ONYX_ERR_UNSUPPORTED,
                            "%s: control %s '%s' has dtype %s (controls are "
                            "float32, int64 or bool)",
                            path, io ? "output" : "input", nm,
                            onyx_dtype_name(t->dtype));
                return ONYX_ERR_UNSUPPORTED;
            }
            int64_t e = onyx_numel(t);
            int *total = io ? &s->cout_floats : &s->cin_floats;
            if (e > INT_MAX - *total) {
                onyx_seterr(err, ONYX_ERR_LIMIT,
                            "%s: control '%s' is too large", path, nm);
                return ONYX_ERR_LIMIT;
            }
            ctl_io *c = io ? &s->cout[s->n_cout++] : &s->cin[s->n_cin++];
            *c = (ctl_io){i, nm, t->dtype, (int)e, *total};
            *total += (int)e;
        }
    }
    if (!s->all_controls && s->n_sin == 0 && s->n_sout == 0) {
        onyx_seterr(err, ONYX_ERR_INVALID,
                    "%s: no signal input or output for block %d (a signal has "
                    "a time axis: a symbolic dim, or a dim equal to the "
                    "block); a model of controls only belongs in [onyx]",
                    path, s->B);
        return ONYX_ERR_INVALID;
    }
    return ONYX_OK;
}

/* Is the time symbolic? Any non-batch symbolic dim of an input that is not
 * a state (state names are known only after resolve, so test the X / X_out
 * naming and the caller's pairs here by name). */
static int time_is_symbolic(const onyx_model *m, const onyx_stream_config *cfg)
{
    int time_symbolic = 0;
    for (int i = 0; i < onyx_model_num_inputs(m); i++) {
        const onyx_value_info *vi = onyx_model_input(m, i);
        int state = 0;
        for (int k = 0; cfg && k < cfg->n_pairs; k++)
            state |= !strcmp(cfg->pair_in[k], vi->name);
        char buf[300];
        snprintf(buf, sizeof buf, "%s_out", vi->name);
        for (int o = 0; o < onyx_model_num_outputs(m); o++)
            state |= !strcmp(onyx_model_output(m, o)->name, buf);
        state |= given_shape(cfg, vi->name) != NULL; /* static now */
        for (int d = 0; d < vi->rank && !state; d++)
            time_symbolic |= is_time_dim(vi, d);
    }
    return time_symbolic;
}

onyx_status stream_layout(onyx_stream *s, const onyx_stream_config *cfg,
                          onyx_error *err)
{
    const onyx_model *m = s->model;
    int block = cfg ? cfg->block : 0;
    if (block < 0) {
        onyx_seterr(err, ONYX_ERR_INVALID, "%s: block %d is not valid",
                    onyx_model_path(m), block);
        return ONYX_ERR_INVALID;
    }
    int time_symbolic = time_is_symbolic(m, cfg);
    s->B = block ? block : s->all_controls ? 1 : 64;
    int n_binds = 0;
    onyx_bind *binds = make_binds(m, cfg, s->B, &n_binds);
    if (!binds) {
        onyx_seterr(err, ONYX_ERR_NOMEM, "out of memory");
        return ONYX_ERR_NOMEM;
    }
    s->prog = onyx_program_new(m, binds, n_binds, err);
    free(binds);
    if (!s->prog) return err ? err->status : ONYX_ERR_INVALID;
    onyx_status st = find_states(s, cfg, err);
    if (st != ONYX_OK) return st;
    if (!time_symbolic && !block) s->B = static_length(s);
    return classify(s, time_symbolic, err);
}

int onyx_stream_block(const onyx_stream *s)
{
    return s->B;
}
int onyx_stream_signal_inputs(const onyx_stream *s)
{
    return s->ch_in;
}
int onyx_stream_signal_outputs(const onyx_stream *s)
{
    return s->ch_out;
}
int onyx_stream_num_controls_in(const onyx_stream *s)
{
    return s->n_cin;
}
int onyx_stream_num_controls_out(const onyx_stream *s)
{
    return s->n_cout;
}
int onyx_stream_num_states(const onyx_stream *s)
{
    return s->n_st;
}
const onyx_program *onyx_stream_program(const onyx_stream *s)
{
    return s->prog;
}

const char *onyx_stream_control_in_name(const onyx_stream *s, int i)
{
    return i >= 0 && i < s->n_cin ? s->cin[i].name : NULL;
}
int onyx_stream_control_in_size(const onyx_stream *s, int i)
{
    return i >= 0 && i < s->n_cin ? s->cin[i].size : -1;
}
const char *onyx_stream_control_out_name(const onyx_stream *s, int i)
{
    return i >= 0 && i < s->n_cout ? s->cout[i].name : NULL;
}
int onyx_stream_control_out_size(const onyx_stream *s, int i)
{
    return i >= 0 && i < s->n_cout ? s->cout[i].size : -1;
}
int onyx_stream_find_control_in(const onyx_stream *s, const char *name)
{
    for (int i = 0; i < s->n_cin; i++)
        if (!strcmp(s->cin[i].name, name)) return i;
    return -1;
}
