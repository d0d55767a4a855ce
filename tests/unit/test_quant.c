/* test_quant.c - the quantized ops (quantize.c, qmatmul.c, qconv.c) on small
 * inputs checked by hand in the comments, the integer GEMM against a naive
 * loop across its tile edges, and the errors for bad dtypes, shapes and
 * attributes. */
#include "../../kernels/math/igemm.h"
#include "ktest.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#define D(...)   ((int64_t[]){__VA_ARGS__})
#define F(...)   ((float[]){__VA_ARGS__})
#define U8(...)  ((uint8_t[]){__VA_ARGS__})
#define S8(...)  ((int8_t[]){__VA_ARGS__})
#define I32(...) ((int32_t[]){__VA_ARGS__})

static char msg[256];

/* out must be of dtype dt with n elements equal to want (as int64) */
static void expect_ints(const onyx_tensor *o, onyx_dtype dt,
                        const int64_t *want, int n)
{
    ck_assert_int_eq(o->dtype, dt);
    ck_assert_int_eq(onyx_numel(o), n);
    for (int i = 0; i < n; i++)
        ck_assert_msg(onyx_get_int(o, i) == want[i], "y[%d] = %lld, want %lld",
                      i, (long long)onyx_get_int(o, i), (long long)want[i]);
}

static void expect_f32(const onyx_tensor *o, const float *want, int n)
{
    ck_assert_int_eq(o->dtype, ONYX_FLOAT);
    ck_assert_int_eq(onyx_numel(o), n);
    const float *y = o->data;
    for (int i = 0; i < n; i++)
        ck_assert_msg(y[i] == want[i], "y[%d] = %g, want %g", i, y[i], want[i]);
}

/* ------------------------------------------------- QuantizeLinear & co */

START_TEST(quantize_rounding_saturation)
{
    /* scale 1, zero point 0, uint8: halves go to even (0.5 -> 0, 1.5 -> 2,
     * 2.5 -> 2, -0.5 -> -0), -1.5 -> -2 and -300 saturate to 0, 300 to 255 */
    onyx_tensor x = kt_tensor(ONYX_FLOAT, 1, D(8),
                              F(0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 300, -300, 1));
    onyx_tensor s = kt_tensor(ONYX_FLOAT, 0, NULL, F(1));
    onyx_tensor z = kt_tensor(ONYX_UINT8, 0, NULL, U8(0));
    onyx_tensor y[1];
    ck_assert_int_eq(kt_run("QuantizeLinear", 13, NULL, 0,
                            (onyx_tensor *[]){&x, &s, &z}, 3, y, 1, msg),
                     ONYX_OK);
    expect_ints(&y[0], ONYX_UINT8, D(0, 2, 2, 0, 0, 255, 0, 1), 8);
    kt_free(y, 1);

    /* int8, scale 0.5, zero point 10: 1.25 / 0.5 = 2.5 -> 2, + 10 = 12;
     * 0.75 / 0.5 = 1.5 -> 2 -> 12; -70 -> -140 + 10 saturates to -128;
     * 70 -> 150 to 127; -5.25 -> -10.5 -> -10 -> 0 (the zero point is added
     * after rounding, so -10.5 + 10 = -0.5 does not round to 0 by luck) */
    onyx_tensor x2 =
        kt_tensor(ONYX_FLOAT, 1, D(5), F(1.25f, 0.75f, -70, 70, -5.25f));
    onyx_tensor s2 = kt_tensor(ONYX_FLOAT, 1, D(1), F(0.5f));
    onyx_tensor z2 = kt_tensor(ONYX_INT8, 1, D(1), S8(10));
    ck_assert_int_eq(kt_run("QuantizeLinear", 10, NULL, 0,
                            (onyx_tensor *[]){&x2, &s2, &z2}, 3, y, 1, msg),
                     ONYX_OK);
    expect_ints(&y[0], ONYX_INT8, D(12, 12, -128, 127, 0), 5);
    kt_free(y, 1);

    /* no zero point: uint8 with 0; -1 -> 0, 2.6 -> 3 */
    onyx_tensor x3 = kt_tensor(ONYX_FLOAT, 1, D(2), F(-1, 2.6f));
    ck_assert_int_eq(kt_run("QuantizeLinear", 13, NULL, 0,
                            (onyx_tensor *[]){&x3, &s}, 2, y, 1, msg),
                     ONYX_OK);
    expect_ints(&y[0], ONYX_UINT8, D(0, 3), 2);
    kt_free(y, 1);
}
END_TEST

