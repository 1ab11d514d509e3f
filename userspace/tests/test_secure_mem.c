// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests: locked, non-dumpable, wiped memory for keys.
 */
#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ktap.h"
#include "secure_mem.h"

/* Kilobytes of locked memory (VmLck in /proc/self/status), or -1. */
static long vm_locked_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/*
 * From the smaps entry holding ADDR: its header line (WHAT = NULL) or the
 * line starting with WHAT; "" when not found.
 */
static const char *smaps_line(const void *addr, const char *what)
{
	static char found[512];
	unsigned long a = (unsigned long)addr, lo, hi;
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	int in = 0;

	found[0] = '\0';
	if (!f)
		return found;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = a >= lo && a < hi;
			if (in && !what) {
				snprintf(found, sizeof(found), "%s", line);
				break;
			}
			continue;
		}
		if (in && what && !strncmp(line, what, strlen(what))) {
			snprintf(found, sizeof(found), "%s", line + strlen(what));
			break;
		}
	}
	fclose(f);
	return found;
}

static const char *vm_flags(const void *addr)
{
	return smaps_line(addr, "VmFlags:");
}

/* Whether this kernel lets us create secret memory (Linux >= 6.5 by default). */
static int have_memfd_secret(void)
{
#ifdef SYS_memfd_secret
	int fd = (int)syscall(SYS_memfd_secret, 0);

	if (fd >= 0) {
		close(fd);
		return 1;
	}
#endif
	return 0;
}

static void alloc_is_zeroed_and_sized(void)
{
	unsigned char *p = secure_alloc(100);
	size_t i;
	int zero = 1;

	EXPECT(p != NULL);
	if (!p)
		return;
	for (i = 0; i < 100; i++)
		zero &= !p[i];
	EXPECT(zero);
	EXPECT_INT(secure_size(p), 100);
	EXPECT_INT((unsigned long)p % 64, 0);
	memset(p, 0xff, 100);
	secure_free(p);
	secure_free(NULL);
	EXPECT_INT(secure_size(NULL), 0);
}

static void alloc_is_locked(void)
{
	long before = vm_locked_kb(), during, after;
	long page_kb = sysconf(_SC_PAGESIZE) / 1024;
	void *p;

	if (before < 0) {
		ktap_skip("no VmLck in /proc/self/status");
		return;
	}
	p = secure_alloc(3 * 4096);
	EXPECT(p != NULL);
	during = vm_locked_kb();
	secure_free(p);
	after = vm_locked_kb();
	EXPECT(during >= before + 3 * page_kb);
	EXPECT_INT(after, before);
}

static void alloc_flags_in_smaps(void)
{
	void *p = secure_alloc(64);
	const char *f;

	EXPECT(p != NULL);
	f = vm_flags(p);
	if (!*f) {
		ktap_skip("no VmFlags in /proc/self/smaps");
	} else {
		EXPECT(strstr(f, " lo"));	/* locked */
		EXPECT(strstr(f, " dd"));	/* not in core dumps */
		/* wiped on fork (anonymous) or not copied (secret memory) */
		EXPECT(strstr(f, " wf") || strstr(f, " dc"));
	}
	secure_free(p);
}

/* Where the kernel has it, keys live in secret memory: wiped when freed, even on SIGKILL. */
static void alloc_is_secret_memory(void)
{
	void *p;

	if (!have_memfd_secret()) {
		ktap_skip("memfd_secret is not available (Linux < 6.5 needs secretmem.enable=1)");
		return;
	}
	p = secure_alloc(64);
	EXPECT(p != NULL);
	EXPECT(strstr(smaps_line(p, NULL), "secretmem") != NULL);
	secure_free(p);
}

static void free_unmaps(void)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned char *p = secure_alloc(10), vec;
	void *base = (void *)((unsigned long)p & ~(unsigned long)(page - 1));

	EXPECT_INT(mincore(base, (size_t)page, &vec), 0);
	secure_free(p);
	EXPECT_INT(mincore(base, (size_t)page, &vec), -1);
	EXPECT_INT(errno, ENOMEM);
}

static void wipe_zeroes(void)
{
	unsigned char buf[77];
	size_t i;
	int zero = 1;

	memset(buf, 0x5a, sizeof(buf));
	secure_wipe(buf, sizeof(buf));
	for (i = 0; i < sizeof(buf); i++)
		zero &= !buf[i];
	EXPECT(zero);
	secure_wipe(NULL, 10);
}

/* Fills N bytes with 0x5a through a volatile pointer (no dead-store removal). */
static void fill(void *p, size_t n)
{
	volatile unsigned char *v = p;

	for (size_t i = 0; i < n; i++)
		v[i] = 0x5a;
}

/* How many of N bytes at P are still 0x5a. */
static size_t left(const void *p, size_t n)
{
	const volatile unsigned char *v = p;
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += v[i] == 0x5a;
	return k;
}

/*
 * secure_mem_heap.c: a freed block holds nothing of what it held, checked
 * when malloc() hands the same block out again (it does, single-threaded,
 * for a block freed just before: per-thread cache, bins or the top chunk).
 */
