// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * luks2: moving the data of an in-place encryption with a detached header,
 * as cryptsetup 2.6.1 reencrypt --encrypt --header FILE does
 * (lib/luks2/luks2_reencrypt.c, forward direction, "checksum"
 * resilience), offline, in userspace with OpenSSL.
 *
 * The data stays where it is: each block is encrypted in place (crypt
 * segment at offset 0, IV sector = byte offset / 512 + iv_tweak).  Data
 * segments in logical order: the encrypted part (crypt [0, P)), the
 * hotzone (crypt, flagged "in-reencryption"), the rest still plain (linear
 * from its offset, size dynamic); backups: backup-previous (linear 0,
 * dynamic), backup-final (crypt 0, dynamic).  The header is FILE.
 *
 * Order of writes for each hotzone [P, P + H):
 *   1. the hash of each block of its plaintext (sha256 per checksum block,
 *      the reencrypt keyslot's "sector_size") to the keyslot's area in
 *      FILE, synced;
 *   2. FILE names the hotzone (segments as above, hotzone flagged);
 *   3. data: read, encrypt, write in place, fdatasync;
 *   4. the checkpoint: the hotzone joins the encrypted part.
 * After a crash between 2 and 4 (by this code or by cryptsetup's
 * reencrypt_recover_segment()), a block of the hotzone whose bytes still
 * hash to the stored checksum is plaintext and is encrypted again; any
 * other block was already written encrypted and stays.  Metadata is acted
 * on only after its digest verified with the volume key (CVE-2021-4122).
 * VAULT_TEST_CRASH_AFTER_DATA=N exits (status 137) after the data of
 * hotzone N + 1, before its checkpoint.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "luks2_internal.h"

#define CHUNK		(1U << 20)	/* bytes read, encrypted and written at once */
#define MAX_SEGS	8

struct ec {
	struct luks2 *l;
	int dfd;			/* the data device */
	uint64_t size;			/* of the data device */
	uint64_t iv0;			/* backup-final's iv_tweak */
	int64_t ss;			/* encryption sector size */
	const char *cipher;
	const EVP_MD *md;
	uint32_t block, hash_len;	/* checksum block, hash size */
	uint64_t area_off, area_size;	/* the reencrypt keyslot's area */
	uint64_t done;			/* [0, done) encrypted */
	uint64_t hot_len;		/* a hotzone [done, done + hot_len) in flight */
};

#define FAIL(...) do { l2_err(l, __VA_ARGS__); return -EINVAL; } while (0)

static int cmp_id(const void *a, const void *b)
{
	unsigned long x = strtoul(*(const char *const *)a, NULL, 10);
	unsigned long y = strtoul(*(const char *const *)b, NULL, 10);

	return x < y ? -1 : x > y;
}

static bool is_dynamic(json_object *seg)
{
	return !strcmp(l2_str(seg, "size") ?: "", "dynamic");
}

/* Reads where the job stands; refuses anything but this kind of encryption. */
static int ec_parse(struct luks2 *l, int dfd, struct ec *e)
{
	json_object *segs = l2_obj(l->jobj, "segments"), *prev, *fin;
	struct luks2_reencrypt st;
	const char *ids[MAX_SEGS];
	uint64_t pos = 0, off, v;
	int i, n = 0, r;
	bool tail = false;
	int64_t ss;

	memset(e, 0, sizeof(*e));
	e->l = l;
	e->dfd = dfd;
	e->size = l->dev_size;
	r = luks2_reencrypt_status(l, &st);
	if (r)
		return r;
	if (strcmp(st.mode, "encrypt") || strcmp(st.direction, "forward") ||
	    strcmp(st.resilience, "checksum")) {
		l2_err(l, "this reencryption (mode %s, direction %s, resilience %s) is not an "
		       "encryption with a detached header: finish it with cryptsetup reencrypt "
		       "--resume-only", st.mode, st.direction, st.resilience);
		return -ENOTSUP;
	}
	e->md = (const EVP_MD *)l2_hash(st.hash);
	e->block = st.hash_sector_size;
	e->area_off = st.area_offset;
	e->area_size = st.area_size;
	prev = l2_segment_flagged(l, "backup-previous", NULL);
	fin = l2_segment_flagged(l, "backup-final", NULL);
	if (!e->md || e->block < 512 || (e->block & (e->block - 1)) || !prev || !fin ||
	    l2_segment_flagged(l, "backup-moved-segment", NULL) ||
	    strcmp(l2_str(prev, "type") ?: "", "linear") || !is_dynamic(prev) ||
	    !l2_u64(prev, "offset", &off) || off ||
	    strcmp(l2_str(fin, "type") ?: "", "crypt") || !is_dynamic(fin) ||
	    !l2_u64(fin, "offset", &off) || off || !l2_u64(fin, "iv_tweak", &e->iv0) ||
	    !l2_int(fin, "sector_size", &e->ss) || e->ss < 512 || e->block % e->ss)
		FAIL("unexpected backup segments or checksum parameters for an encryption in place");
	e->hash_len = (uint32_t)EVP_MD_get_size(e->md);
	e->cipher = l2_str(fin, "encryption");
	if (e->size % e->block)
		FAIL("the data device (%" PRIu64 " bytes) is not a multiple of the %u-byte "
		     "checksum block", e->size, e->block);
	json_object_object_foreach(segs, sid, sval) {
		if (l2_segment_is_backup(sval))
			continue;
		if (n == MAX_SEGS)
			FAIL("too many segments");
		ids[n++] = sid;
	}
	qsort(ids, (size_t)n, sizeof(ids[0]), cmp_id);
	/* crypt [0, P), then maybe the hotzone, then maybe linear to the end */
	for (i = 0; i < n; i++) {
		json_object *s = l2_obj(segs, ids[i]);
		bool crypt = !strcmp(l2_str(s, "type") ?: "", "crypt");
		bool hot = l2_array_has(l2_obj(s, "flags"), "in-reencryption");

		if (tail || !l2_u64(s, "offset", &off) || off != pos)
			FAIL("segment %s: not where the data left off (%" PRIu64 ")", ids[i], pos);
		if (crypt && (!l2_u64(s, "iv_tweak", &v) || v != e->iv0 + pos / 512 ||
			      strcmp(l2_str(s, "encryption") ?: "", e->cipher ?: "") ||
			      !l2_int(s, "sector_size", &ss) || ss != e->ss))
			FAIL("segment %s: not the final encryption's parameters", ids[i]);
		if (!crypt && (strcmp(l2_str(s, "type") ?: "", "linear") || hot))
			FAIL("segment %s: unexpected type", ids[i]);
		if (hot && (e->hot_len || pos != e->done))
			FAIL("segment %s: a second hotzone", ids[i]);
		if (is_dynamic(s)) {
			if (hot || off >= e->size)
				FAIL("segment %s: unexpected dynamic size", ids[i]);
			v = e->size - off;
			tail = true;
		} else if (!l2_u64(s, "size", &v) || !v || v % e->block || v > e->size - pos) {
			FAIL("segment %s: unexpected size", ids[i]);
		}
		if (crypt && !hot && pos != e->done)
			FAIL("segment %s: encrypted data after plain data", ids[i]);
		if (hot)
			e->hot_len = v;
		else if (crypt)
			e->done = pos + v;
		pos += v;
	}
	if (pos != e->size)
		FAIL("the segments cover %" PRIu64 " bytes, not the %" PRIu64 " of the device",
		     pos, e->size);
	if (e->hot_len / e->block * e->hash_len > e->area_size)
		FAIL("the hotzone is larger than its checksums area can protect");
	return 0;
}

/*
 * [OFF, OFF + LEN) of the data device encrypted in place; with CSUMS (a
 * recovery: the area's checksums from CSUM_OFF) only the blocks that still
 * hash to their checksum, the others being encrypted already.
 */
static int ec_crypt(struct ec *e, uint64_t off, uint64_t len, const unsigned char *vk,
		    size_t vk_len, bool recover)
{
	struct luks2 *l = e->l;
	size_t cs_len = CHUNK / e->block * e->hash_len, n, b;
	unsigned char *buf = l2_secure_alloc(CHUNK), *cs = recover ? malloc(cs_len) : NULL;
	unsigned char h[EVP_MAX_MD_SIZE];
	uint64_t x;
	int r = buf && (cs || !recover) ? 0 : -ENOMEM;

	for (x = 0; x < len && !r; x += n) {
		n = len - x < CHUNK ? (size_t)(len - x) : CHUNK;
		r = l2_pread_all(e->dfd, buf, n, off + x);
		if (!r && recover)
			r = l2_pread_all(l->fd, cs, n / e->block * e->hash_len,
					 e->area_off + x / e->block * e->hash_len);
		for (b = 0; !r && b < n; b += e->block) {
			if (recover) {
				if (EVP_Digest(buf + b, e->block, h, NULL, e->md, NULL) != 1) {
					r = -EIO;
					break;
				}
				if (memcmp(h, cs + b / e->block * e->hash_len, e->hash_len))
					continue;	/* written encrypted before the cut */
			}
			r = l2_sector_crypt(e->cipher, vk, vk_len, buf + b, e->block,
					    e->iv0 + (off + x + b) / 512, (unsigned int)e->ss, true);
		}
		if (!r)
			r = l2_pwrite_all(e->dfd, buf, n, off + x);
	}
	if (!r && fdatasync(e->dfd))
		r = -errno;
	if (r)
		l2_err(l, "encrypting the data at %" PRIu64 " failed: %s", off, strerror(-r));
	l2_secure_free(buf, CHUNK);
	if (cs) {
		l2_wipe(cs, cs_len);
		free(cs);
	}
	return r;
}

/* Step 1: the hash of each plaintext block of [OFF, OFF + LEN) to the area, synced. */
static int ec_protect(struct ec *e, uint64_t off, uint64_t len)
{
	struct luks2 *l = e->l;
	size_t cs_len = (size_t)(len / e->block * e->hash_len), n, b;
	unsigned char *buf = l2_secure_alloc(CHUNK), *cs = malloc(cs_len);
	uint64_t x;
	int r = buf && cs ? 0 : -ENOMEM;

	for (x = 0; x < len && !r; x += n) {
		n = len - x < CHUNK ? (size_t)(len - x) : CHUNK;
		r = l2_pread_all(e->dfd, buf, n, off + x);
		for (b = 0; !r && b < n; b += e->block)
			if (EVP_Digest(buf + b, e->block, cs + (x + b) / e->block * e->hash_len, NULL,
				       e->md, NULL) != 1)
				r = -EIO;
	}
	if (!r)
		r = l2_write_begin(l);
	if (!r) {
		r = l2_pwrite_all(l->fd, cs, cs_len, e->area_off);
		if (!r && fdatasync(l->fd))
			r = -errno;
		l2_write_end(l);
	}
	if (r)
		l2_err(l, "storing the hotzone checksums failed: %s", strerror(-r));
	l2_secure_free(buf, CHUNK);
	if (cs) {
		l2_wipe(cs, cs_len);
		free(cs);
	}
	return r;
}

/* The state "[0, DONE) encrypted, [DONE, DONE + HOT) the hotzone, the rest plain". */
static int ec_write_state(struct ec *e, uint64_t done, uint64_t hot)
{
	json_object *segs[3];
	int n = 0;

	if (done)
		segs[n++] = l2_crypt_seg(0, done + hot < e->size || hot ? done : 0, e->iv0,
					 e->cipher, e->ss, false);
	if (hot)
		segs[n++] = l2_crypt_seg(done, hot, e->iv0 + done / 512, e->cipher, e->ss, true);
	if (done + hot < e->size)
		segs[n++] = l2_linear_seg(done + hot, 0, NULL);
	return l2_encrypt_segments(e->l, segs, n);
}

int luks2_encrypt_checksum_run(struct luks2 *l, int dfd, const void *vk, size_t vk_len,
			       uint64_t max_hotzone,
			       void (*progress)(void *ctx, uint64_t done, uint64_t total), void *ctx)
{
	const char *did, *t = getenv("VAULT_TEST_CRASH_AFTER_DATA");
	int r, crash_after = t ? atoi(t) : -1, steps = 0;
	uint64_t len, cap;
	json_object *dig;
	struct ec e;

	if (!l->rw) {
		l2_err(l, "%s: opened read-only", l->path);
		return -EROFS;
	}
	r = l2_device_size(dfd, &l->dev_size);	/* the segments describe the data device */
	if (r) {
		l2_err(l, "cannot get the size of the data device: %s", strerror(-r));
		return r;
	}
	/* CVE-2021-4122: nothing of the metadata is used before its digest
	 * verified with the new key */
	did = l2_flagged_digest_id(l, "backup-final");
	dig = did ? l2_obj(l2_obj(l->jobj, "digests"), did) : NULL;
	if (!dig || l2_digest_verify(dig, vk, vk_len)) {
		l2_err(l, "the volume key does not match the encryption's key");
		return -EPERM;
	}
	r = luks2_reencrypt_verify_keys(l, NULL, 0, vk, vk_len);
	if (!r)
		r = ec_parse(l, dfd, &e);
	if (r)
		return r;
	if ((vk_len != 32 && vk_len != 64) || strcmp(e.cipher ?: "", "aes-xts-plain64")) {
		l2_err(l, "only aes-xts-plain64 data is encrypted by vaultctl (this is %s, %zu-byte "
		       "key): use cryptsetup reencrypt --resume-only", e.cipher ?: "?", vk_len);
		return -ENOTSUP;
	}
	/* what the area can protect, in whole checksum blocks */
	cap = e.area_size / e.hash_len * e.block;
	if (!max_hotzone || max_hotzone > cap)
		max_hotzone = cap;
	max_hotzone -= max_hotzone % e.block;
	if (!max_hotzone) {
		l2_err(l, "the reencrypt keyslot's area is too small for a hotzone");
		return -EINVAL;
	}
	for (;;) {
		if (e.hot_len) {
			/* a cut left this hotzone half done: its checksums tell the blocks apart */
			len = e.hot_len;
			r = ec_crypt(&e, e.done, len, vk, vk_len, true);
		} else if (e.done < e.size) {
			len = e.size - e.done < max_hotzone ? e.size - e.done : max_hotzone;
			r = ec_protect(&e, e.done, len);	/* 1 */
			if (!r)
				r = ec_write_state(&e, e.done, len);	/* 2 */
			if (!r)
				r = ec_parse(l, dfd, &e);
			if (!r)
				r = ec_crypt(&e, e.done, len, vk, vk_len, false);	/* 3 */
			if (!r && crash_after >= 0 && ++steps > crash_after)
				_exit(137);	/* tests: a cut between data and checkpoint */
		} else {
			break;
		}
		if (!r)
			r = ec_write_state(&e, e.done + len, 0);	/* 4 */
		if (!r)
			r = ec_parse(l, dfd, &e);
		if (r)
			return r;
		if (progress)
			progress(ctx, e.done, e.size);
	}
	r = l2_encrypt_finish(l);
	/* the checksums of plaintext blocks go with the keyslot */
	if (!r)
		r = l2_keyslot_wipe_area(l, e.area_off, e.area_size);
	return r;
}

int luks2_encrypt_checksum_resume(struct luks2 *l, int dfd, const char *pass, size_t pass_len,
				  uint64_t max_hotzone,
				  void (*progress)(void *ctx, uint64_t done, uint64_t total),
				  void *ctx)
{
	unsigned char *vk = l2_secure_alloc(LUKS2_VK_MAX);
	const char *did = l2_flagged_digest_id(l, "backup-final");
	size_t vk_len = 0;
	int r;

	if (!vk) {
		l2_err(l, "cannot allocate locked memory");
		return -ENOMEM;
	}
	r = did ? l2_unlock_digest(l, did, pass, pass_len, vk, LUKS2_VK_MAX, &vk_len) : -EINVAL;
	if (r == -EPERM || r == -ENOENT) {
		l2_err(l, "No key available with this passphrase.");
		r = -EPERM;
	} else if (!did) {
		l2_err(l, "no backup-final segment with a digest: not an encryption");
	}
	if (r >= 0)
		r = luks2_encrypt_checksum_run(l, dfd, vk, vk_len, max_hotzone, progress, ctx);
	l2_secure_free(vk, LUKS2_VK_MAX);
	return r;
}
