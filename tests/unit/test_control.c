/* test_control.c - If, Loop and Scan through the engine (resolve.c,
 * control.c, run.c): a condition known at resolve inlines the branch taken;
 * one known only at run time runs both branches under guards, nested Ifs
 * under a GuardAnd. Loops and Scans are unrolled, their bodies inlined once
 * per iteration. Models are built here byte by byte (protobuf). */
#include "../../src/engine/engine.h"
#include "../../src/engine/pb.h"
#include "pbbuild.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* a node op(in...) -> out; with then/else subgraphs when given (an If) */
static void put_node(bytes *g, const char *op, const char *in0, const char *in1,
                     const char *out, const bytes *then_g, const bytes *else_g)
{
    bytes *nd = calloc(1, sizeof *nd), *at = calloc(1, sizeof *at);
    ck_assert(nd && at);
    put_str(nd, 1, in0);
    if (in1) put_str(nd, 1, in1);
    put_str(nd, 2, out);
    put_str(nd, 3, out);
    put_str(nd, 4, op);
    for (int b = 0; b < 2; b++) {
        const bytes *sub = b ? else_g : then_g;
        if (!sub) continue;
        at->n = 0;
        put_str(at, 1, b ? "else_branch" : "then_branch");
        put_ld(at, 6, sub);
        put_int(at, 20, ONYX_ATTR_GRAPH);
        put_ld(nd, 5, at);
    }
    put_ld(g, 1, nd);
    free(nd);
    free(at);
}

/* graph input (field 11) or output (12) of dtype dt, shape [n] */
static void put_value(bytes *g, unsigned field, const char *name, onyx_dtype dt,
                      int n)
{
    static bytes vi, type, tt, shape, dim;
    vi.n = type.n = tt.n = shape.n = dim.n = 0;
    put_int(&dim, 1, (uint64_t)n);
    put_ld(&shape, 1, &dim);
    put_int(&tt, 1, dt);
    put_ld(&tt, 2, &shape);
    put_ld(&type, 1, &tt);
    put_str(&vi, 1, name);
    put_ld(&vi, 2, &type);
    put_ld(g, field, &vi);
}

static onyx_model *load_opset(bytes *g, bytes *m, int version)
{
    static bytes opset;
    opset.n = 0;
    put_int(&opset, 2, (uint64_t)version);
    put_str(g, 2, "g");
    m->n = 0;
    put_int(m, 1, 8);
    put_ld(m, 8, &opset);
    put_ld(m, 7, g);
    onyx_error err = {0};
    onyx_model *model = onyx_model_load_memory(m->b, m->n, "test", &err);
    ck_assert_msg(model != NULL, "%s", err.msg);
    return model;
}

static onyx_model *load(bytes *g, bytes *m)
{
    return load_opset(g, m, 13);
}

/* y = If(c) then (If(d) then x + x else x * x) else -x, x float [3]:
 * the branches read x from the main graph */
static onyx_model *nested_if(bytes *m)
{
    static bytes g, t, e, tt, te;
    g.n = t.n = e.n = tt.n = te.n = 0;
    put_node(&tt, "Add", "x", "x", "a", NULL, NULL);
    put_value(&tt, 12, "a", ONYX_FLOAT, 3);
    put_node(&te, "Mul", "x", "x", "b", NULL, NULL);
    put_value(&te, 12, "b", ONYX_FLOAT, 3);
    put_node(&t, "If", "d", NULL, "inner", &tt, &te);
    put_value(&t, 12, "inner", ONYX_FLOAT, 3);
    put_node(&e, "Neg", "x", NULL, "n", NULL, NULL);
    put_value(&e, 12, "n", ONYX_FLOAT, 3);
    put_node(&g, "If", "c", NULL, "y", &t, &e);
    put_value(&g, 11, "x", ONYX_FLOAT, 3);
    put_value(&g, 11, "c", ONYX_BOOL, 1);
    put_value(&g, 11, "d", ONYX_BOOL, 1);
    put_value(&g, 12, "y", ONYX_FLOAT, 3);
    return load(&g, m);
}

static void expect_y(onyx_instance *x, uint8_t c, uint8_t d, const float *y)
{
    const float xv[3] = {1.5f, -2, 3};
    memcpy(onyx_instance_input(x, 0)->data, xv, sizeof xv);
    *(uint8_t *)onyx_instance_input(x, 1)->data = c;
    *(uint8_t *)onyx_instance_input(x, 2)->data = d;
    ck_assert_int_eq(onyx_instance_run(x, NULL, NULL), ONYX_OK);
    const float *got = onyx_instance_output(x, 0)->data;
    for (int i = 0; i < 3; i++)
        ck_assert_msg(got[i] == y[i], "c %d d %d: y[%d] = %g, expected %g", c,
                      d, i, got[i], y[i]);
}

START_TEST(if_at_run_time)
{
    static bytes m;
    onyx_model *model = nested_if(&m);
    onyx_error err = {0};
    onyx_program *p = onyx_program_new(model, NULL, 0, &err);
    ck_assert_msg(p != NULL, "%s", err.msg);
    /* GuardAnd x2, Add, Mul, IfSelect (inner), Neg, IfSelect (outer) */
    ck_assert_int_eq(onyx_program_num_nodes(p), 7);
    onyx_instance *x = onyx_instance_new(p, &err);
    ck_assert_msg(x != NULL, "%s", err.msg);
    const float sum[3] = {3, -4, 6}, prod[3] = {2.25f, 4, 9},
                neg[3] = {-1.5f, 2, -3};
    /* every combination, twice over, in an order that changes branch at
     * each run: a skipped branch leaves nothing behind */
    for (int round = 0; round < 2; round++) {
        expect_y(x, 1, 1, sum);
        expect_y(x, 0, 1, neg);
        expect_y(x, 1, 0, prod);
        expect_y(x, 0, 0, neg);
    }
    /* profiling runs the same guarded loop */
    onyx_instance_profile(x, 1);
    expect_y(x, 1, 0, prod);
    expect_y(x, 0, 1, neg);
    onyx_instance_free(x);
    onyx_program_free(p);
    onyx_model_free(model);
}
END_TEST