START_TEST(quantize_per_axis)
{
    /* x (2, 2) = [[1, 2], [3, 4]], axis 1: column 0 scale 1 zero point 0,
     * column 1 scale 2 zero point 1: [[1, 2/2 + 1], [3, 4/2 + 1]] */
    onyx_tensor x = kt_tensor(ONYX_FLOAT, 2, D(2, 2), F(1, 2, 3, 4));
    onyx_tensor s = kt_tensor(ONYX_FLOAT, 1, D(2), F(1, 2));
    onyx_tensor z = kt_tensor(ONYX_UINT8, 1, D(2), U8(0, 1));
    onyx_tensor y[1];
    ck_assert_int_eq(kt_run("QuantizeLinear", 13, NULL, 0,
                            (onyx_tensor *[]){&x, &s, &z}, 3, y, 1, msg),
                     ONYX_OK);
    expect_ints(&y[0], ONYX_UINT8, D(1, 2, 3, 3), 4);
    kt_free(y, 1);

    /* DequantizeLinear int8, axis 0: row 0 scale 0.5 zero point 1:
     * (-1 - 1) 0.5 = -1, (2 - 1) 0.5 = 0.5; row 1 scale 2 zero point -128:
     * (3 + 128) 2 = 262, (-128 + 128) 2 = 0 */
    onyx_tensor q = kt_tensor(ONYX_INT8, 2, D(2, 2), S8(-1, 2, 3, -128));
    onyx_tensor ds = kt_tensor(ONYX_FLOAT, 1, D(2), F(0.5f, 2));
    onyx_tensor dz = kt_tensor(ONYX_INT8, 1, D(2), S8(1, -128));
    onyx_attr ax0[] = {KT_INT("axis", 0)};
    ck_assert_int_eq(kt_run("DequantizeLinear", 13, ax0, 1,
                            (onyx_tensor *[]){&q, &ds, &dz}, 3, y, 1, msg),
                     ONYX_OK);
    expect_f32(&y[0], F(-1, 0.5f, 262, 0), 4);
    kt_free(y, 1);
}
END_TEST

START_TEST(dynamic_quantize)
{
    /* x = [-1, 0, 3]: range [-1, 3], scale 4/255, zero point round(1 /
     * (4/255)) = round(63.75) = 64; y = round(x 255/4) + 64:
     * -63.75 -> -64 + 64 = 0, 0 -> 64, 191.25 -> 191 + 64 = 255 */
    onyx_tensor x = kt_tensor(ONYX_FLOAT, 1, D(3), F(-1, 0, 3));
    onyx_tensor y[3];
    ck_assert_int_eq(kt_run("DynamicQuantizeLinear", 11, NULL, 0,
                            (onyx_tensor *[]){&x}, 1, y, 3, msg),
                     ONYX_OK);
    expect_ints(&y[0], ONYX_UINT8, D(0, 64, 255), 3);
    ck_assert_float_eq(*(float *)y[1].data, 4.0f / 255.0f);
    expect_ints(&y[2], ONYX_UINT8, D(64), 1);
    kt_free(y, 3);
    /* all zeros: scale 0, zero point 0, y 0 (no division by zero) */
    onyx_tensor x0 = kt_tensor(ONYX_FLOAT, 1, D(2), F(0, 0));
    ck_assert_int_eq(kt_run("DynamicQuantizeLinear", 11, NULL, 0,
                            (onyx_tensor *[]){&x0}, 1, y, 3, msg),
                     ONYX_OK);
    expect_ints(&y[0], ONYX_UINT8, D(0, 0), 2);
    ck_assert_float_eq(*(float *)y[1].data, 0.0f);
    kt_free(y, 3);
}
END_TEST

