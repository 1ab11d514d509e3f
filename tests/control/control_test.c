// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * control_test: every misuse of /dev/vault-control gets the errno the UAPI
 * header (module/uapi/linux/dm-vault.h) promises, and key lifetimes and the
 * key list behave as documented in Documentation/ioctl.rst.
 *
 * Runs as root inside the test guest with dm-vault loaded; skips when the
 * control device does not exist.  Key names carry the test process id so
 * keys left by a failed run never collide with a later one, and every
 * fixture's teardown removes the persistent keys its test added.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/dm-vault.h>

#include "layout_check.h"
#include "kselftest_harness.h"

#define CTL_PATH "/dev/" VAULT_CONTROL_NAME

/* ---- helpers: each returns 0 or -errno ---------------------------------- */

static int ctl_open(void)
{
	return open(CTL_PATH, O_RDWR | O_CLOEXEC);
}

static int xioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

static int add_raw(int fd, struct vault_key_add *ka)
{
	return xioctl(fd, VAULT_IOC_KEY_ADD, ka);
}

static void fill_add(struct vault_key_add *ka, const char *name,
		     const void *key, uint32_t size, uint32_t flags)
{
	memset(ka, 0, sizeof(*ka));
	snprintf(ka->name, sizeof(ka->name), "%s", name);
	ka->key_ptr = (uintptr_t)key;
	ka->key_size = size;
	ka->flags = flags;
}

static int key_add(int fd, const char *name, uint32_t size, uint32_t flags)
{
	unsigned char key[VAULT_KEY_SIZE_MAX];
	struct vault_key_add ka;
	int ret;

	/* test material, not a secret; still not left lying around */
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char)(0x40 + i);
	fill_add(&ka, name, key, size, flags);
	ret = add_raw(fd, &ka);
	explicit_bzero(key, sizeof(key));
	return ret;
}

static int key_remove(int fd, const char *name)
{
	struct vault_key_remove kr;

	memset(&kr, 0, sizeof(kr));
	snprintf(kr.name, sizeof(kr.name), "%s", name);
	return xioctl(fd, VAULT_IOC_KEY_REMOVE, &kr);
}

/* Fills *infos (capacity entries) and returns the loaded count, or -errno. */
static int key_list(int fd, struct vault_key_info *infos, uint32_t capacity)
{
	struct vault_key_list kl;
	int ret;

	memset(&kl, 0, sizeof(kl));
	kl.keys_ptr = (uintptr_t)infos;
	kl.capacity = capacity;
	ret = xioctl(fd, VAULT_IOC_KEY_LIST, &kl);
	return ret ? ret : (int)kl.count;
}

/* 1 and *out filled if @name is loaded, 0 if not, -errno on error. */
static int key_find(int fd, const char *name, struct vault_key_info *out)
{
	struct vault_key_info infos[VAULT_KEYS_MAX + 8];
	int n = key_list(fd, infos, VAULT_KEYS_MAX + 8);

	if (n < 0)
		return n;
	for (int i = 0; i < n && i < VAULT_KEYS_MAX + 8; i++) {
		if (!strncmp(infos[i].name, name, sizeof(infos[i].name))) {
			if (out)
				*out = infos[i];
			return 1;
		}
	}
	return 0;
}

/* Drop CAP_SYS_ADMIN from every set of the calling process; 0 or -errno. */
static int drop_sys_admin(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
		.pid = 0,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	const uint32_t bit = 1u << (CAP_SYS_ADMIN % 32);
	const int word = CAP_SYS_ADMIN / 32;

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	data[word].effective &= ~bit;
	data[word].permitted &= ~bit;
	data[word].inheritable &= ~bit;
	if (syscall(SYS_capset, &hdr, data))
		return -errno;
	/* and from the bounding set, so no exec can regain it */
	if (prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0))
		return -errno;
	return 0;
}

/* ---- fixture ------------------------------------------------------------ */

FIXTURE(ctl) {
	int fd;
	char prefix[32];
};

