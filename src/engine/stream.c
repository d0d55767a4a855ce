/* stream.c - the streaming runner (onyx_stream.h): a model as a stream
 * processor, shared by [onyx~], [onyx] and `onyx process`.
 *
 * Three sides touch a stream (see onyx_stream.h): the audio side
 * (process), the worker side (work, threaded mode) and a control side
 * (set_control, reset, poll_controls, get_stats). They share nothing but C11
 * atomics and buffers whose ownership an atomic hands over.
 *
 * Jobs. process() cuts the host's stream into jobs of JN frames; a job is J
 * inferences of B frames (run_job). Three timings:
 *
 *   sync, n % B == 0   JN = n: the call's input is one job, run inline, and
 *                      its output is the call's output. Latency 0.
 *   sync, otherwise    JN = B: one slot collects while the other (computed
 *                      at the last boundary) plays. Latency B.
 *   threaded           JN = J*B: slots move FREE -> AUDIO (collecting) ->
 *                      READY -> WORKER -> DONE -> played -> FREE. At the
 *                      boundary after job k, job k is handed over and job
 *                      k-1 starts playing: latency 2*J*B. A job not DONE
 *                      when due is an overrun: silence for it; if the
 *                      worker has not started it, it is cancelled and never
 *                      runs (the state skips it: the model goes on from the
 *                      last job it ran, as if that audio had not been
 *                      heard); if it is running, it finishes, its state
 *                      update is kept and its output thrown away.
 *
 * Timing. Only the worker and run() read a clock. Sync inferences run on
 * the audio thread, where clock_gettime is a real syscall on some boards (on
 * Bela's AM335x it has no vDSO: a Xenomai mode switch), so process() only
 * counts them; their time is estimated by onyx_stream_calibrate, which runs
 * the same program on a private instance in another thread and measures
 * that thread's CPU time.
 *
 * Slot states change by atomic store or compare-exchange only; whoever
 * moved a slot into its state owns the slot's buffers. Four slots suffice
 * (collecting, handed over, playing, and one late job); when none is free
 * the audio side collects into a fifth, scratch slot and that job is lost
 * (an overrun, counted when it is due).
 */
#include "stream_impl.h"
#include "../../kernels/math/gemm.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Never called on the audio side (see Timing above). */
static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

/* ---- triple buffers ---- */

static int triple_init(triple *tb, int floats)
{
    for (int i = 0; i < 3; i++) {
        tb->buf[i] = calloc((size_t)floats + 1, sizeof(float));
        if (!tb->buf[i]) return 1;
        tb->seq[i] = 0;
    }
    tb->back = 0;
    atomic_init(&tb->mid, 1u);
    tb->front = 2;
    return 0;
}

static void triple_free(triple *tb)
{
    for (int i = 0; i < 3; i++)
        free(tb->buf[i]);
}

static void triple_publish(triple *tb)
{
    unsigned old = atomic_exchange_explicit(
        &tb->mid, (unsigned)tb->back | FRESH, memory_order_acq_rel);
    tb->back = (int)(old & 3u);
}

/* 1 when a newer buffer became the front */
static int triple_take(triple *tb)
{
    if (!(atomic_load_explicit(&tb->mid, memory_order_relaxed) & FRESH))
        return 0;
    unsigned old = atomic_exchange_explicit(&tb->mid, (unsigned)tb->front,
                                            memory_order_acq_rel);
    tb->front = (int)(old & 3u);
    return 1;
}

/* the atomics' initial values: nothing started, nothing counted */
static void init_atomics(onyx_stream *s)
{
    atomic_init(&s->reset_req, 0);
    atomic_init(&s->wait, 0);
    atomic_init(&s->worker_paused, NULL);
    atomic_init(&s->inferences, 0);
    atomic_init(&s->overruns, 0);
    atomic_init(&s->errors, 0);
    atomic_init(&s->timed, 0);
    atomic_init(&s->total_ns, 0);
    atomic_init(&s->max_ns, 0);
    atomic_init(&s->calib_runs, 0);
    atomic_init(&s->calib_mean_ns, 0);
    atomic_init(&s->calib_max_ns, 0);
    atomic_init(&s->err_why, NULL);
    atomic_init(&s->err_node, -1);
    atomic_init(&s->err_status, ONYX_OK);
    for (int k = 0; k <= N_SLOTS; k++) {
        atomic_init(&s->slots[k].state, SLOT_FREE);
        atomic_init(&s->slots[k].job, 0u);
    }
}

