// SPDX-License-Identifier: GPL-2.0
/*
 * cowbench - the workloads of the cowstat benchmark.  Each mode does its
 * work once and prints the time of the measured part, in nanoseconds, on one
 * line: "<mode> <ns>".  bench/guest.sh runs the modes in turn under each
 * configuration and bench/run.sh takes the medians.
 *
 *   cowbench fork-write MIB
 *	Touch MIB MiB of anonymous memory (not measured), then time: fork, the
 *	child writes one byte to every page (one COW copy each) and exits, the
 *	parent waits.  The COW-heavy case.
 *   cowbench faults MIB
 *	Time: map MIB MiB of anonymous memory, write every page (first-touch
 *	faults, no fork, no COW), unmap.  The path the module must not slow.
 *   cowbench storm COUNT
 *	Touch 4 MiB (not measured), then time COUNT rounds of: fork, the child
 *	writes 16 pages and exits, the parent waits.  The fork path and the
 *	per-process bookkeeping.
 *   cowbench spawn COUNT
 *	Not a timing: fork COUNT children that sleep, print "spawned COUNT"
 *	when all are running, and wait for stdin to close or SIGTERM; then
 *	end and reap them one by one.  Used to time reading `processes` with
 *	many rows.
 *   cowbench read FILE
 *	Time opening FILE and reading it to the end.
 *   cowbench calibrate N
 *	Not a timing: a loop of exactly 2 * N instructions between the
 *	markers, printed as "calibrate <2N>", so that bench/run.sh can check
 *	the plugin's count (and see the interrupts' share) against it.
 *
 * The measured part of fork-write, faults and storm, and the calibration
 * loop, lie between the marker instructions of insn_marker.h: under
 * make bench's TCG plugin (bench/insn_count.c) the guest's instructions
 * there are counted, the kernel's included, on every vCPU.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "insn_marker.h"

#define MIB (1024UL * 1024UL)

static long page_size;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static char *map_anon(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	/* 4 KiB pages only: THP would turn the counts into PMD faults. */
	if (madvise(p, len, MADV_NOHUGEPAGE))
		die("madvise");
	return p;
}

static void touch(char *p, size_t len, char val)
{
	for (size_t off = 0; off < len; off += page_size)
		p[off] = val;
}

static void wait_child(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		die("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		exit(1);
}

/* A child that writes the first len bytes of p, page by page, then exits. */
static void fork_touch(char *p, size_t len)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (!pid) {
		touch(p, len, 2);
		_exit(0);
	}
	wait_child(pid);
}

static int fork_write(size_t len)
{
	char *p = map_anon(len);
	uint64_t t0;

	touch(p, len, 1);
	t0 = now_ns();
	insn_mark_start();
	fork_touch(p, len);
	insn_mark_stop();
	printf("fork-write %llu\n", (unsigned long long)(now_ns() - t0));
	return 0;
}

static int faults(size_t len)
{
	uint64_t t0 = now_ns();
	char *p;

	insn_mark_start();
	p = map_anon(len);
	touch(p, len, 1);
	munmap(p, len);
	insn_mark_stop();
	printf("faults %llu\n", (unsigned long long)(now_ns() - t0));
	return 0;
}

static int storm(long count)
{
	size_t len = 4 * MIB;
	char *p = map_anon(len);
	uint64_t t0;

	touch(p, len, 1);
	t0 = now_ns();
	insn_mark_start();
	for (long i = 0; i < count; i++)
		fork_touch(p, 16 * page_size);
	insn_mark_stop();
	printf("storm %llu\n", (unsigned long long)(now_ns() - t0));
	return 0;
}

static void on_term(int sig)
{
	(void)sig;
}

static int spawn(long count)
{
	struct sigaction sa = { .sa_handler = on_term };
	pid_t parent = getpid();
	size_t len = count * sizeof(pid_t);
	/*
	 * Not inherited (MADV_DONTFORK): with the list in every child, each
	 * fork followed by the parent's write of the new pid would leave the
	 * child a page of its own, 4 KiB per child.
	 */
	pid_t *kids = (pid_t *)map_anon(len);
	char c;

	if (madvise(kids, len, MADV_DONTFORK))
		die("madvise");
	for (long i = 0; i < count; i++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (!pid) {
			/* Go when the parent goes, however it goes. */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent)
				_exit(0);
			pause();
			_exit(0);
		}
		kids[i] = pid;
	}
	/* SIGTERM, without SA_RESTART, ends the read below. */
	sigaction(SIGTERM, &sa, NULL);
	printf("spawned %ld\n", count);
	fflush(stdout);
	/* Hold the children until stdin closes or SIGTERM. */
	while (read(0, &c, 1) > 0)
		;
	/*
	 * Then end them one by one: 100,000 exits at once (each child's
	 * PDEATHSIG) keep an emulated guest's CPUs so busy that RCU's
	 * grace-period kthread starves and the kernel reports it.
	 */
	for (long i = 0; i < count; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	munmap(kids, len);
	return 0;
}

static int read_file(const char *path)
{
	static char buf[1 << 16];
	uint64_t t0 = now_ns();
	size_t total = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		die(path);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += n;
	if (n < 0)
		die("read");
	close(fd);
	printf("read %llu %zu\n", (unsigned long long)(now_ns() - t0), total);
	return 0;
}

static int calibrate(unsigned long n)
{
	unsigned long left = n;

	if (!n)
		return 2;
	insn_mark_start();
	/* two instructions a round, nothing else between the markers */
	__asm__ volatile("1: dec %0\n\tjnz 1b" : "+r"(left) : : "cc");
	insn_mark_stop();
	printf("calibrate %lu\n", 2 * n);
	return 0;
}

int main(int argc, char **argv)
{
	page_size = sysconf(_SC_PAGESIZE);
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (argc == 3 && !strcmp(argv[1], "fork-write"))
		return fork_write(strtoul(argv[2], NULL, 0) * MIB);
	if (argc == 3 && !strcmp(argv[1], "faults"))
		return faults(strtoul(argv[2], NULL, 0) * MIB);
	if (argc == 3 && !strcmp(argv[1], "storm"))
		return storm(strtol(argv[2], NULL, 0));
	if (argc == 3 && !strcmp(argv[1], "spawn"))
		return spawn(strtol(argv[2], NULL, 0));
	if (argc == 3 && !strcmp(argv[1], "read"))
		return read_file(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "calibrate"))
		return calibrate(strtoul(argv[2], NULL, 0));
	fprintf(stderr,
		"usage: %s fork-write MIB | faults MIB | storm COUNT | spawn COUNT | read FILE | calibrate N\n",
		argv[0]);
	return 2;
}
