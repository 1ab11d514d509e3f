/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vaultctl: the client of /dev/vault-control (see module/uapi/linux/dm-vault.h).
 */
#ifndef VAULTCTL_CONTROL_H
#define VAULTCTL_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/dm-vault.h>

#define VAULT_CONTROL_PATH	"/dev/" VAULT_CONTROL_NAME

#define VCTL_LOAD	(1U << 0)	/* run "modprobe dm-vault" once if missing */
#define VCTL_QUIET	(1U << 1)	/* print no errors */

/*
 * Opens the control device.  When it is missing and VCTL_LOAD is set, runs
 * "modprobe dm-vault" once and tries again.  Checks the interface's major
 * version and fills VER (may be NULL).  Prints its own errors unless
 * VCTL_QUIET; returns the file descriptor or a negative errno.
 */
int vctl_open(unsigned int flags, struct vault_version *ver);
void vctl_close(int fd);

int vctl_version(int fd, struct vault_version *ver);

/* FLAGS: 0 (key lives until FD is closed) or VAULT_KEY_PERSISTENT. */
int vctl_key_add(int fd, const char *name, const void *key, size_t size, uint32_t flags);
int vctl_key_remove(int fd, const char *name);

/* Allocates *KEYS (free()); sets *COUNT. */
int vctl_key_list(int fd, struct vault_key_info **keys, uint32_t *count);

/* 0 when NAME is a valid key name: 1..63 bytes of [A-Za-z0-9._:-]. */
int vctl_key_name_valid(const char *name);

/*
 * A fresh unique name for a temporary key of BITS bits for mapping DM_NAME:
 * "vaultctl-<DM_NAME>-<pid>-<16 random hex digits>-<BITS>b", with
 * characters a key name cannot hold replaced by '_' and DM_NAME shortened
 * to fit.  The table keeps naming the key after it is removed, so the size
 * suffix tells status and resume the key size later.
 */
int vctl_temp_key_name(const char *dm_name, unsigned int bits, char out[VAULT_KEY_NAME_MAX]);

/* Names of the feature bits set in FEATURES, space separated. */
void vctl_features_string(uint64_t features, char *buf, size_t len);

#endif
