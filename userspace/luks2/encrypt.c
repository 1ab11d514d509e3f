// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * luks2: starting an in-place encryption of a plain device, as cryptsetup
 * 2.6 reencrypt --encrypt --reduce-device-size R does with the header on
 * the device: shift S = R / 2, data offset S, keyslots area S - 2 x 16 KiB,
 * a "reencrypt" keyslot (mode encrypt, direction backward, resilience
 * datashift, shift_size S) and the first S bytes of the data moved to the
 * end of the device ("backup-moved-segment"), so the header can take their
 * place.  datashift.c then moves the data.
 *
 * Order of writes (a crash anywhere leaves the data recoverable):
 *   1. the first S bytes of the data are copied to [size - S, size), synced
 *      (past the end of the shrunk filesystem: nothing in use is touched);
 *   2. the header, built complete in memory (a memfd, as cryptsetup builds
 *      it in a temporary file), goes to [0, S): keyslot material first,
 *      then the secondary copy, then the primary, each synced.
 * Before 2 ends the device is still the plain filesystem (whose start is
 * also at the end); after it, cryptsetup reencrypt --resume-only or
 * vaultctl encrypt --resume-only continue.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <linux/fs.h>

#include "luks2_internal.h"

#define DIGEST_ITER_MS	125

/* ---- shared by encrypt*.c, datashift.c and decrypt.c ---- */

json_object *l2_json_copy(json_object *o)
{
	json_object *c = NULL;

	return json_object_deep_copy(o, &c, NULL) ? NULL : c;
}

const char *l2_flagged_digest_id(struct luks2 *l, const char *flag)
{
	const char *sid = NULL, *did = NULL;

	if (l2_segment_flagged(l, flag, &sid) && sid)
		l2_digest_for_segment(l->jobj, sid, &did);
	return did;
}

int l2_encdec_commit(struct luks2 *l, json_object *saved)
{
	int r;

	l->reencrypt_write = true;
	l->inspect_only = false;
	r = l2_commit(l, saved);
	l->reencrypt_write = false;
	l->inspect_only = true;
	return r;
}

int l2_encdec_segments(struct luks2 *l, json_object **segs, int n)
{
	json_object *prev, *fin, *moved, *all, *list, *dig, *saved;
	bool enc = !strcmp(l2_str(l2_segment_flagged(l, "backup-final", NULL), "type") ?: "",
			   "crypt");
	const char *did = l2_flagged_digest_id(l, enc ? "backup-final" : "backup-previous");
	char k[12];
	int i, id = 0;

	prev = l2_json_copy(l2_segment_flagged(l, "backup-previous", NULL));
	fin = l2_json_copy(l2_segment_flagged(l, "backup-final", NULL));
	moved = l2_segment_flagged(l, "backup-moved-segment", NULL);
	moved = moved ? l2_json_copy(moved) : NULL;
	dig = did ? l2_obj(l2_obj(l->jobj, "digests"), did) : NULL;
	saved = prev && fin && dig ? l2_snapshot(l) : NULL;
	if (!saved) {
		for (i = 0; i < n; i++)
			json_object_put(segs[i]);
		json_object_put(prev);
		json_object_put(fin);
		json_object_put(moved);
		l2_err(l, "the job's metadata lost its backup segments or their digest");
		return -EINVAL;
	}
	/*
	 * cryptsetup's order: the data segments, then backup-previous, -final,
	 * -moved; the key's digest names the crypt backup first, then every
	 * crypt data segment
	 */
	all = json_object_new_object();
	list = json_object_new_array();
	snprintf(k, sizeof(k), "%d", enc ? n + 1 : n);
	json_object_array_add(list, json_object_new_string(k));
	for (i = 0; i < n; i++) {
		snprintf(k, sizeof(k), "%d", id++);
		if (!strcmp(l2_str(segs[i], "type") ?: "", "crypt"))
			json_object_array_add(list, json_object_new_string(k));
		json_object_object_add(all, k, segs[i]);
	}
	snprintf(k, sizeof(k), "%d", id++);
	json_object_object_add(all, k, prev);
	snprintf(k, sizeof(k), "%d", id++);
	json_object_object_add(all, k, fin);
	if (moved) {
		snprintf(k, sizeof(k), "%d", id++);
		json_object_object_add(all, k, moved);
	}
	json_object_object_add(dig, "segments", list);
	json_object_object_add(l->jobj, "segments", all);
	return l2_encdec_commit(l, saved);
}

