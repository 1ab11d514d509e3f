// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: the parameters of a "vault" target line, built and parsed.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "table.h"
#include "util.h"

int table_cipher_valid(const char *cipher)
{
	size_t n = cipher ? strlen(cipher) : 0;

	if (!n || n >= TABLE_CIPHER_MAX)
		return -EINVAL;
	for (; *cipher; cipher++) {
		if (!isgraph((unsigned char)*cipher))
			return -EINVAL;
	}
	return 0;
}

int table_sector_size_valid(unsigned int s)
{
	if (s < 512 || s > 4096 || (s & (s - 1)))
		return -EINVAL;
	return 0;
}

/* The flags in the order the target reports them. */
struct flag_desc {
	const char *name;
	size_t off;
};

#define FLAG(f) { #f, offsetof(struct vault_table, f) }
static const struct flag_desc flags[] = {
	FLAG(allow_discards),
	FLAG(same_cpu_crypt),
	FLAG(submit_from_crypt_cpus),
	FLAG(no_read_workqueue),
	FLAG(no_write_workqueue),
	FLAG(high_priority),
};
#undef FLAG

static bool *flag_ptr(struct vault_table *t, size_t i)
{
	return (bool *)((char *)t + flags[i].off);
}

static bool flag_get(const struct vault_table *t, size_t i)
{
	return *(const bool *)((const char *)t + flags[i].off);
}

struct out {
	char *buf;
	size_t len, pos;
	bool overflow;
};

static void emit(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void emit(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->pos, o->len - o->pos, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->len - o->pos) {
		o->overflow = true;
		return;
	}
	o->pos += (size_t)n;
}

int table_build_params(const struct vault_table *t, const char *keyname,
		       char *buf, size_t len)
{
	struct out o = { buf, len, 0, false };
	unsigned int nopt = t->nr_extra;
	size_t i;

	if (!len)
		return -EINVAL;
	buf[0] = '\0';
	if (table_cipher_valid(t->cipher) || !keyname || !*keyname ||
	    strchr(keyname, ' ') || !*t->device || strchr(t->device, ' ') ||
	    table_sector_size_valid(t->sector_size))
		return -EINVAL;

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		nopt += flag_get(t, i);
	nopt += t->sector_size != SECTOR_SIZE;
	nopt += t->iv_large_sectors;

	emit(&o, "%s key:%s %" PRIu64 " %s %" PRIu64, t->cipher, keyname,
	     t->iv_offset, t->device, t->offset);
	if (nopt) {
		emit(&o, " %u", nopt);
		for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
			if (flag_get(t, i))
				emit(&o, " %s", flags[i].name);
		if (t->sector_size != SECTOR_SIZE)
			emit(&o, " sector_size:%u", t->sector_size);
		if (t->iv_large_sectors)
			emit(&o, " iv_large_sectors");
		if (t->nr_extra)
			emit(&o, " %s", t->extra);
	}
	if (o.overflow) {
		buf[0] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}

int table_format_line(uint64_t start, uint64_t len, const char *params,
		      char *buf, size_t len_buf)
{
	int n = snprintf(buf, len_buf, "%" PRIu64 " %" PRIu64 " %s %s",
			 start, len, VAULT_TARGET, params);

	if (n < 0 || (size_t)n >= len_buf)
		return -ENAMETOOLONG;
	return 0;
}

/* Copies the next blank-separated word of *P into W; returns 0 or -EINVAL. */
static int next_word(const char **p, char *w, size_t wlen)
{
	const char *s = *p;
	size_t n;

	while (*s == ' ')
		s++;
	n = strcspn(s, " ");
	if (!n || n >= wlen)
		return -EINVAL;
	memcpy(w, s, n);
	w[n] = '\0';
	*p = s + n;
	return 0;
}

static int parse_option(struct vault_table *t, const char *w)
{
	size_t i;

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (!strcmp(w, flags[i].name)) {
			*flag_ptr(t, i) = true;
			return 0;
		}
	}
	if (!strcmp(w, "iv_large_sectors")) {
		t->iv_large_sectors = true;
		return 0;
	}
	if (!strncmp(w, "sector_size:", 12)) {
		if (parse_uint(w + 12, &t->sector_size) ||
		    table_sector_size_valid(t->sector_size))
			return -EINVAL;
		return 0;
	}
	/* Unknown: keep it verbatim so a reload preserves it. */
	if (strlen(t->extra) + strlen(w) + 2 > sizeof(t->extra))
		return -ENAMETOOLONG;
	if (t->nr_extra)
		strcat(t->extra, " ");
	strcat(t->extra, w);
	t->nr_extra++;
	return 0;
}

