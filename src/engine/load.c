/* load.c - phase 1: map an ONNX file and read ModelProto with pb.h.
 *
 * Every string and array the model owns is copied into one pool; weight data
 * (TensorProto.raw_data) is borrowed from the mapping when it is aligned for
 * its element type, and copied otherwise. Every length, count and tag is
 * checked: a malformed file is an ONYX_ERR_PARSE, never a crash. */
#include "engine.h"
#include "pb.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- field numbers of the ONNX messages read here (onnx/onnx.proto) ---- */

/* ModelProto */
enum {
    MODEL_IR_VERSION = 1,
    MODEL_PRODUCER_NAME = 2,
    MODEL_GRAPH = 7,
    MODEL_OPSET_IMPORT = 8,
    MODEL_METADATA_PROPS = 14,
};
/* OperatorSetIdProto */
enum {
    OPSET_DOMAIN = 1,
    OPSET_VERSION = 2,
};
/* StringStringEntryProto */
enum {
    ENTRY_KEY = 1,
    ENTRY_VALUE = 2,
};
/* GraphProto */
enum {
    GRAPH_NODE = 1,
    GRAPH_INITIALIZER = 5,
    GRAPH_INPUT = 11,
    GRAPH_OUTPUT = 12,
    GRAPH_SPARSE_INITIALIZER = 15,
};
/* NodeProto */
enum {
    NODE_INPUT = 1,
    NODE_OUTPUT = 2,
    NODE_NAME = 3,
    NODE_OP_TYPE = 4,
    NODE_ATTRIBUTE = 5,
    NODE_DOMAIN = 7,
};
/* AttributeProto */
enum {
    ATTR_NAME = 1,
    ATTR_F = 2,
    ATTR_I = 3,
    ATTR_S = 4,
    ATTR_T = 5,
    ATTR_G = 6,
    ATTR_FLOATS = 7,
    ATTR_INTS = 8,
    ATTR_STRINGS = 9,
    ATTR_TENSORS = 10,
    ATTR_GRAPHS = 11,
    ATTR_TYPE = 20,
};
/* TensorProto */
enum {
    TENSOR_DIMS = 1,
    TENSOR_DATA_TYPE = 2,
    TENSOR_SEGMENT = 3,
    TENSOR_FLOAT_DATA = 4,
    TENSOR_INT32_DATA = 5,
    TENSOR_STRING_DATA = 6,
    TENSOR_INT64_DATA = 7,
    TENSOR_NAME = 8,
    TENSOR_RAW_DATA = 9,
    TENSOR_DOUBLE_DATA = 10,
    TENSOR_UINT64_DATA = 11,
    TENSOR_EXTERNAL_DATA = 13,
    TENSOR_DATA_LOCATION = 14,
    TENSOR_LOCATION_EXTERNAL = 1, /* a data_location value */
};
/* ValueInfoProto */
enum {
    VALUE_NAME = 1,
    VALUE_TYPE = 2,
};
/* TypeProto: which type the oneof holds */
enum {
    TYPE_TENSOR = 1,
    TYPE_SEQUENCE = 4,
    TYPE_MAP = 5,
    TYPE_SPARSE_TENSOR = 8,
    TYPE_OPTIONAL = 9,
};
/* TypeProto.Tensor */
enum {
    TTYPE_ELEM_TYPE = 1,
    TTYPE_SHAPE = 2,
};
/* TensorShapeProto and its Dimension */
enum {
    SHAPE_DIM = 1,
    DIM_VALUE = 1,
    DIM_PARAM = 2,
};

/* ---- pool ---- */

struct onyx_pool_chunk {
    onyx_pool_chunk *next;
    size_t cap;
    _Alignas(16) unsigned char data[];
};

void *onyx_pool_alloc(onyx_pool *pl, size_t bytes)
{
    bytes = (bytes + 15) & ~(size_t)15;
    if (bytes == 0) bytes = 16;
    if (!pl->head || pl->used + bytes > pl->cap) {
        size_t cap = bytes > 65536 ? bytes : 65536;
        onyx_pool_chunk *c = malloc(sizeof *c + cap);
        if (!c) return NULL;
        c->next = pl->head;
        c->cap = cap;
        pl->head = c;
        pl->used = 0;
        pl->cap = cap;
    }
    void *p = pl->head->data + pl->used;
    pl->used += bytes;
    memset(p, 0, bytes);
    return p;
}

