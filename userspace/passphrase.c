// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: passphrases for LUKS2, and yes/no questions.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "answer.h"
#include "passphrase.h"
#include "plymouth.h"
#include "secure_mem.h"
#include "util.h"

enum pass_source pass_source(const char *key_file)
{
	if (key_file)
		return PASS_KEYFILE;
	return isatty(STDIN_FILENO) ? PASS_TTY : PASS_STDIN;
}

void pass_free(struct passphrase *p)
{
	secure_free(p->buf);
	p->buf = NULL;
	p->len = 0;
}

int pass_copy(struct passphrase *dst, const struct passphrase *src)
{
	char *n;

	if (dst == src)
		return 0;
	n = secure_alloc(src->len + 1);
	if (!n)
		return -ENOMEM;
	if (src->len)
		memcpy(n, src->buf, src->len);
	n[src->len] = '\0';
	pass_free(dst);
	dst->buf = n;
	dst->len = src->len;
	return 0;
}

int pass_cache_add(struct pass_cache *c, const struct passphrase *p)
{
	struct passphrase copy = { 0 };
	unsigned int i, j;
	int r;

	r = pass_copy(&copy, p);
	if (r)
		return r;
	/* a duplicate goes; otherwise the oldest when full */
	for (i = 0; i < c->n; i++)
		if (c->p[i].len == p->len && !memcmp(c->p[i].buf, p->buf, p->len))
			break;
	if (i == c->n && c->n == PASS_CACHE_MAX)
		i = PASS_CACHE_MAX - 1;
	if (i < c->n)
		pass_free(&c->p[i]);
	else
		c->n++;
	for (j = i; j > 0; j--)
		c->p[j] = c->p[j - 1];
	c->p[0] = copy;
	return 0;
}

void pass_cache_free(struct pass_cache *c)
{
	unsigned int i;

	for (i = 0; i < c->n; i++)
		pass_free(&c->p[i]);
	c->n = 0;
}

/* The signal (SIGINT, SIGTERM, SIGQUIT) that interrupted a terminal prompt. */
static volatile sig_atomic_t tty_interrupted;

/* The answer channel the current prompt also listens on (answer.h), or NULL. */
static struct answer_chan *pass_chan;

void pass_set_answer_chan(struct answer_chan *c)
{
	pass_chan = c;
}

uint64_t pass_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int pass_wait_readable(int fd, uint64_t deadline_us)
{
	struct pollfd pfd[2] = {
		{ .fd = fd, .events = POLLIN },
		/* poll() skips a negative descriptor */
		{ .fd = pass_chan ? pass_chan->listen_fd : -1, .events = POLLIN },
	};
	uint64_t now;
	int r, ms;

	if (!deadline_us && pfd[1].fd < 0)
		return 0;
	for (;;) {
		ms = -1;
		if (deadline_us) {
			now = pass_now_us();
			if (now >= deadline_us)
				return -ETIMEDOUT;
			/* rounded up: never return before the deadline */
			ms = (int)((deadline_us - now + 999) / 1000 > 0x7fffffff
				   ? 0x7fffffff : (deadline_us - now + 999) / 1000);
		}
		r = poll(pfd, 2, ms);
		/* what was typed first; then a client of the answer channel */
		if (r > 0 && pfd[0].revents)
			return 0;
		if (r > 0)
			return -EREMOTE;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r < 0 && tty_interrupted)
			return -EINTR;
	}
}


static void on_signal(int sig)
{
	tty_interrupted = sig;
}

int pass_interrupted(void)
{
	return tty_interrupted;
}

/*
 * A growing locked buffer: grows by moving to a bigger secure buffer and
 * wiping the old one, so no secret byte is ever left in unlocked memory.
 */
static int grow(struct passphrase *p, size_t *cap, size_t max)
{
	size_t ncap = *cap ? *cap * 2 : 256;
	char *n;

	if (ncap > max + 1)
		ncap = max + 1;
	if (ncap <= *cap)
		return -E2BIG;
	n = secure_alloc(ncap + 1);
	if (!n)
		return -ENOMEM;
	if (p->buf)
		memcpy(n, p->buf, p->len);
	secure_free(p->buf);
	p->buf = n;
	*cap = ncap;
	return 0;
}

/*
 * Reads from FD into P: up to MAX bytes, stopping after a newline when
 * LINE (the newline is dropped).  Byte by byte when LINE so that nothing
 * after the newline is consumed (a second passphrase may follow).  When
 * more than MAX bytes come: -E2BIG, or with TRUNCATE the first MAX bytes.
 * When LINE and the input ends before its first byte: -ENODATA.  With
 * DEADLINE_US (CLOCK_MONOTONIC, 0: none), -ETIMEDOUT when it passes first.
 */
