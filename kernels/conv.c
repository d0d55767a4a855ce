/* conv.c - Conv (1-D, 2-D, 3-D; groups, dilations, strides, pads, auto_pad)
 * as im2col + onyx_sgemm per group, with copy-free or cheaper paths for the
 * common cases: 1x1 kernels (X is the column matrix), depthwise (a direct
 * loop), and 1-D stride-1 convolutions with many channels and constant
 * weights (the audio case), which skip im2col: Winograd F(4,3) when not
 * dilated (its six products on the transformed weights packed once, the
 * tiles split over the pool), else one sgemm per kernel tap reading X in
 * place. With constant weights and few output positions (a streamed
 * block, a strided front end on a few frames) the product runs transposed,
 * Y^T = col^T @ W^T, on W^T packed once for onyx_gemm_packed: the
 * positions are its rows. 1-D convolutions with few input channels x taps,
 * and 2-D stride-1 ones, with constant weights, which would otherwise be
 * im2col + sgemm, run direct (conv_direct.h): a 2-D one over its
 * zero-padded planes read as one long row, whose outputs past each row's
 * end are computed and dropped.
 *
 * Every convolution is run as a 3-D one (conv_geom in spatial.h), so one
 * loop nest serves all ranks. On a pool (threadpool.h), im2col, Winograd
 * and the products split over output blocks, as bit-identical to one
 * thread. */
#include "math/conv_direct.h"
#include "math/gemm.h"
#include "onyx_kernel.h"
#include "math/spatial.h"
#include "math/threadpool.h"

#include <stdlib.h>
#include <string.h>

enum { CONV_X = 0, CONV_W = 1, CONV_B = 2 };
enum { CONV_Y = 0 };

typedef enum {
    CONV_IM2COL,    /* im2col (K, chunk) in scratch, then sgemm */
    CONV_POINTWISE, /* 1x1 kernel, stride 1, no pad: X is the columns */
    CONV_DEPTHWISE, /* Cg == 1 and Mg == 1: direct loop, no sgemm */
    CONV_TAPS,      /* 1-D, stride 1: one sgemm per tap on shifted X */
    CONV_WINOGRAD,  /* 1-D, stride 1, no dilation: Winograd F(4,3) */
    CONV_PACKED,    /* few positions: Y^T (P, Mg) = col^T @ W^T packed */
    CONV_DIRECT,    /* 1-D, small Cg * KK, or 2-D stride 1: conv_direct.h */
} conv_path;

/* When constant weights take CONV_PACKED: up to CONV_PACKED_FEW output
 * positions whatever the channels, and up to CONV_PACKED_POSITIONS with at
 * least CONV_PACKED_MIN_M output channels a group (below it the rows
 * kernel has too few columns to keep its sums in flight: the sound
 * classifier's 16-channel convs on 121 to 508 positions ran 1.35 times
 * slower packed). The positions are rows of onyx_gemm_packed, so the
 * limits follow MatMul's (matmul.c, MM_PACKED_ROWS, measured there). On
 * AVX-512, the Silero VAD v5's six convs (4 to 64 positions) went from
 * 245 to 85 us. */
#if defined(__x86_64__)
enum { CONV_PACKED_FEW = 32, CONV_PACKED_POSITIONS = 512 };
#elif defined(__aarch64__)
enum { CONV_PACKED_FEW = 16, CONV_PACKED_POSITIONS = 16 };
#else
enum { CONV_PACKED_FEW = 8, CONV_PACKED_POSITIONS = 8 };
#endif
/* ... and, for many positions, when im2col would be the path and the
 * weights of a group fit a core's L2 (the packed product reads them again
 * for every 4 positions): simple_conv_1d's 256 x 2304 conv on 500
 * positions ran twice as slow packed as in Winograd form */
enum { CONV_PACKED_MIN_M = 64, CONV_PACKED_MAX_WEIGHTS = 128 * 1024 };

/* Input channels per group from which the 1-D paths beat im2col: below it
 * the per-tap products are too thin (measured on tcn's 16 channels). */
enum { CONV_1D_MIN_CHANNELS = 32 };

/* Rows of the column matrix (Cg * KK) up to which a 1-D convolution that
 * would be im2col + sgemm runs direct: the taps' sums then stay in
 * registers, where the small product's packing and im2col cost more than
 * it (the sound classifier's 16-channel, 9-tap strided convs). */
enum { CONV_DIRECT_MAX_K = 256 };

/* The same for 2-D stride-1 convolutions: up to CONV_DIRECT2_MAX_K rows,
 * and padded rows at most twice the output's (the columns past a row's end
 * are computed for nothing). openWakeWord's embedding (1x3 and 3x1 kernels,
 * 24 to 96 channels, K 9 to 288, 16 to 2368 positions) went from 1530 to
 * 710 us with it (AVX-512), its 20 convolutions otherwise im2col + sgemm or
 * packed (ORT: about 900). */
enum { CONV_DIRECT2_MAX_K = 1024 };

/* What eval needs: the geometry, and how to run it. */
typedef struct {
    conv_geom geom;
    conv_path path;
    int64_t K;     /* Cg * KK: rows of the column matrix */
    int64_t chunk; /* IM2COL: output positions per pass, the column matrix
                      (K, chunk) being the scratch; WINOGRAD: output tiles
                      per pass */
    /* TAPS and WINOGRAD: X of one group, zero-padded, is copied into
     * scratch as (Cg, Lp) unless xcopy is 0 (TAPS with no padding) */
    int xcopy;
    int64_t Lp;
    int64_t J;  /* WINOGRAD: kernel taps in triples, zero taps appended */
    int64_t nb; /* WINOGRAD: tiles of 4 outputs, ceil(S_out / 4) */
    /* floats into scratch, past what the path uses: onyx_sgemm's work
     * space (its pack buffers) */
    size_t work;
    /* TAPS: (G, KK, Mg, Cg), W's tap k of group g as a matrix;
     * WINOGRAD: (G, 6) matrices V_t (Mg, J*Cg), the F(4,3) transform of
     * each triple, packed by onyx_gemm_pack_a, wstride floats apart;
     * PACKED: per group, W_g^T (K, Mg) as onyx_gemv_pack lays it out,
     * wstride floats apart. Owned, in the same block as the plan. */
    float *Wp;
    int64_t wstride;
    conv_tap *taps; /* IM2COL, PACKED, DEPTHWISE: the KK taps
                       (conv_taps_make), after Wp */
    /* DIRECT: the micro-kernel, per group its packed weights (wstride
     * floats apart, in Wp) and the taps' offsets (K, after Wp) into the
     * phase rows, Lp floats long, in scratch */
    const onyx_conv_direct_kernel *dk;
    int32_t *off;
    /* DIRECT 2-D (else 0): X of a group as zero-padded planes (Hq, Wq),
     * plane floats apart, and the positions computed, out[1] * Wq (kept
     * in place when Wq == out[2], else in scratch past the planes and
     * copied out row by row) */
    int64_t Hq, Wq, plane, Pv;
} conv_plan;

