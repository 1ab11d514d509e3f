// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: "dump --dump-json-metadata" and "dump --dump-volume-key", as
 * cryptsetup luksDump prints them.  The volume key leaves vaultctl only
 * after a passphrase opened a keyslot and, unless --batch-mode, "YES" was
 * typed on the terminal; it is printed with write(2) from locked memory
 * (never through stdio's buffer) or written to a new 0600 file, and every
 * buffer that held it is wiped on every path.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "luks.h"
#include "secure_mem.h"
#include "util.h"

int luks_dump_json(const struct vault_opts *o, const char *device)
{
	struct luks2 *l;
	int r;

	(void)o;
	r = luks_load_inspect(device, &l);
	if (r)
		return r;
	r = luks2_dump_json(l, stdout);
	if (r)
		log_err("cannot dump the metadata of %s: %s", device, luks2_error(l));
	luks2_free(l);
	return r ? -EINVAL : 0;
}

/* A new file (never over an existing one, nor through a symlink), mode 0600. */
static int write_key_file(const char *path, const void *vk, size_t len)
{
	int fd, r;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		/* cryptsetup's exit status (1) */
		if (errno == EEXIST)
			log_err("cannot create the volume key file %s: %s (refusing to overwrite it)",
				path, strerror(errno));
		else
			log_err("cannot create the volume key file %s: %s", path, strerror(errno));
		return -EINVAL;
	}
	r = fchmod(fd, 0600) ? -errno : 0;	/* whatever the umask */
	if (!r)
		r = write_all(fd, vk, len);
	if (!r && fsync(fd))
		r = -errno;
	if (close(fd) && !r)
		r = -errno;
	if (r) {
		log_err("cannot write the volume key file %s: %s", path, strerror(-r));
		unlink(path);
		return -EINVAL;
	}
	return 0;
}

/* cryptsetup's "MK dump:" lines: "xx " per byte, 16 to a line. */
static int print_key(const unsigned char *vk, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t cap = 16 + len * 3 + (len / 16) * 3 + 2, n = 0, i;
	char *text = secure_alloc(cap);
	int r;

	if (!text) {
		log_err("cannot allocate locked memory: %s", strerror(errno));
		return -ENOMEM;
	}
	n += (size_t)snprintf(text, cap, "MK dump:\t");	/* no-i18n: luksDump's layout */
	for (i = 0; i < len; i++) {
		text[n++] = hex[vk[i] >> 4];
		text[n++] = hex[vk[i] & 15];
		text[n++] = ' ';
		if ((i + 1) % 16 == 0 && i + 1 < len) {
			memcpy(text + n, "\n\t\t", 3);
			n += 3;
		}
	}
	text[n++] = '\n';
	fflush(stdout);		/* the lines before it, in order */
	r = write_all(STDOUT_FILENO, text, n);
	secure_free(text);	/* wipes */
	if (r)
		log_err("cannot print the volume key: %s", strerror(-r));
	return r;
}

int luks_dump_volume_key(const struct vault_opts *o, const char *device)
{
	struct luks2_segment seg;
	struct luks2 *l;
	size_t vk_len = 0;
	const char *dash;
	void *vk = NULL;
	int r;

	r = luks_load(device, false, &l);
	if (r)
		return r;
	r = luks2_get_segment(l, &seg);
	if (r) {
		log_err("cannot dump the volume key of %s: %s", device, luks2_error(l));
		r = -EINVAL;
		goto out;
	}
	/* cryptsetup's warning, before the passphrase is asked */
	r = luks_confirm(o, _("The header dump with volume key is sensitive information\n"
			   "that allows access to encrypted partition without a passphrase.\n"
			   "This dump should be stored encrypted in a safe place."));
	if (r)
		goto out;
	r = luks_unlock(o, l, device, o->key_slot, &vk, &vk_len, NULL);
	if (r < 0)
		goto out;
	r = 0;
	if (o->volume_key_file) {
		r = write_key_file(o->volume_key_file, vk, vk_len);
		if (r)
			goto out;
	}
	dash = strchr(seg.cipher, '-');
	/* no-i18n-begin: cryptsetup luksDump's layout, read by scripts */
	printf("LUKS header information for %s\n", device);
	printf("Cipher name:   \t%.*s\n", dash ? (int)(dash - seg.cipher) : (int)strlen(seg.cipher),
	       seg.cipher);
	printf("Cipher mode:   \t%s\n", dash ? dash + 1 : "cbc-plain");
	printf("Payload offset:\t%llu\n", (unsigned long long)seg.offset);
	printf("UUID:          \t");
	luks2_fputs_escaped(stdout, luks2_uuid(l));	/* untrusted bytes */
	printf("\nMK bits:       \t%zu\n", vk_len * 8);
	/* no-i18n-end */
	if (o->volume_key_file)
		printf(_("Key stored to file %s.\n"), o->volume_key_file);
	else
		r = print_key(vk, vk_len);
out:
	secure_free(vk);	/* wipes */
	luks2_free(l);
	return r;
}
