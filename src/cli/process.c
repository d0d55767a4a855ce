/* process.c - `onyx process`: a sound file streamed through the streaming
 * runner exactly as [onyx~ -sync] plays it in Pd (host block 64), or with
 * --threaded as [onyx~] renders under pd -batch (inference in the worker,
 * the reader waiting for it), the latency compensated so that output frame
 * t belongs to input frame t. */
#include "options.h"
#include "../engine/onyx_stream.h"
#include "../engine/onyx_worker.h"

#include <errno.h>
#include <sndfile.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define HOST_BLOCK 64 /* Pd's block: the stream runs as [onyx~ -sync] would */

const char usage_process[] =
    "usage: onyx process MODEL IN OUT [--block N] [--set NAME=v1,v2,...]\n"
    "                    [--state IN:OUT] [--shape NAME=D1,...] "
    "[--controls FILE]\n"
    "                    [--threaded]\n"
    "\n"
    "Streams IN (any sound file libsndfile reads, one channel per signal "
    "input\n"
    "channel of the model) through MODEL as [onyx~ -sync MODEL] would in Pd,\n"
    "64 frames at a time, and writes OUT (one channel per signal output\n"
    "channel, IN's sample rate) in the format its extension names: .wav "
    "(float32),\n"
    ".flac (24-bit), .aiff/.aif, .caf, .w64, .au (float32) or .ogg "
    "(Vorbis).\n"
    "The runner's latency is compensated (the input is followed by that many\n"
    "zeros and the first output frames dropped) so that OUT frame t belongs "
    "to\n"
    "IN frame t; the figure is printed. State outputs are fed back from "
    "block\n"
    "to block.\n"
    "\n"
    "  --block N           the model's block when its time dim is symbolic\n"
    "                      (default 64; a static model's own length "
    "otherwise)\n"
    "  --set NAME=v1,...   a control input's values (default zeros); "
    "repeatable\n"
    "  --state IN:OUT      an explicit state pair besides X / X_out; "
    "repeatable\n"
    "  --shape NAME=D1,... an input's shape (a dim of it equal to the block "
    "is its\n"
    "                      time axis); repeatable\n"
    "  --controls FILE     the control outputs of every inference as CSV: "
    "the\n"
    "                      time (s) of the block's first frame, then the "
    "values.\n"
    "                      A model without signal outputs writes them to "
    "OUT\n"
    "  --threaded          run the inferences in a worker thread as "
    "[onyx~] (without\n"
    "                      -sync) does under pd -batch, the reader waiting "
    "for it:\n"
    "                      the same OUT, a longer latency (not with "
    "--controls)\n"
    "\n"
    "Warns when IN's rate differs from the model's `sample_rate` "
    "metadata.\n";

/* The sound formats OUT may name, by extension. */
typedef struct out_format {
    const char *ext;
    int format; /* libsndfile major | subtype */
    const char *label;
} out_format;

static const out_format out_formats[] = {
    {".wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, "WAV float32"},
    {".flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_24, "FLAC 24-bit"},
    {".aiff", SF_FORMAT_AIFF | SF_FORMAT_FLOAT, "AIFF float32"},
    {".aif", SF_FORMAT_AIFF | SF_FORMAT_FLOAT, "AIFF float32"},
    {".caf", SF_FORMAT_CAF | SF_FORMAT_FLOAT, "CAF float32"},
    {".w64", SF_FORMAT_W64 | SF_FORMAT_FLOAT, "W64 float32"},
    {".au", SF_FORMAT_AU | SF_FORMAT_FLOAT, "AU float32"},
    {".ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, "Ogg Vorbis"},
};
#define N_OUT_FORMATS (int)(sizeof out_formats / sizeof out_formats[0])

/* The format path's extension names (case-insensitive), or NULL. */
static const out_format *format_of(const char *path)
{
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash)) return NULL;
    for (int i = 0; i < N_OUT_FORMATS; i++)
        if (!strcasecmp(dot, out_formats[i].ext)) return &out_formats[i];
    return NULL;
}

/* Why libsndfile could not open path for reading: the system's reason when
 * the file cannot be opened at all, else libsndfile's. */
static void say_cannot_read(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "onyx: %s: cannot open: %s\n", path, strerror(errno));
        return;
    }
    fclose(f);
    fprintf(stderr, "onyx: %s: not a sound file libsndfile reads (%s)\n", path,
            sf_strerror(NULL));
}

