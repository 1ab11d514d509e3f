// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: the "systemd-pkcs11" token method (token/token.h), in the
 * format systemd 252 writes and reads (src/cryptenroll/cryptenroll-pkcs11.c,
 * src/cryptsetup/cryptsetup-pkcs11.c, src/shared/pkcs11-util.c):
 *
 *   {"type":"systemd-pkcs11","keyslots":["N"],
 *    "pkcs11-uri":"pkcs11:model=...;manufacturer=...;serial=...;token=LABEL",
 *    "pkcs11-key":"<base64 of the RSA-encrypted secret>"}
 *
 * Enrolment draws a random secret of half the RSA modulus' size (a 2048-bit
 * key: 128 bytes), encrypts it to the public key of the token's X.509
 * certificate with RSA PKCS#1 v1.5, and protects a new keyslot with the
 * base64 text of the secret (systemd's minimal KDF).  With "auto" the URI
 * stored is the token's own; a URI the user gave is stored as given (a
 * "type=cert" turned into "type=private").  Unlock logs into the token with
 * its PIN and has it decrypt "pkcs11-key" with the private key: the key
 * never leaves the token.
 *
 * EC keys, as systemd 255 added them (systemd PR #28658; 252 to 254 are
 * RSA only): enrolment makes an ephemeral key pair on the certificate's
 * curve, whose ECDH shared secret with the certificate's public key (the X
 * coordinate, 32 bytes on P-256) is the secret, base64 as for RSA;
 * "pkcs11-key" holds the ephemeral public key as an uncompressed SEC1 point
 * (04 || X || Y) and the ephemeral private key is dropped.  Unlock has the
 * token derive the same secret from its private key and that point
 * (CKM_ECDH1_DERIVE).  systemd-cryptsetup 252 (Debian 12) cannot open such
 * a token: enrolment says so.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "secure_mem.h"
#include "token/pkcs11.h"
#include "token/token.h"
#include "util.h"
#include "vaultctl.h"

#define RSA_BYTES_MAX	2048			/* RSA-16384 */
#define SECRET_MAX	(RSA_BYTES_MAX / 2)
#define PASS_MAX	(((SECRET_MAX + 2) / 3) * 4 + 1)
#define RSA_BITS_MIN	1024

struct p11_fields {
	const char *uri;
	uint8_t key[RSA_BYTES_MAX];
	size_t key_len;
};

static int parse_token(json_object *tok, struct p11_fields *f, const char **why)
{
	json_object *v;
	long n;

	if (!json_object_object_get_ex(tok, "pkcs11-uri", &v) || !json_object_is_type(v, json_type_string) ||
	    strncmp(json_object_get_string(v), "pkcs11:", 7)) {
		*why = _("'pkcs11-uri' is missing or not a pkcs11: URI");
		return -EINVAL;
	}
	f->uri = json_object_get_string(v);
	if (!json_object_object_get_ex(tok, "pkcs11-key", &v) || !json_object_is_type(v, json_type_string)) {
		*why = _("'pkcs11-key' is missing");
		return -EINVAL;
	}
	n = b64_decode_strict(json_object_get_string(v), f->key, sizeof(f->key));
	if (n <= 0) {
		*why = _("'pkcs11-key' is not base64 of an RSA-encrypted key or an EC point");
		return -EINVAL;
	}
	f->key_len = (size_t)n;
	return 0;
}

/* pkcs11.h's codes to the token interface's, the reason recorded. */
static int token_error(struct token_ctx *ctx, int r)
{
	if (r == -ENOMEM)
		return r;
	token_why(ctx, "%s", pkcs11_last_error());
	if (r == -ENOENT || r == -EACCES)
		return r;
	return -EIO;
}

/*
 * The PIN for the token into PIN, from $PIN (as systemd-cryptsetup reads
 * it), a terminal or the password agents.  Enter alone skips the token.
 */
static int ask_pin(struct token_ctx *ctx, struct pkcs11_token *t, const char *volume,
		   bool *from_env, struct passphrase *pin)
{
	const struct vault_opts *o = ctx->o;
	uint64_t deadline = o->prompt_timeout_us ? pass_now_us() + o->prompt_timeout_us : 0;
	const char *state = pkcs11_pin_state(t);
	char prompt[512];
	int r;

	/* VOLUME: to unlock it; NULL: to read the token's certificate (enroll) */
	if (volume && *state)
		snprintf(prompt, sizeof(prompt),
			 _("Please enter PIN for security token '%s' to unlock %s (%s): "),
			 pkcs11_token_label(t), volume, state);
	else if (volume)
		snprintf(prompt, sizeof(prompt),
			 _("Please enter PIN for security token '%s' to unlock %s: "),
			 pkcs11_token_label(t), volume);
	else if (*state)
		snprintf(prompt, sizeof(prompt),
			 _("Please enter PIN for security token '%s' to read its certificate (%s): "),
			 pkcs11_token_label(t), state);
	else
		snprintf(prompt, sizeof(prompt),
			 _("Please enter PIN for security token '%s' to read its certificate: "),
			 pkcs11_token_label(t));
	r = token_read_pin(ctx, "PIN", prompt, false, deadline, from_env, pin);
	if (r == -ETIMEDOUT) {
		token_why(ctx, "no PIN entered within %llu s (timeout=)",
			  (unsigned long long)((o->prompt_timeout_us + 999999) / 1000000));
		r = -ENOENT;
	} else if (r == -ENODATA || r == -ECANCELED) {
		token_why(ctx, "no PIN entered");
		r = -ENOENT;
	}
	return r;
}

