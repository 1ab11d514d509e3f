// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * luks2: the JSON metadata area: bounded parsing and complete validation.
 *
 * Everything a later step relies on is checked here once, so keyslot,
 * digest and dump code can read fields without re-checking types.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "luks2_internal.h"

json_object *l2_obj(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

const char *l2_str(json_object *o, const char *key)
{
	json_object *v = l2_obj(o, key);

	if (!v || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

bool l2_u64(json_object *o, const char *key, uint64_t *v)
{
	return l2_parse_u64(l2_str(o, key), v);
}

bool l2_int(json_object *o, const char *key, int64_t *v)
{
	json_object *j = l2_obj(o, key);

	if (!j || !json_object_is_type(j, json_type_int))
		return false;
	*v = json_object_get_int64(j);
	/* json-c saturates numbers beyond int64: refuse them */
	if (*v == INT64_MAX || *v == INT64_MIN)
		return false;
	return true;
}

json_object *l2_new_u64(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return json_object_new_string(buf);
}

bool l2_array_has(json_object *arr, const char *s)
{
	size_t i, n;

	if (!arr || !json_object_is_type(arr, json_type_array))
		return false;
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(arr, i);

		if (json_object_is_type(e, json_type_string) &&
		    !strcmp(json_object_get_string(e), s))
			return true;
	}
	return false;
}

void l2_array_remove(json_object *arr, const char *s)
{
	size_t i;

	if (!arr || !json_object_is_type(arr, json_type_array))
		return;
	for (i = 0; i < json_object_array_length(arr);) {
		json_object *e = json_object_array_get_idx(arr, i);

		if (json_object_is_type(e, json_type_string) &&
		    !strcmp(json_object_get_string(e), s))
			json_object_array_del_idx(arr, i, 1);
		else
			i++;
	}
}

void l2_free_id(json_object *obj, char *id, size_t len)
{
	int i;

	for (i = 0; i < 1024; i++) {
		snprintf(id, len, "%d", i);
		if (!l2_obj(obj, id))
			return;
	}
}

static json_object *digest_listing(json_object *root, const char *field, const char *what,
				   const char **id)
{
	json_object *digests = l2_obj(root, "digests");

	if (!digests)
		return NULL;
	json_object_object_foreach(digests, key, val) {
		if (l2_array_has(l2_obj(val, field), what)) {
			if (id)
				*id = key;
			return val;
		}
	}
	return NULL;
}

json_object *l2_digest_for_keyslot(json_object *root, const char *ks, const char **id)
{
	return digest_listing(root, "keyslots", ks, id);
}

json_object *l2_digest_for_segment(json_object *root, const char *seg, const char **id)
{
	return digest_listing(root, "segments", seg, id);
}

/* Object keys are decimal ids without leading zeros, below MAX. */
static bool numbered(const char *key, uint64_t max)
{
	uint64_t v;

	if (!l2_parse_u64(key, &v) || v >= max)
		return false;
	return key[0] != '0' || key[1] == 0;
}

#define FAIL(...) do { l2_err(l, __VA_ARGS__); return -EINVAL; } while (0)

static int need_object(struct luks2 *l, json_object *o, const char *key, json_object **out)
{
	json_object *v = l2_obj(o, key);

	if (!v || !json_object_is_type(v, json_type_object))
		FAIL("missing or invalid \"%s\" object", key);
	*out = v;
	return 0;
}

static int check_string_array(struct luks2 *l, json_object *arr, const char *what)
{
	size_t i;

	if (!json_object_is_type(arr, json_type_array))
		FAIL("%s is not an array", what);
	for (i = 0; i < json_object_array_length(arr); i++)
		if (!json_object_is_type(json_object_array_get_idx(arr, i), json_type_string))
			FAIL("%s holds a non-string member", what);
	return 0;
}

/* Each member of ARR names an existing member of SECTION. */
static int check_refs(struct luks2 *l, json_object *arr, json_object *section,
		      const char *what)
{
	size_t i;

	if (!arr)
		FAIL("%s: missing array", what);
	if (check_string_array(l, arr, what))
		return -EINVAL;
	for (i = 0; i < json_object_array_length(arr); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(arr, i));

		if (!l2_obj(section, s) || !numbered(s, UINT32_MAX))
			FAIL("%s references \"%s\", which does not exist", what, s);
	}
	return 0;
}

static int check_b64(struct luks2 *l, json_object *o, const char *key, size_t min,
		     size_t max, const char *what, size_t *len)
{
	const char *s = l2_str(o, key);
	unsigned char buf[256];
	long n;

	if (!s)
		FAIL("%s: missing \"%s\"", what, key);
	n = l2_b64_decode(s, strlen(s), buf, sizeof(buf));
	l2_wipe(buf, sizeof(buf));
	if (n < 0 || (size_t)n < min || (size_t)n > max)
		FAIL("%s: \"%s\" is not valid base64 of %zu..%zu bytes", what, key, min, max);
	if (len)
		*len = (size_t)n;
	return 0;
}

static int check_int(struct luks2 *l, json_object *o, const char *key, int64_t min,
		     int64_t max, const char *what, int64_t *out)
{
	int64_t v;

	if (!l2_int(o, key, &v))
		FAIL("%s: missing or invalid integer \"%s\"", what, key);
	if (v < min || v > max)
		FAIL("%s: \"%s\" = %" PRId64 " out of range %" PRId64 "..%" PRId64,
		     what, key, v, min, max);
	if (out)
		*out = v;
	return 0;
}

static int check_kdf(struct luks2 *l, json_object *kdf, const char *what)
{
	const char *type = l2_str(kdf, "type");

	if (!type)
		FAIL("%s: kdf without type", what);
	if (!strcmp(type, "pbkdf2")) {
		if (!l2_hash(l2_str(kdf, "hash")))
			FAIL("%s: pbkdf2 hash missing or unsupported", what);
		if (check_int(l, kdf, "iterations", 1, UINT32_MAX, what, NULL))
			return -EINVAL;
	} else if (!strcmp(type, "argon2i") || !strcmp(type, "argon2id")) {
		if (check_int(l, kdf, "time", 1, UINT32_MAX, what, NULL) ||
		    check_int(l, kdf, "memory", 8, L2_ARGON2_MAX_MEMORY, what, NULL) ||
		    check_int(l, kdf, "cpus", 1, L2_ARGON2_MAX_THREADS, what, NULL))
			return -EINVAL;
	} else {
		FAIL("%s: unknown kdf type \"%s\"", what, type);
	}
	return check_b64(l, kdf, "salt", 1, 255, what, NULL);
}

struct interval {
	uint64_t off, len;
	const char *id;
};

static int check_keyslot(struct luks2 *l, const char *id, json_object *ks, uint64_t hdr_size,
			 uint64_t ks_end, struct interval *iv, unsigned int flags)
{
	char what[48];
	json_object *area, *kdf, *af;
	const char *type, *enc;
	int64_t key_size, area_key_size, stripes, prio;
	uint64_t off, len;

	snprintf(what, sizeof(what), "keyslot %s", id);
	if (!json_object_is_type(ks, json_type_object))
		FAIL("%s is not an object", what);
	type = l2_str(ks, "type");
	if (!type)
		FAIL("%s: missing type", what);
	if (check_int(l, ks, "key_size", 0, UINT32_MAX, what, &key_size))
		return -EINVAL;
	area = l2_obj(ks, "area");
	if (!area || !json_object_is_type(area, json_type_object))
		FAIL("%s: missing area", what);
	if (!l2_u64(area, "offset", &off) || !l2_u64(area, "size", &len))
		FAIL("%s: area offset/size missing or not a 64-bit decimal string", what);
	if (!len)
		FAIL("%s: empty area", what);
	if (off < 2 * hdr_size)
		FAIL("%s: area offset %" PRIu64 " inside the metadata", what, off);
	if (off > UINT64_MAX - len || off + len > ks_end)
		FAIL("%s: area [%" PRIu64 ", +%" PRIu64 "] overflows the keyslots area ending at %" PRIu64,
		     what, off, len, ks_end);
	iv->off = off;
	iv->len = len;
	iv->id = id;

	if (!strcmp(type, "reencrypt")) {
		if (l2_reencrypt_keyslot_check(l, what, ks))
			return -EINVAL;
		if (!(flags & LUKS2_IGNORE_REQUIREMENTS))
			FAIL("%s: reencryption metadata present: vaultctl neither opens nor changes "
			     "a volume in reencryption; finish it with 'cryptsetup reencrypt "
			     "--resume-only %s'", what, l->path ?: "DEVICE");
		return 0;
	}
	if (strcmp(type, "luks2"))
		return 0;	/* unknown type: preserved, never used */

	if (key_size < 1 || key_size > LUKS2_VK_MAX)
		FAIL("%s: key_size %" PRId64 " out of range", what, key_size);
	if (json_object_object_get_ex(ks, "priority", NULL) &&
	    check_int(l, ks, "priority", 0, 2, what, &prio))
		return -EINVAL;
	if (strcmp(l2_str(area, "type") ?: "", "raw"))
		FAIL("%s: area type must be \"raw\"", what);
	enc = l2_str(area, "encryption");
	if (!enc)
		FAIL("%s: area without encryption", what);
	if (l2_cipher_is_null(enc))
		FAIL("%s: refusing null cipher \"%s\" for keyslot encryption", what, enc);
	if (check_int(l, area, "key_size", 1, LUKS2_VK_MAX, what, &area_key_size))
		return -EINVAL;
	if (off % 512)
		FAIL("%s: area offset not aligned to 512 bytes", what);

	kdf = l2_obj(ks, "kdf");
	if (!kdf || !json_object_is_type(kdf, json_type_object))
		FAIL("%s: missing kdf", what);
	if (check_kdf(l, kdf, what))
		return -EINVAL;

	af = l2_obj(ks, "af");
	if (!af || !json_object_is_type(af, json_type_object))
		FAIL("%s: missing af", what);
	if (strcmp(l2_str(af, "type") ?: "", "luks1"))
		FAIL("%s: af type must be \"luks1\"", what);
	if (!l2_hash(l2_str(af, "hash")))
		FAIL("%s: af hash missing or unsupported", what);
	if (check_int(l, af, "stripes", L2_STRIPES, L2_STRIPES, what, &stripes))
		return -EINVAL;
	if ((uint64_t)key_size * (uint64_t)stripes > len)
		FAIL("%s: area of %" PRIu64 " bytes too small for %" PRId64 " x %" PRId64 " AF bytes",
		     what, len, key_size, stripes);
	return 0;
}

static int check_segment(struct luks2 *l, const char *id, json_object *seg, json_object *root)
{
	char what[48];
	const char *type, *size_s, *enc;
	uint64_t off, size = 0, tweak;
	int64_t ssize;
	json_object *flags;

	snprintf(what, sizeof(what), "segment %s", id);
	if (!json_object_is_type(seg, json_type_object))
		FAIL("%s is not an object", what);
	type = l2_str(seg, "type");
	if (!type)
		FAIL("%s: missing type", what);
	if (!l2_u64(seg, "offset", &off))
		FAIL("%s: offset missing or not a 64-bit decimal string", what);
	size_s = l2_str(seg, "size");
	if (!size_s)
		FAIL("%s: missing size", what);
	if (strcmp(size_s, "dynamic")) {
		if (!l2_parse_u64(size_s, &size) || !size)
			FAIL("%s: size \"%s\" is neither \"dynamic\" nor a 64-bit decimal", what, size_s);
	}
	if (off % 512 || size % 512)
		FAIL("%s: offset or size not aligned to 512 bytes", what);
	/* CVE-2020-14382: offset + size must not wrap */
	if (off > UINT64_MAX - size)
		FAIL("%s: offset + size overflows", what);
	flags = l2_obj(seg, "flags");
	if (flags && check_string_array(l, flags, what))
		return -EINVAL;
	if (strcmp(type, "crypt"))
		return 0;

	if (!l2_u64(seg, "iv_tweak", &tweak))
		FAIL("%s: iv_tweak missing or not a 64-bit decimal string", what);
	enc = l2_str(seg, "encryption");
	if (!enc || !*enc)
		FAIL("%s: missing encryption", what);
	if (l2_cipher_is_null(enc))
		FAIL("%s: refusing null cipher \"%s\" for data encryption", what, enc);
	if (check_int(l, seg, "sector_size", 512, 4096, what, &ssize))
		return -EINVAL;
	if (ssize & (ssize - 1))
		FAIL("%s: sector_size %" PRId64 " is not a power of two", what, ssize);
	if (size % (uint64_t)ssize)
		FAIL("%s: size not aligned to the sector size", what);
	if (l2_obj(seg, "integrity"))
		FAIL("%s: authenticated encryption (integrity) is not supported", what);
	if (!l2_digest_for_segment(root, id, NULL))
		FAIL("%s: no digest for this segment", what);
	return 0;
}

static int check_digest(struct luks2 *l, const char *id, json_object *d, json_object *root)
{
	char what[48];
	const char *type, *hash;
	const struct evp_md_st *md;
	size_t dlen;

	snprintf(what, sizeof(what), "digest %s", id);
	if (!json_object_is_type(d, json_type_object))
		FAIL("%s is not an object", what);
	type = l2_str(d, "type");
	if (!type)
		FAIL("%s: missing type", what);
	if (check_refs(l, l2_obj(d, "keyslots"), l2_obj(root, "keyslots"), what) ||
	    check_refs(l, l2_obj(d, "segments"), l2_obj(root, "segments"), what))
		return -EINVAL;
	if (strcmp(type, "pbkdf2"))
		return 0;	/* unknown: kept, but cannot verify a key */
	hash = l2_str(d, "hash");
	md = l2_hash(hash);
	if (!md)
		FAIL("%s: hash missing or unsupported", what);
	if (check_int(l, d, "iterations", 1, UINT32_MAX, what, NULL) ||
	    check_b64(l, d, "salt", L2_SALT_SIZE, L2_SALT_SIZE, what, NULL) ||
	    check_b64(l, d, "digest", 20, 64, what, &dlen))
		return -EINVAL;
	if (dlen != 20 && dlen != (size_t)EVP_MD_get_size((const EVP_MD *)md))
		FAIL("%s: digest length %zu does not match %s", what, dlen, hash);
	return 0;
}

static int check_config(struct luks2 *l, json_object *cfg, uint64_t hdr_size,
			unsigned int flags, uint64_t *ks_size)
{
	uint64_t json_size;
	json_object *fl, *req, *mand;
	const char *first;

	if (!l2_u64(cfg, "json_size", &json_size))
		FAIL("config: json_size missing or not a 64-bit decimal string");
	if (json_size != hdr_size - L2_BIN_HDR_SIZE)
		FAIL("config: json_size %" PRIu64 " does not match the binary header (%" PRIu64 ")",
		     json_size, hdr_size - L2_BIN_HDR_SIZE);
	if (!l2_u64(cfg, "keyslots_size", ks_size))
		FAIL("config: keyslots_size missing or not a 64-bit decimal string");
	if (*ks_size % 4096 || *ks_size > L2_MAX_KEYSLOTS_SIZE)
		FAIL("config: unsupported keyslots_size %" PRIu64, *ks_size);
	fl = l2_obj(cfg, "flags");
	if (fl && check_string_array(l, fl, "config flags"))
		return -EINVAL;
	req = l2_obj(cfg, "requirements");
	if (!req)
		return 0;
	if (!json_object_is_type(req, json_type_object))
		FAIL("config: requirements is not an object");
	mand = l2_obj(req, "mandatory");
	if (!mand)
		return 0;
	if (check_string_array(l, mand, "config requirements"))
		return -EINVAL;
	/* We implement no optional feature, so any mandatory one is unknown. */
	if (!json_object_array_length(mand) || (flags & LUKS2_IGNORE_REQUIREMENTS))
		return 0;
	first = json_object_get_string(json_object_array_get_idx(mand, 0));
	/* cryptsetup's re-encryption: say how to get out of it */
	if (l2_reencrypt_requirement_version(first))
		FAIL("%s: an online reencryption is in progress (requirement \"%s\"): vaultctl "
		     "neither opens nor changes this header until it is finished; finish it with "
		     "'cryptsetup reencrypt --resume-only %s'", l->path ?: "device", first,
		     l->path ?: "DEVICE");
	if (strstr(first, "reencrypt"))
		FAIL("unsupported mandatory requirement \"%s\" (an online reencryption is in progress); "
		     "refusing the device", first);
	FAIL("unsupported mandatory requirement \"%s\"; refusing the device", first);
}

/*
 * Data must never be mapped over the header: a segment may not overlap the
 * two metadata copies, any keyslot area, or the rest of the keyslots area
 * (a later keyslot goes there).  No exemption for offset 0: that is a
 * detached header, which vaultctl does not support, and mapping it would
 * let the first write to the volume destroy every keyslot.
 */
static int check_segment_place(struct luks2 *l, const char *id, json_object *seg,
			       uint64_t hdr_size, uint64_t ks_end, const struct interval *iv,
			       int n)
{
	uint64_t off, size = 0, end;
	char where[96];
	int i;

	l2_u64(seg, "offset", &off);
	if (strcmp(l2_str(seg, "size"), "dynamic"))
		l2_u64(seg, "size", &size);
	/* check_segment made sure that off + size does not wrap */
	end = size ? off + size : UINT64_MAX;
	if (size)
		snprintf(where, sizeof(where), "bytes %" PRIu64 "-%" PRIu64, off, end - 1);
	else
		snprintf(where, sizeof(where), _("bytes %" PRIu64 " to the end of the device"), off);
	if (off < 2 * hdr_size && !off)
		FAIL("data segment %s (%s) overlaps the metadata (bytes 0-%" PRIu64
		     ": both header copies); a detached header is not supported", id, where,
		     2 * hdr_size - 1);
	if (off < 2 * hdr_size)
		FAIL("data segment %s (%s) overlaps the metadata (bytes 0-%" PRIu64
		     ": both header copies)", id, where, 2 * hdr_size - 1);
	for (i = 0; i < n; i++)
		if (off < iv[i].off + iv[i].len && iv[i].off < end)
			FAIL("data segment %s (%s) overlaps keyslot %s's area (bytes %" PRIu64
			     "-%" PRIu64 ")", id, where, iv[i].id, iv[i].off,
			     iv[i].off + iv[i].len - 1);
	if (off < ks_end)
		FAIL("data segment %s (%s) overlaps the keyslots area (bytes %" PRIu64 "-%" PRIu64 ")",
		     id, where, 2 * hdr_size, ks_end - 1);
	return 0;
}

int l2_json_validate(struct luks2 *l, json_object *root, uint64_t hdr_size, unsigned int flags)
{
	json_object *keyslots, *tokens, *segments, *digests, *config;
	struct interval iv[LUKS2_KEYSLOTS_MAX];
	uint64_t ks_size, ks_end;
	int n = 0, i, j;

	if (!json_object_is_type(root, json_type_object))
		FAIL("JSON metadata is not an object");
	if (need_object(l, root, "keyslots", &keyslots) ||
	    need_object(l, root, "tokens", &tokens) ||
	    need_object(l, root, "segments", &segments) ||
	    need_object(l, root, "digests", &digests) ||
	    need_object(l, root, "config", &config))
		return -EINVAL;
	if (check_config(l, config, hdr_size, flags, &ks_size))
		return -EINVAL;
	ks_end = 2 * hdr_size + ks_size;

	json_object_object_foreach(keyslots, kid, kval) {
		if (!numbered(kid, LUKS2_KEYSLOTS_MAX))
			FAIL("invalid keyslot id \"%s\"", kid);
		if (check_keyslot(l, kid, kval, hdr_size, ks_end, &iv[n], flags))
			return -EINVAL;
		n++;
	}
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (iv[i].off < iv[j].off + iv[j].len && iv[j].off < iv[i].off + iv[i].len)
				FAIL("keyslots %s and %s have overlapping areas", iv[i].id, iv[j].id);

	json_object_object_foreach(tokens, tid, tval) {
		char what[48];

		snprintf(what, sizeof(what), "token %s", tid);
		if (!numbered(tid, UINT32_MAX))
			FAIL("invalid token id \"%s\"", tid);
		if (!json_object_is_type(tval, json_type_object) || !l2_str(tval, "type"))
			FAIL("%s: not an object with a type", what);
		if (check_refs(l, l2_obj(tval, "keyslots"), keyslots, what))
			return -EINVAL;
	}

	json_object_object_foreach(digests, did, dval) {
		if (!numbered(did, UINT32_MAX))
			FAIL("invalid digest id \"%s\"", did);
		if (check_digest(l, did, dval, root))
			return -EINVAL;
	}

	if (json_object_object_length(segments) < 1)
		FAIL("no segments");
	json_object_object_foreach(segments, sid, sval) {
		if (!numbered(sid, UINT32_MAX))
			FAIL("invalid segment id \"%s\"", sid);
		if (check_segment(l, sid, sval, root))
			return -EINVAL;
		/*
		 * A re-encryption's backup segments describe the old and new
		 * layouts (encryption in place: the plaintext from offset 0);
		 * nothing maps them, and such a header is refused for anything
		 * but inspection (check_config, check_keyslot).
		 */
		if (!l2_segment_is_backup(sval) &&
		    (!l->detached && check_segment_place(l, sid, sval, hdr_size, ks_end, iv, n)))
			return -EINVAL;
	}
	return 0;
}

int l2_json_parse(struct luks2 *l, const char *area, size_t area_len, uint64_t hdr_size,
		  unsigned int flags, json_object **out)
{
	struct json_tokener *tok;
	json_object *root;
	size_t len = strnlen(area, area_len), used;

	*out = NULL;
	if (len == area_len)
		FAIL("JSON area is not NUL-terminated");
	if (!len)
		FAIL("JSON area is empty");
	tok = json_tokener_new_ex(L2_JSON_DEPTH);
	if (!tok) {
		l2_err(l, "out of memory");
		return -ENOMEM;
	}
	root = json_tokener_parse_ex(tok, area, (int)len);
	if (!root || json_tokener_get_error(tok) != json_tokener_success) {
		l2_err(l, "malformed JSON: %s", json_tokener_error_desc(json_tokener_get_error(tok)));
		json_object_put(root);
		json_tokener_free(tok);
		return -EINVAL;
	}
	used = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	for (; used < len; used++)
		if (!strchr(" \t\r\n", area[used])) {
			json_object_put(root);
			FAIL("trailing data after the JSON object");
		}
	if (l2_json_validate(l, root, hdr_size, flags)) {
		json_object_put(root);
		return -EINVAL;
	}
	*out = root;
	return 0;
}
