/* gru_plain.c - the yardstick of issue 12's per-sample target: a GRU(1,H)
 * + Linear(H,1) step written plainly in C, as anyone would without an
 * engine (PyTorch's equations, row-major loops, expf/tanhf), built with
 * -O3 -ffast-math -march=native. It times steps with the state fed back
 * and prints the median time per step in nanoseconds over blocks of
 * steps, for bench/gru_plain.py to set beside `onyx bench --block 1`.
 *
 * usage: gru_plain H SECONDS */
#define _POSIX_C_SOURCE 199309L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define MAXH 256

static float w_ih[3 * MAXH], w_hh[3 * MAXH * MAXH], b_ih[3 * MAXH],
    b_hh[3 * MAXH], w_o[MAXH], b_o;

static float sigm(float v)
{
    return 1.0f / (1.0f + expf(-v));
}

/* one step: h <- GRU(x, h), returns the Linear of the new h */
static float step(int H, float x, float *h)
{
    float gh[3 * MAXH], hn[MAXH];
    for (int r = 0; r < 3 * H; r++) {
        float acc = b_hh[r];
        const float *w = w_hh + (size_t)r * H;
        for (int k = 0; k < H; k++)
            acc += w[k] * h[k];
        gh[r] = acc;
    }
    for (int i = 0; i < H; i++) {
        float r = sigm(w_ih[i] * x + b_ih[i] + gh[i]);
        float z = sigm(w_ih[H + i] * x + b_ih[H + i] + gh[H + i]);
        float n =
            tanhf(w_ih[2 * H + i] * x + b_ih[2 * H + i] + r * gh[2 * H + i]);
        hn[i] = (1.0f - z) * n + z * h[i];
    }
    float y = b_o;
    for (int i = 0; i < H; i++) {
        h[i] = hn[i];
        y += w_o[i] * hn[i];
    }
    return y;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int H = argc > 1 ? atoi(argv[1]) : 0;
    double secs = argc > 2 ? atof(argv[2]) : 0;
    if (H < 1 || H > MAXH || !(secs > 0)) {
        fprintf(stderr, "usage: gru_plain H SECONDS (H from 1 to %d)\n", MAXH);
        return 2;
    }
    float s = 1.0f / sqrtf((float)H);
    unsigned rng = 1;
#define RND()                                                                  \
    (rng = rng * 1664525u + 1013904223u, ((rng >> 8) / 16777216.0f * 2 - 1) * s)
    for (int i = 0; i < 3 * H; i++)
        w_ih[i] = RND(), b_ih[i] = RND(), b_hh[i] = RND();
    for (int i = 0; i < 3 * H * H; i++)
        w_hh[i] = RND();
    for (int i = 0; i < H; i++)
        w_o[i] = RND();
    b_o = RND();
    float h[MAXH] = {0}, x = 0.5f, sink = 0;
    enum { STEPS = 1000, MAXB = 100000 };
    static double per[MAXB];
    int nb = 0;
    double end = now() + secs;
    while (nb < MAXB && now() < end) {
        double t0 = now();
        for (int k = 0; k < STEPS; k++) {
            sink += step(H, x, h);
            x = -x; /* a signal that changes */
        }
        per[nb++] = (now() - t0) / STEPS;
    }
    qsort(per, (size_t)nb, sizeof *per, cmp);
    printf("%.3f\n", per[nb / 2] * 1e9);
    return sink == 12345.0f; /* keeps the steps */
}
