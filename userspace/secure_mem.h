/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vaultctl: memory for secrets.  Key bytes live only in buffers from
 * secure_alloc(): page-aligned, locked, excluded from core dumps and from
 * children, wiped with explicit_bzero() before they are unmapped.  Where the
 * kernel offers memfd_secret() they are secret memory, which the kernel also
 * zeroes when a killed vaultctl's pages are freed.
 */
#ifndef VAULTCTL_SECURE_MEM_H
#define VAULTCTL_SECURE_MEM_H

#include <stddef.h>

/* Zero-filled, locked buffer of N bytes (NULL and errno set on failure). */
void *secure_alloc(size_t n);

/* Wipes and unmaps a buffer from secure_alloc(); NULL is allowed. */
void secure_free(void *p);

/* Usable size of a buffer from secure_alloc(). */
size_t secure_size(const void *p);

/* explicit_bzero(), kept as one name for every wipe in vaultctl. */
void secure_wipe(void *p, size_t n);

/*
 * Zeroes SECURE_STACK_WIPE bytes of stack below the caller's frame: what
 * functions that returned left there (tpm2-tss decrypts a response
 * parameter, the unsealed secret, into a local array).
 */
#define SECURE_STACK_WIPE	(64 * 1024)
void secure_wipe_stack(void);

/* No core dumps, not ptrace-attachable by other users: call once at start. */
int secure_process_init(void);

/* mlockall(MCL_CURRENT | MCL_FUTURE) for commands that handle keys. */
int secure_lock_all(void);
void secure_unlock_all(void);

#endif
