/* main.c - the onyx command: info, run, test, process and bench models
 * outside Pd.
 *
 * Exit status: 0 success, 1 a model or data error, 2 a usage error. */
#include "cli.h"
#include "options.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define EXIT_USAGE 2

static const char *prog = "onyx";

/* process.c, bench.c */
extern const char usage_process[];
int cmd_process(int argc, char **argv);
extern const char usage_bench[];
int cmd_bench(int argc, char **argv);

static const char *usage_main =
    "usage: onyx COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  info MODEL [--shape NAME=D1,D2,...]\n"
    "        describe a model: inputs, outputs, ops, parameters, arena, "
    "FLOPs\n"
    "  run MODEL [-i [NAME=]FILE]... [-o DIR] [--shape NAME=D1,...]\n"
    "        run it once on .npy/.pb inputs, write its outputs as .npy\n"
    "  test PATH...\n"
    "        run ONNX backend test folders (or a list of them)\n"
    "  process MODEL IN OUT [--block N] [--set NAME=v1,v2,...] "
    "[--state IN:OUT]\n"
    "                      [--shape NAME=D1,...] [--controls FILE] "
    "[--threaded]\n"
    "        stream a sound file through it as [onyx~ -sync] plays it\n"
    "  bench MODEL [--runs N] [--warmup N] [--repeat K] [--seconds S]\n"
    "              [--threads N] [--block N]\n"
    "              [--shape NAME=D1,...] [--set NAME=v1,...] [--sr RATE] "
    "[--json]\n"
    "              [--profile] [--trace FILE]\n"
    "        time inferences: latency, share of the real-time budget, "
    "memory\n"
    "\n"
    "`onyx COMMAND --help` (or `onyx help COMMAND`) describes each command\n"
    "and its options.\n"
    "Exit status: 0 success, 1 a model or data error, 2 a usage error.\n";

static const char *usage_info =
    "usage: onyx info MODEL [--shape NAME=D1,D2,...]\n"
    "\n"
    "Prints the opset, every input and output (name, dtype, shape with "
    "symbolic\n"
    "dims by name), node counts per op type, parameter count and bytes, arena\n"
    "bytes and FLOPs per inference. --shape binds an input's shape (needed "
    "for\n"
    "the arena and FLOPs when the model has symbolic dims; they count as 1\n"
    "otherwise). Repeatable.\n";

static const char *usage_run =
    "usage: onyx run MODEL [-i [NAME=]FILE]... [-o DIR] [--shape NAME=D1,...]\n"
    "\n"
    "Runs MODEL once. Inputs come from .npy (float32, float16, int64, bool, C\n"
    "order; float64/int32 are converted, and float32 is rounded for a float16\n"
    "or bfloat16 input) or .pb (serialized TensorProto) files; without NAME=\n"
    "they are taken in graph order. Every output is written to\n"
    "DIR/<output name>.npy (default DIR: .; bfloat16 as float32) and its name\n"
    "and shape printed.\n";

static const char *usage_test =
    "usage: onyx test PATH...\n"
    "\n"
    "PATH is an ONNX backend test folder (model.onnx + "
    "test_data_set_*/input_N.pb,\n"
    "output_N.pb), a folder of such folders, or a text file listing folders "
    "one\n"
    "per line (relative to the file, the current folder, or $ONYX_TESTDATA,\n"
    "default /usr/share/libonnx-testdata/data). Compares every output\n"
    "(|got - want| <= 1e-5 + 1e-3 |want| for floats, 1e-5 + 2^-7 |want| for\n"
    "bfloat16, exact otherwise) and prints\n"
    "PASS, FAIL or SKIP per test, then `N passed, N failed, N skipped`.\n";

static int usage_error(const char *usage, const char *fmt, const char *arg)
{
    fprintf(stderr, "%s: ", prog);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n\n%s", usage);
    return EXIT_USAGE;
}

static int wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return 1;
    return 0;
}

