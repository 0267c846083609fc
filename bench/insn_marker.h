/* SPDX-License-Identifier: GPL-2.0 */
/*
 * insn_marker.h - the marker instructions that bench/insn_count.c, a qemu
 * TCG plugin, counts guest instructions between.  Long nops with a
 * displacement no compiler emits; on real hardware or under KVM they are
 * just nops.
 */
#ifndef COWBENCH_INSN_MARKER_H
#define COWBENCH_INSN_MARKER_H

/* nopl 0x43570001(%rax): start counting */
static inline void insn_mark_start(void)
{
	__asm__ volatile(".byte 0x0f, 0x1f, 0x80, 0x01, 0x00, 0x57, 0x43" ::: "memory");
}

/* nopl 0x43570002(%rax): stop, and the plugin writes the count */
static inline void insn_mark_stop(void)
{
	__asm__ volatile(".byte 0x0f, 0x1f, 0x80, 0x02, 0x00, 0x57, 0x43" ::: "memory");
}

#endif
