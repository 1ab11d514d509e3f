// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dm_cycles: create, read from and remove a device-mapper device many times
 * in one process, with the raw device-mapper ioctls (no libdevmapper, no
 * udev).  Used by tests/guest/90-cycles-rmmod.sh: under TCG a dmsetup
 * process costs about half a second, so 200 cycles through dmsetup would
 * take minutes; here each cycle is a handful of system calls.
 *
 *   dm_cycles NAME COUNT TABLE [TABLE...]
 *
 * Each TABLE is "<start> <length> <target> <params>"; cycle i uses table
 * i % number-of-tables.  A cycle: DM_DEV_CREATE, DM_TABLE_LOAD, resume,
 * open the device (through a private node made with mknod), read its first
 * 4 KiB with O_DIRECT, close, DM_DEV_REMOVE.  Prints "# " diagnostics and
 * exits 0 when every cycle succeeded, 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/dm-ioctl.h>

#define BUF_SIZE 16384

struct dm_buf {
	struct dm_ioctl io;
	char data[BUF_SIZE];
} __attribute__((aligned(8)));

static void dm_init(struct dm_buf *b, const char *name)
{
	memset(b, 0, sizeof(*b));
	b->io.version[0] = DM_VERSION_MAJOR;
	b->io.version[1] = 0;
	b->io.version[2] = 0;
	b->io.data_size = sizeof(*b);
	b->io.data_start = sizeof(struct dm_ioctl);
	snprintf(b->io.name, sizeof(b->io.name), "%s", name);
}

static int dm_cmd(int ctl, unsigned long cmd, struct dm_buf *b, const char *what)
{
	if (ioctl(ctl, cmd, &b->io) == 0)
		return 0;
	printf("# dm_cycles: %s %s: %s\n", what, b->io.name, strerror(errno));
	return -1;
}

/* Parse "<start> <len> <type> <params>" into the spec following the header. */
static int dm_load(int ctl, const char *name, const char *table)
{
	struct dm_buf b;
	struct dm_target_spec *spec;
	unsigned long long start, len;
	char type[DM_MAX_TYPE_NAME];
	int consumed = 0;
	size_t plen;

	if (sscanf(table, "%llu %llu %15s %n", &start, &len, type, &consumed) != 3 ||
	    !consumed) {
		printf("# dm_cycles: cannot parse table \"%s\"\n", table);
		return -1;
	}
	dm_init(&b, name);
	b.io.target_count = 1;
	spec = (struct dm_target_spec *)b.data;
	spec->sector_start = start;
	spec->length = len;
	snprintf(spec->target_type, sizeof(spec->target_type), "%s", type);
	plen = strlen(table + consumed) + 1;
	if (sizeof(*spec) + plen > sizeof(b.data)) {
		printf("# dm_cycles: table too long\n");
		return -1;
	}
	memcpy(spec + 1, table + consumed, plen);
	spec->next = 0;
	return dm_cmd(ctl, DM_TABLE_LOAD, &b, "DM_TABLE_LOAD");
}

static int read_first_block(dev_t dev, const char *node)
{
	void *buf;
	ssize_t n;
	int fd;

	unlink(node);
	if (mknod(node, S_IFBLK | 0600, dev)) {
		printf("# dm_cycles: mknod %s: %s\n", node, strerror(errno));
		return -1;
	}
	fd = open(node, O_RDONLY | O_DIRECT | O_CLOEXEC);
	unlink(node);
	if (fd < 0) {
		printf("# dm_cycles: open: %s\n", strerror(errno));
		return -1;
	}
	if (posix_memalign(&buf, 4096, 4096)) {
		close(fd);
		return -1;
	}
	n = pread(fd, buf, 4096, 0);
	if (n != 4096)
		printf("# dm_cycles: read: %s\n", n < 0 ? strerror(errno) : "short read");
	free(buf);
	close(fd);
	return n == 4096 ? 0 : -1;
}

static int one_cycle(int ctl, const char *name, const char *table, const char *node)
{
	struct dm_buf b;
	dev_t dev;
	int r = -1;

	dm_init(&b, name);
	if (dm_cmd(ctl, DM_DEV_CREATE, &b, "DM_DEV_CREATE"))
		return -1;
	dev = (dev_t)b.io.dev;
	if (dm_load(ctl, name, table))
		goto remove;
	dm_init(&b, name);	/* flags 0: resume, making the table live */
	if (dm_cmd(ctl, DM_DEV_SUSPEND, &b, "resume"))
		goto remove;
	r = read_first_block(dev, node);
remove:
	dm_init(&b, name);
	if (dm_cmd(ctl, DM_DEV_REMOVE, &b, "DM_DEV_REMOVE"))
		r = -1;
	return r;
}

int main(int argc, char **argv)
{
	char node[64];
	long count, i;
	int ctl, ntables, failed = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: %s NAME COUNT TABLE [TABLE...]\n", argv[0]);
		return 2;
	}
	count = strtol(argv[2], NULL, 10);
	ntables = argc - 3;
	ctl = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		printf("# dm_cycles: /dev/mapper/control: %s\n", strerror(errno));
		return 1;
	}
	snprintf(node, sizeof(node), "/tmp/dm_cycles.%d", (int)getpid());
	for (i = 0; i < count; i++) {
		if (one_cycle(ctl, argv[1], argv[3 + i % ntables], node)) {
			printf("# dm_cycles: cycle %ld failed (table \"%s\")\n", i,
			       argv[3 + i % ntables]);
			failed = 1;
			break;
		}
	}
	printf("# dm_cycles: %ld of %ld cycles done\n", i, count);
	close(ctl);
	return failed;
}
