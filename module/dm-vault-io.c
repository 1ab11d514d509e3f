// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-vault: the data path.
 *
 * Reads go to the lower device in the bio dm gave us and are decrypted in
 * place when they complete. Writes are encrypted into bounce pages taken
 * from a per-device mempool and sent down in a clone.
 *
 * The crypto runs where the bio already is: writes in the submitter's
 * context, reads in their completion context (unless that is a hard
 * interrupt), which saves dm-crypt's queue hops. A large bio is cut into
 * walks that run on several CPUs at once, so a single stream is not limited
 * to one CPU's cipher throughput. The workqueue is the fallback for what
 * cannot run inline: hard-interrupt completions, bounce pages that are not
 * available without waiting, and continuations after an asynchronous
 * crypto driver completes.
 */
#include <linux/blkdev.h>
#include <linux/slab.h>
#include <crypto/algapi.h>

#include "dm-vault-core.h"

/* A write clone is at most one full bio of bounce pages. */
#define VAULT_MAX_WRITE_SECTORS	(BIO_MAX_VECS << (PAGE_SHIFT - SECTOR_SHIFT))
#define VAULT_MIN_IOS		64
/* Bios of at least this size are split into walks of at least SPLIT_CHUNK. */
#define VAULT_SPLIT_MIN		(128 * 1024)
#define VAULT_SPLIT_CHUNK	(64 * 1024)
#define VAULT_MAX_WALKS		8

/*
 * Walks of large bios running or queued, on every device. A split pays
 * only while some CPU has nothing to do: once there are as many such walks
 * as CPUs (several streams), an extra walk would only add a queue hop.
 */
static atomic_t vault_busy_walks = ATOMIC_INIT(0);

static struct skcipher_request *vault_walk_req(struct vault_walk *w)
{
	return (void *)w + w->io->vc->req_offset;
}

static u8 *vault_walk_iv(struct vault_walk *w)
{
	struct vault_c *vc = w->io->vc;

	return PTR_ALIGN((u8 *)w + vc->iv_offset_in_walk,
			 crypto_skcipher_alignmask(vc->cipher.tfm) + 1);
}

unsigned int vault_io_size(struct vault_c *vc)
{
	struct crypto_skcipher *tfm = vc->cipher.tfm;

	vc->req_offset = ALIGN(sizeof(struct vault_walk), CRYPTO_MINALIGN);
	vc->iv_offset_in_walk = vc->req_offset +
				sizeof(struct skcipher_request) +
				crypto_skcipher_reqsize(tfm);
	vc->walk_size = ALIGN(vc->iv_offset_in_walk +
			      crypto_skcipher_alignmask(tfm) +
			      max(vc->cipher.iv_size, 1U), ARCH_KMALLOC_MINALIGN);
	return ALIGN(offsetof(struct vault_io, walk) + vc->walk_size,
		     ARCH_KMALLOC_MINALIGN);
}

static void vault_walk_advance(struct vault_walk *w, unsigned int bytes)
{
	struct vault_io *io = w->io;
	struct vault_c *vc = io->vc;

	bio_advance_iter(io->bio, &w->iter_in, bytes);
	bio_advance_iter(io->out, &w->iter_out, bytes);
	if (test_bit(VAULT_F_IV_LARGE_SECTORS, &vc->flags))
		w->iv_sector += bytes >> (SECTOR_SHIFT + vc->sector_shift);
	else
		w->iv_sector += bytes >> SECTOR_SHIFT;
}

static void vault_io_finish(struct vault_io *io);

/* A walk is over; the last one to finish completes the io. */
static void vault_walk_done(struct vault_walk *w)
{
	struct vault_io *io = w->io;

	if (unlikely(w->status))
		WRITE_ONCE(io->status, w->status);
	if (w->busy)
		atomic_dec(&vault_busy_walks);
	if (w != &io->walk)
		mempool_free(w, &io->vc->walk_pool);
	if (atomic_dec_and_test(&io->pending))
		vault_io_finish(io);
}

static void vault_crypt_async_done(vault_completion_arg_t arg, int err);

/*
 * Transform the walk's remaining sectors. Returns without finishing the
 * walk when an asynchronous request owns it; the completion resumes it.
 */
