// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests: building and parsing vault table lines.
 */
#include <errno.h>
#include <stdio.h>

#include "ktap.h"
#include "table.h"
#include "util.h"

static void base(struct vault_table *t)
{
	memset(t, 0, sizeof(*t));
	strcpy(t->cipher, "aes-xts-plain64");
	strcpy(t->device, "7:0");
	t->sector_size = 512;
}

static void build_minimal(void)
{
	struct vault_table t;
	char buf[TABLE_PARAMS_MAX], line[TABLE_PARAMS_MAX + 64];

	base(&t);
	EXPECT_INT(table_build_params(&t, "k1", buf, sizeof(buf)), 0);
	EXPECT_STR(buf, "aes-xts-plain64 key:k1 0 7:0 0");
	EXPECT_INT(table_format_line(0, 2048, buf, line, sizeof(line)), 0);
	EXPECT_STR(line, "0 2048 vault aes-xts-plain64 key:k1 0 7:0 0");
}

static void build_offsets(void)
{
	struct vault_table t;
	char buf[TABLE_PARAMS_MAX];

	base(&t);
	strcpy(t.cipher, "aes-cbc-essiv:sha256");
	strcpy(t.device, "259:3");
	t.iv_offset = 18446744073709551615ULL;
	t.offset = 4096;
	EXPECT_INT(table_build_params(&t, "vaultctl-x-1-00ff", buf, sizeof(buf)), 0);
	EXPECT_STR(buf, "aes-cbc-essiv:sha256 key:vaultctl-x-1-00ff 18446744073709551615 259:3 4096");
}

static void build_all_options(void)
{
	struct vault_table t;
	char buf[TABLE_PARAMS_MAX];

	base(&t);
	t.allow_discards = true;
	t.same_cpu_crypt = true;
	t.no_read_workqueue = true;
	t.no_write_workqueue = true;
	t.sector_size = 4096;
	t.iv_large_sectors = true;
	t.iv_offset = 8;
	t.offset = 16;
	EXPECT_INT(table_build_params(&t, "k", buf, sizeof(buf)), 0);
	EXPECT_STR(buf, "aes-xts-plain64 key:k 8 7:0 16 6 allow_discards same_cpu_crypt "
		   "no_read_workqueue no_write_workqueue sector_size:4096 iv_large_sectors");
}

static void build_single_options(void)
{
	struct vault_table t;
	char buf[TABLE_PARAMS_MAX];

	base(&t);
	t.sector_size = 1024;
	EXPECT_INT(table_build_params(&t, "k", buf, sizeof(buf)), 0);
	EXPECT_STR(buf, "aes-xts-plain64 key:k 0 7:0 0 1 sector_size:1024");
	base(&t);
	t.allow_discards = true;
	EXPECT_INT(table_build_params(&t, "k", buf, sizeof(buf)), 0);
	EXPECT_STR(buf, "aes-xts-plain64 key:k 0 7:0 0 1 allow_discards");
	base(&t);
	t.no_write_workqueue = true;
	EXPECT_INT(table_build_params(&t, "k", buf, sizeof(buf)), 0);
	EXPECT_STR(buf, "aes-xts-plain64 key:k 0 7:0 0 1 no_write_workqueue");
}

static void build_rejects(void)
{
	struct vault_table t;
	char buf[TABLE_PARAMS_MAX], small[20];

	base(&t);
	EXPECT_INT(table_build_params(&t, "", buf, sizeof(buf)), -EINVAL);
	EXPECT_INT(table_build_params(&t, "a b", buf, sizeof(buf)), -EINVAL);
	EXPECT_INT(table_build_params(&t, "k", small, sizeof(small)), -ENAMETOOLONG);
	EXPECT_STR(small, "");
	t.sector_size = 768;
	EXPECT_INT(table_build_params(&t, "k", buf, sizeof(buf)), -EINVAL);
	base(&t);
	strcpy(t.cipher, "aes xts");
	EXPECT_INT(table_build_params(&t, "k", buf, sizeof(buf)), -EINVAL);
	base(&t);
	t.device[0] = '\0';
	EXPECT_INT(table_build_params(&t, "k", buf, sizeof(buf)), -EINVAL);
}

static void parse_minimal(void)
{
	struct vault_table t;

	EXPECT_INT(table_parse_params("aes-xts-plain64 key:abc 5 8:16 2048", &t), 0);
	EXPECT_STR(t.cipher, "aes-xts-plain64");
	EXPECT_STR(t.key, "key:abc");
	EXPECT_INT(t.iv_offset, 5);
	EXPECT_STR(t.device, "8:16");
	EXPECT_INT(t.offset, 2048);
	EXPECT_INT(t.sector_size, 512);
	EXPECT(!t.allow_discards && !t.iv_large_sectors && !t.nr_extra);
}

static void parse_options(void)
{
	struct vault_table t;
	char flags[256];

	EXPECT_INT(table_parse_params("capi:xts(aes)-plain64 :64:logon:x 0 8:0 0 4 "
				      "allow_discards sector_size:4096 iv_large_sectors "
				      "no_read_workqueue", &t), 0);
	EXPECT_STR(t.cipher, "capi:xts(aes)-plain64");
	EXPECT(t.allow_discards);
	EXPECT(t.iv_large_sectors);
	EXPECT(t.no_read_workqueue);
	EXPECT(!t.no_write_workqueue);
	EXPECT_INT(t.sector_size, 4096);
	table_flags_string(&t, flags, sizeof(flags));
	EXPECT_STR(flags, "allow_discards no_read_workqueue iv_large_sectors");
}

