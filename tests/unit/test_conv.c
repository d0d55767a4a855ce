/* test_conv.c - MatMul, Gemm, Conv, ConvTranspose and the pools on small
 * hand-checked inputs, the sgemm against a naive triple loop, and the error
 * messages for bad attributes and shapes. Run in both BLAS builds. */
#include "../../kernels/math/conv_direct.h"
#include "../../kernels/math/gemm.h"
#include "ktest.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define D(...) ((int64_t[]){__VA_ARGS__})
#define F(...) ((float[]){__VA_ARGS__})

static char msg[256];

static void expect(const onyx_tensor *t, const float *want, int n)
{
    ck_assert_int_eq((int)onyx_numel(t), n);
    const float *y = t->data;
    for (int i = 0; i < n; i++)
        ck_assert_msg(fabsf(y[i] - want[i]) <= 1e-5f * (1 + fabsf(want[i])),
                      "y[%d] = %g, expected %g", i, y[i], want[i]);
}

static void expect_dims(const onyx_tensor *t, int rank, const int64_t *dims)
{
    ck_assert_int_eq(t->rank, rank);
    for (int i = 0; i < rank; i++)
        ck_assert_int_eq(t->dims[i], dims[i]);
}

/* ---- MatMul ---------------------------------------------------------- */

START_TEST(matmul_2d)
{
    /* [[1,2],[3,4]] @ [[5,6],[7,8]] = [[1*5+2*7, 1*6+2*8], [3*5+4*7, 3*6+4*8]]
     */
    onyx_tensor a = kt_tensor(ONYX_FLOAT, 2, D(2, 2), F(1, 2, 3, 4));
    onyx_tensor b = kt_tensor(ONYX_FLOAT, 2, D(2, 2), F(5, 6, 7, 8));
    onyx_tensor y[1];
    ck_assert_int_eq(
        kt_run("MatMul", 13, NULL, 0, (onyx_tensor *[]){&a, &b}, 2, y, 1, msg),
        ONYX_OK);
    expect_dims(&y[0], 2, D(2, 2));
    expect(&y[0], F(19, 22, 43, 50), 4);
    kt_free(y, 1);
}
END_TEST

START_TEST(matmul_vectors)
{
    onyx_tensor m = kt_tensor(ONYX_FLOAT, 2, D(2, 2), F(1, 2, 3, 4));
    onyx_tensor v = kt_tensor(ONYX_FLOAT, 1, D(2), F(1, 1));
    onyx_tensor y[1];
    /* [1,1] @ [[1,2],[3,4]] = [1+3, 2+4]; the row axis is dropped */
    ck_assert_int_eq(
        kt_run("MatMul", 13, NULL, 0, (onyx_tensor *[]){&v, &m}, 2, y, 1, msg),
        ONYX_OK);
    expect_dims(&y[0], 1, D(2));
    expect(&y[0], F(4, 6), 2);
    kt_free(y, 1);
    /* [[1,2],[3,4]] @ [1,1] = [1+2, 3+4] */
    ck_assert_int_eq(
        kt_run("MatMul", 13, NULL, 0, (onyx_tensor *[]){&m, &v}, 2, y, 1, msg),
        ONYX_OK);
    expect_dims(&y[0], 1, D(2));
    expect(&y[0], F(3, 7), 2);
    kt_free(y, 1);
    /* [1,1] @ [1,1] = 2, a scalar */
    ck_assert_int_eq(
        kt_run("MatMul", 13, NULL, 0, (onyx_tensor *[]){&v, &v}, 2, y, 1, msg),
        ONYX_OK);
    expect_dims(&y[0], 0, NULL);
    expect(&y[0], F(2), 1);
    kt_free(y, 1);
}
END_TEST

START_TEST(matmul_batch_broadcast)
{
    /* A (2,1,2) @ B (2,1): B shared, Y (2,1,1) = [1*1+2*10, 3*1+4*10] */
    onyx_tensor a = kt_tensor(ONYX_FLOAT, 3, D(2, 1, 2), F(1, 2, 3, 4));
    onyx_tensor b = kt_tensor(ONYX_FLOAT, 2, D(2, 1), F(1, 10));
    onyx_tensor y[1];
    ck_assert_int_eq(
        kt_run("MatMul", 13, NULL, 0, (onyx_tensor *[]){&a, &b}, 2, y, 1, msg),
        ONYX_OK);
    expect_dims(&y[0], 3, D(2, 1, 1));
    expect(&y[0], F(21, 43), 2);
    kt_free(y, 1);
    /* A (1,2) @ B (2,2,1): A shared; B[0] picks a[0], B[1] picks a[1] */
    onyx_tensor a2 = kt_tensor(ONYX_FLOAT, 2, D(1, 2), F(1, 2));
    onyx_tensor b2 = kt_tensor(ONYX_FLOAT, 3, D(2, 2, 1), F(1, 0, 0, 1));
    ck_assert_int_eq(kt_run("MatMul", 13, NULL, 0, (onyx_tensor *[]){&a2, &b2},
                            2, y, 1, msg),
                     ONYX_OK);
    expect_dims(&y[0], 3, D(2, 1, 1));
    expect(&y[0], F(1, 2), 2);
    kt_free(y, 1);
    /* A (2,1,1,1) @ B (3,1,1): batch (2,3); Y[i][j] = a[i] * b[j] */
    onyx_tensor a3 = kt_tensor(ONYX_FLOAT, 4, D(2, 1, 1, 1), F(1, 10));
    onyx_tensor b3 = kt_tensor(ONYX_FLOAT, 3, D(3, 1, 1), F(1, 2, 3));
    ck_assert_int_eq(kt_run("MatMul", 13, NULL, 0, (onyx_tensor *[]){&a3, &b3},
                            2, y, 1, msg),
                     ONYX_OK);
    expect_dims(&y[0], 4, D(2, 3, 1, 1));
    expect(&y[0], F(1, 2, 3, 10, 20, 30), 6);
    kt_free(y, 1);
}
END_TEST

/* A constant B that is a windowed DFT basis [w cos | +-w sin] runs as an
 * FFT (matmul.c's mm_dft): against the product summed in double, for a
 * power-of-two K (eight rows in vector lanes: 1, 7, 9 rows for full,
 * partial and two groups) and another K (the two-rows-a-pass path), all
 * bins or fewer, both sine signs; then B with one entry off by 1e-3 (not a
 * basis: the plain product, also exact), and B as a non-constant input. */
static void dft_case(int K, int nb, double sgn, int rows, int perturb,
                     int unknown_b)
{
    const int N = 2 * nb;
    float *A = malloc(sizeof(float) * rows * K);
    float *B = malloc(sizeof(float) * K * N);
    for (int i = 0; i < rows * K; i++)
        A[i] = (float)sin(0.37 * i + 0.1 * (i % 7)) - 0.2f;
    for (int n = 0; n < K; n++) {
        double w = 0.5 - 0.5 * cos(2 * M_PI * n / K) + 0.1;
        for (int k = 0; k < nb; k++) {
            double a = 2 * M_PI * (double)((n * k) % K) / K;
            B[n * N + k] = (float)(w * cos(a));
            B[n * N + nb + k] = (float)(sgn * w * sin(a));
        }
    }
    if (perturb) B[3 * N + 2] += 1e-3f;
    onyx_tensor a = kt_tensor(ONYX_FLOAT, 2, D(rows, K), A);
    onyx_tensor b = kt_tensor(ONYX_FLOAT, 2, D(K, N), B);
    onyx_tensor y[1];
    ck_assert_int_eq(kt_run_ex("MatMul", 13, NULL, 0, (onyx_tensor *[]){&a, &b},
                               2, y, 1, NULL, unknown_b ? (int[]){0, 1} : NULL,
                               msg),
                     ONYX_OK);
    expect_dims(&y[0], 2, D(rows, N));
    const float *Y = y[0].data;
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < N; j++) {
            double want = 0, scale = 0;
            for (int n = 0; n < K; n++) {
                want += (double)A[r * K + n] * B[n * N + j];
                scale += fabs((double)A[r * K + n] * B[n * N + j]);
            }
            ck_assert_msg(fabs(Y[r * N + j] - want) <= 1e-5 * (1 + scale),
                          "K %d nb %d rows %d: Y[%d][%d] = %.7g, want %.7g", K,
                          nb, rows, r, j, (double)Y[r * N + j], want);
        }
    kt_free(y, 1);
    free(A);
    free(B);
}

START_TEST(matmul_dft_basis)
{
    const int rows[] = {1, 7, 9};
    for (int i = 0; i < 3; i++) {
        dft_case(64, 33, -1, rows[i], 0, 0);
        dft_case(64, 33, 1, rows[i], 0, 0);
        dft_case(16, 5, -1, rows[i], 0, 0);
        dft_case(12, 7, -1, rows[i], 0, 0);
        dft_case(12, 4, 1, rows[i], 0, 0);
    }
    dft_case(64, 33, -1, 7, 1, 0);
    dft_case(12, 7, -1, 3, 1, 0);
    dft_case(64, 33, -1, 7, 0, 1);
}
END_TEST

START_TEST(matmul_errors)
{
    onyx_tensor a = kt_tensor(ONYX_FLOAT, 2, D(2, 3), F(1, 2, 3, 4, 5, 6));
    onyx_tensor b = kt_tensor(ONYX_FLOAT, 2, D(2, 2), F(1, 2, 3, 4));
    onyx_tensor y[1];
    ck_assert_int_eq(
        kt_run("MatMul", 13, NULL, 0, (onyx_tensor *[]){&a, &b}, 2, y, 1, msg),
        ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "inner dimensions"));
    onyx_tensor a3 =
        kt_tensor(ONYX_FLOAT, 3, D(2, 2, 2), F(0, 0, 0, 0, 0, 0, 0, 0));
    onyx_tensor b3 = kt_tensor(ONYX_FLOAT, 3, D(3, 2, 2),
                               F(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    ck_assert_int_eq(kt_run("MatMul", 13, NULL, 0, (onyx_tensor *[]){&a3, &b3},
                            2, y, 1, msg),
                     ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "batch dims"));
    onyx_tensor ai = kt_tensor(ONYX_INT64, 1, D(1), (int64_t[]){1});
    ck_assert_int_ne(kt_run("MatMul", 13, NULL, 0, (onyx_tensor *[]){&ai, &ai},
                            2, y, 1, msg),
                     ONYX_OK);
    ck_assert_ptr_nonnull(strstr(msg, "int64"));
}
END_TEST

