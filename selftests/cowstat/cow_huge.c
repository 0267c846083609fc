// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat selftests of huge pages: a child's writes to transparent huge
 * pages and to hugetlb pages it shares with its parent, one variant each.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "cow_test.h"

/* How many huge pages the parent maps and the child writes one byte of. */
#define NHUGE	4

/* The huge pages of a test, unmapped by the teardown. */
struct huge_pages {
	char *r;
	size_t len;
};

FIXTURE(cowstat) {
	struct cow_env e;
	struct huge_pages hp;
};

FIXTURE_VARIANT(cowstat) {
	bool hugetlb;		/* MAP_HUGETLB, else THP (MADV_HUGEPAGE) */
	size_t off;		/* the byte written in each huge page */
};

struct smaps_ctx {
	unsigned long addr;
	bool in, found;
	u64 anon_huge_kb;
};

static void smaps_line(char *line, void *arg)
{
	struct smaps_ctx *c = arg;
	const char *p = line;
	unsigned long start, end;

	if (parse_hex(&p, &start) && *p == '-' && (p++, parse_hex(&p, &end)) &&
	    *p == ' ') {
		c->in = start <= c->addr && c->addr < end;
		return;
	}
	if (c->in && !strncmp(line, "AnonHugePages:", 14)) {
		char *f[4];

		if (split_fields(line, f, 4) >= 2 && parse_u64(f[1], &c->anon_huge_kb))
			c->found = true;
	}
}

/* THP enabled for MADV_HUGEPAGE regions (run_vm_tests.sh sets madvise) */
static bool thp_mode_ok(char *buf, size_t size)
{
	int fd = open(THP_SYSFS "/enabled", O_RDONLY);
	ssize_t n;

	buf[0] = 0;
	if (fd < 0)
		return false;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return strstr(buf, "[madvise]") || strstr(buf, "[always]");
}

struct meminfo_ctx {
	u64 total, free, size_kb;
};

static void meminfo_line(char *line, void *arg)
{
	struct meminfo_ctx *c = arg;
	char *f[4];
	int n = split_fields(line, f, 4);

	if (n < 2)
		return;
	if (!strcmp(f[0], "HugePages_Total:"))
		parse_u64(f[1], &c->total);
	else if (!strcmp(f[0], "HugePages_Free:"))
		parse_u64(f[1], &c->free);
	else if (!strcmp(f[0], "Hugepagesize:"))
		parse_u64(f[1], &c->size_kb);
}

#define NR_HUGEPAGES	"/proc/sys/vm/nr_hugepages"

/* Returns 0 or -1 with errno set. */
static int set_nr_hugepages(u64 nr)
{
	char buf[32];
	int fd = open(NR_HUGEPAGES, O_WRONLY);
	int len = snprintf(buf, sizeof(buf), "%llu\n", nr);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, buf, len);
	close(fd);
	if (n == len)
		return 0;
	if (n >= 0)
		errno = EIO;
	return -1;
}

/*
 * THP: NHUGE PMD-mapped transparent huge pages at hp->r, every byte
 * written, their pagemap in ws->ppfn.  Returns the size of a huge page, or
 * 0 if the kernel has none (skipped).  THP present but not enabled for
 * MADV_HUGEPAGE is a failure, not a skip.
 */
static size_t thp_map(struct __test_metadata *_metadata, struct ws *ws,
		      struct huge_pages *hp)
{
	const size_t sub = NHUGE * HPAGE_PMD / PG;
	struct smaps_ctx sc = { 0 };
	size_t i, len = (NHUGE + 1) * HPAGE_PMD;
	char mode[128];
	char *m, *r;
	int thp;

