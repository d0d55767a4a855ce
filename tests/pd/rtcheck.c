/* rtcheck.c - LD_PRELOAD shim for the real-time-safety test of [onyx~].
 *
 * The test build of the externals (make pd-rtcheck, -DONYX_RT_CHECK) calls
 * onyx_rt_enter() / onyx_rt_leave() around its perform routine. While a
 * thread is between the two, every call here counts as a violation: the
 * allocator, locks (mutexes, condition variables, rwlocks, spinlocks,
 * semaphores), clocks (clock_gettime, gettimeofday, time: a real syscall on
 * Bela's AM335x, a Xenomai mode switch), sleeps, file and console I/O,
 * memory mapping, threads and the raw syscall() wrapper.
 *
 * Stack depth. onyx_rt_enter paints the PAINT_BYTES below its own frame with
 * a pattern (leaving MARGIN_BYTES under the stack pointer for its own
 * callees); onyx_rt_leave finds the deepest word no longer holding the
 * pattern: that is how far below perform's frame the stack went. The
 * figure is exact to a word below MARGIN_BYTES, and reads MARGIN_BYTES when
 * the stack never went deeper than that.
 *
 * Signal handlers are not perform's code (Pd's watchdog interrupts a
 * perform that takes too long, and its handler sleeps): sigaction and
 * signal are interposed so that handlers run with the check off. Their
 * frames do count in the stack depth.
 *
 * At exit one line goes to stderr:
 *   rtcheck: performs N violations V first NAME max_perform_us U
 *            max_stack_bytes S
 * and tests/pd/run.sh fails when V > 0, N == 0 or S > 16384.
 * (S is ">=PAINT_BYTES" when the paint was overwritten to its end.)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum {
    PAINT_BYTES = 256 * 1024, /* measured depth: up to this */
    MARGIN_BYTES = 1024,      /* left for enter's own callees */
    GUARD_BYTES = 64 * 1024   /* never paint this close to the stack's end */
};
#define PATTERN ((uintptr_t)0x5aa5c33c5aa5c33cull)

static __thread int in_perform;
static __thread struct timespec perform_t0;
static __thread uintptr_t stack_lo;            /* lowest usable address, 0: ? */
static __thread uintptr_t paint_top, paint_lo; /* [paint_lo, paint_top) */
static _Atomic long performs, violations, max_stack;
static _Atomic long long max_ns;     /* 64 bits also on armv7 */
static _Atomic int stack_overflowed; /* the paint was used to its end */
static const char *_Atomic first_violation;

static int (*real_clock_gettime)(clockid_t, struct timespec *);

__attribute__((constructor)) static void rtcheck_init(void)
{
    real_clock_gettime = (int (*)(clockid_t, struct timespec *))dlsym(
        RTLD_NEXT, "clock_gettime");
}

static void now(struct timespec *t)
{
    if (real_clock_gettime) real_clock_gettime(CLOCK_MONOTONIC, t);
}

/* The stack's lowest address, once per thread (pthread_getattr_np reads
 * /proc/self/maps for the main thread: outside perform only). */
static void find_stack(void)
{
    pthread_attr_t a;
    void *addr = NULL;
    size_t size = 0;
    stack_lo = 1; /* tried */
    if (pthread_getattr_np(pthread_self(), &a)) return;
    if (!pthread_attr_getstack(&a, &addr, &size) && addr)
        stack_lo = (uintptr_t)addr + GUARD_BYTES;
    pthread_attr_destroy(&a);
}

/* noinline: its frame is the reference the depth is measured from (the
 * perform routine calls it first thing, so perform's frame is just above). */
__attribute__((noinline)) void onyx_rt_enter(void)
{
    if (!stack_lo) find_stack();
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    paint_top = (sp - MARGIN_BYTES) & ~(uintptr_t)(sizeof(uintptr_t) - 1);
    paint_lo = paint_top - PAINT_BYTES;
    if (stack_lo > 1 && paint_lo < stack_lo) paint_lo = stack_lo;
    /* volatile: a plain loop may be turned into a call to memset, whose
     * frame would sit in the region being painted */
    volatile uintptr_t *p = (volatile uintptr_t *)paint_lo;
    for (uintptr_t *end = (uintptr_t *)paint_top; (uintptr_t *)p < end; p++)
        *p = PATTERN;
    in_perform++;
    now(&perform_t0);
}

