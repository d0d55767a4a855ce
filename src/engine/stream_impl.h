/* stream_impl.h - the streaming runner's private state, shared by its two
 * files: stream_layout.c (what a signal is: the classification of a model's
 * tensors, decided once by onyx_stream_new) and stream.c (the slot
 * scheduler: start, process, work, the control side). Engine-internal.
 */
#ifndef ONYX_STREAM_IMPL_H
#define ONYX_STREAM_IMPL_H

#include "engine.h"
#include "onyx_stream.h"

#include <stdatomic.h>

enum { SLOT_FREE, SLOT_AUDIO, SLOT_READY, SLOT_WORKER, SLOT_DONE };
enum { N_SLOTS = 4, SLOT_SCRATCH = N_SLOTS };
#define FRESH 4u /* flag beside a triple buffer's middle index */

/* One signal tensor: element (channel c, frame t) is at
 * data[c * c_stride + t * t_stride] (C order, time axis and channel axis). */
typedef struct sig_io {
    int index;    /* graph input / output index */
    int channels; /* 1 when the tensor has no channel axis */
    int64_t t_stride, c_stride;
    float *data; /* the tensor's data in the instance (borrowed) */
} sig_io;

typedef struct ctl_io {
    int index; /* graph input / output index */
    const char *name;
    onyx_dtype dtype;
    int size;   /* elements */
    int offset; /* into the control buffers, in floats */
} ctl_io;

typedef struct state_io {
    int in, out; /* graph input / output index */
    size_t bytes;
    void *in_data;        /* the tensors' data in the instance (borrowed); */
    const void *out_data; /* the same buffer when X_out is X itself */
} state_io;

typedef struct slot {
    atomic_int state;
    atomic_uint job; /* job number, wrapping; compared by signed difference */
    float *in;       /* [ch_in][JN] */
    float *out;      /* [ch_out][JN] */
} slot;

/* A triple buffer: the newest copy of a set of floats, handed from one
 * writer to one reader without either waiting. The writer fills buf[back]
 * and swaps it with the middle; the reader swaps a fresh middle with its
 * front. Each side only touches its own buffer. */
typedef struct triple {
    float *buf[3];
    uint64_t seq[3]; /* control outputs: the inference that filled it */
    atomic_uint mid; /* index of the middle buffer | FRESH */
    int back, front;
} triple;

struct onyx_stream {
    const onyx_model *model; /* borrowed */
    onyx_program *prog;      /* owned */
    onyx_instance *inst;     /* owned */
    int B, all_controls;

    sig_io *sin, *sout; /* owned */
    int n_sin, n_sout, ch_in, ch_out;
    ctl_io *cin, *cout; /* owned */
    int n_cin, n_cout, cin_floats, cout_floats;
    state_io *st; /* owned */
    int n_st;

    triple cin_tb;     /* control inputs: control side -> inference */
    triple cin_cal_tb; /* the same values: control side -> calibrate */
    float *cin_shadow; /* the control side's current values [cin_floats] */
    triple cout_tb;    /* control outputs: inference -> control side */
    uint64_t cout_seq; /* inferences published (inference side) */
    atomic_int reset_req;
    /* the pause flag of the worker that runs work() (onyx_worker_swap),
     * NULL: none; a waiting process() gives up while it is raised */
    _Atomic(const atomic_int *) worker_paused;

    /* timing, set by start */
    int n, threaded, J, JN, latency, started;
    int burst;       /* threaded: a job spans at least this many frames */
    atomic_int wait; /* threaded: wait for a late job (offline rendering) */
    slot slots[N_SLOTS + 1];
    float *mem;         /* owned: every slot's buffers */
    int cur, play, pos; /* audio side: collecting slot, playing slot (-1) */
    unsigned job;       /* audio side: number of the job being collected */

    /* timed: the inferences whose time is in total_ns and max_ns (worker
     * and run(); not sync process()) */
    atomic_uint_least64_t inferences, overruns, errors, timed, total_ns, max_ns;
    /* onyx_stream_calibrate's figures (not cleared by start) */
    atomic_uint_least64_t calib_runs, calib_mean_ns, calib_max_ns;
    int profiling;                 /* per-node timing asked for */
    uint64_t *calib_node_ns;       /* owned, [n_nodes]: calibrate's profile */
    _Atomic(const char *) err_why; /* the last inference error */
    atomic_int err_node, err_status;
};

/* Classifies the model's tensors for cfg (onyx_stream.h, "What is a
 * signal"): resolves and plans s->prog for the block, fills s->B, the
 * signals, controls and states. s->model and s->all_controls are set. */
onyx_status stream_layout(onyx_stream *s, const onyx_stream_config *cfg,
                          onyx_error *err);

/* For the worker (worker.c). attach: the worker's pause flag, which a
 * waiting process() watches (NULL: none). idle_us: how long the worker
 * naps when it found nothing to do, in microseconds; only while it may
 * call work() (not paused). */
void stream_attach_worker(onyx_stream *s, const atomic_int *paused);
int stream_idle_us(const onyx_stream *s);

#endif
