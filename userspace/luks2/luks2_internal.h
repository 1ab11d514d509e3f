/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * luks2: definitions shared by the library's files (not a public API).
 */
#ifndef VAULTCTL_LUKS2_INTERNAL_H
#define VAULTCTL_LUKS2_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <json-c/json.h>

#include <libintl.h>

#include "luks2.h"

/*
 * Messages (l2_err, FAIL, BAD) are translated with gettext() in the text
 * domain the program chose (vaultctl: i18n.h); the library stays free of
 * vaultctl's headers, and without setlocale() they stay English.
 */
#ifndef _
#define _(s) gettext(s)
#endif

#define L2_BIN_HDR_SIZE		4096
#define L2_MAGIC_LEN		6
#define L2_LABEL_LEN		48
#define L2_CSUM_ALG_LEN		32
#define L2_SALT_LEN		64
#define L2_UUID_LEN		40
#define L2_SUBSYSTEM_LEN	48
#define L2_CSUM_LEN		64
#define L2_MIN_HDR_SIZE		0x4000ULL	/* 16 KiB */
#define L2_MAX_HDR_SIZE		0x400000ULL	/* 4 MiB */
#define L2_MAX_KEYSLOTS_SIZE	0x8000000ULL	/* 128 MiB, as cryptsetup */
#define L2_STRIPES		4000
#define L2_SALT_SIZE		32		/* keyslot and digest salts */
#define L2_DEFAULT_DATA_OFFSET	0x1000000ULL	/* 16 MiB */
#define L2_JSON_DEPTH		32	/* json-c's default, which cryptsetup parses with */
#define L2_ARGON2_MAX_MEMORY	4194304U	/* KiB */
#define L2_ARGON2_MAX_THREADS	16U
#define L2_META_DIGEST_LEN	32		/* SHA-256 */

struct l2_copy_state {
	bool ok;		/* binary header, checksum and JSON all valid */
	uint64_t seqid;
	char why[512];		/* why not ok */
};

struct luks2 {
	int fd;
	char *path;
	bool rw;
	uint64_t dev_size;	/* bytes */

	/* binary header fields of the copy in use */
	uint64_t hdr_size;	/* one copy: binary + JSON */
	uint64_t seqid;
	char label[L2_LABEL_LEN];
	char subsystem[L2_SUBSYSTEM_LEN];
	char uuid[L2_UUID_LEN];
	char csum_alg[L2_CSUM_ALG_LEN];
	unsigned char salt[2][L2_SALT_LEN];	/* primary, secondary */

	json_object *jobj;	/* validated JSON metadata */
	unsigned char *json_area;	/* raw JSON area of the copy in use */
	uint64_t keyslots_size;
	bool inspect_only;	/* loaded despite requirements: dump only */
	bool reencrypt_write;	/* the write starting a re-encryption (reencrypt_init.c) */
	bool detached;		/* a header file, the data elsewhere (LUKS2_DETACHED) */

	/* cryptsetup-compatible lock (lock.c), held only around a read or a write */
	int lock_fd;
	bool lock_bdev;
	dev_t lock_rdev;
	int write_depth;	/* nested l2_write_begin() calls */
	bool formatting;	/* nothing was read: no change to detect */
	bool partial_write;	/* the last write reached one copy only */
	unsigned char meta_digest[L2_META_DIGEST_LEN];	/* both copies as last read */

	unsigned int health;
	struct l2_copy_state copy[2];
	char health_text[1100];
	char err[1280];
};

