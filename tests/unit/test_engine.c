/* test_engine.c - the protobuf reader (hand-built byte strings, including
 * truncated and malicious ones), loading a hand-built model, and the memory
 * planner (no two live buffers overlap; the arena is no bigger than needed). */
#include "../../src/engine/engine.h"
#include "../../src/engine/pb.h"
#include "pbbuild.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

/* ---- varints and fields ---- */
START_TEST(varint_values)
{
    /* 300 = 0b1_0010_1100 -> 0xAC 0x02 (the protobuf docs' example) */
    const unsigned char a[] = {0xAC, 0x02, 0x01};
    pb_reader r = pb_open(a, sizeof a);
    ck_assert_uint_eq(pb_varint(&r), 300);
    ck_assert_uint_eq(pb_varint(&r), 1);
    ck_assert_int_eq(r.bad, 0);
    ck_assert(!pb_more(&r));
    /* 2^64 - 1: nine 0xFF then 0x01 */
    const unsigned char m[] = {0xff, 0xff, 0xff, 0xff, 0xff,
                               0xff, 0xff, 0xff, 0xff, 0x01};
    r = pb_open(m, sizeof m);
    ck_assert_uint_eq(pb_varint(&r), UINT64_MAX);
    ck_assert_int_eq(r.bad, 0);
}
END_TEST

START_TEST(varint_malformed)
{
    /* truncated: continuation bit set on the last byte */
    const unsigned char t[] = {0x80, 0x80};
    pb_reader r = pb_open(t, sizeof t);
    pb_varint(&r);
    ck_assert_int_eq(r.bad, 1);
    /* eleven bytes: longer than any 64-bit value */
    const unsigned char l[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                               0xff, 0xff, 0xff, 0xff, 0x01};
    r = pb_open(l, sizeof l);
    pb_varint(&r);
    ck_assert_int_eq(r.bad, 1);
    /* tenth byte carrying bits above 2^64 */
    const unsigned char o[] = {0xff, 0xff, 0xff, 0xff, 0xff,
                               0xff, 0xff, 0xff, 0xff, 0x02};
    r = pb_open(o, sizeof o);
    pb_varint(&r);
    ck_assert_int_eq(r.bad, 1);
    /* empty input */
    r = pb_open(t, 0);
    pb_varint(&r);
    ck_assert_int_eq(r.bad, 1);
}
END_TEST

START_TEST(fields_and_lengths)
{
    bytes b = {{0}, 0};
    put_str(&b, 3, "abc");      /* 0x1A 0x03 'a' 'b' 'c' */
    put_key(&b, 2, PB_FIXED32); /* 0x15 then 4 bytes */
    float f = 1.5f;
    put(&b, &f, 4);
    ck_assert_uint_eq(b.b[0], 0x1A);
    pb_reader r = pb_open(b.b, b.n);
    uint32_t field;
    int wire;
    ck_assert(pb_next(&r, &field, &wire));
    ck_assert_uint_eq(field, 3);
    ck_assert_int_eq(wire, PB_LEN);
    pb_reader s = pb_sub(&r);
    ck_assert_int_eq((int)(s.end - s.p), 3);
    ck_assert(memcmp(s.p, "abc", 3) == 0);
    ck_assert(pb_next(&r, &field, &wire));
    ck_assert_int_eq(wire, PB_FIXED32);
    ck_assert(pb_float(&r) == 1.5f);
    ck_assert(!pb_next(&r, &field, &wire));
    ck_assert_int_eq(r.bad, 0);
}
END_TEST

