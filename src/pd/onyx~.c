/* onyx~.c - [onyx~ FLAGS MODEL]: an ONNX model as a signal object.
 *
 * Signals go through the engine's streaming runner (onyx_stream.h), which
 * buffers to the model's block, feeds state back and gives the latency.
 * Threaded (default): the object's worker runs the inferences and perform
 * only copies samples and touches atomics. -sync: inference inline in
 * perform. Loads happen in the worker; the finished model is swapped in by
 * the poll clock, between two DSP ticks, and a failed load keeps the old one.
 */
#include "onyx_pd.h"

#include <string.h>

/* ------------------------------- onyx~ -------------------------------- */

static t_class *onyx_tilde_class;

typedef struct _onyx_tilde {
    t_object x_obj;
    t_float x_f;            /* main signal inlet's scalar */
    t_canvas *x_canvas;     /* for finding files */
    onyxpd_flags x_flags;   /* creation flags; x_flags.cfg is the load config */
    onyxpd_worker x_worker; /* persistent worker, started by the first load */
    onyxpd_bundle *x_cur;   /* the playing model (Pd thread's view) */
    int x_nin, x_nout;      /* signal inlets and outlets */
    t_inlet **x_inlets;     /* [x_nin]: the signal inlets after the first */
    t_outlet *x_msgout;     /* rightmost: info, stats, control outputs */
    t_clock *x_poll;        /* drains the worker's queue, swaps, outputs */
    int x_enabled;
    int x_warned; /* 'no model' already said */
    int x_n;      /* Pd block of the last dsp */
    int x_burst;  /* and its burst (onyxpd_burst) */
    float x_sr;
    int x_offline; /* nothing paces Pd (onyxpd_offline), at the last dsp */
    /* threaded, not waiting: Pd may yet run faster than real time where
     * that cannot be known (fast-forward, an offline libpd host). A window
     * of Pd's time from x_watch_t (real time x_watch_rt, overruns
     * x_watch_overruns then) is checked once it holds 16 overruns and a
     * second of audio: overruns while Pd outran real time get one warning */
    int x_watch, x_fast_warned;
    double x_watch_t, x_watch_rt;
    uint64_t x_watch_overruns;
    t_sample **x_ins,
        **x_outs; /* signal vectors from dsp (the stream copies
                     inputs before writing outputs: in-place safe) */
} t_onyx_tilde;

/* Pd thread, when b starts playing (dsp, swap): offline, a threaded b
 * waits for its worker instead of playing silence for late blocks (there is
 * no real time to keep); else the watch for a Pd that outruns real time
 * where that cannot be known starts over. */
static void onyx_tilde_pace(t_onyx_tilde *x, onyxpd_bundle *b)
{
    int wait = x->x_offline && b->threaded && x->x_worker.engine.started;
    onyx_stream_set_wait(b->stream, wait);
    x->x_watch = b->threaded && !wait && !x->x_fast_warned;
    if (x->x_watch) {
        onyx_stream_stats st;
        onyx_stream_get_stats(b->stream, &st);
        x->x_watch_t = clock_getlogicaltime();
        x->x_watch_rt = sys_getrealtime();
        x->x_watch_overruns = st.overruns;
    }
}

/* Pd thread, every tick while watching (see x_watch): no clock is read
 * until the window holds 16 overruns and a second of Pd's time, and then
 * once. Pd paced in real time with a model too slow for its budget only
 * counts overruns ('stats'), as documented; outrunning real time it warns. */
static void onyx_tilde_watch(t_onyx_tilde *x, const onyxpd_bundle *b,
                             const onyx_stream_stats *st)
{
    if (st->overruns < x->x_watch_overruns) { /* restarted: stats cleared */
        onyx_tilde_pace(x, x->x_cur);
        return;
    }
    double ms = clock_gettimesince(x->x_watch_t);
    if (st->overruns < x->x_watch_overruns + 16 || ms < 1000) return;
    double real_ms = 1000 * (sys_getrealtime() - x->x_watch_rt);
    if (ms > 2 * real_ms) {
        pd_error(x,
                 "onyx~: %s: Pd ran %.0f ms of audio in %.0f ms, faster "
                 "than real time, and the worker could not keep up: %llu "
                 "blocks played silence (overruns). To render offline, "
                 "create the object with -sync (under pd -batch, threaded "
                 "objects wait for their worker; not under fast-forward or "
                 "a host that renders offline)",
                 b->path, ms, real_ms,
                 (unsigned long long)(st->overruns - x->x_watch_overruns));
        x->x_fast_warned = 1;
        x->x_watch = 0;
        return;
    }
    x->x_watch_t = clock_getlogicaltime(); /* real time: the next window */
    x->x_watch_rt = sys_getrealtime();
    x->x_watch_overruns = st->overruns;
}

