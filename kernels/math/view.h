/* view.h - the strided copy that Transpose, Slice, Expand and Tile share:
 * each plans, in prepare, its output as a view of its input, and copies the
 * view in eval (view.c).
 *
 * A view of `rank` axes: dims[k] >= 0, strides[k] in elements (may be 0 for
 * a broadcast axis, or negative for a reversed one). Element (i0..i{r-1}) of
 * the view is src[sum_k ik * strides[k]]; dst receives the view in C order.
 */
#ifndef ONYX_VIEW_H
#define ONYX_VIEW_H

#include <stddef.h>
#include <stdint.h>

/* Most axes a view may have: Tile doubles the rank of its input. */
#define ONYX_VIEW_MAX_RANK 16

/* Drop axes of length 1 and merge neighbours that are contiguous in src
 * (strides[k] == strides[k+1] * dims[k+1]) so the copy walks as few axes as
 * possible, with runs as long as possible; an empty view becomes one axis of
 * length 0. Rewrites dims and strides in place and returns the new rank. */
int onyx_view_simplify(int rank, int64_t *dims, int64_t *strides);

/* dst (the view, C order) = the view (dims, strides, rank) of src; elements
 * of esize bytes. rank 0 copies one element. Does not allocate. */
void onyx_view_copy(void *dst, const void *src, size_t esize, int rank,
                    const int64_t *dims, const int64_t *strides);

#endif
