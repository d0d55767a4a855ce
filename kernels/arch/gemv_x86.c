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

/* 4 rows x 2 panels x 2 vectors: 16 of the 16 ymm registers hold sums */
#define GR_NAME onyx_gemm_rows_f32_avx2
#define GR_VL   8
#define GR_MR   4
#define GR_NP   2
#define GR_ATTR __attribute__((target("avx2,fma")))
#include "gemm_rows_tmpl.h"
#undef GR_NAME
#undef GR_VL
#undef GR_MR
#undef GR_NP
#undef GR_ATTR

#define GK_NAME onyx_gemv_f32_avx512
#define GK_VL   16
#define GK_ATTR __attribute__((target("avx512f,fma,prefer-vector-width=512")))
#include "gemv_tmpl.h"

/* 4 rows x 4 panels of one vector: 16 of the 32 zmm registers hold sums
 * (8 rows x 2 panels measured no faster) */
#define GR_NAME onyx_gemm_rows_f32_avx512
#define GR_VL   16
#define GR_MR   4
#define GR_NP   4
#define GR_ATTR GK_ATTR
#include "gemm_rows_tmpl.h"

#else
typedef int onyx_gemv_x86_unused; /* ISO C wants a declaration in a file */
#endif