/* Winograd F(4,3) (Lavin and Gray, 2016): four outputs y0..y3 of a 3-tap
 * filter g over inputs d0..d5 with 6 products m_t = v_t u_t instead of 12:
 *   u = Bt d, v = G g, y = At m, with
 *   Bt = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0;
 *         0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
 *   G  = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6;
 *         1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
 *   At = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1].
 * Summed over channels, each m_t is a matrix product:
 * M_t (Mg, tiles) = V_t (Mg, J*Cg) @ U_t (J*Cg, tiles), a kernel of KK taps
 * being J = ceil(KK / 3) triples of taps (zeros appended). Half the
 * multiplications of the direct form, for rounding errors a few times
 * larger (the factors of At and Bt are at most 8). */
static int winograd_weights(float *Wp, const float *W, const conv_geom *g,
                            int64_t J, int64_t wstride)
{
    const int64_t KK = g->KK, Cg = g->Cg, Mg = g->Mg;
    /* V (6, Mg, J, Cg) of one group, then each V_t packed */
    float *V = malloc((size_t)(6 * Mg * J * Cg) * sizeof *V);
    if (!V) return -1;
    for (int64_t gr = 0; gr < g->G; gr++) {
        for (int64_t m = 0; m < Mg; m++)
            for (int64_t j = 0; j < J; j++)
                for (int64_t c = 0; c < Cg; c++) {
                    const float *w = W + ((gr * Mg + m) * Cg + c) * KK;
                    double t[3];
                    for (int i = 0; i < 3; i++)
                        t[i] = 3 * j + i < KK ? w[3 * j + i] : 0.0;
                    const double v[6] = {t[0] / 4,
                                         -(t[0] + t[1] + t[2]) / 6,
                                         -(t[0] - t[1] + t[2]) / 6,
                                         t[0] / 24 + t[1] / 12 + t[2] / 6,
                                         t[0] / 24 - t[1] / 12 + t[2] / 6,
                                         t[2]};
                    for (int k = 0; k < 6; k++)
                        V[((k * Mg + m) * J + j) * Cg + c] = (float)v[k];
                }
        for (int k = 0; k < 6; k++)
            onyx_gemm_pack_a(Wp + (gr * 6 + k) * wstride, (int)Mg,
                             (int)(J * Cg), V + k * Mg * J * Cg, (int)(J * Cg));
    }
    free(V);
    return 0;
}

/* The 1-D path for g, or IM2COL when it does not apply. */
static conv_path conv_1d_path(const onyx_prep *p, const conv_geom *g)
{
    if (!p->in_const[CONV_W] || !p->in[CONV_W]->data) return CONV_IM2COL;
    if (g->in[0] != 1 || g->in[1] != 1 || g->out[0] != 1 || g->out[1] != 1 ||
        g->k[0] != 1 || g->k[1] != 1 || g->pb[0] != 0 || g->pb[1] != 0)
        return CONV_IM2COL; /* not 1-D */
    if (g->s[2] != 1 || g->k[2] < 2 || g->Cg < CONV_1D_MIN_CHANNELS)
        return CONV_IM2COL;
    return g->d[2] == 1 ? CONV_WINOGRAD : CONV_TAPS;
}

/* 1 when g, which would be IM2COL, runs direct: 1-D, constant weights,
 * few rows of the column matrix. */
static int conv_direct_fits(const onyx_prep *p, const conv_geom *g)
{
    return p->in_const[CONV_W] && p->in[CONV_W]->data && g->in[0] == 1 &&
           g->in[1] == 1 && g->out[0] == 1 && g->out[1] == 1 && g->k[0] == 1 &&
           g->k[1] == 1 && g->pb[0] == 0 && g->pb[1] == 0 &&
           g->Cg * g->KK <= CONV_DIRECT_MAX_K;
}

/* 1 when g, which would be IM2COL, runs direct as 2-D: constant weights,
 * stride 1, rows of the column matrix and wasted columns few enough. */
static int conv_direct2_fits(const onyx_prep *p, const conv_geom *g)
{
    const int64_t Wq = g->out[2] + (g->k[2] - 1) * g->d[2];
    const int64_t Hq = g->out[1] + (g->k[1] - 1) * g->d[1];
    /* its scratch (the planes, the widened outputs) within a 32-bit
     * offset, else im2col, which goes in chunks */
    const double floats = (double)g->Cg * Hq * Wq + (double)g->Mg * Hq * Wq;
    return p->in_const[CONV_W] && p->in[CONV_W]->data && g->nsp == 2 &&
           g->s[1] == 1 && g->s[2] == 1 &&
           g->Cg * g->KK <= CONV_DIRECT2_MAX_K && Wq <= 2 * g->out[2] &&
           floats < (double)(1 << 28);
}

/* Offsets in floats rounded up to 64 bytes. */
static int64_t round16(int64_t n)
{
    return (n + 15) / 16 * 16;
}

/* off (Cg * KK) of the 2-D direct path: tap (c, kh, kw) reads plane c
 * kh * d[1] rows and kw * d[2] columns on. */
