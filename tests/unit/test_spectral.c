/* test_spectral.c - unit tests for Resize, DFT, STFT, the windows and
 * MelWeightMatrix, on small inputs whose results are worked out by hand in
 * the comments. */
#include "ktest.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define TOL 1e-5f

static void expect_floats(const onyx_tensor *t, const float *want, int n)
{
    ck_assert_int_eq(onyx_numel(t), n);
    const float *y = t->data;
    for (int i = 0; i < n; i++) {
        if (fabsf(y[i] - want[i]) > TOL * (1 + fabsf(want[i])))
            ck_abort_msg("element %d: got %.7g, want %.7g", i, y[i], want[i]);
    }
}

/* ---- DFT ---- */

/* X[k] = sum_j x[j] (-i)^{jk} for x = 1,2,3,4:
 * X0 = 10, X1 = 1 - 2i - 3 + 4i = -2+2i, X2 = 1-2+3-4 = -2, X3 = -2-2i */
START_TEST(dft_real_4)
{
    float x[] = {1, 2, 3, 4};
    onyx_tensor in = kt_tensor(ONYX_FLOAT, 3, (int64_t[]){1, 4, 1}, x);
    onyx_tensor out[1];
    char msg[256];
    ck_assert_int_eq(
        kt_run("DFT", 17, NULL, 0, (onyx_tensor *[]){&in}, 1, out, 1, msg),
        ONYX_OK);
    ck_assert_int_eq(out[0].rank, 3);
    ck_assert_int_eq(out[0].dims[1], 4);
    ck_assert_int_eq(out[0].dims[2], 2);
    expect_floats(&out[0], (float[]){10, 0, -2, 2, -2, 0, -2, -2}, 8);
    kt_free(out, 1);
}
END_TEST

/* The inverse of the spectrum above gives back 1,2,3,4 (imag 0); onesided
 * keeps bins 0..2 only. */
START_TEST(dft_inverse_and_onesided)
{
    float X[] = {10, 0, -2, 2, -2, 0, -2, -2};
    onyx_tensor in = kt_tensor(ONYX_FLOAT, 3, (int64_t[]){1, 4, 2}, X);
    onyx_tensor out[1];
    char msg[256];
    onyx_attr inv[] = {KT_INT("inverse", 1)};
    ck_assert_int_eq(
        kt_run("DFT", 17, inv, 1, (onyx_tensor *[]){&in}, 1, out, 1, msg),
        ONYX_OK);
    expect_floats(&out[0], (float[]){1, 0, 2, 0, 3, 0, 4, 0}, 8);
    kt_free(out, 1);

    float x[] = {1, 2, 3, 4};
    onyx_tensor re = kt_tensor(ONYX_FLOAT, 3, (int64_t[]){1, 4, 1}, x);
    onyx_attr one[] = {KT_INT("onesided", 1)};
    ck_assert_int_eq(
        kt_run("DFT", 17, one, 1, (onyx_tensor *[]){&re}, 1, out, 1, msg),
        ONYX_OK);
    ck_assert_int_eq(out[0].dims[1], 3);
    expect_floats(&out[0], (float[]){10, 0, -2, 2, -2, 0}, 6);
    kt_free(out, 1);
}
END_TEST

/* Inverse DFT of two real signals side by side (axis 1 of [1, 4, 2, 1]):
 * a = 1,2,3,4: x_k = 1/4 sum a_j i^{jk} = 2.5, -.5-.5i, -.5, -.5+.5i;
 * b = 4,3,2,1: 2.5, .5+.5i, .5, .5-.5i. */
START_TEST(dft_inverse_real_pair)
{
    float x[] = {1, 4, 2, 3, 3, 2, 4, 1};
    onyx_tensor in = kt_tensor(ONYX_FLOAT, 4, (int64_t[]){1, 4, 2, 1}, x);
    onyx_tensor out[1];
    char msg[256];
    onyx_attr inv[] = {KT_INT("inverse", 1)};
    ck_assert_int_eq(
        kt_run("DFT", 17, inv, 1, (onyx_tensor *[]){&in}, 1, out, 1, msg),
        ONYX_OK);
    expect_floats(&out[0],
                  (float[]){2.5f, 0, 2.5f, 0, -.5f, -.5f, .5f, .5f, -.5f, 0,
                            .5f, 0, -.5f, .5f, .5f, -.5f},
                  16);
    kt_free(out, 1);
}
END_TEST

