/* gemv.c - matrix-vector products: the shapes of onyx_sgemm that read each
 * element of the matrix once (one row, one column, depth one), and batch-1
 * products with a constant matrix packed once in prepare (onyx_gemv_pack),
 * whose micro-kernels are in arch/gemv_*.c. The streaming loops over an
 * unpacked matrix are GNU C vectors: SSE/AVX2/AVX-512 clones chosen at load
 * time on x86-64, NEON on ARM. */
#include "gemv.h"
#include "../arch/gemv_arch.h"
#include "gemm.h"
#include "threadpool.h"

#include <string.h>

/* hot loops at -O3 (-O2 leaves loops of unknown length scalar) */
#if defined(__GNUC__) && !defined(__clang__)
#define GEMM_HOT __attribute__((optimize("O3")))
#else
#define GEMM_HOT
#endif

typedef float gemm_v4 __attribute__((vector_size(16)));

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
int onyx_sgemm_vector(int trans_a, int trans_b, int m, int n, int k,
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

/* A few rows of C (or tiny sizes): each row of C is one of the products
 * above, an axpy over the rows of op(B) or the dot products with B's rows
 * when B is transposed. Only when both are transposed is a row of op(A)
 * strided: then plain dot products (a shape no exporter emits in a hot
 * path). */
static void sgemm_rows_alone(int trans_a, int trans_b, int m, int n, int k,
                             float alpha, const float *A, int lda,
                             const float *B, int ldb, float beta, float *C,
                             int ldc)
{
    if (k <= 0 || alpha == 0) k = 0; /* C = beta * C */
    for (int i = 0; i < m; i++) {
        float *c = C + (long)i * ldc;
        /* row i of op(A): element p at a[p * as] */
        const float *a = trans_a ? A + i : A + (long)i * lda;
        const long as = trans_a ? lda : 1;
        if (!trans_b || k == 0) {
            gemv_axpy(n, k, alpha, a, as, B, ldb, beta, c);
        } else if (!trans_a) {
            gemv_dots(n, k, alpha, B, ldb, a, beta, c, 1);
        } else {
            for (int j = 0; j < n; j++) {
                float d = 0;
                for (int p = 0; p < k; p++)
                    d += a[p * as] * B[(long)j * ldb + p];
                c[j] = beta == 0 ? alpha * d : alpha * d + beta * c[j];
            }
        }
    }
}

/* The rows above on the calling thread's pool: C is cut into bands of
 * columns, whole vectors of GEMV_VL but the last, so that every element of
 * C takes the same loop (vector or tail) as with one thread, and the same
 * sums in the same order. */
typedef struct rows_split {
    int trans_a, trans_b, m, n, k;
    float alpha, beta;
    const float *A, *B;
    int lda, ldb, ldc;
    float *C;
    int parts;
} rows_split;

/* products below this many multiply-adds run alone (see gemm.c) */
#define ROWS_SPLIT_MIN_MNK (1 << 18)

static void rows_band(void *ctx, int part, void *work)
{
    (void)work;
    const rows_split *s = ctx;
    const int units = s->n / GEMV_VL;
    int lo, hi;
    onyx_threads_range(part, s->parts, units, &lo, &hi);
    const int c0 = lo * GEMV_VL, c1 = hi == units ? s->n : hi * GEMV_VL;
    const float *B = s->trans_b ? s->B + (long)c0 * s->ldb : s->B + c0;
    sgemm_rows_alone(s->trans_a, s->trans_b, s->m, c1 - c0, s->k, s->alpha,
                     s->A, s->lda, B, s->ldb, s->beta, s->C + c0, s->ldc);
}

void onyx_sgemm_rows(int trans_a, int trans_b, int m, int n, int k, float alpha,
                     const float *A, int lda, const float *B, int ldb,
                     float beta, float *C, int ldc)
{
    onyx_threads *t = onyx_gemm_pool();
    const int parts = onyx_threads_count(t);
    if (parts < 2 || n / GEMV_VL < parts ||
        (double)m * n * k < ROWS_SPLIT_MIN_MNK) {
        sgemm_rows_alone(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta,
                         C, ldc);
        return;
    }
    rows_split s = {trans_a, trans_b, m,   n,   k,   alpha, beta,
                    A,       B,       lda, ldb, ldc, C,     parts};
    onyx_threads_run(t, rows_band, &s, parts);
}

/* ---- batch-1 products with a constant matrix --------------------------------
 * onyx_gemv_pack lays op(W) (k, n) out in column panels (arch/gemv_arch.h)
 * and the micro-kernel reads the whole matrix in one sequential pass (the
 * pattern hardware prefetchers follow best) while a panel's sums stay in
 * registers. A matrix narrower than 4 columns (a Linear layer with one or
 * two outputs) would be mostly padding there: it is stored as op(W)^T
 * (n, k) instead, and each output is a dot product over a contiguous row
 * (gemv_dots). */

size_t onyx_gemv_pack_floats(int n, int k)
{
    if (n <= 0 || k <= 0) return 0;
    if (n < 4) return (size_t)k * (size_t)n;
    return (size_t)k * (size_t)((n + 3) / 4 * 4);
}

void onyx_gemv_pack(float *P, int trans_w, const float *W, int ldw, int n,
                    int k)
{
    if (n < 4) {
        for (int j = 0; j < n; j++)
            for (int p = 0; p < k; p++)
                P[(long)j * k + p] =
                    trans_w ? W[(long)j * ldw + p] : W[(long)p * ldw + j];
        return;
    }
    for (int j0 = 0; j0 < n; j0 += ONYX_GEMV_NR) {
        int w = n - j0 >= ONYX_GEMV_NR ? ONYX_GEMV_NR : (n - j0 + 3) / 4 * 4;
        for (int p = 0; p < k; p++, P += w)
            for (int j = 0; j < w; j++)
                P[j] = j0 + j >= n ? 0.0f
                       : trans_w   ? W[(long)(j0 + j) * ldw + p]
                                   : W[(long)p * ldw + j0 + j];
    }
}

/* The portable reference of the micro-kernels: column by column, in the
 * order gemv_arch.h gives. */
void onyx_gemv_f32_ref(int n, int k, float alpha, const float *x,
                       const float *P, float beta, const float *c, float *y)
{
    for (int j0 = 0; j0 < n; j0 += ONYX_GEMV_NR) {
        int w = n - j0 >= ONYX_GEMV_NR ? ONYX_GEMV_NR : (n - j0 + 3) / 4 * 4;
        int cols = n - j0 < w ? n - j0 : w;
        for (int j = 0; j < cols; j++) {
            float acc = 0.0f;
            for (int p = 0; p < k; p++)
                acc += x[p] * P[(long)p * w + j];
            float r = alpha * acc;
            if (beta != 0.0f) r += beta * c[j0 + j];
            y[j0 + j] = r;
        }
        P += (long)w * k;
    }
}

/* The variants this build has, reference first; which of them the CPU runs
 * is decided once, when the library is loaded (x86-64), or at compile time
 * (NEON). */
#if defined(__ARM_NEON)
#define GEMV_NEON 1
#else
#define GEMV_NEON 0
#endif
static const onyx_gemv_variant gemv_all[] = {
    {"ref", onyx_gemv_f32_ref, onyx_gemm_rows_f32_ref, 0},
#if GEMV_NEON && defined(__aarch64__)
    {"neon", onyx_gemv_f32_neon, onyx_gemm_rows_f32_neon, 1},
#elif GEMV_NEON
    {"neon", onyx_gemv_f32_neon, onyx_gemm_rows_f32_neon, 0},
#endif
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
    {"avx2", onyx_gemv_f32_avx2, onyx_gemm_rows_f32_avx2, 1},
    {"avx512", onyx_gemv_f32_avx512, onyx_gemm_rows_f32_avx512, 1},
#endif
};
static int gemv_n_usable = 1 + GEMV_NEON;
#if GEMV_NEON
static onyx_gemv_fn *gemv_fn = onyx_gemv_f32_neon;
static onyx_gemm_rows_fn *gemm_rows_fn = onyx_gemm_rows_f32_neon;
#else
static onyx_gemv_fn *gemv_fn = onyx_gemv_f32_ref;
static onyx_gemm_rows_fn *gemm_rows_fn = onyx_gemm_rows_f32_ref;
#endif

/* The reference of the several-row micro-kernels: the gemv reference row
 * by row. */
void onyx_gemm_rows_f32_ref(int m, int n, int k, float alpha, const float *A,
                            long lda, const float *P, float beta, float *C,
                            long ldc)
{
    for (int i = 0; i < m; i++)
        onyx_gemv_f32_ref(n, k, alpha, A + i * lda, P, beta, C + i * ldc,
                          C + i * ldc);
}

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
__attribute__((constructor)) static void gemv_pick(void)
{
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
        return;
    gemv_n_usable = __builtin_cpu_supports("avx512f") ? 3 : 2;
    gemv_fn = gemv_all[gemv_n_usable - 1].fn;
    gemm_rows_fn = gemv_all[gemv_n_usable - 1].rows;
}
#endif

int onyx_gemv_variants(const onyx_gemv_variant **v)
{
    *v = gemv_all;
    return gemv_n_usable;
}

/* y[j] = alpha * dot(x (k), row j of R (n, k)) + beta * c[j] for a few
 * short rows (k < 16, or any k with 4-float vectors): the sums of
 * gemv_dots in the same order (4 lanes,
 * then (s0 + s2) + (s1 + s3), then the tail), without its set-up */
static void gemv_rows_small(int n, int k, float alpha, const float *R,
                            const float *x, float beta, const float *c,
                            float *y)
{
    for (int j = 0; j < n; j++, R += k) {
        gemm_v4 s = {0, 0, 0, 0};
        int p = 0;
        for (; p + 4 <= k; p += 4) {
            gemm_v4 a, b;
            memcpy(&a, x + p, sizeof a);
            memcpy(&b, R + p, sizeof b);
            s += a * b;
        }
        float d = (s[0] + s[2]) + (s[1] + s[3]);
        for (; p < k; p++)
            d += x[p] * R[p];
        y[j] = beta == 0 ? alpha * d : alpha * d + beta * c[j];
    }
}

void onyx_gemv_packed_c(int n, int k, float alpha, const float *x,
                        const float *P, float beta, const float *c, float *y)
{
    if (n <= 0) return;
    if (k <= 0) {
        for (int j = 0; j < n; j++)
            y[j] = beta == 0 ? 0.0f : beta * c[j];
        return;
    }
    if (n < 4 && (k < 16 || GEMV_VL == 4)) { /* a Linear layer to 1-3 outputs */
        gemv_rows_small(n, k, alpha, P, x, beta, c, y);
        return;
    }
    if (n < 4) {
        if (beta != 0 && c != y)
            for (int j = 0; j < n; j++) /* no library call for 3 floats */
                y[j] = c[j];
        gemv_dots(n, k, alpha, P, k, x, beta, y, 1);
        return;
    }
    gemv_fn(n, k, alpha, x, P, beta, c, y);
}

void onyx_gemv_packed(int n, int k, float alpha, const float *x, const float *P,
                      float beta, float *y)
{
    onyx_gemv_packed_c(n, k, alpha, x, P, beta, y, y);
}

/* ---- the packed product on the calling thread's pool ------------------
 * C is cut into bands of whole column panels, one per thread, the last
 * band with the columns past the last full panel: each column is summed
 * as with one thread (the micro-kernels' columns do not depend on each
 * other). */
typedef struct packed_split {
    int m, n, k;
    float alpha, beta;
    const float *A, *P;
    long lda, ldc;
    float *C;
    int parts;
} packed_split;

/* products below this many multiply-adds run alone (see gemm.c) */
#define PACKED_SPLIT_MIN_MNK (1 << 18)

static void packed_band(void *ctx, int part, void *work)
{
    (void)work;
    const packed_split *s = ctx;
    const int panels = s->n / ONYX_GEMV_NR;
    int lo, hi;
    onyx_threads_range(part, s->parts, panels, &lo, &hi);
    const int c0 = lo * ONYX_GEMV_NR,
              c1 = hi == panels ? s->n : hi * ONYX_GEMV_NR;
    const float *P = s->P + (long)c0 * s->k;
    if (s->m == 1)
        gemv_fn(c1 - c0, s->k, s->alpha, s->A, P, s->beta, s->C + c0,
                s->C + c0);
    else
        gemm_rows_fn(s->m, c1 - c0, s->k, s->alpha, s->A, s->lda, P, s->beta,
                     s->C + c0, s->ldc);
}

/* The product split over the pool when it is worth it; 1 when done. */
static int packed_split_run(int m, int n, int k, float alpha, const float *A,
                            long lda, const float *P, float beta, float *C,
                            long ldc)
{
    onyx_threads *t = onyx_gemm_pool();
    const int parts = onyx_threads_count(t);
    if (parts < 2 || n / ONYX_GEMV_NR < parts ||
        (double)m * n * k < PACKED_SPLIT_MIN_MNK)
        return 0;
    packed_split s = {m, n, k, alpha, beta, A, P, lda, ldc, C, parts};
    onyx_threads_run(t, packed_band, &s, parts);
    return 1;
}

void onyx_gemm_packed(int m, int n, int k, float alpha, const float *A,
                      long lda, const float *P, float beta, float *C, long ldc)
{
    if (m <= 0 || n <= 0) return;
    if (n >= 4 && k > 0 &&
        packed_split_run(m, n, k, alpha, A, lda, P, beta, C, ldc))
        return;
    if (n < 4 || k <= 0 || m == 1) {
        for (int i = 0; i < m; i++)
            onyx_gemv_packed_c(n, k, alpha, A + i * lda, P, beta, C + i * ldc,
                               C + i * ldc);
        return;
    }
    gemm_rows_fn(m, n, k, alpha, A, lda, P, beta, C, ldc);
}