static void progress(sf_count_t done, sf_count_t total)
{
    int pct = total > 0 ? (int)(100 * done / total) : 100, w = 40;
    int fill = pct * w / 100;
    fprintf(stderr, "\r[%.*s%*s] %3d%%", fill,
            "########################################", w - fill, "", pct);
}

/* What `onyx process` was asked. */
typedef struct proc_opts {
    const char *model_path, *in_path, *out_path, *controls_path;
    long block;
    cli_sets sets;
    cli_shapes shapes;
    const char *pair_in[CLI_MAX_BINDS], *pair_out[CLI_MAX_BINDS];
    char pair_buf[CLI_MAX_BINDS][512];
    int n_pairs;
    int threaded; /* --threaded */
} proc_opts;

/* Everything a run opens, closed at once by close_run. */
typedef struct proc_run {
    onyx_model *m;
    onyx_stream *s;
    SNDFILE *in, *out;
    SF_INFO ii;
    const out_format *ofmt;
    const char *controls_path; /* --controls, or OUT for a model with
                                  control outputs only */
    int ch_in, ch_out, n_cout, latency;
    float *ibuf, *obuf, *chan, *cvals;
    float **cptr;
    const float **inp;
    float **outp;
    FILE *csv;
    uint64_t rows, seen; /* CSV rows written; inferences seen */
    sf_count_t written;
    onyx_worker wk; /* --threaded: the inferences' thread */
    onyx_worker_item item;
} proc_run;

/* --state IN:OUT; 0, or the usage error's exit status. */
static int state_opt(proc_opts *o, const char *opt, const char *s)
{
    if (o->n_pairs >= CLI_MAX_BINDS)
        return cli_usage(usage_process, "too many %s options", opt);
    const char *colon = strchr(s, ':');
    if (!colon || colon == s || !colon[1] || strlen(s) >= sizeof o->pair_buf[0])
        return cli_usage(usage_process,
                         "--state %s: want IN:OUT (an input and an output "
                         "name)",
                         s);
    char *buf = o->pair_buf[o->n_pairs];
    strcpy(buf, s);
    buf[colon - s] = 0;
    o->pair_in[o->n_pairs] = buf;
    o->pair_out[o->n_pairs] = buf + (colon - s) + 1;
    o->n_pairs++;
    return 0;
}

/* What an option's missing value should have been, or NULL when a is no
 * option that takes one. */
static const char *value_needed(const char *a)
{
    return !strcmp(a, "--block")      ? "a number"
           : !strcmp(a, "--set")      ? "NAME=v1,v2,..."
           : !strcmp(a, "--state")    ? "IN:OUT"
           : !strcmp(a, "--shape")    ? "NAME=D1,D2,..."
           : !strcmp(a, "--controls") ? "a file name"
                                      : NULL;
}

static int process_value_opt(proc_opts *o, const char *a, const char *v)
{
    if (!strcmp(a, "--block")) {
        if (cli_parse_long(v, 1, 1 << 24, &o->block))
            return cli_bad_value(usage_process, a, v,
                                 "a whole number from 1 to 16777216");
        return 0;
    }
    if (!strcmp(a, "--set")) return cli_set_opt(&o->sets, a, v, usage_process);
    if (!strcmp(a, "--state")) return state_opt(o, a, v);
    if (!strcmp(a, "--shape"))
        return cli_shape_opt(&o->shapes, a, v, usage_process);
    o->controls_path = v;
    return 0;
}