/* dft_length 3 keeps 1,2,3 (direct DFT, not a power of two):
 * w = e^{-2 pi i/3} = -1/2 - (sqrt3/2) i, w^2 = conj(w):
 * X1 = 1 + 2w + 3w^2 = -1.5 + (sqrt3/2) i, X2 = conj(X1).
 * Along axis 2 of [1, 2, 4, 1] (two rows): the second row is 10x the first. */
START_TEST(dft_length_truncates_on_axis2)
{
    float x[] = {1, 2, 3, 4, 10, 20, 30, 40};
    int64_t len = 3;
    onyx_tensor in = kt_tensor(ONYX_FLOAT, 4, (int64_t[]){1, 2, 4, 1}, x);
    onyx_tensor n = kt_tensor(ONYX_INT64, 0, NULL, &len);
    onyx_tensor out[1];
    char msg[256];
    onyx_attr at[] = {KT_INT("axis", 2)};
    ck_assert_int_eq(
        kt_run("DFT", 17, at, 1, (onyx_tensor *[]){&in, &n}, 2, out, 1, msg),
        ONYX_OK);
    ck_assert_int_eq(out[0].dims[2], 3);
    float h = sqrtf(3.0f) / 2;
    expect_floats(
        &out[0],
        (float[]){6, 0, -1.5f, h, -1.5f, -h, 60, 0, -15, 10 * h, -15, -10 * h},
        12);
    kt_free(out, 1);
}
END_TEST

/* Long transforms of a complex signal against a double-precision direct
 * sum, for each kind of FFT plan; dft_length 128 > 100 zero-pads, 97 < 100
 * truncates. */
static void check_long_dft(int n, int n_fft, int inverse)
{
    float x[2 * 128];
    for (int j = 0; j < n; j++) {
        x[2 * j] = sinf(0.3f * j) + 0.1f * (j % 7);
        x[2 * j + 1] = cosf(0.17f * j * j);
    }
    int64_t len = n_fft;
    onyx_tensor in = kt_tensor(ONYX_FLOAT, 3, (int64_t[]){1, n, 2}, x);
    onyx_tensor nt = kt_tensor(ONYX_INT64, 0, NULL, &len);
    onyx_tensor out[1];
    char msg[256];
    onyx_attr inv[] = {KT_INT("inverse", inverse)};
    ck_assert_int_eq(
        kt_run("DFT", 17, inv, 1, (onyx_tensor *[]){&in, &nt}, 2, out, 1, msg),
        ONYX_OK);
    const float *y = out[0].data;
    double sign = inverse ? 1 : -1, norm = inverse ? 1.0 / n_fft : 1;
    for (int k = 0; k < n_fft; k++) {
        double re = 0, im = 0;
        for (int j = 0; j < n && j < n_fft; j++) {
            double a = sign * 2 * M_PI * (double)j * k / n_fft;
            re += x[2 * j] * cos(a) - x[2 * j + 1] * sin(a);
            im += x[2 * j] * sin(a) + x[2 * j + 1] * cos(a);
        }
        ck_assert_double_eq_tol(y[2 * k], re * norm, 1e-3);
        ck_assert_double_eq_tol(y[2 * k + 1], im * norm, 1e-3);
    }
    kt_free(out, 1);
}

START_TEST(dft_long_lengths)
{
    check_long_dft(100, 100, 0); /* radix 4, 5, 5 */
    check_long_dft(64, 64, 0);   /* radix 4, 4, 4 */
    check_long_dft(100, 128, 0); /* zero-padded */
    check_long_dft(100, 97, 0);  /* prime: Bluestein */
    check_long_dft(100, 97, 1);
    check_long_dft(63, 63, 1); /* radix 3, 3, 7 (generic) */
}
END_TEST

