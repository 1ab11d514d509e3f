// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: what every token method shares: finding the method of a token
 * type, the unlock loop open runs before its passphrase prompt, and adding
 * a keyslot together with its token at enrolment.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "askpass.h"
#include "secure_mem.h"
#include "token.h"
#include "util.h"

const struct token_method *token_method_find(const char *type)
{
	size_t i;

	for (i = 0; type && token_methods[i]; i++)
		if (!strcmp(token_methods[i]->type, type))
			return token_methods[i];
	return NULL;
}

void token_why(struct token_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->why, sizeof(ctx->why), gettext(fmt), ap);
	va_end(ap);
}

bool token_may_ask(const struct token_ctx *ctx)
{
	/* vaulttab's headless=: never a PIN prompt either (systemd's meaning) */
	return !ctx->o->batch_mode && !ctx->o->headless && isatty(STDIN_FILENO);
}

bool token_may_ask_agent(const struct token_ctx *ctx)
{
	return ctx->o->token_pin_agent && !ctx->o->batch_mode && !ctx->o->headless;
}

/* See token.h. */
int token_read_pin(struct token_ctx *ctx, const char *env, const char *prompt, bool verify,
		   uint64_t deadline_us, bool *from_env, struct passphrase *p)
{
	char *e = getenv(env);
	int r;

	if (from_env)
		*from_env = false;
	if (e && *e) {
		r = pass_set(p, e, strlen(e));
		secure_wipe(e, strlen(e));
		unsetenv(env);
		if (from_env)
			*from_env = true;
		return r;
	}
	if (token_may_ask(ctx))
		return pass_read_pin_until(prompt, verify, deadline_us, p);
	if (!verify && token_may_ask_agent(ctx)) {
		char id[300];

		snprintf(id, sizeof(id), "vault:%s", ctx->o->volume ? ctx->o->volume : ctx->device);
		return askpass_agent(id, prompt, deadline_us, p);
	}
	token_why(ctx, "it needs a PIN: run on a terminal or set $%s", env);
	return -ENOENT;
}

int pass_set(struct passphrase *p, const void *data, size_t len)
{
	pass_free(p);
	p->buf = secure_alloc(len + 1);
	if (!p->buf)
		return -ENOMEM;
	memcpy(p->buf, data, len);
	p->buf[len] = '\0';
	p->len = len;
	return 0;
}

void token_describe(struct json_object *token, FILE *out)
{
	json_object *t = NULL;
	const struct token_method *m;

	if (!json_object_object_get_ex(token, "type", &t))
		return;
	m = token_method_find(json_object_get_string(t));
	if (m && m->describe)
		m->describe(token, out);
}

