/* onyx.h - the engine's public API: load an ONNX model, resolve it for given
 * input shapes, plan its memory, and run instances of it.
 *
 *   onyx_model    the loaded file (mmap'd; weights borrowed). Immutable.
 *   onyx_program  the model resolved for bound input shapes: shapes inferred,
 *                 constants folded, kernels prepared, arena planned.
 *                 Immutable and shareable between threads.
 *   onyx_instance one arena + tensor table; runs the program. One thread at a
 *                 time per instance; many instances of one program may run
 *                 concurrently (weights and prepared params are shared).
 *
 * Errors: every call that can fail takes an onyx_error and returns NULL or a
 * status; the message names the file, node and op. Nothing aborts, exits or
 * prints. onyx_instance_run does not allocate, lock, print or make syscalls
 * (with threads, onyx_instance_set_threads, it may wake and yield to its
 * workers).
 */
#ifndef ONYX_H
#define ONYX_H

#include "../../kernels/onyx_types.h"

#include <stddef.h>
#include <stdint.h>

typedef struct onyx_model onyx_model;
typedef struct onyx_program onyx_program;
typedef struct onyx_instance onyx_instance;

typedef struct onyx_error {
    onyx_status status;
    char msg[512];
} onyx_error;

/* Resource limits checked at load and resolve, before anything large is
 * allocated: a file that exceeds one is refused with an error naming the
 * limit. onyx_limits_default() gives the defaults (in brackets); raise them
 * for exceptional models and pass them to onyx_model_load_ex or
 * onyx_model_load_memory_ex. */
typedef struct onyx_limits {
    int64_t max_nodes; /* nodes, and initializers, in the graph [100 000] */
    int64_t max_depth; /* nodes on the longest chain from an input [8192] */
    int64_t max_tensor_bytes; /* one tensor [4 GiB; 1 GiB on 32-bit] */
    int64_t max_arena_bytes; /* one instance's arena [4 GiB; 1 GiB on 32-bit] */
    int64_t max_attr_elems;  /* elements of one attribute array [2^20] */
} onyx_limits;
onyx_limits onyx_limits_default(void);

/* ---- load ---- */

/* Map and parse an ONNX file. Weights stay in the mapping. */
onyx_model *onyx_model_load(const char *path, onyx_error *err);
/* Parse bytes the caller keeps alive until onyx_model_free. */
onyx_model *onyx_model_load_memory(const void *data, size_t len,
                                   const char *label, onyx_error *err);
/* The same with resource limits (NULL: onyx_limits_default()). */
onyx_model *onyx_model_load_ex(const char *path, const onyx_limits *lim,
                               onyx_error *err);
onyx_model *onyx_model_load_memory_ex(const void *data, size_t len,
                                      const char *label, const onyx_limits *lim,
                                      onyx_error *err);
void onyx_model_free(onyx_model *m);

/* A graph input or output as the file declares it. A dim of -1 is unknown;
 * dim_names[i] is its symbolic name (or NULL). */
typedef struct onyx_value_info {
    const char *name;
    onyx_dtype dtype;
    int rank; /* -1 when the file gives no shape */
    int64_t dims[ONYX_MAX_RANK];
    const char *dim_names[ONYX_MAX_RANK];
} onyx_value_info;

int onyx_model_opset(const onyx_model *m);
const char *onyx_model_path(const onyx_model *m);
const char *onyx_model_producer(const onyx_model *m);
int onyx_model_num_inputs(const onyx_model *m); /* not counting initializers */
const onyx_value_info *onyx_model_input(const onyx_model *m, int i);
int onyx_model_num_outputs(const onyx_model *m);
const onyx_value_info *onyx_model_output(const onyx_model *m, int i);
int onyx_model_num_nodes(const onyx_model *m);
const char *onyx_model_node_op(const onyx_model *m, int i);
/* Initializer (weight) statistics: element count and bytes. */
void onyx_model_params(const onyx_model *m, int64_t *count, int64_t *bytes);
/* metadata_props value for key, or NULL */
const char *onyx_model_meta(const onyx_model *m, const char *key);
/* v's declared shape as "[1,T,1]": symbolic dims by name, unknown unnamed
 * ones as "?", "(no shape)" when the file gives none. Returns buf. */
