// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: the clevis token's JWE, between the JSON form clevis luks bind
 * stores and the compact form clevis decrypt reads (see clevis.h), and the
 * protected header decoded for dump and messages.  No cryptography here:
 * the fields are joined or split at the dots.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "i18n.h"
#include "token/clevis.h"

/* The compact serialisation's order (RFC 7516 section 7.1). */
static const char *const parts[] = { "protected", "encrypted_key", "iv", "ciphertext", "tag" };
#define NR_PARTS (sizeof(parts) / sizeof(parts[0]))

static bool b64url(const char *s)
{
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
	       strlen(s);
}

char *clevis_jwe_compact(json_object *jwe, const char **why)
{
	const char *val[NR_PARTS];
	size_t i, len = 0;
	char *out;

	if (!json_object_is_type(jwe, json_type_object)) {
		*why = _("its \"jwe\" is not a JSON object");
		return NULL;
	}
	/* per-recipient headers and AAD have no place in the compact form */
	if (json_object_object_get_ex(jwe, "header", NULL) ||
	    json_object_object_get_ex(jwe, "unprotected", NULL) ||
	    json_object_object_get_ex(jwe, "aad", NULL) ||
	    json_object_object_get_ex(jwe, "recipients", NULL)) {
		*why = _("its JWE has members the compact form cannot carry (\"header\", \"unprotected\", \"aad\" or \"recipients\")");
		return NULL;
	}
	for (i = 0; i < NR_PARTS; i++) {
		json_object *v = NULL;

		if (!json_object_object_get_ex(jwe, parts[i], &v)) {
			/* jose writes "" for direct key agreement; accept it missing */
			if (!strcmp(parts[i], "encrypted_key")) {
				val[i] = "";
				continue;
			}
			*why = _("its JWE lacks one of protected, iv, ciphertext, tag");
			return NULL;
		}
		if (!json_object_is_type(v, json_type_string) ||
		    !b64url(json_object_get_string(v))) {
			*why = _("a JWE member is not a base64url string");
			return NULL;
		}
		val[i] = json_object_get_string(v);
		len += strlen(val[i]) + 1;
	}
	if (!*val[0] || !*val[3]) {
		*why = _("its JWE has an empty protected header or ciphertext");
		return NULL;
	}
	out = malloc(len);
	if (!out) {
		*why = _("out of memory");
		return NULL;
	}
	snprintf(out, len, "%s.%s.%s.%s.%s", val[0], val[1], val[2], val[3], val[4]);
	return out;
}

json_object *clevis_jwe_flatten(const char *text, const char **why)
{
	/* jose's (and so clevis luks bind's) member order: sorted */
	static const int sorted[NR_PARTS] = { 3, 1, 2, 0, 4 };
	size_t len = strlen(text), start[NR_PARTS], end[NR_PARTS], i, k = 0;
	json_object *jwe;
	char *copy;

	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	/* five parts: four dots, the rest base64url */
	start[0] = 0;
	for (i = 0; i < len; i++) {
		if (text[i] != '.')
			continue;
		if (k + 1 >= NR_PARTS)
			break;
		end[k++] = i;
		start[k] = i + 1;
	}
	copy = strndup(text, len);
	if (!copy) {
		*why = _("out of memory");
		return NULL;
	}
	end[k] = len;
	if (k + 1 != NR_PARTS || i != len) {
		*why = _("clevis encrypt printed no compact JWE (five base64url parts)");
		free(copy);
		return NULL;
	}
	for (i = 0; i < NR_PARTS; i++) {
		copy[end[i]] = '\0';
		if (!b64url(copy + start[i])) {
			*why = _("clevis encrypt printed no compact JWE (five base64url parts)");
			free(copy);
			return NULL;
		}
	}
	jwe = json_object_new_object();
	for (i = 0; jwe && i < NR_PARTS; i++) {
		json_object *s = json_object_new_string(copy + start[sorted[i]]);

		if (!s || json_object_object_add(jwe, parts[sorted[i]], s)) {
			json_object_put(s);
			json_object_put(jwe);
			jwe = NULL;
		}
	}
	free(copy);
	if (!jwe)
		*why = _("out of memory");
	return jwe;
}

