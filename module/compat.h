/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-vault: differences between supported kernels. The Kbuild probes the
 * target kernel's headers and defines VAULT_HAVE_* so that the other files
 * carry no version checks.
 */
#ifndef DM_VAULT_COMPAT_H
#define DM_VAULT_COMPAT_H

#include <linux/crypto.h>

/* Linux 6.3 passed the request's data pointer to completions directly. */
#ifdef VAULT_HAVE_COMPLETION_DATA
#define vault_completion_arg_t void *
static inline void *vault_completion_data(vault_completion_arg_t arg)
{
	return arg;
}
#else
#define vault_completion_arg_t struct crypto_async_request *
static inline void *vault_completion_data(vault_completion_arg_t arg)
{
	return arg->data;
}
#endif

/* Linux 6.5 gave dm tables a blk_mode_t with its own write bit. */
#ifdef VAULT_HAVE_BLK_MODE
#define VAULT_TABLE_MODE_WRITE	BLK_OPEN_WRITE
#else
#define VAULT_TABLE_MODE_WRITE	FMODE_WRITE
#endif

#endif /* DM_VAULT_COMPAT_H */
