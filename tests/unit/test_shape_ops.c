/* test_shape_ops.c - the shape and data-movement kernels on small hand-made
 * tensors: Reshape Flatten Squeeze Unsqueeze Shape Size Transpose Concat
 * Split Slice Gather GatherElements Expand Tile Constant ConstantOfShape
 * Range Trilu. Expected values are worked out by hand in the comments. */
#include "ktest.h"

#include <check.h>
#include <stdint.h>
#include <string.h>

#define DIMS(...) ((const int64_t[]){__VA_ARGS__})
#define INS(...)  ((onyx_tensor *[]){__VA_ARGS__})

static char msg[256];

static void assert_dims(const onyx_tensor *t, int rank, const int64_t *dims)
{
    ck_assert_int_eq(t->rank, rank);
    for (int i = 0; i < rank; i++)
        ck_assert_int_eq(t->dims[i], dims[i]);
}

static void assert_floats(const onyx_tensor *t, const float *v, int n)
{
    ck_assert_int_eq(onyx_numel(t), n);
    for (int i = 0; i < n; i++)
        ck_assert_msg(((const float *)t->data)[i] == v[i],
                      "element %d is %g, expected %g", i,
                      ((const float *)t->data)[i], v[i]);
}

static void assert_ints(const onyx_tensor *t, const int64_t *v, int n)
{
    ck_assert_int_eq(onyx_numel(t), n);
    for (int i = 0; i < n; i++)
        ck_assert_msg(((const int64_t *)t->data)[i] == v[i],
                      "element %d is %lld, expected %lld", i,
                      (long long)((const int64_t *)t->data)[i],
                      (long long)v[i]);
}

/* an error with a message that contains `word` */
static void assert_fails(onyx_status st, onyx_status want, const char *word)
{
    ck_assert_int_eq(st, want);
    ck_assert_msg(strstr(msg, word) != NULL, "message '%s' lacks '%s'", msg,
                  word);
}

/* 0, 1, 2, ... n-1 as floats */
static float seq[256];
static void fill_seq(void)
{
    for (int i = 0; i < 256; i++)
        seq[i] = (float)i;
}

/* ---- Reshape, Flatten, Squeeze, Unsqueeze, Shape, Size ------------------ */

START_TEST(reshape_zero_and_minus_one)
{
    /* [2,3,4] with shape [0,-1]: 0 copies dim 0 (2), -1 is 24/2 = 12 */
    onyx_tensor x = kt_tensor(ONYX_FLOAT, 3, DIMS(2, 3, 4), seq);
    int64_t s[] = {0, -1};
    onyx_tensor sh = kt_tensor(ONYX_INT64, 1, DIMS(2), s);
    onyx_tensor out[1];
    ck_assert_int_eq(
        kt_run("Reshape", 13, NULL, 0, INS(&x, &sh), 2, out, 1, msg), ONYX_OK);
    assert_dims(&out[0], 2, DIMS(2, 12));
    assert_floats(&out[0], seq, 24);
    kt_free(out, 1);
}
END_TEST

START_TEST(reshape_allowzero)
{
    /* opset 14, allowzero=1: a 0 in shape is a real 0, so an empty [0,3]
     * becomes [3,0]; without allowzero the 0 would copy dim 0 */
    float dummy[1];
    onyx_tensor x = kt_tensor(ONYX_FLOAT, 2, DIMS(0, 3), dummy);
    int64_t s[] = {3, 0};
    onyx_tensor sh = kt_tensor(ONYX_INT64, 1, DIMS(2), s);
    onyx_attr at[] = {KT_INT("allowzero", 1)};
    onyx_tensor out[1];
    ck_assert_int_eq(kt_run("Reshape", 14, at, 1, INS(&x, &sh), 2, out, 1, msg),
                     ONYX_OK);
    assert_dims(&out[0], 2, DIMS(3, 0));
    kt_free(out, 1);
    /* 0 and -1 together with allowzero is refused */
    int64_t s2[] = {0, -1};
    sh = kt_tensor(ONYX_INT64, 1, DIMS(2), s2);
    assert_fails(kt_run("Reshape", 14, at, 1, INS(&x, &sh), 2, out, 1, msg),
                 ONYX_ERR_INVALID, "allowzero");
}
END_TEST

START_TEST(reshape_errors)
{
    /* 6 elements cannot become 4; two -1; a shape that is not constant */
    onyx_tensor x = kt_tensor(ONYX_FLOAT, 2, DIMS(2, 3), seq);
    int64_t s[] = {4};
    onyx_tensor sh = kt_tensor(ONYX_INT64, 1, DIMS(1), s);
    onyx_tensor out[1];
    assert_fails(kt_run("Reshape", 13, NULL, 0, INS(&x, &sh), 2, out, 1, msg),
                 ONYX_ERR_INVALID, "6 elements");
    int64_t s2[] = {-1, -1};
    sh = kt_tensor(ONYX_INT64, 1, DIMS(2), s2);
    assert_fails(kt_run("Reshape", 13, NULL, 0, INS(&x, &sh), 2, out, 1, msg),
                 ONYX_ERR_INVALID, "-1");
    sh = kt_tensor(ONYX_INT64, 1, DIMS(2), NULL);
    assert_fails(kt_run("Reshape", 13, NULL, 0, INS(&x, &sh), 2, out, 1, msg),
                 ONYX_ERR_UNSUPPORTED, "constant");
    /* float16 data is refused by name */
    onyx_tensor h = kt_tensor(ONYX_FLOAT16, 1, DIMS(4), seq);
    sh = kt_tensor(ONYX_INT64, 1, DIMS(1), s);
    assert_fails(kt_run("Reshape", 13, NULL, 0, INS(&h, &sh), 2, out, 1, msg),
                 ONYX_ERR_UNSUPPORTED, "float16");
}
END_TEST

