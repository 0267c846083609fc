// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat selftests of the kinds of write fault: unshare (not a write), the
 * zero page, private and shared file mappings, userfaultfd write-protect,
 * KSM pages written and unmerged.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>

#include "kselftest_harness.h"
#include "cow_test.h"

COW_FIXTURE()

/*
 * Child: once released, write k pages of the region, which an unshare has
 * already made its own, and report its row around the writes and how many
 * written pages kept their frame (reused in place).
 */
static int kid_write_after_unshare(void *arg)
{
	const struct job *j = arg;
	struct report *rep = j->rep;
	struct ws *w;
	struct cs_row b, a;
	long me;
	size_t x;

	wait_byte(j->go);
	w = ws_new();
	me = getpid();
	KID_CHECK(rep, w);
	KID_CHECK(rep, j->n <= WS_PFNS);
	KID_CHECK(rep, !pagemap_region(j->r, j->n, w->ppfn));
	KID_CHECK(rep, !cs_read_row(w, "processes", me, &b) && b.found);
	write_units(j->r, j->first, j->k, PG, 0, 0x77);
	KID_CHECK(rep, !cs_read_row(w, "processes", me, &a) && a.found);
	KID_CHECK(rep, !pagemap_region(j->r, j->n, w->pm));
	rep->val[0] = 0;
	for (x = 0; x < j->k; x++)
		if ((w->pm[j->first + x] & PM_PFN_MASK) ==
		    (w->ppfn[j->first + x] & PM_PFN_MASK))
			rep->val[0]++;
	rep->before = b;
	rep->after = a;
	return 0;
}

/* Is the running kernel at least @major.@minor? */
static bool kernel_at_least(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		return false;
	return ma > major || (ma == major && mi >= minor);
}

/*
 * Unshare is not a write: process_vm_readv() pins the child's pages
 * read-only (FOLL_PIN), and a pinned anonymous page must be exclusive, so
 * GUP makes the child copy every page it still shares with the parent
 * (FAULT_FLAG_UNSHARE).  Those copies, which pagemap shows, are not COW
 * writes: nothing is counted for either process.  The child's later writes
 * to the pages, now exclusive, are reuses.
 *
 * Before 5.19 there are no unshare faults: the pin takes the shared pages
 * as they are, pagemap shows none moved, and the child's writes copy them
 * as after any fork.
 */
TEST_F_TIMEOUT(cowstat, unshare_not_counted, TMO)
{
	const bool unshares = kernel_at_least(5, 19);
	const size_t n = 16, k = 7, first = 4;
	struct ws *ws = self->e.ws;
	struct report *rep = self->e.rep;
	struct measure m = { .ws = ws };
	struct iovec local, remote;
	struct job j;
	int status;
	ssize_t got = -1;
	pid_t pid;
	size_t i, moved = 0, excl = 0, kept = 0;

	BAIL_IF_SKIPPED();
	/* maps: the one buffer that reading debugfs does not reuse */
	ASSERT_LE(n * PG, sizeof(ws->maps));
	j = (struct job){ .n = n, .first = first, .k = k, .unit = PG,
			  .go = self->e.ks.go[0], .rep = rep };
	ASSERT_EQ(0, job_region(&j, 4, ws->ppfn));
	pid = kid_run(&self->e.ks, kid_write_after_unshare, &j);
	ASSERT_LT(0, pid);

	local = (struct iovec){ .iov_base = ws->maps, .iov_len = n * PG };
	remote = (struct iovec){ .iov_base = j.r, .iov_len = n * PG };
	m.pid2 = pid;
	MEASURE(&m)
		got = process_vm_readv(pid, &local, 1, &remote, 1, 0);

	ASSERT_EQ((ssize_t)(n * PG), got) TH_LOG("process_vm_readv: %s", strerror(errno));
	for (i = 0; i < n; i++)
		EXPECT_EQ((char)(4 + i), ws->maps[i * PG]);
	/* the child has its own copy of every page now, the parent kept its */
	ASSERT_EQ(0, pagemap_region_of(pid, j.r, n, ws->pm));
	ASSERT_EQ(0, pagemap_region(j.r, n, ws->kpf));
	for (i = 0; i < n; i++) {
		moved += (ws->pm[i] & PM_PFN_MASK) != (ws->ppfn[i] & PM_PFN_MASK);
		excl += HAS(ws->pm[i], PM_EXCLUSIVE);
		kept += (ws->kpf[i] & PM_PFN_MASK) == (ws->ppfn[i] & PM_PFN_MASK);
	}
	TH_LOG("after process_vm_readv: %zu of %zu child pages moved, %zu exclusive; parent kept %zu",
	       moved, n, excl, kept);
	EXPECT_EQ(unshares ? n : 0, moved);
	EXPECT_EQ(unshares ? n : 0, excl);
	EXPECT_EQ(n, kept);

	ASSERT_MEASURED(&m);
	/* the unshare copies count nowhere: neither row moves at all */
	EXPECT_DELTAS(m.a2, m.b2);
	EXPECT_DELTAS(m.a, m.b);

	/* the child's writes: exclusive pages, so reuses in place */
	kid_release(&self->e.ks);
	status = kid_wait(&self->e.ks, 0);
	ASSERT_KID_OK(&self->e, status);
	EXPECT_DELTAS(rep->after, rep->before, [CS_COW_FAULTS] = IS(k),
		      [CS_COW_REUSES] = IS(unshares ? k : 0),
		      [CS_COW_COPIES] = IS(unshares ? 0 : k),
		      [CS_COPIED_BYTES] = IS(unshares ? 0 : k * PG));
	EXPECT_EQ((long)(unshares ? k : 0), rep->val[0]);
	munmap(j.r, n * PG);
}

