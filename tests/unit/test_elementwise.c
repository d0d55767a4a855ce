/* test_elementwise.c - unit tests of the elementwise kernels: unary.c,
 * binary.c, identity.c (and its mt19937.c) and cast.c. Every expected number
 * is worked out by hand in the comment beside it (the generator's, by
 * numpy). */
#include "ktest.h"
#include "../../kernels/math/mt19937.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static char msg[256];

#define DIMS(...)               ((int64_t[]){__VA_ARGS__})
#define T(dt, rank, dims, data) kt_tensor((dt), (rank), DIMS dims, (data))

/* out[0] must be float32 of n elements equal to want (within tol) */
static void expect_f32(const onyx_tensor *o, const float *want, int n,
                       float tol)
{
    ck_assert_int_eq(o->dtype, ONYX_FLOAT);
    ck_assert_int_eq(onyx_numel(o), n);
    const float *y = o->data;
    for (int i = 0; i < n; i++)
        ck_assert_msg(fabsf(y[i] - want[i]) <= tol, "y[%d] = %.7g, want %.7g",
                      i, (double)y[i], (double)want[i]);
}

static void expect_i64(const onyx_tensor *o, const int64_t *want, int n)
{
    ck_assert_int_eq(o->dtype, ONYX_INT64);
    ck_assert_int_eq(onyx_numel(o), n);
    const int64_t *y = o->data;
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(y[i], want[i]);
}

static void expect_u8(const onyx_tensor *o, onyx_dtype dt, const uint8_t *want,
                      int n)
{
    ck_assert_int_eq(o->dtype, dt);
    ck_assert_int_eq(onyx_numel(o), n);
    const uint8_t *y = o->data;
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(y[i], want[i]);
}

/* run a one-input op on x (float32, n elements) and compare */
static void unary_case(const char *op, int opset, const onyx_attr *at, int nat,
                       const float *x, const float *want, int n)
{
    onyx_tensor in = kt_tensor(ONYX_FLOAT, 1, DIMS(n), x), out[1];
    ck_assert_msg(kt_run(op, opset, at, nat, (onyx_tensor *[]){&in}, 1, out, 1,
                         msg) == ONYX_OK,
                  "%s: %s", op, msg);
    expect_f32(&out[0], want, n, 1e-6f);
    kt_free(out, 1);
}

/* ------------------------------------------------------------ unary */

START_TEST(test_relu_family)
{
    const float x[] = {-2, -0.5f, 0, 1.5f};
    /* max(x, 0) */
    unary_case("Relu", 14, NULL, 0, x, (float[]){0, 0, 0, 1.5f}, 4);
    /* x < 0: 0.1 x */
    onyx_attr a01[] = {KT_FLOAT("alpha", 0.1f)};
    unary_case("LeakyRelu", 16, a01, 1, x, (float[]){-0.2f, -0.05f, 0, 1.5f},
               4);
    /* default alpha 0.01 */
    unary_case("LeakyRelu", 6, NULL, 0, x, (float[]){-0.02f, -0.005f, 0, 1.5f},
               4);
    /* x > alpha=1 ? x : 0 */
    unary_case("ThresholdedRelu", 10, NULL, 0, (float[]){0.5f, 1, 2, -3},
               (float[]){0, 0, 2, 0}, 4);
    /* Elu alpha 2: 2 (e^-2 - 1) = -1.7293294, 2 (e^-0.5 - 1) = -0.7869387 */
    onyx_attr a2[] = {KT_FLOAT("alpha", 2.0f)};
    unary_case("Elu", 6, a2, 1, x, (float[]){-1.7293294f, -0.7869387f, 0, 1.5f},
               4);
    /* Celu alpha 2: 2 (e^(x/2) - 1): x=-2 -> 2(e^-1 - 1) = -1.2642411,
     * x=-0.5 -> 2(e^-0.25 - 1) = -0.4423984 */
    unary_case("Celu", 12, a2, 1, x,
               (float[]){-1.2642411f, -0.4423984f, 0, 1.5f}, 4);
}
END_TEST

START_TEST(test_selu_sigmoid_softplus)
{
    /* Selu defaults: gamma x = 1.0507010 * 1.5 = 1.5760515;
     * gamma alpha (e^-1 - 1) = 1.0507010 * 1.6732632 * -0.6321206 =
     * -1.1113307 */
    unary_case("Selu", 6, NULL, 0, (float[]){-1, 0, 1.5f},
               (float[]){-1.1113307f, 0, 1.5760515f}, 3);
    /* 1/(1+e^-x): 0.5, 1/(1+e^-2) = 0.8807971, 1 - 0.8807971, and for
     * x = -100 a tiny positive number, not NaN */
    unary_case("Sigmoid", 13, NULL, 0, (float[]){0, 2, -2, -100},
               (float[]){0.5f, 0.8807971f, 0.1192029f, 0}, 4);
    /* log(1+e^x): log 2 = 0.6931472, log(1+e) = 1.3132616, and 100 for
     * x = 100 (no overflow of e^x) */
    unary_case("Softplus", 1, NULL, 0, (float[]){0, 1, 100},
               (float[]){0.6931472f, 1.3132616f, 100}, 3);
    /* x / (1 + |x|) */
    unary_case("Softsign", 1, NULL, 0, (float[]){-3, 1},
               (float[]){-0.75f, 0.5f}, 2);
    /* HardSigmoid alpha 0.2 beta 0.5: clamp(0.2x + 0.5, 0, 1) */
    unary_case("HardSigmoid", 6, NULL, 0, (float[]){-3, 0, 1, 3},
               (float[]){0, 0.5f, 0.7f, 1}, 4);
    /* HardSwish: x clamp(x/6 + 1/2, 0, 1): -4 -> 0, 1 -> 2/3, 4 -> 4 */
    unary_case("HardSwish", 14, NULL, 0, (float[]){-4, 1, 4},
               (float[]){0, 0.6666667f, 4}, 3);
}
END_TEST

