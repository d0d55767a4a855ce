/* gemm_op.c - Gemm: Y = alpha * op(A) @ op(B) + beta * C, with C optional
 * (opset 11+) and unidirectionally broadcast to (M, N). With a constant B
 * (a Linear layer's weight) and up to ONYX_GEMM_PACKED_ROWS rows of A
 * (not transposed, or one row), B is packed in prepare for the streaming
 * product of gemv.c (onyx_gemm_packed). */
#include "math/gemm.h"
#include "math/threadpool.h"
#include "onyx_kernel.h"

#include <stdlib.h>
#include <string.h>

enum { GEMM_A = 0, GEMM_B = 1, GEMM_C = 2 };
enum { GEMM_Y = 0 };

typedef struct {
    int trans_a, trans_b;
    int64_t M, N, K;
    float alpha, beta;
    int has_c;          /* C present, non-empty and beta != 0 */
    int64_t c_rs, c_cs; /* C's row and column strides broadcast to (M, N) */
    float *packed;      /* owned: op(B) packed by onyx_gemv_pack, or NULL */
} gemm_plan;

static void gemm_free(void *params)
{
    gemm_plan *q = params;
    if (q) free(q->packed);
    free(q);
}

static onyx_status gemm_prepare(onyx_prep *p)
{
    ONYX_TRY(onyx_need_dtype(p, GEMM_A, ONYX_MASK(ONYX_FLOAT)));
    ONYX_TRY(onyx_need_dtype(p, GEMM_B, ONYX_MASK(ONYX_FLOAT)));
    const onyx_tensor *A = p->in[GEMM_A], *B = p->in[GEMM_B];
    const onyx_tensor *C = p->n_in > GEMM_C ? p->in[GEMM_C] : NULL;
    if (C && onyx_numel(C) == 0) C = NULL;
    char sa[96], sb[96];
    ONYX_CHECK(
        p, A->rank == 2 && B->rank == 2, "A %s and B %s must be matrices",
        onyx_shape_str(A, sa, sizeof sa), onyx_shape_str(B, sb, sizeof sb));
    gemm_plan q;
    memset(&q, 0, sizeof q);
    q.trans_a = onyx_attr_int(p, "transA", 0) != 0;
    q.trans_b = onyx_attr_int(p, "transB", 0) != 0;
    q.alpha = onyx_attr_float(p, "alpha", 1.0f);
    q.beta = onyx_attr_float(p, "beta", 1.0f);
    q.M = A->dims[q.trans_a ? 1 : 0];
    q.K = A->dims[q.trans_a ? 0 : 1];
    int64_t kb = B->dims[q.trans_b ? 1 : 0];
    q.N = B->dims[q.trans_b ? 0 : 1];
    ONYX_CHECK(p, q.K == kb,
               "inner dimensions of A %s (transA %d) and B %s (transB %d) "
               "differ",
               onyx_shape_str(A, sa, sizeof sa), q.trans_a,
               onyx_shape_str(B, sb, sizeof sb), q.trans_b);
    ONYX_CHECK(p, q.M <= 0x7fffffff && q.N <= 0x7fffffff && q.K <= 0x7fffffff,
               "matrices too large for a 32-bit sgemm");
    if (C) {
        ONYX_TRY(onyx_need_dtype(p, GEMM_C, ONYX_MASK(ONYX_FLOAT)));
        /* C's dims right-aligned with (M, N); each 1 or equal */
        int64_t cm = C->rank >= 2 ? C->dims[C->rank - 2] : 1;
        int64_t cn = C->rank >= 1 ? C->dims[C->rank - 1] : 1;
        ONYX_CHECK(
            p, C->rank <= 2 && (cm == 1 || cm == q.M) && (cn == 1 || cn == q.N),
            "C %s cannot be broadcast to (%lld, %lld)",
            onyx_shape_str(C, sa, sizeof sa), (long long)q.M, (long long)q.N);
        q.c_cs = cn == 1 ? 0 : 1;
        q.c_rs = cm == 1 ? 0 : cn;
        q.has_c = q.beta != 0.0f;
    }
    int64_t ydims[2] = {q.M, q.N};
    if (p->out[GEMM_Y]) onyx_set_shape(p->out[GEMM_Y], ONYX_FLOAT, 2, ydims);
    if ((q.M == 1 || (!q.trans_a && q.M <= ONYX_GEMM_PACKED_ROWS)) && q.N > 0 &&
        q.K > 0 && p->in_const && p->in_const[GEMM_B] && B->data) {
        size_t nf = onyx_gemv_pack_floats((int)q.N, (int)q.K);
        q.packed = aligned_alloc(64, (nf * sizeof(float) + 63) / 64 * 64);
        if (!q.packed) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
        onyx_gemv_pack(q.packed, q.trans_b, B->data, (int)B->dims[1], (int)q.N,
                       (int)q.K);
    }
    if (!q.packed) /* onyx_sgemm's pack buffers */
        p->scratch_bytes =
            onyx_sgemm_scratch_bytes((int)q.M, (int)q.N, (int)q.K);
    gemm_plan *qp = malloc(sizeof *qp);
    if (!qp) {
        free(q.packed);
        return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    }
    *qp = q;
    p->params = qp;
    p->free_params = gemm_free;
    /* K multiply-adds per element of Y */
    if (A->rank == 2)
        p->flops = onyx_flops_mul(2 * onyx_out_numel(p),
                                  q.trans_a ? A->dims[0] : A->dims[1]);
    return ONYX_OK;
}

