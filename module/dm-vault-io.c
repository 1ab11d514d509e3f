// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-vault: the data path.
 *
 * Reads go to the lower device in the bio dm gave us and are decrypted in
 * place when they complete. Writes are encrypted into bounce pages
 * (dm-vault-bounce.c) and sent down in a clone.
 *
 * The crypto runs where the bio already is: writes in the submitter's
 * context, reads in their completion context (unless that is a hard
 * interrupt), which saves dm-crypt's queue hops. A large bio is cut into
 * chunks that several walks, on several CPUs at once, take one at a time,
 * so a single stream is not limited to one CPU's cipher throughput, and a
 * vCPU that stalls holds up one chunk, not a fixed share of the bio (half
 * of a 1 MiB read on 2 CPUs before; 6.12's dm-crypt gets the same effect
 * from 128 KiB bios on an unbound queue). Each walk submits a request per
 * sector without waiting for the previous one, so an asynchronous driver
 * has them all in flight and completes them in its own context.
 *
 * Small reads stay inline even when many are queued: handing them to the
 * workqueue (read_workqueue) measured slower, not faster, at 4 KiB QD32
 * on brd (design.rst).
 *
 * Three workqueues per device take what cannot run inline. write_wq
 * starts the writes whose bounce pages are not available without waiting:
 * only there does anything wait for pages. crypt_wq runs everything that
 * leads to pages coming back (helper walks of a large bio, walks continued
 * after a backlogged request or a request shortage, the submission of a
 * write an asynchronous driver finished), and read_wq the reads above
 * VAULT_INLINE_MAX completed in a hard interrupt (every read, with
 * read_workqueue); none of that waits for bounce pages. A
 * worker waiting for pages, even the rescuer alone under memory pressure,
 * therefore never sits in front of the work that would give them back
 * (design.rst).
 *
 * Nothing in map() sleeps, so the target takes REQ_NOWAIT bios: io_uring
 * then submits inline instead of through one of its worker threads.
 *
 * Readers stay responsive while a large write goes on (design.rst, "A
 * reader beside a writer"): a small read completed in a hard interrupt is
 * decrypted in softirq context right after it, a larger one on read_wq, a
 * high-priority queue of its own; neither waits behind a writer's walks
 * on crypt_wq or for a writer's CPU. And while reads are active on the
 * device, a large write is encrypted by its submitter alone (not spread
 * over kernel workers, whose CPU time no one charges to the writer), and
 * the submitter yields after every sector; io_uring's first, non-blocking
 * try of such a write (REQ_NOWAIT, which forbids yielding) is refused with
 * BLK_STS_AGAIN, and io_uring makes it again from a worker of its own.
 */
#include <linux/blkdev.h>
#include <linux/idr.h>
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

/*
 * While a read was mapped this recently, a write larger than
 * VAULT_INLINE_MAX is not split and its submitter yields (vault_io_map).
 * Long enough to span a reader's think time between small reads, short
 * enough that a writer alone gets every CPU back at once.  A 64 KiB write
 * keeps a CPU for about a millisecond under TCG, a 1 MiB one for twenty.
 */
#define VAULT_READER_WINDOW	(HZ / 10)
#define VAULT_INLINE_MAX	(64 * 1024)

/* Tells apart the workqueues of a table and of the one replacing it. */
static DEFINE_IDA(vault_wq_ida);

static bool vault_reader_active(struct vault_c *vc)
{
	return time_before(jiffies, READ_ONCE(vc->last_read) +
			   VAULT_READER_WINDOW);
}

/* A write of @size must not hold a CPU unpreempted: a reader is active. */
static bool vault_write_must_yield(struct vault_c *vc, unsigned int size)
{
	return size > VAULT_INLINE_MAX && vault_reader_active(vc);
}

static struct vault_req *vault_walk_req0(struct vault_walk *w)
{
	return (void *)w + w->io->vc->walk_req0;
}

static struct skcipher_request *vault_req_skreq(struct vault_c *vc,
						struct vault_req *vr)
{
	return (void *)vr + vc->req_skreq;
}

static u8 *vault_req_iv(struct vault_c *vc, struct vault_req *vr)
{
	return PTR_ALIGN((u8 *)vr + vc->req_iv, vc->iv_align);
}

/* A request's layout fits either cipher while re-encrypting. */
unsigned int vault_io_size(struct vault_c *vc)
{
	struct crypto_skcipher *tfm = vc->cipher.tfm;
	unsigned int reqsize = crypto_skcipher_reqsize(tfm);
	unsigned int alignmask = crypto_skcipher_alignmask(tfm);
	unsigned int iv_size = max(vc->cipher.iv_size, 1U);

	if (vc->re) {
		tfm = vc->re->cipher.tfm;
		reqsize = max(reqsize, crypto_skcipher_reqsize(tfm));
		alignmask = max(alignmask, crypto_skcipher_alignmask(tfm));
		iv_size = max(iv_size, vc->re->cipher.iv_size);
	}
	vc->iv_align = alignmask + 1;
	vc->req_skreq = ALIGN(sizeof(struct vault_req), CRYPTO_MINALIGN);
	vc->req_iv = vc->req_skreq + sizeof(struct skcipher_request) + reqsize;
	vc->req_size = ALIGN(vc->req_iv + alignmask + iv_size,
			     ARCH_KMALLOC_MINALIGN);
	vc->walk_req0 = ALIGN(sizeof(struct vault_walk), CRYPTO_MINALIGN);
	vc->walk_size = vc->walk_req0 + vc->req_size;
	return ALIGN(offsetof(struct vault_io, walk) + vc->walk_size,
		     ARCH_KMALLOC_MINALIGN);
}

static void vault_walk_advance(struct vault_walk *w, unsigned int bytes)
{
	struct vault_io *io = w->io;

	bio_advance_iter(io->bio, &w->iter_in, bytes);
	bio_advance_iter(io->out, &w->iter_out, bytes);
	if (test_bit(VAULT_F_IV_LARGE_SECTORS, &io->vc->flags))
		w->iv_sector += bytes >> (SECTOR_SHIFT +
					  io->cipher->sector_shift);
	else
		w->iv_sector += bytes >> SECTOR_SHIFT;
}

static void vault_io_finish(struct vault_io *io, unsigned int ctx);

/*
 * A helper walk is queued, then either runs (RUNNING) or is withdrawn by
 * the io's first walk when that has taken every chunk (WITHDRAWN): the bio
 * then completes without waiting for a worker that has nothing to do.
 */
enum {
	VAULT_WALK_QUEUED,
	VAULT_WALK_RUNNING,
	VAULT_WALK_WITHDRAWN,
};

/* A walk is over; the last one to finish completes the io. */
static void vault_walk_done(struct vault_walk *w, unsigned int ctx)
{
	struct vault_io *io = w->io;
	blk_status_t status = READ_ONCE(w->status);

	if (unlikely(status))
		WRITE_ONCE(io->status, status);
	if (w->busy)
		atomic_dec(&vault_busy_walks);
	if (atomic_dec_and_test(&io->pending))
		vault_io_finish(io, ctx);
}

/* Drop a reference: one per request in flight, one for the submitter. */
static void vault_walk_put(struct vault_walk *w, unsigned int ctx)
{
	if (atomic_dec_and_test(&w->pending))
		vault_walk_done(w, ctx);
}

/*
 * A request for the walk's next sector: the walk's own while it has not
 * gone to an asynchronous driver, else one from the device's pool. Only a
 * worker waits for one; they come back from request completions, which
 * never wait for the workqueues.
 */
static struct vault_req *vault_req_get(struct vault_walk *w, unsigned int ctx)
{
	struct vault_c *vc = w->io->vc;
	struct vault_req *vr;

	if (!w->req0_gone)
		return vault_walk_req0(w);
	vr = mempool_alloc(&vc->req_pool, ctx & VAULT_CTX_SLEEP ? GFP_NOIO :
			   GFP_NOWAIT | __GFP_NOWARN);
	if (vr)
		vr->walk = w;
	return vr;
}

static void vault_req_put(struct vault_walk *w, struct vault_req *vr)
{
	if (vr != vault_walk_req0(w))
		mempool_free(vr, &w->io->vc->req_pool);
}

static void vault_req_done(vault_completion_arg_t arg, int err);

/*
 * Give @w the next chunk of its io that no walk has taken yet; false when
 * none is left (or the io is not split). Walks take chunks as they go
 * rather than a fixed share each, so when a vCPU stalls or a worker starts
 * late, the others take its part and the bio waits for one chunk at most.
 */
static bool vault_walk_claim(struct vault_walk *w)
{
	struct vault_io *io = w->io;
	unsigned int k, off;

	if (!io->nr_chunks)
		return false;
	k = atomic_fetch_inc(&io->next_chunk);
	if (k >= io->nr_chunks)
		return false;
	off = k * VAULT_SPLIT_CHUNK;
	w->iter_in = io->split_in;
	w->iter_out = io->split_out;
	w->iv_sector = io->split_iv;
	vault_walk_advance(w, off);
	w->iter_in.bi_size = min_t(unsigned int, VAULT_SPLIT_CHUNK,
				   io->split_in.bi_size - off);
	w->iter_out.bi_size = w->iter_in.bi_size;
	return true;
}

/*
 * The first walk found no chunk left: helpers that have not started have
 * nothing to do, so drop their reference here instead of waiting for a
 * worker (perhaps on a stalled vCPU) to run them. The io cannot finish
 * meanwhile, since the first walk still holds its own reference.
 */
static void vault_withdraw_helpers(struct vault_io *io, unsigned int ctx)
{
	struct vault_walk *h;

	for (h = io->helpers; h; h = h->next) {
		if (atomic_cmpxchg(&h->start, VAULT_WALK_QUEUED,
				   VAULT_WALK_WITHDRAWN) != VAULT_WALK_QUEUED)
			continue;
		/* Else its worker has dequeued it and will put it. */
		if (cancel_work(&h->work))
			vault_walk_put(h, ctx);
	}
}

/*
 * Submit a request for each of the walk's remaining sectors without waiting
 * for the previous one, as dm-crypt's crypt_convert does: an asynchronous
 * driver gets them all in flight, a synchronous one transforms each in the
 * call and the same request serves the next sector. The walk stops, to be
 * continued from the workqueue, when the driver backlogs a request (until
 * that request starts) or when no request is free without waiting.
 */
static void vault_walk_run(struct vault_walk *w, unsigned int ctx)
{
	struct vault_io *io = w->io;
	struct vault_c *vc = io->vc;
	unsigned int ss = io->cipher->sector_size;
	struct vault_req *vr = NULL;

	while (!READ_ONCE(w->status) &&
	       (w->iter_in.bi_size || vault_walk_claim(w))) {
		struct bio_vec in = bio_iter_iovec(io->bio, w->iter_in);
		struct bio_vec out = bio_iter_iovec(io->out, w->iter_out);
		struct skcipher_request *req;
		u8 *iv;
		int r;

		/* io_hints make every sector sit inside one page. */
		if (unlikely(in.bv_len < ss || out.bv_len < ss)) {
			WRITE_ONCE(w->status, BLK_STS_IOERR);
			break;
		}
		if (!vr) {
			vr = vault_req_get(w, ctx);
			if (!vr) {
				queue_work(vc->crypt_wq, &w->work);
				return;
			}
		}
		req = vault_req_skreq(vc, vr);
		iv = vault_req_iv(vc, vr);
		sg_init_table(&vr->sg_in, 1);
		sg_set_page(&vr->sg_in, in.bv_page, ss, in.bv_offset);
		sg_init_table(&vr->sg_out, 1);
		sg_set_page(&vr->sg_out, out.bv_page, ss, out.bv_offset);
		vault_cipher_gen_iv(io->cipher, iv, w->iv_sector);
		skcipher_request_set_tfm(req, io->cipher->tfm);
		skcipher_request_set_callback(req, CRYPTO_TFM_REQ_MAY_BACKLOG,
					      vault_req_done, vr);
		skcipher_request_set_crypt(req, &vr->sg_in, &vr->sg_out, ss, iv);

		atomic_inc(&w->pending);
		r = io->write ? crypto_skcipher_encrypt(req) :
				crypto_skcipher_decrypt(req);
		if (likely(!r)) {
			atomic_dec(&w->pending);
			vault_walk_advance(w, ss);
			if (ctx & (VAULT_CTX_SLEEP | VAULT_CTX_YIELD))
				cond_resched();
			continue;
		}
		if (r != -EINPROGRESS && r != -EBUSY) {
			atomic_dec(&w->pending);
			WRITE_ONCE(w->status, BLK_STS_IOERR);
			break;
		}
		/* The driver owns the request now; its completion puts it. */
		if (vr == vault_walk_req0(w))
			w->req0_gone = true;
		vr = NULL;
		vault_walk_advance(w, ss);
		/* Backlogged: go on once it starts (whichever comes second). */
		if (r == -EBUSY) {
			if (atomic_inc_return(&w->backlog) == 1)
				return;
			atomic_set(&w->backlog, 0);
		}
	}
	if (vr)
		vault_req_put(w, vr);
	if (w == &io->walk && io->helpers)
		vault_withdraw_helpers(io, ctx);
	vault_walk_put(w, ctx);
}

static void vault_walk_work(struct work_struct *work)
{
	struct vault_walk *w = container_of(work, struct vault_walk, work);

	/* Withdrawn while queued, but too late to cancel: nothing to do. */
	if (atomic_cmpxchg(&w->start, VAULT_WALK_QUEUED, VAULT_WALK_RUNNING) ==
	    VAULT_WALK_WITHDRAWN) {
		vault_walk_put(w, VAULT_CTX_WORKER);
		return;
	}
	vault_walk_run(w, VAULT_CTX_WORKER);
}

/* An asynchronous driver's completion: any context, never waits. */
static void vault_req_done(vault_completion_arg_t arg, int err)
{
	struct vault_req *vr = vault_completion_data(arg);
	struct vault_walk *w = vr->walk;

	/* A backlogged request has started: the walk may submit again. */
	if (err == -EINPROGRESS) {
		if (atomic_inc_return(&w->backlog) == 2) {
			atomic_set(&w->backlog, 0);
			queue_work(w->io->vc->crypt_wq, &w->work);
		}
		return;
	}
	if (unlikely(err))
		WRITE_ONCE(w->status, BLK_STS_IOERR);
	vault_req_put(w, vr);
	vault_walk_put(w, 0);
}

static void vault_walk_init(struct vault_walk *w, struct vault_io *io)
{
	w->io = io;
	w->status = BLK_STS_OK;
	w->req0_gone = false;
	atomic_set(&w->pending, 1);
	atomic_set(&w->backlog, 0);
	atomic_set(&w->start, VAULT_WALK_RUNNING);
	vault_walk_req0(w)->walk = w;
	INIT_WORK(&w->work, vault_walk_work);
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
	/* A reader is active: the writer's crypto stays the writer's. */
	if (w0->io->write && vault_reader_active(vc))
		return 1;
	w0->busy = true;
	busy = atomic_inc_return(&vault_busy_walks);
	if (busy >= cpus)
		return 1;
	return min3(cpus - busy + 1, size / VAULT_SPLIT_CHUNK,
		    (unsigned int)VAULT_MAX_WALKS);
}

/*
 * Cut a large bio into chunks, queue a helper walk for each free CPU and
 * take chunks here too until none is left; a small bio is one walk, run
 * here. A helper that cannot be allocated without waiting is not needed:
 * the walks that exist take its chunks.
 */
static void vault_io_crypt(struct vault_io *io, unsigned int ctx)
{
	struct vault_c *vc = io->vc;
	struct vault_walk *w0 = &io->walk;
	unsigned int nr = vault_nr_walks(vc, w0);
	unsigned int i;

	atomic_set(&io->pending, 1);
	io->nr_chunks = 0;
	io->helpers = NULL;
	if (nr > 1) {
		io->split_in = w0->iter_in;
		io->split_out = w0->iter_out;
		io->split_iv = w0->iv_sector;
		io->nr_chunks = DIV_ROUND_UP(w0->iter_in.bi_size,
					     VAULT_SPLIT_CHUNK);
		atomic_set(&io->next_chunk, 0);
		vault_walk_claim(w0);
	}
	for (i = 1; i < nr; i++) {
		struct vault_walk *w;

		w = mempool_alloc(&vc->walk_pool, GFP_NOWAIT | __GFP_NOWARN);
		if (!w)
			break;
		vault_walk_init(w, io);
		w->busy = true;
		atomic_inc(&vault_busy_walks);
		w->iter_in.bi_size = 0;
		atomic_set(&w->start, VAULT_WALK_QUEUED);
		w->next = io->helpers;
		io->helpers = w;
		atomic_inc(&io->pending);
		queue_work(vc->crypt_wq, &w->work);
	}
	vault_walk_run(w0, ctx);
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
 * A clone holding bounce pages for the whole write. Outside a worker
 * nothing waits: NULL means "retry from the write workqueue".
 */
static struct bio *vault_alloc_bounce(struct vault_io *io, unsigned int ctx)
{
	struct vault_c *vc = io->vc;
	unsigned int size = io->bio->bi_iter.bi_size;
	bool may_block = ctx & VAULT_CTX_SLEEP;
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

/*
 * A write clone sent down from a worker: the submitter asked not to be
 * blocked (REQ_NOWAIT) and no longer is, so the lower device may wait for
 * a tag rather than fail the whole write with BLK_STS_AGAIN.
 */
static void vault_submit_write(struct vault_io *io, unsigned int ctx)
{
	if (ctx & VAULT_CTX_SLEEP)
		io->out->bi_opf &= ~REQ_NOWAIT;
	dm_submit_bio_remap(io->bio, io->out);
}

static void vault_io_submit_work(struct work_struct *work)
{
	struct vault_io *io = container_of(work, struct vault_io, work);

	vault_submit_write(io, VAULT_CTX_WORKER);
}

static void vault_io_finish(struct vault_io *io, unsigned int ctx)
{
	struct bio *bio = io->bio;
	blk_status_t status = READ_ONCE(io->status);

	while (io->helpers) {
		struct vault_walk *h = io->helpers;

		io->helpers = h->next;
		mempool_free(h, &io->vc->walk_pool);
	}

	if (io->write) {
		if (unlikely(status)) {
			vault_free_bounce(io->vc, io->out);
			bio->bi_status = status;
			bio_endio(bio);
			return;
		}
		if (ctx & VAULT_CTX_SUBMIT) {
			vault_submit_write(io, ctx);
			return;
		}
		/*
		 * A driver's completion must not submit; the start work that
		 * used io->work has returned or is about to.
		 */
		INIT_WORK(&io->work, vault_io_submit_work);
		queue_work(io->vc->crypt_wq, &io->work);
		return;
	}
	bio->bi_end_io = io->saved_end_io;
	bio->bi_private = io->saved_private;
	if (status)
		bio->bi_status = status;
	bio_endio(bio);
}

/* Start an io's crypto; false if it must be retried from a worker. */
static bool vault_io_start(struct vault_io *io, unsigned int ctx)
{
	if (io->write) {
		struct bio *clone = vault_alloc_bounce(io, ctx);

		if (!clone)
			return false;
		clone->bi_iter.bi_sector = io->vc->start + io->target_sector;
		clone->bi_ioprio = io->bio->bi_ioprio;
		clone->bi_end_io = vault_write_endio;
		clone->bi_private = io;
		io->out = clone;
		io->walk.iter_out = clone->bi_iter;
	}
	vault_io_crypt(io, ctx);
	return true;
}

static void vault_io_work(struct work_struct *work)
{
	vault_io_start(container_of(work, struct vault_io, work),
		       VAULT_CTX_WORKER);
}

/*
 * Writes that may wait for bounce pages start on their own workqueue: the
 * work that gives pages back (walks, submissions after an asynchronous
 * driver) runs on crypt_wq, which never waits for pages, so a waiter can
 * never hold up what it waits for.
 */
static void vault_io_queue(struct vault_io *io)
{
	struct vault_c *vc = io->vc;

	queue_work(io->write ? vc->write_wq : vc->read_wq, &io->work);
}

static void vault_read_bh(struct vault_bh *bh)
{
	vault_io_start(container_of(bh, struct vault_io, bh), 0);
}

static void vault_read_endio(struct bio *bio)
{
	struct vault_io *io = bio->bi_private;

	if (unlikely(bio->bi_status)) {
		io->status = bio->bi_status;
		vault_io_finish(io, 0);
		return;
	}
	if (test_bit(VAULT_F_READ_WQ, &io->vc->flags))
		vault_io_queue(io);
	else if (!in_hardirq() && !irqs_disabled())
		vault_io_start(io, 0);
	/* The size the io started with: the driver advanced bio->bi_iter. */
	else if (io->walk.iter_in.bi_size <= VAULT_INLINE_MAX)
		vault_bh_queue(&io->bh, vault_read_bh);
	else
		vault_io_queue(io);
}

int vault_io_map(struct dm_target *ti, struct bio *bio)
{
	struct vault_c *vc = ti->private;
	unsigned int ss_sectors = vc->block_size >> SECTOR_SHIFT;
	struct vault_io *io = dm_per_bio_data(bio, ti->per_io_data_size);

	/* vault_io_end_io() looks at it for every bio that completes. */
	io->tracked = false;

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

	/* Only whole encryption sectors (of either side) can be transformed. */
	if (unlikely((bio->bi_iter.bi_sector & (ss_sectors - 1)) ||
		     (bio->bi_iter.bi_size & (vc->block_size - 1))))
		return DM_MAPIO_KILL;

	/* Written only when it changes: one store per tick, not per read. */
	if (bio_op(bio) == REQ_OP_READ) {
		unsigned long now = jiffies;

		if (READ_ONCE(vc->last_read) != now)
			WRITE_ONCE(vc->last_read, now);
	} else if (bio->bi_opf & REQ_NOWAIT &&
		   !test_bit(VAULT_F_WRITE_WQ, &vc->flags) &&
		   vault_write_must_yield(vc, bio->bi_iter.bi_size)) {
		/*
		 * It would hold this CPU for the whole bio, unpreempted, while
		 * a reader waits: "would block".  io_uring makes it again from
		 * one of its workers, where map() may yield.
		 */
		bio_wouldblock_error(bio);
		return DM_MAPIO_SUBMITTED;
	}

	io->vc = vc;
	io->bio = bio;
	io->target_sector = dm_target_offset(ti, bio->bi_iter.bi_sector);
	io->cipher = &vc->cipher;
	if (unlikely(vc->re)) {
		switch (vault_reenc_route(vc, bio, io)) {
		case VAULT_ROUTE_GO:
			break;
		case VAULT_ROUTE_HELD:
			return DM_MAPIO_SUBMITTED;
		case VAULT_ROUTE_KILL:
			return DM_MAPIO_KILL;
		}
	}
	vault_io_dispatch(io, bio->bi_opf & REQ_NOWAIT ? VAULT_CTX_SUBMIT :
			  VAULT_CTX_SUBMIT | VAULT_CTX_YIELD);
	return DM_MAPIO_SUBMITTED;
}

/*
 * Start a mapped io whose io->vc, bio, target_sector and cipher are set:
 * from map() (@ctx says whether it may yield), or for a bio held while a
 * re-encryption hotzone moved.
 */
void vault_io_dispatch(struct vault_io *io, unsigned int ctx)
{
	struct vault_c *vc = io->vc;
	struct bio *bio = io->bio;
	sector_t sector = io->target_sector;

	io->status = BLK_STS_OK;
	io->helpers = NULL;
	io->write = bio_op(bio) == REQ_OP_WRITE;
	INIT_WORK(&io->work, vault_io_work);
	vault_walk_init(&io->walk, io);
	io->walk.busy = false;
	io->walk.iter_in = bio->bi_iter;
	io->walk.iv_sector = sector + vc->iv_offset;
	if (test_bit(VAULT_F_IV_LARGE_SECTORS, &vc->flags))
		io->walk.iv_sector >>= io->cipher->sector_shift;

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
		return;
	}

	io->out = NULL;
	/* A large write that may not yield waits for no reader: a worker's. */
	if (test_bit(VAULT_F_WRITE_WQ, &vc->flags) ||
	    (!(ctx & VAULT_CTX_YIELD) &&
	     vault_write_must_yield(vc, bio->bi_iter.bi_size)) ||
	    !vault_io_start(io, ctx))
		vault_io_queue(io);
}

/* Every bio dm handed to map() ends here, flushes and discards too. */
int vault_io_end_io(struct dm_target *ti, struct bio *bio,
		    blk_status_t *error)
{
	struct vault_io *io = dm_per_bio_data(bio, ti->per_io_data_size);

	if (unlikely(io->tracked))
		vault_reenc_end_io(io->vc, io);
	return DM_ENDIO_DONE;
}

int vault_io_init(struct vault_c *vc, const char *devname)
{
	/* WQ_SYSFS: max_active and the CPU mask can be tuned (and tested). */
	unsigned int wq_flags = WQ_MEM_RECLAIM | WQ_SYSFS;
	unsigned int max_active = num_online_cpus();
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
	r = mempool_init_kmalloc_pool(&vc->req_pool, VAULT_MIN_IOS,
				      vc->req_size);
	if (r)
		return r;
	r = ida_alloc_min(&vault_wq_ida, 1, GFP_KERNEL);
	if (r < 0)
		return r;
	vc->wq_id = r;

	/* same_cpu_crypt: stay on the CPU that submitted the bio. */
	if (test_bit(VAULT_F_SAME_CPU_CRYPT, &vc->flags)) {
		wq_flags |= WQ_CPU_INTENSIVE;
		max_active = 1;
	} else {
		wq_flags |= WQ_UNBOUND;
	}
	vc->crypt_wq = alloc_workqueue("kvaultd-%s-%d", wq_flags, max_active,
				       devname, vc->wq_id);
	vc->write_wq = alloc_workqueue("kvaultw-%s-%d", wq_flags, max_active,
				       devname, vc->wq_id);
	vc->read_wq = alloc_workqueue("kvaultr-%s-%d", wq_flags | WQ_HIGHPRI,
				      max_active, devname, vc->wq_id);
	vc->last_read = jiffies - VAULT_READER_WINDOW;
	return vc->crypt_wq && vc->write_wq && vc->read_wq ? 0 : -ENOMEM;
}

/* Copes with a half-initialised vc, as the ctr error path needs. */
void vault_io_destroy(struct vault_c *vc)
{
	/* Write starts queue walks on crypt_wq: drain them first. */
	if (vc->write_wq)
		destroy_workqueue(vc->write_wq);
	vc->write_wq = NULL;
	if (vc->read_wq)
		destroy_workqueue(vc->read_wq);
	vc->read_wq = NULL;
	if (vc->crypt_wq)
		destroy_workqueue(vc->crypt_wq);
	vc->crypt_wq = NULL;
	if (vc->wq_id)
		ida_free(&vault_wq_ida, vc->wq_id);
	vc->wq_id = 0;
	mempool_exit(&vc->req_pool);
	mempool_exit(&vc->walk_pool);
	bioset_exit(&vc->bs);
	vault_bounce_exit(&vc->bounce);
}