/*
 * Logs into T: with its PIN pad, or with a PIN asked again after a wrong one
 * up to the volume's tries (0: until the token locks it), as systemd-cryptsetup
 * does; a PIN from $PIN is tried once.
 */
static int login(struct token_ctx *ctx, struct pkcs11_token *t, const char *volume)
{
	struct passphrase pin = { 0 };
	int r;

	if (pkcs11_token_pinpad(t)) {
		fprintf(stderr, _("Please enter the PIN on the PIN pad of security token '%s'.\n"),
			pkcs11_token_label(t));
		r = pkcs11_token_login(t, NULL, 0);
		return r ? token_error(ctx, r) : 0;
	}
	for (unsigned int i = 0;; i++) {
		bool from_env = false;

		/* no prompt a locked PIN cannot answer */
		if (!strcmp(pkcs11_pin_state(t), "locked")) {
			token_why(ctx, "the PIN of token '%s' is locked (the card's PUK or SO PIN unblocks it)",
				  pkcs11_token_label(t));
			return -EACCES;
		}
		r = ask_pin(ctx, t, volume, &from_env, &pin);
		if (r)
			return r;
		r = pkcs11_token_login(t, pin.buf, pin.len);
		pass_free(&pin);
		if (!r)
			return 0;
		r = token_error(ctx, r);
		if (r != -EACCES || from_env || !strcmp(pkcs11_pin_state(t), "locked") ||
		    (ctx->o->tries && i + 1 >= ctx->o->tries))
			return r;
		log_err("%s", ctx->why);
	}
}

static int pkcs11_token_unlock(struct token_ctx *ctx, int id, json_object *tok,
			       struct passphrase *secret)
{
	static struct p11_fields f;	/* public data: not on the stack */
	const char *volume = ctx->o->volume ? ctx->o->volume : ctx->device;
	struct pkcs11_token *t = NULL;
	const char *why = "";
	uint8_t *sec = NULL;
	char *pass = NULL;
	size_t len = 0;
	bool is_ec = false;
	int r;

	(void)id;
	if (parse_token(tok, &f, &why)) {
		token_why(ctx, "%s", why);
		return -EINVAL;
	}
	r = pkcs11_token_open(f.uri, &t);
	if (r)
		return r == -EINVAL ? (token_why(ctx, "%s", pkcs11_last_error()), -EINVAL) :
				      token_error(ctx, r);
	sec = secure_alloc(RSA_BYTES_MAX);
	pass = secure_alloc(PASS_MAX);
	if (!sec || !pass) {
		r = -ENOMEM;
		goto out;
	}
	r = login(ctx, t, volume);
	if (r)
		goto out;
	r = pkcs11_decrypt(t, f.uri, f.key, f.key_len, sec, RSA_BYTES_MAX, &len, &is_ec);
	if (r) {
		r = token_error(ctx, r);
		goto out;
	}
	if (len == 0 || len > SECRET_MAX) {
		if (is_ec)
			token_why(ctx, "the token derived a key of %zu bytes, not a systemd-pkcs11 secret", len);
		else
			token_why(ctx, "the token decrypted a key of %zu bytes, not a systemd-pkcs11 secret", len);
		r = -EINVAL;
		goto out;
	}
	/* the keyslot passphrase is the base64 text of the secret */
	len = (size_t)EVP_EncodeBlock((unsigned char *)pass, sec, (int)len);
	r = pass_set(secret, pass, len);
out:
	pkcs11_token_close(t);
	secure_free(sec);
	secure_free(pass);
	secure_wipe(f.key, sizeof(f.key));
	return r;
}

static void pkcs11_token_describe(json_object *tok, FILE *out)
{
	json_object *v;

	/* cryptsetup luksDump's lines for this type (its systemd plugin) */
	if (json_object_object_get_ex(tok, "pkcs11-uri", &v) && json_object_is_type(v, json_type_string)) {
		fputs("\tpkcs11-uri: ", out);
		luks2_fputs_escaped(out, json_object_get_string(v));
		fputc('\n', out);
	} else {
		fputs("\tunusable: 'pkcs11-uri' is missing\n", out);	/* no-i18n: luksDump */
	}
}

