/* test_rnn.c - RNN, GRU and LSTM: tiny hand-checked cases, error cases, and
 * larger random cases against a plain double-precision reference written
 * straight from the ONNX equations (below). */
#include "ktest.h"
#include "../../kernels/arch/gru_arch.h"
#include "../../kernels/arch/lstm_arch.h"

#include <check.h>
#include <math.h>
#include <stdio.h>

#define EPS 1e-5

static char msg[256];

static onyx_tensor T3(int64_t a, int64_t b, int64_t c, const float *d)
{
    return kt_tensor(ONYX_FLOAT, 3, (int64_t[]){a, b, c}, d);
}

static onyx_tensor T2(int64_t a, int64_t b, const float *d)
{
    return kt_tensor(ONYX_FLOAT, 2, (int64_t[]){a, b}, d);
}

static void check_close(const float *got, const double *want, int n, double tol)
{
    for (int i = 0; i < n; i++)
        ck_assert_msg(fabs(got[i] - want[i]) <= tol * (1 + fabs(want[i])),
                      "element %d: got %.9g, want %.9g", i, (double)got[i],
                      want[i]);
}

/* ---- hand-checked cases (numbers from the numpy lines in comments) ---- */

/* h1 = tanh(0.5*1 + 0.1 - 0.1) = tanh(0.5);  h2 = tanh(0.5*2 + 1*h1)
 * numpy: [0.46211715726000974, 0.8980630114608957] */
START_TEST(rnn_tanh_forward)
{
    float x[] = {1, 2}, w[] = {0.5f}, r[] = {1}, b[] = {0.1f, -0.1f};
    onyx_tensor X = T3(2, 1, 1, x), W = T3(1, 1, 1, w), R = T3(1, 1, 1, r),
                B = T2(1, 2, b);
    onyx_tensor out[2];
    onyx_attr at[] = {KT_INT("hidden_size", 1)};
    ck_assert_int_eq(kt_run("RNN", 7, at, 1, (onyx_tensor *[]){&X, &W, &R, &B},
                            4, out, 2, msg),
                     ONYX_OK);
    ck_assert_int_eq(out[0].rank, 4);
    ck_assert_int_eq(out[0].dims[0], 2);
    ck_assert_int_eq(out[1].rank, 3);
    check_close(out[0].data,
                (double[]){0.46211715726000974, 0.8980630114608957}, 2, EPS);
    check_close(out[1].data, (double[]){0.8980630114608957}, 1, EPS);
    kt_free(out, 2);
}
END_TEST

/* Bidirectional, one activation per direction, alphas consumed in order:
 * forward Affine(alpha 2, beta 1), reverse LeakyRelu(alpha 0.1).
 * X = [1, -2], W = 1, R = 0.5, no bias:
 *   forward  h0 = 2*(1 + 0)+1 = 3,   h1 = 2*(-2 + 1.5)+1 = 0
 *   reverse  h1 = lrelu(-2) = -0.2,  h0 = lrelu(1 - 0.1) = 0.9
 * Y [T=2, D=2, B=1, H=1] = [3, 0.9, 0, -0.2]; Y_h = [0, 0.9] */
START_TEST(rnn_bidirectional_activations)
{
    float x[] = {1, -2}, w[] = {1, 1}, r[] = {0.5f, 0.5f};
    onyx_tensor X = T3(2, 1, 1, x), W = T3(2, 1, 1, w), R = T3(2, 1, 1, r);
    const char *acts[] = {"Affine", "LeakyRelu"};
    float alpha[] = {2, 0.1f}, beta[] = {1};
    onyx_attr at[] = {KT_STRING("direction", "bidirectional"),
                      {.name = "activations",
                       .type = ONYX_ATTR_STRINGS,
                       .strings = acts,
                       .n = 2},
                      KT_FLOATS("activation_alpha", 2, alpha),
                      KT_FLOATS("activation_beta", 1, beta)};
    onyx_tensor out[2];
    ck_assert_int_eq(
        kt_run("RNN", 14, at, 4, (onyx_tensor *[]){&X, &W, &R}, 3, out, 2, msg),
        ONYX_OK);
    check_close(out[0].data, (double[]){3, 0.9, 0, -0.2}, 4, EPS);
    check_close(out[1].data, (double[]){0, 0.9}, 2, EPS);
    kt_free(out, 2);
}
END_TEST

/* GRU H=1 I=1, X = [1, 2], W zrh = [0.5, -0.5, 1], R zrh = [0.25, 0.5, -1],
 * Wb = [0.1, 0.2, 0.3], Rb = [-0.2, 0.1, 0.4], initial_h = 0.5. numpy:
 *   z = sig(0.5x + 0.25h - 0.1), r = sig(-0.5x + 0.5h + 0.3)
 *   lbr=0: hh = tanh(x + 0.7 - r*h)   lbr=1: hh = tanh(x + 0.3 + r*(0.4 - h))
 *   h = (1-z) hh + z h
 * lbr 0: [0.6466108110717359, 0.7335302071187607]
 * lbr 1: [0.6293209977399395, 0.7187234200668428] */
