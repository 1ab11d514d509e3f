// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-vault: cipher specifications and IV generators.
 *
 * The grammar is dm-crypt's, so that a mapping written by one reads the same
 * with the other:
 *   cipher[:keycount]-chainmode-ivmode[:ivopts]  e.g. aes-xts-plain64
 *   capi:<crypto API name>-ivmode[:ivopts]       e.g. capi:xts(aes)-plain64
 * ESSIV is the kernel's essiv() template; the IV handed to it is plain64.
 */
#include <linux/slab.h>
#include <linux/string.h>
#include <crypto/algapi.h>

#include "dm-vault-core.h"

static int vault_parse_ivmode(const char *ivmode, enum vault_iv_mode *mode)
{
	static const struct {
		const char *name;
		enum vault_iv_mode mode;
	} modes[] = {
		{ "plain", VAULT_IV_PLAIN },
		{ "plain64", VAULT_IV_PLAIN64 },
		{ "plain64be", VAULT_IV_PLAIN64BE },
		{ "essiv", VAULT_IV_ESSIV },
		{ "null", VAULT_IV_NULL },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		if (!strcmp(ivmode, modes[i].name)) {
			*mode = modes[i].mode;
			return 0;
		}
	}
	return -EINVAL;
}

/*
 * Split @spec (a writable copy) into a crypto API name in @api and the IV
 * mode; on error set *error to what is wrong with the specification.
 */
static int vault_spec_to_api(char *spec, char *api, enum vault_iv_mode *mode,
			     bool *has_ivmode, char **error)
{
	char *ivmode, *ivopts, *cipher, *chainmode, *keycount;
	int len;

	if (strstarts(spec, "capi:")) {
		char *rest = spec + strlen("capi:");

		/* The hash of essiv:<hash> may itself hold a '-'. */
		ivopts = strrchr(rest, ':');
		if (ivopts)
			*ivopts++ = '\0';
		ivmode = strrchr(rest, '-');
		if (ivmode)
			*ivmode++ = '\0';
		cipher = rest;
		if (!*cipher) {
			*error = "Cipher specification has an empty crypto API name";
			return -EINVAL;
		}
		chainmode = NULL;
	} else {
		if (strchr(spec, '(')) {
			*error = "Bad cipher specification: crypto API names need the capi: prefix";
			return -EINVAL;
		}
		keycount = strsep(&spec, "-");
		cipher = strsep(&keycount, ":");
		if (keycount && strcmp(keycount, "1")) {
			*error = "Cipher key counts other than 1 are not supported";
			return -EINVAL;
		}
		chainmode = strsep(&spec, "-");
		ivmode = strsep(&spec, ":");
		ivopts = spec;
		if (!*cipher || !chainmode || !*chainmode) {
			*error = "Bad cipher specification: expected cipher-chainmode-ivmode";
			return -EINVAL;
		}
		if (strcmp(chainmode, "ecb") && (!ivmode || !*ivmode)) {
			*error = "IV mechanism required (e.g. aes-xts-plain64)";
			return -EINVAL;
		}
	}

	*has_ivmode = ivmode && *ivmode;
	if (*has_ivmode && vault_parse_ivmode(ivmode, mode)) {
		*error = "Unsupported IV mode (plain, plain64, plain64be, essiv, null)";
		return -EINVAL;
	}
	if (*has_ivmode && *mode == VAULT_IV_ESSIV && (!ivopts || !*ivopts)) {
		*error = "Digest algorithm missing for ESSIV mode (e.g. essiv:sha256)";
		return -EINVAL;
	}
	if (ivopts && *ivopts && !(*has_ivmode && *mode == VAULT_IV_ESSIV)) {
		*error = "IV options are only valid with essiv";
		return -EINVAL;
	}

	if (*has_ivmode && *mode == VAULT_IV_ESSIV)
		len = chainmode ?
			snprintf(api, CRYPTO_MAX_ALG_NAME, "essiv(%s(%s),%s)",
				 chainmode, cipher, ivopts) :
			snprintf(api, CRYPTO_MAX_ALG_NAME, "essiv(%s,%s)",
				 cipher, ivopts);
	else
		len = chainmode ?
			snprintf(api, CRYPTO_MAX_ALG_NAME, "%s(%s)",
				 chainmode, cipher) :
			snprintf(api, CRYPTO_MAX_ALG_NAME, "%s", cipher);
	if (len >= CRYPTO_MAX_ALG_NAME) {
		*error = "Cipher specification too long";
		return -EINVAL;
	}
	return 0;
}

int vault_cipher_init(struct vault_cipher *vcp, const char *spec,
		      char **error)
{
	char *copy, *api;
	bool has_ivmode = false;
	int r;

	memset(vcp, 0, sizeof(*vcp));
	copy = kstrdup(spec, GFP_KERNEL);
	api = kmalloc(CRYPTO_MAX_ALG_NAME, GFP_KERNEL);
	if (!copy || !api) {
		*error = "Cannot allocate cipher strings";
		r = -ENOMEM;
		goto out;
	}

	r = vault_spec_to_api(copy, api, &vcp->iv_mode, &has_ivmode, error);
	if (r)
		goto out;

	/*
	 * As dm-crypt: no implementation that allocates memory per request,
	 * since that allocation can fail under the memory pressure in which
	 * writeback must still progress.
	 */
	vcp->tfm = crypto_alloc_skcipher(api, 0, CRYPTO_ALG_ALLOCATES_MEMORY);
	if (IS_ERR(vcp->tfm)) {
		r = PTR_ERR(vcp->tfm);
		vcp->tfm = NULL;
		*error = r == -ENOENT ?
			"Cipher not available in this kernel without per-request allocations" :
			"Error allocating crypto tfm";
		goto out;
	}

	vcp->iv_size = crypto_skcipher_ivsize(vcp->tfm);
	if (!vcp->iv_size) {
		/* As dm-crypt: a cipher without IVs ignores the IV mode. */
		vcp->iv_mode = VAULT_IV_NONE;
	} else if (!has_ivmode) {
		*error = "This cipher needs an IV mode";
		r = -EINVAL;
		goto out;
	} else if (vcp->iv_size < sizeof(u64)) {
		*error = "Cipher IV is too short for a sector number";
		r = -EINVAL;
		goto out;
	}
out:
	kfree(copy);
	kfree(api);
	if (r)
		vault_cipher_destroy(vcp);
	return r;
}

void vault_cipher_destroy(struct vault_cipher *vcp)
{
	if (vcp->tfm)
		crypto_free_skcipher(vcp->tfm);
	vcp->tfm = NULL;
}

void vault_cipher_gen_iv(const struct vault_cipher *vcp, u8 *iv, u64 sector)
{
	if (vcp->iv_mode == VAULT_IV_NONE)
		return;
	memset(iv, 0, vcp->iv_size);
	switch (vcp->iv_mode) {
	case VAULT_IV_PLAIN:
		put_unaligned_le32(sector & 0xffffffff, iv);
		break;
	case VAULT_IV_PLAIN64:
	case VAULT_IV_ESSIV:
		put_unaligned_le64(sector, iv);
		break;
	case VAULT_IV_PLAIN64BE:
		put_unaligned_be64(sector, iv + vcp->iv_size - sizeof(u64));
		break;
	default:
		break;
	}
}
