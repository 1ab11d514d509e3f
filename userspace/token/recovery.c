// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: recovery keys in systemd's format (systemd 252
 * src/shared/recovery-key.c, src/cryptenroll/cryptenroll-recovery.c):
 * 32 random bytes written as 64 "modhex" characters (YubiKey's alphabet
 * cbdefghijklnrtuv, high nibble first) in eight dash-separated groups of
 * eight.  That text is the passphrase of a keyslot made with systemd's
 * minimal KDF (the key has 256 bits of entropy), marked by a token
 * {"type":"systemd-recovery","keyslots":["N"]}.
 *
 * Unlocking needs nothing from the token: the key is typed at the
 * passphrase prompt, exactly as printed (systemd-cryptsetup 252 does not
 * normalise case or dashes for LUKS volumes either: only homed does).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/rand.h>

#include "qrcode.h"
#include "secure_mem.h"
#include "token.h"
#include "util.h"

#define RECOVERY_RAW	32			/* bytes of entropy */
#define RECOVERY_LEN	(RECOVERY_RAW * 2 + RECOVERY_RAW / 4 - 1)	/* 71 characters */

static const char modhex[16] = "cbdefghijklnrtuv";

static int recovery_unlock(struct token_ctx *ctx, int id, struct json_object *token,
			   struct passphrase *secret)
{
	(void)id;
	(void)secret;
	/* systemd writes exactly one keyslot per recovery token */
	if (json_object_array_length(json_object_object_get(token, "keyslots")) != 1) {
		token_why(ctx, "a systemd-recovery token names exactly one keyslot");
		return -EINVAL;
	}
	token_why(ctx, "a recovery key is typed at the passphrase prompt");
	return -ENOENT;
}

/* A new key into OUT (RECOVERY_LEN + 1 bytes, secure memory). */
static int make_key(char *out)
{
	unsigned char *raw = secure_alloc(RECOVERY_RAW);
	size_t i, j = 0;

	if (!raw)
		return -ENOMEM;
	if (RAND_bytes(raw, RECOVERY_RAW) != 1) {
		secure_free(raw);
		return -EIO;
	}
	for (i = 0; i < RECOVERY_RAW; i++) {
		out[j++] = modhex[raw[i] >> 4];
		out[j++] = modhex[raw[i] & 0xf];
		if (i % 4 == 3 && i + 1 < RECOVERY_RAW)
			out[j++] = '-';
	}
	out[j] = '\0';
	secure_free(raw);
	return 0;
}

/* fsync() of the directory holding PATH, so the new name is on disk too. */
static int sync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd, r = 0;

	if (!copy)
		return -ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd))
		r = -errno;
	if (fd >= 0)
		close(fd);
	free(copy);
	return r;
}

/*
 * The escrow file: a new file (O_EXCL: never over an existing one, nor
 * through a symlink), mode 0600, holding exactly the key (no newline, so
 * that it serves as a key file for cryptsetup and systemd-cryptsetup),
 * synced before the keyslot exists.
 */
static int write_key_file(struct token_ctx *ctx, const char *path, const char *key)
{
	int fd, r;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		if (errno == EEXIST)
			token_why(ctx, "cannot create %s: %s (refusing to overwrite it)", path,
				  strerror(errno));
		else
			token_why(ctx, "cannot create %s: %s", path, strerror(errno));
		return r;
	}
	r = fchmod(fd, 0600) ? -errno : 0;
	if (!r)
		r = write_all(fd, key, strlen(key));
	if (!r && fsync(fd))
		r = -errno;
	if (close(fd) && !r)
		r = -errno;
	if (!r)
		r = sync_dir(path);
	if (r) {
		token_why(ctx, "cannot write %s: %s", path, strerror(-r));
		unlink(path);
	}
	return r;
}

/* The key once on standard output, systemd-cryptenroll's words on stderr. */
static void show_key(const struct vault_opts *o, const char *key, int slot)
{
	int r;

	fflush(stdout);
	fprintf(stderr, _("A secret recovery key has been generated for this volume:\n\n    "));
	fflush(stderr);
	/* write(2), not stdio: no copy of the key left in a stdio buffer */
	if (write_all(STDOUT_FILENO, key, strlen(key)) || write_all(STDOUT_FILENO, "\n", 1))
		log_err("cannot print the recovery key: %s", strerror(errno));
	fprintf(stderr,
		_("\nPlease save this secret recovery key at a secure location. It may be used to\n"
		"regain access to the volume if the other configured access credentials have\n"
		"been lost or forgotten. The recovery key may be entered in place of a password\n"
		"whenever authentication is requested.\n"));
	if (o->recovery_key_file)
		fprintf(stderr, _("It was also written to %s (mode 0600): store that file safely, off this machine.\n"),
			o->recovery_key_file);
	if (o->qrcode > 0 || (o->qrcode < 0 && isatty(STDOUT_FILENO) && isatty(STDERR_FILENO))) {
		fprintf(stderr, _("\nYou may optionally scan the recovery key off screen:\n\n"));
		r = qr_print(stderr, key);
		if (r)
			log_warn("cannot show the recovery key as a QR code: %s", strerror(-r));
	}
	fprintf(stderr, _("New recovery key enrolled as key slot %d.\n"), slot);
}

static bool recovery_wanted(const struct vault_opts *o)
{
	return o->recovery_key;
}

static int recovery_enroll(struct token_ctx *ctx, const void *vk, size_t vk_len)
{
	const struct vault_opts *o = ctx->o;
	json_object *token;
	char *key;
	int r, slot;

	key = secure_alloc(RECOVERY_LEN + 1);
	if (!key) {
		token_why(ctx, "cannot allocate locked memory");
		return -ENOMEM;
	}
	r = make_key(key);
	if (r) {
		token_why(ctx, "no random bytes from OpenSSL");
		goto out;
	}
	if (o->recovery_key_file) {
		r = write_key_file(ctx, o->recovery_key_file, key);
		if (r)
			goto out;
	}
	/* "keyslots" right after "type", as systemd orders them */
	token = json_object_new_object();
	if (!token || json_object_object_add(token, "type",
					     json_object_new_string("systemd-recovery")) ||
	    json_object_object_add(token, "keyslots", json_object_new_array())) {
		json_object_put(token);
		token_why(ctx, "out of memory");
		r = -ENOMEM;
	} else {
		r = token_enroll_keyslot(ctx, vk, vk_len, key, RECOVERY_LEN, token);
	}
	if (r < 0) {
		/* no escrowed key for a keyslot that does not exist */
		if (o->recovery_key_file)
			unlink(o->recovery_key_file);
		goto out;
	}
	slot = r;
	show_key(o, key, slot);
	r = slot;
out:
	secure_free(key);
	return r;
}

const struct token_method token_recovery = {
	.type = "systemd-recovery",
	.unlock = recovery_unlock,
	.wanted = recovery_wanted,
	.enroll = recovery_enroll,
};
