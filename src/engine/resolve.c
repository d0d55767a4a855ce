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
#include "engine.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a string -> int map (open addressing, power-of-two size) ---- */
typedef struct strmap {
    const char **keys;
    int *vals;
    size_t cap, n; /* slots, keys in use (at most half the slots) */
    onyx_pool *pl; /* where keys and vals live */
} strmap;

static uint64_t str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

static int strmap_init(strmap *m, size_t n, onyx_pool *pl)
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

static int *strmap_slot(strmap *m, const char *k, int insert)
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
static int strmap_reserve(strmap *m, size_t more)
{
    if ((m->n + more) * 2 <= m->cap) return 1;
    strmap g;
    if (!strmap_init(&g, m->n + more, m->pl)) return 0;
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i]) *strmap_slot(&g, m->keys[i], 1) = m->vals[i];
    *m = g;
    return 1;
}

/* ---- resolver state ---- */

/* a list of names (in a pool) */
typedef struct name_list {
    const char **v;
    int n, cap;
} name_list;

typedef struct resolver {
    const onyx_model *m;
    onyx_program *p;
    onyx_error *err;
    strmap names; /* tensor name -> tensor index */
    int cap_tensors, cap_nodes;
    int64_t n_graph_nodes; /* nodes of every graph, each unrolled iteration
                              counted: held to onyx_limits.max_nodes */
    unsigned char *known;  /* per tensor: value visible to prepare */
    int *
        producer; /* per tensor: index of the kept node that writes it, or -1 */
    int64_t cap_names; /* value names in every graph, for the use counts */
    struct name_list *implicit; /* per main-graph node: what its subgraphs
                                   read from the main graph */
    const struct scope *scope;  /* the subgraph being inlined, or NULL */
    int n_inlined;              /* subgraphs inlined so far (their prefixes) */
    int guard;          /* the guard of the nodes being resolved, or -1 */
    uint8_t guard_want; /* the value it must hold */
    onyx_pool tmp;      /* freed after resolving */
    int *widened;       /* per tensor: 1 + its float32 copy (half.c), or 0 */
    int extra_nodes;    /* room for Casts added by half.c */
} resolver;

#define RFAIL(R, st, ...)                                                      \
    do {                                                                       \
        onyx_seterr((R)->err, (st), __VA_ARGS__);                              \
        return (st);                                                           \
    } while (0)

static int add_tensor(resolver *R, const char *name)
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
    if (name[0]) *strmap_slot(&R->names, name, 1) = i;
    return i;
}

static int find_tensor(resolver *R, const char *name)
{
    int *v = strmap_slot(&R->names, name, 0);
    return v ? *v : -1;
}

/* bytes of t, or -1 when over the limit / malformed */
static int64_t tensor_bytes(const onyx_tensor *t, int64_t limit)
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
        if (find_tensor(R, vi->name) >= 0)
            RFAIL(R, ONYX_ERR_PARSE, "%s: graph input '%s' is declared twice",
                  m->path, vi->name);
        int ti = add_tensor(R, vi->name);
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
        int64_t by = tensor_bytes(&pt->t, m->lim.max_tensor_bytes);
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
static onyx_status order_nodes(resolver *R, int *order)
{
    const onyx_model *m = R->m;
    int n = m->n_nodes;
    strmap prod;
    onyx_pool tmp = {0};
    onyx_status st = ONYX_OK;
    int *indeg = calloc((size_t)n + 1, sizeof(int));
    int *queue = calloc((size_t)n + 1, sizeof(int));
    int *depth = calloc((size_t)n + 1, sizeof(int)); /* longest chain to */
    /* edges: consumer lists via a CSR built from (producer -> consumer) */
    int64_t n_edges = 0;
    for (int i = 0; i < n; i++)
        n_edges += m->nodes[i].n_in + R->implicit[i].n;
    int *edge_from = calloc((size_t)n_edges + 1, sizeof(int));
    int *edge_to = calloc((size_t)n_edges + 1, sizeof(int));
    int *start = calloc((size_t)n + 2, sizeof(int));
    int *adj = calloc((size_t)n_edges + 1, sizeof(int));
    int64_t n_out = 0;
    for (int i = 0; i < n; i++)
        n_out += m->nodes[i].n_out;
    if (!indeg || !queue || !depth || !edge_from || !edge_to || !start ||
        !adj || !strmap_init(&prod, (size_t)n_out + 1, &tmp)) {
        onyx_seterr(R->err, ONYX_ERR_NOMEM, "out of memory");
        st = ONYX_ERR_NOMEM;
        goto out;
    }
    for (int i = 0; i < n && st == ONYX_OK; i++) {
        const onyx_nodedef *nd = &m->nodes[i];
        for (int k = 0; k < nd->n_out; k++) {
            if (!nd->outputs[k][0]) continue;
            int *slot = strmap_slot(&prod, nd->outputs[k], 1);
            if (*slot >= 0 || find_tensor(R, nd->outputs[k]) >= 0) {
                char lb[256];
                onyx_seterr(R->err, ONYX_ERR_PARSE,
                            "%s: %s: output '%s' is defined twice", m->path,
                            node_label(nd, i, lb, sizeof lb), nd->outputs[k]);
                st = ONYX_ERR_PARSE;
                break;
            }
            *slot = i;
        }
    }
    int64_t e = 0;
    for (int i = 0; i < n && st == ONYX_OK; i++) {
        const onyx_nodedef *nd = &m->nodes[i];
        /* the node's inputs, then what its subgraphs read (an If must run
         * after the values its branches use) */
        for (int k = 0; k < nd->n_in + R->implicit[i].n; k++) {
            const char *nm =
                k < nd->n_in ? nd->inputs[k] : R->implicit[i].v[k - nd->n_in];
            if (!nm[0]) continue;
            int *slot = strmap_slot(&prod, nm, 0);
            if (slot) {
                edge_from[e] = *slot;
                edge_to[e] = i;
                e++;
                indeg[i]++;
            } else if (find_tensor(R, nm) < 0) {
                char lb[256];
                onyx_seterr(R->err, ONYX_ERR_PARSE,
                            "%s: %s: input '%s' is not produced by any node, "
                            "initializer or graph input",
                            m->path, node_label(nd, i, lb, sizeof lb), nm);
                st = ONYX_ERR_PARSE;
                break;
            }
        }
    }
    if (st != ONYX_OK) goto out;
    for (int64_t k = 0; k < e; k++)
        start[edge_from[k] + 1]++;
    for (int i = 0; i < n; i++)
        start[i + 1] += start[i];
    {
        int *fill = queue; /* reuse as a cursor array temporarily */
        for (int i = 0; i < n; i++)
            fill[i] = start[i];
        for (int64_t k = 0; k < e; k++)
            adj[fill[edge_from[k]]++] = edge_to[k];
    }
    int head = 0, tail = 0;
    for (int i = 0; i < n; i++)
        if (indeg[i] == 0) queue[tail++] = i;
    int deepest = 0;
    while (head < tail) {
        int u = queue[head++];
        order[head - 1] = u;
        depth[u]++; /* u itself */
        if (depth[u] > depth[deepest]) deepest = u;
        for (int k = start[u]; k < start[u + 1]; k++) {
            int v = adj[k];
            if (depth[v] < depth[u]) depth[v] = depth[u];
            if (--indeg[v] == 0) queue[tail++] = v;
        }
    }
    if (tail < n) {
        int bad = 0;
        while (bad < n && indeg[bad] == 0)
            bad++;
        char lb[256];
        onyx_seterr(R->err, ONYX_ERR_PARSE,
                    "%s: the graph has a cycle through %s", m->path,
                    node_label(&m->nodes[bad], bad, lb, sizeof lb));
        st = ONYX_ERR_PARSE;
    } else if (n && depth[deepest] > m->lim.max_depth) {
        char lb[256];
        onyx_seterr(R->err, ONYX_ERR_LIMIT,
                    "%s: a chain of %d nodes ends at %s, longer than %lld "
                    "(onyx_limits.max_depth)",
                    m->path, depth[deepest],
                    node_label(&m->nodes[deepest], deepest, lb, sizeof lb),
                    (long long)m->lim.max_depth);
        st = ONYX_ERR_LIMIT;
    }
out:
    free(indeg);
    free(depth);
    free(queue);
    free(edge_from);
    free(edge_to);
    free(start);
    free(adj);
    onyx_pool_free(&tmp);
    return st;
}

static void free_params(void *params, void (*fp)(void *))
{
    if (!params) return;
    if (fp)
        fp(params);
    else
        free(params);
}

/* Runs a prepared node now (constant folding / known values): outputs get
 * data in the program pool. */
static onyx_status eval_now(resolver *R, const onyx_op *op, onyx_prep *pr,
                            onyx_tensor **in, onyx_tensor **out,
                            const char *label)
{
    onyx_program *p = R->p;
    for (int k = 0; k < pr->n_out; k++) {
        if (!out[k]) continue;
        size_t by = (size_t)onyx_numel(out[k]) * onyx_dtype_size(out[k]->dtype);
        out[k]->data = onyx_pool_alloc(&p->pool, by ? by : 1);
        if (!out[k]->data) RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
    }
    void *scratch = NULL;
    if (pr->scratch_bytes) {
        scratch = aligned_alloc(64, (pr->scratch_bytes + 63) & ~(size_t)63);
        if (!scratch) RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
        memset(scratch, 0, pr->scratch_bytes);
    }
    onyx_exec e;
    memset(&e, 0, sizeof e);
    e.in = (const onyx_tensor *const *)in;
    e.out = out;
    e.n_in = pr->n_in;
    e.n_out = pr->n_out;
    e.params = pr->params;
    e.scratch = scratch;
    onyx_status st = op->eval(&e);
    free(scratch);
    if (st != ONYX_OK)
        RFAIL(R, st, "%s: %s: %s", R->m->path, label,
              e.err ? e.err : "evaluation failed");
    return ONYX_OK;
}