/* ---- Gemm ------------------------------------------------------------ */

START_TEST(gemm_alpha_beta_vector_c)
{
    /* A @ B = [[1+3, 2+3], [4+6, 5+6]] = [[4,5],[10,11]];
     * Y = 2 * A@B + 0.5 * [1,2] per row = [[8.5, 11], [20.5, 23]] */
    onyx_tensor a = kt_tensor(ONYX_FLOAT, 2, D(2, 3), F(1, 2, 3, 4, 5, 6));
    onyx_tensor b = kt_tensor(ONYX_FLOAT, 2, D(3, 2), F(1, 0, 0, 1, 1, 1));
    onyx_tensor c = kt_tensor(ONYX_FLOAT, 1, D(2), F(1, 2));
    onyx_attr at[] = {KT_FLOAT("alpha", 2.0f), KT_FLOAT("beta", 0.5f)};
    onyx_tensor y[1];
    ck_assert_int_eq(
        kt_run("Gemm", 13, at, 2, (onyx_tensor *[]){&a, &b, &c}, 3, y, 1, msg),
        ONYX_OK);
    expect_dims(&y[0], 2, D(2, 2));
    expect(&y[0], F(8.5f, 11, 20.5f, 23), 4);
    kt_free(y, 1);
}
END_TEST

START_TEST(gemm_transposed_column_c)
{
    /* the same product from A^T and B^T; C (2,1) adds 1 to row 0, 2 to row 1 */
    onyx_tensor at_ = kt_tensor(ONYX_FLOAT, 2, D(3, 2), F(1, 4, 2, 5, 3, 6));
    onyx_tensor bt = kt_tensor(ONYX_FLOAT, 2, D(2, 3), F(1, 0, 1, 0, 1, 1));
    onyx_tensor c = kt_tensor(ONYX_FLOAT, 2, D(2, 1), F(1, 2));
    onyx_attr at[] = {KT_INT("transA", 1), KT_INT("transB", 1)};
    onyx_tensor y[1];
    ck_assert_int_eq(kt_run("Gemm", 13, at, 2, (onyx_tensor *[]){&at_, &bt, &c},
                            3, y, 1, msg),
                     ONYX_OK);
    expect(&y[0], F(5, 6, 12, 13), 4);
    kt_free(y, 1);
    /* no C (opset 11+): the bare product */
    ck_assert_int_eq(kt_run("Gemm", 11, at, 2,
                            (onyx_tensor *[]){&at_, &bt, NULL}, 3, y, 1, msg),
                     ONYX_OK);
    expect(&y[0], F(4, 5, 10, 11), 4);
    kt_free(y, 1);
    /* scalar C = 3 broadcast everywhere */
    onyx_tensor s = kt_tensor(ONYX_FLOAT, 0, NULL, F(3));
    ck_assert_int_eq(kt_run("Gemm", 11, at, 2, (onyx_tensor *[]){&at_, &bt, &s},
                            3, y, 1, msg),
                     ONYX_OK);
    expect(&y[0], F(7, 8, 13, 14), 4);
    kt_free(y, 1);
}
END_TEST

START_TEST(gemm_errors)
{
    onyx_tensor a = kt_tensor(ONYX_FLOAT, 2, D(2, 3), F(1, 2, 3, 4, 5, 6));
    onyx_tensor b = kt_tensor(ONYX_FLOAT, 2, D(3, 2), F(1, 0, 0, 1, 1, 1));
    onyx_tensor c = kt_tensor(ONYX_FLOAT, 1, D(3), F(1, 2, 3));
    onyx_tensor y[1];
    ck_assert_int_eq(kt_run("Gemm", 13, NULL, 0, (onyx_tensor *[]){&a, &b, &c},
                            3, y, 1, msg),
                     ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "cannot be broadcast"));
    onyx_attr at[] = {KT_INT("transB", 1)};
    ck_assert_int_eq(kt_run("Gemm", 13, at, 1, (onyx_tensor *[]){&a, &b, NULL},
                            3, y, 1, msg),
                     ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "inner dimensions"));
}
END_TEST

/* ---- onyx_sgemm against the definition --------------------------------- */

START_TEST(sgemm_matches_naive)
{
    /* odd sizes cross the block edges of the portable kernel: the first
     * splits M over two row blocks, the next two K over two slices and N
     * over two column blocks (5 rows: packed only for a transposed B); the
     * fourth is a single row (never packed), the last has depth 0 (C =
     * beta * C) */
    enum { LD = 320 };
    static float A[LD * LD], B[LD * LD], C[LD * LD], R[LD * LD];
    static const int sizes[][3] = {
        {37, 53, 71}, {5, 130, 300}, {20, 130, 300}, {1, 21, 9}, {3, 17, 0}};
    for (int i = 0; i < LD * LD; i++) {
        A[i] = (float)((i * 7) % 13) - 6;
        B[i] = (float)((i * 5) % 11) - 5;
    }
    for (int sz = 0; sz < 5; sz++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++)
                for (int bi = 0; bi < 3; bi++) {
                    int M = sizes[sz][0], N = sizes[sz][1], K = sizes[sz][2];
                    float alpha = 0.5f, beta = bi == 0   ? 0.0f
                                               : bi == 1 ? 1.0f
                                                         : -2.0f;
                    for (int i = 0; i < LD * LD; i++)
                        C[i] = R[i] = (float)(i % 5);
                    for (int i = 0; i < M; i++)
                        for (int j = 0; j < N; j++) {
                            double s = 0;
                            for (int p = 0; p < K; p++)
                                s += (double)(ta ? A[p * LD + i]
                                                 : A[i * LD + p]) *
                                     (tb ? B[j * LD + p] : B[p * LD + j]);
                            R[i * LD + j] =
                                (float)(alpha * s +
                                        (beta == 0 ? 0 : beta * R[i * LD + j]));
                        }
                    float *work = aligned_alloc(
                        64, (onyx_sgemm_scratch_bytes(M, N, K) + 64) / 64 * 64);
                    ck_assert_ptr_nonnull(work);
                    onyx_sgemm(ta, tb, M, N, K, alpha, A, LD, B, LD, beta, C,
                               LD, work);
                    free(work);
                    /* every element, also those outside the (M, N) block
                     * that must stay untouched; one assert (each costs a
                     * write to Check's pipe) */
                    int bad = -1;
                    for (int i = 0; i < LD * LD && bad < 0; i++)
                        if (!(fabsf(C[i] - R[i]) <= 1e-3f * (1 + fabsf(R[i]))))
                            bad = i;
                    ck_assert_msg(
                        bad < 0,
                        "%dx%dx%d ta %d tb %d beta %g: C[%d] = %g, expected %g",
                        M, N, K, ta, tb, beta, bad, bad < 0 ? 0 : C[bad],
                        bad < 0 ? 0 : R[bad]);
                }
}
END_TEST

/* ---- Conv ------------------------------------------------------------ */

START_TEST(conv_2d_basic_and_bias)
{
    /* X = 0..8 in 3x3, 2x2 kernel of ones: each output is the sum of a
     * 2x2 block: 0+1+3+4, 1+2+4+5, 3+4+6+7, 4+5+7+8; bias adds 1 */
    onyx_tensor x =
        kt_tensor(ONYX_FLOAT, 4, D(1, 1, 3, 3), F(0, 1, 2, 3, 4, 5, 6, 7, 8));
    onyx_tensor w = kt_tensor(ONYX_FLOAT, 4, D(1, 1, 2, 2), F(1, 1, 1, 1));
    onyx_tensor b = kt_tensor(ONYX_FLOAT, 1, D(1), F(1));
    onyx_tensor y[1];
    ck_assert_int_eq(kt_run("Conv", 11, NULL, 0, (onyx_tensor *[]){&x, &w, &b},
                            3, y, 1, msg),
                     ONYX_OK);
    expect_dims(&y[0], 4, D(1, 1, 2, 2));
    expect(&y[0], F(9, 13, 21, 25), 4);
    kt_free(y, 1);
    /* 3x3 kernel, pads 1, stride 2: the corner windows see the 2x2 corner
     * blocks, giving the same sums without bias */
    onyx_tensor w3 =
        kt_tensor(ONYX_FLOAT, 4, D(1, 1, 3, 3), F(1, 1, 1, 1, 1, 1, 1, 1, 1));
    onyx_attr at[] = {KT_INTS("pads", 4, D(1, 1, 1, 1)),
                      KT_INTS("strides", 2, D(2, 2)),
                      KT_INTS("kernel_shape", 2, D(3, 3))};
    ck_assert_int_eq(kt_run("Conv", 11, at, 3, (onyx_tensor *[]){&x, &w3, NULL},
                            3, y, 1, msg),
                     ONYX_OK);
    expect_dims(&y[0], 4, D(1, 1, 2, 2));
    expect(&y[0], F(8, 12, 20, 24), 4);
    kt_free(y, 1);
}
END_TEST

