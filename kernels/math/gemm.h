/* gemm.h - the one matrix product every heavy kernel goes through.
 * Matrix-vector shapes run as the engine's own streaming loops; the rest on
 * OpenBLAS cblas_sgemm when built with ONYX_USE_OPENBLAS, else the engine's
 * own blocked loop with per-ISA micro-kernels (make BLAS=none). */
#ifndef ONYX_GEMM_H
#define ONYX_GEMM_H

#include <stddef.h>

#include "gemv.h" /* the batch-1 products */

/* Rows of C up to which MatMul and Gemm pack a constant B once in prepare
 * and run the product on onyx_gemm_packed rather than the blocked sgemm,
 * which packs B on every call. Measured with B 256 x 258: on AVX-512 the
 * packed product ran at 190 GFLOP/s from 4 rows to 128, against 50 (4
 * rows) to 145 (128) for the blocked one, and was still ahead at 512 rows
 * (and with B 1024 x 1024); under qemu, it took fewer instructions up to 16
 * rows on aarch64 (0.4 of the blocked one's at 4 rows, equal at 64) and up to 8
 * on armv7 (0.68 at 4 and 7 rows, 1.26 at 16), where it is one gemv per row. */
#if defined(__x86_64__)
#define ONYX_GEMM_PACKED_ROWS 512
#elif defined(__aarch64__)
#define ONYX_GEMM_PACKED_ROWS 16
#else
#define ONYX_GEMM_PACKED_ROWS 8
#endif

/* C (m,n) = alpha * op(A) @ op(B) + beta * C, row-major.
 * op(A) is (m,k): A is (m,k) with row stride lda, or (k,m) when trans_a.
 * op(B) is (k,n): B is (k,n) with row stride ldb, or (n,k) when trans_b.
 * beta == 0 means C is write-only (its old contents may be NaN).
 * work: onyx_sgemm_scratch_bytes(m, n, k) bytes, 64-byte aligned (kernel
 * scratch, asked for in prepare), for the pack buffers of the blocked
 * product; NULL is allowed when that is 0 (and otherwise computes the same
 * thing slowly, with the unpacked loops). */
void onyx_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
                const float *A, int lda, const float *B, int ldb, float beta,
                float *C, int ldc, float *work);

/* Bytes of work space onyx_sgemm needs for a product of these sizes (any
 * transposition), or 0; never more for smaller sizes. At most 200 KB on ARM,
 * 360 KB on x86-64. */
size_t onyx_sgemm_scratch_bytes(int m, int n, int k);

/* Products with a constant A (m, k) packed once, in prepare, in the
 * panels of the micro-kernel onyx_sgemm_blocked uses (the engine's own,
 * never BLAS): onyx_gemm_pack_a_floats floats for Ap. Then
 * C (m, n) = A @ B (k, n; row stride ldb), C write-only; work:
 * onyx_gemm_prepacked_scratch_bytes(n, k), 64-byte aligned, for B's
 * packing (never more than onyx_sgemm_scratch_bytes of the largest
 * product). Columns of C cut at multiples of onyx_gemm_prepacked_cols()
 * come out bit-identical to the whole product's: how a pool splits it. */
size_t onyx_gemm_pack_a_floats(int m, int k);
void onyx_gemm_pack_a(float *Ap, int m, int k, const float *A, int lda);
size_t onyx_gemm_prepacked_scratch_bytes(int n, int k);
int onyx_gemm_prepacked_cols(void);
void onyx_gemm_prepacked(int m, int n, int k, const float *Ap, const float *B,
                         int ldb, float *C, int ldc, float *work);
/* The same product's rows r0 .. r1 - 1 of C alone (r0 a multiple of
 * onyx_gemm_prepacked_rows(), r1 too or m), bit-identical to the whole
 * product's: how a pool splits it by rows, each thread then reading only
 * its rows of A. */
int onyx_gemm_prepacked_rows(void);
void onyx_gemm_prepacked_band(int m, int r0, int r1, int n, int k,
                              const float *Ap, const float *B, int ldb,
                              float *C, int ldc, float *work);

/* Marks the calling thread as real-time (on != 0) or not; returns the old
 * mark. On a real-time thread onyx_sgemm never calls into BLAS, which may
 * take a mutex (OpenBLAS's buffer pool does, for large products): the
 * engine's own kernel runs instead. The streaming runner marks the audio thread
 * around its inline (sync) inferences. */
int onyx_sgemm_realtime(int on);

/* The calling thread's pool for the engine's own products (threadpool.h),
 * or NULL: none entered, or the thread is marked real-time. */
struct onyx_threads *onyx_gemm_pool(void);

/* Number of threads BLAS may use (1 by default). No-op without OpenBLAS. */
void onyx_blas_threads(int n);

#endif