static bool pkcs11_token_wanted(const struct vault_opts *o)
{
	return o->pkcs11_token_uri != NULL;
}

/* The public RSA or EC key of T's certificate, refusing what systemd cannot use. */
static int certificate_key(struct token_ctx *ctx, struct pkcs11_token *t, EVP_PKEY **ret)
{
	X509 *cert = NULL;
	EVP_PKEY *pkey;
	int r, bits;

	r = pkcs11_read_certificate(t, ctx->o->pkcs11_token_uri, &cert);
	if (r == -ENODATA && pkcs11_token_login_required(t)) {
		/* some cards show their certificates only after a login, as systemd logs in */
		r = login(ctx, t, NULL);
		if (!r)
			r = pkcs11_read_certificate(t, ctx->o->pkcs11_token_uri, &cert);
		else if (r == -ENOENT)
			r = -EACCES;	/* no PIN given: the enrolment cannot go on */
	}
	if (r)
		return r == -EACCES && ctx->why[0] ? r : token_error(ctx, r);
	pkey = X509_get_pubkey(cert);
	X509_free(cert);
	if (!pkey) {
		token_why(ctx, "cannot read the public key of the certificate on token '%s'",
			  pkcs11_token_label(t));
		return -EINVAL;
	}
	switch (EVP_PKEY_base_id(pkey)) {
	case EVP_PKEY_RSA:
		break;
	case EVP_PKEY_EC:
		*ret = pkey;
		return 0;
	default:
		token_why(ctx, "the certificate on token '%s' holds a %s key: the systemd-pkcs11 token needs RSA or EC",
			  pkcs11_token_label(t), OBJ_nid2sn(EVP_PKEY_base_id(pkey)));
		EVP_PKEY_free(pkey);
		return -EOPNOTSUPP;
	}
	bits = EVP_PKEY_bits(pkey);
	if (bits < RSA_BITS_MIN || bits / 8 > RSA_BYTES_MAX) {
		token_why(ctx, "the RSA key on token '%s' has %d bits: %d to %d supported",
			  pkcs11_token_label(t), bits, RSA_BITS_MIN, RSA_BYTES_MAX * 8);
		EVP_PKEY_free(pkey);
		return -EOPNOTSUPP;
	}
	*ret = pkey;
	return 0;
}

/* RSA PKCS#1 v1.5 encryption of IN to PKEY into OUT (RSA_BYTES_MAX). */
static int rsa_encrypt(EVP_PKEY *pkey, const uint8_t *in, size_t in_len, uint8_t *out,
		       size_t *out_len)
{
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(pkey, NULL);
	size_t len = RSA_BYTES_MAX;
	int ok;

	ok = pc && EVP_PKEY_encrypt_init(pc) > 0 &&
	     EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) > 0 &&
	     EVP_PKEY_encrypt(pc, out, &len, in, in_len) > 0;
	EVP_PKEY_CTX_free(pc);
	*out_len = len;
	return ok ? 0 : -EIO;
}

/*
 * The EC counterpart of rsa_encrypt(), as systemd 255 enrols: a new key pair
 * on the curve of PKEY (the certificate's); its ECDH secret with PKEY into
 * SEC (secure memory, SECRET_MAX), its public key as an uncompressed SEC1
 * point into OUT (RSA_BYTES_MAX).  The new private key is freed here: only
 * the token's key can derive the secret again.
 */
static int ec_wrap(EVP_PKEY *pkey, uint8_t *sec, size_t *sec_len, uint8_t *out, size_t *out_len,
		   char *curve, size_t curve_cap)
{
	EVP_PKEY *eph = NULL;
	EVP_PKEY_CTX *pc = NULL;
	unsigned char *point = NULL;
	size_t len = SECRET_MAX, plen = 0;
	int ok;

	ok = EVP_PKEY_get_group_name(pkey, curve, curve_cap, NULL) == 1 &&
	     (eph = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve)) != NULL &&
	     (pc = EVP_PKEY_CTX_new(eph, NULL)) != NULL &&
	     EVP_PKEY_derive_init(pc) == 1 && EVP_PKEY_derive_set_peer(pc, pkey) == 1 &&
	     EVP_PKEY_derive(pc, sec, &len) == 1 && len > 0 &&
	     /* OpenSSL 3 encodes EC points uncompressed unless told otherwise */
	     (plen = EVP_PKEY_get1_encoded_public_key(eph, &point)) > 0 && plen <= RSA_BYTES_MAX;
	if (ok) {
		memcpy(out, point, plen);
		*out_len = plen;
		*sec_len = len;
	} else {
		secure_wipe(sec, SECRET_MAX);
	}
	OPENSSL_free(point);
	EVP_PKEY_CTX_free(pc);
	EVP_PKEY_free(eph);	/* OpenSSL wipes a private key it frees */
	return ok ? 0 : -EIO;
}

