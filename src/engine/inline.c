/* inline.c - subgraphs: the names they read and define, inlining one
 * into the program, and If. */
#include "resolve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- subgraphs: the names they use and define ---- */

/* The names a graph's nodes may define: its inputs, initializers and node
 * outputs. */
static int graph_locals(const onyx_graphdef *g, strmap *locals, onyx_pool *pl)
{
    size_t n = (size_t)g->n_inputs + (size_t)g->n_inits;
    for (int i = 0; i < g->n_nodes; i++)
        n += (size_t)g->nodes[i].n_out;
    if (!onyx_strmap_init(locals, n + 1, pl)) return 0;
    for (int i = 0; i < g->n_inputs; i++)
        *onyx_strmap_slot(locals, g->inputs[i].name, 1) = 1;
    for (int i = 0; i < g->n_inits; i++)
        *onyx_strmap_slot(locals, g->inits[i].name, 1) = 1;
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_out; k++)
            if (g->nodes[i].outputs[k][0])
                *onyx_strmap_slot(locals, g->nodes[i].outputs[k], 1) = 1;
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
int onyx_node_implicit(const onyx_nodedef *nd, name_list *out, onyx_pool *pl)
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
            if (!onyx_node_implicit(sn, &inner, pl)) return 0;
        }
        for (int i = 0; i < g->n_outputs; i++)
            if (!name_push(&inner, g->outputs[i].name, pl)) return 0;
        for (int i = 0; i < inner.n; i++)
            if (!onyx_strmap_slot(&locals, inner.v[i], 0) &&
                !name_push(out, inner.v[i], pl))
                return 0;
    }
    return 1;
}

/* Nodes and value names of a graph and every subgraph in it, for sizing the
 * resolver's tables: an inlined If adds its branches' nodes and values, a
 * run-time one also a select per output and two guards. */
void onyx_graph_size(const onyx_nodedef *nodes, int n_nodes, int n_inits,
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
            onyx_graph_size(g->nodes, g->n_nodes, g->n_inits, n_node, n_value);
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
        if (onyx_strmap_slot((strmap *)&s->locals, name, 0)) {
            size_t a = strlen(s->prefix), b = strlen(name);
            char *r = onyx_pool_alloc(&R->p->pool, a + b + 1);
            if (!r) return NULL;
            memcpy(r, s->prefix, a);
            memcpy(r + a, name, b + 1);
            return r;
        }
    return name;
}

void onyx_add_use(strmap *need, const char *name)
{
    int *u = onyx_strmap_slot(need, name, 1);
    *u = *u < 0 ? 1 : *u + 1;
}

/* c = node sn of a graph being inlined, its names mapped into the
 * program, the uses of what it reads counted in need. */
static onyx_status map_node(resolver *R, strmap *need, const onyx_nodedef *sn,
                            onyx_nodedef *c)
{
    onyx_program *p = R->p;
    *c = *sn;
    c->inputs =
        onyx_pool_alloc(&p->pool, sizeof(char *) * (size_t)(sn->n_in + 1));
    c->outputs =
        onyx_pool_alloc(&p->pool, sizeof(char *) * (size_t)(sn->n_out + 1));
    if (!c->inputs || !c->outputs) return ONYX_ERR_NOMEM;
    for (int k = 0; k < sn->n_in; k++)
        if (!(c->inputs[k] = map_name(R, sn->inputs[k]))) return ONYX_ERR_NOMEM;
    for (int k = 0; k < sn->n_out; k++)
        if (!(c->outputs[k] = map_name(R, sn->outputs[k])))
            return ONYX_ERR_NOMEM;
    for (int k = 0; k < c->n_in; k++)
        if (c->inputs[k][0]) onyx_add_use(need, c->inputs[k]);
    name_list imp = {0};
    if (!onyx_node_implicit(sn, &imp, &R->tmp)) return ONYX_ERR_NOMEM;
    for (int k = 0; k < imp.n; k++) {
        const char *nm = map_name(R, imp.v[k]);
        if (!nm) return ONYX_ERR_NOMEM;
        onyx_add_use(need, nm);
    }
    return ONYX_OK;
}

/* g's initializers as constants of the program, under their mapped
 * names. */
static onyx_status add_inits(resolver *R, const onyx_graphdef *g)
{
    onyx_program *p = R->p;
    for (int i = 0; i < g->n_inits; i++) {
        const char *nm = map_name(R, g->inits[i].name);
        int ti = nm ? onyx_add_tensor(R, nm) : -1;
        if (ti < 0) {
            onyx_seterr(R->err, ONYX_ERR_NOMEM, "out of memory");
            return ONYX_ERR_NOMEM;
        }
        p->tensors[ti].t = g->inits[i].t;
        p->tensors[ti].loc = ONYX_LOC_CONST;
        p->tensors[ti].bytes = (size_t)onyx_numel(&g->inits[i].t) *
                               onyx_dtype_size(g->inits[i].t.dtype);
    }
    return ONYX_OK;
}