START_TEST(malicious_lengths)
{
    /* a length-delimited field claiming 2^40 bytes in a 12-byte buffer */
    bytes b = {{0}, 0};
    put_key(&b, 7, PB_LEN);
    put_varint(&b, (uint64_t)1 << 40);
    put(&b, "\x01\x02\x03\x04", 4); /* 4 bytes where 2^40 were promised */
    pb_reader r = pb_open(b.b, b.n);
    uint32_t field;
    int wire;
    ck_assert(pb_next(&r, &field, &wire));
    pb_reader s = pb_sub(&r);
    ck_assert_int_eq(r.bad, 1);
    ck_assert_int_eq(s.bad, 1);
    /* a fixed64 with 3 bytes left */
    const unsigned char f[] = {0x09, 1, 2, 3};
    r = pb_open(f, sizeof f);
    ck_assert(pb_next(&r, &field, &wire));
    pb_skip(&r, wire);
    ck_assert_int_eq(r.bad, 1);
    /* field number 0 and group wire types are invalid */
    const unsigned char z[] = {0x02, 0x00};
    r = pb_open(z, sizeof z);
    ck_assert(!pb_next(&r, &field, &wire));
    ck_assert_int_eq(r.bad, 1);
    const unsigned char g[] = {0x0B};
    r = pb_open(g, sizeof g);
    ck_assert(pb_next(&r, &field, &wire));
    pb_skip(&r, wire);
    ck_assert_int_eq(r.bad, 1);
}
END_TEST

/* ---- TensorProto ---- */
START_TEST(tensor_float_packed)
{
    /* dims [2,2] (unpacked), data_type FLOAT, float_data packed {1,2,3,4} */
    bytes b = {{0}, 0};
    put_key(&b, 1, PB_VARINT);
    put_varint(&b, 2);
    put_key(&b, 1, PB_VARINT);
    put_varint(&b, 2);
    put_key(&b, 2, PB_VARINT);
    put_varint(&b, ONYX_FLOAT);
    bytes fd = {{0}, 0};
    float v[4] = {1, 2, 3, 4};
    put(&fd, v, sizeof v);
    put_ld(&b, 4, &fd);
    put_str(&b, 8, "w");
    onyx_pool pool = {0};
    onyx_limits lim = onyx_limits_default();
    onyx_tensor t;
    const char *name;
    char msg[256];
    ck_assert_int_eq(
        onyx_parse_tensor(b.b, b.n, &pool, &lim, &t, &name, msg, sizeof msg),
        ONYX_OK);
    ck_assert_str_eq(name, "w");
    ck_assert_int_eq(t.rank, 2);
    ck_assert_int_eq(t.dims[0], 2);
    ck_assert(((float *)t.data)[3] == 4.0f);
    onyx_pool_free(&pool);
}
END_TEST

START_TEST(tensor_int64_and_raw)
{
    /* int64_data unpacked {-1, 5}, dims [2] */
    bytes b = {{0}, 0};
    put_key(&b, 1, PB_VARINT);
    put_varint(&b, 2);
    put_key(&b, 2, PB_VARINT);
    put_varint(&b, ONYX_INT64);
    put_key(&b, 7, PB_VARINT);
    put_varint(&b, (uint64_t)(int64_t)-1);
    put_key(&b, 7, PB_VARINT);
    put_varint(&b, 5);
    onyx_pool pool = {0};
    onyx_limits lim = onyx_limits_default();
    onyx_tensor t;
    char msg[256];
    ck_assert_int_eq(
        onyx_parse_tensor(b.b, b.n, &pool, &lim, &t, NULL, msg, sizeof msg),
        ONYX_OK);
    ck_assert_int_eq(((int64_t *)t.data)[0], -1);
    ck_assert_int_eq(((int64_t *)t.data)[1], 5);

    /* raw_data of 12 bytes for a [4] float tensor: refused */
    bytes r = {{0}, 0};
    put_key(&r, 1, PB_VARINT);
    put_varint(&r, 4);
    put_key(&r, 2, PB_VARINT);
    put_varint(&r, ONYX_FLOAT);
    bytes raw = {{0}, 12};
    put_ld(&r, 9, &raw);
    ck_assert_int_eq(
        onyx_parse_tensor(r.b, r.n, &pool, &lim, &t, NULL, msg, sizeof msg),
        ONYX_ERR_PARSE);
    ck_assert(strstr(msg, "raw_data") != NULL);

    /* a shape of 2^62 x 8 elements: refused before any allocation */
    bytes h = {{0}, 0};
    put_key(&h, 1, PB_VARINT);
    put_varint(&h, (uint64_t)1 << 62);
    put_key(&h, 1, PB_VARINT);
    put_varint(&h, 8);
    put_key(&h, 2, PB_VARINT);
    put_varint(&h, ONYX_FLOAT);
    ck_assert_int_eq(
        onyx_parse_tensor(h.b, h.n, &pool, &lim, &t, NULL, msg, sizeof msg),
        ONYX_ERR_LIMIT);

    /* data_location EXTERNAL: refused with a clear message */
    bytes e = {{0}, 0};
    put_key(&e, 2, PB_VARINT);
    put_varint(&e, ONYX_FLOAT);
    put_key(&e, 14, PB_VARINT);
    put_varint(&e, 1);
    ck_assert_int_eq(
        onyx_parse_tensor(e.b, e.n, &pool, &lim, &t, NULL, msg, sizeof msg),
        ONYX_ERR_UNSUPPORTED);
    ck_assert(strstr(msg, "external") != NULL);
    onyx_pool_free(&pool);
}
END_TEST

