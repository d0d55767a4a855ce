/* onyx_pd.h - glue shared by [onyx~] and [onyx]: the loaded-model bundle,
 * what the object's worker (the engine's onyx_worker.h) does for Pd
 * (loading by message, calibrating, -async runs), the worker -> Pd console
 * queue, and the hooks of the real-time-safety test build.
 *
 * Threads. The Pd thread runs messages, clocks and perform routines (never
 * two at once); the worker loads models and, in threaded mode, runs the
 * inferences. They share only C11 atomics: a load request, the finished
 * bundle, the active bundle, retired bundles and the console queue. Nothing
 * here locks; the worker waits by polling with short sleeps.
 */
#ifndef ONYX_PD_H
#define ONYX_PD_H

#include "m_pd.h"
#include "onyx.h"
#include "onyx_stream.h"
#include "onyx_worker.h"

#include <stdatomic.h>

/* Only the setup functions leave the binary (the engine is compiled into
 * both externals with hidden visibility). */
#define ONYXPD_EXPORT __attribute__((visibility("default")))

/* Real-time check build (-DONYX_RT_CHECK): perform routines tell the test
 * interposer (tests/pd/rtcheck.c, LD_PRELOADed) when they start and end;
 * any malloc/free/mutex/cond call in between is counted as a violation. */
#ifdef ONYX_RT_CHECK
void onyx_rt_enter(void) __attribute__((weak));
void onyx_rt_leave(void) __attribute__((weak));
#define ONYXPD_RT_ENTER() (onyx_rt_enter ? onyx_rt_enter() : (void)0)
#define ONYXPD_RT_LEAVE() (onyx_rt_leave ? onyx_rt_leave() : (void)0)
#else
#define ONYXPD_RT_ENTER() ((void)0)
#define ONYXPD_RT_LEAVE() ((void)0)
#endif

#define ONYXPD_MAX_PAIRS   16
#define ONYXPD_MAX_SHAPES  16
#define ONYXPD_MAX_SIGNALS 64
#define ONYXPD_MAX_THREADS 64
#define ONYXPD_MSG_LEN     600
#define ONYXPD_MAX_PRIO    99 /* SCHED_FIFO's range on Linux: 1 to 99 */

/* What a load needs to know, fixed when the object is created. */
typedef struct onyxpd_config {
    const char *cls;  /* "onyx~" or "onyx", for messages */
    int block;        /* -block N, 0 = the model's */
    int all_controls; /* [onyx]: no signals */
    int threaded;     /* inference in the worker ([onyx~] without -sync) */
    int worker_runs;  /* inference in the worker: [onyx~] threaded, [onyx
                         -async]; only then does `threads N` start threads
                         for onyx's kernels (never on the audio thread) */
    int max_in;       /* signal inlets ([onyx~]) */
    int max_out;      /* signal outlets ([onyx~]) or list outlets ([onyx]) */
    int n_pairs;
    const char *pair_in[ONYXPD_MAX_PAIRS], *pair_out[ONYXPD_MAX_PAIRS];
    int n_shapes; /* -shape NAME=D1,D2,...: inputs given a shape */
    onyx_bind shapes[ONYXPD_MAX_SHAPES];
} onyxpd_config;

/* A model ready to play. Owned by whoever holds it: the worker while it
 * loads, then the object (active), then the worker again (retired). */
typedef struct onyxpd_bundle {
    onyx_worker_item item; /* the stream as the worker plays it */
    onyx_model *model;     /* owned; the stream borrows it */
    onyx_stream *stream;   /* owned */
    char path[MAXPDSTRING];
    int host_block; /* n given to onyx_stream_start */
    int burst;      /* frames of back-to-back perform calls, 0: none */
    int threaded;
    int threads; /* the pool its stream has (worker's view) */
    int profiling;
    int n_ctl_out, max_ctl_out; /* control outputs, largest size (floats) */
    float **ctl_out;            /* [n_ctl_out][size]: poll_controls target */
    t_atom *atoms;              /* max_ctl_out atoms to output one of them */
    uint64_t last_seq;     /* last control output sequence sent (Pd thread) */
    uint64_t errors_seen;  /* inference errors already reported (Pd thread) */
    _Atomic int calibrate; /* sync: the worker is to time the model (see
                              onyx_stream_calibrate): 1 at once (open,
                              profile), 2 within a second (set, when the
                              model branches) */
    double calibrated_at;  /* worker: when it last did, seconds (monotonic) */
} onyxpd_bundle;