static void gru_case(int lbr, const double *want)
{
    float x[] = {1, 2}, w[] = {0.5f, -0.5f, 1}, r[] = {0.25f, 0.5f, -1};
    float b[] = {0.1f, 0.2f, 0.3f, -0.2f, 0.1f, 0.4f}, h0[] = {0.5f};
    onyx_tensor X = T3(2, 1, 1, x), W = T3(1, 3, 1, w), R = T3(1, 3, 1, r),
                B = T2(1, 6, b), H0 = T3(1, 1, 1, h0);
    onyx_attr at[] = {KT_INT("hidden_size", 1),
                      KT_INT("linear_before_reset", lbr)};
    onyx_tensor out[2];
    ck_assert_int_eq(kt_run("GRU", 14, at, 2,
                            (onyx_tensor *[]){&X, &W, &R, &B, NULL, &H0}, 6,
                            out, 2, msg),
                     ONYX_OK);
    check_close(out[0].data, want, 2, EPS);
    check_close(out[1].data, want + 1, 1, EPS);
    kt_free(out, 2);
}

START_TEST(gru_linear_before_reset)
{
    gru_case(0, (double[]){0.6466108110717359, 0.7335302071187607});
    gru_case(1, (double[]){0.6293209977399395, 0.7187234200668428});
}
END_TEST

/* LSTM H=1 I=1, X = [1, -1], W iofc = [0.5, -0.5, 1, 0.25],
 * R iofc = [0.1, 0.2, 0.3, 0.4], Wb = [0.1, 0, 0, 0.2], Rb = [0, 0.1, 0, 0],
 * P iof = [0.5, -0.5, 0.25], initial_h = 0.1, initial_c = 0.2. numpy:
 *   i = sig(gi + Pi c), f = sig(gf + Pf c) (or 1 - i), c = f c + i tanh(gc),
 *   o = sig(go + Po c), h = o tanh(c)
 * Y = [0.14993349123300842, 0.08930425073459555], Y_c = 0.1412815971772775
 * input_forget: Y = [0.1284013801860373, 0.12663393636014109],
 *   Y_c = 0.20446361063774213 */
static void lstm_case(int input_forget, const double *want_y, double want_c)
{
    float x[] = {1, -1}, w[] = {0.5f, -0.5f, 1, 0.25f},
          r[] = {0.1f, 0.2f, 0.3f, 0.4f};
    float b[] = {0.1f, 0, 0, 0.2f, 0, 0.1f, 0, 0}, p[] = {0.5f, -0.5f, 0.25f};
    float h0[] = {0.1f}, c0[] = {0.2f};
    onyx_tensor X = T3(2, 1, 1, x), W = T3(1, 4, 1, w), R = T3(1, 4, 1, r),
                B = T2(1, 8, b), H0 = T3(1, 1, 1, h0), C0 = T3(1, 1, 1, c0),
                P = T2(1, 3, p);
    onyx_attr at[] = {KT_INT("input_forget", input_forget)};
    onyx_tensor out[3];
    ck_assert_int_eq(
        kt_run("LSTM", 7, at, 1,
               (onyx_tensor *[]){&X, &W, &R, &B, NULL, &H0, &C0, &P}, 8, out, 3,
               msg),
        ONYX_OK);
    check_close(out[0].data, want_y, 2, EPS);
    check_close(out[1].data, want_y + 1, 1, EPS);
    check_close(out[2].data, &want_c, 1, EPS);
    kt_free(out, 3);
}

START_TEST(lstm_peepholes_input_forget)
{
    lstm_case(0, (double[]){0.14993349123300842, 0.08930425073459555},
              0.1412815971772775);
    lstm_case(1, (double[]){0.1284013801860373, 0.12663393636014109},
              0.20446361063774213);
}
END_TEST

/* clip 0.1 bounds the pre-activation: RNN with Relu, X = [5], W = 1, so
 * h = relu(clamp(5)) = 0.1 */
START_TEST(rnn_clip)
{
    float x[] = {5}, w[] = {1}, r[] = {1};
    onyx_tensor X = T3(1, 1, 1, x), W = T3(1, 1, 1, w), R = T3(1, 1, 1, r);
    const char *acts[] = {"Relu"};
    onyx_attr at[] = {KT_FLOAT("clip", 0.1f),
                      {.name = "activations",
                       .type = ONYX_ATTR_STRINGS,
                       .strings = acts,
                       .n = 1}};
    onyx_tensor out[2];
    int used[] = {0, 1}; /* Y unused */
    ck_assert_int_eq(kt_run_ex("RNN", 7, at, 2, (onyx_tensor *[]){&X, &W, &R},
                               3, out, 2, used, NULL, msg),
                     ONYX_OK);
    check_close(out[1].data, (double[]){0.1}, 1, EPS);
    kt_free(out, 2);
}
END_TEST

