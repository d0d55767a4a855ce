/* resolve.c - phases 2 and 3: bind input shapes, order the graph, prepare
 * every node (shape inference), fold constants, drop Identity/Dropout and
 * dead nodes, turn the ops that only reshape into views that share their
 * input's bytes, fuse MatMul with the Adds that follow it, then plan the
 * arena. Subgraphs are inlined: an If's branch (or both, guarded), a Loop's
 * or Scan's body once per iteration.
 *
 * Tensor states while resolving:
 *   const  value fixed for every run (initializer, Constant, folded): the
 *          node that made it is gone, its data lives in the program pool;
 *   known  value bound by the caller or computed from bound values: visible
 *          to prepare (for shapes), but the node still runs;
 *   neither: only dtype and shape are known. */
#include "resolve.h"
#include "blas_policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

int onyx_strmap_init(strmap *m, size_t n, onyx_pool *pl)
{
    m->cap = 16;
    while (m->cap < n * 2)
        m->cap *= 2;
    m->n = 0;
    m->pl = pl;
    m->keys = onyx_pool_alloc(pl, m->cap * sizeof *m->keys);
    m->vals = onyx_pool_alloc(pl, m->cap * sizeof *m->vals);
    return m->keys && m->vals;
}

int *onyx_strmap_slot(strmap *m, const char *k, int insert)
{
    size_t i = (size_t)str_hash(k) & (m->cap - 1);
    while (m->keys[i]) {
        if (strcmp(m->keys[i], k) == 0) return &m->vals[i];
        i = (i + 1) & (m->cap - 1);
    }
    if (!insert) return NULL;
    m->keys[i] = k;
    m->vals[i] = -1;
    m->n++;
    return &m->vals[i];
}

/* Makes room for `more` keys (an unrolled Loop or Scan adds names the
 * first sizing did not count): a bigger table, rehashed, when the load
 * would pass one half. The old arrays stay in the pool. 0 when out of
 * memory. */
int onyx_strmap_reserve(strmap *m, size_t more)
{
    if ((m->n + more) * 2 <= m->cap) return 1;
    strmap g;
    if (!onyx_strmap_init(&g, m->n + more, m->pl)) return 0;
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i]) *onyx_strmap_slot(&g, m->keys[i], 1) = m->vals[i];
    *m = g;
    return 1;
}

int onyx_add_tensor(resolver *R, const char *name)
{
    onyx_program *p = R->p;
    if (p->n_tensors >= R->cap_tensors) return -1;
    int i = p->n_tensors++;
    memset(&p->tensors[i], 0, sizeof p->tensors[i]);
    p->tensors[i].name = name;
    p->tensors[i].loc = ONYX_LOC_ARENA;
    p->tensors[i].first = p->tensors[i].last = -1;
    p->tensors[i].alias = -1;
    R->producer[i] = -1;
    if (name[0]) *onyx_strmap_slot(&R->names, name, 1) = i;
    return i;
}

int onyx_find_tensor(resolver *R, const char *name)
{
    int *v = onyx_strmap_slot(&R->names, name, 0);
    return v ? *v : -1;
}

/* bytes of t, or -1 when over the limit / malformed */
int64_t onyx_tensor_bytes(const onyx_tensor *t, int64_t limit)
{
    size_t es = onyx_dtype_size(t->dtype);
    if (es == 0 || t->rank < 0 || t->rank > ONYX_MAX_RANK) return -1;
    int64_t n = (int64_t)es;
    for (int i = 0; i < t->rank; i++) {
        if (t->dims[i] < 0) return -1;
        if (t->dims[i] && n > limit / t->dims[i]) return -1;
        n *= t->dims[i];
    }
    return n > limit ? -1 : n;
}

static const char *node_label(const onyx_nodedef *nd, int idx, char *buf,
                              size_t cap)
{
    snprintf(buf, cap, "node %d '%s' (%s)", idx, nd->name, nd->op_type);
    return buf;
}

