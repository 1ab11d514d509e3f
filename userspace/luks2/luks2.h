/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * luks2: a LUKS2 on-disk format library for vaultctl, written without
 * libcryptsetup and interoperable with it (cryptsetup is only a test oracle).
 *
 * Design: the library is split by layer, lowest first.
 *
 *   disk.c        the two binary headers (magic, version, hdr_size, seqid,
 *                 label, checksum, hdr_offset), reading both copies, choosing
 *                 the valid one with the higher seqid, crash-safe writes
 *                 (seqid + 1, primary then secondary, fdatasync after each)
 *                 and the explicit repair of a damaged copy.  Nothing is
 *                 written while a header is read or validated.
 *   json.c        the JSON area: bounded parse (NUL-terminated, depth limit,
 *                 no trailing garbage), complete validation of keyslots,
 *                 tokens, segments, digests and config (decimal-string u64s
 *                 with overflow checks, keyslot area bounds and overlaps,
 *                 segment offset/size overflow, mandatory requirements,
 *                 cipher_null), and serialisation.  The parsed json_object
 *                 tree is kept and edited in place, so objects this library
 *                 does not know (tokens, unknown keys) survive every write.
 *   digest.c      the "pbkdf2" volume-key digest (create / verify).
 *   kdf.c         pbkdf2 (OpenSSL) and argon2i/argon2id (libargon2) with the
 *                 cost calibration cryptsetup does.
 *   af.c          the anti-forensic splitter (LUKS1 AF, used by LUKS2).
 *   area_crypto.c keyslot-area encryption per 512-byte sector with OpenSSL
 *                 (aes xts/cbc, plain/plain64/essiv IVs).
 *   keyslot.c     unlock, add, kill, change on top of the layers above: area
 *                 material is written before the header that points at it,
 *                 and a killed area is wiped after the header that forgot it.
 *   format.c      a new header with cryptsetup 2.6 defaults.
 *   backup.c      header backup / restore, erase.
 *   dump.c        luksDump-like text and the segment parameters for dm.
 *   token.c       the "tokens" object: list, read, add, remove (token.h in
 *                 ../token/ is what each unlock method does with them).
 *   config.c      the binary header's strings (UUID, label, subsystem) and
 *                 the JSON metadata and tokens as text (cryptsetup's
 *                 luksUUID --uuid, config, --dump-json-metadata, token
 *                 export).
 *   lock.c        libcryptsetup's metadata lock (/run/cryptsetup/L_<maj>:<min>
 *                 for a block device, the file itself for an image): shared
 *                 while a header is read, exclusive around every write,
 *                 which first checks that the header on disk is still the
 *                 one read (-ESTALE otherwise, nothing written).
 *   reencrypt.c   recognising a cryptsetup re-encryption in progress (the
 *                 online-reencrypt requirement, the reencrypt keyslot, the
 *                 backup segments): format checks and the state for dump.
 *                 Such a header loads for inspection only.
 *   reencrypt_digest.c  the re-encryption metadata digest (CVE-2021-4122):
 *                 the metadata is trusted only once the volume keys verify it.
 *   reencrypt_init.c  a new re-encryption (cryptsetup reencrypt --init-only).
 *   encrypt.c, datashift.c  in-place encryption (reencrypt --encrypt
 *                 --reduce-device-size): the init, then the data moved.
 *   inplace.c     encryption and decryption in place with a detached
 *                 header (reencrypt --encrypt/--decrypt --header FILE).
 *   decrypt.c     in-place decryption, the header moved to a file
 *                 (reencrypt --decrypt --header).
 *   misc.c        error strings, base64, locked memory, strict number parsing.
 *
 * Errors: every function returning int returns 0 (or a non-negative value
 * documented below) on success and a negative errno on failure; the failure
 * is described by luks2_error().  -EPERM means "no keyslot accepted the
 * passphrase".  Secrets (passphrases, volume keys, derived keys, AF
 * material) live in mlock'ed buffers, are never printed and are wiped with
 * explicit_bzero() before they are released.
 */
