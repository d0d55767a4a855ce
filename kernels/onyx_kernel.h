/* onyx_kernel.h - the tensor type and the op contract every kernel implements.
 *
 * This is the bottom layer: kernels include only this header (and the math
 * helpers in kernels/), never an engine header. The engine builds graphs out
 * of these structs and calls prepare once per node at resolve time, then eval
 * on every run.
 *
 *   prepare(p):  check attributes, dtypes and shapes; set every output's
 *                dtype and dims; optionally allocate read-only params (e.g.
 *                repacked weights) and ask for scratch bytes. May allocate.
 *   eval(e):     math only. No allocation, no locks, no I/O, no printing.
 *                Reads e->in, writes e->out, may use e->scratch.
 */
#ifndef ONYX_KERNEL_H
#define ONYX_KERNEL_H

#include "onyx_types.h"

#include <stddef.h>
#include <stdint.h>

/* ONNX AttributeProto.AttributeType */
typedef enum {
    ONYX_ATTR_UNDEFINED = 0,
    ONYX_ATTR_FLOAT = 1,
    ONYX_ATTR_INT = 2,
    ONYX_ATTR_STRING = 3,
    ONYX_ATTR_TENSOR = 4,
    ONYX_ATTR_GRAPH = 5,
    ONYX_ATTR_FLOATS = 6,
    ONYX_ATTR_INTS = 7,
    ONYX_ATTR_STRINGS = 8,
} onyx_attr_type;

/* One node attribute, decoded at load. Arrays are owned by the model. */
typedef struct onyx_attr {
    const char *name;
    onyx_attr_type type;
    float f;       /* FLOAT */
    int64_t i;     /* INT */
    const char *s; /* STRING, NUL-terminated (s_len bytes before NUL) */
    size_t s_len;
    const float *floats;        /* FLOATS, n entries */
    const int64_t *ints;        /* INTS, n entries */
    const char *const *strings; /* STRINGS, n entries */
    int64_t n;
    const onyx_tensor *t; /* TENSOR */
    const void *g; /* GRAPH: the engine's parsed subgraph (If, Loop, Scan);
                      kernels do not read it */
} onyx_attr;

/* What prepare sees. The engine fills everything above the line. */
typedef struct onyx_prep {
    const char *op_type;
    int opset; /* ai.onnx opset version of the model */
    int n_in, n_out;
    /* in[i] is NULL for an omitted optional input. in[i]->data is non-NULL
     * only when the value is known at prepare time (a constant, or a value the
     * caller bound); kernels that need a value (a shape, axes, pads...) call
     * onyx_need_value(). */
    const onyx_tensor *const *in;
    /* in_const[i] is 1 when input i's value is the same on every run (an
     * initializer or a folded constant): only then may prepare precompute
     * from it (repack weights into params...). A value that is known but not
     * constant (bound by the caller for this resolve) may only shape outputs.
     */
    const unsigned char *in_const;
    /* out[i] is NULL for an output the graph does not use (an omitted
     * optional output); otherwise prepare sets dtype, rank and dims. */
    onyx_tensor *const *out;
    const onyx_attr *attrs;
    int n_attrs;
    /* the engine's limit on one tensor, in bytes (0: none); see
     * onyx_check_size() */
    int64_t max_tensor_bytes;
    /* ---- set by prepare ---- */
    void *params;                      /* kernel-owned, read-only during eval */
    void (*free_params)(void *params); /* NULL: plain free() */
    size_t scratch_bytes; /* per-instance scratch handed to eval, 64-aligned */
    /* operations per run, for `onyx info` and the benchmark's GFLOP/s (a
     * multiply-add counts 2, saturating: see onyx_flops_mul). The engine
     * presets -1: one operation per element of output 0. */
    int64_t flops;
    /* output 0 holds input 0's bytes in the same order, only shaped anew
     * (Reshape...): the engine lets it share them and drops the node */
    int view;
    /* output 0 is input 0 unchanged (Dropout in inference): the engine
     * drops the node and names input 0's tensor by output 0's name */
    int rename;
    char *msg; /* error message buffer (msg_cap bytes) */
    size_t msg_cap;
    /* set by the attribute getters when an attribute has the wrong type; the
     * engine then refuses the node with the getter's message */
    int bad_attr;
} onyx_prep;

/* What eval sees: the same tensors with data pointers set for this instance. */
typedef struct onyx_exec {
    const onyx_tensor *const *in;
    onyx_tensor *const *out;
    int n_in, n_out;
    const void *params;
    void *scratch;
    const char *err; /* eval may point this at a static string on failure */
} onyx_exec;

/* What the engine knows of an op without preparing it (onyx_op.flags). */
enum {
    /* always a rename: output 0 is input 0, the node is never prepared
     * (Identity) */
    ONYX_OP_RENAME = 1u << 0,
    /* reads only its inputs' shapes: folded once they are known (Shape) */
    ONYX_OP_SHAPE_ONLY = 1u << 1,
    /* reads float16 and bfloat16 inputs itself; other ops read their
     * float32 copies (Cast, Identity, Shape...) */
    ONYX_OP_READS_HALF = 1u << 2,
    /* an elementwise Add: may fuse into the node that made one of its
     * inputs, when that node's op has add_fused */
    ONYX_OP_ADD = 1u << 3,
    /* control flow, inlined by the engine (src/engine/control.c): these
     * have no prepare or eval */
    ONYX_OP_IF = 1u << 4,
    ONYX_OP_LOOP = 1u << 5,
    ONYX_OP_SCAN = 1u << 6,
    ONYX_OP_CONTROL = ONYX_OP_IF | ONYX_OP_LOOP | ONYX_OP_SCAN,
};