START_TEST(flatten_axes)
{
    /* [2,3,4]: axis 0 -> [1,24], default 1 -> [2,12], -1 -> [6,4],
     * 3 (= rank) -> [24,1]; 4 is out of range */
    onyx_tensor x = kt_tensor(ONYX_FLOAT, 3, DIMS(2, 3, 4), seq);
    onyx_tensor out[1];
    struct {
        int64_t axis, d0, d1;
    } cases[] = {{0, 1, 24}, {1, 2, 12}, {-1, 6, 4}, {3, 24, 1}};
    for (int c = 0; c < 4; c++) {
        onyx_attr at[] = {KT_INT("axis", cases[c].axis)};
        ck_assert_int_eq(kt_run("Flatten", 13, at, 1, INS(&x), 1, out, 1, msg),
                         ONYX_OK);
        assert_dims(&out[0], 2, DIMS(cases[c].d0, cases[c].d1));
        assert_floats(&out[0], seq, 24);
        kt_free(out, 1);
    }
    onyx_attr bad[] = {KT_INT("axis", 4)};
    assert_fails(kt_run("Flatten", 13, bad, 1, INS(&x), 1, out, 1, msg),
                 ONYX_ERR_INVALID, "axis 4");
}
END_TEST

START_TEST(squeeze_variants)
{
    onyx_tensor x = kt_tensor(ONYX_FLOAT, 4, DIMS(1, 3, 1, 2), seq);
    onyx_tensor out[1];
    /* opset 11: axes attribute [-2] drops dim 2 -> [1,3,2] */
    int64_t ax[] = {-2};
    onyx_attr at[] = {KT_INTS("axes", 1, ax)};
    ck_assert_int_eq(kt_run("Squeeze", 11, at, 1, INS(&x), 1, out, 1, msg),
                     ONYX_OK);
    assert_dims(&out[0], 3, DIMS(1, 3, 2));
    assert_floats(&out[0], seq, 6);
    kt_free(out, 1);
    /* opset 13: axes input [0] -> [3,1,2] */
    int64_t a0[] = {0};
    onyx_tensor axes = kt_tensor(ONYX_INT64, 1, DIMS(1), a0);
    ck_assert_int_eq(
        kt_run("Squeeze", 13, NULL, 0, INS(&x, &axes), 2, out, 1, msg),
        ONYX_OK);
    assert_dims(&out[0], 3, DIMS(3, 1, 2));
    kt_free(out, 1);
    /* no axes: every 1 goes -> [3,2] */
    ck_assert_int_eq(
        kt_run("Squeeze", 13, NULL, 0, INS(&x, NULL), 2, out, 1, msg), ONYX_OK);
    assert_dims(&out[0], 2, DIMS(3, 2));
    kt_free(out, 1);
    /* dim 1 has length 3: refused */
    int64_t a1[] = {1};
    axes = kt_tensor(ONYX_INT64, 1, DIMS(1), a1);
    assert_fails(kt_run("Squeeze", 13, NULL, 0, INS(&x, &axes), 2, out, 1, msg),
                 ONYX_ERR_INVALID, "length 3");
}
END_TEST

START_TEST(unsqueeze_variants)
{
    onyx_tensor x = kt_tensor(ONYX_FLOAT, 2, DIMS(2, 3), seq);
    onyx_tensor out[1];
    /* opset 11 attribute [0,3]: output rank 4, ones at 0 and 3 -> [1,2,3,1] */
    int64_t ax[] = {3, 0};
    onyx_attr at[] = {KT_INTS("axes", 2, ax)};
    ck_assert_int_eq(kt_run("Unsqueeze", 11, at, 1, INS(&x), 1, out, 1, msg),
                     ONYX_OK);
    assert_dims(&out[0], 4, DIMS(1, 2, 3, 1));
    assert_floats(&out[0], seq, 6);
    kt_free(out, 1);
    /* opset 13 input [-1]: -1 of rank 3 is 2 -> [2,3,1] */
    int64_t am[] = {-1};
    onyx_tensor axes = kt_tensor(ONYX_INT64, 1, DIMS(1), am);
    ck_assert_int_eq(
        kt_run("Unsqueeze", 13, NULL, 0, INS(&x, &axes), 2, out, 1, msg),
        ONYX_OK);
    assert_dims(&out[0], 3, DIMS(2, 3, 1));
    kt_free(out, 1);
    /* duplicates and a missing axes input are refused */
    int64_t dup[] = {1, -3};
    axes = kt_tensor(ONYX_INT64, 1, DIMS(2), dup);
    assert_fails(
        kt_run("Unsqueeze", 13, NULL, 0, INS(&x, &axes), 2, out, 1, msg),
        ONYX_ERR_INVALID, "twice");
    assert_fails(
        kt_run("Unsqueeze", 13, NULL, 0, INS(&x, NULL), 2, out, 1, msg),
        ONYX_ERR_INVALID, "required");
}
END_TEST

START_TEST(shape_and_size)
{
    onyx_tensor x = kt_tensor(ONYX_FLOAT, 4, DIMS(2, 3, 4, 5), NULL);
    onyx_tensor out[1];
    ck_assert_int_eq(kt_run("Shape", 13, NULL, 0, INS(&x), 1, out, 1, msg),
                     ONYX_OK);
    assert_dims(&out[0], 1, DIMS(4));
    assert_ints(&out[0], DIMS(2, 3, 4, 5), 4);
    kt_free(out, 1);
    /* opset 15, start=1 end=-1: dims 1..2 -> [3,4] */
    onyx_attr at[] = {KT_INT("start", 1), KT_INT("end", -1)};
    ck_assert_int_eq(kt_run("Shape", 15, at, 2, INS(&x), 1, out, 1, msg),
                     ONYX_OK);
    assert_ints(&out[0], DIMS(3, 4), 2);
    kt_free(out, 1);
    /* start=-10 clamps to 0, end=10 clamps to 4 */
    onyx_attr clip[] = {KT_INT("start", -10), KT_INT("end", 10)};
    ck_assert_int_eq(kt_run("Shape", 15, clip, 2, INS(&x), 1, out, 1, msg),
                     ONYX_OK);
    assert_ints(&out[0], DIMS(2, 3, 4, 5), 4);
    kt_free(out, 1);
    /* Size: 2*3*4*5 = 120, a scalar */
    ck_assert_int_eq(kt_run("Size", 13, NULL, 0, INS(&x), 1, out, 1, msg),
                     ONYX_OK);
    ck_assert_int_eq(out[0].rank, 0);
    assert_ints(&out[0], DIMS(120), 1);
    kt_free(out, 1);
}
END_TEST

