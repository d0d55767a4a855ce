/* test_indexing.c - unit tests of the indexing and data-movement kernels:
 * einsum.c, topk.c, scatter.c, gather_nd.c, onehot.c, depth_space.c,
 * eyelike.c, reverse_sequence.c, compress.c, upsample.c, maxunpool.c,
 * unique.c and tfidf.c. Every expected number is
 * worked out by hand in the comment beside it. */
#include "ktest.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static char msg[256];

#define DIMS(...)               ((int64_t[]){__VA_ARGS__})
#define T(dt, rank, dims, data) kt_tensor((dt), (rank), DIMS dims, (data))
#define INS(...)                ((onyx_tensor *[]){__VA_ARGS__})

static void expect_f32(const onyx_tensor *o, const float *want, int n)
{
    ck_assert_int_eq(o->dtype, ONYX_FLOAT);
    ck_assert_int_eq(onyx_numel(o), n);
    const float *y = o->data;
    for (int i = 0; i < n; i++)
        ck_assert_msg(fabsf(y[i] - want[i]) <= 1e-5f, "y[%d] = %.7g, want %.7g",
                      i, (double)y[i], (double)want[i]);
}

static void expect_i64(const onyx_tensor *o, const int64_t *want, int n)
{
    ck_assert_int_eq(o->dtype, ONYX_INT64);
    ck_assert_int_eq(onyx_numel(o), n);
    const int64_t *y = o->data;
    for (int i = 0; i < n; i++)
        ck_assert_msg(y[i] == want[i], "y[%d] = %lld, want %lld", i,
                      (long long)y[i], (long long)want[i]);
}

static void expect_dims(const onyx_tensor *o, int rank, const int64_t *dims)
{
    ck_assert_int_eq(o->rank, rank);
    for (int i = 0; i < rank; i++)
        ck_assert_int_eq(o->dims[i], dims[i]);
}

/* ------------------------------------------------------------ Einsum */

/* Runs a two-input float32 Einsum and compares. */
static void einsum2(const char *eq, onyx_tensor a, onyx_tensor b,
                    const float *want, int n)
{
    onyx_attr at[] = {{.name = "equation",
                       .type = ONYX_ATTR_STRING,
                       .s = eq,
                       .s_len = strlen(eq)}};
    onyx_tensor out[1];
    ck_assert_msg(kt_run("Einsum", 12, at, 1, INS(&a, &b), 2, out, 1, msg) ==
                      ONYX_OK,
                  "%s: %s", eq, msg);
    expect_f32(&out[0], want, n);
    kt_free(out, 1);
}

START_TEST(einsum_products)
{
    /* A (2,3) = [[1,2,3],[4,5,6]], B (3,2) = [[1,0],[0,1],[1,1]] */
    const float a[] = {1, 2, 3, 4, 5, 6}, b[] = {1, 0, 0, 1, 1, 1};
    onyx_tensor A = T(ONYX_FLOAT, 2, (2, 3), a),
                B = T(ONYX_FLOAT, 2, (3, 2), b);
    /* A @ B: row 0: [1+3, 2+3] = [4,5]; row 1: [4+6, 5+6] = [10,11] */
    einsum2("ij,jk->ik", A, B, (float[]){4, 5, 10, 11}, 4);
    /* implicit output: the same (j repeats, i and k once, sorted) */
    einsum2("ij,jk", A, B, (float[]){4, 5, 10, 11}, 4);
    /* (A @ B)^T: [[4,10],[5,11]] */
    einsum2("ij,jk->ki", A, B, (float[]){4, 10, 5, 11}, 4);
    /* A @ A^T through "ik,jk": [[1+4+9, 4+10+18],[32, 16+25+36]] */
    einsum2("ik,jk->ij", A, A, (float[]){14, 32, 32, 77}, 4);
    /* A^T @ A (k first in both): "ki,kj->ij", (3,3):
     * [1*1+4*4, 1*2+4*5, 1*3+4*6] = [17, 22, 27], [22, 29, 36],
     * [27, 36, 45] */
    einsum2("ki,kj->ij", A, A, (float[]){17, 22, 27, 22, 29, 36, 27, 36, 45},
            9);
    /* batched: (2,1,2) @ (2,2,1): batch 0 [1,2].[3,4] = 11,
     * batch 1 [5,6].[7,8] = 83 */
    const float x[] = {1, 2, 5, 6}, y[] = {3, 4, 7, 8};
    einsum2("bij,bjk->bik", T(ONYX_FLOAT, 3, (2, 1, 2), x),
            T(ONYX_FLOAT, 3, (2, 2, 1), y), (float[]){11, 83}, 2);
    /* "...": the same with the batch axis broadcast from a size-1 axis of
     * y: batch 0 [1,2].[3,4] = 11, batch 1 [5,6].[3,4] = 39 */
    einsum2("...ij,...jk->...ik", T(ONYX_FLOAT, 3, (2, 1, 2), x),
            T(ONYX_FLOAT, 3, (1, 2, 1), y), (float[]){11, 39}, 2);
    /* outer product "i,j->ij": [1,2] x [3,4] = [[3,4],[6,8]] */
    einsum2("i,j->ij", T(ONYX_FLOAT, 1, (2), x), T(ONYX_FLOAT, 1, (2), y),
            (float[]){3, 4, 6, 8}, 4);
}
END_TEST

