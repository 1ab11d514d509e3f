/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Compile-time checks of the /dev/vault-control ABI.
 *
 * The structures in <linux/dm-vault.h> must have the same layout for 32-bit
 * and 64-bit callers: every member at a fixed offset, no implicit padding
 * (the sum of the members equals the size), sizes a multiple of 8, and the
 * ioctl numbers frozen.  tests/control/control.mk compiles this header once
 * with the native compiler (inside control_test.c) and once with -m32
 * (syntax only), so a layout that differs between the two fails the build.
 */
#ifndef VAULT_TEST_LAYOUT_CHECK_H
#define VAULT_TEST_LAYOUT_CHECK_H

#include <stddef.h>
#include <linux/dm-vault.h>

#define VAULT_LAYOUT(cond) _Static_assert(cond, #cond)
#define VAULT_MSZ(type, member) sizeof(((struct type *)0)->member)

/* Limits the ABI promises. */
VAULT_LAYOUT(VAULT_KEY_NAME_MAX == 64);
VAULT_LAYOUT(VAULT_KEY_SIZE_MAX == 128);
VAULT_LAYOUT(VAULT_KEYS_MAX == 64);
VAULT_LAYOUT(VAULT_KEY_FLAGS_ALL == VAULT_KEY_PERSISTENT);

/* struct vault_version */
VAULT_LAYOUT(sizeof(struct vault_version) == 48);
VAULT_LAYOUT(offsetof(struct vault_version, major) == 0);
VAULT_LAYOUT(offsetof(struct vault_version, minor) == 4);
VAULT_LAYOUT(offsetof(struct vault_version, features) == 8);
VAULT_LAYOUT(offsetof(struct vault_version, key_name_max) == 16);
VAULT_LAYOUT(offsetof(struct vault_version, key_size_max) == 20);
VAULT_LAYOUT(offsetof(struct vault_version, keys_max) == 24);
VAULT_LAYOUT(offsetof(struct vault_version, reserved) == 28);
VAULT_LAYOUT(VAULT_MSZ(vault_version, major) + VAULT_MSZ(vault_version, minor) +
	     VAULT_MSZ(vault_version, features) +
	     VAULT_MSZ(vault_version, key_name_max) +
	     VAULT_MSZ(vault_version, key_size_max) +
	     VAULT_MSZ(vault_version, keys_max) +
	     VAULT_MSZ(vault_version, reserved) ==
	     sizeof(struct vault_version));

/* struct vault_key_add */
VAULT_LAYOUT(sizeof(struct vault_key_add) == 96);
VAULT_LAYOUT(offsetof(struct vault_key_add, name) == 0);
VAULT_LAYOUT(offsetof(struct vault_key_add, key_ptr) == 64);
VAULT_LAYOUT(offsetof(struct vault_key_add, key_size) == 72);
VAULT_LAYOUT(offsetof(struct vault_key_add, flags) == 76);
VAULT_LAYOUT(offsetof(struct vault_key_add, reserved) == 80);
VAULT_LAYOUT(VAULT_MSZ(vault_key_add, key_ptr) == 8);
VAULT_LAYOUT(VAULT_MSZ(vault_key_add, name) + VAULT_MSZ(vault_key_add, key_ptr) +
	     VAULT_MSZ(vault_key_add, key_size) + VAULT_MSZ(vault_key_add, flags) +
	     VAULT_MSZ(vault_key_add, reserved) == sizeof(struct vault_key_add));

/* struct vault_key_remove */
VAULT_LAYOUT(sizeof(struct vault_key_remove) == 72);
VAULT_LAYOUT(offsetof(struct vault_key_remove, name) == 0);
VAULT_LAYOUT(offsetof(struct vault_key_remove, flags) == 64);
VAULT_LAYOUT(offsetof(struct vault_key_remove, reserved) == 68);
VAULT_LAYOUT(VAULT_MSZ(vault_key_remove, name) +
	     VAULT_MSZ(vault_key_remove, flags) +
	     VAULT_MSZ(vault_key_remove, reserved) ==
	     sizeof(struct vault_key_remove));

/* struct vault_key_info */
VAULT_LAYOUT(sizeof(struct vault_key_info) == 80);
VAULT_LAYOUT(offsetof(struct vault_key_info, name) == 0);
VAULT_LAYOUT(offsetof(struct vault_key_info, key_size) == 64);
VAULT_LAYOUT(offsetof(struct vault_key_info, flags) == 68);
VAULT_LAYOUT(offsetof(struct vault_key_info, reserved) == 72);
VAULT_LAYOUT(VAULT_MSZ(vault_key_info, name) + VAULT_MSZ(vault_key_info, key_size) +
	     VAULT_MSZ(vault_key_info, flags) + VAULT_MSZ(vault_key_info, reserved) ==
	     sizeof(struct vault_key_info));

/* struct vault_key_list */
VAULT_LAYOUT(sizeof(struct vault_key_list) == 32);
VAULT_LAYOUT(offsetof(struct vault_key_list, keys_ptr) == 0);
VAULT_LAYOUT(offsetof(struct vault_key_list, capacity) == 8);
VAULT_LAYOUT(offsetof(struct vault_key_list, count) == 12);
VAULT_LAYOUT(offsetof(struct vault_key_list, flags) == 16);
VAULT_LAYOUT(offsetof(struct vault_key_list, reserved) == 20);
VAULT_LAYOUT(VAULT_MSZ(vault_key_list, keys_ptr) == 8);
VAULT_LAYOUT(VAULT_MSZ(vault_key_list, keys_ptr) +
	     VAULT_MSZ(vault_key_list, capacity) +
	     VAULT_MSZ(vault_key_list, count) + VAULT_MSZ(vault_key_list, flags) +
	     VAULT_MSZ(vault_key_list, reserved) == sizeof(struct vault_key_list));

/* Sizes that are multiples of 8 keep arrays identical on i386 and x86_64. */
VAULT_LAYOUT(sizeof(struct vault_version) % 8 == 0);
VAULT_LAYOUT(sizeof(struct vault_key_add) % 8 == 0);
VAULT_LAYOUT(sizeof(struct vault_key_remove) % 8 == 0);
VAULT_LAYOUT(sizeof(struct vault_key_info) % 8 == 0);
VAULT_LAYOUT(sizeof(struct vault_key_list) % 8 == 0);

/* The ioctl numbers are ABI: they encode the sizes above. */
VAULT_LAYOUT(VAULT_IOC_VERSION == 0x8030BD00u);
VAULT_LAYOUT(VAULT_IOC_KEY_ADD == 0x4060BD01u);
VAULT_LAYOUT(VAULT_IOC_KEY_REMOVE == 0x4048BD02u);
VAULT_LAYOUT(VAULT_IOC_KEY_LIST == 0xC020BD03u);

#endif /* VAULT_TEST_LAYOUT_CHECK_H */
