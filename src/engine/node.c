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
        int *u = onyx_strmap_slot(uses, nd->inputs[side], 0);
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
            onyx_free_params(pr.params, pr.free_params);
            continue;
        }
        int *new_in =
            onyx_pool_alloc(&p->pool, sizeof(int) * (size_t)(n_in + 1));
        if (!new_in) {
            onyx_free_params(pr.params, pr.free_params);
            return 0;
        }
        memcpy(new_in, in_idx2, sizeof(int) * (size_t)n_in);
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
        /* the Add's output is t: rename t so that a next Add may fuse too */
        p->tensors[t].name = nd->outputs[0];
        *onyx_strmap_slot(&R->names, nd->outputs[0], 1) = t;
        return 1;
    }
    return 0;
}

onyx_status onyx_emit_builtin(resolver *R, const onyx_op *op, const int *in,
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

/* An If: its condition known now (a constant or a bound value) inlines the
 * branch taken; otherwise both branches are inlined under guards and an
 * IfSelect per output picks the result at run time (control.c). */
/* Resolves one node: prepares it (shape inference), then folds it, drops
 * it (a rename, a view), fuses it into the MatMul before it, or keeps it.
 * If, Loop and Scan nodes are inlined (resolve_if, resolve_loop,
 * resolve_scan). lb labels the node in messages. */
onyx_status onyx_resolve_node(resolver *R, strmap *need, const onyx_nodedef *nd,
                              const char *lb)
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
    if (op->flags & ONYX_OP_IF) return onyx_resolve_if(R, need, nd, lb);
    if (op->flags & ONYX_OP_LOOP) return onyx_resolve_loop(R, need, nd, lb);
    if (op->flags & ONYX_OP_SCAN) return onyx_resolve_scan(R, need, nd, lb);
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
        in_idx[k] = nd->inputs[k][0] ? onyx_find_tensor(R, nd->inputs[k]) : -1;
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
            ONYX_TRY(onyx_half_widen(R, &in_idx[k]));
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
        int used =
            nd->outputs[k][0] && onyx_strmap_slot(need, nd->outputs[k], 0);
        out_p[k] = (used || (k == 0 && nd->outputs[k][0])) ? &out_t[k] : NULL;
    }
    /* Identity is a rename: its output is its input tensor */
    if ((op->flags & ONYX_OP_RENAME) && nd->n_in == 1 && nd->n_out == 1 &&
        in_idx[0] >= 0) {
        *onyx_strmap_slot(&R->names, nd->outputs[0], 1) = in_idx[0];
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
        onyx_free_params(pr.params, pr.free_params);
        return st;
    }
    int64_t out_bytes = 0;
    for (int k = 0; k < nd->n_out; k++) {
        if (!out_p[k]) continue;
        int64_t by = onyx_tensor_bytes(&out_t[k], m->lim.max_tensor_bytes);
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
        onyx_free_params(pr.params, pr.free_params);
        return st;
    }
    /* Dropout in inference with no mask used is a rename too */
    if (pr.rename && in_idx[0] >= 0) {
        onyx_free_params(pr.params, pr.free_params);
        *onyx_strmap_slot(&R->names, nd->outputs[0], 1) = in_idx[0];
        return ONYX_OK;
    }
    int shape_only = (op->flags & ONYX_OP_SHAPE_ONLY) != 0;
    int fold = all_const || shape_only;
    int compute_known = !fold && all_known && out_bytes <= 65536;
    /* new tensors for the outputs */
    for (int k = 0; k < nd->n_out; k++) {
        out_idx[k] = -1;
        if (!out_p[k]) continue;
        int ti = onyx_add_tensor(R, nd->outputs[k]);
        if (ti < 0) {
            st = ONYX_ERR_NOMEM;
            onyx_seterr(R->err, st, "out of memory");
            break;
        }
        out_idx[k] = ti;
    }
    if (st == ONYX_OK && (fold || compute_known)) {
        if (shape_only && !all_known) in_p[0]->data = NULL;
        st = onyx_eval_now(R, op, &pr, in_p, out_p, lb);
    }
    if (st != ONYX_OK) {
        onyx_free_params(pr.params, pr.free_params);
        return st;
    }
    for (int k = 0; k < nd->n_out; k++) {
        if (out_idx[k] < 0) continue;
        onyx_ptensor *pt = &p->tensors[out_idx[k]];
        pt->t = out_t[k];
        pt->bytes =
            (size_t)onyx_tensor_bytes(&out_t[k], m->lim.max_tensor_bytes);
        if (fold)
            pt->loc = ONYX_LOC_CONST;
        else if (compute_known)
            R->known[out_idx[k]] = 1;
    }
    if (fold) {
        onyx_free_params(pr.params, pr.free_params);
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
        onyx_free_params(pr.params, pr.free_params);
        return ONYX_OK;
    }
    int64_t flops = pr.flops >= 0 ? pr.flops : onyx_out_numel(&pr);
    /* (not inside a run-time branch: a branch that fails to prepare is
     * undone, which a fusion into a node before it would outlive) */
    if ((op->flags & ONYX_OP_ADD) && !compute_known && R->guard < 0 &&
        fuse_add(R, need, nd, in_idx, out_idx[0], flops)) {
        onyx_free_params(pr.params, pr.free_params);
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
        onyx_free_params(pr.params, pr.free_params);
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