static void conv_direct2_offsets(int32_t *off, const conv_geom *g,
                                 const conv_plan *q)
{
    for (int64_t c = 0; c < g->Cg; c++)
        for (int64_t kh = 0; kh < g->k[1]; kh++)
            for (int64_t kw = 0; kw < g->k[2]; kw++)
                *off++ = (int32_t)(c * q->plane + kh * g->d[1] * q->Wq +
                                   kw * g->d[2]);
}

static onyx_status conv_prepare(onyx_prep *p)
{
    conv_plan q;
    memset(&q, 0, sizeof q);
    conv_geom *g = &q.geom;
    ONYX_TRY(conv_geom_begin(p, 0, g));
    /* output size and pad begin per spatial axis, from auto_pad or pads */
    ONYX_TRY(conv_geom_out(p, g, p->in[CONV_X]));
    ONYX_TRY(conv_geom_end(p, g, p->out[CONV_Y]));
    q.K = g->Cg * g->KK;
    q.path = CONV_POINTWISE;
    for (int i = 0; i < 3; i++)
        if (g->k[i] != 1 || g->s[i] != 1 || g->pb[i] != 0 ||
            g->out[i] != g->in[i])
            q.path = CONV_IM2COL;
    if (q.path == CONV_IM2COL && g->Cg == 1 && g->Mg == 1)
        q.path = CONV_DEPTHWISE;
    if (q.path == CONV_IM2COL) q.path = conv_1d_path(p, g);
    if (q.path == CONV_IM2COL && conv_direct2_fits(p, g)) {
        /* before PACKED, which it beats on every conv of openWakeWord's
         * embedding, down to 16 positions */
        q.path = CONV_DIRECT;
        q.Hq = g->out[1] + (g->k[1] - 1) * g->d[1];
        q.Wq = g->out[2] + (g->k[2] - 1) * g->d[2];
        q.plane = q.Hq * q.Wq;
        q.Pv = g->out[1] * q.Wq;
    }
    if ((q.path == CONV_IM2COL || q.path == CONV_POINTWISE ||
         q.path == CONV_WINOGRAD || q.path == CONV_TAPS) &&
        p->in_const[CONV_W] && p->in[CONV_W]->data &&
        (g->S_out <= CONV_PACKED_FEW ||
         (q.path == CONV_IM2COL && g->S_out <= CONV_PACKED_POSITIONS &&
          g->Mg >= CONV_PACKED_MIN_M &&
          q.K * g->Mg <= CONV_PACKED_MAX_WEIGHTS)))
        q.path = CONV_PACKED;
    if (q.path == CONV_IM2COL && conv_direct_fits(p, g)) q.path = CONV_DIRECT;
    ONYX_CHECK(
        p, q.K <= 0x7fffffff && g->S_out <= 0x7fffffff && g->M <= 0x7fffffff,
        "convolution too large for a 32-bit sgemm");

    /* the 1-D paths' sizes; the padded row of X must hold every input that
     * any (kept) tap reads: Lp = S_out + (KK - 1) * d for TAPS, and for
     * WINOGRAD 4 * nb + 3 * J - 1 (whole tiles, whole triples) */
    size_t scratch = 0, wfloats = 0;
    const int64_t L = g->in[2], P = g->S_out;
    int64_t gemm_n = P, gemm_k = q.K; /* the largest sgemm: (Mg, n, k) */
    if (q.path == CONV_TAPS) {
        q.Lp = P + (g->KK - 1) * g->d[2];
        q.xcopy = g->pb[2] != 0 || q.Lp > L;
        if (!q.xcopy) q.Lp = L; /* B read in place, ldb = L */
        scratch = q.xcopy ? (size_t)(g->Cg * q.Lp) : 0;
        wfloats = (size_t)(g->G * g->KK * g->Mg * g->Cg);
        gemm_k = g->Cg;
    } else if (q.path == CONV_WINOGRAD) {
        q.J = ceil_div(g->KK, 3);
        q.nb = ceil_div(P, 4);
        q.Lp = 4 * q.nb + 3 * q.J - 1;
        q.xcopy = 1;
        /* tiles per pass: U_t (J*Cg, chunk) and M_t (Mg, chunk) for the six
         * t within about 512 KB, as conv_chunk (measured: 2 MB is no
         * faster), whole when that is all of them */
        q.chunk = (128 * 1024) / (6 * (q.J * g->Cg + g->Mg));
        q.chunk = q.chunk < 64 ? 64 : q.chunk / 16 * 16;
        if (q.chunk > q.nb) q.chunk = q.nb;
        scratch =
            (size_t)(round16(g->Cg * q.Lp) +
                     round16(6 * q.J * g->Cg * q.chunk) + 6 * g->Mg * q.chunk);
        q.wstride = round16(
            (int64_t)onyx_gemm_pack_a_floats((int)g->Mg, (int)(q.J * g->Cg)));
        wfloats = (size_t)(g->G * 6 * q.wstride);
    } else if (q.path == CONV_PACKED) {
        /* col (K, P), col^T (P, K), Y_g^T (P, Mg) */
        scratch = (size_t)(round16(2 * q.K * P) + g->Mg * P);
        q.wstride =
            round16((int64_t)onyx_gemv_pack_floats((int)g->Mg, (int)q.K));
        wfloats = (size_t)(g->G * q.wstride);
    } else if (q.path == CONV_DIRECT) {
        q.dk = onyx_conv_direct_pick();
        if (q.Wq) { /* the planes, then what the last vectors read past
                       them; the outputs apart when rows are dropped */
            q.Lp = g->Cg * q.plane + q.Wq + ONYX_CONV_DIRECT_OVER;
            scratch = (size_t)(round16(q.Lp) +
                               (q.Wq != g->out[2] ? g->Mg * q.Pv : 0));
        } else {
            q.Lp = onyx_conv_direct_row(P, g->KK, g->d[2], g->s[2]);
            scratch = (size_t)(g->Cg * g->s[2] * q.Lp);
        }
        q.wstride = round16(ceil_div(g->Mg, q.dk->mr) * q.dk->mr * q.K);
        wfloats = (size_t)(g->G * q.wstride);
        ONYX_CHECK(p, (int64_t)scratch <= 0x7fffffff,
                   "convolution too large for the direct path");
    } else if (q.path == CONV_IM2COL) {
        q.chunk = conv_chunk(q.K, P);
        scratch = (size_t)q.K * (size_t)q.chunk;
        gemm_n = q.chunk;
    }
    ONYX_CHECK(p, q.J * g->Cg <= 0x7fffffff && q.Lp <= 0x7fffffff,
               "convolution too large for a 32-bit sgemm");
    q.work = (size_t)round16((int64_t)scratch);
    if (q.path == CONV_WINOGRAD)
        scratch = q.work + onyx_gemm_prepacked_scratch_bytes(
                               (int)q.chunk, (int)(q.J * g->Cg)) /
                               sizeof(float);
    else if (q.path != CONV_DEPTHWISE && q.path != CONV_PACKED &&
             q.path != CONV_DIRECT)
        scratch = q.work + onyx_sgemm_scratch_bytes((int)g->Mg, (int)gemm_n,
                                                    (int)gemm_k) /
                               sizeof(float);

    /* the plan, then the repacked weights 64 bytes in, then the taps */
    size_t head = (sizeof q + 63) / 64 * 64;
    size_t wbytes = (wfloats * sizeof(float) + 63) / 64 * 64;
    size_t tbytes = q.path == CONV_IM2COL || q.path == CONV_PACKED ||
                            q.path == CONV_DEPTHWISE
                        ? (size_t)g->KK * sizeof(conv_tap)
                        : 0;
    size_t obytes = q.path == CONV_DIRECT ? (size_t)q.K * sizeof(int32_t) : 0;
    conv_plan *qp =
        aligned_alloc(64, head + wbytes + (tbytes + obytes + 63) / 64 * 64);
    if (!qp) return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
    *qp = q;
    qp->taps = NULL;
    qp->off = NULL;
    if (obytes) {
        qp->off = (int32_t *)((char *)qp + head + wbytes);
        if (q.Wq)
            conv_direct2_offsets(qp->off, g, &q);
        else
            onyx_conv_direct_offsets(qp->off, g->Cg, g->KK, g->d[2], g->s[2],
                                     q.Lp);
    }
    if (tbytes) {
        qp->taps = (conv_tap *)((char *)qp + head + wbytes);
        conv_taps_make(qp->taps, g);
    }
    if (wfloats) {
        const float *W = p->in[CONV_W]->data;
        float *Wp = (float *)((char *)qp + head);
        if (q.path == CONV_WINOGRAD) {
            if (winograd_weights(Wp, W, g, q.J, q.wstride) != 0) {
                free(qp);
                return onyx_fail(p, ONYX_ERR_NOMEM, "out of memory");
            }
        } else if (q.path == CONV_DIRECT) {
            for (int64_t gr = 0; gr < g->G; gr++)
                onyx_conv_direct_pack(Wp + gr * q.wstride, W + gr * g->Mg * q.K,
                                      (int)g->Mg, (int)q.K, q.dk->mr);
        } else if (q.path == CONV_PACKED) { /* W_g (Mg, K) -> W_g^T packed */
            for (int64_t gr = 0; gr < g->G; gr++)
                onyx_gemv_pack(Wp + gr * q.wstride, 1, W + gr * g->Mg * q.K,
                               (int)q.K, (int)g->Mg, (int)q.K);
        } else { /* Wp (G, KK, Mg, Cg) from W (G, Mg, Cg, KK) */
            const int64_t KK = g->KK, Cg = g->Cg, Mg = g->Mg;
            for (int64_t gm = 0; gm < g->G * Mg; gm++)
                for (int64_t c = 0; c < Cg; c++)
                    for (int64_t k = 0; k < KK; k++)
                        Wp[((gm / Mg * KK + k) * Mg + gm % Mg) * Cg + c] =
                            W[(gm * Cg + c) * KK + k];
        }
        qp->Wp = Wp;
    }
    p->params = qp;
    p->scratch_bytes = scratch * sizeof(float);
    /* each output element: C/group * prod(kernel) multiply-adds */
    const onyx_tensor *Wt = p->in[CONV_W];
    if (Wt->rank >= 2) {
        int64_t per = 1;
        for (int i = 1; i < Wt->rank; i++)
            per = onyx_flops_mul(per, Wt->dims[i]);
        p->flops = onyx_flops_mul(2 * onyx_out_numel(p), per);
    }
    return ONYX_OK;
}