/* Loads and prepares a model for Pd's block host_block (and burst, see
 * onyxpd_burst); NULL with a message in err on failure. */
onyxpd_bundle *onyxpd_bundle_open(const char *path, const onyxpd_config *cfg,
                                  int host_block, int burst, char *err,
                                  size_t errlen);
void onyxpd_bundle_free(onyxpd_bundle *b);
/* (Re)starts the stream for host block n and burst; not real-time. */
int onyxpd_bundle_start(onyxpd_bundle *b, int n, int burst, char *err,
                        size_t errlen);
/* The frames Pd processes in one burst of back-to-back perform calls of n
 * frames at signal rate sr: in a subpatch upsampled by U (or reblocked
 * below 64) perform runs 64*U/n times per tick of the top level, at once.
 * 0 when the calls are evenly spaced (n frames or more per tick). */
int onyxpd_burst(int n, float sr);

/* The worker -> Pd console queue (one producer, one consumer). */
#define ONYXPD_QUEUE_LEN 16
typedef struct onyxpd_msg {
    int is_error;
    char text[ONYXPD_MSG_LEN];
} onyxpd_msg;

typedef struct onyxpd_worker {
    onyx_worker engine;       /* the thread: the active bundle, pause, stop */
    const onyxpd_config *cfg; /* borrowed from the object */
    _Atomic(char *) load_req; /* malloc'd path; latest wins */
    _Atomic int host_block;   /* Pd's block for the next load */
    _Atomic int burst;        /* and its burst (onyxpd_burst) */
    _Atomic(onyxpd_bundle *) ready;  /* loaded, waiting for the swap */
    _Atomic int threads_req;         /* threads to set, 0 = none */
    int threads; /* threads for the kernels (worker's view; -threads is
                    written before the worker starts) */
    _Atomic int run_req;             /* [onyx -async]: runs requested */
    _Atomic unsigned q_head, q_tail; /* console queue indices */
    _Atomic int q_dropped;
    onyxpd_msg queue[ONYXPD_QUEUE_LEN];
} onyxpd_worker;

/* The worker of an object with config cfg, at SCHED_FIFO priority prio
 * (0: normal) once it starts. */
void onyxpd_worker_init(onyxpd_worker *w, const onyxpd_config *cfg, int prio);
/* Starts the thread if not yet running, at its priority (a failure to set
 * that is reported to owner's console and the thread runs at normal
 * priority); 0 on success. */
int onyxpd_worker_start(onyxpd_worker *w, const void *owner);
/* Pd thread: the worker's scheduling: SCHED_FIFO at prio (1 to 99), or
 * normal scheduling (0). Applied now if the worker runs, else when it
 * starts. 0 on success, else an errno after a pd_error on owner. Pausing
 * the worker (onyx_worker_pause) is the engine's. */
int onyxpd_worker_priority(onyxpd_worker *w, const void *owner, int prio);
/* Called by each class's setup: lets exit() wait for running inferences,
 * and reads Pd's command line for onyxpd_offline. */
void onyxpd_setup_once(void);
/* Pd thread: 1 when nothing paces Pd in real time, so that it renders as
 * fast as it can (offline) and a threaded [onyx~] must wait for its worker
 * (onyx_stream_set_wait): Pd runs -batch and no audio device is open. Pd
 * 0.53 lets an external ask whether audio is open (audio_isopen) but not
 * whether it runs -batch (sys_batch is private to s_main.c), nor whether a
 * `fast-forward` is under way: -batch comes from the command line (Linux's
 * /proc/self/cmdline), read once at setup; the rest is not known here (see
 * [onyx~]'s warning). */
int onyxpd_offline(void);
/* Joins the thread (waits for a running inference or load), then frees
 * every bundle it still holds, active included. */
