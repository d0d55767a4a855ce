/* igemm.h - the integer matrix product of the quantized ops (igemm.c):
 * 8-bit operands, int32 sums, zero points applied through row and column
 * sums rather than per element.
 *
 * Both operands are taken as uint8: an int8 matrix becomes one by flipping
 * its sign bit (x + 128), its zero point moving by 128 with it, which leaves
 * every difference x - zero_point as it was. */
#ifndef ONYX_IGEMM_H
#define ONYX_IGEMM_H

#include <stddef.h>
#include <stdint.h>

/* dst (n) = src (n) as uint8: a copy, or x + 128 when src is int8 */
void onyx_u8_from(uint8_t *dst, const void *src, int is_int8, long n);

/* Yt (n, k) = Y (k, n; row stride ldy) transposed, as uint8 (int8 Y gets
 * + 128), and sums (n) of its rows: the packed form of a right operand. */
void onyx_u8_pack_t(uint8_t *Yt, int32_t *sums, const void *Y, int is_int8,
                    long ldy, int k, int n);

/* s (m) = sums of the rows of X (m, k; row stride ldx) */
void onyx_u8_row_sums(int32_t *s, const uint8_t *X, long ldx, int m, int k);

/* C (m, n; row stride ldc) = (X - zx) (m, k) @ (Y - zy)^T (k, n), in int32
 * arithmetic that wraps (as ONNX's int32 accumulators do):
 *   C[i][j] = sum_p X[i][p] Y[j][p] - zy[j] sx[i] - zx[i] sy[j]
 *             + k zx[i] zy[j]
 * X (m, k) and Y (n, k) are uint8 with rows of stride ldx and ldy (Y is
 * the right operand transposed); sx (m) and sy (n) their row sums
 * (onyx_u8_row_sums); zx[i * zx_step] and zy[j * zy_step] the zero points
 * (step 0: one for all). */
void onyx_igemm_u8(int m, int n, int k, const uint8_t *X, long ldx,
                   const int32_t *sx, const int32_t *zx, int zx_step,
                   const uint8_t *Y, long ldy, const int32_t *sy,
                   const int32_t *zy, int zy_step, int32_t *C, long ldc);

#endif
