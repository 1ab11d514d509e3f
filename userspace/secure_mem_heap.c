// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: every heap block is wiped when it is freed.
 *
 * The libraries vaultctl hands secrets to keep copies in their own heap
 * blocks and free them unwiped: tpm2-tss (the ESYS context holds a copy of
 * each command's parameters, e.g. Create's sealed secret and authValue, and
 * objects' authValues and session keys; the SYS context's buffer holds the
 * TPM's decrypted response, the unsealed secret), json-c, stdio, OpenSSL
 * outside its cleansing paths.  glibc's M_PERTURB does not cover them:
 * blocks in the per-thread cache are not perturbed, and any freed block
 * keeps its first 16 bytes for the allocator's list pointers.
 *
 * So vaultctl defines free() and realloc(): the executable's definitions
 * take precedence for every library, including the TCTI modules tss2-tctildr
 * dlopen()s and glibc itself.  free() zeroes the whole usable block, then
 * hands it to glibc's __libc_free(); realloc() never resizes in place (that
 * would free the old tail or the old block unwiped) but copies into a new
 * block and frees the old one through free().  malloc(), calloc() and the
 * aligned allocators stay glibc's: their blocks end in free() like the rest.
 * What is still in use when vaultctl exits is the caller's to wipe.
 */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void *__libc_malloc(size_t n);
void __libc_free(void *p);

void free(void *p)
{
	if (!p)
		return;
	explicit_bzero(p, malloc_usable_size(p));
	__libc_free(p);
}

void *realloc(void *p, size_t n)
{
	size_t old;
	void *q;

	if (!p)
		return __libc_malloc(n);
	if (!n) {
		free(p);
		return NULL;
	}
	old = malloc_usable_size(p);
	if (n <= old)
		return p;
	q = __libc_malloc(n);
	if (!q)
		return NULL;
	memcpy(q, p, old);
	free(p);
	return q;
}

void *reallocarray(void *p, size_t nmemb, size_t size)
{
	if (size && nmemb > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, nmemb * size);
}
