/* einsum.c - Einsum: sums of products over labelled axes, e.g. "bij,bjk->bik"
 * (batched matmul), "ii->i" (diagonal), "ij->" (sum), "...ij->...ji".
 *
 * prepare parses the equation into labels, one per distinct letter and one
 * per axis hidden by "...", and gives every input a stride per label (the
 * sum of its axes' strides when a letter repeats in one term: a diagonal).
 * eval walks the output labels, and for each output element the contracted
 * labels, multiplying the inputs' elements. Two float32 inputs whose labels
 * form a batched matrix product (each label in both inputs, or in one input
 * and the output) go through onyx_sgemm instead, one product per batch. */
#include "math/gemm.h"
#include "onyx_kernel.h"

#include <stdlib.h>
#include <string.h>

#define EIN_MAX_IN  8
#define EIN_MAX_LAB (52 + ONYX_MAX_RANK) /* letters, then "..." axes */

enum { EIN_Y = 0 };

typedef struct {
    int n_in;
    int n_out_lab, n_lab; /* labels 0..n_out_lab-1 are Y's axes, in order */
    int64_t size[EIN_MAX_LAB];
    int64_t stride[EIN_MAX_IN][EIN_MAX_LAB]; /* elements; 0: not in input */
    int64_t y_numel;
    onyx_dtype dtype;
    /* batched product path (float32, two inputs): for each batch b,
     * Y[b] (m,n) = A[b] (m,k) @ B[b] (k,n) with the strides below */
    int gemm;
    int64_t batch;
    int n_batch_lab;
    int batch_lab[EIN_MAX_LAB];
    int64_t m, n, k;
    int trans_a, trans_b, lda, ldb;
    size_t work_bytes;
} einsum_params;

/* Letter to label slot 0..51, or -1. */
static int letter_slot(char c)
{
    if (c >= 'a' && c <= 'z') return c - 'a';
    if (c >= 'A' && c <= 'Z') return 26 + c - 'A';
    return -1;
}

/* One parsed term: slot per axis; slots >= 52 are the "..." axes, 52 + j
 * for the j-th of the n_ell broadcast axes counted from the left. */
typedef struct {
    int n;
    int slot[ONYX_MAX_RANK];
    int has_ell;
} ein_term;

/* Parse term s[0..len) for a tensor of the given rank (rank < 0: the output,
 * whose "..." stands for all n_ell broadcast axes). */
static onyx_status parse_term(onyx_prep *p, const char *s, size_t len, int rank,
                              int n_ell, ein_term *t)
{
    int n_letters = 0, ell = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.') {
            ONYX_CHECK(
                p, !ell && i + 2 < len && s[i + 1] == '.' && s[i + 2] == '.',
                "equation: '.' must come as one '...' per term");
            ell = 1;
            i += 2;
        } else {
            ONYX_CHECK(p, letter_slot(s[i]) >= 0,
                       "equation: '%c' is not a label (letters a-z, A-Z)",
                       s[i]);
            n_letters++;
        }
    }
    int e = 0; /* number of axes "..." stands for */
    if (rank >= 0) {
        ONYX_CHECK(p, ell ? n_letters <= rank : n_letters == rank,
                   "equation: term '%.*s' does not match an input of rank %d",
                   (int)len, s, rank);
        e = rank - n_letters;
    } else {
        e = ell ? n_ell : 0;
    }
    t->n = 0;
    t->has_ell = ell;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.') {
            /* right-aligned among the n_ell broadcast axes */
            ONYX_CHECK(p, t->n + e <= ONYX_MAX_RANK,
                       "equation: too many labels");
            for (int j = 0; j < e; j++)
                t->slot[t->n++] = 52 + (rank >= 0 ? n_ell - e : 0) + j;
            i += 2;
        } else {
            ONYX_CHECK(p, t->n < ONYX_MAX_RANK, "equation: too many labels");
            t->slot[t->n++] = letter_slot(s[i]);
        }
    }
    return ONYX_OK;
}

