/* flops.c - floating-point operations per node, for `onyx info` and the
 * benchmark's GFLOP/s. A multiply-add counts as 2; a pool counts one
 * operation per window element. Ops without a formula here count one
 * operation per output element. Counts saturate at INT64_MAX (a model can
 * ask for more than int64 holds). */
#include "engine.h"

#include <string.h>

/* a * b for counts >= 0, saturating */
static int64_t mul_sat(int64_t a, int64_t b)
{
    if (a <= 0 || b <= 0) return 0;
    return a > INT64_MAX / b ? INT64_MAX : a * b;
}

int64_t onyx_flops_add(int64_t a, int64_t b)
{
    return a > INT64_MAX - b ? INT64_MAX : a + b;
}

static int64_t attr_i(const onyx_attr *a, int n, const char *name, int64_t d)
{
    for (int i = 0; i < n; i++)
        if (strcmp(a[i].name, name) == 0 && a[i].type == ONYX_ATTR_INT)
            return a[i].i;
    return d;
}

/* Einsum: every output element folds the product of the inputs over the
 * contracted labels (letters not in the output), n_in operations per term
 * (n_in - 1 multiplies and an add). */
static int64_t einsum_flops(const onyx_tensor *const *in, int n_in, int64_t ny,
                            const onyx_attr *attrs, int n_attrs)
{
    const char *eq = NULL;
    for (int i = 0; i < n_attrs; i++)
        if (!strcmp(attrs[i].name, "equation") &&
            attrs[i].type == ONYX_ATTR_STRING)
            eq = attrs[i].s;
    if (!eq) return ny;
    const char *arrow = strstr(eq, "->");
    int uses[128] = {0}, in_out[128] = {0};
    int64_t size[128];
    for (int i = 0; i < 128; i++)
        size[i] = 1;
    const char *c = eq;
    for (int t = 0; t < n_in && in[t] && *c && c != arrow; t++) {
        /* one term: letters before "..." count from the left, after it from
         * the right */
        const char *end = c;
        while (*end && *end != ',' && end != arrow)
            end++;
        const char *ell = strstr(c, "...");
        if (ell && ell >= end) ell = NULL;
        int after = 0;
        for (const char *q = ell ? ell + 3 : end; q < end; q++)
            after += *q != ' ';
        int k = 0;
        for (const char *q = c; q < end; q++) {
            unsigned char ch = (unsigned char)*q;
            if (ell && q == ell) {
                k = in[t]->rank - after;
                q += 2;
                continue;
            }
            if (ch >= 128 || ch == ' ' || ch == '.') continue;
            if (!uses[ch] && k >= 0 && k < in[t]->rank)
                size[ch] = in[t]->dims[k];
            uses[ch]++;
            k++;
        }
        c = *end == ',' ? end + 1 : end;
    }
    for (int ch = 0; ch < 128; ch++)
        in_out[ch] = arrow ? strchr(arrow + 2, ch) != NULL : uses[ch] == 1;
    int64_t per = 1;
    for (int ch = 'A'; ch <= 'z'; ch++)
        if (uses[ch] && !in_out[ch]) per = mul_sat(per, size[ch]);
    return mul_sat(mul_sat(ny, per), n_in);
}

int64_t onyx_node_flops(const char *op, const onyx_tensor *const *in, int n_in,
                        const onyx_tensor *const *out, int n_out,
                        const onyx_attr *attrs, int n_attrs)
{
    const onyx_tensor *y = n_out > 0 ? out[0] : NULL;
    int64_t ny = y ? onyx_numel(y) : 0;
    if ((!strcmp(op, "MatMul") || !strcmp(op, "MatMulInteger") ||
         !strcmp(op, "QLinearMatMul")) &&
        n_in >= 2 && in[0] && in[0]->rank >= 1) {
        /* Y (..., M, N) = A (..., M, K) @ B (..., K, N); integer
         * multiply-adds count as 2 as well */
        return mul_sat(2 * ny, in[0]->dims[in[0]->rank - 1]);
    }
    if (!strcmp(op, "Gemm") && n_in >= 2 && in[0] && in[0]->rank == 2) {
        int64_t k = attr_i(attrs, n_attrs, "transA", 0) ? in[0]->dims[0]
                                                        : in[0]->dims[1];
        return mul_sat(2 * ny, k);
    }
    const int qconv = !strcmp(op, "QLinearConv"); /* W is input 3 */
    if ((!strcmp(op, "Conv") || !strcmp(op, "ConvInteger") || qconv) &&
        n_in >= 2 + 2 * qconv && in[1 + 2 * qconv] &&
        in[1 + 2 * qconv]->rank >= 2) {
        /* each output element: C/group * prod(kernel) multiply-adds */
        const onyx_tensor *w = in[1 + 2 * qconv];
        int64_t per = 1;
        for (int i = 1; i < w->rank; i++)
            per = mul_sat(per, w->dims[i]);
        return mul_sat(2 * ny, per);
    }
    if (!strcmp(op, "ConvTranspose") && n_in >= 2 && in[0] && in[1] &&
        in[1]->rank >= 2) {
        /* each input element scatters into (M/group) * prod(kernel) outputs */
        int64_t per = 1;
        for (int i = 1; i < in[1]->rank; i++)
            per = mul_sat(per, in[1]->dims[i]);
        return mul_sat(2 * onyx_numel(in[0]), per);
    }
    if ((!strcmp(op, "RNN") || !strcmp(op, "GRU") || !strcmp(op, "LSTM")) &&
        n_in >= 3 && in[0] && in[1] && in[2] && in[0]->rank == 3 &&
        in[1]->rank == 3) {
        /* per step and direction: gates (G*H) x (input + hidden) MACs */
        int64_t steps = in[0]->dims[0] * in[0]->dims[1]; /* T*B either layout */
        int64_t dirs = in[1]->dims[0], gh = in[1]->dims[1];
        int64_t isz = in[1]->dims[2], h = in[2]->dims[2];
        return mul_sat(mul_sat(2 * steps, dirs * gh), isz + h);
    }
    if (!strcmp(op, "MaxPool") || !strcmp(op, "AveragePool") ||
        !strcmp(op, "LpPool")) {
        /* each output element reads its window, prod(kernel_shape) */
        int64_t per = 1;
        for (int i = 0; i < n_attrs; i++)
            if (!strcmp(attrs[i].name, "kernel_shape") &&
                attrs[i].type == ONYX_ATTR_INTS)
                for (int64_t k = 0; k < attrs[i].n; k++)
                    per = mul_sat(per, attrs[i].ints[k]);
        return mul_sat(ny, per);
    }
    if (!strcmp(op, "Einsum"))
        return einsum_flops(in, n_in, ny, attrs, n_attrs);
    if (!strncmp(op, "Global", 6) && n_in >= 1 && in[0])
        return onyx_numel(in[0]); /* GlobalMaxPool...: every input once */
    return ny;
}