/* misc.c */
void l2_err(struct luks2 *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void l2_wipe(void *p, size_t n);
/* Replaces terminal control characters in S by '?' (error messages). */
void l2_defang(char *s);
void *l2_secure_alloc(size_t n);
void l2_secure_free(void *p, size_t n);
/* A locked buffer of LUKS2_VK_MAX bytes for a volume key (l2_secure_free
 * it with that size); NULL, with L's error saying so, when there is none. */
unsigned char *l2_vk_alloc(struct luks2 *l);
/* Strict decimal u64: digits only, 1..20 of them, no overflow. */
bool l2_parse_u64(const char *s, uint64_t *out);
/* Base64 (RFC 4648, padded).  Decoding is strict; returns length or -1. */
char *l2_b64_encode(const void *in, size_t len);
long l2_b64_decode(const char *in, size_t in_len, unsigned char *out, size_t out_cap);
int l2_random(void *buf, size_t len);
uint64_t l2_be64(const unsigned char *p);
void l2_put_be64(unsigned char *p, uint64_t v);
const struct evp_md_st *l2_hash(const char *name);	/* NULL if unsupported */
int l2_pread_all(int fd, void *buf, size_t len, uint64_t off);
int l2_pwrite_all(int fd, const void *buf, size_t len, uint64_t off);
int l2_device_size(int fd, uint64_t *size);
bool l2_cipher_is_null(const char *spec);

/* json helpers (json.c) */
json_object *l2_obj(json_object *o, const char *key);	/* NULL if absent */
const char *l2_str(json_object *o, const char *key);	/* NULL if not a string */
bool l2_u64(json_object *o, const char *key, uint64_t *v);	/* decimal string */
bool l2_int(json_object *o, const char *key, int64_t *v);	/* JSON integer */
json_object *l2_new_u64(uint64_t v);
bool l2_array_has(json_object *arr, const char *s);
void l2_array_remove(json_object *arr, const char *s);
/* The lowest id not used in OBJ (keyslots, digests), as cryptsetup picks it. */
void l2_free_id(json_object *obj, char *id, size_t len);
/* Parse and validate a JSON area; sets l->err on failure. */
int l2_json_parse(struct luks2 *l, const char *area, size_t area_len, uint64_t hdr_size,
		  unsigned int flags, json_object **out);
int l2_json_validate(struct luks2 *l, json_object *root, uint64_t hdr_size, unsigned int flags);
/* Digest object that lists keyslot KS (or segment SEG) */
json_object *l2_digest_for_keyslot(json_object *root, const char *ks, const char **id);
json_object *l2_digest_for_segment(json_object *root, const char *seg, const char **id);

/* disk.c */
int l2_usable(struct luks2 *l);	/* 0, or -EINVAL when loaded for inspection only */
int l2_disk_load(struct luks2 *l, unsigned int flags);
/* luks2_load() on a duplicate of FD, an open descriptor of PATH. */
int l2_load_fd(struct luks2 *l, int fd, const char *path, unsigned int flags);
int l2_disk_write(struct luks2 *l);	/* seqid + 1, both copies */
int l2_checksum(const char *alg, const unsigned char *bin, const unsigned char *json,
		size_t json_len, unsigned char *out, unsigned int *out_len);

/* lock.c */
int l2_lock(struct luks2 *l, bool exclusive);
void l2_unlock(struct luks2 *l);
int l2_meta_digest(struct luks2 *l, unsigned char out[L2_META_DIGEST_LEN]);
/*
 * Every write of metadata or keyslot areas runs between these: begin takes
 * the exclusive lock and fails with -ESTALE (nothing written) when the
 * metadata on disk is no longer what was read; end records what is on
 * disk now and unlocks.  They nest.
 */
int l2_write_begin(struct luks2 *l);
void l2_write_end(struct luks2 *l);

/* af.c */
int l2_af_split(const void *key, size_t key_len, unsigned int stripes, const char *hash,
		unsigned char *dst);
int l2_af_merge(const unsigned char *src, size_t key_len, unsigned int stripes,
		const char *hash, unsigned char *key);

/* kdf.c */
struct l2_kdf {
	enum luks2_kdf_type type;
	char hash[32];
	uint32_t iterations;	/* pbkdf2 iterations / argon2 time */
	uint32_t memory_kb;
	uint32_t parallel;
};
int l2_kdf_derive(const struct l2_kdf *k, const char *pass, size_t pass_len,
		  const unsigned char *salt, size_t salt_len, unsigned char *out, size_t out_len);
/* Fills K from the user's settings, calibrating when asked to. */
int l2_kdf_choose(const struct luks2_pbkdf *p, size_t key_len, struct l2_kdf *k);
/* pbkdf2 iterations reaching MS milliseconds for HASH (>= 1000). */
uint32_t l2_pbkdf2_calibrate(const char *hash, size_t key_len, uint32_t ms);
const char *l2_kdf_name(enum luks2_kdf_type t);

/* area_crypto.c: whole 512-byte sectors, IV sector 0 at BUF */
int l2_area_crypt(const char *spec, const unsigned char *key, size_t key_len,
		  unsigned char *buf, size_t len, bool encrypt);
bool l2_area_cipher_ok(const char *spec, size_t key_len);
/* Data sectors of SECTOR_SIZE bytes, the first one's IV sector IV_FIRST (512-byte units). */
/* reencrypt.c: the only segment flagged FLAG (NULL: none or several) */
json_object *l2_segment_flagged(struct luks2 *l, const char *flag, const char **id);
int l2_sector_crypt(const char *spec, const unsigned char *key, size_t key_len,
		    unsigned char *buf, size_t len, uint64_t iv_first, unsigned int sector_size,
		    bool encrypt);

/* digest.c */
int l2_digest_verify(json_object *digest, const void *vk, size_t vk_len);
json_object *l2_digest_new(const void *vk, size_t vk_len, const char *hash,
			   uint32_t iterations);

/* reencrypt.c */
/* 1, 2 or 3 for "online-reencrypt", "-v2", "-v3"; 0 for anything else */
int l2_reencrypt_requirement_version(const char *req);
/* the version of L's reencrypt requirement, 0 without one */
int l2_reencrypt_version(struct luks2 *l);
/* format of a keyslot of type "reencrypt"; WHAT names it in the message */
int l2_reencrypt_keyslot_check(struct luks2 *l, const char *what, json_object *ks);
/* flagged backup-previous, backup-final or backup-moved-segment */
bool l2_segment_is_backup(json_object *seg);
/* Sets L's requirements to "online-reencrypt-v2", as encryption in place
 * and re-encryption both start (reencrypt_init.c, encrypt.c). */
void l2_reencrypt_require(struct luks2 *l);
/* luks2_reencrypt_status, L's error saying so when no reencryption is in
 * progress (the verifies and the re-encryption job need one). */
int l2_reencrypt_status(struct luks2 *l, struct luks2_reencrypt *st);

/* reencrypt_digest.c: the digest (type pbkdf2, no keyslots yet) of L's
 * re-encryption metadata with these keys; NULL with the error set. */
json_object *l2_reencrypt_digest_create(struct luks2 *l, const void *vk_old, size_t old_len,
					const void *vk_new, size_t new_len, const char *hash,
					uint32_t iterations);

/* keyslot.c */
/* A keyslot being added: material first, then the header naming it. */
struct l2_new_keyslot {
	json_object *ks;	/* not yet in the header */
	unsigned char *mat;	/* encrypted AF material (locked memory) */
	size_t mlen;
	uint64_t off;		/* its place in the keyslots area */
};
/* Derives a key from PASS and encrypts the AF-split VK for a free area. */
int l2_keyslot_make(struct luks2 *l, const void *vk, size_t vk_len, const char *pass,
		    size_t pass_len, const struct luks2_pbkdf *pbkdf, struct l2_new_keyslot *out);
/* Writes (and syncs) the material, under l2_write_begin(). */
int l2_keyslot_store(struct luks2 *l, const struct l2_new_keyslot *n);
void l2_new_keyslot_free(struct l2_new_keyslot *n);
/*
 * Unlocks, with PASS, a "luks2" keyslot bound to digest DIGEST_ID (not
 * necessarily the data segment's): the keys of a re-encryption.  Reads
 * only; allowed on a header loaded for inspection.
 */
int l2_unlock_digest(struct luks2 *l, const char *digest_id, const char *pass,
		     size_t pass_len, unsigned char *vk, size_t vk_cap, size_t *vk_len);
int l2_keyslot_wipe_area(struct luks2 *l, uint64_t off, uint64_t len);
/* 0 when L may be written (loaded read-write, not for inspection only). */
int l2_need_rw(struct luks2 *l);
/* End of the last keyslot area (at least the two headers), rounded up to
 * 4096: where the area of a reencrypt keyslot starts (encrypt.c,
 * reencrypt_init.c). */
uint64_t l2_keyslots_end(struct luks2 *l);
/* A deep copy of the JSON tree to roll back to (NULL: out of memory). */
json_object *l2_snapshot(struct luks2 *l);
/* l2_write_begin, then *SAVED = l2_snapshot: the start of every header
 * change that may roll back.  On failure nothing is held or to be freed. */
int l2_write_begin_snapshot(struct luks2 *l, json_object **saved);
/* Writes the header (under l2_write_begin); on failure restores SAVED
 * unless one copy already holds the new header.  Consumes SAVED. */
int l2_commit(struct luks2 *l, json_object *saved);

/*
 * encrypt.c: pieces shared by in-place encryption and decryption
 * (encrypt.c, encrypt_checksum.c, datashift.c, decrypt.c).
 */
json_object *l2_json_copy(json_object *o);	/* deep copy; NULL: out of memory */
/* Segments as cryptsetup writes them; SIZE 0 is "dynamic". */
json_object *l2_linear_seg(uint64_t off, uint64_t size, const char *flag);
json_object *l2_crypt_seg(uint64_t off, uint64_t size, uint64_t iv, const char *cipher,
			  int64_t sector_size, bool hot);
/* A "checksum" resilience area (sha256 of each BLOCK bytes), as cryptsetup writes it. */
json_object *l2_checksum_area(uint64_t off, uint64_t size, uint32_t block);
/* The id of the digest bound to the segment flagged FLAG, or NULL. */
const char *l2_flagged_digest_id(struct luks2 *l, const char *flag);
/* A header write during the job (L loaded for inspection: the requirement stays). */
int l2_encdec_commit(struct luks2 *l, json_object *saved);
/*
 * A checkpoint of an encryption or decryption: the data segments SEGS[0..N)
 * (consumed), then the backups (previous, final, moved), the digest of the
 * key naming the crypt backup and every crypt segment, as cryptsetup orders
 * them.
 */
int l2_encdec_segments(struct luks2 *l, json_object **segs, int n);
/*
 * The reencrypt keyslot (AREA, MODE, DIRECTION) and the requirement, and
 * the digest authenticating the metadata with the keys (VK_OLD NULL for an
 * encryption, VK_NEW NULL for a decryption), at the lowest free ids; the
 * segments must be in place already (the digest covers them).
 */
int l2_add_reencrypt_keyslot(struct luks2 *l, json_object *area, const char *mode,
			     const char *direction, const void *vk_old, size_t old_len,
			     const void *vk_new, size_t new_len, const char *hash, uint32_t iter);
/* decrypt.c: the end of a decryption: one linear segment, no keyslot, digest
 * or requirement; the keyslots area wiped. */
int l2_decrypt_finish(struct luks2 *l);
/* The end of an encryption: one dynamic crypt segment, no reencrypt keyslot,
 * its digest or the requirement. */
int l2_encrypt_finish(struct luks2 *l);
/* l2_keyslot_wipe_area() in a header file whose L->dev_size is the data device's. */
int l2_wipe_in_header(struct luks2 *l, uint64_t off, uint64_t len);
/* The checksum block cryptsetup uses for DEV_FD: its block size, at least SECTOR_SIZE. */
uint32_t l2_encrypt_csum_block(int dev_fd, uint32_t sector_size);

#endif
