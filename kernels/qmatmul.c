/* qmatmul.c - MatMulInteger and QLinearMatMul: MatMul (numpy batch
 * broadcasting) of uint8/int8 tensors, through onyx_igemm_u8.
 *
 *   MatMulInteger  Y (int32) = (A - a_zero_point) @ (B - b_zero_point)
 *   QLinearMatMul  y = saturate(round(acc * a_scale * b_scale / y_scale)
 *                               + y_zero_point), acc the product above
 *
 * Zero points and scales hold one value, or one per row of A (a's, y's) or
 * column of B (b's). A constant B without batch axes is packed in prepare
 * (transposed, as unsigned bytes or int16 (igemm.h), with its column sums);
 * otherwise each batch of B is packed into scratch. */
#include "math/igemm.h"
#include "onyx_kernel.h"
#include "math/quant.h"

#include <stdlib.h>
#include <string.h>

/* scratch regions are 64-byte aligned */
static size_t align64(size_t n)
{
    return (n + 63) / 64 * 64;
}

/* Which inputs are which: MatMulInteger (A, B, a_zero_point, b_zero_point)
 * or QLinearMatMul (a, a_scale, a_zero_point, b, b_scale, b_zero_point,
 * y_scale, y_zero_point); -1 for none. */
typedef struct {
    int a, b, za, zb, sa, sb, sy, zy;
} qmm_inputs;

static const qmm_inputs MMI_IN = {0, 1, 2, 3, -1, -1, -1, -1};
static const qmm_inputs QLMM_IN = {0, 3, 2, 5, 1, 4, 6, 7};

typedef struct {
    qmm_inputs in;
    int qlinear;
    int64_t M, N, K;
    int nb;                       /* rank of the broadcast batch shape */
    int64_t bdims[ONYX_MAX_RANK]; /* broadcast batch shape */
    int64_t sa[ONYX_MAX_RANK], sb[ONYX_MAX_RANK]; /* batch strides */
    int64_t nbatch;
    int a_s8, b_s8;    /* int8 operands (flipped to uint8) */
    int wide;          /* operands as int16 (igemm.h) */
    int nza, nzb;      /* zero point counts: 1, or M / N */
    int nsa, nsb, nsy; /* scale counts (QLinearMatMul) */
    onyx_dtype yt;     /* Y's dtype */
    /* owned, after the plan in one block: B packed (N, K) (onyx_u8_pack_t)
     * and its column sums (N), when B is constant without batch; else
     * NULL */
    void *Bt;
    int32_t *bsums;
    /* scratch byte offsets: A as igemm's operand (M, K) when int8 or wide,
     * B packed (N, K)
     * and its sums (N) when not in params, A's row sums (M), zero points
     * (M + N), the int32 product (M, N) and the multipliers (N) for
     * QLinearMatMul */
    size_t s_a, s_bt, s_bs, s_as, s_z, s_acc, s_mul;
} qmm_plan;

/* Count of a zero point or scale tensor q for n rows or columns: 1, or n
 * when it has n values; 0 when neither. */
static int64_t qmm_count(const onyx_tensor *q, int64_t n)
{
    int64_t e = onyx_numel(q);
    return e == 1 ? 1 : e == n ? n : 0;
}

/* Checks the optional 8-bit zero point input i against its operand's
 * dtype; *count gets 1 or n (0: absent, counted as one zero). */
static onyx_status qmm_zp(onyx_prep *p, int i, onyx_dtype t, int64_t n,
                          const char *what, int *count)
{
    *count = 0;
    if (i < 0 || i >= p->n_in || !p->in[i]) return ONYX_OK;
    const onyx_tensor *z = p->in[i];
    char s[96];
    ONYX_CHECK(p, z->dtype == t, "%s is %s, its operand %s", what,
               onyx_dtype_name(z->dtype), onyx_dtype_name(t));
    int64_t c = qmm_count(z, n);
    ONYX_CHECK(p, c != 0, "%s %s must hold one value or %lld", what,
               onyx_shape_str(z, s, sizeof s), (long long)n);
    *count = (int)c;
    return ONYX_OK;
}

