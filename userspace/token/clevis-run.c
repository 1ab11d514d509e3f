// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: running clevis (see clevis_run() in clevis.h).  The child's
 * stdin, stdout and stderr are pipes served together by one poll() loop,
 * so that neither side blocks on a full pipe; at the deadline the child's
 * whole process group (clevis is a shell script that runs jose and curl)
 * is killed.  So is it when vaultctl is interrupted (Ctrl-C reaches only
 * the terminal's foreground group, not the child's): then vaultctl ends by
 * that signal, as it would have, with nothing left behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "passphrase.h"
#include "token/clevis.h"

static const int stop_signals[] = { SIGINT, SIGTERM, SIGQUIT, SIGHUP };
#define NR_STOP_SIGNALS (sizeof(stop_signals) / sizeof(stop_signals[0]))
static volatile sig_atomic_t stopped_by;

static void on_stop(int sig)
{
	stopped_by = sig;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void child(const char *const argv[], int in, int out, int err, bool own_group)
{
	if (own_group)
		setpgid(0, 0);
	/* an ignored SIGPIPE would be inherited through exec */
	signal(SIGPIPE, SIG_DFL);
	if (dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
	    dup2(err, STDERR_FILENO) < 0)
		_exit(127);
	/* nothing of vaultctl's (the device, the control node) reaches clevis */
	closefrom(STDERR_FILENO + 1);
	execv(argv[0], (char *const *)argv);
	_exit(127);
}

int clevis_run(const char *const argv[], const void *in, size_t in_len, char *out,
	       size_t out_cap, size_t *out_len, char *err, size_t err_len, bool own_group,
	       uint64_t deadline_us)
{
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
	size_t in_off = 0, err_off = 0;
	struct sigaction ign = { .sa_handler = SIG_IGN }, old, stop = { .sa_handler = on_stop };
	struct sigaction old_stop[NR_STOP_SIGNALS];
	size_t i;
	char drop[256];
	int status, r = 0;
	pid_t pid;

	*out_len = 0;
	out[0] = '\0';
	err[0] = '\0';
	if (pipe2(pin, O_CLOEXEC) || pipe2(pout, O_CLOEXEC) || pipe2(perr, O_CLOEXEC)) {
		r = -errno;
		goto out;
	}
	/*
	 * Before the fork: a signal in between is seen by the loop.  No
	 * SA_RESTART: poll() returns at once.  exec resets them in the child.
	 */
	if (own_group) {
		stopped_by = 0;
		for (i = 0; i < NR_STOP_SIGNALS; i++) {
			sigaction(stop_signals[i], &stop, &old_stop[i]);
			/* an ignored signal stays ignored (nohup, a shell's & job) */
			if (old_stop[i].sa_handler == SIG_IGN)
				sigaction(stop_signals[i], &old_stop[i], NULL);
		}
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		goto restore;
	}
	if (!pid)
		child(argv, pin[0], pout[1], perr[1], own_group);
	if (own_group)
		setpgid(pid, pid);	/* either side may win the race */
	close_fd(&pin[0]);
	close_fd(&pout[1]);
	close_fd(&perr[1]);
	/* a child that exits before reading its input must not kill vaultctl */
	sigaction(SIGPIPE, &ign, &old);
	fcntl(pin[1], F_SETFL, O_NONBLOCK);
	if (!in_len)
		close_fd(&pin[1]);

	while (pout[0] >= 0 || perr[0] >= 0) {
		struct pollfd fds[3] = {
			{ .fd = pin[1], .events = POLLOUT },
			{ .fd = pout[0], .events = POLLIN },
			{ .fd = perr[0], .events = POLLIN },
		};
		int timeout = -1;
		ssize_t n;

		if (own_group && stopped_by) {
			r = -EINTR;
			break;
		}
		if (own_group && deadline_us) {
			uint64_t now = pass_now_us();

			if (now >= deadline_us) {
				r = -ETIMEDOUT;
				break;
			}
			timeout = (int)((deadline_us - now + 999) / 1000);
		}
		n = poll(fds, 3, timeout);
		if (n < 0 && errno == EINTR)
			continue;	/* a stop signal is seen at the top */
		if (n < 0) {
			r = -errno;
			break;
		}
		if (fds[0].revents) {
			n = write(pin[1], (const char *)in + in_off, in_len - in_off);
			if (n > 0)
				in_off += (size_t)n;
			/* EPIPE: the child did not want it all; its status says why */
			if ((n < 0 && errno != EAGAIN && errno != EINTR) || in_off == in_len)
				close_fd(&pin[1]);
		}
		if (fds[1].revents) {
			n = read(pout[0], out + *out_len, out_cap - 1 - *out_len);
			if (n > 0)
				*out_len += (size_t)n;
			else if (!n || (errno != EAGAIN && errno != EINTR))
				close_fd(&pout[0]);
			if (*out_len == out_cap - 1) {
				r = -E2BIG;
				break;
			}
		}
		if (fds[2].revents) {
			char *dst = err_off + 1 < err_len ? err + err_off : drop;
			size_t room = err_off + 1 < err_len ? err_len - 1 - err_off : sizeof(drop);

			n = read(perr[0], dst, room);
			if (n > 0 && dst != drop)
				err_off += (size_t)n;
			else if (!n || (n < 0 && errno != EAGAIN && errno != EINTR))
				close_fd(&perr[0]);
		}
	}
	close_fd(&pin[1]);
	if (r)
		kill(own_group ? -pid : pid, SIGKILL);
	if (own_group) {
		siginfo_t si;

		/*
		 * Leftovers of the group (a stuck curl) go once clevis has ended,
		 * while it is not yet reaped: its pid, the group's id, cannot
		 * have been reused.
		 */
		while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
			;
		kill(-pid, SIGKILL);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			status = -1;
			break;
		}
	sigaction(SIGPIPE, &old, NULL);
	/* as a shell reports it: 128 + the signal that ended clevis */
	if (!r)
		r = WIFEXITED(status) ? WEXITSTATUS(status) :
		    WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -ECHILD;
restore:
	if (own_group) {
		for (i = 0; i < NR_STOP_SIGNALS; i++)
			sigaction(stop_signals[i], &old_stop[i], NULL);
		if (stopped_by)
			raise(stopped_by);	/* the default action, or the caller's handler */
	}
out:
	out[*out_len] = '\0';
	err[err_off] = '\0';
	close_fd(&pin[0]);
	close_fd(&pin[1]);
	close_fd(&pout[0]);
	close_fd(&pout[1]);
	close_fd(&perr[0]);
	close_fd(&perr[1]);
	return r;
}
