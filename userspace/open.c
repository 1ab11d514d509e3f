// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: the open command, dispatched by device type.  Without --type a
 * device is opened as LUKS2 (which says so when the device holds no LUKS2
 * header); plain mode has no header to recognise, so it is asked for.
 */
#include <errno.h>
#include <string.h>

#include "util.h"
#include "vaultctl.h"

struct open_type {
	const char *name;
	int (*open)(const struct vault_opts *o, const char *device, const char *name);
};

static const struct open_type open_types[] = {
	{ "plain", plain_open },
	{ "luks2", luks_open },
	{ "luks", luks_open },
};

/* Options plain mode does not take (they are about passphrases and keyslots). */
#define OPTS_LUKS_ONLY	(OPTB(OPT_KEYFILE_SIZE) | OPTB(OPT_TRIES) | OPTB(OPT_KEY_SLOT) |	\
			 OPTB(OPT_TOKEN_ID) | OPTB(OPT_TOKEN_TYPE) | OPTB(OPT_TOKEN_ONLY) |	\
			 OPTB(OPT_DISABLE_TOKENS) | OPTB(OPT_TEST_PASSPHRASE) | OPTB(OPT_HEADER))

int cmd_open(const struct vault_opts *o, int argc, char **argv)
{
	size_t i;

	/* as cryptsetup: --test-passphrase needs no NAME (it maps nothing) */
	if (argc < 2 && !o->test_passphrase) {
		log_err("'open' needs DEVICE NAME");
		return -EINVAL;
	}
	if (o->token_only && o->disable_tokens) {
		log_err("--token-only and --disable-tokens contradict each other");
		return -EINVAL;
	}
	if (o->test_passphrase && (!o->type || strcmp(o->type, "plain")))
		return luks_test_passphrase(o, argv[0]);
	if (!o->type)
		return luks_open(o, argv[0], argv[1]);
	if (!strcmp(o->type, "plain") && (o->set & OPTS_LUKS_ONLY)) {
		log_err("--keyfile-size, --tries, --key-slot, the token options, --test-passphrase and --header are for LUKS2, not plain mode");
		return -EINVAL;
	}
	for (i = 0; i < sizeof(open_types) / sizeof(open_types[0]); i++)
		if (!strcmp(o->type, open_types[i].name))
			return open_types[i].open(o, argv[0], argv[1]);
	log_err("unknown device type '%s' (supported: luks2, plain)", o->type);
	return -EINVAL;
}