static onyx_status qmm_scale(onyx_prep *p, int i, int64_t n, const char *what,
                             int *count)
{
    ONYX_TRY(onyx_need_dtype(p, i, ONYX_MASK(ONYX_FLOAT)));
    char s[96];
    int64_t c = qmm_count(p->in[i], n);
    ONYX_CHECK(p, c != 0, "%s %s must hold one value or %lld", what,
               onyx_shape_str(p->in[i], s, sizeof s), (long long)n);
    *count = (int)c;
    return ONYX_OK;
}

static void qmm_free(void *params)
{
    free(params);
}

/* The batch shape of A and B broadcast, as MatMul does. */
static onyx_status qmm_batch(onyx_prep *p, qmm_plan *q, const onyx_tensor *A,
                             const onyx_tensor *B, int a1, int b1)
{
    onyx_tensor ba, bb, bo;
    memset(&ba, 0, sizeof ba);
    memset(&bb, 0, sizeof bb);
    memset(&bo, 0, sizeof bo);
    ba.rank = a1 ? 0 : A->rank - 2;
    bb.rank = b1 ? 0 : B->rank - 2;
    for (int i = 0; i < ba.rank; i++)
        ba.dims[i] = A->dims[i];
    for (int i = 0; i < bb.rank; i++)
        bb.dims[i] = B->dims[i];
    const onyx_tensor *bs[2] = {&ba, &bb};
    ONYX_TRY(onyx_broadcast_shape(p, bs, 2, &bo));
    q->nb = bo.rank;
    q->nbatch = 1;
    for (int i = 0; i < bo.rank; i++) {
        q->bdims[i] = bo.dims[i];
        q->nbatch *= bo.dims[i];
    }
    onyx_broadcast_strides(&ba, &bo, q->sa);
    onyx_broadcast_strides(&bb, &bo, q->sb);
    for (int i = 0; i < q->nb; i++) {
        q->sa[i] *= q->M * q->K;
        q->sb[i] *= q->K * q->N;
    }
    return ONYX_OK;
}