START_TEST(conv_1d_depthwise)
{
    /* two channels, group 2: ch0 [1,2,3,4] * [1,-1] -> differences -1;
     * ch1 [10,20,30,40] * [.5,.5] -> pairwise means 15, 25, 35 */
    onyx_tensor x =
        kt_tensor(ONYX_FLOAT, 3, D(1, 2, 4), F(1, 2, 3, 4, 10, 20, 30, 40));
    onyx_tensor w = kt_tensor(ONYX_FLOAT, 3, D(2, 1, 2), F(1, -1, 0.5f, 0.5f));
    onyx_attr at[] = {KT_INT("group", 2)};
    onyx_tensor y[1];
    ck_assert_int_eq(
        kt_run("Conv", 11, at, 1, (onyx_tensor *[]){&x, &w}, 2, y, 1, msg),
        ONYX_OK);
    expect_dims(&y[0], 3, D(1, 2, 3));
    expect(&y[0], F(-1, -1, -1, 15, 25, 35), 6);
    kt_free(y, 1);
}
END_TEST

START_TEST(conv_1d_dilated_same_upper)
{
    /* kernel [1,1,1] dilated by 2 spans 5; SAME_UPPER pads 2 and 2:
     * y[o] = x[o-2] + x[o] + x[o+2] = 0+1+3, 0+2+4, 1+3+5, 2+4+0, 3+5+0 */
    onyx_tensor x = kt_tensor(ONYX_FLOAT, 3, D(1, 1, 5), F(1, 2, 3, 4, 5));
    onyx_tensor w = kt_tensor(ONYX_FLOAT, 3, D(1, 1, 3), F(1, 1, 1));
    onyx_attr at[] = {KT_INTS("dilations", 1, D(2)),
                      KT_STRING("auto_pad", "SAME_UPPER")};
    onyx_tensor y[1];
    ck_assert_int_eq(
        kt_run("Conv", 11, at, 2, (onyx_tensor *[]){&x, &w}, 2, y, 1, msg),
        ONYX_OK);
    expect(&y[0], F(4, 6, 9, 6, 8), 5);
    kt_free(y, 1);
    /* SAME_LOWER with stride 2 on 4 inputs, kernel 2: out 2, pad 0 total;
     * kernel 3: total pad 1 goes in front: y = [0+1+2, 2+3+4] */
    onyx_tensor x4 = kt_tensor(ONYX_FLOAT, 3, D(1, 1, 4), F(1, 2, 3, 4));
    onyx_attr at2[] = {KT_INTS("strides", 1, D(2)),
                       KT_STRING("auto_pad", "SAME_LOWER")};
    ck_assert_int_eq(
        kt_run("Conv", 11, at2, 2, (onyx_tensor *[]){&x4, &w}, 2, y, 1, msg),
        ONYX_OK);
    expect(&y[0], F(3, 9), 2);
    kt_free(y, 1);
}
END_TEST

START_TEST(conv_pointwise_and_3d)
{
    /* 1x1 kernel mixing 2 channels: out0 = in0 + in1, out1 = 2*in0 - in1 */
    onyx_tensor x = kt_tensor(ONYX_FLOAT, 4, D(1, 2, 1, 2), F(1, 2, 3, 4));
    onyx_tensor w = kt_tensor(ONYX_FLOAT, 4, D(2, 2, 1, 1), F(1, 1, 2, -1));
    onyx_tensor y[1];
    ck_assert_int_eq(
        kt_run("Conv", 11, NULL, 0, (onyx_tensor *[]){&x, &w}, 2, y, 1, msg),
        ONYX_OK);
    expect(&y[0], F(4, 6, -1, 0), 4);
    kt_free(y, 1);
    /* 1x1 kernel with an end pad is not pointwise: the padded position
     * sees only zeros: 2 * [1, 2, pad] = [2, 4, 0] */
    onyx_tensor x1 = kt_tensor(ONYX_FLOAT, 3, D(1, 1, 2), F(1, 2));
    onyx_tensor w1 = kt_tensor(ONYX_FLOAT, 3, D(1, 1, 1), F(2));
    onyx_attr pe[] = {KT_INTS("pads", 2, D(0, 1))};
    ck_assert_int_eq(
        kt_run("Conv", 11, pe, 1, (onyx_tensor *[]){&x1, &w1}, 2, y, 1, msg),
        ONYX_OK);
    expect(&y[0], F(2, 4, 0), 3);
    kt_free(y, 1);
    /* 3-D: a 2x2x2 cube of ones over 0..7 sums to 28 */
    onyx_tensor x3 =
        kt_tensor(ONYX_FLOAT, 5, D(1, 1, 2, 2, 2), F(0, 1, 2, 3, 4, 5, 6, 7));
    onyx_tensor w3 =
        kt_tensor(ONYX_FLOAT, 5, D(1, 1, 2, 2, 2), F(1, 1, 1, 1, 1, 1, 1, 1));
    ck_assert_int_eq(
        kt_run("Conv", 11, NULL, 0, (onyx_tensor *[]){&x3, &w3}, 2, y, 1, msg),
        ONYX_OK);
    expect_dims(&y[0], 5, D(1, 1, 1, 1, 1));
    expect(&y[0], F(28), 1);
    kt_free(y, 1);
}
END_TEST

/* Direct 2-D convolution by the definition, to check im2col + sgemm. */
static void conv2d_ref(float *y, const float *x, const float *w, const float *b,
                       int N, int C, int H, int Wd, int M, int G, int kh,
                       int kw, int sh, int sw, int dh, int dw, int ph, int pw,
                       int OH, int OW)
{
    int Cg = C / G, Mg = M / G;
    for (int n = 0; n < N; n++)
        for (int m = 0; m < M; m++)
            for (int oh = 0; oh < OH; oh++)
                for (int ow = 0; ow < OW; ow++) {
                    double s = b ? b[m] : 0;
                    int g = m / Mg;
                    for (int c = 0; c < Cg; c++)
                        for (int i = 0; i < kh; i++)
                            for (int j = 0; j < kw; j++) {
                                int ih = oh * sh - ph + i * dh,
                                    iw = ow * sw - pw + j * dw;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= Wd)
                                    continue;
                                s +=
                                    (double)
                                        x[((n * C + g * Cg + c) * H + ih) * Wd +
                                          iw] *
                                    w[((m * Cg + c) * kh + i) * kw + j];
                            }
                    y[((n * M + m) * OH + oh) * OW + ow] = (float)s;
                }
}

START_TEST(conv_2d_matches_reference)
{
    /* groups, strides, dilations and asymmetric pads together; also the
     * depthwise path (group = C = M) */
    enum { N = 2, C = 4, H = 7, Wd = 6 };
    static float x[N * C * H * Wd], w[8 * 4 * 3 * 2], b[8], r[N * 8 * 8 * 8];
    for (int i = 0; i < N * C * H * Wd; i++)
        x[i] = (float)((i * 37) % 17) / 4 - 2;
    for (int i = 0; i < 8 * 4 * 3 * 2; i++)
        w[i] = (float)((i * 11) % 7) / 3 - 1;
    for (int i = 0; i < 8; i++)
        b[i] = (float)i / 2;
    struct {
        int M, G;
    } cases[] = {{8, 2}, {4, 4}, {8, 4}, {6, 1}};
    for (unsigned t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        int M = cases[t].M, G = cases[t].G, Cg = C / G;
        /* kernel 3x2, stride (2,1), dilation (1,2), pads top 1 left 2 bottom 0
         * right 1 */
        int OH = (H + 1 - 3) / 2 + 1, OW = (Wd + 3 - 3) / 1 + 1;
        onyx_tensor tx = kt_tensor(ONYX_FLOAT, 4, D(N, C, H, Wd), x);
        onyx_tensor tw = kt_tensor(ONYX_FLOAT, 4, D(M, Cg, 3, 2), w);
        onyx_tensor tb = kt_tensor(ONYX_FLOAT, 1, D(M), b);
        onyx_attr at[] = {KT_INT("group", G), KT_INTS("strides", 2, D(2, 1)),
                          KT_INTS("dilations", 2, D(1, 2)),
                          KT_INTS("pads", 4, D(1, 2, 0, 1))};
        onyx_tensor y[1];
        ck_assert_int_eq(kt_run("Conv", 11, at, 4,
                                (onyx_tensor *[]){&tx, &tw, &tb}, 3, y, 1, msg),
                         ONYX_OK);
        expect_dims(&y[0], 4, D(N, M, OH, OW));
        conv2d_ref(r, x, w, b, N, C, H, Wd, M, G, 3, 2, 2, 1, 1, 2, 1, 2, OH,
                   OW);
        expect(&y[0], r, N * M * OH * OW);
        kt_free(y, 1);
    }
}
END_TEST

START_TEST(conv_chunked_matches_reference)
{
    /* outputs long enough that the column matrix is built in several
     * passes, one ending mid-row: 1-D (K = 4*3, 30000 outputs, dilation 2,
     * pads 2 and 1) and 2-D (K = 9, 130x130 outputs) */
    enum { L = 30001, HW = 130 };
    static float x[4 * L], w[3 * 4 * 3], b[3], r[3 * L];
    for (int i = 0; i < 4 * L; i++)
        x[i] = (float)((i * 37) % 17) / 4 - 2;
    for (int i = 0; i < 36; i++)
        w[i] = (float)((i * 11) % 7) / 3 - 1;
    for (int i = 0; i < 3; i++)
        b[i] = (float)i;
    onyx_tensor tx = kt_tensor(ONYX_FLOAT, 3, D(1, 4, L), x);
    onyx_tensor tw = kt_tensor(ONYX_FLOAT, 3, D(3, 4, 3), w);
    onyx_tensor tb = kt_tensor(ONYX_FLOAT, 1, D(3), b);
    onyx_attr at[] = {KT_INTS("dilations", 1, D(2)),
                      KT_INTS("pads", 2, D(2, 1))};
    onyx_tensor y[1];
    ck_assert_int_eq(kt_run("Conv", 11, at, 2, (onyx_tensor *[]){&tx, &tw, &tb},
                            3, y, 1, msg),
                     ONYX_OK);
    expect_dims(&y[0], 3, D(1, 3, L - 1));
    /* as 2-D with H = 1: pads top 0 left 2 bottom 0 right 1 */
    conv2d_ref(r, x, w, b, 1, 4, 1, L, 3, 1, 1, 3, 1, 1, 1, 2, 0, 2, 1, L - 1);
    expect(&y[0], r, 3 * (L - 1));
    kt_free(y, 1);

    onyx_tensor tx2 = kt_tensor(ONYX_FLOAT, 4, D(1, 1, HW, HW), x);
    onyx_tensor tw2 = kt_tensor(ONYX_FLOAT, 4, D(2, 1, 3, 3), w);
    onyx_attr at2[] = {KT_INTS("pads", 4, D(1, 1, 1, 1))};
    ck_assert_int_eq(
        kt_run("Conv", 11, at2, 1, (onyx_tensor *[]){&tx2, &tw2}, 2, y, 1, msg),
        ONYX_OK);
    conv2d_ref(r, x, w, NULL, 1, 1, HW, HW, 2, 1, 3, 3, 1, 1, 1, 1, 1, 1, HW,
               HW);
    expect(&y[0], r, 2 * HW * HW);
    kt_free(y, 1);
}
END_TEST

