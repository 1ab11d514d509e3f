/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vaultctl: the TPM2 unlock method, in systemd 252's "systemd-tpm2" token
 * format.  A random 32-byte secret is sealed to the TPM (a keyed-hash
 * object under the owner hierarchy's primary key) with a policy of PolicyPCR
 * over the chosen PCRs and, with a PIN, PolicyAuthValue.  The base64 of the
 * secret is the passphrase of the token's LUKS2 keyslot.
 *
 * tpm2.c         device, primary key, seal, unseal, PCR extend, DA state
 * tpm2-policy.c  PCR lists, banks and algorithm names (no TPM needed)
 * tpm2-json.c    the token JSON as systemd 252 writes and reads it
 * tpm2-token.c   the "systemd-tpm2" token method (token/token.h): enroll,
 *                unlock with PIN prompt, dump lines; PCR 15 after open
 */
#ifndef VAULTCTL_TOKEN_TPM2_H
#define VAULTCTL_TOKEN_TPM2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

#define TPM2_SECRET_SIZE	32	/* as systemd 252 */
#define TPM2_PCRS_MAX		24
#define TPM2_PCR_CAP		15	/* extended after unlock, bound as zero */
#define TPM2_BLOB_MAX		4096
#define TPM2_POLICY_MAX		64

/* Error codes beyond -errno, so that callers can say what went wrong. */
enum {
	TPM2_E_NODEV = 1000,	/* no TPM / cannot talk to it */
	TPM2_E_POLICY,		/* PCR values differ from the enrolled ones */
	TPM2_E_BADPIN,		/* the TPM refused the PIN (counted) */
	TPM2_E_LOCKOUT,		/* dictionary-attack lockout */
	TPM2_E_TOKEN,		/* token JSON malformed or unsupported */
	TPM2_E_TPM,		/* any other TPM failure */
};

/* PCR bank (TPM2_ALG_SHA1/TPM2_ALG_SHA256) and primary key (ECC/RSA). */
struct tpm2_token {
	uint32_t pcr_mask;		/* bit N: PCR N */
	uint16_t pcr_bank;		/* TPM2_ALG_* */
	uint16_t primary_alg;		/* TPM2_ALG_ECC or TPM2_ALG_RSA */
	uint8_t blob[TPM2_BLOB_MAX];	/* TPM2B_PRIVATE then TPM2B_PUBLIC */
	size_t blob_size;
	uint8_t policy_hash[TPM2_POLICY_MAX];
	size_t policy_hash_size;	/* 0: not checked before unseal */
	bool pin;
	bool signed_policy;		/* tpm2_pubkey*: not supported */
	uint32_t pubkey_pcr_mask;
};

/* --- tpm2-policy.c --- */

/* "7+11", "7,11", "sha256:7+11" (a bank prefix); "" is no PCR.  Fills *MASK
 * and, when a prefix was given, *BANK (else leaves it). */
int tpm2_parse_pcrs(const char *s, uint32_t *mask, uint16_t *bank);
/* "7+11+15" into BUF. */
void tpm2_format_pcrs(uint32_t mask, char *buf, size_t len);
/* systemd's booleans: yes/no, true/false, on/off, 1/0, y/n, t/f. */
int tpm2_parse_bool(const char *s, bool *v);
const char *tpm2_bank_name(uint16_t bank);		/* "sha256" or NULL */
int tpm2_bank_from_name(const char *name, uint16_t *bank);
const char *tpm2_alg_name(uint16_t alg);		/* "ecc", "rsa" or NULL */
int tpm2_alg_from_name(const char *name, uint16_t *alg);

/* --- tpm2-json.c --- */

/* Parses a "systemd-tpm2" token (its keyslots are the caller's business).
 * -TPM2_E_TOKEN with the reason in WHY (a static string) when malformed. */
int tpm2_token_from_json(struct json_object *tok, struct tpm2_token *t,
			 const char **why);
/* A new "systemd-tpm2" token object for KEYSLOT, fields in systemd's order. */
struct json_object *tpm2_token_to_json(const struct tpm2_token *t, int keyslot);

/* --- tpm2.c --- */

/*
 * DEVICE: "auto" or NULL (/dev/tpmrm0, else /dev/tpm0), a path, or a TCTI
 * string "driver:config" (e.g. "swtpm:path=/run/swtpm.sock").
 */
struct tpm2_ctx;
int tpm2_open(const char *device, struct tpm2_ctx **ctx);

/* Why the last tpm2_*() call failed, for the caller's message. */
const char *tpm2_last_error(void);
void tpm2_close(struct tpm2_ctx *ctx);

/*
 * Seals a fresh random secret under a policy of PCR_MASK (plus PCR 15,
 * computed as all zeros) and, with PIN, PolicyAuthValue.  Fills T (bank,
 * primary algorithm, blob, policy hash, pcr_mask including 15, pin) and
 * SECRET (TPM2_SECRET_SIZE bytes, the caller's locked memory).
 */
int tpm2_seal(struct tpm2_ctx *ctx, uint32_t pcr_mask, uint16_t bank_hint,
	      const char *pin, struct tpm2_token *t, uint8_t *secret);

/*
 * Unseals T's secret (with PIN when T->pin) in a salted, parameter-
 * encrypted session.  SECRET has room for TPM2_SECRET_MAX bytes; the size
 * lands in *SECRET_LEN.  Errors: -TPM2_E_*, with a message printed.
 */
#define TPM2_SECRET_MAX		128
int tpm2_unseal(struct tpm2_ctx *ctx, const struct tpm2_token *t,
		const char *pin, uint8_t *secret, size_t *secret_len);

/*
 * 0 when T's policy digest matches the TPM's current PCR values (computed
 * in a trial session, no secret involved), -TPM2_E_POLICY when not: asked
 * before a PIN prompt that could not succeed.
 */
int tpm2_policy_check(struct tpm2_ctx *ctx, const struct tpm2_token *t);

/* Dictionary-attack state; fields -1 when the TPM does not say. */
struct tpm2_da {
	long failed;		/* TPM_PT_LOCKOUT_COUNTER */
	long max_tries;		/* TPM_PT_MAX_AUTH_FAIL */
	long recovery_s;	/* TPM_PT_LOCKOUT_RECOVERY */
	bool in_lockout;
};
int tpm2_da_state(struct tpm2_ctx *ctx, struct tpm2_da *da);
/* "N tries left before the TPM locks out" or the lockout state, for messages. */
void tpm2_da_describe(const struct tpm2_da *da, char *buf, size_t len);

/*
 * Extends PCR in every allocated bank with the hash of WHAT (which must
 * reveal nothing secret), so that policies bound to its old value fail.
 */
int tpm2_extend_pcr(struct tpm2_ctx *ctx, unsigned int pcr, const char *what);

/* --- tpm2-token.c: PCR 15 after an open --- */

struct vault_opts;
struct luks2;

/*
 * True when L carries a systemd-tpm2 token whose policy binds PCR 15 and O
 * does not say --tpm2-measure-pcr=no (asked before the header is freed).
 */
bool tpm2_measure_wanted(const struct vault_opts *o, struct luks2 *l);

/*
 * After VOLUME (LUKS2 UUID) opened: extends PCR 15 with SHA-256("vaultctl:"
 * VOLUME ":" UUID), public values that reveal nothing of the key, so that
 * tokens bound to PCR 15 = 0 cannot unseal again until reboot.  Between
 * tpm2_measure_batch(true) and tpm2_measure_batch(false) (open --all) the
 * extensions wait for the end, so every volume of the batch unlocks first.
 * Failures are warnings: the volume is open.
 */
void tpm2_measure_open(const struct vault_opts *o, const char *volume, const char *uuid);
void tpm2_measure_batch(bool start, bool disabled);

/* Secret -> keyslot passphrase, as systemd: base64 (NUL-terminated, OUT
 * needs 4 * ceil(len / 3) + 1 bytes, should be locked memory). */
size_t tpm2_secret_to_passphrase(const uint8_t *secret, size_t len, char *out);

#endif
