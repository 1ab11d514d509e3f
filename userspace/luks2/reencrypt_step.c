// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * luks2: moving a re-encryption forward, one hotzone at a time, with the
 * metadata cryptsetup 2.6 writes (mode "reencrypt", direction "forward",
 * no data shift), so that either tool resumes the other's job.
 *
 * One hotzone [off, off + len) (bytes from the data start) goes through:
 *   1. hotzone_begin: the resilience data (checksum: one hash of each
 *      `sector_size` block of the hotzone's OLD ciphertext; journal: the old
 *      ciphertext itself) is written at the start of the reencrypt
 *      keyslot's area and synced, THEN the header says which hotzone is in
 *      flight: segments [new 0..off) [in-reencryption off..+len) [old ..end)
 *      (cryptsetup: reencrypt_hotzone_protect_final -> reencrypt_keyslot
 *      store, whose header write commits the "hot" segments);
 *   2. the caller moves the data (the kernel's "reencrypt step"), which
 *      returns once the hotzone is durable (REQ_PREFLUSH);
 *   3. hotzone_end: the checkpoint, segments [new 0..off+len) [old ..end)
 *      (cryptsetup: reencrypt_assign_segments(post) + LUKS2_hdr_write);
 *      after the last hotzone, finish's header write is the checkpoint.
 * Data, then checkpoint: a crash between 1 and 3 leaves a header naming
 * the hotzone, and recovery (reencrypt_recover.c) tells each block's key
 * from the resilience data.  finish writes what cryptsetup leaves at the
 * end: the old keyslots, their digest, the reencrypt keyslot, its digest,
 * the backup segments and the requirement gone; one dynamic segment.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "luks2_internal.h"

/* Segment size in bytes; "dynamic" is up to DATA_END (bytes from the data start). */
static uint64_t seg_len(json_object *seg, uint64_t data_off, uint64_t data_end)
{
	uint64_t off = 0, size = 0;

	l2_u64(seg, "offset", &off);
	if (!strcmp(l2_str(seg, "size") ?: "", "dynamic"))
		return data_off + data_end > off ? data_off + data_end - off : 0;
	l2_u64(seg, "size", &size);
	return size;
}

#define FAIL(...) do { l2_err(l, __VA_ARGS__); return -EINVAL; } while (0)

static bool valid_ss(uint32_t ss)
{
	return ss >= 512 && ss <= 4096 && !(ss & (ss - 1));
}

int luks2_reenc_job_load(struct luks2 *l, struct luks2_reenc_job *j)
{
	json_object *prev, *fin;
	const char *pid = NULL, *fid = NULL, *dold = NULL, *dnew = NULL;
	struct luks2_reencrypt st;
	const EVP_MD *md;
	uint64_t fin_off = 0;
	int64_t v = 0;
	int r;

	memset(j, 0, sizeof(*j));
	r = l2_reencrypt_status(l, &st);
	if (r)
		return r;
	if (strcmp(st.mode, "reencrypt") || strcmp(st.direction, "forward"))
		FAIL("a %s (%s) job: vaultctl moves only re-encryptions in the forward direction; "
		     "finish it with cryptsetup reencrypt --resume-only", st.mode, st.direction);
	if (strcmp(st.resilience, "checksum") && strcmp(st.resilience, "journal"))
		FAIL("resilience \"%s\": vaultctl moves data only with checksum or journal "
		     "resilience; finish it with cryptsetup reencrypt --resume-only", st.resilience);
	prev = l2_segment_flagged(l, "backup-previous", &pid);
	fin = l2_segment_flagged(l, "backup-final", &fid);
	if (!prev || !fin || strcmp(l2_str(prev, "type") ?: "", "crypt") ||
	    strcmp(l2_str(fin, "type") ?: "", "crypt"))
		FAIL("reencryption without crypt backup-previous and backup-final segments");
	l2_digest_for_segment(l->jobj, pid, &dold);
	l2_digest_for_segment(l->jobj, fid, &dnew);
	if (!dold || !dnew || !strcmp(dold, dnew))
		FAIL("reencryption metadata: the old and new segments need two digests");
	snprintf(j->digest_old, sizeof(j->digest_old), "%s", dold);
	snprintf(j->digest_new, sizeof(j->digest_new), "%s", dnew);
	j->keyslot = st.keyslot;
	snprintf(j->resilience, sizeof(j->resilience), "%s", st.resilience);
	snprintf(j->old_cipher, sizeof(j->old_cipher), "%s", l2_str(prev, "encryption") ?: "");
	snprintf(j->new_cipher, sizeof(j->new_cipher), "%s", l2_str(fin, "encryption") ?: "");
	if (l2_cipher_is_null(j->old_cipher) || l2_cipher_is_null(j->new_cipher) ||
	    !j->old_cipher[0] || !j->new_cipher[0])
		FAIL("reencryption between \"%s\" and \"%s\": refusing a null or missing cipher",
		     j->old_cipher, j->new_cipher);
	if (!l2_u64(prev, "offset", &j->data_offset) || !l2_u64(fin, "offset", &fin_off) ||
	    fin_off != j->data_offset)
		FAIL("reencryption with a data shift: not supported by vaultctl");
	l2_u64(fin, "iv_tweak", &j->iv_tweak);
	l2_int(prev, "sector_size", &v);
	j->old_ss = (uint32_t)v;
	l2_int(fin, "sector_size", &v);
	j->new_ss = (uint32_t)v;
	if (!valid_ss(j->old_ss) || !valid_ss(j->new_ss))
		FAIL("reencryption between sector sizes %u and %u: invalid", j->old_ss, j->new_ss);
	if (j->iv_tweak % (j->new_ss / 512) || j->iv_tweak % (j->old_ss / 512))
		FAIL("the IV offset (%" PRIu64 " sectors) is not a multiple of the sector sizes "
		     "(%u, %u)", j->iv_tweak, j->old_ss, j->new_ss);
	j->area_off = st.area_offset;
	j->area_size = st.area_size;
	if (!strcmp(st.resilience, "checksum")) {
		snprintf(j->hash, sizeof(j->hash), "%s", st.hash);
		j->block = st.hash_sector_size;
		md = (const EVP_MD *)l2_hash(st.hash);
		/* a block is recovered as a whole: it holds whole sectors of either side */
		if (!md || !j->block || j->block % j->old_ss || j->block % j->new_ss)
			FAIL("checksum resilience with hash %s and blocks of %u bytes: unusable",
			     st.hash, j->block);
		j->hash_len = (uint32_t)EVP_MD_get_size(md);
		j->max_hotzone = j->area_size / j->hash_len * j->block;
	} else {
		/* as cryptsetup's reencrypt_get_alignment(): the larger sector size */
		j->block = j->old_ss > j->new_ss ? j->old_ss : j->new_ss;
		j->max_hotzone = j->area_size / j->block * j->block;
	}
	if (j->max_hotzone > LUKS2_REENC_MAX_HOTZONE)
		j->max_hotzone = LUKS2_REENC_MAX_HOTZONE;
	if (j->max_hotzone < j->block)
		FAIL("the reencrypt keyslot's area is too small for a hotzone");
	j->data_size = l->dev_size > j->data_offset ? l->dev_size - j->data_offset : 0;
	/* where the data stands: the segments that are not backups */
	json_object_object_foreach(l2_obj(l->jobj, "segments"), sid, sval) {
		const char *d = NULL;
		uint64_t off = 0, n;

		(void)sid;
		if (l2_segment_is_backup(sval))
			continue;
		l2_u64(sval, "offset", &off);
		if (off < j->data_offset)
			FAIL("a data segment before the data offset");
		n = seg_len(sval, j->data_offset, j->data_size);
		if (l2_array_has(l2_obj(sval, "flags"), "in-reencryption")) {
			j->in_flight = true;
			j->hz_off = off - j->data_offset;
			j->hz_len = n;
			continue;
		}
		l2_digest_for_segment(l->jobj, sid, &d);
		if (d && !strcmp(d, j->digest_new) && off - j->data_offset + n > j->progress)
			j->progress = off - j->data_offset + n;
	}
	if (j->in_flight && (j->hz_off != j->progress || !j->hz_len || j->hz_len % j->block ||
			     j->hz_len > j->max_hotzone))
		FAIL("the hotzone in reencryption (%" PRIu64 "+%" PRIu64 ") does not follow the "
		     "re-encrypted part (%" PRIu64 ")", j->hz_off, j->hz_len, j->progress);
	if (j->progress > j->data_size)
		FAIL("the re-encrypted part is past the end of the device");
	return 0;
}

int luks2_reenc_unlock(struct luks2 *l, const struct luks2_reenc_job *j, const char *pass,
		       size_t pass_len, unsigned char *vk_old, size_t *old_len,
		       unsigned char *vk_new, size_t *new_len)
{
	int r;

	r = l2_unlock_digest(l, j->digest_old, pass, pass_len, vk_old, LUKS2_VK_MAX, old_len);
	if (r >= 0)
		r = l2_unlock_digest(l, j->digest_new, pass, pass_len, vk_new, LUKS2_VK_MAX,
				     new_len);
	if (r == -EPERM || r == -ENOENT) {
		l2_err(l, "No key available with this passphrase.");
		return -EPERM;
	}
	if (r < 0)
		return r;
	/* CVE-2021-4122: nothing is acted upon before the metadata is authenticated */
	r = luks2_reencrypt_verify_keys(l, vk_old, *old_len, vk_new, *new_len);
	return r == -EPERM ? -EINVAL : r;	/* a right passphrase, bad metadata */
}

int luks2_reenc_protect(const struct luks2_reenc_job *j, const unsigned char *old_ct, size_t len,
			unsigned char *out, size_t *out_len)
{
	const EVP_MD *md = (const EVP_MD *)l2_hash(j->hash);
	size_t b;

	if (strcmp(j->resilience, "checksum")) {
		memcpy(out, old_ct, len);	/* journal: the old ciphertext itself */
		*out_len = len;
		return 0;
	}
	if (!md || len % j->block)
		return -EINVAL;
	for (b = 0; b < len / j->block; b++)
		if (EVP_Digest(old_ct + b * j->block, j->block, out + b * j->hash_len, NULL, md,
			       NULL) != 1)
			return -EIO;
	*out_len = len / j->block * j->hash_len;
	return 0;
}

/* A crypt segment as cryptsetup's json_segment_create_crypt() writes it. */
static json_object *crypt_seg(const struct luks2_reenc_job *j, bool new_key, uint64_t off,
			      const uint64_t *len, bool hot)
{
	json_object *s = json_object_new_object(), *fl;

	json_object_object_add(s, "type", json_object_new_string("crypt"));
	json_object_object_add(s, "offset", l2_new_u64(j->data_offset + off));
	json_object_object_add(s, "size", len ? l2_new_u64(*len) :
				json_object_new_string("dynamic"));
	json_object_object_add(s, "iv_tweak", l2_new_u64(j->iv_tweak + off / 512));
	json_object_object_add(s, "encryption",
			       json_object_new_string(new_key ? j->new_cipher : j->old_cipher));
	json_object_object_add(s, "sector_size",
			       json_object_new_int64(new_key ? j->new_ss : j->old_ss));
	if (hot) {
		fl = json_object_new_array();
		json_object_array_add(fl, json_object_new_string("in-reencryption"));
		json_object_object_add(s, "flags", fl);
	}
	return s;
}

static void assign(struct luks2 *l, const char *digest, int seg)
{
	char id[12];

	snprintf(id, sizeof(id), "%d", seg);
	json_object_array_add(l2_obj(l2_obj(l2_obj(l->jobj, "digests"), digest), "segments"),
			      json_object_new_string(id));
}

/*
 * Replaces the data segments by SEGS (ids 0..n-1, consumed) and puts the
 * backup segments after them, digests assigned as cryptsetup's
 * reencrypt_assign_segments(): HOT the index of the in-reencryption
 * segment (-1: none).
 */
static int set_segments(struct luks2 *l, const struct luks2_reenc_job *j, json_object **segs,
			int n, int hot)
{
	json_object *prev, *fin, *all, *keep_prev, *keep_fin;
	char id[12];
	int i;

	prev = l2_segment_flagged(l, "backup-previous", NULL);
	fin = l2_segment_flagged(l, "backup-final", NULL);
	if (!prev || !fin) {
		for (i = 0; i < n; i++)
			json_object_put(segs[i]);
		FAIL("reencryption metadata lost its backup segments");
	}
	keep_prev = json_object_get(prev);
	keep_fin = json_object_get(fin);
	json_object_object_foreach(l2_obj(l->jobj, "digests"), did, dval) {
		(void)did;
		json_object_object_add(dval, "segments", json_object_new_array());
	}
	all = json_object_new_object();
	for (i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "%d", i);
		json_object_object_add(all, id, segs[i]);
	}
	snprintf(id, sizeof(id), "%d", n);
	json_object_object_add(all, id, keep_prev);
	snprintf(id, sizeof(id), "%d", n + 1);
	json_object_object_add(all, id, keep_fin);
	json_object_object_add(l->jobj, "segments", all);
	if (hot >= 0) {
		assign(l, j->digest_new, hot);
		assign(l, j->digest_old, hot);
		if (hot > 0)
			assign(l, j->digest_new, 0);
		if (n > hot + 1)
			assign(l, j->digest_old, hot + 1);
	} else {
		assign(l, j->digest_new, 0);
		if (n > 1)
			assign(l, j->digest_old, 1);
	}
	assign(l, j->digest_old, n);
	assign(l, j->digest_new, n + 1);
	return 0;
}

