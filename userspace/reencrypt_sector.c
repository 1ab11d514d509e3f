// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl reencrypt --sector-size: whether a larger encryption sector size
 * is safe for what uses the volume.  The mapping's logical block size
 * becomes the new sector size (already during the job: dm-vault's
 * new_sector_size word takes the larger of the two), and a filesystem
 * with smaller blocks then has its I/O refused.  cryptsetup 2.6's rules
 * (src/utils_reencrypt.c): online, the filesystem on the active mapping
 * must have blocks at least that large; offline, nothing can be seen
 * through the ciphertext, so an increase is refused.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <blkid/blkid.h>

#include "reencrypt_job.h"
#include "util.h"

/*
 * The block size of the filesystem (or other superblock) on DEVICE: 1 with
 * TYPE and *BS filled, 0 when there is none or it has no block size.
 */
static int superblock_block_size(const char *device, char *type, size_t len, unsigned int *bs)
{
	const char *t = NULL, *b = NULL;
	blkid_probe pr;
	int r = 0;

	pr = blkid_new_probe_from_filename(device);
	if (!pr) {
		log_err("cannot probe %s for a filesystem", device);
		return -EINVAL;
	}
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE);
	blkid_probe_enable_partitions(pr, 0);
	if (blkid_do_safeprobe(pr) == 0 && !blkid_probe_lookup_value(pr, "TYPE", &t, NULL) &&
	    !blkid_probe_lookup_value(pr, "BLOCK_SIZE", &b, NULL)) {
		snprintf(type, len, "%s", t);
		*bs = (unsigned int)strtoul(b, NULL, 10);
		r = *bs ? 1 : 0;
	}
	blkid_free_probe(pr);
	return r;
}

int reenc_check_sector_size(const struct reenc_target *tg, uint32_t old_ss, uint32_t new_ss)
{
	char path[300], type[64];
	unsigned int bs = 0;
	int r;

	if (new_ss <= old_ss)
		return 0;	/* the logical block size does not grow */
	if (!tg->online) {
		log_err("Encryption sector size increase on offline device is not supported: open "
			"it first (vaultctl open) and re-encrypt it online, where the block size of "
			"its filesystem is checked");
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "/dev/mapper/%s", tg->name);
	r = superblock_block_size(path, type, sizeof(type), &bs);
	if (r < 0)
		return r;
	if (r && new_ss > bs) {
		log_err("Requested --sector-size %u is incompatible with %s superblock (block size: "
			"%u bytes) detected on device %s", new_ss, type, bs, path);
		return -EINVAL;
	}
	if (r)
		log_verbose("%s on %s has %u-byte blocks: --sector-size %u is safe for it.", type,
			    path, bs, new_ss);
	return 0;
}
