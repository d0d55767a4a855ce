/* process.c - `onyx process`: a sound file streamed through the streaming
 * runner exactly as [onyx~ -sync] plays it in Pd (host block 64), or with
 * --threaded as [onyx~] renders under pd -batch (inference in the worker,
 * the reader waiting for it), the latency compensated so that output frame
 * t belongs to input frame t. */
#include "cli.h"
#include "../engine/onyx_stream.h"
#include "../engine/onyx_worker.h"

#include <errno.h>
#include <sndfile.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define HOST_BLOCK 64 /* Pd's block: the stream runs as [onyx~ -sync] would */
#define MAX_SETS   64

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

static int proc_usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "onyx: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n\n%s", usage_process);
    return 2;
}

int cli_parse_set(const char *s, cli_set *a)
{
    const char *eq = strchr(s, '=');
    if (!eq || eq == s) return 1;
    a->name = s;
    a->name_len = (size_t)(eq - s);
    a->n = 0;
    const char *p = eq + 1;
    while (*p) {
        if (a->n >= (int)(sizeof a->v / sizeof a->v[0])) return 1;
        char *end;
        errno = 0;
        float v = strtof(p, &end);
        if (end == p || errno) return 1;
        a->v[a->n++] = v;
        if (*end == 0) break;
        if (*end != ',' || !end[1]) return 1;
        p = end + 1;
    }
    return a->n == 0; /* NAME= with no value */
}

static void progress(sf_count_t done, sf_count_t total)
{
    int pct = total > 0 ? (int)(100 * done / total) : 100, w = 40;
    int fill = pct * w / 100;
    fprintf(stderr, "\r[%.*s%*s] %3d%%", fill,
            "########################################", w - fill, "", pct);
}

