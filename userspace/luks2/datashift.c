// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * luks2: moving the data of an in-place encryption with "datashift"
 * resilience, as cryptsetup 2.6 reencrypt --encrypt --reduce-device-size
 * does (lib/luks2/luks2_reencrypt.c), offline, in userspace.
 *
 * Why userspace (OpenSSL) and not the kernel target: the device is not in
 * use, the data only moves once, and the result is plain LUKS2 ciphertext
 * (aes-xts-plain64, 512-byte IV sectors) that host tests check on image
 * files without a kernel; nothing here needs dm-vault loaded.
 *
 * The layout (shift S = half of --reduce-device-size, data size D):
 *   data segments, in logical order: the moved first segment (linear, the
 *   first S bytes of the filesystem, copied to the end of the device by the
 *   init), the rest still in place (linear), then the encrypted part
 *   (crypt, at S + logical offset, IV sector = logical offset / 512).
 *   Backups: backup-previous (linear 0, D), backup-final (crypt S,
 *   dynamic), backup-moved-segment (linear at the end).  Direction
 *   backward: hotzones of at most S bytes from the end, so a hotzone's
 *   target [a + S, b + S) never overlaps its own source [a, b) nor
 *   anything not yet moved.
 *
 * Order of writes for each hotzone (what makes a crash at any instant
 * recoverable, by this code or by cryptsetup reencrypt --resume-only):
 *   1. metadata: the hotzone as a crypt segment flagged "in-reencryption"
 *   2. data: read the source (still intact: nothing writes to it), encrypt,
 *      write the target, fdatasync
 *   3. metadata: the hotzone merged into the encrypted part
 * After a crash between 1 and 3 the hotzone is simply redone from its
 * source (the datashift resilience needs no journal).  The metadata is
 * acted on only after its digest verified with the volume key
 * (CVE-2021-4122).  Tests stop the run there on purpose:
 * VAULT_TEST_CRASH_AFTER_DATA=N exits (status 137, as kill -9) after the
 * data of hotzone N + 1, before its checkpoint.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "luks2_internal.h"

#define CHUNK	(1U << 20)	/* bytes read, encrypted and written at once */

struct ds_seg {
	const char *id;
	json_object *j;
	uint64_t lstart, size;	/* logical */
	bool crypt, hot;
};

struct ds {
	struct luks2 *l;
	json_object *prev, *fin, *moved;	/* backups (moved may be NULL) */
	uint64_t prev_off, fin_off, fin_iv, moved_off, moved_size, shift, data_size;
	int64_t ss;
	const char *cipher;
	struct ds_seg seg[64];
	int n;
};

static int cmp_seg(const void *a, const void *b)
{
	return (int)(strtoul(((const struct ds_seg *)a)->id, NULL, 10) -
		     strtoul(((const struct ds_seg *)b)->id, NULL, 10));
}

