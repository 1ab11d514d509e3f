// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * luks2: keyslots of type "luks2": unlock, add, kill, change, erase.
 *
 * Order of writes: new key material is written (and synced) to a free area
 * before the header that points at it; a removed keyslot disappears from
 * the header before its area is wiped.  A crash leaves either the old or
 * the new state, never a header pointing at garbage.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "luks2_internal.h"

#define SECTOR 512

static size_t af_sectors_len(size_t key_len)
{
	return (key_len * L2_STRIPES + SECTOR - 1) / SECTOR * SECTOR;
}

/* The digest of the first crypt segment (the volume key's digest). */
static json_object *segment_digest(struct luks2 *l, const char **id)
{
	json_object *segs = l2_obj(l->jobj, "segments");

	if (!segs)
		return NULL;
	json_object_object_foreach(segs, sid, sval) {
		if (!strcmp(l2_str(sval, "type") ?: "", "crypt"))
			return l2_digest_for_segment(l->jobj, sid, id);
	}
	return NULL;
}

static int kdf_from_json(json_object *j, struct l2_kdf *k)
{
	const char *type = l2_str(j, "type");
	int64_t v;

	memset(k, 0, sizeof(*k));
	if (!type)
		return -EINVAL;
	if (!strcmp(type, "pbkdf2")) {
		k->type = LUKS2_KDF_PBKDF2;
		snprintf(k->hash, sizeof(k->hash), "%s", l2_str(j, "hash") ?: "");
		if (!l2_int(j, "iterations", &v))
			return -EINVAL;
		k->iterations = (uint32_t)v;
		return 0;
	}
	k->type = !strcmp(type, "argon2i") ? LUKS2_KDF_ARGON2I : LUKS2_KDF_ARGON2ID;
	if (!l2_int(j, "time", &v))
		return -EINVAL;
	k->iterations = (uint32_t)v;
	if (!l2_int(j, "memory", &v))
		return -EINVAL;
	k->memory_kb = (uint32_t)v;
	if (!l2_int(j, "cpus", &v))
		return -EINVAL;
	k->parallel = (uint32_t)v;
	return 0;
}

/*
 * Tries one keyslot.  0 and *VK_LEN set on success, -EPERM for a wrong
 * passphrase, -ENOENT for a keyslot that cannot give the volume key, other
 * errors with l->err set.
 */
static int try_keyslot_for(struct luks2 *l, const char *id, const char *want_digest,
			   const char *pass, size_t pass_len, unsigned char *vk, size_t *vk_len);

static int try_keyslot(struct luks2 *l, const char *id, const char *pass, size_t pass_len,
		       unsigned char *vk, size_t *vk_len)
{
	const char *seg_digest_id;

	if (!segment_digest(l, &seg_digest_id))
		return -ENOENT;
	return try_keyslot_for(l, id, seg_digest_id, pass, pass_len, vk, vk_len);
}