/* ---- inputs ---- */
static onyx_status bind_inputs(resolver *R, const onyx_bind *binds, int n_binds)
{
    const onyx_model *m = R->m;
    onyx_program *p = R->p;
    for (int b = 0; b < n_binds; b++) {
        int found = 0;
        for (int i = 0; i < m->n_inputs && !found; i++)
            found = strcmp(m->inputs[i].name, binds[b].name) == 0;
        if (!found)
            RFAIL(R, ONYX_ERR_INVALID, "%s: the model has no input named '%s'",
                  m->path, binds[b].name);
    }
    p->n_inputs = m->n_inputs;
    p->inputs =
        onyx_pool_alloc(&p->pool, sizeof(int) * (size_t)(m->n_inputs + 1));
    p->input_names =
        onyx_pool_alloc(&p->pool, sizeof(char *) * (size_t)(m->n_inputs + 1));
    if (!p->inputs || !p->input_names)
        RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
    for (int i = 0; i < m->n_inputs; i++) {
        const onyx_value_info *vi = &m->inputs[i];
        const onyx_bind *bd = NULL;
        for (int b = 0; b < n_binds; b++)
            if (strcmp(binds[b].name, vi->name) == 0) bd = &binds[b];
        if (onyx_find_tensor(R, vi->name) >= 0)
            RFAIL(R, ONYX_ERR_PARSE, "%s: graph input '%s' is declared twice",
                  m->path, vi->name);
        int ti = onyx_add_tensor(R, vi->name);
        if (ti < 0) RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
        onyx_ptensor *pt = &p->tensors[ti];
        if (onyx_dtype_size(vi->dtype) == 0)
            RFAIL(R, ONYX_ERR_UNSUPPORTED,
                  "%s: input '%s' has dtype %s, which onyx does not take",
                  m->path, vi->name, onyx_dtype_name(vi->dtype));
        pt->t.dtype = vi->dtype;
        if (bd) {
            if (bd->rank < 0 || bd->rank > ONYX_MAX_RANK)
                RFAIL(R, ONYX_ERR_INVALID,
                      "%s: input '%s': rank %d is not valid", m->path, vi->name,
                      bd->rank);
            if (vi->rank >= 0 && vi->rank != bd->rank)
                RFAIL(R, ONYX_ERR_INVALID,
                      "%s: input '%s' has rank %d, the model expects %d",
                      m->path, vi->name, bd->rank, vi->rank);
            pt->t.rank = bd->rank;
            for (int d = 0; d < bd->rank; d++) {
                if (bd->dims[d] < 0)
                    RFAIL(R, ONYX_ERR_INVALID,
                          "%s: input '%s': dim %d is negative", m->path,
                          vi->name, d);
                if (vi->rank >= 0 && vi->dims[d] >= 0 && !vi->dim_names[d] &&
                    vi->dims[d] != bd->dims[d]) {
                    char a[128], b2[256];
                    onyx_tensor got = {0};
                    got.rank = bd->rank;
                    memcpy(got.dims, bd->dims, sizeof got.dims);
                    RFAIL(R, ONYX_ERR_INVALID,
                          "%s: input '%s' has shape %s, the model expects %s",
                          m->path, vi->name, onyx_shape_str(&got, a, sizeof a),
                          onyx_value_shape_str(vi, b2, sizeof b2));
                }
                pt->t.dims[d] = bd->dims[d];
            }
            if (bd->data) {
                pt->t.data = (void *)bd->data;
                R->known[ti] = 1;
            }
        } else {
            if (vi->rank < 0)
                RFAIL(R, ONYX_ERR_INVALID,
                      "%s: input '%s' has no shape in the model: give one",
                      m->path, vi->name);
            pt->t.rank = vi->rank;
            for (int d = 0; d < vi->rank; d++) {
                if (vi->dims[d] < 0)
                    RFAIL(R, ONYX_ERR_INVALID,
                          "%s: input '%s' dim %d ('%s') is symbolic: give its "
                          "size",
                          m->path, vi->name, d,
                          vi->dim_names[d] ? vi->dim_names[d] : "?");
                pt->t.dims[d] = vi->dims[d];
            }
        }
        int64_t by = onyx_tensor_bytes(&pt->t, m->lim.max_tensor_bytes);
        if (by < 0)
            RFAIL(R, ONYX_ERR_LIMIT,
                  "%s: input '%s' is larger than %lld bytes "
                  "(onyx_limits.max_tensor_bytes)",
                  m->path, vi->name, (long long)m->lim.max_tensor_bytes);
        pt->bytes = (size_t)by;
        p->inputs[i] = ti;
        p->input_names[i] = vi->name;
    }
    return ONYX_OK;
}

