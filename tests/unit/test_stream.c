/* test_stream.c - the streaming runner (onyx_stream.h) on tiny models built
 * here as ONNX bytes: signal/control/state classification, the latency of
 * every mode measured with an identity model, channel layouts, controls of
 * each dtype, state feedback and reset, and threaded mode with a real
 * worker thread, including one too slow for its budget. */
#include "../../src/engine/onyx_stream.h"
#include "../../src/engine/onyx_worker.h"

#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- a tiny ONNX writer ---- */
typedef struct buf {
    unsigned char *b;
    size_t n, cap;
} buf;

static void b_put(buf *o, const void *p, size_t n)
{
    if (o->n + n > o->cap) {
        o->cap = (o->n + n) * 2 + 64;
        o->b = realloc(o->b, o->cap);
        ck_assert_ptr_nonnull(o->b);
    }
    memcpy(o->b + o->n, p, n);
    o->n += n;
}
static void b_varint(buf *o, uint64_t v)
{
    do {
        unsigned char c = v & 0x7f;
        v >>= 7;
        if (v) c |= 0x80;
        b_put(o, &c, 1);
    } while (v);
}
static void b_key(buf *o, unsigned f, int wire)
{
    b_varint(o, (uint64_t)f << 3 | (unsigned)wire);
}
static void b_int(buf *o, unsigned f, int64_t v)
{
    b_key(o, f, 0);
    b_varint(o, (uint64_t)v);
}
static void b_bytes(buf *o, unsigned f, const void *p, size_t n)
{
    b_key(o, f, 2);
    b_varint(o, n);
    b_put(o, p, n);
}
static void b_str(buf *o, unsigned f, const char *s)
{
    b_bytes(o, f, s, strlen(s));
}
static void b_msg(buf *o, unsigned f, buf *m) /* consumes m */
{
    b_bytes(o, f, m->b, m->n);
    free(m->b);
    memset(m, 0, sizeof *m);
}

/* ValueInfoProto; dims "1,T,2": numbers are dim_value, names dim_param */
static void g_value(buf *g, unsigned field, const char *name, int dtype,
                    const char *dims)
{
    buf shape = {0}, tt = {0}, type = {0}, vi = {0};
    for (const char *p = dims; *p;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        char tok[64];
        memcpy(tok, p, l);
        tok[l] = 0;
        buf dim = {0};
        if (tok[0] >= '0' && tok[0] <= '9')
            b_int(&dim, 1, atoll(tok));
        else
            b_str(&dim, 2, tok);
        b_msg(&shape, 1, &dim);
        p += l + (e != NULL);
    }
    b_int(&tt, 1, dtype);
    b_msg(&tt, 2, &shape);
    b_msg(&type, 1, &tt);
    b_str(&vi, 1, name);
    b_msg(&vi, 2, &type);
    b_msg(g, field, &vi);
}
#define G_INPUT(g, nm, dt, dims)  g_value(g, 11, nm, dt, dims)
#define G_OUTPUT(g, nm, dt, dims) g_value(g, 12, nm, dt, dims)

/* TensorProto with raw data */
static void tensor(buf *t, const char *name, int dtype, int rank,
                   const int64_t *dims, const void *raw, size_t bytes)
{
    for (int d = 0; d < rank; d++)
        b_int(t, 1, dims[d]);
    b_int(t, 2, dtype);
    b_str(t, 8, name);
    b_bytes(t, 9, raw, bytes);
}
static void g_init(buf *g, const char *name, int dtype, int rank,
                   const int64_t *dims, const void *raw, size_t bytes)
{
    buf t = {0};
    tensor(&t, name, dtype, rank, dims, raw, bytes);
    b_msg(g, 5, &t);
}

/* attributes: an int, a list of ints */
static void a_int(buf *a, const char *name, int64_t v)
{
    buf at = {0};
    b_str(&at, 1, name);
    b_int(&at, 3, v);
    b_int(&at, 20, 2);
    b_msg(a, 5, &at);
}
static void a_ints(buf *a, const char *name, int n, const int64_t *v)
{
    buf at = {0};
    b_str(&at, 1, name);
    for (int i = 0; i < n; i++)
        b_int(&at, 8, v[i]);
    b_int(&at, 20, 7);
    b_msg(a, 5, &at);
}

/* NodeProto; ins and outs comma-separated; attrs (consumed) may be NULL */
static void g_node(buf *g, const char *op, const char *ins, const char *outs,
                   buf *attrs)
{
    buf nd = {0};
    for (int k = 0; k < 2; k++) {
        const char *p = k ? outs : ins;
        while (*p) {
            const char *e = strchr(p, ',');
            size_t l = e ? (size_t)(e - p) : strlen(p);
            b_bytes(&nd, k ? 2 : 1, p, l);
            p += l + (e != NULL);
        }
    }
    b_str(&nd, 4, op);
    if (attrs && attrs->n) b_put(&nd, attrs->b, attrs->n);
    if (attrs) {
        free(attrs->b);
        memset(attrs, 0, sizeof *attrs);
    }
    b_msg(g, 1, &nd);
}

/* A loaded model and the bytes it borrows. */
typedef struct tmodel {
    buf bytes;
    onyx_model *m;
} tmodel;

static onyx_model *t_load(tmodel *t, buf *g)
{
    buf opset = {0};
    memset(t, 0, sizeof *t);
    b_int(&t->bytes, 1, 7); /* ir_version */
    b_str(&opset, 1, "");
    b_int(&opset, 2, 11);
    b_msg(&t->bytes, 8, &opset);
    b_str(g, 2, "g");
    b_msg(&t->bytes, 7, g);
    onyx_error err = {0};
    t->m = onyx_model_load_memory(t->bytes.b, t->bytes.n, "test", &err);
    ck_assert_msg(t->m != NULL, "%s", err.msg);
    return t->m;
}
static void t_free(tmodel *t)
{
    onyx_model_free(t->m);
    free(t->bytes.b);
}

enum { F32 = 1, I64 = 7, BOOL = 9 };

/* y = Identity(x), x of the given dims */
static onyx_model *m_identity(tmodel *t, const char *dims)
{
    buf g = {0};
    G_INPUT(&g, "x", F32, dims);
    g_node(&g, "Identity", "x", "y", NULL);
    G_OUTPUT(&g, "y", F32, dims);
    return t_load(t, &g);
}

