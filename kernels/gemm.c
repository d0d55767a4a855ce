/* gemm.c - onyx_sgemm: streaming loops for matrix-vector products (one row,
 * one column or depth one), else OpenBLAS for large products, else (and
 * with BLAS=none always) the portable blocked kernel below. */
#include "gemm.h"

/* The portable sgemm, organised like BLIS / GotoBLAS:
 *
 *   for each KC-deep slice of the k axis:
 *     for each NC-wide block of columns:   pack B block  (KC, NC) -> Bp
 *       for each MC-tall block of rows:    pack A block  (MC, KC) -> Ap
 *         for each NR x MR tile:           micro-kernel, C tile += Ap @ Bp
 *
 * Packing copies the operands, transposed or not, into the exact order the
 * micro-kernel reads them (MR rows of A interleaved per k step, NR columns
 * of B per k step), zero-filled past the matrix edges, with alpha folded
 * into A. The micro-kernel keeps an MR x NR tile of C in local accumulators
 * across the whole KC loop, in GNU C vectors of 4 floats that the
 * compiler maps to SSE on x86-64 and NEON on ARM.
 *
 * The pack buffers live on the stack (eval must not allocate): about
 * 4 * (MC + NC) * KC = 160 KB. */
#include <string.h>

#define GEMM_MR 2   /* micro-tile rows: 2 x 16 = 8 4-wide accumulators */
#define GEMM_NR 16  /* micro-tile columns */
#define GEMM_KC 256 /* depth of a packed slice */
#define GEMM_MC 32  /* rows of a packed A block, a multiple of MR */
#define GEMM_NC 128 /* columns of a packed B block, a multiple of NR */

/* The hot loops get -O3 (-O2 leaves loops of unknown length scalar). On
 * 32-bit ARM, GCC only maps float vectors to NEON under unsafe-math (NEON
 * flushes denormals and the sums get reassociated): fine for a GEMM. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__arm__)
#define GEMM_HOT __attribute__((optimize("O3", "unsafe-math-optimizations")))
#elif defined(__GNUC__) && !defined(__clang__)
#define GEMM_HOT __attribute__((optimize("O3")))
#else
#define GEMM_HOT
#endif

/* Ap (MC/MR panels of (kc, MR)) = alpha * op(A)[i0 : i0+mc, p0 : p0+kc] */
static void pack_a(float *Ap, int trans_a, const float *A, int lda, int i0,
                   int p0, int mc, int kc, float alpha)
{
    for (int ib = 0; ib < mc; ib += GEMM_MR) {
        int mr = mc - ib < GEMM_MR ? mc - ib : GEMM_MR;
        for (int p = 0; p < kc; p++, Ap += GEMM_MR) {
            int i = 0;
            if (!trans_a)
                for (; i < mr; i++)
                    Ap[i] = alpha * A[(long)(i0 + ib + i) * lda + p0 + p];
            else
                for (; i < mr; i++)
                    Ap[i] = alpha * A[(long)(p0 + p) * lda + i0 + ib + i];
            for (; i < GEMM_MR; i++)
                Ap[i] = 0;
        }
    }
}

/* Bp (NC/NR panels of (kc, NR)) = op(B)[p0 : p0+kc, j0 : j0+nc] */
static void pack_b(float *Bp, int trans_b, const float *B, int ldb, int p0,
                   int j0, int kc, int nc)
{
    for (int jb = 0; jb < nc; jb += GEMM_NR) {
        int nr = nc - jb < GEMM_NR ? nc - jb : GEMM_NR;
        for (int p = 0; p < kc; p++, Bp += GEMM_NR) {
            int j = 0;
            if (!trans_b) {
                const float *b = B + (long)(p0 + p) * ldb + j0 + jb;
                for (; j < nr; j++)
                    Bp[j] = b[j];
            } else {
                const float *b = B + (long)(j0 + jb) * ldb + p0 + p;
                for (; j < nr; j++)
                    Bp[j] = b[(long)j * ldb];
            }
            for (; j < GEMM_NR; j++)
                Bp[j] = 0;
        }
    }
}