int l2_wipe_in_header(struct luks2 *l, uint64_t off, uint64_t len)
{
	uint64_t data_size = l->dev_size, hdr_size;
	int r;

	/* l2_keyslot_wipe_area stops at dev_size: here the header file's end */
	r = l2_device_size(l->fd, &hdr_size);
	if (r)
		return r;
	l->dev_size = hdr_size;
	r = l2_keyslot_wipe_area(l, off, len);
	l->dev_size = data_size;
	return r;
}

int l2_encrypt_finish(struct luks2 *l)
{
	json_object *keyslots = l2_obj(l->jobj, "keyslots"), *digests = l2_obj(l->jobj, "digests");
	json_object *segs, *fin, *saved, *mand, *list, *dig;
	const char *mdid = NULL, *did = l2_flagged_digest_id(l, "backup-final");
	char rid[12] = "", mid[12] = "";
	int r;

	fin = l2_json_copy(l2_segment_flagged(l, "backup-final", NULL));
	dig = did ? l2_obj(digests, did) : NULL;
	saved = fin && dig ? l2_snapshot(l) : NULL;
	if (!saved) {
		json_object_put(fin);
		l2_err(l, "the encryption metadata lost its final segment or its digest");
		return -EINVAL;
	}
	segs = json_object_new_object();
	json_object_object_del(fin, "flags");
	json_object_object_add(segs, "0", fin);
	list = json_object_new_array();
	json_object_array_add(list, json_object_new_string("0"));
	json_object_object_add(dig, "segments", list);
	json_object_object_add(l->jobj, "segments", segs);
	json_object_object_foreach(keyslots, kid, kval) {
		if (!strcmp(l2_str(kval, "type") ?: "", "reencrypt"))
			snprintf(rid, sizeof(rid), "%s", kid);
	}
	if (*rid) {
		if (l2_digest_for_keyslot(l->jobj, rid, &mdid))
			snprintf(mid, sizeof(mid), "%s", mdid);
		json_object_object_del(keyslots, rid);
		if (*mid)
			json_object_object_del(digests, mid);
	}
	mand = l2_obj(l2_obj(l2_obj(l->jobj, "config"), "requirements"), "mandatory");
	if (mand) {
		l2_array_remove(mand, "online-reencrypt-v2");
		l2_array_remove(mand, "online-reencrypt-v3");
		l2_array_remove(mand, "online-reencrypt");
		if (!json_object_array_length(mand))
			json_object_object_del(l2_obj(l->jobj, "config"), "requirements");
	}
	r = l2_encdec_commit(l, saved);
	if (!r)
		l->inspect_only = false;	/* an ordinary LUKS2 volume again */
	return r;
}

/* ---- the start of an encryption ---- */

json_object *l2_linear_seg(uint64_t off, uint64_t size, const char *flag)
{
	json_object *s = json_object_new_object(), *fl;

	json_object_object_add(s, "type", json_object_new_string("linear"));
	json_object_object_add(s, "offset", l2_new_u64(off));
	json_object_object_add(s, "size", size ? l2_new_u64(size) : json_object_new_string("dynamic"));
	if (flag) {
		fl = json_object_new_array();
		json_object_array_add(fl, json_object_new_string(flag));
		json_object_object_add(s, "flags", fl);
	}
	return s;
}