static json_object *make_token(const char *uri, const uint8_t *key, size_t key_len)
{
	char *b64 = malloc(((key_len + 2) / 3) * 4 + 1);
	json_object *tok = json_object_new_object();

	if (b64)
		EVP_EncodeBlock((unsigned char *)b64, key, (int)key_len);
	/* systemd's order: type, keyslots (filled by token_enroll_keyslot), uri, key */
	if (!b64 || !tok ||
	    json_object_object_add(tok, "type", json_object_new_string(token_pkcs11.type)) ||
	    json_object_object_add(tok, "keyslots", json_object_new_array()) ||
	    json_object_object_add(tok, "pkcs11-uri", json_object_new_string(uri)) ||
	    json_object_object_add(tok, "pkcs11-key", json_object_new_string(b64))) {
		json_object_put(tok);
		tok = NULL;
	}
	free(b64);
	return tok;
}

static int pkcs11_token_enroll(struct token_ctx *ctx, const void *vk, size_t vk_len)
{
	const char *want = ctx->o->pkcs11_token_uri;
	static uint8_t enc[RSA_BYTES_MAX];
	struct pkcs11_token *t = NULL;
	EVP_PKEY *pkey = NULL;
	size_t sec_len = 0, enc_len = 0, len;
	char curve[64] = "";
	bool is_ec;
	uint8_t *sec = NULL;
	char *pass = NULL, *uri = NULL;
	json_object *tok;
	int r;

	r = pkcs11_token_open(want, &t);
	if (r) {
		token_why(ctx, "%s", pkcs11_last_error());
		return r == -ENOMEM ? r : -EINVAL;
	}
	r = certificate_key(ctx, t, &pkey);
	if (r)
		goto out;
	is_ec = EVP_PKEY_base_id(pkey) == EVP_PKEY_EC;
	sec = secure_alloc(SECRET_MAX);
	pass = secure_alloc(PASS_MAX);
	if (!sec || !pass) {
		token_why(ctx, "cannot allocate locked memory");
		r = -ENOMEM;
		goto out;
	}
	if (is_ec) {
		r = ec_wrap(pkey, sec, &sec_len, enc, &enc_len, curve, sizeof(curve));
	} else {
		/* systemd 252: a secret of half the modulus, room left for the padding */
		sec_len = (size_t)EVP_PKEY_bits(pkey) / 8 / 2;
		r = RAND_priv_bytes(sec, (int)sec_len) != 1 ? -EIO :
			rsa_encrypt(pkey, sec, sec_len, enc, &enc_len);
	}
	if (r) {
		if (is_ec)
			token_why(ctx, "cannot derive (ECDH) a key to the certificate of token '%s' (OpenSSL)",
				  pkcs11_token_label(t));
		else
			token_why(ctx, "cannot encrypt a key to the certificate of token '%s' (OpenSSL)",
				  pkcs11_token_label(t));
		r = -EIO;
		goto out;
	}
	len = (size_t)EVP_EncodeBlock((unsigned char *)pass, sec, (int)sec_len);
	uri = !strcmp(want, "auto") ? pkcs11_token_uri(t) : pkcs11_uri_for_key(want);
	tok = uri ? make_token(uri, enc, enc_len) : NULL;
	if (!tok) {
		token_why(ctx, "out of memory");
		r = -ENOMEM;
		goto out;
	}
	r = token_enroll_keyslot(ctx, vk, vk_len, pass, len, tok);
	if (r >= 0 && is_ec) {
		fprintf(stderr, _("New PKCS#11 token enrolled as key slot %d (token '%s', EC %s).\n"), r,
			pkcs11_token_label(t), curve);
		/* the one thing a Debian 12 user must know before relying on it */
		fprintf(stderr, _("Note: this token's key is EC: systemd-cryptsetup 252 (Debian 12) cannot unlock with it (systemd 255 or later can; vaultctl, its initramfs hooks and generator can).\n"));
	} else if (r >= 0) {
		fprintf(stderr, _("New PKCS#11 token enrolled as key slot %d (token '%s', RSA-%d).\n"), r,
			pkcs11_token_label(t), EVP_PKEY_bits(pkey));
	}
out:
	EVP_PKEY_free(pkey);
	pkcs11_token_close(t);
	free(uri);
	secure_free(sec);
	secure_free(pass);
	return r;
}

const struct token_method token_pkcs11 = {
	.type = "systemd-pkcs11",
	.unlock = pkcs11_token_unlock,
	.describe = pkcs11_token_describe,
	.wanted = pkcs11_token_wanted,
	.enroll = pkcs11_token_enroll,
};