/* A header write in re-encryption (the loader marked L inspect-only). */
static int commit(struct luks2 *l, json_object *saved, bool keep_requirement)
{
	int r;

	r = l2_json_validate(l, l->jobj, l->hdr_size, LUKS2_IGNORE_REQUIREMENTS);
	if (r) {
		json_object_put(l->jobj);
		l->jobj = saved;
		return r;
	}
	l->inspect_only = false;
	l->reencrypt_write = keep_requirement;
	r = l2_commit(l, saved);
	l->reencrypt_write = false;
	l->inspect_only = keep_requirement;
	return r;
}

int luks2_reenc_hotzone_begin(struct luks2 *l, const struct luks2_reenc_job *j, uint64_t off,
			      uint64_t len, const unsigned char *prot, size_t prot_len)
{
	json_object *segs[3], *saved;
	int n = 0, hot, r;

	if (off != j->progress || !len || len % j->block || len > j->max_hotzone ||
	    off + len > j->data_size || prot_len > j->area_size)
		FAIL("internal error: hotzone %" PRIu64 "+%" PRIu64 " does not fit the job",
		     off, len);
	r = l2_write_begin(l);
	if (r)
		return r;
	/* 1a. the resilience data, synced before any header names the hotzone */
	r = l2_pwrite_all(l->fd, prot, prot_len, j->area_off);
	if (!r && fdatasync(l->fd))
		r = -errno;
	if (r) {
		l2_err(l, "cannot write the hotzone's resilience data: %s", strerror(-r));
		goto out;
	}
	saved = l2_snapshot(l);
	if (!saved) {
		r = -ENOMEM;
		goto out;
	}
	if (off)
		segs[n++] = crypt_seg(j, true, 0, &off, false);
	hot = n;
	segs[n++] = crypt_seg(j, true, off, &len, true);
	if (off + len < j->data_size)
		segs[n++] = crypt_seg(j, false, off + len, NULL, false);
	r = set_segments(l, j, segs, n, hot);
	/* 1b. the header naming the hotzone in flight */
	r = r ? r : commit(l, saved, true);
out:
	l2_write_end(l);
	return r;
}

