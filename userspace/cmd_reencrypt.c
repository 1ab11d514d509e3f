// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: "reencrypt --init-only DEVICE": starts a re-encryption with a
 * new volume key by writing the metadata cryptsetup reencrypt --init-only
 * writes (luks2/reencrypt_init.c).  No data moves; cryptsetup reencrypt
 * --resume-only finishes the job (offline, or online on a dm-crypt
 * mapping).  Moving the data in dm-vault itself is the kernel side of
 * issue 14, not built yet: without --init-only the command says so.
 */
#include <errno.h>
#include <string.h>

#include "luks.h"
#include "secure_mem.h"
#include "util.h"

int cmd_reencrypt(const struct vault_opts *o, int argc, char **argv)
{
	const char *device = argv[0];
	struct luks2_reencrypt_params rp = { 0 };
	struct passphrase kept = { 0 };
	struct luks2 *l;
	size_t vk_len = 0;
	void *vk = NULL;
	int r;

	(void)argc;
	if (!o->init_only) {
		log_err("moving the data needs dm-vault's re-encryption, which is not built yet: "
			"run 'vaultctl reencrypt --init-only %s', then 'cryptsetup reencrypt "
			"--resume-only %s'", device, device);
		return -EINVAL;
	}
	r = luks_load(device, true, &l);
	if (r)
		return r;
	r = luks_unlock(o, l, device, -1, &vk, &vk_len, &kept);
	if (r < 0)
		goto out;
	rp.resilience = o->resilience;
	luks_pbkdf(o, &rp.pbkdf);
	/* the same passphrase protects the new key, as cryptsetup does */
	r = luks2_reencrypt_init(l, vk, vk_len, kept.buf, kept.len, &rp);
	if (r < 0) {
		log_err("cannot start the reencryption of %s: %s", device, luks2_error(l));
		r = r == -ENOMEM || r == -ESTALE ? r : -EINVAL;
		goto out;
	}
	log_verbose("Reencryption of %s initialized: new volume key in keyslot %d; "
		    "finish it with 'cryptsetup reencrypt --resume-only %s'.", device, r, device);
	r = 0;
out:
	pass_free(&kept);
	secure_free(vk);	/* wipes */
	luks2_free(l);
	return r;
}
