// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests: the control device client parts that need no module.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "control.h"
#include "ktap.h"

static void key_names(void)
{
	char name[VAULT_KEY_NAME_MAX + 1];

	EXPECT_INT(vctl_key_name_valid("a"), 0);
	EXPECT_INT(vctl_key_name_valid("Vault.key_1:2-3"), 0);
	EXPECT_INT(vctl_key_name_valid(""), -EINVAL);
	EXPECT_INT(vctl_key_name_valid(NULL), -EINVAL);
	EXPECT_INT(vctl_key_name_valid("a b"), -EINVAL);
	EXPECT_INT(vctl_key_name_valid("a/b"), -EINVAL);
	EXPECT_INT(vctl_key_name_valid("a#b"), -EINVAL);
	memset(name, 'x', sizeof(name));
	name[VAULT_KEY_NAME_MAX - 1] = '\0';
	EXPECT_INT(vctl_key_name_valid(name), 0);	/* 63 bytes */
	name[VAULT_KEY_NAME_MAX - 1] = 'x';
	name[VAULT_KEY_NAME_MAX] = '\0';
	EXPECT_INT(vctl_key_name_valid(name), -EINVAL);	/* 64 bytes */
}

static void temp_key_name_format(void)
{
	char a[VAULT_KEY_NAME_MAX], b[VAULT_KEY_NAME_MAX], prefix[64];
	const char *hex;
	size_t i;

	EXPECT_INT(vctl_temp_key_name("vol0", 512, a), 0);
	EXPECT_INT(vctl_temp_key_name("vol0", 512, b), 0);
	snprintf(prefix, sizeof(prefix), "vaultctl-vol0-%ld-", (long)getpid());
	EXPECT(!strncmp(a, prefix, strlen(prefix)));
	hex = a + strlen(prefix);
	EXPECT_INT(strlen(hex), 16 + 5);
	EXPECT_STR(hex + 16, "-512b");
	for (i = 0; i < 16; i++)
		EXPECT(strchr("0123456789abcdef", hex[i]) != NULL);
	EXPECT(strcmp(a, b) != 0);
	EXPECT_INT(vctl_key_name_valid(a), 0);
}

static void temp_key_name_sanitised(void)
{
	char a[VAULT_KEY_NAME_MAX], prefix[64];

	EXPECT_INT(vctl_temp_key_name("a#b+c=d@e", 256, a), 0);
	EXPECT_INT(vctl_key_name_valid(a), 0);
	EXPECT(!strncmp(a, "vaultctl-a_b_c_d_e-", 19));
	EXPECT_INT(vctl_temp_key_name("0123456789012345678901234567890123456789012345678901234567890123456789"
				      "0123456789012345678901234567890", 1024, a), 0);
	EXPECT_INT(vctl_key_name_valid(a), 0);
	EXPECT(strlen(a) < VAULT_KEY_NAME_MAX);
	snprintf(prefix, sizeof(prefix), "-%ld-", (long)getpid());
	EXPECT(strstr(a, prefix) != NULL);
	EXPECT(strstr(a, "-1024b") != NULL);
	EXPECT_INT(vctl_temp_key_name("x", 0, a), -EINVAL);
}

static void features(void)
{
	char buf[128];

	vctl_features_string(0, buf, sizeof(buf));
	EXPECT_STR(buf, "");
	vctl_features_string(VAULT_FEATURE_KEY_LIST, buf, sizeof(buf));
	EXPECT_STR(buf, "key_list");
	vctl_features_string(VAULT_FEATURE_KEY_LIST | VAULT_FEATURE_FD_SCOPED_KEYS, buf,
			     sizeof(buf));
	EXPECT_STR(buf, "key_list fd_scoped_keys");
	vctl_features_string(VAULT_FEATURE_FD_SCOPED_KEYS | (1ULL << 40), buf, sizeof(buf));
	EXPECT_STR(buf, "fd_scoped_keys unknown:0x10000000000");
}

static void uapi_layout(void)
{
	/* The header promises no implicit padding: sizes are the sum of the fields. */
	EXPECT_INT(sizeof(struct vault_version), 4 + 4 + 8 + 4 * 3 + 4 * 5);
	EXPECT_INT(sizeof(struct vault_key_add), 64 + 8 + 4 + 4 + 16);
	EXPECT_INT(sizeof(struct vault_key_remove), 64 + 4 + 4);
	EXPECT_INT(sizeof(struct vault_key_info), 64 + 4 + 4 + 8);
	EXPECT_INT(sizeof(struct vault_key_list), 8 + 4 + 4 + 4 + 12);
}

static void open_without_module(void)
{
	int fd;

	if (!access(VAULT_CONTROL_PATH, F_OK)) {
		ktap_skip(VAULT_CONTROL_PATH " exists here");
		return;
	}
	fd = vctl_open(VCTL_QUIET, NULL);
	EXPECT_INT(fd, -ENOTSUP);
	EXPECT_STR(ktap_stderr(), "");
	fd = vctl_open(0, NULL);
	EXPECT_INT(fd, -ENOTSUP);
	EXPECT(strstr(ktap_stderr(), "the dm-vault module is not loaded"));
}

static const struct ktap_case cases[] = {
	KTAP_CASE(key_names),
	KTAP_CASE(temp_key_name_format),
	KTAP_CASE(temp_key_name_sanitised),
	KTAP_CASE(features),
	KTAP_CASE(uapi_layout),
	KTAP_CASE(open_without_module),
};

int main(void)
{
	return ktap_run(cases, sizeof(cases) / sizeof(cases[0]));
}
