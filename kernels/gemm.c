/* gemm.c - onyx_sgemm: matrix-vector shapes (one row, one column or depth
 * one) go to the streaming loops of gemv.c, large products to OpenBLAS when
 * built with it, and the rest (with BLAS=none, everything) to the portable
 * blocked kernel below. */
#include "gemm.h"
#include "gemv.h"

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
    if (onyx_sgemm_vector(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb,
                          beta, C, ldc))
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
    if (onyx_sgemm_vector(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb,
                          beta, C, ldc))
        return;
    sgemm_portable(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C,
                   ldc);
}

void onyx_blas_threads(int n)
{
    (void)n;
}

#endif