/* col (K, p1 - p0) from x (Cg, D, H, W), the rows of channels c0 .. c1 - 1:
 * row (c, tap) holds, for the output positions p0 <= p < p1 (flat over the
 * output's D, H, W), the input under that kernel tap of channel c, or 0
 * where it falls on padding. */
SPATIAL_HOT static void im2col_rows(float *restrict col,
                                    const float *restrict x, int64_t c0,
                                    int64_t c1, int64_t p0, int64_t p1,
                                    const conv_geom *q, const conv_tap *taps)
{
    const int64_t sw = q->s[2], plane = q->in[0] * q->in[1];
    col += c0 * q->KK * (p1 - p0);
    conv_walk w = conv_walk_start(q, p0, p1, taps);
    for (w.c = c0; w.c < c1; conv_walk_next(q, &w)) {
        /* col[ow - w0] is output column ow: the input under the tap, or 0 */
        const int64_t w0 = w.r.w0, w1 = w.r.w0 + w.r.n, offw = w.t.off[2];
        const float *xr = x + (w.c * plane + w.r.row) * q->in[2];
        int64_t ow = w0;
        for (; ow < w.r.lo; ow++)
            col[ow - w0] = 0;
        if (sw == 1)
            for (; ow < w.r.hi; ow++)
                col[ow - w0] = xr[ow + offw];
        else
            for (; ow < w.r.hi; ow++)
                col[ow - w0] = xr[ow * sw + offw];
        for (; ow < w1; ow++)
            col[ow - w0] = 0;
        col += w.r.n;
    }
}

