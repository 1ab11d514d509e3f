// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * luks2: starting a re-encryption with a new volume key, as cryptsetup
 * reencrypt --init-only does, so that cryptsetup reencrypt --resume-only
 * (or, later, vaultctl) moves the data.
 *
 * What one init writes (the layout cryptsetup 2.6 writes):
 *   keyslot N        "luks2", the new volume key under the same passphrase
 *   digest D         pbkdf2 of the new key: keyslots [N], segments [final]
 *   keyslot R        "reencrypt": mode reencrypt, direction forward, the
 *                    resilience (checksum sha256 by default) and an area
 *                    for the hotzone backup (the rest of the keyslots area)
 *   segments         "0" as it was (all data under the old key), a copy
 *                    flagged backup-previous (bound to the old digest) and
 *                    the new layout (cipher, sector size) flagged
 *                    backup-final (bound to D)
 *   requirement      config.requirements.mandatory ["online-reencrypt-v2"]
 *   digest           the metadata digest over both keys (CVE-2021-4122),
 *                    bound to keyslot R
 * Order of writes: the new keyslot's material first (synced), then one
 * header update (both copies, seqid + 1) carrying everything else, so a
 * crash leaves either the old header or a complete init.  No data moves.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "luks2_internal.h"

#define DIGEST_ITER_MS	125	/* as format.c: cryptsetup's digest cost */

/* The first keyslot id not in use, or -ENOSPC. */
static int free_keyslot(json_object *keyslots, int after)
{
	char id[12];
	int i;

	for (i = after + 1; i < LUKS2_KEYSLOTS_MAX; i++) {
		snprintf(id, sizeof(id), "%d", i);
		if (!l2_obj(keyslots, id))
			return i;
	}
	return -ENOSPC;
}

static json_object *flagged_copy(json_object *seg, const char *flag)
{
	json_object *c = NULL, *fl;

	if (json_object_deep_copy(seg, &c, NULL))
		return NULL;
	fl = json_object_new_array();
	json_object_array_add(fl, json_object_new_string(flag));
	json_object_object_add(c, "flags", fl);
	return c;
}

static json_object *reencrypt_keyslot(const char *resilience, const char *hash,
				      uint32_t block, uint64_t off, uint64_t len)
{
	json_object *ks = json_object_new_object(), *area = json_object_new_object();

	json_object_object_add(area, "type", json_object_new_string(resilience));
	json_object_object_add(area, "offset", l2_new_u64(off));
	json_object_object_add(area, "size", l2_new_u64(len));
	if (!strcmp(resilience, "checksum")) {
		json_object_object_add(area, "hash", json_object_new_string(hash));
		json_object_object_add(area, "sector_size", json_object_new_int64(block));
	}
	json_object_object_add(ks, "type", json_object_new_string("reencrypt"));
	json_object_object_add(ks, "key_size", json_object_new_int64(1));
	json_object_object_add(ks, "mode", json_object_new_string("reencrypt"));
	json_object_object_add(ks, "direction", json_object_new_string("forward"));
	json_object_object_add(ks, "priority", json_object_new_int64(0));
	json_object_object_add(ks, "area", area);
	return ks;
}

/*
 * The new sector size WANT (0: the current one) into *SS, with
 * cryptsetup's checks (luks2_reencrypt.c reencrypt_init): a power of two
 * from 512 to 4096 dividing the data area, and dm-vault's: the IV offset
 * a multiple of it too (the kernel's new_sector_size word needs it).
 */
static int check_sector_size(struct luks2 *l, uint32_t want, uint32_t *ss)
{
	json_object *seg0 = l2_obj(l2_obj(l->jobj, "segments"), "0");
	uint64_t off = 0, tweak = 0;
	int64_t cur = 512;

	l2_int(seg0, "sector_size", &cur);
	l2_u64(seg0, "offset", &off);
	l2_u64(seg0, "iv_tweak", &tweak);
	*ss = want ? want : (uint32_t)cur;
	if (*ss < 512 || *ss > 4096 || (*ss & (*ss - 1))) {
		l2_err(l, "unsupported encryption sector size %u (a power of two from 512 to 4096)",
		       *ss);
		return -EINVAL;
	}
	if (*ss == cur)
		return 0;
	if (l->dev_size <= off || (l->dev_size - off) % *ss) {
		l2_err(l, "the data area (%" PRIu64 " bytes) is not aligned to the requested "
		       "encryption sector size (%u bytes)", l->dev_size > off ? l->dev_size - off : 0,
		       *ss);
		return -EINVAL;
	}
	if (tweak % (*ss / 512)) {
		l2_err(l, "the IV offset (%" PRIu64 " sectors) is not a multiple of the requested "
		       "encryption sector size (%u bytes)", tweak, *ss);
		return -EINVAL;
	}
	return 0;
}

