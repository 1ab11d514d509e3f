/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small KTAP harness for vaultctl's host-side unit tests.  Each case runs
 * in order; its stderr is captured and shown as "# " lines if it fails.
 */
#ifndef VAULTCTL_KTAP_H
#define VAULTCTL_KTAP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct ktap_case {
	const char *name;
	void (*fn)(void);
};

#define KTAP_CASE(f) { #f, f }

/* Runs CASES; prints KTAP; returns the exit status (0 when all passed). */
int ktap_run(const struct ktap_case *cases, size_t n);

void ktap_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ktap_skip(const char *reason);

#define EXPECT(cond) do {						\
	if (!(cond))							\
		ktap_fail(__FILE__, __LINE__, "expected: %s", #cond);	\
} while (0)

#define EXPECT_INT(a, b) do {						\
	long long _a = (long long)(a), _b = (long long)(b);		\
	if (_a != _b)							\
		ktap_fail(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", \
			  #a, _a, #b, _b);				\
} while (0)

#define EXPECT_STR(a, b) do {						\
	const char *_a = (a), *_b = (b);				\
	if (!_a || !_b || strcmp(_a, _b))				\
		ktap_fail(__FILE__, __LINE__, "%s is \"%s\", expected \"%s\"", \
			  #a, _a ? _a : "(null)", _b ? _b : "(null)");	\
} while (0)

/*
 * Writes LEN bytes of DATA to DIR/NAME (mode 0600, replaced); a failure
 * fails the case.  Returns the path (static: valid until the next call).
 */
const char *ktap_write_file(const char *dir, const char *name, const void *data, size_t len);

/* Text this case has written to stderr so far (NUL-terminated, static). */
const char *ktap_stderr(void);

#endif
