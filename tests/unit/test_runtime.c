/* test_runtime.c - the run-time contract of the engine:
 *   - onyx_instance_run allocates nothing: malloc and friends are wrapped and
 *     counted while every conformance model runs (after one warm-up run, so
 *     that OpenBLAS's one-time buffers do not count);
 *   - several instances of one program run at the same time in different
 *     threads and each gets its own, correct result.
 * The malloc wrapper is left out of sanitizer builds (they own malloc). */
#include "../../src/engine/onyx.h"

#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define COUNT_ALLOCS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define COUNT_ALLOCS 0
#endif
#endif
#ifndef COUNT_ALLOCS
#define COUNT_ALLOCS 1
#endif

static atomic_int counting;
static atomic_long allocs;

#if COUNT_ALLOCS
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
void *malloc(size_t n)
{
    if (atomic_load(&counting)) atomic_fetch_add(&allocs, 1);
    return __libc_malloc(n);
}
void *calloc(size_t a, size_t b)
{
    if (atomic_load(&counting)) atomic_fetch_add(&allocs, 1);
    return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n)
{
    if (atomic_load(&counting)) atomic_fetch_add(&allocs, 1);
    return __libc_realloc(p, n);
}
void *aligned_alloc(size_t al, size_t n)
{
    if (atomic_load(&counting)) atomic_fetch_add(&allocs, 1);
    return __libc_memalign(al, n);
}
int posix_memalign(void **out, size_t al, size_t n)
{
    if (atomic_load(&counting)) atomic_fetch_add(&allocs, 1);
    *out = __libc_memalign(al, n);
    return *out ? 0 : 12;
}
#endif

#ifndef TESTDATA
#define TESTDATA "/usr/share/libonnx-testdata/data"
#endif

START_TEST(run_does_not_allocate)
{
    FILE *f = fopen("tests/conformance/core_tests.txt", "r");
    ck_assert_msg(f != NULL, "run from the repository root");
    char line[512];
    int models = 0, ran = 0, bad = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0]) continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s/model.onnx", TESTDATA, line);
        onyx_error err = {0};
        onyx_model *m = onyx_model_load(path, &err);
        if (!m) continue;
        models++;
        /* static input shapes only; models needing values to resolve are
         * covered by the conformance run */
        onyx_program *p = onyx_program_new(m, NULL, 0, &err);
        onyx_instance *x = p ? onyx_instance_new(p, &err) : NULL;
        if (x) {
            onyx_instance_run(x, NULL, NULL); /* warm-up */
            atomic_store(&allocs, 0);
            atomic_store(&counting, 1);
            onyx_instance_run(x, NULL, NULL);
            onyx_instance_run(x, NULL, NULL);
            atomic_store(&counting, 0);
            if (atomic_load(&allocs) != 0) {
                fprintf(stderr, "%s: run allocated %ld times\n", line,
                        atomic_load(&allocs));
                bad++;
            }
            ran++;
        }
        onyx_instance_free(x);
        onyx_program_free(p);
        onyx_model_free(m);
    }
    fclose(f);
    ck_assert_int_eq(bad, 0);
    ck_assert_int_gt(models, 600);
    ck_assert_int_gt(ran, 400);
}
END_TEST

/* ---- threads: one program, one instance per thread ---- */
typedef struct job {
    const onyx_program *p;
    float scale;
    int ok;
} job;

static void *worker(void *arg)
{
    job *j = arg;
    onyx_error err = {0};
    onyx_instance *x = onyx_instance_new(j->p, &err);
    j->ok = x != NULL;
    for (int it = 0; it < 300 && j->ok; it++) {
        onyx_tensor *in = onyx_instance_input(x, 0);
        int64_t n = 1;
        for (int d = 0; d < in->rank; d++)
            n *= in->dims[d];
        float *xd = in->data;
        for (int64_t k = 0; k < n; k++)
            xd[k] = j->scale * (float)((k % 7) - 3);
        if (onyx_instance_run(x, NULL, NULL) != ONYX_OK) j->ok = 0;
        /* Relu: y = max(x, 0) */
        const float *y = onyx_instance_output(x, 0)->data;
        for (int64_t k = 0; k < n && j->ok; k++)
            if (y[k] != (xd[k] > 0 ? xd[k] : 0)) j->ok = 0;
    }
    onyx_instance_free(x);
    return NULL;
}

START_TEST(instances_in_threads)
{
    onyx_error err = {0};
    onyx_model *m =
        onyx_model_load(TESTDATA "/node/test_relu/model.onnx", &err);
    ck_assert_msg(m != NULL, "%s", err.msg);
    onyx_program *p = onyx_program_new(m, NULL, 0, &err);
    ck_assert_msg(p != NULL, "%s", err.msg);
    pthread_t th[4];
    job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i].p = p;
        jobs[i].scale = (float)(i + 1) * (i % 2 ? -1.0f : 1.0f);
        pthread_create(&th[i], NULL, worker, &jobs[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        ck_assert_msg(jobs[i].ok, "thread %d got a wrong result", i);
    }
    onyx_program_free(p);
    onyx_model_free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("runtime");
    TCase *tc = tcase_create("runtime");
    tcase_set_timeout(tc, 300);
    if (COUNT_ALLOCS) tcase_add_test(tc, run_does_not_allocate);
    tcase_add_test(tc, instances_in_threads);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_set_fork_status(r, CK_NOFORK);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