START_TEST(test_math_and_rounding)
{
    unary_case("Abs", 13, NULL, 0, (float[]){-2, 3}, (float[]){2, 3}, 2);
    unary_case("Neg", 13, NULL, 0, (float[]){-2, 3}, (float[]){2, -3}, 2);
    unary_case("Sqrt", 13, NULL, 0, (float[]){4, 2.25f}, (float[]){2, 1.5f}, 2);
    unary_case("Reciprocal", 13, NULL, 0, (float[]){4, -0.5f},
               (float[]){0.25f, -2}, 2);
    unary_case("Exp", 13, NULL, 0, (float[]){0, 1}, (float[]){1, 2.7182818f},
               2);
    unary_case("Log", 13, NULL, 0, (float[]){1, 2.7182818f}, (float[]){0, 1},
               2);
    /* erf(1) = 0.8427008 */
    unary_case("Erf", 13, NULL, 0, (float[]){0, 1, -1},
               (float[]){0, 0.8427008f, -0.8427008f}, 3);
    unary_case("Floor", 13, NULL, 0, (float[]){-1.5f, 1.5f}, (float[]){-2, 1},
               2);
    unary_case("Ceil", 13, NULL, 0, (float[]){-1.5f, 1.5f}, (float[]){-1, 2},
               2);
    /* halves round to even */
    unary_case("Round", 11, NULL, 0, (float[]){0.5f, 1.5f, 2.5f, -2.5f, 2.6f},
               (float[]){0, 2, 2, -2, 3}, 5);
    unary_case("Sign", 13, NULL, 0, (float[]){-3, 0, 0.1f}, (float[]){-1, 0, 1},
               3);
    /* tanh(1) = 0.7615942, sin(pi/2) = 1, cos(0) = 1 */
    unary_case("Tanh", 13, NULL, 0, (float[]){1}, (float[]){0.7615942f}, 1);
    unary_case("Sin", 7, NULL, 0, (float[]){1.5707964f}, (float[]){1}, 1);
    unary_case("Cos", 7, NULL, 0, (float[]){0}, (float[]){1}, 1);
}
END_TEST

/* The vectorised exp/tanh/sigmoid/erf at the ends of their ranges */
START_TEST(test_math_edges)
{
    /* e^-100 is below FLT_MIN: 0; e^100 overflows: inf; e^88 = 1.6516363e38
     * (the top of the range); e^-87 = 1.6458115e-38 */
    const float xe[] = {-100, 100, 88, -87, 0};
    onyx_tensor X = T(ONYX_FLOAT, 1, (5), xe), out[1];
    ck_assert_int_eq(
        kt_run("Exp", 13, NULL, 0, (onyx_tensor *[]){&X}, 1, out, 1, msg),
        ONYX_OK);
    const float *y = out[0].data;
    ck_assert(y[0] == 0.0f);
    ck_assert(isinf(y[1]) && y[1] > 0);
    ck_assert(fabsf(y[2] / 1.6516363e38f - 1) < 1e-6f);
    ck_assert(fabsf(y[3] / 1.6458115e-38f - 1) < 1e-6f);
    ck_assert(y[4] == 1.0f);
    kt_free(out, 1);

    /* saturation, odd symmetry, and tiny arguments (tanh x = x, erf x =
     * 2x/sqrt(pi) = 1.1283792e-6 for x = 1e-6) */
    unary_case("Tanh", 13, NULL, 0, (float[]){-30, 30, 1e-6f, -0.3f},
               (float[]){-1, 1, 1e-6f, -0.29131261f}, 4);
    unary_case("Sigmoid", 13, NULL, 0, (float[]){-200, 200, 1e-6f},
               (float[]){0, 1, 0.50000025f}, 3);
    unary_case("Erf", 13, NULL, 0, (float[]){-5, 5, 1e-6f, 2},
               (float[]){-1, 1, 1.1283792e-6f, 0.99532227f}, 4);
    /* Elu near 0 keeps relative precision: e^-1e-4 - 1 = -9.9995e-5 */
    onyx_tensor Xs = T(ONYX_FLOAT, 0, (0), &(float){-1e-4f});
    ck_assert_int_eq(
        kt_run("Elu", 6, NULL, 0, (onyx_tensor *[]){&Xs}, 1, out, 1, msg),
        ONYX_OK);
    ck_assert(fabsf(*(float *)out[0].data / -9.9995e-5f - 1) < 1e-6f);
    kt_free(out, 1);

    /* NaN stays NaN */
    const char *ops[] = {"Exp", "Tanh", "Sigmoid", "Erf", "Elu", "Relu"};
    onyx_tensor N = T(ONYX_FLOAT, 0, (0), &(float){NAN});
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(
            kt_run(ops[i], 13, NULL, 0, (onyx_tensor *[]){&N}, 1, out, 1, msg),
            ONYX_OK);
        ck_assert_msg(isnan(*(float *)out[0].data), "%s(NaN)", ops[i]);
        kt_free(out, 1);
    }
}
END_TEST

/* The vectorised Sin and Cos: both ends of the reduced range, floats next
 * to multiples of pi/2 (where the result is tiny and needs the reduction
 * to ~2^-52), the bound 1e5 and, past it, the libm path, all in one run of
 * 12 (a vector of 8 and a tail). Expected values: sin and cos in double of
 * the float x, to 9 digits (-3e38 is the float 3.0000000054977558e38). */
START_TEST(test_sin_cos)
{
    /* clang-format off */
    const float x[12] = {0.5f, -2,      4.71238899f, 14.137167f,
                         1e4f, -1e4f,   1e5f,        102000,
                         1e6f, -3e38f,  -0.0f,       1e-40f};
    const float want_sin[12] = {
        0.479425539f,  -0.909297427f, -1,           1,
        -0.305614389f, 0.305614389f,  0.035748798f, -0.942581267f,
        -0.349993502f, -0.874904888f, -0.0f,        1e-40f};
    const float want_cos[12] = {
        0.877582562f,  -0.416146837f, 1.19248805e-08f, -3.57746414e-08f,
        -0.952155368f, -0.952155368f, -0.999360807f,   0.333976877f,
        0.936752128f,  -0.484294784f, 1,               1};
    /* clang-format on */
    const char *ops[] = {"Sin", "Cos"};
    const float *want[] = {want_sin, want_cos};
    onyx_tensor X = T(ONYX_FLOAT, 1, (12), x), out[1];
    for (int k = 0; k < 2; k++) {
        ck_assert_int_eq(
            kt_run(ops[k], 7, NULL, 0, (onyx_tensor *[]){&X}, 1, out, 1, msg),
            ONYX_OK);
        const float *y = out[0].data;
        /* within 3e-7 of |want| (about 2 ulp), or 1e-45 near 0 (the
         * smallest normal float where subnormals are flushed) */
        for (int i = 0; i < 12; i++)
            ck_assert_msg(fabsf(y[i] - want[k][i]) <=
                              fmaxf(3e-7f * fabsf(want[k][i]),
                                    KT_VECTOR_FTZ ? FLT_MIN : 1e-45f),
                          "%s(%.9g) = %.9g, want %.9g", ops[k], (double)x[i],
                          (double)y[i], (double)want[k][i]);
        kt_free(out, 1);
    }
    /* sin(-0) = -0 */
    ck_assert_int_eq(
        kt_run("Sin", 7, NULL, 0, (onyx_tensor *[]){&X}, 1, out, 1, msg),
        ONYX_OK);
    ck_assert(signbit(((float *)out[0].data)[10]));
    kt_free(out, 1);

    /* NaN, inf and -inf give NaN */
    onyx_tensor N =
        T(ONYX_FLOAT, 1, (3), ((float[]){NAN, INFINITY, -INFINITY}));
    for (int k = 0; k < 2; k++) {
        ck_assert_int_eq(
            kt_run(ops[k], 7, NULL, 0, (onyx_tensor *[]){&N}, 1, out, 1, msg),
            ONYX_OK);
        for (int i = 0; i < 3; i++)
            ck_assert_msg(isnan(((float *)out[0].data)[i]), "%s #%d", ops[k],
                          i);
        kt_free(out, 1);
    }
}
END_TEST

