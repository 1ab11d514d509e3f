/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vaultctl: passphrases for LUKS2, and yes/no questions.
 *
 * A passphrase comes, as with cryptsetup, from one of three places:
 *   - --key-file FILE: the whole file (or --keyfile-size bytes after
 *     --keyfile-offset), newlines included; "-" is all of standard input;
 *   - the terminal, when standard input is one: /dev/tty with echo off, a
 *     prompt, and (for new passphrases) a second prompt to verify; without
 *     a controlling terminal (an initramfs) standard input itself;
 *   - otherwise one line of standard input (up to a newline, which is not
 *     part of the passphrase), e.g. `vaultctl open DEV NAME <<< "$pass"`.
 * Passphrases live in secure_alloc() buffers: locked, wiped when freed.
 */
#ifndef VAULTCTL_PASSPHRASE_H
#define VAULTCTL_PASSPHRASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PASS_INTERACTIVE_MAX	512		/* bytes typed or one stdin line */
#define PASS_KEYFILE_MAX	(8U << 20)	/* bytes of a key file */

struct passphrase {
	char *buf;	/* secure_alloc(), NUL-terminated; NULL when empty */
	size_t len;
};

enum pass_source { PASS_KEYFILE, PASS_TTY, PASS_STDIN };

/* Where the next passphrase comes from, given --key-file (may be NULL). */
enum pass_source pass_source(const char *key_file);

/*
 * Reads one passphrase into P.  KEY_FILE (may be NULL), OFFSET and SIZE
 * (0: everything) as --key-file, --keyfile-offset and --keyfile-size say;
 * PROMPT is shown on the terminal; VERIFY asks a second time there and
 * fails when the two differ.  An empty passphrase is an error (-ENODATA).
 * Prints its own messages; returns 0 or a negative errno.
 */
int pass_read(const char *key_file, uint64_t offset, uint64_t size, const char *prompt,
	      bool verify, struct passphrase *p);

/*
 * pass_read() that gives up with -ETIMEDOUT (and no message: the caller
 * knows which limit it set) when nothing has been entered by DEADLINE_US,
 * a pass_now_us() time; 0 waits for ever.  Key files are never timed.
 * On a terminal while plymouth runs (a boot splash), the question is asked
 * through plymouth instead (not for VERIFY).
 */
int pass_read_until(const char *key_file, uint64_t offset, uint64_t size, const char *prompt,
		    bool verify, uint64_t deadline_us, struct passphrase *p);

/* pass_read_until() for a token's PIN: no key file; its messages say "PIN". */
int pass_read_pin_until(const char *prompt, bool verify, uint64_t deadline_us,
			struct passphrase *p);

/*
 * The answer channel (answer.h) the next prompts on a terminal also listen
 * on; NULL: none.  pass_read_until() then takes an answer sent there as the
 * passphrase typed, and pass_wait_readable() returns -EREMOTE when a client
 * of the channel is waiting before FD is readable.
 */
struct answer_chan;
void pass_set_answer_chan(struct answer_chan *c);

/*
 * One line from the terminal (/dev/tty, else a terminal on standard
 * input), echo off, never through plymouth: `vaultctl answer` asking on
 * an SSH session while the console's plymouth runs.  -ENODATA when empty.
 */
int pass_read_terminal(const char *prompt, struct passphrase *p);

/* CLOCK_MONOTONIC in microseconds: the clock of pass_read_until()'s deadline. */
uint64_t pass_now_us(void);

/*
 * Waits until FD is readable or DEADLINE_US (0: returns at once, unless an
 * answer channel is set) passes: 0, -ETIMEDOUT, -EINTR after a prompt's
 * signal, -EREMOTE (see pass_set_answer_chan()), or another -errno.
 */
int pass_wait_readable(int fd, uint64_t deadline_us);

/*
 * One line of standard input (not a terminal) into P, as pass_read() does
 * without a key file, except that no input at all is not an error: 0 with
 * P->len 0.
 */
int pass_read_optional(struct passphrase *p);

/*
 * The signal (SIGINT, SIGTERM, SIGQUIT) that ended a terminal prompt, or 0.
 * The prompt then returned -EINTR; vaultctl unwinds, wiping its secrets,
 * and ends by that signal.
 */
int pass_interrupted(void);

/* Wipes and frees P's buffer (P itself may be reused). */
void pass_free(struct passphrase *p);

/* Replaces DST (wiping it) with a copy of SRC in secure memory: 0 or -ENOMEM. */
int pass_copy(struct passphrase *dst, const struct passphrase *src);

/*
 * The passphrases typed during one command (open --all), to try on the
 * next volumes before asking: the newest first, at most PASS_CACHE_MAX.
 */
#define PASS_CACHE_MAX	8

struct pass_cache {
	struct passphrase p[PASS_CACHE_MAX];	/* p[0] the newest */
	unsigned int n;
};

/* Adds a copy of P (first; a duplicate moves up; the oldest may drop): 0 or -ENOMEM. */
int pass_cache_add(struct pass_cache *c, const struct passphrase *p);

/* Wipes and forgets them all. */
void pass_cache_free(struct pass_cache *c);

/*
 * Asks QUESTION on the terminal and waits for "YES".  0 when confirmed;
 * -EPERM when the answer was something else; -ENOTTY (after a message)
 * when standard input is not a terminal, so nobody can be asked.
 */
int ask_yes(const char *question);

#endif
