// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * luks2: the "pbkdf2" digest that tells a right volume key from a wrong one:
 * digest = PBKDF2-HMAC-hash(volume key, salt, iterations), 32-byte salt.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "luks2_internal.h"

/* 0 when VK matches, -EPERM when not, other negative errno on errors. */
int l2_digest_verify(json_object *d, const void *vk, size_t vk_len)
{
	unsigned char salt[L2_SALT_SIZE], want[64], got[64];
	const char *hash, *s;
	const EVP_MD *md;
	int64_t iter;
	long n;

	if (strcmp(l2_str(d, "type") ?: "", "pbkdf2"))
		return -ENOTSUP;
	hash = l2_str(d, "hash");
	md = (const EVP_MD *)l2_hash(hash);
	if (!md || !l2_int(d, "iterations", &iter) || iter < 1 || iter > INT32_MAX)
		return -EINVAL;
	s = l2_str(d, "salt");
	if (!s || l2_b64_decode(s, strlen(s), salt, sizeof(salt)) != sizeof(salt))
		return -EINVAL;
	s = l2_str(d, "digest");
	n = s ? l2_b64_decode(s, strlen(s), want, sizeof(want)) : -1;
	if (n < 20)
		return -EINVAL;
	if (PKCS5_PBKDF2_HMAC(vk, (int)vk_len, salt, sizeof(salt), (int)iter, md, (int)n,
			      got) != 1)
		return -EIO;
	n = CRYPTO_memcmp(got, want, (size_t)n) ? -EPERM : 0;
	l2_wipe(got, sizeof(got));
	return (int)n;
}

json_object *l2_digest_new(const void *vk, size_t vk_len, const char *hash, uint32_t iterations)
{
	unsigned char salt[L2_SALT_SIZE], dig[EVP_MAX_MD_SIZE];
	const EVP_MD *md = (const EVP_MD *)l2_hash(hash);
	char *b_salt = NULL, *b_dig = NULL;
	json_object *d = NULL;
	int dlen;

	if (!md || iterations < 1 || iterations > INT32_MAX)
		return NULL;
	dlen = EVP_MD_get_size(md);
	if (dlen < 20 || dlen > 64 || l2_random(salt, sizeof(salt)))
		return NULL;
	if (PKCS5_PBKDF2_HMAC(vk, (int)vk_len, salt, sizeof(salt), (int)iterations, md, dlen,
			      dig) != 1)
		goto out;
	b_salt = l2_b64_encode(salt, sizeof(salt));
	b_dig = l2_b64_encode(dig, (size_t)dlen);
	d = json_object_new_object();
	if (!b_salt || !b_dig || !d)
		goto out;
	json_object_object_add(d, "type", json_object_new_string("pbkdf2"));
	json_object_object_add(d, "keyslots", json_object_new_array());
	json_object_object_add(d, "segments", json_object_new_array());
	json_object_object_add(d, "hash", json_object_new_string(hash));
	json_object_object_add(d, "iterations", json_object_new_int64(iterations));
	json_object_object_add(d, "salt", json_object_new_string(b_salt));
	json_object_object_add(d, "digest", json_object_new_string(b_dig));
	free(b_salt);
	free(b_dig);
	return d;
out:
	json_object_put(d);
	free(b_salt);
	free(b_dig);
	return NULL;
}
