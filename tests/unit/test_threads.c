/* test_threads.c - the thread pool (kernels/math/threadpool.c) and the products
 * and convolutions split over it: every part runs once, and the results
 * with 2 and 3 threads are bit-identical to one thread's and match a plain
 * reference. */
#include "../../kernels/math/gemm.h"
#include "../../kernels/math/threadpool.h"
#include "ktest.h"

#include <check.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char msg[256];

/* ---- the pool ---- */

typedef struct count_job {
    atomic_int runs[64];
    atomic_int on_caller; /* parts run with work NULL */
    atomic_int with_pool; /* parts that saw a current pool: none should */
} count_job;

static void count_part(void *ctx, int part, void *work)
{
    count_job *j = ctx;
    atomic_fetch_add(&j->runs[part], 1);
    if (!work) atomic_fetch_add(&j->on_caller, 1);
    if (onyx_threads_current()) atomic_fetch_add(&j->with_pool, 1);
}

START_TEST(pool_runs_every_part_once)
{
    ck_assert_ptr_null(onyx_threads_new(1));
    ck_assert_int_eq(onyx_threads_count(NULL), 1);
    onyx_threads_free(NULL);
    for (int n = 2; n <= 3; n++) {
        onyx_threads *t = onyx_threads_new(n);
        ck_assert_ptr_nonnull(t);
        ck_assert_int_eq(onyx_threads_count(t), n);
        /* many jobs back to back, and some after the workers fell asleep */
        for (int rep = 0; rep < 2000; rep++) {
            int parts = 1 + rep % 40;
            count_job j;
            memset(&j, 0, sizeof j);
            onyx_threads_run(t, count_part, &j, parts);
            for (int p = 0; p < 64; p++)
                ck_assert_int_eq(atomic_load(&j.runs[p]), p < parts);
            /* the caller claims at least part 0 unless a worker took it */
            ck_assert_int_le(atomic_load(&j.on_caller), parts);
            /* a part runs with no current pool, wherever it runs */
            ck_assert_int_eq(atomic_load(&j.with_pool), 0);
            if (rep % 500 == 499) {
                struct timespec ts = {0, 2000000}; /* 2 ms: they sleep */
                nanosleep(&ts, NULL);
            }
        }
        onyx_threads_free(t);
    }
}
END_TEST

START_TEST(pool_range_splits_evenly)
{
    int lo, hi, total = 0;
    for (int p = 0; p < 3; p++) {
        onyx_threads_range(p, 3, 10, &lo, &hi);
        ck_assert_int_eq(lo, total);
        ck_assert_int_ge(hi - lo, 3);
        ck_assert_int_le(hi - lo, 4);
        total = hi;
    }
    ck_assert_int_eq(total, 10);
}
END_TEST

START_TEST(pool_current_and_realtime)
{
    onyx_threads *t = onyx_threads_new(2);
    ck_assert_ptr_null(onyx_threads_enter(t));
    ck_assert_ptr_eq(onyx_threads_current(), t);
    ck_assert_ptr_eq(onyx_gemm_pool(), t);
    /* the audio thread (marked real-time) never uses the pool */
    int was = onyx_sgemm_realtime(1);
    ck_assert_ptr_null(onyx_gemm_pool());
    onyx_sgemm_realtime(was);
    ck_assert_ptr_eq(onyx_threads_enter(NULL), t);
    onyx_threads_free(t);
}
END_TEST

/* ---- products ---- */

static float *random_floats(size_t n, unsigned seed)
{
    float *v = malloc(n * sizeof *v + 4);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        v[i] = (float)(seed >> 8) / 8388608.0f - 1.0f;
    }
    return v;
}

/* C (m, n) = alpha * op(A) @ op(B) + beta * C in double */
static void sgemm_ref(int ta, int tb, int m, int n, int k, float alpha,
                      const float *A, int lda, const float *B, int ldb,
                      float beta, float *C, int ldc)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int p = 0; p < k; p++)
                s += (double)(ta ? A[p * lda + i] : A[i * lda + p]) *
                     (tb ? B[j * ldb + p] : B[p * ldb + j]);
            C[i * ldc + j] = (float)(alpha * s + beta * C[i * ldc + j]);
        }
}

static void expect_near(const float *got, const float *want, size_t n,
                        float tol)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(fabsf(got[i] - want[i]) <= tol * (1 + fabsf(want[i])),
                      "element %zu: %g, want %g", i, got[i], want[i]);
}

