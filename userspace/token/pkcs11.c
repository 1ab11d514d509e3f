// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: PKCS#11 plumbing (token/pkcs11.h) on libp11-kit: the modules
 * come from p11-kit's registry (the .module files in /usr/share/p11-kit/modules/, which
 * opensc and softhsm2 install), so vaultctl needs no module path; tokens
 * and objects are chosen with p11-kit's URI parser and matchers.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/p11-kit.h>
#include <p11-kit/uri.h>

#include "i18n.h"
#include "secure_mem.h"
#include "token/ec-point.h"
#include "token/pkcs11.h"

#define FOUND_MAX	8	/* tokens named in an "auto" error */

struct pkcs11_token {
	CK_FUNCTION_LIST **modules;
	CK_FUNCTION_LIST *m;
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE session;
	bool have_session;
	CK_TOKEN_INFO info;
	char label[sizeof(((CK_TOKEN_INFO *)0)->label) + 1];
};

static char last_error[512];

const char *pkcs11_last_error(void)
{
	return last_error;
}

static int fail(int r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), gettext(fmt), ap);
	va_end(ap);
	return r;
}

/* PKCS#11 strings are blank-padded, not terminated; header data is untrusted. */
static void padded(const unsigned char *s, size_t n, char *out)
{
	size_t i;

	while (n && s[n - 1] == ' ')
		n--;
	for (i = 0; i < n; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
	out[i] = '\0';
}

static const char *rv_name(CK_RV rv)
{
	static char buf[32];

	switch (rv) {
	case CKR_PIN_INCORRECT:		return _("wrong PIN");
	case CKR_PIN_LOCKED:		return _("the PIN is locked");
	case CKR_PIN_LEN_RANGE:		return _("wrong PIN (length out of range)");
	case CKR_PIN_EXPIRED:		return _("the PIN has expired");
	case CKR_DEVICE_REMOVED:	return _("the token was removed");
	case CKR_TOKEN_NOT_PRESENT:	return _("no token present");
	case CKR_USER_NOT_LOGGED_IN:	return _("not logged in");
	case CKR_ENCRYPTED_DATA_INVALID:
	case CKR_ENCRYPTED_DATA_LEN_RANGE:	return _("the encrypted key does not fit this private key");
	case CKR_KEY_TYPE_INCONSISTENT:	return _("the key does not fit the mechanism");
	case CKR_MECHANISM_INVALID:	return _("the token does not offer the mechanism (RSA PKCS#1 decryption or ECDH)");
	case CKR_KEY_FUNCTION_NOT_PERMITTED:	return _("the key may not be used so (CKA_DECRYPT or CKA_DERIVE is false)");
	case CKR_DOMAIN_PARAMS_INVALID:
	case CKR_MECHANISM_PARAM_INVALID:	return _("the saved EC point does not fit the token's key");
	}
	snprintf(buf, sizeof(buf), "PKCS#11 error 0x%lx", (unsigned long)rv);
	return buf;
}

static P11KitUri *parse_uri(const char *uri)
{
	P11KitUri *u = p11_kit_uri_new();
	int r;

	if (!u) {
		fail(-ENOMEM, "out of memory");
		return NULL;
	}
	if (!uri || !strcmp(uri, "auto"))
		uri = "pkcs11:";
	r = p11_kit_uri_parse(uri, P11_KIT_URI_FOR_ANY, u);
	if (r != P11_KIT_URI_OK) {
		fail(-EINVAL, "invalid PKCS#11 URI '%s': %s", uri, p11_kit_uri_message(r));
		p11_kit_uri_free(u);
		return NULL;
	}
	return u;
}

/* Finds up to CAP objects of class CLASS that the URI's object attributes select. */
static int find_objects(struct pkcs11_token *t, P11KitUri *u, CK_OBJECT_CLASS class,
			CK_OBJECT_HANDLE *found, CK_ULONG cap, CK_ULONG *n)
{
	CK_ATTRIBUTE tmpl[16];
	CK_ULONG n_uri = 0, nt = 0, i;
	CK_ATTRIBUTE *a = u ? p11_kit_uri_get_attributes(u, &n_uri) : NULL;
	CK_RV rv;

	/* The URI's type= is replaced: systemd stores token URIs, tools print cert URIs. */
	for (i = 0; i < n_uri && nt < 13; i++)
		if (a[i].type != CKA_CLASS)
			tmpl[nt++] = a[i];
	tmpl[nt++] = (CK_ATTRIBUTE){ CKA_CLASS, &class, sizeof(class) };
	rv = t->m->C_FindObjectsInit(t->session, tmpl, nt);
	if (rv != CKR_OK)
		return fail(-EIO, "cannot search token '%s': %s", t->label, rv_name(rv));
	rv = t->m->C_FindObjects(t->session, found, cap, n);
	t->m->C_FindObjectsFinal(t->session);
	if (rv != CKR_OK)
		return fail(-EIO, "cannot search token '%s': %s", t->label, rv_name(rv));
	return 0;
}

static bool has_certificate(struct pkcs11_token *t)
{
	CK_OBJECT_HANDLE h;
	CK_ULONG n = 0;

	return !find_objects(t, NULL, CKO_CERTIFICATE, &h, 1, &n) && n > 0;
}

/* Opens a session on T's slot (read-only: nothing is written to the token). */
static int open_session(struct pkcs11_token *t)
{
	CK_RV rv = t->m->C_OpenSession(t->slot, CKF_SERIAL_SESSION, NULL, NULL, &t->session);

	if (rv != CKR_OK)
		return fail(-EIO, "cannot open a session with token '%s': %s", t->label,
			    rv_name(rv));
	t->have_session = true;
	return 0;
}

static void close_session(struct pkcs11_token *t)
{
	if (t->have_session)
		t->m->C_CloseSession(t->session);
	t->have_session = false;
}

/* Appends "'LABEL'" to the list of tokens found, for messages. */
static void note_found(char *list, size_t len, unsigned int *n, const char *label, const char *why)
{
	size_t used = strlen(list);

	if (++*n > FOUND_MAX)
		return;
	snprintf(list + used, len - used, "%s'%s'%s", used ? ", " : "", label, why);
}

int pkcs11_token_open(const char *uri, struct pkcs11_token **ret)
{
	bool is_auto = !uri || !strcmp(uri, "auto");
	struct pkcs11_token *t = calloc(1, sizeof(*t)), *best = NULL;
	char suitable[512] = "", others[512] = "";
	unsigned int n_suitable = 0, n_others = 0;
	P11KitUri *u;
	int r = 0;

	*ret = NULL;
	if (!t)
		return fail(-ENOMEM, "out of memory");
	u = parse_uri(uri);
	if (!u) {
		free(t);
		return -EINVAL;
	}
	t->modules = p11_kit_modules_load_and_initialize(0);
	if (!t->modules) {
		r = fail(-ENOENT, "no PKCS#11 module could be loaded: %s",
			 p11_kit_message() ? p11_kit_message() : _("p11-kit has none registered"));
		goto out;
	}
	for (CK_FUNCTION_LIST **mp = t->modules; *mp && !(best && !is_auto); mp++) {
		CK_FUNCTION_LIST *m = *mp;
		CK_SLOT_ID slots[64];
		CK_ULONG n = 64;
		CK_INFO minfo;

		if (m->C_GetInfo(&minfo) != CKR_OK || !p11_kit_uri_match_module_info(u, &minfo))
			continue;
		if (m->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
			continue;
		for (CK_ULONG i = 0; i < n && !(best && !is_auto); i++) {
			struct pkcs11_token cand = { .modules = NULL, .m = m, .slot = slots[i] };
			CK_SLOT_INFO sinfo;

			if (m->C_GetSlotInfo(slots[i], &sinfo) != CKR_OK ||
			    !p11_kit_uri_match_slot_info(u, &sinfo) ||
			    m->C_GetTokenInfo(slots[i], &cand.info) != CKR_OK ||
			    !p11_kit_uri_match_token_info(u, &cand.info))
				continue;
			padded(cand.info.label, sizeof(cand.info.label), cand.label);
			if (is_auto) {
				/*
				 * A token for unlocking needs a PIN and holds a
				 * certificate: this leaves out p11-kit's trust
				 * store (CA certificates, no login), as systemd
				 * 252's token flag check does.
				 */
				if (!(cand.info.flags & CKF_LOGIN_REQUIRED)) {
					note_found(others, sizeof(others), &n_others, cand.label,
						   " (no PIN: not a security token)");
					continue;
				}
				if (open_session(&cand))
					continue;
				if (!has_certificate(&cand)) {
					close_session(&cand);
					note_found(others, sizeof(others), &n_others, cand.label,
						   " (no X.509 certificate)");
					continue;
				}
				close_session(&cand);
				note_found(suitable, sizeof(suitable), &n_suitable, cand.label, "");
			}
			if (!best) {
				t->m = cand.m;
				t->slot = cand.slot;
				t->info = cand.info;
				memcpy(t->label, cand.label, sizeof(t->label));
				best = t;
			}
		}
	}
	if (!best) {
		if (is_auto)
			if (n_others)
				r = fail(-ENOENT, "no PKCS#11 token with an X.509 certificate found; present: %s",
					 others);
			else
				r = fail(-ENOENT, "no PKCS#11 token with an X.509 certificate found (is it plugged in?)");
		else
			r = fail(-ENOENT, "no PKCS#11 token matching '%s' is present", uri);
		goto out;
	}
	if (is_auto && n_suitable > 1) {
		if (n_suitable > FOUND_MAX)
			r = fail(-ENOTUNIQ, "%u PKCS#11 tokens with a certificate found (%s and more): choose one with --pkcs11-token-uri=pkcs11:token=LABEL",
				 n_suitable, suitable);
		else
			r = fail(-ENOTUNIQ, "%u PKCS#11 tokens with a certificate found (%s): choose one with --pkcs11-token-uri=pkcs11:token=LABEL",
				 n_suitable, suitable);
		goto out;
	}
	r = open_session(t);
out:
	p11_kit_uri_free(u);
	if (r) {
		pkcs11_token_close(t);
		return r;
	}
	*ret = t;
	return 0;
}

void pkcs11_token_close(struct pkcs11_token *t)
{
	if (!t)
		return;
	if (t->have_session) {
		t->m->C_Logout(t->session);
		close_session(t);
	}
	if (t->modules)
		p11_kit_modules_finalize_and_release(t->modules);
	free(t);
}

const char *pkcs11_token_label(const struct pkcs11_token *t)
{
	return t->label;
}

char *pkcs11_token_uri(const struct pkcs11_token *t)
{
	P11KitUri *u = p11_kit_uri_new();
	char *s = NULL;

	if (!u)
		return NULL;
	*p11_kit_uri_get_token_info(u) = t->info;
	if (p11_kit_uri_format(u, P11_KIT_URI_FOR_TOKEN, &s) != P11_KIT_URI_OK)
		s = NULL;
	p11_kit_uri_free(u);
	return s;
}

bool pkcs11_token_login_required(const struct pkcs11_token *t)
{
	return t->info.flags & CKF_LOGIN_REQUIRED;
}

bool pkcs11_token_pinpad(const struct pkcs11_token *t)
{
	return t->info.flags & CKF_PROTECTED_AUTHENTICATION_PATH;
}

const char *pkcs11_pin_state(struct pkcs11_token *t)
{
	/* the flags change with each failed login: read them again */
	t->m->C_GetTokenInfo(t->slot, &t->info);
	if (t->info.flags & CKF_USER_PIN_LOCKED)
		return "locked";
	if (t->info.flags & CKF_USER_PIN_FINAL_TRY)
		return _("one try left");
	/* PKCS#11: COUNT_LOW means a wrong PIN since the last good login */
	if (t->info.flags & CKF_USER_PIN_COUNT_LOW)
		return _("a wrong PIN was entered before");
	return "";
}

int pkcs11_token_login(struct pkcs11_token *t, const char *pin, size_t pin_len)
{
	CK_RV rv = t->m->C_Login(t->session, CKU_USER, (CK_UTF8CHAR *)pin, pin ? pin_len : 0);
	const char *state;

	if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN)
		return 0;
	if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LEN_RANGE || rv == CKR_PIN_LOCKED ||
	    rv == CKR_PIN_EXPIRED) {
		/* after a wrong PIN "a wrong PIN was entered before" says nothing new */
		state = pkcs11_pin_state(t);
		/* pkcs11_pin_state() says it in the locale's language */
		if (rv == CKR_PIN_LOCKED || !strcmp(state, _("a wrong PIN was entered before")))
			state = "";
		if (*state)
			return fail(-EACCES, "%s for token '%s'; the token says: %s", rv_name(rv),
				    t->label, state);
		return fail(-EACCES, "%s for token '%s'", rv_name(rv), t->label);
	}
	return fail(-EIO, "cannot log into token '%s': %s", t->label, rv_name(rv));
}

