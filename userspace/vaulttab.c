// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: parsing /etc/vaulttab (crypttab(5) syntax).  The file is read
 * as untrusted bytes: lines are bounded, NULs and control characters are
 * refused, and every error names its line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "control.h"
#include "passphrase.h"
#include "table.h"
#include "util.h"
#include "vaultctl.h"
#include "vaulttab.h"

#define FIELDS_MAX	4
#define TRIES_MAX	100
#define KEY_BITS_MAX	(VAULT_KEY_SIZE_MAX * 8)

static const char *const device_tags[] = { "UUID=", "LABEL=", "PARTUUID=", "PARTLABEL=" };

enum vt_opt {
	VO_LUKS, VO_PLAIN, VO_CIPHER, VO_SIZE, VO_HASH, VO_OFFSET, VO_SKIP, VO_SECTOR_SIZE,
	VO_IV_LARGE_SECTORS, VO_DISCARD, VO_READONLY, VO_TRIES, VO_KEYFILE_OFFSET,
	VO_KEYFILE_SIZE, VO_KEYSLOT, VO_INITRAMFS, VO_NOAUTO, VO_NOFAIL, VO_SAME_CPU_CRYPT,
	VO_NO_READ_WORKQUEUE, VO_NO_WRITE_WORKQUEUE, VO_HEADLESS, VO_HEADLESS_BOOL, VO_TIMEOUT,
	VO_TOKEN_TIMEOUT, VO_TPM2_DEVICE, VO_TPM2_PCRS, VO_TPM2_PIN, VO_PKCS11_URI, VO_HEADER,
	VO_UNSUPPORTED, VO_IGNORED,
};

struct vt_opt_desc {
	const char *name;
	enum vt_opt id;
	bool value;		/* takes "=VALUE" */
	bool plain_only;
	bool empty_ok;		/* "NAME=" means something (tpm2-pcrs=: no PCR) */
};

static const struct vt_opt_desc vt_opts[] = {
	{ "luks", VO_LUKS, false, false, false },
	{ "plain", VO_PLAIN, false, false, false },
	{ "cipher", VO_CIPHER, true, true, false },
	{ "size", VO_SIZE, true, true, false },
	{ "hash", VO_HASH, true, true, false },
	{ "offset", VO_OFFSET, true, true, false },
	{ "skip", VO_SKIP, true, true, false },
	{ "sector-size", VO_SECTOR_SIZE, true, true, false },
	{ "iv-large-sectors", VO_IV_LARGE_SECTORS, false, true, false },
	{ "discard", VO_DISCARD, false, false, false },
	{ "readonly", VO_READONLY, false, false, false },
	{ "read-only", VO_READONLY, false, false, false },
	{ "tries", VO_TRIES, true, false, false },
	{ "keyfile-offset", VO_KEYFILE_OFFSET, true, false, false },
	{ "keyfile-size", VO_KEYFILE_SIZE, true, false, false },
	{ "keyslot", VO_KEYSLOT, true, false, false },
	{ "key-slot", VO_KEYSLOT, true, false, false },
	{ "initramfs", VO_INITRAMFS, false, false, false },
	{ "noauto", VO_NOAUTO, false, false, false },
	{ "nofail", VO_NOFAIL, false, false, false },
	{ "same-cpu-crypt", VO_SAME_CPU_CRYPT, false, false, false },
	{ "no-read-workqueue", VO_NO_READ_WORKQUEUE, false, false, false },
	{ "no-write-workqueue", VO_NO_WRITE_WORKQUEUE, false, false, false },
	{ "headless", VO_HEADLESS, false, false, false },
	{ "headless", VO_HEADLESS_BOOL, true, false, false },
	{ "timeout", VO_TIMEOUT, true, false, false },
	{ "token-timeout", VO_TOKEN_TIMEOUT, true, false, false },
	{ "tpm2-device", VO_TPM2_DEVICE, true, false, false },
	{ "tpm2-pcrs", VO_TPM2_PCRS, true, false, true },
	{ "tpm2-pin", VO_TPM2_PIN, true, false, false },
	{ "pkcs11-uri", VO_PKCS11_URI, true, false, false },
	{ "header", VO_HEADER, true, false, false },
	/* systemd 252 options for what vaultctl does not do: say so, not "unknown" */
	{ "tpm2-signature", VO_UNSUPPORTED, true, false, false },
	{ "fido2-device", VO_UNSUPPORTED, true, false, false },
	/* for other tools (systemd, mount): accepted, not used by vaultctl */
	{ "_netdev", VO_IGNORED, false, false, false },
	{ "x-initrd.attach", VO_IGNORED, false, false, false },
};

