// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: asking for a passphrase through plymouth (see plymouth.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plymouth.h"
#include "child_answer.h"
#include "secure_mem.h"
#include "util.h"

extern char **environ;

/*
 * Starts `plymouth ARGS...` with its standard output on *OUT_FD (a pipe;
 * NULL: /dev/null) and standard error on /dev/null.  Returns the pid or
 * -errno (-ENOENT: no plymouth client installed).
 */
static pid_t spawn_plymouth(char *const argv[], int *out_fd)
{
	posix_spawn_file_actions_t fa;
	int pipefd[2] = { -1, -1 }, r;
	pid_t pid;

	if (out_fd && pipe2(pipefd, O_CLOEXEC))
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	if (out_fd)
		posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
	else
		posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	r = posix_spawnp(&pid, "plymouth", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (out_fd) {
		close(pipefd[1]);
		if (r)
			close(pipefd[0]);
		else
			*out_fd = pipefd[0];
	}
	return r ? -r : pid;
}

bool plymouth_running(void)
{
	char *argv[] = { "plymouth", "--ping", NULL };
	pid_t pid = spawn_plymouth(argv, NULL);

	if (pid < 0) {
		log_dbg("no plymouth client (%s): asking on the terminal", strerror((int)-pid));
		return false;
	}
	if (child_reap(pid)) {
		log_dbg("plymouth is not running: asking on the terminal");
		return false;
	}
	log_dbg("plymouth is running: asking through it");
	return true;
}

int plymouth_ask(const char *prompt, uint64_t deadline_us, struct passphrase *p)
{
	size_t cap = PASS_INTERACTIVE_MAX + 2, plen;
	char *arg, *argv[] = { "plymouth", "ask-for-password", NULL, NULL };
	int fd = -1, r = 0, status;
	pid_t pid;

	p->buf = NULL;
	p->len = 0;
	/* The splash shows its own entry field after the text: no ": " needed. */
	plen = strlen(prompt);
	while (plen && (prompt[plen - 1] == ' ' || prompt[plen - 1] == ':'))
		plen--;
	if (asprintf(&arg, "--prompt=%.*s", (int)plen, prompt) < 0)
		return -ENOMEM;
	argv[2] = arg;
	p->buf = secure_alloc(cap);
	if (!p->buf) {
		free(arg);
		return -ENOMEM;
	}
	pid = spawn_plymouth(argv, &fd);
	free(arg);
	if (pid < 0) {
		pass_free(p);
		log_err("cannot run plymouth ask-for-password: %s", strerror((int)-pid));
		return -ECANCELED;
	}
	/* The answer is all of its output (the passphrase, perhaps a newline). */
	r = child_read_answer(pid, fd, deadline_us, cap, p, &status);
	/*
	 * A failure with no answer: plymouthd shows no splash (hide-splash,
	 * plymouth.ignore-show-splash: it then answers at once, without asking
	 * anyone) or it quit.  The console is the user's again: ask there.
	 */
	if (!r && status > 0 && !p->len) {
		log_dbg("plymouth did not ask (exit status %d): asking on the terminal", status);
		r = -ENOTCONN;
	} else if (!r && status) {
		log_err("the passphrase question on the boot splash was cancelled (plymouth exit status %d)",
			status);
		r = -ECANCELED;
	}
	if (r == -E2BIG)
		log_err("the passphrase is longer than %u characters", PASS_INTERACTIVE_MAX);
	else if (r && r != -ETIMEDOUT && r != -ECANCELED && r != -ENOTCONN && r != -EREMOTE)
		log_err("cannot read the answer from plymouth: %s", strerror(-r));
	if (r)
		pass_free(p);
	return r;
}
