/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-vault: internal declarations shared by the module's files.
 */
#ifndef DM_VAULT_CORE_H
#define DM_VAULT_CORE_H

#include <linux/bio.h>
#include <linux/device-mapper.h>
#include <linux/mempool.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <crypto/skcipher.h>

#include "compat.h"
#include <linux/dm-vault.h>

#define DM_MSG_PREFIX "vault"

/* ---- cipher specification and IV generation (dm-vault-cipher.c) ---- */

enum vault_iv_mode {
	VAULT_IV_NONE,		/* the cipher takes no IV */
	VAULT_IV_NULL,		/* all-zero IV */
	VAULT_IV_PLAIN,		/* le32 sector number */
	VAULT_IV_PLAIN64,	/* le64 sector number */
	VAULT_IV_PLAIN64BE,	/* be64 sector number in the last 8 bytes */
	VAULT_IV_ESSIV,		/* le64 sector, encrypted by the essiv template */
};

/*
 * A cipher and key with the encryption unit it is used with: while
 * re-encrypting, the two sides may use different sector sizes.
 */
struct vault_cipher {
	struct crypto_skcipher *tfm;
	enum vault_iv_mode iv_mode;
	unsigned int iv_size;	/* bytes the IV generator writes */
	unsigned int sector_size;	/* encryption unit, bytes */
	unsigned int sector_shift;	/* log2(sector_size / 512) */
};

int vault_cipher_init(struct vault_cipher *vcp, const char *spec,
		      char **error);
void vault_cipher_destroy(struct vault_cipher *vcp);
void vault_cipher_gen_iv(const struct vault_cipher *vcp, u8 *iv, u64 sector);

/* ---- the in-kernel key table (dm-vault-keys.c) ---- */

/*
 * Key names on a table line carry this prefix; "-" stands for an empty key,
 * which only null ciphers accept.
 */
#define VAULT_KEY_REF_PREFIX	"key:"
#define VAULT_KEY_REF_EMPTY	"-"

bool vault_key_name_valid(const char *name);
int vault_key_add(const char *name, const u8 *material, unsigned int size,
		  u32 flags, const void *owner);
int vault_key_remove(const char *name);
void vault_keys_release_owner(const void *owner);
int vault_key_fetch(const char *name, u8 *buf, unsigned int *size);
int vault_key_list(struct vault_key_info *infos, unsigned int capacity,
		   unsigned int *count);
void vault_keys_wipe_all(void);

/* ---- the control device (dm-vault-control.c) ---- */

int vault_control_init(void);
void vault_control_exit(void);

/* ---- bounce pages for writes (dm-vault-bounce.c) ---- */

struct vault_bounce {
	spinlock_t lock;		/* guards nr_free and free */
	unsigned int nr_free;		/* pages in @free */
	unsigned int size;		/* the reserve, pages */
	struct page **free;
	wait_queue_head_t wait;		/* for pages coming back */
	struct mutex waiter;		/* one blocking fill at a time */
};

int vault_bounce_init(struct vault_bounce *b, unsigned int pages);
void vault_bounce_exit(struct vault_bounce *b);
bool vault_bounce_fill(struct vault_bounce *b, struct bio *clone,
		       unsigned int size, bool may_block);
void vault_bounce_release(struct vault_bounce *b, struct bio *clone);

/* ---- the target (dm-vault-target.c) ---- */

enum vault_flags {
	VAULT_F_ALLOW_DISCARDS,
	VAULT_F_SAME_CPU_CRYPT,
	VAULT_F_NO_READ_WQ,	/* accepted for dm-crypt tables: the default */
	VAULT_F_NO_WRITE_WQ,	/* accepted for dm-crypt tables: the default */
	VAULT_F_READ_WQ,	/* decrypt reads in the workqueue, always */
	VAULT_F_WRITE_WQ,	/* encrypt writes in the workqueue, always */
	VAULT_F_IV_LARGE_SECTORS,
	VAULT_F_KEY_VALID,	/* cleared by "key wipe", set by "key set" */
	VAULT_F_KEY_WIPED,	/* the cipher holds a random key, not a half-set one */
};

struct vault_reenc;

/* Where the target is in dm's suspend/resume cycle (vault_c.state). */
enum vault_run_state {
	VAULT_SUSPENDED,	/* no I/O mapped: key messages accepted */
	VAULT_RESUMING,		/* a pre-resume check passed: refused */
	VAULT_RUNNING,		/* resumed: refused */
};

