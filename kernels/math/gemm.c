/* gemm.c - onyx_sgemm: matrix-vector shapes (one row, one column or depth
 * one) go to the streaming loops of gemv.c, large products to OpenBLAS when
 * built with it, and the rest (with BLAS=none, everything) to the blocked
 * product below and its per-ISA micro-kernel (kernels/arch/). */
#include "gemm.h"
#include "gemv.h"
#include "threadpool.h"

/* The blocked sgemm, organised like BLIS / GotoBLAS:
 *
 *   for each KC-deep slice of the k axis:
 *     for each NC-wide block of columns:   pack B block  (KC, NC) -> Bp
 *       for each MC-tall block of rows:    pack A block  (MC, KC) -> Ap
 *         for each NR x MR tile:           micro-kernel, C tile += Ap @ Bp
 *
 * Packing copies the operands, transposed or not, into the exact order the
 * micro-kernel reads them (MR rows of A interleaved per k step, NR columns
 * of B per k step), zero-filled past the matrix edges, with alpha folded
 * into A. The micro-kernel (gemm_ukernel.h, one per ISA in kernels/arch/)
 * keeps an MR x NR tile of C in registers across the whole KC loop; the
 * tiles at the right and bottom edges go through a full tile on the stack.
 *
 * The pack buffers are the caller's work space (eval must not allocate,
 * and the real-time contract allows little stack): onyx_sgemm_scratch_bytes
 * in prepare, arena scratch in eval. */
#include "gemm_ukernel.h"

#include <string.h>

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

/* ---- the micro-kernel, chosen once ------------------------------------
 * At build time on ARM (NEON is part of both boards' ABI flags); at load
 * time on x86-64 by the CPU, in a constructor, so every later read of
 * gemm_uk is of a value set before any thread could run a product. */
#if defined(__aarch64__)
static const onyx_gemm_ukernel *gemm_uk = &onyx_f32_gemm_8x8_neonfma;
#elif defined(__arm__) && defined(__ARM_NEON)
static const onyx_gemm_ukernel *gemm_uk = &onyx_f32_gemm_6x8_neon;
#else
static const onyx_gemm_ukernel *gemm_uk = &onyx_f32_gemm_4x8_portable;
#endif

