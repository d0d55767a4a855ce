/* onyx_pd.c - the glue [onyx~] and [onyx] share: model bundles, the
 * persistent worker thread, the worker -> Pd console queue, and the info,
 * stats, print, profile and set code that translates the stream API to Pd.
 */
#include "onyx_pd.h"

#include <errno.h>
#include <stddef.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------ bundles ------------------------------- */

onyxpd_bundle *onyxpd_bundle_open(const char *path, const onyxpd_config *cfg,
                                  int host_block, int burst, char *err,
                                  size_t errlen)
{
    onyx_error e;
    memset(&e, 0, sizeof e);
    onyxpd_bundle *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    snprintf(b->path, sizeof b->path, "%s", path);
    b->model = onyx_model_load(path, &e);
    if (!b->model) {
        snprintf(err, errlen, "%s", e.msg);
        goto fail;
    }
    onyx_stream_config sc;
    memset(&sc, 0, sizeof sc);
    sc.block = cfg->block;
    sc.all_controls = cfg->all_controls;
    sc.n_pairs = cfg->n_pairs;
    sc.pair_in = cfg->pair_in;
    sc.pair_out = cfg->pair_out;
    sc.n_shapes = cfg->n_shapes;
    sc.shapes = cfg->shapes;
    b->stream = onyx_stream_new(b->model, &sc, &e);
    b->item.stream = b->stream;
    if (!b->stream) {
        snprintf(err, errlen, "%s", e.msg);
        goto fail;
    }
    onyx_stream *s = b->stream;
    if (!cfg->all_controls) {
        int si = onyx_stream_signal_inputs(s),
            so = onyx_stream_signal_outputs(s);
        if (si > cfg->max_in || so > cfg->max_out) {
            snprintf(err, errlen,
                     "%s: the model has %d signal input(s) and %d signal "
                     "output(s), the object %d inlet(s) and %d outlet(s) "
                     "(create it with -in/-out or with the model)",
                     path, si, so, cfg->max_in, cfg->max_out);
            goto fail;
        }
    } else if (onyx_stream_num_controls_out(s) > cfg->max_out) {
        snprintf(err, errlen,
                 "%s: the model has %d outputs, the object %d outlets "
                 "(create it with -out N or with the model)",
                 path, onyx_stream_num_controls_out(s), cfg->max_out);
        goto fail;
    }
    b->n_ctl_out = onyx_stream_num_controls_out(s);
    b->max_ctl_out = 1;
    for (int i = 0; i < b->n_ctl_out; i++)
        if (onyx_stream_control_out_size(s, i) > b->max_ctl_out)
            b->max_ctl_out = onyx_stream_control_out_size(s, i);
    b->ctl_out = calloc(b->n_ctl_out + 1, sizeof *b->ctl_out);
    b->atoms = calloc(b->max_ctl_out, sizeof *b->atoms);
    if (!b->ctl_out || !b->atoms) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    for (int i = 0; i < b->n_ctl_out; i++) {
        int n = onyx_stream_control_out_size(s, i);
        b->ctl_out[i] = calloc(n > 0 ? n : 1, sizeof(float));
        if (!b->ctl_out[i]) {
            snprintf(err, errlen, "%s: out of memory", path);
            goto fail;
        }
    }
    b->threaded = cfg->threaded;
    b->threads = 1;
    /* [onyx~ -sync] reads no clock in perform, nor [onyx] without -async in
     * its runs (on Bela they are in the audio task): the worker times the
     * model once it is playing */
    atomic_init(&b->calibrate, !cfg->threaded);
    if (onyxpd_bundle_start(b, host_block, burst, err, errlen)) goto fail;
    return b;
fail:
    onyxpd_bundle_free(b);
    return NULL;
}

int onyxpd_bundle_start(onyxpd_bundle *b, int n, int burst, char *err,
                        size_t errlen)
{
    onyx_error e;
    memset(&e, 0, sizeof e);
    onyx_stream_set_burst(b->stream, burst);
    if (onyx_stream_start(b->stream, n, b->threaded, &e) != ONYX_OK) {
        onyx_stream_set_burst(b->stream, b->burst); /* as it still runs */
        snprintf(err, errlen, "%s", e.msg);
        return -1;
    }
    b->host_block = n;
    b->burst = burst;
    b->last_seq = 0;
    b->errors_seen = 0;
    return 0;
}

void onyxpd_bundle_free(onyxpd_bundle *b)
{
    if (!b) return;
    if (b->ctl_out)
        for (int i = 0; i < b->n_ctl_out; i++)
            free(b->ctl_out[i]);
    free(b->ctl_out);
    free(b->atoms);
    onyx_stream_free(b->stream);
    onyx_model_free(b->model);
    free(b);
}

