/* test_reduce.c - unit tests of the reductions and their neighbours:
 * Reduce*, ArgMax/ArgMin, Softmax/LogSoftmax, CumSum, Pad, BatchNormalization,
 * InstanceNormalization and LayerNormalization. Every expected number is
 * worked out by hand in the comment beside it. */
#include "ktest.h"

#include <check.h>
#include <math.h>
#include <stdio.h>

#define D(...) ((int64_t[]){__VA_ARGS__})
#define T_F32(rank, dims, ...)                                                 \
    kt_tensor(ONYX_FLOAT, rank, dims, (float[]){__VA_ARGS__})
#define T_I64(rank, dims, ...)                                                 \
    kt_tensor(ONYX_INT64, rank, dims, (int64_t[]){__VA_ARGS__})

static void expect_shape(const onyx_tensor *t, int rank, const int64_t *dims)
{
    ck_assert_int_eq(t->rank, rank);
    for (int i = 0; i < rank; i++)
        ck_assert_int_eq(t->dims[i], dims[i]);
}

static void expect_f32(const onyx_tensor *t, int n, const float *want)
{
    ck_assert_int_eq(t->dtype, ONYX_FLOAT);
    ck_assert_int_eq(onyx_numel(t), n);
    const float *got = t->data;
    for (int i = 0; i < n; i++)
        ck_assert_msg(fabsf(got[i] - want[i]) <= 1e-5f * (1 + fabsf(want[i])),
                      "element %d: got %g, want %g", i, got[i], want[i]);
}

static void expect_i64(const onyx_tensor *t, int n, const int64_t *want)
{
    ck_assert_int_eq(t->dtype, ONYX_INT64);
    ck_assert_int_eq(onyx_numel(t), n);
    const int64_t *got = t->data;
    for (int i = 0; i < n; i++)
        ck_assert_msg(got[i] == want[i], "element %d: got %lld, want %lld", i,
                      (long long)got[i], (long long)want[i]);
}

/* Run an op with one output and expect a failure whose message is not empty. */
static void expect_fail(const char *op, int opset, const onyx_attr *at, int na,
                        onyx_tensor *const *in, int n_in, int n_out)
{
    char msg[256];
    onyx_tensor out[8];
    onyx_status st = kt_run(op, opset, at, na, in, n_in, out, n_out, msg);
    ck_assert_int_ne(st, ONYX_OK);
    ck_assert_msg(msg[0] != 0, "%s: failure without a message", op);
}

/* X (2,3) = [[1,2,3],[4,5,6]] */
#define X23 T_F32(2, D(2, 3), 1, 2, 3, 4, 5, 6)
/* X (2,2,2) = 0..7 */
#define X222 T_F32(3, D(2, 2, 2), 0, 1, 2, 3, 4, 5, 6, 7)

/* ---- Reduce* ----------------------------------------------------------- */

START_TEST(reduce_sum_axis_attr)
{
    /* opset 11, axes=[1]: row sums 1+2+3=6, 4+5+6=15, keepdims -> (2,1) */
    onyx_tensor x = X23, out[1];
    char msg[256];
    onyx_attr at[] = {KT_INTS("axes", 1, D(1))};
    ck_assert_int_eq(
        kt_run("ReduceSum", 11, at, 1, (onyx_tensor *[]){&x}, 1, out, 1, msg),
        ONYX_OK);
    expect_shape(&out[0], 2, D(2, 1));
    expect_f32(&out[0], 2, (float[]){6, 15});
    kt_free(out, 1);
}
END_TEST

START_TEST(reduce_sum_axes_input)
{
    /* opset 13, axes input [0], keepdims=0: column sums 5, 7, 9 */
    onyx_tensor x = X23, ax = T_I64(1, D(1), 0), out[1];
    char msg[256];
    onyx_attr at[] = {KT_INT("keepdims", 0)};
    ck_assert_int_eq(kt_run("ReduceSum", 13, at, 1, (onyx_tensor *[]){&x, &ax},
                            2, out, 1, msg),
                     ONYX_OK);
    expect_shape(&out[0], 1, D(3));
    expect_f32(&out[0], 3, (float[]){5, 7, 9});
    kt_free(out, 1);
}
END_TEST