/* x (1,T,2) interleaved, g (1,2) a control: y (1,2,T) = transpose(x * g) */
static onyx_model *m_gain(tmodel *t)
{
    buf g = {0}, a = {0};
    G_INPUT(&g, "x", F32, "1,T,2");
    G_INPUT(&g, "g", F32, "1,2");
    g_node(&g, "Mul", "x,g", "xg", NULL);
    a_ints(&a, "perm", 3, (int64_t[]){0, 2, 1});
    g_node(&g, "Transpose", "xg", "y", &a);
    G_OUTPUT(&g, "y", F32, "1,2,T");
    return t_load(t, &g);
}

/* The running sum: y = x + h; h_out = h + sum(x); blocksum = sum(x).
 * x (1,1,T), h and h_out (1,1,1) a state pair, blocksum a control. */
static onyx_model *m_accum(tmodel *t)
{
    buf g = {0}, a = {0};
    G_INPUT(&g, "x", F32, "1,1,T");
    G_INPUT(&g, "h", F32, "1,1,1");
    a_ints(&a, "axes", 1, (int64_t[]){2});
    a_int(&a, "keepdims", 1);
    g_node(&g, "ReduceSum", "x", "blocksum", &a);
    g_node(&g, "Add", "h,blocksum", "h_out", NULL);
    g_node(&g, "Add", "x,h", "y", NULL);
    G_OUTPUT(&g, "y", F32, "1,1,T");
    G_OUTPUT(&g, "h_out", F32, "1,1,1");
    G_OUTPUT(&g, "blocksum", F32, "1,1,1");
    return t_load(t, &g);
}

/* y = (x + table[idx]) * float(on): idx int64 (1,), on bool (1,) controls,
 * table = {10, 20, 30} */
static onyx_model *m_table(tmodel *t)
{
    buf g = {0}, a = {0};
    const float table[] = {10, 20, 30};
    g_init(&g, "table", F32, 1, (int64_t[]){3}, table, sizeof table);
    G_INPUT(&g, "x", F32, "1,1,T");
    G_INPUT(&g, "idx", I64, "1");
    G_INPUT(&g, "on", BOOL, "1");
    g_node(&g, "Gather", "table,idx", "v", NULL);
    a_int(&a, "to", 1);
    g_node(&g, "Cast", "on", "onf", &a);
    g_node(&g, "Add", "x,v", "xv", NULL);
    g_node(&g, "Mul", "xv,onf", "y", NULL);
    G_OUTPUT(&g, "y", F32, "1,1,T");
    return t_load(t, &g);
}

/* an attribute holding a graph (consumed) */
static void a_graph(buf *a, const char *name, buf *sub)
{
    buf at = {0};
    b_str(&at, 1, name);
    b_msg(&at, 6, sub);
    b_int(&at, 20, 5); /* GRAPH */
    b_msg(a, 5, &at);
}

/* Silero's shape: y = If(sr == 16000) then -x else MatMul(x, w), x and y
 * (1,4) signals, sr int64 (1) a control. w is (3,1): the else branch cannot
 * be prepared for x (1,4), so the resolver drops it, and sr != 16000 is an
 * error at run time. */
static onyx_model *m_rate_branch(tmodel *t)
{
    buf g = {0}, th = {0}, el = {0}, a = {0};
    const int64_t rate = 16000;
    const float w[3] = {1, 2, 3};
    g_init(&g, "rate", I64, 1, (int64_t[]){1}, &rate, sizeof rate);
    G_INPUT(&g, "x", F32, "1,4");
    G_INPUT(&g, "sr", I64, "1");
    g_node(&g, "Equal", "sr,rate", "is16k", NULL);
    g_node(&th, "Neg", "x", "yt", NULL);
    G_OUTPUT(&th, "yt", F32, "1,4");
    b_str(&th, 2, "then");
    g_init(&el, "w", F32, 2, (int64_t[]){3, 1}, w, sizeof w);
    g_node(&el, "MatMul", "x,w", "ye", NULL);
    G_OUTPUT(&el, "ye", F32, "1,4");
    b_str(&el, 2, "else");
    a_graph(&a, "then_branch", &th);
    a_graph(&a, "else_branch", &el);
    g_node(&g, "If", "is16k", "y", &a);
    G_OUTPUT(&g, "y", F32, "1,4");
    return t_load(t, &g);
}

/* ---- helpers ---- */

