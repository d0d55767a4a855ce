/* test_dtypes.c - unit tests of the dtypes beyond float32/int64: float16 and
 * bfloat16 conversions (kernel_util.c) and Cast/CastLike (cast.c); the
 * integer and float64 loops of binary.c (arithmetic, Min/Max, comparisons,
 * Pow of mixed types, Mod, BitShift, Xor); Clip of int8, CumSum of float64,
 * MaxPool of uint8. Every expected number is worked out in the comment
 * beside it. */
#include "ktest.h"

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

static char msg[256];

#define DIMS(...)               ((int64_t[]){__VA_ARGS__})
#define T(dt, rank, dims, data) kt_tensor((dt), (rank), DIMS dims, (data))

/* run a two-input op on a, b; out[0] must be dtype dt and hold the `n`
 * elements of `want` (each `es` bytes) */
static void binary_case(const char *op, const onyx_attr *at, int nat,
                        onyx_tensor a, onyx_tensor b, onyx_dtype dt,
                        const void *want, int n)
{
    onyx_tensor out[1];
    ck_assert_msg(kt_run(op, 14, at, nat, (onyx_tensor *[]){&a, &b}, 2, out, 1,
                         msg) == ONYX_OK,
                  "%s: %s", op, msg);
    ck_assert_int_eq(out[0].dtype, dt);
    ck_assert_int_eq(onyx_numel(&out[0]), n);
    size_t es = onyx_dtype_size(dt);
    for (int i = 0; i < n; i++)
        ck_assert_msg(memcmp((const char *)out[0].data + i * es,
                             (const char *)want + i * es, es) == 0,
                      "%s: element %d is %lld", op, i,
                      (long long)onyx_get_int(&out[0], i));
    kt_free(out, 1);
}

/* ------------------------------------------------------- half precision */

START_TEST(test_half_conversions)
{
    /* float16: 1 = 0x3c00, -2 = 0xc000, 65504 (the largest) = 0x7bff,
     * 2^-14 (smallest normal) = 0x0400, 2^-24 (smallest subnormal) =
     * 0x0001, inf = 0x7c00 */
    ck_assert_uint_eq(onyx_f32_to_f16(1.0f), 0x3c00);
    ck_assert_uint_eq(onyx_f32_to_f16(-2.0f), 0xc000);
    ck_assert_uint_eq(onyx_f32_to_f16(65504.0f), 0x7bff);
    ck_assert_uint_eq(onyx_f32_to_f16(0x1p-14f), 0x0400);
    ck_assert_uint_eq(onyx_f32_to_f16(0x1p-24f), 0x0001);
    ck_assert_uint_eq(onyx_f32_to_f16(INFINITY), 0x7c00);
    ck_assert_uint_eq(onyx_f32_to_f16(-INFINITY), 0xfc00);
    /* 65520 is halfway between 65504 and 65536: ties to even, which is
     * 65536, too large: inf; 65519 rounds down to 65504 */
    ck_assert_uint_eq(onyx_f32_to_f16(65520.0f), 0x7c00);
    ck_assert_uint_eq(onyx_f32_to_f16(65519.0f), 0x7bff);
    /* 1 + 2^-11 is halfway between 1 and 1 + 2^-10: to even, 1 (0x3c00);
     * 1 + 3 * 2^-11 halfway between 1 + 2^-10 (odd) and 1 + 2^-9: 0x3c02 */
    ck_assert_uint_eq(onyx_f32_to_f16(1.0f + 0x1p-11f), 0x3c00);
    ck_assert_uint_eq(onyx_f32_to_f16(1.0f + 3 * 0x1p-11f), 0x3c02);
    /* 2^-25 is half the smallest subnormal: to even, 0; 1.5 * 2^-24 is
     * halfway between 1 and 2 subnormal units: 2 */
    ck_assert_uint_eq(onyx_f32_to_f16(0x1p-25f), 0x0000);
    ck_assert_uint_eq(onyx_f32_to_f16(-0x1p-26f), 0x8000);
    ck_assert_uint_eq(onyx_f32_to_f16(1.5f * 0x1p-24f), 0x0002);
    /* NaN stays a (quiet) NaN */
    uint16_t hn = onyx_f32_to_f16(NAN);
    ck_assert_uint_eq(hn & 0x7c00, 0x7c00);
    ck_assert_uint_ne(hn & 0x03ff, 0);
    ck_assert(isnan(onyx_f16_to_f32(hn)));
    /* widening: exact */
    ck_assert(onyx_f16_to_f32(0x3555) == 0x1.554p-2f); /* 0.333251953125 */
    ck_assert(onyx_f16_to_f32(0x0001) == 0x1p-24f);
    ck_assert(onyx_f16_to_f32(0x83ff) == -0x3ffp-24f);
    ck_assert(isinf(onyx_f16_to_f32(0xfc00)) && onyx_f16_to_f32(0xfc00) < 0);
    /* every float16 survives the round trip */
    for (uint32_t h = 0; h < 0x10000; h++) {
        if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) continue; /* NaNs */
        ck_assert_uint_eq(onyx_f32_to_f16(onyx_f16_to_f32((uint16_t)h)), h);
    }

    /* bfloat16: the top 16 bits, rounded to nearest even.
     * 1 + 2^-8 is halfway between 1 (0x3f80) and 1 + 2^-7 (0x3f81): 0x3f80;
     * 1 + 3 * 2^-8 is halfway, the lower one odd: 0x3f82;
     * 1 + 2^-8 + 2^-20 is above halfway: 0x3f81 */
    ck_assert_uint_eq(onyx_f32_to_bf16(1.0f + 0x1p-8f), 0x3f80);
    ck_assert_uint_eq(onyx_f32_to_bf16(1.0f + 3 * 0x1p-8f), 0x3f82);
    ck_assert_uint_eq(onyx_f32_to_bf16(1.0f + 0x1p-8f + 0x1p-20f), 0x3f81);
    ck_assert_uint_eq(onyx_f32_to_bf16(-INFINITY), 0xff80);
    ck_assert_uint_eq(onyx_f32_to_bf16(FLT_MAX), 0x7f80); /* rounds to inf */
    ck_assert_uint_eq(onyx_f32_to_bf16(NAN) & 0x7fc0, 0x7fc0);
    ck_assert(onyx_bf16_to_f32(0xc040) == -3.0f);
}
END_TEST

