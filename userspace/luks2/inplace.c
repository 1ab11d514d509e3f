// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * luks2: encryption and decryption in place with a detached header, as
 * cryptsetup 2.6.1 reencrypt --encrypt --header FILE and reencrypt
 * --decrypt --header FILE (of a volume whose header is FILE) do
 * (lib/luks2/luks2_reencrypt.c, "checksum" resilience), offline, in
 * userspace with OpenSSL.
 *
 * The data stays where it is: each block is rewritten in place (the crypt
 * segment at offset 0, IV sector = byte offset / 512 + iv_tweak).
 *   encrypt, direction forward: data segments [crypt 0..P) [hotzone, crypt,
 *     flagged "in-reencryption"] [linear ..end, dynamic]; backups
 *     backup-previous linear, backup-final crypt (both 0, dynamic);
 *   decrypt, direction backward: [crypt 0..P) [hotzone, linear, flagged]
 *     [linear ..end, dynamic]; backup-previous crypt, backup-final linear.
 * The header is FILE; the job's keyslot, requirement and digest are those
 * cryptsetup writes (encrypt.c and luks2_decrypt_detached_init below).
 *
 * Order of writes for each hotzone:
 *   1. the hash of each block of its old data (sha256 per checksum block,
 *      the reencrypt keyslot's "sector_size") to the keyslot's area in
 *      FILE, synced;
 *   2. FILE names the hotzone (segments as above, hotzone flagged);
 *   3. data: read, encrypt or decrypt, write in place, fdatasync;
 *   4. the checkpoint: the hotzone joins the done part.
 * After a crash between 2 and 4 (by this code or by cryptsetup's
 * reencrypt_recover_segment()), a block of the hotzone whose bytes still
 * hash to the stored checksum is old data and is rewritten; any other
 * block was already written and stays.  Metadata is acted on only after
 * its digest verified with the volume key (CVE-2021-4122).  The end: as
 * cryptsetup leaves it (encrypt: one crypt segment, the job's keyslot gone
 * and its area wiped, since it held hashes of plaintext; decrypt: one
 * linear segment, no keyslot, the keyslots area wiped).
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

#define CHUNK		(1U << 20)	/* bytes read, transformed and written at once */
#define MAX_SEGS	8
#define DIGEST_ITER_MS	125

struct ip {
	struct luks2 *l;
	bool enc;			/* encrypt (forward), else decrypt (backward) */
	int dfd;			/* the data device */
	uint64_t size;			/* of the data device */
	uint64_t iv0;			/* the crypt backup's iv_tweak */
	int64_t ss;			/* encryption sector size */
	const char *cipher;
	const EVP_MD *md;
	uint32_t block, hash_len;	/* checksum block, hash size */
	uint64_t area_off, area_size;	/* the reencrypt keyslot's area */
	uint64_t crypt_end;		/* [0, crypt_end) crypt, not the hotzone */
	uint64_t hot_off, hot_len;	/* a hotzone in flight (hot_len > 0) */
};

#define FAIL(...) do { l2_err(l, __VA_ARGS__); return -EINVAL; } while (0)

/* The hash of each BLOCK bytes of BUF (LEN bytes) into OUT; one context for all. */
static int hash_blocks(const EVP_MD *md, EVP_MD_CTX *c, const unsigned char *buf, size_t len,
		       uint32_t block, unsigned char *out, uint32_t hash_len)
{
	size_t b;

	for (b = 0; b < len; b += block, out += hash_len)
		if (EVP_DigestInit_ex(c, md, NULL) != 1 || EVP_DigestUpdate(c, buf + b, block) != 1 ||
		    EVP_DigestFinal_ex(c, out, NULL) != 1)
			return -EIO;
	return 0;
}

static int cmp_id(const void *a, const void *b)
{
	unsigned long x = strtoul(*(const char *const *)a, NULL, 10);
	unsigned long y = strtoul(*(const char *const *)b, NULL, 10);

	return x < y ? -1 : x > y;
}

static bool is_type(json_object *seg, const char *type)
{
	return !strcmp(l2_str(seg, "type") ?: "", type);
}

static bool is_dynamic(json_object *seg)
{
	return !strcmp(l2_str(seg, "size") ?: "", "dynamic");
}

/* The backup segments; refuses anything but these two kinds of job. */
static int ip_backups(struct luks2 *l, struct ip *p)
{
	json_object *prev, *fin, *c, *lin;
	struct luks2_reencrypt st;
	uint64_t off;
	int r;

	r = luks2_reencrypt_status(l, &st);
	if (r)
		return r;
	p->enc = !strcmp(st.mode, "encrypt");
	if ((p->enc && strcmp(st.direction, "forward")) ||
	    (!p->enc && (strcmp(st.mode, "decrypt") || strcmp(st.direction, "backward"))) ||
	    strcmp(st.resilience, "checksum")) {
		l2_err(l, "this reencryption (mode %s, direction %s, resilience %s) is not an "
		       "encryption or decryption in place with a detached header: finish it with "
		       "cryptsetup reencrypt --resume-only", st.mode, st.direction, st.resilience);
		return -ENOTSUP;
	}
	p->md = (const EVP_MD *)l2_hash(st.hash);
	p->block = st.hash_sector_size;
	p->area_off = st.area_offset;
	p->area_size = st.area_size;
	prev = l2_segment_flagged(l, "backup-previous", NULL);
	fin = l2_segment_flagged(l, "backup-final", NULL);
	c = p->enc ? fin : prev;
	lin = p->enc ? prev : fin;
	if (!p->md || p->block < 512 || (p->block & (p->block - 1)) || !c || !lin ||
	    l2_segment_flagged(l, "backup-moved-segment", NULL) ||
	    !is_type(lin, "linear") || !is_dynamic(lin) || !l2_u64(lin, "offset", &off) || off ||
	    !is_type(c, "crypt") || !is_dynamic(c) || !l2_u64(c, "offset", &off) || off ||
	    !l2_u64(c, "iv_tweak", &p->iv0) || !l2_int(c, "sector_size", &p->ss) ||
	    p->ss < 512 || p->block % p->ss)
		FAIL("unexpected backup segments or checksum parameters for a job in place");
	p->hash_len = (uint32_t)EVP_MD_get_size(p->md);
	p->cipher = l2_str(c, "encryption");
	return 0;
}

/* Where the job stands: [crypt 0..P)? [hotzone]? [linear ..end]? in order. */
static int ip_parse(struct luks2 *l, int dfd, struct ip *p)
{
	json_object *segs = l2_obj(l->jobj, "segments");
	const char *ids[MAX_SEGS];
	uint64_t pos = 0, off, v;
	int i, n = 0, r, stage = 0;	/* 0 crypt, 1 hotzone, 2 linear, 3 the end */
	int64_t ss;

	memset(p, 0, sizeof(*p));
	p->l = l;
	p->dfd = dfd;
	p->size = l->dev_size;
	r = ip_backups(l, p);
	if (r)
		return r;
	if (p->size % p->block)
		FAIL("the data device (%" PRIu64 " bytes) is not a multiple of the %u-byte "
		     "checksum block", p->size, p->block);
	json_object_object_foreach(segs, sid, sval) {
		if (l2_segment_is_backup(sval))
			continue;
		if (n == MAX_SEGS)
			FAIL("too many segments");
		ids[n++] = sid;
	}
	qsort(ids, (size_t)n, sizeof(ids[0]), cmp_id);
	for (i = 0; i < n; i++) {
		json_object *s = l2_obj(segs, ids[i]);
		bool crypt = is_type(s, "crypt");
		bool hot = l2_array_has(l2_obj(s, "flags"), "in-reencryption");
		int want = hot ? 1 : crypt ? 0 : 2;

		if (want < stage || (want == stage && want != 0) || !l2_u64(s, "offset", &off) ||
		    off != pos)
			FAIL("segment %s: not where the data left off (%" PRIu64 ")", ids[i], pos);
		stage = want;
		if (crypt && (!l2_u64(s, "iv_tweak", &v) || v != p->iv0 + pos / 512 ||
			      strcmp(l2_str(s, "encryption") ?: "", p->cipher ?: "") ||
			      !l2_int(s, "sector_size", &ss) || ss != p->ss))
			FAIL("segment %s: not the volume key's encryption parameters", ids[i]);
		if (!crypt && !is_type(s, "linear"))
			FAIL("segment %s: unexpected type", ids[i]);
		if (hot && crypt != p->enc)
			FAIL("segment %s: a hotzone of the wrong type", ids[i]);
		if (is_dynamic(s)) {
			if (hot || off >= p->size)
				FAIL("segment %s: unexpected dynamic size", ids[i]);
			v = p->size - off;
			stage = 3;
		} else if (!l2_u64(s, "size", &v) || !v || v % p->block || v > p->size - pos) {
			FAIL("segment %s: unexpected size", ids[i]);
		}
		if (hot) {
			p->hot_off = pos;
			p->hot_len = v;
		} else if (crypt) {
			p->crypt_end = pos + v;
		}
		pos += v;
	}
	if (pos != p->size)
		FAIL("the segments cover %" PRIu64 " bytes, not the %" PRIu64 " of the device",
		     pos, p->size);
	if (p->hot_len / p->block * p->hash_len > p->area_size)
		FAIL("the hotzone is larger than its checksums area can protect");
	return 0;
}

/*
 * [OFF, OFF + LEN) of the data device encrypted or decrypted in place;
 * RECOVER (a hotzone in flight, its checksums in the area) touches only
 * the blocks that still hash to their checksum, the others being done.
 */
static int ip_crypt(struct ip *p, uint64_t off, uint64_t len, const unsigned char *vk,
		    size_t vk_len, bool recover)
{
	struct luks2 *l = p->l;
	size_t cs_len = CHUNK / p->block * p->hash_len, n, b;
	unsigned char *buf = l2_secure_alloc(CHUNK), *cs = NULL, *now = NULL;
	EVP_MD_CTX *c = NULL;
	uint64_t x;
	int r;

	if (recover) {
		cs = malloc(cs_len);
		now = malloc(cs_len);
		c = EVP_MD_CTX_new();
	}
	r = buf && (!recover || (cs && now && c)) ? 0 : -ENOMEM;
	for (x = 0; x < len && !r; x += n) {
		n = len - x < CHUNK ? (size_t)(len - x) : CHUNK;
		r = l2_pread_all(p->dfd, buf, n, off + x);
		if (!r && !recover) {	/* the whole chunk at once */
			r = l2_sector_crypt(p->cipher, vk, vk_len, buf, n, p->iv0 + (off + x) / 512,
					    (unsigned int)p->ss, p->enc);
		} else if (!r) {
			r = l2_pread_all(l->fd, cs, n / p->block * p->hash_len,
					 p->area_off + x / p->block * p->hash_len);
			if (!r)
				r = hash_blocks(p->md, c, buf, n, p->block, now, p->hash_len);
			for (b = 0; !r && b < n; b += p->block) {
				size_t h = b / p->block * p->hash_len;

				if (memcmp(now + h, cs + h, p->hash_len))
					continue;	/* written before the cut */
				r = l2_sector_crypt(p->cipher, vk, vk_len, buf + b, p->block,
						    p->iv0 + (off + x + b) / 512,
						    (unsigned int)p->ss, p->enc);
			}
		}
		if (!r)
			r = l2_pwrite_all(p->dfd, buf, n, off + x);
	}
	if (!r && fdatasync(p->dfd))
		r = -errno;
	if (r)
		l2_err(l, "rewriting the data at %" PRIu64 " failed: %s", off, strerror(-r));
	l2_secure_free(buf, CHUNK);
	EVP_MD_CTX_free(c);
	if (cs) {
		l2_wipe(cs, cs_len);
		free(cs);
	}
	if (now) {
		l2_wipe(now, cs_len);
		free(now);
	}
	return r;
}

/* Step 1: the hash of each block of [OFF, OFF + LEN) to the area, synced. */
static int ip_protect(struct ip *p, uint64_t off, uint64_t len)
{
	struct luks2 *l = p->l;
	size_t cs_len = (size_t)(len / p->block * p->hash_len);
	unsigned char *buf = l2_secure_alloc(CHUNK), *cs = malloc(cs_len);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	uint64_t x;
	size_t n;
	int r = buf && cs && c ? 0 : -ENOMEM;

	for (x = 0; x < len && !r; x += n) {
		n = len - x < CHUNK ? (size_t)(len - x) : CHUNK;
		r = l2_pread_all(p->dfd, buf, n, off + x);
		if (!r)
			r = hash_blocks(p->md, c, buf, n, p->block, cs + x / p->block * p->hash_len,
					p->hash_len);
	}
	EVP_MD_CTX_free(c);
	if (!r)
		r = l2_write_begin(l);
	if (!r) {
		r = l2_pwrite_all(l->fd, cs, cs_len, p->area_off);
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

/*
 * The state "[0, A) crypt, [A, B) the hotzone (when HOT; of the type the
 * job writes), [B, end) linear", cryptsetup's hot and post segments.
 */
static int ip_write_state(struct ip *p, uint64_t a, uint64_t b, bool hot)
{
	json_object *segs[3];
	int n = 0;

	if (a)
		segs[n++] = l2_crypt_seg(0, a < p->size ? a : 0, p->iv0, p->cipher, p->ss, false);
	if (hot && p->enc)
		segs[n++] = l2_crypt_seg(a, b - a, p->iv0 + a / 512, p->cipher, p->ss, true);
	else if (hot)
		segs[n++] = l2_linear_seg(a, b - a, "in-reencryption");
	if (!hot)
		b = a;
	if (b < p->size)
		segs[n++] = l2_linear_seg(b, 0, NULL);
	return l2_encdec_segments(p->l, segs, n);
}

int luks2_inplace_run(struct luks2 *l, int dfd, const void *vk, size_t vk_len,
		      uint64_t max_hotzone,
		      void (*progress)(void *ctx, uint64_t done, uint64_t total), void *ctx)
{
	const char *did, *t = getenv("VAULT_TEST_CRASH_AFTER_DATA");
	int r, crash_after = t ? atoi(t) : -1, steps = 0;
	uint64_t a, b, cap;
	json_object *dig;
	struct ip p;

	if (!l->rw) {
		l2_err(l, "%s: opened read-only", l->path);
		return -EROFS;
	}
	r = l2_device_size(dfd, &l->dev_size);	/* the segments describe the data device */
	if (r) {
		l2_err(l, "cannot get the size of the data device: %s", strerror(-r));
		return r;
	}
	r = ip_backups(l, &p);
	if (r)
		return r;
	/* CVE-2021-4122: nothing else of the metadata is used before its
	 * digest verified with the volume key */
	did = l2_flagged_digest_id(l, p.enc ? "backup-final" : "backup-previous");
	dig = did ? l2_obj(l2_obj(l->jobj, "digests"), did) : NULL;
	if (!dig || l2_digest_verify(dig, vk, vk_len)) {
		l2_err(l, "the volume key does not match this job's key");
		return -EPERM;
	}
	r = p.enc ? luks2_reencrypt_verify_keys(l, NULL, 0, vk, vk_len) :
		    luks2_reencrypt_verify_keys(l, vk, vk_len, NULL, 0);
	if (!r)
		r = ip_parse(l, dfd, &p);
	if (r)
		return r;
	if ((vk_len != 32 && vk_len != 64) || strcmp(p.cipher ?: "", "aes-xts-plain64")) {
		l2_err(l, "only aes-xts-plain64 data is rewritten by vaultctl (this is %s, %zu-byte "
		       "key): use cryptsetup reencrypt --resume-only", p.cipher ?: "?", vk_len);
		return -ENOTSUP;
	}
	/* what the area can protect, in whole checksum blocks */
	cap = p.area_size / p.hash_len * p.block;
	if (!max_hotzone || max_hotzone > cap)
		max_hotzone = cap;
	max_hotzone -= max_hotzone % p.block;
	if (!max_hotzone) {
		l2_err(l, "the reencrypt keyslot's area is too small for a hotzone");
		return -EINVAL;
	}
	for (;;) {
		if (p.hot_len) {
			/* a cut left this hotzone half done: its checksums tell the blocks apart */
			a = p.hot_off;
			b = a + p.hot_len;
			r = ip_crypt(&p, a, b - a, vk, vk_len, true);
		} else if (p.enc ? p.crypt_end < p.size : p.crypt_end > 0) {
			/* encrypt: on from the crypt part; decrypt: back from its end */
			a = p.enc ? p.crypt_end : (p.crypt_end > max_hotzone ?
						   p.crypt_end - max_hotzone : 0);
			b = p.enc ? (p.size - a > max_hotzone ? a + max_hotzone : p.size) :
				    p.crypt_end;
			r = ip_protect(&p, a, b - a);			/* 1 */
			if (!r)
				r = ip_write_state(&p, a, b, true);	/* 2 */
			if (!r)
				r = ip_parse(l, dfd, &p);
			if (!r)
				r = ip_crypt(&p, a, b - a, vk, vk_len, false);	/* 3 */
			if (!r && crash_after >= 0 && ++steps > crash_after)
				_exit(137);	/* tests: a cut between data and checkpoint */
		} else {
			break;
		}
		if (!r)						/* 4 */
			r = ip_write_state(&p, p.enc ? b : a, 0, false);
		if (!r)
			r = ip_parse(l, dfd, &p);
		if (r)
			return r;
		if (progress)
			progress(ctx, p.enc ? p.crypt_end : p.size - p.crypt_end, p.size);
	}
	if (!p.enc)
		return l2_decrypt_finish(l);	/* wipes the keyslots area */
	r = l2_encrypt_finish(l);
	/* the checksums of plaintext blocks go with the keyslot */
	return r ? r : l2_wipe_in_header(l, p.area_off, p.area_size);
}

int luks2_inplace_resume(struct luks2 *l, int dfd, const char *pass, size_t pass_len,
			 uint64_t max_hotzone,
			 void (*progress)(void *ctx, uint64_t done, uint64_t total), void *ctx)
{
	unsigned char *vk = l2_vk_alloc(l);
	struct ip p;
	const char *did;
	size_t vk_len = 0;
	int r;

	if (!vk)
		return -ENOMEM;
	r = ip_backups(l, &p);
	did = r ? NULL : l2_flagged_digest_id(l, p.enc ? "backup-final" : "backup-previous");
	if (!r)
		r = did ? l2_unlock_digest(l, did, pass, pass_len, vk, LUKS2_VK_MAX, &vk_len) :
			  -EINVAL;
	if (r == -EPERM || r == -ENOENT) {
		l2_err(l, "No key available with this passphrase.");
		r = -EPERM;
	} else if (r == -EINVAL && !did) {
		l2_err(l, "the crypt backup segment has no digest");
	}
	if (r >= 0)
		r = luks2_inplace_run(l, dfd, vk, vk_len, max_hotzone, progress, ctx);
	l2_secure_free(vk, LUKS2_VK_MAX);
	return r;
}

int luks2_decrypt_detached_init(struct luks2 *l, int dfd, const void *vk, size_t vk_len)
{
	json_object *segs = l2_obj(l->jobj, "segments"), *s0 = l2_obj(segs, "0");
	json_object *prev, *nsegs, *list, *dold, *a, *saved;
	uint64_t off, area = 0, sz, end = 2 * l->hdr_size + l->keyslots_size;
	uint32_t block;
	int64_t ss;
	int r;

	r = l2_device_size(dfd, &l->dev_size);	/* the segments describe the data device */
	if (r) {
		l2_err(l, "cannot get the size of the data device: %s", strerror(-r));
		return r;
	}
	dold = l2_digest_for_segment(l->jobj, "0", NULL);
	if (json_object_object_length(segs) != 1 || !s0 || !dold || !is_type(s0, "crypt") ||
	    !is_dynamic(s0) || !l2_u64(s0, "offset", &off) || off ||
	    !l2_int(s0, "sector_size", &ss) || ss < 512 || ss > 4096 ||
	    strcmp(l2_str(s0, "encryption") ?: "", "aes-xts-plain64") ||
	    (vk_len != 32 && vk_len != 64))
		FAIL("only a volume with one aes-xts-plain64 segment at offset 0 of its data "
		     "device is decrypted in place with its header file by vaultctl");
	block = l2_encrypt_csum_block(dfd, (uint32_t)ss);
	if (!l->dev_size || l->dev_size % block)
		FAIL("the data device (%" PRIu64 " bytes) is not a multiple of the %u-byte "
		     "checksum block", l->dev_size, block);
	json_object_object_foreach(l2_obj(l->jobj, "keyslots"), kid, kval) {
		(void)kid;
		if (l2_u64(l2_obj(kval, "area"), "offset", &off) &&
		    l2_u64(l2_obj(kval, "area"), "size", &sz) && off + sz > area)
			area = off + sz;
	}
	area = (area + 4095) / 4096 * 4096;
	if (area + 4096 > end) {
		l2_err(l, "no room in the keyslots area for the hotzone checksums");
		return -ENOSPC;
	}
	saved = l2_snapshot(l);
	prev = l2_json_copy(s0);
	if (!saved || !prev) {
		json_object_put(saved);
		json_object_put(prev);
		return -ENOMEM;
	}
	/* cryptsetup's init: the volume, backup-previous (it), backup-final (linear) */
	list = json_object_new_array();
	json_object_array_add(list, json_object_new_string("backup-previous"));
	json_object_object_add(prev, "flags", list);
	nsegs = json_object_new_object();
	json_object_object_add(nsegs, "0", json_object_get(s0));
	json_object_object_add(nsegs, "1", prev);
	json_object_object_add(nsegs, "2", l2_linear_seg(0, 0, "backup-final"));
	json_object_object_add(l->jobj, "segments", nsegs);
	list = json_object_new_array();
	json_object_array_add(list, json_object_new_string("0"));
	json_object_array_add(list, json_object_new_string("1"));
	json_object_object_add(dold, "segments", list);
	a = l2_checksum_area(area, end - area, block);
	r = l2_add_reencrypt_keyslot(l, a, "decrypt", "backward", vk, vk_len, NULL, 0, "sha256",
				     l2_pbkdf2_calibrate("sha256", vk_len, DIGEST_ITER_MS));
	if (r) {
		json_object_put(l->jobj);
		l->jobj = saved;
		return r;
	}
	return l2_encdec_commit(l, saved);
}
