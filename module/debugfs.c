// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/cowstat/: summary, processes, exited (read, root only)
 * and control (write, root only).  The formats are an interface, documented
 * in Documentation/cowstat.rst; add keys or columns only at the end.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ctype.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/utsname.h>

#include "cowstat.h"

#define CONTROL_MAX 64

static struct dentry *cowstat_dir;

static int summary_show(struct seq_file *m, void *v)
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
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(summary);

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

static void *table_start(struct seq_file *m, loff_t *pos)
{
	struct cowstat_snapshot *snap = m->private;

	if (*pos == 0)
		return SEQ_START_TOKEN;
	return *pos <= snap->nr ? &snap->rows[*pos - 1] : NULL;
}

static void *table_next(struct seq_file *m, void *v, loff_t *pos)
{
	++*pos;
	return table_start(m, pos);
}

static void table_stop(struct seq_file *m, void *v)
{
}

static int table_show(struct seq_file *m, void *v)
{
	const struct cowstat_row *row = v;
	int i;

	if (v == SEQ_START_TOKEN) {
		seq_puts(m, "pid ppid comm");
		for (i = 0; i < CS_NR_COUNTERS; i++)
			seq_printf(m, " %s", cowstat_counter_names[i]);
		seq_putc(m, '\n');
		return 0;
	}
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
	return 0;
}

static const struct seq_operations table_seq_ops = {
	.start = table_start,
	.next = table_next,
	.stop = table_stop,
	.show = table_show,
};

/* Each open reads a snapshot taken at open time. */
static int table_open(struct inode *inode, struct file *file)
{
	struct cowstat_snapshot *snap;
	int err;

	snap = cowstat_snapshot((uintptr_t)inode->i_private);
	if (!snap)
		return -ENOMEM;
	err = seq_open(file, &table_seq_ops);
	if (err) {
		kvfree(snap);
		return err;
	}
	((struct seq_file *)file->private_data)->private = snap;
	return 0;
}

static int table_release(struct inode *inode, struct file *file)
{
	kvfree(((struct seq_file *)file->private_data)->private);
	return seq_release(inode, file);
}

static const struct file_operations table_fops = {
	.owner = THIS_MODULE,
	.open = table_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = table_release,
};

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
		cowstat_reset();
		return count;
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

int cowstat_debugfs_init(void)
{
	cowstat_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	if (IS_ERR(cowstat_dir)) {
		pr_err("cannot create debugfs directory (error %ld)\n",
		       PTR_ERR(cowstat_dir));
		return PTR_ERR(cowstat_dir);
	}
	debugfs_create_file("summary", 0400, cowstat_dir, NULL, &summary_fops);
	debugfs_create_file("processes", 0400, cowstat_dir, (void *)0, &table_fops);
	debugfs_create_file("exited", 0400, cowstat_dir, (void *)1, &table_fops);
	debugfs_create_file("control", 0200, cowstat_dir, NULL, &control_fops);
	return 0;
}

void cowstat_debugfs_exit(void)
{
	debugfs_remove(cowstat_dir);
}