START_TEST(reduce_sum_default_and_noop)
{
    /* no axes: everything, 1+..+6 = 21, shape (1,1) */
    onyx_tensor x = X23, out[1];
    char msg[256];
    ck_assert_int_eq(kt_run("ReduceSum", 13, NULL, 0,
                            (onyx_tensor *[]){&x, NULL}, 2, out, 1, msg),
                     ONYX_OK);
    expect_shape(&out[0], 2, D(1, 1));
    expect_f32(&out[0], 1, (float[]){21});
    kt_free(out, 1);
    /* empty axes tensor with noop_with_empty_axes=1: Y = X */
    onyx_tensor ax = kt_tensor(ONYX_INT64, 1, D(0), NULL);
    onyx_attr at[] = {KT_INT("noop_with_empty_axes", 1)};
    ck_assert_int_eq(kt_run("ReduceSum", 13, at, 1, (onyx_tensor *[]){&x, &ax},
                            2, out, 1, msg),
                     ONYX_OK);
    expect_shape(&out[0], 2, D(2, 3));
    expect_f32(&out[0], 6, (float[]){1, 2, 3, 4, 5, 6});
    kt_free(out, 1);
}
END_TEST

START_TEST(reduce_mean_middle_axis)
{
    /* X222, axes=[-2] (axis 1), keepdims=0:
     * [[(0+2)/2, (1+3)/2], [(4+6)/2, (5+7)/2]] = [[1,2],[5,6]] */
    onyx_tensor x = X222, out[1];
    char msg[256];
    onyx_attr at[] = {KT_INTS("axes", 1, D(-2)), KT_INT("keepdims", 0)};
    ck_assert_int_eq(
        kt_run("ReduceMean", 13, at, 2, (onyx_tensor *[]){&x}, 1, out, 1, msg),
        ONYX_OK);
    expect_shape(&out[0], 2, D(2, 2));
    expect_f32(&out[0], 4, (float[]){1, 2, 5, 6});
    kt_free(out, 1);
}
END_TEST

START_TEST(reduce_max_min_outer_inner)
{
    /* X222, axes=[0,2]: for axis-1 index 0 the elements are 0,1,4,5 and for
     * index 1 they are 2,3,6,7: max [5,7], min [0,2], shape (1,2,1) */
    onyx_tensor x = X222, out[1];
    char msg[256];
    onyx_attr at[] = {KT_INTS("axes", 2, D(0, 2))};
    ck_assert_int_eq(
        kt_run("ReduceMax", 13, at, 1, (onyx_tensor *[]){&x}, 1, out, 1, msg),
        ONYX_OK);
    expect_shape(&out[0], 3, D(1, 2, 1));
    expect_f32(&out[0], 2, (float[]){5, 7});
    kt_free(out, 1);
    ck_assert_int_eq(
        kt_run("ReduceMin", 13, at, 1, (onyx_tensor *[]){&x}, 1, out, 1, msg),
        ONYX_OK);
    expect_f32(&out[0], 2, (float[]){0, 2});
    kt_free(out, 1);
}
END_TEST

START_TEST(reduce_prod_l2_sumsquare_lse)
{
    onyx_tensor out[1];
    char msg[256];
    /* prod of 1,2,3,4 = 24 */
    onyx_tensor a = T_F32(1, D(4), 1, 2, 3, 4);
    ck_assert_int_eq(kt_run("ReduceProd", 11, NULL, 0, (onyx_tensor *[]){&a}, 1,
                            out, 1, msg),
                     ONYX_OK);
    expect_f32(&out[0], 1, (float[]){24});
    kt_free(out, 1);
    /* L2 of (3,4) = 5 */
    onyx_tensor b = T_F32(1, D(2), 3, 4);
    ck_assert_int_eq(
        kt_run("ReduceL2", 13, NULL, 0, (onyx_tensor *[]){&b}, 1, out, 1, msg),
        ONYX_OK);
    expect_f32(&out[0], 1, (float[]){5});
    kt_free(out, 1);
    /* sum of squares of 1,2,3,4 = 1+4+9+16 = 30 */
    ck_assert_int_eq(kt_run("ReduceSumSquare", 13, NULL, 0,
                            (onyx_tensor *[]){&a}, 1, out, 1, msg),
                     ONYX_OK);
    expect_f32(&out[0], 1, (float[]){30});
    kt_free(out, 1);
    /* log(e^0 + e^ln3) = ln 4; log(2 e^1000) = 1000 + ln 2 (no overflow) */
    onyx_tensor c = T_F32(2, D(2, 2), 0, logf(3), 1000, 1000);
    onyx_attr at[] = {KT_INTS("axes", 1, D(1)), KT_INT("keepdims", 0)};
    ck_assert_int_eq(kt_run("ReduceLogSumExp", 13, at, 2, (onyx_tensor *[]){&c},
                            1, out, 1, msg),
                     ONYX_OK);
    expect_f32(&out[0], 2, (float[]){logf(4), 1000 + logf(2)});
    kt_free(out, 1);
}
END_TEST