int onyxpd_burst(int n, float sr)
{
    float top = sys_getsr();
    if (!(top > 0) || !(sr > 0) || n < 1) return 0;
    double frames = sys_getblksize() * (double)sr / top;
    int f = frames < (1 << 20) ? (int)(frames + 0.5) : 1 << 20;
    return f > n ? f : 0;
}

/* ------------------------------- worker ------------------------------- */

/* the monotonic clock in seconds (worker and Pd thread only) */
static double onyxpd_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void onyxpd_worker_say(onyxpd_worker *w, int is_error, const char *fmt, ...)
{
    unsigned head = atomic_load(&w->q_head), tail = atomic_load(&w->q_tail);
    if (head - tail >= ONYXPD_QUEUE_LEN) {
        atomic_fetch_add(&w->q_dropped, 1);
        return;
    }
    onyxpd_msg *m = &w->queue[head % ONYXPD_QUEUE_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->text, sizeof m->text, fmt, ap);
    va_end(ap);
    m->is_error = is_error;
    atomic_store(&w->q_head, head + 1); /* publishes the slot */
}

void onyxpd_worker_drain(onyxpd_worker *w, const void *owner)
{
    unsigned tail = atomic_load(&w->q_tail);
    while (tail != atomic_load(&w->q_head)) {
        onyxpd_msg *m = &w->queue[tail % ONYXPD_QUEUE_LEN];
        if (m->is_error)
            pd_error(owner, "%s: %s", w->cfg->cls, m->text);
        else
            post("%s: %s", w->cfg->cls, m->text);
        atomic_store(&w->q_tail, ++tail); /* frees the slot */
    }
    int lost = atomic_exchange(&w->q_dropped, 0);
    if (lost)
        pd_error(owner, "%s: %d worker message(s) lost", w->cfg->cls, lost);
}

/* Pd's s_stuff.h; weak, so that a host whose Pd lacks it (a libpd build)
 * still loads the externals */
int audio_isopen(void) __attribute__((weak));

static int onyxpd_batch; /* Pd was started with -batch */

/* -batch (or -nobatch, the later one winning) among Pd's arguments. Only
 * Pd's own command line says it; a host with another (libpd) has neither. */
static void onyxpd_read_cmdline(void)
{
    char buf[16384];
    FILE *f = fopen("/proc/self/cmdline", "rb");
    if (!f) return;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    size_t at = strlen(buf) + 1; /* after argv[0] */
    for (; at < n; at += strlen(buf + at) + 1) {
        if (!strcmp(buf + at, "-batch")) onyxpd_batch = 1;
        if (!strcmp(buf + at, "-nobatch")) onyxpd_batch = 0;
    }
}

int onyxpd_offline(void)
{
    return onyxpd_batch && !(audio_isopen && audio_isopen());
}

/* Pd's 'quit' calls exit() without freeing the objects, so a worker may
 * still be inside an inference (and inside OpenBLAS) when the libraries'
 * destructors run: OpenBLAS then unmaps its buffers under it. The engine's
 * exit handler, registered at setup and so run before those destructors,
 * stops the workers and waits for the running ones. */
void onyxpd_setup_once(void)
{
    static atomic_flag registered = ATOMIC_FLAG_INIT;
    if (atomic_flag_test_and_set(&registered)) return;
    atexit(onyx_workers_exit);
    onyxpd_read_cmdline();
}

static onyxpd_bundle *onyxpd_bundle_of(onyx_worker_item *it)
{
    return it ? (onyxpd_bundle *)((char *)it - offsetof(onyxpd_bundle, item))
              : NULL;
}

/* Worker chores, outside the pause: BLAS threads and loads. */
static int onyxpd_worker_chores(void *ctx)
{
    onyxpd_worker *w = ctx;
    int nt = atomic_exchange(&w->threads_req, 0);
    if (nt > 0) {
        onyx_set_blas_threads(nt);
        w->threads = nt;
    }
    char *path = atomic_exchange(&w->load_req, NULL);
    if (!path) return 0;
    char err[ONYXPD_MSG_LEN];
    onyxpd_bundle *b =
        onyxpd_bundle_open(path, w->cfg, atomic_load(&w->host_block),
                           atomic_load(&w->burst), err, sizeof err);
    if (b) /* a finished load nobody took yet is superseded */
        onyxpd_bundle_free(atomic_exchange(&w->ready, b));
    else
        onyxpd_worker_say(w, 1, "load failed, keeping the current model: %s",
                          err);
    free(path);
    return 1;
}

/* Times b's model if asked: after a set (2), at most once a second (a
 * slider on a model that branches would otherwise keep the worker busy);
 * after a load or `profile` (1), at once. */