int cmd_process(int argc, char **argv)
{
    const char *pos[3] = {0};
    int n_pos = 0, block = 0, n_sets = 0, n_pairs = 0;
    static cli_set sets[MAX_SETS];
    const char *pair_in[MAX_SETS], *pair_out[MAX_SETS];
    static char pair_buf[MAX_SETS][512];
    static onyx_bind shapes[MAX_SETS];
    static char shape_names[MAX_SETS][512];
    int n_shapes = 0;
    const char *controls_path = NULL;
    int threaded = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--block")) {
            if (i + 1 >= argc) return proc_usage("%s needs a number", a);
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || end == argv[i] || v <= 0 || v > (1 << 24))
                return proc_usage("--block %s: want a whole number from 1 to "
                                  "16777216",
                                  argv[i]);
            block = (int)v;
        } else if (!strcmp(a, "--set")) {
            if (i + 1 >= argc) return proc_usage("%s needs NAME=v1,v2,...", a);
            if (n_sets >= MAX_SETS) return proc_usage("too many %s options", a);
            if (cli_parse_set(argv[++i], &sets[n_sets++]))
                return proc_usage("--set %s: want NAME=v1,v2,... (numbers)",
                                  argv[i]);
        } else if (!strcmp(a, "--state")) {
            if (i + 1 >= argc) return proc_usage("%s needs IN:OUT", a);
            if (n_pairs >= MAX_SETS)
                return proc_usage("too many %s options", a);
            const char *s = argv[++i], *colon = strchr(s, ':');
            if (!colon || colon == s || !colon[1] ||
                strlen(s) >= sizeof pair_buf[0])
                return proc_usage("--state %s: want IN:OUT (an input and an "
                                  "output name)",
                                  s);
            strcpy(pair_buf[n_pairs], s);
            pair_buf[n_pairs][colon - s] = 0;
            pair_in[n_pairs] = pair_buf[n_pairs];
            pair_out[n_pairs] = pair_buf[n_pairs] + (colon - s) + 1;
            n_pairs++;
        } else if (!strcmp(a, "--shape")) {
            if (i + 1 >= argc) return proc_usage("%s needs NAME=D1,D2,...", a);
            if (n_shapes >= MAX_SETS)
                return proc_usage("too many %s options", a);
            if (cli_parse_shape(argv[++i], &shapes[n_shapes],
                                shape_names[n_shapes], sizeof shape_names[0]))
                return proc_usage("--shape %s: want NAME=D1,D2,... (whole "
                                  "numbers >= 0)",
                                  argv[i]);
            n_shapes++;
        } else if (!strcmp(a, "--threaded")) {
            threaded = 1;
        } else if (!strcmp(a, "--controls")) {
            if (i + 1 >= argc) return proc_usage("%s needs a file name", a);
            controls_path = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            return proc_usage("unknown option '%s'", a);
        } else if (n_pos < 3) {
            pos[n_pos++] = a;
        } else {
            return proc_usage("unexpected argument '%s'", a);
        }
    }
    if (n_pos < 3)
        return proc_usage("%s", n_pos == 0   ? "no MODEL given"
                                : n_pos == 1 ? "no IN given"
                                             : "no OUT given");
    const char *model_path = pos[0], *in_path = pos[1], *out_path = pos[2];

    int rc = 1;
    onyx_error err = {0};
    onyx_model *m = NULL;
    onyx_stream *s = NULL;
    SNDFILE *in = NULL, *out = NULL;
    float *ibuf = NULL, *obuf = NULL, *chan = NULL, *cvals = NULL;
    float **cptr = NULL;
    FILE *csv = NULL;
    uint64_t rows = 0, seen = 0;
    const float **inp = NULL;
    float **outp = NULL;
    onyx_worker wk;
    onyx_worker_item item = {0};
    onyx_worker_init(&wk, &(onyx_worker_config){.sync_kernels = 1});

    m = onyx_model_load(model_path, &err);
    if (!m) {
        fprintf(stderr, "onyx: %s\n", err.msg);
        goto done;
    }
    /* --block is the length of a symbolic time axis: a model whose inputs
     * are all static (or bound by --shape) plays its own length */
    int symbolic = 0;
    for (int i = 0; i < onyx_model_num_inputs(m); i++) {
        const onyx_value_info *v = onyx_model_input(m, i);
        int bound = 0;
        for (int k = 0; k < n_shapes; k++)
            bound |= !strcmp(shapes[k].name, v->name);
        for (int d = 0; d < v->rank && !bound; d++)
            symbolic |= v->dims[d] < 0;
    }
    int ignored_block = block && !symbolic ? block : 0;
    if (ignored_block) block = 0;
    onyx_stream_config cfg = {.block = block,
                              .n_pairs = n_pairs,
                              .pair_in = pair_in,
                              .pair_out = pair_out,
                              .n_shapes = n_shapes,
                              .shapes = shapes};
    s = onyx_stream_new(m, &cfg, &err);
    if (!s) {
        fprintf(stderr, "onyx: %s\n", err.msg);
        goto done;
    }
    if (ignored_block)
        fprintf(stderr,
                "onyx: note: --block %d ignored: %s has no symbolic time "
                "axis left to bind (--shape binds an input outright); its "
                "block is %d\n",
                ignored_block, model_path, onyx_stream_block(s));
    int ch_in = onyx_stream_signal_inputs(s),
        ch_out = onyx_stream_signal_outputs(s);
    int n_cout = onyx_stream_num_controls_out(s);
    if (ch_out == 0 && !controls_path) {
        if (n_cout == 0) {
            fprintf(stderr,
                    "onyx: %s: the model has no signal output and no control "
                    "output (block %d): nothing to write\n",
                    model_path, onyx_stream_block(s));
            goto done;
        }
        controls_path = out_path; /* the controls are the result */
    }
    if (controls_path && threaded) {
        fprintf(stderr, "onyx: --threaded writes signal outputs only: the "
                        "control outputs of a threaded run are polled, not "
                        "one row per inference (run without --threaded)\n");
        rc = 2;
        goto done;
    }
    const out_format *ofmt = format_of(out_path);
    if (ch_out > 0 && !ofmt) {
        const char *dot = strrchr(out_path, '.');
        fprintf(stderr,
                "onyx: %s: onyx writes sound files as .wav, .flac, .aiff, "
                ".aif, .caf, .w64, .au or .ogg, not '%s'%s\n",
                out_path, dot && !strchr(dot, '/') ? dot : "(no extension)",
                dot && !strcasecmp(dot, ".csv")
                    ? " (control outputs go to --controls FILE)"
                    : "");
        rc = 2;
        goto done;
    }
    if (ch_out == 0 && controls_path == out_path && ofmt) {
        fprintf(stderr,
                "onyx: %s: the model has no signal output: OUT gets its "
                "control outputs as CSV, not %s\n",
                out_path, ofmt->label);
        rc = 2;
        goto done;
    }
    if (controls_path && n_cout == 0) {
        fprintf(stderr,
                "onyx: %s: the model has no control output for "
                "--controls\n",
                model_path);
        goto done;
    }
    if (controls_path) {
        int total = 0;
        for (int j = 0; j < n_cout; j++)
            total += onyx_stream_control_out_size(s, j);
        cvals = calloc((size_t)total + 1, sizeof(float));
        cptr = calloc((size_t)n_cout + 1, sizeof *cptr);
        if (!cvals || !cptr) {
            fprintf(stderr, "onyx: out of memory\n");
            goto done;
        }
        for (int j = 0, at = 0; j < n_cout; j++) {
            cptr[j] = cvals + at;
            at += onyx_stream_control_out_size(s, j);
        }
        csv = fopen(controls_path, "w");
        if (!csv) {
            fprintf(stderr, "onyx: %s: %s\n", controls_path, strerror(errno));
            goto done;
        }
        fprintf(csv, "time");
        for (int j = 0; j < n_cout; j++) {
            const char *nm = onyx_stream_control_out_name(s, j);
            int n = onyx_stream_control_out_size(s, j);
            for (int k = 0; k < n; k++)
                fprintf(csv, n == 1 ? ",%s" : ",%s[%d]", nm, k);
        }
        fputc('\n', csv);
    }

    SF_INFO ii = {0};
    in = sf_open(in_path, SFM_READ, &ii);
    if (!in) {
        say_cannot_read(in_path);
        goto done;
    }
    if (ch_in > 0 && ii.channels != ch_in) {
        fprintf(stderr,
                "onyx: %s has %d channel%s; %s takes %d signal input "
                "channel%s\n",
                in_path, ii.channels, ii.channels == 1 ? "" : "s", model_path,
                ch_in, ch_in == 1 ? "" : "s");
        goto done;
    }
    if (ch_in == 0)
        fprintf(stderr,
                "onyx: note: the model has no signal input; %s only "
                "gives the length\n",
                in_path);
    const char *sr = onyx_model_meta(m, "sample_rate");
    if (sr && atof(sr) > 0 && atof(sr) != ii.samplerate)
        fprintf(
            stderr,
            "onyx: warning: %s is at %d Hz; the model's sample_rate is %s\n",
            in_path, ii.samplerate, sr);

    /* controls: the --set values, zeros for the others */
    for (int k = 0; k < n_sets; k++) {
        char name[512];
        snprintf(name, sizeof name, "%.*s", (int)sets[k].name_len,
                 sets[k].name);
        int c = onyx_stream_find_control_in(s, name);
        if (c < 0) {
            fprintf(stderr,
                    "onyx: %s: no control input named '%s' (control inputs:",
                    model_path, name);
            for (int j = 0; j < onyx_stream_num_controls_in(s); j++)
                fprintf(stderr, " %s", onyx_stream_control_in_name(s, j));
            fprintf(stderr, "%s)\n",
                    onyx_stream_num_controls_in(s) ? "" : " none");
            goto done;
        }
        int want = onyx_stream_control_in_size(s, c);
        if (sets[k].n != want) {
            fprintf(stderr,
                    "onyx: control '%s' takes %d value%s, --set gave %d\n",
                    name, want, want == 1 ? "" : "s", sets[k].n);
            goto done;
        }
        onyx_stream_set_control(s, c, sets[k].v, sets[k].n);
    }
    for (int j = 0; j < onyx_stream_num_controls_in(s); j++) {
        const char *nm = onyx_stream_control_in_name(s, j);
        int given = 0;
        for (int k = 0; k < n_sets; k++)
            given |= strlen(nm) == sets[k].name_len &&
                     !strncmp(nm, sets[k].name, sets[k].name_len);
        if (!given)
            fprintf(stderr, "onyx: note: control input '%s' not set: zeros\n",
                    nm);
    }

    if (threaded) onyx_stream_set_wait(s, 1); /* as offline in Pd */
    if (onyx_stream_start(s, HOST_BLOCK, threaded, &err)) {
        fprintf(stderr, "onyx: %s\n", err.msg);
        goto done;
    }
    if (threaded) {
        item.stream = s;
        onyx_worker_swap(&wk, &item);
        if (onyx_worker_start(&wk, NULL)) {
            fprintf(stderr, "onyx: cannot start the worker thread\n");
            goto done;
        }
    }
    int L = onyx_stream_latency(s);

    if (ch_out > 0) {
        SF_INFO oi = {0};
        oi.samplerate = ii.samplerate;
        oi.channels = ch_out;
        oi.format = ofmt->format;
        if (!sf_format_check(&oi)) {
            fprintf(stderr,
                    "onyx: %s: libsndfile cannot write %s with %d channel%s "
                    "at %d Hz\n",
                    out_path, ofmt->label, ch_out, ch_out == 1 ? "" : "s",
                    ii.samplerate);
            goto done;
        }
        out = sf_open(out_path, SFM_WRITE, &oi);
        if (!out) {
            fprintf(stderr, "onyx: %s: cannot write: %s\n", out_path,
                    sf_strerror(NULL));
            goto done;
        }
        /* integer formats (FLAC): clip beyond full scale, never wrap */
        sf_command(out, SFC_SET_CLIPPING, NULL, SF_TRUE);
    }

    int rd_ch = ii.channels;
    ibuf = calloc((size_t)HOST_BLOCK * (size_t)rd_ch, sizeof(float));
    obuf = calloc((size_t)HOST_BLOCK * (size_t)ch_out + 1, sizeof(float));
    chan = calloc((size_t)HOST_BLOCK * (size_t)(ch_in + ch_out) + 1,
                  sizeof(float));
    inp = calloc((size_t)ch_in + 1, sizeof *inp);
    outp = calloc((size_t)ch_out + 1, sizeof *outp);
    if (!ibuf || !obuf || !chan || !inp || !outp) {
        fprintf(stderr, "onyx: out of memory\n");
        goto done;
    }
    for (int c = 0; c < ch_in; c++)
        inp[c] = chan + (size_t)c * HOST_BLOCK;
    for (int c = 0; c < ch_out; c++)
        outp[c] = chan + (size_t)(ch_in + c) * HOST_BLOCK;

    int bar = isatty(2) && ii.frames > 5 * (sf_count_t)ii.samplerate;
    sf_count_t read = 0, written = 0, skip = L, last_pct = -1;
    int eof = 0;
    while (!eof || written < read) {
        sf_count_t got = 0;
        if (!eof) {
            got = sf_readf_float(in, ibuf, HOST_BLOCK);
            if (got < HOST_BLOCK) eof = 1;
            read += got;
        }
        /* deinterleave; zeros after the end (they push the latency out) */
        for (int c = 0; c < ch_in; c++) {
            float *d = chan + (size_t)c * HOST_BLOCK;
            for (sf_count_t f = 0; f < HOST_BLOCK; f++)
                d[f] = f < got ? ibuf[f * rd_ch + c] : 0.f;
        }
        onyx_stream_process(s, inp, outp, HOST_BLOCK);
        if (csv) {
            /* inference k (from 1) ran on frames [(k-1)B, kB): a row for
             * each one that began inside the file */
            uint64_t k = onyx_stream_poll_controls(s, cptr);
            uint64_t B = (uint64_t)onyx_stream_block(s);
            if (k > seen && (k - 1) * B < (uint64_t)read) {
                fprintf(csv, "%.6f", (double)((k - 1) * B) / ii.samplerate);
                for (int j = 0; j < n_cout; j++)
                    for (int q = 0; q < onyx_stream_control_out_size(s, j); q++)
                        fprintf(csv, ",%.9g", cptr[j][q]);
                fputc('\n', csv);
                rows++;
            }
            if (k > seen) seen = k;
        }
        sf_count_t from = skip < HOST_BLOCK ? skip : HOST_BLOCK;
        skip -= from;
        sf_count_t n = HOST_BLOCK - from;
        if (n > read - written) n = read - written;
        for (sf_count_t f = 0; f < n; f++)
            for (int c = 0; c < ch_out; c++)
                obuf[f * ch_out + c] = outp[c][from + f];
        if (n > 0 && out && sf_writef_float(out, obuf, n) != n) {
            fprintf(stderr, "%sonyx: %s: %s\n", bar ? "\n" : "", out_path,
                    sf_strerror(out));
            goto done;
        }
        written += n;
        if (bar && 100 * written / ii.frames != last_pct) {
            last_pct = 100 * written / ii.frames;
            progress(written, ii.frames);
        }
    }
    if (bar) fputc('\n', stderr);
    onyx_worker_stop(&wk);

    onyx_stream_stats st;
    onyx_stream_get_stats(s, &st);
    /* sync process() reads no clock (onyx_stream.h): time the model here */
    if (!threaded && !st.errors &&
        onyx_stream_calibrate(s, 100, &err) == ONYX_OK)
        onyx_stream_get_stats(s, &st);
    if (st.overruns) { /* the reader gave up waiting: silence in OUT */
        fprintf(stderr,
                "onyx: %llu blocks were late (the worker did not finish "
                "them in time)\n",
                (unsigned long long)st.overruns);
        goto done;
    }
    if (st.errors) {
        onyx_stream_last_error(s, &err);
        fprintf(stderr, "onyx: %llu of %llu inferences failed: %s\n",
                (unsigned long long)st.errors,
                (unsigned long long)(st.errors + st.inferences), err.msg);
        goto done;
    }
    printf("block: %d, host block: %d (as [onyx~%s] in Pd%s)\n",
           onyx_stream_block(s), HOST_BLOCK, threaded ? "" : " -sync",
           threaded ? " -batch" : "");
    printf("latency: %d samples (compensated)\n", L);
    printf("inferences: %llu, mean %.2f us, max %.2f us\n",
           (unsigned long long)st.inferences, st.mean_us, st.max_us);
    if (out)
        printf("wrote %s: %lld frames, %d channel%s, %d Hz, %s\n", out_path,
               (long long)written, ch_out, ch_out == 1 ? "" : "s",
               ii.samplerate, ofmt->label);
    if (csv)
        printf("wrote %s: %llu rows of control outputs (one per inference)\n",
               controls_path, (unsigned long long)rows);
    rc = 0;
done:
    if (csv && fclose(csv) && rc == 0) {
        fprintf(stderr, "onyx: %s: cannot write\n", controls_path);
        rc = 1;
    }
    free(cvals);
    free(cptr);
    if (out && sf_close(out) && rc == 0) {
        fprintf(stderr, "onyx: %s: cannot write\n", out_path);
        rc = 1;
    }
    if (in) sf_close(in);
    free(ibuf);
    free(obuf);
    free(chan);
    free(inp);
    free(outp);
    onyx_worker_stop(&wk);
    onyx_stream_free(s);
    onyx_model_free(m);
    return rc;
}
