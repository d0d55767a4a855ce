/* bench.c - `onyx bench`: latency per inference, real-time budget, memory,
 * FLOP rate, and (with --profile / --trace) where the time goes. */
#include "cli.h"
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

#define MAX_SHAPES 64

static int bench_usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "onyx: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n\n%s", usage_bench);
    return 2;
}

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

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi) return 1;
    *out = v;
    return 0;
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !(v >= lo && v <= hi)) return 1;
    *out = v;
    return 0;
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

/* Parses NAME=D1,D2,... (shared syntax with info/run) into b; the name is
 * copied into name (cap bytes). Returns 0 when well formed. */
int cli_parse_shape(const char *s, onyx_bind *b, char *name, size_t cap)
{
    const char *eq = strrchr(s, '=');
    if (!eq || eq == s || (size_t)(eq - s) >= cap) return 1;
    memcpy(name, s, (size_t)(eq - s));
    name[eq - s] = 0;
    b->name = name;
    b->rank = 0;
    b->data = NULL;
    const char *p = eq + 1;
    if (!*p) return 0;
    for (;;) {
        if (b->rank >= ONYX_MAX_RANK) return 1;
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (end == p || errno || v < 0 || v > ((int64_t)1 << 40)) return 1;
        b->dims[b->rank++] = v;
        if (!*end) return 0;
        if (*end != ',') return 1;
        p = end + 1;
    }
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
        for (int i = 0; i < onyx_program_num_inputs(p) && n < MAX_SHAPES; i++) {
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

int cmd_bench(int argc, char **argv)
{
    const char *path = NULL, *trace = NULL;
    long runs = 0, warmup = 10, threads = 1, block_arg = 0;
    double seconds = 1.0, sr = 48000;
    int json = 0, profile = 0;
    onyx_bind binds[MAX_SHAPES];
    char names[MAX_SHAPES][256];
    int nb = 0;
    static cli_set sets[MAX_SHAPES];
    int n_sets = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--json"))
            json = 1;
        else if (!strcmp(a, "--profile"))
            profile = 1;
        else if (!strcmp(a, "--runs") || !strcmp(a, "--warmup") ||
                 !strcmp(a, "--threads") || !strcmp(a, "--seconds") ||
                 !strcmp(a, "--sr") || !strcmp(a, "--shape") ||
                 !strcmp(a, "--trace") || !strcmp(a, "--block") ||
                 !strcmp(a, "--set")) {
            if (!v) return bench_usage("%s needs a value", a);
            i++;
            const char *want = NULL; /* what a bad value should have been */
            if (!strcmp(a, "--runs")) {
                if (parse_long(v, 1, 100000000, &runs))
                    want = "a whole number from 1 to 100000000";
            } else if (!strcmp(a, "--warmup")) {
                if (parse_long(v, 0, 100000000, &warmup))
                    want = "a whole number from 0 to 100000000";
            } else if (!strcmp(a, "--threads")) {
                if (parse_long(v, 1, 256, &threads))
                    want = "a whole number from 1 to 256";
            } else if (!strcmp(a, "--block")) {
                if (parse_long(v, 1, 1 << 24, &block_arg))
                    want = "a whole number from 1 to 16777216";
            } else if (!strcmp(a, "--seconds")) {
                if (parse_double(v, 0.001, 86400, &seconds))
                    want = "a number of seconds from 0.001 to 86400";
            } else if (!strcmp(a, "--sr")) {
                if (parse_double(v, 1, 10000000, &sr))
                    want = "a sample rate in Hz from 1 to 10000000";
            } else if (!strcmp(a, "--trace")) {
                trace = v;
            } else if (!strcmp(a, "--set")) {
                if (n_sets >= MAX_SHAPES)
                    return bench_usage("too many %s options", a);
                if (cli_parse_set(v, &sets[n_sets++]))
                    want = "NAME=v1,v2,... (numbers)";
            } else {
                if (nb >= MAX_SHAPES)
                    return bench_usage("too many %s options", a);
                if (cli_parse_shape(v, &binds[nb], names[nb], sizeof names[nb]))
                    want = "NAME=D1,D2,... (whole numbers >= 0)";
                nb++;
            }
            if (want) {
                fprintf(stderr, "onyx: %s %s: want %s\n\n%s", a, v, want,
                        usage_bench);
                return 2;
            }
        } else if (a[0] == '-' && a[1]) {
            return bench_usage("unknown option '%s'", a);
        } else if (!path) {
            path = a;
        } else {
            return bench_usage("unexpected argument '%s'", a);
        }
    }
    if (!path) return bench_usage("%s", "no MODEL given");

    onyx_error err = {0};
    onyx_model *m = onyx_model_load(path, &err);
    if (!m) {
        fprintf(stderr, "onyx: %s\n", err.msg);
        return 1;
    }
    /* bind the inputs as [onyx~] would; a model it cannot play gets its
     * unbound symbolic dims set to 1 */
    int n_given = nb;
    int block = stream_binds(m, (int)block_arg, binds, &nb);
    if (!block && block_arg) /* a static model: its own length */
        block = stream_binds(m, 0, binds, &nb);
    int defaulted = 0, time_bound = 0; /* a symbolic time axis got the block */
    for (int i = 0; i < onyx_model_num_inputs(m); i++) {
        const onyx_value_info *vi = onyx_model_input(m, i);
        int given = 0, bound = -1, symbolic = 0;
        for (int k = 0; k < nb; k++)
            if (!strcmp(binds[k].name, vi->name)) {
                given |= k < n_given;
                bound = k;
            }
        for (int d = 0; d < vi->rank; d++)
            symbolic |= vi->dims[d] < 0;
        if (given || !symbolic) continue;
        if (bound >= 0) {
            for (int d = 0; d < vi->rank && d < binds[bound].rank; d++)
                time_bound |= vi->dims[d] < 0 && binds[bound].dims[d] == block;
            continue;
        }
        if (nb >= MAX_SHAPES) break;
        binds[nb].name = vi->name;
        binds[nb].rank = vi->rank;
        binds[nb].data = NULL;
        for (int d = 0; d < vi->rank; d++)
            binds[nb].dims[d] = vi->dims[d] < 0 ? 1 : vi->dims[d];
        nb++;
        defaulted = 1;
    }
    if (block_arg && !time_bound)
        fprintf(stderr,
                "onyx: note: --block %ld ignored: no symbolic time axis "
                "left to bind (%s %d)\n",
                block_arg, block ? "the model's block is" : "no signal: block",
                block);
    onyx_set_blas_threads((int)threads);
    int rc = 1;
    double *t = NULL;
    op_row *rows = NULL;
    FILE *tf = NULL;
    onyx_instance *x = NULL;
    onyx_program *p = onyx_program_new(m, binds, nb, &err);
    if (!p) {
        fprintf(stderr, "onyx: %s\n", err.msg);
        goto out;
    }
    x = onyx_instance_new(p, &err);
    if (!x || onyx_instance_set_threads(x, (int)threads, &err) != ONYX_OK) {
        fprintf(stderr, "onyx: %s\n", err.msg);
        goto out;
    }
    /* random inputs in [-1, 1), zeros for integer and bool inputs */
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
    for (int k = 0; k < n_sets; k++) {
        int i = onyx_program_num_inputs(p) - 1;
        for (; i >= 0; i--) {
            const char *nm = onyx_program_input_name(p, i);
            if (strlen(nm) == sets[k].name_len &&
                !strncmp(nm, sets[k].name, sets[k].name_len))
                break;
        }
        if (i < 0) {
            fprintf(stderr, "onyx: %s: --set %.*s: no input of that name\n",
                    path, (int)sets[k].name_len, sets[k].name);
            goto out;
        }
        onyx_tensor *in = onyx_instance_input(x, i);
        int settable = in->dtype == ONYX_FLOAT || in->dtype == ONYX_INT64 ||
                       in->dtype == ONYX_BOOL;
        if (!settable || onyx_numel(in) != sets[k].n) {
            fprintf(stderr,
                    "onyx: %s: --set %.*s: the input takes %lld %s, --set "
                    "gave %d\n",
                    path, (int)sets[k].name_len, sets[k].name,
                    (long long)onyx_numel(in),
                    !settable ? "values of a dtype --set cannot give"
                    : onyx_numel(in) == 1 ? "value"
                                          : "values",
                    sets[k].n);
            goto out;
        }
        for (int e = 0; e < sets[k].n; e++) {
            float f = sets[k].v[e];
            if (in->dtype == ONYX_FLOAT)
                ((float *)in->data)[e] = f;
            else if (in->dtype == ONYX_INT64)
                ((int64_t *)in->data)[e] =
                    isnan(f)
                        ? 0
                        : (int64_t)fmaxf(-9.2e18f, fminf(9.2e18f, roundf(f)));
            else
                ((uint8_t *)in->data)[e] = f != 0;
        }
    }
    const char *why = NULL;
    int node = -1;
    int tty = isatty(2) && !json;
    for (long k = 0; k < warmup; k++) {
        onyx_status st = onyx_instance_run(x, &why, &node);
        if (st != ONYX_OK) {
            onyx_run_error(p, st, why, node, &err);
            fprintf(stderr, "onyx: %s\n", err.msg);
            goto out;
        }
    }
    /* measured runs: a fixed count, or until `seconds` have passed */
    long cap = runs ? runs : 1024, n_runs = 0;
    t = malloc(sizeof *t * (size_t)cap);
    if (!t) goto nomem;
    double start = now_s(), last_progress = start;
    for (;;) {
        if (runs ? n_runs >= runs
                 : (n_runs >= 10 && now_s() - start >= seconds))
            break;
        if (n_runs == cap) {
            double *nt = realloc(t, sizeof *t * (size_t)cap * 2);
            if (!nt) goto nomem;
            t = nt;
            cap *= 2;
        }
        double t0 = now_s();
        onyx_instance_run(x, NULL, NULL);
        t[n_runs++] = now_s() - t0;
        if (tty && t0 - last_progress > 0.25 && t0 - start > 2.0) {
            double frac =
                runs ? (double)n_runs / (double)runs : (t0 - start) / seconds;
            fprintf(stderr, "\rbenchmarking %s: %3.0f%%", path,
                    100 * (frac < 1 ? frac : 1));
            last_progress = t0;
        }
    }
    if (tty && now_s() - start > 2.0)
        fprintf(stderr, "\r%*s\r", 40 + (int)strlen(path), "");
    double total = 0;
    for (long k = 0; k < n_runs; k++)
        total += t[k];
    qsort(t, (size_t)n_runs, sizeof *t, cmp_double);
    double mean = total / (double)n_runs;
    double tmin = t[0], tmax = t[n_runs - 1], median = t[n_runs / 2];
    double p99 = t[(long)floor(0.99 * (double)(n_runs - 1))];
    double budget = block > 0 ? block / sr : 0;
    int64_t pcount, pbytes;
    onyx_model_params(m, &pcount, &pbytes);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    long rss = ru.ru_maxrss * 1024L;
    int64_t flops = onyx_program_flops(p);
    double gflops = median > 0 ? (double)flops / median * 1e-9 : 0;

    /* profile / trace pass: per-node clocks on */
    int nn = onyx_program_num_nodes(p);
    long prof_runs = n_runs < 10 ? 10 : (n_runs > 1000 ? 1000 : n_runs);
    if (profile || trace) {
        if (trace) {
            tf = fopen(trace, "w");
            if (!tf) {
                fprintf(stderr, "onyx: %s: cannot write: %s\n", trace,
                        strerror(errno));
                goto out;
            }
            fprintf(tf, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
            fprintf(tf, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,"
                        "\"args\":{\"name\":");
            json_str(tf, path);
            fprintf(tf, "}}");
        }
        onyx_instance_profile_reset(x);
        onyx_instance_profile(x, 1);
        double t_begin = now_s();
        for (long k = 0; k < prof_runs; k++) {
            double t0 = now_s();
            onyx_instance_run(x, NULL, NULL);
            if (!tf) continue;
            const uint64_t *st, *du;
            onyx_instance_node_last(x, &st, &du);
            double base_us = (t0 - t_begin) * 1e6;
            fprintf(tf,
                    ",\n{\"name\":\"run "
                    "%ld\",\"cat\":\"run\",\"ph\":\"X\",\"pid\":1,\"tid\":1,"
                    "\"ts\":%.3f,\"dur\":%.3f}",
                    k, base_us, (now_s() - t0) * 1e6);
            for (int j = 0; j < nn; j++) {
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
        onyx_instance_profile(x, 0);
        if (tf) {
            fprintf(tf, "\n]}\n");
            if (fclose(tf) != 0) {
                tf = NULL;
                fprintf(stderr, "onyx: %s: write failed\n", trace);
                goto out;
            }
            tf = NULL;
        }
    }
    /* rows: per op type first (n_types), then per node */
    const uint64_t *ns = onyx_instance_node_ns(x);
    rows = calloc((size_t)(2 * nn + 1), sizeof *rows);
    if (!rows) goto nomem;
    int n_types = 0;
    double prof_total = 0;
    for (int j = 0; j < nn; j++) {
        const char *op = onyx_program_node_op(p, j);
        int r = 0;
        while (r < n_types && strcmp(rows[r].op, op))
            r++;
        if (r == n_types) {
            rows[r].name = rows[r].op = op;
            n_types++;
        }
        rows[r].count++;
        rows[r].total_ns += (double)ns[j];
        prof_total += (double)ns[j];
    }
    op_row *node_rows = rows + n_types;
    for (int j = 0; j < nn; j++) {
        const char *nm = onyx_program_node_name(p, j);
        node_rows[j].name = nm[0] ? nm : "(unnamed)";
        node_rows[j].op = onyx_program_node_op(p, j);
        node_rows[j].count = prof_runs;
        node_rows[j].total_ns = (double)ns[j];
    }
    qsort(rows, (size_t)n_types, sizeof *rows, cmp_row);
    qsort(node_rows, (size_t)nn, sizeof *node_rows, cmp_row);

    if (json) {
        printf("{\"model\":");
        json_str(stdout, path);
        printf(",\"runs\":%ld,\"warmup\":%ld,\"threads\":%ld,\"min_us\":%.3f,"
               "\"median_us\":%.3f,"
               "\"p99_us\":%.3f,\"max_us\":%.3f,\"mean_us\":%.3f,\"inferences_"
               "per_s\":%.1f,",
               n_runs, warmup, threads, tmin * 1e6, median * 1e6, p99 * 1e6,
               tmax * 1e6, mean * 1e6, 1.0 / mean);
        printf("\"block\":%d,\"sample_rate\":%.0f,", block, sr);
        if (block > 0)
            printf("\"budget_us\":%.3f,\"rt_factor\":%.3f,\"rt_percent\":%.4f,",
                   budget * 1e6, budget / median, 100 * median / budget);
        printf("\"arena_bytes\":%zu,\"weight_bytes\":%lld,\"parameters\":%lld,"
               "\"peak_rss_bytes\":%ld,\"flops\":%lld,\"gflops\":%.3f,"
               "\"nodes\":%d",
               onyx_program_arena_bytes(p), (long long)pbytes,
               (long long)pcount, rss, (long long)flops, gflops, nn);
        if (profile) {
            printf(",\"profile_runs\":%ld,\"ops\":[", prof_runs);
            for (int r = 0; r < n_types; r++) {
                printf("%s{\"op\":", r ? "," : "");
                json_str(stdout, rows[r].op);
                printf(",\"count\":%ld,\"total_us\":%.3f,\"mean_us\":%.3f,"
                       "\"share\":%.4f}",
                       rows[r].count,
                       rows[r].total_ns * 1e-3 / (double)prof_runs,
                       rows[r].total_ns * 1e-3 / (double)prof_runs /
                           (double)rows[r].count,
                       prof_total > 0 ? rows[r].total_ns / prof_total : 0);
            }
            printf("],\"node_times\":[");
            for (int j = 0; j < nn; j++) {
                printf("%s{\"node\":", j ? "," : "");
                json_str(stdout, node_rows[j].name);
                printf(",\"op\":");
                json_str(stdout, node_rows[j].op);
                printf(",\"mean_us\":%.3f,\"share\":%.4f}",
                       node_rows[j].total_ns * 1e-3 / (double)prof_runs,
                       prof_total > 0 ? node_rows[j].total_ns / prof_total : 0);
            }
            printf("]");
        }
        printf("}\n");
    } else {
        printf("model:        %s\n", path);
        if (time_bound)
            printf("note:         symbolic time axis bound to %d sample%s, "
                   "the block [onyx~ -block %d] plays (--block N to "
                   "change)\n",
                   block, block == 1 ? "" : "s", block);
        if (defaulted)
            printf("note:         symbolic dims set to 1 (bind them with "
                   "--shape)\n");
        printf("runs:         %ld (after %ld warm-up), %ld thread%s\n",
               n_runs, warmup, threads, threads > 1 ? "s" : "");
        printf("latency:      min %.2f  median %.2f  p99 %.2f  max %.2f us\n",
               tmin * 1e6, median * 1e6, p99 * 1e6, tmax * 1e6);
        printf("throughput:   %.0f inferences/s\n", 1.0 / mean);
        if (block > 0)
            printf("real time:    block %d samples = %.1f us at %.0f Hz: "
                   "%.3f%% of the budget, "
                   "%.1fx real time\n",
                   block, budget * 1e6, sr, 100 * median / budget,
                   budget / median);
        else
            printf("real time:    no signal time axis: no real-time budget\n");
        printf("memory:       arena %zu bytes, weights %lld bytes (%lld "
               "parameters), peak RSS %.1f MB\n",
               onyx_program_arena_bytes(p), (long long)pbytes,
               (long long)pcount, rss / 1048576.0);
        printf("compute:      %lld FLOPs per inference, %.2f GFLOP/s\n",
               (long long)flops, gflops);
        if (profile) {
            printf("\nprofile (%ld runs, %d nodes, per-node clocks on: %.2f us "
                   "per run)\n",
                   prof_runs, nn, prof_total * 1e-3 / (double)prof_runs);
            printf("  %-28s %6s %12s %12s %7s\n", "op type", "nodes",
                   "total us", "mean us", "share");
            for (int r = 0; r < n_types; r++)
                printf(
                    "  %-28s %6ld %12.3f %12.3f %6.1f%%\n", rows[r].op,
                    rows[r].count, rows[r].total_ns * 1e-3 / (double)prof_runs,
                    rows[r].total_ns * 1e-3 / (double)prof_runs /
                        (double)rows[r].count,
                    prof_total > 0 ? 100 * rows[r].total_ns / prof_total : 0);
            printf("\n  %-28s %-18s %12s %7s\n", "node", "op", "mean us",
                   "share");
            for (int j = 0; j < nn; j++)
                printf("  %-28.28s %-18s %12.3f %6.1f%%\n", node_rows[j].name,
                       node_rows[j].op,
                       node_rows[j].total_ns * 1e-3 / (double)prof_runs,
                       prof_total > 0 ? 100 * node_rows[j].total_ns / prof_total
                                      : 0);
        }
        if (trace) printf("\ntrace:        %s (%ld runs)\n", trace, prof_runs);
    }
    rc = 0;
    goto out;
nomem:
    fprintf(stderr, "onyx: out of memory\n");
out:
    if (tf) fclose(tf);
    free(rows);
    free(t);
    onyx_instance_free(x);
    onyx_program_free(p);
    onyx_model_free(m);
    return rc;
}