#define NR_VT_OPTS (sizeof(vt_opts) / sizeof(vt_opts[0]))

static int tab_fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int tab_fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, gettext(fmt), ap);
	va_end(ap);
	return -1;
}

bool vt_device_is_tag(const char *device)
{
	size_t i, n;

	for (i = 0; i < sizeof(device_tags) / sizeof(device_tags[0]); i++) {
		n = strlen(device_tags[i]);
		if (!strncmp(device, device_tags[i], n) && device[n])
			return true;
	}
	return false;
}

void vt_entry_free(struct vt_entry *e)
{
	free(e->name);
	free(e->device);
	free(e->key_file);
	free(e->cipher);
	free(e->tpm2_device);
	memset(e, 0, sizeof(*e));
}

/* The option NAME (N bytes); where a name has a flag and a "=VALUE" form, the one WITH_VALUE. */
static const struct vt_opt_desc *find_opt(const char *name, size_t n, bool with_value)
{
	const struct vt_opt_desc *found = NULL;
	size_t i;

	for (i = 0; i < NR_VT_OPTS; i++) {
		if (strlen(vt_opts[i].name) != n || strncmp(vt_opts[i].name, name, n))
			continue;
		if (!found || vt_opts[i].value == with_value)
			found = &vt_opts[i];
	}
	return found;
}

/* systemd's parse_boolean(). */
static int parse_bool(const char *s, bool *b)
{
	static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
	static const char *const no[] = { "0", "no", "n", "false", "f", "off" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(s, yes[i])) {
			*b = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*b = false;
			return 0;
		}
	}
	return -EINVAL;
}

struct time_unit {
	const char *name;
	uint64_t us;
};

/* systemd.time(7)'s units for spans of seconds to weeks */
static const struct time_unit time_units[] = {
	{ "us", 1 }, { "usec", 1 },
	{ "ms", 1000 }, { "msec", 1000 },
	{ "s", 1000000 }, { "sec", 1000000 }, { "second", 1000000 }, { "seconds", 1000000 },
	{ "m", 60000000 }, { "min", 60000000 }, { "minute", 60000000 },
	{ "minutes", 60000000 },
	{ "h", 3600000000ULL }, { "hr", 3600000000ULL }, { "hour", 3600000000ULL },
	{ "hours", 3600000000ULL },
	{ "d", 86400000000ULL }, { "day", 86400000000ULL }, { "days", 86400000000ULL },
	{ "w", 604800000000ULL }, { "week", 604800000000ULL }, { "weeks", 604800000000ULL },
};

int vt_parse_timespan(const char *s, uint64_t *us)
{
	uint64_t total = 0, n, mult;
	const char *p = s, *u;
	size_t i, ulen;

	if (!strcmp(s, "infinity")) {
		*us = 0;
		return 0;
	}
	if (!*s)
		return -EINVAL;
	while (*p) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		for (n = 0; *p >= '0' && *p <= '9'; p++) {
			if (n > (UINT64_MAX - 9) / 10)
				return -ERANGE;
			n = n * 10 + (uint64_t)(*p - '0');
		}
		for (u = p; (*p >= 'a' && *p <= 'z'); p++)
			;
		ulen = (size_t)(p - u);
		mult = 0;
		if (!ulen) {
			/* a bare number: seconds, and only as the last part */
			if (*p)
				return -EINVAL;
			mult = 1000000;
		}
		for (i = 0; ulen && i < sizeof(time_units) / sizeof(time_units[0]); i++)
			if (strlen(time_units[i].name) == ulen && !strncmp(u, time_units[i].name, ulen))
				mult = time_units[i].us;
		if (!mult)
			return -EINVAL;
		if (n > UINT64_MAX / mult || total > UINT64_MAX - n * mult)
			return -ERANGE;
		total += n * mult;
	}
	*us = total;
	return 0;
}