/* ---- topological order (Kahn), with dangling-name and cycle checks ---- */

/* The main graph's dependencies: an edge from the node that makes a value
 * to each node that reads it (directly, or in a subgraph). */
typedef struct deps {
    strmap prod; /* output name -> node */
    onyx_pool tmp;
    int64_t n_edges;
    int *indeg, *queue, *depth; /* depth: longest chain to the node */
    int *edge_from, *edge_to;
    int *start, *adj; /* consumers of node i: adj[start[i]..start[i+1]) */
} deps;

static void deps_free(deps *d)
{
    free(d->indeg);
    free(d->depth);
    free(d->queue);
    free(d->edge_from);
    free(d->edge_to);
    free(d->start);
    free(d->adj);
    onyx_pool_free(&d->tmp);
}

static int deps_alloc(resolver *R, deps *d)
{
    const onyx_model *m = R->m;
    size_t n = (size_t)m->n_nodes;
    int64_t n_edges = 0, n_out = 0;
    for (int i = 0; i < m->n_nodes; i++) {
        n_edges += m->nodes[i].n_in + R->implicit[i].n;
        n_out += m->nodes[i].n_out;
    }
    d->indeg = calloc(n + 1, sizeof(int));
    d->queue = calloc(n + 1, sizeof(int));
    d->depth = calloc(n + 1, sizeof(int));
    d->edge_from = calloc((size_t)n_edges + 1, sizeof(int));
    d->edge_to = calloc((size_t)n_edges + 1, sizeof(int));
    d->start = calloc(n + 2, sizeof(int));
    d->adj = calloc((size_t)n_edges + 1, sizeof(int));
    return d->indeg && d->queue && d->depth && d->edge_from && d->edge_to &&
           d->start && d->adj &&
           onyx_strmap_init(&d->prod, (size_t)n_out + 1, &d->tmp);
}

/* prod: which node makes each value; a value made twice is an error. */
static onyx_status index_outputs(resolver *R, deps *d)
{
    const onyx_model *m = R->m;
    for (int i = 0; i < m->n_nodes; i++) {
        const onyx_nodedef *nd = &m->nodes[i];
        for (int k = 0; k < nd->n_out; k++) {
            if (!nd->outputs[k][0]) continue;
            int *slot = onyx_strmap_slot(&d->prod, nd->outputs[k], 1);
            if (*slot >= 0 || onyx_find_tensor(R, nd->outputs[k]) >= 0) {
                char lb[256];
                RFAIL(R, ONYX_ERR_PARSE, "%s: %s: output '%s' is defined twice",
                      m->path, node_label(nd, i, lb, sizeof lb),
                      nd->outputs[k]);
            }
            *slot = i;
        }
    }
    return ONYX_OK;
}

/* The edges, in a CSR by producer; a value that nothing makes is an
 * error. */
static onyx_status collect_edges(resolver *R, deps *d)
{
    const onyx_model *m = R->m;
    int64_t e = 0;
    for (int i = 0; i < m->n_nodes; i++) {
        const onyx_nodedef *nd = &m->nodes[i];
        /* the node's inputs, then what its subgraphs read (an If must run
         * after the values its branches use) */
        for (int k = 0; k < nd->n_in + R->implicit[i].n; k++) {
            const char *nm =
                k < nd->n_in ? nd->inputs[k] : R->implicit[i].v[k - nd->n_in];
            if (!nm[0]) continue;
            int *slot = onyx_strmap_slot(&d->prod, nm, 0);
            if (slot) {
                d->edge_from[e] = *slot;
                d->edge_to[e] = i;
                e++;
                d->indeg[i]++;
            } else if (onyx_find_tensor(R, nm) < 0) {
                char lb[256];
                RFAIL(R, ONYX_ERR_PARSE,
                      "%s: %s: input '%s' is not produced by any node, "
                      "initializer or graph input",
                      m->path, node_label(nd, i, lb, sizeof lb), nm);
            }
        }
    }
    d->n_edges = e;
    for (int64_t k = 0; k < e; k++)
        d->start[d->edge_from[k] + 1]++;
    for (int i = 0; i < m->n_nodes; i++)
        d->start[i + 1] += d->start[i];
    int *fill = d->queue; /* reused as a cursor array for now */
    for (int i = 0; i < m->n_nodes; i++)
        fill[i] = d->start[i];
    for (int64_t k = 0; k < e; k++)
        d->adj[fill[d->edge_from[k]]++] = d->edge_to[k];
    return ONYX_OK;
}