#ifndef VAULTCTL_LUKS2_H
#define VAULTCTL_LUKS2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define LUKS2_KEYSLOTS_MAX	32
#define LUKS2_VK_MAX		512	/* bytes: largest volume key accepted */
#define LUKS2_TOKENS_MAX	32	/* token ids 0..31, as cryptsetup */

struct luks2;
struct json_object;

/* Flags for luks2_load(). */
#define LUKS2_RDWR			(1U << 0) /* allow writes (else O_RDONLY) */
#define LUKS2_DETACHED			(1U << 2) /* a header file (luks2_load only): its
						     segments describe another device */
#define LUKS2_IGNORE_REQUIREMENTS	(1U << 1) /* load despite unknown mandatory
						     requirements (dump only) */

/* Health of the two copies after luks2_load(): a bit set = needs repair. */
#define LUKS2_PRIMARY_BAD	(1U << 0) /* primary copy missing or invalid */
#define LUKS2_SECONDARY_BAD	(1U << 1) /* secondary copy missing or invalid */
#define LUKS2_PRIMARY_STALE	(1U << 2) /* valid but older than the other */
#define LUKS2_SECONDARY_STALE	(1U << 3)

enum luks2_kdf_type { LUKS2_KDF_ARGON2ID = 0, LUKS2_KDF_ARGON2I, LUKS2_KDF_PBKDF2 };

/*
 * Key derivation settings for a new keyslot.  Zero fields take cryptsetup
 * 2.6 defaults: argon2id, 2000 ms, up to 1 GiB (capped at half of RAM),
 * min(4, CPUs) threads, pbkdf2 hash sha256.  A non-zero "iterations"
 * (pbkdf2 iterations or argon2 time cost) disables calibration and also
 * gives the volume-key digest the minimum 1000 iterations, as cryptsetup's
 * --pbkdf-force-iterations does.
 */
struct luks2_pbkdf {
	enum luks2_kdf_type type;
	const char *hash;		/* pbkdf2 only */
	uint32_t iter_time_ms;
	uint32_t iterations;
	uint32_t memory_kb;		/* argon2: maximum (or exact if forced) */
	uint32_t parallel;		/* argon2 threads */
};

struct luks2_format_params {
	const char *cipher;		/* "aes-xts-plain64" */
	uint32_t key_size;		/* volume key bytes; 64 */
	uint32_t sector_size;		/* 512..4096; 0: 4096 where allowed */
	uint64_t metadata_size;		/* per copy, 16 KiB .. 4 MiB; 16 KiB */
	uint64_t keyslots_size;		/* 0: everything up to the data offset */
	uint64_t data_offset;		/* bytes; 0: 16 MiB */
	const char *label;		/* <= 47 bytes */
	const char *subsystem;		/* <= 47 bytes */
	const char *uuid;		/* NULL: random */
	int keyslot;			/* < 0: 0 */
	struct luks2_pbkdf pbkdf;
};

/* What a dm table needs for the data segment. */
struct luks2_segment {
	char cipher[128];		/* e.g. "aes-xts-plain64" */
	uint32_t key_size;		/* bytes */
	uint64_t offset;		/* 512-byte sectors from the device start */
	uint64_t size;			/* 512-byte sectors; 0 = to the device end */
	uint64_t iv_tweak;		/* dm-crypt iv_offset */
	uint32_t sector_size;		/* encryption sector size in bytes */
};

/* A context; never NULL unless out of memory.  Free with luks2_free(). */
struct luks2 *luks2_new(void);
void luks2_free(struct luks2 *l);

/* The description of the last failure ("" if none). */
const char *luks2_error(const struct luks2 *l);
/* A description of what luks2_health() reports (e.g. which copy is bad). */
const char *luks2_health_text(const struct luks2 *l);

/*
 * Opens PATH (block device or image file) and reads, checks and validates
 * the header.  Never writes.  Fails when neither copy is usable; when one
 * copy is, it is used and luks2_health() tells what luks2_repair() would fix.
 */
