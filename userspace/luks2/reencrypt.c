// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * luks2: recognising a re-encryption in progress (cryptsetup reencrypt's
 * metadata, LUKS2 requirement "online-reencrypt-v2").
 *
 * While cryptsetup re-encrypts, encrypts or decrypts a volume its header
 * carries: the mandatory requirement "online-reencrypt[-vN]"; one keyslot of
 * type "reencrypt" (mode, direction, and in its "area" the resilience:
 * none, checksum, journal, datashift, or datashift-checksum/-journal); data
 * segments that are already under the new key, the hotzone being moved
 * (flag "in-reencryption") and those still under the old key; and segments
 * that describe the whole old and new layout ("backup-previous",
 * "backup-final", "backup-moved-segment").  This file checks the keyslot's
 * format and reports the state; reencrypt_digest.c authenticates it.
 * Nothing here acts on the metadata: vaultctl maps and changes no volume
 * in this state.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "luks2_internal.h"

static bool one_of(const char *s, const char *const *set)
{
	for (; s && *set; set++)
		if (!strcmp(s, *set))
			return true;
	return false;
}

static const char *const modes[] = { "reencrypt", "encrypt", "decrypt", NULL };
static const char *const directions[] = { "forward", "backward", NULL };
static const char *const resiliences[] = { "none", "checksum", "journal", "datashift",
					   "datashift-checksum", "datashift-journal", NULL };

int l2_reencrypt_requirement_version(const char *req)
{
	if (!req)
		return 0;
	if (!strcmp(req, "online-reencrypt"))
		return 1;
	if (!strcmp(req, "online-reencrypt-v2"))
		return 2;
	if (!strcmp(req, "online-reencrypt-v3"))
		return 3;
	return 0;
}

void l2_reencrypt_require(struct luks2 *l)
{
	json_object *req = json_object_new_object(), *mand = json_object_new_array();

	json_object_array_add(mand, json_object_new_string("online-reencrypt-v2"));
	json_object_object_add(req, "mandatory", mand);
	json_object_object_add(l2_obj(l->jobj, "config"), "requirements", req);
}

#define FAIL(...) do { l2_err(l, __VA_ARGS__); return -EINVAL; } while (0)

int l2_reencrypt_keyslot_check(struct luks2 *l, const char *what, json_object *ks)
{
	json_object *area = l2_obj(ks, "area");
	const char *type = l2_str(area, "type");
	uint64_t shift;
	int64_t v;

	if (!l2_int(ks, "key_size", &v) || v != 1)
		FAIL("%s: invalid reencryption keyslot: key_size must be 1", what);
	if (!one_of(l2_str(ks, "mode"), modes))
		FAIL("%s: invalid reencryption keyslot: mode missing or unknown", what);
	if (!one_of(l2_str(ks, "direction"), directions))
		FAIL("%s: invalid reencryption keyslot: direction missing or unknown", what);
	if (!one_of(type, resiliences))
		FAIL("%s: invalid reencryption keyslot: resilience type missing or unknown", what);
	if (strstr(type, "checksum")) {
		if (!l2_hash(l2_str(area, "hash")))
			FAIL("%s: invalid reencryption keyslot: checksum resilience without a supported hash", what);
		if (!l2_int(area, "sector_size", &v) || v < 512 || v > 4096 || (v & (v - 1)))
			FAIL("%s: invalid reencryption keyslot: checksum resilience without a valid sector_size", what);
	}
	if (!strncmp(type, "datashift", 9)) {
		if (!l2_u64(area, "shift_size", &shift) || !shift || shift % 512)
			FAIL("%s: invalid reencryption keyslot: datashift resilience without a valid shift_size", what);
	}
	return 0;
}

/* The only segment flagged FLAG, or NULL (none, or several); *ID its id. */
json_object *l2_segment_flagged(struct luks2 *l, const char *flag, const char **id)
{
	json_object *found = NULL;

	json_object_object_foreach(l2_obj(l->jobj, "segments"), sid, sval) {
		if (!l2_array_has(l2_obj(sval, "flags"), flag))
			continue;
		if (found)
			return NULL;
		found = sval;
		if (id)
			*id = sid;
	}
	return found;
}

static bool is_backup(json_object *seg)
{
	json_object *fl = l2_obj(seg, "flags");

	return l2_array_has(fl, "backup-previous") || l2_array_has(fl, "backup-final") ||
	       l2_array_has(fl, "backup-moved-segment");
}

bool l2_segment_is_backup(json_object *seg)
{
	return is_backup(seg);
}

/* Segment size in bytes ("dynamic": up to the end of the device). */
static uint64_t seg_size(struct luks2 *l, json_object *seg)
{
	uint64_t off = 0, size = 0;

	l2_u64(seg, "offset", &off);
	if (!strcmp(l2_str(seg, "size") ?: "", "dynamic"))
		return l->dev_size > off ? l->dev_size - off : 0;
	l2_u64(seg, "size", &size);
	return size;
}

