// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: the client of /dev/vault-control.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "util.h"

static void run_modprobe(void)
{
	static const char *const paths[] = { "/sbin/modprobe", "/usr/sbin/modprobe" };
	int status;
	pid_t pid;
	size_t i;

	log_dbg("running modprobe dm-vault");
	pid = fork();
	if (pid < 0) {
		log_dbg("fork failed: %s", strerror(errno));
		return;
	}
	if (!pid) {
		int null = open("/dev/null", O_RDWR);

		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
			if (!log_debug_level)
				dup2(null, STDERR_FILENO);
		}
		for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
			execl(paths[i], "modprobe", "dm-vault", (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	log_dbg("modprobe dm-vault exited with status %d",
		WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

static int open_node(void)
{
	int fd = open(VAULT_CONTROL_PATH, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static int version_ioctl(int fd, struct vault_version *ver, bool quiet);

static bool node_missing(int r)
{
	return r == -ENOENT || r == -ENODEV || r == -ENXIO;
}

int vctl_open(unsigned int flags, struct vault_version *ver)
{
	bool load = flags & VCTL_LOAD, quiet = flags & VCTL_QUIET;
	struct vault_version v;
	int fd, i, r;

	fd = open_node();
	if (node_missing(fd) && load) {
		run_modprobe();
		/* A node made by udev can lag behind the module load a little. */
		for (i = 0; i < 20; i++) {
			struct timespec ts = { 0, 50 * 1000 * 1000 };

			fd = open_node();
			if (!node_missing(fd))
				break;
			nanosleep(&ts, NULL);
		}
	}
	if (node_missing(fd)) {
		if (quiet)
			return -ENOTSUP;
		log_err("the dm-vault module is not loaded (%s is missing%s)",
			VAULT_CONTROL_PATH, load ? " and \"modprobe dm-vault\" did not help" : "");
		return -ENOTSUP;
	}
	if (fd < 0 && quiet)
		return fd;
	if (fd == -EACCES || fd == -EPERM) {
		log_err("no permission to open %s (needs root)", VAULT_CONTROL_PATH);
		return -EPERM;
	}
	if (fd < 0) {
		log_err("cannot open %s: %s", VAULT_CONTROL_PATH, strerror(-fd));
		return fd;
	}
	r = version_ioctl(fd, &v, quiet);
	if (r) {
		close(fd);
		return r;
	}
	if (v.major != VAULT_VERSION_MAJOR) {
		if (!quiet)
			log_err("the dm-vault module speaks interface version %u.%u, this vaultctl needs %u.x",
				v.major, v.minor, VAULT_VERSION_MAJOR);
		close(fd);
		return -ENOTSUP;
	}
	log_dbg("dm-vault interface %u.%u, features 0x%llx", v.major, v.minor,
		(unsigned long long)v.features);
	if (ver)
		*ver = v;
	return fd;
}

void vctl_close(int fd)
{
	if (fd >= 0)
		close(fd);
}

static int version_ioctl(int fd, struct vault_version *ver, bool quiet)
{
	int r;

	memset(ver, 0, sizeof(*ver));
	if (!ioctl(fd, VAULT_IOC_VERSION, ver))
		return 0;
	r = -errno;
	if (quiet)
		return r;
	if (r == -EPERM || r == -EACCES)
		log_err("no permission to use %s (needs CAP_SYS_ADMIN)", VAULT_CONTROL_PATH);
	else if (r == -ENOTTY)
		log_err("%s is not a dm-vault control device", VAULT_CONTROL_PATH);
	else
		log_err("cannot get the dm-vault interface version: %s", strerror(-r));
	return r;
}

int vctl_version(int fd, struct vault_version *ver)
{
	return version_ioctl(fd, ver, false);
}

int vctl_key_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (!n || n >= VAULT_KEY_NAME_MAX)
		return -EINVAL;
	for (; *name; name++) {
		char c = *name;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == ':' || c == '-'))
			return -EINVAL;
	}
	return 0;
}

int vctl_key_add(int fd, const char *name, const void *key, size_t size, uint32_t flags)
{
	struct vault_key_add req;
	int r;

	if (vctl_key_name_valid(name) || !size || size > VAULT_KEY_SIZE_MAX) {
		log_err("invalid key name or size");
		return -EINVAL;
	}
	memset(&req, 0, sizeof(req));
	strcpy(req.name, name);
	req.key_ptr = (uint64_t)(uintptr_t)key;
	req.key_size = (uint32_t)size;
	req.flags = flags;
	r = ioctl(fd, VAULT_IOC_KEY_ADD, &req) ? -errno : 0;
	if (r == -EEXIST)
		log_err("a key named %s is already loaded", name);
	else if (r == -ENOSPC)
		log_err("the dm-vault key table is full");
	else if (r == -EPERM || r == -EACCES)
		log_err("no permission to add key %s (needs CAP_SYS_ADMIN)", name);
	else if (r)
		log_err("cannot add key %s: %s", name, strerror(-r));
	else
		log_dbg("key %s added (%zu bytes%s)", name, size,
			flags & VAULT_KEY_PERSISTENT ? ", persistent" : "");
	return r;
}

int vctl_key_remove(int fd, const char *name)
{
	struct vault_key_remove req;
	int r;

	if (vctl_key_name_valid(name)) {
		log_err("invalid key name '%s'", name);
		return -EINVAL;
	}
	memset(&req, 0, sizeof(req));
	strcpy(req.name, name);
	r = ioctl(fd, VAULT_IOC_KEY_REMOVE, &req) ? -errno : 0;
	if (r == -ENOENT)
		log_err("no key named %s is loaded", name);
	else if (r == -EPERM || r == -EACCES)
		log_err("no permission to remove key %s (needs CAP_SYS_ADMIN)", name);
	else if (r)
		log_err("cannot remove key %s: %s", name, strerror(-r));
	else
		log_dbg("key %s removed", name);
	return r;
}

int vctl_key_list(int fd, struct vault_key_info **keys, uint32_t *count)
{
	struct vault_key_info *buf = NULL;
	struct vault_key_list req;
	uint32_t cap = 0;
	int tries, r;

	*keys = NULL;
	*count = 0;
	for (tries = 0; tries < 8; tries++) {
		memset(&req, 0, sizeof(req));
		req.keys_ptr = (uint64_t)(uintptr_t)buf;
		req.capacity = cap;
		if (ioctl(fd, VAULT_IOC_KEY_LIST, &req)) {
			r = -errno;
			if (r == -ENOTTY)
				log_err("this dm-vault module cannot list keys");
			else
				log_err("cannot list keys: %s", strerror(-r));
			free(buf);
			return r;
		}
		if (req.count <= cap) {
			*keys = buf;
			*count = req.count;
			return 0;
		}
		free(buf);
		cap = req.count + 4;
		buf = calloc(cap, sizeof(*buf));
		if (!buf)
			return -ENOMEM;
	}
	free(buf);
	log_err("the key list keeps changing; try again");
	return -EAGAIN;
}

int vctl_temp_key_name(const char *dm_name, unsigned int bits, char out[VAULT_KEY_NAME_MAX])
{
	unsigned char rnd[8];
	char part[VAULT_KEY_NAME_MAX], hex[2 * sizeof(rnd) + 1];
	size_t i, room;
	int n;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -errno ? -errno : -EIO;
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(hex + 2 * i, 3, "%02x", rnd[i]);

	/* "vaultctl-" + name + "-" + pid (up to 10) + "-" + 16 hex + "-" + bits (4) + "b" + NUL */
	if (!bits || bits > 9999)
		return -EINVAL;
	room = VAULT_KEY_NAME_MAX - 1 - (9 + 1 + 10 + 1 + 16 + 1 + 4 + 1);
	for (i = 0; dm_name[i] && i < room; i++) {
		char c = dm_name[i];

		part[i] = (char)(vctl_key_name_valid((char[]){ c, '\0' }) ? '_' : c);
	}
	part[i] = '\0';
	n = snprintf(out, VAULT_KEY_NAME_MAX, "vaultctl-%s-%ld-%s-%ub", part,
		     (long)getpid(), hex, bits);
	if (n < 0 || n >= VAULT_KEY_NAME_MAX)
		return -ENAMETOOLONG;
	return vctl_key_name_valid(out);
}

void vctl_features_string(uint64_t features, char *buf, size_t len)
{
	static const struct {
		uint64_t bit;
		const char *name;
	} names[] = {
		{ VAULT_FEATURE_KEY_LIST, "key_list" },
		{ VAULT_FEATURE_FD_SCOPED_KEYS, "fd_scoped_keys" },
	};
	size_t i, pos = 0;
	int n;

	if (!len)
		return;
	buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(features & names[i].bit))
			continue;
		features &= ~names[i].bit;
		n = snprintf(buf + pos, len - pos, "%s%s", pos ? " " : "", names[i].name);
		if (n < 0 || (size_t)n >= len - pos)
			return;
		pos += (size_t)n;
	}
	if (features)
		snprintf(buf + pos, len - pos, "%sunknown:0x%llx", pos ? " " : "",
			 (unsigned long long)features);
}
