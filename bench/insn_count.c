// SPDX-License-Identifier: GPL-2.0
/*
 * insn_count - a qemu TCG plugin that counts the guest instructions executed
 * between two marker instructions, for make bench.
 *
 * The markers are long nops no compiler emits, "nopl 0x43570001(%rax)" to
 * start and "nopl 0x43570002(%rax)" to stop (bench/insn_marker.h).  They are
 * recognised when a block is translated; every instruction of every vCPU
 * then adds one to a single counter, inline, before it runs, so a block left
 * early by a fault counts only what it started (an instruction that faults
 * counts again when it is retried), and the count is the same from one boot
 * to the next but for interrupts and timers.  With
 * qemu's single-threaded TCG (scripts/vm-run.sh) the vCPUs take turns, so
 * one plain counter needs no atomics.
 *
 * At each stop marker the plugin appends "insns SEQ COUNT" to the file of
 * its out= argument: SEQ numbers the stops from 1, COUNT is the number of
 * instructions executed since the last start marker, on every vCPU.
 *
 *   qemu ... -plugin insn-count.so,out=/tmp/insns[,profile=/tmp/profile]
 *
 * With profile=FILE it also counts how often each translated block runs,
 * and at each stop marker appends "profile SEQ" and then "ADDRESS COUNT"
 * for every block that ran since the start marker: the guest virtual
 * address of its first instruction (hex) and the instructions it executed
 * there.  bench/profile.awk names the functions.  A block is attributed
 * whole to the function of its first instruction (blocks end at branches
 * and calls, so seldom span two), and one left early by a fault counts
 * whole; the guest's counts are the same with profiling on or off.
 *
 * Built by scripts/qemu-plugin.sh against qemu-plugin.h from the source of
 * the installed qemu.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

#if QEMU_PLUGIN_VERSION != 1
/*
 * Version 2 (qemu 9.0) copies instruction bytes out (qemu_plugin_insn_data
 * takes a buffer) and deprecates the inline ops used here: port when the
 * host's qemu gets there.
 */
#error "insn_count is written for the qemu plugin API version 1 (qemu 7.2 to 8.2)"
#endif

enum marker { NOT_A_MARKER, MARK_START, MARK_STOP };

static uint64_t executed;	/* every guest instruction, all vCPUs */
static uint64_t at_start;
static uint64_t stops;
static FILE *out;

/* profile=: one per translated block, never freed (blocks are few) */
struct block {
	uint64_t vaddr;
	uint64_t insns;
	uint64_t runs;		/* inline, like executed */
	uint64_t runs_at_start;
};
static FILE *profile;
static struct block **blocks;
static size_t nr_blocks, blocks_cap;

/* 0f 1f 80 <disp32 little-endian>: nopl disp32(%rax) */
static enum marker marker_of(struct qemu_plugin_insn *insn)
{
	const unsigned char *b = qemu_plugin_insn_data(insn);
	uint32_t disp;

	if (qemu_plugin_insn_size(insn) != 7 || b[0] != 0x0f || b[1] != 0x1f || b[2] != 0x80)
		return NOT_A_MARKER;
	disp = b[3] | b[4] << 8 | b[5] << 16 | (uint32_t)b[6] << 24;
	if (disp == 0x43570001)
		return MARK_START;
	if (disp == 0x43570002)
		return MARK_STOP;
	return NOT_A_MARKER;
}

static void on_marker(unsigned int vcpu, void *kind)
{
	size_t i;

	(void)vcpu;
	if ((enum marker)(uintptr_t)kind == MARK_START) {
		at_start = executed;
		for (i = 0; i < nr_blocks; i++)
			blocks[i]->runs_at_start = blocks[i]->runs;
		return;
	}
	fprintf(out, "insns %" PRIu64 " %" PRIu64 "\n", ++stops, executed - at_start);
	fflush(out);
	if (!profile)
		return;
	fprintf(profile, "profile %" PRIu64 "\n", stops);
	for (i = 0; i < nr_blocks; i++) {
		struct block *b = blocks[i];

		if (b->runs != b->runs_at_start)
			fprintf(profile, "%" PRIx64 " %" PRIu64 "\n", b->vaddr,
				(b->runs - b->runs_at_start) * b->insns);
	}
	fflush(profile);
}

/* A new block to profile; NULL (and no profile of it) if out of memory. */
static struct block *block_new(struct qemu_plugin_tb *tb, size_t n)
{
	struct block *b;

	if (nr_blocks == blocks_cap) {
		size_t cap = blocks_cap ? 2 * blocks_cap : 65536;
		struct block **nb = realloc(blocks, cap * sizeof(*nb));

		if (!nb)
			return NULL;
		blocks = nb;
		blocks_cap = cap;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->vaddr = qemu_plugin_tb_vaddr(tb);
	b->insns = n;
	blocks[nr_blocks++] = b;
	return b;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t n = qemu_plugin_tb_n_insns(tb);

	(void)id;
	if (profile) {
		struct block *b = block_new(tb, n);

		if (b)
			qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
								 &b->runs, 1);
	}
	for (size_t i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		enum marker m = marker_of(insn);

		if (m != NOT_A_MARKER)
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_marker,
							       QEMU_PLUGIN_CB_NO_REGS,
							       (void *)(uintptr_t)m);
		qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64,
							   &executed, 1);
	}
}

static void on_plugin_exit(qemu_plugin_id_t id, void *p)
{
	(void)id;
	(void)p;
	fprintf(out, "insns-total %" PRIu64 "\n", executed);
	fclose(out);
	if (profile)
		fclose(profile);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
					   int argc, char **argv)
{
	const char *path = NULL, *profile_path = NULL;

	if (info->system_emulation == false) {
		fprintf(stderr, "insn_count: for system emulation only\n");
		return -1;
	}
	for (int i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "out=", 4))
			path = argv[i] + 4;
		else if (!strncmp(argv[i], "profile=", 8))
			profile_path = argv[i] + 8;
		else {
			fprintf(stderr, "insn_count: unknown argument %s (want out=FILE[,profile=FILE])\n",
				argv[i]);
			return -1;
		}
	}
	if (!path) {
		fprintf(stderr, "insn_count: no out=FILE\n");
		return -1;
	}
	out = fopen(path, "w");
	if (!out) {
		fprintf(stderr, "insn_count: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (profile_path) {
		profile = fopen(profile_path, "w");
		if (!profile) {
			fprintf(stderr, "insn_count: %s: %s\n", profile_path, strerror(errno));
			return -1;
		}
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
	qemu_plugin_register_atexit_cb(id, on_plugin_exit, NULL);
	return 0;
}
