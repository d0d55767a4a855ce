/* test_half.c - half precision through the engine: a float16 model runs in
 * float32, the resolver widening its inputs and weights and narrowing its
 * outputs (resolve.c). Models are built here byte by byte (protobuf). */
#include "../../src/engine/engine.h"
#include "../../src/engine/pb.h"
#include "pbbuild.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

/* a node with one attribute `to` when to >= 0 */
static void put_node(bytes *g, const char *op, const char *in0, const char *in1,
                     const char *out, int to)
{
    static bytes nd, at;
    nd.n = at.n = 0;
    put_str(&nd, 1, in0);
    if (in1) put_str(&nd, 1, in1);
    put_str(&nd, 2, out);
    put_str(&nd, 3, out);
    put_str(&nd, 4, op);
    if (to >= 0) {
        put_str(&at, 1, "to");
        put_int(&at, 3, (uint64_t)to);
        put_int(&at, 20, ONYX_ATTR_INT);
        put_ld(&nd, 5, &at);
    }
    put_ld(g, 1, &nd);
}

/* a float16 initializer of n elements (raw bits) */
static void put_init_f16(bytes *g, const char *name, const uint16_t *v, int n)
{
    static bytes t, raw;
    t.n = raw.n = 0;
    put_int(&t, 1, (uint64_t)n);
    put_int(&t, 2, ONYX_FLOAT16);
    put_str(&t, 8, name);
    put(&raw, v, (size_t)n * 2);
    put_ld(&t, 9, &raw);
    put_ld(g, 5, &t);
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

/* y = x * w, all float16 [3]; h = Cast(y, to=bfloat16), an output too:
 *   x = [1, 2, 3], w = [0.5, 0x2e66 (0.0999755859375), -2]
 *   y = [0.5, 0.199951171875 (0x3266, exact), -6] = 0x3800 0x3266 0xc600
 *   h = bfloat16 of y: 0x3f00, 0x3e4d (0.2001953125, the nearest), 0xc0c0 */
START_TEST(float16_model)
{
    static bytes g, m;
    g.n = 0;
    const uint16_t w[] = {0x3800, 0x2e66, 0xc000};
    put_node(&g, "Mul", "x", "w", "y", -1);
    put_node(&g, "Cast", "y", NULL, "h", ONYX_BFLOAT16);
    put_init_f16(&g, "w", w, 3);
    put_value(&g, 11, "x", ONYX_FLOAT16, 3);
    put_value(&g, 12, "y", ONYX_FLOAT16, 3);
    put_value(&g, 12, "h", ONYX_BFLOAT16, 3);
    onyx_model *model = load(&g, &m);
    onyx_error err = {0};
    onyx_program *p = onyx_program_new(model, NULL, 0, &err);
    ck_assert_msg(p != NULL, "%s", err.msg);
    /* Cast(x to float32), Mul, Cast(to float16) for y, the model's Cast
     * (from the float32 y) for h; the weights are widened at resolve */
    ck_assert_int_eq(onyx_program_num_nodes(p), 4);
    ck_assert_str_eq(onyx_program_node_op(p, 0), "Cast");
    ck_assert_str_eq(onyx_program_node_op(p, 1), "Mul");
    ck_assert_int_eq(onyx_program_input_info(p, 0)->dtype, ONYX_FLOAT16);
    ck_assert_int_eq(onyx_program_output_info(p, 0)->dtype, ONYX_FLOAT16);
    ck_assert_int_eq(onyx_program_output_info(p, 1)->dtype, ONYX_BFLOAT16);

    onyx_instance *x = onyx_instance_new(p, &err);
    ck_assert_msg(x != NULL, "%s", err.msg);
    const uint16_t xv[] = {0x3c00, 0x4000, 0x4200}; /* 1, 2, 3 */
    memcpy(onyx_instance_input(x, 0)->data, xv, sizeof xv);
    ck_assert_int_eq(onyx_instance_run(x, NULL, NULL), ONYX_OK);
    const uint16_t *y = onyx_instance_output(x, 0)->data;
    ck_assert_uint_eq(y[0], 0x3800);
    ck_assert_uint_eq(y[1], 0x3266);
    ck_assert_uint_eq(y[2], 0xc600);
    const uint16_t *h = onyx_instance_output(x, 1)->data;
    ck_assert_uint_eq(h[0], 0x3f00);
    ck_assert_uint_eq(h[1], 0x3e4d);
    ck_assert_uint_eq(h[2], 0xc0c0);
    onyx_instance_free(x);
    onyx_program_free(p);
    onyx_model_free(model);
}
END_TEST

/* A float16 value read by an op that has no float16 loop never reaches it
 * as float16 bytes, and an error still names the op: here Mul of a float16
 * and an int64 input is refused as a dtype mismatch (float32 vs int64) */
START_TEST(float16_mismatch_is_refused)
{
    static bytes g, m;
    g.n = 0;
    put_node(&g, "Mul", "x", "k", "y", -1);
    put_value(&g, 11, "x", ONYX_FLOAT16, 2);
    put_value(&g, 11, "k", ONYX_INT64, 2);
    put_value(&g, 12, "y", ONYX_FLOAT16, 2);
    onyx_model *model = load(&g, &m);
    onyx_error err = {0};
    onyx_program *p = onyx_program_new(model, NULL, 0, &err);
    ck_assert_ptr_null(p);
    ck_assert_int_eq(err.status, ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "(Mul)"));
    ck_assert_ptr_nonnull(strstr(err.msg, "must match"));
    onyx_model_free(model);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("half");
    TCase *c = tcase_create("engine");
    tcase_add_test(c, float16_model);
    tcase_add_test(c, float16_mismatch_is_refused);
    suite_add_tcase(s, c);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int f = srunner_ntests_failed(r);
    srunner_free(r);
    return f ? 1 : 0;
}
