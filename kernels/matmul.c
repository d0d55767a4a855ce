/* matmul.c - MatMul with numpy semantics: batch dims broadcast, a 1-D A is a
 * row vector and a 1-D B a column vector (their axis is dropped from Y).
 * Each batch is one onyx_sgemm; when B has no batch (x @ W, the common
 * case) the whole batch of A is one tall sgemm, and when that is a single
 * row and B is constant, B is packed in prepare for the streaming
 * matrix-vector product.
 * Also MatMul+Add, the engine's fusion of a MatMul with the Adds that follow
 * it (a Linear layer's bias, a residual). */
#include "gemm.h"
#include "onyx_kernel.h"

#include <stdlib.h>
#include <string.h>

enum { MM_A = 0, MM_B = 1 };
enum { MM_Y = 0 };

typedef struct {
    int64_t M, N, K;
    int nb;                       /* rank of the broadcast batch shape */
    int64_t bdims[ONYX_MAX_RANK]; /* broadcast batch shape */
    int64_t sa[ONYX_MAX_RANK],
        sb[ONYX_MAX_RANK]; /* batch strides, in elements */
    int64_t nbatch;        /* product of bdims */
    int fold;              /* B shared by every batch, A contiguous:
                              one sgemm with nbatch*M rows */
    float *packed;         /* owned: B packed by onyx_gemv_pack when fold
                              and nbatch*M == 1 and B is constant, or NULL */
} mm_plan;

/* Packs B into q->packed when Y is one row of a constant B. */
static onyx_status mm_pack(onyx_prep *p, mm_plan *q)
{
    const onyx_tensor *B = p->in[MM_B];
    if (!q->fold || q->nbatch * q->M != 1 || q->N <= 0 || q->K <= 0 ||
        !p->in_const || !p->in_const[MM_B] || !B->data)
        return ONYX_OK;
    size_t nf = onyx_gemv_pack_floats((int)q->N, (int)q->K);
    q->packed = aligned_alloc(64, (nf * sizeof(float) + 63) / 64 * 64);
    if (!q->packed) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    /* B (K, N) row-major */
    onyx_gemv_pack(q->packed, 0, B->data, (int)q->N, (int)q->N, (int)q->K);
    return ONYX_OK;
}

/* free_params of both ops: their params start with an mm_plan */
static void mm_free(void *params)
{
    mm_plan *q = params;
    if (q) free(q->packed);
    free(q);
}