/* Inlines graph g (a branch of an If, or one iteration of a Loop's or
 * Scan's body) with the prefix pre: its inputs name the tensors in[] (a
 * branch has none: in is NULL), its initializers become constants, its
 * nodes are resolved in order (ONNX lists a graph's nodes in topological
 * order), and out[k] is the tensor of its output k (n_out of them). */
onyx_status onyx_inline_graph(resolver *R, strmap *need, const char *lb,
                              const onyx_graphdef *g, const char *pre,
                              const int *in, int n_in, int *out, int n_out)
{
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
            *onyx_strmap_slot(&R->names, nm, 1) = in[k];
    }
    /* the nodes with their names mapped, and their uses counted */
    onyx_nodedef *nodes =
        onyx_pool_alloc(&R->tmp, sizeof *nodes * (size_t)(g->n_nodes + 1));
    if (!nodes) st = ONYX_ERR_NOMEM;
    for (int i = 0; st == ONYX_OK && i < g->n_nodes; i++)
        st = map_node(R, need, &g->nodes[i], &nodes[i]);
    const char **outs =
        onyx_pool_alloc(&R->tmp, sizeof(char *) * (size_t)(g->n_outputs + 1));
    if (!outs) st = ONYX_ERR_NOMEM;
    for (int k = 0; st == ONYX_OK && k < g->n_outputs; k++) {
        if (!(outs[k] = map_name(R, g->outputs[k].name)))
            st = ONYX_ERR_NOMEM;
        else
            onyx_add_use(need, outs[k]);
    }
    if (st != ONYX_OK) {
        R->scope = sc.up;
        RFAIL(R, st, "out of memory");
    }
    st = add_inits(R, g);
    for (int i = 0; st == ONYX_OK && i < g->n_nodes; i++) {
        char sub[256];
        snprintf(sub, sizeof sub, "node '%s' (%s) in %s", nodes[i].name,
                 nodes[i].op_type, lb);
        st = onyx_resolve_node(R, need, &nodes[i], sub);
    }
    for (int k = 0; st == ONYX_OK && k < g->n_outputs; k++) {
        out[k] = onyx_find_tensor(R, outs[k]);
        if (out[k] < 0) {
            st = ONYX_ERR_PARSE;
            onyx_seterr(R->err, st, "%s: %s: %s output '%s' is not defined",
                        path, lb, what, g->outputs[k].name);
        }
    }
    R->scope = sc.up;
    return st;
}

/* br[1], br[0]: the If's then and else branches; an error when either is
 * missing or the node is not an If of one condition. */
static onyx_status if_branches(resolver *R, const onyx_nodedef *nd,
                               const char *lb, const onyx_graphdef **br)
{
    const char *path = R->m->path;
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
    return ONYX_OK;
}

/* *cond: the If's condition, one bool. */
static onyx_status if_condition(resolver *R, const onyx_nodedef *nd,
                                const char *lb, int *cond)
{
    const char *path = R->m->path;
    *cond = onyx_find_tensor(R, nd->inputs[0]);
    if (*cond < 0)
        RFAIL(R, ONYX_ERR_PARSE, "%s: %s: input '%s' is undefined", path, lb,
              nd->inputs[0]);
    const onyx_ptensor *ct = &R->p->tensors[*cond];
    if (ct->t.dtype != ONYX_BOOL || onyx_numel(&ct->t) != 1)
        RFAIL(R, ONYX_ERR_INVALID,
              "%s: %s: the condition must be one bool, "
              "got %s with %lld elements",
              path, lb, onyx_dtype_name(ct->t.dtype),
              (long long)onyx_numel(&ct->t));
    return ONYX_OK;
}

/* Inlines branch b under the guard cond == b (and the guards around). */
static onyx_status inline_guarded(resolver *R, strmap *need,
                                  const onyx_nodedef *nd, const char *lb,
                                  const onyx_graphdef *g, int cond, int b,
                                  const char *prefix, int *res)
{
    const int outer = R->guard;
    const uint8_t outer_want = R->guard_want;
    int guard = cond;
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
        ONYX_TRY(onyx_emit_builtin(R, &onyx_op_GuardAnd, gin, 2, at, 2, prefix,
                                   lb, &guard));
    }
    R->guard = guard;
    R->guard_want = outer >= 0 ? 1 : (uint8_t)b;
    onyx_status st =
        onyx_inline_graph(R, need, lb, g, prefix, NULL, 0, res, nd->n_out);
    R->guard = outer;
    R->guard_want = outer_want;
    return st;
}

