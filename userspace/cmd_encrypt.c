// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: "encrypt --reduce-device-size SIZE DEVICE": a plain device
 * (an ext4 shrunk by SIZE first) becomes LUKS2 in place, with cryptsetup
 * 2.6.1's layout and metadata (luks2/encrypt.c, luks2/datashift.c), so
 * either tool finishes a job the other started: "--resume-only" here, or
 * cryptsetup reencrypt --resume-only.  Offline only (the device must not be
 * in use): the data moves through OpenSSL in userspace.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "encdec.h"
#include "luks.h"
#include "secure_mem.h"
#include "util.h"

/* What cryptsetup 2.6.1 suggests: twice its default 16 MiB data offset. */
#define SUGGESTED_REDUCE	(32ULL << 20)

int encdec_open_device(const char *device)
{
	struct stat st;
	int fd, r;

	fd = open(device, O_RDWR | O_EXCL | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = errno;
		if (r == EBUSY) {
			log_err("device %s is in use (mounted, mapped or held exclusively): "
				"unmount it first, encryption in place is offline only", device);
			return -EBUSY;
		}
		return device_stat_error(device, r);
	}
	if (fstat(fd, &st) || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))) {
		log_err("%s is not a block device or an image file", device);
		close(fd);
		return -ENOTBLK;
	}
	if (S_ISBLK(st.st_mode) && blkdev_holders(major(st.st_rdev), minor(st.st_rdev)) > 0) {
		log_err("device %s is in use by another mapping (see /sys/dev/block/%u:%u/holders)",
			device, major(st.st_rdev), minor(st.st_rdev));
		close(fd);
		return -EBUSY;
	}
	return fd;
}

int encdec_dev_size(int fd, const char *device, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st))
		return device_stat_error(device, errno);
	if (S_ISREG(st.st_mode)) {
		*size = (uint64_t)st.st_size;
		return 0;
	}
	if (ioctl(fd, BLKGETSIZE64, size)) {
		log_err("%s: cannot get the size: %s", device, strerror(errno));
		return -EIO;
	}
	return 0;
}

void encdec_progress(void *ctx, uint64_t done, uint64_t total)
{
	int *last = ctx, pct = total ? (int)(done * 100 / total) : 100;

	if (pct / 10 != *last / 10)
		log_verbose("%s: %d%% (%" PRIu64 " of %" PRIu64 " MiB)", "progress", pct,
			    done >> 20, total >> 20);
	*last = pct;
}

/* Size of an ext2/3/4 filesystem starting at offset 0, or 0 when none. */
static uint64_t ext_fs_size(int fd)
{
	unsigned char sb[1024];
	uint64_t blocks;
	uint32_t log_bs;

	if (pread(fd, sb, sizeof(sb), 1024) != (ssize_t)sizeof(sb) ||
	    sb[56] != 0x53 || sb[57] != 0xef)
		return 0;
	blocks = (uint64_t)sb[4] | (uint64_t)sb[5] << 8 | (uint64_t)sb[6] << 16 |
		 (uint64_t)sb[7] << 24;
	if (sb[0x60] & 0x80)	/* INCOMPAT_64BIT: s_blocks_count_hi */
		blocks |= ((uint64_t)sb[0x150] | (uint64_t)sb[0x151] << 8 |
			   (uint64_t)sb[0x152] << 16 | (uint64_t)sb[0x153] << 24) << 32;
	log_bs = (uint32_t)sb[24] | (uint32_t)sb[25] << 8;
	return log_bs > 6 ? 0 : blocks << (10 + log_bs);
}

/* A LUKS header at the start: encrypted already (or being encrypted). */
int encdec_confirm(const struct vault_opts *o, const char *question, ...)
{
	char q[1200];	/* a translation runs longer than the English */
	va_list ap;

	if (o->batch_mode || !isatty(STDIN_FILENO))
		return 0;
	va_start(ap, question);
	vsnprintf(q, sizeof(q), question, ap);
	va_end(ap);
	return ask_yes(q) ? -EINVAL : 0;
}

