/* igemm.c - the uint8 matrix product behind MatMulInteger, QLinearMatMul,
 * ConvInteger and QLinearConv (igemm.h). Both operands have their depth k
 * contiguous, so each element of C is a dot product of two byte rows; a
 * tile of IG_MR x IG_NR of them shares the loads of its rows. The loops are
 * plain C that GCC vectorises at -O3 into widening multiply-adds (pmaddwd
 * on x86, vmull.u8 + vpadal on NEON); the sums wrap in uint32, so no
 * overflow is undefined. */
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

enum { IG_MR = 2, IG_NR = 4 };

void onyx_u8_from(uint8_t *dst, const void *src, int is_int8, long n)
{
    const uint8_t *s = src;
    if (!is_int8) {
        if (dst != s) memcpy(dst, s, (size_t)n);
        return;
    }
    for (long i = 0; i < n; i++)
        dst[i] = (uint8_t)(s[i] ^ 0x80);
}

void onyx_u8_pack_t(uint8_t *Yt, int32_t *sums, const void *Y, int is_int8,
                    long ldy, int k, int n)
{
    const uint8_t *y = Y;
    const uint8_t flip = is_int8 ? 0x80 : 0;
    for (int j = 0; j < n; j++) {
        uint32_t s = 0;
        for (int p = 0; p < k; p++) {
            const uint8_t v = (uint8_t)(y[p * ldy + j] ^ flip);
            Yt[(long)j * k + p] = v;
            s += v;
        }
        sums[j] = (int32_t)s;
    }
}

IG_HOT void onyx_u8_row_sums(int32_t *s, const uint8_t *X, long ldx, int m,
                             int k)
{
    for (int i = 0; i < m; i++) {
        const uint8_t *x = X + i * ldx;
        uint32_t a = 0;
        for (int p = 0; p < k; p++)
            a += x[p];
        s[i] = (int32_t)a;
    }
}

/* acc (MR, NR) = X (MR rows) . Y (NR rows) over depth k: MR and NR are
 * constants at each call, so the accumulators are vector registers and the
 * loop over p one widening multiply-add per row pair. */
static inline __attribute__((always_inline)) void
dots_tile(const int MR, const int NR, int k, const uint8_t *restrict X,
          long ldx, const uint8_t *restrict Y, long ldy,
          uint32_t acc[IG_MR][IG_NR])
{
    uint32_t a00 = 0, a01 = 0, a02 = 0, a03 = 0, a10 = 0, a11 = 0, a12 = 0,
             a13 = 0;
    const uint8_t *x0 = X, *x1 = X + (MR > 1 ? ldx : 0);
    const uint8_t *y0 = Y, *y1 = Y + (NR > 1 ? ldy : 0),
                  *y2 = Y + (NR > 2 ? 2 * ldy : 0),
                  *y3 = Y + (NR > 3 ? 3 * ldy : 0);
    for (int p = 0; p < k; p++) {
        const uint32_t u0 = x0[p], u1 = x1[p];
        a00 += u0 * y0[p];
        if (NR > 1) a01 += u0 * y1[p];
        if (NR > 2) a02 += u0 * y2[p];
        if (NR > 3) a03 += u0 * y3[p];
        if (MR > 1) {
            a10 += u1 * y0[p];
            if (NR > 1) a11 += u1 * y1[p];
            if (NR > 2) a12 += u1 * y2[p];
            if (NR > 3) a13 += u1 * y3[p];
        }
    }
    acc[0][0] = a00, acc[0][1] = a01, acc[0][2] = a02, acc[0][3] = a03;
    acc[1][0] = a10, acc[1][1] = a11, acc[1][2] = a12, acc[1][3] = a13;
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
        dots_tile(MR, NR, k, X + i * ldx, ldx, Y + j * ldy, ldy, acc);         \
        tile_store(MR, NR, k, acc, sx + i, zx + i * zx_step, zx_step, sy + j,  \
                   zy + j * zy_step, zy_step, C + i * ldc + j, ldc);           \
    } while (0)

IG_CLONES IG_HOT void onyx_igemm_u8(int m, int n, int k, const uint8_t *X,
                                    long ldx, const int32_t *sx,
                                    const int32_t *zx, int zx_step,
                                    const uint8_t *Y, long ldy,
                                    const int32_t *sy, const int32_t *zy,
                                    int zy_step, int32_t *C, long ldc)
{
    long i = 0;
    for (; i + IG_MR <= m; i += IG_MR) {
        long j = 0;
        for (; j + IG_NR <= n; j += IG_NR)
            IG_TILE(2, 4);
        for (; j < n; j++)
            IG_TILE(2, 1);
    }
    for (; i < m; i++) {
        long j = 0;
        for (; j + IG_NR <= n; j += IG_NR)
            IG_TILE(1, 4);
        for (; j < n; j++)
            IG_TILE(1, 1);
    }
}
