/* onyx_worker.h - the worker thread of a streaming host: the one protocol
 * by which [onyx~], [onyx], `onyx process --threaded` and the tests run a
 * stream's inferences (onyx_stream_work) off the audio thread.
 *
 * One persistent thread per host object, started once and stopped (joined)
 * when the object goes. It plays one stream at a time, the active item,
 * which the host swaps at will; it never locks and waits by polling with
 * short sleeps (DESIGN.md: the audio side of a Xenomai thread must not see
 * a futex). Each step, in the worker thread:
 *   1. the host's chores (Pd: loads, BLAS threads), even while paused;
 *   2. the items the host retired are handed back (retire) now that the
 *      worker is out of them;
 *   3. unless paused: one pending job of the active stream (threaded mode),
 *      then the host's step hook on the active item (Pd: calibration, an
 *      asked-for run);
 *   4. a nap when nothing was done: 10 us while the host waits for the
 *      worker (onyx_stream_set_wait), 100 us for a threaded stream, 1 ms
 *      otherwise.
 *
 * Threads. init, start, priority, pause, resume, swap and stop belong to one
 * control thread (Pd's main thread, the command's reader); none is
 * real-time. pause returns once the worker is outside step 3 and keeps it
 * out until resume: the host then owns the active stream (onyx_stream_start,
 * reading calibrate's profile). A process() that waits for the worker
 * (onyx_stream_set_wait) gives up while it is paused.
 */
#ifndef ONYX_WORKER_H
#define ONYX_WORKER_H

#include "onyx_stream.h"

#include <pthread.h>
#include <stdatomic.h>

/* What the worker plays: a stream, embedded by the host in its own record
 * (Pd's bundle) so that retire can free the whole record. */
typedef struct onyx_worker_item {
    onyx_stream *stream;
    struct onyx_worker_item *next; /* the worker's: its retired list */
} onyx_worker_item;

/* The host's part; any hook may be NULL. Hooks run in the worker thread. */
typedef struct onyx_worker_config {
    void *ctx; /* passed to every hook */
    /* step 1; returns 1 when it did something (no nap) */
    int (*chores)(void *ctx);
    /* step 3, after the stream's job; item is the active one or NULL;
     * returns 1 when it did something */
    int (*step)(void *ctx, onyx_worker_item *item);
    /* an item the worker no longer uses (swapped out, or active at stop);
     * NULL: the host keeps its items */
    void (*retire)(void *ctx, onyx_worker_item *item);
    /* 1: the thread computes as the audio side does (onyx_sgemm_realtime:
     * the engine's own GEMM, never BLAS), so that a threaded run gives sync
     * mode's numbers bit for bit (`onyx process --threaded`) */
    int sync_kernels;
} onyx_worker_config;

/* Embedded by the host; fields are the worker's own (read `started` only). */
typedef struct onyx_worker {
    onyx_worker_config cfg;
    pthread_t thread;
    int started;
    int priority; /* SCHED_FIFO priority it runs at, 0: normal */
    atomic_int quit, pause, busy;
    int nap_us;                          /* step 4's nap (worker thread) */
    _Atomic(onyx_worker_item *) active;  /* swapped by the control thread */
    _Atomic(onyx_worker_item *) retired; /* stack, handed back by the worker */
} onyx_worker;

/* Not started, nothing active; cfg NULL: no hooks. */
void onyx_worker_init(onyx_worker *w, const onyx_worker_config *cfg);
/* Starts the thread if not yet running; 0 on success. It is created with
 * default attributes, then moved to SCHED_FIFO at the priority asked for
 * before (onyx_worker_priority): a refused priority leaves a working thread
 * at normal priority rather than none, and its errno in *prio_rc (0 if
 * none was refused; prio_rc may be NULL). */
int onyx_worker_start(onyx_worker *w, int *prio_rc);
/* SCHED_FIFO at prio (1 to 99), or normal scheduling (0); applied now if
 * the thread runs, else at start. 0 on success, else the errno of
 * pthread_setschedparam (the priority stays what it was). */
int onyx_worker_priority(onyx_worker *w, int prio);
/* Keeps the worker out of the active stream (step 3); returns once it is. */
void onyx_worker_pause(onyx_worker *w);
void onyx_worker_resume(onyx_worker *w);
/* Makes item (NULL: none) the active one. The previous one is retired: at
 * once if the thread is not running, else by the worker after its step. */
void onyx_worker_swap(onyx_worker *w, onyx_worker_item *item);
/* Stops and joins the thread (a running inference or chore ends first),
 * then retires every item it still holds, the active one included. */
void onyx_worker_stop(onyx_worker *w);

/* For exit(): stops every worker of the process from starting another step
 * and waits (up to 5 s) for the running ones. A host whose exit() may run
 * while objects still have workers (Pd's `quit`, which frees no object:
 * OpenBLAS would unmap its buffers under a running inference) registers it
 * with atexit before the libraries' destructors are registered. */
void onyx_workers_exit(void);

#endif