FIXTURE_SETUP(ctl)
{
	self->fd = -1;
	snprintf(self->prefix, sizeof(self->prefix), "ksft%d", (int)getpid());
	self->fd = ctl_open();
	if (self->fd < 0 && (errno == ENOENT || errno == ENXIO || errno == ENODEV))
		SKIP(return, "%s: %s (dm-vault not loaded?)", CTL_PATH,
		     strerror(errno));
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", CTL_PATH, strerror(errno));
}

FIXTURE_TEARDOWN(ctl)
{
	struct vault_key_info infos[VAULT_KEYS_MAX + 8];
	int n;

	if (self->fd < 0)
		return;
	/* remove every key this test left behind (persistent ones outlive fds) */
	n = key_list(self->fd, infos, VAULT_KEYS_MAX + 8);
	for (int i = 0; i < n && i < VAULT_KEYS_MAX + 8; i++)
		if (!strncmp(infos[i].name, self->prefix, strlen(self->prefix)))
			key_remove(self->fd, infos[i].name);
	close(self->fd);
}

#define NAME(buf, self, suffix) \
	snprintf(buf, sizeof(buf), "%s-%s", (self)->prefix, suffix)

/* ---- VAULT_IOC_VERSION ---------------------------------------------------- */

TEST_F(ctl, version_reports_limits)
{
	struct vault_version v;

	memset(&v, 0xa5, sizeof(v));
	ASSERT_EQ(0, xioctl(self->fd, VAULT_IOC_VERSION, &v));
	EXPECT_EQ(VAULT_VERSION_MAJOR, v.major);
	EXPECT_EQ(VAULT_KEY_NAME_MAX, v.key_name_max);
	EXPECT_EQ(VAULT_KEY_SIZE_MAX, v.key_size_max);
	EXPECT_EQ(VAULT_KEYS_MAX, v.keys_max);
	EXPECT_TRUE(v.features & VAULT_FEATURE_KEY_LIST);
	EXPECT_TRUE(v.features & VAULT_FEATURE_FD_SCOPED_KEYS);
	for (int i = 0; i < 5; i++) {
		EXPECT_EQ(0, v.reserved[i]) TH_LOG("reserved[%d] not zeroed", i);
	}
}

TEST_F(ctl, version_bad_pointer_efault)
{
	EXPECT_EQ(-EFAULT, xioctl(self->fd, VAULT_IOC_VERSION, NULL));
}

/* ---- unknown commands ---------------------------------------------------- */

TEST_F(ctl, unknown_command_enotty)
{
	struct vault_key_list kl;
	char big[512];

	memset(&kl, 0, sizeof(kl));
	memset(big, 0, sizeof(big));
	/* unused number in our magic */
	EXPECT_EQ(-ENOTTY, xioctl(self->fd, _IO(VAULT_IOCTL_MAGIC, 0x7f), NULL));
	EXPECT_EQ(-ENOTTY, xioctl(self->fd, _IOWR(VAULT_IOCTL_MAGIC, 0x04, struct vault_key_list), &kl));
	/* right number, wrong direction or size: not the same command */
	EXPECT_EQ(-ENOTTY, xioctl(self->fd, _IOWR(VAULT_IOCTL_MAGIC, 0x01, struct vault_key_add), big));
	EXPECT_EQ(-ENOTTY, xioctl(self->fd, _IOR(VAULT_IOCTL_MAGIC, 0x00, __u32), big));
	EXPECT_EQ(-ENOTTY, xioctl(self->fd, _IOW(VAULT_IOCTL_MAGIC, 0x02, char[8]), big));
	/* another magic altogether (a terminal ioctl) */
	EXPECT_EQ(-ENOTTY, xioctl(self->fd, TCGETS, big));
	EXPECT_EQ(-ENOTTY, xioctl(self->fd, _IOR('X', 0x00, struct vault_version), big));
}

/*
 * The first interface used magic 0xB7, which nsfs and remoteproc own: its
 * numbers, with the same sizes, must be unknown commands now.
 */
#define VAULT_OLD_MAGIC 0xB7