struct vault_c {
	struct dm_dev *dev;
	sector_t start;			/* data offset on the lower device */
	u64 iv_offset;			/* in 512-byte sectors */
	unsigned int sector_size;	/* encryption unit, bytes */
	unsigned int sector_shift;	/* log2(sector_size / 512) */
	unsigned int new_sector_size;	/* new_sector_size:, or 0 */
	unsigned int block_size;	/* bios align to it: both sides' units */
	bool read_only;			/* the table was loaded without write */
	unsigned long flags;		/* VAULT_F_* bits */

	char *cipher_spec;		/* as given on the table line */
	struct vault_cipher cipher;
	char key_name[VAULT_KEY_NAME_MAX]; /* shown in the table; never bytes */
	unsigned int key_size;		/* bytes, to wipe with a random key */
	struct vault_reenc *re;		/* a re-encryption in progress, or NULL */
	struct mutex state_lock;	/* key messages vs suspend/resume */
	enum vault_run_state state;	/* under state_lock */

	/*
	 * crypt_wq runs what gives bounce pages back (walks, continuations,
	 * submissions) and never waits for pages; write_wq starts the writes
	 * that may have to wait for them.
	 */
	struct workqueue_struct *crypt_wq;
	struct workqueue_struct *write_wq;
	/*
	 * read_wq (high priority) decrypts the large reads that cannot be
	 * decrypted where they completed (small ones go to softirq), so that
	 * a read never queues behind a writer's crypto on crypt_wq.
	 */
	struct workqueue_struct *read_wq;
	int wq_id;			/* in the workqueues' names */
	unsigned long last_read;	/* jiffies a read was last mapped */
	struct bio_set bs;		/* write clones */
	struct vault_bounce bounce;	/* their pages */

	mempool_t walk_pool;		/* extra walks for large bios */
	mempool_t req_pool;		/* requests beyond a walk's own */
	unsigned int walk_size;		/* walk + its own request, bytes */
	unsigned int walk_req0;		/* offset of a walk's own request */
	unsigned int req_size;		/* vault_req + skcipher request + IV */
	unsigned int req_skreq;		/* offset of the skcipher request */
	unsigned int req_iv;		/* offset of the IV (before aligning) */
	unsigned int iv_align;		/* the IV's alignment, either cipher's */
};

int vault_register_target(void);
void vault_unregister_target(void);

/* ---- key references on table lines (dm-vault-keyref.c) ---- */

int vault_parse_key_ref(char *key_name, const char *ref, char **error);
int vault_fetch_key(const char *key_name, u8 *material, unsigned int *size,
		    const unsigned int *want_size, char **error);
int vault_program_key(struct vault_c *vc, struct vault_cipher *cipher,
		      const u8 *material, unsigned int size, char **error);
int vault_wipe_cipher(struct vault_cipher *cipher, unsigned int key_size);

/* ---- the data path (dm-vault-io.c) ---- */

/*
 * One sector's crypto request: this header, the skcipher request at
 * vc->req_skreq, then the IV. A walk's own request follows the walk; more
 * come from vc->req_pool while an asynchronous driver holds earlier ones.
 */
struct vault_req {
	struct vault_walk *walk;
	struct scatterlist sg_in;
	struct scatterlist sg_out;
};

/*
 * A walk transforms a run of sectors, a request per sector, all of them in
 * flight at once on an asynchronous driver. A bio's crypto is one walk, or
 * several running on different CPUs when the bio is large.
 */
struct vault_walk {
	struct vault_io *io;
	struct work_struct work;	/* continues submitting in a worker */
	struct bvec_iter iter_in;	/* the sectors not yet submitted */
	struct bvec_iter iter_out;
	u64 iv_sector;
	blk_status_t status;
	bool busy;			/* counted in vault_busy_walks */
	bool req0_gone;			/* own request given to a driver */
	atomic_t start;			/* VAULT_WALK_*: a helper's first run */
	struct vault_walk *next;	/* the io's helpers, freed with it */
	atomic_t pending;		/* requests in flight + 1 (submitter) */
	atomic_t backlog;		/* -EBUSY return meets its -EINPROGRESS */
};