START_TEST(reduce_int64)
{
    /* int64 [[1,-2,3],[4,5,-6]]: sums over axis 1 = 2, 3; max over axis 0 =
     * 4, 5, 3; mean over axis 1 = 2/3 -> 0, 3/3 -> 1 (truncated) */
    onyx_tensor x = T_I64(2, D(2, 3), 1, -2, 3, 4, 5, -6), out[1];
    char msg[256];
    onyx_attr a1[] = {KT_INTS("axes", 1, D(1)), KT_INT("keepdims", 0)};
    ck_assert_int_eq(
        kt_run("ReduceSum", 11, a1, 2, (onyx_tensor *[]){&x}, 1, out, 1, msg),
        ONYX_OK);
    expect_i64(&out[0], 2, (int64_t[]){2, 3});
    kt_free(out, 1);
    ck_assert_int_eq(
        kt_run("ReduceMean", 11, a1, 2, (onyx_tensor *[]){&x}, 1, out, 1, msg),
        ONYX_OK);
    expect_i64(&out[0], 2, (int64_t[]){0, 1});
    kt_free(out, 1);
    onyx_attr a0[] = {KT_INTS("axes", 1, D(0)), KT_INT("keepdims", 0)};
    ck_assert_int_eq(
        kt_run("ReduceMax", 11, a0, 2, (onyx_tensor *[]){&x}, 1, out, 1, msg),
        ONYX_OK);
    expect_i64(&out[0], 3, (int64_t[]){4, 5, 3});
    kt_free(out, 1);
}
END_TEST

START_TEST(reduce_errors)
{
    onyx_tensor x = X23;
    onyx_attr bad_axis[] = {KT_INTS("axes", 1, D(2))};
    expect_fail("ReduceMean", 13, bad_axis, 1, (onyx_tensor *[]){&x}, 1, 1);
    onyx_attr dup[] = {KT_INTS("axes", 2, D(1, -1))};
    expect_fail("ReduceMax", 11, dup, 1, (onyx_tensor *[]){&x}, 1, 1);
    onyx_attr keep[] = {KT_INT("keepdims", 2)};
    expect_fail("ReduceMin", 11, keep, 1, (onyx_tensor *[]){&x}, 1, 1);
    /* ReduceSum from 13 takes axes as an input, not an attribute */
    onyx_attr old[] = {KT_INTS("axes", 1, D(0))};
    expect_fail("ReduceSum", 13, old, 1, (onyx_tensor *[]){&x}, 1, 1);
    /* an axes input whose value is unknown at prepare */
    onyx_tensor ax = kt_tensor(ONYX_INT64, 1, D(1), NULL);
    expect_fail("ReduceSum", 13, NULL, 0, (onyx_tensor *[]){&x, &ax}, 2, 1);
    onyx_tensor xi = T_I64(1, D(2), 1, 2);
    expect_fail("ReduceLogSumExp", 13, NULL, 0, (onyx_tensor *[]){&xi}, 1, 1);
}
END_TEST

/* ---- ArgMax / ArgMin --------------------------------------------------- */

