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

/* Integer arithmetic runs in 64 bits through uint64 and is narrowed back to
 * the type: overflow wraps (as numpy and PyTorch do) instead of being
 * undefined, and small types are not promoted to a possibly overflowing int
 * (uint16 * uint16 would be). */
#define U64(x) ((uint64_t)(x))

/* Integer division by zero and INT_MIN / -1 trap on x86 (SIGFPE); numpy
 * gives 0 for x / 0 and x % 0, and wraps INT_MIN / -1 to INT_MIN. So do
 * these: division truncates toward zero (C); x / 0 = 0; x / -1 negates with
 * wrap-around; x % 0 = 0 and x % -1 = 0. Narrowed to int8..int32 the
 * results wrap like the type's own INT_MIN / -1 would. */
static inline int64_t idiv_s64(int64_t a, int64_t b)
{
    if (b == 0) return 0;
    if (b == -1) return (int64_t)(0 - U64(a));
    return a / b;
}
static inline uint64_t idiv_u64(uint64_t a, uint64_t b)
{
    return b ? a / b : 0;
}
/* fmod=1: C's remainder, with the sign of the dividend */
static inline int64_t irem_s64(int64_t a, int64_t b)
{
    return (b == 0 || b == -1) ? 0 : a % b;
}
static inline uint64_t irem_u64(uint64_t a, uint64_t b)
{
    return b ? a % b : 0;
}
/* fmod=0: Python's a % b, with the sign of the divisor */
static inline int64_t imod_s64(int64_t a, int64_t b)
{
    int64_t r = irem_s64(a, b);
    return (r != 0 && (r < 0) != (b < 0)) ? (int64_t)(U64(r) + U64(b)) : r;
}
/* numpy.fmod for floats: the sign of the dividend (fmod=1) */
#define FMOD_F32(a, b) fmodf(a, b)

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

/* BitShift: shifting by the type's width or more gives 0 (in C it would be
 * undefined). */
#define SHL(T, a, b) ((T)(U64(b) < 8 * sizeof(T) ? U64(a) << (b) : 0))
#define SHR(T, a, b) ((T)(U64(b) < 8 * sizeof(T) ? U64(a) >> (b) : 0))

/* NaN-propagating max/min, like numpy's maximum/minimum and torch.max */
static inline float max_f32(float a, float b)
{
    return (a > b || a != a) ? a : b;
}
static inline float min_f32(float a, float b)
{
    return (a < b || a != a) ? a : b;
}
static inline double max_f64(double a, double b)
{
    return (a > b || a != a) ? a : b;
}
static inline double min_f64(double a, double b)
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
BIN_FN(fmod_f32, float, float, float, fmodf(A, B))
BIN_FN(add_f64, double, double, double, A + B)
BIN_FN(sub_f64, double, double, double, A - B)
BIN_FN(mul_f64, double, double, double, A * B)
BIN_FN(div_f64, double, double, double, A / B)
BIN_FN(max_f64_fn, double, double, double, max_f64(A, B))
BIN_FN(min_f64_fn, double, double, double, min_f64(A, B))
BIN_FN(fmod_f64, double, double, double, fmod(A, B))

/* The integer dtypes: (short name, C type, unsigned type of its width, S for
 * signed or U for unsigned). */
#define INT_TYPES(X)                                                           \
    X(i8, int8_t, uint8_t, S) X(i16, int16_t, uint16_t, S)                     \
    X(i32, int32_t, uint32_t, S) X(i64, int64_t, uint64_t, S)                  \
    X(u8, uint8_t, uint8_t, U) X(u16, uint16_t, uint16_t, U)                   \
    X(u32, uint32_t, uint32_t, U) X(u64, uint64_t, uint64_t, U)

/* a op b in 64 bits, signed or unsigned as the type is */
#define DIV_S(a, b) U64(idiv_s64((int64_t)(a), (int64_t)(b)))
#define DIV_U(a, b) idiv_u64(U64(a), U64(b))
#define REM_S(a, b) U64(irem_s64((int64_t)(a), (int64_t)(b)))
#define REM_U(a, b) irem_u64(U64(a), U64(b))
#define MOD_S(a, b) U64(imod_s64((int64_t)(a), (int64_t)(b)))
#define MOD_U(a, b) irem_u64(U64(a), U64(b)) /* no signs: the same */

/* the arithmetic, comparison and min/max loops of one integer type; the
 * results are narrowed through the unsigned type (wrap-around) */