static void onyx_tilde_swap(t_onyx_tilde *x, onyxpd_bundle *b)
{
    char err[ONYXPD_MSG_LEN];
    if ((b->host_block != x->x_n || b->burst != x->x_burst) &&
        onyxpd_bundle_start(b, x->x_n, x->x_burst, err, sizeof err)) {
        pd_error(x, "onyx~: load failed, keeping the current model: %s", err);
        onyxpd_bundle_free(b);
        return;
    }
    x->x_cur = b;
    x->x_warned = 0;
    onyxpd_worker_set_active(&x->x_worker, b); /* retires the old one */
    onyx_tilde_pace(x, b);
    post("onyx~: loaded %s (block %d, latency %d samples, %s)", b->path,
         onyx_stream_block(b->stream), onyx_stream_latency(b->stream),
         b->threaded ? "threaded" : "sync");
    t_atom a; /* a patch that loads by message learns when it may 'set' */
    SETSYMBOL(&a, gensym(b->path));
    outlet_anything(x->x_msgout, gensym("loaded"), 1, &a);
}

/* Pd thread, every DSP tick: console messages, model swap, control
 * outputs, and one report per burst of inference errors. */
static void onyx_tilde_tick(t_onyx_tilde *x)
{
    onyxpd_worker_drain(&x->x_worker, x);
    onyxpd_bundle *b = onyxpd_worker_take_ready(&x->x_worker);
    if (b) onyx_tilde_swap(x, b);
    b = x->x_cur;
    if (b) {
        if (b->n_ctl_out) onyxpd_send_controls(b, NULL, x->x_msgout);
        onyx_stream_stats st;
        onyx_stream_get_stats(b->stream, &st);
        if (st.errors > b->errors_seen) {
            if (!b->errors_seen) {
                onyx_error e;
                memset(&e, 0, sizeof e);
                onyx_stream_last_error(b->stream, &e);
                pd_error(x,
                         "onyx~: inference failed: %s; playing silence for "
                         "the failed blocks (see 'stats')",
                         e.msg[0] ? e.msg : b->path);
            }
            b->errors_seen = st.errors;
        }
        if (x->x_watch) onyx_tilde_watch(x, b, &st);
    }
    clock_delay(x->x_poll, 64); /* units: samples (clock_setunit) */
}

static t_int *onyx_tilde_perform(t_int *w)
{
    t_onyx_tilde *x = (t_onyx_tilde *)w[1];
    int n = (int)w[2];
    ONYXPD_RT_ENTER();
    onyxpd_bundle *b = x->x_cur;
    int nout = 0;
    if (b && x->x_enabled && b->host_block == n) {
        onyx_stream *s = b->stream;
        int nin = onyx_stream_signal_inputs(s);
        nout = onyx_stream_signal_outputs(s);
        const float *in[ONYXPD_MAX_SIGNALS];
        for (int c = 0; c < nin; c++)
            in[c] = x->x_ins[c];
        onyx_stream_process(s, in, x->x_outs, n);
    }
    for (int c = nout; c < x->x_nout; c++)
        memset(x->x_outs[c], 0, n * sizeof(t_sample));
    ONYXPD_RT_LEAVE();
    return w + 3;
}