int table_parse_params(const char *params, struct vault_table *t)
{
	char w[TABLE_DEVICE_MAX];
	const char *p = params;
	unsigned int nopt, i;
	int r;

	memset(t, 0, sizeof(*t));
	t->sector_size = SECTOR_SIZE;
	if (!params)
		return -EINVAL;

	if (next_word(&p, t->cipher, sizeof(t->cipher)) ||
	    next_word(&p, t->key, sizeof(t->key)) ||
	    next_word(&p, w, sizeof(w)) || parse_u64(w, &t->iv_offset) ||
	    next_word(&p, t->device, sizeof(t->device)) ||
	    next_word(&p, w, sizeof(w)) || parse_u64(w, &t->offset))
		return -EINVAL;

	while (*p == ' ')
		p++;
	if (!*p)
		return 0;
	if (next_word(&p, w, sizeof(w)) || parse_uint(w, &nopt))
		return -EINVAL;
	for (i = 0; i < nopt; i++) {
		if (next_word(&p, w, sizeof(w)))
			return -EINVAL;
		r = parse_option(t, w);
		if (r)
			return r;
	}
	while (*p == ' ')
		p++;
	return *p ? -EINVAL : 0;
}

void table_flags_string(const struct vault_table *t, char *buf, size_t len)
{
	struct out o = { buf, len, 0, false };
	size_t i;

	if (!len)
		return;
	buf[0] = '\0';
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (flag_get(t, i))
			emit(&o, "%s%s", o.pos ? " " : "", flags[i].name);
	if (t->iv_large_sectors)
		emit(&o, "%s%s", o.pos ? " " : "", "iv_large_sectors");
	if (t->nr_extra)
		emit(&o, "%s%s", o.pos ? " " : "", t->extra);
}

unsigned int table_key_bits_from_field(const char *key)
{
	const char *p;
	unsigned int bytes = 0;
	size_t n;

	if (!key || !*key || !strcmp(key, "-"))
		return 0;
	if (!strncmp(key, "key:vaultctl-", 13)) {
		/* "...-<bits>b" */
		n = strlen(key);
		if (n < 3 || key[n - 1] != 'b')
			return 0;
		for (p = key + n - 2; p > key && *p >= '0' && *p <= '9'; p--)
			;
		if (*p != '-' || p == key + n - 2)
			return 0;
		for (p++; *p != 'b'; p++) {
			bytes = bytes * 10 + (unsigned int)(*p - '0');
			if (bytes > 65536)
				return 0;
		}
		return bytes % 8 ? 0 : bytes;
	}
	if (!strncmp(key, "key:", 4))
		return 0;
	if (key[0] == ':') {
		/* ":<bytes>:<type>:<description>" */
		for (p = key + 1; *p >= '0' && *p <= '9'; p++) {
			bytes = bytes * 10 + (unsigned int)(*p - '0');
			if (bytes > 4096)
				return 0;
		}
		return *p == ':' && p > key + 1 ? bytes * 8 : 0;
	}
	n = strlen(key);
	for (p = key; *p; p++)
		if (!isxdigit((unsigned char)*p))
			return 0;
	return n % 2 ? 0 : (unsigned int)(n * 4);
}

int table_mapping_size(const char *device, uint64_t dev_sectors, uint64_t offset,
		       uint64_t want, unsigned int sector_size, uint64_t *size)
{
	uint64_t spu = sector_size / SECTOR_SIZE, avail;

	*size = 0;
	if (!spu || table_sector_size_valid(sector_size))
		return -EINVAL;
	if (offset >= dev_sectors) {
		log_err("device %s is too small: %" PRIu64 " sectors, but the data offset is %" PRIu64,
			device, dev_sectors, offset);
		return -EINVAL;
	}
	avail = dev_sectors - offset;
	if (want) {
		if (want > avail) {
			log_err("size %" PRIu64 " is larger than device %s after the offset (%" PRIu64 " sectors)",
				want, device, avail);
			return -EINVAL;
		}
		if (want % spu) {
			log_err("size %" PRIu64 " is not a multiple of the %u-byte sector size",
				want, sector_size);
			return -EINVAL;
		}
		*size = want;
		return 0;
	}
	*size = avail / spu * spu;
	if (!*size) {
		log_err("device %s is too small: %" PRIu64 " sectors after the offset, less than one %u-byte sector",
			device, avail, sector_size);
		return -EINVAL;
	}
	return 0;
}
