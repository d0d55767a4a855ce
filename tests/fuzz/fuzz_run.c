/* fuzz_run.c - libFuzzer harness: the bytes as an ONNX model, loaded,
 * resolved, and run once on zero-filled inputs. Programs above a small
 * FLOP or arena budget are not run, so that each input stays fast. */
#include "fuzz.h"

#include <string.h>

#define FUZZ_MAX_FLOPS ((int64_t)20 * 1000 * 1000)
#define FUZZ_MAX_ARENA ((size_t)16 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    onyx_model *m = fuzz_load(data, size);
    if (!m) return 0;
    onyx_program *p = fuzz_program(m);
    onyx_instance *x = NULL;
    if (!p || onyx_program_flops(p) > FUZZ_MAX_FLOPS ||
        onyx_program_arena_bytes(p) > FUZZ_MAX_ARENA)
        goto out;
    onyx_error err = {0};
    x = onyx_instance_new(p, &err);
    if (!x) goto out;
    for (int i = 0; i < onyx_program_num_inputs(p); i++) {
        onyx_tensor *t = onyx_instance_input(x, i);
        memset(t->data, 0, (size_t)onyx_numel(t) * onyx_dtype_size(t->dtype));
    }
    const char *why = NULL;
    int node = -1;
    onyx_status st = onyx_instance_run(x, &why, &node);
    if (st != ONYX_OK) onyx_run_error(p, st, why, node, &err);
    /* read every output, so that a wrong shape or pointer shows */
    for (int i = 0; i < onyx_program_num_outputs(p) && st == ONYX_OK; i++) {
        const onyx_tensor *t = onyx_instance_output(x, i);
        fuzz_touch(t->data, (size_t)onyx_numel(t) * onyx_dtype_size(t->dtype));
    }
out:
    onyx_instance_free(x);
    onyx_program_free(p);
    onyx_model_free(m);
    return 0;
}