/* ---- fusion: MatMul followed by Adds ---- */

/* The Add node nd (inputs in_idx, output tensor out) adds a tensor c to the
 * output t of a kept MatMul (or already fused MatMul+Add) node P. When t is
 * used by this Add only and c is ready when P runs, P becomes (or stays) a
 * MatMul+Add with c as one more addend, and the Add's output name now names
 * t. Returns 1 when fused; 0 leaves everything as it was. `uses` counts the
 * uses of each name by live nodes and graph outputs. */
static int fuse_add(resolver *R, strmap *uses, const onyx_nodedef *nd,
                    const int *in_idx, int out, int64_t add_flops)
{
    onyx_program *p = R->p;
    if (nd->n_in != 2 || nd->n_out != 1 || out < 0) return 0;
    for (int side = 0; side < 2; side++) {
        int t = in_idx[side], c = in_idx[1 - side];
        if (t < 0 || c < 0 || t == c || R->producer[t] < 0 || R->known[t])
            continue;
        int j = R->producer[t];
        onyx_pnode *P = &p->nodes[j];
        const onyx_op *fused = P->op->add_fused;
        if (!fused) continue;
        /* t reached under its own name (not through a rename), used once */
        int *u = strmap_slot(uses, nd->inputs[side], 0);
        if (strcmp(p->tensors[t].name, nd->inputs[side]) != 0 || !u || *u != 1)
            continue;
        /* c must be written before P runs */
        int cr = p->tensors[c].alias >= 0 ? p->tensors[c].alias : c;
        if (R->producer[cr] >= j) continue;
        if (!onyx_same_shape(&p->tensors[out].t, &p->tensors[t].t)) continue;
        if (P->n_in + 1 > 64) continue;

        /* prepare P again with c as one more input */
        int in_idx2[64];
        onyx_tensor in_t[64], out_t;
        onyx_tensor *in_p[64], *out_p[1] = {&out_t};
        unsigned char in_const[64];
        int n_in = P->n_in + 1;
        memcpy(in_idx2, P->in, sizeof(int) * (size_t)P->n_in);
        in_idx2[n_in - 1] = c;
        for (int k = 0; k < n_in; k++) {
            in_t[k] = p->tensors[in_idx2[k]].t;
            in_const[k] = p->tensors[in_idx2[k]].loc == ONYX_LOC_CONST;
            if (!in_const[k]) in_t[k].data = NULL;
            in_p[k] = &in_t[k];
        }
        memset(&out_t, 0, sizeof out_t);
        char msg[400];
        onyx_prep pr;
        memset(&pr, 0, sizeof pr);
        pr.op_type = fused->name;
        pr.opset = R->m->opset;
        pr.n_in = n_in;
        pr.n_out = 1;
        pr.in = (const onyx_tensor *const *)in_p;
        pr.in_const = in_const;
        pr.out = out_p;
        pr.max_tensor_bytes = R->m->lim.max_tensor_bytes;
        pr.msg = msg;
        pr.msg_cap = sizeof msg;
        if (fused->prepare(&pr) != ONYX_OK || pr.bad_attr ||
            !onyx_same_shape(&out_t, &p->tensors[t].t) ||
            out_t.dtype != p->tensors[t].t.dtype) {
            free_params(pr.params, pr.free_params);
            continue;
        }
        int *new_in =
            onyx_pool_alloc(&p->pool, sizeof(int) * (size_t)(n_in + 1));
        if (!new_in) {
            free_params(pr.params, pr.free_params);
            return 0;
        }
        memcpy(new_in, in_idx2, sizeof(int) * (size_t)n_in);
        free_params(P->params, P->free_params);
        P->op = fused;
        P->op_type = fused->name;
        P->in = new_in;
        P->n_in = n_in;
        P->params = pr.params;
        P->free_params = pr.free_params;
        P->scratch_bytes = pr.scratch_bytes;
        P->flops = onyx_flops_add(P->flops, add_flops);
        p->flops = onyx_flops_add(p->flops, add_flops);
        /* the Add's output is t: rename t so that a next Add may fuse too */
        p->tensors[t].name = nd->outputs[0];
        *strmap_slot(&R->names, nd->outputs[0], 1) = t;
        return 1;
    }
    return 0;
}

/* ---- half precision: float16 and bfloat16 are storage types only ----
 *
 * No compute kernel reads a half-precision value. Models from PyTorch's
 * model.half() hold float16 weights, inputs and outputs; the engine runs
 * them in float32:
 *   - a node that reads a float16 or bfloat16 tensor reads its float32 copy
 *     instead, made by a Cast the resolver adds before the node's first
 *     reader (for an initializer or a folded constant the copy is folded
 *     too: the weights are widened once, at resolve). Widening is exact.
 *   - Cast and CastLike read half values themselves (they convert between
 *     every pair of types), and so do the ops that only rename or look at a
 *     shape (Identity, Shape, Size).
 *   - Cast/CastLike to float16 or bfloat16 really round (their outputs hold
 *     half values, which their readers then widen), so a model that narrows
 *     on purpose computes what it asks for.
 *   - a graph output declared float16 or bfloat16 that comes out float32 gets
 *     a narrowing Cast (round to nearest even) as the last step.
 * The graph inputs and outputs keep the dtype the model declares, so the
 * caller reads and writes half-precision bytes. Between ops, values the
 * model computes in half precision keep float32's: only Casts and the
 * outputs round (ONNX Runtime's CPU provider, which inserts Casts around
 * the ops it has no float16 kernel for, does the same). */

static int is_half(onyx_dtype t)
{
    return t == ONYX_FLOAT16 || t == ONYX_BFLOAT16;
}

/* 1 when the model may hold a half-precision value anywhere: only then does
 * the resolver make room for the Casts below. */
static int model_has_half(const onyx_model *m)
{
    for (int i = 0; i < m->n_inits; i++)
        if (is_half(m->inits[i].t.dtype)) return 1;
    for (int i = 0; i < m->n_inputs; i++)
        if (is_half(m->inputs[i].dtype)) return 1;
    for (int i = 0; i < m->n_outputs; i++)
        if (is_half(m->outputs[i].dtype)) return 1;
    for (int i = 0; i < m->n_nodes; i++)
        for (int a = 0; a < m->nodes[i].n_attrs; a++) {
            const onyx_attr *at = &m->nodes[i].attrs[a];
            if (at->type == ONYX_ATTR_INT && is_half((onyx_dtype)at->i))
                return 1; /* Cast's to, the dtype of RandomNormal... */
            if (at->type == ONYX_ATTR_TENSOR && at->t && is_half(at->t->dtype))
                return 1;
            if (at->type == ONYX_ATTR_GRAPH)
                return 1; /* a subgraph: not looked into, room to be safe */
        }
    return 0;
}

/* A new tensor `name` = Cast(tensor src, to): folded now when src is a
 * constant, else a kept node (also run now when src's value is known). */
static onyx_status cast_tensor(resolver *R, int src, onyx_dtype to,
                               const char *name, int *out)
{
    static const onyx_attr to_attr[] = {
        {.name = "to", .type = ONYX_ATTR_INT, .i = ONYX_FLOAT},
        {.name = "to", .type = ONYX_ATTR_INT, .i = ONYX_FLOAT16},
        {.name = "to", .type = ONYX_ATTR_INT, .i = ONYX_BFLOAT16},
    };
    onyx_program *p = R->p;
    const onyx_model *m = R->m;
    const onyx_op *cast = &onyx_op_Cast;
    int ti = add_tensor(R, ""); /* "": not in the name map */
    if (ti < 0) RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
    p->tensors[ti].name = name;
    const onyx_ptensor *s = &p->tensors[src];
    int is_const = s->loc == ONYX_LOC_CONST, known = R->known[src];
    onyx_tensor in_t = s->t, out_t;
    if (!is_const && !known) in_t.data = NULL;
    memset(&out_t, 0, sizeof out_t);
    onyx_tensor *in_p[1] = {&in_t}, *out_p[1] = {&out_t};
    unsigned char in_const[1] = {(unsigned char)is_const};
    char msg[400] = "";
    onyx_prep pr;
    memset(&pr, 0, sizeof pr);
    pr.op_type = cast->name;
    pr.opset = m->opset;
    pr.n_in = pr.n_out = 1;
    pr.in = (const onyx_tensor *const *)in_p;
    pr.in_const = in_const;
    pr.out = out_p;
    pr.attrs = &to_attr[to == ONYX_FLOAT ? 0 : to == ONYX_FLOAT16 ? 1 : 2];
    pr.n_attrs = 1;
    pr.max_tensor_bytes = m->lim.max_tensor_bytes;
    pr.msg = msg;
    pr.msg_cap = sizeof msg;
    onyx_status st = cast->prepare(&pr);
    if (st != ONYX_OK) {
        free_params(pr.params, pr.free_params);
        RFAIL(R, st, "%s: %s: %s", m->path, name, msg);
    }
    int64_t by = tensor_bytes(&out_t, m->lim.max_tensor_bytes);
    if (by < 0) {
        free_params(pr.params, pr.free_params);
        RFAIL(R, ONYX_ERR_LIMIT,
              "%s: %s is larger than %lld bytes "
              "(onyx_limits.max_tensor_bytes)",
              m->path, name, (long long)m->lim.max_tensor_bytes);
    }
    if (is_const || known) st = eval_now(R, cast, &pr, in_p, out_p, name);
    if (st != ONYX_OK) {
        free_params(pr.params, pr.free_params);
        return st;
    }
    onyx_ptensor *d = &p->tensors[ti];
    d->t = out_t;
    d->bytes = (size_t)by;
    *out = ti;
    if (is_const) {
        d->loc = ONYX_LOC_CONST;
        free_params(pr.params, pr.free_params);
        return ONYX_OK;
    }
    R->known[ti] = (unsigned char)known;
    onyx_pnode *pn = &p->nodes[p->n_nodes];
    memset(pn, 0, sizeof *pn);
    pn->name = name;
    pn->op_type = cast->name;
    pn->op = cast;
    pn->n_in = pn->n_out = 1;
    pn->in = onyx_pool_alloc(&p->pool, sizeof(int));
    pn->out = onyx_pool_alloc(&p->pool, sizeof(int));
    if (!pn->in || !pn->out) {
        free_params(pr.params, pr.free_params);
        RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
    }
    pn->in[0] = src;
    pn->out[0] = ti;
    pn->params = pr.params;
    pn->free_params = pr.free_params;
    pn->scratch_bytes = pr.scratch_bytes;
    R->producer[ti] = p->n_nodes++;
    return ONYX_OK;
}