static void print_vi(const onyx_value_info *v)
{
    char sh[512];
    printf("  %-24s %-8s %s\n", v->name, onyx_dtype_name(v->dtype),
           onyx_value_shape_str(v, sh, sizeof sh));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ---- onyx info ---- */

/* Node counts per op type, by name. */
static void print_op_counts(const onyx_model *m)
{
    int nn = onyx_model_num_nodes(m);
    printf("nodes: %d\n", nn);
    const char **ops = malloc(sizeof(char *) * (size_t)(nn + 1));
    if (!ops) return;
    for (int i = 0; i < nn; i++)
        ops[i] = onyx_model_node_op(m, i);
    qsort(ops, (size_t)nn, sizeof *ops, cmp_str);
    for (int i = 0; i < nn;) {
        int j = i;
        while (j < nn && !strcmp(ops[j], ops[i]))
            j++;
        printf("  %-24s %d\n", ops[i], j - i);
        i = j;
    }
    free(ops);
}

static void print_info(const char *path, const onyx_model *m,
                       const onyx_program *p, int defaulted)
{
    printf("model: %s\n", path);
    printf("opset: %d\n", onyx_model_opset(m));
    if (onyx_model_producer(m)[0])
        printf("producer: %s\n", onyx_model_producer(m));
    const char *sr = onyx_model_meta(m, "sample_rate");
    if (sr) printf("sample_rate: %s (metadata)\n", sr);
    printf("inputs:\n");
    for (int i = 0; i < onyx_model_num_inputs(m); i++)
        print_vi(onyx_model_input(m, i));
    printf("outputs:\n");
    for (int i = 0; i < onyx_model_num_outputs(m); i++)
        print_vi(onyx_model_output(m, i));
    print_op_counts(m);
    int64_t pc, pb;
    onyx_model_params(m, &pc, &pb);
    printf("parameters: %lld (%lld bytes)\n", (long long)pc, (long long)pb);
    const char *note =
        defaulted ? " (symbolic dims set to 1; bind them with --shape)" : "";
    printf("arena: %zu bytes%s\n", onyx_program_arena_bytes(p), note);
    printf("flops: %lld per inference%s\n", (long long)onyx_program_flops(p),
           note);
    printf("nodes after folding: %d\n", onyx_program_num_nodes(p));
}

static int cmd_info(int argc, char **argv)
{
    const char *path = NULL;
    static cli_shapes shapes;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--shape")) {
            const char *opt = argv[i];
            const char *v =
                cli_opt_value(argc, argv, &i, "NAME=D1,D2,...", usage_info);
            if (!v) return EXIT_USAGE;
            int rc = cli_shape_opt(&shapes, opt, v, usage_info);
            if (rc) return rc;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return usage_error(usage_info, "unknown option '%s'", argv[i]);
        } else if (!path) {
            path = argv[i];
        } else {
            return usage_error(usage_info, "unexpected argument '%s'", argv[i]);
        }
    }
    if (!path) return usage_error(usage_info, "%s", "no MODEL given");
    onyx_model *m = cli_load_model(path);
    if (!m) return 1;
    /* resolve first, with the given shapes (unbound symbolic dims count as
     * 1): a shape the model refuses is an error, and no info is printed */
    int nb = shapes.n;
    int defaulted = cli_bind_defaults(m, shapes.b, &nb);
    onyx_error err = {0};
    onyx_program *p = onyx_program_new(m, shapes.b, nb, &err);
    if (!p) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        onyx_model_free(m);
        return 1;
    }
    print_info(path, m, p, defaulted);
    onyx_program_free(p);
    onyx_model_free(m);
    return 0;
}

/* ---- onyx run ---- */
typedef struct input_arg {
    const char *name; /* NULL: by position */
    const char *file;
} input_arg;