char *onyx_pool_strndup(onyx_pool *pl, const char *s, size_t n)
{
    char *d = onyx_pool_alloc(pl, n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

void onyx_pool_free(onyx_pool *pl)
{
    onyx_pool_chunk *c = pl->head;
    while (c) {
        onyx_pool_chunk *n = c->next;
        free(c);
        c = n;
    }
    pl->head = NULL;
    pl->used = pl->cap = 0;
}

void onyx_seterr(onyx_error *err, onyx_status st, const char *fmt, ...)
{
    if (!err) return;
    err->status = st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
}

onyx_limits onyx_limits_default(void)
{
    onyx_limits l;
    l.max_nodes = 100000;
    l.max_depth = 8192;
    l.max_tensor_bytes = (int64_t)1 << 32; /* 4 GiB */
    l.max_attr_elems = (int64_t)1 << 20;
    l.max_arena_bytes = (int64_t)1 << 32;
    if (sizeof(size_t) < 8) {
        l.max_tensor_bytes = (int64_t)1 << 30;
        l.max_arena_bytes = (int64_t)1 << 30;
    }
    return l;
}

/* ---- parsing state ---- */

typedef struct loader {
    onyx_model *m; /* NULL when parsing a lone TensorProto */
    onyx_pool *pool;
    const onyx_limits *lim;
    int depth;       /* subgraphs being read around the current one */
    int64_t n_nodes; /* nodes read so far, in every graph */
    char msg[400];
} loader;

#define LFAIL(L, ...)                                                          \
    do {                                                                       \
        snprintf((L)->msg, sizeof(L)->msg, __VA_ARGS__);                       \
        return ONYX_ERR_PARSE;                                                 \
    } while (0)

/* a resource limit (onyx_limits) exceeded */
#define LLIMIT(L, ...)                                                         \
    do {                                                                       \
        snprintf((L)->msg, sizeof(L)->msg, __VA_ARGS__);                       \
        return ONYX_ERR_LIMIT;                                                 \
    } while (0)

#define LNOMEM(L)                                                              \
    do {                                                                       \
        snprintf((L)->msg, sizeof(L)->msg, "out of memory");                   \
        return ONYX_ERR_NOMEM;                                                 \
    } while (0)

static const char *pb_str(pb_reader *r, onyx_pool *pl)
{
    pb_reader s = pb_sub(r);
    if (r->bad) return NULL;
    return onyx_pool_strndup(pl, (const char *)s.p, (size_t)(s.end - s.p));
}

/* A growable array in the pool: doubles on demand, old storage is left to
 * the pool (bounded by 2x the final size). */
typedef struct vec {
    void *data;
    int64_t n, cap;
} vec;

static void *vec_push(vec *v, size_t elem, onyx_pool *pl)
{
    if (v->n == v->cap) {
        int64_t cap = v->cap ? v->cap * 2 : 8;
        void *d = onyx_pool_alloc(pl, (size_t)cap * elem);
        if (!d) return NULL;
        if (v->n) memcpy(d, v->data, (size_t)v->n * elem);
        v->data = d;
        v->cap = cap;
    }
    return (char *)v->data + (size_t)(v->n++) * elem;
}

/* Appends a repeated scalar field, packed (LEN) or not. kind: 'v' varint
 * int64, 'f' fixed32 float, 'd' fixed64 double, 'i' varint as int32. */
static onyx_status read_repeated(loader *L, pb_reader *r, int wire, char kind,
                                 vec *v, int64_t max)
{
    size_t elem = kind == 'f' || kind == 'i' ? 4 : 8;
    pb_reader s;
    int packed = wire == PB_LEN;
    if (packed) {
        s = pb_sub(r);
        if (r->bad) LFAIL(L, "truncated packed field");
    } else {
        s = *r;
    }
    int expect = kind == 'f'   ? PB_FIXED32
                 : kind == 'd' ? PB_FIXED64
                               : PB_VARINT;
    if (!packed && wire != expect)
        LFAIL(L, "wrong wire type %d for a repeated field", wire);
    do {
        if (v->n >= max)
            LLIMIT(L, "repeated field has more than %lld entries%s",
                   (long long)max,
                   max == L->lim->max_attr_elems
                       ? " (onyx_limits.max_attr_elems)"
                       : "");
        void *slot = vec_push(v, elem, L->pool);
        if (!slot) LNOMEM(L);
        switch (kind) {
        case 'v': *(int64_t *)slot = (int64_t)pb_varint(&s); break;
        case 'i': *(int32_t *)slot = (int32_t)pb_varint(&s); break;
        case 'f': *(float *)slot = pb_float(&s); break;
        default: *(double *)slot = pb_double(&s); break;
        }
        if (s.bad) LFAIL(L, "truncated repeated field");
    } while (packed && pb_more(&s));
    if (!packed) *r = s;
    return ONYX_OK;
}

/* ---- TensorProto ---- */

static int64_t checked_numel(const int64_t *dims, int rank, int64_t limit)
{
    int64_t n = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0) return -1;
        if (dims[i] && n > limit / dims[i]) return -1;
        n *= dims[i];
    }
    return n;
}

/* A TensorProto's fields as read, before they are checked. */
typedef struct tensor_fields {
    vec dims, f32, i32, i64, f64;
    const uint8_t *raw;
    int64_t raw_len; /* -1: no raw_data */
    int dtype, external, has_strings, has_segment;
    const char *name;
} tensor_fields;

/* Reads one field into tf; 1 when its wire type is wrong. */
static int tensor_field(loader *L, pb_reader *r, uint32_t field, int wire,
                        tensor_fields *tf, onyx_status *st)
{
    int64_t max4 = L->lim->max_tensor_bytes / 4;
    int64_t max8 = L->lim->max_tensor_bytes / 8;
    switch (field) {
    case TENSOR_DIMS:
        *st = read_repeated(L, r, wire, 'v', &tf->dims, ONYX_MAX_RANK + 1);
        break;
    case TENSOR_DATA_TYPE:
        if (wire != PB_VARINT) return 1;
        tf->dtype = (int)pb_varint(r);
        break;
    case TENSOR_SEGMENT:
        tf->has_segment = 1;
        pb_skip(r, wire);
        break;
    case TENSOR_FLOAT_DATA:
        *st = read_repeated(L, r, wire, 'f', &tf->f32, max4);
        break;
    case TENSOR_INT32_DATA:
        *st = read_repeated(L, r, wire, 'i', &tf->i32, max4);
        break;
    case TENSOR_STRING_DATA:
        tf->has_strings = 1;
        pb_skip(r, wire);
        break;
    case TENSOR_INT64_DATA:
    case TENSOR_UINT64_DATA:
        *st = read_repeated(L, r, wire, 'v', &tf->i64, max8);
        break;
    case TENSOR_NAME:
        if (wire != PB_LEN) return 1;
        tf->name = pb_str(r, L->pool);
        if (!tf->name && !r->bad) {
            *st = ONYX_ERR_NOMEM;
            snprintf(L->msg, sizeof L->msg, "out of memory");
        }
        break;
    case TENSOR_RAW_DATA: {
        if (wire != PB_LEN) return 1;
        pb_reader s = pb_sub(r);
        tf->raw = s.p;
        tf->raw_len = s.end - s.p;
        break;
    }
    case TENSOR_DOUBLE_DATA:
        *st = read_repeated(L, r, wire, 'd', &tf->f64, max8);
        break;
    case TENSOR_EXTERNAL_DATA:
        tf->external = 1;
        pb_skip(r, wire);
        break;
    case TENSOR_DATA_LOCATION:
        if (wire != PB_VARINT) return 1;
        if (pb_varint(r) == TENSOR_LOCATION_EXTERNAL) tf->external = 1;
        break;
    default: pb_skip(r, wire);
    }
    return 0;
}

static onyx_status read_tensor_fields(loader *L, pb_reader *r,
                                      tensor_fields *tf)
{
    uint32_t field;
    int wire;
    onyx_status st = ONYX_OK;
    while (st == ONYX_OK && pb_next(r, &field, &wire))
        if (tensor_field(L, r, field, wire, tf, &st)) {
            snprintf(L->msg, sizeof L->msg, "field %u has wrong wire type %d",
                     field, wire);
            st = ONYX_ERR_PARSE;
        }
    if (st == ONYX_OK && r->bad) {
        snprintf(L->msg, sizeof L->msg, "truncated or malformed TensorProto");
        st = ONYX_ERR_PARSE;
    }
    return st;
}

/* Sets t's dtype and shape from tf, refusing what onyx does not hold;
 * *n gets the element count. */