#if defined(__x86_64__) && defined(__GNUC__)
static int gemm_has_avx2(void)
{
    __builtin_cpu_init(); /* needed before main (a constructor) */
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

static int gemm_has_avx512(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}

/* 1 when gemm_uk, single-threaded, is faster than OpenBLAS's sgemm on
 * every size: measured for the AVX-512 kernel (1.4 to 1.6 times
 * OpenBLAS 0.3.21 on siren_mlp, resnet_1d and transformer_block, on an AMD
 * EPYC with AVX-512); the AVX2 one is slower there than OpenBLAS's
 * AVX-512 code, and unmeasured against its AVX2 code. */
static int gemm_uk_beats_blas;

__attribute__((constructor)) static void gemm_pick_ukernel(void)
{
    if (gemm_has_avx512()) {
        gemm_uk = &onyx_f32_gemm_12x32_avx512;
        gemm_uk_beats_blas = 1;
    } else if (gemm_has_avx2())
        gemm_uk = &onyx_f32_gemm_6x16_avx2;
}
#else
enum { gemm_uk_beats_blas = 0 };
#endif

int onyx_gemm_ukernels(const onyx_gemm_ukernel **list, int max)
{
    const onyx_gemm_ukernel *all[4];
    int n = 0;
    all[n++] = &onyx_f32_gemm_4x8_portable;
#if defined(__x86_64__) && defined(__GNUC__)
    if (gemm_has_avx2()) all[n++] = &onyx_f32_gemm_6x16_avx2;
    if (gemm_has_avx512()) all[n++] = &onyx_f32_gemm_12x32_avx512;
#endif
    if (gemm_uk != &onyx_f32_gemm_4x8_portable) {
        /* the chosen one last, once */
        int j = 0;
        for (int i = 0; i < n; i++)
            if (all[i] != gemm_uk) all[j++] = all[i];
        n = j;
        all[n++] = gemm_uk;
    }
    if (n > max) n = max;
    for (int i = 0; i < n; i++)
        list[i] = all[i];
    return n;
}

static int imin(int a, int b)
{
    return a < b ? a : b;
}

/* n rounded up to a multiple of r */
static int round_up(int n, int r)
{
    return (n + r - 1) / r * r;
}

/* floats of Ap, rounded to 64 bytes so that Bp is aligned too */
static size_t pack_a_floats(const onyx_gemm_ukernel *uk, int m, int k)
{
    size_t f =
        (size_t)imin(round_up(m, uk->mr), uk->mc) * (size_t)imin(k, uk->kc);
    return (f + 15) / 16 * 16;
}

size_t onyx_gemm_pack_floats(const onyx_gemm_ukernel *uk, int m, int n, int k)
{
    if (m <= 0 || n <= 0 || k <= 0) return 0;
    return pack_a_floats(uk, m, k) +
           (size_t)imin(round_up(n, uk->nr), uk->nc) * (size_t)imin(k, uk->kc);
}

/* Ap (mc/MR panels of (kc, MR)) = alpha * op(A)[i0 : i0+mc, p0 : p0+kc] */
GEMM_HOT static void pack_a(float *restrict Ap, int MR, int trans_a,
                            const float *restrict A, int lda, int i0, int p0,
                            int mc, int kc, float alpha)
{
    for (int ib = 0; ib < mc; ib += MR, Ap += (size_t)MR * kc) {
        const int mr = imin(mc - ib, MR);
        if (!trans_a) {
            /* row i of the panel is contiguous in A */
            for (int i = 0; i < mr; i++) {
                const float *a = A + (long)(i0 + ib + i) * lda + p0;
                for (int p = 0; p < kc; p++)
                    Ap[p * MR + i] = alpha * a[p];
            }
        } else {
            /* step p of the panel is contiguous in A */
            for (int p = 0; p < kc; p++) {
                const float *a = A + (long)(p0 + p) * lda + i0 + ib;
                for (int i = 0; i < mr; i++)
                    Ap[p * MR + i] = alpha * a[i];
            }
        }
        for (int i = mr; i < MR; i++)
            for (int p = 0; p < kc; p++)
                Ap[p * MR + i] = 0;
    }
}

/* Bp (nc/NR panels of (kc, NR)) = op(B)[p0 : p0+kc, j0 : j0+nc] */
GEMM_HOT static void pack_b(float *restrict Bp, int NR, int trans_b,
                            const float *restrict B, int ldb, int p0, int j0,
                            int kc, int nc)
{
    for (int jb = 0; jb < nc; jb += NR, Bp += (size_t)NR * kc) {
        const int nr = imin(nc - jb, NR);
        if (!trans_b) {
            /* step p of the panel is contiguous in B */
            for (int p = 0; p < kc; p++)
                memcpy(Bp + p * NR, B + (long)(p0 + p) * ldb + j0 + jb,
                       (size_t)nr * sizeof(float));
        } else {
            /* column j of the panel is contiguous in B */
            for (int j = 0; j < nr; j++) {
                const float *b = B + (long)(j0 + jb + j) * ldb + p0;
                for (int p = 0; p < kc; p++)
                    Bp[p * NR + j] = b[p];
            }
        }
        if (nr < NR)
            for (int p = 0; p < kc; p++)
                memset(Bp + p * NR + nr, 0, (size_t)(NR - nr) * sizeof(float));
    }
}

/* C (m, n) = beta * C; beta == 0 writes zeros whatever C held */
static void scale_c(float *C, int ldc, int m, int n, float beta)
{
    if (beta == 1) return;
    for (int i = 0; i < m; i++) {
        float *c = C + (long)i * ldc;
        if (beta == 0)
            memset(c, 0, (size_t)n * sizeof(float));
        else
            for (int j = 0; j < n; j++)
                c[j] *= beta;
    }
}

/* C (mc, nc) += Ap (mc/MR panels of (kc, MR)) @ Bp (nc/NR panels of
 * (kc, NR)), tile by tile: the full tiles in place, the edge tiles through a
 * full tile of zeros on the stack, then its (mr, nr) corner onto C */
static void gemm_tiles(const onyx_gemm_ukernel *uk, const float *Ap,
                       const float *Bp, int mc, int nc, int kc, float *C,
                       int ldc)
{
    const int MR = uk->mr, NR = uk->nr;
    for (int jb = 0; jb < nc; jb += NR) {
        const int nr = imin(nc - jb, NR);
        for (int ib = 0; ib < mc; ib += MR) {
            const int mr = imin(mc - ib, MR);
            const float *ap = Ap + (size_t)ib * kc, *bp = Bp + (size_t)jb * kc;
            float *c = C + (long)ib * ldc + jb;
            if (mr == MR && nr == NR) {
                uk->fn(kc, ap, bp, c, ldc);
                continue;
            }
            _Alignas(64) float tile[ONYX_GEMM_MAX_TILE];
            memset(tile, 0, (size_t)(MR * NR) * sizeof(float));
            uk->fn(kc, ap, bp, tile, NR);
            for (int i = 0; i < mr; i++)
                for (int j = 0; j < nr; j++)
                    c[(long)i * ldc + j] += tile[i * NR + j];
        }
    }
}

void onyx_sgemm_blocked(const onyx_gemm_ukernel *uk, int trans_a, int trans_b,
                        int m, int n, int k, float alpha, const float *A,
                        int lda, const float *B, int ldb, float beta, float *C,
                        int ldc, float *work)
{
    if (m <= 0 || n <= 0) return;
    scale_c(C, ldc, m, n, beta);
    if (k <= 0 || alpha == 0) return;
    float *Ap = work, *Bp = work + pack_a_floats(uk, m, k);
    for (int p0 = 0; p0 < k; p0 += uk->kc) {
        const int kc = imin(k - p0, uk->kc);
        for (int j0 = 0; j0 < n; j0 += uk->nc) {
            const int nc = imin(n - j0, uk->nc);
            pack_b(Bp, uk->nr, trans_b, B, ldb, p0, j0, kc, nc);
            for (int i0 = 0; i0 < m; i0 += uk->mc) {
                const int mc = imin(m - i0, uk->mc);
                pack_a(Ap, uk->mr, trans_a, A, lda, i0, p0, mc, kc, alpha);
                gemm_tiles(uk, Ap, Bp, mc, nc, kc, C + (long)i0 * ldc + j0,
                           ldc);
            }
        }
    }
}

/* ---- products with A packed once ---------------------------------------
 * The whole of A as onyx_sgemm_blocked would pack it block by block: for
 * each KC-deep slice p0 (at p0 * round_up(m, MR) floats), its rows in
 * panels of (kc, MR). The product then packs only B, and is the blocked
 * one's with alpha 1 and beta 0, tile for tile. */

size_t onyx_gemm_pack_a_floats(int m, int k)
{
    if (m <= 0 || k <= 0) return 0;
    return (size_t)round_up(m, gemm_uk->mr) * (size_t)k;
}

void onyx_gemm_pack_a(float *Ap, int m, int k, const float *A, int lda)
{
    const int mp = round_up(m, gemm_uk->mr);
    for (int p0 = 0; p0 < k; p0 += gemm_uk->kc)
        pack_a(Ap + (size_t)p0 * mp, gemm_uk->mr, 0, A, lda, 0, p0, m,
               imin(k - p0, gemm_uk->kc), 1.0f);
}

size_t onyx_gemm_prepacked_scratch_bytes(int n, int k)
{
    if (n <= 0 || k <= 0) return 0;
    return (size_t)imin(round_up(n, gemm_uk->nr), gemm_uk->nc) *
           (size_t)imin(k, gemm_uk->kc) * sizeof(float);
}

int onyx_gemm_prepacked_cols(void)
{
    return gemm_uk->nr;
}

void onyx_gemm_prepacked(int m, int n, int k, const float *Ap, const float *B,
                         int ldb, float *C, int ldc, float *work)
{
    onyx_gemm_prepacked_band(m, 0, m, n, k, Ap, B, ldb, C, ldc, work);
}

int onyx_gemm_prepacked_rows(void)
{
    return gemm_uk->mr;
}

void onyx_gemm_prepacked_band(int m, int r0, int r1, int n, int k,
                              const float *Ap, const float *B, int ldb,
                              float *C, int ldc, float *work)
{
    if (r1 <= r0 || n <= 0) return;
    C += (long)r0 * ldc;
    scale_c(C, ldc, r1 - r0, n, 0.0f);
    const onyx_gemm_ukernel *uk = gemm_uk;
    const int mp = round_up(m, uk->mr);
    for (int p0 = 0; p0 < k; p0 += uk->kc) {
        const int kc = imin(k - p0, uk->kc);
        for (int j0 = 0; j0 < n; j0 += uk->nc) {
            const int nc = imin(n - j0, uk->nc);
            pack_b(work, uk->nr, 0, B, ldb, p0, j0, kc, nc);
            for (int i0 = r0; i0 < r1; i0 += uk->mc)
                gemm_tiles(uk, Ap + (size_t)p0 * mp + (size_t)i0 * kc, work,
                           imin(r1 - i0, uk->mc), nc, kc,
                           C + (long)(i0 - r0) * ldc + j0, ldc);
        }
    }
}

/* Whether a product of these sizes may take the packed path (for some
 * transposition): then it needs the pack buffers. Measured: the axpy rows
 * of onyx_sgemm_rows beat packing up to ~16 rows of C, the dot products
 * (transposed B) only for a few. */
static int gemm_packs(int m, int n, int k)
{
    return m >= 4 && k >= 4 && (long)m * n * k >= 4096;
}

size_t onyx_sgemm_scratch_bytes(int m, int n, int k)
{
    if (m <= 0 || n <= 0 || !gemm_packs(m, n, k)) return 0;
    return onyx_gemm_pack_floats(gemm_uk, m, n, k) * sizeof(float);
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

onyx_threads *onyx_gemm_pool(void)
{
    return sgemm_rt_thread ? NULL : onyx_threads_current();
}

/* ---- the blocked product on the calling thread's pool ----------------
 * C is cut into as many bands as the pool has threads, at tile boundaries,
 * each band a blocked product of its own with the same k slices: every
 * tile of C sees the same sums in the same order as with one thread. The
 * bands are rows of C when it is taller than wide (every thread packs all
 * of op(B), the smaller operand, and its rows of op(A)), else columns. */
typedef struct sgemm_split {
    int trans_a, trans_b, m, n, k;
    float alpha, beta;
    const float *A, *B;
    int lda, ldb, ldc;
    float *C, *work; /* work: the caller's, for part 0 */
    int by_rows, unit, units, parts;
} sgemm_split;

/* products below this many multiply-adds run alone: waking a worker and
 * waiting for it costs a few microseconds */
#define SPLIT_MIN_MNK (1 << 18)

static void sgemm_band(void *ctx, int part, void *work)
{
    const sgemm_split *s = ctx;
    int lo, hi;
    onyx_threads_range(part, s->parts, s->units, &lo, &hi);
    const int end = s->by_rows ? s->m : s->n;
    const int r0 = lo * s->unit, r1 = imin(hi * s->unit, end);
    if (r0 >= r1) return;
    float *w = work ? work : s->work;
    if (s->by_rows) {
        const float *A = s->trans_a ? s->A + r0 : s->A + (long)r0 * s->lda;
        onyx_sgemm_blocked(gemm_uk, s->trans_a, s->trans_b, r1 - r0, s->n, s->k,
                           s->alpha, A, s->lda, s->B, s->ldb, s->beta,
                           s->C + (long)r0 * s->ldc, s->ldc, w);
    } else {
        const float *B = s->trans_b ? s->B + (long)r0 * s->ldb : s->B + r0;
        onyx_sgemm_blocked(gemm_uk, s->trans_a, s->trans_b, s->m, r1 - r0, s->k,
                           s->alpha, s->A, s->lda, B, s->ldb, s->beta,
                           s->C + r0, s->ldc, w);
    }
}

/* The blocked product split over pool t when it is worth it; 1 when done. */
static int sgemm_blocked_split(onyx_threads *t, int trans_a, int trans_b, int m,
                               int n, int k, float alpha, const float *A,
                               int lda, const float *B, int ldb, float beta,
                               float *C, int ldc, float *work)
{
    const int parts = onyx_threads_count(t);
    if (parts < 2 || (double)m * n * k < SPLIT_MIN_MNK) return 0;
    sgemm_split s = {trans_a, trans_b, m,   n, k,    alpha, beta, A, B,
                     lda,     ldb,     ldc, C, work, m > n, 0,    0, parts};
    s.unit = s.by_rows ? gemm_uk->mr : gemm_uk->nr;
    s.units = ((s.by_rows ? m : n) + s.unit - 1) / s.unit;
    if (s.units < parts) return 0;
    onyx_threads_run(t, sgemm_band, &s, parts);
    return 1;
}

/* The engine's own sgemm: a GEMV per row of C, or the blocked one with
 * gemm_uk (on the pool if there is one). */
static void sgemm_own(int trans_a, int trans_b, int m, int n, int k,
                      float alpha, const float *A, int lda, const float *B,
                      int ldb, float beta, float *C, int ldc, float *work)
{
    if (m <= 0 || n <= 0) return;
    if (gemm_packs(m, n, k) && m >= (trans_b ? 4 : 16) && work) {
        onyx_threads *t = onyx_gemm_pool();
        if (t && sgemm_blocked_split(t, trans_a, trans_b, m, n, k, alpha, A,
                                     lda, B, ldb, beta, C, ldc, work))
            return;
        onyx_sgemm_blocked(gemm_uk, trans_a, trans_b, m, n, k, alpha, A, lda, B,
                           ldb, beta, C, ldc, work);
        return;
    }
    onyx_sgemm_rows(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C,
                    ldc);
}

#ifdef ONYX_USE_OPENBLAS
#include <cblas.h>

/* OpenBLAS's small-matrix path (taken up to M*N*K = 100^3 on AVX-512 CPUs)
 * calls malloc on every call, and eval must never allocate (the real-time
 * contract; tests/unit/test_runtime.c checks it). Those sizes run on the
 * engine's own kernel, which is quick there; larger ones go to cblas_sgemm,
 * except on a thread marked real-time (its locks), and unless the engine's
 * micro-kernel is the faster (gemm_uk_beats_blas) and BLAS may use only one
 * thread (else it runs on the pool, when there is one). */
#define OPENBLAS_MIN_MNK 1.0e6

#include <stdatomic.h>

/* onyx_blas_threads' n: set by the caller's thread, read in eval */
static atomic_int sgemm_blas_threads = 1;

void onyx_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
                const float *A, int lda, const float *B, int ldb, float beta,
                float *C, int ldc, float *work)
{
    if (m <= 0 || n <= 0) return;
    if (onyx_sgemm_vector(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb,
                          beta, C, ldc))
        return;
    if (k <= 0 || (double)m * n * k <= OPENBLAS_MIN_MNK || sgemm_rt_thread ||
        (gemm_uk_beats_blas && work &&
         (onyx_gemm_pool() ||
          atomic_load_explicit(&sgemm_blas_threads, memory_order_relaxed) ==
              1))) {
        sgemm_own(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C,
                  ldc, work);
        return;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, A, lda, B,
                ldb, beta, C, ldc);
}

void onyx_blas_threads(int n)
{
    n = n < 1 ? 1 : n;
    atomic_store_explicit(&sgemm_blas_threads, n, memory_order_relaxed);
    openblas_set_num_threads(n);
}

#else

void onyx_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
                const float *A, int lda, const float *B, int ldb, float beta,
                float *C, int ldc, float *work)
{
    if (m <= 0 || n <= 0) return;
    if (onyx_sgemm_vector(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb,
                          beta, C, ldc))
        return;
    sgemm_own(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc,
              work);
}

void onyx_blas_threads(int n)
{
    (void)n;
}

#endif
