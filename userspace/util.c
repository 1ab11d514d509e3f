// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: messages, exit codes, number and size parsing, block device checks.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "i18n.h"
#include "util.h"

int log_verbose_level;
int log_debug_level;
static const char *log_context;

void log_set_context(const char *ctx)
{
	log_context = ctx;
}

static void vlog(FILE *f, const char *prefix, const char *fmt, va_list ap)
{
	fputs(prefix, f);
	vfprintf(f, fmt, ap);
	fputc('\n', f);
}

/* "vaultctl: [CONTEXT: ][warning: ]message" */
static void vlog_ctx(const char *warn, const char *fmt, va_list ap)
{
	fputs("vaultctl: ", stderr);
	if (log_context)
		fprintf(stderr, "%s: ", log_context);
	vlog(stderr, warn, fmt, ap);
}

void log_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog_ctx("", gettext(fmt), ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	/* TRANSLATORS: the prefix of a warning, "vaultctl: warning: MESSAGE" */
	vlog_ctx(_("warning: "), gettext(fmt), ap);
	va_end(ap);
}

void log_verbose(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose_level && !log_debug_level)
		return;
	va_start(ap, fmt);
	vlog(stdout, "", gettext(fmt), ap);
	va_end(ap);
}

/* Not translated: debug output is for developers and bug reports. */
void log_dbg(const char *fmt, ...)
{
	va_list ap;

	if (!log_debug_level)
		return;
	va_start(ap, fmt);
	vlog(stderr, "# ", fmt, ap);
	va_end(ap);
}

int errno_to_exit(int err)
{
	switch (err) {
	case 0:
		return EXIT_OK;
	case -EPERM:
	case -EACCES:
		return EXIT_NO_PERM;
	case -ENOMEM:
		return EXIT_NO_MEM;
	case -ENODEV:
	case -ENOENT:
	case -ENXIO:
	case -ENOTBLK:
		return EXIT_WRONG_DEVICE;
	case -EBUSY:
	case -EEXIST:
	case -ESTALE:	/* the header changed under us (another program) */
		return EXIT_BUSY;
	default:
		return EXIT_WRONG_PARAMS;
	}
}

int parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		unsigned int d;

		if (*s < '0' || *s > '9')
			return -EINVAL;
		d = (unsigned int)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int parse_uint(const char *s, unsigned int *out)
{
	uint64_t v;
	int r = parse_u64(s, &v);

	if (r)
		return r;
	if (v > UINT32_MAX)
		return -ERANGE;
	*out = (unsigned int)v;
	return 0;
}

int parse_sectors(const char *s, uint64_t *sectors)
{
	static const char units[] = "KMGTP";
	const char *p, *u;
	char num[32];
	uint64_t v, mult = 1;
	size_t n;
	int r;

	if (!s)
		return -EINVAL;
	for (p = s; *p >= '0' && *p <= '9'; p++)
		;
	n = (size_t)(p - s);
	if (!n || n >= sizeof(num))
		return n ? -ERANGE : -EINVAL;
	memcpy(num, s, n);
	num[n] = '\0';
	r = parse_u64(num, &v);
	if (r)
		return r;
	if (!*p) {
		*sectors = v;
		return 0;
	}
	u = strchr(units, toupper((unsigned char)*p));
	if (!u)
		return -EINVAL;
	p++;
	if (strcmp(p, "") && strcmp(p, "iB"))
		return -EINVAL;
	for (; u >= units; u--)
		mult *= 1024;
	if (v > UINT64_MAX / mult)
		return -ERANGE;
	v *= mult;
	if (v % SECTOR_SIZE)
		return -EINVAL;
	*sectors = v >> SECTOR_SHIFT;
	return 0;
}

bool have_cap_sys_admin(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
		.pid = 0,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data))
		return geteuid() == 0;
	return data[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective & CAP_TO_MASK(CAP_SYS_ADMIN);
}

int parse_devt(const char *s, unsigned int *major, unsigned int *minor)
{
	char buf[32];
	const char *colon = strchr(s, ':');
	size_t n;

	if (!colon)
		return -EINVAL;
	n = (size_t)(colon - s);
	if (n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (parse_uint(buf, major) || parse_uint(colon + 1, minor))
		return -EINVAL;
	return 0;
}

int blkdev_holders(unsigned int major, unsigned int minor)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/holders", major, minor);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	}
	closedir(d);
	return n;
}

static int read_sysfs_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	int r = 0;

	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f))
		r = -EIO;
	fclose(f);
	if (!r)
		buf[strcspn(buf, "\n")] = '\0';
	return r;
}

int blkdev_size_by_devt(unsigned int major, unsigned int minor, uint64_t *sectors)
{
	char path[64], line[64];
	int r;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/size", major, minor);
	r = read_sysfs_line(path, line, sizeof(line));
	if (r)
		return r;
	return parse_u64(line, sectors);
}

void blkdev_path_by_devt(unsigned int major, unsigned int minor, char *buf, size_t len)
{
	char path[64], line[256];
	FILE *f;

	snprintf(buf, len, "%u:%u", major, minor);
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/uevent", major, minor);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "DEVNAME=", 8) && line[8]) {
			snprintf(buf, len, "/dev/%s", line + 8);
			break;
		}
	}
	fclose(f);
}