/* Four floats in one vector register (SSE, NEON): GNU C vector extensions,
 * which GCC and Clang compile to the target's SIMD without intrinsics --
 * and, unlike auto-vectorised loops, also on 32-bit ARM, where GCC will not
 * vectorise float loops on its own (NEON flushes denormals). */
typedef float gemm_v4 __attribute__((vector_size(16)));
#define GEMM_NV (GEMM_NR / 4) /* vectors per micro-tile row */

/* C (mr, nr) += Ap (kc, MR)^T @ Bp (kc, NR), mr <= MR, nr <= NR */
GEMM_HOT static void micro_kernel(int kc, const float *restrict Ap,
                                  const float *restrict Bp, float *restrict C,
                                  int ldc, int mr, int nr)
{
    gemm_v4 acc[GEMM_MR][GEMM_NV];
    for (int i = 0; i < GEMM_MR; i++)
        for (int v = 0; v < GEMM_NV; v++)
            acc[i][v] = (gemm_v4){0, 0, 0, 0};
    for (int p = 0; p < kc; p++, Ap += GEMM_MR, Bp += GEMM_NR) {
        gemm_v4 b[GEMM_NV];
        memcpy(b, Bp, sizeof b);
        for (int i = 0; i < GEMM_MR; i++) {
            gemm_v4 a = {Ap[i], Ap[i], Ap[i], Ap[i]};
            for (int v = 0; v < GEMM_NV; v++)
                acc[i][v] += a * b[v];
        }
    }
    if (mr == GEMM_MR && nr == GEMM_NR) {
        for (int i = 0; i < GEMM_MR; i++) {
            float *c = C + (long)i * ldc;
            for (int v = 0; v < GEMM_NV; v++) {
                gemm_v4 t;
                memcpy(&t, c + 4 * v, sizeof t);
                t += acc[i][v];
                memcpy(c + 4 * v, &t, sizeof t);
            }
        }
    } else {
        float tile[GEMM_MR][GEMM_NR];
        memcpy(tile, acc, sizeof tile);
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < nr; j++)
                C[(long)i * ldc + j] += tile[i][j];
    }
}

/* c (n) += alpha * sum_p a[p * as] * row p of B (k, n): four rows of B per
 * pass over c, so c is loaded and stored k/4 times instead of k. */
GEMM_HOT static void row_axpy(float *restrict c, const float *a, long as,
                              float alpha, const float *restrict B, int ldb,
                              int n, int k)
{
    int p = 0;
    for (; p + 4 <= k; p += 4) {
        float a0 = alpha * a[p * as], a1 = alpha * a[(p + 1) * as];
        float a2 = alpha * a[(p + 2) * as], a3 = alpha * a[(p + 3) * as];
        const float *b0 = B + (long)p * ldb, *b1 = b0 + ldb, *b2 = b1 + ldb,
                    *b3 = b2 + ldb;
        gemm_v4 v0 = {a0, a0, a0, a0}, v1 = {a1, a1, a1, a1};
        gemm_v4 v2 = {a2, a2, a2, a2}, v3 = {a3, a3, a3, a3};
        int j = 0;
        for (; j + 4 <= n; j += 4) {
            gemm_v4 cv, x0, x1, x2, x3;
            memcpy(&cv, c + j, sizeof cv);
            memcpy(&x0, b0 + j, sizeof x0);
            memcpy(&x1, b1 + j, sizeof x1);
            memcpy(&x2, b2 + j, sizeof x2);
            memcpy(&x3, b3 + j, sizeof x3);
            cv += v0 * x0 + v1 * x1 + v2 * x2 + v3 * x3;
            memcpy(c + j, &cv, sizeof cv);
        }
        for (; j < n; j++)
            c[j] += a0 * b0[j] + a1 * b1[j] + a2 * b2[j] + a3 * b3[j];
    }
    for (; p < k; p++) {
        float a0 = alpha * a[p * as];
        const float *b0 = B + (long)p * ldb;
        for (int j = 0; j < n; j++)
            c[j] += a0 * b0[j];
    }
}