START_TEST(test_cast_half)
{
    onyx_tensor out[1];
    /* float32 -> float16 -> float32: 0.1 becomes 0x2e66 = 0.0999755859375 */
    const float x[] = {0.1f, -65504.0f, 70000.0f, INFINITY};
    onyx_tensor X = T(ONYX_FLOAT, 1, (4), x);
    onyx_attr toh[] = {KT_INT("to", ONYX_FLOAT16)};
    ck_assert_int_eq(
        kt_run("Cast", 13, toh, 1, (onyx_tensor *[]){&X}, 1, out, 1, msg),
        ONYX_OK);
    ck_assert_int_eq(out[0].dtype, ONYX_FLOAT16);
    const uint16_t *h = out[0].data;
    ck_assert_uint_eq(h[0], 0x2e66);
    ck_assert_uint_eq(h[1], 0xfbff);
    ck_assert_uint_eq(h[2], 0x7c00); /* overflow: inf */
    ck_assert_uint_eq(h[3], 0x7c00);
    /* float16 -> int32 truncates: 0.0999.. -> 0, -65504, inf -> INT64_MIN
     * narrowed to int32 (0) */
    onyx_tensor H = T(ONYX_FLOAT16, 1, (4), h);
    onyx_attr toi[] = {KT_INT("to", ONYX_INT32)};
    onyx_tensor o2[1];
    ck_assert_int_eq(
        kt_run("Cast", 13, toi, 1, (onyx_tensor *[]){&H}, 1, o2, 1, msg),
        ONYX_OK);
    const int32_t *yi = o2[0].data;
    ck_assert_int_eq(yi[0], 0);
    ck_assert_int_eq(yi[1], -65504);
    kt_free(o2, 1);
    /* CastLike(float16 -> like a bfloat16 tensor): 0.0999755859375 =
     * 0x1.998p-4 keeps 7 fraction bits, 0x1.9ap-4 (0x3dcd: the dropped
     * bits are above half); -65504 = -0x1.ffcp15 rounds to -0x1p16 (0xc780);
     * inf stays inf */
    const uint16_t like[] = {0};
    onyx_tensor L = T(ONYX_BFLOAT16, 1, (1), like);
    ck_assert_int_eq(kt_run("CastLike", 15, NULL, 0, (onyx_tensor *[]){&H, &L},
                            2, o2, 1, msg),
                     ONYX_OK);
    ck_assert_int_eq(o2[0].dtype, ONYX_BFLOAT16);
    const uint16_t *b = o2[0].data;
    ck_assert_uint_eq(b[0], 0x3dcd);
    ck_assert_uint_eq(b[1], 0xc780);
    ck_assert_uint_eq(b[2], 0x7f80);
    kt_free(o2, 1);
    kt_free(out, 1);

    /* errors: CastLike with one input; Cast to a number that is no dtype */
    ck_assert_int_eq(
        kt_run("CastLike", 15, NULL, 0, (onyx_tensor *[]){&X}, 1, out, 1, msg),
        ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "two inputs"));
    onyx_attr bad[] = {KT_INT("to", 99)};
    ck_assert_int_eq(
        kt_run("Cast", 13, bad, 1, (onyx_tensor *[]){&X}, 1, out, 1, msg),
        ONYX_ERR_INVALID);
}
END_TEST

