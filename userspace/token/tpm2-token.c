// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: the "systemd-tpm2" token method (token/token.h): enrolment
 * (seal, keyslot, token), unlock (PIN prompt naming the volume and the
 * tries the TPM has left, reasons for a refusal) and its dump lines.  The
 * TPM work is in tpm2.c, the JSON in tpm2-json.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "secure_mem.h"
#include "token/token.h"
#include "token/tpm2.h"
#include "util.h"
#include "vaultctl.h"

/* Keyslot passphrase: base64 of the secret. */
#define TPM2_PASS_MAX	(((TPM2_SECRET_MAX + 2) / 3) * 4 + 1)

/* TPM2_E_* to the token interface's codes, with the reason recorded. */
static int token_error(struct token_ctx *ctx, int r)
{
	switch (r) {
	case -TPM2_E_NODEV:
		token_why(ctx, "%s", tpm2_last_error());
		return -ENOENT;
	case -TPM2_E_TOKEN:
		token_why(ctx, "%s", tpm2_last_error());
		return -EINVAL;
	case -TPM2_E_POLICY:
	case -TPM2_E_BADPIN:
	case -TPM2_E_LOCKOUT:
		return -EACCES;		/* the reason is recorded by then */
	case -TPM2_E_TPM:
		token_why(ctx, "%s", tpm2_last_error());
		return -EIO;
	}
	return r;
}

static void policy_why(struct token_ctx *ctx, const struct tpm2_token *t)
{
	char pcrs[96];

	tpm2_format_pcrs(t->pcr_mask, pcrs, sizeof(pcrs));
	token_why(ctx, "the TPM refuses to unseal it: PCRs %s (%s) differ from the values it was sealed to (%s)",
		  pcrs, tpm2_bank_name(t->pcr_bank),
		  (t->pcr_mask & (1U << TPM2_PCR_CAP)) ?
		  "a firmware, boot loader or Secure Boot change, or PCR 15 was extended after this boot's unlock" :
		  "a firmware, boot loader or Secure Boot change");
}

static void da_why(struct token_ctx *ctx, struct tpm2_ctx *c, int r)
{
	struct tpm2_da da;
	char state[160];

	tpm2_da_state(c, &da);
	tpm2_da_describe(&da, state, sizeof(state));
	if (r == -TPM2_E_BADPIN)
		token_why(ctx, "wrong TPM2 PIN; the TPM's dictionary-attack protection counted it: %s",
			  state);
	else
		token_why(ctx, "%s", state);
}

/*
 * The PIN for VOLUME into PIN: refused while the TPM is locked out; the
 * prompt says that a wrong PIN counts and how many tries the TPM has left.
 * Enter alone skips the token (the passphrase prompt takes a recovery key).
 */
static int ask_pin(struct token_ctx *ctx, struct tpm2_ctx *c, const char *volume,
		   bool *from_env, struct passphrase *pin)
{
	const struct vault_opts *o = ctx->o;
	uint64_t deadline = o->prompt_timeout_us ? pass_now_us() + o->prompt_timeout_us : 0;
	char prompt[768], state[160];
	struct tpm2_da da;
	int r;

	tpm2_da_state(c, &da);
	tpm2_da_describe(&da, state, sizeof(state));
	if (da.in_lockout) {
		token_why(ctx, "cannot try its PIN: %s", state);
		return -TPM2_E_LOCKOUT;
	}
	snprintf(prompt, sizeof(prompt),
		 _("Enter the TPM2 PIN for %s (a wrong PIN counts against the TPM's dictionary-attack protection; %s): "),
		 volume, state);
	r = token_read_pin(ctx, "PIN", prompt, false, deadline, from_env, pin);
	if (r == -ETIMEDOUT)
		token_why(ctx, "no PIN entered within %llu s (timeout=)",
			  (unsigned long long)((o->prompt_timeout_us + 999999) / 1000000));
	else if (r == -ENODATA || r == -ECANCELED) {
		token_why(ctx, "no PIN entered");
		r = -ENOENT;
	}
	return r;
}

static int tpm2_token_unlock(struct token_ctx *ctx, int id, json_object *tok,
			     struct passphrase *secret)
{
	static struct tpm2_token t;	/* 4 KiB of public data: not on the stack */
	const char *volume = ctx->o->volume ? ctx->o->volume : ctx->device;
	struct passphrase pin = { 0 };
	struct tpm2_ctx *c = NULL;
	uint8_t *sec = NULL;
	char *pass = NULL;
	const char *why = "";
	size_t len = 0;
	int r;

