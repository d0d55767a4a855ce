/* threadpool.c - the persistent pool of threadpool.h.
 *
 * One job at a time. The caller writes (fn, ctx), publishes the job in the
 * claim word (generation, parts, next part), bumps the generation counter
 * and then claims parts itself; the workers, woken by the bump, claim parts
 * too, one compare-exchange each, until none is left. A worker the system
 * has not scheduled yet (the machine is busy) so claims nothing, and the
 * caller does its parts: never slower than one thread by more than the
 * wake-up. The caller waits for the parts already claimed to be done, then
 * returns; a worker that comes late finds a generation it did not wake for
 * in the claim word and claims nothing.
 *
 * A worker that sees no new generation spins for a while (the next product
 * of the same inference usually follows within microseconds), then sleeps
 * on a futex on the counter; the caller wakes the sleepers only when there
 * are some (`sleepers`, read after the bump: the Dekker pattern with the
 * worker's increment before its last look, so that no wake is missed). */
#include "threadpool.h"
#include "gemm.h"

#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* checks of the counter before a worker sleeps: some tens of microseconds */
#define SPIN_IDLE 2000
/* checks of `done` before the caller yields to a late worker */
#define SPIN_WAIT 2000

typedef struct worker {
    onyx_threads *pool;
    pthread_t thread;
    void *work; /* owned: pack buffers for onyx_sgemm_blocked */
} worker;

struct onyx_threads {
    int n;     /* threads counting the caller */
    worker *w; /* owned, n - 1 */
    /* the job, written by the caller before it publishes the claim word */
    onyx_threads_fn *fn;
    void *ctx;
    /* generation (bits 32-63), parts (16-31), next part to claim (0-15) */
    _Atomic uint64_t claim;
    atomic_int done;     /* parts of the job finished */
    atomic_uint gen;     /* jobs published (futex word) */
    atomic_int sleepers; /* workers asleep on gen, or about to be */
    atomic_int quit;
};

/* initial-exec: no __tls_get_addr, which allocates on a thread's first
 * access when the engine is dlopen'd (the Pd externals) */
#if defined(__GNUC__)
static _Thread_local onyx_threads *current
    __attribute__((tls_model("initial-exec")));
#else
static _Thread_local onyx_threads *current;
#endif

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || (defined(__arm__) && __ARM_ARCH >= 7)
    __asm__ __volatile__("yield");
#endif
}

static void futex_wait(atomic_uint *word, unsigned seen)
{
    syscall(SYS_futex, (unsigned *)word, FUTEX_WAIT_PRIVATE, seen, NULL, NULL,
            0);
}

static void futex_wake_all(atomic_uint *word)
{
    syscall(SYS_futex, (unsigned *)word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL,
            NULL, 0);
}

/* the next generation after seen (spinning, then asleep) */
static unsigned next_gen(onyx_threads *t, unsigned seen)
{
    unsigned g;
    for (int i = 0; i < SPIN_IDLE; i++) {
        g = atomic_load_explicit(&t->gen, memory_order_acquire);
        if (g != seen) return g;
        cpu_relax();
    }
    atomic_fetch_add(&t->sleepers, 1);
    while ((g = atomic_load(&t->gen)) == seen)
        futex_wait(&t->gen, seen);
    atomic_fetch_sub(&t->sleepers, 1);
    return g;
}

/* Claims and runs parts of job g until none is left (or the job is not g
 * any more); work: the running thread's scratch. */
