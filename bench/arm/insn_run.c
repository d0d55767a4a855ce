/* insn_run.c - runs a model RUNS times through the public run API, for
 * make bench-arm: under qemu with bench/arm/insn_plugin.so, the difference
 * between the instructions of RUNS = N and RUNS = 2N is N inferences, with
 * loading and planning cancelled out. Nothing else happens per run but what
 * a caller of the engine does: run, then copy each state output back to its
 * input (input h pairs with output h_out, as [onyx~] pairs them).
 *
 *   insn_run MODEL RUNS [NAME=D1,D2,...]...
 *   insn_run --stream B MODEL FRAMES
 *
 * The second form goes through the streaming runner as [onyx~ -sync -block
 * B] does in Pd: host blocks of 64 frames into onyx_stream_process, FRAMES
 * frames of a sine (one period per block) on every signal input.
 *
 * Inputs hold a fixed pattern in [-0.5, 0.5] (integer inputs hold 0). */
#include "onyx_stream.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_BINDS = 16, MAX_PAIRS = 16 };

static int parse_bind(char *arg, onyx_bind *b)
{
    char *eq = strchr(arg, '=');
    if (!eq) return -1;
    *eq = 0;
    b->name = arg;
    b->rank = 0;
    b->data = NULL;
    for (char *s = eq + 1; *s && b->rank < ONYX_MAX_RANK;) {
        char *end;
        errno = 0;
        long long d = strtoll(s, &end, 10);
        if (end == s || errno || d < 0) return -1;
        b->dims[b->rank++] = d;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return -1;
    }
    return b->rank > 0 ? 0 : -1;
}

/* insn_run --stream B MODEL FRAMES */
static int run_stream(int block, const char *path, long frames)
{
    enum { HOST = 64, MAX_CH = 64 };
    onyx_error err;
    onyx_model *m = onyx_model_load(path, &err);
    onyx_stream_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.block = block;
    onyx_stream *s = m ? onyx_stream_new(m, &cfg, &err) : NULL;
    if (!s || onyx_stream_start(s, HOST, 0, &err) != ONYX_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    int ni = onyx_stream_signal_inputs(s), no = onyx_stream_signal_outputs(s);
    if (ni > MAX_CH || no > MAX_CH) {
        fprintf(stderr, "insn_run: too many signal channels\n");
        return 1;
    }
    static float ibuf[MAX_CH][HOST], obuf[MAX_CH][HOST];
    const float *in[MAX_CH];
    float *out[MAX_CH];
    for (int c = 0; c < ni; c++)
        in[c] = ibuf[c];
    for (int c = 0; c < no; c++)
        out[c] = obuf[c];
    /* one period of a sine per host block, written once: the per-frame
     * cost counted is the runner's and the model's, not the harness's */
    for (int c = 0; c < ni; c++)
        for (int j = 0; j < HOST; j++)
            ibuf[c][j] = 0.5f * sinf(6.2831853f * (float)j / HOST);
    for (long f = 0; f < frames; f += HOST)
        onyx_stream_process(s, in, out, HOST);
    onyx_stream_free(s);
    onyx_model_free(m);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "--stream") == 0)
        return run_stream(atoi(argv[2]), argv[3], strtol(argv[4], NULL, 10));
    if (argc < 3) {
        fprintf(stderr, "usage: insn_run MODEL RUNS [NAME=D1,D2,...]...\n"
                        "       insn_run --stream B MODEL FRAMES\n");
        return 2;
    }
    long runs = strtol(argv[2], NULL, 10);
    onyx_bind binds[MAX_BINDS];
    int n_binds = 0;
    for (int i = 3; i < argc; i++) {
        if (n_binds == MAX_BINDS || parse_bind(argv[i], &binds[n_binds])) {
            fprintf(stderr, "insn_run: bad binding '%s'\n", argv[i]);
            return 2;
        }
        n_binds++;
    }
    onyx_error err;
    onyx_model *m = onyx_model_load(argv[1], &err);
    if (!m) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    onyx_program *p = onyx_program_new(m, binds, n_binds, &err);
    onyx_instance *x = p ? onyx_instance_new(p, &err) : NULL;
    if (!x) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    for (int i = 0; i < onyx_program_num_inputs(p); i++) {
        onyx_tensor *t = onyx_instance_input(x, i);
        size_t n = (size_t)onyx_numel(t);
        if (t->dtype == ONYX_FLOAT)
            for (size_t j = 0; j < n; j++)
                ((float *)t->data)[j] = 0.5f * sinf(0.1f * (float)j + i);
        else
            memset(t->data, 0, n * onyx_dtype_size(t->dtype));
    }
    /* state pairs: output NAME_out feeds input NAME */
    int pair_in[MAX_PAIRS], pair_out[MAX_PAIRS], n_pairs = 0;
    for (int o = 0; o < onyx_program_num_outputs(p) && n_pairs < MAX_PAIRS;
         o++) {
        const char *on = onyx_program_output_name(p, o);
        size_t len = strlen(on);
        if (len < 5 || strcmp(on + len - 4, "_out") != 0) continue;
        for (int i = 0; i < onyx_program_num_inputs(p); i++) {
            const char *in = onyx_program_input_name(p, i);
            if (strlen(in) == len - 4 && strncmp(in, on, len - 4) == 0) {
                pair_in[n_pairs] = i;
                pair_out[n_pairs++] = o;
            }
        }
    }
    /* what a caller sets up once: where each state goes, and its size */
    void *pair_dst[MAX_PAIRS];
    const void *pair_src[MAX_PAIRS];
    size_t pair_bytes[MAX_PAIRS];
    for (int s = 0; s < n_pairs; s++) {
        onyx_tensor *in = onyx_instance_input(x, pair_in[s]);
        pair_dst[s] = in->data;
        pair_src[s] = onyx_instance_output(x, pair_out[s])->data;
        pair_bytes[s] = (size_t)onyx_numel(in) * onyx_dtype_size(in->dtype);
    }
    for (long r = 0; r < runs; r++) {
        const char *why = NULL;
        if (onyx_instance_run(x, &why, NULL) != ONYX_OK) {
            fprintf(stderr, "insn_run: %s\n", why ? why : "run failed");
            return 1;
        }
        for (int s = 0; s < n_pairs; s++)
            memcpy(pair_dst[s], pair_src[s], pair_bytes[s]);
    }
    onyx_instance_free(x);
    onyx_program_free(p);
    onyx_model_free(m);
    return 0;
}