/* The vectorised Log: within 1 ulp of log in double over every 997th
 * positive float (subnormals and the largest included; a run of 8 and a
 * tail), and its special values. */
START_TEST(test_log)
{
    enum { N = 1 << 16, STEP = 997 };
    static float x[N];
    onyx_tensor out[1];
    double worst = 0;
    for (uint32_t b = 1; b < 0x7f800000u; b += STEP * (uint32_t)N) {
        int n = 0;
        for (; n < N && b + STEP * (uint32_t)n < 0x7f800000u; n++) {
            uint32_t u = b + STEP * (uint32_t)n;
            memcpy(&x[n], &u, sizeof u);
        }
        onyx_tensor X = T(ONYX_FLOAT, 1, (n), x);
        ck_assert_int_eq(
            kt_run("Log", 13, NULL, 0, (onyx_tensor *[]){&X}, 1, out, 1, msg),
            ONYX_OK);
        const float *y = out[0].data;
        for (int i = 0; i < n; i++) {
            if (kt_flushed(x[i])) { /* read as 0 */
                ck_assert_msg(isinf(y[i]) && y[i] < 0, "Log(%.9g) = %.9g",
                              (double)x[i], (double)y[i]);
                continue;
            }
            double want = log((double)x[i]);
            float wf = (float)want;
            double ulp = nextafterf(fabsf(wf), INFINITY) - fabsf(wf);
            double e = fabs((double)y[i] - want) / ulp;
            ck_assert_msg(e <= 1.0, "Log(%.9g) = %.9g, want %.12g",
                          (double)x[i], (double)y[i], want);
            worst = e > worst ? e : worst;
        }
        kt_free(out, 1);
    }
    ck_assert(worst > 0.3); /* the loop above did look */
    const float sp[6] = {0.0f, -0.0f, INFINITY, -1.0f, NAN, 1.0f};
    onyx_tensor S = T(ONYX_FLOAT, 1, (6), sp);
    ck_assert_int_eq(
        kt_run("Log", 13, NULL, 0, (onyx_tensor *[]){&S}, 1, out, 1, msg),
        ONYX_OK);
    const float *y = out[0].data;
    ck_assert(isinf(y[0]) && y[0] < 0 && isinf(y[1]) && y[1] < 0);
    ck_assert(isinf(y[2]) && y[2] > 0);
    ck_assert(isnan(y[3]) && isnan(y[4]) && y[5] == 0.0f);
    kt_free(out, 1);
}
END_TEST

START_TEST(test_clip)
{
    const float x[] = {-3, -0.2f, 0.4f, 5};
    /* opset 6: attributes min -0.5, max 0.5 */
    onyx_attr at[] = {KT_FLOAT("min", -0.5f), KT_FLOAT("max", 0.5f)};
    unary_case("Clip", 6, at, 2, x, (float[]){-0.5f, -0.2f, 0.4f, 0.5f}, 4);

    /* opset 13: min as input, max omitted (NULL) */
    float lo = 0;
    onyx_tensor X = T(ONYX_FLOAT, 1, (4), x), L = T(ONYX_FLOAT, 0, (0), &lo);
    onyx_tensor out[1];
    ck_assert_int_eq(kt_run("Clip", 13, NULL, 0,
                            (onyx_tensor *[]){&X, &L, NULL}, 3, out, 1, msg),
                     ONYX_OK);
    expect_f32(&out[0], (float[]){0, 0, 0.4f, 5}, 4, 0);
    kt_free(out, 1);

    /* no bounds at all: a copy */
    ck_assert_int_eq(
        kt_run("Clip", 11, NULL, 0, (onyx_tensor *[]){&X}, 1, out, 1, msg),
        ONYX_OK);
    expect_f32(&out[0], x, 4, 0);
    kt_free(out, 1);

    /* int64 with both bounds [0, 10] */
    int64_t xi[] = {-5, 3, 12}, l0 = 0, h10 = 10;
    onyx_tensor Xi = T(ONYX_INT64, 1, (3), xi), Li = T(ONYX_INT64, 0, (0), &l0),
                Hi = T(ONYX_INT64, 0, (0), &h10);
    ck_assert_int_eq(kt_run("Clip", 13, NULL, 0,
                            (onyx_tensor *[]){&Xi, &Li, &Hi}, 3, out, 1, msg),
                     ONYX_OK);
    expect_i64(&out[0], (int64_t[]){0, 3, 10}, 3);
    kt_free(out, 1);

    /* error: attributes in opset 13 */
    ck_assert_int_eq(
        kt_run("Clip", 13, at, 2, (onyx_tensor *[]){&X}, 1, out, 1, msg),
        ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "inputs"));
    /* error: int64 bound on a float X */
    ck_assert_int_eq(
        kt_run("Clip", 13, NULL, 0, (onyx_tensor *[]){&X, &Li}, 2, out, 1, msg),
        ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "min"));
}
END_TEST

START_TEST(test_unary_int_and_bool)
{
    int64_t x[] = {-7, 0, 4};
    onyx_tensor X = T(ONYX_INT64, 1, (3), x), out[1];
    ck_assert_int_eq(
        kt_run("Abs", 13, NULL, 0, (onyx_tensor *[]){&X}, 1, out, 1, msg),
        ONYX_OK);
    expect_i64(&out[0], (int64_t[]){7, 0, 4}, 3);
    kt_free(out, 1);
    ck_assert_int_eq(
        kt_run("Neg", 13, NULL, 0, (onyx_tensor *[]){&X}, 1, out, 1, msg),
        ONYX_OK);
    expect_i64(&out[0], (int64_t[]){7, 0, -4}, 3);
    kt_free(out, 1);
    ck_assert_int_eq(
        kt_run("Sign", 13, NULL, 0, (onyx_tensor *[]){&X}, 1, out, 1, msg),
        ONYX_OK);
    expect_i64(&out[0], (int64_t[]){-1, 0, 1}, 3);
    kt_free(out, 1);

    uint8_t b[] = {1, 0, 0, 1};
    onyx_tensor B = T(ONYX_BOOL, 2, (2, 2), b);
    ck_assert_int_eq(
        kt_run("Not", 1, NULL, 0, (onyx_tensor *[]){&B}, 1, out, 1, msg),
        ONYX_OK);
    expect_u8(&out[0], ONYX_BOOL, (uint8_t[]){0, 1, 1, 0}, 4);
    ck_assert_int_eq(out[0].rank, 2);
    kt_free(out, 1);

    /* errors: Exp of int64, Not of float, Celu alpha 0 */
    ck_assert_int_eq(
        kt_run("Exp", 13, NULL, 0, (onyx_tensor *[]){&X}, 1, out, 1, msg),
        ONYX_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(msg, "int64"));
    float f = 1;
    onyx_tensor F = T(ONYX_FLOAT, 0, (0), &f);
    ck_assert_int_eq(
        kt_run("Not", 1, NULL, 0, (onyx_tensor *[]){&F}, 1, out, 1, msg),
        ONYX_ERR_UNSUPPORTED);
    onyx_attr a0[] = {KT_FLOAT("alpha", 0)};
    ck_assert_int_eq(
        kt_run("Celu", 12, a0, 1, (onyx_tensor *[]){&F}, 1, out, 1, msg),
        ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "alpha"));
}
END_TEST

