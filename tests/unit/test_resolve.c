/* test_resolve.c - what the resolver does to a graph beyond shapes: views
 * (Reshape, Squeeze, a Transpose of size-1 axes...) share their input's bytes
 * and do not run; MatMul followed by Adds becomes one MatMul+Add node with
 * the same numbers. Models are built here byte by byte (protobuf). */
#include "../../src/engine/engine.h"
#include "../../src/engine/pb.h"
#include "pbbuild.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

/* ---- a small ONNX builder ---- */
typedef struct graph {
    bytes g;
} graph;

/* node: ins and outs are space-separated names; perm (n_perm > 0) an ints
 * attribute "perm" */
static void g_node(graph *G, const char *op, const char *ins, const char *outs,
                   const int64_t *perm, int n_perm)
{
    static bytes nd, at; /* large: keep them off the stack */
    char buf[256];
    nd.n = 0;
    const char *lists[2] = {ins, outs};
    for (int l = 0; l < 2; l++) {
        strcpy(buf, lists[l]);
        for (char *t = strtok(buf, " "); t; t = strtok(NULL, " "))
            put_str(&nd, 1 + l, t);
    }
    put_str(&nd, 3, op);
    put_str(&nd, 4, op);
    if (n_perm > 0) {
        at.n = 0;
        put_str(&at, 1, "perm");
        for (int i = 0; i < n_perm; i++)
            put_int(&at, 8, (uint64_t)perm[i]);
        put_int(&at, 20, ONYX_ATTR_INTS);
        put_ld(&nd, 5, &at);
    }
    put_ld(&G->g, 1, &nd);
}

/* initializer: float (f) or int64 (i) data, raw */
static void g_init(graph *G, const char *name, int rank, const int64_t *dims,
                   const float *f, const int64_t *i)
{
    static bytes t, raw;
    t.n = raw.n = 0;
    int64_t n = 1;
    for (int k = 0; k < rank; k++) {
        put_int(&t, 1, (uint64_t)dims[k]);
        n *= dims[k];
    }
    put_int(&t, 2, f ? ONYX_FLOAT : ONYX_INT64);
    put_str(&t, 8, name);
    put(&raw, f ? (const void *)f : (const void *)i, (size_t)n * (f ? 4 : 8));
    put_ld(&t, 9, &raw);
    put_ld(&G->g, 5, &t);
}

/* graph input (field 11) or output (12): float with a shape */
static void g_value(graph *G, unsigned field, const char *name, int rank,
                    const int64_t *dims)
{
    static bytes vi, type, tt, shape, dim;
    vi.n = type.n = tt.n = shape.n = 0;
    for (int k = 0; k < rank; k++) {
        dim.n = 0;
        put_int(&dim, 1, (uint64_t)dims[k]);
        put_ld(&shape, 1, &dim);
    }
    put_int(&tt, 1, ONYX_FLOAT);
    put_ld(&tt, 2, &shape);
    put_ld(&type, 1, &tt);
    put_str(&vi, 1, name);
    put_ld(&vi, 2, &type);
    put_ld(&G->g, field, &vi);
}

/* the model around graph G, loaded and resolved */
static onyx_model *model_of(graph *G, bytes *m)
{
    static bytes opset;
    opset.n = 0;
    put_int(&opset, 2, 13);
    put_str(&G->g, 2, "g");
    m->n = 0;
    put_int(m, 1, 8);
    put_ld(m, 8, &opset);
    put_ld(m, 7, &G->g);
    onyx_error err = {0};
    onyx_model *model = onyx_model_load_memory(m->b, m->n, "test", &err);
    ck_assert_msg(model != NULL, "%s", err.msg);
    return model;
}

static onyx_program *program_of(onyx_model *model)
{
    onyx_error err = {0};
    onyx_program *p = onyx_program_new(model, NULL, 0, &err);
    ck_assert_msg(p != NULL, "%s", err.msg);
    return p;
}

