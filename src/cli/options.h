/* options.h - the command's shared option layer: values of options parsed
 * with errors that name the option, --shape and --set lists, and a model
 * loaded with its inputs bound. Every error is printed here as
 * "onyx: ..." and, for a usage error, followed by the command's usage text;
 * the callers return the exit status these functions give (2 for usage). */
#ifndef ONYX_CLI_OPTIONS_H
#define ONYX_CLI_OPTIONS_H

#include "cli.h"

#define CLI_EXIT_USAGE 2
#define CLI_MAX_BINDS  64

/* "onyx: " fmt (with arg) "\n\n" usage on stderr; returns CLI_EXIT_USAGE. */
int cli_usage(const char *usage, const char *fmt, const char *arg);
/* "onyx: OPT VALUE: want WANT" and the usage; returns CLI_EXIT_USAGE. */
int cli_bad_value(const char *usage, const char *opt, const char *val,
                  const char *want);

/* The value after the option argv[*i] (advancing *i), or NULL after
 * printing "OPT needs NEEDS" and the usage. */
const char *cli_opt_value(int argc, char **argv, int *i, const char *needs,
                          const char *usage);

/* Whole numbers and numbers in [lo, hi]; 0 when s is one. */
int cli_parse_long(const char *s, long lo, long hi, long *out);
int cli_parse_double(const char *s, double lo, double hi, double *out);

/* The --shape options given: binds naming the inputs they bind. */
typedef struct cli_shapes {
    onyx_bind b[CLI_MAX_BINDS];
    char names[CLI_MAX_BINDS][512];
    int n;
} cli_shapes;
/* Appends --shape VAL (opt is the option as given); 0, or the usage
 * error's exit status. */
int cli_shape_opt(cli_shapes *s, const char *opt, const char *val,
                  const char *usage);
/* The --shape that names input name, or NULL. */
const onyx_bind *cli_shape_of(const cli_shapes *s, const char *name);

/* --set NAME=v1,v2,...: an input's values (process: a control; bench: any
 * input, a sample rate say) */
typedef struct cli_set {
    const char *name; /* points into the parsed string */
    size_t name_len;
    float v[1024];
    int n;
} cli_set;

/* The --set options given. */
typedef struct cli_sets {
    cli_set v[CLI_MAX_BINDS];
    int n;
} cli_sets;
/* Appends --set VAL; 0, or the usage error's exit status. */
int cli_set_opt(cli_sets *s, const char *opt, const char *val,
                const char *usage);
/* Whether a --set names name. */
int cli_set_names(const cli_set *a, const char *name);

/* Loads path; NULL after printing the loader's error. */
onyx_model *cli_load_model(const char *path);
/* Binds every input of m that no bind in binds[0..*nb) names and that has
 * symbolic dims, those dims set to 1 (names borrowed from m). Returns 1
 * when it bound any. */
int cli_bind_defaults(const onyx_model *m, onyx_bind *binds, int *nb);
/* A program for m with binds, and an instance of it; 1 after printing the
 * error (then *p and *x are NULL or to be freed by the caller). */
int cli_program(const onyx_model *m, const onyx_bind *binds, int nb,
                onyx_program **p, onyx_instance **x);

#endif