/* onyx_sgemm on the calling thread's pool t (NULL: alone) */
static void sgemm_with(onyx_threads *t, int ta, int tb, int m, int n, int k,
                       float alpha, const float *A, int lda, const float *B,
                       int ldb, float beta, float *C, int ldc)
{
    void *work = NULL;
    size_t wb = onyx_sgemm_scratch_bytes(m, n, k);
    if (wb) work = aligned_alloc(64, (wb + 63) / 64 * 64);
    onyx_threads *was = onyx_threads_enter(t);
    onyx_sgemm(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, work);
    onyx_threads_enter(was);
    free(work);
}

START_TEST(sgemm_threads_bit_identical)
{
    /* tall and wide, edge tiles, every transposition, alpha and beta; a few
     * rows (onyx_sgemm_rows, split by columns: 1000 and 517 are no whole
     * number of vectors) */
    static const int sizes[][3] = {{70, 90, 50},   {131, 77, 300},
                                   {33, 700, 40},  {600, 20, 64},
                                   {3, 1000, 100}, {12, 517, 80}};
    onyx_threads *pools[2] = {onyx_threads_new(2), onyx_threads_new(3)};
    for (int s = 0; s < (int)(sizeof sizes / sizeof *sizes); s++)
        for (int tr = 0; tr < 4; tr++) {
            const int m = sizes[s][0], n = sizes[s][1], k = sizes[s][2];
            const int ta = tr & 1, tb = tr >> 1;
            const int lda = ta ? m : k, ldb = tb ? k : n;
            float *A = random_floats((size_t)m * k, 1 + s);
            float *B = random_floats((size_t)k * n, 7 + s);
            float *C0 = random_floats((size_t)m * n, 11);
            float *C1 = malloc((size_t)m * n * sizeof *C1);
            float *R = malloc((size_t)m * n * sizeof *R);
            memcpy(R, C0, (size_t)m * n * sizeof *R);
            sgemm_ref(ta, tb, m, n, k, 0.5f, A, lda, B, ldb, 0.25f, R, n);
            float *C = malloc((size_t)m * n * sizeof *C);
            memcpy(C, C0, (size_t)m * n * sizeof *C);
            sgemm_with(NULL, ta, tb, m, n, k, 0.5f, A, lda, B, ldb, 0.25f, C,
                       n);
            expect_near(C, R, (size_t)m * n, 1e-4f);
            for (int t = 0; t < 2; t++) {
                memcpy(C1, C0, (size_t)m * n * sizeof *C1);
                sgemm_with(pools[t], ta, tb, m, n, k, 0.5f, A, lda, B, ldb,
                           0.25f, C1, n);
                ck_assert_msg(!memcmp(C, C1, (size_t)m * n * sizeof *C),
                              "%dx%dx%d trans %d%d, %d threads differ", m, n, k,
                              ta, tb, t + 2);
            }
            free(A);
            free(B);
            free(C0);
            free(C1);
            free(C);
            free(R);
        }
    onyx_threads_free(pools[0]);
    onyx_threads_free(pools[1]);
}
END_TEST

START_TEST(gemm_packed_threads_bit_identical)
{
    /* several rows; one row (the batch-1 product); a last panel of 2 */
    static const int sizes[][3] = {{7, 300, 200}, {1, 1000, 300}, {5, 98, 700}};
    onyx_threads *pools[2] = {onyx_threads_new(2), onyx_threads_new(3)};
    for (int s = 0; s < 3; s++) {
        const int m = sizes[s][0], n = sizes[s][1], k = sizes[s][2];
        float *A = random_floats((size_t)m * k, 3 + s);
        float *W = random_floats((size_t)k * n, 5 + s);
        float *P =
            aligned_alloc(64, (onyx_gemv_pack_floats(n, k) * 4 + 63) / 64 * 64);
        onyx_gemv_pack(P, 0, W, n, n, k);
        float *C0 = random_floats((size_t)m * n, 13);
        float *R = malloc((size_t)m * n * sizeof *R);
        memcpy(R, C0, (size_t)m * n * sizeof *R);
        sgemm_ref(0, 0, m, n, k, 1.0f, A, k, W, n, 1.0f, R, n);
        float *C = malloc((size_t)m * n * sizeof *C);
        memcpy(C, C0, (size_t)m * n * sizeof *C);
        onyx_gemm_packed(m, n, k, 1.0f, A, k, P, 1.0f, C, n);
        expect_near(C, R, (size_t)m * n, 1e-4f);
        for (int t = 0; t < 2; t++) {
            float *C1 = malloc((size_t)m * n * sizeof *C1);
            memcpy(C1, C0, (size_t)m * n * sizeof *C1);
            onyx_threads *was = onyx_threads_enter(pools[t]);
            onyx_gemm_packed(m, n, k, 1.0f, A, k, P, 1.0f, C1, n);
            onyx_threads_enter(was);
            ck_assert_msg(!memcmp(C, C1, (size_t)m * n * sizeof *C),
                          "%dx%dx%d, %d threads differ", m, n, k, t + 2);
            free(C1);
        }
        free(A);
        free(W);
        free(P);
        free(C0);
        free(C);
        free(R);
    }
    onyx_threads_free(pools[0]);
    onyx_threads_free(pools[1]);
}
END_TEST

