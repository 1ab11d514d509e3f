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
#include <sys/mman.h>
#include <unistd.h>

#include "luks2_internal.h"

#define DIGEST_ITER_MS	125

static json_object *lin(uint64_t off, uint64_t size, const char *flag)
{
	json_object *s = json_object_new_object(), *fl;

	json_object_object_add(s, "type", json_object_new_string("linear"));
	json_object_object_add(s, "offset", l2_new_u64(off));
	json_object_object_add(s, "size", l2_new_u64(size));
	if (flag) {
		fl = json_object_new_array();
		json_object_array_add(fl, json_object_new_string(flag));
		json_object_object_add(s, "flags", fl);
	}
	return s;
}

/* Copies LEN bytes from FROM to TO on FD (not overlapping), then syncs. */
static int copy_range(int fd, uint64_t from, uint64_t to, uint64_t len)
{
	unsigned char *buf = l2_secure_alloc(1U << 20);
	uint64_t done;
	size_t n;
	int r = buf ? 0 : -ENOMEM;

	for (done = 0; done < len && !r; done += n) {
		n = len - done < (1U << 20) ? (size_t)(len - done) : (1U << 20);
		r = l2_pread_all(fd, buf, n, from + done);
		if (!r)
			r = l2_pwrite_all(fd, buf, n, to + done);
	}
	if (!r && fdatasync(fd))
		r = -errno;
	l2_secure_free(buf, 1U << 20);
	return r;
}

/* The header image in MFD, [FROM, TO), to the device; synced. */
static int put_header(int mfd, int dev, uint64_t from, uint64_t to)
{
	unsigned char *buf = l2_secure_alloc(1U << 20);
	uint64_t o;
	size_t n;
	int r = buf ? 0 : -ENOMEM;

	for (o = from; o < to && !r; o += n) {
		n = to - o < (1U << 20) ? (size_t)(to - o) : (1U << 20);
		r = l2_pread_all(mfd, buf, n, o);
		if (!r)
			r = l2_pwrite_all(dev, buf, n, o);
	}
	if (!r && fdatasync(dev))
		r = -errno;
	l2_secure_free(buf, 1U << 20);
	return r;
}

/* Turns the fresh header in L into the start of an encryption. */
static int make_metadata(struct luks2 *l, uint64_t dev_size, uint64_t shift,
			 const void *vk, size_t vk_len, const char *hash, uint32_t iter)
{
	uint64_t data = dev_size - 2 * shift, area = 0, o, s;
	json_object *segs, *fin = NULL, *ks, *a, *cfg, *req, *mand, *dmeta, *dnew;
	const char *fid;

	json_object_deep_copy(l2_obj(l2_obj(l->jobj, "segments"), "0"), &fin, NULL);
	dnew = l2_digest_for_segment(l->jobj, "0", &fid);
	if (!fin || !dnew)
		return -ENOMEM;
	json_object_object_foreach(l2_obj(l->jobj, "keyslots"), kid, kval) {
		(void)kid;
		if (l2_u64(l2_obj(kval, "area"), "offset", &o) &&
		    l2_u64(l2_obj(kval, "area"), "size", &s) && o + s > area)
			area = o + s;
	}
	/* data segments in logical order, then the backups (cryptsetup's init) */
	segs = json_object_new_object();
	json_object_object_add(segs, "0", lin(dev_size - shift, shift, NULL));
	json_object_object_add(segs, "1", lin(shift, data - shift, NULL));
	json_object_object_add(segs, "2", lin(dev_size - shift, shift, "backup-moved-segment"));
	json_object_object_add(segs, "3", lin(0, data, "backup-previous"));
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
	ks = json_object_new_object();
	json_object_object_add(ks, "area", a);
	json_object_object_add(ks, "type", json_object_new_string("reencrypt"));
	json_object_object_add(ks, "key_size", json_object_new_int(1));
	json_object_object_add(ks, "mode", json_object_new_string("encrypt"));
	json_object_object_add(ks, "direction", json_object_new_string("backward"));
	json_object_object_add(ks, "priority", json_object_new_int(0));
	json_object_object_add(l2_obj(l->jobj, "keyslots"), "1", ks);

	cfg = l2_obj(l->jobj, "config");
	req = json_object_new_object();
	mand = json_object_new_array();
	json_object_array_add(mand, json_object_new_string("online-reencrypt-v2"));
	json_object_object_add(req, "mandatory", mand);
	json_object_object_add(cfg, "requirements", req);

	dmeta = l2_reencrypt_digest_create(l, NULL, 0, vk, vk_len, hash, iter);
	if (!dmeta)
		return -EINVAL;
	json_object_array_add(l2_obj(dmeta, "keyslots"), json_object_new_string("1"));
	json_object_object_add(l2_obj(l->jobj, "digests"), "1", dmeta);
	return 0;
}

