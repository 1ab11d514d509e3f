// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl reencrypt [--init-only | --resume-only] DEVICE|NAME
 *
 *   --init-only   writes the metadata cryptsetup reencrypt --init-only
 *                 writes (luks2/reencrypt_init.c): a new volume key, no data
 *                 moved;
 *   (default)     the same, then moves the data (reencrypt_job.c): online
 *                 through the open mapping, offline through a private one;
 *                 a volume already in re-encryption is resumed;
 *   --resume-only finishes an interrupted job, vaultctl's or cryptsetup's,
 *                 after authenticating its metadata (CVE-2021-4122).
 *   --cipher, --key-size, --sector-size: the new segment's, as cryptsetup's
 *                 (a larger sector size is checked first: sector_safe()).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "luks.h"
#include "reencrypt_job.h"
#include "secure_mem.h"
#include "util.h"

/* The new segment's parameters from the options (0 / NULL: keep). */
static void new_params(const struct vault_opts *o, struct luks2_reencrypt_params *rp)
{
	rp->resilience = o->resilience;
	rp->cipher = o->cipher;
	rp->key_size = o->key_bits / 8;
	rp->sector_size = o->set & OPTB(OPT_SECTOR_SIZE) ? o->sector_size : 0;
	luks_pbkdf(o, &rp->pbkdf);
}

/*
 * --sector-size larger than the volume's: refused offline, and online over
 * a filesystem with smaller blocks (reenc_check_sector_size).  TG NULL:
 * find out whether DEVICE is open (--init-only takes a device).
 */
static int sector_safe(const struct vault_opts *o, struct luks2 *l, const char *device,
		       const struct reenc_target *tg)
{
	struct luks2_segment seg;
	struct reenc_target found;
	struct stat st;
	int r;

	if (!(o->set & OPTB(OPT_SECTOR_SIZE)) || luks2_get_segment(l, &seg) ||
	    o->sector_size <= seg.sector_size)
		return 0;	/* luks2_reencrypt_init() reports a bad layout */
	if (!tg) {
		memset(&found, 0, sizeof(found));
		/* an image file is never open */
		if (!stat(device, &st) && S_ISBLK(st.st_mode)) {
			r = reenc_find_target(device, &found);
			if (r)
				return r;
		}
		tg = &found;
	}
	return reenc_check_sector_size(tg, seg.sector_size, o->sector_size);
}

static int init_only(const struct vault_opts *o, const char *device)
{
	struct luks2_reencrypt_params rp = { 0 };
	struct passphrase kept = { 0 };
	struct luks2 *l;
	size_t vk_len = 0;
	void *vk = NULL;
	int r;

	r = luks_load(device, true, &l);
	if (r)
		return r;
	r = sector_safe(o, l, device, NULL);
	if (r)
		goto out;
	r = luks_unlock(o, l, device, -1, &vk, &vk_len, &kept);
	if (r < 0)
		goto out;
	new_params(o, &rp);
	/* the same passphrase protects the new key, as cryptsetup does */
	r = luks2_reencrypt_init(l, vk, vk_len, kept.buf, kept.len, &rp);
	if (r < 0) {
		log_err("cannot start the reencryption of %s: %s", device, luks2_error(l));
		r = r == -ENOMEM || r == -ESTALE ? r : -EINVAL;
		goto out;
	}
	log_verbose("Reencryption of %s initialized: new volume key in keyslot %d; "
		    "finish it with 'vaultctl reencrypt --resume-only %s' (or cryptsetup's).",
		    device, r, device);
	r = 0;
out:
	pass_free(&kept);
	secure_free(vk);	/* wipes */
	luks2_free(l);
	return r;
}

/* DEVICE's header, read-write, in re-encryption or not. */
static int load_rw(const char *device, struct luks2 **out)
{
	struct luks2 *l = luks2_new();
	int r;

	if (!l)
		return -ENOMEM;
	r = luks2_load(l, device, LUKS2_RDWR | LUKS2_IGNORE_REQUIREMENTS);
	if (r) {
		log_err("%s", luks2_error(l));
		luks2_free(l);
		return r;
	}
	*out = l;
	return 0;
}

