/* half.c - float16 and bfloat16 tensors: widened to float32 copies by
 * Casts the resolver adds, graph outputs narrowed back. */
#include "resolve.h"

#include <string.h>

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
int onyx_model_has_half(const onyx_model *m)
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
    int ti = onyx_add_tensor(R, ""); /* "": not in the name map */
    if (ti < 0) RFAIL(R, ONYX_ERR_NOMEM, "out of memory");
    p->tensors[ti].name = name;
    const onyx_ptensor *s = &p->tensors[src];
    int is_const = s->loc == ONYX_LOC_CONST, known = R->known[src];
    onyx_tensor in_t = s->t, out_t;
    if (!is_const && !known) in_t.data = NULL;
    memset(&out_t, 0, sizeof out_t);
    onyx_tensor *in_p[1] = {&in_t}, *out_p[1] = {&out_t};
    unsigned char in_const[1] = {(unsigned char)is_const};
    char msg[400];
    onyx_prep pr;
    onyx_prep_init(R, &pr, cast, in_p, in_const, 1, out_p, 1, msg, sizeof msg);
    pr.attrs = &to_attr[to == ONYX_FLOAT ? 0 : to == ONYX_FLOAT16 ? 1 : 2];
    pr.n_attrs = 1;
    onyx_status st = cast->prepare(&pr);
    if (st != ONYX_OK) {
        onyx_free_params(pr.params, pr.free_params);
        RFAIL(R, st, "%s: %s: %s", m->path, name, msg);
    }
    int64_t by = onyx_tensor_bytes(&out_t, m->lim.max_tensor_bytes);
    if (by < 0) {
        onyx_free_params(pr.params, pr.free_params);
        RFAIL(R, ONYX_ERR_LIMIT,
              "%s: %s is larger than %lld bytes "
              "(onyx_limits.max_tensor_bytes)",
              m->path, name, (long long)m->lim.max_tensor_bytes);
    }
    if (is_const || known) st = onyx_eval_now(R, cast, &pr, in_p, out_p, name);
    if (st != ONYX_OK) {
        onyx_free_params(pr.params, pr.free_params);
        return st;
    }
    onyx_ptensor *d = &p->tensors[ti];
    d->t = out_t;
    d->bytes = (size_t)by;
    *out = ti;
    if (is_const) {
        d->loc = ONYX_LOC_CONST;
        onyx_free_params(pr.params, pr.free_params);
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
        onyx_free_params(pr.params, pr.free_params);
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
onyx_status onyx_half_widen(resolver *R, int *ti)
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
onyx_status onyx_half_outputs(resolver *R)
{
    const onyx_model *m = R->m;
    for (int i = 0; i < m->n_outputs; i++) {
        const onyx_value_info *vi = &m->outputs[i];
        int ti = onyx_find_tensor(R, vi->name);
        if (ti < 0 || !is_half(vi->dtype) ||
            R->p->tensors[ti].t.dtype != ONYX_FLOAT)
            continue;
        int nt;
        ONYX_TRY(cast_tensor(R, ti, vi->dtype, vi->name, &nt));
        *onyx_strmap_slot(&R->names, vi->name, 1) = nt;
    }
    return ONYX_OK;
}