static void vault_walk_run(struct vault_walk *w, bool may_resched)
{
	struct vault_io *io = w->io;
	struct vault_c *vc = io->vc;
	struct skcipher_request *req = vault_walk_req(w);
	unsigned int ss = vc->sector_size;
	u8 *iv = vault_walk_iv(w);

	skcipher_request_set_tfm(req, vc->cipher.tfm);
	skcipher_request_set_callback(req, CRYPTO_TFM_REQ_MAY_BACKLOG,
				      vault_crypt_async_done, w);

	while (!w->status && w->iter_in.bi_size) {
		struct bio_vec in = bio_iter_iovec(io->bio, w->iter_in);
		struct bio_vec out = bio_iter_iovec(io->out, w->iter_out);
		int r;

		/* io_hints make every sector sit inside one page. */
		if (unlikely(in.bv_len < ss || out.bv_len < ss)) {
			w->status = BLK_STS_IOERR;
			break;
		}
		sg_init_table(&w->sg_in, 1);
		sg_set_page(&w->sg_in, in.bv_page, ss, in.bv_offset);
		sg_init_table(&w->sg_out, 1);
		sg_set_page(&w->sg_out, out.bv_page, ss, out.bv_offset);
		vault_cipher_gen_iv(&vc->cipher, iv, w->iv_sector);
		skcipher_request_set_crypt(req, &w->sg_in, &w->sg_out, ss, iv);

		r = io->write ? crypto_skcipher_encrypt(req) :
				crypto_skcipher_decrypt(req);
		if (r == -EINPROGRESS || r == -EBUSY)
			return;
		if (unlikely(r)) {
			w->status = BLK_STS_IOERR;
			break;
		}
		vault_walk_advance(w, ss);
		if (may_resched)
			cond_resched();
	}
	vault_walk_done(w);
}

static void vault_walk_work(struct work_struct *work)
{
	vault_walk_run(container_of(work, struct vault_walk, work), true);
}

static void vault_crypt_async_done(vault_completion_arg_t arg, int err)
{
	struct vault_walk *w = vault_completion_data(arg);

	/* A backlogged request has started; its real completion follows. */
	if (err == -EINPROGRESS)
		return;
	if (err)
		w->status = BLK_STS_IOERR;
	else
		vault_walk_advance(w, w->io->vc->sector_size);
	queue_work(w->io->vc->crypt_wq, &w->work);
}

/* How many walks @w0's sectors are cut into; counts @w0 as busy if large. */
static unsigned int vault_nr_walks(struct vault_c *vc, struct vault_walk *w0)
{
	unsigned int size = w0->iter_in.bi_size;
	unsigned int cpus = num_online_cpus();
	unsigned int busy;

	if (size < VAULT_SPLIT_MIN || cpus < 2 ||
	    test_bit(VAULT_F_SAME_CPU_CRYPT, &vc->flags))
		return 1;
	w0->busy = true;
	busy = atomic_inc_return(&vault_busy_walks);
	if (busy >= cpus)
		return 1;
	return min3(cpus - busy + 1, size / VAULT_SPLIT_CHUNK,
		    (unsigned int)VAULT_MAX_WALKS);
}

/*
 * Cut the tail off the first walk into extra walks for other CPUs, then run
 * the first walk here. An extra walk that cannot be allocated without
 * waiting stays part of the first walk.
 */
static void vault_io_crypt(struct vault_io *io, bool in_worker)
{
	struct vault_c *vc = io->vc;
	struct vault_walk *w0 = &io->walk;
	unsigned int nr = vault_nr_walks(vc, w0);
	unsigned int share = round_down(w0->iter_in.bi_size / nr,
					vc->sector_size);
	unsigned int i;

	atomic_set(&io->pending, 1);
	for (i = 1; i < nr; i++) {
		struct vault_walk *w;
		unsigned int keep = w0->iter_in.bi_size - share;

		w = mempool_alloc(&vc->walk_pool, GFP_NOWAIT | __GFP_NOWARN);
		if (!w)
			break;
		w->io = io;
		w->status = BLK_STS_OK;
		w->busy = true;
		atomic_inc(&vault_busy_walks);
		w->iter_in = w0->iter_in;
		w->iter_out = w0->iter_out;
		w->iv_sector = w0->iv_sector;
		INIT_WORK(&w->work, vault_walk_work);
		vault_walk_advance(w, keep);
		w->iter_in.bi_size = share;
		w->iter_out.bi_size = share;
		w0->iter_in.bi_size = keep;
		w0->iter_out.bi_size = keep;
		atomic_inc(&io->pending);
		queue_work(vc->crypt_wq, &w->work);
	}
	vault_walk_run(w0, in_worker);
}

