/* gemm.h - the one matrix product every heavy kernel goes through.
 * Matrix-vector shapes run as the engine's own streaming loops; the rest on
 * OpenBLAS cblas_sgemm when built with ONYX_USE_OPENBLAS, else the engine's
 * own blocked C loop (make BLAS=none). */
#ifndef ONYX_GEMM_H
#define ONYX_GEMM_H

#include <stddef.h>

#include "gemv.h" /* the batch-1 products */

/* C (m,n) = alpha * op(A) @ op(B) + beta * C, row-major.
 * op(A) is (m,k): A is (m,k) with row stride lda, or (k,m) when trans_a.
 * op(B) is (k,n): B is (k,n) with row stride ldb, or (n,k) when trans_b.
 * beta == 0 means C is write-only (its old contents may be NaN). */
void onyx_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
                const float *A, int lda, const float *B, int ldb, float beta,
                float *C, int ldc);

/* Marks the calling thread as real-time (on != 0) or not; returns the old
 * mark. On a real-time thread onyx_sgemm never calls into BLAS, which may
 * take a mutex (OpenBLAS's buffer pool does, for large products): the
 * portable kernel runs instead. The streaming runner marks the audio thread
 * around its inline (sync) inferences. */
int onyx_sgemm_realtime(int on);

/* Number of threads BLAS may use (1 by default). No-op without OpenBLAS. */
void onyx_blas_threads(int n);

#endif
