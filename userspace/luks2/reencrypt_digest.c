// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * luks2: the re-encryption metadata digest (CVE-2021-4122).
 *
 * The LUKS2 header is not authenticated, so before cryptsetup 2.4 an
 * attacker with write access could plant re-encryption metadata that made
 * the next unlock "resume" a decryption and write plaintext to the disk.
 * Since 2.4 the metadata is covered by a "pbkdf2" digest bound to the
 * reencrypt keyslot, keyed by the volume keys, which an attacker without a
 * passphrase cannot compute.  The digested message, as cryptsetup builds it
 * (lib/luks2/luks2_reencrypt_digest.c; the layout is the on-disk format):
 *
 *   'v', '0' + version          version of the online-reencrypt requirement
 *   old volume key              when backup-previous has a digest
 *   new volume key              when backup-final has another digest
 *   reencrypt keyslot           mode, direction, area type, offset, size,
 *                               then for checksum: hash, sector_size;
 *                               datashift(-journal): shift_size;
 *                               datashift-checksum: hash, sector_size, shift_size
 *   backup-previous segment     crypt: type, offset, size, iv_tweak,
 *   backup-final segment          encryption, sector_size;
 *   backup-moved-segment (opt)    linear: type, offset, size
 *
 * Strings go without terminator (1..64 bytes); decimal-string u64 fields as
 * big-endian u64, except a size "dynamic", which goes as that word; JSON
 * integers as big-endian u32.  A missing or malformed field makes the
 * whole message invalid (cryptsetup refuses it too).  The message holds
 * the volume keys: it lives in locked memory and is wiped on every path.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "luks2_internal.h"

#define FIELD_STR_MAX	64
/* version + two keys + keyslot and three segments' fields, with room */
#define MSG_CAP		(2 + 2 * LUKS2_VK_MAX + 4096)

struct msg {
	unsigned char *p;
	size_t len;
	bool bad;
};

static void put(struct msg *m, const void *b, size_t n)
{
	if (m->bad || n > MSG_CAP - m->len) {
		m->bad = true;
		return;
	}
	memcpy(m->p + m->len, b, n);
	m->len += n;
}

static void put_str(struct msg *m, json_object *o, const char *key)
{
	const char *s = l2_str(o, key);
	size_t n = s ? strlen(s) : 0;

	if (!n || n > FIELD_STR_MAX)
		m->bad = true;
	else
		put(m, s, n);
}

static void put_be64(struct msg *m, uint64_t v)
{
	unsigned char b[8];

	l2_put_be64(b, v);
	put(m, b, sizeof(b));
}

static void put_u64(struct msg *m, json_object *o, const char *key)
{
	uint64_t v;

	if (!l2_u64(o, key, &v))
		m->bad = true;
	else
		put_be64(m, v);
}

static void put_size(struct msg *m, json_object *o, const char *key)
{
	if (!strcmp(l2_str(o, key) ?: "", "dynamic"))
		put(m, "dynamic", 7);
	else
		put_u64(m, o, key);
}

static void put_u32(struct msg *m, json_object *o, const char *key)
{
	unsigned char b[4];
	int64_t v;

	if (!l2_int(o, key, &v) || v < 0 || v > UINT32_MAX) {
		m->bad = true;
		return;
	}
	b[0] = (unsigned char)(v >> 24);
	b[1] = (unsigned char)(v >> 16);
	b[2] = (unsigned char)(v >> 8);
	b[3] = (unsigned char)v;
	put(m, b, sizeof(b));
}

static void put_segment(struct msg *m, json_object *seg)
{
	const char *type = l2_str(seg, "type");

	if (!seg || !type || (strcmp(type, "crypt") && strcmp(type, "linear"))) {
		m->bad = true;
		return;
	}
	put_str(m, seg, "type");
	put_u64(m, seg, "offset");
	put_size(m, seg, "size");
	if (strcmp(type, "crypt"))
		return;
	put_u64(m, seg, "iv_tweak");
	put_str(m, seg, "encryption");
	put_u32(m, seg, "sector_size");
}

static void put_keyslot(struct msg *m, json_object *ks)
{
	json_object *area = l2_obj(ks, "area");
	const char *type = l2_str(area, "type") ?: "";

	put_str(m, ks, "mode");
	put_str(m, ks, "direction");
	put_str(m, area, "type");
	put_u64(m, area, "offset");
	put_u64(m, area, "size");
	if (!strcmp(type, "checksum") || !strcmp(type, "datashift-checksum")) {
		put_str(m, area, "hash");
		put_u32(m, area, "sector_size");
	}
	if (!strncmp(type, "datashift", 9))
		put_u64(m, area, "shift_size");
}

/* The digest ids of the old and new volume keys (NULL: none, e.g. linear). */
static void key_digests(struct luks2 *l, const char **old_id, const char **new_id)
{
	const char *sid;

	*old_id = *new_id = NULL;
	if (l2_segment_flagged(l, "backup-previous", &sid))
		l2_digest_for_segment(l->jobj, sid, old_id);
	if (l2_segment_flagged(l, "backup-final", &sid))
		l2_digest_for_segment(l->jobj, sid, new_id);
	if (*old_id && *new_id && !strcmp(*old_id, *new_id))
		*new_id = NULL;		/* one key (e.g. a pure data shift) */
}

/*
 * Builds the message in M (M->p: MSG_CAP bytes of locked memory) from the
 * keys given; 0, or -EINVAL with the error set.
 */