/* The equation without spaces into buf. */
static onyx_status strip_equation(onyx_prep *p, const char *eq, char *buf,
                                  size_t cap)
{
    size_t n = 0;
    for (const char *c = eq; *c; c++) {
        if (*c == ' ') continue;
        ONYX_CHECK(p, n + 1 < cap, "equation is too long");
        buf[n++] = *c;
    }
    buf[n] = 0;
    return ONYX_OK;
}

/* The labels of term t with role r, in the term's order, into out. */
static int labels_with_role(const ein_term *t, const int *lab_of_slot,
                            const int *role, int r, int *out)
{
    int n = 0;
    for (int i = 0; i < t->n; i++)
        if (role[lab_of_slot[t->slot[i]]] == r)
            out[n++] = lab_of_slot[t->slot[i]];
    return n;
}

static int same_labels(const int *a, int na, const int *b, int nb)
{
    return na == nb && !memcmp(a, b, sizeof *a * (size_t)na);
}

/* Term t's axes are its batch labels, then one block of role r1 labels, then
 * one of role r2 (either block may be empty). Returns 0 when they are not,
 * 1 when the order is r1 then r2 (or one block only), 2 when it is r2 then
 * r1. */
static int block_order(const ein_term *t, const int *lab_of_slot,
                       const int *role, int r1, int r2)
{
    int i = 0, first = -1, second = -1;
    while (i < t->n && role[lab_of_slot[t->slot[i]]] == 0)
        i++;
    for (; i < t->n; i++) {
        int r = role[lab_of_slot[t->slot[i]]];
        if (r != r1 && r != r2) return 0;
        if (first < 0)
            first = r;
        else if (r != first && second < 0)
            second = r;
        else if (r != first && r != second)
            return 0;
        else if (r == first && second >= 0)
            return 0;
    }
    return first == r2 && second == r1 ? 2 : 1;
}

/* Sets up the batched product when the labels allow it: every label is in
 * both inputs and Y (batch), both inputs only (k), or one input and Y (m
 * from A, n from B); no diagonals, no broadcast; Y is (batch, m, n); A is
 * (batch, m, k) or (batch, k, m), B (batch, k, n) or (batch, n, k), each
 * group of labels in one order everywhere. */
