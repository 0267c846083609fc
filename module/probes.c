// SPDX-License-Identifier: GPL-2.0
/*
 * The probes: one table of (symbol, known callers, handlers, required),
 * registered by one loop.  A probe is a kernel tracepoint attached by name
 * where one carries what is needed; else, at a function's entry, an
 * ftrace_ops callback without a register save (the cheapest, where the
 * kernel passes the arguments in ftrace_regs) or a kprobe; else (where the
 * return value is needed) a kretprobe.  A required probe that cannot be registered
 * fails the load and names the symbol and the kernel release; an optional
 * one (a feature the kernel may be built without) leaves its counter at
 * zero and says so in summary.  The handlers are in handlers.c.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ftrace.h>
#include <linux/kprobes.h>
#include <linux/moduleparam.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/tracepoint.h>
#include <linux/utsname.h>

#include "arch.h"
#include "compat.h"
#include "cowstat.h"
#include "handlers.h"

/* --- the table --------------------------------------------------------- */

#define KRETPROBE_INSTANCES_MAX 8192

/* Where a probe goes and what runs there. */
struct probe_spec {
	const char *symbol;	/* a function, or with @tp a tracepoint */
	void *tp;		/* the tracepoint's probe function */
	/*
	 * Functions that call @symbol directly (any one is enough).  A
	 * static function's name need not be unique (the AMD IOMMU driver
	 * has a do_fault() too), and a probe takes the first: the load checks
	 * that the one it got is called from here.
	 */
	const char *const *callers;
	/* or: probed at these calls of @symbol only, found first */
	struct call_sites *sites;
	/* an entry probe (ftrace_ops or kprobe) has hit; a kretprobe has ret (and maybe entry) */
	probe_hit_handler_t hit;
	kretprobe_handler_t entry;
	kretprobe_handler_t ret;
	size_t data_size;
	/*
	 * Tasks that may sleep inside at once, per possible CPU (at most
	 * KRETPROBE_INSTANCES_MAX in all): the kernel's default is 2 per CPU,
	 * but a fault handler waits for I/O or, on PREEMPT_RT, for a lock.  A
	 * hit that finds none left is missed and shows in lost.
	 */
	int maxactive;
};

/* How a probe is attached: summary says it as via=. */
enum probe_via {
	VIA_NONE,
	VIA_TRACEPOINT,
	VIA_FTRACE,
	VIA_KPROBE,
	VIA_KRETPROBE,
	VIA_FPROBE,
};

static const char *const via_names[] = {
	[VIA_NONE] = "none", [VIA_TRACEPOINT] = "tracepoint", [VIA_FTRACE] = "ftrace",
	[VIA_KPROBE] = "kprobe", [VIA_KRETPROBE] = "kretprobe", [VIA_FPROBE] = "fprobe",
};

struct cowstat_probe {
	struct probe_spec spec;
	bool required;
	/*
	 * Where spec.symbol is not the function meant (inlined by the
	 * compiler, or only another function of that name left): this one.
	 */
	const struct probe_spec *instead;

	const struct probe_spec *used;	/* spec or *instead, once attached */
	struct kprobe kp;
	struct kretprobe krp;
	struct tracepoint *tp;
#if COMPAT_FTRACE_ARGS
	struct ftrace_ops fops;
#endif
#if COMPAT_FPROBE
	struct fprobe fp;
#endif
	enum probe_via via;
	bool registered;
	atomic_long_t lost;	/* hits seen but not counted */
};

static const struct probe_spec reuse_at_call_sites = {
	.symbol = "ptep_set_access_flags", .sites = &reuse_sites,
	.hit = reuse_site_hit,
};

static const struct probe_spec file_cow_at_finish_fault = {
	.symbol = "finish_fault",
	.callers = FUNCS("do_cow_fault", "do_fault", "do_pte_missing", "handle_pte_fault",
			 "__handle_mm_fault", "handle_mm_fault"),
	.entry = finish_fault_entry, .ret = file_fault_return,
	.data_size = sizeof(struct file_cow_data), .maxactive = 64,
};