/* c[j] += alpha * dot(a (k), row j of B (n, k)), with 8 partial sums in two
 * vector registers. */
GEMM_HOT static void row_dots(float *restrict c, const float *restrict a,
                              float alpha, const float *restrict B, int ldb,
                              int n, int k)
{
    for (int j = 0; j < n; j++) {
        const float *b = B + (long)j * ldb;
        gemm_v4 s0 = {0, 0, 0, 0}, s1 = {0, 0, 0, 0};
        int p = 0;
        for (; p + 8 <= k; p += 8) {
            gemm_v4 a0, a1, b0, b1;
            memcpy(&a0, a + p, sizeof a0);
            memcpy(&a1, a + p + 4, sizeof a1);
            memcpy(&b0, b + p, sizeof b0);
            memcpy(&b1, b + p + 4, sizeof b1);
            s0 += a0 * b0;
            s1 += a1 * b1;
        }
        s0 += s1;
        float s = (s0[0] + s0[2]) + (s0[1] + s0[3]);
        for (; p < k; p++)
            s += a[p] * b[p];
        c[j] += alpha * s;
    }
}

/* Small products (a few rows of C, or tiny sizes) skip the packing: each
 * row of C is an axpy over the rows of op(B), or dot products with the rows
 * of B when it is transposed. */
GEMM_HOT static void gemm_small(int trans_a, int trans_b, int m, int n, int k,
                                float alpha, const float *A, int lda,
                                const float *B, int ldb, float *C, int ldc)
{
    for (int i = 0; i < m; i++) {
        float *c = C + (long)i * ldc;
        /* row i of op(A): element p at a[p * as] */
        const float *a = trans_a ? A + i : A + (long)i * lda;
        long as = trans_a ? lda : 1;
        if (!trans_b) {
            row_axpy(c, a, as, alpha, B, ldb, n, k);
        } else if (!trans_a) {
            row_dots(c, a, alpha, B, ldb, n, k);
        } else {
            for (int j = 0; j < n; j++) {
                float s = 0;
                for (int p = 0; p < k; p++)
                    s += a[p * as] * B[(long)j * ldb + p];
                c[j] += alpha * s;
            }
        }
    }
}

static void sgemm_portable(int trans_a, int trans_b, int m, int n, int k,
                           float alpha, const float *A, int lda, const float *B,
                           int ldb, float beta, float *C, int ldc)
{
    if (m <= 0 || n <= 0) return;
    /* C = beta * C first; everything after accumulates into it */
    if (beta != 1)
        for (int i = 0; i < m; i++) {
            float *c = C + (long)i * ldc;
            if (beta == 0)
                memset(c, 0, (size_t)n * sizeof(float));
            else
                for (int j = 0; j < n; j++)
                    c[j] *= beta;
        }
    if (k <= 0 || alpha == 0) return;
    /* measured: the axpy rows beat packing up to ~16 rows of C, the dot
     * products (transposed B) only for a few */
    if (k < 4 || (long)m * n * k < 4096 || m < (trans_b ? 4 : 16)) {
        gemm_small(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, C, ldc);
        return;
    }
    _Alignas(64) float Ap[GEMM_MC * GEMM_KC];
    _Alignas(64) float Bp[GEMM_NC * GEMM_KC];
    for (int p0 = 0; p0 < k; p0 += GEMM_KC) {
        int kc = k - p0 < GEMM_KC ? k - p0 : GEMM_KC;
        for (int j0 = 0; j0 < n; j0 += GEMM_NC) {
            int nc = n - j0 < GEMM_NC ? n - j0 : GEMM_NC;
            pack_b(Bp, trans_b, B, ldb, p0, j0, kc, nc);
            for (int i0 = 0; i0 < m; i0 += GEMM_MC) {
                int mc = m - i0 < GEMM_MC ? m - i0 : GEMM_MC;
                pack_a(Ap, trans_a, A, lda, i0, p0, mc, kc, alpha);
                for (int jb = 0; jb < nc; jb += GEMM_NR) {
                    int nr = nc - jb < GEMM_NR ? nc - jb : GEMM_NR;
                    for (int ib = 0; ib < mc; ib += GEMM_MR) {
                        int mr = mc - ib < GEMM_MR ? mc - ib : GEMM_MR;
                        micro_kernel(kc, Ap + ib * kc, Bp + jb * kc,
                                     C + (long)(i0 + ib) * ldc + j0 + jb, ldc,
                                     mr, nr);
                    }
                }
            }
        }
    }
}

