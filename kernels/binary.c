/* binary.c - the broadcasting elementwise ops: arithmetic (Add Sub Mul Div
 * Pow), variadic (Max Min Sum Mean), comparisons, logic, Where and PRelu.
 *
 * prepare broadcasts the input shapes (numpy rules) and folds the output
 * into as few dimensions as the operands allow: same-shape operands and
 * scalars become one flat loop. eval walks the outer dimensions with
 * precomputed strides and calls an inner loop over the last one, where each
 * operand is either contiguous (stride 1) or a repeated scalar (stride 0). */
#include "onyx_kernel.h"

/* GCC's -O2 vectorises only loops that need no scalar epilogue, and with
 * trapping math it keeps the selects (Max, PRelu, Where) as branches: the
 * inner loops here are flat, ask for vectorisation. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("tree-vectorize", "vect-cost-model=dynamic",              \
                     "no-trapping-math")
#endif

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* On x86-64 the inner loops are also compiled for AVX2, picked at load time
 * by the CPU (same results: no FMA contraction in ISO C mode). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) &&         \
    defined(__linux__)
#define BIN_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define BIN_CLONES
#endif

/* y (n,) = f(a, b[, c]); sa/sb/sc are 1 for a contiguous operand, 0 for a
 * scalar repeated n times. */
typedef void (*bin_fn)(void *y, const void *a, const void *b, const void *c,
                       int64_t n, int sa, int sb, int sc);

/* An inner loop y[i] = EXPR(A, B) for each of the four stride cases, so the
 * compiler sees plain contiguous loops it can vectorise. */
#define BIN_FN(name, TA, TB, TY, EXPR)                                         \
    BIN_CLONES static void name(void *yv, const void *av, const void *bv,      \
                                const void *cv, int64_t n, int sa, int sb,     \
                                int sc)                                        \
    {                                                                          \
        TY *y = yv;                                                            \
        const TA *a = av;                                                      \
        const TB *b = bv;                                                      \
        (void)cv;                                                              \
        (void)sc;                                                              \
        if (sa && sb) {                                                        \
            for (int64_t i = 0; i < n; i++) {                                  \
                TA A = a[i];                                                   \
                TB B = b[i];                                                   \
                y[i] = (EXPR);                                                 \
            }                                                                  \
        } else if (sa) {                                                       \
            const TB B = b[0];                                                 \
            for (int64_t i = 0; i < n; i++) {                                  \
                TA A = a[i];                                                   \
                y[i] = (EXPR);                                                 \
            }                                                                  \
        } else if (sb) {                                                       \
            const TA A = a[0];                                                 \
            for (int64_t i = 0; i < n; i++) {                                  \
                TB B = b[i];                                                   \
                y[i] = (EXPR);                                                 \
            }                                                                  \
        } else {                                                               \
            const TA A = a[0];                                                 \
            const TB B = b[0];                                                 \
            const TY v = (EXPR);                                               \
            for (int64_t i = 0; i < n; i++)                                    \
                y[i] = v;                                                      \
        }                                                                      \
    }

/* int64 arithmetic through uint64: overflow wraps (as numpy and PyTorch do)
 * instead of being undefined. */
#define U64(x) ((uint64_t)(x))

/* C division truncates toward zero; x/0 gives 0 and INT64_MIN/-1 wraps,
 * rather than trapping. */
static inline int64_t div_i64(int64_t a, int64_t b)
{
    if (b == 0) return 0;
    if (b == -1) return (int64_t)(0 - U64(a));
    return a / b;
}

/* a^b for integers: square-and-multiply; negative exponents give 0 except
 * for bases 1 and -1. */
static inline int64_t pow_i64(int64_t a, int64_t b)
{
    if (b < 0) {
        if (a == 1) return 1;
        if (a == -1) return (b & 1) ? -1 : 1;
        return 0;
    }
    uint64_t r = 1, base = U64(a);
    while (b) {
        if (b & 1) r *= base;
        base *= base;
        b >>= 1;
    }
    return (int64_t)r;
}

/* NaN-propagating max/min, like numpy's maximum/minimum and torch.max */
static inline float max_f32(float a, float b)
{
    return (a > b || a != a) ? a : b;
}
static inline float min_f32(float a, float b)
{
    return (a < b || a != a) ? a : b;
}