/* As try_keyslot(), for a keyslot bound to digest WANT_DIGEST. */
static int try_keyslot_for(struct luks2 *l, const char *id, const char *want_digest,
			   const char *pass, size_t pass_len, unsigned char *vk, size_t *vk_len)
{
	json_object *ks = l2_obj(l2_obj(l->jobj, "keyslots"), id);
	json_object *area, *kdfj, *af, *digest;
	unsigned char salt[256], *dkey = NULL, *mat = NULL;
	uint64_t off, size;
	int64_t key_size, akey_size;
	size_t mlen = 0;
	struct l2_kdf k;
	const char *enc, *s, *digest_id;
	long salt_len;
	int r;

	if (!ks || strcmp(l2_str(ks, "type") ?: "", "luks2"))
		return -ENOENT;
	digest = l2_digest_for_keyslot(l->jobj, id, &digest_id);
	if (!digest || strcmp(digest_id, want_digest))
		return -ENOENT;
	area = l2_obj(ks, "area");
	kdfj = l2_obj(ks, "kdf");
	af = l2_obj(ks, "af");
	if (!l2_int(ks, "key_size", &key_size) || !l2_u64(area, "offset", &off) ||
	    !l2_u64(area, "size", &size) || !l2_int(area, "key_size", &akey_size) ||
	    kdf_from_json(kdfj, &k))
		return -EINVAL;
	enc = l2_str(area, "encryption");
	if (!l2_area_cipher_ok(enc, (size_t)akey_size)) {
		l2_err(l, "keyslot %s: unsupported keyslot encryption %s with a %" PRId64 "-bit key",
		       id, enc, akey_size * 8);
		return -ENOTSUP;
	}
	s = l2_str(kdfj, "salt");
	salt_len = l2_b64_decode(s, strlen(s), salt, sizeof(salt));
	if (salt_len < 0)
		return -EINVAL;
	mlen = af_sectors_len((size_t)key_size);
	if (mlen > size) {
		l2_err(l, "keyslot %s: area too small", id);
		return -EINVAL;
	}
	if (off + mlen > l->dev_size) {
		l2_err(l, "keyslot %s: area beyond the end of %s (truncated?)", id, l->path);
		return -ENODATA;
	}
	dkey = l2_secure_alloc((size_t)akey_size);
	mat = l2_secure_alloc(mlen);
	if (!dkey || !mat) {
		l2_err(l, "cannot allocate locked memory");
		r = -ENOMEM;
		goto out;
	}
	r = l2_pread_all(l->fd, mat, mlen, off);
	if (r) {
		l2_err(l, "keyslot %s: cannot read the area: %s", id, strerror(-r));
		goto out;
	}
	r = l2_kdf_derive(&k, pass, pass_len, salt, (size_t)salt_len, dkey, (size_t)akey_size);
	if (r) {
		if (r == -ENOMEM)
			l2_err(l, "keyslot %s: %s failed (not enough memory)", id, l2_kdf_name(k.type));
		else
			l2_err(l, "keyslot %s: %s failed", id, l2_kdf_name(k.type));
		goto out;
	}
	r = l2_area_crypt(enc, dkey, (size_t)akey_size, mat, mlen, false);
	if (r) {
		l2_err(l, "keyslot %s: decryption failed", id);
		goto out;
	}
	r = l2_af_merge(mat, (size_t)key_size, L2_STRIPES, l2_str(af, "hash"), vk);
	if (r)
		goto out;
	r = l2_digest_verify(digest, vk, (size_t)key_size);
	if (!r)
		*vk_len = (size_t)key_size;
	else
		l2_wipe(vk, (size_t)key_size);
out:
	l2_secure_free(dkey, (size_t)akey_size);
	l2_secure_free(mat, mlen);
	return r;
}

static int keyslot_priority(json_object *ks)
{
	int64_t p;

	return l2_int(ks, "priority", &p) ? (int)p : 1;
}

/*
 * Tries the keyslots in SLOTS with PASS, high priority (2) first, down to
 * MIN_PRIO (priority 0 means "not tried unless asked for by number").
 * WHAT names the keyslots in the message when none can be tried.
 */
static int unlock_slots(struct luks2 *l, uint32_t slots, int min_prio, const char *what,
			const char *pass, size_t pass_len, void *vk_out, size_t vk_cap,
			size_t *vk_len)
{
	unsigned char *vk;
	int prio, r, hard = 0, tried = 0, slot = -EPERM;
	char id[12];

	r = l2_usable(l);
	if (r)
		return r;
	vk = l2_vk_alloc(l);
	if (!vk)
		return -ENOMEM;
	for (prio = 2; prio >= min_prio && slot < 0; prio--) {
		int i;

		for (i = 0; i < LUKS2_KEYSLOTS_MAX && slot < 0; i++) {
			json_object *ks;

			if (!(slots & (1U << i)))
				continue;
			snprintf(id, sizeof(id), "%d", i);
			ks = l2_obj(l2_obj(l->jobj, "keyslots"), id);
			if (!ks || keyslot_priority(ks) != prio)
				continue;
			r = try_keyslot(l, id, pass, pass_len, vk, vk_len);
			if (r == -ENOENT)
				continue;
			tried++;
			if (!r)
				slot = i;
			else if (r != -EPERM && !hard)
				hard = r;
		}
	}
	if (slot >= 0) {
		if (*vk_len > vk_cap) {
			l2_err(l, "volume key buffer too small");
			slot = -ENOSPC;
		} else {
			memcpy(vk_out, vk, *vk_len);
			l->err[0] = 0;
		}
	} else if (hard) {
		slot = hard;
	} else if (!tried) {
		l2_err(l, "%s", what);
		slot = -ENOENT;
	} else {
		l2_err(l, "no key available with this passphrase");
		slot = -EPERM;
	}
	l2_secure_free(vk, LUKS2_VK_MAX);
	return slot;
}