/* Kahn's order into order[]; a cycle, or a chain longer than
 * onyx_limits.max_depth, is an error. */
static onyx_status kahn(resolver *R, deps *d, int *order)
{
    const onyx_model *m = R->m;
    int n = m->n_nodes, head = 0, tail = 0, deepest = 0;
    char lb[256];
    for (int i = 0; i < n; i++)
        if (d->indeg[i] == 0) d->queue[tail++] = i;
    while (head < tail) {
        int u = d->queue[head++];
        order[head - 1] = u;
        d->depth[u]++; /* u itself */
        if (d->depth[u] > d->depth[deepest]) deepest = u;
        for (int k = d->start[u]; k < d->start[u + 1]; k++) {
            int v = d->adj[k];
            if (d->depth[v] < d->depth[u]) d->depth[v] = d->depth[u];
            if (--d->indeg[v] == 0) d->queue[tail++] = v;
        }
    }
    if (tail < n) {
        int bad = 0;
        while (bad < n && d->indeg[bad] == 0)
            bad++;
        RFAIL(R, ONYX_ERR_PARSE, "%s: the graph has a cycle through %s",
              m->path, node_label(&m->nodes[bad], bad, lb, sizeof lb));
    }
    if (n && d->depth[deepest] > m->lim.max_depth)
        RFAIL(R, ONYX_ERR_LIMIT,
              "%s: a chain of %d nodes ends at %s, longer than %lld "
              "(onyx_limits.max_depth)",
              m->path, d->depth[deepest],
              node_label(&m->nodes[deepest], deepest, lb, sizeof lb),
              (long long)m->lim.max_depth);
    return ONYX_OK;
}

static onyx_status order_nodes(resolver *R, int *order)
{
    deps d;
    memset(&d, 0, sizeof d);
    onyx_status st = ONYX_OK;
    if (!deps_alloc(R, &d)) {
        onyx_seterr(R->err, ONYX_ERR_NOMEM, "out of memory");
        st = ONYX_ERR_NOMEM;
    }
    if (st == ONYX_OK) st = index_outputs(R, &d);
    if (st == ONYX_OK) st = collect_edges(R, &d);
    if (st == ONYX_OK) st = kahn(R, &d, order);
    deps_free(&d);
    return st;
}

/* ---- liveness: which nodes the graph outputs need ---- */

/* live[i] = 1 for the nodes whose outputs are needed, walking back from the
 * graph outputs; need counts how many times live nodes (and what their
 * subgraphs read) and graph outputs use each name. */
static void liveness(resolver *R, const int *order, unsigned char *live,
                     strmap *need)
{
    const onyx_model *m = R->m;
    for (int i = 0; i < m->n_outputs; i++)
        onyx_add_use(need, m->outputs[i].name);
    for (int j = m->n_nodes - 1; j >= 0; j--) {
        const onyx_nodedef *nd = &m->nodes[order[j]];
        for (int k = 0; k < nd->n_out && !live[order[j]]; k++)
            if (nd->outputs[k][0] && onyx_strmap_slot(need, nd->outputs[k], 0))
                live[order[j]] = 1;
        if (!live[order[j]]) continue;
        for (int k = 0; k < nd->n_in; k++)
            if (nd->inputs[k][0]) onyx_add_use(need, nd->inputs[k]);
        const name_list *imp = &R->implicit[order[j]];
        for (int k = 0; k < imp->n; k++)
            onyx_add_use(need, imp->v[k]);
    }
}