static struct cowstat_probe probes[] = {
	{ .spec = { .symbol = "sched_process_fork", .tp = fork_tp },
	  .required = true },
	{ .spec = { .symbol = "release_task",
		    .callers = FUNCS("exit_notify", "do_exit", "wait_task_zombie",
				     "wait_consider_task", "de_thread", "begin_new_exec"),
		    .entry = reap_entry, .ret = reap_return,
		    .data_size = sizeof(struct reap_data), .maxactive = 64 },
	  .required = true },
	/* catches every reap the release_task() kretprobe missed, one grace period late */
	{ .spec = { .symbol = "sched_process_free", .tp = free_tp },
	  .required = true },
	{ .spec = { .symbol = "task_rename", .tp = rename_tp } },
	{ .spec = { .symbol = "do_wp_page",
		    .callers = FUNCS("handle_pte_fault", "__handle_mm_fault", "handle_mm_fault"),
		    .hit = wp_fault_hit },
	  .required = true },
	/* after do_wp_page, whose unshare notes it reads */
	{ .spec = { .symbol = "ptep_clear_flush", .sites = &copy_sites,
		    .hit = copy_site_hit },
	  .required = true },
	{ .spec = { .symbol = "wp_page_reuse",
		    .callers = FUNCS("do_wp_page", "wp_page_shared", "wp_pfn_shared"),
		    .hit = wp_reuse_hit },
	  .required = true, .instead = &reuse_at_call_sites },
	{ .spec = { .symbol = "do_fault",
		    .callers = FUNCS("do_pte_missing", "handle_pte_fault", "__handle_mm_fault",
				     "handle_mm_fault"),
		    .entry = file_fault_entry, .ret = file_fault_return,
		    .data_size = sizeof(struct file_cow_data), .maxactive = 64 },
	  .required = true, .instead = &file_cow_at_finish_fault },
	{ .spec = { .symbol = "do_huge_pmd_wp_page",
		    .callers = FUNCS("wp_huge_pmd", "__handle_mm_fault", "handle_mm_fault"),
		    .hit = thp_fault_hit },
	  .required = IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE) },
	{ .spec = { .symbol = COMPAT_HUGETLB_WP,
		    .callers = FUNCS("hugetlb_fault", "hugetlb_no_page"),
		    .entry = hugetlb_wp_entry, .ret = hugetlb_wp_return,
		    .data_size = sizeof(struct hugetlb_data), .maxactive = 16 },
	  .required = IS_ENABLED(CONFIG_HUGETLB_PAGE) },
#if COMPAT_BREAK_KSM_WRITES
	/* before 6.2 only: KSM's unmerge faults as a write */
	{ .spec = { .symbol = "break_ksm",
		    .callers = FUNCS("unmerge_ksm_pages", "break_cow", "ksm_madvise",
				     "unmerge_and_remove_all_rmap_items"),
		    .hit = break_ksm_hit },
	  .required = true },
#endif
#ifdef COWSTAT_SELFTEST_MISSING_PROBE
	/*
	 * Only in the selftests' second build (make selftest-modules): a
	 * required probe no kernel has, last, so that a failed load must
	 * unwind every probe before it.
	 */
	{ .spec = { .symbol = "cowstat_selftest_no_such_symbol", .hit = wp_reuse_hit },
	  .required = true },
#endif
};

#ifdef COWSTAT_SELFTEST_MISSING_PROBE
/*
 * The same build with selftest_wrong_function=1 checks do_wp_page against
 * a caller that does not call it, as if the name had resolved to another
 * function: the load must fail there, naming it.
 */
static bool selftest_wrong_function;
module_param(selftest_wrong_function, bool, 0444);
MODULE_PARM_DESC(selftest_wrong_function, "selftests only: make the do_wp_page check fail");

/*
 * selftest_missing_probe=0 leaves the missing probe out, so that the build
 * loads; selftest_no_reap=1 leaves the release_task() kretprobe out, so
 * that only sched_process_free moves rows, as for every release the
 * kretprobe misses; selftest_no_reap=2 leaves sched_process_free out too,
 * so that only the sweep does.
 */
