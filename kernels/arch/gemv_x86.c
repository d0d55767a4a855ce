/* gemv_x86.c - the packed matrix-vector micro-kernel for x86-64 CPUs with
 * AVX2 + FMA (8 floats a vector) and AVX-512F (16); gemv.c picks one at
 * load time by the CPU. Multiply-adds are fused. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)

#pragma GCC optimize("O3", "fp-contract=fast")

#define GK_NAME onyx_gemv_f32_avx2
#define GK_VL   8
#define GK_ATTR __attribute__((target("avx2,fma")))
#include "gemv_tmpl.h"
#undef GK_NAME
#undef GK_VL
#undef GK_ATTR

#define GK_NAME onyx_gemv_f32_avx512
#define GK_VL   16
#define GK_ATTR __attribute__((target("avx512f,fma,prefer-vector-width=512")))
#include "gemv_tmpl.h"

#else
typedef int onyx_gemv_x86_unused; /* ISO C wants a declaration in a file */
#endif