/* im2col_rows of every channel, in bands of channels over the calling
 * thread's pool when there is one and the copy is worth it. */
typedef struct im2col_split {
    float *col;
    const float *x;
    int64_t p0, p1;
    const conv_geom *g;
    const conv_tap *taps;
    int parts;
} im2col_split;

static void im2col_band(void *ctx, int part, void *work)
{
    (void)work;
    const im2col_split *s = ctx;
    int lo, hi;
    onyx_threads_range(part, s->parts, (int)s->g->Cg, &lo, &hi);
    im2col_rows(s->col, s->x, lo, hi, s->p0, s->p1, s->g, s->taps);
}

static void im2col(float *col, const float *x, int64_t p0, int64_t p1,
                   const conv_geom *g, const conv_tap *taps)
{
    onyx_threads *t = onyx_gemm_pool();
    const int parts = onyx_threads_count(t);
    im2col_split s = {col, x, p0, p1, g, taps, 1};
    if (parts > 1 && g->Cg >= parts &&
        (double)g->Cg * g->KK * (p1 - p0) >= 1 << 16) {
        s.parts = parts;
        onyx_threads_run(t, im2col_band, &s, parts);
    } else
        im2col_band(&s, 0, NULL); /* one part: every channel */
}

/* y (out...) = bias + sum over taps of w[tap] * x (in...) shifted: one
 * channel of a depthwise convolution, accumulated tap by tap over the
 * valid output ranges so the inner loop has no bounds checks. */
SPATIAL_HOT static void depthwise_channel(float *restrict y,
                                          const float *restrict x,
                                          const float *restrict w, float bias,
                                          const conv_geom *q,
                                          const conv_tap *taps)
{
    const int64_t plane = q->out[1] * q->out[2], sw = q->s[2];
    for (int64_t i = 0; i < q->S_out; i++)
        y[i] = bias;
    for (int64_t tap = 0; tap < q->KK; tap++) {
        const float wv = w[tap];
        const conv_tap t = taps[tap]; /* conv_tap_at(q, tap), made once */
        const int64_t offw = t.off[2], wlo = t.lo[2], whi = t.hi[2];
        for (int64_t od = t.lo[0]; od < t.hi[0]; od++) {
            int64_t id = od * q->s[0] + t.off[0];
            for (int64_t oh = t.lo[1]; oh < t.hi[1]; oh++) {
                int64_t ih = oh * q->s[1] + t.off[1];
                const float *xr = x + (id * q->in[1] + ih) * q->in[2];
                float *yr = y + od * plane + oh * q->out[2];
                if (sw == 1)
                    for (int64_t ow = wlo; ow < whi; ow++)
                        yr[ow] += wv * xr[ow + offw];
                else
                    for (int64_t ow = wlo; ow < whi; ow++)
                        yr[ow] += wv * xr[ow * sw + offw];
            }
        }
    }
}

/* xp (Cg, Lp) = x (Cg, L) shifted right by pb, zeros around it. */
/* The channels of one depthwise batch item, in bands of channels over the
 * calling thread's pool when there is one and they are worth it (each
 * channel is computed as alone). */
typedef struct depthwise_split {
    float *y;
    const float *x, *W, *B;
    const conv_geom *g;
    const conv_tap *taps;
    int64_t K;
    int parts;
} depthwise_split;

static void depthwise_band(void *ctx, int part, void *work)
{
    (void)work;
    const depthwise_split *d = ctx;
    int lo, hi;
    onyx_threads_range(part, d->parts, (int)d->g->M, &lo, &hi);
    for (int64_t m = lo; m < hi; m++)
        depthwise_channel(d->y + m * d->g->S_out, d->x + m * d->g->S_in,
                          d->W + m * d->K, d->B ? d->B[m] : 0.0f, d->g,
                          d->taps);
}

static void depthwise_channels(float *y, const float *x, const float *W,
                               const float *B, const conv_geom *g,
                               const conv_tap *taps, int64_t K)
{
    onyx_threads *t = onyx_gemm_pool();
    const int parts = onyx_threads_count(t);
    if (parts < 2 || g->M < parts || (double)g->M * g->S_out * K < 1 << 17)
        t = NULL;
    depthwise_split d = {y, x, W, B, g, taps, K, t ? parts : 1};
    if (t)
        onyx_threads_run(t, depthwise_band, &d, parts);
    else
        depthwise_band(&d, 0, NULL); /* one part: every channel */
}

static void pad_rows(float *restrict xp, const float *restrict x, int64_t Cg,
                     int64_t L, int64_t pb, int64_t Lp)
{
    const int64_t n = L < Lp - pb ? L : Lp - pb;
    for (int64_t c = 0; c < Cg; c++, xp += Lp, x += L) {
        memset(xp, 0, (size_t)pb * sizeof *xp);
        memcpy(xp + pb, x, (size_t)n * sizeof *xp);
        memset(xp + pb + n, 0, (size_t)(Lp - pb - n) * sizeof *xp);
    }
}

/* U (6, J, Cg, nc; row stride ldu): the F(4,3) input transform u = Bt d
 * of output tiles b0 .. b0 + nc - 1 under each triple j of taps, from
 * xp (Cg, Lp): tile b of triple j reads d = xp[c][4b + 3j .. 4b + 3j + 5]. */
