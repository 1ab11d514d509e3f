// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: the LUKS2 header's strings: "uuid --uuid" (a cloned image gets
 * a UUID of its own) and "config --label --subsystem", with cryptsetup's
 * meanings (luksUUID --uuid, config).  The luks2 library writes them
 * (luks2/config.c): both header copies, seqid + 1, under cryptsetup's lock.
 */
#include <errno.h>
#include <string.h>

#include "luks.h"
#include "util.h"

/* The library's error as vaultctl's exit code: a changed header is "busy". */
static int write_err(struct luks2 *l, bool uuid, const char *device, int r)
{
	if (uuid)
		log_err("cannot set the UUID of %s: %s", device, luks2_error(l));
	else
		log_err("cannot set the label and subsystem of %s: %s", device, luks2_error(l));
	if (r == -ESTALE || r == -EBUSY || r == -ENOMEM || r == -EACCES)
		return r;
	return -EINVAL;
}

int luks_set_uuid(const struct vault_opts *o, const char *device)
{
	char question[4200];
	struct luks2 *l;
	int r;

	r = luks_load(device, true, &l);
	if (r)
		return r;
	/* as cryptsetup: the same UUID (in any case) is no change and no question */
	if (!strcasecmp(luks2_uuid(l), o->uuid)) {
		log_verbose("%s already has UUID %s.", device, luks2_uuid(l));
		luks2_free(l);
		return 0;
	}
	snprintf(question, sizeof(question),
		 _("The UUID of %s changes to %s (anything that finds it by its old UUID, such as "
		 "a vaulttab or crypttab entry, needs the new one)."), device, o->uuid);
	r = luks_confirm(o, question);
	if (!r) {
		r = luks2_set_uuid(l, o->uuid);
		if (r)
			r = write_err(l, true, device, r);
		else
			log_verbose("%s now has UUID %s.", device, luks2_uuid(l));
	}
	luks2_free(l);
	return r;
}

int cmd_config(const struct vault_opts *o, int argc, char **argv)
{
	const char *device = argv[0];
	struct luks2 *l;
	int r;

	(void)argc;
	if (!o->label && !o->subsystem) {
		log_err("'config' needs --label or --subsystem (or both)");
		return -EINVAL;
	}
	r = luks_load(device, true, &l);
	if (r)
		return r;
	/* cryptsetup's config sets both strings: one not given is cleared */
	r = luks2_set_labels(l, o->label, o->subsystem);
	if (r)
		r = write_err(l, false, device, r);
	else
		log_verbose("%s: label \"%s\", subsystem \"%s\".", device,
			    o->label ? o->label : "", o->subsystem ? o->subsystem : "");
	luks2_free(l);
	return r;
}
