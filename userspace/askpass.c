// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: asking through systemd's password agents (see askpass.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "askpass.h"
#include "child_answer.h"
#include "secure_mem.h"
#include "util.h"

extern char **environ;

/* Starts ARGV with its standard output on a pipe (*OUT_FD): its pid or -errno. */
static pid_t spawn(char *const argv[], int *out_fd)
{
	posix_spawn_file_actions_t fa;
	int pipefd[2], r;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC))
		return -errno;
	posix_spawn_file_actions_init(&fa);
	/* not a terminal on stdin: it asks the agents, never a tty itself */
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
	r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (r) {
		close(pipefd[0]);
		return -r;
	}
	*out_fd = pipefd[0];
	return pid;
}

int askpass_agent(const char *id, const char *prompt, uint64_t deadline_us,
		  struct passphrase *p)
{
	size_t cap = PASS_INTERACTIVE_MAX + 2, plen;
	char idarg[320], tmo[48], *text = NULL;
	char *argv[] = { "systemd-ask-password", idarg, tmo, "--icon=drive-harddisk", "--",
			 NULL, NULL };
	uint64_t now = pass_now_us();
	int fd = -1, r = 0, status;
	pid_t pid;

	p->buf = NULL;
	p->len = 0;
	if (deadline_us && now >= deadline_us)
		return -ETIMEDOUT;
	snprintf(idarg, sizeof(idarg), "--id=%s", id);
	/* 0: no limit (its default would be 90 s); rounded up to whole seconds */
	snprintf(tmo, sizeof(tmo), "--timeout=%llu",
		 deadline_us ? (unsigned long long)((deadline_us - now + 999999) / 1000000) : 0ULL);
	/* the agents add their own separator after the text */
	plen = strlen(prompt);
	while (plen && prompt[plen - 1] == ' ')
		plen--;
	text = strndup(prompt, plen);
	p->buf = secure_alloc(cap);
	if (!text || !p->buf) {
		free(text);
		pass_free(p);
		return -ENOMEM;
	}
	argv[5] = text;
	pid = spawn(argv, &fd);
	free(text);
	if (pid < 0) {
		pass_free(p);
		log_err("cannot run systemd-ask-password: %s", strerror((int)-pid));
		return -ECANCELED;
	}
	/* The answer is all of its output: the PIN and a newline. */
	r = child_read_answer(pid, fd, deadline_us, cap, p, &status);
	if (!r && status) {
		/* its own timeout ends it with a failure too */
		r = deadline_us && pass_now_us() >= deadline_us ? -ETIMEDOUT : -ECANCELED;
		if (r == -ECANCELED)
			log_err("the question through systemd-ask-password was cancelled (exit status %d)",
				status);
	} else if (!r && !p->len) {
		r = -ENODATA;
	}
	if (r == -E2BIG)
		log_err("the answer is longer than %u characters", PASS_INTERACTIVE_MAX);
	else if (r && r != -ETIMEDOUT && r != -ECANCELED && r != -ENODATA)
		log_err("cannot read the answer from systemd-ask-password: %s", strerror(-r));
	if (r)
		pass_free(p);
	return r;
}
