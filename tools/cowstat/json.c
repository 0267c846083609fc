// SPDX-License-Identifier: GPL-2.0
/* Owns the streaming JSON writer (it places the commas) and JSON rows. */
#include <string.h>

#include "cowstat.h"

void json_init(struct json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
}

/* Before a value: the comma that separates it from the previous item. */
static void json_value(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->more[j->depth])
		fputc(',', j->f);
	j->more[j->depth] = true;
}

static void json_open(struct json *j, char c)
{
	json_value(j);
	fputc(c, j->f);
	if (j->depth < JSON_MAX_DEPTH - 1)
		j->depth++;
	j->more[j->depth] = false;
}

static void json_close(struct json *j, char c)
{
	fputc(c, j->f);
	if (j->depth)
		j->depth--;
}

void json_obj(struct json *j)
{
	json_open(j, '{');
}

void json_obj_end(struct json *j)
{
	json_close(j, '}');
}

void json_arr(struct json *j)
{
	json_open(j, '[');
}

void json_arr_end(struct json *j)
{
	json_close(j, ']');
}

/* A string: valid UTF-8 as is, other bytes as U+FFFD. */
static void json_quote(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned int cp;
	int n;

	fputc('"', f);
	while (*p) {
		if (*p == '"' || *p == '\\') {
			fprintf(f, "\\%c", *p++);
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(f, "\\u%04x", *p++);
		} else if (*p < 0x80) {
			fputc(*p++, f);
		} else {
			n = utf8_seq(p, &cp);
			if (n) {
				fwrite(p, 1, n, f);
				p += n;
			} else {
				fputs("\\ufffd", f);	/* not UTF-8 */
				p++;
			}
		}
	}
	fputc('"', f);
}

void json_key(struct json *j, const char *key)
{
	json_value(j);
	json_quote(j->f, key);
	fputc(':', j->f);
	j->after_key = true;
}

void json_str(struct json *j, const char *s)
{
	json_value(j);
	json_quote(j->f, s);
}

void json_u64(struct json *j, unsigned long long v)
{
	json_value(j);
	fprintf(j->f, "%llu", v);
}

void json_int(struct json *j, long long v)
{
	json_value(j);
	fprintf(j->f, "%lld", v);
}

void json_bool(struct json *j, bool v)
{
	json_value(j);
	fputs(v ? "true" : "false", j->f);
}

void json_null(struct json *j)
{
	json_value(j);
	fputs("null", j->f);
}

/* "key": value, as json_key() then the value's writer */
void json_kv_str(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	json_str(j, s);
}

void json_kv_u64(struct json *j, const char *key, unsigned long long v)
{
	json_key(j, key);
	json_u64(j, v);
}

void json_kv_int(struct json *j, const char *key, long long v)
{
	json_key(j, key);
	json_int(j, v);
}

void json_kv_bool(struct json *j, const char *key, bool v)
{
	json_key(j, key);
	json_bool(j, v);
}

/* A number with three decimals (seconds). */
void json_fixed3(struct json *j, double v)
{
	json_value(j);
	fprintf(j->f, "%.3f", v);
}

/* The end of a document: a newline, and the writer ready for the next. */
void json_end(struct json *j)
{
	fputc('\n', j->f);
	json_init(j, j->f);
}

/* The counters of the schema as an object. */
void json_counters(struct json *j, const struct schema *sc,
		   const unsigned long long *cnt)
{
	int i;

	json_obj(j);
	for (i = 0; i < sc->n; i++) {
		json_kv_u64(j, sc->c[i].name, cnt[i]);
	}
	json_obj_end(j);
}

/* The members of a row's object, into an open object. */
void json_row_fields(struct json *j, const struct schema *sc,
		     const struct row *r, bool depth)
{
	int i;

	json_kv_int(j, "pid", r->pid);
	json_kv_int(j, "ppid", r->ppid);
	json_kv_str(j, "comm", r->comm);
	json_kv_str(j, "state", r->live ? "live" : "exited");
	if (depth) {
		json_kv_int(j, "depth", r->depth);
	}
	for (i = 0; i < sc->n; i++) {
		json_kv_u64(j, sc->c[i].name, r->cnt[i]);
	}
}

void json_row(struct json *j, const struct schema *sc, const struct row *r,
	      bool depth)
{
	json_obj(j);
	json_row_fields(j, sc, r, depth);
	json_obj_end(j);
}

/* Lines of @key, which repeat (copy_site, reuse_site), as one array. */
static void json_repeated(struct json *j, const struct summary *s,
			  const char *key, const char *name)
{
	int i;

	json_key(j, name);
	json_arr(j);
	for (i = 0; i < s->n; i++)
		if (!strcmp(s->key[i], key))
			json_str(j, s->val[i]);
	json_arr_end(j);
}

/* The summary's keys other than the counters, numbers as numbers. */
void json_module(struct json *j, const struct schema *sc,
		 const struct summary *s)
{
	unsigned long long v;
	int i;

	json_obj(j);
	for (i = 0; i < s->n; i++) {
		/* repeated lines: one array each after the loop */
		if (schema_index(sc, s->key[i]) >= 0 ||
		    !strcmp(s->key[i], "copy_site") ||
		    !strcmp(s->key[i], "reuse_site"))
			continue;
		json_key(j, s->key[i]);
		if (strcmp(s->key[i], "version") &&
		    parse_u64(s->val[i], strlen(s->val[i]), &v))
			json_u64(j, v);
		else
			json_str(j, s->val[i]);
	}
	json_repeated(j, s, "copy_site", "copy_sites");
	json_kv_u64(j, "probes_nmissed", s->missed);
	json_repeated(j, s, "reuse_site", "reuse_sites");
	json_obj_end(j);
}