__attribute__((noinline)) void onyx_rt_leave(void)
{
    struct timespec t;
    now(&t);
    in_perform--;
    long long ns = (t.tv_sec - perform_t0.tv_sec) * 1000000000LL +
                   (t.tv_nsec - perform_t0.tv_nsec);
    long long old_ns = atomic_load(&max_ns);
    while (ns > old_ns && !atomic_compare_exchange_weak(&max_ns, &old_ns, ns))
        ;
    /* deepest word changed: scan up from the bottom of the paint */
    const volatile uintptr_t *p = (const volatile uintptr_t *)paint_lo;
    const uintptr_t *end = (const uintptr_t *)paint_top;
    while ((const uintptr_t *)p < end && *p == PATTERN)
        p++;
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    long depth = MARGIN_BYTES;
    if ((const uintptr_t *)p < end) depth = (long)(sp - (uintptr_t)p);
    if ((uintptr_t)p == paint_lo) atomic_store(&stack_overflowed, 1);
    long old = atomic_load(&max_stack);
    while (depth > old &&
           !atomic_compare_exchange_weak(&max_stack, &old, depth))
        ;
    atomic_fetch_add(&performs, 1);
}

static void violation(const char *what)
{
    if (!in_perform) return;
    atomic_fetch_add(&violations, 1);
    const char *none = NULL;
    if (atomic_compare_exchange_strong(&first_violation, &none, what) &&
        getenv("RTCHECK_TRACE")) { /* where the first one came from */
        void *frames[32];
        in_perform--; /* backtrace's own calls are not perform's */
        backtrace_symbols_fd(frames, backtrace(frames, 32), 2);
        in_perform++;
    }
}

