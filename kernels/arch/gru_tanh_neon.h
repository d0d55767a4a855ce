/* gru_tanh_neon.h - the fused steps' tanh (gru_arch.h) on 4 lanes and the
 * loads the NEON steps share (GRU: arch/gru_neon*.c, LSTM:
 * arch/lstm_neon*.c), inline. 32-bit ARM: Horner with multiply-accumulates,
 * division by a reciprocal estimate and two Newton steps. aarch64: the
 * polynomials summed from the powers of x^2 with the coefficients as lanes
 * (no fused multiply-add overwrites a constant, so no register copies), a
 * true division. */
#ifndef ONYX_GRU_TANH_NEON_H
#define ONYX_GRU_TANH_NEON_H

#include "gru_arch.h"

#include <arm_neon.h>

/* 4 vectors interleaved by 4 at *pw, then *pw past them. The barrier
 * keeps the compiler from computing each address apart (NEON's structure
 * loads take no offset: that costs an add per load); the bump becomes the
 * load's post-increment. */
static inline __attribute__((always_inline)) float32x4x4_t
gru_ld4_next(const float **pw)
{
    const float32x4x4_t v = vld4q_f32(*pw);
    *pw += 16;
    __asm__("" : "+r"(*pw));
    return v;
}

#if defined(__aarch64__)

/* the tanh's constants, held in registers through a step */
typedef struct gru64_k {
    float32x4_t P, Q; /* P1..P4, Q1..Q4 as lanes */
    float32x4_t lo, hi, one, half;
} gru64_k;

static inline gru64_k gru64_consts(void)
{
    const float p[4] = {ONYX_GRU_P1, ONYX_GRU_P2, ONYX_GRU_P3, ONYX_GRU_P4};
    const float q[4] = {ONYX_GRU_Q1, ONYX_GRU_Q2, ONYX_GRU_Q3, ONYX_GRU_Q4};
    gru64_k k = {vld1q_f32(p),
                 vld1q_f32(q),
                 vdupq_n_f32(-ONYX_GRU_CLAMP),
                 vdupq_n_f32(ONYX_GRU_CLAMP),
                 vdupq_n_f32(1.0f),
                 vdupq_n_f32(0.5f)};
    /* opaque to the compiler: it would otherwise fold each lane into a
     * constant vector of its own, loaded from memory at each use */
    __asm__("" : "+w"(k.P), "+w"(k.Q));
    return k;
}

/* tanh as gru_arch.h gives it: x (1 + P1 z + P2 z^2 + P3 z^3 + P4 z^4) /
 * (1 + Q1 z + ... + Q4 z^4), z = x^2; every term is positive, so the sum
 * in this order is as accurate as Horner's */
static inline __attribute__((always_inline)) float32x4_t
gru64_tanh4(float32x4_t x, const gru64_k *k)
{
    x = vminq_f32(vmaxq_f32(x, k->lo), k->hi);
    const float32x4_t z = vmulq_f32(x, x), z2 = vmulq_f32(z, z);
    const float32x4_t z3 = vmulq_f32(z2, z), z4 = vmulq_f32(z2, z2);
    float32x4_t p = vmulq_laneq_f32(z, k->P, 0);
    float32x4_t q = vmulq_laneq_f32(z, k->Q, 0);
    p = vfmaq_laneq_f32(p, z2, k->P, 1);
    q = vfmaq_laneq_f32(q, z2, k->Q, 1);
    p = vfmaq_laneq_f32(p, z3, k->P, 2);
    q = vfmaq_laneq_f32(q, z3, k->Q, 2);
    p = vfmaq_laneq_f32(p, z4, k->P, 3);
    q = vfmaq_laneq_f32(q, z4, k->Q, 3);
    return vdivq_f32(vfmaq_f32(x, x, p), vaddq_f32(q, k->one));
}

#else

/* a + b c, not fused (armv7 has no fused multiply-add) */
#define GRU_MLA_LANE(a, w, x, l)                                               \
    vmlaq_lane_f32(a, w, (l) < 2 ? vget_low_f32(x) : vget_high_f32(x), (l)&1)
#define GRU_MLA_N(a, w, s) vmlaq_n_f32(a, w, s)
#define GRU_MLA(a, b, c)   vmlaq_f32(a, b, c)

static inline float32x4_t gru_div(float32x4_t a, float32x4_t b)
{
    float32x4_t r = vrecpeq_f32(b);
    r = vmulq_f32(r, vrecpsq_f32(b, r));
    r = vmulq_f32(r, vrecpsq_f32(b, r));
    return vmulq_f32(a, r);
}

/* tanh as gru_arch.h gives it */
static inline __attribute__((always_inline)) float32x4_t
gru_tanh4(float32x4_t x)
{
    x = vminq_f32(vmaxq_f32(x, vdupq_n_f32(-ONYX_GRU_CLAMP)),
                  vdupq_n_f32(ONYX_GRU_CLAMP));
    const float32x4_t z = vmulq_f32(x, x);
    float32x4_t p =
        GRU_MLA(vdupq_n_f32(ONYX_GRU_P3), vdupq_n_f32(ONYX_GRU_P4), z);
    p = GRU_MLA(vdupq_n_f32(ONYX_GRU_P2), p, z);
    p = GRU_MLA(vdupq_n_f32(ONYX_GRU_P1), p, z);
    p = vmulq_f32(GRU_MLA(vdupq_n_f32(1.0f), p, z), x);
    float32x4_t q =
        GRU_MLA(vdupq_n_f32(ONYX_GRU_Q3), vdupq_n_f32(ONYX_GRU_Q4), z);
    q = GRU_MLA(vdupq_n_f32(ONYX_GRU_Q2), q, z);
    q = GRU_MLA(vdupq_n_f32(ONYX_GRU_Q1), q, z);
    q = GRU_MLA(vdupq_n_f32(1.0f), q, z);
    return gru_div(p, q);
}

#endif
#endif