static int parse_process_args(int argc, char **argv, proc_opts *o)
{
    const char *pos[3] = {0};
    int n_pos = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *needs = value_needed(a);
        if (needs) {
            const char *v = cli_opt_value(argc, argv, &i, needs, usage_process);
            if (!v) return CLI_EXIT_USAGE;
            int rc = process_value_opt(o, a, v);
            if (rc) return rc;
        } else if (!strcmp(a, "--threaded")) {
            o->threaded = 1;
        } else if (a[0] == '-' && a[1]) {
            return cli_usage(usage_process, "unknown option '%s'", a);
        } else if (n_pos < 3) {
            pos[n_pos++] = a;
        } else {
            return cli_usage(usage_process, "unexpected argument '%s'", a);
        }
    }
    if (n_pos < 3)
        return cli_usage(usage_process, "%s",
                         n_pos == 0   ? "no MODEL given"
                         : n_pos == 1 ? "no IN given"
                                      : "no OUT given");
    o->model_path = pos[0];
    o->in_path = pos[1];
    o->out_path = pos[2];
    return 0;
}

/* The streaming runner for the model. --block is the length of a symbolic
 * time axis: a model whose inputs are all static (or bound by --shape)
 * plays its own length. 1 after printing an error. */
static int open_stream(const proc_opts *o, proc_run *pr)
{
    int symbolic = 0, block = (int)o->block;
    for (int i = 0; i < onyx_model_num_inputs(pr->m); i++) {
        const onyx_value_info *v = onyx_model_input(pr->m, i);
        int bound = cli_shape_of(&o->shapes, v->name) != NULL;
        for (int d = 0; d < v->rank && !bound; d++)
            symbolic |= v->dims[d] < 0;
    }
    int ignored_block = block && !symbolic ? block : 0;
    if (ignored_block) block = 0;
    onyx_stream_config cfg = {.block = block,
                              .n_pairs = o->n_pairs,
                              .pair_in = o->pair_in,
                              .pair_out = o->pair_out,
                              .n_shapes = o->shapes.n,
                              .shapes = o->shapes.b};
    onyx_error err = {0};
    pr->s = onyx_stream_new(pr->m, &cfg, &err);
    if (!pr->s) {
        fprintf(stderr, "onyx: %s\n", err.msg);
        return 1;
    }
    if (ignored_block)
        fprintf(stderr,
                "onyx: note: --block %d ignored: %s has no symbolic time "
                "axis left to bind (--shape binds an input outright); its "
                "block is %d\n",
                ignored_block, o->model_path, onyx_stream_block(pr->s));
    pr->ch_in = onyx_stream_signal_inputs(pr->s);
    pr->ch_out = onyx_stream_signal_outputs(pr->s);
    pr->n_cout = onyx_stream_num_controls_out(pr->s);
    return 0;
}

/* Where the results go: OUT as a sound file in the format its extension
 * names, the control outputs to --controls (or to OUT when the model has no
 * signal output). Returns 0, or the exit status after printing why not. */
static int check_outputs(const proc_opts *o, proc_run *pr)
{
    const char *out_path = o->out_path;
    pr->controls_path = o->controls_path;
    if (pr->ch_out == 0 && !pr->controls_path) {
        if (pr->n_cout == 0) {
            fprintf(stderr,
                    "onyx: %s: the model has no signal output and no control "
                    "output (block %d): nothing to write\n",
                    o->model_path, onyx_stream_block(pr->s));
            return 1;
        }
        pr->controls_path = out_path; /* the controls are the result */
    }
    pr->ofmt = format_of(out_path);
    if (pr->ch_out > 0 && !pr->ofmt) {
        const char *dot = strrchr(out_path, '.');
        fprintf(stderr,
                "onyx: %s: onyx writes sound files as .wav, .flac, .aiff, "
                ".aif, .caf, .w64, .au or .ogg, not '%s'%s\n",
                out_path, dot && !strchr(dot, '/') ? dot : "(no extension)",
                dot && !strcasecmp(dot, ".csv")
                    ? " (control outputs go to --controls FILE)"
                    : "");
        return 2;
    }
    if (pr->ch_out == 0 && pr->controls_path == out_path && pr->ofmt) {
        fprintf(stderr,
                "onyx: %s: the model has no signal output: OUT gets its "
                "control outputs as CSV, not %s\n",
                out_path, pr->ofmt->label);
        return 2;
    }
    if (pr->controls_path && o->threaded) {
        fprintf(stderr, "onyx: --threaded writes signal outputs only: the "
                        "control outputs of a threaded run are polled, not "
                        "one row per inference (run without --threaded)\n");
        return 2;
    }
    if (pr->controls_path && pr->n_cout == 0) {
        fprintf(stderr,
                "onyx: %s: the model has no control output for "
                "--controls\n",
                o->model_path);
        return 1;
    }
    return 0;
}

