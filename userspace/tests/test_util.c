// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests: number and size parsing, exit codes, names, device checks.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "ktap.h"
#include "table.h"
#include "util.h"

static void parse_u64_accepts_decimal(void)
{
	uint64_t v = 1;

	EXPECT_INT(parse_u64("0", &v), 0);
	EXPECT_INT(v, 0);
	EXPECT_INT(parse_u64("18446744073709551615", &v), 0);
	EXPECT(v == UINT64_MAX);
	EXPECT_INT(parse_u64("007", &v), 0);
	EXPECT_INT(v, 7);
}

static void parse_u64_rejects_junk(void)
{
	uint64_t v = 42;

	EXPECT_INT(parse_u64("18446744073709551616", &v), -ERANGE);
	EXPECT_INT(parse_u64("99999999999999999999999", &v), -ERANGE);
	EXPECT_INT(parse_u64("", &v), -EINVAL);
	EXPECT_INT(parse_u64(NULL, &v), -EINVAL);
	EXPECT_INT(parse_u64("-1", &v), -EINVAL);
	EXPECT_INT(parse_u64("+1", &v), -EINVAL);
	EXPECT_INT(parse_u64(" 1", &v), -EINVAL);
	EXPECT_INT(parse_u64("1 ", &v), -EINVAL);
	EXPECT_INT(parse_u64("1x", &v), -EINVAL);
	EXPECT_INT(parse_u64("0x10", &v), -EINVAL);
	EXPECT_INT(v, 42);
}

static void parse_uint_range(void)
{
	unsigned int u;

	EXPECT_INT(parse_uint("4294967295", &u), 0);
	EXPECT(u == 4294967295U);
	EXPECT_INT(parse_uint("4294967296", &u), -ERANGE);
}

static void parse_sectors_units(void)
{
	uint64_t s;

	EXPECT_INT(parse_sectors("2048", &s), 0);
	EXPECT_INT(s, 2048);
	EXPECT_INT(parse_sectors("1M", &s), 0);
	EXPECT_INT(s, 2048);
	EXPECT_INT(parse_sectors("1MiB", &s), 0);
	EXPECT_INT(s, 2048);
	EXPECT_INT(parse_sectors("1k", &s), 0);
	EXPECT_INT(s, 2);
	EXPECT_INT(parse_sectors("3G", &s), 0);
	EXPECT_INT(s, 3ULL * 2 * 1024 * 1024);
	EXPECT_INT(parse_sectors("2T", &s), 0);
	EXPECT_INT(s, 2ULL * 2 * 1024 * 1024 * 1024);
	EXPECT_INT(parse_sectors("1P", &s), 0);
	EXPECT_INT(s, 1ULL << 41);
	EXPECT_INT(parse_sectors("0", &s), 0);
	EXPECT_INT(s, 0);
}

static void parse_sectors_rejects(void)
{
	uint64_t s = 5;

	EXPECT_INT(parse_sectors("", &s), -EINVAL);
	EXPECT_INT(parse_sectors("M", &s), -EINVAL);
	EXPECT_INT(parse_sectors("1X", &s), -EINVAL);
	EXPECT_INT(parse_sectors("1MB", &s), -EINVAL);
	EXPECT_INT(parse_sectors("1Mi", &s), -EINVAL);
	EXPECT_INT(parse_sectors("1 M", &s), -EINVAL);
	EXPECT_INT(parse_sectors("-1", &s), -EINVAL);
	EXPECT_INT(parse_sectors("1.5M", &s), -EINVAL);
	EXPECT_INT(parse_sectors("99999999P", &s), -ERANGE);
	EXPECT_INT(parse_sectors("123456789012345678901234567890", &s), -ERANGE);
	EXPECT_INT(s, 5);
}

static void exit_codes_match_cryptsetup(void)
{
	EXPECT_INT(errno_to_exit(0), 0);
	EXPECT_INT(errno_to_exit(-EINVAL), 1);
	EXPECT_INT(errno_to_exit(-ENOTSUP), 1);
	EXPECT_INT(errno_to_exit(-EPERM), 2);
	EXPECT_INT(errno_to_exit(-EACCES), 2);
	EXPECT_INT(errno_to_exit(-ENOMEM), 3);
	EXPECT_INT(errno_to_exit(-ENODEV), 4);
	EXPECT_INT(errno_to_exit(-ENOTBLK), 4);
	EXPECT_INT(errno_to_exit(-EBUSY), 5);
	EXPECT_INT(errno_to_exit(-EEXIST), 5);
	EXPECT_INT(errno_to_exit(-EIO), 1);
}