static onyx_status tensor_header(loader *L, const tensor_fields *tf,
                                 onyx_tensor *t, int64_t *n)
{
    const char *nm = tf->name;
    if (tf->external) {
        snprintf(L->msg, sizeof L->msg,
                 "tensor '%s' uses external data, which onyx does not read",
                 nm);
        return ONYX_ERR_UNSUPPORTED;
    }
    if (tf->has_segment || tf->has_strings) {
        snprintf(L->msg, sizeof L->msg, "tensor '%s': %s are not supported", nm,
                 tf->has_strings ? "string tensors" : "segmented tensors");
        return ONYX_ERR_UNSUPPORTED;
    }
    if (tf->dims.n > ONYX_MAX_RANK) {
        snprintf(L->msg, sizeof L->msg, "tensor '%s' has rank > %d", nm,
                 ONYX_MAX_RANK);
        return ONYX_ERR_UNSUPPORTED;
    }
    size_t es = onyx_dtype_size((onyx_dtype)tf->dtype);
    if (es == 0 || tf->dtype == ONYX_STRING) {
        snprintf(L->msg, sizeof L->msg,
                 "tensor '%s' has data type %d (%s), which onyx does not hold",
                 nm, tf->dtype, onyx_dtype_name((onyx_dtype)tf->dtype));
        return ONYX_ERR_UNSUPPORTED;
    }
    t->dtype = (onyx_dtype)tf->dtype;
    t->rank = (int)tf->dims.n;
    for (int i = 0; i < t->rank; i++)
        t->dims[i] = ((int64_t *)tf->dims.data)[i];
    *n =
        checked_numel(t->dims, t->rank, L->lim->max_tensor_bytes / (int64_t)es);
    if (*n < 0) {
        char b[128];
        snprintf(L->msg, sizeof L->msg,
                 "tensor '%s' has shape %s: negative or more than %lld bytes "
                 "(onyx_limits.max_tensor_bytes)",
                 nm, onyx_shape_str(t, b, sizeof b),
                 (long long)L->lim->max_tensor_bytes);
        return ONYX_ERR_LIMIT;
    }
    return ONYX_OK;
}

/* t's data from raw_data: borrowed from the caller's bytes when aligned. */
static onyx_status tensor_raw(loader *L, const tensor_fields *tf,
                              onyx_tensor *t, size_t bytes)
{
    if ((uint64_t)tf->raw_len != (uint64_t)bytes) {
        snprintf(L->msg, sizeof L->msg,
                 "tensor '%s': raw_data has %lld bytes, shape needs %zu",
                 tf->name, (long long)tf->raw_len, bytes);
        return ONYX_ERR_PARSE;
    }
    if (((uintptr_t)tf->raw % onyx_dtype_size(t->dtype)) == 0) {
        t->data = (void *)tf->raw;
        return ONYX_OK;
    }
    t->data = onyx_pool_alloc(L->pool, bytes);
    if (!t->data) LNOMEM(L);
    memcpy(t->data, tf->raw, bytes);
    return ONYX_OK;
}

/* Element k of the typed field src into t's data, narrowed to t's dtype. */
static void store_typed(onyx_tensor *t, const vec *src, int64_t k)
{
    switch (t->dtype) {
    case ONYX_FLOAT: ((float *)t->data)[k] = ((float *)src->data)[k]; break;
    case ONYX_DOUBLE: ((double *)t->data)[k] = ((double *)src->data)[k]; break;
    case ONYX_INT64:
    case ONYX_UINT64:
        ((int64_t *)t->data)[k] = ((int64_t *)src->data)[k];
        break;
    case ONYX_UINT32:
        ((uint32_t *)t->data)[k] = (uint32_t)((int64_t *)src->data)[k];
        break;
    case ONYX_INT32: ((int32_t *)t->data)[k] = ((int32_t *)src->data)[k]; break;
    case ONYX_INT16:
    case ONYX_UINT16:
    case ONYX_FLOAT16:
    case ONYX_BFLOAT16:
        ((uint16_t *)t->data)[k] = (uint16_t)((int32_t *)src->data)[k];
        break;
    case ONYX_BOOL:
        ((uint8_t *)t->data)[k] = ((int32_t *)src->data)[k] != 0;
        break;
    default:
        ((uint8_t *)t->data)[k] = (uint8_t)((int32_t *)src->data)[k];
        break;
    }
}

/* t's data from the typed field that ONNX uses for its data type. */
static onyx_status tensor_typed(loader *L, const tensor_fields *tf,
                                onyx_tensor *t, int64_t n, size_t bytes)
{
    const vec *src;
    switch (t->dtype) {
    case ONYX_FLOAT: src = &tf->f32; break;
    case ONYX_DOUBLE: src = &tf->f64; break;
    case ONYX_INT64:
    case ONYX_UINT32:
    case ONYX_UINT64: src = &tf->i64; break;
    default:
        src = &tf->i32;
        break; /* int32, int16, int8, uint16, uint8, bool, float16 */
    }
    if (src->n != n) {
        snprintf(L->msg, sizeof L->msg,
                 "tensor '%s' has %lld values, shape needs %lld", tf->name,
                 (long long)src->n, (long long)n);
        return ONYX_ERR_PARSE;
    }
    /* allocated once the values are there: a shape alone must not make the
     * loader allocate (up to max_tensor_bytes) for a tensor the file lacks */
    t->data = onyx_pool_alloc(L->pool, bytes);
    if (!t->data) LNOMEM(L);
    for (int64_t k = 0; k < n; k++)
        store_typed(t, src, k);
    return ONYX_OK;
}

onyx_status onyx_parse_tensor(const void *buf, size_t len, onyx_pool *pool,
                              const onyx_limits *lim, onyx_tensor *t,
                              const char **name, char *msg, size_t msg_cap)
{
    loader L = {.m = NULL, .pool = pool, .lim = lim};
    pb_reader r = pb_open(buf, len);
    tensor_fields tf = {.raw_len = -1, .name = ""};
    memset(t, 0, sizeof *t);
    onyx_status st = read_tensor_fields(&L, &r, &tf);
    if (!tf.name) tf.name = "";
    if (name) *name = tf.name;
    int64_t n = 0;
    if (st == ONYX_OK) st = tensor_header(&L, &tf, t, &n);
    if (st == ONYX_OK) {
        size_t bytes = (size_t)n * onyx_dtype_size(t->dtype);
        st = tf.raw ? tensor_raw(&L, &tf, t, bytes)
                    : tensor_typed(&L, &tf, t, n, bytes);
    }
    if (st != ONYX_OK && msg) snprintf(msg, msg_cap, "%s", L.msg);
    return st;
}

static onyx_status read_tensor(loader *L, pb_reader *r, int wire,
                               onyx_tensor *t, const char **name)
{
    if (wire != PB_LEN) LFAIL(L, "TensorProto has wire type %d", wire);
    pb_reader s = pb_sub(r);
    if (r->bad) LFAIL(L, "truncated TensorProto");
    return onyx_parse_tensor(s.p, (size_t)(s.end - s.p), L->pool, L->lim, t,
                             name, L->msg, sizeof L->msg);
}

