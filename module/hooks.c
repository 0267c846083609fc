// SPDX-License-Identifier: GPL-2.0
/*
 * Other tracers' return hooks: where a call site is told by its return
 * address, what a probe sees when something else hooks the same function's
 * return, and how the true return address is recovered.
 *
 * A kretprobe or an fprobe exit handler (rethook), the function graph
 * tracer or an fprobe on fgraph (return_to_handler), or a BPF trampoline
 * (fexit) replaces the return address of the function it hooks: a probe
 * that runs after it at the same entry finds the hook's trampoline there,
 * not the call site.  A livepatched caller calls from a module's text.
 * None of them is a copy site, so without a check every copy made under
 * such a hook would go uncounted, silently.
 *
 * cowstat_hooks_init() finds the trampolines at load and checks, on a
 * function of this module, that a kretprobe's hidden return address can be
 * read back from the task's rethook list, exactly.  Then a probe hit whose
 * return address is a rethook trampoline is resolved from that list; one
 * whose return address is any other hook's trampoline or module text
 * cannot be told apart, and counts in lost.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/compiler.h>
#include <linux/kprobes.h>
#include <linux/utsname.h>

#include "arch.h"
#include "compat.h"
#include "cowstat.h"

/* Trampolines that may stand where a return address was. */
static const char *const trampoline_names[] = {
	"arch_rethook_trampoline",	/* rethook, 5.18 on */
	"__kretprobe_trampoline",	/* kretprobes without rethook, 5.15 to 5.18 */
	"kretprobe_trampoline",		/* the same before 5.15 */
	"return_to_handler",		/* function graph tracer, fgraph fprobes */
};

static unsigned long trampolines[ARRAY_SIZE(trampoline_names)];
/* The trampoline of this kernel's kretprobes, if they are on rethook. */
static unsigned long rethook_trampoline;

bool cowstat_return_hidden(unsigned long ret)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(trampolines); i++)
		if (ret == trampolines[i])
			return true;
	return arch_module_text(ret);
}
NOKPROBE_SYMBOL(cowstat_return_hidden);

unsigned long cowstat_return_recover(struct pt_regs *regs)
{
	unsigned long sp = kernel_stack_pointer(regs);

	if (!rethook_trampoline || *(unsigned long *)sp != rethook_trampoline)
		return 0;
	return compat_rethook_return(sp);
}
NOKPROBE_SYMBOL(cowstat_return_recover);

/*
 * The calibration: a kprobe on calib_target() records what it sees at
 * entry behind a kretprobe on the same function, which the kprobes core
 * runs first (a newer probe goes to the head of the list).
 */
static unsigned long calib_seen, calib_recovered;

static noinline int calib_target(int x)
{
	barrier();
	return x + 1;
}

/* Called through a hidden pointer, so that it is neither inlined nor cloned. */
static noinline int calib_call(void)
{
	int (*fn)(int) = calib_target;

	OPTIMIZER_HIDE_VAR(fn);
	return fn(1) + 1;
}

/* Is @ret the return address of calib_call()'s call, a few bytes into it? */
static bool calib_returns_to_caller(unsigned long ret)
{
	unsigned long start = (unsigned long)calib_call;

	return ret > start && ret < start + 128;
}

static int calib_pre(struct kprobe *kp, struct pt_regs *regs)
{
	calib_seen = arch_entry_return_address(regs);
	calib_recovered = compat_rethook_return(kernel_stack_pointer(regs));
	return 0;
}

static int calib_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	return 0;
}

/*
 * Does a kretprobe hide the return address behind a trampoline, and can it
 * be read back from the rethook list?  Only then is that trampoline
 * resolved at hits; any other hidden return counts in lost.
 */
static void hooks_calibrate(void)
{
	struct kprobe kp = { .addr = (kprobe_opcode_t *)calib_target, .pre_handler = calib_pre };
	struct kretprobe krp = { .kp.addr = (kprobe_opcode_t *)calib_target,
				 .handler = calib_ret, .maxactive = 1 };
	int err;

	err = register_kprobe(&kp);
	if (err) {
		pr_info("cannot calibrate return hooks on kernel %s (error %d): copies under one count in lost\n",
			init_utsname()->release, err);
		return;
	}
	err = register_kretprobe(&krp);
	if (!err) {
		calib_call();
		unregister_kretprobe(&krp);
	}
	unregister_kprobe(&kp);
	/* hidden, and read back exactly: the return into calib_call() */
	if (!err && !calib_returns_to_caller(calib_seen) &&
	    calib_returns_to_caller(calib_recovered))
		rethook_trampoline = calib_seen;
	else
		pr_info("kernel %s: return addresses hidden by kretprobes cannot be recovered (kretprobe %d, hidden %s, read back %s): copies under one count in lost\n",
			init_utsname()->release, err,
			calib_returns_to_caller(calib_seen) ? "no" : "yes",
			calib_returns_to_caller(calib_recovered) ? "yes" :
			calib_recovered ? "wrong" : "no");
}

void cowstat_hooks_init(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(trampoline_names); i++)
		trampolines[i] = cowstat_text_address(trampoline_names[i]);
	hooks_calibrate();
}

/* For summary: what becomes of a hit whose return address a kretprobe hid. */
const char *cowstat_return_hooks(void)
{
	return rethook_trampoline ? "recovered" : "lost";
}