/* ---- Transpose ------------------------------------------------------------
 */

START_TEST(transpose_default_and_perm)
{
    /* default reverses: [[0,1,2],[3,4,5]] -> [[0,3],[1,4],[2,5]] */
    onyx_tensor x = kt_tensor(ONYX_FLOAT, 2, DIMS(2, 3), seq);
    onyx_tensor out[1];
    ck_assert_int_eq(kt_run("Transpose", 13, NULL, 0, INS(&x), 1, out, 1, msg),
                     ONYX_OK);
    assert_dims(&out[0], 2, DIMS(3, 2));
    assert_floats(&out[0], (const float[]){0, 3, 1, 4, 2, 5}, 6);
    kt_free(out, 1);
    /* [2,3,4] with perm [1,2,0] -> [3,4,2]; Y[j][k][i] = X[i][j][k] =
     * 12i + 4j + k, so Y[0][0] = {0,12}, Y[0][1] = {1,13}, Y[2][3] = {11,23} */
    onyx_tensor x3 = kt_tensor(ONYX_FLOAT, 3, DIMS(2, 3, 4), seq);
    int64_t perm[] = {1, 2, 0};
    onyx_attr at[] = {KT_INTS("perm", 3, perm)};
    ck_assert_int_eq(kt_run("Transpose", 13, at, 1, INS(&x3), 1, out, 1, msg),
                     ONYX_OK);
    assert_dims(&out[0], 3, DIMS(3, 4, 2));
    const float *y = out[0].data;
    ck_assert(y[0] == 0 && y[1] == 12 && y[2] == 1 && y[3] == 13);
    ck_assert(y[22] == 11 && y[23] == 23);
    kt_free(out, 1);
}
END_TEST

START_TEST(transpose_large_and_types)
{
    /* a 37x53 int64 matrix (tiled path) and a bool one: Y[j][i] = X[i][j] */
    static int64_t xi[37 * 53];
    static uint8_t xb[37 * 53];
    for (int i = 0; i < 37 * 53; i++) {
        xi[i] = i;
        xb[i] = (uint8_t)(i % 3 == 0);
    }
    onyx_tensor x = kt_tensor(ONYX_INT64, 2, DIMS(37, 53), xi);
    onyx_tensor out[1];
    ck_assert_int_eq(kt_run("Transpose", 13, NULL, 0, INS(&x), 1, out, 1, msg),
                     ONYX_OK);
    const int64_t *y = out[0].data;
    for (int j = 0; j < 53; j++)
        for (int i = 0; i < 37; i++)
            ck_assert_int_eq(y[j * 37 + i], i * 53 + j);
    kt_free(out, 1);
    onyx_tensor b = kt_tensor(ONYX_BOOL, 2, DIMS(37, 53), xb);
    ck_assert_int_eq(kt_run("Transpose", 13, NULL, 0, INS(&b), 1, out, 1, msg),
                     ONYX_OK);
    ck_assert_int_eq(out[0].dtype, ONYX_BOOL);
    const uint8_t *yb = out[0].data;
    for (int j = 0; j < 53; j++)
        for (int i = 0; i < 37; i++)
            ck_assert_int_eq(yb[j * 37 + i], (i * 53 + j) % 3 == 0);
    kt_free(out, 1);
}
END_TEST

START_TEST(transpose_bad_perm)
{
    onyx_tensor x = kt_tensor(ONYX_FLOAT, 3, DIMS(2, 3, 4), seq);
    onyx_tensor out[1];
    int64_t p1[] = {0, 0, 1};
    onyx_attr at[] = {KT_INTS("perm", 3, p1)};
    assert_fails(kt_run("Transpose", 13, at, 1, INS(&x), 1, out, 1, msg),
                 ONYX_ERR_INVALID, "permutation");
    int64_t p2[] = {1, 0};
    onyx_attr at2[] = {KT_INTS("perm", 2, p2)};
    assert_fails(kt_run("Transpose", 13, at2, 1, INS(&x), 1, out, 1, msg),
                 ONYX_ERR_INVALID, "2 entries");
}
END_TEST

/* ---- Concat, Split --------------------------------------------------------
 */

