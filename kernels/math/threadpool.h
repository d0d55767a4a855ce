/* threadpool.h - a small persistent pool of threads for onyx's own GEMM and
 * convolutions (threadpool.c): `--threads N` and the objects' `threads N`.
 *
 * An instance owns one pool (onyx_instance_set_threads) and enters it
 * around its run (onyx_threads_enter): the kernels then find it with
 * onyx_threads_current and split their big loops over it. The work is
 * always split over output blocks, never over a reduction, so the results
 * are bit-identical to one thread's.
 *
 * Real time: a pool is made and freed outside any run (it creates and joins
 * threads); during a run, handing parts to the workers and waiting for them
 * are atomics, plus a futex wake when a worker was asleep and a yield while
 * one is late: never on the audio thread, which the kernels check
 * (onyx_sgemm_realtime: a thread marked real-time runs everything alone). */
#ifndef ONYX_THREADPOOL_H
#define ONYX_THREADPOOL_H

#include <stddef.h>

typedef struct onyx_threads onyx_threads;

/* A pool of n threads counting the caller: n - 1 workers start now, each
 * with scratch for the pack buffers of any onyx_sgemm_blocked. NULL when
 * n < 2 or when the threads or their memory cannot be had. Not real-time. */
onyx_threads *onyx_threads_new(int n);
/* Stops and joins the workers, frees everything. NULL is allowed. */
void onyx_threads_free(onyx_threads *t);
/* Threads counting the caller: n of onyx_threads_new, 1 for NULL. */
int onyx_threads_count(const onyx_threads *t);

/* One part of a split loop. work is the running thread's scratch: a
 * worker's (64-byte aligned, onyx_sgemm_scratch_bytes of the largest
 * product), or NULL on the caller, whose own scratch the loop knows. */
typedef void onyx_threads_fn(void *ctx, int part, void *work);

/* Runs fn(ctx, part, work) for part 0 .. n_parts - 1 (at most 65535) on
 * the caller and the workers, each part on whichever thread claims it
 * first, and returns when all are done. A part's result must not depend on
 * the thread (only its scratch does). On the caller, parts run with no
 * current pool (a loop inside them runs alone). */
void onyx_threads_run(onyx_threads *t, onyx_threads_fn *fn, void *ctx,
                      int n_parts);

/* The calling thread's current pool (NULL: none, run alone), as set by
 * onyx_threads_enter, which returns the previous one to restore after. */
onyx_threads *onyx_threads_current(void);
onyx_threads *onyx_threads_enter(onyx_threads *t);

/* Part p of n_units units split into n parts as evenly as possible:
 * [*lo, *hi). Fixed by (p, n, n_units) alone, so the split is deterministic. */
void onyx_threads_range(int p, int n, int n_units, int *lo, int *hi);

#endif