onyx_stream *onyx_stream_new(const onyx_model *m, const onyx_stream_config *cfg,
                             onyx_error *err)
{
    onyx_stream *s = calloc(1, sizeof *s);
    if (!s) {
        onyx_seterr(err, ONYX_ERR_NOMEM, "out of memory");
        return NULL;
    }
    s->model = m;
    s->all_controls = cfg && cfg->all_controls;
    init_atomics(s);
    if (stream_layout(s, cfg, err) != ONYX_OK) goto fail;
    s->inst = onyx_instance_new(s->prog, err);
    if (!s->inst) goto fail;
    /* the instance's buffers never move: infer() uses them directly */
    for (int k = 0; k < s->n_sin; k++)
        s->sin[k].data = onyx_instance_input(s->inst, s->sin[k].index)->data;
    for (int k = 0; k < s->n_sout; k++)
        s->sout[k].data = onyx_instance_output(s->inst, s->sout[k].index)->data;
    for (int k = 0; k < s->n_st; k++) {
        s->st[k].in_data = onyx_instance_input(s->inst, s->st[k].in)->data;
        s->st[k].out_data = onyx_instance_output(s->inst, s->st[k].out)->data;
    }
    s->cin_shadow = calloc((size_t)s->cin_floats + 1, sizeof(float));
    if (!s->cin_shadow || triple_init(&s->cin_tb, s->cin_floats) ||
        triple_init(&s->cin_cal_tb, s->cin_floats) ||
        triple_init(&s->cout_tb, s->cout_floats)) {
        onyx_seterr(err, ONYX_ERR_NOMEM, "out of memory");
        goto fail;
    }
    return s;
fail:
    onyx_stream_free(s);
    return NULL;
}

void onyx_stream_free(onyx_stream *s)
{
    if (!s) return;
    onyx_instance_free(s->inst);
    onyx_program_free(s->prog);
    free(s->sin);
    free(s->sout);
    free(s->cin);
    free(s->cout);
    free(s->st);
    free(s->cin_shadow);
    triple_free(&s->cin_tb);
    triple_free(&s->cin_cal_tb);
    triple_free(&s->cout_tb);
    free(s->mem);
    free(s->calib_node_ns);
    free(s);
}

/* ---- start ---- */

static void zero_states(onyx_stream *s)
{
    for (int i = 0; i < s->n_st; i++)
        memset(onyx_instance_input(s->inst, s->st[i].in)->data, 0,
               s->st[i].bytes);
}

static void copy_controls_in(onyx_stream *s, int force);

