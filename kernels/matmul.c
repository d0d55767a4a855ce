/* matmul.c - MatMul with numpy semantics: batch dims broadcast, a 1-D A is a
 * row vector and a 1-D B a column vector (their axis is dropped from Y).
 * Each batch is one onyx_sgemm; when B has no batch (x @ W, the common
 * case) the whole batch of A is one tall sgemm, and when that is a few rows
 * (ONYX_GEMM_PACKED_ROWS) and B is constant, B is packed in prepare for the
 * streaming matrix-vector product, which reads it once per 4 rows
 * (onyx_gemm_packed) where the blocked sgemm would pack it on every call.
 * A constant B that is a windowed DFT basis, the way a spectrogram is
 * written for export (frames @ [w cos | +-w sin]), is recognised in prepare
 * and run as one FFT per two rows (see mm_dft).
 * Also MatMul+Add, the engine's fusion of a MatMul with the Adds that follow
 * it (a Linear layer's bias, a residual). */
#include "math/fft.h"
#include "math/gemm.h"
#include "math/threadpool.h"
#include "onyx_kernel.h"
#include "math/vmath.h"

#include <math.h>
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
    float *packed;         /* owned: B packed by onyx_gemv_pack when fold,
                              nbatch*M <= ONYX_GEMM_PACKED_ROWS and B is constant,
                              or NULL */
    struct mm_dft *dft;    /* owned: B is a DFT basis (mm_dft_detect), or
                              NULL */
} mm_plan;

/* ---- B as a windowed DFT basis ----------------------------------------------
 * B (K, 2 nb) with B[n][k] = w[n] cos(2 pi n k / K) and
 * B[n][nb + k] = s w[n] sin(2 pi n k / K) for k < nb <= K/2 + 1, s = +-1 and
 * any window w (B's first column): then row r of Y is the real and (sign
 * adjusted) imaginary part of the first nb bins of the FFT of A's row r
 * times w. Two real rows go through one complex FFT (a + i b). Every entry
 * of B must match the basis computed in double to within 1e-6 of max |w|,
 * the float rounding of a basis built in double with room to spare; the FFT
 * then agrees with the product to float rounding. */
typedef struct mm_dft {
    int K, nb;
    float sign;      /* Y[r][nb + k] = sign * Im(FFT)[k] */
    float *w;        /* (K,) the window */
    onyx_fft4 *fft4; /* K a power of two: eight rows a pass, in lanes */
    onyx_fft *fft;   /* otherwise: two rows a pass */
    size_t work;     /* floats of FFT work space */
} mm_dft;

static void mm_dft_free(mm_dft *d)
{
    if (!d) return;
    onyx_fft_free(d->fft);
    onyx_fft4_free(d->fft4);
    free(d->w);
    free(d);
}

/* Returns 1 when B (K, N) fits the basis above, with *sign its sine sign.
 * Most matrices fail on the first entries looked at. */
static int mm_dft_match(const float *B, int64_t K, int64_t N, float *sign)
{
    if (K < 4 || N < 4 || N % 2 || N / 2 > K / 2 + 1) return 0;
    const int64_t nb = N / 2;
    double wmax = 0;
    for (int64_t n = 0; n < K; n++)
        wmax = fmax(wmax, fabs((double)B[n * N]));
    if (!(wmax > 0)) return 0;
    const double tol = 1e-6 * wmax;
    /* cos and sin of 2 pi m / K for m < K */
    double *cs = malloc(2 * (size_t)K * sizeof *cs);
    if (!cs) return 0;
    for (int64_t m = 0; m < K; m++) {
        cs[2 * m] = cos(2 * M_PI * (double)m / (double)K);
        cs[2 * m + 1] = sin(2 * M_PI * (double)m / (double)K);
    }
    /* the sine's sign, where w sin is largest in bin 1 */
    int64_t nmax = 0;
    for (int64_t n = 1; n < K; n++)
        if (fabs(B[n * N] * cs[2 * n + 1]) >
            fabs(B[nmax * N] * cs[2 * nmax + 1]))
            nmax = n;
    const double sg =
        B[nmax * N + nb + 1] * B[nmax * N] * cs[2 * nmax + 1] < 0 ? -1.0 : 1.0;
    int ok = 1;
    for (int64_t n = 0; n < K && ok; n++) {
        const double w = B[n * N];
        for (int64_t k = 0; k < nb && ok; k++) {
            const double *c = cs + 2 * ((n * k) % K);
            ok = fabs(B[n * N + k] - w * c[0]) <= tol &&
                 fabs(B[n * N + nb + k] - sg * w * c[1]) <= tol;
        }
    }
    free(cs);
    *sign = (float)sg;
    return ok;
}

