// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/cowstat/: summary, processes, exited (read, root only)
 * and control (write, root only).  The formats are an interface, documented
 * in Documentation/cowstat.rst; add keys or columns only at the end.
 *
 * The module can be unloaded while a reader holds one of the read files
 * open; the reader then gets -EIO.  debugfs makes a removed file's reads fail
 * and waits for reads in progress, but it still calls the file_operations'
 * ->release() on the last close, possibly after the module is gone: so the
 * read files use debugfs_create_devm_seqfile(), whose file_operations and
 * release are the kernel's own (single_open/seq_read/single_release) and
 * whose only module pointer, the show function, is called from reads alone.
 * It needs a struct device for its bookkeeping: a root device "cowstat".
 * control keeps .owner = THIS_MODULE: while it is held open, rmmod is
 * refused (EBUSY).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ctype.h>
#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/mm.h>		/* kvfree() before it moved to slab.h */
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/utsname.h>

#include "cowstat.h"

#define CONTROL_MAX 64

/* The fewest bytes a row can take: "1 1 x" and " 0" per counter. */
#define TABLE_ROW_MIN (6 + 2 * CS_NR_COUNTERS)

static struct dentry *cowstat_dir;
static struct device *cowstat_dev;

static int summary_show(struct seq_file *m, void *data)
{
	struct cowstat_status st;
	int i;

	cowstat_get_status(&st);
	seq_printf(m, "version: %s\n", COWSTAT_VERSION);
	seq_printf(m, "kernel: %s\n", init_utsname()->release);
	for (i = 0; i < CS_NR_COUNTERS; i++)
		seq_printf(m, "%s: %llu\n", cowstat_counter_names[i], st.totals[i]);
	seq_printf(m, "tracked: %u\n", st.tracked);
	seq_printf(m, "exited: %u\n", st.exited);
	seq_printf(m, "max_tracked: %u\n", cowstat_max_tracked);
	seq_printf(m, "history: %u\n", cowstat_history);
	seq_printf(m, "dropped: %llu\n", st.dropped);
	seq_printf(m, "dropped_events: %llu\n", st.dropped_events);
	seq_printf(m, "evicted: %llu\n", st.evicted);
	seq_printf(m, "entry_bytes: %zu\n", st.entry_bytes);
	cowstat_probes_show(m);
	/* Added after the probe lines: the format only grows at its end. */
	seq_printf(m, "pool_empty: %llu\n", st.pool_empty);
	seq_printf(m, "lost: %llu\n", cowstat_probes_lost());
	seq_printf(m, "kretprobe_hidden: %s\n", cowstat_probes_return_hidden());
	seq_printf(m, "swept: %llu\n", st.swept);
	seq_printf(m, "table_lock_max_ns: %llu\n", st.table_lock_max_ns);
	return 0;
}

/* comm is free text: keep one token per column, escape the rest as \ooo. */
static void comm_show(struct seq_file *m, const char *comm)
{
	const unsigned char *c;

	/* PR_SET_NAME allows an empty name; a real one never holds a NUL. */
	if (!*comm)
		seq_puts(m, "\\000");
	for (c = (const unsigned char *)comm; *c; c++) {
		if (isgraph(*c) && *c != '\\' && *c < 0x7f)
			seq_putc(m, *c);
		else
			seq_printf(m, "\\%03o", *c);
	}
}

static void row_show(struct seq_file *m, const struct cowstat_row *row)
{
	int i;

	/*
	 * seq_put_decimal_*() rather than seq_printf(): a row is a dozen
	 * numbers and the file may have tens of thousands of rows, which
	 * vsnprintf's format parsing made several times slower to read.
	 */
	seq_put_decimal_ll(m, "", row->pid);
	seq_put_decimal_ll(m, " ", row->ppid);
	seq_putc(m, ' ');
	comm_show(m, row->comm);
	for (i = 0; i < CS_NR_COUNTERS; i++)
		seq_put_decimal_ull(m, " ", row->count[i]);
	seq_putc(m, '\n');
}

/*
 * The bytes per row of the last table that fitted, the estimate for the
 * next read; at first, and never below, TABLE_ROW_MIN.
 */
static unsigned int table_row_bytes = TABLE_ROW_MIN;

/*
 * The whole table is one seq_file record, from one snapshot taken at the
 * first read (or after a seek to 0), so a reader never sees a torn table.
 * seq_read() calls again with a buffer twice as large while the record does
 * not fit: skip the snapshot while the buffer is likely too small, by the
 * row size last seen, so that a large table is rendered once, not again
 * after an overflow.
 */
