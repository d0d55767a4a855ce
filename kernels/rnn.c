/* rnn.c - the recurrent ops RNN, GRU and LSTM (opsets 7 to 17).
 *
 * One driver for the three cells: the gate layout differs, the loop does not.
 * Per direction, the input projection of a chunk of time steps is one matrix
 * product  X (rows, I) @ W^T (I, G*H) + bias  into scratch; each time step
 * then adds  H_{t-1} (B, H) @ R^T (H, G*H)  and applies the cell. W^T, R^T and
 * the pre-summed biases are packed once in prepare when W/R/B/P are constant,
 * otherwise into scratch at every eval. Each gate is padded to Hp units, a
 * multiple of the vector width, so that the cells and the recurrent product
 * run on whole vectors. Up to 4 batch rows (per-sample audio models, and
 * simple_rnn's 256 units) use the hand-written matrix-vector product below on
 * R^T packed in column panels, rather than a BLAS call.
 *
 * Shapes (layout 0; layout 1 swaps the first two axes of X, Y, Y_h, Y_c,
 * initial_h and initial_c, see rnn_prepare):
 *   X [T, B, I]   W [D, G*H, I]   R [D, G*H, H]   B [D, 2*G*H]
 *   sequence_lens [B] (int32)   initial_h, initial_c [D, B, H]   P [D, 3*H]
 *   Y [T, D, B, H]   Y_h, Y_c [D, B, H]
 * Gate order: RNN i; GRU z r h; LSTM i o f c.
 */
#include "onyx_kernel.h"
#include "math/gemm.h"
#include "math/gemv.h"
#include "arch/gru_arch.h"
#include "arch/lstm_arch.h"
#include "math/rnn_act.h"
#include "math/vmath.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- activation functions of the spec ---- */
typedef enum {
    ACT_RELU,
    ACT_TANH,
    ACT_SIGMOID,
    ACT_AFFINE,
    ACT_LEAKYRELU,
    ACT_THRESHOLDEDRELU,
    ACT_SCALEDTANH,
    ACT_HARDSIGMOID,
    ACT_ELU,
    ACT_SOFTSIGN,
    ACT_SOFTPLUS,
} rnn_act_kind;

typedef struct rnn_act {
    rnn_act_kind kind;
    float alpha, beta;
} rnn_act;

/* How many entries of activation_alpha / activation_beta each function
 * consumes (in order of the activations list), and the defaults of the
 * corresponding ONNX operators when the lists run out. */
static const struct {
    const char *name;
    rnn_act_kind kind;
    int n_alpha, n_beta;
    float alpha, beta;
} rnn_act_table[] = {
    {"Relu", ACT_RELU, 0, 0, 0, 0},
    {"Tanh", ACT_TANH, 0, 0, 0, 0},
    {"Sigmoid", ACT_SIGMOID, 0, 0, 0, 0},
    {"Affine", ACT_AFFINE, 1, 1, 1.0f, 0.0f},
    {"LeakyRelu", ACT_LEAKYRELU, 1, 0, 0.01f, 0},
    {"ThresholdedRelu", ACT_THRESHOLDEDRELU, 1, 0, 1.0f, 0},
    {"ScaledTanh", ACT_SCALEDTANH, 1, 1, 1.0f, 1.0f},
    {"HardSigmoid", ACT_HARDSIGMOID, 1, 1, 0.2f, 0.5f},
    {"Elu", ACT_ELU, 1, 0, 1.0f, 0},
    {"Softsign", ACT_SOFTSIGN, 0, 0, 0, 0},
    {"Softplus", ACT_SOFTPLUS, 0, 0, 0, 0},
};

/* f(clamp(x, -clip, clip)) lane-wise; clip is +inf when the attribute is
 * absent. `kind` is a constant where rnn_act_apply inlines this, so the
 * switch disappears from the common loops. */
static inline __attribute__((always_inline)) v4f
rnn_act_v4(rnn_act_kind kind, const rnn_act *a, v4f x, float clip)
{
    if (clip < INFINITY) x = v4_max(v4_min(x, v4_set1(clip)), v4_set1(-clip));
    switch (kind) {
    case ACT_TANH: return v4_tanh(x);
    case ACT_SIGMOID: return v4_sigmoid(x);
    case ACT_RELU: return v4_max(x, v4_set1(0.0f));
    case ACT_AFFINE: return a->alpha * x + a->beta;
    case ACT_LEAKYRELU: return v4_select(x >= 0.0f, x, a->alpha * x);
    case ACT_THRESHOLDEDRELU: return v4_select(x >= a->alpha, x, v4_set1(0.0f));
    case ACT_SCALEDTANH: return a->alpha * v4_tanh(a->beta * x);
    case ACT_HARDSIGMOID:
        return v4_max(v4_min(a->alpha * x + a->beta, v4_set1(1.0f)),
                      v4_set1(0.0f));
    case ACT_SOFTSIGN: return v4_div(x, 1.0f + v4_abs(x));
    case ACT_ELU: return v4_select(x >= 0.0f, x, a->alpha * v4_expm1(x));
    case ACT_SOFTPLUS: break;
    }
    /* softplus, rare: lane by lane with libm for accuracy near 0, without
     * overflow for large x */
    float v[4];
    memcpy(v, &x, sizeof v);
    for (int k = 0; k < 4; k++)
        v[k] = v[k] > 0 ? v[k] + log1pf(expf(-v[k])) : log1pf(expf(v[k]));
    memcpy(&x, v, sizeof v);
    return x;
}

static inline __attribute__((always_inline)) void
rnn_act_loop(rnn_act_kind kind, const rnn_act *a, float *y, const float *x,
             int n, float clip)
{
    int j = 0;
    for (; j + 4 <= n; j += 4)
        v4_store(y + j, rnn_act_v4(kind, a, v4_load(x + j), clip));
    if (j < n)
        v4_store_n(y + j, rnn_act_v4(kind, a, v4_load_n(x + j, n - j), clip),
                   n - j);
}

/* the instruction sets rnn.c picks from, once in prepare */
enum { ISA_V4, ISA_AVX2, ISA_AVX512 };

/* y (n,) = f(clamp(x)); y may be x. isa: ISA_AVX2 / ISA_AVX512 when the CPU
 * has them (sigmoid and tanh then go 8 / 16 lanes at a time, same bits) */
static void rnn_act_apply(int isa, const rnn_act *a, float *y, const float *x,
                          int n, float clip)
{
#if ONYX_RNN_ACT_AVX2
    if (isa != ISA_V4 && clip == INFINITY && a->kind == ACT_SIGMOID) {
        if (isa == ISA_AVX512)
            onyx_rnn_sigmoid_avx512(y, x, n);
        else
            onyx_rnn_sigmoid_avx2(y, x, n);
        return;
    }
    if (isa != ISA_V4 && clip == INFINITY && a->kind == ACT_TANH) {
        if (isa == ISA_AVX512)
            onyx_rnn_tanh_avx512(y, x, n);
        else
            onyx_rnn_tanh_avx2(y, x, n);
        return;
    }
#endif
    (void)isa;
    if (clip < INFINITY) {
        rnn_act_loop(a->kind, a, y, x, n, clip);
        return;
    }
    switch (a->kind) { /* the common ones, without clip */
    case ACT_SIGMOID: rnn_act_loop(ACT_SIGMOID, a, y, x, n, INFINITY); break;
    case ACT_TANH: rnn_act_loop(ACT_TANH, a, y, x, n, INFINITY); break;
    default: rnn_act_loop(a->kind, a, y, x, n, INFINITY); break;
    }
}

