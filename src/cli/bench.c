/* bench.c - `onyx bench`: latency per inference, real-time budget, memory,
 * FLOP rate, and (with --profile / --trace) where the time goes. */
#include "options.h"
#include "../engine/onyx_stream.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

const char usage_bench[] =
    "usage: onyx bench MODEL [options]\n"
    "\n"
    "Times inferences of MODEL on random inputs, single-threaded by default.\n"
    "  --runs N          measured runs (default: as many as fit in --seconds)\n"
    "  --warmup N        unmeasured runs first (default 10)\n"
    "  --repeat K        time K runs back to back as one measurement, "
    "reported\n"
    "                    per run (default 1: each run timed alone; a large K\n"
    "                    takes the clock's own cost out of sub-microsecond "
    "runs)\n"
    "  --seconds S       measure for S seconds (default 1)\n"
    "  --threads N       threads for onyx's GEMM and convolutions, and\n"
    "                    OpenBLAS's (default 1)\n"
    "  --block N         the block for a symbolic time axis (default 64, as\n"
    "                    [onyx~] plays it)\n"
    "  --shape NAME=D1,...  bind an input's shape (other symbolic dims: 1)\n"
    "  --set NAME=v1,...  an input's values instead of random ones (a "
    "sample\n"
    "                    rate: --set sr=16000; integers rounded)\n"
    "  --sr RATE         sample rate for the real-time figures (default "
    "48000)\n"
    "  --json            one JSON object on stdout (times in microseconds, "
    "*_us)\n"
    "  --profile         per-op-type and per-node time table, slowest first\n"
    "  --trace FILE      Chrome trace-event JSON of every node of the "
    "profiled\n"
    "                    runs (opens in Perfetto or chrome://tracing)\n"
    "\n"
    "The model's inputs are bound as [onyx~ -block N] binds them: a symbolic\n"
    "time axis to the block, batch dims to 1. The real-time figures use that\n"
    "block (or a static model's own length). A model [onyx~] cannot play\n"
    "(no signal) has its symbolic dims set to 1 and no real-time budget.\n";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* a JSON string: name in quotes with the characters JSON needs escaped */
static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

typedef struct op_row {
    const char *name; /* op type or node name */
    const char *op;
    long count;
    double total_ns;
} op_row;

static int cmp_row(const void *a, const void *b)
{
    double x = ((const op_row *)a)->total_ns, y = ((const op_row *)b)->total_ns;
    return x > y ? -1 : x < y;
}

/* What `onyx bench` was asked. */
typedef struct bench_opts {
    const char *path, *trace;
    long runs, warmup, threads, block, repeat;
    double seconds, sr;
    int json, profile;
    cli_shapes shapes; /* the --shape binds; bench adds its own after them */
    cli_sets sets;
} bench_opts;

/* What it measured. */
typedef struct bench_result {
    int block, time_bound, defaulted; /* time_bound: a symbolic time axis
                                         got the block */
    long n_runs, prof_runs;
    double tmin, median, p99, tmax, mean, budget, gflops;
    int64_t pcount, pbytes, flops;
    long rss;
    int nn, n_types;
    double prof_total;
    op_row *rows, *node_rows; /* per op type (n_types), then per node */
} bench_result;

