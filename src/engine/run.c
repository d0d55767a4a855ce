/* run.c - phase 4: an instance (arena + tensor table) runs the program.
 *
 * Everything run needs is built in onyx_instance_new: the tensors with their
 * data pointers into this instance's arena, and one onyx_exec per node with
 * its input/output pointer arrays. onyx_instance_run is then a loop of
 * indirect calls: no allocation, no locks, no I/O. */
#include "engine.h"
#include "../../kernels/math/threadpool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct onyx_instance {
    const onyx_program *p;
    unsigned char *arena;               /* owned, 64-aligned */
    onyx_tensor *tensors;               /* owned: one per program tensor */
    onyx_exec *execs;                   /* owned: one per node */
    onyx_status (**evals)(onyx_exec *); /* owned: each node's eval, in order:
                                           the run loop's only lookup */
    onyx_tensor **ptrs; /* owned: the in/out pointer arrays of execs */
    /* owned, only when the program has guarded nodes (run-time If
     * branches): per node, its guard's byte (NULL: none) and the value it
     * must hold for the node to run */
    const uint8_t **guard;
    uint8_t *guard_want;
    int profiling;
    uint64_t *node_ns;    /* owned: per-node time when profiling */
    uint64_t *last_start; /* owned: the last profiled run, per node: start
                             (ns since the run began) and duration */
    uint64_t *last_dur;
    onyx_threads *threads; /* owned: the pool of onyx_instance_set_threads,
                              NULL for one thread */
};

onyx_instance *onyx_instance_new(const onyx_program *p, onyx_error *err)
{
    onyx_instance *x = calloc(1, sizeof *x);
    if (!x) goto nomem;
    x->p = p;
    size_t arena = (p->arena_bytes + 63) & ~(size_t)63;
    x->arena = aligned_alloc(64, arena ? arena : 64);
    x->tensors = calloc((size_t)p->n_tensors + 1, sizeof *x->tensors);
    x->execs = calloc((size_t)p->n_nodes + 1, sizeof *x->execs);
    x->evals = calloc((size_t)p->n_nodes + 1, sizeof *x->evals);
    x->node_ns = calloc((size_t)p->n_nodes + 1, sizeof *x->node_ns);
    x->last_start = calloc((size_t)p->n_nodes + 1, sizeof *x->last_start);
    x->last_dur = calloc((size_t)p->n_nodes + 1, sizeof *x->last_dur);
    size_t n_ptrs = 0;
    for (int j = 0; j < p->n_nodes; j++)
        n_ptrs += (size_t)(p->nodes[j].n_in + p->nodes[j].n_out);
    x->ptrs = calloc(n_ptrs + 1, sizeof *x->ptrs);
    if (!x->arena || !x->tensors || !x->execs || !x->evals || !x->node_ns ||
        !x->ptrs || !x->last_start || !x->last_dur)
        goto nomem;
    memset(x->arena, 0, arena ? arena : 64);
    for (int i = 0; i < p->n_tensors; i++) {
        const onyx_ptensor *pt = &p->tensors[i];
        x->tensors[i] = pt->t;
        if (pt->loc == ONYX_LOC_ARENA)
            x->tensors[i].data = x->arena + pt->offset;
    }
    onyx_tensor **cur = x->ptrs;
    for (int j = 0; j < p->n_nodes; j++) {
        const onyx_pnode *pn = &p->nodes[j];
        onyx_exec *e = &x->execs[j];
        e->in = (const onyx_tensor *const *)cur;
        for (int k = 0; k < pn->n_in; k++)
            *cur++ = pn->in[k] >= 0 ? &x->tensors[pn->in[k]] : NULL;
        e->out = cur;
        for (int k = 0; k < pn->n_out; k++)
            *cur++ = pn->out[k] >= 0 ? &x->tensors[pn->out[k]] : NULL;
        e->n_in = pn->n_in;
        e->n_out = pn->n_out;
        e->params = pn->params;
        e->scratch = pn->scratch_bytes ? x->arena + pn->scratch_offset : NULL;
        x->evals[j] = pn->op->eval;
    }
    if (p->n_guarded) {
        x->guard = calloc((size_t)p->n_nodes + 1, sizeof *x->guard);
        x->guard_want = calloc((size_t)p->n_nodes + 1, 1);
        if (!x->guard || !x->guard_want) goto nomem;
        for (int j = 0; j < p->n_nodes; j++)
            if (p->nodes[j].guard) {
                x->guard[j] = x->tensors[p->nodes[j].guard - 1].data;
                x->guard_want[j] = p->nodes[j].guard_want;
            }
    }
    return x;
nomem:
    onyx_instance_free(x);
    onyx_seterr(err, ONYX_ERR_NOMEM,
                "out of memory for an instance (arena %zu bytes)",
                p->arena_bytes);
    return NULL;
}