json_object *l2_checksum_area(uint64_t off, uint64_t size, uint32_t block)
{
	json_object *a = json_object_new_object();

	json_object_object_add(a, "offset", l2_new_u64(off));
	json_object_object_add(a, "size", l2_new_u64(size));
	json_object_object_add(a, "type", json_object_new_string("checksum"));
	json_object_object_add(a, "hash", json_object_new_string("sha256"));
	json_object_object_add(a, "sector_size", json_object_new_int((int)block));
	return a;
}

json_object *l2_crypt_seg(uint64_t off, uint64_t size, uint64_t iv, const char *cipher,
			  int64_t sector_size, bool hot)
{
	json_object *s = json_object_new_object(), *fl;

	json_object_object_add(s, "type", json_object_new_string("crypt"));
	json_object_object_add(s, "offset", l2_new_u64(off));
	json_object_object_add(s, "size", size ? l2_new_u64(size) : json_object_new_string("dynamic"));
	json_object_object_add(s, "iv_tweak", l2_new_u64(iv));
	json_object_object_add(s, "encryption", json_object_new_string(cipher));
	json_object_object_add(s, "sector_size", json_object_new_int((int)sector_size));
	if (hot) {
		fl = json_object_new_array();
		json_object_array_add(fl, json_object_new_string("in-reencryption"));
		json_object_object_add(s, "flags", fl);
	}
	return s;
}

/*
 * Copies LEN bytes at FROM on IN to TO on OUT (not overlapping when IN is
 * OUT), then syncs OUT: the data moved past the filesystem, and the header
 * image put on the device.
 */
static int copy_synced(int in, uint64_t from, int out, uint64_t to, uint64_t len)
{
	unsigned char *buf = l2_secure_alloc(1U << 20);
	uint64_t done;
	size_t n;
	int r = buf ? 0 : -ENOMEM;

	for (done = 0; done < len && !r; done += n) {
		n = len - done < (1U << 20) ? (size_t)(len - done) : (1U << 20);
		r = l2_pread_all(in, buf, n, from + done);
		if (!r)
			r = l2_pwrite_all(out, buf, n, to + done);
	}
	if (!r && fdatasync(out))
		r = -errno;
	l2_secure_free(buf, 1U << 20);
	return r;
}

int l2_add_reencrypt_keyslot(struct luks2 *l, json_object *area, const char *mode,
			     const char *direction, const void *vk_old, size_t old_len,
			     const void *vk_new, size_t new_len, const char *hash, uint32_t iter)
{
	json_object *ks, *dmeta;
	char rid[12], did[12];

	l2_free_id(l2_obj(l->jobj, "keyslots"), rid, sizeof(rid));
	ks = json_object_new_object();
	json_object_object_add(ks, "area", area);
	json_object_object_add(ks, "type", json_object_new_string("reencrypt"));
	json_object_object_add(ks, "key_size", json_object_new_int(1));
	json_object_object_add(ks, "mode", json_object_new_string(mode));
	json_object_object_add(ks, "direction", json_object_new_string(direction));
	json_object_object_add(ks, "priority", json_object_new_int(0));
	json_object_object_add(l2_obj(l->jobj, "keyslots"), rid, ks);

	l2_reencrypt_require(l);

	dmeta = l2_reencrypt_digest_create(l, vk_old, old_len, vk_new, new_len, hash, iter);
	if (!dmeta)
		return -EINVAL;
	json_object_array_add(l2_obj(dmeta, "keyslots"), json_object_new_string(rid));
	l2_free_id(l2_obj(l->jobj, "digests"), did, sizeof(did));
	json_object_object_add(l2_obj(l->jobj, "digests"), did, dmeta);
	return 0;
}