static const float *run_once(onyx_instance *x)
{
    ck_assert_int_eq(onyx_instance_run(x, NULL, NULL), ONYX_OK);
    return onyx_instance_output(x, 0)->data;
}

/* ---- views ---- */

/* y = Relu(Reshape(x, [3, 2])): the Reshape does not run and its output
 * is x's bytes, so the arena holds x and y only */
START_TEST(reshape_is_a_view)
{
    static graph G;
    static bytes m;
    G.g.n = 0;
    const int64_t d23[] = {2, 3}, d32[] = {3, 2}, d1[] = {2}, shape[] = {3, 2};
    g_node(&G, "Reshape", "x s", "v", NULL, 0);
    g_node(&G, "Relu", "v", "y", NULL, 0);
    g_init(&G, "s", 1, d1, NULL, shape);
    g_value(&G, 11, "x", 2, d23);
    g_value(&G, 12, "y", 2, d32);
    onyx_model *model = model_of(&G, &m);
    onyx_program *p = program_of(model);
    ck_assert_int_eq(onyx_program_num_nodes(p), 1);
    ck_assert_str_eq(onyx_program_node_op(p, 0), "Relu");
    /* x and y, 24 bytes each rounded to 64: no third buffer for v */
    ck_assert_uint_eq(onyx_program_arena_bytes(p), 128);
    ck_assert_int_eq(onyx_program_output_info(p, 0)->rank, 2);
    ck_assert_int_eq(onyx_program_output_info(p, 0)->dims[0], 3);
    onyx_instance *x = onyx_instance_new(p, NULL);
    float *in = onyx_instance_input(x, 0)->data;
    const float v[6] = {1, -2, 3, -4, 5, -6};
    memcpy(in, v, sizeof v);
    const float *y = run_once(x);
    const float want[6] = {1, 0, 3, 0, 5, 0};
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq(y[i], want[i]);
    ck_assert(in[1] == -2); /* the input is not written */
    onyx_instance_free(x);
    onyx_program_free(p);
    onyx_model_free(model);
}
END_TEST

/* Transpose of [1, 3] with perm [1, 0] only moves an axis of size 1: a
 * view. Of [2, 3] it moves data: it runs. */
START_TEST(transpose_of_unit_axes_is_a_view)
{
    static graph G;
    static bytes m;
    const int64_t perm[] = {1, 0};
    for (int rows = 1; rows <= 2; rows++) {
        G.g.n = 0;
        const int64_t din[] = {rows, 3}, dout[] = {3, rows};
        g_node(&G, "Transpose", "x", "t", perm, 2);
        g_node(&G, "Relu", "t", "y", NULL, 0);
        g_value(&G, 11, "x", 2, din);
        g_value(&G, 12, "y", 2, dout);
        onyx_model *model = model_of(&G, &m);
        onyx_program *p = program_of(model);
        ck_assert_int_eq(onyx_program_num_nodes(p), rows == 1 ? 1 : 2);
        onyx_instance *x = onyx_instance_new(p, NULL);
        float *in = onyx_instance_input(x, 0)->data;
        const float v[6] = {1, -2, 3, 4, 5, -6};
        memcpy(in, v, sizeof(float) * (size_t)(3 * rows));
        const float *y = run_once(x);
        if (rows == 1) {
            ck_assert(y[0] == 1 && y[1] == 0 && y[2] == 3);
        } else { /* [[1,-2,3],[4,5,-6]]^T, Relu */
            const float want[6] = {1, 4, 0, 5, 3, 0};
            for (int i = 0; i < 6; i++)
                ck_assert_float_eq(y[i], want[i]);
        }
        onyx_instance_free(x);
        onyx_program_free(p);
        onyx_model_free(model);
    }
}
END_TEST

/* Views that are graph outputs: of a graph input (no node runs at all) and
 * of an intermediate (chained views: Unsqueeze then Squeeze) */