/* ---- the main pass: each live node in order ---- */
static onyx_status resolve_nodes(resolver *R, const int *order)
{
    const onyx_model *m = R->m;
    char lb[256];
    unsigned char *live = calloc((size_t)m->n_nodes + 1, 1);
    strmap need;
    onyx_pool tmp = {0};
    onyx_status st = ONYX_OK;
    if (!live || !onyx_strmap_init(&need, (size_t)R->cap_names + 1, &tmp)) {
        onyx_seterr(R->err, ONYX_ERR_NOMEM, "out of memory");
        st = ONYX_ERR_NOMEM;
    } else {
        liveness(R, order, live, &need);
    }
    for (int j = 0; j < m->n_nodes && st == ONYX_OK; j++) {
        int ni = order[j];
        if (!live[ni]) continue;
        st = onyx_resolve_node(R, &need, &m->nodes[ni],
                               node_label(&m->nodes[ni], ni, lb, sizeof lb));
    }
    free(live);
    onyx_pool_free(&tmp);
    return st;
}

/* ---- graph outputs and the plan ---- */
static onyx_status graph_outputs(resolver *R)
{
    const onyx_model *m = R->m;
    onyx_program *p = R->p;
    p->n_outputs = m->n_outputs;
    p->outputs =
        onyx_pool_alloc(&p->pool, sizeof(int) * (size_t)(m->n_outputs + 1));
    p->output_names =
        onyx_pool_alloc(&p->pool, sizeof(char *) * (size_t)(m->n_outputs + 1));
    if (!p->outputs || !p->output_names)
        RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
    for (int i = 0; i < m->n_outputs; i++) {
        int ti = onyx_find_tensor(R, m->outputs[i].name);
        if (ti < 0)
            RFAIL(R, ONYX_ERR_PARSE,
                  "%s: graph output '%s' is not produced by any node", m->path,
                  m->outputs[i].name);
        p->outputs[i] = ti;
        p->output_names[i] = m->outputs[i].name;
    }
    return ONYX_OK;
}

/* Each tensor's lifetime [producer, last consumer]: graph inputs from the
 * start, graph outputs to the end (they must survive the run). */
static void lifetimes(onyx_program *p)
{
    int end = p->n_nodes;
    for (int i = 0; i < p->n_inputs; i++) {
        p->tensors[p->inputs[i]].first = 0;
        p->tensors[p->inputs[i]].last = end;
    }
    for (int j = 0; j < p->n_nodes; j++) {
        onyx_pnode *pn = &p->nodes[j];
        for (int k = 0; k < pn->n_out; k++)
            if (pn->out[k] >= 0) {
                onyx_ptensor *pt = &p->tensors[pn->out[k]];
                pt->first = j;
                if (pt->last < j) pt->last = j;
            }
        for (int k = 0; k < pn->n_in; k++)
            if (pn->in[k] >= 0) {
                onyx_ptensor *pt = &p->tensors[pn->in[k]];
                if (pt->last < j) pt->last = j;
            }
        if (pn->guard && p->tensors[pn->guard - 1].last < j)
            p->tensors[pn->guard - 1].last = j;
    }
    for (int i = 0; i < p->n_outputs; i++)
        p->tensors[p->outputs[i]].last = end;
    /* a view and the tensor it shares bytes with are one buffer, live over
     * the union of their lifetimes (the view has no producer: it starts
     * where its root does) */
    for (int i = 0; i < p->n_tensors; i++) {
        onyx_ptensor *a = &p->tensors[i];
        if (a->alias < 0) continue;
        onyx_ptensor *r = &p->tensors[a->alias];
        if (r->last < a->last) r->last = a->last;
    }
}

/* The buffers to place: each arena tensor that is not a view, and each
 * node's scratch; who[b] is the tensor, or -1 - the node. */
static onyx_status collect_buffers(resolver *R, onyx_buf *bufs, int *who,
                                   int *n_bufs)
{
    const onyx_model *m = R->m;
    const onyx_program *p = R->p;
    int n = 0;
    for (int i = 0; i < p->n_tensors; i++) {
        const onyx_ptensor *pt = &p->tensors[i];
        if (pt->loc != ONYX_LOC_ARENA || pt->alias >= 0 || pt->first < 0)
            continue;
        bufs[n].bytes = pt->bytes;
        bufs[n].first = pt->first;
        bufs[n].last = pt->last;
        who[n++] = i;
    }
    for (int j = 0; j < p->n_nodes; j++) {
        if (!p->nodes[j].scratch_bytes) continue;
        if ((int64_t)p->nodes[j].scratch_bytes > m->lim.max_arena_bytes) {
            RFAIL(R, ONYX_ERR_LIMIT,
                  "%s: node '%s' (%s) asks for %zu bytes of scratch, more "
                  "than onyx_limits.max_arena_bytes",
                  m->path, p->nodes[j].name, p->nodes[j].op_type,
                  p->nodes[j].scratch_bytes);
        }
        bufs[n].bytes = p->nodes[j].scratch_bytes;
        bufs[n].first = bufs[n].last = j;
        who[n++] = -1 - j;
    }
    *n_bufs = n;
    return ONYX_OK;
}

