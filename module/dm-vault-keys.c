// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-vault: the in-kernel key table.
 *
 * Keys are loaded through /dev/vault-control and referenced by name from
 * table lines. A table copies the material into its cipher at construction,
 * so a key can be removed as soon as the table is live. Material is kept in
 * its own allocation and wiped with kfree_sensitive() on every removal path.
 */
#include <linux/ctype.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "dm-vault-core.h"

struct vault_key {
	struct list_head list;
	char name[VAULT_KEY_NAME_MAX];
	unsigned int size;
	u32 flags;
	const void *owner;	/* the control file that added it, or NULL */
	u8 *material;
};

static LIST_HEAD(vault_keys);
static unsigned int vault_nr_keys;
static DEFINE_MUTEX(vault_keys_lock);

bool vault_key_name_valid(const char *name)
{
	size_t len = strnlen(name, VAULT_KEY_NAME_MAX);
	size_t i;

	if (len == 0 || len == VAULT_KEY_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char c = name[i];

		/* ASCII only: the kernel's isalnum() accepts Latin-1 too. */
		if (!(isascii(c) && isalnum(c)) && c != '.' && c != '_' &&
		    c != ':' && c != '-')
			return false;
	}
	return true;
}

static struct vault_key *vault_key_find(const char *name)
{
	struct vault_key *key;

	lockdep_assert_held(&vault_keys_lock);
	list_for_each_entry(key, &vault_keys, list)
		if (!strcmp(key->name, name))
			return key;
	return NULL;
}

static int vault_key_can_add(const char *name)
{
	lockdep_assert_held(&vault_keys_lock);
	if (vault_key_find(name))
		return -EEXIST;
	if (vault_nr_keys >= VAULT_KEYS_MAX)
		return -ENOSPC;
	return 0;
}

static void vault_key_free(struct vault_key *key)
{
	lockdep_assert_held(&vault_keys_lock);
	list_del(&key->list);
	vault_nr_keys--;
	kfree_sensitive(key->material);
	kfree(key);
}

/* @material is a kernel copy; the caller wipes its own buffer. */
int vault_key_add(const char *name, const u8 *material, unsigned int size,
		  u32 flags, const void *owner)
{
	struct vault_key *key;
	int r = 0;

	if (!vault_key_name_valid(name) || !size || size > VAULT_KEY_SIZE_MAX ||
	    (flags & ~VAULT_KEY_FLAGS_ALL))
		return -EINVAL;

	/* Refuse early, before allocating; checked again under the lock. */
	mutex_lock(&vault_keys_lock);
	r = vault_key_can_add(name);
	mutex_unlock(&vault_keys_lock);
	if (r)
		return r;

	key = kzalloc(sizeof(*key), GFP_KERNEL);
	if (!key)
		return -ENOMEM;
	key->material = kmemdup(material, size, GFP_KERNEL);
	if (!key->material) {
		kfree(key);
		return -ENOMEM;
	}
	strscpy(key->name, name, sizeof(key->name));
	key->size = size;
	key->flags = flags;
	key->owner = (flags & VAULT_KEY_PERSISTENT) ? NULL : owner;

	mutex_lock(&vault_keys_lock);
	r = vault_key_can_add(name);
	if (!r) {
		list_add_tail(&key->list, &vault_keys);
		vault_nr_keys++;
	}
	mutex_unlock(&vault_keys_lock);

	if (r) {
		kfree_sensitive(key->material);
		kfree(key);
	}
	return r;
}

int vault_key_remove(const char *name)
{
	struct vault_key *key;
	int r = 0;

	mutex_lock(&vault_keys_lock);
	key = vault_key_find(name);
	if (key)
		vault_key_free(key);
	else
		r = -ENOENT;
	mutex_unlock(&vault_keys_lock);
	return r;
}

/* Wipe every fd-scoped key a closing control file added. */
void vault_keys_release_owner(const void *owner)
{
	struct vault_key *key, *tmp;

	mutex_lock(&vault_keys_lock);
	list_for_each_entry_safe(key, tmp, &vault_keys, list)
		if (key->owner == owner)
			vault_key_free(key);
	mutex_unlock(&vault_keys_lock);
}

/*
 * Copy a key's material into @buf (VAULT_KEY_SIZE_MAX bytes); the caller
 * wipes it once the cipher holds the key.
 */
int vault_key_fetch(const char *name, u8 *buf, unsigned int *size)
{
	struct vault_key *key;
	int r = 0;

	mutex_lock(&vault_keys_lock);
	key = vault_key_find(name);
	if (key) {
		memcpy(buf, key->material, key->size);
		*size = key->size;
	} else {
		r = -ENOKEY;
	}
	mutex_unlock(&vault_keys_lock);
	return r;
}

int vault_key_list(struct vault_key_info *infos, unsigned int capacity,
		   unsigned int *count)
{
	struct vault_key *key;
	unsigned int n = 0;

	mutex_lock(&vault_keys_lock);
	list_for_each_entry(key, &vault_keys, list) {
		if (n < capacity) {
			struct vault_key_info *info = &infos[n];

			memset(info, 0, sizeof(*info));
			strscpy(info->name, key->name, sizeof(info->name));
			info->key_size = key->size;
			info->flags = key->flags & VAULT_KEY_PERSISTENT;
		}
		n++;
	}
	mutex_unlock(&vault_keys_lock);
	*count = n;
	return 0;
}

void vault_keys_wipe_all(void)
{
	struct vault_key *key, *tmp;

	mutex_lock(&vault_keys_lock);
	list_for_each_entry_safe(key, tmp, &vault_keys, list)
		vault_key_free(key);
	mutex_unlock(&vault_keys_lock);
}