static int onyxpd_worker_calibrate(onyxpd_worker *w, onyxpd_bundle *b)
{
    double now = onyxpd_now_s();
    int cal = atomic_load(&b->calibrate);
    if (!cal ||
        (cal != 1 && b->calibrated_at != 0 && now - b->calibrated_at < 1.0) ||
        !atomic_exchange(&b->calibrate, 0))
        return 0;
    b->calibrated_at = now;
    onyx_error e;
    memset(&e, 0, sizeof e);
    /* an inference error (ONYX_ERR_RUNTIME) comes from the controls,
     * perhaps not set yet (Silero's sample rate): if they stay so, playing
     * reports it, once */
    onyx_status cs = onyx_stream_calibrate(b->stream, 100, &e);
    if (cs != ONYX_OK && cs != ONYX_ERR_RUNTIME)
        onyxpd_worker_say(w, 1, "timing the model: %s", e.msg);
    return 1;
}

/* Worker: gives b's stream the pool asked for (between its inferences,
 * which only this thread runs); a failure is said once. */
static void onyxpd_bundle_threads(onyxpd_worker *w, onyxpd_bundle *b)
{
    onyx_error e;
    memset(&e, 0, sizeof e);
    if (onyx_stream_set_threads(b->stream, w->threads, &e) != ONYX_OK)
        onyxpd_worker_say(w, 1, "threads %d: %s", w->threads, e.msg);
    b->threads = w->threads;
}

/* Worker step on the active bundle, after its job: its pool,
 * calibration and [onyx -async]'s runs. */
static int onyxpd_worker_step(void *ctx, onyx_worker_item *item)
{
    onyxpd_worker *w = ctx;
    onyxpd_bundle *b = onyxpd_bundle_of(item);
    if (!b) return 0;
    if (w->cfg->worker_runs && b->threads != w->threads)
        onyxpd_bundle_threads(w, b);
    int did = onyxpd_worker_calibrate(w, b);
    if (atomic_exchange(&w->run_req, 0)) {
        onyx_error e;
        memset(&e, 0, sizeof e);
        if (onyx_stream_run(b->stream, &e) != ONYX_OK)
            onyxpd_worker_say(w, 1, "%s", e.msg);
        did = 1;
    }
    return did;
}

static void onyxpd_worker_retire(void *ctx, onyx_worker_item *item)
{
    (void)ctx;
    onyxpd_bundle_free(onyxpd_bundle_of(item));
}

void onyxpd_worker_init(onyxpd_worker *w, const onyxpd_config *cfg, int prio)
{
    memset(w, 0, sizeof *w);
    onyx_worker_config wc = {.ctx = w,
                             .chores = onyxpd_worker_chores,
                             .step = onyxpd_worker_step,
                             .retire = onyxpd_worker_retire};
    onyx_worker_init(&w->engine, &wc);
    onyx_worker_priority(&w->engine, prio); /* not started: at start */
    w->cfg = cfg;
    atomic_init(&w->load_req, NULL);
    atomic_init(&w->host_block, 64);
    atomic_init(&w->burst, 0);
    atomic_init(&w->ready, NULL);
    atomic_init(&w->threads_req, 0);
    w->threads = 1;
    atomic_init(&w->run_req, 0);
    atomic_init(&w->q_head, 0);
    atomic_init(&w->q_tail, 0);
    atomic_init(&w->q_dropped, 0);
}

/* a refused priority (rc, an errno) to owner's console */
static void onyxpd_priority_refused(onyxpd_worker *w, const void *owner,
                                    int prio, int rc)
{
    const char *cls = w->cfg->cls;
    const char *keeps =
        w->engine.priority ? "its SCHED_FIFO priority" : "normal scheduling";
    if (rc == EPERM)
        pd_error(owner,
                 "%s: priority %d: not permitted (EPERM): SCHED_FIFO needs "
                 "root, CAP_SYS_NICE or a real-time priority limit of at "
                 "least %d (ulimit -r; rtprio in "
                 "/etc/security/limits.conf); the worker keeps %s",
                 cls, prio, prio, keeps);
    else
        pd_error(owner,
                 "%s: priority %d: refused (%s; SCHED_FIFO takes %d to %d); "
                 "the worker keeps %s",
                 cls, prio, strerror(rc), sched_get_priority_min(SCHED_FIFO),
                 sched_get_priority_max(SCHED_FIFO), keeps);
}

int onyxpd_worker_start(onyxpd_worker *w, const void *owner)
{
    int prio = w->engine.priority, rc;
    if (onyx_worker_start(&w->engine, &rc)) return -1;
    if (rc) onyxpd_priority_refused(w, owner, prio, rc);
    return 0;
}