/* ---- convolutions ---- */

/* op (Conv or ConvTranspose) of x (1, C, L or HxW) by w (M, C, K... or
 * C, M, K...), pads 1, on pool t: the output (caller frees) */
static float *conv_with(onyx_threads *t, const char *op, int rank,
                        const int64_t *xd, const float *x, const int64_t *wd,
                        const float *w, int64_t group)
{
    onyx_tensor X = kt_tensor(ONYX_FLOAT, rank, xd, x);
    onyx_tensor W = kt_tensor(ONYX_FLOAT, rank, wd, w);
    onyx_tensor out[1];
    int64_t pads[4] = {1, 1, 1, 1};
    onyx_attr at[] = {KT_INTS("pads", 2 * (rank - 2), pads),
                      KT_INT("group", group)};
    onyx_threads *was = onyx_threads_enter(t);
    onyx_status st =
        kt_run(op, 13, at, 2, (onyx_tensor *[]){&X, &W}, 2, out, 1, msg);
    onyx_threads_enter(was);
    ck_assert_msg(st == ONYX_OK, "%s", msg);
    float *y = out[0].data;
    out[0].data = NULL;
    kt_free(out, 1);
    return y;
}

START_TEST(conv_threads_bit_identical)
{
    /* 2-D (16 -> 32 channels, 3x3, 32x32: direct), 1-D with many channels
     * (the packed path), 1-D depthwise, 1-D Winograd (250 tiles, not a
     * whole number of tile columns; 50 rows; 3 taps, and 9 taps in three
     * triples on 96 channels: deeper than one packed slice) */
    static const struct {
        const char *op;
        int rank;
        int64_t xd[4], wd[4], group;
    } cases[] = {
        {"Conv", 4, {1, 16, 32, 32}, {32, 16, 3, 3}, 1},
        {"Conv", 3, {1, 128, 64}, {128, 128, 3}, 1},
        {"Conv", 3, {1, 64, 4096}, {64, 1, 3}, 64},
        {"Conv", 3, {1, 64, 1000}, {50, 64, 3}, 1},
        {"Conv", 3, {1, 96, 1004}, {50, 96, 9}, 1},
        /* Winograd whose transformed weights (675 KB) split the products
         * by output channels: 100 of them, not whole panels */
        {"Conv", 3, {1, 96, 600}, {100, 96, 9}, 1},
        /* im2col of 121 channels (too many rows, 1089, for the 2-D direct
         * path), col2im of 25 a group: uneven bands */
        {"Conv", 4, {1, 121, 20, 36}, {8, 121, 3, 3}, 1},
        {"ConvTranspose", 3, {1, 32, 1000}, {32, 25, 4}, 2},
    };
    onyx_threads *pools[2] = {onyx_threads_new(2), onyx_threads_new(3)};
    for (int c = 0; c < (int)(sizeof cases / sizeof *cases); c++) {
        const int rank = cases[c].rank;
        const int tr = cases[c].op[4] == 'T';
        int64_t nx = 1, nw = 1;
        int64_t ny = tr ? cases[c].wd[1] * cases[c].group : cases[c].wd[0];
        for (int d = 0; d < rank; d++) {
            nx *= cases[c].xd[d];
            nw *= cases[c].wd[d];
        }
        for (int d = 2; d < rank; d++)
            ny *= tr ? cases[c].xd[d] - 1 + cases[c].wd[d] - 2
                     : cases[c].xd[d] + 2 - cases[c].wd[d] + 1;
        float *x = random_floats((size_t)nx, 17 + c);
        float *w = random_floats((size_t)nw, 19 + c);
        float *y = conv_with(NULL, cases[c].op, rank, cases[c].xd, x,
                             cases[c].wd, w, cases[c].group);
        for (int t = 0; t < 2; t++) {
            float *yt = conv_with(pools[t], cases[c].op, rank, cases[c].xd, x,
                                  cases[c].wd, w, cases[c].group);
            ck_assert_msg(!memcmp(y, yt, (size_t)ny * sizeof *y),
                          "case %d, %d threads differ", c, t + 2);
            free(yt);
        }
        free(x);
        free(w);
        free(y);
    }
    onyx_threads_free(pools[0]);
    onyx_threads_free(pools[1]);
}
END_TEST