START_TEST(argmax_basic)
{
    /* X = [[1,3,3],[5,2,5]] */
    onyx_tensor x = T_F32(2, D(2, 3), 1, 3, 3, 5, 2, 5), out[1];
    char msg[256];
    /* ArgMax along axis 1: row 0 max 3 at 1 (first) or 2 (last); row 1 max 5
     * at 0 (first) or 2 (last) */
    onyx_attr a1[] = {KT_INT("axis", 1)};
    ck_assert_int_eq(
        kt_run("ArgMax", 13, a1, 1, (onyx_tensor *[]){&x}, 1, out, 1, msg),
        ONYX_OK);
    expect_shape(&out[0], 2, D(2, 1));
    expect_i64(&out[0], 2, (int64_t[]){1, 0});
    kt_free(out, 1);
    onyx_attr a2[] = {KT_INT("axis", -1), KT_INT("select_last_index", 1)};
    ck_assert_int_eq(
        kt_run("ArgMax", 12, a2, 2, (onyx_tensor *[]){&x}, 1, out, 1, msg),
        ONYX_OK);
    expect_i64(&out[0], 2, (int64_t[]){2, 2});
    kt_free(out, 1);
    /* ArgMin along axis 0 (default), keepdims=0: columns (1,5) -> 0,
     * (3,2) -> 1, (3,5) -> 0 */
    onyx_attr a3[] = {KT_INT("keepdims", 0)};
    ck_assert_int_eq(
        kt_run("ArgMin", 11, a3, 1, (onyx_tensor *[]){&x}, 1, out, 1, msg),
        ONYX_OK);
    expect_shape(&out[0], 1, D(3));
    expect_i64(&out[0], 3, (int64_t[]){0, 1, 0});
    kt_free(out, 1);
    /* int64 ArgMin, last index: [4,1,1] -> 2 */
    onyx_tensor xi = T_I64(1, D(3), 4, 1, 1);
    onyx_attr a4[] = {KT_INT("select_last_index", 1)};
    ck_assert_int_eq(
        kt_run("ArgMin", 13, a4, 1, (onyx_tensor *[]){&xi}, 1, out, 1, msg),
        ONYX_OK);
    expect_i64(&out[0], 1, (int64_t[]){2});
    kt_free(out, 1);
}
END_TEST

START_TEST(argmax_errors)
{
    onyx_tensor x = X23;
    onyx_attr bad[] = {KT_INT("axis", 2)};
    expect_fail("ArgMax", 13, bad, 1, (onyx_tensor *[]){&x}, 1, 1);
    onyx_attr last[] = {KT_INT("select_last_index", 3)};
    expect_fail("ArgMin", 13, last, 1, (onyx_tensor *[]){&x}, 1, 1);
}
END_TEST

/* ---- Softmax / LogSoftmax ---------------------------------------------- */

START_TEST(softmax_axes)
{
    onyx_tensor out[1];
    char msg[256];
    /* e^0 : e^ln3 = 1 : 3 -> 0.25, 0.75; 1000s: equal halves, no overflow */
    onyx_tensor x = T_F32(2, D(2, 2), 0, logf(3), 1000, 1000);
    ck_assert_int_eq(
        kt_run("Softmax", 13, NULL, 0, (onyx_tensor *[]){&x}, 1, out, 1, msg),
        ONYX_OK);
    expect_f32(&out[0], 4, (float[]){0.25f, 0.75f, 0.5f, 0.5f});
    kt_free(out, 1);
    ck_assert_int_eq(kt_run("LogSoftmax", 13, NULL, 0, (onyx_tensor *[]){&x}, 1,
                            out, 1, msg),
                     ONYX_OK);
    expect_f32(&out[0], 4,
               (float[]){logf(0.25f), logf(0.75f), logf(0.5f), logf(0.5f)});
    kt_free(out, 1);
    /* X (1,2,2) = [[[0,0],[ln3,ln3]]]:
     * opset 13, axis 1: per column 0 vs ln3 -> [[.25,.25],[.75,.75]]
     * opset 11, axis 1: one row of 4, weights 1,1,3,3 / 8 */
    onyx_tensor y = T_F32(3, D(1, 2, 2), 0, 0, logf(3), logf(3));
    onyx_attr a1[] = {KT_INT("axis", 1)};
    ck_assert_int_eq(
        kt_run("Softmax", 13, a1, 1, (onyx_tensor *[]){&y}, 1, out, 1, msg),
        ONYX_OK);
    expect_f32(&out[0], 4, (float[]){0.25f, 0.25f, 0.75f, 0.75f});
    kt_free(out, 1);
    ck_assert_int_eq(
        kt_run("Softmax", 11, a1, 1, (onyx_tensor *[]){&y}, 1, out, 1, msg),
        ONYX_OK);
    expect_f32(&out[0], 4, (float[]){0.125f, 0.125f, 0.375f, 0.375f});
    kt_free(out, 1);
    /* opset 11 default axis is 1 (not -1): on (2,2) same as the last axis */
    ck_assert_int_eq(kt_run("LogSoftmax", 11, NULL, 0, (onyx_tensor *[]){&x}, 1,
                            out, 1, msg),
                     ONYX_OK);
    expect_f32(&out[0], 4,
               (float[]){logf(0.25f), logf(0.75f), logf(0.5f), logf(0.5f)});
    kt_free(out, 1);
}
END_TEST