/* The CSV of control outputs: buffers to poll them into, and its header
 * row. 1 after printing an error. */
static int open_controls(proc_run *pr)
{
    int total = 0;
    for (int j = 0; j < pr->n_cout; j++)
        total += onyx_stream_control_out_size(pr->s, j);
    pr->cvals = calloc((size_t)total + 1, sizeof(float));
    pr->cptr = calloc((size_t)pr->n_cout + 1, sizeof *pr->cptr);
    if (!pr->cvals || !pr->cptr) {
        fprintf(stderr, "onyx: out of memory\n");
        return 1;
    }
    for (int j = 0, at = 0; j < pr->n_cout; j++) {
        pr->cptr[j] = pr->cvals + at;
        at += onyx_stream_control_out_size(pr->s, j);
    }
    pr->csv = fopen(pr->controls_path, "w");
    if (!pr->csv) {
        fprintf(stderr, "onyx: %s: %s\n", pr->controls_path, strerror(errno));
        return 1;
    }
    fprintf(pr->csv, "time");
    for (int j = 0; j < pr->n_cout; j++) {
        const char *nm = onyx_stream_control_out_name(pr->s, j);
        int n = onyx_stream_control_out_size(pr->s, j);
        for (int k = 0; k < n; k++)
            fprintf(pr->csv, n == 1 ? ",%s" : ",%s[%d]", nm, k);
    }
    fputc('\n', pr->csv);
    return 0;
}

/* IN, with as many channels as the model has signal inputs. 1 after
 * printing an error. */
static int open_input(const proc_opts *o, proc_run *pr)
{
    const char *in_path = o->in_path;
    pr->in = sf_open(in_path, SFM_READ, &pr->ii);
    if (!pr->in) {
        say_cannot_read(in_path);
        return 1;
    }
    int chans = pr->ii.channels, ch_in = pr->ch_in;
    if (ch_in > 0 && chans != ch_in) {
        fprintf(stderr,
                "onyx: %s has %d channel%s; %s takes %d signal input "
                "channel%s\n",
                in_path, chans, chans == 1 ? "" : "s", o->model_path, ch_in,
                ch_in == 1 ? "" : "s");
        return 1;
    }
    if (ch_in == 0)
        fprintf(stderr,
                "onyx: note: the model has no signal input; %s only "
                "gives the length\n",
                in_path);
    const char *sr = onyx_model_meta(pr->m, "sample_rate");
    if (sr && atof(sr) > 0 && atof(sr) != pr->ii.samplerate)
        fprintf(
            stderr,
            "onyx: warning: %s is at %d Hz; the model's sample_rate is %s\n",
            in_path, pr->ii.samplerate, sr);
    return 0;
}

