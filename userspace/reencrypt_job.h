/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vaultctl reencrypt: running a re-encryption job through dm-vault's
 * "reencrypt" table words and "reencrypt step" message (reencrypt_job.c).
 */
#ifndef VAULTCTL_REENCRYPT_JOB_H
#define VAULTCTL_REENCRYPT_JOB_H

#include <stdbool.h>
#include <stdint.h>

#include "dm.h"
#include "luks2.h"
#include "table.h"
#include "vaultctl.h"

#define REENC_PRIVATE_PREFIX	"vault-reencrypt-"	/* offline jobs' own mapping */
#define REENC_DEFAULT_HOTZONE	(1ULL << 20)		/* see vaultctl.rst */

struct reenc_target {
	char device[4096];		/* the LUKS2 device */
	char name[128];			/* online: the user's mapping; offline: set by the job */
	bool online;
	char dm_uuid[VDM_UUID_MAX];	/* online: the mapping's */
	unsigned int major, minor;	/* the device */
	struct vault_table t;		/* online: the live table */
	uint64_t len;			/* online: the live table's length, sectors */
};

/*
 * ARG is an active vault LUKS2 mapping's name, or a block device: online
 * when a vault LUKS2 mapping holds it, offline when nothing does.  Prints
 * why it refuses.
 */
int reenc_find_target(const char *arg, struct reenc_target *tg);

/* 0 when the online mapping TG was opened from L's volume (same UUID). */
int reenc_same_volume(const struct reenc_target *tg, struct luks2 *l);

/*
 * --sector-size NEW_SS over OLD_SS on TG (reencrypt_sector.c), checked
 * before the job starts as cryptsetup does: an increase is refused
 * offline, and online when the mapping holds a filesystem with smaller
 * blocks.  Prints why it refuses.
 */
int reenc_check_sector_size(const struct reenc_target *tg, uint32_t old_ss, uint32_t new_ss);

/*
 * Moves the data of the job J (metadata in L, loaded read-write ignoring
 * requirements) with both volume keys; recovers a hotzone left in flight
 * first; writes the final metadata at the end.  Online: the live table of
 * TG->name is reloaded with the "reencrypt" words, and with the new key
 * alone at the end.  Offline: a private mapping exists for the job's
 * duration.  Every key loaded in the kernel's key table is removed on
 * every path.  -EINTR when SIGINT/SIGTERM stopped it at a checkpoint.
 */
int reenc_run(const struct vault_opts *o, struct reenc_target *tg, struct luks2 *l,
	      struct luks2_reenc_job *j, const unsigned char *vk_old, size_t old_len,
	      const unsigned char *vk_new, size_t new_len);

#endif