/* How much of the program there was before a branch was inlined. */
typedef struct program_mark {
    int n_nodes, n_tensors, n_guarded;
    int64_t flops;
} program_mark;

/* Undoes what was added to the program since mark. */
static void undo_to(resolver *R, const program_mark *mk)
{
    onyx_program *p = R->p;
    for (int j = mk->n_nodes; j < p->n_nodes; j++)
        onyx_free_params(p->nodes[j].params, p->nodes[j].free_params);
    memset(&p->nodes[mk->n_nodes], 0,
           sizeof *p->nodes * (size_t)(p->n_nodes - mk->n_nodes));
    for (int t = mk->n_tensors; t < p->n_tensors; t++) {
        R->known[t] = 0;
        R->producer[t] = -1;
        R->widened[t] = 0;
    }
    p->n_nodes = mk->n_nodes;
    p->n_tensors = mk->n_tensors;
    p->n_guarded = mk->n_guarded;
    p->flops = mk->flops;
}

/* *why: the error of a run-time choice of branch b, which could not be
 * prepared (the resolver's last message says why). */
static onyx_status branch_missing(resolver *R, int b, const char **why)
{
    const char *msg =
        R->err && R->err->msg[0] ? R->err->msg : "it cannot be prepared";
    static const char fmt[] =
        "the condition chose the %s branch, which cannot run with the "
        "bound shapes: %s";
    size_t len = sizeof fmt + strlen(msg) + 4;
    char *w = onyx_pool_alloc(&R->p->pool, len);
    if (!w) RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
    snprintf(w, len, fmt, b ? "then" : "else", msg);
    *why = w;
    return ONYX_OK;
}

/* One IfSelect per used output picks the taken branch's value at run time;
 * a branch that could not be prepared is the error why[b]. */
static onyx_status if_selects(resolver *R, const onyx_nodedef *nd,
                              const char *lb, int cond, int res[2][64],
                              const char *why[2])
{
    onyx_program *p = R->p;
    for (int k = 0; k < nd->n_out; k++) {
        if (!nd->outputs[k][0]) continue;
        int sin[3] = {cond, why[1] ? res[0][k] : res[1][k],
                      why[0] ? res[1][k] : res[0][k]},
            sel;
        ONYX_TRY(onyx_emit_builtin(R, &onyx_op_IfSelect, sin, 3, NULL, 0,
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

/* An If: its condition known now (a constant or a bound value) inlines the
 * branch taken; otherwise both branches are inlined under guards and an
 * IfSelect per output picks the result at run time (control.c). */
onyx_status onyx_resolve_if(resolver *R, strmap *need, const onyx_nodedef *nd,
                            const char *lb)
{
    onyx_program *p = R->p;
    const onyx_graphdef *br[2] = {NULL, NULL}; /* else, then */
    int cond;
    ONYX_TRY(if_branches(R, nd, lb, br));
    ONYX_TRY(if_condition(R, nd, lb, &cond));
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
    const onyx_ptensor *ct = &p->tensors[cond];
    if (ct->loc == ONYX_LOC_CONST || (R->known[cond] && ct->t.data)) {
        int b = *(const uint8_t *)ct->t.data != 0;
        ONYX_TRY(onyx_inline_graph(R, need, lb, br[b], prefix[b], NULL, 0,
                                   res[b], nd->n_out));
        for (int k = 0; k < nd->n_out; k++)
            if (nd->outputs[k][0])
                *onyx_strmap_slot(&R->names, nd->outputs[k], 1) = res[b][k];
        return ONYX_OK;
    }
    /* decided at run time: each branch under its guard. A branch that
     * cannot be prepared for these shapes (ONNX Runtime never prepares a
     * branch it does not take: Silero's 8 kHz branch fed 512 samples) is
     * undone, and choosing it at run time is an error that says why. */
    const char *why[2] = {NULL, NULL};
    for (int b = 1; b >= 0; b--) {
        const program_mark mk = {p->n_nodes, p->n_tensors, p->n_guarded,
                                 p->flops};
        onyx_status st =
            inline_guarded(R, need, nd, lb, br[b], cond, b, prefix[b], res[b]);
        if (st == ONYX_OK) continue;
        if (st == ONYX_ERR_NOMEM || st == ONYX_ERR_LIMIT || why[1]) return st;
        ONYX_TRY(branch_missing(R, b, &why[b]));
        undo_to(R, &mk);
    }
    return if_selects(R, nd, lb, cond, res, why);
}