/* One option that takes a value; 0, or the usage error's exit status. */
static int bench_value_opt(bench_opts *o, const char *a, const char *v)
{
    const char *want = NULL; /* what a bad value should have been */
    if (!strcmp(a, "--runs")) {
        if (cli_parse_long(v, 1, 100000000, &o->runs))
            want = "a whole number from 1 to 100000000";
    } else if (!strcmp(a, "--warmup")) {
        if (cli_parse_long(v, 0, 100000000, &o->warmup))
            want = "a whole number from 0 to 100000000";
    } else if (!strcmp(a, "--repeat")) {
        if (cli_parse_long(v, 1, 1000000, &o->repeat))
            want = "a whole number from 1 to 1000000";
    } else if (!strcmp(a, "--threads")) {
        if (cli_parse_long(v, 1, 256, &o->threads))
            want = "a whole number from 1 to 256";
    } else if (!strcmp(a, "--block")) {
        if (cli_parse_long(v, 1, 1 << 24, &o->block))
            want = "a whole number from 1 to 16777216";
    } else if (!strcmp(a, "--seconds")) {
        if (cli_parse_double(v, 0.001, 86400, &o->seconds))
            want = "a number of seconds from 0.001 to 86400";
    } else if (!strcmp(a, "--sr")) {
        if (cli_parse_double(v, 1, 10000000, &o->sr))
            want = "a sample rate in Hz from 1 to 10000000";
    } else if (!strcmp(a, "--trace")) {
        o->trace = v;
    } else if (!strcmp(a, "--set")) {
        return cli_set_opt(&o->sets, a, v, usage_bench);
    } else {
        return cli_shape_opt(&o->shapes, a, v, usage_bench);
    }
    return want ? cli_bad_value(usage_bench, a, v, want) : 0;
}

static int takes_value(const char *a)
{
    static const char *const opts[] = {
        "--runs",  "--warmup", "--threads", "--seconds", "--sr",
        "--shape", "--trace",  "--block",   "--set",     "--repeat"};
    for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++)
        if (!strcmp(a, opts[k])) return 1;
    return 0;
}

static int parse_bench_args(int argc, char **argv, bench_opts *o)
{
    o->warmup = 10;
    o->repeat = 1;
    o->threads = 1;
    o->seconds = 1.0;
    o->sr = 48000;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--json")) {
            o->json = 1;
        } else if (!strcmp(a, "--profile")) {
            o->profile = 1;
        } else if (takes_value(a)) {
            const char *v =
                cli_opt_value(argc, argv, &i, "a value", usage_bench);
            if (!v) return CLI_EXIT_USAGE;
            int rc = bench_value_opt(o, a, v);
            if (rc) return rc;
        } else if (a[0] == '-' && a[1]) {
            return cli_usage(usage_bench, "unknown option '%s'", a);
        } else if (!o->path) {
            o->path = a;
        } else {
            return cli_usage(usage_bench, "unexpected argument '%s'", a);
        }
    }
    if (!o->path) return cli_usage(usage_bench, "%s", "no MODEL given");
    return 0;
}

/* Binds the model's inputs as [onyx~ -block block] would: the streaming
 * runner's classification (a symbolic time axis bound to the block, batch
 * dims to 1) with the caller's --shape binds. On success every input gets
 * a bind in binds (names borrowed from the model, after the nb given ones)
 * and the block is returned; 0 when the model has no signal (binds are
 * left as they were). The stream is freed before the measured program is
 * made, so that the peak resident size does not count two copies of the
 * prepared weights. */
static int stream_binds(const onyx_model *m, int block, onyx_bind *binds,
                        int *nb)
{
    onyx_stream_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.block = block;
    cfg.n_shapes = *nb;
    cfg.shapes = binds;
    onyx_error err;
    onyx_stream *s = onyx_stream_new(m, &cfg, &err);
    if (!s) return 0;
    int b = 0;
    if (onyx_stream_signal_inputs(s) + onyx_stream_signal_outputs(s)) {
        const onyx_program *p = onyx_stream_program(s);
        int n = *nb;
        for (int i = 0; i < onyx_program_num_inputs(p) && n < CLI_MAX_BINDS;
             i++) {
            const onyx_value_info *vi = onyx_model_input(m, i);
            const onyx_tensor *t = onyx_program_input_info(p, i);
            int given = 0;
            for (int k = 0; k < *nb; k++)
                given |= !strcmp(binds[k].name, vi->name);
            if (given || !t) continue;
            binds[n].name = vi->name;
            binds[n].rank = t->rank;
            memcpy(binds[n].dims, t->dims, sizeof binds[n].dims);
            binds[n].data = NULL;
            n++;
        }
        *nb = n;
        b = onyx_stream_block(s);
    }
    onyx_stream_free(s);
    return b;
}

