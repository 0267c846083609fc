// SPDX-License-Identifier: GPL-2.0
/* Owns trees: a process and its descendants, PID reuse across the rows. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cowstat.h"

static int cmp_pid(const void *a, const void *b)
{
	const struct row *x = *(struct row * const *)a, *y = *(struct row * const *)b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->live != y->live)
		return x->live ? 1 : -1;	/* exited first, then live */
	return (x->seq > y->seq) - (x->seq < y->seq);
}

static int cmp_ppid(const void *a, const void *b)
{
	const struct row *x = *(struct row * const *)a, *y = *(struct row * const *)b;

	if (x->ppid != y->ppid)
		return x->ppid < y->ppid ? -1 : 1;
	if (x->live != y->live)
		return x->live ? 1 : -1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Live rows, and the exited rows with seq >= min_seq. */
void cands_build(struct cands *c, struct snap *s, long long min_seq)
{
	size_t i;

	c->n = 0;
	c->bypid = xrealloc(NULL, (s->live.n + s->exited.n) * sizeof(*c->bypid));
	c->byppid = xrealloc(NULL, (s->live.n + s->exited.n) * sizeof(*c->byppid));
	for (i = 0; i < s->live.n; i++)
		c->bypid[c->n++] = &s->live.rows[i];
	for (i = 0; i < s->exited.n; i++)
		if (s->exited.rows[i].seq >= min_seq)
			c->bypid[c->n++] = &s->exited.rows[i];
	for (i = 0; i < c->n; i++) {
		c->bypid[i]->used = false;
		c->bypid[i]->parent = NULL;
	}
	memcpy(c->byppid, c->bypid, c->n * sizeof(*c->bypid));
	qsort(c->bypid, c->n, sizeof(*c->bypid), cmp_pid);
	qsort(c->byppid, c->n, sizeof(*c->byppid), cmp_ppid);
}

void cands_free(struct cands *c)
{
	free(c->bypid);
	free(c->byppid);
}

/* First index in a sorted array whose pid (or ppid) is >= key. */
static size_t lower(struct row **v, size_t n, int key, bool ppid)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if ((ppid ? v[mid]->ppid : v[mid]->pid) < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void push(struct rowvec *rv, struct row *r)
{
	if (rv->n == rv->cap) {
		rv->cap = rv->cap ? 2 * rv->cap : 64;
		rv->v = xrealloc(rv->v, rv->cap * sizeof(*rv->v));
	}
	rv->v[rv->n++] = r;
}

/*
 * A pid can have several rows (reuse).  For a node, its own incarnation is
 * the span of exited rows after the previous row with its pid ("lo"); rows
 * with its pid as ppid before that belong to an earlier process.  When a
 * later process has the same pid ("newer"), children reaped after the
 * node's own row and live children are ambiguous and left out.  Adds the
 * node's eligible children to the stack, last first.
 */
static void push_children(struct cands *c, struct row *node, struct rowvec *stack)
{
	long long lo = LLONG_MIN;
	bool newer = false;
	size_t i, first, n;
	struct row *k;

	for (i = lower(c->bypid, c->n, node->pid, false);
	     i < c->n && c->bypid[i]->pid == node->pid; i++) {
		k = c->bypid[i];
		if (k == node)
			continue;
		if (k->live)
			newer |= !node->live;
		else if (node->live || k->seq < node->seq)
			lo = k->seq > lo ? k->seq : lo;
		else
			newer = true;
	}
	first = lower(c->byppid, c->n, node->pid, true);
	for (n = 0; first + n < c->n && c->byppid[first + n]->ppid == node->pid; n++)
		;
	for (i = first + n; i-- > first; ) {
		k = c->byppid[i];
		if (k->used)
			continue;
		if (k->live ? newer : k->seq <= lo ||
		    (newer && !node->live && k->seq > node->seq))
			continue;
		k->used = true;
		k->parent = node->virt ? NULL : node;
		k->depth = node->virt ? node->depth : node->depth + 1;
		push(stack, k);
	}
}

/*
 * The tree of root in preorder (depth-first, children in reap order),
 * appended to rv.  Rows already used by a tree are left out: clear their
 * "used" first to build another.
 */
void add_tree(struct cands *c, struct row *root, struct rowvec *rv)
{
	struct rowvec stack = { 0 };
	struct row *node;

	root->used = true;
	root->depth = 0;
	root->parent = NULL;
	push(&stack, root);
	while (stack.n) {
		node = stack.v[--stack.n];
		if (!node->virt)
			push(rv, node);
		push_children(c, node, &stack);
	}
	free(stack.v);
}

void sum_rows(const struct schema *sc, const struct rowvec *rv,
	      unsigned long long *cnt)
{
	size_t i;
	int j;

	memset(cnt, 0, MAX_COUNTERS * sizeof(*cnt));
	for (i = 0; i < rv->n; i++)
		for (j = 0; j < sc->n; j++)
			cnt[j] += rv->v[i]->cnt[j];
}

/* The live row of pid, else its last exited row. */
struct row *find_pid(struct snap *s, int pid)
{
	struct row *last = NULL;
	size_t i;

	for (i = 0; i < s->live.n; i++)
		if (s->live.rows[i].pid == pid)
			return &s->live.rows[i];
	for (i = 0; i < s->exited.n; i++)
		if (s->exited.rows[i].pid == pid)
			last = &s->exited.rows[i];
	return last;
}
