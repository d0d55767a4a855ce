/* view.c - the strided copy behind Transpose, Slice, Expand and Tile: each
 * reads a strided view of its input into a contiguous output (view.h). */
#include "view.h"

#include <string.h>

int onyx_view_simplify(int rank, int64_t *dims, int64_t *strides)
{
    /* an empty view: one axis of 0 says it all (checked first: merged, the
     * other dims could multiply past int64) */
    for (int k = 0; k < rank; k++)
        if (dims[k] == 0) {
            dims[0] = 0;
            strides[0] = 1;
            return 1;
        }
    int r = 0;
    for (int k = 0; k < rank; k++) {
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

/* The innermost one or two axes are done by a run or a tiled block; the
 * axes before them by an odometer that keeps the source offset. */
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