START_TEST(if_known_at_resolve_is_inlined)
{
    static bytes m;
    onyx_model *model = nested_if(&m);
    static const uint8_t yes = 1, no = 0;
    onyx_bind b[2] = {{"c", 1, {1}, &yes}, {"d", 1, {1}, &no}};
    onyx_error err = {0};
    onyx_program *p = onyx_program_new(model, b, 2, &err);
    ck_assert_msg(p != NULL, "%s", err.msg);
    /* only the branch taken is left: x * x */
    ck_assert_int_eq(onyx_program_num_nodes(p), 1);
    ck_assert_str_eq(onyx_program_node_op(p, 0), "Mul");
    onyx_instance *x = onyx_instance_new(p, &err);
    ck_assert_msg(x != NULL, "%s", err.msg);
    const float prod[3] = {2.25f, 4, 9};
    expect_y(x, 1, 0, prod);
    onyx_instance_free(x);
    onyx_program_free(p);
    onyx_model_free(model);
}
END_TEST

/* branches whose outputs differ in shape cannot be planned when the
 * condition is only known at run time: a clear refusal */
START_TEST(if_branch_shapes_must_agree)
{
    static bytes g, t, e, m;
    g.n = t.n = e.n = 0;
    put_node(&t, "Identity", "x", NULL, "a", NULL, NULL);
    put_value(&t, 12, "a", ONYX_FLOAT, 3);
    put_node(&e, "Identity", "z", NULL, "b", NULL, NULL);
    put_value(&e, 12, "b", ONYX_FLOAT, 2);
    put_node(&g, "If", "c", NULL, "y", &t, &e);
    put_value(&g, 11, "x", ONYX_FLOAT, 3);
    put_value(&g, 11, "z", ONYX_FLOAT, 2);
    put_value(&g, 11, "c", ONYX_BOOL, 1);
    put_value(&g, 12, "y", ONYX_FLOAT, 3);
    onyx_model *model = load(&g, &m);
    onyx_error err = {0};
    onyx_program *p = onyx_program_new(model, NULL, 0, &err);
    ck_assert_ptr_null(p);
    ck_assert_int_eq(err.status, ONYX_ERR_INVALID);
    ck_assert_msg(strstr(err.msg, "one dtype and shape per value"), "%s",
                  err.msg);
    onyx_model_free(model);
}
END_TEST

/* a model with ops onyx lacks names them all, with counts */
START_TEST(unsupported_ops_named_at_once)
{
    static bytes g, t, e, m;
    g.n = t.n = e.n = 0;
    put_node(&t, "Frobnicate", "x", NULL, "a", NULL, NULL);
    put_value(&t, 12, "a", ONYX_FLOAT, 3);
    put_node(&e, "Frobnicate", "x", NULL, "b", NULL, NULL);
    put_value(&e, 12, "b", ONYX_FLOAT, 3);
    put_node(&g, "If", "c", NULL, "y", &t, &e);
    put_node(&g, "Twiddle", "y", NULL, "w", NULL, NULL);
    put_value(&g, 11, "x", ONYX_FLOAT, 3);
    put_value(&g, 11, "c", ONYX_BOOL, 1);
    put_value(&g, 12, "w", ONYX_FLOAT, 3);
    static bytes opset;
    opset.n = 0;
    put_int(&opset, 2, 13);
    put_str(&g, 2, "g");
    m.n = 0;
    put_int(&m, 1, 8);
    put_ld(&m, 8, &opset);
    put_ld(&m, 7, &g);
    onyx_error err = {0};
    onyx_model *model = onyx_model_load_memory(m.b, m.n, "test", &err);
    ck_assert_ptr_null(model);
    ck_assert_int_eq(err.status, ONYX_ERR_UNSUPPORTED);
    ck_assert_msg(strstr(err.msg, "op 'Frobnicate' (2 nodes)") &&
                      strstr(err.msg, "op 'Twiddle' (1 node)"),
                  "%s", err.msg);
}
END_TEST

/* ---- Loop and Scan ---- */

/* a node op(ins) -> outs, names separated by spaces ("-": an omitted
 * input), with a graph attribute 'body' when given and INT or INTS
 * attributes written "name=3" or "name=[1,0]" */
static void put_op(bytes *g, const char *op, const char *ins, const char *outs,
                   const bytes *body, const char *attrs)
{
    bytes *nd = calloc(1, sizeof *nd), *at = calloc(1, sizeof *at);
    char buf[256];
    ck_assert(nd && at);
    const char *lists[2] = {ins, outs};
    for (int l = 0; l < 2; l++) {
        snprintf(buf, sizeof buf, "%s", lists[l]);
        for (char *s = strtok(buf, " "); s; s = strtok(NULL, " "))
            put_str(nd, l ? 2 : 1, strcmp(s, "-") ? s : "");
    }
    put_str(nd, 3, outs);
    put_str(nd, 4, op);
    if (body) {
        put_str(at, 1, "body");
        put_ld(at, 6, body);
        put_int(at, 20, ONYX_ATTR_GRAPH);
        put_ld(nd, 5, at);
    }
    snprintf(buf, sizeof buf, "%s", attrs ? attrs : "");
    for (char *s = strtok(buf, " "); s; s = strtok(NULL, " ")) {
        char *eq = strchr(s, '=');
        ck_assert(eq);
        *eq = 0;
        at->n = 0;
        put_str(at, 1, s);
        if (eq[1] == '[') {
            for (char *v = eq + 2; *v && *v != ']'; v++) {
                put_int(at, 8, (uint64_t)strtoll(v, &v, 10));
                if (*v == ']') break;
            }
            put_int(at, 20, ONYX_ATTR_INTS);
        } else {
            put_int(at, 3, (uint64_t)strtoll(eq + 1, NULL, 10));
            put_int(at, 20, ONYX_ATTR_INT);
        }
        put_ld(nd, 5, at);
    }
    put_ld(g, 1, nd);
    free(nd);
    free(at);
}

