/* nms.c - NonMaxSuppression: per batch and class, the boxes taken greedily
 * by decreasing score, each dropped when it overlaps one already taken by an
 * IoU above iou_threshold, at most max_output_boxes_per_class of them, and
 * only those scoring above score_threshold.
 *
 *   boxes (B, S, 4): [y1, x1, y2, x2] (corners, either order), or
 *                    [x_center, y_center, width, height] (center_point_box)
 *   scores (B, C, S)
 *   max_output_boxes_per_class, iou_threshold, score_threshold: optional
 *                    one-element inputs (defaults 0, 0, none)
 *   selected_indices (K, 3) int64: [batch, class, box] for each box taken
 *
 * K depends on the data, and shapes are fixed when a model is resolved:
 * prepare runs the selection on the values it is given (constants, or the
 * inputs the caller bound) and eval refuses data that selects a different
 * number of boxes. Ties in score go to the lower box index, as in ONNX
 * Runtime. */
#include "onyx_kernel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
    NMS_BOXES = 0,
    NMS_SCORES,
    NMS_MAX_OUT,
    NMS_IOU,
    NMS_SCORE_TH,
    NMS_SELECTED = 0
};

typedef struct {
    int64_t B, C, S;
    int center; /* center_point_box */
    int64_t K;  /* rows of selected_indices found in prepare */
} nms_params;

static const char count_error[] =
    "NonMaxSuppression selects a different number of boxes than when the "
    "model was resolved";

/* The thresholds and limit read from the optional inputs. */
typedef struct {
    int64_t max_out;
    float iou_th;
    int has_score_th;
    float score_th;
} nms_limits;

static const onyx_tensor *nms_opt(const onyx_tensor *const *in, int n_in, int i)
{
    if (i >= n_in || !in[i] || onyx_numel(in[i]) == 0) return NULL;
    return in[i];
}

static nms_limits nms_read_limits(const onyx_tensor *const *in, int n_in)
{
    nms_limits l = {0, 0.0f, 0, 0.0f};
    const onyx_tensor *t = nms_opt(in, n_in, NMS_MAX_OUT);
    if (t) l.max_out = onyx_get_int(t, 0);
    if ((t = nms_opt(in, n_in, NMS_IOU))) l.iou_th = *(const float *)t->data;
    if ((t = nms_opt(in, n_in, NMS_SCORE_TH))) {
        l.has_score_th = 1;
        l.score_th = *(const float *)t->data;
    }
    return l;
}

/* box b as corners y1 <= y2, x1 <= x2 */
static void nms_corners(const float *b, int center, float c[4])
{
    if (center) {
        c[0] = b[1] - b[3] / 2; /* y */
        c[2] = b[1] + b[3] / 2;
        c[1] = b[0] - b[2] / 2; /* x */
        c[3] = b[0] + b[2] / 2;
        return;
    }
    c[0] = fminf(b[0], b[2]);
    c[2] = fmaxf(b[0], b[2]);
    c[1] = fminf(b[1], b[3]);
    c[3] = fmaxf(b[1], b[3]);
}

/* whether boxes a and b overlap by an IoU above th */
static int nms_overlap(const float *a, const float *b, int center, float th)
{
    float p[4], q[4];
    nms_corners(a, center, p);
    nms_corners(b, center, q);
    float ih = fminf(p[2], q[2]) - fmaxf(p[0], q[0]);
    float iw = fminf(p[3], q[3]) - fmaxf(p[1], q[1]);
    if (!(ih > 0 && iw > 0)) return 0;
    float inter = ih * iw;
    float area_p = (p[2] - p[0]) * (p[3] - p[1]);
    float area_q = (q[2] - q[0]) * (q[3] - q[1]);
    float uni = area_p + area_q - inter;
    if (!(area_p > 0 && area_q > 0 && uni > 0)) return 0;
    return inter / uni > th;
}

/* s[i] before s[j] in the selection order: higher score, then lower index */
static int nms_before(const float *s, int64_t i, int64_t j)
{
    return s[i] > s[j] || (s[i] == s[j] && i < j);
}

/* order (n,) sorted by nms_before on scores s, best first: heapsort (no
 * allocation), on a heap whose root is the one that comes last */
static void nms_sort(int64_t *order, int64_t n, const float *s)
{
    for (int64_t start = n / 2 - 1; start >= 0; start--) {
        for (int64_t r = start;;) {
            int64_t c = 2 * r + 1;
            if (c >= n) break;
            if (c + 1 < n && nms_before(s, order[c], order[c + 1])) c++;
            if (!nms_before(s, order[r], order[c])) break;
            int64_t t = order[r];
            order[r] = order[c];
            order[c] = t;
            r = c;
        }
    }
    for (int64_t end = n - 1; end > 0; end--) {
        int64_t t = order[0];
        order[0] = order[end];
        order[end] = t;
        for (int64_t r = 0;;) {
            int64_t c = 2 * r + 1;
            if (c >= end) break;
            if (c + 1 < end && nms_before(s, order[c], order[c + 1])) c++;
            if (!nms_before(s, order[r], order[c])) break;
            t = order[r];
            order[r] = order[c];
            order[c] = t;
            r = c;
        }
    }
}

/* Run the selection; rows go to sel (cap rows of 3) while they fit. order
 * and taken are scratch of S int64 each. Returns the number of rows. */
