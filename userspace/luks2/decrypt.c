// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * luks2: decryption in place of a volume whose header is on the device, as
 * cryptsetup 2.6.1 reencrypt --decrypt --header FILE does (offline, data
 * through OpenSSL in userspace, like datashift.c).
 *
 * The layout (data offset S, data size D = device size - S):
 *   init: the header area [0, S) is exported to FILE (a detached header
 *   from now on), then the first S bytes of ciphertext [S, 2S) are copied
 *   over the old header at [0, S) ("backup-moved-segment", still
 *   encrypted, IV sectors from 0), then FILE gets the metadata: mode
 *   decrypt, direction forward, resilience datashift-checksum (shift S,
 *   sha256 per 4096 bytes), requirement online-reencrypt-v3, the digest
 *   over the old key.  Until the metadata is written the exported header
 *   still opens the device (nothing under [S, D + S) has changed).
 *   hotzones: logical [a, a + S) for a = S, 2S, ...: read [a + S, ...),
 *   decrypt, write plain at [a, ...): the target is below its source and
 *   never overlaps it (datashift).  Last, the moved segment [0, S) is
 *   decrypted in place: sha256 of each 4096-byte block of its ciphertext
 *   goes to the reencrypt keyslot's area first (checksum resilience: after
 *   a crash a block whose hash still matches is decrypted again, the others
 *   are already plain).
 *   Each hotzone: metadata (hotzone flagged), data (fdatasync), metadata.
 *   The end: FILE keeps one linear segment and no keyslot (as cryptsetup
 *   leaves it); the device is the plain filesystem from offset 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "luks2_internal.h"

#define CHUNK		(1U << 20)
#define CSUM_BLOCK	4096
#define CSUM_LEN	32	/* sha256 */
#define DIGEST_ITER_MS	125

struct dc {
	struct luks2 *l;
	int dfd;			/* the data device */
	json_object *prev, *fin, *moved;
	uint64_t S, D, prev_off, prev_iv, ks_area_off, ks_area_size;
	const char *cipher, *ks_id;
	int64_t ss;
	/* data segments in logical order */
	struct { json_object *j; uint64_t start, size; bool crypt, hot; } seg[64];
	int n;
};

static json_object *seg_new(const char *type, uint64_t off, uint64_t size, uint64_t iv,
			    const char *cipher, int64_t ss, const char *flag)
{
	json_object *s = json_object_new_object(), *fl;

	json_object_object_add(s, "type", json_object_new_string(type));
	json_object_object_add(s, "offset", l2_new_u64(off));
	json_object_object_add(s, "size", size ? l2_new_u64(size) :
				json_object_new_string("dynamic"));
	if (!strcmp(type, "crypt")) {
		json_object_object_add(s, "iv_tweak", l2_new_u64(iv));
		json_object_object_add(s, "encryption", json_object_new_string(cipher));
		json_object_object_add(s, "sector_size", json_object_new_int((int)ss));
	}
	if (flag) {
		fl = json_object_new_array();
		json_object_array_add(fl, json_object_new_string(flag));
		json_object_object_add(s, "flags", fl);
	}
	return s;
}

static int cmp_id(const void *a, const void *b)
{
	unsigned long x = strtoul(*(const char *const *)a, NULL, 10);
	unsigned long y = strtoul(*(const char *const *)b, NULL, 10);

	return x < y ? -1 : x > y;
}

