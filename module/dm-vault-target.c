// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-vault: the "vault" target: table parsing, status, messages, limits.
 *
 * <cipher> <key> <iv_offset> <device> <offset> [<#opt> <opt>...]
 *
 * The key is "key:<name>", loaded beforehand through /dev/vault-control.
 * Its bytes go straight into the cipher; the target keeps no copy.
 */
#include <linux/ctype.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "dm-vault-core.h"

#define VAULT_NR_FIXED_ARGS	5

#define VAULT_ERR_KEY_ON_LINE \
	"Keys are not accepted on the table line: load the key through " \
	"/dev/vault-control (vaultctl key add) and pass key:<name>"
#define VAULT_ERR_NR_ARGS \
	"Not enough arguments: <cipher> <key> <iv_offset> <device> " \
	"<offset> [<#opt> <opt>...]"
#define VAULT_ERR_RESUMING \
	"key message refused: a resume began (it may have failed in " \
	"another target of the table); resume the device, suspend it again"
#define VAULT_ERR_IV_OFFSET \
	"Invalid iv_offset: a number of 512-byte sectors, a multiple of " \
	"sector_size"

static void vault_dtr(struct dm_target *ti);

/* A hex string that looks like key bytes pasted on the table line. */
static bool vault_looks_like_hex_key(const char *s)
{
	size_t len = strlen(s);

	if (len < 2 || len % 2)
		return false;
	while (*s)
		if (!isxdigit(*s++))
			return false;
	return true;
}

/* Validate a key reference and store its name ("" for the empty key). */
static int vault_parse_key_ref(struct vault_c *vc, const char *ref,
			       char **error)
{
	const char *name;

	if (!strcmp(ref, VAULT_KEY_REF_EMPTY)) {
		vc->key_name[0] = '\0';
		return 0;
	}
	if (!strstarts(ref, VAULT_KEY_REF_PREFIX)) {
		if (vault_looks_like_hex_key(ref))
			*error = VAULT_ERR_KEY_ON_LINE;
		else
			*error = "Invalid key reference: expected key:<name>";
		return -EINVAL;
	}
	name = ref + strlen(VAULT_KEY_REF_PREFIX);
	if (!vault_key_name_valid(name)) {
		*error = "Invalid key name: 1-63 characters of [A-Za-z0-9._:-]";
		return -EINVAL;
	}
	strscpy(vc->key_name, name, sizeof(vc->key_name));
	return 0;
}

/*
 * Program the cipher with the key named in vc->key_name; with @same_size,
 * only a key of the size the table was built with ("key set"). The
 * material passes through a stack buffer that is wiped before returning.
 */
static int vault_load_key(struct vault_c *vc, bool same_size, char **error)
{
	u8 material[VAULT_KEY_SIZE_MAX];
	unsigned int size = 0;
	int r = 0;

	if (vc->key_name[0]) {
		r = vault_key_fetch(vc->key_name, material, &size);
		if (r) {
			*error = "Key not found: load it through /dev/vault-control first";
			goto out;
		}
	}
	if (same_size && size != vc->key_size) {
		DMERR("key set: %s%s is %u bytes, the table's key is %u bytes: refused",
		      vc->key_name[0] ? VAULT_KEY_REF_PREFIX : VAULT_KEY_REF_EMPTY,
		      vc->key_name, size, vc->key_size);
		*error = "Key size differs from the table's";
		r = -EINVAL;
		goto out;
	}
	r = crypto_skcipher_setkey(vc->cipher.tfm, material, size);
	if (r) {
		/* The cipher may hold part of the new key: not usable. */
		clear_bit(VAULT_F_KEY_VALID, &vc->flags);
		clear_bit(VAULT_F_KEY_WIPED, &vc->flags);
		*error = "Key does not fit the cipher (wrong key size?)";
		goto out;
	}
	vc->key_size = size;
	clear_bit(VAULT_F_KEY_WIPED, &vc->flags);
	set_bit(VAULT_F_KEY_VALID, &vc->flags);
out:
	memzero_explicit(material, sizeof(material));
	return r;
}

/*
 * Replace the key schedule with a random key, then forget it. If the
 * cipher refuses, the old schedule may remain: say so, and stay unusable.
 */
static int vault_wipe_key(struct vault_c *vc)
{
	u8 material[VAULT_KEY_SIZE_MAX];
	int r;

	clear_bit(VAULT_F_KEY_VALID, &vc->flags);
	clear_bit(VAULT_F_KEY_WIPED, &vc->flags);
	get_random_bytes(material, vc->key_size);
	r = crypto_skcipher_setkey(vc->cipher.tfm, material, vc->key_size);
	memzero_explicit(material, sizeof(material));
	if (r) {
		DMERR("key wipe failed (%d): the old key schedule may remain; remove the device",
		      r);
		return r;
	}
	set_bit(VAULT_F_KEY_WIPED, &vc->flags);
	return 0;
}

static int vault_parse_sector_size(struct vault_c *vc, const char *val,
				   char **error)
{
	unsigned int ss;

	if (kstrtouint(val, 10, &ss) || ss < SECTOR_SIZE || ss > 4096 ||
	    !is_power_of_2(ss)) {
		*error = "Invalid sector_size: a power of two from 512 to 4096";
		return -EINVAL;
	}
	vc->sector_size = ss;
	vc->sector_shift = __ffs(ss) - SECTOR_SHIFT;
	return 0;
}

static int vault_parse_options(struct vault_c *vc, unsigned int argc,
			       char **argv, char **error)
{
	static const struct {
		const char *name;
		enum vault_flags flag;
	} flags[] = {
		{ "allow_discards", VAULT_F_ALLOW_DISCARDS },
		{ "same_cpu_crypt", VAULT_F_SAME_CPU_CRYPT },
		{ "no_read_workqueue", VAULT_F_NO_READ_WQ },
		{ "no_write_workqueue", VAULT_F_NO_WRITE_WQ },
		{ "read_workqueue", VAULT_F_READ_WQ },
		{ "write_workqueue", VAULT_F_WRITE_WQ },
		{ "iv_large_sectors", VAULT_F_IV_LARGE_SECTORS },
	};
	unsigned int count, i, j;

	if (!argc)
		return 0;
	if (kstrtouint(argv[0], 10, &count)) {
		*error = "Invalid number of optional arguments";
		return -EINVAL;
	}
	if (count != argc - 1) {
		*error = count > argc - 1 ?
			"Fewer optional arguments than their count says" :
			"More arguments than the optional-argument count says";
		return -EINVAL;
	}
	for (i = 1; i < argc; i++) {
		const char *opt = argv[i];

		if (strstarts(opt, "sector_size:")) {
			if (vault_parse_sector_size(vc, opt + strlen("sector_size:"),
						    error))
				return -EINVAL;
			continue;
		}
		for (j = 0; j < ARRAY_SIZE(flags); j++)
			if (!strcmp(opt, flags[j].name))
				break;
		if (j == ARRAY_SIZE(flags)) {
			*error = "Unknown optional argument";
			return -EINVAL;
		}
		set_bit(flags[j].flag, &vc->flags);
	}
	if ((test_bit(VAULT_F_READ_WQ, &vc->flags) &&
	     test_bit(VAULT_F_NO_READ_WQ, &vc->flags)) ||
	    (test_bit(VAULT_F_WRITE_WQ, &vc->flags) &&
	     test_bit(VAULT_F_NO_WRITE_WQ, &vc->flags))) {
		*error = "Conflicting options: [no_]read/write_workqueue";
		return -EINVAL;
	}
	if (test_bit(VAULT_F_IV_LARGE_SECTORS, &vc->flags) &&
	    vc->sector_size == SECTOR_SIZE) {
		*error = "iv_large_sectors needs a sector_size above 512";
		return -EINVAL;
	}
	return 0;
}

static int vault_parse_u64(const char *s, u64 *v)
{
	return kstrtou64(s, 10, v);
}

static int vault_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct vault_c *vc;
	u64 value;
	int r;

	if (argc < VAULT_NR_FIXED_ARGS) {
		ti->error = VAULT_ERR_NR_ARGS;
		return -EINVAL;
	}

	vc = kzalloc(sizeof(*vc), GFP_KERNEL);
	if (!vc) {
		ti->error = "Cannot allocate the vault context";
		return -ENOMEM;
	}
	ti->private = vc;
	vc->sector_size = SECTOR_SIZE;
	mutex_init(&vc->state_lock);
	vc->state = VAULT_SUSPENDED;	/* nothing mapped before the first resume */

	r = vault_parse_options(vc, argc - VAULT_NR_FIXED_ARGS,
				argv + VAULT_NR_FIXED_ARGS, &ti->error);
	if (r)
		goto bad;

	r = -EINVAL;
	if (ti->len & ((vc->sector_size >> SECTOR_SHIFT) - 1)) {
		ti->error = "Device length is not a multiple of sector_size";
		goto bad;
	}

	r = vault_parse_key_ref(vc, argv[1], &ti->error);
	if (r)
		goto bad;

	vc->cipher_spec = kstrdup(argv[0], GFP_KERNEL);
	if (!vc->cipher_spec) {
		ti->error = "Cannot allocate cipher strings";
		r = -ENOMEM;
		goto bad;
	}
	r = vault_cipher_init(&vc->cipher, argv[0], &ti->error);
	if (r)
		goto bad;

	r = vault_load_key(vc, false, &ti->error);
	if (r)
		goto bad;

	r = -EINVAL;
	if (vault_parse_u64(argv[2], &value) ||
	    (value & ((vc->sector_size >> SECTOR_SHIFT) - 1))) {
		ti->error = VAULT_ERR_IV_OFFSET;
		goto bad;
	}
	vc->iv_offset = value;

	r = dm_get_device(ti, argv[3], dm_table_get_mode(ti->table), &vc->dev);
	if (r) {
		ti->error = "Device lookup failed";
		goto bad;
	}

	r = -EINVAL;
	if (vault_parse_u64(argv[4], &value) || value != (sector_t)value) {
		ti->error = "Invalid device offset: a number of 512-byte sectors";
		goto bad;
	}
	vc->start = value;
	if (vc->start + ti->len < vc->start ||
	    vc->start + ti->len > bdev_nr_sectors(vc->dev->bdev)) {
		ti->error = "Device is too small for the offset and length";
		goto bad;
	}

	ti->per_io_data_size = vault_io_size(vc);
	r = vault_io_init(vc, dm_table_device_name(ti->table));
	if (r) {
		ti->error = "Cannot allocate I/O resources";
		goto bad;
	}

	ti->num_flush_bios = 1;
	if (test_bit(VAULT_F_ALLOW_DISCARDS, &vc->flags))
		ti->num_discard_bios = 1;
	ti->limit_swap_bios = true;
	ti->accounts_remapped_io = true;
	return 0;

bad:
	vault_dtr(ti);
	return r;
}