/* *ti: a half-precision tensor becomes its float32 copy (made once) */
static onyx_status half_widen(resolver *R, int *ti)
{
    onyx_program *p = R->p;
    if (!is_half(p->tensors[*ti].t.dtype)) return ONYX_OK;
    if (R->widened[*ti]) {
        *ti = R->widened[*ti] - 1;
        return ONYX_OK;
    }
    const char *src = p->tensors[*ti].name;
    size_t len = strlen(src);
    char *name = onyx_pool_alloc(&p->pool, len + sizeof ":float32");
    if (!name) RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
    memcpy(name, src, len);
    memcpy(name + len, ":float32", sizeof ":float32");
    int w;
    ONYX_TRY(cast_tensor(R, *ti, ONYX_FLOAT, name, &w));
    R->widened[*ti] = w + 1;
    *ti = w;
    return ONYX_OK;
}

/* Graph outputs declared half precision that come out float32 are narrowed
 * by a last Cast, which now owns the output's name. */
static onyx_status half_outputs(resolver *R)
{
    const onyx_model *m = R->m;
    for (int i = 0; i < m->n_outputs; i++) {
        const onyx_value_info *vi = &m->outputs[i];
        int ti = find_tensor(R, vi->name);
        if (ti < 0 || !is_half(vi->dtype) ||
            R->p->tensors[ti].t.dtype != ONYX_FLOAT)
            continue;
        int nt;
        ONYX_TRY(cast_tensor(R, ti, vi->dtype, vi->name, &nt));
        *strmap_slot(&R->names, vi->name, 1) = nt;
    }
    return ONYX_OK;
}

/* ---- subgraphs: the names they use and define ---- */

/* The names a graph's nodes may define: its inputs, initializers and node
 * outputs. */
static int graph_locals(const onyx_graphdef *g, strmap *locals, onyx_pool *pl)
{
    size_t n = (size_t)g->n_inputs + (size_t)g->n_inits;
    for (int i = 0; i < g->n_nodes; i++)
        n += (size_t)g->nodes[i].n_out;
    if (!strmap_init(locals, n + 1, pl)) return 0;
    for (int i = 0; i < g->n_inputs; i++)
        *strmap_slot(locals, g->inputs[i].name, 1) = 1;
    for (int i = 0; i < g->n_inits; i++)
        *strmap_slot(locals, g->inits[i].name, 1) = 1;
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_out; k++)
            if (g->nodes[i].outputs[k][0])
                *strmap_slot(locals, g->nodes[i].outputs[k], 1) = 1;
    return 1;
}

static int name_push(name_list *l, const char *name, onyx_pool *pl)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 16;
        const char **v = onyx_pool_alloc(pl, sizeof *v * (size_t)cap);
        if (!v) return 0;
        if (l->n) memcpy(v, l->v, sizeof *v * (size_t)l->n);
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = name;
    return 1;
}

/* Appends the names node nd's subgraphs read from the graphs around nd (its
 * implicit inputs), recursively; some may repeat. */
static int node_implicit(const onyx_nodedef *nd, name_list *out, onyx_pool *pl)
{
    for (int a = 0; a < nd->n_attrs; a++) {
        const onyx_graphdef *g = nd->attrs[a].g;
        if (nd->attrs[a].type != ONYX_ATTR_GRAPH || !g) continue;
        strmap locals;
        if (!graph_locals(g, &locals, pl)) return 0;
        name_list inner = {0};
        for (int i = 0; i < g->n_nodes; i++) {
            const onyx_nodedef *sn = &g->nodes[i];
            for (int k = 0; k < sn->n_in; k++)
                if (sn->inputs[k][0] && !name_push(&inner, sn->inputs[k], pl))
                    return 0;
            if (!node_implicit(sn, &inner, pl)) return 0;
        }
        for (int i = 0; i < g->n_outputs; i++)
            if (!name_push(&inner, g->outputs[i].name, pl)) return 0;
        for (int i = 0; i < inner.n; i++)
            if (!strmap_slot(&locals, inner.v[i], 0) &&
                !name_push(out, inner.v[i], pl))
                return 0;
    }
    return 1;
}

/* Nodes and value names of a graph and every subgraph in it, for sizing the
 * resolver's tables: an inlined If adds its branches' nodes and values, a
 * run-time one also a select per output and two guards. */
static void graph_size(const onyx_nodedef *nodes, int n_nodes, int n_inits,
                       int64_t *n_node, int64_t *n_value)
{
    *n_value += n_inits;
    for (int i = 0; i < n_nodes; i++) {
        const onyx_nodedef *nd = &nodes[i];
        *n_node += 1;
        *n_value += nd->n_out + nd->n_in;
        for (int a = 0; a < nd->n_attrs; a++) {
            const onyx_graphdef *g = nd->attrs[a].g;
            if (nd->attrs[a].type != ONYX_ATTR_GRAPH || !g) continue;
            *n_node += nd->n_out + 2;
            *n_value += nd->n_out + 2 + g->n_outputs;
            graph_size(g->nodes, g->n_nodes, g->n_inits, n_node, n_value);
        }
    }
}

/* ---- inlining: a subgraph's nodes become the program's ---- */

/* The names of a subgraph being inlined: its locals get the prefix, the
 * others are looked up in the scopes around it. */
typedef struct scope {
    const struct scope *up;
    const char *prefix;
    strmap locals;
} scope;

/* name as the program knows it (kept in the program pool), or NULL when out
 * of memory */
static const char *map_name(resolver *R, const char *name)
{
    if (!name[0]) return name;
    for (const scope *s = R->scope; s; s = s->up)
        if (strmap_slot((strmap *)&s->locals, name, 0)) {
            size_t a = strlen(s->prefix), b = strlen(name);
            char *r = onyx_pool_alloc(&R->p->pool, a + b + 1);
            if (!r) return NULL;
            memcpy(r, s->prefix, a);
            memcpy(r + a, name, b + 1);
            return r;
        }
    return name;
}

static void add_use(strmap *need, const char *name)
{
    int *u = strmap_slot(need, name, 1);
    *u = *u < 0 ? 1 : *u + 1;
}

static onyx_status resolve_node(resolver *R, strmap *need,
                                const onyx_nodedef *nd, const char *lb);

/* Inlines graph g (a branch of an If, or one iteration of a Loop's or
 * Scan's body) with the prefix pre: its inputs name the tensors in[] (a
 * branch has none: in is NULL), its initializers become constants, its
 * nodes are resolved in order (ONNX lists a graph's nodes in topological
 * order), and out[k] is the tensor of its output k (n_out of them). */
