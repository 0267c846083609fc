// SPDX-License-Identifier: GPL-2.0
/* Owns the -p mode: every counter of some processes, with descendants. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>

#include "cowstat.h"

static void print_proc_head(FILE *out, const struct row *r)
{
	char name[COMM_MAX * 4];

	sanitize(r->comm, name, sizeof(name));
	fprintf(out, "pid %d (%s), ppid %d, %s\n", r->pid, name, r->ppid,
		r->live ? "live" : "exited");
}

/* The tree of @r: its row, its descendants and their totals. */
static void show_tree(FILE *out, struct json *j, const struct schema *sc,
		      struct cands *c, struct row *r, struct rowvec *rv)
{
	unsigned long long tot[MAX_COUNTERS];
	size_t i;

	for (i = 0; i < c->n; i++)
		c->bypid[i]->used = false;
	rv->n = 0;
	add_tree(c, r, rv);
	sum_rows(sc, rv, tot);
	if (j) {
		json_obj(j);
		json_row_fields(j, sc, r, false);
		json_key(j, "descendants");
		json_arr(j);
		for (i = 1; i < rv->n; i++)
			json_row(j, sc, rv->v[i], true);
		json_arr_end(j);
		json_key(j, "totals");
		json_counters(j, sc, tot);
		json_obj_end(j);
		return;
	}
	print_proc_head(out, r);
	fprintf(out, "with %zu descendant%s (live and exited):\n\n",
		rv->n - 1, rv->n == 2 ? "" : "s");
	print_table(out, sc, rv->v, rv->n, true, true, -1, SIZE_MAX);
	fprintf(out, "\ntotals of these %zu processes:\n", rv->n);
	print_counters(out, sc, tot);
}

int cmd_pids(const struct opts *o, const char *dir, FILE *out)
{
	struct rowvec rv = { 0 };
	struct cands c = { 0 };
	struct json j, *jp = NULL;
	int i, rc, missing = 0;
	bool first = true;
	struct snap s;
	struct row *r;

	rc = snap_read(&s, dir, NULL, true, true);
	if (rc)
		return rc;
	if (o->children)
		cands_build(&c, &s, LLONG_MIN);
	if (o->json) {
		jp = &j;
		json_init(jp, out);
		json_obj(jp);
		json_key(jp, "module");
		json_module(jp, &s.schema, &s.sum);
		json_key(jp, "processes");
		json_arr(jp);
	}
	for (i = 0; i < o->npids; i++) {
		r = find_pid(&s, o->pids[i]);
		if (!r) {
			err_msg("no row for pid %d in processes or exited", o->pids[i]);
			missing++;
			continue;
		}
		if (!jp && !first)
			fputc('\n', out);
		first = false;
		if (o->children) {
			show_tree(out, jp, &s.schema, &c, r, &rv);
		} else if (jp) {
			json_row(jp, &s.schema, r, false);
		} else {
			print_proc_head(out, r);
			print_counters(out, &s.schema, r->cnt);
		}
	}
	if (jp) {
		json_arr_end(jp);
		json_key(jp, "not_found");
		json_arr(jp);
		for (i = 0; i < o->npids; i++)
			if (!find_pid(&s, o->pids[i]))
				json_int(jp, o->pids[i]);
		json_arr_end(jp);
		json_obj_end(jp);
		json_end(jp);
	}
	free(rv.v);
	if (o->children)
		cands_free(&c);
	snap_free(&s);
	return missing ? EXIT_NOPID : 0;
}