int vt_parse_pcrs(const char *s, uint32_t *mask, char *err, size_t len)
{
	const char *p = s;
	unsigned long n;
	uint32_t m = 0;
	char *end;

	/* systemd: "" binds to no PCR at all */
	while (*p) {
		if (*p < '0' || *p > '9') {
			tab_fail(err, len, "invalid value '%s' for option 'tpm2-pcrs': PCR numbers 0 to %d joined by '+', e.g. 7 or 0+7",
			     s, VT_TPM2_PCR_MAX);
			return -EINVAL;
		}
		errno = 0;
		n = strtoul(p, &end, 10);
		if (errno || n > VT_TPM2_PCR_MAX) {
			tab_fail(err, len, "invalid value '%s' for option 'tpm2-pcrs': PCR %.*s is out of range (0 to %d)",
			     s, (int)(end - p), p, VT_TPM2_PCR_MAX);
			return -EINVAL;
		}
		m |= 1U << n;
		p = end;
		if (*p == '+' || *p == ',') {
			p++;
			if (!*p) {
				tab_fail(err, len, "invalid value '%s' for option 'tpm2-pcrs': it ends with '%c'",
				     s, p[-1]);
				return -EINVAL;
			}
		} else if (*p) {
			tab_fail(err, len, "invalid value '%s' for option 'tpm2-pcrs': PCR numbers 0 to %d joined by '+', e.g. 7 or 0+7",
			     s, VT_TPM2_PCR_MAX);
			return -EINVAL;
		}
	}
	*mask = m;
	return 0;
}

/* tpm2-device=: "auto", an absolute device path, or a tpm2-tss TCTI "NAME[:CONF]". */
static bool tpm2_device_valid(const char *v)
{
	const char *p;

	if (!strcmp(v, "auto") || v[0] == '/')
		return true;
	for (p = v; *p && *p != ':'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '_'))
			return false;
	return p != v && *p == ':';
}

/* *DST = a copy of VAL (the option given last counts). */
static int set_str(char **dst, const char *val, char *err, size_t len)
{
	char *s = strdup(val);

	if (!s)
		return tab_fail(err, len, "out of memory");
	free(*dst);
	*dst = s;
	return 0;
}