int encdec_refuse_luks(int fd, const char *device)
{
	unsigned char magic[6];

	if (pread(fd, magic, sizeof(magic), 0) == (ssize_t)sizeof(magic) &&
	    (!memcmp(magic, "LUKS\xba\xbe", 6) || !memcmp(magic, "SKUL\xba\xbe", 6))) {
		log_err("%s already holds a LUKS header: it is encrypted already, or being "
			"encrypted (finish that with 'vaultctl encrypt --resume-only %s')", device,
			device);
		return -EINVAL;
	}
	return 0;
}

/* encrypt and encrypt --header: one new volume, the same way. */
int encdec_new_volume(const struct vault_opts *o, const char *device,
		      struct luks2_format_params *fp, struct passphrase *p, void **vk)
{
	char prompt[4200];
	int r;

	fp->cipher = DEFAULT_CIPHER;
	fp->key_size = (o->key_bits ? o->key_bits : DEFAULT_KEY_BITS) / 8;
	fp->label = o->label;
	fp->uuid = o->uuid;
	fp->keyslot = 0;
	luks_pbkdf(o, &fp->pbkdf);
	snprintf(prompt, sizeof(prompt), _("Enter passphrase for %s: "), device);
	r = pass_read(o->key_file, o->keyfile_offset, o->keyfile_size, prompt, true, p);
	if (r)
		return r;
	*vk = secure_alloc(LUKS2_VK_MAX);
	return *vk ? 0 : -ENOMEM;
}

int encdec_start_failed(const char *device, const char *err, int r)
{
	log_err("cannot start the encryption of %s: %s", device, err);
	return r == -ENOMEM ? r : -EINVAL;
}

int encdec_resume(const struct vault_opts *o, const char *device)
{
	struct passphrase p = { 0 };
	struct luks2_reencrypt st;
	char prompt[4200];
	struct luks2 *l = luks2_new();
	int r, last = -1;

	if (!l)
		return -ENOMEM;
	r = luks2_load(l, device, LUKS2_RDWR | LUKS2_IGNORE_REQUIREMENTS);
	if (r) {
		log_err("%s: %s", device, luks2_error(l));
		goto out;
	}
	r = luks2_reencrypt_status(l, &st);
	if (r == -ENOENT) {
		log_err("%s: no encryption or decryption in progress (nothing to resume)", device);
		r = -EINVAL;
		goto out;
	}
	if (r) {
		log_err("%s: %s", device, luks2_error(l));
		goto out;
	}
	if (strcmp(st.mode, "encrypt")) {
		log_err("%s: a %s job is in progress, not an encryption: finish it with "
			"'cryptsetup reencrypt --resume-only %s'", device, st.mode, device);
		r = -ENOTSUP;
		goto out;
	}
	snprintf(prompt, sizeof(prompt), _("Enter passphrase for %s: "), device);
	r = pass_read(o->key_file, o->keyfile_offset, o->keyfile_size, prompt, false, &p);
	if (r)
		goto out;
	r = luks2_datashift_resume(l, p.buf, p.len, encdec_progress, &last);
	if (r) {
		log_err("%s: %s", device, luks2_error(l));
		goto out;
	}
	log_verbose("%s: encryption finished.", device);
out:
	pass_free(&p);
	luks2_free(l);
	return r == -EPERM || r == -ENOMEM || r == -EBUSY ? r : r ? -EINVAL : 0;
}