/* ---- a whole hand-built model: y = Relu(x), x: float [3] ---- */
static void tiny_model(bytes *m)
{
    bytes node = {{0}, 0}, graph = {{0}, 0}, opset = {{0}, 0};
    put_str(&node, 1, "x");
    put_str(&node, 2, "y");
    put_str(&node, 3, "relu0");
    put_str(&node, 4, "Relu");
    bytes dim = {{0}, 0}, shape = {{0}, 0}, tt = {{0}, 0}, type = {{0}, 0},
          vin = {{0}, 0}, vout = {{0}, 0};
    put_key(&dim, 1, PB_VARINT);
    put_varint(&dim, 3);
    put_ld(&shape, 1, &dim);
    put_key(&tt, 1, PB_VARINT);
    put_varint(&tt, ONYX_FLOAT);
    put_ld(&tt, 2, &shape);
    put_ld(&type, 1, &tt);
    put_str(&vin, 1, "x");
    put_ld(&vin, 2, &type);
    put_str(&vout, 1, "y");
    put_ld(&vout, 2, &type);
    put_ld(&graph, 1, &node);
    put_str(&graph, 2, "g");
    put_ld(&graph, 11, &vin);
    put_ld(&graph, 12, &vout);
    put_key(&opset, 2, PB_VARINT);
    put_varint(&opset, 13);
    m->n = 0;
    put_key(m, 1, PB_VARINT);
    put_varint(m, 8);
    put_ld(m, 8, &opset);
    put_ld(m, 7, &graph);
}

START_TEST(model_load_and_run)
{
    bytes m;
    tiny_model(&m);
    onyx_error err = {0};
    onyx_model *model = onyx_model_load_memory(m.b, m.n, "tiny", &err);
    ck_assert_msg(model != NULL, "%s", err.msg);
    ck_assert_int_eq(onyx_model_opset(model), 13);
    ck_assert_int_eq(onyx_model_num_inputs(model), 1);
    ck_assert_str_eq(onyx_model_input(model, 0)->name, "x");
    onyx_program *p = onyx_program_new(model, NULL, 0, &err);
    ck_assert_msg(p != NULL, "%s", err.msg);
    /* x and y live for the whole run: two 64-aligned 12-byte buffers */
    ck_assert_uint_eq(onyx_program_arena_bytes(p), 128);
    onyx_instance *a = onyx_instance_new(p, &err);
    onyx_instance *b = onyx_instance_new(p, &err);
    float *xa = onyx_instance_input(a, 0)->data,
          *xb = onyx_instance_input(b, 0)->data;
    xa[0] = -1, xa[1] = 2, xa[2] = -3;
    xb[0] = 5, xb[1] = -6, xb[2] = 7;
    ck_assert_int_eq(onyx_instance_run(a, NULL, NULL), ONYX_OK);
    ck_assert_int_eq(onyx_instance_run(b, NULL, NULL), ONYX_OK);
    const float *ya = onyx_instance_output(a, 0)->data,
                *yb = onyx_instance_output(b, 0)->data;
    ck_assert(ya[0] == 0 && ya[1] == 2 && ya[2] == 0);
    ck_assert(yb[0] == 5 && yb[1] == 0 && yb[2] == 7); /* separate arenas */
    onyx_instance_free(a);
    onyx_instance_free(b);
    onyx_program_free(p);
    onyx_model_free(model);
}
END_TEST