/*
 * revoke: PASS must open a keyslot other than REVOKE (whose key leaked);
 * that keyslot is the only one left afterwards, so any other keyslot or
 * token (whose secrets vaultctl does not have) is refused before anything
 * is written; then REVOKE is killed.  Returns the volume key's length.
 */
static int revoke_slot(struct luks2 *l, const char *device, int revoke, const struct passphrase *pass,
		       void *vk, size_t *vk_len)
{
	uint32_t others;
	int kept, r;

	if (!(luks2_keyslots_in_use(l) & (1U << revoke))) {
		log_err("keyslot %d of %s is not in use", revoke, device);
		return -EINVAL;
	}
	kept = luks2_unlock_other(l, revoke, pass->buf, pass->len, vk, LUKS2_VK_MAX, vk_len);
	if (kept < 0) {
		log_err("No key available with this passphrase (it must open a keyslot other than %d).",
			revoke);
		return -EPERM;
	}
	others = luks2_keyslots_in_use(l) & ~(1U << revoke) & ~(1U << kept);
	if (others || luks2_token_count(l)) {
		if (others)
			log_err("%s has other keyslots besides keyslots %d and %d: the new volume key could not be given "
				"to them (their secrets are not known here).  Remove them first (vaultctl "
				"kill-slot, token remove), run revoke, then add them again (add-key, enroll)",
				device, revoke, kept);
		else
			log_err("%s has tokens besides keyslots %d and %d: the new volume key could not be given "
				"to them (their secrets are not known here).  Remove them first (vaultctl "
				"kill-slot, token remove), run revoke, then add them again (add-key, enroll)",
				device, revoke, kept);
		return -EINVAL;
	}
	r = luks2_kill_slot(l, revoke);
	if (r < 0) {
		log_err("cannot remove keyslot %d: %s", revoke, luks2_error(l));
		return r;
	}
	log_verbose("Key slot %d removed; now the volume key changes.", revoke);
	return 0;
}

/*
 * Not in re-encryption yet: the passphrase opens the current key, and the
 * init writes the new one under the same passphrase (kept in KEPT).
 * REVOKE >= 0: keyslot REVOKE goes first (revoke_slot).
 */
static int start(const struct vault_opts *o, const char *device, struct luks2 **l,
		 struct passphrase *kept, int revoke)
{
	struct luks2_reencrypt_params rp = { 0 };
	char prompt[4200];
	size_t vk_len = 0;
	void *vk = NULL;
	int r;

	if (revoke < 0) {
		r = luks_unlock(o, *l, device, -1, &vk, &vk_len, kept);
		if (r < 0)
			return r;
	} else {
		snprintf(prompt, sizeof(prompt), _("Enter a passphrase of %s (not keyslot %d's): "),
			 device, revoke);
		r = pass_read(o->key_file, o->keyfile_offset, o->keyfile_size, prompt, false, kept);
		vk = r ? NULL : secure_alloc(LUKS2_VK_MAX);
		if (!r && !vk)
			r = -ENOMEM;
		if (!r)
			r = revoke_slot(*l, device, revoke, kept, vk, &vk_len);
		if (r) {
			secure_free(vk);
			return r;
		}
	}
	new_params(o, &rp);
	r = luks2_reencrypt_init(*l, vk, vk_len, kept->buf, kept->len, &rp);
	secure_free(vk);
	if (r < 0) {
		log_err("cannot start the reencryption of %s: %s", device, luks2_error(*l));
		return r == -ENOMEM || r == -ESTALE ? r : -EINVAL;
	}
	luks2_free(*l);
	*l = NULL;
	return load_rw(device, l);
}