	thp = thp_present();
	ASSERT_LE(0, thp) TH_LOG("%s: %s", THP_SYSFS, strerror(errno));
	if (!thp)
		SKIP(return 0, "no transparent huge pages on this kernel (no %s)",
		     THP_SYSFS);
	ASSERT_TRUE(thp_mode_ok(mode, sizeof(mode)))
		TH_LOG("THP not enabled for MADV_HUGEPAGE: %s/enabled is '%s'",
		       THP_SYSFS, mode);
	m = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, m);
	r = (char *)(((unsigned long)m + HPAGE_PMD - 1) & ~(HPAGE_PMD - 1));
	if (r > m)
		munmap(m, r - m);
	if (r + NHUGE * HPAGE_PMD < m + len)
		munmap(r + NHUGE * HPAGE_PMD,
		       m + len - (r + NHUGE * HPAGE_PMD));
	hp->r = r;
	hp->len = NHUGE * HPAGE_PMD;
	ASSERT_EQ(0, madvise(r, NHUGE * HPAGE_PMD, MADV_HUGEPAGE));
	for (i = 0; i < NHUGE; i++)
		memset(r + i * HPAGE_PMD, 0x10 + i, HPAGE_PMD);

	/* really PMD-mapped THPs: smaps AnonHugePages and kpageflags */
	sc.addr = (unsigned long)r;
	ASSERT_EQ(0, read_lines(ws, "/proc/self/smaps", smaps_line, &sc));
	ASSERT_TRUE(sc.found);
	ASSERT_EQ(NHUGE * HPAGE_PMD / 1024, sc.anon_huge_kb)
		TH_LOG("could not get %d PMD-mapped THPs", NHUGE);
	ASSERT_EQ(0, pagemap_region(r, sub, ws->ppfn));
	for (i = 0; i < sub; i += 512) {
		u64 pfn = ws->ppfn[i] & PM_PFN_MASK;
		size_t s;

		ASSERT_EQ(0ULL, pfn % 512);
		ASSERT_EQ(0, kpageflags_get(pfn, 512, ws->kpf));
		for (s = 0; s < 512; s++) {
			ASSERT_EQ(pfn + s, ws->ppfn[i + s] & PM_PFN_MASK);
			ASSERT_TRUE(HAS(ws->kpf[s], KPF(KPF_THP)));
			ASSERT_TRUE(HAS(ws->kpf[s], KPF(KPF_ANON)));
		}
	}
	return HPAGE_PMD;
}

/*
 * hugetlb: NHUGE hugetlb pages at hp->r, as thp_map().  Skipped only if
 * the kernel has no hugetlb pages or can reserve none.
 */
static size_t hugetlb_map(struct __test_metadata *_metadata, struct ws *ws,
			  struct huge_pages *hp)
{
	struct meminfo_ctx mi = { 0 };
	size_t i, sub, hsz;
	char *r;

