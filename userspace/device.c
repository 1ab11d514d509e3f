// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: commands on an active vault device: close, status, suspend,
 * resume, resize.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "dm.h"
#include "luks.h"
#include "secure_mem.h"
#include "table.h"
#include "tempkey.h"
#include "util.h"
#include "vaultctl.h"

struct vault_dev {
	struct vdm_info info;
	struct vault_table t;
	uint64_t len;		/* of the target, 512-byte sectors */
};

/* Loads NAME and checks that it is a single-target vault device. */
static int get_vault(const char *name, struct vault_dev *d)
{
	struct vdm_table dt;
	int r;

	memset(d, 0, sizeof(*d));
	r = vdm_info(name, &d->info);
	if (r) {
		log_err("cannot query device-mapper: %s", strerror(-r));
		return r;
	}
	if (!d->info.exists) {
		log_err("device %s is not active", name);
		return -ENODEV;
	}
	r = vdm_table(name, &dt);
	if (r) {
		log_err("cannot read the table of %s: %s", name, strerror(-r));
		return r;
	}
	if (dt.count != 1 || strcmp(dt.type, VAULT_TARGET)) {
		log_err("device %s is not a vault device", name);
		vdm_table_free(&dt);
		return -ENODEV;
	}
	d->len = dt.len;
	r = table_parse_params(dt.params, &d->t);
	vdm_table_free(&dt);
	if (r) {
		log_err("cannot parse the table of %s", name);
		return -EINVAL;
	}
	return 0;
}

static bool is_luks2_uuid(const char *uuid)
{
	return !strncmp(uuid, UUID_PREFIX_LUKS2, strlen(UUID_PREFIX_LUKS2));
}

static const char *vault_type(const char *uuid)
{
	if (!strncmp(uuid, UUID_PREFIX_PLAIN, strlen(UUID_PREFIX_PLAIN)))
		return "PLAIN";
	if (is_luks2_uuid(uuid))
		return "LUKS2";
	if (!strncmp(uuid, UUID_PREFIX, strlen(UUID_PREFIX)))
		return "VAULT";
	return "n/a";
}

/* Size in 512-byte sectors of the table's device ("MAJ:MIN" or a path). */
static int table_device_size(const struct vault_table *t, uint64_t *sectors,
			     char *path, size_t len)
{
	unsigned int maj, min;
	struct stat st;

	if (parse_devt(t->device, &maj, &min)) {
		if (stat(t->device, &st) || !S_ISBLK(st.st_mode))
			return -ENODEV;
		maj = major(st.st_rdev);
		min = minor(st.st_rdev);
	}
	blkdev_path_by_devt(maj, min, path, len);
	return blkdev_size_by_devt(maj, min, sectors);
}

int cmd_close(const struct vault_opts *o, int argc, char **argv)
{
	const char *name = argv[0];
	struct vault_dev d;
	int r;

	(void)o;
	(void)argc;
	r = get_vault(name, &d);
	if (r)
		return r;
	if (d.info.open_count > 0) {
		log_err("device %s is still in use", name);
		return -EBUSY;
	}
	r = vdm_remove(name);
	if (r == -EBUSY)
		log_err("device %s is still in use", name);
	else if (r)
		log_err("cannot remove device %s: %s", name, strerror(-r));
	return r;
}

/* The kernel's progress of a re-encrypting table ("reencrypt status"). */
static void print_reencryption(const char *name)
{
	uint64_t done, total;
	char reply[128], state[16];

	/* no-i18n-begin: status lines are cryptsetup status's, read by scripts */
	if (vdm_message_reply(name, "reencrypt status", reply, sizeof(reply)) ||
	    sscanf(reply, "%" SCNu64 " %" SCNu64 " %15s", &done, &total, state) != 3 || !total) {
		printf("  reencryption: in progress (the kernel gave no progress)\n");
		return;
	}
	printf("  reencryption: %" PRIu64 " of %" PRIu64 " sectors (%.1f%%), %s\n", done, total,
	       100.0 * (double)done / (double)total, state);
	/* no-i18n-end */
}

