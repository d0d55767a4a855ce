/* transpose.c - Transpose, and the strided copy that Slice, Expand and Tile
 * share with it: every one of them reads a strided view of its input into a
 * contiguous output. */
#include "onyx_kernel.h"

#include <stdlib.h>
#include <string.h>

/* ---- strided copy --------------------------------------------------------
 * A view of `rank` axes: dims[k] >= 0, strides[k] in elements (may be 0 for a
 * broadcast axis, or negative for a reversed one). Element (i0..i{r-1}) of the
 * view is src[sum_k ik * strides[k]]; dst receives the view in C order.
 * These two functions are used by slice.c and expand.c, which declare them. */
#define ONYX_VIEW_MAX_RANK 16

int onyx_view_simplify(int rank, int64_t *dims, int64_t *strides);
void onyx_view_copy(void *dst, const void *src, size_t esize, int rank,
                    const int64_t *dims, const int64_t *strides);

/* Drop axes of length 1 and merge neighbours that are contiguous in src
 * (strides[k] == strides[k+1] * dims[k+1]) so eval walks as few axes as
 * possible, with runs as long as possible. Returns the new rank. */
int onyx_view_simplify(int rank, int64_t *dims, int64_t *strides)
{
    int r = 0;
    for (int k = 0; k < rank; k++) {
        if (dims[k] == 0) { /* empty view: one axis of 0 says it all */
            dims[0] = 0;
            strides[0] = 1;
            return 1;
        }
        if (dims[k] == 1) continue;
        if (r > 0 && strides[r - 1] == strides[k] * dims[k]) {
            dims[r - 1] *= dims[k];
            strides[r - 1] = strides[k];
            continue;
        }
        dims[r] = dims[k];
        strides[r] = strides[k];
        r++;
    }
    return r;
}

/* n elements of esize bytes from src with a stride (elements) into dst.
 * esize is a constant at every inlined call, so the memcpy become moves. */
static inline void copy_run(char *dst, const char *src, int64_t n,
                            int64_t stride, size_t esize)
{
    if (stride == 1) {
        memcpy(dst, src, (size_t)n * esize);
        return;
    }
    if (stride == 0) { /* a broadcast: one value, doubled until full */
        size_t done = esize, total = (size_t)n * esize;
        memcpy(dst, src, esize);
        while (done < total) {
            size_t c = done < total - done ? done : total - done;
            memcpy(dst + done, dst, c);
            done += c;
        }
        return;
    }
    for (int64_t i = 0; i < n; i++)
        memcpy(dst + i * esize, src + i * stride * (int64_t)esize, esize);
}

static void copy_run_any(char *dst, const char *src, int64_t n, int64_t stride,
                         size_t esize)
{
    switch (esize) {
    case 1: copy_run(dst, src, n, stride, 1); break;
    case 4: copy_run(dst, src, n, stride, 4); break;
    case 8: copy_run(dst, src, n, stride, 8); break;
    default: copy_run(dst, src, n, stride, esize); break;
    }
}

/* A transposed block: dst (rows, cols) row-major gets src[i + j * s].
 * Walked in square tiles so that both the reads and the writes stay in
 * cache lines already loaded. */
enum { TILE = 32 };
static inline void copy_tiles(char *dst, const char *src, int64_t rows,
                              int64_t cols, int64_t s, size_t esize)
{
    for (int64_t i0 = 0; i0 < rows; i0 += TILE) {
        int64_t i1 = i0 + TILE < rows ? i0 + TILE : rows;
        for (int64_t j0 = 0; j0 < cols; j0 += TILE) {
            int64_t j1 = j0 + TILE < cols ? j0 + TILE : cols;
            for (int64_t i = i0; i < i1; i++)
                for (int64_t j = j0; j < j1; j++)
                    memcpy(dst + (i * cols + j) * (int64_t)esize,
                           src + (i + j * s) * (int64_t)esize, esize);
        }
    }
}

static void copy_tiles_any(char *dst, const char *src, int64_t rows,
                           int64_t cols, int64_t s, size_t esize)
{
    switch (esize) {
    case 1: copy_tiles(dst, src, rows, cols, s, 1); break;
    case 4: copy_tiles(dst, src, rows, cols, s, 4); break;
    case 8: copy_tiles(dst, src, rows, cols, s, 8); break;
    default: copy_tiles(dst, src, rows, cols, s, esize); break;
    }
}