int luks2_reenc_hotzone_end(struct luks2 *l, struct luks2_reenc_job *j, uint64_t off,
			    uint64_t len)
{
	json_object *segs[2], *saved;
	uint64_t done = off + len;
	int n = 0, r;

	/*
	 * After the last hotzone, luks2_reenc_finish's header write is the
	 * checkpoint.  Writing one here too would leave, for a cut before
	 * finish, the state "all data new, the old key's keyslot unbound,
	 * the requirement still set", which cryptsetup 2.6.1's --resume-only
	 * "finishes" into a wrong plaintext (tests/extended/20-reencrypt-crash
	 * saw it); the last hotzone's in-flight header is recovered right by
	 * both tools.
	 */
	if (off == j->progress && done == j->data_size) {
		j->progress = done;
		j->in_flight = false;
		return 0;
	}
	r = l2_write_begin_snapshot(l, &saved);
	if (r)
		return r;
	/* 3. the checkpoint: everything below OFF + LEN is under the new key */
	segs[n++] = crypt_seg(j, true, 0, done < j->data_size ? &done : NULL, false);
	if (done < j->data_size)
		segs[n++] = crypt_seg(j, false, done, NULL, false);
	r = set_segments(l, j, segs, n, -1);
	r = r ? r : commit(l, saved, true);
	if (!r) {
		j->progress = done;
		j->in_flight = false;
	}
	l2_write_end(l);
	return r;
}

