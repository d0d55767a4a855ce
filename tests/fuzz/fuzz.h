/* fuzz.h - what the model harnesses share: tight resource limits, and a
 * program made the way `onyx info` makes one (unbound symbolic dims = 1). */
#ifndef ONYX_FUZZ_H
#define ONYX_FUZZ_H

#include "onyx.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads every byte of a result, so that a bad pointer or size shows. */
static inline void fuzz_touch(const void *data, size_t bytes)
{
    unsigned char x = 0;
    for (size_t k = 0; k < bytes; k++)
        x ^= ((const unsigned char *)data)[k];
    __asm__ volatile("" : : "r"(x)); /* keeps the loop */
}

/* Small enough that no single input makes resolve (constant folding) or a
 * run take seconds or allocate much; large enough for every seed model. */
static inline onyx_limits fuzz_limits(void)
{
    onyx_limits l = onyx_limits_default();
    l.max_nodes = 4096;
    l.max_tensor_bytes = (int64_t)16 << 20;
    l.max_arena_bytes = (int64_t)64 << 20;
    l.max_attr_elems = (int64_t)1 << 16;
    return l;
}

/* The model parsed from data, or NULL. data outlives the model. */
static inline onyx_model *fuzz_load(const uint8_t *data, size_t size)
{
    onyx_limits lim = fuzz_limits();
    onyx_error err = {0};
    return onyx_model_load_memory_ex(data, size, "fuzz.onnx", &lim, &err);
}

/* Resolves m with every symbolic input dim bound to 1, or NULL. */
static inline onyx_program *fuzz_program(const onyx_model *m)
{
    enum { MAX_BINDS = 64 };
    onyx_bind binds[MAX_BINDS];
    int nb = 0;
    for (int i = 0; i < onyx_model_num_inputs(m) && nb < MAX_BINDS; i++) {
        const onyx_value_info *v = onyx_model_input(m, i);
        int symbolic = 0;
        for (int d = 0; d < v->rank; d++)
            symbolic |= v->dims[d] < 0;
        if (!symbolic) continue;
        binds[nb].name = v->name;
        binds[nb].rank = v->rank;
        for (int d = 0; d < v->rank; d++)
            binds[nb].dims[d] = v->dims[d] < 0 ? 1 : v->dims[d];
        binds[nb].data = NULL;
        nb++;
    }
    onyx_error err = {0};
    return onyx_program_new(m, binds, nb, &err);
}

#endif