SPATIAL_HOT static void winograd_in(float *restrict U, int64_t ldu,
                                    const float *restrict xp, int64_t Cg,
                                    int64_t Lp, int64_t J, int64_t b0,
                                    int64_t nc)
{
    const int64_t plane = J * Cg * ldu; /* one t */
    for (int64_t j = 0; j < J; j++)
        for (int64_t c = 0; c < Cg; c++) {
            const float *d = xp + c * Lp + 3 * j + 4 * b0;
            float *u = U + (j * Cg + c) * ldu;
            for (int64_t b = 0; b < nc; b++, d += 4) {
                const float d1 = d[1], d2 = d[2], d3 = d[3], d4 = d[4];
                u[b] = 4 * d[0] - 5 * d2 + d4;
                u[plane + b] = d4 + d3 - 4 * (d1 + d2);
                u[2 * plane + b] = d4 - d3 + 4 * (d1 - d2);
                u[3 * plane + b] = d4 - d2 + 2 * (d3 - d1);
                u[4 * plane + b] = d4 - d2 - 2 * (d3 - d1);
                u[5 * plane + b] = 4 * d1 - 5 * d3 + d[5];
            }
        }
}

/* y[:, 4*b0 ...] (Mg, P) from the products Mp (6, Mg, nc; row stride
 * ldm, plane floats from one t to the next), y = At m: the four outputs of
 * each tile (those < P), plus the bias. */
SPATIAL_HOT static void winograd_out(float *restrict y,
                                     const float *restrict Mp, int64_t ldm,
                                     int64_t plane, const float *B, int64_t Mg,
                                     int64_t P, int64_t b0, int64_t nc)
{
    /* whole tiles: those with 4b + 3 < P */
    const int64_t full = (P - 4 * b0) / 4 < nc ? (P - 4 * b0) / 4 : nc;
    for (int64_t m = 0; m < Mg; m++) {
        const float *m0 = Mp + m * ldm, *m1 = m0 + plane, *m2 = m1 + plane,
                    *m3 = m2 + plane, *m4 = m3 + plane, *m5 = m4 + plane;
        const float bias = B ? B[m] : 0.0f;
        float *yr = y + m * P + 4 * b0;
        for (int64_t b = 0; b < full; b++) {
            const float s12 = m1[b] + m2[b], d12 = m1[b] - m2[b],
                        s34 = m3[b] + m4[b], d34 = m3[b] - m4[b];
            yr[4 * b] = m0[b] + s12 + s34 + bias;
            yr[4 * b + 1] = d12 + 2 * d34 + bias;
            yr[4 * b + 2] = s12 + 4 * s34 + bias;
            yr[4 * b + 3] = d12 + 8 * d34 + m5[b] + bias;
        }
        if (full < nc) { /* the last, partial tile */
            const int64_t b = full, n = P - 4 * (b0 + b);
            const float s12 = m1[b] + m2[b], d12 = m1[b] - m2[b],
                        s34 = m3[b] + m4[b], d34 = m3[b] - m4[b];
            const float t[3] = {m0[b] + s12 + s34, d12 + 2 * d34,
                                s12 + 4 * s34};
            for (int64_t r = 0; r < n; r++)
                yr[4 * b + r] = t[r] + bias;
        }
    }
}

/* Transformed weights (bytes) above which a pool splits Winograd's products
 * by output channels rather than by tiles (see winograd_rows_band) */
#define WINOGRAD_SPLIT_ROWS_BYTES (512.0 * 1024)

/* One pass of Winograd over tiles b0 .. b0 + nc - 1, in bands of tiles
 * over the calling thread's pool when there is one and they are worth it:
 * each band transforms its tiles' inputs, runs its columns of the six
 * products and transforms its outputs. The bands are cut at the
 * prepacked product's tile width, so every output is computed as alone. */
typedef struct winograd_split {
    float *y, *U, *Mp, *work; /* work: the caller's, for part 0 */
    const float *xp, *B, *Wg;
    const conv_plan *q;
    int64_t b0;
    int nc, parts;
} winograd_split;

static void winograd_band(void *ctx, int part, void *work)
{
    const winograd_split *s = ctx;
    const conv_plan *q = s->q;
    const int64_t Cg = q->geom.Cg, Mg = q->geom.Mg, J = q->J, nc = s->nc;
    const int depth = (int)(J * Cg), unit = onyx_gemm_prepacked_cols();
    int lo, hi;
    onyx_threads_range(part, s->parts, (s->nc + unit - 1) / unit, &lo, &hi);
    lo *= unit;
    hi = hi * unit < s->nc ? hi * unit : s->nc;
    if (lo >= hi) return;
    winograd_in(s->U + lo, nc, s->xp, Cg, q->Lp, J, s->b0 + lo, hi - lo);
    for (int t = 0; t < 6; t++)
        /* M_t (Mg, nc) = V_t (Mg, J*Cg) @ U_t (J*Cg, nc), columns lo..hi */
        onyx_gemm_prepacked((int)Mg, hi - lo, depth, s->Wg + t * q->wstride,
                            s->U + t * depth * nc + lo, (int)nc,
                            s->Mp + t * Mg * nc + lo, (int)nc,
                            work ? work : s->work);
    winograd_out(s->y, s->Mp + lo, nc, Mg * nc, s->B, Mg, q->geom.S_out,
                 s->b0 + lo, hi - lo);
}

/* With the weights larger than a core's cache, bands of tiles would each
 * read all of them: then the pass is split twice, the input transform in
 * bands of tiles, then the six products and the output transform in bands
 * of output channels (whole panels of the packed weights), each thread
 * reading only its rows of them. */
static void winograd_in_band(void *ctx, int part, void *work)
{
    const winograd_split *s = ctx;
    const conv_plan *q = s->q;
    int lo, hi;
    (void)work;
    onyx_threads_range(part, s->parts, s->nc, &lo, &hi);
    if (lo < hi)
        winograd_in(s->U + lo, s->nc, s->xp, q->geom.Cg, q->Lp, q->J,
                    s->b0 + lo, hi - lo);
}

