/* onyx_stream.h - the streaming runner: a model as a stream processor.
 *
 * Shared by [onyx~], [onyx] and `onyx process`; none of them buffers,
 * feeds back state or schedules inferences on its own.
 *
 * What is a signal (decided once, when the stream is made):
 *   1. State pairs first: graph input X pairs with graph output X_out of the
 *      same shape and dtype, plus any pairs the caller names. A state input
 *      is fed from its output after every inference; reset zeroes it.
 *   2. The block length B: the caller's (cfg.block), else the model's static
 *      length. A remaining input or output is a *signal* when it has a time
 *      axis: its symbolic dim (bound to B), or else a dim equal to B. Every
 *      other dim but at most one is 1; that one is the channel axis and gives
 *      one signal channel per entry.
 *        (1,1024)  B=1024: 1 channel      (1,1,1024) B=1024: 1 channel
 *        (1,T,1)   T=B:    1 channel      (1,T,2)    T=B:    2 channels
 *   3. Everything else is a *control*: held until it changes (inputs), or
 *      reported after each inference (outputs).
 *   The caller may bind any input's dims (cfg.shapes; -shape in Pd,
 *   --shape for the command): that input then counts as static. Silero's
 *   VAD declares its input [?,?]: bound to [1,512] it is one signal channel
 *   of a 512-frame block.
 *   Details: a symbolic dim whose name contains "batch" (or is "N") is a
 *   batch dim, bound to 1, never the time axis. The time is symbolic when
 *   an input that is not a state has another symbolic dim; then only
 *   symbolic dims are time axes, except in an output whose declared shape
 *   is missing or does not match the resolved one. A static model's length
 *   is its largest dim among the float inputs and outputs that are not
 *   states. When several dims could be the time axis, the symbolic one,
 *   else the last. A signal must be float32 (new refuses others); a control
 *   float32, int64 or bool. Without all_controls a model needs at least one
 *   signal.
 *
 * Timing. B is the model's block, n the host's block (Pd's 64, or the chunk
 * `onyx process` reads). With J = ceil(n / B) inferences per job:
 *   sync     (inference inline in process): latency 0 when n is a multiple
 *            of B, else B samples.
 *   threaded (inference in a worker): latency 2*J*B samples: while the
 *            worker runs job k, process() collects job k+1 and plays job k-1.
 *            If job k is not done when it is due, process() plays silence
 *            for it, counts an overrun, and never waits (unless a host
 *            that renders offline asks it to: onyx_stream_set_wait). A
 *            late job the worker has not started is dropped and never runs
 *            (the state skips it); one already running finishes, its state
 *            update kept and its output thrown away.
 *            A host that calls process() several times back to back (Pd
 *            in an upsampled subpatch: two calls per tick at 2x) sets the
 *            frames of one such burst with onyx_stream_set_burst; a job
 *            then spans at least a burst (J = ceil(max(n, burst) / B)),
 *            else every other job would be due before the worker could run.
 * onyx_stream_latency() returns the exact figure for the host block given
 * at onyx_stream_start().
 *
 * Threads. process() is the audio side: it only loads and stores C11
 * atomics and copies samples: no allocation, lock, syscall or I/O. work() is
 * the worker side (threaded mode). set_control/reset/poll are for a third
 * (control) thread and are lock-free too. Everything else (new, start, free)
 * is not real-time and must not run concurrently with the other calls: a
 * host whose worker thread polls work() (onyx_worker.h) pauses it around
 * start, and stops it before free.
 */
#ifndef ONYX_STREAM_H
#define ONYX_STREAM_H

#include "onyx.h"

typedef struct onyx_stream onyx_stream;

typedef struct onyx_stream_config {
    int block;        /* B when the time dim is symbolic; 0: the model's
                         static length, or 64 (1 with all_controls) */
    int all_controls; /* 1: no signals, every non-state tensor is a control
                         (the [onyx] object) */
    int n_pairs;      /* explicit state pairs, in addition to X/X_out */
    const char *const *pair_in, *const *pair_out;
    int n_shapes; /* inputs given a shape by the caller (their data is
                     ignored): such an input counts as static, so a
                     dim of it equal to B is its time axis */
    const onyx_bind *shapes;
} onyx_stream_config;

/* Resolves and plans the model for block B, classifies its tensors. */
onyx_stream *onyx_stream_new(const onyx_model *m, const onyx_stream_config *cfg,
                             onyx_error *err);
void onyx_stream_free(onyx_stream *s);

/* Layout, valid after new. */
int onyx_stream_block(const onyx_stream *s);
int onyx_stream_signal_inputs(const onyx_stream *s); /* channels in all */
int onyx_stream_signal_outputs(const onyx_stream *s);
int onyx_stream_num_controls_in(const onyx_stream *s);
int onyx_stream_num_controls_out(const onyx_stream *s);
const char *onyx_stream_control_in_name(const onyx_stream *s, int i);
int onyx_stream_control_in_size(const onyx_stream *s, int i); /* floats */
const char *onyx_stream_control_out_name(const onyx_stream *s, int i);
int onyx_stream_control_out_size(const onyx_stream *s, int i);
int onyx_stream_find_control_in(const onyx_stream *s, const char *name);
int onyx_stream_num_states(const onyx_stream *s);
const onyx_program *onyx_stream_program(const onyx_stream *s);

