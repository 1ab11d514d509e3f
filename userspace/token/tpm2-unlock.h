/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vaultctl: the TPM2 token as vaultctl's commands use it: enrolment (seal,
 * keyslot passphrase, token), unlock (PIN prompt naming the volume, clear
 * messages, dictionary-attack state) and the PCR 15 measurement after an
 * open.  The TPM work itself is in tpm2.c.
 */
#ifndef VAULTCTL_TOKEN_TPM2_UNLOCK_H
#define VAULTCTL_TOKEN_TPM2_UNLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "token/tpm2.h"

struct json_object;
struct luks2_pbkdf;

/* Keyslot passphrase: base64 of the secret. */
#define TPM2_PASS_MAX	(((TPM2_SECRET_MAX + 2) / 3) * 4 + 1)

struct tpm2_opts {
	const char *device;	/* --tpm2-device=auto|PATH|TCTI; NULL: auto */
	uint32_t pcr_mask;	/* --tpm2-pcrs (PCR 15 is always added) */
	uint16_t pcr_bank;	/* bank prefix of --tpm2-pcrs; 0: best */
	bool pcrs_set;
	bool with_pin;		/* --tpm2-with-pin */
	bool no_measure;	/* --tpm2-measure-pcr=no */
};

/* The keyslot KDF systemd-cryptenroll uses for a high-entropy secret. */
extern const struct luks2_pbkdf tpm2_keyslot_pbkdf;

/* "yes"/"no" (and systemd's other booleans) for --tpm2-with-pin=... */
int tpm2_parse_bool(const char *s, bool *v);

/*
 * Seals a new secret for VOLUME (named in the PIN prompts): fills T and the
 * keyslot passphrase PASS (TPM2_PASS_MAX bytes of locked memory).  The PIN
 * comes from $NEWPIN (as systemd-cryptenroll reads it) or two prompts.
 */
int tpm2_enroll(const struct tpm2_opts *o, const char *volume, struct tpm2_token *t,
		char *pass, size_t *pass_len);

/*
 * Unlock with a "systemd-tpm2" token TOK of VOLUME: the keyslot passphrase
 * in PASS (TPM2_PASS_MAX bytes of locked memory).  A PIN comes from $PIN
 * (as systemd-cryptsetup reads it) or a prompt naming VOLUME and the tries
 * the TPM has left.  Prints why it failed; the caller then falls back to
 * the passphrase.  -TPM2_E_TOKEN for a malformed token.
 */
int tpm2_unlock(struct json_object *tok, int token_id, const char *volume,
		const struct tpm2_opts *o, char *pass, size_t *pass_len);

/* True when TOK is a well-formed systemd-tpm2 token whose policy has PCR 15. */
bool tpm2_token_binds_pcr15(struct json_object *tok);

/*
 * After VOLUME (UUID) opened: extends PCR 15 with SHA-256("vaultctl:"
 * VOLUME ":" UUID), public values that say which volume opened and nothing
 * of its key, so that tokens bound to PCR 15 = 0 no longer unseal this boot.
 */
int tpm2_measure_open(const struct tpm2_opts *o, const char *volume, const char *uuid);

#endif