/* ---- ValueInfoProto ---- */

/* One TensorShapeProto.Dimension into dim k of v: a value, a name, or
 * neither (-1, unnamed). 0 when malformed. */
static int read_dim(loader *L, pb_reader d, onyx_value_info *v, int k)
{
    uint32_t f;
    int w;
    v->dims[k] = -1;
    v->dim_names[k] = NULL;
    while (pb_next(&d, &f, &w)) {
        if (f == DIM_VALUE && w == PB_VARINT) {
            v->dims[k] = (int64_t)pb_varint(&d);
            if (v->dims[k] < 0) v->dims[k] = -1;
        } else if (f == DIM_PARAM && w == PB_LEN) {
            v->dim_names[k] = pb_str(&d, L->pool);
            if (!v->dim_names[k]) return 0;
        } else {
            pb_skip(&d, w);
        }
    }
    return !d.bad;
}

/* TensorShapeProto into v's rank and dims. *ok is 0 when malformed. */
static onyx_status read_shape(loader *L, pb_reader sh, onyx_value_info *v,
                              int *ok)
{
    uint32_t f;
    int w;
    v->rank = 0;
    while (*ok && pb_next(&sh, &f, &w)) {
        if (f != SHAPE_DIM || w != PB_LEN) {
            pb_skip(&sh, w);
            continue;
        }
        if (v->rank >= ONYX_MAX_RANK)
            LFAIL(L, "value '%s' has rank > %d", v->name, ONYX_MAX_RANK);
        *ok = read_dim(L, pb_sub(&sh), v, v->rank++);
    }
    if (sh.bad) *ok = 0;
    return ONYX_OK;
}

/* TypeProto.Tensor: element type and shape. *ok is 0 when malformed. */
static onyx_status read_tensor_type(loader *L, pb_reader tt, onyx_value_info *v,
                                    int *ok)
{
    uint32_t f;
    int w;
    while (*ok && pb_next(&tt, &f, &w)) {
        if (f == TTYPE_ELEM_TYPE && w == PB_VARINT)
            v->dtype = (onyx_dtype)pb_varint(&tt);
        else if (f == TTYPE_SHAPE && w == PB_LEN)
            ONYX_TRY(read_shape(L, pb_sub(&tt), v, ok));
        else
            pb_skip(&tt, w);
    }
    if (tt.bad) *ok = 0;
    return ONYX_OK;
}

/* TypeProto: only tensor types are read. *ok is 0 when malformed. */
static onyx_status read_type(loader *L, pb_reader tp, onyx_value_info *v,
                             int *ok)
{
    uint32_t f;
    int w;
    *ok = 1;
    while (*ok && pb_next(&tp, &f, &w)) {
        if (f == TYPE_TENSOR && w == PB_LEN) {
            ONYX_TRY(read_tensor_type(L, pb_sub(&tp), v, ok));
            continue;
        }
        if (f == TYPE_SEQUENCE || f == TYPE_MAP || f == TYPE_SPARSE_TENSOR ||
            f == TYPE_OPTIONAL)
            LFAIL(L,
                  "value '%s' is not a tensor (sequence, map, "
                  "sparse or optional types are not supported)",
                  v->name);
        pb_skip(&tp, w);
    }
    if (tp.bad) *ok = 0;
    return ONYX_OK;
}

static onyx_status read_value_info(loader *L, pb_reader r, onyx_value_info *v)
{
    uint32_t f;
    int w, ok = 1;
    v->name = "";
    v->rank = -1;
    while (ok && pb_next(&r, &f, &w)) {
        if (f == VALUE_NAME && w == PB_LEN) {
            v->name = pb_str(&r, L->pool);
            ok = v->name != NULL;
        } else if (f == VALUE_TYPE && w == PB_LEN) {
            ONYX_TRY(read_type(L, pb_sub(&r), v, &ok));
        } else {
            pb_skip(&r, w);
        }
    }
    if (ok && !r.bad) return ONYX_OK;
    LFAIL(L, "malformed ValueInfoProto '%s'", v->name ? v->name : "");
}

static onyx_status read_graph(loader *L, pb_reader r, onyx_graphdef *g);

/* ---- AttributeProto ---- */

/* The repeated fields and presence flags of an attribute as read. */
typedef struct attr_fields {
    vec ints, floats, strs;
    int has_f, has_i, has_s, has_t, has_g;
} attr_fields;

static onyx_status attr_badwire(loader *L, const onyx_attr *a, uint32_t f,
                                int w)
{
    LFAIL(L, "attribute '%s': field %u has wrong wire type %d",
          a->name ? a->name : "", f, w);
}

static onyx_status attr_bad(loader *L, const onyx_attr *a)
{
    LFAIL(L, "malformed AttributeProto '%s'", a->name ? a->name : "");
}

static onyx_status attr_string(loader *L, pb_reader *r, onyx_attr *a)
{
    pb_reader s = pb_sub(r);
    if (r->bad) return attr_bad(L, a);
    a->s_len = (size_t)(s.end - s.p);
    a->s = onyx_pool_strndup(L->pool, (const char *)s.p, a->s_len);
    if (!a->s) LNOMEM(L);
    return ONYX_OK;
}

/* A subgraph (If's branches, Loop's and Scan's bodies), nesting bounded. */
static onyx_status attr_graph(loader *L, pb_reader *r, onyx_attr *a)
{
    pb_reader s = pb_sub(r);
    if (r->bad) return attr_bad(L, a);
    if (L->depth >= ONYX_MAX_GRAPH_DEPTH)
        LLIMIT(L, "attribute '%s': subgraphs nest deeper than %d", a->name,
               ONYX_MAX_GRAPH_DEPTH);
    onyx_graphdef *g = onyx_pool_alloc(L->pool, sizeof *g);
    if (!g) LNOMEM(L);
    L->depth++;
    onyx_status st = read_graph(L, s, g);
    L->depth--;
    if (st == ONYX_OK) a->g = g;
    return st;
}

static onyx_status attr_push_string(loader *L, pb_reader *r, onyx_attr *a,
                                    vec *strs)
{
    if (strs->n >= L->lim->max_attr_elems)
        LLIMIT(L,
               "attribute has more than %lld strings "
               "(onyx_limits.max_attr_elems)",
               (long long)L->lim->max_attr_elems);
    const char **slot = vec_push(strs, sizeof(char *), L->pool);
    if (!slot) LNOMEM(L);
    *slot = pb_str(r, L->pool);
    return *slot ? ONYX_OK : attr_bad(L, a);
}

