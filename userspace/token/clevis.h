/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vaultctl: the "clevis" token (network-bound unlock through clevis and
 * tang, or any other clevis pin).  clevis 19's `clevis luks bind` writes
 *
 *   {"type":"clevis","keyslots":["N"],"jwe":{JWE}}
 *
 * where JWE is the JSON ("flattened") serialisation of the compact JWE that
 * `clevis encrypt PIN CONFIG` printed (jose jwe fmt): the members
 * "ciphertext", "encrypted_key", "iv", "protected", "tag", each a base64url
 * string.  `clevis decrypt` reads the compact form on stdin:
 * protected.encrypted_key.iv.ciphertext.tag (encrypted_key is empty for
 * tang's ECDH-ES direct key agreement).  The plaintext is the keyslot
 * passphrase.  vaultctl only converts between the two forms: JOSE, the
 * tang exchange and every pin stay clevis's job (clevis-run.c runs it).
 */
#ifndef VAULTCTL_TOKEN_CLEVIS_H
#define VAULTCTL_TOKEN_CLEVIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "passphrase.h"

struct json_object;

/*
 * The compact form of the flattened JWE object JWE (malloc'ed), or NULL
 * with *WHY set: a member missing, not a string, holding characters
 * outside base64url, or a member the compact form cannot carry
 * ("header", "unprotected", "aad").
 */
char *clevis_jwe_compact(struct json_object *jwe, const char **why);

/* The flattened object of compact JWE TEXT (five parts), or NULL. */
struct json_object *clevis_jwe_flatten(const char *text, const char **why);

/*
 * The decoded protected header of a compact JWE, or of a flattened one
 * (JWE a JSON object): a JSON object, or NULL.
 */
struct json_object *clevis_jwe_header_compact(const char *text);
struct json_object *clevis_jwe_header(struct json_object *jwe);

/*
 * A one-line summary of the clevis policy in protected header HDR into
 * BUF: "tang (http://...)", "sss 2 of [tang (http://...), tpm2]".  True
 * when it involves a tang server (for the failure messages).
 */
bool clevis_policy_describe(struct json_object *hdr, char *buf, size_t len);

/* True when the clevis pin PIN is installed (clevis-encrypt-PIN in $PATH). */
bool clevis_pin_installed(const char *pin);

/* The path of PROG in $PATH, into BUF; false when not found. */
bool clevis_which(const char *prog, char *buf, size_t len);

/*
 * Runs ARGV (ARGV[0] a path) with IN on its stdin and its stdout read into
 * OUT (OUT_CAP bytes, NUL-terminated, *OUT_LEN), its stderr into ERR
 * (ERR_LEN bytes, NUL-terminated; what does not fit is dropped).  With
 * OWN_GROUP it runs in a process group of its own, killed as a whole at
 * DEADLINE_US (pass_now_us() time; 0: none) -> -ETIMEDOUT; without, it
 * stays in the terminal's foreground group (so that a pin can ask on
 * /dev/tty) and is never timed; a stop signal (SIGINT, SIGTERM, SIGQUIT,
 * SIGHUP) for vaultctl meanwhile kills the group too, then ends vaultctl by
 * it.  Returns the exit status (>= 0; 128 + N when signal N ended it), or
 * -errno (-E2BIG: more than OUT_CAP - 1 bytes of output).  No secret is
 * ever in argv or the environment: secrets go through IN and OUT.
 */
int clevis_run(const char *const argv[], const void *in, size_t in_len, char *out,
	       size_t out_cap, size_t *out_len, char *err, size_t err_len, bool own_group,
	       uint64_t deadline_us);

#endif
