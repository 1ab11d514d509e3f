// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: the "systemd-recovery" token: marks the keyslot of a recovery
 * key.  The key itself is typed at the passphrase prompt (it is that
 * keyslot's passphrase), so there is nothing to unlock automatically.
 */
#include <errno.h>

#include <json-c/json.h>

#include "token.h"

static int recovery_unlock(struct token_ctx *ctx, int id, struct json_object *token,
			   struct passphrase *secret)
{
	(void)id;
	(void)secret;
	/* systemd writes exactly one keyslot per recovery token */
	if (json_object_array_length(json_object_object_get(token, "keyslots")) != 1) {
		token_why(ctx, "a systemd-recovery token names exactly one keyslot");
		return -EINVAL;
	}
	token_why(ctx, "a recovery key is typed at the passphrase prompt");
	return -ENOENT;
}

const struct token_method token_recovery = {
	.type = "systemd-recovery",
	.unlock = recovery_unlock,
};
