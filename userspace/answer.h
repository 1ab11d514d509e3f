/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vaultctl: the answer channel of a passphrase prompt, and `vaultctl answer`.
 *
 * While vaultctl asks for a volume's passphrase on a terminal (the console
 * at boot) it also listens on a unix socket, ANSWER_DIR/NAME (a directory
 * only root may enter; NAME the vaulttab name, else the device's base
 * name), removed when the prompt ends.  `vaultctl answer` (the initramfs's
 * vault-unlock, run over SSH by dropbear-initramfs) connects, sends a
 * passphrase and reads the verdict.  An answer is a typed passphrase in
 * every way: a wrong one is one of the `tries=`, the prompt's `timeout=`
 * bounds both, and a right one ends the console prompt.
 *
 * Why a socket, not a FIFO as cryptsetup's askpass: the one who answers
 * learns the result (unlocked, or wrong and how many tries are left), the
 * prompt checks who is answering (root only, SO_PEERCRED), and a prompt
 * that ended leaves nothing a late writer could block on.
 *
 * The protocol (SOCK_STREAM): the client writes the passphrase (at most
 * PASS_INTERACTIVE_MAX bytes) and shuts its side down; vaultctl tries it
 * and writes one line: "unlocked", "wrong N" (N tries left, "wrong -"
 * without a limit) or "error TEXT"; then it closes.  A connection closed
 * without a line: the prompt ended before trying that answer.
 */
#ifndef VAULTCTL_ANSWER_H
#define VAULTCTL_ANSWER_H

#include <stdint.h>
#include <sys/un.h>

#include "passphrase.h"

#define ANSWER_DIR_DEFAULT	"/run/vault/answer"

/* ANSWER_DIR_DEFAULT, or $VAULT_ANSWER_DIR (the tests' private one). */
const char *answer_dir(void);

struct answer_chan {
	int listen_fd;		/* -1: no channel (it could not be made) */
	int conn_fd;		/* the client whose answer is being tried, or -1 */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

#define ANSWER_CHAN_INIT { .listen_fd = -1, .conn_fd = -1 }

/*
 * Opens NAME's channel.  Best effort: when it cannot be made (no /run, a
 * name too long, a live prompt of the same name) the prompt goes on on the
 * terminal alone, with a debug message; c->listen_fd stays -1.
 */
void answer_chan_open(struct answer_chan *c, const char *name);

/* Removes the socket, closes the listener and any client (no verdict). */
void answer_chan_close(struct answer_chan *c);

/*
 * Takes the answer of a client waiting on C's listener into P (secure
 * memory): 0, or -EAGAIN when the client sent nothing usable (the prompt
 * should ask again), or another -errno.  The client stays connected, for
 * answer_chan_verdict().
 */
int answer_chan_take(struct answer_chan *c, uint64_t deadline_us, struct passphrase *p);

/* Writes the verdict line (printf) to the client, if any, and drops it. */
void answer_chan_verdict(struct answer_chan *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * The last verdict: removes the socket first (answer_chan_close(), but the
 * client stays), then writes the verdict: a client that looks for the next
 * prompt once it has read it must not find this one still there.
 */
void answer_chan_end(struct answer_chan *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