/* The wire type a singular field of AttributeProto must have; -1 for the
 * others (read_tensor and read_repeated check theirs). */
static int attr_wire(uint32_t f)
{
    switch (f) {
    case ATTR_NAME:
    case ATTR_S:
    case ATTR_G:
    case ATTR_STRINGS: return PB_LEN;
    case ATTR_TYPE:
    case ATTR_I: return PB_VARINT;
    case ATTR_F: return PB_FIXED32;
    default: return -1;
    }
}

static onyx_status attr_field(loader *L, pb_reader *r, uint32_t f, int w,
                              onyx_attr *a, attr_fields *af)
{
    int want = attr_wire(f);
    if (want >= 0 && w != want) return attr_badwire(L, a, f, w);
    switch (f) {
    case ATTR_NAME:
        a->name = pb_str(r, L->pool);
        return a->name ? ONYX_OK : attr_bad(L, a);
    case ATTR_TYPE: a->type = (onyx_attr_type)pb_varint(r); break;
    case ATTR_F:
        a->f = pb_float(r);
        af->has_f = 1;
        break;
    case ATTR_I:
        a->i = (int64_t)pb_varint(r);
        af->has_i = 1;
        break;
    case ATTR_S: af->has_s = 1; return attr_string(L, r, a);
    case ATTR_T: {
        onyx_tensor *t = onyx_pool_alloc(L->pool, sizeof *t);
        if (!t) LNOMEM(L);
        ONYX_TRY(read_tensor(L, r, w, t, NULL));
        a->t = t;
        af->has_t = 1;
        break;
    }
    case ATTR_G: af->has_g = 1; return attr_graph(L, r, a);
    case ATTR_GRAPHS:
        af->has_g = 1;
        pb_skip(r, w);
        break;
    case ATTR_FLOATS:
        return read_repeated(L, r, w, 'f', &af->floats, L->lim->max_attr_elems);
    case ATTR_INTS:
        return read_repeated(L, r, w, 'v', &af->ints, L->lim->max_attr_elems);
    case ATTR_STRINGS: return attr_push_string(L, r, a, &af->strs);
    default: pb_skip(r, w); /* tensors, sparse tensors, type protos... */
    }
    return ONYX_OK;
}

/* IR < 3 files omit the type: guess it from the field that is there. */
static onyx_attr_type attr_guess_type(const attr_fields *af)
{
    if (af->floats.n) return ONYX_ATTR_FLOATS;
    if (af->ints.n) return ONYX_ATTR_INTS;
    if (af->strs.n) return ONYX_ATTR_STRINGS;
    if (af->has_t) return ONYX_ATTR_TENSOR;
    if (af->has_g) return ONYX_ATTR_GRAPH;
    if (af->has_s) return ONYX_ATTR_STRING;
    if (af->has_i) return ONYX_ATTR_INT;
    if (af->has_f) return ONYX_ATTR_FLOAT;
    return ONYX_ATTR_UNDEFINED;
}

static onyx_status read_attr(loader *L, pb_reader r, onyx_attr *a)
{
    attr_fields af = {0};
    uint32_t f;
    int w;
    a->name = "";
    while (pb_next(&r, &f, &w))
        ONYX_TRY(attr_field(L, &r, f, w, a, &af));
    if (r.bad) return attr_bad(L, a);
    if (a->type == ONYX_ATTR_UNDEFINED) a->type = attr_guess_type(&af);
    switch (a->type) {
    case ONYX_ATTR_FLOATS:
        a->floats = af.floats.data;
        a->n = af.floats.n;
        break;
    case ONYX_ATTR_INTS:
        a->ints = af.ints.data;
        a->n = af.ints.n;
        break;
    case ONYX_ATTR_STRINGS:
        a->strings = af.strs.data;
        a->n = af.strs.n;
        break;
    case ONYX_ATTR_STRING:
        if (!a->s) a->s = "";
        break;
    case ONYX_ATTR_TENSOR:
        if (!a->t)
            LFAIL(L, "attribute '%s' of type TENSOR has no tensor", a->name);
        break;
    case ONYX_ATTR_GRAPH:
        if (!a->g)
            LFAIL(L, "attribute '%s' of type GRAPH has no graph", a->name);
        break;
    default: break;
    }
    return ONYX_OK;
}

/* ---- NodeProto ---- */

static onyx_status read_node(loader *L, pb_reader r, onyx_nodedef *n)
{
    onyx_pool *pl = L->pool;
    vec ins = {0}, outs = {0}, attrs = {0};
    uint32_t f;
    int w;
    n->name = "";
    n->op_type = "";
    n->domain = "";
    while (pb_next(&r, &f, &w)) {
        if ((f == NODE_INPUT || f == NODE_OUTPUT || f == NODE_NAME ||
             f == NODE_OP_TYPE || f == NODE_ATTRIBUTE || f == NODE_DOMAIN) &&
            w != PB_LEN)
            LFAIL(L, "NodeProto field %u has wrong wire type %d", f, w);
        if (f == NODE_INPUT || f == NODE_OUTPUT) {
            vec *v = f == NODE_INPUT ? &ins : &outs;
            if (v->n >= 65536) LFAIL(L, "node has too many inputs or outputs");
            const char **slot = vec_push(v, sizeof(char *), pl);
            if (!slot) LNOMEM(L);
            *slot = pb_str(&r, pl);
            if (!*slot) goto bad;
        } else if (f == NODE_NAME) {
            n->name = pb_str(&r, pl);
            if (!n->name) goto bad;
        } else if (f == NODE_OP_TYPE) {
            n->op_type = pb_str(&r, pl);
            if (!n->op_type) goto bad;
        } else if (f == NODE_DOMAIN) {
            n->domain = pb_str(&r, pl);
            if (!n->domain) goto bad;
        } else if (f == NODE_ATTRIBUTE) {
            if (attrs.n >= 4096) LFAIL(L, "node has too many attributes");
            onyx_attr *a = vec_push(&attrs, sizeof *a, pl);
            if (!a) LNOMEM(L);
            pb_reader s = pb_sub(&r);
            if (r.bad) goto bad;
            ONYX_TRY(read_attr(L, s, a));
        } else {
            pb_skip(&r, w);
        }
    }
    if (r.bad) goto bad;
    n->inputs = ins.data;
    n->n_in = (int)ins.n;
    n->outputs = outs.data;
    n->n_out = (int)outs.n;
    n->attrs = attrs.data;
    n->n_attrs = (int)attrs.n;
    return ONYX_OK;
bad:
    LFAIL(L, "malformed NodeProto '%s'", n->name ? n->name : "");
}

/* ---- GraphProto and ModelProto ---- */

