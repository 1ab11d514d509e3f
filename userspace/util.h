/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vaultctl: messages, exit codes, number and size parsing, block device checks.
 */
#ifndef VAULTCTL_UTIL_H
#define VAULTCTL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "i18n.h"

#define SECTOR_SHIFT	9
#define SECTOR_SIZE	512U

/* Exit codes, as cryptsetup uses them. */
enum vault_exit {
	EXIT_OK = 0,
	EXIT_WRONG_PARAMS = 1,	/* also every error without a better code */
	EXIT_NO_PERM = 2,	/* no permission or bad passphrase */
	EXIT_NO_MEM = 3,
	EXIT_WRONG_DEVICE = 4,
	EXIT_BUSY = 5,		/* device busy or already exists */
};

/*
 * Message levels: errors always print, the rest only when asked for.
 * log_err, log_warn and log_verbose translate FMT (gettext; xgettext knows
 * them as keywords); log_dbg does not.
 */
extern int log_verbose_level;	/* --verbose */
extern int log_debug_level;	/* --debug */

void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_dbg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Errors and warnings print "vaultctl: CTX: ..." while CTX is set (e.g.
 * "/etc/vaulttab:7: root" during open --all); NULL clears it.  CTX is not
 * copied: it must stay valid until cleared.
 */
void log_set_context(const char *ctx);

/* Maps a negative errno (or 0) to an exit code. */
int errno_to_exit(int err);

/* Strict unsigned decimal: no sign, no spaces, no trailing text, no overflow. */
int parse_u64(const char *s, uint64_t *out);
int parse_uint(const char *s, unsigned int *out);

/*
 * A size or offset in 512-byte sectors.  A bare number counts sectors; a
 * number followed by a unit (K, M, G, T or P, optionally followed by "iB";
 * powers of 1024) counts bytes and must be a multiple of 512.
 */
int parse_sectors(const char *s, uint64_t *sectors);

/* True when the caller holds CAP_SYS_ADMIN in its effective set. */
bool have_cap_sys_admin(void);

/* A block device, as vaultctl needs to know it before mapping it. */
struct blkdev {
	char path[4096];	/* as given by the user */
	unsigned int major, minor;
	uint64_t sectors;	/* size in 512-byte sectors */
	bool readonly;
};

/*
 * Opens PATH to check that it is a block device, that no device-mapper
 * mapping holds it and that nothing has it open exclusively (e.g. a mount),
 * and fills DEV.  Prints its own error message.
 */
/* Says why stat(@path) failed with @err; returns the -errno for the exit code. */
int device_stat_error(const char *path, int err);
int blkdev_probe(const char *path, bool readonly, struct blkdev *dev);

/* Number of entries in /sys/dev/block/MAJ:MIN/holders (negative errno on error). */
int blkdev_holders(unsigned int major, unsigned int minor);

/* Size in 512-byte sectors of MAJ:MIN, from sysfs. */
int blkdev_size_by_devt(unsigned int major, unsigned int minor, uint64_t *sectors);

/* "/dev/<name>" of MAJ:MIN from sysfs; falls back to "MAJ:MIN". */
void blkdev_path_by_devt(unsigned int major, unsigned int minor, char *buf, size_t len);

/* Parses "MAJ:MIN". */
int parse_devt(const char *s, unsigned int *major, unsigned int *minor);

/*
 * Checks a device-mapper device name given on the command line: NULL when
 * it is fine, else why not ("control", ".", "..", a '/', too long, ...).
 */
const char *dm_name_problem(const char *name);
/* 0 when dm_name_problem() finds nothing, else -EINVAL. */
int dm_name_valid(const char *name);

/* Writes all of BUF to FD (no stdio buffer: key bytes stay out of it). */
int write_all(int fd, const char *buf, size_t len);

/*
 * Strict base64 IN (no whitespace, padded) (a token field) into OUT: the
 * decoded length, or -EINVAL when IN is not base64 or decodes to more than
 * CAP bytes (-ENOMEM).  For public blobs: the scratch copy is not wiped.
 */
long b64_decode_strict(const char *in, unsigned char *out, size_t cap);

#endif