/* ---- matrix-vector products ------------------------------------------------
 * A product with one row (M = 1), one column (N = 1) or depth one (K = 1)
 * reads each element of its matrix once: its speed is the speed of reading
 * memory, and packing (ours or BLAS's) only adds a copy. These run as
 * streaming loops over the matrix's rows instead, in vectors of GEMV_VL
 * floats: 16 on x86-64 and AArch64 (one AVX-512 register, two AVX2 ones,
 * four SSE or NEON ones), 4 on 32-bit ARM (one NEON register: GCC handles
 * wider vectors there poorly). On x86-64 they are also compiled for AVX2
 * and AVX-512 and picked at load time by the CPU; every clone computes the
 * same sums in the same order, so the results do not depend on the CPU. */

#if defined(__arm__)
#define GEMV_VL 4
#else
#define GEMV_VL 16
#endif
typedef float gemv_vf __attribute__((vector_size(4 * GEMV_VL)));
/* the same at any float's address: loads and stores through it need no
 * alignment and may alias the float arrays */
typedef float gemv_vfu
    __attribute__((vector_size(4 * GEMV_VL), aligned(4), may_alias));
#define GV(p)  (*(gemv_vfu *)(p))
#define GVC(p) (*(const gemv_vfu *)(p))

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) &&         \
    defined(__linux__)
#define GEMV_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define GEMV_CLONES
#endif

/* sum of the lanes of *s, in a fixed order */
static inline float gemv_sum(const gemv_vf *s)
{
    gemm_v4 q[GEMV_VL / 4];
    memcpy(q, s, sizeof q);
    for (int h = GEMV_VL / 8; h >= 1; h /= 2)
        for (int i = 0; i < h; i++)
            q[i] += q[i + h];
    return (q[0][0] + q[0][2]) + (q[0][1] + q[0][3]);
}

/* y[i * incy] = alpha * dot(x (k), row i of R) + beta * y[i * incy] for
 * NR rows of R (row stride ldr) at once, sharing the loads of x. NR is a
 * constant at each call, so the arrays below live in registers. */
static inline __attribute__((always_inline)) void
dots_rows(const int NR, int k, float alpha, const float *restrict R, long ldr,
          const float *restrict x, float beta, float *restrict y, long incy)
{
    gemv_vf s[4] = {{0}};
    gemm_v4 t[4] = {{0}};
    int p = 0;
    for (; p + GEMV_VL <= k; p += GEMV_VL) {
        gemv_vf xv = GVC(x + p);
        for (int r = 0; r < NR; r++)
            s[r] += xv * GVC(R + r * ldr + p);
    }
    for (; p + 4 <= k; p += 4) {
        gemm_v4 xv;
        memcpy(&xv, x + p, sizeof xv);
        for (int r = 0; r < NR; r++) {
            gemm_v4 rv;
            memcpy(&rv, R + r * ldr + p, sizeof rv);
            t[r] += xv * rv;
        }
    }
    for (int r = 0; r < NR; r++) {
        float d = gemv_sum(&s[r]) + ((t[r][0] + t[r][2]) + (t[r][1] + t[r][3]));
        for (int q = p; q < k; q++)
            d += x[q] * R[r * ldr + q];
        float *yr = y + r * incy;
        *yr = beta == 0 ? alpha * d : alpha * d + beta * *yr;
    }
}

/* y (n), stride incy, = alpha * R (n, k) @ x (k) + beta * y: the dot
 * product of x with each row of R, four rows per pass over x. */