static void winograd_rows_band(void *ctx, int part, void *work)
{
    const winograd_split *s = ctx;
    const conv_plan *q = s->q;
    const int64_t Cg = q->geom.Cg, Mg = q->geom.Mg, J = q->J, nc = s->nc;
    const int depth = (int)(J * Cg), unit = onyx_gemm_prepacked_rows();
    int lo, hi;
    onyx_threads_range(part, s->parts, (int)((Mg + unit - 1) / unit), &lo, &hi);
    lo *= unit;
    hi = hi * unit < Mg ? hi * unit : (int)Mg;
    if (lo >= hi) return;
    for (int t = 0; t < 6; t++)
        onyx_gemm_prepacked_band((int)Mg, lo, hi, (int)nc, depth,
                                 s->Wg + t * q->wstride, s->U + t * depth * nc,
                                 (int)nc, s->Mp + t * Mg * nc, (int)nc,
                                 work ? work : s->work);
    winograd_out(s->y + lo * q->geom.S_out, s->Mp + lo * nc, nc, Mg * nc,
                 s->B ? s->B + lo : NULL, hi - lo, q->geom.S_out, s->b0, nc);
}

/* Y_g (Mg, P) = bias + sum over taps of W_g,tap (Mg, Cg) @ X_g shifted. */
static void conv_winograd(float *yg, const float *xg, const float *B,
                          const float *Wg, float *scratch, const conv_plan *q)
{
    const conv_geom *cg = &q->geom;
    const int64_t Cg = cg->Cg, J = q->J;
    float *xp = scratch, *U = xp + round16(Cg * q->Lp);
    float *Mp = U + round16(6 * J * Cg * q->chunk);
    pad_rows(xp, xg, Cg, cg->in[2], cg->pb[2], q->Lp);
    onyx_threads *t = onyx_gemm_pool();
    const int parts = onyx_threads_count(t);
    for (int64_t b0 = 0; b0 < q->nb; b0 += q->chunk) {
        const int nc = (int)(q->nb - b0 < q->chunk ? q->nb - b0 : q->chunk);
        winograd_split s = {yg, U,  Mp, scratch + q->work, xp, B, Wg, q,
                            b0, nc, 1};
        const double wbytes = 6.0 * 4 * (double)cg->Mg * J * Cg;
        if (parts > 1 && wbytes > WINOGRAD_SPLIT_ROWS_BYTES &&
            cg->Mg >= parts * onyx_gemm_prepacked_rows()) {
            s.parts = parts;
            onyx_threads_run(t, winograd_in_band, &s, parts);
            onyx_threads_run(t, winograd_rows_band, &s, parts);
        } else if (parts > 1 && nc >= parts * onyx_gemm_prepacked_cols() &&
                   (double)cg->Mg * nc * J * Cg >= 1 << 16) {
            s.parts = parts;
            onyx_threads_run(t, winograd_band, &s, parts);
        } else
            winograd_band(&s, 0, NULL); /* one part: every tile */
    }
}

/* Y_g (Mg, P) [already the bias, when beta is 1] += sum over taps k of
 * W_g,k (Mg, Cg) @ X_g[:, k*d : k*d + P], X_g read in place or from its
 * zero-padded copy in scratch. */
static void conv_taps(float *yg, const float *xg, float beta, const float *Wg,
                      float *scratch, const conv_plan *q)
{
    const conv_geom *cg = &q->geom;
    const int64_t Cg = cg->Cg, Mg = cg->Mg, d = cg->d[2];
    const int P = (int)cg->S_out;
    const float *xs = xg;
    if (q->xcopy) {
        pad_rows(scratch, xg, Cg, cg->in[2], cg->pb[2], q->Lp);
        xs = scratch;
    }
    for (int64_t k = 0; k < cg->KK; k++) {
        onyx_sgemm(0, 0, (int)Mg, P, (int)Cg, 1.0f, Wg + k * Mg * Cg, (int)Cg,
                   xs + k * d, (int)q->Lp, beta, yg, P, scratch + q->work);
        beta = 1.0f;
    }
}

/* Y_g (Mg, P) = W_g @ col (+ bias) as Y_g^T (P, Mg) = col^T (P, K) @ W_g^T,
 * W_g^T packed in Wg: the P positions are the rows of onyx_gemm_packed,
 * which reads the weights once for several of them. */
static void conv_packed(float *yg, const float *xg, const float *Bg,
                        const float *Wg, float *scratch, const conv_plan *q)
{
    const conv_geom *cg = &q->geom;
    const int64_t K = q->K, P = cg->S_out, Mg = cg->Mg;
    float *col = scratch, *colT = col + K * P;
    float *YT = scratch + round16(2 * K * P);
    im2col(col, xg, 0, P, cg, q->taps);
    for (int64_t r = 0; r < K; r++)
        for (int64_t i = 0; i < P; i++)
            colT[i * K + r] = col[r * P + i];
    onyx_gemm_packed((int)P, (int)Mg, (int)K, 1.0f, colT, (long)K, Wg, 0.0f, YT,
                     (long)Mg);
    for (int64_t m = 0; m < Mg; m++) {
        const float b = Bg ? Bg[m] : 0.0f;
        for (int64_t i = 0; i < P; i++)
            yg[m * P + i] = YT[i * Mg + m] + b;
    }
}

/* xp: X_g's planes (Cg, Hq, Wq), X_g (Cg, H, W) at row pb[1], column
 * pb[2], zeros around, and zeros past the last plane (q->Lp in all). */
SPATIAL_HOT static void direct2_planes(float *restrict xp,
                                       const float *restrict x,
                                       const conv_geom *g, const conv_plan *q)
{
    const int64_t H = g->in[1], W = g->in[2], Wq = q->Wq, pw = g->pb[2];
    const int64_t n = W < Wq - pw ? W : Wq - pw; /* columns copied */
    const int64_t top = g->pb[1] < q->Hq ? g->pb[1] : q->Hq;
    const int64_t rows = H < q->Hq - top ? H : q->Hq - top; /* rows copied */
    for (int64_t c = 0; c < g->Cg; c++, x += H * W, xp += q->plane) {
        float *r = xp + top * Wq;
        memset(xp, 0, (size_t)(top * Wq) * sizeof *xp);
        if (pw == 0 && W == Wq) { /* rows as they are: one copy */
            memcpy(r, x, (size_t)(rows * W) * sizeof *xp);
        } else { /* widened rows: short ones, copied inline */
            for (int64_t h = 0; h < rows; h++, r += Wq) {
                const float *xr = x + h * W;
                for (int64_t j = 0; j < pw; j++)
                    r[j] = 0;
                for (int64_t j = 0; j < n; j++)
                    r[pw + j] = xr[j];
                for (int64_t j = pw + n; j < Wq; j++)
                    r[j] = 0;
            }
        }
        memset(xp + (top + rows) * Wq, 0,
               (size_t)((q->Hq - top - rows) * Wq) * sizeof *xp);
    }
    memset(xp, 0, (size_t)(q->Lp - g->Cg * q->plane) * sizeof *xp);
}