/* The token type for messages: header bytes are untrusted. */
static void printable(const char *s, char *out, size_t len)
{
	size_t i;

	for (i = 0; s && s[i] && i + 1 < len; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	out[i] = '\0';
}

/* Prints why token ID did not unlock: R is what its method returned. */
static void report(const struct token_ctx *ctx, int id, const char *type, int r)
{
	const char *why = ctx->why[0] ? ctx->why : strerror(-r);

	if (r == -ENOENT)
		log_verbose("Token %d (%s) is not usable here: %s.", id, type, why);
	else if (r == -EINVAL)
		log_err("token %d (%s) of %s is malformed: %s; ignoring it", id, type, ctx->device,
			why);
	else if (r == -EACCES)
		log_err("token %d (%s) of %s refused to unlock: %s", id, type, ctx->device, why);
	else
		log_err("token %d (%s) of %s failed: %s", id, type, ctx->device, why);
}

/* Tries SECRET on each keyslot in SLOTS; the keyslot that opened, or < 0. */
static int open_slots(struct luks2 *l, uint32_t slots, const struct passphrase *secret,
		      void *buf, size_t *len)
{
	int slot, r = -EPERM;

	for (slot = 0; slot < LUKS2_KEYSLOTS_MAX; slot++) {
		if (!(slots & (1U << slot)))
			continue;
		r = luks2_unlock(l, slot, secret->buf, secret->len, buf, LUKS2_VK_MAX, len);
		if (r >= 0)
			return r;
	}
	return r;
}

int token_unlock_volume(struct token_ctx *ctx, void **vk, size_t *vk_len)
{
	const struct vault_opts *o = ctx->o;
	struct luks2 *l = ctx->l;
	struct passphrase secret = { 0 };
	const struct token_method *m;
	uint32_t usable, slots;
	char type[64];
	size_t len = 0;
	void *buf;
	int id, r;

	if (vk)
		*vk = NULL;
	if (o->disable_tokens)
		return -ENOENT;
	if (o->token_id >= 0 && !luks2_token_get(l, o->token_id)) {
		log_err("token %d does not exist on %s", o->token_id, ctx->device);
		return -ENOENT;
	}
	buf = secure_alloc(LUKS2_VK_MAX);
	if (!buf) {
		log_err("cannot allocate locked memory for the volume key");
		return -ENOMEM;
	}
	usable = luks2_keyslots_usable(l);
	luks2_token_foreach(l, id) {
		if (o->token_id >= 0 && id != o->token_id)
			continue;
		printable(luks2_token_type(l, id), type, sizeof(type));
		if (o->token_type && strcmp(luks2_token_type(l, id), o->token_type))
			continue;
		m = token_method_find(luks2_token_type(l, id));
		if (!m || !m->unlock) {
			log_verbose("Token %d (%s): vaultctl has no unlock method for this type.", id,
				    type);
			continue;
		}
		slots = luks2_token_keyslots(l, id) & usable;
		if (!slots) {
			log_verbose("Token %d (%s) names no keyslot that opens %s.", id, type,
				    ctx->device);
			continue;
		}
		ctx->why[0] = '\0';
		r = m->unlock(ctx, id, luks2_token_get(l, id), &secret);
		if (r) {
			pass_free(&secret);
			if (r == -EINTR)
				break;
			report(ctx, id, type, r);
			continue;
		}
		r = open_slots(l, slots, &secret, buf, &len);
		pass_free(&secret);
		if (r >= 0) {
			log_verbose("Key slot %d unlocked with token %d (%s).", r, id, type);
			if (vk) {
				*vk = buf;
				*vk_len = len;
			} else {
				secure_free(buf);
			}
			return r;
		}
		log_err("token %d (%s) of %s gave a secret that opens none of its keyslots", id,
			type, ctx->device);
	}
	secure_free(buf);
	return pass_interrupted() ? -EINTR : -ENOENT;
}

int token_enroll_keyslot(struct token_ctx *ctx, const void *vk, size_t vk_len,
			 const char *secret, size_t secret_len, struct json_object *token)
{
	/* what systemd-cryptenroll uses for secrets with full entropy */
	const struct luks2_pbkdf minimal = {
		.type = LUKS2_KDF_PBKDF2, .hash = "sha512", .iterations = 1000,
	};

	return token_enroll_keyslot_kdf(ctx, vk, vk_len, secret, secret_len, &minimal, token);
}

int token_enroll_keyslot_kdf(struct token_ctx *ctx, const void *vk, size_t vk_len,
			     const char *secret, size_t secret_len,
			     const struct luks2_pbkdf *kdf, struct json_object *token)
{
	struct luks2 *l = ctx->l;
	json_object *slots;
	char id[12];
	int slot, r;

	slot = luks2_add_keyslot(l, -1, vk, vk_len, secret, secret_len, kdf);
	if (slot < 0) {
		token_why(ctx, "cannot add a keyslot: %s", luks2_error(l));
		json_object_put(token);
		return slot;
	}
	snprintf(id, sizeof(id), "%d", slot);
	/* replaced in place: a "keyslots" placed after "type" keeps systemd's order */
	slots = json_object_new_array();
	if (slots && json_object_array_add(slots, json_object_new_string(id))) {
		json_object_put(slots);
		slots = NULL;
	}
	if (!slots || json_object_object_add(token, "keyslots", slots)) {
		r = -ENOMEM;
		token_why(ctx, "out of memory");
	} else {
		r = luks2_token_add(l, -1, json_object_to_json_string_ext(token,
									   JSON_C_TO_STRING_PLAIN));
		if (r < 0)
			token_why(ctx, "cannot store the token: %s", luks2_error(l));
	}
	json_object_put(token);
	if (r < 0) {
		/* no keyslot without its token, as systemd-cryptenroll rolls back */
		if (luks2_kill_slot(l, slot))
			log_err("cannot remove keyslot %d again: %s", slot, luks2_error(l));
		return r;
	}
	log_verbose("Token %d stored for keyslot %d.", r, slot);
	return slot;
}