GEMV_CLONES GEMM_HOT static void gemv_dots(int n, int k, float alpha,
                                           const float *restrict R, long ldr,
                                           const float *restrict x, float beta,
                                           float *restrict y, long incy)
{
    int i = 0;
    for (; i + 4 <= n; i += 4)
        dots_rows(4, k, alpha, R + i * ldr, ldr, x, beta, y + i * incy, incy);
    for (; i < n; i++)
        dots_rows(1, k, alpha, R + i * ldr, ldr, x, beta, y + i * incy, incy);
}

/* y (n) = alpha * x (k), stride incx, @ R (k, n) + beta * y: the rows of R
 * scaled and summed into y, four rows per pass over y (which stays in L1)
 * so that each pass streams four rows of R. */
GEMV_CLONES GEMM_HOT static void gemv_axpy(int n, int k, float alpha,
                                           const float *restrict x, long incx,
                                           const float *restrict R, long ldr,
                                           float beta, float *restrict y)
{
    if (beta == 0)
        memset(y, 0, (size_t)n * sizeof(float));
    else if (beta != 1)
        for (int j = 0; j < n; j++)
            y[j] *= beta;
    int p = 0;
    for (; p + 4 <= k; p += 4) {
        const float a0 = alpha * x[p * incx], a1 = alpha * x[(p + 1) * incx];
        const float a2 = alpha * x[(p + 2) * incx],
                    a3 = alpha * x[(p + 3) * incx];
        const float *r0 = R + p * ldr, *r1 = r0 + ldr, *r2 = r1 + ldr,
                    *r3 = r2 + ldr;
        int j = 0;
        for (; j + GEMV_VL <= n; j += GEMV_VL)
            GV(y + j) += (a0 * GVC(r0 + j) + a1 * GVC(r1 + j)) +
                         (a2 * GVC(r2 + j) + a3 * GVC(r3 + j));
        for (; j < n; j++)
            y[j] += (a0 * r0[j] + a1 * r1[j]) + (a2 * r2[j] + a3 * r3[j]);
    }
    for (; p < k; p++) {
        const float a0 = alpha * x[p * incx];
        const float *r0 = R + p * ldr;
        int j = 0;
        for (; j + GEMV_VL <= n; j += GEMV_VL)
            GV(y + j) += a0 * GVC(r0 + j);
        for (; j < n; j++)
            y[j] += a0 * r0[j];
    }
}

/* C (m, n) = alpha * a (m), stride inca, outer b (n) + beta * C: a
 * product of depth one, written row by row. */
GEMV_CLONES GEMM_HOT static void gemv_outer(int m, int n, float alpha,
                                            const float *restrict a, long inca,
                                            const float *restrict b, float beta,
                                            float *restrict C, long ldc)
{
    for (int i = 0; i < m; i++) {
        const float ai = alpha * a[i * inca];
        float *restrict c = C + i * ldc;
        int j = 0;
        if (beta == 0) {
            for (; j + GEMV_VL <= n; j += GEMV_VL)
                GV(c + j) = ai * GVC(b + j);
            for (; j < n; j++)
                c[j] = ai * b[j];
        } else {
            for (; j + GEMV_VL <= n; j += GEMV_VL)
                GV(c + j) = ai * GVC(b + j) + beta * GVC(c + j);
            for (; j < n; j++)
                c[j] = ai * b[j] + beta * c[j];
        }
    }
}

/* The products above, when the shapes and strides fit one of them; returns
 * 0 (nothing done) otherwise. */