#define INT_FNS(n, T, UT, S)                                                   \
    BIN_FN(add_##n, T, T, T, (T)(UT)(U64(A) + U64(B)))                         \
    BIN_FN(sub_##n, T, T, T, (T)(UT)(U64(A) - U64(B)))                         \
    BIN_FN(mul_##n, T, T, T, (T)(UT)(U64(A) * U64(B)))                         \
    BIN_FN(div_##n, T, T, T, (T)(UT)DIV_##S(A, B))                             \
    BIN_FN(mod_##n, T, T, T, (T)(UT)MOD_##S(A, B))                             \
    BIN_FN(rem_##n, T, T, T, (T)(UT)REM_##S(A, B))                             \
    BIN_FN(max_##n, T, T, T, A > B ? A : B)                                    \
    BIN_FN(min_##n, T, T, T, A < B ? A : B)                                    \
    BIN_FN(eq_##n, T, T, uint8_t, A == B)                                      \
    BIN_FN(lt_##n, T, T, uint8_t, A < B)                                       \
    BIN_FN(gt_##n, T, T, uint8_t, A > B)                                       \
    BIN_FN(le_##n, T, T, uint8_t, A <= B)                                      \
    BIN_FN(ge_##n, T, T, uint8_t, A >= B)
INT_TYPES(INT_FNS)
/* BitShift takes the unsigned types only */
#define SHIFT_FNS(n, T)                                                        \
    BIN_FN(shl_##n, T, T, T, SHL(T, A, B))                                     \
    BIN_FN(shr_##n, T, T, T, SHR(T, A, B))
SHIFT_FNS(u8, uint8_t)
SHIFT_FNS(u16, uint16_t)
SHIFT_FNS(u32, uint32_t)
SHIFT_FNS(u64, uint64_t)

BIN_FN(pow_f32_f32, float, float, float, powf(A, B))
BIN_FN(square_f32, float, float, float, ((void)B, A * A)) /* Pow(x, 2) */

/* Pow of mixed types (the spec's T for the base, T1 for the exponent): the
 * result has the base's type. A float base computes in double; an integer
 * base with an integer exponent multiplies, with a float one it goes
 * through double and is truncated. */
#define POW_F(A, B) pow((double)(A), (double)(B))
#define POW_I(A, B)                                                            \
    _Generic((B), float: onyx_f2i(POW_F(A, B)),                               \
             double: onyx_f2i(POW_F(A, B)),                                    \
             default: pow_i64((int64_t)(A), (int64_t)(B)))
#define POW_BASE_f32(A, B) ((float)POW_F(A, B))
#define POW_BASE_f64(A, B) POW_F(A, B)
#define POW_BASE_i32(A, B) ((int32_t)(uint32_t)U64(POW_I(A, B)))
#define POW_BASE_i64(A, B) POW_I(A, B)
/* the exponent types, then the base types */
#define POW_EXPS(X, nb, TB)                                                    \
    X(nb, TB, f32, float) X(nb, TB, f64, double) X(nb, TB, i8, int8_t)         \
    X(nb, TB, i16, int16_t) X(nb, TB, i32, int32_t) X(nb, TB, i64, int64_t)    \
    X(nb, TB, u8, uint8_t) X(nb, TB, u16, uint16_t) X(nb, TB, u32, uint32_t)   \
    X(nb, TB, u64, uint64_t)
#define POW_BASES(X, Y)                                                        \
    X(Y, f32, float) X(Y, f64, double) X(Y, i32, int32_t) X(Y, i64, int64_t)
#define POW_FN(nb, TB, ne, TE)                                                 \
    BIN_FN(powx_##nb##_##ne, TB, TE, TB, POW_BASE_##nb(A, B))
#define POW_FNS(X, nb, TB) POW_EXPS(X, nb, TB)
POW_BASES(POW_FNS, POW_FN)

BIN_FN(eq_f32, float, float, uint8_t, A == B)
BIN_FN(lt_f32, float, float, uint8_t, A < B)
BIN_FN(gt_f32, float, float, uint8_t, A > B)
BIN_FN(le_f32, float, float, uint8_t, A <= B)
BIN_FN(ge_f32, float, float, uint8_t, A >= B)
BIN_FN(eq_f64, double, double, uint8_t, A == B)
BIN_FN(lt_f64, double, double, uint8_t, A < B)
BIN_FN(gt_f64, double, double, uint8_t, A > B)
BIN_FN(le_f64, double, double, uint8_t, A <= B)
BIN_FN(ge_f64, double, double, uint8_t, A >= B)
BIN_FN(eq_b8, uint8_t, uint8_t, uint8_t, (A != 0) == (B != 0))
BIN_FN(and_b8, uint8_t, uint8_t, uint8_t, (A != 0) & (B != 0))
BIN_FN(or_b8, uint8_t, uint8_t, uint8_t, (A != 0) | (B != 0))
BIN_FN(xor_b8, uint8_t, uint8_t, uint8_t, (A != 0) ^ (B != 0))

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
WHERE_FN(where_2, uint16_t)
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

enum { BIN_DTYPES = ONYX_BFLOAT16 + 1 };

typedef struct {
    const char *name;
    bin_kind kind;
    bin_fn fn[BIN_DTYPES]; /* inner loop per input dtype; NULL: refused */
} bin_def;

/* designated entries of fn[]: the float types, the integer types, bool */
#define F32(op) [ONYX_FLOAT] = op##_f32
#define F64(op) [ONYX_DOUBLE] = op##_f64
#define INTS(op)                                                               \
    [ONYX_INT8] = op##_i8, [ONYX_INT16] = op##_i16, [ONYX_INT32] = op##_i32,   \
    [ONYX_INT64] = op##_i64, [ONYX_UINT8] = op##_u8, [ONYX_UINT16] = op##_u16, \
    [ONYX_UINT32] = op##_u32, [ONYX_UINT64] = op##_u64
#define UINTS(op)                                                              \
    [ONYX_UINT8] = op##_u8, [ONYX_UINT16] = op##_u16,                          \
    [ONYX_UINT32] = op##_u32, [ONYX_UINT64] = op##_u64
#define B8(fn) [ONYX_BOOL] = fn

/* Mod and BitShift pick their row by attribute: "Mod" is fmod=0 (integers
 * only: the spec requires fmod=1 for floats), "Mod/fmod" fmod=1;
 * "BitShift" is direction LEFT, "BitShift/right" RIGHT. */
static const bin_def bin_defs[] = {
    {"Add", K_ARITH, {F32(add), F64(add), INTS(add)}},
    {"Sub", K_ARITH, {F32(sub), F64(sub), INTS(sub)}},
    {"Mul", K_ARITH, {F32(mul), F64(mul), INTS(mul)}},
    {"Div", K_ARITH, {F32(div), F64(div), INTS(div)}},
    {"Mod", K_ARITH, {INTS(mod)}},
    {"Mod/fmod", K_ARITH, {F32(fmod), F64(fmod), INTS(rem)}},
    {"BitShift", K_ARITH, {UINTS(shl)}},
    {"BitShift/right", K_ARITH, {UINTS(shr)}},
    {"Pow", K_POW, {0}},
    {"Max",
     K_VARIADIC,
     {[ONYX_FLOAT] = max_f32_fn, [ONYX_DOUBLE] = max_f64_fn, INTS(max)}},
    {"Min",
     K_VARIADIC,
     {[ONYX_FLOAT] = min_f32_fn, [ONYX_DOUBLE] = min_f64_fn, INTS(min)}},
    {"Sum", K_VARIADIC, {F32(add), F64(add), [ONYX_INT64] = add_i64}},
    {"Mean", K_VARIADIC, {F32(add)}},
    {"Equal", K_COMPARE, {F32(eq), F64(eq), INTS(eq), B8(eq_b8)}},
    {"Less", K_COMPARE, {F32(lt), F64(lt), INTS(lt)}},
    {"Greater", K_COMPARE, {F32(gt), F64(gt), INTS(gt)}},
    {"LessOrEqual", K_COMPARE, {F32(le), F64(le), INTS(le)}},
    {"GreaterOrEqual", K_COMPARE, {F32(ge), F64(ge), INTS(ge)}},
    {"And", K_COMPARE, {B8(and_b8)}},
    {"Or", K_COMPARE, {B8(or_b8)}},
    {"Xor", K_COMPARE, {B8(xor_b8)}},
    {"Where", K_WHERE, {0}},
    {"PRelu", K_PRELU, {F32(prelu)}},
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
    return (unsigned)t < BIN_DTYPES ? d->fn[t] : NULL;
}

/* Pow: a float32, float64, int32 or int64 base; an exponent of any numeric
 * type; a constant scalar float32 exponent 2 becomes a multiply. */
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
#define POW_CASE_EXP(nb, TB, ne, TE) [DT_##ne] = powx_##nb##_##ne,
#define POW_ROW(X, nb, TB)           [DT_##nb] = {POW_EXPS(X, nb, TB)},
    enum {
        DT_f32 = ONYX_FLOAT,
        DT_f64 = ONYX_DOUBLE,
        DT_i8 = ONYX_INT8,
        DT_i16 = ONYX_INT16,
        DT_i32 = ONYX_INT32,
        DT_i64 = ONYX_INT64,
        DT_u8 = ONYX_UINT8,
        DT_u16 = ONYX_UINT16,
        DT_u32 = ONYX_UINT32,
        DT_u64 = ONYX_UINT64
    };
    static const bin_fn table[BIN_DTYPES][BIN_DTYPES] = {
        POW_BASES(POW_ROW, POW_CASE_EXP)};
#undef POW_ROW
#undef POW_CASE_EXP
    if ((unsigned)tb >= BIN_DTYPES || (unsigned)te >= BIN_DTYPES) return NULL;
    return table[tb][te];
}

/* The row of an op whose loop an attribute chooses (Mod, BitShift). */
static onyx_status bin_variant(onyx_prep *p, const bin_def **d)
{
    if (strcmp((*d)->name, "Mod") == 0) {
        int64_t fm = onyx_attr_int(p, "fmod", 0);
        ONYX_CHECK(p, fm == 0 || fm == 1, "Mod fmod %lld must be 0 or 1",
                   (long long)fm);
        onyx_dtype t = p->n_in >= 1 && p->in[0] ? p->in[0]->dtype : 0;
        ONYX_CHECK(p,
                   fm == 1 || !(t == ONYX_FLOAT || t == ONYX_DOUBLE ||
                                t == ONYX_FLOAT16 || t == ONYX_BFLOAT16),
                   "Mod of %s inputs needs fmod=1 (the spec's rule for "
                   "floats)",
                   onyx_dtype_name(t));
        if (fm) *d = bin_find("Mod/fmod");
    } else if (strcmp((*d)->name, "BitShift") == 0) {
        const char *dir = onyx_attr_string(p, "direction", "");
        if (strcmp(dir, "RIGHT") == 0)
            *d = bin_find("BitShift/right");
        else
            ONYX_CHECK(p, strcmp(dir, "LEFT") == 0,
                       "BitShift direction '%s' must be LEFT or RIGHT", dir);
    }
    return ONYX_OK;
}

static onyx_status bin_prepare(onyx_prep *p)
{
    const bin_def *d = bin_find(p->op_type);
    ONYX_CHECK(p, d != NULL, "op %s is not a broadcasting op", p->op_type);
    ONYX_TRY(bin_variant(p, &d));
    ONYX_CHECK(p, p->n_out >= 1, "%s needs one output", p->op_type);
    int want = d->kind == K_WHERE ? 3 : 2;
    if (d->kind == K_VARIADIC) {
        ONYX_CHECK(p, p->n_in >= 1 && p->n_in <= BIN_MAX_INPUTS,
                   "%s takes 1 to %d inputs, got %d", p->op_type,
                   BIN_MAX_INPUTS, p->n_in);
    } else {
        ONYX_CHECK(p, p->n_in == want, "%s takes %d inputs, got %d", p->op_type,
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
        size_t es = onyx_dtype_size(tx);
        ONYX_CHECK(p, es != 0 && tx != ONYX_STRING,
                   "Where does not take %s inputs", onyx_dtype_name(tx));
        fn = es == 1   ? where_1
             : es == 2 ? where_2
             : es == 4 ? where_4
                       : where_8;
        ydt = tx;
    } else if (d->kind == K_POW) {
        ONYX_TRY(legacy_broadcast(p, &shapes[1]));
        fn = pick_pow(p);
        if (!fn)
            return onyx_fail(p, ONYX_ERR_UNSUPPORTED,
                             "Pow takes a float32, float64, int32 or int64 "
                             "base and a numeric exponent, got %s ^ %s",
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
                             "%s does not take %s inputs", p->op_type,
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
    const onyx_op onyx_op_##Name = {#Name, bin_prepare, bin_eval, 0, NULL};
const onyx_op onyx_op_Add = {"Add", bin_prepare, bin_eval, ONYX_OP_ADD, NULL};
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
BIN_OP(Xor)
BIN_OP(Mod)
BIN_OP(BitShift)
BIN_OP(Where)
BIN_OP(PRelu)