static onyx_status read_graph(loader *L, pb_reader r, onyx_graphdef *g)
{
    onyx_pool *pl = L->pool;
    const onyx_limits *lim = L->lim;
    vec nodes = {0}, inits = {0}, ins = {0}, outs = {0};
    uint32_t f;
    int w;
    while (pb_next(&r, &f, &w)) {
        if ((f == GRAPH_NODE || f == GRAPH_INITIALIZER || f == GRAPH_INPUT ||
             f == GRAPH_OUTPUT || f == GRAPH_SPARSE_INITIALIZER) &&
            w != PB_LEN)
            LFAIL(L, "GraphProto field %u has wrong wire type %d", f, w);
        if (f == GRAPH_NODE) {
            if (L->n_nodes++ >= lim->max_nodes)
                LLIMIT(L,
                       "graph has more than %lld nodes (onyx_limits.max_nodes)",
                       (long long)lim->max_nodes);
            onyx_nodedef *n = vec_push(&nodes, sizeof *n, pl);
            if (!n) LNOMEM(L);
            pb_reader s = pb_sub(&r);
            if (r.bad) break;
            onyx_status st = read_node(L, s, n);
            if (st != ONYX_OK) return st;
        } else if (f == GRAPH_INITIALIZER) {
            if (inits.n >= lim->max_nodes)
                LLIMIT(L,
                       "graph has more than %lld initializers "
                       "(onyx_limits.max_nodes)",
                       (long long)lim->max_nodes);
            onyx_init *in = vec_push(&inits, sizeof *in, pl);
            if (!in) LNOMEM(L);
            onyx_status st = read_tensor(L, &r, w, &in->t, &in->name);
            if (st != ONYX_OK) return st;
        } else if (f == GRAPH_INPUT || f == GRAPH_OUTPUT) {
            vec *v = f == GRAPH_INPUT ? &ins : &outs;
            if (v->n >= 65536) LFAIL(L, "graph has too many inputs or outputs");
            onyx_value_info *vi = vec_push(v, sizeof *vi, pl);
            if (!vi) LNOMEM(L);
            pb_reader s = pb_sub(&r);
            if (r.bad) break;
            ONYX_TRY(read_value_info(L, s, vi));
        } else if (f == GRAPH_SPARSE_INITIALIZER) {
            LFAIL(L, "sparse initializers are not supported");
        } else {
            pb_skip(&r, w);
        }
    }
    if (r.bad) LFAIL(L, "truncated or malformed GraphProto");
    g->nodes = nodes.data;
    g->n_nodes = (int)nodes.n;
    g->inits = inits.data;
    g->n_inits = (int)inits.n;
    g->outputs = outs.data;
    g->n_outputs = (int)outs.n;
    /* graph inputs that are also initializers are constants, not inputs */
    g->inputs =
        onyx_pool_alloc(pl, sizeof(onyx_value_info) * (size_t)(ins.n + 1));
    if (!g->inputs) LNOMEM(L);
    g->n_inputs = 0;
    for (int64_t i = 0; i < ins.n; i++) {
        onyx_value_info *vi = &((onyx_value_info *)ins.data)[i];
        int is_init = 0;
        for (int k = 0; k < g->n_inits && !is_init; k++)
            is_init = strcmp(g->inits[k].name, vi->name) == 0;
        if (!is_init) g->inputs[g->n_inputs++] = *vi;
    }
    return ONYX_OK;
}

/* ---- what onyx cannot run, all at once ---- */

/* One kind of thing onyx refuses (an op, an op of another domain, a dtype)
 * and the nodes or tensors that have it. */
typedef struct refusal {
    const char *what, *name;
    int count;
} refusal;

enum { MAX_REFUSALS = 32 };

typedef struct refusals {
    refusal r[MAX_REFUSALS];
    int n, more; /* more: kinds beyond MAX_REFUSALS */
} refusals;

static void refuse(refusals *rs, const char *what, const char *name)
{
    for (int i = 0; i < rs->n; i++)
        if (rs->r[i].what == what && strcmp(rs->r[i].name, name) == 0) {
            rs->r[i].count++;
            return;
        }
    if (rs->n == MAX_REFUSALS) {
        rs->more++;
        return;
    }
    rs->r[rs->n++] = (refusal){what, name, 1};
}

static void refuse_dtype(refusals *rs, onyx_dtype t)
{
    if (onyx_dtype_size(t) == 0 && t != ONYX_UNDEFINED)
        refuse(rs, "dtype", onyx_dtype_name(t));
}

static void scan_graph(const onyx_graphdef *g, refusals *rs)
{
    for (int i = 0; i < g->n_inits; i++)
        refuse_dtype(rs, g->inits[i].t.dtype);
    for (int i = 0; i < g->n_inputs; i++)
        refuse_dtype(rs, g->inputs[i].dtype);
    for (int i = 0; i < g->n_outputs; i++)
        refuse_dtype(rs, g->outputs[i].dtype);
    for (int i = 0; i < g->n_nodes; i++) {
        const onyx_nodedef *nd = &g->nodes[i];
        if (nd->domain[0] && strcmp(nd->domain, "ai.onnx") != 0)
            refuse(rs, "domain", nd->domain);
        else if (!onyx_op_find(nd->op_type) && !onyx_control_op(nd->op_type))
            refuse(rs, "op", nd->op_type);
        for (int a = 0; a < nd->n_attrs; a++)
            if (nd->attrs[a].type == ONYX_ATTR_GRAPH && nd->attrs[a].g)
                scan_graph(nd->attrs[a].g, rs);
    }
}

/* Every Loop and Scan, in subgraphs too, has a body that fits it
 * (control.c); the first that does not is the error. */
static onyx_status check_control(loader *L, const onyx_graphdef *g,
                                 const char *where)
{
    for (int i = 0; i < g->n_nodes; i++) {
        const onyx_nodedef *nd = &g->nodes[i];
        char why[300];
        if (!onyx_control_check(nd, L->m->opset, why, sizeof why))
            LFAIL(L, "node %d '%s' (%s)%s: %s", i, nd->name, nd->op_type, where,
                  why);
        for (int a = 0; a < nd->n_attrs; a++) {
            if (nd->attrs[a].type != ONYX_ATTR_GRAPH || !nd->attrs[a].g)
                continue;
            char in[200];
            snprintf(in, sizeof in, " in the %s of node '%s' (%s)",
                     nd->attrs[a].name, nd->name, nd->op_type);
            ONYX_TRY(check_control(L, nd->attrs[a].g, in));
        }
    }
    return ONYX_OK;
}

/* Refuses the model, naming every op, domain and dtype onyx does not run
 * (in subgraphs too) with how many nodes or tensors use it. */