onyx_status onyx_stream_start(onyx_stream *s, int host_block, int threaded,
                              onyx_error *err)
{
    if (host_block <= 0) {
        onyx_seterr(err, ONYX_ERR_INVALID, "host block %d is not valid",
                    host_block);
        return ONYX_ERR_INVALID;
    }
    int B = s->B;
    int J = (host_block + B - 1) / B;
    int JN;
    if (threaded && s->burst > host_block) J = (s->burst + B - 1) / B;
    if (threaded)
        JN = J * B;
    else if (host_block % B == 0)
        JN = host_block, J = host_block / B;
    else
        JN = B, J = 1;
    int64_t lat = threaded ? 2 * (int64_t)J * B : host_block % B ? B : 0;
    int ch = s->ch_in + s->ch_out;
    if ((int64_t)J * B > INT_MAX / 4 ||
        (int64_t)JN * ch * (N_SLOTS + 1) > INT_MAX / 4) {
        onyx_seterr(err, ONYX_ERR_LIMIT,
                    "host block %d with block %d is too large", host_block, B);
        return ONYX_ERR_LIMIT;
    }
    float *mem =
        calloc((size_t)JN * (size_t)ch * (N_SLOTS + 1) + 1, sizeof(float));
    if (!mem) {
        onyx_seterr(err, ONYX_ERR_NOMEM, "out of memory");
        return ONYX_ERR_NOMEM;
    }
    free(s->mem);
    s->mem = mem;
    for (int k = 0; k <= N_SLOTS; k++) {
        slot *sl = &s->slots[k];
        sl->in = mem + (size_t)k * JN * ch;
        sl->out = sl->in + (size_t)JN * s->ch_in;
        atomic_store(&sl->state, SLOT_FREE);
        atomic_store(&sl->job, 0u);
    }
    s->n = host_block;
    s->threaded = threaded != 0;
    s->J = J;
    s->JN = JN;
    s->latency = (int)lat;
    s->pos = 0;
    s->job = 0;
    s->play = -1;
    s->cur = 0;
    atomic_store(&s->slots[0].state, SLOT_AUDIO);

    /* every input zero (signals, states), then the current controls */
    for (int i = 0; i < onyx_program_num_inputs(s->prog); i++) {
        onyx_tensor *t = onyx_instance_input(s->inst, i);
        memset(t->data, 0, (size_t)onyx_numel(t) * onyx_dtype_size(t->dtype));
    }
    atomic_store(&s->reset_req, 0);
    copy_controls_in(s, 1);
    atomic_store(&s->inferences, 0);
    atomic_store(&s->overruns, 0);
    atomic_store(&s->errors, 0);
    atomic_store(&s->timed, 0);
    atomic_store(&s->total_ns, 0);
    atomic_store(&s->max_ns, 0);
    atomic_store(&s->err_status, ONYX_OK);
    atomic_store(&s->err_why, NULL);
    /* per-node timing reads the clock around every node: only where the
     * clock may be read (threaded mode); sync mode profiles by calibrate */
    onyx_instance_profile(s->inst, s->profiling && s->threaded);
    onyx_instance_profile_reset(s->inst);
    s->started = 1;
    return ONYX_OK;
}

onyx_status onyx_stream_set_threads(onyx_stream *s, int n, onyx_error *err)
{
    return onyx_instance_set_threads(s->inst, n, err);
}

void onyx_stream_set_wait(onyx_stream *s, int wait)
{
    atomic_store_explicit(&s->wait, wait != 0, memory_order_relaxed);
}

void stream_attach_worker(onyx_stream *s, const atomic_int *paused)
{
    atomic_store_explicit(&s->worker_paused, paused, memory_order_relaxed);
}

int stream_idle_us(const onyx_stream *s)
{
    /* offline, the host waits for the worker at every job boundary: poll
     * ten times as often (a 20 s render of a small GRU in Pd took 6 s with
     * 100 us naps, 2.5 s with 10 us; sched_yield, with Pd spinning too, was
     * slower on a loaded machine) */
    if (atomic_load_explicit(&((onyx_stream *)s)->wait, memory_order_relaxed))
        return 10;
    return s->threaded ? 100 : 1000;
}

int onyx_stream_latency(const onyx_stream *s)
{
    return s->latency;
}

void onyx_stream_set_burst(onyx_stream *s, int frames)
{
    s->burst = frames > 0 ? frames : 0;
}

/* ---- one job: J inferences (inference side: audio in sync mode, worker in
 * threaded mode, the caller of run) ---- */

/* the control values v [cin_floats] into inst's control inputs, converted */
static void controls_to_inputs(const onyx_stream *s, onyx_instance *inst,
                               const float *v)
{
    for (int k = 0; k < s->n_cin; k++) {
        const ctl_io *c = &s->cin[k];
        void *d = onyx_instance_input(inst, c->index)->data;
        const float *x = v + c->offset;
        for (int e = 0; e < c->size; e++) {
            if (c->dtype == ONYX_FLOAT)
                ((float *)d)[e] = x[e];
            else if (c->dtype == ONYX_BOOL)
                ((uint8_t *)d)[e] = x[e] != 0;
            else
                ((int64_t *)d)[e] = (int64_t)x[e]; /* set_control rounded */
        }
    }
}

/* The newest control inputs into the input tensors when they changed (or
 * when forced); the tensors keep them between runs. */
static void copy_controls_in(onyx_stream *s, int force)
{
    if (!s->n_cin || (!triple_take(&s->cin_tb) && !force)) return;
    controls_to_inputs(s, s->inst, s->cin_tb.buf[s->cin_tb.front]);
}

