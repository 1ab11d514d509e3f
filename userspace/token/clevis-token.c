// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: the "clevis" token method (token/token.h, the format in
 * clevis.h): unlock runs `clevis decrypt` on the stored JWE, within the
 * volume's token-timeout; enroll makes a secret, has `clevis encrypt PIN
 * CONFIG` bind it and adds the keyslot and token as clevis luks bind does;
 * dump shows the policy (pin, tang URLs, sss threshold).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/rand.h>

#include "secure_mem.h"
#include "token/clevis.h"
#include "token/token.h"
#include "util.h"
#include "vaultctl.h"

/* A keyslot passphrase (LUKS2 allows 8 MiB; clevis's are ~55 bytes). */
#define CLEVIS_SECRET_MAX	8192
/* clevis encrypt's JWE: a tang advertisement each, a few KiB; sss nests them */
#define CLEVIS_JWE_MAX		(1024 * 1024)
#define CLEVIS_ERR_MAX		1024

/* The last non-empty line of clevis's stderr (the reason), printable. */
static void last_line(const char *err, char *buf, size_t len)
{
	const char *end = err + strlen(err), *start;
	size_t i = 0;

	while (end > err && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	for (start = end; start > err && start[-1] != '\n'; start--)
		;
	for (; start < end && i + 1 < len; start++)
		buf[i++] = *start >= 0x20 && *start < 0x7f ? *start : '?';
	buf[i] = '\0';
}

static int clevis_unlock(struct token_ctx *ctx, int id, json_object *tok,
			 struct passphrase *secret)
{
	const struct vault_opts *o = ctx->o;
	json_object *jwe = NULL, *hdr;
	char clevis[4096], policy[512], err[CLEVIS_ERR_MAX], line[300], *compact, *out;
	const char *why = "", *argv[] = { clevis, "decrypt", NULL };
	uint64_t deadline = o->token_timeout_us ? pass_now_us() + o->token_timeout_us : 0;
	unsigned long long secs = (o->token_timeout_us + 999999) / 1000000;
	bool tang;
	size_t len;
	int r;

	(void)id;
	if (!json_object_object_get_ex(tok, "jwe", &jwe)) {
		token_why(ctx, "it has no \"jwe\"");
		return -EINVAL;
	}
	compact = clevis_jwe_compact(jwe, &why);
	if (!compact) {
		token_why(ctx, "%s", why);
		return -EINVAL;
	}
	hdr = clevis_jwe_header(jwe);
	tang = clevis_policy_describe(hdr, policy, sizeof(policy));
	json_object_put(hdr);
	if (!clevis_which("clevis", clevis, sizeof(clevis))) {
		free(compact);
		token_why(ctx, "clevis is not installed (no clevis in $PATH), needed for its %s policy",
			  policy);
		return -ENOENT;
	}
	out = secure_alloc(CLEVIS_SECRET_MAX + 1);
	if (!out) {
		free(compact);
		return -ENOMEM;
	}
	if (tang)
		log_verbose("Token %d (clevis): asking clevis decrypt (%s), which asks the tang server.",
			    id, policy);
	else
		log_verbose("Token %d (clevis): asking clevis decrypt (%s).", id, policy);
	r = clevis_run(argv, compact, strlen(compact), out, CLEVIS_SECRET_MAX + 1, &len, err,
		       sizeof(err), true, deadline);
	free(compact);
	last_line(err, line, sizeof(line));
	if (r == -ETIMEDOUT) {
		if (tang)
			token_why(ctx, "clevis decrypt gave no answer within %llu s (token-timeout=): "
				  "the tang server could not be reached in time", secs);
		else
			token_why(ctx, "clevis decrypt gave no answer within %llu s (token-timeout=)", secs);
	} else if (r == -E2BIG) {
		token_why(ctx, "clevis decrypt printed more than %d bytes", CLEVIS_SECRET_MAX);
		r = -EIO;
	} else if (r == 127) {
		if (*line)
			token_why(ctx, "clevis could not be run: %s", line);
		else
			token_why(ctx, "clevis could not be run");
		r = -ENOENT;
	} else if (r > 0 && strstr(err, "Error communicating with server")) {
		token_why(ctx, "the tang server could not be reached (clevis: %s)", line);
		r = -EIO;
	} else if (r > 128 && !*line) {
		token_why(ctx, "clevis decrypt (%s) was killed by signal %d", policy, r - 128);
		r = -EIO;
	} else if (r > 0) {
		if (*line)
			token_why(ctx, "clevis decrypt failed (%s): %s", policy, line);
		else
			token_why(ctx, "clevis decrypt failed (%s)", policy);
		r = -EIO;
	} else if (!r) {
		/* clevis luks unlock takes the output through $(...): no trailing newlines */
		while (len && out[len - 1] == '\n')
			len--;
		if (!len) {
			token_why(ctx, "clevis decrypt printed no secret");
			r = -EIO;
		} else {
			r = pass_set(secret, out, len);
		}
	}
	secure_free(out);	/* wipes */
	return r;
}

static void clevis_describe(json_object *tok, FILE *out)
{
	json_object *jwe = NULL, *hdr;
	const char *why = "";
	char policy[512], *compact;

	json_object_object_get_ex(tok, "jwe", &jwe);
	compact = clevis_jwe_compact(jwe, &why);
	if (!compact) {
		fprintf(out, "\tunusable: %s\n", why);
		return;
	}
	free(compact);
	hdr = clevis_jwe_header(jwe);
	if (!hdr) {
		/* no-i18n: luksDump's token lines */
		fprintf(out, "\tunusable: its JWE's protected header is not base64url JSON\n");
		return;
	}
	clevis_policy_describe(hdr, policy, sizeof(policy));
	json_object_put(hdr);
	/* policy: printable characters only (clevis_policy_describe) */
	fprintf(out, "\tclevis-policy:    %s\n", policy);
}

static bool clevis_wanted(const struct vault_opts *o)
{
	return o->clevis_pin != NULL;
}

/*
 * A new keyslot passphrase into OUT: clevis luks bind uses pwmake with the
 * volume key's bits, at most 256; this is as much entropy in printable
 * characters (6 bits each from a 64-character alphabet), never a newline.
 */
static int make_secret(size_t vk_len, char *out, size_t *len)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t bits = vk_len * 8 > 256 ? 256 : vk_len * 8, i;
	unsigned char *raw;

	*len = (bits + 5) / 6;
	raw = secure_alloc(*len);
	if (!raw)
		return -ENOMEM;
	if (RAND_bytes(raw, (int)*len) != 1) {
		secure_free(raw);
		return -EIO;
	}
	for (i = 0; i < *len; i++)
		out[i] = alphabet[raw[i] & 63];
	out[*len] = '\0';
	secure_free(raw);
	return 0;
}

/*
 * clevis encrypt exited non-zero; LINE is the last line of its stderr ERR.
 * The tang pin stops for a key it has not been told to trust: say how.
 * Four whole sentences (translators cannot join fragments).
 */
static void encrypt_failed(struct token_ctx *ctx, const struct vault_opts *o, const char *err,
			   const char *line)
{
	bool untrusted = !o->clevis_trust &&
			 (strstr(err, "/dev/tty") || strstr(err, "trust") || strstr(err, "signing keys"));

	if (untrusted && *line)
		token_why(ctx, "clevis encrypt %s failed: %s (give the server's key thumbprint as \"thp\", or --clevis-trust)",
			  o->clevis_pin, line);
	else if (untrusted)
		token_why(ctx, "clevis encrypt %s failed (give the server's key thumbprint as \"thp\", or --clevis-trust)",
			  o->clevis_pin);
	else if (*line)
		token_why(ctx, "clevis encrypt %s failed: %s", o->clevis_pin, line);
	else
		token_why(ctx, "clevis encrypt %s failed", o->clevis_pin);
}

static int clevis_enroll(struct token_ctx *ctx, const void *vk, size_t vk_len)
{
	/* what clevis luks bind passes cryptsetup: pbkdf2 (sha256), 1000 iterations */
	const struct luks2_pbkdf kdf = {
		.type = LUKS2_KDF_PBKDF2, .hash = "sha256", .iterations = 1000,
	};
	const struct vault_opts *o = ctx->o;
	const char *why = "", *argv[6];
	char clevis[4096], err[CLEVIS_ERR_MAX], line[300], *sec = NULL, *jwe = NULL;
	json_object *tok = NULL, *flat;
	size_t len, jwe_len;
	int r, a = 0;

	if (!clevis_which("clevis", clevis, sizeof(clevis))) {
		token_why(ctx, "clevis is not installed (no clevis in $PATH)");
		return -ENOENT;
	}
	sec = secure_alloc(64);
	jwe = malloc(CLEVIS_JWE_MAX);
	if (!sec || !jwe) {
		r = -ENOMEM;
		goto out;
	}
	r = make_secret(vk_len, sec, &len);
	if (r)
		goto out;
	argv[a++] = clevis;
	argv[a++] = "encrypt";
	argv[a++] = o->clevis_pin;
	argv[a++] = o->clevis_config;
	if (o->clevis_trust)
		argv[a++] = "-y";
	argv[a] = NULL;
	/* in the terminal's group: the tang pin asks on /dev/tty to trust a key */
	r = clevis_run(argv, sec, len, jwe, CLEVIS_JWE_MAX, &jwe_len, err, sizeof(err), false, 0);
	last_line(err, line, sizeof(line));
	if (r) {
		if (r > 0)
			encrypt_failed(ctx, o, err, line);
		else
			token_why(ctx, "cannot run clevis encrypt: %s", strerror(-r));
		r = r > 0 ? -EIO : r;
		goto out;
	}
	flat = clevis_jwe_flatten(jwe, &why);
	if (!flat) {
		token_why(ctx, "%s", why);
		r = -EIO;
		goto out;
	}
	/* clevis luks bind's member order: type, keyslots, jwe */
	tok = json_object_new_object();
	if (!tok || json_object_object_add(tok, "type", json_object_new_string("clevis")) ||
	    json_object_object_add(tok, "keyslots", json_object_new_array())) {
		json_object_put(tok);
		json_object_put(flat);
		r = -ENOMEM;
		goto out;
	}
	if (json_object_object_add(tok, "jwe", flat)) {
		json_object_put(tok);
		r = -ENOMEM;
		goto out;
	}
	r = token_enroll_keyslot_kdf(ctx, vk, vk_len, sec, len, &kdf, tok);
	if (r >= 0)
		fprintf(stderr, _("New clevis token (%s) enrolled as key slot %d.\n"), o->clevis_pin, r);
out:
	secure_free(sec);	/* wipes */
	free(jwe);
	return r;
}

const struct token_method token_clevis = {
	.type = "clevis",
	.unlock = clevis_unlock,
	.describe = clevis_describe,
	.wanted = clevis_wanted,
	.enroll = clevis_enroll,
};
