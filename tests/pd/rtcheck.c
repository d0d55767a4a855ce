/* rtcheck.c - LD_PRELOAD shim for the real-time-safety test of [onyx~].
 *
 * The test build of the externals (make pd-rtcheck, -DONYX_RT_CHECK) calls
 * onyx_rt_enter() / onyx_rt_leave() around its perform routine. While a
 * thread is between the two, every call here to the allocator, to pthread
 * mutexes and condition variables, to semaphores, or to sleeping and
 * writing counts as a violation. At exit one line goes to stderr:
 *   rtcheck: performs N violations V first NAME max_perform_us U
 * and tests/pd/run.sh fails when V > 0 or N == 0.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static __thread int in_perform;
static __thread struct timespec perform_t0;
static _Atomic long performs, violations, max_ns;
static const char *_Atomic first_violation;

void onyx_rt_enter(void)
{
    in_perform++;
    clock_gettime(CLOCK_MONOTONIC, &perform_t0);
}

void onyx_rt_leave(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    long ns = (t.tv_sec - perform_t0.tv_sec) * 1000000000L +
              (t.tv_nsec - perform_t0.tv_nsec);
    long old = atomic_load(&max_ns);
    while (ns > old && !atomic_compare_exchange_weak(&max_ns, &old, ns))
        ;
    atomic_fetch_add(&performs, 1);
    in_perform--;
}

static void violation(const char *what)
{
    if (!in_perform) return;
    atomic_fetch_add(&violations, 1);
    const char *none = NULL;
    atomic_compare_exchange_strong(&first_violation, &none, what);
}

__attribute__((destructor)) static void rtcheck_report(void)
{
    fprintf(stderr,
            "rtcheck: performs %ld violations %ld first %s "
            "max_perform_us %.1f\n",
            atomic_load(&performs), atomic_load(&violations),
            first_violation ? first_violation : "none",
            atomic_load(&max_ns) / 1e3);
}

/* ---- the allocator: glibc's own entry points, no dlsym needed ---- */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

void *malloc(size_t n)
{
    violation("malloc");
    return __libc_malloc(n);
}
void *calloc(size_t a, size_t b)
{
    violation("calloc");
    return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n)
{
    violation("realloc");
    return __libc_realloc(p, n);
}
void free(void *p)
{
    violation("free");
    __libc_free(p);
}
void *memalign(size_t a, size_t n)
{
    violation("memalign");
    return __libc_memalign(a, n);
}
void *aligned_alloc(size_t a, size_t n)
{
    violation("aligned_alloc");
    return __libc_memalign(a, n);
}
int posix_memalign(void **p, size_t a, size_t n)
{
    violation("posix_memalign");
    *p = __libc_memalign(a, n);
    return *p ? 0 : 12;
}

/* ---- locks, waits, sleeps, writes: forwarded through dlsym ---- */
#define FORWARD(ret, name, params, args)                                       \
    ret name params                                                            \
    {                                                                          \
        static ret(*real) params;                                              \
        violation(#name);                                                      \
        if (!real) real = (ret(*) params)dlsym(RTLD_NEXT, #name);              \
        return real args;                                                      \
    }

FORWARD(int, pthread_mutex_lock, (pthread_mutex_t * m), (m))
FORWARD(int, pthread_mutex_trylock, (pthread_mutex_t * m), (m))
FORWARD(int, pthread_mutex_unlock, (pthread_mutex_t * m), (m))
FORWARD(int, pthread_cond_wait, (pthread_cond_t * c, pthread_mutex_t *m),
        (c, m))
FORWARD(int, pthread_cond_timedwait,
        (pthread_cond_t * c, pthread_mutex_t *m, const struct timespec *t),
        (c, m, t))
FORWARD(int, pthread_cond_signal, (pthread_cond_t * c), (c))
FORWARD(int, pthread_cond_broadcast, (pthread_cond_t * c), (c))
FORWARD(int, sem_post, (sem_t * s), (s))
FORWARD(int, sem_wait, (sem_t * s), (s))
FORWARD(int, nanosleep, (const struct timespec *a, struct timespec *b), (a, b))
FORWARD(int, usleep, (useconds_t u), (u))
FORWARD(int, sched_yield, (void), ())
FORWARD(ssize_t, write, (int fd, const void *b, size_t n), (fd, b, n))
