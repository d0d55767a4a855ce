/* pad.c - Pad in constant, reflect and edge modes; negative pads crop.
 * Opset < 11: pads and value are attributes. Opset 11+: pads is an input
 * (read at prepare, it shapes the output) and constant_value an optional
 * scalar input (read in eval).
 *
 * prepare builds, per axis, a map from output index to source index (-1: the
 * constant). eval walks the output row by row (a row is the last axis): a row
 * whose outer indices hit a -1 is all constant; any other row is the source
 * row's middle copied in one memcpy, with the padded ends filled from the
 * map. Works on any element size, so every dtype onyx holds. */
#include "onyx_kernel.h"

#include <stdlib.h>
#include <string.h>

enum { PAD_DATA = 0, PAD_PADS, PAD_VALUE };
enum { PAD_OUTPUT = 0 };

typedef enum { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE } pad_mode;

typedef struct {
    pad_mode mode;
    int rank;
    size_t es;                      /* element size in bytes */
    int64_t odims[ONYX_MAX_RANK];   /* output shape */
    int64_t istr[ONYX_MAX_RANK];    /* input strides (elements) */
    int64_t map_off[ONYX_MAX_RANK]; /* start of axis a's map in map[] */
    int64_t lo, hi;         /* last axis: output [lo, hi) is a plain copy */
    int64_t src_lo;         /* ... of source elements from src_lo on */
    int value_input;        /* constant_value comes from input PAD_VALUE */
    int empty;              /* Y has no elements: nothing to do, no map */
    unsigned char value[8]; /* the constant, as one element of the dtype */
    int64_t map[];          /* per axis: source index of each output index */
} pad_params;

/* Source index of output index i on an axis of n elements with pads before
 * pb; -1 for the constant. */
static int64_t pad_source(pad_mode mode, int64_t i, int64_t pb, int64_t n)
{
    int64_t s = i - pb;
    if (s >= 0 && s < n) return s;
    if (mode == PAD_CONSTANT) return -1;
    if (mode == PAD_EDGE || n == 1) return s < 0 ? 0 : n - 1;
    /* reflect without repeating the edge: period 2(n-1) */
    int64_t period = 2 * (n - 1);
    s %= period;
    if (s < 0) s += period;
    return s < n ? s : period - s;
}

/* Write value (es bytes) count times at dst. */
static void fill(void *dst, const void *value, size_t es, int64_t count)
{
    if (es == 4) {
        uint32_t v, *d = dst;
        memcpy(&v, value, 4);
        for (int64_t k = 0; k < count; k++)
            d[k] = v;
    } else if (es == 8) {
        uint64_t v, *d = dst;
        memcpy(&v, value, 8);
        for (int64_t k = 0; k < count; k++)
            d[k] = v;
    } else if (es == 1) {
        memset(dst, *(const unsigned char *)value, (size_t)count);
    } else {
        for (int64_t k = 0; k < count; k++)
            memcpy((char *)dst + (size_t)k * es, value, es);
    }
}

/* The number v as one element of dtype dt at dst. */
static void store_scalar(void *dst, onyx_dtype dt, double v)
{
    switch (dt) {
    case ONYX_FLOAT: *(float *)dst = (float)v; break;
    case ONYX_DOUBLE: *(double *)dst = v; break;
    /* integers: as Cast converts (onyx_f2i, then wrap) */
    case ONYX_INT64: *(int64_t *)dst = onyx_f2i(v); break;
    case ONYX_INT32: *(int32_t *)dst = (int32_t)(uint32_t)onyx_f2i(v); break;
    case ONYX_BOOL: *(uint8_t *)dst = v != 0.0; break;
    case ONYX_UINT8: *(uint8_t *)dst = (uint8_t)onyx_f2i(v); break;
    case ONYX_INT8: *(int8_t *)dst = (int8_t)(uint8_t)onyx_f2i(v); break;
    default: break;
    }
}