int onyxpd_worker_priority(onyxpd_worker *w, const void *owner, int prio)
{
    int rc = onyx_worker_priority(&w->engine, prio);
    if (rc) onyxpd_priority_refused(w, owner, prio, rc);
    return rc;
}

void onyxpd_worker_free(onyxpd_worker *w)
{
    onyx_worker_stop(&w->engine); /* frees the active and retired bundles */
    free(atomic_exchange(&w->load_req, NULL));
    onyxpd_bundle_free(atomic_exchange(&w->ready, NULL));
}

void onyxpd_worker_load(onyxpd_worker *w, const char *path)
{
    char *copy = strdup(path);
    if (copy) free(atomic_exchange(&w->load_req, copy));
}

onyxpd_bundle *onyxpd_worker_take_ready(onyxpd_worker *w)
{
    if (!atomic_load(&w->ready)) return NULL;
    return atomic_exchange(&w->ready, NULL);
}

void onyxpd_worker_set_active(onyxpd_worker *w, onyxpd_bundle *b)
{
    onyx_worker_swap(&w->engine, b ? &b->item : NULL);
}

/* -------------------------------- files ------------------------------- */

int onyxpd_find_file(const t_canvas *canvas, const char *name, char *path,
                     size_t pathlen)
{
    char dir[MAXPDSTRING], *base = NULL;
    int fd = canvas_open(canvas, name, "", dir, &base, MAXPDSTRING, 1);
    if (fd < 0) return 0;
    sys_close(fd);
    snprintf(path, pathlen, "%s/%s", dir, base);
    return 1;
}

/* ------------------------------ messages ------------------------------ */

int onyxpd_noargs(const void *owner, const char *cls, const char *msg, int argc)
{
    if (argc) pd_error(owner, "%s: %s takes no arguments", cls, msg);
    return argc != 0;
}

int onyxpd_need_model(const void *owner, const char *cls,
                      const onyxpd_bundle *b, const char *msg)
{
    if (!b)
        pd_error(owner, "%s: %s: no model loaded (send 'load FILE')", cls, msg);
    return !b;
}

int onyxpd_load(const void *owner, const char *cls, const t_canvas *canvas,
                onyxpd_worker *w, int argc, const t_atom *argv)
{
    char path[MAXPDSTRING];
    if (argc != 1 || argv[0].a_type != A_SYMBOL) {
        pd_error(owner, "%s: load needs one file name", cls);
        return -1;
    }
    const char *name = argv[0].a_w.w_symbol->s_name;
    if (!onyxpd_find_file(canvas, name, path, sizeof path)) {
        pd_error(owner,
                 "%s: load %s: file not found (relative to the patch "
                 "or on Pd's path); keeping the current model",
                 cls, name);
        return -1;
    }
    if (onyxpd_worker_start(w, owner)) {
        pd_error(owner, "%s: load %s: cannot start the worker thread", cls,
                 name);
        return -1;
    }
    onyxpd_worker_load(w, path);
    return 0;
}

int onyxpd_threads_arg(const void *owner, const char *cls, int argc,
                       const t_atom *argv)
{
    t_float f =
        argc == 1 && argv[0].a_type == A_FLOAT ? argv[0].a_w.w_float : 0;
    if (f != (int)f || f < 1 || f > ONYXPD_MAX_THREADS) {
        pd_error(owner, "%s: threads needs a whole number from 1 to %d", cls,
                 ONYXPD_MAX_THREADS);
        return 0;
    }
    return (int)f;
}

void onyxpd_priority(const void *owner, const char *cls, onyxpd_worker *w,
                     int argc, const t_atom *argv)
{
    t_float f =
        argc == 1 && argv[0].a_type == A_FLOAT ? argv[0].a_w.w_float : -1;
    if (f != (int)f || f < 0 || f > ONYXPD_MAX_PRIO) {
        pd_error(owner,
                 "%s: priority needs a whole number from 0 (normal "
                 "scheduling) to %d (SCHED_FIFO)",
                 cls, ONYXPD_MAX_PRIO);
        return;
    }
    onyxpd_worker_priority(w, owner, (int)f);
}

void onyxpd_reset(const void *owner, const char *cls, onyxpd_bundle *b,
                  int argc)
{
    if (!onyxpd_noargs(owner, cls, "reset", argc) &&
        !onyxpd_need_model(owner, cls, b, "reset"))
        onyx_stream_reset(b->stream);
}

