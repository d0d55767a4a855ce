/* igemm.c - the 8-bit matrix product behind MatMulInteger, QLinearMatMul,
 * ConvInteger and QLinearConv (igemm.h). Both operands have their depth k
 * contiguous, so each element of C is a dot product of two rows; a tile of
 * MR x IG_NR of them shares the loads of its rows. The loops are plain C
 * that GCC vectorises at -O3 into widening multiply-adds: vmull.u8 and
 * vaddw.u16 on 32-bit NEON, umull and uaddw on AArch64 for bytes (2 x 4
 * tiles: 4 x 4 spills NEON's registers on armv7), pmaddwd on x86-64 for the
 * int16 form (4 x 4 tiles). The sums wrap in uint32, so no overflow is
 * undefined. */
#include "igemm.h"

#include <string.h>

/* hot loops at -O3 (-O2 leaves loops of unknown length scalar) */
#if defined(__GNUC__) && !defined(__clang__)
#define IG_HOT __attribute__((optimize("O3")))
#else
#define IG_HOT
#endif

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) &&         \
    defined(__linux__)
#define IG_CLONES                                                              \
    __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define IG_CLONES
#endif

/* the largest tile: rows of X, rows of Y */
enum { IG_MR = 4, IG_NR = 4 };

/* element p of a row of bytes or (wide) int16s, as uint32 */
static inline __attribute__((always_inline)) uint32_t at(const void *r,
                                                         int wide, long p)
{
    return wide ? (uint32_t)((const int16_t *)r)[p]
                : (uint32_t)((const uint8_t *)r)[p];
}

/* row i of a matrix of bytes or int16s with row stride ld elements */
static inline __attribute__((always_inline)) const void *
row(const void *X, int wide, long i, long ld)
{
    return wide ? (const void *)((const int16_t *)X + i * ld)
                : (const void *)((const uint8_t *)X + i * ld);
}

void onyx_u8_from(void *dst, int wide, const void *src, int is_int8, long n)
{
    const uint8_t *s = src;
    const uint8_t flip = is_int8 ? 0x80 : 0;
    if (wide) {
        int16_t *d = dst;
        for (long i = 0; i < n; i++)
            d[i] = (int16_t)(uint8_t)(s[i] ^ flip);
    } else if (is_int8) {
        uint8_t *d = dst;
        for (long i = 0; i < n; i++)
            d[i] = (uint8_t)(s[i] ^ flip);
    } else if (dst != src) {
        memcpy(dst, src, (size_t)n);
    }
}

void onyx_u8_pack_t(void *Yt, int wide, int32_t *sums, const void *Y,
                    int is_int8, long ldy, int k, int n)
{
    const uint8_t *y = Y;
    const uint8_t flip = is_int8 ? 0x80 : 0;
    for (int j = 0; j < n; j++) {
        uint32_t s = 0;
        for (int p = 0; p < k; p++) {
            const uint8_t v = (uint8_t)(y[p * ldy + j] ^ flip);
            if (wide)
                ((int16_t *)Yt)[(long)j * k + p] = v;
            else
                ((uint8_t *)Yt)[(long)j * k + p] = v;
            s += v;
        }
        sums[j] = (int32_t)s;
    }
}

/* the row sums, for one element type */
static inline __attribute__((always_inline)) void
row_sums(int32_t *s, const void *X, const int wide, long ldx, int m, int k)
{
    for (int i = 0; i < m; i++) {
        const void *x = row(X, wide, i, ldx);
        uint32_t a = 0;
        for (int p = 0; p < k; p++)
            a += at(x, wide, p);
        s[i] = (int32_t)a;
    }
}

IG_HOT void onyx_u8_row_sums(int32_t *s, const void *X, int wide, long ldx,
                             int m, int k)
{
    if (wide)
        row_sums(s, X, 1, ldx, m, k);
    else
        row_sums(s, X, 0, ldx, m, k);
}

/* acc (MR, NR) = X (MR rows) . Y (NR rows) over depth k: MR, NR and wide
 * are constants at each call, so the accumulators are vector registers and
 * the loop over p one widening multiply-add per row pair. The int16
 * products are formed as int32 (two values up to 255) and summed in uint32,
 * the pattern GCC turns into pmaddwd. */
