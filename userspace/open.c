// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: the open command, dispatched by device type.
 */
#include <errno.h>
#include <string.h>

#include "util.h"
#include "vaultctl.h"

struct open_type {
	const char *name;
	int (*open)(const struct vault_opts *o, const char *device, const char *name);
};

/* LUKS2 will add a row here. */
static const struct open_type open_types[] = {
	{ "plain", plain_open },
};

int cmd_open(const struct vault_opts *o, int argc, char **argv)
{
	size_t i;

	(void)argc;
	for (i = 0; i < sizeof(open_types) / sizeof(open_types[0]); i++)
		if (!strcmp(o->type, open_types[i].name))
			return open_types[i].open(o, argv[0], argv[1]);
	log_err("unknown device type '%s' (supported: plain)", o->type);
	return -EINVAL;
}