static void vault_free_bounce(struct vault_c *vc, struct bio *clone)
{
	vault_bounce_release(&vc->bounce, clone);
	bio_put(clone);
}

static void vault_write_endio(struct bio *clone)
{
	struct vault_io *io = clone->bi_private;
	blk_status_t status = clone->bi_status;

	vault_free_bounce(io->vc, clone);
	if (status)
		io->bio->bi_status = status;
	bio_endio(io->bio);
}

/*
 * A clone holding bounce pages for the whole write. With @may_block false
 * (the submitter's context) nothing waits: NULL means "retry from the
 * workqueue".
 */
static struct bio *vault_alloc_bounce(struct vault_io *io, bool may_block)
{
	struct vault_c *vc = io->vc;
	unsigned int size = io->bio->bi_iter.bi_size;
	struct bio *clone;

	clone = bio_alloc_bioset(vc->dev->bdev, DIV_ROUND_UP(size, PAGE_SIZE),
				 io->bio->bi_opf,
				 may_block ? GFP_NOIO : GFP_NOWAIT, &vc->bs);
	if (!clone)
		return NULL;
	if (!vault_bounce_fill(&vc->bounce, clone, size, may_block)) {
		vault_free_bounce(vc, clone);
		return NULL;
	}
	return clone;
}

static void vault_io_finish(struct vault_io *io)
{
	struct bio *bio = io->bio;
	blk_status_t status = READ_ONCE(io->status);

	if (io->write) {
		if (unlikely(status)) {
			vault_free_bounce(io->vc, io->out);
			bio->bi_status = status;
			bio_endio(bio);
			return;
		}
		dm_submit_bio_remap(bio, io->out);
		return;
	}
	bio->bi_end_io = io->saved_end_io;
	bio->bi_private = io->saved_private;
	if (status)
		bio->bi_status = status;
	bio_endio(bio);
}

/* Start an io's crypto; false if it must be retried from the workqueue. */
static bool vault_io_start(struct vault_io *io, bool in_worker)
{
	if (io->write) {
		struct bio *clone = vault_alloc_bounce(io, in_worker);

		if (!clone)
			return false;
		clone->bi_iter.bi_sector = io->vc->start + io->target_sector;
		clone->bi_ioprio = io->bio->bi_ioprio;
		clone->bi_end_io = vault_write_endio;
		clone->bi_private = io;
		io->out = clone;
		io->walk.iter_out = clone->bi_iter;
	}
	vault_io_crypt(io, in_worker);
	return true;
}

static void vault_io_work(struct work_struct *work)
{
	vault_io_start(container_of(work, struct vault_io, work), true);
}

static void vault_io_queue(struct vault_io *io)
{
	queue_work(io->vc->crypt_wq, &io->work);
}

static void vault_read_endio(struct bio *bio)
{
	struct vault_io *io = bio->bi_private;

	if (unlikely(bio->bi_status)) {
		io->status = bio->bi_status;
		vault_io_finish(io);
		return;
	}
	if (in_hardirq() || irqs_disabled() ||
	    test_bit(VAULT_F_READ_WQ, &io->vc->flags))
		vault_io_queue(io);
	else
		vault_io_start(io, false);
}