/* Offsets in the arena for every buffer (plan.c), views at their roots'. */
static onyx_status plan(resolver *R)
{
    const onyx_model *m = R->m;
    onyx_program *p = R->p;
    ONYX_TRY(graph_outputs(R));
    lifetimes(p);
    int n_bufs = 0;
    onyx_buf *bufs =
        calloc((size_t)(p->n_tensors + p->n_nodes + 1), sizeof *bufs);
    int *who = calloc((size_t)(p->n_tensors + p->n_nodes + 1), sizeof(int));
    onyx_status st =
        bufs && who ? collect_buffers(R, bufs, who, &n_bufs) : ONYX_ERR_NOMEM;
    if (st != ONYX_OK) {
        free(bufs);
        free(who);
        if (st == ONYX_ERR_NOMEM) RFAIL(R, st, "out of memory");
        return st;
    }
    size_t total = onyx_plan_buffers(bufs, n_bufs, 64);
    for (int b = 0; b < n_bufs; b++) {
        if (who[b] >= 0)
            p->tensors[who[b]].offset = bufs[b].offset;
        else
            p->nodes[-1 - who[b]].scratch_offset = bufs[b].offset;
    }
    for (int i = 0; i < p->n_tensors; i++)
        if (p->tensors[i].alias >= 0)
            p->tensors[i].offset = p->tensors[p->tensors[i].alias].offset;
    free(bufs);
    free(who);
    if ((int64_t)total > m->lim.max_arena_bytes)
        RFAIL(R, ONYX_ERR_LIMIT,
              "%s: the arena needs %zu bytes, more than the limit of %lld "
              "(onyx_limits.max_arena_bytes)",
              m->path, total, (long long)m->lim.max_arena_bytes);
    p->arena_bytes = total;
    return ONYX_OK;
}