static void drop_keyslot(struct luks2 *l, const char *kid)
{
	json_object_object_foreach(l2_obj(l->jobj, "digests"), did, dval) {
		(void)did;
		l2_array_remove(l2_obj(dval, "keyslots"), kid);
	}
	json_object_object_foreach(l2_obj(l->jobj, "tokens"), tid, tval) {
		(void)tid;
		l2_array_remove(l2_obj(tval, "keyslots"), kid);
	}
	json_object_object_del(l2_obj(l->jobj, "keyslots"), kid);
}

int luks2_reenc_finish(struct luks2 *l, const struct luks2_reenc_job *j)
{
	json_object *saved, *seg, *segs, *cfg, *req, *mand, *dig;
	char rid[12], gone[LUKS2_KEYSLOTS_MAX][12];
	uint64_t off, size, area_off[LUKS2_KEYSLOTS_MAX], area_len[LUKS2_KEYSLOTS_MAX];
	int n = 0, i, r;

	if (j->progress != j->data_size || j->in_flight)
		FAIL("internal error: the job is not finished");
	r = l2_write_begin_snapshot(l, &saved);
	if (r)
		return r;
	/*
	 * The old volume key's keyslots and the reencrypt keyslot go in the
	 * same header write that drops the requirement, and their areas are
	 * wiped only after it: wiping first, a power cut before the write left
	 * a header that still needs the old key with no keyslot able to give
	 * it (neither tool could open or resume it; the crash matrix,
	 * tests/extended/20-reencrypt-crash, found it).  Cut between the write
	 * and the wipe, the leftover material gives only the old key, which
	 * no longer decrypts anything.
	 */
	snprintf(rid, sizeof(rid), "%d", j->keyslot);
	json_object_object_foreach(l2_obj(l->jobj, "keyslots"), kid, kval) {
		const char *d = NULL;

		l2_digest_for_keyslot(l->jobj, kid, &d);
		if (strcmp(kid, rid) && !(d && !strcmp(d, j->digest_old)))
			continue;
		if (n >= LUKS2_KEYSLOTS_MAX)
			break;
		area_off[n] = area_len[n] = 0;
		if (l2_u64(l2_obj(kval, "area"), "offset", &off) &&
		    l2_u64(l2_obj(kval, "area"), "size", &size)) {
			area_off[n] = off;
			area_len[n] = size;
		}
		snprintf(gone[n++], sizeof(gone[0]), "%s", kid);
	}
	for (i = 0; i < n; i++)
		drop_keyslot(l, gone[i]);
	/* one segment under the new key, as reencrypt_make_post_segments at the end */
	seg = crypt_seg(j, true, 0, NULL, false);
	segs = json_object_new_object();
	json_object_object_add(segs, "0", seg);
	json_object_object_add(l->jobj, "segments", segs);
	/* digests: the new key's bound to segment 0; those left without keyslots go */
	dig = l2_obj(l->jobj, "digests");
	json_object_object_foreach(dig, did, dval) {
		json_object_object_add(dval, "segments", json_object_new_array());
		if (!strcmp(did, j->digest_new))
			json_object_array_add(l2_obj(dval, "segments"), json_object_new_string("0"));
	}
	for (;;) {
		const char *empty = NULL;

		json_object_object_foreach(dig, did2, dval2) {
			if (!json_object_array_length(l2_obj(dval2, "keyslots")) &&
			    !json_object_array_length(l2_obj(dval2, "segments"))) {
				empty = did2;
				break;
			}
		}
		if (!empty)
			break;
		json_object_object_del(dig, empty);
	}
	/* the requirement: only online-reencrypt* is removed */
	cfg = l2_obj(l->jobj, "config");
	req = l2_obj(cfg, "requirements");
	mand = l2_obj(req, "mandatory");
	for (i = mand ? (int)json_object_array_length(mand) - 1 : -1; i >= 0; i--)
		if (l2_reencrypt_requirement_version(
			json_object_get_string(json_object_array_get_idx(mand, (size_t)i))))
			json_object_array_del_idx(mand, (size_t)i, 1);
	if (mand && !json_object_array_length(mand))
		json_object_object_del(req, "mandatory");
	if (req && !json_object_object_length(req))
		json_object_object_del(cfg, "requirements");
	r = commit(l, saved, false);
	for (i = 0; !r && i < n; i++)
		if (area_len[i])
			l2_keyslot_wipe_area(l, area_off[i], area_len[i]);
	l2_write_end(l);
	return r;
}
