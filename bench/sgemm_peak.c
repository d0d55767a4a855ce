/* sgemm_peak: the machine's single-core reference numbers for bench/compare.py.
 *
 *   sgemm_peak [--seconds S] SPEC...
 *
 * SPEC is either
 *   MxNxK      C(M,N) = A(M,K) B(K,N), row-major, no transposes, through
 *              OpenBLAS's cblas_sgemm on one thread
 *   gemv:MxN   y(M) = A(M,N) x(N), row-major (a Linear layer's weight
 *              (out, in) at batch 1), through cblas_sgemv on one thread
 *   read:BYTES one pass of reads over a buffer of BYTES bytes (summing its
 *              floats), repeated: the bandwidth at that size, caches included
 *
 * Each SPEC is warmed up, then timed call by call for S seconds (default 0.3;
 * at least 5 calls); one JSON object per SPEC on stdout:
 *   {"kind":"sgemm","m":..,"n":..,"k":..,"runs":..,"median_us":..,"min_us":..,"gflops":..}
 *   {"kind":"sgemv","m":..,"n":..,"runs":..,"median_us":..,"min_us":..,"gflops":..}
 *   {"kind":"read","bytes":..,"runs":..,"median_us":..,"min_us":..,"gb_per_s":..}
 * gflops and gb_per_s are from the median time (2*M*N*K or 2*M*N flops per
 * call).
 */
#define _GNU_SOURCE
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef float v8f __attribute__((vector_size(32)));

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec * 1e-3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void *xalloc(size_t bytes)
{
    size_t n = (bytes + 63) / 64 * 64;
    void *p = aligned_alloc(64, n ? n : 64);
    if (!p) {
        fprintf(stderr, "sgemm_peak: out of memory (%zu bytes)\n", bytes);
        exit(1);
    }
    memset(p, 0, n ? n : 64);
    return p;
}

static void fill(float *x, size_t n, unsigned *seed)
{
    for (size_t i = 0; i < n; i++) {
        *seed = *seed * 1664525u + 1013904223u;
        x[i] = (float)((*seed >> 9) * (1.0 / 8388608.0) - 0.5);
    }
}

/* the timing loop shared by both kinds: warm up for ~S/10 (at least 3
 * calls), then time single calls for S seconds (at least 5, at most MAXRUNS) */
#define MAXRUNS 1000000
static double times[MAXRUNS];

typedef void (*job_fn)(void *);

static int measure(job_fn fn, void *arg, double seconds, double *median,
                   double *min)
{
    double t0 = now_us();
    for (int i = 0; i < 3 || now_us() - t0 < seconds * 1e5; i++)
        fn(arg);
    int runs = 0;
    double start = now_us();
    while (runs < MAXRUNS && (runs < 5 || now_us() - start < seconds * 1e6)) {
        double a = now_us();
        fn(arg);
        times[runs++] = now_us() - a;
    }
    qsort(times, runs, sizeof times[0], cmp_double);
    *median = runs % 2 ? times[runs / 2]
                       : 0.5 * (times[runs / 2 - 1] + times[runs / 2]);
    *min = times[0];
    return runs;
}

struct gemm {
    int m, n, k;
    float *a, *b, *c;
};

static void gemm_job(void *p)
{
    struct gemm *g = p;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->m, g->n, g->k,
                1.0f, g->a, g->k, g->b, g->n, 0.0f, g->c, g->n);
}

struct gemv {
    int m, n;
    float *a, *x, *y;
};

static void gemv_job(void *p)
{
    struct gemv *g = p;
    cblas_sgemv(CblasRowMajor, CblasNoTrans, g->m, g->n, 1.0f, g->a, g->n, g->x,
                1, 0.0f, g->y, 1);
}

struct reader {
    const float *buf;
    size_t n;
    volatile float sink;
};