int pkcs11_read_certificate(struct pkcs11_token *t, const char *uri, X509 **ret)
{
	CK_OBJECT_HANDLE h[2];
	CK_ULONG n = 0;
	CK_ATTRIBUTE value = { CKA_VALUE, NULL, 0 };
	const unsigned char *p;
	unsigned char *der = NULL;
	P11KitUri *u = parse_uri(uri);
	CK_RV rv;
	int r;

	*ret = NULL;
	if (!u)
		return -EINVAL;
	r = find_objects(t, u, CKO_CERTIFICATE, h, 2, &n);
	p11_kit_uri_free(u);
	if (r)
		return r;
	if (n == 0)
		return fail(-ENODATA, "token '%s' holds no X.509 certificate matching '%s'", t->label,
			    uri ? uri : "auto");
	if (n > 1)
		return fail(-EINVAL, "token '%s' holds several certificates: choose one with id= or object= in the URI (p11tool --list-all-certs)",
			    t->label);
	rv = t->m->C_GetAttributeValue(t->session, h[0], &value, 1);
	if (rv == CKR_OK && value.ulValueLen != (CK_ULONG)-1 && value.ulValueLen > 0 &&
	    value.ulValueLen < (1U << 20)) {
		der = malloc(value.ulValueLen);
		value.pValue = der;
		rv = der ? t->m->C_GetAttributeValue(t->session, h[0], &value, 1) : CKR_HOST_MEMORY;
	} else if (rv == CKR_OK) {
		rv = CKR_ATTRIBUTE_VALUE_INVALID;
	}
	if (rv != CKR_OK) {
		free(der);
		return fail(-EIO, "cannot read the certificate on token '%s': %s", t->label,
			    rv_name(rv));
	}
	p = der;
	*ret = d2i_X509(NULL, &p, (long)value.ulValueLen);
	free(der);
	if (!*ret)
		return fail(-EINVAL, "the certificate on token '%s' is not valid X.509 (DER)",
			    t->label);
	return 0;
}