int cmd_status(const struct vault_opts *o, int argc, char **argv)
{
	const char *name = argv[0];
	char path[300], flags[TABLE_EXTRA_MAX + 128];
	struct vdm_table dt;
	struct vdm_info info;
	struct vault_table t;
	unsigned int bits;
	int r;

	(void)o;
	(void)argc;
	r = vdm_info(name, &info);
	if (r) {
		log_err("cannot query device-mapper: %s", strerror(-r));
		return r;
	}
	/* no-i18n-begin: cryptsetup status's layout, read by scripts */
	if (!info.exists) {
		printf("/dev/mapper/%s is inactive.\n", name);
		return -ENODEV;
	}
	printf("/dev/mapper/%s is active%s.\n", name, info.open_count > 0 ? " and is in use" : "");
	r = vdm_table(name, &dt);
	if (r) {
		log_err("cannot read the table of %s: %s", name, strerror(-r));
		return r;
	}
	if (dt.count != 1 || strcmp(dt.type, VAULT_TARGET)) {
		printf("  type:    n/a (not a vault device)\n");
		vdm_table_free(&dt);
		return 0;
	}
	r = table_parse_params(dt.params, &t);
	if (r) {
		vdm_table_free(&dt);
		log_err("cannot parse the table of %s", name);
		return -EINVAL;
	}
	bits = tempkey_active_bits(&t);
	if (table_device_size(&t, &(uint64_t){ 0 }, path, sizeof(path)))
		snprintf(path, sizeof(path), "%s", t.device);
	table_flags_string(&t, flags, sizeof(flags));

	printf("  type:    %s\n", vault_type(info.uuid));
	printf("  cipher:  %s\n", t.cipher);
	if (bits)
		printf("  keysize: %u bits\n", bits);
	else
		printf("  keysize: unknown\n");
	printf("  key location: dm-vault\n");
	printf("  device:  %s\n", path);
	printf("  sector size:  %u\n", t.sector_size);
	printf("  offset:  %" PRIu64 " sectors\n", t.offset);
	printf("  iv offset:  %" PRIu64 " sectors\n", t.iv_offset);
	printf("  size:    %" PRIu64 " sectors\n", dt.len);
	printf("  mode:    %s%s\n", info.read_only ? "readonly" : "read/write",
	       info.suspended ? " (suspended)" : "");
	if (*flags)
		printf("  flags:   %s\n", flags);
	if (strstr(dt.params, " reencrypt "))
		print_reencryption(name);
	/* no-i18n-end */
	vdm_table_free(&dt);
	return 0;
}

int cmd_suspend(const struct vault_opts *o, int argc, char **argv)
{
	const char *name = argv[0];
	struct vault_dev d;
	int r;

	(void)o;
	(void)argc;
	r = get_vault(name, &d);
	if (r)
		return r;
	if (d.info.suspended) {
		log_err("device %s is already suspended", name);
		return -EINVAL;
	}
	r = vdm_suspend(name);
	if (r) {
		log_err("cannot suspend device %s: %s", name, strerror(-r));
		return r;
	}
	r = vdm_message(name, "key wipe");
	if (r) {
		log_err("cannot wipe the key of %s: %s; resuming it", name, strerror(-r));
		if (vdm_resume(name))
			log_err("cannot resume device %s", name);
		return r;
	}
	log_verbose("Device %s is suspended and its key wiped.", name);
	return 0;
}

/* The key size for resume and resize: --key-size, else the table's, else 512. */
static unsigned int key_bits_for(const struct vault_opts *o, const struct vault_table *t)
{
	unsigned int bits;

	if (o->key_bits)
		return o->key_bits;
	bits = tempkey_active_bits(t);
	if (bits % 8 || bits > VAULT_KEY_SIZE_MAX * 8)
		bits = 0;
	log_dbg("key size: %u bits (%s)", bits ? bits : DEFAULT_KEY_BITS,
		bits ? "from the active table" : "default");
	return bits ? bits : DEFAULT_KEY_BITS;
}

/* A plain mapping's new key for resume and resize: --key-file, at the size above. */
static int plain_key(const struct vault_opts *o, const struct vault_table *t, void **key,
		     size_t *key_len)
{
	unsigned int bits = key_bits_for(o, t);

	*key_len = bits / 8;
	return tempkey_read(o, bits, key);
}

/* Resume and resize of a LUKS2 mapping: its header, not --key-size, says the size. */
static int refuse_key_size(const struct vault_opts *o)
{
	if (!(o->set & OPTB(OPT_KEY_SIZE)))
		return 0;
	log_err("--key-size is for plain mode: a LUKS2 header knows its key size");
	return -EINVAL;
}

int cmd_resume(const struct vault_opts *o, int argc, char **argv)
{
	const char *name = argv[0];
	char msg[32 + VAULT_KEY_NAME_MAX], path[300];
	struct tempkey tk = { .fd = -1 };
	struct vault_dev d;
	uint64_t sectors;
	size_t key_len;
	void *key = NULL;
	int r;

	(void)argc;
	r = get_vault(name, &d);
	if (r)
		return r;
	if (!d.info.suspended) {
		log_err("device %s is not suspended", name);
		return -EINVAL;
	}
	if (is_luks2_uuid(d.info.uuid)) {
		/* The passphrase unlocks the volume key again from the header. */
		r = refuse_key_size(o);
		if (r)
			return r;
		if (table_device_size(&d.t, &sectors, path, sizeof(path))) {
			log_err("cannot find %s's device %s", name, d.t.device);
			return -ENODEV;
		}
		r = luks_resume_key(o, path, d.info.uuid, &key, &key_len);
		if (r)
			return r;
		secure_lock_all();	/* after the KDF, as open does */
	} else {
		if (!o->key_file) {
			log_err("'resume' of a plain device needs option --key-file");
			return -EINVAL;
		}
		if (o->set & (OPTB(OPT_TRIES) | OPTB(OPT_KEY_SLOT) | OPTB(OPT_KEYFILE_SIZE))) {
			log_err("--tries, --key-slot and --keyfile-size are for LUKS2 devices");
			return -EINVAL;
		}
		r = plain_key(o, &d.t, &key, &key_len);
		if (r)
			return r;
	}
	r = tempkey_load(&tk, name, key, key_len);
	if (r)
		goto out;
	snprintf(msg, sizeof(msg), "key set key:%s", tk.name);	/* no-i18n: a dm message */
	r = vdm_message(name, msg);
	if (r) {
		log_err("cannot set the key of %s: %s", name, strerror(-r));
		goto out;
	}
	r = vdm_resume(name);
	if (r) {
		log_err("cannot resume device %s: %s", name, strerror(-r));
		goto out;
	}
	log_verbose("Device %s is resumed.", name);
out:
	tempkey_unload(&tk);
	secure_free(key);
	return r;
}