static int sgemm_vector(int trans_a, int trans_b, int m, int n, int k,
                        float alpha, const float *A, int lda, const float *B,
                        int ldb, float beta, float *C, int ldc)
{
    if (k <= 0 || alpha == 0) return 0;
    /* element i of column vector op(A) / p of row vector op(A) */
    const long as_col = trans_a ? 1 : lda, as_row = trans_a ? lda : 1;
    /* element j of row vector op(B) / p of column vector op(B) */
    const long bs_row = trans_b ? ldb : 1, bs_col = trans_b ? 1 : ldb;
    if (k == 1 && bs_row == 1) {
        /* C = op(A) (m, 1) @ op(B) (1, n) */
        gemv_outer(m, n, alpha, A, as_col, B, beta, C, ldc);
        return 1;
    }
    if (m == 1 && trans_b && (as_row == 1)) {
        /* C row (n) = dots of op(A) row (k) with B's rows (n, k) */
        gemv_dots(n, k, alpha, B, ldb, A, beta, C, 1);
        return 1;
    }
    if (m == 1 && !trans_b) {
        /* C row (n) = op(A) row (k) @ B (k, n) */
        gemv_axpy(n, k, alpha, A, as_row, B, ldb, beta, C);
        return 1;
    }
    if (n == 1 && !trans_a && bs_col == 1) {
        /* C column (m) = dots of A's rows (m, k) with op(B) column (k) */
        gemv_dots(m, k, alpha, A, lda, B, beta, C, ldc);
        return 1;
    }
    if (n == 1 && trans_a && ldc == 1) {
        /* C column (m) = op(B) column (k) as a row @ A (k, m) */
        gemv_axpy(m, k, alpha, B, bs_col, A, lda, beta, C);
        return 1;
    }
    return 0;
}

/* ---- batch-1 products with a constant matrix --------------------------------
 * onyx_gemv_pack lays op(W) (k, n) out as column panels, each (k, w)
 * row-major and contiguous, zero-filled past column n. onyx_gemv_packed then
 * reads the whole matrix in one sequential pass (the pattern hardware
 * prefetchers follow best) while a panel's w sums stay in registers. Panels
 * are GEMV_NV vectors wide; the columns left at the end go in one panel of
 * two vectors or one, whichever holds them (so the layout takes
 * k * round_up(n, GEMV_VL) floats). The accumulators and the loads must fit
 * the register file: 32 AVX-512 / 16 AVX2 registers, 16 NEON q registers.
 * A matrix narrower than one vector (a Linear layer with a few outputs)
 * would be mostly padding there: it is stored as op(W)^T (n, k) instead,
 * and each output is a dot product over a contiguous row. */
#if defined(__arm__)
#define GEMV_NV 8
#else
#define GEMV_NV 4
#endif
#define GEMV_PW (GEMV_VL * GEMV_NV)

/* width of the panel that starts at column j0 of n */
static int gemv_panel_width(int n, int j0)
{
    int rest = n - j0;
    return rest >= GEMV_PW ? GEMV_PW : rest > GEMV_VL ? 2 * GEMV_VL : GEMV_VL;
}

size_t onyx_gemv_pack_floats(int n, int k)
{
    if (n <= 0 || k <= 0) return 0;
    if (n < GEMV_VL) return (size_t)k * (size_t)n;
    return (size_t)k * (size_t)((n + GEMV_VL - 1) / GEMV_VL * GEMV_VL);
}

void onyx_gemv_pack(float *P, int trans_w, const float *W, int ldw, int n,
                    int k)
{
    if (n < GEMV_VL) {
        for (int j = 0; j < n; j++)
            for (int p = 0; p < k; p++)
                P[(long)j * k + p] =
                    trans_w ? W[(long)j * ldw + p] : W[(long)p * ldw + j];
        return;
    }
    for (int j0 = 0, w; j0 < n; j0 += w) {
        w = gemv_panel_width(n, j0);
        for (int p = 0; p < k; p++, P += w)
            for (int j = 0; j < w; j++)
                P[j] = j0 + j >= n ? 0.0f
                       : trans_w   ? W[(long)(j0 + j) * ldw + p]
                                   : W[(long)p * ldw + j0 + j];
    }
}

/* y (NV vectors, of which the first w floats are kept) = alpha * x (k) @
 * panel (k, NV vectors) + beta * y. NV is a constant at each call, so acc
 * lives in registers. */