/* ------------------------------------------------------------ binary */

/* run a two-input op, expecting OK */
static void run2(const char *op, int opset, onyx_tensor *a, onyx_tensor *b,
                 onyx_tensor *out)
{
    onyx_status st =
        kt_run(op, opset, NULL, 0, (onyx_tensor *[]){a, b}, 2, out, 1, msg);
    ck_assert_msg(st == ONYX_OK, "%s: %s", op, msg);
}

START_TEST(test_add_shapes)
{
    float a[] = {1, 2, 3, 4, 5, 6}, b[] = {10, 20, 30, 40, 50, 60};
    onyx_tensor A = T(ONYX_FLOAT, 2, (2, 3), a), out[1];

    /* same shape: one flat loop */
    onyx_tensor B = T(ONYX_FLOAT, 2, (2, 3), b);
    run2("Add", 14, &A, &B, out);
    expect_f32(&out[0], (float[]){11, 22, 33, 44, 55, 66}, 6, 0);
    kt_free(out, 1);

    /* scalar on either side: 100 - a and a - 100 */
    float s = 100;
    onyx_tensor S = T(ONYX_FLOAT, 0, (0), &s);
    run2("Sub", 14, &S, &A, out);
    expect_f32(&out[0], (float[]){99, 98, 97, 96, 95, 94}, 6, 0);
    ck_assert_int_eq(out[0].rank, 2);
    kt_free(out, 1);
    run2("Sub", 14, &A, &S, out);
    expect_f32(&out[0], (float[]){-99, -98, -97, -96, -95, -94}, 6, 0);
    kt_free(out, 1);

    /* row [3] across [2,3]: a + {10,20,30} */
    onyx_tensor R = T(ONYX_FLOAT, 1, (3), b);
    run2("Add", 7, &A, &R, out);
    expect_f32(&out[0], (float[]){11, 22, 33, 14, 25, 36}, 6, 0);
    kt_free(out, 1);

    /* column [2,1] across [2,3]: a * {10 | 20} */
    onyx_tensor C = T(ONYX_FLOAT, 2, (2, 1), b);
    run2("Mul", 7, &A, &C, out);
    expect_f32(&out[0], (float[]){10, 20, 30, 80, 100, 120}, 6, 0);
    kt_free(out, 1);

    /* outer sum [2,1] + [1,3] -> [2,3]: {1,2} + {10,20,30} */
    onyx_tensor Col = T(ONYX_FLOAT, 2, (2, 1), a),
                Row = T(ONYX_FLOAT, 2, (1, 3), b);
    run2("Add", 13, &Col, &Row, out);
    ck_assert_int_eq(out[0].rank, 2);
    ck_assert_int_eq(out[0].dims[0], 2);
    ck_assert_int_eq(out[0].dims[1], 3);
    expect_f32(&out[0], (float[]){11, 21, 31, 12, 22, 32}, 6, 0);
    kt_free(out, 1);
}
END_TEST

START_TEST(test_broadcast_middle_axis)
{
    /* X [2,3,2] = 0..11, bias [3,1] = {100,200,300}: a per-channel bias,
     * the inner loop runs over the last axis with the bias a scalar */
    float x[12], bias[] = {100, 200, 300}, want[12];
    for (int i = 0; i < 12; i++) {
        x[i] = (float)i;
        want[i] = (float)i + bias[(i / 2) % 3];
    }
    onyx_tensor X = T(ONYX_FLOAT, 3, (2, 3, 2), x),
                B = T(ONYX_FLOAT, 2, (3, 1), bias), out[1];
    run2("Add", 13, &X, &B, out);
    expect_f32(&out[0], want, 12, 0);
    kt_free(out, 1);
    /* the same, bias first: b - x */
    for (int i = 0; i < 12; i++)
        want[i] = bias[(i / 2) % 3] - (float)i;
    run2("Sub", 13, &B, &X, out);
    expect_f32(&out[0], want, 12, 0);
    kt_free(out, 1);

    /* X [2,3,2] with [2,1,2]: {1,2,3,4} repeated along the middle axis */
    float m[] = {1, 2, 3, 4};
    onyx_tensor M = T(ONYX_FLOAT, 3, (2, 1, 2), m);
    for (int i = 0; i < 12; i++)
        want[i] = x[i] * m[(i / 6) * 2 + i % 2];
    run2("Mul", 13, &X, &M, out);
    expect_f32(&out[0], want, 12, 0);
    kt_free(out, 1);
}
END_TEST

START_TEST(test_int64_arith)
{
    int64_t a[] = {-7, 7, 9, 5}, b[] = {2, 2, -4, 0};
    onyx_tensor A = T(ONYX_INT64, 1, (4), a), B = T(ONYX_INT64, 1, (4), b),
                out[1];
    /* C division truncates toward zero; x/0 is 0 rather than a trap */
    run2("Div", 14, &A, &B, out);
    expect_i64(&out[0], (int64_t[]){-3, 3, -2, 0}, 4);
    kt_free(out, 1);
    run2("Mul", 14, &A, &B, out);
    expect_i64(&out[0], (int64_t[]){-14, 14, -36, 0}, 4);
    kt_free(out, 1);
    run2("Sub", 14, &A, &B, out);
    expect_i64(&out[0], (int64_t[]){-9, 5, 13, 5}, 4);
    kt_free(out, 1);
    run2("Max", 13, &A, &B, out);
    expect_i64(&out[0], (int64_t[]){2, 7, 9, 5}, 4);
    kt_free(out, 1);
    run2("Min", 13, &A, &B, out);
    expect_i64(&out[0], (int64_t[]){-7, 2, -4, 0}, 4);
    kt_free(out, 1);
}
END_TEST