TEST_F(ctl, old_magic_enotty)
{
	struct vault_version v;
	struct vault_key_add ka;
	struct vault_key_remove kr;
	struct vault_key_list kl;
	unsigned char key[32] = { 1 };
	char name[VAULT_KEY_NAME_MAX];
	struct vault_key_info infos[VAULT_KEYS_MAX];

	snprintf(name, sizeof(name), "t50-oldmagic-%d", (int)getpid());
	memset(&v, 0, sizeof(v));
	EXPECT_EQ(-ENOTTY, xioctl(self->fd, _IOR(VAULT_OLD_MAGIC, 0x00, struct vault_version), &v));
	EXPECT_EQ(0u, v.major);
	fill_add(&ka, name, key, sizeof(key), 0);
	EXPECT_EQ(-ENOTTY, xioctl(self->fd, _IOW(VAULT_OLD_MAGIC, 0x01, struct vault_key_add), &ka));
	memset(&kl, 0, sizeof(kl));
	kl.keys_ptr = (uintptr_t)infos;
	kl.capacity = VAULT_KEYS_MAX;
	EXPECT_EQ(-ENOTTY, xioctl(self->fd, _IOWR(VAULT_OLD_MAGIC, 0x03, struct vault_key_list), &kl));
	memset(&kr, 0, sizeof(kr));
	snprintf(kr.name, sizeof(kr.name), "%s", name);
	EXPECT_EQ(-ENOTTY, xioctl(self->fd, _IOW(VAULT_OLD_MAGIC, 0x02, struct vault_key_remove), &kr));
	/* the refused add really added nothing */
	EXPECT_EQ(-ENOENT, key_remove(self->fd, name));
	/* and the current numbers work on the same descriptor */
	EXPECT_EQ(0, xioctl(self->fd, VAULT_IOC_VERSION, &v));
	EXPECT_EQ(VAULT_VERSION_MAJOR, v.major);
	EXPECT_NE(VAULT_OLD_MAGIC, _IOC_TYPE(VAULT_IOC_VERSION));
}

/* ---- VAULT_IOC_KEY_ADD: sizes, pointers, flags, reserved ----------------- */

TEST_F(ctl, add_key_size_zero_einval)
{
	char name[64];

	NAME(name, self, "zero");
	EXPECT_EQ(-EINVAL, key_add(self->fd, name, 0, 0));
	EXPECT_EQ(0, key_find(self->fd, name, NULL));
}

TEST_F(ctl, add_key_too_large_einval)
{
	unsigned char key[VAULT_KEY_SIZE_MAX * 2];
	struct vault_key_add ka;
	char name[64];

	memset(key, 0x11, sizeof(key));
	NAME(name, self, "large");
	EXPECT_EQ(-EINVAL, key_add(self->fd, name, VAULT_KEY_SIZE_MAX + 1, 0));
	fill_add(&ka, name, key, sizeof(key), 0);
	EXPECT_EQ(-EINVAL, add_raw(self->fd, &ka));
	fill_add(&ka, name, key, UINT32_MAX, 0);
	EXPECT_EQ(-EINVAL, add_raw(self->fd, &ka));
	fill_add(&ka, name, key, 0x80000000u, 0);
	EXPECT_EQ(-EINVAL, add_raw(self->fd, &ka));
	EXPECT_EQ(0, key_find(self->fd, name, NULL));
}

TEST_F(ctl, add_key_size_limits_accepted)
{
	struct vault_key_info info;
	char name[64];

	NAME(name, self, "max");
	ASSERT_EQ(0, key_add(self->fd, name, VAULT_KEY_SIZE_MAX, 0));
	ASSERT_EQ(1, key_find(self->fd, name, &info));
	EXPECT_EQ(VAULT_KEY_SIZE_MAX, info.key_size);
	EXPECT_EQ(0, key_remove(self->fd, name));

	NAME(name, self, "one");
	ASSERT_EQ(0, key_add(self->fd, name, 1, 0));
	ASSERT_EQ(1, key_find(self->fd, name, &info));
	EXPECT_EQ(1, info.key_size);
	EXPECT_EQ(0, key_remove(self->fd, name));
}

