// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: memory for secrets.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "secure_mem.h"
#include "util.h"

/* Each buffer starts with a header page-aligned together with its data. */
struct secure_hdr {
	size_t map_len;		/* whole mapping */
	size_t size;		/* bytes the caller asked for */
};

#define HDR_LEN	64	/* keeps the data 64-byte aligned */

_Static_assert(sizeof(struct secure_hdr) <= HDR_LEN, "header fits");

void *secure_alloc(size_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct secure_hdr *h;
	size_t len;
	void *m;

	if (n > SIZE_MAX - HDR_LEN - page) {
		errno = ENOMEM;
		return NULL;
	}
	len = (n + HDR_LEN + page - 1) / page * page;
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
	h = m;
	h->map_len = len;
	h->size = n;
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
	size_t len;

	if (!p)
		return;
	h = (void *)((char *)p - HDR_LEN);
	len = h->map_len;
	explicit_bzero(h, len);
	munlock(h, len);
	munmap(h, len);
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