/*
 * The one private key the URI selects that can unwrap a secret: an RSA key
 * allowed to decrypt or an EC key allowed to derive (systemd 255's choice:
 * the URI may name just the token, so keys for signing only are left out).
 */
static int find_unwrap_key(struct pkcs11_token *t, const char *uri, CK_OBJECT_HANDLE *ret,
			   CK_KEY_TYPE *ret_type)
{
	CK_OBJECT_HANDLE h[16];
	CK_ULONG n = 0, usable = 0;
	P11KitUri *u = parse_uri(uri);
	int r;

	if (!u)
		return -EINVAL;
	r = find_objects(t, u, CKO_PRIVATE_KEY, h, 16, &n);
	p11_kit_uri_free(u);
	if (r)
		return r;
	for (CK_ULONG i = 0; i < n; i++) {
		CK_KEY_TYPE type = (CK_KEY_TYPE)-1;
		CK_BBOOL decrypt = CK_FALSE, derive = CK_FALSE;
		CK_ATTRIBUTE a[] = {
			{ CKA_KEY_TYPE, &type, sizeof(type) },
			{ CKA_DECRYPT, &decrypt, sizeof(decrypt) },
			{ CKA_DERIVE, &derive, sizeof(derive) },
		};
		CK_RV rv = t->m->C_GetAttributeValue(t->session, h[i], a, 3);

		/* an attribute the token lacks reads as CK_UNAVAILABLE_INFORMATION */
		if (rv != CKR_OK && rv != CKR_ATTRIBUTE_TYPE_INVALID &&
		    rv != CKR_ATTRIBUTE_SENSITIVE)
			continue;
		if (a[0].ulValueLen != sizeof(type))
			continue;
		if ((type == CKK_RSA && a[1].ulValueLen == sizeof(decrypt) && decrypt == CK_TRUE) ||
		    (type == CKK_EC && a[2].ulValueLen == sizeof(derive) && derive == CK_TRUE)) {
			if (++usable > 1)
				return fail(-EINVAL, "the URI '%s' matches several private keys on token '%s'",
					    uri, t->label);
			*ret = h[i];
			*ret_type = type;
		}
	}
	if (!usable)
		return fail(-EINVAL, "token '%s' holds no private key for decryption (RSA) or derivation (EC, CKA_DERIVE) matching '%s'",
			    t->label, uri);
	return 0;
}

