/* tensor_io.c - .npy and .pb tensor files for the onyx command. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#define IOFAIL(...)                                                            \
    do {                                                                       \
        snprintf(msg, cap, __VA_ARGS__);                                       \
        goto fail;                                                             \
    } while (0)

#define NPY_HEADER_CAP 4096

const char *cli_shape(const onyx_tensor *t, char *buf, size_t cap)
{
    return onyx_shape_str(t, buf, cap);
}

static unsigned char *read_file(const char *path, size_t *len, char *msg,
                                size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(msg, cap, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t n = 0, c = 65536;
    unsigned char *buf = malloc(c);
    while (buf) {
        size_t got = fread(buf + n, 1, c - n, f);
        n += got;
        if (n < c) break;
        if (c > SIZE_MAX / 4) { /* more than any input could be */
            free(buf);
            buf = NULL;
            break;
        }
        unsigned char *nb = realloc(buf, c * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        c *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        snprintf(msg, cap, "%s: cannot read", path);
        return NULL;
    }
    *len = n;
    return buf;
}

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

/* Finds 'key': in the npy header dict and returns a pointer after the colon. */
static const char *npy_key(const char *h, const char *key)
{
    const char *p = strstr(h, key);
    if (!p) return NULL;
    p += strlen(key);
    while (*p == ' ' || *p == '\'' || *p == '"')
        p++;
    if (*p != ':') return NULL;
    p++;
    while (*p == ' ')
        p++;
    return p;
}

/* The header dict of a .npy file, NUL-terminated into header (cap 4096);
 * *off gets where the data begins. */
static int npy_header(const char *path, const unsigned char *buf, size_t len,
                      char *header, size_t *off, char *msg, size_t cap)
{
    if (len < 10 || memcmp(buf, "\x93NUMPY", 6) != 0)
        IOFAIL("%s: not a .npy file", path);
    int major = buf[6];
    size_t hlen;
    if (major == 1) {
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8;
        *off = 10;
    } else if (major == 2 || major == 3) {
        if (len < 12) IOFAIL("%s: truncated .npy header", path);
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 |
               (size_t)buf[11] << 24;
        *off = 12;
    } else {
        IOFAIL("%s: .npy version %d is not supported", path, major);
    }
    if (hlen >= NPY_HEADER_CAP || *off + hlen > len)
        IOFAIL("%s: bad .npy header length", path);
    memcpy(header, buf + *off, hlen);
    header[hlen] = 0;
    *off += hlen;
    return 0;
fail:
    return 1;
}

/* The .npy element types onyx reads, and what they become. */
static const struct npy_type {
    const char *descr;
    onyx_dtype dt;
    int src_size;
    int convert; /* 1: f8 -> f4, 2: i4 -> i8 */
} npy_types[] = {
    {"<f4", ONYX_FLOAT, 4, 0}, {"<i8", ONYX_INT64, 8, 0},
    {"|b1", ONYX_BOOL, 1, 0},  {"|i1", ONYX_INT8, 1, 0}, /* quantized data */
    {"|u1", ONYX_UINT8, 1, 0}, {"<f2", ONYX_FLOAT16, 2, 0},
    {"<f8", ONYX_FLOAT, 8, 1}, {"<i4", ONYX_INT64, 4, 2},
};

/* The descr value d (after its key) as one of npy_types. */
static const struct npy_type *npy_dtype(const char *path, const char *d,
                                        char *msg, size_t cap)
{
    char descr[16] = {0};
    if (*d != '\'' && *d != '"') IOFAIL("%s: bad descr in .npy header", path);
    d++;
    for (int i = 0; i < 15 && d[i] && d[i] != '\'' && d[i] != '"'; i++)
        descr[i] = d[i];
    for (size_t k = 0; k < sizeof npy_types / sizeof npy_types[0]; k++)
        if (!strcmp(descr, npy_types[k].descr)) return &npy_types[k];
    IOFAIL("%s: .npy dtype '%s' is not supported (float32, float16, "
           "int64, bool, int8, uint8; float64 and int32 are converted)",
           path, descr);
fail:
    return NULL;
}

/* The shape value sh (after its key) into t's rank and dims; *n gets the
 * element count. */