static void vault_dtr(struct dm_target *ti)
{
	struct vault_c *vc = ti->private;

	if (!vc)
		return;
	vault_io_destroy(vc);
	vault_cipher_destroy(&vc->cipher);
	if (vc->dev)
		dm_put_device(ti, vc->dev);
	kfree(vc->cipher_spec);
	mutex_destroy(&vc->state_lock);
	kfree(vc);
	ti->private = NULL;
}

static unsigned int vault_count_options(struct vault_c *vc)
{
	unsigned int n = hweight_long(vc->flags & (BIT(VAULT_F_ALLOW_DISCARDS) |
						   BIT(VAULT_F_SAME_CPU_CRYPT) |
						   BIT(VAULT_F_NO_READ_WQ) |
						   BIT(VAULT_F_NO_WRITE_WQ) |
						   BIT(VAULT_F_READ_WQ) |
						   BIT(VAULT_F_WRITE_WQ) |
						   BIT(VAULT_F_IV_LARGE_SECTORS)));

	return n + (vc->sector_size != SECTOR_SIZE);
}

static void vault_status(struct dm_target *ti, status_type_t type,
			 unsigned int status_flags, char *result,
			 unsigned int maxlen)
{
	struct vault_c *vc = ti->private;
	unsigned int sz = 0, nr_opts;

	switch (type) {
	case STATUSTYPE_INFO:
		if (test_bit(VAULT_F_KEY_VALID, &vc->flags))
			DMEMIT("key_valid");
		else if (test_bit(VAULT_F_KEY_WIPED, &vc->flags))
			DMEMIT("key_wiped");
		else
			DMEMIT("key_invalid");
		break;
	case STATUSTYPE_TABLE:
		DMEMIT("%s ", vc->cipher_spec);
		if (vc->key_name[0])
			DMEMIT(VAULT_KEY_REF_PREFIX "%s", vc->key_name);
		else
			DMEMIT(VAULT_KEY_REF_EMPTY);
		DMEMIT(" %llu %s %llu", (unsigned long long)vc->iv_offset,
		       vc->dev->name, (unsigned long long)vc->start);
		nr_opts = vault_count_options(vc);
		if (!nr_opts)
			break;
		DMEMIT(" %u", nr_opts);
		if (test_bit(VAULT_F_ALLOW_DISCARDS, &vc->flags))
			DMEMIT(" allow_discards");
		if (test_bit(VAULT_F_SAME_CPU_CRYPT, &vc->flags))
			DMEMIT(" same_cpu_crypt");
		if (test_bit(VAULT_F_NO_READ_WQ, &vc->flags))
			DMEMIT(" no_read_workqueue");
		if (test_bit(VAULT_F_NO_WRITE_WQ, &vc->flags))
			DMEMIT(" no_write_workqueue");
		if (test_bit(VAULT_F_READ_WQ, &vc->flags))
			DMEMIT(" read_workqueue");
		if (test_bit(VAULT_F_WRITE_WQ, &vc->flags))
			DMEMIT(" write_workqueue");
		if (vc->sector_size != SECTOR_SIZE)
			DMEMIT(" sector_size:%u", vc->sector_size);
		if (test_bit(VAULT_F_IV_LARGE_SECTORS, &vc->flags))
			DMEMIT(" iv_large_sectors");
		break;
	case STATUSTYPE_IMA:
		DMEMIT("vault,cipher=%s,key_valid=%c,sector_size=%u;",
		       vc->cipher_spec,
		       test_bit(VAULT_F_KEY_VALID, &vc->flags) ? 'y' : 'n',
		       vc->sector_size);
		break;
	}
}