void onyxpd_worker_free(onyxpd_worker *w);
/* Pd thread: asks for a load (replaces an unclaimed earlier request). */
void onyxpd_worker_load(onyxpd_worker *w, const char *path);
/* Pd thread: takes a finished load, or NULL. */
onyxpd_bundle *onyxpd_worker_take_ready(onyxpd_worker *w);
/* Pd thread: makes b the active bundle and retires the previous one (the
 * worker frees it once it is out of it). */
void onyxpd_worker_set_active(onyxpd_worker *w, onyxpd_bundle *b);
/* Worker side: a message for the Pd console. */
void onyxpd_worker_say(onyxpd_worker *w, int is_error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Pd thread: posts queued messages (pd_error for errors, tied to owner). */
void onyxpd_worker_drain(onyxpd_worker *w, const void *owner);

/* Finds FILE like Pd does (patch folder, then the search path) and writes
 * the full path; 0 if not found. */
int onyxpd_find_file(const t_canvas *canvas, const char *name, char *path,
                     size_t pathlen);

/* Message handlers shared by both classes. owner is the object (for
 * pd_error), cls its class name (for messages), msg the message's name. */
/* 1 (after a pd_error) if the message got arguments. */
int onyxpd_noargs(const void *owner, const char *cls, const char *msg,
                  int argc);
/* 1 (after a pd_error) if no model is loaded. */
int onyxpd_need_model(const void *owner, const char *cls,
                      const onyxpd_bundle *b, const char *msg);
/* `load FILE`: finds FILE, starts the worker and asks it for the load;
 * 0 once asked, else a pd_error and -1. */
int onyxpd_load(const void *owner, const char *cls, const t_canvas *canvas,
                onyxpd_worker *w, int argc, const t_atom *argv);
/* `threads N`: N (1 to ONYXPD_MAX_THREADS), else a pd_error and 0. */
int onyxpd_threads_arg(const void *owner, const char *cls, int argc,
                       const t_atom *argv);
/* `priority N`: sets the worker's scheduling (onyxpd_worker_priority), or
 * one pd_error for a wrong argument. */
void onyxpd_priority(const void *owner, const char *cls, onyxpd_worker *w,
                     int argc, const t_atom *argv);
/* `reset`: clears the stream's buffers and state. */
void onyxpd_reset(const void *owner, const char *cls, onyxpd_bundle *b,
                  int argc);
/* The model argument of a creation message, argv[i] if i < argc: opened at
 * once for host block host_block; NULL (after a pd_error) if it fails or
 * there is none. */
onyxpd_bundle *onyxpd_open_arg(const void *owner, const char *cls,
                               const t_canvas *canvas, const onyxpd_config *cfg,
                               int host_block, int i, int argc,
                               const t_atom *argv);
/* Sends b's newest control outputs, right to left, if there are new ones:
 * output i as a list to lists[i], or, with lists NULL, as `NAME v...` to
 * named. */
void onyxpd_send_controls(onyxpd_bundle *b, t_outlet **lists, t_outlet *named);

/* Console output shared by both classes. */
void onyxpd_print(const void *owner, const char *cls, const onyxpd_bundle *b,
                  int sync, int enabled, float sr);
/* The per-node table; w is paused while it is read (sync: it is the
 * worker's calibration). */
void onyxpd_profile(const void *owner, const char *cls, const onyxpd_bundle *b,
                    onyxpd_worker *w);
/* info and stats lists to an outlet; stats in sync mode give the times of
 * the worker's calibration (onyx_stream_calibrate): perform reads no clock */
void onyxpd_info(t_outlet *o, const onyxpd_bundle *b, int sync);
void onyxpd_stats(t_outlet *o, const onyxpd_bundle *b, float sr);
/* Parses `set NAME v...` into the stream; 0 on success, else a pd_error. */
int onyxpd_set(const void *owner, const char *cls, onyxpd_bundle *b, int argc,
               const t_atom *argv);
/* Parses creation flags common to both classes. Returns the index of the
 * first non-flag argument. Errors are reported and the flag ignored. */
typedef struct onyxpd_flags {
    int sync, async, threads, in, out;
    int priority; /* -priority N: the worker's SCHED_FIFO priority */
    onyxpd_config cfg;
} onyxpd_flags;
int onyxpd_parse_flags(const void *owner, const char *cls, int argc,
                       const t_atom *argv, onyxpd_flags *f);

#endif