/* graph input (11) or output (12): dtype dt, shape dims[rank] */
static void put_value_shape(bytes *g, unsigned field, const char *name,
                            onyx_dtype dt, int rank, const int64_t *dims)
{
    static bytes vi, type, tt, shape, dim;
    vi.n = type.n = tt.n = shape.n = 0;
    for (int d = 0; d < rank; d++) {
        dim.n = 0;
        put_int(&dim, 1, (uint64_t)dims[d]);
        put_ld(&shape, 1, &dim);
    }
    put_int(&tt, 1, dt);
    put_ld(&tt, 2, &shape);
    put_ld(&type, 1, &tt);
    put_str(&vi, 1, name);
    put_ld(&vi, 2, &type);
    put_ld(g, field, &vi);
}

/* an initializer: dtype dt, shape dims[rank], raw data */
static void put_init(bytes *g, const char *name, onyx_dtype dt, int rank,
                     const int64_t *dims, const void *data, size_t bytes_n)
{
    static bytes t, raw;
    t.n = raw.n = 0;
    for (int d = 0; d < rank; d++)
        put_int(&t, 1, (uint64_t)dims[d]);
    put_int(&t, 2, dt);
    put_str(&t, 8, name);
    put(&raw, data, bytes_n);
    put_ld(&t, 9, &raw);
    put_ld(g, 5, &t);
}

static onyx_program *resolve(onyx_model *model, const onyx_bind *b, int n)
{
    onyx_error err = {0};
    onyx_program *p = onyx_program_new(model, b, n, &err);
    ck_assert_msg(p != NULL, "%s", err.msg);
    return p;
}

static void expect_floats(const onyx_tensor *t, const float *want, int n,
                          const char *what)
{
    ck_assert_int_eq(onyx_numel(t), n);
    for (int i = 0; i < n; i++)
        ck_assert_msg(((const float *)t->data)[i] == want[i],
                      "%s[%d] = %g, expected %g", what, i,
                      ((const float *)t->data)[i], want[i]);
}

/* Loop(M = 4, cond omitted, y0) with body
 *     y_out = y_in * w + float(i); scan s = y_out
 * w = [2, 0.5] an initializer of the main graph read by the body. */
static onyx_model *accumulating_loop(bytes *m, const char *trip)
{
    static bytes g, b;
    g.n = b.n = 0;
    const int64_t two[1] = {2};
    put_op(&b, "Cast", "i", "fi", NULL, "to=1");
    put_op(&b, "Mul", "y_in w", "yw", NULL, NULL);
    put_op(&b, "Add", "yw fi", "y_out", NULL, NULL);
    put_op(&b, "Identity", "c_in", "c_out", NULL, NULL);
    put_value_shape(&b, 11, "i", ONYX_INT64, 0, NULL);
    put_value_shape(&b, 11, "c_in", ONYX_BOOL, 0, NULL);
    put_value_shape(&b, 11, "y_in", ONYX_FLOAT, 1, two);
    put_value_shape(&b, 12, "c_out", ONYX_BOOL, 0, NULL);
    put_value_shape(&b, 12, "y_out", ONYX_FLOAT, 1, two);
    put_value_shape(&b, 12, "y_out", ONYX_FLOAT, 1, two);
    const float w[2] = {2, 0.5f};
    const int64_t four = 4;
    put_init(&g, "w", ONYX_FLOAT, 1, two, w, sizeof w);
    if (strcmp(trip, "M") == 0)
        put_init(&g, "M", ONYX_INT64, 0, NULL, &four, 8);
    char ins[64];
    snprintf(ins, sizeof ins, "%s - y0", trip);
    put_op(&g, "Loop", ins, "y s", &b, NULL);
    put_value_shape(&g, 11, "y0", ONYX_FLOAT, 1, two);
    if (strcmp(trip, "M") != 0)
        put_value_shape(&g, 11, trip, ONYX_INT64, 0, NULL);
    put_value_shape(&g, 12, "y", ONYX_FLOAT, 1, two);
    put_value_shape(&g, 12, "s", ONYX_FLOAT, 2, (int64_t[]){4, 2});
    return load(&g, m);
}

START_TEST(loop_accumulates_with_scan_output)
{
    static bytes m;
    onyx_model *model = accumulating_loop(&m, "M");
    onyx_program *p = resolve(model, NULL, 0);
    /* per iteration Mul and Add (the Cast of a constant folds), then one
     * Concat of the four scan elements; no Loop is left */
    ck_assert_int_eq(onyx_program_num_nodes(p), 9);
    for (int j = 0; j < onyx_program_num_nodes(p); j++)
        ck_assert_str_ne(onyx_program_node_op(p, j), "Loop");
    onyx_error err = {0};
    onyx_instance *x = onyx_instance_new(p, &err);
    ck_assert_msg(x != NULL, "%s", err.msg);
    const float y0[2] = {1, 2};
    memcpy(onyx_instance_input(x, 0)->data, y0, sizeof y0);
    ck_assert_int_eq(onyx_instance_run(x, NULL, NULL), ONYX_OK);
    /* y: [1,2] -> [2,1] -> [5,1.5] -> [12,2.75] -> [27,4.375] */
    const float y[2] = {27, 4.375f};
    const float s[8] = {2, 1, 5, 1.5f, 12, 2.75f, 27, 4.375f};
    expect_floats(onyx_instance_output(x, 0), y, 2, "y");
    const onyx_tensor *st = onyx_instance_output(x, 1);
    ck_assert_int_eq(st->rank, 2);
    ck_assert_int_eq(st->dims[0], 4);
    ck_assert_int_eq(st->dims[1], 2);
    expect_floats(st, s, 8, "s");
    onyx_instance_free(x);
    onyx_program_free(p);
    onyx_model_free(model);
}
END_TEST