START_TEST(concat_axis)
{
    /* [[0],[1]] ++ [[10,11],[12,13]] along 1 -> [[0,10,11],[1,12,13]] */
    float a[] = {0, 1}, b[] = {10, 11, 12, 13};
    onyx_tensor ta = kt_tensor(ONYX_FLOAT, 2, DIMS(2, 1), a);
    onyx_tensor tb = kt_tensor(ONYX_FLOAT, 2, DIMS(2, 2), b);
    onyx_tensor out[1];
    onyx_attr at[] = {KT_INT("axis", -1)};
    ck_assert_int_eq(kt_run("Concat", 13, at, 1, INS(&ta, &tb), 2, out, 1, msg),
                     ONYX_OK);
    assert_dims(&out[0], 2, DIMS(2, 3));
    assert_floats(&out[0], (const float[]){0, 10, 11, 1, 12, 13}, 6);
    kt_free(out, 1);
    /* along 0 they do not fit (1 vs 2 columns); no axis is an error too */
    onyx_attr a0[] = {KT_INT("axis", 0)};
    assert_fails(kt_run("Concat", 13, a0, 1, INS(&ta, &tb), 2, out, 1, msg),
                 ONYX_ERR_INVALID, "does not match");
    assert_fails(kt_run("Concat", 13, NULL, 0, INS(&ta, &tb), 2, out, 1, msg),
                 ONYX_ERR_INVALID, "axis");
    /* int64 with an empty part: [5] ++ [] ++ [6,7] -> [5,6,7] */
    int64_t i1[] = {5}, i3[] = {6, 7};
    onyx_tensor t1 = kt_tensor(ONYX_INT64, 1, DIMS(1), i1);
    onyx_tensor t2 = kt_tensor(ONYX_INT64, 1, DIMS(0), NULL);
    onyx_tensor t3 = kt_tensor(ONYX_INT64, 1, DIMS(2), i3);
    ck_assert_int_eq(
        kt_run("Concat", 13, a0, 1, INS(&t1, &t2, &t3), 3, out, 1, msg),
        ONYX_OK);
    assert_ints(&out[0], DIMS(5, 6, 7), 3);
    kt_free(out, 1);
}
END_TEST

START_TEST(split_variants)
{
    /* [2,6] rows 0..5 and 6..11 */
    onyx_tensor x = kt_tensor(ONYX_FLOAT, 2, DIMS(2, 6), seq);
    onyx_tensor out[4];
    /* equal parts along 1: [[0,1],[6,7]], [[2,3],[8,9]], [[4,5],[10,11]] */
    onyx_attr a1[] = {KT_INT("axis", 1)};
    ck_assert_int_eq(kt_run("Split", 13, a1, 1, INS(&x), 1, out, 3, msg),
                     ONYX_OK);
    assert_dims(&out[1], 2, DIMS(2, 2));
    assert_floats(&out[0], (const float[]){0, 1, 6, 7}, 4);
    assert_floats(&out[2], (const float[]){4, 5, 10, 11}, 4);
    kt_free(out, 3);
    /* opset 11 attribute split [1,5]: [[0],[6]] and [[1..5],[7..11]] */
    int64_t sp[] = {1, 5};
    onyx_attr a2[] = {KT_INT("axis", -1), KT_INTS("split", 2, sp)};
    ck_assert_int_eq(kt_run("Split", 11, a2, 2, INS(&x), 1, out, 2, msg),
                     ONYX_OK);
    assert_floats(&out[0], (const float[]){0, 6}, 2);
    assert_floats(&out[1], (const float[]){1, 2, 3, 4, 5, 7, 8, 9, 10, 11}, 10);
    kt_free(out, 2);
    /* opset 13 input split [4,0,2], second output unused */
    int64_t s3[] = {4, 0, 2};
    onyx_tensor st = kt_tensor(ONYX_INT64, 1, DIMS(3), s3);
    int used[] = {1, 0, 1};
    ck_assert_int_eq(
        kt_run_ex("Split", 13, a1, 1, INS(&x, &st), 2, out, 3, used, NULL, msg),
        ONYX_OK);
    assert_floats(&out[0], (const float[]){0, 1, 2, 3, 6, 7, 8, 9}, 8);
    assert_floats(&out[2], (const float[]){4, 5, 10, 11}, 4);
    kt_free(out, 3);
    /* 6 does not split in 4; [1,2] does not sum to 6 */
    assert_fails(kt_run("Split", 13, a1, 1, INS(&x), 1, out, 4, msg),
                 ONYX_ERR_INVALID, "equal");
    int64_t bad[] = {1, 2};
    st = kt_tensor(ONYX_INT64, 1, DIMS(2), bad);
    assert_fails(kt_run("Split", 13, a1, 1, INS(&x, &st), 2, out, 2, msg),
                 ONYX_ERR_INVALID, "sums to 3");
}
END_TEST

/* ---- Slice -----------------------------------------------------------------
 */

START_TEST(slice_opset9_attributes)
{
    /* [3,4] = 0..11; starts [1,0] ends [3,-1] -> rows 1..2, cols 0..2:
     * [[4,5,6],[8,9,10]] */
    onyx_tensor x = kt_tensor(ONYX_FLOAT, 2, DIMS(3, 4), seq);
    int64_t s[] = {1, 0}, e[] = {3, -1};
    onyx_attr at[] = {KT_INTS("starts", 2, s), KT_INTS("ends", 2, e)};
    onyx_tensor out[1];
    ck_assert_int_eq(kt_run("Slice", 9, at, 2, INS(&x), 1, out, 1, msg),
                     ONYX_OK);
    assert_dims(&out[0], 2, DIMS(2, 3));
    assert_floats(&out[0], (const float[]){4, 5, 6, 8, 9, 10}, 6);
    kt_free(out, 1);
}
END_TEST