/* ---- matrix products ----
 * Up to RNN_MATVEC_ROWS batch rows, the recurrent product runs row by row as
 * gemv.c's packed matrix-vector product on R^T packed by onyx_gemv_pack;
 * a larger batch uses mat_acc on R^T row-major. */
#define RNN_MATVEC_ROWS 4

/* out (M, N) += x (M, K) @ W (K, N); row strides ldo, ldx, ldw.
 * A few rows or a small product: our own loop (a BLAS call costs more than
 * the arithmetic); else onyx_sgemm. */
static void mat_acc(float *out, int ldo, const float *x, int ldx,
                    const float *W, int ldw, int M, int N, int K, float *work)
{
    if (M <= 0 || N <= 0 || K <= 0) return;
    if (M <= 4 || (int64_t)M * N * K <= 32768) {
        for (int m = 0; m < M; m++) /* out row (N) += x row (K) @ W (K, N) */
            onyx_sgemm_vector(0, 0, 1, N, K, 1.0f, x + (size_t)m * ldx, ldx, W,
                              ldw, 1.0f, out + (size_t)m * ldo, ldo);
        return;
    }
    onyx_sgemm(0, 0, M, N, K, 1.0f, x, ldx, W, ldw, 1.0f, out, ldo, work);
}

/* ---- the op ---- */

typedef enum { CELL_RNN, CELL_GRU, CELL_LSTM } rnn_cell;

/* input and output indices */
enum { IN_X, IN_W, IN_R, IN_B, IN_SEQ, IN_H0, IN_C0, IN_P };
enum { OUT_Y, OUT_YH, OUT_YC };

typedef struct rnn_params {
    rnn_cell cell;
    int G;                 /* gates: RNN 1, GRU 3, LSTM 4 */
    int T, B, I, H, GH, D; /* steps, batch, input, hidden, G*H, directions */
    int layout;            /* 0: X [T,B,I]; 1: X [B,T,I] */
    int reverse0;          /* direction 0 runs backwards (direction=reverse) */
    int lbr;               /* GRU linear_before_reset */
    int input_forget;      /* LSTM: f = 1 - i */
    int has_P;             /* LSTM peepholes given */
    float clip;            /* +inf when absent */
    rnn_act act[2][3];     /* [direction][f, g, h] */
    int TC;                /* time steps per projection chunk */
    int isa;               /* ISA_*: the widest vectors of this CPU */
    int Hp, GHp;           /* H rounded up to the vector width, G*Hp */
    int cut;               /* R^T's parts: columns [0, cut), [cut, GHp) */
    int gemv;              /* R^T's parts packed for onyx_gemv_packed (small
                              batch), else row-major (for mat_acc) */
    int lean;              /* one batch row, one direction, every step alike:
                              rnn_lean runs it (rnn_lean_fits) */
    const onyx_gru_variant *gru;   /* lean GRU with linear_before_reset and a
                                      vector variant of gru_arch.h: its fused
                                      step on F (packed), else NULL */
    const onyx_lstm_variant *lstm; /* lean LSTM without peepholes nor
                                     input_forget and a vector variant of
                                     lstm_arch.h: its fused step on F */
    /* the optional inputs present (rnn_opt), decided in prepare */
    int has_B, has_seq, has_h0, has_c0;
    /* one direction's packed weights, offsets in floats; gate q's unit j is
     * column q*Hp + j (columns j >= H hold 0):
     *   WT (I, GHp) = W^T, RT (H, GHp) = R^T in parts and panels (rnn_pack),
     *   bx (GHp) input-side bias (Wb + Rb, except GRU h gate with
     *   linear_before_reset: Wbh only), rbh (Hp) GRU Rbh for
     *   linear_before_reset, P (3Hp) peepholes i o f, zero (Hp) zeros (the
     *   lean path's state when initial_h or initial_c is omitted), F the
     *   fused GRU step's weights (the variant's pack) when gru, or the
     *   fused LSTM step's (the variant's pack) when lstm */
    size_t o_WT, o_RT, o_bx, o_rbh, o_P, o_ab, o_zero, o_F, pack_n;
    int packed; /* 1: pack[] holds D * pack_n floats */
    /* scratch, offsets in floats (each 16-float aligned) */
    size_t s_pack, s_xp, s_gates, s_h, s_c, s_tmp, s_tmp2, s_gemm, s_n;
    /* on a cache line, whatever the fields above add up to: the vector
     * kernels' loads of the packed weights (64 bytes with AVX-512) would
     * otherwise straddle two lines (measured: x86 LSTM-32 10% slower with
     * pack at 8 bytes past 16) */
    _Alignas(64) float pack[];
} rnn_params;

static size_t up16(size_t n)
{
    return (n + 15) & ~(size_t)15;
}

/* Pack W, R, B, P (B, P may be NULL) for all directions into dst, in the
 * padded gate layout. R^T's two parts ([0, cut): GRU's z r, or every gate;
 * [cut, GHp): GRU's h, whose product needs r first) are packed apart, the
 * part at column j0 at RT + H*j0: row-major (H, width), or as
 * onyx_gemv_pack lays it out when k->gemv (through rt: H x GHp floats). */
static void rnn_pack(const rnn_params *k, const float *W, const float *R,
                     const float *Bias, const float *P, float *dst, float *rt)
{
    const int I = k->I, H = k->H, Hp = k->Hp, GH = k->GH, GHp = k->GHp;
    const int cut[3] = {0, k->cut, GHp};
    for (int d = 0; d < k->D; d++) {
        float *pk = dst + (size_t)d * k->pack_n;
        const float *Wd = W + (size_t)d * GH * I, *Rd = R + (size_t)d * GH * H;
        const float *Bd = Bias ? Bias + (size_t)d * 2 * GH : NULL;
        float *WT = pk + k->o_WT, *RT = pk + k->o_RT, *bx = pk + k->o_bx;
        memset(pk, 0, k->pack_n * sizeof(float));
        for (int q = 0; q < k->G; q++)
            for (int j = 0; j < H; j++) {
                int row = q * H + j, col = q * Hp + j;
                for (int i = 0; i < I; i++)
                    WT[(size_t)i * GHp + col] = Wd[(size_t)row * I + i];
                float wb = Bd ? Bd[row] : 0.0f, rb = Bd ? Bd[GH + row] : 0.0f;
                if (k->cell == CELL_GRU && k->lbr && q == 2) {
                    bx[col] = wb;
                    pk[k->o_rbh + j] = rb;
                } else {
                    bx[col] = wb + rb;
                }
            }
        /* each part row-major (H, width) at RT + H * part start, then
         * through rt (H, GHp) into onyx_gemv_pack's layout */
        for (int part = 0; part < 2; part++) {
            int w = cut[part + 1] - cut[part];
            float *dp = k->gemv ? rt : RT + (size_t)H * cut[part];
            for (int c = 0; c < w; c++) {
                int q = (cut[part] + c) / Hp, j = (cut[part] + c) % Hp;
                const float *r = Rd + (size_t)(q * H + j) * H;
                for (int i = 0; i < H; i++)
                    dp[(size_t)i * w + c] = j < H ? r[i] : 0.0f;
            }
            if (k->gemv && w > 0)
                onyx_gemv_pack(RT + (size_t)H * cut[part], 0, rt, w, w, H);
        }
        /* the lean path's addend of h @ R^T: bx, but for GRU's h gate with
         * linear_before_reset Rbh (the x side's bias is then bx's) */
        float *ab = pk + k->o_ab;
        memcpy(ab, bx, (size_t)GHp * sizeof(float));
        if (k->cell == CELL_GRU && k->lbr)
            memcpy(ab + 2 * Hp, pk + k->o_rbh, (size_t)Hp * sizeof(float));
        if (k->gru)
            k->gru->pack(pk + k->o_F, H, I, Wd, Rd, Bd, Bd ? Bd + GH : NULL);
        if (k->lstm)
            k->lstm->pack(pk + k->o_F, H, I, Wd, Rd, Bd, Bd ? Bd + GH : NULL);
        if (k->cell == CELL_LSTM && P)
            for (int q = 0; q < 3; q++)
                memcpy(pk + k->o_P + (size_t)q * Hp,
                       P + (size_t)d * 3 * H + (size_t)q * H,
                       (size_t)H * sizeof(float));
    }
}