static onyx_stream *new_stream(const onyx_model *m, int block, int all_controls)
{
    onyx_stream_config cfg = {.block = block, .all_controls = all_controls};
    onyx_error err = {0};
    onyx_stream *s = onyx_stream_new(m, &cfg, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    return s;
}

static void start(onyx_stream *s, int n, int threaded)
{
    onyx_error err = {0};
    ck_assert_msg(onyx_stream_start(s, n, threaded, &err) == ONYX_OK, "%s",
                  err.msg);
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* The engine's worker thread (onyx_worker.h), as the Pd objects and the
 * command run it, playing stream s. */
typedef struct worker {
    onyx_worker w;
    onyx_worker_item item;
} worker;

static void worker_start(worker *w, onyx_stream *s)
{
    onyx_worker_init(&w->w, NULL);
    w->item.stream = s;
    onyx_worker_swap(&w->w, &w->item);
    ck_assert_int_eq(onyx_worker_start(&w->w, NULL), 0);
}
static void worker_stop(worker *w)
{
    onyx_worker_stop(&w->w);
}

/* ---- classification ---- */

START_TEST(classify_examples)
{
    static const struct {
        const char *dims;
        int block, want_block, channels;
    } ex[] = {
        {"1,1024", 0, 1024, 1},   {"1,1,1024", 0, 1024, 1},
        {"1,T,1", 0, 64, 1},      {"1,T,2", 0, 64, 2},
        {"1,T,2", 32, 32, 2},     {"1,2,T", 100, 100, 2},
        {"batch,T,3", 16, 16, 3}, {"T", 8, 8, 1},
        {"1,1,1", 0, 1, 1}, /* a static per-sample model */
    };
    for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
        tmodel t;
        onyx_stream *s = new_stream(m_identity(&t, ex[i].dims), ex[i].block, 0);
        ck_assert_int_eq(onyx_stream_block(s), ex[i].want_block);
        ck_assert_int_eq(onyx_stream_signal_inputs(s), ex[i].channels);
        ck_assert_int_eq(onyx_stream_signal_outputs(s), ex[i].channels);
        ck_assert_int_eq(onyx_stream_num_controls_in(s), 0);
        ck_assert_int_eq(onyx_stream_num_controls_out(s), 0);
        onyx_stream_free(s);
        t_free(&t);
    }
}
END_TEST

START_TEST(classify_controls_and_states)
{
    tmodel t;
    onyx_stream *s = new_stream(m_accum(&t), 4, 0);
    ck_assert_int_eq(onyx_stream_num_states(s), 1);
    ck_assert_int_eq(onyx_stream_signal_inputs(s), 1);
    ck_assert_int_eq(onyx_stream_signal_outputs(s), 1);
    ck_assert_int_eq(onyx_stream_num_controls_in(s), 0);
    ck_assert_int_eq(onyx_stream_num_controls_out(s), 1);
    ck_assert_str_eq(onyx_stream_control_out_name(s, 0), "blocksum");
    ck_assert_int_eq(onyx_stream_control_out_size(s, 0), 1);
    onyx_stream_free(s);
    /* B = 1: (1,1,1) blocksum is still a control (its dims are static in a
     * model whose time is symbolic) */
    s = new_stream(t.m, 1, 0);
    ck_assert_int_eq(onyx_stream_num_controls_out(s), 1);
    ck_assert_int_eq(onyx_stream_signal_inputs(s), 1);
    onyx_stream_free(s);
    t_free(&t);

    s = new_stream(m_gain(&t), 0, 0);
    ck_assert_int_eq(onyx_stream_block(s), 64);
    ck_assert_int_eq(onyx_stream_signal_inputs(s), 2);
    ck_assert_int_eq(onyx_stream_signal_outputs(s), 2);
    ck_assert_int_eq(onyx_stream_num_controls_in(s), 1);
    ck_assert_str_eq(onyx_stream_control_in_name(s, 0), "g");
    ck_assert_int_eq(onyx_stream_control_in_size(s, 0), 2);
    ck_assert_int_eq(onyx_stream_find_control_in(s, "g"), 0);
    ck_assert_int_eq(onyx_stream_find_control_in(s, "x"), -1);
    onyx_stream_free(s);
    t_free(&t);
}
END_TEST

START_TEST(explicit_state_pair)
{
    /* y = x + mem; next = mem + 1: the pair mem:next is named by the caller */
    buf g = {0};
    const float one = 1;
    g_init(&g, "one", F32, 0, NULL, &one, sizeof one);
    G_INPUT(&g, "x", F32, "1,T");
    G_INPUT(&g, "mem", F32, "1");
    g_node(&g, "Add", "x,mem", "y", NULL);
    g_node(&g, "Add", "mem,one", "next", NULL);
    G_OUTPUT(&g, "y", F32, "1,T");
    G_OUTPUT(&g, "next", F32, "1");
    tmodel t;
    t_load(&t, &g);
    const char *pin[] = {"mem"}, *pout[] = {"next"};
    onyx_stream_config cfg = {
        .block = 2, .n_pairs = 1, .pair_in = pin, .pair_out = pout};
    onyx_error err = {0};
    onyx_stream *s = onyx_stream_new(t.m, &cfg, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    ck_assert_int_eq(onyx_stream_num_states(s), 1);
    ck_assert_int_eq(onyx_stream_num_controls_in(s), 0);
    start(s, 2, 0);
    float x[2] = {5, 6}, y[2];
    const float *in[] = {x};
    float *out[] = {y};
    for (int k = 0; k < 3; k++) {
        onyx_stream_process(s, in, out, 2);
        ck_assert_float_eq(y[0], 5 + k);
        ck_assert_float_eq(y[1], 6 + k);
    }
    onyx_stream_free(s);
    /* a pair naming a missing output, and one whose shapes differ */
    const char *bad_out[] = {"nope"}, *bad_in[] = {"x"}, *y_out[] = {"next"};
    cfg.pair_out = bad_out;
    ck_assert_ptr_null(onyx_stream_new(t.m, &cfg, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "no output named 'nope'"));
    cfg.pair_in = bad_in;
    cfg.pair_out = y_out;
    ck_assert_ptr_null(onyx_stream_new(t.m, &cfg, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "differ"));
    t_free(&t);
}
END_TEST

START_TEST(refuse_int64_signal)
{
    buf g = {0}, a = {0};
    G_INPUT(&g, "x", I64, "1,T");
    a_int(&a, "to", 1);
    g_node(&g, "Cast", "x", "y", &a);
    G_OUTPUT(&g, "y", F32, "1,T");
    tmodel t;
    t_load(&t, &g);
    onyx_stream_config cfg = {.block = 16};
    onyx_error err = {0};
    ck_assert_ptr_null(onyx_stream_new(t.m, &cfg, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "input 'x'"));
    ck_assert_ptr_nonnull(strstr(err.msg, "signals must be float32"));
    t_free(&t);
}
END_TEST

START_TEST(controls_only)
{
    /* (1,2) -> Relu -> (1,2): with block 64 nothing is a signal: refused
     * for [onyx~], fine for [onyx] (all_controls) */
    tmodel t;
    m_identity(&t, "1,2");
    onyx_stream_config cfg = {.block = 64};
    onyx_error err = {0};
    ck_assert_ptr_null(onyx_stream_new(t.m, &cfg, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "no signal input or output"));
    ck_assert_ptr_nonnull(strstr(err.msg, "[onyx]"));
    onyx_stream *s = new_stream(t.m, 0, 1);
    ck_assert_int_eq(
        onyx_stream_signal_inputs(s) + onyx_stream_signal_outputs(s), 0);
    ck_assert_int_eq(onyx_stream_num_controls_in(s), 1);
    ck_assert_int_eq(onyx_stream_num_controls_out(s), 1);
    float v[2] = {3, -4}, got[2] = {0, 0};
    float *dst[] = {got};
    ck_assert_uint_eq(onyx_stream_poll_controls(s, dst), 0);
    ck_assert_int_eq(onyx_stream_set_control(s, 0, v, 2), ONYX_OK);
    ck_assert_int_eq(onyx_stream_set_control(s, 0, v, 3), ONYX_ERR_INVALID);
    ck_assert_int_eq(onyx_stream_set_control(s, 1, v, 2), ONYX_ERR_INVALID);
    ck_assert_int_eq(onyx_stream_run(s, &err), ONYX_OK);
    ck_assert_uint_eq(onyx_stream_poll_controls(s, dst), 1);
    ck_assert_float_eq(got[0], 3);
    ck_assert_float_eq(got[1], -4);
    onyx_stream_stats st;
    onyx_stream_get_stats(s, &st);
    ck_assert_uint_eq(st.inferences, 1);
    onyx_stream_free(s);
    t_free(&t);

    /* all_controls binds a symbolic time to 1 unless told: an mdrnn-like
     * (1,T,3) input takes 3 values per step */
    s = new_stream(m_identity(&t, "1,T,3"), 0, 1);
    ck_assert_int_eq(onyx_stream_block(s), 1);
    ck_assert_int_eq(onyx_stream_control_in_size(s, 0), 3);
    onyx_stream_free(s);
    t_free(&t);
}
END_TEST

/* ---- latency: an identity model, x[t] = t + 1, must come out as
 * y[t] = x[t - L] (0 before) ---- */

/* Feeds x[t] = t + 1 through a started identity stream and checks
 * y[t] = x[t - L]. Threaded: waits (here, not in process) after each call
 * until every job handed over has run, so that none is late. */
static void drive_identity(onyx_stream *s, int n, int threaded,
                           int want_latency)
{
    int B = onyx_stream_block(s);
    ck_assert_int_eq(onyx_stream_latency(s), want_latency);
    int J = (n + B - 1) / B, JN = threaded ? J * B : n % B ? B : n;
    int calls = (want_latency + 4 * JN) / n + 4;
    float *x = malloc(sizeof(float) * (size_t)n),
          *y = malloc(sizeof(float) * (size_t)n);
    long fed = 0;
    for (int c = 0; c < calls; c++) {
        for (int i = 0; i < n; i++)
            x[i] = (float)(fed + i + 1);
        const float *in[] = {x};
        float *out[] = {y};
        onyx_stream_process(s, in, out, n);
        for (int i = 0; i < n; i++) {
            long tt = fed + i;
            float want =
                tt < want_latency ? 0.f : (float)(tt - want_latency + 1);
            ck_assert_msg(y[i] == want, "B=%d n=%d %s: y[%ld] = %g, want %g", B,
                          n, threaded ? "threaded" : "sync", tt, y[i], want);
        }
        fed += n;
        onyx_stream_stats st;
        uint64_t want_inf = (uint64_t)(fed / JN) * (uint64_t)(JN / B);
        for (int k = 0; k < 200000; k++) {
            onyx_stream_get_stats(s, &st);
            if (st.inferences >= want_inf) break;
            sleep_us(20);
        }
        ck_assert_uint_eq(st.inferences, want_inf);
    }
    onyx_stream_stats st;
    onyx_stream_get_stats(s, &st);
    ck_assert_uint_eq(st.overruns, 0);
    ck_assert_uint_eq(st.errors, 0);
    free(x);
    free(y);
}

static void check_identity(int B, int n, int threaded, int want_latency)
{
    tmodel t;
    onyx_stream *s = new_stream(m_identity(&t, "1,1,T"), B, 0);
    start(s, n, threaded);
    worker w;
    if (threaded) worker_start(&w, s);
    drive_identity(s, n, threaded, want_latency);
    if (threaded) worker_stop(&w);
    onyx_stream_free(s);
    t_free(&t);
}

/* latency: sync 0 when n % B == 0, else B; threaded 2 * ceil(n/B) * B */
static const int lat_B[] = {1, 32, 64, 100, 1024};
static const int lat_sync64[] = {0, 0, 0, 100, 1024};
static const int lat_thr64[] = {128, 128, 128, 200, 2048};
static const int lat_sync1024[] = {0, 0, 0, 100, 0};
static const int lat_thr1024[] = {2048, 2048, 2048, 2200, 2048};

START_TEST(latency_sync_n64)
{
    check_identity(lat_B[_i], 64, 0, lat_sync64[_i]);
}
END_TEST
START_TEST(latency_threaded_n64)
{
    check_identity(lat_B[_i], 64, 1, lat_thr64[_i]);
}
END_TEST
START_TEST(latency_sync_n1024)
{
    check_identity(lat_B[_i], 1024, 0, lat_sync1024[_i]);
}
END_TEST
START_TEST(latency_threaded_n1024)
{
    check_identity(lat_B[_i], 1024, 1, lat_thr1024[_i]);
}
END_TEST

START_TEST(latency_odd_blocks)
{
    check_identity(48, 64, 0, 48);  /* B < n, not a divisor */
    check_identity(48, 64, 1, 192); /* J = 2 */
    check_identity(3, 4, 0, 3);
    check_identity(7, 5, 1, 14);
}
END_TEST

/* ---- layouts and controls ---- */

START_TEST(interleaved_in_channel_major_out)
{
    tmodel t;
    onyx_stream *s = new_stream(m_gain(&t), 4, 0);
    start(s, 8, 0);
    float x0[8], x1[8], y0[8], y1[8];
    for (int i = 0; i < 8; i++)
        x0[i] = (float)(i + 1), x1[i] = (float)(10 * (i + 1));
    const float *in[] = {x0, x1};
    float *out[] = {y0, y1};
    onyx_stream_process(s, in, out, 8); /* g is 0 until set */
    for (int i = 0; i < 8; i++)
        ck_assert(y0[i] == 0 && y1[i] == 0);
    ck_assert_int_eq(onyx_stream_set_control(s, 0, (float[]){2, -1}, 2),
                     ONYX_OK);
    onyx_stream_process(s, in, out, 8);
    for (int i = 0; i < 8; i++) {
        ck_assert_float_eq(y0[i], 2 * (i + 1));
        ck_assert_float_eq(y1[i], -10 * (i + 1));
    }
    /* in place: the outlets' buffers are the inlets' */
    float *io[] = {x0, x1};
    onyx_stream_process(s, (const float *const *)io, io, 8);
    for (int i = 0; i < 8; i++) {
        ck_assert_float_eq(x0[i], 2 * (i + 1));
        ck_assert_float_eq(x1[i], -10 * (i + 1));
    }
    /* crossed: outlet 0 is inlet 1's buffer and outlet 1 inlet 0's */
    for (int i = 0; i < 8; i++)
        x0[i] = 1, x1[i] = 3;
    float *cross[] = {x1, x0};
    onyx_stream_process(s, in, cross, 8);
    for (int i = 0; i < 8; i++) {
        ck_assert_float_eq(x1[i], 2);
        ck_assert_float_eq(x0[i], -3);
    }
    onyx_stream_free(s);
    t_free(&t);
}
END_TEST

START_TEST(int64_and_bool_controls)
{
    tmodel t;
    onyx_stream *s = new_stream(m_table(&t), 4, 0);
    ck_assert_int_eq(onyx_stream_num_controls_in(s), 2);
    int idx = onyx_stream_find_control_in(s, "idx"),
        on = onyx_stream_find_control_in(s, "on");
    ck_assert(idx >= 0 && on >= 0);
    start(s, 4, 0);
    float x[4] = {1, 2, 3, 4}, y[4];
    const float *in[] = {x};
    float *out[] = {y};
    onyx_stream_set_control(s, idx, (float[]){1.6f}, 1); /* rounds to 2 */
    onyx_stream_set_control(s, on, (float[]){0.7f}, 1);  /* true */
    onyx_stream_process(s, in, out, 4);
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq(y[i], x[i] + 30);
    onyx_stream_set_control(s, idx, (float[]){-0.2f}, 1); /* 0 */
    onyx_stream_process(s, in, out, 4);
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq(y[i], x[i] + 10);
    onyx_stream_set_control(s, on, (float[]){0}, 1);
    onyx_stream_process(s, in, out, 4);
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq(y[i], 0);

    /* an index out of range: an inference error, silence, counted, and the
     * message names the node */
    onyx_stream_set_control(s, on, (float[]){1}, 1);
    onyx_stream_set_control(s, idx, (float[]){7}, 1);
    onyx_error err = {0};
    ck_assert_int_eq(onyx_stream_last_error(s, &err), ONYX_OK);
    onyx_stream_process(s, in, out, 4);
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq(y[i], 0);
    onyx_stream_stats st;
    onyx_stream_get_stats(s, &st);
    ck_assert_uint_eq(st.errors, 1);
    ck_assert_uint_eq(st.inferences, 3);
    ck_assert_int_eq(onyx_stream_last_error(s, &err), ONYX_ERR_RUNTIME);
    ck_assert_ptr_nonnull(strstr(err.msg, "Gather"));
    onyx_stream_set_control(s, idx, (float[]){1}, 1); /* and it recovers */
    onyx_stream_process(s, in, out, 4);
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq(y[i], x[i] + 20);
    onyx_stream_free(s);
    t_free(&t);
}
END_TEST

/* ---- timing: sync process() reads no clock; calibrate times the model on
 * a private instance and leaves the stream's state alone ---- */

START_TEST(sync_timing_by_calibration)
{
    tmodel t;
    onyx_stream *s = new_stream(m_accum(&t), 4, 0);
    start(s, 4, 0);
    float x[4] = {1, 2, 3, 4}, y[4];
    const float *in[] = {x};
    float *out[] = {y};
    onyx_stream_process(s, in, out, 4); /* h: 0 -> 10 */
    onyx_stream_stats st;
    onyx_stream_get_stats(s, &st);
    ck_assert_uint_eq(st.inferences, 1);
    ck_assert(!st.calibrated && st.mean_us == 0 && st.max_us == 0);
    onyx_error err = {0};
    ck_assert_int_eq(onyx_stream_calibrate(s, 5, &err), ONYX_OK);
    onyx_stream_get_stats(s, &st);
    ck_assert(st.calibrated);
    ck_assert_uint_ge(st.calib_runs, 1);
    ck_assert_uint_le(st.calib_runs, 5);
    ck_assert(st.mean_us >= 0 && st.mean_us <= st.max_us + 1e-9);
    ck_assert_uint_eq(st.inferences, 1); /* calibration runs are not counted */
    onyx_stream_process(s, in, out, 4);  /* the state went on from 10 */
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq(y[i], x[i] + 10);
    start(s, 4, 0); /* start keeps the calibration */
    onyx_stream_get_stats(s, &st);
    ck_assert(st.calibrated);
    onyx_stream_free(s);
    t_free(&t);
}
END_TEST

/* Calibration runs the branch playing runs: with the controls as set, not
 * zeros (sr = 0 would take the branch that cannot run). */
START_TEST(calibration_uses_the_controls)
{
    tmodel t;
    onyx_stream *s = new_stream(m_rate_branch(&t), 4, 0);
    ck_assert_int_eq(onyx_stream_branches(s), 1);
    start(s, 4, 0);
    onyx_error err = {0};
    ck_assert_int_eq(onyx_stream_calibrate(s, 3, &err), ONYX_ERR_RUNTIME);
    ck_assert_ptr_nonnull(strstr(err.msg, "chose the else branch"));
    onyx_stream_stats st;
    onyx_stream_get_stats(s, &st);
    ck_assert(!st.calibrated);
    const float sr = 16000;
    ck_assert_int_eq(onyx_stream_set_control(s, 0, &sr, 1), ONYX_OK);
    ck_assert_int_eq(onyx_stream_calibrate(s, 3, &err), ONYX_OK);
    onyx_stream_get_stats(s, &st);
    ck_assert(st.calibrated && st.calib_runs >= 1);
    onyx_stream_free(s);
    t_free(&t);

    tmodel t2;
    s = new_stream(m_gain(&t2), 4, 0);
    ck_assert_int_eq(onyx_stream_branches(s), 0);
    onyx_stream_free(s);
    t_free(&t2);
}
END_TEST

/* A control that chooses a branch the resolver dropped: each inference
 * fails (counted, its block silent), the reason is kept for the control
 * side, and a good value plays again. process() is on the audio thread:
 * the failure only stores atomics (tests/pd/rtcheck.c checks that). */
START_TEST(runtime_branch_error_is_silence_and_reported)
{
    tmodel t;
    onyx_stream *s = new_stream(m_rate_branch(&t), 4, 0);
    start(s, 4, 0);
    float x[4] = {1, 2, 3, 4}, y[4];
    const float *in[] = {x};
    float *out[] = {y};
    const float good = 16000, bad = 8000;
    onyx_error err = {0};
    ck_assert_int_eq(onyx_stream_set_control(s, 0, &good, 1), ONYX_OK);
    onyx_stream_process(s, in, out, 4);
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq(y[i], -x[i]);
    ck_assert_int_eq(onyx_stream_last_error(s, &err), ONYX_OK);

    ck_assert_int_eq(onyx_stream_set_control(s, 0, &bad, 1), ONYX_OK);
    for (int k = 1; k <= 3; k++) {
        y[0] = y[1] = y[2] = y[3] = 7;
        onyx_stream_process(s, in, out, 4);
        for (int i = 0; i < 4; i++)
            ck_assert_float_eq(y[i], 0);
        onyx_stream_stats st;
        onyx_stream_get_stats(s, &st);
        ck_assert_uint_eq(st.errors, (uint64_t)k);
        ck_assert_uint_eq(st.inferences, 1);
    }
    ck_assert_int_eq(onyx_stream_last_error(s, &err), ONYX_ERR_RUNTIME);
    ck_assert_ptr_nonnull(strstr(err.msg, "(IfSelect): the condition chose "
                                          "the else branch, which cannot run"));
    ck_assert_ptr_nonnull(strstr(err.msg, "(MatMul)"));

    ck_assert_int_eq(onyx_stream_set_control(s, 0, &good, 1), ONYX_OK);
    onyx_stream_process(s, in, out, 4);
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq(y[i], -x[i]);
    onyx_stream_free(s);
    t_free(&t);
}
END_TEST

/* ---- state feedback ---- */

START_TEST(state_fed_back_and_reset)
{
    tmodel t;
    onyx_stream *s = new_stream(m_accum(&t), 4, 0);
    start(s, 4, 0);
    float x[4] = {1, 2, 3, 4}, y[4], sum = -1;
    const float *in[] = {x};
    float *out[] = {y};
    float *dst[] = {&sum};
    ck_assert_uint_eq(onyx_stream_poll_controls(s, dst), 0);
    for (int k = 0; k < 3; k++) { /* h = 0, 10, 20 */
        onyx_stream_process(s, in, out, 4);
        for (int i = 0; i < 4; i++)
            ck_assert_float_eq(y[i], x[i] + 10 * k);
        ck_assert_uint_eq(onyx_stream_poll_controls(s, dst), (uint64_t)k + 1);
        ck_assert_float_eq(sum, 10);
    }
    onyx_stream_reset(s);
    onyx_stream_process(s, in, out, 4);
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq(y[i], x[i]);
    onyx_stream_free(s);

    /* per sample (B = 1, four inferences per call): y[t] = sum x[0..t] */
    s = new_stream(t.m, 1, 0);
    start(s, 4, 0);
    onyx_stream_process(s, in, out, 4);
    ck_assert_float_eq(y[0], 1);
    ck_assert_float_eq(y[1], 3);
    ck_assert_float_eq(y[2], 6);
    ck_assert_float_eq(y[3], 10);
    ck_assert_uint_eq(onyx_stream_poll_controls(s, dst), 4);
    ck_assert_float_eq(sum, 4);
    onyx_stream_process(s, in, out, 4);
    ck_assert_float_eq(y[0], 11);
    ck_assert_float_eq(y[3], 20);
    onyx_stream_stats st;
    onyx_stream_get_stats(s, &st);
    ck_assert_uint_eq(st.inferences, 8);
    ck_assert(st.max_us >= 0 && st.mean_us <= st.max_us + 1e-9);
    /* start clears the state and the statistics */
    start(s, 4, 0);
    onyx_stream_process(s, in, out, 4);
    ck_assert_float_eq(y[3], 10);
    onyx_stream_get_stats(s, &st);
    ck_assert_uint_eq(st.inferences, 4);
    onyx_stream_free(s);

    /* run(): one inference on what the inputs hold, state fed back */
    s = new_stream(t.m, 2, 0);
    onyx_error err = {0};
    ck_assert_int_eq(onyx_stream_run(s, &err), ONYX_OK);
    ck_assert_int_eq(onyx_stream_run(s, &err), ONYX_OK);
    ck_assert_uint_eq(onyx_stream_poll_controls(s, dst), 2);
    ck_assert_float_eq(sum, 0);
    onyx_stream_free(s);
    t_free(&t);
}
END_TEST

START_TEST(state_threaded)
{
    /* the running sum through the worker: same numbers, 2*J*B later */
    tmodel t;
    onyx_stream *s = new_stream(m_accum(&t), 1, 0);
    start(s, 4, 1);
    ck_assert_int_eq(onyx_stream_latency(s), 8);
    worker w;
    worker_start(&w, s);
    float x[4] = {1, 1, 1, 1}, y[4];
    const float *in[] = {x};
    float *out[] = {y};
    for (int c = 0; c < 6; c++) {
        onyx_stream_process(s, in, out, 4);
        for (int i = 0; i < 4; i++) {
            int tt = 4 * c + i;
            ck_assert_float_eq(y[i], tt < 8 ? 0 : tt - 8 + 1);
        }
        onyx_stream_stats st;
        do {
            sleep_us(20);
            onyx_stream_get_stats(s, &st);
        } while (st.inferences < 4u * (unsigned)(c + 1));
    }
    worker_stop(&w);
    onyx_stream_free(s);
    t_free(&t);
}
END_TEST

/* ---- threads ---- */

/* A control thread sets g = {v, v} over and over while the audio side
 * runs: with equal inputs on both channels, the outputs of one inference
 * are always equal (an inference never sees half a control). */
typedef struct setter {
    onyx_stream *s;
    atomic_int stop;
} setter;

static void *setter_main(void *arg)
{
    setter *st = arg;
    for (int k = 1; !atomic_load(&st->stop); k++) {
        float v[2] = {(float)k, (float)k};
        onyx_stream_set_control(st->s, 0, v, 2);
    }
    return NULL;
}

START_TEST(controls_never_torn)
{
    tmodel t;
    onyx_stream *s = new_stream(m_gain(&t), 1, 0);
    start(s, 64, 0);
    setter st = {.s = s};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, setter_main, &st), 0);
    float x[64], y0[64], y1[64];
    for (int i = 0; i < 64; i++)
        x[i] = 1;
    const float *in[] = {x, x};
    float *out[] = {y0, y1};
    float last = 0;
    for (int c = 0; c < 2000; c++) {
        onyx_stream_process(s, in, out, 64);
        for (int i = 0; i < 64; i++) {
            ck_assert_float_eq(y0[i], y1[i]);
            ck_assert(y0[i] >= last); /* never an older value */
            last = y0[i];
        }
    }
    atomic_store(&st.stop, 1);
    pthread_join(th, NULL);
    onyx_stream_free(s);
    t_free(&t);
}
END_TEST

