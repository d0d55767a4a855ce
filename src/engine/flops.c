/* flops.c - floating-point operations per node, for `onyx info` and the
 * benchmark's GFLOP/s. A multiply-add counts as 2. Ops without a formula
 * here count one operation per output element. */
#include "engine.h"

#include <string.h>

static int64_t attr_i(const onyx_attr *a, int n, const char *name, int64_t d)
{
    for (int i = 0; i < n; i++)
        if (strcmp(a[i].name, name) == 0 && a[i].type == ONYX_ATTR_INT)
            return a[i].i;
    return d;
}

int64_t onyx_node_flops(const char *op, const onyx_tensor *const *in, int n_in,
                        const onyx_tensor *const *out, int n_out,
                        const onyx_attr *attrs, int n_attrs)
{
    const onyx_tensor *y = n_out > 0 ? out[0] : NULL;
    int64_t ny = y ? onyx_numel(y) : 0;
    if (!strcmp(op, "MatMul") && n_in >= 2 && in[0] && in[0]->rank >= 1) {
        /* Y (..., M, N) = A (..., M, K) @ B (..., K, N) */
        return 2 * ny * in[0]->dims[in[0]->rank - 1];
    }
    if (!strcmp(op, "Gemm") && n_in >= 2 && in[0] && in[0]->rank == 2) {
        int64_t k = attr_i(attrs, n_attrs, "transA", 0) ? in[0]->dims[0]
                                                        : in[0]->dims[1];
        return 2 * ny * k;
    }
    if (!strcmp(op, "Conv") && n_in >= 2 && in[1] && in[1]->rank >= 2) {
        /* each output element: C/group * prod(kernel) multiply-adds */
        int64_t per = 1;
        for (int i = 1; i < in[1]->rank; i++)
            per *= in[1]->dims[i];
        return 2 * ny * per;
    }
    if (!strcmp(op, "ConvTranspose") && n_in >= 2 && in[0] && in[1] &&
        in[1]->rank >= 2) {
        /* each input element scatters into (M/group) * prod(kernel) outputs */
        int64_t per = 1;
        for (int i = 1; i < in[1]->rank; i++)
            per *= in[1]->dims[i];
        return 2 * onyx_numel(in[0]) * per;
    }
    if ((!strcmp(op, "RNN") || !strcmp(op, "GRU") || !strcmp(op, "LSTM")) &&
        n_in >= 3 && in[0] && in[1] && in[2] && in[0]->rank == 3 &&
        in[1]->rank == 3) {
        /* per step and direction: gates (G*H) x (input + hidden) MACs */
        int64_t steps = in[0]->dims[0] * in[0]->dims[1]; /* T*B either layout */
        int64_t dirs = in[1]->dims[0], gh = in[1]->dims[1];
        int64_t isz = in[1]->dims[2], h = in[2]->dims[2];
        return 2 * steps * dirs * gh * (isz + h);
    }
    return ny;
}
