/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vaultctl: in-place encryption and decryption (cmd_encrypt.c,
 * cmd_decrypt.c), cryptsetup 2.6.1's reencrypt --encrypt / --decrypt.
 */
#ifndef VAULTCTL_ENCDEC_H
#define VAULTCTL_ENCDEC_H

#include <stdint.h>

#include "luks.h"
#include "vaultctl.h"

/* DEVICE opened read-write and exclusively (not mounted, not mapped). */
int encdec_open_device(const char *device);
/* Size in bytes of FD (block device or image file); prints why not. */
int encdec_dev_size(int fd, const char *device, uint64_t *size);

/*
 * Asks whether to go on with QUESTION (a printf format, translated by the
 * caller) on a terminal: -EINVAL unless the answer is YES.  --batch-mode or
 * no terminal goes on without asking, as cryptsetup reencrypt does.  One
 * helper for encrypt, encrypt --header and both decrypts.
 */
int encdec_confirm(const struct vault_opts *o, const char *question, ...)
	__attribute__((format(printf, 2, 3)));
/* Refuses (and says why) a DEVICE whose FD starts with a LUKS header. */
int encdec_refuse_luks(int fd, const char *device);
/* The new volume's parameters FP (cryptsetup reencrypt --encrypt's defaults, keyslot 0),
 * its passphrase (prompt for DEVICE) into P, and VK a locked buffer for its volume key;
 * the caller frees P and VK (pass_free, secure_free) on every path. */
int encdec_new_volume(const struct vault_opts *o, const char *device,
		      struct luks2_format_params *fp, struct passphrase *p, void **vk);
/* Says why the encryption of DEVICE did not start (ERR, from the init R); the code to return. */
int encdec_start_failed(const char *device, const char *err, int r);
/* A progress line every 10 % (CTX: an int, -1 at the start), with -v. */
void encdec_progress(void *ctx, uint64_t done, uint64_t total);

/* encrypt --header FILE DEVICE (cmd_encrypt_header.c): start, or resume FILE's job. */
int encrypt_header(const struct vault_opts *o, const char *device);

/*
 * Finishes the in-place encryption or decryption in progress on DEVICE,
 * started by vaultctl or by cryptsetup (asks the passphrase; the metadata
 * is acted on only once its digest verified).  -ENOTSUP when DEVICE is in
 * another kind of re-encryption (a new volume key: vaultctl reencrypt).
 */
int encdec_resume(const struct vault_opts *o, const char *device);

#endif
