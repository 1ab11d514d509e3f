// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * luks2: header backup and restore.  A backup is the byte image of both
 * metadata copies and the keyslots area (as cryptsetup's luksHeaderBackup),
 * so either tool restores the other's backups.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "luks2_internal.h"

#define CHUNK	(1024 * 1024)

static int copy_range(int in, int out, uint64_t off, uint64_t len)
{
	unsigned char *buf = malloc(CHUNK);
	uint64_t done;
	int r = 0;

	if (!buf)
		return -ENOMEM;
	for (done = 0; done < len && !r; done += CHUNK) {
		size_t n = len - done < CHUNK ? (size_t)(len - done) : CHUNK;

		r = l2_pread_all(in, buf, n, off + done);
		if (!r)
			r = l2_pwrite_all(out, buf, n, off + done);
	}
	free(buf);
	return r;
}

int luks2_header_backup(struct luks2 *l, const char *file)
{
	uint64_t size;
	int fd, r;

	if (!l->jobj) {
		l2_err(l, "no header loaded");
		return -EINVAL;
	}
	size = luks2_header_area_size(l);
	if (size > l->dev_size) {
		l2_err(l, "%s is shorter than its header area (%" PRIu64 " bytes)", l->path, size);
		return -ENODATA;
	}
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		l2_err(l, "%s: cannot create: %s", file, strerror(errno));
		return r;
	}
	/* a consistent copy: under the read lock, of the header that was read */
	r = l2_lock(l, false);
	if (!r) {
		unsigned char now[L2_META_DIGEST_LEN];

		r = l2_meta_digest(l, now);
		if (!r && memcmp(now, l->meta_digest, sizeof(now))) {
			l2_err(l, "%s: the LUKS2 header changed on disk since it was read (another "
			       "program, e.g. cryptsetup, modified it); no backup made, run the "
			       "command again", l->path);
			r = -ESTALE;
		}
		if (!r)
			r = copy_range(l->fd, fd, 0, size);
		l2_unlock(l);
	}
	if (!r && fsync(fd))
		r = -errno;
	if (close(fd) && !r)
		r = -errno;
	if (r) {
		if (r != -ESTALE)
			l2_err(l, "%s: writing the backup failed: %s", file, strerror(-r));
		unlink(file);
	}
	return r;
}

/* Header area and data offset of a loaded header, in bytes. */
struct layout {
	uint64_t hdr, keyslots, area, data_off, data_size;
};

static int get_layout(struct luks2 *h, struct layout *ly)
{
	struct luks2_segment seg;

	if (luks2_get_segment(h, &seg))
		return -EINVAL;
	ly->hdr = h->hdr_size;
	ly->keyslots = h->keyslots_size;
	ly->area = luks2_header_area_size(h);
	ly->data_off = seg.offset * 512;
	ly->data_size = seg.size * 512;
	return 0;
}

/* The backup's own layout must be sane and fit the device. */
static int check_backup_layout(struct luks2 *l, const char *device, const char *file,
			       const struct layout *b, uint64_t dsize)
{
	if (b->data_off < b->area) {
		l2_err(l, "backup %s: its data segment (offset %" PRIu64 ") overlaps its metadata "
		       "and keyslots (%" PRIu64 " bytes); refusing to restore it", file,
		       b->data_off, b->area);
		return -EINVAL;
	}
	if (dsize < b->area || dsize <= b->data_off ||
	    (b->data_size && b->data_off + b->data_size > dsize)) {
		if (b->data_size)
			l2_err(l, "%s (%" PRIu64 " bytes) is too small for the backup's layout (header area "
			       "%" PRIu64 ", data from %" PRIu64 ", fixed size)", device, dsize, b->area,
			       b->data_off);
		else
			l2_err(l, "%s (%" PRIu64 " bytes) is too small for the backup's layout (header area "
			       "%" PRIu64 ", data from %" PRIu64 ")", device, dsize, b->area, b->data_off);
		return -ENOSPC;
	}
	return 0;
}

/* Keyslots first, then the secondary copy, the primary last. */
static int write_backup(struct luks2 *l, struct luks2 *b, struct luks2 *d, const char *device)
{
	uint64_t size = luks2_header_area_size(b), hdr = b->hdr_size;
	int r;

	r = copy_range(b->fd, d->fd, 2 * hdr, size - 2 * hdr);
	if (!r)
		r = copy_range(b->fd, d->fd, hdr, hdr);
	if (!r && fdatasync(d->fd))
		r = -errno;
	if (!r)
		r = copy_range(b->fd, d->fd, 0, hdr);
	if (!r && fdatasync(d->fd))
		r = -errno;
	if (r)
		l2_err(l, "%s: writing the header failed: %s; the device may hold a partly restored "
		       "header, restore again once it writes", device, strerror(-r));
	return r;
}