/* Turns the fresh header in L into the start of an encryption. */
static int make_metadata(struct luks2 *l, uint64_t dev_size, uint64_t shift,
			 const void *vk, size_t vk_len, const char *hash, uint32_t iter)
{
	uint64_t data = dev_size - 2 * shift, area;
	json_object *segs, *fin = NULL, *a, *mand, *dnew;
	const char *fid;

	json_object_deep_copy(l2_obj(l2_obj(l->jobj, "segments"), "0"), &fin, NULL);
	dnew = l2_digest_for_segment(l->jobj, "0", &fid);
	if (!fin || !dnew)
		return -ENOMEM;
	area = l2_keyslots_end(l);
	/* data segments in logical order, then the backups (cryptsetup's init) */
	segs = json_object_new_object();
	json_object_object_add(segs, "0", l2_linear_seg(dev_size - shift, shift, NULL));
	json_object_object_add(segs, "1", l2_linear_seg(shift, data - shift, NULL));
	json_object_object_add(segs, "2", l2_linear_seg(dev_size - shift, shift, "backup-moved-segment"));
	json_object_object_add(segs, "3", l2_linear_seg(0, data, "backup-previous"));
	mand = json_object_new_array();
	json_object_array_add(mand, json_object_new_string("backup-final"));
	json_object_object_add(fin, "flags", mand);
	json_object_object_add(segs, "4", fin);
	json_object_object_add(l->jobj, "segments", segs);
	mand = json_object_new_array();
	json_object_array_add(mand, json_object_new_string("4"));
	json_object_object_add(dnew, "segments", mand);

	a = json_object_new_object();
	json_object_object_add(a, "offset", l2_new_u64(area));
	json_object_object_add(a, "size", l2_new_u64(4096));
	json_object_object_add(a, "type", json_object_new_string("datashift"));
	json_object_object_add(a, "shift_size", l2_new_u64(shift));
	return l2_add_reencrypt_keyslot(l, a, "encrypt", "backward", NULL, 0, vk, vk_len, hash,
					iter);
}

/*
 * Formats the header into FD (PATH; sized for a data offset P->data_offset),
 * with a random volume key left in VK, then turns it into the start of an
 * encryption of a DEV_SIZE-byte data device: META writes the segments and
 * the reencrypt keyslot; one header write, synced.
 */
static int format_start(int fd, const char *path, struct luks2_format_params *p,
			const char *pass, size_t pass_len, void *vk, size_t *vk_len,
			uint64_t dev_size, bool detached,
			int (*meta)(struct luks2 *l, uint64_t dev_size, uint64_t arg, const void *vk,
				    size_t vk_len, const char *hash, uint32_t iter),
			uint64_t arg, char *err, size_t err_len)
{
	struct luks2 *l = NULL;
	json_object *saved;
	const char *hash;
	uint32_t iter;
	int r;

	if (!p->sector_size)
		p->sector_size = 512;	/* as cryptsetup 2.6.1 reencrypt --encrypt */
	if (!p->key_size)
		p->key_size = 64;
	if (p->key_size > LUKS2_VK_MAX || l2_random(vk, p->key_size)) {
		snprintf(err, err_len, _("random number generator failed"));
		return -EIO;
	}
	*vk_len = p->key_size;
	r = luks2_format_fd(fd, path, p, vk, p->key_size, pass, pass_len, &l, err, err_len);
	if (r)
		return r;
	hash = p->pbkdf.type == LUKS2_KDF_PBKDF2 && p->pbkdf.hash ? p->pbkdf.hash : "sha256";
	iter = p->pbkdf.iterations ? 1000 : l2_pbkdf2_calibrate(hash, p->key_size, DIGEST_ITER_MS);
	saved = l2_snapshot(l);
	l->dev_size = dev_size;		/* the segments describe the data device */
	l->detached = detached;
	r = saved ? meta(l, dev_size, arg, vk, p->key_size, hash, iter) : -ENOMEM;
	if (!r) {
		l->reencrypt_write = true;
		r = l2_commit(l, saved);
		l->reencrypt_write = false;
	} else {
		json_object_put(saved);
	}
	if (!r && fsync(fd))
		r = -errno;
	if (r)
		snprintf(err, err_len, _("cannot build the header: %s"), *l->err ? luks2_error(l) :
			 strerror(-r));
	luks2_free(l);
	return r;
}