/* Applies one "NAME[=VALUE]" option (TOK is NUL-terminated) to E. */
static int apply_option(struct vt_entry *e, char *tok, const char **plain_opt, char *err,
			size_t len)
{
	char *eq = strchr(tok, '=');
	size_t n = eq ? (size_t)(eq - tok) : strlen(tok);
	const struct vt_opt_desc *d;
	const char *val = eq ? eq + 1 : NULL;
	unsigned int u;

	if (!*tok)
		return tab_fail(err, len, "empty option (two commas in a row, or a comma at an end)");
	if (!strncmp(tok, "x-systemd.", 10))
		return 0;
	d = find_opt(tok, n, val != NULL);
	if (!d && strspn(tok, "0123456789") == strlen(tok))
		return tab_fail(err, len,
			    "unknown option '%s' (a ',' splits options: tpm2-pcrs= joins PCRs with '+', e.g. tpm2-pcrs=7+11)",
			    tok);
	if (!d)
		return tab_fail(err, len, "unknown option '%s'", tok);
	if (d->id == VO_UNSUPPORTED)
		return tab_fail(err, len,
			    "option '%s' is not supported by vaultctl (TPM2 with tpm2-device=, PKCS#11 with pkcs11-uri=auto, key files and passphrases are)",
			    d->name);
	if (d->value && !d->empty_ok && (!val || !*val))
		return tab_fail(err, len, "option '%s' needs a value (%s=...)", d->name, d->name);
	if (!d->value && val)
		return tab_fail(err, len, "option '%s' takes no value", d->name);
	if (d->plain_only && !*plain_opt)
		*plain_opt = d->name;

/* WHY is a literal: an xgettext keyword (BAD, userspace/Makefile), translated here */
#define BAD(why) tab_fail(err, len, "invalid value '%s' for option '%s': %s", val, d->name, gettext(why))
	switch (d->id) {
	case VO_LUKS:
		if (e->type == VT_PLAIN)
			return tab_fail(err, len, "options 'luks' and 'plain' exclude each other");
		e->type = VT_LUKS;
		break;
	case VO_PLAIN:
		if (e->type == VT_LUKS)
			return tab_fail(err, len, "options 'luks' and 'plain' exclude each other");
		e->type = VT_PLAIN;
		break;
	case VO_CIPHER:
		if (table_cipher_valid(val))
			return BAD("1 to 127 printable characters");
		return set_str(&e->cipher, val, err, len);
	case VO_SIZE:
		if (parse_uint(val, &u) || !u || u % 8 || u > KEY_BITS_MAX)
			return BAD("a key size in bits, a multiple of 8 from 8 to 1024");
		e->key_bits = u;
		break;
	case VO_HASH:
		if (strcmp(val, "plain"))
			return tab_fail(err, len,
				    "hash=%s is not supported: plain mode takes a raw key file, not a passphrase to hash (use hash=plain or leave it out)",
				    val);
		break;
	case VO_OFFSET:
		if (parse_u64(val, &e->offset))
			return BAD("a number of 512-byte sectors");
		break;
	case VO_SKIP:
		if (parse_u64(val, &e->skip))
			return BAD("a number of 512-byte sectors");
		break;
	case VO_SECTOR_SIZE:
		if (parse_uint(val, &u) || table_sector_size_valid(u))
			return BAD("512, 1024, 2048 or 4096");
		e->sector_size = u;
		break;
	case VO_IV_LARGE_SECTORS:
		e->iv_large_sectors = true;
		break;
	case VO_DISCARD:
		e->discard = true;
		break;
	case VO_READONLY:
		e->readonly = true;
		break;
	case VO_TRIES:
		if (parse_uint(val, &u) || u > TRIES_MAX)
			return BAD("0 (no limit) to 100");
		e->tries = u;
		break;
	case VO_KEYFILE_OFFSET:
		if (parse_u64(val, &e->keyfile_offset))
			return BAD("a number of bytes");
		break;
	case VO_KEYFILE_SIZE:
		if (parse_u64(val, &e->keyfile_size) || !e->keyfile_size ||
		    e->keyfile_size > PASS_KEYFILE_MAX)
			return BAD("1 to 8388608 bytes");
		break;
	case VO_KEYSLOT:
		if (parse_uint(val, &u) || u > 31)
			return BAD("0 to 31");
		e->key_slot = (int)u;
		break;
	case VO_INITRAMFS:
		e->initramfs = true;
		break;
	case VO_NOAUTO:
		e->noauto = true;
		break;
	case VO_NOFAIL:
		e->nofail = true;
		break;
	case VO_SAME_CPU_CRYPT:
		e->same_cpu_crypt = true;
		break;
	case VO_NO_READ_WORKQUEUE:
		e->no_read_workqueue = true;
		break;
	case VO_NO_WRITE_WORKQUEUE:
		e->no_write_workqueue = true;
		break;
	case VO_HEADLESS:
		e->headless = true;
		break;
	case VO_HEADLESS_BOOL:
		if (parse_bool(val, &e->headless))
			return BAD("yes or no (or 1/0, true/false, on/off)");
		break;
	case VO_TIMEOUT:
	case VO_TOKEN_TIMEOUT:
		if (vt_parse_timespan(val, d->id == VO_TIMEOUT ? &e->timeout_us
							       : &e->token_timeout_us))
			return BAD("a time span such as 30 (seconds), 30s, 500ms, 2min or 1min30s; 0 for no limit");
		break;
	case VO_TPM2_DEVICE:
		if (!tpm2_device_valid(val) || strlen(val) > 255)
			return BAD("auto, a device path such as /dev/tpmrm0, or a TCTI such as device:/dev/tpmrm0");
		return set_str(&e->tpm2_device, val, err, len);
	case VO_TPM2_PCRS:
		if (vt_parse_pcrs(val, &e->tpm2_pcrs, err, len))
			return -1;
		e->tpm2_pcrs_set = true;
		break;
	case VO_TPM2_PIN: {
		bool b;

		if (parse_bool(val, &b))
			return BAD("yes or no (or 1/0, true/false, on/off)");
		e->tpm2_pin = b;
		break;
	}
	case VO_PKCS11_URI:
		/*
		 * systemd: "auto" takes the token's URI from the header's
		 * systemd-pkcs11 token; a URI means its older mode, a key file
		 * encrypted to the token, which vaultctl does not do.
		 */
		if (strcmp(val, "auto"))
			return BAD("auto (the volume's systemd-pkcs11 token; a URI with an encrypted key file is not supported)");
		e->pkcs11_auto = true;
		break;
	case VO_HEADER:
		/*
		 * systemd: "PATH" is a detached LUKS2 header file; "PATH:DEVICE"
		 * is a header file on another block device, which vaultctl does
		 * not mount.
		 */
		if (strchr(val, ':'))
			return tab_fail(err, len,
				    "header=%s: a header on another device (header=PATH:DEVICE) is not supported; give the absolute path of a detached header file (header=/etc/vault/NAME.hdr)",
				    val);
		if (val[0] != '/' || strlen(val) > 4095)
			return BAD("the absolute path of a detached LUKS2 header file");
		return set_str(&e->header, val, err, len);
	case VO_UNSUPPORTED:
	case VO_IGNORED:
		break;
	}
#undef BAD
	return 0;
}

