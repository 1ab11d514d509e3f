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
#include <sys/file.h>
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
	r = copy_range(l->fd, fd, 0, size);
	if (!r && fsync(fd))
		r = -errno;
	if (close(fd) && !r)
		r = -errno;
	if (r) {
		l2_err(l, "%s: writing the backup failed: %s", file, strerror(-r));
		unlink(file);
	}
	return r;
}

int luks2_header_restore(struct luks2 *l, const char *device, const char *file, bool force)
{
	struct luks2 *b = luks2_new(), *d = luks2_new();
	uint64_t size, dsize, hdr;
	struct luks2_segment seg;
	int fd = -1, r;

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
	hdr = b->hdr_size;
	if (size > b->dev_size) {
		r = -ENODATA;
		l2_err(l, "backup %s is truncated (%" PRIu64 " of %" PRIu64 " bytes)", file,
		       b->dev_size, size);
		goto out;
	}
	/* a different LUKS2 volume on the device needs FORCE */
	if (!luks2_load(d, device, 0) && strcmp(d->uuid, b->uuid) && !force) {
		r = -EEXIST;
		l2_err(l, "%s holds a LUKS2 header with another UUID (%s, backup %s); refusing",
		       device, d->uuid, b->uuid);
		goto out;
	}
	luks2_free(d);		/* drops its shared lock before we take ours */
	d = NULL;
	fd = open(device, O_RDWR | O_CLOEXEC);
	if (fd < 0 || flock(fd, LOCK_EX)) {
		r = -errno;
		l2_err(l, "%s: %s", device, strerror(errno));
		goto out;
	}
	r = l2_device_size(fd, &dsize);
	if (r) {
		l2_err(l, "%s: cannot get the size: %s", device, strerror(-r));
		goto out;
	}
	if (!luks2_get_segment(b, &seg) && seg.offset && dsize <= seg.offset * 512) {
		r = -ENOSPC;
		l2_err(l, "%s (%" PRIu64 " bytes) is smaller than the backup's data offset (%" PRIu64 ")",
		       device, dsize, seg.offset * 512);
		goto out;
	}
	if (dsize < size) {
		r = -ENOSPC;
		l2_err(l, "%s is smaller than the backup", device);
		goto out;
	}
	/* keyslots first, then the secondary copy, the primary last */
	r = copy_range(b->fd, fd, 2 * hdr, size - 2 * hdr);
	if (!r)
		r = copy_range(b->fd, fd, hdr, hdr);
	if (!r && fdatasync(fd))
		r = -errno;
	if (!r)
		r = copy_range(b->fd, fd, 0, hdr);
	if (!r && fdatasync(fd))
		r = -errno;
	if (r)
		l2_err(l, "%s: writing the header failed: %s", device, strerror(-r));
out:
	if (fd >= 0)
		close(fd);
	luks2_free(b);
	luks2_free(d);
	return r;
}