onyxpd_bundle *onyxpd_open_arg(const void *owner, const char *cls,
                               const t_canvas *canvas, const onyxpd_config *cfg,
                               int host_block, int i, int argc,
                               const t_atom *argv)
{
    if (i >= argc) return NULL;
    onyxpd_bundle *b = NULL;
    char path[MAXPDSTRING], err[ONYXPD_MSG_LEN];
    const char *name =
        argv[i].a_type == A_SYMBOL ? argv[i].a_w.w_symbol->s_name : NULL;
    if (!name)
        pd_error(owner, "%s: the model argument must be a file name", cls);
    else if (!onyxpd_find_file(canvas, name, path, sizeof path))
        pd_error(owner,
                 "%s: %s: file not found (relative to the patch or "
                 "on Pd's path)",
                 cls, name);
    else if (!(b = onyxpd_bundle_open(path, cfg, host_block, 0, err,
                                      sizeof err)))
        pd_error(owner, "%s: %s", cls, err);
    if (i + 1 < argc)
        pd_error(owner, "%s: arguments after the model name are ignored", cls);
    return b;
}

void onyxpd_send_controls(onyxpd_bundle *b, t_outlet **lists, t_outlet *named)
{
    uint64_t seq = onyx_stream_poll_controls(b->stream, b->ctl_out);
    if (!seq || seq == b->last_seq) return;
    b->last_seq = seq;
    for (int i = b->n_ctl_out - 1; i >= 0; i--) {
        int n = onyx_stream_control_out_size(b->stream, i);
        for (int k = 0; k < n; k++)
            SETFLOAT(&b->atoms[k], b->ctl_out[i][k]);
        if (lists)
            outlet_list(lists[i], &s_list, n, b->atoms);
        else
            outlet_anything(named,
                            gensym(onyx_stream_control_out_name(b->stream, i)),
                            n, b->atoms);
    }
}

/* ------------------------------- flags -------------------------------- */

static int onyxpd_int_arg(const void *owner, const char *cls, const char *flag,
                          int argc, const t_atom *argv, int i, int lo, int hi,
                          int *dst)
{
    if (i + 1 >= argc || argv[i + 1].a_type != A_FLOAT) {
        /* a word in the number's place ([onyx~ -block abc m.onnx]) is the
         * flag's wrong value, unless it is the last argument (the model:
         * [onyx~ -block m.onnx]) or a flag: one error, not three */
        const char *word = i + 2 < argc && argv[i + 1].a_type == A_SYMBOL
                               ? argv[i + 1].a_w.w_symbol->s_name
                               : NULL;
        if (word && word[0] != '-') {
            pd_error(owner,
                     "%s: %s %s: must be a whole number from %d to %d; "
                     "ignored",
                     cls, flag, word, lo, hi);
            return i + 2;
        }
        pd_error(owner, "%s: %s needs a number (%d to %d)", cls, flag, lo, hi);
        return i + 1;
    }
    t_float f = atom_getfloat(&argv[i + 1]);
    if (f != (int)f || f < lo || f > hi)
        pd_error(owner,
                 "%s: %s %g: must be a whole number from %d to %d; "
                 "ignored",
                 cls, flag, f, lo, hi);
    else
        *dst = (int)f;
    return i + 2;
}

/* a comma typed in an object box: it reaches the object as a comma atom or
 * as the symbol "," */
static int is_comma(const t_atom *a)
{
    return a->a_type == A_COMMA ||
           (a->a_type == A_SYMBOL && !strcmp(a->a_w.w_symbol->s_name, ","));
}

/* -shape NAME=D1,D2,...: in an object box Pd splits "input=1,512" at the
 * comma into the symbol "input=1", a comma and the float 512, so the dims
 * are the number after '=' and the floats that follow, with or without
 * commas between them ("-shape input 1 512" works too). Returns the index
 * after the flag's arguments. */
