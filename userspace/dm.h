/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vaultctl: device-mapper.  This is the only file that talks to the kernel's
 * device-mapper, through libdevmapper.  It copes with and without udev: with
 * udev it waits on cookies; without it, libdevmapper makes and removes the
 * /dev/mapper nodes itself.
 */
#ifndef VAULTCTL_DM_H
#define VAULTCTL_DM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VDM_UUID_MAX	129

struct vdm_info {
	bool exists;
	bool suspended;
	bool read_only;
	int open_count;
	unsigned int major, minor;
	int target_count;
	char uuid[VDM_UUID_MAX];
};

/* The first target of a table, and how many targets the table has. */
struct vdm_table {
	uint64_t start, len;
	char type[64];
	char *params;		/* malloc'ed */
	int count;
};

/* Sets up libdevmapper once (logging, udev detection, driver check). */
int vdm_init(void);
void vdm_exit(void);
bool vdm_udev_running(void);

int vdm_info(const char *name, struct vdm_info *info);
/* 0 when no device is called @name; else says why not and returns -errno. */
int vdm_require_absent(const char *name);
int vdm_create(const char *name, const char *uuid, uint64_t len,
	       const char *type, const char *params, bool read_only);
int vdm_reload(const char *name, uint64_t len, const char *type,
	       const char *params, bool read_only);
int vdm_clear(const char *name);	/* drops an inactive table */
int vdm_suspend(const char *name);
int vdm_resume(const char *name);
int vdm_remove(const char *name);
int vdm_message(const char *name, const char *message);
/* The same, for messages that carry no secret, with the target's reply in REPLY. */
int vdm_message_reply(const char *name, const char *message, char *reply, size_t len);
int vdm_table(const char *name, struct vdm_table *t);
void vdm_table_free(struct vdm_table *t);

#endif