START_TEST(quantize_errors)
{
    onyx_tensor x = kt_tensor(ONYX_FLOAT, 2, D(2, 2), F(1, 2, 3, 4));
    onyx_tensor s2 = kt_tensor(ONYX_FLOAT, 1, D(2), F(1, 2));
    onyx_tensor s3 = kt_tensor(ONYX_FLOAT, 1, D(3), F(1, 2, 3));
    onyx_tensor zi = kt_tensor(ONYX_INT32, 0, NULL, I32(0));
    onyx_tensor s1 = kt_tensor(ONYX_FLOAT, 0, NULL, F(1));
    onyx_tensor y[1];
    /* an int32 zero point: QuantizeLinear gives 8-bit data */
    ck_assert_int_eq(kt_run("QuantizeLinear", 13, NULL, 0,
                            (onyx_tensor *[]){&x, &s1, &zi}, 3, y, 1, msg),
                     ONYX_ERR_UNSUPPORTED);
    /* axis 2 of a rank-2 x */
    onyx_attr ax2[] = {KT_INT("axis", 2)};
    ck_assert_int_eq(kt_run("QuantizeLinear", 13, ax2, 1,
                            (onyx_tensor *[]){&x, &s2}, 2, y, 1, msg),
                     ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "axis"));
    /* three scales for an axis of 2 */
    ck_assert_int_eq(kt_run("QuantizeLinear", 13, NULL, 0,
                            (onyx_tensor *[]){&x, &s3}, 2, y, 1, msg),
                     ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "scale"));
    /* per-axis scales before opset 13 */
    ck_assert_int_eq(kt_run("QuantizeLinear", 10, NULL, 0,
                            (onyx_tensor *[]){&x, &s2}, 2, y, 1, msg),
                     ONYX_ERR_INVALID);
    /* DequantizeLinear of float data */
    ck_assert_int_eq(kt_run("DequantizeLinear", 13, NULL, 0,
                            (onyx_tensor *[]){&x, &s1}, 2, y, 1, msg),
                     ONYX_ERR_UNSUPPORTED);
}
END_TEST

/* ------------------------------------------------- integer products */

START_TEST(matmul_integer_2x3_3x2)
{
    /* (A - 1) = [[0, 1, 2], [3, 4, 5]], (B - -1) = [[2, 0], [1, 3], [-1, 4]]
     * row 0: [0*2 + 1*1 + 2*-1, 0*0 + 1*3 + 2*4] = [-1, 11]
     * row 1: [3*2 + 4*1 + 5*-1, 3*0 + 4*3 + 5*4] = [5, 32] */
    onyx_tensor a = kt_tensor(ONYX_UINT8, 2, D(2, 3), U8(1, 2, 3, 4, 5, 6));
    onyx_tensor b = kt_tensor(ONYX_INT8, 2, D(3, 2), S8(1, -1, 0, 2, -2, 3));
    onyx_tensor za = kt_tensor(ONYX_UINT8, 0, NULL, U8(1));
    onyx_tensor zb = kt_tensor(ONYX_INT8, 1, D(1), S8(-1));
    onyx_tensor y[1];
    /* B constant (packed in prepare), then B known only at eval */
    for (int unknown = 0; unknown < 2; unknown++) {
        ck_assert_int_eq(kt_run_ex("MatMulInteger", 10, NULL, 0,
                                   (onyx_tensor *[]){&a, &b, &za, &zb}, 4, y, 1,
                                   NULL, (int[]){1, unknown, 1, 1}, msg),
                         ONYX_OK);
        expect_ints(&y[0], ONYX_INT32, D(-1, 11, 5, 32), 4);
        kt_free(y, 1);
    }
    /* a zero point per row, [1, 4]: row 1 becomes [0, 1, 2], as row 0 */
    onyx_tensor zr = kt_tensor(ONYX_UINT8, 1, D(2), U8(1, 4));
    ck_assert_int_eq(kt_run("MatMulInteger", 10, NULL, 0,
                            (onyx_tensor *[]){&a, &b, &zr, &zb}, 4, y, 1, msg),
                     ONYX_OK);
    expect_ints(&y[0], ONYX_INT32, D(-1, 11, -1, 11), 4);
    kt_free(y, 1);
    /* no zero points: [[1,2,3],[4,5,6]] @ [[1,-1],[0,2],[-2,3]] =
     * [[1 - 6, -1 + 4 + 9], [4 - 12, -4 + 10 + 18]] */
    ck_assert_int_eq(kt_run("MatMulInteger", 10, NULL, 0,
                            (onyx_tensor *[]){&a, &b}, 2, y, 1, msg),
                     ONYX_OK);
    expect_ints(&y[0], ONYX_INT32, D(-5, 12, -8, 24), 4);
    kt_free(y, 1);
}
END_TEST

