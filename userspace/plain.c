// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: plain mode open (no header; the key file is used as the key).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dm.h"
#include "secure_mem.h"
#include "table.h"
#include "tempkey.h"
#include "util.h"
#include "vaultctl.h"

static int check_plain_options(const struct vault_opts *o)
{
	unsigned int spu = o->sector_size / SECTOR_SIZE;

	if (o->iv_large_sectors && o->sector_size == SECTOR_SIZE) {
		log_err("--iv-large-sectors needs --sector-size larger than 512");
		return -EINVAL;
	}
	if (o->iv_large_sectors && o->iv_offset % spu) {
		log_err("with --iv-large-sectors the IV offset must be a multiple of the sector size (%u sectors)",
			spu);
		return -EINVAL;
	}
	return 0;
}

/* Removes NAME if it exists and carries UUID: a device half made by us. */
static void remove_half_created(const char *name, const char *uuid)
{
	struct vdm_info info;

	if (vdm_info(name, &info) || !info.exists || strcmp(info.uuid, uuid))
		return;
	log_dbg("removing the half-created device %s", name);
	if (vdm_remove(name))
		log_err("cannot remove the half-created device %s", name);
}

int vault_map(const char *name, const char *uuid, const struct vault_table *t, uint64_t size,
	      const void *key, size_t key_len, bool readonly)
{
	char params[TABLE_PARAMS_MAX], line[TABLE_PARAMS_MAX + 64];
	struct tempkey tk = { .fd = -1 };
	int r;

	/* Loads the module if needed, and with it dm-mod. */
	r = tempkey_load(&tk, name, key, key_len);
	if (r)
		return r;

	r = vdm_require_absent(name);
	if (r)
		goto out;

	r = table_build_params(t, tk.name, params, sizeof(params));
	if (r) {
		log_err("cannot build the table line: %s", strerror(-r));
		goto out;
	}
	if (!table_format_line(0, size, params, line, sizeof(line)))
		log_dbg("table: %s", line);

	r = vdm_create(name, uuid, size, VAULT_TARGET, params, readonly);
	if (r) {
		if (r == -EEXIST || r == -EBUSY || r == -ENOMEM || r == -EPERM) {
			log_err("cannot create device %s: %s", name, strerror(-r));
		} else {
			/* The target's reason (e.g. an unknown cipher) is in the kernel log. */
			log_err("cannot create device %s: %s; is cipher %s supported? (the kernel log says why)",
				name, strerror(-r), t->cipher);
			r = -EINVAL;
		}
		remove_half_created(name, uuid);
		goto out;
	}
	log_verbose("Device %s is active: %" PRIu64 " sectors of %s.", name, size, t->device);
out:
	tempkey_unload(&tk);
	return r;
}

int plain_open(const struct vault_opts *o, const char *device, const char *name)
{
	char uuid[VDM_UUID_MAX];
	unsigned int bits = o->key_bits ? o->key_bits : DEFAULT_KEY_BITS;
	struct vault_table t;
	struct blkdev dev;
	uint64_t size;
	void *key = NULL;
	int r;

	if (dm_name_valid(name)) {
		log_err("invalid device name '%s': %s", name, dm_name_problem(name));
		return -EINVAL;
	}
	r = check_plain_options(o);
	if (r)
		return r;

	r = tempkey_read(o, bits, &key);
	if (r)
		return r;

	r = blkdev_probe(device, o->readonly, &dev);
	if (r)
		goto out;
	r = table_mapping_size(device, dev.sectors, o->offset, o->size, o->sector_size, &size);
	if (r)
		goto out;

	memset(&t, 0, sizeof(t));
	snprintf(t.cipher, sizeof(t.cipher), "%s", o->cipher ? o->cipher : DEFAULT_CIPHER);
	snprintf(t.device, sizeof(t.device), "%u:%u", dev.major, dev.minor);
	t.iv_offset = o->iv_offset;
	t.offset = o->offset;
	t.sector_size = o->sector_size;
	t.iv_large_sectors = o->iv_large_sectors;
	t.allow_discards = o->allow_discards;
	t.same_cpu_crypt = o->same_cpu_crypt;
	t.no_read_workqueue = o->no_read_workqueue;
	t.no_write_workqueue = o->no_write_workqueue;
	snprintf(uuid, sizeof(uuid), "%s%s", UUID_PREFIX_PLAIN, name);

	r = vault_map(name, uuid, &t, size, key, bits / 8, o->readonly);
out:
	secure_free(key);
	return r;
}