static void dm_names(void)
{
	EXPECT_INT(dm_name_valid("vault0"), 0);
	EXPECT_INT(dm_name_valid("a-b_c.d:e+f=g@h#i"), 0);
	EXPECT_INT(dm_name_valid(""), -EINVAL);
	EXPECT_INT(dm_name_valid("."), -EINVAL);
	EXPECT_INT(dm_name_valid(".."), -EINVAL);
	EXPECT_INT(dm_name_valid("a/b"), -EINVAL);
	/* reserved by device-mapper: 6.12 refuses them, 6.1 would create them */
	EXPECT_INT(dm_name_valid("control"), -EINVAL);
	EXPECT_INT(dm_name_valid("control2"), 0);
	EXPECT_INT(dm_name_valid("Control"), 0);
	EXPECT_INT(dm_name_valid("a b"), -EINVAL);
	EXPECT_INT(dm_name_valid("a\tb"), -EINVAL);
	EXPECT_INT(dm_name_valid("caf\xc3\xa9"), -EINVAL);
	EXPECT_INT(dm_name_valid("a$b"), -EINVAL);
	EXPECT_INT(dm_name_valid("0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"), 0);
	EXPECT_INT(dm_name_valid("0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789x"), -EINVAL);
}

static void devt_parsing(void)
{
	unsigned int ma = 0, mi = 0;

	EXPECT_INT(parse_devt("253:17", &ma, &mi), 0);
	EXPECT_INT(ma, 253);
	EXPECT_INT(mi, 17);
	EXPECT_INT(parse_devt("253", &ma, &mi), -EINVAL);
	EXPECT_INT(parse_devt("253:", &ma, &mi), -EINVAL);
	EXPECT_INT(parse_devt(":1", &ma, &mi), -EINVAL);
	EXPECT_INT(parse_devt("/dev/sda", &ma, &mi), -EINVAL);
	EXPECT_INT(parse_devt("1:2:3", &ma, &mi), -EINVAL);
}

static void mapping_size_rules(void)
{
	uint64_t s = 99;

	/* Whole device after the offset. */
	EXPECT_INT(table_mapping_size("d", 2048, 0, 0, 512, &s), 0);
	EXPECT_INT(s, 2048);
	EXPECT_INT(table_mapping_size("d", 2048, 48, 0, 512, &s), 0);
	EXPECT_INT(s, 2000);
	/* Rounded down to the encryption sector size. */
	EXPECT_INT(table_mapping_size("d", 2048, 3, 0, 4096, &s), 0);
	EXPECT_INT(s, 2040);
	EXPECT_INT(table_mapping_size("d", 2047, 0, 0, 1024, &s), 0);
	EXPECT_INT(s, 2046);
	/* Zero sizes refused. */
	EXPECT_INT(table_mapping_size("d", 2048, 2048, 0, 512, &s), -EINVAL);
	EXPECT_INT(table_mapping_size("d", 2048, 5000, 0, 512, &s), -EINVAL);
	EXPECT_INT(table_mapping_size("d", 7, 0, 0, 4096, &s), -EINVAL);
	EXPECT_INT(table_mapping_size("d", 2048, 2041, 0, 4096, &s), -EINVAL);
	EXPECT(strstr(ktap_stderr(), "too small"));
	/* Explicit size. */
	EXPECT_INT(table_mapping_size("d", 2048, 8, 1024, 512, &s), 0);
	EXPECT_INT(s, 1024);
	EXPECT_INT(table_mapping_size("d", 2048, 8, 2040, 512, &s), 0);
	EXPECT_INT(s, 2040);
	EXPECT_INT(table_mapping_size("d", 2048, 8, 2041, 512, &s), -EINVAL);
	EXPECT_INT(table_mapping_size("d", 2048, 0, 1001, 4096, &s), -EINVAL);
	EXPECT(strstr(ktap_stderr(), "not a multiple"));
	EXPECT_INT(table_mapping_size("d", 2048, 0, 1000, 1000, &s), -EINVAL);
}

static void probe_refuses_non_block(void)
{
	struct blkdev d;

	EXPECT_INT(blkdev_probe("/dev/null", false, &d), -ENOTBLK);
	EXPECT(strstr(ktap_stderr(), "/dev/null is not a block device"));
	EXPECT_INT(blkdev_probe("/nonexistent/vault-dev", false, &d), -ENODEV);
	EXPECT(strstr(ktap_stderr(), "does not exist"));
	EXPECT_INT(blkdev_probe("/tmp", true, &d), -ENOTBLK);
}

static void cap_check_matches_proc(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long long eff = 0;
	int found = 0;

	if (!f) {
		ktap_skip("no /proc");
		return;
	}
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			found = 1;
	fclose(f);
	EXPECT(found);
	EXPECT_INT(have_cap_sys_admin(), !!(eff & (1ULL << 21)));
}

static const struct ktap_case cases[] = {
	KTAP_CASE(parse_u64_accepts_decimal),
	KTAP_CASE(parse_u64_rejects_junk),
	KTAP_CASE(parse_uint_range),
	KTAP_CASE(parse_sectors_units),
	KTAP_CASE(parse_sectors_rejects),
	KTAP_CASE(exit_codes_match_cryptsetup),
	KTAP_CASE(dm_names),
	KTAP_CASE(devt_parsing),
	KTAP_CASE(mapping_size_rules),
	KTAP_CASE(probe_refuses_non_block),
	KTAP_CASE(cap_check_matches_proc),
};

int main(void)
{
	return ktap_run(cases, sizeof(cases) / sizeof(cases[0]));
}