/* sequence_lens [2, 1, 0] with T = 2, RNN identity-like (Affine alpha 1):
 * h_t = x_t + h_{t-1}.  X [T=2, B=3, 1] = [[1, 10, 100], [2, 20, 200]].
 * forward: b0 Y = [1, 3], b1 Y = [10, 0], b2 Y = [0, 0] (initial h 0)
 * reverse (bidirectional, dir 1): b0 runs t=1,0: Y[1] = 2, Y[0] = 3;
 *   b1 only t=0: Y[0] = 10. Y_h = [3, 10, 0 | 3, 10, 0] */
START_TEST(rnn_sequence_lens)
{
    float x[] = {1, 10, 100, 2, 20, 200}, w[] = {1, 1}, r[] = {1, 1};
    int32_t lens[] = {2, 1, 0};
    onyx_tensor X = T3(2, 3, 1, x), W = T3(2, 1, 1, w), R = T3(2, 1, 1, r);
    onyx_tensor L = kt_tensor(ONYX_INT32, 1, (int64_t[]){3}, lens);
    const char *acts[] = {"Affine"};
    onyx_attr at[] = {KT_STRING("direction", "bidirectional"),
                      {.name = "activations",
                       .type = ONYX_ATTR_STRINGS,
                       .strings = acts,
                       .n = 1}};
    onyx_tensor out[2];
    ck_assert_int_eq(kt_run("RNN", 14, at, 2,
                            (onyx_tensor *[]){&X, &W, &R, NULL, &L}, 5, out, 2,
                            msg),
                     ONYX_OK);
    /* Y [T, D, B, H] */
    check_close(out[0].data,
                (double[]){1, 10, 0, 3, 10, 0, /* t=0: fwd, rev */
                           3, 0, 0, 2, 0, 0},  /* t=1 */
                12, EPS);
    check_close(out[1].data, (double[]){3, 10, 0, 3, 10, 0}, 6, EPS);
    kt_free(out, 2);
}
END_TEST

/* ---- the reference: the spec's equations in double, one row at a time ---- */

typedef struct {
    const char *op;
    int T, B, I, H, D, layout, lbr, input_forget, reverse;
    int has_b, has_h0, has_c0, has_p, has_seq;
    float clip; /* 0: none */
} rcase;

static double sg(double x)
{
    return 1 / (1 + exp(-x));
}
static double cl(double x, float clip)
{
    if (clip > 0) x = x < -clip ? -clip : (x > clip ? clip : x);
    return x;
}

static void reference(const rcase *c, const float *X, const float *W,
                      const float *R, const float *B, const int32_t *lens,
                      const float *h0, const float *c0, const float *P,
                      double *Y, double *Yh, double *Yc)
{
    int G = c->op[0] == 'R' ? 1 : c->op[0] == 'G' ? 3 : 4;
    int T = c->T, Bn = c->B, I = c->I, H = c->H, D = c->D;
    memset(Y, 0, sizeof(double) * T * D * Bn * H);
    for (int d = 0; d < D; d++)
        for (int b = 0; b < Bn; b++) {
            double h[64], cc[64], g[256], hn[64];
            int so = c->layout ? (b * D + d) * H : (d * Bn + b) * H;
            for (int j = 0; j < H; j++) {
                h[j] = c->has_h0 ? h0[so + j] : 0;
                cc[j] = c->has_c0 ? c0[so + j] : 0;
            }
            int len = c->has_seq ? lens[b] : T;
            int rev = d == 1 || c->reverse;
            for (int s = 0; s < len; s++) {
                int t = rev ? len - 1 - s : s;
                const float *x =
                    X + (c->layout ? (b * T + t) : (t * Bn + b)) * I;
                for (int q = 0; q < G * H; q++) {
                    double a = 0, rh = 0;
                    for (int i = 0; i < I; i++)
                        a += W[(d * G * H + q) * I + i] * x[i];
                    if (B) a += B[d * 2 * G * H + q];
                    double rb = B ? B[d * 2 * G * H + G * H + q] : 0;
                    /* GRU h gate: recurrent part handled below */
                    if (G == 3 && q >= 2 * H) {
                        g[q] = a;
                        g[G * H + q - 2 * H] = rb;
                        continue;
                    }
                    for (int k = 0; k < H; k++)
                        rh += R[(d * G * H + q) * H + k] * h[k];
                    g[q] = a + rh + rb;
                }
                for (int j = 0; j < H; j++) {
                    if (G == 1) {
                        hn[j] = tanh(cl(g[j], c->clip));
                    } else if (G == 3) {
                        double z = sg(cl(g[j], c->clip)),
                               r = sg(cl(g[H + j], c->clip));
                        double rh = 0;
                        for (int k = 0; k < H; k++)
                            rh += R[(d * 3 * H + 2 * H + j) * H + k] *
                                  (c->lbr ? h[k]
                                          : sg(cl(g[H + k], c->clip)) * h[k]);
                        double pre =
                            c->lbr ? g[2 * H + j] + r * (rh + g[3 * H + j])
                                   : g[2 * H + j] + rh + g[3 * H + j];
                        double hh = tanh(cl(pre, c->clip));
                        hn[j] = (1 - z) * hh + z * h[j];
                    } else {
                        const float *p = P ? P + d * 3 * H : NULL;
                        double i =
                            sg(cl(g[j] + (p ? p[j] * cc[j] : 0), c->clip));
                        double f =
                            c->input_forget
                                ? 1 - i
                                : sg(cl(g[2 * H + j] +
                                            (p ? p[2 * H + j] * cc[j] : 0),
                                        c->clip));
                        double cn =
                            f * cc[j] + i * tanh(cl(g[3 * H + j], c->clip));
                        double o =
                            sg(cl(g[H + j] + (p ? p[H + j] * cn : 0), c->clip));
                        cc[j] = cn;
                        hn[j] = o * tanh(cn);
                    }
                }
                for (int j = 0; j < H; j++) {
                    h[j] = hn[j];
                    int yo = c->layout ? ((b * T + t) * D + d) * H
                                       : ((t * D + d) * Bn + b) * H;
                    Y[yo + j] = h[j];
                }
            }
            for (int j = 0; j < H; j++) {
                Yh[so + j] = h[j];
                Yc[so + j] = cc[j];
            }
        }
}

