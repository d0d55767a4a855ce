/* gemm.c - onyx_sgemm: OpenBLAS or a portable blocked loop. */
#include "gemm.h"

#ifdef ONYX_USE_OPENBLAS
#include <cblas.h>

void onyx_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
                const float *A, int lda, const float *B, int ldb, float beta,
                float *C, int ldc)
{
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                C[(long)i * ldc + j] = beta == 0 ? 0 : beta * C[(long)i * ldc + j];
        return;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, A, lda, B,
                ldb, beta, C, ldc);
}

void onyx_blas_threads(int n) { openblas_set_num_threads(n < 1 ? 1 : n); }

#else

/* C[i][j] = beta*C + alpha * sum_p a(i,p) b(p,j), in row blocks so a strip of
 * C stays in cache while B streams through. */
void onyx_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
                const float *A, int lda, const float *B, int ldb, float beta,
                float *C, int ldc)
{
    if (m <= 0 || n <= 0) return;
    for (int i = 0; i < m; i++) {
        float *c = C + (long)i * ldc;
        if (beta == 0)
            for (int j = 0; j < n; j++) c[j] = 0;
        else if (beta != 1)
            for (int j = 0; j < n; j++) c[j] *= beta;
        for (int p = 0; p < k; p++) {
            float a = alpha * (trans_a ? A[(long)p * lda + i] : A[(long)i * lda + p]);
            if (!trans_b) {
                const float *b = B + (long)p * ldb;
                for (int j = 0; j < n; j++) c[j] += a * b[j];
            } else {
                const float *b = B + p;
                for (int j = 0; j < n; j++) c[j] += a * b[(long)j * ldb];
            }
        }
    }
}

void onyx_blas_threads(int n) { (void)n; }

#endif
