/* tfidf.c - TfIdfVectorizer on integer tokens: counts of the n-grams of a
 * pool (with up to max_skip_count tokens skipped between the items of a
 * gram) in each row of X, weighted as TF, IDF or TFIDF.
 *
 * The pool holds the 1-grams, then the 2-grams... (ngram_counts[i] is where
 * the (i+1)-grams start); the j-th gram of the pool, counting across sizes,
 * adds to output column ngram_indexes[j]. Grams of min_gram_length to
 * max_gram_length items are counted at every start and skip distance, the
 * 1-grams only once (not again for each skip). */
#include "onyx_kernel.h"

#include <stdlib.h>
#include <string.h>

enum { TI_X = 0, TI_Y = 0 };

typedef enum { TI_TF, TI_IDF, TI_TFIDF } tfidf_mode;

typedef struct {
    tfidf_mode mode;
    int64_t min_n, max_n, max_skip;
    int64_t rows, cols, n_out;
    int64_t n_sizes;   /* gram sizes in the pool: 1..n_sizes */
    int64_t *start;    /* (n_sizes,) offset of the size's grams in pool */
    int64_t *n_grams;  /* (n_sizes,) how many grams of the size */
    int64_t *first_id; /* (n_sizes,) the first gram's index, all sizes */
    int64_t *pool;     /* (pool_len,) owned copy */
    int64_t *column;   /* (n_ids,) ngram_indexes */
    float *weight;     /* (n_ids,) weights, 1 when not given */
} tfidf_params;

static void tfidf_free(void *params)
{
    tfidf_params *tp = params;
    if (tp) {
        free(tp->start);
        free(tp->n_grams);
        free(tp->first_id);
        free(tp->pool);
        free(tp->column);
        free(tp->weight);
    }
    free(tp);
}

static onyx_status tfidf_prepare(onyx_prep *p)
{
    ONYX_TRY(onyx_need_input(p, TI_X));
    const onyx_tensor *X = p->in[TI_X];
    if (X->dtype == ONYX_STRING)
        return onyx_fail(p, ONYX_ERR_UNSUPPORTED,
                         "string tokens are not supported, only int32/int64");
    ONYX_TRY(onyx_need_dtype(p, TI_X,
                             ONYX_MASK(ONYX_INT64) | ONYX_MASK(ONYX_INT32)));
    char a[96];
    ONYX_CHECK(p, X->rank == 1 || X->rank == 2, "X %s must be [C] or [N, C]",
               onyx_shape_str(X, a, sizeof a));
    const char *mode = onyx_attr_string(p, "mode", "");
    tfidf_mode m;
    if (!strcmp(mode, "TF"))
        m = TI_TF;
    else if (!strcmp(mode, "IDF"))
        m = TI_IDF;
    else if (!strcmp(mode, "TFIDF"))
        m = TI_TFIDF;
    else
        return onyx_fail(p, ONYX_ERR_INVALID,
                         "mode '%s' is not TF, IDF or TFIDF", mode);
    int64_t min_n = onyx_attr_int(p, "min_gram_length", 0);
    int64_t max_n = onyx_attr_int(p, "max_gram_length", 0);
    int64_t max_skip = onyx_attr_int(p, "max_skip_count", 0);
    ONYX_CHECK(p, min_n >= 1 && min_n <= max_n && max_n <= 64,
               "gram lengths %lld to %lld must be 1 <= min <= max <= 64",
               (long long)min_n, (long long)max_n);
    ONYX_CHECK(p, max_skip >= 0 && max_skip < (1 << 20),
               "max_skip_count %lld is out of range", (long long)max_skip);
    const int64_t *counts, *indexes, *pool;
    const float *weights;
    if (onyx_attr_get(p, "pool_strings"))
        return onyx_fail(p, ONYX_ERR_UNSUPPORTED,
                         "pool_strings: string tokens are not supported");
    int64_t n_sizes = onyx_attr_ints(p, "ngram_counts", &counts);
    int64_t n_ids = onyx_attr_ints(p, "ngram_indexes", &indexes);
    int64_t pool_len = onyx_attr_ints(p, "pool_int64s", &pool);
    int64_t n_w = onyx_attr_floats(p, "weights", &weights);
    ONYX_CHECK(p, n_sizes >= 1 && n_ids >= 1 && pool_len >= 0,
               "ngram_counts, ngram_indexes and pool_int64s are required");
    ONYX_CHECK(p, n_w < 0 || n_w == n_ids,
               "%lld weights for %lld ngram_indexes", (long long)n_w,
               (long long)n_ids);

    tfidf_params *tp = calloc(1, sizeof *tp);
    if (!tp) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    p->params = tp;
    p->free_params = tfidf_free;
    tp->start = malloc(sizeof(int64_t) * (size_t)n_sizes);
    tp->n_grams = malloc(sizeof(int64_t) * (size_t)n_sizes);
    tp->first_id = malloc(sizeof(int64_t) * (size_t)n_sizes);
    tp->pool = malloc(sizeof(int64_t) * (size_t)(pool_len + 1));
    tp->column = malloc(sizeof(int64_t) * (size_t)n_ids);
    tp->weight = malloc(sizeof(float) * (size_t)n_ids);
    if (!tp->start || !tp->n_grams || !tp->first_id || !tp->pool ||
        !tp->column || !tp->weight)
        return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    int64_t id = 0;
    for (int64_t s = 0; s < n_sizes; s++) {
        int64_t b = counts[s], e = s + 1 < n_sizes ? counts[s + 1] : pool_len;
        ONYX_CHECK(p,
                   b >= 0 && b <= e && e <= pool_len && (e - b) % (s + 1) == 0,
                   "ngram_counts[%lld] = %lld does not split the pool of %lld "
                   "into %lld-grams",
                   (long long)s, (long long)b, (long long)pool_len,
                   (long long)(s + 1));
        tp->start[s] = b;
        tp->n_grams[s] = (e - b) / (s + 1);
        tp->first_id[s] = id;
        id += tp->n_grams[s];
    }
    ONYX_CHECK(p, id == n_ids, "the pool has %lld grams, ngram_indexes %lld",
               (long long)id, (long long)n_ids);
    tp->n_out = 0;
    for (int64_t j = 0; j < n_ids; j++) {
        ONYX_CHECK(p, indexes[j] >= 0 && indexes[j] < (1 << 30),
                   "ngram_indexes[%lld] = %lld is out of range", (long long)j,
                   (long long)indexes[j]);
        tp->column[j] = indexes[j];
        tp->weight[j] = n_w < 0 ? 1.0f : weights[j];
        if (indexes[j] + 1 > tp->n_out) tp->n_out = indexes[j] + 1;
    }
    if (pool_len) memcpy(tp->pool, pool, sizeof(int64_t) * (size_t)pool_len);
    tp->mode = m;
    tp->min_n = min_n;
    tp->max_n = max_n < n_sizes ? max_n : n_sizes; /* no longer grams pooled */
    tp->max_skip = max_skip;
    tp->n_sizes = n_sizes;
    tp->rows = X->rank == 2 ? X->dims[0] : 1;
    tp->cols = X->dims[X->rank - 1];
    int64_t dims[2] = {tp->rows, tp->n_out};
    if (p->out[TI_Y])
        onyx_set_shape(p->out[TI_Y], ONYX_FLOAT, X->rank, dims + 2 - X->rank);
    return ONYX_OK;
}