static float frand(unsigned *s)
{
    *s = *s * 1664525u + 1013904223u;
    return ((*s >> 8) / 16777216.0f) * 2 - 1;
}

static void random_case(const rcase *c, int unknown_in)
{
    unsigned seed = 12345u + (unsigned)(c->T * 7 + c->B * 131 + c->H * 17);
    int G = c->op[0] == 'R' ? 1 : c->op[0] == 'G' ? 3 : 4;
    int T = c->T, Bn = c->B, I = c->I, H = c->H, D = c->D;
    int nx = T * Bn * I, nw = D * G * H * I, nr = D * G * H * H,
        nb = D * 2 * G * H;
    int ns = D * Bn * H, ny = T * D * Bn * H;
    float *x = malloc(sizeof(float) * nx), *w = malloc(sizeof(float) * nw),
          *r = malloc(sizeof(float) * nr), *b = malloc(sizeof(float) * nb),
          *h0 = malloc(sizeof(float) * ns), *c0 = malloc(sizeof(float) * ns),
          *p = malloc(sizeof(float) * D * 3 * H);
    int32_t lens[16];
    for (int i = 0; i < nx; i++)
        x[i] = frand(&seed);
    for (int i = 0; i < nw; i++)
        w[i] = frand(&seed) * 0.8f;
    /* recurrent weights ~1/sqrt(H): a contracting, non-chaotic map, so float
     * rounding does not grow over the steps */
    for (int i = 0; i < nr; i++)
        r[i] = frand(&seed) * 1.5f / sqrtf((float)H);
    for (int i = 0; i < nb; i++)
        b[i] = frand(&seed) * 0.5f;
    for (int i = 0; i < ns; i++)
        h0[i] = frand(&seed), c0[i] = frand(&seed);
    for (int i = 0; i < D * 3 * H; i++)
        p[i] = frand(&seed);
    for (int i = 0; i < Bn; i++)
        lens[i] = (i * 7 + 3) % (T + 1);

    onyx_tensor X = c->layout ? T3(Bn, T, I, x) : T3(T, Bn, I, x);
    onyx_tensor W = T3(D, G * H, I, w), R = T3(D, G * H, H, r),
                B = T2(D, 2 * G * H, b);
    onyx_tensor H0 = c->layout ? T3(Bn, D, H, h0) : T3(D, Bn, H, h0);
    onyx_tensor C0 = c->layout ? T3(Bn, D, H, c0) : T3(D, Bn, H, c0);
    onyx_tensor P = T2(D, 3 * H, p);
    onyx_tensor L = kt_tensor(ONYX_INT32, 1, (int64_t[]){Bn}, lens);
    onyx_tensor *in[8] = {&X,
                          &W,
                          &R,
                          c->has_b ? &B : NULL,
                          c->has_seq ? &L : NULL,
                          c->has_h0 ? &H0 : NULL,
                          c->has_c0 ? &C0 : NULL,
                          c->has_p ? &P : NULL};
    int n_in = G == 4 ? 8 : 6, n_out = G == 4 ? 3 : 2;
    onyx_attr at[8];
    int na = 0;
    at[na++] = (onyx_attr)KT_INT("hidden_size", H);
    at[na++] = (onyx_attr)KT_INT("layout", c->layout);
    at[na++] = (onyx_attr)KT_INT("linear_before_reset", c->lbr);
    at[na++] = (onyx_attr)KT_INT("input_forget", c->input_forget);
    if (D == 2) at[na++] = (onyx_attr)KT_STRING("direction", "bidirectional");
    if (c->reverse) at[na++] = (onyx_attr)KT_STRING("direction", "reverse");
    if (c->clip > 0) at[na++] = (onyx_attr)KT_FLOAT("clip", c->clip);

    /* with every input unknown at prepare, the weights are packed at eval
     * instead of prepare */
    const int unknown[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    onyx_tensor out[3];
    onyx_status st = kt_run_ex(c->op, 14, at, na, in, n_in, out, n_out, NULL,
                               unknown_in ? unknown : NULL, msg);
    ck_assert_msg(st == ONYX_OK, "%s: %s", c->op, msg);
    double *Y = malloc(sizeof(double) * ny), *Yh = malloc(sizeof(double) * ns),
           *Yc = malloc(sizeof(double) * ns);
    reference(c, x, w, r, c->has_b ? b : NULL, lens, h0, c0,
              c->has_p ? p : NULL, Y, Yh, Yc);
    check_close(out[0].data, Y, ny, 1e-5);
    check_close(out[1].data, Yh, ns, 1e-5);
    if (G == 4) check_close(out[2].data, Yc, ns, 1e-5);
    kt_free(out, n_out);
    free(Y), free(Yh), free(Yc);
    free(x), free(w), free(r), free(b), free(h0), free(c0), free(p);
}

static const rcase cases[] = {
    /* op     T  B  I  H  D  lay lbr if rev  b h0 c0 p seq clip */
    {"RNN", 5, 1, 3, 37, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0},
    {"RNN", 4, 6, 2, 5, 2, 1, 0, 0, 0, 1, 1, 0, 0, 1, 0},
    {"GRU", 6, 1, 1, 32, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0},
    {"GRU", 6, 1, 3, 13, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0.5f},
    {"GRU", 5, 5, 4, 9, 2, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0},
    {"GRU", 5, 7, 4, 40, 2, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0},
    {"GRU", 7, 3, 2, 6, 1, 1, 1, 0, 1, 1, 1, 0, 0, 1, 0},
    {"LSTM", 4, 1, 2, 33, 2, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0},
    {"LSTM", 6, 5, 3, 7, 1, 1, 0, 1, 0, 1, 0, 1, 1, 1, 0.8f},
    {"LSTM", 3, 8, 5, 20, 2, 0, 0, 0, 0, 1, 1, 1, 0, 1, 0},
    {"LSTM", 9, 2, 1, 16, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0},
    /* big enough for onyx_sgemm: the recurrent product, the projection */
    {"LSTM", 3, 9, 5, 40, 2, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0},
    {"GRU", 40, 4, 16, 24, 2, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0},
    {"GRU", 20, 4, 16, 24, 1, 0, 1, 0, 1, 1, 1, 0, 0, 0, 0},
    {"RNN", 20, 12, 16, 60, 1, 0, 0, 0, 1, 1, 1, 0, 0, 1, 0},
    /* R^T in more than one 128-column panel (batch <= 4), GRU's h part
     * starting inside the first panel's range */
    {"GRU", 6, 2, 3, 64, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0},
    {"GRU", 5, 1, 2, 50, 2, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0},
    {"LSTM", 5, 3, 2, 64, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0},
    /* the lean path's fused GRU step (linear_before_reset, one row): a
     * partial group of units, several inputs, reverse, layout 1, no h0,
     * no bias, one step */
    {"GRU", 4, 1, 3, 13, 1, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0},
    {"GRU", 1, 1, 1, 6, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0},
    {"GRU", 3, 1, 2, 8, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0},
    /* the lean path's fused LSTM step (no peepholes, one row): the same,
     * and c0 without h0, h0 without c0, an odd number of groups */
    {"LSTM", 6, 1, 1, 32, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0},
    {"LSTM", 4, 1, 3, 13, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0},
    {"LSTM", 1, 1, 2, 6, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0},
    {"LSTM", 3, 1, 2, 20, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0},
    {"LSTM", 5, 1, 1, 7, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0},
};

START_TEST(random_vs_reference)
{
    random_case(&cases[_i], 0);
    random_case(&cases[_i], 1);
}
END_TEST

/* ---- the fused GRU step (arch/gru_arch.h) ---- */

/* every variant, in its own layout, against the reference on random
 * weights: H = 1 to 19 (partial groups of 4), and sizes around the x86
 * variants' groups of 8 and 16 and their pairs */
START_TEST(gru_step_variants)
{
    enum { HM = 70 };
    static const int sizes[] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                11, 12, 13, 14, 15, 16, 17, 18, 19, 24,
                                31, 32, 33, 40, 47, 48, 64, 70};
    const onyx_gru_variant *v;
    int nv = onyx_gru_variants(&v);
    unsigned seed = 7;
    static float W[3 * HM * 3], R[3 * HM * HM];
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
        for (int I = 1; I <= 3; I += 2) {
            const int H = sizes[si];
            float Wb[3 * HM], Rb[3 * HM], x[3];
            float h[HM + 1], want[HM + 1], got[HM + 1], got2[HM + 1];
            for (int i = 0; i < 3 * H * I; i++)
                W[i] = frand(&seed);
            for (int i = 0; i < 3 * H * H; i++)
                R[i] = frand(&seed) / sqrtf((float)H);
            for (int i = 0; i < 3 * H; i++)
                Wb[i] = frand(&seed), Rb[i] = frand(&seed);
            for (int i = 0; i < I; i++)
                x[i] = frand(&seed);
            for (int i = 0; i < H; i++)
                h[i] = frand(&seed);
            float *F = malloc(v[0].pack_floats(H, I) * sizeof(float));
            v[0].pack(F, H, I, W, R, Wb, Rb);
            v[0].step(H, I, F, x, h, want, NULL);
            free(F);
            /* the reference against the equations in double */
            for (int u = 0; u < H; u++) {
                double a[3] = {Wb[u] + Rb[u], Wb[H + u] + Rb[H + u],
                               Wb[2 * H + u]};
                double rh = Rb[2 * H + u];
                for (int i = 0; i < I; i++)
                    for (int q = 0; q < 3; q++)
                        a[q] += W[(q * H + u) * I + i] * x[i];
                for (int i = 0; i < H; i++) {
                    a[0] += R[u * H + i] * h[i];
                    a[1] += R[(H + u) * H + i] * h[i];
                    rh += R[(2 * H + u) * H + i] * h[i];
                }
                double z = sg(a[0]), r = sg(a[1]), n = tanh(a[2] + r * rh);
                double e = n + z * (h[u] - n);
                ck_assert_msg(fabs(want[u] - e) < 2e-6, "H %d unit %d: %g %g",
                              H, u, (double)want[u], e);
            }
            for (int k = 1; k < nv; k++) {
                /* guards past the packed weights: a read past them changes
                 * nothing only if the step never reads there */
                size_t nf = v[k].pack_floats(H, I);
                F = malloc((nf + 64) * sizeof(float));
                v[k].pack(F, H, I, W, R, Wb, Rb);
                for (int i = 0; i < 64; i++)
                    F[nf + i] = NAN;
                for (int i = 0; i <= HM; i++)
                    got[i] = got2[i] = -7;
                v[k].step(H, I, F, x, h, got, got2);
                for (int u = 0; u < H; u++) {
                    ck_assert_msg(fabs(got[u] - want[u]) < 1e-6,
                                  "%s H %d I %d unit %d: %g vs %g", v[k].name,
                                  H, I, u, (double)got[u], (double)want[u]);
                    ck_assert(got2[u] == got[u]);
                }
                ck_assert(got[H] == -7 && got2[H] == -7);
                free(F);
            }
        }
}
END_TEST

