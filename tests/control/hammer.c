// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hammer: many threads issue VERSION, KEY_ADD, KEY_REMOVE and KEY_LIST on
 * /dev/vault-control at once, with random valid and invalid arguments, for
 * a bounded time.  Used by tests/guest/92-control-hammer.sh, which creates
 * and removes vault devices naming the same keys meanwhile.
 *
 *   hammer PREFIX SECONDS THREADS
 *
 * Keys are named PREFIX-k0 .. PREFIX-k7, so that threads race on the same
 * names (EEXIST / ENOENT) and the device loop finds some of them loaded.
 * Each thread owns a control descriptor and now and then closes and reopens
 * it, which wipes the fd-scoped keys it added while others use the table.
 * Every result is checked against what the UAPI header promises for the
 * arguments given; anything else is an error.
 *
 * At the end: persistent keys are removed by name, every descriptor is
 * closed, and a fresh descriptor must list no PREFIX key.  Prints "# "
 * diagnostics and a summary line; exits 0 only when nothing unexpected
 * happened.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/dm-vault.h>

#define CTL_PATH "/dev/" VAULT_CONTROL_NAME
#define NR_NAMES 8
#define MAX_THREADS 64
#define MAX_REPORTS 20

enum op { OP_VERSION, OP_ADD, OP_ADD_BAD, OP_REMOVE, OP_REMOVE_BAD, OP_LIST,
	  OP_LIST_BAD, OP_UNKNOWN, OP_REOPEN, NR_OPS };

static const char *const op_names[NR_OPS] = {
	"version", "add", "add-invalid", "remove", "remove-invalid", "list",
	"list-invalid", "unknown-ioctl", "reopen",
};

static const char *prefix;
static struct timespec deadline;
static atomic_long counts[NR_OPS];
static atomic_long errors;
static atomic_long adds_ok;

struct worker {
	pthread_t thread;
	unsigned int seed;
	int fd;
};

static bool past_deadline(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > deadline.tv_sec ||
	       (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec);
}

/* Report an unexpected result (the first MAX_REPORTS only). */
static void unexpected(const char *what, int got, const char *want)
{
	long n = atomic_fetch_add(&errors, 1);

	if (n < MAX_REPORTS)
		printf("# hammer: %s returned %d (%s), expected %s\n", what, got,
		       got < 0 ? strerror(-got) : "success", want);
}

static int xioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

static void key_name(char *buf, size_t len, unsigned int i)
{
	snprintf(buf, len, "%s-k%u", prefix, i % NR_NAMES);
}

static bool name_ok(const char *name)
{
	size_t len = strnlen(name, VAULT_KEY_NAME_MAX), i;

	if (len == 0 || len == VAULT_KEY_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == ':' || c == '-'))
			return false;
	}
	return true;
}

static void do_version(struct worker *w)
{
	struct vault_version v;
	int r, i;

	memset(&v, 0xa5, sizeof(v));
	r = xioctl(w->fd, VAULT_IOC_VERSION, &v);
	if (r) {
		unexpected("VERSION", r, "0");
		return;
	}
	if (v.major != VAULT_VERSION_MAJOR || v.key_name_max != VAULT_KEY_NAME_MAX ||
	    v.key_size_max != VAULT_KEY_SIZE_MAX || v.keys_max != VAULT_KEYS_MAX)
		unexpected("VERSION fields", 0, "the header's constants");
	for (i = 0; i < 5; i++)
		if (v.reserved[i])
			unexpected("VERSION reserved", 0, "zero");
}