static onyx_status check_supported(loader *L)
{
    const onyx_model *m = L->m;
    const onyx_graphdef g = {m->n_nodes,  m->nodes,  m->n_inits,   m->inits,
                             m->n_inputs, m->inputs, m->n_outputs, m->outputs};
    refusals rs;
    memset(&rs, 0, sizeof rs);
    scan_graph(&g, &rs);
    if (!rs.n) return ONYX_OK;
    size_t at =
        (size_t)snprintf(L->msg, sizeof L->msg, "not supported by onyx:");
    for (int i = 0; i < rs.n && at < sizeof L->msg; i++) {
        const refusal *r = &rs.r[i];
        const char *unit =
            r->what[0] == 'd' && r->what[1] == 't' ? "tensor" : "node";
        at +=
            (size_t)snprintf(L->msg + at, sizeof L->msg - at,
                             "%s %s '%s' (%d %s%s)", i ? "," : "", r->what,
                             r->name, r->count, unit, r->count == 1 ? "" : "s");
    }
    if (rs.more && at < sizeof L->msg)
        snprintf(L->msg + at, sizeof L->msg - at, ", and %d more", rs.more);
    return ONYX_ERR_UNSUPPORTED;
}

/* One OperatorSetIdProto: the ai.onnx version sets m->opset. */
static onyx_status read_opset(loader *L, pb_reader s, int *have_opset)
{
    const char *domain = "";
    int64_t version = 0;
    uint32_t f;
    int w;
    while (pb_next(&s, &f, &w)) {
        if (f == OPSET_DOMAIN && w == PB_LEN)
            domain = pb_str(&s, L->pool);
        else if (f == OPSET_VERSION && w == PB_VARINT)
            version = (int64_t)pb_varint(&s);
        else
            pb_skip(&s, w);
        if (!domain) break;
    }
    if (s.bad || !domain) LFAIL(L, "malformed opset_import");
    if (domain[0] == 0 || strcmp(domain, "ai.onnx") == 0) {
        if (version < 1 || version > 1000)
            LFAIL(L, "opset version %lld is not valid", (long long)version);
        L->m->opset = (int)version;
        *have_opset = 1;
    }
    return ONYX_OK;
}

/* One metadata_props entry appended to keys and vals. */
static onyx_status read_meta(loader *L, pb_reader s, vec *keys, vec *vals)
{
    const char *k = "", *v = "";
    uint32_t f;
    int w;
    while (pb_next(&s, &f, &w)) {
        if (f == ENTRY_KEY && w == PB_LEN)
            k = pb_str(&s, L->pool);
        else if (f == ENTRY_VALUE && w == PB_LEN)
            v = pb_str(&s, L->pool);
        else
            pb_skip(&s, w);
        if (!k || !v) break;
    }
    if (s.bad || !k || !v) LFAIL(L, "malformed metadata_props");
    const char **ks = vec_push(keys, sizeof(char *), L->pool);
    const char **vs = vec_push(vals, sizeof(char *), L->pool);
    if (!ks || !vs) LNOMEM(L);
    *ks = k;
    *vs = v;
    return ONYX_OK;
}

/* The main graph into the model's node, initializer and value tables. */
static onyx_status read_main_graph(loader *L, pb_reader s)
{
    onyx_model *m = L->m;
    onyx_graphdef g;
    memset(&g, 0, sizeof g);
    ONYX_TRY(read_graph(L, s, &g));
    m->nodes = g.nodes;
    m->n_nodes = g.n_nodes;
    m->inits = g.inits;
    m->n_inits = g.n_inits;
    m->inputs = g.inputs;
    m->n_inputs = g.n_inputs;
    m->outputs = g.outputs;
    m->n_outputs = g.n_outputs;
    return ONYX_OK;
}

/* What a model needs besides parsing: a graph, an opset onyx reads, ops it
 * runs and control flow that fits. */
static onyx_status check_model(loader *L, int have_graph, int have_opset)
{
    onyx_model *m = L->m;
    if (!have_graph) LFAIL(L, "not an ONNX model: no graph");
    if (!have_opset) {
        if (m->ir_version >= 3) LFAIL(L, "model imports no ai.onnx opset");
        m->opset = 1;
    }
    ONYX_TRY(check_supported(L));
    if (m->opset < 1 || m->opset > 17) {
        snprintf(L->msg, sizeof L->msg,
                 "opset %d is not supported (onyx reads opsets 1 to 17)",
                 m->opset);
        return ONYX_ERR_UNSUPPORTED;
    }
    const onyx_graphdef g = {m->n_nodes,  m->nodes,  m->n_inits,   m->inits,
                             m->n_inputs, m->inputs, m->n_outputs, m->outputs};
    return check_control(L, &g, "");
}

static onyx_status read_model(loader *L, const void *data, size_t len)
{
    onyx_model *m = L->m;
    pb_reader r = pb_open(data, len);
    vec keys = {0}, vals = {0};
    int have_graph = 0, have_opset = 0;
    uint32_t f;
    int w;
    m->opset = 0;
    m->producer = "";
    while (pb_next(&r, &f, &w)) {
        if (f == MODEL_IR_VERSION && w == PB_VARINT) {
            m->ir_version = (int64_t)pb_varint(&r);
        } else if (f == MODEL_PRODUCER_NAME && w == PB_LEN) {
            m->producer = pb_str(&r, &m->pool);
            if (!m->producer) break;
        } else if (f == MODEL_OPSET_IMPORT && w == PB_LEN) {
            ONYX_TRY(read_opset(L, pb_sub(&r), &have_opset));
        } else if (f == MODEL_GRAPH && w == PB_LEN) {
            if (have_graph) LFAIL(L, "model has two graphs");
            pb_reader s = pb_sub(&r);
            if (r.bad) break;
            ONYX_TRY(read_main_graph(L, s));
            have_graph = 1;
        } else if (f == MODEL_METADATA_PROPS && w == PB_LEN) {
            ONYX_TRY(read_meta(L, pb_sub(&r), &keys, &vals));
        } else {
            pb_skip(&r, w);
        }
    }
    if (r.bad)
        LFAIL(L, "truncated or malformed ModelProto (at byte %zu of %zu)",
              (size_t)(r.p - (const uint8_t *)data), len);
    m->meta_keys = keys.data;
    m->meta_values = vals.data;
    m->n_meta = (int)keys.n;
    return check_model(L, have_graph, have_opset);
}