/* a present tensor with no elements counts as an omitted optional input */
static const onyx_tensor *rnn_opt(const onyx_tensor *const *in, int n_in, int i)
{
    if (i >= n_in || !in[i] || onyx_numel(in[i]) == 0) return NULL;
    return in[i];
}

static onyx_status rnn_parse_acts(onyx_prep *p, rnn_params *k, int n_per_dir)
{
    static const rnn_act_kind dflt[3][3] = {
        {ACT_TANH}, {ACT_SIGMOID, ACT_TANH}, {ACT_SIGMOID, ACT_TANH, ACT_TANH}};
    for (int d = 0; d < 2; d++)
        for (int q = 0; q < n_per_dir; q++) {
            k->act[d][q].kind = dflt[k->cell][q];
            k->act[d][q].alpha = k->act[d][q].beta = 0;
        }
    const onyx_attr *a = onyx_attr_get(p, "activations");
    if (!a) return ONYX_OK;
    ONYX_CHECK(p, a->type == ONYX_ATTR_STRINGS || a->type == ONYX_ATTR_STRING,
               "activations must be a list of strings");
    int n = a->type == ONYX_ATTR_STRINGS ? (int)a->n : 1;
    /* one set for all directions, or one per direction */
    ONYX_CHECK(p, n == n_per_dir || n == n_per_dir * k->D,
               "activations has %d entries, expected %d (%d per direction)", n,
               n_per_dir * k->D, n_per_dir);
    const float *alphas = NULL, *betas = NULL;
    int64_t na = onyx_attr_floats(p, "activation_alpha", &alphas);
    int64_t nb = onyx_attr_floats(p, "activation_beta", &betas);
    int ia = 0, ib = 0;
    for (int q = 0; q < n; q++) {
        const char *name = a->type == ONYX_ATTR_STRINGS ? a->strings[q] : a->s;
        int found = -1;
        for (size_t t = 0; t < sizeof rnn_act_table / sizeof rnn_act_table[0];
             t++)
            if (strcasecmp(name, rnn_act_table[t].name) == 0) found = (int)t;
        if (found < 0)
            return onyx_fail(p, ONYX_ERR_UNSUPPORTED,
                             "activation '%s' is not one RNN/GRU/LSTM take",
                             name);
        rnn_act act = {rnn_act_table[found].kind, rnn_act_table[found].alpha,
                       rnn_act_table[found].beta};
        if (rnn_act_table[found].n_alpha && ia < na) act.alpha = alphas[ia++];
        if (rnn_act_table[found].n_beta && ib < nb) act.beta = betas[ib++];
        k->act[q / n_per_dir][q % n_per_dir] = act;
        if (n == n_per_dir) k->act[1][q] = act;
    }
    return ONYX_OK;
}

/* The lean path (rnn_lean): one batch row, one direction, no
 * sequence_lens, constant weights (packed in prepare), the default
 * activations and no clip: per-sample audio models, run at every sample. */
static int rnn_lean_fits(const rnn_params *k, int has_seq)
{
    static const rnn_act_kind dflt[3][3] = {
        {ACT_TANH}, {ACT_SIGMOID, ACT_TANH}, {ACT_SIGMOID, ACT_TANH, ACT_TANH}};
    if (k->B != 1 || k->D != 1 || has_seq || k->clip < INFINITY) return 0;
    for (int q = 0; q < k->G - (k->G > 1); q++)
        if (k->act[0][q].kind != dflt[k->cell][q]) return 0;
    return 1;
}