START_TEST(test_pow)
{
    float x[] = {1, 2, 3}, yf[] = {4, 5, 6};
    int64_t xi[] = {1, 2, 3}, yi[] = {4, 5, 6};
    onyx_tensor Xf = T(ONYX_FLOAT, 1, (3), x), Yf = T(ONYX_FLOAT, 1, (3), yf),
                Xi = T(ONYX_INT64, 1, (3), xi), Yi = T(ONYX_INT64, 1, (3), yi),
                out[1];
    /* 1^4, 2^5, 3^6 = 1, 32, 729 in every dtype combination; the output
     * has the base's dtype */
    run2("Pow", 15, &Xf, &Yf, out);
    expect_f32(&out[0], (float[]){1, 32, 729}, 3, 1e-3f);
    kt_free(out, 1);
    run2("Pow", 15, &Xf, &Yi, out);
    expect_f32(&out[0], (float[]){1, 32, 729}, 3, 1e-3f);
    kt_free(out, 1);
    run2("Pow", 15, &Xi, &Yi, out);
    expect_i64(&out[0], (int64_t[]){1, 32, 729}, 3);
    kt_free(out, 1);
    run2("Pow", 15, &Xi, &Yf, out);
    expect_i64(&out[0], (int64_t[]){1, 32, 729}, 3);
    kt_free(out, 1);

    /* constant exponent 2 (the square fast path), and 0.5 */
    float two = 2, half = 0.5f, xs[] = {-3, 4};
    onyx_tensor Xs = T(ONYX_FLOAT, 1, (2), xs),
                E2 = T(ONYX_FLOAT, 0, (0), &two),
                Eh = T(ONYX_FLOAT, 0, (0), &half);
    run2("Pow", 13, &Xs, &E2, out);
    expect_f32(&out[0], (float[]){9, 16}, 2, 0);
    kt_free(out, 1);
    run2("Pow", 13, &E2, &Xs, out); /* 2^-3, 2^4 */
    expect_f32(&out[0], (float[]){0.125f, 16}, 2, 0);
    kt_free(out, 1);
    xs[0] = 9;
    run2("Pow", 13, &Xs, &Eh, out); /* sqrt 9, sqrt 4 */
    expect_f32(&out[0], (float[]){3, 2}, 2, 1e-6f);
    kt_free(out, 1);

    /* error: bool exponent */
    uint8_t bb = 1;
    onyx_tensor Bb = T(ONYX_BOOL, 0, (0), &bb);
    ck_assert_int_eq(
        kt_run("Pow", 13, NULL, 0, (onyx_tensor *[]){&Xf, &Bb}, 2, out, 1, msg),
        ONYX_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(msg, "bool"));
}
END_TEST

START_TEST(test_variadic)
{
    float a[] = {1, 5, 3}, b[] = {4, 2}, c = 3;
    /* Max/Min/Sum/Mean of a [3], b [2,1] and c [] -> [2,3] */
    onyx_tensor A = T(ONYX_FLOAT, 1, (3), a), B = T(ONYX_FLOAT, 2, (2, 1), b),
                C = T(ONYX_FLOAT, 0, (0), &c), out[1];
    onyx_tensor *in[] = {&A, &B, &C};
    /* row 0 compares {1,5,3} with 4 and 3; row 1 with 2 and 3 */
    ck_assert_int_eq(kt_run("Max", 13, NULL, 0, in, 3, out, 1, msg), ONYX_OK);
    expect_f32(&out[0], (float[]){4, 5, 4, 3, 5, 3}, 6, 0);
    kt_free(out, 1);
    ck_assert_int_eq(kt_run("Min", 13, NULL, 0, in, 3, out, 1, msg), ONYX_OK);
    expect_f32(&out[0], (float[]){1, 3, 3, 1, 2, 2}, 6, 0);
    kt_free(out, 1);
    /* sums: {1,5,3} + 4 + 3 = {8,12,10}; + 2 + 3 = {6,10,8} */
    ck_assert_int_eq(kt_run("Sum", 13, NULL, 0, in, 3, out, 1, msg), ONYX_OK);
    expect_f32(&out[0], (float[]){8, 12, 10, 6, 10, 8}, 6, 0);
    kt_free(out, 1);
    /* means: the sums / 3 */
    ck_assert_int_eq(kt_run("Mean", 13, NULL, 0, in, 3, out, 1, msg), ONYX_OK);
    expect_f32(&out[0], (float[]){8.f / 3, 4, 10.f / 3, 2, 10.f / 3, 8.f / 3},
               6, 1e-6f);
    kt_free(out, 1);
    /* one input: a copy */
    ck_assert_int_eq(kt_run("Max", 8, NULL, 0, in, 1, out, 1, msg), ONYX_OK);
    expect_f32(&out[0], a, 3, 0);
    kt_free(out, 1);
    /* NaN propagates through Max like numpy.maximum */
    float nan_[] = {NAN, 1};
    onyx_tensor N = T(ONYX_FLOAT, 1, (2), nan_),
                One = T(ONYX_FLOAT, 0, (0), &c);
    run2("Max", 13, &One, &N, out);
    ck_assert(isnan(((float *)out[0].data)[0]));
    ck_assert(((float *)out[0].data)[1] == 3);
    kt_free(out, 1);
}
END_TEST