static inline __attribute__((always_inline)) void
gemv_panel(const int NV, int k, float alpha, const float *restrict x,
           const float *restrict P, float beta, float *restrict y, int w)
{
    gemv_vf acc[GEMV_NV] = {{0}};
    for (int p = 0; p < k; p++, P += GEMV_VL * NV) {
        const float s = x[p];
        for (int v = 0; v < NV; v++)
            acc[v] += s * GVC(P + GEMV_VL * v);
    }
    if (w == GEMV_VL * NV) {
        for (int v = 0; v < NV; v++)
            GV(y + GEMV_VL * v) =
                beta == 0 ? alpha * acc[v]
                          : alpha * acc[v] + beta * GVC(y + GEMV_VL * v);
        return;
    }
    float t[GEMV_PW];
    memcpy(t, acc, sizeof t);
    for (int j = 0; j < w; j++)
        y[j] = beta == 0 ? alpha * t[j] : alpha * t[j] + beta * y[j];
}

GEMV_CLONES GEMM_HOT void onyx_gemv_packed(int n, int k, float alpha,
                                           const float *restrict x,
                                           const float *restrict P, float beta,
                                           float *restrict y)
{
    if (n <= 0) return;
    if (k <= 0) {
        for (int j = 0; j < n; j++)
            y[j] = beta == 0 ? 0.0f : beta * y[j];
        return;
    }
    if (n < GEMV_VL) {
        gemv_dots(n, k, alpha, P, k, x, beta, y, 1);
        return;
    }
    for (int j0 = 0, w; j0 < n; j0 += w, P += (long)w * k) {
        w = gemv_panel_width(n, j0);
        int cols = n - j0 < w ? n - j0 : w;
        if (w == GEMV_PW)
            gemv_panel(GEMV_NV, k, alpha, x, P, beta, y + j0, cols);
        else if (w == 2 * GEMV_VL)
            gemv_panel(2, k, alpha, x, P, beta, y + j0, cols);
        else
            gemv_panel(1, k, alpha, x, P, beta, y + j0, cols);
    }
}

/* initial-exec: the flag sits in the static TLS block, so reading it never
 * calls __tls_get_addr, which allocates on a thread's first access when the
 * engine is dlopen'd (the Pd externals) */
#if defined(__GNUC__)
static _Thread_local int sgemm_rt_thread
    __attribute__((tls_model("initial-exec")));
#else
static _Thread_local int sgemm_rt_thread;
#endif

int onyx_sgemm_realtime(int on)
{
    int old = sgemm_rt_thread;
    sgemm_rt_thread = on != 0;
    return old;
}

#ifdef ONYX_USE_OPENBLAS
#include <cblas.h>

/* OpenBLAS's small-matrix path (taken up to M*N*K = 100^3 on AVX-512 CPUs)
 * calls malloc on every call, and eval must never allocate (the real-time
 * contract; tests/unit/test_runtime.c checks it). Those sizes run on the
 * portable kernel, which is quick there; larger ones go to cblas_sgemm,
 * except on a thread marked real-time (its locks). */
#define OPENBLAS_MIN_MNK 1.0e6

void onyx_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
                const float *A, int lda, const float *B, int ldb, float beta,
                float *C, int ldc)
{
    if (m <= 0 || n <= 0) return;
    if (sgemm_vector(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C,
                     ldc))
        return;
    if (k <= 0 || (double)m * n * k <= OPENBLAS_MIN_MNK || sgemm_rt_thread) {
        sgemm_portable(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta,
                       C, ldc);
        return;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, A, lda, B,
                ldb, beta, C, ldc);
}

void onyx_blas_threads(int n)
{
    openblas_set_num_threads(n < 1 ? 1 : n);
}

#else

void onyx_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
                const float *A, int lda, const float *B, int ldb, float beta,
                float *C, int ldc)
{
    if (m <= 0 || n <= 0) return;
    if (sgemm_vector(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C,
                     ldc))
        return;
    sgemm_portable(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C,
                   ldc);
}

void onyx_blas_threads(int n)
{
    (void)n;
}

#endif
