// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: "encrypt --header FILE DEVICE": a plain device becomes LUKS2
 * in place with its header in FILE, as cryptsetup 2.6.1 reencrypt
 * --encrypt --header FILE does (luks2/encrypt.c, luks2/inplace.c):
 * the data stays at offset 0 (nothing to shrink), each hotzone is
 * encrypted in place under "checksum" resilience.  FILE holds the job: the
 * same command again (or with --resume-only), or cryptsetup reencrypt
 * --resume-only --header FILE DEVICE, finishes an interrupted one, and
 * this command finishes cryptsetup's.  Offline only, data through OpenSSL.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "encdec.h"
#include "luks.h"
#include "secure_mem.h"
#include "util.h"

static int finish(const struct vault_opts *o, struct luks2 *l, int fd, const char *device,
		  const void *vk, size_t vk_len)
{
	struct passphrase p = { 0 };
	char prompt[4200];
	int r, last = -1;
	uint64_t hz = o->hotzone_size ? o->hotzone_size : LUKS2_REENC_MAX_HOTZONE;

	if (vk) {
		r = luks2_inplace_run(l, fd, vk, vk_len, hz, encdec_progress, &last);
	} else {
		snprintf(prompt, sizeof(prompt), _("Enter passphrase for %s: "), device);
		r = pass_read(o->key_file, o->keyfile_offset, o->keyfile_size, prompt, false, &p);
		if (r)
			return r;
		r = luks2_inplace_resume(l, fd, p.buf, p.len, hz, encdec_progress, &last);
		pass_free(&p);
	}
	if (r) {
		log_err("%s: %s; resume with 'vaultctl encrypt --header %s %s' or 'cryptsetup "
			"reencrypt --resume-only --header %s %s'", device, luks2_error(l),
			o->header, device, o->header, device);
		return r == -EPERM || r == -ENOMEM ? r : -EINVAL;
	}
	log_verbose("%s is now a LUKS2 volume (keyslot 0) with its header in %s.", device,
		    o->header);
	return 0;
}

/* FILE exists: the job it holds is finished, or FILE is refused. */
static int resume(const struct vault_opts *o, int fd, const char *device)
{
	struct luks2_reencrypt st;
	struct luks2 *l = luks2_new();
	int r;

	if (!l)
		return -ENOMEM;
	r = luks2_load(l, o->header, LUKS2_RDWR | LUKS2_IGNORE_REQUIREMENTS | LUKS2_DETACHED);
	if (r)
		r = -ENOENT;	/* not a LUKS2 header */
	else
		r = luks2_reencrypt_status(l, &st);
	if (r == -ENOENT || (!r && strcmp(st.mode, "encrypt"))) {
		log_err("%s exists and holds no encryption in progress: give the name of a new "
			"file for the header", o->header);
		r = -EEXIST;
	} else if (r) {
		log_err("%s: %s", o->header, luks2_error(l));
	} else {
		r = finish(o, l, fd, device, NULL, 0);
	}
	luks2_free(l);
	return r;
}

int encrypt_header(const struct vault_opts *o, const char *device)
{
	struct luks2_format_params fp = { 0 };
	struct passphrase p = { 0 };
	struct luks2 *l = NULL;
	struct stat st;
	char err[1024];
	size_t vk_len = 0;
	void *vk = NULL;
	int fd, r;

	if (o->reduce_size) {
		log_err("--reduce-device-size with --header: not supported.  With the header in a "
			"file the data stays where it is and needs no room: leave out "
			"--reduce-device-size (or leave out --header to put the header on %s)",
			device);
		return -EINVAL;
	}
	fd = encdec_open_device(device);
	if (fd < 0)
		return fd;
	if (!lstat(o->header, &st)) {
		r = resume(o, fd, device);
		goto out;
	}
	if (o->resume_only) {
		log_err("%s does not exist: no encryption to resume", o->header);
		r = -ENOENT;
		goto out;
	}
	r = encdec_refuse_luks(fd, device);
	if (r)
		goto out;
	r = encdec_confirm(o, _("Encrypt %s in place, its header in %s? Without that file "
			   "the data cannot be read: keep it safe."), device, o->header);
	if (r)
		goto out;
	r = encdec_new_volume(o, device, &fp, &p, &vk);
	if (r)
		goto out;
	r = luks2_encrypt_header_init(fd, o->header, &fp, p.buf, p.len, vk, &vk_len, err,
				      sizeof(err));
	if (r) {
		r = encdec_start_failed(device, err, r);
		goto out;
	}
	log_verbose("%s: LUKS2 header written to %s; encrypting the data.", device, o->header);
	l = luks2_new();
	r = l ? luks2_load(l, o->header, LUKS2_RDWR | LUKS2_IGNORE_REQUIREMENTS | LUKS2_DETACHED)
	      : -ENOMEM;
	if (r)
		log_err("%s: %s", o->header, l ? luks2_error(l) : _("out of memory"));
	else
		r = finish(o, l, fd, device, vk, vk_len);
out:
	pass_free(&p);
	secure_free(vk);
	luks2_free(l);
	close(fd);
	return r;
}
