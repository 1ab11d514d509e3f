// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-vault: key references on table lines and in messages ("key:<name>",
 * or "-" for the empty key), and programming a cipher with the key a
 * reference names. Shared by the table's key and, while re-encrypting, the
 * new key: both are fetched, programmed and wiped the same way.
 */
#include <linux/ctype.h>
#include <linux/random.h>
#include <linux/string.h>

#include "dm-vault-core.h"

#define VAULT_ERR_KEY_ON_LINE \
	"Keys are not accepted on the table line: load the key through " \
	"/dev/vault-control (vaultctl key add) and pass key:<name>"

/* A hex string that looks like key bytes pasted on the table line. */
static bool vault_looks_like_hex_key(const char *s)
{
	size_t len = strlen(s);

	if (len < 2 || len % 2)
		return false;
	while (*s)
		if (!isxdigit(*s++))
			return false;
	return true;
}

/*
 * Validate a key reference and store its name in @key_name
 * (VAULT_KEY_NAME_MAX bytes; "" for the empty key).
 */
int vault_parse_key_ref(char *key_name, const char *ref, char **error)
{
	const char *name;

	if (!strcmp(ref, VAULT_KEY_REF_EMPTY)) {
		key_name[0] = '\0';
		return 0;
	}
	if (!strstarts(ref, VAULT_KEY_REF_PREFIX)) {
		if (vault_looks_like_hex_key(ref))
			*error = VAULT_ERR_KEY_ON_LINE;
		else
			*error = "Invalid key reference: expected key:<name>";
		return -EINVAL;
	}
	name = ref + strlen(VAULT_KEY_REF_PREFIX);
	if (!vault_key_name_valid(name)) {
		*error = "Invalid key name: 1-63 characters of [A-Za-z0-9._:-]";
		return -EINVAL;
	}
	strscpy(key_name, name, VAULT_KEY_NAME_MAX);
	return 0;
}

/*
 * Copy the key named @key_name into @material (VAULT_KEY_SIZE_MAX bytes,
 * the caller wipes it); with @want_size, only a key of that size ("key
 * set": the table line must go on describing the device).
 */
int vault_fetch_key(const char *key_name, u8 *material, unsigned int *size,
		    const unsigned int *want_size, char **error)
{
	*size = 0;
	if (key_name[0] && vault_key_fetch(key_name, material, size)) {
		*error = "Key not found: load it through /dev/vault-control first";
		return -ENOKEY;
	}
	if (want_size && *size != *want_size) {
		DMERR("key set: %s%s is %u bytes, the table's key is %u bytes: refused",
		      key_name[0] ? VAULT_KEY_REF_PREFIX : VAULT_KEY_REF_EMPTY,
		      key_name, *size, *want_size);
		*error = "Key size differs from the table's";
		return -EINVAL;
	}
	return 0;
}

/*
 * Program @cipher with @material. On failure the cipher may hold part of
 * the key: the table's key state becomes invalid until a key set succeeds.
 */
int vault_program_key(struct vault_c *vc, struct vault_cipher *cipher,
		      const u8 *material, unsigned int size, char **error)
{
	int r = crypto_skcipher_setkey(cipher->tfm, material, size);

	if (r) {
		clear_bit(VAULT_F_KEY_VALID, &vc->flags);
		clear_bit(VAULT_F_KEY_WIPED, &vc->flags);
		*error = "Key does not fit the cipher (wrong key size?)";
	}
	return r;
}

/*
 * Replace a key schedule with a random key of the same size, then forget
 * that key. The caller marks the key state.
 */
int vault_wipe_cipher(struct vault_cipher *cipher, unsigned int key_size)
{
	u8 material[VAULT_KEY_SIZE_MAX];
	int r;

	get_random_bytes(material, key_size);
	r = crypto_skcipher_setkey(cipher->tfm, material, key_size);
	memzero_explicit(material, sizeof(material));
	return r;
}
