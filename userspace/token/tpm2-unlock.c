// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: the TPM2 token in vaultctl's commands; see tpm2-unlock.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "luks2.h"
#include "passphrase.h"
#include "secure_mem.h"
#include "token/tpm2-unlock.h"
#include "util.h"

const struct luks2_pbkdf tpm2_keyslot_pbkdf = {
	.type = LUKS2_KDF_PBKDF2,
	.hash = "sha512",
	.iterations = 1000,
};

int tpm2_parse_bool(const char *s, bool *v)
{
	static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
	static const char *const no[] = { "0", "no", "n", "false", "f", "off" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(s, yes[i])) {
			*v = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*v = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* A PIN from environment variable ENV (then unset), else from the prompt. */
static int read_pin(const char *env, const char *prompt, bool verify, struct passphrase *p)
{
	const char *e = getenv(env);

	if (e && *e) {
		size_t n = strlen(e);

		p->buf = secure_alloc(n + 1);
		if (!p->buf)
			return -ENOMEM;
		memcpy(p->buf, e, n + 1);
		p->len = n;
		secure_wipe((char *)e, n);
		unsetenv(env);
		return 0;
	}
	return pass_read(NULL, 0, 0, prompt, verify, p);
}

int tpm2_enroll(const struct tpm2_opts *o, const char *volume, struct tpm2_token *t,
		char *pass, size_t *pass_len)
{
	struct passphrase pin = { 0 };
	struct tpm2_ctx *c = NULL;
	uint8_t *secret = NULL;
	char prompt[512];
	int r;

	if (o->with_pin) {
		snprintf(prompt, sizeof(prompt), "Enter a new TPM2 PIN for %s: ", volume);
		r = read_pin("NEWPIN", prompt, true, &pin);
		if (r)
			return r;
	}
	secret = secure_alloc(TPM2_SECRET_MAX);
	if (!secret) {
		r = -ENOMEM;
		goto out;
	}
	r = tpm2_open(o->device, &c);
	if (r)
		goto out;
	r = tpm2_seal(c, o->pcr_mask, o->pcr_bank, o->with_pin ? pin.buf : NULL, t, secret);
	if (r)
		goto out;
	*pass_len = tpm2_secret_to_passphrase(secret, TPM2_SECRET_SIZE, pass);
out:
	tpm2_close(c);
	secure_free(secret);
	pass_free(&pin);
	return r;
}

static void policy_message(const struct tpm2_token *t, const char *volume)
{
	char pcrs[96];

	tpm2_format_pcrs(t->pcr_mask, pcrs, sizeof(pcrs));
	log_err("the TPM refuses to unseal the key of %s: PCRs %s (%s) differ from the values it was sealed to%s",
		volume, pcrs, tpm2_bank_name(t->pcr_bank),
		(t->pcr_mask & (1U << TPM2_PCR_CAP)) ?
		" (after a firmware, boot loader or Secure Boot change, or because PCR 15 was extended after this boot's unlock)" :
		" (after a firmware, boot loader or Secure Boot change)");
}

int tpm2_unlock(json_object *tok, int token_id, const char *volume, const struct tpm2_opts *o,
		char *pass, size_t *pass_len)
{
	static struct tpm2_token t;	/* 4 KiB of public data: not on the stack */
	struct passphrase pin = { 0 };
	struct tpm2_ctx *c = NULL;
	uint8_t *secret = NULL;
	const char *why = "";
	size_t len = 0;
	int r;

	r = tpm2_token_from_json(tok, &t, &why);
	if (r) {
		log_err("token %d (systemd-tpm2) of %s is unusable: %s", token_id, volume, why);
		return r;
	}
	secret = secure_alloc(TPM2_SECRET_MAX);
	if (!secret)
		return -ENOMEM;
	r = tpm2_open(o->device, &c);
	if (r)
		goto out;
	r = tpm2_policy_check(c, &t);
	if (r == -TPM2_E_POLICY)
		policy_message(&t, volume);
	if (r)
		goto out;
	if (t.pin) {
		struct tpm2_da da;
		char prompt[512], state[160];

		tpm2_da_state(c, &da);
		if (da.in_lockout) {
			tpm2_da_describe(&da, state, sizeof(state));
			log_err("cannot try the TPM2 PIN of %s: %s", volume, state);
			r = -TPM2_E_LOCKOUT;
			goto out;
		}
		tpm2_da_describe(&da, state, sizeof(state));
		snprintf(prompt, sizeof(prompt),
			 "Enter the TPM2 PIN for %s (a wrong PIN counts against the TPM's dictionary-attack protection; %s): ",
			 volume, state);
		r = read_pin("PIN", prompt, false, &pin);
		if (r)
			goto out;
	}
	r = tpm2_unseal(c, &t, pin.buf, secret, &len);
	if (r == -TPM2_E_BADPIN || r == -TPM2_E_LOCKOUT) {
		struct tpm2_da da;
		char state[160];

		tpm2_da_state(c, &da);
		tpm2_da_describe(&da, state, sizeof(state));
		if (r == -TPM2_E_BADPIN)
			log_err("wrong TPM2 PIN for %s; the TPM's dictionary-attack protection counted it: %s",
				volume, state);
		else
			log_err("the TPM refuses the PIN of %s: %s", volume, state);
	} else if (r == -TPM2_E_POLICY) {
		policy_message(&t, volume);
	}
	if (r)
		goto out;
	*pass_len = tpm2_secret_to_passphrase(secret, len, pass);
out:
	tpm2_close(c);
	secure_free(secret);
	pass_free(&pin);
	return r;
}

bool tpm2_token_binds_pcr15(json_object *tok)
{
	static struct tpm2_token t;
	const char *why;

	return !tpm2_token_from_json(tok, &t, &why) && (t.pcr_mask & (1U << TPM2_PCR_CAP));
}

int tpm2_measure_open(const struct tpm2_opts *o, const char *volume, const char *uuid)
{
	struct tpm2_ctx *c = NULL;
	char what[512];
	int r;

	snprintf(what, sizeof(what), "vaultctl:%s:%s", volume, uuid ? uuid : "");
	r = tpm2_open(o->device, &c);
	if (!r)
		r = tpm2_extend_pcr(c, TPM2_PCR_CAP, what);
	tpm2_close(c);
	if (r)
		log_warn("could not extend PCR %u after opening %s: its TPM2 token can still be unsealed on this boot",
			 TPM2_PCR_CAP, volume);
	else
		log_verbose("PCR %u extended: the TPM2 key of %s cannot be unsealed again until reboot",
			    TPM2_PCR_CAP, volume);
	return r;
}