/*
 * Scenario 4: read faults on fresh anonymous memory map the shared zero
 * page; the write that follows allocates a zeroed page (cow_zero), which
 * copies nothing.
 */
TEST_F_TIMEOUT(cowstat, zero_page, TMO)
{
	const size_t n = 37;
	struct ws *ws = self->e.ws;
	struct measure m = { .ws = ws };
	volatile char *z;
	u64 zpfn, fl;
	size_t i;
	char sum = 0;

	BAIL_IF_SKIPPED();
	z = mmap(NULL, n * PG, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, z);
	ASSERT_EQ(0, keep_4k_pages((void *)z, n * PG))
		TH_LOG("MADV_NOHUGEPAGE: %s", strerror(errno));
	for (i = 0; i < n; i++)
		sum += z[i * PG];
	ASSERT_EQ(0, sum);
	ASSERT_EQ(0, pagemap_region((void *)z, n, ws->pm));
	zpfn = ws->pm[0] & PM_PFN_MASK;
	ASSERT_NE(0ULL, zpfn) TH_LOG("PFNs hidden");
	for (i = 0; i < n; i++) {
		ASSERT_TRUE(HAS(ws->pm[i], PM_PRESENT));
		ASSERT_EQ(zpfn, ws->pm[i] & PM_PFN_MASK);
	}
	ASSERT_EQ(0, kpageflags_get(zpfn, 1, &fl));
	ASSERT_TRUE(HAS(fl, KPF(KPF_ZERO_PAGE))) TH_LOG("pfn %llx flags %llx", zpfn, fl);

	MEASURE(&m)
		for (i = 0; i < n; i++)
			z[i * PG + 1] = 1;

	ASSERT_MEASURED(&m);
	EXPECT_DELTAS(m.a, m.b, [CS_COW_ZERO] = IS(n), [CS_COW_FAULTS] = IS(n));
	ASSERT_EQ(0, pagemap_region((void *)z, n, ws->pm));
	for (i = 0; i < n; i++) {
		EXPECT_TRUE(HAS(ws->pm[i], PM_EXCLUSIVE));
		EXPECT_NE(zpfn, ws->pm[i] & PM_PFN_MASK);
	}
	munmap((void *)z, n * PG);
}