START_TEST(test_compare_logic)
{
    float a[] = {1, 2, 3}, b = 2;
    onyx_tensor A = T(ONYX_FLOAT, 1, (3), a), B = T(ONYX_FLOAT, 0, (0), &b),
                out[1];
    run2("Equal", 13, &A, &B, out);
    expect_u8(&out[0], ONYX_BOOL, (uint8_t[]){0, 1, 0}, 3);
    kt_free(out, 1);
    run2("Less", 13, &A, &B, out);
    expect_u8(&out[0], ONYX_BOOL, (uint8_t[]){1, 0, 0}, 3);
    kt_free(out, 1);
    run2("LessOrEqual", 16, &A, &B, out);
    expect_u8(&out[0], ONYX_BOOL, (uint8_t[]){1, 1, 0}, 3);
    kt_free(out, 1);
    run2("Greater", 13, &A, &B, out);
    expect_u8(&out[0], ONYX_BOOL, (uint8_t[]){0, 0, 1}, 3);
    kt_free(out, 1);
    run2("GreaterOrEqual", 16, &A, &B, out);
    expect_u8(&out[0], ONYX_BOOL, (uint8_t[]){0, 1, 1}, 3);
    kt_free(out, 1);

    int64_t ia[] = {5, 6}, ib[] = {6};
    onyx_tensor IA = T(ONYX_INT64, 1, (2), ia), IB = T(ONYX_INT64, 1, (1), ib);
    run2("Equal", 11, &IA, &IB, out);
    expect_u8(&out[0], ONYX_BOOL, (uint8_t[]){0, 1}, 2);
    kt_free(out, 1);

    /* truth tables: rows {0,1} against columns {0,1} */
    uint8_t p[] = {0, 1}, q[] = {0, 1};
    onyx_tensor P = T(ONYX_BOOL, 2, (2, 1), p), Q = T(ONYX_BOOL, 1, (2), q);
    run2("And", 7, &P, &Q, out);
    expect_u8(&out[0], ONYX_BOOL, (uint8_t[]){0, 0, 0, 1}, 4);
    kt_free(out, 1);
    run2("Or", 7, &P, &Q, out);
    expect_u8(&out[0], ONYX_BOOL, (uint8_t[]){0, 1, 1, 1}, 4);
    kt_free(out, 1);
    run2("Equal", 11, &P, &Q, out);
    expect_u8(&out[0], ONYX_BOOL, (uint8_t[]){1, 0, 0, 1}, 4);
    kt_free(out, 1);

    /* errors: And of floats; mixed dtypes; shapes [3] and [2] */
    ck_assert_int_eq(
        kt_run("And", 7, NULL, 0, (onyx_tensor *[]){&A, &B}, 2, out, 1, msg),
        ONYX_ERR_UNSUPPORTED);
    ck_assert_int_eq(
        kt_run("Less", 13, NULL, 0, (onyx_tensor *[]){&A, &IA}, 2, out, 1, msg),
        ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "must match"));
    onyx_tensor F2 = T(ONYX_FLOAT, 1, (2), a);
    ck_assert_int_eq(
        kt_run("Add", 14, NULL, 0, (onyx_tensor *[]){&A, &F2}, 2, out, 1, msg),
        ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "broadcast"));
}
END_TEST

START_TEST(test_where)
{
    /* cond [2,1] picks row-wise between x [2,2] and the scalar y */
    uint8_t c[] = {1, 0};
    float x[] = {1, 2, 3, 4}, y = -1;
    onyx_tensor C = T(ONYX_BOOL, 2, (2, 1), c), X = T(ONYX_FLOAT, 2, (2, 2), x),
                Y = T(ONYX_FLOAT, 0, (0), &y), out[1];
    ck_assert_int_eq(kt_run("Where", 16, NULL, 0, (onyx_tensor *[]){&C, &X, &Y},
                            3, out, 1, msg),
                     ONYX_OK);
    expect_f32(&out[0], (float[]){1, 2, -1, -1}, 4, 0);
    kt_free(out, 1);

    /* int64, all the same shape */
    uint8_t c2[] = {1, 0, 0, 1};
    int64_t xi[] = {1, 2, 3, 4}, yi[] = {9, 8, 7, 6};
    onyx_tensor C2 = T(ONYX_BOOL, 1, (4), c2), Xi = T(ONYX_INT64, 1, (4), xi),
                Yi = T(ONYX_INT64, 1, (4), yi);
    ck_assert_int_eq(kt_run("Where", 9, NULL, 0,
                            (onyx_tensor *[]){&C2, &Xi, &Yi}, 3, out, 1, msg),
                     ONYX_OK);
    expect_i64(&out[0], (int64_t[]){1, 8, 7, 4}, 4);
    kt_free(out, 1);

    /* errors: float condition; X and Y of different dtypes */
    ck_assert_int_eq(kt_run("Where", 9, NULL, 0, (onyx_tensor *[]){&X, &X, &X},
                            3, out, 1, msg),
                     ONYX_ERR_UNSUPPORTED);
    ck_assert_int_eq(kt_run("Where", 9, NULL, 0,
                            (onyx_tensor *[]){&C2, &Xi, &X}, 3, out, 1, msg),
                     ONYX_ERR_INVALID);
}
END_TEST

START_TEST(test_prelu)
{
    /* X [1,2,2], slope [2,1]: channel 0 slope 0.5, channel 1 slope 0.25 */
    float x[] = {-2, 2, -4, 4}, s[] = {0.5f, 0.25f};
    onyx_tensor X = T(ONYX_FLOAT, 3, (1, 2, 2), x),
                S = T(ONYX_FLOAT, 2, (2, 1), s), out[1];
    run2("PRelu", 9, &X, &S, out);
    expect_f32(&out[0], (float[]){-1, 2, -1, 4}, 4, 0);
    kt_free(out, 1);

    /* opset 6: slope [C] applies to axis 1 of X [1,2,2] */
    onyx_tensor S1 = T(ONYX_FLOAT, 1, (2), s);
    run2("PRelu", 6, &X, &S1, out);
    expect_f32(&out[0], (float[]){-1, 2, -1, 4}, 4, 0);
    kt_free(out, 1);
    /* from opset 7 the same slope broadcasts numpy-style over the last
     * axis: x[...,0] * 0.5, x[...,1] * 0.25 */
    run2("PRelu", 9, &X, &S1, out);
    expect_f32(&out[0], (float[]){-1, 2, -2, 4}, 4, 0);
    kt_free(out, 1);

    /* error: slope [2,2,2] would grow X */
    float s8[8] = {0};
    onyx_tensor S8 = T(ONYX_FLOAT, 3, (2, 2, 2), s8);
    ck_assert_int_eq(
        kt_run("PRelu", 9, NULL, 0, (onyx_tensor *[]){&X, &S8}, 2, out, 1, msg),
        ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "slope"));
}
END_TEST

START_TEST(test_legacy_broadcast)
{
    /* opset 6 Add with broadcast=1 axis=1: B [3] aligns with A [2,3,2]'s
     * axis 1, i.e. acts as [3,1] */
    float a[12] = {0}, b[] = {1, 2, 3}, want[12];
    for (int i = 0; i < 12; i++)
        want[i] = b[(i / 2) % 3];
    onyx_tensor A = T(ONYX_FLOAT, 3, (2, 3, 2), a),
                B = T(ONYX_FLOAT, 1, (3), b), out[1];
    onyx_attr at[] = {KT_INT("broadcast", 1), KT_INT("axis", 1)};
    ck_assert_int_eq(
        kt_run("Add", 6, at, 2, (onyx_tensor *[]){&A, &B}, 2, out, 1, msg),
        ONYX_OK);
    expect_f32(&out[0], want, 12, 0);
    kt_free(out, 1);
}
END_TEST

/* ------------------------------------------------------------ identity */

