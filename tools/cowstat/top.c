// SPDX-License-Identifier: GPL-2.0
/* Owns the mode without arguments: a top-like table of live processes. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "cowstat.h"

/* Largest first by the counter *idx, ties by pid. */
static int cmp_sort(const void *a, const void *b, void *arg)
{
	const struct row *x = *(struct row * const *)a, *y = *(struct row * const *)b;
	int i = *(const int *)arg;

	if (x->cnt[i] != y->cnt[i])
		return x->cnt[i] < y->cnt[i] ? 1 : -1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

static void sleep_secs(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* The totals, wrapped at 80 columns; returns the number of lines. */
static int print_totals_line(FILE *out, const struct snap *s)
{
	unsigned long long tot[MAX_COUNTERS];
	const struct counter *c;
	char buf[64], item[128];
	int i, col = 7, lines = 1;

	snap_totals(s, tot);
	fputs("totals:", out);
	for (i = 0; i < s->schema.n; i++) {
		c = &s->schema.c[i];
		if (c->human)
			snprintf(item, sizeof(item), " %s %s", c->name,
				 human(c->kind == U_PAGES ? tot[i] * PAGE_BYTES :
				       tot[i], false, buf, sizeof(buf)));
		else
			snprintf(item, sizeof(item), " %s %llu", c->name, tot[i]);
		if (col + strlen(item) > 79) {
			fputs("\n       ", out);
			col = 7;
			lines++;
		}
		fputs(item, out);
		col += strlen(item);
	}
	fputc('\n', out);
	return lines;
}

static void json_top(FILE *out, const struct opts *o, const struct snap *s,
		     struct row **v, time_t now)
{
	unsigned long long tot[MAX_COUNTERS];
	struct json j;
	size_t i;

	snap_totals(s, tot);
	json_init(&j, out);
	json_obj(&j);
	json_kv_int(&j, "time", now);
	json_kv_str(&j, "sort", o->sort);
	json_key(&j, "module");
	json_module(&j, &s->schema, &s->sum);
	json_key(&j, "totals");
	json_counters(&j, &s->schema, tot);
	json_key(&j, "processes");
	json_arr(&j);
	for (i = 0; i < s->live.n; i++)
		json_row(&j, &s->schema, v[i], false);
	json_arr_end(&j);
	json_obj_end(&j);
	json_end(&j);
}

static void text_top(FILE *out, const struct opts *o, const struct snap *s,
		     struct row **v, time_t now, bool tty, long iter,
		     int sort_idx)
{
	int term_rows = 0, header_lines;
	struct winsize ws;
	size_t max_rows;
	char tbuf[32];

	if (tty) {
		fputs("\033[H\033[2J", out);
		if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws))
			term_rows = ws.ws_row;
	} else if (iter) {
		fputc('\n', out);
	}
	strftime(tbuf, sizeof(tbuf), "%H:%M:%S", localtime(&now));
	fprintf(out, "cowstat %s - module %s on %s - live processes %llu, exited %llu, dropped %llu\n",
		tbuf, sum_str(&s->sum, "version") ?: "?",
		sum_str(&s->sum, "kernel") ?: "?",
		(unsigned long long)s->live.n, sum_u64(&s->sum, "exited"),
		sum_u64(&s->sum, "dropped"));
	header_lines = 1 + print_totals_line(out, s) + 2;
	fprintf(out, "sorted by %s; SHARED, INHERIT, COPIED in bytes, other counters in pages\n\n",
		o->sort);
	/* on a terminal: what fits below the header, column names and a spare line */
	max_rows = SIZE_MAX;
	if (term_rows > header_lines + 2)
		max_rows = term_rows - header_lines - 2;
	print_table(out, &s->schema, v, s->live.n, false, false, sort_idx,
		    max_rows);
}

int cmd_top(const struct opts *o, const char *dir, FILE *out)
{
	bool tty = !o->batch && !o->output && !o->json && isatty(STDOUT_FILENO);
	long count = o->count ? o->count : o->json ? 1 : 0, iter;
	struct schema seen = { 0 };
	int sort_idx, rc = 0;
	struct row **v;
	struct snap s;
	time_t now;
	size_t i;

	for (iter = 0; !count || iter < count; iter++) {
		if (iter)
			sleep_secs(o->delay);
		/* columns seen before keep their place */
		rc = snap_read(&s, dir, &seen, true, false);
		if (rc)
			break;
		schema_free(&seen);
		schema_copy(&seen, &s.schema);
		sort_idx = schema_index(&s.schema, o->sort);
		if (sort_idx < 0) {
			err_msg("-s %s: no such counter (see cowstat -h)", o->sort);
			snap_free(&s);
			rc = EXIT_USAGE;
			break;
		}
		v = xrealloc(NULL, s.live.n * sizeof(*v));
		for (i = 0; i < s.live.n; i++)
			v[i] = &s.live.rows[i];
		qsort_r(v, s.live.n, sizeof(*v), cmp_sort, &sort_idx);
		now = time(NULL);
		if (o->json)
			json_top(out, o, &s, v, now);
		else
			text_top(out, o, &s, v, now, tty, iter, sort_idx);
		fflush(out);
		free(v);
		snap_free(&s);
	}
	schema_free(&seen);
	return rc;
}