START_TEST(softmax_errors)
{
    onyx_tensor x = X23;
    onyx_attr bad[] = {KT_INT("axis", 2)};
    expect_fail("Softmax", 13, bad, 1, (onyx_tensor *[]){&x}, 1, 1);
    onyx_tensor xi = T_I64(1, D(2), 1, 2);
    expect_fail("LogSoftmax", 13, NULL, 0, (onyx_tensor *[]){&xi}, 1, 1);
}
END_TEST

/* ---- CumSum ------------------------------------------------------------ */

START_TEST(cumsum_modes)
{
    onyx_tensor x = T_F32(1, D(4), 1, 2, 3, 4), out[1];
    onyx_tensor ax = T_I64(0, NULL, 0);
    char msg[256];
    /* running sums of 1,2,3,4 */
    static const float want[4][4] = {
        {1, 3, 6, 10}, /* inclusive */
        {0, 1, 3, 6},  /* exclusive: the sum before each element */
        {10, 9, 7, 4}, /* reverse: sums from the end */
        {9, 7, 4, 0},  /* exclusive reverse */
    };
    for (int m = 0; m < 4; m++) {
        onyx_attr at[] = {KT_INT("exclusive", m & 1),
                          KT_INT("reverse", m >> 1)};
        ck_assert_int_eq(kt_run("CumSum", 14, at, 2, (onyx_tensor *[]){&x, &ax},
                                2, out, 1, msg),
                         ONYX_OK);
        expect_f32(&out[0], 4, want[m]);
        kt_free(out, 1);
    }
    /* int64 [[1,2],[3,4]] along axis -2: [[1,2],[4,6]]; axis as int32 */
    onyx_tensor xi = T_I64(2, D(2, 2), 1, 2, 3, 4);
    onyx_tensor a32 = kt_tensor(ONYX_INT32, 1, D(1), (int32_t[]){-2});
    ck_assert_int_eq(kt_run("CumSum", 11, NULL, 0, (onyx_tensor *[]){&xi, &a32},
                            2, out, 1, msg),
                     ONYX_OK);
    expect_i64(&out[0], 4, (int64_t[]){1, 2, 4, 6});
    kt_free(out, 1);
}
END_TEST

START_TEST(cumsum_errors)
{
    onyx_tensor x = X23;
    onyx_tensor ax = T_I64(0, NULL, 2);
    expect_fail("CumSum", 14, NULL, 0, (onyx_tensor *[]){&x, &ax}, 2, 1);
    onyx_tensor two = T_I64(1, D(2), 0, 1);
    expect_fail("CumSum", 14, NULL, 0, (onyx_tensor *[]){&x, &two}, 2, 1);
}
END_TEST

/* ---- Pad --------------------------------------------------------------- */