static onyx_status qmm_prepare(onyx_prep *p)
{
    qmm_plan q;
    memset(&q, 0, sizeof q);
    q.qlinear = !strcmp(p->op_type, "QLinearMatMul");
    q.in = q.qlinear ? QLMM_IN : MMI_IN;
    if (q.qlinear)
        ONYX_CHECK(p, p->n_in == 8, "QLinearMatMul takes 8 inputs, got %d",
                   p->n_in);
    else
        ONYX_CHECK(p, p->n_in >= 2 && p->n_in <= 4,
                   "MatMulInteger takes 2 to 4 inputs, got %d", p->n_in);
    ONYX_TRY(onyx_need_dtype(p, q.in.a, QUANT_8BIT));
    ONYX_TRY(onyx_need_dtype(p, q.in.b, QUANT_8BIT));
    const onyx_tensor *A = p->in[q.in.a], *B = p->in[q.in.b];
    char sa[96], sb[96];
    ONYX_CHECK(p, A->rank >= 1 && B->rank >= 1,
               "%s needs operands of rank >= 1, got %s and %s", p->op_type,
               onyx_shape_str(A, sa, sizeof sa),
               onyx_shape_str(B, sb, sizeof sb));
    const int a1 = A->rank == 1, b1 = B->rank == 1;
    q.M = a1 ? 1 : A->dims[A->rank - 2];
    q.K = A->dims[A->rank - 1];
    q.N = b1 ? 1 : B->dims[B->rank - 1];
    ONYX_CHECK(p, q.K == (b1 ? B->dims[0] : B->dims[B->rank - 2]),
               "inner dimensions of A %s and B %s differ",
               onyx_shape_str(A, sa, sizeof sa),
               onyx_shape_str(B, sb, sizeof sb));
    ONYX_CHECK(p, q.M <= 0x7fffffff && q.N <= 0x7fffffff && q.K <= 0x7fffffff,
               "matrices too large for a 32-bit product");
    q.a_s8 = A->dtype == ONYX_INT8;
    q.b_s8 = B->dtype == ONYX_INT8;
    ONYX_TRY(qmm_zp(p, q.in.za, A->dtype, q.M, "a_zero_point", &q.nza));
    ONYX_TRY(qmm_zp(p, q.in.zb, B->dtype, q.N, "b_zero_point", &q.nzb));
    q.yt = ONYX_INT32;
    if (q.qlinear) {
        ONYX_TRY(qmm_scale(p, q.in.sa, q.M, "a_scale", &q.nsa));
        ONYX_TRY(qmm_scale(p, q.in.sb, q.N, "b_scale", &q.nsb));
        ONYX_TRY(qmm_scale(p, q.in.sy, q.M, "y_scale", &q.nsy));
        ONYX_TRY(onyx_need_dtype(p, q.in.zy, QUANT_8BIT));
        int nzy;
        q.yt = p->in[q.in.zy]->dtype;
        ONYX_TRY(qmm_zp(p, q.in.zy, q.yt, q.M, "y_zero_point", &nzy));
        ONYX_CHECK(p, nzy == 1 || nzy == q.nsy,
                   "y_zero_point and y_scale differ in size");
    }
    ONYX_TRY(qmm_batch(p, &q, A, B, a1, b1));

    int64_t ydims[ONYX_MAX_RANK];
    int r = 0;
    for (int i = 0; i < q.nb; i++)
        ydims[r++] = q.bdims[i];
    if (!a1) ydims[r++] = q.M;
    if (!b1) ydims[r++] = q.N;
    if (p->out[0]) onyx_set_shape(p->out[0], q.yt, r, ydims);

    /* a constant B shared by every batch is packed once, here */
    const int pack = b1 || B->rank == 2 || onyx_numel(B) == q.K * q.N;
    const int packed = pack && p->in_const && p->in_const[q.in.b] && B->data;
    const size_t M = (size_t)q.M, N = (size_t)q.N, K = (size_t)q.K;
    size_t off = 0;
    /* several rows on x86-64: int16 operands (igemm.h) */
    q.wide = ONYX_IGEMM_WIDE && q.M > 1;
    const size_t es = q.wide ? 2 : 1;
    q.s_a = off, off += q.a_s8 || q.wide ? align64(M * K * es) : 0;
    q.s_bt = off, off += packed ? 0 : align64(N * K * es);
    q.s_bs = off, off += packed ? 0 : align64(N * 4);
    q.s_as = off, off += align64(M * 4);
    q.s_z = off, off += align64((M + N) * 4);
    q.s_acc = off, off += q.qlinear ? align64(M * N * 4) : 0;
    q.s_mul = off, off += q.qlinear ? align64(N * 4) : 0;
    p->scratch_bytes = off;

    const size_t head = align64(sizeof q);
    qmm_plan *qp = aligned_alloc(
        64, head + (packed ? align64(N * K * es) + align64(N * 4) : 0));
    if (!qp) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    *qp = q;
    if (packed) {
        qp->Bt = (char *)qp + head;
        qp->bsums = (int32_t *)((char *)qp->Bt + align64(N * K * es));
        onyx_u8_pack_t(qp->Bt, q.wide, qp->bsums, B->data, q.b_s8, (long)q.N,
                       (int)q.K, (int)q.N);
    }
    p->params = qp;
    p->free_params = qmm_free;
    /* Y (..., M, N) = A (..., M, K) @ B (..., K, N): K multiply-adds per
     * element of Y (integer ones count 2 as well) */
    if (A->rank >= 1)
        p->flops = onyx_flops_mul(2 * onyx_out_numel(p), A->dims[A->rank - 1]);
    return ONYX_OK;
}

/* z (n) = the zero points of input i as uint8-domain int32 (+ 128 for
 * int8); 0 when absent */
static void qmm_zero_points(int32_t *z, const onyx_exec *e, int i, int n,
                            int s8)
{
    const onyx_tensor *t = i >= 0 && i < e->n_in ? e->in[i] : NULL;
    for (int k = 0; k < n; k++)
        z[k] = (t ? quant_zp_at(t, k) : 0) + (s8 ? 128 : 0);
}