static int onyxpd_shape_arg(const void *owner, const char *cls, int argc,
                            const t_atom *argv, int i, onyxpd_config *cfg)
{
    const char *arg = i < argc && argv[i].a_type == A_SYMBOL
                          ? argv[i].a_w.w_symbol->s_name
                          : NULL;
    const char *eq = arg ? strchr(arg, '=') : NULL;
    if (arg && !eq) eq = arg + strlen(arg); /* "-shape input 1 512" */
    onyx_bind b;
    memset(&b, 0, sizeof b);
    int bad = !eq || eq == arg || (size_t)(eq - arg) >= MAXPDSTRING;
    if (!bad) {
        char name[MAXPDSTRING];
        snprintf(name, sizeof name, "%.*s", (int)(eq - arg), arg);
        b.name = gensym(name)->s_name;
        /* dims written inside the symbol: "1,512" (escaped commas) */
        for (const char *p = *eq ? eq + 1 : eq; *p && !bad;) {
            char *end;
            long v = strtol(p, &end, 10);
            if (end == p || v < 0 || v > (1L << 30) || b.rank >= ONYX_MAX_RANK)
                bad = 1;
            else
                b.dims[b.rank++] = v;
            p = *end == ',' ? end + 1 : end;
            if (*end && *end != ',') bad = 1;
        }
    }
    int j = arg ? i + 1 : i;
    for (; j < argc && !bad; j++) {
        if (is_comma(&argv[j])) continue;
        if (argv[j].a_type != A_FLOAT) break;
        t_float v = argv[j].a_w.w_float;
        if (v < 0 || v != (long)v || v > (1L << 30) || b.rank >= ONYX_MAX_RANK)
            bad = 1;
        else
            b.dims[b.rank++] = (int64_t)v;
    }
    if (bad || b.rank == 0) {
        pd_error(owner,
                 "%s: -shape needs NAME=D1,D2,... (an input and its dims, "
                 "whole numbers >= 0); ignored",
                 cls);
    } else if (cfg->n_shapes >= ONYXPD_MAX_SHAPES) {
        pd_error(owner, "%s: more than %d -shape flags; ignored", cls,
                 ONYXPD_MAX_SHAPES);
    } else {
        cfg->shapes[cfg->n_shapes++] = b;
    }
    /* skip what belongs to the flag even when it was bad */
    while (j < argc && (argv[j].a_type == A_FLOAT || is_comma(&argv[j])))
        j++;
    return j;
}

int onyxpd_parse_flags(const void *owner, const char *cls, int argc,
                       const t_atom *argv, onyxpd_flags *f)
{
    int i = 0;
    while (i < argc && argv[i].a_type == A_SYMBOL &&
           argv[i].a_w.w_symbol->s_name[0] == '-') {
        const char *flag = argv[i].a_w.w_symbol->s_name;
        if (!strcmp(flag, "-sync")) {
            f->sync = 1;
            i++;
        } else if (!strcmp(flag, "-async")) {
            f->async = 1;
            i++;
        } else if (!strcmp(flag, "-block")) {
            i = onyxpd_int_arg(owner, cls, flag, argc, argv, i, 1, 1 << 20,
                               &f->cfg.block);
        } else if (!strcmp(flag, "-threads")) {
            i = onyxpd_int_arg(owner, cls, flag, argc, argv, i, 1,
                               ONYXPD_MAX_THREADS, &f->threads);
        } else if (!strcmp(flag, "-priority")) {
            i = onyxpd_int_arg(owner, cls, flag, argc, argv, i, 0,
                               ONYXPD_MAX_PRIO, &f->priority);
        } else if (!strcmp(flag, "-in")) {
            i = onyxpd_int_arg(owner, cls, flag, argc, argv, i, 1,
                               ONYXPD_MAX_SIGNALS, &f->in);
        } else if (!strcmp(flag, "-out")) {
            i = onyxpd_int_arg(owner, cls, flag, argc, argv, i, 1,
                               ONYXPD_MAX_SIGNALS, &f->out);
        } else if (!strcmp(flag, "-shape")) {
            i = onyxpd_shape_arg(owner, cls, argc, argv, i + 1, &f->cfg);
        } else if (!strcmp(flag, "-state")) {
            const char *arg = i + 1 < argc && argv[i + 1].a_type == A_SYMBOL
                                  ? argv[i + 1].a_w.w_symbol->s_name
                                  : NULL;
            const char *colon = arg ? strchr(arg, ':') : NULL;
            if (!colon || colon == arg || !colon[1])
                pd_error(owner,
                         "%s: -state needs IN:OUT (an input and an "
                         "output name); ignored",
                         cls);
            else if (f->cfg.n_pairs >= ONYXPD_MAX_PAIRS)
                pd_error(owner, "%s: more than %d -state pairs; ignored", cls,
                         ONYXPD_MAX_PAIRS);
            else {
                char in[MAXPDSTRING];
                snprintf(in, sizeof in, "%.*s", (int)(colon - arg), arg);
                f->cfg.pair_in[f->cfg.n_pairs] = gensym(in)->s_name;
                f->cfg.pair_out[f->cfg.n_pairs] = gensym(colon + 1)->s_name;
                f->cfg.n_pairs++;
            }
            i += arg || (i + 1 < argc && argv[i + 1].a_type == A_FLOAT) ? 2 : 1;
        } else {
            /* its numbers go with it: they cannot be a model name */
            pd_error(owner, "%s: unknown flag %s; ignored", cls, flag);
            for (i++; i < argc && argv[i].a_type == A_FLOAT; i++)
                ;
        }
    }
    return i;
}

/* --------------------------- info and stats --------------------------- */

