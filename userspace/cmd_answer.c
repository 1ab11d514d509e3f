// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl answer [NAME]: answers a pending passphrase prompt of another
 * vaultctl through its answer channel (answer.h) -- remote unlock: over SSH
 * into the initramfs (dropbear-initramfs), `vault-unlock` runs this.
 *
 * On a terminal it lists the pending prompts and asks (echo off) for each
 * in turn, again after a wrong passphrase, until none is left.  Otherwise
 * it answers the first pending prompt (or NAME's) once with one line of
 * standard input: `vault-unlock < file` or a pipe, never an argument.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "answer.h"
#include "passphrase.h"
#include "util.h"
#include "vaultctl.h"

/*
 * How long to wait for a prompt: the first one (vaultctl may still be
 * waiting for a device), and the next one after an answer.  After an
 * answer, also as long as the vaultctl that asked still runs (up to
 * ALIVE_WAIT_MS): open --all may ask for its next volume after a key
 * derivation or two (seconds under argon2) and the mapping of this one.
 */
#define FIRST_WAIT_MS	10000
#define NEXT_WAIT_MS	1000
#define ALIVE_WAIT_MS	120000
/* A verdict comes after the KDF: seconds with argon2 on a slow machine. */
#define VERDICT_WAIT_MS	300000

enum found { FOUND, NONE, NO_ACCESS };

/*
 * Whether a socket is bound at PATH: a socket file left by a killed
 * vaultctl has no socket behind it (not in /proc/net/unix).  Without
 * /proc, assume it is.
 */
static bool listening(const char *path)
{
	size_t plen = strlen(path), len;
	bool found = false;
	char line[512];
	FILE *f;

	f = fopen("/proc/net/unix", "re");
	if (!f)
		return true;
	while (!found && fgets(line, sizeof(line), f)) {
		len = strcspn(line, "\n");
		found = len > plen && line[len - plen - 1] == ' ' &&
			!memcmp(line + len - plen, path, plen);
	}
	fclose(f);
	return found;
}

/*
 * The pending prompts in DIR: the first by name (or WANT) into NAME, and
 * all of them, space separated, into ALL.
 */
static enum found pending(const char *dir, const char *want, char *name, size_t nlen,
			  char *all, size_t alen)
{
	char path[sizeof(((struct answer_chan *)0)->path)];
	struct dirent *e;
	struct stat st;
	DIR *d;

	*name = '\0';
	*all = '\0';
	d = opendir(dir);
	if (!d)
		return errno == EACCES || errno == EPERM ? NO_ACCESS : NONE;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path) ||
		    lstat(path, &st) || !S_ISSOCK(st.st_mode) || !listening(path))
			continue;
		if (want && strcmp(want, e->d_name))
			continue;
		if (strlen(all) + strlen(e->d_name) + 2 < alen) {
			if (*all)
				strcat(all, " ");
			strcat(all, e->d_name);
		}
		if (strlen(e->d_name) < nlen && (!*name || strcmp(e->d_name, name) < 0))
			strcpy(name, e->d_name);
	}
	closedir(d);
	return *name ? FOUND : NONE;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Whether process PID (0: none) still runs: not gone, nor a zombie. */
static bool alive(pid_t pid)
{
	char path[64], stat[256], *end;
	ssize_t n;
	int fd;

	if (pid <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? false : !kill(pid, 0) || errno == EPERM;
	n = read(fd, stat, sizeof(stat) - 1);
	close(fd);
	if (n <= 0)
		return false;
	stat[n] = '\0';
	/* "PID (COMM) STATE ...": COMM may hold anything, the last ')' ends it */
	end = strrchr(stat, ')');
	return end && end[1] == ' ' && end[2] != 'Z' && end[2] != 'X';
}

/*
 * Waits up to MS for a pending prompt (see pending()), or longer while
 * process ASKER (0: none) runs.
 */
static enum found wait_pending(const char *dir, const char *want, unsigned int ms, pid_t asker,
			       char *name, size_t nlen, char *all, size_t alen)
{
	unsigned int waited = 0;
	enum found f;

	for (;;) {
		f = pending(dir, want, name, nlen, all, alen);
		if (f != NONE)
			return f;
		if (waited >= ms && (!alive(asker) || waited >= ALIVE_WAIT_MS))
			return f;
		sleep_ms(200);
		waited += 200;
	}
}

/*
 * Sends P to the prompt at DIR/NAME and reads its verdict line into
 * VERDICT, the prompting process's pid into *ASKER: 0, -ECONNRESET when
 * the prompt ended without one, or -errno.
 */
static int send_answer(const char *dir, const char *name, const struct passphrase *p,
		       char *verdict, size_t vlen, pid_t *asker)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	socklen_t clen = sizeof(struct ucred);
	struct ucred cred;
	struct pollfd pfd;
	size_t off = 0, got = 0;
	ssize_t n;
	int fd, r = 0;

	if ((size_t)snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/%s", dir, name) >=
	    sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		r = errno == ECONNREFUSED || errno == ENOENT ? -ECONNRESET : -errno;
		goto out;
	}
	if (!getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen))
		*asker = cred.pid;
	while (off < p->len) {
		n = send(fd, p->buf + off, p->len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = errno == EPIPE ? -ECONNRESET : -errno;
			goto out;
		}
		off += (size_t)n;
	}
	shutdown(fd, SHUT_WR);
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (got + 1 < vlen) {
		r = poll(&pfd, 1, VERDICT_WAIT_MS);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			r = r ? -errno : -ETIMEDOUT;
			goto out;
		}
		n = read(fd, verdict + got, vlen - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (memchr(verdict, '\n', got))
			break;
	}
	r = 0;
	verdict[got] = '\0';
	verdict[strcspn(verdict, "\n")] = '\0';
	if (!got)
		r = -ECONNRESET;
