// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: the "systemd-tpm2" LUKS2 token, field for field as systemd 252
 * writes it (src/shared/tpm2-util.c, tpm2_make_luks2_json) and reads it
 * (tpm2_parse_luks2_json):
 *
 *   type              "systemd-tpm2"
 *   keyslots          ["N"]
 *   tpm2-blob         base64 of TPM2B_PRIVATE then TPM2B_PUBLIC (TSS marshalling)
 *   tpm2-pcrs         [7, 15]
 *   tpm2-pcr-bank     "sha256" | "sha1" (absent: sha256, as systemd 248 sealed)
 *   tpm2-primary-alg  "ecc" | "rsa" (absent: ecc)
 *   tpm2-policy-hash  hex of the policy digest
 *   tpm2-pin          true when PolicyAuthValue (the PIN) is part of the policy
 *   tpm2_pubkey_pcrs, tpm2_pubkey   signed PCR policy (read, not supported)
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "token/tpm2.h"
#include "util.h"

static int parse_pcr_array(json_object *a, uint32_t *mask)
{
	uint32_t m = 0;

	if (!json_object_is_type(a, json_type_array))
		return -EINVAL;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *e = json_object_array_get_idx(a, i);
		int64_t v;

		if (!json_object_is_type(e, json_type_int))
			return -EINVAL;
		v = json_object_get_int64(e);
		if (v < 0 || v >= TPM2_PCRS_MAX)
			return -ERANGE;
		m |= 1U << v;
	}
	*mask = m;
	return 0;
}

static json_object *pcr_array(uint32_t mask)
{
	json_object *a = json_object_new_array();

	for (int i = 0; a && i < TPM2_PCRS_MAX; i++)
		if (mask & (1U << i))
			json_object_array_add(a, json_object_new_int(i));
	return a;
}

static int hex_decode(const char *in, uint8_t *out, size_t cap, size_t *len)
{
	size_t n = strlen(in);

	if (n % 2 || n / 2 > cap)
		return -EINVAL;
	for (size_t i = 0; i < n; i += 2) {
		unsigned int v;

		if (!isxdigit((unsigned char)in[i]) || !isxdigit((unsigned char)in[i + 1]) ||
		    sscanf(in + i, "%2x", &v) != 1)
			return -EINVAL;
		out[i / 2] = (uint8_t)v;
	}
	*len = n / 2;
	return 0;
}