static int read_stream(int fd, bool line, size_t max, bool truncate, uint64_t deadline_us,
		       struct passphrase *p)
{
	size_t cap = 0;
	ssize_t n;
	int r;

	p->buf = NULL;
	p->len = 0;
	for (;;) {
		if (p->len == max) {
			char c;

			if (truncate)
				break;
			/* exactly MAX bytes is fine when nothing follows */
			do {
				n = read(fd, &c, 1);
			} while (n < 0 && errno == EINTR);
			if (n > 0 && !(line && c == '\n')) {
				r = -E2BIG;
				goto fail;
			}
			break;
		}
		if (p->len + 1 >= cap) {
			r = grow(p, &cap, max);
			if (r)
				goto fail;
		}
		r = pass_wait_readable(fd, deadline_us);
		if (r)
			goto fail;
		n = read(fd, p->buf + p->len, line ? 1 : cap - 1 - p->len);
		if (n < 0) {
			/* Ctrl-C at a prompt ends the read now, not at Enter */
			if (errno == EINTR && tty_interrupted) {
				r = -EINTR;
				goto fail;
			}
			if (errno == EINTR || errno == EAGAIN)
				continue;
			r = -errno;
			goto fail;
		}
		if (!n) {
			/* end of input before anything: not an empty line */
			if (line && !p->len) {
				r = -ENODATA;
				goto fail;
			}
			break;
		}
		if (line && p->buf[p->len] == '\n') {
			p->buf[p->len] = '\0';
			break;
		}
		p->len += (size_t)n;
		if (p->len > max) {
			r = -E2BIG;
			goto fail;
		}
	}
	if (p->buf)
		p->buf[p->len] = '\0';
	return 0;
fail:
	pass_free(p);
	return r;
}

/*
 * Line editing for a terminal that stays out of canonical mode: Delete or
 * Backspace erases the last character (all of its UTF-8 bytes), Ctrl-U
 * the whole line.  The bytes dropped are wiped.
 */
static void edit_line(struct passphrase *p)
{
	size_t i, n = 0;

	if (!p->buf)
		return;
	for (i = 0; i < p->len; i++) {
		unsigned char c = (unsigned char)p->buf[i];

		if (c == 0x7f || c == '\b') {
			while (n && ((unsigned char)p->buf[n - 1] & 0xc0) == 0x80)
				n--;
			if (n)
				n--;
		} else if (c == 0x15) {
			n = 0;
		} else {
			p->buf[n++] = (char)c;
		}
	}
	explicit_bzero(p->buf + n, p->len - n);
	p->len = n;
}

/* Reads one line from the terminal, echo off unless ECHO_ON. */
static int tty_read(const char *prompt, bool echo_on, uint64_t deadline_us, struct passphrase *p)
{
	struct sigaction sa, old_int, old_term, old_quit;
	struct termios old, raw;
	bool restore = false, edit = false;
	int fd, out, r;

	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 && isatty(STDIN_FILENO)) {
		/*
		 * No controlling terminal (an initramfs, where PID 1 has none)
		 * but standard input is a terminal, e.g. the console: use it.
		 */
		log_dbg("cannot open /dev/tty (%s): reading from standard input", strerror(errno));
		fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
	}
	if (fd < 0) {
		r = -errno;
		log_err("cannot open the terminal: %s", strerror(errno));
		return r;
	}
	/* A terminal opened read-only cannot show the prompt: stderr can. */
	out = (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY ? STDERR_FILENO : fd;
	/*
	 * A signal must not leave the terminal without echo.  No SA_RESTART:
	 * the read returns EINTR and the prompt ends at once.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	tty_interrupted = 0;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGQUIT, &sa, &old_quit);
	if (!echo_on && !tcgetattr(fd, &old)) {
		raw = old;
		raw.c_lflag &= ~(tcflag_t)ECHO;
		/*
		 * A line, with its editing (erase, kill) and Enter shown as a
		 * newline, even on a terminal someone left raw: plymouth does
		 * so to the serial console when it hides its splash.
		 */
		raw.c_lflag |= ICANON | ECHONL;
		raw.c_iflag |= ICRNL;
		if (!tcsetattr(fd, TCSADRAIN, &raw))
			restore = true;
		/*
		 * plymouth also locks the modes it set (TIOCSLCKTRMIOS): the
		 * change above does not take.  Edit the line here then.
		 */
		edit = !tcgetattr(fd, &raw) && !(raw.c_lflag & ICANON);
	}
	if (write(out, prompt, strlen(prompt)) < 0)
		log_dbg("cannot write the prompt: %s", strerror(errno));
	r = read_stream(fd, true, PASS_INTERACTIVE_MAX, false, deadline_us, p);
	if (edit && !r) {
		edit_line(p);
		if (write(out, "\n", 1) < 0)	/* what ECHONL shows in canonical mode */
			log_dbg("cannot end the prompt's line: %s", strerror(errno));
	}
	if (r == -EREMOTE) {
		/*
		 * Answered through the channel: what was half typed here is
		 * dropped, not left for the next prompt to read.
		 */
		tcflush(fd, TCIFLUSH);
		if (write(out, "\n", 1) < 0)
			log_dbg("cannot end the prompt's line: %s", strerror(errno));
	}
	if (restore)
		tcsetattr(fd, TCSADRAIN, &old);
	close(fd);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	if (tty_interrupted) {
		/* the caller unwinds (wiping its secrets); main re-raises it */
		pass_free(p);
		fputc('\n', stderr);
		return -EINTR;
	}
	if (r == -ETIMEDOUT) {
		fputc('\n', stderr);	/* the prompt's line stays unfinished otherwise */
	} else if (r == -EREMOTE) {
		/* pass_read_until() takes the answer */
	} else if (r == -E2BIG) {
		log_err("the passphrase is longer than %u characters", PASS_INTERACTIVE_MAX);
	} else if (r == -ENODATA) {
		/* distinct from an empty line, which callers may ask again after */
		log_err("end of input on the terminal");
		r = -EPIPE;
	} else if (r)
		log_err("cannot read from the terminal: %s", strerror(-r));
	return r;
}