	(void)id;
	if (tpm2_token_from_json(tok, &t, &why)) {
		token_why(ctx, "%s", why);
		/* well-formed for systemd, but beyond what vaultctl does */
		return t.signed_policy ? -EOPNOTSUPP : -EINVAL;
	}
	sec = secure_alloc(TPM2_SECRET_MAX);
	pass = secure_alloc(TPM2_PASS_MAX);
	if (!sec || !pass) {
		r = -ENOMEM;
		goto out;
	}
	r = tpm2_open(ctx->o->tpm2_device, &c);
	if (r)
		goto out;
	r = tpm2_policy_check(c, &t);
	if (r == -TPM2_E_POLICY)
		policy_why(ctx, &t);
	if (r)
		goto out;
	/*
	 * A wrong PIN asks again, up to the volume's tries (0: until the TPM
	 * locks out), as systemd-cryptsetup does; a PIN from $PIN is tried once.
	 */
	for (unsigned int i = 0;; i++) {
		bool from_env = false;

		if (t.pin) {
			r = ask_pin(ctx, c, volume, &from_env, &pin);
			if (r)
				goto out;
		}
		r = tpm2_unseal(c, &t, pin.buf, sec, &len);
		pass_free(&pin);
		if (r == -TPM2_E_BADPIN || r == -TPM2_E_LOCKOUT)
			da_why(ctx, c, r);
		else if (r == -TPM2_E_POLICY)
			policy_why(ctx, &t);
		if (r != -TPM2_E_BADPIN || !t.pin || from_env ||
		    (ctx->o->tries && i + 1 >= ctx->o->tries))
			break;
		/* open --all prefixes the volume's name */
		log_err("%s", ctx->why);
	}
	if (r)
		goto out;
	len = tpm2_secret_to_passphrase(sec, len, pass);
	r = pass_set(secret, pass, len);
out:
	tpm2_close(c);
	secure_free(sec);
	secure_free(pass);
	pass_free(&pin);
	return token_error(ctx, r);
}

static void tpm2_token_describe(json_object *tok, FILE *out)
{
	static struct tpm2_token t;
	const char *why = "";
	char pcrs[96];

	if (tpm2_token_from_json(tok, &t, &why)) {
		fprintf(out, "\tunusable: %s\n", why);
		return;
	}
	tpm2_format_pcrs(t.pcr_mask, pcrs, sizeof(pcrs));
	fprintf(out, "\ttpm2-pcrs:        %s\n", pcrs);
	fprintf(out, "\ttpm2-pcr-bank:    %s\n", tpm2_bank_name(t.pcr_bank));
	fprintf(out, "\ttpm2-primary-alg: %s\n", tpm2_alg_name(t.primary_alg));
	fprintf(out, "\ttpm2-pin:         %s\n", t.pin ? "true" : "false");
}

static bool tpm2_token_wanted(const struct vault_opts *o)
{
	return o->set & (OPTB(OPT_TPM2_DEVICE) | OPTB(OPT_TPM2_PCRS)) ||
	       (o->set & OPTB(OPT_TPM2_WITH_PIN) && o->tpm2_with_pin);
}

