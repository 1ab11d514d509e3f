/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vaultctl: LUKS2 commands on top of the luks2 library (luks2/luks2.h).
 * luks.c holds format, open, the header commands and what resume needs;
 * luks_keys.c the keyslot commands.
 */
#ifndef VAULTCTL_LUKS_H
#define VAULTCTL_LUKS_H

#include <stdbool.h>
#include <stddef.h>

#include "luks2.h"
#include "passphrase.h"
#include "vaultctl.h"

/*
 * Loads DEVICE's header (read-write when RW).  Prints why it fails; warns
 * when one copy is damaged, and with RW refuses (only 'vaultctl repair'
 * rewrites a copy: it may roll back to the older one).
 */
int luks_load(const char *device, bool rw, struct luks2 **out);
/* Read-only, for showing the header: loads one in re-encryption too. */
int luks_load_inspect(const char *device, struct luks2 **out);

/* The KDF settings the options ask for. */
void luks_pbkdf(const struct vault_opts *o, struct luks2_pbkdf *p);

/*
 * Asks for a passphrase (o->tries times on a terminal, 0: no limit; once
 * otherwise) and unlocks KEYSLOT (< 0: any).  With o->volume (a vaulttab
 * entry) the prompt is "Enter passphrase for VOLUME (DEVICE): ".  On success returns the keyslot number, *VK
 * is a secure_alloc() buffer of *VK_LEN bytes (VK may be NULL: only check),
 * and when KEPT is not NULL the passphrase is left in it.  A wrong
 * passphrase is -EPERM (exit code 2) after "No key available with this
 * passphrase.".
 */
int luks_unlock(const struct vault_opts *o, struct luks2 *l, const char *device, int keyslot,
		void **vk, size_t *vk_len, struct passphrase *kept);

/*
 * As luks_unlock() without a key, for kill-slot: with EXCEPT >= 0 the
 * passphrase must open a usable keyslot other than EXCEPT (KEYSLOT is then
 * ignored).  GIVEN, when not NULL, is the passphrase (one try, none read).
 */
int luks_check_pass(const struct vault_opts *o, struct luks2 *l, const char *device, int keyslot,
		    int except, const struct passphrase *given);

/*
 * 0 when the administrator agrees: --batch-mode, or "YES" typed on the
 * terminal (--force is not an answer).  Without a terminal and without
 * --batch-mode, refused.
 */
int luks_confirm(const struct vault_opts *o, const char *question);

/*
 * The volume key of an active LUKS2 mapping whose dm UUID is DM_UUID, for
 * resume: loads DEVICE's header, checks that its UUID is the mapping's,
 * asks for the passphrase and unlocks.
 */
int luks_resume_key(const struct vault_opts *o, const char *device, const char *dm_uuid,
		    void **vk, size_t *vk_len);

/* uuid --uuid: sets o->uuid as DEVICE's UUID after a confirmation (cmd_config.c). */
int luks_set_uuid(const struct vault_opts *o, const char *device);

/* dump --dump-json-metadata and --dump-volume-key (cmd_dump.c). */
int luks_dump_json(const struct vault_opts *o, const char *device);
int luks_dump_volume_key(const struct vault_opts *o, const char *device);

/*
 * The volume key of the active LUKS2 mapping NAME (dm UUID DM_UUID) on
 * DEVICE, for resize: checks that DEVICE still holds that volume, then the
 * tokens and the passphrase as open tries them.
 */
int luks_mapping_key(const struct vault_opts *o, const char *device, const char *dm_uuid,
		     void **vk, size_t *vk_len);

/* Number of keyslots in use. */
unsigned int luks_slot_count(const struct luks2 *l);

/* Number of keyslots that can open the volume (bound to its segment). */
unsigned int luks_usable_count(struct luks2 *l);

#endif