static int rsa_decrypt(struct pkcs11_token *t, CK_OBJECT_HANDLE key, const uint8_t *in,
		       size_t in_len, uint8_t *out, size_t cap, size_t *out_len)
{
	CK_MECHANISM mech = { CKM_RSA_PKCS, NULL, 0 };
	CK_ULONG len = cap;
	CK_RV rv;

	rv = t->m->C_DecryptInit(t->session, &mech, key);
	if (rv == CKR_OK)
		rv = t->m->C_Decrypt(t->session, (CK_BYTE *)in, in_len, out, &len);
	if (rv != CKR_OK) {
		secure_wipe(out, cap);
		return fail(rv == CKR_ENCRYPTED_DATA_INVALID || rv == CKR_ENCRYPTED_DATA_LEN_RANGE ?
			    -EINVAL : -EIO, "token '%s' cannot decrypt the key: %s", t->label,
			    rv_name(rv));
	}
	*out_len = len;
	return 0;
}

/*
 * The saved point as the token's ECDH takes it: uncompressed, unless the
 * mechanism says it takes compressed points only (CKF_EC_COMPRESS without
 * CKF_EC_UNCOMPRESS; neither flag: uncompressed), as systemd 255 decides;
 * then compressed on the curve of KEY's CKA_EC_PARAMS into BUF (CAP).
 */
