/* gemv.h - matrix-vector products (gemv.c). */
#ifndef ONYX_GEMV_H
#define ONYX_GEMV_H

#include <stddef.h>

/* Batch-1 products with a constant matrix: y (n) = alpha * x (k) @ op(W)
 * + beta * y, op(W) (k, n) being W (k, n) with row stride ldw, or W (n, k)
 * when trans_w (a Linear layer's weight). prepare packs W once into
 * onyx_gemv_pack_floats(n, k) floats (64-byte aligned for speed) laid out
 * for a single sequential pass; eval calls onyx_gemv_packed on them: a
 * memory-bound product at nearly the speed of reading the matrix. beta == 0
 * means y is write-only. */
size_t onyx_gemv_pack_floats(int n, int k);
void onyx_gemv_pack(float *P, int trans_w, const float *W, int ldw, int n,
                    int k);
void onyx_gemv_packed(int n, int k, float alpha, const float *x, const float *P,
                      float beta, float *y);
/* the same with the addend apart: y (n) = alpha * x (k) @ op(W) + beta * c
 * (n); c may be y (a bias, or the sums so far) */
void onyx_gemv_packed_c(int n, int k, float alpha, const float *x,
                        const float *P, float beta, const float *c, float *y);

/* A few rows by a constant matrix: C (m, n; row stride ldc) = alpha * A (m,
 * k; row stride lda) @ op(W) + beta * C, op(W) packed by onyx_gemv_pack as
 * above. Row i of C gets the sums onyx_gemv_packed_c gives for row i of A
 * (same order); the packed matrix is read once for every 4 rows (2 on
 * armv7) instead of once per row. beta == 0 means C is write-only. */
void onyx_gemm_packed(int m, int n, int k, float alpha, const float *A,
                      long lda, const float *P, float beta, float *C, long ldc);

/* The matrix-vector shapes of onyx_sgemm (same arguments): C = alpha *
 * op(A) @ op(B) + beta * C when op(A) is one row or op(B) one column (or
 * the depth is one) and the strides fit a streaming loop; returns 1 when it
 * did the product, 0 when it did nothing. */
int onyx_sgemm_vector(int trans_a, int trans_b, int m, int n, int k,
                      float alpha, const float *A, int lda, const float *B,
                      int ldb, float beta, float *C, int ldc);
/* Any product (same arguments) as one of those per row of C: for a few
 * rows, where packing for the blocked GEMM does not pay. Large ones split
 * their columns over the calling thread's pool (onyx_gemm_pool). */
void onyx_sgemm_rows(int trans_a, int trans_b, int m, int n, int k, float alpha,
                     const float *A, int lda, const float *B, int ldb,
                     float beta, float *C, int ldc);

#endif