static int dc_parse(struct luks2 *l, int dfd, struct dc *d)
{
	json_object *segs = l2_obj(l->jobj, "segments");
	struct luks2_reencrypt st;
	const char *ids[64];
	uint64_t pos = 0, off, v;
	int i, n = 0, r;

	memset(d, 0, sizeof(*d));
	d->l = l;
	d->dfd = dfd;
	r = luks2_reencrypt_status(l, &st);
	if (r)
		return r;
	if (strcmp(st.mode, "decrypt") || strcmp(st.direction, "forward") ||
	    strcmp(st.resilience, "datashift-checksum") || strcmp(st.hash, "sha256") ||
	    st.hash_sector_size != CSUM_BLOCK) {
		l2_err(l, "this reencryption (mode %s, direction %s, resilience %s) is not a "
		       "decryption with the header moved out: finish it with cryptsetup "
		       "reencrypt --resume-only", st.mode, st.direction, st.resilience);
		return -ENOTSUP;
	}
	d->S = st.shift_size;
	d->ks_area_off = st.area_offset;
	d->ks_area_size = st.area_size;
	d->prev = l2_segment_flagged(l, "backup-previous", NULL);
	d->fin = l2_segment_flagged(l, "backup-final", NULL);
	d->moved = l2_segment_flagged(l, "backup-moved-segment", NULL);
	if (!d->prev || !d->fin || !d->moved ||
	    strcmp(l2_str(d->prev, "type") ?: "", "crypt") ||
	    strcmp(l2_str(d->prev, "size") ?: "", "dynamic") ||
	    !l2_u64(d->prev, "offset", &d->prev_off) || !l2_u64(d->prev, "iv_tweak", &d->prev_iv) ||
	    !l2_int(d->prev, "sector_size", &d->ss) ||
	    strcmp(l2_str(d->fin, "type") ?: "", "linear") ||
	    !l2_u64(d->fin, "offset", &off) || off ||
	    strcmp(l2_str(d->moved, "type") ?: "", "crypt") ||
	    !l2_u64(d->moved, "offset", &off) || off || !l2_u64(d->moved, "size", &v) ||
	    v != d->S || !l2_u64(d->moved, "iv_tweak", &v) || v != d->prev_iv ||
	    d->prev_off != d->S || d->S % CSUM_BLOCK || l->dev_size < 2 * d->S ||
	    d->S / CSUM_BLOCK * CSUM_LEN > d->ks_area_size) {
		l2_err(l, "unexpected segments for a decryption with a data shift");
		return -EINVAL;
	}
	d->cipher = l2_str(d->prev, "encryption");
	d->D = l->dev_size - d->S;
	json_object_object_foreach(segs, sid, sval) {
		if (l2_segment_is_backup(sval))
			continue;
		if (n == 64) {
			l2_err(l, "too many segments");
			return -EINVAL;
		}
		ids[n++] = sid;
	}
	qsort(ids, (size_t)n, sizeof(ids[0]), cmp_id);
	for (i = 0; i < n; i++) {
		json_object *s = l2_obj(segs, ids[i]);

		d->seg[i].j = s;
		d->seg[i].crypt = !strcmp(l2_str(s, "type") ?: "", "crypt");
		d->seg[i].hot = l2_array_has(l2_obj(s, "flags"), "in-reencryption");
		l2_u64(s, "offset", &off);
		if (!strcmp(l2_str(s, "size") ?: "", "dynamic"))
			d->seg[i].size = l->dev_size > off ? l->dev_size - off : 0;
		else
			l2_u64(s, "size", &d->seg[i].size);
		d->seg[i].start = pos;
		pos += d->seg[i].size;
	}
	d->n = n;
	if (pos != d->D) {
		l2_err(l, "segments cover %" PRIu64 " bytes, not the %" PRIu64 " of the data",
		       pos, d->D);
		return -EINVAL;
	}
	return 0;
}

/*
 * State: the moved segment MOVED (0 pending, 1 the hotzone), logical
 * [S, A) plain, [A, B) the hotzone (if B > A), [B, D) still encrypted.
 */
