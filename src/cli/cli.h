/* cli.h - shared pieces of the onyx command: tensors read from and written
 * to .npy / .pb files. */
#ifndef ONYX_CLI_H
#define ONYX_CLI_H

#include "../engine/onyx.h"

#include <stdio.h>

/* A tensor the command owns (data malloc'd). */
typedef struct cli_tensor {
    onyx_tensor t;
    char name[256]; /* from a .pb file's name field, or "" */
} cli_tensor;

/* Reads a .npy (float32, float16, int64, bool; float64 and int32 are
 * converted to float32 and int64) or a .pb (serialized TensorProto) file, by
 * extension. On error returns non-zero with a message in msg. */
int cli_read_tensor(const char *path, cli_tensor *out, char *msg, size_t cap);
/* The same on bytes in memory; label names them in messages and its
 * extension (.npy or .pb) gives the format. buf is only read. */
int cli_parse_tensor(const char *label, const unsigned char *buf, size_t len,
                     cli_tensor *out, char *msg, size_t cap);
/* Writes t as .npy; float16 as '<f2', bfloat16 (which numpy lacks) widened
 * to float32. */
int cli_write_npy(const char *path, const onyx_tensor *t, char *msg,
                  size_t cap);
/* Makes t hold dtype `want` where that is lossless or what the file meant:
 * uint16 bits become bfloat16 or float16 (ONNX's test data before 1.14
 * stores bfloat16 tensors as uint16), float32 is rounded to float16 or
 * bfloat16 (a float32 .npy for a half-precision model). Returns 1, changing
 * nothing, when it cannot. */
int cli_tensor_as(cli_tensor *t, onyx_dtype want);
void cli_tensor_free(cli_tensor *t);

/* "[1,2,3]" */
const char *cli_shape(const onyx_tensor *t, char *buf, size_t cap);

#endif