static void do_add(struct worker *w)
{
	/* 32 and 64 fit aes-xts; 16 and 100 make the device loop's ctr fail */
	static const uint32_t sizes[] = { 32, 64, 64, 16, 100 };
	struct vault_key_add ka;
	uint8_t key[VAULT_KEY_SIZE_MAX];
	unsigned int i;
	int r;

	memset(&ka, 0, sizeof(ka));
	key_name(ka.name, sizeof(ka.name), rand_r(&w->seed));
	ka.key_size = sizes[rand_r(&w->seed) % 5];
	for (i = 0; i < ka.key_size; i++)
		key[i] = rand_r(&w->seed);
	ka.key_ptr = (uintptr_t)key;
	ka.flags = rand_r(&w->seed) % 4 == 0 ? VAULT_KEY_PERSISTENT : 0;
	r = xioctl(w->fd, VAULT_IOC_KEY_ADD, &ka);
	explicit_bzero(key, sizeof(key));
	if (r == 0)
		atomic_fetch_add(&adds_ok, 1);
	else if (r != -EEXIST && r != -ENOSPC)
		unexpected("KEY_ADD", r, "0, -EEXIST or -ENOSPC");
}

static void do_add_bad(struct worker *w)
{
	struct vault_key_add ka;
	uint8_t key[VAULT_KEY_SIZE_MAX] = { 1 };
	int want = -EINVAL, r;

	memset(&ka, 0, sizeof(ka));
	key_name(ka.name, sizeof(ka.name), rand_r(&w->seed));
	ka.key_ptr = (uintptr_t)key;
	ka.key_size = 32;
	switch (rand_r(&w->seed) % 8) {
	case 0: ka.name[0] = '\0'; break;
	case 1: memset(ka.name, 'a', sizeof(ka.name)); break;	/* no NUL */
	case 2: ka.name[1] = '/'; break;
	case 3: ka.key_size = 0; break;
	case 4: ka.key_size = VAULT_KEY_SIZE_MAX + 1 + rand_r(&w->seed) % 1000; break;
	case 5: ka.flags = 1u << (1 + rand_r(&w->seed) % 31); break;
	case 6: ka.reserved[rand_r(&w->seed) % 2] = 1; break;
	default:
		/* a valid request whose key bytes are unreadable */
		ka.key_ptr = 8;
		want = -EFAULT;
		break;
	}
	r = xioctl(w->fd, VAULT_IOC_KEY_ADD, &ka);
	/* a bad pointer to an existing name may be refused as EEXIST first */
	if (r != want && !(want == -EFAULT && r == -EEXIST))
		unexpected("invalid KEY_ADD", r, want == -EINVAL ? "-EINVAL" : "-EFAULT");
}

static void do_remove(struct worker *w)
{
	struct vault_key_remove kr;
	int r;

	memset(&kr, 0, sizeof(kr));
	key_name(kr.name, sizeof(kr.name), rand_r(&w->seed));
	r = xioctl(w->fd, VAULT_IOC_KEY_REMOVE, &kr);
	if (r && r != -ENOENT)
		unexpected("KEY_REMOVE", r, "0 or -ENOENT");
}

static void do_remove_bad(struct worker *w)
{
	struct vault_key_remove kr;
	int r;

	memset(&kr, 0, sizeof(kr));
	key_name(kr.name, sizeof(kr.name), rand_r(&w->seed));
	switch (rand_r(&w->seed) % 4) {
	case 0: kr.name[0] = '\0'; break;
	case 1: kr.flags = 1; break;
	case 2: kr.reserved = 1; break;
	default: memset(kr.name, 'b', sizeof(kr.name)); break;
	}
	r = xioctl(w->fd, VAULT_IOC_KEY_REMOVE, &kr);
	if (r != -EINVAL)
		unexpected("invalid KEY_REMOVE", r, "-EINVAL");
}