static void plan_gemm(einsum_params *ep, const ein_term *ta, const ein_term *tb,
                      const ein_term *ty, const int *lab_of_slot,
                      const onyx_tensor *A, const onyx_tensor *B)
{
    enum { R_BATCH, R_M, R_N, R_K };
    if (ep->n_in != 2 || ep->dtype != ONYX_FLOAT) return;
    int role[EIN_MAX_LAB];
    int in_a[EIN_MAX_LAB] = {0}, in_b[EIN_MAX_LAB] = {0},
        in_y[EIN_MAX_LAB] = {0};
    for (int i = 0; i < ta->n; i++)
        in_a[lab_of_slot[ta->slot[i]]]++;
    for (int i = 0; i < tb->n; i++)
        in_b[lab_of_slot[tb->slot[i]]]++;
    for (int i = 0; i < ty->n; i++)
        in_y[lab_of_slot[ty->slot[i]]]++;
    for (int l = 0; l < ep->n_lab; l++) {
        if (in_a[l] > 1 || in_b[l] > 1) return; /* a diagonal */
        if (in_a[l] && in_b[l])
            role[l] = in_y[l] ? R_BATCH : R_K;
        else if (in_a[l] && in_y[l])
            role[l] = R_M;
        else if (in_b[l] && in_y[l])
            role[l] = R_N;
        else
            return; /* summed within one input */
    }
    for (int i = 0; i < ta->n; i++)
        if (A->dims[i] != ep->size[lab_of_slot[ta->slot[i]]]) return;
    for (int i = 0; i < tb->n; i++)
        if (B->dims[i] != ep->size[lab_of_slot[tb->slot[i]]]) return;
    if (block_order(ty, lab_of_slot, role, R_M, R_N) != 1) return;
    int oa = block_order(ta, lab_of_slot, role, R_M, R_K);
    int ob = block_order(tb, lab_of_slot, role, R_K, R_N);
    if (!oa || !ob) return;
    int l1[EIN_MAX_LAB], l2[EIN_MAX_LAB], l3[EIN_MAX_LAB];
    for (int r = R_BATCH; r <= R_K; r++) {
        int n1 = labels_with_role(ty, lab_of_slot, role, r, l1);
        int n2 = labels_with_role(ta, lab_of_slot, role, r, l2);
        int n3 = labels_with_role(tb, lab_of_slot, role, r, l3);
        if (r == R_K) n1 = n3, memcpy(l1, l3, sizeof l1);
        if ((r != R_N && !same_labels(l1, n1, l2, n2)) ||
            (r != R_M && !same_labels(l1, n1, l3, n3)))
            return;
        if (r == R_BATCH) {
            ep->n_batch_lab = n1;
            memcpy(ep->batch_lab, l1, sizeof l1);
        }
    }
    int64_t dim[4] = {1, 1, 1, 1};
    for (int l = 0; l < ep->n_lab; l++)
        dim[role[l]] *= ep->size[l];
    if (dim[R_M] > 0x7fffffff || dim[R_N] > 0x7fffffff || dim[R_K] > 0x7fffffff)
        return;
    ep->gemm = 1;
    ep->batch = dim[R_BATCH];
    ep->m = dim[R_M], ep->n = dim[R_N], ep->k = dim[R_K];
    ep->trans_a = oa == 2, ep->trans_b = ob == 2;
    ep->lda = (int)(ep->trans_a ? ep->m : ep->k);
    ep->ldb = (int)(ep->trans_b ? ep->k : ep->n);
    ep->work_bytes =
        onyx_sgemm_scratch_bytes((int)ep->m, (int)ep->n, (int)ep->k);
}

/* Operations: every output element folds the product of the inputs over
 * the contracted labels (letters not in the output), n_in operations per
 * term (n_in - 1 multiplies and an add). */
static int64_t einsum_flops(const onyx_prep *p)
{
    const char *eq = onyx_attr_string(p, "equation", NULL);
    int64_t ny = onyx_out_numel(p);
    if (!eq) return ny;
    const char *arrow = strstr(eq, "->");
    int uses[128] = {0}, in_out[128] = {0};
    int64_t size[128];
    for (int i = 0; i < 128; i++)
        size[i] = 1;
    const char *c = eq;
    for (int t = 0; t < p->n_in && p->in[t] && *c && c != arrow; t++) {
        /* one term: letters before "..." count from the left, after it from
         * the right */
        const onyx_tensor *X = p->in[t];
        const char *end = c;
        while (*end && *end != ',' && end != arrow)
            end++;
        const char *ell = strstr(c, "...");
        if (ell && ell >= end) ell = NULL;
        int after = 0;
        for (const char *q = ell ? ell + 3 : end; q < end; q++)
            after += *q != ' ';
        int k = 0;
        for (const char *q = c; q < end; q++) {
            unsigned char ch = (unsigned char)*q;
            if (ell && q == ell) {
                k = X->rank - after;
                q += 2;
                continue;
            }
            if (ch >= 128 || ch == ' ' || ch == '.') continue;
            if (!uses[ch] && k >= 0 && k < X->rank) size[ch] = X->dims[k];
            uses[ch]++;
            k++;
        }
        c = *end == ',' ? end + 1 : end;
    }
    for (int ch = 0; ch < 128; ch++)
        in_out[ch] = arrow ? strchr(arrow + 2, ch) != NULL : uses[ch] == 1;
    int64_t per = 1;
    for (int ch = 'A'; ch <= 'z'; ch++)
        if (uses[ch] && !in_out[ch]) per = onyx_flops_mul(per, size[ch]);
    return onyx_flops_mul(onyx_flops_mul(ny, per), p->n_in);
}