static void safe_name(const char *in, char *out, size_t cap)
{
    size_t i = 0;
    for (; in[i] && i + 1 < cap; i++) {
        char c = in[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                 (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
        out[i] = ok ? c : '_';
    }
    out[i] = 0;
    if (!strcmp(out, ".") || !strcmp(out, "..") || !out[0])
        snprintf(out, cap, "output_");
}

/* Small inputs are also given to the resolver as values (an op may need one
 * to infer a shape, e.g. a Reshape target fed as an input). */
#define KNOWN_LIMIT 4096

/* What `onyx run` was asked, and the inputs it read. */
typedef struct run_args {
    const char *path, *outdir;
    input_arg ins[CLI_MAX_BINDS];
    int n_ins;
    cli_shapes shapes;
    cli_tensor data[CLI_MAX_BINDS];
    int which[CLI_MAX_BINDS]; /* model input index of data[k] */
    int n_data;
} run_args;

/* -i [NAME=]FILE */
static int run_input_opt(run_args *r, const char *opt, char *a)
{
    if (r->n_ins >= CLI_MAX_BINDS)
        return usage_error(usage_run, "too many %s options", opt);
    input_arg *in = &r->ins[r->n_ins++];
    char *eq = strchr(a, '=');
    in->name = NULL;
    in->file = a;
    if (!eq) return 0;
    if (eq == a || !eq[1])
        return usage_error(usage_run, "-i %s: want [NAME=]FILE", a);
    *eq = 0;
    in->name = a;
    in->file = eq + 1;
    return 0;
}

static int parse_run_args(int argc, char **argv, run_args *r)
{
    r->outdir = ".";
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v;
        int rc = 0;
        if (!strcmp(a, "-i") || !strcmp(a, "--input")) {
            if (!(v = cli_opt_value(argc, argv, &i, "[NAME=]FILE", usage_run)))
                return EXIT_USAGE;
            rc = run_input_opt(r, a, argv[i]);
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (!(v = cli_opt_value(argc, argv, &i, "a folder", usage_run)))
                return EXIT_USAGE;
            r->outdir = v;
        } else if (!strcmp(a, "--shape")) {
            if (!(v = cli_opt_value(argc, argv, &i, "NAME=D1,D2,...",
                                    usage_run)))
                return EXIT_USAGE;
            rc = cli_shape_opt(&r->shapes, a, v, usage_run);
        } else if (a[0] == '-' && a[1]) {
            return usage_error(usage_run, "unknown option '%s'", a);
        } else if (!r->path) {
            r->path = a;
        } else {
            return usage_error(usage_run, "unexpected argument '%s'", a);
        }
        if (rc) return rc;
    }
    if (!r->path) return usage_error(usage_run, "%s", "no MODEL given");
    return 0;
}

/* The model input -i number k is for, or -1 after printing why none. */
static int run_input_index(const onyx_model *m, const run_args *r, int k,
                           int *pos)
{
    int n_in = onyx_model_num_inputs(m), idx = -1;
    if (r->ins[k].name) {
        for (int i = 0; i < n_in; i++)
            if (!strcmp(onyx_model_input(m, i)->name, r->ins[k].name)) idx = i;
        if (idx < 0)
            fprintf(stderr, "%s: %s: the model has no input named '%s'\n", prog,
                    r->path, r->ins[k].name);
        return idx;
    }
    idx = (*pos)++;
    if (idx < n_in) return idx;
    fprintf(stderr, "%s: %s: extra input file '%s' (the model has %d inputs)\n",
            prog, r->path, r->ins[k].file, n_in);
    return -1;
}

/* Reads the -i files, each matched to a model input; 1 after an error. */
static int read_run_inputs(const onyx_model *m, run_args *r)
{
    char msg[600];
    int pos = 0;
    for (int k = 0; k < r->n_ins; k++) {
        int idx = run_input_index(m, r, k, &pos);
        if (idx < 0) return 1;
        for (int j = 0; j < r->n_data; j++)
            if (r->which[j] == idx) {
                fprintf(stderr, "%s: input '%s' is given twice\n", prog,
                        onyx_model_input(m, idx)->name);
                return 1;
            }
        if (cli_read_tensor(r->ins[k].file, &r->data[r->n_data], msg,
                            sizeof msg)) {
            fprintf(stderr, "%s: %s\n", prog, msg);
            return 1;
        }
        r->which[r->n_data++] = idx;
    }
    return 0;
}

/* Binds model input i to its file's data, checked against the model's dtype
 * and the --shape options; 1 after an error. */
static int bind_run_input(const onyx_model *m, run_args *r, int i, onyx_bind *b)
{
    const onyx_value_info *v = onyx_model_input(m, i);
    int k = -1;
    for (int j = 0; j < r->n_data; j++)
        if (r->which[j] == i) k = j;
    if (k < 0) {
        fprintf(stderr,
                "%s: %s: input '%s' is missing (give it with -i %s=FILE)\n",
                prog, r->path, v->name, v->name);
        return 1;
    }
    const onyx_tensor *t = &r->data[k].t;
    if (cli_tensor_as(&r->data[k], v->dtype)) {
        fprintf(stderr,
                "%s: input '%s': the file holds %s, the model takes %s\n", prog,
                v->name, onyx_dtype_name(t->dtype), onyx_dtype_name(v->dtype));
        return 1;
    }
    for (int s = 0; s < r->shapes.n; s++) {
        onyx_tensor st = {0};
        st.rank = r->shapes.b[s].rank;
        memcpy(st.dims, r->shapes.b[s].dims, sizeof st.dims);
        if (!strcmp(r->shapes.b[s].name, v->name) && !onyx_same_shape(&st, t)) {
            char a[128], bs[128];
            fprintf(stderr,
                    "%s: input '%s': the file has shape %s, --shape says %s\n",
                    prog, v->name, cli_shape(t, a, sizeof a),
                    cli_shape(&st, bs, sizeof bs));
            return 1;
        }
    }
    b->name = v->name;
    b->rank = t->rank;
    memcpy(b->dims, t->dims, sizeof b->dims);
    b->data = onyx_numel(t) <= KNOWN_LIMIT ? t->data : NULL;
    return 0;
}

/* Every input bound to its file, every --shape naming an input; 1 after
 * an error. */
static int bind_run_inputs(const onyx_model *m, run_args *r, onyx_bind *binds)
{
    int n_in = onyx_model_num_inputs(m);
    for (int i = 0; i < n_in; i++)
        if (bind_run_input(m, r, i, &binds[i])) return 1;
    for (int s = 0; s < r->shapes.n; s++) {
        int found = 0;
        for (int i = 0; i < n_in; i++)
            found |= !strcmp(r->shapes.b[s].name, onyx_model_input(m, i)->name);
        if (!found) {
            fprintf(stderr,
                    "%s: %s: --shape names '%s', which is not an input\n", prog,
                    r->path, r->shapes.b[s].name);
            return 1;
        }
    }
    return 0;
}

/* Every output to DIR/<name>.npy, its name and shape printed; 1 when one
 * could not be written. */
static int write_run_outputs(const onyx_program *p, const onyx_instance *x,
                             const char *outdir)
{
    struct stat sb;
    if (stat(outdir, &sb) != 0 && mkdir(outdir, 0777) != 0) {
        fprintf(stderr, "%s: cannot create folder '%s': %s\n", prog, outdir,
                strerror(errno));
        return 1;
    }
    int rc = 0;
    for (int i = 0; i < onyx_program_num_outputs(p); i++) {
        const onyx_tensor *t = onyx_instance_output(x, i);
        const char *name = onyx_program_output_name(p, i);
        char fn[300], file[4400], sh[200], msg[600];
        safe_name(name, fn, sizeof fn);
        snprintf(file, sizeof file, "%s/%s.npy", outdir, fn);
        if (cli_write_npy(file, t, msg, sizeof msg)) {
            fprintf(stderr, "%s: %s\n", prog, msg);
            rc = 1;
            continue;
        }
        printf("%s %s %s\n", name, onyx_dtype_name(t->dtype),
               cli_shape(t, sh, sizeof sh));
    }
    return rc;
}

/* Copies the inputs in, runs once; 1 after printing the run's error. */
static int run_once(const onyx_program *p, onyx_instance *x, const run_args *r)
{
    for (int k = 0; k < r->n_data; k++) {
        onyx_tensor *t = onyx_instance_input(x, r->which[k]);
        memcpy(t->data, r->data[k].t.data,
               (size_t)onyx_numel(t) * onyx_dtype_size(t->dtype));
    }
    const char *why = NULL;
    int node = -1;
    onyx_status st = onyx_instance_run(x, &why, &node);
    if (st == ONYX_OK) return 0;
    onyx_error err;
    onyx_run_error(p, st, why, node, &err);
    fprintf(stderr, "%s: %s\n", prog, err.msg);
    return 1;
}

static int cmd_run(int argc, char **argv)
{
    static run_args r;
    int rc = parse_run_args(argc, argv, &r);
    if (rc) return rc;
    onyx_model *m = cli_load_model(r.path);
    if (!m) return 1;
    onyx_bind binds[CLI_MAX_BINDS];
    onyx_program *p = NULL;
    onyx_instance *x = NULL;
    rc = 1;
    if (!read_run_inputs(m, &r) && !bind_run_inputs(m, &r, binds) &&
        !cli_program(m, binds, onyx_model_num_inputs(m), &p, &x) &&
        !run_once(p, x, &r))
        rc = write_run_outputs(p, x, r.outdir);
    for (int k = 0; k < r.n_data; k++)
        cli_tensor_free(&r.data[k]);
    onyx_instance_free(x);
    onyx_program_free(p);
    onyx_model_free(m);
    return rc;
}

/* ---- onyx test ---- */
typedef struct tally {
    int passed, failed, skipped;
} tally;

/* dir + "/" + name into buf; 0 when it does not fit */
static int path_join(char *buf, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(buf, cap, "%s/%s", dir, name);
    return n > 0 && (size_t)n < cap;
}

static int is_dir(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int is_file(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* Compares got with want; on mismatch writes the first one into why. */
static int compare(const onyx_tensor *got, const onyx_tensor *want_file,
                   char *why, size_t cap)
{
    char a[128], b[128];
    onyx_tensor want = *want_file;
    /* ONNX's test data before 1.14 stores bfloat16 outputs as uint16 */
    if (want.dtype == ONYX_UINT16 && got->dtype == ONYX_BFLOAT16)
        want.dtype = ONYX_BFLOAT16;
    /* relative tolerance: float16 has 11 significant bits, so 1e-3 is about
     * one unit in its last place; bfloat16 has 8, and its last place is up
     * to 2^-7 (results that round rather than truncate differ by one) */
    double rtol = want.dtype == ONYX_BFLOAT16 ? 0x1p-7 : 1e-3;
    int is_float = want.dtype == ONYX_FLOAT || want.dtype == ONYX_DOUBLE ||
                   want.dtype == ONYX_FLOAT16 || want.dtype == ONYX_BFLOAT16;
    if (got->dtype != want.dtype) {
        snprintf(why, cap, "dtype %s, expected %s", onyx_dtype_name(got->dtype),
                 onyx_dtype_name(want.dtype));
        return 1;
    }
    if (!onyx_same_shape(got, &want)) {
        snprintf(why, cap, "shape %s, expected %s", cli_shape(got, a, sizeof a),
                 cli_shape(&want, b, sizeof b));
        return 1;
    }
    int64_t n = onyx_numel(&want);
    for (int64_t k = 0; k < n; k++) {
        if (is_float) {
            double g = onyx_get_double(got, k), w = onyx_get_double(&want, k);
            if (isnan(w) && isnan(g)) continue;
            if (isinf(w) && g == w) continue;
            if (!(fabs(g - w) <= 1e-5 + rtol * fabs(w))) {
                snprintf(why, cap, "element %lld: got %.9g, expected %.9g",
                         (long long)k, g, w);
                return 1;
            }
        } else {
            size_t es = onyx_dtype_size(want.dtype);
            if (memcmp((const char *)got->data + k * (int64_t)es,
                       (const char *)want.data + k * (int64_t)es, es)) {
                snprintf(why, cap, "element %lld: got %lld, expected %lld",
                         (long long)k, (long long)onyx_get_int(got, k),
                         (long long)onyx_get_int(&want, k));
                return 1;
            }
        }
    }
    return 0;
}

static int cmp_dirent(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted entries of dir whose names start with prefix; caller frees. */
static int list_dir(const char *dir, const char *prefix, char ***out)
{
    DIR *d = opendir(dir);
    *out = NULL;
    if (!d) return 0;
    int n = 0, cap = 0;
    char **v = NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || strncmp(e->d_name, prefix, strlen(prefix)))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nv = realloc(v, sizeof *v * (size_t)cap);
            if (!nv) break;
            v = nv;
        }
        v[n] = strdup(e->d_name);
        if (v[n]) n++;
    }
    closedir(d);
    if (n) qsort(v, (size_t)n, sizeof *v, cmp_dirent);
    *out = v;
    return n;
}

static void free_list(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

#define MAX_IO 64

/* KIND_0.pb, KIND_1.pb, ... of a data set, as many as there are, into t
 * (*n of them); 1 with why set when one cannot be read. */
static int read_set_files(const char *set, const char *kind, cli_tensor *t,
                          int *n, char *why, size_t cap)
{
    char file[4400], msg[600];
    for (*n = 0; *n < MAX_IO; (*n)++) {
        char nm[64];
        snprintf(nm, sizeof nm, "%s_%d.pb", kind, *n);
        if (!path_join(file, sizeof file, set, nm) || !is_file(file)) break;
        if (cli_read_tensor(file, &t[*n], msg, sizeof msg)) {
            snprintf(why, cap, "%s", msg);
            return 1;
        }
    }
    return 0;
}

/* The data set's inputs bound to the model's: by name when the file names
 * one, else by position (which[k]: the graph input of file k), converted
 * to the input's dtype; 1 with why set when they do not fit. */
static int bind_set_inputs(const onyx_model *m, cli_tensor *ins, int n_in,
                           onyx_bind *binds, int *which, char *why, size_t cap)
{
    int nmi = onyx_model_num_inputs(m);
    if (n_in != nmi) {
        snprintf(why, cap, "%d input files for %d graph inputs", n_in, nmi);
        return 1;
    }
    for (int k = 0; k < n_in; k++) {
        int idx = k;
        for (int i = 0; i < nmi; i++)
            if (ins[k].name[0] &&
                !strcmp(onyx_model_input(m, i)->name, ins[k].name))
                idx = i;
        which[k] = idx;
        binds[k].name = onyx_model_input(m, idx)->name;
        binds[k].rank = ins[k].t.rank;
        memcpy(binds[k].dims, ins[k].t.dims, sizeof binds[k].dims);
        binds[k].data =
            onyx_numel(&ins[k].t) <= KNOWN_LIMIT ? ins[k].t.data : NULL;
        if (cli_tensor_as(&ins[k], onyx_model_input(m, idx)->dtype)) {
            snprintf(why, cap, "input %d holds %s, the model takes %s", k,
                     onyx_dtype_name(ins[k].t.dtype),
                     onyx_dtype_name(onyx_model_input(m, idx)->dtype));
            return 1;
        }
    }
    return 0;
}

/* Runs one data set; returns 0 pass, 1 fail, 2 skip; why says what. */
static int run_data_set(const onyx_model *m, const char *set, char *why,
                        size_t cap)
{
    cli_tensor ins[MAX_IO], outs[MAX_IO];
    int n_in = 0, n_out = 0, result = 1;
    onyx_program *p = NULL;
    onyx_instance *x = NULL;
    onyx_bind binds[MAX_IO];
    int which[MAX_IO];
    if (read_set_files(set, "input", ins, &n_in, why, cap) ||
        read_set_files(set, "output", outs, &n_out, why, cap) ||
        bind_set_inputs(m, ins, n_in, binds, which, why, cap))
        goto out;
    onyx_error err = {0};
    p = onyx_program_new(m, binds, n_in, &err);
    if (!p) {
        snprintf(why, cap, "%s", err.msg);
        result = err.status == ONYX_ERR_UNSUPPORTED ? 2 : 1;
        goto out;
    }
    x = onyx_instance_new(p, &err);
    if (!x) {
        snprintf(why, cap, "%s", err.msg);
        goto out;
    }
    for (int k = 0; k < n_in; k++) {
        onyx_tensor *t = onyx_instance_input(x, which[k]);
        memcpy(t->data, ins[k].t.data,
               (size_t)onyx_numel(t) * onyx_dtype_size(t->dtype));
    }
    const char *rwhy = NULL;
    int node = -1;
    onyx_status st = onyx_instance_run(x, &rwhy, &node);
    if (st != ONYX_OK) {
        onyx_run_error(p, st, rwhy, node, &err);
        snprintf(why, cap, "%s", err.msg);
        goto out;
    }
    if (n_out != onyx_program_num_outputs(p)) {
        snprintf(why, cap, "%d output files for %d graph outputs", n_out,
                 onyx_program_num_outputs(p));
        goto out;
    }
    for (int k = 0; k < n_out; k++) {
        char w2[300];
        if (compare(onyx_instance_output(x, k), &outs[k].t, w2, sizeof w2)) {
            snprintf(why, cap, "output '%s': %s",
                     onyx_program_output_name(p, k), w2);
            goto out;
        }
    }
    result = 0;
out:
    for (int k = 0; k < n_in; k++)
        cli_tensor_free(&ins[k]);
    for (int k = 0; k < n_out; k++)
        cli_tensor_free(&outs[k]);
    onyx_instance_free(x);
    onyx_program_free(p);
    return result;
}

static void run_test_dir(const char *dir, tally *t)
{
    char model[4400], why[1200];
    onyx_error err = {0};
    if (!path_join(model, sizeof model, dir, "model.onnx")) {
        printf("FAIL %s: path too long\n", dir);
        t->failed++;
        return;
    }
    onyx_model *m = onyx_model_load(model, &err);
    if (!m) {
        if (err.status == ONYX_ERR_UNSUPPORTED) {
            printf("SKIP %s: %s\n", dir, err.msg);
            t->skipped++;
        } else {
            printf("FAIL %s: %s\n", dir, err.msg);
            t->failed++;
        }
        fflush(stdout);
        return;
    }
    char **sets;
    int n_sets = list_dir(dir, "test_data_set_", &sets);
    int result = n_sets ? 0 : 1;
    if (!n_sets) snprintf(why, sizeof why, "no test_data_set_* folders");
    for (int s = 0; s < n_sets && result == 0; s++) {
        char set[4400], w[1000];
        if (!path_join(set, sizeof set, dir, sets[s])) {
            snprintf(why, sizeof why, "path too long");
            result = 1;
            break;
        }
        result = run_data_set(m, set, w, sizeof w);
        if (result) snprintf(why, sizeof why, "%s: %s", sets[s], w);
    }
    free_list(sets, n_sets);
    onyx_model_free(m);
    if (result == 0) {
        printf("PASS %s\n", dir);
        t->passed++;
    } else if (result == 2) {
        printf("SKIP %s: %s\n", dir, why);
        t->skipped++;
    } else {
        printf("FAIL %s: %s\n", dir, why);
        t->failed++;
    }
    fflush(stdout);
}

static void run_test_path(const char *path, tally *t, int depth);

/* The next entry of a test list (comments and blank lines skipped) into
 * cand, resolved next to the list (base), in the current folder, then
 * under data; 0 at the end. */
static int next_list_entry(FILE *f, const char *base, const char *data,
                           char *cand, size_t cap)
{
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' ||
                     line[n - 1] == ' '))
            line[--n] = 0;
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s || *s == '#') continue;
        if (s[0] == '/')
            snprintf(cand, cap, "%s", s);
        else {
            snprintf(cand, cap, "%s/%s", base, s);
            if (!is_dir(cand)) snprintf(cand, cap, "%s", s);
            if (!is_dir(cand)) snprintf(cand, cap, "%s/%s", data, s);
        }
        return 1;
    }
    return 0;
}

