/* insn_plugin.c - a QEMU TCG plugin that counts the guest instructions a
 * program executes, for make bench-arm: under qemu-user wall time means
 * nothing, instructions executed do (deterministic, repeatable).
 *
 *   qemu-arm -plugin build/bench/insn_plugin.so -L / PROGRAM ARGS...
 *
 * prints "onyx-insns N" on stderr when the program exits. Each translated
 * block adds its instruction count to one counter inline, every time it
 * runs (single-threaded guests: the add is not atomic).
 *
 * With the argument fp=on (-plugin insn_plugin.so,fp=on) it also prints
 * "onyx-fp VECTOR SCALAR": executed floating-point arithmetic instructions
 * on 4-float vectors (NEON q registers on armv7, .4s on aarch64) and on
 * single floats (VFP / scalar s registers), classified once per translated
 * instruction from QEMU's disassembly.
 *
 * With prof=FILE it writes, at exit, one line per translated block:
 * "VADDR INSNS EXECUTIONS VECTOR SCALAR" (hex address; the last two its
 * float arithmetic instructions, with fp=on), for bench/arm/insn_prof.py,
 * which sums them per function of a non-PIE binary.
 *
 * The few declarations below are those of QEMU's plugin API (qemu-plugin.h,
 * API version 1, QEMU 4.2 to 8.x), written here because Debian ships no
 * header for it. */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
typedef struct qemu_info_t qemu_info_t;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id,
                                               struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
                                           qemu_plugin_vcpu_tb_trans_cb_t cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb,
                                              enum qemu_plugin_op op, void *ptr,
                                              uint64_t imm);
struct qemu_plugin_insn *
qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
char *qemu_plugin_insn_disas(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn,
                                                enum qemu_plugin_op op,
                                                void *ptr, uint64_t imm);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id,
                                    qemu_plugin_udata_cb_t cb, void *userdata);

#define EXPORT __attribute__((visibility("default")))

EXPORT int qemu_plugin_version = 1;

static uint64_t insns;             /* guest instructions executed */
static uint64_t fp_vec, fp_scalar; /* float arithmetic, vector / scalar */
static int count_fp;

/* prof=FILE: every translated block with its own execution counter */
struct block {
    uint64_t vaddr, n_insns, runs;
    unsigned n_vec, n_scalar; /* float arithmetic instructions in it (fp=on) */
    struct block *next;
};
static struct block *blocks;
static const char *prof_path;

/* 1: arithmetic on 4 floats, 2: on one float, 0: anything else.
 * armv7: "vmla.f32 q8, q9, d0[1]" / "vadd.f32 s0, s1, s2";
 * aarch64: "fmla v0.4s, v1.4s, v2.s[1]" / "fadd s0, s1, s2". Moves, loads,
 * stores, compares and conversions to integers do not count. */
static int fp_class(const char *d)
{
    static const char *ops[] = {"add",  "sub",  "mul",   "mla",  "mls", "fma",
                                "fms",  "max",  "min",   "abs",  "neg", "div",
                                "sqrt", "recp", "rsqrt", "nmul", "nmla"};
    while (*d == ' ' || *d == '\t')
        d++;
    const char *m = d;
    if (*m == 'v') { /* armv7 */
        m++;
        for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
            size_t n = strlen(ops[i]);
            if (strncmp(m, ops[i], n) == 0 && strstr(m, ".f32")) {
                const char *r = strchr(m, ' ');
                while (r && *r == ' ')
                    r++;
                if (!r) return 0;
                return *r == 'q' ? 1 : *r == 's' ? 2 : 0;
            }
        }
        return 0;
    }
    if (*m == 'f') { /* aarch64 */
        m++;
        for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
            size_t n = strlen(ops[i]);
            if (strncmp(m, ops[i], n) == 0) {
                const char *r = strchr(m, ' ');
                while (r && *r == ' ')
                    r++;
                if (!r) return 0;
                if (*r == 'v' && strstr(r, ".4s")) return 1;
                if (*r == 's' && r[1] >= '0' && r[1] <= '9') return 2;
                return 0;
            }
        }
    }
    return 0;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
                                             &insns, n);
    struct block *b = NULL;
    if (prof_path) {
        b = calloc(1, sizeof *b);
        if (b) {
            b->vaddr = qemu_plugin_tb_vaddr(tb);
            b->n_insns = n;
            b->next = blocks;
            blocks = b;
            qemu_plugin_register_vcpu_tb_exec_inline(
                tb, QEMU_PLUGIN_INLINE_ADD_U64, &b->runs, 1);
        }
    }
    if (!count_fp) return;
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        char *d = qemu_plugin_insn_disas(insn);
        int c = d ? fp_class(d) : 0;
        free(d);
        if (c && b) {
            if (c == 1)
                b->n_vec++;
            else
                b->n_scalar++;
        }
        if (c)
            qemu_plugin_register_vcpu_insn_exec_inline(
                insn, QEMU_PLUGIN_INLINE_ADD_U64, c == 1 ? &fp_vec : &fp_scalar,
                1);
    }
}

static void on_guest_exit(qemu_plugin_id_t id, void *userdata)
{
    (void)id;
    (void)userdata;
    fprintf(stderr, "onyx-insns %" PRIu64 "\n", insns);
    if (count_fp)
        fprintf(stderr, "onyx-fp %" PRIu64 " %" PRIu64 "\n", fp_vec, fp_scalar);
    if (prof_path) {
        FILE *f = fopen(prof_path, "w");
        if (!f) {
            fprintf(stderr, "insn_plugin: cannot write %s\n", prof_path);
            return;
        }
        for (struct block *b = blocks; b; b = b->next)
            if (b->runs)
                fprintf(f, "%" PRIx64 " %" PRIu64 " %" PRIu64 " %u %u\n",
                        b->vaddr, b->n_insns, b->runs, b->n_vec, b->n_scalar);
        fclose(f);
    }
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                               int argc, char **argv)
{
    (void)info;
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "fp=on") == 0)
            count_fp = 1;
        else if (strncmp(argv[i], "prof=", 5) == 0)
            prof_path = argv[i] + 5;
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_guest_exit, NULL);
    return 0;
}
