/* engine.h - the engine's internal structures, shared by load.c, the resolver
 * (resolve.h), plan.c and run.c. Not part of the public API (see onyx.h). */
#ifndef ONYX_ENGINE_H
#define ONYX_ENGINE_H

#include "onyx.h"
#include "../../kernels/onyx_kernel.h"

#include <stdarg.h>

/* ---- a bump allocator: everything the parsed model owns lives in one pool
 * and is freed at once ---- */
typedef struct onyx_pool_chunk onyx_pool_chunk;
typedef struct onyx_pool {
    onyx_pool_chunk *head;
    size_t used, cap;
} onyx_pool;

void *onyx_pool_alloc(onyx_pool *pl, size_t bytes); /* 16-aligned, zeroed */
char *onyx_pool_strndup(onyx_pool *pl, const char *s, size_t n);
void onyx_pool_free(onyx_pool *pl);

void onyx_seterr(onyx_error *err, onyx_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* ---- the parsed model ---- */

typedef struct onyx_nodedef {
    const char *name; /* "" when the file gives none */
    const char *op_type;
    const char *domain;
    int n_in, n_out;
    const char **inputs; /* "" = omitted optional input */
    const char **outputs;
    int n_attrs;
    onyx_attr *attrs;
} onyx_nodedef;

typedef struct onyx_init {
    const char *name;
    onyx_tensor t; /* data borrowed from the mapping when aligned, else pool */
} onyx_init;

/* A graph: the model's main graph, or a subgraph (an If branch, a Loop or
 * Scan body) held by a GRAPH attribute (onyx_attr.g). A subgraph's inputs
 * are all it declares (a body's iteration inputs); its nodes may read
 * values of the graphs around it by name. */
typedef struct onyx_graphdef {
    int n_nodes;
    onyx_nodedef *nodes;
    int n_inits;
    onyx_init *inits;
    int n_inputs;
    onyx_value_info *inputs;
    int n_outputs;
    onyx_value_info *outputs;
} onyx_graphdef;

/* The op of a node: the registry's, or If, Loop or Scan, which the
 * resolver inlines (control.c); NULL when onyx has none. */
const onyx_op *onyx_node_op(const char *op_type);
/* 1 for the ops the resolver runs itself (control.c): If, Loop, Scan. */
int onyx_control_op(const char *op_type);

/* Checks that a Loop's or Scan's body fits the node (inputs, outputs,
 * per-input attributes); 0 with the reason in msg when it does not. Other
 * nodes pass. Run at load on every node of every graph. */
int onyx_control_check(const onyx_nodedef *nd, int opset, char *msg,
                       size_t cap);

/* IfSelect's params when a branch could not be prepared: why[b] (then: 1,
 * else: 0) is the reason, returned as the error when the condition chooses
 * that branch */
typedef struct if_missing {
    const char *why[2];
} if_missing;

/* ops the resolver builds for run-time Ifs (control.c) */
extern const onyx_op onyx_op_IfSelect;
extern const onyx_op onyx_op_GuardAnd;
/* and for Loops unrolled for a trip count or condition bound by the caller */
extern const onyx_op onyx_op_LoopCheck;

/* Subgraphs nest at most this deep (an If in a Loop body in an If...). */
#define ONYX_MAX_GRAPH_DEPTH 16

struct onyx_model {
    const char *path;
    void *map; /* mmap base (NULL for onyx_model_load_memory) */
    size_t map_len;
    onyx_pool pool; /* owns every struct and string below */
    onyx_limits lim;
    int64_t ir_version;
    int opset; /* ai.onnx */
    const char *producer;
    int n_nodes;
    onyx_nodedef *nodes;
    int n_inits;
    onyx_init *inits;
    int n_inputs; /* graph inputs that are not initializers */
    onyx_value_info *inputs;
    int n_outputs;
    onyx_value_info *outputs;
    int n_meta;
    const char **meta_keys, **meta_values;
};

/* Parses a TensorProto (used by the loader and by the command's .pb
 * reader). Data is borrowed from the reader's bytes when aligned and
 * little-endian raw, else copied into pool. */
onyx_status onyx_parse_tensor(const void *bytes, size_t len, onyx_pool *pool,
                              const onyx_limits *lim, onyx_tensor *t,
                              const char **name, char *msg, size_t msg_cap);

/* ---- the resolved program ---- */

/* Where a tensor's data lives at run time. */
typedef enum {
    ONYX_LOC_CONST, /* fixed data: initializer or folded constant */
    ONYX_LOC_ARENA, /* offset into each instance's arena */
} onyx_loc;

typedef struct onyx_ptensor {
    const char *name;
    onyx_tensor
        t; /* for CONST: data set; for ARENA: data NULL in the program */
    onyx_loc loc;
    size_t offset; /* ARENA */
    size_t bytes;
    int first, last; /* node indices of first def and last use (liveness) */
    int alias;       /* ARENA: -1, or the tensor whose bytes this one shares (a
                        zero-copy view: Reshape, Squeeze...; never itself an alias) */
} onyx_ptensor;

typedef struct onyx_pnode {
    const char *name;
    const char *op_type;
    const onyx_op *op;
    int n_in, n_out;
    int *in;  /* tensor indices, -1 = omitted */
    int *out; /* tensor indices, -1 = unused */
    void *params;
    void (*free_params)(void *);
    size_t scratch_bytes, scratch_offset;
    int64_t flops;
    /* a node of an If branch taken at run time: it runs only when the bool
     * tensor guard - 1 (guard 0: none) holds guard_want */
    int guard;
    uint8_t guard_want;
} onyx_pnode;

struct onyx_program {
    const onyx_model *model;
    onyx_pool pool;
    int n_tensors;
    onyx_ptensor *tensors;
    int n_nodes;
    onyx_pnode *nodes;
    int n_inputs, n_outputs;
    int *inputs, *outputs; /* tensor indices */
    const char **input_names, **output_names;
    size_t arena_bytes;
    int64_t flops;
    int n_guarded; /* nodes with a guard */
};

/* plan.c: offsets for n buffers of `bytes`, live over [first, last]
 * (inclusive node indices); returns the arena size. Greedy by size. */
typedef struct onyx_buf {
    size_t bytes;
    int first, last;
    size_t offset; /* out */
} onyx_buf;
size_t onyx_plan_buffers(onyx_buf *bufs, int n, size_t align);

#endif
