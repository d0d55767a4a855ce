/* loop.c - Loop and Scan: the body inlined once per iteration. */
#include "resolve.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Loop and Scan: the body inlined once per iteration ----
 *
 * The number of iterations must be known here: a Scan's is a dim of its
 * inputs; a Loop's comes from its trip count M and its condition, which
 * must be constants or values the caller bound (as NonZero's input must:
 * the iteration count shapes the scan outputs), except that a condition
 * known only at run time may guard the iterations up to M (guard_on), the
 * scan outputs then unused. Each iteration is the body
 * inlined with the prefix `name#N/i/`, its iteration number a constant, so
 * run() sees ordinary nodes. A scan input's slice is a Gather with a
 * constant index; the scan outputs are stacked by Unsqueeze (a view) and
 * Concat. */

/* nodes of a graph and of every subgraph in it */
int64_t onyx_count_nodes(const onyx_nodedef *nodes, int n_nodes)
{
    int64_t n = n_nodes;
    for (int i = 0; i < n_nodes; i++)
        for (int a = 0; a < nodes[i].n_attrs; a++) {
            const onyx_graphdef *g = nodes[i].attrs[a].g;
            if (nodes[i].attrs[a].type == ONYX_ATTR_GRAPH && g)
                n += onyx_count_nodes(g->nodes, g->n_nodes);
        }
    return n;
}

/* The tables were sized for every subgraph inlined once: room for one more
 * copy of graph g (NULL: none) and `extra` nodes and values around it. */
static onyx_status reserve(resolver *R, strmap *need, const onyx_graphdef *g,
                           int64_t extra)
{
    onyx_program *p = R->p;
    int64_t n_node = extra, n_value = extra;
    if (g) {
        n_value += g->n_inputs + g->n_outputs;
        onyx_graph_size(g->nodes, g->n_nodes, g->n_inits, &n_node, &n_value);
    }
    if (R->extra_nodes) { /* half precision: a Cast per value, at most */
        n_node += n_value;
        n_value *= 2;
    }
    int64_t want_t = (int64_t)p->n_tensors + n_value + 1;
    int64_t want_n = (int64_t)p->n_nodes + n_node + 1;
    if (want_t > INT_MAX / 2 || want_n > INT_MAX / 2 ||
        (uint64_t)want_t > SIZE_MAX / 4 / sizeof(onyx_ptensor) ||
        (uint64_t)want_n > SIZE_MAX / 4 / sizeof(onyx_pnode))
        RFAIL(R, ONYX_ERR_LIMIT, "%s: too many values to unroll", R->m->path);
    if (want_t > R->cap_tensors) {
        int64_t cap = want_t > 2 * (int64_t)R->cap_tensors
                          ? want_t
                          : 2 * (int64_t)R->cap_tensors;
        onyx_ptensor *t = onyx_pool_alloc(&p->pool, sizeof *t * (size_t)cap);
        unsigned char *known = realloc(R->known, (size_t)cap);
        if (known) R->known = known;
        int *producer = realloc(R->producer, sizeof(int) * (size_t)cap);
        if (producer) R->producer = producer;
        int *widened = realloc(R->widened, sizeof(int) * (size_t)cap);
        if (widened) R->widened = widened;
        if (!t || !known || !producer || !widened)
            RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
        size_t old = (size_t)R->cap_tensors;
        memcpy(t, p->tensors, sizeof *t * (size_t)p->n_tensors);
        p->tensors = t;
        memset(known + old, 0, (size_t)cap - old);
        memset(widened + old, 0, sizeof(int) * ((size_t)cap - old));
        R->cap_tensors = (int)cap;
    }
    if (want_n > R->cap_nodes) {
        int64_t cap = want_n > 2 * (int64_t)R->cap_nodes
                          ? want_n
                          : 2 * (int64_t)R->cap_nodes;
        onyx_pnode *nn = onyx_pool_alloc(&p->pool, sizeof *nn * (size_t)cap);
        if (!nn) RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
        memcpy(nn, p->nodes, sizeof *nn * (size_t)p->n_nodes);
        p->nodes = nn;
        R->cap_nodes = (int)cap;
    }
    if (!onyx_strmap_reserve(&R->names, (size_t)n_value) ||
        !onyx_strmap_reserve(need, (size_t)n_value))
        RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
    return ONYX_OK;
}

/* One more copy of a body of body_nodes nodes (iteration `iter`, counted
 * from 0; the first copy was counted at load): the model's nodes, unrolled,
 * stay within onyx_limits.max_nodes. */
static onyx_status charge(resolver *R, const char *lb, int64_t body_nodes,
                          int64_t iter, int guarded)
{
    int64_t per = body_nodes > 0 ? body_nodes : 1; /* an empty body too */
    if (iter == 0) return ONYX_OK;
    if (R->n_graph_nodes > R->m->lim.max_nodes - per && guarded)
        RFAIL(R, ONYX_ERR_LIMIT,
              "%s: %s: its condition is only known at run time, so onyx "
              "unrolls it under guards until the trip count M or a "
              "condition known to be false: its body of %lld nodes, "
              "unrolled more than %lld times, takes the model past %lld "
              "nodes (onyx_limits.max_nodes)",
              R->m->path, lb, (long long)body_nodes, (long long)iter,
              (long long)R->m->lim.max_nodes);
    if (R->n_graph_nodes > R->m->lim.max_nodes - per)
        RFAIL(R, ONYX_ERR_LIMIT,
              "%s: %s: unrolled, its body of %lld nodes runs more than "
              "%lld times, which takes the model past %lld nodes "
              "(onyx_limits.max_nodes)",
              R->m->path, lb, (long long)body_nodes, (long long)iter,
              (long long)R->m->lim.max_nodes);
    R->n_graph_nodes += per;
    return ONYX_OK;
}