START_TEST(model_every_truncation)
{
    /* every prefix of a valid model is refused (or, if complete, loads);
     * none may crash -- ASan/UBSan builds check the "never" */
    bytes m;
    tiny_model(&m);
    for (size_t n = 0; n < m.n; n++) {
        onyx_error err = {0};
        unsigned char *copy =
            malloc(n ? n : 1); /* exact size: ASan sees overreads */
        memcpy(copy, m.b, n);
        onyx_model *model = onyx_model_load_memory(copy, n, "prefix", &err);
        ck_assert_msg(model == NULL, "prefix of %zu bytes loaded", n);
        ck_assert(err.msg[0] != 0);
        free(copy);
    }
    /* and every single-byte corruption: load may succeed or fail, never crash
     */
    for (size_t i = 0; i < m.n; i++) {
        for (int v = 0; v < 256; v += 17) {
            bytes c = m;
            c.b[i] = (unsigned char)v;
            onyx_error err = {0};
            onyx_model *model = onyx_model_load_memory(c.b, c.n, "flip", &err);
            if (model) {
                onyx_program *p = onyx_program_new(model, NULL, 0, &err);
                onyx_program_free(p);
            }
            onyx_model_free(model);
        }
    }
}
END_TEST

/* The caller's limits: the tiny model loads with the defaults and is
 * refused, with the limit's name in the message, when each limit is set
 * below what it needs (one node, a chain of one, a 12-byte input, a
 * 128-byte arena). */
static void limit_case(onyx_limits lim, const char *want)
{
    bytes m;
    tiny_model(&m);
    onyx_error err = {0};
    onyx_model *model = onyx_model_load_memory_ex(m.b, m.n, "tiny", &lim, &err);
    onyx_program *p = model ? onyx_program_new(model, NULL, 0, &err) : NULL;
    if (want) {
        ck_assert_msg(p == NULL, "loaded despite %s", want);
        ck_assert_int_eq(err.status, ONYX_ERR_LIMIT);
        ck_assert_msg(strstr(err.msg, want) != NULL, "'%s' lacks '%s'", err.msg,
                      want);
    } else
        ck_assert_msg(p != NULL, "%s", err.msg);
    onyx_program_free(p);
    onyx_model_free(model);
}

START_TEST(model_limits)
{
    onyx_limits d = onyx_limits_default(), l;
    ck_assert(d.max_nodes >= 100000 && d.max_depth >= 8192 &&
              d.max_attr_elems >= 1 << 20 && d.max_tensor_bytes >= 1 << 30 &&
              d.max_arena_bytes >= 1 << 30);
    limit_case(d, NULL);
    l = d, l.max_nodes = 0;
    limit_case(l, "onyx_limits.max_nodes");
    l = d, l.max_depth = 0;
    limit_case(l, "onyx_limits.max_depth");
    l = d, l.max_tensor_bytes = 8;
    limit_case(l, "onyx_limits.max_tensor_bytes");
    l = d, l.max_arena_bytes = 64;
    limit_case(l, "onyx_limits.max_arena_bytes");
    l = d, l.max_depth = 1, l.max_arena_bytes = 128, l.max_tensor_bytes = 12;
    limit_case(l, NULL);
}
END_TEST

