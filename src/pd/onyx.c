/* onyx.c - [onyx FLAGS MODEL]: an ONNX model as a control object.
 *
 * Every input is a control (the streaming runner with all_controls). A list
 * sets the first input and runs the model; the outputs leave one list
 * outlet each, right to left, before the message returns. State pairs are
 * fed back from call to call. -async runs in the object's worker and sends
 * the outputs from the poll clock. Loads are off the Pd thread as for
 * [onyx~] and swapped in by the poll clock.
 */
#include "onyx_pd.h"

#include <string.h>

/* -------------------------------- onyx -------------------------------- */

static t_class *onyx_class;

typedef struct _onyx {
    t_object x_obj;
    t_canvas *x_canvas;
    onyxpd_flags x_flags; /* x_flags.cfg is the load config */
    onyxpd_worker x_worker;
    onyxpd_bundle *x_cur; /* the current model (Pd thread's view) */
    int x_nout;           /* list outlets */
    t_outlet **x_outs;
    t_outlet *x_infoout; /* rightmost */
    t_clock *x_poll;
    int x_pending; /* -async: runs asked for, results not out */
} t_onyx;

static void onyx_tick(t_onyx *x)
{
    onyxpd_worker_drain(&x->x_worker, x);
    onyxpd_bundle *b = onyxpd_worker_take_ready(&x->x_worker);
    if (b) {
        x->x_cur = b;
        onyxpd_worker_set_active(&x->x_worker, b);
        post("onyx: loaded %s", b->path);
        t_atom a; /* a patch that loads by message learns when it may 'set' */
        SETSYMBOL(&a, gensym(b->path));
        outlet_anything(x->x_infoout, gensym("loaded"), 1, &a);
    }
    if (x->x_cur && x->x_flags.async)
        onyxpd_send_controls(x->x_cur, x->x_outs, NULL);
    clock_delay(x->x_poll, x->x_worker.engine.started ? 1 : 100);
}

static void onyx_run(t_onyx *x)
{
    if (x->x_flags.async) {
        atomic_store(&x->x_worker.run_req, 1);
        return;
    }
    /* inline in Pd's thread, which on Bela is the audio task: no clock
     * (stats come from the worker's calibration) */
    onyx_error e;
    memset(&e, 0, sizeof e);
    ONYXPD_RT_ENTER();
    onyx_status st = onyx_stream_run_untimed(x->x_cur->stream, &e);
    ONYXPD_RT_LEAVE();
    if (st != ONYX_OK) {
        pd_error(x, "onyx: %s", e.msg);
        return;
    }
    onyxpd_send_controls(x->x_cur, x->x_outs, NULL);
}

static void onyx_bang(t_onyx *x)
{
    if (!onyxpd_need_model(x, "onyx", x->x_cur, "bang")) onyx_run(x);
}

static void onyx_list(t_onyx *x, t_symbol *s, int argc, t_atom *argv)
{
    (void)s;
    if (onyxpd_need_model(x, "onyx", x->x_cur, "list")) return;
    onyx_stream *st = x->x_cur->stream;
    if (onyx_stream_num_controls_in(st) < 1) {
        pd_error(x, "onyx: list: the model has no input to set; use bang");
        return;
    }
    /* `set FIRST_INPUT ...` then run; short lists (every usual control
     * input) need no allocation */
    t_atom abuf[64];
    t_atom *av = argc < 64 ? abuf : (t_atom *)getbytes((argc + 1) * sizeof *av);
    SETSYMBOL(&av[0], gensym(onyx_stream_control_in_name(st, 0)));
    memcpy(av + 1, argv, argc * sizeof *av);
    int bad = onyxpd_set(x, "onyx", x->x_cur, argc + 1, av);
    if (av != abuf) freebytes(av, (argc + 1) * sizeof *av);
    if (!bad) onyx_run(x);
}

static void onyx_set(t_onyx *x, t_symbol *s, int argc, t_atom *argv)
{
    (void)s;
    onyxpd_set(x, "onyx", x->x_cur, argc, argv);
}

static void onyx_reset(t_onyx *x, t_symbol *s, int argc, t_atom *argv)
{
    (void)s;
    (void)argv;
    onyxpd_reset(x, "onyx", x->x_cur, argc);
}

static void onyx_load(t_onyx *x, t_symbol *s, int argc, t_atom *argv)
{
    (void)s;
    if (!onyxpd_load(x, "onyx", x->x_canvas, &x->x_worker, argc, argv))
        clock_delay(x->x_poll, 1);
}

static void onyx_threads(t_onyx *x, t_symbol *s, int argc, t_atom *argv)
{
    (void)s;
    int n = onyxpd_threads_arg(x, "onyx", argc, argv);
    if (!n) return;
    if (!x->x_flags.async) { /* runs here: OpenBLAS's threads only */
        onyx_set_blas_threads(n); /* control object: the Pd thread may */
        return;
    }
    if (onyxpd_worker_start(&x->x_worker, x)) {
        pd_error(x, "onyx: threads: cannot start the worker thread");
        return;
    }
    atomic_store(&x->x_worker.threads_req, n); /* the worker applies it */
}

