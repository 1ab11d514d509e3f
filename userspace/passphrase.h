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

/*
 * Asks QUESTION on the terminal and waits for "YES".  0 when confirmed;
 * -EPERM when the answer was something else; -ENOTTY (after a message)
 * when standard input is not a terminal, so nobody can be asked.
 */
int ask_yes(const char *question);

#endif