/* 1-D convolutions with many channels and constant weights take the paths
 * that skip im2col: Winograd F(4,3) without dilation, one sgemm per tap
 * with it. 32 channels, all of them x = [0, 1, 2, 3, 4], and W[m] = m + 1
 * everywhere, so each output is 32 * (m + 1) * (sum of the inputs under
 * the kernel) + B[m]. */
START_TEST(conv_1d_many_channels)
{
    enum { C = 32, M = 2, L = 5 };
    static float x[C * L], w[M * C * 3];
    for (int c = 0; c < C; c++)
        for (int i = 0; i < L; i++)
            x[c * L + i] = (float)i;
    for (int i = 0; i < M * C * 3; i++)
        w[i] = (float)(i / (C * 3) + 1);
    onyx_tensor tx = kt_tensor(ONYX_FLOAT, 3, D(1, C, L), x);
    onyx_tensor tw = kt_tensor(ONYX_FLOAT, 3, D(M, C, 3), w);
    onyx_tensor tb = kt_tensor(ONYX_FLOAT, 1, D(M), F(0.5f, -1));
    onyx_tensor y[1];
    /* pads 1, 1: under the kernel [0,0,1], [0,1,2], [1,2,3], [2,3,4],
     * [3,4,0]: sums 1, 3, 6, 9, 7 (a whole tile of 4, then one output) */
    onyx_attr p1[] = {KT_INTS("pads", 2, D(1, 1))};
    ck_assert_int_eq(kt_run("Conv", 11, p1, 1, (onyx_tensor *[]){&tx, &tw, &tb},
                            3, y, 1, msg),
                     ONYX_OK);
    expect_dims(&y[0], 3, D(1, M, 5));
    expect(&y[0],
           F(32.5f, 96.5f, 192.5f, 288.5f, 224.5f, 63, 191, 383, 575, 447), 10);
    kt_free(y, 1);
    /* no pads: [0,1,2], [1,2,3], [2,3,4]: sums 3, 6, 9 */
    ck_assert_int_eq(
        kt_run("Conv", 11, NULL, 0, (onyx_tensor *[]){&tx, &tw}, 2, y, 1, msg),
        ONYX_OK);
    expect(&y[0], F(96, 192, 288, 192, 384, 576), 6);
    kt_free(y, 1);
    /* dilation 2, pads 2, 2: under the kernel x[o-2], x[o], x[o+2] ->
     * [0,0,2], [0,1,3], [0,2,4], [1,3,0], [2,4,0]: sums 2, 4, 6, 4, 6 */
    onyx_attr d2[] = {KT_INTS("dilations", 1, D(2)),
                      KT_INTS("pads", 2, D(2, 2))};
    ck_assert_int_eq(
        kt_run("Conv", 11, d2, 2, (onyx_tensor *[]){&tx, &tw}, 2, y, 1, msg),
        ONYX_OK);
    expect(&y[0], F(64, 128, 192, 128, 192, 128, 256, 384, 256, 384), 10);
    kt_free(y, 1);
    /* dilation 2, no pads (X read in place): [0,2,4]: sum 6 */
    onyx_attr d2v[] = {KT_INTS("dilations", 1, D(2))};
    ck_assert_int_eq(
        kt_run("Conv", 11, d2v, 1, (onyx_tensor *[]){&tx, &tw}, 2, y, 1, msg),
        ONYX_OK);
    expect(&y[0], F(192, 384), 2);
    kt_free(y, 1);
}
END_TEST

/* |y - want| <= tol * (the largest |want|), over n values */
static void expect_close(const onyx_tensor *t, const float *want, int n,
                         float tol)
{
    ck_assert_int_eq((int)onyx_numel(t), n);
    const float *y = t->data;
    float scale = 1e-30f;
    for (int i = 0; i < n; i++)
        if (fabsf(want[i]) > scale) scale = fabsf(want[i]);
    for (int i = 0; i < n; i++)
        ck_assert_msg(fabsf(y[i] - want[i]) <= tol * scale,
                      "y[%d] = %g, expected %g (scale %g)", i, y[i], want[i],
                      scale);
}

START_TEST(conv_1d_many_channels_match_reference)
{
    /* random 1-D cases on both fast paths (Winograd when d = 1, per-tap
     * sgemms when d > 1) against the definition: kernel sizes 2 to 9 (J = 1
     * to 3 tap triples, some with appended zero taps), groups, asymmetric
     * pads, auto_pad, batch 2, odd and even lengths, and lengths that take
     * several Winograd passes, and the zoo's 256 channels; then W as a
     * graph input (the im2col path) */
    enum { LMAX = 3001, CMAX = 80, MMAX = 40, KMAX = 9 };
    static float x[2 * CMAX * LMAX], w[MMAX * CMAX * KMAX], b[MMAX];
    static float r[2 * MMAX * (LMAX + 16)];
    unsigned seed = 12345;
    for (int i = 0; i < 2 * CMAX * LMAX; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = (float)((seed >> 9) * (2.0 / 8388608.0) - 1.0);
    }
    for (int i = 0; i < MMAX * CMAX * KMAX; i++) {
        seed = seed * 1664525u + 1013904223u;
        w[i] = (float)((seed >> 9) * (0.2 / 8388608.0) - 0.1);
    }
    for (int i = 0; i < MMAX; i++)
        b[i] = (float)i / 8 - 2;
    struct {
        int N, C, M, G, L, k, d, pb, pe;
        const char *auto_pad;
    } cases[] = {
        {1, 32, 8, 1, 64, 3, 1, 1, 1, NULL}, /* Winograd, the resnet case */
        {2, 40, 6, 1, 33, 3, 1, 0, 0, NULL}, /* odd output count */
        {1, 32, 5, 1, 50, 2, 1, 1, 0, NULL}, /* one zero tap appended */
        {1, 48, 7, 1, 41, 9, 1, 4, 3, NULL}, /* J = 3 */
        {1, 32, 4, 1, 20, 5, 1, 0, 2, NULL}, /* J = 2, end pad only */
        {1, 64, 8, 2, 30, 4, 1, 2, 1, NULL}, /* groups of 32 */
        {1, 32, 3, 1, 17, 3, 1, 0, 0, "SAME_LOWER"},
        {1, 32, 40, 1, LMAX, 9, 1, 4, 4, NULL}, /* several passes */
        {1, 80, 8, 1, 2000, 3, 1, 1, 1, NULL},  /* several passes */
        {1, 256, 8, 1, 1024, 9, 1, 4, 4, NULL}, /* the zoo's depth */
        {1, 32, 6, 1, 40, 3, 2, 0, 0, NULL},    /* taps, X in place */
        {2, 32, 6, 1, 39, 3, 3, 2, 4, NULL},    /* taps, padded copy */
        {1, 64, 10, 2, 45, 5, 2, 3, 3, NULL},   /* taps, groups */
        {1, 32, 4, 1, 30, 2, 4, 0, 0, "SAME_UPPER"},
        {1, 32, 8, 1, LMAX, 3, 8, 0, 0, NULL}, /* taps, long */
    };
    for (unsigned t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        const int N = cases[t].N, C = cases[t].C, M = cases[t].M,
                  G = cases[t].G, L = cases[t].L, k = cases[t].k,
                  d = cases[t].d;
        int pb = cases[t].pb, pe = cases[t].pe;
        const int ke = (k - 1) * d + 1;
        if (cases[t].auto_pad) { /* stride 1: total pad ke - 1 */
            int total = ke - 1;
            pb = strcmp(cases[t].auto_pad, "SAME_UPPER") ? total - total / 2
                                                         : total / 2;
            pe = total - pb;
        }
        const int OL = L + pb + pe - ke + 1;
        onyx_tensor tx = kt_tensor(ONYX_FLOAT, 3, D(N, C, L), x);
        onyx_tensor tw = kt_tensor(ONYX_FLOAT, 3, D(M, C / G, k), w);
        onyx_tensor tb = kt_tensor(ONYX_FLOAT, 1, D(M), b);
        int64_t d64 = d, pads[2] = {pb, pe};
        onyx_attr at[3] = {KT_INT("group", G), KT_INTS("dilations", 1, &d64),
                           KT_INTS("pads", 2, pads)};
        if (cases[t].auto_pad)
            at[2] = (onyx_attr)KT_STRING("auto_pad", cases[t].auto_pad);
        conv2d_ref(r, x, w, b, N, C, 1, L, M, G, 1, k, 1, 1, 1, d, 0, pb, 1,
                   OL);
        for (int unknown_w = 0; unknown_w < 2; unknown_w++) {
            onyx_tensor y[1];
            ck_assert_msg(kt_run_ex("Conv", 11, at, 3,
                                    (onyx_tensor *[]){&tx, &tw, &tb}, 3, y, 1,
                                    NULL, (int[]){0, unknown_w, 0},
                                    msg) == ONYX_OK,
                          "case %u: %s", t, msg);
            expect_dims(&y[0], 3, D(N, M, OL));
            expect_close(&y[0], r, N * M * OL, 1e-5f);
            kt_free(y, 1);
        }
    }
}
END_TEST