/*
 * The key for a new table of NAME: a LUKS2 mapping's volume key is not
 * readable back from the kernel, so it is unlocked again from the header
 * (tokens, then the passphrase: cryptsetup does the same when the key is
 * in the kernel keyring); a plain mapping's comes from --key-file.
 */
static int resize_key(const struct vault_opts *o, const struct vault_dev *d,
		      const char *path, void **key, size_t *key_len)
{
	int r;

	if (is_luks2_uuid(d->info.uuid)) {
		r = refuse_key_size(o);
		if (r)
			return r;
		r = luks_mapping_key(o, path, d->info.uuid, key, key_len);
		if (!r)
			secure_lock_all();	/* after the KDF, as open does */
		return r;
	}
	if (!o->key_file) {
		log_err("'resize' of a plain device needs option --key-file");
		return -EINVAL;
	}
	if (o->set & (OPTB(OPT_TRIES) | OPTB(OPT_KEY_SLOT) | OPTB(OPT_KEYFILE_SIZE) |
		      OPTB(OPT_TOKEN_ID) | OPTB(OPT_TOKEN_TYPE) | OPTB(OPT_TOKEN_ONLY) |
		      OPTB(OPT_TOKEN_PIN_AGENT) | OPTB(OPT_DISABLE_TOKENS) |
		      OPTB(OPT_TPM2_DEVICE))) {
		log_err("--tries, --key-slot, --keyfile-size and the token options are for LUKS2 devices");
		return -EINVAL;
	}
	return plain_key(o, &d->t, key, key_len);
}

int cmd_resize(const struct vault_opts *o, int argc, char **argv)
{
	const char *name = argv[0];
	char params[TABLE_PARAMS_MAX], line[TABLE_PARAMS_MAX + 64], path[300];
	struct tempkey tk = { .fd = -1 };
	struct vault_dev d;
	uint64_t dev_sectors, size;
	size_t key_len = 0;
	void *key = NULL;
	int r;

	(void)argc;
	if ((o->set & OPTB(OPT_SIZE)) && (o->set & OPTB(OPT_DEVICE_SIZE))) {
		log_err("--size and --device-size cannot be combined: both give the new size");
		return -EINVAL;
	}
	r = get_vault(name, &d);
	if (r)
		return r;
	if (d.info.suspended) {
		log_err("device %s is suspended; resume it first", name);
		return -EBUSY;
	}
	r = table_device_size(&d.t, &dev_sectors, path, sizeof(path));
	if (r) {
		log_err("cannot find the size of %s's device %s", name, d.t.device);
		return -ENODEV;
	}
	/* before any passphrase: a size that cannot be is refused first */
	r = table_mapping_size(path, dev_sectors, d.t.offset,
			       o->device_size ? o->device_size : o->size, d.t.sector_size, &size);
	if (r)
		return r;

	r = resize_key(o, &d, path, &key, &key_len);
	if (r)
		goto out;
	r = tempkey_load(&tk, name, key, key_len);
	if (r)
		goto out;
	r = table_build_params(&d.t, tk.name, params, sizeof(params));
	if (r) {
		log_err("cannot build the table line: %s", strerror(-r));
		goto out;
	}
	if (!table_format_line(0, size, params, line, sizeof(line)))
		log_dbg("table: %s", line);
	r = vdm_reload(name, size, VAULT_TARGET, params, d.info.read_only);
	if (r) {
		log_err("cannot load the new table of %s: %s", name, strerror(-r));
		goto out;
	}
	r = vdm_resume(name);
	if (r) {
		log_err("cannot resume %s with its new size: %s", name, strerror(-r));
		if (vdm_clear(name))
			log_err("cannot drop the inactive table of %s", name);
		goto out;
	}
	log_verbose("Device %s now has %" PRIu64 " sectors (was %" PRIu64 ").", name, size, d.len);
out:
	tempkey_unload(&tk);
	secure_free(key);
	return r;
}
