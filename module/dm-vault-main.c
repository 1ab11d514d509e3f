// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-vault: module entry points.
 */
#include <linux/module.h>

#include "dm-vault-core.h"

/*
 * /dev/vault-control is the only way in for keys and the last thing to
 * appear: once it exists, init cannot fail, so no key can be loaded into a
 * module whose init then unwinds (its memory freed without a wipe, and an
 * open control file left pointing at unloaded code).
 */
static int __init vault_init(void)
{
	int r;

	r = vault_register_target();
	if (r) {
		pr_err("cannot register the vault target: %d\n", r);
		return r;
	}
	r = vault_control_init();
	if (r) {
		pr_err("cannot register /dev/%s: %d\n", VAULT_CONTROL_NAME, r);
		vault_unregister_target();
		/* none can exist without the control device; costs nothing */
		vault_keys_wipe_all();
	}
	return r;
}

/* The reverse order: no new key can arrive while the target goes away. */
static void __exit vault_exit(void)
{
	vault_control_exit();
	vault_unregister_target();
	vault_keys_wipe_all();
}

module_init(vault_init);
module_exit(vault_exit);

MODULE_DESCRIPTION("device-mapper target for transparent block encryption, keys via /dev/vault-control");
MODULE_LICENSE("GPL");
MODULE_ALIAS("dm-vault");
MODULE_VERSION(VAULT_MODULE_VERSION);
