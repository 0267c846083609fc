// SPDX-License-Identifier: GPL-2.0
/* Owns the command line: options, the mode to run, the exit status. */
/*
 * cowstat: show the per-process copy-on-write counters of cowstat.ko.
 *
 *   cowstat [-b] [-d SECS] [-n COUNT] [-s COUNTER]   top-like table (top.c)
 *   cowstat -p PID[,PID...] [--children]             details (pids.c)
 *   cowstat run [--] CMD [ARG...]                    cost of a command (run.c)
 *
 * It reads only /sys/kernel/debug/cowstat/{summary,processes,exited}
 * (files.c) and parses them by key and column name, as
 * Documentation/cowstat.rst asks, so columns added at the end by later
 * module versions are shown too.  The manual page is cowstat.8.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <locale.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cowstat.h"

void err_msg(const char *fmt, ...)
{
	va_list ap;

	fputs("cowstat: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		err_msg("out of memory");
		exit(EXIT_READ);
	}
	return p;
}

char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d) {
		err_msg("out of memory");
		exit(EXIT_READ);
	}
	return d;
}

static void print_usage(FILE *f)
{
	fputs("usage: cowstat [-b] [-d SECS] [-n COUNT] [-s COUNTER] [-j] [-o FILE]\n"
	      "       cowstat -p PID[,PID...] [-c] [-j] [-o FILE]\n"
	      "       cowstat [-j] [-o FILE] run [--] CMD [ARG...]\n"
	      "       cowstat -h | -V\n"
	      "\n"
	      "Per-process copy-on-write counters of the cowstat kernel module.\n"
	      "  (no mode)            table of live processes, refreshed like top\n"
	      "  -p, --pid PIDS       every counter of these processes (live or exited)\n"
	      "  -c, --children       with -p: add live and exited descendants, and totals\n"
	      "  run CMD [ARG...]     run CMD, then report it and all its descendants\n"
	      "                       (to stderr unless -o); exits with CMD's status\n"
	      "  -s, --sort COUNTER   sort the table by COUNTER (default cow_copies)\n"
	      "  -d, --delay SECS     refresh every SECS seconds (default 1)\n"
	      "  -n, --iterations N   stop after N refreshes (default: never; 1 with -j)\n"
	      "  -b, --batch          plain output, no screen clearing (default if not a tty)\n"
	      "  -j, --json           JSON, one document per line\n"
	      "  -o, --output FILE    write to FILE\n"
	      "  -h, --help           this help\n"
	      "  -V, --version        the version\n"
	      "\n"
	      "Counters (4 KiB pages unless named): forks fork_shared fork_inherited\n"
	      "cow_faults cow_copies cow_zero cow_file cow_reuses cow_thp cow_hugetlb\n"
	      "copied_bytes.  Exit status: 0 ok, 1 a PID has no row, 2 usage error,\n"
	      "3 not root, 4 debugfs not mounted, 5 module not loaded, 6 read error;\n"
	      "run: CMD's status (128+N if killed by signal N), 126/127 if CMD cannot\n"
	      "be run.  COWSTAT_DEBUGFS=DIR reads DIR/cowstat/ (for tests).  See cowstat(8).\n",
	      f);
}

static int __printf(1, 2) bad_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("cowstat: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (cowstat -h for help)\n", stderr);
	return EXIT_USAGE;
}

static int add_pids(struct opts *o, const char *arg)
{
	const char *p = arg;
	char *end;
	long v;

	for (;;) {
		errno = 0;
		v = strtol(p, &end, 10);
		if (end == p || errno || v <= 0 || v > INT_MAX ||
		    (*end && *end != ','))
			return bad_usage("-p %s: not a list of PIDs", arg);
		o->pids = xrealloc(o->pids, (o->npids + 1) * sizeof(*o->pids));
		o->pids[o->npids++] = v;
		if (!*end)
			return 0;
		p = end + 1;
	}
}

static const struct option longopts[] = {
	{ "batch",      no_argument,       NULL, 'b' },
	{ "children",   no_argument,       NULL, 'c' },
	{ "delay",      required_argument, NULL, 'd' },
	{ "help",       no_argument,       NULL, 'h' },
	{ "iterations", required_argument, NULL, 'n' },
	{ "json",       no_argument,       NULL, 'j' },
	{ "output",     required_argument, NULL, 'o' },
	{ "pid",        required_argument, NULL, 'p' },
	{ "sort",       required_argument, NULL, 's' },
	{ "version",    no_argument,       NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

/* Returns -1 to go on, else an exit status.  *top: a top-only option. */
static int parse_opts(int argc, char **argv, struct opts *o, bool *top)
{
	char *end;
	int opt, rc;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "+bcd:hjn:o:p:s:V", longopts, NULL)) != -1) {
		switch (opt) {
		case 'b':
			o->batch = *top = true;
			break;
		case 'c':
			o->children = true;
			break;
		case 'd':
			errno = 0;
			o->delay = strtod(optarg, &end);
			if (end == optarg || *end || errno || !(o->delay > 0) ||
			    o->delay > 1e6)
				return bad_usage("-d %s: not a number of seconds", optarg);
			*top = true;
			break;
		case 'h':
			print_usage(stdout);
			return 0;
		case 'j':
			o->json = true;
			break;
		case 'n':
			errno = 0;
			o->count = strtol(optarg, &end, 10);
			if (end == optarg || *end || errno || o->count <= 0)
				return bad_usage("-n %s: not a positive count", optarg);
			*top = true;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'p':
			rc = add_pids(o, optarg);
			if (rc)
				return rc;
			break;
		case 's':
			o->sort = optarg;
			*top = true;
			break;
		case 'V':
			printf("cowstat %s\n", COWSTAT_VERSION);
			return 0;
		default:
			return bad_usage("bad option");
		}
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct opts o = { .delay = 1, .sort = "cow_copies" };
	bool top = false, run = false;
	char dir[PATH_MAX];
	FILE *out = stdout;
	int rc, first;

	/* names are measured with wcwidth(3): the locale's character widths */
	setlocale(LC_CTYPE, "");
	rc = parse_opts(argc, argv, &o, &top);
	if (rc >= 0)
		goto done;
	first = optind;
	if (first < argc && !strcmp(argv[first], "run")) {
		run = true;
		/* options may follow "run" too, up to "--" or CMD */
		rc = parse_opts(argc - first, argv + first, &o, &top);
		if (rc >= 0)
			goto done;
		first += optind;
		if (first >= argc) {
			rc = bad_usage("run: no command");
			goto done;
		}
	} else if (first < argc) {
		rc = bad_usage("unexpected argument '%s'", argv[first]);
		goto done;
	}
	if ((run || o.npids) && top) {
		rc = bad_usage("-b, -d, -n and -s are for the table only");
		goto done;
	}
	if (run && o.npids) {
		rc = bad_usage("-p and run do not go together");
		goto done;
	}
	if (o.children && !o.npids) {
		rc = bad_usage("--children needs -p");
		goto done;
	}
	rc = find_dir(dir, sizeof(dir));
	if (rc)
		goto done;
	if (run)
		out = stderr;
	if (o.output) {
		out = fopen(o.output, "w");
		if (!out) {
			err_msg("%s: %s", o.output, strerror(errno));
			rc = EXIT_READ;
			goto done;
		}
	}
	if (run)
		rc = cmd_run(&o, dir, out, argv + first);
	else if (o.npids)
		rc = cmd_pids(&o, dir, out);
	else
		rc = cmd_top(&o, dir, out);
	if (fflush(out) || ferror(out)) {
		err_msg("write error: %s", strerror(errno));
		if (!run)
			rc = EXIT_READ;
	}
	if (out != stdout && out != stderr)
		fclose(out);
done:
	free(o.pids);
	return rc;
}