START_TEST(view_as_graph_output)
{
    static graph G;
    static bytes m;
    G.g.n = 0;
    const int64_t d23[] = {2, 3}, d6[] = {6}, d1[] = {1}, d123[] = {1, 2, 3},
                  shape[] = {6}, ax0[] = {0};
    g_node(&G, "Reshape", "x s", "flat", NULL, 0);
    g_node(&G, "Neg", "x", "n", NULL, 0);
    g_node(&G, "Unsqueeze", "n a", "u", NULL, 0);
    g_node(&G, "Squeeze", "u a", "back", NULL, 0);
    g_node(&G, "Unsqueeze", "back a", "z", NULL, 0);
    g_init(&G, "s", 1, d1, NULL, shape);
    g_init(&G, "a", 1, d1, NULL, ax0);
    g_value(&G, 11, "x", 2, d23);
    g_value(&G, 12, "flat", 1, d6);
    g_value(&G, 12, "z", 3, d123);
    onyx_model *model = model_of(&G, &m);
    onyx_program *p = program_of(model);
    ck_assert_int_eq(onyx_program_num_nodes(p), 1); /* Neg */
    ck_assert_int_eq(onyx_program_output_info(p, 1)->rank, 3);
    onyx_instance *x = onyx_instance_new(p, NULL);
    float *in = onyx_instance_input(x, 0)->data;
    for (int i = 0; i < 6; i++)
        in[i] = (float)i + 1;
    ck_assert_int_eq(onyx_instance_run(x, NULL, NULL), ONYX_OK);
    const float *flat = onyx_instance_output(x, 0)->data,
                *z = onyx_instance_output(x, 1)->data;
    for (int i = 0; i < 6; i++) {
        ck_assert_float_eq(flat[i], (float)i + 1);
        ck_assert_float_eq(z[i], -(float)i - 1);
    }
    onyx_instance_free(x);
    onyx_program_free(p);
    onyx_model_free(model);
}
END_TEST

/* ---- MatMul + Add fusion ---- */

/* y = (x @ W + b) + r, x [1, 4], W [4, 3], b [3], r [1, 3] a graph input:
 * one MatMul+Add node. With the product also a graph output, nothing is
 * fused (it must be kept): three nodes, and y is the same to the bit. */
START_TEST(linear_fused)
{
    static graph G;
    static bytes m;
    const int64_t d14[] = {1, 4}, d43[] = {4, 3}, d3[] = {3}, d13[] = {1, 3};
    const float W[12] = {0.1f, -0.2f, 0.3f, 0.4f,  0.5f, -0.6f,
                         0.7f, 0.8f,  0.9f, -1.0f, 1.1f, 1.2f};
    const float b[3] = {0.25f, -0.5f, 0.125f};
    const float xv[4] = {1, 2, -1, 0.5f}, rv[3] = {10, 20, 30};
    float y_fused[3], y_plain[3];
    for (int keep = 0; keep < 2; keep++) {
        G.g.n = 0;
        g_node(&G, "MatMul", "x W", "mm", NULL, 0);
        g_node(&G, "Add", "mm b", "lin", NULL, 0);
        g_node(&G, "Add", "r lin", "y", NULL, 0);
        g_init(&G, "W", 2, d43, W, NULL);
        g_init(&G, "b", 1, d3, b, NULL);
        g_value(&G, 11, "x", 2, d14);
        g_value(&G, 11, "r", 2, d13);
        g_value(&G, 12, "y", 2, d13);
        if (keep) g_value(&G, 12, "mm", 2, d13);
        onyx_model *model = model_of(&G, &m);
        onyx_program *p = program_of(model);
        ck_assert_int_eq(onyx_program_num_nodes(p), keep ? 3 : 1);
        if (!keep) ck_assert_str_eq(onyx_program_node_op(p, 0), "MatMul+Add");
        ck_assert_int_eq(onyx_program_find_output(p, "y"), 0);
        onyx_instance *x = onyx_instance_new(p, NULL);
        memcpy(onyx_instance_input(x, 0)->data, xv, sizeof xv);
        memcpy(onyx_instance_input(x, 1)->data, rv, sizeof rv);
        const float *y = run_once(x);
        memcpy(keep ? y_plain : y_fused, y, sizeof y_fused);
        onyx_instance_free(x);
        onyx_program_free(p);
        onyx_model_free(model);
    }
    /* x @ W = [0.1 + 0.8 - 0.7 - 0.5, -0.2 + 1 - 0.8 + 0.55,
     *          0.3 - 1.2 - 0.9 + 0.6] = [-0.3, 0.55, -1.2] */
    const float want[3] = {-0.3f + 0.25f + 10, 0.55f - 0.5f + 20,
                           -1.2f + 0.125f + 30};
    for (int j = 0; j < 3; j++) {
        ck_assert_float_eq_tol(y_fused[j], want[j], 1e-5f);
        ck_assert(memcmp(&y_fused[j], &y_plain[j], sizeof(float)) == 0);
    }
}
END_TEST

