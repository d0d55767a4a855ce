/* rnn_x86.c - the fused GRU and LSTM steps (gru_arch.h, lstm_arch.h) for
 * x86-64 CPUs with AVX2 + FMA (groups of 8 units) and AVX-512F (16), on the
 * plain layouts of onyx_gru_pack_vec and onyx_lstm_pack_vec; gru_step.c and
 * lstm_step.c pick one at load time by the CPU. Multiply-adds are fused. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)

#pragma GCC optimize("O3", "fp-contract=fast")

#define RV_ISA  avx2
#define RV_VL   8
#define RV_ATTR __attribute__((target("avx2,fma")))
#include "rnn_vec_tmpl.h"
#undef RV_ISA
#undef RV_VL
#undef RV_ATTR

#define RV_ISA  avx512
#define RV_VL   16
#define RV_ATTR __attribute__((target("avx512f,fma,prefer-vector-width=512")))
#include "rnn_vec_tmpl.h"

#else
typedef int onyx_rnn_x86_unused; /* ISO C wants a declaration in a file */
#endif