/* the step's tanh over a dense sweep of [-12, 12]: 5.5 ulp (6 here, with
 * 32-bit NEON's reciprocal), |y| < 1, odd */
START_TEST(gru_tanh_accuracy)
{
    const onyx_gru_variant *v;
    int nv = onyx_gru_variants(&v);
    enum { N = 1 << 14 };
    static float x[N], y[N];
    for (int k = 0; k < nv; k++) {
        double worst_ulp = 0;
        for (int b = 0; b < 4; b++) {
            for (int i = 0; i < N; i++)
                x[i] = -12.0f + 24.0f * (float)(b * N + i) / (4.0f * N);
            v[k].tanh(y, x, N);
            for (int i = 0; i < N; i++) {
                double t = tanh((double)x[i]);
                float tf = (float)fabs(t);
                double ulp = nextafterf(tf, 2.0f) - tf;
                if (tf < 1.0f) ulp = tf - nextafterf(tf, 0.0f);
                if (x[i] == 0) continue;
                double e = fabs(y[i] - t) / ulp;
                if (e > worst_ulp) worst_ulp = e;
                ck_assert_msg(fabsf(y[i]) <= 1.0f, "%s tanh(%g) = %.9g",
                              v[k].name, (double)x[i], (double)y[i]);
            }
        }
        ck_assert_msg(worst_ulp <= 6.5, "%s: %g ulp", v[k].name, worst_ulp);
        float a = 0.3f, ya, yb, mb = -0.3f;
        v[k].tanh(&ya, &a, 1);
        v[k].tanh(&yb, &mb, 1);
        ck_assert(ya == -yb);
    }
}
END_TEST