static onyx_status rnn_prepare(onyx_prep *p, rnn_cell cell)
{
    static const int gates[3] = {1, 3, 4}, n_acts[3] = {1, 2, 3};
    const int n_in_max = cell == CELL_LSTM ? 8 : 6;
    ONYX_CHECK(p, p->n_in >= 3 && p->n_in <= n_in_max,
               "takes 3 to %d inputs, got %d", n_in_max, p->n_in);
    ONYX_CHECK(p, p->n_out <= (cell == CELL_LSTM ? 3 : 2),
               "too many outputs (%d)", p->n_out);
    for (int i = 0; i < p->n_in; i++) {
        if (i == IN_SEQ || (i > IN_R && !rnn_opt(p->in, p->n_in, i))) continue;
        ONYX_TRY(onyx_need_dtype(p, i, ONYX_MASK(ONYX_FLOAT)));
    }
    const onyx_tensor *X = p->in[IN_X], *W = p->in[IN_W], *R = p->in[IN_R];
    const onyx_tensor *Bt = rnn_opt(p->in, p->n_in, IN_B);
    const onyx_tensor *seq = rnn_opt(p->in, p->n_in, IN_SEQ);
    const onyx_tensor *h0 = rnn_opt(p->in, p->n_in, IN_H0);
    const onyx_tensor *c0 =
        cell == CELL_LSTM ? rnn_opt(p->in, p->n_in, IN_C0) : NULL;
    const onyx_tensor *P =
        cell == CELL_LSTM ? rnn_opt(p->in, p->n_in, IN_P) : NULL;
    if (seq)
        ONYX_TRY(onyx_need_dtype(
            p, IN_SEQ, ONYX_MASK(ONYX_INT32) | ONYX_MASK(ONYX_INT64)));

    rnn_params k0;
    memset(&k0, 0, sizeof k0);
    rnn_params *k = &k0;
    k->cell = cell;
    k->G = gates[cell];

    const char *dir = onyx_attr_string(p, "direction", "forward");
    if (strcmp(dir, "forward") == 0) {
        k->D = 1;
    } else if (strcmp(dir, "reverse") == 0) {
        k->D = 1;
        k->reverse0 = 1;
    } else if (strcmp(dir, "bidirectional") == 0) {
        k->D = 2;
    } else {
        return onyx_fail(p, ONYX_ERR_INVALID,
                         "direction '%s' is not forward, reverse or "
                         "bidirectional",
                         dir);
    }
    int64_t layout = onyx_attr_int(p, "layout", 0);
    ONYX_CHECK(p, layout == 0 || layout == 1, "layout must be 0 or 1, got %lld",
               (long long)layout);
    ONYX_CHECK(p, layout == 0 || p->opset >= 14,
               "layout=1 needs opset 14 (model has %d)", p->opset);
    k->layout = (int)layout;
    const onyx_attr *clip = onyx_attr_get(p, "clip");
    k->clip = clip ? onyx_attr_float(p, "clip", 0) : INFINITY;
    ONYX_CHECK(p, k->clip > 0, "clip must be positive, got %g",
               (double)k->clip);
    k->lbr =
        cell == CELL_GRU && onyx_attr_int(p, "linear_before_reset", 0) != 0;
    k->input_forget =
        cell == CELL_LSTM && onyx_attr_int(p, "input_forget", 0) != 0;
#if ONYX_RNN_ACT_AVX2
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        k->isa = __builtin_cpu_supports("avx512f") ? ISA_AVX512 : ISA_AVX2;
#endif
    ONYX_TRY(rnn_parse_acts(p, k, n_acts[cell]));

    char s1[96], s2[96];
    ONYX_CHECK(p, X->rank == 3, "X must be 3-D, got %s",
               onyx_shape_str(X, s1, sizeof s1));
    int64_t T = layout ? X->dims[1] : X->dims[0];
    int64_t Bn = layout ? X->dims[0] : X->dims[1];
    int64_t I = X->dims[2];
    ONYX_CHECK(p, R->rank == 3 && R->dims[0] == k->D,
               "R must be [%d, %d*hidden_size, hidden_size], got %s", k->D,
               k->G, onyx_shape_str(R, s1, sizeof s1));
    int64_t H = onyx_attr_int(p, "hidden_size", R->dims[2]);
    ONYX_CHECK(p, H > 0, "hidden_size must be positive, got %lld",
               (long long)H);
    int64_t GH = k->G * H;
    ONYX_CHECK(p, R->dims[1] == GH && R->dims[2] == H,
               "R %s does not match [%d, %lld, %lld] (hidden_size %lld)",
               onyx_shape_str(R, s1, sizeof s1), k->D, (long long)GH,
               (long long)H, (long long)H);
    ONYX_CHECK(p,
               W->rank == 3 && W->dims[0] == k->D && W->dims[1] == GH &&
                   W->dims[2] == I,
               "W %s does not match [%d, %lld, %lld] for X %s",
               onyx_shape_str(W, s1, sizeof s1), k->D, (long long)GH,
               (long long)I, onyx_shape_str(X, s2, sizeof s2));
    if (Bt)
        ONYX_CHECK(
            p, Bt->rank == 2 && Bt->dims[0] == k->D && Bt->dims[1] == 2 * GH,
            "B %s does not match [%d, %lld]", onyx_shape_str(Bt, s1, sizeof s1),
            k->D, (long long)(2 * GH));
    if (seq)
        ONYX_CHECK(p, seq->rank == 1 && seq->dims[0] == Bn,
                   "sequence_lens %s does not match batch size %lld",
                   onyx_shape_str(seq, s1, sizeof s1), (long long)Bn);
    const onyx_tensor *states[2] = {h0, c0};
    for (int q = 0; q < 2; q++) {
        const onyx_tensor *s = states[q];
        if (!s) continue;
        int ok = s->rank == 3 && s->dims[2] == H &&
                 s->dims[layout ? 1 : 0] == k->D &&
                 s->dims[layout ? 0 : 1] == Bn;
        ONYX_CHECK(p, ok, "%s %s does not match %s",
                   q ? "initial_c" : "initial_h",
                   onyx_shape_str(s, s1, sizeof s1),
                   layout ? "[batch, num_directions, hidden_size]"
                          : "[num_directions, batch, hidden_size]");
    }
    if (P)
        ONYX_CHECK(p, P->rank == 2 && P->dims[0] == k->D && P->dims[1] == 3 * H,
                   "P %s does not match [%d, %lld]",
                   onyx_shape_str(P, s1, sizeof s1), k->D, (long long)(3 * H));
    ONYX_CHECK(p,
               T < (1 << 30) && Bn < (1 << 30) && I < (1 << 24) &&
                   GH < (1 << 24) && (T * Bn < (1ll << 31)),
               "sizes too large");
    k->T = (int)T;
    k->B = (int)Bn;
    k->I = (int)I;
    k->H = (int)H;
    k->GH = (int)GH;
    k->has_P = P != NULL;
    /* gates padded to whole vectors of 4; R^T packed for onyx_gemv_packed
     * when the batch is small, else row-major parts for mat_acc */
    k->Hp = (int)((H + 3) / 4 * 4);
    k->GHp = k->G * k->Hp;
    k->gemv = Bn <= RNN_MATVEC_ROWS;
    /* the fused step of a vector ISA, for packed weights on the lean path;
     * without one the lean path only with 4-float vectors (on x86 the
     * general path's vector activations beat its scalar cells) */
    k->packed = p->in_const && p->in_const[IN_W] && p->in_const[IN_R] &&
                (!Bt || p->in_const[IN_B]) && (!P || p->in_const[IN_P]) &&
                W->data && R->data && (!Bt || Bt->data) && (!P || P->data);
    const int fits = rnn_lean_fits(k, seq != NULL);
    const onyx_gru_variant *gv;
    int n_gv = onyx_gru_variants(&gv);
    if (fits && k->lbr && k->packed && n_gv > 1) k->gru = &gv[n_gv - 1];
    const onyx_lstm_variant *lv;
    int n_lv = onyx_lstm_variants(&lv);
    if (fits && cell == CELL_LSTM && !P && !k->input_forget && k->packed &&
        n_lv > 1)
        k->lstm = &lv[n_lv - 1];
    k->lean = fits && (k->isa == ISA_V4 || k->gru || k->lstm);
    /* GRU's h gate needs r first, unless linear_before_reset (then the lean
     * path multiplies every gate at once) */
    k->cut = cell == CELL_GRU && !(k->lean && k->lbr) ? 2 * k->Hp : k->GHp;
    const size_t Hp = (size_t)k->Hp, GHp = (size_t)k->GHp;

    /* outputs */
    int64_t dY[4], dS[3];
    if (layout) {
        int64_t a[4] = {Bn, T, k->D, H}, b[3] = {Bn, k->D, H};
        memcpy(dY, a, sizeof a);
        memcpy(dS, b, sizeof b);
    } else {
        int64_t a[4] = {T, k->D, Bn, H}, b[3] = {k->D, Bn, H};
        memcpy(dY, a, sizeof a);
        memcpy(dS, b, sizeof b);
    }
    for (int o = 0; o < p->n_out; o++) {
        if (!p->out[o]) continue;
        if (o == OUT_Y)
            onyx_set_shape(p->out[o], ONYX_FLOAT, 4, dY);
        else
            onyx_set_shape(p->out[o], ONYX_FLOAT, 3, dS);
    }

    /* packed weights */
    size_t n = 0;
    k->o_WT = n, n += up16((size_t)I * GHp);
    k->o_RT = n, n += up16((size_t)H * GHp);
    k->o_bx = n, n += up16(GHp);
    k->o_rbh = n, n += up16(Hp);
    k->o_P = n, n += up16(3 * Hp);
    k->o_ab = n, n += up16(GHp);
    k->o_zero = n, n += up16(Hp);
    k->o_F = n;
    n += k->gru    ? up16(k->gru->pack_floats(k->H, k->I))
         : k->lstm ? up16(k->lstm->pack_floats(k->H, k->I))
                   : 0;
    k->pack_n = n;
    k->has_B = Bt != NULL, k->has_seq = seq != NULL;
    k->has_h0 = h0 != NULL, k->has_c0 = c0 != NULL;

    /* scratch, in floats:
     *   pack   D * pack_n   W^T, R^T, biases, P when not packed in prepare
     *   xp     TC*B x GHp   input projection of TC steps, one direction;
     *                       long sequences go in chunks of TC steps
     *   gates  B x GHp      one step's gate rows (unequal sequence_lens)
     *   h, c   B x Hp       state of the direction being run
     *   tmp    B x Hp       GRU: r (.) Ht-1, or Ht-1 Rh^T + Rbh
     *   tmp2   Hp           one row's temporary inside a cell */
    int64_t cap = 1 << 16; /* floats of projection kept at once */
    int64_t TC = cap / (Bn * (int64_t)GHp > 0 ? Bn * (int64_t)GHp : 1);
    if (TC < 1) TC = 1;
    if (TC > T) TC = T;
    k->TC = (int)TC;
    size_t s = 0;
    k->s_pack = s, s += k->packed ? 0 : k->D * k->pack_n + H * GHp;
    k->s_xp = s, s += up16((size_t)TC * Bn * GHp);
    k->s_gates = s, s += up16((size_t)Bn * GHp);
    k->s_h = s, s += up16((size_t)Bn * Hp);
    k->s_c = s, s += up16((size_t)Bn * Hp);
    k->s_tmp = s, s += up16((size_t)Bn * Hp);
    k->s_tmp2 = s, s += up16(Hp);
    k->s_gemm = s,
    s += onyx_sgemm_scratch_bytes((int)(TC * Bn), GHp, I > H ? I : H) /
         sizeof(float);
    k->s_n = s;

    size_t pbytes =
        sizeof *k + (k->packed ? k->D * k->pack_n * sizeof(float) : 0);
    rnn_params *kp = aligned_alloc(64, (pbytes + 63) / 64 * 64);
    if (!kp) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory for weights");
    *kp = *k;
    if (kp->packed) {
        float *rt = malloc((size_t)H * GHp * sizeof(float));
        if (!rt) {
            free(kp);
            return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory for weights");
        }
        rnn_pack(kp, W->data, R->data, Bt ? Bt->data : NULL, P ? P->data : NULL,
                 kp->pack, rt);
        free(rt);
    }
    p->params = kp;
    p->free_params = NULL;
    p->scratch_bytes = s * sizeof(float);
    /* per step and direction: gates (G*H) x (input + hidden) MACs */
    if (X->rank == 3 && W->rank == 3) {
        int64_t steps = X->dims[0] * X->dims[1]; /* T*B either layout */
        int64_t dirs = W->dims[0], gh = W->dims[1];
        p->flops = onyx_flops_mul(onyx_flops_mul(2 * steps, dirs * gh),
                                  W->dims[2] + R->dims[2]);
    }
    return ONYX_OK;
}

