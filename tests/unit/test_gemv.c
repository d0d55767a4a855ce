/* test_gemv.c - the packed matrix-vector micro-kernels (kernels/arch):
 * every variant this CPU runs against the portable reference, on edge
 * sizes (partial last panels, k not a multiple of 4, one column). */
#include "../../kernels/arch/gemv_arch.h"
#include "../../kernels/gemv.h"

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

int main(void)
{
    Suite *s = suite_create("gemv");
    TCase *tc = tcase_create("gemv");
    tcase_add_test(tc, variants_match_reference);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int f = srunner_ntests_failed(r);
    srunner_free(r);
    return f ? 1 : 0;
}