static void publish_controls_out(onyx_stream *s)
{
    if (!s->n_cout) return;
    triple *tb = &s->cout_tb;
    float *v = tb->buf[tb->back];
    for (int k = 0; k < s->n_cout; k++) {
        const ctl_io *c = &s->cout[k];
        const void *d = onyx_instance_output(s->inst, c->index)->data;
        float *x = v + c->offset;
        for (int e = 0; e < c->size; e++)
            x[e] = c->dtype == ONYX_FLOAT  ? ((const float *)d)[e]
                   : c->dtype == ONYX_BOOL ? (float)((const uint8_t *)d)[e]
                                           : (float)((const int64_t *)d)[e];
    }
    tb->seq[tb->back] = ++s->cout_seq;
    triple_publish(tb);
}

/* n floats from src to dst; the few floats of a per-sample model without a
 * library call */
static inline void copy_floats(float *dst, const float *src, int n)
{
    if (n > 16) {
        memcpy(dst, src, (size_t)n * sizeof *src);
        return;
    }
    int i = 0;
    for (; i + 4 <= n; i += 4) /* 16 bytes: one vector load and store */
        memcpy(dst + i, src + i, 4 * sizeof *src);
    for (; i < n; i++)
        dst[i] = src[i];
}

/* frames [0, B) of a channel-major buffer (JN frames per channel) <-> a
 * signal tensor */
static void sig_in(const sig_io *sg, const float *src, int JN, int B)
{
    float *d = sg->data;
    for (int c = 0; c < sg->channels; c++, src += JN) {
        float *dc = d + c * sg->c_stride;
        if (sg->t_stride == 1)
            copy_floats(dc, src, B);
        else
            for (int f = 0; f < B; f++)
                dc[f * sg->t_stride] = src[f];
    }
}

static void sig_out(const sig_io *sg, float *dst, int JN, int B)
{
    const float *d = sg->data;
    for (int c = 0; c < sg->channels; c++, dst += JN) {
        const float *dc = d + c * sg->c_stride;
        if (sg->t_stride == 1)
            copy_floats(dst, dc, B);
        else
            for (int f = 0; f < B; f++)
                dst[f] = dc[f * sg->t_stride];
    }
}

/* a state output into its input (distinct tensors never overlap; X_out
 * may be X itself) */
static void feed_back(const state_io *st)
{
    if (st->in_data == st->out_data) return;
    if (st->bytes % sizeof(float) == 0 && st->bytes <= 64 * sizeof(float))
        copy_floats(st->in_data, st->out_data,
                    (int)(st->bytes / sizeof(float)));
    else
        memcpy(st->in_data, st->out_data, st->bytes);
}

/* One inference: frames [0, B) of src (channel-major, JN frames per
 * channel; NULL: the signal inputs keep their data) in, dst out (NULL: not
 * copied), states fed back, control outputs published. */
static onyx_status infer(onyx_stream *s, const float *src, float *dst, int JN,
                         const char **why, int *node)
{
    int B = s->B;
    /* a relaxed look first: the exchange (a barrier on ARM) only when a
     * reset was asked for */
    if (atomic_load_explicit(&s->reset_req, memory_order_relaxed) &&
        atomic_exchange_explicit(&s->reset_req, 0, memory_order_acq_rel))
        zero_states(s);
    copy_controls_in(s, 0);
    for (int k = 0; src && k < s->n_sin; k++) {
        const sig_io *sg = &s->sin[k];
        sig_in(sg, src, JN, B);
        src += (size_t)sg->channels * JN;
    }
    onyx_status st = onyx_instance_run(s->inst, why, node);
    if (st != ONYX_OK) {
        atomic_fetch_add_explicit(&s->errors, 1, memory_order_relaxed);
        atomic_store_explicit(&s->err_why, *why, memory_order_relaxed);
        atomic_store_explicit(&s->err_node, *node, memory_order_relaxed);
        atomic_store_explicit(&s->err_status, (int)st, memory_order_release);
        return st;
    }
    for (int k = 0; dst && k < s->n_sout; k++) {
        const sig_io *sg = &s->sout[k];
        sig_out(sg, dst, JN, B);
        dst += (size_t)sg->channels * JN;
    }
    for (int k = 0; k < s->n_st; k++)
        feed_back(&s->st[k]);
    publish_controls_out(s);
    return ONYX_OK;
}

/* Counts done inferences; with t0 (not 0: started at now_ns() t0) times
 * them too. */
