// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * luks2: the anti-forensic information splitter (LUKS1 "AF", reused by LUKS2).
 *
 * split: buf = 0; for stripes 0 .. n-2: s_i random, buf = diffuse(buf ^ s_i);
 *        stripe n-1 = key ^ buf.
 * merge: the same walk over the stored stripes, then key = last ^ buf.
 * diffuse: each hash-sized chunk j of buf becomes H(be32(j) || chunk),
 *          truncated to the chunk's length (the last chunk may be short).
 */
#include <errno.h>
#include <string.h>

#include <openssl/evp.h>

#include "luks2_internal.h"

static int diffuse(const EVP_MD *md, unsigned char *buf, size_t len)
{
	unsigned char out[EVP_MAX_MD_SIZE];
	size_t hlen = (size_t)EVP_MD_get_size(md), j, blocks;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int r = 0;

	if (!ctx)
		return -ENOMEM;
	blocks = (len + hlen - 1) / hlen;
	for (j = 0; j < blocks; j++) {
		size_t n = (j + 1) * hlen <= len ? hlen : len - j * hlen;
		unsigned char iv[4] = {
			(unsigned char)(j >> 24), (unsigned char)(j >> 16),
			(unsigned char)(j >> 8), (unsigned char)j,
		};
		unsigned int olen;

		if (EVP_DigestInit_ex(ctx, md, NULL) != 1 ||
		    EVP_DigestUpdate(ctx, iv, sizeof(iv)) != 1 ||
		    EVP_DigestUpdate(ctx, buf + j * hlen, n) != 1 ||
		    EVP_DigestFinal_ex(ctx, out, &olen) != 1) {
			r = -EIO;
			break;
		}
		memcpy(buf + j * hlen, out, n);
	}
	l2_wipe(out, sizeof(out));
	EVP_MD_CTX_free(ctx);
	return r;
}

static void xor_into(unsigned char *dst, const unsigned char *src, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] ^= src[i];
}

/* DST: key_len * stripes bytes.  BUF scratch is locked memory. */
int l2_af_split(const void *key, size_t key_len, unsigned int stripes, const char *hash,
		unsigned char *dst)
{
	const EVP_MD *md = (const EVP_MD *)l2_hash(hash);
	unsigned char *buf;
	unsigned int i;
	int r = 0;

	if (!md || !stripes || !key_len)
		return -EINVAL;
	buf = l2_secure_alloc(key_len);
	if (!buf)
		return -ENOMEM;
	for (i = 0; i < stripes - 1; i++) {
		unsigned char *s = dst + (size_t)i * key_len;

		r = l2_random(s, key_len);
		if (r)
			goto out;
		xor_into(buf, s, key_len);
		r = diffuse(md, buf, key_len);
		if (r)
			goto out;
	}
	memcpy(dst + (size_t)i * key_len, key, key_len);
	xor_into(dst + (size_t)i * key_len, buf, key_len);
out:
	l2_secure_free(buf, key_len);
	return r;
}

/* KEY: key_len bytes, caller's (locked) memory. */
int l2_af_merge(const unsigned char *src, size_t key_len, unsigned int stripes,
		const char *hash, unsigned char *key)
{
	const EVP_MD *md = (const EVP_MD *)l2_hash(hash);
	unsigned int i;
	int r;

	if (!md || !stripes || !key_len)
		return -EINVAL;
	memset(key, 0, key_len);
	for (i = 0; i < stripes - 1; i++) {
		xor_into(key, src + (size_t)i * key_len, key_len);
		r = diffuse(md, key, key_len);
		if (r)
			return r;
	}
	xor_into(key, src + (size_t)i * key_len, key_len);
	return 0;
}
