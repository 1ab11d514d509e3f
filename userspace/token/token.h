/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vaultctl: token unlock methods, one file per method behind this one
 * interface ("can you unlock this keyslot? here is the secret").
 *
 * A LUKS2 token (luks2/token.c) is a JSON object in the header with a
 * "type" (e.g. "systemd-tpm2", "systemd-recovery") and the "keyslots" it
 * opens.  For each type vaultctl understands there is one struct
 * token_method, listed in token_methods[] (registry.c):
 *
 *   type      the token "type" string it handles.
 *   unlock    given token ID (its JSON object TOKEN), produce the keyslot
 *             passphrase into SECRET (pass_set(); never printed).  It may
 *             talk to a device and ask for a PIN (ctx->o says whether
 *             prompts are allowed: token_may_ask()).  Returns
 *               0        SECRET holds the passphrase of TOKEN's keyslots;
 *               -ENOENT  not applicable here (no device, nothing automatic:
 *                        a recovery key is typed at the passphrase prompt);
 *               -EACCES  refused (wrong PIN, PCR policy mismatch);
 *               -EINVAL  the token is malformed for this type;
 *               other    a failure (-ENOMEM, -EIO, ...).
 *             On failure it says why with token_why(ctx, ...), which the
 *             caller prints ("token 2 (systemd-tpm2): ..."), then falls
 *             back to the next token and finally to the passphrase prompt.
 *             It wipes every intermediate secret (secure_wipe) itself.
 *   describe  extra dump lines for TOKEN, cryptsetup luksDump style
 *             ("\tfield:  value\n"); header strings are untrusted: print
 *             them with luks2_fputs_escaped().  May be NULL.
 *   wanted    true when the enroll command's options ask for this method
 *             (e.g. --recovery-key).  May be NULL (never enrolled).
 *   enroll    adds a keyslot for the volume key VK and its token, normally
 *             through token_enroll_keyslot(); returns the new keyslot.
 *
 * Adding a method: a file token/NAME.c defining `const struct token_method
 * token_NAME`, an extern line below, one line in registry.c and the file in
 * userspace/Makefile.
 */
#ifndef VAULTCTL_TOKEN_H
#define VAULTCTL_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "luks2.h"
#include "passphrase.h"
#include "vaultctl.h"

struct json_object;

struct token_ctx {
	const struct vault_opts *o;
	struct luks2 *l;
	const char *device;
	char why[512];			/* set by token_why() on failure */
};

struct token_method {
	const char *type;
	int (*unlock)(struct token_ctx *ctx, int id, struct json_object *token,
		      struct passphrase *secret);
	void (*describe)(struct json_object *token, FILE *out);
	bool (*wanted)(const struct vault_opts *o);
	int (*enroll)(struct token_ctx *ctx, const void *vk, size_t vk_len);
};

extern const struct token_method token_recovery;	/* recovery.c */
extern const struct token_method token_tpm2;		/* tpm2-token.c */
extern const struct token_method token_clevis;		/* clevis-token.c */
extern const struct token_method token_pkcs11;		/* pkcs11-token.c */

/* NULL-terminated, in the order enroll runs them. */
extern const struct token_method *const token_methods[];

/* The method for token type TYPE, or NULL. */
const struct token_method *token_method_find(const char *type);

/* Records why an unlock or enrolment failed (printed by the caller). */
void token_why(struct token_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* True when an unlock method may prompt (a PIN): not --batch-mode, a terminal. */
bool token_may_ask(const struct token_ctx *ctx);

/*
 * True when, with no terminal (!token_may_ask()), a PIN may be asked through
 * systemd-ask-password (askpass.h): --token-pin-agent, not headless.
 */
bool token_may_ask_agent(const struct token_ctx *ctx);

/*
 * A PIN from environment variable ENV (then wiped and unset; *FROM_ENV set),
 * else asked on the terminal (or plymouth) with PROMPT, or without a
 * terminal through systemd-ask-password (--token-pin-agent), giving up at
 * DEADLINE_US (0: never) with -ETIMEDOUT.  -ENOENT (reason recorded) when
 * it may not ask.
 */
int token_read_pin(struct token_ctx *ctx, const char *env, const char *prompt, bool verify,
		   uint64_t deadline_us, bool *from_env, struct passphrase *p);

/* Copies LEN bytes into a fresh secure buffer in P (NUL-terminated). */
int pass_set(struct passphrase *p, const void *data, size_t len);

/*
 * Tries the volume's tokens in ascending id order as the options allow
 * (--token-id, --token-type; none with --disable-tokens), each on the
 * usable keyslots it lists.  Returns the keyslot that opened, with the
 * volume key in *VK (secure_alloc, *VK_LEN bytes); -ENOENT when no token
 * opened the volume (each failure was printed: refusals and malformed
 * tokens as errors, "not applicable" with -v).
 */
int token_unlock_volume(struct token_ctx *ctx, void **vk, size_t *vk_len);

/*
 * For enroll methods: adds a keyslot for VK protected by SECRET with the
 * minimal KDF systemd uses for high-entropy secrets (pbkdf2-sha512, 1000
 * iterations), then stores TOKEN (its "keyslots" set to that keyslot) with
 * the lowest free token id.  If the token cannot be stored the keyslot is
 * removed again.  Returns the keyslot number.  Consumes TOKEN.
 */
int token_enroll_keyslot(struct token_ctx *ctx, const void *vk, size_t vk_len,
			 const char *secret, size_t secret_len, struct json_object *token);

/* The same with KDF for the keyslot (a clevis keyslot mirrors clevis luks bind's). */
int token_enroll_keyslot_kdf(struct token_ctx *ctx, const void *vk, size_t vk_len,
			     const char *secret, size_t secret_len,
			     const struct luks2_pbkdf *kdf, struct json_object *token);

/* For luks2_dump_ex(): the describe() of TOKEN's method, if any. */
void token_describe(struct json_object *token, FILE *out);

#endif