void onyx_instance_free(onyx_instance *x)
{
    if (!x) return;
    onyx_threads_free(x->threads);
    free(x->arena);
    free(x->tensors);
    free(x->execs);
    free(x->evals);
    free(x->ptrs);
    free(x->guard);
    free(x->guard_want);
    free(x->node_ns);
    free(x->last_start);
    free(x->last_dur);
    free(x);
}

onyx_tensor *onyx_instance_input(onyx_instance *x, int i)
{
    if (i < 0 || i >= x->p->n_inputs) return NULL;
    return &x->tensors[x->p->inputs[i]];
}

const onyx_tensor *onyx_instance_output(const onyx_instance *x, int i)
{
    if (i < 0 || i >= x->p->n_outputs) return NULL;
    return &x->tensors[x->p->outputs[i]];
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

onyx_status onyx_instance_set_threads(onyx_instance *x, int n,
                                      onyx_error *err)
{
    if (n == onyx_threads_count(x->threads)) return ONYX_OK;
    onyx_threads_free(x->threads);
    x->threads = NULL;
    if (n < 2) return ONYX_OK;
    x->threads = onyx_threads_new(n);
    if (x->threads) return ONYX_OK;
    onyx_seterr(err, ONYX_ERR_NOMEM, "cannot start %d threads", n - 1);
    return ONYX_ERR_NOMEM;
}

int onyx_instance_threads(const onyx_instance *x)
{
    return onyx_threads_count(x->threads);
}

static onyx_status run_nodes(onyx_instance *x, const char **why, int *node);

/* The kernels find the pool as the thread's current one (threadpool.h). */
onyx_status onyx_instance_run(onyx_instance *x, const char **why, int *node)
{
    if (!x->threads) return run_nodes(x, why, node);
    onyx_threads *was = onyx_threads_enter(x->threads);
    onyx_status st = run_nodes(x, why, node);
    onyx_threads_enter(was);
    return st;
}

static onyx_status run_nodes(onyx_instance *x, const char **why, int *node)
{
    const onyx_program *p = x->p;
    int n = p->n_nodes;
    if (!x->profiling && !x->guard) {
        for (int j = 0; j < n; j++) {
            onyx_exec *e = &x->execs[j];
            onyx_status st = x->evals[j](e);
            if (st != ONYX_OK) {
                if (why) *why = e->err ? e->err : "evaluation failed";
                if (node) *node = j;
                return st;
            }
        }
        return ONYX_OK;
    }
    if (!x->profiling) {
        for (int j = 0; j < n; j++) {
            if (x->guard[j] && (*x->guard[j] != 0) != x->guard_want[j])
                continue;
            onyx_exec *e = &x->execs[j];
            onyx_status st = x->evals[j](e);
            if (st != ONYX_OK) {
                if (why) *why = e->err ? e->err : "evaluation failed";
                if (node) *node = j;
                return st;
            }
        }
        return ONYX_OK;
    }
    uint64_t begin = now_ns();
    for (int j = 0; j < n; j++) {
        onyx_exec *e = &x->execs[j];
        if (x->guard && x->guard[j] &&
            (*x->guard[j] != 0) != x->guard_want[j]) {
            x->last_start[j] = x->last_dur[j] = 0;
            continue;
        }
        uint64_t t0 = now_ns();
        onyx_status st = p->nodes[j].op->eval(e);
        uint64_t t1 = now_ns();
        x->node_ns[j] += t1 - t0;
        x->last_start[j] = t0 - begin;
        x->last_dur[j] = t1 - t0;
        if (st != ONYX_OK) {
            if (why) *why = e->err ? e->err : "evaluation failed";
            if (node) *node = j;
            return st;
        }
    }
    return ONYX_OK;
}

void onyx_instance_profile(onyx_instance *x, int enable)
{
    x->profiling = enable;
}
const uint64_t *onyx_instance_node_ns(const onyx_instance *x)
{
    return x->node_ns;
}
void onyx_instance_node_last(const onyx_instance *x, const uint64_t **start,
                             const uint64_t **dur)
{
    *start = x->last_start;
    *dur = x->last_dur;
}
void onyx_instance_profile_reset(onyx_instance *x)
{
    memset(x->node_ns, 0, sizeof *x->node_ns * (size_t)(x->p->n_nodes + 1));
}

void onyx_run_error(const onyx_program *p, onyx_status st, const char *why,
                    int node, onyx_error *err)
{
    if (node >= 0 && node < p->n_nodes)
        onyx_seterr(err, st, "%s: node '%s' (%s): %s", p->model->path,
                    p->nodes[node].name, p->nodes[node].op_type,
                    why ? why : "failed");
    else
        onyx_seterr(err, st, "%s: %s", p->model->path, why ? why : "failed");
}