/* One --set into the control it names; 1 after printing why not. */
static int set_control(const proc_opts *o, onyx_stream *s, const cli_set *set)
{
    char name[512];
    snprintf(name, sizeof name, "%.*s", (int)set->name_len, set->name);
    int c = onyx_stream_find_control_in(s, name);
    if (c < 0) {
        fprintf(stderr,
                "onyx: %s: no control input named '%s' (control inputs:",
                o->model_path, name);
        for (int j = 0; j < onyx_stream_num_controls_in(s); j++)
            fprintf(stderr, " %s", onyx_stream_control_in_name(s, j));
        fprintf(stderr, "%s)\n", onyx_stream_num_controls_in(s) ? "" : " none");
        return 1;
    }
    int want = onyx_stream_control_in_size(s, c);
    if (set->n != want) {
        fprintf(stderr, "onyx: control '%s' takes %d value%s, --set gave %d\n",
                name, want, want == 1 ? "" : "s", set->n);
        return 1;
    }
    onyx_stream_set_control(s, c, set->v, set->n);
    return 0;
}

/* Controls: the --set values, zeros for the others (with a note). 1 after
 * printing an error. */
static int set_controls(const proc_opts *o, onyx_stream *s)
{
    for (int k = 0; k < o->sets.n; k++)
        if (set_control(o, s, &o->sets.v[k])) return 1;
    for (int j = 0; j < onyx_stream_num_controls_in(s); j++) {
        const char *nm = onyx_stream_control_in_name(s, j);
        int given = 0;
        for (int k = 0; k < o->sets.n; k++)
            given |= cli_set_names(&o->sets.v[k], nm);
        if (!given)
            fprintf(stderr, "onyx: note: control input '%s' not set: zeros\n",
                    nm);
    }
    return 0;
}

/* OUT as a sound file, at IN's rate. 1 after printing an error. */
static int open_output(const proc_opts *o, proc_run *pr)
{
    SF_INFO oi = {0};
    oi.samplerate = pr->ii.samplerate;
    oi.channels = pr->ch_out;
    oi.format = pr->ofmt->format;
    if (!sf_format_check(&oi)) {
        fprintf(stderr,
                "onyx: %s: libsndfile cannot write %s with %d channel%s "
                "at %d Hz\n",
                o->out_path, pr->ofmt->label, pr->ch_out,
                pr->ch_out == 1 ? "" : "s", pr->ii.samplerate);
        return 1;
    }
    pr->out = sf_open(o->out_path, SFM_WRITE, &oi);
    if (!pr->out) {
        fprintf(stderr, "onyx: %s: cannot write: %s\n", o->out_path,
                sf_strerror(NULL));
        return 1;
    }
    /* integer formats (FLAC): clip beyond full scale, never wrap */
    sf_command(pr->out, SFC_SET_CLIPPING, NULL, SF_TRUE);
    return 0;
}

/* One host block's buffers: interleaved in and out, and the planar
 * channels the runner reads and writes. 1 after printing an error. */
static int alloc_buffers(proc_run *pr)
{
    int ch_in = pr->ch_in, ch_out = pr->ch_out;
    pr->ibuf =
        calloc((size_t)HOST_BLOCK * (size_t)pr->ii.channels, sizeof(float));
    pr->obuf = calloc((size_t)HOST_BLOCK * (size_t)ch_out + 1, sizeof(float));
    pr->chan = calloc((size_t)HOST_BLOCK * (size_t)(ch_in + ch_out) + 1,
                      sizeof(float));
    pr->inp = calloc((size_t)ch_in + 1, sizeof *pr->inp);
    pr->outp = calloc((size_t)ch_out + 1, sizeof *pr->outp);
    if (!pr->ibuf || !pr->obuf || !pr->chan || !pr->inp || !pr->outp) {
        fprintf(stderr, "onyx: out of memory\n");
        return 1;
    }
    for (int c = 0; c < ch_in; c++)
        pr->inp[c] = pr->chan + (size_t)c * HOST_BLOCK;
    for (int c = 0; c < ch_out; c++)
        pr->outp[c] = pr->chan + (size_t)(ch_in + c) * HOST_BLOCK;
    return 0;
}

/* Inference k (from 1) ran on frames [(k-1)B, kB): a CSV row for each new
 * one that began inside the file (read frames). */