/* Plans Y = A @ B into q and sets Y's shape. */
static onyx_status mm_plan_make(onyx_prep *p, mm_plan *q_out)
{
    ONYX_TRY(onyx_need_dtype(p, MM_A, ONYX_MASK(ONYX_FLOAT)));
    ONYX_TRY(onyx_need_dtype(p, MM_B, ONYX_MASK(ONYX_FLOAT)));
    const onyx_tensor *A = p->in[MM_A], *B = p->in[MM_B];
    char sa[96], sb[96];
    ONYX_CHECK(p, A->rank >= 1 && B->rank >= 1,
               "MatMul needs operands of rank >= 1, got %s and %s",
               onyx_shape_str(A, sa, sizeof sa),
               onyx_shape_str(B, sb, sizeof sb));
    int a1 = A->rank == 1, b1 = B->rank == 1;
    mm_plan q;
    memset(&q, 0, sizeof q);
    q.M = a1 ? 1 : A->dims[A->rank - 2];
    q.K = A->dims[A->rank - 1];
    int64_t kb = b1 ? B->dims[0] : B->dims[B->rank - 2];
    q.N = b1 ? 1 : B->dims[B->rank - 1];
    ONYX_CHECK(p, q.K == kb, "inner dimensions of A %s and B %s differ",
               onyx_shape_str(A, sa, sizeof sa),
               onyx_shape_str(B, sb, sizeof sb));
    ONYX_CHECK(p, q.M <= 0x7fffffff && q.N <= 0x7fffffff && q.K <= 0x7fffffff,
               "matrices too large for a 32-bit sgemm");

    /* batch shapes: everything but the last two axes */
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
    if (onyx_broadcast_shape(p, bs, 2, &bo) != ONYX_OK)
        return onyx_fail(p, ONYX_ERR_INVALID,
                         "batch dims of A %s and B %s cannot be broadcast",
                         onyx_shape_str(A, sa, sizeof sa),
                         onyx_shape_str(B, sb, sizeof sb));
    q.nb = bo.rank;
    q.nbatch = 1;
    for (int i = 0; i < bo.rank; i++) {
        q.bdims[i] = bo.dims[i];
        q.nbatch *= bo.dims[i];
    }
    onyx_broadcast_strides(&ba, &bo, q.sa);
    onyx_broadcast_strides(&bb, &bo, q.sb);
    int64_t nba = onyx_numel(&ba), nbb = onyx_numel(&bb);
    for (int i = 0; i < q.nb; i++) {
        q.sa[i] *= q.M * q.K;
        q.sb[i] *= q.K * q.N;
    }
    q.fold = nbb == 1 && nba == q.nbatch && q.nbatch * q.M <= 0x7fffffff;

    int64_t ydims[ONYX_MAX_RANK];
    int r = 0;
    for (int i = 0; i < q.nb; i++)
        ydims[r++] = q.bdims[i];
    if (!a1) ydims[r++] = q.M;
    if (!b1) ydims[r++] = q.N;
    if (p->out[MM_Y]) onyx_set_shape(p->out[MM_Y], ONYX_FLOAT, r, ydims);
    *q_out = q;
    return ONYX_OK;
}

static onyx_status mm_prepare(onyx_prep *p)
{
    mm_plan q;
    ONYX_TRY(mm_plan_make(p, &q));
    ONYX_TRY(mm_pack(p, &q));
    mm_plan *qp = malloc(sizeof *qp);
    if (!qp) {
        free(q.packed);
        return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    }
    *qp = q;
    p->params = qp;
    p->free_params = mm_free;
    return ONYX_OK;
}