/* y = x + 0 * sum over a big (1,K,T) expansion of x: an identity that takes
 * milliseconds per inference. */
static onyx_model *m_slow(tmodel *t, int64_t K)
{
    buf g = {0}, a = {0};
    const int64_t shape[] = {1, K, 1};
    const float zero = 0;
    g_init(&g, "shape", I64, 1, (int64_t[]){3}, shape, sizeof shape);
    g_init(&g, "zero", F32, 0, NULL, &zero, sizeof zero);
    G_INPUT(&g, "x", F32, "1,1,T");
    g_node(&g, "Expand", "x,shape", "big", NULL);
    a_ints(&a, "axes", 1, (int64_t[]){1});
    a_int(&a, "keepdims", 1);
    g_node(&g, "ReduceSum", "big", "s", &a);
    g_node(&g, "Mul", "s,zero", "s0", NULL);
    g_node(&g, "Add", "x,s0", "y", NULL);
    G_OUTPUT(&g, "y", F32, "1,1,T");
    return t_load(t, &g);
}

START_TEST(threaded_overruns_never_block)
{
    tmodel t;
    int n = 64;
    onyx_stream *s = new_stream(m_slow(&t, 1 << 15), n, 0);
    start(s, n, 1);
    int L = onyx_stream_latency(s);
    ck_assert_int_eq(L, 128);
    worker w;
    worker_start(&w, s);
    float x[64], y[64];
    const float *in[] = {x};
    float *out[] = {y};
    long fed = 0;
    int calls = 400, during = 0, played = 0, silent = 0;
    for (int c = 0; c < calls; c++) {
        for (int i = 0; i < n; i++)
            x[i] = (float)(fed + i + 1);
        onyx_stream_stats st0, st1;
        onyx_stream_get_stats(s, &st0);
        int busy_before = atomic_load(&w.w.busy);
        onyx_stream_process(s, in, out, n);
        int busy_after = atomic_load(&w.w.busy);
        onyx_stream_get_stats(s, &st1);
        /* process() returned while one inference was running throughout */
        if (busy_before && busy_after && st1.inferences == st0.inferences)
            during++;
        /* each block is either silence or exactly the input L earlier */
        if (fed >= L) {
            int zero = y[0] == 0;
            for (int i = 0; i < n; i++) {
                float want = zero ? 0.f : (float)(fed + i - L + 1);
                ck_assert_msg(y[i] == want, "y[%ld] = %g, want %g", fed + i,
                              y[i], want);
            }
            if (zero)
                silent++;
            else
                played++;
        }
        fed += n;
        sleep_us(100); /* ~0.1 ms per block: far less than an inference */
    }
    worker_stop(&w);
    onyx_stream_stats st;
    onyx_stream_get_stats(s, &st);
    ck_assert_uint_gt(st.overruns, 0);
    ck_assert_int_gt(silent, 0);
    /* every silent block was an overrun; the last boundary's may be one
     * more, due in a call not made */
    ck_assert_uint_ge(st.overruns, (uint64_t)silent);
    ck_assert_uint_le(st.overruns, (uint64_t)silent + 1);
    ck_assert_int_gt(during, 0);
    ck_assert_uint_le(st.inferences, (uint64_t)calls);
    ck_assert_uint_ge(st.inferences, (uint64_t)played);
    ck_assert_uint_eq(st.errors, 0);
    onyx_stream_free(s);
    t_free(&t);
}
END_TEST

