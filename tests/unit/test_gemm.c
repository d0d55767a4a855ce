/* test_gemm.c - the sgemm micro-kernels (kernels/arch/) and the blocked
 * driver: every micro-kernel this machine can run, on a hand-checked tile,
 * then through onyx_sgemm_blocked on shapes that cut every block edge,
 * against the definition and against the portable reference. */
#include "../../kernels/math/gemm.h"
#include "../../kernels/math/gemm_ukernel.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const onyx_gemm_ukernel *uks[8];
static int n_uks;

static void setup(void)
{
    n_uks = onyx_gemm_ukernels(uks, 8);
}

START_TEST(ukernel_list)
{
    /* the portable one first, and the chosen one (last) is native on ARM */
    ck_assert_int_ge(n_uks, 1);
    ck_assert_ptr_eq(uks[0], &onyx_f32_gemm_4x8_portable);
#if defined(__aarch64__)
    ck_assert_ptr_eq(uks[n_uks - 1], &onyx_f32_gemm_8x8_neonfma);
#elif defined(__arm__) && defined(__ARM_NEON)
    ck_assert_ptr_eq(uks[n_uks - 1], &onyx_f32_gemm_6x8_neon);
#endif
    for (int u = 0; u < n_uks; u++) {
        const onyx_gemm_ukernel *uk = uks[u];
        ck_assert_int_le(uk->mr * uk->nr, ONYX_GEMM_MAX_TILE);
        ck_assert_int_eq(uk->mc % uk->mr, 0);
        ck_assert_int_eq(uk->nc % uk->nr, 0);
    }
}
END_TEST

/* One k step: C[i][j] += a_i b_j with a = 1, 2, .., b = 1, 2, ..; then two
 * more steps whose products cancel: (a, b) and (-a, b). C starts at 100:
 * C[i][j] = 100 + (i + 1) (j + 1), exactly. The tile sits in a wider C
 * (ldc = nr + 3) whose other columns must stay 100. */
START_TEST(ukernel_hand_tile)
{
    for (int u = 0; u < n_uks; u++) {
        const onyx_gemm_ukernel *uk = uks[u];
        const int MR = uk->mr, NR = uk->nr, ldc = NR + 3;
        _Alignas(64) float Ap[3 * 16], Bp[3 * 32], C[16 * 35];
        for (int i = 0; i < MR; i++) {
            Ap[i] = (float)(i + 1);
            Ap[MR + i] = 0.5f * (float)(i + 3);
            Ap[2 * MR + i] = -0.5f * (float)(i + 3);
        }
        for (int j = 0; j < NR; j++)
            Bp[j] = Bp[NR + j] = Bp[2 * NR + j] = (float)(j + 1);
        for (int i = 0; i < MR * ldc; i++)
            C[i] = 100;
        uk->fn(3, Ap, Bp, C, ldc);
        for (int i = 0; i < MR; i++)
            for (int j = 0; j < ldc; j++) {
                float want =
                    j < NR ? 100.0f + (float)((i + 1) * (j + 1)) : 100.0f;
                ck_assert_msg(C[i * ldc + j] == want,
                              "%s: C[%d][%d] = %g, expected %g", uk->name, i, j,
                              C[i * ldc + j], want);
            }
    }
}
END_TEST

enum { LD = 320 };
static float A[LD * LD], B[LD * LD], C[LD * LD], Cref[LD * LD], R[LD * LD];

/* R = alpha op(A) op(B) + beta R (in double), the definition */
static void naive(int ta, int tb, int M, int N, int K, float alpha, float beta)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int p = 0; p < K; p++)
                s += (double)(ta ? A[p * LD + i] : A[i * LD + p]) *
                     (tb ? B[j * LD + p] : B[p * LD + j]);
            R[i * LD + j] =
                (float)(alpha * s + (beta == 0 ? 0 : beta * R[i * LD + j]));
        }
}

/* index of the first element of x not within tol of y (all LD*LD: those
 * outside the (M, N) block must be untouched), or -1 */
static int first_bad(const float *x, const float *y, float tol)
{
    for (int i = 0; i < LD * LD; i++)
        if (!(fabsf(x[i] - y[i]) <= tol * (1 + fabsf(y[i])))) return i;
    return -1;
}