/* ------------------------------------------------------------ integers */

START_TEST(test_int_arith)
{
    /* uint8 wraps: 250 + 10 = 260 - 256 = 4; 3 - 5 = 254; 16 * 17 = 272 -
     * 256 = 16 */
    const uint8_t a[] = {250, 3, 16}, b[] = {10, 5, 17};
    binary_case("Add", NULL, 0, T(ONYX_UINT8, 1, (3), a),
                T(ONYX_UINT8, 1, (3), b), ONYX_UINT8, (uint8_t[]){4, 8, 33}, 3);
    binary_case("Sub", NULL, 0, T(ONYX_UINT8, 1, (3), a),
                T(ONYX_UINT8, 1, (3), b), ONYX_UINT8,
                (uint8_t[]){240, 254, 255}, 3);
    binary_case("Mul", NULL, 0, T(ONYX_UINT8, 1, (3), a),
                T(ONYX_UINT8, 1, (3), b), ONYX_UINT8, (uint8_t[]){196, 15, 16},
                3); /* 2500 % 256 = 196 */
    /* int32 division truncates toward zero; x / 0 = 0; INT32_MIN / -1
     * wraps to INT32_MIN */
    const int32_t n[] = {7, -7, 5, INT32_MIN}, d[] = {2, 2, 0, -1};
    binary_case("Div", NULL, 0, T(ONYX_INT32, 1, (4), n),
                T(ONYX_INT32, 1, (4), d), ONYX_INT32,
                (int32_t[]){3, -3, 0, INT32_MIN}, 4);
    /* uint16 * uint16 does not overflow int: 65535^2 mod 65536 = 1 */
    const uint16_t u[] = {65535};
    binary_case("Mul", NULL, 0, T(ONYX_UINT16, 1, (1), u),
                T(ONYX_UINT16, 1, (1), u), ONYX_UINT16, (uint16_t[]){1}, 1);
    /* float64 Add, and Max/Min of int8 and float64 (NaN propagates) */
    const double fa[] = {0.5, NAN}, fb[] = {0.25, 1};
    onyx_tensor out[1];
    onyx_tensor FA = T(ONYX_DOUBLE, 1, (2), fa),
                FB = T(ONYX_DOUBLE, 1, (2), fb);
    ck_assert_int_eq(
        kt_run("Max", 13, NULL, 0, (onyx_tensor *[]){&FA, &FB}, 2, out, 1, msg),
        ONYX_OK);
    ck_assert(((double *)out[0].data)[0] == 0.5);
    ck_assert(isnan(((double *)out[0].data)[1]));
    kt_free(out, 1);
    binary_case("Add", NULL, 0, T(ONYX_DOUBLE, 1, (1), fa),
                T(ONYX_DOUBLE, 1, (1), fb), ONYX_DOUBLE, (double[]){0.75}, 1);
    const int8_t i8a[] = {-128, 5}, i8b[] = {127, -6};
    binary_case("Min", NULL, 0, T(ONYX_INT8, 1, (2), i8a),
                T(ONYX_INT8, 1, (2), i8b), ONYX_INT8, (int8_t[]){-128, -6}, 2);
    binary_case("Max", NULL, 0, T(ONYX_INT8, 1, (2), i8a),
                T(ONYX_INT8, 1, (2), i8b), ONYX_INT8, (int8_t[]){127, 5}, 2);
    /* comparisons: int32 [1, 2, 3] == [1, 5, 3] broadcast row */
    const int32_t c1[] = {1, 2, 3, 4, 5, 6}, c2[] = {1, 5, 3};
    binary_case("Equal", NULL, 0, T(ONYX_INT32, 2, (2, 3), c1),
                T(ONYX_INT32, 1, (3), c2), ONYX_BOOL,
                (uint8_t[]){1, 0, 1, 0, 1, 0}, 6);
    binary_case("Less", NULL, 0, T(ONYX_INT32, 2, (2, 3), c1),
                T(ONYX_INT32, 1, (3), c2), ONYX_BOOL,
                (uint8_t[]){0, 1, 0, 0, 0, 0}, 6);

    /* errors: mixed dtypes; an op without the type */
    onyx_tensor U8 = T(ONYX_UINT8, 1, (3), a);
    ck_assert_int_eq(
        kt_run("Sub", 14, NULL, 0, (onyx_tensor *[]){&U8, &FB}, 2, out, 1, msg),
        ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "must match"));
    ck_assert_int_eq(kt_run("Mean", 13, NULL, 0, (onyx_tensor *[]){&U8, &U8}, 2,
                            out, 1, msg),
                     ONYX_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(msg, "uint8"));
}
END_TEST

