/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * dm-vault: the interface of /dev/vault-control.
 *
 * Keys enter the kernel only through this device; a table line names a
 * loaded key as "key:<name>" and never carries key bytes itself.
 *
 * Rules shared by every command:
 *  - the caller needs CAP_SYS_ADMIN (-EPERM otherwise);
 *  - unknown commands get -ENOTTY;
 *  - unknown flags, non-zero reserved fields, bad sizes and names that are
 *    empty, unterminated or hold characters outside [A-Za-z0-9._:-] get
 *    -EINVAL;
 *  - structures have explicit widths and no implicit padding, pointers travel
 *    as __u64, so 32-bit callers on a 64-bit kernel use the same layout.
 */
#ifndef _UAPI_LINUX_DM_VAULT_H
#define _UAPI_LINUX_DM_VAULT_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

#define VAULT_CONTROL_NAME	"vault-control"

#define VAULT_VERSION_MAJOR	1	/* bumped on an incompatible change */
#define VAULT_VERSION_MINOR	0	/* bumped when a feature bit is added */

/* Feature bits reported by VAULT_IOC_VERSION. */
#define VAULT_FEATURE_KEY_LIST		_BITULL(0)
#define VAULT_FEATURE_FD_SCOPED_KEYS	_BITULL(1)

#define VAULT_KEY_NAME_MAX	64	/* bytes, including the terminating NUL */
#define VAULT_KEY_SIZE_MAX	128	/* bytes of key material */
#define VAULT_KEYS_MAX		64	/* keys loaded at once, all callers */

/*
 * Key lifetime.  By default a key belongs to the file descriptor that added
 * it and is wiped when that descriptor is closed, so a key loaded by a
 * process that dies before using it does not stay in the kernel.  A
 * persistent key stays until VAULT_IOC_KEY_REMOVE or module unload.
 */
#define VAULT_KEY_PERSISTENT	_BITUL(0)
#define VAULT_KEY_FLAGS_ALL	(VAULT_KEY_PERSISTENT)

struct vault_version {
	__u32 major;		/* out */
	__u32 minor;		/* out */
	__u64 features;		/* out: VAULT_FEATURE_* */
	__u32 key_name_max;	/* out: VAULT_KEY_NAME_MAX */
	__u32 key_size_max;	/* out: VAULT_KEY_SIZE_MAX */
	__u32 keys_max;		/* out: VAULT_KEYS_MAX */
	__u32 reserved[5];	/* out: zero */
};

struct vault_key_add {
	char name[VAULT_KEY_NAME_MAX];	/* in: NUL-terminated */
	__u64 key_ptr;		/* in: user address of the key bytes */
	__u32 key_size;		/* in: 1..VAULT_KEY_SIZE_MAX */
	__u32 flags;		/* in: VAULT_KEY_* */
	__u64 reserved[2];	/* in: must be zero */
};

struct vault_key_remove {
	char name[VAULT_KEY_NAME_MAX];	/* in: NUL-terminated */
	__u32 flags;		/* in: must be zero */
	__u32 reserved;		/* in: must be zero */
};

struct vault_key_info {
	char name[VAULT_KEY_NAME_MAX];
	__u32 key_size;		/* bytes; the material itself is never returned */
	__u32 flags;		/* VAULT_KEY_PERSISTENT if it outlives its fd */
	__u32 reserved[2];
};

struct vault_key_list {
	__u64 keys_ptr;		/* in: user array of struct vault_key_info */
	__u32 capacity;		/* in: entries the array holds (may be 0) */
	__u32 count;		/* out: keys loaded; entries filled =
				 * min(count, capacity)
				 */
	__u32 flags;		/* in: must be zero */
	__u32 reserved[3];	/* in: must be zero */
};

/*
 * 0xBD: free in Documentation/userspace-api/ioctl/ioctl-number.rst and
 * unused in the 6.12 sources (0xB7 belongs to nsfs and remoteproc; 0xBC is
 * used by bcache without an entry there; later kernels took 0xB8, 0xBA).
 */
#define VAULT_IOCTL_MAGIC	0xBD

#define VAULT_IOC_VERSION	_IOR(VAULT_IOCTL_MAGIC, 0x00, struct vault_version)
#define VAULT_IOC_KEY_ADD	_IOW(VAULT_IOCTL_MAGIC, 0x01, struct vault_key_add)
#define VAULT_IOC_KEY_REMOVE	_IOW(VAULT_IOCTL_MAGIC, 0x02, struct vault_key_remove)
#define VAULT_IOC_KEY_LIST	_IOWR(VAULT_IOCTL_MAGIC, 0x03, struct vault_key_list)

#endif /* _UAPI_LINUX_DM_VAULT_H */