int l2_unlock_digest(struct luks2 *l, const char *digest_id, const char *pass,
		     size_t pass_len, unsigned char *vk_out, size_t vk_cap, size_t *vk_len)
{
	unsigned char *vk;
	int i, r, slot = -ENOENT;
	char id[12];

	if (!l->jobj)
		return -EINVAL;
	vk = l2_vk_alloc(l);
	if (!vk)
		return -ENOMEM;
	for (i = 0; i < LUKS2_KEYSLOTS_MAX && slot < 0; i++) {
		snprintf(id, sizeof(id), "%d", i);
		r = try_keyslot_for(l, id, digest_id, pass, pass_len, vk, vk_len);
		if (!r)
			slot = i;
		else if (r != -ENOENT && (slot == -ENOENT || r != -EPERM))
			slot = r;
	}
	if (slot >= 0 && *vk_len > vk_cap)
		slot = -ENOSPC;
	else if (slot >= 0)
		memcpy(vk_out, vk, *vk_len);
	l2_secure_free(vk, LUKS2_VK_MAX);
	return slot;
}

int luks2_unlock(struct luks2 *l, int keyslot, const char *pass, size_t pass_len,
		 void *vk_out, size_t vk_cap, size_t *vk_len)
{
	char what[64];

	if (keyslot >= LUKS2_KEYSLOTS_MAX) {
		l2_err(l, "keyslot %d out of range", keyslot);
		return -EINVAL;
	}
	/* one keyslot when asked for (any priority); else priority 2, then 1 */
	if (keyslot < 0)
		return unlock_slots(l, UINT32_MAX, 1, "no usable keyslot", pass, pass_len,
				    vk_out, vk_cap, vk_len);
	snprintf(what, sizeof(what), _("keyslot %d is not in use or not usable"), keyslot);
	return unlock_slots(l, 1U << keyslot, 0, what, pass, pass_len, vk_out, vk_cap, vk_len);
}

int luks2_unlock_other(struct luks2 *l, int except, const char *pass, size_t pass_len,
		       void *vk_out, size_t vk_cap, size_t *vk_len)
{
	uint32_t others = except >= 0 && except < LUKS2_KEYSLOTS_MAX ? ~(1U << except) : UINT32_MAX;

	return unlock_slots(l, others, 0, "no other usable keyslot", pass, pass_len, vk_out,
			    vk_cap, vk_len);
}

uint32_t luks2_keyslots_usable(struct luks2 *l)
{
	const char *seg_id, *ks_id;
	json_object *seg_digest;
	uint32_t m = 0;
	char id[12];
	int i;

	if (!l->jobj || l->inspect_only)
		return 0;
	seg_digest = segment_digest(l, &seg_id);
	if (!seg_digest)
		return 0;
	for (i = 0; i < LUKS2_KEYSLOTS_MAX; i++) {
		json_object *ks;

		snprintf(id, sizeof(id), "%d", i);
		ks = l2_obj(l2_obj(l->jobj, "keyslots"), id);
		/* as try_keyslot: a "luks2" keyslot bound to the segment's digest */
		if (ks && !strcmp(l2_str(ks, "type") ?: "", "luks2") &&
		    l2_digest_for_keyslot(l->jobj, id, &ks_id) && !strcmp(ks_id, seg_id))
			m |= 1U << i;
	}
	return m;
}

struct area {
	uint64_t off, len;
};

/* First fit in the keyslots area, aligned to 4096, avoiding every keyslot. */
static int alloc_area(struct luks2 *l, uint64_t len, uint64_t *off)
{
	json_object *keyslots = l2_obj(l->jobj, "keyslots");
	uint64_t cand = 2 * l->hdr_size, end = 2 * l->hdr_size + l->keyslots_size;
	bool moved = true;

	while (moved) {
		moved = false;
		json_object_object_foreach(keyslots, key, val) {
			uint64_t o, s;

			(void)key;
			if (!l2_u64(l2_obj(val, "area"), "offset", &o) ||
			    !l2_u64(l2_obj(val, "area"), "size", &s))
				continue;
			if (cand < o + s && o < cand + len) {
				cand = (o + s + 4095) / 4096 * 4096;
				moved = true;
			}
		}
	}
	if (cand + len > end) {
		l2_err(l, "no space left in the keyslots area for a %" PRIu64 "-byte keyslot", len);
		return -ENOSPC;
	}
	*off = cand;
	return 0;
}

