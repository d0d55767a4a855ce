/* control.c - the ops the resolver builds for control flow (inline.c),
 * and the load-time check of Loop and Scan nodes.
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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* If, Loop and Scan: the resolver inlines them (inline.c, loop.c), so they have
 * no prepare or eval; their flags say which they are. */
static const onyx_op control_ops[] = {
    {"If", NULL, NULL, ONYX_OP_IF, NULL},
    {"Loop", NULL, NULL, ONYX_OP_LOOP, NULL},
    {"Scan", NULL, NULL, ONYX_OP_SCAN, NULL},
};

const onyx_op *onyx_node_op(const char *op_type)
{
    const onyx_op *op = onyx_op_find(op_type);
    for (size_t i = 0; !op && i < sizeof control_ops / sizeof *control_ops; i++)
        if (strcmp(control_ops[i].name, op_type) == 0) op = &control_ops[i];
    return op;
}

int onyx_control_op(const char *op_type)
{
    const onyx_op *op = onyx_node_op(op_type);
    return op && (op->flags & ONYX_OP_CONTROL);
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

const onyx_op onyx_op_IfSelect = {"IfSelect", if_select_prepare, if_select_eval,
                                  0, NULL};

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

const onyx_op onyx_op_GuardAnd = {"GuardAnd", guard_and_prepare, guard_and_eval,
                                  0, NULL};

/* ---- Loop and Scan: checked once at load, unrolled by the resolver ----
 *
 * Every Scan (its length is a dim of its inputs) and every Loop whose trip
 * count is known when the model is resolved become their body's nodes once
 * per iteration (loop.c, onyx_resolve_loop and onyx_resolve_scan): run() sees
 * ordinary nodes, with no loop machinery. A Loop's condition known only at
 * run time guards the iterations (GuardAnd, IfSelect above). */

static const onyx_graphdef *graph_attr(const onyx_nodedef *nd, const char *name)
{
    for (int a = 0; a < nd->n_attrs; a++)
        if (strcmp(nd->attrs[a].name, name) == 0)
            return nd->attrs[a].type == ONYX_ATTR_GRAPH ? nd->attrs[a].g : NULL;
    return NULL;
}

/* the length of INTS attribute name, or -1 when absent */
static int64_t ints_len(const onyx_nodedef *nd, const char *name)
{
    for (int a = 0; a < nd->n_attrs; a++)
        if (strcmp(nd->attrs[a].name, name) == 0)
            return nd->attrs[a].type == ONYX_ATTR_INTS ? nd->attrs[a].n : -2;
    return -1;
}

static int check_loop(const onyx_nodedef *nd, char *msg, size_t cap)
{
    const onyx_graphdef *body = graph_attr(nd, "body");
    if (!body) {
        snprintf(msg, cap, "a Loop needs a graph attribute 'body'");
        return 0;
    }
    if (nd->n_in < 2) {
        snprintf(msg, cap,
                 "a Loop takes at least 2 inputs (trip count M and condition, "
                 "either may be ''), got %d",
                 nd->n_in);
        return 0;
    }
    int n_carried = nd->n_in - 2;
    if (nd->n_out < n_carried) {
        snprintf(msg, cap,
                 "a Loop with %d loop-carried values has at least %d outputs, "
                 "got %d",
                 n_carried, n_carried, nd->n_out);
        return 0;
    }
    if (body->n_inputs != 2 + n_carried) {
        snprintf(msg, cap,
                 "the body has %d inputs; a Loop with %d loop-carried values "
                 "needs %d (iteration number, condition, the values)",
                 body->n_inputs, n_carried, 2 + n_carried);
        return 0;
    }
    if (body->n_outputs != 1 + nd->n_out) {
        snprintf(msg, cap,
                 "the body has %d outputs; a Loop with %d outputs needs %d "
                 "(condition, %d loop-carried values, %d scan outputs)",
                 body->n_outputs, nd->n_out, 1 + nd->n_out, n_carried,
                 nd->n_out - n_carried);
        return 0;
    }
    return 1;
}

static int check_scan(const onyx_nodedef *nd, int opset, char *msg, size_t cap)
{
    const onyx_graphdef *body = graph_attr(nd, "body");
    if (!body) {
        snprintf(msg, cap, "a Scan needs a graph attribute 'body'");
        return 0;
    }
    int64_t n_scan = -1;
    for (int a = 0; a < nd->n_attrs; a++)
        if (strcmp(nd->attrs[a].name, "num_scan_inputs") == 0 &&
            nd->attrs[a].type == ONYX_ATTR_INT)
            n_scan = nd->attrs[a].i;
    int first = opset < 9; /* opset 8: input 0 is sequence_lens */
    int64_t n_state = nd->n_in - first - n_scan;
    if (n_scan < 1 || n_state < 0) {
        snprintf(msg, cap,
                 "num_scan_inputs must be given, at least 1 and at most the "
                 "%d inputs%s; got %lld",
                 nd->n_in - first, first ? " after sequence_lens" : "",
                 (long long)n_scan);
        return 0;
    }
    int64_t n_scan_out = nd->n_out - n_state;
    if (n_scan_out < 0) {
        snprintf(msg, cap,
                 "a Scan with %lld state values has at least %lld outputs, "
                 "got %d",
                 (long long)n_state, (long long)n_state, nd->n_out);
        return 0;
    }
    if (body->n_inputs != n_state + n_scan) {
        snprintf(msg, cap,
                 "the body has %d inputs; a Scan with %lld state values and "
                 "%lld scan inputs needs %lld",
                 body->n_inputs, (long long)n_state, (long long)n_scan,
                 (long long)(n_state + n_scan));
        return 0;
    }
    if (body->n_outputs != nd->n_out) {
        snprintf(msg, cap,
                 "the body has %d outputs; a Scan with %d outputs needs as "
                 "many (%lld state values, %lld scan outputs)",
                 body->n_outputs, nd->n_out, (long long)n_state,
                 (long long)n_scan_out);
        return 0;
    }
    static const char *const per_input[] = {
        "scan_input_axes", "scan_input_directions", "directions"};
    static const char *const per_output[] = {"scan_output_axes",
                                             "scan_output_directions"};
    for (int k = 0; k < 3; k++) {
        int64_t n = ints_len(nd, per_input[k]);
        if (n != -1 && n != n_scan) {
            snprintf(msg, cap,
                     "%s must be a list of %lld ints (one per scan "
                     "input)",
                     per_input[k], (long long)n_scan);
            return 0;
        }
    }
    for (int k = 0; k < 2; k++) {
        int64_t n = ints_len(nd, per_output[k]);
        if (n != -1 && n != n_scan_out) {
            snprintf(msg, cap,
                     "%s must be a list of %lld ints (one per scan "
                     "output)",
                     per_output[k], (long long)n_scan_out);
            return 0;
        }
    }
    return 1;
}

int onyx_control_check(const onyx_nodedef *nd, int opset, char *msg, size_t cap)
{
    if (nd->domain[0] && strcmp(nd->domain, "ai.onnx") != 0) return 1;
    const onyx_op *op = onyx_node_op(nd->op_type);
    unsigned kind = op ? op->flags & ONYX_OP_CONTROL : 0;
    if (kind == ONYX_OP_LOOP) return check_loop(nd, msg, cap);
    if (kind == ONYX_OP_SCAN) return check_scan(nd, opset, msg, cap);
    return 1;
}

/* ---- LoopCheck(v) -> v: a Loop's trip count or condition that the caller
 * bound for resolving (the loop was unrolled for its value) must keep that
 * value at run time, as NonZero's count must ---- */

typedef struct loop_check {
    int64_t want;
} loop_check;

static onyx_status loop_check_prepare(onyx_prep *p)
{
    ONYX_CHECK(p, p->n_in == 1 && p->n_out == 1, "LoopCheck takes 1 input");
    ONYX_TRY(onyx_need_input(p, 0));
    const onyx_tensor *v = p->in[0];
    ONYX_CHECK(p,
               (v->dtype == ONYX_BOOL || v->dtype == ONYX_INT64) &&
                   onyx_numel(v) == 1,
               "a trip count or condition must be one int64 or bool");
    loop_check *c = malloc(sizeof *c);
    if (!c) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    c->want = onyx_attr_int(p, "want", 0);
    p->params = c;
    if (p->out[0]) onyx_set_shape(p->out[0], ONYX_BOOL, 0, NULL);
    return ONYX_OK;
}

static onyx_status loop_check_eval(onyx_exec *e)
{
    const loop_check *c = e->params;
    const onyx_tensor *v = e->in[0];
    int64_t got = v->dtype == ONYX_BOOL ? *(const uint8_t *)v->data != 0
                                        : *(const int64_t *)v->data;
    *(uint8_t *)e->out[0]->data = 1;
    if (got != c->want) {
        e->err = "a Loop's trip count or condition differs from the value it "
                 "had when the model was resolved (the loop was unrolled for "
                 "that value): resolve again with this input";
        return ONYX_ERR_INVALID;
    }
    return ONYX_OK;
}

const onyx_op onyx_op_LoopCheck = {"LoopCheck", loop_check_prepare,
                                   loop_check_eval, 0, NULL};