int luks2_load(struct luks2 *l, const char *path, unsigned int flags);
unsigned int luks2_health(const struct luks2 *l);

/* Rewrites a damaged or stale copy from the good one (needs LUKS2_RDWR).
 * Returns 0 when nothing needed doing, 1 after a repair. */
int luks2_repair(struct luks2 *l);

/* True when PATH starts with a LUKS2 primary header magic of version 2. */
bool luks2_probe(const char *path);

const char *luks2_uuid(const struct luks2 *l);
const char *luks2_label(const struct luks2 *l);
const char *luks2_subsystem(const struct luks2 *l);
/* True when U is a UUID as libuuid parses it: 8-4-4-4-12 hex digits. */
bool luks2_uuid_valid(const char *u);
/*
 * Sets the UUID (stored lower case, as cryptsetup's luksUUID --uuid) or
 * the label and subsystem (NULL: cleared, as cryptsetup's config, which
 * sets both), with one header write: seqid + 1, both copies, under the
 * lock (-ESTALE when the header changed since it was read).
 */
int luks2_set_uuid(struct luks2 *l, const char *uuid);
int luks2_set_labels(struct luks2 *l, const char *label, const char *subsystem);
/* The JSON metadata as cryptsetup luksDump --dump-json-metadata prints it. */
int luks2_dump_json(struct luks2 *l, FILE *out);
/* Token ID's JSON as cryptsetup token export prints it (no newline). */
int luks2_token_json(struct luks2 *l, int id, FILE *out);
uint64_t luks2_seqid(const struct luks2 *l);
/* Metadata + keyslots bytes: the size of a header backup. */
uint64_t luks2_header_area_size(const struct luks2 *l);
/* Bit N set = keyslot N exists. */
uint32_t luks2_keyslots_in_use(const struct luks2 *l);

/*
 * Tries KEYSLOT (or every usable keyslot, by priority, when < 0) with the
 * passphrase.  On success writes the volume key to VK (VK_CAP bytes, should
 * be locked memory), its length to *VK_LEN and returns the keyslot number.
 */
int luks2_unlock(struct luks2 *l, int keyslot, const char *pass, size_t pass_len,
		 void *vk, size_t vk_cap, size_t *vk_len);

/*
 * Bit N set = keyslot N can give the volume key: type "luks2" and bound to
 * the data segment's digest.  An unbound keyslot (cryptsetup --unbound)
 * exists but cannot open the volume.
 */
uint32_t luks2_keyslots_usable(struct luks2 *l);

/*
 * As luks2_unlock() with any keyslot, but never with EXCEPT (any priority,
 * "ignored" ones included): a passphrase of a keyslot that stays.
 */
int luks2_unlock_other(struct luks2 *l, int except, const char *pass, size_t pass_len,
		       void *vk, size_t vk_cap, size_t *vk_len);

/* Adds a keyslot for VK protected by PASS; KEYSLOT < 0: the first free.
 * Returns the keyslot number.  PBKDF NULL: defaults. */
int luks2_add_keyslot(struct luks2 *l, int keyslot, const void *vk, size_t vk_len,
		      const char *pass, size_t pass_len, const struct luks2_pbkdf *pbkdf);

/* Removes KEYSLOT from the header, then wipes its area. */
int luks2_kill_slot(struct luks2 *l, int keyslot);

/* Unlocks with PASS and kills the keyslot that opened; returns its number. */
int luks2_remove_key(struct luks2 *l, const char *pass, size_t pass_len);

/*
 * Replaces the passphrase of the keyslot that OLD opens (KEYSLOT < 0: any),
 * keeping its number: new material goes to a free area first, then the
 * header is switched, then the old area is wiped.  Returns the keyslot.
 */
int luks2_change_key(struct luks2 *l, int keyslot, const char *old_pass, size_t old_len,
		     const char *new_pass, size_t new_len, const struct luks2_pbkdf *pbkdf);

/* Wipes every keyslot (the data becomes unreadable without a backup). */
int luks2_erase(struct luks2 *l);