static onyx_status einsum_prepare(onyx_prep *p)
{
    ONYX_CHECK(p, p->n_in >= 1 && p->n_in <= EIN_MAX_IN,
               "Einsum takes 1 to %d inputs, not %d", EIN_MAX_IN, p->n_in);
    unsigned types = ONYX_MASK(ONYX_FLOAT) | ONYX_MASK(ONYX_DOUBLE) |
                     ONYX_MASK(ONYX_INT64) | ONYX_MASK(ONYX_INT32);
    for (int i = 0; i < p->n_in; i++) {
        ONYX_TRY(onyx_need_dtype(p, i, types));
        ONYX_CHECK(p, p->in[i]->dtype == p->in[0]->dtype,
                   "input %d is %s, input 0 %s: Einsum wants one dtype", i,
                   onyx_dtype_name(p->in[i]->dtype),
                   onyx_dtype_name(p->in[0]->dtype));
    }
    const char *eq0 = onyx_attr_string(p, "equation", NULL);
    ONYX_CHECK(p, eq0 != NULL, "attribute 'equation' is required");
    char eq[256];
    ONYX_TRY(strip_equation(p, eq0, eq, sizeof eq));

    /* split into input terms and the output term */
    char *arrow = strstr(eq, "->");
    size_t lhs_len = arrow ? (size_t)(arrow - eq) : strlen(eq);
    const char *term_s[EIN_MAX_IN];
    size_t term_len[EIN_MAX_IN];
    int n_terms = 0;
    const char *s = eq;
    for (;;) {
        const char *c = memchr(s, ',', lhs_len - (size_t)(s - eq));
        size_t len = c ? (size_t)(c - s) : lhs_len - (size_t)(s - eq);
        ONYX_CHECK(p, n_terms < p->n_in,
                   "equation '%s' has more terms than the %d inputs", eq0,
                   p->n_in);
        term_s[n_terms] = s;
        term_len[n_terms++] = len;
        if (!c) break;
        s = c + 1;
    }
    ONYX_CHECK(p, n_terms == p->n_in,
               "equation '%s' has %d terms for %d inputs", eq0, n_terms,
               p->n_in);

    /* the number of "..." axes: the most any input hides (a first pass
     * with room for all) */
    int n_ell = 0;
    ein_term terms[EIN_MAX_IN + 1];
    for (int i = 0; i < p->n_in; i++) {
        ONYX_TRY(parse_term(p, term_s[i], term_len[i], p->in[i]->rank,
                            ONYX_MAX_RANK, &terms[i]));
        int e = 0;
        for (int j = 0; j < terms[i].n; j++)
            e += terms[i].slot[j] >= 52;
        if (e > n_ell) n_ell = e;
    }
    /* again, now that the "..." axes can be right-aligned */
    for (int i = 0; i < p->n_in; i++)
        ONYX_TRY(parse_term(p, term_s[i], term_len[i], p->in[i]->rank, n_ell,
                            &terms[i]));

    /* size of each slot, checked across inputs; a "..." axis broadcasts */
    int64_t slot_size[EIN_MAX_LAB];
    int slot_count[EIN_MAX_LAB] = {0};
    for (int l = 0; l < EIN_MAX_LAB; l++)
        slot_size[l] = -1;
    for (int i = 0; i < p->n_in; i++)
        for (int j = 0; j < terms[i].n; j++) {
            int sl = terms[i].slot[j];
            int64_t d = p->in[i]->dims[j];
            slot_count[sl]++;
            if (slot_size[sl] < 0 || (sl >= 52 && slot_size[sl] == 1)) {
                slot_size[sl] = d;
                continue;
            }
            ONYX_CHECK(p, d == slot_size[sl] || (sl >= 52 && d == 1),
                       "equation '%s': label '%c' is %lld on input %d and "
                       "%lld before",
                       eq0,
                       sl < 26   ? 'a' + sl
                       : sl < 52 ? 'A' + sl - 26
                                 : '.',
                       (long long)d, i, (long long)slot_size[sl]);
        }

    /* the output term: given, or "..." then the letters used once, sorted */
    ein_term *ty = &terms[p->n_in];
    if (arrow) {
        const char *o = arrow + 2;
        ONYX_TRY(parse_term(p, o, strlen(o), -1, n_ell, ty));
        int seen[EIN_MAX_LAB] = {0};
        for (int j = 0; j < ty->n; j++) {
            int sl = ty->slot[j];
            ONYX_CHECK(p, slot_count[sl] > 0,
                       "equation '%s': an output label is in no input", eq0);
            ONYX_CHECK(p, !seen[sl], "equation '%s': output repeats a label",
                       eq0);
            seen[sl] = 1;
        }
    } else {
        ty->n = 0;
        ty->has_ell = 1;
        for (int j = 0; j < n_ell; j++)
            ty->slot[ty->n++] = 52 + j;
        /* letters in ASCII order: upper case first */
        for (int c = 'A'; c <= 'z'; c++) {
            int sl = letter_slot((char)c);
            if (sl < 0 || slot_count[sl] != 1) continue;
            ONYX_CHECK(p, ty->n < ONYX_MAX_RANK, "output rank is too high");
            ty->slot[ty->n++] = sl;
        }
    }

    einsum_params *ep = calloc(1, sizeof *ep);
    if (!ep) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    ep->n_in = p->n_in;
    ep->dtype = p->in[0]->dtype;
    /* labels: the output's, then the contracted ones */
    int lab_of_slot[EIN_MAX_LAB];
    for (int l = 0; l < EIN_MAX_LAB; l++)
        lab_of_slot[l] = -1;
    int64_t ydims[ONYX_MAX_RANK];
    for (int j = 0; j < ty->n; j++) {
        lab_of_slot[ty->slot[j]] = ep->n_lab;
        ep->size[ep->n_lab++] = ydims[j] = slot_size[ty->slot[j]];
    }
    ep->n_out_lab = ep->n_lab;
    for (int sl = 0; sl < EIN_MAX_LAB; sl++)
        if (slot_count[sl] && lab_of_slot[sl] < 0) {
            lab_of_slot[sl] = ep->n_lab;
            ep->size[ep->n_lab++] = slot_size[sl];
        }
    for (int i = 0; i < p->n_in; i++) {
        int64_t st = 1;
        for (int j = terms[i].n - 1; j >= 0; j--) {
            if (p->in[i]->dims[j] != 1 || slot_size[terms[i].slot[j]] == 1)
                ep->stride[i][lab_of_slot[terms[i].slot[j]]] += st;
            st *= p->in[i]->dims[j];
        }
    }
    ep->y_numel = 1;
    for (int j = 0; j < ty->n; j++)
        ep->y_numel *= ydims[j];
    plan_gemm(ep, &terms[0], &terms[1], ty, lab_of_slot, p->in[0],
              p->n_in > 1 ? p->in[1] : NULL);
    p->params = ep;
    p->scratch_bytes = ep->gemm ? ep->work_bytes : 0;
    if (p->out[EIN_Y]) onyx_set_shape(p->out[EIN_Y], ep->dtype, ty->n, ydims);
    p->flops = einsum_flops(p);
    return ONYX_OK;
}