__attribute__((destructor)) static void rtcheck_report(void)
{
    char stack[32];
    snprintf(stack, sizeof stack, "%s%ld",
             atomic_load(&stack_overflowed) ? ">=" : "",
             atomic_load(&max_stack));
    fprintf(stderr,
            "rtcheck: performs %ld violations %ld first %s "
            "max_perform_us %.1f max_stack_bytes %s\n",
            atomic_load(&performs), atomic_load(&violations),
            first_violation ? first_violation : "none",
            atomic_load(&max_ns) / 1e3, stack);
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

/* ---- everything else: forwarded through dlsym ---- */
#define FORWARD(ret, name, params, args)                                       \
    ret name params                                                            \
    {                                                                          \
        static ret(*real) params;                                              \
        violation(#name);                                                      \
        if (!real) real = (ret(*) params)dlsym(RTLD_NEXT, #name);              \
        return real args;                                                      \
    }

/* locks and waits */
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
FORWARD(int, pthread_rwlock_rdlock, (pthread_rwlock_t * l), (l))
FORWARD(int, pthread_rwlock_wrlock, (pthread_rwlock_t * l), (l))
FORWARD(int, pthread_spin_lock, (pthread_spinlock_t * l), (l))
FORWARD(int, sem_post, (sem_t * s), (s))
FORWARD(int, sem_wait, (sem_t * s), (s))
FORWARD(int, sem_timedwait, (sem_t * s, const struct timespec *t), (s, t))
/* threads */
FORWARD(int, pthread_create,
        (pthread_t * t, const pthread_attr_t *a, void *(*f)(void *), void *p),
        (t, a, f, p))
FORWARD(int, pthread_join, (pthread_t t, void **r), (t, r))
FORWARD(int, pthread_setschedparam,
        (pthread_t t, int pol, const struct sched_param *sp), (t, pol, sp))
/* clocks: rtcheck's own reads go through real_clock_gettime */
FORWARD(int, clock_gettime, (clockid_t c, struct timespec *t), (c, t))
FORWARD(int, gettimeofday, (struct timeval * tv, void *tz), (tv, tz))
FORWARD(time_t, time, (time_t * t), (t))
/* sleeps */
FORWARD(int, nanosleep, (const struct timespec *a, struct timespec *b), (a, b))
FORWARD(int, clock_nanosleep,
        (clockid_t c, int f, const struct timespec *a, struct timespec *b),
        (c, f, a, b))
FORWARD(int, usleep, (useconds_t u), (u))
FORWARD(unsigned, sleep, (unsigned s), (s))
FORWARD(int, sched_yield, (void), ())
/* I/O */
FORWARD(ssize_t, write, (int fd, const void *b, size_t n), (fd, b, n))
FORWARD(ssize_t, read, (int fd, void *b, size_t n), (fd, b, n))
FORWARD(int, poll, (struct pollfd * f, nfds_t n, int t), (f, n, t))
FORWARD(int, select,
        (int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *t),
        (n, r, w, e, t))
FORWARD(FILE *, fopen, (const char *p, const char *m), (p, m))
FORWARD(int, fputs, (const char *s, FILE *f), (s, f))
FORWARD(int, puts, (const char *s), (s))
FORWARD(size_t, fwrite, (const void *p, size_t s, size_t n, FILE *f),
        (p, s, n, f))
FORWARD(int, fflush, (FILE * f), (f))
FORWARD(int, vfprintf, (FILE * f, const char *fmt, va_list ap), (f, fmt, ap))
/* memory mapping */
FORWARD(void *, mmap, (void *a, size_t n, int pr, int fl, int fd, off_t o),
        (a, n, pr, fl, fd, o))
FORWARD(int, munmap, (void *a, size_t n), (a, n))
FORWARD(int, mprotect, (void *a, size_t n, int pr), (a, n, pr))

/* variadic ones, forwarded with their arguments read here */
static int (*real_vfprintf)(FILE *, const char *, va_list);
static int forward_vfprintf(FILE *f, const char *fmt, va_list ap)
{
    if (!real_vfprintf)
        real_vfprintf = (int (*)(FILE *, const char *, va_list))dlsym(
            RTLD_NEXT, "vfprintf");
    return real_vfprintf(f, fmt, ap);
}
int fprintf(FILE *f, const char *fmt, ...)
{
    violation("fprintf");
    va_list ap;
    va_start(ap, fmt);
    int r = forward_vfprintf(f, fmt, ap);
    va_end(ap);
    return r;
}
int printf(const char *fmt, ...)
{
    violation("printf");
    va_list ap;
    va_start(ap, fmt);
    int r = forward_vfprintf(stdout, fmt, ap);
    va_end(ap);
    return r;
}
long syscall(long nr, ...)
{
    static long (*real)(long, ...);
    violation("syscall");
    if (!real) real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
    va_list ap;
    va_start(ap, nr);
    long a[6];
    for (int i = 0; i < 6; i++)
        a[i] = va_arg(ap, long);
    va_end(ap);
    return real(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* ---- signal handlers run with the check off ---- */
static void (*user_handler[NSIG])(int, siginfo_t *, void *);

static void trampoline(int sig, siginfo_t *info, void *ctx)
{
    int was = in_perform;
    in_perform = 0;
    if (sig > 0 && sig < NSIG && user_handler[sig])
        user_handler[sig](sig, info, ctx);
    in_perform = was;
}

int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    static int (*real)(int, const struct sigaction *, struct sigaction *);
    if (!real)
        real = (int (*)(int, const struct sigaction *,
                        struct sigaction *))dlsym(RTLD_NEXT, "sigaction");
    struct sigaction mine;
    void (*prev)(int, siginfo_t *, void *) =
        sig > 0 && sig < NSIG ? user_handler[sig] : NULL;
    const struct sigaction *use = act;
    if (act && sig > 0 && sig < NSIG && act->sa_handler != SIG_DFL &&
        act->sa_handler != SIG_IGN) {
        mine = *act;
        user_handler[sig] = act->sa_flags & SA_SIGINFO
                                ? act->sa_sigaction
                                : (void (*)(int, siginfo_t *, void *))(
                                      void (*)(void))act->sa_handler;
        mine.sa_flags |= SA_SIGINFO;
        mine.sa_sigaction = trampoline;
        use = &mine;
    }
    int r = real(sig, use, old);
    if (!r && old && prev && old->sa_sigaction == trampoline)
        old->sa_sigaction = prev; /* flags keep SA_SIGINFO: same call */
    return r;
}

sighandler_t signal(int sig, sighandler_t h)
{
    struct sigaction a, old;
    memset(&a, 0, sizeof a);
    a.sa_handler = h;
    a.sa_flags = SA_RESTART;
    sigemptyset(&a.sa_mask);
    return sigaction(sig, &a, &old) ? SIG_ERR : old.sa_handler;
}