static onyx_model *load_bytes(onyx_model *m, const void *data, size_t len,
                              onyx_error *err)
{
    loader L;
    memset(&L, 0, sizeof L);
    L.m = m;
    L.pool = &m->pool;
    L.lim = &m->lim;
    L.msg[0] = 0;
    onyx_status st = read_model(&L, data, len);
    if (st != ONYX_OK) {
        onyx_seterr(err, st, "%s: %s", m->path, L.msg);
        onyx_model_free(m);
        return NULL;
    }
    return m;
}

static onyx_model *model_alloc(const char *label, const onyx_limits *lim,
                               onyx_error *err)
{
    onyx_model *m = calloc(1, sizeof *m);
    if (!m) {
        onyx_seterr(err, ONYX_ERR_NOMEM, "%s: out of memory", label);
        return NULL;
    }
    m->lim = lim ? *lim : onyx_limits_default();
    m->path = onyx_pool_strndup(&m->pool, label, strlen(label));
    if (!m->path) {
        free(m);
        onyx_seterr(err, ONYX_ERR_NOMEM, "%s: out of memory", label);
        return NULL;
    }
    return m;
}

onyx_status onyx_tensor_parse(const void *bytes, size_t len, onyx_tensor *out,
                              char *name, size_t name_cap, onyx_error *err)
{
    onyx_pool pool = {0};
    onyx_limits lim = onyx_limits_default();
    const char *nm = "";
    onyx_tensor t;
    err->status = onyx_parse_tensor(bytes, len, &pool, &lim, &t, &nm, err->msg,
                                    sizeof err->msg);
    if (err->status == ONYX_OK) {
        /* the data may be borrowed from bytes or live in the pool: copy it
         * out (one byte more, so an empty tensor still gets a pointer) */
        size_t by = (size_t)onyx_numel(&t) * onyx_dtype_size(t.dtype);
        *out = t;
        out->data = malloc(by + 1);
        if (out->data) {
            memcpy(out->data, t.data, by);
            snprintf(name, name_cap, "%s", nm ? nm : "");
        } else
            onyx_seterr(err, ONYX_ERR_NOMEM, "out of memory");
    }
    onyx_pool_free(&pool);
    return err->status;
}

onyx_model *onyx_model_load_memory_ex(const void *data, size_t len,
                                      const char *label, const onyx_limits *lim,
                                      onyx_error *err)
{
    onyx_model *m = model_alloc(label ? label : "<memory>", lim, err);
    if (!m) return NULL;
    return load_bytes(m, data, len, err);
}

onyx_model *onyx_model_load_memory(const void *data, size_t len,
                                   const char *label, onyx_error *err)
{
    return onyx_model_load_memory_ex(data, len, label, NULL, err);
}

onyx_model *onyx_model_load_ex(const char *path, const onyx_limits *lim,
                               onyx_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        onyx_seterr(err, ONYX_ERR_IO, "%s: cannot open: %s", path,
                    strerror(errno));
        return NULL;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        onyx_seterr(err, ONYX_ERR_IO, "%s: not a regular file", path);
        close(fd);
        return NULL;
    }
    if (sb.st_size == 0) {
        onyx_seterr(err, ONYX_ERR_PARSE, "%s: empty file", path);
        close(fd);
        return NULL;
    }
    if ((uint64_t)sb.st_size > (uint64_t)SIZE_MAX / 2) {
        onyx_seterr(err, ONYX_ERR_LIMIT, "%s: file too large", path);
        close(fd);
        return NULL;
    }
    size_t len = (size_t)sb.st_size;
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        onyx_seterr(err, ONYX_ERR_IO, "%s: cannot map: %s", path,
                    strerror(errno));
        return NULL;
    }
    onyx_model *m = model_alloc(path, lim, err);
    if (!m) {
        munmap(map, len);
        return NULL;
    }
    m->map = map;
    m->map_len = len;
    return load_bytes(m, map, len, err);
}

onyx_model *onyx_model_load(const char *path, onyx_error *err)
{
    return onyx_model_load_ex(path, NULL, err);
}

void onyx_model_free(onyx_model *m)
{
    if (!m) return;
    if (m->map) munmap(m->map, m->map_len);
    onyx_pool_free(&m->pool);
    free(m);
}

/* ---- queries ---- */

int onyx_model_opset(const onyx_model *m)
{
    return m->opset;
}
const char *onyx_model_path(const onyx_model *m)
{
    return m->path;
}
const char *onyx_model_producer(const onyx_model *m)
{
    return m->producer;
}
int onyx_model_num_inputs(const onyx_model *m)
{
    return m->n_inputs;
}
const onyx_value_info *onyx_model_input(const onyx_model *m, int i)
{
    return i >= 0 && i < m->n_inputs ? &m->inputs[i] : NULL;
}
int onyx_model_num_outputs(const onyx_model *m)
{
    return m->n_outputs;
}
const onyx_value_info *onyx_model_output(const onyx_model *m, int i)
{
    return i >= 0 && i < m->n_outputs ? &m->outputs[i] : NULL;
}
int onyx_model_num_nodes(const onyx_model *m)
{
    return m->n_nodes;
}
const char *onyx_model_node_op(const onyx_model *m, int i)
{
    return i >= 0 && i < m->n_nodes ? m->nodes[i].op_type : NULL;
}

void onyx_model_params(const onyx_model *m, int64_t *count, int64_t *bytes)
{
    int64_t c = 0, b = 0;
    for (int i = 0; i < m->n_inits; i++) {
        int64_t n = onyx_numel(&m->inits[i].t);
        c += n;
        b += n * (int64_t)onyx_dtype_size(m->inits[i].t.dtype);
    }
    if (count) *count = c;
    if (bytes) *bytes = b;
}

const char *onyx_value_shape_str(const onyx_value_info *v, char *buf,
                                 size_t cap)
{
    size_t len = 0;
    if (cap == 0) return buf;
    buf[0] = 0;
    if (v->rank < 0) {
        snprintf(buf, cap, "(no shape)");
        return buf;
    }
    len += (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < v->rank && len < cap; i++) {
        const char *sep = i ? "," : "";
        if (v->dim_names[i])
            len += (size_t)snprintf(buf + len, cap - len, "%s%s", sep,
                                    v->dim_names[i]);
        else if (v->dims[i] < 0)
            len += (size_t)snprintf(buf + len, cap - len, "%s?", sep);
        else
            len += (size_t)snprintf(buf + len, cap - len, "%s%lld", sep,
                                    (long long)v->dims[i]);
    }
    if (len < cap) snprintf(buf + len, cap - len, "]");
    return buf;
}

const char *onyx_model_meta(const onyx_model *m, const char *key)
{
    for (int i = 0; i < m->n_meta; i++)
        if (strcmp(m->meta_keys[i], key) == 0) return m->meta_values[i];
    return NULL;
}
