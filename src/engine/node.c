/* node.c - resolving one node: prepare it (shape inference), then fold it
 * (all inputs constant), drop it (a rename, a view), fuse it into the
 * MatMul before it, or keep it. */
#include "resolve.h"

#include <stdlib.h>
#include <string.h>

void onyx_free_params(void *params, void (*fp)(void *))
{
    if (!params) return;
    if (fp)
        fp(params);
    else
        free(params);
}

/* Runs a prepared node now (constant folding / known values): outputs get
 * data in the program pool. */
onyx_status onyx_eval_now(resolver *R, const onyx_op *op, onyx_prep *pr,
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

void onyx_prep_init(const resolver *R, onyx_prep *pr, const onyx_op *op,
                    onyx_tensor **in, const unsigned char *in_const, int n_in,
                    onyx_tensor **out, int n_out, char *msg, size_t cap)
{
    memset(pr, 0, sizeof *pr);
    pr->op_type = op->name;
    pr->opset = R->m->opset;
    pr->n_in = n_in;
    pr->n_out = n_out;
    pr->in = (const onyx_tensor *const *)in;
    pr->in_const = in_const;
    pr->out = out;
    pr->max_tensor_bytes = R->m->lim.max_tensor_bytes;
    pr->flops = -1;
    msg[0] = 0;
    pr->msg = msg;
    pr->msg_cap = cap;
}

/* What prepare sees of tensors idx[0..n-1] of nodes the resolver builds
 * itself: their shapes, and the data of constants only. */
static void builtin_inputs(const resolver *R, const int *idx, int n,
                           onyx_tensor *in_t, onyx_tensor **in_p,
                           unsigned char *in_const)
{
    for (int k = 0; k < n; k++) {
        in_t[k] = R->p->tensors[idx[k]].t;
        in_const[k] = R->p->tensors[idx[k]].loc == ONYX_LOC_CONST;
        if (!in_const[k]) in_t[k].data = NULL;
        in_p[k] = &in_t[k];
    }
}

onyx_status onyx_emit_builtin(resolver *R, const onyx_op *op, const int *in,
                              int n_in, const onyx_attr *attrs, int n_attrs,
                              const char *name, const char *lb, int *out)
{
    onyx_program *p = R->p;
    onyx_tensor in_t[4], out_t;
    onyx_tensor *in_p[4], *out_p[1] = {&out_t};
    unsigned char in_const[4];
    builtin_inputs(R, in, n_in, in_t, in_p, in_const);
    memset(&out_t, 0, sizeof out_t);
    char msg[400];
    onyx_prep pr;
    onyx_prep_init(R, &pr, op, in_p, in_const, n_in, out_p, 1, msg, sizeof msg);
    pr.attrs = attrs;
    pr.n_attrs = n_attrs;
    onyx_status st = op->prepare(&pr);
    int ti = st == ONYX_OK ? onyx_add_tensor(R, name) : -1;
    onyx_pnode *pn = &p->nodes[p->n_nodes];
    if (ti >= 0) {
        pn->in = onyx_pool_alloc(&p->pool, sizeof(int) * (size_t)n_in);
        pn->out = onyx_pool_alloc(&p->pool, sizeof(int));
    }
    if (st == ONYX_OK && pr.bad_attr) st = ONYX_ERR_INVALID;
    if (st == ONYX_OK && (ti < 0 || !pn->in || !pn->out)) st = ONYX_ERR_NOMEM;
    if (st != ONYX_OK) {
        onyx_free_params(pr.params, pr.free_params);
        RFAIL(R, st, "%s: %s: %s", R->m->path, lb,
              st != ONYX_ERR_NOMEM && msg[0] ? msg : "out of memory");
    }
    p->tensors[ti].t = out_t;
    p->tensors[ti].t.data = NULL;
    p->tensors[ti].bytes = (size_t)onyx_tensor_bytes(&out_t, INT64_MAX);
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

/* ---- one node of a graph ---- */

/* A node being resolved: its tensors as prepare sees them, and its prep
 * (whose params belong to it until a kept node takes them). */
typedef struct node_io {
    const onyx_nodedef *nd;
    const onyx_op *op;
    const char *lb;
    int in_idx[64], out_idx[64]; /* tensor indices, -1: none */
    onyx_tensor in_t[64], out_t[64];
    onyx_tensor *in_p[64], *out_p[64];
    unsigned char in_const[64];
    int all_const, all_known; /* every input a constant / has a value */
    int64_t out_bytes;
    onyx_prep pr;
    char msg[400];
} node_io;

/* The op of node nd, or an error when onyx has none. */
static onyx_status find_op(resolver *R, const onyx_nodedef *nd, const char *lb,
                           const onyx_op **op)
{
    const char *path = R->m->path;
    if (nd->domain[0] && strcmp(nd->domain, "ai.onnx") != 0)
        RFAIL(R, ONYX_ERR_UNSUPPORTED,
              "%s: %s: op domain '%s' is not supported", path, lb, nd->domain);
    *op = onyx_node_op(nd->op_type);
    if (!*op)
        RFAIL(R, ONYX_ERR_UNSUPPORTED,
              "%s: %s: op '%s' is not supported by onyx", path, lb,
              nd->op_type);
    if (!((*op)->flags & ONYX_OP_CONTROL) && (nd->n_in > 64 || nd->n_out > 64))
        RFAIL(R, ONYX_ERR_LIMIT, "%s: %s: more than 64 inputs or outputs", path,
              lb);
    return ONYX_OK;
}

/* The node's inputs (half-precision ones widened unless the op reads them)
 * and the outputs it must shape: those used, and always the first. */
static onyx_status gather_tensors(resolver *R, strmap *need, node_io *io)
{
    const onyx_nodedef *nd = io->nd;
    io->all_const = io->all_known = 1;
    for (int k = 0; k < nd->n_in; k++) {
        int *ti = &io->in_idx[k];
        *ti = nd->inputs[k][0] ? onyx_find_tensor(R, nd->inputs[k]) : -1;
        if (nd->inputs[k][0] && *ti < 0)
            RFAIL(R, ONYX_ERR_PARSE, "%s: %s: input '%s' is undefined",
                  R->m->path, io->lb, nd->inputs[k]);
        if (*ti < 0) {
            io->in_p[k] = NULL;
            io->in_const[k] = 1;
            continue;
        }
        if (!(io->op->flags & ONYX_OP_READS_HALF))
            ONYX_TRY(onyx_half_widen(R, ti));
        const onyx_ptensor *pt = &R->p->tensors[*ti];
        io->in_t[k] = pt->t;
        io->in_const[k] = pt->loc == ONYX_LOC_CONST;
        if (!io->in_const[k] && !R->known[*ti]) io->in_t[k].data = NULL;
        if (!io->in_const[k]) io->all_const = 0;
        if (!io->in_t[k].data) io->all_known = 0;
        io->in_p[k] = &io->in_t[k];
    }
    for (int k = 0; k < nd->n_out; k++) {
        memset(&io->out_t[k], 0, sizeof io->out_t[k]);
        int used =
            nd->outputs[k][0] && onyx_strmap_slot(need, nd->outputs[k], 0);
        io->out_p[k] =
            used || (k == 0 && nd->outputs[k][0]) ? &io->out_t[k] : NULL;
    }
    return ONYX_OK;
}

/* Prepares the node (shape inference) and checks its outputs' sizes. */
static onyx_status prepare_node(resolver *R, node_io *io)
{
    const onyx_nodedef *nd = io->nd;
    const onyx_model *m = R->m;
    onyx_prep *pr = &io->pr;
    onyx_prep_init(R, pr, io->op, io->in_p, io->in_const, nd->n_in, io->out_p,
                   nd->n_out, io->msg, sizeof io->msg);
    pr->attrs = nd->attrs;
    pr->n_attrs = nd->n_attrs;
    onyx_status st = io->op->prepare(pr);
    if (st == ONYX_OK && pr->bad_attr) st = ONYX_ERR_INVALID;
    if (st != ONYX_OK)
        RFAIL(R, st, "%s: %s: %s", m->path, io->lb,
              io->msg[0] ? io->msg : "prepare failed");
    io->out_bytes = 0;
    for (int k = 0; k < nd->n_out; k++) {
        if (!io->out_p[k]) continue;
        onyx_tensor *t = &io->out_t[k];
        int64_t by = onyx_tensor_bytes(t, m->lim.max_tensor_bytes);
        if (by < 0) {
            char sb[128];
            RFAIL(R,
                  onyx_dtype_size(t->dtype) ? ONYX_ERR_LIMIT
                                            : ONYX_ERR_UNSUPPORTED,
                  "%s: %s: output '%s' (%s %s) is invalid or larger than "
                  "%lld bytes (onyx_limits.max_tensor_bytes)",
                  m->path, io->lb, nd->outputs[k], onyx_dtype_name(t->dtype),
                  onyx_shape_str(t, sb, sizeof sb),
                  (long long)m->lim.max_tensor_bytes);
        }
        io->out_bytes += by;
        t->data = NULL;
    }
    return ONYX_OK;
}

/* A rename: name now names tensor t. */
static void rename_to(resolver *R, const char *name, int t)
{
    *onyx_strmap_slot(&R->names, name, 1) = t;
}

/* New tensors for the outputs prepare shaped. */
static onyx_status add_outputs(resolver *R, node_io *io)
{
    for (int k = 0; k < io->nd->n_out; k++) {
        io->out_idx[k] = -1;
        if (!io->out_p[k]) continue;
        io->out_idx[k] = onyx_add_tensor(R, io->nd->outputs[k]);
        if (io->out_idx[k] < 0) RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
    }
    return ONYX_OK;
}

/* The output tensors take their shapes, and values when the node was run
 * now: constants when folded, known values otherwise. */
static void set_outputs(resolver *R, node_io *io, int fold, int known)
{
    for (int k = 0; k < io->nd->n_out; k++) {
        if (io->out_idx[k] < 0) continue;
        onyx_ptensor *pt = &R->p->tensors[io->out_idx[k]];
        pt->t = io->out_t[k];
        pt->bytes = (size_t)onyx_tensor_bytes(&io->out_t[k],
                                              R->m->lim.max_tensor_bytes);
        if (fold)
            pt->loc = ONYX_LOC_CONST;
        else if (known)
            R->known[io->out_idx[k]] = 1;
    }
}

/* 1 when the node is a view (prepare said so): its output then shares its
 * input's bytes and the node goes (a view of a constant is that constant
 * with a new shape). */
static int make_view(resolver *R, const node_io *io)
{
    int in = io->in_idx[0], out = io->out_idx[0];
    if (!io->pr.view || io->nd->n_out != 1 || out < 0 || in < 0) return 0;
    onyx_ptensor *src = &R->p->tensors[in], *dst = &R->p->tensors[out];
    if (src->loc == ONYX_LOC_CONST) {
        dst->loc = ONYX_LOC_CONST;
        dst->t.data = src->t.data;
    } else {
        dst->alias = src->alias >= 0 ? src->alias : in;
    }
    return 1;
}

/* ---- fusion: MatMul followed by Adds ---- */

/* 1 when input `side` of the Add io is the output t of a kept node P whose
 * op takes Adds (add_fused: MatMul, MatMul+Add), t is reached under its own
 * name (not through a rename) and used by this Add only, and the other
 * addend c is written before P runs. `uses` counts the uses of each name by
 * live nodes and graph outputs. */
static int add_fusable(resolver *R, strmap *uses, const node_io *io, int side)
{
    const onyx_program *p = R->p;
    const char *name = io->nd->inputs[side];
    int t = io->in_idx[side], c = io->in_idx[1 - side];
    if (t < 0 || c < 0 || t == c || R->producer[t] < 0 || R->known[t]) return 0;
    int j = R->producer[t];
    if (!p->nodes[j].op->add_fused) return 0;
    int *u = onyx_strmap_slot(uses, name, 0);
    if (strcmp(p->tensors[t].name, name) != 0 || !u || *u != 1) return 0;
    int cr = p->tensors[c].alias >= 0 ? p->tensors[c].alias : c;
    if (R->producer[cr] >= j) return 0;
    return onyx_same_shape(&p->tensors[io->out_idx[0]].t, &p->tensors[t].t) &&
           p->nodes[j].n_in + 1 <= 64;
}

/* The node P that makes t becomes its op's add_fused with c as one more
 * addend, when prepare takes that with t's shape and dtype: 1 when fused,
 * 0 when not (P is as it was), -1 when out of memory. */
static int fuse_into(resolver *R, int t, int c, int64_t add_flops)
{
    onyx_program *p = R->p;
    onyx_pnode *P = &p->nodes[R->producer[t]];
    const onyx_op *fused = P->op->add_fused;
    int in_idx[64], n_in = P->n_in + 1;
    onyx_tensor in_t[64], out_t;
    onyx_tensor *in_p[64], *out_p[1] = {&out_t};
    unsigned char in_const[64];
    memcpy(in_idx, P->in, sizeof(int) * (size_t)P->n_in);
    in_idx[n_in - 1] = c;
    builtin_inputs(R, in_idx, n_in, in_t, in_p, in_const);
    memset(&out_t, 0, sizeof out_t);
    char msg[400];
    onyx_prep pr;
    onyx_prep_init(R, &pr, fused, in_p, in_const, n_in, out_p, 1, msg,
                   sizeof msg);
    if (fused->prepare(&pr) != ONYX_OK || pr.bad_attr ||
        !onyx_same_shape(&out_t, &p->tensors[t].t) ||
        out_t.dtype != p->tensors[t].t.dtype) {
        onyx_free_params(pr.params, pr.free_params);
        return 0;
    }
    int *new_in = onyx_pool_alloc(&p->pool, sizeof(int) * (size_t)(n_in + 1));
    if (!new_in) {
        onyx_free_params(pr.params, pr.free_params);
        return -1;
    }
    memcpy(new_in, in_idx, sizeof(int) * (size_t)n_in);
    onyx_free_params(P->params, P->free_params);
    P->op = fused;
    P->op_type = fused->name;
    P->in = new_in;
    P->n_in = n_in;
    P->params = pr.params;
    P->free_params = pr.free_params;
    P->scratch_bytes = pr.scratch_bytes;
    P->flops = onyx_flops_add(P->flops, add_flops);
    p->flops = onyx_flops_add(p->flops, add_flops);
    return 1;
}

/* The Add io fused into the node before it (add_fusable, fuse_into): 1
 * when fused; the Add's output name then names that node's output, so
 * that a next Add may fuse too. */
static int fuse_add(resolver *R, strmap *uses, const node_io *io,
                    int64_t add_flops)
{
    const onyx_nodedef *nd = io->nd;
    if (nd->n_in != 2 || nd->n_out != 1 || io->out_idx[0] < 0) return 0;
    for (int side = 0; side < 2; side++) {
        if (!add_fusable(R, uses, io, side)) continue;
        int t = io->in_idx[side];
        int fused = fuse_into(R, t, io->in_idx[1 - side], add_flops);
        if (fused < 0) return 0;
        if (!fused) continue;
        R->p->tensors[t].name = nd->outputs[0];
        rename_to(R, nd->outputs[0], t);
        return 1;
    }
    return 0;
}

/* ---- keeping a node ---- */

/* Keeps the node in the program; it takes the prep's params. */
static onyx_status keep_node(resolver *R, node_io *io, int64_t flops)
{
    onyx_program *p = R->p;
    const onyx_nodedef *nd = io->nd;
    onyx_pnode *pn = &p->nodes[p->n_nodes];
    pn->in = onyx_pool_alloc(&p->pool, sizeof(int) * (size_t)(nd->n_in + 1));
    pn->out = onyx_pool_alloc(&p->pool, sizeof(int) * (size_t)(nd->n_out + 1));
    if (!pn->in || !pn->out) RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
    pn->name = nd->name;
    pn->op_type = nd->op_type;
    pn->op = io->op;
    pn->n_in = nd->n_in;
    pn->n_out = nd->n_out;
    memcpy(pn->in, io->in_idx, sizeof(int) * (size_t)nd->n_in);
    memcpy(pn->out, io->out_idx, sizeof(int) * (size_t)nd->n_out);
    pn->params = io->pr.params;
    pn->free_params = io->pr.free_params;
    io->pr.params = NULL;
    pn->scratch_bytes = io->pr.scratch_bytes;
    pn->flops = flops;
    pn->guard = R->guard + 1;
    pn->guard_want = R->guard_want;
    if (R->guard >= 0) p->n_guarded++;
    p->flops = onyx_flops_add(p->flops, flops);
    for (int k = 0; k < nd->n_out; k++)
        if (io->out_idx[k] >= 0) R->producer[io->out_idx[k]] = p->n_nodes;
    p->n_nodes++;
    return ONYX_OK;
}

/* What becomes of the prepared node: a rename (Dropout in inference),
 * folded into constants (every input a constant, or only shapes read), a
 * view, fused into the MatMul before it, or kept (and also run now when
 * its inputs have values and its outputs are small: known values). */
static onyx_status settle_node(resolver *R, strmap *need, node_io *io)
{
    const onyx_nodedef *nd = io->nd;
    if (io->pr.rename && io->in_idx[0] >= 0) {
        rename_to(R, nd->outputs[0], io->in_idx[0]);
        return ONYX_OK;
    }
    int shape_only = (io->op->flags & ONYX_OP_SHAPE_ONLY) != 0;
    int fold = io->all_const || shape_only;
    int known = !fold && io->all_known && io->out_bytes <= 65536;
    ONYX_TRY(add_outputs(R, io));
    if (fold || known) {
        if (shape_only && !io->all_known) io->in_p[0]->data = NULL;
        ONYX_TRY(
            onyx_eval_now(R, io->op, &io->pr, io->in_p, io->out_p, io->lb));
    }
    set_outputs(R, io, fold, known);
    if (fold || make_view(R, io)) return ONYX_OK;
    int64_t flops = io->pr.flops >= 0 ? io->pr.flops : onyx_out_numel(&io->pr);
    /* (not inside a run-time branch: a branch that fails to prepare is
     * undone, which a fusion into a node before it would outlive) */
    if ((io->op->flags & ONYX_OP_ADD) && !known && R->guard < 0 &&
        fuse_add(R, need, io, flops))
        return ONYX_OK;
    return keep_node(R, io, flops);
}

/* Resolves one node: If, Loop and Scan are inlined (inline.c, loop.c);
 * Identity is a rename; any other node is prepared, then settled. */
onyx_status onyx_resolve_node(resolver *R, strmap *need, const onyx_nodedef *nd,
                              const char *lb)
{
    const onyx_op *op;
    ONYX_TRY(find_op(R, nd, lb, &op));
    if (op->flags & ONYX_OP_IF) return onyx_resolve_if(R, need, nd, lb);
    if (op->flags & ONYX_OP_LOOP) return onyx_resolve_loop(R, need, nd, lb);
    if (op->flags & ONYX_OP_SCAN) return onyx_resolve_scan(R, need, nd, lb);
    node_io io;
    io.nd = nd;
    io.op = op;
    io.lb = lb;
    ONYX_TRY(gather_tensors(R, need, &io));
    /* Identity's output is its input tensor */
    if ((op->flags & ONYX_OP_RENAME) && nd->n_in == 1 && nd->n_out == 1 &&
        io.in_idx[0] >= 0) {
        rename_to(R, nd->outputs[0], io.in_idx[0]);
        return ONYX_OK;
    }
    onyx_status st = prepare_node(R, &io);
    if (st == ONYX_OK) st = settle_node(R, need, &io);
    /* the one clean-up: params a kept node did not take */
    onyx_free_params(io.pr.params, io.pr.free_params);
    return st;
}