/* ---- one step of each cell, for batch row b ----
 * g: the row's gate pre-activations (projection + recurrent product),
 * h, c: the row's state, updated in place. Each is a few passes over Hp
 * floats (whole vectors, padding included) that stay in L1. */

static void rnn_cell_rnn(const rnn_params *k, const rnn_act *act, float *g,
                         float *h)
{
    rnn_act_apply(k->isa, &act[0], h, g, k->Hp, k->clip);
}

/* g holds z r h pre-activations; with linear_before_reset, a holds
 * Ht-1 Rh^T + Rbh, else z and r are already activated and g's h part
 * includes (r (.) Ht-1) Rh^T. tmp: H floats. */
static void rnn_cell_gru(const rnn_params *k, const rnn_act *act, float *g,
                         const float *a, float *h, float *tmp)
{
    int H = k->Hp;
    float *z = g, *hh = g + 2 * H;
    if (a) {
        rnn_act_apply(k->isa, &act[0], g, g, 2 * H, k->clip); /* z, r */
        const float *r = g + H;
        for (int j = 0; j < H; j += 4) {
            int n = H - j < 4 ? H - j : 4;
            v4_store_n(tmp + j,
                       v4_load_n(hh + j, n) +
                           v4_load_n(r + j, n) * v4_load_n(a + j, n),
                       n);
        }
        rnn_act_apply(k->isa, &act[1], hh, tmp, H, k->clip);
    } else {
        rnn_act_apply(k->isa, &act[1], hh, hh, H, k->clip);
    }
    for (int j = 0; j < H; j += 4) { /* h = (1-z) hh + z h */
        int n = H - j < 4 ? H - j : 4;
        v4f x = v4_load_n(hh + j, n);
        v4_store_n(h + j, x + v4_load_n(z + j, n) * (v4_load_n(h + j, n) - x),
                   n);
    }
}

/* g holds i o f c pre-activations; P the peepholes i o f (NULL: none);
 * tmp: H floats */
static void rnn_cell_lstm(const rnn_params *k, const rnn_act *act, float *g,
                          const float *P, float *h, float *c, float *tmp)
{
    int H = k->Hp;
    float *gi = g, *go = g + H, *gf = g + 2 * H, *gc = g + 3 * H;
    if (P)
        for (int j = 0; j < H; j += 4) {
            int n = H - j < 4 ? H - j : 4;
            v4f cp = v4_load_n(c + j, n);
            v4_store_n(gi + j, v4_load_n(gi + j, n) + v4_load_n(P + j, n) * cp,
                       n);
            v4_store_n(gf + j,
                       v4_load_n(gf + j, n) + v4_load_n(P + 2 * H + j, n) * cp,
                       n);
        }
    rnn_act_apply(k->isa, &act[0], gi, gi, H, k->clip);
    if (!k->input_forget) rnn_act_apply(k->isa, &act[0], gf, gf, H, k->clip);
    rnn_act_apply(k->isa, &act[1], gc, gc, H, k->clip);
    for (int j = 0; j < H; j += 4) { /* c = f c + i cc; o's peephole sees c */
        int n = H - j < 4 ? H - j : 4;
        v4f i = v4_load_n(gi + j, n);
        v4f f = k->input_forget ? 1.0f - i : v4_load_n(gf + j, n);
        v4f cn = f * v4_load_n(c + j, n) + i * v4_load_n(gc + j, n);
        v4_store_n(c + j, cn, n);
        if (P)
            v4_store_n(go + j,
                       v4_load_n(go + j, n) + v4_load_n(P + H + j, n) * cn, n);
    }
    rnn_act_apply(k->isa, &act[0], go, go, H, k->clip);
    rnn_act_apply(k->isa, &act[2], tmp, c, H, INFINITY);
    for (int j = 0; j < H; j += 4) {
        int n = H - j < 4 ? H - j : 4;
        v4_store_n(h + j, v4_load_n(go + j, n) * v4_load_n(tmp + j, n), n);
    }
}