static void run_parts(onyx_threads *t, uint32_t g, void *work)
{
    uint64_t c = atomic_load_explicit(&t->claim, memory_order_acquire);
    for (;;) {
        const unsigned parts = (unsigned)(c >> 16) & 0xffff,
                       next = (unsigned)c & 0xffff;
        if ((uint32_t)(c >> 32) != g || next >= parts) return;
        if (!atomic_compare_exchange_weak_explicit(&t->claim, &c, c + 1,
                                                   memory_order_acq_rel,
                                                   memory_order_acquire))
            continue;
        t->fn(t->ctx, (int)next, work);
        atomic_fetch_add_explicit(&t->done, 1, memory_order_release);
        c = atomic_load_explicit(&t->claim, memory_order_acquire);
    }
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    onyx_threads *t = w->pool;
    unsigned seen = 0;
    for (;;) {
        seen = next_gen(t, seen);
        if (atomic_load_explicit(&t->quit, memory_order_acquire)) break;
        run_parts(t, seen, w->work);
    }
    return NULL;
}

/* tells every worker the new generation (the job or quit is written) */
static void publish(onyx_threads *t)
{
    atomic_fetch_add(&t->gen, 1);
    if (atomic_load(&t->sleepers)) futex_wake_all(&t->gen);
}

onyx_threads *onyx_threads_new(int n)
{
    if (n < 2) return NULL;
    onyx_threads *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->w = calloc((size_t)n - 1, sizeof *t->w);
    atomic_init(&t->gen, 0);
    atomic_init(&t->claim, 0);
    atomic_init(&t->done, 0);
    atomic_init(&t->sleepers, 0);
    atomic_init(&t->quit, 0);
    /* the pack buffers of the largest product: they stop growing at the
     * blocking sizes (at most 256); m * n * k must fit a 32-bit long */
    size_t bytes = onyx_sgemm_scratch_bytes(1 << 10, 1 << 10, 1 << 10);
    bytes = (bytes + 63) / 64 * 64;
    int ok = t->w != NULL;
    for (int i = 0; ok && i < n - 1; i++) {
        worker *w = &t->w[i];
        w->pool = t;
        w->work = aligned_alloc(64, bytes ? bytes : 64);
        ok = w->work && !pthread_create(&w->thread, NULL, worker_main, w);
        if (!ok) free(w->work);
        if (ok) t->n = i + 2; /* joined by free from here on */
    }
    if (!ok) {
        onyx_threads_free(t);
        return NULL;
    }
    return t;
}

void onyx_threads_free(onyx_threads *t)
{
    if (!t) return;
    atomic_store_explicit(&t->quit, 1, memory_order_release);
    publish(t);
    for (int i = 0; i < t->n - 1; i++) {
        pthread_join(t->w[i].thread, NULL);
        free(t->w[i].work);
    }
    free(t->w);
    free(t);
}

int onyx_threads_count(const onyx_threads *t)
{
    return t ? t->n : 1;
}

void onyx_threads_run(onyx_threads *t, onyx_threads_fn *fn, void *ctx,
                      int n_parts)
{
    if (n_parts > 0xffff) n_parts = 0xffff;
    if (n_parts < 1) return;
    t->fn = fn;
    t->ctx = ctx;
    atomic_store_explicit(&t->done, 0, memory_order_relaxed);
    const uint32_t g = atomic_load_explicit(&t->gen, memory_order_relaxed) + 1;
    atomic_store_explicit(&t->claim,
                          (uint64_t)g << 32 | (uint64_t)n_parts << 16,
                          memory_order_release);
    publish(t);
    onyx_threads *was = onyx_threads_enter(NULL);
    run_parts(t, g, NULL);
    onyx_threads_enter(was);
    for (int i = 0;
         atomic_load_explicit(&t->done, memory_order_acquire) < n_parts; i++) {
        if (i < SPIN_WAIT)
            cpu_relax();
        else
            sched_yield(); /* a worker was preempted in its part */
    }
}

onyx_threads *onyx_threads_current(void)
{
    return current;
}

onyx_threads *onyx_threads_enter(onyx_threads *t)
{
    onyx_threads *was = current;
    current = t;
    return was;
}

void onyx_threads_range(int p, int n, int n_units, int *lo, int *hi)
{
    *lo = (int)((long long)n_units * p / n);
    *hi = (int)((long long)n_units * (p + 1) / n);
}