/*
 * Writes a new LUKS2 header to PATH (existing file or block device; the
 * caller confirms overwriting).  VK NULL: a random key of P->key_size bytes.
 * On success *OUT (if not NULL) is a loaded read-write context.  Errors are
 * reported through ERR (may be NULL) since there is no context yet.
 */
int luks2_format(const char *path, const struct luks2_format_params *p,
		 const void *vk, size_t vk_len, const char *pass, size_t pass_len,
		 struct luks2 **out, char *err, size_t err_len);
/*
 * The same on DEV_FD, a descriptor of PATH the caller opened (and checked,
 * e.g. with O_EXCL held since): the bytes go to that device, whatever PATH
 * names by now.  The descriptor is not closed.
 */
int luks2_format_fd(int dev_fd, const char *path, const struct luks2_format_params *p,
		    const void *vk, size_t vk_len, const char *pass, size_t pass_len,
		    struct luks2 **out, char *err, size_t err_len);

/*
 * Tokens (the JSON "tokens" object).  A token is an object with a "type"
 * string and a "keyslots" array of keyslot ids; its other fields belong to
 * its type and are kept as they are by every write of this library.
 */
unsigned int luks2_token_count(const struct luks2 *l);
/* The lowest token id above AFTER (-1: the first), or -ENOENT. */
int luks2_token_next(const struct luks2 *l, int after);
#define luks2_token_foreach(l, id) \
	for ((id) = luks2_token_next((l), -1); (id) >= 0; (id) = luks2_token_next((l), (id)))
/* Token ID, borrowed (valid until the next change of L), or NULL. */
struct json_object *luks2_token_get(const struct luks2 *l, int id);
/* Its "type" (NULL when absent), and its keyslots as a mask (bit N: "N"). */
const char *luks2_token_type(const struct luks2 *l, int id);
uint32_t luks2_token_keyslots(const struct luks2 *l, int id);
/*
 * Adds the token JSON (text of one object) as ID, or with ID < 0 the lowest
 * free id (as cryptsetup).  "type" must be a non-empty string and
 * "keyslots" an array naming existing keyslots; an id in use is refused
 * (-EEXIST).  Returns the token id.
 */
int luks2_token_add(struct luks2 *l, int id, const char *json);
/*
 * The same, as cryptsetup's token import --key-slot: KEYSLOT >= 0 (a
 * keyslot in use) is added to the token's "keyslots" before the checks.
 */
int luks2_token_import(struct luks2 *l, int id, const char *json, int keyslot);
/* Removes token ID (its keyslots stay). */
int luks2_token_remove(struct luks2 *l, int id);

/*
 * A re-encryption in progress (cryptsetup reencrypt's metadata: the
 * "online-reencrypt-v2" requirement, a "reencrypt" keyslot, backup
 * segments).  vaultctl neither maps nor changes such a header: luks2_load()
 * refuses it unless LUKS2_IGNORE_REQUIREMENTS (then for inspection only).
 */
struct luks2_reencrypt {
	int version;			/* 1 "online-reencrypt" (unauthenticated), 2, 3 */
	int keyslot;			/* the "reencrypt" keyslot */
	char mode[16];			/* reencrypt, encrypt, decrypt */
	char direction[16];		/* forward, backward */
	char resilience[24];		/* none, checksum, journal, datashift, datashift-* */
	char hash[32];			/* checksum resilience: its hash */
	uint32_t hash_sector_size;	/* checksum resilience: bytes per checksum */
	uint64_t shift_size;		/* datashift resilience: bytes */
	uint64_t area_offset, area_size;	/* the keyslot's area (hotzone backup) */
	uint64_t data_size;		/* bytes of data, all segments but the backups */
	uint64_t progress;		/* bytes already in the final layout */
	bool hotzone;			/* a segment is flagged "in-reencryption" */
};
/* 0 and *R filled when in re-encryption; -ENOENT when not; -EINVAL when
 * the metadata is inconsistent (error text set). */
int luks2_reencrypt_status(struct luks2 *l, struct luks2_reencrypt *r);