/* Sets q->dft when B is constant and a DFT basis; NULL otherwise. */
static onyx_status mm_dft_detect(onyx_prep *p, mm_plan *q)
{
    const onyx_tensor *B = p->in[MM_B];
    float sign;
    if (!q->fold || B->rank != 2 || !p->in_const || !p->in_const[MM_B] ||
        !B->data || q->K > 16384 || !mm_dft_match(B->data, q->K, q->N, &sign))
        return ONYX_OK;
    mm_dft *d = calloc(1, sizeof *d);
    if (!d) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    d->K = (int)q->K;
    d->nb = (int)(q->N / 2);
    /* the FFT gives -sum x sin: Y's sine half is sign * -Im */
    d->sign = -sign;
    d->w = malloc((size_t)d->K * sizeof *d->w);
    d->fft4 = onyx_fft4_new(d->K);
    if (!d->fft4) d->fft = onyx_fft_new(d->K);
    if (!d->w || (!d->fft4 && !d->fft)) {
        mm_dft_free(d);
        return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    }
    for (int n = 0; n < d->K; n++)
        d->w[n] = ((const float *)B->data)[(int64_t)n * q->N];
    if (d->fft4) /* scratch: re, im (K, 4) */
        p->scratch_bytes = 8 * (size_t)d->K * sizeof(float);
    else { /* scratch: z, Z (2K each), two rows of nb bins (4 nb), work */
        d->work = onyx_fft_work_floats(d->fft);
        p->scratch_bytes =
            (4 * (size_t)d->K + 4 * (size_t)d->nb + d->work) * sizeof(float);
    }
    q->dft = d;
    return ONYX_OK;
}

/* mm_dft_run for a power-of-two K: rows 2t and 2t + 1 of each eight are
 * the real and imaginary parts of transform t of onyx_fft4; 4x4 transposes
 * move rows into lanes and back. */
static void mm_dft_run4(const mm_dft *d, int64_t rows, const float *A, float *Y,
                        float *scratch)
{
    const int K = d->K, nb = d->nb;
    float *re = scratch, *im = re + 4 * K;
    static const float zero[4];
    const v4f half = v4_set1(0.5f), sg = v4_set1(d->sign);
    for (int64_t r0 = 0; r0 < rows; r0 += 8) {
        const int nr = rows - r0 < 8 ? (int)(rows - r0) : 8;
        const float *a[8];
        for (int i = 0; i < 8; i++)
            a[i] = i < nr ? A + (r0 + i) * K : NULL;
        /* K >= 4 is a multiple of 4 */
        for (int n = 0; n < K; n += 4) {
            const v4f w = v4_load(d->w + n);
            v4f v[8];
            for (int i = 0; i < 8; i++)
                v[i] = v4_load(a[i] ? a[i] + n : zero) * w;
            v4_transpose(&v[0], &v[2], &v[4], &v[6]);
            v4_transpose(&v[1], &v[3], &v[5], &v[7]);
            for (int j = 0; j < 4; j++) {
                v4_store(re + 4 * (n + j), v[2 * j]);
                v4_store(im + 4 * (n + j), v[2 * j + 1]);
            }
        }
        onyx_fft4_run(d->fft4, re, im);
        /* row 2t: (Z_k + conj Z_{K-k}) / 2, row 2t + 1: (Z_k - conj
         * Z_{K-k}) / 2i; four bins at a time, transposed to rows */
        for (int k0 = 0; k0 < nb; k0 += 4) {
            const int nk = nb - k0 < 4 ? nb - k0 : 4;
            v4f v[4][4]; /* [quantity][bin]: lanes are transforms */
            for (int j = 0; j < 4; j++) {
                const int k = k0 + (j < nk ? j : 0), m = k ? K - k : 0;
                v4f zr = v4_load(re + 4 * k), zi = v4_load(im + 4 * k);
                v4f mr = v4_load(re + 4 * m), mi = v4_load(im + 4 * m);
                v[0][j] = half * (zr + mr);
                v[1][j] = sg * (half * (zi - mi));
                v[2][j] = half * (zi + mi);
                v[3][j] = sg * (half * (mr - zr));
            }
            for (int q = 0; q < 4; q++) /* [q][t]: lanes are bins */
                v4_transpose(&v[q][0], &v[q][1], &v[q][2], &v[q][3]);
            for (int i = 0; i < nr; i++) {
                float *y = Y + (r0 + i) * 2 * nb;
                const int t = i / 2, o = (i & 1) * 2;
                v4_store_n(y + k0, v[o][t], nk);
                v4_store_n(y + nb + k0, v[o + 1][t], nk);
            }
        }
    }
}