static void heap_free_wipes(void)
{
	static const size_t sizes[] = { 24, 200, 1000, 5000, 60000 };
	unsigned int reused = 0;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned char *p = malloc(sizes[i]), *q;

		EXPECT(p != NULL);
		if (!p)
			return;
		fill(p, sizes[i]);
		free(p);
		q = malloc(sizes[i]);
		EXPECT(q != NULL);
		if (q == p) {
			reused++;
			/* the first 16 bytes hold the allocator's list
			 * pointers, written after free() wiped the block */
			EXPECT_INT(left(q + 16, sizes[i] - 16), 0);
		}
		free(q);
	}
	if (!reused)
		ktap_skip("malloc() never handed a freed block out again (valgrind?)");
}

/* realloc() keeps the contents and wipes the block it leaves. */
static void heap_realloc_wipes(void)
{
	unsigned char *p = malloc(100), *q, *r;
	int same = 1;

	EXPECT(p != NULL);
	if (!p)
		return;
	for (int i = 0; i < 100; i++)
		p[i] = (unsigned char)i;
	q = realloc(p, 3000);
	EXPECT(q != NULL);
	if (!q)
		return;
	for (int i = 0; i < 100; i++)
		same &= q[i] == i;
	EXPECT(same);
	fill(q, 3000);
	r = realloc(q, 20000);
	EXPECT(r != NULL);
	if (r)
		EXPECT_INT(left(r, 3000), 3000);
	free(r);
	r = realloc(NULL, 10);
	EXPECT(r != NULL);
	free(r);
}

/* The old block of a realloc() that moved is wiped: malloc() hands it out again. */
static void heap_realloc_old_wiped(void)
{
	unsigned char *p = malloc(2000), *q, *r;
	uintptr_t old = (uintptr_t)p;

	EXPECT(p != NULL);
	if (!p)
		return;
	fill(p, 2000);
	q = realloc(p, 100000);
	EXPECT(q != NULL);
	r = malloc(2000);
	EXPECT(r != NULL);
	if ((uintptr_t)r == old)
		EXPECT_INT(left(r + 16, 2000 - 16), 0);
	else
		ktap_skip("malloc() did not hand the old block out again (valgrind?)");
	free(r);
	free(q);
}

/* Leaves 0x5a in a 4 KiB local array and returns where it was. */
static __attribute__((noinline)) uintptr_t stack_leftover(void)
{
	volatile unsigned char buf[4096];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = 0x5a;
	return (uintptr_t)buf;
}

/* secure_wipe_stack() zeroes what a returned function left on the stack. */
static void stack_wipe(void)
{
	uintptr_t at = stack_leftover();
	const volatile unsigned char *v = (const void *)at;
	size_t before = 0, after = 0;

	for (size_t i = 0; i < 4096; i++)
		before += v[i] == 0x5a;
	secure_wipe_stack();
	for (size_t i = 0; i < 4096; i++)
		after += v[i] == 0x5a;
	EXPECT(before > 4000);		/* the control: it was there */
	EXPECT_INT(after, 0);
}

static void child_sees_no_key(void)
{
	unsigned char *p = secure_alloc(32);
	int status = -1;
	pid_t pid;

	memset(p, 0xa5, 32);
	pid = fork();
	if (!pid) {
		long page = sysconf(_SC_PAGESIZE);
		void *base = (void *)((unsigned long)p & ~(unsigned long)(page - 1));
		unsigned char vec;
		size_t i;

		/* not mapped at all (secret memory), or mapped and zeroed */
		if (mincore(base, (size_t)page, &vec) && errno == ENOMEM)
			_exit(0);
		for (i = 0; i < 32; i++)
			if (p[i])
				_exit(1);
		_exit(0);
	}
	EXPECT(pid > 0);
	waitpid(pid, &status, 0);
	EXPECT(WIFEXITED(status));
	EXPECT_INT(WEXITSTATUS(status), 0);
	EXPECT_INT(p[31], 0xa5);
	secure_free(p);
}

static void process_not_dumpable(void)
{
	struct rlimit rl;

	EXPECT_INT(secure_process_init(), 0);
	EXPECT_INT(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
	EXPECT_INT(getrlimit(RLIMIT_CORE, &rl), 0);
	EXPECT_INT(rl.rlim_cur, 0);
	EXPECT_INT(rl.rlim_max, 0);
}

static void lock_all(void)
{
	int r = secure_lock_all();

	if (r) {
		ktap_skip("mlockall not permitted here");
		return;
	}
	EXPECT(vm_locked_kb() > 0);
	secure_unlock_all();
}

static const struct ktap_case cases[] = {
	KTAP_CASE(alloc_is_zeroed_and_sized),
	KTAP_CASE(alloc_is_locked),
	KTAP_CASE(alloc_flags_in_smaps),
	KTAP_CASE(alloc_is_secret_memory),
	KTAP_CASE(free_unmaps),
	KTAP_CASE(wipe_zeroes),
	KTAP_CASE(heap_free_wipes),
	KTAP_CASE(heap_realloc_wipes),
	KTAP_CASE(heap_realloc_old_wiped),
	KTAP_CASE(stack_wipe),
	KTAP_CASE(child_sees_no_key),
	KTAP_CASE(process_not_dumpable),
	KTAP_CASE(lock_all),
};

int main(void)
{
	return ktap_run(cases, sizeof(cases) / sizeof(cases[0]));
}
