// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat: how many pages did a fork share, and how many were copied since?
 *
 * Module init and exit, and the module parameters.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bits.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/utsname.h>

#include "cowstat.h"

#define MAX_TRACKED_LIMIT BIT(20)
#define HISTORY_LIMIT BIT(20)
#define SWEEP_SECS_LIMIT 3600

unsigned int cowstat_max_tracked = 8192;
unsigned int cowstat_history = 1024;

/* Out-of-range values refuse the load rather than being clamped. */
static int param_set_bounded(const char *val, const struct kernel_param *kp,
			     unsigned int min, unsigned int max)
{
	unsigned int n;

	if (kstrtouint(val, 0, &n) || n < min || n > max) {
		pr_err("invalid %s=%s: must be an integer from %u to %u\n",
		       kp->name, val, min, max);
		return -EINVAL;
	}
	*(unsigned int *)kp->arg = n;
	return 0;
}

static int max_tracked_set(const char *val, const struct kernel_param *kp)
{
	return param_set_bounded(val, kp, 1, MAX_TRACKED_LIMIT);
}

static int history_set(const char *val, const struct kernel_param *kp)
{
	return param_set_bounded(val, kp, 0, HISTORY_LIMIT);
}

static int sweep_secs_set(const char *val, const struct kernel_param *kp)
{
	return param_set_bounded(val, kp, 1, SWEEP_SECS_LIMIT);
}

static const struct kernel_param_ops max_tracked_ops = {
	.set = max_tracked_set,
	.get = param_get_uint,
};

static const struct kernel_param_ops history_ops = {
	.set = history_set,
	.get = param_get_uint,
};

static const struct kernel_param_ops sweep_secs_ops = {
	.set = sweep_secs_set,
	.get = param_get_uint,
};

module_param_cb(max_tracked, &max_tracked_ops, &cowstat_max_tracked, 0444);
MODULE_PARM_DESC(max_tracked, "live processes tracked at once (1..1048576, default 8192)");
module_param_cb(history, &history_ops, &cowstat_history, 0444);
MODULE_PARM_DESC(history, "exited processes kept for reading (0..1048576, default 1024)");
module_param_cb(sweep_secs, &sweep_secs_ops, &cowstat_sweep_secs, 0444);
MODULE_PARM_DESC(sweep_secs, "seconds between sweeps for rows of processes gone unseen (1..3600, default 10)");

static int __init cowstat_init(void)
{
	int err;

	err = cowstat_track_init();
	if (err)
		goto err_out;
	err = cowstat_debugfs_init();
	if (err)
		goto err_track;
	cowstat_hooks_init();
	err = cowstat_probes_register();
	if (err)
		goto err_debugfs;
	cowstat_track_start();
#ifdef COWSTAT_UNTESTED
	pr_warn("kernel %s is newer than %s, the newest series cowstat was tested on: a trial build (COWSTAT_UNTESTED=1), its numbers are unverified\n",
		init_utsname()->release, COWSTAT_NEWEST_TESTED);
#endif
	pr_info("version %s loaded on %s (max_tracked=%u history=%u sweep_secs=%u)\n",
		COWSTAT_VERSION, init_utsname()->release,
		cowstat_max_tracked, cowstat_history, cowstat_sweep_secs);
	return 0;

err_debugfs:
	cowstat_debugfs_exit();
err_track:
	cowstat_track_exit();
err_out:
	return err;
}

static void __exit cowstat_exit(void)
{
	/* No handler runs after this; then no reader; then free the table. */
	cowstat_probes_unregister();
	cowstat_debugfs_exit();
	cowstat_track_exit();
	pr_info("unloaded\n");
}

module_init(cowstat_init);
module_exit(cowstat_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("cowstat developers");
MODULE_DESCRIPTION("Per-process copy-on-write accounting (fork sharing, COW copies)");
MODULE_VERSION(COWSTAT_VERSION);
