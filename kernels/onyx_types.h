/* onyx_types.h - the few types the kernels, the engine and the engine's
 * users share: element types, status codes, the tensor, and the helpers that
 * describe a tensor. The public API (src/engine/onyx.h) and the kernel
 * contract (onyx_kernel.h) both include it; nothing else of the kernel
 * contract is public.
 */
#ifndef ONYX_TYPES_H
#define ONYX_TYPES_H

#include <stddef.h>
#include <stdint.h>

/* Element types, numbered as ONNX's TensorProto.DataType. Compute is float32;
 * int64 and bool are used for shapes, indices and masks. */
typedef enum {
    ONYX_UNDEFINED = 0,
    ONYX_FLOAT = 1,
    ONYX_UINT8 = 2,
    ONYX_INT8 = 3,
    ONYX_UINT16 = 4,
    ONYX_INT16 = 5,
    ONYX_INT32 = 6,
    ONYX_INT64 = 7,
    ONYX_STRING = 8,
    ONYX_BOOL = 9, /* one byte per element, 0 or 1 */
    ONYX_FLOAT16 = 10,
    ONYX_DOUBLE = 11,
    ONYX_UINT32 = 12,
    ONYX_UINT64 = 13,
    ONYX_COMPLEX64 = 14,
    ONYX_COMPLEX128 = 15,
    ONYX_BFLOAT16 = 16,
} onyx_dtype;

/* Status codes shared by kernels and the engine. */
typedef enum {
    ONYX_OK = 0,
    ONYX_ERR_IO,          /* file cannot be opened / mapped */
    ONYX_ERR_PARSE,       /* malformed protobuf / ONNX structure */
    ONYX_ERR_UNSUPPORTED, /* op, dtype or feature onyx refuses */
    ONYX_ERR_INVALID,     /* bad attribute, shape or argument */
    ONYX_ERR_NOMEM,       /* allocation failed */
    ONYX_ERR_LIMIT,       /* a resource limit was exceeded */
    ONYX_ERR_RUNTIME,     /* eval found bad data (e.g. index out of range) */
} onyx_status;

#define ONYX_MAX_RANK 8

/* A tensor: dtype, shape and a pointer to contiguous C-order data.
 * dims[0..rank-1] are >= 0; rank 0 is a scalar (one element).
 * Whether data is owned is decided by whoever made the tensor: weights are
 * borrowed from the model file mapping, intermediates live in an arena. */
typedef struct onyx_tensor {
    onyx_dtype dtype;
    int rank;
    int64_t dims[ONYX_MAX_RANK];
    void *data;
} onyx_tensor;

/* Tensor helpers (kernels/kernel_util.c). */
size_t onyx_dtype_size(onyx_dtype t); /* 0 for types onyx cannot hold */
const char *onyx_dtype_name(onyx_dtype t);
int64_t onyx_numel(const onyx_tensor *t);
int onyx_same_shape(const onyx_tensor *a, const onyx_tensor *b);
/* "[2,3,4]" into buf; returns buf */
const char *onyx_shape_str(const onyx_tensor *t, char *buf, size_t cap);

/* Half precision (the bits of one element): float16 is IEEE binary16,
 * bfloat16 the top half of a float32. Narrowing rounds to nearest even;
 * infinities and NaNs stay what they are (a NaN stays a quiet NaN), float16
 * overflow gives infinity and its underflow subnormals or zero. Widening is
 * exact. */
float onyx_f16_to_f32(uint16_t h);
uint16_t onyx_f32_to_f16(float f);
float onyx_bf16_to_f32(uint16_t h);
uint16_t onyx_f32_to_bf16(float f);

/* Read element k of an integer, bool or float (float16 and bfloat16
 * included) tensor as int64 / double. */
int64_t onyx_get_int(const onyx_tensor *t, int64_t k);
double onyx_get_double(const onyx_tensor *t, int64_t k);

#endif