START_TEST(einsum_one_input)
{
    /* M (3,3) = 1..9 */
    const float m[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    onyx_tensor M = T(ONYX_FLOAT, 2, (3, 3), m), out[1];
    struct {
        const char *eq;
        float want[9];
        int n;
    } cases[] = {
        {"ii->i", {1, 5, 9}, 3},                /* diagonal */
        {"ii", {15}, 1},                        /* trace */
        {"ij->", {45}, 1},                      /* sum of all */
        {"ij->j", {12, 15, 18}, 3},             /* column sums */
        {"ji", {1, 4, 7, 2, 5, 8, 3, 6, 9}, 9}, /* implicit: i, j sorted */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        onyx_attr at[] = {{.name = "equation",
                           .type = ONYX_ATTR_STRING,
                           .s = cases[c].eq,
                           .s_len = strlen(cases[c].eq)}};
        ck_assert_msg(kt_run("Einsum", 12, at, 1, INS(&M), 1, out, 1, msg) ==
                          ONYX_OK,
                      "%s: %s", cases[c].eq, msg);
        expect_f32(&out[0], cases[c].want, cases[c].n);
        kt_free(out, 1);
    }
    /* int64: "i,i" = 1*4 + 2*5 + 3*6 = 32 */
    const int64_t u[] = {1, 2, 3}, v[] = {4, 5, 6};
    onyx_tensor U = T(ONYX_INT64, 1, (3), u), V = T(ONYX_INT64, 1, (3), v);
    onyx_attr at[] = {KT_STRING("equation", "i,i")};
    ck_assert_int_eq(kt_run("Einsum", 12, at, 1, INS(&U, &V), 2, out, 1, msg),
                     ONYX_OK);
    expect_i64(&out[0], (int64_t[]){32}, 1);
    ck_assert_int_eq(out[0].rank, 0);
    kt_free(out, 1);
}
END_TEST

START_TEST(einsum_errors)
{
    const float m[] = {1, 2, 3, 4, 5, 6};
    onyx_tensor M = T(ONYX_FLOAT, 2, (2, 3), m), out[1];
    const char *bad[] = {
        "ijk->i", /* three labels for rank 2 */
        "ii->i",  /* diagonal of a (2,3) */
        "ij->k",  /* output label in no input */
        "ij,jk",  /* two terms, one input */
        "i.j->i", /* a lone '.' */
        "i1->i",  /* not a letter */
        "ij->ii", /* repeated output label */
    };
    for (size_t c = 0; c < sizeof bad / sizeof bad[0]; c++) {
        onyx_attr at[] = {{.name = "equation",
                           .type = ONYX_ATTR_STRING,
                           .s = bad[c],
                           .s_len = strlen(bad[c])}};
        ck_assert_msg(kt_run("Einsum", 12, at, 1, INS(&M), 1, out, 1, msg) !=
                          ONYX_OK,
                      "%s accepted", bad[c]);
    }
    /* no equation */
    ck_assert_int_eq(kt_run("Einsum", 12, NULL, 0, INS(&M), 1, out, 1, msg),
                     ONYX_ERR_INVALID);
}
END_TEST

/* ------------------------------------------------------------ TopK */

START_TEST(topk_basic)
{
    /* X (2,4) = [[3,1,3,2],[0,5,-1,5]], k = 2 along axis 1 */
    const float x[] = {3, 1, 3, 2, 0, 5, -1, 5};
    const int64_t k[] = {2};
    onyx_tensor X = T(ONYX_FLOAT, 2, (2, 4), x), K = T(ONYX_INT64, 1, (1), k),
                out[2];
    ck_assert_int_eq(kt_run("TopK", 11, NULL, 0, INS(&X, &K), 2, out, 2, msg),
                     ONYX_OK);
    /* largest, ties by lower index: row 0 3@0, 3@2; row 1 5@1, 5@3 */
    expect_f32(&out[0], (float[]){3, 3, 5, 5}, 4);
    expect_i64(&out[1], (int64_t[]){0, 2, 1, 3}, 4);
    kt_free(out, 2);
    /* smallest along axis 0 (k = 1): per column min of (3,0), (1,5),
     * (3,-1), (2,5) = 0@1, 1@0, -1@1, 2@0 */
    const int64_t k1[] = {1};
    onyx_tensor K1 = T(ONYX_INT64, 1, (1), k1);
    onyx_attr at[] = {KT_INT("axis", 0), KT_INT("largest", 0)};
    ck_assert_int_eq(kt_run("TopK", 11, at, 2, INS(&X, &K1), 2, out, 2, msg),
                     ONYX_OK);
    expect_dims(&out[0], 2, DIMS(1, 4));
    expect_f32(&out[0], (float[]){0, 1, -1, 2}, 4);
    expect_i64(&out[1], (int64_t[]){1, 0, 1, 0}, 4);
    kt_free(out, 2);
}
END_TEST

START_TEST(topk_errors)
{
    const float x[] = {1, 2, 3};
    const int64_t k5[] = {5};
    onyx_tensor X = T(ONYX_FLOAT, 1, (3), x), K = T(ONYX_INT64, 1, (1), k5),
                out[2];
    /* k larger than the axis */
    ck_assert_int_eq(kt_run("TopK", 11, NULL, 0, INS(&X, &K), 2, out, 2, msg),
                     ONYX_ERR_INVALID);
    /* k not known at prepare */
    const int64_t k1[] = {1};
    onyx_tensor K1 = T(ONYX_INT64, 1, (1), k1);
    ck_assert_int_eq(kt_run_ex("TopK", 11, NULL, 0, INS(&X, &K1), 2, out, 2,
                               NULL, (int[]){0, 1}, msg),
                     ONYX_ERR_UNSUPPORTED);
    /* bool data */
    const uint8_t bx[] = {1, 0, 1};
    onyx_tensor B = T(ONYX_BOOL, 1, (3), bx);
    ck_assert_int_eq(kt_run("TopK", 11, NULL, 0, INS(&B, &K1), 2, out, 2, msg),
                     ONYX_ERR_UNSUPPORTED);
}
END_TEST

/* ------------------------------------------------------------ scatter */

START_TEST(scatter_elements)
{
    /* data (2,3) zeros; indices [[1,0,-1]] along axis 0 (the -1 is row 1)
     * with updates [[7,8,9]]: Y = [[0,8,0],[7,0,9]] */
    const float d[6] = {0};
    const int64_t i[] = {1, 0, -1};
    const float u[] = {7, 8, 9};
    onyx_tensor D = T(ONYX_FLOAT, 2, (2, 3), d),
                I = T(ONYX_INT64, 2, (1, 3), i),
                U = T(ONYX_FLOAT, 2, (1, 3), u), out[1];
    ck_assert_int_eq(
        kt_run("ScatterElements", 16, NULL, 0, INS(&D, &I, &U), 3, out, 1, msg),
        ONYX_OK);
    expect_f32(&out[0], (float[]){0, 8, 0, 7, 0, 9}, 6);
    kt_free(out, 1);
    /* axis 1, add, duplicate index: data [[1,2,3]], indices [[2,2]],
     * updates [[10,20]]: Y = [[1,2,33]] */
    const float d2[] = {1, 2, 3}, u2[] = {10, 20};
    const int32_t i2[] = {2, 2};
    onyx_tensor D2 = T(ONYX_FLOAT, 2, (1, 3), d2),
                I2 = T(ONYX_INT32, 2, (1, 2), i2),
                U2 = T(ONYX_FLOAT, 2, (1, 2), u2);
    onyx_attr add[] = {KT_INT("axis", 1), KT_STRING("reduction", "add")};
    ck_assert_int_eq(kt_run("ScatterElements", 16, add, 2, INS(&D2, &I2, &U2),
                            3, out, 1, msg),
                     ONYX_OK);
    expect_f32(&out[0], (float[]){1, 2, 33}, 3);
    kt_free(out, 1);
    /* mul: 3 * 10 * 20 = 600 */
    onyx_attr mul[] = {KT_INT("axis", 1), KT_STRING("reduction", "mul")};
    ck_assert_int_eq(kt_run("ScatterElements", 16, mul, 2, INS(&D2, &I2, &U2),
                            3, out, 1, msg),
                     ONYX_OK);
    expect_f32(&out[0], (float[]){1, 2, 600}, 3);
    kt_free(out, 1);
    /* the opset-9 name: last write wins, Y = [[1,2,20]] */
    onyx_attr ax1[] = {KT_INT("axis", 1)};
    ck_assert_int_eq(
        kt_run("Scatter", 9, ax1, 1, INS(&D2, &I2, &U2), 3, out, 1, msg),
        ONYX_OK);
    expect_f32(&out[0], (float[]){1, 2, 20}, 3);
    kt_free(out, 1);
}
END_TEST

START_TEST(scatter_nd)
{
    /* data (3,2) = [[1,2],[3,4],[5,6]]; indices [[2],[0]] pick rows;
     * updates [[10,20],[30,40]]: Y = [[30,40],[3,4],[10,20]] */
    const int64_t d[] = {1, 2, 3, 4, 5, 6}, u[] = {10, 20, 30, 40};
    const int64_t i[] = {2, 0};
    onyx_tensor D = T(ONYX_INT64, 2, (3, 2), d),
                I = T(ONYX_INT64, 2, (2, 1), i),
                U = T(ONYX_INT64, 2, (2, 2), u), out[1];
    ck_assert_int_eq(
        kt_run("ScatterND", 16, NULL, 0, INS(&D, &I, &U), 3, out, 1, msg),
        ONYX_OK);
    expect_i64(&out[0], (int64_t[]){30, 40, 3, 4, 10, 20}, 6);
    kt_free(out, 1);
    /* full coordinates, add: indices [[1,1],[1,1]], updates [5,6]:
     * Y[1][1] = 4 + 5 + 6 = 15 */
    const int64_t i2[] = {1, 1, 1, 1}, u2[] = {5, 6};
    onyx_tensor I2 = T(ONYX_INT64, 2, (2, 2), i2),
                U2 = T(ONYX_INT64, 1, (2), u2);
    onyx_attr add[] = {KT_STRING("reduction", "add")};
    ck_assert_int_eq(
        kt_run("ScatterND", 16, add, 1, INS(&D, &I2, &U2), 3, out, 1, msg),
        ONYX_OK);
    expect_i64(&out[0], (int64_t[]){1, 2, 3, 15, 5, 6}, 6);
    kt_free(out, 1);
}
END_TEST

START_TEST(scatter_errors)
{
    const float d[] = {1, 2, 3}, u[] = {9};
    const int64_t bad[] = {3};
    onyx_tensor D = T(ONYX_FLOAT, 1, (3), d), I = T(ONYX_INT64, 1, (1), bad),
                U = T(ONYX_FLOAT, 1, (1), u), out[1];
    /* index 3 on an axis of 3: found in eval */
    ck_assert_int_eq(
        kt_run("ScatterElements", 16, NULL, 0, INS(&D, &I, &U), 3, out, 1, msg),
        ONYX_ERR_RUNTIME);
    kt_free(out, 1);
    /* the same through ScatterND, indices (1,1) */
    onyx_tensor I2 = T(ONYX_INT64, 2, (1, 1), bad);
    ck_assert_int_eq(
        kt_run("ScatterND", 16, NULL, 0, INS(&D, &I2, &U), 3, out, 1, msg),
        ONYX_ERR_RUNTIME);
    kt_free(out, 1);
    /* updates (3,) do not fit indices (1,1) */
    ck_assert_int_eq(
        kt_run("ScatterND", 16, NULL, 0, INS(&D, &I2, &D), 3, out, 1, msg),
        ONYX_ERR_INVALID);
    /* unknown reduction */
    onyx_attr at[] = {KT_STRING("reduction", "sub")};
    ck_assert_int_eq(
        kt_run("ScatterElements", 16, at, 1, INS(&D, &I, &U), 3, out, 1, msg),
        ONYX_ERR_INVALID);
    /* updates of another dtype */
    const int64_t ui[] = {1};
    onyx_tensor UI = T(ONYX_INT64, 1, (1), ui);
    ck_assert_int_eq(kt_run("ScatterElements", 16, NULL, 0, INS(&D, &I, &UI), 3,
                            out, 1, msg),
                     ONYX_ERR_INVALID);
}
END_TEST

/* ------------------------------------------------------------ GatherND */

START_TEST(gather_nd)
{
    /* data (2,2) = [[0,1],[2,3]]; indices [[1,0],[0,1]]: Y = [2, 1] */
    const int32_t d[] = {0, 1, 2, 3};
    const int64_t i[] = {1, 0, 0, 1};
    onyx_tensor D = T(ONYX_INT32, 2, (2, 2), d),
                I = T(ONYX_INT64, 2, (2, 2), i), out[1];
    ck_assert_int_eq(
        kt_run("GatherND", 13, NULL, 0, INS(&D, &I), 2, out, 1, msg), ONYX_OK);
    ck_assert_int_eq(out[0].dtype, ONYX_INT32);
    expect_dims(&out[0], 1, DIMS(2));
    ck_assert_int_eq(((int32_t *)out[0].data)[0], 2);
    ck_assert_int_eq(((int32_t *)out[0].data)[1], 1);
    kt_free(out, 1);
    /* rows: indices [[1],[-2]] (the -2 is row 0): Y = [[2,3],[0,1]] */
    const int64_t r[] = {1, -2};
    onyx_tensor R = T(ONYX_INT64, 2, (2, 1), r);
    ck_assert_int_eq(
        kt_run("GatherND", 13, NULL, 0, INS(&D, &R), 2, out, 1, msg), ONYX_OK);
    expect_dims(&out[0], 2, DIMS(2, 2));
    const int32_t *y = out[0].data;
    ck_assert(y[0] == 2 && y[1] == 3 && y[2] == 0 && y[3] == 1);
    kt_free(out, 1);
    /* batch_dims 1: data (2,2,2) = 0..7, indices (2,1) = [[1],[0]]:
     * batch 0 row 1 = [2,3], batch 1 row 0 = [4,5] */
    const float f[] = {0, 1, 2, 3, 4, 5, 6, 7};
    const int64_t b[] = {1, 0};
    onyx_tensor F = T(ONYX_FLOAT, 3, (2, 2, 2), f),
                B = T(ONYX_INT64, 2, (2, 1), b);
    onyx_attr at[] = {KT_INT("batch_dims", 1)};
    ck_assert_int_eq(kt_run("GatherND", 13, at, 1, INS(&F, &B), 2, out, 1, msg),
                     ONYX_OK);
    expect_dims(&out[0], 2, DIMS(2, 2));
    expect_f32(&out[0], (float[]){2, 3, 4, 5}, 4);
    kt_free(out, 1);
}
END_TEST

START_TEST(gather_nd_errors)
{
    const float f[] = {0, 1, 2, 3};
    const int64_t i[] = {2};
    onyx_tensor F = T(ONYX_FLOAT, 1, (4), f), I = T(ONYX_INT64, 1, (1), i),
                out[1];
    const int64_t big[] = {4};
    onyx_tensor Big = T(ONYX_INT64, 1, (1), big);
    ck_assert_int_eq(
        kt_run("GatherND", 13, NULL, 0, INS(&F, &I), 2, out, 1, msg), ONYX_OK);
    expect_f32(&out[0], (float[]){2}, 1);
    kt_free(out, 1);
    ck_assert_int_eq(
        kt_run("GatherND", 13, NULL, 0, INS(&F, &Big), 2, out, 1, msg),
        ONYX_ERR_RUNTIME);
    kt_free(out, 1);
    /* indices' last axis longer than data's rank */
    const int64_t two[] = {0, 0};
    onyx_tensor Two = T(ONYX_INT64, 1, (2), two);
    ck_assert_int_eq(
        kt_run("GatherND", 13, NULL, 0, INS(&F, &Two), 2, out, 1, msg),
        ONYX_ERR_INVALID);
    onyx_attr at[] = {KT_INT("batch_dims", 1)};
    ck_assert_int_eq(kt_run("GatherND", 13, at, 1, INS(&F, &I), 2, out, 1, msg),
                     ONYX_ERR_INVALID);
}
END_TEST

/* ------------------------------------------------------------ OneHot */

START_TEST(onehot)
{
    /* indices [1, -1, 5], depth 3, values [0, 9]: rows
     * [0,9,0], [0,0,9] (-1 is 2), [0,0,0] (5 out of range) */
    const int64_t i[] = {1, -1, 5};
    const float depth[] = {3}, v[] = {0, 9};
    onyx_tensor I = T(ONYX_INT64, 1, (3), i), D = T(ONYX_FLOAT, 0, (0), depth),
                V = T(ONYX_FLOAT, 1, (2), v), out[1];
    ck_assert_int_eq(
        kt_run("OneHot", 11, NULL, 0, INS(&I, &D, &V), 3, out, 1, msg),
        ONYX_OK);
    expect_dims(&out[0], 2, DIMS(3, 3));
    expect_f32(&out[0], (float[]){0, 9, 0, 0, 0, 9, 0, 0, 0}, 9);
    kt_free(out, 1);
    /* axis 0: the transpose, (3 depth, 3 indices) */
    onyx_attr at[] = {KT_INT("axis", 0)};
    ck_assert_int_eq(
        kt_run("OneHot", 11, at, 1, INS(&I, &D, &V), 3, out, 1, msg), ONYX_OK);
    expect_f32(&out[0], (float[]){0, 0, 0, 9, 0, 0, 0, 9, 0}, 9);
    kt_free(out, 1);
    /* errors: depth 0; values of three; depth unknown */
    const float zero[] = {0};
    onyx_tensor Z = T(ONYX_FLOAT, 0, (0), zero);
    ck_assert_int_eq(
        kt_run("OneHot", 11, NULL, 0, INS(&I, &Z, &V), 3, out, 1, msg),
        ONYX_ERR_INVALID);
    const float v3[] = {0, 1, 2};
    onyx_tensor V3 = T(ONYX_FLOAT, 1, (3), v3);
    ck_assert_int_eq(
        kt_run("OneHot", 11, NULL, 0, INS(&I, &D, &V3), 3, out, 1, msg),
        ONYX_ERR_INVALID);
    ck_assert_int_eq(kt_run_ex("OneHot", 11, NULL, 0, INS(&I, &D, &V), 3, out,
                               1, NULL, (int[]){0, 1, 0}, msg),
                     ONYX_ERR_UNSUPPORTED);
}
END_TEST

/* ------------------------------------------------------------ depth/space */

START_TEST(depth_space)
{
    /* X (1,4,1,1) = [0,1,2,3], blocksize 2:
     * DCR: Y[0,0,i,j] = X[(i*2+j)] -> [[0,1],[2,3]];
     * with 8 channels (1,8,1,1) = 0..7: DCR Y[c,i,j] = X[(i*2+j)*2 + c]:
     *   c0: [[0,2],[4,6]], c1: [[1,3],[5,7]];
     *   CRD Y[c,i,j] = X[c*4 + i*2 + j]: c0: [[0,1],[2,3]], c1 [[4,5],[6,7]] */
    const float x[] = {0, 1, 2, 3, 4, 5, 6, 7};
    onyx_tensor X = T(ONYX_FLOAT, 4, (1, 8, 1, 1), x), out[1];
    onyx_attr dcr[] = {KT_INT("blocksize", 2)};
    ck_assert_int_eq(
        kt_run("DepthToSpace", 13, dcr, 1, INS(&X), 1, out, 1, msg), ONYX_OK);
    expect_dims(&out[0], 4, DIMS(1, 2, 2, 2));
    expect_f32(&out[0], (float[]){0, 2, 4, 6, 1, 3, 5, 7}, 8);
    /* SpaceToDepth undoes DCR */
    onyx_tensor back[1];
    ck_assert_int_eq(
        kt_run("SpaceToDepth", 13, dcr, 1, INS(&out[0]), 1, back, 1, msg),
        ONYX_OK);
    expect_dims(&back[0], 4, DIMS(1, 8, 1, 1));
    expect_f32(&back[0], x, 8);
    kt_free(back, 1);
    kt_free(out, 1);
    onyx_attr crd[] = {KT_INT("blocksize", 2), KT_STRING("mode", "CRD")};
    ck_assert_int_eq(
        kt_run("DepthToSpace", 13, crd, 2, INS(&X), 1, out, 1, msg), ONYX_OK);
    expect_f32(&out[0], (float[]){0, 1, 2, 3, 4, 5, 6, 7}, 8);
    kt_free(out, 1);
    /* errors: 8 channels are not a multiple of 3*3; bad mode; rank 3 */
    onyx_attr b3[] = {KT_INT("blocksize", 3)};
    ck_assert_int_eq(kt_run("DepthToSpace", 13, b3, 1, INS(&X), 1, out, 1, msg),
                     ONYX_ERR_INVALID);
    onyx_attr bad[] = {KT_INT("blocksize", 2), KT_STRING("mode", "RCD")};
    ck_assert_int_eq(
        kt_run("DepthToSpace", 13, bad, 2, INS(&X), 1, out, 1, msg),
        ONYX_ERR_INVALID);
    onyx_tensor X3 = T(ONYX_FLOAT, 3, (8, 1, 1), x);
    ck_assert_int_eq(
        kt_run("SpaceToDepth", 13, dcr, 1, INS(&X3), 1, out, 1, msg),
        ONYX_ERR_INVALID);
}
END_TEST

/* ------------------------------------------------------------ the rest */

START_TEST(eyelike_reverse)
{
    /* EyeLike of a (2,3) int32 tensor as float, k = 1: [[0,1,0],[0,0,1]] */
    const int32_t z[6] = {0};
    onyx_tensor Z = T(ONYX_INT32, 2, (2, 3), z), out[1];
    onyx_attr at[] = {KT_INT("dtype", ONYX_FLOAT), KT_INT("k", 1)};
    ck_assert_int_eq(kt_run("EyeLike", 9, at, 2, INS(&Z), 1, out, 1, msg),
                     ONYX_OK);
    expect_f32(&out[0], (float[]){0, 1, 0, 0, 0, 1}, 6);
    kt_free(out, 1);
    onyx_attr bad[] = {KT_INT("dtype", ONYX_STRING)};
    ck_assert_int_eq(kt_run("EyeLike", 9, bad, 1, INS(&Z), 1, out, 1, msg),
                     ONYX_ERR_UNSUPPORTED);

    /* ReverseSequence, time axis 0, X (3 steps, 2 batch) = [[1,2],[3,4],
     * [5,6]], lens [3, 2]: batch 0 reversed whole -> 5,3,1; batch 1 first
     * two -> 4,2,6: Y = [[5,4],[3,2],[1,6]] */
    const float x[] = {1, 2, 3, 4, 5, 6};
    const int64_t lens[] = {3, 2};
    onyx_tensor X = T(ONYX_FLOAT, 2, (3, 2), x),
                L = T(ONYX_INT64, 1, (2), lens);
    ck_assert_int_eq(
        kt_run("ReverseSequence", 10, NULL, 0, INS(&X, &L), 2, out, 1, msg),
        ONYX_OK);
    expect_f32(&out[0], (float[]){5, 4, 3, 2, 1, 6}, 6);
    kt_free(out, 1);
    /* a length above the 3 steps */
    const int64_t long_lens[] = {4, 1};
    onyx_tensor LL = T(ONYX_INT64, 1, (2), long_lens);
    ck_assert_int_eq(
        kt_run("ReverseSequence", 10, NULL, 0, INS(&X, &LL), 2, out, 1, msg),
        ONYX_ERR_RUNTIME);
    kt_free(out, 1);
}
END_TEST

START_TEST(compress_nonzero)
{
    /* Compress X (3,2) = [[1,2],[3,4],[5,6]] by [0,1,1] on axis 0:
     * [[3,4],[5,6]]; without an axis, flattened, by [1,0,1]: [1,3] */
    const float x[] = {1, 2, 3, 4, 5, 6};
    const uint8_t c[] = {0, 1, 1}, c2[] = {1, 0, 1};
    onyx_tensor X = T(ONYX_FLOAT, 2, (3, 2), x), C = T(ONYX_BOOL, 1, (3), c),
                C2 = T(ONYX_BOOL, 1, (3), c2), out[1];
    onyx_attr ax[] = {KT_INT("axis", 0)};
    ck_assert_int_eq(kt_run("Compress", 11, ax, 1, INS(&X, &C), 2, out, 1, msg),
                     ONYX_OK);
    expect_dims(&out[0], 2, DIMS(2, 2));
    expect_f32(&out[0], (float[]){3, 4, 5, 6}, 4);
    kt_free(out, 1);
    ck_assert_int_eq(
        kt_run("Compress", 11, NULL, 0, INS(&X, &C2), 2, out, 1, msg), ONYX_OK);
    expect_f32(&out[0], (float[]){1, 3}, 2);
    kt_free(out, 1);
    /* condition unknown when resolving */
    ck_assert_int_eq(kt_run_ex("Compress", 11, NULL, 0, INS(&X, &C), 2, out, 1,
                               NULL, (int[]){0, 1}, msg),
                     ONYX_ERR_UNSUPPORTED);
    /* longer than the axis (axis 1 has 2) */
    onyx_attr ax1[] = {KT_INT("axis", 1)};
    ck_assert_int_eq(
        kt_run("Compress", 11, ax1, 1, INS(&X, &C), 2, out, 1, msg),
        ONYX_ERR_INVALID);

    /* NonZero of [[1,0],[0,-0.0]] with one more: [[0,2],[0,0]] has (0,0),
     * (0,1): rows then columns */
    const float m[] = {1, 0, 0, -0.0f}, m2[] = {0, 2, 3, 0};
    onyx_tensor M = T(ONYX_FLOAT, 2, (2, 2), m),
                M2 = T(ONYX_FLOAT, 2, (2, 2), m2);
    ck_assert_int_eq(kt_run("NonZero", 13, NULL, 0, INS(&M), 1, out, 1, msg),
                     ONYX_OK);
    expect_dims(&out[0], 2, DIMS(2, 1));
    expect_i64(&out[0], (int64_t[]){0, 0}, 2);
    kt_free(out, 1);
    /* [[0,2],[3,0]]: (0,1) and (1,0) -> [[0,1],[1,0]] */
    ck_assert_int_eq(kt_run("NonZero", 13, NULL, 0, INS(&M2), 1, out, 1, msg),
                     ONYX_OK);
    expect_i64(&out[0], (int64_t[]){0, 1, 1, 0}, 4);
    kt_free(out, 1);
    ck_assert_int_eq(kt_run_ex("NonZero", 13, NULL, 0, INS(&M), 1, out, 1, NULL,
                               (int[]){1}, msg),
                     ONYX_ERR_UNSUPPORTED);
}
END_TEST

/* ------------------------------------------------------------ value-shaped */

START_TEST(upsample_maxunpool)
{
    /* Upsample nearest, X (1,2) = [1,2], scales [2,1.5]: Y (2,3),
     * column j reads X[floor(j / 1.5)] = 0,0,1: [[1,1,2],[1,1,2]] */
    const float x[] = {1, 2}, sc[] = {2, 1.5f};
    onyx_tensor X = T(ONYX_FLOAT, 2, (1, 2), x), S = T(ONYX_FLOAT, 1, (2), sc),
                out[1];
    ck_assert_int_eq(
        kt_run("Upsample", 9, NULL, 0, INS(&X, &S), 2, out, 1, msg), ONYX_OK);
    expect_dims(&out[0], 2, DIMS(2, 3));
    expect_f32(&out[0], (float[]){1, 1, 2, 1, 1, 2}, 6);
    kt_free(out, 1);
    onyx_attr lin[] = {KT_STRING("mode", "linear")};
    ck_assert_int_eq(kt_run("Upsample", 9, lin, 1, INS(&X, &S), 2, out, 1, msg),
                     ONYX_ERR_UNSUPPORTED);
    const float small[] = {1, 0.5f};
    onyx_tensor S2 = T(ONYX_FLOAT, 1, (2), small);
    ck_assert_int_eq(
        kt_run("Upsample", 9, NULL, 0, INS(&X, &S2), 2, out, 1, msg),
        ONYX_ERR_INVALID);

    /* MaxUnpool, X (1,1,1,2) = [7,8], kernel 2, stride 2: Y (1,1,2,4);
     * indices [1, 6] put 7 at (0,1) and 8 at (1,2) */
    const float v[] = {7, 8};
    const int64_t i[] = {1, 6};
    onyx_tensor V = T(ONYX_FLOAT, 4, (1, 1, 1, 2), v),
                I = T(ONYX_INT64, 4, (1, 1, 1, 2), i);
    onyx_attr at[] = {KT_INTS("kernel_shape", 2, ((int64_t[]){2, 2})),
                      KT_INTS("strides", 2, ((int64_t[]){2, 2}))};
    ck_assert_int_eq(
        kt_run("MaxUnpool", 11, at, 2, INS(&V, &I), 2, out, 1, msg), ONYX_OK);
    expect_dims(&out[0], 4, DIMS(1, 1, 2, 4));
    expect_f32(&out[0], (float[]){0, 7, 0, 0, 0, 0, 8, 0}, 8);
    kt_free(out, 1);
    /* output_shape (1,1,3,5): the same coordinates, (0,1) -> 1, (1,2) -> 7 */
    const int64_t os[] = {1, 1, 3, 5};
    onyx_tensor OS = T(ONYX_INT64, 1, (4), os);
    ck_assert_int_eq(
        kt_run("MaxUnpool", 11, at, 2, INS(&V, &I, &OS), 3, out, 1, msg),
        ONYX_OK);
    float want[15] = {0};
    want[1] = 7, want[7] = 8;
    expect_f32(&out[0], want, 15);
    kt_free(out, 1);
    /* index 8 is past the 8 elements */
    const int64_t bad[] = {1, 8};
    onyx_tensor B = T(ONYX_INT64, 4, (1, 1, 1, 2), bad);
    ck_assert_int_eq(
        kt_run("MaxUnpool", 11, at, 2, INS(&V, &B), 2, out, 1, msg),
        ONYX_ERR_RUNTIME);
    kt_free(out, 1);
    ck_assert_int_eq(
        kt_run("MaxUnpool", 11, NULL, 0, INS(&V, &I), 2, out, 1, msg),
        ONYX_ERR_INVALID); /* no kernel_shape */
}
END_TEST

START_TEST(unique)
{
    /* X = [2, 1, 2, 3, 1]: sorted Y [1,2,3], first indices [1,0,3],
     * inverse [1,0,1,2,0], counts [2,2,1] */
    const int64_t x[] = {2, 1, 2, 3, 1};
    onyx_tensor X = T(ONYX_INT64, 1, (5), x), out[4];
    ck_assert_int_eq(kt_run("Unique", 11, NULL, 0, INS(&X), 1, out, 4, msg),
                     ONYX_OK);
    expect_i64(&out[0], (int64_t[]){1, 2, 3}, 3);
    expect_i64(&out[1], (int64_t[]){1, 0, 3}, 3);
    expect_i64(&out[2], (int64_t[]){1, 0, 1, 2, 0}, 5);
    expect_i64(&out[3], (int64_t[]){2, 2, 1}, 3);
    kt_free(out, 4);
    /* not sorted: order of first appearance [2,1,3], indices [0,1,3],
     * inverse [0,1,0,2,1], counts [2,2,1] */
    onyx_attr ns[] = {KT_INT("sorted", 0)};
    ck_assert_int_eq(kt_run("Unique", 11, ns, 1, INS(&X), 1, out, 4, msg),
                     ONYX_OK);
    expect_i64(&out[0], (int64_t[]){2, 1, 3}, 3);
    expect_i64(&out[1], (int64_t[]){0, 1, 3}, 3);
    expect_i64(&out[2], (int64_t[]){0, 1, 0, 2, 1}, 5);
    kt_free(out, 4);
    /* rows of M (3,2) = [[1,0],[0,5],[1,0]] on axis 0: sorted rows
     * [0,5] < [1,0]: Y [[0,5],[1,0]], indices [1,0], inverse [1,0,1],
     * counts [1,2] */
    const float m[] = {1, 0, 0, 5, 1, 0};
    onyx_tensor M = T(ONYX_FLOAT, 2, (3, 2), m);
    onyx_attr ax[] = {KT_INT("axis", 0)};
    ck_assert_int_eq(kt_run("Unique", 11, ax, 1, INS(&M), 1, out, 4, msg),
                     ONYX_OK);
    expect_dims(&out[0], 2, DIMS(2, 2));
    expect_f32(&out[0], (float[]){0, 5, 1, 0}, 4);
    expect_i64(&out[1], (int64_t[]){1, 0}, 2);
    expect_i64(&out[2], (int64_t[]){1, 0, 1}, 3);
    expect_i64(&out[3], (int64_t[]){1, 2}, 2);
    kt_free(out, 4);
    /* errors: axis 2 of a matrix; data unknown when resolving */
    onyx_attr ax2[] = {KT_INT("axis", 2)};
    ck_assert_int_eq(kt_run("Unique", 11, ax2, 1, INS(&M), 1, out, 4, msg),
                     ONYX_ERR_INVALID);
    ck_assert_int_eq(kt_run_ex("Unique", 11, NULL, 0, INS(&X), 1, out, 4, NULL,
                               (int[]){1}, msg),
                     ONYX_ERR_UNSUPPORTED);
}
END_TEST

START_TEST(tfidf)
{
    /* pool: 1-grams {3, 4}, 2-gram (3,4); columns 0, 1, 2.
     * X = [3, 4, 5, 3, 4]: 3 and 4 twice each; adjacent pairs (3,4), (4,5),
     * (5,3), (3,4): (3,4) twice; pairs one apart (max_skip 1) (3,5), (4,3),
     * (5,4): none. TF = [2, 2, 2] */
    const int64_t x[] = {3, 4, 5, 3, 4};
    onyx_tensor X = T(ONYX_INT64, 1, (5), x), out[1];
    const int64_t counts[] = {0, 2}, idx[] = {0, 1, 2}, pool[] = {3, 4, 3, 4};
    const float w[] = {0.5f, 2, 3};
    onyx_attr at[] = {KT_STRING("mode", "TF"),
                      KT_INT("min_gram_length", 1),
                      KT_INT("max_gram_length", 2),
                      KT_INT("max_skip_count", 1),
                      KT_INTS("ngram_counts", 2, counts),
                      KT_INTS("ngram_indexes", 3, idx),
                      KT_INTS("pool_int64s", 4, pool),
                      KT_FLOATS("weights", 3, w)};
    ck_assert_int_eq(
        kt_run("TfIdfVectorizer", 9, at, 8, INS(&X), 1, out, 1, msg), ONYX_OK);
    expect_f32(&out[0], (float[]){2, 2, 2}, 3);
    kt_free(out, 1);
    /* TFIDF: counts times weights [1, 4, 6]; IDF: weights where present */
    at[0] = (onyx_attr)KT_STRING("mode", "TFIDF");
    ck_assert_int_eq(
        kt_run("TfIdfVectorizer", 9, at, 8, INS(&X), 1, out, 1, msg), ONYX_OK);
    expect_f32(&out[0], (float[]){1, 4, 6}, 3);
    kt_free(out, 1);
    at[0] = (onyx_attr)KT_STRING("mode", "IDF");
    ck_assert_int_eq(
        kt_run("TfIdfVectorizer", 9, at, 8, INS(&X), 1, out, 1, msg), ONYX_OK);
    expect_f32(&out[0], (float[]){0.5f, 2, 3}, 3);
    kt_free(out, 1);
    /* errors: bad mode; pool that does not split into the counts */
    at[0] = (onyx_attr)KT_STRING("mode", "BM25");
    ck_assert_int_eq(
        kt_run("TfIdfVectorizer", 9, at, 8, INS(&X), 1, out, 1, msg),
        ONYX_ERR_INVALID);
    at[0] = (onyx_attr)KT_STRING("mode", "TF");
    at[6] = (onyx_attr)KT_INTS("pool_int64s", 3, pool);
    ck_assert_int_eq(
        kt_run("TfIdfVectorizer", 9, at, 8, INS(&X), 1, out, 1, msg),
        ONYX_ERR_INVALID);
}
END_TEST

/* ------------------------------------------------------------ empty */

/* Empty tensors on every path: nothing read out of bounds, zeros where a
 * sum over nothing is asked for. */
START_TEST(empty_tensors)
{
    const float one[] = {1};
    onyx_tensor out[4];
    /* (2,0) @ (0,3): a (2,3) of zeros, by the product path and by the
     * generic one (the transposed output) */
    onyx_tensor A = T(ONYX_FLOAT, 2, (2, 0), one),
                B = T(ONYX_FLOAT, 2, (0, 3), one);
    einsum2("ij,jk->ik", A, B, (float[]){0, 0, 0, 0, 0, 0}, 6);
    einsum2("ij,jk->ki", A, B, (float[]){0, 0, 0, 0, 0, 0}, 6);
    /* TopK with k = 0 */
    const int64_t k0[] = {0};
    onyx_tensor X = T(ONYX_FLOAT, 1, (1), one), K = T(ONYX_INT64, 1, (1), k0);
    ck_assert_int_eq(kt_run("TopK", 11, NULL, 0, INS(&X, &K), 2, out, 2, msg),
                     ONYX_OK);
    expect_dims(&out[0], 1, DIMS(0));
    kt_free(out, 2);
    /* Unique of nothing */
    onyx_tensor E = T(ONYX_FLOAT, 1, (0), one);
    ck_assert_int_eq(kt_run("Unique", 11, NULL, 0, INS(&E), 1, out, 4, msg),
                     ONYX_OK);
    expect_dims(&out[0], 1, DIMS(0));
    kt_free(out, 4);
    /* NonZero of zeros: (1, 0) */
    const float z[] = {0, 0};
    onyx_tensor Z = T(ONYX_FLOAT, 1, (2), z);
    ck_assert_int_eq(kt_run("NonZero", 13, NULL, 0, INS(&Z), 1, out, 1, msg),
                     ONYX_OK);
    expect_dims(&out[0], 2, DIMS(1, 0));
    kt_free(out, 1);
    /* Compress by all false */
    const uint8_t no[] = {0, 0};
    onyx_tensor C = T(ONYX_BOOL, 1, (2), no);
    ck_assert_int_eq(
        kt_run("Compress", 11, NULL, 0, INS(&Z, &C), 2, out, 1, msg), ONYX_OK);
    expect_dims(&out[0], 1, DIMS(0));
    kt_free(out, 1);
    /* GatherND and ScatterND with no index tuples */
    onyx_tensor I = T(ONYX_INT64, 2, (0, 1), k0);
    ck_assert_int_eq(
        kt_run("GatherND", 13, NULL, 0, INS(&Z, &I), 2, out, 1, msg), ONYX_OK);
    expect_dims(&out[0], 1, DIMS(0));
    kt_free(out, 1);
    ck_assert_int_eq(
        kt_run("ScatterND", 16, NULL, 0, INS(&Z, &I, &E), 3, out, 1, msg),
        ONYX_OK);
    expect_f32(&out[0], z, 2);
    kt_free(out, 1);
}
END_TEST

static Suite *indexing_suite(void)
{
    Suite *s = suite_create("indexing");
    TCase *tc = tcase_create("einsum");
    tcase_add_test(tc, einsum_products);
    tcase_add_test(tc, einsum_one_input);
    tcase_add_test(tc, einsum_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("topk");
    tcase_add_test(tc, topk_basic);
    tcase_add_test(tc, topk_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("scatter");
    tcase_add_test(tc, scatter_elements);
    tcase_add_test(tc, scatter_nd);
    tcase_add_test(tc, scatter_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("gather_nd");
    tcase_add_test(tc, gather_nd);
    tcase_add_test(tc, gather_nd_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("reshuffle");
    tcase_add_test(tc, onehot);
    tcase_add_test(tc, depth_space);
    tcase_add_test(tc, eyelike_reverse);
    tcase_add_test(tc, compress_nonzero);
    suite_add_tcase(s, tc);
    tc = tcase_create("value_shaped");
    tcase_add_test(tc, upsample_maxunpool);
    tcase_add_test(tc, unique);
    tcase_add_test(tc, tfidf);
    tcase_add_test(tc, empty_tensors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    Suite *s = indexing_suite();
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int f = srunner_ntests_failed(r);
    srunner_free(r);
    return f ? 1 : 0;
}