/* Whether an input --shape does not name had a symbolic dim bound to the
 * block (binds[n_given..nb) are the stream's). */
static int time_axis_bound(const onyx_model *m, const onyx_bind *binds,
                           int n_given, int nb, int block)
{
    int bound = 0;
    for (int i = 0; i < onyx_model_num_inputs(m); i++) {
        const onyx_value_info *vi = onyx_model_input(m, i);
        const onyx_bind *b = NULL;
        int given = 0;
        for (int k = 0; k < nb; k++)
            if (!strcmp(binds[k].name, vi->name)) {
                given |= k < n_given;
                b = &binds[k];
            }
        if (given || !b) continue;
        for (int d = 0; d < vi->rank && d < b->rank; d++)
            bound |= vi->dims[d] < 0 && b->dims[d] == block;
    }
    return bound;
}

/* Binds the inputs as [onyx~] would; a model it cannot play gets its
 * unbound symbolic dims set to 1. Returns the number of binds. */
static int bench_bind(const onyx_model *m, bench_opts *o, bench_result *r)
{
    onyx_bind *binds = o->shapes.b;
    int nb = o->shapes.n;
    r->block = stream_binds(m, (int)o->block, binds, &nb);
    if (!r->block && o->block) /* a static model: its own length */
        r->block = stream_binds(m, 0, binds, &nb);
    r->time_bound = time_axis_bound(m, binds, o->shapes.n, nb, r->block);
    r->defaulted = cli_bind_defaults(m, binds, &nb);
    if (o->block && !r->time_bound)
        fprintf(stderr,
                "onyx: note: --block %ld ignored: no symbolic time axis "
                "left to bind (%s %d)\n",
                o->block,
                r->block ? "the model's block is" : "no signal: block",
                r->block);
    return nb;
}

/* Random inputs in [-1, 1), zeros for integer and bool inputs. */
static void random_inputs(const onyx_program *p, onyx_instance *x)
{
    unsigned rng = 12345;
    for (int i = 0; i < onyx_program_num_inputs(p); i++) {
        onyx_tensor *in = onyx_instance_input(x, i);
        int64_t n = onyx_numel(in);
        if (in->dtype == ONYX_FLOAT)
            for (int64_t k = 0; k < n; k++) {
                rng = rng * 1664525u + 1013904223u;
                ((float *)in->data)[k] = (float)(rng >> 8) / 8388608.0f - 1.0f;
            }
    }
}

/* The --set values into the input they name; 1 after printing why not. */
static int apply_set(const onyx_program *p, onyx_instance *x, const char *path,
                     const cli_set *set)
{
    int i = onyx_program_num_inputs(p) - 1;
    while (i >= 0 && !cli_set_names(set, onyx_program_input_name(p, i)))
        i--;
    if (i < 0) {
        fprintf(stderr, "onyx: %s: --set %.*s: no input of that name\n", path,
                (int)set->name_len, set->name);
        return 1;
    }
    onyx_tensor *in = onyx_instance_input(x, i);
    int settable = in->dtype == ONYX_FLOAT || in->dtype == ONYX_INT64 ||
                   in->dtype == ONYX_BOOL;
    if (!settable || onyx_numel(in) != set->n) {
        fprintf(stderr,
                "onyx: %s: --set %.*s: the input takes %lld %s, --set "
                "gave %d\n",
                path, (int)set->name_len, set->name, (long long)onyx_numel(in),
                !settable             ? "values of a dtype --set cannot give"
                : onyx_numel(in) == 1 ? "value"
                                      : "values",
                set->n);
        return 1;
    }
    for (int e = 0; e < set->n; e++) {
        float f = set->v[e];
        if (in->dtype == ONYX_FLOAT)
            ((float *)in->data)[e] = f;
        else if (in->dtype == ONYX_INT64)
            ((int64_t *)in->data)[e] =
                isnan(f) ? 0
                         : (int64_t)fmaxf(-9.2e18f, fminf(9.2e18f, roundf(f)));
        else
            ((uint8_t *)in->data)[e] = f != 0;
    }
    return 0;
}