/* y (Mg, H_out, W_out) = the first W_out of each row of yv (Mg, H_out, Wq) */
SPATIAL_HOT static void direct2_rows(float *restrict y,
                                     const float *restrict yv,
                                     const conv_geom *g, const conv_plan *q)
{
    const int64_t W = g->out[2];
    for (int64_t r = 0; r < g->Mg * g->out[1]; r++, y += W, yv += q->Wq)
        for (int64_t j = 0; j < W; j++)
            y[j] = yv[j];
}

/* Y_g (Mg, H_out, W_out) = bias + W_g * X_g for a 2-D stride-1
 * convolution: the direct kernel over the planes as one row of Pv
 * positions, then (when the rows were widened) each row's first W_out. */
static void conv_direct2(float *yg, const float *xg, const float *Bg,
                         const float *Wg, float *scratch, const conv_plan *q)
{
    const conv_geom *cg = &q->geom;
    direct2_planes(scratch, xg, cg, q);
    const int keep = q->Wq == cg->out[2];
    float *yv = keep ? yg : scratch + round16(q->Lp);
    const onyx_conv_direct_args a = {yv, scratch,     q->off,     Wg,
                                     Bg, (int)cg->Mg, (int)q->Pv, (int)q->K};
    q->dk->fn(&a);
    if (!keep) direct2_rows(yg, yv, cg, q);
}

/* Y_g (Mg, P) = bias + W_g * X_g, direct from X_g's phase rows in
 * scratch. */
static void conv_direct(float *yg, const float *xg, const float *Bg,
                        const float *Wg, float *scratch, const conv_plan *q)
{
    const conv_geom *cg = &q->geom;
    if (q->Wq) {
        conv_direct2(yg, xg, Bg, Wg, scratch, q);
        return;
    }
    onyx_conv_direct_phases(scratch, xg, cg->Cg, cg->in[2], cg->pb[2], cg->s[2],
                            q->Lp);
    const onyx_conv_direct_args a = {
        yg, scratch, q->off, Wg, Bg, (int)cg->Mg, (int)cg->S_out, (int)q->K};
    q->dk->fn(&a);
}

static onyx_status conv_eval(onyx_exec *e)
{
    const conv_plan *q = e->params;
    const conv_geom *cg = &q->geom;
    const float *X = e->in[CONV_X]->data, *W = e->in[CONV_W]->data;
    const float *B = cg->has_bias ? e->in[CONV_B]->data : NULL;
    if (!e->out[CONV_Y]) return ONYX_OK;
    float *Y = e->out[CONV_Y]->data;
    float *col = e->scratch, *work = col + q->work;
    const int Mg = (int)cg->Mg, P = (int)cg->S_out, K = (int)q->K;

    for (int64_t n = 0; n < cg->N; n++) {
        const float *xn = X + n * cg->C * cg->S_in;
        float *yn = Y + n * cg->M * P;
        if (q->path == CONV_DEPTHWISE) {
            depthwise_channels(yn, xn, W, B, cg, q->taps, K);
            continue;
        }
        for (int64_t g = 0; g < cg->G; g++) {
            const float *xg = xn + g * cg->Cg * cg->S_in;
            float *yg = yn + g * cg->Mg * P;
            const float *Bg = B ? B + g * cg->Mg : NULL;
            if (q->path == CONV_WINOGRAD) {
                conv_winograd(yg, xg, Bg, q->Wp + g * 6 * q->wstride, col, q);
                continue;
            }
            if (q->path == CONV_PACKED) {
                conv_packed(yg, xg, Bg, q->Wp + g * q->wstride, col, q);
                continue;
            }
            if (q->path == CONV_DIRECT) {
                conv_direct(yg, xg, Bg, q->Wp + g * q->wstride, col, q);
                continue;
            }
            /* the bias as C's initial value: the products add to it */
            float beta = 0.0f;
            if (Bg) {
                for (int64_t m = 0; m < cg->Mg; m++) {
                    float bv = Bg[m], *yr = yg + m * P;
                    for (int64_t i = 0; i < P; i++)
                        yr[i] = bv;
                }
                beta = 1.0f;
            }
            if (q->path == CONV_TAPS) {
                conv_taps(yg, xg, beta, q->Wp + g * cg->KK * cg->Mg * cg->Cg,
                          col, q);
                continue;
            }
            const float *Wg = W + g * cg->Mg * K;
            if (q->path == CONV_POINTWISE) {
                /* Y_g (Mg, P) = W_g (Mg, Cg) @ X_g (Cg, P) [+ bias] */
                onyx_sgemm(0, 0, Mg, P, K, 1.0f, Wg, K, xg, P, beta, yg, P,
                           work);
                continue;
            }
            for (int64_t p0 = 0; p0 < P; p0 += q->chunk) {
                int64_t p1 = p0 + q->chunk < P ? p0 + q->chunk : P;
                int cols = (int)(p1 - p0);
                im2col(col, xg, p0, p1, cg, q->taps);
                /* Y_g[:, p0:p1] (Mg, cols) = W_g (Mg, K) @ col (K, cols) [+ b]
                 */
                onyx_sgemm(0, 0, Mg, cols, K, 1.0f, Wg, K, col, cols, beta,
                           yg + p0, P, work);
            }
        }
    }
    return ONYX_OK;
}

const onyx_op onyx_op_Conv = {"Conv", conv_prepare, conv_eval, 0, NULL};