START_TEST(test_pow_types)
{
    /* float32 ^ int32: 2^3 = 8, 4^-1 = 0.25 */
    const float fb[] = {2, 4};
    const int32_t ie[] = {3, -1};
    binary_case("Pow", NULL, 0, T(ONYX_FLOAT, 1, (2), fb),
                T(ONYX_INT32, 1, (2), ie), ONYX_FLOAT, (float[]){8, 0.25f}, 2);
    /* int32 ^ float32: 3^2 = 9, 2^0.5 = 1.41.. truncated to 1 */
    const int32_t ib[] = {3, 2};
    const float fe[] = {2, 0.5f};
    binary_case("Pow", NULL, 0, T(ONYX_INT32, 1, (2), ib),
                T(ONYX_FLOAT, 1, (2), fe), ONYX_INT32, (int32_t[]){9, 1}, 2);
    /* int64 ^ uint64: 3^4 = 81; (-2)^3 = -8 */
    const int64_t lb[] = {3, -2};
    const uint64_t ue[] = {4, 3};
    binary_case("Pow", NULL, 0, T(ONYX_INT64, 1, (2), lb),
                T(ONYX_UINT64, 1, (2), ue), ONYX_INT64, (int64_t[]){81, -8}, 2);
    /* error: a uint8 base */
    onyx_tensor out[1];
    const uint8_t ub[] = {2};
    onyx_tensor B = T(ONYX_UINT8, 1, (1), ub), E = T(ONYX_FLOAT, 1, (1), fe);
    ck_assert_int_eq(
        kt_run("Pow", 15, NULL, 0, (onyx_tensor *[]){&B, &E}, 2, out, 1, msg),
        ONYX_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(msg, "uint8 ^ float32"));
}
END_TEST

START_TEST(test_mod)
{
    /* fmod=0 (Python): the sign of the divisor.
     *   -4 % 3 = 2, 4 % -3 = -2, -4 % -3 = -1, 5 % 0 = 0, INT_MIN % -1 = 0 */
    const int32_t a[] = {-4, 4, -4, 5, INT32_MIN}, b[] = {3, -3, -3, 0, -1};
    binary_case("Mod", NULL, 0, T(ONYX_INT32, 1, (5), a),
                T(ONYX_INT32, 1, (5), b), ONYX_INT32,
                (int32_t[]){2, -2, -1, 0, 0}, 5);
    /* fmod=1 (C): the sign of the dividend: -1, 1, -1, 0, 0 */
    onyx_attr fm[] = {KT_INT("fmod", 1)};
    binary_case("Mod", fm, 1, T(ONYX_INT32, 1, (5), a),
                T(ONYX_INT32, 1, (5), b), ONYX_INT32,
                (int32_t[]){-1, 1, -1, 0, 0}, 5);
    /* uint8: 200 % 7 = 4 */
    const uint8_t ua[] = {200}, ub[] = {7};
    binary_case("Mod", NULL, 0, T(ONYX_UINT8, 1, (1), ua),
                T(ONYX_UINT8, 1, (1), ub), ONYX_UINT8, (uint8_t[]){4}, 1);
    /* float fmod: fmod(-5.5, 2) = -1.5 */
    const float fa[] = {-5.5f}, fb[] = {2};
    binary_case("Mod", fm, 1, T(ONYX_FLOAT, 1, (1), fa),
                T(ONYX_FLOAT, 1, (1), fb), ONYX_FLOAT, (float[]){-1.5f}, 1);
    /* errors: floats need fmod=1; fmod must be 0 or 1 */
    onyx_tensor out[1];
    onyx_tensor FA = T(ONYX_FLOAT, 1, (1), fa), FB = T(ONYX_FLOAT, 1, (1), fb);
    ck_assert_int_eq(
        kt_run("Mod", 13, NULL, 0, (onyx_tensor *[]){&FA, &FB}, 2, out, 1, msg),
        ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "fmod=1"));
    onyx_attr fm2[] = {KT_INT("fmod", 2)};
    ck_assert_int_eq(
        kt_run("Mod", 13, fm2, 1, (onyx_tensor *[]){&FA, &FB}, 2, out, 1, msg),
        ONYX_ERR_INVALID);
}
END_TEST