TEST_F(ctl, add_bad_key_pointer_efault)
{
	struct vault_key_add ka;
	char name[64];

	NAME(name, self, "nullptr");
	fill_add(&ka, name, NULL, 32, 0);
	EXPECT_EQ(-EFAULT, add_raw(self->fd, &ka));
	fill_add(&ka, name, NULL, 32, 0);
	ka.key_ptr = ~0ULL - 15;	/* a kernel address */
	EXPECT_EQ(-EFAULT, add_raw(self->fd, &ka));
	EXPECT_EQ(0, key_find(self->fd, name, NULL));
	EXPECT_EQ(-EFAULT, xioctl(self->fd, VAULT_IOC_KEY_ADD, NULL));
}

TEST_F(ctl, add_unknown_flags_einval)
{
	static const uint32_t bad[] = { 1u << 1, 1u << 7, 1u << 31,
					VAULT_KEY_PERSISTENT | (1u << 2) };
	unsigned char key[32] = { 1 };
	struct vault_key_add ka;
	char name[64];

	NAME(name, self, "flags");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fill_add(&ka, name, key, sizeof(key), bad[i]);
		EXPECT_EQ(-EINVAL, add_raw(self->fd, &ka))
			TH_LOG("flags 0x%x accepted", bad[i]);
	}
	EXPECT_EQ(0, key_find(self->fd, name, NULL));
}

TEST_F(ctl, add_reserved_nonzero_einval)
{
	unsigned char key[32] = { 1 };
	struct vault_key_add ka;
	char name[64];

	NAME(name, self, "resv");
	fill_add(&ka, name, key, sizeof(key), 0);
	ka.reserved[0] = 1;
	EXPECT_EQ(-EINVAL, add_raw(self->fd, &ka));
	fill_add(&ka, name, key, sizeof(key), 0);
	ka.reserved[1] = 1ULL << 63;
	EXPECT_EQ(-EINVAL, add_raw(self->fd, &ka));
	EXPECT_EQ(0, key_find(self->fd, name, NULL));
}

/* ---- names ----------------------------------------------------------------- */

TEST_F(ctl, name_empty_einval)
{
	struct vault_key_remove kr;

	EXPECT_EQ(-EINVAL, key_add(self->fd, "", 32, 0));
	memset(&kr, 0, sizeof(kr));
	EXPECT_EQ(-EINVAL, xioctl(self->fd, VAULT_IOC_KEY_REMOVE, &kr));
}

TEST_F(ctl, name_unterminated_einval)
{
	unsigned char key[32] = { 1 };
	struct vault_key_remove kr;
	struct vault_key_add ka;

	fill_add(&ka, "", key, sizeof(key), 0);
	memset(ka.name, 'a', sizeof(ka.name));	/* no NUL anywhere */
	EXPECT_EQ(-EINVAL, add_raw(self->fd, &ka));

	memset(&kr, 0, sizeof(kr));
	memset(kr.name, 'a', sizeof(kr.name));
	EXPECT_EQ(-EINVAL, xioctl(self->fd, VAULT_IOC_KEY_REMOVE, &kr));
}

TEST_F(ctl, name_bad_characters_einval)
{
	static const char *const bad[] = {
		" ", "a b", "a/b", "/", "a\tb", "a\nb", "key*", "key?", "a\\b",
		"a,b", "a;b", "a=b", "\x7f", "\x80", "caf\xc3\xa9", "a\"b", "a'b",
		"a%b", "a@b", "a+b",
		/* Latin-1 letters: the kernel's isalnum() says yes to these */
		"\xc0", "\xe9", "a\xdf", "\xff",
	};
	char name[VAULT_KEY_NAME_MAX];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(name, sizeof(name), "%s%s", self->prefix, bad[i]);
		EXPECT_EQ(-EINVAL, key_add(self->fd, name, 32, 0))
			TH_LOG("name %zu accepted", i);
		EXPECT_EQ(-EINVAL, key_remove(self->fd, name))
			TH_LOG("remove with bad name %zu not EINVAL", i);
	}
}

