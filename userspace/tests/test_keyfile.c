// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests: reading keys from files and standard input.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "keyfile.h"
#include "ktap.h"
#include "secure_mem.h"

static char dir[] = "/tmp/vaultctl-test-XXXXXX";
static unsigned char pattern[300];

static const char *make_file(const char *name, size_t len)
{
	return ktap_write_file(dir, name, pattern, len);
}

static int all_zero(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static void exact_size(void)
{
	unsigned char *buf = secure_alloc(64);

	EXPECT_INT(keyfile_read(make_file("k64", 64), 0, buf, 64), 0);
	EXPECT(!memcmp(buf, pattern, 64));
	secure_free(buf);
}

static void longer_file_uses_head(void)
{
	unsigned char *buf = secure_alloc(32);

	EXPECT_INT(keyfile_read(make_file("k300", 300), 0, buf, 32), 0);
	EXPECT(!memcmp(buf, pattern, 32));
	secure_free(buf);
}

static void short_file_refused(void)
{
	unsigned char buf[64];
	const char *path = make_file("k10", 10);
	const char *err;

	memset(buf, 0xaa, sizeof(buf));
	EXPECT_INT(keyfile_read(path, 0, buf, 64), -EINVAL);
	EXPECT(all_zero(buf, sizeof(buf)));
	err = ktap_stderr();
	EXPECT(strstr(err, path));
	EXPECT(strstr(err, "10 bytes"));
	EXPECT(strstr(err, "512-bit"));
	EXPECT(strstr(err, "64 bytes"));
}

static void empty_file_refused(void)
{
	unsigned char buf[16];

	EXPECT_INT(keyfile_read(make_file("k0", 0), 0, buf, 16), -EINVAL);
	EXPECT(strstr(ktap_stderr(), "too short"));
}

static void offset_in_file(void)
{
	unsigned char buf[32];
	const char *path = make_file("k100", 100);

	EXPECT_INT(keyfile_read(path, 68, buf, 32), 0);
	EXPECT(!memcmp(buf, pattern + 68, 32));
	EXPECT_INT(keyfile_read(path, 69, buf, 32), -EINVAL);
	EXPECT_INT(keyfile_read(path, 1000, buf, 32), -EINVAL);
	EXPECT(strstr(ktap_stderr(), "offset"));
}

static void missing_and_directory(void)
{
	unsigned char buf[16];

	EXPECT_INT(keyfile_read("/nonexistent/key", 0, buf, 16), -EINVAL);
	EXPECT(strstr(ktap_stderr(), "/nonexistent/key"));
	EXPECT_INT(keyfile_read(dir, 0, buf, 16), -EINVAL);
	EXPECT(strstr(ktap_stderr(), "directory"));
	EXPECT_INT(keyfile_read("", 0, buf, 16), -EINVAL);
	EXPECT_INT(keyfile_read(NULL, 0, buf, 16), -EINVAL);
}

/*
 * Feeds LEN bytes of the pattern into standard input through a pipe, in
 * small pieces with pauses so reads come back short, then calls
 * keyfile_read("-").
 */
static int read_stdin(size_t len, uint64_t offset, unsigned char *buf, size_t size)
{
	int p[2], saved, r, status;
	pid_t pid;

	if (pipe(p))
		return -999;
	pid = fork();
	if (!pid) {
		size_t done = 0;

		close(p[0]);
		while (done < len) {
			size_t n = len - done < 7 ? len - done : 7;
			struct timespec ts = { 0, 1000000 };

			if (write(p[1], pattern + done, n) != (ssize_t)n)
				_exit(1);
			done += n;
			nanosleep(&ts, NULL);
		}
		_exit(0);
	}
	close(p[1]);
	saved = dup(STDIN_FILENO);
	dup2(p[0], STDIN_FILENO);
	close(p[0]);
	r = keyfile_read("-", offset, buf, size);
	dup2(saved, STDIN_FILENO);
	close(saved);
	waitpid(pid, &status, 0);
	return r;
}

static void stdin_exact(void)
{
	unsigned char buf[64];

	EXPECT_INT(read_stdin(64, 0, buf, 64), 0);
	EXPECT(!memcmp(buf, pattern, 64));
}

static void stdin_longer(void)
{
	unsigned char buf[32];

	EXPECT_INT(read_stdin(100, 0, buf, 32), 0);
	EXPECT(!memcmp(buf, pattern, 32));
}

static void stdin_short(void)
{
	unsigned char buf[64];

	memset(buf, 0x55, sizeof(buf));
	EXPECT_INT(read_stdin(20, 0, buf, 64), -EINVAL);
	EXPECT(all_zero(buf, sizeof(buf)));
	EXPECT(strstr(ktap_stderr(), "standard input"));
	EXPECT(strstr(ktap_stderr(), "20 bytes"));
}

static void stdin_offset(void)
{
	unsigned char buf[16];

	EXPECT_INT(read_stdin(200, 150, buf, 16), 0);
	EXPECT(!memcmp(buf, pattern + 150, 16));
	EXPECT_INT(read_stdin(100, 150, buf, 16), -EINVAL);
	EXPECT(strstr(ktap_stderr(), "before the key file offset"));
}

static const struct ktap_case cases[] = {
	KTAP_CASE(exact_size),
	KTAP_CASE(longer_file_uses_head),
	KTAP_CASE(short_file_refused),
	KTAP_CASE(empty_file_refused),
	KTAP_CASE(offset_in_file),
	KTAP_CASE(missing_and_directory),
	KTAP_CASE(stdin_exact),
	KTAP_CASE(stdin_longer),
	KTAP_CASE(stdin_short),
	KTAP_CASE(stdin_offset),
};

int main(void)
{
	char cmd[128];
	size_t i;
	int r;

	for (i = 0; i < sizeof(pattern); i++)
		pattern[i] = (unsigned char)(i * 7 + 1);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	r = ktap_run(cases, sizeof(cases) / sizeof(cases[0]));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", dir);
	return r;
}
