/* test_gemv.c - the packed matrix-vector micro-kernels (kernels/arch):
 * every variant this CPU runs against the portable reference, on edge
 * sizes (partial last panels, k not a multiple of 4, one column). */
#include "../../kernels/arch/gemv_arch.h"
#include "../../kernels/math/gemv.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static float frand(unsigned *s)
{
    *s = *s * 1664525u + 1013904223u;
    return ((*s >> 8) / 16777216.0f) * 2 - 1;
}

START_TEST(variants_match_reference)
{
    static const int ns[] = {1, 3, 4, 5, 8, 12, 15, 16, 17, 24, 31, 32, 33, 96};
    static const int ks[] = {1, 2, 3, 4, 5, 8, 13, 32};
    const onyx_gemv_variant *v;
    int nv = onyx_gemv_variants(&v);
    unsigned seed = 7;
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++)
        for (size_t b = 0; b < sizeof ks / sizeof ks[0]; b++) {
            int n = ns[a], k = ks[b];
            float *W = malloc(sizeof(float) * n * k),
                  *x = malloc(sizeof(float) * k);
            float *P = malloc(sizeof(float) * onyx_gemv_pack_floats(n, k) + 64);
            float c[96], want[96], got[96];
            for (int i = 0; i < n * k; i++)
                W[i] = frand(&seed);
            for (int i = 0; i < k; i++)
                x[i] = frand(&seed);
            for (int i = 0; i < n; i++)
                c[i] = frand(&seed);
            onyx_gemv_pack(P, 1, W, k, n, k); /* W (n, k), a Linear's */
            for (int bi = 0; bi < 3; bi++) {
                float alpha = bi == 2 ? 0.5f : 1.0f;
                float beta = bi == 0 ? 0.0f : bi == 1 ? 1.0f : -2.0f;
                for (int j = 0; j < n; j++) { /* the definition */
                    double s = 0;
                    for (int p = 0; p < k; p++)
                        s += (double)x[p] * W[j * k + p];
                    want[j] =
                        (float)(alpha * s + (beta != 0 ? beta * c[j] : 0));
                }
                for (int q = 0; q < nv && n >= 4; q++) {
                    float ref[96];
                    v[0].fn(n, k, alpha, x, P, beta, c, ref);
                    memset(got, 0x7f, sizeof got);
                    v[q].fn(n, k, alpha, x, P, beta, c, got);
                    for (int j = 0; j < n; j++) {
                        if (!v[q].fused)
                            ck_assert_msg(got[j] == ref[j],
                                          "%s n=%d k=%d col %d: %g != %g",
                                          v[q].name, n, k, j, got[j], ref[j]);
                        ck_assert_msg(
                            fabsf(got[j] - want[j]) <= 1e-5f * (1 + k),
                            "%s n=%d k=%d col %d", v[q].name, n, k, j);
                    }
                }
                /* the public entry, with c apart and in place */
                onyx_gemv_packed_c(n, k, alpha, x, P, beta, c, got);
                for (int j = 0; j < n; j++)
                    ck_assert_msg(fabsf(got[j] - want[j]) <= 1e-5f * (1 + k),
                                  "packed_c n=%d k=%d col %d", n, k, j);
                memcpy(got, c, sizeof(float) * n);
                onyx_gemv_packed(n, k, alpha, x, P, beta, got);
                for (int j = 0; j < n; j++)
                    ck_assert_msg(fabsf(got[j] - want[j]) <= 1e-5f * (1 + k),
                                  "packed n=%d k=%d col %d", n, k, j);
            }
            free(W), free(x), free(P);
        }
}
END_TEST

/* ck_assert_msg reports every check to the runner; these loops make
 * millions: only a failure goes to it */
#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (!(cond)) ck_abort_msg(__VA_ARGS__);                                \
    } while (0)

/* The several-row products: every variant's rows function against the
 * definition (double sums), and each of its rows against that variant's
 * gemv of the same row (the same sums in the same order: equal, or within
 * rounding where the compiler may fuse differently); rows of A and C with
 * strides wider than the matrix, C's padding untouched. */
