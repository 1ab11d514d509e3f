/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vaultctl: asking through systemd's password agents (systemd-ask-password),
 * for a token's PIN when no terminal is at hand: a systemd unit at boot
 * (vault-unlock passes --token-pin-agent), where the agents reach the user
 * on the console, through plymouth or by wall, as for systemd-cryptsetup.
 */
#ifndef VAULTCTL_ASKPASS_H
#define VAULTCTL_ASKPASS_H

#include <stdint.h>

#include "passphrase.h"

/*
 * Runs `systemd-ask-password --id=ID --timeout=... PROMPT` and reads its
 * answer into P (secure memory, the newline dropped).  DEADLINE_US as
 * pass_read_until() (0: no limit): -ETIMEDOUT when it passes first.
 * -ENODATA when the answer is empty; -ECANCELED (after a message) when the
 * question was cancelled or systemd-ask-password is missing or failed.
 */
int askpass_agent(const char *id, const char *prompt, uint64_t deadline_us,
		  struct passphrase *p);

#endif