static void control_row(proc_run *pr, sf_count_t read)
{
    uint64_t k = onyx_stream_poll_controls(pr->s, pr->cptr);
    uint64_t B = (uint64_t)onyx_stream_block(pr->s);
    if (k > pr->seen && (k - 1) * B < (uint64_t)read) {
        fprintf(pr->csv, "%.6f", (double)((k - 1) * B) / pr->ii.samplerate);
        for (int j = 0; j < pr->n_cout; j++)
            for (int q = 0; q < onyx_stream_control_out_size(pr->s, j); q++)
                fprintf(pr->csv, ",%.9g", pr->cptr[j][q]);
        fputc('\n', pr->csv);
        pr->rows++;
    }
    if (k > pr->seen) pr->seen = k;
}

/* Reads up to a host block of IN (none after its end), deinterleaved into
 * the input channels; zeros after the end (they push the latency out).
 * Returns the frames read. */
static sf_count_t read_block(proc_run *pr, int eof)
{
    int rd_ch = pr->ii.channels;
    sf_count_t got = eof ? 0 : sf_readf_float(pr->in, pr->ibuf, HOST_BLOCK);
    for (int c = 0; c < pr->ch_in; c++) {
        float *d = pr->chan + (size_t)c * HOST_BLOCK;
        for (sf_count_t f = 0; f < HOST_BLOCK; f++)
            d[f] = f < got ? pr->ibuf[f * rd_ch + c] : 0.f;
    }
    return got;
}

/* Streams IN through the runner, HOST_BLOCK frames at a time, and writes
 * OUT shifted by the latency. 1 after printing an error. */
static int stream_file(const proc_opts *o, proc_run *pr)
{
    sf_count_t frames = pr->ii.frames;
    int bar = isatty(2) && frames > 5 * (sf_count_t)pr->ii.samplerate;
    sf_count_t read = 0, skip = pr->latency, last_pct = -1;
    int eof = 0;
    while (!eof || pr->written < read) {
        if (!eof) {
            sf_count_t got = read_block(pr, 0);
            if (got < HOST_BLOCK) eof = 1;
            read += got;
        } else {
            read_block(pr, 1);
        }
        onyx_stream_process(pr->s, pr->inp, pr->outp, HOST_BLOCK);
        if (pr->csv) control_row(pr, read);
        sf_count_t from = skip < HOST_BLOCK ? skip : HOST_BLOCK;
        skip -= from;
        sf_count_t n = HOST_BLOCK - from;
        if (n > read - pr->written) n = read - pr->written;
        for (sf_count_t f = 0; f < n; f++)
            for (int c = 0; c < pr->ch_out; c++)
                pr->obuf[f * pr->ch_out + c] = pr->outp[c][from + f];
        if (n > 0 && pr->out && sf_writef_float(pr->out, pr->obuf, n) != n) {
            fprintf(stderr, "%sonyx: %s: %s\n", bar ? "\n" : "", o->out_path,
                    sf_strerror(pr->out));
            return 1;
        }
        pr->written += n;
        if (bar && 100 * pr->written / frames != last_pct) {
            last_pct = 100 * pr->written / frames;
            progress(pr->written, frames);
        }
    }
    if (bar) fputc('\n', stderr);
    return 0;
}

/* The runner's figures, and what was written. 1 after printing the
 * inferences' error. */