	if (access(NR_HUGEPAGES, F_OK)) {
		ASSERT_EQ(ENOENT, errno) TH_LOG("%s: %s", NR_HUGEPAGES, strerror(errno));
		SKIP(return 0, "no hugetlb pages on this kernel (no %s)",
		     NR_HUGEPAGES);
	}
	ASSERT_EQ(0, read_lines(ws, "/proc/meminfo", meminfo_line, &mi));
	ASSERT_NE(0ULL, mi.size_kb) TH_LOG("no Hugepagesize in /proc/meminfo");
	/* the parent's pages plus the child's copies, taken unreserved */
	if (mi.free < 2 * NHUGE) {
		u64 want = mi.total + 2 * NHUGE - mi.free;

		ASSERT_EQ(0, set_nr_hugepages(want))
			TH_LOG("writing %llu to %s: %s", want, NR_HUGEPAGES,
			       strerror(errno));
		memset(&mi, 0, sizeof(mi));
		ASSERT_EQ(0, read_lines(ws, "/proc/meminfo", meminfo_line, &mi));
		if (!mi.total)
			SKIP(return 0, "no hugetlb page can be reserved: %s %s",
			     NR_HUGEPAGES, "is 0 after writing a number to it");
	}
	ASSERT_LE(2 * NHUGE, mi.free) TH_LOG("need %d free huge pages", 2 * NHUGE);
	hsz = mi.size_kb * 1024;
	sub = NHUGE * hsz / PG;
	ASSERT_LE(sub, (size_t)WS_PFNS);
	r = mmap(NULL, NHUGE * hsz, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	ASSERT_NE(MAP_FAILED, r) TH_LOG("MAP_HUGETLB: %s", strerror(errno));
	hp->r = r;
	hp->len = NHUGE * hsz;
	for (i = 0; i < NHUGE; i++)
		memset(r + i * hsz, 0x20 + i, hsz);
	ASSERT_EQ(0, pagemap_region(r, sub, ws->ppfn));
	ASSERT_EQ(0, kpageflags_get(ws->ppfn[0] & PM_PFN_MASK, 1, ws->kpf));
	ASSERT_TRUE(HAS(ws->kpf[0], KPF(KPF_HUGE)));
	return hsz;
}

/*
 * A write to a PMD-mapped THP shared with the parent enters
 * do_huge_pmd_wp_page, which splits the PMD; the retried fault copies the
 * one 4 KiB page (do_wp_page): cow_thp, and a 4 KiB copy.
 */
FIXTURE_VARIANT_ADD(cowstat, thp) {
	.hugetlb = false,
	.off = 5 * PG + 9,
};

/*
 * A write to a hugetlb page copies the whole huge page (hugetlb_wp, not
 * do_wp_page): cow_hugetlb only.  Not anonymous RSS: not in fork_shared.
 */
FIXTURE_VARIANT_ADD(cowstat, hugetlb) {
	.hugetlb = true,
	.off = 3 * PG + 1,
};

FIXTURE_SETUP(cowstat)
{
	COW_ENV_SETUP(&self->e);
}

FIXTURE_TEARDOWN(cowstat)
{
	if (self->hp.r)
		munmap(self->hp.r, self->hp.len);
	COW_ENV_TEARDOWN(&self->e);
}

TEST_F_TIMEOUT(cowstat, cow, TMO)
{
	const char *kind = variant->hugetlb ? "hugetlb" : "THP";
	struct ws *ws = self->e.ws;
	struct report *rep = self->e.rep;
	struct measure m = { .ws = ws };
	size_t hsz, sub, copied;
	struct job j;
	long anon = 0;
	int status;
	pid_t pid = -1;

	BAIL_IF_SKIPPED();
	hsz = variant->hugetlb ? hugetlb_map(_metadata, ws, &self->hp) :
				 thp_map(_metadata, ws, &self->hp);
	if (!hsz)
		return;		/* skipped */
	sub = NHUGE * hsz / PG;
	/* the 4 KiB pages the child gets new: a THP's one, a hugetlb page's all */
	copied = variant->hugetlb ? sub : NHUGE;

	j = (struct job){ .r = self->hp.r, .n = sub, .first = 0, .k = NHUGE,
			  .unit = hsz, .off = variant->off, .ppfn = ws->ppfn,
			  .go = -1, .rep = rep };
	status = measure_fork(&self->e, &m, kid_write_measure, &j, &pid, &anon);
	ASSERT_FORK_MEASURED(&self->e, &m, pid, status, anon);
	/* THPs are anonymous pages, hugetlb pages are not */
	ASSERT_LT(variant->hugetlb ? 0 : (long)sub, anon);
	TH_LOG("%d %s pages of %zu KiB, anon pages at fork %ld; child: cow_thp +%llu cow_hugetlb +%llu cow_copies +%llu",
	       NHUGE, kind, hsz >> 10, anon,
	       D(rep->after, rep->before, CS_COW_THP),
	       D(rep->after, rep->before, CS_COW_HUGETLB),
	       D(rep->after, rep->before, CS_COW_COPIES));
	EXPECT_DELTAS(m.a, m.b, FORKED(anon));
	EXPECT_ROW(rep->before, [CS_FORK_INHERITED] = IS(anon));
	if (variant->hugetlb) {
		EXPECT_DELTAS(rep->after, rep->before,
			      [CS_COW_HUGETLB] = IS(NHUGE),
			      [CS_COPIED_BYTES] = IS(NHUGE * hsz));
	} else {
		EXPECT_DELTAS(rep->after, rep->before,
			      [CS_COW_THP] = IS(NHUGE),
			      [CS_COW_COPIES] = IS(NHUGE),
			      [CS_COW_FAULTS] = IS(NHUGE),
			      [CS_COPIED_BYTES] = IS(NHUGE * PG));
	}
	EXPECT_EQ((long)copied, rep->val[R_EXCL]);
	EXPECT_EQ((long)copied, rep->val[R_MOVED]);
	EXPECT_EQ(NHUGE, rep->val[R_EXCL_MOVED_WRITTEN]);
	EXPECT_EQ(0, rep->val[R_DATA_BAD]);
}

TEST_HARNESS_MAIN