START_TEST(test_identity_dropout)
{
    float x[] = {1, -2, 3};
    onyx_tensor X = T(ONYX_FLOAT, 1, (3), x), out[2];
    ck_assert_int_eq(
        kt_run("Identity", 16, NULL, 0, (onyx_tensor *[]){&X}, 1, out, 1, msg),
        ONYX_OK);
    expect_f32(&out[0], x, 3, 0);
    kt_free(out, 1);

    /* opset 13 with ratio input: copy, mask all true (bool) */
    float r = 0.3f;
    onyx_tensor R = T(ONYX_FLOAT, 0, (0), &r);
    ck_assert_int_eq(kt_run("Dropout", 13, NULL, 0, (onyx_tensor *[]){&X, &R},
                            2, out, 2, msg),
                     ONYX_OK);
    expect_f32(&out[0], x, 3, 0);
    expect_u8(&out[1], ONYX_BOOL, (uint8_t[]){1, 1, 1}, 3);
    kt_free(out, 2);

    /* opset 7: mask of X's dtype, all 1.0 */
    ck_assert_int_eq(
        kt_run("Dropout", 7, NULL, 0, (onyx_tensor *[]){&X}, 1, out, 2, msg),
        ONYX_OK);
    expect_f32(&out[1], (float[]){1, 1, 1}, 3, 0);
    kt_free(out, 2);

    /* training_mode false: a copy */
    uint8_t tm = 0;
    onyx_tensor TM = T(ONYX_BOOL, 0, (0), &tm);
    ck_assert_int_eq(kt_run("Dropout", 13, NULL, 0,
                            (onyx_tensor *[]){&X, NULL, &TM}, 3, out, 1, msg),
                     ONYX_OK);
    expect_f32(&out[0], x, 3, 0);
    kt_free(out, 1);
    /* training_mode true with ratio 0: nothing is dropped, y = x, mask all
     * true */
    tm = 1;
    r = 0;
    ck_assert_int_eq(kt_run("Dropout", 13, NULL, 0,
                            (onyx_tensor *[]){&X, &R, &TM}, 3, out, 2, msg),
                     ONYX_OK);
    expect_f32(&out[0], x, 3, 0);
    expect_u8(&out[1], ONYX_BOOL, (uint8_t[]){1, 1, 1}, 3);
    kt_free(out, 2);
    /* ratio out of range (opset 10 attribute) */
    onyx_attr bad[] = {KT_FLOAT("ratio", 1.5f)};
    ck_assert_int_eq(
        kt_run("Dropout", 10, bad, 1, (onyx_tensor *[]){&X}, 1, out, 1, msg),
        ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "ratio"));
}
END_TEST

/* The generator behind training-mode Dropout: numpy's legacy RandomState.
 * Expected values pasted from numpy 1.24:
 *   np.random.RandomState(0).random_sample(4)
 *   np.random.RandomState(5).random_sample(4)
 * printed with repr (17 significant digits round-trip exactly). */
START_TEST(test_mt19937_numpy)
{
    const double want0[] = {0.5488135039273248, 0.7151893663724195,
                            0.6027633760716439, 0.5448831829968969};
    const double want5[] = {0.22199317108973948, 0.8707323061773764,
                            0.20671915533942642, 0.9186109079379216};
    onyx_mt19937 rng;
    onyx_mt19937_seed(&rng, 0);
    for (int i = 0; i < 4; i++) {
        double u = onyx_mt19937_next_double(&rng);
        ck_assert_msg(u == want0[i], "seed 0: u[%d] = %.17g, want %.17g", i, u,
                      want0[i]);
    }
    onyx_mt19937_seed(&rng, 5);
    for (int i = 0; i < 4; i++) {
        double u = onyx_mt19937_next_double(&rng);
        ck_assert_msg(u == want5[i], "seed 5: u[%d] = %.17g, want %.17g", i, u,
                      want5[i]);
    }
    /* the raw first output for seed 5489, the default seed of Matsumoto and
     * Nishimura's mt19937ar.c and of C++'s std::mt19937: 3499211612 (numpy:
     * RandomState(5489).randint(0, 2**32, dtype=np.uint32)) */
    onyx_mt19937_seed(&rng, 5489);
    ck_assert_uint_eq(onyx_mt19937_next32(&rng), 3499211612u);
}
END_TEST

/* Dropout in training mode: ONNX's reference
 *   np.random.seed(seed); mask = np.random.uniform(0, 1, x.shape) >= ratio
 *   y = mask * x * (1 / (1 - ratio))
 * with the uniform draws of test_mt19937_numpy. */
START_TEST(test_dropout_training)
{
    uint8_t tm = 1;
    onyx_tensor TM = T(ONYX_BOOL, 0, (0), &tm), out[2];

    /* seed 0 (the default), ratio 0.5: u = .549 .715 .603 .545 .424 .646,
     * so only the fifth is dropped (a dropped -5 gives -0); kept ones
     * scale by 1 / (1 - 0.5) = 2 */
    float x0[] = {1, -2, 3, 4, -5, 6}, r0 = 0.5f;
    onyx_tensor X0 = T(ONYX_FLOAT, 2, (2, 3), x0),
                R0 = T(ONYX_FLOAT, 0, (0), &r0);
    ck_assert_int_eq(kt_run("Dropout", 13, NULL, 0,
                            (onyx_tensor *[]){&X0, &R0, &TM}, 3, out, 2, msg),
                     ONYX_OK);
    expect_f32(&out[0], (float[]){2, -4, 6, 8, 0, 12}, 6, 0);
    ck_assert(signbit(((float *)out[0].data)[4]));
    expect_u8(&out[1], ONYX_BOOL, (uint8_t[]){1, 1, 1, 1, 0, 1}, 6);
    kt_free(out, 2);
    /* ratio omitted means 0.5: the same y */
    ck_assert_int_eq(kt_run("Dropout", 13, NULL, 0,
                            (onyx_tensor *[]){&X0, NULL, &TM}, 3, out, 1, msg),
                     ONYX_OK);
    expect_f32(&out[0], (float[]){2, -4, 6, 8, 0, 12}, 6, 0);
    kt_free(out, 1);

    /* seed 5, ratio 0.3: u = .222 .871 .207 .919 .488 .612 drops the first
     * and third. The scale is 1 / (1 - 0.3f) in float32 = 1.4285715 and y is
     * x times it: 5 * 1.4285715 = 7.1428576 and 10 * 1.4285715 = 14.285715
     * (dividing by 0.7f instead would give 7.142857 and 14.285714) */
    float x5[] = {1, 5, -2, 10, -7, 3}, r5 = 0.3f;
    onyx_tensor X5 = T(ONYX_FLOAT, 1, (6), x5), R5 = T(ONYX_FLOAT, 0, (0), &r5);
    onyx_attr seed5[] = {KT_INT("seed", 5)};
    ck_assert_int_eq(kt_run("Dropout", 13, seed5, 1,
                            (onyx_tensor *[]){&X5, &R5, &TM}, 3, out, 2, msg),
                     ONYX_OK);
    const float want5[] = {0, 7.1428576f, -0.0f, 14.285715f, -10, 4.285714f};
    const float *y = out[0].data;
    for (int i = 0; i < 6; i++)
        ck_assert_msg(memcmp(&y[i], &want5[i], sizeof(float)) == 0,
                      "y[%d] = %.9g, want %.9g", i, (double)y[i],
                      (double)want5[i]);
    expect_u8(&out[1], ONYX_BOOL, (uint8_t[]){0, 1, 0, 1, 1, 1}, 6);
    kt_free(out, 2);

    /* numpy takes seeds in [0, 2^32 - 1] only */
    onyx_attr neg[] = {KT_INT("seed", -1)};
    ck_assert_int_eq(kt_run("Dropout", 13, neg, 1,
                            (onyx_tensor *[]){&X5, &R5, &TM}, 3, out, 1, msg),
                     ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "seed"));
    /* ... which matters only when a mask is drawn */
    tm = 0;
    ck_assert_int_eq(kt_run("Dropout", 13, neg, 1,
                            (onyx_tensor *[]){&X5, &R5, &TM}, 3, out, 1, msg),
                     ONYX_OK);
    expect_f32(&out[0], x5, 6, 0);
    kt_free(out, 1);
}
END_TEST

