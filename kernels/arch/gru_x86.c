/* gru_x86.c - the fused GRU step (gru_arch.h) for x86-64 CPUs with AVX2 +
 * FMA (groups of 8 units) and AVX-512F (16), on the plain layout of
 * onyx_gru_pack_vec; gru_step.c picks one at load time by the CPU.
 * Multiply-adds are fused. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)

#pragma GCC optimize("O3", "fp-contract=fast")

#define GV_NAME onyx_gru_step_avx2
#define GV_VL   8
#define GV_ATTR __attribute__((target("avx2,fma")))
#include "gru_vec_tmpl.h"
#undef GV_NAME
#undef GV_VL
#undef GV_ATTR

#define GV_NAME onyx_gru_step_avx512
#define GV_VL   16
#define GV_ATTR __attribute__((target("avx512f,fma,prefer-vector-width=512")))
#include "gru_vec_tmpl.h"

#else
typedef int onyx_gru_x86_unused; /* ISO C wants a declaration in a file */
#endif