TEST_F(ctl, name_allowed_characters_and_length)
{
	char name[VAULT_KEY_NAME_MAX];
	struct vault_key_info info;
	size_t len;

	/* every allowed class: [A-Za-z0-9._:-] */
	snprintf(name, sizeof(name), "%s-AZaz09._:-", self->prefix);
	ASSERT_EQ(0, key_add(self->fd, name, 32, 0));
	ASSERT_EQ(1, key_find(self->fd, name, &info));
	EXPECT_EQ(0, strcmp(info.name, name));
	EXPECT_EQ(0, key_remove(self->fd, name));

	/* the longest name: VAULT_KEY_NAME_MAX - 1 bytes and the NUL */
	len = strlen(self->prefix);
	memcpy(name, self->prefix, len);
	memset(name + len, 'x', sizeof(name) - 1 - len);
	name[sizeof(name) - 1] = '\0';
	ASSERT_EQ(0, key_add(self->fd, name, 32, 0));
	ASSERT_EQ(1, key_find(self->fd, name, &info));
	EXPECT_EQ(sizeof(name) - 1, strnlen(info.name, sizeof(info.name)));
	EXPECT_EQ(0, key_remove(self->fd, name));
}

/* Bytes after the NUL do not belong to the name. */
TEST_F(ctl, name_bytes_after_nul_ignored)
{
	unsigned char key[32] = { 1 };
	struct vault_key_add ka;
	char name[64];

	NAME(name, self, "tail");
	fill_add(&ka, name, key, sizeof(key), 0);
	memset(ka.name + strlen(name) + 1, 'z',
	       sizeof(ka.name) - strlen(name) - 1);
	ka.name[sizeof(ka.name) - 1] = 'z';	/* still terminated earlier */
	ASSERT_EQ(0, add_raw(self->fd, &ka));
	EXPECT_EQ(1, key_find(self->fd, name, NULL));
	EXPECT_EQ(0, key_remove(self->fd, name));
}

/* ---- duplicates, capacity, removal -------------------------------------- */

TEST_F(ctl, duplicate_name_eexist)
{
	char name[64];
	int fd2;

	NAME(name, self, "dup");
	ASSERT_EQ(0, key_add(self->fd, name, 32, 0));
	EXPECT_EQ(-EEXIST, key_add(self->fd, name, 32, 0));
	EXPECT_EQ(-EEXIST, key_add(self->fd, name, 64, VAULT_KEY_PERSISTENT));
	fd2 = ctl_open();
	ASSERT_LE(0, fd2);
	EXPECT_EQ(-EEXIST, key_add(fd2, name, 32, 0));
	close(fd2);
	/* the original survived all of that */
	EXPECT_EQ(1, key_find(self->fd, name, NULL));
	EXPECT_EQ(0, key_remove(self->fd, name));
	EXPECT_EQ(0, key_add(self->fd, name, 32, 0));
	EXPECT_EQ(0, key_remove(self->fd, name));
}

TEST_F(ctl, too_many_keys_enospc)
{
	char name[64], suffix[16];
	int loaded, fd2, added = 0;

	loaded = key_list(self->fd, NULL, 0);
	ASSERT_LE(0, loaded);
	ASSERT_GE(VAULT_KEYS_MAX, loaded);
	fd2 = ctl_open();
	ASSERT_LE(0, fd2);
	for (int i = loaded; i < VAULT_KEYS_MAX; i++) {
		snprintf(suffix, sizeof(suffix), "fill%d", i);
		NAME(name, self, suffix);
		ASSERT_EQ(0, key_add(fd2, name, 16, 0)) TH_LOG("key %d", i);
		added++;
	}
	EXPECT_EQ(VAULT_KEYS_MAX, key_list(self->fd, NULL, 0));
	NAME(name, self, "onetoomany");
	EXPECT_EQ(-ENOSPC, key_add(self->fd, name, 16, 0));
	EXPECT_EQ(-ENOSPC, key_add(fd2, name, 16, VAULT_KEY_PERSISTENT));
	EXPECT_EQ(0, key_find(self->fd, name, NULL));
	/* closing fd2 releases its fd-scoped keys, and with them the room */
	close(fd2);
	EXPECT_EQ(loaded, key_list(self->fd, NULL, 0));
	EXPECT_EQ(0, key_add(self->fd, name, 16, 0));
	EXPECT_EQ(0, key_remove(self->fd, name));
	TH_LOG("filled %d slots", added);
}