int luks2_encrypt_init(int dev_fd, const char *path, uint64_t reduce,
		       const struct luks2_format_params *fp, const char *pass, size_t pass_len,
		       void *vk, size_t *vk_len, char *err, size_t err_len)
{
	struct luks2_format_params p = *fp;
	uint64_t dev_size, shift = reduce / 2;
	int mfd, r;

	*vk_len = 0;
	r = l2_device_size(dev_fd, &dev_size);
	if (r) {
		snprintf(err, err_len, _("%s: cannot get the size: %s"), path, strerror(-r));
		return r;
	}
	if (reduce % 8192 || shift < 2 * L2_MIN_HDR_SIZE + 4096 + 4096 ||
	    dev_size <= reduce + shift) {
		snprintf(err, err_len, _("invalid reduce size %" PRIu64 " for a %" PRIu64
			 "-byte device"), reduce, dev_size);
		return -EINVAL;
	}
	p.data_offset = shift;
	p.metadata_size = L2_MIN_HDR_SIZE;
	p.keyslots_size = shift - 2 * L2_MIN_HDR_SIZE;
	/* the header is built whole in memory first */
	mfd = memfd_create("vaultctl-encrypt-header", MFD_CLOEXEC);
	if (mfd < 0 || ftruncate(mfd, (off_t)(shift + 4096))) {
		r = -errno;
		snprintf(err, err_len, _("cannot create the header in memory: %s"), strerror(-r));
		goto out;
	}
	r = format_start(mfd, "(new header)", &p, pass, pass_len, vk, vk_len, dev_size, false,
			 make_metadata, shift, err, err_len);
	if (r)
		goto out;
	/* 1. the first S bytes of the data to the end, past the filesystem */
	r = copy_synced(dev_fd, 0, dev_fd, dev_size - shift, shift);
	/* 2. keyslots, secondary, primary */
	if (!r)
		r = copy_synced(mfd, 2 * L2_MIN_HDR_SIZE, dev_fd, 2 * L2_MIN_HDR_SIZE,
				shift - 2 * L2_MIN_HDR_SIZE);
	if (!r)
		r = copy_synced(mfd, L2_MIN_HDR_SIZE, dev_fd, L2_MIN_HDR_SIZE, L2_MIN_HDR_SIZE);
	if (!r)
		r = copy_synced(mfd, 0, dev_fd, 0, L2_MIN_HDR_SIZE);
	if (r)
		snprintf(err, err_len, _("%s: writing failed: %s"), path, strerror(-r));
out:
	if (mfd >= 0)
		close(mfd);
	if (r) {
		l2_wipe(vk, LUKS2_VK_MAX);
		*vk_len = 0;
	}
	return r;
}

/* The checksum block of cryptsetup: the data device's block, at least a sector. */
uint32_t l2_encrypt_csum_block(int dev_fd, uint32_t sector_size)
{
	long page = sysconf(_SC_PAGESIZE);
	uint32_t b = page > 0 ? (uint32_t)page : 4096;
	struct statvfs vfs;
	struct stat st;
	int v;

	if (!fstat(dev_fd, &st) && S_ISBLK(st.st_mode)) {
		if (!ioctl(dev_fd, BLKSSZGET, &v) && v > 0)
			b = (uint32_t)v;
	} else if (!fstatvfs(dev_fd, &vfs) && vfs.f_bsize && vfs.f_bsize <= b) {
		b = (uint32_t)vfs.f_bsize;	/* an image file: its filesystem's block */
	}
	return b > sector_size ? b : sector_size;
}