/* The warm-up runs; 1 after printing a run's error. */
static int warm_up(const onyx_program *p, onyx_instance *x, long warmup)
{
    const char *why = NULL;
    int node = -1;
    for (long k = 0; k < warmup; k++) {
        onyx_status st = onyx_instance_run(x, &why, &node);
        if (st != ONYX_OK) {
            onyx_error err;
            onyx_run_error(p, st, why, node, &err);
            fprintf(stderr, "onyx: %s\n", err.msg);
            return 1;
        }
    }
    return 0;
}

/* The measured runs: a fixed count, or until `seconds` have passed. Their
 * times into *times (malloc'd), sorted; NULL when out of memory. */
static double *measure(onyx_instance *x, const bench_opts *o, long *n_out)
{
    long cap = o->runs ? o->runs : 1024, n_runs = 0;
    int tty = isatty(2) && !o->json;
    double *t = malloc(sizeof *t * (size_t)cap);
    if (!t) return NULL;
    double start = now_s(), last_progress = start;
    for (;;) {
        if (o->runs ? n_runs >= o->runs
                    : (n_runs >= 10 && now_s() - start >= o->seconds))
            break;
        if (n_runs == cap) {
            double *nt = realloc(t, sizeof *t * (size_t)cap * 2);
            if (!nt) {
                free(t);
                return NULL;
            }
            t = nt;
            cap *= 2;
        }
        double t0 = now_s();
        for (long k = 0; k < o->repeat; k++)
            onyx_instance_run(x, NULL, NULL);
        t[n_runs++] = (now_s() - t0) / (double)o->repeat;
        if (tty && t0 - last_progress > 0.25 && t0 - start > 2.0) {
            double frac = o->runs ? (double)n_runs / (double)o->runs
                                  : (t0 - start) / o->seconds;
            fprintf(stderr, "\rbenchmarking %s: %3.0f%%", o->path,
                    100 * (frac < 1 ? frac : 1));
            last_progress = t0;
        }
    }
    if (tty && now_s() - start > 2.0)
        fprintf(stderr, "\r%*s\r", 40 + (int)strlen(o->path), "");
    *n_out = n_runs;
    return t;
}

/* Latency figures from the run times, and the model's sizes. */
static void bench_stats(const onyx_model *m, const onyx_program *p,
                        const bench_opts *o, double *t, bench_result *r)
{
    long n = r->n_runs;
    double total = 0;
    for (long k = 0; k < n; k++)
        total += t[k];
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    r->mean = total / (double)n;
    r->tmin = t[0];
    r->tmax = t[n - 1];
    r->median = t[n / 2];
    r->p99 = t[(long)floor(0.99 * (double)(n - 1))];
    r->budget = r->block > 0 ? r->block / o->sr : 0;
    onyx_model_params(m, &r->pcount, &r->pbytes);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    r->rss = ru.ru_maxrss * 1024L;
    r->flops = onyx_program_flops(p);
    r->gflops = r->median > 0 ? (double)r->flops / r->median * 1e-9 : 0;
    r->nn = onyx_program_num_nodes(p);
    r->prof_runs = n < 10 ? 10 : (n > 1000 ? 1000 : n);
}