static void read_job(void *p)
{
    struct reader *r = p;
    const v8f *v = (const v8f *)r->buf;
    size_t nv = r->n / 8, i = 0;
    v8f s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0}, s4 = {0}, s5 = {0}, s6 = {0},
        s7 = {0};
    for (; i + 8 <= nv; i += 8) {
        s0 += v[i];
        s1 += v[i + 1];
        s2 += v[i + 2];
        s3 += v[i + 3];
        s4 += v[i + 4];
        s5 += v[i + 5];
        s6 += v[i + 6];
        s7 += v[i + 7];
    }
    for (; i < nv; i++)
        s0 += v[i];
    v8f s = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
    float t = 0;
    for (int j = 0; j < 8; j++)
        t += s[j];
    for (size_t j = nv * 8; j < r->n; j++)
        t += r->buf[j];
    r->sink = t;
}

int main(int argc, char **argv)
{
    double seconds = 0.3;
    unsigned seed = 12345;
    int nspec = 0;
    openblas_set_num_threads(1);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--seconds") && i + 1 < argc) {
            seconds = atof(argv[++i]);
            continue;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            printf("usage: sgemm_peak [--seconds S] MxNxK... gemv:MxN... "
                   "read:BYTES...\n");
            return 0;
        }
        double med, min;
        int m, n, k, runs;
        long long bytes;
        char tail;
        if (sscanf(a, "read:%lld%c", &bytes, &tail) == 1 && bytes >= 32) {
            struct reader r;
            r.n = (size_t)bytes / sizeof(float);
            float *buf = xalloc(r.n * sizeof(float));
            fill(buf, r.n, &seed);
            r.buf = buf;
            runs = measure(read_job, &r, seconds, &med, &min);
            printf("{\"kind\":\"read\",\"bytes\":%lld,\"runs\":%d,\"median_"
                   "us\":%.3f,"
                   "\"min_us\":%.3f,\"gb_per_s\":%.3f}\n",
                   (long long)(r.n * sizeof(float)), runs, med, min,
                   r.n * sizeof(float) / (med * 1e3));
            free(buf);
        } else if (sscanf(a, "gemv:%dx%d%c", &m, &n, &tail) == 2 && m > 0 &&
                   n > 0) {
            struct gemv g = {m, n, xalloc(sizeof(float) * m * n),
                             xalloc(sizeof(float) * n),
                             xalloc(sizeof(float) * m)};
            fill(g.a, (size_t)m * n, &seed);
            fill(g.x, (size_t)n, &seed);
            runs = measure(gemv_job, &g, seconds, &med, &min);
            printf("{\"kind\":\"sgemv\",\"m\":%d,\"n\":%d,\"runs\":%d,"
                   "\"median_us\":%.3f,\"min_us\":%.3f,\"gflops\":%.3f}\n",
                   m, n, runs, med, min, 2.0 * m * n / (med * 1e3));
            free(g.a);
            free(g.x);
            free(g.y);
        } else if (sscanf(a, "%dx%dx%d%c", &m, &n, &k, &tail) == 3 && m > 0 &&
                   n > 0 && k > 0) {
            struct gemm g = {m,
                             n,
                             k,
                             xalloc(sizeof(float) * m * k),
                             xalloc(sizeof(float) * k * n),
                             xalloc(sizeof(float) * m * n)};
            fill(g.a, (size_t)m * k, &seed);
            fill(g.b, (size_t)k * n, &seed);
            runs = measure(gemm_job, &g, seconds, &med, &min);
            printf("{\"kind\":\"sgemm\",\"m\":%d,\"n\":%d,\"k\":%d,\"runs\":%d,"
                   "\"median_us\":%.3f,\"min_us\":%.3f,\"gflops\":%.3f}\n",
                   m, n, k, runs, med, min, 2.0 * m * n * k / (med * 1e3));
            free(g.a);
            free(g.b);
            free(g.c);
        } else {
            fprintf(stderr,
                    "sgemm_peak: bad argument '%s' (want MxNxK, gemv:MxN or "
                    "read:BYTES)\n",
                    a);
            return 2;
        }
        fflush(stdout);
        nspec++;
    }
    if (!nspec) {
        fprintf(stderr, "usage: sgemm_peak [--seconds S] MxNxK... gemv:MxN... "
                        "read:BYTES...\n");
        return 2;
    }
    return 0;
}
