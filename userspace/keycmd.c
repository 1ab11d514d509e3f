// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: key add, key remove, key list, version.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "secure_mem.h"
#include "tempkey.h"
#include "util.h"
#include "vaultctl.h"

int cmd_key_add(const struct vault_opts *o, int argc, char **argv)
{
	const char *name = argv[0];
	void *key = NULL;
	int fd, r;

	(void)argc;
	if (vctl_key_name_valid(name)) {
		log_err("invalid key name '%s': use 1 to %d of A-Z a-z 0-9 . _ : -",
			name, VAULT_KEY_NAME_MAX - 1);
		return -EINVAL;
	}
	r = tempkey_read(o, o->key_bits, &key);
	if (r)
		return r;
	fd = vctl_open(VCTL_LOAD, NULL);
	if (fd < 0) {
		r = fd;
		goto out;
	}
	r = vctl_key_add(fd, name, key, o->key_bits / 8, VAULT_KEY_PERSISTENT);
	vctl_close(fd);
	if (!r)
		log_verbose("Key %s is loaded (%u bits); table lines can name it as key:%s.",
			    name, o->key_bits, name);
out:
	secure_free(key);
	return r;
}

int cmd_key_remove(const struct vault_opts *o, int argc, char **argv)
{
	const char *name = argv[0];
	int fd, r;

	(void)o;
	(void)argc;
	if (vctl_key_name_valid(name)) {
		log_err("invalid key name '%s'", name);
		return -EINVAL;
	}
	fd = vctl_open(0, NULL);
	if (fd < 0)
		return fd;
	r = vctl_key_remove(fd, name);
	vctl_close(fd);
	return r;
}

int cmd_key_list(const struct vault_opts *o, int argc, char **argv)
{
	struct vault_key_info *keys;
	uint32_t n, i;
	int fd, r;

	(void)o;
	(void)argc;
	(void)argv;
	fd = vctl_open(0, NULL);
	if (fd < 0)
		return fd;
	r = vctl_key_list(fd, &keys, &n);
	vctl_close(fd);
	if (r)
		return r;
	if (log_verbose_level)
		printf("%-*s %9s  %s\n", VAULT_KEY_NAME_MAX - 1, _("NAME"), _("SIZE"), _("LIFETIME"));
	for (i = 0; i < n; i++) {
		keys[i].name[VAULT_KEY_NAME_MAX - 1] = '\0';
		printf(_("%-*s %4u bits  %s\n"), VAULT_KEY_NAME_MAX - 1, keys[i].name,
		       keys[i].key_size * 8,
		       keys[i].flags & VAULT_KEY_PERSISTENT ? _("persistent") : _("until its file is closed"));
	}
	free(keys);
	return 0;
}

/*
 * The loaded module's MODULE_VERSION (VERSION, like vaultctl's): a
 * mismatch shows a dm-vault-dkms package not built for the running kernel.
 */
static void print_module_version(void)
{
	char line[64];
	FILE *f = fopen("/sys/module/dm_vault/version", "re");

	if (!f)
		return;
	if (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (strcmp(line, VAULTCTL_VERSION))
			printf(_("dm-vault module: version %s (not vaultctl's)\n"), line);
		else
			printf(_("dm-vault module: version %s\n"), line);
	}
	fclose(f);
}

int cmd_version(const struct vault_opts *o, int argc, char **argv)
{
	struct vault_version v;
	char feat[256];
	int fd;

	(void)o;
	(void)argc;
	(void)argv;
	printf("vaultctl %s\n", VAULTCTL_VERSION);
	printf(_("dm-vault interface (built against): %u.%u\n"), VAULT_VERSION_MAJOR,
	       VAULT_VERSION_MINOR);
	print_module_version();
	fd = vctl_open(VCTL_QUIET, &v);
	if (fd == -ENOTSUP) {
		printf(_("dm-vault module: not loaded or incompatible\n"));
		return 0;
	}
	if (fd < 0) {
		printf(_("dm-vault module: unknown (%s)\n"), strerror(-fd));
		return 0;
	}
	vctl_close(fd);
	vctl_features_string(v.features, feat, sizeof(feat));
	printf(_("dm-vault module: interface %u.%u, features: %s\n"), v.major, v.minor,
	       *feat ? feat : "none");
	printf(_("dm-vault limits: key names up to %u bytes, keys up to %u bytes, %u keys\n"),
	       v.key_name_max, v.key_size_max, v.keys_max);
	return 0;
}