static onyx_status pad_prepare(onyx_prep *p)
{
    unsigned types = ONYX_MASK(ONYX_FLOAT) | ONYX_MASK(ONYX_INT64) |
                     ONYX_MASK(ONYX_INT32) | ONYX_MASK(ONYX_BOOL) |
                     ONYX_MASK(ONYX_UINT8) | ONYX_MASK(ONYX_INT8) |
                     ONYX_MASK(ONYX_DOUBLE);
    ONYX_TRY(onyx_need_dtype(p, PAD_DATA, types));
    const onyx_tensor *X = p->in[PAD_DATA];
    int rank = X->rank;
    ONYX_CHECK(p, p->out[PAD_OUTPUT] != NULL, "output is required");

    const char *mode_s = onyx_attr_string(p, "mode", "constant");
    pad_mode mode;
    if (strcmp(mode_s, "constant") == 0)
        mode = PAD_CONSTANT;
    else if (strcmp(mode_s, "reflect") == 0)
        mode = PAD_REFLECT;
    else if (strcmp(mode_s, "edge") == 0)
        mode = PAD_EDGE;
    else
        return onyx_fail(p, ONYX_ERR_INVALID,
                         "mode '%s' is not one of constant, reflect, edge",
                         mode_s);

    /* pads: [x1_begin, x2_begin, ..., x1_end, x2_end, ...] */
    int64_t pads[2 * ONYX_MAX_RANK] = {0};
    int64_t npads;
    const onyx_tensor *V = NULL;
    unsigned char value[8] = {0};
    if (p->opset >= 11) {
        ONYX_TRY(onyx_need_dtype(p, PAD_PADS, ONYX_MASK(ONYX_INT64)));
        ONYX_TRY(onyx_need_value(p, PAD_PADS));
        const onyx_tensor *P = p->in[PAD_PADS];
        ONYX_CHECK(p, P->rank == 1, "pads must be a 1-D tensor");
        npads = onyx_numel(P);
        ONYX_CHECK(p, npads == 2 * rank,
                   "pads has %lld values; data of rank %d needs %d",
                   (long long)npads, rank, 2 * rank);
        for (int64_t i = 0; i < npads; i++)
            pads[i] = onyx_get_int(P, i);
        V = p->n_in > PAD_VALUE ? p->in[PAD_VALUE] : NULL;
        if (V && onyx_numel(V) == 0) V = NULL; /* empty: omitted */
        if (V) {
            ONYX_CHECK(p, V->dtype == X->dtype,
                       "constant_value has dtype %s, data has %s",
                       onyx_dtype_name(V->dtype), onyx_dtype_name(X->dtype));
            ONYX_CHECK(p, onyx_numel(V) == 1,
                       "constant_value must be a scalar (it has %lld "
                       "elements)",
                       (long long)onyx_numel(V));
        }
        ONYX_CHECK(p, p->n_in <= 3 || !p->in[3],
                   "input axes is not supported before opset 18");
    } else {
        const int64_t *pa = NULL;
        npads = onyx_attr_ints(p, "pads", &pa);
        ONYX_CHECK(p, npads >= 0, "attribute pads is required");
        ONYX_CHECK(p, npads == 2 * rank,
                   "pads has %lld values; data of rank %d needs %d",
                   (long long)npads, rank, 2 * rank);
        for (int64_t i = 0; i < npads; i++)
            pads[i] = pa[i];
        store_scalar(value, X->dtype, onyx_attr_float(p, "value", 0.0f));
    }

    int64_t odims[ONYX_MAX_RANK], maplen = 0;
    for (int a = 0; a < rank; a++) {
        int64_t n = X->dims[a], pb = pads[a], pe = pads[a + rank];
        /* far beyond any tensor; keeps n + pb + pe in range */
        const int64_t big = (int64_t)1 << 48;
        ONYX_CHECK(p, pb >= -big && pb <= big && pe >= -big && pe <= big,
                   "pads %lld and %lld of axis %d are out of range",
                   (long long)pb, (long long)pe, a);
        odims[a] = n + pb + pe;
        ONYX_CHECK(p, odims[a] >= 0,
                   "pads %lld and %lld crop more than the %lld elements of "
                   "axis %d",
                   (long long)pb, (long long)pe, (long long)n, a);
        ONYX_CHECK(p, mode == PAD_CONSTANT || n > 0 || odims[a] == 0,
                   "axis %d is empty: mode '%s' has nothing to copy", a,
                   mode_s);
        maplen += odims[a];
    }
    /* the map below has an entry per output index: check Y's size first;
     * an empty Y needs no map (and its other dims may be huge) */
    ONYX_TRY(onyx_check_size(p, X->dtype, rank, odims));
    int empty = 0;
    for (int a = 0; a < rank; a++)
        empty |= odims[a] == 0;
    if (empty) maplen = 0;

    pad_params *pp = calloc(1, sizeof *pp + (size_t)maplen * sizeof(int64_t));
    if (!pp) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    p->params = pp;
    pp->mode = mode;
    pp->rank = rank;
    pp->es = onyx_dtype_size(X->dtype);
    pp->value_input = V != NULL;
    pp->empty = empty;
    memcpy(pp->value, value, sizeof value);
    int64_t off = 0, stride = 1;
    for (int a = rank - 1; a >= 0; a--) {
        pp->istr[a] = stride;
        stride *= X->dims[a];
    }
    for (int a = 0; a < rank; a++) {
        pp->odims[a] = odims[a];
        pp->map_off[a] = off;
        for (int64_t i = 0; i < odims[a] && !empty; i++)
            pp->map[off + i] = pad_source(mode, i, pads[a], X->dims[a]);
        off += odims[a];
    }
    if (rank > 0) {
        int64_t n = X->dims[rank - 1], pb = pads[rank - 1];
        pp->lo = pb > 0 ? pb : 0;
        pp->hi = pb + n < odims[rank - 1] ? pb + n : odims[rank - 1];
        if (pp->hi < pp->lo) pp->hi = pp->lo;
        pp->src_lo = pp->lo - pb;
    }
    onyx_set_shape(p->out[PAD_OUTPUT], X->dtype, rank, odims);
    return ONYX_OK;
}