/* Offline (onyx_stream_set_wait): process() called back to back, far
 * faster than the worker, plays every job: the running sum of a stateful
 * model exactly as in sync mode, 2*J*B later, and no overrun; so does the
 * slow model, whose every inference takes longer than a call. */
START_TEST(threaded_wait_offline)
{
    tmodel t;
    onyx_stream *s = new_stream(m_accum(&t), 4, 0);
    onyx_stream_set_wait(s, 1);
    start(s, 8, 1);
    int L = onyx_stream_latency(s);
    ck_assert_int_eq(L, 16);
    worker w;
    worker_start(&w, s);
    float x[8], y[8];
    const float *in[] = {x};
    float *out[] = {y};
    float sum = 0, want[400 * 8];
    for (int c = 0; c < 400; c++) {
        for (int i = 0; i < 8; i++) {
            x[i] = (float)((c * 8 + i) % 7) - 3; /* small integers: exact */
            /* y = x + h, h the sum of the blocks of 4 before */
            want[c * 8 + i] = x[i] + sum;
        }
        /* h for the second block of 4 includes the first */
        float first = x[0] + x[1] + x[2] + x[3];
        for (int i = 4; i < 8; i++)
            want[c * 8 + i] += first;
        sum += first + x[4] + x[5] + x[6] + x[7];
        onyx_stream_process(s, in, out, 8);
        for (int i = 0; i < 8; i++) {
            int tt = c * 8 + i;
            float w0 = tt < L ? 0.f : want[tt - L];
            ck_assert_msg(y[i] == w0, "y[%d] = %g, want %g", tt, y[i], w0);
        }
    }
    worker_stop(&w);
    onyx_stream_stats st;
    onyx_stream_get_stats(s, &st);
    ck_assert_uint_eq(st.overruns, 0);
    ck_assert_uint_ge(st.inferences, 2 * 399);
    onyx_stream_free(s);
    t_free(&t);

    /* the slow model: each inference far longer than a call */
    s = new_stream(m_slow(&t, 1 << 15), 64, 0);
    onyx_stream_set_wait(s, 1);
    start(s, 64, 1);
    L = onyx_stream_latency(s);
    worker_start(&w, s);
    float xs[64], ys[64];
    const float *ins[] = {xs};
    float *outs[] = {ys};
    long fed = 0;
    for (int c = 0; c < 40; c++, fed += 64) {
        for (int i = 0; i < 64; i++)
            xs[i] = (float)(fed + i + 1);
        onyx_stream_process(s, ins, outs, 64);
        for (int i = 0; i < 64; i++) {
            float w0 = fed + i < L ? 0.f : (float)(fed + i - L + 1);
            ck_assert_msg(ys[i] == w0, "slow: y[%ld] = %g, want %g", fed + i,
                          ys[i], w0);
        }
    }
    worker_stop(&w);
    onyx_stream_get_stats(s, &st);
    ck_assert_uint_eq(st.overruns, 0);
    onyx_stream_free(s);
    t_free(&t);
}
END_TEST