/* Per-bio state, in the dm per-bio data. */
struct vault_io {
	struct vault_c *vc;
	const struct vault_cipher *cipher; /* the key this io's sectors use */
	struct bio *bio;		/* the bio dm handed to map() */
	struct bio *out;		/* where ciphertext/plaintext goes */
	struct work_struct work;	/* starts the io, or submits a write */
	struct vault_bh bh;		/* a small read's decryption in softirq */
	sector_t target_sector;		/* first sector, relative to the target */
	struct list_head hz_node;	/* in vc->re's in-flight or held list */
	unsigned int nr_sectors;	/* the sectors a tracked io covers */
	bool tracked;			/* at or above a re-encryption boundary */
	atomic_t pending;		/* walks still running */
	/* A large bio's chunks, which its walks take one at a time. */
	struct bvec_iter split_in;	/* the whole bio, where chunk 0 starts */
	struct bvec_iter split_out;
	u64 split_iv;
	unsigned int nr_chunks;		/* 0: not split */
	struct vault_walk *helpers;	/* the extra walks, to withdraw or free */
	atomic_t next_chunk;		/* the first chunk no walk has taken */
	blk_status_t status;
	bool write;
	bio_end_io_t *saved_end_io;	/* reads: restored before completing */
	void *saved_private;
	struct vault_walk walk;		/* must be last: its request follows */
};

unsigned int vault_io_size(struct vault_c *vc);
int vault_io_map(struct dm_target *ti, struct bio *bio);
/* How the code that runs a walk or finishes an io may behave. */
enum {
	VAULT_CTX_SUBMIT = 1,	/* may submit bios: map() or a worker */
	VAULT_CTX_SLEEP = 2,	/* may wait for memory: a worker */
	VAULT_CTX_YIELD = 4,	/* may yield the CPU: a submitter without NOWAIT */
	VAULT_CTX_WORKER = VAULT_CTX_SUBMIT | VAULT_CTX_SLEEP,
};

void vault_io_dispatch(struct vault_io *io, unsigned int ctx);
int vault_io_end_io(struct dm_target *ti, struct bio *bio,
		    blk_status_t *error);
int vault_io_init(struct vault_c *vc, const char *devname);
void vault_io_destroy(struct vault_c *vc);

/* ---- online re-encryption (dm-vault-reencrypt.c) ---- */

/*
 * Sectors below @boundary are under the new cipher, the others under the
 * old one (vc->cipher). A step moves [boundary, hz_end) across: I/O that
 * touches it waits in @held meanwhile; I/O at or above the boundary is
 * listed in @inflight so that a step can wait for what overlaps its
 * hotzone.
 */
enum vault_reenc_state {
	VAULT_REENC_IDLE,
	VAULT_REENC_HELD,	/* "reencrypt hold": I/O to [boundary, hz_end) waits */
	VAULT_REENC_MOVING,	/* a step moves [boundary, hz_end); its I/O waits */
	VAULT_REENC_FAILED,	/* a step's write failed: hotzone I/O errors */
};

struct vault_reenc {
	char *cipher_spec;		/* the new cipher, as on the table line */
	struct vault_cipher cipher;
	char key_name[VAULT_KEY_NAME_MAX];
	unsigned int key_size;
	sector_t total;			/* the target's length */

	spinlock_t lock;		/* guards the fields below; irq-safe */
	sector_t boundary;		/* relative to the target */
	sector_t hz_end;		/* end of the hotzone while not IDLE */
	enum vault_reenc_state state;
	struct list_head held;		/* vault_io waiting for the hotzone */
	struct list_head inflight;	/* tracked vault_io at/above boundary */
	wait_queue_head_t wait;		/* a step waiting for @inflight */
};

/* What vault_reenc_route() did with a bio. */
enum vault_route {
	VAULT_ROUTE_GO,		/* io->cipher set: dispatch it */
	VAULT_ROUTE_HELD,	/* in the hotzone being moved: resubmitted later */
	VAULT_ROUTE_KILL,	/* in a hotzone whose move failed */
};

int vault_reenc_parse(struct vault_c *vc, unsigned int argc, char **argv,
		      char **error);
int vault_reenc_init(struct vault_c *vc, struct dm_target *ti, char **error);
void vault_reenc_destroy(struct vault_c *vc);
enum vault_route vault_reenc_route(struct vault_c *vc, struct bio *bio,
				   struct vault_io *io);
void vault_reenc_end_io(struct vault_c *vc, struct vault_io *io);
int vault_reenc_load_key(struct vault_c *vc, const char *ref, char **error);
int vault_reenc_wipe_key(struct vault_c *vc);
int vault_reenc_message(struct vault_c *vc, unsigned int argc, char **argv,
			char *result, unsigned int maxlen);
unsigned int vault_reenc_table(struct vault_c *vc, char *result,
			       unsigned int maxlen, unsigned int sz);
unsigned int vault_reenc_info(struct vault_c *vc, char *result,
			      unsigned int maxlen, unsigned int sz);

#endif /* DM_VAULT_CORE_H */