int cmd_encrypt(const struct vault_opts *o, int argc, char **argv)
{
	const char *device = argv[0];
	struct luks2_format_params fp = { 0 };
	struct passphrase p = { 0 };
	uint64_t dev_size, fs, room;
	char err[1024];
	struct luks2 *l = NULL;
	size_t vk_len = 0;
	void *vk = NULL;
	int fd, r, last = -1;

	(void)argc;
	if (o->header)
		return encrypt_header(o, device);
	if (o->hotzone_size) {
		log_err("--hotzone-size is for encrypt --header: with the header on the device "
			"each hotzone is half of --reduce-device-size");
		return -EINVAL;
	}
	if (o->resume_only)
		return encdec_resume(o, device);
	fd = encdec_open_device(device);
	if (fd < 0)
		return fd;
	r = encdec_dev_size(fd, device, &dev_size);
	if (r)
		goto out;
	r = encdec_refuse_luks(fd, device);
	if (r)
		goto out;
	if (!o->reduce_size) {
		log_err("%s: the LUKS2 header needs room at the start of the device: shrink the "
			"filesystem by at least %llu MiB first (e.g. resize2fs %s <size>), then run "
			"'vaultctl encrypt --reduce-device-size %lluM %s'; or keep the header in a "
			"file: 'vaultctl encrypt --header FILE %s'", device,
			SUGGESTED_REDUCE >> 20, device, SUGGESTED_REDUCE >> 20, device, device);
		r = -EINVAL;
		goto out;
	}
	if (o->reduce_size / 2 < (1ULL << 20)) {
		log_err("--reduce-device-size %" PRIu64 " is too small: the header takes half of "
			"it and needs at least 1 MiB (give 2M or more; cryptsetup suggests 32M)",
			o->reduce_size);
		r = -EINVAL;
		goto out;
	}
	if (dev_size < o->reduce_size + o->reduce_size / 2 + (1ULL << 20)) {
		log_err("%s is too small (%" PRIu64 " bytes) for --reduce-device-size %" PRIu64
			": it needs at least %" PRIu64 " bytes", device, dev_size, o->reduce_size,
			(uint64_t)(o->reduce_size + o->reduce_size / 2 + (1ULL << 20)));
		r = -ENOSPC;
		goto out;
	}
	if (dev_size % 4096) {
		log_err("%s: its size (%" PRIu64 " bytes) is not a multiple of 4096", device,
			dev_size);
		r = -EINVAL;
		goto out;
	}
	room = dev_size - o->reduce_size;
	fs = ext_fs_size(fd);
	if (fs > room) {
		log_err("%s: the filesystem (%" PRIu64 " bytes) does not end %" PRIu64 " bytes "
			"before the end of the device: shrink it first, e.g. 'resize2fs %s %"
			PRIu64 "K'", device, fs, o->reduce_size, device, room >> 10);
		r = -ENOSPC;
		goto out;
	}
	r = encdec_confirm(o, _("Encrypt %s in place? The last %" PRIu64 " MiB of the "
			   "device must be unused (the filesystem shrunk)."), device,
			   o->reduce_size >> 20);
	if (r)
		goto out;
	r = encdec_new_volume(o, device, &fp, &p, &vk);
	if (r)
		goto out;
	r = luks2_encrypt_init(fd, device, o->reduce_size, &fp, p.buf, p.len, vk, &vk_len, err,
			       sizeof(err));
	if (r) {
		r = encdec_start_failed(device, err, r);
		goto out;
	}
	log_verbose("%s: LUKS2 header written; encrypting the data.", device);
	l = luks2_new();
	r = l ? luks2_load(l, device, LUKS2_RDWR | LUKS2_IGNORE_REQUIREMENTS) : -ENOMEM;
	if (!r)
		r = luks2_datashift_run(l, vk, vk_len, encdec_progress, &last);
	if (r) {
		log_err("%s: %s; the job can be resumed with 'vaultctl encrypt --resume-only %s' "
			"or 'cryptsetup reencrypt --resume-only %s'", device,
			l ? luks2_error(l) : _("out of memory"), device, device);
		r = r == -ENOMEM ? r : -EINVAL;
		goto out;
	}
	log_verbose("%s is now a LUKS2 volume (keyslot 0).", device);
out:
	pass_free(&p);
	secure_free(vk);
	luks2_free(l);
	close(fd);
	return r;
}