static void note_time(onyx_stream *s, uint64_t t0, int done)
{
    if (!done) return;
    atomic_fetch_add_explicit(&s->inferences, (uint64_t)done,
                              memory_order_relaxed);
    if (!t0) return;
    uint64_t dt = now_ns() - t0, per = dt / (uint64_t)done;
    atomic_fetch_add_explicit(&s->timed, (uint64_t)done, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->total_ns, dt, memory_order_relaxed);
    if (per > atomic_load_explicit(&s->max_ns, memory_order_relaxed))
        atomic_store_explicit(&s->max_ns, per, memory_order_relaxed);
}

/* Runs J inferences on frames [0, J*B) of in (channel-major, JN frames per
 * channel), writing out; *n_done: how many ran. Returns 0, or -1 after an
 * inference error (the rest of the job's output is silence). The caller
 * counts them (note_time) once their output is published, so that stats
 * never show an inference whose output is not there yet. */
static int run_blocks(onyx_stream *s, const float *in, float *out, int J,
                      int JN, int *n_done)
{
    int B = s->B, done = 0;
    for (; done < J; done++) {
        const char *why = NULL;
        int node = -1;
        if (infer(s, in + (size_t)done * B, out + (size_t)done * B, JN, &why,
                  &node) != ONYX_OK)
            break;
    }
    *n_done = done;
    if (done == J) return 0;
    for (int c = 0; c < s->ch_out; c++)
        memset(out + (size_t)c * JN + (size_t)done * B, 0,
               (size_t)(J - done) * B * sizeof *out);
    return -1;
}

/* ---- audio side ---- */

static int before(unsigned a, unsigned b)
{
    return (int)(a - b) < 0;
}

/* Threaded, waiting (offline): spins until job `due` is no longer handed
 * over or running. Called before the next job is handed over, so that it is
 * the only one the worker can take: the jobs run in order, none is late.
 * It gives up (the block is late, as without waiting) when the worker that
 * runs the stream (onyx_worker) is paused, and after WAIT_SPINS polls: a
 * worker that never comes (its thread could not start, the host stopped
 * calling it) must not hang the render. */
enum { WAIT_SPINS = 1 << 30 };

static void wait_for_job(onyx_stream *s, unsigned due)
{
    const atomic_int *paused =
        atomic_load_explicit(&s->worker_paused, memory_order_relaxed);
    for (int i = 0; i < N_SLOTS; i++) {
        slot *sl = &s->slots[i];
        if (atomic_load_explicit(&sl->job, memory_order_relaxed) != due)
            continue;
        for (long n = 0; n < WAIT_SPINS; n++) {
            int st = atomic_load_explicit(&sl->state, memory_order_acquire);
            if (st != SLOT_READY && st != SLOT_WORKER) return;
            if (paused && atomic_load_explicit(paused, memory_order_relaxed))
                return;
        }
        return;
    }
}

/* Threaded: job s->job has just been collected in s->cur. */
static void boundary_threaded(onyx_stream *s)
{
    unsigned k = s->job, due = k - 1;
    if (k > 0 && atomic_load_explicit(&s->wait, memory_order_relaxed))
        wait_for_job(s, due);
    if (s->cur != SLOT_SCRATCH)
        atomic_store_explicit(&s->slots[s->cur].state, SLOT_READY,
                              memory_order_release);
    if (s->play >= 0)
        atomic_store_explicit(&s->slots[s->play].state, SLOT_FREE,
                              memory_order_release);
    s->play = -1;
    for (int i = 0; i < N_SLOTS; i++) {
        slot *sl = &s->slots[i];
        int st = atomic_load_explicit(&sl->state, memory_order_acquire);
        unsigned j = atomic_load_explicit(&sl->job, memory_order_relaxed);
        if (st == SLOT_DONE) {
            if (j == due && k > 0)
                s->play = i;
            else if (before(j, due)) /* finished after it was due */
                atomic_store_explicit(&sl->state, SLOT_FREE,
                                      memory_order_relaxed);
        } else if (st == SLOT_READY && !before(due, j)) {
            /* due or older and never started: cancel it */
            int expect = SLOT_READY;
            atomic_compare_exchange_strong_explicit(
                &sl->state, &expect, SLOT_FREE, memory_order_acquire,
                memory_order_relaxed);
        }
    }
    if (k > 0 && s->play < 0)
        atomic_fetch_add_explicit(&s->overruns, 1, memory_order_relaxed);
    s->job = k + 1;
    s->cur = SLOT_SCRATCH;
    for (int i = 0; i < N_SLOTS; i++)
        if (atomic_load_explicit(&s->slots[i].state, memory_order_acquire) ==
            SLOT_FREE) {
            s->cur = i;
            atomic_store_explicit(&s->slots[i].job, s->job,
                                  memory_order_relaxed);
            atomic_store_explicit(&s->slots[i].state, SLOT_AUDIO,
                                  memory_order_relaxed);
            break;
        }
}