/*
 * Scenario 5: private file mapping.  A: read, then written: do_wp_page
 * copies the page-cache page.  B (its own VMA, so that fault-around on A
 * cannot map it): written without a read: do_cow_fault.  C: MAP_SHARED,
 * written in place: never copy-on-write, also not when soft-dirty tracking
 * write-protected it (then do_wp_page runs for it, on a shared mapping).
 */
TEST_F_TIMEOUT(cowstat, file_mappings, TMO)
{
	const size_t na = 12, nb = 7, nc = 9;
	const size_t fpages = na + nb + nc + 2;
	struct ws *ws = self->e.ws;
	struct measure m = { .ws = ws }, m2 = { .ws = ws };
	char *ma, *mb, *mc;
	int fd, cr;
	size_t i;
	char sum = 0;

	BAIL_IF_SKIPPED();
	fd = memfd_create("cowstat_file", MFD_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, fpages * PG));
	/* every file page exists in the page cache, with known contents */
	for (i = 0; i < fpages; i++) {
		memset(ws->small, 0x40 + i, PG);
		ASSERT_EQ((ssize_t)PG, pwrite(fd, ws->small, PG, i * PG));
	}
	ma = mmap(NULL, na * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	/* file offset gap: A and B can never be merged into one VMA */
	mb = mmap(NULL, nb * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd,
		  (na + 1) * PG);
	mc = mmap(NULL, nc * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		  (na + nb + 2) * PG);
	ASSERT_NE(MAP_FAILED, ma);
	ASSERT_NE(MAP_FAILED, mb);
	ASSERT_NE(MAP_FAILED, mc);
	for (i = 0; i < na; i++)
		sum += ((volatile char *)ma)[i * PG];
	for (i = 0; i < nc; i++)
		sum += ((volatile char *)mc)[i * PG];
	(void)sum;
	ASSERT_EQ(0, pagemap_region(ma, na, ws->pm));
	for (i = 0; i < na; i++)
		ASSERT_EQ(PM_PRESENT | PM_FILE,
			  ws->pm[i] & (PM_PRESENT | PM_FILE));
	ASSERT_EQ(0, pagemap_region(mb, nb, ws->pm));
	for (i = 0; i < nb; i++)
		ASSERT_FALSE(HAS(ws->pm[i], PM_PRESENT));

	MEASURE(&m) {
		write_units(ma, 0, na, PG, 3, 0x11);
		write_units(mb, 0, nb, PG, 3, 0x22);
		write_units(mc, 0, nc, PG, 3, 0x33);
	}

	ASSERT_MEASURED(&m);
	/* B's faults are do_cow_fault, not do_wp_page: not in cow_faults */
	EXPECT_DELTAS(m.a, m.b, [CS_COW_FILE] = IS(na + nb),
		      [CS_COW_FAULTS] = IS(na),
		      [CS_COPIED_BYTES] = IS((na + nb) * PG));

	/* A and B now map private anonymous copies; the file is unchanged */
	ASSERT_EQ(0, pagemap_region(ma, na, ws->pm));
	for (i = 0; i < na; i++)
		EXPECT_EQ(PM_PRESENT | PM_EXCLUSIVE,
			  ws->pm[i] & (PM_PRESENT | PM_EXCLUSIVE | PM_FILE));
	ASSERT_EQ(0, pagemap_region(mb, nb, ws->pm));
	for (i = 0; i < nb; i++)
		EXPECT_EQ(PM_PRESENT | PM_EXCLUSIVE,
			  ws->pm[i] & (PM_PRESENT | PM_EXCLUSIVE | PM_FILE));
	for (i = 0; i < na + nb + 1; i++) {
		ASSERT_EQ(1, pread(fd, ws->small, 1, i * PG + 3));
		EXPECT_EQ((char)(0x40 + i), ws->small[0]);
	}
	for (i = 0; i < nc; i++) {
		ASSERT_EQ(1, pread(fd, ws->small, 1, (na + nb + 2 + i) * PG + 3));
		EXPECT_EQ((char)(0x33 ^ i), ws->small[0]);
	}

	/*
	 * Clearing soft-dirty write-protects every PTE, C's included, so the
	 * next writes to C enter do_wp_page (wp_page_shared).  Shared: not
	 * copy-on-write, not counted.  Our own private pages are
	 * write-protected too: quiesce() takes those reuse faults first.
	 */
	cr = open("/proc/self/clear_refs", O_WRONLY);
	ASSERT_LE(0, cr);
	ASSERT_EQ(1, write(cr, "4", 1));
	close(cr);
	MEASURE(&m2)
		write_units(mc, 0, nc, PG, 5, 0x44);

	ASSERT_MEASURED(&m2);
	EXPECT_DELTAS(m2.a, m2.b);
	/* the writes did fault: soft-dirty is set again on all of C */
	ASSERT_EQ(0, pagemap_region(mc, nc, ws->pm));
	for (i = 0; i < nc; i++)
		EXPECT_TRUE(HAS(ws->pm[i], PM_SOFT_DIRTY));
	munmap(ma, na * PG);
	munmap(mb, nb * PG);
	munmap(mc, nc * PG);
	close(fd);
}

