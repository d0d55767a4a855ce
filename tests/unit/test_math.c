/* test_math.c - unit tests of the math ops beyond the core set: the rest of
 * the trigonometric and hyperbolic functions, Shrink, IsInf/IsNaN, Hardmax,
 * ReduceL1/ReduceLogSum/float64 ReduceLogSumExp, MeanVarianceNormalization,
 * LRN, the losses, RoiAlign, GridSample, NonMaxSuppression and Det. Every
 * expected number is worked out by hand in the comment beside it. */
#include "ktest.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static char msg[256];

#define D(...) ((int64_t[]){__VA_ARGS__})
#define T_F32(rank, dims, ...)                                                 \
    kt_tensor(ONYX_FLOAT, rank, dims, (float[]){__VA_ARGS__})
#define T_F64(rank, dims, ...)                                                 \
    kt_tensor(ONYX_DOUBLE, rank, dims, (double[]){__VA_ARGS__})
#define T_I64(rank, dims, ...)                                                 \
    kt_tensor(ONYX_INT64, rank, dims, (int64_t[]){__VA_ARGS__})
#define IN(...) ((onyx_tensor *[]){__VA_ARGS__})

static void expect_shape(const onyx_tensor *t, int rank, const int64_t *dims)
{
    ck_assert_int_eq(t->rank, rank);
    for (int i = 0; i < rank; i++)
        ck_assert_int_eq(t->dims[i], dims[i]);
}

/* t must be float32 of n elements, each within tol (relative above 1) of
 * want; a NaN wants a NaN, an infinity the same infinity */