START_TEST(test_bitshift_xor)
{
    /* uint8 1 << 3 = 8, 255 << 1 = 254, shift by 8 or more: 0 */
    const uint8_t x[] = {1, 255, 1}, s[] = {3, 1, 9};
    onyx_attr left[] = {KT_STRING("direction", "LEFT")};
    onyx_attr right[] = {KT_STRING("direction", "RIGHT")};
    binary_case("BitShift", left, 1, T(ONYX_UINT8, 1, (3), x),
                T(ONYX_UINT8, 1, (3), s), ONYX_UINT8, (uint8_t[]){8, 254, 0},
                3);
    /* 255 >> 1 = 127 */
    binary_case("BitShift", right, 1, T(ONYX_UINT8, 1, (3), x),
                T(ONYX_UINT8, 1, (3), s), ONYX_UINT8, (uint8_t[]){0, 127, 0},
                3);
    /* uint64: 1 << 63 */
    const uint64_t one[] = {1}, s63[] = {63};
    binary_case("BitShift", left, 1, T(ONYX_UINT64, 1, (1), one),
                T(ONYX_UINT64, 1, (1), s63), ONYX_UINT64,
                (uint64_t[]){(uint64_t)1 << 63}, 1);
    /* Xor of bool, broadcast: [[1,0],[1,1]] ^ [1,0] */
    const uint8_t p[] = {1, 0, 1, 1}, q[] = {1, 0};
    binary_case("Xor", NULL, 0, T(ONYX_BOOL, 2, (2, 2), p),
                T(ONYX_BOOL, 1, (2), q), ONYX_BOOL, (uint8_t[]){0, 0, 0, 1}, 4);
    /* errors: a bad direction; signed BitShift; Xor of int */
    onyx_tensor out[1];
    onyx_tensor X = T(ONYX_UINT8, 1, (3), x), S = T(ONYX_UINT8, 1, (3), s);
    onyx_attr up[] = {KT_STRING("direction", "UP")};
    ck_assert_int_eq(kt_run("BitShift", 11, up, 1, (onyx_tensor *[]){&X, &S}, 2,
                            out, 1, msg),
                     ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "UP"));
    const int32_t si[] = {1};
    onyx_tensor I = T(ONYX_INT32, 1, (1), si);
    ck_assert_int_eq(kt_run("BitShift", 11, left, 1, (onyx_tensor *[]){&I, &I},
                            2, out, 1, msg),
                     ONYX_ERR_UNSUPPORTED);
    ck_assert_int_eq(
        kt_run("Xor", 7, NULL, 0, (onyx_tensor *[]){&I, &I}, 2, out, 1, msg),
        ONYX_ERR_UNSUPPORTED);
}
END_TEST

/* --------------------------------------------- Clip, CumSum, MaxPool */