/* (clang-format would read A * B as a declaration) */
/* clang-format off */
BIN_FN(add_f32, float, float, float, A + B)
BIN_FN(sub_f32, float, float, float, A - B)
BIN_FN(mul_f32, float, float, float, A * B)
BIN_FN(div_f32, float, float, float, A / B)
BIN_FN(max_f32_fn, float, float, float, max_f32(A, B))
BIN_FN(min_f32_fn, float, float, float, min_f32(A, B))
BIN_FN(add_i64, int64_t, int64_t, int64_t, (int64_t)(U64(A) + U64(B)))
BIN_FN(sub_i64, int64_t, int64_t, int64_t, (int64_t)(U64(A) - U64(B)))
BIN_FN(mul_i64, int64_t, int64_t, int64_t, (int64_t)(U64(A) * U64(B)))
BIN_FN(div_i64_fn, int64_t, int64_t, int64_t, div_i64(A, B))
BIN_FN(max_i64, int64_t, int64_t, int64_t, A > B ? A : B)
BIN_FN(min_i64, int64_t, int64_t, int64_t, A < B ? A : B)

BIN_FN(pow_f32_f32, float, float, float, powf(A, B))
BIN_FN(pow_f32_i64, float, int64_t, float, powf(A, (float)B))
BIN_FN(pow_i64_i64, int64_t, int64_t, int64_t, pow_i64(A, B))
BIN_FN(pow_i64_f32, int64_t, float, int64_t, onyx_f2i(pow((double)A, (double)B)))
BIN_FN(square_f32, float, float, float, ((void)B, A * A)) /* Pow(x, 2) */

BIN_FN(eq_f32, float, float, uint8_t, A == B)
BIN_FN(lt_f32, float, float, uint8_t, A < B)
BIN_FN(gt_f32, float, float, uint8_t, A > B)
BIN_FN(le_f32, float, float, uint8_t, A <= B)
BIN_FN(ge_f32, float, float, uint8_t, A >= B)
BIN_FN(eq_i64, int64_t, int64_t, uint8_t, A == B)
BIN_FN(lt_i64, int64_t, int64_t, uint8_t, A < B)
BIN_FN(gt_i64, int64_t, int64_t, uint8_t, A > B)
BIN_FN(le_i64, int64_t, int64_t, uint8_t, A <= B)
BIN_FN(ge_i64, int64_t, int64_t, uint8_t, A >= B)
BIN_FN(eq_b8, uint8_t, uint8_t, uint8_t, (A != 0) == (B != 0))
BIN_FN(and_b8, uint8_t, uint8_t, uint8_t, (A != 0) & (B != 0))
BIN_FN(or_b8, uint8_t, uint8_t, uint8_t, (A != 0) | (B != 0))

BIN_FN(prelu_f32, float, float, float, A < 0 ? A * B : A)
/* clang-format on */

/* Where: y = cond ? x : y, by element size (the dtype does not matter). */
#define WHERE_FN(name, T)                                                      \
    BIN_CLONES static void name(void *yv, const void *cv, const void *xv,      \
                                const void *zv, int64_t n, int sc, int sx,     \
                                int sz)                                        \
    {                                                                          \
        T *y = yv;                                                             \
        const uint8_t *c = cv;                                                 \
        const T *x = xv, *z = zv;                                              \
        if (sc && sx && sz) {                                                  \
            for (int64_t i = 0; i < n; i++)                                    \
                y[i] = c[i] ? x[i] : z[i];                                     \
        } else {                                                               \
            for (int64_t i = 0; i < n; i++)                                    \
                y[i] = c[i * sc] ? x[i * sx] : z[i * sz];                      \
        }                                                                      \
    }
WHERE_FN(where_1, uint8_t)
WHERE_FN(where_4, uint32_t)
WHERE_FN(where_8, uint64_t)

/* ---- the op table ---- */

typedef enum {
    K_ARITH,    /* two inputs of one dtype, output of that dtype */
    K_POW,      /* base and exponent may differ in dtype */
    K_VARIADIC, /* 1..n inputs folded pairwise (Max Min Sum Mean) */
    K_COMPARE,  /* two inputs of one dtype, bool output */
    K_WHERE,
    K_PRELU,
} bin_kind;

