// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: TPM2 PCR lists, PCR banks and primary key algorithms by name,
 * as systemd 252 spells them on its command line and in its token JSON.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <tss2/tss2_tpm2_types.h>

#include "token/tpm2.h"

int tpm2_parse_pcrs(const char *s, uint32_t *mask, uint16_t *bank)
{
	const char *colon = strchr(s, ':');
	uint32_t m = 0;

	if (colon) {
		char name[16];
		size_t n = (size_t)(colon - s);

		if (n == 0 || n >= sizeof(name))
			return -EINVAL;
		memcpy(name, s, n);
		name[n] = '\0';
		if (tpm2_bank_from_name(name, bank))
			return -EINVAL;
		s = colon + 1;
	}
	while (*s) {
		char *end;
		unsigned long v;

		if (*s < '0' || *s > '9')
			return -EINVAL;
		errno = 0;
		v = strtoul(s, &end, 10);
		if (errno || v >= TPM2_PCRS_MAX)
			return -ERANGE;
		m |= 1U << v;
		s = end;
		if (*s == '+' || *s == ',') {
			s++;
			if (!*s)
				return -EINVAL;
		} else if (*s) {
			return -EINVAL;
		}
	}
	*mask = m;
	return 0;
}

void tpm2_format_pcrs(uint32_t mask, char *buf, size_t len)
{
	size_t off = 0;

	if (len)
		buf[0] = '\0';
	for (unsigned int i = 0; i < TPM2_PCRS_MAX && off < len; i++) {
		if (!(mask & (1U << i)))
			continue;
		off += (size_t)snprintf(buf + off, len - off, "%s%u", off ? "+" : "", i);
	}
}

static const struct {
	const char *name;
	uint16_t alg;
} banks[] = {
	{ "sha1", TPM2_ALG_SHA1 },
	{ "sha256", TPM2_ALG_SHA256 },
	{ "sha384", TPM2_ALG_SHA384 },
	{ "sha512", TPM2_ALG_SHA512 },
}, algs[] = {
	{ "ecc", TPM2_ALG_ECC },
	{ "rsa", TPM2_ALG_RSA },
};

const char *tpm2_bank_name(uint16_t bank)
{
	for (size_t i = 0; i < sizeof(banks) / sizeof(banks[0]); i++)
		if (banks[i].alg == bank)
			return banks[i].name;
	return NULL;
}

int tpm2_bank_from_name(const char *name, uint16_t *bank)
{
	for (size_t i = 0; i < sizeof(banks) / sizeof(banks[0]); i++)
		if (!strcmp(banks[i].name, name)) {
			*bank = banks[i].alg;
			return 0;
		}
	return -EINVAL;
}

const char *tpm2_alg_name(uint16_t alg)
{
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (algs[i].alg == alg)
			return algs[i].name;
	return NULL;
}

int tpm2_alg_from_name(const char *name, uint16_t *alg)
{
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (!strcmp(algs[i].name, name)) {
			*alg = algs[i].alg;
			return 0;
		}
	return -EINVAL;
}

int tpm2_parse_bool(const char *s, bool *v)
{
	static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
	static const char *const no[] = { "0", "no", "n", "false", "f", "off" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(s, yes[i])) {
			*v = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*v = false;
			return 0;
		}
	}
	return -EINVAL;
}