static int ecdh_point(struct pkcs11_token *t, CK_OBJECT_HANDLE key, const uint8_t **point,
		      size_t *point_len, uint8_t *buf, size_t cap)
{
	uint8_t params[256];
	CK_ATTRIBUTE a = { CKA_EC_PARAMS, params, sizeof(params) };
	CK_MECHANISM_INFO mi;
	CK_RV rv;

	if (t->m->C_GetMechanismInfo(t->slot, CKM_ECDH1_DERIVE, &mi) != CKR_OK ||
	    (mi.flags & CKF_EC_UNCOMPRESS) || !(mi.flags & CKF_EC_COMPRESS))
		return 0;
	rv = t->m->C_GetAttributeValue(t->session, key, &a, 1);
	if (rv != CKR_OK)
		return fail(-EIO, "token '%s' takes compressed EC points only and its key's curve (CKA_EC_PARAMS) cannot be read: %s",
			    t->label, rv_name(rv));
	if (ec_point_compress(params, a.ulValueLen, *point, *point_len, buf, cap, point_len))
		return fail(-EINVAL, "token '%s' takes compressed EC points only and the saved point is not one of its key's curve",
			    t->label);
	*point = buf;
	return 0;
}

/*
 * ECDH on the token between its private key and the public point saved at
 * enrolment, as systemd 255 does it: CKM_ECDH1_DERIVE with no KDF (the
 * secret is the shared point's X coordinate), the point given as the raw
 * SEC1 octets, the result a session object (not on the token) that is
 * neither sensitive nor unextractable, read with CKA_VALUE and destroyed.
 */