typedef struct {
    const char *name;
    bin_kind kind;
    bin_fn f32, i64, b8; /* inner loop per input dtype; NULL: refused */
} bin_def;

static const bin_def bin_defs[] = {
    {"Add", K_ARITH, add_f32, add_i64, NULL},
    {"Sub", K_ARITH, sub_f32, sub_i64, NULL},
    {"Mul", K_ARITH, mul_f32, mul_i64, NULL},
    {"Div", K_ARITH, div_f32, div_i64_fn, NULL},
    {"Pow", K_POW, NULL, NULL, NULL},
    {"Max", K_VARIADIC, max_f32_fn, max_i64, NULL},
    {"Min", K_VARIADIC, min_f32_fn, min_i64, NULL},
    {"Sum", K_VARIADIC, add_f32, add_i64, NULL},
    {"Mean", K_VARIADIC, add_f32, NULL, NULL},
    {"Equal", K_COMPARE, eq_f32, eq_i64, eq_b8},
    {"Less", K_COMPARE, lt_f32, lt_i64, NULL},
    {"Greater", K_COMPARE, gt_f32, gt_i64, NULL},
    {"LessOrEqual", K_COMPARE, le_f32, le_i64, NULL},
    {"GreaterOrEqual", K_COMPARE, ge_f32, ge_i64, NULL},
    {"And", K_COMPARE, NULL, NULL, and_b8},
    {"Or", K_COMPARE, NULL, NULL, or_b8},
    {"Where", K_WHERE, NULL, NULL, NULL},
    {"PRelu", K_PRELU, prelu_f32, NULL, NULL},
};

enum { BIN_MAX_INPUTS = 32 }; /* Sum/Max/Min/Mean inputs */

/* The broadcast plan: the output folded to `rank` dims; row k of stride
 * holds input k's strides (elements) over those dims, row n_ops the
 * output's own contiguous strides. */
typedef struct {
    bin_fn fn;
    int where;                    /* three operands: cond, X, Y */
    int n_ops;                    /* inputs */
    size_t esize[BIN_MAX_INPUTS]; /* element size of each input */
    size_t ysize;                 /* element size of the output */
    float mean_scale;             /* Mean: 1/n_ops, else 0 */
    int rank;                     /* >= 1 */
    int64_t dims[ONYX_MAX_RANK];
    int64_t n;                       /* numel of the output */
    int64_t stride[][ONYX_MAX_RANK]; /* n_ops + 1 rows */
} bin_params;

static const bin_def *bin_find(const char *name)
{
    for (size_t i = 0; i < sizeof bin_defs / sizeof bin_defs[0]; i++)
        if (strcmp(bin_defs[i].name, name) == 0) return &bin_defs[i];
    return NULL;
}

/* Fill the plan from the output shape and the inputs' (possibly re-shaped)
 * tensors: drop size-1 output dims, then merge neighbouring dims wherever
 * every operand steps through them as through one (stride[i] ==
 * stride[i+1] * dims[i+1]). */
