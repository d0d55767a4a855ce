/* kernel_util.c - small helpers shared by every kernel: dtypes, attributes,
 * error messages, axes and broadcasting. */
#include "onyx_kernel.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

size_t onyx_dtype_size(onyx_dtype t)
{
    switch (t) {
    case ONYX_FLOAT: return 4;
    case ONYX_INT64: return 8;
    case ONYX_BOOL: return 1;
    case ONYX_INT32: return 4;
    case ONYX_DOUBLE: return 8;
    case ONYX_INT8:
    case ONYX_UINT8: return 1;
    case ONYX_INT16:
    case ONYX_UINT16:
    case ONYX_FLOAT16:
    case ONYX_BFLOAT16: return 2;
    case ONYX_UINT32: return 4;
    case ONYX_UINT64: return 8;
    default: return 0;
    }
}

const char *onyx_dtype_name(onyx_dtype t)
{
    switch (t) {
    case ONYX_FLOAT: return "float32";
    case ONYX_UINT8: return "uint8";
    case ONYX_INT8: return "int8";
    case ONYX_UINT16: return "uint16";
    case ONYX_INT16: return "int16";
    case ONYX_INT32: return "int32";
    case ONYX_INT64: return "int64";
    case ONYX_STRING: return "string";
    case ONYX_BOOL: return "bool";
    case ONYX_FLOAT16: return "float16";
    case ONYX_DOUBLE: return "float64";
    case ONYX_UINT32: return "uint32";
    case ONYX_UINT64: return "uint64";
    case ONYX_COMPLEX64: return "complex64";
    case ONYX_COMPLEX128: return "complex128";
    case ONYX_BFLOAT16: return "bfloat16";
    default: return "undefined";
    }
}

int64_t onyx_numel(const onyx_tensor *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->rank; i++)
        n *= t->dims[i];
    return n;
}

int onyx_same_shape(const onyx_tensor *a, const onyx_tensor *b)
{
    if (a->rank != b->rank) return 0;
    for (int i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i]) return 0;
    return 1;
}

const char *onyx_shape_str(const onyx_tensor *t, char *buf, size_t cap)
{
    size_t len = 0;
    if (cap == 0) return buf;
    buf[0] = 0;
    len += (size_t)snprintf(buf + len, cap - len, "[");
    for (int i = 0; i < t->rank && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, i ? ",%lld" : "%lld",
                                (long long)t->dims[i]);
    if (len < cap) snprintf(buf + len, cap - len, "]");
    return buf;
}

onyx_status onyx_fail(onyx_prep *p, onyx_status st, const char *fmt, ...)
{
    if (p->msg && p->msg_cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->msg, p->msg_cap, fmt, ap);
        va_end(ap);
    }
    return st;
}

const onyx_attr *onyx_attr_get(const onyx_prep *p, const char *name)
{
    for (int i = 0; i < p->n_attrs; i++)
        if (strcmp(p->attrs[i].name, name) == 0) return &p->attrs[i];
    return NULL;
}