/* The trace's events for run k, started at base_us. */
static void trace_run(FILE *tf, const onyx_program *p, const onyx_instance *x,
                      long k, double base_us, double dur_us)
{
    const uint64_t *st, *du;
    onyx_instance_node_last(x, &st, &du);
    fprintf(tf,
            ",\n{\"name\":\"run "
            "%ld\",\"cat\":\"run\",\"ph\":\"X\",\"pid\":1,\"tid\":1,"
            "\"ts\":%.3f,\"dur\":%.3f}",
            k, base_us, dur_us);
    for (int j = 0; j < onyx_program_num_nodes(p); j++) {
        const char *nm = onyx_program_node_name(p, j);
        fprintf(tf, ",\n{\"name\":");
        json_str(tf, nm[0] ? nm : onyx_program_node_op(p, j));
        fprintf(tf, ",\"cat\":");
        json_str(tf, onyx_program_node_op(p, j));
        fprintf(tf,
                ",\"ph\":\"X\",\"pid\":1,\"tid\":1,\"ts\":%.3f,\"dur\":"
                "%.3f,"
                "\"args\":{\"op\":",
                base_us + (double)st[j] * 1e-3, (double)du[j] * 1e-3);
        json_str(tf, onyx_program_node_op(p, j));
        fprintf(tf, ",\"node\":%d}}", j);
    }
}

/* The profile pass: per-node clocks on, every node of every run into the
 * trace file when one is asked for. 1 after printing an error. */
