// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * msg_race: race "key wipe" messages against suspend / key set / resume of a
 * vault device, with the raw device-mapper ioctls (a dmsetup process costs
 * about half a second under TCG; these loops make thousands of calls).
 * Used by tests/guest/71-key-messages.sh.
 *
 *   msg_race NAME KEYNAME SECONDS PATTERN
 *
 * One thread cycles: suspend, (every eighth cycle) wait up to 20 ms until a
 * wipe was accepted, "key set key:KEYNAME", resume (again after a refused resume: a wipe may
 * land between the key set and the resume), then
 * writes the next 4 KiB block of the file PATTERN to the same offset of
 * /dev/mapper/NAME (O_DIRECT) and reads the target's status.  The other
 * thread sends "key wipe" as fast as it can.  A wipe is legitimate only
 * while the device is suspended; once a resume has succeeded the device must
 * run with the real key, so a status of key_wiped on the running device
 * means a wipe landed while the resume was restarting I/O, and the block just
 * written went to disk encrypted under a random key: the caller reads the
 * blocks back through dm-crypt with the real key to see it.
 *
 * Prints "# " diagnostics, among them "blocks written: N" (blocks 0..N-1 of
 * PATTERN, each written once while N is at most the file's block count);
 * exits 1 when a wiped key was seen on a running device (or a call failed in
 * a way the cycle does not expect, a wipe included: only EINVAL and EBUSY
 * are refusals), 0 otherwise.  It leaves the device
 * running (resumed) when it can, so that the caller can check the data.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>
#include <linux/dm-ioctl.h>

#define BUF_SIZE 4096
#define BLOCK 4096

struct dm_buf {
	struct dm_ioctl io;
	char data[BUF_SIZE];
} __attribute__((aligned(8)));

static const char *dev_name;
static char key_set_msg[128];
static atomic_bool stop;
static atomic_long wipes_accepted, wipes_refused, wipes_other;
static int ctl = -1;

static void dm_init(struct dm_buf *b)
{
	memset(b, 0, sizeof(*b));
	b->io.version[0] = DM_VERSION_MAJOR;
	b->io.data_size = sizeof(*b);
	b->io.data_start = sizeof(struct dm_ioctl);
	snprintf(b->io.name, sizeof(b->io.name), "%s", dev_name);
}

/* 0 or -errno */
static int dm_message(const char *msg)
{
	struct dm_buf b;
	struct dm_target_msg *tm;

	dm_init(&b);
	tm = (struct dm_target_msg *)b.data;
	tm->sector = 0;
	snprintf(tm->message, BUF_SIZE - sizeof(*tm), "%s", msg);
	return ioctl(ctl, DM_TARGET_MSG, &b.io) ? -errno : 0;
}

static int dm_suspend(bool suspend)
{
	struct dm_buf b;

	dm_init(&b);
	if (suspend)
		b.io.flags = DM_SUSPEND_FLAG;
	return ioctl(ctl, DM_DEV_SUSPEND, &b.io) ? -errno : 0;
}

/* The INFO status of the first target into @out; 0 or -errno. */
static int dm_status(char *out, size_t len, bool *suspended)
{
	struct dm_buf b;
	struct dm_target_spec *spec;

	dm_init(&b);
	if (ioctl(ctl, DM_TABLE_STATUS, &b.io))
		return -errno;
	*suspended = b.io.flags & DM_SUSPEND_FLAG;
	if (!b.io.target_count)
		return -ENODATA;
	spec = (struct dm_target_spec *)((char *)&b.io + b.io.data_start);
	snprintf(out, len, "%s", (char *)(spec + 1));
	return 0;
}

static unsigned char *pattern;
static long nblocks;
static int dev_fd = -1;

static int probe_open(const char *pattern_path)
{
	char node[128];
	off_t size;
	int fd;

	fd = open(pattern_path, O_RDONLY | O_CLOEXEC);
	size = fd < 0 ? -1 : lseek(fd, 0, SEEK_END);
	nblocks = size / BLOCK;
	if (nblocks < 1 || posix_memalign((void **)&pattern, BLOCK, nblocks * BLOCK) ||
	    pread(fd, pattern, nblocks * BLOCK, 0) != nblocks * BLOCK) {
		printf("# msg_race: cannot read %s\n", pattern_path);
		return -1;
	}
	close(fd);
	snprintf(node, sizeof(node), "/dev/mapper/%s", dev_name);
	dev_fd = open(node, O_WRONLY | O_DIRECT | O_CLOEXEC);
	if (dev_fd < 0) {
		printf("# msg_race: %s: %s\n", node, strerror(errno));
		return -1;
	}
	return 0;
}

/* Block n of the pattern to the same place of the device; 0 or -errno. */
static int probe_write(long n)
{
	off_t off = (off_t)(n % nblocks) * BLOCK;
	ssize_t w = pwrite(dev_fd, pattern + off, BLOCK, off);

	if (w == BLOCK)
		return 0;
	return w < 0 ? -errno : -EIO;
}

static void *wiper(void *arg)
{
	(void)arg;
	int r;

	while (!atomic_load(&stop)) {
		r = dm_message("key wipe");
		if (!r)
			atomic_fetch_add(&wipes_accepted, 1);
		else if (r == -EINVAL || r == -EBUSY)
			atomic_fetch_add(&wipes_refused, 1);
		else if (atomic_fetch_add(&wipes_other, 1) < 3)
			printf("# msg_race: key wipe: %s\n", strerror(-r));
	}
	return NULL;
}

/*
 * Every eighth cycle, let the wiper hit the suspended device before the key
 * is set again (waiting up to 20 ms): so that wipes are known to reach the
 * device whatever the scheduler does, while the other cycles run free (a
 * wait on every cycle makes the resume-time race rarer).
 */
static void wait_for_a_wipe(void)
{
	long seen = atomic_load(&wipes_accepted);
	struct timespec pause = { 0, 100000 };
	int i;

	for (i = 0; i < 200 && atomic_load(&wipes_accepted) == seen; i++)
		nanosleep(&pause, NULL);
}

/* key set + resume until a resume succeeds; 0 or -errno */
static int set_and_resume(long *refused)
{
	int r = -EIO, tries;

	for (tries = 0; tries < 100000; tries++) {
		r = dm_message(key_set_msg);
		if (r) {
			printf("# msg_race: key set refused on a suspended device: %s\n",
			       strerror(-r));
			return r;
		}
		r = dm_suspend(false);
		if (!r)
			return 0;
		(*refused)++;
	}
	printf("# msg_race: no resume succeeded: %s\n", strerror(-r));
	return r;
}

int main(int argc, char **argv)
{
	long cycles = 0, resumes_refused = 0, bad = 0;
	struct timespec now, end;
	pthread_t thread;
	char status[256];
	bool suspended;
	int r, failed = 0;

	if (argc != 5) {
		fprintf(stderr, "usage: %s NAME KEYNAME SECONDS PATTERN\n", argv[0]);
		return 2;
	}
	dev_name = argv[1];
	if (probe_open(argv[4]))
		return 1;
	snprintf(key_set_msg, sizeof(key_set_msg), "key set key:%s", argv[2]);
	ctl = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		printf("# msg_race: /dev/mapper/control: %s\n", strerror(errno));
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += strtol(argv[3], NULL, 10);

	if (pthread_create(&thread, NULL, wiper, NULL)) {
		printf("# msg_race: pthread_create failed\n");
		return 1;
	}
	do {
		r = dm_suspend(true);
		if (r) {
			printf("# msg_race: suspend: %s\n", strerror(-r));
			failed = 1;
			break;
		}
		if (cycles % 8 == 0)
			wait_for_a_wipe();
		if (set_and_resume(&resumes_refused)) {
			failed = 1;
			break;
		}
		r = probe_write(cycles);
		if (r) {
			printf("# msg_race: write of block %ld: %s\n",
			       cycles % nblocks, strerror(-r));
			failed = 1;
			break;
		}
		cycles++;
		r = dm_status(status, sizeof(status), &suspended);
		if (r) {
			printf("# msg_race: status: %s\n", strerror(-r));
			failed = 1;
			break;
		}
		if (!suspended && strstr(status, "key_wiped")) {
			if (bad++ < 3)
				printf("# msg_race: cycle %ld: running after a successful resume with status \"%s\"\n",
				       cycles, status);
			/* give it the real key again and go on counting */
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec < end.tv_sec ||
		 (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec));
	atomic_store(&stop, true);
	pthread_join(thread, NULL);

	/* leave the device running with the real key whenever possible */
	if (!dm_status(status, sizeof(status), &suspended) && suspended &&
	    set_and_resume(&resumes_refused))
		failed = 1;

	printf("# msg_race: blocks written: %ld\n", cycles < nblocks ? cycles : nblocks);
	printf("# msg_race: %ld cycles, %ld resumes refused after a wipe, %ld wipes accepted, %ld refused, %ld failed otherwise, %ld cycles ran with a wiped key\n",
	       cycles, resumes_refused, atomic_load(&wipes_accepted),
	       atomic_load(&wipes_refused), atomic_load(&wipes_other), bad);
	close(dev_fd);
	free(pattern);
	close(ctl);
	return failed || bad || atomic_load(&wipes_other) ? 1 : 0;
}