static void onyxpd_out(t_outlet *o, const char *sel, int argc, t_atom *argv)
{
    outlet_anything(o, gensym(sel), argc, argv);
}

static void onyxpd_out_float(t_outlet *o, const char *sel, double v)
{
    t_atom a;
    SETFLOAT(&a, (t_float)v);
    onyxpd_out(o, sel, 1, &a);
}

void onyxpd_info(t_outlet *o, const onyxpd_bundle *b, int sync)
{
    t_atom a[2];
    if (!b) {
        SETSYMBOL(&a[0], gensym("none"));
        onyxpd_out(o, "model", 1, a);
        onyxpd_out_float(o, "sync", sync);
        return;
    }
    const onyx_stream *s = b->stream;
    SETSYMBOL(&a[0], gensym(b->path));
    onyxpd_out(o, "model", 1, a);
    onyxpd_out_float(o, "inputs", onyx_stream_signal_inputs(s));
    onyxpd_out_float(o, "outputs", onyx_stream_signal_outputs(s));
    for (int i = 0; i < onyx_stream_num_controls_in(s); i++) {
        SETSYMBOL(&a[0], gensym(onyx_stream_control_in_name(s, i)));
        SETFLOAT(&a[1], onyx_stream_control_in_size(s, i));
        onyxpd_out(o, "control_in", 2, a);
    }
    for (int i = 0; i < onyx_stream_num_controls_out(s); i++) {
        SETSYMBOL(&a[0], gensym(onyx_stream_control_out_name(s, i)));
        SETFLOAT(&a[1], onyx_stream_control_out_size(s, i));
        onyxpd_out(o, "control_out", 2, a);
    }
    onyxpd_out_float(o, "states", onyx_stream_num_states(s));
    onyxpd_out_float(o, "block", onyx_stream_block(s));
    onyxpd_out_float(o, "latency", onyx_stream_latency(s));
    onyxpd_out_float(o, "arena",
                     (double)onyx_program_arena_bytes(onyx_stream_program(s)));
    onyxpd_out_float(o, "sync", sync);
}

/* Real-time budget of one inference: B samples at sr, in microseconds. */
static double onyxpd_budget_us(const onyxpd_bundle *b, float sr)
{
    return sr > 0 ? 1e6 * onyx_stream_block(b->stream) / sr : 0;
}

void onyxpd_stats(t_outlet *o, const onyxpd_bundle *b, float sr)
{
    onyx_stream_stats st;
    memset(&st, 0, sizeof st);
    if (b) onyx_stream_get_stats(b->stream, &st);
    double budget = b ? onyxpd_budget_us(b, sr) : 0;
    onyxpd_out_float(o, "inferences", (double)st.inferences);
    onyxpd_out_float(o, "overruns", (double)st.overruns);
    onyxpd_out_float(o, "errors", (double)st.errors);
    onyxpd_out_float(o, "mean_us", st.mean_us);
    onyxpd_out_float(o, "max_us", st.max_us);
    onyxpd_out_float(o, "mean_percent",
                     budget > 0 ? 100 * st.mean_us / budget : 0);
    onyxpd_out_float(o, "max_percent",
                     budget > 0 ? 100 * st.max_us / budget : 0);
}

/* ------------------------------- print -------------------------------- */

static void onyxpd_shape(char *buf, size_t len, const onyx_tensor *t)
{
    size_t at = snprintf(buf, len, "(");
    for (int d = 0; t && d < t->rank && at < len; d++)
        at += snprintf(buf + at, len - at, "%s%lld", d ? "," : "",
                       (long long)t->dims[d]);
    if (at < len) snprintf(buf + at, len - at, ")");
}

void onyxpd_print(const void *owner, const char *cls, const onyxpd_bundle *b,
                  int sync, int enabled, float sr)
{
    (void)owner;
    if (!b) {
        post("%s: no model loaded (send 'load FILE')", cls);
        return;
    }
    const onyx_stream *s = b->stream;
    const onyx_program *p = onyx_stream_program(s);
    char shape[128];
    post("%s: %s", cls, b->path);
    post("  opset %d, producer %s, %d nodes after folding, arena %lu bytes",
         onyx_model_opset(b->model),
         onyx_model_producer(b->model) ? onyx_model_producer(b->model) : "?",
         onyx_program_num_nodes(p), (unsigned long)onyx_program_arena_bytes(p));
    for (int i = 0; i < onyx_program_num_inputs(p); i++) {
        const char *name = onyx_program_input_name(p, i);
        onyxpd_shape(shape, sizeof shape, onyx_program_input_info(p, i));
        post("  input  %-12s %s%s", name, shape,
             onyx_stream_find_control_in(s, name) >= 0 ? "  control (set)"
                                                       : "");
    }
    for (int i = 0; i < onyx_program_num_outputs(p); i++) {
        onyxpd_shape(shape, sizeof shape, onyx_program_output_info(p, i));
        post("  output %-12s %s", onyx_program_output_name(p, i), shape);
    }
    post("  %d signal input(s), %d signal output(s), %d control input(s), "
         "%d control output(s), %d state pair(s)",
         onyx_stream_signal_inputs(s), onyx_stream_signal_outputs(s),
         onyx_stream_num_controls_in(s), onyx_stream_num_controls_out(s),
         onyx_stream_num_states(s));
    post("  block %d, latency %d samples, %s%s, budget %.1f us per inference",
         onyx_stream_block(s), onyx_stream_latency(s),
         sync ? "sync (inline)" : "threaded (worker)",
         enabled ? "" : ", disabled", onyxpd_budget_us(b, sr));
    if (sync && (onyx_stream_signal_inputs(s) || onyx_stream_signal_outputs(s)))
        post("  stats: times from the worker's calibration runs (perform "
             "reads no clock)");
}