int device_stat_error(const char *path, int err)
{
	switch (err) {
	case ENOENT:
	case ENOTDIR:
		log_err("device %s does not exist", path);
		return -ENODEV;
	case EACCES:
	case EPERM:
		log_err("device %s: access denied", path);
		return -err;
	case ENOMEM:
		log_err("cannot examine device %s: %s", path, strerror(err));
		return -ENOMEM;
	default:
		log_err("cannot examine device %s: %s", path, strerror(err));
		return -ENODEV;
	}
}

int blkdev_probe(const char *path, bool readonly, struct blkdev *dev)
{
	struct stat st;
	uint64_t bytes;
	int fd, ro = 0, r;

	memset(dev, 0, sizeof(*dev));
	if (strlen(path) >= sizeof(dev->path)) {
		log_err("device path is too long");
		return -EINVAL;
	}
	strcpy(dev->path, path);
	if (stat(path, &st))
		return device_stat_error(path, errno);
	if (!S_ISBLK(st.st_mode)) {
		log_err("%s is not a block device", path);
		return -ENOTBLK;
	}
	dev->major = major(st.st_rdev);
	dev->minor = minor(st.st_rdev);

	r = blkdev_holders(dev->major, dev->minor);
	if (r > 0) {
		log_err("device %s is in use by another mapping (see /sys/dev/block/%u:%u/holders)",
			path, dev->major, dev->minor);
		return -EBUSY;
	}
	if (r < 0)
		log_dbg("cannot read holders of %u:%u: %s", dev->major, dev->minor, strerror(-r));

	/* O_EXCL on a block device fails with EBUSY while it is mounted or claimed. */
	fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_EXCL | O_CLOEXEC);
	if (fd < 0 && !readonly && (errno == EROFS || errno == EACCES)) {
		log_err("device %s is read-only; use --readonly", path);
		return -EINVAL;
	}
	if (fd < 0) {
		r = -errno;
		if (r == -EBUSY)
			log_err("device %s is in use (mounted or held exclusively)", path);
		else
			log_err("cannot open device %s: %s", path, strerror(-r));
		return r == -EBUSY || r == -EACCES || r == -EPERM ? r : -ENODEV;
	}
	if (ioctl(fd, BLKGETSIZE64, &bytes)) {
		r = -errno;
		log_err("cannot get the size of %s: %s", path, strerror(-r));
		close(fd);
		return -ENODEV;
	}
	if (!ioctl(fd, BLKROGET, &ro) && ro)
		dev->readonly = true;
	close(fd);
	if (dev->readonly && !readonly) {
		log_err("device %s is read-only; use --readonly", path);
		return -EINVAL;
	}
	dev->sectors = bytes >> SECTOR_SHIFT;
	log_dbg("device %s is %u:%u, %llu sectors", path, dev->major, dev->minor,
		(unsigned long long)dev->sectors);
	return 0;
}

const char *dm_name_problem(const char *name)
{
	const char *p;
	size_t n = strlen(name);

	if (!n)
		return _("a name cannot be empty");
	/* Short enough that "VAULT-PLAIN-" + name fits a device-mapper uuid. */
	if (n > 100)
		return _("a name has at most 100 characters");
	/*
	 * 6.12's dm-ioctl refuses these in DM_DEV_CREATE; 6.1's refuses only a
	 * '/': there a device "control" is created and mapped, but it gets no
	 * node (/dev/mapper/control is the control device).  Refused on every
	 * kernel, before anything is made.
	 */
	if (!strcmp(name, "control"))
		return _("'control' is reserved by device-mapper (/dev/mapper/control)");
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return _("'.' and '..' are reserved by device-mapper (not a node name in /dev/mapper)");
	/* The characters libdevmapper passes through without mangling. */
	for (p = name; *p; p++) {
		if (!isalnum((unsigned char)*p) && !strchr("#+-.:=@_", *p))
			return _("use 1 to 100 of A-Z a-z 0-9 # + - . : = @ _");
	}
	return NULL;
}

int dm_name_valid(const char *name)
{
	return dm_name_problem(name) ? -EINVAL : 0;
}

/* write(2) all of BUF, through EINTR and short writes: 0 or -errno (-EIO: nothing written). */
int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

long b64_decode_strict(const char *in, unsigned char *out, size_t cap)
{
	size_t n = strlen(in), pad;
	unsigned char *tmp;
	int len;

	if (n == 0 || n % 4 || n > (size_t)INT_MAX)
		return -EINVAL;
	pad = (in[n - 1] == '=') + (in[n - 2] == '=');
	if (n / 4 * 3 - pad > cap)
		return -EINVAL;
	tmp = malloc(n / 4 * 3);
	if (!tmp)
		return -ENOMEM;
	len = EVP_DecodeBlock(tmp, (const unsigned char *)in, (int)n);
	if (len >= 0 && (size_t)len >= pad && (size_t)len - pad <= cap) {
		len -= (int)pad;
		memcpy(out, tmp, (size_t)len);
	} else {
		len = -EINVAL;
	}
	free(tmp);
	return len;
}