/* Y rows i0 .. i1 - 1 (of N) = beta * C broadcast (strides c_rs, c_cs) */
static void gemm_fill(float *Y, const float *C, const gemm_plan *q, int64_t i0,
                      int64_t i1)
{
    for (int64_t i = i0; i < i1; i++) {
        const float *c = C + i * q->c_rs;
        float *y = Y + i * q->N;
        if (q->c_cs && q->beta == 1.0f) /* the usual bias: a copy */
            memcpy(y, c, (size_t)q->N * sizeof(float));
        else if (q->c_cs)
            for (int64_t j = 0; j < q->N; j++)
                y[j] = q->beta * c[j];
        else
            for (int64_t j = 0; j < q->N; j++)
                y[j] = q->beta * c[0];
    }
}

/* gemm_fill of every row, in bands of rows over the calling thread's pool
 * when there is one and the copy is worth it */
typedef struct gemm_fill_split {
    float *Y;
    const float *C;
    const gemm_plan *q;
    int parts;
} gemm_fill_split;

static void gemm_fill_band(void *ctx, int part, void *work)
{
    (void)work;
    const gemm_fill_split *s = ctx;
    int lo, hi;
    onyx_threads_range(part, s->parts, (int)s->q->M, &lo, &hi);
    gemm_fill(s->Y, s->C, s->q, lo, hi);
}

static onyx_status gemm_eval(onyx_exec *e)
{
    const gemm_plan *q = e->params;
    const float *A = e->in[GEMM_A]->data, *B = e->in[GEMM_B]->data;
    if (!e->out[GEMM_Y]) return ONYX_OK;
    float *Y = e->out[GEMM_Y]->data;
    float beta = 0.0f;
    if (q->has_c) {
        /* Y = beta * C broadcast, then accumulate the product onto it */
        gemm_fill_split s = {Y, e->in[GEMM_C]->data, q, 1};
        onyx_threads *t = onyx_gemm_pool();
        s.parts = onyx_threads_count(t);
        if (s.parts > 1 && q->M >= s.parts && q->M * q->N >= 1 << 16)
            onyx_threads_run(t, gemm_fill_band, &s, s.parts);
        else
            gemm_fill(Y, s.C, q, 0, q->M);
        beta = 1.0f;
    }
    if (q->packed) {
        /* Y (M, N) = alpha * op(A) (M, K) @ op(B) (K, N) + beta * Y; op(A)'s
         * rows are contiguous (one row is, whether A is (1, K) or (K, 1)) */
        onyx_gemm_packed((int)q->M, (int)q->N, (int)q->K, q->alpha, A,
                         (long)q->K, q->packed, beta, Y, (long)q->N);
        return ONYX_OK;
    }
    /* Y (M, N) = alpha * op(A) (M, K) @ op(B) (K, N) + beta * Y */
    int lda = (int)(q->trans_a ? q->M : q->K),
        ldb = (int)(q->trans_b ? q->K : q->N);
    onyx_sgemm(q->trans_a, q->trans_b, (int)q->M, (int)q->N, (int)q->K,
               q->alpha, A, lda, B, ldb, beta, Y, (int)q->N, e->scratch);
    return ONYX_OK;
}

const onyx_op onyx_op_Gemm = {"Gemm", gemm_prepare, gemm_eval, 0, NULL};