/* Y (rows, 2 nb) = A (rows, K) @ B through the FFT */
static void mm_dft_run(const mm_dft *d, int64_t rows, const float *A, float *Y,
                       float *scratch)
{
    const int K = d->K, nb = d->nb;
    if (d->fft4) {
        mm_dft_run4(d, rows, A, Y, scratch);
        return;
    }
    float *z = scratch, *Z = z + 2 * K, *ba = Z + 2 * K, *bb = ba + 2 * nb;
    float *work = bb + 2 * nb;
    for (int64_t r = 0; r < rows; r += 2) {
        const float *a = A + r * K, *b = r + 1 < rows ? a + K : NULL;
        for (int n = 0; n < K; n++) {
            z[2 * n] = a[n] * d->w[n];
            z[2 * n + 1] = b ? b[n] * d->w[n] : 0.0f;
        }
        onyx_fft_run(d->fft, Z, z, 0, work);
        onyx_fft_split_real2(ba, bb, 2, Z, K, nb);
        for (int i = 0; i < 2 && r + i < rows; i++) {
            const float *c = i ? bb : ba;
            float *y = Y + (r + i) * 2 * nb;
            for (int k = 0; k < nb; k++) {
                y[k] = c[2 * k];
                y[nb + k] = d->sign * c[2 * k + 1];
            }
        }
    }
}

