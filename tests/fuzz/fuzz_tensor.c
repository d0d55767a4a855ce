/* fuzz_tensor.c - libFuzzer harness: the command's tensor file readers.
 * The first byte picks the format (even: .npy, odd: .pb); the rest is the
 * file's content. */
#include "cli.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const char *label = data[0] & 1 ? "fuzz.pb" : "fuzz.npy";
    cli_tensor t;
    char msg[600];
    if (cli_parse_tensor(label, data + 1, size - 1, &t, msg, sizeof msg) == 0) {
        char sh[256];
        (void)cli_shape(&t.t, sh, sizeof sh);
        fuzz_touch(t.t.data,
                   (size_t)onyx_numel(&t.t) * onyx_dtype_size(t.t.dtype));
    }
    cli_tensor_free(&t);
    return 0;
}