/* Decodes base64url S (LEN characters) into a NUL-terminated malloc'ed string. */
static char *b64url_decode(const char *s, size_t len)
{
	size_t padded = (len + 3) / 4 * 4, i;
	char *in = malloc(padded + 1);
	unsigned char *out = malloc(padded / 4 * 3 + 1);
	int n;

	if (!in || !out || !len)
		goto bad;
	for (i = 0; i < len; i++)
		in[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	for (; i < padded; i++)
		in[i] = '=';
	in[padded] = '\0';
	n = EVP_DecodeBlock(out, (unsigned char *)in, (int)padded);
	if (n < 0)
		goto bad;
	/* EVP_DecodeBlock counts the padding's zero bytes */
	n -= (int)(padded - len);
	out[n] = '\0';
	free(in);
	return (char *)out;
bad:
	free(in);
	free(out);
	return NULL;
}

json_object *clevis_jwe_header_compact(const char *text)
{
	char *dec = b64url_decode(text, strcspn(text, "."));
	json_object *hdr;

	if (!dec)
		return NULL;
	hdr = json_tokener_parse(dec);
	free(dec);
	if (hdr && !json_object_is_type(hdr, json_type_object)) {
		json_object_put(hdr);
		hdr = NULL;
	}
	return hdr;
}

json_object *clevis_jwe_header(json_object *jwe)
{
	json_object *p = NULL;

	if (!json_object_object_get_ex(jwe, "protected", &p) ||
	    !json_object_is_type(p, json_type_string))
		return NULL;
	return clevis_jwe_header_compact(json_object_get_string(p));
}

/* Appends printable S to BUF (header text is untrusted). */
static void put(char *buf, size_t len, const char *s)
{
	size_t n = strlen(buf);

	for (; s && *s && n + 1 < len; s++)
		buf[n++] = *s >= 0x20 && *s < 0x7f ? *s : '?';
	buf[n] = '\0';
}

static bool describe(json_object *hdr, char *buf, size_t len, int depth)
{
	json_object *clevis = NULL, *pin = NULL, *cfg = NULL, *v = NULL;
	const char *name;
	bool tang = false;
	char num[32];
	size_t i;

	if (!json_object_object_get_ex(hdr, "clevis", &clevis) ||
	    !json_object_object_get_ex(clevis, "pin", &pin) ||
	    !json_object_is_type(pin, json_type_string)) {
		put(buf, len, "?");
		return false;
	}
	name = json_object_get_string(pin);
	put(buf, len, name);
	json_object_object_get_ex(clevis, name, &cfg);
	if (!strcmp(name, "tang")) {
		if (json_object_object_get_ex(cfg, "url", &v) &&
		    json_object_is_type(v, json_type_string)) {
			put(buf, len, " (");
			put(buf, len, json_object_get_string(v));
			put(buf, len, ")");
		}
		return true;
	}
	if (strcmp(name, "sss") || depth > 3)
		return false;
	/* sss: threshold t of the sub-JWEs in "jwe", each with its own header */
	if (json_object_object_get_ex(cfg, "t", &v)) {
		snprintf(num, sizeof(num), " %d of", json_object_get_int(v));
		put(buf, len, num);
	}
	put(buf, len, " [");
	if (json_object_object_get_ex(cfg, "jwe", &v) && json_object_is_type(v, json_type_array)) {
		for (i = 0; i < json_object_array_length(v); i++) {
			json_object *sub = json_object_array_get_idx(v, i), *h;

			if (i)
				put(buf, len, ", ");
			h = json_object_is_type(sub, json_type_string) ?
			    clevis_jwe_header_compact(json_object_get_string(sub)) : NULL;
			if (h)
				tang |= describe(h, buf, len, depth + 1);
			else
				put(buf, len, "?");
			json_object_put(h);
		}
	}
	put(buf, len, "]");
	return tang;
}

bool clevis_policy_describe(json_object *hdr, char *buf, size_t len)
{
	buf[0] = '\0';
	return describe(hdr, buf, len, 0);
}

bool clevis_which(const char *prog, char *buf, size_t len)
{
	const char *path = getenv("PATH"), *p, *end;

	if (strchr(prog, '/')) {
		snprintf(buf, len, "%s", prog);
		return !access(buf, X_OK);
	}
	if (!path || !*path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (p = path; *p; p = *end ? end + 1 : end) {
		end = strchrnul(p, ':');
		if (end == p)
			continue;
		snprintf(buf, len, "%.*s/%s", (int)(end - p), p, prog);
		if (!access(buf, X_OK))
			return true;
	}
	return false;
}

bool clevis_pin_installed(const char *pin)
{
	char name[96], path[4096];

	/* a pin name is a plain word: no path, nothing a shell would read */
	if (!*pin || strlen(pin) > 64 ||
	    strspn(pin, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(pin))
		return false;
	snprintf(name, sizeof(name), "clevis-encrypt-%s", pin);
	return clevis_which(name, path, sizeof(path));
}
