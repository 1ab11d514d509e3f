// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A small KTAP harness for vaultctl's host-side unit tests.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ktap.h"

static int cur_failed;
static const char *cur_skip;
static FILE *cur_err;
static int saved_stderr = -1;
static char err_text[16384];

void ktap_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	cur_failed = 1;
	fflush(stdout);
	printf("# %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

void ktap_skip(const char *reason)
{
	cur_skip = reason;
}

const char *ktap_stderr(void)
{
	size_t n;

	fflush(stderr);
	fflush(cur_err);
	rewind(cur_err);
	n = fread(err_text, 1, sizeof(err_text) - 1, cur_err);
	err_text[n] = '\0';
	fseek(cur_err, 0, SEEK_END);
	return err_text;
}

static void capture_start(void)
{
	fflush(stderr);
	cur_err = tmpfile();
	if (!cur_err)
		return;
	saved_stderr = dup(STDERR_FILENO);
	dup2(fileno(cur_err), STDERR_FILENO);
}

static void capture_end(int show)
{
	const char *p, *text;

	if (!cur_err)
		return;
	text = ktap_stderr();
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	if (show && *text) {
		for (p = text; *p;) {
			size_t n = strcspn(p, "\n");

			printf("# stderr: %.*s\n", (int)n, p);
			p += n;
			if (*p)
				p++;
		}
	}
	fclose(cur_err);
	cur_err = NULL;
}

int ktap_run(const struct ktap_case *cases, size_t n)
{
	size_t i, passed = 0, failed = 0, skipped = 0;

	printf("KTAP version 1\n1..%zu\n", n);
	for (i = 0; i < n; i++) {
		cur_failed = 0;
		cur_skip = NULL;
		fflush(stdout);
		capture_start();
		cases[i].fn();
		capture_end(cur_failed);
		if (cur_failed) {
			printf("not ok %zu %s\n", i + 1, cases[i].name);
			failed++;
		} else if (cur_skip) {
			printf("ok %zu %s # SKIP %s\n", i + 1, cases[i].name, cur_skip);
			skipped++;
		} else {
			printf("ok %zu %s\n", i + 1, cases[i].name);
			passed++;
		}
		fflush(stdout);
	}
	printf("# %zu passed, %zu failed", passed, failed);
	if (skipped)
		printf(", %zu skipped", skipped);
	printf("\n");
	return failed ? 1 : 0;
}

const char *ktap_write_file(const char *dir, const char *name, const void *data, size_t len)
{
	static char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		ktap_fail(__FILE__, __LINE__, "cannot write %s", path);
	if (fd >= 0)
		close(fd);
	return path;
}