out:
	close(fd);
	return r;
}

int cmd_answer(const struct vault_opts *o, int argc, char **argv)
{
	const char *dir = answer_dir(), *want = argc ? argv[0] : NULL;
	bool interactive = isatty(STDIN_FILENO), unlocked = false;
	char name[256], all[1024], verdict[512], prompt[300];
	const char *w = getenv("VAULT_ANSWER_WAIT_MS");	/* the tests' shorter wait */
	unsigned int wait = FIRST_WAIT_MS;
	struct passphrase p = { 0 };
	pid_t asker = 0;
	enum found f;
	int r;

	(void)o;
	if (w && parse_uint(w, &wait))
		wait = FIRST_WAIT_MS;
	for (;;) {
		f = wait_pending(dir, want, wait, asker, name, sizeof(name), all, sizeof(all));
		if (f == NO_ACCESS) {
			log_err("cannot read %s: %s (the prompts are root's)", dir, strerror(EACCES));
			return -EACCES;
		}
		if (f == NONE) {
			if (unlocked) {
				printf(_("No passphrase prompt is pending any more.\n"));
				return 0;
			}
			if (want)
				log_err("no passphrase prompt is pending for %s (nothing to answer)", want);
			else
				log_err("no passphrase prompt is pending (nothing to answer)");
			return -ENOENT;
		}
		if (interactive) {
			printf(_("Pending passphrase prompt(s): %s\n"), all);
			fflush(stdout);
			snprintf(prompt, sizeof(prompt), _("Passphrase for %s: "), name);
			r = pass_read_terminal(prompt, &p);
			if (r == -ENODATA)
				continue;	/* Enter alone: look and ask again */
		} else {
			r = pass_read(NULL, 0, 0, "", false, &p);
		}
		if (r)
			return r;
		r = send_answer(dir, name, &p, verdict, sizeof(verdict), &asker);
		pass_free(&p);
		if (r == -ECONNRESET) {
			log_err("%s: the prompt ended before this answer was tried (answered on the console, or it timed out)",
				name);
			if (!interactive)
				return -ECONNRESET;
			wait = NEXT_WAIT_MS;
			continue;
		}
		if (r) {
			log_err("%s: cannot answer the prompt: %s", name, strerror(-r));
			return r;
		}
		if (!strcmp(verdict, "unlocked")) {
			printf("%s: unlocked\n", name);
			fflush(stdout);
			unlocked = true;
			if (!interactive || want)
				return 0;
			wait = NEXT_WAIT_MS;
			continue;
		}
		if (!strncmp(verdict, "wrong ", 6)) {
			const char *left = verdict + 6;

			if (!strcmp(left, "0")) {
				log_err("%s: wrong passphrase; no tries left: the prompt gave up", name);
				return -EPERM;
			}
			if (!strcmp(left, "-"))
				log_err("%s: wrong passphrase (no limit on tries)", name);
			else if (strcmp(left, "1"))
				log_err("%s: wrong passphrase (%s tries left)", name, left);
			else
				log_err("%s: wrong passphrase (%s try left)", name, left);
			if (!interactive)
				return -EPERM;
			wait = NEXT_WAIT_MS;
			continue;
		}
		log_err("%s: %s", name, !strncmp(verdict, "error ", 6) ? verdict + 6 : verdict);
		return -EIO;
	}
}