START_TEST(pad_modes)
{
    onyx_tensor out[1];
    char msg[256];
    /* constant 9, pads [1,2]: 9 | 1 2 | 9 9 */
    onyx_tensor a = T_F32(1, D(2), 1, 2);
    onyx_tensor pads = T_I64(1, D(2), 1, 2), v = T_F32(0, NULL, 9);
    ck_assert_int_eq(kt_run("Pad", 11, NULL, 0,
                            (onyx_tensor *[]){&a, &pads, &v}, 3, out, 1, msg),
                     ONYX_OK);
    expect_f32(&out[0], 5, (float[]){9, 1, 2, 9, 9});
    kt_free(out, 1);
    /* reflect [1,2,3] with pads [2,2]: 3 2 | 1 2 3 | 2 1 */
    onyx_tensor b = T_F32(1, D(3), 1, 2, 3);
    onyx_tensor p22 = T_I64(1, D(2), 2, 2);
    onyx_attr refl[] = {KT_STRING("mode", "reflect")};
    ck_assert_int_eq(
        kt_run("Pad", 13, refl, 1, (onyx_tensor *[]){&b, &p22}, 2, out, 1, msg),
        ONYX_OK);
    expect_f32(&out[0], 7, (float[]){3, 2, 1, 2, 3, 2, 1});
    kt_free(out, 1);
    /* edge [1,2,3] with pads [1,2]: 1 | 1 2 3 | 3 3 */
    onyx_attr edge[] = {KT_STRING("mode", "edge")};
    ck_assert_int_eq(kt_run("Pad", 11, edge, 1, (onyx_tensor *[]){&b, &pads}, 2,
                            out, 1, msg),
                     ONYX_OK);
    expect_f32(&out[0], 6, (float[]){1, 1, 2, 3, 3, 3});
    kt_free(out, 1);
    /* opset 2 attributes, 2-D: [[1,2],[3,4]] pads [1,0,0,1] value 0: a row
     * of zeros above, a column of zeros on the right */
    onyx_tensor c = T_F32(2, D(2, 2), 1, 2, 3, 4);
    onyx_attr old[] = {KT_INTS("pads", 4, D(1, 0, 0, 1))};
    ck_assert_int_eq(
        kt_run("Pad", 2, old, 1, (onyx_tensor *[]){&c}, 1, out, 1, msg),
        ONYX_OK);
    expect_shape(&out[0], 2, D(3, 3));
    expect_f32(&out[0], 9, (float[]){0, 0, 0, 1, 2, 0, 3, 4, 0});
    kt_free(out, 1);
    /* negative pads crop: [1,2,3,4] pads [-1,1]: 2 3 4 | 0 */
    onyx_tensor d = T_F32(1, D(4), 1, 2, 3, 4);
    onyx_tensor pc = T_I64(1, D(2), -1, 1);
    ck_assert_int_eq(
        kt_run("Pad", 11, NULL, 0, (onyx_tensor *[]){&d, &pc}, 2, out, 1, msg),
        ONYX_OK);
    expect_f32(&out[0], 4, (float[]){2, 3, 4, 0});
    kt_free(out, 1);
    /* int64 reflect on axis 0 of [[1,2],[3,4],[5,6]] pads [1,0,1,0]:
     * rows 3-4 | 1-2 3-4 5-6 | 3-4 */
    onyx_tensor e = T_I64(2, D(3, 2), 1, 2, 3, 4, 5, 6);
    onyx_tensor p4 = T_I64(1, D(4), 1, 0, 1, 0);
    ck_assert_int_eq(
        kt_run("Pad", 13, refl, 1, (onyx_tensor *[]){&e, &p4}, 2, out, 1, msg),
        ONYX_OK);
    expect_i64(&out[0], 10, (int64_t[]){3, 4, 1, 2, 3, 4, 5, 6, 3, 4});
    kt_free(out, 1);
}
END_TEST

START_TEST(pad_errors)
{
    onyx_tensor a = T_F32(1, D(2), 1, 2);
    onyx_tensor pads = T_I64(1, D(2), 1, 1);
    onyx_attr wrap[] = {KT_STRING("mode", "wrap")};
    expect_fail("Pad", 13, wrap, 1, (onyx_tensor *[]){&a, &pads}, 2, 1);
    onyx_tensor p3 = T_I64(1, D(3), 1, 1, 1);
    expect_fail("Pad", 13, NULL, 0, (onyx_tensor *[]){&a, &p3}, 2, 1);
    onyx_tensor crop = T_I64(1, D(2), -2, -1);
    expect_fail("Pad", 13, NULL, 0, (onyx_tensor *[]){&a, &crop}, 2, 1);
    expect_fail("Pad", 2, NULL, 0, (onyx_tensor *[]){&a}, 1, 1);
}
END_TEST

/* ---- normalisations ---------------------------------------------------- */

START_TEST(batchnorm_inference)
{
    /* X (1,2,1,2): channel 0 = [1,2], channel 1 = [3,4]; scale [1,2],
     * B [0,1], mean [1.5,3.5], var [0.25,0.25], epsilon 0:
     * ch0 (x-1.5)/0.5 = [-1,1]; ch1 2*(x-3.5)/0.5 + 1 = [-1,3] */
    onyx_tensor x = T_F32(4, D(1, 2, 1, 2), 1, 2, 3, 4);
    onyx_tensor s = T_F32(1, D(2), 1, 2), b = T_F32(1, D(2), 0, 1);
    onyx_tensor m = T_F32(1, D(2), 1.5f, 3.5f), v = T_F32(1, D(2), .25f, .25f);
    onyx_tensor out[3];
    char msg[256];
    onyx_attr at[] = {KT_FLOAT("epsilon", 0)};
    onyx_tensor *in[] = {&x, &s, &b, &m, &v};
    ck_assert_int_eq(kt_run("BatchNormalization", 9, at, 1, in, 5, out, 1, msg),
                     ONYX_OK);
    expect_f32(&out[0], 4, (float[]){-1, 1, -1, 3});
    kt_free(out, 1);
    /* opset 15, outputs 1 and 2 unused: inference */
    ck_assert_int_eq(kt_run_ex("BatchNormalization", 15, at, 1, in, 5, out, 3,
                               (int[]){1, 0, 0}, NULL, msg),
                     ONYX_OK);
    expect_f32(&out[0], 4, (float[]){-1, 1, -1, 3});
    kt_free(out, 3);
}
END_TEST

