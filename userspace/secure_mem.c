// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: memory for secrets.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "secure_mem.h"
#include "util.h"

/* Each buffer starts with a header page-aligned together with its data. */
struct secure_hdr {
	size_t map_len;		/* whole mapping */
	size_t size;		/* bytes the caller asked for */
	bool secret;		/* from memfd_secret() */
};

#define HDR_LEN	64	/* keeps the data 64-byte aligned */

_Static_assert(sizeof(struct secure_hdr) <= HDR_LEN, "header fits");

/*
 * memfd_secret() pages are locked, left out of core dumps and of the kernel's
 * direct map, and zeroed by the kernel when the last mapping goes: even when
 * vaultctl is killed with the key in them.  Off by default before Linux 6.5
 * (secretmem.enable=1), so ENOSYS falls back to map_anonymous().
 */
static void *map_secret(size_t len)
{
#ifdef SYS_memfd_secret
	static bool unavailable, announced;
	void *m;
	int fd;

	if (unavailable)
		return NULL;
	fd = (int)syscall(SYS_memfd_secret, O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		unavailable = e == ENOSYS || e == EPERM;
		log_dbg("memfd_secret: %s (key buffers are mlock'ed anonymous memory)",
			strerror(e));
		return NULL;
	}
	m = MAP_FAILED;
	if (!ftruncate(fd, (off_t)len))
		m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	else
		log_dbg("memfd_secret: ftruncate: %s", strerror(errno));
	close(fd);
	if (m == MAP_FAILED)
		return NULL;
	/* Shared pages would stay shared after fork(): a child must get none. */
	if (madvise(m, len, MADV_DONTFORK)) {
		log_dbg("madvise(MADV_DONTFORK) on secret memory: %s", strerror(errno));
		munmap(m, len);
		return NULL;
	}
	if (!announced)
		log_dbg("key buffers are secret memory (memfd_secret)");
	announced = true;
	return m;
#else
	(void)len;
	return NULL;
#endif
}

static void *map_anonymous(size_t len)
{
	void *m;

	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	if (mlock(m, len)) {
		int e = errno;

		munmap(m, len);
		errno = e == EPERM ? ENOMEM : e;
		return NULL;
	}
	/* Not fatal on kernels without it: the process is not dumpable anyway. */
	if (madvise(m, len, MADV_DONTDUMP))
		log_dbg("madvise(MADV_DONTDUMP) failed: %s", strerror(errno));
	/* A child (modprobe) sees zeros here, not the key. */
	if (madvise(m, len, MADV_WIPEONFORK))
		log_dbg("madvise(MADV_WIPEONFORK) failed: %s", strerror(errno));
	return m;
}

void *secure_alloc(size_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct secure_hdr *h;
	bool secret = true;
	size_t len;
	void *m;

	if (n > SIZE_MAX - HDR_LEN - page) {
		errno = ENOMEM;
		return NULL;
	}
	len = (n + HDR_LEN + page - 1) / page * page;
	m = map_secret(len);
	if (!m) {
		secret = false;
		m = map_anonymous(len);
		if (!m)
			return NULL;
	}
	h = m;
	h->map_len = len;
	h->size = n;
	h->secret = secret;
	return (char *)m + HDR_LEN;
}

size_t secure_size(const void *p)
{
	const struct secure_hdr *h;

	if (!p)
		return 0;
	h = (const void *)((const char *)p - HDR_LEN);
	return h->size;
}

void secure_wipe(void *p, size_t n)
{
	if (p && n)
		explicit_bzero(p, n);
}

void secure_free(void *p)
{
	struct secure_hdr *h;
	bool secret;
	size_t len;

	if (!p)
		return;
	h = (void *)((char *)p - HDR_LEN);
	len = h->map_len;
	secret = h->secret;
	explicit_bzero(h, len);
	if (!secret)
		munlock(h, len);
	munmap(h, len);
}

__attribute__((noinline)) void secure_wipe_stack(void)
{
	unsigned char buf[SECURE_STACK_WIPE];

	explicit_bzero(buf, sizeof(buf));
	__asm__ __volatile__("" : : "r"(buf) : "memory");
}

int secure_process_init(void)
{
	struct rlimit rl = { 0, 0 };
	int r = 0;

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)) {
		r = -errno;
		log_dbg("prctl(PR_SET_DUMPABLE, 0) failed: %s", strerror(errno));
	}
	if (setrlimit(RLIMIT_CORE, &rl)) {
		r = -errno;
		log_dbg("setrlimit(RLIMIT_CORE, 0) failed: %s", strerror(errno));
	}
	return r;
}

int secure_lock_all(void)
{
	if (mlockall(MCL_CURRENT | MCL_FUTURE)) {
		int r = -errno;

		log_dbg("mlockall failed: %s (key buffers are still locked one by one)",
			strerror(errno));
		return r;
	}
	log_dbg("memory locked (mlockall)");
	return 0;
}

void secure_unlock_all(void)
{
	munlockall();
}