static int vault_msg_key_set(struct vault_c *vc, const char *ref)
{
	char old_name[VAULT_KEY_NAME_MAX];
	char *error = NULL;
	int r;

	memcpy(old_name, vc->key_name, sizeof(old_name));
	/* A refused key leaves the current state as it was. */
	r = vault_parse_key_ref(vc, ref, &error);
	if (!r)
		r = vault_load_key(vc, true, &error);
	if (r) {
		memcpy(vc->key_name, old_name, sizeof(old_name));
		DMWARN("key set failed: %s", error);
	}
	return r;
}

/*
 * dm core keeps dm_suspended() true until after I/O restarted on resume,
 * and calls .message without a lock: the target's own state, changed and
 * read under state_lock, is what says that no I/O can be mapped.
 */
static int vault_msg_key_allowed(struct vault_c *vc)
{
	lockdep_assert_held(&vc->state_lock);
	switch (vc->state) {
	case VAULT_SUSPENDED:
		return 0;
	case VAULT_RESUMING:
		DMERR("%s", VAULT_ERR_RESUMING);
		return -EBUSY;
	default:
		DMWARN("key messages are accepted only while the device is suspended");
		return -EINVAL;
	}
}

/* "key wipe" and "key set key:<name>", accepted only while suspended. */
static int vault_message(struct dm_target *ti, unsigned int argc, char **argv,
			 char *result, unsigned int maxlen)
{
	struct vault_c *vc = ti->private;
	bool wipe, set;
	int r;

	wipe = argc == 2 && !strcasecmp(argv[0], "key") &&
	       !strcasecmp(argv[1], "wipe");
	set = argc == 3 && !strcasecmp(argv[0], "key") &&
	      !strcasecmp(argv[1], "set");
	if (!wipe && !set) {
		DMWARN("unrecognised message: expected \"key wipe\" or \"key set key:<name>\"");
		return -EINVAL;
	}

	mutex_lock(&vc->state_lock);
	r = vault_msg_key_allowed(vc);
	if (!r)
		r = wipe ? vault_wipe_key(vc) : vault_msg_key_set(vc, argv[2]);
	mutex_unlock(&vc->state_lock);
	return r;
}