/* Sync with latency B: run the collected block, play it next. */
static void boundary_sync(onyx_stream *s)
{
    slot *sl = &s->slots[s->cur];
    int done;
    run_blocks(s, sl->in, sl->out, 1, s->JN, &done);
    note_time(s, 0, done);
    s->play = s->cur;
    s->cur = 1 - s->cur;
}

static void process_frames(onyx_stream *s, const float *const *in,
                           float *const *out, int n);

/* The audio side. Inline (sync) inferences run here, on the audio thread:
 * mark it real-time so that no BLAS call (and its locks) happens. */
void onyx_stream_process(onyx_stream *s, const float *const *in,
                         float *const *out, int n)
{
    int was = onyx_sgemm_realtime(1);
    process_frames(s, in, out, n);
    onyx_sgemm_realtime(was);
}

static void process_frames(onyx_stream *s, const float *const *in,
                           float *const *out, int n)
{
    int JN = s->JN;
    if (!s->started || n != s->n) {
        for (int c = 0; c < s->ch_out; c++)
            memset(out[c], 0, (size_t)n * sizeof(float));
        return;
    }
    if (!s->threaded && JN == n) { /* latency 0 */
        slot *sl = &s->slots[0];
        for (int c = 0; c < s->ch_in; c++)
            memcpy(sl->in + (size_t)c * JN, in[c], (size_t)n * sizeof(float));
        int done;
        run_blocks(s, sl->in, sl->out, s->J, JN, &done);
        note_time(s, 0, done);
        for (int c = 0; c < s->ch_out; c++)
            memcpy(out[c], sl->out + (size_t)c * JN, (size_t)n * sizeof(float));
        return;
    }
    /* Copy every input channel of a stretch before writing any output:
     * Pd may hand the same buffer as an inlet and an outlet. */
    for (int i = 0; i < n;) {
        int k = n - i < JN - s->pos ? n - i : JN - s->pos;
        const slot *cur = &s->slots[s->cur];
        for (int c = 0; c < s->ch_in; c++)
            memcpy(cur->in + (size_t)c * JN + s->pos, in[c] + i,
                   (size_t)k * sizeof(float));
        for (int c = 0; c < s->ch_out; c++) {
            if (s->play >= 0)
                memcpy(out[c] + i,
                       s->slots[s->play].out + (size_t)c * JN + s->pos,
                       (size_t)k * sizeof(float));
            else
                memset(out[c] + i, 0, (size_t)k * sizeof(float));
        }
        s->pos += k;
        i += k;
        if (s->pos == JN) {
            if (s->threaded)
                boundary_threaded(s);
            else
                boundary_sync(s);
            s->pos = 0;
        }
    }
}

/* ---- worker side ---- */

int onyx_stream_work(onyx_stream *s)
{
    if (!s->started || !s->threaded) return 0;
    int best = -1;
    unsigned bj = 0;
    for (int i = 0; i < N_SLOTS; i++) {
        slot *sl = &s->slots[i];
        if (atomic_load_explicit(&sl->state, memory_order_acquire) !=
            SLOT_READY)
            continue;
        unsigned j = atomic_load_explicit(&sl->job, memory_order_relaxed);
        if (best < 0 || before(bj, j)) best = i, bj = j;
    }
    if (best < 0) return 0;
    slot *sl = &s->slots[best];
    int expect = SLOT_READY;
    if (!atomic_compare_exchange_strong_explicit(
            &sl->state, &expect, SLOT_WORKER, memory_order_acq_rel,
            memory_order_relaxed))
        return 0; /* cancelled meanwhile */
    /* timed: the worker, never the audio thread; per job, max being the
     * slowest job's time per inference */
    uint64_t t0 = now_ns();
    int done;
    int rc = run_blocks(s, sl->in, sl->out, s->J, s->JN, &done);
    atomic_store_explicit(&sl->state, SLOT_DONE, memory_order_release);
    note_time(s, t0, done);
    return rc < 0 ? -1 : 1;
}