static void onyx_tilde_dsp(t_onyx_tilde *x, t_signal **sp)
{
    int n = sp[0]->s_n;
    x->x_sr = sp[0]->s_sr;
    for (int c = 0; c < x->x_nin; c++)
        x->x_ins[c] = sp[c]->s_vec;
    for (int c = 0; c < x->x_nout; c++)
        x->x_outs[c] = sp[x->x_nin + c]->s_vec;
    x->x_n = n;
    x->x_burst = onyxpd_burst(n, x->x_sr);
    atomic_store(&x->x_worker.host_block, n);
    atomic_store(&x->x_worker.burst, x->x_burst);
    x->x_offline = onyxpd_offline();
    onyxpd_bundle *b = x->x_cur;
    if (b && (b->host_block != n || b->burst != x->x_burst)) {
        char err[ONYXPD_MSG_LEN];
        onyx_worker_pause(&x->x_worker.engine);
        if (onyxpd_bundle_start(b, n, x->x_burst, err, sizeof err))
            pd_error(x, "onyx~: %s: block %d: %s; output is silence", b->path,
                     n, err);
        onyx_worker_resume(&x->x_worker.engine);
    }
    if (b) onyx_tilde_pace(x, b);
    if (!b && !x->x_warned) {
        pd_error(x, "onyx~: no model loaded (send 'load FILE'); output is "
                    "silence");
        x->x_warned = 1;
    }
    dsp_add(onyx_tilde_perform, 2, x, (t_int)n);
}

/* ------------------------------ messages ------------------------------ */

/* A list sets the scalars of the signal inlets, left to right, as Pd does
 * for its own signal objects; anything else that is not a method (a bang, a
 * symbol, a longer list, a list with a symbol) is one error. */
static void onyx_tilde_list(t_onyx_tilde *x, t_symbol *s, int argc,
                            t_atom *argv)
{
    (void)s;
    int floats = 1;
    for (int k = 0; k < argc; k++)
        floats &= argv[k].a_type == A_FLOAT;
    if (!argc || !floats || argc > x->x_nin) {
        const char *what = !argc                                     ? "bang"
                           : argc == 1 && argv[0].a_type == A_SYMBOL ? "symbol"
                                                                     : "list";
        pd_error(x,
                 "onyx~: %s: the inlets take signals (or up to %d number(s) "
                 "for their scalars); a model input takes 'set NAME v...'",
                 what, x->x_nin);
        return;
    }
    x->x_f = argv[0].a_w.w_float;
    for (int k = 1; k < argc; k++)
        pd_float((t_pd *)x->x_inlets[k], argv[k].a_w.w_float);
}

static void onyx_tilde_load(t_onyx_tilde *x, t_symbol *s, int argc,
                            t_atom *argv)
{
    (void)s;
    onyxpd_load(x, "onyx~", x->x_canvas, &x->x_worker, argc, argv);
}

static void onyx_tilde_set(t_onyx_tilde *x, t_symbol *s, int argc, t_atom *argv)
{
    (void)s;
    onyxpd_set(x, "onyx~", x->x_cur, argc, argv);
}

static void onyx_tilde_reset(t_onyx_tilde *x, t_symbol *s, int argc,
                             t_atom *argv)
{
    (void)s;
    (void)argv;
    onyxpd_reset(x, "onyx~", x->x_cur, argc);
}

static void onyx_tilde_enable(t_onyx_tilde *x, t_symbol *s, int argc,
                              t_atom *argv)
{
    (void)s;
    t_float f =
        argc == 1 && argv[0].a_type == A_FLOAT ? argv[0].a_w.w_float : -1;
    if (f != 0 && f != 1) {
        pd_error(x, "onyx~: enable needs 0 or 1");
        return;
    }
    x->x_enabled = (int)f;
}

static void onyx_tilde_threads(t_onyx_tilde *x, t_symbol *s, int argc,
                               t_atom *argv)
{
    (void)s;
    int n = onyxpd_threads_arg(x, "onyx~", argc, argv);
    if (!n) return;
    if (onyxpd_worker_start(&x->x_worker, x)) {
        pd_error(x, "onyx~: threads: cannot start the worker thread");
        return;
    }
    atomic_store(&x->x_worker.threads_req, n); /* the worker applies it */
}

static void onyx_tilde_info(t_onyx_tilde *x, t_symbol *s, int argc,
                            t_atom *argv)
{
    (void)s;
    (void)argv;
    if (!onyxpd_noargs(x, "onyx~", "info", argc))
        onyxpd_info(x->x_msgout, x->x_cur, x->x_flags.sync);
}