onyx_program *onyx_program_new(const onyx_model *m, const onyx_bind *binds,
                               int n_binds, onyx_error *err)
{
    onyx_blas_policy_once();
    onyx_program *p = calloc(1, sizeof *p);
    if (!p) {
        onyx_seterr(err, ONYX_ERR_NOMEM, "out of memory");
        return NULL;
    }
    p->model = m;
    resolver R;
    memset(&R, 0, sizeof R);
    R.m = m;
    R.p = p;
    R.err = err;
    R.guard = -1;
    int64_t n_node = 0, n_value = 0;
    onyx_graph_size(m->nodes, m->n_nodes, m->n_inits, &n_node, &n_value);
    int64_t cap = n_value + m->n_inputs + m->n_outputs;
    R.cap_names = cap;
    /* half precision: each tensor may get a float32 copy and each output a
     * narrowing Cast (the half-precision step above) */
    if (onyx_model_has_half(m)) {
        R.extra_nodes = (int)(cap + m->n_outputs);
        cap += cap + m->n_outputs;
    }
    R.cap_tensors = (int)(cap + 1);
    int *order = calloc((size_t)m->n_nodes + 1, sizeof(int));
    R.known = calloc((size_t)R.cap_tensors, 1);
    R.producer = calloc((size_t)R.cap_tensors, sizeof(int));
    R.implicit = calloc((size_t)m->n_nodes + 1, sizeof *R.implicit);
    R.widened = calloc((size_t)R.cap_tensors, sizeof(int));
    p->tensors =
        onyx_pool_alloc(&p->pool, sizeof(onyx_ptensor) * (size_t)R.cap_tensors);
    p->nodes = onyx_pool_alloc(
        &p->pool, sizeof(onyx_pnode) * (size_t)(n_node + R.extra_nodes + 1));
    R.cap_nodes = (int)(n_node + R.extra_nodes + 1);
    R.n_graph_nodes = onyx_count_nodes(m->nodes, m->n_nodes);
    onyx_status st = ONYX_OK;
    if (!order || !R.known || !R.producer || !R.implicit || !R.widened ||
        !p->tensors || !p->nodes ||
        !onyx_strmap_init(&R.names, (size_t)R.cap_tensors, &p->pool)) {
        onyx_seterr(err, ONYX_ERR_NOMEM, "out of memory");
        st = ONYX_ERR_NOMEM;
    }
    for (int i = 0; st == ONYX_OK && i < m->n_nodes; i++)
        if (!onyx_node_implicit(&m->nodes[i], &R.implicit[i], &R.tmp)) {
            onyx_seterr(err, ONYX_ERR_NOMEM, "out of memory");
            st = ONYX_ERR_NOMEM;
        }
    for (int i = 0; st == ONYX_OK && i < m->n_inits; i++) {
        int ti = onyx_add_tensor(&R, m->inits[i].name);
        p->tensors[ti].t = m->inits[i].t;
        p->tensors[ti].loc = ONYX_LOC_CONST;
        p->tensors[ti].bytes = (size_t)onyx_numel(&m->inits[i].t) *
                               onyx_dtype_size(m->inits[i].t.dtype);
    }
    if (st == ONYX_OK) st = bind_inputs(&R, binds, n_binds);
    if (st == ONYX_OK) st = order_nodes(&R, order);
    if (st == ONYX_OK) st = resolve_nodes(&R, order);
    if (st == ONYX_OK) st = onyx_half_outputs(&R);
    if (st == ONYX_OK) st = plan(&R);
    free(order);
    free(R.known);
    free(R.producer);
    free(R.implicit);
    free(R.widened);
    onyx_pool_free(&R.tmp);
    if (st != ONYX_OK) {
        onyx_program_free(p);
        return NULL;
    }
    /* bound values were only for resolving: at run time inputs are data */
    for (int i = 0; i < p->n_inputs; i++)
        p->tensors[p->inputs[i]].t.data = NULL;
    for (int i = 0; i < p->n_tensors; i++)
        if (p->tensors[i].loc == ONYX_LOC_ARENA) p->tensors[i].t.data = NULL;
    return p;
}

void onyx_program_free(onyx_program *p)
{
    if (!p) return;
    for (int j = 0; j < p->n_nodes; j++)
        onyx_free_params(p->nodes[j].params, p->nodes[j].free_params);
    onyx_pool_free(&p->pool);
    free(p);
}

size_t onyx_program_arena_bytes(const onyx_program *p)
{
    return p->arena_bytes;
}
int onyx_program_num_nodes(const onyx_program *p)
{
    return p->n_nodes;
}
int64_t onyx_program_flops(const onyx_program *p)
{
    return p->flops;
}
int onyx_program_num_inputs(const onyx_program *p)
{
    return p->n_inputs;
}
int onyx_program_num_outputs(const onyx_program *p)
{
    return p->n_outputs;
}
const char *onyx_program_input_name(const onyx_program *p, int i)
{
    return p->input_names[i];
}
const char *onyx_program_output_name(const onyx_program *p, int i)
{
    return p->output_names[i];
}
const onyx_tensor *onyx_program_input_info(const onyx_program *p, int i)
{
    return &p->tensors[p->inputs[i]].t;
}
const onyx_tensor *onyx_program_output_info(const onyx_program *p, int i)
{
    return &p->tensors[p->outputs[i]].t;
}
int onyx_program_find_input(const onyx_program *p, const char *name)
{
    for (int i = 0; i < p->n_inputs; i++)
        if (strcmp(p->input_names[i], name) == 0) return i;
    return -1;
}
int onyx_program_find_output(const onyx_program *p, const char *name)
{
    for (int i = 0; i < p->n_outputs; i++)
        if (strcmp(p->output_names[i], name) == 0) return i;
    return -1;
}
const char *onyx_program_node_name(const onyx_program *p, int i)
{
    return p->nodes[i].name;
}
const char *onyx_program_node_op(const onyx_program *p, int i)
{
    return p->nodes[i].op_type;
}
int64_t onyx_program_node_flops(const onyx_program *p, int i)
{
    return p->nodes[i].flops;
}