/* ---- control side ---- */

onyx_status onyx_stream_set_control(onyx_stream *s, int i, const float *v,
                                    int n)
{
    if (i < 0 || i >= s->n_cin || n != s->cin[i].size) return ONYX_ERR_INVALID;
    const ctl_io *c = &s->cin[i];
    float *x = s->cin_shadow + c->offset;
    for (int e = 0; e < n; e++) {
        float f = v[e];
        if (c->dtype == ONYX_INT64) { /* round to the nearest, saturate */
            f = isnan(f) ? 0.f : roundf(f);
            if (f > 9.2e18f) f = 9.2e18f;
            if (f < -9.2e18f) f = -9.2e18f;
        }
        x[e] = f;
    }
    triple *tbs[2] = {&s->cin_tb, &s->cin_cal_tb};
    for (int k = 0; k < 2; k++) {
        memcpy(tbs[k]->buf[tbs[k]->back], s->cin_shadow,
               (size_t)s->cin_floats * sizeof(float));
        triple_publish(tbs[k]);
    }
    return ONYX_OK;
}

void onyx_stream_reset(onyx_stream *s)
{
    atomic_store_explicit(&s->reset_req, 1, memory_order_release);
}

uint64_t onyx_stream_poll_controls(onyx_stream *s, float *const *dst)
{
    triple *tb = &s->cout_tb;
    triple_take(tb);
    const float *v = tb->buf[tb->front];
    for (int k = 0; k < s->n_cout; k++)
        memcpy(dst[k], v + s->cout[k].offset,
               (size_t)s->cout[k].size * sizeof(float));
    return tb->seq[tb->front];
}

/* one inline inference; timed: read the clock around it (never on the
 * audio thread) */
static onyx_status run_inline(onyx_stream *s, int timed, onyx_error *err)
{
    const char *why = NULL;
    int node = -1;
    uint64_t t0 = timed ? now_ns() : 0;
    onyx_status st = infer(s, NULL, NULL, 0, &why, &node);
    note_time(s, t0, st == ONYX_OK);
    if (st != ONYX_OK) onyx_run_error(s->prog, st, why, node, err);
    return st;
}

onyx_status onyx_stream_run(onyx_stream *s, onyx_error *err)
{
    return run_inline(s, 1, err);
}

onyx_status onyx_stream_run_untimed(onyx_stream *s, onyx_error *err)
{
    return run_inline(s, 0, err);
}

onyx_status onyx_stream_last_error(const onyx_stream *s, onyx_error *err)
{
    onyx_status st =
        (onyx_status)atomic_load_explicit(&s->err_status, memory_order_acquire);
    if (st != ONYX_OK)
        onyx_run_error(s->prog, st,
                       atomic_load_explicit(&s->err_why, memory_order_relaxed),
                       atomic_load_explicit(&s->err_node, memory_order_relaxed),
                       err);
    return st;
}

void onyx_stream_get_stats(const onyx_stream *s, onyx_stream_stats *st)
{
    onyx_stream *w = (onyx_stream *)s; /* atomic loads take non-const */
    st->inferences = atomic_load_explicit(&w->inferences, memory_order_relaxed);
    st->overruns = atomic_load_explicit(&w->overruns, memory_order_relaxed);
    st->errors = atomic_load_explicit(&w->errors, memory_order_relaxed);
    st->calib_runs = atomic_load_explicit(&w->calib_runs, memory_order_relaxed);
    uint64_t timed = atomic_load_explicit(&w->timed, memory_order_relaxed);
    uint64_t tot = atomic_load_explicit(&w->total_ns, memory_order_relaxed);
    st->calibrated = !timed && st->calib_runs > 0;
    if (st->calibrated) {
        st->mean_us = (double)atomic_load_explicit(&w->calib_mean_ns,
                                                   memory_order_relaxed) /
                      1e3;
        st->max_us = (double)atomic_load_explicit(&w->calib_max_ns,
                                                  memory_order_relaxed) /
                     1e3;
        return;
    }
    st->mean_us = timed ? (double)tot / (double)timed / 1e3 : 0;
    st->max_us =
        (double)atomic_load_explicit(&w->max_ns, memory_order_relaxed) / 1e3;
}