static inline __attribute__((always_inline)) void
dots_tile(const int wide, const int MR, const int NR, int k, const void *X,
          long ldx, const void *Y, long ldy, uint32_t acc[IG_MR][IG_NR])
{
    uint32_t a[IG_MR][IG_NR] = {{0}};
    const void *x[IG_MR], *y[IG_NR];
    for (int r = 0; r < MR; r++)
        x[r] = row(X, wide, r, ldx);
    for (int c = 0; c < NR; c++)
        y[c] = row(Y, wide, c, ldy);
    for (int p = 0; p < k; p++) {
        int32_t u[IG_MR], v[IG_NR];
        for (int r = 0; r < MR; r++)
            u[r] = (int32_t)at(x[r], wide, p);
        for (int c = 0; c < NR; c++)
            v[c] = (int32_t)at(y[c], wide, p);
        for (int r = 0; r < MR; r++)
            for (int c = 0; c < NR; c++)
                a[r][c] += (uint32_t)(u[r] * v[c]);
    }
    for (int r = 0; r < MR; r++)
        for (int c = 0; c < NR; c++)
            acc[r][c] = a[r][c];
}

/* C (MR, NR) from the tile's dot products and the zero point terms */
static inline __attribute__((always_inline)) void
tile_store(const int MR, const int NR, int k, uint32_t acc[IG_MR][IG_NR],
           const int32_t *sx, const int32_t *zx, int zx_step, const int32_t *sy,
           const int32_t *zy, int zy_step, int32_t *C, long ldc)
{
    for (int r = 0; r < MR; r++) {
        const uint32_t zr = (uint32_t)zx[r * zx_step], sr = (uint32_t)sx[r];
        for (int c = 0; c < NR; c++) {
            const uint32_t zc = (uint32_t)zy[c * zy_step];
            C[r * ldc + c] =
                (int32_t)(acc[r][c] - zc * sr - zr * (uint32_t)sy[c] +
                          (uint32_t)k * zr * zc);
        }
    }
}

#define IG_TILE(MR, NR)                                                        \
    do {                                                                       \
        uint32_t acc[IG_MR][IG_NR];                                            \
        dots_tile(wide, MR, NR, k, row(X, wide, i, ldx), ldx,                  \
                  row(Y, wide, j, ldy), ldy, acc);                             \
        tile_store(MR, NR, k, acc, sx + i, zx + i * zx_step, zx_step, sy + j,  \
                   zy + j * zy_step, zy_step, C + i * ldc + j, ldc);           \
    } while (0)

/* the product for one element type (wide constant), in tiles of MR x IG_NR */
static inline __attribute__((always_inline)) void
igemm(const int wide, const int MR, int m, int n, int k, const void *X,
      long ldx, const int32_t *sx, const int32_t *zx, int zx_step,
      const void *Y, long ldy, const int32_t *sy, const int32_t *zy,
      int zy_step, int32_t *C, long ldc)
{
    long i = 0;
    for (; i + MR <= m; i += MR) {
        long j = 0;
        for (; j + IG_NR <= n; j += IG_NR)
            IG_TILE(MR, IG_NR);
        for (; j < n; j++)
            IG_TILE(MR, 1);
    }
    for (; i < m; i++) {
        long j = 0;
        for (; j + IG_NR <= n; j += IG_NR)
            IG_TILE(1, IG_NR);
        for (; j < n; j++)
            IG_TILE(1, 1);
    }
}

/* The clones are static: a global function with target_clones is an ifunc
 * symbol, whose resolver the dynamic loader calls while it relocates the
 * library, before the sanitizer runtimes' entry points are bound (a
 * -fsanitize=thread build crashed on load). A static one is an IRELATIVE
 * relocation, resolved after the rest. */
IG_CLONES IG_HOT static void igemm_u8(int wide, int m, int n, int k,
                                      const void *X, long ldx,
                                      const int32_t *sx, const int32_t *zx,
                                      int zx_step, const void *Y, long ldy,
                                      const int32_t *sy, const int32_t *zy,
                                      int zy_step, int32_t *C, long ldc)
{
    if (wide)
        igemm(1, 4, m, n, k, X, ldx, sx, zx, zx_step, Y, ldy, sy, zy, zy_step,
              C, ldc);
    else
        igemm(0, 2, m, n, k, X, ldx, sx, zx, zx_step, Y, ldy, sy, zy, zy_step,
              C, ldc);
}

void onyx_igemm_u8(int wide, int m, int n, int k, const void *X, long ldx,
                   const int32_t *sx, const int32_t *zx, int zx_step,
                   const void *Y, long ldy, const int32_t *sy,
                   const int32_t *zy, int zy_step, int32_t *C, long ldc)
{
    igemm_u8(wide, m, n, k, X, ldx, sx, zx, zx_step, Y, ldy, sy, zy, zy_step,
             C, ldc);
}
