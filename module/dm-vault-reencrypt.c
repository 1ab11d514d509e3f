// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-vault: online re-encryption, the kernel's part.
 *
 * A table with "reencrypt <new_cipher> <new_key> <boundary>" among its
 * optional arguments maps sectors below the boundary with the new cipher
 * and key, the others with the table's own (the old ones). A bio crossing
 * the boundary is split there in map().
 *
 * "reencrypt step <sectors>" moves the boundary over one hotzone
 * [boundary, boundary + sectors): I/O that touches the hotzone is held
 * back (queued, and resubmitted afterwards), I/O elsewhere goes on; once
 * the I/O already in flight in the hotzone has completed, the hotzone is
 * read, decrypted with the old key, encrypted with the new one, written
 * back and flushed, and only then does the boundary move. The message
 * returns when the hotzone is durable on the lower device, so the caller
 * can write its checkpoint (the LUKS2 metadata) next: data, then
 * checkpoint. The kernel keeps no checkpoint of its own: after a crash the
 * table is loaded again with the boundary the checkpoint recorded.
 *
 * The new side may use another sector size ("new_sector_size:<n>"): as in
 * LUKS2, whose segments each carry their own, the IV still counts 512-byte
 * sectors (unless iv_large_sectors), so a sector's IV depends on its
 * number only. The boundary, a hotzone and every bio are then multiples of
 * both sizes (the device's logical block size is the larger one).
 *
 * If a step fails before it wrote anything, the boundary stays and the
 * held I/O proceeds. If it fails after (a write or the flush failed), the
 * hotzone holds sectors under either key: the boundary stays, the state
 * becomes "failed" and I/O touching the hotzone fails with EIO until a
 * table is loaded again from the caller's metadata.
 */
#include <linux/blkdev.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <crypto/skcipher.h>

#include "dm-vault-core.h"

/* The data a step transforms at a time, and the largest hotzone. */
#define VAULT_REENC_CHUNK_PAGES	64
#define VAULT_REENC_MAX_STEP	(64 << (20 - SECTOR_SHIFT))	/* 64 MiB */

#define VAULT_ERR_REENC_NR_ARGS \
	"reencrypt takes three arguments: reencrypt <new_cipher> <new_key> " \
	"<boundary>"

static const char *const vault_reenc_state_names[] = {
	[VAULT_REENC_IDLE] = "idle",
	[VAULT_REENC_HELD] = "held",
	[VAULT_REENC_MOVING] = "moving",
	[VAULT_REENC_FAILED] = "failed",
};

/* The words after "reencrypt" on the table line; checked by _init(). */
int vault_reenc_parse(struct vault_c *vc, unsigned int argc, char **argv,
		      char **error)
{
	struct vault_reenc *re;
	u64 boundary;

	if (vc->re) {
		*error = "reencrypt given twice";
		return -EINVAL;
	}
	if (argc < 3) {
		*error = VAULT_ERR_REENC_NR_ARGS;
		return -EINVAL;
	}
	if (kstrtou64(argv[2], 10, &boundary) ||
	    boundary != (sector_t)boundary) {
		*error = "Invalid reencrypt boundary: a number of 512-byte sectors";
		return -EINVAL;
	}
	re = kzalloc(sizeof(*re), GFP_KERNEL);
	if (!re) {
		*error = "Cannot allocate the re-encryption context";
		return -ENOMEM;
	}
	vc->re = re;
	re->boundary = boundary;
	spin_lock_init(&re->lock);
	INIT_LIST_HEAD(&re->held);
	INIT_LIST_HEAD(&re->inflight);
	init_waitqueue_head(&re->wait);
	re->cipher_spec = kstrdup(argv[0], GFP_KERNEL);
	if (!re->cipher_spec) {
		*error = "Cannot allocate cipher strings";
		return -ENOMEM;
	}
	return vault_parse_key_ref(re->key_name, argv[1], error);
}

/* At table construction, once the sector size and the old key are set. */
int vault_reenc_init(struct vault_c *vc, struct dm_target *ti, char **error)
{
	struct vault_reenc *re = vc->re;
	unsigned int new_ss = vc->new_sector_size ?: vc->sector_size;
	u8 material[VAULT_KEY_SIZE_MAX];
	unsigned int size;
	int r;

	re->total = ti->len;
	if (re->boundary > ti->len) {
		*error = "reencrypt boundary beyond the end of the target";
		return -EINVAL;
	}
	if (re->boundary & ((vc->sector_size >> SECTOR_SHIFT) - 1)) {
		*error = "reencrypt boundary is not a multiple of sector_size";
		return -EINVAL;
	}
	if (re->boundary & ((new_ss >> SECTOR_SHIFT) - 1)) {
		*error = "reencrypt boundary is not a multiple of new_sector_size";
		return -EINVAL;
	}
	if (vc->iv_offset & ((new_ss >> SECTOR_SHIFT) - 1)) {
		*error = "Invalid iv_offset: not a multiple of new_sector_size";
		return -EINVAL;
	}
	r = vault_cipher_init(&re->cipher, re->cipher_spec, error);
	if (r)
		return r;
	re->cipher.sector_size = new_ss;
	re->cipher.sector_shift = __ffs(new_ss) - SECTOR_SHIFT;
	r = vault_fetch_key(re->key_name, material, &size, NULL, error);
	if (!r)
		r = vault_program_key(vc, &re->cipher, material, size, error);
	memzero_explicit(material, sizeof(material));
	if (r)
		return r;
	re->key_size = size;
	return 0;
}

/* Copes with a half-built context. Freeing the tfm wipes its key. */
void vault_reenc_destroy(struct vault_c *vc)
{
	struct vault_reenc *re = vc->re;

	if (!re)
		return;
	/* dm suspended the device first: nothing is held or in flight. */
	WARN_ON_ONCE(!list_empty(&re->held) ||
		     !list_empty(&re->inflight));
	vault_cipher_destroy(&re->cipher);
	kfree(re->cipher_spec);
	kfree(re);
	vc->re = NULL;
}

/* Under re->lock: the io runs with the old key; a step must wait for it. */
static void vault_reenc_track(struct vault_reenc *re, struct vault_io *io)
{
	lockdep_assert_held(&re->lock);
	io->nr_sectors = bio_sectors(io->bio);
	io->tracked = true;
	list_add_tail(&io->hz_node, &re->inflight);
}

/*
 * From map(): choose the key for a read or write, cutting the bio at the
 * boundary (and at the end of a hotzone being moved) so that it lies on
 * one side. The rest of a cut bio comes back through map().
 */
enum vault_route vault_reenc_route(struct vault_c *vc, struct bio *bio,
				   struct vault_io *io)
{
	struct vault_reenc *re = vc->re;
	sector_t start = io->target_sector;
	sector_t end = start + bio_sectors(bio);
	enum vault_route route = VAULT_ROUTE_GO;
	unsigned long flags;

	spin_lock_irqsave(&re->lock, flags);
	if (start < re->boundary) {
		if (end > re->boundary)
			dm_accept_partial_bio(bio, re->boundary - start);
		io->cipher = &re->cipher;
	} else if (re->state != VAULT_REENC_IDLE && start < re->hz_end) {
		if (end > re->hz_end)
			dm_accept_partial_bio(bio, re->hz_end - start);
		if (re->state == VAULT_REENC_FAILED) {
			route = VAULT_ROUTE_KILL;
		} else {
			list_add_tail(&io->hz_node, &re->held);
			route = VAULT_ROUTE_HELD;
		}
	} else {
		vault_reenc_track(re, io);
	}
	spin_unlock_irqrestore(&re->lock, flags);
	return route;
}

/* Any context: a tracked io completed. */
void vault_reenc_end_io(struct vault_c *vc, struct vault_io *io)
{
	struct vault_reenc *re = vc->re;
	unsigned long flags;
	bool wake;

	spin_lock_irqsave(&re->lock, flags);
	list_del(&io->hz_node);
	io->tracked = false;
	wake = re->state != VAULT_REENC_IDLE;	/* a hold or step may wait */
	spin_unlock_irqrestore(&re->lock, flags);
	if (wake)
		wake_up(&re->wait);
}

/* Is an io that started before the step still in the hotzone? */
static bool vault_reenc_busy(struct vault_reenc *re, sector_t start,
			     sector_t end)
{
	struct vault_io *io;
	bool busy = false;

	spin_lock_irq(&re->lock);
	list_for_each_entry(io, &re->inflight, hz_node) {
		if (io->target_sector < end &&
		    io->target_sector + io->nr_sectors > start) {
			busy = true;
			break;
		}
	}
	spin_unlock_irq(&re->lock);
	return busy;
}

/* Read or write @nr sectors at target sector @sector from/to @pages. */
static int vault_reenc_rw(struct vault_c *vc, blk_opf_t opf, sector_t sector,
			  struct page **pages, unsigned int nr)
{
	unsigned int left = nr << SECTOR_SHIFT;
	struct bio *bio;
	unsigned int i;
	int r;

	bio = bio_alloc(vc->dev->bdev, DIV_ROUND_UP(left, PAGE_SIZE), opf,
			GFP_NOIO);
	bio->bi_iter.bi_sector = vc->start + sector;
	for (i = 0; left; i++) {
		unsigned int len = min_t(unsigned int, left, PAGE_SIZE);

		__bio_add_page(bio, pages[i], len, 0);
		left -= len;
	}
	r = submit_bio_wait(bio);
	bio_put(bio);
	return r;
}

/* A crypto request and an IV buffer for one cipher. */
struct vault_reenc_req {
	struct skcipher_request *req;
	u8 *iv_buf;
	u8 *iv;
	struct crypto_wait wait;
};

static int vault_reenc_req_init(struct vault_reenc_req *rq,
				const struct vault_cipher *cipher)
{
	unsigned int align = crypto_skcipher_alignmask(cipher->tfm) + 1;

	rq->req = skcipher_request_alloc(cipher->tfm, GFP_NOIO);
	rq->iv_buf = kzalloc(max(cipher->iv_size, 1U) + align - 1, GFP_NOIO);
	if (!rq->req || !rq->iv_buf)
		return -ENOMEM;
	rq->iv = PTR_ALIGN(rq->iv_buf, align);
	crypto_init_wait(&rq->wait);
	skcipher_request_set_callback(rq->req, CRYPTO_TFM_REQ_MAY_BACKLOG |
				      CRYPTO_TFM_REQ_MAY_SLEEP,
				      crypto_req_done, &rq->wait);
	return 0;
}

static void vault_reenc_req_free(struct vault_reenc_req *rq)
{
	skcipher_request_free(rq->req);
	kfree(rq->iv_buf);
}

/* Transform one encryption sector in place, waiting for the driver. */
static int vault_reenc_crypt(struct vault_reenc_req *rq,
			     const struct vault_cipher *cipher,
			     struct scatterlist *sg, unsigned int ss,
			     u64 iv_sector, bool encrypt)
{
	struct skcipher_request *req = rq->req;

	vault_cipher_gen_iv(cipher, rq->iv, iv_sector);
	skcipher_request_set_crypt(req, sg, sg, ss, rq->iv);
	return crypto_wait_req(encrypt ? crypto_skcipher_encrypt(req) :
				crypto_skcipher_decrypt(req), &rq->wait);
}

/*
 * Decrypt or encrypt @nr sectors from target sector @sector in place, in
 * @cipher's own sector size. The chunk starts on a multiple of both sizes.
 */
static int vault_reenc_pass(struct vault_c *vc, struct vault_reenc_req *rq,
			    const struct vault_cipher *cipher,
			    struct page **pages, sector_t sector,
			    unsigned int nr, bool encrypt)
{
	unsigned int ss = cipher->sector_size;
	unsigned int bytes = nr << SECTOR_SHIFT;
	struct scatterlist sg;
	unsigned int off;
	int r;

	for (off = 0; off < bytes; off += ss) {
		u64 iv_sector = sector + (off >> SECTOR_SHIFT) + vc->iv_offset;

		if (test_bit(VAULT_F_IV_LARGE_SECTORS, &vc->flags))
			iv_sector >>= cipher->sector_shift;
		sg_init_table(&sg, 1);
		sg_set_page(&sg, pages[off / PAGE_SIZE], ss, off % PAGE_SIZE);
		r = vault_reenc_crypt(rq, cipher, &sg, ss, iv_sector, encrypt);
		if (r)
			return r;
		cond_resched();
	}
	return 0;
}

/* Old key to new key (and sector size), for @nr sectors from @sector. */
static int vault_reenc_recrypt(struct vault_c *vc, struct vault_reenc_req *rq,
			       struct page **pages, sector_t sector,
			       unsigned int nr)
{
	int r;

	r = vault_reenc_pass(vc, &rq[0], &vc->cipher, pages, sector, nr, false);
	if (!r)
		r = vault_reenc_pass(vc, &rq[1], &vc->re->cipher, pages, sector,
				     nr, true);
	return r;
}

/*
 * Move the hotzone's data to the new key. Returns 0, or an error with
 * *@written telling whether the lower device may have been changed.
 */
static int vault_reenc_move(struct vault_c *vc, sector_t start, sector_t len,
			    bool *written)
{
	struct page *pages[VAULT_REENC_CHUNK_PAGES] = { NULL };
	const unsigned int chunk = VAULT_REENC_CHUNK_PAGES <<
				   (PAGE_SHIFT - SECTOR_SHIFT);
	struct vault_reenc_req rq[2] = { };
	sector_t done;
	unsigned int i;
	int r;

	*written = false;
	r = vault_reenc_req_init(&rq[0], &vc->cipher);
	if (!r)
		r = vault_reenc_req_init(&rq[1], &vc->re->cipher);
	for (i = 0; !r && i < ARRAY_SIZE(pages); i++) {
		pages[i] = alloc_page(GFP_NOIO);
		if (!pages[i])
			r = -ENOMEM;
	}
	for (done = 0; !r && done < len; done += chunk) {
		unsigned int nr = min_t(sector_t, chunk, len - done);

		r = vault_reenc_rw(vc, REQ_OP_READ, start + done, pages, nr);
		if (!r)
			r = vault_reenc_recrypt(vc, rq, pages, start + done, nr);
		if (r)
			break;
		*written = true;
		r = vault_reenc_rw(vc, REQ_OP_WRITE | REQ_SYNC, start + done,
				   pages, nr);
	}
	/* Durable before the boundary moves and the message returns. */
	if (!r)
		r = blkdev_issue_flush(vc->dev->bdev);

	for (i = 0; i < ARRAY_SIZE(pages); i++) {
		if (!pages[i])
			continue;
		/* Plaintext passed through these pages. */
		memzero_page(pages[i], 0, PAGE_SIZE);
		__free_page(pages[i]);
	}
	vault_reenc_req_free(&rq[1]);
	vault_reenc_req_free(&rq[0]);
	return r;
}

/* Resubmit (or fail) the bios held while a hotzone moved. */
static void vault_reenc_release(struct vault_c *vc, struct list_head *held,
				bool fail)
{
	struct vault_reenc *re = vc->re;
	struct vault_io *io, *tmp;

	list_for_each_entry_safe(io, tmp, held, hz_node) {
		list_del(&io->hz_node);
		if (fail) {
			bio_io_error(io->bio);
			continue;
		}
		/* Cut in map(): each lies on one side of the boundary. */
		spin_lock_irq(&re->lock);
		if (io->target_sector < re->boundary)
			io->cipher = &re->cipher;
		else
			vault_reenc_track(re, io);
		spin_unlock_irq(&re->lock);
		vault_io_dispatch(io, VAULT_CTX_SUBMIT);
	}
}

/*
 * Hold [boundary, boundary + @len) (less at the end of the target): I/O
 * that touches it from now on is queued, and the I/O already in flight
 * there has completed on return. Holding the range held already is a
 * no-op; any other range is refused until a step or a release ends the
 * hold. Sets *@start and *@len to the held range (*@len = 0: at the end).
 * Called under vc->state_lock.
 */
static int vault_reenc_hold(struct vault_c *vc, sector_t *start,
			    sector_t *len)
{
	struct vault_reenc *re = vc->re;
	sector_t end;

	spin_lock_irq(&re->lock);
	*start = re->boundary;
	*len = min(*len, re->total - *start);
	end = *start + *len;
	switch (re->state) {
	case VAULT_REENC_FAILED:
		spin_unlock_irq(&re->lock);
		DMERR("reencrypt: an earlier step failed; reload the table");
		return -EIO;
	case VAULT_REENC_HELD:
		spin_unlock_irq(&re->lock);
		if (end == re->hz_end)
			return 0;
		DMWARN("reencrypt: sectors %llu-%llu are held; step or release them first",
		       (unsigned long long)*start,
		       (unsigned long long)re->hz_end - 1);
		return -EBUSY;
	default:
		break;
	}
	if (*len) {
		re->hz_end = end;
		re->state = VAULT_REENC_HELD;
	}
	spin_unlock_irq(&re->lock);

	/* New I/O in the hotzone is held now; let the earlier I/O finish. */
	if (*len)
		wait_event(re->wait, !vault_reenc_busy(re, *start, end));
	return 0;
}

/* Resubmit the held I/O; the hotzone did not move. */
static void vault_reenc_unhold(struct vault_c *vc)
{
	struct vault_reenc *re = vc->re;
	LIST_HEAD(held);

	spin_lock_irq(&re->lock);
	if (re->state == VAULT_REENC_HELD)
		re->state = VAULT_REENC_IDLE;
	list_splice_init(&re->held, &held);
	spin_unlock_irq(&re->lock);
	vault_reenc_release(vc, &held, false);
}

/*
 * Move the boundary over [boundary, boundary + @len) (less at the end of
 * the target), holding it first unless @need_hold: then the range must be
 * held already (by "reencrypt hold", which the caller sent before reading
 * the data its resilience metadata protects), or nothing is done. Called
 * under vc->state_lock, which serialises steps with each other and with
 * key messages; the device is running.
 */
static int vault_reenc_step(struct vault_c *vc, sector_t len, bool need_hold)
{
	struct vault_reenc *re = vc->re;
	sector_t start;
	bool written;
	LIST_HEAD(held);
	int r;

	if (need_hold) {
		spin_lock_irq(&re->lock);
		start = re->boundary;
		len = min(len, re->total - start);
		r = re->state == VAULT_REENC_HELD && start + len == re->hz_end ?
		    0 : -ESTALE;
		spin_unlock_irq(&re->lock);
		if (r) {
			DMWARN("reencrypt step %llu held: not the held hotzone; hold again",
			       (unsigned long long)len);
			return r;
		}
	} else {
		r = vault_reenc_hold(vc, &start, &len);
		if (r)
			return r;
	}
	if (!len)
		return 0;	/* done: nothing left to move */

	spin_lock_irq(&re->lock);
	re->state = VAULT_REENC_MOVING;
	spin_unlock_irq(&re->lock);

	r = vault_reenc_move(vc, start, len, &written);

	spin_lock_irq(&re->lock);
	if (!r) {
		re->boundary = start + len;
		re->state = VAULT_REENC_IDLE;
	} else {
		re->state = written ? VAULT_REENC_FAILED : VAULT_REENC_IDLE;
	}
	list_splice_init(&re->held, &held);
	spin_unlock_irq(&re->lock);

	if (r)
		DMERR("reencrypt step at sector %llu failed (%d)%s",
		      (unsigned long long)start, r, written ?
		      ": the hotzone may hold sectors under either key; its I/O now fails" :
		      " before writing: nothing changed");
	vault_reenc_release(vc, &held, r && written);
	return r;
}

static unsigned int vault_reenc_emit(struct vault_reenc *re, char *result,
				     unsigned int maxlen, unsigned int sz)
{
	enum vault_reenc_state state;
	sector_t boundary;

	spin_lock_irq(&re->lock);
	boundary = re->boundary;
	state = re->state;
	spin_unlock_irq(&re->lock);
	DMEMIT("%llu %llu %s", (unsigned long long)boundary,
	       (unsigned long long)re->total, vault_reenc_state_names[state]);
	return sz;
}

/* dmsetup status: "<key state> reencrypt <boundary> <total> <state>" */
unsigned int vault_reenc_info(struct vault_c *vc, char *result,
			      unsigned int maxlen, unsigned int sz)
{
	DMEMIT(" reencrypt ");
	return vault_reenc_emit(vc->re, result, maxlen, sz);
}

/* dmsetup table: re-parses to the current boundary. Never key bytes. */
unsigned int vault_reenc_table(struct vault_c *vc, char *result,
			       unsigned int maxlen, unsigned int sz)
{
	struct vault_reenc *re = vc->re;
	sector_t boundary;

	spin_lock_irq(&re->lock);
	boundary = re->boundary;
	spin_unlock_irq(&re->lock);
	DMEMIT(" reencrypt %s ", re->cipher_spec);
	if (re->key_name[0])
		DMEMIT(VAULT_KEY_REF_PREFIX "%s", re->key_name);
	else
		DMEMIT(VAULT_KEY_REF_EMPTY);
	DMEMIT(" %llu", (unsigned long long)boundary);
	if (re->cipher.sector_size != vc->sector_size)
		DMEMIT(" new_sector_size:%u", re->cipher.sector_size);
	return sz;
}

/* "hold <sectors>", "step <sectors>" and "step <sectors> held". */
static int vault_reenc_msg_range(struct vault_c *vc, const char *verb,
				 const char *arg, bool need_hold)
{
	bool hold = !strcasecmp(verb, "hold");
	sector_t start, len;
	u64 n;
	int r;

	if (kstrtou64(arg, 10, &n) || !n) {
		DMWARN("reencrypt %s: expected a positive number of 512-byte sectors",
		       verb);
		return -EINVAL;
	}
	if (n & ((vc->sector_size >> SECTOR_SHIFT) - 1)) {
		DMWARN("reencrypt %s: %llu sectors is not a multiple of sector_size",
		       verb, n);
		return -EINVAL;
	}
	if (n & ((vc->re->cipher.sector_size >> SECTOR_SHIFT) - 1)) {
		DMWARN("reencrypt %s: %llu sectors is not a multiple of new_sector_size",
		       verb, n);
		return -EINVAL;
	}
	if (vc->read_only) {
		DMWARN("reencrypt %s: refused on a read-only table (a step writes)",
		       verb);
		return -EROFS;
	}
	if (n > VAULT_REENC_MAX_STEP) {
		DMWARN("reencrypt %s: %llu sectors is above the largest hotzone, %u",
		       verb, n, VAULT_REENC_MAX_STEP);
		return -EINVAL;
	}
	len = n;
	mutex_lock(&vc->state_lock);
	if (vc->state != VAULT_RUNNING) {
		DMWARN("reencrypt %s: the device is suspended: resume it first",
		       verb);
		r = -EBUSY;
	} else if (!test_bit(VAULT_F_KEY_VALID, &vc->flags)) {
		DMWARN("reencrypt %s: the keys are not valid", verb);
		r = -EINVAL;
	} else if (hold) {
		r = vault_reenc_hold(vc, &start, &len);
	} else {
		r = vault_reenc_step(vc, len, need_hold);
	}
	mutex_unlock(&vc->state_lock);
	return r;
}

/* "release": end a hold without a step. */
static void vault_reenc_msg_release(struct vault_c *vc)
{
	struct vault_reenc *re = vc->re;
	sector_t start, end;
	bool was_held;

	mutex_lock(&vc->state_lock);
	spin_lock_irq(&re->lock);
	was_held = re->state == VAULT_REENC_HELD;
	start = re->boundary;
	end = re->hz_end;
	spin_unlock_irq(&re->lock);
	if (was_held) {
		/* Writes may now change data the caller's checksums describe. */
		DMWARN("reencrypt: sectors %llu-%llu released without a step",
		       (unsigned long long)start, (unsigned long long)end - 1);
		vault_reenc_unhold(vc);
	}
	mutex_unlock(&vc->state_lock);
}

/*
 * "reencrypt hold <sectors>": hold the next hotzone (I/O to it waits).
 * "reencrypt step <sectors> [held]": move one hotzone ("held": only the
 * one held by "hold"). "reencrypt release": end a hold without a step.
 * "reencrypt status": reply "<boundary> <total> <state>". Each replies
 * with the status and returns 1 (dm-ioctl then hands it to the caller).
 */
int vault_reenc_message(struct vault_c *vc, unsigned int argc, char **argv,
			char *result, unsigned int maxlen)
{
	bool step = (argc == 2 || (argc == 3 && !strcasecmp(argv[2], "held"))) &&
		    !strcasecmp(argv[0], "step");
	bool hold = argc == 2 && !strcasecmp(argv[0], "hold");
	bool release = argc == 1 && !strcasecmp(argv[0], "release");
	bool status = argc == 1 && !strcasecmp(argv[0], "status");
	int r = 0;

	if (!step && !hold && !release && !status) {
		DMWARN("unrecognised message: expected reencrypt hold|step|release|status");
		return -EINVAL;
	}
	if (!vc->re) {
		DMWARN("reencrypt: this table does not re-encrypt (no reencrypt table argument)");
		return -EINVAL;
	}
	if (step || hold)
		r = vault_reenc_msg_range(vc, argv[0], argv[1], argc == 3);
	else if (release)
		vault_reenc_msg_release(vc);
	if (r)
		return r;
	vault_reenc_emit(vc->re, result, maxlen, 0);
	return 1;
}
