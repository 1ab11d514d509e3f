// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * luks2: error strings, locked memory, base64, numbers, raw I/O.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "luks2_internal.h"

void l2_err(struct luks2 *l, const char *fmt, ...)
{
	va_list ap;

	if (!l)
		return;
	va_start(ap, fmt);
	vsnprintf(l->err, sizeof(l->err), gettext(fmt), ap);
	va_end(ap);
	l2_defang(l->err);
}

/* A terminal acts on C0 controls, DEL and C1 controls (UTF-8 C2 80..9F). */
void l2_defang(char *s)
{
	unsigned char *p;

	for (p = (unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			p[0] = p[1] = '?';
	}
}

void luks2_fputs_escaped(FILE *f, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '\\')
			fputs("\\\\", f);
		else if (*p < 0x20 || *p >= 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
}

void l2_wipe(void *p, size_t n)
{
	if (p && n)
		explicit_bzero(p, n);
}

/*
 * Secrets: anonymous pages, locked, not dumped, wiped before unmapping.
 * Sizes are rounded up to pages here and in l2_secure_free().
 */
static size_t page_round(size_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (n + page - 1) / page * page;
}

void *l2_secure_alloc(size_t n)
{
	size_t len;
	void *m;

	if (!n || n > (1UL << 30)) {
		errno = EINVAL;
		return NULL;
	}
	len = page_round(n);
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	if (mlock(m, len)) {
		munmap(m, len);
		errno = ENOMEM;
		return NULL;
	}
	(void)madvise(m, len, MADV_DONTDUMP);
	(void)madvise(m, len, MADV_WIPEONFORK);
	return m;
}

unsigned char *l2_vk_alloc(struct luks2 *l)
{
	unsigned char *vk = l2_secure_alloc(LUKS2_VK_MAX);

	if (!vk)
		l2_err(l, "cannot allocate locked memory");
	return vk;
}

void l2_secure_free(void *p, size_t n)
{
	size_t len;

	if (!p)
		return;
	len = page_round(n);
	explicit_bzero(p, len);
	munlock(p, len);
	munmap(p, len);
}

bool l2_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (!s || !*s || strlen(s) > 20)
		return false;
	for (i = 0; s[i]; i++) {
		unsigned int d;

		if (s[i] < '0' || s[i] > '9')
			return false;
		d = (unsigned int)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *l2_b64_encode(const void *in, size_t len)
{
	const unsigned char *p = in;
	size_t i, o = 0;
	char *s;

	if (len > (SIZE_MAX / 4) - 4)
		return NULL;
	s = malloc((len + 2) / 3 * 4 + 1);
	if (!s)
		return NULL;
	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		s[o++] = b64chars[v >> 18];
		s[o++] = b64chars[(v >> 12) & 63];
		s[o++] = b64chars[(v >> 6) & 63];
		s[o++] = b64chars[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;

		s[o++] = b64chars[v >> 18];
		s[o++] = b64chars[(v >> 12) & 63];
		s[o++] = '=';
		s[o++] = '=';
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;

		s[o++] = b64chars[v >> 18];
		s[o++] = b64chars[(v >> 12) & 63];
		s[o++] = b64chars[(v >> 6) & 63];
		s[o++] = '=';
	}
	s[o] = 0;
	return s;
}

static int b64val(char c)
{
	const char *p;

	if (!c)
		return -1;
	p = strchr(b64chars, c);
	return p ? (int)(p - b64chars) : -1;
}

long l2_b64_decode(const char *in, size_t in_len, unsigned char *out, size_t out_cap)
{
	size_t i, o = 0;

	if (in_len % 4)
		return -1;
	for (i = 0; i < in_len; i += 4) {
		int a = b64val(in[i]), b = b64val(in[i + 1]);
		int c = in[i + 2] == '=' ? -2 : b64val(in[i + 2]);
		int d = in[i + 3] == '=' ? -2 : b64val(in[i + 3]);
		uint32_t v;

		if (a < 0 || b < 0 || c == -1 || d == -1)
			return -1;
		/* padding only in the last quantum, "x=" not allowed before "=" */
		if ((c == -2 || d == -2) && i + 4 != in_len)
			return -1;
		if (c == -2 && d != -2)
			return -1;
		v = (uint32_t)a << 18 | (uint32_t)b << 12;
		if (c >= 0)
			v |= (uint32_t)c << 6;
		if (d >= 0)
			v |= (uint32_t)d;
		if (o + 1 > out_cap)
			return -1;
		out[o++] = (unsigned char)(v >> 16);
		if (c >= 0) {
			if (o + 1 > out_cap)
				return -1;
			out[o++] = (unsigned char)(v >> 8);
		}
		if (d >= 0) {
			if (o + 1 > out_cap)
				return -1;
			out[o++] = (unsigned char)v;
		}
	}
	return (long)o;
}

int l2_random(void *buf, size_t len)
{
	if (len > INT32_MAX || RAND_bytes(buf, (int)len) != 1)
		return -EIO;
	return 0;
}

uint64_t l2_be64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

void l2_put_be64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

/* The hashes LUKS2 uses; names as cryptsetup writes them. */
const struct evp_md_st *l2_hash(const char *name)
{
	static const char *const ok[] = {
		"sha1", "sha224", "sha256", "sha384", "sha512",
		"sha3-256", "sha3-384", "sha3-512", "ripemd160", "whirlpool",
	};
	size_t i;

	if (!name)
		return NULL;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!strcmp(name, ok[i]))
			return EVP_get_digestbyname(name);
	return NULL;
}

int l2_pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	char *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ENODATA;	/* short device or file */
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

#ifdef LUKS2_FAULT_INJECTION
/* Test builds only: LUKS2_FAIL_WRITE_AT=OFFSET fails every write covering it. */
static bool fail_write(size_t len, uint64_t off)
{
	const char *at = getenv("LUKS2_FAIL_WRITE_AT");
	uint64_t o;

	return at && l2_parse_u64(at, &o) && o >= off && o - off < len;
}
#else
static bool fail_write(size_t len, uint64_t off)
{
	(void)len;
	(void)off;
	return false;
}
#endif

int l2_pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const char *p = buf;

	if (fail_write(len, off))
		return -EIO;
	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int l2_device_size(int fd, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, size))
			return -errno;
		return 0;
	}
	if (!S_ISREG(st.st_mode))
		return -ENOTBLK;
	*size = (uint64_t)st.st_size;
	return 0;
}

/* CVE-2025-59054: a header switched to a null cipher must not be used. */
bool l2_cipher_is_null(const char *spec)
{
	return !spec || strstr(spec, "cipher_null") || !strncmp(spec, "null", 4) ||
	       strstr(spec, "ecb(null)");
}