/* Shapes for micro-kernel uk: the first crosses an MC block of rows and
 * ends in partial tiles; the second crosses an NC block of columns and a
 * KC slice, with few rows; the third is one partial tile. */
static void shapes(const onyx_gemm_ukernel *uk, int sz[3][3])
{
    int a[3][3] = {{uk->mc + uk->mr + 1, 2 * uk->nr + 3, 9},
                   {2 * uk->mr - 1, uk->nc + uk->nr + 5, uk->kc + 7},
                   {uk->mr - 1 > 0 ? uk->mr - 1 : 1, uk->nr - 1, 5}};
    memcpy(sz, a, sizeof a);
}

START_TEST(blocked_matches_naive_and_portable)
{
    for (int i = 0; i < LD * LD; i++) {
        A[i] = (float)((i * 7) % 13) - 6;
        B[i] = (float)((i * 5) % 11) * 0.25f - 1;
    }
    for (int u = 0; u < n_uks; u++) {
        const onyx_gemm_ukernel *uk = uks[u];
        int sz[3][3];
        shapes(uk, sz);
        for (int s = 0; s < 3; s++) {
            const int M = sz[s][0], N = sz[s][1], K = sz[s][2];
            ck_assert(M <= LD && N <= LD && K <= LD);
            size_t wf = onyx_gemm_pack_floats(uk, M, N, K),
                   wr = onyx_gemm_pack_floats(uks[0], M, N, K);
            float *work =
                aligned_alloc(64, ((wf > wr ? wf : wr) * 4 + 63) / 64 * 64);
            ck_assert_ptr_nonnull(work);
            for (int ta = 0; ta < 2; ta++)
                for (int tb = 0; tb < 2; tb++)
                    for (int bi = 0; bi < 3; bi++) {
                        const float alpha = bi == 2 ? -0.5f : 1.0f;
                        const float beta = bi == 0   ? 0.0f
                                           : bi == 1 ? 1.0f
                                                     : 2.0f;
                        for (int i = 0; i < LD * LD; i++)
                            /* NaN where beta == 0 must overwrite */
                            C[i] = Cref[i] = R[i] =
                                beta == 0 && i / LD < M && i % LD < N
                                    ? NAN
                                    : (float)(i % 5);
                        naive(ta, tb, M, N, K, alpha, beta);
                        onyx_sgemm_blocked(uk, ta, tb, M, N, K, alpha, A, LD, B,
                                           LD, beta, C, LD, work);
                        onyx_sgemm_blocked(uks[0], ta, tb, M, N, K, alpha, A,
                                           LD, B, LD, beta, Cref, LD, work);
                        int bad = first_bad(C, R, 1e-5f);
                        ck_assert_msg(bad < 0,
                                      "%s %dx%dx%d ta %d tb %d alpha %g beta "
                                      "%g: C[%d] = %g, expected %g",
                                      uk->name, M, N, K, ta, tb, alpha, beta,
                                      bad, bad < 0 ? 0 : C[bad],
                                      bad < 0 ? 0 : R[bad]);
                        bad = first_bad(C, Cref, 1e-5f);
                        ck_assert_msg(bad < 0,
                                      "%s vs portable %dx%dx%d ta %d tb %d: "
                                      "C[%d] = %g, portable %g",
                                      uk->name, M, N, K, ta, tb, bad,
                                      bad < 0 ? 0 : C[bad],
                                      bad < 0 ? 0 : Cref[bad]);
                    }
            free(work);
        }
    }
}
END_TEST

/* onyx_sgemm itself: work space as asked for, and without it (NULL: the
 * unpacked loops) the same product. */