typedef struct onyx_op {
    const char *name;
    onyx_status (*prepare)(onyx_prep *p);
    onyx_status (*eval)(onyx_exec *e);
    unsigned flags; /* ONYX_OP_* */
    /* the op this one becomes when an Add of its output is fused in (its
     * prepare then takes the addends as inputs after its own), or NULL */
    const struct onyx_op *add_fused;
} onyx_op;

/* ---- the registry (kernels/registry.c) ---- */
const onyx_op *onyx_op_find(const char *op_type);

/* Ops the engine builds itself; it names them by their descriptors. */
extern const onyx_op onyx_op_Cast; /* widening half-precision tensors */
extern const onyx_op onyx_op_Gather, onyx_op_Unsqueeze,
    onyx_op_Concat; /* Loop and Scan iterations */

/* ---- helpers for kernels (kernels/kernel_util.c; the tensor helpers the
 * engine's users share are in onyx_types.h) ---- */
/* elements of output 0, 0 when it is unused: what most flops counts scale */
static inline int64_t onyx_out_numel(const onyx_prep *p)
{
    return p->n_out > 0 && p->out[0] ? onyx_numel(p->out[0]) : 0;
}

/* Format an error into p->msg and return status. */
onyx_status onyx_fail(onyx_prep *p, onyx_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Return from prepare with an ONYX_ERR_INVALID message when cond is false. */
#define ONYX_CHECK(p, cond, ...)                                               \
    do {                                                                       \
        if (!(cond)) return onyx_fail((p), ONYX_ERR_INVALID, __VA_ARGS__);     \
    } while (0)

/* Propagate a non-OK status. */
#define ONYX_TRY(expr)                                                         \
    do {                                                                       \
        onyx_status st_ = (expr);                                              \
        if (st_ != ONYX_OK) return st_;                                        \
    } while (0)

/* Attributes. Lookups return the default when absent. A present attribute
 * of the wrong type (a string where an int is expected...) also returns the
 * default, and sets p->bad_attr and p->msg: the engine refuses the node
 * after prepare, so kernels need not check. */
const onyx_attr *onyx_attr_get(const onyx_prep *p, const char *name);
int64_t onyx_attr_int(const onyx_prep *p, const char *name, int64_t dflt);
float onyx_attr_float(const onyx_prep *p, const char *name, float dflt);
/* returns dflt when absent; the string is NUL-terminated */
const char *onyx_attr_string(const onyx_prep *p, const char *name,
                             const char *dflt);
/* ints: returns the count (>= 0) and sets *v, or -1 when absent */
int64_t onyx_attr_ints(const onyx_prep *p, const char *name, const int64_t **v);
int64_t onyx_attr_floats(const onyx_prep *p, const char *name, const float **v);

/* Require input i to be present, with a value known at prepare time. */
onyx_status onyx_need_input(onyx_prep *p, int i);
onyx_status onyx_need_value(onyx_prep *p, int i);
/* Require input i's dtype to be one of a mask of (1u << ONYX_xxx). */
onyx_status onyx_need_dtype(onyx_prep *p, int i, unsigned mask);
#define ONYX_MASK(t) (1u << (t))
/* The element types the data-movement ops (Transpose, Slice, Concat, Gather,
 * Reshape...) take: all that onyx computes with or indexes by. */
#define ONYX_DATA_DTYPES                                                       \
    (ONYX_MASK(ONYX_FLOAT) | ONYX_MASK(ONYX_INT64) | ONYX_MASK(ONYX_INT32) |   \
     ONYX_MASK(ONYX_BOOL))

/* v as int64 without undefined behaviour: truncated toward zero, and
 * INT64_MIN for NaN and values out of range (what x86's conversion gives).
 * Every float-to-integer conversion of data goes through it. */
static inline int64_t onyx_f2i(double v)
{
    if (!(v > -9223372036854775808.0 && v < 9223372036854775808.0))
        return INT64_MIN;
    return (int64_t)v;
}

/* Set an output's dtype and shape. */
void onyx_set_shape(onyx_tensor *t, onyx_dtype dt, int rank,
                    const int64_t *dims);

/* Operation counts (onyx_prep.flops): a * b, 0 when either is <= 0, and
 * a + b, both saturating at INT64_MAX (a model can ask for more). */
int64_t onyx_flops_mul(int64_t a, int64_t b);
int64_t onyx_flops_add(int64_t a, int64_t b);

/* a * b for sizes a, b >= 0, or -1 when either is negative or the product
 * does not fit in int64: shape arithmetic on values read from a model. */
int64_t onyx_size_mul(int64_t a, int64_t b);
/* ONYX_ERR_LIMIT (message via p) when a tensor of dtype dt and these dims
 * would be larger than p->max_tensor_bytes. The engine checks every output
 * after prepare; prepare calls this first when it allocates something sized
 * by an output (a lookup table per output element...). */
onyx_status onyx_check_size(onyx_prep *p, onyx_dtype dt, int rank,
                            const int64_t *dims);

/* Normalise an axis in [-rank, rank-1] (or [-rank-1, rank] with extra=1) to
 * [0, rank-1+extra]; returns an error through p when out of range. */
onyx_status onyx_axis(onyx_prep *p, int64_t axis, int rank, int extra,
                      int *out);

/* Multidirectional (numpy) broadcast of n shapes into out; error via p. */
onyx_status onyx_broadcast_shape(onyx_prep *p, const onyx_tensor *const *ts,
                                 int n, onyx_tensor *out);
/* Strides (in elements) of t broadcast to the shape of out: 0 on broadcast
 * axes; t's dims are right-aligned with out's. */
void onyx_broadcast_strides(const onyx_tensor *t, const onyx_tensor *out,
                            int64_t *strides);

#endif