static int ecdh_derive(struct pkcs11_token *t, CK_OBJECT_HANDLE key, const uint8_t *point,
		       size_t point_len, uint8_t *out, size_t cap, size_t *out_len)
{
	static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	static CK_OBJECT_CLASS class = CKO_SECRET_KEY;
	static CK_KEY_TYPE type = CKK_GENERIC_SECRET;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_TOKEN, &no, sizeof(no) },
		{ CKA_CLASS, &class, sizeof(class) },
		{ CKA_KEY_TYPE, &type, sizeof(type) },
		{ CKA_SENSITIVE, &no, sizeof(no) },
		{ CKA_EXTRACTABLE, &yes, sizeof(yes) },
	};
	CK_ECDH1_DERIVE_PARAMS params = {
		.kdf = CKD_NULL,
		.pPublicData = (CK_BYTE *)point,
		.ulPublicDataLen = point_len,
	};
	CK_MECHANISM mech = { CKM_ECDH1_DERIVE, &params, sizeof(params) };
	CK_ATTRIBUTE value = { CKA_VALUE, NULL, 0 };
	CK_OBJECT_HANDLE secret;
	uint8_t compressed[133];	/* P-521's, the largest: 1 + 66 */
	size_t len = point_len;
	CK_RV rv, rv2;
	int r;

	r = ecdh_point(t, key, &point, &len, compressed, sizeof(compressed));
	if (r)
		return r;
	params.pPublicData = (CK_BYTE *)point;
	params.ulPublicDataLen = len;
	rv = t->m->C_DeriveKey(t->session, &mech, key, tmpl, 5, &secret);
	if (rv != CKR_OK)
		return fail(rv == CKR_DOMAIN_PARAMS_INVALID || rv == CKR_MECHANISM_PARAM_INVALID ?
			    -EINVAL : -EIO, "token '%s' cannot derive the key (ECDH): %s", t->label,
			    rv_name(rv));
	rv = t->m->C_GetAttributeValue(t->session, secret, &value, 1);
	if (rv == CKR_OK && (value.ulValueLen == (CK_ULONG)-1 || value.ulValueLen == 0 ||
			     value.ulValueLen > cap))
		rv = CKR_ATTRIBUTE_VALUE_INVALID;
	if (rv == CKR_OK) {
		value.pValue = out;
		rv = t->m->C_GetAttributeValue(t->session, secret, &value, 1);
	}
	/* the token's copy goes too (a session object would live until logout) */
	rv2 = t->m->C_DestroyObject(t->session, secret);
	if (rv != CKR_OK || rv2 != CKR_OK) {
		secure_wipe(out, cap);
		return fail(-EIO, "token '%s' derived the key but %s: %s", t->label,
			    rv != CKR_OK ? _("cannot give it") : _("cannot destroy its copy"),
			    rv_name(rv != CKR_OK ? rv : rv2));
	}
	*out_len = value.ulValueLen;
	return 0;
}

int pkcs11_decrypt(struct pkcs11_token *t, const char *uri, const uint8_t *in, size_t in_len,
		   uint8_t *out, size_t cap, size_t *out_len, bool *is_ec)
{
	CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
	CK_KEY_TYPE type = CKK_RSA;
	int r;

	r = find_unwrap_key(t, uri, &key, &type);
	if (r)
		return r;
	*is_ec = type == CKK_EC;
	if (type == CKK_EC)
		return ecdh_derive(t, key, in, in_len, out, cap, out_len);
	return rsa_decrypt(t, key, in, in_len, out, cap, out_len);
}

char *pkcs11_uri_for_key(const char *uri)
{
	CK_OBJECT_CLASS class = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE a = { CKA_CLASS, &class, sizeof(class) };
	P11KitUri *u = parse_uri(uri);
	char *s = NULL;

	if (!u)
		return NULL;
	if (!p11_kit_uri_get_attribute(u, CKA_CLASS)) {
		s = strdup(uri);
	} else if (p11_kit_uri_set_attribute(u, &a) != P11_KIT_URI_OK ||
		   p11_kit_uri_format(u, P11_KIT_URI_FOR_ANY, &s) != P11_KIT_URI_OK) {
		s = NULL;
	}
	p11_kit_uri_free(u);
	return s;
}
