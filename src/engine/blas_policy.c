/* blas_policy.c - the process-wide BLAS thread policy (see blas_policy.h). */
#include "blas_policy.h"
#include "onyx.h"
#include "../../kernels/math/gemm.h"

#include <pthread.h>
#include <stdatomic.h>

static atomic_int blas_threads_set;

void onyx_set_blas_threads(int n)
{
    atomic_store(&blas_threads_set, 1);
    onyx_blas_threads(n);
}

static void blas_default(void)
{
    if (!atomic_load(&blas_threads_set)) onyx_blas_threads(1);
}

void onyx_blas_policy_once(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, blas_default);
}