static bool selftest_missing_probe = true;
module_param(selftest_missing_probe, bool, 0444);
MODULE_PARM_DESC(selftest_missing_probe, "selftests only: 0 leaves out the probe no kernel has");
static unsigned int selftest_no_reap;
module_param(selftest_no_reap, uint, 0444);
MODULE_PARM_DESC(selftest_no_reap,
		 "selftests only: 1 leaves out the release_task probe, 2 sched_process_free too");

/* selftest_maxactive=N: N instances in all for every kretprobe. */
static unsigned int selftest_maxactive;
module_param(selftest_maxactive, uint, 0444);
MODULE_PARM_DESC(selftest_maxactive, "selftests only: instances of each kretprobe, in all");

static bool selftest_left_out(const struct cowstat_probe *p)
{
	if (!selftest_missing_probe && !strcmp(p->spec.symbol, "cowstat_selftest_no_such_symbol"))
		return true;
	if (selftest_no_reap >= 2 && !strcmp(p->spec.symbol, "sched_process_free"))
		return true;
	return selftest_no_reap && !strcmp(p->spec.symbol, "release_task");
}
#else
#define selftest_maxactive 0U

static bool selftest_left_out(const struct cowstat_probe *p)
{
	return false;
}
#endif

/* --- the entry probes' two ways in -------------------------------------- */

/*
 * probe_path=: how function-entry probes are attached.  "auto" (the
 * default) takes an ftrace_ops callback where the kernel has them with
 * arguments and the function an ftrace location, else a kprobe; "ftrace"
 * refuses the load where it cannot; "kprobe" is the old path, for
 * comparing (make bench) and as the fallback's test; "fprobe" takes the
 * kernel's fprobe where it has one (COMPAT_FPROBE), a kprobe on a function
 * it cannot take, and refuses the load on a kernel without: for make bench
 * to weigh it against the others.
 */
enum probe_path { PATH_AUTO, PATH_FTRACE, PATH_KPROBE, PATH_FPROBE };

static const char *const probe_path_names[] = {
	[PATH_AUTO] = "auto", [PATH_FTRACE] = "ftrace", [PATH_KPROBE] = "kprobe",
	[PATH_FPROBE] = "fprobe",
};

static unsigned int probe_path = PATH_AUTO;

static int probe_path_set(const char *val, const struct kernel_param *kp)
{
	int i = sysfs_match_string(probe_path_names, val);

	if (i < 0) {
		pr_err("invalid probe_path=%s: must be auto, ftrace, kprobe or fprobe\n", val);
		return -EINVAL;
	}
	if (i == PATH_FTRACE && !COMPAT_FTRACE_ARGS) {
		pr_err("probe_path=ftrace: kernel %s passes no arguments to ftrace_ops callbacks (no DYNAMIC_FTRACE_WITH_ARGS): use auto or kprobe\n",
		       init_utsname()->release);
		return -EINVAL;
	}
	if (i == PATH_FPROBE && !COMPAT_FPROBE) {
		pr_err("probe_path=fprobe: kernel %s has no fprobe that passes the return address (CONFIG_FPROBE, 6.5 on): use auto or kprobe\n",
		       init_utsname()->release);
		return -EINVAL;
	}
	probe_path = i;
	return 0;
}

static int probe_path_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", probe_path_names[probe_path]);
}

static const struct kernel_param_ops probe_path_ops = {
	.set = probe_path_set,
	.get = probe_path_get,
};

module_param_cb(probe_path, &probe_path_ops, NULL, 0444);
MODULE_PARM_DESC(probe_path, "function-entry probes: auto (ftrace where possible), ftrace, kprobe or fprobe");

static int kprobe_hit(struct kprobe *kp, struct pt_regs *regs)
{
	struct cowstat_probe *p = container_of(kp, struct cowstat_probe, kp);
	struct probe_hit hit = {
		.regs = regs, .ret = arch_entry_return_address(regs),
		.ret_from_stack = true, .lost = &p->lost,
	};

	p->used->hit(&hit);
	return 0;
}
NOKPROBE_SYMBOL(kprobe_hit);