int l2_keyslot_wipe_area(struct luks2 *l, uint64_t off, uint64_t len)
{
	unsigned char buf[65536];
	uint64_t done;
	int r = 0;

	if (off >= l->dev_size)
		return 0;
	if (off + len > l->dev_size)
		len = l->dev_size - off;
	r = l2_write_begin(l);
	if (r)
		return r;
	for (done = 0; done < len && !r; done += sizeof(buf)) {
		size_t n = len - done < sizeof(buf) ? (size_t)(len - done) : sizeof(buf);

		r = l2_random(buf, n);
		if (!r)
			r = l2_pwrite_all(l->fd, buf, n, off + done);
	}
	if (!r && fdatasync(l->fd))
		r = -errno;
	l2_write_end(l);
	if (r)
		l2_err(l, "wiping the keyslot area at %" PRIu64 " failed: %s", off, strerror(-r));
	return r;
}

/* A keyslot made without the lock, to be stored under it. */
void l2_new_keyslot_free(struct l2_new_keyslot *n)
{
	json_object_put(n->ks);
	l2_secure_free(n->mat, n->mlen);
	memset(n, 0, sizeof(*n));
}

/* Writes the material of N (under l2_write_begin) before any header names it. */
int l2_keyslot_store(struct luks2 *l, const struct l2_new_keyslot *n)
{
	int r = l2_pwrite_all(l->fd, n->mat, n->mlen, n->off);

	if (!r && fdatasync(l->fd))
		r = -errno;
	if (r)
		l2_err(l, "writing the keyslot area failed: %s", strerror(-r));
	return r;
}

/*
 * Derives a key from PASS (the slow part, done without the lock) and
 * encrypts the AF-split VK for a free area of the header as read.
 */