/* ---- the fused LSTM step (arch/lstm_arch.h) ---- */

/* every variant, in its own layout, against the reference on random
 * weights: H = 1 to 19 (partial groups of 4), and sizes around the x86
 * variants' groups of 8 and 16 and their pairs */
START_TEST(lstm_step_variants)
{
    enum { HM = 70 };
    static const int sizes[] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                11, 12, 13, 14, 15, 16, 17, 18, 19, 24,
                                31, 32, 33, 40, 47, 48, 64, 70};
    const onyx_lstm_variant *v;
    int nv = onyx_lstm_variants(&v);
    unsigned seed = 11;
    static float W[4 * HM * 3], R[4 * HM * HM];
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
        for (int I = 1; I <= 3; I += 2) {
            const int H = sizes[si];
            float Wb[4 * HM], Rb[4 * HM], x[3];
            float h[HM + 1], c0[HM + 1], want[HM + 1], cwant[HM + 1],
                got[HM + 1], got2[HM + 1], cgot[HM + 1];
            for (int i = 0; i < 4 * H * I; i++)
                W[i] = frand(&seed);
            for (int i = 0; i < 4 * H * H; i++)
                R[i] = frand(&seed) / sqrtf((float)H);
            for (int i = 0; i < 4 * H; i++)
                Wb[i] = frand(&seed), Rb[i] = frand(&seed);
            for (int i = 0; i < I; i++)
                x[i] = frand(&seed);
            for (int i = 0; i < H; i++)
                h[i] = frand(&seed), c0[i] = 2 * frand(&seed);
            float *F = malloc(v[0].pack_floats(H, I) * sizeof(float));
            v[0].pack(F, H, I, W, R, Wb, Rb);
            memcpy(cwant, c0, (size_t)H * sizeof(float));
            v[0].step(H, I, F, x, h, cwant, want, NULL);
            free(F);
            /* the reference against the equations in double */
            for (int u = 0; u < H; u++) {
                double a[4];
                for (int q = 0; q < 4; q++) {
                    a[q] = Wb[q * H + u] + Rb[q * H + u];
                    for (int i = 0; i < I; i++)
                        a[q] += W[(q * H + u) * I + i] * x[i];
                    for (int i = 0; i < H; i++)
                        a[q] += R[(q * H + u) * H + i] * h[i];
                }
                double cn = sg(a[2]) * c0[u] + sg(a[0]) * tanh(a[3]);
                double e = sg(a[1]) * tanh(cn);
                ck_assert_msg(fabs(cwant[u] - cn) < 2e-6 &&
                                  fabs(want[u] - e) < 2e-6,
                              "H %d unit %d: %g %g, c %g %g", H, u,
                              (double)want[u], e, (double)cwant[u], cn);
            }
            for (int k = 1; k < nv; k++) {
                /* guards past the packed weights, as for the GRU */
                size_t nf = v[k].pack_floats(H, I);
                F = malloc((nf + 64) * sizeof(float));
                v[k].pack(F, H, I, W, R, Wb, Rb);
                for (int i = 0; i < 64; i++)
                    F[nf + i] = NAN;
                for (int i = 0; i <= HM; i++)
                    got[i] = got2[i] = cgot[i] = -7;
                memcpy(cgot, c0, (size_t)H * sizeof(float));
                v[k].step(H, I, F, x, h, cgot, got, got2);
                for (int u = 0; u < H; u++) {
                    ck_assert_msg(fabs(got[u] - want[u]) < 1e-6 &&
                                      fabs(cgot[u] - cwant[u]) < 2e-6,
                                  "%s H %d I %d unit %d: %g vs %g, c %g vs %g",
                                  v[k].name, H, I, u, (double)got[u],
                                  (double)want[u], (double)cgot[u],
                                  (double)cwant[u]);
                    ck_assert(got2[u] == got[u]);
                }
                ck_assert(got[H] == -7 && got2[H] == -7 && cgot[H] == -7);
                free(F);
            }
        }
}
END_TEST

