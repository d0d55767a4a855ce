/* worker.c - the worker thread of a streaming host (onyx_worker.h). */
#include "onyx_worker.h"
#include "../../kernels/math/gemm.h"
#include "stream_impl.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <time.h>

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

/* exit() against running workers (onyx_workers_exit): a worker raises
 * in_step before it reads exiting (Dekker-style, like pause and busy), so
 * that exit sees either the step or a worker that will not start one. */
static atomic_int exiting, in_step;

void onyx_workers_exit(void)
{
    atomic_store(&exiting, 1);
    for (int i = 0; i < 5000 && atomic_load(&in_step); i++)
        sleep_us(1000);
}

static void retire(onyx_worker *w, onyx_worker_item *item)
{
    if (item && w->cfg.retire) w->cfg.retire(w->cfg.ctx, item);
}

static void retire_list(onyx_worker *w)
{
    onyx_worker_item *it = atomic_exchange(&w->retired, NULL);
    while (it) {
        onyx_worker_item *next = it->next;
        retire(w, it);
        it = next;
    }
}

/* Step 3 (onyx_worker.h). busy is raised before pause is read, and pause
 * before busy is read (onyx_worker_pause): the control thread never sees
 * both 'not busy' and a worker about to touch the active stream. */
static int play(onyx_worker *w)
{
    int did = 0;
    atomic_store(&w->busy, 1);
    if (!atomic_load(&w->pause)) {
        onyx_worker_item *it = atomic_load(&w->active);
        if (it) did |= onyx_stream_work(it->stream) != 0;
        if (w->cfg.step) did |= w->cfg.step(w->cfg.ctx, it);
        w->nap_us = it ? stream_idle_us(it->stream) : 1000;
    }
    atomic_store(&w->busy, 0);
    return did;
}

/* One step; 0 when the worker is to end. */
static int step(onyx_worker *w)
{
    atomic_fetch_add(&in_step, 1);
    if (atomic_load(&exiting)) {
        atomic_fetch_sub(&in_step, 1);
        return 0;
    }
    int did = w->cfg.chores ? w->cfg.chores(w->cfg.ctx) : 0;
    retire_list(w);
    did |= play(w);
    atomic_fetch_sub(&in_step, 1);
    if (!did) sleep_us(w->nap_us);
    return 1;
}

static void *worker_main(void *arg)
{
    onyx_worker *w = arg;
    if (w->cfg.sync_kernels) onyx_sgemm_realtime(1);
    while (!atomic_load(&w->quit) && step(w))
        ;
    return NULL;
}

void onyx_worker_init(onyx_worker *w, const onyx_worker_config *cfg)
{
    memset(w, 0, sizeof *w);
    if (cfg) w->cfg = *cfg;
    w->nap_us = 1000;
    atomic_init(&w->quit, 0);
    atomic_init(&w->pause, 0);
    atomic_init(&w->busy, 0);
    atomic_init(&w->active, NULL);
    atomic_init(&w->retired, NULL);
}

int onyx_worker_start(onyx_worker *w, int *prio_rc)
{
    if (prio_rc) *prio_rc = 0;
    if (w->started) return 0;
    atomic_store(&w->quit, 0);
    if (pthread_create(&w->thread, NULL, worker_main, w)) return -1;
    w->started = 1;
    int prio = w->priority;
    w->priority = 0; /* what it runs at now */
    int rc = prio ? onyx_worker_priority(w, prio) : 0;
    if (prio_rc) *prio_rc = rc;
    return 0;
}

int onyx_worker_priority(onyx_worker *w, int prio)
{
    if (!w->started) {
        w->priority = prio;
        return 0;
    }
    struct sched_param sp;
    memset(&sp, 0, sizeof sp);
    sp.sched_priority = prio;
    int rc =
        pthread_setschedparam(w->thread, prio ? SCHED_FIFO : SCHED_OTHER, &sp);
    if (!rc) w->priority = prio;
    return rc;
}

void onyx_worker_pause(onyx_worker *w)
{
    atomic_store(&w->pause, 1);
    while (w->started && atomic_load(&w->busy))
        sleep_us(50);
}

void onyx_worker_resume(onyx_worker *w)
{
    atomic_store(&w->pause, 0);
}

void onyx_worker_swap(onyx_worker *w, onyx_worker_item *item)
{
    if (item) stream_attach_worker(item->stream, &w->pause);
    onyx_worker_item *old = atomic_exchange(&w->active, item);
    if (!old) return;
    if (!w->started) { /* no worker can be using it */
        retire(w, old);
        return;
    }
    /* the worker may still be inside work(old): it retires it afterwards */
    onyx_worker_item *head = atomic_load(&w->retired);
    do
        old->next = head;
    while (!atomic_compare_exchange_weak(&w->retired, &head, old));
}

void onyx_worker_stop(onyx_worker *w)
{
    if (w->started) {
        atomic_store(&w->quit, 1);
        pthread_join(w->thread, NULL);
        w->started = 0;
    }
    retire_list(w);
    retire(w, atomic_exchange(&w->active, NULL));
}