#if COMPAT_FTRACE_ARGS
/*
 * Called by the function's ftrace trampoline, which saved the argument
 * registers only.  ftrace calls a module's callback directly when it is
 * the only one on the function, so the callback keeps out recursion and
 * preemption itself (the handlers need it off, as under a kprobe).
 */
static void notrace ftrace_hit(unsigned long ip, unsigned long parent_ip,
			       struct ftrace_ops *ops, struct ftrace_regs *fregs)
{
	struct cowstat_probe *p = container_of(ops, struct cowstat_probe, fops);
	struct probe_hit hit = {
		.regs = compat_ftrace_args(fregs), .ret = parent_ip, .lost = &p->lost,
	};
	int bit = ftrace_test_recursion_trylock(ip, parent_ip);

	if (bit < 0) {
		probe_hit_lost(&hit);
		return;
	}
	preempt_disable_notrace();
	p->used->hit(&hit);
	preempt_enable_notrace();
	ftrace_test_recursion_unlock(bit);
}
NOKPROBE_SYMBOL(ftrace_hit);

/* On the function @p->used names, by address: no other of the same name. */
static int ftrace_register(struct cowstat_probe *p)
{
	unsigned long start, size;
	int err;

	err = cowstat_text_extent(p->used->symbol, &start, &size);
	if (err)
		return err;
	p->fops.func = ftrace_hit;
	err = ftrace_set_filter_ip(&p->fops, start, 0, 1);
	if (!err)
		err = register_ftrace_function(&p->fops);
	if (err)
		ftrace_free_filter(&p->fops);
	return err;
}

static void ftrace_unregister(struct cowstat_probe *p)
{
	unregister_ftrace_function(&p->fops);
	ftrace_free_filter(&p->fops);
}
#else
static int ftrace_register(struct cowstat_probe *p)
{
	return -EOPNOTSUPP;
}

static void ftrace_unregister(struct cowstat_probe *p)
{
}
#endif

#if COMPAT_FPROBE
/*
 * fprobe's entry handler, with preemption off and recursion kept out by
 * fprobe (or the function graph tracer under it).  @ret_ip is the
 * trampoline's parent_ip before 6.14, read from the stack since
 * (COMPAT_FPROBE_STACK_RET): then a return hook that ran first can hide
 * it, and call_site_hit() reads it back as for a kprobe.
 */
static int fprobe_hit(struct fprobe *fp, unsigned long entry_ip, unsigned long ret_ip,
		      struct COMPAT_FPROBE_REGS *regs, void *entry_data)
{
	struct cowstat_probe *p = container_of(fp, struct cowstat_probe, fp);
	struct probe_hit hit = {
		.regs = compat_fprobe_args(regs), .ret = ret_ip,
		.ret_from_stack = COMPAT_FPROBE_STACK_RET, .lost = &p->lost,
	};

	preempt_disable_notrace();
	p->used->hit(&hit);
	preempt_enable_notrace();
	return 0;
}
NOKPROBE_SYMBOL(fprobe_hit);

/*
 * At the function's ftrace location, which is where a kprobe on its name
 * goes (past an endbr64): the function @p->used names, no other.
 */
static int fprobe_register(struct cowstat_probe *p)
{
	unsigned long addr = cowstat_text_address(p->used->symbol);

	if (!addr)
		return -ENOENT;
	memset(&p->fp, 0, sizeof(p->fp));
	p->fp.entry_handler = fprobe_hit;
	return register_fprobe_ips(&p->fp, &addr, 1);
}

static void fprobe_unregister(struct cowstat_probe *p)
{
	unregister_fprobe(&p->fp);
}

static unsigned long fprobe_nmissed(const struct cowstat_probe *p)
{
	return p->fp.nmissed;
}
#else
static int fprobe_register(struct cowstat_probe *p)
{
	return -EOPNOTSUPP;
}