static int keyfile_pass(const char *path, uint64_t offset, uint64_t size, struct passphrase *p)
{
	const char *shown = strcmp(path, "-") ? path : _("- (standard input)");
	uint64_t max = size ? size : PASS_KEYFILE_MAX;
	bool is_stdin = !strcmp(path, "-");
	char junk[4096];
	struct stat st;
	int fd, r = 0;

	if (max > PASS_KEYFILE_MAX) {
		log_err("--keyfile-size is larger than %u bytes", PASS_KEYFILE_MAX);
		return -EINVAL;
	}
	fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		log_err("cannot open key file %s: %s", shown, strerror(errno));
		return r == -EACCES || r == -EPERM ? r : -EINVAL;
	}
	if (fstat(fd, &st) || S_ISDIR(st.st_mode)) {
		log_err("key file %s is not a readable file", shown);
		r = -EINVAL;
		goto out;
	}
	if (S_ISREG(st.st_mode)) {
		if (offset && lseek(fd, (off_t)offset, SEEK_SET) < 0) {
			r = -errno;
			log_err("cannot seek in key file %s: %s", shown, strerror(errno));
			goto out;
		}
	} else {
		while (offset) {
			ssize_t n = read(fd, junk, offset < sizeof(junk) ? (size_t)offset : sizeof(junk));

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			offset -= (uint64_t)n;
		}
		explicit_bzero(junk, sizeof(junk));
	}
	/* --keyfile-size: the first SIZE bytes, the rest ignored */
	r = read_stream(fd, false, (size_t)max, size != 0, 0, p);
	if (r == -E2BIG) {
		log_err("key file %s is larger than %u bytes", shown, PASS_KEYFILE_MAX);
		r = -EINVAL;
	} else if (r) {
		log_err("cannot read key file %s: %s", shown, strerror(-r));
	} else if (size && p->len < size) {
		log_err("key file %s is too short: %zu bytes, but --keyfile-size is %llu",
			shown, p->len, (unsigned long long)size);
		pass_free(p);
		r = -EINVAL;
	}
out:
	if (!is_stdin)
		close(fd);
	return r;
}

int pass_read(const char *key_file, uint64_t offset, uint64_t size, const char *prompt,
	      bool verify, struct passphrase *p)
{
	return pass_read_until(key_file, offset, size, prompt, verify, 0, p);
}

/*
 * pass_read_until(); PIN: the secret is a PIN, not a passphrase (each message
 * is written out for both: a translation may word them differently).
 */
static int read_secret_until(const char *key_file, uint64_t offset, uint64_t size,
			     const char *prompt, bool verify, uint64_t deadline_us, bool pin,
			     struct passphrase *p)
{
	struct passphrase again = { 0 };
	char verify_prompt[256];
	int r;