/* 1-D convolutions with few input channels x taps and constant weights run
 * direct (conv_direct.h). Stride 2, pads 1, 1, 2 channels, 5 outputs
 * channels (not a whole tile of any kernel):
 *   x0 = [1 .. 7] padded [0,1,2,3,4,5,6,7,0], W[m][0] = [1, 2, 3]: windows
 *   [0,1,2], [2,3,4], [4,5,6], [6,7,0] give 8, 20, 32, 20;
 *   x1 = 1s, W[m][1] = [m, 0, 0]: its first tap on the pad, then 1: m * [0,
 *   1, 1, 1]; B[m] = 100 m. */
START_TEST(conv_1d_direct)
{
    enum { C = 2, M = 5, L = 7 };
    static float w[M * C * 3];
    for (int m = 0; m < M; m++) {
        w[m * 6 + 0] = 1, w[m * 6 + 1] = 2, w[m * 6 + 2] = 3;
        w[m * 6 + 3] = (float)m;
    }
    onyx_tensor tx = kt_tensor(ONYX_FLOAT, 3, D(1, C, L),
                               F(1, 2, 3, 4, 5, 6, 7, 1, 1, 1, 1, 1, 1, 1));
    onyx_tensor tw = kt_tensor(ONYX_FLOAT, 3, D(M, C, 3), w);
    onyx_tensor tb = kt_tensor(ONYX_FLOAT, 1, D(M), F(0, 100, 200, 300, 400));
    onyx_tensor y[1];
    onyx_attr at[] = {KT_INTS("pads", 2, D(1, 1)), KT_INTS("strides", 1, D(2))};
    ck_assert_int_eq(kt_run("Conv", 11, at, 2, (onyx_tensor *[]){&tx, &tw, &tb},
                            3, y, 1, msg),
                     ONYX_OK);
    expect_dims(&y[0], 3, D(1, M, 4));
    expect(&y[0],
           F(8, 20, 32, 20, 108, 121, 133, 121, 208, 222, 234, 222, 308, 323,
             335, 323, 408, 424, 436, 424),
           20);
    kt_free(y, 1);
    /* dilation 3, stride 3, no pads, channel 0 only (W[m][1] = 0): output
     * p reads x0[3p], x0[3p + 3], x0[3p + 6]: p = 0 only, 1 + 8 + 21 */
    for (int m = 0; m < M; m++)
        w[m * 6 + 3] = 0;
    onyx_attr at2[] = {KT_INTS("dilations", 1, D(3)),
                       KT_INTS("strides", 1, D(3))};
    ck_assert_int_eq(
        kt_run("Conv", 11, at2, 2, (onyx_tensor *[]){&tx, &tw}, 2, y, 1, msg),
        ONYX_OK);
    expect(&y[0], F(30, 30, 30, 30, 30), 5);
    kt_free(y, 1);
}
END_TEST

/* 2-D stride-1 convolutions with constant weights run direct over their
 * zero-padded planes (conv.c's 2-D CONV_DIRECT): openWakeWord's 1x3 (padded
 * along W: each row widened, its extra columns dropped) and 3x1 (rows kept
 * as they are; with pad rows above and below) kernels, a 3x3 with asymmetric
 * pads, dilations, groups, a batch of 2, channel counts that leave partial
 * tiles; against the definition. */
START_TEST(conv_2d_direct_match_reference)
{
    static const struct {
        int C, M, G, H, W, kh, kw, dh, dw, pt, pl, pb, pr;
    } cases[] = {
        {24, 24, 1, 9, 32, 1, 3, 1, 1, 0, 1, 0, 1},
        {24, 24, 1, 9, 32, 3, 1, 1, 1, 0, 0, 0, 0},
        {6, 8, 1, 10, 20, 3, 1, 1, 1, 1, 0, 2, 0},
        {5, 7, 1, 9, 8, 3, 3, 1, 1, 1, 2, 0, 1},
        {4, 6, 2, 7, 9, 2, 3, 2, 1, 1, 0, 1, 2},
        {3, 5, 1, 20, 2, 1, 3, 1, 1, 0, 1, 0, 1},
        {1, 9, 1, 11, 13, 3, 3, 1, 2, 0, 2, 0, 2},
    };
    enum { N = 2, MAXN = 2 * 24 * 9 * 32 * 2 };
    static float x[MAXN], w[24 * 24 * 9], b[24], r[MAXN];
    unsigned seed = 3;
    for (unsigned t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        const int C = cases[t].C, M = cases[t].M, G = cases[t].G;
        const int H = cases[t].H, W = cases[t].W, kh = cases[t].kh,
                  kw = cases[t].kw, dh = cases[t].dh, dw = cases[t].dw;
        const int OH = H + cases[t].pt + cases[t].pb - (kh - 1) * dh;
        const int OW = W + cases[t].pl + cases[t].pr - (kw - 1) * dw;
        for (int i = 0; i < N * C * H * W; i++)
            x[i] = (float)(seed = seed * 1103515245u + 12345u) / 4294967296.0f -
                   0.5f;
        for (int i = 0; i < M * (C / G) * kh * kw; i++)
            w[i] = (float)(seed = seed * 1103515245u + 12345u) / 4294967296.0f -
                   0.5f;
        for (int i = 0; i < M; i++)
            b[i] = (float)i / 4;
        onyx_tensor tx = kt_tensor(ONYX_FLOAT, 4, D(N, C, H, W), x);
        onyx_tensor tw = kt_tensor(ONYX_FLOAT, 4, D(M, C / G, kh, kw), w);
        onyx_tensor tb = kt_tensor(ONYX_FLOAT, 1, D(M), b);
        onyx_attr at[] = {
            KT_INT("group", G), KT_INTS("dilations", 2, D(dh, dw)),
            KT_INTS("pads", 4,
                    D(cases[t].pt, cases[t].pl, cases[t].pb, cases[t].pr))};
        onyx_tensor y[1];
        ck_assert_int_eq(kt_run("Conv", 11, at, 3,
                                (onyx_tensor *[]){&tx, &tw, &tb}, 3, y, 1, msg),
                         ONYX_OK);
        expect_dims(&y[0], 4, D(N, M, OH, OW));
        conv2d_ref(r, x, w, b, N, C, H, W, M, G, kh, kw, 1, 1, dh, dw,
                   cases[t].pt, cases[t].pl, OH, OW);
        expect_close(&y[0], r, N * M * OH * OW, 1e-5f);
        kt_free(y, 1);
    }
}
END_TEST

/* The phase rows and offsets by hand: x = [1 .. 5], stride 2, pad 1,
 * kernel 3, dilation 1, P 3: padded [0,1,2,3,4,5,0], phase 0 = x at -1, 1,
 * 3, 5 (0, 2, 4, 0 past x's end), phase 1 = [1, 3, 5, 0 ...]; tap k reads
 * phase k % 2 from column k / 2. */