static int npy_shape(const char *path, const char *sh, onyx_tensor *t,
                     int64_t *n, char *msg, size_t cap)
{
    if (*sh != '(') IOFAIL("%s: bad shape in .npy header", path);
    sh++;
    *n = 1;
    while (1) {
        while (*sh == ' ' || *sh == ',')
            sh++;
        if (*sh == ')') break;
        if (*sh < '0' || *sh > '9')
            IOFAIL("%s: bad shape in .npy header", path);
        if (t->rank >= ONYX_MAX_RANK)
            IOFAIL("%s: rank above %d", path, ONYX_MAX_RANK);
        char *end;
        long long v = strtoll(sh, &end, 10);
        if (v < 0 || v > ((int64_t)1 << 40))
            IOFAIL("%s: bad dimension in .npy header", path);
        t->dims[t->rank++] = v;
        if (v && *n > ((int64_t)1 << 40) / v)
            IOFAIL("%s: array too large", path);
        *n *= v;
        sh = end;
    }
    return 0;
fail:
    return 1;
}

/* n elements from src into t's data (allocated here), converted as ty
 * says. */
static int npy_data(const char *path, const unsigned char *src, int64_t n,
                    const struct npy_type *ty, onyx_tensor *t, char *msg,
                    size_t cap)
{
    size_t es = onyx_dtype_size(ty->dt);
    t->data = malloc((size_t)n * es + 1);
    if (!t->data) IOFAIL("%s: out of memory", path);
    if (ty->convert == 1) {
        for (int64_t k = 0; k < n; k++) {
            double v;
            memcpy(&v, src + 8 * k, 8);
            ((float *)t->data)[k] = (float)v;
        }
    } else if (ty->convert == 2) {
        for (int64_t k = 0; k < n; k++) {
            int32_t v;
            memcpy(&v, src + 4 * k, 4);
            ((int64_t *)t->data)[k] = v;
        }
    } else {
        memcpy(t->data, src, (size_t)n * es);
        if (ty->dt == ONYX_BOOL)
            for (int64_t k = 0; k < n; k++)
                ((uint8_t *)t->data)[k] = ((uint8_t *)t->data)[k] != 0;
    }
    return 0;
fail:
    return 1;
}

static int read_npy(const char *path, const unsigned char *buf, size_t len,
                    cli_tensor *out, char *msg, size_t cap)
{
    char header[NPY_HEADER_CAP];
    size_t off;
    if (npy_header(path, buf, len, header, &off, msg, cap)) return 1;
    const char *d = npy_key(header, "descr");
    const char *fo = npy_key(header, "fortran_order");
    const char *sh = npy_key(header, "shape");
    if (!d || !fo || !sh)
        IOFAIL("%s: .npy header lacks descr, fortran_order or shape", path);
    if (strncmp(fo, "False", 5) != 0)
        IOFAIL("%s: Fortran-order arrays are not supported", path);
    const struct npy_type *ty = npy_dtype(path, d, msg, cap);
    if (!ty) return 1;
    onyx_tensor *t = &out->t;
    memset(t, 0, sizeof *t);
    t->dtype = ty->dt;
    int64_t n;
    if (npy_shape(path, sh, t, &n, msg, cap)) return 1;
    if ((uint64_t)n * (uint64_t)ty->src_size > len - off)
        IOFAIL("%s: .npy data is truncated (%lld elements declared)", path,
               (long long)n);
    return npy_data(path, buf + off, n, ty, t, msg, cap);
fail:
    return 1;
}

static int read_pb(const char *path, const unsigned char *buf, size_t len,
                   cli_tensor *out, char *msg, size_t cap)
{
    onyx_error err;
    if (onyx_tensor_parse(buf, len, &out->t, out->name, sizeof out->name,
                          &err) != ONYX_OK) {
        snprintf(msg, cap, "%s: %s", path, err.msg);
        return 1;
    }
    return 0;
}

int cli_parse_tensor(const char *label, const unsigned char *buf, size_t len,
                     cli_tensor *out, char *msg, size_t cap)
{
    memset(out, 0, sizeof *out);
    if (ends_with(label, ".npy"))
        return read_npy(label, buf, len, out, msg, cap);
    if (ends_with(label, ".pb")) return read_pb(label, buf, len, out, msg, cap);
    snprintf(msg, cap, "%s: unknown tensor file type (use .npy or .pb)", label);
    return 1;
}