START_TEST(dft_errors)
{
    float x[8] = {0};
    onyx_tensor in = kt_tensor(ONYX_FLOAT, 3, (int64_t[]){1, 4, 2}, x);
    onyx_tensor bad = kt_tensor(ONYX_FLOAT, 3, (int64_t[]){1, 2, 3}, x);
    onyx_tensor out[1];
    char msg[256];
    onyx_attr ax[] = {KT_INT("axis", 2)}; /* axis 2 is the [re, im] dim */
    ck_assert_int_ne(
        kt_run("DFT", 17, ax, 1, (onyx_tensor *[]){&in}, 1, out, 1, msg),
        ONYX_OK);
    ck_assert_ptr_nonnull(strstr(msg, "axis"));
    ck_assert_int_ne(
        kt_run("DFT", 17, NULL, 0, (onyx_tensor *[]){&bad}, 1, out, 1, msg),
        ONYX_OK);
    ck_assert_ptr_nonnull(strstr(msg, "1 or 2"));
}
END_TEST

/* ---- STFT ---- */

/* Signal 0..7, frames of 4 every 2 samples -> 3 frames, 3 onesided bins.
 * Frame [a, a+1, a+2, a+3]: X0 = 4a+6, X1 = a - (a+1)i - (a+2) + (a+3)i
 * = -2 + 2i, X2 = a - (a+1) + (a+2) - (a+3) = -2. */