/* The GEMM against a naive loop for sizes around its tiles, int8 and
 * uint8, with a zero point per row of A and per column of B: M = 5 takes
 * the several-row path (int16 operands on x86-64), M = 1 the byte one. */
static void matmul_integer_naive(int M)
{
    enum { MMAX = 5, N = 7, K = 19 };
    uint8_t a[MMAX * K];
    int8_t b[K * N];
    uint8_t za[MMAX];
    int8_t zb[N];
    srand(7);
    for (int i = 0; i < M * K; i++)
        a[i] = (uint8_t)(rand() & 255);
    for (int i = 0; i < K * N; i++)
        b[i] = (int8_t)((rand() & 255) - 128);
    for (int i = 0; i < M; i++)
        za[i] = (uint8_t)(rand() & 255);
    for (int i = 0; i < N; i++)
        zb[i] = (int8_t)((rand() & 255) - 128);
    onyx_tensor A = kt_tensor(ONYX_UINT8, 2, D(M, K), a);
    onyx_tensor B = kt_tensor(ONYX_INT8, 2, D(K, N), b);
    onyx_tensor ZA = kt_tensor(ONYX_UINT8, 1, D(M), za);
    onyx_tensor ZB = kt_tensor(ONYX_INT8, 1, D(N), zb);
    onyx_tensor y[1];
    ck_assert_int_eq(kt_run("MatMulInteger", 10, NULL, 0,
                            (onyx_tensor *[]){&A, &B, &ZA, &ZB}, 4, y, 1, msg),
                     ONYX_OK);
    const int32_t *Y = y[0].data;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            int32_t s = 0;
            for (int p = 0; p < K; p++)
                s += (a[i * K + p] - za[i]) * (b[p * N + j] - zb[j]);
            ck_assert_int_eq(Y[i * N + j], s);
        }
    kt_free(y, 1);
}

START_TEST(matmul_integer_vs_naive)
{
    matmul_integer_naive(5);
    matmul_integer_naive(1);
}
END_TEST

START_TEST(qlinear_matmul)
{
    /* a = [2, 4] * 0.5 = [1, 2]; b = [[2, 0], [0, 2]] * 0.5 = identity;
     * acc = [4, 8], multiplier 0.5 * 0.5 / 0.4 = 0.625: 2.5 -> 2 (half to
     * even), 5; + y zero point 10 = [12, 15] */
    onyx_tensor a = kt_tensor(ONYX_UINT8, 2, D(1, 2), U8(2, 4));
    onyx_tensor b = kt_tensor(ONYX_UINT8, 2, D(2, 2), U8(2, 0, 0, 2));
    onyx_tensor s = kt_tensor(ONYX_FLOAT, 0, NULL, F(0.5f));
    onyx_tensor sy = kt_tensor(ONYX_FLOAT, 0, NULL, F(0.4f));
    onyx_tensor z0 = kt_tensor(ONYX_UINT8, 0, NULL, U8(0));
    onyx_tensor zy = kt_tensor(ONYX_UINT8, 0, NULL, U8(10));
    onyx_tensor y[1];
    ck_assert_int_eq(
        kt_run("QLinearMatMul", 10, NULL, 0,
               (onyx_tensor *[]){&a, &s, &z0, &b, &s, &z0, &sy, &zy}, 8, y, 1,
               msg),
        ONYX_OK);
    expect_ints(&y[0], ONYX_UINT8, D(12, 15), 2);
    kt_free(y, 1);
}
END_TEST

