/* conv_direct_x86.c - the direct convolution's micro-kernel for x86-64
 * CPUs with AVX2 + FMA (4 channels x 3 vectors of 8 positions: 12 of the
 * 16 ymm registers hold sums) and AVX-512F (8 x 3 of 16: 24 of 32);
 * conv_direct.c picks one at load time by the CPU. Multiply-adds are
 * fused. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)

#pragma GCC optimize("O3", "fp-contract=fast")

#define CD_NAME onyx_conv_direct_f32_avx2
#define CD_VL   8
#define CD_MR   4
#define CD_ATTR __attribute__((target("avx2,fma")))
#include "conv_direct_tmpl.h"
#undef CD_NAME
#undef CD_VL
#undef CD_MR
#undef CD_ATTR

#define CD_NAME onyx_conv_direct_f32_avx512
#define CD_VL   16
#define CD_MR   8
#define CD_ATTR __attribute__((target("avx512f,fma,prefer-vector-width=512")))
#include "conv_direct_tmpl.h"

#else
typedef int onyx_conv_direct_x86_unused; /* ISO C wants a declaration */
#endif