static void fprobe_unregister(struct cowstat_probe *p)
{
}

static unsigned long fprobe_nmissed(const struct cowstat_probe *p)
{
	return 0;
}
#endif

/*
 * An entry probe: by ftrace (or with probe_path=fprobe, by fprobe) where
 * probe_path allows and the kernel can, else by kprobe (which also takes
 * functions without an ftrace location).
 */
static int entry_register(struct cowstat_probe *p)
{
	int err;

	if (probe_path == PATH_FPROBE) {
		err = fprobe_register(p);
		if (!err) {
			p->via = VIA_FPROBE;
			return 0;
		}
		pr_info("%s on kernel %s takes no fprobe (error %d): a kprobe instead\n",
			p->used->symbol, init_utsname()->release, err);
	} else if (probe_path != PATH_KPROBE && COMPAT_FTRACE_ARGS) {
		err = ftrace_register(p);
		if (!err) {
			p->via = VIA_FTRACE;
			return 0;
		}
		if (probe_path == PATH_FTRACE) {
			pr_err("probe_path=ftrace: cannot attach an ftrace_ops to %s on kernel %s (error %d); not loading\n",
			       p->used->symbol, init_utsname()->release, err);
			return err;
		}
		/*
		 * Typically an inline function the compiler kept out of line:
		 * the kernel marks every inline notrace, so it has no ftrace
		 * location, but a kprobe can still sit on its first byte.
		 */
		pr_info("%s on kernel %s has no ftrace location (error %d): a kprobe instead\n",
			p->used->symbol, init_utsname()->release, err);
	}
	memset(&p->kp, 0, sizeof(p->kp));
	p->kp.symbol_name = p->used->symbol;
	p->kp.pre_handler = kprobe_hit;
	err = register_kprobe(&p->kp);
	if (!err)
		p->via = VIA_KPROBE;
	return err;
}

/* Fill @cs: the calls of its callee in its functions; -ENOENT if none. */
static int call_sites_find(struct call_sites *cs)
{
	unsigned long target, size;
	const char *const *f;
	int n;

	cs->nr = 0;
	n = cowstat_text_extent(cs->callee, &target, &size);
	if (n) {
		pr_err("cannot probe %s on kernel %s (error %d); it is required, not loading\n",
		       cs->callee, init_utsname()->release, n);
		return n;
	}
	for (f = cs->funcs; *f; f++) {
		n = cowstat_text_calls(*f, target, cs->ret + cs->nr,
				       MAX_CALL_SITES - cs->nr);
		if (n == -ENOENT)
			continue;
		if (n == -E2BIG)
			pr_err("more than %d calls of %s in %s on kernel %s; not loading\n",
			       MAX_CALL_SITES, cs->callee, *f, init_utsname()->release);
		if (n < 0)
			return n;
		cs->nr += n;
	}
	return cs->nr ? 0 : -ENOENT;
}

/* None found at all: this kernel resolves them somewhere cowstat does not know. */
static void log_no_call_sites(const struct call_sites *cs)
{
	char funcs[128] = "";
	const char *const *f;

	for (f = cs->funcs; *f; f++) {
		if (f != cs->funcs)
			strlcat(funcs, " or ", sizeof(funcs));
		strlcat(funcs, *f, sizeof(funcs));
	}
	pr_err("no call of %s in %s on kernel %s: cannot count %s, not loading\n",
	       cs->callee, funcs, init_utsname()->release, cs->what);
}

struct tp_lookup {
	const char *name;
	struct tracepoint *tp;
};

static void tp_match(struct tracepoint *tp, void *priv)
{
	struct tp_lookup *l = priv;

	if (!strcmp(tp->name, l->name))
		l->tp = tp;
}

/* The kernel's tracepoint of that name: attached by name, no symbol lookup. */
static int tp_register(struct cowstat_probe *p)
{
	struct tp_lookup l = { .name = p->used->symbol };
	int err;

	for_each_kernel_tracepoint(tp_match, &l);
	if (!l.tp)
		return -ENOENT;
	err = tracepoint_probe_register(l.tp, p->used->tp, NULL);
	if (!err)
		p->tp = l.tp;
	return err;
}