int vault_io_map(struct dm_target *ti, struct bio *bio)
{
	struct vault_c *vc = ti->private;
	unsigned int ss_sectors = vc->sector_size >> SECTOR_SHIFT;
	struct vault_io *io;
	sector_t sector;

	/* Empty flushes and discards carry no data to transform. */
	if (unlikely(bio->bi_opf & REQ_PREFLUSH ||
		     bio_op(bio) == REQ_OP_DISCARD)) {
		bio_set_dev(bio, vc->dev->bdev);
		if (bio_sectors(bio))
			bio->bi_iter.bi_sector = vc->start +
				dm_target_offset(ti, bio->bi_iter.bi_sector);
		return DM_MAPIO_REMAPPED;
	}
	if (unlikely(bio_op(bio) != REQ_OP_READ &&
		     bio_op(bio) != REQ_OP_WRITE))
		return DM_MAPIO_KILL;

	if (bio_op(bio) == REQ_OP_WRITE &&
	    bio_sectors(bio) > VAULT_MAX_WRITE_SECTORS)
		dm_accept_partial_bio(bio, VAULT_MAX_WRITE_SECTORS);

	/* Only whole encryption sectors can be transformed. */
	if (unlikely((bio->bi_iter.bi_sector & (ss_sectors - 1)) ||
		     (bio->bi_iter.bi_size & (vc->sector_size - 1))))
		return DM_MAPIO_KILL;

	sector = dm_target_offset(ti, bio->bi_iter.bi_sector);
	io = dm_per_bio_data(bio, ti->per_io_data_size);
	io->vc = vc;
	io->bio = bio;
	io->status = BLK_STS_OK;
	io->target_sector = sector;
	io->write = bio_op(bio) == REQ_OP_WRITE;
	INIT_WORK(&io->work, vault_io_work);
	io->walk.io = io;
	io->walk.status = BLK_STS_OK;
	io->walk.busy = false;
	io->walk.iter_in = bio->bi_iter;
	io->walk.iv_sector = sector + vc->iv_offset;
	if (test_bit(VAULT_F_IV_LARGE_SECTORS, &vc->flags))
		io->walk.iv_sector >>= vc->sector_shift;
	INIT_WORK(&io->walk.work, vault_walk_work);

	if (!io->write) {
		io->out = bio;
		io->walk.iter_out = bio->bi_iter;
		io->saved_end_io = bio->bi_end_io;
		io->saved_private = bio->bi_private;
		bio->bi_end_io = vault_read_endio;
		bio->bi_private = io;
		bio_set_dev(bio, vc->dev->bdev);
		bio->bi_iter.bi_sector = vc->start + sector;
		dm_submit_bio_remap(bio, NULL);
		return DM_MAPIO_SUBMITTED;
	}

	io->out = NULL;
	if (test_bit(VAULT_F_WRITE_WQ, &vc->flags) ||
	    !vault_io_start(io, false))
		vault_io_queue(io);
	return DM_MAPIO_SUBMITTED;
}

int vault_io_init(struct vault_c *vc, const char *devname)
{
	unsigned int wq_flags = WQ_MEM_RECLAIM;
	int r;

	r = vault_bounce_init(&vc->bounce, BIO_MAX_VECS);
	if (r)
		return r;
	r = bioset_init(&vc->bs, VAULT_MIN_IOS, 0, BIOSET_NEED_BVECS);
	if (r)
		return r;
	r = mempool_init_kmalloc_pool(&vc->walk_pool, VAULT_MAX_WALKS,
				      vc->walk_size);
	if (r)
		return r;

	/* same_cpu_crypt: stay on the CPU that submitted the bio. */
	if (test_bit(VAULT_F_SAME_CPU_CRYPT, &vc->flags))
		vc->crypt_wq = alloc_workqueue("kvaultd/%s",
					       wq_flags | WQ_CPU_INTENSIVE, 1,
					       devname);
	else
		vc->crypt_wq = alloc_workqueue("kvaultd/%s",
					       wq_flags | WQ_UNBOUND,
					       num_online_cpus(), devname);
	return vc->crypt_wq ? 0 : -ENOMEM;
}

/* Copes with a half-initialised vc, as the ctr error path needs. */
void vault_io_destroy(struct vault_c *vc)
{
	if (vc->crypt_wq)
		destroy_workqueue(vc->crypt_wq);
	vc->crypt_wq = NULL;
	mempool_exit(&vc->walk_pool);
	bioset_exit(&vc->bs);
	vault_bounce_exit(&vc->bounce);
}