/* ---- Gemm's bias ---- */

/* Gemm of a (m, k) by b (k, n) plus c (m, n), beta 0.5, on pool t: Y
 * (caller frees) */
static float *gemm_op_with(onyx_threads *t, int m, int n, int k, const float *a,
                           const float *b, const float *c)
{
    onyx_tensor A = kt_tensor(ONYX_FLOAT, 2, (int64_t[]){m, k}, a);
    onyx_tensor B = kt_tensor(ONYX_FLOAT, 2, (int64_t[]){k, n}, b);
    onyx_tensor C = kt_tensor(ONYX_FLOAT, 2, (int64_t[]){m, n}, c);
    onyx_tensor out[1];
    onyx_attr at[] = {KT_FLOAT("beta", 0.5f)};
    onyx_threads *was = onyx_threads_enter(t);
    onyx_status st = kt_run("Gemm", 13, at, 1, (onyx_tensor *[]){&A, &B, &C}, 3,
                            out, 1, msg);
    onyx_threads_enter(was);
    ck_assert_msg(st == ONYX_OK, "%s", msg);
    float *y = out[0].data;
    out[0].data = NULL;
    kt_free(out, 1);
    return y;
}

START_TEST(gemm_bias_threads_bit_identical)
{
    /* 301 rows of C copied in uneven bands, then the product onto them */
    const int m = 301, n = 257, k = 8;
    float *a = random_floats((size_t)m * k, 23);
    float *b = random_floats((size_t)k * n, 29);
    float *c = random_floats((size_t)m * n, 31);
    float *y = gemm_op_with(NULL, m, n, k, a, b, c);
    for (int nt = 2; nt <= 3; nt++) {
        onyx_threads *t = onyx_threads_new(nt);
        float *yt = gemm_op_with(t, m, n, k, a, b, c);
        ck_assert_msg(!memcmp(y, yt, (size_t)m * n * sizeof *y),
                      "%d threads differ", nt);
        free(yt);
        onyx_threads_free(t);
    }
    free(a);
    free(b);
    free(c);
    free(y);
}
END_TEST

/* ---- batched MatMul ---- */

/* MatMul of a (ad) by b (bd), both rank 4, on pool t: Y (caller frees) */
static float *matmul_with(onyx_threads *t, const int64_t *ad, const float *a,
                          const int64_t *bd, const float *b)
{
    onyx_tensor A = kt_tensor(ONYX_FLOAT, 4, ad, a);
    onyx_tensor B = kt_tensor(ONYX_FLOAT, 4, bd, b);
    onyx_tensor out[1];
    onyx_threads *was = onyx_threads_enter(t);
    onyx_status s = kt_run("MatMul", 13, NULL, 0, (onyx_tensor *[]){&A, &B}, 2,
                           out, 1, msg);
    onyx_threads_enter(was);
    ck_assert_msg(s == ONYX_OK, "%s", msg);
    float *y = out[0].data;
    out[0].data = NULL;
    kt_free(out, 1);
    return y;
}