START_TEST(matmul_integer_errors)
{
    onyx_tensor a = kt_tensor(ONYX_UINT8, 2, D(2, 3), U8(1, 2, 3, 4, 5, 6));
    onyx_tensor b = kt_tensor(ONYX_UINT8, 2, D(2, 3), U8(1, 2, 3, 4, 5, 6));
    onyx_tensor f = kt_tensor(ONYX_FLOAT, 2, D(3, 1), F(1, 2, 3));
    onyx_tensor zs = kt_tensor(ONYX_INT8, 0, NULL, S8(0));
    onyx_tensor z3 = kt_tensor(ONYX_UINT8, 1, D(3), U8(0, 0, 0));
    onyx_tensor y[1];
    /* inner dimensions 3 and 2 */
    ck_assert_int_eq(kt_run("MatMulInteger", 10, NULL, 0,
                            (onyx_tensor *[]){&a, &b}, 2, y, 1, msg),
                     ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "inner"));
    /* a float operand */
    ck_assert_int_eq(kt_run("MatMulInteger", 10, NULL, 0,
                            (onyx_tensor *[]){&a, &f}, 2, y, 1, msg),
                     ONYX_ERR_UNSUPPORTED);
    /* an int8 zero point for uint8 A */
    onyx_tensor bt = kt_tensor(ONYX_UINT8, 2, D(3, 2), U8(1, 2, 3, 4, 5, 6));
    ck_assert_int_eq(kt_run("MatMulInteger", 10, NULL, 0,
                            (onyx_tensor *[]){&a, &bt, &zs}, 3, y, 1, msg),
                     ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "a_zero_point"));
    /* three zero points for two rows */
    ck_assert_int_eq(kt_run("MatMulInteger", 10, NULL, 0,
                            (onyx_tensor *[]){&a, &bt, &z3}, 3, y, 1, msg),
                     ONYX_ERR_INVALID);
}
END_TEST

/* ------------------------------------------------- convolutions */

START_TEST(conv_integer_padding)
{
    /* x - 3 = [0, 1, 2, 3], w - 1 = [0, 1], pads 1 and 1: the padding holds
     * x's zero point, so it adds nothing; y[o] = (x - 3)[o] over the padded
     * [0, 0, 1, 2, 3, 0] = [0, 1, 2, 3, 0] */
    onyx_tensor x = kt_tensor(ONYX_UINT8, 3, D(1, 1, 4), U8(3, 4, 5, 6));
    onyx_tensor w = kt_tensor(ONYX_UINT8, 3, D(1, 1, 2), U8(1, 2));
    onyx_tensor zx = kt_tensor(ONYX_UINT8, 0, NULL, U8(3));
    onyx_tensor zw = kt_tensor(ONYX_UINT8, 0, NULL, U8(1));
    onyx_attr pads[] = {KT_INTS("pads", 2, D(1, 1))};
    onyx_tensor y[1];
    ck_assert_int_eq(kt_run("ConvInteger", 10, pads, 1,
                            (onyx_tensor *[]){&x, &w, &zx, &zw}, 4, y, 1, msg),
                     ONYX_OK);
    ck_assert_int_eq(y[0].rank, 3);
    expect_ints(&y[0], ONYX_INT32, D(0, 1, 2, 3, 0), 5);
    kt_free(y, 1);
}
END_TEST