/*
 * The userfaultfd handler thread: one write-protect fault, resolved by
 * lifting the protection of its page, then it returns.  Its stack and
 * *u were written before the measuring window, so it faults on nothing.
 */
struct uffd_job {
	int uffd;
	int events;		/* messages read */
	int wp_faults;		/* ... of which write-protect faults */
	int err;		/* errno of a failed read or ioctl */
};

static void *uffd_resolve_one(void *arg)
{
	struct uffd_job *u = arg;
	struct pollfd pfd = { .fd = u->uffd, .events = POLLIN };
	struct uffdio_writeprotect wp;
	struct uffd_msg msg;
	ssize_t r;

	/* non-blocking, as poll() on a userfaultfd needs */
	do {
		r = poll(&pfd, 1, -1);
		if (r > 0)
			r = read(u->uffd, &msg, sizeof(msg));
	} while (r < 0 && (errno == EINTR || errno == EAGAIN));
	if (r != sizeof(msg)) {
		u->err = r < 0 ? errno : EPROTO;
		return NULL;
	}
	u->events++;
	if (msg.event == UFFD_EVENT_PAGEFAULT &&
	    (msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP))
		u->wp_faults++;
	wp.range.start = msg.arg.pagefault.address & ~(u64)(PG - 1);
	wp.range.len = PG;
	wp.mode = 0;
	if (ioctl(u->uffd, UFFDIO_WRITEPROTECT, &wp))
		u->err = errno;
	return NULL;
}

/*
 * A userfaultfd write-protect fault is not copy-on-write: do_wp_page()
 * hands it to the handler thread, which lifts the protection, and the
 * write is retried.  The page is exclusive, so the retry, if the kernel
 * left the entry read-only, reuses it in place (a COW fault and a reuse);
 * if it made the entry writable, there is no second fault.  Either way
 * cow_faults equals cow_reuses, nothing is copied and the page keeps its
 * frame: the handed-off fault itself is in no counter.  Three pages are
 * protected, one is written.
 */