static void run_list_file(const char *path, tally *t, int depth)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("FAIL %s: cannot open: %s\n", path, strerror(errno));
        t->failed++;
        return;
    }
    char base[4096];
    snprintf(base, sizeof base, "%s", path);
    char *slash = strrchr(base, '/');
    if (slash)
        *slash = 0;
    else
        snprintf(base, sizeof base, ".");
    const char *data = getenv("ONYX_TESTDATA");
    if (!data || !data[0]) data = "/usr/share/libonnx-testdata/data";
    /* a text file none of whose lines names a test folder or list is not
     * a list: one failure that says so, not one per line */
    char cand[8300];
    int entries = 0, found = 0;
    while (next_list_entry(f, base, data, cand, sizeof cand)) {
        entries++;
        found += is_dir(cand) || is_file(cand);
    }
    if (entries && !found) {
        printf("FAIL %s: not a test list: none of its %d line%s names a "
               "test folder (relative to the list, the current folder or "
               "%s)\n",
               path, entries, entries == 1 ? "" : "s", data);
        t->failed++;
        fclose(f);
        return;
    }
    rewind(f);
    while (next_list_entry(f, base, data, cand, sizeof cand))
        run_test_path(cand, t, depth + 1);
    fclose(f);
}

/* A test list is text: no NUL or other control bytes in its first 4 KB.
 * An ONNX model (protobuf) or a sound file never passes. */