/* Reads the layout; refuses anything but an encryption with datashift. */
static int ds_parse(struct luks2 *l, struct ds *d)
{
	json_object *segs = l2_obj(l->jobj, "segments");
	struct luks2_reencrypt st;
	uint64_t pos = 0;
	int i, r;

	memset(d, 0, sizeof(*d));
	d->l = l;
	r = luks2_reencrypt_status(l, &st);
	if (r)
		return r;
	if (strcmp(st.mode, "encrypt") || strcmp(st.direction, "backward") ||
	    strcmp(st.resilience, "datashift")) {
		l2_err(l, "this reencryption (mode %s, direction %s, resilience %s) is not an "
		       "in-place encryption with datashift: finish it with cryptsetup reencrypt "
		       "--resume-only", st.mode, st.direction, st.resilience);
		return -ENOTSUP;
	}
	d->shift = st.shift_size;
	d->prev = l2_segment_flagged(l, "backup-previous", NULL);
	d->fin = l2_segment_flagged(l, "backup-final", NULL);
	d->moved = l2_segment_flagged(l, "backup-moved-segment", NULL);
	if (!d->prev || !d->fin || strcmp(l2_str(d->prev, "type") ?: "", "linear") ||
	    strcmp(l2_str(d->fin, "type") ?: "", "crypt") ||
	    strcmp(l2_str(d->fin, "size") ?: "", "dynamic") ||
	    !l2_u64(d->prev, "offset", &d->prev_off) || !l2_u64(d->prev, "size", &d->data_size) ||
	    !l2_u64(d->fin, "offset", &d->fin_off) || !l2_u64(d->fin, "iv_tweak", &d->fin_iv) ||
	    !l2_int(d->fin, "sector_size", &d->ss)) {
		l2_err(l, "unexpected backup segments for an encryption");
		return -EINVAL;
	}
	d->cipher = l2_str(d->fin, "encryption");
	if (d->moved && (strcmp(l2_str(d->moved, "type") ?: "", "linear") ||
			 !l2_u64(d->moved, "offset", &d->moved_off) ||
			 !l2_u64(d->moved, "size", &d->moved_size) || d->moved_size > d->data_size)) {
		l2_err(l, "unexpected moved segment");
		return -EINVAL;
	}
	/* the shift that makes every hotzone safe: target above its source */
	if (d->fin_off != d->prev_off + d->shift || d->shift % 4096 ||
	    d->fin_off + d->data_size > l->dev_size ||
	    (d->moved && (d->moved_off < d->fin_off + d->data_size ||
			  d->moved_off + d->moved_size > l->dev_size))) {
		l2_err(l, "the datashift layout does not fit the device (%" PRIu64 " bytes)",
		       l->dev_size);
		return -EINVAL;
	}
	json_object_object_foreach(segs, sid, sval) {
		if (l2_segment_is_backup(sval))
			continue;
		if (d->n == (int)(sizeof(d->seg) / sizeof(d->seg[0]))) {
			l2_err(l, "too many segments");
			return -EINVAL;
		}
		d->seg[d->n].id = sid;
		d->seg[d->n].j = sval;
		d->n++;
	}
	qsort(d->seg, (size_t)d->n, sizeof(d->seg[0]), cmp_seg);
	for (i = 0; i < d->n; i++) {
		struct ds_seg *s = &d->seg[i];

		s->crypt = !strcmp(l2_str(s->j, "type") ?: "", "crypt");
		s->hot = l2_array_has(l2_obj(s->j, "flags"), "in-reencryption");
		if (!strcmp(l2_str(s->j, "size") ?: "", "dynamic") || !l2_u64(s->j, "size", &s->size)) {
			l2_err(l, "segment %s: unexpected size", s->id);
			return -EINVAL;
		}
		s->lstart = pos;
		pos += s->size;
	}
	if (pos != d->data_size) {
		l2_err(l, "segments cover %" PRIu64 " bytes, not the %" PRIu64 " of the data",
		       pos, d->data_size);
		return -EINVAL;
	}
	return 0;
}

static json_object *crypt_seg(const struct ds *d, uint64_t lstart, uint64_t size, bool hot)
{
	return l2_crypt_seg(d->fin_off + lstart, size, d->fin_iv + lstart / 512, d->cipher, d->ss,
			    hot);
}

/*
 * The segments of the state "logical [0, A) not moved yet, [A, B) the
 * hotzone (flagged when HOT), [B, D) encrypted", with the backups after
 * them (the layout cryptsetup writes at each checkpoint).
 */
static int ds_write_state(struct ds *d, uint64_t a, uint64_t b, bool hot)
{
	json_object *segs[4];
	int n = 0, r;

	if (!hot)
		b = a;		/* the hotzone joins the encrypted part */
	if (d->moved && a) {
		uint64_t m = a < d->moved_size ? a : d->moved_size;

		segs[n++] = l2_linear_seg(d->moved_off, m, NULL);
		if (a > m)
			segs[n++] = l2_linear_seg(d->prev_off + m, a - m, NULL);
	} else if (a) {
		segs[n++] = l2_linear_seg(d->prev_off, a, NULL);
	}
	if (b > a)
		segs[n++] = crypt_seg(d, a, b - a, true);
	if (d->data_size > b)
		segs[n++] = crypt_seg(d, b, d->data_size - b, false);
	r = l2_encdec_segments(d->l, segs, n);
	/* the backups now live in the new tree: read them again */
	return r ? r : ds_parse(d->l, d);
}

/* Step 2: logical [A, B) from its source to its encrypted place. */
static int ds_move(struct ds *d, uint64_t a, uint64_t b, const unsigned char *vk, size_t vk_len)
{
	struct luks2 *l = d->l;
	unsigned char *buf = l2_secure_alloc(CHUNK);
	uint64_t x, src;
	size_t n;
	int r = 0;

	if (!buf) {
		l2_err(l, "cannot allocate locked memory");
		return -ENOMEM;
	}
	for (x = a; x < b && !r; x += n) {
		n = b - x < CHUNK ? (size_t)(b - x) : CHUNK;
		/* a hotzone never straddles the moved segment's end */
		src = d->moved && x < d->moved_size ? d->moved_off + x : d->prev_off + x;
		r = l2_pread_all(l->fd, buf, n, src);
		if (!r)
			r = l2_sector_crypt(d->cipher, vk, vk_len, buf, n, d->fin_iv + x / 512,
					    (unsigned int)d->ss, true);
		if (!r)
			r = l2_pwrite_all(l->fd, buf, n, d->fin_off + x);
		if (r)
			l2_err(l, "%s: moving the data at %" PRIu64 " failed: %s", l->path, x,
			       strerror(-r));
	}
	if (!r && fdatasync(l->fd)) {
		r = -errno;
		l2_err(l, "%s: flushing the data failed: %s", l->path, strerror(-r));
	}
	l2_secure_free(buf, CHUNK);
	return r;
}