/* sequence length of batch row b */
static int rnn_len(const onyx_tensor *seq, int T, int b)
{
    return seq ? (int)onyx_get_int(seq, b) : T;
}

/* out (B, c1-c0; row stride ldo) = init (B, c1-c0; row stride ldi, 0: one
 * row for all) + x (B, H; row stride Hp) @ R^T's columns [c0, c1), a part
 * as rnn_pack made it: onyx_gemv_packed_c row by row for a small batch,
 * else mat_acc on the row-major part. out may be init. */
static void rnn_rec(const rnn_params *k, float *out, int ldo, const float *init,
                    int ldi, const float *x, const float *RT, int c0, int c1,
                    float *work)
{
    const float *Wp = RT + (size_t)k->H * c0;
    if (k->gemv) {
        for (int b = 0; b < k->B; b++)
            onyx_gemv_packed_c(c1 - c0, k->H, 1.0f, x + (size_t)b * k->Hp, Wp,
                               1.0f, init + (size_t)b * ldi,
                               out + (size_t)b * ldo);
        return;
    }
    if (out != init)
        for (int b = 0; b < k->B; b++)
            memcpy(out + (size_t)b * ldo, init + (size_t)b * ldi,
                   (size_t)(c1 - c0) * sizeof(float));
    mat_acc(out, ldo, x, k->Hp, Wp, c1 - c0, k->B, c1 - c0, k->H, work);
}

/* Run direction d over the whole sequence. */
static void rnn_direction(const rnn_params *k, int d, const float *pk,
                          float *scratch, const float *X,
                          const onyx_tensor *seq, int uniform, int maxlen,
                          const float *h0, const float *c0, float *Y, float *Yh,
                          float *Yc)
{
    const int T = k->T, B = k->B, I = k->I, H = k->H, D = k->D;
    const int Hp = k->Hp, GHp = k->GHp;
    const size_t hbytes = (size_t)H * sizeof(float);
    const int reverse = d == 1 || k->reverse0;
    const float *WT = pk + k->o_WT, *RT = pk + k->o_RT, *bx = pk + k->o_bx;
    const float *rbh = pk + k->o_rbh;
    const float *P = k->has_P ? pk + k->o_P : NULL;
    const rnn_act *act = k->act[d];
    float *xp = scratch + k->s_xp, *gates = scratch + k->s_gates;
    float *h = scratch + k->s_h, *c = scratch + k->s_c,
          *tmp = scratch + k->s_tmp;
    float *tmp2 = scratch + k->s_tmp2;

    /* state row b of initial_h / Y_h: [D,B,H] or [B,D,H]; the padding
     * units start at 0 (they never reach a unit that counts) */
    for (int b = 0; b < B; b++) {
        size_t o = (size_t)(k->layout ? b * D + d : d * B + b) * H;
        float *hb = h + (size_t)b * Hp, *cb = c + (size_t)b * Hp;
        if (h0)
            memcpy(hb, h0 + o, hbytes);
        else
            memset(hb, 0, hbytes);
        memset(hb + H, 0, (size_t)(Hp - H) * sizeof(float));
        if (k->cell != CELL_LSTM) continue; /* only LSTM has a cell state */
        if (c0)
            memcpy(cb, c0 + o, hbytes);
        else
            memset(cb, 0, hbytes);
        memset(cb + H, 0, (size_t)(Hp - H) * sizeof(float));
    }

    for (int s0 = 0; s0 < maxlen; s0 += k->TC) {
        int s1 = s0 + k->TC < maxlen ? s0 + k->TC : maxlen;
        /* Projection of this chunk's steps. Row of (t, b) in xp:
         * (t - tlo_b) * B + b, where [tlo_b, tlo_b + nt_b) are the times
         * row b visits in steps s0..s1-1. */
        for (int b = 0; b < B; b++) {
            int len = rnn_len(seq, T, b);
            int nt = (s1 < len ? s1 : len) - s0;
            if (nt <= 0) continue;
            for (int q = 0; q < nt; q++)
                memcpy(xp + ((size_t)q * B + b) * GHp, bx,
                       (size_t)GHp * sizeof(float));
            if (uniform && !k->layout) continue; /* one product below */
            int tlo = reverse ? len - s0 - nt : s0;
            const float *x = k->layout ? X + ((size_t)b * T + tlo) * I
                                       : X + ((size_t)tlo * B + b) * I;
            mat_acc(xp + (size_t)b * GHp, B * GHp, x, k->layout ? I : B * I, WT,
                    GHp, nt, GHp, I, scratch + k->s_gemm);
        }
        if (uniform && !k->layout) {
            int nt = s1 - s0;
            int tlo = reverse ? maxlen - s0 - nt : s0;
            mat_acc(xp, GHp, X + (size_t)tlo * B * I, I, WT, GHp, nt * B, GHp,
                    I, scratch + k->s_gemm);
        }

        for (int s = s0; s < s1; s++) {
            /* gate rows of this step: in place in xp when every row is at
             * the same chunk row, else gathered */
            float *g;
            if (uniform) {
                int q = reverse ? s1 - 1 - s : s - s0;
                g = xp + (size_t)q * B * GHp;
            } else {
                g = gates;
                for (int b = 0; b < B; b++) {
                    int len = rnn_len(seq, T, b);
                    float *gb = gates + (size_t)b * GHp;
                    if (s >= len) {
                        memset(gb, 0, (size_t)GHp * sizeof(float));
                        continue;
                    }
                    int q = reverse ? (s1 < len ? s1 : len) - 1 - s : s - s0;
                    memcpy(gb, xp + ((size_t)q * B + b) * GHp,
                           (size_t)GHp * sizeof(float));
                }
            }

            if (k->cell == CELL_GRU) {
                /* z, r first: the h gate needs r */
                rnn_rec(k, g, GHp, g, GHp, h, RT, 0, 2 * Hp,
                        scratch + k->s_gemm);
                if (k->lbr) {
                    rnn_rec(k, tmp, Hp, rbh, 0, h, RT, 2 * Hp, GHp,
                            scratch + k->s_gemm);
                } else {
                    /* z r activated here, tmp = r (.) Ht-1 */
                    for (int b = 0; b < B; b++) {
                        float *gb = g + (size_t)b * GHp;
                        rnn_act_apply(k->isa, &act[0], gb, gb, 2 * Hp, k->clip);
                        for (int j = 0; j < Hp; j += 4)
                            v4_store(tmp + (size_t)b * Hp + j,
                                     v4_load(gb + Hp + j) *
                                         v4_load(h + (size_t)b * Hp + j));
                    }
                    rnn_rec(k, g + 2 * Hp, GHp, g + 2 * Hp, GHp, tmp, RT,
                            2 * Hp, GHp, scratch + k->s_gemm);
                }
            } else {
                rnn_rec(k, g, GHp, g, GHp, h, RT, 0, GHp, scratch + k->s_gemm);
            }

            for (int b = 0; b < B; b++) {
                int len = rnn_len(seq, T, b);
                if (s >= len) continue;
                float *gb = g + (size_t)b * GHp, *hb = h + (size_t)b * Hp;
                if (k->cell == CELL_RNN)
                    rnn_cell_rnn(k, act, gb, hb);
                else if (k->cell == CELL_GRU)
                    rnn_cell_gru(k, act, gb,
                                 k->lbr ? tmp + (size_t)b * Hp : NULL, hb,
                                 tmp2);
                else
                    rnn_cell_lstm(k, act, gb, P, hb, c + (size_t)b * Hp, tmp2);
                if (Y) {
                    int t = reverse ? len - 1 - s : s;
                    size_t o = k->layout ? (((size_t)b * T + t) * D + d) * H
                                         : (((size_t)t * D + d) * B + b) * H;
                    memcpy(Y + o, hb, hbytes);
                }
            }
        }
    }

    for (int b = 0; b < B; b++) {
        size_t o = (size_t)(k->layout ? b * D + d : d * B + b) * H;
        if (Yh) memcpy(Yh + o, h + (size_t)b * Hp, hbytes);
        if (Yc) memcpy(Yc + o, c + (size_t)b * Hp, hbytes);
    }
}

