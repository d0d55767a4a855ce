/* igemm.h - the integer matrix product of the quantized ops (igemm.c):
 * 8-bit operands, int32 sums, zero points applied through row and column
 * sums rather than per element.
 *
 * Both operands are taken as unsigned bytes: an int8 matrix becomes one by
 * flipping its sign bit (x + 128), its zero point moving by 128 with it,
 * which leaves every difference x - zero_point as it was. An operand is
 * stored either as uint8 (wide = 0) or as int16 holding the same values
 * 0..255 (wide = 1): on x86-64 the int16 form multiplies and adds pairs in
 * one instruction (pmaddwd), which bytes have no equivalent of without
 * VNNI, so products of several rows use it there (ONYX_IGEMM_WIDE); on ARM
 * the byte form is as fast (vmull.u8) and reads half the memory. */
#ifndef ONYX_IGEMM_H
#define ONYX_IGEMM_H

#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__)
#define ONYX_IGEMM_WIDE 1
#else
#define ONYX_IGEMM_WIDE 0
#endif

/* dst (n) = src (n) as unsigned bytes (x + 128 when src is int8), stored as
 * uint8 or (wide) int16; dst may be src when neither applies */
void onyx_u8_from(void *dst, int wide, const void *src, int is_int8, long n);

/* Yt (n, k) = Y (k, n; row stride ldy) transposed, as uint8 or (wide)
 * int16 (int8 Y gets + 128), and sums (n) of its rows: the packed form of
 * a right operand. */
void onyx_u8_pack_t(void *Yt, int wide, int32_t *sums, const void *Y,
                    int is_int8, long ldy, int k, int n);

/* s (m) = sums of the rows of X (m, k; row stride ldx in elements) */
void onyx_u8_row_sums(int32_t *s, const void *X, int wide, long ldx, int m,
                      int k);

/* C (m, n; row stride ldc) = (X - zx) (m, k) @ (Y - zy)^T (k, n), in int32
 * arithmetic that wraps (as ONNX's int32 accumulators do):
 *   C[i][j] = sum_p X[i][p] Y[j][p] - zy[j] sx[i] - zx[i] sy[j]
 *             + k zx[i] zy[j]
 * X (m, k) and Y (n, k) hold values 0..255 as uint8, or as int16 when wide,
 * with rows of stride ldx and ldy elements (Y is the right operand
 * transposed); sx (m) and sy (n) are their row sums (onyx_u8_row_sums);
 * zx[i * zx_step] and zy[j * zy_step] the zero points (step 0: one for
 * all). */
void onyx_igemm_u8(int wide, int m, int n, int k, const void *X, long ldx,
                   const int32_t *sx, const int32_t *zx, int zx_step,
                   const void *Y, long ldy, const int32_t *sy,
                   const int32_t *zy, int zy_step, int32_t *C, long ldc);

#endif