TEST_F(ctl, remove_unknown_enoent)
{
	char name[64];

	NAME(name, self, "nosuchkey");
	EXPECT_EQ(-ENOENT, key_remove(self->fd, name));
	ASSERT_EQ(0, key_add(self->fd, name, 32, 0));
	EXPECT_EQ(0, key_remove(self->fd, name));
	EXPECT_EQ(-ENOENT, key_remove(self->fd, name));
	EXPECT_EQ(-EFAULT, xioctl(self->fd, VAULT_IOC_KEY_REMOVE, NULL));
}

TEST_F(ctl, remove_flags_reserved_einval)
{
	struct vault_key_remove kr;
	char name[64];

	NAME(name, self, "rmflags");
	ASSERT_EQ(0, key_add(self->fd, name, 32, 0));
	memset(&kr, 0, sizeof(kr));
	snprintf(kr.name, sizeof(kr.name), "%s", name);
	kr.flags = VAULT_KEY_PERSISTENT;
	EXPECT_EQ(-EINVAL, xioctl(self->fd, VAULT_IOC_KEY_REMOVE, &kr));
	kr.flags = 0;
	kr.reserved = 1;
	EXPECT_EQ(-EINVAL, xioctl(self->fd, VAULT_IOC_KEY_REMOVE, &kr));
	/* the refused removals left the key in place */
	EXPECT_EQ(1, key_find(self->fd, name, NULL));
	EXPECT_EQ(0, key_remove(self->fd, name));
}

/* ---- lifetimes ------------------------------------------------------------ */

TEST_F(ctl, fd_scoped_key_vanishes_on_close)
{
	struct vault_key_info info;
	char name[64];
	int fd2;

	NAME(name, self, "scoped");
	fd2 = ctl_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, key_add(fd2, name, 32, 0));
	/* visible to every opener while the adding fd lives */
	ASSERT_EQ(1, key_find(self->fd, name, &info));
	EXPECT_EQ(0, info.flags & VAULT_KEY_PERSISTENT);
	EXPECT_EQ(32, info.key_size);
	close(fd2);
	EXPECT_EQ(0, key_find(self->fd, name, NULL));
	EXPECT_EQ(-ENOENT, key_remove(self->fd, name));
	/* the name is free again */
	EXPECT_EQ(0, key_add(self->fd, name, 32, 0));
	EXPECT_EQ(0, key_remove(self->fd, name));
}

TEST_F(ctl, fd_scoped_key_vanishes_when_process_dies)
{
	char name[64];
	pid_t pid;
	int status;

	NAME(name, self, "orphan");
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = ctl_open();

		if (fd < 0 || key_add(fd, name, 32, 0))
			_exit(1);
		_exit(0);	/* exits without closing: the kernel closes */
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(0, key_find(self->fd, name, NULL));
}

TEST_F(ctl, persistent_key_outlives_fd)
{
	struct vault_key_info info;
	char name[64];
	int fd2;

	NAME(name, self, "persist");
	fd2 = ctl_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, key_add(fd2, name, 64, VAULT_KEY_PERSISTENT));
	close(fd2);
	ASSERT_EQ(1, key_find(self->fd, name, &info));
	EXPECT_EQ(VAULT_KEY_PERSISTENT, info.flags & VAULT_KEY_PERSISTENT);
	EXPECT_EQ(64, info.key_size);
	/* any opener may remove it */
	EXPECT_EQ(0, key_remove(self->fd, name));
	EXPECT_EQ(0, key_find(self->fd, name, NULL));
	EXPECT_EQ(-ENOENT, key_remove(self->fd, name));
}

/* ---- VAULT_IOC_KEY_LIST ------------------------------------------------------ */

static bool contains_window(const unsigned char *hay, size_t hay_len,
			    const unsigned char *needle, size_t n_len,
			    size_t window)
{
	for (size_t k = 0; k + window <= n_len; k++)
		for (size_t i = 0; i + window <= hay_len; i++)
			if (!memcmp(hay + i, needle + k, window))
				return true;
	return false;
}

