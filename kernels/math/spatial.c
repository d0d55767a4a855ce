/* spatial.c - the part of Conv's and ConvTranspose's prepare they share:
 * checking X, W and B and reading the per-axis attributes into a conv_geom
 * (spatial.h). Each op keeps its own rule for output sizes and padding. */
#include "spatial.h"

enum { GEOM_X = 0, GEOM_W = 1, GEOM_B = 2 };

onyx_status conv_geom_begin(onyx_prep *p, int transposed, conv_geom *g)
{
    memset(g, 0, sizeof *g);
    g->transposed = transposed;
    ONYX_TRY(onyx_need_dtype(p, GEOM_X, ONYX_MASK(ONYX_FLOAT)));
    ONYX_TRY(onyx_need_dtype(p, GEOM_W, ONYX_MASK(ONYX_FLOAT)));
    return conv_geom_init(p, transposed, p->in[GEOM_X], p->in[GEOM_W], g);
}

onyx_status conv_geom_init(onyx_prep *p, int transposed, const onyx_tensor *X,
                           const onyx_tensor *W, conv_geom *g)
{
    memset(g, 0, sizeof *g);
    g->transposed = transposed;
    char sx[96], sw[96];
    ONYX_CHECK(p, X->rank >= 3 && X->rank <= 5,
               "X %s must have rank 3, 4 or 5 (N, C, 1 to 3 spatial dims)",
               onyx_shape_str(X, sx, sizeof sx));
    ONYX_CHECK(p, W->rank == X->rank, "W %s must have the rank of X %s",
               onyx_shape_str(W, sw, sizeof sw),
               onyx_shape_str(X, sx, sizeof sx));
    int nsp = X->rank - 2;
    int64_t G = onyx_attr_int(p, "group", 1);
    ONYX_CHECK(p, G >= 1, "group = %lld must be >= 1", (long long)G);
    int64_t C = X->dims[1], M;
    if (!transposed) { /* W (M, C/G, k...) */
        ONYX_CHECK(
            p, C % G == 0 && W->dims[1] * G == C,
            "X %s with group %lld does not match W %s (W[1] must be C/group)",
            onyx_shape_str(X, sx, sizeof sx), (long long)G,
            onyx_shape_str(W, sw, sizeof sw));
        M = W->dims[0];
        ONYX_CHECK(p, M % G == 0, "W[0] = %lld is not divisible by group %lld",
                   (long long)M, (long long)G);
    } else { /* W (C, M/G, k...) */
        ONYX_CHECK(p, W->dims[0] == C && C % G == 0,
                   "W %s must have X's %lld channels first, divisible by "
                   "group %lld",
                   onyx_shape_str(W, sw, sizeof sw), (long long)C,
                   (long long)G);
        M = W->dims[1] * G;
    }

    const int64_t *kv;
    int64_t nk = onyx_attr_ints(p, "kernel_shape", &kv);
    if (nk >= 0) {
        ONYX_CHECK(p, nk == nsp, "kernel_shape has %lld entries, expected %d",
                   (long long)nk, nsp);
        for (int i = 0; i < nsp; i++)
            ONYX_CHECK(p, kv[i] == W->dims[2 + i],
                       "kernel_shape[%d] = %lld does not match W %s", i,
                       (long long)kv[i], onyx_shape_str(W, sw, sizeof sw));
    }
    for (int i = 0; i < nsp; i++)
        ONYX_CHECK(p, W->dims[2 + i] >= 1, "W %s has an empty kernel",
                   onyx_shape_str(W, sw, sizeof sw));
    int64_t st[3], dl[3];
    ONYX_TRY(spatial_attr(p, "strides", nsp, 1, 1, st));
    ONYX_TRY(spatial_attr(p, "dilations", nsp, 1, 1, dl));
    ONYX_TRY(spatial_attr(p, "pads", 2 * nsp, 0, 0, g->pads));
    ONYX_TRY(spatial_auto_pad(p, &g->auto_pad));

    g->nsp = nsp;
    g->N = X->dims[0];
    g->C = C;
    g->M = M;
    g->G = G;
    g->Cg = C / G;
    g->Mg = M / G;
    for (int a = 0; a < 3; a++) {
        g->in[a] = g->out[a] = g->k[a] = g->s[a] = g->d[a] = 1;
        g->pb[a] = 0;
    }
    for (int i = 0; i < nsp; i++) {
        int a = 3 - nsp + i;
        g->in[a] = X->dims[2 + i];
        g->k[a] = W->dims[2 + i];
        g->s[a] = st[i];
        g->d[a] = dl[i];
    }
    return ONYX_OK;
}