START_TEST(matmul_batches_threads_bit_identical)
{
    /* 7 batches; 3 x 5 broadcast ones (a band starts mid-odometer) */
    static const struct {
        int64_t ad[4], bd[4];
    } cases[] = {{{1, 7, 40, 48}, {1, 7, 48, 45}},
                 {{3, 1, 40, 48}, {1, 5, 48, 45}}};
    onyx_threads *pools[2] = {onyx_threads_new(2), onyx_threads_new(3)};
    for (int c = 0; c < 2; c++) {
        const int64_t *ad = cases[c].ad, *bd = cases[c].bd;
        const size_t na = (size_t)(ad[0] * ad[1] * ad[2] * ad[3]),
                     nb = (size_t)(bd[0] * bd[1] * bd[2] * bd[3]);
        const size_t ny =
            (size_t)((ad[0] > bd[0] ? ad[0] : bd[0]) *
                     (ad[1] > bd[1] ? ad[1] : bd[1]) * ad[2] * bd[3]);
        float *a = random_floats(na, 41 + c), *b = random_floats(nb, 43 + c);
        float *y = matmul_with(NULL, ad, a, bd, b);
        for (int t = 0; t < 2; t++) {
            float *yt = matmul_with(pools[t], ad, a, bd, b);
            ck_assert_msg(!memcmp(y, yt, ny * sizeof *y),
                          "case %d, %d threads differ", c, t + 2);
            free(yt);
        }
        free(a);
        free(b);
        free(y);
    }
    onyx_threads_free(pools[0]);
    onyx_threads_free(pools[1]);
}
END_TEST

/* ---- pools ---- */

/* op (AveragePool or MaxPool) of x (1, C, L or HxW), kernel 3 and stride 2
 * on every axis, on pool t: Y (caller frees) */
static float *pool_with(onyx_threads *t, const char *op, int rank,
                        const int64_t *xd, const float *x)
{
    onyx_tensor X = kt_tensor(ONYX_FLOAT, rank, xd, x);
    onyx_tensor out[1];
    int64_t k[2] = {3, 3}, st[2] = {2, 2};
    onyx_attr at[] = {KT_INTS("kernel_shape", rank - 2, k),
                      KT_INTS("strides", rank - 2, st)};
    onyx_threads *was = onyx_threads_enter(t);
    onyx_status s =
        kt_run(op, 13, at, 2, (onyx_tensor *[]){&X}, 1, out, 1, msg);
    onyx_threads_enter(was);
    ck_assert_msg(s == ONYX_OK, "%s", msg);
    float *y = out[0].data;
    out[0].data = NULL;
    kt_free(out, 1);
    return y;
}

START_TEST(pool_threads_bit_identical)
{
    /* 37 and 9 planes: uneven bands */
    static const struct {
        const char *op;
        int rank;
        int64_t xd[4];
    } cases[] = {{"AveragePool", 3, {1, 37, 2001}},
                 {"MaxPool", 4, {1, 9, 91, 90}}};
    onyx_threads *t = onyx_threads_new(2);
    for (int c = 0; c < 2; c++) {
        int64_t nx = 1, ny = cases[c].xd[1];
        for (int d = 0; d < cases[c].rank; d++)
            nx *= cases[c].xd[d];
        for (int d = 2; d < cases[c].rank; d++)
            ny *= (cases[c].xd[d] - 3) / 2 + 1;
        float *x = random_floats((size_t)nx, 37 + c);
        float *y = pool_with(NULL, cases[c].op, cases[c].rank, cases[c].xd, x);
        float *yt = pool_with(t, cases[c].op, cases[c].rank, cases[c].xd, x);
        ck_assert_msg(!memcmp(y, yt, (size_t)ny * sizeof *y), "%s differs",
                      cases[c].op);
        free(x);
        free(y);
        free(yt);
    }
    onyx_threads_free(t);
}
END_TEST

static Suite *threads_suite(void)
{
    Suite *s = suite_create("threads");
    TCase *p = tcase_create("pool");
    tcase_set_timeout(p, 60);
    tcase_add_test(p, pool_runs_every_part_once);
    tcase_add_test(p, pool_range_splits_evenly);
    tcase_add_test(p, pool_current_and_realtime);
    suite_add_tcase(s, p);
    TCase *k = tcase_create("kernels");
    tcase_set_timeout(k, 60);
    tcase_add_test(k, sgemm_threads_bit_identical);
    tcase_add_test(k, gemm_packed_threads_bit_identical);
    tcase_add_test(k, conv_threads_bit_identical);
    tcase_add_test(k, gemm_bias_threads_bit_identical);
    tcase_add_test(k, pool_threads_bit_identical);
    tcase_add_test(k, matmul_batches_threads_bit_identical);
    suite_add_tcase(s, k);
    return s;
}

int main(void)
{
    Suite *s = threads_suite();
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int f = srunner_ntests_failed(r);
    srunner_free(r);
    return f ? 1 : 0;
}
