// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: reading a helper program's answer (see child_answer.h).
 */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child_answer.h"

int child_reap(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int child_read_answer(pid_t pid, int fd, uint64_t deadline_us, size_t cap,
		      struct passphrase *p, int *status)
{
	ssize_t n;
	int r;

	for (;;) {
		r = pass_wait_readable(fd, deadline_us);
		if (r)
			break;
		n = read(fd, p->buf + p->len, cap - 1 - p->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (!n)
			break;
		p->len += (size_t)n;
		if (p->len == cap - 1) {
			r = -E2BIG;
			break;
		}
	}
	close(fd);
	if (r)
		kill(pid, SIGTERM);
	*status = child_reap(pid);
	if (p->len && p->buf[p->len - 1] == '\n')
		p->len--;
	p->buf[p->len] = '\0';
	return r;
}