void onyx_view_copy(void *dst, const void *src, size_t esize, int rank,
                    const int64_t *dims, const int64_t *strides)
{
    char *d = dst;
    const char *s = src;
    if (rank == 0) {
        memcpy(d, s, esize);
        return;
    }
    for (int k = 0; k < rank; k++)
        if (dims[k] == 0) return;
    /* The innermost one or two axes are done by a run or a tiled block; the
     * axes before them by an odometer that keeps the source offset. */
    int tiled = rank >= 2 && strides[rank - 2] == 1 && strides[rank - 1] != 1 &&
                strides[rank - 1] != 0 && dims[rank - 2] >= 4 &&
                dims[rank - 1] >= 4;
    int inner = tiled ? 2 : 1;
    int outer_rank = rank - inner;
    int64_t block = dims[rank - 1] * (tiled ? dims[rank - 2] : 1);
    int64_t n_outer = 1;
    for (int k = 0; k < outer_rank; k++)
        n_outer *= dims[k];
    int64_t idx[ONYX_VIEW_MAX_RANK] = {0};
    int64_t off = 0; /* source offset, elements */
    for (int64_t o = 0; o < n_outer; o++) {
        if (tiled)
            copy_tiles_any(d, s + off * (int64_t)esize, dims[rank - 2],
                           dims[rank - 1], strides[rank - 1], esize);
        else
            copy_run_any(d, s + off * (int64_t)esize, dims[rank - 1],
                         strides[rank - 1], esize);
        d += block * (int64_t)esize;
        for (int k = outer_rank - 1; k >= 0; k--) {
            off += strides[k];
            if (++idx[k] < dims[k]) break;
            off -= strides[k] * dims[k];
            idx[k] = 0;
        }
    }
}

/* ---- Transpose ----------------------------------------------------------- */

#define DATA_TYPES                                                             \
    (ONYX_MASK(ONYX_FLOAT) | ONYX_MASK(ONYX_INT64) | ONYX_MASK(ONYX_INT32) |   \
     ONYX_MASK(ONYX_BOOL))

/* The simplified view of X that is Y. */
typedef struct {
    int rank;
    size_t esize;
    int64_t dims[ONYX_VIEW_MAX_RANK];
    int64_t strides[ONYX_VIEW_MAX_RANK];
} transpose_params;

enum { T_X = 0, T_Y = 0 };

static onyx_status transpose_prepare(onyx_prep *p)
{
    ONYX_TRY(onyx_need_dtype(p, T_X, DATA_TYPES));
    const onyx_tensor *X = p->in[T_X];
    int r = X->rank;
    int64_t perm[ONYX_MAX_RANK];
    const int64_t *pv;
    int64_t n = onyx_attr_ints(p, "perm", &pv);
    if (n < 0) { /* default: reverse the axes */
        for (int k = 0; k < r; k++)
            perm[k] = r - 1 - k;
    } else {
        ONYX_CHECK(p, n == r, "perm has %lld entries for an input of rank %d",
                   (long long)n, r);
        int seen[ONYX_MAX_RANK] = {0};
        for (int k = 0; k < r; k++) {
            ONYX_CHECK(p, pv[k] >= 0 && pv[k] < r && !seen[pv[k]],
                       "perm is not a permutation of 0..%d (entry %d is %lld)",
                       r - 1, k, (long long)pv[k]);
            seen[pv[k]] = 1;
            perm[k] = pv[k];
        }
    }
    int64_t in_strides[ONYX_MAX_RANK], dims[ONYX_MAX_RANK];
    int64_t s = 1;
    for (int k = r - 1; k >= 0; k--) {
        in_strides[k] = s;
        s *= X->dims[k];
    }
    for (int k = 0; k < r; k++)
        dims[k] = X->dims[perm[k]];
    if (p->out[T_Y]) onyx_set_shape(p->out[T_Y], X->dtype, r, dims);

    transpose_params *tp = calloc(1, sizeof *tp);
    if (!tp) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    for (int k = 0; k < r; k++) {
        tp->dims[k] = dims[k];
        tp->strides[k] = in_strides[perm[k]];
    }
    tp->rank = onyx_view_simplify(r, tp->dims, tp->strides);
    tp->esize = onyx_dtype_size(X->dtype);
    p->params = tp;
    return ONYX_OK;
}

static onyx_status transpose_eval(onyx_exec *e)
{
    const transpose_params *tp = e->params;
    if (!e->out[T_Y]) return ONYX_OK;
    onyx_view_copy(e->out[T_Y]->data, e->in[T_X]->data, tp->esize, tp->rank,
                   tp->dims, tp->strides);
    return ONYX_OK;
}

const onyx_op onyx_op_Transpose = {"Transpose", transpose_prepare,
                                   transpose_eval};