static int table_show(struct seq_file *m, bool exited)
{
	unsigned int row_bytes = max_t(unsigned int, READ_ONCE(table_row_bytes),
				       TABLE_ROW_MIN);
	struct cowstat_snapshot *snap;
	struct cowstat_status st;
	size_t i, nr;

	cowstat_get_status(&st);
	nr = exited ? st.exited : st.tracked;
	if (m->size < nr * row_bytes) {
		m->count = m->size;	/* overflowed: retry with more room */
		return 0;
	}
	snap = cowstat_snapshot(exited);
	if (!snap)
		return -ENOMEM;
	seq_puts(m, "pid ppid comm");
	for (i = 0; i < CS_NR_COUNTERS; i++)
		seq_printf(m, " %s", cowstat_counter_names[i]);
	seq_putc(m, '\n');
	for (i = 0; i < snap->nr && !seq_has_overflowed(m); i++)
		row_show(m, &snap->rows[i]);
	/* a row more than the average, so that the next one fits the first time */
	if (!seq_has_overflowed(m) && snap->nr >= 64)
		WRITE_ONCE(table_row_bytes, m->count / snap->nr + 1);
	kvfree(snap);
	return 0;
}

static int processes_show(struct seq_file *m, void *data)
{
	return table_show(m, false);
}

static int exited_show(struct seq_file *m, void *data)
{
	return table_show(m, true);
}

/* One command per write; anything not understood changes nothing. */
static ssize_t control_write(struct file *file, const char __user *ubuf,
			     size_t count, loff_t *ppos)
{
	char buf[CONTROL_MAX + 1];
	size_t len;

	if (count > CONTROL_MAX) {
		pr_warn_ratelimited("control: %zu-byte write refused (at most %d)\n",
				    count, CONTROL_MAX);
		return -EINVAL;
	}
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	len = count;
	if (len && buf[len - 1] == '\n')
		len--;
	buf[len] = '\0';

	if (len == 5 && !memcmp(buf, "reset", 5)) {
		int err = cowstat_reset();

		return err ? err : count;
	}
	pr_warn_ratelimited("control: unknown command '%*pE' (only 'reset')\n",
			    (int)len, buf);
	return -EINVAL;
}

static const struct file_operations control_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = control_write,
	.llseek = noop_llseek,
};

/*
 * debugfs_create_devm_seqfile() makes its files 0444 and returns nothing:
 * find each file again and make it readable by root only.
 */
static int read_file_create(const char *name,
			    int (*show)(struct seq_file *m, void *data))
{
	struct dentry *d;

	debugfs_create_devm_seqfile(cowstat_dev, name, cowstat_dir, show);
	d = debugfs_lookup(name, cowstat_dir);
	if (!d) {
		pr_err("cannot create debugfs file %s\n", name);
		return -ENOMEM;
	}
	inode_lock(d_inode(d));
	d_inode(d)->i_mode = S_IFREG | 0400;
	inode_unlock(d_inode(d));
	dput(d);
	return 0;
}

int cowstat_debugfs_init(void)
{
	int err;

	cowstat_dev = root_device_register(KBUILD_MODNAME);
	if (IS_ERR(cowstat_dev)) {
		pr_err("cannot register device %s (error %ld)\n",
		       KBUILD_MODNAME, PTR_ERR(cowstat_dev));
		return PTR_ERR(cowstat_dev);
	}
	cowstat_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	if (IS_ERR(cowstat_dir)) {
		err = PTR_ERR(cowstat_dir);
		pr_err("cannot create debugfs directory (error %d)\n", err);
		goto err_device;
	}
	err = read_file_create("summary", summary_show);
	if (!err)
		err = read_file_create("processes", processes_show);
	if (!err)
		err = read_file_create("exited", exited_show);
	if (err)
		goto err_dir;
	debugfs_create_file("control", 0200, cowstat_dir, NULL, &control_fops);
	return 0;

err_dir:
	debugfs_remove(cowstat_dir);
err_device:
	root_device_unregister(cowstat_dev);
	return err;
}

/* Waits for reads in progress; later reads of files still open get -EIO. */
void cowstat_debugfs_exit(void)
{
	debugfs_remove(cowstat_dir);
	root_device_unregister(cowstat_dev);
}
