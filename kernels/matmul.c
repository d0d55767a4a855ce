/* matmul.c - MatMul with numpy semantics: batch dims broadcast, a 1-D A is a
 * row vector and a 1-D B a column vector (their axis is dropped from Y).
 * Each batch is one onyx_sgemm; when B has no batch (x @ W, the common
 * case) the whole batch of A is one tall sgemm. */
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
} mm_plan;

static onyx_status mm_prepare(onyx_prep *p)
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
    mm_plan *qp = malloc(sizeof *qp);
    if (!qp) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    *qp = q;
    p->params = qp;
    return ONYX_OK;
}

static onyx_status mm_eval(onyx_exec *e)
{
    const mm_plan *q = e->params;
    const float *A = e->in[MM_A]->data, *B = e->in[MM_B]->data;
    if (!e->out[MM_Y]) return ONYX_OK;
    float *Y = e->out[MM_Y]->data;
    const int M = (int)q->M, N = (int)q->N, K = (int)q->K;
    if (q->fold) {
        /* Y (nbatch*M, N) = A (nbatch*M, K) @ B (K, N) */
        onyx_sgemm(0, 0, (int)(q->nbatch * q->M), N, K, 1.0f, A, K, B, N, 0.0f,
                   Y, N);
        return ONYX_OK;
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
    return ONYX_OK;
}

const onyx_op onyx_op_MatMul = {"MatMul", mm_prepare, mm_eval};