static int profile_runs(const onyx_program *p, onyx_instance *x,
                        const bench_opts *o, long prof_runs)
{
    FILE *tf = NULL;
    if (o->trace) {
        tf = fopen(o->trace, "w");
        if (!tf) {
            fprintf(stderr, "onyx: %s: cannot write: %s\n", o->trace,
                    strerror(errno));
            return 1;
        }
        fprintf(tf, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
        fprintf(tf, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,"
                    "\"args\":{\"name\":");
        json_str(tf, o->path);
        fprintf(tf, "}}");
    }
    onyx_instance_profile_reset(x);
    onyx_instance_profile(x, 1);
    double t_begin = now_s();
    for (long k = 0; k < prof_runs; k++) {
        double t0 = now_s();
        onyx_instance_run(x, NULL, NULL);
        if (tf)
            trace_run(tf, p, x, k, (t0 - t_begin) * 1e6, (now_s() - t0) * 1e6);
    }
    onyx_instance_profile(x, 0);
    if (!tf) return 0;
    fprintf(tf, "\n]}\n");
    if (fclose(tf) == 0) return 0;
    fprintf(stderr, "onyx: %s: write failed\n", o->trace);
    return 1;
}

/* The profile's rows, slowest first: per op type, then per node. 1 when out
 * of memory. */
static int profile_rows(const onyx_program *p, const onyx_instance *x,
                        bench_result *r)
{
    const uint64_t *ns = onyx_instance_node_ns(x);
    int nn = r->nn;
    op_row *rows = r->rows = calloc((size_t)(2 * nn + 1), sizeof *rows);
    if (!rows) return 1;
    for (int j = 0; j < nn; j++) {
        const char *op = onyx_program_node_op(p, j);
        int k = 0;
        while (k < r->n_types && strcmp(rows[k].op, op))
            k++;
        if (k == r->n_types) {
            rows[k].name = rows[k].op = op;
            r->n_types++;
        }
        rows[k].count++;
        rows[k].total_ns += (double)ns[j];
        r->prof_total += (double)ns[j];
    }
    op_row *node_rows = r->node_rows = rows + r->n_types;
    for (int j = 0; j < nn; j++) {
        const char *nm = onyx_program_node_name(p, j);
        node_rows[j].name = nm[0] ? nm : "(unnamed)";
        node_rows[j].op = onyx_program_node_op(p, j);
        node_rows[j].count = r->prof_runs;
        node_rows[j].total_ns = (double)ns[j];
    }
    qsort(rows, (size_t)r->n_types, sizeof *rows, cmp_row);
    qsort(node_rows, (size_t)nn, sizeof *node_rows, cmp_row);
    return 0;
}

static void print_json_profile(const bench_result *r)
{
    double runs = (double)r->prof_runs, total = r->prof_total;
    printf(",\"profile_runs\":%ld,\"ops\":[", r->prof_runs);
    for (int k = 0; k < r->n_types; k++) {
        const op_row *w = &r->rows[k];
        printf("%s{\"op\":", k ? "," : "");
        json_str(stdout, w->op);
        printf(",\"count\":%ld,\"total_us\":%.3f,\"mean_us\":%.3f,"
               "\"share\":%.4f}",
               w->count, w->total_ns * 1e-3 / runs,
               w->total_ns * 1e-3 / runs / (double)w->count,
               total > 0 ? w->total_ns / total : 0);
    }
    printf("],\"node_times\":[");
    for (int j = 0; j < r->nn; j++) {
        const op_row *w = &r->node_rows[j];
        printf("%s{\"node\":", j ? "," : "");
        json_str(stdout, w->name);
        printf(",\"op\":");
        json_str(stdout, w->op);
        printf(",\"mean_us\":%.3f,\"share\":%.4f}", w->total_ns * 1e-3 / runs,
               total > 0 ? w->total_ns / total : 0);
    }
    printf("]");
}

static void print_json(const bench_opts *o, const bench_result *r,
                       const onyx_program *p)
{
    printf("{\"model\":");
    json_str(stdout, o->path);
    printf(",\"runs\":%ld,\"repeat\":%ld,\"warmup\":%ld,\"threads\":%ld,"
           "\"min_us\":%.3f,"
           "\"median_us\":%.3f,"
           "\"p99_us\":%.3f,\"max_us\":%.3f,\"mean_us\":%.3f,\"inferences_"
           "per_s\":%.1f,",
           r->n_runs, o->repeat, o->warmup, o->threads, r->tmin * 1e6,
           r->median * 1e6, r->p99 * 1e6, r->tmax * 1e6, r->mean * 1e6,
           1.0 / r->mean);
    printf("\"block\":%d,\"sample_rate\":%.0f,", r->block, o->sr);
    if (r->block > 0)
        printf("\"budget_us\":%.3f,\"rt_factor\":%.3f,\"rt_percent\":%.4f,",
               r->budget * 1e6, r->budget / r->median,
               100 * r->median / r->budget);
    printf("\"arena_bytes\":%zu,\"weight_bytes\":%lld,\"parameters\":%lld,"
           "\"peak_rss_bytes\":%ld,\"flops\":%lld,\"gflops\":%.3f,"
           "\"nodes\":%d",
           onyx_program_arena_bytes(p), (long long)r->pbytes,
           (long long)r->pcount, r->rss, (long long)r->flops, r->gflops, r->nn);
    if (o->profile) print_json_profile(r);
    printf("}\n");
}

static void print_text_profile(const bench_result *r)
{
    double runs = (double)r->prof_runs, total = r->prof_total;
    printf("\nprofile (%ld runs, %d nodes, per-node clocks on: %.2f us "
           "per run)\n",
           r->prof_runs, r->nn, total * 1e-3 / runs);
    printf("  %-28s %6s %12s %12s %7s\n", "op type", "nodes", "total us",
           "mean us", "share");
    for (int k = 0; k < r->n_types; k++) {
        const op_row *w = &r->rows[k];
        printf("  %-28s %6ld %12.3f %12.3f %6.1f%%\n", w->op, w->count,
               w->total_ns * 1e-3 / runs,
               w->total_ns * 1e-3 / runs / (double)w->count,
               total > 0 ? 100 * w->total_ns / total : 0);
    }
    printf("\n  %-28s %-18s %12s %7s\n", "node", "op", "mean us", "share");
    for (int j = 0; j < r->nn; j++) {
        const op_row *w = &r->node_rows[j];
        printf("  %-28.28s %-18s %12.3f %6.1f%%\n", w->name, w->op,
               w->total_ns * 1e-3 / runs,
               total > 0 ? 100 * w->total_ns / total : 0);
    }
}

static void print_text(const bench_opts *o, const bench_result *r,
                       const onyx_program *p)
{
    int block = r->block;
    printf("model:        %s\n", o->path);
    if (r->time_bound)
        printf("note:         symbolic time axis bound to %d sample%s, "
               "the block [onyx~ -block %d] plays (--block N to "
               "change)\n",
               block, block == 1 ? "" : "s", block);
    if (r->defaulted)
        printf("note:         symbolic dims set to 1 (bind them with "
               "--shape)\n");
    printf("runs:         %ld (after %ld warm-up), %ld thread%s\n", r->n_runs,
           o->warmup, o->threads, o->threads > 1 ? "s" : "");
    if (o->repeat > 1)
        printf("repeat:       each time is %ld runs back to back, per run\n",
               o->repeat);
    printf("latency:      min %.2f  median %.2f  p99 %.2f  max %.2f us\n",
           r->tmin * 1e6, r->median * 1e6, r->p99 * 1e6, r->tmax * 1e6);
    printf("throughput:   %.0f inferences/s\n", 1.0 / r->mean);
    if (block > 0)
        printf("real time:    block %d samples = %.1f us at %.0f Hz: "
               "%.3f%% of the budget, "
               "%.1fx real time\n",
               block, r->budget * 1e6, o->sr, 100 * r->median / r->budget,
               r->budget / r->median);
    else
        printf("real time:    no signal time axis: no real-time budget\n");
    printf("memory:       arena %zu bytes, weights %lld bytes (%lld "
           "parameters), peak RSS %.1f MB\n",
           onyx_program_arena_bytes(p), (long long)r->pbytes,
           (long long)r->pcount, r->rss / 1048576.0);
    printf("compute:      %lld FLOPs per inference, %.2f GFLOP/s\n",
           (long long)r->flops, r->gflops);
    if (o->profile) print_text_profile(r);
    if (o->trace)
        printf("\ntrace:        %s (%ld runs)\n", o->trace, r->prof_runs);
}

/* Inputs set, runs timed and profiled, the report printed; 1 after an
 * error. */
static int bench_program(const onyx_model *m, const onyx_program *p,
                         onyx_instance *x, const bench_opts *o, bench_result *r)
{
    random_inputs(p, x);
    for (int k = 0; k < o->sets.n; k++)
        if (apply_set(p, x, o->path, &o->sets.v[k])) return 1;
    if (warm_up(p, x, o->warmup)) return 1;
    double *t = measure(x, o, &r->n_runs);
    if (!t) {
        fprintf(stderr, "onyx: out of memory\n");
        return 1;
    }
    bench_stats(m, p, o, t, r);
    free(t);
    if ((o->profile || o->trace) && profile_runs(p, x, o, r->prof_runs))
        return 1;
    if (profile_rows(p, x, r)) {
        fprintf(stderr, "onyx: out of memory\n");
        return 1;
    }
    if (o->json)
        print_json(o, r, p);
    else
        print_text(o, r, p);
    return 0;
}

/* --threads: the instance's pool for onyx's own products; 1 after an
 * error. */
static int set_threads(onyx_instance *x, const bench_opts *o)
{
    onyx_error err = {0};
    if (onyx_instance_set_threads(x, (int)o->threads, &err) == ONYX_OK)
        return 0;
    fprintf(stderr, "onyx: %s\n", err.msg);
    return 1;
}

int cmd_bench(int argc, char **argv)
{
    static bench_opts o;
    int rc = parse_bench_args(argc, argv, &o);
    if (rc) return rc;
    onyx_model *m = cli_load_model(o.path);
    if (!m) return 1;
    bench_result r = {0};
    int nb = bench_bind(m, &o, &r);
    onyx_set_blas_threads((int)o.threads);
    onyx_program *p = NULL;
    onyx_instance *x = NULL;
    rc = cli_program(m, o.shapes.b, nb, &p, &x) || set_threads(x, &o) ||
         bench_program(m, p, x, &o, &r);
    free(r.rows);
    onyx_instance_free(x);
    onyx_program_free(p);
    onyx_model_free(m);
    return rc;
}