START_TEST(batchnorm_training)
{
    /* X (2,1) = [1,3]: batch mean 2, population variance 1, epsilon 0 ->
     * Y = [-1,1]; running mean 0*0.9 + 2*0.1 = 0.2, running var
     * 1*0.9 + 1*0.1 = 1 */
    onyx_tensor x = T_F32(2, D(2, 1), 1, 3);
    onyx_tensor s = T_F32(1, D(1), 1), b = T_F32(1, D(1), 0);
    onyx_tensor m = T_F32(1, D(1), 0), v = T_F32(1, D(1), 1);
    onyx_tensor out[3];
    char msg[256];
    onyx_attr at[] = {KT_FLOAT("epsilon", 0), KT_INT("training_mode", 1)};
    onyx_tensor *in[] = {&x, &s, &b, &m, &v};
    ck_assert_int_eq(
        kt_run("BatchNormalization", 15, at, 2, in, 5, out, 3, msg), ONYX_OK);
    expect_f32(&out[0], 2, (float[]){-1, 1});
    expect_f32(&out[1], 1, (float[]){0.2f});
    expect_f32(&out[2], 1, (float[]){1});
    kt_free(out, 3);
}
END_TEST

START_TEST(batchnorm_errors)
{
    onyx_tensor x = T_F32(3, D(1, 2, 2), 1, 2, 3, 4);
    onyx_tensor s3 = T_F32(1, D(3), 1, 1, 1), s = T_F32(1, D(2), 1, 1);
    onyx_tensor z = T_F32(1, D(2), 0, 0);
    /* scale of 3 elements for 2 channels */
    expect_fail("BatchNormalization", 9, NULL, 0,
                (onyx_tensor *[]){&x, &s3, &z, &z, &s}, 5, 1);
    /* opset 9 with the training outputs used */
    expect_fail("BatchNormalization", 9, NULL, 0,
                (onyx_tensor *[]){&x, &s, &z, &z, &s}, 5, 5);
    /* opset 15 inference with running_mean requested */
    expect_fail("BatchNormalization", 15, NULL, 0,
                (onyx_tensor *[]){&x, &s, &z, &z, &s}, 5, 3);
    /* missing var */
    expect_fail("BatchNormalization", 15, NULL, 0,
                (onyx_tensor *[]){&x, &s, &z, &z, NULL}, 5, 1);
}
END_TEST

START_TEST(instancenorm_basic)
{
    /* X (1,1,4) = [1,2,3,4]: mean 2.5, variance (2.25+.25+.25+2.25)/4 =
     * 1.25; scale 2, B 1, epsilon 0: y = 2*(x-2.5)/sqrt(1.25) + 1 */
    onyx_tensor x = T_F32(3, D(1, 1, 4), 1, 2, 3, 4);
    onyx_tensor s = T_F32(1, D(1), 2), b = T_F32(1, D(1), 1), out[1];
    char msg[256];
    onyx_attr at[] = {KT_FLOAT("epsilon", 0)};
    ck_assert_int_eq(kt_run("InstanceNormalization", 6, at, 1,
                            (onyx_tensor *[]){&x, &s, &b}, 3, out, 1, msg),
                     ONYX_OK);
    float r = 2 / sqrtf(1.25f);
    expect_f32(
        &out[0], 4,
        (float[]){-1.5f * r + 1, -.5f * r + 1, .5f * r + 1, 1.5f * r + 1});
    kt_free(out, 1);
    onyx_tensor s2 = T_F32(1, D(2), 1, 1);
    expect_fail("InstanceNormalization", 6, NULL, 0,
                (onyx_tensor *[]){&x, &s2, &b}, 3, 1);
}
END_TEST