static void do_list(struct worker *w)
{
	struct vault_key_info infos[VAULT_KEYS_MAX + 8];
	struct vault_key_list kl;
	unsigned int i, filled;
	int r;

	memset(infos, 0xa5, sizeof(infos));
	memset(&kl, 0, sizeof(kl));
	kl.keys_ptr = (uintptr_t)infos;
	kl.capacity = rand_r(&w->seed) % (VAULT_KEYS_MAX + 9);
	r = xioctl(w->fd, VAULT_IOC_KEY_LIST, &kl);
	if (r) {
		unexpected("KEY_LIST", r, "0");
		return;
	}
	if (kl.count > VAULT_KEYS_MAX) {
		unexpected("KEY_LIST count over keys_max", (int)kl.count, "<= 64");
		return;
	}
	filled = kl.count < kl.capacity ? kl.count : kl.capacity;
	for (i = 0; i < filled; i++) {
		const struct vault_key_info *k = &infos[i];

		if (!name_ok(k->name) || !k->key_size ||
		    k->key_size > VAULT_KEY_SIZE_MAX ||
		    (k->flags & ~VAULT_KEY_PERSISTENT) || k->reserved[0] ||
		    k->reserved[1]) {
			unexpected("KEY_LIST entry", 0, "a well-formed entry");
			return;
		}
	}
	/* entries past the filled ones must be untouched */
	for (i = filled; i < sizeof(infos) / sizeof(infos[0]); i++)
		if (infos[i].key_size != 0xa5a5a5a5u) {
			unexpected("KEY_LIST wrote past capacity", (int)i, "untouched");
			return;
		}
}

static void do_list_bad(struct worker *w)
{
	struct vault_key_list kl;
	int r;

	memset(&kl, 0, sizeof(kl));
	if (rand_r(&w->seed) % 2) {
		if (rand_r(&w->seed) % 2)
			kl.flags = 1;
		else
			kl.reserved[rand_r(&w->seed) % 3] = 1;
		r = xioctl(w->fd, VAULT_IOC_KEY_LIST, &kl);
		if (r != -EINVAL)
			unexpected("invalid KEY_LIST", r, "-EINVAL");
		return;
	}
	/* an unwritable array: -EFAULT, or 0 when no key was there to copy */
	kl.keys_ptr = 8;
	kl.capacity = VAULT_KEYS_MAX;
	r = xioctl(w->fd, VAULT_IOC_KEY_LIST, &kl);
	if (r != -EFAULT && !(r == 0 && kl.count == 0))
		unexpected("KEY_LIST to a bad pointer", r, "-EFAULT");
}

static void do_unknown(struct worker *w)
{
	char buf[256] = { 0 };
	int r;

	r = xioctl(w->fd, _IOWR(VAULT_IOCTL_MAGIC, 0x04 + rand_r(&w->seed) % 32,
				char[64]), buf);
	if (r != -ENOTTY)
		unexpected("unknown ioctl", r, "-ENOTTY");
}