/* priority N: the worker's scheduling (loads, -async runs) */
static void onyx_priority(t_onyx *x, t_symbol *s, int argc, t_atom *argv)
{
    (void)s;
    onyxpd_priority(x, "onyx", &x->x_worker, argc, argv);
}

static void onyx_info(t_onyx *x, t_symbol *s, int argc, t_atom *argv)
{
    (void)s;
    (void)argv;
    if (!onyxpd_noargs(x, "onyx", "info", argc))
        onyxpd_info(x->x_infoout, x->x_cur, !x->x_flags.async);
}

static void onyx_stats(t_onyx *x, t_symbol *s, int argc, t_atom *argv)
{
    (void)s;
    (void)argv;
    if (!onyxpd_noargs(x, "onyx", "stats", argc))
        onyxpd_stats(x->x_infoout, x->x_cur, 0);
}

static void onyx_print(t_onyx *x, t_symbol *s, int argc, t_atom *argv)
{
    (void)s;
    (void)argv;
    if (!onyxpd_noargs(x, "onyx", "print", argc))
        onyxpd_print(x, "onyx", x->x_cur, !x->x_flags.async, 1, 0);
}

/* ---------------------------- new and free ---------------------------- */

static void *onyx_new(t_symbol *s, int argc, t_atom *argv)
{
    (void)s;
    t_onyx *x = (t_onyx *)pd_new(onyx_class);
    x->x_canvas = canvas_getcurrent();
    int i = onyxpd_parse_flags(x, "onyx", argc, argv, &x->x_flags);
    onyxpd_flags *f = &x->x_flags;
    if (f->sync || f->in)
        pd_error(x, "onyx: -sync and -in are for [onyx~]; [onyx] is "
                    "synchronous unless -async is given");
    f->cfg.cls = "onyx";
    f->cfg.all_controls = 1;
    f->cfg.max_out = ONYXPD_MAX_SIGNALS;
    /* the priority applies when the worker starts */
    onyxpd_worker_init(&x->x_worker, &f->cfg, f->priority);
    atomic_store(&x->x_worker.host_block, 1); /* loads: one value a run */
    f->cfg.worker_runs = f->async;
    if (f->threads) {
        onyx_set_blas_threads(f->threads);
        x->x_worker.threads = f->threads; /* the pool, with -async */
    }

    onyxpd_bundle *b =
        onyxpd_open_arg(x, "onyx", x->x_canvas, &f->cfg, 1, i, argc, argv);
    x->x_nout = f->out ? f->out : b && b->n_ctl_out ? b->n_ctl_out : 1;
    if (b && b->n_ctl_out > x->x_nout) {
        pd_error(x, "onyx: %s: the model has %d outputs, more than -out %d",
                 b->path, b->n_ctl_out, x->x_nout);
        onyxpd_bundle_free(b);
        b = NULL;
    }
    f->cfg.max_out = x->x_nout;
    x->x_outs = getbytes(x->x_nout * sizeof *x->x_outs);
    for (int k = 0; k < x->x_nout; k++)
        x->x_outs[k] = outlet_new(&x->x_obj, &s_list);
    x->x_infoout = outlet_new(&x->x_obj, 0);
    x->x_poll = clock_new(x, (t_method)onyx_tick);
    if (b) {
        x->x_cur = b;
        onyxpd_worker_set_active(&x->x_worker, b);
    }
    /* the worker runs -async inferences, loads, and the calibration that
     * gives a synchronous object its stats */
    if ((f->async || b) && onyxpd_worker_start(&x->x_worker, x))
        pd_error(x, "onyx: cannot start the worker thread");
    clock_delay(x->x_poll, 1);
    return x;
}

static void onyx_free(t_onyx *x)
{
    clock_free(x->x_poll);
    onyxpd_worker_free(&x->x_worker);
    x->x_cur = NULL;
    freebytes(x->x_outs, x->x_nout * sizeof *x->x_outs);
}

ONYXPD_EXPORT void onyx_setup(void)
{
    onyxpd_setup_once();
    onyx_class = class_new(
        gensym("onyx"), (t_newmethod)(void (*)(void))onyx_new,
        (t_method)onyx_free, sizeof(t_onyx), CLASS_DEFAULT, A_GIMME, 0);
    class_addbang(onyx_class, onyx_bang);
    class_addlist(onyx_class, onyx_list);
    struct {
        const char *name;
        t_method fn;
    } msgs[] = {
        {"load", (t_method)onyx_load},
        {"set", (t_method)onyx_set},
        {"reset", (t_method)onyx_reset},
        {"threads", (t_method)onyx_threads},
        {"priority", (t_method)onyx_priority},
        {"info", (t_method)onyx_info},
        {"stats", (t_method)onyx_stats},
        {"print", (t_method)onyx_print},
    };
    for (size_t k = 0; k < sizeof msgs / sizeof msgs[0]; k++)
        class_addmethod(onyx_class, msgs[k].fn, gensym(msgs[k].name), A_GIMME,
                        0);
}
