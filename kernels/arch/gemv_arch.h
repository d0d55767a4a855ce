/* gemv_arch.h - the micro-kernels of the packed matrix-vector product
 * (gemv.c): one signature, a portable C reference and one variant per
 * vector ISA (arch/gemv_x86.c, arch/gemv_neon.c). gemv.c picks one once;
 * the unit tests run every variant this CPU has against the reference. */
#ifndef ONYX_GEMV_ARCH_H
#define ONYX_GEMV_ARCH_H

/* Packed layout (onyx_gemv_pack, for n >= 4): op(W) (k, n) as column panels
 * of ONYX_GEMV_NR columns, each k rows of NR floats, contiguous; the last
 * panel holds the n % NR columns left, rounded up to a multiple of 4 and
 * zero-filled, so the layout takes k * round_up(n, 4) floats. Every ISA
 * uses the same layout: what is packed does not depend on the CPU. */
#define ONYX_GEMV_NR 16

/* y (n) = alpha * x (k) @ P (k, n packed) + beta * c (n), for n >= 4;
 * c may be y; beta == 0: c is not read. Column j is summed over p in order
 * (acc = 0; acc += x[p] * P[p][j]), then alpha * acc + beta * c[j]; the
 * variants differ from the reference only where they fuse the
 * multiply-add (FMA), and on 32-bit NEON in flushing subnormals. */
typedef void onyx_gemv_fn(int n, int k, float alpha, const float *x,
                          const float *P, float beta, const float *c, float *y);

void onyx_gemv_f32_ref(int n, int k, float alpha, const float *x,
                       const float *P, float beta, const float *c, float *y);
void onyx_gemv_f32_neon(int n, int k, float alpha, const float *x,
                        const float *P, float beta, const float *c, float *y);
void onyx_gemv_f32_avx2(int n, int k, float alpha, const float *x,
                        const float *P, float beta, const float *c, float *y);
void onyx_gemv_f32_avx512(int n, int k, float alpha, const float *x,
                          const float *P, float beta, const float *c, float *y);

/* C (m, n; row stride ldc) = alpha * A (m, k; row stride lda) @ P (k, n
 * packed) + beta * C, for n >= 4; beta == 0: C is not read. Each column
 * of each row is summed over p in order, as by the gemv micro-kernels, so a
 * row's result does not depend on the rows beside it. On x86-64 the panels
 * are read once for 4 rows (arch/gemm_rows_tmpl.h); the NEON one is a gemv
 * per row. */
typedef void onyx_gemm_rows_fn(int m, int n, int k, float alpha,
                               const float *A, long lda, const float *P,
                               float beta, float *C, long ldc);

void onyx_gemm_rows_f32_ref(int m, int n, int k, float alpha, const float *A,
                            long lda, const float *P, float beta, float *C,
                            long ldc);
void onyx_gemm_rows_f32_neon(int m, int n, int k, float alpha, const float *A,
                             long lda, const float *P, float beta, float *C,
                             long ldc);
void onyx_gemm_rows_f32_avx2(int m, int n, int k, float alpha, const float *A,
                             long lda, const float *P, float beta, float *C,
                             long ldc);
void onyx_gemm_rows_f32_avx512(int m, int n, int k, float alpha,
                               const float *A, long lda, const float *P,
                               float beta, float *C, long ldc);

typedef struct onyx_gemv_variant {
    const char *name;
    onyx_gemv_fn *fn;
    onyx_gemm_rows_fn *rows; /* the same ISA's several-row product */
    int fused; /* 1: multiply-adds are fused (FMA): results differ from the
                  reference by rounding */
} onyx_gemv_variant;

/* The variants this CPU runs, the reference first; returns how many. The
 * last one is the one onyx_gemv_packed uses. */
int onyx_gemv_variants(const onyx_gemv_variant **v);

#endif