/* a name in the program pool, or NULL when out of memory */
static const char *fmt_name(resolver *R, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static const char *fmt_name(resolver *R, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n >= 0 ? onyx_pool_alloc(&R->p->pool, (size_t)n + 1) : NULL;
    if (!s) return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* a new constant named name: dtype dt, shape dims (rank), data copied;
 * its index, or -1 when out of memory */
static int const_tensor(resolver *R, const char *name, onyx_dtype dt, int rank,
                        const int64_t *dims, const void *data)
{
    if (!name) return -1;
    int ti = onyx_add_tensor(R, name);
    if (ti < 0) return -1;
    onyx_ptensor *pt = &R->p->tensors[ti];
    pt->t.dtype = dt;
    pt->t.rank = rank;
    if (rank) memcpy(pt->t.dims, dims, sizeof *dims * (size_t)rank);
    pt->bytes = (size_t)onyx_numel(&pt->t) * onyx_dtype_size(dt);
    pt->t.data = onyx_pool_alloc(&R->p->pool, pt->bytes ? pt->bytes : 1);
    if (!pt->t.data) return -1;
    if (data) memcpy(pt->t.data, data, pt->bytes);
    pt->loc = ONYX_LOC_CONST;
    return ti;
}

/* the value of the one-element int64 or bool tensor t, when known now */
static int scalar_now(resolver *R, int t, int64_t *v)
{
    const onyx_ptensor *pt = &R->p->tensors[t];
    if ((pt->loc != ONYX_LOC_CONST && !R->known[t]) || !pt->t.data) return 0;
    *v = pt->t.dtype == ONYX_BOOL ? *(const uint8_t *)pt->t.data != 0
                                  : *(const int64_t *)pt->t.data;
    return 1;
}

/* A bound (not constant) trip count or condition t that the loop was
 * unrolled for must keep its value v at run time: a LoopCheck node. */
static onyx_status keep_value(resolver *R, int t, int64_t v, const char *name,
                              const char *lb)
{
    if (R->p->tensors[t].loc == ONYX_LOC_CONST) return ONYX_OK;
    if (!name) RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
    onyx_attr at;
    memset(&at, 0, sizeof at);
    at.name = "want";
    at.type = ONYX_ATTR_INT;
    at.i = v;
    int out;
    return onyx_emit_builtin(R, &onyx_op_LoopCheck, &t, 1, &at, 1, name, lb,
                             &out);
}

/* Resolves a node the resolver makes, op(in...) -> out (names), like a
 * node of the file; *res is its output tensor. */
static onyx_status emit_node(resolver *R, strmap *need, const onyx_op *op,
                             const char **in, int n_in, const char *out,
                             onyx_attr *attrs, int n_attrs, const char *lb,
                             int *res)
{
    if (!out) RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
    for (int k = 0; k < n_in; k++)
        if (!in[k]) RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
    onyx_nodedef nd;
    memset(&nd, 0, sizeof nd);
    nd.name = out;
    nd.op_type = op->name;
    nd.domain = "";
    nd.n_in = n_in;
    nd.n_out = 1;
    nd.inputs = in;
    nd.outputs = &out;
    nd.n_attrs = n_attrs;
    nd.attrs = attrs;
    for (int k = 0; k < n_in; k++)
        onyx_add_use(need, in[k]);
    ONYX_TRY(onyx_resolve_node(R, need, &nd, lb));
    *res = onyx_find_tensor(R, out);
    if (*res < 0)
        RFAIL(R, ONYX_ERR_INVALID, "%s: %s: no %s", R->m->path, lb, out);
    return ONYX_OK;
}

/* a new name for tensor t (the nodes the resolver makes read by name) */
static const char *name_of(resolver *R, int t, const char *name)
{
    if (name) *onyx_strmap_slot(&R->names, name, 1) = t;
    return name;
}

/* *res = x[idx] along axis (that axis removed): a Gather of a constant
 * index; names start with pre */
static onyx_status take(resolver *R, strmap *need, int x, int axis, int64_t idx,
                        const char *pre, const char *lb, int *res)
{
    const char *in[2] = {name_of(R, x, fmt_name(R, "%s:from", pre)),
                         fmt_name(R, "%s:index", pre)};
    if (const_tensor(R, in[1], ONYX_INT64, 0, NULL, &idx) < 0)
        RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
    onyx_attr at;
    memset(&at, 0, sizeof at);
    at.name = "axis";
    at.type = ONYX_ATTR_INT;
    at.i = axis;
    return emit_node(R, need, &onyx_op_Gather, in, 2, fmt_name(R, "%s", pre),
                     &at, 1, lb, res);
}

/* The n tensors el[] (one shape) stacked along a new axis: the tensor
 * named out. No tensor (n = 0): an empty constant of the shape the body
 * declares for the value (decl), which must then be static. */
static onyx_status stack(resolver *R, strmap *need, const int *el, int64_t n,
                         int64_t axis, const char *out, const char *pre,
                         const onyx_value_info *decl, const char *lb)
{
    ONYX_TRY(reserve(R, need, NULL, 4 * n + 8));
    if (n == 0) {
        int ok = decl->rank >= 0 && decl->rank < ONYX_MAX_RANK &&
                 axis <= decl->rank && onyx_dtype_size(decl->dtype);
        for (int d = 0; ok && d < decl->rank; d++)
            ok = decl->dims[d] >= 0 && !decl->dim_names[d];
        if (!ok)
            RFAIL(R, ONYX_ERR_UNSUPPORTED,
                  "%s: %s: output '%s' stacks no iteration, and the body "
                  "gives no static shape for '%s' to make it empty",
                  R->m->path, lb, out, decl->name);
        int64_t dims[ONYX_MAX_RANK];
        for (int d = 0, s = 0; d <= decl->rank; d++)
            dims[d] = d == axis ? 0 : decl->dims[s++];
        if (const_tensor(R, out, decl->dtype, decl->rank + 1, dims, NULL) < 0)
            RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
        return ONYX_OK;
    }
    const char **names = onyx_pool_alloc(&R->tmp, sizeof *names * (size_t)n);
    if (!names) RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
    int64_t axes[1] = {axis};
    for (int64_t i = 0; i < n; i++) {
        const char *in[2] = {
            name_of(R, el[i], fmt_name(R, "%s%lld:from", pre, (long long)i)),
            NULL};
        onyx_attr at;
        memset(&at, 0, sizeof at);
        int n_in = 1, n_attrs = 0, res;
        if (R->m->opset >= 13) { /* axes: an input from opset 13 */
            in[1] = fmt_name(R, "%s%lld:axes", pre, (long long)i);
            if (const_tensor(R, in[1], ONYX_INT64, 1, (int64_t[]){1}, axes) < 0)
                RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
            n_in = 2;
        } else {
            at.name = "axes";
            at.type = ONYX_ATTR_INTS;
            at.ints = axes;
            at.n = 1;
            n_attrs = 1;
        }
        names[i] = n == 1 ? out : fmt_name(R, "%s%lld", pre, (long long)i);
        ONYX_TRY(emit_node(R, need, &onyx_op_Unsqueeze, in, n_in, names[i], &at,
                           n_attrs, lb, &res));
    }
    /* Concats of at most 64 (resolve_node's bound), a tree when longer */
    for (int level = 0; n > 1; level++) {
        int64_t groups = (n + 63) / 64;
        for (int64_t c = 0; c < groups; c++) {
            int64_t cnt = n - 64 * c < 64 ? n - 64 * c : 64;
            const char *dst = groups == 1 ? out
                                          : fmt_name(R, "%scat%d/%lld", pre,
                                                     level, (long long)c);
            onyx_attr at;
            memset(&at, 0, sizeof at);
            at.name = "axis";
            at.type = ONYX_ATTR_INT;
            at.i = axis;
            int res;
            ONYX_TRY(emit_node(R, need, &onyx_op_Concat, names + 64 * c,
                               (int)cnt, dst, &at, 1, lb, &res));
            names[c] = dst;
        }
        n = groups;
    }
    return ONYX_OK;
}

static const onyx_graphdef *body_of(const onyx_nodedef *nd)
{
    for (int a = 0; a < nd->n_attrs; a++)
        if (strcmp(nd->attrs[a].name, "body") == 0 &&
            nd->attrs[a].type == ONYX_ATTR_GRAPH)
            return nd->attrs[a].g;
    return NULL;
}

/* a growable list of tensor indices in the resolver's tmp pool */
typedef struct idx_list {
    int *v;
    int64_t n, cap;
} idx_list;

static int idx_push(resolver *R, idx_list *l, int t)
{
    if (l->n == l->cap) {
        int64_t cap = l->cap ? 2 * l->cap : 64;
        int *v = onyx_pool_alloc(&R->tmp, sizeof *v * (size_t)cap);
        if (!v) return 0;
        if (l->n) memcpy(v, l->v, sizeof *v * (size_t)l->n);
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = t;
    return 1;
}

/* The Loop nd goes on only while the run-time condition c (named cn)
 * holds: *live (-1, or the guard of the iterations so far) becomes the
 * guard of the next ones. The loop is then unrolled until M, or until the
 * body's condition is known to be false (`i < 8 and data`), within
 * onyx_limits.max_nodes; the scan outputs, whose length would be the
 * run-time iteration count, must be unused. */
static onyx_status guard_on(resolver *R, strmap *need, const onyx_nodedef *nd,
                            const char *lb, int c, const char *cn, int *live,
                            const char *pre)
{
    const char *path = R->m->path;
    const int n_carried = nd->n_in - 2;
    for (int k = n_carried; k < nd->n_out; k++)
        if (nd->outputs[k][0] && onyx_strmap_slot(need, nd->outputs[k], 0))
            RFAIL(R, ONYX_ERR_UNSUPPORTED,
                  "%s: %s: the condition '%s' is only known at run time, so "
                  "the length of scan output '%s' would be too: onyx needs "
                  "it when the model is resolved",
                  path, lb, cn, nd->outputs[k]);
    int outer = *live >= 0 ? *live : R->guard;
    uint8_t outer_want = *live >= 0 ? 1 : R->guard_want;
    if (outer < 0) {
        *live = c;
        return ONYX_OK;
    }
    onyx_attr at[2];
    memset(at, 0, sizeof at);
    at[0].name = "outer_want";
    at[0].type = ONYX_ATTR_INT;
    at[0].i = outer_want;
    at[1].name = "inner_want";
    at[1].type = ONYX_ATTR_INT;
    at[1].i = 1;
    int gin[2] = {outer, c};
    /* always run: a loop's guard is false when the guard around it is */
    const int g = R->guard;
    R->guard = -1;
    onyx_status st = onyx_emit_builtin(R, &onyx_op_GuardAnd, gin, 2, at, 2,
                                       fmt_name(R, "%sgo", pre), lb, live);
    R->guard = g;
    return st;
}

/* A Loop being unrolled. */
typedef struct loop_state {
    const onyx_nodedef *nd;
    const onyx_graphdef *body;
    const char *lb;
    char pre[300]; /* the prefix of its names */
    int n_carried, n_scan;
    int64_t trip, go; /* the trip count (INT64_MAX: none), the condition */
    int cond;         /* the condition's tensor, or -1 */
    int live;         /* the guard of the iterations, or -1 (none) */
    int *ins, *outs;  /* the body's inputs and outputs */
    int *fin;         /* the carried values after the last iteration */
    idx_list scans;   /* iteration i's scan output k: v[i * n_scan + k] */
} loop_state;

/* The trip count M and the condition: absent, or known now (a condition
 * known only at run time leaves L->cond for a guard). */
static onyx_status loop_bounds(resolver *R, loop_state *L)
{
    const onyx_nodedef *nd = L->nd;
    const char *path = R->m->path, *lb = L->lb;
    static const char *const what[2] = {"trip count M", "condition"};
    for (int k = 0; k < 2; k++) {
        if (!nd->inputs[k][0]) continue;
        int t = onyx_find_tensor(R, nd->inputs[k]);
        if (t < 0)
            RFAIL(R, ONYX_ERR_PARSE, "%s: %s: input '%s' is undefined", path,
                  lb, nd->inputs[k]);
        const onyx_tensor *v = &R->p->tensors[t].t;
        onyx_dtype dt = k ? ONYX_BOOL : ONYX_INT64;
        if (v->dtype != dt || onyx_numel(v) != 1)
            RFAIL(R, ONYX_ERR_INVALID,
                  "%s: %s: the %s must be one %s, got %s with %lld elements",
                  path, lb, what[k], onyx_dtype_name(dt),
                  onyx_dtype_name(v->dtype), (long long)onyx_numel(v));
        int64_t val = 1;
        if (k && !scalar_now(R, t, &val)) { /* guarded, below */
            L->cond = t;
            continue;
        }
        if (!scalar_now(R, t, &val))
            RFAIL(R, ONYX_ERR_UNSUPPORTED,
                  "%s: %s: the %s '%s' is only known at run time: onyx "
                  "unrolls a Loop when the model is resolved, so its trip "
                  "count must be a constant or computed from values given "
                  "to the resolver (onyx_bind.data)",
                  path, lb, what[k], nd->inputs[k]);
        ONYX_TRY(keep_value(R, t, val,
                            fmt_name(R, "%s%s:check", L->pre, k ? "cond" : "M"),
                            lb));
        if (k) {
            L->go = val;
            L->cond = t;
        } else {
            L->trip = val;
        }
    }
    return ONYX_OK;
}

/* The body's inputs and outputs, the carried values' first tensors, and
 * the first iteration's condition (a guard when only known at run time: the
 * iterations from there on run under the guard `live`, each its own, the
 * last one's AND the body's condition, the carried values picked by
 * IfSelects). */
static onyx_status loop_start(resolver *R, strmap *need, loop_state *L)
{
    const onyx_nodedef *nd = L->nd;
    L->ins = onyx_pool_alloc(&R->tmp, sizeof(int) * (size_t)(nd->n_in + 1));
    L->outs = onyx_pool_alloc(&R->tmp, sizeof(int) * (size_t)(nd->n_out + 2));
    L->fin = onyx_pool_alloc(&R->tmp, sizeof(int) * (size_t)(L->n_carried + 1));
    if (!L->ins || !L->outs || !L->fin)
        RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
    for (int k = 0; k < L->n_carried; k++) {
        L->fin[k] = L->ins[2 + k] = onyx_find_tensor(R, nd->inputs[2 + k]);
        if (L->ins[2 + k] < 0)
            RFAIL(R, ONYX_ERR_PARSE, "%s: %s: input '%s' is undefined",
                  R->m->path, L->lb,
                  nd->inputs[2 + k][0] ? nd->inputs[2 + k] : "(none)");
    }
    if (L->cond >= 0 && !scalar_now(R, L->cond, &L->go))
        ONYX_TRY(guard_on(R, need, nd, L->lb, L->cond, nd->inputs[1], &L->live,
                          L->pre));
    if (L->cond < 0) {
        static const uint8_t yes = 1;
        L->cond = const_tensor(R, fmt_name(R, "%scond", L->pre), ONYX_BOOL, 0,
                               NULL, &yes);
        if (L->cond < 0) RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
    }
    return ONYX_OK;
}

/* The carried values after an iteration (ip its prefix): the next
 * iteration reads the body's (it runs only when this one did); the loop's
 * result is the body's, or under a guard, the body's when it ran and the
 * one before when it did not. */
static onyx_status loop_carry(resolver *R, loop_state *L, const char *ip)
{
    onyx_program *p = R->p;
    for (int k = 0; k < L->n_carried; k++) {
        L->ins[2 + k] = L->outs[1 + k];
        if (L->live < 0) {
            L->fin[k] = L->outs[1 + k];
            continue;
        }
        const onyx_tensor *a = &p->tensors[L->outs[1 + k]].t,
                          *b = &p->tensors[L->fin[k]].t;
        char sa[128], sb[128];
        if (a->dtype != b->dtype || !onyx_same_shape(a, b))
            RFAIL(R, ONYX_ERR_UNSUPPORTED,
                  "%s: %s: loop-carried value '%s' goes from %s %s to "
                  "%s %s: onyx needs one dtype and shape when the "
                  "condition is only known at run time",
                  R->m->path, L->lb, L->body->outputs[1 + k].name,
                  onyx_dtype_name(b->dtype), onyx_shape_str(b, sb, sizeof sb),
                  onyx_dtype_name(a->dtype), onyx_shape_str(a, sa, sizeof sa));
        int sin[3] = {L->live, L->outs[1 + k], L->fin[k]};
        ONYX_TRY(onyx_emit_builtin(R, &onyx_op_IfSelect, sin, 3, NULL, 0,
                                   fmt_name(R, "%sv%d", ip, k), L->lb,
                                   &L->fin[k]));
    }
    return ONYX_OK;
}

/* Iteration iter: the body inlined (under the guard, if any), then the
 * carried values, the next condition and the scan outputs. */
static onyx_status loop_iteration(resolver *R, strmap *need, loop_state *L,
                                  int64_t iter, int it_rank)
{
    onyx_program *p = R->p;
    const onyx_nodedef *nd = L->nd;
    const char *ip = fmt_name(R, "%s%lld/", L->pre, (long long)iter);
    if (!ip) RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
    L->ins[0] = const_tensor(R, fmt_name(R, "%siteration", ip), ONYX_INT64,
                             it_rank, (int64_t[]){1}, &iter);
    if (L->ins[0] < 0) RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
    L->ins[1] = L->cond;
    const int outer = R->guard;
    const uint8_t outer_want = R->guard_want;
    if (L->live >= 0) {
        R->guard = L->live;
        R->guard_want = 1;
    }
    onyx_status st = onyx_inline_graph(R, need, L->lb, L->body, ip, L->ins,
                                       nd->n_in, L->outs, 1 + nd->n_out);
    R->guard = outer;
    R->guard_want = outer_want;
    ONYX_TRY(st);
    const onyx_tensor *c = &p->tensors[L->outs[0]].t;
    if (c->dtype != ONYX_BOOL || onyx_numel(c) != 1)
        RFAIL(R, ONYX_ERR_INVALID,
              "%s: %s: the body's condition must be one bool, got %s "
              "with %lld elements",
              R->m->path, L->lb, onyx_dtype_name(c->dtype),
              (long long)onyx_numel(c));
    ONYX_TRY(loop_carry(R, L, ip));
    if (!scalar_now(R, L->outs[0], &L->go)) {
        L->go = 1;
        if (iter + 1 < L->trip)
            ONYX_TRY(guard_on(R, need, nd, L->lb, L->outs[0],
                              L->body->outputs[0].name, &L->live, ip));
    } else if (L->live < 0 && L->outs[0] != L->cond) {
        ONYX_TRY(keep_value(R, L->outs[0], L->go,
                            fmt_name(R, "%scond:check", ip), L->lb));
    }
    L->cond = L->outs[0];
    for (int k = 0; k < L->n_scan; k++)
        if (!idx_push(R, &L->scans, L->outs[1 + L->n_carried + k]))
            RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
    return ONYX_OK;
}

/* The loop's outputs: the final carried values, and each used scan output
 * stacked from its n_iter iterations. */
static onyx_status loop_outputs(resolver *R, strmap *need, loop_state *L,
                                int64_t n_iter)
{
    const onyx_nodedef *nd = L->nd;
    for (int k = 0; k < L->n_carried; k++)
        if (nd->outputs[k][0])
            *onyx_strmap_slot(&R->names, nd->outputs[k], 1) = L->fin[k];
    int *el = onyx_pool_alloc(&R->tmp, sizeof(int) * (size_t)(n_iter + 1));
    if (!el) RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
    for (int k = 0; k < L->n_scan; k++) {
        const char *name = nd->outputs[L->n_carried + k];
        if (!name[0] || !onyx_strmap_slot(need, name, 0)) continue;
        for (int64_t i = 0; i < n_iter; i++)
            el[i] = L->scans.v[i * L->n_scan + k];
        ONYX_TRY(stack(R, need, el, n_iter, 0, name,
                       fmt_name(R, "%sscan%d/", L->pre, k),
                       &L->body->outputs[1 + L->n_carried + k], L->lb));
    }
    return ONYX_OK;
}

/* Loop(M, cond, v_initial...) -> v_final..., scan_outputs...: the body
 * unrolled for as many iterations as M and the conditions allow. M must be
 * known now; a condition known only at run time guards the iterations from
 * there on (guard_on). */
onyx_status onyx_resolve_loop(resolver *R, strmap *need, const onyx_nodedef *nd,
                              const char *lb)
{
    char why[300];
    if (!onyx_control_check(nd, R->m->opset, why, sizeof why))
        RFAIL(R, ONYX_ERR_INVALID, "%s: %s: %s", R->m->path, lb, why);
    loop_state L;
    memset(&L, 0, sizeof L);
    L.nd = nd;
    L.body = body_of(nd);
    L.lb = lb;
    L.n_carried = nd->n_in - 2;
    L.n_scan = nd->n_out - L.n_carried;
    L.trip = INT64_MAX;
    L.go = 1;
    L.cond = L.live = -1;
    snprintf(L.pre, sizeof L.pre, "%s#%d/",
             nd->name[0] ? nd->name : nd->op_type, R->n_inlined++);
    ONYX_TRY(reserve(R, need, NULL, 16 + nd->n_in));
    ONYX_TRY(loop_bounds(R, &L));
    ONYX_TRY(loop_start(R, need, &L));
    const int64_t body_nodes = onyx_count_nodes(L.body->nodes, L.body->n_nodes);
    /* the iteration number as the body declares it: a scalar, or [1] */
    const int it_rank = L.body->inputs[0].rank == 1 ? 1 : 0;
    int64_t iter;
    for (iter = 0; iter < L.trip && L.go; iter++) {
        ONYX_TRY(charge(R, lb, body_nodes, iter, L.live >= 0));
        ONYX_TRY(reserve(R, need, L.body, 8 + 2 * (int64_t)nd->n_out));
        ONYX_TRY(loop_iteration(R, need, &L, iter, it_rank));
    }
    return loop_outputs(R, need, &L, iter);
}

/* entry k of INTS attribute name, or dflt when absent */
static int64_t attr_at(const onyx_nodedef *nd, const char *name, int k,
                       int64_t dflt)
{
    for (int i = 0; i < nd->n_attrs; i++)
        if (strcmp(nd->attrs[i].name, name) == 0 &&
            nd->attrs[i].type == ONYX_ATTR_INTS && k < nd->attrs[i].n)
            return nd->attrs[i].ints[k];
    return dflt;
}

/* *axis = entry k of axes attribute name (0 when absent), negative counted
 * from the end; 0 when it is outside [0, rank) */
static int attr_axis(const onyx_nodedef *nd, const char *name, int k, int rank,
                     int64_t *axis)
{
    int64_t a = attr_at(nd, name, k, 0);
    if (a < 0) a += rank;
    *axis = a;
    return a >= 0 && a < rank;
}

/* A Scan being unrolled: the node, its shape, and what its steps share. */
typedef struct scan_state {
    const onyx_nodedef *nd;
    const onyx_graphdef *body;
    const char *lb;
    char pre[300]; /* names of what the unrolling adds */
    int v8;        /* opset 8: sequence_lens first, batch axis 0 */
    int n_state, n_scan_in, n_scan_out;
    int *x;        /* the inputs after sequence_lens: states, scan inputs */
    int64_t *axis; /* each scan input's scan axis */
    int64_t len, batch;
    int *ins, *outs; /* a batch entry's current inputs; the body's outputs */
    int *final;      /* [batch][n_out]: final states and scan outputs */
    int *el;         /* [len]: one scan output's elements */
    idx_list scans;  /* the body's scan outputs, step after step */
} scan_state;

/* scan input s's direction: 0 forward, 1 reverse */
static int64_t scan_dir(const scan_state *S, int s)
{
    return attr_at(S->nd, S->v8 ? "directions" : "scan_input_directions", s, 0);
}

/* Input j (after sequence_lens): found, with opset 8's batch axis; a scan
 * input's axis, direction and length checked against the others. */
static onyx_status scan_input(resolver *R, scan_state *S, int j)
{
    const onyx_nodedef *nd = S->nd;
    const char *path = R->m->path, *lb = S->lb;
    const char *nm = nd->inputs[S->v8 + j];
    S->x[j] = nm[0] ? onyx_find_tensor(R, nm) : -1;
    if (S->x[j] < 0)
        RFAIL(R, ONYX_ERR_PARSE, "%s: %s: input '%s' is undefined", path, lb,
              nm[0] ? nm : "(none)");
    const onyx_tensor *t = &R->p->tensors[S->x[j]].t;
    if (S->v8) { /* batch axis 0, all the same */
        if (t->rank < 1 + (j >= S->n_state) || (j && t->dims[0] != S->batch))
            RFAIL(R, ONYX_ERR_INVALID,
                  "%s: %s: input '%s' must have the batch axis 0 "
                  "(of %lld)%s",
                  path, lb, nm, (long long)S->batch,
                  j >= S->n_state ? " and the scan axis 1" : "");
        S->batch = t->dims[0];
    }
    if (j < S->n_state) return ONYX_OK;
    int s = j - S->n_state;
    int64_t dir = scan_dir(S, s);
    if (S->v8)
        S->axis[j] = 1;
    else if (!attr_axis(nd, "scan_input_axes", s, t->rank, &S->axis[j]))
        RFAIL(R, ONYX_ERR_INVALID,
              "%s: %s: scan_input_axes[%d] is outside the %d axes of "
              "input '%s'",
              path, lb, s, t->rank, nm);
    if (S->len >= 0 && t->dims[S->axis[j]] != S->len)
        RFAIL(R, ONYX_ERR_INVALID,
              "%s: %s: the scan inputs differ in length: %lld and %lld "
              "('%s')",
              path, lb, (long long)S->len, (long long)t->dims[S->axis[j]], nm);
    S->len = t->dims[S->axis[j]];
    if (dir != 0 && dir != 1)
        RFAIL(R, ONYX_ERR_INVALID,
              "%s: %s: %s[%d] must be 0 (forward) or 1 (reverse)", path, lb,
              S->v8 ? "directions" : "scan_input_directions", s);
    return ONYX_OK;
}

/* Opset 8's sequence_lens, when given: onyx runs only the full length. */
static onyx_status scan_seq_lens(resolver *R, const scan_state *S)
{
    const onyx_nodedef *nd = S->nd;
    if (!S->v8 || nd->n_in == 0 || !nd->inputs[0][0]) return ONYX_OK;
    int t = onyx_find_tensor(R, nd->inputs[0]);
    if (t < 0)
        RFAIL(R, ONYX_ERR_PARSE, "%s: %s: input '%s' is undefined", R->m->path,
              S->lb, nd->inputs[0]);
    const onyx_ptensor *pt = &R->p->tensors[t];
    int ok = pt->t.dtype == ONYX_INT64 && onyx_numel(&pt->t) == S->batch &&
             (pt->loc == ONYX_LOC_CONST || R->known[t]) && pt->t.data;
    for (int64_t b = 0; ok && b < S->batch; b++)
        ok = ((const int64_t *)pt->t.data)[b] == S->len;
    if (!ok)
        RFAIL(R, ONYX_ERR_UNSUPPORTED,
              "%s: %s: sequence_lens must be a constant (or bound) "
              "int64 [%lld] of the full length %lld: onyx does not run "
              "shorter sequences",
              R->m->path, S->lb, (long long)S->batch, (long long)S->len);
    return ONYX_OK;
}

/* Step t of batch entry b (bp its prefix): the body inlined on the
 * states and the scan inputs' elements t (or len-1-t, reversed). */
static onyx_status scan_step(resolver *R, strmap *need, scan_state *S,
                             int64_t b, int64_t t, const char *bp,
                             int64_t body_nodes)
{
    const onyx_nodedef *nd = S->nd;
    ONYX_TRY(charge(R, S->lb, body_nodes, b * S->len + t, 0));
    ONYX_TRY(reserve(R, need, S->body,
                     8 + 4 * (int64_t)nd->n_in + 2 * (int64_t)nd->n_out));
    const char *ip = fmt_name(R, "%s%lld/", bp, (long long)t);
    int *bins = onyx_pool_alloc(&R->tmp, sizeof(int) * (size_t)(nd->n_in + 1));
    if (!ip || !bins) RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
    const int n_in = S->n_state + S->n_scan_in;
    for (int j = 0; j < S->n_state; j++)
        bins[j] = S->ins[j];
    for (int j = S->n_state; j < n_in; j++)
        ONYX_TRY(take(R, need, S->ins[j], S->v8 ? 0 : (int)S->axis[j],
                      scan_dir(S, j - S->n_state) ? S->len - 1 - t : t,
                      fmt_name(R, "%sx%d", ip, j - S->n_state), S->lb,
                      &bins[j]));
    ONYX_TRY(onyx_inline_graph(R, need, S->lb, S->body, ip, bins, n_in, S->outs,
                               nd->n_out));
    for (int j = 0; j < S->n_state; j++)
        S->ins[j] = S->outs[j];
    for (int k = 0; k < S->n_scan_out; k++)
        if (!idx_push(R, &S->scans, S->outs[S->n_state + k]))
            RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
    return ONYX_OK;
}

/* Batch entry b's scan output k, stacked from its steps along its axis. */
static onyx_status scan_stack(resolver *R, strmap *need, scan_state *S,
                              int64_t b, int k, const char *bp)
{
    const onyx_nodedef *nd = S->nd;
    const char *name = nd->outputs[S->n_state + k];
    if (!name[0] || !onyx_strmap_slot(need, name, 0)) return ONYX_OK;
    int64_t dir = 0, ax = 0, len = S->len;
    const onyx_value_info *decl = &S->body->outputs[S->n_state + k];
    if (!S->v8) {
        dir = attr_at(nd, "scan_output_directions", k, 0);
        if (dir != 0 && dir != 1)
            RFAIL(R, ONYX_ERR_INVALID,
                  "%s: %s: scan_output_directions[%d] must be 0 "
                  "(forward) or 1 (reverse)",
                  R->m->path, S->lb, k);
        int r = 1 + (len ? R->p->tensors[S->scans.v[k]].t.rank
                         : (decl->rank >= 0 ? decl->rank : 0));
        if (!attr_axis(nd, "scan_output_axes", k, r, &ax))
            RFAIL(R, ONYX_ERR_INVALID,
                  "%s: %s: scan_output_axes[%d] is outside the %d "
                  "axes of output '%s'",
                  R->m->path, S->lb, k, r, name);
    }
    for (int64_t t = 0; t < len; t++)
        S->el[dir ? len - 1 - t : t] = S->scans.v[t * S->n_scan_out + k];
    const char *sn = S->v8 ? fmt_name(R, "%sscan%d", bp, k) : name;
    if (!sn) RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
    ONYX_TRY(stack(R, need, S->el, len, ax, sn, fmt_name(R, "%sscan%d/", bp, k),
                   decl, S->lb));
    S->final[b * nd->n_out + S->n_state + k] = onyx_find_tensor(R, sn);
    return ONYX_OK;
}

/* Batch entry b (opset 8; the only one after): its inputs, its steps, its
 * final states and stacked scan outputs. */
static onyx_status scan_entry(resolver *R, strmap *need, scan_state *S,
                              int64_t b, int64_t body_nodes)
{
    const onyx_nodedef *nd = S->nd;
    const char *bp = S->v8 ? fmt_name(R, "%s%lld/", S->pre, (long long)b)
                           : fmt_name(R, "%s", S->pre);
    if (!bp) RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
    ONYX_TRY(reserve(R, need, NULL, 8 + 4 * (int64_t)nd->n_in));
    for (int j = 0; j < S->n_state + S->n_scan_in; j++) {
        S->ins[j] = S->x[j];
        if (S->v8)
            ONYX_TRY(take(R, need, S->x[j], 0, b, fmt_name(R, "%sin%d", bp, j),
                          S->lb, &S->ins[j]));
    }
    S->scans.n = 0;
    for (int64_t t = 0; t < S->len; t++)
        ONYX_TRY(scan_step(R, need, S, b, t, bp, body_nodes));
    for (int j = 0; j < S->n_state; j++)
        S->final[b * nd->n_out + j] = S->ins[j];
    for (int k = 0; k < S->n_scan_out; k++)
        ONYX_TRY(scan_stack(R, need, S, b, k, bp));
    return ONYX_OK;
}

/* The Scan's outputs: the final states (opset 8: every batch entry's
 * outputs stacked along axis 0). */
static onyx_status scan_outputs(resolver *R, strmap *need, scan_state *S)
{
    const onyx_nodedef *nd = S->nd;
    for (int k = 0; k < nd->n_out; k++) {
        const char *name = nd->outputs[k];
        if (!name[0] ||
            ((S->v8 || k >= S->n_state) && !onyx_strmap_slot(need, name, 0)))
            continue;
        if (!S->v8) {
            if (k < S->n_state)
                *onyx_strmap_slot(&R->names, name, 1) = S->final[k];
            continue;
        }
        int *col =
            onyx_pool_alloc(&R->tmp, sizeof(int) * (size_t)(S->batch + 1));
        if (!col) RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
        for (int64_t b = 0; b < S->batch; b++)
            col[b] = S->final[b * nd->n_out + k];
        ONYX_TRY(stack(R, need, col, S->batch, 0, name,
                       fmt_name(R, "%sout%d/", S->pre, k), &S->body->outputs[k],
                       S->lb));
    }
    return ONYX_OK;
}

/* Scan: opset 9+ Scan(states..., scan_inputs...), or opset 8
 * Scan(sequence_lens, states..., scan_inputs...) whose every input has a
 * batch axis 0 (each batch entry is scanned on its own, along axis 1) ->
 * final states..., scan_outputs...: the body unrolled once per element of
 * the scan inputs (per batch entry). */
onyx_status onyx_resolve_scan(resolver *R, strmap *need, const onyx_nodedef *nd,
                              const char *lb)
{
    char why[300];
    if (!onyx_control_check(nd, R->m->opset, why, sizeof why))
        RFAIL(R, ONYX_ERR_INVALID, "%s: %s: %s", R->m->path, lb, why);
    scan_state S;
    memset(&S, 0, sizeof S);
    S.nd = nd;
    S.body = body_of(nd);
    S.lb = lb;
    S.v8 = R->m->opset < 9;
    for (int a = 0; a < nd->n_attrs; a++)
        if (strcmp(nd->attrs[a].name, "num_scan_inputs") == 0 &&
            nd->attrs[a].type == ONYX_ATTR_INT)
            S.n_scan_in = (int)nd->attrs[a].i; /* checked at load */
    S.n_state = nd->n_in - S.v8 - S.n_scan_in;
    S.n_scan_out = nd->n_out - S.n_state;
    S.len = -1;
    S.batch = 1;
    snprintf(S.pre, sizeof S.pre, "%s#%d/",
             nd->name[0] ? nd->name : nd->op_type, R->n_inlined++);
    S.x = onyx_pool_alloc(&R->tmp, sizeof(int) * (size_t)(nd->n_in + 1));
    S.axis = onyx_pool_alloc(&R->tmp, sizeof(int64_t) * (size_t)(nd->n_in + 1));
    S.ins = onyx_pool_alloc(&R->tmp, sizeof(int) * (size_t)(nd->n_in + 1));
    S.outs = onyx_pool_alloc(&R->tmp, sizeof(int) * (size_t)(nd->n_out + 1));
    if (!S.x || !S.axis || !S.ins || !S.outs)
        RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
    for (int j = 0; j < S.n_state + S.n_scan_in; j++)
        ONYX_TRY(scan_input(R, &S, j));
    ONYX_TRY(scan_seq_lens(R, &S));
    const int64_t body_nodes = onyx_count_nodes(S.body->nodes, S.body->n_nodes);
    S.final = onyx_pool_alloc(
        &R->tmp,
        sizeof(int) * (size_t)((S.n_state + S.n_scan_out) * S.batch + 1));
    S.el = onyx_pool_alloc(&R->tmp, sizeof(int) * (size_t)(S.len + 1));
    if (!S.final || !S.el) RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
    for (int64_t b = 0; b < S.batch; b++)
        ONYX_TRY(scan_entry(R, need, &S, b, body_nodes));
    return scan_outputs(R, need, &S);
}