START_TEST(threaded_no_worker)
{
    /* no worker at all: every job is an overrun, process() still returns */
    tmodel t;
    onyx_stream *s = new_stream(m_identity(&t, "1,1,T"), 16, 0);
    start(s, 64, 1);
    ck_assert_int_eq(onyx_stream_latency(s), 128);
    float x[64] = {1}, y[64];
    const float *in[] = {x};
    float *out[] = {y};
    for (int c = 0; c < 10; c++) {
        onyx_stream_process(s, in, out, 64);
        for (int i = 0; i < 64; i++)
            ck_assert_float_eq(y[i], 0);
    }
    onyx_stream_stats st;
    onyx_stream_get_stats(s, &st);
    ck_assert_uint_eq(st.overruns, 9); /* jobs 0..8 were due */
    ck_assert_uint_eq(st.inferences, 0);
    /* a worker arriving late runs only the newest job; the rest are gone */
    ck_assert_int_eq(onyx_stream_work(s), 1);
    ck_assert_int_eq(onyx_stream_work(s), 0);
    onyx_stream_get_stats(s, &st);
    ck_assert_uint_eq(st.inferences, 4);
    onyx_stream_free(s);
    t_free(&t);
}
END_TEST

/* onyx_worker: a stream swapped in while the worker plays another is
 * played from then on, the old one retired once the worker is out of it;
 * pause keeps it out; stop retires the active one. */