/* Sets the host block n and the mode (threaded != 0: inference runs in
 * work(), called by the host's worker thread). Clears all buffers and
 * statistics. Not real-time. */
onyx_status onyx_stream_start(onyx_stream *s, int host_block, int threaded,
                              onyx_error *err);
int onyx_stream_latency(const onyx_stream *s);
/* Threaded mode: frames the host processes in one burst of back-to-back
 * process() calls (0 or n: calls evenly spaced). Takes effect at the next
 * start. */
void onyx_stream_set_burst(onyx_stream *s, int frames);

/* Threads for the engine's own GEMM and convolutions in the stream's
 * inferences (onyx_instance_set_threads): for threaded mode and run(), off
 * the audio thread. process() marks its thread real-time, so that sync
 * inferences run alone whatever is set here; a host whose inferences run
 * on its audio thread leaves it at 1 (no threads are started). Worker side
 * (between work() calls) or before start; not real-time. */
onyx_status onyx_stream_set_threads(onyx_stream *s, int n, onyx_error *err);

/* Threaded mode for a host that runs faster than real time (offline
 * rendering: Pd's -batch): with wait != 0, process() waits at a job
 * boundary until the worker has finished the job that is due, instead of
 * playing silence for it, so that the output is sync mode's, delayed by the
 * threaded latency. The wait spins on an atomic (no lock, no syscall), but
 * it is a wait: never for a host with a real-time deadline, and only while
 * a worker thread polls work() (else process() gives up only after about
 * 2^30 polls; at once while an onyx_worker that runs the stream is paused).
 * Takes effect at the next boundary; start keeps it. */
void onyx_stream_set_wait(onyx_stream *s, int wait);

/* Audio side: n frames (n == host_block). in[c] / out[c] per signal channel,
 * in the order of the graph's inputs / outputs and then channel index. */
void onyx_stream_process(onyx_stream *s, const float *const *in,
                         float *const *out, int n);

/* Worker side (threaded; onyx_worker.h runs it): runs one pending job if
 * there is one; returns 1 when it ran one, 0 when idle, -1 on an inference
 * error (stats.errors). */
int onyx_stream_work(onyx_stream *s);

/* Control side. set_control copies n values (n must equal the size) for
 * the next inference (floats, converted to the input's dtype: int64, bool);
 * reset zeroes the states before the next inference. */
onyx_status onyx_stream_set_control(onyx_stream *s, int i, const float *v,
                                    int n);
void onyx_stream_reset(onyx_stream *s);

/* Copies the newest control outputs (after the inference whose sequence
 * number it returns, 0 if none yet) into dst[i] (control_out_size floats
 * each). The caller remembers the last sequence number it printed. */
uint64_t onyx_stream_poll_controls(onyx_stream *s, float *const *dst);

/* For [onyx] and the command: one inference on the current controls,
 * inline, states fed back. Not for the audio thread of a signal model.
 * onyx_stream_run times it with the monotonic clock; the untimed one reads
 * no clock, for a caller on the audio thread ([onyx] without -async on Bela,
 * where Pd's messages run in the audio task): its stats come from
 * onyx_stream_calibrate. */
onyx_status onyx_stream_run(onyx_stream *s, onyx_error *err);
onyx_status onyx_stream_run_untimed(onyx_stream *s, onyx_error *err);

/* The most recent inference error since start (ONYX_OK if none), formatted
 * into err with the node and op. Control side; the audio and worker sides
 * only count errors (stats.errors) and keep the static reason. */
onyx_status onyx_stream_last_error(const onyx_stream *s, onyx_error *err);

/* Timing. The inferences of work() and run() are timed with the monotonic
 * clock. Those of process() in sync mode run on the audio thread, where
 * reading a clock can be a syscall (on Bela's AM335x, a Xenomai mode
 * switch): they are only counted, and their time is estimated by
 * onyx_stream_calibrate. */
typedef struct onyx_stream_stats {
    uint64_t inferences, overruns, errors;
    double mean_us, max_us; /* time per inference: measured, or (calibrated)
                               calibrate's when no inference was timed */
    int calibrated;
    uint64_t calib_runs; /* inferences calibrate timed, 0: none yet */
} onyx_stream_stats;
void onyx_stream_get_stats(const onyx_stream *s, onyx_stream_stats *st);

/* Times up to runs inferences (stopping after 50 ms of CPU time,
 * at least one) of the stream's program on a private instance, its control
 * inputs as last set with onyx_stream_set_control, signals and states
 * zero, in the calling thread's CPU time, and keeps mean and max for
 * get_stats (start does not clear them). Not real-time: call it from a
 * worker, never from the audio thread. It may run while process() and
 * work() run, not concurrently with start, profile, free or itself. */
onyx_status onyx_stream_calibrate(onyx_stream *s, int runs, onyx_error *err);

/* 1 when the model branches at run time (an If on a control): setting a
 * control may change what an inference computes, and so what it costs; a
 * caller that calibrated should calibrate again after a set (the Pd
 * objects do). */
int onyx_stream_branches(const onyx_stream *s);

/* Per-node profile (onyx_instance_profile semantics); enable before start.
 * Threaded: the runs since start (stats.inferences of them). Sync: the
 * last calibrate's runs (stats.calib_runs), NULL before one. */
void onyx_stream_profile(onyx_stream *s, int enable);
const uint64_t *onyx_stream_node_ns(const onyx_stream *s);

#endif