const char *onyx_value_shape_str(const onyx_value_info *v, char *buf,
                                 size_t cap);

/* Parse one serialized TensorProto (the bytes of a .pb tensor file) into
 * *out, with the default limits. out->data is malloc'd (free() it); name
 * gets the tensor's name ("" when it has none). */
onyx_status onyx_tensor_parse(const void *bytes, size_t len, onyx_tensor *out,
                              char *name, size_t name_cap, onyx_error *err);

/* ---- resolve + plan ---- */

/* A value for a graph input at resolve time: its shape (symbolic dims bound)
 * and, optionally, its data. When data is given and the input is small, the
 * resolver may read it where an op needs a value to infer a shape (e.g. a
 * Reshape target fed as an input); the same data must then be given at run. */
typedef struct onyx_bind {
    const char *name;
    int rank;
    int64_t dims[ONYX_MAX_RANK];
    const void *data; /* optional */
} onyx_bind;

onyx_program *onyx_program_new(const onyx_model *m, const onyx_bind *binds,
                               int n_binds, onyx_error *err);
void onyx_program_free(onyx_program *p);

size_t onyx_program_arena_bytes(const onyx_program *p);
int onyx_program_num_nodes(const onyx_program *p); /* after folding */
int64_t onyx_program_flops(const onyx_program *p);
int onyx_program_num_inputs(const onyx_program *p);
int onyx_program_num_outputs(const onyx_program *p);
const char *onyx_program_input_name(const onyx_program *p, int i);
const char *onyx_program_output_name(const onyx_program *p, int i);
/* dtype and shape (data NULL) of a resolved input/output */
const onyx_tensor *onyx_program_input_info(const onyx_program *p, int i);
const onyx_tensor *onyx_program_output_info(const onyx_program *p, int i);
int onyx_program_find_input(const onyx_program *p, const char *name);
int onyx_program_find_output(const onyx_program *p, const char *name);
/* Per-node description for profiles: name and op of node i. */
const char *onyx_program_node_name(const onyx_program *p, int i);
const char *onyx_program_node_op(const onyx_program *p, int i);
int64_t onyx_program_node_flops(const onyx_program *p, int i);

/* Threads the BLAS library may use. The engine sets 1 the first time a
 * program is made, unless this was called before. Process-wide. */
void onyx_set_blas_threads(int n);

/* ---- run ---- */

onyx_instance *onyx_instance_new(const onyx_program *p, onyx_error *err);
void onyx_instance_free(onyx_instance *x);

/* Input i: write its data here before run (it lives in the arena and is
 * not modified by run). Output i: valid until the next run. */
onyx_tensor *onyx_instance_input(onyx_instance *x, int i);
const onyx_tensor *onyx_instance_output(const onyx_instance *x, int i);

/* Threads for the engine's own GEMM and convolutions in this instance's
 * runs (counting the caller; 1: none). n > 1 starts n - 1 worker threads,
 * kept until the next call or the instance is freed; results are
 * bit-identical to one thread's. A run on a thread marked real-time
 * (onyx_sgemm_realtime, the audio thread) still runs alone. Not real-time;
 * not during a run. OpenBLAS's own threads are onyx_set_blas_threads'. */
onyx_status onyx_instance_set_threads(onyx_instance *x, int n,
                                      onyx_error *err);
int onyx_instance_threads(const onyx_instance *x);

/* Runs every node. Returns ONYX_OK, or a status with *why pointing at a
 * static message (and *node at the failing node's index) -- no formatting,
 * no allocation. */
onyx_status onyx_instance_run(onyx_instance *x, const char **why, int *node);

/* Per-node timing (nanoseconds, summed over runs since the last reset). When
 * enabled, run reads a monotonic clock around each node. */
void onyx_instance_profile(onyx_instance *x, int enable);
const uint64_t *onyx_instance_node_ns(const onyx_instance *x);
void onyx_instance_profile_reset(onyx_instance *x);
/* The last profiled run: per node, its start (ns after the run began) and
 * its duration; for traces. */
void onyx_instance_node_last(const onyx_instance *x, const uint64_t **start,
                             const uint64_t **dur);

/* Formats a run failure into err, naming the node and op. */
void onyx_run_error(const onyx_program *p, onyx_status st, const char *why,
                    int node, onyx_error *err);

#endif