static void do_reopen(struct worker *w)
{
	close(w->fd);
	w->fd = open(CTL_PATH, O_RDWR | O_CLOEXEC);
	if (w->fd < 0) {
		unexpected("open " CTL_PATH, -errno, "a descriptor");
		w->fd = -1;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	while (w->fd >= 0 && !past_deadline()) {
		/* reopen rarely: it wipes this descriptor's keys */
		unsigned int pick = rand_r(&w->seed) % 100;
		enum op op;

		if (pick < 8) op = OP_VERSION;
		else if (pick < 30) op = OP_ADD;
		else if (pick < 40) op = OP_ADD_BAD;
		else if (pick < 55) op = OP_REMOVE;
		else if (pick < 62) op = OP_REMOVE_BAD;
		else if (pick < 85) op = OP_LIST;
		else if (pick < 92) op = OP_LIST_BAD;
		else if (pick < 97) op = OP_UNKNOWN;
		else op = OP_REOPEN;

		switch (op) {
		case OP_VERSION: do_version(w); break;
		case OP_ADD: do_add(w); break;
		case OP_ADD_BAD: do_add_bad(w); break;
		case OP_REMOVE: do_remove(w); break;
		case OP_REMOVE_BAD: do_remove_bad(w); break;
		case OP_LIST: do_list(w); break;
		case OP_LIST_BAD: do_list_bad(w); break;
		case OP_UNKNOWN: do_unknown(w); break;
		default: do_reopen(w); break;
		}
		atomic_fetch_add(&counts[op], 1);
		/* leave the (few) CPUs some room for the device loop */
		usleep(2000);
	}
	return NULL;
}

/* Keys named PREFIX-* in the table, through a fresh descriptor; -1 on error. */
static int count_prefixed(int fd, bool remove_persistent)
{
	struct vault_key_info infos[VAULT_KEYS_MAX];
	struct vault_key_list kl;
	size_t plen = strlen(prefix);
	unsigned int i, n = 0;

	memset(&kl, 0, sizeof(kl));
	kl.keys_ptr = (uintptr_t)infos;
	kl.capacity = VAULT_KEYS_MAX;
	if (ioctl(fd, VAULT_IOC_KEY_LIST, &kl)) {
		printf("# hammer: KEY_LIST: %s\n", strerror(errno));
		return -1;
	}
	for (i = 0; i < kl.count && i < VAULT_KEYS_MAX; i++) {
		if (strncmp(infos[i].name, prefix, plen) || infos[i].name[plen] != '-')
			continue;
		n++;
		if (remove_persistent && (infos[i].flags & VAULT_KEY_PERSISTENT)) {
			struct vault_key_remove kr;

			memset(&kr, 0, sizeof(kr));
			memcpy(kr.name, infos[i].name, sizeof(kr.name));
			if (ioctl(fd, VAULT_IOC_KEY_REMOVE, &kr) && errno != ENOENT)
				printf("# hammer: removing %s: %s\n", kr.name,
				       strerror(errno));
		}
	}
	return n;
}

int main(int argc, char **argv)
{
	struct worker workers[MAX_THREADS];
	int seconds, nthreads, i, fd, left, bad = 0;

	if (argc != 4 || (seconds = atoi(argv[2])) <= 0 ||
	    (nthreads = atoi(argv[3])) <= 0 || nthreads > MAX_THREADS) {
		fprintf(stderr, "usage: hammer PREFIX SECONDS THREADS(1-%d)\n",
			MAX_THREADS);
		return 2;
	}
	prefix = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += seconds;

	for (i = 0; i < nthreads; i++) {
		workers[i].seed = (unsigned int)time(NULL) ^ (unsigned int)getpid() ^
				  (unsigned int)(i * 2654435761u);
		workers[i].fd = open(CTL_PATH, O_RDWR | O_CLOEXEC);
		if (workers[i].fd < 0) {
			printf("# hammer: open %s: %s\n", CTL_PATH, strerror(errno));
			return 1;
		}
	}
	for (i = 0; i < nthreads; i++)
		if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i])) {
			printf("# hammer: pthread_create failed\n");
			return 1;
		}
	for (i = 0; i < nthreads; i++)
		pthread_join(workers[i].thread, NULL);

	for (i = 0; i < NR_OPS; i++)
		printf("# hammer: %-15s %ld\n", op_names[i], atomic_load(&counts[i]));
	printf("# hammer: %ld keys added, %ld unexpected results\n",
	       atomic_load(&adds_ok), atomic_load(&errors));

	/* persistent keys go by name, fd-scoped ones with their descriptors */
	fd = open(CTL_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		printf("# hammer: open %s: %s\n", CTL_PATH, strerror(errno));
		return 1;
	}
	left = count_prefixed(fd, true);
	printf("# hammer: %d %s-* keys loaded at the end\n", left, prefix);
	for (i = 0; i < nthreads; i++)
		if (workers[i].fd >= 0)
			close(workers[i].fd);
	left = count_prefixed(fd, false);
	close(fd);
	if (left != 0) {
		printf("# hammer: %d %s-* keys still loaded after every descriptor closed\n",
		       left, prefix);
		bad = 1;
	}
	if (atomic_load(&errors) || atomic_load(&adds_ok) == 0)
		bad = 1;
	return bad;
}