/* The generic walk, once per element type T with accumulator A (unsigned
 * for the integers, whose sums and products wrap as numpy's do): for each
 * output element (labels 0..n_out_lab-1, an odometer) the sum over the
 * contracted labels of the product of the inputs. */
#define EINSUM_WALK(T, A)                                                      \
    static void einsum_walk_##T(const einsum_params *ep, const onyx_exec *e)   \
    {                                                                          \
        int n_in = ep->n_in, no = ep->n_out_lab, nl = ep->n_lab;               \
        const T *x[EIN_MAX_IN];                                                \
        for (int i = 0; i < n_in; i++)                                         \
            x[i] = e->in[i]->data;                                             \
        T *y = e->out[EIN_Y]->data;                                            \
        int64_t idx[EIN_MAX_LAB] = {0};                                        \
        int64_t off[EIN_MAX_IN] = {0};                                         \
        int64_t inner = 1;                                                     \
        for (int l = no; l < nl; l++)                                          \
            inner *= ep->size[l];                                              \
        for (int64_t o = 0; o < ep->y_numel; o++) {                            \
            A acc = 0;                                                         \
            int64_t coff[EIN_MAX_IN];                                          \
            for (int i = 0; i < n_in; i++)                                     \
                coff[i] = off[i];                                              \
            for (int64_t c = 0; c < inner; c++) {                              \
                A v = x[0][coff[0]];                                           \
                for (int i = 1; i < n_in; i++)                                 \
                    v *= (A)x[i][coff[i]];                                     \
                acc += v;                                                      \
                for (int l = nl - 1; l >= no; l--) {                           \
                    for (int i = 0; i < n_in; i++)                             \
                        coff[i] += ep->stride[i][l];                           \
                    if (++idx[l] < ep->size[l]) break;                         \
                    for (int i = 0; i < n_in; i++)                             \
                        coff[i] -= ep->stride[i][l] * ep->size[l];             \
                    idx[l] = 0;                                                \
                }                                                              \
            }                                                                  \
            y[o] = (T)acc;                                                     \
            for (int l = no - 1; l >= 0; l--) {                                \
                for (int i = 0; i < n_in; i++)                                 \
                    off[i] += ep->stride[i][l];                                \
                if (++idx[l] < ep->size[l]) break;                             \
                for (int i = 0; i < n_in; i++)                                 \
                    off[i] -= ep->stride[i][l] * ep->size[l];                  \
                idx[l] = 0;                                                    \
            }                                                                  \
        }                                                                      \
    }

