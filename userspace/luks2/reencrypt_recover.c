// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * luks2: recovering the hotzone a re-encryption was moving when it stopped
 * (power cut, crash), as cryptsetup's reencrypt_recover_segment() does,
 * in userspace with OpenSSL:
 *   checksum: a block whose ciphertext on disk still hashes to the stored
 *             checksum is under the old key: decrypt it with the old key,
 *             encrypt it with the new one, write it; any other block was
 *             already rewritten under the new key and stays;
 *   journal:  the area holds the hotzone's old ciphertext: every block is
 *             decrypted from it with the old key and written with the new.
 * Then the checkpoint, as after a step (luks2_reenc_hotzone_end).  The data
 * goes through O_DIRECT: the page cache of the device under a mapping is
 * not what the mapping wrote.  Plaintext is wiped after use.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "luks2_internal.h"

#define ALIGN 4096

int luks2_reenc_recover(struct luks2 *l, struct luks2_reenc_job *j, const unsigned char *vk_old,
			size_t old_len, const unsigned char *vk_new, size_t new_len)
{
	const EVP_MD *md = (const EVP_MD *)l2_hash(j->hash);
	bool csum = !strcmp(j->resilience, "checksum");
	unsigned char *data = NULL, *prot = NULL, h[EVP_MAX_MD_SIZE];
	size_t prot_len, b, nb;
	uint64_t base;
	int fd = -1, r;

	if (!j->in_flight)
		return 0;
	nb = j->hz_len / j->block;
	prot_len = csum ? nb * j->hash_len : j->hz_len;
	prot_len = (prot_len + ALIGN - 1) / ALIGN * ALIGN;
	if ((csum && !md) || prot_len > j->area_size + ALIGN) {
		l2_err(l, "cannot recover the hotzone: unusable resilience metadata");
		return -EINVAL;
	}
	if (posix_memalign((void **)&data, ALIGN, j->hz_len) ||
	    posix_memalign((void **)&prot, ALIGN, prot_len)) {
		r = -ENOMEM;
		goto out;
	}
	fd = open(l->path, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		l2_err(l, "cannot open %s for the hotzone recovery: %s", l->path, strerror(-r));
		goto out;
	}
	base = j->data_offset + j->hz_off;
	r = l2_pread_all(fd, prot, prot_len, j->area_off);
	if (!r)
		r = l2_pread_all(fd, data, j->hz_len, base);
	if (r) {
		l2_err(l, "cannot read the hotzone or its resilience data: %s", strerror(-r));
		goto out;
	}
	for (b = 0; b < nb; b++) {
		unsigned char *p = data + b * j->block;
		uint64_t iv = j->iv_tweak + (j->hz_off + b * j->block) / 512;

		if (csum) {
			if (EVP_Digest(p, j->block, h, NULL, md, NULL) != 1) {
				r = -EIO;
				goto out;
			}
			if (memcmp(h, prot + b * j->hash_len, j->hash_len))
				continue;	/* already under the new key */
		} else {
			memcpy(p, prot + b * j->block, j->block);
		}
		r = l2_sector_crypt(j->old_cipher, vk_old, old_len, p, j->block, iv, j->old_ss,
				    false);
		if (!r)
			r = l2_sector_crypt(j->new_cipher, vk_new, new_len, p, j->block, iv,
					    j->new_ss, true);
		if (!r)
			r = l2_pwrite_all(fd, p, j->block, base + b * j->block);
		if (r) {
			l2_err(l, "cannot recover block %zu of the hotzone: %s", b, strerror(-r));
			goto out;
		}
	}
	if (fdatasync(fd)) {
		r = -errno;
		l2_err(l, "cannot sync the recovered hotzone: %s", strerror(-r));
		goto out;
	}
	/* the data is durable: now the checkpoint */
	r = luks2_reenc_hotzone_end(l, j, j->hz_off, j->hz_len);
out:
	if (data) {
		l2_wipe(data, j->hz_len);	/* held plaintext */
		free(data);
	}
	if (prot) {
		l2_wipe(prot, prot_len);
		free(prot);
	}
	if (fd >= 0)
		close(fd);
	return r;
}