/* Packs B into q->packed when Y is a few rows of a constant B. */
static onyx_status mm_pack(onyx_prep *p, mm_plan *q)
{
    const onyx_tensor *B = p->in[MM_B];
    if (!q->fold || q->nbatch * q->M > ONYX_GEMM_PACKED_ROWS || q->N <= 0 ||
        q->K <= 0 || !p->in_const || !p->in_const[MM_B] || !B->data)
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
    if (q) {
        free(q->packed);
        mm_dft_free(q->dft);
    }
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

/* scratch of mm_run: onyx_sgemm's pack buffers (M, N, K fit an int:
 * mm_plan_make checked them) */
static size_t mm_scratch_bytes(const mm_plan *q)
{
    if (q->packed) return 0;
    int64_t rows = q->fold ? q->nbatch * q->M : q->M;
    return onyx_sgemm_scratch_bytes((int)rows, (int)q->N, (int)q->K);
}

static onyx_status mm_prepare(onyx_prep *p)
{
    mm_plan q;
    ONYX_TRY(mm_plan_make(p, &q));
    ONYX_TRY(mm_dft_detect(p, &q));
    if (!q.dft) {
        ONYX_TRY(mm_pack(p, &q));
        p->scratch_bytes = mm_scratch_bytes(&q);
    }
    mm_plan *qp = malloc(sizeof *qp);
    if (!qp) {
        free(q.packed);
        mm_dft_free(q.dft);
        return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    }
    *qp = q;
    p->params = qp;
    p->free_params = mm_free;
    /* Y (..., M, N) = A (..., M, K) @ B (..., K, N): K multiply-adds per
     * element of Y (integer ones count 2 as well) */
    const onyx_tensor *A = p->in[0];
    if (A->rank >= 1)
        p->flops = onyx_flops_mul(2 * onyx_out_numel(p), A->dims[A->rank - 1]);
    return ONYX_OK;
}

/* Y[t] = A[t] @ B[t] for batch indices t0 .. t1 - 1 (broadcast) */
static void mm_batches(const mm_plan *q, const float *A, const float *B,
                       float *Y, float *work, int64_t t0, int64_t t1)
{
    const int M = (int)q->M, N = (int)q->N, K = (int)q->K;
    int64_t idx[ONYX_MAX_RANK] = {0};
    int64_t oa = 0, ob = 0;
    int64_t rest = t0;
    for (int i = q->nb - 1; i >= 0; i--) { /* t0's batch index */
        idx[i] = rest % q->bdims[i];
        rest /= q->bdims[i];
        oa += idx[i] * q->sa[i];
        ob += idx[i] * q->sb[i];
    }
    for (int64_t t = t0; t < t1; t++) {
        /* Y[t] (M, N) = A[oa] (M, K) @ B[ob] (K, N) */
        onyx_sgemm(0, 0, M, N, K, 1.0f, A + oa, K, B + ob, N, 0.0f,
                   Y + t * q->M * q->N, N, work);
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

/* The batches in bands over the calling thread's pool, when the products
 * are too small to split themselves (below gemm.c's SPLIT_MIN_MNK: each
 * then runs alone and on the engine's own kernels, wherever it runs) and
 * many together are worth it. */
typedef struct mm_split {
    const mm_plan *q;
    const float *A, *B;
    float *Y, *work; /* work: the caller's, for part 0 */
    int parts;
} mm_split;

static void mm_band(void *ctx, int part, void *work)
{
    const mm_split *s = ctx;
    int lo, hi;
    onyx_threads_range(part, s->parts, (int)s->q->nbatch, &lo, &hi);
    mm_batches(s->q, s->A, s->B, s->Y, work ? work : s->work, lo, hi);
}

/* Y = A @ B, shapes as planned in q; work: mm_scratch_bytes */
static void mm_run(const mm_plan *q, const float *A, const float *B, float *Y,
                   float *work)
{
    const int M = (int)q->M, N = (int)q->N, K = (int)q->K;
    if (q->packed) {
        /* Y (rows, N) = A (rows, K) @ B (K, N) */
        onyx_gemm_packed((int)(q->nbatch * q->M), N, K, 1.0f, A, K, q->packed,
                         0.0f, Y, N);
        return;
    }
    if (q->fold) {
        /* Y (nbatch*M, N) = A (nbatch*M, K) @ B (K, N) */
        onyx_sgemm(0, 0, (int)(q->nbatch * q->M), N, K, 1.0f, A, K, B, N, 0.0f,
                   Y, N, work);
        return;
    }
    onyx_threads *t = onyx_gemm_pool();
    mm_split s = {q, A, B, Y, work, onyx_threads_count(t)};
    const double mnk = (double)M * N * K;
    if (s.parts > 1 && q->nbatch >= s.parts && q->nbatch <= 0x7fffffff &&
        mnk < 1 << 18 && mnk * q->nbatch >= 1 << 17)
        onyx_threads_run(t, mm_band, &s, s.parts);
    else
        mm_batches(q, A, B, Y, work, 0, q->nbatch);
}

static onyx_status mm_eval(onyx_exec *e)
{
    const mm_plan *q = e->params;
    if (!e->out[MM_Y]) return ONYX_OK;
    if (q->dft)
        mm_dft_run(q->dft, q->nbatch * q->M, e->in[MM_A]->data,
                   e->out[MM_Y]->data, e->scratch);
    else
        mm_run(q, e->in[MM_A]->data, e->in[MM_B]->data, e->out[MM_Y]->data,
               e->scratch);
    return ONYX_OK;
}

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
    p->scratch_bytes = mm_scratch_bytes(&k.q);
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
    int a0 = 0; /* addends already in Y */
    if (k->q.packed && k->rows == 1 && k->kind[0] != MMA_SCALAR) {
        /* a Linear layer on one row: Y (N) = A (K) @ B (K, N) + C (N) in
         * one pass, the same sums as the product then the addition */
        onyx_gemv_packed_c((int)k->q.N, (int)k->q.K, 1.0f, e->in[MM_A]->data,
                           k->q.packed, 1.0f, e->in[2]->data, Y);
        a0 = 1;
    } else {
        mm_run(&k->q, e->in[MM_A]->data, e->in[MM_B]->data, Y, e->scratch);
    }
    /* sizes fit a long: a tensor is below the size limit (1 GiB on 32-bit) */
    const long rows = (long)k->rows, N = (long)k->N, n = rows * N;
    for (int a = a0; a < k->n_add; a++) {
        const float *C = e->in[2 + a]->data;
        switch (k->kind[a]) {
        case MMA_FULL:
            for (long i = 0; i < n; i++)
                Y[i] += C[i];
            break;
        case MMA_ROW:
            for (long r = 0; r < rows; r++)
                for (long j = 0; j < N; j++)
                    Y[r * N + j] += C[j];
            break;
        default: {
            const float c = C[0];
            for (long i = 0; i < n; i++)
                Y[i] += c;
        }
        }
    }
    return ONYX_OK;
}

/* The engine fuses the Adds after a MatMul into it (add_fused); no model
 * names MatMul+Add, so it is not in the registry. */
static const onyx_op onyx_op_MatMulAdd = {"MatMul+Add", mma_prepare, mma_eval,
                                          0, &onyx_op_MatMulAdd};
const onyx_op onyx_op_MatMul = {"MatMul", mm_prepare, mm_eval, 0,
                                &onyx_op_MatMulAdd};