static int dc_write_state(struct dc *d, int moved, uint64_t a, uint64_t b)
{
	struct luks2 *l = d->l;
	json_object *segs = json_object_new_object(), *list = json_object_new_array(), *saved, *dig;
	const char *did = l2_flagged_digest_id(l, "backup-previous");
	int id = 0, crypt_ids[4], nc = 0, i;
	char k[12];

#define ADD(s) do { snprintf(k, sizeof(k), "%d", id++); json_object_object_add(segs, k, (s)); } while (0)
	if (moved == 0) {
		crypt_ids[nc++] = id;
		ADD(seg_new("crypt", 0, d->S, d->prev_iv, d->cipher, d->ss, NULL));
	} else if (moved == 1) {
		ADD(seg_new("linear", 0, d->S, 0, NULL, 0, "in-reencryption"));
	}
	if (a > d->S)
		ADD(seg_new("linear", d->S, a - d->S, 0, NULL, 0, NULL));
	if (b > a)
		ADD(seg_new("linear", a, b - a, 0, NULL, 0, "in-reencryption"));
	if (d->D > b) {
		crypt_ids[nc++] = id;
		ADD(seg_new("crypt", b + d->S, 0, d->prev_iv + b / 512, d->cipher, d->ss, NULL));
	}
	snprintf(k, sizeof(k), "%d", id);
	json_object_array_add(list, json_object_new_string(k));
	ADD(l2_json_copy(d->prev));
	ADD(l2_json_copy(d->fin));
	snprintf(k, sizeof(k), "%d", id);
	json_object_array_add(list, json_object_new_string(k));
	ADD(l2_json_copy(d->moved));
#undef ADD
	for (i = 0; i < nc; i++) {
		snprintf(k, sizeof(k), "%d", crypt_ids[i]);
		json_object_array_add(list, json_object_new_string(k));
	}
	dig = did ? l2_obj(l2_obj(l->jobj, "digests"), did) : NULL;
	saved = dig ? l2_snapshot(l) : NULL;
	if (!saved) {
		json_object_put(segs);
		json_object_put(list);
		l2_err(l, "the old key has no digest");
		return -EINVAL;
	}
	json_object_object_add(dig, "segments", list);
	json_object_object_add(l->jobj, "segments", segs);
	i = l2_encdec_commit(l, saved);
	return i ? i : dc_parse(l, d->dfd, d);
}

/*
 * Logical [A, B): ciphertext at SRC (IV sector IV0 at SRC) to plaintext at
 * DST.  With CSUMS (the moved segment, in place) only the blocks whose
 * ciphertext still hashes to the stored checksum are decrypted.
 */
static int dc_move(struct dc *d, uint64_t src, uint64_t dst, uint64_t len, uint64_t iv0,
		   const unsigned char *vk, size_t vk_len, const unsigned char *csums)
{
	unsigned char *buf = l2_secure_alloc(CHUNK), h[CSUM_LEN];
	uint64_t x;
	size_t n, blk;
	int r = 0;

	if (!buf)
		return -ENOMEM;
	for (x = 0; x < len && !r; x += n) {
		n = len - x < CHUNK ? (size_t)(len - x) : CHUNK;
		r = l2_pread_all(d->dfd, buf, n, src + x);
		for (blk = 0; !r && blk < n; blk += CSUM_BLOCK) {
			if (csums) {
				unsigned int hl = 0;

				if (EVP_Digest(buf + blk, CSUM_BLOCK, h, &hl, EVP_sha256(), NULL) != 1) {
					r = -EIO;
					break;
				}
				if (memcmp(h, csums + (x + blk) / CSUM_BLOCK * CSUM_LEN, CSUM_LEN))
					continue;	/* already plain */
			}
			r = l2_sector_crypt(d->cipher, vk, vk_len, buf + blk, CSUM_BLOCK,
					    iv0 + (x + blk) / 512, (unsigned int)d->ss, false);
			if (!r && csums)
				r = l2_pwrite_all(d->dfd, buf + blk, CSUM_BLOCK, dst + x + blk);
		}
		if (!r && !csums)
			r = l2_pwrite_all(d->dfd, buf, n, dst + x);
	}
	if (!r && fdatasync(d->dfd))
		r = -errno;
	if (r)
		l2_err(d->l, "moving the data failed: %s", strerror(-r));
	l2_secure_free(buf, CHUNK);
	return r;
}