static void bin_plan(bin_params *b, const onyx_tensor *const *ts,
                     const onyx_tensor *Y)
{
    int r = Y->rank, m = b->n_ops;
    int64_t full[BIN_MAX_INPUTS][ONYX_MAX_RANK];
    for (int k = 0; k < m; k++)
        onyx_broadcast_strides(ts[k], Y, full[k]);

    /* keep the dims of size > 1 */
    int64_t d[ONYX_MAX_RANK], s[BIN_MAX_INPUTS][ONYX_MAX_RANK];
    int nd = 0;
    for (int i = 0; i < r; i++) {
        if (Y->dims[i] == 1) continue;
        d[nd] = Y->dims[i];
        for (int k = 0; k < m; k++)
            s[k][nd] = full[k][i];
        nd++;
    }
    b->n = onyx_numel(Y);
    if (nd == 0) {
        b->rank = 1;
        b->dims[0] = 1;
        for (int k = 0; k <= m; k++)
            b->stride[k][0] = 0;
        return;
    }

    /* merge from the innermost dim outwards: od/os are built innermost
     * first */
    int64_t od[ONYX_MAX_RANK], os[BIN_MAX_INPUTS][ONYX_MAX_RANK];
    int no = 1;
    od[0] = d[nd - 1];
    for (int k = 0; k < m; k++)
        os[k][0] = s[k][nd - 1];
    for (int i = nd - 2; i >= 0; i--) {
        int ok = 1;
        for (int k = 0; k < m && ok; k++)
            ok = s[k][i] == s[k][i + 1] * d[i + 1];
        if (ok) {
            /* dim i steps like one more block of dim i+1 (whose group is
             * already consistent): the group grows, its strides stay */
            od[no - 1] *= d[i];
            continue;
        }
        od[no] = d[i];
        for (int k = 0; k < m; k++)
            os[k][no] = s[k][i];
        no++;
    }
    b->rank = no;
    for (int j = 0; j < no; j++) {
        b->dims[j] = od[no - 1 - j];
        for (int k = 0; k < m; k++)
            b->stride[k][j] = os[k][no - 1 - j];
    }
    int64_t st = 1;
    for (int j = no - 1; j >= 0; j--) {
        b->stride[m][j] = st;
        st *= b->dims[j];
    }
}

/* y = fn(op[ka], op[kb], op[kc]) over the plan. Operand index n_ops is the
 * output itself (contiguous); kc < 0 means no third operand. */
static void bin_run(const bin_params *b, bin_fn fn, char *y,
                    const char *const *ptr, const size_t *esz, int ka, int kb,
                    int kc)
{
    const int r = b->rank, m = b->n_ops;
    const int64_t L = b->dims[r - 1];
    const int64_t outer = b->n / L;
    const int64_t *sa = b->stride[ka], *sb = b->stride[kb];
    const int64_t *sc = kc >= 0 ? b->stride[kc] : b->stride[m];
    const char *pa = ptr[ka], *pb = ptr[kb], *pc = kc >= 0 ? ptr[kc] : NULL;
    const size_t ea = esz[ka], eb = esz[kb], ec = kc >= 0 ? esz[kc] : 0;
    const int ia = (int)sa[r - 1], ib = (int)sb[r - 1], ic = (int)sc[r - 1];
    int64_t idx[ONYX_MAX_RANK] = {0};
    int64_t oa = 0, ob = 0, oc = 0;
    for (int64_t o = 0; o < outer; o++) {
        fn(y + (size_t)(o * L) * b->ysize, pa + (size_t)oa * ea,
           pb + (size_t)ob * eb, pc ? pc + (size_t)oc * ec : NULL, L, ia, ib,
           ic);
        for (int d = r - 2; d >= 0; d--) {
            oa += sa[d];
            ob += sb[d];
            oc += sc[d];
            if (++idx[d] < b->dims[d]) break;
            oa -= sa[d] * b->dims[d];
            ob -= sb[d] * b->dims[d];
            oc -= sc[d] * b->dims[d];
            idx[d] = 0;
        }
    }
}

/* Before opset 7, `broadcast=1` with `axis` aligned B's dims at A's axis
 * (B [3] onto A [2,3,4] at axis 1): append trailing 1s to B. */
static onyx_status legacy_broadcast(onyx_prep *p, onyx_tensor *B)
{
    if (p->opset >= 7 || !onyx_attr_int(p, "broadcast", 0)) return ONYX_OK;
    const onyx_attr *ax = onyx_attr_get(p, "axis");
    if (!ax) return ONYX_OK; /* suffix alignment: numpy's rule */
    int axis;
    ONYX_TRY(onyx_axis(p, ax->i, p->in[0]->rank, 0, &axis));
    int want = p->in[0]->rank - axis;
    ONYX_CHECK(p, B->rank <= want,
               "B has rank %d, too many for broadcast at axis %d", B->rank,
               axis);
    while (B->rank < want)
        B->dims[B->rank++] = 1;
    return ONYX_OK;
}

/* Before opset 7, PRelu's slope [C] applied per channel of X [N,C,...]
 * (PyTorch's nn.PReLU(C) exports exactly that at opset 6). */