static void onyx_tilde_stats(t_onyx_tilde *x, t_symbol *s, int argc,
                             t_atom *argv)
{
    (void)s;
    (void)argv;
    if (!onyxpd_noargs(x, "onyx~", "stats", argc))
        onyxpd_stats(x->x_msgout, x->x_cur, x->x_sr);
}

static void onyx_tilde_print(t_onyx_tilde *x, t_symbol *s, int argc,
                             t_atom *argv)
{
    (void)s;
    (void)argv;
    if (!onyxpd_noargs(x, "onyx~", "print", argc))
        onyxpd_print(x, "onyx~", x->x_cur, x->x_flags.sync, x->x_enabled,
                     x->x_sr);
}

/* profile: the table; profile 1|0: timing on or off (restarts the stream,
 * which clears its buffers: a short gap in the output). */
static void onyx_tilde_profile(t_onyx_tilde *x, t_symbol *s, int argc,
                               t_atom *argv)
{
    (void)s;
    if (onyxpd_need_model(x, "onyx~", x->x_cur, "profile")) return;
    onyxpd_bundle *b = x->x_cur;
    int want = b->profiling;
    if (argc == 1 && argv[0].a_type == A_FLOAT &&
        (argv[0].a_w.w_float == 0 || argv[0].a_w.w_float == 1))
        want = (int)argv[0].a_w.w_float;
    else if (argc) {
        pd_error(x, "onyx~: profile takes nothing, 0 or 1");
        return;
    } else if (!b->profiling) {
        want = 1;
        post("onyx~: profiling on; send 'profile' again for the table");
    } else {
        onyxpd_profile(x, "onyx~", b, &x->x_worker);
        return;
    }
    if (want == b->profiling) return;
    char err[ONYXPD_MSG_LEN];
    onyx_worker_pause(&x->x_worker.engine);
    onyx_stream_profile(b->stream, want);
    if (onyxpd_bundle_start(b, b->host_block, b->burst, err, sizeof err))
        pd_error(x, "onyx~: profile: %s", err);
    b->profiling = want;
    if (!b->threaded) atomic_store(&b->calibrate, 1); /* table by the worker */
    onyx_worker_resume(&x->x_worker.engine);
}

/* priority N: the worker's scheduling (SCHED_FIFO N, 0 normal) */
static void onyx_tilde_priority(t_onyx_tilde *x, t_symbol *s, int argc,
                                t_atom *argv)
{
    (void)s;
    onyxpd_priority(x, "onyx~", &x->x_worker, argc, argv);
}

/* ---------------------------- new and free ---------------------------- */