/* The checksums of the moved segment's ciphertext, to the keyslot area. */
static int dc_store_csums(struct dc *d, unsigned char *csums)
{
	unsigned char *buf = l2_secure_alloc(CHUNK);
	uint64_t x;
	size_t n, blk;
	unsigned int hl;
	int r = buf ? 0 : -ENOMEM;

	for (x = 0; x < d->S && !r; x += n) {
		n = d->S - x < CHUNK ? (size_t)(d->S - x) : CHUNK;
		r = l2_pread_all(d->dfd, buf, n, x);
		for (blk = 0; !r && blk < n; blk += CSUM_BLOCK)
			if (EVP_Digest(buf + blk, CSUM_BLOCK, csums + (x + blk) / CSUM_BLOCK * CSUM_LEN,
				       &hl, EVP_sha256(), NULL) != 1)
				r = -EIO;
	}
	l2_secure_free(buf, CHUNK);
	if (!r)
		r = l2_pwrite_all(d->l->fd, csums, d->S / CSUM_BLOCK * CSUM_LEN, d->ks_area_off);
	if (!r && fdatasync(d->l->fd))
		r = -errno;
	if (r)
		l2_err(d->l, "storing the hotzone checksums failed: %s", strerror(-r));
	return r;
}

int l2_decrypt_finish(struct luks2 *l)
{
	json_object *segs = json_object_new_object(), *saved = l2_snapshot(l);
	uint64_t end = 2 * l->hdr_size + l->keyslots_size;
	int r;

	if (!saved) {
		json_object_put(segs);
		return -ENOMEM;
	}
	json_object_object_add(segs, "0", seg_new("linear", 0, 0, 0, NULL, 0, NULL));
	json_object_object_add(l->jobj, "segments", segs);
	json_object_object_add(l->jobj, "keyslots", json_object_new_object());
	json_object_object_add(l->jobj, "digests", json_object_new_object());
	json_object_object_del(l2_obj(l->jobj, "config"), "requirements");
	r = l2_encdec_commit(l, saved);
	if (r)
		return r;
	l->inspect_only = false;
	/* the old key's keyslots are gone from the header: wipe their material */
	return l2_wipe_in_header(l, 2 * l->hdr_size, end - 2 * l->hdr_size);
}