/* a trip count that is a graph input: bound, the loop is unrolled for its
 * value and a run with another value is an error; not bound, a refusal */
START_TEST(loop_trip_count_bound_or_refused)
{
    static bytes m;
    onyx_model *model = accumulating_loop(&m, "n");
    static const int64_t two = 2;
    onyx_bind b = {"n", 0, {0}, &two};
    onyx_program *p = resolve(model, &b, 1);
    onyx_error err = {0};
    onyx_instance *x = onyx_instance_new(p, &err);
    ck_assert_msg(x != NULL, "%s", err.msg);
    const float y0[2] = {1, 2};
    int iy = onyx_program_find_input(p, "y0"),
        in = onyx_program_find_input(p, "n");
    memcpy(onyx_instance_input(x, iy)->data, y0, sizeof y0);
    *(int64_t *)onyx_instance_input(x, in)->data = 2;
    ck_assert_int_eq(onyx_instance_run(x, NULL, NULL), ONYX_OK);
    const float y[2] = {5, 1.5f};
    expect_floats(onyx_instance_output(x, 0), y, 2, "y");
    ck_assert_int_eq(onyx_instance_output(x, 1)->dims[0], 2);
    *(int64_t *)onyx_instance_input(x, in)->data = 3;
    const char *why = NULL;
    int node = -1;
    ck_assert_int_eq(onyx_instance_run(x, &why, &node), ONYX_ERR_INVALID);
    ck_assert_msg(why && strstr(why, "when the model was resolved"), "%s",
                  why ? why : "(null)");
    onyx_instance_free(x);
    onyx_program_free(p);
    /* not bound: only known at run time */
    ck_assert_ptr_null(onyx_program_new(model, NULL, 0, &err));
    ck_assert_int_eq(err.status, ONYX_ERR_UNSUPPORTED);
    ck_assert_msg(strstr(err.msg, "'y s' (Loop)") &&
                      strstr(err.msg, "trip count M 'n' is only known at "
                                      "run time"),
                  "%s", err.msg);
    onyx_model_free(model);
}
END_TEST

/* Loop(M = 10, go, y0): the body's condition i < 2 ends it after three
 * iterations; y_out = y_in + 1, scan s = y_out * 10 */
static onyx_model *early_exit_loop(bytes *m)
{
    static bytes g, b;
    g.n = b.n = 0;
    const int64_t one[1] = {1};
    const int64_t ten = 10, two = 2;
    const float onef = 1, tenf = 10;
    put_init(&b, "two", ONYX_INT64, 0, NULL, &two, 8);
    put_op(&b, "Less", "i two", "c_out", NULL, NULL);
    put_op(&b, "Add", "y_in one", "y_out", NULL, NULL);
    put_op(&b, "Mul", "y_out tenf", "s_out", NULL, NULL);
    put_value_shape(&b, 11, "i", ONYX_INT64, 0, NULL);
    put_value_shape(&b, 11, "c_in", ONYX_BOOL, 0, NULL);
    put_value_shape(&b, 11, "y_in", ONYX_FLOAT, 1, one);
    put_value_shape(&b, 12, "c_out", ONYX_BOOL, 0, NULL);
    put_value_shape(&b, 12, "y_out", ONYX_FLOAT, 1, one);
    put_value_shape(&b, 12, "s_out", ONYX_FLOAT, 1, one);
    put_init(&g, "M", ONYX_INT64, 0, NULL, &ten, 8);
    put_init(&g, "one", ONYX_FLOAT, 1, one, &onef, 4);
    put_init(&g, "tenf", ONYX_FLOAT, 0, NULL, &tenf, 4);
    put_op(&g, "Loop", "M go y0", "y s", &b, NULL);
    put_value_shape(&g, 11, "go", ONYX_BOOL, 0, NULL);
    put_value_shape(&g, 11, "y0", ONYX_FLOAT, 1, one);
    put_value_shape(&g, 12, "y", ONYX_FLOAT, 1, one);
    put_value_shape(&g, 12, "s", ONYX_FLOAT, 2, (int64_t[]){3, 1});
    return load(&g, m);
}

START_TEST(loop_condition_ends_it_early)
{
    static bytes m;
    onyx_model *model = early_exit_loop(&m);
    static const uint8_t yes = 1, no = 0;
    onyx_bind b = {"go", 0, {0}, &yes};
    onyx_program *p = resolve(model, &b, 1);
    onyx_error err = {0};
    onyx_instance *x = onyx_instance_new(p, &err);
    ck_assert_msg(x != NULL, "%s", err.msg);
    int ig = onyx_program_find_input(p, "go"),
        iy = onyx_program_find_input(p, "y0");
    *(uint8_t *)onyx_instance_input(x, ig)->data = 1;
    *(float *)onyx_instance_input(x, iy)->data = 0.5f;
    ck_assert_int_eq(onyx_instance_run(x, NULL, NULL), ONYX_OK);
    const float y[1] = {3.5f}, s[3] = {15, 25, 35};
    expect_floats(onyx_instance_output(x, 0), y, 1, "y");
    expect_floats(onyx_instance_output(x, 1), s, 3, "s");
    ck_assert_int_eq(onyx_instance_output(x, 1)->dims[0], 3);
    onyx_instance_free(x);
    onyx_program_free(p);
    /* false from the start: no iteration, y is y0 and s is empty [0, 1]
     * (the shape the body declares) */
    b.data = &no;
    p = resolve(model, &b, 1);
    x = onyx_instance_new(p, &err);
    ck_assert_msg(x != NULL, "%s", err.msg);
    *(uint8_t *)onyx_instance_input(x, ig)->data = 0;
    *(float *)onyx_instance_input(x, iy)->data = 0.5f;
    ck_assert_int_eq(onyx_instance_run(x, NULL, NULL), ONYX_OK);
    const float y0[1] = {0.5f};
    expect_floats(onyx_instance_output(x, 0), y0, 1, "y");
    const onyx_tensor *st = onyx_instance_output(x, 1);
    ck_assert_int_eq(st->rank, 2);
    ck_assert_int_eq(st->dims[0], 0);
    ck_assert_int_eq(st->dims[1], 1);
    onyx_instance_free(x);
    onyx_program_free(p);
    onyx_model_free(model);
}
END_TEST

