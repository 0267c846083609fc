// SPDX-License-Identifier: GPL-2.0
/*
 * Workloads for the cowstat shell tests.
 *
 *   cowstat_workload bpf S K
 *	Fork a child that reads S pages of a MAP_SHARED mapping, clears the
 *	soft-dirty bits (write-protecting every PTE, shared ones included),
 *	then writes those S shared pages (do_wp_page -> wp_page_shared, not
 *	copy-on-write) and K private pages shared with the parent (copies).
 *	Prints "parent PID child PID" once the child has been reaped.
 *
 *   cowstat_workload loop SECONDS
 *	Fork-and-write loop (children, grandchildren, threads, exec) until
 *	SECONDS have passed or SIGTERM/SIGINT arrives.  Prints the number of
 *	iterations.
 *
 *   cowstat_workload spawn N K
 *	Touch K private pages, then fork N children that each count the
 *	anonymous pages they have (smaps_rollup, a page table walk: the pages
 *	they received at fork), write all K and stay alive.  Once all have
 *	written, print "children N", then "PID ANON_PAGES" per child; when
 *	stdin reaches EOF, kill and reap them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#define PG 4096UL

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static char *map(size_t pages, int flags)
{
	char *p = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE,
		       flags | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	/*
	 * 4 KiB pages.  A kernel without THP refuses the advice (EINVAL) and
	 * has no sysfs directory for it.
	 */
	if (!(flags & MAP_SHARED) && madvise(p, pages * PG, MADV_NOHUGEPAGE) &&
	    (errno != EINVAL ||
	     !access("/sys/kernel/mm/transparent_hugepage", F_OK) || errno != ENOENT))
		die("madvise");
	return p;
}

static void fill(char *p, size_t pages, int v)
{
	size_t i;

	for (i = 0; i < pages; i++)
		((volatile char *)p)[i * PG] = v + i;
}

static int bpf_mode(size_t s, size_t k)
{
	char *shared = map(s, MAP_SHARED);
	char *priv = map(k, MAP_PRIVATE);
	volatile char sum = 0;
	int status, fd;
	pid_t pid;
	size_t i;

	fill(shared, s, 1);
	fill(priv, k, 2);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		/* map every shared page into our page table first ... */
		for (i = 0; i < s; i++)
			sum += shared[i * PG];
		/* ... so that clearing soft-dirty write-protects all of them */
		fd = open("/proc/self/clear_refs", O_WRONLY);
		if (fd < 0 || write(fd, "4", 1) != 1)
			_exit(3);
		close(fd);
		fill(shared, s, 3);
		fill(priv, k, 4);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "child failed: status 0x%x\n", status);
		return 1;
	}
	printf("parent %d child %d\n", getpid(), pid);
	return 0;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void *thread_writer(void *arg)
{
	fill(arg, 8, 5);
	return NULL;
}

static void child_work(char *r, size_t n, unsigned long iter)
{
	pthread_t th;
	pid_t g;

	fill(r, n / 2, 6);
	switch (iter % 4) {
	case 1:		/* a grandchild that writes too */
		g = fork();
		if (g == 0) {
			fill(r + n / 2 * PG, 8, 7);
			_exit(0);
		}
		if (g > 0)
			waitpid(g, NULL, 0);
		break;
	case 2:		/* a thread writing shared pages */
		if (!pthread_create(&th, NULL, thread_writer, r + (n - 8) * PG))
			pthread_join(th, NULL);
		break;
	case 3:		/* exec: the row takes the new name */
		execl("/bin/true", "true", (char *)NULL);
		break;
	}
	_exit(0);
}

static int loop_mode(double seconds)
{
	const size_t n = 64;
	char *r = map(n, MAP_PRIVATE);
	struct timespec t0, t;
	unsigned long iter = 0;
	pid_t pid;

	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	fill(r, n, 8);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!stop) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec + (t.tv_nsec - t0.tv_nsec) / 1e9 >= seconds)
			break;
		pid = fork();
		if (pid == 0)
			child_work(r, n, iter);
		if (pid < 0 && errno != EAGAIN)
			die("fork");
		/* the parent writes while the child may still share */
		fill(r + (iter % (n / 8)) * 8 * PG, 8, iter);
		if (pid > 0)
			waitpid(pid, NULL, 0);
		iter++;
	}
	printf("iterations %lu\n", iter);
	return 0;
}

/* Anonymous pages mapped by this process, by a walk of its page tables. */
static long anon_pages_self(void)
{
	char buf[4096], *p;
	ssize_t len;
	int fd;

	fd = open("/proc/self/smaps_rollup", O_RDONLY);
	if (fd < 0)
		return -1;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return -1;
	buf[len] = '\0';
	p = strstr(buf, "\nAnonymous:");
	return p ? strtol(p + 11, NULL, 10) / (long)(PG / 1024) : -1;
}

struct spawned {
	pid_t pid;
	long anon;
};

static int spawn_mode(size_t n, size_t k)
{
	char *r = map(k, MAP_PRIVATE);
	pid_t parent = getpid();
	pid_t *pids = calloc(n, sizeof(*pids));
	struct spawned sp;
	int ready[2];
	size_t i;
	char c;

	if (!pids || pipe(ready))
		die("spawn setup");
	fill(r, k, 1);
	/*
	 * Touch every page the parent will write while forking (the pid array,
	 * the stack depth of anon_pages_self()) now, so its anonymous pages,
	 * and so what each child receives, stay the same from fork to fork.
	 */
	memset(pids, 0, n * sizeof(*pids));
	anon_pages_self();
	for (i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			die("fork");
		if (pids[i] == 0) {
			/* Go when the parent goes, however it goes. */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent)
				_exit(0);
			sp.pid = getpid();
			sp.anon = anon_pages_self();
			fill(r, k, 2);
			if (write(ready[1], &sp, sizeof(sp)) != sizeof(sp))
				_exit(1);
			for (;;)
				pause();
		}
	}
	printf("children %zu\n", n);
	for (i = 0; i < n; i++) {
		if (read(ready[0], &sp, sizeof(sp)) != sizeof(sp))
			die("read ready");
		printf("%d %ld\n", sp.pid, sp.anon);
	}
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	for (i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	for (i = 0; i < n; i++)
		waitpid(pids[i], NULL, 0);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "bpf"))
		return bpf_mode(strtoul(argv[2], NULL, 0),
				strtoul(argv[3], NULL, 0));
	if (argc == 4 && !strcmp(argv[1], "spawn"))
		return spawn_mode(strtoul(argv[2], NULL, 0),
				  strtoul(argv[3], NULL, 0));
	if (argc == 3 && !strcmp(argv[1], "loop"))
		return loop_mode(strtod(argv[2], NULL));
	fprintf(stderr, "usage: %s bpf SHARED_PAGES PRIVATE_PAGES\n"
			"       %s loop SECONDS\n"
			"       %s spawn CHILDREN PAGES\n",
		argv[0], argv[0], argv[0]);
	return 2;
}