/* ---- the lean path: one batch row, one direction (rnn_lean_fits) ----
 * Per step, one matrix-vector product a = ab + h @ R^T (GRU without
 * linear_before_reset: two, r comes first), then one pass over the units
 * that adds the input's part, applies the gates and writes the new state
 * straight into Y (or Y_h). The input's part x @ W^T is x0 * W^T's row for
 * one input (xw = WT, x0 = x[0]), else computed first into gx (xw = gx,
 * x0 = 1, which changes no bit). Units go 4 at a time; the state arrays
 * hold H floats (the last vector partial), the gate arrays Hp. */

/* h (n units from j) = tanh(a + x0 xw) */
static void lean_rnn(int H, const float *a, float x0, const float *xw,
                     float *hout)
{
    for (int j = 0; j < H; j += 4) {
        int n = H - j < 4 ? H - j : 4;
        v4_store_n(hout + j, v4_tanh(v4_load(a + j) + x0 * v4_load(xw + j)), n);
    }
}

/* GRU with linear_before_reset: a = (z r h) sums of ab + h @ R^T, where
 * ab's h part is Rbh; bx's h part is Wbh */
static void lean_gru_lbr(int H, int Hp, const float *a, const float *bx,
                         float x0, const float *xw, const float *hin,
                         float *hout)
{
    for (int j = 0; j < H; j += 4) {
        int n = H - j < 4 ? H - j : 4;
        v4f z = v4_sigmoid(v4_load(a + j) + x0 * v4_load(xw + j));
        v4f r = v4_sigmoid(v4_load(a + Hp + j) + x0 * v4_load(xw + Hp + j));
        v4f hh =
            v4_tanh(v4_load(bx + 2 * Hp + j) + x0 * v4_load(xw + 2 * Hp + j) +
                    r * v4_load(a + 2 * Hp + j));
        v4_store_n(hout + j, hh + z * (v4_load_n(hin + j, n) - hh), n);
    }
}

/* GRU, first half: z r = sigmoid(a + x0 xw) in place, rh = r (.) h */
static void lean_gru_zr(int H, int Hp, float *a, float x0, const float *xw,
                        const float *hin, float *rh)
{
    for (int j = 0; j < Hp; j += 4) {
        int n = H - j < 4 ? H - j : 4; /* <= 0 past H: rh's padding is 0 */
        v4f z = v4_sigmoid(v4_load(a + j) + x0 * v4_load(xw + j));
        v4f r = v4_sigmoid(v4_load(a + Hp + j) + x0 * v4_load(xw + Hp + j));
        v4_store(a + j, z);
        v4_store(rh + j, n > 0 ? r * v4_load_n(hin + j, n) : v4_set1(0.0f));
    }
}

/* GRU, second half: a's h part holds bxh + (r (.) h) @ Rh^T */
static void lean_gru_h(int H, int Hp, const float *a, float x0, const float *xw,
                       const float *hin, float *hout)
{
    for (int j = 0; j < H; j += 4) {
        int n = H - j < 4 ? H - j : 4;
        v4f hh =
            v4_tanh(v4_load(a + 2 * Hp + j) + x0 * v4_load(xw + 2 * Hp + j));
        v4_store_n(hout + j, hh + v4_load(a + j) * (v4_load_n(hin + j, n) - hh),
                   n);
    }
}

/* LSTM: a = (i o f c) sums; P the peepholes i o f or NULL */
static void lean_lstm(int H, int Hp, int input_forget, const float *a, float x0,
                      const float *xw, const float *P, const float *cin,
                      float *cout, float *hout)
{
    for (int j = 0; j < H; j += 4) {
        int n = H - j < 4 ? H - j : 4;
        v4f c = v4_load_n(cin + j, n);
        v4f gi = v4_load(a + j) + x0 * v4_load(xw + j);
        v4f go = v4_load(a + Hp + j) + x0 * v4_load(xw + Hp + j);
        v4f gf = v4_load(a + 2 * Hp + j) + x0 * v4_load(xw + 2 * Hp + j);
        v4f gc = v4_load(a + 3 * Hp + j) + x0 * v4_load(xw + 3 * Hp + j);
        if (P) {
            gi += v4_load(P + j) * c;
            gf += v4_load(P + 2 * Hp + j) * c;
        }
        v4f i = v4_sigmoid(gi);
        v4f f = input_forget ? 1.0f - i : v4_sigmoid(gf);
        v4f cn = f * c + i * v4_tanh(gc);
        if (P) go += v4_load(P + Hp + j) * cn;
        v4_store_n(cout + j, cn, n);
        v4_store_n(hout + j, v4_sigmoid(go) * v4_tanh(cn), n);
    }
}

static void rnn_lean(const rnn_params *k, const float *pk, float *scratch,
                     const float *X, const float *h0, const float *c0, float *Y,
                     float *Yh, float *Yc)
{
    const int T = k->T, I = k->I, H = k->H, Hp = k->Hp, GHp = k->GHp;
    const float *WT = pk + k->o_WT, *RT = pk + k->o_RT, *bx = pk + k->o_bx;
    const float *ab = pk + k->o_ab;
    const float *P = k->has_P ? pk + k->o_P : NULL;
    float *a = scratch + k->s_gates, *gx = scratch + k->s_xp;
    float *rh = scratch + k->s_tmp;
    const float *zero = pk + k->o_zero; /* Hp zeros */
    const float *hin = h0 ? h0 : zero, *cin = c0 ? c0 : zero;
    for (int s = 0; s < T; s++) {
        const int t = k->reverse0 ? T - 1 - s : s;
        float *hout = Y ? Y + (size_t)t * H : Yh ? Yh : scratch + k->s_h;
        float *cout = Yc ? Yc : scratch + k->s_c;
        const float *x = X + (size_t)t * I, *xw = WT;
        float x0 = x[0];
        if (I > 1) { /* gx (GHp) = x (I) @ W^T (I, GHp) */
            onyx_sgemm_vector(0, 0, 1, GHp, I, 1.0f, x, I, WT, GHp, 0.0f, gx,
                              GHp);
            xw = gx, x0 = 1.0f;
        }
        if (k->cell == CELL_GRU && !k->lbr) {
            onyx_gemv_packed_c(2 * Hp, H, 1.0f, hin, RT, 1.0f, ab, a);
            lean_gru_zr(H, Hp, a, x0, xw, hin, rh);
            onyx_gemv_packed_c(Hp, H, 1.0f, rh, RT + (size_t)H * 2 * Hp, 1.0f,
                               ab + 2 * Hp, a + 2 * Hp);
            lean_gru_h(H, Hp, a, x0, xw, hin, hout);
        } else {
            onyx_gemv_packed_c(GHp, H, 1.0f, hin, RT, 1.0f, ab, a);
            if (k->cell == CELL_GRU)
                lean_gru_lbr(H, Hp, a, bx, x0, xw, hin, hout);
            else if (k->cell == CELL_LSTM)
                lean_lstm(H, Hp, k->input_forget, a, x0, xw, P, cin, cout,
                          hout);
            else
                lean_rnn(H, a, x0, xw, hout);
        }
        hin = hout, cin = cout;
    }
    if (Yh && Yh != hin) memcpy(Yh, hin, (size_t)H * sizeof(float));
    if (Yc && Yc != cin) memcpy(Yc, cin, (size_t)H * sizeof(float));
}

