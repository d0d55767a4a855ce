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

/* Reads a .npy (float32, int64, bool; float64 and int32 are converted to
 * float32 and int64) or a .pb (serialized TensorProto) file, by extension.
 * On error returns non-zero with a message in msg. */
int cli_read_tensor(const char *path, cli_tensor *out, char *msg, size_t cap);
/* The same on bytes in memory; label names them in messages and its
 * extension (.npy or .pb) gives the format. buf is only read. */
int cli_parse_tensor(const char *label, const unsigned char *buf, size_t len,
                     cli_tensor *out, char *msg, size_t cap);
int cli_write_npy(const char *path, const onyx_tensor *t, char *msg,
                  size_t cap);
void cli_tensor_free(cli_tensor *t);

/* "[1,2,3]" */
const char *cli_shape(const onyx_tensor *t, char *buf, size_t cap);

#endif
