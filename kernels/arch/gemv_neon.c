/* gemv_neon.c - the packed matrix-vector micro-kernel for ARM NEON (4
 * floats a vector): armv7-a (Bela; multiply-accumulates are not fused,
 * subnormals flush to zero) and aarch64 (Bela Gem; fused). */
#if defined(__ARM_NEON)

#pragma GCC optimize("O3", "fp-contract=fast")

#define GK_NAME onyx_gemv_f32_neon
#define GK_VL   4
#define GK_ATTR
#include "gemv_tmpl.h"

#else
typedef int onyx_gemv_neon_unused; /* ISO C wants a declaration in a file */
#endif