/* ------------------------------------------------------------ cast */

START_TEST(test_cast)
{
    float x[] = {-1.7f, 0, 2.9f, 300};
    onyx_tensor X = T(ONYX_FLOAT, 1, (4), x), out[1];
    /* truncation toward zero */
    onyx_attr to64[] = {KT_INT("to", ONYX_INT64)};
    ck_assert_int_eq(
        kt_run("Cast", 13, to64, 1, (onyx_tensor *[]){&X}, 1, out, 1, msg),
        ONYX_OK);
    expect_i64(&out[0], (int64_t[]){-1, 0, 2, 300}, 4);
    kt_free(out, 1);
    /* nonzero -> true */
    onyx_attr tob[] = {KT_INT("to", ONYX_BOOL)};
    ck_assert_int_eq(
        kt_run("Cast", 13, tob, 1, (onyx_tensor *[]){&X}, 1, out, 1, msg),
        ONYX_OK);
    expect_u8(&out[0], ONYX_BOOL, (uint8_t[]){1, 0, 1, 1}, 4);
    kt_free(out, 1);
    /* uint8 wraps: -1 -> 255, 300 -> 44 */
    onyx_attr tou8[] = {KT_INT("to", ONYX_UINT8)};
    ck_assert_int_eq(
        kt_run("Cast", 13, tou8, 1, (onyx_tensor *[]){&X}, 1, out, 1, msg),
        ONYX_OK);
    expect_u8(&out[0], ONYX_UINT8, (uint8_t[]){255, 0, 2, 44}, 4);
    kt_free(out, 1);
    /* float -> double -> float round trip */
    onyx_attr tod[] = {KT_INT("to", ONYX_DOUBLE)};
    ck_assert_int_eq(
        kt_run("Cast", 13, tod, 1, (onyx_tensor *[]){&X}, 1, out, 1, msg),
        ONYX_OK);
    ck_assert_int_eq(out[0].dtype, ONYX_DOUBLE);
    ck_assert(((double *)out[0].data)[2] == (double)2.9f);
    kt_free(out, 1);

    /* int64 and bool -> float */
    int64_t xi[] = {-3, 1 << 20};
    onyx_tensor Xi = T(ONYX_INT64, 1, (2), xi);
    onyx_attr tof[] = {KT_INT("to", ONYX_FLOAT)};
    ck_assert_int_eq(
        kt_run("Cast", 9, tof, 1, (onyx_tensor *[]){&Xi}, 1, out, 1, msg),
        ONYX_OK);
    expect_f32(&out[0], (float[]){-3, 1 << 20}, 2, 0);
    kt_free(out, 1);
    uint8_t b[] = {1, 0};
    onyx_tensor B = T(ONYX_BOOL, 1, (2), b);
    ck_assert_int_eq(
        kt_run("Cast", 9, tof, 1, (onyx_tensor *[]){&B}, 1, out, 1, msg),
        ONYX_OK);
    expect_f32(&out[0], (float[]){1, 0}, 2, 0);
    kt_free(out, 1);
    /* same dtype: a copy */
    ck_assert_int_eq(
        kt_run("Cast", 9, to64, 1, (onyx_tensor *[]){&Xi}, 1, out, 1, msg),
        ONYX_OK);
    expect_i64(&out[0], xi, 2);
    kt_free(out, 1);

    /* errors: to complex64, to string, no 'to' */
    onyx_attr toh[] = {KT_INT("to", ONYX_COMPLEX64)};
    ck_assert_int_eq(
        kt_run("Cast", 13, toh, 1, (onyx_tensor *[]){&X}, 1, out, 1, msg),
        ONYX_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(msg, "complex64"));
    onyx_attr tos[] = {KT_INT("to", ONYX_STRING)};
    ck_assert_int_eq(
        kt_run("Cast", 13, tos, 1, (onyx_tensor *[]){&X}, 1, out, 1, msg),
        ONYX_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(msg, "string"));
    ck_assert_int_eq(
        kt_run("Cast", 13, NULL, 0, (onyx_tensor *[]){&X}, 1, out, 1, msg),
        ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "to"));
}
END_TEST

static Suite *elementwise_suite(void)
{
    Suite *s = suite_create("elementwise");
    TCase *u = tcase_create("unary");
    tcase_add_test(u, test_relu_family);
    tcase_add_test(u, test_selu_sigmoid_softplus);
    tcase_add_test(u, test_math_and_rounding);
    tcase_add_test(u, test_math_edges);
    tcase_add_test(u, test_sin_cos);
    tcase_add_test(u, test_clip);
    tcase_add_test(u, test_unary_int_and_bool);
    suite_add_tcase(s, u);
    /* two million floats checked against log in double: slow under ASan */
    TCase *lg = tcase_create("log");
    tcase_set_timeout(lg, 120);
    tcase_add_test(lg, test_log);
    suite_add_tcase(s, lg);
    TCase *b = tcase_create("binary");
    tcase_add_test(b, test_add_shapes);
    tcase_add_test(b, test_broadcast_middle_axis);
    tcase_add_test(b, test_int64_arith);
    tcase_add_test(b, test_pow);
    tcase_add_test(b, test_variadic);
    tcase_add_test(b, test_compare_logic);
    tcase_add_test(b, test_where);
    tcase_add_test(b, test_prelu);
    tcase_add_test(b, test_legacy_broadcast);
    suite_add_tcase(s, b);
    TCase *o = tcase_create("identity_cast");
    tcase_add_test(o, test_identity_dropout);
    tcase_add_test(o, test_mt19937_numpy);
    tcase_add_test(o, test_dropout_training);
    tcase_add_test(o, test_cast);
    suite_add_tcase(s, o);
    return s;
}

int main(void)
{
    Suite *s = elementwise_suite();
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int f = srunner_ntests_failed(r);
    srunner_free(r);
    return f ? 1 : 0;
}