void onyxpd_profile(const void *owner, const char *cls, const onyxpd_bundle *b,
                    onyxpd_worker *w)
{
    (void)owner;
    const onyx_program *p = onyx_stream_program(b->stream);
    onyx_stream_stats st;
    /* sync: the table is the worker's calibration runs (perform reads no
     * clock); the pause keeps it from writing the table while we read it */
    onyx_worker_pause(&w->engine);
    const uint64_t *ns = onyx_stream_node_ns(b->stream);
    onyx_stream_get_stats(b->stream, &st);
    uint64_t runs = b->threaded ? st.inferences : st.calib_runs;
    int n = onyx_program_num_nodes(p);
    uint64_t total = 0;
    for (int i = 0; ns && i < n; i++)
        total += ns[i];
    if (!ns || !runs || !total) {
        onyx_worker_resume(&w->engine);
        post("%s: profile: no timed inference yet", cls);
        return;
    }
    post("%s: profile over %llu inferences%s (us per inference, share)", cls,
         (unsigned long long)runs,
         b->threaded ? "" : " of the worker's calibration");
    for (int i = 0; i < n; i++)
        post("  %4d %-24s %-14s %10.2f %5.1f%%", i,
             onyx_program_node_name(p, i) ? onyx_program_node_name(p, i) : "",
             onyx_program_node_op(p, i), ns[i] / 1e3 / runs,
             100.0 * ns[i] / total);
    onyx_worker_resume(&w->engine);
    post("  total %.2f us per inference", total / 1e3 / runs);
}

/* -------------------------------- set --------------------------------- */

int onyxpd_set(const void *owner, const char *cls, onyxpd_bundle *b, int argc,
               const t_atom *argv)
{
    if (argc < 1 || argv[0].a_type != A_SYMBOL) {
        pd_error(owner, "%s: set needs an input name and its values", cls);
        return -1;
    }
    const char *name = argv[0].a_w.w_symbol->s_name;
    if (!b) {
        pd_error(owner, "%s: set %s: no model loaded", cls, name);
        return -1;
    }
    int i = onyx_stream_find_control_in(b->stream, name);
    if (i < 0) {
        pd_error(owner,
                 "%s: set %s: the model has no control input of that "
                 "name (see 'print')",
                 cls, name);
        return -1;
    }
    int size = onyx_stream_control_in_size(b->stream, i);
    if (argc - 1 != size) {
        pd_error(owner, "%s: set %s: needs %d value(s), got %d", cls, name,
                 size, argc - 1);
        return -1;
    }
    float vbuf[256], *v = size <= 256 ? vbuf : getbytes(size * sizeof(float));
    for (int k = 0; k < size; k++) {
        if (argv[k + 1].a_type != A_FLOAT) {
            pd_error(owner, "%s: set %s: value %d is not a number", cls, name,
                     k + 1);
            if (v != vbuf) freebytes(v, size * sizeof(float));
            return -1;
        }
        v[k] = atom_getfloat(&argv[k + 1]);
    }
    onyx_status st = onyx_stream_set_control(b->stream, i, v, size);
    if (v != vbuf) freebytes(v, size * sizeof(float));
    if (st != ONYX_OK) {
        pd_error(owner, "%s: set %s: refused by the model", cls, name);
        return -1;
    }
    /* the model's cost may depend on the control (a run-time If on it):
     * sync mode times it again with the value set */
    if (!b->threaded && onyx_stream_branches(b->stream)) {
        int none = 0; /* a pending calibration (1) stays as it is */
        atomic_compare_exchange_strong(&b->calibrate, &none, 2);
    }
    return 0;
}