static void legacy_prelu_slope(const onyx_prep *p, onyx_tensor *slope)
{
    const onyx_tensor *X = p->in[0];
    if (p->opset >= 7 || slope->rank != 1 || X->rank < 3) return;
    if (slope->dims[0] != X->dims[1]) return;
    while (slope->rank < X->rank - 1)
        slope->dims[slope->rank++] = 1;
}

static bin_fn pick_fn(const bin_def *d, onyx_dtype t)
{
    switch (t) {
    case ONYX_FLOAT: return d->f32;
    case ONYX_INT64: return d->i64;
    case ONYX_BOOL: return d->b8;
    default: return NULL;
    }
}

/* Pow: float32 or int64 base; float32 or int64 exponent; a constant scalar
 * exponent 2 becomes a multiply. */
static bin_fn pick_pow(onyx_prep *p)
{
    onyx_dtype tb = p->in[0]->dtype, te = p->in[1]->dtype;
    if (tb == ONYX_FLOAT && te == ONYX_FLOAT) {
        const onyx_tensor *E = p->in[1];
        if (p->in_const[1] && E->data && onyx_numel(E) == 1 &&
            *(const float *)E->data == 2.0f)
            return square_f32;
        return pow_f32_f32;
    }
    if (tb == ONYX_FLOAT && te == ONYX_INT64) return pow_f32_i64;
    if (tb == ONYX_INT64 && te == ONYX_INT64) return pow_i64_i64;
    if (tb == ONYX_INT64 && te == ONYX_FLOAT) return pow_i64_f32;
    return NULL;
}

static onyx_status bin_prepare(onyx_prep *p)
{
    const bin_def *d = bin_find(p->op_type);
    ONYX_CHECK(p, d != NULL, "op %s is not a broadcasting op", p->op_type);
    ONYX_CHECK(p, p->n_out >= 1, "%s needs one output", d->name);
    int want = d->kind == K_WHERE ? 3 : 2;
    if (d->kind == K_VARIADIC) {
        ONYX_CHECK(p, p->n_in >= 1 && p->n_in <= BIN_MAX_INPUTS,
                   "%s takes 1 to %d inputs, got %d", d->name, BIN_MAX_INPUTS,
                   p->n_in);
    } else {
        ONYX_CHECK(p, p->n_in == want, "%s takes %d inputs, got %d", d->name,
                   want, p->n_in);
    }
    for (int i = 0; i < p->n_in; i++)
        ONYX_TRY(onyx_need_input(p, i));

    /* the inputs as broadcast sees them (legacy rules may append 1s) */
    onyx_tensor shapes[BIN_MAX_INPUTS];
    const onyx_tensor *ts[BIN_MAX_INPUTS];
    for (int i = 0; i < p->n_in; i++) {
        shapes[i] = *p->in[i];
        ts[i] = &shapes[i];
    }

    bin_fn fn = NULL;
    onyx_dtype ydt;
    const onyx_dtype t0 = p->in[0]->dtype;
    if (d->kind == K_WHERE) {
        ONYX_TRY(onyx_need_dtype(p, 0, ONYX_MASK(ONYX_BOOL)));
        onyx_dtype tx = p->in[1]->dtype;
        ONYX_CHECK(p, tx == p->in[2]->dtype,
                   "Where X is %s but Y is %s: they must match",
                   onyx_dtype_name(tx), onyx_dtype_name(p->in[2]->dtype));
        ONYX_TRY(onyx_need_dtype(p, 1,
                                 ONYX_MASK(ONYX_FLOAT) | ONYX_MASK(ONYX_INT64) |
                                     ONYX_MASK(ONYX_INT32) |
                                     ONYX_MASK(ONYX_BOOL)));
        size_t es = onyx_dtype_size(tx);
        fn = es == 1 ? where_1 : es == 4 ? where_4 : where_8;
        ydt = tx;
    } else if (d->kind == K_POW) {
        ONYX_TRY(legacy_broadcast(p, &shapes[1]));
        fn = pick_pow(p);
        if (!fn)
            return onyx_fail(p, ONYX_ERR_UNSUPPORTED,
                             "Pow takes a float32 or int64 base and exponent, "
                             "got %s ^ %s",
                             onyx_dtype_name(t0),
                             onyx_dtype_name(p->in[1]->dtype));
        ydt = t0;
    } else {
        for (int i = 1; i < p->n_in; i++)
            ONYX_CHECK(p, p->in[i]->dtype == t0,
                       "input %d is %s but input 0 is %s: they must match", i,
                       onyx_dtype_name(p->in[i]->dtype), onyx_dtype_name(t0));
        fn = pick_fn(d, t0);
        if (!fn)
            return onyx_fail(p, ONYX_ERR_UNSUPPORTED,
                             "%s does not take %s inputs", d->name,
                             onyx_dtype_name(t0));
        ydt = d->kind == K_COMPARE ? ONYX_BOOL : t0;
        if (d->kind == K_ARITH || d->kind == K_COMPARE)
            ONYX_TRY(legacy_broadcast(p, &shapes[1]));
        if (d->kind == K_PRELU) legacy_prelu_slope(p, &shapes[1]);
    }

    onyx_tensor Y;
    memset(&Y, 0, sizeof Y);
    ONYX_TRY(onyx_broadcast_shape(p, ts, p->n_in, &Y));
    if (d->kind == K_PRELU) {
        char a[96], b[96];
        ONYX_CHECK(p, onyx_same_shape(&Y, p->in[0]),
                   "slope %s does not broadcast to X %s",
                   onyx_shape_str(p->in[1], a, sizeof a),
                   onyx_shape_str(p->in[0], b, sizeof b));
    }

    bin_params *b =
        calloc(1, sizeof *b + (size_t)(p->n_in + 1) * sizeof b->stride[0]);
    if (!b) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    p->params = b;
    b->fn = fn;
    b->where = d->kind == K_WHERE;
    b->n_ops = p->n_in;
    for (int i = 0; i < p->n_in; i++)
        b->esize[i] = onyx_dtype_size(p->in[i]->dtype);
    b->ysize = onyx_dtype_size(ydt);
    if (strcmp(d->name, "Mean") == 0) b->mean_scale = 1.0f / (float)p->n_in;
    bin_plan(b, ts, &Y);

    if (p->out[0]) onyx_set_shape(p->out[0], ydt, Y.rank, Y.dims);
    return ONYX_OK;
}