int l2_keyslot_make(struct luks2 *l, const void *vk, size_t vk_len, const char *pass,
			size_t pass_len, const struct luks2_pbkdf *pbkdf, struct l2_new_keyslot *out)
{
	const char *seg_enc = NULL, *enc = "aes-xts-plain64", *af_hash;
	size_t akey_len = 64, mlen = af_sectors_len(vk_len);
	uint64_t area_len = (vk_len * L2_STRIPES + 4095) / 4096 * 4096, off;
	unsigned char salt[L2_SALT_SIZE], *dkey = NULL, *mat = NULL;
	json_object *segs = l2_obj(l->jobj, "segments"), *ks = NULL, *o;
	struct l2_kdf k;
	char *b_salt = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	json_object_object_foreach(segs, sid, sval) {
		(void)sid;
		if (!strcmp(l2_str(sval, "type") ?: "", "crypt")) {
			seg_enc = l2_str(sval, "encryption");
			break;
		}
	}
	/* like cryptsetup: the keyslot uses the data cipher when it can */
	if (seg_enc && l2_area_cipher_ok(seg_enc, vk_len)) {
		enc = seg_enc;
		akey_len = vk_len;
	}
	r = alloc_area(l, area_len, &off);
	if (r)
		return r;
	if (off + area_len > l->dev_size) {
		l2_err(l, "%s is too small for a keyslot at %" PRIu64, l->path, off);
		return -ENOSPC;
	}
	r = l2_kdf_choose(pbkdf, akey_len, &k);
	if (r) {
		l2_err(l, "invalid key derivation parameters");
		return r;
	}
	dkey = l2_secure_alloc(akey_len);
	mat = l2_secure_alloc(mlen);
	if (!dkey || !mat) {
		l2_err(l, "cannot allocate locked memory");
		r = -ENOMEM;
		goto out;
	}
	r = l2_random(salt, sizeof(salt));
	if (!r)
		r = l2_kdf_derive(&k, pass, pass_len, salt, sizeof(salt), dkey, akey_len);
	if (r) {
		if (r == -ENOMEM)
			l2_err(l, "%s failed (not enough memory)",
			       l2_kdf_name(k.type));
		else
			l2_err(l, "%s failed",
			       l2_kdf_name(k.type));
		goto out;
	}
	/* like cryptsetup: a pbkdf2 keyslot's AF hash is its KDF hash */
	af_hash = k.type == LUKS2_KDF_PBKDF2 ? k.hash : "sha256";
	r = l2_af_split(vk, vk_len, L2_STRIPES, af_hash, mat);
	if (!r)
		r = l2_area_crypt(enc, dkey, akey_len, mat, mlen, true);
	if (r) {
		l2_err(l, "keyslot encryption failed");
		goto out;
	}
	r = -ENOMEM;
	b_salt = l2_b64_encode(salt, sizeof(salt));
	ks = json_object_new_object();
	if (!b_salt || !ks)
		goto out;
	json_object_object_add(ks, "type", json_object_new_string("luks2"));
	json_object_object_add(ks, "key_size", json_object_new_int64((int64_t)vk_len));
	o = json_object_new_object();
	json_object_object_add(o, "type", json_object_new_string("luks1"));
	json_object_object_add(o, "stripes", json_object_new_int(L2_STRIPES));
	json_object_object_add(o, "hash", json_object_new_string(af_hash));
	json_object_object_add(ks, "af", o);
	o = json_object_new_object();
	json_object_object_add(o, "type", json_object_new_string("raw"));
	json_object_object_add(o, "offset", l2_new_u64(off));
	json_object_object_add(o, "size", l2_new_u64(area_len));
	json_object_object_add(o, "encryption", json_object_new_string(enc));
	json_object_object_add(o, "key_size", json_object_new_int64((int64_t)akey_len));
	json_object_object_add(ks, "area", o);
	o = json_object_new_object();
	json_object_object_add(o, "type", json_object_new_string(l2_kdf_name(k.type)));
	if (k.type == LUKS2_KDF_PBKDF2) {
		json_object_object_add(o, "hash", json_object_new_string(k.hash));
		json_object_object_add(o, "iterations", json_object_new_int64(k.iterations));
	} else {
		json_object_object_add(o, "time", json_object_new_int64(k.iterations));
		json_object_object_add(o, "memory", json_object_new_int64(k.memory_kb));
		json_object_object_add(o, "cpus", json_object_new_int64(k.parallel));
	}
	json_object_object_add(o, "salt", json_object_new_string(b_salt));
	json_object_object_add(ks, "kdf", o);
	out->ks = ks;
	out->mat = mat;
	out->mlen = mlen;
	out->off = off;
	mat = NULL;
	r = 0;
out:
	free(b_salt);
	l2_secure_free(dkey, akey_len);
	l2_secure_free(mat, mlen);
	return r;
}

int l2_need_rw(struct luks2 *l)
{
	int r = l2_usable(l);

	if (r)
		return r;
	if (!l->rw) {
		l2_err(l, "%s: opened read-only", l->path);
		return -EROFS;
	}
	return 0;
}

/*
 * Writes the header; on failure puts SAVED (a copy from before) back,
 * unless the new header reached one copy (then it is the one in effect).
 */
int l2_commit(struct luks2 *l, json_object *saved)
{
	int r = l2_disk_write(l);

	if (r && !l->partial_write) {
		json_object_put(l->jobj);
		l->jobj = saved;
	} else {
		json_object_put(saved);
	}
	return r;
}

uint64_t l2_keyslots_end(struct luks2 *l)
{
	uint64_t end = 2 * l->hdr_size, o, s;

	json_object_object_foreach(l2_obj(l->jobj, "keyslots"), kid, kval) {
		(void)kid;
		if (l2_u64(l2_obj(kval, "area"), "offset", &o) &&
		    l2_u64(l2_obj(kval, "area"), "size", &s) && o + s > end)
			end = o + s;
	}
	return (end + 4095) / 4096 * 4096;
}

json_object *l2_snapshot(struct luks2 *l)
{
	json_object *copy = NULL;

	if (json_object_deep_copy(l->jobj, &copy, NULL))
		l2_err(l, "out of memory");
	return copy;
}