static int probe_register(struct cowstat_probe *p)
{
	const struct probe_spec *s = p->used;
	int err;

	if (s->tp) {
		err = tp_register(p);
		if (!err)
			p->via = VIA_TRACEPOINT;
		return err;
	}
	if (!s->ret)
		return entry_register(p);
	p->krp.kp.symbol_name = s->symbol;
	p->krp.entry_handler = s->entry;
	p->krp.handler = s->ret;
	p->krp.data_size = s->data_size;
	p->krp.maxactive = selftest_maxactive ?:
		min_t(unsigned int, s->maxactive * num_possible_cpus(),
		      KRETPROBE_INSTANCES_MAX);
	err = register_kretprobe(&p->krp);
	if (!err)
		p->via = VIA_KRETPROBE;
	return err;
}

/* The functions that call @s->symbol (the selftest build can lie). */
static const char *const *spec_callers(const struct probe_spec *s)
{
#ifdef COWSTAT_SELFTEST_MISSING_PROBE
	static const char *const not_a_caller[] = { "kernel_clone", NULL };

	if (selftest_wrong_function && !strcmp(s->symbol, "do_wp_page"))
		return not_a_caller;
#endif
	return s->callers;
}

/*
 * Is the function @s->symbol resolves to called from one of its callers?
 * -ENOENT if there is no such function, -ENXIO if none of them calls it:
 * then it is another function of the same name.
 */
static int spec_check_callers(const struct probe_spec *s)
{
	const char *const *c = spec_callers(s);
	unsigned long start, size;
	int err;

	err = cowstat_text_extent(s->symbol, &start, &size);
	if (err)
		return err == -EINVAL ? -ENOENT : err;
	if (!c)
		return 0;
	for (; *c; c++) {
		err = cowstat_text_branches_to(*c, start);
		if (err > 0)
			return 0;
		if (err < 0 && err != -ENOENT)
			return err;
	}
	return -ENXIO;
}

static void log_wrong_function(const struct probe_spec *s)
{
	const char *const *c = spec_callers(s);

	pr_err("%s on kernel %s is not the function cowstat probes: %s%s does not call it; not loading\n",
	       s->symbol, init_utsname()->release, c[0],
	       c[1] ? " (nor any other known caller)" : "");
}

/*
 * Put @p on the function it counts, checked by its callers or at the call
 * sites it counts, or else on its stand-in.  *@logged says whether a
 * failure was logged already (a wrong function, call sites not found);
 * otherwise the caller decides whether a missing function fails the load.
 */
static int probe_attach(struct cowstat_probe *p, bool *logged)
{
	const struct probe_spec *s = &p->spec;
	int err;

	*logged = false;
	p->used = s;
	if (s->tp)
		return probe_register(p);
	err = s->sites ? call_sites_find(s->sites) : spec_check_callers(s);
	if ((err == -ENOENT || err == -ENXIO) && p->instead) {
		s = p->used = p->instead;
		pr_info("%s on kernel %s is inlined, or only another function has the name: counting at %s instead\n",
			p->spec.symbol, init_utsname()->release, s->symbol);
		err = s->sites ? call_sites_find(s->sites) : spec_check_callers(s);
	}
	if (err == -ENXIO)
		log_wrong_function(s);
	else if (err == -ENOENT && s->sites)
		log_no_call_sites(s->sites);
	*logged = err && (err == -ENXIO || s->sites);
	return err ?: probe_register(p);
}

static unsigned long probe_nmissed(const struct cowstat_probe *p)
{
	unsigned long lost = atomic_long_read(&p->lost);

	switch (p->via) {
	case VIA_KPROBE:
		return p->kp.nmissed + lost;
	case VIA_KRETPROBE:
		return p->krp.nmissed + p->krp.kp.nmissed + lost;
	case VIA_FPROBE:
		return fprobe_nmissed(p) + lost;
	default:
		return lost;
	}
}

