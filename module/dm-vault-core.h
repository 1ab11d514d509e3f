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

struct vault_cipher {
	struct crypto_skcipher *tfm;
	enum vault_iv_mode iv_mode;
	unsigned int iv_size;	/* bytes the IV generator writes */
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
	unsigned long flags;		/* VAULT_F_* bits */

	char *cipher_spec;		/* as given on the table line */
	struct vault_cipher cipher;
	char key_name[VAULT_KEY_NAME_MAX]; /* shown in the table; never bytes */
	unsigned int key_size;		/* bytes, to wipe with a random key */
	struct mutex state_lock;	/* key messages vs suspend/resume */
	enum vault_run_state state;	/* under state_lock */

	/*
	 * crypt_wq runs what gives bounce pages back (walks, continuations,
	 * submissions) and never waits for pages; write_wq starts the writes
	 * that may have to wait for them.
	 */
	struct workqueue_struct *crypt_wq;
	struct workqueue_struct *write_wq;
	int wq_id;			/* in the workqueues' names */
	struct bio_set bs;		/* write clones */
	struct vault_bounce bounce;	/* their pages */

	mempool_t walk_pool;		/* extra walks for large bios */
	mempool_t req_pool;		/* requests beyond a walk's own */
	unsigned int walk_size;		/* walk + its own request, bytes */
	unsigned int walk_req0;		/* offset of a walk's own request */
	unsigned int req_size;		/* vault_req + skcipher request + IV */
	unsigned int req_skreq;		/* offset of the skcipher request */
	unsigned int req_iv;		/* offset of the IV (before aligning) */
};

int vault_register_target(void);
void vault_unregister_target(void);

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
	atomic_t pending;		/* requests in flight + 1 (submitter) */
	atomic_t backlog;		/* -EBUSY return meets its -EINPROGRESS */
};

/* Per-bio state, in the dm per-bio data. */
struct vault_io {
	struct vault_c *vc;
	struct bio *bio;		/* the bio dm handed to map() */
	struct bio *out;		/* where ciphertext/plaintext goes */
	struct work_struct work;	/* starts the io, or submits a write */
	sector_t target_sector;		/* first sector, relative to the target */
	atomic_t pending;		/* walks still running */
	blk_status_t status;
	bool write;
	bio_end_io_t *saved_end_io;	/* reads: restored before completing */
	void *saved_private;
	struct vault_walk walk;		/* must be last: its request follows */
};

unsigned int vault_io_size(struct vault_c *vc);
int vault_io_map(struct dm_target *ti, struct bio *bio);
int vault_io_init(struct vault_c *vc, const char *devname);
void vault_io_destroy(struct vault_c *vc);

#endif /* DM_VAULT_CORE_H */