static int64_t nms_run(const nms_params *np, const nms_limits *l,
                       const float *boxes, const float *scores, int64_t *sel,
                       int64_t cap, int64_t *order, int64_t *taken)
{
    int64_t k = 0;
    if (l->max_out <= 0) return 0;
    for (int64_t b = 0; b < np->B; b++)
        for (int64_t c = 0; c < np->C; c++) {
            const float *s = scores + (b * np->C + c) * np->S;
            const float *bx = boxes + b * np->S * 4;
            int64_t n = 0;
            for (int64_t i = 0; i < np->S; i++)
                if (!l->has_score_th || s[i] > l->score_th) order[n++] = i;
            nms_sort(order, n, s);
            int64_t nt = 0;
            for (int64_t i = 0; i < n && nt < l->max_out; i++) {
                int64_t cand = order[i], keep = 1;
                for (int64_t j = 0; j < nt && keep; j++)
                    keep = !nms_overlap(bx + 4 * cand, bx + 4 * taken[j],
                                        np->center, l->iou_th);
                if (!keep) continue;
                taken[nt++] = cand;
                if (k < cap) {
                    sel[3 * k] = b;
                    sel[3 * k + 1] = c;
                    sel[3 * k + 2] = cand;
                }
                k++;
            }
        }
    return k;
}

static onyx_status nms_prepare(onyx_prep *p)
{
    ONYX_CHECK(p, p->n_in >= 2 && p->n_in <= 5,
               "NonMaxSuppression takes 2 to 5 inputs, got %d", p->n_in);
    ONYX_TRY(onyx_need_dtype(p, NMS_BOXES, ONYX_MASK(ONYX_FLOAT)));
    ONYX_TRY(onyx_need_dtype(p, NMS_SCORES, ONYX_MASK(ONYX_FLOAT)));
    const onyx_tensor *Bx = p->in[NMS_BOXES], *Sc = p->in[NMS_SCORES];
    char a[96], b[96];
    ONYX_CHECK(p, Bx->rank == 3 && Bx->dims[2] == 4,
               "boxes must be (batches, boxes, 4), it is %s",
               onyx_shape_str(Bx, a, sizeof a));
    ONYX_CHECK(p,
               Sc->rank == 3 && Sc->dims[0] == Bx->dims[0] &&
                   Sc->dims[2] == Bx->dims[1],
               "scores %s must be (batches, classes, boxes) for boxes %s",
               onyx_shape_str(Sc, a, sizeof a),
               onyx_shape_str(Bx, b, sizeof b));
    static const char *const names[] = {NULL, NULL,
                                        "max_output_boxes_per_class",
                                        "iou_threshold", "score_threshold"};
    for (int i = NMS_MAX_OUT; i < p->n_in; i++) {
        const onyx_tensor *t = p->in[i];
        if (!t || onyx_numel(t) == 0) continue;
        ONYX_TRY(onyx_need_dtype(p, i,
                                 i == NMS_MAX_OUT ? ONYX_MASK(ONYX_INT64)
                                                  : ONYX_MASK(ONYX_FLOAT)));
        ONYX_CHECK(p, onyx_numel(t) == 1,
                   "%s must have one element, it has %lld", names[i],
                   (long long)onyx_numel(t));
    }
    int64_t center = onyx_attr_int(p, "center_point_box", 0);
    ONYX_CHECK(p, center == 0 || center == 1,
               "center_point_box %lld must be 0 or 1", (long long)center);

    /* the output's length needs every value */
    for (int i = 0; i < p->n_in; i++)
        if (p->in[i] && !p->in[i]->data && onyx_numel(p->in[i]) > 0)
            return onyx_fail(
                p, ONYX_ERR_UNSUPPORTED,
                "the shape of selected_indices depends on the values of "
                "input %d, which are not known when the model is resolved "
                "(bind that input to a value)",
                i);

    nms_params *np = calloc(1, sizeof *np);
    if (!np) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    p->params = np;
    np->B = Bx->dims[0];
    np->C = Sc->dims[1];
    np->S = Bx->dims[1];
    np->center = (int)center;
    int64_t *work = malloc((size_t)(2 * np->S + 1) * sizeof *work);
    if (!work) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    nms_limits l = nms_read_limits(p->in, p->n_in);
    np->K = nms_run(np, &l, Bx->data, Sc->data, NULL, 0, work, work + np->S);
    free(work);
    p->scratch_bytes = (size_t)(2 * np->S) * sizeof(int64_t);
    if (p->out[NMS_SELECTED])
        onyx_set_shape(p->out[NMS_SELECTED], ONYX_INT64, 2,
                       (int64_t[]){np->K, 3});
    return ONYX_OK;
}

static onyx_status nms_eval(onyx_exec *e)
{
    const nms_params *np = e->params;
    if (!e->out[NMS_SELECTED]) return ONYX_OK;
    nms_limits l = nms_read_limits(e->in, e->n_in);
    int64_t *order = e->scratch;
    int64_t k =
        nms_run(np, &l, e->in[NMS_BOXES]->data, e->in[NMS_SCORES]->data,
                e->out[NMS_SELECTED]->data, np->K, order, order + np->S);
    if (k != np->K) {
        e->err = count_error;
        return ONYX_ERR_RUNTIME;
    }
    return ONYX_OK;
}

const onyx_op onyx_op_NonMaxSuppression = {"NonMaxSuppression", nms_prepare,
                                           nms_eval, 0, NULL};