/* What no single option can check: how the options and fields fit together. */
static int check_entry(struct vt_entry *e, const char *plain_opt, char *err, size_t len)
{
	if (plain_opt && e->type != VT_PLAIN)
		return tab_fail(err, len,
			    "option '%s' is for plain mode: add 'plain' (a LUKS2 header says how its volume is encrypted)",
			    plain_opt);
	if (e->type == VT_PLAIN) {
		if (!e->key_file)
			return tab_fail(err, len,
				    "plain mode needs a key file holding the raw key, not '%s'",
				    "none");
		if (e->key_slot >= 0)
			return tab_fail(err, len, "option 'keyslot' is for LUKS2, not plain mode");
		if (e->keyfile_size) {
			/* crypttab's way of giving the key size of a plain key file */
			if (e->key_bits && e->keyfile_size * 8 != e->key_bits)
				return tab_fail(err, len,
					    "keyfile-size=%llu (%llu bits) does not match size=%u",
					    (unsigned long long)e->keyfile_size,
					    (unsigned long long)e->keyfile_size * 8, e->key_bits);
			if (e->keyfile_size > VAULT_KEY_SIZE_MAX)
				return tab_fail(err, len,
					    "keyfile-size=%llu: a plain key has at most %u bytes",
					    (unsigned long long)e->keyfile_size,
					    VAULT_KEY_SIZE_MAX);
			e->key_bits = (unsigned int)e->keyfile_size * 8;
		}
		if (e->iv_large_sectors && e->sector_size <= SECTOR_SIZE)
			return tab_fail(err, len, "iv-large-sectors needs sector-size= larger than 512");
		if (e->iv_large_sectors && e->skip % (e->sector_size / SECTOR_SIZE))
			return tab_fail(err, len,
				    "with iv-large-sectors, skip= must be a multiple of %u (sector-size= in 512-byte sectors)",
				    e->sector_size / SECTOR_SIZE);
	}
	if (e->type == VT_PLAIN && (e->tpm2_device || e->tpm2_pcrs_set || e->tpm2_pin >= 0))
		return tab_fail(err, len,
			    "TPM2 options are for LUKS2 volumes (their token is in the header), not plain mode");
	if (e->type == VT_PLAIN && e->pkcs11_auto)
		return tab_fail(err, len,
			    "pkcs11-uri= is for LUKS2 volumes (their token is in the header), not plain mode");
	if (e->type == VT_PLAIN && e->header)
		return tab_fail(err, len,
			    "header= is for LUKS2 volumes with a detached header, not plain mode (which has no header)");
	return 0;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

int vaulttab_parse_line(const char *line, size_t len, unsigned int lineno, struct vt_entry *e,
			char *err, size_t err_len, char **bad_name)
{
	char buf[VAULTTAB_LINE_MAX], *fields[FIELDS_MAX], *p, *tok, *save = NULL;
	const char *plain_opt = NULL;
	unsigned int nf = 0;
	size_t i;
	int r;

	memset(e, 0, sizeof(*e));
	e->line = lineno;
	e->key_slot = -1;
	e->tries = DEFAULT_TRIES;
	e->token_timeout_us = VT_TOKEN_TIMEOUT_DEFAULT_US;
	e->tpm2_pin = -1;
	*bad_name = NULL;
	if (len >= sizeof(buf))
		return tab_fail(err, err_len, "line too long (more than %zu bytes)", sizeof(buf) - 1);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if (!c)
			return tab_fail(err, err_len, "NUL byte at column %zu", i + 1);
		if ((c < 0x20 && !is_blank((char)c)) || c == 0x7f)
			return tab_fail(err, err_len, "control character 0x%02x at column %zu", c, i + 1);
	}
	memcpy(buf, line, len);
	buf[len] = '\0';

	/* Fields: runs of non-blanks.  At most FIELDS_MAX, and say so. */
	p = buf;
	for (;;) {
		while (is_blank(*p))
			p++;
		if (!*p)
			break;
		if (nf == 0 && *p == '#')
			return 0;
		if (nf == FIELDS_MAX) {
			r = tab_fail(err, err_len,
				 "too many fields: expected NAME DEVICE [KEYFILE [OPTIONS]] (no blanks inside OPTIONS)");
			goto bad;
		}
		fields[nf++] = p;
		while (*p && !is_blank(*p))
			p++;
		if (*p)
			*p++ = '\0';
	}
	if (!nf)
		return 0;
	if (nf < 2) {
		r = tab_fail(err, err_len, "missing DEVICE: expected NAME DEVICE [KEYFILE [OPTIONS]]");
		goto bad;
	}

	if (dm_name_valid(fields[0])) {
		r = tab_fail(err, err_len, "invalid name '%s': %s", fields[0],
			 dm_name_problem(fields[0]));
		goto bad;
	}
	if (fields[1][0] != '/' && !vt_device_is_tag(fields[1])) {
		r = tab_fail(err, err_len,
			 "device '%s' is neither an absolute path nor UUID=, LABEL=, PARTUUID= or PARTLABEL=",
			 fields[1]);
		goto bad;
	}
	e->name = strdup(fields[0]);
	e->device = strdup(fields[1]);
	if (!e->name || !e->device) {
		r = tab_fail(err, err_len, "out of memory");
		goto bad;
	}
	if (nf > 2 && strcmp(fields[2], "none") && strcmp(fields[2], "-")) {
		if (fields[2][0] != '/') {
			r = tab_fail(err, err_len,
				 "key file '%s' is not an absolute path (or none, or -, to ask for a passphrase)",
				 fields[2]);
			goto bad;
		}
		e->key_file = strdup(fields[2]);
		if (!e->key_file) {
			r = tab_fail(err, err_len, "out of memory");
			goto bad;
		}
	}
	if (nf > 3) {
		/* strtok would merge ",," into one separator: split by hand */
		for (tok = fields[3]; tok; tok = save) {
			save = strchr(tok, ',');
			if (save)
				*save++ = '\0';
			r = apply_option(e, tok, &plain_opt, err, err_len);
			if (r)
				goto bad;
		}
	}
	r = check_entry(e, plain_opt, err, err_len);
	if (r)
		goto bad;
	return 1;
bad:
	*bad_name = strdup(fields[0]);
	vt_entry_free(e);
	return -1;
}