int luks2_decrypt_run(struct luks2 *l, int dfd, const void *vk, size_t vk_len)
{
	unsigned char *csums = NULL;
	const char *did, *t = getenv("VAULT_TEST_CRASH_AFTER_DATA");
	int r, i, crash_after = t ? atoi(t) : -1, steps = 0;
	struct dc d;

	/* CVE-2021-4122: the digest first, then anything else */
	did = l2_flagged_digest_id(l, "backup-previous");
	if (!did || l2_digest_verify(l2_obj(l2_obj(l->jobj, "digests"), did), vk, vk_len)) {
		l2_err(l, "the volume key does not match this decryption");
		return -EPERM;
	}
	r = luks2_reencrypt_verify_keys(l, vk, vk_len, NULL, 0);
	if (!r)
		r = dc_parse(l, dfd, &d);
	if (r)
		return r;
	if ((vk_len != 32 && vk_len != 64) || strcmp(d.cipher ?: "", "aes-xts-plain64")) {
		l2_err(l, "only aes-xts-plain64 is decrypted by vaultctl: use cryptsetup");
		return -ENOTSUP;
	}
	csums = l2_secure_alloc(d.S / CSUM_BLOCK * CSUM_LEN);
	if (!csums)
		return -ENOMEM;
	for (;;) {
		int hot = -1, pend = -1;
		uint64_t a, b;
		bool in_moved;

		for (i = 0; i < d.n; i++) {
			if (d.seg[i].hot)
				hot = i;
			else if (d.seg[i].crypt && pend < 0 && d.seg[i].start >= d.S)
				pend = i;
		}
		if (hot < 0 && pend < 0 && d.seg[0].crypt && d.seg[0].start == 0)
			pend = 0;	/* last: the moved segment, in place */
		if (hot < 0 && pend < 0) {
			r = l2_decrypt_finish(l);
			break;
		}
		i = hot >= 0 ? hot : pend;
		a = d.seg[i].start;
		in_moved = a == 0;
		b = in_moved ? d.S : (a + d.S < d.seg[i].start + d.seg[i].size ?
				      a + d.S : d.seg[i].start + d.seg[i].size);
		if (hot >= 0 && in_moved) {
			/* recovery: the checksums stored before the hotzone moved */
			r = l2_pread_all(l->fd, csums, d.S / CSUM_BLOCK * CSUM_LEN, d.ks_area_off);
		} else if (hot < 0 && in_moved) {
			r = dc_store_csums(&d, csums);
			if (!r)
				r = dc_write_state(&d, 1, d.D, d.D);
		} else if (hot < 0) {
			r = dc_write_state(&d, 0, a, b);
		}
		if (r)
			break;
		if (in_moved)
			r = dc_move(&d, 0, 0, d.S, d.prev_iv, vk, vk_len, csums);
		else
			r = dc_move(&d, d.prev_off + a, a, b - a, d.prev_iv + a / 512, vk, vk_len,
				    NULL);
		if (r)
			break;
		if (crash_after >= 0 && ++steps > crash_after)
			_exit(137);	/* tests: a crash between data and checkpoint */
		if (in_moved) {		/* the last hotzone: the final metadata */
			r = l2_decrypt_finish(l);
			break;
		}
		r = dc_write_state(&d, 0, b, b);
		if (r)
			break;
	}
	l2_secure_free(csums, d.S / CSUM_BLOCK * CSUM_LEN);
	return r;
}