TEST_F(ctl, list_never_returns_material)
{
	struct vault_key_info infos[VAULT_KEYS_MAX + 4];
	unsigned char key[64];
	struct vault_key_add ka;
	struct vault_key_list kl;
	char name[64];
	int n, found = 0;

	/* random bytes without zeros, so a match can only be a leak */
	ASSERT_EQ((ssize_t)sizeof(key), getrandom(key, sizeof(key), 0));
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] |= 0x01;
	NAME(name, self, "material");
	fill_add(&ka, name, key, sizeof(key), VAULT_KEY_PERSISTENT);
	ASSERT_EQ(0, add_raw(self->fd, &ka));

	memset(infos, 0, sizeof(infos));
	memset(&kl, 0, sizeof(kl));
	kl.keys_ptr = (uintptr_t)infos;
	kl.capacity = VAULT_KEYS_MAX + 4;
	ASSERT_EQ(0, xioctl(self->fd, VAULT_IOC_KEY_LIST, &kl));
	n = kl.count;
	ASSERT_LE(1, n);
	for (int i = 0; i < n; i++) {
		if (!strcmp(infos[i].name, name)) {
			found++;
			EXPECT_EQ(sizeof(key), infos[i].key_size);
		}
		EXPECT_EQ(0, infos[i].reserved[0]);
		EXPECT_EQ(0, infos[i].reserved[1]);
	}
	EXPECT_EQ(1, found);
	EXPECT_FALSE(contains_window((void *)infos, sizeof(infos), key,
				     sizeof(key), 4))
		TH_LOG("key bytes found in the key list");
	EXPECT_FALSE(contains_window((void *)&kl, sizeof(kl), key,
				     sizeof(key), 4));
	EXPECT_EQ(0, kl.reserved[0]);
	EXPECT_EQ(0, kl.reserved[1]);
	EXPECT_EQ(0, kl.reserved[2]);
	EXPECT_EQ(0, key_remove(self->fd, name));
	explicit_bzero(key, sizeof(key));
}

TEST_F(ctl, list_capacity_zero_and_short)
{
	struct vault_key_info infos[2];
	char a[64], b[64];
	int total;

	NAME(a, self, "la");
	NAME(b, self, "lb");
	ASSERT_EQ(0, key_add(self->fd, a, 16, 0));
	ASSERT_EQ(0, key_add(self->fd, b, 16, 0));

	/* capacity 0 (NULL array allowed) only counts */
	total = key_list(self->fd, NULL, 0);
	ASSERT_LE(2, total);

	/* capacity 1: the count is still the total, one entry written */
	memset(infos, 0x5c, sizeof(infos));
	EXPECT_EQ(total, key_list(self->fd, infos, 1));
	EXPECT_NE(0, infos[0].name[0]);
	EXPECT_LT(strnlen(infos[0].name, sizeof(infos[0].name)),
		  sizeof(infos[0].name));
	for (size_t i = 0; i < sizeof(infos[1]); i++)
		if (((unsigned char *)&infos[1])[i] != 0x5c) {
			EXPECT_EQ(0x5c, ((unsigned char *)&infos[1])[i])
				TH_LOG("entry past capacity written");
			break;
		}
	EXPECT_EQ(0, key_remove(self->fd, a));
	EXPECT_EQ(0, key_remove(self->fd, b));
}

TEST_F(ctl, list_flags_reserved_einval)
{
	struct vault_key_info infos[4];
	struct vault_key_list kl;

	memset(&kl, 0, sizeof(kl));
	kl.keys_ptr = (uintptr_t)infos;
	kl.capacity = 4;
	kl.flags = 1;
	EXPECT_EQ(-EINVAL, xioctl(self->fd, VAULT_IOC_KEY_LIST, &kl));
	kl.flags = 0;
	for (int i = 0; i < 3; i++) {
		kl.reserved[i] = 0x100;
		EXPECT_EQ(-EINVAL, xioctl(self->fd, VAULT_IOC_KEY_LIST, &kl))
			TH_LOG("reserved[%d]", i);
		kl.reserved[i] = 0;
	}
	EXPECT_EQ(0, xioctl(self->fd, VAULT_IOC_KEY_LIST, &kl));
}