START_TEST(stft_frames)
{
    float x[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    int64_t step = 2, flen = 4;
    onyx_tensor sig = kt_tensor(ONYX_FLOAT, 3, (int64_t[]){1, 8, 1}, x);
    onyx_tensor st = kt_tensor(ONYX_INT64, 0, NULL, &step);
    onyx_tensor fl = kt_tensor(ONYX_INT64, 0, NULL, &flen);
    onyx_tensor out[1];
    char msg[256];
    ck_assert_int_eq(kt_run("STFT", 17, NULL, 0,
                            (onyx_tensor *[]){&sig, &st, NULL, &fl}, 4, out, 1,
                            msg),
                     ONYX_OK);
    ck_assert_int_eq(out[0].rank, 4);
    ck_assert_int_eq(out[0].dims[1], 3);
    ck_assert_int_eq(out[0].dims[2], 3);
    expect_floats(
        &out[0],
        (float[]){6, 0, -2, 2, -2, 0, 14, 0, -2, 2, -2, 0, 22, 0, -2, 2, -2, 0},
        18);
    kt_free(out, 1);

    /* window [1, 0, 1, 0] keeps samples a and a+2: X0 = 2a+2, X1 = a - (a+2)
     * = -2, X2 = 2a+2; not onesided: X3 = X1. */
    float w[4] = {1, 0, 1, 0};
    onyx_tensor win = kt_tensor(ONYX_FLOAT, 1, (int64_t[]){4}, w);
    onyx_attr two[] = {KT_INT("onesided", 0)};
    ck_assert_int_eq(kt_run("STFT", 17, two, 1,
                            (onyx_tensor *[]){&sig, &st, &win}, 3, out, 1, msg),
                     ONYX_OK);
    ck_assert_int_eq(out[0].dims[2], 4);
    expect_floats(&out[0], (float[]){2, 0, -2, 0, 2,  0, -2, 0, 6,  0, -2, 0,
                                     6, 0, -2, 0, 10, 0, -2, 0, 10, 0, -2, 0},
                  24);
    kt_free(out, 1);
}
END_TEST

START_TEST(stft_errors)
{
    float x[8] = {0};
    int64_t step = 2, flen = 3;
    float w[4] = {1, 1, 1, 1};
    onyx_tensor sig = kt_tensor(ONYX_FLOAT, 3, (int64_t[]){1, 8, 1}, x);
    onyx_tensor st = kt_tensor(ONYX_INT64, 0, NULL, &step);
    onyx_tensor fl = kt_tensor(ONYX_INT64, 0, NULL, &flen);
    onyx_tensor win = kt_tensor(ONYX_FLOAT, 1, (int64_t[]){4}, w);
    onyx_tensor out[1];
    char msg[256];
    ck_assert_int_ne(kt_run("STFT", 17, NULL, 0, (onyx_tensor *[]){&sig, &st},
                            2, out, 1, msg),
                     ONYX_OK);
    ck_assert_ptr_nonnull(strstr(msg, "frame_length"));
    ck_assert_int_ne(kt_run("STFT", 17, NULL, 0,
                            (onyx_tensor *[]){&sig, &st, &win, &fl}, 4, out, 1,
                            msg),
                     ONYX_OK);
    ck_assert_ptr_nonnull(strstr(msg, "differs"));
}
END_TEST

/* ---- windows ---- */

static void run_window(const char *op, int64_t n, int periodic, float *want)
{
    onyx_tensor sz = kt_tensor(ONYX_INT64, 0, NULL, &n);
    onyx_tensor out[1];
    char msg[256];
    onyx_attr at[] = {KT_INT("periodic", periodic)};
    ck_assert_int_eq(
        kt_run(op, 17, at, 1, (onyx_tensor *[]){&sz}, 1, out, 1, msg), ONYX_OK);
    ck_assert_int_eq(out[0].dtype, ONYX_FLOAT);
    expect_floats(&out[0], want, (int)n);
    kt_free(out, 1);
}

/* Hann: 0.5 - 0.5 cos(2 pi k / N); periodic N = 4 -> 0, .5, 1, .5;
 * symmetric N = 3 -> 0, .75, .75, 0.
 * Blackman periodic 4: .42 - .5 cos(pi k/2) + .08 cos(pi k) -> 0, .34, 1, .34
 * Hamming periodic 2: 25/46 - 21/46 cos(pi k) -> 4/46, 1 */
START_TEST(windows)
{
    run_window("HannWindow", 4, 1, (float[]){0, 0.5f, 1, 0.5f});
    run_window("HannWindow", 4, 0, (float[]){0, 0.75f, 0.75f, 0});
    run_window("BlackmanWindow", 4, 1, (float[]){0, 0.34f, 1, 0.34f});
    run_window("HammingWindow", 2, 1, (float[]){4.0f / 46, 1});
}
END_TEST

START_TEST(window_int64_and_errors)
{
    int32_t n = 4; /* size may be int32 */
    onyx_tensor sz = kt_tensor(ONYX_INT32, 0, NULL, &n);
    onyx_tensor out[1];
    char msg[256];
    onyx_attr i64[] = {KT_INT("output_datatype", ONYX_INT64)};
    ck_assert_int_eq(kt_run("HannWindow", 17, i64, 1, (onyx_tensor *[]){&sz}, 1,
                            out, 1, msg),
                     ONYX_OK);
    ck_assert_int_eq(out[0].dtype, ONYX_INT64);
    const int64_t *y = out[0].data; /* 0, .5, 1, .5 truncated */
    ck_assert(y[0] == 0 && y[1] == 0 && y[2] == 1 && y[3] == 0);
    kt_free(out, 1);
    onyx_attr dbl[] = {KT_INT("output_datatype", ONYX_DOUBLE)};
    ck_assert_int_eq(kt_run("HannWindow", 17, dbl, 1, (onyx_tensor *[]){&sz}, 1,
                            out, 1, msg),
                     ONYX_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(msg, "output_datatype"));
    onyx_attr per[] = {KT_INT("periodic", 2)};
    ck_assert_int_eq(kt_run("HannWindow", 17, per, 1, (onyx_tensor *[]){&sz}, 1,
                            out, 1, msg),
                     ONYX_ERR_INVALID);
}
END_TEST

/* ONNX's example: 8 bands, DFT 16, 8192 Hz, 0..4096 Hz. The 10 band edges
 * (mel range / 10 apart) fall in bins 0 0 0 1 1 2 3 4 5 6, so each band is
 * a single 1 at its center bin except band 1 (edges 0 0 1: 1 at bin 0),
 * i.e. ones at (row, col) = (0,0) (0,1) (1,2) (1,3) (2,4) (3,5) (4,6) (5,7). */
START_TEST(melweightmatrix)
{
    int32_t nb = 8, nd = 16, rate = 8192;
    float lo = 0, hi = 4096;
    onyx_tensor a = kt_tensor(ONYX_INT32, 0, NULL, &nb);
    onyx_tensor b = kt_tensor(ONYX_INT32, 0, NULL, &nd);
    onyx_tensor c = kt_tensor(ONYX_INT32, 0, NULL, &rate);
    onyx_tensor d = kt_tensor(ONYX_FLOAT, 0, NULL, &lo);
    onyx_tensor e = kt_tensor(ONYX_FLOAT, 0, NULL, &hi);
    onyx_tensor out[1];
    char msg[256];
    ck_assert_int_eq(kt_run("MelWeightMatrix", 17, NULL, 0,
                            (onyx_tensor *[]){&a, &b, &c, &d, &e}, 5, out, 1,
                            msg),
                     ONYX_OK);
    ck_assert_int_eq(out[0].dims[0], 9);
    ck_assert_int_eq(out[0].dims[1], 8);
    float want[72] = {0};
    int ones[8][2] = {{0, 0}, {0, 1}, {1, 2}, {1, 3},
                      {2, 4}, {3, 5}, {4, 6}, {5, 7}};
    for (int i = 0; i < 8; i++)
        want[ones[i][0] * 8 + ones[i][1]] = 1;
    expect_floats(&out[0], want, 72);
    kt_free(out, 1);
}
END_TEST

/* ---- Resize ---- */

static onyx_status run_resize(int opset, const onyx_attr *at, int n_at,
                              onyx_tensor *X, onyx_tensor *roi,
                              onyx_tensor *scales, onyx_tensor *sizes,
                              onyx_tensor *out, char *msg)
{
    if (opset < 11)
        return kt_run("Resize", opset, at, n_at, (onyx_tensor *[]){X, scales},
                      2, out, 1, msg);
    return kt_run("Resize", opset, at, n_at,
                  (onyx_tensor *[]){X, roi, scales, sizes}, 4, out, 1, msg);
}

/* 2x nearest, half_pixel + round_prefer_floor: output j samples
 * (j + .5)/2 - .5 = -.25, .25, .75, 1.25 -> inputs 0, 0, 1, 1. */
START_TEST(resize_nearest_2x)
{
    float x[] = {1, 2, 3, 4};
    float s[] = {1, 1, 2, 2};
    onyx_tensor X = kt_tensor(ONYX_FLOAT, 4, (int64_t[]){1, 1, 2, 2}, x);
    onyx_tensor S = kt_tensor(ONYX_FLOAT, 1, (int64_t[]){4}, s);
    onyx_tensor out[1];
    char msg[256];
    onyx_attr at[] = {KT_STRING("mode", "nearest")};
    ck_assert_int_eq(run_resize(13, at, 1, &X, NULL, &S, NULL, out, msg),
                     ONYX_OK);
    ck_assert_int_eq(out[0].dims[2], 4);
    ck_assert_int_eq(out[0].dims[3], 4);
    expect_floats(
        &out[0], (float[]){1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}, 16);
    kt_free(out, 1);
}
END_TEST

/* 2x linear, half_pixel: positions -.25 (clamped to 0), .25, .75, 1.25
 * (clamped to 1): row [1, 2] -> [1, 1.25, 1.75, 2], and the same weights
 * down the columns: rows r0, .75 r0 + .25 r1, .25 r0 + .75 r1, r1. Given
 * through sizes, with opset 11's empty roi and scales. */
START_TEST(resize_linear_2x)
{
    float x[] = {1, 2, 3, 4};
    int64_t sz[] = {1, 1, 4, 4};
    onyx_tensor X = kt_tensor(ONYX_FLOAT, 4, (int64_t[]){1, 1, 2, 2}, x);
    onyx_tensor empty = kt_tensor(ONYX_FLOAT, 1, (int64_t[]){0}, NULL);
    onyx_tensor Z = kt_tensor(ONYX_INT64, 1, (int64_t[]){4}, sz);
    onyx_tensor out[1];
    char msg[256];
    onyx_attr at[] = {KT_STRING("mode", "linear")};
    ck_assert_int_eq(run_resize(11, at, 1, &X, &empty, &empty, &Z, out, msg),
                     ONYX_OK);
    expect_floats(&out[0],
                  (float[]){1, 1.25f, 1.75f, 2, 1.5f, 1.75f, 2.25f, 2.5f, 2.5f,
                            2.75f, 3.25f, 3.5f, 3, 3.25f, 3.75f, 4},
                  16);
    kt_free(out, 1);
}
END_TEST

/* Cubic (A = -.75), asymmetric, 2x on the ramp 0..7: at x = 2.5 the taps
 * 1..4 weigh A/8, .5 - A/8, .5 - A/8, A/8 = -.09375, .59375, .59375,
 * -.09375 -> 2.5 exactly; at x = .5 the taps -1..2 clamp to inputs
 * 0, 0, 1, 2 -> .59375 - .1875 = .40625. */
START_TEST(resize_cubic)
{
    float x[] = {0, 1, 2, 3, 4, 5, 6, 7};
    float s[] = {1, 2};
    onyx_tensor X = kt_tensor(ONYX_FLOAT, 2, (int64_t[]){1, 8}, x);
    onyx_tensor S = kt_tensor(ONYX_FLOAT, 1, (int64_t[]){2}, s);
    onyx_tensor out[1];
    char msg[256];
    onyx_attr at[] = {
        KT_STRING("mode", "cubic"),
        KT_STRING("coordinate_transformation_mode", "asymmetric")};
    ck_assert_int_eq(run_resize(13, at, 2, &X, NULL, &S, NULL, out, msg),
                     ONYX_OK);
    const float *y = out[0].data;
    ck_assert_int_eq(out[0].dims[1], 16);
    ck_assert_float_eq_tol(y[4], 2.0f, TOL);
    ck_assert_float_eq_tol(y[5], 2.5f, TOL);
    ck_assert_float_eq_tol(y[1], 0.40625f, TOL);
    kt_free(out, 1);
}
END_TEST

/* Linear tf_crop_and_resize of x (rows, cols) to sizes sz, extrapolation
 * value -1: y (sz[0], sz[1]) must be `want`, with the roi a constant and
 * with it known only at eval (a graph input), where prepare cannot build
 * the tables and eval builds them in scratch. ONNX's rule per axis, n in
 * and size out: x_j = start * (n - 1) + j * (end - start) * (n - 1) /
 * (size - 1), outside [0, n - 1] the extrapolation value. */
static void expect_crop(const float *x, int64_t rows, int64_t cols,
                        const float *roi, const int64_t *sz, const float *want)
{
    onyx_tensor X = kt_tensor(ONYX_FLOAT, 2, (int64_t[]){rows, cols}, x);
    onyx_tensor R = kt_tensor(ONYX_FLOAT, 1, (int64_t[]){4}, roi);
    onyx_tensor Z = kt_tensor(ONYX_INT64, 1, (int64_t[]){2}, sz);
    onyx_tensor out[1];
    char msg[256];
    onyx_attr at[] = {
        KT_STRING("mode", "linear"),
        KT_STRING("coordinate_transformation_mode", "tf_crop_and_resize"),
        KT_FLOAT("extrapolation_value", -1.0f)};
    for (int roi_unknown = 0; roi_unknown < 2; roi_unknown++) {
        onyx_status st =
            kt_run_ex("Resize", 13, at, 3, (onyx_tensor *[]){&X, &R, NULL, &Z},
                      4, out, 1, NULL, (int[]){0, roi_unknown, 0, 0}, msg);
        ck_assert_msg(st == ONYX_OK, "roi unknown %d: %s", roi_unknown, msg);
        expect_floats(&out[0], want, (int)(sz[0] * sz[1]));
        kt_free(out, 1);
    }
}

/* [0, 10, 20, 30], roi [0, 0] .. [1, 1.5], 3 outputs: x = j * 1.5 * 3 / 2
 * = 0, 2.25, 4.5 -> 0, 22.5, and 4.5 > 3 is outside: -1. */
START_TEST(resize_crop)
{
    expect_crop((float[]){0, 10, 20, 30}, 1, 4, (float[]){0, 0, 1, 1.5f},
                (int64_t[]){1, 3}, (float[]){0, 22.5f, -1});
}
END_TEST

/* Two axes, so that the second pass reads the first one's scratch buffer
 * behind the tables. x[r][c] = 10 r + c, which linear interpolation
 * reproduces exactly; roi rows [.25, .75], columns [0, 1.25], sizes 2 x 3:
 *   rows     .25*2 + j * .5*2/1   = .5, 1.5
 *   columns      0 + j * 1.25*2/2 = 0, 1.25, 2.5 (> 2: outside)
 * -> [5, 6.25, -1], [15, 16.25, -1]. */
START_TEST(resize_crop_2d)
{
    expect_crop((float[]){0, 1, 2, 10, 11, 12, 20, 21, 22}, 3, 3,
                (float[]){0.25f, 0, 0.75f, 1.25f}, (int64_t[]){2, 3},
                (float[]){5, 6.25f, -1, 15, 16.25f, -1});
}
END_TEST

/* Opset 10 has no coordinate modes: asymmetric + floor, like Upsample:
 * 3x on [1, 2] -> positions 0, 1/3, 2/3, 1, 4/3, 5/3. */
START_TEST(resize_opset10)
{
    float x[] = {1, 2};
    float s[] = {1, 3};
    onyx_tensor X = kt_tensor(ONYX_FLOAT, 2, (int64_t[]){1, 2}, x);
    onyx_tensor S = kt_tensor(ONYX_FLOAT, 1, (int64_t[]){2}, s);
    onyx_tensor out[1];
    char msg[256];
    ck_assert_int_eq(run_resize(10, NULL, 0, &X, NULL, &S, NULL, out, msg),
                     ONYX_OK);
    expect_floats(&out[0], (float[]){1, 1, 1, 2, 2, 2}, 6);
    kt_free(out, 1);
    onyx_attr cub[] = {KT_STRING("mode", "cubic")};
    ck_assert_int_eq(run_resize(10, cub, 1, &X, NULL, &S, NULL, out, msg),
                     ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "cubic"));
}
END_TEST