int luks2_datashift_run(struct luks2 *l, const void *vk, size_t vk_len,
			void (*progress)(void *ctx, uint64_t done, uint64_t total), void *ctx)
{
	json_object *dig;
	const char *did;
	uint64_t a, b;
	struct ds d;
	int r, i, crash_after = -1, steps = 0;
	const char *t = getenv("VAULT_TEST_CRASH_AFTER_DATA");

	if (t)
		crash_after = atoi(t);
	if (!l->rw) {
		l2_err(l, "%s: opened read-only", l->path);
		return -EROFS;
	}
	/* CVE-2021-4122: nothing of the metadata is used before its digest
	 * verified with the new key */
	did = l2_flagged_digest_id(l, "backup-final");
	dig = did ? l2_obj(l2_obj(l->jobj, "digests"), did) : NULL;
	if (!dig || l2_digest_verify(dig, vk, vk_len)) {
		l2_err(l, "the volume key does not match the reencryption's new key");
		return -EPERM;
	}
	r = luks2_reencrypt_verify_keys(l, NULL, 0, vk, vk_len);
	if (r)
		return r;
	r = ds_parse(l, &d);
	if (r)
		return r;
	if ((vk_len != 32 && vk_len != 64) || strcmp(d.cipher ?: "", "aes-xts-plain64")) {
		l2_err(l, "only aes-xts-plain64 data is moved by vaultctl (this is %s, %zu-byte "
		       "key): use cryptsetup reencrypt --resume-only", d.cipher ?: "?", vk_len);
		return -ENOTSUP;
	}
	for (;;) {
		int hot = -1, pend = -1;

		for (i = 0; i < d.n; i++) {
			if (d.seg[i].hot)
				hot = i;
			else if (!d.seg[i].crypt)
				pend = i;
		}
		if (hot >= 0) {
			/* a crash left this hotzone half done: redo it from its source */
			a = d.seg[hot].lstart;
			b = a + d.seg[hot].size;
			if (b - a > d.shift) {
				l2_err(l, "hotzone larger than the data shift: refusing it");
				return -EINVAL;
			}
		} else if (pend >= 0) {
			b = d.seg[pend].lstart + d.seg[pend].size;
			a = b - d.seg[pend].lstart > d.shift ? b - d.shift : d.seg[pend].lstart;
			/* 1. the hotzone in the metadata, before any data moves */
			r = ds_write_state(&d, a, b, true);
			if (r)
				return r;
		} else {
			return l2_encrypt_finish(l);
		}
		/* 2. the data */
		r = ds_move(&d, a, b, vk, vk_len);
		if (r)
			return r;
		if (crash_after >= 0 && ++steps > crash_after)
			_exit(137);	/* tests: a crash between data and checkpoint */
		/* 3. the checkpoint */
		r = ds_write_state(&d, a, b, false);
		if (r)
			return r;
		if (progress)
			progress(ctx, d.data_size - a, d.data_size);
	}
}

int luks2_datashift_resume(struct luks2 *l, const char *pass, size_t pass_len,
			   void (*progress)(void *ctx, uint64_t done, uint64_t total), void *ctx)
{
	unsigned char *vk = l2_vk_alloc(l);
	const char *did;
	size_t vk_len = 0;
	int r;

	if (!vk)
		return -ENOMEM;
	did = l2_flagged_digest_id(l, "backup-final");
	r = did ? l2_unlock_digest(l, did, pass, pass_len, vk, LUKS2_VK_MAX, &vk_len) : -EINVAL;
	if (r == -EPERM || r == -ENOENT) {
		l2_err(l, "No key available with this passphrase.");
		r = -EPERM;
	} else if (!did) {
		l2_err(l, "no backup-final segment with a digest: not an in-place encryption");
	}
	if (r >= 0)
		r = luks2_datashift_run(l, vk, vk_len, progress, ctx);
	l2_secure_free(vk, LUKS2_VK_MAX);
	return r;
}
