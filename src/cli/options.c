/* options.c - the command's shared option layer (see options.h). */
#include "options.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int cli_usage(const char *usage, const char *fmt, const char *arg)
{
    fprintf(stderr, "onyx: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n\n%s", usage);
    return CLI_EXIT_USAGE;
}

int cli_bad_value(const char *usage, const char *opt, const char *val,
                  const char *want)
{
    fprintf(stderr, "onyx: %s %s: want %s\n\n%s", opt, val, want, usage);
    return CLI_EXIT_USAGE;
}

const char *cli_opt_value(int argc, char **argv, int *i, const char *needs,
                          const char *usage)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "onyx: %s needs %s\n\n%s", argv[*i], needs, usage);
        return NULL;
    }
    return argv[++*i];
}

int cli_parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi) return 1;
    *out = v;
    return 0;
}

int cli_parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !(v >= lo && v <= hi)) return 1;
    *out = v;
    return 0;
}

/* Parses NAME=D1,D2,... into b; the name is copied into name (cap bytes).
 * NAME= alone is a scalar. Returns 0 when well formed. */
static int parse_shape(const char *s, onyx_bind *b, char *name, size_t cap)
{
    const char *eq = strrchr(s, '=');
    if (!eq || eq == s || (size_t)(eq - s) >= cap) return 1;
    memcpy(name, s, (size_t)(eq - s));
    name[eq - s] = 0;
    b->name = name;
    b->rank = 0;
    b->data = NULL;
    const char *p = eq + 1;
    if (!*p) return 0;
    for (;;) {
        if (b->rank >= ONYX_MAX_RANK) return 1;
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (end == p || errno || v < 0 || v > ((int64_t)1 << 40)) return 1;
        b->dims[b->rank++] = v;
        if (!*end) return 0;
        if (*end != ',') return 1;
        p = end + 1;
    }
}

int cli_shape_opt(cli_shapes *s, const char *opt, const char *val,
                  const char *usage)
{
    if (s->n >= CLI_MAX_BINDS)
        return cli_usage(usage, "too many %s options", opt);
    if (parse_shape(val, &s->b[s->n], s->names[s->n], sizeof s->names[0]))
        return cli_bad_value(usage, opt, val,
                             "NAME=D1,D2,... (whole numbers >= 0)");
    s->n++;
    return 0;
}

const onyx_bind *cli_shape_of(const cli_shapes *s, const char *name)
{
    const onyx_bind *b = NULL;
    for (int k = 0; k < s->n; k++)
        if (!strcmp(s->b[k].name, name)) b = &s->b[k];
    return b;
}

/* Parses NAME=v1,v2,... into a; returns 0 when well formed. */
static int parse_set(const char *s, cli_set *a)
{
    const char *eq = strchr(s, '=');
    if (!eq || eq == s) return 1;
    a->name = s;
    a->name_len = (size_t)(eq - s);
    a->n = 0;
    const char *p = eq + 1;
    while (*p) {
        if (a->n >= (int)(sizeof a->v / sizeof a->v[0])) return 1;
        char *end;
        errno = 0;
        float v = strtof(p, &end);
        if (end == p || errno) return 1;
        a->v[a->n++] = v;
        if (*end == 0) break;
        if (*end != ',' || !end[1]) return 1;
        p = end + 1;
    }
    return a->n == 0; /* NAME= with no value */
}

int cli_set_opt(cli_sets *s, const char *opt, const char *val,
                const char *usage)
{
    if (s->n >= CLI_MAX_BINDS)
        return cli_usage(usage, "too many %s options", opt);
    if (parse_set(val, &s->v[s->n++]))
        return cli_bad_value(usage, opt, val, "NAME=v1,v2,... (numbers)");
    return 0;
}

int cli_set_names(const cli_set *a, const char *name)
{
    return strlen(name) == a->name_len && !strncmp(name, a->name, a->name_len);
}

onyx_model *cli_load_model(const char *path)
{
    onyx_error err = {0};
    onyx_model *m = onyx_model_load(path, &err);
    if (!m) fprintf(stderr, "onyx: %s\n", err.msg);
    return m;
}

int cli_bind_defaults(const onyx_model *m, onyx_bind *binds, int *nb)
{
    int any = 0;
    for (int i = 0; i < onyx_model_num_inputs(m) && *nb < CLI_MAX_BINDS; i++) {
        const onyx_value_info *v = onyx_model_input(m, i);
        int bound = 0, symbolic = 0;
        for (int k = 0; k < *nb; k++)
            bound |= !strcmp(binds[k].name, v->name);
        for (int d = 0; d < v->rank; d++)
            symbolic |= v->dims[d] < 0;
        if (bound || !symbolic) continue;
        onyx_bind *b = &binds[(*nb)++];
        b->name = v->name;
        b->rank = v->rank;
        b->data = NULL;
        for (int d = 0; d < v->rank; d++)
            b->dims[d] = v->dims[d] < 0 ? 1 : v->dims[d];
        any = 1;
    }
    return any;
}

int cli_program(const onyx_model *m, const onyx_bind *binds, int nb,
                onyx_program **p, onyx_instance **x)
{
    onyx_error err = {0};
    *x = NULL;
    *p = onyx_program_new(m, binds, nb, &err);
    if (*p) *x = onyx_instance_new(*p, &err);
    if (*x) return 0;
    fprintf(stderr, "onyx: %s\n", err.msg);
    return 1;
}