TEST_F_TIMEOUT(cowstat, uffd_wp_not_counted, TMO)
{
	const size_t n = 3, w = 1;
	struct ws *ws = self->e.ws;
	struct measure m = { .ws = ws };
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_PAGEFAULT_FLAG_WP };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_WP };
	struct uffdio_writeprotect wp = { .mode = UFFDIO_WRITEPROTECT_MODE_WP };
	struct uffd_job u = { .uffd = -1 };
	struct pollfd pfd;
	u64 pfn[3];
	pthread_t th;
	char *r;
	size_t i;

	BAIL_IF_SKIPPED();
	u.uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (u.uffd < 0)
		SKIP(return, "userfaultfd: %s", strerror(errno));
	if (ioctl(u.uffd, UFFDIO_API, &api) ||
	    !(api.features & UFFD_FEATURE_PAGEFAULT_FLAG_WP)) {
		close(u.uffd);
		SKIP(return, "no userfaultfd write-protect in this kernel");
	}
	r = mmap(NULL, n * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, r);
	ASSERT_EQ(0, keep_4k_pages(r, n * PG)) TH_LOG("MADV_NOHUGEPAGE: %s", strerror(errno));
	memset(r, 0x11, n * PG);
	reg.range.start = (unsigned long)r;
	reg.range.len = n * PG;
	if (ioctl(u.uffd, UFFDIO_REGISTER, &reg)) {
		close(u.uffd);
		munmap(r, n * PG);
		SKIP(return, "UFFDIO_REGISTER_MODE_WP on anonymous memory: %s", strerror(errno));
	}
	wp.range = reg.range;
	ASSERT_EQ(0, ioctl(u.uffd, UFFDIO_WRITEPROTECT, &wp)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, pagemap_region(r, n, ws->pm));
	for (i = 0; i < n; i++) {
		ASSERT_TRUE(HAS(ws->pm[i], PM_PRESENT));
		ASSERT_TRUE(HAS(ws->pm[i], PM_EXCLUSIVE));
		pfn[i] = ws->pm[i] & PM_PFN_MASK;
		ASSERT_NE(0ULL, pfn[i]) TH_LOG("PFNs hidden");
	}
	ASSERT_EQ(0, pthread_create(&th, NULL, uffd_resolve_one, &u));

	MEASURE(&m)
		r[w * PG + 7] = 0x22;

	ASSERT_EQ(0, pthread_join(th, NULL));
	ASSERT_MEASURED(&m);
	EXPECT_EQ(0, u.err) TH_LOG("handler: %s", strerror(u.err));
	EXPECT_EQ(1, u.events);
	EXPECT_EQ(1, u.wp_faults);
	pfd = (struct pollfd){ .fd = u.uffd, .events = POLLIN };
	EXPECT_EQ(0, poll(&pfd, 1, 0)) TH_LOG("a second userfaultfd message");
	EXPECT_DELTAS(m.a, m.b,
		      [CS_COW_FAULTS] = ANY("the retried write faults again only where the kernel left the entry read-only"),
		      [CS_COW_REUSES] = ANY("as many as cow_faults, checked below"));
	EXPECT_EQ(D(m.a, m.b, CS_COW_FAULTS), D(m.a, m.b, CS_COW_REUSES));
	EXPECT_GE(1, D(m.a, m.b, CS_COW_FAULTS));
	EXPECT_EQ(0x22, r[w * PG + 7]);
	ASSERT_EQ(0, pagemap_region(r, n, ws->pm));
	for (i = 0; i < n; i++) {
		EXPECT_TRUE(HAS(ws->pm[i], PM_EXCLUSIVE));
		EXPECT_EQ(pfn[i], ws->pm[i] & PM_PFN_MASK);
	}
	close(u.uffd);
	munmap(r, n * PG);
}

#define KSM_SYSFS "/sys/kernel/mm/ksm/"

static int ksm_get(const char *name, long *v)
{
	char path[64], buf[32];
	int fd, n;

	snprintf(path, sizeof(path), KSM_SYSFS "%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	return sscanf(buf, "%ld", v) == 1 ? 0 : -EPROTO;
}

static int ksm_set(const char *name, long v)
{
	char path[64], buf[32];
	int fd, n, ret = 0;

	snprintf(path, sizeof(path), KSM_SYSFS "%s", name);
	n = snprintf(buf, sizeof(buf), "%ld\n", v);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, n) != n)
		ret = -errno;
	close(fd);
	return ret;
}

/* Have all @n pages of @r been merged into one KSM page?  Its frame in *pfn. */
static bool ksm_merged(struct ws *ws, char *r, size_t n, u64 *pfn)
{
	u64 fl;
	size_t i;

	if (pagemap_region(r, n, ws->pm))
		return false;
	*pfn = ws->pm[0] & PM_PFN_MASK;
	for (i = 0; i < n; i++)
		if (!HAS(ws->pm[i], PM_PRESENT) || (ws->pm[i] & PM_PFN_MASK) != *pfn)
			return false;
	return *pfn && !kpageflags_get(*pfn, 1, &fl) && HAS(fl, KPF(KPF_KSM));
}

