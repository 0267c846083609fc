// SPDX-License-Identifier: GPL-2.0
/* Owns the run mode: a command's cost, its tree, totals and forks. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "cowstat.h"

struct warnings {
	char *msg[16];
	int n;
};

static void __printf(2, 3) warn(struct warnings *w, const char *fmt, ...)
{
	va_list ap;

	if (w->n == (int)ARRAY_SIZE(w->msg))
		return;
	va_start(ap, fmt);
	if (vasprintf(&w->msg[w->n], fmt, ap) < 0)
		w->msg[w->n] = NULL;
	else
		w->n++;
	va_end(ap);
}

/* What was in the files before the command started. */
struct mark {
	struct schema schema;		/* the columns of tot and anchor */
	long long next_seq;		/* seq of the first row reaped after it */
	bool have_anchor;
	struct row anchor;		/* the last row of exited then */
	unsigned long long tot[MAX_COUNTERS];
	unsigned long long evicted, dropped, dropped_events, missed;
};

/* What run reports: the command's tree in the reading after it. */
struct report {
	struct snap s;
	struct warnings w;
	struct rowvec rv;
	unsigned long long tot[MAX_COUNTERS];
	size_t nlive;
	pid_t pid;
	int status, code;
	double secs;
};

static unsigned long long cnt_of(const struct schema *sc, const struct row *r,
				 const char *name)
{
	int i = schema_index(sc, name);

	return i < 0 ? 0 : r->cnt[i];
}

static void print_pages(FILE *out, const char *what, unsigned long long pages)
{
	char buf[32];

	fprintf(out, "%s %llu (%s)", what, pages,
		human(pages * PAGE_BYTES, true, buf, sizeof(buf)));
}

/* Each parent/child pair of the tree: what the fork shared and copied. */
static void print_forks(FILE *out, const struct schema *sc,
			const struct rowvec *rv)
{
	char pn[COMM_MAX * 4], cn[COMM_MAX * 4];
	const struct row *p, *k;
	bool any = false;
	size_t i;

	for (i = 0; i < rv->n; i++) {
		k = rv->v[i];
		p = k->parent;
		if (!p)
			continue;
		if (!any)
			fputs("\nforks (pages; shared = the child's fork_inherited, copied = cow_copies of each side):\n",
			      out);
		any = true;
		sanitize(p->comm, pn, sizeof(pn));
		sanitize(k->comm, cn, sizeof(cn));
		fprintf(out, "  %d %s -> %d %s: ", p->pid, pn, k->pid, cn);
		if (!cnt_of(sc, p, "forks") && !cnt_of(sc, k, "fork_inherited")) {
			fputs("vfork, posix_spawn or another CLONE_VM clone: nothing shared\n",
			      out);
			continue;
		}
		print_pages(out, "shared", cnt_of(sc, k, "fork_inherited"));
		print_pages(out, ", copied by the child", cnt_of(sc, k, "cow_copies"));
		if (cnt_of(sc, k, "forks"))
			fprintf(out, " [its total, it forked %llu times itself]",
				cnt_of(sc, k, "forks"));
		print_pages(out, ", by the parent", cnt_of(sc, p, "cow_copies"));
		if (cnt_of(sc, p, "forks") != 1)
			fprintf(out, " [its total over %llu forks]",
				cnt_of(sc, p, "forks"));
		else if (cnt_of(sc, p, "fork_inherited"))
			fputs(" [its total, it also shares pages with its own parent]", out);
		fputc('\n', out);
	}
}

static void json_forks(struct json *j, const struct schema *sc,
		       const struct rowvec *rv)
{
	unsigned long long kforks, pforks, pinherited;
	const struct row *p, *k;
	size_t i;

	json_arr(j);
	for (i = 0; i < rv->n; i++) {
		k = rv->v[i];
		p = k->parent;
		if (!p)
			continue;
		kforks = cnt_of(sc, k, "forks");
		pforks = cnt_of(sc, p, "forks");
		pinherited = cnt_of(sc, p, "fork_inherited");
		json_obj(j);
		json_kv_int(j, "parent", p->pid);
		json_kv_int(j, "child", k->pid);
		json_kv_u64(j, "shared_at_fork",
			    cnt_of(sc, k, "fork_inherited"));
		json_kv_u64(j, "child_cow_copies", cnt_of(sc, k, "cow_copies"));
		json_kv_u64(j, "parent_cow_copies",
			    cnt_of(sc, p, "cow_copies"));
		json_kv_u64(j, "child_forks", kforks);
		json_kv_u64(j, "parent_forks", pforks);
		json_kv_u64(j, "parent_fork_inherited", pinherited);
		json_kv_bool(j, "child_copies_exact", !kforks);
		json_kv_bool(j, "parent_copies_exact",
			     pforks == 1 && !pinherited);
		json_obj_end(j);
	}
	json_arr_end(j);
}