START_TEST(resize_errors)
{
    float x[] = {1, 2, 3, 4};
    float s[] = {1, 1, 2, 2}, s3[] = {2, 2, 2};
    int64_t sz[] = {1, 1, 4, 4};
    onyx_tensor X = kt_tensor(ONYX_FLOAT, 4, (int64_t[]){1, 1, 2, 2}, x);
    onyx_tensor S = kt_tensor(ONYX_FLOAT, 1, (int64_t[]){4}, s);
    onyx_tensor S3 = kt_tensor(ONYX_FLOAT, 1, (int64_t[]){3}, s3);
    onyx_tensor Z = kt_tensor(ONYX_INT64, 1, (int64_t[]){4}, sz);
    onyx_tensor out[1];
    char msg[256];
    onyx_attr bad_mode[] = {KT_STRING("mode", "bicubic")};
    ck_assert_int_eq(run_resize(13, bad_mode, 1, &X, NULL, &S, NULL, out, msg),
                     ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "bicubic"));
    onyx_attr bad_ctm[] = {
        KT_STRING("coordinate_transformation_mode", "corners")};
    ck_assert_int_eq(run_resize(13, bad_ctm, 1, &X, NULL, &S, NULL, out, msg),
                     ONYX_ERR_INVALID);
    ck_assert_int_eq(run_resize(13, NULL, 0, &X, NULL, &S, &Z, out, msg),
                     ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "not both"));
    ck_assert_int_eq(run_resize(13, NULL, 0, &X, NULL, NULL, NULL, out, msg),
                     ONYX_ERR_INVALID);
    ck_assert_int_eq(run_resize(13, NULL, 0, &X, NULL, &S3, NULL, out, msg),
                     ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "rank"));
    onyx_attr crop[] = {
        KT_STRING("coordinate_transformation_mode", "tf_crop_and_resize")};
    ck_assert_int_eq(run_resize(13, crop, 1, &X, NULL, &S, NULL, out, msg),
                     ONYX_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "roi"));
}
END_TEST

static Suite *spectral_suite(void)
{
    Suite *s = suite_create("spectral");
    TCase *t = tcase_create("core");
    tcase_add_test(t, dft_real_4);
    tcase_add_test(t, dft_inverse_and_onesided);
    tcase_add_test(t, dft_inverse_real_pair);
    tcase_add_test(t, dft_length_truncates_on_axis2);
    tcase_add_test(t, dft_long_lengths);
    tcase_add_test(t, dft_errors);
    tcase_add_test(t, stft_frames);
    tcase_add_test(t, stft_errors);
    tcase_add_test(t, windows);
    tcase_add_test(t, window_int64_and_errors);
    tcase_add_test(t, melweightmatrix);
    tcase_add_test(t, resize_nearest_2x);
    tcase_add_test(t, resize_linear_2x);
    tcase_add_test(t, resize_cubic);
    tcase_add_test(t, resize_crop);
    tcase_add_test(t, resize_crop_2d);
    tcase_add_test(t, resize_opset10);
    tcase_add_test(t, resize_errors);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    Suite *s = spectral_suite();
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int f = srunner_ntests_failed(r);
    srunner_free(r);
    return f ? 1 : 0;
}
