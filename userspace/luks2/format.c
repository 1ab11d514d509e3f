// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * luks2: a new header, with cryptsetup 2.6 defaults: aes-xts-plain64 with a
 * 512-bit key, argon2id, 16 KiB of metadata per copy, keyslots up to a
 * 16 MiB data offset, 4096-byte sectors where the device allows.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "luks2_internal.h"

#define DIGEST_ITER_MS	125

static int ferr(char *err, size_t len, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int ferr(char *err, size_t len, int r, const char *fmt, ...)
{
	va_list ap;

	if (err && len) {
		va_start(ap, fmt);
		vsnprintf(err, len, gettext(fmt), ap);
		va_end(ap);
	}
	return r;
}

bool luks2_uuid_valid(const char *u)
{
	int i;

	if (strlen(u) != 36)
		return false;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (u[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)u[i])) {
			return false;
		}
	}
	return true;
}

static int random_uuid(char *out)
{
	unsigned char b[16];
	int r = l2_random(b, sizeof(b));

	if (r)
		return r;
	b[6] = (b[6] & 0x0f) | 0x40;	/* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
	snprintf(out, L2_UUID_LEN,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
		 b[12], b[13], b[14], b[15]);
	return 0;
}

/* cipher-chainmode-ivmode[:ivopts] or capi:..., no spaces or odd bytes. */
static bool cipher_spec_ok(const char *c)
{
	size_t i;

	if (!c || !*c || strlen(c) >= sizeof(((struct luks2_segment *)0)->cipher))
		return false;
	for (i = 0; c[i]; i++)
		if (!isalnum((unsigned char)c[i]) && !strchr("-_:(),.", c[i]))
			return false;
	return !l2_cipher_is_null(c) && strchr(c, '-');
}

static int zero_range(int fd, uint64_t len)
{
	static const unsigned char z[65536];
	uint64_t done;
	int r = 0;

	for (done = 0; done < len && !r; done += sizeof(z)) {
		size_t n = len - done < sizeof(z) ? (size_t)(len - done) : sizeof(z);

		r = l2_pwrite_all(fd, z, n, done);
	}
	return r;
}

static json_object *new_segment(uint64_t offset, const char *cipher, uint32_t sector_size)
{
	json_object *s = json_object_new_object();

	json_object_object_add(s, "type", json_object_new_string("crypt"));
	json_object_object_add(s, "offset", l2_new_u64(offset));
	json_object_object_add(s, "size", json_object_new_string("dynamic"));
	json_object_object_add(s, "iv_tweak", json_object_new_string("0"));
	json_object_object_add(s, "encryption", json_object_new_string(cipher));
	json_object_object_add(s, "sector_size", json_object_new_int((int)sector_size));
	return s;
}

int luks2_format(const char *path, const struct luks2_format_params *p,
		 const void *vk_in, size_t vk_len, const char *pass, size_t pass_len,
		 struct luks2 **out, char *err, size_t err_len)
{
	int fd = open(path, O_RDWR | O_CLOEXEC), r;

	if (fd < 0) {
		r = -errno;
		if (out)
			*out = NULL;
		return ferr(err, err_len, r, "%s: cannot open: %s", path, strerror(-r));
	}
	r = luks2_format_fd(fd, path, p, vk_in, vk_len, pass, pass_len, out, err, err_len);
	close(fd);
	return r;
}

int luks2_format_fd(int dev_fd, const char *path, const struct luks2_format_params *p,
		    const void *vk_in, size_t vk_len, const char *pass, size_t pass_len,
		    struct luks2 **out, char *err, size_t err_len)
{
	struct luks2_format_params d = { 0 };
	uint64_t md, data_off, ks_size;
	const char *cipher, *hash;
	json_object *root, *segs, *digs, *cfg, *dig;
	unsigned char *vk = NULL;
	uint32_t key_size, ss, iter;
	unsigned int lbs = 512;
	struct luks2 *l = NULL;
	struct stat st;
	int r, slot;

	if (out)
		*out = NULL;
	if (!p)
		p = &d;
	cipher = p->cipher ? p->cipher : "aes-xts-plain64";
	key_size = p->key_size ? p->key_size : 64;
	md = p->metadata_size ? p->metadata_size : L2_MIN_HDR_SIZE;
	data_off = p->data_offset ? p->data_offset : L2_DEFAULT_DATA_OFFSET;
	if (!cipher_spec_ok(cipher))
		return ferr(err, err_len, -EINVAL, "invalid or refused cipher \"%s\"", cipher);
	if (key_size > LUKS2_VK_MAX || (vk_in && vk_len != key_size))
		return ferr(err, err_len, -EINVAL, "invalid volume key size %u", key_size);
	if (md < L2_MIN_HDR_SIZE || md > L2_MAX_HDR_SIZE || (md & (md - 1)))
		return ferr(err, err_len, -EINVAL,
			    "metadata size must be a power of two from 16 KiB to 4 MiB");
	if (data_off % 4096 || data_off <= 2 * md)
		return ferr(err, err_len, -EINVAL, "invalid data offset %" PRIu64, data_off);
	ks_size = p->keyslots_size ? p->keyslots_size : data_off - 2 * md;
	if (ks_size > L2_MAX_KEYSLOTS_SIZE)
		ks_size = L2_MAX_KEYSLOTS_SIZE;
	if (ks_size % 4096 || 2 * md + ks_size > data_off)
		return ferr(err, err_len, -EINVAL, "invalid keyslots area size %" PRIu64, ks_size);
	if ((uint64_t)key_size * L2_STRIPES > ks_size)
		return ferr(err, err_len, -EINVAL, "keyslots area too small for one keyslot");
	if ((p->label && strlen(p->label) >= L2_LABEL_LEN) ||
	    (p->subsystem && strlen(p->subsystem) >= L2_SUBSYSTEM_LEN))
		return ferr(err, err_len, -EINVAL, "label or subsystem longer than 47 bytes");
	if (p->uuid && !luks2_uuid_valid(p->uuid))
		return ferr(err, err_len, -EINVAL, "invalid UUID \"%s\"", p->uuid);
	if (p->sector_size && (p->sector_size < 512 || p->sector_size > 4096 ||
			       (p->sector_size & (p->sector_size - 1))))
		return ferr(err, err_len, -EINVAL, "sector size must be 512, 1024, 2048 or 4096");

	l = luks2_new();
	if (!l)
		return ferr(err, err_len, -ENOMEM, "out of memory");
	l->path = strdup(path);
	/* the caller's descriptor: the device it checked (and may hold with O_EXCL) */
	l->fd = fcntl(dev_fd, F_DUPFD_CLOEXEC, 0);
	if (!l->path || l->fd < 0) {
		r = ferr(err, err_len, l->path ? -errno : -ENOMEM, "%s: %s", path,
			 l->path ? strerror(errno) : _("out of memory"));
		goto fail;
	}
	l->rw = true;
	if (fstat(l->fd, &st)) {
		r = ferr(err, err_len, -errno, "%s: %s", path, strerror(errno));
		goto fail;
	}
	r = l2_device_size(l->fd, &l->dev_size);
	if (r) {
		ferr(err, err_len, r, "%s: cannot get the size: %s", path, strerror(-r));
		goto fail;
	}
	if (S_ISBLK(st.st_mode)) {
		int v;

		if (!ioctl(l->fd, BLKSSZGET, &v) && v > 0)
			lbs = (unsigned int)v;
	}
	if (l->dev_size <= data_off) {
		r = ferr(err, err_len, -ENOSPC, "%s is too small: %" PRIu64 " bytes, the data starts at %"
			 PRIu64, path, l->dev_size, data_off);
		goto fail;
	}
	if (p->sector_size) {
		ss = p->sector_size;
		if (ss < lbs) {
			r = ferr(err, err_len, -EINVAL, "sector size %u below the device's %u", ss, lbs);
			goto fail;
		}
		if ((l->dev_size - data_off) % ss) {
			r = ferr(err, err_len, -EINVAL,
				 "data area size is not a multiple of the %u-byte sector size", ss);
			goto fail;
		}
	} else {
		ss = 4096;
		if (lbs > 4096 || (l->dev_size - data_off) % 4096)
			ss = lbs > 512 ? lbs : 512;
	}

	l->hdr_size = md;
	l->keyslots_size = ks_size;
	snprintf(l->csum_alg, sizeof(l->csum_alg), "sha256");
	snprintf(l->label, sizeof(l->label), "%s", p->label ? p->label : "");
	snprintf(l->subsystem, sizeof(l->subsystem), "%s", p->subsystem ? p->subsystem : "");
	if (p->uuid) {
		size_t i;

		for (i = 0; i < 36; i++)
			l->uuid[i] = (char)tolower((unsigned char)p->uuid[i]);
	} else if (random_uuid(l->uuid)) {
		r = ferr(err, err_len, -EIO, "random number generator failed");
		goto fail;
	}
	if (l2_random(l->salt, sizeof(l->salt))) {
		r = ferr(err, err_len, -EIO, "random number generator failed");
		goto fail;
	}

	vk = l2_secure_alloc(key_size);
	if (!vk) {
		r = ferr(err, err_len, -ENOMEM, "cannot allocate locked memory");
		goto fail;
	}
	if (vk_in)
		memcpy(vk, vk_in, key_size);
	else if (l2_random(vk, key_size)) {
		r = ferr(err, err_len, -EIO, "random number generator failed");
		goto fail;
	}

	hash = p->pbkdf.type == LUKS2_KDF_PBKDF2 && p->pbkdf.hash ? p->pbkdf.hash : "sha256";
	if (!l2_hash(hash)) {
		r = ferr(err, err_len, -EINVAL, "unsupported hash %s", hash);
		goto fail;
	}
	iter = p->pbkdf.iterations ? 1000 : l2_pbkdf2_calibrate(hash, key_size, DIGEST_ITER_MS);
	dig = l2_digest_new(vk, key_size, hash, iter);
	root = json_object_new_object();
	segs = json_object_new_object();
	digs = json_object_new_object();
	cfg = json_object_new_object();
	if (!dig || !root || !segs || !digs || !cfg) {
		json_object_put(dig);
		json_object_put(root);
		json_object_put(segs);
		json_object_put(digs);
		json_object_put(cfg);
		r = ferr(err, err_len, -ENOMEM, "out of memory");
		goto fail;
	}
	json_object_object_add(segs, "0", new_segment(data_off, cipher, ss));
	json_object_array_add(l2_obj(dig, "segments"), json_object_new_string("0"));
	json_object_object_add(digs, "0", dig);
	json_object_object_add(cfg, "json_size", l2_new_u64(md - L2_BIN_HDR_SIZE));
	json_object_object_add(cfg, "keyslots_size", l2_new_u64(ks_size));
	json_object_object_add(root, "keyslots", json_object_new_object());
	json_object_object_add(root, "tokens", json_object_new_object());
	json_object_object_add(root, "segments", segs);
	json_object_object_add(root, "digests", digs);
	json_object_object_add(root, "config", cfg);
	l->jobj = root;

	/* cryptsetup's write lock over the whole format; nothing to compare with */
	l->formatting = true;
	r = l2_write_begin(l);
	if (r) {
		ferr(err, err_len, r, "%s", l->err);
		goto fail;
	}
	/* old headers and keyslots go: zero everything before the data */
	r = zero_range(l->fd, data_off);
	if (r) {
		l2_err(l, "%s: wiping the header area failed: %s", path, strerror(-r));
	} else {
		r = l2_disk_write(l);
		if (!r) {
			slot = luks2_add_keyslot(l, p->keyslot >= 0 ? p->keyslot : 0, vk, key_size,
						 pass, pass_len, &p->pbkdf);
			r = slot < 0 ? slot : 0;
		}
	}
	l2_write_end(l);
	if (r) {
		ferr(err, err_len, r, "%s", l->err);
		goto fail;
	}
	l2_secure_free(vk, key_size);
	if (out)
		*out = l;
	else
		luks2_free(l);
	return 0;
fail:
	l2_secure_free(vk, key_size);
	luks2_free(l);
	return r;
}
