// SPDX-License-Identifier: GPL-2.0
/*
 * fork_write: the demo workload.  Touch MIB mebibytes of anonymous memory,
 * fork, let the child write a share of it and exit, then let the parent
 * write another share after the child is gone (those pages are exclusive
 * again, so they are reused, not copied).  Prints what it did, so the
 * module's numbers can be compared with it.
 *
 * usage: fork_write [-m MIB] [-c CHILD_PERCENT] [-p PARENT_PERCENT]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static void write_pages(char *mem, size_t first, size_t count, size_t page)
{
	size_t i;

	for (i = first; i < first + count; i++)
		mem[i * page] = 2;
}

int main(int argc, char **argv)
{
	size_t mib = 64, page = sysconf(_SC_PAGESIZE), pages, child_pages, parent_pages;
	unsigned int child_pct = 25, parent_pct = 10;
	int opt, status;
	char *mem;
	pid_t pid;

	while ((opt = getopt(argc, argv, "m:c:p:")) != -1) {
		switch (opt) {
		case 'm':
			mib = strtoul(optarg, NULL, 0);
			break;
		case 'c':
			child_pct = strtoul(optarg, NULL, 0);
			break;
		case 'p':
			parent_pct = strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: %s [-m MIB] [-c CHILD_PERCENT] [-p PARENT_PERCENT]\n",
				argv[0]);
			return 2;
		}
	}
	if (!mib || child_pct > 100 || parent_pct > 100) {
		fprintf(stderr, "fork_write: bad arguments\n");
		return 2;
	}
	pages = mib * 1024 * 1024 / page;
	child_pages = pages * child_pct / 100;
	parent_pages = pages * parent_pct / 100;

	mem = mmap(NULL, pages * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	/* 4 KiB pages, so the numbers read in pages of the pattern. */
	madvise(mem, pages * page, MADV_NOHUGEPAGE);
	memset(mem, 1, pages * page);

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		write_pages(mem, 0, child_pages, page);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
		fprintf(stderr, "fork_write: child failed\n");
		return 1;
	}
	write_pages(mem, pages - parent_pages, parent_pages, page);

	printf("fork_write: parent %d touched %zu pages (%zu MiB), forked child %d\n",
	       getpid(), pages, mib, pid);
	printf("fork_write: child %d wrote %zu pages while they were shared (expect copies)\n",
	       pid, child_pages);
	printf("fork_write: parent %d wrote %zu pages after the child exited (expect reuses)\n",
	       getpid(), parent_pages);
	return 0;
}
