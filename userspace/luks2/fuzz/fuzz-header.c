// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for the LUKS2 header reader: the input is the start of a
 * device (both header copies).  It is loaded read-only from a memfd, and
 * when it validates, dumped and asked for its segment, which walks every
 * field the validator promised to be sound.
 *
 * Random mutations almost never keep a checksum valid, so unless the last
 * input byte is odd, the checksums of both copies are recomputed first: the
 * fuzzer then reaches the JSON parser and validator, not just the checksum.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "luks2_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fix_checksum(uint8_t *buf, size_t size, uint64_t off)
{
	unsigned char csum[64];
	unsigned int len;
	uint64_t hs;

	if (off > size || size - off < 4096)
		return;
	hs = l2_be64(buf + off + 8);
	if (hs < 4096 || hs > size - off)
		return;
	buf[off + 72 + 31] = 0;
	memset(buf + off + 448, 0, 64);
	if (!l2_checksum((const char *)buf + off + 72, buf + off, buf + off + 4096, hs - 4096,
			 csum, &len))
		memcpy(buf + off + 448, csum, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct luks2_segment seg;
	char path[64];
	struct luks2 *l;
	FILE *null;
	int fd;

	uint8_t *buf;

	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (size && !(buf[size - 1] & 1)) {
		fix_checksum(buf, size, 0);
		if (size >= 16)
			fix_checksum(buf, size, l2_be64(buf + 8));
	}
	fd = memfd_create("luks2-fuzz", MFD_CLOEXEC);
	if (fd < 0 || write(fd, buf, size) != (ssize_t)size) {
		if (fd >= 0)
			close(fd);
		free(buf);
		return 0;
	}
	free(buf);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	l = luks2_new();
	if (l && !luks2_load(l, path, 0)) {
		null = fopen("/dev/null", "w");
		if (null) {
			luks2_dump(l, null);
			fclose(null);
		}
		luks2_get_segment(l, &seg);
		(void)luks2_keyslots_in_use(l);
	} else if (l && !luks2_error(l)[0]) {
		__builtin_trap();	/* every failure must say why */
	}
	luks2_free(l);
	/* inspection of what strict loading refuses: dump, re-encryption state and digest */
	l = luks2_new();
	if (l && !luks2_load(l, path, LUKS2_IGNORE_REQUIREMENTS)) {
		static const unsigned char key[64];
		struct luks2_reencrypt re;

		null = fopen("/dev/null", "w");
		if (null) {
			luks2_dump(l, null);
			fclose(null);
		}
		if (!luks2_reencrypt_status(l, &re))
			(void)luks2_reencrypt_verify_keys(l, key, sizeof(key), key, sizeof(key));
	}
	luks2_free(l);
	close(fd);
	return 0;
}
