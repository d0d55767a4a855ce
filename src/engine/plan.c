/* plan.c - the memory planner: place buffers with known lifetimes in one
 * arena so that no two buffers live at the same time overlap.
 *
 *   arena  0 ............................................ total
 *          | conv1 out |  scratch  |          | relu out  |
 *   Buffers whose lifetimes [first, last] do not intersect may share bytes.
 *
 * Greedy by size (largest first): each buffer goes at the lowest aligned
 * offset where it overlaps no already placed buffer that is live at the same
 * time. O(n^2), fine for the graphs onyx runs. */
#include "engine.h"

#include <stdlib.h>

static int by_size_desc(const void *a, const void *b)
{
    const onyx_buf *x = *(const onyx_buf *const *)a,
                   *y = *(const onyx_buf *const *)b;
    if (x->bytes != y->bytes) return x->bytes < y->bytes ? 1 : -1;
    return x->first - y->first;
}

size_t onyx_plan_buffers(onyx_buf *bufs, int n, size_t align)
{
    size_t total = 0;
    onyx_buf **order = malloc(sizeof *order * (size_t)(n + 1));
    onyx_buf **placed = malloc(sizeof *placed * (size_t)(n + 1));
    if (!order || !placed) { /* fall back to no sharing at all */
        for (int i = 0; i < n; i++) {
            bufs[i].offset = total;
            total += (bufs[i].bytes + align - 1) / align * align;
        }
        free(order);
        free(placed);
        return total;
    }
    for (int i = 0; i < n; i++)
        order[i] = &bufs[i];
    qsort(order, (size_t)n, sizeof *order, by_size_desc);
    int n_placed = 0;
    for (int i = 0; i < n; i++) {
        onyx_buf *b = order[i];
        size_t size = (b->bytes + align - 1) / align * align;
        size_t offset = 0;
        /* placed[] is sorted by offset: take the first gap between buffers
         * live at the same time that is big enough */
        for (int k = 0; k < n_placed; k++) {
            onyx_buf *q = placed[k];
            if (q->last < b->first || q->first > b->last) continue;
            size_t qsize = (q->bytes + align - 1) / align * align;
            if (offset + size <= q->offset)
                break; /* fits in the gap before q */
            if (q->offset + qsize > offset) offset = q->offset + qsize;
        }
        b->offset = offset;
        int at = n_placed++;
        while (at > 0 && placed[at - 1]->offset > offset) {
            placed[at] = placed[at - 1];
            at--;
        }
        placed[at] = b;
        if (offset + size > total) total = offset + size;
    }
    free(order);
    free(placed);
    return total;
}