START_TEST(conv_direct_layouts)
{
    const int64_t Lq = onyx_conv_direct_row(3, 3, 1, 2);
    ck_assert_int_eq((int)Lq, ONYX_CONV_DIRECT_OVER + 1);
    static float xp[2 * (ONYX_CONV_DIRECT_OVER + 1)];
    onyx_conv_direct_phases(xp, (const float[]){1, 2, 3, 4, 5}, 1, 5, 1, 2, Lq);
    const float want0[] = {0, 2, 4, 0}, want1[] = {1, 3, 5, 0};
    for (int j = 0; j < 4; j++) {
        ck_assert_float_eq(xp[j], want0[j]);
        ck_assert_float_eq(xp[Lq + j], want1[j]);
    }
    int32_t off[3];
    onyx_conv_direct_offsets(off, 1, 3, 1, 2, Lq);
    ck_assert_int_eq(off[0], 0);
    ck_assert_int_eq(off[1], (int)Lq);
    ck_assert_int_eq(off[2], 1);
    /* packed for tile 4: 5 channels of 2 taps -> 2 tiles, zeros past */
    float Wp[2 * 2 * 4];
    onyx_conv_direct_pack(Wp, (const float[]){1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 5,
                          2, 4);
    const float wantp[] = {1, 3, 5, 7, 2, 4, 6, 8, 9, 0, 0, 0, 10, 0, 0, 0};
    for (int i = 0; i < 16; i++)
        ck_assert_float_eq(Wp[i], wantp[i]);
}
END_TEST

/* Every usable micro-kernel against the definition, on output counts from
 * one to several full tiles with every kind of tail, channel counts not a
 * multiple of any tile, strides, dilations and pads; then the Conv op on
 * the same cases (the kernel this CPU picks). */
START_TEST(conv_direct_match_reference)
{
    enum { CMAX = 16, MMAX = 33, LMAX = 700, KMAX = 9 };
    static float x[CMAX * LMAX], w[MMAX * CMAX * KMAX], b[MMAX];
    static float r[MMAX * LMAX], y[MMAX * LMAX], xp[8 * CMAX * (LMAX + 64)];
    static float Wp[(MMAX + 8) * CMAX * KMAX];
    static int32_t off[CMAX * KMAX];
    unsigned seed = 777;
    for (int i = 0; i < CMAX * LMAX; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = (float)((seed >> 9) * (2.0 / 8388608.0) - 1.0);
    }
    for (int i = 0; i < MMAX * CMAX * KMAX; i++) {
        seed = seed * 1664525u + 1013904223u;
        w[i] = (float)((seed >> 9) * (0.2 / 8388608.0) - 0.1);
    }
    for (int i = 0; i < MMAX; i++)
        b[i] = (float)i / 8 - 2;
    struct {
        int C, M, L, k, s, d, pb, pe;
    } cases[] = {
        {1, 16, 1024, 9, 2, 1, 0, 0}, /* the sound classifier's */
        {16, 16, 508, 9, 2, 1, 0, 0}, {16, 32, 250, 9, 2, 1, 0, 0},
        {1, 3, 5, 3, 1, 1, 1, 1},     /* one partial vector */
        {3, 7, 60, 4, 1, 2, 3, 2},    /* dilated */
        {5, 9, 97, 3, 3, 2, 2, 5},    /* stride 3, dilated, pads */
        {2, 33, 200, 5, 2, 1, 2, 2},  /* channels past two AVX-512 tiles */
        {16, 12, 700, 1, 1, 1, 0, 0}, /* one tap */
        {4, 8, 49, 7, 4, 1, 3, 3},    /* stride above the taps' reach */
    };
    const onyx_conv_direct_kernel *ks[4];
    const int nk = onyx_conv_direct_kernels(ks, 4);
    for (unsigned t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        const int C = cases[t].C, M = cases[t].M, L = cases[t].L,
                  k = cases[t].k, s = cases[t].s, d = cases[t].d,
                  pb = cases[t].pb, pe = cases[t].pe;
        const int P = (L + pb + pe - (k - 1) * d - 1) / s + 1;
        conv2d_ref(r, x, w, b, 1, C, 1, L, M, 1, 1, k, 1, s, 1, d, 0, pb, 1, P);
        const int64_t Lq = onyx_conv_direct_row(P, k, d, s);
        ck_assert(C * s * Lq <= (int64_t)(sizeof xp / sizeof xp[0]));
        onyx_conv_direct_phases(xp, x, C, L, pb, s, Lq);
        onyx_conv_direct_offsets(off, C, k, d, s, Lq);
        for (int i = 0; i < nk; i++) {
            onyx_conv_direct_pack(Wp, w, M, C * k, ks[i]->mr);
            memset(y, 0xff, sizeof y); /* NaN: every output written */
            const onyx_conv_direct_args a = {y, xp, off, Wp, b, M, P, C * k};
            ks[i]->fn(&a);
            for (int j = 0; j < M * P; j++)
                ck_assert_msg(fabsf(y[j] - r[j]) <= 1e-5f,
                              "case %u, %s: y[%d] = %g, expected %g", t,
                              ks[i]->name, j, y[j], r[j]);
        }
        onyx_tensor tx = kt_tensor(ONYX_FLOAT, 3, D(1, C, L), x);
        onyx_tensor tw = kt_tensor(ONYX_FLOAT, 3, D(M, C, k), w);
        onyx_tensor tb = kt_tensor(ONYX_FLOAT, 1, D(M), b);
        int64_t s64 = s, d64 = d, pads[2] = {pb, pe};
        onyx_attr at[3] = {KT_INTS("strides", 1, &s64),
                           KT_INTS("dilations", 1, &d64),
                           KT_INTS("pads", 2, pads)};
        onyx_tensor yt[1];
        ck_assert_msg(kt_run("Conv", 11, at, 3,
                             (onyx_tensor *[]){&tx, &tw, &tb}, 3, yt, 1,
                             msg) == ONYX_OK,
                      "case %u: %s", t, msg);
        expect_dims(&yt[0], 3, D(1, M, P));
        expect_close(&yt[0], r, M * P, 1e-5f);
        kt_free(yt, 1);
    }
}
END_TEST

START_TEST(conv_errors)
{
    onyx_tensor x = kt_tensor(ONYX_FLOAT, 4, D(1, 2, 3, 3), F(0));
    onyx_tensor w = kt_tensor(ONYX_FLOAT, 4, D(1, 3, 2, 2), F(0));
    onyx_tensor y[1];
    /* W says 3 input channels, X has 2 */
    ck_assert_int_eq(
        kt_run("Conv", 11, NULL, 0, (onyx_tensor *[]){&x, &w}, 2, y, 1, msg),
        ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "W[1]"));
    onyx_tensor w2 = kt_tensor(ONYX_FLOAT, 4, D(1, 2, 2, 2), F(0));
    onyx_attr ks[] = {KT_INTS("kernel_shape", 2, D(3, 3))};
    ck_assert_int_eq(
        kt_run("Conv", 11, ks, 1, (onyx_tensor *[]){&x, &w2}, 2, y, 1, msg),
        ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "kernel_shape"));
    onyx_attr ap[] = {KT_STRING("auto_pad", "SAME_MIDDLE")};
    ck_assert_int_eq(
        kt_run("Conv", 11, ap, 1, (onyx_tensor *[]){&x, &w2}, 2, y, 1, msg),
        ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "SAME_MIDDLE"));
    onyx_attr st[] = {KT_INTS("strides", 2, D(0, 1))};
    ck_assert_int_eq(
        kt_run("Conv", 11, st, 1, (onyx_tensor *[]){&x, &w2}, 2, y, 1, msg),
        ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "strides"));
    onyx_tensor bias = kt_tensor(ONYX_FLOAT, 1, D(2), F(0, 0));
    ck_assert_int_eq(kt_run("Conv", 11, NULL, 0,
                            (onyx_tensor *[]){&x, &w2, &bias}, 3, y, 1, msg),
                     ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "B [2]"));
    onyx_tensor big = kt_tensor(ONYX_FLOAT, 4, D(1, 2, 5, 5), F(0));
    ck_assert_int_eq(
        kt_run("Conv", 11, NULL, 0, (onyx_tensor *[]){&x, &big}, 2, y, 1, msg),
        ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "does not fit"));
}
END_TEST

/* ---- ConvTranspose --------------------------------------------------- */

START_TEST(convtranspose_1d)
{
    /* x [1,2,3], kernel [1,1]: each input adds itself at o = i and i+1:
     * stride 1 -> [1, 1+2, 2+3, 3] */
    onyx_tensor x = kt_tensor(ONYX_FLOAT, 3, D(1, 1, 3), F(1, 2, 3));
    onyx_tensor w = kt_tensor(ONYX_FLOAT, 3, D(1, 1, 2), F(1, 1));
    onyx_tensor y[1];
    ck_assert_int_eq(kt_run("ConvTranspose", 11, NULL, 0,
                            (onyx_tensor *[]){&x, &w}, 2, y, 1, msg),
                     ONYX_OK);
    expect_dims(&y[0], 3, D(1, 1, 4));
    expect(&y[0], F(1, 3, 5, 3), 4);
    kt_free(y, 1);
    /* stride 2: inputs land at 2i and 2i+1 -> [1,1,2,2,3,3]; pads 1,1 crop
     * one at each end -> [1,2,2,3] */
    onyx_attr at[] = {KT_INTS("strides", 1, D(2)), KT_INTS("pads", 2, D(1, 1))};
    ck_assert_int_eq(kt_run("ConvTranspose", 11, at, 2,
                            (onyx_tensor *[]){&x, &w}, 2, y, 1, msg),
                     ONYX_OK);
    expect(&y[0], F(1, 2, 2, 3), 4);
    kt_free(y, 1);
    /* output_padding 1 adds a zero (plus bias 0.5) at the end */
    onyx_tensor b = kt_tensor(ONYX_FLOAT, 1, D(1), F(0.5f));
    onyx_attr op[] = {KT_INTS("strides", 1, D(2)),
                      KT_INTS("output_padding", 1, D(1))};
    ck_assert_int_eq(kt_run("ConvTranspose", 11, op, 2,
                            (onyx_tensor *[]){&x, &w, &b}, 3, y, 1, msg),
                     ONYX_OK);
    expect(&y[0], F(1.5f, 1.5f, 2.5f, 2.5f, 3.5f, 3.5f, 0.5f), 7);
    kt_free(y, 1);
    /* output_shape 7 asks for the same (total padding -1: one extra at the end)
     */
    onyx_attr os[] = {KT_INTS("strides", 1, D(2)),
                      KT_INTS("output_shape", 1, D(7))};
    ck_assert_int_eq(kt_run("ConvTranspose", 11, os, 2,
                            (onyx_tensor *[]){&x, &w}, 2, y, 1, msg),
                     ONYX_OK);
    expect(&y[0], F(1, 1, 2, 2, 3, 3, 0), 7);
    kt_free(y, 1);
}
END_TEST

START_TEST(convtranspose_2d_channels)
{
    /* 2 input channels, 2 output channels, 1x1 x 2x2 input, 2x2 kernel:
     * Y[m] = sum_c x[c] * W[c][m]. x = [1], [2] (1x1 each);
     * W[0][0] = 1s, W[0][1] = [1,2,3,4], W[1][0] = 1s, W[1][1] = 0s
     * -> Y[0] = 1*1 + 2*1 = 3 everywhere, Y[1] = [1,2,3,4] */
    onyx_tensor x = kt_tensor(ONYX_FLOAT, 4, D(1, 2, 1, 1), F(1, 2));
    onyx_tensor w =
        kt_tensor(ONYX_FLOAT, 4, D(2, 2, 2, 2),
                  F(1, 1, 1, 1, 1, 2, 3, 4, 1, 1, 1, 1, 0, 0, 0, 0));
    onyx_tensor y[1];
    ck_assert_int_eq(kt_run("ConvTranspose", 11, NULL, 0,
                            (onyx_tensor *[]){&x, &w}, 2, y, 1, msg),
                     ONYX_OK);
    expect_dims(&y[0], 4, D(1, 2, 2, 2));
    expect(&y[0], F(3, 3, 3, 3, 1, 2, 3, 4), 8);
    kt_free(y, 1);
    /* group 2: each input channel only feeds its own output channel;
     * W (2, 1, 2, 2): ch0 -> 1s * 1, ch1 -> [1,2,3,4] * 2 */
    onyx_tensor wg =
        kt_tensor(ONYX_FLOAT, 4, D(2, 1, 2, 2), F(1, 1, 1, 1, 1, 2, 3, 4));
    onyx_attr at[] = {KT_INT("group", 2)};
    ck_assert_int_eq(kt_run("ConvTranspose", 11, at, 1,
                            (onyx_tensor *[]){&x, &wg}, 2, y, 1, msg),
                     ONYX_OK);
    expect(&y[0], F(1, 1, 1, 1, 2, 4, 6, 8), 8);
    kt_free(y, 1);
}
END_TEST