int tpm2_token_from_json(json_object *tok, struct tpm2_token *t, const char **why)
{
	json_object *o;
	const char *s;
	long n;

	memset(t, 0, sizeof(*t));
	t->pcr_bank = 0x000B;		/* TPM2_ALG_SHA256 */
	t->primary_alg = 0x0023;	/* TPM2_ALG_ECC */

	if (!json_object_object_get_ex(tok, "tpm2-pcrs", &o)) {
		*why = _("it lacks the 'tpm2-pcrs' field");
		return -TPM2_E_TOKEN;
	}
	if (parse_pcr_array(o, &t->pcr_mask)) {
		*why = _("'tpm2-pcrs' is not an array of PCR numbers 0-23");
		return -TPM2_E_TOKEN;
	}
	if (json_object_object_get_ex(tok, "tpm2-pcr-bank", &o)) {
		s = json_object_is_type(o, json_type_string) ? json_object_get_string(o) : NULL;
		if (!s || tpm2_bank_from_name(s, &t->pcr_bank)) {
			*why = _("'tpm2-pcr-bank' is not a known PCR bank");
			return -TPM2_E_TOKEN;
		}
	}
	if (json_object_object_get_ex(tok, "tpm2-primary-alg", &o)) {
		s = json_object_is_type(o, json_type_string) ? json_object_get_string(o) : NULL;
		if (!s || tpm2_alg_from_name(s, &t->primary_alg)) {
			*why = _("'tpm2-primary-alg' is neither \"ecc\" nor \"rsa\"");
			return -TPM2_E_TOKEN;
		}
	}
	if (!json_object_object_get_ex(tok, "tpm2-blob", &o) ||
	    !json_object_is_type(o, json_type_string)) {
		*why = _("it lacks the 'tpm2-blob' field");
		return -TPM2_E_TOKEN;
	}
	n = b64_decode_strict(json_object_get_string(o), t->blob, sizeof(t->blob));
	if (n <= 0) {
		*why = _("'tpm2-blob' is not valid base64");
		return -TPM2_E_TOKEN;
	}
	t->blob_size = (size_t)n;
	if (!json_object_object_get_ex(tok, "tpm2-policy-hash", &o) ||
	    !json_object_is_type(o, json_type_string)) {
		*why = _("it lacks the 'tpm2-policy-hash' field");
		return -TPM2_E_TOKEN;
	}
	if (hex_decode(json_object_get_string(o), t->policy_hash, sizeof(t->policy_hash),
		       &t->policy_hash_size)) {
		*why = _("'tpm2-policy-hash' is not a hex digest");
		return -TPM2_E_TOKEN;
	}
	if (json_object_object_get_ex(tok, "tpm2-pin", &o)) {
		if (!json_object_is_type(o, json_type_boolean)) {
			*why = _("'tpm2-pin' is not a boolean");
			return -TPM2_E_TOKEN;
		}
		t->pin = json_object_get_boolean(o);
	}
	if (json_object_object_get_ex(tok, "tpm2_pubkey_pcrs", &o)) {
		if (parse_pcr_array(o, &t->pubkey_pcr_mask)) {
			*why = _("'tpm2_pubkey_pcrs' is not an array of PCR numbers 0-23");
			return -TPM2_E_TOKEN;
		}
		if (t->pubkey_pcr_mask)
			t->signed_policy = true;
	}
	if (json_object_object_get_ex(tok, "tpm2_pubkey", &o))
		t->signed_policy = true;
	/* PolicyAuthorize needs a signature file we do not read. */
	if (t->signed_policy) {
		*why = _("signed PCR policies are not supported (it has 'tpm2_pubkey')");
		return -TPM2_E_TOKEN;
	}
	return 0;
}

json_object *tpm2_token_to_json(const struct tpm2_token *t, int keyslot)
{
	char ks[16], b64[((TPM2_BLOB_MAX + 2) / 3) * 4 + 1], hex[TPM2_POLICY_MAX * 2 + 1];
	json_object *tok = json_object_new_object(), *slots = json_object_new_array();
	const char *bank = tpm2_bank_name(t->pcr_bank), *alg = tpm2_alg_name(t->primary_alg);

	if (!tok || !slots || !bank || !alg || t->blob_size > TPM2_BLOB_MAX ||
	    t->policy_hash_size > TPM2_POLICY_MAX)
		goto fail;
	snprintf(ks, sizeof(ks), "%d", keyslot);
	json_object_array_add(slots, json_object_new_string(ks));
	EVP_EncodeBlock((unsigned char *)b64, t->blob, (int)t->blob_size);
	for (size_t i = 0; i < t->policy_hash_size; i++)
		snprintf(hex + 2 * i, 3, "%02x", t->policy_hash[i]);
	hex[2 * t->policy_hash_size] = '\0';

	json_object_object_add(tok, "type", json_object_new_string("systemd-tpm2"));
	json_object_object_add(tok, "keyslots", slots);
	slots = NULL;
	json_object_object_add(tok, "tpm2-blob", json_object_new_string(b64));
	json_object_object_add(tok, "tpm2-pcrs", pcr_array(t->pcr_mask));
	json_object_object_add(tok, "tpm2-pcr-bank", json_object_new_string(bank));
	json_object_object_add(tok, "tpm2-primary-alg", json_object_new_string(alg));
	json_object_object_add(tok, "tpm2-policy-hash", json_object_new_string(hex));
	json_object_object_add(tok, "tpm2-pin", json_object_new_boolean(t->pin));
	return tok;
fail:
	json_object_put(slots);
	json_object_put(tok);
	return NULL;
}