static void expect_f32(const onyx_tensor *t, int n, const float *want,
                       float tol)
{
    ck_assert_int_eq(t->dtype, ONYX_FLOAT);
    ck_assert_int_eq(onyx_numel(t), n);
    const float *got = t->data;
    for (int i = 0; i < n; i++) {
        if (isnan(want[i])) {
            ck_assert_msg(isnan(got[i]), "element %d: got %g, want NaN", i,
                          (double)got[i]);
            continue;
        }
        if (isinf(want[i])) {
            ck_assert_msg(got[i] == want[i], "element %d: got %g, want %g", i,
                          (double)got[i], (double)want[i]);
            continue;
        }
        ck_assert_msg(fabsf(got[i] - want[i]) <= tol * (1 + fabsf(want[i])),
                      "element %d: got %.8g, want %.8g", i, (double)got[i],
                      (double)want[i]);
    }
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

static void expect_bool(const onyx_tensor *t, int n, const uint8_t *want)
{
    ck_assert_int_eq(t->dtype, ONYX_BOOL);
    ck_assert_int_eq(onyx_numel(t), n);
    const uint8_t *got = t->data;
    for (int i = 0; i < n; i++)
        ck_assert_msg(got[i] == want[i], "element %d: got %d, want %d", i,
                      got[i], want[i]);
}

/* Run op with n_in inputs and one output; it must succeed. */
static void run1(const char *op, int opset, const onyx_attr *at, int na,
                 onyx_tensor *const *in, int n_in, onyx_tensor *out)
{
    ck_assert_msg(kt_run(op, opset, at, na, in, n_in, out, 1, msg) == ONYX_OK,
                  "%s: %s", op, msg);
}

/* Run op and expect status st with a message naming `what` (when given). */
static void expect_status(onyx_status st, const char *op, int opset,
                          const onyx_attr *at, int na, onyx_tensor *const *in,
                          int n_in, int n_out, const char *what)
{
    onyx_tensor out[4];
    onyx_status got = kt_run(op, opset, at, na, in, n_in, out, n_out, msg);
    kt_free(out, n_out); /* NULL where prepare failed */
    ck_assert_msg(got == st, "%s: status %d, want %d (%s)", op, got, st, msg);
    ck_assert_msg(msg[0] != 0, "%s: failure without a message", op);
    if (what)
        ck_assert_msg(strstr(msg, what) != NULL, "%s: '%s' does not name %s",
                      op, msg, what);
}

/* y = op(x) elementwise on four floats */
static void unary4(const char *op, const onyx_attr *at, int na, const float *x,
                   const float *want)
{
    onyx_tensor X = kt_tensor(ONYX_FLOAT, 1, D(4), x), out[1];
    run1(op, 13, at, na, IN(&X), 1, out);
    expect_f32(&out[0], 4, want, 1e-6f);
    kt_free(out, 1);
}

/* ---- elementwise -------------------------------------------------------- */

START_TEST(test_trig_hyperbolic)
{
    /* tan 0 = 0, tan(pi/4) = 1, tan(-1) = -1.5574077, tan(0.5) = 0.5463025 */
    unary4("Tan", NULL, 0, (float[]){0, 0.78539816f, -1, 0.5f},
           (float[]){0, 1, -1.5574077f, 0.5463025f});
    /* sinh 1 = (e - 1/e)/2 = 1.1752012, cosh 1 = (e + 1/e)/2 = 1.5430806 */
    unary4("Sinh", NULL, 0, (float[]){0, 1, -1, 2},
           (float[]){0, 1.1752012f, -1.1752012f, 3.6268604f});
    unary4("Cosh", NULL, 0, (float[]){0, 1, -1, 2},
           (float[]){1, 1.5430806f, 1.5430806f, 3.7621957f});
    /* asin 0.5 = pi/6, acos 0.5 = pi/3, outside [-1, 1]: NaN */
    unary4("Asin", NULL, 0, (float[]){0, 0.5f, -1, 2},
           (float[]){0, 0.52359878f, -1.5707964f, NAN});
    unary4("Acos", NULL, 0, (float[]){1, 0.5f, -1, 2},
           (float[]){0, 1.0471976f, 3.1415927f, NAN});
    /* atan 1 = pi/4, atan(inf) = pi/2 */
    unary4("Atan", NULL, 0, (float[]){0, 1, -1, INFINITY},
           (float[]){0, 0.78539816f, -0.78539816f, 1.5707964f});
    /* asinh 1 = ln(1 + sqrt 2) = 0.8813736; acosh 2 = ln(2 + sqrt 3) =
     * 1.3169579; atanh 0.5 = ln(3)/2 = 0.5493061 */
    unary4("Asinh", NULL, 0, (float[]){0, 1, -1, 2},
           (float[]){0, 0.8813736f, -0.8813736f, 1.4436355f});
    unary4("Acosh", NULL, 0, (float[]){1, 2, 3, 0.5f},
           (float[]){0, 1.3169579f, 1.7627472f, NAN});
    unary4("Atanh", NULL, 0, (float[]){0, 0.5f, -0.5f, 1},
           (float[]){0, 0.5493061f, -0.5493061f, INFINITY});
}
END_TEST

START_TEST(test_shrink)
{
    /* lambd 1.5, bias 1.5: below -1.5 add 1.5, above 1.5 take 1.5, else 0 */
    onyx_attr soft[] = {KT_FLOAT("lambd", 1.5f), KT_FLOAT("bias", 1.5f)};
    unary4("Shrink", soft, 2, (float[]){-2, -1, 1.5f, 3},
           (float[]){-0.5f, 0, 0, 1.5f});
    /* defaults lambd 0.5, bias 0: hard shrink */
    unary4("Shrink", NULL, 0, (float[]){-1, 0.3f, -0.5f, 0.75f},
           (float[]){-1, 0, 0, 0.75f});
    /* a string for lambd is refused */
    onyx_tensor X = T_F32(1, D(1), 1);
    onyx_attr bad[] = {KT_STRING("lambd", "big")};
    expect_status(ONYX_ERR_INVALID, "Shrink", 9, bad, 1, IN(&X), 1, 1, NULL);
}
END_TEST

START_TEST(test_isinf_isnan)
{
    onyx_tensor X = T_F32(1, D(5), -INFINITY, 1, INFINITY, NAN, -0.0f), out[1];
    run1("IsInf", 10, NULL, 0, IN(&X), 1, out);
    expect_bool(&out[0], 5, (uint8_t[]){1, 0, 1, 0, 0});
    kt_free(out, 1);
    onyx_attr pos_only[] = {KT_INT("detect_negative", 0)};
    run1("IsInf", 10, pos_only, 1, IN(&X), 1, out);
    expect_bool(&out[0], 5, (uint8_t[]){0, 0, 1, 0, 0});
    kt_free(out, 1);
    onyx_attr neg_only[] = {KT_INT("detect_positive", 0)};
    run1("IsInf", 10, neg_only, 1, IN(&X), 1, out);
    expect_bool(&out[0], 5, (uint8_t[]){1, 0, 0, 0, 0});
    kt_free(out, 1);
    run1("IsNaN", 13, NULL, 0, IN(&X), 1, out);
    expect_bool(&out[0], 5, (uint8_t[]){0, 0, 0, 1, 0});
    kt_free(out, 1);
    /* float64 too */
    onyx_tensor X64 = T_F64(1, D(3), NAN, -INFINITY, 2.0);
    run1("IsNaN", 13, NULL, 0, IN(&X64), 1, out);
    expect_bool(&out[0], 3, (uint8_t[]){1, 0, 0});
    kt_free(out, 1);

    onyx_attr two[] = {KT_INT("detect_positive", 2)};
    expect_status(ONYX_ERR_INVALID, "IsInf", 10, two, 1, IN(&X), 1, 1,
                  "detect_positive");
    onyx_tensor I = T_I64(1, D(1), 3);
    expect_status(ONYX_ERR_UNSUPPORTED, "IsNaN", 13, NULL, 0, IN(&I), 1, 1,
                  "int64");
}
END_TEST

/* ---- Hardmax ------------------------------------------------------------ */

START_TEST(test_hardmax)
{
    /* X (2,3) = [[1,3,3],[0,-1,-2]] */
    onyx_tensor X = T_F32(2, D(2, 3), 1, 3, 3, 0, -1, -2), out[1];
    /* default axis -1: the first 3 of row 0, the 0 of row 1 */
    run1("Hardmax", 13, NULL, 0, IN(&X), 1, out);
    expect_shape(&out[0], 2, D(2, 3));
    expect_f32(&out[0], 6, (float[]){0, 1, 0, 1, 0, 0}, 0);
    kt_free(out, 1);
    /* axis 0: row 0 wins every column */
    onyx_attr ax0[] = {KT_INT("axis", 0)};
    run1("Hardmax", 13, ax0, 1, IN(&X), 1, out);
    expect_f32(&out[0], 6, (float[]){1, 1, 1, 0, 0, 0}, 0);
    kt_free(out, 1);
    /* opset 11, axis 1 on (2,2,2) = 0..7: rows of 4, the last wins */
    onyx_tensor X3 = T_F32(3, D(2, 2, 2), 0, 1, 2, 3, 4, 5, 6, 7);
    onyx_attr ax1[] = {KT_INT("axis", 1)};
    run1("Hardmax", 11, ax1, 1, IN(&X3), 1, out);
    expect_f32(&out[0], 8, (float[]){0, 0, 0, 1, 0, 0, 0, 1}, 0);
    kt_free(out, 1);

    onyx_attr ax3[] = {KT_INT("axis", 3)};
    expect_status(ONYX_ERR_INVALID, "Hardmax", 13, ax3, 1, IN(&X), 1, 1,
                  "axis");
}
END_TEST

/* ---- reductions --------------------------------------------------------- */

START_TEST(test_reduce_l1_logsum)
{
    /* X (2,3) = [[1,-2,3],[-4,5,-6]] */
    onyx_tensor X = T_F32(2, D(2, 3), 1, -2, 3, -4, 5, -6), out[1];
    onyx_attr ax1[] = {KT_INTS("axes", 1, D(1)), KT_INT("keepdims", 0)};
    /* |1|+|-2|+|3| = 6, 4+5+6 = 15 */
    run1("ReduceL1", 13, ax1, 2, IN(&X), 1, out);
    expect_shape(&out[0], 1, D(2));
    expect_f32(&out[0], 2, (float[]){6, 15}, 1e-6f);
    kt_free(out, 1);
    /* axes [0], keepdims: [[5, 7, 9]] */
    onyx_attr ax0[] = {KT_INTS("axes", 1, D(0))};
    run1("ReduceL1", 13, ax0, 1, IN(&X), 1, out);
    expect_shape(&out[0], 2, D(1, 3));
    expect_f32(&out[0], 3, (float[]){5, 7, 9}, 1e-6f);
    kt_free(out, 1);
    /* int64, all axes: 21 */
    onyx_tensor I = T_I64(2, D(2, 3), 1, -2, 3, -4, 5, -6);
    run1("ReduceL1", 13, NULL, 0, IN(&I), 1, out);
    expect_i64(&out[0], 1, (int64_t[]){21});
    kt_free(out, 1);

    /* LogSum of [[1,2,3],[4,5,6]] over axis 1: ln 6 = 1.7917595,
     * ln 15 = 2.7080502 */
    onyx_tensor P = T_F32(2, D(2, 3), 1, 2, 3, 4, 5, 6);
    run1("ReduceLogSum", 13, ax1, 2, IN(&P), 1, out);
    expect_f32(&out[0], 2, (float[]){1.7917595f, 2.7080502f}, 1e-6f);
    kt_free(out, 1);
    /* opset 18: axes as an input; all of it: ln 21 = 3.0445224 */
    onyx_tensor A = T_I64(1, D(2), 0, -1);
    run1("ReduceLogSum", 18, NULL, 0, IN(&P, &A), 2, out);
    expect_shape(&out[0], 2, D(1, 1));
    expect_f32(&out[0], 1, (float[]){3.0445224f}, 1e-6f);
    kt_free(out, 1);

    /* LogSum takes no int64, L1 no axis 2 on a matrix */
    expect_status(ONYX_ERR_UNSUPPORTED, "ReduceLogSum", 13, NULL, 0, IN(&I), 1,
                  1, "int64");
    onyx_attr ax2[] = {KT_INTS("axes", 1, D(2))};
    expect_status(ONYX_ERR_INVALID, "ReduceL1", 13, ax2, 1, IN(&X), 1, 1,
                  "axis");
}
END_TEST

START_TEST(test_reduce_logsumexp_f64)
{
    /* rows [0, ln 3] and [1000, 1000]: ln(1 + 3) = 1.3862943611198906;
     * 1000 + ln 2 without overflow */
    onyx_tensor X = T_F64(2, D(2, 2), 0.0, log(3.0), 1000.0, 1000.0), out[1];
    onyx_attr ax[] = {KT_INTS("axes", 1, D(1)), KT_INT("keepdims", 0)};
    run1("ReduceLogSumExp", 13, ax, 2, IN(&X), 1, out);
    ck_assert_int_eq(out[0].dtype, ONYX_DOUBLE);
    expect_shape(&out[0], 1, D(2));
    const double *y = out[0].data;
    ck_assert_double_eq_tol(y[0], 1.3862943611198906, 1e-14);
    ck_assert_double_eq_tol(y[1], 1000.6931471805599, 1e-11);
    kt_free(out, 1);
    /* a row of -inf stays -inf */
    onyx_tensor M = T_F64(1, D(2), -INFINITY, -INFINITY);
    run1("ReduceLogSumExp", 13, NULL, 0, IN(&M), 1, out);
    ck_assert(isinf(((double *)out[0].data)[0]));
    kt_free(out, 1);
    /* the other reductions stay float32/int64 */
    expect_status(ONYX_ERR_UNSUPPORTED, "ReduceSum", 11, NULL, 0, IN(&X), 1, 1,
                  "float64");
}
END_TEST

/* ---- normalisations ----------------------------------------------------- */

START_TEST(test_mvn)
{
    /* X (1,2,1,2), default axes [0,2,3]: channel 0 = [1,3] has mean 2 and
     * std 1: [-1, 1]; channel 1 = [2,2] has std 0: 0 / 1e-9 = 0 */
    onyx_tensor X = T_F32(4, D(1, 2, 1, 2), 1, 3, 2, 2), out[1];
    run1("MeanVarianceNormalization", 13, NULL, 0, IN(&X), 1, out);
    expect_shape(&out[0], 4, D(1, 2, 1, 2));
    expect_f32(&out[0], 4, (float[]){-1, 1, 0, 0}, 1e-6f);
    kt_free(out, 1);
    /* axes [1] on [[1,3],[0,4]]: row 1 has mean 2, std 2: [-1, 1] */
    onyx_tensor M = T_F32(2, D(2, 2), 1, 3, 0, 4);
    onyx_attr ax1[] = {KT_INTS("axes", 1, D(1))};
    run1("MeanVarianceNormalization", 13, ax1, 1, IN(&M), 1, out);
    expect_f32(&out[0], 4, (float[]){-1, 1, -1, 1}, 1e-6f);
    kt_free(out, 1);
    /* axes [0]: columns [1,0] and [3,4]: mean 0.5 and 3.5, std 0.5 */
    onyx_attr ax0[] = {KT_INTS("axes", 1, D(0))};
    run1("MeanVarianceNormalization", 13, ax0, 1, IN(&M), 1, out);
    expect_f32(&out[0], 4, (float[]){1, -1, -1, 1}, 1e-6f);
    kt_free(out, 1);

    expect_status(ONYX_ERR_INVALID, "MeanVarianceNormalization", 13, NULL, 0,
                  IN(&M), 1, 1, "4-D");
    onyx_attr ax2[] = {KT_INTS("axes", 1, D(2))};
    expect_status(ONYX_ERR_INVALID, "MeanVarianceNormalization", 13, ax2, 1,
                  IN(&M), 1, 1, "axis");
}
END_TEST

START_TEST(test_lrn)
{
    /* X (1,3,1,1) = [1,2,3]; size 3, alpha 3 (alpha/size = 1), beta 1,
     * bias 1: sums of squares over [c-1, c+1]: 5, 14, 13, so
     * y = 1/6, 2/15, 3/14 */
    onyx_tensor X = T_F32(4, D(1, 3, 1, 1), 1, 2, 3), out[1];
    onyx_attr a3[] = {KT_INT("size", 3), KT_FLOAT("alpha", 3),
                      KT_FLOAT("beta", 1), KT_FLOAT("bias", 1)};
    run1("LRN", 13, a3, 4, IN(&X), 1, out);
    expect_shape(&out[0], 4, D(1, 3, 1, 1));
    expect_f32(&out[0], 3, (float[]){1.0f / 6, 2.0f / 15, 3.0f / 14}, 1e-6f);
    kt_free(out, 1);
    /* size 2 sums [c, c+1]: 5, 13, 9; alpha 2 so alpha/size = 1; beta 0.5:
     * 1/sqrt 6 = 0.4082483, 2/sqrt 14 = 0.5345225, 3/sqrt 10 = 0.9486833 */
    onyx_attr a2[] = {KT_INT("size", 2), KT_FLOAT("alpha", 2),
                      KT_FLOAT("beta", 0.5f)};
    run1("LRN", 13, a2, 3, IN(&X), 1, out);
    expect_f32(&out[0], 3, (float[]){0.4082483f, 0.5345225f, 0.9486833f},
               1e-6f);
    kt_free(out, 1);

    expect_status(ONYX_ERR_INVALID, "LRN", 13, NULL, 0, IN(&X), 1, 1, "size");
    onyx_tensor V = T_F32(2, D(1, 3), 1, 2, 3);
    expect_status(ONYX_ERR_INVALID, "LRN", 13, a3, 4, IN(&V), 1, 1, "rank");
}
END_TEST

/* ---- losses ------------------------------------------------------------- */

/* loss of logp (2,3) = [[-1,-2,-3],[-4,-5,-6]] against targets [2, 0] */
static void nll_case(const onyx_attr *at, int na, const float *w, int n_out,
                     const float *want)
{
    onyx_tensor X = T_F32(2, D(2, 3), -1, -2, -3, -4, -5, -6);
    onyx_tensor T = T_I64(1, D(2), 2, 0);
    onyx_tensor W = kt_tensor(ONYX_FLOAT, 1, D(3), w), out[1];
    run1("NegativeLogLikelihoodLoss", 13, at, na, IN(&X, &T, &W), w ? 3 : 2,
         out);
    expect_f32(&out[0], n_out, want, 1e-6f);
    kt_free(out, 1);
}

START_TEST(test_nllloss)
{
    onyx_attr none[] = {KT_STRING("reduction", "none")};
    onyx_attr sum[] = {KT_STRING("reduction", "sum")};
    onyx_attr none_ii[] = {KT_STRING("reduction", "none"),
                           KT_INT("ignore_index", 2)};
    onyx_attr mean_ii[] = {KT_INT("ignore_index", 2)};
    const float w[] = {0.5f, 1, 2};
    /* -logp[0,2] = 3, -logp[1,0] = 4 */
    nll_case(none, 1, NULL, 2, (float[]){3, 4});
    nll_case(sum, 1, NULL, 1, (float[]){7});
    nll_case(NULL, 0, NULL, 1, (float[]){3.5f}); /* mean by default */
    /* weighted: 3 * w[2] = 6, 4 * w[0] = 2; mean 8 / (2 + 0.5) = 3.2 */
    nll_case(none, 1, w, 2, (float[]){6, 2});
    nll_case(NULL, 0, w, 1, (float[]){3.2f});
    /* class 2 ignored: [0, 4]; mean 4 / 1, weighted 2 / 0.5 */
    nll_case(none_ii, 2, NULL, 2, (float[]){0, 4});
    nll_case(mean_ii, 1, NULL, 1, (float[]){4});
    nll_case(mean_ii, 1, w, 1, (float[]){4});

    /* (N=1, C=2, d=2) = [[[-1,-2],[-3,-4]]], target [[1, 0]]: -logp[0,1,0]
     * = 3, -logp[0,0,1] = 2 */
    onyx_tensor X = T_F32(3, D(1, 2, 2), -1, -2, -3, -4), out[1];
    onyx_tensor T = T_I64(2, D(1, 2), 1, 0);
    run1("NegativeLogLikelihoodLoss", 13, none, 1, IN(&X, &T), 2, out);
    expect_shape(&out[0], 2, D(1, 2));
    expect_f32(&out[0], 2, (float[]){3, 2}, 1e-6f);
    kt_free(out, 1);

    /* a class out of range is found in eval; bad attributes and shapes in
     * prepare */
    onyx_tensor Tbad = T_I64(2, D(1, 2), 2, 0);
    expect_status(ONYX_ERR_RUNTIME, "NegativeLogLikelihoodLoss", 13, NULL, 0,
                  IN(&X, &Tbad), 2, 1, "range");
    onyx_tensor Tneg = T_I64(2, D(1, 2), 0, -1);
    expect_status(ONYX_ERR_RUNTIME, "NegativeLogLikelihoodLoss", 13, NULL, 0,
                  IN(&X, &Tneg), 2, 1, "range");
    onyx_attr avg[] = {KT_STRING("reduction", "avg")};
    expect_status(ONYX_ERR_INVALID, "NegativeLogLikelihoodLoss", 13, avg, 1,
                  IN(&X, &T), 2, 1, "reduction");
    onyx_tensor W3 = T_F32(1, D(3), 1, 1, 1);
    expect_status(ONYX_ERR_INVALID, "NegativeLogLikelihoodLoss", 13, NULL, 0,
                  IN(&X, &T, &W3), 3, 1, "weight");
    onyx_tensor T2 = T_I64(2, D(1, 3), 1, 0, 0);
    expect_status(ONYX_ERR_INVALID, "NegativeLogLikelihoodLoss", 13, NULL, 0,
                  IN(&X, &T2), 2, 1, "target");
    onyx_tensor Tf = T_F32(2, D(1, 2), 1, 0);
    expect_status(ONYX_ERR_UNSUPPORTED, "NegativeLogLikelihoodLoss", 13, NULL,
                  0, IN(&X, &Tf), 2, 1, "float32");
}
END_TEST

START_TEST(test_softmax_cross_entropy)
{
    /* x (2,2) = [[0, ln 3], [1, 1]]: softmax rows [1/4, 3/4], [1/2, 1/2];
     * log_prob [[-ln 4, ln 0.75], [-ln 2, -ln 2]]. Targets [0, 1]: losses
     * ln 4 = 1.3862944 and ln 2 = 0.6931472, mean 1.0397208 */
    onyx_tensor X = T_F32(2, D(2, 2), 0, logf(3), 1, 1), out[2];
    onyx_tensor T = T_I64(1, D(2), 0, 1);
    ck_assert_msg(kt_run("SoftmaxCrossEntropyLoss", 13, NULL, 0, IN(&X, &T), 2,
                         out, 2, msg) == ONYX_OK,
                  "%s", msg);
    expect_shape(&out[0], 0, NULL);
    expect_f32(&out[0], 1, (float[]){1.0397208f}, 1e-6f);
    expect_shape(&out[1], 2, D(2, 2));
    expect_f32(&out[1], 4,
               (float[]){-1.3862944f, -0.2876821f, -0.6931472f, -0.6931472f},
               1e-6f);
    kt_free(out, 2);
    /* without the log_prob output (scratch), sum, int32 targets */
    onyx_attr sum[] = {KT_STRING("reduction", "sum")};
    onyx_tensor T32 = kt_tensor(ONYX_INT32, 1, D(2), (int32_t[]){0, 1});
    ck_assert_msg(kt_run_ex("SoftmaxCrossEntropyLoss", 13, sum, 1, IN(&X, &T32),
                            2, out, 2, (int[]){1, 0}, NULL, msg) == ONYX_OK,
                  "%s", msg);
    expect_f32(&out[0], 1, (float[]){2.0794415f}, 1e-6f);
    kt_free(out, 2);
    /* weights [2, 1], none: 2 ln 4 = 2.7725887, ln 2 */
    onyx_attr none[] = {KT_STRING("reduction", "none")};
    onyx_tensor W = T_F32(1, D(2), 2, 1);
    run1("SoftmaxCrossEntropyLoss", 13, none, 1, IN(&X, &T, &W), 3, out);
    expect_f32(&out[0], 2, (float[]){2.7725887f, 0.6931472f}, 1e-6f);
    kt_free(out, 1);

    onyx_tensor Tbad = T_I64(1, D(2), 0, 5);
    expect_status(ONYX_ERR_RUNTIME, "SoftmaxCrossEntropyLoss", 13, NULL, 0,
                  IN(&X, &Tbad), 2, 2, "range");
    onyx_tensor V = T_F32(1, D(2), 0, 1);
    expect_status(ONYX_ERR_INVALID, "SoftmaxCrossEntropyLoss", 13, NULL, 0,
                  IN(&V, &T), 2, 1, "rank");
}
END_TEST

/* ---- sampling ----------------------------------------------------------- */

/* X (1,1,2,2) = [[1,2],[3,4]]: bilinear at (y, x) is 1 + x + 2y */
#define X22 T_F32(4, D(1, 1, 2, 2), 1, 2, 3, 4)

START_TEST(test_roialign)
{
    onyx_tensor X = X22, out[1];
    onyx_tensor R = T_F32(2, D(1, 4), 0, 0, 1, 1), B = T_I64(1, D(1), 0);
    /* output_half_pixel, one sample per bin at (0.5, 0.5): 2.5 */
    onyx_attr legacy[] = {
        KT_STRING("coordinate_transformation_mode", "output_half_pixel"),
        KT_INT("sampling_ratio", 1)};
    run1("RoiAlign", 16, legacy, 2, IN(&X, &R, &B), 3, out);
    expect_shape(&out[0], 4, D(1, 1, 1, 1));
    expect_f32(&out[0], 1, (float[]){2.5f}, 1e-6f);
    kt_free(out, 1);
    /* half_pixel shifts the roi to [-0.5, 0.5]: the sample at (0, 0) is 1 */
    onyx_attr half[] = {KT_INT("sampling_ratio", 1)};
    run1("RoiAlign", 16, half, 1, IN(&X, &R, &B), 3, out);
    expect_f32(&out[0], 1, (float[]){1}, 1e-6f);
    kt_free(out, 1);
    /* roi [0,0,2,2] on a 2x2 output, half_pixel: bins sampled at the pixel
     * centres give X back */
    onyx_tensor R2 = T_F32(2, D(1, 4), 0, 0, 2, 2);
    onyx_attr out22[] = {KT_INT("sampling_ratio", 1),
                         KT_INT("output_height", 2), KT_INT("output_width", 2)};
    run1("RoiAlign", 16, out22, 3, IN(&X, &R2, &B), 3, out);
    expect_shape(&out[0], 4, D(1, 1, 2, 2));
    expect_f32(&out[0], 4, (float[]){1, 2, 3, 4}, 1e-6f);
    kt_free(out, 1);
    /* four samples at 0.25 and 0.75: average of 1.75, 2.25, 2.75, 3.25 is
     * 2.5; max of the largest weighted corner of each: at (0.75, 0.75)
     * 0.5625 * 4 = 2.25 */
    onyx_attr avg4[] = {
        KT_STRING("coordinate_transformation_mode", "output_half_pixel"),
        KT_INT("sampling_ratio", 2)};
    run1("RoiAlign", 16, avg4, 2, IN(&X, &R, &B), 3, out);
    expect_f32(&out[0], 1, (float[]){2.5f}, 1e-6f);
    kt_free(out, 1);
    onyx_attr max4[] = {
        KT_STRING("coordinate_transformation_mode", "output_half_pixel"),
        KT_INT("sampling_ratio", 2), KT_STRING("mode", "max")};
    run1("RoiAlign", 16, max4, 3, IN(&X, &R, &B), 3, out);
    expect_f32(&out[0], 1, (float[]){2.25f}, 1e-6f);
    kt_free(out, 1);

    onyx_tensor B1 = T_I64(1, D(1), 1);
    expect_status(ONYX_ERR_RUNTIME, "RoiAlign", 16, NULL, 0, IN(&X, &R, &B1), 3,
                  1, "batch");
    onyx_tensor Rinf = T_F32(2, D(1, 4), 0, 0, INFINITY, 1);
    expect_status(ONYX_ERR_RUNTIME, "RoiAlign", 16, NULL, 0, IN(&X, &Rinf, &B),
                  3, 1, "roi");
    onyx_attr bad[] = {KT_STRING("mode", "min")};
    expect_status(ONYX_ERR_INVALID, "RoiAlign", 16, bad, 1, IN(&X, &R, &B), 3,
                  1, "mode");
    onyx_tensor R3 = T_F32(2, D(1, 3), 0, 0, 1);
    expect_status(ONYX_ERR_INVALID, "RoiAlign", 16, NULL, 0, IN(&X, &R3, &B), 3,
                  1, "rois");
}
END_TEST

/* GridSample of X22 at the grid points g (4 (x, y) pairs) */
static void gs_case(const onyx_attr *at, int na, const float *g,
                    const float *want)
{
    onyx_tensor X = X22, out[1];
    onyx_tensor G = kt_tensor(ONYX_FLOAT, 4, D(1, 1, 4, 2), g);
    run1("GridSample", 16, at, na, IN(&X, &G), 2, out);
    expect_shape(&out[0], 4, D(1, 1, 1, 4));
    expect_f32(&out[0], 4, want, 1e-6f);
    kt_free(out, 1);
}

START_TEST(test_gridsample)
{
    /* align_corners: -1 and 1 are the corner pixel centres; (0, 0) is the
     * middle, 2.5; (1, -1) is x = 1, y = 0: 2 */
    onyx_attr ac[] = {KT_INT("align_corners", 1)};
    gs_case(ac, 1, (float[]){-1, -1, 1, 1, 0, 0, 1, -1},
            (float[]){1, 4, 2.5f, 2});
    /* align_corners 0: -1 is the outer edge, pixel -0.5: the four taps
     * around (-0.5, -0.5) are weighted 1/4 each; zeros padding gives
     * 1/4 * 1; border and reflection read pixel (0, 0) four times: 1.
     * (1, 1) is pixel (1.5, 1.5) likewise; (0.5, 0) is pixel (x 1, y 0.5):
     * 1 + 1 + 2 * 0.5 = 3 */
    const float g[] = {-1, -1, 0, 0, 1, 1, 0.5f, 0};
    gs_case(NULL, 0, g, (float[]){0.25f, 2.5f, 1, 3});
    onyx_attr border[] = {KT_STRING("padding_mode", "border")};
    gs_case(border, 1, g, (float[]){1, 2.5f, 4, 3});
    onyx_attr refl[] = {KT_STRING("padding_mode", "reflection")};
    gs_case(refl, 1, g, (float[]){1, 2.5f, 4, 3});
    /* nearest: (0.2, -0.6) is pixel (x 0.7, y -0.1), rounded (1, 0): 2; far
     * outside with zeros: 0 */
    onyx_attr near[] = {KT_STRING("mode", "nearest")};
    gs_case(near, 1, (float[]){0.2f, -0.6f, 5, 5, -0.9f, 0.9f, 0.6f, 0.6f},
            (float[]){2, 0, 3, 4});
    /* bicubic at the middle with align_corners and zeros: the weights at
     * t = 0.5 are -0.09375, 0.59375, 0.59375, -0.09375 and the outer taps
     * read 0, so 0.59375^2 * (1 + 2 + 3 + 4) = 3.525390625 */
    onyx_attr cubic[] = {KT_STRING("mode", "bicubic"),
                         KT_INT("align_corners", 1)};
    gs_case(cubic, 2, (float[]){0, 0, -1, -1, 1, 1, 0, 0},
            (float[]){3.525390625f, 1, 4, 3.525390625f});

    onyx_tensor X = X22;
    onyx_tensor G = T_F32(4, D(1, 1, 1, 2), 0, 0);
    onyx_attr area[] = {KT_STRING("mode", "area")};
    expect_status(ONYX_ERR_INVALID, "GridSample", 16, area, 1, IN(&X, &G), 2, 1,
                  "mode");
    onyx_attr pad[] = {KT_STRING("padding_mode", "wrap")};
    expect_status(ONYX_ERR_INVALID, "GridSample", 16, pad, 1, IN(&X, &G), 2, 1,
                  "padding_mode");
    onyx_tensor G3 = T_F32(4, D(1, 1, 1, 3), 0, 0, 0);
    expect_status(ONYX_ERR_INVALID, "GridSample", 16, NULL, 0, IN(&X, &G3), 2,
                  1, "grid");
}
END_TEST

/* ---- NonMaxSuppression, Det --------------------------------------------- */

/* boxes (1,3,4): box 1 overlaps box 0 by IoU 0.9 / 1.1 = 0.818, box 2 is
 * apart */
#define NMS_BOXES3                                                             \
    T_F32(3, D(1, 3, 4), 0, 0, 1, 1, 0, 0.1f, 1, 1.1f, 0, 2, 1, 3)

static void nms_case(const float *scores, float iou, const float *score_th,
                     int center, const int64_t *want_boxes, int n_want)
{
    onyx_tensor Bx = NMS_BOXES3, out[1];
    onyx_tensor S = kt_tensor(ONYX_FLOAT, 3, D(1, 1, 3), scores);
    onyx_tensor M = T_I64(1, D(1), 3);
    onyx_tensor I = kt_tensor(ONYX_FLOAT, 1, D(1), &iou);
    onyx_tensor T = kt_tensor(ONYX_FLOAT, 1, D(1), score_th);
    onyx_attr cp[] = {KT_INT("center_point_box", center)};
    run1("NonMaxSuppression", 11, cp, 1, IN(&Bx, &S, &M, &I, &T),
         score_th ? 5 : 4, out);
    expect_shape(&out[0], 2, D(n_want, 3));
    int64_t want[9];
    for (int k = 0; k < n_want; k++) {
        want[3 * k] = 0;
        want[3 * k + 1] = 0;
        want[3 * k + 2] = want_boxes[k];
    }
    expect_i64(&out[0], 3 * n_want, want);
    kt_free(out, 1);
}

START_TEST(test_nms)
{
    const float sc[] = {0.9f, 0.8f, 0.7f};
    /* IoU 0.818 > 0.5: box 1 goes */
    nms_case(sc, 0.5f, NULL, 0, (int64_t[]){0, 2}, 2);
    /* but stays under 0.9 */
    nms_case(sc, 0.9f, NULL, 0, (int64_t[]){0, 1, 2}, 3);
    /* only scores above 0.75 */
    nms_case(sc, 0.5f, (float[]){0.75f}, 0, (int64_t[]){0}, 1);
    /* by score, ties to the lower index */
    nms_case((float[]){0.5f, 0.9f, 0.5f}, 0.95f, NULL, 0, (int64_t[]){1, 0, 2},
             3);
    /* read as [x_center, y_center, width, height]: box 1 spans y in
     * [-0.45, 0.65], IoU 0.95 / 1.15 with box 0 ([-0.5, 0.5] both ways);
     * box 2 spans y in [0.5, 3.5] and only touches box 0 */
    nms_case(sc, 0.5f, NULL, 1, (int64_t[]){0, 2}, 2);

    /* the output length depends on data: unknown at prepare is refused */
    onyx_tensor Bx = NMS_BOXES3, out[1];
    onyx_tensor S = T_F32(3, D(1, 1, 3), 0.9f, 0.8f, 0.7f);
    onyx_tensor M = T_I64(1, D(1), 3), I = T_F32(1, D(1), 0.5f);
    ck_assert_int_eq(kt_run_ex("NonMaxSuppression", 11, NULL, 0,
                               IN(&Bx, &S, &M, &I), 4, out, 1, NULL,
                               (int[]){0, 1, 0, 0}, msg),
                     ONYX_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(msg, "not known"));
    onyx_tensor M2 = T_F32(1, D(1), 3);
    expect_status(ONYX_ERR_UNSUPPORTED, "NonMaxSuppression", 11, NULL, 0,
                  IN(&Bx, &S, &M2, &I), 4, 1, "float32");
    onyx_attr cp2[] = {KT_INT("center_point_box", 2)};
    expect_status(ONYX_ERR_INVALID, "NonMaxSuppression", 11, cp2, 1,
                  IN(&Bx, &S, &M, &I), 4, 1, "center_point_box");

    /* prepared on data selecting 2 boxes, run on data selecting 3: eval
     * refuses it */
    const onyx_op *op = onyx_op_find("NonMaxSuppression");
    const onyx_tensor *pin[] = {&Bx, &S, &M, &I};
    onyx_tensor Y;
    memset(&Y, 0, sizeof Y);
    onyx_tensor *pout[] = {&Y};
    onyx_prep p;
    memset(&p, 0, sizeof p);
    p.op_type = "NonMaxSuppression";
    p.opset = 11;
    p.n_in = 4;
    p.n_out = 1;
    p.in = pin;
    p.out = pout;
    p.msg = msg;
    p.msg_cap = sizeof msg;
    ck_assert_int_eq(op->prepare(&p), ONYX_OK);
    expect_shape(&Y, 2, D(2, 3));
    int64_t ydata[6];
    Y.data = ydata;
    int64_t scratch[6];
    onyx_tensor I2 = T_F32(1, D(1), 0.9f);
    const onyx_tensor *ein[] = {&Bx, &S, &M, &I2};
    onyx_exec e;
    memset(&e, 0, sizeof e);
    e.in = ein;
    e.out = pout;
    e.n_in = 4;
    e.n_out = 1;
    e.params = p.params;
    e.scratch = scratch;
    ck_assert(p.scratch_bytes <= sizeof scratch);
    ck_assert_int_eq(op->eval(&e), ONYX_ERR_RUNTIME);
    ck_assert_ptr_nonnull(e.err);
    e.in = pin; /* the data it was resolved with runs */
    ck_assert_int_eq(op->eval(&e), ONYX_OK);
    expect_i64(&Y, 6, (int64_t[]){0, 0, 0, 0, 0, 2});
    free(p.params);
}
END_TEST

START_TEST(test_det)
{
    /* det [[1,2],[3,4]] = 4 - 6 = -2; det [[2,0,1],[1,3,2],[1,1,2]] =
     * 2 (6 - 2) - 0 + 1 (1 - 3) = 6; a row swap: [[0,1],[1,0]] = -1 */
    onyx_tensor X = T_F32(2, D(2, 2), 1, 2, 3, 4), out[1];
    run1("Det", 11, NULL, 0, IN(&X), 1, out);
    expect_shape(&out[0], 0, NULL);
    expect_f32(&out[0], 1, (float[]){-2}, 1e-6f);
    kt_free(out, 1);
    onyx_tensor X3 = T_F32(3, D(2, 3, 3), 2, 0, 1, 1, 3, 2, 1, 1, 2, /**/
                           1, 0, 0, 0, 1, 0, 0, 0, 1);
    run1("Det", 11, NULL, 0, IN(&X3), 1, out);
    expect_shape(&out[0], 1, D(2));
    expect_f32(&out[0], 2, (float[]){6, 1}, 1e-6f);
    kt_free(out, 1);
    onyx_tensor P = T_F32(2, D(2, 2), 0, 1, 1, 0);
    run1("Det", 11, NULL, 0, IN(&P), 1, out);
    expect_f32(&out[0], 1, (float[]){-1}, 1e-6f);
    kt_free(out, 1);
    /* singular: 0 */
    onyx_tensor Z = T_F32(2, D(2, 2), 1, 2, 2, 4);
    run1("Det", 11, NULL, 0, IN(&Z), 1, out);
    expect_f32(&out[0], 1, (float[]){0}, 1e-6f);
    kt_free(out, 1);

    onyx_tensor R = T_F32(2, D(2, 3), 1, 2, 3, 4, 5, 6);
    expect_status(ONYX_ERR_INVALID, "Det", 11, NULL, 0, IN(&R), 1, 1, "square");
}
END_TEST

static Suite *math_suite(void)
{
    Suite *s = suite_create("math");
    TCase *e = tcase_create("elementwise");
    tcase_add_test(e, test_trig_hyperbolic);
    tcase_add_test(e, test_shrink);
    tcase_add_test(e, test_isinf_isnan);
    suite_add_tcase(s, e);
    TCase *r = tcase_create("reduce");
    tcase_add_test(r, test_hardmax);
    tcase_add_test(r, test_reduce_l1_logsum);
    tcase_add_test(r, test_reduce_logsumexp_f64);
    suite_add_tcase(s, r);
    TCase *n = tcase_create("norm_loss");
    tcase_add_test(n, test_mvn);
    tcase_add_test(n, test_lrn);
    tcase_add_test(n, test_nllloss);
    tcase_add_test(n, test_softmax_cross_entropy);
    suite_add_tcase(s, n);
    TCase *g = tcase_create("sampling");
    tcase_add_test(g, test_roialign);
    tcase_add_test(g, test_gridsample);
    tcase_add_test(g, test_nms);
    tcase_add_test(g, test_det);
    suite_add_tcase(s, g);
    return s;
}

int main(void)
{
    Suite *s = math_suite();
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int f = srunner_ntests_failed(r);
    srunner_free(r);
    return f ? 1 : 0;
}
