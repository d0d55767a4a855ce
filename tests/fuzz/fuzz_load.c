/* fuzz_load.c - libFuzzer harness: the bytes as an ONNX model through load,
 * resolve (shape inference, constant folding, fusion) and plan. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    onyx_model *m = fuzz_load(data, size);
    if (!m) return 0;
    /* the queries `onyx info` makes */
    for (int i = 0; i < onyx_model_num_nodes(m); i++)
        (void)onyx_model_node_op(m, i);
    int64_t count, bytes;
    onyx_model_params(m, &count, &bytes);
    (void)onyx_model_meta(m, "author");
    onyx_program *p = fuzz_program(m);
    if (p) {
        (void)onyx_program_arena_bytes(p);
        (void)onyx_program_flops(p);
        onyx_program_free(p);
    }
    onyx_model_free(m);
    return 0;
}