const struct vt_entry *vaulttab_find(const struct vaulttab *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->count; i++)
		if (!strcmp(t->entries[i].name, name))
			return &t->entries[i];
	return NULL;
}

bool vaulttab_is_bad(const struct vaulttab *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->bad_count; i++)
		if (t->bad_names[i] && !strcmp(t->bad_names[i], name))
			return true;
	return false;
}

void vaulttab_free(struct vaulttab *t)
{
	size_t i;

	for (i = 0; i < t->count; i++)
		vt_entry_free(&t->entries[i]);
	for (i = 0; i < t->bad_count; i++)
		free(t->bad_names[i]);
	free(t->entries);
	free(t->bad_names);
	free(t->path);
	memset(t, 0, sizeof(*t));
}

static void report(struct vaulttab *t, unsigned int lineno, const char *err, char *bad_name)
{
	char **n;

	log_err("%s:%u: %s", t->path, lineno, err);
	t->errors++;
	if (!bad_name)
		return;
	n = realloc(t->bad_names, (t->bad_count + 1) * sizeof(*n));
	if (!n) {
		free(bad_name);
		return;
	}
	t->bad_names = n;
	t->bad_names[t->bad_count++] = bad_name;
}

/* Parses one line read from the file and adds it to T. */
static int add_line(struct vaulttab *t, const char *line, size_t len, unsigned int lineno)
{
	char err[VAULTTAB_ERR_MAX], *bad_name = NULL;
	const struct vt_entry *dup;
	struct vt_entry e, *n;
	int r;

	r = vaulttab_parse_line(line, len, lineno, &e, err, sizeof(err), &bad_name);
	if (r < 0) {
		report(t, lineno, err, bad_name);
		return 0;
	}
	if (!r)
		return 0;
	dup = vaulttab_find(t, e.name);
	if (dup) {
		snprintf(err, sizeof(err), _("duplicate name '%s' (already on line %u)"), e.name,
			 dup->line);
		report(t, lineno, err, NULL);
		vt_entry_free(&e);
		return 0;
	}
	if (t->count == VAULTTAB_ENTRIES_MAX) {
		snprintf(err, sizeof(err), _("too many entries (at most %d)"), VAULTTAB_ENTRIES_MAX);
		report(t, lineno, err, strdup(e.name));
		vt_entry_free(&e);
		return 0;
	}
	n = realloc(t->entries, (t->count + 1) * sizeof(*n));
	if (!n) {
		vt_entry_free(&e);
		log_err("out of memory");
		return -ENOMEM;
	}
	t->entries = n;
	t->entries[t->count++] = e;
	return 0;
}