/* Takes the snapshot's schema into the mark. */
static void mark_take(struct mark *m, struct snap *s)
{
	memset(m, 0, sizeof(*m));
	m->next_seq = s->evicted + s->exited.n;
	if (s->exited.n) {
		m->have_anchor = true;
		m->anchor = s->exited.rows[s->exited.n - 1];
	}
	snap_totals(s, m->tot);
	m->evicted = s->evicted;
	m->dropped = sum_u64(&s->sum, "dropped");
	m->dropped_events = sum_u64(&s->sum, "dropped_events");
	m->missed = s->sum.missed;
	m->schema = s->schema;
	s->schema.n = 0;
}

/*
 * Was the module reset (or reloaded) between the mark and this reading?
 * The reading's columns start with those of the mark.
 */
static bool was_reset(const struct mark *m, struct snap *s)
{
	unsigned long long tot[MAX_COUNTERS];
	const struct row *a;
	long long k;
	int i;

	snap_totals(s, tot);
	for (i = 0; i < s->schema.n; i++)
		if (tot[i] < m->tot[i])
			return true;
	if ((unsigned long long)s->evicted < m->evicted ||
	    sum_u64(&s->sum, "dropped") < m->dropped ||
	    sum_u64(&s->sum, "dropped_events") < m->dropped_events)
		return true;
	if (!m->have_anchor || s->evicted > m->anchor.seq)
		return false;
	/* the anchor row must still be where it was */
	k = m->anchor.seq - s->evicted;
	if (k >= (long long)s->exited.n)
		return true;
	a = &s->exited.rows[k];
	return a->pid != m->anchor.pid || a->ppid != m->anchor.ppid ||
	       strcmp(a->comm, m->anchor.comm) ||
	       memcmp(a->cnt, m->anchor.cnt, sizeof(a->cnt));
}