int l2_write_begin_snapshot(struct luks2 *l, json_object **saved)
{
	int r;

	r = l2_write_begin(l);
	if (r)
		return r;
	*saved = l2_snapshot(l);
	if (!*saved) {
		l2_write_end(l);
		return -ENOMEM;
	}
	return 0;
}

/*
 * Writes N's key material, then copies the JSON tree to roll back to if the
 * header write fails.  *R is 0 on success; the copy is NULL otherwise.
 */
static json_object *store_then_snapshot(struct luks2 *l, const struct l2_new_keyslot *n, int *r)
{
	json_object *saved;

	*r = l2_keyslot_store(l, n);
	if (*r)
		return NULL;
	saved = l2_snapshot(l);
	if (!saved)
		*r = -ENOMEM;
	return saved;
}

int luks2_add_keyslot(struct luks2 *l, int keyslot, const void *vk, size_t vk_len,
		      const char *pass, size_t pass_len, const struct luks2_pbkdf *pbkdf)
{
	json_object *keyslots, *digest, *saved;
	struct l2_new_keyslot nk;
	const char *did;
	char id[12];
	int r;

	r = l2_need_rw(l);
	if (r)
		return r;
	keyslots = l2_obj(l->jobj, "keyslots");
	digest = segment_digest(l, &did);
	if (!digest) {
		l2_err(l, "no digest for the data segment");
		return -EINVAL;
	}
	if (!vk_len || vk_len > LUKS2_VK_MAX) {
		l2_err(l, "invalid volume key size");
		return -EINVAL;
	}
	r = l2_digest_verify(digest, vk, vk_len);
	if (r) {
		l2_err(l, "the volume key does not match this device");
		return r == -EPERM ? -EPERM : r;
	}
	if (keyslot < 0) {
		for (keyslot = 0; keyslot < LUKS2_KEYSLOTS_MAX; keyslot++) {
			snprintf(id, sizeof(id), "%d", keyslot);
			if (!l2_obj(keyslots, id))
				break;
		}
		if (keyslot == LUKS2_KEYSLOTS_MAX) {
			l2_err(l, "all keyslots are in use");
			return -ENOSPC;
		}
	} else if (keyslot >= LUKS2_KEYSLOTS_MAX) {
		l2_err(l, "keyslot %d out of range", keyslot);
		return -EINVAL;
	}
	snprintf(id, sizeof(id), "%d", keyslot);
	if (l2_obj(keyslots, id)) {
		l2_err(l, "keyslot %d is in use", keyslot);
		return -EEXIST;
	}
	r = l2_keyslot_make(l, vk, vk_len, pass, pass_len, pbkdf, &nk);
	if (r)
		return r;
	r = l2_write_begin(l);
	if (r)
		goto out;
	saved = store_then_snapshot(l, &nk, &r);
	if (!r) {
		json_object_object_add(keyslots, id, nk.ks);
		nk.ks = NULL;
		json_object_array_add(l2_obj(digest, "keyslots"), json_object_new_string(id));
		r = l2_commit(l, saved);
	}
	l2_write_end(l);
out:
	l2_new_keyslot_free(&nk);
	return r ? r : keyslot;
}

/* Drops keyslot ID and every reference to it from the JSON tree. */
static void forget_keyslot(struct luks2 *l, const char *id)
{
	json_object *sec;

	json_object_object_del(l2_obj(l->jobj, "keyslots"), id);
	sec = l2_obj(l->jobj, "digests");
	json_object_object_foreach(sec, dk, dv) {
		(void)dk;
		l2_array_remove(l2_obj(dv, "keyslots"), id);
	}
	sec = l2_obj(l->jobj, "tokens");
	json_object_object_foreach(sec, tk, tv) {
		(void)tk;
		l2_array_remove(l2_obj(tv, "keyslots"), id);
	}
}

int luks2_kill_slot(struct luks2 *l, int keyslot)
{
	json_object *ks, *saved;
	uint64_t off = 0, len = 0;
	char id[12];
	int r;

	r = l2_need_rw(l);
	if (r)
		return r;
	if (keyslot < 0 || keyslot >= LUKS2_KEYSLOTS_MAX) {
		l2_err(l, "keyslot %d out of range", keyslot);
		return -EINVAL;
	}
	snprintf(id, sizeof(id), "%d", keyslot);
	ks = l2_obj(l2_obj(l->jobj, "keyslots"), id);
	if (!ks) {
		l2_err(l, "keyslot %d is not in use", keyslot);
		return -ENOENT;
	}
	l2_u64(l2_obj(ks, "area"), "offset", &off);
	l2_u64(l2_obj(ks, "area"), "size", &len);
	r = l2_write_begin_snapshot(l, &saved);
	if (r)
		return r;
	forget_keyslot(l, id);
	r = l2_commit(l, saved);
	/* the area goes only once no header copy names it any more */
	if (!r)
		r = l2_keyslot_wipe_area(l, off, len);
	l2_write_end(l);
	return r;
}