static void *onyx_tilde_new(t_symbol *s, int argc, t_atom *argv)
{
    (void)s;
    t_onyx_tilde *x = (t_onyx_tilde *)pd_new(onyx_tilde_class);
    x->x_canvas = canvas_getcurrent();
    x->x_enabled = 1;
    x->x_n = sys_getblksize();
    x->x_sr = sys_getsr();
    int i = onyxpd_parse_flags(x, "onyx~", argc, argv, &x->x_flags);
    onyxpd_flags *f = &x->x_flags;
    if (f->async)
        pd_error(x, "onyx~: -async is for [onyx]; [onyx~] is threaded "
                    "unless -sync is given");
    f->cfg.cls = "onyx~";
    f->cfg.threaded = !f->sync;
    f->cfg.max_in = f->cfg.max_out = ONYXPD_MAX_SIGNALS;
    /* the priority applies when the worker starts */
    onyxpd_worker_init(&x->x_worker, &f->cfg, f->priority);
    atomic_store(&x->x_worker.host_block, x->x_n);
    f->cfg.worker_runs = !f->sync;
    if (f->threads) {
        onyx_set_blas_threads(f->threads);
        x->x_worker.threads = f->threads; /* the pool, unless -sync */
    }

    /* A model given here is loaded now: it decides the inlets and outlets. */
    onyxpd_bundle *b = onyxpd_open_arg(x, "onyx~", x->x_canvas, &f->cfg, x->x_n,
                                       i, argc, argv);
    x->x_nin = f->in ? f->in
               : b && onyx_stream_signal_inputs(b->stream) > 1
                   ? onyx_stream_signal_inputs(b->stream)
                   : 1;
    x->x_nout = f->out ? f->out : b ? onyx_stream_signal_outputs(b->stream) : 1;
    if (b && (onyx_stream_signal_inputs(b->stream) > x->x_nin ||
              onyx_stream_signal_outputs(b->stream) > x->x_nout)) {
        pd_error(x,
                 "onyx~: %s: the model has %d signal input(s) and %d "
                 "output(s), more than the object's %d inlet(s) and %d "
                 "outlet(s) (-in, -out)",
                 b->path, onyx_stream_signal_inputs(b->stream),
                 onyx_stream_signal_outputs(b->stream), x->x_nin, x->x_nout);
        onyxpd_bundle_free(b);
        b = NULL;
    }
    /* a model argument that failed was reported: no second error at DSP */
    x->x_warned = i < argc && !b;
    /* later loads must fit the object as created */
    f->cfg.max_in = x->x_nin;
    f->cfg.max_out = x->x_nout;

    x->x_inlets = getbytes(x->x_nin * sizeof *x->x_inlets);
    for (int c = 1; c < x->x_nin; c++)
        x->x_inlets[c] =
            inlet_new(&x->x_obj, &x->x_obj.ob_pd, &s_signal, &s_signal);
    for (int c = 0; c < x->x_nout; c++)
        outlet_new(&x->x_obj, &s_signal);
    x->x_msgout = outlet_new(&x->x_obj, 0);
    x->x_ins = getbytes(x->x_nin * sizeof *x->x_ins);
    x->x_outs = getbytes(x->x_nout * sizeof *x->x_outs);
    x->x_poll = clock_new(x, (t_method)onyx_tilde_tick);
    clock_setunit(x->x_poll, 1, 1);
    if (b) {
        x->x_cur = b;
        onyxpd_worker_set_active(&x->x_worker, b);
        /* threaded: it runs the inferences; sync: it times the model */
        if (onyxpd_worker_start(&x->x_worker, x))
            pd_error(x, "onyx~: cannot start the worker thread");
    }
    clock_delay(x->x_poll, 64);
    return x;
}

static void onyx_tilde_free(t_onyx_tilde *x)
{
    clock_free(x->x_poll);
    onyxpd_worker_free(&x->x_worker); /* joins: waits for a running inference */
    x->x_cur = NULL;
    freebytes(x->x_inlets, x->x_nin * sizeof *x->x_inlets);
    freebytes(x->x_ins, x->x_nin * sizeof *x->x_ins);
    freebytes(x->x_outs, x->x_nout * sizeof *x->x_outs);
}

ONYXPD_EXPORT void onyx_tilde_setup(void)
{
    onyxpd_setup_once();
    onyx_tilde_class =
        class_new(gensym("onyx~"), (t_newmethod)(void (*)(void))onyx_tilde_new,
                  (t_method)onyx_tilde_free, sizeof(t_onyx_tilde),
                  CLASS_DEFAULT, A_GIMME, 0);
    CLASS_MAINSIGNALIN(onyx_tilde_class, t_onyx_tilde, x_f);
    class_addmethod(onyx_tilde_class, (t_method)onyx_tilde_dsp, gensym("dsp"),
                    A_CANT, 0);
    class_addlist(onyx_tilde_class, onyx_tilde_list);
    struct {
        const char *name;
        t_method fn;
    } msgs[] = {
        {"load", (t_method)onyx_tilde_load},
        {"set", (t_method)onyx_tilde_set},
        {"reset", (t_method)onyx_tilde_reset},
        {"enable", (t_method)onyx_tilde_enable},
        {"threads", (t_method)onyx_tilde_threads},
        {"priority", (t_method)onyx_tilde_priority},
        {"info", (t_method)onyx_tilde_info},
        {"stats", (t_method)onyx_tilde_stats},
        {"profile", (t_method)onyx_tilde_profile},
        {"print", (t_method)onyx_tilde_print},
    };
    for (size_t k = 0; k < sizeof msgs / sizeof msgs[0]; k++)
        class_addmethod(onyx_tilde_class, msgs[k].fn, gensym(msgs[k].name),
                        A_GIMME, 0);
}
