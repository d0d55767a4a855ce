/* blas_policy.h - how many threads the BLAS library may use. Not part of
 * the public API (onyx.h declares onyx_set_blas_threads). */
#ifndef ONYX_BLAS_POLICY_H
#define ONYX_BLAS_POLICY_H

/* Sets the engine's default, one thread (DESIGN.md: BLAS runs
 * single-threaded unless the host asks for more), the first time it is
 * called, unless onyx_set_blas_threads came first. Called whenever a
 * program is made; cheap after the first call. */
void onyx_blas_policy_once(void);

#endif
