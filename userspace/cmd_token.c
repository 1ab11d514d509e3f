// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: "token import", "token export" and "token remove", with
 * cryptsetup's options (--json-file, --token-id, --key-slot), messages
 * close to its and its exit status (1) for a refusal.  The luks2 library
 * checks a token (a "type" string, a "keyslots" array of existing
 * keyslots), never overwrites a token id in use, and writes the header as
 * every other change does (both copies, seqid + 1, cryptsetup's lock).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "luks.h"
#include "util.h"

/* cryptsetup's limit for a token file: the largest JSON area. */
#define TOKEN_JSON_MAX	(4U << 20)

/* Reads all of FILE (NULL or "-": stdin) as a string; NULL after saying why. */
static char *read_json(const char *file)
{
	bool in = !file || !strcmp(file, "-");
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	int fd = in ? STDIN_FILENO : open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	ssize_t n;

	if (fd < 0 || !buf) {
		log_err("cannot read the token from %s: %s", file, strerror(buf ? errno : ENOMEM));
		free(buf);
		return NULL;
	}
	for (;;) {
		if (len + 1 >= cap) {
			char *nb = cap > TOKEN_JSON_MAX ? NULL : realloc(buf, cap * 2);

			if (!nb) {
				log_err("the token in %s is larger than %u bytes",
					in ? _("standard input") : file, TOKEN_JSON_MAX);
				goto fail;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_err("cannot read the token from %s: %s", in ? _("standard input") : file,
				strerror(errno));
			goto fail;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (strlen(buf) != len) {
		log_err("the token in %s holds a NUL byte", in ? _("standard input") : file);
		goto fail;
	}
	if (!in)
		close(fd);
	return buf;
fail:
	if (!in)
		close(fd);
	free(buf);
	return NULL;
}

/* The library's error as cryptsetup's exit status: 1, but a changed header is busy. */
static int token_err(int r)
{
	return r == -ESTALE || r == -EBUSY || r == -ENOMEM || r == -EACCES ? r : -EINVAL;
}

int cmd_token_import(const struct vault_opts *o, int argc, char **argv)
{
	const char *device = argv[0];
	struct luks2 *l;
	char *json;
	int r;

	(void)argc;
	json = read_json(o->json_file);
	if (!json)
		return -EINVAL;
	r = luks_load(device, true, &l);
	if (r) {
		free(json);
		return r;
	}
	r = luks2_token_import(l, o->token_id, json, o->key_slot);
	free(json);
	if (r < 0) {
		log_err("cannot import the token into %s: %s", device, luks2_error(l));
		r = token_err(r);
	} else {
		log_verbose("Token %d created.", r);
		r = 0;
	}
	luks2_free(l);
	return r;
}

/* DEVICE's header, when its token --token-id is in use (export, remove). */
static int load_with_token(const struct vault_opts *o, const char *device, bool rw,
			   struct luks2 **l)
{
	int r;

	r = luks_load(device, rw, l);
	if (r)
		return r;
	if (!luks2_token_get(*l, o->token_id)) {
		log_err("token %d of %s is not in use", o->token_id, device);
		luks2_free(*l);
		return -EINVAL;
	}
	return 0;
}

int cmd_token_export(const struct vault_opts *o, int argc, char **argv)
{
	const char *device = argv[0];
	struct luks2 *l;
	FILE *f = stdout;
	int fd, r;

	(void)argc;
	r = load_with_token(o, device, false, &l);
	if (r)
		return r;
	if (o->json_file && strcmp(o->json_file, "-")) {
		/* a new file: a token may hold what a keyslot needs (a sealed key) */
		fd = open(o->json_file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		f = fd < 0 ? NULL : fdopen(fd, "w");
		if (!f) {
			if (errno == EEXIST)
				log_err("cannot create %s: %s (refusing to overwrite it)", o->json_file,
					strerror(errno));
			else
				log_err("cannot create %s: %s", o->json_file, strerror(errno));
			if (fd >= 0)
				close(fd);
			luks2_free(l);
			return -EINVAL;
		}
	}
	r = luks2_token_json(l, o->token_id, f);
	if (f != stdout && fclose(f) && !r)
		r = -EIO;
	if (r)
		log_err("cannot export token %d of %s: %s", o->token_id, device,
			r == -EIO && !*luks2_error(l) ? strerror(EIO) : luks2_error(l));
	luks2_free(l);
	return r ? token_err(r) : 0;
}

int cmd_token_remove(const struct vault_opts *o, int argc, char **argv)
{
	const char *device = argv[0];
	struct luks2 *l;
	int r;

	(void)argc;
	r = load_with_token(o, device, true, &l);
	if (r)
		return r;
	r = luks2_token_remove(l, o->token_id);
	if (r)
		log_err("cannot remove token %d of %s: %s", o->token_id, device, luks2_error(l));
	else
		log_verbose("Token %d removed.", o->token_id);
	luks2_free(l);
	return r ? token_err(r) : 0;
}