static int is_text_file(const char *path)
{
    unsigned char buf[4096];
    FILE *f = fopen(path, "rb");
    if (!f) return 1; /* run_list_file reports why it cannot be opened */
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    for (size_t i = 0; i < n; i++)
        if (buf[i] < 0x20 && buf[i] != '\n' && buf[i] != '\r' && buf[i] != '\t')
            return 0;
    return 1;
}

static void run_test_path(const char *path, tally *t, int depth)
{
    char model[4400];
    if (depth > 8) {
        printf("FAIL %s: lists nested too deep\n", path);
        t->failed++;
        return;
    }
    if (is_file(path)) {
        size_t len = strlen(path);
        int onnx = len >= 5 && !strcmp(path + len - 5, ".onnx");
        if (onnx || !is_text_file(path)) {
            printf("FAIL %s: %s, not a test: onyx test takes a test folder "
                   "(model.onnx and test_data_set_*/), a folder of them, or "
                   "a text file listing them%s\n",
                   path, onnx ? "a model" : "a binary file",
                   onnx ? " (to run a model once: onyx run)" : "");
            t->failed++;
            return;
        }
        run_list_file(path, t, depth);
        return;
    }
    if (!is_dir(path)) {
        printf("FAIL %s: no such test folder or list\n", path);
        t->failed++;
        return;
    }
    if (path_join(model, sizeof model, path, "model.onnx") && is_file(model)) {
        run_test_dir(path, t);
        return;
    }
    char **subs;
    int n = list_dir(path, "", &subs);
    int any = 0;
    for (int i = 0; i < n; i++) {
        char sub[4400];
        if (path_join(sub, sizeof sub, path, subs[i]) &&
            path_join(model, sizeof model, sub, "model.onnx") &&
            is_file(model)) {
            run_test_dir(sub, t);
            any = 1;
        }
    }
    free_list(subs, n);
    if (!any) {
        printf("FAIL %s: no model.onnx in it or its subfolders\n", path);
        t->failed++;
    }
}