int luks2_header_restore(struct luks2 *l, const char *device, const char *file, bool force)
{
	int fd = open(device, O_RDWR | O_CLOEXEC), r;

	if (fd < 0) {
		r = -errno;
		l2_err(l, "%s: cannot open: %s", device, strerror(errno));
		return r;
	}
	r = luks2_header_restore_fd(l, fd, device, file, force, NULL, NULL);
	close(fd);
	return r;
}

int luks2_header_restore_fd(struct luks2 *l, int dev_fd, const char *device, const char *file,
			    bool force, int (*confirm)(void *ctx), void *ctx)
{
	struct luks2 *b = luks2_new(), *d = luks2_new();
	struct layout bl, dl;
	uint64_t size, dsize;
	bool have_old;
	int r;

	if (!b || !d) {
		r = -ENOMEM;
		l2_err(l, "out of memory");
		goto out;
	}
	r = luks2_load(b, file, 0);
	if (r) {
		l2_err(l, "backup %s: %s", file, luks2_error(b));
		goto out;
	}
	if (b->health) {
		r = -EINVAL;
		l2_err(l, "backup %s: %s; refusing to restore it", file, b->health_text);
		goto out;
	}
	size = luks2_header_area_size(b);
	if (size > b->dev_size) {
		r = -ENODATA;
		l2_err(l, "backup %s is truncated (%" PRIu64 " of %" PRIu64 " bytes)", file,
		       b->dev_size, size);
		goto out;
	}
	if (get_layout(b, &bl)) {
		r = -EINVAL;
		l2_err(l, "backup %s: %s", file, luks2_error(b));
		goto out;
	}
	r = l2_device_size(dev_fd, &dsize);
	if (r) {
		l2_err(l, "%s: cannot get the size: %s", device, strerror(-r));
		goto out;
	}
	r = check_backup_layout(l, device, file, &bl, dsize);
	if (r)
		goto out;
	/* what the device holds now: another volume, or another layout, needs FORCE */
	have_old = !l2_load_fd(d, dev_fd, device, LUKS2_RDWR | LUKS2_IGNORE_REQUIREMENTS);
	/* a re-encryption half done: the old header cannot read the new part */
	if (have_old && l2_reencrypt_version(d) && !force) {
		r = -EEXIST;
		l2_err(l, "%s is in the middle of a reencryption: a restored header would not "
		       "read the data already re-encrypted; finish it with 'cryptsetup reencrypt "
		       "--resume-only %s'; refusing", device, device);
		goto out;
	}
	if (have_old && strcmp(d->uuid, b->uuid) && !force) {
		r = -EEXIST;
		l2_err(l, "%s holds a LUKS2 header with another UUID (%s, backup %s); refusing",
		       device, d->uuid, b->uuid);
		goto out;
	}
	if (have_old && !get_layout(d, &dl) &&
	    (dl.hdr != bl.hdr || dl.keyslots != bl.keyslots || dl.data_off != bl.data_off) &&
	    !force) {
		r = -EEXIST;
		l2_err(l, "%s holds a LUKS2 header with another layout (metadata %" PRIu64
		       ", keyslots %" PRIu64 ", data offset %" PRIu64 "; backup %" PRIu64 ", %" PRIu64
		       ", %" PRIu64 "): the data would be read at another offset; refusing", device,
		       dl.hdr, dl.keyslots, dl.data_off, bl.hdr, bl.keyslots, bl.data_off);
		goto out;
	}
	if (!have_old) {
		/* nothing (valid) to compare with: just lock the device */
		luks2_free(d);
		d = luks2_new();
		if (!d || !(d->path = strdup(device)) ||
		    (d->fd = fcntl(dev_fd, F_DUPFD_CLOEXEC, 0)) < 0) {
			r = -ENOMEM;
			l2_err(l, "%s: cannot prepare the restore", device);
			goto out;
		}
		d->rw = true;
		d->formatting = true;
		d->hdr_size = bl.hdr;
		d->dev_size = dsize;
	}
	/* asked only now, and not under the lock (a prompt may wait for ever) */
	if (confirm) {
		r = confirm(ctx);
		if (r)
			goto out;
	}
	/* under cryptsetup's write lock, and only if the device did not change since */
	r = l2_write_begin(d);
	if (r) {
		l2_err(l, "%s", luks2_error(d));
		goto out;
	}
	r = write_backup(l, b, d, device);
	l2_write_end(d);
out:
	luks2_free(b);
	luks2_free(d);
	return r;
}