static onyx_status pad_eval(onyx_exec *e)
{
    const pad_params *pp = e->params;
    const char *x = e->in[PAD_DATA]->data;
    char *y = e->out[PAD_OUTPUT]->data;
    size_t es = pp->es;
    const void *value = pp->value;
    if (pp->value_input) value = e->in[PAD_VALUE]->data;
    int rank = pp->rank;
    if (pp->empty) return ONYX_OK;
    if (rank == 0) {
        memcpy(y, x, es);
        return ONYX_OK;
    }
    int last = rank - 1;
    int64_t row = pp->odims[last], rows = 1;
    for (int a = 0; a < last; a++)
        rows *= pp->odims[a];
    if (row == 0 || rows == 0) return ONYX_OK;
    const int64_t *lmap = pp->map + pp->map_off[last];
    int64_t idx[ONYX_MAX_RANK] = {0};
    for (int64_t r = 0; r < rows; r++, y += (size_t)row * es) {
        /* source row of output row idx[0..last-1] */
        int64_t src = 0;
        int constant = 0;
        for (int a = 0; a < last; a++) {
            int64_t s = pp->map[pp->map_off[a] + idx[a]];
            if (s < 0) constant = 1;
            src += s * pp->istr[a];
        }
        if (constant) {
            fill(y, value, es, row);
        } else {
            const char *xr = x + (size_t)src * es;
            if (pp->hi > pp->lo)
                memcpy(y + (size_t)pp->lo * es, xr + (size_t)pp->src_lo * es,
                       (size_t)(pp->hi - pp->lo) * es);
            if (pp->mode == PAD_CONSTANT) {
                fill(y, value, es, pp->lo);
                fill(y + (size_t)pp->hi * es, value, es, row - pp->hi);
            } else {
                for (int64_t j = 0; j < pp->lo; j++)
                    memcpy(y + (size_t)j * es, xr + (size_t)lmap[j] * es, es);
                for (int64_t j = pp->hi; j < row; j++)
                    memcpy(y + (size_t)j * es, xr + (size_t)lmap[j] * es, es);
            }
        }
        for (int a = last - 1; a >= 0; a--) {
            if (++idx[a] < pp->odims[a]) break;
            idx[a] = 0;
        }
    }
    return ONYX_OK;
}

const onyx_op onyx_op_Pad = {"Pad", pad_prepare, pad_eval, 0, NULL};
