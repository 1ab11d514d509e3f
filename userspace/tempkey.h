/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vaultctl: keys for one table load.  A key is read into locked memory,
 * loaded into dm-vault under a fresh name owned by the control file
 * descriptor, named in a table line or a "key set" message, then removed.
 */
#ifndef VAULTCTL_TEMPKEY_H
#define VAULTCTL_TEMPKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control.h"
#include "table.h"
#include "vaultctl.h"

struct tempkey {
	int fd;				/* /dev/vault-control, -1 when closed */
	char name[VAULT_KEY_NAME_MAX];
	int loaded;
};

/* Reads BITS/8 bytes as --key-file/--keyfile-offset say into a new secure buffer. */
int tempkey_read(const struct vault_opts *o, unsigned int bits, void **key);

/* Opens the control device (loading the module if needed) and adds KEY. */
int tempkey_load(struct tempkey *tk, const char *dm_name, const void *key, size_t size);

/* Removes the key (if loaded) and closes the control device. */
void tempkey_unload(struct tempkey *tk);

/*
 * Key size in bits of an active table, if knowable: from the key field, or
 * for "key:NAME" from the size of a key still loaded under NAME.  0 if not.
 */
unsigned int tempkey_active_bits(const struct vault_table *t);

/*
 * Creates the vault mapping NAME (dm UUID UUID) of SIZE sectors with table
 * T and KEY, loaded as a temporary key for the table load (plain.c).
 * Removes a half-created device on failure.  Prints its own errors.
 */
int vault_map(const char *name, const char *uuid, const struct vault_table *t, uint64_t size,
	      const void *key, size_t key_len, bool readonly);

#endif