/* An Add whose other operand would broadcast Y to a larger shape is not
 * fused; neither is one of a value computed after the MatMul. */
START_TEST(add_not_fused_when_it_must_not)
{
    static graph G;
    static bytes m;
    const int64_t d14[] = {1, 4}, d43[] = {4, 3}, d13[] = {1, 3},
                  d23[] = {2, 3};
    float W[12];
    for (int i = 0; i < 12; i++)
        W[i] = (float)i;
    G.g.n = 0;
    g_node(&G, "MatMul", "x W", "mm", NULL, 0);
    g_node(&G, "Add", "mm big", "y", NULL, 0); /* [1,3] + [2,3] -> [2,3] */
    g_init(&G, "W", 2, d43, W, NULL);
    g_value(&G, 11, "x", 2, d14);
    g_value(&G, 11, "big", 2, d23);
    g_value(&G, 12, "y", 2, d23);
    onyx_model *model = model_of(&G, &m);
    onyx_program *p = program_of(model);
    ck_assert_int_eq(onyx_program_num_nodes(p), 2);
    onyx_program_free(p);
    onyx_model_free(model);

    G.g.n = 0;
    g_node(&G, "MatMul", "x W", "mm", NULL, 0);
    g_node(&G, "Relu", "r", "later", NULL, 0);
    g_node(&G, "Add", "mm later", "y", NULL, 0);
    g_init(&G, "W", 2, d43, W, NULL);
    g_value(&G, 11, "x", 2, d14);
    g_value(&G, 11, "r", 2, d13);
    g_value(&G, 12, "y", 2, d13);
    model = model_of(&G, &m);
    p = program_of(model);
    /* Relu may come before the MatMul in the order: then the Add fuses */
    int n = onyx_program_num_nodes(p);
    ck_assert(n == 2 || n == 3);
    onyx_instance *x = onyx_instance_new(p, NULL);
    const float xv[4] = {1, 0, 0, 1}, rv[3] = {-1, 2, -3};
    memcpy(onyx_instance_input(x, 0)->data, xv, sizeof xv);
    memcpy(onyx_instance_input(x, 1)->data, rv, sizeof rv);
    const float *y = run_once(x);
    /* rows 0 and 3 of W: [0+9, 1+10, 2+11], + Relu(r) = [0, 2, 0] */
    ck_assert(y[0] == 9 && y[1] == 13 && y[2] == 13);
    onyx_instance_free(x);
    onyx_program_free(p);
    onyx_model_free(model);
}
END_TEST

Suite *resolve_suite(void)
{
    Suite *s = suite_create("resolve");
    TCase *v = tcase_create("views");
    tcase_add_test(v, reshape_is_a_view);
    tcase_add_test(v, transpose_of_unit_axes_is_a_view);
    tcase_add_test(v, view_as_graph_output);
    suite_add_tcase(s, v);
    TCase *f = tcase_create("fusion");
    tcase_add_test(f, linear_fused);
    tcase_add_test(f, add_not_fused_when_it_must_not);
    suite_add_tcase(s, f);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(resolve_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
