/* mt19937.c - the Mersenne Twister MT19937 (see mt19937.h).
 *
 * Algorithm: M. Matsumoto and T. Nishimura, "Mersenne Twister: a
 * 623-dimensionally equidistributed uniform pseudo-random number generator",
 * ACM Trans. Model. Comput. Simul. 8(1), 3-30, 1998; seeding by the linear
 * recurrence of their 2002 revision (init_genrand), which is also what
 * numpy's legacy RandomState uses for an integer seed. The 53-bit double is
 * numpy's random_sample(): (a >> 5) * 2^26 + (b >> 6), over 2^53. */
#include "mt19937.h"

enum {
    MT_N = ONYX_MT19937_N,
    MT_M = 397, /* middle word offset of the recurrence */
};
#define MT_MATRIX_A   0x9908b0dfu /* last row of the twist matrix A */
#define MT_UPPER_MASK 0x80000000u /* the top bit (w - r = 1) */
#define MT_LOWER_MASK 0x7fffffffu /* the low r = 31 bits */

void onyx_mt19937_seed(onyx_mt19937 *s, uint32_t seed)
{
    /* x[0] = seed, x[i] = 1812433253 (x[i-1] ^ (x[i-1] >> 30)) + i mod 2^32
     * (Knuth's multiplier, TAOCP vol. 2, 3rd ed., p. 106) */
    s->mt[0] = seed;
    for (uint32_t i = 1; i < MT_N; i++) {
        uint32_t prev = s->mt[i - 1];
        s->mt[i] = 1812433253u * (prev ^ (prev >> 30)) + i;
    }
    s->pos = MT_N;
}

/* Twist all N words at once:
 *   x[k] = x[k+M] ^ ((upper(x[k]) | lower(x[k+1])) A)
 * where multiplying y by A is (y >> 1), xor MATRIX_A when y is odd. Indices
 * are mod N; x[k+M] and x[k+1] already hold new values once they wrap. */
static void mt_twist(onyx_mt19937 *s)
{
    uint32_t *mt = s->mt;
    for (int k = 0; k < MT_N; k++) {
        uint32_t y =
            (mt[k] & MT_UPPER_MASK) | (mt[(k + 1) % MT_N] & MT_LOWER_MASK);
        mt[k] =
            mt[(k + MT_M) % MT_N] ^ (y >> 1) ^ ((y & 1u) ? MT_MATRIX_A : 0u);
    }
    s->pos = 0;
}

uint32_t onyx_mt19937_next32(onyx_mt19937 *s)
{
    if (s->pos >= MT_N) mt_twist(s);
    uint32_t y = s->mt[s->pos++];
    /* tempering: shifts u = 11, s = 7, t = 15, l = 18 and masks b, c */
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

double onyx_mt19937_next_double(onyx_mt19937 *s)
{
    uint32_t a = onyx_mt19937_next32(s) >> 5; /* top 27 bits */
    uint32_t b = onyx_mt19937_next32(s) >> 6; /* top 26 bits */
    return ((double)a * 67108864.0 + (double)b) * (1.0 / 9007199254740992.0);
}