/*
 * CVE-2021-4122: cryptsetup 2.4+ authenticates the re-encryption metadata
 * with a "pbkdf2" digest (bound to the reencrypt keyslot) over the volume
 * keys and a serialisation of the reencrypt keyslot and backup segments.
 * luks2_reencrypt_verify() unlocks the old and the new volume key with
 * PASS and checks that digest: 0 when authentic, -EPERM when the metadata
 * does not match the keys (tampered), -ENOKEY when PASS does not open the
 * keys, other negative errno on errors; the error text says which.
 * luks2_reencrypt_verify_keys() does the same with keys the caller has
 * (VK_OLD NULL for encryption, VK_NEW NULL for decryption).
 */
int luks2_reencrypt_verify(struct luks2 *l, const char *pass, size_t pass_len);
int luks2_reencrypt_verify_keys(struct luks2 *l, const void *vk_old, size_t old_len,
				const void *vk_new, size_t new_len);

/*
 * Starts a re-encryption with a new volume key (and optionally a new
 * cipher, key size or sector size), writing what cryptsetup reencrypt
 * --init-only writes, so
 * that cryptsetup reencrypt --resume-only moves the data.  VK is the
 * current volume key (checked against the data segment's digest), PASS
 * protects the new one in a new keyslot; the volume must have one keyslot
 * and no tokens (others would be lost when the job finishes).  Afterwards
 * L is in re-encryption: inspection only.  Returns the new keyslot.  P
 * NULL: checksum resilience (sha256), default KDF.
 */
struct luks2_reencrypt_params {
	const char *resilience;		/* "checksum" (default), "journal", "none" */
	const char *hash;		/* checksum and digest hash; "sha256" */
	struct luks2_pbkdf pbkdf;	/* the new keyslot's KDF */
	const char *cipher;		/* the new cipher; NULL: the current one */
	size_t key_size;		/* the new key's bytes; 0: the current size */
	uint32_t sector_size;		/* the new sector size (512..4096); 0: the current */
};
int luks2_reencrypt_init(struct luks2 *l, const void *vk, size_t vk_len, const char *pass,
			 size_t pass_len, const struct luks2_reencrypt_params *p);

/*
 * Moving a re-encryption (mode reencrypt, forward, checksum or journal
 * resilience, no data shift; the sector size may change) with cryptsetup 2.6's
 * metadata, one hotzone at a time (reencrypt_step.c, reencrypt_recover.c).
 * L is loaded with LUKS2_RDWR | LUKS2_IGNORE_REQUIREMENTS.  Order per
 * hotzone: protect -> hotzone_begin (resilience data, then the header
 * naming the hotzone) -> the caller moves the data durably ->
 * hotzone_end (the checkpoint).  Byte offsets count from the data start.
 */
#define LUKS2_REENC_MAX_HOTZONE	(64ULL << 20)	/* the kernel's largest step */
struct luks2_reenc_job {
	char digest_old[12], digest_new[12];
	int keyslot;			/* the reencrypt keyslot */
	char resilience[24];		/* checksum, journal */
	char hash[32];			/* checksum: its hash */
	uint32_t hash_len;
	uint32_t block;			/* bytes per checksum (journal: the larger sector size) */
	char old_cipher[128], new_cipher[128];
	uint32_t old_ss, new_ss;	/* encryption sector sizes */
	uint64_t iv_tweak;		/* IV sector of the first data sector */
	uint64_t data_offset;		/* bytes from the device start */
	uint64_t data_size;		/* bytes (to the device end) */
	uint64_t area_off, area_size;	/* the reencrypt keyslot's area */
	uint64_t max_hotzone;		/* bytes the area can protect */
	uint64_t progress;		/* bytes already under the new key */
	bool in_flight;			/* the header names a hotzone being moved */
	uint64_t hz_off, hz_len;
};
int luks2_reenc_job_load(struct luks2 *l, struct luks2_reenc_job *j);
/* Both volume keys (LUKS2_VK_MAX buffers) from PASS, then the metadata
 * digest checked with them (CVE-2021-4122): -EPERM wrong passphrase,
 * -EINVAL tampered metadata (the error says so). */