onyx_status conv_geom_out(onyx_prep *p, conv_geom *g, const onyx_tensor *X)
{
    char sx[96];
    for (int i = 0; i < g->nsp; i++) {
        int a = 3 - g->nsp + i;
        int64_t in = g->in[a], st = g->s[a], out, pb;
        int64_t ke = (g->k[a] - 1) * g->d[a] + 1; /* dilated kernel */
        if (g->auto_pad == PAD_SAME_UPPER || g->auto_pad == PAD_SAME_LOWER) {
            out = ceil_div(in, st);
            int64_t total = (out - 1) * st + ke - in;
            if (total < 0) total = 0;
            pb = g->auto_pad == PAD_SAME_UPPER ? total / 2 : total - total / 2;
        } else if (g->auto_pad == PAD_VALID) {
            out = in >= ke ? (in - ke) / st + 1 : 0;
            pb = 0;
        } else {
            int64_t span = in + g->pads[i] + g->pads[g->nsp + i];
            out = span >= ke ? (span - ke) / st + 1 : 0;
            pb = g->pads[i];
        }
        ONYX_CHECK(p, out >= 1,
                   "kernel %lld (dilated %lld) does not fit spatial axis %d "
                   "of X %s with its padding",
                   (long long)g->k[a], (long long)ke, i,
                   onyx_shape_str(X, sx, sizeof sx));
        g->out[a] = out;
        g->pb[a] = pb;
    }
    return ONYX_OK;
}

onyx_status conv_geom_end(onyx_prep *p, conv_geom *g, onyx_tensor *Y)
{
    const onyx_tensor *B = p->n_in > GEOM_B ? p->in[GEOM_B] : NULL;
    if (B && onyx_numel(B) == 0) B = NULL; /* the empty placeholder */
    if (B) {
        char sb[96];
        ONYX_TRY(onyx_need_dtype(p, GEOM_B, ONYX_MASK(ONYX_FLOAT)));
        ONYX_CHECK(p, B->rank == 1 && B->dims[0] == g->M,
                   "B %s must be a vector of %lld (%s) biases",
                   onyx_shape_str(B, sb, sizeof sb), (long long)g->M,
                   g->transposed ? "W[1] * group" : "W[0]");
        g->has_bias = 1;
    }
    return conv_geom_size(p, g, Y, ONYX_FLOAT);
}

onyx_status conv_geom_size(onyx_prep *p, conv_geom *g, onyx_tensor *Y,
                           onyx_dtype yt)
{
    ONYX_CHECK(p,
               (double)g->out[0] * (double)g->out[1] * (double)g->out[2] *
                       (double)(g->N * g->M) <
                   0x1p40,
               "output of more than 2^40 elements");
    g->S_in = g->in[0] * g->in[1] * g->in[2];
    g->S_out = g->out[0] * g->out[1] * g->out[2];
    g->KK = g->k[0] * g->k[1] * g->k[2];
    if (Y) {
        int64_t ydims[ONYX_MAX_RANK] = {g->N, g->M};
        for (int i = 0; i < g->nsp; i++)
            ydims[2 + i] = g->out[3 - g->nsp + i];
        onyx_set_shape(Y, yt, g->nsp + 2, ydims);
    }
    return ONYX_OK;
}