START_TEST(test_clip_cumsum_maxpool)
{
    onyx_tensor out[2];
    /* Clip int8 to [-5, 100]; without bounds: unchanged */
    const int8_t x[] = {-128, -3, 127}, lo[] = {-5}, hi[] = {100};
    onyx_tensor X = T(ONYX_INT8, 1, (3), x), L = T(ONYX_INT8, 0, (0), lo),
                H = T(ONYX_INT8, 0, (0), hi);
    ck_assert_int_eq(kt_run("Clip", 13, NULL, 0, (onyx_tensor *[]){&X, &L, &H},
                            3, out, 1, msg),
                     ONYX_OK);
    ck_assert_int_eq(((int8_t *)out[0].data)[0], -5);
    ck_assert_int_eq(((int8_t *)out[0].data)[1], -3);
    ck_assert_int_eq(((int8_t *)out[0].data)[2], 100);
    kt_free(out, 1);
    ck_assert_int_eq(kt_run("Clip", 13, NULL, 0,
                            (onyx_tensor *[]){&X, NULL, NULL}, 3, out, 1, msg),
                     ONYX_OK);
    ck_assert_int_eq(((int8_t *)out[0].data)[0], -128);
    kt_free(out, 1);
    /* error: an int32 bound for int8 X */
    const int32_t l32[] = {0};
    onyx_tensor L32 = T(ONYX_INT32, 0, (0), l32);
    ck_assert_int_eq(kt_run("Clip", 13, NULL, 0, (onyx_tensor *[]){&X, &L32}, 2,
                            out, 1, msg),
                     ONYX_ERR_INVALID);

    /* CumSum float64, reverse exclusive: [1, 2, 4] -> [6, 4, 0] */
    const double c[] = {1, 2, 4};
    const int64_t ax[] = {0};
    onyx_tensor C = T(ONYX_DOUBLE, 1, (3), c), A = T(ONYX_INT64, 0, (0), ax);
    onyx_attr re[] = {KT_INT("reverse", 1), KT_INT("exclusive", 1)};
    ck_assert_int_eq(
        kt_run("CumSum", 14, re, 2, (onyx_tensor *[]){&C, &A}, 2, out, 1, msg),
        ONYX_OK);
    ck_assert_int_eq(out[0].dtype, ONYX_DOUBLE);
    const double *cy = out[0].data;
    ck_assert(cy[0] == 6 && cy[1] == 4 && cy[2] == 0);
    kt_free(out, 1);
    /* error: CumSum of bool */
    const uint8_t bb[] = {1};
    onyx_tensor Bt = T(ONYX_BOOL, 1, (1), bb);
    ck_assert_int_eq(kt_run("CumSum", 14, NULL, 0, (onyx_tensor *[]){&Bt, &A},
                            2, out, 1, msg),
                     ONYX_ERR_UNSUPPORTED);

    /* MaxPool uint8, 2x2 kernel, stride 2 over a 1x1x2x4 image:
     *   [[1, 200,  3, 4],
     *    [5,   6, 255, 0]] -> [[200, 255]], indices [1, 6] */
    const uint8_t img[] = {1, 200, 3, 4, 5, 6, 255, 0};
    onyx_tensor I = T(ONYX_UINT8, 4, (1, 1, 2, 4), img);
    const int64_t k22[] = {2, 2};
    onyx_attr mp[] = {KT_INTS("kernel_shape", 2, k22),
                      KT_INTS("strides", 2, k22)};
    ck_assert_int_eq(
        kt_run("MaxPool", 12, mp, 2, (onyx_tensor *[]){&I}, 1, out, 2, msg),
        ONYX_OK);
    ck_assert_int_eq(out[0].dtype, ONYX_UINT8);
    ck_assert_int_eq(onyx_numel(&out[0]), 2);
    ck_assert_uint_eq(((uint8_t *)out[0].data)[0], 200);
    ck_assert_uint_eq(((uint8_t *)out[0].data)[1], 255);
    ck_assert_int_eq(((int64_t *)out[1].data)[0], 1);
    ck_assert_int_eq(((int64_t *)out[1].data)[1], 6);
    kt_free(out, 2);
    /* error: AveragePool of uint8 */
    ck_assert_int_eq(
        kt_run("AveragePool", 11, mp, 2, (onyx_tensor *[]){&I}, 1, out, 1, msg),
        ONYX_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(msg, "uint8"));
}
END_TEST

static Suite *dtypes_suite(void)
{
    Suite *s = suite_create("dtypes");
    TCase *h = tcase_create("half");
    tcase_add_test(h, test_half_conversions);
    tcase_add_test(h, test_cast_half);
    suite_add_tcase(s, h);
    TCase *i = tcase_create("integers");
    tcase_add_test(i, test_int_arith);
    tcase_add_test(i, test_pow_types);
    tcase_add_test(i, test_mod);
    tcase_add_test(i, test_bitshift_xor);
    tcase_add_test(i, test_clip_cumsum_maxpool);
    suite_add_tcase(s, i);
    return s;
}

int main(void)
{
    Suite *s = dtypes_suite();
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int f = srunner_ntests_failed(r);
    srunner_free(r);
    return f ? 1 : 0;
}