/* The volume must be an ordinary one with one keyslot (see luks2.h). */
static int check_volume(struct luks2 *l)
{
	uint32_t in_use = luks2_keyslots_in_use(l);
	uint32_t others = in_use & (in_use - 1);	/* all but the lowest */

	if (json_object_object_length(l2_obj(l->jobj, "segments")) != 1 ||
	    !l2_obj(l2_obj(l->jobj, "segments"), "0")) {
		l2_err(l, "unsupported segment layout (exactly one segment \"0\" expected)");
		return -ENOTSUP;
	}
	if (others) {
		l2_err(l, "other keyslots exist (mask 0x%x): they would be lost when the "
		       "reencryption finishes; remove them first (or use cryptsetup reencrypt, "
		       "which asks for each passphrase)", others);
		return -EBUSY;
	}
	if (luks2_token_count(l)) {
		l2_err(l, "tokens exist: their keyslot would be lost when the reencryption "
		       "finishes; remove them first");
		return -EBUSY;
	}
	return 0;
}

int luks2_reencrypt_init(struct luks2 *l, const void *vk, size_t vk_len, const char *pass,
			 size_t pass_len, const struct luks2_reencrypt_params *p)
{
	const char *resilience = p && p->resilience ? p->resilience : "checksum";
	const char *hash = p && p->hash ? p->hash : "sha256";
	struct luks2_pbkdf defaults = { 0 };
	const struct luks2_pbkdf *pbkdf = p ? &p->pbkdf : &defaults;
	const unsigned char *vk_old = vk;
	unsigned char *vk_new = NULL;
	json_object *keyslots, *segs, *seg0, *prev = NULL, *fin = NULL, *rks = NULL;
	json_object *dnew = NULL, *dmeta = NULL, *dold, *saved = NULL;
	struct l2_new_keyslot nk = { 0 };
	char nid[12], rid[12], did[12];
	uint64_t area_off, area_end;
	int64_t ss = 512;
	uint32_t iter, block, new_ss = 0;
	size_t new_len = p && p->key_size ? p->key_size : vk_len;
	int r, new_slot = -1, r_slot;

	r = l2_need_rw(l);
	if (r)
		return r;
	if (strcmp(resilience, "checksum") && strcmp(resilience, "journal") &&
	    strcmp(resilience, "none")) {
		l2_err(l, "unsupported resilience \"%s\" (checksum, journal or none)", resilience);
		return -EINVAL;
	}
	if (!l2_hash(hash)) {
		l2_err(l, "unsupported checksum hash %s", hash);
		return -EINVAL;
	}
	r = check_volume(l);
	if (r)
		return r;
	dold = l2_digest_for_segment(l->jobj, "0", NULL);
	if (!dold || !vk_len || vk_len > LUKS2_VK_MAX || l2_digest_verify(dold, vk_old, vk_len)) {
		l2_err(l, "the volume key does not match this device");
		return -EPERM;
	}
	if (p && p->cipher && (l2_cipher_is_null(p->cipher) || strlen(p->cipher) >= 128 ||
			       strchr(p->cipher, ' '))) {
		l2_err(l, "refusing the new cipher \"%s\"", p->cipher);
		return -EINVAL;
	}
	if (!new_len || new_len > LUKS2_VK_MAX) {
		l2_err(l, "invalid new key size %zu bytes", new_len);
		return -EINVAL;
	}
	r = check_sector_size(l, p ? p->sector_size : 0, &new_ss);
	if (r)
		return r;
	vk_new = l2_secure_alloc(LUKS2_VK_MAX);
	if (!vk_new) {
		l2_err(l, "cannot allocate locked memory");
		return -ENOMEM;
	}
	r = l2_random(vk_new, new_len);
	if (r) {
		l2_err(l, "random number generator failed");
		goto out;
	}
	keyslots = l2_obj(l->jobj, "keyslots");
	segs = l2_obj(l->jobj, "segments");
	seg0 = l2_obj(segs, "0");
	new_slot = free_keyslot(keyslots, -1);
	r_slot = new_slot < 0 ? new_slot : free_keyslot(keyslots, new_slot);
	if (r_slot < 0) {
		l2_err(l, "no free keyslot for the new key and the reencryption");
		r = -ENOSPC;
		goto out;
	}
	/* the slow part (KDF) before the lock, as luks2_add_keyslot() */
	r = l2_keyslot_make(l, vk_new, new_len, pass, pass_len, pbkdf, &nk);
	if (r)
		goto out;
	iter = pbkdf->iterations ? 1000 : l2_pbkdf2_calibrate(hash, new_len, DIGEST_ITER_MS);
	dnew = l2_digest_new(vk_new, new_len, hash, iter);
	if (!dnew) {
		l2_err(l, "cannot compute the new volume key's digest");
		r = -ENOMEM;
		goto out;
	}

	r = l2_write_begin(l);
	if (r)
		goto out;
	saved = l2_snapshot(l);
	r = saved ? l2_keyslot_store(l, &nk) : -ENOMEM;
	if (r)
		goto unlock;
	snprintf(nid, sizeof(nid), "%d", new_slot);
	snprintf(rid, sizeof(rid), "%d", r_slot);
	json_object_object_add(keyslots, nid, nk.ks);
	nk.ks = NULL;
	/* the hotzone backup: everything after the last keyslot area */
	area_off = l2_keyslots_end(l);
	area_end = 2 * l->hdr_size + l->keyslots_size;
	if (area_off + 4096 > area_end) {
		l2_err(l, "no room left in the keyslots area for the reencryption hotzone backup");
		r = -ENOSPC;
		goto rollback;
	}
	l2_int(seg0, "sector_size", &ss);
	/*
	 * cryptsetup: the checksum block is the largest of both sides' sector
	 * sizes and the device's block size (a page for an image file)
	 */
	block = ss > 4096 ? (uint32_t)ss : 4096;
	rks = reencrypt_keyslot(resilience, hash, new_ss > block ? new_ss : block, area_off,
				area_end - area_off);
	prev = flagged_copy(seg0, "backup-previous");
	fin = flagged_copy(seg0, "backup-final");
	if (!rks || !prev || !fin) {
		r = -ENOMEM;
		goto rollback;
	}
	/* cryptsetup --cipher/--key-size: the new layout's cipher */
	if (p && p->cipher)
		json_object_object_add(fin, "encryption", json_object_new_string(p->cipher));
	/* --sector-size: the new layout's unit (the "hot" segments take it from here) */
	json_object_object_add(fin, "sector_size", json_object_new_int64(new_ss));
	json_object_object_add(keyslots, rid, rks);
	rks = NULL;
	json_object_object_add(segs, "1", prev);
	json_object_object_add(segs, "2", fin);
	prev = fin = NULL;
	json_object_array_add(l2_obj(dold, "segments"), json_object_new_string("1"));
	json_object_array_add(l2_obj(dnew, "keyslots"), json_object_new_string(nid));
	json_object_array_add(l2_obj(dnew, "segments"), json_object_new_string("2"));
	l2_free_id(l2_obj(l->jobj, "digests"), did, sizeof(did));
	json_object_object_add(l2_obj(l->jobj, "digests"), did, dnew);
	dnew = NULL;
	l2_reencrypt_require(l);
	/* last: the digest over everything above, with both keys */
	dmeta = l2_reencrypt_digest_create(l, vk_old, vk_len, vk_new, new_len, hash, iter);
	if (!dmeta) {
		r = -EINVAL;
		goto rollback;
	}
	json_object_array_add(l2_obj(dmeta, "keyslots"), json_object_new_string(rid));
	l2_free_id(l2_obj(l->jobj, "digests"), did, sizeof(did));
	json_object_object_add(l2_obj(l->jobj, "digests"), did, dmeta);
	dmeta = NULL;
	r = l2_json_validate(l, l->jobj, l->hdr_size, LUKS2_IGNORE_REQUIREMENTS);
	if (r)
		goto rollback;
	l->reencrypt_write = true;
	r = l2_commit(l, saved);
	l->reencrypt_write = false;
	saved = NULL;
	if (!r || l->partial_write)
		l->inspect_only = true;	/* in reencryption now: nothing more through L */
	goto unlock;
rollback:
	json_object_put(l->jobj);
	l->jobj = saved;
	saved = NULL;
	/* the new key's material, written but named by no header: wipe it */
	l2_keyslot_wipe_area(l, nk.off, nk.mlen);
unlock:
	l2_write_end(l);
out:
	json_object_put(saved);
	json_object_put(rks);
	json_object_put(prev);
	json_object_put(fin);
	json_object_put(dnew);
	json_object_put(dmeta);
	l2_new_keyslot_free(&nk);
	l2_secure_free(vk_new, LUKS2_VK_MAX);
	return r ? r : new_slot;
}