START_TEST(slice_steps_and_clamping)
{
    onyx_tensor x = kt_tensor(ONYX_FLOAT, 2, DIMS(3, 4), seq);
    onyx_tensor out[1];
    /* axis 1 from -1 to "before 0" (INT64_MIN) with step -2: cols 3, 1;
     * axis 0 from -100 (clamped to 0) to 100 (clamped to 3) step 2: rows 0, 2
     * -> [[3,1],[11,9]] */
    int64_t s[] = {-1, -100}, e[] = {INT64_MIN, 100}, a[] = {-1, 0},
            st[] = {-2, 2};
    onyx_tensor ts = kt_tensor(ONYX_INT64, 1, DIMS(2), s);
    onyx_tensor te = kt_tensor(ONYX_INT64, 1, DIMS(2), e);
    onyx_tensor ta = kt_tensor(ONYX_INT64, 1, DIMS(2), a);
    onyx_tensor tst = kt_tensor(ONYX_INT64, 1, DIMS(2), st);
    ck_assert_int_eq(kt_run("Slice", 13, NULL, 0, INS(&x, &ts, &te, &ta, &tst),
                            5, out, 1, msg),
                     ONYX_OK);
    assert_dims(&out[0], 2, DIMS(2, 2));
    assert_floats(&out[0], (const float[]){3, 1, 11, 9}, 4);
    kt_free(out, 1);
    /* start past the end: an empty axis, [3,0] */
    int64_t s2[] = {10}, e2[] = {20}, a2[] = {1};
    ts = kt_tensor(ONYX_INT64, 1, DIMS(1), s2);
    te = kt_tensor(ONYX_INT64, 1, DIMS(1), e2);
    ta = kt_tensor(ONYX_INT64, 1, DIMS(1), a2);
    ck_assert_int_eq(kt_run("Slice", 13, NULL, 0, INS(&x, &ts, &te, &ta, NULL),
                            5, out, 1, msg),
                     ONYX_OK);
    assert_dims(&out[0], 2, DIMS(3, 0));
    kt_free(out, 1);
    /* step 0 and a repeated axis are refused */
    int64_t z[] = {0};
    tst = kt_tensor(ONYX_INT64, 1, DIMS(1), z);
    assert_fails(kt_run("Slice", 13, NULL, 0, INS(&x, &ts, &te, &ta, &tst), 5,
                        out, 1, msg),
                 ONYX_ERR_INVALID, "steps[0]");
    int64_t s3[] = {0, 0}, e3[] = {1, 1}, a3[] = {0, -2};
    ts = kt_tensor(ONYX_INT64, 1, DIMS(2), s3);
    te = kt_tensor(ONYX_INT64, 1, DIMS(2), e3);
    ta = kt_tensor(ONYX_INT64, 1, DIMS(2), a3);
    assert_fails(kt_run("Slice", 13, NULL, 0, INS(&x, &ts, &te, &ta, NULL), 5,
                        out, 1, msg),
                 ONYX_ERR_INVALID, "twice");
}
END_TEST

/* ---- Gather, GatherElements ------------------------------------------------
 */

START_TEST(gather_axes_and_indices)
{
    /* [3,2] = [[0,1],[2,3],[4,5]] */
    onyx_tensor x = kt_tensor(ONYX_FLOAT, 2, DIMS(3, 2), seq);
    onyx_tensor out[1];
    /* axis 0, int64 indices [[2,-3]] (-3 is row 0) -> [1,2,2]: rows 2, 0 */
    int64_t i0[] = {2, -3};
    onyx_tensor ti = kt_tensor(ONYX_INT64, 2, DIMS(1, 2), i0);
    ck_assert_int_eq(
        kt_run("Gather", 13, NULL, 0, INS(&x, &ti), 2, out, 1, msg), ONYX_OK);
    assert_dims(&out[0], 3, DIMS(1, 2, 2));
    assert_floats(&out[0], (const float[]){4, 5, 0, 1}, 4);
    kt_free(out, 1);
    /* axis 1, int32 scalar index 1 -> [3]: column 1 = [1,3,5] */
    int32_t i1[] = {1};
    ti = kt_tensor(ONYX_INT32, 0, NULL, i1);
    onyx_attr at[] = {KT_INT("axis", 1)};
    ck_assert_int_eq(kt_run("Gather", 13, at, 1, INS(&x, &ti), 2, out, 1, msg),
                     ONYX_OK);
    assert_dims(&out[0], 1, DIMS(3));
    assert_floats(&out[0], (const float[]){1, 3, 5}, 3);
    kt_free(out, 1);
    /* index 3 on an axis of 3: a run-time error with a message */
    int64_t bad[] = {3};
    ti = kt_tensor(ONYX_INT64, 1, DIMS(1), bad);
    assert_fails(kt_run("Gather", 13, NULL, 0, INS(&x, &ti), 2, out, 1, msg),
                 ONYX_ERR_RUNTIME, "out of range");
    kt_free(out, 1);
    /* float indices are refused */
    ti = kt_tensor(ONYX_FLOAT, 1, DIMS(1), seq);
    assert_fails(kt_run("Gather", 13, NULL, 0, INS(&x, &ti), 2, out, 1, msg),
                 ONYX_ERR_UNSUPPORTED, "float32");
}
END_TEST

/* Constant indices in runs (framing a signal: 4 frames of 8, hop 4, out of
 * 20 samples, the last frame counted from the end) take the run path: the
 * same values as unknown indices, which take the per-index path. */
START_TEST(gather_runs)
{
    float x[2 * 20];
    for (int i = 0; i < 40; i++)
        x[i] = (float)(i * i % 17) + 0.5f * (float)i;
    int64_t idx[4 * 8];
    for (int f = 0; f < 4; f++)
        for (int j = 0; j < 8; j++)
            idx[f * 8 + j] = f * 4 + j - (f == 3 ? 20 : 0);
    onyx_tensor tx = kt_tensor(ONYX_FLOAT, 2, DIMS(2, 20), x);
    onyx_tensor ti = kt_tensor(ONYX_INT64, 2, DIMS(4, 8), idx);
    onyx_attr at[] = {KT_INT("axis", 1)};
    onyx_tensor out[1];
    for (int unknown = 0; unknown < 2; unknown++) {
        ck_assert_int_eq(kt_run_ex("Gather", 13, at, 1, INS(&tx, &ti), 2, out,
                                   1, NULL, unknown ? (int[]){0, 1} : NULL,
                                   msg),
                         ONYX_OK);
        assert_dims(&out[0], 3, DIMS(2, 4, 8));
        const float *y = out[0].data;
        for (int o = 0; o < 2; o++)
            for (int f = 0; f < 4; f++)
                for (int j = 0; j < 8; j++)
                    ck_assert_float_eq(y[(o * 4 + f) * 8 + j],
                                       x[o * 20 + f * 4 + j]);
        kt_free(out, 1);
    }
}
END_TEST

