// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-vault: the "vault" target: table parsing, status, messages, limits.
 *
 * <cipher> <key> <iv_offset> <device> <offset> [<#opt> <opt>...]
 *
 * The key is "key:<name>", loaded beforehand through /dev/vault-control.
 * Its bytes go straight into the cipher; the target keeps no copy.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "dm-vault-core.h"

#define VAULT_NR_FIXED_ARGS	5

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

/*
 * Program the cipher with the key named in vc->key_name (at table
 * construction). The material passes through a stack buffer that is wiped
 * before returning.
 */
static int vault_load_key(struct vault_c *vc, char **error)
{
	u8 material[VAULT_KEY_SIZE_MAX];
	unsigned int size;
	int r;

	r = vault_fetch_key(vc->key_name, material, &size, NULL, error);
	if (!r)
		r = vault_program_key(vc, &vc->cipher, material, size, error);
	if (!r)
		vc->key_size = size;
	memzero_explicit(material, sizeof(material));
	return r;
}

/*
 * Replace the key schedules (both while re-encrypting) with random keys,
 * then forget them. If a cipher refuses, its old schedule may remain: say
 * so, and stay unusable.
 */
static int vault_wipe_key(struct vault_c *vc)
{
	int r;

	clear_bit(VAULT_F_KEY_VALID, &vc->flags);
	clear_bit(VAULT_F_KEY_WIPED, &vc->flags);
	r = vault_wipe_cipher(&vc->cipher, vc->key_size);
	/* Wipe the new key even if the old one's wipe failed. */
	if (vc->re) {
		int r2 = vault_wipe_cipher(&vc->re->cipher, vc->re->key_size);

		r = r ?: r2;
	}
	if (r) {
		DMERR("key wipe failed (%d): the old key schedule may remain; remove the device",
		      r);
		return r;
	}
	set_bit(VAULT_F_KEY_WIPED, &vc->flags);
	return 0;
}

static bool vault_sector_size_valid(const char *val, unsigned int *ss)
{
	return !kstrtouint(val, 10, ss) && *ss >= SECTOR_SIZE && *ss <= 4096 &&
	       is_power_of_2(*ss);
}

static int vault_parse_sector_size(struct vault_c *vc, const char *val,
				   char **error)
{
	unsigned int ss;

	if (!vault_sector_size_valid(val, &ss)) {
		*error = "Invalid sector_size: a power of two from 512 to 4096";
		return -EINVAL;
	}
	vc->sector_size = ss;
	vc->sector_shift = __ffs(ss) - SECTOR_SHIFT;
	return 0;
}

/* The new side's sector size while re-encrypting (checked by reenc_init). */
static int vault_parse_new_sector_size(struct vault_c *vc, const char *val,
				       char **error)
{
	unsigned int ss;

	if (vc->new_sector_size) {
		*error = "new_sector_size given twice";
		return -EINVAL;
	}
	if (!vault_sector_size_valid(val, &ss)) {
		*error = "Invalid new_sector_size: a power of two from 512 to 4096";
		return -EINVAL;
	}
	vc->new_sector_size = ss;
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

		if (!strcmp(opt, "reencrypt")) {
			/* reencrypt <new_cipher> <new_key> <boundary> */
			if (vault_reenc_parse(vc, argc - i - 1, argv + i + 1,
					      error))
				return -EINVAL;
			i += 3;
			continue;
		}
		if (strstarts(opt, "new_sector_size:")) {
			const char *val = opt + strlen("new_sector_size:");

			if (vault_parse_new_sector_size(vc, val, error))
				return -EINVAL;
			continue;
		}
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
	if (vc->new_sector_size && !vc->re) {
		*error = "new_sector_size is valid only with reencrypt";
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

	vc->block_size = max(vc->sector_size, vc->new_sector_size);
	vc->read_only = !(dm_table_get_mode(ti->table) &
			  VAULT_TABLE_MODE_WRITE);

	r = -EINVAL;
	if (ti->len & ((vc->sector_size >> SECTOR_SHIFT) - 1)) {
		ti->error = "Device length is not a multiple of sector_size";
		goto bad;
	}
	if (ti->len & ((vc->block_size >> SECTOR_SHIFT) - 1)) {
		ti->error = "Device length is not a multiple of new_sector_size";
		goto bad;
	}

	r = vault_parse_key_ref(vc->key_name, argv[1], &ti->error);
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
	vc->cipher.sector_size = vc->sector_size;
	vc->cipher.sector_shift = vc->sector_shift;

	r = vault_load_key(vc, &ti->error);
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

	if (vc->re) {
		r = vault_reenc_init(vc, ti, &ti->error);
		if (r)
			goto bad;
	}
	set_bit(VAULT_F_KEY_VALID, &vc->flags);

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
	vault_reenc_destroy(vc);
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

	/* "reencrypt <new_cipher> <new_key> <boundary>" counts four words */
	n += (vc->sector_size != SECTOR_SIZE) + (vc->re ? 4 : 0);
	if (vc->re && vc->re->cipher.sector_size != vc->sector_size)
		n++;	/* new_sector_size: */
	return n;
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
		if (vc->re)
			sz = vault_reenc_info(vc, result, maxlen, sz);
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
		if (vc->re)
			sz = vault_reenc_table(vc, result, maxlen, sz);
		break;
	case STATUSTYPE_IMA:
		DMEMIT("vault,cipher=%s,key_valid=%c,sector_size=%u",
		       vc->cipher_spec,
		       test_bit(VAULT_F_KEY_VALID, &vc->flags) ? 'y' : 'n',
		       vc->sector_size);
		if (vc->re)
			DMEMIT(",new_cipher=%s,new_sector_size=%u",
			       vc->re->cipher_spec, vc->re->cipher.sector_size);
		DMEMIT(";");
		break;
	}
}

/*
 * "key set key:<name>", or while re-encrypting "key set key:<old>
 * key:<new>". A reference that is malformed, names no loaded key or a key
 * of another size leaves everything as it was; a key the cipher refuses
 * leaves the names as they were and the key state invalid.
 */
static int vault_msg_key_set(struct vault_c *vc, unsigned int nr_refs,
			     char **refs)
{
	u8 material[2][VAULT_KEY_SIZE_MAX];
	char names[2][VAULT_KEY_NAME_MAX];
	unsigned int sizes[2];
	struct vault_cipher *ciphers[2] = { &vc->cipher, NULL };
	const unsigned int *want[2] = { &vc->key_size, NULL };
	char *error = NULL;
	unsigned int i;
	int r = 0;

	if (nr_refs != (vc->re ? 2 : 1)) {
		DMWARN("key set: %s", vc->re ?
		       "a re-encrypting table takes two keys: key set key:<old> key:<new>" :
		       "expected one key: key set key:<name>");
		return -EINVAL;
	}
	if (vc->re) {
		ciphers[1] = &vc->re->cipher;
		want[1] = &vc->re->key_size;
	}
	for (i = 0; i < nr_refs && !r; i++) {
		r = vault_parse_key_ref(names[i], refs[i], &error);
		if (!r)
			r = vault_fetch_key(names[i], material[i], &sizes[i],
					    want[i], &error);
	}
	if (r) {
		/* Nothing programmed: everything stays as it was. */
		memzero_explicit(material, sizeof(material));
		DMWARN("key set failed: %s", error);
		return r;
	}
	for (i = 0; i < nr_refs && !r; i++)
		r = vault_program_key(vc, ciphers[i], material[i], sizes[i],
				      &error);
	memzero_explicit(material, sizeof(material));
	if (r) {
		DMWARN("key set failed: %s", error);
		return r;
	}
	memcpy(vc->key_name, names[0], sizeof(names[0]));
	if (vc->re)
		memcpy(vc->re->key_name, names[1], sizeof(names[1]));
	clear_bit(VAULT_F_KEY_WIPED, &vc->flags);
	set_bit(VAULT_F_KEY_VALID, &vc->flags);
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

/*
 * "key wipe" and "key set key:<name>...", accepted only while suspended;
 * "reencrypt ..." (dm-vault-reencrypt.c), while running.
 */
static int vault_message(struct dm_target *ti, unsigned int argc, char **argv,
			 char *result, unsigned int maxlen)
{
	struct vault_c *vc = ti->private;
	bool wipe, set;
	int r;

	if (argc >= 1 && !strcasecmp(argv[0], "reencrypt"))
		return vault_reenc_message(vc, argc - 1, argv + 1, result,
					   maxlen);
	wipe = argc == 2 && !strcasecmp(argv[0], "key") &&
	       !strcasecmp(argv[1], "wipe");
	set = (argc == 3 || argc == 4) && !strcasecmp(argv[0], "key") &&
	      !strcasecmp(argv[1], "set");
	if (!wipe && !set) {
		DMWARN("unrecognised message: expected key wipe|set or reencrypt");
		return -EINVAL;
	}

	mutex_lock(&vc->state_lock);
	r = vault_msg_key_allowed(vc);
	if (!r)
		r = wipe ? vault_wipe_key(vc) :
			   vault_msg_key_set(vc, argc - 2, argv + 2);
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

	/* While re-encrypting, a block must be whole on either side. */
	limits->logical_block_size = max_t(unsigned int,
					   limits->logical_block_size,
					   vc->block_size);
	limits->physical_block_size = max_t(unsigned int,
					    limits->physical_block_size,
					    vc->block_size);
	limits->io_min = max_t(unsigned int, limits->io_min, vc->block_size);
	/* Each encryption sector must lie inside one page of the bio. */
	limits->dma_alignment = limits->logical_block_size - 1;
}

static struct target_type vault_target = {
	.name = "vault",
	.version = { 1, 4, 0 },
	/*
	 * map() never sleeps (work that would is queued), so a REQ_NOWAIT
	 * bio (io_uring's first try) is mapped inline instead of being
	 * handed to an io-wq thread, as for dm-linear.
	 */
	.features = DM_TARGET_NOWAIT,
	.module = THIS_MODULE,
	.ctr = vault_ctr,
	.dtr = vault_dtr,
	.map = vault_io_map,
	.end_io = vault_io_end_io,
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