/* Start the command like time(1) does and wait for it. */
static int spawn_wait(char **argv, struct report *rep)
{
	struct timespec t0, t1;
	posix_spawnattr_t attr;
	sigset_t set;
	int err;

	/* ^C and ^\ go to the command, not to us. */
	posix_spawnattr_init(&attr);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGQUIT);
	posix_spawnattr_setsigdefault(&attr, &set);
	sigemptyset(&set);
	posix_spawnattr_setsigmask(&attr, &set);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	fflush(NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* posix_spawn() is a CLONE_VM clone: it shares nothing copy-on-write. */
	err = posix_spawnp(&rep->pid, argv[0], NULL, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	if (err) {
		err_msg("%s: %s", argv[0], strerror(err));
		return err == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC;
	}
	while (waitpid(rep->pid, &rep->status, 0) < 0) {
		if (errno != EINTR) {
			err_msg("waitpid: %s", strerror(errno));
			return EXIT_READ;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	rep->secs = t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	rep->code = WIFEXITED(rep->status) ? WEXITSTATUS(rep->status) :
		    WIFSIGNALED(rep->status) ? 128 + WTERMSIG(rep->status) :
		    EXIT_READ;
	return 0;
}

/* Warnings about the reading; returns the seq of the run's first row. */
static long long check_reading(const struct mark *m, struct report *rep)
{
	const struct summary *sum = &rep->s.sum;
	struct warnings *w = &rep->w;
	long long min_seq = m->next_seq;

	if (!rep->s.stable)
		warn(w, "exited kept changing while cowstat read it: rows may be attributed wrongly");
	if (was_reset(m, &rep->s)) {
		warn(w, "the counts were reset or the module reloaded during the run: rows from before that are gone, the numbers are incomplete");
		min_seq = LLONG_MIN;
	} else if (rep->s.evicted > m->next_seq) {
		warn(w, "%lld rows reaped during the run were evicted from exited before cowstat read them (history=%llu): processes may be missing",
		     rep->s.evicted - m->next_seq, sum_u64(sum, "history"));
	}
	if (sum_u64(sum, "dropped") > m->dropped)
		warn(w, "%llu processes forked during the run got no row (table full, max_tracked=%llu): processes may be missing",
		     sum_u64(sum, "dropped") - m->dropped,
		     sum_u64(sum, "max_tracked"));
	if (sum_u64(sum, "dropped_events") > m->dropped_events)
		warn(w, "%llu counter updates during the run found no row: counts may be missing",
		     sum_u64(sum, "dropped_events") - m->dropped_events);
	if (sum->missed > m->missed)
		warn(w, "the probes missed %llu hits during the run: counts may be low",
		     sum->missed - m->missed);
	return min_seq;
}

/*
 * The command's tree: its row is the last with its pid and us as parent;
 * without one, a stand-in row, so that its descendants are still found.
 */
static void build_tree(struct report *rep, struct cands *c, long long min_seq,
		       const char *cmd)
{
	struct row virt, *root = NULL;
	size_t j;

	cands_build(c, &rep->s, min_seq);
	for (j = 0; j < c->n; j++)
		if (c->bypid[j]->pid == rep->pid && c->bypid[j]->ppid == getpid() &&
		    (!root || c->bypid[j]->seq > root->seq || c->bypid[j]->live))
			root = c->bypid[j];
	if (!root) {
		warn(&rep->w, "no row for %s (pid %d): dropped, evicted or reset away; showing its descendants only",
		     cmd, rep->pid);
		memset(&virt, 0, sizeof(virt));
		virt.pid = rep->pid;
		virt.ppid = getpid();
		virt.live = true;
		virt.virt = true;
		virt.seq = -1;
		root = &virt;
	}
	add_tree(c, root, &rep->rv);
	sum_rows(&rep->s.schema, &rep->rv, rep->tot);
	for (j = 0; j < rep->rv.n; j++)
		rep->nlive += rep->rv.v[j]->live;
}

static void json_report(FILE *out, const struct report *rep, char **argv)
{
	const struct schema *sc = &rep->s.schema;
	struct json j;
	size_t i;
	int k;

	json_init(&j, out);
	json_obj(&j);
	json_key(&j, "command");
	json_arr(&j);
	for (k = 0; argv[k]; k++)
		json_str(&j, argv[k]);
	json_arr_end(&j);
	json_kv_int(&j, "pid", rep->pid);
	json_kv_int(&j, "exit_status", rep->code);
	json_key(&j, "exit_code");
	if (WIFEXITED(rep->status))
		json_int(&j, WEXITSTATUS(rep->status));
	else
		json_null(&j);
	json_key(&j, "signal");
	if (WIFEXITED(rep->status))
		json_null(&j);
	else
		json_int(&j, WIFSIGNALED(rep->status) ? WTERMSIG(rep->status) : 0);
	json_key(&j, "elapsed_seconds");
	json_fixed3(&j, rep->secs);
	json_key(&j, "module");
	json_module(&j, sc, &rep->s.sum);
	json_key(&j, "totals");
	json_counters(&j, sc, rep->tot);
	json_key(&j, "processes");
	json_arr(&j);
	for (i = 0; i < rep->rv.n; i++)
		json_row(&j, sc, rep->rv.v[i], true);
	json_arr_end(&j);
	json_key(&j, "forks");
	json_forks(&j, sc, &rep->rv);
	json_key(&j, "warnings");
	json_arr(&j);
	for (k = 0; k < rep->w.n; k++)
		json_str(&j, rep->w.msg[k]);
	json_arr_end(&j);
	json_obj_end(&j);
	json_end(&j);
	for (k = 0; k < rep->w.n && out != stderr; k++)
		err_msg("warning: %s", rep->w.msg[k]);
}

static void text_report(FILE *out, const struct report *rep, const char *cmd)
{
	const struct schema *sc = &rep->s.schema;
	size_t n = rep->rv.n;
	int k;

	fprintf(out, "\ncowstat: %s (pid %d) ", cmd, rep->pid);
	if (WIFEXITED(rep->status))
		fprintf(out, "exited with status %d", WEXITSTATUS(rep->status));
	else
		fprintf(out, "was killed by signal %d (%s)", WTERMSIG(rep->status),
			strsignal(WTERMSIG(rep->status)));
	fprintf(out, " after %.3f s; it and its descendants: %zu processes (%zu exited, %zu live)\n\n",
		rep->secs, n, n - rep->nlive, rep->nlive);
	if (n)
		print_table(out, sc, rep->rv.v, n, true, true, -1, SIZE_MAX);
	fprintf(out, "\ntotals of the %zu processes:\n", n);
	print_counters(out, sc, rep->tot);
	print_forks(out, sc, &rep->rv);
	for (k = 0; k < rep->w.n; k++)
		fprintf(out, "cowstat: warning: %s\n", rep->w.msg[k]);
}

int cmd_run(const struct opts *o, const char *dir, FILE *out, char **argv)
{
	struct report rep = { 0 };
	struct cands c = { 0 };
	long long min_seq;
	struct mark m;
	struct snap s;
	int rc, i;

	rc = snap_read(&s, dir, NULL, false, true);
	if (rc)
		return rc;
	mark_take(&m, &s);
	snap_free(&s);

	rc = spawn_wait(argv, &rep);
	if (rc) {
		schema_free(&m.schema);
		return rc;
	}
	/* the mark's columns keep their indexes */
	rc = snap_read(&rep.s, dir, &m.schema, true, true);
	schema_free(&m.schema);
	if (rc) {
		err_msg("no report for %s (pid %d)", argv[0], rep.pid);
		return rep.code;
	}
	min_seq = check_reading(&m, &rep);
	build_tree(&rep, &c, min_seq, argv[0]);
	if (o->json)
		json_report(out, &rep, argv);
	else
		text_report(out, &rep, argv[0]);
	for (i = 0; i < rep.w.n; i++)
		free(rep.w.msg[i]);
	free(rep.rv.v);
	cands_free(&c);
	snap_free(&rep.s);
	return rep.code;
}