int cli_read_tensor(const char *path, cli_tensor *out, char *msg, size_t cap)
{
    memset(out, 0, sizeof *out);
    size_t len = 0;
    unsigned char *buf = read_file(path, &len, msg, cap);
    if (!buf) return 1;
    int rc = cli_parse_tensor(path, buf, len, out, msg, cap);
    free(buf);
    return rc;
}

int cli_tensor_as(cli_tensor *t, onyx_dtype want)
{
    onyx_dtype have = t->t.dtype;
    int64_t n = onyx_numel(&t->t);
    if (have == want) return 0;
    if (have == ONYX_UINT16 &&
        (want == ONYX_BFLOAT16 || want == ONYX_FLOAT16)) {
        t->t.dtype = want; /* the same bits */
        return 0;
    }
    if (have == ONYX_FLOAT && (want == ONYX_FLOAT16 || want == ONYX_BFLOAT16)) {
        const float *x = t->t.data;
        uint16_t *y =
            t->t.data; /* in place: element k is read before written */
        for (int64_t k = 0; k < n; k++)
            y[k] = want == ONYX_FLOAT16 ? onyx_f32_to_f16(x[k])
                                        : onyx_f32_to_bf16(x[k]);
        t->t.dtype = want;
        return 0;
    }
    return 1;
}

/* bfloat16 written as float32: a widened copy (NULL when out of memory) */
static float *bf16_widened(const onyx_tensor *t)
{
    int64_t n = onyx_numel(t);
    float *w = malloc((size_t)n * sizeof *w + 1);
    if (w)
        for (int64_t k = 0; k < n; k++)
            w[k] = onyx_bf16_to_f32(((const uint16_t *)t->data)[k]);
    return w;
}

int cli_write_npy(const char *path, const onyx_tensor *t, char *msg, size_t cap)
{
    const char *descr;
    const void *data = t->data;
    size_t es = onyx_dtype_size(t->dtype);
    float *widened = NULL;
    switch (t->dtype) {
    case ONYX_FLOAT16: descr = "<f2"; break;
    case ONYX_BFLOAT16:
        descr = "<f4";
        widened = bf16_widened(t);
        if (!widened) {
            snprintf(msg, cap, "%s: out of memory", path);
            return 1;
        }
        data = widened;
        es = sizeof(float);
        break;
    case ONYX_FLOAT: descr = "<f4"; break;
    case ONYX_INT64: descr = "<i8"; break;
    case ONYX_BOOL: descr = "|b1"; break;
    case ONYX_INT32: descr = "<i4"; break;
    case ONYX_DOUBLE: descr = "<f8"; break;
    case ONYX_INT8: descr = "|i1"; break;
    case ONYX_UINT8: descr = "|u1"; break;
    default:
        snprintf(msg, cap, "%s: cannot write dtype %s as .npy", path,
                 onyx_dtype_name(t->dtype));
        return 1;
    }
    char shape[256] = "(";
    size_t sl = 1;
    for (int i = 0; i < t->rank; i++)
        sl +=
            (size_t)snprintf(shape + sl, sizeof shape - sl, "%lld,%s",
                             (long long)t->dims[i], i + 1 < t->rank ? " " : "");
    snprintf(shape + sl, sizeof shape - sl, ")");
    char header[512];
    int hl = snprintf(header, sizeof header,
                      "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                      descr, shape);
    int total = 10 + hl + 1;
    int pad = (64 - total % 64) % 64;
    FILE *f = fopen(path, "wb");
    if (!f) {
        snprintf(msg, cap, "%s: cannot write: %s", path, strerror(errno));
        free(widened);
        return 1;
    }
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0};
    int hlen = hl + pad + 1;
    pre[8] = (unsigned char)(hlen & 0xff);
    pre[9] = (unsigned char)(hlen >> 8);
    fwrite(pre, 1, 10, f);
    fwrite(header, 1, (size_t)hl, f);
    for (int i = 0; i < pad; i++)
        fputc(' ', f);
    fputc('\n', f);
    size_t by = (size_t)onyx_numel(t) * es;
    if (by) fwrite(data, 1, by, f);
    free(widened);
    if (fclose(f) != 0) {
        snprintf(msg, cap, "%s: write failed", path);
        return 1;
    }
    return 0;
}

void cli_tensor_free(cli_tensor *t)
{
    free(t->t.data);
    t->t.data = NULL;
}