/* The lean GRU with linear_before_reset (k->gru) or the LSTM without
 * peepholes (k->lstm) as fused per-step kernels. h's rows go straight
 * to Y, the last one also to Y_h; without Y the steps before the last
 * alternate between two scratch rows (a step must not write the state it
 * reads) and the last writes Y_h. The LSTM's c is updated in place in Y_c,
 * else in scratch. */
static void rnn_fused(const rnn_params *k, float *scratch, const float *X,
                      const float *h0, const float *c0, float *Y, float *Yh,
                      float *Yc)
{
    const int T = k->T, I = k->I, H = k->H;
    const float *F = k->pack + k->o_F;
    const float *hin = h0 ? h0 : k->pack + k->o_zero;
    float *c = NULL;
    if (k->lstm) {
        c = Yc ? Yc : scratch + k->s_c;
        if (c0)
            memmove(c, c0, (size_t)H * sizeof(float));
        else
            memset(c, 0, (size_t)H * sizeof(float));
    }
    for (int s = 0; s < T; s++) {
        const int t = k->reverse0 ? T - 1 - s : s;
        float *hout, *hout2 = NULL;
        if (Y) {
            hout = Y + (size_t)t * H;
            if (s == T - 1) hout2 = Yh;
        } else if (s == T - 1 && Yh) {
            hout = Yh;
        } else {
            hout = scratch + (s & 1 ? k->s_h : k->s_tmp);
        }
        if (c)
            k->lstm->step(H, I, F, X + (size_t)t * I, hin, c, hout, hout2);
        else
            k->gru->step(H, I, F, X + (size_t)t * I, hin, hout, hout2);
        hin = hout;
    }
}

static onyx_status rnn_eval(onyx_exec *e)
{
    const rnn_params *k = e->params;
    float *scratch = e->scratch;
    if (k->gru || k->lstm) {
        rnn_fused(
            k, scratch, e->in[IN_X]->data,
            k->has_h0 ? e->in[IN_H0]->data : NULL,
            k->has_c0 ? e->in[IN_C0]->data : NULL,
            e->n_out > OUT_Y && e->out[OUT_Y] ? e->out[OUT_Y]->data : NULL,
            e->n_out > OUT_YH && e->out[OUT_YH] ? e->out[OUT_YH]->data : NULL,
            e->n_out > OUT_YC && e->out[OUT_YC] ? e->out[OUT_YC]->data : NULL);
        return ONYX_OK;
    }
    const onyx_tensor *Bt = k->has_B ? e->in[IN_B] : NULL;
    const onyx_tensor *seq = k->has_seq ? e->in[IN_SEQ] : NULL;
    const onyx_tensor *h0 = k->has_h0 ? e->in[IN_H0] : NULL;
    const onyx_tensor *c0 = k->has_c0 ? e->in[IN_C0] : NULL;
    const onyx_tensor *P = k->has_P ? e->in[IN_P] : NULL;
    const float *pack = k->pack;
    if (!k->packed) {
        rnn_pack(k, e->in[IN_W]->data, e->in[IN_R]->data, Bt ? Bt->data : NULL,
                 P ? P->data : NULL, scratch + k->s_pack,
                 scratch + k->s_pack + k->D * k->pack_n);
        pack = scratch + k->s_pack;
    }

    if (k->lean) {
        float *Y0 =
            e->n_out > OUT_Y && e->out[OUT_Y] ? e->out[OUT_Y]->data : NULL;
        float *Yh0 =
            e->n_out > OUT_YH && e->out[OUT_YH] ? e->out[OUT_YH]->data : NULL;
        float *Yc0 =
            e->n_out > OUT_YC && e->out[OUT_YC] ? e->out[OUT_YC]->data : NULL;
        rnn_lean(k, pack, scratch, e->in[IN_X]->data, h0 ? h0->data : NULL,
                 c0 ? c0->data : NULL, Y0, Yh0, Yc0);
        return ONYX_OK;
    }

    /* sequence lengths: when they are all equal (the usual case) a step's
     * rows sit together in the projection and are used in place */
    int maxlen = k->T, uniform = 1;
    if (seq && k->B > 0) {
        maxlen = 0;
        for (int b = 0; b < k->B; b++) {
            int64_t len = onyx_get_int(seq, b);
            if (len < 0 || len > k->T) {
                e->err = "sequence_lens has a value outside [0, seq_length]";
                return ONYX_ERR_RUNTIME;
            }
            if (len > maxlen) maxlen = (int)len;
            if (len != onyx_get_int(seq, 0)) uniform = 0;
        }
    }
    float *Y = e->n_out > OUT_Y && e->out[OUT_Y] ? e->out[OUT_Y]->data : NULL;
    float *Yh =
        e->n_out > OUT_YH && e->out[OUT_YH] ? e->out[OUT_YH]->data : NULL;
    float *Yc =
        e->n_out > OUT_YC && e->out[OUT_YC] ? e->out[OUT_YC]->data : NULL;
    if (Y && (maxlen < k->T || !uniform)) /* steps past a sequence's end */
        memset(Y, 0, (size_t)k->T * k->D * k->B * k->H * sizeof(float));

    for (int d = 0; d < k->D; d++)
        rnn_direction(k, d, pack + (size_t)d * k->pack_n, scratch,
                      e->in[IN_X]->data, seq, uniform, maxlen,
                      h0 ? h0->data : NULL, c0 ? c0->data : NULL, Y, Yh, Yc);
    return ONYX_OK;
}

static onyx_status rnn_prepare_rnn(onyx_prep *p)
{
    return rnn_prepare(p, CELL_RNN);
}
static onyx_status rnn_prepare_gru(onyx_prep *p)
{
    return rnn_prepare(p, CELL_GRU);
}
static onyx_status rnn_prepare_lstm(onyx_prep *p)
{
    return rnn_prepare(p, CELL_LSTM);
}

const onyx_op onyx_op_RNN = {"RNN", rnn_prepare_rnn, rnn_eval, 0, NULL};
const onyx_op onyx_op_GRU = {"GRU", rnn_prepare_gru, rnn_eval, 0, NULL};
const onyx_op onyx_op_LSTM = {"LSTM", rnn_prepare_lstm, rnn_eval, 0, NULL};