static void vault_set_state(struct dm_target *ti, enum vault_run_state state)
{
	struct vault_c *vc = ti->private;

	mutex_lock(&vc->state_lock);
	vc->state = state;
	mutex_unlock(&vc->state_lock);
}

/* I/O has drained: from here until a resume begins, keys may change. */
static void vault_postsuspend(struct dm_target *ti)
{
	vault_set_state(ti, VAULT_SUSPENDED);
}

static int vault_preresume(struct dm_target *ti)
{
	struct vault_c *vc = ti->private;
	int r = 0;

	mutex_lock(&vc->state_lock);
	if (test_bit(VAULT_F_KEY_VALID, &vc->flags)) {
		/* The key checked here is the key I/O will use. */
		vc->state = VAULT_RESUMING;
	} else {
		DMERR("aborting resume: the key was wiped; send \"key set key:<name>\" first");
		r = -EAGAIN;
	}
	mutex_unlock(&vc->state_lock);
	return r;
}

static void vault_resume(struct dm_target *ti)
{
	vault_set_state(ti, VAULT_RUNNING);
}

static int vault_iterate_devices(struct dm_target *ti,
				 iterate_devices_callout_fn fn, void *data)
{
	struct vault_c *vc = ti->private;

	return fn(ti, vc->dev, vc->start, ti->len, data);
}

static void vault_io_hints(struct dm_target *ti, struct queue_limits *limits)
{
	struct vault_c *vc = ti->private;

	limits->logical_block_size = max_t(unsigned int,
					   limits->logical_block_size,
					   vc->sector_size);
	limits->physical_block_size = max_t(unsigned int,
					    limits->physical_block_size,
					    vc->sector_size);
	limits->io_min = max_t(unsigned int, limits->io_min, vc->sector_size);
	/* Each encryption sector must lie inside one page of the bio. */
	limits->dma_alignment = limits->logical_block_size - 1;
}

static struct target_type vault_target = {
	.name = "vault",
	.version = { 1, 0, 0 },
	.module = THIS_MODULE,
	.ctr = vault_ctr,
	.dtr = vault_dtr,
	.map = vault_io_map,
	.status = vault_status,
	.message = vault_message,
	.postsuspend = vault_postsuspend,
	.preresume = vault_preresume,
	.resume = vault_resume,
	.iterate_devices = vault_iterate_devices,
	.io_hints = vault_io_hints,
};

int vault_register_target(void)
{
	return dm_register_target(&vault_target);
}

void vault_unregister_target(void)
{
	dm_unregister_target(&vault_target);
}