int luks2_reenc_unlock(struct luks2 *l, const struct luks2_reenc_job *j, const char *pass,
		       size_t pass_len, unsigned char *vk_old, size_t *old_len,
		       unsigned char *vk_new, size_t *new_len);
/* The resilience data of LEN bytes of old ciphertext, into OUT (LEN bytes). */
int luks2_reenc_protect(const struct luks2_reenc_job *j, const unsigned char *old_ct, size_t len,
			unsigned char *out, size_t *out_len);
int luks2_reenc_hotzone_begin(struct luks2 *l, const struct luks2_reenc_job *j, uint64_t off,
			      uint64_t len, const unsigned char *prot, size_t prot_len);
int luks2_reenc_hotzone_end(struct luks2 *l, struct luks2_reenc_job *j, uint64_t off,
			    uint64_t len);
/* The hotzone in flight after a crash, from the resilience data; then its checkpoint. */
int luks2_reenc_recover(struct luks2 *l, struct luks2_reenc_job *j, const unsigned char *vk_old,
			size_t old_len, const unsigned char *vk_new, size_t new_len);
/* The final metadata once every byte is under the new key. */
int luks2_reenc_finish(struct luks2 *l, const struct luks2_reenc_job *j);

/* Segment 0 as a dm table needs it; fails unless exactly one crypt segment. */
int luks2_get_segment(struct luks2 *l, struct luks2_segment *seg);

/*
 * Writes S with every byte a terminal could act on (controls, DEL, any
 * non-ASCII byte) and the backslash escaped as \xNN and \\: header
 * strings are untrusted.
 */
void luks2_fputs_escaped(FILE *f, const char *s);

/* luksDump-like text (salts and digests, never keys); strings escaped. */
int luks2_dump(struct luks2 *l, FILE *out);
/* The same, with DESCRIBE adding lines after each token's keyslots. */
int luks2_dump_ex(struct luks2 *l, FILE *out,
		  void (*describe)(struct json_object *token, FILE *out));

/* Copies metadata and keyslot areas to a new file (mode 0600, O_EXCL). */
int luks2_header_backup(struct luks2 *l, const char *file);

/*
 * Validates the backup FILE, then writes it over the start of DEVICE.  A
 * device holding a LUKS2 header with another UUID is refused unless FORCE.
 * The context L receives the error text.
 */
int luks2_header_restore(struct luks2 *l, const char *device, const char *file, bool force);
/*
 * The same through DEV_FD, the caller's descriptor of DEVICE (not closed).
 * Besides the UUID, a device whose header has another layout (metadata,
 * keyslots area, data offset) needs FORCE; a backup whose data segment
 * overlaps its own header area, or that does not fit the device, is
 * refused.  The write happens under cryptsetup's lock, and not at all if
 * the device's header changed since it was checked (-ESTALE).  CONFIRM,
 * when not NULL, is asked after every check passed and before the lock
 * (so a refusal never follows the user's "YES"); a non-zero answer is
 * returned and nothing is written.
 */
int luks2_header_restore_fd(struct luks2 *l, int dev_fd, const char *device, const char *file,
			    bool force, int (*confirm)(void *ctx), void *ctx);

/*
 * In-place encryption (encrypt.c, datashift.c), cryptsetup 2.6's layout
 * for reencrypt --encrypt --reduce-device-size REDUCE with the header on
 * the device.  luks2_encrypt_init() writes the header and moves the first
 * REDUCE / 2 bytes of DEV_FD's data to its end; the random volume key is
 * left in VK (LUKS2_VK_MAX bytes of locked memory).  luks2_datashift_run()
 * then moves every hotzone (on L loaded with LUKS2_RDWR |
 * LUKS2_IGNORE_REQUIREMENTS), and resumes an interrupted run, vaultctl's
 * or cryptsetup's, once the metadata digest verified with VK.
 */