int luks2_remove_key(struct luks2 *l, const char *pass, size_t pass_len)
{
	unsigned char *vk = l2_vk_alloc(l);
	size_t vk_len;
	int slot, r;

	if (!vk)
		return -ENOMEM;
	r = l2_need_rw(l);
	slot = r ? r : luks2_unlock(l, -1, pass, pass_len, vk, LUKS2_VK_MAX, &vk_len);
	l2_secure_free(vk, LUKS2_VK_MAX);
	if (slot < 0)
		return slot;
	r = luks2_kill_slot(l, slot);
	return r ? r : slot;
}

int luks2_change_key(struct luks2 *l, int keyslot, const char *old_pass, size_t old_len,
		     const char *new_pass, size_t new_len, const struct luks2_pbkdf *pbkdf)
{
	struct l2_new_keyslot nk = { 0 };
	json_object *old, *saved;
	uint64_t off = 0, len = 0;
	unsigned char *vk;
	size_t vk_len;
	char id[12];
	int slot, r;

	r = l2_need_rw(l);
	if (r)
		return r;
	vk = l2_vk_alloc(l);
	if (!vk)
		return -ENOMEM;
	slot = luks2_unlock(l, keyslot, old_pass, old_len, vk, LUKS2_VK_MAX, &vk_len);
	if (slot < 0) {
		r = slot;
		goto out;
	}
	snprintf(id, sizeof(id), "%d", slot);
	old = l2_obj(l2_obj(l->jobj, "keyslots"), id);
	l2_u64(l2_obj(old, "area"), "offset", &off);
	l2_u64(l2_obj(old, "area"), "size", &len);
	r = l2_keyslot_make(l, vk, vk_len, new_pass, new_len, pbkdf, &nk);
	if (r)
		goto out;
	/* keep the priority the old keyslot had */
	if (l2_obj(old, "priority"))
		json_object_object_add(nk.ks, "priority",
				       json_object_get(l2_obj(old, "priority")));
	r = l2_write_begin(l);
	if (r)
		goto out;
	saved = store_then_snapshot(l, &nk, &r);
	if (!r) {
		/* same id: digests and tokens keep pointing at it */
		json_object_object_add(l2_obj(l->jobj, "keyslots"), id, nk.ks);
		nk.ks = NULL;
		r = l2_commit(l, saved);
	}
	if (!r)
		r = l2_keyslot_wipe_area(l, off, len);
	l2_write_end(l);
out:
	l2_new_keyslot_free(&nk);
	l2_secure_free(vk, LUKS2_VK_MAX);
	return r ? r : slot;
}

int luks2_erase(struct luks2 *l)
{
	struct area areas[LUKS2_KEYSLOTS_MAX];
	json_object *saved, *keyslots;
	int n = 0, i, r;

	r = l2_need_rw(l);
	if (r)
		return r;
	r = l2_write_begin_snapshot(l, &saved);
	if (r)
		return r;
	keyslots = l2_obj(l->jobj, "keyslots");
	for (i = 0; i < LUKS2_KEYSLOTS_MAX; i++) {
		char id[12];
		json_object *ks;

		snprintf(id, sizeof(id), "%d", i);
		ks = l2_obj(keyslots, id);
		if (!ks)
			continue;
		if (l2_u64(l2_obj(ks, "area"), "offset", &areas[n].off) &&
		    l2_u64(l2_obj(ks, "area"), "size", &areas[n].len))
			n++;
		forget_keyslot(l, id);
	}
	r = l2_commit(l, saved);
	for (i = 0; !r && i < n; i++)
		r = l2_keyslot_wipe_area(l, areas[i].off, areas[i].len);
	l2_write_end(l);
	return r;
}