int vaulttab_load(const char *path, struct vaulttab *t)
{
	char line[VAULTTAB_LINE_MAX];
	unsigned int lineno = 0;
	bool too_long = false;
	size_t len = 0, size = 0;
	FILE *f;
	int c, r = 0;

	memset(t, 0, sizeof(*t));
	t->path = strdup(path);
	if (!t->path) {
		log_err("out of memory");
		return -ENOMEM;
	}
	f = fopen(path, "re");
	if (!f) {
		r = -errno;
		log_err("cannot open %s: %s", path, strerror(errno));
		return r == -EACCES || r == -EPERM || r == -ENOMEM ? r : -EINVAL;
	}
	/* Bytes, not getline(): a line is bounded however long it is in the file. */
	do {
		c = getc(f);
		if (c != EOF && ++size > VAULTTAB_SIZE_MAX) {
			log_err("%s is larger than %d bytes: not a vaulttab?", path,
				VAULTTAB_SIZE_MAX);
			t->errors++;
			r = -EFBIG;
			break;
		}
		if (c != '\n' && c != EOF) {
			if (len < sizeof(line))
				line[len++] = (char)c;
			else
				too_long = true;
			continue;
		}
		if (c == EOF && !len && !too_long)
			break;
		lineno++;
		if (too_long) {
			char err[VAULTTAB_ERR_MAX];

			snprintf(err, sizeof(err), _("line too long (more than %zu bytes)"),
				 sizeof(line) - 1);
			report(t, lineno, err, NULL);
		} else {
			r = add_line(t, line, len, lineno);
		}
		len = 0;
		too_long = false;
	} while (c != EOF && !r && t->errors < VAULTTAB_ERRORS_MAX);
	if (t->errors >= VAULTTAB_ERRORS_MAX && c != EOF)
		log_err("%s: stopping after %u errors", path, t->errors);
	if (!r && ferror(f)) {
		log_err("cannot read %s: %s", path, strerror(errno));
		r = -EIO;
	}
	fclose(f);
	return r;
}

/* Appends "," (unless first) and the formatted text to BUF at *POS. */
static void add_opt(char *buf, size_t len, size_t *pos, bool *ovf, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void add_opt(char *buf, size_t len, size_t *pos, bool *ovf, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*ovf)
		return;
	if (*pos && buf[*pos - 1] != ' ') {
		if (*pos + 1 >= len) {
			*ovf = true;
			return;
		}
		buf[(*pos)++] = ',';
		buf[*pos] = '\0';
	}
	va_start(ap, fmt);
	n = vsnprintf(buf + *pos, len - *pos, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - *pos)
		*ovf = true;
	else
		*pos += (size_t)n;
}

/* A span in the largest unit that is exact: "30s", "1500ms", "7us"; 0 as "0". */
static void add_timespan(char *buf, size_t len, size_t *pos, bool *ovf, const char *name,
			 uint64_t us)
{
	if (us % 1000)
		add_opt(buf, len, pos, ovf, "%s=%lluus", name, (unsigned long long)us);
	else if (us % 1000000)
		add_opt(buf, len, pos, ovf, "%s=%llums", name, (unsigned long long)(us / 1000));
	else
		add_opt(buf, len, pos, ovf, "%s=%llus", name, (unsigned long long)(us / 1000000));
}