int luks2_encrypt_init(int dev_fd, const char *path, uint64_t reduce,
		       const struct luks2_format_params *fp, const char *pass, size_t pass_len,
		       void *vk, size_t *vk_len, char *err, size_t err_len)
{
	struct luks2_format_params p = *fp;
	uint64_t dev_size, shift = reduce / 2;
	struct luks2 *l = NULL;
	json_object *saved;
	const char *hash;
	uint32_t iter;
	int mfd, r;

	*vk_len = 0;
	r = l2_device_size(dev_fd, &dev_size);
	if (r) {
		snprintf(err, err_len, "%s: cannot get the size: %s", path, strerror(-r));
		return r;
	}
	if (reduce % 8192 || shift < 2 * L2_MIN_HDR_SIZE + 4096 + 4096 ||
	    dev_size <= reduce + shift) {
		snprintf(err, err_len, "invalid reduce size %" PRIu64 " for a %" PRIu64
			 "-byte device", reduce, dev_size);
		return -EINVAL;
	}
	p.data_offset = shift;
	p.metadata_size = L2_MIN_HDR_SIZE;
	p.keyslots_size = shift - 2 * L2_MIN_HDR_SIZE;
	if (!p.sector_size)
		p.sector_size = 512;	/* as cryptsetup 2.6.1 reencrypt --encrypt */
	if (!p.key_size)
		p.key_size = 64;
	if (p.key_size > LUKS2_VK_MAX || l2_random(vk, p.key_size)) {
		snprintf(err, err_len, "random number generator failed");
		return -EIO;
	}
	*vk_len = p.key_size;
	/* the header is built whole in memory first */
	mfd = memfd_create("vaultctl-encrypt-header", MFD_CLOEXEC);
	if (mfd < 0 || ftruncate(mfd, (off_t)(shift + 4096))) {
		r = -errno;
		snprintf(err, err_len, "cannot create the header in memory: %s", strerror(-r));
		goto out;
	}
	r = luks2_format_fd(mfd, "(new header)", &p, vk, p.key_size, pass, pass_len, &l, err,
			    err_len);
	if (r)
		goto out;
	hash = p.pbkdf.type == LUKS2_KDF_PBKDF2 && p.pbkdf.hash ? p.pbkdf.hash : "sha256";
	iter = p.pbkdf.iterations ? 1000 : l2_pbkdf2_calibrate(hash, p.key_size, DIGEST_ITER_MS);
	saved = l2_snapshot(l);
	l->dev_size = dev_size;		/* the segments describe the real device */
	r = saved ? make_metadata(l, dev_size, shift, vk, p.key_size, hash, iter) : -ENOMEM;
	if (!r) {
		l->reencrypt_write = true;
		r = l2_commit(l, saved);
		l->reencrypt_write = false;
	} else {
		json_object_put(saved);
	}
	if (r) {
		snprintf(err, err_len, "cannot build the header: %s", luks2_error(l));
		goto out;
	}
	/* 1. the first S bytes of the data to the end, past the filesystem */
	r = copy_range(dev_fd, 0, dev_size - shift, shift);
	/* 2. keyslots, secondary, primary */
	if (!r)
		r = put_header(mfd, dev_fd, 2 * L2_MIN_HDR_SIZE, shift);
	if (!r)
		r = put_header(mfd, dev_fd, L2_MIN_HDR_SIZE, 2 * L2_MIN_HDR_SIZE);
	if (!r)
		r = put_header(mfd, dev_fd, 0, L2_MIN_HDR_SIZE);
	if (r)
		snprintf(err, err_len, "%s: writing failed: %s", path, strerror(-r));
out:
	luks2_free(l);
	if (mfd >= 0)
		close(mfd);
	if (r) {
		l2_wipe(vk, LUKS2_VK_MAX);
		*vk_len = 0;
	}
	return r;
}