START_TEST(gather_elements)
{
    /* data [[1,2],[3,4]], indices [[0,0],[1,0]], axis 1:
     * Y[i][j] = X[i][I[i][j]] -> [[1,1],[4,3]] */
    float d[] = {1, 2, 3, 4};
    int64_t ix[] = {0, 0, 1, 0};
    onyx_tensor x = kt_tensor(ONYX_FLOAT, 2, DIMS(2, 2), d);
    onyx_tensor ti = kt_tensor(ONYX_INT64, 2, DIMS(2, 2), ix);
    onyx_tensor out[1];
    onyx_attr a1[] = {KT_INT("axis", 1)};
    ck_assert_int_eq(
        kt_run("GatherElements", 13, a1, 1, INS(&x, &ti), 2, out, 1, msg),
        ONYX_OK);
    assert_floats(&out[0], (const float[]){1, 1, 4, 3}, 4);
    kt_free(out, 1);
    /* axis 0 with a [1,2] int32 index [[-1,0]]: Y[0][j] = X[I[0][j]][j] ->
     * [[X[1][0], X[0][1]]] = [[3,2]] */
    int32_t i2[] = {-1, 0};
    ti = kt_tensor(ONYX_INT32, 2, DIMS(1, 2), i2);
    ck_assert_int_eq(
        kt_run("GatherElements", 13, NULL, 0, INS(&x, &ti), 2, out, 1, msg),
        ONYX_OK);
    assert_dims(&out[0], 2, DIMS(1, 2));
    assert_floats(&out[0], (const float[]){3, 2}, 2);
    kt_free(out, 1);
    /* index 2 on an axis of 2 */
    int64_t bad[] = {0, 2, 0, 0};
    ti = kt_tensor(ONYX_INT64, 2, DIMS(2, 2), bad);
    assert_fails(
        kt_run("GatherElements", 13, a1, 1, INS(&x, &ti), 2, out, 1, msg),
        ONYX_ERR_RUNTIME, "out of range");
    kt_free(out, 1);
    /* rank mismatch */
    ti = kt_tensor(ONYX_INT64, 1, DIMS(2), ix);
    assert_fails(
        kt_run("GatherElements", 13, a1, 1, INS(&x, &ti), 2, out, 1, msg),
        ONYX_ERR_INVALID, "same rank");
}
END_TEST

/* ---- Expand, Tile
 * ------------------------------------------------------------ */

START_TEST(expand_and_tile)
{
    /* [3,1] = [[0],[1],[2]] expanded to shape [2,1,4] -> [2,3,4] where
     * Y[b][i][j] = i */
    onyx_tensor x = kt_tensor(ONYX_FLOAT, 2, DIMS(3, 1), seq);
    int64_t s[] = {2, 1, 4};
    onyx_tensor ts = kt_tensor(ONYX_INT64, 1, DIMS(3), s);
    onyx_tensor out[1];
    ck_assert_int_eq(
        kt_run("Expand", 13, NULL, 0, INS(&x, &ts), 2, out, 1, msg), ONYX_OK);
    assert_dims(&out[0], 3, DIMS(2, 3, 4));
    const float *y = out[0].data;
    for (int b = 0; b < 2; b++)
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++)
                ck_assert(y[b * 12 + i * 4 + j] == i);
    kt_free(out, 1);
    /* shape [2,2] does not broadcast with [3,1] */
    int64_t bad[] = {2, 2};
    ts = kt_tensor(ONYX_INT64, 1, DIMS(2), bad);
    assert_fails(kt_run("Expand", 13, NULL, 0, INS(&x, &ts), 2, out, 1, msg),
                 ONYX_ERR_INVALID, "broadcast");
    /* Tile [[0,1],[2,3]] by [2,1] -> [[0,1],[2,3],[0,1],[2,3]]; by [1,2]
     * -> [[0,1,0,1],[2,3,2,3]] */
    onyx_tensor x2 = kt_tensor(ONYX_FLOAT, 2, DIMS(2, 2), seq);
    int64_t r1[] = {2, 1}, r2[] = {1, 2};
    onyx_tensor tr = kt_tensor(ONYX_INT64, 1, DIMS(2), r1);
    ck_assert_int_eq(kt_run("Tile", 13, NULL, 0, INS(&x2, &tr), 2, out, 1, msg),
                     ONYX_OK);
    assert_dims(&out[0], 2, DIMS(4, 2));
    assert_floats(&out[0], (const float[]){0, 1, 2, 3, 0, 1, 2, 3}, 8);
    kt_free(out, 1);
    tr = kt_tensor(ONYX_INT64, 1, DIMS(2), r2);
    ck_assert_int_eq(kt_run("Tile", 13, NULL, 0, INS(&x2, &tr), 2, out, 1, msg),
                     ONYX_OK);
    assert_floats(&out[0], (const float[]){0, 1, 0, 1, 2, 3, 2, 3}, 8);
    kt_free(out, 1);
    /* repeats must have one entry per axis */
    tr = kt_tensor(ONYX_INT64, 1, DIMS(1), r1);
    assert_fails(kt_run("Tile", 13, NULL, 0, INS(&x2, &tr), 2, out, 1, msg),
                 ONYX_ERR_INVALID, "repeats");
}
END_TEST