static int report(const proc_opts *o, proc_run *pr)
{
    onyx_stream_stats st;
    onyx_error err = {0};
    onyx_worker_stop(&pr->wk);
    onyx_stream_get_stats(pr->s, &st);
    /* sync process() reads no clock (onyx_stream.h): time the model here */
    if (!o->threaded && !st.errors &&
        onyx_stream_calibrate(pr->s, 100, &err) == ONYX_OK)
        onyx_stream_get_stats(pr->s, &st);
    if (st.overruns) { /* the reader gave up waiting: silence in OUT */
        fprintf(stderr,
                "onyx: %llu blocks were late (the worker did not finish "
                "them in time)\n",
                (unsigned long long)st.overruns);
        return 1;
    }
    if (st.errors) {
        onyx_stream_last_error(pr->s, &err);
        fprintf(stderr, "onyx: %llu of %llu inferences failed: %s\n",
                (unsigned long long)st.errors,
                (unsigned long long)(st.errors + st.inferences), err.msg);
        return 1;
    }
    printf("block: %d, host block: %d (as [onyx~%s] in Pd%s)\n",
           onyx_stream_block(pr->s), HOST_BLOCK, o->threaded ? "" : " -sync",
           o->threaded ? " -batch" : "");
    printf("latency: %d samples (compensated)\n", pr->latency);
    printf("inferences: %llu, mean %.2f us, max %.2f us\n",
           (unsigned long long)st.inferences, st.mean_us, st.max_us);
    if (pr->out)
        printf("wrote %s: %lld frames, %d channel%s, %d Hz, %s\n", o->out_path,
               (long long)pr->written, pr->ch_out, pr->ch_out == 1 ? "" : "s",
               pr->ii.samplerate, pr->ofmt->label);
    if (pr->csv)
        printf("wrote %s: %llu rows of control outputs (one per inference)\n",
               pr->controls_path, (unsigned long long)pr->rows);
    return 0;
}

/* Closes and frees everything pr holds; a file that fails to close turns
 * a success into 1. */
static int close_run(const proc_opts *o, proc_run *pr, int rc)
{
    if (pr->csv && fclose(pr->csv) && rc == 0) {
        fprintf(stderr, "onyx: %s: cannot write\n", pr->controls_path);
        rc = 1;
    }
    free(pr->cvals);
    free(pr->cptr);
    if (pr->out && sf_close(pr->out) && rc == 0) {
        fprintf(stderr, "onyx: %s: cannot write\n", o->out_path);
        rc = 1;
    }
    if (pr->in) sf_close(pr->in);
    free(pr->ibuf);
    free(pr->obuf);
    free(pr->chan);
    free(pr->inp);
    free(pr->outp);
    onyx_worker_stop(&pr->wk);
    onyx_stream_free(pr->s);
    onyx_model_free(pr->m);
    return rc;
}

/* Everything up to the stream: the runner, where its results go, IN, the
 * controls. Returns 0, or the exit status after printing why not. */
static int prepare_run(const proc_opts *o, proc_run *pr)
{
    pr->m = cli_load_model(o->model_path);
    if (!pr->m || open_stream(o, pr)) return 1;
    int rc = check_outputs(o, pr);
    if (rc) return rc;
    if ((pr->controls_path && open_controls(pr)) || open_input(o, pr) ||
        set_controls(o, pr->s))
        return 1;
    onyx_error err = {0};
    if (o->threaded) onyx_stream_set_wait(pr->s, 1); /* as offline in Pd */
    if (onyx_stream_start(pr->s, HOST_BLOCK, o->threaded, &err)) {
        fprintf(stderr, "onyx: %s\n", err.msg);
        return 1;
    }
    if (o->threaded) {
        pr->item.stream = pr->s;
        onyx_worker_swap(&pr->wk, &pr->item);
        if (onyx_worker_start(&pr->wk, NULL)) {
            fprintf(stderr, "onyx: cannot start the worker thread\n");
            return 1;
        }
    }
    pr->latency = onyx_stream_latency(pr->s);
    if ((pr->ch_out > 0 && open_output(o, pr)) || alloc_buffers(pr)) return 1;
    return 0;
}

int cmd_process(int argc, char **argv)
{
    static proc_opts o;
    int rc = parse_process_args(argc, argv, &o);
    if (rc) return rc;
    proc_run pr;
    memset(&pr, 0, sizeof pr);
    onyx_worker_init(&pr.wk, &(onyx_worker_config){.sync_kernels = 1});
    rc = prepare_run(&o, &pr);
    if (!rc) rc = stream_file(&o, &pr) || report(&o, &pr);
    return close_run(&o, &pr, rc);
}
