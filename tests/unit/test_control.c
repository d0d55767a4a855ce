/* test_control.c - If through the engine (resolve.c, control.c, run.c): a
 * condition known at resolve inlines the branch taken; one known only at
 * run time runs both branches under guards, nested Ifs under a GuardAnd.
 * Models are built here byte by byte (protobuf). */
#include "../../src/engine/engine.h"
#include "../../src/engine/pb.h"
#include "pbbuild.h"

#include <check.h>
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

static onyx_model *load(bytes *g, bytes *m)
{
    static bytes opset;
    opset.n = 0;
    put_int(&opset, 2, 13);
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

int main(void)
{
    Suite *s = suite_create("control");
    TCase *c = tcase_create("if");
    tcase_add_test(c, if_at_run_time);
    tcase_add_test(c, if_known_at_resolve_is_inlined);
    tcase_add_test(c, if_branch_shapes_must_agree);
    tcase_add_test(c, unsupported_ops_named_at_once);
    suite_add_tcase(s, c);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