static onyx_status bin_eval(onyx_exec *e)
{
    const bin_params *b = e->params;
    onyx_tensor *Yt = e->out[0];
    if (!Yt || b->n == 0) return ONYX_OK;
    char *y = Yt->data;
    const int m = b->n_ops;

    const char *ptr[BIN_MAX_INPUTS + 1];
    size_t esz[BIN_MAX_INPUTS + 1];
    for (int k = 0; k < m; k++) {
        ptr[k] = e->in[k]->data;
        esz[k] = b->esize[k];
    }
    ptr[m] = y;
    esz[m] = b->ysize;

    if (b->where) {
        bin_run(b, b->fn, y, ptr, esz, 0, 1, 2);
        return ONYX_OK;
    }
    if (m == 1) { /* Max/Min/Sum/Mean of one input: a copy */
        if (y != ptr[0]) memcpy(y, ptr[0], (size_t)b->n * b->ysize);
        return ONYX_OK;
    }
    /* y = in0 op in1, then y = y op in_k: later inputs fold into y */
    bin_run(b, b->fn, y, ptr, esz, 0, 1, -1);
    for (int k = 2; k < m; k++)
        bin_run(b, b->fn, y, ptr, esz, m, k, -1);
    if (b->mean_scale != 0.0f) {
        float *yf = (float *)y;
        for (int64_t i = 0; i < b->n; i++)
            yf[i] *= b->mean_scale;
    }
    return ONYX_OK;
}

#define BIN_OP(Name)                                                           \
    const onyx_op onyx_op_##Name = {#Name, bin_prepare, bin_eval};
BIN_OP(Add)
BIN_OP(Sub)
BIN_OP(Mul)
BIN_OP(Div)
BIN_OP(Pow)
BIN_OP(Max)
BIN_OP(Min)
BIN_OP(Sum)
BIN_OP(Mean)
BIN_OP(Equal)
BIN_OP(Less)
BIN_OP(Greater)
BIN_OP(LessOrEqual)
BIN_OP(GreaterOrEqual)
BIN_OP(And)
BIN_OP(Or)
BIN_OP(Where)
BIN_OP(PRelu)