static int reencrypt(const struct vault_opts *o, const char *arg, int revoke)
{
	unsigned char *vk_old = NULL, *vk_new = NULL;
	struct passphrase pass = { 0 };
	struct luks2_reencrypt st;
	struct luks2_reenc_job j;
	struct reenc_target tg;
	struct luks2 *l = NULL;
	size_t old_len = 0, new_len = 0;
	char prompt[4200];
	int r;

	if (o->resilience && !strcmp(o->resilience, "none")) {
		log_err("--resilience none: vaultctl moves data only with checksum or journal "
			"resilience (none leaves nothing to recover a hotzone from)");
		return -EINVAL;
	}
	r = reenc_find_target(arg, &tg);
	if (r)
		return r;
	r = load_rw(tg.device, &l);
	if (r)
		return r;
	if (tg.online) {
		r = reenc_same_volume(&tg, l);
		if (r)
			goto out;
	}
	r = luks2_reencrypt_status(l, &st);
	if (r != -ENOENT && revoke >= 0) {
		log_err("%s is in re-encryption already: finish it first (--resume-only)", tg.device);
		r = r ? r : -EBUSY;
		goto out;
	}
	if (r == -ENOENT) {
		if (o->resume_only) {
			log_err("%s is not in reencryption: nothing to resume", tg.device);
			r = -EINVAL;
			goto out;
		}
		r = sector_safe(o, l, tg.device, &tg);
		if (!r)
			r = start(o, tg.device, &l, &pass, revoke);
		if (r)
			goto out;
	} else if (r) {
		log_err("%s: %s", tg.device, luks2_error(l));
		goto out;
	} else {
		if (o->set & (OPTB(OPT_RESILIENCE) | OPTB(OPT_CIPHER) | OPTB(OPT_KEY_SIZE) |
			      OPTB(OPT_SECTOR_SIZE)))
			log_err("--resilience, --cipher, --key-size and --sector-size are ignored: "
				"the job in progress keeps its own");
		snprintf(prompt, sizeof(prompt), _("Enter passphrase for %s: "), tg.device);
		r = pass_read(o->key_file, o->keyfile_offset, o->keyfile_size, prompt, false,
			      &pass);
		if (r)
			goto out;
	}
	r = luks2_reenc_job_load(l, &j);
	if (r) {
		log_err("%s: %s", tg.device, luks2_error(l));
		goto out;
	}
	vk_old = secure_alloc(LUKS2_VK_MAX);
	vk_new = secure_alloc(LUKS2_VK_MAX);
	if (!vk_old || !vk_new) {
		r = -ENOMEM;
		goto out;
	}
	/* both keys, and the metadata authenticated with them, before anything moves */
	r = luks2_reenc_unlock(l, &j, pass.buf, pass.len, vk_old, &old_len, vk_new, &new_len);
	pass_free(&pass);
	if (r) {
		log_err("%s", luks2_error(l));
		goto out;
	}
	secure_lock_all();	/* after the KDF, as open does */
	r = reenc_run(o, &tg, l, &j, vk_old, old_len, vk_new, new_len);
	if (!r)
		log_verbose("Re-encryption of %s finished.", tg.device);
out:
	pass_free(&pass);
	secure_free(vk_old);	/* wipes */
	secure_free(vk_new);
	luks2_free(l);
	return r;
}

int cmd_reencrypt(const struct vault_opts *o, int argc, char **argv)
{
	(void)argc;
	if (o->init_only && o->resume_only) {
		log_err("--init-only and --resume-only cannot be combined");
		return -EINVAL;
	}
	if (o->init_only)
		return init_only(o, argv[0]);
	return reencrypt(o, argv[0], -1);
}

/*
 * revoke --key-slot N DEVICE|NAME: keyslot N's passphrase leaked together
 * with a header backup.  Removing the keyslot is not enough (the backup
 * still opens the volume key), so the slot goes and the volume key
 * changes: a full re-encryption, online when the volume is open.
 */
int cmd_revoke(const struct vault_opts *o, int argc, char **argv)
{
	(void)argc;
	if (o->key_slot < 0) {
		log_err("revoke needs --key-slot N: the keyslot whose passphrase leaked");
		return -EINVAL;
	}
	return reencrypt(o, argv[0], o->key_slot);
}
