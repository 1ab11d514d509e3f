// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-vault: /dev/vault-control, the only way keys enter the kernel.
 *
 * Every argument is checked before anything is allocated; key bytes copied
 * from userspace are wiped on every path.
 */
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "dm-vault-core.h"

static bool vault_all_zero(const void *p, size_t len)
{
	return !memchr_inv(p, 0, len);
}

static long vault_ioc_version(void __user *arg)
{
	struct vault_version v = {
		.major = VAULT_VERSION_MAJOR,
		.minor = VAULT_VERSION_MINOR,
		.features = VAULT_FEATURE_KEY_LIST |
			    VAULT_FEATURE_FD_SCOPED_KEYS,
		.key_name_max = VAULT_KEY_NAME_MAX,
		.key_size_max = VAULT_KEY_SIZE_MAX,
		.keys_max = VAULT_KEYS_MAX,
	};

	return copy_to_user(arg, &v, sizeof(v)) ? -EFAULT : 0;
}

static long vault_ioc_key_add(struct file *file, void __user *arg)
{
	struct vault_key_add req;
	u8 material[VAULT_KEY_SIZE_MAX];
	long r;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (!vault_key_name_valid(req.name) || !req.key_size ||
	    req.key_size > VAULT_KEY_SIZE_MAX ||
	    (req.flags & ~VAULT_KEY_FLAGS_ALL) ||
	    !vault_all_zero(req.reserved, sizeof(req.reserved)))
		return -EINVAL;

	if (copy_from_user(material, u64_to_user_ptr(req.key_ptr),
			   req.key_size))
		r = -EFAULT;
	else
		r = vault_key_add(req.name, material, req.key_size, req.flags,
				  file);
	memzero_explicit(material, sizeof(material));
	return r;
}

static long vault_ioc_key_remove(void __user *arg)
{
	struct vault_key_remove req;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (!vault_key_name_valid(req.name) || req.flags || req.reserved)
		return -EINVAL;
	return vault_key_remove(req.name);
}

static long vault_ioc_key_list(void __user *arg)
{
	struct vault_key_list req;
	struct vault_key_info *infos = NULL;
	unsigned int capacity, count, filled;
	long r = 0;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (req.flags || !vault_all_zero(req.reserved, sizeof(req.reserved)))
		return -EINVAL;

	capacity = min_t(u32, req.capacity, VAULT_KEYS_MAX);
	if (capacity) {
		infos = kcalloc(capacity, sizeof(*infos), GFP_KERNEL);
		if (!infos)
			return -ENOMEM;
	}
	vault_key_list(infos, capacity, &count);

	filled = min(count, capacity);
	if (filled && copy_to_user(u64_to_user_ptr(req.keys_ptr), infos,
				   filled * sizeof(*infos)))
		r = -EFAULT;
	req.count = count;
	if (!r && copy_to_user(arg, &req, sizeof(req)))
		r = -EFAULT;
	kfree(infos);
	return r;
}

static long vault_control_ioctl(struct file *file, unsigned int cmd,
				unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;

	switch (cmd) {
	case VAULT_IOC_VERSION:
		return vault_ioc_version(uarg);
	case VAULT_IOC_KEY_ADD:
		return vault_ioc_key_add(file, uarg);
	case VAULT_IOC_KEY_REMOVE:
		return vault_ioc_key_remove(uarg);
	case VAULT_IOC_KEY_LIST:
		return vault_ioc_key_list(uarg);
	default:
		return -ENOTTY;
	}
}

/* Keys a process added without VAULT_KEY_PERSISTENT die with its fd. */
static int vault_control_release(struct inode *inode, struct file *file)
{
	vault_keys_release_owner(file);
	return 0;
}

static const struct file_operations vault_control_fops = {
	.owner = THIS_MODULE,
	.open = nonseekable_open,
	.release = vault_control_release,
	.unlocked_ioctl = vault_control_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice vault_control_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = VAULT_CONTROL_NAME,
	.nodename = VAULT_CONTROL_NAME,
	.mode = 0600,
	.fops = &vault_control_fops,
};

int vault_control_init(void)
{
	return misc_register(&vault_control_dev);
}

void vault_control_exit(void)
{
	misc_deregister(&vault_control_dev);
}