static onyx_status inline_graph(resolver *R, strmap *need, const char *lb,
                                const onyx_graphdef *g, const char *pre,
                                const int *in, int n_in, int *out, int n_out)
{
    onyx_program *p = R->p;
    const char *path = R->m->path;
    const char *what = in ? "body" : "branch";
    if (g->n_outputs != n_out)
        RFAIL(R, ONYX_ERR_INVALID, "%s: %s: a %s has %d outputs, the node %d",
              path, lb, what, g->n_outputs, n_out);
    if (g->n_inputs != n_in) {
        if (!in)
            RFAIL(R, ONYX_ERR_INVALID, "%s: %s: a branch takes no inputs", path,
                  lb);
        RFAIL(R, ONYX_ERR_INVALID, "%s: %s: the body has %d inputs, not %d",
              path, lb, g->n_inputs, n_in);
    }
    scope sc = {R->scope, pre, {0}};
    if (!graph_locals(g, &sc.locals, &R->tmp))
        RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
    R->scope = &sc;
    onyx_status st = ONYX_OK;
    /* the body's inputs are renames of the values given for them */
    for (int k = 0; k < n_in && st == ONYX_OK; k++) {
        const char *nm = map_name(R, g->inputs[k].name);
        if (!nm)
            st = ONYX_ERR_NOMEM;
        else if (nm[0])
            *strmap_slot(&R->names, nm, 1) = in[k];
    }
    /* the nodes with their names mapped, and their uses counted */
    onyx_nodedef *nodes =
        onyx_pool_alloc(&R->tmp, sizeof *nodes * (size_t)(g->n_nodes + 1));
    if (!nodes) st = ONYX_ERR_NOMEM;
    for (int i = 0; st == ONYX_OK && i < g->n_nodes; i++) {
        const onyx_nodedef *sn = &g->nodes[i];
        onyx_nodedef *c = &nodes[i];
        *c = *sn;
        c->inputs =
            onyx_pool_alloc(&p->pool, sizeof(char *) * (size_t)(sn->n_in + 1));
        c->outputs =
            onyx_pool_alloc(&p->pool, sizeof(char *) * (size_t)(sn->n_out + 1));
        if (!c->inputs || !c->outputs) st = ONYX_ERR_NOMEM;
        for (int k = 0; st == ONYX_OK && k < sn->n_in; k++)
            if (!(c->inputs[k] = map_name(R, sn->inputs[k])))
                st = ONYX_ERR_NOMEM;
        for (int k = 0; st == ONYX_OK && k < sn->n_out; k++)
            if (!(c->outputs[k] = map_name(R, sn->outputs[k])))
                st = ONYX_ERR_NOMEM;
        for (int k = 0; st == ONYX_OK && k < c->n_in; k++)
            if (c->inputs[k][0]) add_use(need, c->inputs[k]);
        name_list imp = {0};
        if (st == ONYX_OK && !node_implicit(sn, &imp, &R->tmp))
            st = ONYX_ERR_NOMEM;
        for (int k = 0; st == ONYX_OK && k < imp.n; k++) {
            const char *nm = map_name(R, imp.v[k]);
            if (!nm)
                st = ONYX_ERR_NOMEM;
            else
                add_use(need, nm);
        }
    }
    const char **outs =
        onyx_pool_alloc(&R->tmp, sizeof(char *) * (size_t)(g->n_outputs + 1));
    if (!outs) st = ONYX_ERR_NOMEM;
    for (int k = 0; st == ONYX_OK && k < g->n_outputs; k++) {
        if (!(outs[k] = map_name(R, g->outputs[k].name)))
            st = ONYX_ERR_NOMEM;
        else
            add_use(need, outs[k]);
    }
    if (st != ONYX_OK) {
        R->scope = sc.up;
        RFAIL(R, st, "out of memory");
    }
    for (int i = 0; st == ONYX_OK && i < g->n_inits; i++) {
        const char *nm = map_name(R, g->inits[i].name);
        int ti = nm ? add_tensor(R, nm) : -1;
        if (ti < 0) {
            st = ONYX_ERR_NOMEM;
            onyx_seterr(R->err, st, "out of memory");
            break;
        }
        p->tensors[ti].t = g->inits[i].t;
        p->tensors[ti].loc = ONYX_LOC_CONST;
        p->tensors[ti].bytes = (size_t)onyx_numel(&g->inits[i].t) *
                               onyx_dtype_size(g->inits[i].t.dtype);
    }
    for (int i = 0; st == ONYX_OK && i < g->n_nodes; i++) {
        char sub[256];
        snprintf(sub, sizeof sub, "node '%s' (%s) in %s", nodes[i].name,
                 nodes[i].op_type, lb);
        st = resolve_node(R, need, &nodes[i], sub);
    }
    for (int k = 0; st == ONYX_OK && k < g->n_outputs; k++) {
        out[k] = find_tensor(R, outs[k]);
        if (out[k] < 0) {
            st = ONYX_ERR_PARSE;
            onyx_seterr(R->err, st, "%s: %s: %s output '%s' is not defined",
                        path, lb, what, g->outputs[k].name);
        }
    }
    R->scope = sc.up;
    return st;
}

/* Keeps a node of an op the engine builds (IfSelect, GuardAnd) on tensors
 * in[]; its output is a new tensor named name, *out. */
static onyx_status emit_builtin(resolver *R, const onyx_op *op, const int *in,
                                int n_in, const onyx_attr *attrs, int n_attrs,
                                const char *name, const char *lb, int *out)
{
    onyx_program *p = R->p;
    onyx_tensor in_t[4], out_t;
    onyx_tensor *in_p[4], *out_p[1] = {&out_t};
    unsigned char in_const[4];
    for (int k = 0; k < n_in; k++) {
        in_t[k] = p->tensors[in[k]].t;
        in_const[k] = p->tensors[in[k]].loc == ONYX_LOC_CONST;
        if (!in_const[k]) in_t[k].data = NULL;
        in_p[k] = &in_t[k];
    }
    memset(&out_t, 0, sizeof out_t);
    char msg[400];
    msg[0] = 0;
    onyx_prep pr;
    memset(&pr, 0, sizeof pr);
    pr.op_type = op->name;
    pr.opset = R->m->opset;
    pr.n_in = n_in;
    pr.n_out = 1;
    pr.in = (const onyx_tensor *const *)in_p;
    pr.in_const = in_const;
    pr.out = out_p;
    pr.attrs = attrs;
    pr.n_attrs = n_attrs;
    pr.max_tensor_bytes = R->m->lim.max_tensor_bytes;
    pr.msg = msg;
    pr.msg_cap = sizeof msg;
    onyx_status st = op->prepare(&pr);
    int ti = st == ONYX_OK ? add_tensor(R, name) : -1;
    onyx_pnode *pn = &p->nodes[p->n_nodes];
    if (ti >= 0) {
        pn->in = onyx_pool_alloc(&p->pool, sizeof(int) * (size_t)n_in);
        pn->out = onyx_pool_alloc(&p->pool, sizeof(int));
    }
    if (st == ONYX_OK && pr.bad_attr) st = ONYX_ERR_INVALID;
    if (st == ONYX_OK && (ti < 0 || !pn->in || !pn->out)) st = ONYX_ERR_NOMEM;
    if (st != ONYX_OK) {
        free_params(pr.params, pr.free_params);
        RFAIL(R, st, "%s: %s: %s", R->m->path, lb,
              st != ONYX_ERR_NOMEM && msg[0] ? msg : "out of memory");
    }
    p->tensors[ti].t = out_t;
    p->tensors[ti].t.data = NULL;
    p->tensors[ti].bytes = (size_t)tensor_bytes(&out_t, INT64_MAX);
    pn->name = name;
    pn->op_type = op->name;
    pn->op = op;
    pn->n_in = n_in;
    pn->n_out = 1;
    memcpy(pn->in, in, sizeof(int) * (size_t)n_in);
    pn->out[0] = ti;
    pn->params = pr.params;
    pn->free_params = pr.free_params;
    pn->scratch_bytes = pr.scratch_bytes;
    pn->guard = R->guard + 1;
    pn->guard_want = R->guard_want;
    if (R->guard >= 0) p->n_guarded++;
    R->producer[ti] = p->n_nodes;
    p->n_nodes++;
    *out = ti;
    return ONYX_OK;
}

/* An If: its condition known now (a constant or a bound value) inlines the
 * branch taken; otherwise both branches are inlined under guards and an
 * IfSelect per output picks the result at run time (control.c). */