/* The metadata of reencrypt --encrypt --header: the data at 0, forward, checksum. */
static int make_header_metadata(struct luks2 *l, uint64_t dev_size, uint64_t block,
				const void *vk, size_t vk_len, const char *hash, uint32_t iter)
{
	uint64_t area, end = 2 * l->hdr_size + l->keyslots_size;
	json_object *segs, *fin, *a, *list, *dnew;

	(void)dev_size;
	fin = l2_json_copy(l2_obj(l2_obj(l->jobj, "segments"), "0"));
	dnew = l2_digest_for_segment(l->jobj, "0", NULL);
	if (!fin || !dnew) {
		json_object_put(fin);
		return -ENOMEM;
	}
	area = l2_keyslots_end(l);
	if (area + 4096 > end) {
		json_object_put(fin);
		l2_err(l, "no room in the keyslots area for the hotzone checksums");
		return -ENOSPC;
	}
	/* the data stays where it is: the crypt segment starts at 0 */
	json_object_object_add(fin, "offset", l2_new_u64(0));
	list = json_object_new_array();
	json_object_array_add(list, json_object_new_string("backup-final"));
	json_object_object_add(fin, "flags", list);
	segs = json_object_new_object();
	json_object_object_add(segs, "0", l2_linear_seg(0, 0, NULL));
	json_object_object_add(segs, "1", l2_linear_seg(0, 0, "backup-previous"));
	json_object_object_add(segs, "2", fin);
	json_object_object_add(l->jobj, "segments", segs);
	list = json_object_new_array();
	json_object_array_add(list, json_object_new_string("2"));
	json_object_object_add(dnew, "segments", list);

	/* the largest free area: the rest of the keyslots area */
	a = l2_checksum_area(area, end - area, block);
	return l2_add_reencrypt_keyslot(l, a, "encrypt", "forward", NULL, 0, vk, vk_len, hash,
					iter);
}

int luks2_encrypt_header_init(int dev_fd, const char *hdr_path,
			      const struct luks2_format_params *fp, const char *pass,
			      size_t pass_len, void *vk, size_t *vk_len, char *err, size_t err_len)
{
	struct luks2_format_params p = *fp;
	uint64_t dev_size, hdr_len;
	uint32_t block;
	int hfd, r;

	*vk_len = 0;
	r = l2_device_size(dev_fd, &dev_size);
	if (r) {
		snprintf(err, err_len, _("cannot get the size of the device: %s"), strerror(-r));
		return r;
	}
	if (!p.sector_size)
		p.sector_size = 512;
	block = l2_encrypt_csum_block(dev_fd, p.sector_size);
	if (!dev_size || dev_size % block) {
		snprintf(err, err_len, _("the device size (%" PRIu64 " bytes) is not a non-zero "
			 "multiple of %u (the checksum block)"), dev_size, block);
		return -EINVAL;
	}
	/* cryptsetup's detached header: 2 x 16 KiB metadata, keyslots to 16 MiB */
	hdr_len = p.data_offset ? p.data_offset : L2_DEFAULT_DATA_OFFSET;
	p.data_offset = hdr_len;
	if (!p.metadata_size)
		p.metadata_size = L2_MIN_HDR_SIZE;
	hfd = open(hdr_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (hfd < 0) {
		r = -errno;
		snprintf(err, err_len, _("%s: cannot create it: %s"), hdr_path, strerror(-r));
		return r;
	}
	/* formatted with a data offset past its end, then cut to the header area */
	if (ftruncate(hfd, (off_t)(hdr_len + 4096))) {
		r = -errno;
		snprintf(err, err_len, "%s: %s", hdr_path, strerror(-r));
		goto out;
	}
	r = format_start(hfd, hdr_path, &p, pass, pass_len, vk, vk_len, dev_size, true,
			 make_header_metadata, block, err, err_len);
	if (!r && (ftruncate(hfd, (off_t)hdr_len) || fsync(hfd))) {
		r = -errno;
		snprintf(err, err_len, "%s: %s", hdr_path, strerror(-r));
	}
out:
	close(hfd);
	if (r) {
		unlink(hdr_path);
		l2_wipe(vk, LUKS2_VK_MAX);
		*vk_len = 0;
	}
	return r;
}