static void parse_keeps_unknown_options(void)
{
	struct vault_table t;
	char buf[TABLE_PARAMS_MAX];

	EXPECT_INT(table_parse_params("aes-xts-plain64 key:a 0 8:0 0 3 frobnicate "
				      "same_cpu_crypt integrity:28:aead", &t), 0);
	EXPECT_INT(t.nr_extra, 2);
	EXPECT_STR(t.extra, "frobnicate integrity:28:aead");
	EXPECT(t.same_cpu_crypt);
	EXPECT_INT(table_build_params(&t, "new", buf, sizeof(buf)), 0);
	EXPECT_STR(buf, "aes-xts-plain64 key:new 0 8:0 0 3 same_cpu_crypt frobnicate "
		   "integrity:28:aead");
}

static void parse_rejects(void)
{
	struct vault_table t;

	EXPECT_INT(table_parse_params("", &t), -EINVAL);
	EXPECT_INT(table_parse_params("aes-xts-plain64 key:a 0 8:0", &t), -EINVAL);
	EXPECT_INT(table_parse_params("aes-xts-plain64 key:a x 8:0 0", &t), -EINVAL);
	EXPECT_INT(table_parse_params("aes-xts-plain64 key:a 0 8:0 -1", &t), -EINVAL);
	EXPECT_INT(table_parse_params("aes-xts-plain64 key:a 0 8:0 0 2 allow_discards", &t),
		   -EINVAL);
	EXPECT_INT(table_parse_params("aes-xts-plain64 key:a 0 8:0 0 1 allow_discards extra",
				      &t), -EINVAL);
	EXPECT_INT(table_parse_params("aes-xts-plain64 key:a 0 8:0 0 x", &t), -EINVAL);
	EXPECT_INT(table_parse_params("aes-xts-plain64 key:a 0 8:0 0 1 sector_size:1000", &t),
		   -EINVAL);
}

static void roundtrip(void)
{
	struct vault_table t, u;
	char a[TABLE_PARAMS_MAX], b[TABLE_PARAMS_MAX];

	base(&t);
	t.allow_discards = true;
	t.sector_size = 2048;
	t.iv_offset = 12;
	t.offset = 77;
	t.no_write_workqueue = true;
	EXPECT_INT(table_build_params(&t, "k", a, sizeof(a)), 0);
	EXPECT_INT(table_parse_params(a, &u), 0);
	EXPECT_STR(u.key, "key:k");
	EXPECT_INT(table_build_params(&u, "k", b, sizeof(b)), 0);
	EXPECT_STR(a, b);
}

static void key_bits_from_field(void)
{
	EXPECT_INT(table_key_bits_from_field(":64:logon:cryptsetup:x"), 512);
	EXPECT_INT(table_key_bits_from_field(":32:logon:y"), 256);
	EXPECT_INT(table_key_bits_from_field(":abc:logon:y"), 0);
	EXPECT_INT(table_key_bits_from_field("::logon"), 0);
	EXPECT_INT(table_key_bits_from_field("00112233445566778899aabbccddeeff"), 128);
	EXPECT_INT(table_key_bits_from_field("abc"), 0);
	EXPECT_INT(table_key_bits_from_field("key:vaultctl-x"), 0);
	EXPECT_INT(table_key_bits_from_field("key:vaultctl-vol-12-0123456789abcdef-512b"), 512);
	EXPECT_INT(table_key_bits_from_field("key:vaultctl-vol-12-0123456789abcdef-256b"), 256);
	EXPECT_INT(table_key_bits_from_field("key:vaultctl-vol-12-0123456789abcdef-b"), 0);
	EXPECT_INT(table_key_bits_from_field("key:vaultctl-vol-12-0123456789abcdef-12b"), 0);
	EXPECT_INT(table_key_bits_from_field("key:vaultctl-vol-12-0123456789abcdef"), 0);
	EXPECT_INT(table_key_bits_from_field("key:mykey-512b"), 0);
	EXPECT_INT(table_key_bits_from_field("key:abcdef"), 0);
	EXPECT_INT(table_key_bits_from_field("-"), 0);
	EXPECT_INT(table_key_bits_from_field(""), 0);
}

static void cipher_and_sector_checks(void)
{
	EXPECT_INT(table_cipher_valid("aes-xts-plain64"), 0);
	EXPECT_INT(table_cipher_valid("capi:ecb(cipher_null)-plain64"), 0);
	EXPECT_INT(table_cipher_valid(""), -EINVAL);
	EXPECT_INT(table_cipher_valid("aes xts"), -EINVAL);
	EXPECT_INT(table_cipher_valid("aes\n"), -EINVAL);
	EXPECT_INT(table_sector_size_valid(512), 0);
	EXPECT_INT(table_sector_size_valid(1024), 0);
	EXPECT_INT(table_sector_size_valid(2048), 0);
	EXPECT_INT(table_sector_size_valid(4096), 0);
	EXPECT_INT(table_sector_size_valid(256), -EINVAL);
	EXPECT_INT(table_sector_size_valid(8192), -EINVAL);
	EXPECT_INT(table_sector_size_valid(3072), -EINVAL);
	EXPECT_INT(table_sector_size_valid(0), -EINVAL);
}

static const struct ktap_case cases[] = {
	KTAP_CASE(build_minimal),
	KTAP_CASE(build_offsets),
	KTAP_CASE(build_all_options),
	KTAP_CASE(build_single_options),
	KTAP_CASE(build_rejects),
	KTAP_CASE(parse_minimal),
	KTAP_CASE(parse_options),
	KTAP_CASE(parse_keeps_unknown_options),
	KTAP_CASE(parse_rejects),
	KTAP_CASE(roundtrip),
	KTAP_CASE(key_bits_from_field),
	KTAP_CASE(cipher_and_sector_checks),
};

int main(void)
{
	return ktap_run(cases, sizeof(cases) / sizeof(cases[0]));
}