/* Scan(s0, x) scanning x [3,2] backwards (scan_input_directions [1]),
 * stacking along axis 1 (scan_output_axes [1]): a running sum from the
 * end. */
START_TEST(scan_running_sum_reversed)
{
    static bytes g, b, m;
    g.n = b.n = 0;
    const int64_t two[1] = {2};
    put_op(&b, "Add", "sum_in xi", "sum_out", NULL, NULL);
    put_op(&b, "Identity", "sum_out", "scan_out", NULL, NULL);
    put_value_shape(&b, 11, "sum_in", ONYX_FLOAT, 1, two);
    put_value_shape(&b, 11, "xi", ONYX_FLOAT, 1, two);
    put_value_shape(&b, 12, "sum_out", ONYX_FLOAT, 1, two);
    put_value_shape(&b, 12, "scan_out", ONYX_FLOAT, 1, two);
    put_op(&g, "Scan", "s0 x", "s z", &b,
           "num_scan_inputs=1 scan_input_directions=[1] scan_output_axes=[1]");
    put_value_shape(&g, 11, "s0", ONYX_FLOAT, 1, two);
    put_value_shape(&g, 11, "x", ONYX_FLOAT, 2, (int64_t[]){3, 2});
    put_value_shape(&g, 12, "s", ONYX_FLOAT, 1, two);
    put_value_shape(&g, 12, "z", ONYX_FLOAT, 2, (int64_t[]){2, 3});
    onyx_model *model = load(&g, &m);
    onyx_program *p = resolve(model, NULL, 0);
    onyx_error err = {0};
    onyx_instance *x = onyx_instance_new(p, &err);
    ck_assert_msg(x != NULL, "%s", err.msg);
    const float s0[2] = {0, 10}, xv[6] = {1, 2, 3, 4, 5, 6};
    memcpy(onyx_instance_input(x, 0)->data, s0, sizeof s0);
    memcpy(onyx_instance_input(x, 1)->data, xv, sizeof xv);
    ck_assert_int_eq(onyx_instance_run(x, NULL, NULL), ONYX_OK);
    /* x[2] = [5,6] first: [5,16], then [8,20], then [9,22] */
    const float s[2] = {9, 22}, z[6] = {5, 8, 9, 16, 20, 22};
    expect_floats(onyx_instance_output(x, 0), s, 2, "s");
    const onyx_tensor *zt = onyx_instance_output(x, 1);
    ck_assert_int_eq(zt->rank, 2);
    ck_assert_int_eq(zt->dims[0], 2);
    ck_assert_int_eq(zt->dims[1], 3);
    expect_floats(zt, z, 6, "z");
    onyx_instance_free(x);
    onyx_program_free(p);
    onyx_model_free(model);
}
END_TEST

/* Loop(M, -, y0) doubling y while y < lim, lim a graph input known only at
 * run time: every iteration up to M is planned under a guard, the carried
 * value picked by an IfSelect. With a scan output (its length would be the
 * run-time count) a clear refusal; without M, unrolled up to the node
 * limit, then refused. */
static onyx_model *doubling_loop(bytes *m, const char *trip, const char *outs)
{
    static bytes g, b;
    g.n = b.n = 0;
    const int64_t one[1] = {1};
    const int64_t five = 5;
    const float twof = 2;
    put_op(&b, "Mul", "y_in twof", "y_out", NULL, NULL);
    put_op(&b, "Less", "y_out lim", "c_out", NULL, NULL);
    put_value_shape(&b, 11, "i", ONYX_INT64, 0, NULL);
    put_value_shape(&b, 11, "c_in", ONYX_BOOL, 0, NULL);
    put_value_shape(&b, 11, "y_in", ONYX_FLOAT, 1, one);
    put_value_shape(&b, 12, "c_out", ONYX_BOOL, 1, one);
    put_value_shape(&b, 12, "y_out", ONYX_FLOAT, 1, one);
    if (strchr(outs, ' ')) put_value_shape(&b, 12, "y_out", ONYX_FLOAT, 1, one);
    put_init(&g, "M", ONYX_INT64, 0, NULL, &five, 8);
    put_init(&g, "twof", ONYX_FLOAT, 0, NULL, &twof, 4);
    char ins[32];
    snprintf(ins, sizeof ins, "%s - y0", trip);
    put_op(&g, "Loop", ins, outs, &b, NULL);
    put_value_shape(&g, 11, "y0", ONYX_FLOAT, 1, one);
    put_value_shape(&g, 11, "lim", ONYX_FLOAT, 1, one);
    put_value_shape(&g, 12, "y", ONYX_FLOAT, 1, one);
    if (strchr(outs, ' '))
        put_value_shape(&g, 12, "s", ONYX_FLOAT, 2, (int64_t[]){5, 1});
    return load(&g, m);
}