START_TEST(sgemm_work_or_none)
{
    static const int sizes[][3] = {{64, 48, 40}, {5, 200, 33}, {3, 7, 2}};
    for (int i = 0; i < LD * LD; i++) {
        A[i] = (float)((i * 3) % 7) - 3;
        B[i] = (float)((i * 5) % 9) - 4;
    }
    for (int s = 0; s < 3; s++) {
        const int M = sizes[s][0], N = sizes[s][1], K = sizes[s][2];
        size_t bytes = onyx_sgemm_scratch_bytes(M, N, K);
        float *work = bytes ? aligned_alloc(64, (bytes + 63) / 64 * 64) : NULL;
        ck_assert(!bytes || work);
        for (int tb = 0; tb < 2; tb++) {
            for (int i = 0; i < LD * LD; i++)
                C[i] = Cref[i] = R[i] = (float)(i % 3);
            naive(0, tb, M, N, K, 0.5f, -1.0f);
            onyx_sgemm(0, tb, M, N, K, 0.5f, A, LD, B, LD, -1.0f, C, LD, work);
            onyx_sgemm(0, tb, M, N, K, 0.5f, A, LD, B, LD, -1.0f, Cref, LD,
                       NULL);
            ck_assert_int_lt(first_bad(C, R, 1e-5f), 0);
            ck_assert_int_lt(first_bad(Cref, R, 1e-5f), 0);
        }
        free(work);
    }
    /* tiny products need none; bigger never need less; bounded */
    ck_assert_uint_eq(onyx_sgemm_scratch_bytes(3, 7, 2), 0);
    ck_assert_uint_eq(onyx_sgemm_scratch_bytes(1, 1000, 1000), 0);
    ck_assert_uint_gt(onyx_sgemm_scratch_bytes(64, 64, 64), 0);
    ck_assert_uint_le(onyx_sgemm_scratch_bytes(64, 64, 64),
                      onyx_sgemm_scratch_bytes(65, 64, 64));
    ck_assert_uint_le(onyx_sgemm_scratch_bytes(100000, 100000, 100000),
                      512 * 1024);
}
END_TEST

/* A packed once (onyx_gemm_pack_a), then onyx_gemm_prepacked: the blocked
 * product of the chosen micro-kernel (alpha 1, beta 0) bit for bit, on the
 * shapes above (partial tiles, an MC block, an NC block, a KC slice). */
START_TEST(prepacked_matches_blocked)
{
    const onyx_gemm_ukernel *uk = uks[n_uks - 1]; /* onyx_sgemm's */
    int sz[3][3];
    shapes(uk, sz);
    for (int i = 0; i < LD * LD; i++) {
        A[i] = (float)((i * 7) % 11) / 8 - 0.6f;
        B[i] = (float)((i * 5) % 13) / 8 - 0.7f;
    }
    for (int s = 0; s < 3; s++) {
        const int M = sz[s][0], N = sz[s][1], K = sz[s][2];
        float *Ap = aligned_alloc(
            64, (onyx_gemm_pack_a_floats(M, K) * sizeof(float) + 63) / 64 * 64);
        float *work = aligned_alloc(
            64, (onyx_gemm_pack_floats(uk, M, N, K) * sizeof(float) + 63) / 64 *
                    64);
        ck_assert(Ap && work);
        ck_assert_uint_le(onyx_gemm_prepacked_scratch_bytes(N, K),
                          onyx_gemm_pack_floats(uk, M, N, K) * sizeof(float));
        for (int i = 0; i < LD * LD; i++)
            C[i] = Cref[i] = (float)(i % 3); /* C is write-only */
        onyx_sgemm_blocked(uk, 0, 0, M, N, K, 1.0f, A, LD, B, LD, 0.0f, Cref,
                           LD, work);
        onyx_gemm_pack_a(Ap, M, K, A, LD);
        onyx_gemm_prepacked(M, N, K, Ap, B, LD, C, LD, work);
        ck_assert_msg(!memcmp(C, Cref, sizeof C), "%dx%dx%d differs", M, N, K);
        free(Ap);
        free(work);
    }
}
END_TEST

static Suite *gemm_suite(void)
{
    Suite *s = suite_create("gemm");
    TCase *t = tcase_create("ukernels");
    tcase_add_checked_fixture(t, setup, NULL);
    tcase_set_timeout(t, 60);
    tcase_add_test(t, ukernel_list);
    tcase_add_test(t, ukernel_hand_tile);
    tcase_add_test(t, blocked_matches_naive_and_portable);
    tcase_add_test(t, sgemm_work_or_none);
    tcase_add_test(t, prepacked_matches_blocked);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    Suite *s = gemm_suite();
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int f = srunner_ntests_failed(r);
    srunner_free(r);
    return f ? 1 : 0;
}
