/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vaultctl: asking through plymouth, the boot splash.  While plymouth runs
 * it owns the console (`quiet splash`): a prompt written there is hidden
 * behind the splash, so the question goes to the splash instead, as
 * cryptsetup's and systemd's boot prompts do.  Uses the plymouth client
 * (`plymouth --ping`, `plymouth ask-for-password`), found in PATH.
 */
#ifndef VAULTCTL_PLYMOUTH_H
#define VAULTCTL_PLYMOUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "passphrase.h"

/* True when a plymouth daemon answers `plymouth --ping`. */
bool plymouth_running(void);

/*
 * Shows PROMPT on the splash and reads the answer into P (secure memory).
 * DEADLINE_US as pass_read_until(): -ETIMEDOUT when it passes first.
 * -ENOTCONN (no message) when plymouth did not ask: it runs but shows no
 * splash, or it quit; the caller asks on the console instead.
 * -ECANCELED (after a message) when the question was cancelled or plymouth
 * failed; -E2BIG when the answer is longer than PASS_INTERACTIVE_MAX.
 */
int plymouth_ask(const char *prompt, uint64_t deadline_us, struct passphrase *p);

#endif