/* ---- errors ---- */

static onyx_status run_gru(const onyx_attr *at, int na, int opset,
                           int64_t wrows)
{
    static float x[6], w[12], r[12];
    onyx_tensor X = T3(2, 1, 3, x), W = T3(1, wrows, 3, w), R = T3(1, 3, 1, r);
    onyx_tensor out[2];
    onyx_status st = kt_run("GRU", opset, at, na, (onyx_tensor *[]){&X, &W, &R},
                            3, out, 2, msg);
    if (st == ONYX_OK) kt_free(out, 2);
    return st;
}

START_TEST(errors)
{
    onyx_attr ok[] = {KT_INT("hidden_size", 1)};
    ck_assert_int_eq(run_gru(ok, 1, 14, 3), ONYX_OK);

    onyx_attr dir[] = {KT_STRING("direction", "sideways")};
    ck_assert_int_ne(run_gru(dir, 1, 14, 3), ONYX_OK);
    ck_assert_ptr_nonnull(strstr(msg, "sideways"));

    onyx_attr hs[] = {KT_INT("hidden_size", 2)};
    ck_assert_int_ne(run_gru(hs, 1, 14, 3), ONYX_OK);
    ck_assert_ptr_nonnull(strstr(msg, "hidden_size"));

    ck_assert_int_ne(run_gru(ok, 1, 14, 4), ONYX_OK); /* W [1,4,3] */
    ck_assert_ptr_nonnull(strstr(msg, "W"));

    const char *bad[] = {"Sigmoid", "Cosh"};
    onyx_attr act[] = {{.name = "activations",
                        .type = ONYX_ATTR_STRINGS,
                        .strings = bad,
                        .n = 2}};
    ck_assert_int_eq(run_gru(act, 1, 14, 3), ONYX_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(msg, "Cosh"));

    const char *three[] = {"Sigmoid", "Tanh", "Tanh"};
    onyx_attr act3[] = {{.name = "activations",
                         .type = ONYX_ATTR_STRINGS,
                         .strings = three,
                         .n = 3}};
    ck_assert_int_ne(run_gru(act3, 1, 14, 3), ONYX_OK);
    ck_assert_ptr_nonnull(strstr(msg, "activations"));

    onyx_attr lay[] = {KT_INT("layout", 1)};
    ck_assert_int_ne(run_gru(lay, 1, 7, 3),
                     ONYX_OK); /* layout needs opset 14 */
    ck_assert_ptr_nonnull(strstr(msg, "layout"));
    onyx_attr lay2[] = {KT_INT("layout", 2)};
    ck_assert_int_ne(run_gru(lay2, 1, 14, 3), ONYX_OK);

    onyx_attr clip[] = {KT_FLOAT("clip", -1)};
    ck_assert_int_ne(run_gru(clip, 1, 14, 3), ONYX_OK);
    ck_assert_ptr_nonnull(strstr(msg, "clip"));

    /* int64 X is refused */
    int64_t xi[6] = {0};
    float w[9] = {0}, r[3] = {0};
    onyx_tensor X = kt_tensor(ONYX_INT64, 3, (int64_t[]){2, 1, 3}, xi);
    onyx_tensor W = T3(1, 3, 3, w), R = T3(1, 3, 1, r);
    onyx_tensor out[2];
    ck_assert_int_eq(kt_run("GRU", 14, NULL, 0, (onyx_tensor *[]){&X, &W, &R},
                            3, out, 2, msg),
                     ONYX_ERR_UNSUPPORTED);

    /* sequence_lens beyond seq_length is an eval error */
    float xf[6] = {0};
    int32_t lens[1] = {5};
    onyx_tensor Xf = T3(2, 1, 3, xf);
    onyx_tensor L = kt_tensor(ONYX_INT32, 1, (int64_t[]){1}, lens);
    ck_assert_int_eq(kt_run("GRU", 14, NULL, 0,
                            (onyx_tensor *[]){&Xf, &W, &R, NULL, &L}, 5, out, 2,
                            msg),
                     ONYX_ERR_RUNTIME);
    ck_assert_ptr_nonnull(strstr(msg, "sequence_lens"));
    kt_free(out, 2);
}
END_TEST

static Suite *rnn_suite(void)
{
    Suite *s = suite_create("rnn");
    TCase *tc = tcase_create("rnn");
    tcase_add_test(tc, rnn_tanh_forward);
    tcase_add_test(tc, rnn_bidirectional_activations);
    tcase_add_test(tc, gru_linear_before_reset);
    tcase_add_test(tc, lstm_peepholes_input_forget);
    tcase_add_test(tc, rnn_clip);
    tcase_add_test(tc, rnn_sequence_lens);
    tcase_add_loop_test(tc, random_vs_reference, 0,
                        (int)(sizeof cases / sizeof cases[0]));
    tcase_add_test(tc, gru_step_variants);
    tcase_add_test(tc, gru_tanh_accuracy);
    tcase_add_test(tc, lstm_step_variants);
    tcase_add_test(tc, errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    Suite *s = rnn_suite();
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int f = srunner_ntests_failed(r);
    srunner_free(r);
    return f ? 1 : 0;
}