static int reencrypt_keyslot(struct luks2 *l, json_object **ks)
{
	int found = -ENOENT;

	json_object_object_foreach(l2_obj(l->jobj, "keyslots"), kid, kval) {
		if (strcmp(l2_str(kval, "type") ?: "", "reencrypt"))
			continue;
		if (found >= 0)
			return -EINVAL;
		found = (int)strtol(kid, NULL, 10);
		*ks = kval;
	}
	return found;
}

int l2_reencrypt_version(struct luks2 *l)
{
	json_object *mand = l2_obj(l2_obj(l2_obj(l->jobj, "config"), "requirements"), "mandatory");
	size_t i, n = mand ? json_object_array_length(mand) : 0;
	int v;

	for (i = 0; i < n; i++) {
		v = l2_reencrypt_requirement_version(
			json_object_get_string(json_object_array_get_idx(mand, i)));
		if (v)
			return v;
	}
	return 0;
}

int luks2_reencrypt_status(struct luks2 *l, struct luks2_reencrypt *r)
{
	json_object *ks = NULL, *area, *prev = NULL, *fin = NULL;
	const char *fid = NULL;
	const char *fin_digest = NULL, *d;
	bool fin_crypt;
	int64_t v;

	memset(r, 0, sizeof(*r));
	r->keyslot = -1;
	if (!l->jobj) {
		l2_err(l, "no header loaded");
		return -EINVAL;
	}
	r->version = l2_reencrypt_version(l);
	r->keyslot = reencrypt_keyslot(l, &ks);
	if (!r->version && r->keyslot == -ENOENT)
		return -ENOENT;
	if (!r->version) {
		l2_err(l, "a reencrypt keyslot without the online-reencrypt requirement");
		return -EINVAL;
	}
	if (r->keyslot < 0) {
		l2_err(l, "the online-reencrypt requirement without exactly one reencrypt keyslot");
		return -EINVAL;
	}
	if (l2_reencrypt_keyslot_check(l, "reencrypt keyslot", ks))
		return -EINVAL;
	area = l2_obj(ks, "area");
	snprintf(r->mode, sizeof(r->mode), "%s", l2_str(ks, "mode"));
	snprintf(r->direction, sizeof(r->direction), "%s", l2_str(ks, "direction"));
	snprintf(r->resilience, sizeof(r->resilience), "%s", l2_str(area, "type"));
	snprintf(r->hash, sizeof(r->hash), "%s", l2_str(area, "hash") ?: "");
	if (l2_int(area, "sector_size", &v))
		r->hash_sector_size = (uint32_t)v;
	l2_u64(area, "shift_size", &r->shift_size);
	l2_u64(area, "offset", &r->area_offset);
	l2_u64(area, "size", &r->area_size);

	prev = l2_segment_flagged(l, "backup-previous", NULL);
	fin = l2_segment_flagged(l, "backup-final", &fid);
	if (!prev || !fin) {
		l2_err(l, "reencryption without one backup-previous and one backup-final segment");
		return -EINVAL;
	}
	/* the new layout: crypt under the new key, or linear (decryption) */
	fin_crypt = !strcmp(l2_str(fin, "type") ?: "", "crypt");
	if (fin_crypt) {
		if (!l2_digest_for_segment(l->jobj, fid, &fin_digest)) {
			l2_err(l, "the backup-final segment has no digest");
			return -EINVAL;
		}
	}
	json_object_object_foreach(l2_obj(l->jobj, "segments"), sid, sval) {
		uint64_t n;

		if (is_backup(sval))
			continue;
		n = seg_size(l, sval);
		r->data_size += n;
		if (l2_array_has(l2_obj(sval, "flags"), "in-reencryption")) {
			r->hotzone = true;
			continue;
		}
		if (fin_crypt ? (!strcmp(l2_str(sval, "type") ?: "", "crypt") &&
				 l2_digest_for_segment(l->jobj, sid, &d) && !strcmp(d, fin_digest))
			      : !strcmp(l2_str(sval, "type") ?: "", "linear"))
			r->progress += n;
	}
	/* encryption and decryption start as linear segments only */
	if (!strcmp(r->mode, "encrypt") && !fin_crypt) {
		l2_err(l, "encryption whose final segment is not encrypted");
		return -EINVAL;
	}
	if (!strcmp(r->mode, "decrypt") && fin_crypt) {
		l2_err(l, "decryption whose final segment is encrypted");
		return -EINVAL;
	}
	return 0;
}

int l2_reencrypt_status(struct luks2 *l, struct luks2_reencrypt *st)
{
	int r = luks2_reencrypt_status(l, st);

	if (r == -ENOENT)
		l2_err(l, "no reencryption in progress");
	return r;
}