START_TEST(loop_condition_at_run_time)
{
    static bytes m;
    onyx_model *model = doubling_loop(&m, "M", "y");
    onyx_program *p = resolve(model, NULL, 0);
    onyx_error err = {0};
    onyx_instance *x = onyx_instance_new(p, &err);
    ck_assert_msg(x != NULL, "%s", err.msg);
    /* y0 = 1: the first iteration always runs (no condition input), then
     * while 2^k < lim, at most M = 5 times */
    const float lims[5] = {5, 100, 0, 16, 5}, want[5] = {8, 32, 2, 16, 8};
    for (int r = 0; r < 5; r++) {
        *(float *)onyx_instance_input(x, 0)->data = 1;
        *(float *)onyx_instance_input(x, 1)->data = lims[r];
        ck_assert_int_eq(onyx_instance_run(x, NULL, NULL), ONYX_OK);
        expect_floats(onyx_instance_output(x, 0), &want[r], 1, "y");
    }
    onyx_instance_free(x);
    onyx_program_free(p);
    onyx_model_free(model);

    model = doubling_loop(&m, "M", "y s");
    ck_assert_ptr_null(onyx_program_new(model, NULL, 0, &err));
    ck_assert_int_eq(err.status, ONYX_ERR_UNSUPPORTED);
    ck_assert_msg(strstr(err.msg, "'y s' (Loop): the condition 'c_out'") &&
                      strstr(err.msg, "length of scan output 's'"),
                  "%s", err.msg);
    onyx_model_free(model);
    /* no M: unrolled until the node limit, then refused */
    onyx_model_free(doubling_loop(&m, "-", "y"));
    onyx_limits lim = onyx_limits_default();
    lim.max_nodes = 100;
    model = onyx_model_load_memory_ex(m.b, m.n, "test", &lim, &err);
    ck_assert_msg(model != NULL, "%s", err.msg);
    ck_assert_ptr_null(onyx_program_new(model, NULL, 0, &err));
    ck_assert_int_eq(err.status, ONYX_ERR_LIMIT);
    ck_assert_msg(strstr(err.msg, "its condition is only known at run time") &&
                      strstr(err.msg, "onyx_limits.max_nodes"),
                  "%s", err.msg);
    onyx_model_free(model);
}
END_TEST

/* the opset-8 Scan: Scan(sequence_lens omitted, s0 [2,1], x [2,3,1]) with
 * a batch axis 0, each batch entry summed from the end (directions [1]) */
START_TEST(scan8_batches_reversed)
{
    static bytes g, b, m;
    g.n = b.n = 0;
    const int64_t one[1] = {1};
    put_op(&b, "Add", "sum_in xi", "sum_out", NULL, NULL);
    put_op(&b, "Identity", "sum_out", "scan_out", NULL, NULL);
    put_value_shape(&b, 11, "sum_in", ONYX_FLOAT, 1, one);
    put_value_shape(&b, 11, "xi", ONYX_FLOAT, 1, one);
    put_value_shape(&b, 12, "sum_out", ONYX_FLOAT, 1, one);
    put_value_shape(&b, 12, "scan_out", ONYX_FLOAT, 1, one);
    put_op(&g, "Scan", "- s0 x", "s z", &b, "num_scan_inputs=1 directions=[1]");
    put_value_shape(&g, 11, "s0", ONYX_FLOAT, 2, (int64_t[]){2, 1});
    put_value_shape(&g, 11, "x", ONYX_FLOAT, 3, (int64_t[]){2, 3, 1});
    put_value_shape(&g, 12, "s", ONYX_FLOAT, 2, (int64_t[]){2, 1});
    put_value_shape(&g, 12, "z", ONYX_FLOAT, 3, (int64_t[]){2, 3, 1});
    onyx_model *model = load_opset(&g, &m, 8);
    onyx_program *p = resolve(model, NULL, 0);
    onyx_error err = {0};
    onyx_instance *x = onyx_instance_new(p, &err);
    ck_assert_msg(x != NULL, "%s", err.msg);
    const float s0[2] = {0, 100}, xv[6] = {1, 2, 3, 10, 20, 30};
    memcpy(onyx_instance_input(x, 0)->data, s0, sizeof s0);
    memcpy(onyx_instance_input(x, 1)->data, xv, sizeof xv);
    ck_assert_int_eq(onyx_instance_run(x, NULL, NULL), ONYX_OK);
    /* batch 0: 3, 5, 6; batch 1: 130, 150, 160 */
    const float s[2] = {6, 160}, z[6] = {3, 5, 6, 130, 150, 160};
    expect_floats(onyx_instance_output(x, 0), s, 2, "s");
    const onyx_tensor *zt = onyx_instance_output(x, 1);
    ck_assert_int_eq(zt->rank, 3);
    ck_assert_int_eq(zt->dims[0], 2);
    ck_assert_int_eq(zt->dims[1], 3);
    expect_floats(zt, z, 6, "z");
    onyx_instance_free(x);
    onyx_program_free(p);
    onyx_model_free(model);
}
END_TEST

/* y = If(c) then Loop(M = 3, -, x) adding 1 each time else -x, c known
 * only at run time: the unrolled iterations are guarded by c. With
 * `until`, the body's condition is y < lim, lim a graph input: the
 * iterations' guards are GuardAnds of c and the conditions so far. */
static onyx_model *loop_in_if(bytes *m, int until)
{
    static bytes g, t, e, b;
    g.n = t.n = e.n = b.n = 0;
    const int64_t one[1] = {1}, three = 3;
    const float onef = 1;
    put_op(&b, "Add", "y_in onef", "y_out", NULL, NULL);
    if (until)
        put_op(&b, "Less", "y_out lim", "c_out", NULL, NULL);
    else
        put_op(&b, "Identity", "c_in", "c_out", NULL, NULL);
    put_value_shape(&b, 11, "i", ONYX_INT64, 0, NULL);
    put_value_shape(&b, 11, "c_in", ONYX_BOOL, 0, NULL);
    put_value_shape(&b, 11, "y_in", ONYX_FLOAT, 1, one);
    put_value_shape(&b, 12, "c_out", ONYX_BOOL, until, one);
    put_value_shape(&b, 12, "y_out", ONYX_FLOAT, 1, one);
    put_init(&t, "M", ONYX_INT64, 0, NULL, &three, 8);
    put_op(&t, "Loop", "M - x", "a", &b, NULL);
    put_value_shape(&t, 12, "a", ONYX_FLOAT, 1, one);
    put_op(&e, "Neg", "x", "n", NULL, NULL);
    put_value_shape(&e, 12, "n", ONYX_FLOAT, 1, one);
    put_init(&g, "onef", ONYX_FLOAT, 1, one, &onef, 4);
    put_node(&g, "If", "c", NULL, "y", &t, &e);
    put_value_shape(&g, 11, "x", ONYX_FLOAT, 1, one);
    put_value_shape(&g, 11, "c", ONYX_BOOL, 0, NULL);
    if (until) put_value_shape(&g, 11, "lim", ONYX_FLOAT, 1, one);
    put_value_shape(&g, 12, "y", ONYX_FLOAT, 1, one);
    return load(&g, m);
}

