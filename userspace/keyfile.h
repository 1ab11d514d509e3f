/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vaultctl: reading raw key bytes from a key file or standard input.
 */
#ifndef VAULTCTL_KEYFILE_H
#define VAULTCTL_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Reads exactly SIZE bytes into BUF (normally a secure_alloc() buffer) from
 * PATH, or from standard input when PATH is "-", after skipping OFFSET
 * bytes.  A shorter source is an error naming the file and both sizes.  No
 * stdio: key bytes never pass through an unlocked buffer.  On error BUF is
 * wiped and a negative errno returned.
 */
int keyfile_read(const char *path, uint64_t offset, void *buf, size_t size);

#endif