TEST_F(ctl, list_bad_pointer_efault)
{
	struct vault_key_list kl;
	char name[64];

	NAME(name, self, "lfault");
	ASSERT_EQ(0, key_add(self->fd, name, 16, 0));
	memset(&kl, 0, sizeof(kl));
	kl.keys_ptr = 0;
	kl.capacity = 4;
	EXPECT_EQ(-EFAULT, xioctl(self->fd, VAULT_IOC_KEY_LIST, &kl));
	kl.keys_ptr = ~0ULL - 4095;
	EXPECT_EQ(-EFAULT, xioctl(self->fd, VAULT_IOC_KEY_LIST, &kl));
	EXPECT_EQ(-EFAULT, xioctl(self->fd, VAULT_IOC_KEY_LIST, NULL));
	EXPECT_EQ(0, key_remove(self->fd, name));
}

/* ---- privilege ------------------------------------------------------------- */

/*
 * A child drops CAP_SYS_ADMIN (it stays uid 0, so the device's file mode
 * does not get in the way) and tries every command on a descriptor it
 * inherited and on one it opens itself: each must fail with EPERM (opening
 * may be refused already).  The child reports through its exit status.
 */
TEST_F(ctl, without_cap_sys_admin_eperm)
{
	char name[64], persist[64];
	pid_t pid;
	int status;

	NAME(name, self, "nocap");
	NAME(persist, self, "nocap-victim");
	ASSERT_EQ(0, key_add(self->fd, persist, 32, VAULT_KEY_PERSISTENT));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct vault_version v;
		struct vault_key_info infos[4];
		int fds[2], nfd = 0;

		if (drop_sys_admin())
			_exit(2);
		fds[nfd++] = self->fd;
		fds[nfd] = ctl_open();
		if (fds[nfd] >= 0)
			nfd++;
		else if (errno != EPERM && errno != EACCES)
			_exit(3);
		for (int i = 0; i < nfd; i++) {
			int base = 10 + 10 * i;

			if (xioctl(fds[i], VAULT_IOC_VERSION, &v) != -EPERM)
				_exit(base + 1);
			if (key_add(fds[i], name, 32, 0) != -EPERM)
				_exit(base + 2);
			if (key_add(fds[i], name, 32, VAULT_KEY_PERSISTENT) != -EPERM)
				_exit(base + 3);
			if (key_remove(fds[i], persist) != -EPERM)
				_exit(base + 4);
			if (key_list(fds[i], infos, 4) != -EPERM)
				_exit(base + 5);
		}
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("unprivileged step %d did not get EPERM (2x: capset failed; 1x: inherited fd, 2x: own fd; x1 version x2 add x3 add-persistent x4 remove x5 list)",
		       WEXITSTATUS(status));
	/* nothing the child tried took effect */
	EXPECT_EQ(0, key_find(self->fd, name, NULL));
	EXPECT_EQ(1, key_find(self->fd, persist, NULL));
	EXPECT_EQ(0, key_remove(self->fd, persist));
}

/* ---- layout (runtime half; the static half is layout_check.h) ---------- */

TEST(ioctl_sizes_match_structures)
{
	EXPECT_EQ(sizeof(struct vault_version), _IOC_SIZE(VAULT_IOC_VERSION));
	EXPECT_EQ(sizeof(struct vault_key_add), _IOC_SIZE(VAULT_IOC_KEY_ADD));
	EXPECT_EQ(sizeof(struct vault_key_remove), _IOC_SIZE(VAULT_IOC_KEY_REMOVE));
	EXPECT_EQ(sizeof(struct vault_key_list), _IOC_SIZE(VAULT_IOC_KEY_LIST));
	EXPECT_EQ(_IOC_READ, _IOC_DIR(VAULT_IOC_VERSION));
	EXPECT_EQ(_IOC_WRITE, _IOC_DIR(VAULT_IOC_KEY_ADD));
	EXPECT_EQ(_IOC_WRITE, _IOC_DIR(VAULT_IOC_KEY_REMOVE));
	EXPECT_EQ(_IOC_READ | _IOC_WRITE, _IOC_DIR(VAULT_IOC_KEY_LIST));
}

TEST_HARNESS_MAIN