START_TEST(loop_in_a_run_time_if)
{
    static bytes m;
    for (int until = 0; until < 2; until++) {
        onyx_model *model = loop_in_if(&m, until);
        onyx_program *p = resolve(model, NULL, 0);
        onyx_error err = {0};
        onyx_instance *x = onyx_instance_new(p, &err);
        ck_assert_msg(x != NULL, "%s", err.msg);
        /* x = 0.25: 1.25, 2.25, 3.25; lim 2 stops after 2.25 */
        const float lims[4] = {2, 2, 10, 10};
        for (int r = 0; r < 8; r++) {
            uint8_t c = (uint8_t)(r & 1);
            *(float *)onyx_instance_input(x, 0)->data = 0.25f;
            *(uint8_t *)onyx_instance_input(x, 1)->data = c;
            if (until) *(float *)onyx_instance_input(x, 2)->data = lims[r / 2];
            ck_assert_int_eq(onyx_instance_run(x, NULL, NULL), ONYX_OK);
            float want = c ? 3.25f : -0.25f;
            if (c && until && lims[r / 2] == 2) want = 2.25f;
            expect_floats(onyx_instance_output(x, 0), &want, 1, "y");
        }
        onyx_instance_free(x);
        onyx_program_free(p);
        onyx_model_free(model);
    }
}
END_TEST

/* Scan(s0, x) over the last axis of x [2,3] (scan_input_axes [-1]), the
 * scan output prepended (scan_output_directions [1]) */
START_TEST(scan_last_axis_output_reversed)
{
    static bytes g, b, m;
    g.n = b.n = 0;
    const int64_t two[1] = {2};
    put_op(&b, "Add", "sum_in xi", "sum_out", NULL, NULL);
    put_value_shape(&b, 11, "sum_in", ONYX_FLOAT, 1, two);
    put_value_shape(&b, 11, "xi", ONYX_FLOAT, 1, two);
    put_value_shape(&b, 12, "sum_out", ONYX_FLOAT, 1, two);
    put_value_shape(&b, 12, "sum_out", ONYX_FLOAT, 1, two);
    put_op(&g, "Scan", "s0 x", "s z", &b,
           "num_scan_inputs=1 scan_input_axes=[-1] "
           "scan_output_directions=[1]");
    put_value_shape(&g, 11, "s0", ONYX_FLOAT, 1, two);
    put_value_shape(&g, 11, "x", ONYX_FLOAT, 2, (int64_t[]){2, 3});
    put_value_shape(&g, 12, "s", ONYX_FLOAT, 1, two);
    put_value_shape(&g, 12, "z", ONYX_FLOAT, 2, (int64_t[]){3, 2});
    onyx_model *model = load(&g, &m);
    onyx_program *p = resolve(model, NULL, 0);
    onyx_error err = {0};
    onyx_instance *x = onyx_instance_new(p, &err);
    ck_assert_msg(x != NULL, "%s", err.msg);
    const float s0[2] = {0, 0}, xv[6] = {1, 2, 3, 4, 5, 6};
    memcpy(onyx_instance_input(x, 0)->data, s0, sizeof s0);
    memcpy(onyx_instance_input(x, 1)->data, xv, sizeof xv);
    ck_assert_int_eq(onyx_instance_run(x, NULL, NULL), ONYX_OK);
    /* columns [1,4], [2,5], [3,6]: sums [1,4], [3,9], [6,15], last first */
    const float s[2] = {6, 15}, z[6] = {6, 15, 3, 9, 1, 4};
    expect_floats(onyx_instance_output(x, 0), s, 2, "s");
    const onyx_tensor *zt = onyx_instance_output(x, 1);
    ck_assert_int_eq(zt->rank, 2);
    ck_assert_int_eq(zt->dims[0], 3);
    expect_floats(zt, z, 6, "z");
    onyx_instance_free(x);
    onyx_program_free(p);
    onyx_model_free(model);
}
END_TEST

/* a model that must not load; its error names `want` */
static void expect_load_error(bytes *g, onyx_status st, const char *want)
{
    static bytes opset, m;
    opset.n = 0;
    put_int(&opset, 2, 13);
    put_str(g, 2, "g");
    m.n = 0;
    put_int(&m, 1, 8);
    put_ld(&m, 8, &opset);
    put_ld(&m, 7, g);
    onyx_error err = {0};
    onyx_model *model = onyx_model_load_memory(m.b, m.n, "test", &err);
    ck_assert_ptr_null(model);
    ck_assert_int_eq(err.status, st);
    ck_assert_msg(strstr(err.msg, want), "'%s' not in: %s", want, err.msg);
}

/* bodies that do not fit their node are refused at load, naming the node
 * and what is wrong */
