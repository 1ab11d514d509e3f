// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: device-mapper, through libdevmapper (the only file that uses it).
 *
 * Every function returns 0 or a negative errno and prints nothing but debug
 * lines; callers know what the operation meant and say so.
 */
#include <errno.h>
#include <libdevmapper.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "dm.h"
#include "util.h"

#define UDEV_CONTROL	"/run/udev/control"

static bool initialized;
static bool use_udev;
static int last_dm_errno;

static void dm_log(int level, const char *file, int line, int dm_errno_or_class,
		   const char *f, ...) __attribute__((format(printf, 5, 6)));

static void dm_log(int level, const char *file, int line, int dm_errno_or_class,
		   const char *f, ...)
{
	int lvl = level & 7;	/* strip _LOG_STDERR / _LOG_ONCE */
	va_list ap;

	(void)file;
	(void)line;
	if (lvl <= 3 && dm_errno_or_class > 0)
		last_dm_errno = dm_errno_or_class;
	if (!log_debug_level || (lvl == 7 && log_debug_level < 2))
		return;
	fputs("# libdevmapper: ", stderr);
	va_start(ap, f);
	vfprintf(stderr, f, ap);
	va_end(ap);
	fputc('\n', stderr);
}

bool vdm_udev_running(void)
{
	return use_udev;
}

int vdm_init(void)
{
	char ver[64];

	if (initialized)
		return 0;
	dm_log_with_errno_init(dm_log);
	/*
	 * udev runs when its control socket exists and libdevmapper can
	 * synchronise with it (semaphores, cookies, DM_DISABLE_UDEV unset).
	 * Otherwise tell libdevmapper to make the /dev/mapper nodes itself.
	 */
	use_udev = !access(UDEV_CONTROL, F_OK) && dm_udev_get_sync_support();
	if (!use_udev) {
		dm_udev_set_sync_support(0);
		dm_udev_set_checking(0);
	}
	log_dbg("udev %s: %s", use_udev ? "running" : "not running",
		use_udev ? "waiting on cookies" : "libdevmapper makes the device nodes");
	if (!dm_driver_version(ver, sizeof(ver))) {
		log_err("cannot talk to device-mapper (is the dm-mod module loaded, and are you root?)");
		return geteuid() ? -EPERM : -ENOTSUP;
	}
	log_dbg("device-mapper driver %s", ver);
	initialized = true;
	return 0;
}

void vdm_exit(void)
{
	if (initialized)
		dm_lib_release();
	initialized = false;
}

static int task_error(void)
{
	int e = last_dm_errno ? last_dm_errno : errno;

	return e > 0 ? -e : -EIO;
}

/*
 * Runs DMT.  COOKIE: the operation makes or removes nodes, so wait for udev
 * (or, without udev, let libdevmapper do the node work now).
 */
static int run_task(struct dm_task *dmt, bool cookie_op)
{
	uint32_t cookie = 0;
	uint16_t flags = use_udev ? DM_UDEV_DISABLE_LIBRARY_FALLBACK : 0;
	bool cookie_set = false;
	int r;

	if (cookie_op) {
		if (!dm_task_set_cookie(dmt, &cookie, flags))
			return -ENOMEM;
		cookie_set = true;
	}
	last_dm_errno = 0;
	errno = 0;
	r = dm_task_run(dmt) ? 0 : task_error();
	if (cookie_set)
		(void)dm_udev_wait(cookie);
	return r;
}

static struct dm_task *task_new(int type, const char *name)
{
	struct dm_task *dmt = dm_task_create(type);

	if (!dmt)
		return NULL;
	if (name && !dm_task_set_name(dmt, name)) {
		dm_task_destroy(dmt);
		return NULL;
	}
	return dmt;
}

int vdm_info(const char *name, struct vdm_info *info)
{
	struct dm_task *dmt;
	struct dm_info dmi;
	const char *uuid;
	int r;

	memset(info, 0, sizeof(*info));
	r = vdm_init();
	if (r)
		return r;
	dmt = task_new(DM_DEVICE_INFO, name);
	if (!dmt)
		return -ENOMEM;
	r = run_task(dmt, false);
	if (!r && !dm_task_get_info(dmt, &dmi))
		r = -EIO;
	if (!r && dmi.exists) {
		info->exists = true;
		info->suspended = dmi.suspended;
		info->read_only = dmi.read_only;
		info->open_count = dmi.open_count;
		info->major = dmi.major;
		info->minor = dmi.minor;
		info->target_count = dmi.target_count;
		uuid = dm_task_get_uuid(dmt);
		if (uuid)
			snprintf(info->uuid, sizeof(info->uuid), "%s", uuid);
	}
	dm_task_destroy(dmt);
	return r;
}

int vdm_require_absent(const char *name)
{
	struct vdm_info info;
	int r = vdm_info(name, &info);

	if (r) {
		log_err("cannot query device-mapper: %s", strerror(-r));
		return r;
	}
	if (info.exists) {
		log_err("device %s already exists", name);
		return -EEXIST;
	}
	return 0;
}

/* /dev/mapper/NAME as the block device MAJ:MIN? */
static bool node_matches(const char *name, unsigned int major, unsigned int minor)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dm_dir(), name);
	return !stat(path, &st) && S_ISBLK(st.st_mode) &&
	       major(st.st_rdev) == major && minor(st.st_rdev) == minor;
}

static void check_node_present(const char *name)
{
	struct vdm_info info;

	if (vdm_info(name, &info) || !info.exists)
		return;
	if (node_matches(name, info.major, info.minor))
		return;
	log_dbg("%s/%s is missing, asking libdevmapper to make it", dm_dir(), name);
	dm_mknodes(name);
	if (!node_matches(name, info.major, info.minor))
		log_warn("device node %s/%s was not created", dm_dir(), name);
}