int luks2_encrypt_init(int dev_fd, const char *path, uint64_t reduce,
		       const struct luks2_format_params *fp, const char *pass, size_t pass_len,
		       void *vk, size_t *vk_len, char *err, size_t err_len);
int luks2_datashift_run(struct luks2 *l, const void *vk, size_t vk_len,
			void (*progress)(void *ctx, uint64_t done, uint64_t total), void *ctx);
/* The same with the passphrase of the new key; -ENOTSUP when the job is
 * not an in-place encryption (then cryptsetup finishes it). */
int luks2_datashift_resume(struct luks2 *l, const char *pass, size_t pass_len,
			   void (*progress)(void *ctx, uint64_t done, uint64_t total), void *ctx);

/*
 * In place with a detached header (encrypt.c, inplace.c), cryptsetup
 * 2.6.1's reencrypt --encrypt --header HDR_PATH and reencrypt --decrypt
 * --header HDR_PATH: the data stays at offset 0 and is rewritten in place
 * under "checksum" resilience (encrypt forward, decrypt backward).
 * luks2_encrypt_header_init() creates HDR_PATH (a new file, 0600, removed
 * again on failure) with the new keyslot 0 and the job's metadata; the data
 * device DEV_FD is only read (its size and block size); the random volume
 * key is left in VK (LUKS2_VK_MAX bytes of locked memory).
 * luks2_decrypt_detached_init() writes the metadata of a decryption into
 * L, a detached header (loaded LUKS2_RDWR | LUKS2_DETACHED) of the data
 * device DFD whose volume key is VK; L is then in re-encryption.
 * luks2_inplace_run() moves the data on DFD, hotzones of at most
 * MAX_HOTZONE bytes (0: as large as the checksums area protects), with L
 * loaded with LUKS2_RDWR | LUKS2_IGNORE_REQUIREMENTS | LUKS2_DETACHED (or
 * just initialised), and finishes an interrupted job, vaultctl's or
 * cryptsetup's, once the metadata digest verified with VK; _resume() does
 * the same with the passphrase (-ENOTSUP: another kind of job).
 */
int luks2_encrypt_header_init(int dev_fd, const char *hdr_path,
			      const struct luks2_format_params *fp, const char *pass,
			      size_t pass_len, void *vk, size_t *vk_len, char *err, size_t err_len);
int luks2_decrypt_detached_init(struct luks2 *l, int dfd, const void *vk, size_t vk_len);
int luks2_inplace_run(struct luks2 *l, int dfd, const void *vk, size_t vk_len,
		      uint64_t max_hotzone,
		      void (*progress)(void *ctx, uint64_t done, uint64_t total), void *ctx);
int luks2_inplace_resume(struct luks2 *l, int dfd, const char *pass, size_t pass_len,
			 uint64_t max_hotzone,
			 void (*progress)(void *ctx, uint64_t done, uint64_t total), void *ctx);

/*
 * In-place decryption of a volume whose header is on the device
 * (decrypt.c), cryptsetup 2.6.1's reencrypt --decrypt --header FILE:
 * luks2_decrypt_init() exports DL's header area to the new file HDR_PATH,
 * moves the first data segment over the old header and writes the
 * metadata into HDR_PATH; *OUT is that header, for luks2_decrypt_run()
 * with VK (the volume key of DL) and DFD, the data device.
 * luks2_decrypt_resume() finishes a decryption in progress (HDR_PATH
 * loaded with LUKS2_RDWR | LUKS2_IGNORE_REQUIREMENTS | LUKS2_DETACHED),
 * vaultctl's or cryptsetup's, after the digest verified.
 */
int luks2_decrypt_init(struct luks2 *dl, int dfd, const char *hdr_path, const void *vk,
		       size_t vk_len, struct luks2 **out, char *err, size_t err_len);
int luks2_decrypt_run(struct luks2 *l, int dfd, const void *vk, size_t vk_len);
int luks2_decrypt_resume(struct luks2 *l, int dfd, const char *pass, size_t pass_len);

#endif