/*
 * KSM: n identical pages merged into one KSM page.  A write to one is a
 * copy-on-write copy like any other (cow_faults, cow_copies).  Unmerging
 * the rest (MADV_UNMERGEABLE) copies each of them too, but that is no
 * write: it counts nowhere, on every kernel (before 6.2 its fault is a
 * write fault, which the module's break_ksm() probe turns into an unshare;
 * since 6.2 it is an unshare fault).  ksmd is stopped once the pages are
 * merged, so that nothing merges again meanwhile.
 */
TEST_F_TIMEOUT(cowstat, ksm_write_copies_unmerge_not_counted, TMO)
{
	const size_t n = 16, k = 5;
	struct ws *ws = self->e.ws;
	struct measure m = { .ws = ws }, m2 = { .ws = ws };
	long run, scan, sleep_ms;
	u64 kpfn = 0;
	bool merged = false;
	char *r;
	size_t i;
	int tries;

	BAIL_IF_SKIPPED();
	if (ksm_get("run", &run))
		SKIP(return, "no KSM in this kernel (no " KSM_SYSFS "run)");
	ASSERT_EQ(0, ksm_get("pages_to_scan", &scan));
	ASSERT_EQ(0, ksm_get("sleep_millisecs", &sleep_ms));
	r = mmap(NULL, n * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, r);
	ASSERT_EQ(0, keep_4k_pages(r, n * PG)) TH_LOG("MADV_NOHUGEPAGE: %s", strerror(errno));
	memset(r, 0x5a, n * PG);
	ASSERT_EQ(0, madvise(r, n * PG, MADV_MERGEABLE)) TH_LOG("%s", strerror(errno));

	ASSERT_EQ(0, ksm_set("pages_to_scan", 4096));
	ASSERT_EQ(0, ksm_set("sleep_millisecs", 20));
	ASSERT_EQ(0, ksm_set("run", 1));
	for (tries = 0; tries < 600 && !merged; tries++) {
		usleep(50000);
		merged = ksm_merged(ws, r, n, &kpfn);
	}
	/* stop ksmd before any check can fail, then put its settings back */
	ksm_set("run", 0);
	ksm_set("pages_to_scan", scan);
	ksm_set("sleep_millisecs", sleep_ms);
	ASSERT_TRUE(merged) TH_LOG("the %zu pages were not merged in 30 s", n);
	TH_LOG("%zu pages merged into one KSM page after %d polls", n, tries);

	MEASURE(&m)
		for (i = 0; i < k; i++)
			r[i * PG + 1] = 0x11;

	ASSERT_MEASURED(&m);
	EXPECT_DELTAS(m.a, m.b, [CS_COW_FAULTS] = IS(k), [CS_COW_COPIES] = IS(k),
		      [CS_COPIED_BYTES] = IS(k * PG));

	MEASURE(&m2)
		EXPECT_EQ(0, madvise(r, n * PG, MADV_UNMERGEABLE));

	ASSERT_MEASURED(&m2);
	EXPECT_DELTAS(m2.a, m2.b);

	/*
	 * Every page is now a page of its own, contents kept: exclusive (a
	 * KSM page never is) and on a frame of its own.  Not by KPF_KSM,
	 * which 6.12's /proc/kpageflags sets for every anonymous page.
	 */
	ASSERT_EQ(0, pagemap_region(r, n, ws->pm));
	for (i = 0; i < n; i++) {
		u64 pfn = ws->pm[i] & PM_PFN_MASK;
		size_t j;

		EXPECT_TRUE(HAS(ws->pm[i], PM_EXCLUSIVE));
		EXPECT_NE(kpfn, pfn);
		for (j = 0; j < i; j++)
			EXPECT_NE(ws->pm[j] & PM_PFN_MASK, pfn);
		EXPECT_EQ(i < k ? 0x11 : 0x5a, r[i * PG + 1]);
		EXPECT_EQ(0x5a, r[i * PG]);
	}
	munmap(r, n * PG);
}

TEST_HARNESS_MAIN