START_TEST(bool_and_int64_data)
{
    onyx_tensor out[1];
    /* bool [2,1] = {1,0} expanded to [2,3] -> {1,1,1,0,0,0} */
    uint8_t b[] = {1, 0};
    onyx_tensor tb = kt_tensor(ONYX_BOOL, 2, DIMS(2, 1), b);
    int64_t s[] = {2, 3};
    onyx_tensor ts = kt_tensor(ONYX_INT64, 1, DIMS(2), s);
    ck_assert_int_eq(
        kt_run("Expand", 13, NULL, 0, INS(&tb, &ts), 2, out, 1, msg), ONYX_OK);
    ck_assert_int_eq(out[0].dtype, ONYX_BOOL);
    const uint8_t *yb = out[0].data;
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(yb[i], i < 3);
    kt_free(out, 1);
    /* int64 [10,20,30,40,50] sliced 4 down to 0 (exclusive) by -2 ->
     * elements 4, 2: {50,30} */
    int64_t v[] = {10, 20, 30, 40, 50};
    onyx_tensor tv = kt_tensor(ONYX_INT64, 1, DIMS(5), v);
    int64_t st[] = {4}, en[] = {0}, sp[] = {-2};
    onyx_tensor t1 = kt_tensor(ONYX_INT64, 1, DIMS(1), st);
    onyx_tensor t2 = kt_tensor(ONYX_INT64, 1, DIMS(1), en);
    onyx_tensor t4 = kt_tensor(ONYX_INT64, 1, DIMS(1), sp);
    ck_assert_int_eq(kt_run("Slice", 13, NULL, 0, INS(&tv, &t1, &t2, NULL, &t4),
                            5, out, 1, msg),
                     ONYX_OK);
    assert_ints(&out[0], DIMS(50, 30), 2);
    kt_free(out, 1);
    /* bool Gather along axis 0 with [1,1,0] -> {0,0,1} */
    int64_t ix[] = {1, 1, 0};
    onyx_tensor ti = kt_tensor(ONYX_INT64, 1, DIMS(3), ix);
    onyx_tensor tb1 = kt_tensor(ONYX_BOOL, 1, DIMS(2), b);
    ck_assert_int_eq(
        kt_run("Gather", 13, NULL, 0, INS(&tb1, &ti), 2, out, 1, msg), ONYX_OK);
    yb = out[0].data;
    ck_assert(yb[0] == 0 && yb[1] == 0 && yb[2] == 1);
    kt_free(out, 1);
}
END_TEST

/* ---- Constant, ConstantOfShape, Range ------------------------------------ */

START_TEST(constant_attributes)
{
    onyx_tensor out[1];
    float fl[] = {1.5f, -2};
    onyx_attr a1[] = {KT_FLOATS("value_floats", 2, fl)};
    ck_assert_int_eq(kt_run("Constant", 13, a1, 1, NULL, 0, out, 1, msg),
                     ONYX_OK);
    assert_dims(&out[0], 1, DIMS(2));
    assert_floats(&out[0], fl, 2);
    kt_free(out, 1);
    onyx_attr a2[] = {KT_INT("value_int", 7)};
    ck_assert_int_eq(kt_run("Constant", 13, a2, 1, NULL, 0, out, 1, msg),
                     ONYX_OK);
    ck_assert_int_eq(out[0].rank, 0);
    ck_assert_int_eq(out[0].dtype, ONYX_INT64);
    assert_ints(&out[0], DIMS(7), 1);
    kt_free(out, 1);
    /* a tensor value: [2,2] int64 */
    int64_t tv[] = {1, 2, 3, 4};
    onyx_tensor t = kt_tensor(ONYX_INT64, 2, DIMS(2, 2), tv);
    onyx_attr a3[] = {{.name = "value", .type = ONYX_ATTR_TENSOR, .t = &t}};
    ck_assert_int_eq(kt_run("Constant", 9, a3, 1, NULL, 0, out, 1, msg),
                     ONYX_OK);
    assert_dims(&out[0], 2, DIMS(2, 2));
    assert_ints(&out[0], tv, 4);
    kt_free(out, 1);
    /* strings and nothing at all are refused */
    onyx_attr a4[] = {KT_STRING("value_string", "hi")};
    assert_fails(kt_run("Constant", 13, a4, 1, NULL, 0, out, 1, msg),
                 ONYX_ERR_UNSUPPORTED, "value_string");
    assert_fails(kt_run("Constant", 13, NULL, 0, NULL, 0, out, 1, msg),
                 ONYX_ERR_INVALID, "value");
}
END_TEST

START_TEST(constant_of_shape)
{
    onyx_tensor out[1];
    /* default: float zeros of shape [2,3] */
    int64_t s[] = {2, 3};
    onyx_tensor ts = kt_tensor(ONYX_INT64, 1, DIMS(2), s);
    ck_assert_int_eq(
        kt_run("ConstantOfShape", 9, NULL, 0, INS(&ts), 1, out, 1, msg),
        ONYX_OK);
    assert_dims(&out[0], 2, DIMS(2, 3));
    assert_floats(&out[0], (const float[]){0, 0, 0, 0, 0, 0}, 6);
    kt_free(out, 1);
    /* value int64 [5], empty shape -> the scalar 5 */
    int64_t five[] = {5};
    onyx_tensor v = kt_tensor(ONYX_INT64, 1, DIMS(1), five);
    onyx_attr at[] = {{.name = "value", .type = ONYX_ATTR_TENSOR, .t = &v}};
    onyx_tensor empty = kt_tensor(ONYX_INT64, 1, DIMS(0), s);
    ck_assert_int_eq(
        kt_run("ConstantOfShape", 9, at, 1, INS(&empty), 1, out, 1, msg),
        ONYX_OK);
    ck_assert_int_eq(out[0].rank, 0);
    assert_ints(&out[0], five, 1);
    kt_free(out, 1);
    /* a value of two elements is refused */
    onyx_tensor v2 = kt_tensor(ONYX_INT64, 1, DIMS(2), s);
    onyx_attr bad[] = {{.name = "value", .type = ONYX_ATTR_TENSOR, .t = &v2}};
    assert_fails(kt_run("ConstantOfShape", 9, bad, 1, INS(&ts), 1, out, 1, msg),
                 ONYX_ERR_INVALID, "one element");
}
END_TEST

