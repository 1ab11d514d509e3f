// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-vault: module entry points.
 */
#include <linux/module.h>

#include "dm-vault-core.h"

static int __init vault_init(void)
{
	int r;

	r = vault_control_init();
	if (r) {
		pr_err("cannot register /dev/%s: %d\n", VAULT_CONTROL_NAME, r);
		return r;
	}
	r = vault_register_target();
	if (r) {
		pr_err("cannot register the vault target: %d\n", r);
		vault_control_exit();
	}
	return r;
}

static void __exit vault_exit(void)
{
	vault_unregister_target();
	vault_control_exit();
	vault_keys_wipe_all();
}

module_init(vault_init);
module_exit(vault_exit);

MODULE_DESCRIPTION("device-mapper target for transparent block encryption, keys via /dev/vault-control");
MODULE_LICENSE("GPL");
MODULE_ALIAS("dm-vault");