static const char *attr_type_name(onyx_attr_type t)
{
    static const char *const names[] = {"UNDEFINED", "FLOAT",  "INT",
                                        "STRING",    "TENSOR", "GRAPH",
                                        "FLOATS",    "INTS",   "STRINGS"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

/* A wrong-typed attribute: remember it for the engine (the prep the kernel
 * got is not const: the getters take const only for convenience). */
static void attr_mistyped(const onyx_prep *p, const onyx_attr *a,
                          const char *want)
{
    onyx_prep *w = (onyx_prep *)p;
    if (!w->bad_attr && w->msg && w->msg_cap)
        snprintf(w->msg, w->msg_cap, "attribute '%s' has type %s, expected %s",
                 a->name, attr_type_name(a->type), want);
    w->bad_attr = 1;
}

int64_t onyx_attr_int(const onyx_prep *p, const char *name, int64_t dflt)
{
    const onyx_attr *a = onyx_attr_get(p, name);
    if (!a) return dflt;
    if (a->type == ONYX_ATTR_INT) return a->i;
    attr_mistyped(p, a, "INT");
    return dflt;
}

float onyx_attr_float(const onyx_prep *p, const char *name, float dflt)
{
    const onyx_attr *a = onyx_attr_get(p, name);
    if (!a) return dflt;
    if (a->type == ONYX_ATTR_FLOAT) return a->f;
    if (a->type == ONYX_ATTR_INT) return (float)a->i; /* old exporters */
    attr_mistyped(p, a, "FLOAT");
    return dflt;
}

const char *onyx_attr_string(const onyx_prep *p, const char *name,
                             const char *dflt)
{
    const onyx_attr *a = onyx_attr_get(p, name);
    if (!a) return dflt;
    if (a->type == ONYX_ATTR_STRING) return a->s;
    attr_mistyped(p, a, "STRING");
    return dflt;
}

int64_t onyx_attr_ints(const onyx_prep *p, const char *name, const int64_t **v)
{
    const onyx_attr *a = onyx_attr_get(p, name);
    if (!a) return -1;
    if (a->type == ONYX_ATTR_INTS) {
        *v = a->ints;
        return a->n;
    }
    if (a->type == ONYX_ATTR_INT) {
        *v = &a->i;
        return 1;
    }
    attr_mistyped(p, a, "INTS");
    return -1;
}

int64_t onyx_attr_floats(const onyx_prep *p, const char *name, const float **v)
{
    const onyx_attr *a = onyx_attr_get(p, name);
    if (!a) return -1;
    if (a->type == ONYX_ATTR_FLOATS) {
        *v = a->floats;
        return a->n;
    }
    if (a->type == ONYX_ATTR_FLOAT) {
        *v = &a->f;
        return 1;
    }
    attr_mistyped(p, a, "FLOATS");
    return -1;
}

onyx_status onyx_need_input(onyx_prep *p, int i)
{
    if (i >= p->n_in || !p->in[i])
        return onyx_fail(p, ONYX_ERR_INVALID, "input %d is required", i);
    return ONYX_OK;
}

onyx_status onyx_need_value(onyx_prep *p, int i)
{
    ONYX_TRY(onyx_need_input(p, i));
    if (!p->in[i]->data)
        return onyx_fail(p, ONYX_ERR_UNSUPPORTED,
                         "input %d must be a constant: its value determines "
                         "an output shape",
                         i);
    return ONYX_OK;
}

onyx_status onyx_need_dtype(onyx_prep *p, int i, unsigned mask)
{
    ONYX_TRY(onyx_need_input(p, i));
    onyx_dtype t = p->in[i]->dtype;
    if (t < 0 || t > 31 || !(mask & ONYX_MASK(t)))
        return onyx_fail(p, ONYX_ERR_UNSUPPORTED,
                         "input %d has dtype %s, which this op does not take",
                         i, onyx_dtype_name(t));
    return ONYX_OK;
}

float onyx_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 0x1f,
             m = h & 0x3ff, x;
    if (e == 0x1f) {
        x = sign | 0x7f800000 | m << 13; /* inf, NaN (payload kept) */
    } else if (e != 0) {
        x = sign | (e + 112) << 23 | m << 13; /* rebias 15 -> 127 */
    } else {
        float v = (float)m * 0x1p-24f; /* zero or subnormal: exact */
        return sign ? -v : v;
    }
    float f;
    memcpy(&f, &x, sizeof f);
    return f;
}

uint16_t onyx_f32_to_f16(float f)
{
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    uint16_t sign = (uint16_t)(x >> 16 & 0x8000);
    uint32_t ax = x & 0x7fffffff;
    if (ax > 0x7f800000) /* NaN: quiet, top of the payload kept */
        return (uint16_t)(sign | 0x7e00 | (ax >> 13 & 0x3ff));
    if (ax >= 0x477ff000) /* >= 65520 (halfway above 65504, the largest) */
        return sign | 0x7c00;
    if (ax <= 0x33000000) /* <= 2^-25: half the smallest subnormal, ties */
        return sign;      /* to the even 0 */
    uint32_t h, rem, half;
    if (ax < 0x38800000) { /* below 2^-14: a subnormal, m * 2^-24 */
        uint32_t m = (ax & 0x7fffff) | 0x800000, shift = 126 - (ax >> 23);
        h = m >> shift;
        rem = m & ((1u << shift) - 1);
        half = 1u << (shift - 1);
    } else { /* normal: rebias 127 -> 15, keep 10 mantissa bits */
        uint32_t r = ax - 0x38000000;
        h = r >> 13;
        rem = r & 0x1fff;
        half = 0x1000;
    }
    if (rem > half || (rem == half && (h & 1))) h++; /* may carry: fine */
    return (uint16_t)(sign | h);
}

float onyx_bf16_to_f32(uint16_t h)
{
    uint32_t x = (uint32_t)h << 16;
    float f;
    memcpy(&f, &x, sizeof f);
    return f;
}

uint16_t onyx_f32_to_bf16(float f)
{
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    if ((x & 0x7fffffff) > 0x7f800000) return (uint16_t)(x >> 16 | 0x40);
    return (uint16_t)((x + 0x7fff + (x >> 16 & 1)) >>
                      16); /* overflows to inf */
}

int64_t onyx_get_int(const onyx_tensor *t, int64_t k)
{
    switch (t->dtype) {
    case ONYX_INT64: return ((const int64_t *)t->data)[k];
    case ONYX_INT32: return ((const int32_t *)t->data)[k];
    case ONYX_FLOAT: return onyx_f2i(((const float *)t->data)[k]);
    case ONYX_DOUBLE: return onyx_f2i(((const double *)t->data)[k]);
    case ONYX_BOOL:
    case ONYX_UINT8: return ((const uint8_t *)t->data)[k];
    case ONYX_INT8: return ((const int8_t *)t->data)[k];
    case ONYX_INT16: return ((const int16_t *)t->data)[k];
    case ONYX_UINT16: return ((const uint16_t *)t->data)[k];
    case ONYX_UINT32: return ((const uint32_t *)t->data)[k];
    case ONYX_UINT64: return (int64_t)((const uint64_t *)t->data)[k];
    case ONYX_FLOAT16:
    case ONYX_BFLOAT16: return onyx_f2i(onyx_get_double(t, k));
    default: return 0;
    }
}

double onyx_get_double(const onyx_tensor *t, int64_t k)
{
    switch (t->dtype) {
    case ONYX_FLOAT: return ((const float *)t->data)[k];
    case ONYX_DOUBLE: return ((const double *)t->data)[k];
    case ONYX_FLOAT16: return onyx_f16_to_f32(((const uint16_t *)t->data)[k]);
    case ONYX_BFLOAT16: return onyx_bf16_to_f32(((const uint16_t *)t->data)[k]);
    case ONYX_UINT64: return (double)((const uint64_t *)t->data)[k];
    default: return (double)onyx_get_int(t, k);
    }
}

void onyx_set_shape(onyx_tensor *t, onyx_dtype dt, int rank,
                    const int64_t *dims)
{
    t->dtype = dt;
    t->rank = rank;
    for (int i = 0; i < rank; i++)
        t->dims[i] = dims[i];
}

int64_t onyx_flops_mul(int64_t a, int64_t b)
{
    if (a <= 0 || b <= 0) return 0;
    return a > INT64_MAX / b ? INT64_MAX : a * b;
}

int64_t onyx_flops_add(int64_t a, int64_t b)
{
    return a > INT64_MAX - b ? INT64_MAX : a + b;
}

int64_t onyx_size_mul(int64_t a, int64_t b)
{
    if (a < 0 || b < 0) return -1;
    if (b != 0 && a > INT64_MAX / b) return -1;
    return a * b;
}

onyx_status onyx_check_size(onyx_prep *p, onyx_dtype dt, int rank,
                            const int64_t *dims)
{
    int64_t limit = p->max_tensor_bytes > 0 ? p->max_tensor_bytes : INT64_MAX;
    int64_t n = (int64_t)onyx_dtype_size(dt);
    for (int i = 0; i < rank && n >= 0; i++)
        n = onyx_size_mul(n, dims[i]);
    if (n < 0 || n > limit) {
        onyx_tensor t;
        t.dtype = dt;
        t.rank = rank;
        memcpy(t.dims, dims, sizeof(int64_t) * (size_t)rank);
        char b[128];
        return onyx_fail(p, ONYX_ERR_LIMIT,
                         "output %s %s is invalid or larger than %lld bytes "
                         "(onyx_limits.max_tensor_bytes)",
                         onyx_dtype_name(dt), onyx_shape_str(&t, b, sizeof b),
                         (long long)limit);
    }
    return ONYX_OK;
}

onyx_status onyx_axis(onyx_prep *p, int64_t axis, int rank, int extra, int *out)
{
    int64_t r = rank + extra;
    if (axis < -r || axis >= r)
        return onyx_fail(p, ONYX_ERR_INVALID,
                         "axis %lld is out of range for rank %d",
                         (long long)axis, rank);
    *out = (int)(axis < 0 ? axis + r : axis);
    return ONYX_OK;
}

onyx_status onyx_broadcast_shape(onyx_prep *p, const onyx_tensor *const *ts,
                                 int n, onyx_tensor *out)
{
    int rank = 0;
    for (int k = 0; k < n; k++)
        if (ts[k] && ts[k]->rank > rank) rank = ts[k]->rank;
    int64_t dims[ONYX_MAX_RANK];
    for (int i = 0; i < rank; i++)
        dims[i] = 1;
    for (int k = 0; k < n; k++) {
        const onyx_tensor *t = ts[k];
        if (!t) continue;
        int off = rank - t->rank;
        for (int i = 0; i < t->rank; i++) {
            int64_t d = t->dims[i];
            int64_t *o = &dims[off + i];
            if (d == *o || d == 1) continue;
            if (*o == 1) {
                *o = d;
                continue;
            }
            char a[96], b[96];
            return onyx_fail(p, ONYX_ERR_INVALID,
                             "shapes %s and %s cannot be broadcast",
                             onyx_shape_str(ts[0], a, sizeof a),
                             onyx_shape_str(t, b, sizeof b));
        }
    }
    out->rank = rank;
    for (int i = 0; i < rank; i++)
        out->dims[i] = dims[i];
    return ONYX_OK;
}

void onyx_broadcast_strides(const onyx_tensor *t, const onyx_tensor *out,
                            int64_t *strides)
{
    int off = out->rank - t->rank;
    int64_t s = 1;
    for (int i = out->rank - 1; i >= 0; i--) {
        int j = i - off;
        if (j < 0 || t->dims[j] == 1) {
            strides[i] = 0;
        } else {
            strides[i] = s;
        }
        if (j >= 0) s *= t->dims[j];
    }
}