	p->buf = NULL;
	p->len = 0;
	switch (pass_source(key_file)) {
	case PASS_KEYFILE:
		r = keyfile_pass(key_file, offset, size, p);
		break;
	case PASS_TTY:
		/*
		 * A boot splash owns the console: a prompt written there is
		 * hidden (quiet splash).  Ask through plymouth while it runs.
		 * New passphrases (VERIFY) are never typed at boot.  When it
		 * shows no splash it cannot ask: the console is visible then.
		 */
		for (;;) {
			r = -ENOTCONN;
			if (!verify && plymouth_running())
				r = plymouth_ask(prompt, deadline_us, p);
			if (r == -ENOTCONN)
				r = tty_read(prompt, false, deadline_us, p);
			if (r != -EREMOTE)
				break;
			/*
			 * A client of the answer channel: its answer is this
			 * prompt's (the question on plymouth was withdrawn).
			 * Nothing usable: ask again.
			 */
			{
				struct answer_chan *c = pass_chan;

				pass_chan = NULL;	/* its reads wait on the client only */
				r = answer_chan_take(c, deadline_us, p);
				pass_chan = c;
			}
			if (r != -EAGAIN)
				break;
		}
		if (r || !verify || !p->len)
			break;
		snprintf(verify_prompt, sizeof(verify_prompt), "%s",
			 pin ? _("Verify PIN: ") : _("Verify passphrase: "));
		r = tty_read(verify_prompt, false, deadline_us, &again);
		if (r)
			break;
		if (again.len != p->len || memcmp(again.buf, p->buf, p->len)) {
			if (pin)
				log_err("PINs do not match");
			else
				log_err("passphrases do not match");
			r = -EINVAL;
		}
		pass_free(&again);
		break;
	default:
		r = read_stream(STDIN_FILENO, true, PASS_INTERACTIVE_MAX, false, deadline_us, p);
		if (r == -ENODATA)
			r = 0;	/* nothing at all: "no passphrase given" below */
		if (r == -E2BIG && pin)
			log_err("the PIN on standard input is longer than %u bytes",
				PASS_INTERACTIVE_MAX);
		else if (r == -E2BIG)
			log_err("the passphrase on standard input is longer than %u bytes",
				PASS_INTERACTIVE_MAX);
		else if (r && r != -ETIMEDOUT && pin)
			log_err("cannot read the PIN from standard input: %s", strerror(-r));
		else if (r && r != -ETIMEDOUT)
			log_err("cannot read the passphrase from standard input: %s", strerror(-r));
		break;
	}
	if (!r && !p->len) {
		if (pin)
			log_err("no PIN given (empty input)");
		else
			log_err("no passphrase given (empty input)");
		r = -ENODATA;
	}
	if (r)
		pass_free(p);
	return r;
}

int pass_read_until(const char *key_file, uint64_t offset, uint64_t size, const char *prompt,
		    bool verify, uint64_t deadline_us, struct passphrase *p)
{
	return read_secret_until(key_file, offset, size, prompt, verify, deadline_us,
				 false, p);
}

int pass_read_pin_until(const char *prompt, bool verify, uint64_t deadline_us,
			struct passphrase *p)
{
	return read_secret_until(NULL, 0, 0, prompt, verify, deadline_us, true, p);
}

int pass_read_terminal(const char *prompt, struct passphrase *p)
{
	int r;

	p->buf = NULL;
	p->len = 0;
	r = tty_read(prompt, false, 0, p);
	if (!r && !p->len)
		r = -ENODATA;
	if (r)
		pass_free(p);
	return r;
}

int pass_read_optional(struct passphrase *p)
{
	int r;

	r = read_stream(STDIN_FILENO, true, PASS_INTERACTIVE_MAX, false, 0, p);
	if (r == -ENODATA)
		return 0;	/* nothing at all: p->len is 0 */
	if (r == -E2BIG)
		log_err("the passphrase on standard input is longer than %u bytes",
			PASS_INTERACTIVE_MAX);
	else if (r)
		log_err("cannot read the passphrase from standard input: %s", strerror(-r));
	return r;
}

int ask_yes(const char *question)
{
	struct passphrase answer = { 0 };
	char prompt[1536];	/* QUESTION (up to 1200 bytes) and the warning */
	int r;

	if (!isatty(STDIN_FILENO)) {
		log_err("%s", question);
		log_err("nobody can confirm this: standard input is not a terminal");
		return -ENOTTY;
	}
	snprintf(prompt, sizeof(prompt), _("\nWARNING!\n========\n%s\n\nAre you sure? (Type 'YES' in capital letters): "),
		 question);
	r = tty_read(prompt, true, 0, &answer);
	if (r)
		return r;
	r = answer.len == 3 && !memcmp(answer.buf, "YES", 3) ? 0 : -EPERM;
	pass_free(&answer);
	if (r)
		log_err("not confirmed: nothing done");
	return r;
}
