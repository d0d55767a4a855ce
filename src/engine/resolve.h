/* resolve.h - the resolver's state, shared by its passes (not part of the
 * API): resolve.c drives them (bind inputs, order, liveness, resolve each
 * node, plan), node.c resolves one node (prepare, then fold, view, rename,
 * fuse or keep), half.c widens half-precision tensors, inline.c inlines
 * subgraphs (If), loop.c unrolls Loop and Scan. */
#ifndef ONYX_RESOLVE_H
#define ONYX_RESOLVE_H

#include "engine.h"

/* ---- a string -> int map (open addressing, power-of-two size) ---- */
typedef struct strmap {
    const char **keys;
    int *vals;
    size_t cap, n; /* slots, keys in use (at most half the slots) */
    onyx_pool *pl; /* where keys and vals live */
} strmap;

/* ---- resolver state ---- */

/* a list of names (in a pool) */
typedef struct name_list {
    const char **v;
    int n, cap;
} name_list;

typedef struct resolver {
    const onyx_model *m;
    onyx_program *p;
    onyx_error *err;
    strmap names; /* tensor name -> tensor index */
    int cap_tensors, cap_nodes;
    int64_t n_graph_nodes; /* nodes of every graph, each unrolled iteration
                              counted: held to onyx_limits.max_nodes */
    unsigned char *known;  /* per tensor: value visible to prepare */
    int *
        producer; /* per tensor: index of the kept node that writes it, or -1 */
    int64_t cap_names; /* value names in every graph, for the use counts */
    struct name_list *implicit; /* per main-graph node: what its subgraphs
                                   read from the main graph */
    const struct scope *scope;  /* the subgraph being inlined, or NULL */
    int n_inlined;              /* subgraphs inlined so far (their prefixes) */
    int guard;          /* the guard of the nodes being resolved, or -1 */
    uint8_t guard_want; /* the value it must hold */
    onyx_pool tmp;      /* freed after resolving */
    int *widened;       /* per tensor: 1 + its float32 copy (half.c), or 0 */
    int extra_nodes;    /* room for Casts added by half.c */
} resolver;

#define RFAIL(R, st, ...)                                                      \
    do {                                                                       \
        onyx_seterr((R)->err, (st), __VA_ARGS__);                              \
        return (st);                                                           \
    } while (0)

/* ---- the string map (resolve.c) ---- */
int onyx_strmap_init(strmap *m, size_t n, onyx_pool *pl); /* 0: no memory */
/* the value slot of k (-1 when new), inserted when insert; else NULL when
 * k is absent */
int *onyx_strmap_slot(strmap *m, const char *k, int insert);
/* room for `more` keys; 0 when out of memory */
int onyx_strmap_reserve(strmap *m, size_t more);
/* need: one more use of name */
void onyx_add_use(strmap *need, const char *name);

/* ---- tensors (resolve.c) ---- */
int onyx_add_tensor(resolver *R, const char *name);  /* -1: no room */
int onyx_find_tensor(resolver *R, const char *name); /* -1: none */
/* bytes of t, or -1 when invalid or above limit (0: none) */
int64_t onyx_tensor_bytes(const onyx_tensor *t, int64_t limit);

/* ---- one node (node.c) ---- */
void onyx_free_params(void *params, void (*fp)(void *));
/* pr set up for op over in[n_in] -> out[n_out] (no attributes), its
 * message in msg (cap bytes) */
void onyx_prep_init(const resolver *R, onyx_prep *pr, const onyx_op *op,
                    onyx_tensor **in, const unsigned char *in_const, int n_in,
                    onyx_tensor **out, int n_out, char *msg, size_t cap);
/* runs a prepared node now: its outputs get data in the program pool */
onyx_status onyx_eval_now(resolver *R, const onyx_op *op, onyx_prep *pr,
                          onyx_tensor **in, onyx_tensor **out,
                          const char *label);
/* resolves node nd of a graph (lb labels it in messages); need counts the
 * uses of each name */
onyx_status onyx_resolve_node(resolver *R, strmap *need, const onyx_nodedef *nd,
                              const char *lb);
/* keeps a node of an op the engine builds (IfSelect...) on tensors in[];
 * its output is a new tensor named name, *out */
onyx_status onyx_emit_builtin(resolver *R, const onyx_op *op, const int *in,
                              int n_in, const onyx_attr *attrs, int n_attrs,
                              const char *name, const char *lb, int *out);

/* ---- half precision (half.c) ---- */
int onyx_model_has_half(const onyx_model *m);
onyx_status onyx_half_widen(resolver *R, int *ti);
onyx_status onyx_half_outputs(resolver *R);

/* ---- subgraphs (inline.c, loop.c) ---- */
int onyx_node_implicit(const onyx_nodedef *nd, name_list *out, onyx_pool *pl);
void onyx_graph_size(const onyx_nodedef *nodes, int n_nodes, int n_inits,
                     int64_t *n_node, int64_t *n_value);
int64_t onyx_count_nodes(const onyx_nodedef *nodes, int n_nodes);
onyx_status onyx_inline_graph(resolver *R, strmap *need, const char *lb,
                              const onyx_graphdef *g, const char *pre,
                              const int *in, int n_in, int *out, int n_out);
onyx_status onyx_resolve_if(resolver *R, strmap *need, const onyx_nodedef *nd,
                            const char *lb);
onyx_status onyx_resolve_loop(resolver *R, strmap *need, const onyx_nodedef *nd,
                              const char *lb);
onyx_status onyx_resolve_scan(resolver *R, strmap *need, const onyx_nodedef *nd,
                              const char *lb);

#endif
