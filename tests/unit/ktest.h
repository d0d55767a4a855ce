/* ktest.h - run one kernel on hand-made tensors, for the Check unit tests.
 *
 *   float x[] = {1, -2};
 *   onyx_tensor in = kt_tensor(ONYX_FLOAT, 1, (int64_t[]){2}, x);
 *   onyx_tensor out[1];
 *   onyx_attr at[] = {KT_FLOAT("alpha", 0.5f)};
 *   ck_assert_int_eq(kt_run("LeakyRelu", 13, at, 1, (onyx_tensor *[]){&in}, 1,
 *                           out, 1, msg), ONYX_OK);
 *   ... check ((float *)out[0].data)[i] ...
 *   kt_free(out, 1);
 */
#ifndef ONYX_KTEST_H
#define ONYX_KTEST_H

#include "../../kernels/onyx_kernel.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* On 32-bit ARM the engine's vector code runs as NEON (mk/platform.mk),
 * which flushes subnormal inputs and results to zero: there a kernel sees a
 * subnormal x as +-0, and tests of subnormals expect f(0). */
#if defined(__arm__) && defined(__ARM_NEON)
#define KT_VECTOR_FTZ 1
#else
#define KT_VECTOR_FTZ 0
#endif

/* x is a subnormal that the vector unit of this target reads as zero */
static inline int kt_flushed(float x)
{
    return KT_VECTOR_FTZ && x != 0 && fabsf(x) < FLT_MIN;
}

#define KT_INT(nm, v)                                                          \
    {                                                                          \
        .name = (nm), .type = ONYX_ATTR_INT, .i = (v)                          \
    }
#define KT_FLOAT(nm, v)                                                        \
    {                                                                          \
        .name = (nm), .type = ONYX_ATTR_FLOAT, .f = (v)                        \
    }
#define KT_STRING(nm, v)                                                       \
    {                                                                          \
        .name = (nm), .type = ONYX_ATTR_STRING, .s = (v),                      \
        .s_len = sizeof(v) - 1                                                 \
    }
#define KT_INTS(nm, cnt, arr)                                                  \
    {                                                                          \
        .name = (nm), .type = ONYX_ATTR_INTS, .ints = (arr), .n = (cnt)        \
    }
#define KT_FLOATS(nm, cnt, arr)                                                \
    {                                                                          \
        .name = (nm), .type = ONYX_ATTR_FLOATS, .floats = (arr), .n = (cnt)    \
    }

static inline onyx_tensor kt_tensor(onyx_dtype dt, int rank,
                                    const int64_t *dims, const void *data)
{
    onyx_tensor t;
    memset(&t, 0, sizeof t);
    t.dtype = dt;
    t.rank = rank;
    for (int i = 0; i < rank; i++)
        t.dims[i] = dims[i];
    t.data = (void *)data;
    return t;
}

/* Run op `name` once. in[i] may be NULL (omitted optional input). Every
 * output gets malloc'd data; free it with kt_free. A zero entry in
 * `used_out` (when given) marks an output as not used by the graph. A
 * nonzero entry in `unknown_in` (when given) marks an input as not known at
 * prepare, like a graph input: prepare sees its data NULL and in_const 0,
 * eval gets the data. Inputs with data are otherwise constant. Scratch is
 * handed to eval filled with NaNs, as it is never read before written. On
 * failure, msg (256 bytes) holds prepare's or eval's message. */
static inline onyx_status
kt_run_ex(const char *name, int opset, const onyx_attr *attrs, int n_attrs,
          onyx_tensor *const *in, int n_in, onyx_tensor *out, int n_out,
          const int *used_out, const int *unknown_in, char *msg)
{
    enum { KT_MAX_IN = 32, KT_MAX_OUT = 16 };
    const onyx_op *op = onyx_op_find(name);
    msg[0] = 0;
    if (!op) {
        strcpy(msg, "op not registered");
        return ONYX_ERR_UNSUPPORTED;
    }
    if (n_in > KT_MAX_IN || n_out > KT_MAX_OUT) {
        strcpy(msg, "too many inputs or outputs for kt_run_ex");
        return ONYX_ERR_LIMIT;
    }
    onyx_tensor *outp[KT_MAX_OUT];
    for (int i = 0; i < n_out; i++) {
        memset(&out[i], 0, sizeof out[i]);
        outp[i] = (used_out && !used_out[i]) ? NULL : &out[i];
    }
    /* what prepare sees: the unknown inputs as copies without data */
    onyx_tensor unknown[KT_MAX_IN];
    const onyx_tensor *prep_in[KT_MAX_IN];
    unsigned char in_const[KT_MAX_IN];
    for (int i = 0; i < n_in; i++) {
        prep_in[i] = in[i];
        in_const[i] = in[i] && in[i]->data;
        if (in[i] && unknown_in && unknown_in[i]) {
            unknown[i] = *in[i];
            unknown[i].data = NULL;
            prep_in[i] = &unknown[i];
            in_const[i] = 0;
        }
    }
    onyx_prep p;
    memset(&p, 0, sizeof p);
    p.op_type = name;
    p.opset = opset;
    p.n_in = n_in;
    p.n_out = n_out;
    p.in = prep_in;
    p.in_const = in_const;
    p.out = outp;
    p.attrs = attrs;
    p.n_attrs = n_attrs;
    p.msg = msg;
    p.msg_cap = 256;
    onyx_status st = op->prepare(&p);
    if (st == ONYX_OK && p.bad_attr) st = ONYX_ERR_INVALID;
    if (st != ONYX_OK) {
        if (p.params) {
            if (p.free_params)
                p.free_params(p.params);
            else
                free(p.params);
        }
        return st;
    }
    for (int i = 0; i < n_out; i++) {
        if (!outp[i]) continue;
        size_t bytes =
            (size_t)onyx_numel(&out[i]) * onyx_dtype_size(out[i].dtype);
        out[i].data = calloc(1, bytes ? bytes : 1);
    }
    void *scratch = p.scratch_bytes ? malloc(p.scratch_bytes) : NULL;
    if (scratch) memset(scratch, 0xff, p.scratch_bytes); /* NaN floats */
    onyx_exec e;
    memset(&e, 0, sizeof e);
    e.in = (const onyx_tensor *const *)in;
    e.out = outp;
    e.n_in = n_in;
    e.n_out = n_out;
    e.params = p.params;
    e.scratch = scratch;
    st = op->eval(&e);
    if (st != ONYX_OK && e.err) strncpy(msg, e.err, 255);
    free(scratch);
    if (p.params) {
        if (p.free_params)
            p.free_params(p.params);
        else
            free(p.params);
    }
    return st;
}

static inline onyx_status kt_run(const char *name, int opset,
                                 const onyx_attr *attrs, int n_attrs,
                                 onyx_tensor *const *in, int n_in,
                                 onyx_tensor *out, int n_out, char *msg)
{
    return kt_run_ex(name, opset, attrs, n_attrs, in, n_in, out, n_out, NULL,
                     NULL, msg);
}

static inline void kt_free(onyx_tensor *out, int n_out)
{
    for (int i = 0; i < n_out; i++) {
        free(out[i].data);
        out[i].data = NULL;
    }
}

#endif
