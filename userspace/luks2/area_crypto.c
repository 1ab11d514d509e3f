// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * luks2: keyslot-area encryption.  The area is encrypted like a dm-crypt
 * device in 512-byte sectors, the IV counting sectors from 0 at the start
 * of the area.  Supported: aes-xts-{plain,plain64,plain64be} and
 * aes-cbc-{plain,plain64,plain64be,essiv:<hash>} (what cryptsetup writes for
 * keyslots is aes-xts-plain64).
 */
#include <errno.h>
#include <string.h>

#include <openssl/evp.h>

#include "luks2_internal.h"

#define SECTOR 512

enum iv_mode { IV_PLAIN, IV_PLAIN64, IV_PLAIN64BE, IV_ESSIV };

struct spec {
	const EVP_CIPHER *cipher;
	enum iv_mode iv;
	const EVP_MD *essiv_md;
};

static int parse_spec(const char *s, size_t key_len, struct spec *sp)
{
	const char *iv;
	bool xts;

	memset(sp, 0, sizeof(*sp));
	if (!s || strncmp(s, "aes-", 4))
		return -ENOTSUP;
	s += 4;
	if (!strncmp(s, "xts-", 4))
		xts = true;
	else if (!strncmp(s, "cbc-", 4))
		xts = false;
	else
		return -ENOTSUP;
	iv = s + 4;
	if (!strcmp(iv, "plain"))
		sp->iv = IV_PLAIN;
	else if (!strcmp(iv, "plain64"))
		sp->iv = IV_PLAIN64;
	else if (!strcmp(iv, "plain64be"))
		sp->iv = IV_PLAIN64BE;
	else if (!xts && !strncmp(iv, "essiv:", 6)) {
		sp->iv = IV_ESSIV;
		sp->essiv_md = (const EVP_MD *)l2_hash(iv + 6);
		if (!sp->essiv_md)
			return -ENOTSUP;
		switch (EVP_MD_get_size(sp->essiv_md)) {
		case 16: case 24: case 32:
			break;
		default:
			return -ENOTSUP;
		}
	} else {
		return -ENOTSUP;
	}
	if (xts)
		sp->cipher = key_len == 32 ? EVP_aes_128_xts() :
			     key_len == 64 ? EVP_aes_256_xts() : NULL;
	else
		sp->cipher = key_len == 16 ? EVP_aes_128_cbc() :
			     key_len == 24 ? EVP_aes_192_cbc() :
			     key_len == 32 ? EVP_aes_256_cbc() : NULL;
	return sp->cipher ? 0 : -EINVAL;
}

bool l2_area_cipher_ok(const char *spec, size_t key_len)
{
	struct spec sp;

	return !parse_spec(spec, key_len, &sp);
}

static const EVP_CIPHER *ecb_for(int key_len)
{
	return key_len == 16 ? EVP_aes_128_ecb() : key_len == 24 ? EVP_aes_192_ecb() :
	       EVP_aes_256_ecb();
}

int l2_area_crypt(const char *spec_s, const unsigned char *key, size_t key_len,
		  unsigned char *buf, size_t len, bool encrypt)
{
	return l2_sector_crypt(spec_s, key, key_len, buf, len, 0, SECTOR, encrypt);
}

int l2_sector_crypt(const char *spec_s, const unsigned char *key, size_t key_len,
		    unsigned char *buf, size_t len, uint64_t iv_first, unsigned int sector_size,
		    bool encrypt)
{
	unsigned char iv[16], essiv_key[EVP_MAX_MD_SIZE];
	EVP_CIPHER_CTX *ctx = NULL, *ectx = NULL;
	unsigned int ek_len = 0;
	struct spec sp;
	uint64_t sector, unit;
	int r, outl;

	r = parse_spec(spec_s, key_len, &sp);
	if (r)
		return r;
	if (sector_size < SECTOR || sector_size % SECTOR || len % sector_size)
		return -EINVAL;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return -ENOMEM;
	r = -EIO;
	if (sp.iv == IV_ESSIV) {
		if (EVP_Digest(key, key_len, essiv_key, &ek_len, sp.essiv_md, NULL) != 1)
			goto out;
		ectx = EVP_CIPHER_CTX_new();
		if (!ectx || EVP_EncryptInit_ex(ectx, ecb_for((int)ek_len), NULL, essiv_key, NULL) != 1)
			goto out;
		EVP_CIPHER_CTX_set_padding(ectx, 0);
	}
	if (EVP_CipherInit_ex(ctx, sp.cipher, NULL, key, NULL, encrypt) != 1)
		goto out;
	EVP_CIPHER_CTX_set_padding(ctx, 0);
	for (unit = 0; unit * sector_size < len; unit++) {
		unsigned char *p = buf + unit * sector_size;
		int i;

		/* LUKS2 never sets iv_large_sectors: IVs count 512-byte sectors */
		sector = iv_first + unit * (sector_size / SECTOR);
		memset(iv, 0, sizeof(iv));
		switch (sp.iv) {
		case IV_PLAIN:
			for (i = 0; i < 4; i++)
				iv[i] = (unsigned char)(sector >> (8 * i));
			break;
		case IV_PLAIN64:
		case IV_ESSIV:
			for (i = 0; i < 8; i++)
				iv[i] = (unsigned char)(sector >> (8 * i));
			break;
		case IV_PLAIN64BE:
			for (i = 0; i < 8; i++)
				iv[15 - i] = (unsigned char)(sector >> (8 * i));
			break;
		}
		if (sp.iv == IV_ESSIV &&
		    (EVP_EncryptUpdate(ectx, iv, &outl, iv, sizeof(iv)) != 1 || outl != 16))
			goto out;
		if (EVP_CipherInit_ex(ctx, NULL, NULL, NULL, iv, encrypt) != 1 ||
		    EVP_CipherUpdate(ctx, p, &outl, p, (int)sector_size) != 1 ||
		    outl != (int)sector_size)
			goto out;
	}
	r = 0;
out:
	l2_wipe(essiv_key, sizeof(essiv_key));
	l2_wipe(iv, sizeof(iv));
	EVP_CIPHER_CTX_free(ectx);
	EVP_CIPHER_CTX_free(ctx);
	return r;
}