static atomic_int retired_count;
static void count_retired(void *ctx, onyx_worker_item *it)
{
    (void)ctx;
    (void)it;
    atomic_fetch_add(&retired_count, 1);
}

START_TEST(worker_swap_pause_stop)
{
    tmodel t;
    const onyx_model *m = m_identity(&t, "1,1,T");
    onyx_stream *a = new_stream(m, 16, 0), *b = new_stream(m, 16, 0);
    start(a, 64, 1);
    start(b, 64, 1);
    atomic_store(&retired_count, 0);
    onyx_worker w;
    onyx_worker_init(&w, &(onyx_worker_config){.retire = count_retired});
    onyx_worker_item ia = {.stream = a}, ib = {.stream = b};
    onyx_worker_swap(&w, &ia);
    ck_assert_int_eq(onyx_worker_start(&w, NULL), 0);
    drive_identity(a, 64, 1, 128);
    onyx_worker_swap(&w, &ib);
    drive_identity(b, 64, 1, 128);
    for (int i = 0; i < 2000 && !atomic_load(&retired_count); i++)
        sleep_us(100);
    ck_assert_int_eq(atomic_load(&retired_count), 1); /* a */
    /* paused: no job runs, and a waiting process() gives up at once */
    onyx_worker_pause(&w);
    ck_assert_int_eq(atomic_load(&w.busy), 0);
    onyx_stream_stats st0, st1;
    onyx_stream_get_stats(b, &st0);
    onyx_stream_set_wait(b, 1);
    float x[64] = {0}, y[64];
    const float *in[] = {x};
    float *out[] = {y};
    for (int c = 0; c < 4; c++)
        onyx_stream_process(b, in, out, 64);
    onyx_stream_get_stats(b, &st1);
    ck_assert_uint_eq(st1.inferences, st0.inferences);
    ck_assert_uint_ge(st1.overruns, st0.overruns + 3);
    onyx_worker_resume(&w);
    onyx_worker_stop(&w);
    ck_assert_int_eq(atomic_load(&retired_count), 2); /* b at stop */
    onyx_stream_free(a);
    onyx_stream_free(b);
    t_free(&t);
}
END_TEST