static void probe_unregister(struct cowstat_probe *p)
{
	if (!p->registered)
		return;
	switch (p->via) {
	case VIA_TRACEPOINT:
		tracepoint_probe_unregister(p->tp, p->used->tp, NULL);
		break;
	case VIA_FTRACE:
		ftrace_unregister(p);
		break;
	case VIA_KPROBE:
		unregister_kprobe(&p->kp);
		break;
	case VIA_KRETPROBE:
		unregister_kretprobe(&p->krp);
		break;
	case VIA_FPROBE:
		fprobe_unregister(p);
		break;
	case VIA_NONE:
		break;
	}
	p->registered = false;
	if (probe_nmissed(p))
		pr_info("%s: %lu hits missed\n", p->used->symbol, probe_nmissed(p));
}

int cowstat_probes_register(void)
{
	struct cowstat_probe *p;
	bool logged;
	int err;

	for (p = probes; p < probes + ARRAY_SIZE(probes); p++) {
		if (selftest_left_out(p)) {
			p->required = false;
			continue;
		}
		err = probe_attach(p, &logged);
		if (!err) {
			p->registered = true;
			continue;
		}
		if (logged)
			goto err_unwind;
		if (p->required) {
			pr_err("cannot probe %s on kernel %s (error %d); it is required, not loading\n",
			       p->used->symbol, init_utsname()->release, err);
			goto err_unwind;
		}
		pr_info("no %s on kernel %s (error %d): its counter stays 0\n",
			p->used->symbol, init_utsname()->release, err);
	}
	return 0;

err_unwind:
	while (p-- > probes)
		probe_unregister(p);
	tracepoint_synchronize_unregister();
	return err;
}

void cowstat_probes_unregister(void)
{
	struct cowstat_probe *p;

	for (p = probes + ARRAY_SIZE(probes); p-- > probes; )
		probe_unregister(p);
	/* No tracepoint probe runs any more, preemptible (7.x) ones included. */
	tracepoint_synchronize_unregister();
}

/* Every hit a probe saw but could not count, all probes together. */
u64 cowstat_probes_lost(void)
{
	const struct cowstat_probe *p;
	u64 lost = 0;

	for (p = probes; p < probes + ARRAY_SIZE(probes); p++)
		lost += probe_nmissed(p);
	return lost;
}

/*
 * For summary's kretprobe_hidden: what becomes of a call-site hit under
 * another tracer's return hook.  "seen" where every call-site probe is an
 * ftrace_ops callback (or an fprobe that is one, before 6.14), which gets
 * the return address as it was at entry; else what hooks.c can do for a
 * kprobe.
 */
const char *cowstat_probes_return_hidden(void)
{
	const struct cowstat_probe *p;

	for (p = probes; p < probes + ARRAY_SIZE(probes); p++)
		if (p->registered && p->used->sites && p->via != VIA_FTRACE &&
		    !(p->via == VIA_FPROBE && !COMPAT_FPROBE_STACK_RET))
			return cowstat_return_hooks();
	return "seen";
}

static void call_sites_show(struct seq_file *m, const char *key,
			    const struct call_sites *cs)
{
	unsigned int i;

	/* the call instructions (5 bytes), as func+off/size */
	for (i = 0; i < cs->nr; i++)
		seq_printf(m, "%s: %pS\n", key, (void *)(cs->ret[i] - 5));
}

void cowstat_probes_show(struct seq_file *m)
{
	const struct cowstat_probe *p;

	for (p = probes; p < probes + ARRAY_SIZE(probes); p++)
		seq_printf(m, "probe.%s: registered=%s required=%s nmissed=%lu via=%s\n",
			   (p->used ?: &p->spec)->symbol, p->registered ? "yes" : "no",
			   p->required ? "yes" : "no", probe_nmissed(p),
			   via_names[p->registered ? p->via : VIA_NONE]);
	call_sites_show(m, "copy_site", &copy_sites);
	call_sites_show(m, "reuse_site", &reuse_sites);
}