START_TEST(malformed_bodies_refused_at_load)
{
    static bytes g, b;
    const int64_t one[1] = {1};
    /* a Loop with one carried value whose body takes two inputs */
    g.n = b.n = 0;
    put_op(&b, "Identity", "c_in", "c_out", NULL, NULL);
    put_value_shape(&b, 11, "i", ONYX_INT64, 0, NULL);
    put_value_shape(&b, 11, "c_in", ONYX_BOOL, 0, NULL);
    put_value_shape(&b, 12, "c_out", ONYX_BOOL, 0, NULL);
    put_value_shape(&b, 12, "c_out", ONYX_BOOL, 0, NULL);
    put_op(&g, "Loop", "- - y0", "y", &b, NULL);
    put_value_shape(&g, 11, "y0", ONYX_FLOAT, 1, one);
    put_value_shape(&g, 12, "y", ONYX_FLOAT, 1, one);
    expect_load_error(&g, ONYX_ERR_PARSE,
                      "node 0 'y' (Loop): the body has 2 inputs; a Loop "
                      "with 1 loop-carried values needs 3");
    /* the same with the third input but no output for the value */
    g.n = b.n = 0;
    put_op(&b, "Identity", "c_in", "c_out", NULL, NULL);
    put_value_shape(&b, 11, "i", ONYX_INT64, 0, NULL);
    put_value_shape(&b, 11, "c_in", ONYX_BOOL, 0, NULL);
    put_value_shape(&b, 11, "y_in", ONYX_FLOAT, 1, one);
    put_value_shape(&b, 12, "c_out", ONYX_BOOL, 0, NULL);
    put_op(&g, "Loop", "- - y0", "y", &b, NULL);
    put_value_shape(&g, 11, "y0", ONYX_FLOAT, 1, one);
    put_value_shape(&g, 12, "y", ONYX_FLOAT, 1, one);
    expect_load_error(&g, ONYX_ERR_PARSE,
                      "the body has 1 outputs; a Loop "
                      "with 1 outputs needs 2");
    /* a Loop without a body, inside an If's branch */
    static bytes t, e;
    g.n = t.n = e.n = 0;
    put_op(&t, "Loop", "- - y0", "a", NULL, NULL);
    put_value_shape(&t, 12, "a", ONYX_FLOAT, 1, one);
    put_op(&e, "Identity", "y0", "b", NULL, NULL);
    put_value_shape(&e, 12, "b", ONYX_FLOAT, 1, one);
    put_node(&g, "If", "c", NULL, "y", &t, &e);
    put_value_shape(&g, 11, "c", ONYX_BOOL, 0, NULL);
    put_value_shape(&g, 11, "y0", ONYX_FLOAT, 1, one);
    put_value_shape(&g, 12, "y", ONYX_FLOAT, 1, one);
    expect_load_error(&g, ONYX_ERR_PARSE,
                      "node 0 'a' (Loop) in the then_branch of node 'y' "
                      "(If): a Loop needs a graph attribute 'body'");
    /* a Scan without num_scan_inputs, and one whose directions do not
     * match its scan inputs */
    const char *attrs[2] = {NULL,
                            "num_scan_inputs=1 scan_input_directions=[0,1]"};
    const char *want[2] = {"num_scan_inputs must be given",
                           "scan_input_directions must be a list of 1 ints"};
    for (int k = 0; k < 2; k++) {
        g.n = b.n = 0;
        put_op(&b, "Add", "s_in xi", "s_out", NULL, NULL);
        put_value_shape(&b, 11, "s_in", ONYX_FLOAT, 1, one);
        put_value_shape(&b, 11, "xi", ONYX_FLOAT, 1, one);
        put_value_shape(&b, 12, "s_out", ONYX_FLOAT, 1, one);
        put_op(&g, "Scan", "s0 x", "s", &b, attrs[k]);
        put_value_shape(&g, 11, "s0", ONYX_FLOAT, 1, one);
        put_value_shape(&g, 11, "x", ONYX_FLOAT, 2, (int64_t[]){3, 1});
        put_value_shape(&g, 12, "s", ONYX_FLOAT, 1, one);
        expect_load_error(&g, ONYX_ERR_PARSE, want[k]);
    }
}
END_TEST

/* a Loop that would unroll past onyx_limits.max_nodes is refused, naming
 * the node and the limit */
START_TEST(loop_unrolled_within_node_limit)
{
    static bytes m;
    onyx_model *model = accumulating_loop(&m, "n");
    static const int64_t many = 1000;
    onyx_bind b = {"n", 0, {0}, &many};
    /* 1000 iterations of 2 nodes are within the default 100 000 */
    onyx_program *p = resolve(model, &b, 1);
    ck_assert_int_ge(onyx_program_num_nodes(p), 2000);
    onyx_program_free(p);
    onyx_model_free(model);
    onyx_error err = {0};
    onyx_limits lim = onyx_limits_default();
    lim.max_nodes = 50;
    model = onyx_model_load_memory_ex(m.b, m.n, "test", &lim, &err);
    ck_assert_msg(model != NULL, "%s", err.msg);
    p = onyx_program_new(model, &b, 1, &err);
    ck_assert_ptr_null(p);
    ck_assert_int_eq(err.status, ONYX_ERR_LIMIT);
    ck_assert_msg(strstr(err.msg, "'y s' (Loop)") &&
                      strstr(err.msg, "onyx_limits.max_nodes"),
                  "%s", err.msg);
    onyx_model_free(model);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("control");
    TCase *c = tcase_create("if");
    tcase_add_test(c, if_at_run_time);
    tcase_add_test(c, if_known_at_resolve_is_inlined);
    tcase_add_test(c, if_branch_shapes_must_agree);
    tcase_add_test(c, unsupported_ops_named_at_once);
    suite_add_tcase(s, c);
    TCase *l = tcase_create("loop");
    tcase_add_test(l, loop_accumulates_with_scan_output);
    tcase_add_test(l, loop_trip_count_bound_or_refused);
    tcase_add_test(l, loop_condition_ends_it_early);
    tcase_add_test(l, loop_condition_at_run_time);
    tcase_add_test(l, loop_in_a_run_time_if);
    tcase_add_test(l, scan_running_sum_reversed);
    tcase_add_test(l, scan8_batches_reversed);
    tcase_add_test(l, scan_last_axis_output_reversed);
    tcase_add_test(l, malformed_bodies_refused_at_load);
    tcase_add_test(l, loop_unrolled_within_node_limit);
    suite_add_tcase(s, l);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