static int cmd_test(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (argv[i][0] == '-' && argv[i][1])
            return usage_error(usage_test, "unknown option '%s'", argv[i]);
    if (argc == 0) return usage_error(usage_test, "%s", "no PATH given");
    tally t = {0, 0, 0};
    for (int i = 0; i < argc; i++)
        run_test_path(argv[i], &t, 0);
    printf("%d passed, %d failed, %d skipped\n", t.passed, t.failed, t.skipped);
    return t.failed ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_main, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    int help = !strcmp(cmd, "help");
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || (help && argc == 2)) {
        fputs(usage_main, stdout);
        return 0;
    }
    if (help) cmd = argv[2]; /* onyx help COMMAND */
    struct {
        const char *name;
        int (*fn)(int, char **);
        const char *usage;
    } cmds[] = {
        {"info", cmd_info, usage_info},
        {"run", cmd_run, usage_run},
        {"test", cmd_test, usage_test},
        {"process", cmd_process, usage_process},
        {"bench", cmd_bench, usage_bench},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        if (strcmp(cmd, cmds[i].name)) continue;
        if (help || wants_help(argc - 2, argv + 2)) {
            fputs(cmds[i].usage, stdout);
            return 0;
        }
        return cmds[i].fn(argc - 2, argv + 2);
    }
    fprintf(stderr, "%s: unknown command '%s'\n\n%s", prog, cmd, usage_main);
    return EXIT_USAGE;
}