/* The header area of DFD (PATH) to a new file HDR_PATH, synced. */
static int export_header(int dfd, const char *hdr_path, uint64_t len, char *err, size_t err_len)
{
	unsigned char *buf = l2_secure_alloc(CHUNK);
	int hfd = open(hdr_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	uint64_t x;
	size_t n;
	int r = 0;

	if (hfd < 0 || !buf) {
		r = hfd < 0 ? -errno : -ENOMEM;
		snprintf(err, err_len, _("%s: cannot create it: %s"), hdr_path, strerror(-r));
		if (hfd >= 0)
			close(hfd);
		l2_secure_free(buf, CHUNK);
		return r;
	}
	for (x = 0; x < len && !r; x += n) {
		n = len - x < CHUNK ? (size_t)(len - x) : CHUNK;
		r = l2_pread_all(dfd, buf, n, x);
		if (!r)
			r = l2_pwrite_all(hfd, buf, n, x);
	}
	if (!r && fsync(hfd))
		r = -errno;
	close(hfd);
	l2_secure_free(buf, CHUNK);
	if (r) {
		snprintf(err, err_len, _("%s: exporting the header failed: %s"), hdr_path, strerror(-r));
		unlink(hdr_path);
	}
	return r;
}

int luks2_decrypt_init(struct luks2 *dl, int dfd, const char *hdr_path, const void *vk,
		       size_t vk_len, struct luks2 **out, char *err, size_t err_len)
{
	json_object *segs = l2_obj(dl->jobj, "segments"), *s0 = l2_obj(segs, "0");
	json_object *ks, *area, *nsegs, *dold, *dmeta, *req, *mand, *list, *saved;
	uint64_t S, iv, dev_size = dl->dev_size, hdr_end, area_off = 0, o, sz;
	const char *did = NULL, *enc;
	struct luks2 *l = NULL;
	char rid[12];
	int64_t ss;
	int r, i;

	*out = NULL;
	if (json_object_object_length(segs) != 1 || !s0 ||
	    strcmp(l2_str(s0, "type") ?: "", "crypt") ||
	    strcmp(l2_str(s0, "size") ?: "", "dynamic") || !l2_u64(s0, "offset", &S) ||
	    !l2_u64(s0, "iv_tweak", &iv) || iv || !l2_int(s0, "sector_size", &ss) ||
	    strcmp((enc = l2_str(s0, "encryption")) ?: "", "aes-xts-plain64") ||
	    (vk_len != 32 && vk_len != 64)) {
		snprintf(err, err_len, _("only an ordinary aes-xts-plain64 volume (one segment, "
			 "iv_tweak 0) is decrypted by vaultctl"));
		return -ENOTSUP;
	}
	hdr_end = 2 * dl->hdr_size + dl->keyslots_size;
	if (S % CSUM_BLOCK || S < hdr_end || dev_size < 2 * S || dev_size % CSUM_BLOCK) {
		snprintf(err, err_len, _("the data offset (%" PRIu64 ") and the device size (%"
			 PRIu64 ") do not allow moving the header out"), S, dev_size);
		return -EINVAL;
	}
	/* 1. the header to its file; 2. the first S bytes of data over it */
	r = export_header(dfd, hdr_path, S, err, err_len);
	if (r)
		return r;
	{
		unsigned char *buf = l2_secure_alloc(CHUNK);
		uint64_t x;
		size_t n;

		r = buf ? 0 : -ENOMEM;
		for (x = 0; x < S && !r; x += n) {
			n = S - x < CHUNK ? (size_t)(S - x) : CHUNK;
			r = l2_pread_all(dfd, buf, n, S + x);
			if (!r)
				r = l2_pwrite_all(dfd, buf, n, x);
		}
		if (!r && fdatasync(dfd))
			r = -errno;
		l2_secure_free(buf, CHUNK);
		if (r) {
			snprintf(err, err_len, _("moving the first segment failed: %s"), strerror(-r));
			return r;
		}
	}
	/* 3. the metadata, in the exported header */
	l = luks2_new();
	r = l ? luks2_load(l, hdr_path, LUKS2_RDWR | LUKS2_DETACHED) : -ENOMEM;
	if (r) {
		snprintf(err, err_len, "%s: %s", hdr_path, l ? luks2_error(l) : _("out of memory"));
		goto fail;
	}
	l->dev_size = dev_size;		/* segments describe the data device */
	json_object_object_foreach(l2_obj(l->jobj, "keyslots"), kid, kval) {
		(void)kid;
		if (l2_u64(l2_obj(kval, "area"), "offset", &o) &&
		    l2_u64(l2_obj(kval, "area"), "size", &sz) && o + sz > area_off)
			area_off = o + sz;
	}
	area_off = (area_off + 4095) / 4096 * 4096;
	for (i = 0; i < LUKS2_KEYSLOTS_MAX; i++) {
		snprintf(rid, sizeof(rid), "%d", i);
		if (!l2_obj(l2_obj(l->jobj, "keyslots"), rid))
			break;
	}
	if (i == LUKS2_KEYSLOTS_MAX || area_off + S / CSUM_BLOCK * CSUM_LEN > hdr_end) {
		snprintf(err, err_len, _("no room in the keyslots area for the hotzone checksums"));
		r = -ENOSPC;
		goto fail;
	}
	saved = l2_snapshot(l);
	dold = l2_digest_for_segment(l->jobj, "0", &did);
	if (!saved || !dold) {
		json_object_put(saved);
		r = -EINVAL;
		snprintf(err, err_len, _("the data segment has no digest"));
		goto fail;
	}
	area = json_object_new_object();
	json_object_object_add(area, "offset", l2_new_u64(area_off));
	json_object_object_add(area, "size", l2_new_u64(hdr_end - area_off));
	json_object_object_add(area, "type", json_object_new_string("datashift-checksum"));
	json_object_object_add(area, "hash", json_object_new_string("sha256"));
	json_object_object_add(area, "sector_size", json_object_new_int(CSUM_BLOCK));
	json_object_object_add(area, "shift_size", l2_new_u64(S));
	ks = json_object_new_object();
	json_object_object_add(ks, "area", area);
	json_object_object_add(ks, "type", json_object_new_string("reencrypt"));
	json_object_object_add(ks, "key_size", json_object_new_int(1));
	json_object_object_add(ks, "mode", json_object_new_string("decrypt"));
	json_object_object_add(ks, "direction", json_object_new_string("forward"));
	json_object_object_add(ks, "priority", json_object_new_int(0));
	json_object_object_add(l2_obj(l->jobj, "keyslots"), rid, ks);
	nsegs = json_object_new_object();
	json_object_object_add(nsegs, "0", seg_new("crypt", 0, S, 0, enc, ss, NULL));
	json_object_object_add(nsegs, "1", seg_new("crypt", 2 * S, 0, S / 512, enc, ss, NULL));
	json_object_object_add(nsegs, "2", seg_new("crypt", 0, S, 0, enc, ss,
						   "backup-moved-segment"));
	json_object_object_add(nsegs, "3", seg_new("crypt", S, 0, 0, enc, ss, "backup-previous"));
	json_object_object_add(nsegs, "4", seg_new("linear", 0, 0, 0, NULL, 0, "backup-final"));
	json_object_object_add(l->jobj, "segments", nsegs);
	list = json_object_new_array();
	for (i = 0; i < 4; i++) {
		char k[4];

		snprintf(k, sizeof(k), "%d", i);
		json_object_array_add(list, json_object_new_string(k));
	}
	json_object_object_add(dold, "segments", list);
	req = json_object_new_object();
	mand = json_object_new_array();
	json_object_array_add(mand, json_object_new_string("online-reencrypt-v3"));
	json_object_object_add(req, "mandatory", mand);
	json_object_object_add(l2_obj(l->jobj, "config"), "requirements", req);
	dmeta = l2_reencrypt_digest_create(l, vk, vk_len, NULL, 0, "sha256",
					   l2_pbkdf2_calibrate("sha256", vk_len, DIGEST_ITER_MS));
	if (!dmeta) {
		json_object_put(l->jobj);
		l->jobj = saved;
		r = -EINVAL;
		snprintf(err, err_len, _("cannot build the metadata digest: %s"), luks2_error(l));
		goto fail;
	}
	json_object_array_add(l2_obj(dmeta, "keyslots"), json_object_new_string(rid));
	for (i = 0; i < 1024; i++) {
		char k[8];

		snprintf(k, sizeof(k), "%d", i);
		if (!l2_obj(l2_obj(l->jobj, "digests"), k)) {
			json_object_object_add(l2_obj(l->jobj, "digests"), k, dmeta);
			break;
		}
	}
	r = l2_encdec_commit(l, saved);
	if (r) {
		snprintf(err, err_len, _("%s: writing the metadata failed: %s"), hdr_path,
			 luks2_error(l));
		goto fail;
	}
	*out = l;
	return 0;
fail:
	luks2_free(l);
	return r;
}

int luks2_decrypt_resume(struct luks2 *l, int dfd, const char *pass, size_t pass_len)
{
	unsigned char *vk = l2_secure_alloc(LUKS2_VK_MAX);
	const char *did = l2_flagged_digest_id(l, "backup-previous");
	size_t vk_len = 0;
	int r;

	if (!vk)
		return -ENOMEM;
	r = l2_device_size(dfd, &l->dev_size);	/* the segments describe the data device */
	if (!r)
		r = did ? l2_unlock_digest(l, did, pass, pass_len, vk, LUKS2_VK_MAX, &vk_len)
			: -EINVAL;
	if (r == -EPERM || r == -ENOENT) {
		l2_err(l, "No key available with this passphrase.");
		r = -EPERM;
	} else if (!did) {
		l2_err(l, "no backup-previous segment with a digest: not a decryption");
	}
	if (r >= 0)
		r = luks2_decrypt_run(l, dfd, vk, vk_len);
	l2_secure_free(vk, LUKS2_VK_MAX);
	return r;
}