static int build(struct luks2 *l, struct luks2_reencrypt *st, const void *vk_old,
		 size_t old_len, const void *vk_new, size_t new_len, struct msg *m)
{
	const char *old_id, *new_id, *sid;
	json_object *ks, *moved;
	unsigned char head[2];
	char id[12];

	key_digests(l, &old_id, &new_id);
	if ((old_id && !vk_old) || (new_id && !vk_new) || (!old_id && !new_id)) {
		l2_err(l, "reencryption metadata: the keys it needs were not given");
		return -EINVAL;
	}
	if (st->version < 2 || st->version > 9) {
		l2_err(l, "reencryption metadata of version %d is not authenticated "
		       "(written before cryptsetup 2.4): refusing it", st->version);
		return -EINVAL;
	}
	head[0] = 'v';
	head[1] = (unsigned char)('0' + st->version);
	put(m, head, 2);
	if (old_id)
		put(m, vk_old, old_len);
	if (new_id)
		put(m, vk_new, new_len);
	snprintf(id, sizeof(id), "%d", st->keyslot);
	ks = l2_obj(l2_obj(l->jobj, "keyslots"), id);
	put_keyslot(m, ks);
	put_segment(m, l2_segment_flagged(l, "backup-previous", &sid));
	put_segment(m, l2_segment_flagged(l, "backup-final", &sid));
	moved = l2_segment_flagged(l, "backup-moved-segment", &sid);
	if (moved)
		put_segment(m, moved);
	if (m->bad) {
		l2_err(l, "reencryption metadata: a field the digest covers is missing or malformed");
		return -EINVAL;
	}
	return 0;
}

int luks2_reencrypt_verify_keys(struct luks2 *l, const void *vk_old, size_t old_len,
				const void *vk_new, size_t new_len)
{
	struct luks2_reencrypt st;
	struct msg m = { 0 };
	json_object *d;
	char id[12];
	int r;

	r = l2_reencrypt_status(l, &st);
	if (r)
		return r;
	snprintf(id, sizeof(id), "%d", st.keyslot);
	d = l2_digest_for_keyslot(l->jobj, id, NULL);
	if (!d) {
		l2_err(l, "reencryption metadata has no digest (CVE-2021-4122 protection "
		       "missing): refusing it");
		return -EPERM;
	}
	m.p = l2_secure_alloc(MSG_CAP);
	if (!m.p) {
		l2_err(l, "cannot allocate locked memory");
		return -ENOMEM;
	}
	r = build(l, &st, vk_old, old_len, vk_new, new_len, &m);
	if (!r) {
		r = l2_digest_verify(d, m.p, m.len);
		if (r == -EPERM)
			l2_err(l, "reencryption metadata is invalid: its digest does not match "
			       "(tampered with, or not written with these keys): refusing it");
		else if (r)
			l2_err(l, "reencryption metadata: cannot verify its digest (%s)",
			       strerror(-r));
	}
	l2_secure_free(m.p, MSG_CAP);
	return r;
}

int luks2_reencrypt_verify(struct luks2 *l, const char *pass, size_t pass_len)
{
	unsigned char *vk_old = NULL, *vk_new = NULL;
	size_t old_len = 0, new_len = 0;
	const char *old_id, *new_id;
	struct luks2_reencrypt st;
	int r;

	r = l2_reencrypt_status(l, &st);
	if (r)
		return r;
	key_digests(l, &old_id, &new_id);
	vk_old = l2_secure_alloc(LUKS2_VK_MAX);
	vk_new = l2_secure_alloc(LUKS2_VK_MAX);
	if (!vk_old || !vk_new) {
		l2_err(l, "cannot allocate locked memory");
		r = -ENOMEM;
		goto out;
	}
	if (old_id) {
		r = l2_unlock_digest(l, old_id, pass, pass_len, vk_old, LUKS2_VK_MAX, &old_len);
		if (r < 0)
			goto nokey;
	}
	if (new_id) {
		r = l2_unlock_digest(l, new_id, pass, pass_len, vk_new, LUKS2_VK_MAX, &new_len);
		if (r < 0)
			goto nokey;
	}
	r = luks2_reencrypt_verify_keys(l, old_id ? vk_old : NULL, old_len,
					new_id ? vk_new : NULL, new_len);
	goto out;
nokey:
	if (r == -EPERM || r == -ENOENT) {
		l2_err(l, "the passphrase does not open the %s volume key of the reencryption",
		       old_len || !old_id ? "new" : "old");
		r = -ENOKEY;
	}
out:
	l2_secure_free(vk_old, LUKS2_VK_MAX);
	l2_secure_free(vk_new, LUKS2_VK_MAX);
	return r;
}

json_object *l2_reencrypt_digest_create(struct luks2 *l, const void *vk_old, size_t old_len,
					const void *vk_new, size_t new_len, const char *hash,
					uint32_t iterations)
{
	struct luks2_reencrypt st;
	struct msg m = { 0 };
	json_object *d = NULL;

	if (luks2_reencrypt_status(l, &st))
		return NULL;
	m.p = l2_secure_alloc(MSG_CAP);
	if (!m.p) {
		l2_err(l, "cannot allocate locked memory");
		return NULL;
	}
	if (!build(l, &st, vk_old, old_len, vk_new, new_len, &m)) {
		d = l2_digest_new(m.p, m.len, hash, iterations);
		if (!d)
			l2_err(l, "cannot compute the reencryption digest");
	}
	l2_secure_free(m.p, MSG_CAP);
	return d;
}