/* 2-D transposed convolution by the definition (scatter form), groups 1:
 * y[m][i*s - p + k*d] += x[c][i] * w[c][m][k] per axis. */
static void convt2d_ref(float *y, const float *x, const float *w,
                        const float *b, int C, int H, int Wd, int M, int kh,
                        int kw, int s, int ph, int pw, int OH, int OW)
{
    for (int m = 0; m < M; m++)
        for (int i = 0; i < OH * OW; i++)
            y[m * OH * OW + i] = b ? b[m] : 0;
    for (int c = 0; c < C; c++)
        for (int ih = 0; ih < H; ih++)
            for (int iw = 0; iw < Wd; iw++)
                for (int m = 0; m < M; m++)
                    for (int a = 0; a < kh; a++)
                        for (int t = 0; t < kw; t++) {
                            int oh = ih * s - ph + a, ow = iw * s - pw + t;
                            if (oh < 0 || oh >= OH || ow < 0 || ow >= OW)
                                continue;
                            y[(m * OH + oh) * OW + ow] +=
                                x[(c * H + ih) * Wd + iw] *
                                w[((c * M + m) * kh + a) * kw + t];
                        }
}

START_TEST(convtranspose_chunked_matches_reference)
{
    /* inputs long enough for several column-matrix passes, one ending
     * mid-row: 1-D (3 -> 2 channels, kernel 4, stride 2, pads 1, output
     * padding 1) and 2-D (150x150, kernel 3x3, pads 1) */
    enum { L = 20000, HW = 150 };
    static float x[3 * L], w[3 * 2 * 4], b[2], r[2 * (2 * L + 1)];
    for (int i = 0; i < 3 * L; i++)
        x[i] = (float)((i * 37) % 17) / 4 - 2;
    for (int i = 0; i < 24; i++)
        w[i] = (float)((i * 11) % 7) / 3 - 1;
    b[0] = 0.5f;
    b[1] = -1;
    onyx_tensor tx = kt_tensor(ONYX_FLOAT, 3, D(1, 3, L), x);
    onyx_tensor tw = kt_tensor(ONYX_FLOAT, 3, D(3, 2, 4), w);
    onyx_tensor tb = kt_tensor(ONYX_FLOAT, 1, D(2), b);
    onyx_attr at[] = {KT_INTS("strides", 1, D(2)), KT_INTS("pads", 2, D(1, 1)),
                      KT_INTS("output_padding", 1, D(1))};
    onyx_tensor y[1];
    ck_assert_int_eq(kt_run("ConvTranspose", 11, at, 3,
                            (onyx_tensor *[]){&tx, &tw, &tb}, 3, y, 1, msg),
                     ONYX_OK);
    /* 2 * (L - 1) + 1 + 4 - 2 = 2L + 1 */
    expect_dims(&y[0], 3, D(1, 2, 2 * L + 1));
    convt2d_ref(r, x, w, b, 3, 1, L, 2, 1, 4, 2, 0, 1, 1, 2 * L + 1);
    expect(&y[0], r, 2 * (2 * L + 1));
    kt_free(y, 1);

    static float r2[HW * HW];
    onyx_tensor tx2 = kt_tensor(ONYX_FLOAT, 4, D(1, 1, HW, HW), x);
    onyx_tensor tw2 = kt_tensor(ONYX_FLOAT, 4, D(1, 1, 3, 3), w);
    onyx_attr at2[] = {KT_INTS("pads", 4, D(1, 1, 1, 1))};
    ck_assert_int_eq(kt_run("ConvTranspose", 11, at2, 1,
                            (onyx_tensor *[]){&tx2, &tw2}, 2, y, 1, msg),
                     ONYX_OK);
    convt2d_ref(r2, x, w, NULL, 1, HW, HW, 1, 3, 3, 1, 1, 1, HW, HW);
    expect(&y[0], r2, HW * HW);
    kt_free(y, 1);
}
END_TEST

START_TEST(convtranspose_errors)
{
    onyx_tensor x = kt_tensor(ONYX_FLOAT, 3, D(1, 2, 3), F(0));
    onyx_tensor w = kt_tensor(ONYX_FLOAT, 3, D(3, 1, 2), F(0));
    onyx_tensor y[1];
    ck_assert_int_eq(kt_run("ConvTranspose", 11, NULL, 0,
                            (onyx_tensor *[]){&x, &w}, 2, y, 1, msg),
                     ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "channels"));
    onyx_tensor w2 = kt_tensor(ONYX_FLOAT, 3, D(2, 1, 2), F(0));
    onyx_attr os[] = {KT_INTS("output_shape", 2, D(4, 4))};
    ck_assert_int_eq(kt_run("ConvTranspose", 11, os, 1,
                            (onyx_tensor *[]){&x, &w2}, 2, y, 1, msg),
                     ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "output_shape"));
    onyx_attr pd[] = {KT_INTS("pads", 2, D(3, 3))};
    ck_assert_int_eq(kt_run("ConvTranspose", 11, pd, 1,
                            (onyx_tensor *[]){&x, &w2}, 2, y, 1, msg),
                     ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "not in [1,"));
}
END_TEST

/* ---- pools ----------------------------------------------------------- */

/* 2x2 and 1x2 windows of stride 2 along W take pool.c's pairs path: an odd
 * width (the last column left out), two channels, against the maximum by
 * hand */
START_TEST(maxpool_pairs_odd_width)
{
    enum { C = 2, H = 4, W = 7 };
    float xv[C * H * W], want[C * H * 3];
    for (int i = 0; i < C * H * W; i++)
        xv[i] = (float)((i * 37) % 23) - 11;
    onyx_tensor x = kt_tensor(ONYX_FLOAT, 4, D(1, C, H, W), xv);
    for (int kh = 1; kh <= 2; kh++) {
        const int OH = kh == 1 ? H : H / 2;
        for (int c = 0; c < C; c++)
            for (int oh = 0; oh < OH; oh++)
                for (int ow = 0; ow < 3; ow++) {
                    float m = -INFINITY;
                    for (int i = 0; i < kh; i++)
                        for (int j = 0; j < 2; j++) {
                            float v =
                                xv[(c * H + oh * kh + i) * W + 2 * ow + j];
                            m = v > m ? v : m;
                        }
                    want[(c * OH + oh) * 3 + ow] = m;
                }
        onyx_attr at[] = {KT_INTS("kernel_shape", 2, D(kh, 2)),
                          KT_INTS("strides", 2, D(kh, 2))};
        onyx_tensor y[1];
        ck_assert_int_eq(
            kt_run("MaxPool", 12, at, 2, (onyx_tensor *[]){&x}, 1, y, 1, msg),
            ONYX_OK);
        expect_dims(&y[0], 4, D(1, C, OH, 3));
        expect(&y[0], want, C * OH * 3);
        kt_free(y, 1);
    }
}
END_TEST

START_TEST(maxpool_2d_indices)
{
    /* X = 0..15 in 4x4, 2x2 windows, stride 2: the bottom-right of each
     * block wins: 5, 7, 13, 15, which are also the row-major indices */
    float xv[16];
    for (int i = 0; i < 16; i++)
        xv[i] = (float)i;
    onyx_tensor x = kt_tensor(ONYX_FLOAT, 4, D(1, 1, 4, 4), xv);
    onyx_attr at[] = {KT_INTS("kernel_shape", 2, D(2, 2)),
                      KT_INTS("strides", 2, D(2, 2))};
    onyx_tensor y[2];
    ck_assert_int_eq(
        kt_run("MaxPool", 12, at, 2, (onyx_tensor *[]){&x}, 1, y, 2, msg),
        ONYX_OK);
    expect_dims(&y[0], 4, D(1, 1, 2, 2));
    expect(&y[0], F(5, 7, 13, 15), 4);
    ck_assert_int_eq(y[1].dtype, ONYX_INT64);
    int64_t *ind = y[1].data;
    ck_assert(ind[0] == 5 && ind[1] == 7 && ind[2] == 13 && ind[3] == 15);
    kt_free(y, 2);
    /* storage_order 1 numbers column major: (h, w) -> w*4 + h:
     * (1,1) 5, (1,3) 13, (3,1) 7, (3,3) 15 */
    onyx_attr at2[] = {KT_INTS("kernel_shape", 2, D(2, 2)),
                       KT_INTS("strides", 2, D(2, 2)),
                       KT_INT("storage_order", 1)};
    ck_assert_int_eq(
        kt_run("MaxPool", 12, at2, 3, (onyx_tensor *[]){&x}, 1, y, 2, msg),
        ONYX_OK);
    ind = y[1].data;
    ck_assert(ind[0] == 5 && ind[1] == 13 && ind[2] == 7 && ind[3] == 15);
    kt_free(y, 2);
    /* Indices alone (Y unused by the graph) */
    ck_assert_int_eq(kt_run_ex("MaxPool", 12, at, 2, (onyx_tensor *[]){&x}, 1,
                               y, 2, (int[]){0, 1}, NULL, msg),
                     ONYX_OK);
    ind = y[1].data;
    ck_assert(ind[0] == 5 && ind[1] == 7 && ind[2] == 13 && ind[3] == 15);
    kt_free(y, 2);
}
END_TEST

