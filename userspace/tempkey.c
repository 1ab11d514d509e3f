// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: keys for one table load.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "keyfile.h"
#include "secure_mem.h"
#include "tempkey.h"
#include "util.h"

int tempkey_read(const struct vault_opts *o, unsigned int bits, void **key)
{
	size_t size = bits / 8;
	void *buf;
	int r;

	*key = NULL;
	/* Locks libdevmapper's buffers too; best effort, keys are locked anyway. */
	secure_lock_all();
	buf = secure_alloc(size);
	if (!buf) {
		log_err("cannot allocate locked memory for the key: %s", strerror(errno));
		return -ENOMEM;
	}
	r = keyfile_read(o->key_file, o->keyfile_offset, buf, size);
	if (r) {
		secure_free(buf);
		return r;
	}
	*key = buf;
	return 0;
}

int tempkey_load(struct tempkey *tk, const char *dm_name, const void *key, size_t size)
{
	int r;

	memset(tk, 0, sizeof(*tk));
	tk->fd = vctl_open(VCTL_LOAD, NULL);
	if (tk->fd < 0) {
		r = tk->fd;
		tk->fd = -1;
		return r;
	}
	r = vctl_temp_key_name(dm_name, (unsigned int)size * 8, tk->name);
	if (r) {
		log_err("cannot make a key name: %s", strerror(-r));
		goto fail;
	}
	/* No VAULT_KEY_PERSISTENT: the key dies with tk->fd whatever happens. */
	r = vctl_key_add(tk->fd, tk->name, key, size, 0);
	if (r)
		goto fail;
	tk->loaded = 1;
	return 0;
fail:
	vctl_close(tk->fd);
	tk->fd = -1;
	return r;
}

void tempkey_unload(struct tempkey *tk)
{
	if (tk->fd < 0)
		return;
	if (tk->loaded && vctl_key_remove(tk->fd, tk->name))
		log_warn("key %s is removed when vaultctl exits", tk->name);
	tk->loaded = 0;
	vctl_close(tk->fd);
	tk->fd = -1;
}

unsigned int tempkey_active_bits(const struct vault_table *t)
{
	struct vault_key_info *keys;
	unsigned int bits = table_key_bits_from_field(t->key);
	uint32_t n, i;
	int fd;

	if (bits || strncmp(t->key, "key:", 4))
		return bits;
	fd = vctl_open(VCTL_QUIET, NULL);
	if (fd < 0)
		return 0;
	if (!vctl_key_list(fd, &keys, &n)) {
		for (i = 0; i < n; i++)
			if (!strncmp(keys[i].name, t->key + 4, sizeof(keys[i].name)))
				bits = keys[i].key_size * 8;
		free(keys);
	}
	vctl_close(fd);
	return bits;
}
