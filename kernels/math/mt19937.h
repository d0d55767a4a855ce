/* mt19937.h - the Mersenne Twister MT19937, seeded and read the way numpy's
 * legacy RandomState does for an integer seed, so that ops whose ONNX
 * reference draws from np.random (Dropout in training mode) give the same
 * numbers.
 *
 * The state is a plain struct (~2.5 KB) with no allocation: keep it on the
 * stack, seed it, draw. */
#ifndef ONYX_MT19937_H
#define ONYX_MT19937_H

#include <stdint.h>

#define ONYX_MT19937_N 624 /* words of state */

typedef struct {
    uint32_t mt[ONYX_MT19937_N]; /* the state vector */
    int pos; /* next word of mt to temper; N means regenerate first */
} onyx_mt19937;

/* np.random.RandomState(seed) for 0 <= seed <= 2^32 - 1. */
void onyx_mt19937_seed(onyx_mt19937 *s, uint32_t seed);

/* The next 32-bit output. */
uint32_t onyx_mt19937_next32(onyx_mt19937 *s);

/* RandomState.random_sample(): a double in [0, 1) with 53 random bits, made
 * from two 32-bit outputs (27 + 26 bits). */
double onyx_mt19937_next_double(onyx_mt19937 *s);

#endif