START_TEST(maxpool_1d_dilation_pads_ceil)
{
    /* kernel 2 dilated by 2 takes x[o] and x[o+2]: max(1,2), max(5,4), max(2,3)
     */
    onyx_tensor x = kt_tensor(ONYX_FLOAT, 3, D(1, 1, 5), F(1, 5, 2, 4, 3));
    onyx_attr at[] = {KT_INTS("kernel_shape", 1, D(2)),
                      KT_INTS("dilations", 1, D(2))};
    onyx_tensor y[1];
    ck_assert_int_eq(
        kt_run("MaxPool", 12, at, 2, (onyx_tensor *[]){&x}, 1, y, 1, msg),
        ONYX_OK);
    expect(&y[0], F(2, 5, 3), 3);
    kt_free(y, 1);
    /* kernel 2, stride 2, pad 1 in front: windows {pad,1}, {5,2}, {4,3};
     * padding never wins even against negatives */
    onyx_tensor xn = kt_tensor(ONYX_FLOAT, 3, D(1, 1, 5), F(-1, 5, 2, 4, 3));
    onyx_attr at2[] = {KT_INTS("kernel_shape", 1, D(2)),
                       KT_INTS("strides", 1, D(2)),
                       KT_INTS("pads", 2, D(1, 0))};
    ck_assert_int_eq(
        kt_run("MaxPool", 12, at2, 3, (onyx_tensor *[]){&xn}, 1, y, 1, msg),
        ONYX_OK);
    expect(&y[0], F(-1, 5, 4), 3);
    kt_free(y, 1);
    /* ceil_mode: 5 inputs, kernel 2, stride 2 -> 3 windows, the last {3} */
    onyx_attr at3[] = {KT_INTS("kernel_shape", 1, D(2)),
                       KT_INTS("strides", 1, D(2)), KT_INT("ceil_mode", 1)};
    ck_assert_int_eq(
        kt_run("MaxPool", 12, at3, 3, (onyx_tensor *[]){&xn}, 1, y, 1, msg),
        ONYX_OK);
    expect(&y[0], F(5, 4, 3), 3);
    kt_free(y, 1);
}
END_TEST

START_TEST(avgpool_pads_and_ceil)
{
    /* 2x2 input [1,2;3,4], 3x3 windows with pad 1: every window holds all
     * four values: 10/4 = 2.5 without the pads, 10/9 counting them */
    onyx_tensor x = kt_tensor(ONYX_FLOAT, 4, D(1, 1, 2, 2), F(1, 2, 3, 4));
    onyx_attr at[] = {KT_INTS("kernel_shape", 2, D(3, 3)),
                      KT_INTS("pads", 4, D(1, 1, 1, 1))};
    onyx_tensor y[1];
    ck_assert_int_eq(
        kt_run("AveragePool", 11, at, 2, (onyx_tensor *[]){&x}, 1, y, 1, msg),
        ONYX_OK);
    expect_dims(&y[0], 4, D(1, 1, 2, 2));
    expect(&y[0], F(2.5f, 2.5f, 2.5f, 2.5f), 4);
    kt_free(y, 1);
    onyx_attr at2[] = {KT_INTS("kernel_shape", 2, D(3, 3)),
                       KT_INTS("pads", 4, D(1, 1, 1, 1)),
                       KT_INT("count_include_pad", 1)};
    ck_assert_int_eq(
        kt_run("AveragePool", 11, at2, 3, (onyx_tensor *[]){&x}, 1, y, 1, msg),
        ONYX_OK);
    expect(&y[0], F(10.f / 9, 10.f / 9, 10.f / 9, 10.f / 9), 4);
    kt_free(y, 1);
    /* 1-D ceil_mode: [1..5], kernel 2, stride 2: 1.5, 3.5 and the partial
     * window {5} averaged over its one element */
    onyx_tensor x1 = kt_tensor(ONYX_FLOAT, 3, D(1, 1, 5), F(1, 2, 3, 4, 5));
    onyx_attr at3[] = {KT_INTS("kernel_shape", 1, D(2)),
                       KT_INTS("strides", 1, D(2)), KT_INT("ceil_mode", 1)};
    ck_assert_int_eq(
        kt_run("AveragePool", 11, at3, 3, (onyx_tensor *[]){&x1}, 1, y, 1, msg),
        ONYX_OK);
    expect(&y[0], F(1.5f, 3.5f, 5), 3);
    kt_free(y, 1);
    /* SAME_UPPER, kernel 2, stride 1: the last window is {5, pad} -> 5 */
    onyx_attr at4[] = {KT_INTS("kernel_shape", 1, D(2)),
                       KT_STRING("auto_pad", "SAME_UPPER")};
    ck_assert_int_eq(
        kt_run("AveragePool", 11, at4, 2, (onyx_tensor *[]){&x1}, 1, y, 1, msg),
        ONYX_OK);
    expect(&y[0], F(1.5f, 2.5f, 3.5f, 4.5f, 5), 5);
    kt_free(y, 1);
}
END_TEST

START_TEST(global_pools)
{
    /* ch0 [1,2,3,4]: mean 2.5, max 4; ch1 [-1,-2,-3,-10]: mean -4, max -1 */
    onyx_tensor x =
        kt_tensor(ONYX_FLOAT, 4, D(1, 2, 2, 2), F(1, 2, 3, 4, -1, -2, -3, -10));
    onyx_tensor y[1];
    ck_assert_int_eq(kt_run("GlobalAveragePool", 11, NULL, 0,
                            (onyx_tensor *[]){&x}, 1, y, 1, msg),
                     ONYX_OK);
    expect_dims(&y[0], 4, D(1, 2, 1, 1));
    expect(&y[0], F(2.5f, -4), 2);
    kt_free(y, 1);
    ck_assert_int_eq(kt_run("GlobalMaxPool", 11, NULL, 0, (onyx_tensor *[]){&x},
                            1, y, 1, msg),
                     ONYX_OK);
    expect(&y[0], F(4, -1), 2);
    kt_free(y, 1);
}
END_TEST

START_TEST(pool_errors)
{
    onyx_tensor x = kt_tensor(ONYX_FLOAT, 4, D(1, 1, 2, 2), F(1, 2, 3, 4));
    onyx_tensor y[2];
    ck_assert_int_eq(
        kt_run("MaxPool", 12, NULL, 0, (onyx_tensor *[]){&x}, 1, y, 1, msg),
        ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "kernel_shape"));
    onyx_attr so[] = {KT_INTS("kernel_shape", 2, D(2, 2)),
                      KT_INT("storage_order", 2)};
    ck_assert_int_eq(
        kt_run("MaxPool", 12, so, 2, (onyx_tensor *[]){&x}, 1, y, 2, msg),
        ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "storage_order"));
    onyx_attr big[] = {KT_INTS("kernel_shape", 2, D(3, 3))};
    ck_assert_int_eq(
        kt_run("AveragePool", 11, big, 1, (onyx_tensor *[]){&x}, 1, y, 1, msg),
        ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "larger than"));
    onyx_tensor x2 = kt_tensor(ONYX_FLOAT, 2, D(2, 2), F(1, 2, 3, 4));
    ck_assert_int_eq(
        kt_run("AveragePool", 11, big, 1, (onyx_tensor *[]){&x2}, 1, y, 1, msg),
        ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "rank"));
}
END_TEST

static Suite *conv_suite(void)
{
    Suite *s = suite_create("conv");
    TCase *mm = tcase_create("matmul_gemm");
    tcase_add_test(mm, matmul_2d);
    tcase_add_test(mm, matmul_vectors);
    tcase_add_test(mm, matmul_batch_broadcast);
    tcase_add_test(mm, matmul_errors);
    tcase_add_test(mm, matmul_dft_basis);
    tcase_add_test(mm, gemm_alpha_beta_vector_c);
    tcase_add_test(mm, gemm_transposed_column_c);
    tcase_add_test(mm, gemm_errors);
    tcase_add_test(mm, sgemm_matches_naive);
    suite_add_tcase(s, mm);
    TCase *cv = tcase_create("conv");
    tcase_add_test(cv, conv_2d_basic_and_bias);
    tcase_add_test(cv, conv_1d_depthwise);
    tcase_add_test(cv, conv_1d_dilated_same_upper);
    tcase_add_test(cv, conv_pointwise_and_3d);
    tcase_add_test(cv, conv_2d_matches_reference);
    tcase_add_test(cv, conv_chunked_matches_reference);
    tcase_add_test(cv, conv_1d_many_channels);
    tcase_add_test(cv, conv_1d_many_channels_match_reference);
    tcase_add_test(cv, conv_1d_direct);
    tcase_add_test(cv, conv_direct_layouts);
    tcase_add_test(cv, conv_direct_match_reference);
    tcase_add_test(cv, conv_2d_direct_match_reference);
    tcase_add_test(cv, conv_errors);
    tcase_add_test(cv, convtranspose_1d);
    tcase_add_test(cv, convtranspose_2d_channels);
    tcase_add_test(cv, convtranspose_chunked_matches_reference);
    tcase_add_test(cv, convtranspose_errors);
    suite_add_tcase(s, cv);
    TCase *pl = tcase_create("pool");
    tcase_add_test(pl, maxpool_2d_indices);
    tcase_add_test(pl, maxpool_pairs_odd_width);
    tcase_add_test(pl, maxpool_1d_dilation_pads_ceil);
    tcase_add_test(pl, avgpool_pads_and_ceil);
    tcase_add_test(pl, global_pools);
    tcase_add_test(pl, pool_errors);
    suite_add_tcase(s, pl);
    return s;
}

int main(void)
{
    Suite *s = conv_suite();
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int f = srunner_ntests_failed(r);
    srunner_free(r);
    return f ? 1 : 0;
}