START_TEST(layernorm_basic)
{
    /* X (2,2) = [[1,3],[0,4]], axis -1, epsilon 0: row 0 mean 2, var 1;
     * row 1 mean 2, var 4 -> normalised [-1,1] for both rows;
     * Scale [2,3], B [1,0] -> [-1,3] twice; Mean [[2],[2]];
     * InvStdDev [[1],[0.5]] */
    onyx_tensor x = T_F32(2, D(2, 2), 1, 3, 0, 4);
    onyx_tensor s = T_F32(1, D(2), 2, 3), b = T_F32(1, D(2), 1, 0);
    onyx_tensor out[3];
    char msg[256];
    onyx_attr at[] = {KT_FLOAT("epsilon", 0)};
    ck_assert_int_eq(kt_run("LayerNormalization", 17, at, 1,
                            (onyx_tensor *[]){&x, &s, &b}, 3, out, 3, msg),
                     ONYX_OK);
    expect_f32(&out[0], 4, (float[]){-1, 3, -1, 3});
    expect_shape(&out[1], 2, D(2, 1));
    expect_f32(&out[1], 2, (float[]){2, 2});
    expect_f32(&out[2], 2, (float[]){1, 0.5f});
    kt_free(out, 3);
    /* axis 0: all four values, mean 2, var (1+1+4+4)/4 = 2.5; Scale (2,)
     * broadcast over rows, no B: y = (x-2)/sqrt(2.5) * [2,3] */
    onyx_attr a0[] = {KT_FLOAT("epsilon", 0), KT_INT("axis", 0)};
    ck_assert_int_eq(kt_run_ex("LayerNormalization", 17, a0, 2,
                               (onyx_tensor *[]){&x, &s}, 2, out, 3,
                               (int[]){1, 0, 0}, NULL, msg),
                     ONYX_OK);
    float r = 1 / sqrtf(2.5f);
    expect_f32(&out[0], 4, (float[]){-2 * r, 3 * r, -4 * r, 6 * r});
    kt_free(out, 3);
}
END_TEST

START_TEST(layernorm_errors)
{
    onyx_tensor x = T_F32(2, D(2, 2), 1, 3, 0, 4);
    onyx_tensor s3 = T_F32(1, D(3), 1, 1, 1);
    expect_fail("LayerNormalization", 17, NULL, 0, (onyx_tensor *[]){&x, &s3},
                2, 1);
    onyx_tensor s = T_F32(1, D(2), 1, 1);
    onyx_attr ax[] = {KT_INT("axis", 2)};
    expect_fail("LayerNormalization", 17, ax, 1, (onyx_tensor *[]){&x, &s}, 2,
                1);
    onyx_attr st[] = {KT_INT("stash_type", 11)};
    expect_fail("LayerNormalization", 17, st, 1, (onyx_tensor *[]){&x, &s}, 2,
                1);
}
END_TEST

static Suite *reduce_suite(void)
{
    Suite *s = suite_create("reduce");
    TCase *tc = tcase_create("reduce");
    tcase_add_test(tc, reduce_sum_axis_attr);
    tcase_add_test(tc, reduce_sum_axes_input);
    tcase_add_test(tc, reduce_sum_default_and_noop);
    tcase_add_test(tc, reduce_mean_middle_axis);
    tcase_add_test(tc, reduce_max_min_outer_inner);
    tcase_add_test(tc, reduce_prod_l2_sumsquare_lse);
    tcase_add_test(tc, reduce_int64);
    tcase_add_test(tc, reduce_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("argmax");
    tcase_add_test(tc, argmax_basic);
    tcase_add_test(tc, argmax_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("softmax");
    tcase_add_test(tc, softmax_axes);
    tcase_add_test(tc, softmax_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("cumsum");
    tcase_add_test(tc, cumsum_modes);
    tcase_add_test(tc, cumsum_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("pad");
    tcase_add_test(tc, pad_modes);
    tcase_add_test(tc, pad_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("norm");
    tcase_add_test(tc, batchnorm_inference);
    tcase_add_test(tc, batchnorm_training);
    tcase_add_test(tc, batchnorm_errors);
    tcase_add_test(tc, instancenorm_basic);
    tcase_add_test(tc, layernorm_basic);
    tcase_add_test(tc, layernorm_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    Suite *s = reduce_suite();
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int f = srunner_ntests_failed(r);
    srunner_free(r);
    return f ? 1 : 0;
}
