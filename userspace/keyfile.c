// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: reading raw key bytes from a key file or standard input.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keyfile.h"
#include "secure_mem.h"
#include "util.h"

static const char *display_name(const char *path)
{
	return strcmp(path, "-") ? path : "- (standard input)";
}

/* Reads up to LEN bytes; returns bytes read (short only at end of file) or -errno. */
static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);

		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		if (!n)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static int skip_bytes(int fd, bool seekable, uint64_t offset, uint64_t *skipped)
{
	unsigned char junk[4096];
	int r = 0;

	*skipped = 0;
	if (!offset)
		return 0;
	if (seekable) {
		if (lseek(fd, (off_t)offset, SEEK_SET) < 0)
			return -errno;
		*skipped = offset;
		return 0;
	}
	while (*skipped < offset) {
		size_t want = offset - *skipped < sizeof(junk) ?
			      (size_t)(offset - *skipped) : sizeof(junk);
		ssize_t n = read_full(fd, junk, want);

		if (n < 0) {
			r = (int)n;
			break;
		}
		*skipped += (uint64_t)n;
		if ((size_t)n < want)
			break;
	}
	secure_wipe(junk, sizeof(junk));
	return r;
}

int keyfile_read(const char *path, uint64_t offset, void *buf, size_t size)
{
	const char *name;
	struct stat st;
	bool is_stdin, seekable;
	uint64_t skipped;
	ssize_t n;
	int fd, r;

	if (!path || !*path) {
		log_err("no key file given (use --key-file FILE, or - for standard input)");
		return -EINVAL;
	}
	name = display_name(path);
	is_stdin = !strcmp(path, "-");
	fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		log_err("cannot open key file %s: %s", name, strerror(-r));
		return r == -EACCES || r == -EPERM ? r : -EINVAL;
	}
	if (fstat(fd, &st)) {
		r = -errno;
		log_err("cannot stat key file %s: %s", name, strerror(-r));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		log_err("key file %s is a directory", name);
		r = -EINVAL;
		goto out;
	}
	seekable = S_ISREG(st.st_mode);
	if (seekable && ((uint64_t)st.st_size < offset ||
			 (uint64_t)st.st_size - offset < size)) {
		if (offset)
			log_err("key file %s is too short: it holds %llu bytes in all, but a %zu-bit key needs %zu bytes after the key file offset",
				name, (unsigned long long)st.st_size, size * 8, size);
		else
			log_err("key file %s is too short: it holds %llu bytes, but a %zu-bit key needs %zu bytes",
				name, (unsigned long long)st.st_size, size * 8, size);
		r = -EINVAL;
		goto out;
	}
	r = skip_bytes(fd, seekable, offset, &skipped);
	if (r) {
		log_err("cannot read key file %s: %s", name, strerror(-r));
		goto out;
	}
	if (skipped < offset) {
		log_err("key file %s is too short: it ends after %llu bytes, before the key file offset %llu",
			name, (unsigned long long)skipped, (unsigned long long)offset);
		r = -EINVAL;
		goto out;
	}
	n = read_full(fd, buf, size);
	if (n < 0) {
		r = (int)n;
		log_err("cannot read key file %s: %s", name, strerror(-r));
		goto out;
	}
	if ((size_t)n < size) {
		if (offset)
			log_err("key file %s is too short: it holds %zd bytes after the key file offset, but a %zu-bit key needs %zu bytes",
				name, n, size * 8, size);
		else
			log_err("key file %s is too short: it holds %zd bytes, but a %zu-bit key needs %zu bytes",
				name, n, size * 8, size);
		r = -EINVAL;
		goto out;
	}
	r = 0;
out:
	if (r)
		secure_wipe(buf, size);
	if (!is_stdin)
		close(fd);
	return r;
}
