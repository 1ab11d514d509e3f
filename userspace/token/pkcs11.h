/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vaultctl: PKCS#11 security tokens through p11-kit (token/pkcs11.c): the
 * modules registered with p11-kit (a smartcard's opensc-pkcs11, SoftHSM2,
 * ...), a token chosen by a "pkcs11:" URI (RFC 7512) or "auto", its X.509
 * certificate for enrolment, and RSA decryption or ECDH with its private
 * key at unlock, done on the token: the private key never leaves it.
 *
 * Errors return a negative errno and record a message for
 * pkcs11_last_error():
 *   -ENOENT   no token matches (none plugged in, no module registered);
 *   -ENOTUNIQ "auto" found several suitable tokens;
 *   -EINVAL   a malformed URI; no suitable certificate or key on the token;
 *   -EACCES   the token refused the PIN (wrong, or locked);
 *   -EIO      any other PKCS#11 failure.
 */
#ifndef VAULTCTL_PKCS11_H
#define VAULTCTL_PKCS11_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

struct pkcs11_token;

/*
 * Opens a session with the token URI selects.  "auto" (enrolment): the one
 * token present that requires a login and holds an X.509 certificate.  With
 * a URI, the first token that matches it.
 */
int pkcs11_token_open(const char *uri, struct pkcs11_token **ret);
void pkcs11_token_close(struct pkcs11_token *t);

/* The token's label, for prompts (printable, NUL-terminated). */
const char *pkcs11_token_label(const struct pkcs11_token *t);

/* The URI naming the token itself (model, manufacturer, serial, label), malloc'ed. */
char *pkcs11_token_uri(const struct pkcs11_token *t);

/* True when the token needs a login for its private objects. */
bool pkcs11_token_login_required(const struct pkcs11_token *t);

/* True when the token has its own PIN pad (C_Login without a PIN). */
bool pkcs11_token_pinpad(const struct pkcs11_token *t);

/*
 * The user PIN's state from the token's flags ("", "a wrong PIN was
 * entered before", "one try left", "locked"): what a prompt says before a wrong PIN.
 */
const char *pkcs11_pin_state(struct pkcs11_token *t);

/* C_Login as the user with PIN (NULL: the token's PIN pad). -EACCES: refused. */
int pkcs11_token_login(struct pkcs11_token *t, const char *pin, size_t pin_len);

/*
 * The X.509 certificate the URI's object attributes (id=, object=) select
 * on the token: exactly one must match.  -ENODATA when none is visible
 * (some cards show certificates only after a login).
 */
int pkcs11_read_certificate(struct pkcs11_token *t, const char *uri, X509 **ret);

/*
 * Recovers the secret IN wraps with the one private key the URI selects,
 * as systemd 255 does: an RSA key decrypts IN (RSA PKCS#1 v1.5,
 * CKM_RSA_PKCS); an EC key takes IN as the public point saved at enrolment
 * (SEC1 octets) and derives the ECDH shared secret with it
 * (CKM_ECDH1_DERIVE, no KDF).  Into OUT (CAP bytes, secure memory);
 * *OUT_LEN bytes, *IS_EC says which.  Needs pkcs11_token_login() first.
 */
int pkcs11_decrypt(struct pkcs11_token *t, const char *uri, const uint8_t *in, size_t in_len,
		   uint8_t *out, size_t cap, size_t *out_len, bool *is_ec);

/*
 * The URI to store in a token for URI (a token or object URI a user gave):
 * a "type=cert" (or public) becomes "type=private", since the key is what
 * unlock looks for; malloc'ed, NULL on a malformed URI.
 */
char *pkcs11_uri_for_key(const char *uri);

const char *pkcs11_last_error(void);

#endif