START_TEST(restart_while_worker_polls)
{
    /* start() again and again (new host block, mode) while the worker
     * thread keeps polling work(), as a Pd object's dsp method does */
    tmodel t;
    onyx_stream *s = new_stream(m_identity(&t, "1,1,T"), 16, 0);
    worker w;
    worker_start(&w, s); /* before any start: work() has nothing to do */
    static const int ns[] = {64, 32, 128};
    for (int r = 0; r < 24; r++) {
        int n = ns[r % 3], threaded = r % 2 == 0;
        onyx_worker_pause(&w.w); /* the worker is out while start runs */
        start(s, n, threaded);
        onyx_worker_resume(&w.w);
        drive_identity(s, n, threaded, threaded ? 2 * n : 0);
    }
    worker_stop(&w);
    onyx_stream_free(s);
    t_free(&t);
}
END_TEST

static Suite *stream_suite(void)
{
    Suite *s = suite_create("stream");
    TCase *tc = tcase_create("classify");
    tcase_add_test(tc, classify_examples);
    tcase_add_test(tc, classify_controls_and_states);
    tcase_add_test(tc, explicit_state_pair);
    tcase_add_test(tc, refuse_int64_signal);
    tcase_add_test(tc, controls_only);
    suite_add_tcase(s, tc);
    tc = tcase_create("latency");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, latency_sync_n64, 0, 5);
    tcase_add_loop_test(tc, latency_threaded_n64, 0, 5);
    tcase_add_loop_test(tc, latency_sync_n1024, 0, 5);
    tcase_add_loop_test(tc, latency_threaded_n1024, 0, 5);
    tcase_add_test(tc, latency_odd_blocks);
    suite_add_tcase(s, tc);
    tc = tcase_create("data");
    tcase_add_test(tc, interleaved_in_channel_major_out);
    tcase_add_test(tc, int64_and_bool_controls);
    tcase_add_test(tc, state_fed_back_and_reset);
    tcase_add_test(tc, sync_timing_by_calibration);
    tcase_add_test(tc, calibration_uses_the_controls);
    tcase_add_test(tc, runtime_branch_error_is_silence_and_reported);
    tcase_add_test(tc, state_threaded);
    suite_add_tcase(s, tc);
    tc = tcase_create("threads");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, controls_never_torn);
    tcase_add_test(tc, threaded_overruns_never_block);
    tcase_add_test(tc, threaded_wait_offline);
    tcase_add_test(tc, threaded_no_worker);
    tcase_add_test(tc, restart_while_worker_polls);
    tcase_add_test(tc, worker_swap_pause_stop);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(stream_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
