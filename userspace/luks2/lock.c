// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * luks2: the metadata lock libcryptsetup uses, so that vaultctl and
 * cryptsetup (or systemd-cryptsetup, udisks) exclude each other.
 *
 * libcryptsetup 2.6 locks, for a block device, the file
 * /run/cryptsetup/L_<major>:<minor> (directory made 0700 when missing,
 * file 0644) with flock(): shared to read the header, exclusive to write
 * it.  Whoever releases a lock may unlink that file, so after flock()
 * returns the path must still name the locked inode, or the lock is
 * worthless and is taken again.  For a regular file (an image) the file
 * itself is flock()ed.
 *
 * On top of the lock, a writer checks that the metadata on disk is still
 * what it read (l2_write_begin): the prompt and the key derivation happen
 * without the lock, and another program may have changed the header then.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "luks2_internal.h"

#define LOCK_PARENT	"/run"
#define LOCK_DIR	"cryptsetup"

static bool same_inode(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* /run/cryptsetup, made as libcryptsetup makes it when missing. */
static int open_lock_dir(struct luks2 *l)
{
	int parent, fd;

	parent = open(LOCK_PARENT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (parent < 0) {
		l2_err(l, "cannot lock %s: %s: %s", l->path, LOCK_PARENT, strerror(errno));
		return -errno;
	}
	fd = openat(parent, LOCK_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		if (mkdirat(parent, LOCK_DIR, 0700) && errno != EEXIST)
			fd = -1;
		else
			fd = openat(parent, LOCK_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0) {
		fd = -errno;
		l2_err(l, "cannot lock %s: the lock directory %s/%s is unusable: %s", l->path,
		       LOCK_PARENT, LOCK_DIR, strerror(errno));
	}
	close(parent);
	return fd;
}

static int flock_wait(int fd, int op)
{
	while (flock(fd, op)) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

/* One attempt on a block device; -EAGAIN when the lock file was replaced. */
static int lock_bdev(struct luks2 *l, dev_t rdev, int op)
{
	struct stat held, named;
	char name[64];
	int dir, fd, r;

	snprintf(name, sizeof(name), "L_%u:%u", major(rdev), minor(rdev));
	dir = open_lock_dir(l);
	if (dir < 0)
		return dir;
	fd = openat(dir, name, O_CREAT | O_NOFOLLOW | O_RDWR | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = -errno;
		l2_err(l, "cannot lock %s: %s/%s/%s: %s", l->path, LOCK_PARENT, LOCK_DIR, name,
		       strerror(errno));
		close(dir);
		return r;
	}
	r = flock_wait(fd, op);
	if (r) {
		l2_err(l, "cannot lock %s: %s", l->path, strerror(-r));
	} else if (fstat(fd, &held) || fstatat(dir, name, &named, AT_SYMLINK_NOFOLLOW) ||
		   !same_inode(&held, &named)) {
		r = -EAGAIN;	/* unlinked by its last holder: take the new one */
	}
	close(dir);
	if (r) {
		close(fd);
		return r;
	}
	l->lock_fd = fd;
	l->lock_bdev = true;
	l->lock_rdev = rdev;
	return 0;
}

static int lock_file(struct luks2 *l, const struct stat *dev, int op)
{
	struct stat st;
	int fd, r;
	char self[64];

	/* a new open file (flock is per open file) of the very file we use */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", l->fd);
	fd = open(self, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		fd = open(self, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)	/* no /proc: the path, checked below */
		fd = open(l->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		l2_err(l, "cannot lock %s: %s", l->path, strerror(errno));
		return r;
	}
	if (fstat(fd, &st) || !same_inode(&st, dev)) {
		l2_err(l, "cannot lock %s: the path now names another file", l->path);
		close(fd);
		return -ESTALE;
	}
	r = flock_wait(fd, op);
	if (r) {
		l2_err(l, "cannot lock %s: %s", l->path, strerror(-r));
		close(fd);
		return r;
	}
	l->lock_fd = fd;
	l->lock_bdev = false;
	return 0;
}

int l2_lock(struct luks2 *l, bool exclusive)
{
	int op = exclusive ? LOCK_EX : LOCK_SH, r;
	struct stat st;

	if (l->lock_fd >= 0) {
		l2_err(l, "internal error: %s is already locked", l->path);
		return -EDEADLK;
	}
	if (fstat(l->fd, &st)) {
		r = -errno;
		l2_err(l, "%s: %s", l->path, strerror(errno));
		return r;
	}
	if (S_ISREG(st.st_mode))
		return lock_file(l, &st, op);
	if (!S_ISBLK(st.st_mode)) {
		l2_err(l, "%s is neither a block device nor a regular file", l->path);
		return -ENOTBLK;
	}
	do {
		r = lock_bdev(l, st.st_rdev, op);
	} while (r == -EAGAIN);
	return r;
}

void l2_unlock(struct luks2 *l)
{
	struct stat held, named;
	char path[96];

	if (l->lock_fd < 0)
		return;
	/* like libcryptsetup: the last holder removes the lock file */
	if (l->lock_bdev && !flock(l->lock_fd, LOCK_EX | LOCK_NB) && !fstat(l->lock_fd, &held)) {
		snprintf(path, sizeof(path), "%s/%s/L_%u:%u", LOCK_PARENT, LOCK_DIR,
			 major(l->lock_rdev), minor(l->lock_rdev));
		if (!lstat(path, &named) && same_inode(&held, &named))
			unlink(path);
	}
	flock(l->lock_fd, LOCK_UN);
	close(l->lock_fd);
	l->lock_fd = -1;
}

/* SHA-256 of both metadata copies as they are on disk now. */
int l2_meta_digest(struct luks2 *l, unsigned char out[L2_META_DIGEST_LEN])
{
	uint64_t len = 2 * l->hdr_size;
	unsigned char *buf;
	unsigned int n;
	int r;

	if (len > l->dev_size)
		len = l->dev_size;
	buf = malloc(len);
	if (!buf) {
		l2_err(l, "out of memory");
		return -ENOMEM;
	}
	r = l2_pread_all(l->fd, buf, len, 0);
	if (r)
		l2_err(l, "%s: read error: %s", l->path, strerror(-r));
	else if (EVP_Digest(buf, len, out, &n, EVP_sha256(), NULL) != 1)
		r = -EIO;
	free(buf);
	return r;
}

int l2_write_begin(struct luks2 *l)
{
	unsigned char now[L2_META_DIGEST_LEN];
	uint64_t seqid;
	unsigned char b[8];
	int r;

	if (l->write_depth++)
		return 0;
	r = l2_lock(l, true);
	if (r)
		goto fail;
	if (l->formatting)
		return 0;
	r = l2_meta_digest(l, now);
	if (r)
		goto unlock;
	if (memcmp(now, l->meta_digest, sizeof(now))) {
		seqid = l2_pread_all(l->fd, b, sizeof(b), 16) ? 0 : l2_be64(b);
		l2_err(l, "%s: the LUKS2 header changed on disk since it was read (seqid %" PRIu64
		       ", now %" PRIu64 "): another program (e.g. cryptsetup) modified it; "
		       "nothing was written, run the command again", l->path, l->seqid, seqid);
		r = -ESTALE;
		goto unlock;
	}
	return 0;
unlock:
	l2_unlock(l);
fail:
	l->write_depth = 0;
	return r;
}

void l2_write_end(struct luks2 *l)
{
	if (!l->write_depth || --l->write_depth)
		return;
	/* what we wrote is what the next write compares with */
	if (l2_meta_digest(l, l->meta_digest))
		memset(l->meta_digest, 0, sizeof(l->meta_digest));
	l->formatting = false;
	l2_unlock(l);
}