START_TEST(rows_match_gemv)
{
    static const int ms[] = {1, 2, 3, 4, 5, 7, 8, 9};
    static const int ns[] = {4, 5, 8, 13, 15, 16, 17, 31, 33, 64, 65, 70};
    static const int ks[] = {1, 3, 4, 17, 64};
    enum { LDA = 70, LDC = 80, MAXM = 9 };
    const onyx_gemv_variant *v;
    int nv = onyx_gemv_variants(&v);
    unsigned seed = 11;
    static float A[MAXM * LDA], C0[MAXM * LDC], got[MAXM * LDC], row[LDC];
    static double S[MAXM * LDC]; /* the products, in double */
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++)
        for (size_t b = 0; b < sizeof ks / sizeof ks[0]; b++) {
            const int n = ns[a], k = ks[b];
            float *W = malloc(sizeof(float) * n * k);
            float *P = malloc(sizeof(float) * onyx_gemv_pack_floats(n, k) + 64);
            for (int i = 0; i < n * k; i++)
                W[i] = frand(&seed);
            for (int i = 0; i < MAXM * LDA; i++)
                A[i] = frand(&seed);
            for (int i = 0; i < MAXM * LDC; i++)
                C0[i] = frand(&seed);
            onyx_gemv_pack(P, 0, W, n, n, k); /* W (k, n), a MatMul's B */
            for (int i = 0; i < MAXM; i++)
                for (int j = 0; j < n; j++) {
                    S[i * LDC + j] = 0;
                    for (int p = 0; p < k; p++)
                        S[i * LDC + j] += (double)A[i * LDA + p] * W[p * n + j];
                }
            for (size_t mi = 0; mi < sizeof ms / sizeof ms[0]; mi++)
                for (int bi = 0; bi < 3; bi++) {
                    const int m = ms[mi];
                    float alpha = bi == 2 ? 0.5f : 1.0f;
                    float beta = bi == 0 ? 0.0f : bi == 1 ? 1.0f : -2.0f;
                    for (int q = 0; q <= nv; q++) { /* nv: the public entry */
                        memcpy(got, C0, sizeof got);
                        if (q < nv)
                            v[q].rows(m, n, k, alpha, A, LDA, P, beta, got, LDC);
                        else
                            onyx_gemm_packed(m, n, k, alpha, A, LDA, P, beta,
                                             got, LDC);
                        const char *name = q < nv ? v[q].name : "public";
                        for (int i = 0; i < m; i++) {
                            const float *g = got + i * LDC;
                            if (q < nv) {
                                v[q].fn(n, k, alpha, A + i * LDA, P, beta,
                                        C0 + i * LDC, row);
                                for (int j = 0; j < n; j++)
                                    CHECK(
                                        v[q].fused ? fabsf(g[j] - row[j]) <=
                                                         1e-6f * (1 + k)
                                                   : g[j] == row[j],
                                        "%s rows m=%d n=%d k=%d (%d,%d): %g "
                                        "vs gemv %g",
                                        name, m, n, k, i, j, g[j], row[j]);
                            }
                            for (int j = 0; j < n; j++) {
                                float want = (float)(alpha * S[i * LDC + j] +
                                                     beta * C0[i * LDC + j]);
                                CHECK(fabsf(g[j] - want) <=
                                                  1e-5f * (1 + k),
                                              "%s m=%d n=%d k=%d (%d,%d)",
                                              name, m, n, k, i, j);
                            }
                            for (int j = n; j < LDC; j++)
                                CHECK(g[j] == C0[i * LDC + j],
                                              "%s wrote past n", name);
                        }
                        for (int i = m * LDC; i < MAXM * LDC; i++)
                            CHECK(got[i] == C0[i],
                                          "%s wrote past m", name);
                    }
                }
            free(W), free(P);
        }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gemv");
    TCase *tc = tcase_create("gemv");
    tcase_add_test(tc, variants_match_reference);
    tcase_add_test(tc, rows_match_gemv);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int f = srunner_ntests_failed(r);
    srunner_free(r);
    return f ? 1 : 0;
}
