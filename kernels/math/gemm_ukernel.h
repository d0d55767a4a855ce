/* gemm_ukernel.h - the micro-kernels of the blocked sgemm (gemm.c) and the
 * blocked driver itself, for gemm.c and the unit tests.
 *
 * A micro-kernel computes one full MR x NR tile of C from packed panels:
 *
 *   C (MR, NR; row stride ldc) += Ap (kc, MR)^T @ Bp (kc, NR)
 *
 * Ap holds MR rows of op(A) interleaved per k step (Ap[p * MR + i]), Bp NR
 * columns of op(B) per k step (Bp[p * NR + j]); both are 64-byte aligned
 * and zero-padded past the matrix edges by the driver, which also handles
 * partial tiles (through a full tile on its stack). Every ISA has its own
 * file in kernels/arch/, named by what it computes, its tile and its ISA
 * (f32_gemm_6x8_neon.c); each compiles to nothing on other ISAs. The
 * portable one (GNU C vectors) is the reference the others are tested
 * against. gemm.c chooses one, once: at build time on ARM, at load time by
 * the CPU on x86-64. */
#ifndef ONYX_GEMM_UKERNEL_H
#define ONYX_GEMM_UKERNEL_H

#include <stddef.h>

typedef void onyx_gemm_ukernel_fn(int kc, const float *Ap, const float *Bp,
                                  float *C, long ldc);

typedef struct {
    const char *name;         /* "f32_gemm_6x8_neon" */
    onyx_gemm_ukernel_fn *fn; /* the tile product above */
    int mr, nr;               /* tile: rows of C, columns of C */
    int kc, mc, nc;           /* blocking: depth of a packed slice, rows of a
                                 packed A block (multiple of mr), columns of
                                 a packed B block (multiple of nr) */
} onyx_gemm_ukernel;

/* the largest tile any micro-kernel uses (the driver's edge tile) */
#define ONYX_GEMM_MAX_TILE (16 * 32)

/* The micro-kernels built for this ISA and usable on this CPU, the portable
 * one first and the one onyx_sgemm uses last; returns how many (<= max). */
int onyx_gemm_ukernels(const onyx_gemm_ukernel **list, int max);

/* Floats of packing space onyx_sgemm_blocked needs with micro-kernel uk. */
size_t onyx_gemm_pack_floats(const onyx_gemm_ukernel *uk, int m, int n, int k);

/* C (m,n) = alpha * op(A) @ op(B) + beta * C as onyx_sgemm, always through
 * the packed blocks and micro-kernel uk; work holds
 * onyx_gemm_pack_floats(uk, m, n, k) floats, 64-byte aligned. */
void onyx_sgemm_blocked(const onyx_gemm_ukernel *uk, int trans_a, int trans_b,
                        int m, int n, int k, float alpha, const float *A,
                        int lda, const float *B, int ldb, float beta, float *C,
                        int ldc, float *work);

/* the micro-kernels; each is defined only where its ISA is compiled */
extern const onyx_gemm_ukernel onyx_f32_gemm_4x8_portable;
extern const onyx_gemm_ukernel onyx_f32_gemm_6x8_neon;     /* armv7 */
extern const onyx_gemm_ukernel onyx_f32_gemm_8x8_neonfma;  /* aarch64 */
extern const onyx_gemm_ukernel onyx_f32_gemm_6x16_avx2;    /* x86-64 */
extern const onyx_gemm_ukernel onyx_f32_gemm_12x32_avx512; /* x86-64 */

#endif