START_TEST(model_unknown_op_refused)
{
    bytes m;
    tiny_model(&m);
    /* rename Relu -> Relv: same length, so all lengths stay valid */
    unsigned char *p = memmem(m.b, m.n, "Relu", 4);
    ck_assert(p != NULL);
    p[3] = 'v';
    onyx_error err = {0};
    ck_assert(onyx_model_load_memory(m.b, m.n, "tiny", &err) == NULL);
    ck_assert_int_eq(err.status, ONYX_ERR_UNSUPPORTED);
    ck_assert(strstr(err.msg, "'Relv'") != NULL);
}
END_TEST

/* ---- the planner ---- */
START_TEST(plan_hand_case)
{
    /* A live [0,1], B [1,2], C [2,3], 100 bytes each, align 64:
     * A and C never live together, so they share; 2 x 128 bytes in all */
    onyx_buf b[3] = {{100, 0, 1, 0}, {100, 1, 2, 0}, {100, 2, 3, 0}};
    size_t total = onyx_plan_buffers(b, 3, 64);
    ck_assert_uint_eq(total, 256);
    ck_assert_uint_eq(b[0].offset, b[2].offset);
    ck_assert_uint_ne(b[0].offset, b[1].offset);
}
END_TEST

START_TEST(plan_random_no_overlap)
{
    srand(42);
    for (int round = 0; round < 200; round++) {
        int n = 1 + rand() % 60;
        onyx_buf b[60];
        for (int i = 0; i < n; i++) {
            b[i].bytes = (size_t)(1 + rand() % 5000);
            b[i].first = rand() % 40;
            b[i].last = b[i].first + rand() % 10;
        }
        size_t total = onyx_plan_buffers(b, n, 64);
        size_t sum = 0;
        for (int i = 0; i < n; i++) {
            ck_assert_uint_eq(b[i].offset % 64, 0);
            ck_assert(b[i].offset + b[i].bytes <= total);
            sum += (b[i].bytes + 63) / 64 * 64;
            for (int j = i + 1; j < n; j++) {
                int live_together =
                    !(b[i].last < b[j].first || b[j].last < b[i].first);
                int overlap = b[i].offset < b[j].offset + b[j].bytes &&
                              b[j].offset < b[i].offset + b[i].bytes;
                ck_assert_msg(!(live_together && overlap),
                              "round %d: %d and %d overlap", round, i, j);
            }
        }
        /* never more than giving every buffer its own bytes, never less
         * than the bytes live at the busiest moment */
        ck_assert(total <= sum);
        for (int t = 0; t < 50; t++) {
            size_t live = 0;
            for (int i = 0; i < n; i++)
                if (b[i].first <= t && t <= b[i].last)
                    live += (b[i].bytes + 63) / 64 * 64;
            ck_assert(total >= live);
        }
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("engine");
    TCase *pb = tcase_create("protobuf");
    tcase_add_test(pb, varint_values);
    tcase_add_test(pb, varint_malformed);
    tcase_add_test(pb, fields_and_lengths);
    tcase_add_test(pb, malicious_lengths);
    tcase_add_test(pb, tensor_float_packed);
    tcase_add_test(pb, tensor_int64_and_raw);
    suite_add_tcase(s, pb);
    TCase *md = tcase_create("model");
    tcase_set_timeout(md, 60);
    tcase_add_test(md, model_load_and_run);
    tcase_add_test(md, model_every_truncation);
    tcase_add_test(md, model_unknown_op_refused);
    tcase_add_test(md, model_limits);
    suite_add_tcase(s, md);
    TCase *pl = tcase_create("planner");
    tcase_add_test(pl, plan_hand_case);
    tcase_add_test(pl, plan_random_no_overlap);
    suite_add_tcase(s, pl);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