static int tpm2_token_enroll(struct token_ctx *ctx, const void *vk, size_t vk_len)
{
	static struct tpm2_token t;
	const struct vault_opts *o = ctx->o;
	uint32_t pcrs = o->set & OPTB(OPT_TPM2_PCRS) ? o->tpm2_pcr_mask : 1U << 7;
	struct passphrase pin = { 0 };
	struct tpm2_ctx *c = NULL;
	uint8_t *sec = NULL;
	char *pass = NULL, prompt[512], list[96];
	json_object *tok;
	size_t len;
	int r;

	if (o->tpm2_with_pin) {
		snprintf(prompt, sizeof(prompt), _("Enter a new TPM2 PIN for %s: "), ctx->device);
		r = token_read_pin(ctx, "NEWPIN", prompt, true, 0, NULL, &pin);
		if (r)
			return r == -ENOENT ? -EINVAL : r;
	}
	sec = secure_alloc(TPM2_SECRET_MAX);
	pass = secure_alloc(TPM2_PASS_MAX);
	if (!sec || !pass) {
		r = -ENOMEM;
		goto out;
	}
	r = tpm2_open(o->tpm2_device, &c);
	if (!r)
		r = tpm2_seal(c, pcrs, o->tpm2_pcr_bank, pin.buf, &t, sec);
	if (r) {
		token_why(ctx, "%s", tpm2_last_error());
		r = r == -ENOMEM ? r : -EIO;
		goto out;
	}
	len = tpm2_secret_to_passphrase(sec, TPM2_SECRET_SIZE, pass);
	tok = tpm2_token_to_json(&t, 0);
	if (!tok) {
		r = -ENOMEM;
		goto out;
	}
	r = token_enroll_keyslot(ctx, vk, vk_len, pass, len, tok);
	if (r >= 0) {
		tpm2_format_pcrs(t.pcr_mask, list, sizeof(list));
		if (t.pin)
			fprintf(stderr, _("New TPM2 token enrolled as key slot %d (PCRs %s, %s, with PIN).\n"),
				r, list, tpm2_bank_name(t.pcr_bank));
		else
			fprintf(stderr, _("New TPM2 token enrolled as key slot %d (PCRs %s, %s).\n"), r, list,
				tpm2_bank_name(t.pcr_bank));
	}
out:
	tpm2_close(c);
	secure_free(sec);
	secure_free(pass);
	pass_free(&pin);
	return r;
}

const struct token_method token_tpm2 = {
	.type = "systemd-tpm2",
	.unlock = tpm2_token_unlock,
	.describe = tpm2_token_describe,
	.wanted = tpm2_token_wanted,
	.enroll = tpm2_token_enroll,
};

bool tpm2_measure_wanted(const struct vault_opts *o, struct luks2 *l)
{
	static struct tpm2_token t;
	const char *why;
	int id;

	if (o->tpm2_no_measure)
		return false;
	luks2_token_foreach(l, id) {
		const char *type = luks2_token_type(l, id);

		if (type && !strcmp(type, token_tpm2.type) &&
		    !tpm2_token_from_json(luks2_token_get(l, id), &t, &why) &&
		    (t.pcr_mask & (1U << TPM2_PCR_CAP)))
			return true;
	}
	return false;
}

#define MEASURE_BATCH_MAX	64

static struct {
	bool batch, disabled;
	unsigned int n;
	char *device[MEASURE_BATCH_MAX];
	char *what[MEASURE_BATCH_MAX];
} pending;

static void extend(const char *device, const char *what, const char *volume)
{
	struct tpm2_ctx *c = NULL;
	int r;

	r = tpm2_open(device, &c);
	if (!r)
		r = tpm2_extend_pcr(c, TPM2_PCR_CAP, what);
	tpm2_close(c);
	if (r)
		log_warn("could not extend PCR %u after opening %s (%s): its TPM2 token can still be unsealed on this boot",
			 TPM2_PCR_CAP, volume, tpm2_last_error());
	else
		log_verbose("PCR %u extended: the TPM2 token of %s cannot unseal again until reboot.",
			    TPM2_PCR_CAP, volume);
}

void tpm2_measure_open(const struct vault_opts *o, const char *volume, const char *uuid)
{
	char what[512];

	if (pending.disabled)
		return;
	snprintf(what, sizeof(what), "vaultctl:%s:%s", volume, uuid ? uuid : "");
	if (pending.batch && pending.n < MEASURE_BATCH_MAX) {
		pending.device[pending.n] = o->tpm2_device ? strdup(o->tpm2_device) : NULL;
		pending.what[pending.n] = strdup(what);
		if (pending.what[pending.n]) {
			pending.n++;
			return;
		}
		free(pending.device[pending.n]);
	}
	extend(o->tpm2_device, what, volume);
}

void tpm2_measure_batch(bool start, bool disabled)
{
	if (start) {
		pending.batch = true;
		pending.disabled = disabled;
		return;
	}
	for (unsigned int i = 0; i < pending.n; i++) {
		/* "vaultctl:NAME:UUID": the volume's name for the message */
		char *name = strdup(pending.what[i] + strlen("vaultctl:")), *colon;

		if (name && (colon = strrchr(name, ':')))
			*colon = '\0';
		extend(pending.device[i], pending.what[i], name ? name : "a volume");
		free(name);
		free(pending.device[i]);
		free(pending.what[i]);
	}
	memset(&pending, 0, sizeof(pending));
}