static int load_table(struct dm_task *dmt, uint64_t len, const char *type,
		      const char *params, bool read_only)
{
	if (!dm_task_add_target(dmt, 0, len, type, params))
		return -ENOMEM;
	if (read_only && !dm_task_set_ro(dmt))
		return -ENOMEM;
	if (!dm_task_secure_data(dmt))
		return -ENOMEM;
	return 0;
}

int vdm_create(const char *name, const char *uuid, uint64_t len,
	       const char *type, const char *params, bool read_only)
{
	struct dm_task *dmt;
	int r;

	r = vdm_init();
	if (r)
		return r;
	dmt = task_new(DM_DEVICE_CREATE, name);
	if (!dmt)
		return -ENOMEM;
	r = load_table(dmt, len, type, params, read_only);
	if (!r && uuid && !dm_task_set_uuid(dmt, uuid))
		r = -ENOMEM;
	if (!r)
		r = run_task(dmt, true);
	dm_task_destroy(dmt);
	log_dbg("create %s: %s", name, r ? strerror(-r) : "ok");
	if (!r)
		check_node_present(name);
	return r;
}

int vdm_reload(const char *name, uint64_t len, const char *type,
	       const char *params, bool read_only)
{
	struct dm_task *dmt;
	int r;

	r = vdm_init();
	if (r)
		return r;
	dmt = task_new(DM_DEVICE_RELOAD, name);
	if (!dmt)
		return -ENOMEM;
	r = load_table(dmt, len, type, params, read_only);
	if (!r)
		r = run_task(dmt, false);
	dm_task_destroy(dmt);
	log_dbg("reload %s: %s", name, r ? strerror(-r) : "ok");
	return r;
}

static int simple_op(int type, const char *name, bool cookie_op, const char *what)
{
	struct dm_task *dmt;
	int r;

	r = vdm_init();
	if (r)
		return r;
	dmt = task_new(type, name);
	if (!dmt)
		return -ENOMEM;
	if (type == DM_DEVICE_REMOVE)
		dm_task_retry_remove(dmt);
	r = run_task(dmt, cookie_op);
	dm_task_destroy(dmt);
	log_dbg("%s %s: %s", what, name, r ? strerror(-r) : "ok");
	return r;
}

int vdm_clear(const char *name)
{
	return simple_op(DM_DEVICE_CLEAR, name, false, "clear");
}

int vdm_suspend(const char *name)
{
	/* With lockfs and flush, as cryptsetup's luksSuspend. */
	return simple_op(DM_DEVICE_SUSPEND, name, false, "suspend");
}

int vdm_resume(const char *name)
{
	int r = simple_op(DM_DEVICE_RESUME, name, true, "resume");

	if (!r)
		check_node_present(name);
	return r;
}

int vdm_remove(const char *name)
{
	struct vdm_info info;
	char path[256];
	int r;

	r = vdm_info(name, &info);
	if (r)
		return r;
	if (!info.exists)
		return -ENODEV;
	r = simple_op(DM_DEVICE_REMOVE, name, true, "remove");
	if (r)
		return r;
	/* Without udev the library removed the node; make sure of it. */
	if (!use_udev && node_matches(name, info.major, info.minor)) {
		snprintf(path, sizeof(path), "%s/%s", dm_dir(), name);
		log_dbg("removing stale node %s", path);
		if (unlink(path))
			log_warn("cannot remove stale node %s: %s", path, strerror(errno));
	}
	return 0;
}

int vdm_message_reply(const char *name, const char *message, char *reply, size_t len)
{
	struct dm_task *dmt;
	const char *resp;
	int r;

	if (len)
		reply[0] = '\0';
	r = vdm_init();
	if (r)
		return r;
	dmt = task_new(DM_DEVICE_TARGET_MSG, name);
	if (!dmt)
		return -ENOMEM;
	/* secure data: a message may name a key ("key set key:..."): wiped in the kernel */
	if (!dm_task_set_sector(dmt, 0) || !dm_task_set_message(dmt, message) ||
	    !dm_task_secure_data(dmt))
		r = -ENOMEM;
	if (!r)
		r = run_task(dmt, false);
	resp = r ? NULL : dm_task_get_message_response(dmt);
	if (resp && len)
		snprintf(reply, len, "%s", resp);
	dm_task_destroy(dmt);
	log_dbg("message %s \"%s\": %s", name, message, r ? strerror(-r) : "ok");
	return r;
}

int vdm_message(const char *name, const char *message)
{
	return vdm_message_reply(name, message, NULL, 0);
}

int vdm_table(const char *name, struct vdm_table *t)
{
	struct dm_task *dmt;
	char *type = NULL, *params = NULL;
	uint64_t start, len;
	void *next = NULL;
	int r;

	memset(t, 0, sizeof(*t));
	r = vdm_init();
	if (r)
		return r;
	dmt = task_new(DM_DEVICE_TABLE, name);
	if (!dmt)
		return -ENOMEM;
	if (!dm_task_secure_data(dmt)) {
		dm_task_destroy(dmt);
		return -ENOMEM;
	}
	r = run_task(dmt, false);
	if (r)
		goto out;
	do {
		next = dm_get_next_target(dmt, next, &start, &len, &type, &params);
		if (!type)
			break;
		if (!t->count++) {
			t->start = start;
			t->len = len;
			snprintf(t->type, sizeof(t->type), "%s", type);
			t->params = strdup(params ? params : "");
			if (!t->params) {
				r = -ENOMEM;
				break;
			}
		}
	} while (next);
out:
	dm_task_destroy(dmt);
	if (r)
		vdm_table_free(t);
	return r;
}

void vdm_table_free(struct vdm_table *t)
{
	free(t->params);
	t->params = NULL;
}