/* Y = A @ B, shapes as planned in q */
static void mm_run(const mm_plan *q, const float *A, const float *B, float *Y)
{
    const int M = (int)q->M, N = (int)q->N, K = (int)q->K;
    if (q->packed) {
        /* Y (1, N) = A (1, K) @ B (K, N) */
        onyx_gemv_packed(N, K, 1.0f, A, q->packed, 0.0f, Y);
        return;
    }
    if (q->fold) {
        /* Y (nbatch*M, N) = A (nbatch*M, K) @ B (K, N) */
        onyx_sgemm(0, 0, (int)(q->nbatch * q->M), N, K, 1.0f, A, K, B, N, 0.0f,
                   Y, N);
        return;
    }
    int64_t idx[ONYX_MAX_RANK] = {0};
    int64_t oa = 0, ob = 0;
    for (int64_t t = 0; t < q->nbatch; t++) {
        /* Y[t] (M, N) = A[oa] (M, K) @ B[ob] (K, N) */
        onyx_sgemm(0, 0, M, N, K, 1.0f, A + oa, K, B + ob, N, 0.0f,
                   Y + t * q->M * q->N, N);
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
}

static onyx_status mm_eval(onyx_exec *e)
{
    if (e->out[MM_Y])
        mm_run(e->params, e->in[MM_A]->data, e->in[MM_B]->data,
               e->out[MM_Y]->data);
    return ONYX_OK;
}

const onyx_op onyx_op_MatMul = {"MatMul", mm_prepare, mm_eval};

/* ---- MatMul+Add ------------------------------------------------------------
 * Inputs A, B, C1 .. Cn:  Y = ((A @ B) + C1) + ... + Cn, each sum done as the
 * Add it replaces did it, so the result is the same to the bit. Each C is
 * one of
 *   full    Y's shape (leading 1s aside): Y[i] += C[i]
 *   row     [1, .., 1, N], a bias broadcast over Y's rows: Y[r, j] += C[j]
 *   scalar  one value: Y[i] += C[0]
 * Built by the resolver, never named in a model; prepare refuses any other
 * C, and the resolver then keeps the Add. */
enum { MMA_FULL, MMA_ROW, MMA_SCALAR };
enum { MMA_MAX_ADDS = 8 };

typedef struct {
    mm_plan q;       /* first: mm_free frees it */
    int64_t rows, N; /* Y as (rows, N) */
    int n_add;
    unsigned char kind[MMA_MAX_ADDS];
} mma_plan;

static onyx_status mma_prepare(onyx_prep *p)
{
    ONYX_CHECK(p, p->n_in >= 3 && p->n_in - 2 <= MMA_MAX_ADDS && p->out[MM_Y],
               "MatMul+Add takes A, B and 1 to %d addends", MMA_MAX_ADDS);
    mma_plan k;
    memset(&k, 0, sizeof k);
    ONYX_TRY(mm_plan_make(p, &k.q));
    const onyx_tensor *Y = p->out[MM_Y];
    k.N = Y->rank ? Y->dims[Y->rank - 1] : 1;
    k.rows = k.N ? onyx_numel(Y) / k.N : 0;
    k.n_add = p->n_in - 2;
    for (int a = 0; a < k.n_add; a++) {
        ONYX_TRY(onyx_need_input(p, 2 + a));
        ONYX_TRY(onyx_need_dtype(p, 2 + a, ONYX_MASK(ONYX_FLOAT)));
        const onyx_tensor *C = p->in[2 + a];
        int full = C->rank <= Y->rank && onyx_numel(C) == onyx_numel(Y);
        int row = C->rank <= Y->rank && C->rank >= 1 && Y->rank >= 1 &&
                  C->dims[C->rank - 1] == k.N;
        for (int i = 1; i <= C->rank; i++) {
            full = full && C->dims[C->rank - i] == Y->dims[Y->rank - i];
            row = row && (i == 1 || C->dims[C->rank - i] == 1);
        }
        if (full)
            k.kind[a] = MMA_FULL;
        else if (row)
            k.kind[a] = MMA_ROW;
        else if (onyx_numel(C) == 1 && C->rank <= Y->rank)
            k.kind[a] = MMA_SCALAR;
        else {
            char sc[96], sy[96];
            return onyx_fail(p, ONYX_ERR_INVALID,
                             "addend %s is not Y's shape %s, a row or a value",
                             onyx_shape_str(C, sc, sizeof sc),
                             onyx_shape_str(Y, sy, sizeof sy));
        }
    }
    ONYX_TRY(mm_pack(p, &k.q));
    mma_plan *kp = malloc(sizeof *kp);
    if (!kp) {
        free(k.q.packed);
        return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    }
    *kp = k;
    p->params = kp;
    p->free_params = mm_free;
    return ONYX_OK;
}

static onyx_status mma_eval(onyx_exec *e)
{
    const mma_plan *k = e->params;
    float *Y = e->out[MM_Y]->data;
    mm_run(&k->q, e->in[MM_A]->data, e->in[MM_B]->data, Y);
    const int64_t n = k->rows * k->N;
    for (int a = 0; a < k->n_add; a++) {
        const float *C = e->in[2 + a]->data;
        switch (k->kind[a]) {
        case MMA_FULL:
            for (int64_t i = 0; i < n; i++)
                Y[i] += C[i];
            break;
        case MMA_ROW:
            for (int64_t r = 0; r < k->rows; r++)
                for (int64_t j = 0; j < k->N; j++)
                    Y[r * k->N + j] += C[j];
            break;
        default: {
            const float c = C[0];
            for (int64_t i = 0; i < n; i++)
                Y[i] += c;
        }
        }
    }
    return ONYX_OK;
}

const onyx_op onyx_op_MatMulAdd = {"MatMul+Add", mma_prepare, mma_eval};
