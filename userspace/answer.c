// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: the prompt's side of the answer channel (see answer.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "answer.h"
#include "secure_mem.h"
#include "util.h"

/* How long a connected client may take to send its answer. */
#define ANSWER_SEND_US	(10ULL * 1000000)

/* The socket's inode: close removes the path only while it is still ours. */
static ino_t chan_ino;

const char *answer_dir(void)
{
	const char *d = getenv("VAULT_ANSWER_DIR");

	return d && *d ? d : ANSWER_DIR_DEFAULT;
}

/*
 * Makes DIR and its missing parents (mode 0700), then checks that DIR is a
 * directory of ours that nobody else may enter: the sockets in it accept
 * passphrases.
 */
static int make_dir(const char *dir)
{
	char path[sizeof(((struct answer_chan *)0)->path)];
	struct stat st;
	size_t i, len = strlen(dir);

	if (!len || len >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, dir, len + 1);
	for (i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0700) && errno != EEXIST)
			return -errno;
		path[i] = dir[i];
	}
	if (lstat(dir, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077))
		return -EPERM;
	return 0;
}

void answer_chan_open(struct answer_chan *c, const char *name)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	const char *dir = answer_dir();
	struct stat st;
	int fd, r;

	c->listen_fd = -1;
	c->conn_fd = -1;
	c->path[0] = '\0';
	if (!name || !*name || strchr(name, '/') || name[0] == '.')
		return;
	r = make_dir(dir);
	if (r) {
		log_dbg("no answer channel: %s: %s", dir, r == -EPERM ?
			"not a directory of ours closed to others" : strerror(-r));
		return;
	}
	if ((size_t)snprintf(c->path, sizeof(c->path), "%s/%s", dir, name) >= sizeof(c->path)) {
		log_dbg("no answer channel: the path %s/%s is too long", dir, name);
		c->path[0] = '\0';
		return;
	}
	memcpy(addr.sun_path, c->path, sizeof(addr.sun_path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto fail;
	/*
	 * A socket left there is a killed prompt's (one vaultctl asks for a
	 * name at a time): replace it.
	 */
	r = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	if (r && errno == EADDRINUSE && !unlink(c->path))
		r = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	if (r || lstat(c->path, &st) || chmod(c->path, 0600) || listen(fd, 4))
		goto fail;
	chan_ino = st.st_ino;
	c->listen_fd = fd;
	log_dbg("answer channel: %s", c->path);
	return;
fail:
	log_dbg("no answer channel %s: %s", c->path, strerror(errno));
	if (fd >= 0)
		close(fd);
	c->path[0] = '\0';
}

void answer_chan_close(struct answer_chan *c)
{
	struct stat st;

	if (c->conn_fd >= 0)
		close(c->conn_fd);
	c->conn_fd = -1;
	if (c->listen_fd < 0)
		return;
	if (!lstat(c->path, &st) && st.st_ino == chan_ino)
		unlink(c->path);
	close(c->listen_fd);
	c->listen_fd = -1;
	c->path[0] = '\0';
}

/* Sends TEXT and a newline to FD; a client gone away is no error of ours. */
static void send_line(int fd, const char *text)
{
	char line[512];
	int n = snprintf(line, sizeof(line), "%s\n", text);

	if (n > 0 && send(fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1,
			  MSG_NOSIGNAL) < 0)
		log_dbg("cannot send the verdict: %s", strerror(errno));
}

int answer_chan_take(struct answer_chan *c, uint64_t deadline_us, struct passphrase *p)
{
	uint64_t until = pass_now_us() + ANSWER_SEND_US;
	size_t cap = PASS_INTERACTIVE_MAX + 2;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	int fd, r = 0;
	ssize_t n;

	p->buf = NULL;
	p->len = 0;
	fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return errno == EAGAIN || errno == EINTR || errno == ECONNABORTED ? -EAGAIN : -errno;
	/* The directory already keeps others out; check anyway. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) ||
	    (cred.uid != 0 && cred.uid != geteuid())) {
		log_err("refused an answer from a process of uid %u", (unsigned int)cred.uid);
		send_line(fd, "error not allowed");
		close(fd);
		return -EAGAIN;
	}
	if (deadline_us && deadline_us < until)
		until = deadline_us;
	p->buf = secure_alloc(cap);
	if (!p->buf) {
		close(fd);
		return -ENOMEM;
	}
	/* Everything up to the client's shutdown(SHUT_WR) is the passphrase. */
	for (;;) {
		r = pass_wait_readable(fd, until);
		if (r)
			break;
		n = read(fd, p->buf + p->len, cap - 1 - p->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n ? -errno : 0;
			break;
		}
		p->len += (size_t)n;
		if (p->len == cap - 1) {
			r = -E2BIG;
			break;
		}
	}
	if (!r && p->len && p->buf[p->len - 1] == '\n')
		p->len--;
	if (!r && p->len > PASS_INTERACTIVE_MAX)
		r = -E2BIG;
	p->buf[p->len] = '\0';
	if (r || !p->len) {
		if (r == -E2BIG)
			send_line(fd, "error the passphrase is too long");
		else if (r == -ETIMEDOUT)
			send_line(fd, "error no answer sent in time");
		close(fd);
		pass_free(p);
		/* the prompt's own deadline ends the prompt; the rest asks again */
		return r == -ETIMEDOUT && until == deadline_us ? -ETIMEDOUT : -EAGAIN;
	}
	c->conn_fd = fd;
	log_err("a passphrase came through the answer channel (vaultctl answer)");
	return 0;
}

static void vverdict(struct answer_chan *c, const char *fmt, va_list ap)
{
	char text[256];

	vsnprintf(text, sizeof(text), fmt, ap);
	send_line(c->conn_fd, text);
	close(c->conn_fd);
	c->conn_fd = -1;
}

void answer_chan_verdict(struct answer_chan *c, const char *fmt, ...)
{
	va_list ap;

	if (c->conn_fd < 0)
		return;
	va_start(ap, fmt);
	vverdict(c, fmt, ap);
	va_end(ap);
}

void answer_chan_end(struct answer_chan *c, const char *fmt, ...)
{
	int conn = c->conn_fd;
	va_list ap;

	c->conn_fd = -1;	/* kept open by the close */
	answer_chan_close(c);
	if (conn < 0)
		return;
	c->conn_fd = conn;
	va_start(ap, fmt);
	vverdict(c, fmt, ap);
	va_end(ap);
}