static void add_pcrs(char *buf, size_t len, size_t *pos, bool *ovf, uint32_t mask)
{
	char list[VT_TPM2_PCR_MAX * 3 + 4] = "";
	size_t n = 0;
	int i;

	for (i = 0; i <= VT_TPM2_PCR_MAX; i++)
		if (mask & (1U << i))
			n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%d", n ? "+" : "", i);
	add_opt(buf, len, pos, ovf, "tpm2-pcrs=%s", list);
}

int vt_entry_format(const struct vt_entry *e, char *buf, size_t len)
{
	bool ovf = false;
	size_t pos, start;
	int n;

	n = snprintf(buf, len, "%s %s %s ", e->name, e->device, e->key_file ? e->key_file : "none");
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	pos = start = (size_t)n;
#define FLAG(f, s) do { if (e->f) add_opt(buf, len, &pos, &ovf, "%s", s); } while (0)
	if (e->type == VT_LUKS)
		add_opt(buf, len, &pos, &ovf, "luks");
	if (e->type == VT_PLAIN)
		add_opt(buf, len, &pos, &ovf, "plain");
	if (e->cipher)
		add_opt(buf, len, &pos, &ovf, "cipher=%s", e->cipher);
	if (e->key_bits)
		add_opt(buf, len, &pos, &ovf, "size=%u", e->key_bits);
	if (e->offset)
		add_opt(buf, len, &pos, &ovf, "offset=%llu", (unsigned long long)e->offset);
	if (e->skip)
		add_opt(buf, len, &pos, &ovf, "skip=%llu", (unsigned long long)e->skip);
	if (e->sector_size)
		add_opt(buf, len, &pos, &ovf, "sector-size=%u", e->sector_size);
	FLAG(iv_large_sectors, "iv-large-sectors");
	FLAG(discard, "discard");
	FLAG(readonly, "readonly");
	FLAG(same_cpu_crypt, "same-cpu-crypt");
	FLAG(no_read_workqueue, "no-read-workqueue");
	FLAG(no_write_workqueue, "no-write-workqueue");
	if (e->keyfile_offset)
		add_opt(buf, len, &pos, &ovf, "keyfile-offset=%llu",
			(unsigned long long)e->keyfile_offset);
	if (e->keyfile_size)
		add_opt(buf, len, &pos, &ovf, "keyfile-size=%llu",
			(unsigned long long)e->keyfile_size);
	if (e->key_slot >= 0)
		add_opt(buf, len, &pos, &ovf, "keyslot=%d", e->key_slot);
	if (e->tries != DEFAULT_TRIES)
		add_opt(buf, len, &pos, &ovf, "tries=%u", e->tries);
	FLAG(headless, "headless");
	if (e->timeout_us)
		add_timespan(buf, len, &pos, &ovf, "timeout", e->timeout_us);
	if (e->token_timeout_us != VT_TOKEN_TIMEOUT_DEFAULT_US)
		add_timespan(buf, len, &pos, &ovf, "token-timeout", e->token_timeout_us);
	if (e->tpm2_device)
		add_opt(buf, len, &pos, &ovf, "tpm2-device=%s", e->tpm2_device);
	if (e->tpm2_pcrs_set)
		add_pcrs(buf, len, &pos, &ovf, e->tpm2_pcrs);
	if (e->tpm2_pin >= 0)
		add_opt(buf, len, &pos, &ovf, "tpm2-pin=%s", e->tpm2_pin ? "yes" : "no");
	if (e->pkcs11_auto)
		add_opt(buf, len, &pos, &ovf, "pkcs11-uri=auto");
	if (e->header)
		add_opt(buf, len, &pos, &ovf, "header=%s", e->header);
	FLAG(initramfs, "initramfs");
	FLAG(noauto, "noauto");
	FLAG(nofail, "nofail");
#undef FLAG
	if (ovf)
		return -ENOSPC;
	if (pos == start)
		buf[pos - 1] = '\0';	/* no options: no trailing blank */
	return 0;
}