START_TEST(range_types)
{
    onyx_tensor out[1];
    /* float 1..5 step 2: ceil(4/2) = 2 elements, [1,3] */
    float fs = 1, fl = 5, fd = 2;
    onyx_tensor a = kt_tensor(ONYX_FLOAT, 0, NULL, &fs);
    onyx_tensor b = kt_tensor(ONYX_FLOAT, 0, NULL, &fl);
    onyx_tensor c = kt_tensor(ONYX_FLOAT, 0, NULL, &fd);
    ck_assert_int_eq(
        kt_run("Range", 11, NULL, 0, INS(&a, &b, &c), 3, out, 1, msg), ONYX_OK);
    assert_floats(&out[0], (const float[]){1, 3}, 2);
    kt_free(out, 1);
    /* int64 10..4 step -3: ceil(-6/-3) = 2 elements, [10,7] */
    int64_t is = 10, il = 4, id = -3;
    a = kt_tensor(ONYX_INT64, 0, NULL, &is);
    b = kt_tensor(ONYX_INT64, 0, NULL, &il);
    c = kt_tensor(ONYX_INT64, 0, NULL, &id);
    ck_assert_int_eq(
        kt_run("Range", 11, NULL, 0, INS(&a, &b, &c), 3, out, 1, msg), ONYX_OK);
    assert_ints(&out[0], DIMS(10, 7), 2);
    kt_free(out, 1);
    /* 0..4 step -1 is empty; step 0 is refused */
    is = 0;
    id = -1;
    ck_assert_int_eq(
        kt_run("Range", 11, NULL, 0, INS(&a, &b, &c), 3, out, 1, msg), ONYX_OK);
    assert_dims(&out[0], 1, DIMS(0));
    kt_free(out, 1);
    id = 0;
    assert_fails(kt_run("Range", 11, NULL, 0, INS(&a, &b, &c), 3, out, 1, msg),
                 ONYX_ERR_INVALID, "delta");
}
END_TEST

/* ---- Trilu ----------------------------------------------------------------
 */

START_TEST(trilu_upper_lower)
{
    /* X = [[1,2,3],[4,5,6]] (seq + 1) */
    float d[] = {1, 2, 3, 4, 5, 6};
    onyx_tensor x = kt_tensor(ONYX_FLOAT, 2, DIMS(2, 3), d);
    onyx_tensor out[1];
    /* upper, k=1: keep j - i >= 1 -> [[0,2,3],[0,0,6]] */
    int64_t k1 = 1;
    onyx_tensor tk = kt_tensor(ONYX_INT64, 0, NULL, &k1);
    ck_assert_int_eq(kt_run("Trilu", 14, NULL, 0, INS(&x, &tk), 2, out, 1, msg),
                     ONYX_OK);
    assert_floats(&out[0], (const float[]){0, 2, 3, 0, 0, 6}, 6);
    kt_free(out, 1);
    /* lower, no k: keep j <= i -> [[1,0,0],[4,5,0]] */
    onyx_attr lo[] = {KT_INT("upper", 0)};
    ck_assert_int_eq(kt_run("Trilu", 14, lo, 1, INS(&x, NULL), 2, out, 1, msg),
                     ONYX_OK);
    assert_floats(&out[0], (const float[]){1, 0, 0, 4, 5, 0}, 6);
    kt_free(out, 1);
    /* lower, k=-5: everything zero */
    int64_t km = -5;
    tk = kt_tensor(ONYX_INT64, 0, NULL, &km);
    ck_assert_int_eq(kt_run("Trilu", 14, lo, 1, INS(&x, &tk), 2, out, 1, msg),
                     ONYX_OK);
    assert_floats(&out[0], (const float[]){0, 0, 0, 0, 0, 0}, 6);
    kt_free(out, 1);
    /* rank 1 is refused */
    onyx_tensor v = kt_tensor(ONYX_FLOAT, 1, DIMS(6), d);
    assert_fails(kt_run("Trilu", 14, NULL, 0, INS(&v), 1, out, 1, msg),
                 ONYX_ERR_INVALID, "rank");
}
END_TEST

static Suite *shape_ops_suite(void)
{
    Suite *s = suite_create("shape_ops");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, reshape_zero_and_minus_one);
    tcase_add_test(tc, reshape_allowzero);
    tcase_add_test(tc, reshape_errors);
    tcase_add_test(tc, flatten_axes);
    tcase_add_test(tc, squeeze_variants);
    tcase_add_test(tc, unsqueeze_variants);
    tcase_add_test(tc, shape_and_size);
    tcase_add_test(tc, transpose_default_and_perm);
    tcase_add_test(tc, transpose_large_and_types);
    tcase_add_test(tc, transpose_bad_perm);
    tcase_add_test(tc, concat_axis);
    tcase_add_test(tc, split_variants);
    tcase_add_test(tc, slice_opset9_attributes);
    tcase_add_test(tc, slice_steps_and_clamping);
    tcase_add_test(tc, gather_axes_and_indices);
    tcase_add_test(tc, gather_runs);
    tcase_add_test(tc, gather_elements);
    tcase_add_test(tc, expand_and_tile);
    tcase_add_test(tc, bool_and_int64_data);
    tcase_add_test(tc, constant_attributes);
    tcase_add_test(tc, constant_of_shape);
    tcase_add_test(tc, range_types);
    tcase_add_test(tc, trilu_upper_lower);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    fill_seq();
    Suite *s = shape_ops_suite();
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int f = srunner_ntests_failed(r);
    srunner_free(r);
    return f ? 1 : 0;
}