/* The pool index of the gram of `size` items at x[0], x[step], ...; -1 when
 * it is not in the pool (a linear search: pools are small). */
static int64_t find_gram(const tfidf_params *tp, const onyx_tensor *X,
                         int64_t at, int64_t step, int64_t size)
{
    const int64_t *g = tp->pool + tp->start[size - 1];
    for (int64_t j = 0; j < tp->n_grams[size - 1]; j++, g += size) {
        int64_t m = 0;
        while (m < size && g[m] == onyx_get_int(X, at + m * step))
            m++;
        if (m == size) return tp->first_id[size - 1] + j;
    }
    return -1;
}

static onyx_status tfidf_eval(onyx_exec *e)
{
    const tfidf_params *tp = e->params;
    onyx_tensor *Y = e->out[TI_Y];
    if (!Y) return ONYX_OK;
    const onyx_tensor *X = e->in[TI_X];
    float *y = Y->data;
    memset(y, 0, sizeof(float) * (size_t)(tp->rows * tp->n_out));
    int64_t C = tp->cols;
    for (int64_t r = 0; r < tp->rows; r++) {
        float *yr = y + r * tp->n_out;
        int64_t min_n = tp->min_n;
        for (int64_t skip = 0; skip <= tp->max_skip && min_n <= tp->max_n;
             skip++) {
            int64_t step = skip + 1;
            for (int64_t st = 0; st + step * (min_n - 1) < C; st++)
                for (int64_t n = min_n;
                     n <= tp->max_n && st + step * (n - 1) < C; n++) {
                    int64_t id = find_gram(tp, X, r * C + st, step, n);
                    if (id >= 0) yr[tp->column[id]] += 1;
                }
            if (min_n == 1) min_n = 2; /* 1-grams count once */
        }
    }
    if (tp->mode != TI_TF) {
        /* weight each gram's column: IDF counts presence, TFIDF scales */
        int64_t n_ids =
            tp->first_id[tp->n_sizes - 1] + tp->n_grams[tp->n_sizes - 1];
        for (int64_t r = 0; r < tp->rows; r++)
            for (int64_t j = 0; j < n_ids; j++) {
                float *v = y + r * tp->n_out + tp->column[j];
                if (tp->mode == TI_IDF)
                    *v = *v > 0 ? tp->weight[j] : 0;
                else
                    *v *= tp->weight[j];
            }
    }
    return ONYX_OK;
}

const onyx_op onyx_op_TfIdfVectorizer = {"TfIdfVectorizer", tfidf_prepare,
                                         tfidf_eval, 0, NULL};