typedef double f64;
typedef float f32;
EINSUM_WALK(f32, f32)
EINSUM_WALK(f64, f64)
EINSUM_WALK(int64_t, uint64_t)
EINSUM_WALK(int32_t, uint32_t)

/* One onyx_sgemm per batch element; the batch labels' offsets walked with an
 * odometer. */
static void einsum_gemm(const einsum_params *ep, const onyx_exec *e)
{
    const float *a = e->in[0]->data, *b = e->in[1]->data;
    float *y = e->out[EIN_Y]->data;
    int64_t idx[EIN_MAX_LAB] = {0}, oa = 0, ob = 0;
    int nb = ep->n_batch_lab;
    for (int64_t t = 0; t < ep->batch; t++) {
        onyx_sgemm(ep->trans_a, ep->trans_b, (int)ep->m, (int)ep->n, (int)ep->k,
                   1.0f, a + oa, ep->lda, b + ob, ep->ldb, 0.0f,
                   y + t * ep->m * ep->n, (int)ep->n, e->scratch);
        for (int j = nb - 1; j >= 0; j--) {
            int l = ep->batch_lab[j];
            oa += ep->stride[0][l], ob += ep->stride[1][l];
            if (++idx[j] < ep->size[l]) break;
            oa -= ep->stride[0][l] * ep->size[l];
            ob -= ep->stride[1][l] * ep->size[l];
            idx[j] = 0;
        }
    }
}

static onyx_status einsum_eval(onyx_exec *e)
{
    const einsum_params *ep = e->params;
    if (!e->out[EIN_Y]) return ONYX_OK;
    if (ep->y_numel == 0) return ONYX_OK;
    if (ep->gemm) {
        if (ep->k == 0) {
            memset(e->out[EIN_Y]->data, 0, (size_t)ep->y_numel * sizeof(float));
            return ONYX_OK;
        }
        einsum_gemm(ep, e);
        return ONYX_OK;
    }
    switch (ep->dtype) {
    case ONYX_FLOAT: einsum_walk_f32(ep, e); break;
    case ONYX_DOUBLE: einsum_walk_f64(ep, e); break;
    case ONYX_INT64: einsum_walk_int64_t(ep, e); break;
    default: einsum_walk_int32_t(ep, e); break;
    }
    return ONYX_OK;
}

const onyx_op onyx_op_Einsum = {"Einsum", einsum_prepare, einsum_eval, 0, NULL};
