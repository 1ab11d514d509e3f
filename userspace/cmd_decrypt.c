// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: "decrypt --header FILE DEVICE": a LUKS2 volume whose header is
 * on the device becomes its plain filesystem again, in place and offline,
 * as cryptsetup 2.6.1 reencrypt --decrypt --header FILE does
 * (luks2/decrypt.c): the header is exported to FILE (a new file), the data
 * moves down to offset 0.  FILE then holds the job: "vaultctl decrypt
 * --header FILE DEVICE" again (or --resume-only), or cryptsetup reencrypt
 * --resume-only --header FILE DEVICE, finishes an interrupted one.
 * When FILE is already the volume's header (encrypt --header, a detached
 * header), the data is decrypted where it is (luks2/inplace.c), FILE
 * holding the job the same way.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "encdec.h"
#include "luks.h"
#include "secure_mem.h"
#include "util.h"

/*
 * FILE is the header of a volume whose data starts at offset 0 of DEVICE
 * (encrypt --header, luksFormat --header): decrypted in place, backward,
 * with checksum resilience (luks2/inplace.c), FILE keeping the job.
 */
static int decrypt_detached(const struct vault_opts *o, int fd, const char *device)
{
	struct luks2 *l = luks2_new();
	size_t vk_len = 0;
	void *vk = NULL;
	int r, last = -1;

	if (!l)
		return -ENOMEM;
	r = luks2_load(l, o->header, LUKS2_RDWR | LUKS2_DETACHED);
	if (r) {
		log_err("%s: %s", o->header, luks2_error(l));
		goto out;
	}
	r = luks_unlock(o, l, device, -1, &vk, &vk_len, NULL);
	if (r < 0)
		goto out;
	r = encdec_confirm(o, _("Decrypt %s in place? Its header %s will hold no key "
			   "afterwards."), device, o->header);
	if (r)
		goto out;
	r = luks2_decrypt_detached_init(l, fd, vk, vk_len);
	if (!r)
		r = luks2_inplace_run(l, fd, vk, vk_len, o->hotzone_size ? o->hotzone_size :
				      LUKS2_REENC_MAX_HOTZONE, encdec_progress, &last);
	if (r)
		log_err("%s: %s; resume with 'vaultctl decrypt --header %s %s' or 'cryptsetup "
			"reencrypt --resume-only --header %s %s'", device, luks2_error(l),
			o->header, device, o->header, device);
	else
		log_verbose("%s: decryption finished; the data is plain, in place.", device);
out:
	secure_free(vk);
	luks2_free(l);
	return r == -EPERM || r == -ENOMEM ? r : r < 0 ? -EINVAL : 0;
}

/* FILE exists: a decryption in it to finish, or a detached volume to decrypt. */
static int decrypt_existing(const struct vault_opts *o, int fd, const char *device)
{
	struct passphrase p = { 0 };
	struct luks2_reencrypt st;
	struct luks2 *l = luks2_new();
	char prompt[4200];
	int r, last = -1;

	if (!l)
		return -ENOMEM;
	r = luks2_load(l, o->header, LUKS2_RDWR | LUKS2_IGNORE_REQUIREMENTS | LUKS2_DETACHED);
	if (r) {
		log_err("%s exists and is not a LUKS2 header: give the name of a new file for the "
			"header", o->header);
		r = -EEXIST;
		goto out;
	}
	r = luks2_reencrypt_status(l, &st);
	if (r == -ENOENT && !o->resume_only) {
		luks2_free(l);
		return decrypt_detached(o, fd, device);
	}
	if (r == -ENOENT || (!r && strcmp(st.mode, "decrypt"))) {
		log_err("%s exists and holds no decryption in progress: give the name of a new "
			"file for the header", o->header);
		r = -EEXIST;
		goto out;
	}
	if (r) {
		log_err("%s: %s", o->header, luks2_error(l));
		goto out;
	}
	snprintf(prompt, sizeof(prompt), _("Enter passphrase for %s: "), device);
	r = pass_read(o->key_file, o->keyfile_offset, o->keyfile_size, prompt, false, &p);
	if (r)
		goto out;
	/* checksum: the data in place (luks2/inplace.c); else the header was moved out */
	if (!strcmp(st.resilience, "checksum"))
		r = luks2_inplace_resume(l, fd, p.buf, p.len, o->hotzone_size ? o->hotzone_size :
					 LUKS2_REENC_MAX_HOTZONE, encdec_progress, &last);
	else
		r = luks2_decrypt_resume(l, fd, p.buf, p.len);
	if (r)
		log_err("%s: %s", device, luks2_error(l));
	else
		log_verbose("%s: decryption finished.", device);
out:
	pass_free(&p);
	luks2_free(l);
	return r == -EPERM || r == -ENOMEM || r == -EEXIST ? r : r ? -EINVAL : 0;
}

int cmd_decrypt(const struct vault_opts *o, int argc, char **argv)
{
	const char *device = argv[0];
	struct luks2 *dl = NULL, *l = NULL;
	size_t vk_len = 0;
	void *vk = NULL;
	char err[1024];
	int fd, r;

	(void)argc;
	if (!o->header) {
		log_err("decrypting %s needs --header FILE, a new file: the LUKS2 header is moved "
			"there and the data to the start of the device (as cryptsetup 2.6.1 "
			"reencrypt --decrypt --header)", device);
		return -EINVAL;
	}
	fd = encdec_open_device(device);
	if (fd < 0)
		return fd;
	if (!access(o->header, F_OK)) {
		r = decrypt_existing(o, fd, device);
		goto out;
	}
	if (o->hotzone_size) {
		log_err("--hotzone-size is for a volume whose header is FILE already: with the "
			"header moved out each hotzone is the data offset");
		r = -EINVAL;
		goto out;
	}
	if (o->resume_only) {
		log_err("%s does not exist: no decryption to resume", o->header);
		r = -ENOENT;
		goto out;
	}
	r = luks_load(device, false, &dl);
	if (r)
		goto out;
	r = luks_unlock(o, dl, device, -1, &vk, &vk_len, NULL);
	if (r < 0)
		goto out;
	r = encdec_confirm(o, _("Decrypt %s in place? Its header moves to %s."), device,
			   o->header);
	if (r)
		goto out;
	r = luks2_decrypt_init(dl, fd, o->header, vk, vk_len, &l, err, sizeof(err));
	if (r) {
		log_err("cannot start the decryption of %s: %s", device, err);
		r = r == -ENOMEM ? r : -EINVAL;
		goto out;
	}
	r = luks2_decrypt_run(l, fd, vk, vk_len);
	if (r) {
		log_err("%s: %s; resume with 'vaultctl decrypt --header %s %s' or 'cryptsetup "
			"reencrypt --resume-only --header %s %s'", device, luks2_error(l),
			o->header, device, o->header, device);
		r = r == -ENOMEM ? r : -EINVAL;
		goto out;
	}
	log_verbose("%s: decryption finished; the filesystem starts at offset 0.", device);
out:
	secure_free(vk);
	luks2_free(l);
	luks2_free(dl);
	close(fd);
	return r < 0 ? r : 0;
}