int onyx_stream_branches(const onyx_stream *s)
{
    return s->prog->n_guarded > 0;
}

/* Worker side, or any thread but the audio one. A private instance of the
 * same (immutable, shared) program: the audio side may go on running
 * s->inst meanwhile. Its control inputs hold the values last set (through
 * a triple buffer of their own: the audio side's is not ours to read), so
 * a run-time If takes the branch playing takes (Silero's sample rate);
 * signals and states are zero, as after a reset. The kernels are the audio
 * thread's (onyx_sgemm_realtime). Thread CPU time leaves out the time
 * the thread was preempted (by the audio thread on a one-core board, for
 * one). One run first warms the caches and the arena's pages. */
onyx_status onyx_stream_calibrate(onyx_stream *s, int runs, onyx_error *err)
{
    /* stop after 50 ms of CPU time: it competes with the other objects'
     * workers (on a one-core board, with the audio thread too) */
    enum { MAX_CPU_NS = 50000000 };
    int n_nodes = onyx_program_num_nodes(s->prog);
    if (s->profiling && !s->calib_node_ns) {
        s->calib_node_ns = calloc((size_t)n_nodes + 1, sizeof(uint64_t));
        if (!s->calib_node_ns) {
            onyx_seterr(err, ONYX_ERR_NOMEM, "out of memory");
            return ONYX_ERR_NOMEM;
        }
    }
    onyx_instance *x = onyx_instance_new(s->prog, err);
    if (!x) return err ? err->status : ONYX_ERR_NOMEM;
    for (int i = 0; i < onyx_program_num_inputs(s->prog); i++) {
        onyx_tensor *t = onyx_instance_input(x, i);
        memset(t->data, 0, (size_t)onyx_numel(t) * onyx_dtype_size(t->dtype));
    }
    if (s->n_cin) {
        triple_take(&s->cin_cal_tb); /* else its front is still the newest */
        controls_to_inputs(s, x, s->cin_cal_tb.buf[s->cin_cal_tb.front]);
    }
    int was = onyx_sgemm_realtime(1);
    const char *why = NULL;
    int node = -1, done = 0;
    uint64_t total = 0, max = 0;
    onyx_status st = onyx_instance_run(x, &why, &node);
    onyx_instance_profile(x, s->profiling);
    while (st == ONYX_OK && done < (runs > 0 ? runs : 1) &&
           (done == 0 || total < MAX_CPU_NS)) {
        uint64_t t0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
        st = onyx_instance_run(x, &why, &node);
        uint64_t dt = clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
        total += dt;
        max = dt > max ? dt : max;
        done++;
        /* half the time idle (up to 2 ms a pause): the other objects'
         * workers, with their own deadlines, keep a share of the CPU */
        uint64_t rest = dt < 2000000 ? dt : 2000000;
        struct timespec ts = {0, (long)rest};
        nanosleep(&ts, NULL);
    }
    onyx_sgemm_realtime(was);
    if (st == ONYX_OK) {
        if (s->profiling)
            memcpy(s->calib_node_ns, onyx_instance_node_ns(x),
                   (size_t)n_nodes * sizeof(uint64_t));
        atomic_store_explicit(&s->calib_mean_ns, total / (uint64_t)done,
                              memory_order_relaxed);
        atomic_store_explicit(&s->calib_max_ns, max, memory_order_relaxed);
        atomic_store_explicit(&s->calib_runs, (uint64_t)done,
                              memory_order_release);
    } else {
        onyx_run_error(s->prog, st, why, node, err);
    }
    onyx_instance_free(x);
    return st;
}

void onyx_stream_profile(onyx_stream *s, int enable)
{
    s->profiling = enable != 0;
}

const uint64_t *onyx_stream_node_ns(const onyx_stream *s)
{
    if (s->started && !s->threaded) return s->calib_node_ns;
    return onyx_instance_node_ns(s->inst);
}