static onyx_status resolve_if(resolver *R, strmap *need, const onyx_nodedef *nd,
                              const char *lb)
{
    onyx_program *p = R->p;
    const char *path = R->m->path;
    const onyx_graphdef *br[2] = {NULL, NULL}; /* else, then */
    for (int a = 0; a < nd->n_attrs; a++) {
        const onyx_attr *at = &nd->attrs[a];
        int which = strcmp(at->name, "then_branch") == 0   ? 1
                    : strcmp(at->name, "else_branch") == 0 ? 0
                                                           : -1;
        if (which < 0) continue;
        if (at->type != ONYX_ATTR_GRAPH || !at->g)
            RFAIL(R, ONYX_ERR_INVALID, "%s: %s: attribute '%s' is not a graph",
                  path, lb, at->name);
        br[which] = at->g;
    }
    if (!br[0] || !br[1])
        RFAIL(R, ONYX_ERR_INVALID,
              "%s: %s: an If needs then_branch and "
              "else_branch",
              path, lb);
    if (nd->n_in != 1 || !nd->inputs[0][0])
        RFAIL(R, ONYX_ERR_INVALID,
              "%s: %s: an If takes one input, the "
              "condition",
              path, lb);
    if (nd->n_out > 64)
        RFAIL(R, ONYX_ERR_LIMIT, "%s: %s: more than 64 outputs", path, lb);
    int cond = find_tensor(R, nd->inputs[0]);
    if (cond < 0)
        RFAIL(R, ONYX_ERR_PARSE, "%s: %s: input '%s' is undefined", path, lb,
              nd->inputs[0]);
    const onyx_ptensor *ct = &p->tensors[cond];
    if (ct->t.dtype != ONYX_BOOL || onyx_numel(&ct->t) != 1)
        RFAIL(R, ONYX_ERR_INVALID,
              "%s: %s: the condition must be one bool, "
              "got %s with %lld elements",
              path, lb, onyx_dtype_name(ct->t.dtype),
              (long long)onyx_numel(&ct->t));
    char pre[300];
    snprintf(pre, sizeof pre, "%s#%d/", nd->name[0] ? nd->name : nd->op_type,
             R->n_inlined++);
    const char *prefix[2];
    for (int b = 0; b < 2; b++) {
        char *s = onyx_pool_alloc(&p->pool, strlen(pre) + 6);
        if (!s) RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
        sprintf(s, "%s%s/", pre, b ? "then" : "else");
        prefix[b] = s;
    }
    int res[2][64];
    if (ct->loc == ONYX_LOC_CONST || (R->known[cond] && ct->t.data)) {
        int b = *(const uint8_t *)ct->t.data != 0;
        ONYX_TRY(inline_graph(R, need, lb, br[b], prefix[b], NULL, 0, res[b],
                              nd->n_out));
        for (int k = 0; k < nd->n_out; k++)
            if (nd->outputs[k][0])
                *strmap_slot(&R->names, nd->outputs[k], 1) = res[b][k];
        return ONYX_OK;
    }
    /* decided at run time: each branch under its guard. A branch that
     * cannot be prepared for these shapes (ONNX Runtime never prepares a
     * branch it does not take: Silero's 8 kHz branch fed 512 samples) is
     * undone, and choosing it at run time is an error that says why. */
    const int outer = R->guard;
    const uint8_t outer_want = R->guard_want;
    const char *why[2] = {NULL, NULL};
    for (int b = 1; b >= 0; b--) {
        const int n0 = p->n_nodes, t0 = p->n_tensors, g0 = p->n_guarded;
        const int64_t f0 = p->flops;
        int guard = cond;
        onyx_status st = ONYX_OK;
        if (outer >= 0) {
            onyx_attr at[2];
            memset(at, 0, sizeof at);
            at[0].name = "outer_want";
            at[0].type = ONYX_ATTR_INT;
            at[0].i = outer_want;
            at[1].name = "inner_want";
            at[1].type = ONYX_ATTR_INT;
            at[1].i = b;
            int gin[2] = {outer, cond};
            st = emit_builtin(R, &onyx_op_GuardAnd, gin, 2, at, 2, prefix[b],
                              lb, &guard);
        }
        if (st == ONYX_OK) {
            R->guard = guard;
            R->guard_want = outer >= 0 ? 1 : (uint8_t)b;
            st = inline_graph(R, need, lb, br[b], prefix[b], NULL, 0, res[b],
                              nd->n_out);
            R->guard = outer;
            R->guard_want = outer_want;
        }
        if (st == ONYX_OK) continue;
        if (st == ONYX_ERR_NOMEM || st == ONYX_ERR_LIMIT || why[1]) return st;
        const char *msg =
            R->err && R->err->msg[0] ? R->err->msg : "it cannot be prepared";
        static const char fmt[] =
            "the condition chose the %s branch, which cannot run with the "
            "bound shapes: %s";
        size_t len = sizeof fmt + strlen(msg) + 4;
        char *w = onyx_pool_alloc(&p->pool, len);
        if (!w) RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
        snprintf(w, len, fmt, b ? "then" : "else", msg);
        why[b] = w;
        for (int j = n0; j < p->n_nodes; j++)
            free_params(p->nodes[j].params, p->nodes[j].free_params);
        memset(&p->nodes[n0], 0, sizeof *p->nodes * (size_t)(p->n_nodes - n0));
        for (int t = t0; t < p->n_tensors; t++) {
            R->known[t] = 0;
            R->producer[t] = -1;
            R->widened[t] = 0;
        }
        p->n_nodes = n0;
        p->n_tensors = t0;
        p->n_guarded = g0;
        p->flops = f0;
    }
    for (int k = 0; k < nd->n_out; k++) {
        if (!nd->outputs[k][0]) continue;
        int sin[3] = {cond, why[1] ? res[0][k] : res[1][k],
                      why[0] ? res[1][k] : res[0][k]},
            sel;
        ONYX_TRY(emit_builtin(R, &onyx_op_IfSelect, sin, 3, NULL, 0,
                              nd->outputs[k], lb, &sel));
        if (why[0] || why[1]) {
            onyx_pnode *pn = &p->nodes[p->n_nodes - 1];
            if_missing *ms = calloc(1, sizeof *ms);
            if (!ms) RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
            ms->why[0] = why[0];
            ms->why[1] = why[1];
            pn->params = ms;
            pn->free_params = NULL;
        }
    }
    if (R->err && (why[0] || why[1])) R->err->msg[0] = 0;
    return ONYX_OK;
}

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
static int64_t count_nodes(const onyx_nodedef *nodes, int n_nodes)
{
    int64_t n = n_nodes;
    for (int i = 0; i < n_nodes; i++)
        for (int a = 0; a < nodes[i].n_attrs; a++) {
            const onyx_graphdef *g = nodes[i].attrs[a].g;
            if (nodes[i].attrs[a].type == ONYX_ATTR_GRAPH && g)
                n += count_nodes(g->nodes, g->n_nodes);
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
        graph_size(g->nodes, g->n_nodes, g->n_inits, &n_node, &n_value);
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
    if (!strmap_reserve(&R->names, (size_t)n_value) ||
        !strmap_reserve(need, (size_t)n_value))
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
    int ti = add_tensor(R, name);
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
    return emit_builtin(R, &onyx_op_LoopCheck, &t, 1, &at, 1, name, lb, &out);
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
        add_use(need, in[k]);
    ONYX_TRY(resolve_node(R, need, &nd, lb));
    *res = find_tensor(R, out);
    if (*res < 0)
        RFAIL(R, ONYX_ERR_INVALID, "%s: %s: no %s", R->m->path, lb, out);
    return ONYX_OK;
}

/* a new name for tensor t (the nodes the resolver makes read by name) */
static const char *name_of(resolver *R, int t, const char *name)
{
    if (name) *strmap_slot(&R->names, name, 1) = t;
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
        if (nd->outputs[k][0] && strmap_slot(need, nd->outputs[k], 0))
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
    onyx_status st = emit_builtin(R, &onyx_op_GuardAnd, gin, 2, at, 2,
                                  fmt_name(R, "%sgo", pre), lb, live);
    R->guard = g;
    return st;
}

/* Loop(M, cond, v_initial...) -> v_final..., scan_outputs...: the body
 * unrolled for as many iterations as M and the conditions allow. M must be
 * known now; a condition known only at run time guards the iterations from
 * there on (guard_on). */
static onyx_status resolve_loop(resolver *R, strmap *need,
                                const onyx_nodedef *nd, const char *lb)
{
    onyx_program *p = R->p;
    const char *path = R->m->path;
    char why[300];
    if (!onyx_control_check(nd, R->m->opset, why, sizeof why))
        RFAIL(R, ONYX_ERR_INVALID, "%s: %s: %s", path, lb, why);
    const onyx_graphdef *body = body_of(nd);
    const int n_carried = nd->n_in - 2, n_scan = nd->n_out - n_carried;
    char pre[300];
    snprintf(pre, sizeof pre, "%s#%d/", nd->name[0] ? nd->name : nd->op_type,
             R->n_inlined++);
    ONYX_TRY(reserve(R, need, NULL, 16 + nd->n_in));
    /* the trip count M and the condition: absent, or known now */
    int64_t trip = INT64_MAX, go = 1;
    int cond = -1;
    static const char *const what[2] = {"trip count M", "condition"};
    for (int k = 0; k < 2; k++) {
        if (!nd->inputs[k][0]) continue;
        int t = find_tensor(R, nd->inputs[k]);
        if (t < 0)
            RFAIL(R, ONYX_ERR_PARSE, "%s: %s: input '%s' is undefined", path,
                  lb, nd->inputs[k]);
        const onyx_tensor *v = &p->tensors[t].t;
        onyx_dtype dt = k ? ONYX_BOOL : ONYX_INT64;
        if (v->dtype != dt || onyx_numel(v) != 1)
            RFAIL(R, ONYX_ERR_INVALID,
                  "%s: %s: the %s must be one %s, got %s with %lld elements",
                  path, lb, what[k], onyx_dtype_name(dt),
                  onyx_dtype_name(v->dtype), (long long)onyx_numel(v));
        int64_t val = 1;
        if (k && !scalar_now(R, t, &val)) { /* guarded, below */
            cond = t;
            continue;
        }
        if (!scalar_now(R, t, &val))
            RFAIL(R, ONYX_ERR_UNSUPPORTED,
                  "%s: %s: the %s '%s' is only known at run time: onyx "
                  "unrolls a Loop when the model is resolved, so its trip "
                  "count must be a constant or computed from values given "
                  "to the resolver (onyx_bind.data)",
                  path, lb, what[k], nd->inputs[k]);
        ONYX_TRY(keep_value(
            R, t, val, fmt_name(R, "%s%s:check", pre, k ? "cond" : "M"), lb));
        if (k) {
            go = val;
            cond = t;
        } else {
            trip = val;
        }
    }
    int *ins = onyx_pool_alloc(&R->tmp, sizeof(int) * (size_t)(nd->n_in + 1));
    int *outs = onyx_pool_alloc(&R->tmp, sizeof(int) * (size_t)(nd->n_out + 2));
    int *fin = onyx_pool_alloc(&R->tmp, sizeof(int) * (size_t)(n_carried + 1));
    idx_list scans = {0}; /* iteration i's scan output k: v[i * n_scan + k] */
    if (!ins || !outs || !fin) RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
    for (int k = 0; k < n_carried; k++) {
        fin[k] = ins[2 + k] = find_tensor(R, nd->inputs[2 + k]);
        if (ins[2 + k] < 0)
            RFAIL(R, ONYX_ERR_PARSE, "%s: %s: input '%s' is undefined", path,
                  lb, nd->inputs[2 + k][0] ? nd->inputs[2 + k] : "(none)");
    }
    /* a condition known only at run time: the iterations from there on run
     * under the guard `live` (each its own, the last one's AND the body's
     * condition), the carried values picked by IfSelects */
    int live = -1;
    if (cond >= 0 && !scalar_now(R, cond, &go))
        ONYX_TRY(guard_on(R, need, nd, lb, cond, nd->inputs[1], &live, pre));
    if (cond < 0) {
        static const uint8_t yes = 1;
        cond = const_tensor(R, fmt_name(R, "%scond", pre), ONYX_BOOL, 0, NULL,
                            &yes);
        if (cond < 0) RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
    }
    const int64_t body_nodes = count_nodes(body->nodes, body->n_nodes);
    /* the iteration number as the body declares it: a scalar, or [1] */
    const int it_rank = body->inputs[0].rank == 1 ? 1 : 0;
    int64_t iter;
    for (iter = 0; iter < trip && go; iter++) {
        ONYX_TRY(charge(R, lb, body_nodes, iter, live >= 0));
        ONYX_TRY(reserve(R, need, body, 8 + 2 * (int64_t)nd->n_out));
        const char *ip = fmt_name(R, "%s%lld/", pre, (long long)iter);
        if (!ip) RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
        ins[0] = const_tensor(R, fmt_name(R, "%siteration", ip), ONYX_INT64,
                              it_rank, (int64_t[]){1}, &iter);
        if (ins[0] < 0) RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
        ins[1] = cond;
        const int outer = R->guard;
        const uint8_t outer_want = R->guard_want;
        if (live >= 0) {
            R->guard = live;
            R->guard_want = 1;
        }
        onyx_status st = inline_graph(R, need, lb, body, ip, ins, nd->n_in,
                                      outs, 1 + nd->n_out);
        R->guard = outer;
        R->guard_want = outer_want;
        ONYX_TRY(st);
        const onyx_tensor *c = &p->tensors[outs[0]].t;
        if (c->dtype != ONYX_BOOL || onyx_numel(c) != 1)
            RFAIL(R, ONYX_ERR_INVALID,
                  "%s: %s: the body's condition must be one bool, got %s "
                  "with %lld elements",
                  path, lb, onyx_dtype_name(c->dtype),
                  (long long)onyx_numel(c));
        /* the carried values: the next iteration reads the body's (it
         * runs only when this one did); the loop's result is the body's,
         * or under a guard, the body's when it ran and the one before
         * when it did not */
        for (int k = 0; k < n_carried; k++) {
            ins[2 + k] = outs[1 + k];
            if (live < 0) {
                fin[k] = outs[1 + k];
                continue;
            }
            const onyx_tensor *a = &p->tensors[outs[1 + k]].t,
                              *b = &p->tensors[fin[k]].t;
            char sa[128], sb[128];
            if (a->dtype != b->dtype || !onyx_same_shape(a, b))
                RFAIL(R, ONYX_ERR_UNSUPPORTED,
                      "%s: %s: loop-carried value '%s' goes from %s %s to "
                      "%s %s: onyx needs one dtype and shape when the "
                      "condition is only known at run time",
                      path, lb, body->outputs[1 + k].name,
                      onyx_dtype_name(b->dtype),
                      onyx_shape_str(b, sb, sizeof sb),
                      onyx_dtype_name(a->dtype),
                      onyx_shape_str(a, sa, sizeof sa));
            int sin[3] = {live, outs[1 + k], fin[k]};
            ONYX_TRY(emit_builtin(R, &onyx_op_IfSelect, sin, 3, NULL, 0,
                                  fmt_name(R, "%sv%d", ip, k), lb, &fin[k]));
        }
        if (!scalar_now(R, outs[0], &go)) {
            go = 1;
            if (iter + 1 < trip)
                ONYX_TRY(guard_on(R, need, nd, lb, outs[0],
                                  body->outputs[0].name, &live, ip));
        } else if (live < 0 && outs[0] != cond) {
            ONYX_TRY(keep_value(R, outs[0], go, fmt_name(R, "%scond:check", ip),
                                lb));
        }
        cond = outs[0];
        for (int k = 0; k < n_scan; k++)
            if (!idx_push(R, &scans, outs[1 + n_carried + k]))
                RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
    }
    for (int k = 0; k < n_carried; k++)
        if (nd->outputs[k][0])
            *strmap_slot(&R->names, nd->outputs[k], 1) = fin[k];
    int *el = onyx_pool_alloc(&R->tmp, sizeof(int) * (size_t)(iter + 1));
    if (!el) RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
    for (int k = 0; k < n_scan; k++) {
        const char *name = nd->outputs[n_carried + k];
        if (!name[0] || !strmap_slot(need, name, 0)) continue;
        for (int64_t i = 0; i < iter; i++)
            el[i] = scans.v[i * n_scan + k];
        ONYX_TRY(stack(R, need, el, iter, 0, name,
                       fmt_name(R, "%sscan%d/", pre, k),
                       &body->outputs[1 + n_carried + k], lb));
    }
    return ONYX_OK;
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

/* Scan: opset 9+ Scan(states..., scan_inputs...), or opset 8
 * Scan(sequence_lens, states..., scan_inputs...) whose every input has a
 * batch axis 0 (each batch entry is scanned on its own, along axis 1) ->
 * final states..., scan_outputs...: the body unrolled once per element of
 * the scan inputs (per batch entry). */
static onyx_status resolve_scan(resolver *R, strmap *need,
                                const onyx_nodedef *nd, const char *lb)
{
    onyx_program *p = R->p;
    const char *path = R->m->path;
    char why[300];
    if (!onyx_control_check(nd, R->m->opset, why, sizeof why))
        RFAIL(R, ONYX_ERR_INVALID, "%s: %s: %s", path, lb, why);
    const onyx_graphdef *body = body_of(nd);
    const int v8 = R->m->opset < 9, first = v8;
    int n_scan_in = 0;
    for (int a = 0; a < nd->n_attrs; a++)
        if (strcmp(nd->attrs[a].name, "num_scan_inputs") == 0 &&
            nd->attrs[a].type == ONYX_ATTR_INT)
            n_scan_in = (int)nd->attrs[a].i; /* checked at load */
    const int n_state = nd->n_in - first - n_scan_in;
    const int n_scan_out = nd->n_out - n_state;
    char pre[300];
    snprintf(pre, sizeof pre, "%s#%d/", nd->name[0] ? nd->name : nd->op_type,
             R->n_inlined++);
    int *x = onyx_pool_alloc(&R->tmp, sizeof(int) * (size_t)(nd->n_in + 1));
    int64_t *axis =
        onyx_pool_alloc(&R->tmp, sizeof(int64_t) * (size_t)(nd->n_in + 1));
    int *ins = onyx_pool_alloc(&R->tmp, sizeof(int) * (size_t)(nd->n_in + 1));
    int *outs = onyx_pool_alloc(&R->tmp, sizeof(int) * (size_t)(nd->n_out + 1));
    if (!x || !axis || !ins || !outs) RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
    /* the inputs after sequence_lens: states, then scan inputs */
    int64_t len = -1, batch = 1;
    for (int j = 0; j < n_state + n_scan_in; j++) {
        const char *nm = nd->inputs[first + j];
        x[j] = nm[0] ? find_tensor(R, nm) : -1;
        if (x[j] < 0)
            RFAIL(R, ONYX_ERR_PARSE, "%s: %s: input '%s' is undefined", path,
                  lb, nm[0] ? nm : "(none)");
        const onyx_tensor *t = &p->tensors[x[j]].t;
        if (v8) { /* batch axis 0, all the same */
            if (t->rank < 1 + (j >= n_state) || (j && t->dims[0] != batch))
                RFAIL(R, ONYX_ERR_INVALID,
                      "%s: %s: input '%s' must have the batch axis 0 "
                      "(of %lld)%s",
                      path, lb, nm, (long long)batch,
                      j >= n_state ? " and the scan axis 1" : "");
            batch = t->dims[0];
        }
        if (j < n_state) continue;
        int s = j - n_state;
        const char *dir_name = v8 ? "directions" : "scan_input_directions";
        int64_t dir = attr_at(nd, dir_name, s, 0);
        if (v8)
            axis[j] = 1;
        else if (!attr_axis(nd, "scan_input_axes", s, t->rank, &axis[j]))
            RFAIL(R, ONYX_ERR_INVALID,
                  "%s: %s: scan_input_axes[%d] is outside the %d axes of "
                  "input '%s'",
                  path, lb, s, t->rank, nm);
        if (len >= 0 && t->dims[axis[j]] != len)
            RFAIL(R, ONYX_ERR_INVALID,
                  "%s: %s: the scan inputs differ in length: %lld and %lld "
                  "('%s')",
                  path, lb, (long long)len, (long long)t->dims[axis[j]], nm);
        len = t->dims[axis[j]];
        if (dir != 0 && dir != 1)
            RFAIL(R, ONYX_ERR_INVALID,
                  "%s: %s: %s[%d] must be 0 (forward) or 1 (reverse)", path, lb,
                  dir_name, s);
    }
    if (v8 && nd->n_in > 0 && nd->inputs[0][0]) {
        /* sequence_lens: onyx runs only the full length */
        int t = find_tensor(R, nd->inputs[0]);
        if (t < 0)
            RFAIL(R, ONYX_ERR_PARSE, "%s: %s: input '%s' is undefined", path,
                  lb, nd->inputs[0]);
        const onyx_ptensor *pt = &p->tensors[t];
        int ok = pt->t.dtype == ONYX_INT64 && onyx_numel(&pt->t) == batch &&
                 (pt->loc == ONYX_LOC_CONST || R->known[t]) && pt->t.data;
        for (int64_t b = 0; ok && b < batch; b++)
            ok = ((const int64_t *)pt->t.data)[b] == len;
        if (!ok)
            RFAIL(R, ONYX_ERR_UNSUPPORTED,
                  "%s: %s: sequence_lens must be a constant (or bound) "
                  "int64 [%lld] of the full length %lld: onyx does not run "
                  "shorter sequences",
                  path, lb, (long long)batch, (long long)len);
    }
    const int64_t body_nodes = count_nodes(body->nodes, body->n_nodes);
    /* the final states and stacked scan outputs of each batch entry */
    int *final = onyx_pool_alloc(
        &R->tmp, sizeof(int) * (size_t)((n_state + n_scan_out) * batch + 1));
    int *el = onyx_pool_alloc(&R->tmp, sizeof(int) * (size_t)(len + 1));
    idx_list scans = {0};
    if (!final || !el) RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
    for (int64_t b = 0; b < batch; b++) {
        const char *bp = v8 ? fmt_name(R, "%s%lld/", pre, (long long)b)
                            : fmt_name(R, "%s", pre);
        if (!bp) RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
        ONYX_TRY(reserve(R, need, NULL, 8 + 4 * (int64_t)nd->n_in));
        /* this batch entry's inputs */
        for (int j = 0; j < n_state + n_scan_in; j++) {
            ins[j] = x[j];
            if (v8)
                ONYX_TRY(take(R, need, x[j], 0, b, fmt_name(R, "%sin%d", bp, j),
                              lb, &ins[j]));
        }
        scans.n = 0;
        for (int64_t t = 0; t < len; t++) {
            ONYX_TRY(charge(R, lb, body_nodes, b * len + t, 0));
            ONYX_TRY(
                reserve(R, need, body,
                        8 + 4 * (int64_t)nd->n_in + 2 * (int64_t)nd->n_out));
            const char *ip = fmt_name(R, "%s%lld/", bp, (long long)t);
            if (!ip) RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
            int *bins =
                onyx_pool_alloc(&R->tmp, sizeof(int) * (size_t)(nd->n_in + 1));
            if (!bins) RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
            for (int j = 0; j < n_state; j++)
                bins[j] = ins[j];
            for (int j = n_state; j < n_state + n_scan_in; j++) {
                int64_t dir =
                    attr_at(nd, v8 ? "directions" : "scan_input_directions",
                            j - n_state, 0);
                ONYX_TRY(take(R, need, ins[j], v8 ? 0 : (int)axis[j],
                              dir ? len - 1 - t : t,
                              fmt_name(R, "%sx%d", ip, j - n_state), lb,
                              &bins[j]));
            }
            ONYX_TRY(inline_graph(R, need, lb, body, ip, bins,
                                  n_state + n_scan_in, outs, nd->n_out));
            for (int j = 0; j < n_state; j++)
                ins[j] = outs[j];
            for (int k = 0; k < n_scan_out; k++)
                if (!idx_push(R, &scans, outs[n_state + k]))
                    RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
        }
        for (int j = 0; j < n_state; j++)
            final[b * nd->n_out + j] = ins[j];
        for (int k = 0; k < n_scan_out; k++) {
            const char *name = nd->outputs[n_state + k];
            if (!name[0] || !strmap_slot(need, name, 0)) continue;
            int64_t dir = 0, ax = 0;
            const onyx_value_info *decl = &body->outputs[n_state + k];
            if (!v8) {
                dir = attr_at(nd, "scan_output_directions", k, 0);
                if (dir != 0 && dir != 1)
                    RFAIL(R, ONYX_ERR_INVALID,
                          "%s: %s: scan_output_directions[%d] must be 0 "
                          "(forward) or 1 (reverse)",
                          path, lb, k);
                int r = 1 + (len ? p->tensors[scans.v[k]].t.rank
                                 : (decl->rank >= 0 ? decl->rank : 0));
                if (!attr_axis(nd, "scan_output_axes", k, r, &ax))
                    RFAIL(R, ONYX_ERR_INVALID,
                          "%s: %s: scan_output_axes[%d] is outside the %d "
                          "axes of output '%s'",
                          path, lb, k, r, name);
            }
            for (int64_t t = 0; t < len; t++)
                el[dir ? len - 1 - t : t] = scans.v[t * n_scan_out + k];
            const char *sn = v8 ? fmt_name(R, "%sscan%d", bp, k) : name;
            if (!sn) RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
            ONYX_TRY(stack(R, need, el, len, ax, sn,
                           fmt_name(R, "%sscan%d/", bp, k), decl, lb));
            final[b * nd->n_out + n_state + k] = find_tensor(R, sn);
        }
    }
    for (int k = 0; k < nd->n_out; k++) {
        const char *name = nd->outputs[k];
        if (!name[0] || ((v8 || k >= n_state) && !strmap_slot(need, name, 0)))
            continue;
        if (!v8) {
            if (k < n_state) *strmap_slot(&R->names, name, 1) = final[k];
            continue;
        }
        /* opset 8: the batch entries stacked along axis 0 */
        int *col = onyx_pool_alloc(&R->tmp, sizeof(int) * (size_t)(batch + 1));
        if (!col) RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
        for (int64_t b = 0; b < batch; b++)
            col[b] = final[b * nd->n_out + k];
        ONYX_TRY(stack(R, need, col, batch, 0, name,
                       fmt_name(R, "%sout%d/", pre, k), &body->outputs[k], lb));
    }
    return ONYX_OK;
}

/* Resolves one node: prepares it (shape inference), then folds it, drops
 * it (a rename, a view), fuses it into the MatMul before it, or keeps it.
 * If, Loop and Scan nodes are inlined (resolve_if, resolve_loop,
 * resolve_scan). lb labels the node in messages. */
static onyx_status resolve_node(resolver *R, strmap *need,
                                const onyx_nodedef *nd, const char *lb)
{
    const onyx_model *m = R->m;
    onyx_program *p = R->p;
    onyx_status st = ONYX_OK;
    if (nd->domain[0] && strcmp(nd->domain, "ai.onnx") != 0) {
        RFAIL(R, ONYX_ERR_UNSUPPORTED,
              "%s: %s: op domain '%s' is not supported", m->path, lb,
              nd->domain);
    }
    const onyx_op *op = onyx_node_op(nd->op_type);
    if (!op) {
        RFAIL(R, ONYX_ERR_UNSUPPORTED,
              "%s: %s: op '%s' is not supported by onyx", m->path, lb,
              nd->op_type);
    }
    if (op->flags & ONYX_OP_IF) return resolve_if(R, need, nd, lb);
    if (op->flags & ONYX_OP_LOOP) return resolve_loop(R, need, nd, lb);
    if (op->flags & ONYX_OP_SCAN) return resolve_scan(R, need, nd, lb);
    if (nd->n_in > 64 || nd->n_out > 64) {
        RFAIL(R, ONYX_ERR_LIMIT, "%s: %s: more than 64 inputs or outputs",
              m->path, lb);
    }
    int in_idx[64], out_idx[64];
    onyx_tensor in_t[64], out_t[64];
    onyx_tensor *in_p[64], *out_p[64];
    unsigned char in_const[64];
    int all_const = 1, all_known = 1;
    for (int k = 0; k < nd->n_in; k++) {
        in_idx[k] = nd->inputs[k][0] ? find_tensor(R, nd->inputs[k]) : -1;
        if (nd->inputs[k][0] && in_idx[k] < 0) {
            RFAIL(R, ONYX_ERR_PARSE, "%s: %s: input '%s' is undefined", m->path,
                  lb, nd->inputs[k]);
        }
        if (in_idx[k] < 0) {
            in_p[k] = NULL;
            in_const[k] = 1;
            continue;
        }
        if (!(op->flags & ONYX_OP_READS_HALF))
            ONYX_TRY(half_widen(R, &in_idx[k]));
        onyx_ptensor *pt = &p->tensors[in_idx[k]];
        in_t[k] = pt->t;
        in_const[k] = pt->loc == ONYX_LOC_CONST;
        if (!in_const[k] && !R->known[in_idx[k]]) in_t[k].data = NULL;
        if (!in_const[k]) all_const = 0;
        if (!in_t[k].data) all_known = 0;
        in_p[k] = &in_t[k];
    }
    for (int k = 0; k < nd->n_out; k++) {
        memset(&out_t[k], 0, sizeof out_t[k]);
        int used = nd->outputs[k][0] && strmap_slot(need, nd->outputs[k], 0);
        out_p[k] = (used || (k == 0 && nd->outputs[k][0])) ? &out_t[k] : NULL;
    }
    /* Identity is a rename: its output is its input tensor */
    if ((op->flags & ONYX_OP_RENAME) && nd->n_in == 1 && nd->n_out == 1 &&
        in_idx[0] >= 0) {
        *strmap_slot(&R->names, nd->outputs[0], 1) = in_idx[0];
        return ONYX_OK;
    }
    onyx_prep pr;
    char msg[400];
    msg[0] = 0;
    memset(&pr, 0, sizeof pr);
    pr.op_type = op->name;
    pr.opset = m->opset;
    pr.n_in = nd->n_in;
    pr.n_out = nd->n_out;
    pr.in = (const onyx_tensor *const *)in_p;
    pr.in_const = in_const;
    pr.out = out_p;
    pr.attrs = nd->attrs;
    pr.n_attrs = nd->n_attrs;
    pr.max_tensor_bytes = m->lim.max_tensor_bytes;
    pr.msg = msg;
    pr.msg_cap = sizeof msg;
    pr.flops = -1;
    st = op->prepare(&pr);
    if (st == ONYX_OK && pr.bad_attr) st = ONYX_ERR_INVALID;
    if (st != ONYX_OK) {
        onyx_seterr(R->err, st, "%s: %s: %s", m->path, lb,
                    msg[0] ? msg : "prepare failed");
        free_params(pr.params, pr.free_params);
        return st;
    }
    int64_t out_bytes = 0;
    for (int k = 0; k < nd->n_out; k++) {
        if (!out_p[k]) continue;
        int64_t by = tensor_bytes(&out_t[k], m->lim.max_tensor_bytes);
        if (by < 0) {
            char sb[128];
            st = onyx_dtype_size(out_t[k].dtype) ? ONYX_ERR_LIMIT
                                                 : ONYX_ERR_UNSUPPORTED;
            onyx_seterr(R->err, st,
                        "%s: %s: output '%s' (%s %s) is invalid or larger "
                        "than %lld bytes (onyx_limits.max_tensor_bytes)",
                        m->path, lb, nd->outputs[k],
                        onyx_dtype_name(out_t[k].dtype),
                        onyx_shape_str(&out_t[k], sb, sizeof sb),
                        (long long)m->lim.max_tensor_bytes);
            break;
        }
        out_bytes += by;
        out_t[k].data = NULL;
    }
    if (st != ONYX_OK) {
        free_params(pr.params, pr.free_params);
        return st;
    }
    /* Dropout in inference with no mask used is a rename too */
    if (pr.rename && in_idx[0] >= 0) {
        free_params(pr.params, pr.free_params);
        *strmap_slot(&R->names, nd->outputs[0], 1) = in_idx[0];
        return ONYX_OK;
    }
    int shape_only = (op->flags & ONYX_OP_SHAPE_ONLY) != 0;
    int fold = all_const || shape_only;
    int compute_known = !fold && all_known && out_bytes <= 65536;
    /* new tensors for the outputs */
    for (int k = 0; k < nd->n_out; k++) {
        out_idx[k] = -1;
        if (!out_p[k]) continue;
        int ti = add_tensor(R, nd->outputs[k]);
        if (ti < 0) {
            st = ONYX_ERR_NOMEM;
            onyx_seterr(R->err, st, "out of memory");
            break;
        }
        out_idx[k] = ti;
    }
    if (st == ONYX_OK && (fold || compute_known)) {
        if (shape_only && !all_known) in_p[0]->data = NULL;
        st = eval_now(R, op, &pr, in_p, out_p, lb);
    }
    if (st != ONYX_OK) {
        free_params(pr.params, pr.free_params);
        return st;
    }
    for (int k = 0; k < nd->n_out; k++) {
        if (out_idx[k] < 0) continue;
        onyx_ptensor *pt = &p->tensors[out_idx[k]];
        pt->t = out_t[k];
        pt->bytes = (size_t)tensor_bytes(&out_t[k], m->lim.max_tensor_bytes);
        if (fold)
            pt->loc = ONYX_LOC_CONST;
        else if (compute_known)
            R->known[out_idx[k]] = 1;
    }
    if (fold) {
        free_params(pr.params, pr.free_params);
        return ONYX_OK;
    }
    /* a view: its output shares its input's bytes and the node goes (a
     * view of a constant is that constant with a new shape) */
    if (nd->n_out == 1 && out_idx[0] >= 0 && in_idx[0] >= 0 && pr.view) {
        onyx_ptensor *src = &p->tensors[in_idx[0]],
                     *dst = &p->tensors[out_idx[0]];
        if (src->loc == ONYX_LOC_CONST) {
            dst->loc = ONYX_LOC_CONST;
            dst->t.data = src->t.data;
        } else {
            dst->alias = src->alias >= 0 ? src->alias : in_idx[0];
        }
        free_params(pr.params, pr.free_params);
        return ONYX_OK;
    }
    int64_t flops = pr.flops >= 0 ? pr.flops : onyx_out_numel(&pr);
    /* (not inside a run-time branch: a branch that fails to prepare is
     * undone, which a fusion into a node before it would outlive) */
    if ((op->flags & ONYX_OP_ADD) && !compute_known && R->guard < 0 &&
        fuse_add(R, need, nd, in_idx, out_idx[0], flops)) {
        free_params(pr.params, pr.free_params);
        return ONYX_OK;
    }
    /* keep the node */
    onyx_pnode *pn = &p->nodes[p->n_nodes];
    pn->name = nd->name;
    pn->op_type = nd->op_type;
    pn->op = op;
    pn->n_in = nd->n_in;
    pn->n_out = nd->n_out;
    pn->in = onyx_pool_alloc(&p->pool, sizeof(int) * (size_t)(nd->n_in + 1));
    pn->out = onyx_pool_alloc(&p->pool, sizeof(int) * (size_t)(nd->n_out + 1));
    if (!pn->in || !pn->out) {
        free_params(pr.params, pr.free_params);
        st = ONYX_ERR_NOMEM;
        onyx_seterr(R->err, st, "out of memory");
        return st;
    }
    memcpy(pn->in, in_idx, sizeof(int) * (size_t)nd->n_in);
    memcpy(pn->out, out_idx, sizeof(int) * (size_t)nd->n_out);
    pn->params = pr.params;
    pn->free_params = pr.free_params;
    pn->scratch_bytes = pr.scratch_bytes;
    for (int k = 0; k < nd->n_in; k++)
        if (in_idx[k] >= 0) in_t[k].data = NULL;
    pn->flops = flops;
    pn->guard = R->guard + 1;
    pn->guard_want = R->guard_want;
    if (R->guard >= 0) p->n_guarded++;
    p->flops = onyx_flops_add(p->flops, pn->flops);
    for (int k = 0; k < nd->n_out; k++)
        if (out_idx[k] >= 0) R->producer[out_idx[k]] = p->n_nodes;
    p->n_nodes++;
    return ONYX_OK;
}

/* ---- the main pass ---- */
static onyx_status resolve_nodes(resolver *R, const int *order)
{
    const onyx_model *m = R->m;
    int n = m->n_nodes;
    char lb[256];
    /* which node outputs are needed: walk backwards from the graph outputs */
    unsigned char *live = calloc((size_t)n + 1, 1);
    strmap need;
    onyx_pool tmp = {0};
    onyx_status st = ONYX_OK;
    if (!live || !strmap_init(&need, (size_t)R->cap_names + 1, &tmp)) {
        free(live);
        onyx_pool_free(&tmp);
        RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
    }
    /* need: name -> how many times live nodes and graph outputs use it */
    for (int i = 0; i < m->n_outputs; i++)
        add_use(&need, m->outputs[i].name);
    for (int j = n - 1; j >= 0; j--) {
        const onyx_nodedef *nd = &m->nodes[order[j]];
        for (int k = 0; k < nd->n_out && !live[order[j]]; k++)
            if (nd->outputs[k][0] && strmap_slot(&need, nd->outputs[k], 0))
                live[order[j]] = 1;
        if (!live[order[j]]) continue;
        for (int k = 0; k < nd->n_in; k++)
            if (nd->inputs[k][0]) add_use(&need, nd->inputs[k]);
        const name_list *imp = &R->implicit[order[j]];
        for (int k = 0; k < imp->n; k++)
            add_use(&need, imp->v[k]);
    }

    for (int j = 0; j < n && st == ONYX_OK; j++) {
        int ni = order[j];
        if (!live[ni]) continue;
        st = resolve_node(R, &need, &m->nodes[ni],
                          node_label(&m->nodes[ni], ni, lb, sizeof lb));
    }
    free(live);
    onyx_pool_free(&tmp);
    return st;
}

/* ---- graph outputs and the plan ---- */
static onyx_status plan(resolver *R)
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
        int ti = find_tensor(R, m->outputs[i].name);
        if (ti < 0)
            RFAIL(R, ONYX_ERR_PARSE,
                  "%s: graph output '%s' is not produced by any node", m->path,
                  m->outputs[i].name);
        p->outputs[i] = ti;
        p->output_names[i] = m->outputs[i].name;
    }
    /* liveness: [producer, last consumer]; graph inputs from the start,
     * graph outputs to the end (they must survive the run) */
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

    int n_bufs = 0;
    onyx_buf *bufs =
        calloc((size_t)(p->n_tensors + p->n_nodes + 1), sizeof *bufs);
    int *who = calloc((size_t)(p->n_tensors + p->n_nodes + 1), sizeof(int));
    if (!bufs || !who) {
        free(bufs);
        free(who);
        RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < p->n_tensors; i++) {
        onyx_ptensor *pt = &p->tensors[i];
        if (pt->loc != ONYX_LOC_ARENA || pt->alias >= 0 || pt->first < 0)
            continue;
        bufs[n_bufs].bytes = pt->bytes;
        bufs[n_bufs].first = pt->first;
        bufs[n_bufs].last = pt->last;
        who[n_bufs++] = i;
    }
    for (int j = 0; j < p->n_nodes; j++) {
        if (!p->nodes[j].scratch_bytes) continue;
        if ((int64_t)p->nodes[j].scratch_bytes > m->lim.max_arena_bytes) {
            free(bufs);
            free(who);
            RFAIL(R, ONYX_ERR_LIMIT,
                  "%s: node '%s' (%s) asks for %zu bytes of scratch, more "
                  "than onyx_limits.max_arena_bytes",
                  m->path, p->nodes[j].name, p->nodes[j].op_type,
                  p->nodes[j].scratch_bytes);
        }
        bufs[n_bufs].bytes = p->nodes[j].scratch_bytes;
        bufs[n_bufs].first = bufs[n_bufs].last = j;
        who[n_bufs++] = -1 - j;
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

#include "../../kernels/gemm.h"

#include <pthread.h>
#include <stdatomic.h>

static atomic_int blas_threads_set;

void onyx_set_blas_threads(int n)
{
    atomic_store(&blas_threads_set, 1);
    onyx_blas_threads(n);
}

static void blas_default(void)
{
    if (!atomic_load(&blas_threads_set)) onyx_blas_threads(1);
}

onyx_program *onyx_program_new(const onyx_model *m, const onyx_bind *binds,
                               int n_binds, onyx_error *err)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, blas_default);
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
    graph_size(m->nodes, m->n_nodes, m->n_inits, &n_node, &n_value);
    int64_t cap = n_value + m->n_inputs + m->n_outputs;
    R.cap_names = cap;
    /* half precision: each tensor may get a float32 copy and each output a
     * narrowing Cast (the half-precision step above) */
    if (model_has_half(m)) {
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
    R.n_graph_nodes = count_nodes(m->nodes, m->n_nodes);
    onyx_status st = ONYX_OK;
    if (!order || !R.known || !R.producer || !R.implicit || !R.widened ||
        !p->tensors || !p->nodes ||
        !strmap_init(&R.names, (size_t)R.cap_tensors, &p->pool)) {
        onyx_seterr(err, ONYX_ERR_NOMEM, "out of memory");
        st = ONYX_ERR_NOMEM;
    }
    for (int i = 0; st == ONYX_OK && i < m->n_nodes; i++)
        if (!node_implicit(&m->nodes[i], &R.implicit[i], &R.tmp)) {
            onyx_seterr(err, ONYX_ERR_NOMEM, "out of memory");
            st = ONYX_ERR_NOMEM;
        }
    for (int i = 0; st == ONYX_OK && i < m->n_inits; i++) {
        int ti = add_tensor(&R, m->inits[i].name);
        p->tensors[ti].t = m->inits[i].t;
        p->tensors[ti].loc = ONYX_LOC_CONST;
        p->tensors[ti].bytes = (size_t)onyx_numel(&m->inits[i].t) *
                               onyx_dtype_size(m->inits[i].t.dtype);
    }
    if (st == ONYX_OK) st = bind_inputs(&R, binds, n_binds);
    if (st == ONYX_OK) st = order_nodes(&R, order);
    if (st == ONYX_OK) st = resolve_nodes(&R, order);
    if (st == ONYX_OK) st = half_outputs(&R);
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
        free_params(p->nodes[j].params, p->nodes[j].free_params);
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