START_TEST(qlinear_conv_int8_bias)
{
    /* x = [-2, 0, 2] * 0.5 = [-1, 0, 1]; two 1-tap filters, w = [2, -4]
     * with scales [0.5, 0.25] (both 1 and -1 in reals), bias [4, 0];
     * y scale 0.5, zero point -1.
     * channel 0: acc 2x + 4 = [0, 4, 8], * 0.5 * 0.5 / 0.5 = [0, 2, 4],
     *            - 1 = [-1, 1, 3]
     * channel 1: acc -4x = [8, 0, -8], * 0.5 * 0.25 / 0.5 = [2, 0, -2],
     *            - 1 = [1, -1, -3] */
    onyx_tensor x = kt_tensor(ONYX_INT8, 3, D(1, 1, 3), S8(-2, 0, 2));
    onyx_tensor sx = kt_tensor(ONYX_FLOAT, 0, NULL, F(0.5f));
    onyx_tensor zx = kt_tensor(ONYX_INT8, 0, NULL, S8(0));
    onyx_tensor w = kt_tensor(ONYX_INT8, 3, D(2, 1, 1), S8(2, -4));
    onyx_tensor sw = kt_tensor(ONYX_FLOAT, 1, D(2), F(0.5f, 0.25f));
    onyx_tensor zw = kt_tensor(ONYX_INT8, 1, D(2), S8(0, 0));
    onyx_tensor sy = kt_tensor(ONYX_FLOAT, 0, NULL, F(0.5f));
    onyx_tensor zy = kt_tensor(ONYX_INT8, 0, NULL, S8(-1));
    onyx_tensor bias = kt_tensor(ONYX_INT32, 1, D(2), I32(4, 0));
    onyx_tensor y[1];
    ck_assert_int_eq(
        kt_run("QLinearConv", 10, NULL, 0,
               (onyx_tensor *[]){&x, &sx, &zx, &w, &sw, &zw, &sy, &zy, &bias},
               9, y, 1, msg),
        ONYX_OK);
    expect_ints(&y[0], ONYX_INT8, D(-1, 1, 3, 1, -1, -3), 6);
    kt_free(y, 1);

    /* a float bias, and a w zero point of 3 values for 2 channels */
    onyx_tensor fb = kt_tensor(ONYX_FLOAT, 1, D(2), F(4, 0));
    ck_assert_int_eq(
        kt_run("QLinearConv", 10, NULL, 0,
               (onyx_tensor *[]){&x, &sx, &zx, &w, &sw, &zw, &sy, &zy, &fb}, 9,
               y, 1, msg),
        ONYX_ERR_UNSUPPORTED);
    onyx_tensor zw3 = kt_tensor(ONYX_INT8, 1, D(3), S8(0, 0, 0));
    ck_assert_int_eq(
        kt_run("QLinearConv", 10, NULL, 0,
               (onyx_tensor *[]){&x, &sx, &zx, &w, &sw, &zw3, &sy, &zy}, 8, y,
               1, msg),
        ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "w_zero_point"));
    /* ConvInteger with a bad group */
    onyx_attr g3[] = {KT_INT("group", 3)};
    ck_assert_int_eq(kt_run("ConvInteger", 10, g3, 1, (onyx_tensor *[]){&x, &w},
                            2, y, 1, msg),
                     ONYX_ERR_INVALID);
}
END_TEST

static Suite *quant_suite(void)
{
    Suite *s = suite_create("quant");
    TCase *q = tcase_create("quantize");
    tcase_add_test(q, quantize_rounding_saturation);
    tcase_add_test(q, quantize_per_axis);
    tcase_add_test(q, dynamic_quantize);
    tcase_add_test(q, quantize_errors);
    suite_add_tcase(s, q);
    TCase *m = tcase_create("matmul");
    tcase_add_test(m, matmul_integer_2x3_3x2);
    tcase_add_test(m, matmul_integer_vs_naive);
    tcase_add_test(m, qlinear_matmul);
    tcase_add_test(m, matmul_integer_errors);
    suite_add_tcase(s, m);
    TCase *c = tcase_create("conv");
    tcase_add_test(c, conv_integer_padding);
    tcase_add_test(c, qlinear_conv_int8_bias);
    suite_add_tcase(s, c);
    return s;
}

int main(void)
{
    Suite *s = quant_suite();
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int f = srunner_ntests_failed(r);
    srunner_free(r);
    return f ? 1 : 0;
}
