/* control.c - the ops the resolver builds for control flow (resolve.c).
 *
 * An If whose condition is known when the model is resolved (a constant,
 * or a value the caller bound: a sample rate, a shape test) is inlined: the
 * branch taken becomes ordinary nodes and the If is gone. Otherwise both
 * branches are inlined, each node guarded by the condition (run.c skips a
 * node whose guard is not met), and one IfSelect per output copies the
 * taken branch's value. Nested run-time Ifs guard on a GuardAnd of the
 * conditions around them. Both branches are planned in the arena like any
 * nodes, so a run still allocates nothing. */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

int onyx_control_op(const char *op_type)
{
    return strcmp(op_type, "If") == 0;
}

/* a one-element bool tensor: a condition */
static onyx_status need_cond(onyx_prep *p, int i)
{
    ONYX_TRY(onyx_need_input(p, i));
    ONYX_CHECK(p, p->in[i]->dtype == ONYX_BOOL && onyx_numel(p->in[i]) == 1,
               "a condition must be one bool, got %s with %lld elements",
               onyx_dtype_name(p->in[i]->dtype),
               (long long)onyx_numel(p->in[i]));
    return ONYX_OK;
}

/* ---- IfSelect(cond, then, else) -> then when cond, else otherwise ---- */

static onyx_status if_select_prepare(onyx_prep *p)
{
    ONYX_CHECK(p, p->n_in == 3 && p->n_out == 1, "IfSelect takes 3 inputs");
    ONYX_TRY(need_cond(p, 0));
    ONYX_TRY(onyx_need_input(p, 1));
    ONYX_TRY(onyx_need_input(p, 2));
    const onyx_tensor *a = p->in[1], *b = p->in[2];
    char sa[128], sb[128];
    ONYX_CHECK(p, a->dtype == b->dtype && onyx_same_shape(a, b),
               "the branches give %s %s and %s %s: onyx needs one dtype and "
               "shape per value when the condition is only known at run time",
               onyx_dtype_name(a->dtype), onyx_shape_str(a, sa, sizeof sa),
               onyx_dtype_name(b->dtype), onyx_shape_str(b, sb, sizeof sb));
    if (p->out[0]) onyx_set_shape(p->out[0], a->dtype, a->rank, a->dims);
    return ONYX_OK;
}

/* params: NULL, or an if_missing when a branch was undone at resolve:
 * choosing that branch is an error (the run stops here; the outputs of this
 * run are not valid) */
static onyx_status if_select_eval(onyx_exec *e)
{
    const if_missing *ms = e->params;
    int taken = *(const uint8_t *)e->in[0]->data != 0;
    if (ms && ms->why[taken]) {
        e->err = ms->why[taken];
        return ONYX_ERR_RUNTIME;
    }
    const onyx_tensor *src = taken ? e->in[1] : e->in[2];
    size_t bytes = (size_t)onyx_numel(src) * onyx_dtype_size(src->dtype);
    if (e->out[0]->data != src->data) memcpy(e->out[0]->data, src->data, bytes);
    return ONYX_OK;
}

const onyx_op onyx_op_IfSelect = {"IfSelect", if_select_prepare,
                                  if_select_eval};

/* ---- GuardAnd(outer, inner) -> outer == outer_want && inner == inner_want:
 * the guard of a branch of an If inside a branch of another ---- */

typedef struct guard_and {
    uint8_t outer_want, inner_want;
} guard_and;

static onyx_status guard_and_prepare(onyx_prep *p)
{
    ONYX_CHECK(p, p->n_in == 2 && p->n_out == 1, "GuardAnd takes 2 inputs");
    ONYX_TRY(need_cond(p, 0));
    ONYX_TRY(need_cond(p, 1));
    guard_and *g = malloc(sizeof *g);
    if (!g) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    g->outer_want = onyx_attr_int(p, "outer_want", 1) != 0;
    g->inner_want = onyx_attr_int(p, "inner_want", 1) != 0;
    p->params = g;
    if (p->out[0]) onyx_set_shape(p->out[0], ONYX_BOOL, 0, NULL);
    return ONYX_OK;
}

static onyx_status guard_and_eval(onyx_exec *e)
{
    const guard_and *g = e->params;
    uint8_t outer = *(const uint8_t *)e->in[0]->data != 0;
    uint8_t inner = *(const uint8_t *)e->in[1]->data != 0;
    *(uint8_t *)e->out[0]->data =
        outer == g->outer_want && inner == g->inner_want;
    return ONYX_OK;
}

const onyx_op onyx_op_GuardAnd = {"GuardAnd", guard_and_prepare,
                                  guard_and_eval};