/* y (M, N) = saturate(round(acc * sa[i] sb[j] / sy[i]) + zy[i]) */
QUANT_EXACT_DIV static void qmm_requantize(const qmm_plan *q,
                                           const onyx_exec *e,
                                           const int32_t *acc, void *y,
                                           float *mul)
{
    const float *sa = e->in[q->in.sa]->data, *sb = e->in[q->in.sb]->data,
                *sy = e->in[q->in.sy]->data;
    const onyx_tensor *Z = e->in[q->in.zy];
    const int nzy = (int)onyx_numel(Z);
    const float lo = (float)quant_lo(q->yt), hi = (float)quant_hi(q->yt);
    const long M = (long)q->M, N = (long)q->N;
    for (long i = 0; i < M; i++) {
        /* the multipliers of row i (the same for every row when a and y
         * have one scale) */
        if (i == 0 || q->nsa > 1 || q->nsy > 1) {
            const float a = sa[q->nsa > 1 ? i : 0], s = sy[q->nsy > 1 ? i : 0];
            for (long j = 0; j < N; j++)
                mul[j] = a * sb[q->nsb > 1 ? j : 0] / s;
        }
        const float z = (float)quant_zp_at(Z, nzy > 1 ? i : 0);
        const int32_t *a = acc + i * N;
        if (q->yt == ONYX_INT8) {
            int8_t *yr = (int8_t *)y + i * N;
            for (long j = 0; j < N; j++)
                yr[j] =
                    (int8_t)quant_round_sat((float)a[j] * mul[j], z, lo, hi);
        } else {
            uint8_t *yr = (uint8_t *)y + i * N;
            for (long j = 0; j < N; j++)
                yr[j] =
                    (uint8_t)quant_round_sat((float)a[j] * mul[j], z, lo, hi);
        }
    }
}

static onyx_status qmm_eval(onyx_exec *e)
{
    const qmm_plan *q = e->params;
    onyx_tensor *Yt = e->out[0];
    if (!Yt) return ONYX_OK;
    char *s = e->scratch;
    const int M = (int)q->M, N = (int)q->N, K = (int)q->K;
    int32_t *za = (int32_t *)(s + q->s_z), *zb = za + M;
    int32_t *asums = (int32_t *)(s + q->s_as);
    qmm_zero_points(za, e, q->in.za, q->nza ? q->nza : 1, q->a_s8);
    qmm_zero_points(zb, e, q->in.zb, q->nzb ? q->nzb : 1, q->b_s8);
    const int zas = q->nza > 1, zbs = q->nzb > 1;
    const uint8_t *A = e->in[q->in.a]->data, *B = e->in[q->in.b]->data;
    int64_t idx[ONYX_MAX_RANK] = {0};
    int64_t oa = 0, ob = 0;
    for (int64_t t = 0; t < q->nbatch; t++) {
        /* A[oa] (M, K) as unsigned bytes (igemm.h) and its row sums */
        const void *a = A + oa;
        if (q->a_s8 || q->wide) {
            onyx_u8_from(s + q->s_a, q->wide, a, q->a_s8, (long)M * K);
            a = s + q->s_a;
        }
        onyx_u8_row_sums(asums, a, q->wide, K, M, K);
        /* B[ob] (K, N) packed, unless prepare did it */
        const void *bt = q->Bt;
        const int32_t *bs = q->bsums;
        if (!bt) {
            onyx_u8_pack_t(s + q->s_bt, q->wide, (int32_t *)(s + q->s_bs),
                           B + ob, q->b_s8, N, K, N);
            bt = s + q->s_bt;
            bs = (const int32_t *)(s + q->s_bs);
        }
        int32_t *y = q->qlinear ? (int32_t *)(s + q->s_acc)
                                : (int32_t *)Yt->data + t * M * N;
        onyx_igemm_u8(q->wide, M, N, K, a, K, asums, za, zas, bt, K, bs, zb,
                      zbs, y, N);
        if (q->qlinear)
            qmm_requantize(q, e, y, (char *)Yt->data + t * M * N,
                           (float *)(s + q->s_mul));
        /* next batch index, odometer style */
        for (int i = q->nb - 1; i >= 0; i--) {
            oa += q->sa[i];
            ob += q->sb[i];
            if (++idx[i] < q->bdims[i]) break;
            oa -= q->sa[i] * q->bdims[i];
            ob -= q->sb[i] * q->bdims[i];
            idx[i] = 0;
        }
    }
    return ONYX_OK;
}

const onyx_op onyx_op_MatMulInteger = {"MatMulInteger", qmm_prepare, qmm_eval,
                                       0, NULL};
const onyx_op onyx_op_QLinearMatMul = {"QLinearMatMul", qmm_prepare, qmm_eval,
                                       0, NULL};
