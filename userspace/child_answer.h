/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vaultctl: reading a secret that a helper program (plymouth,
 * systemd-ask-password) writes on its standard output.
 */
#ifndef VAULTCTL_CHILD_ANSWER_H
#define VAULTCTL_CHILD_ANSWER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "passphrase.h"

/* The exit status of PID, or -1 when it did not exit normally. */
int child_reap(pid_t pid);

/*
 * Reads all of PID's output from FD into P->buf (CAP bytes of secure
 * memory, P->len from 0) until end of file or DEADLINE_US (0: none),
 * closes FD, stops PID with SIGTERM when reading failed (the question is
 * withdrawn with its client), reaps it into *STATUS (child_reap()), drops
 * one trailing newline and terminates the text.  Returns 0 or -errno:
 * -ETIMEDOUT, -E2BIG (CAP - 1 bytes filled), a read error.  P stays
 * allocated either way.
 */
int child_read_answer(pid_t pid, int fd, uint64_t deadline_us, size_t cap,
		      struct passphrase *p, int *status);

#endif
