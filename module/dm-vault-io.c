// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-vault: the data path.
 *
 * Reads go to the lower device in the bio dm gave us and are decrypted in
 * place when they complete. Writes are encrypted into bounce pages taken
 * from a per-device mempool and sent down in a clone. Each bio owns one
 * crypto request (in its dm per-bio data) and walks its sectors with it; an
 * asynchronous driver's completion resumes the walk from the workqueue.
 */
#include <linux/blkdev.h>
#include <linux/slab.h>
#include <crypto/algapi.h>

#include "dm-vault-core.h"

/* A write clone is at most one full bio of bounce pages. */
#define VAULT_MAX_WRITE_SECTORS	(BIO_MAX_VECS << (PAGE_SHIFT - SECTOR_SHIFT))
#define VAULT_MIN_IOS		64

static struct skcipher_request *vault_io_req(struct vault_io *io)
{
	return (void *)io + io->vc->req_offset;
}

static u8 *vault_io_iv(struct vault_io *io)
{
	struct crypto_skcipher *tfm = io->vc->cipher.tfm;

	return PTR_ALIGN((u8 *)io + io->vc->iv_offset_in_io,
			 crypto_skcipher_alignmask(tfm) + 1);
}

unsigned int vault_io_size(struct vault_c *vc)
{
	struct crypto_skcipher *tfm = vc->cipher.tfm;

	vc->req_offset = ALIGN(sizeof(struct vault_io), CRYPTO_MINALIGN);
	vc->iv_offset_in_io = vc->req_offset + sizeof(struct skcipher_request) +
			      crypto_skcipher_reqsize(tfm);
	return ALIGN(vc->iv_offset_in_io + crypto_skcipher_alignmask(tfm) +
		     max(vc->cipher.iv_size, 1U), ARCH_KMALLOC_MINALIGN);
}

static void vault_io_advance(struct vault_io *io)
{
	struct vault_c *vc = io->vc;

	bio_advance_iter(io->bio, &io->iter_in, vc->sector_size);
	bio_advance_iter(io->out, &io->iter_out, vc->sector_size);
	if (test_bit(VAULT_F_IV_LARGE_SECTORS, &vc->flags))
		io->iv_sector++;
	else
		io->iv_sector += vc->sector_size >> SECTOR_SHIFT;
}

static void vault_crypt_async_done(vault_completion_arg_t arg, int err);

/*
 * Run the crypto over the remaining sectors. Returns false when an
 * asynchronous request now owns the io; its completion resumes the walk.
 */
static bool vault_crypt_run(struct vault_io *io, bool may_resched)
{
	struct vault_c *vc = io->vc;
	struct skcipher_request *req = vault_io_req(io);
	unsigned int ss = vc->sector_size;
	u8 *iv = vault_io_iv(io);

	skcipher_request_set_tfm(req, vc->cipher.tfm);
	skcipher_request_set_callback(req, CRYPTO_TFM_REQ_MAY_BACKLOG,
				      vault_crypt_async_done, io);

	while (!io->status && io->iter_in.bi_size) {
		struct bio_vec in = bio_iter_iovec(io->bio, io->iter_in);
		struct bio_vec out = bio_iter_iovec(io->out, io->iter_out);
		int r;

		/* io_hints make every sector sit inside one page. */
		if (unlikely(in.bv_len < ss || out.bv_len < ss)) {
			io->status = BLK_STS_IOERR;
			break;
		}
		sg_init_table(&io->sg_in, 1);
		sg_set_page(&io->sg_in, in.bv_page, ss, in.bv_offset);
		sg_init_table(&io->sg_out, 1);
		sg_set_page(&io->sg_out, out.bv_page, ss, out.bv_offset);
		vault_cipher_gen_iv(&vc->cipher, iv, io->iv_sector);
		skcipher_request_set_crypt(req, &io->sg_in, &io->sg_out, ss, iv);

		r = io->write ? crypto_skcipher_encrypt(req) :
				crypto_skcipher_decrypt(req);
		if (r == -EINPROGRESS || r == -EBUSY)
			return false;
		if (unlikely(r)) {
			io->status = BLK_STS_IOERR;
			break;
		}
		vault_io_advance(io);
		if (may_resched)
			cond_resched();
	}
	return true;
}

static void vault_free_bounce(struct vault_c *vc, struct bio *clone)
{
	struct bio_vec *bv;
	struct bvec_iter_all iter_all;

	bio_for_each_segment_all(bv, clone, iter_all)
		mempool_free(bv->bv_page, &vc->page_pool);
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
 * A clone holding enough bounce pages for the whole write. Only one caller
 * at a time may wait on the mempool, so that concurrent writers cannot
 * split the reserve between them and all wait for ever. With @may_block
 * false (the submitter's context) nothing waits: NULL means "retry from the
 * workqueue".
 */
static struct bio *vault_alloc_bounce(struct vault_io *io, bool may_block)
{
	struct vault_c *vc = io->vc;
	unsigned int size = io->bio->bi_iter.bi_size;
	unsigned int nr_pages = DIV_ROUND_UP(size, PAGE_SIZE);
	gfp_t gfp = GFP_NOWAIT | __GFP_NOWARN;
	struct bio *clone;
	unsigned int i, len;
	struct page *page;

retry:
	if (gfp & __GFP_DIRECT_RECLAIM)
		mutex_lock(&vc->bounce_lock);
	clone = bio_alloc_bioset(vc->dev->bdev, nr_pages, io->bio->bi_opf,
				 may_block ? GFP_NOIO : GFP_NOWAIT, &vc->bs);
	if (!clone)
		goto fail;
	for (i = 0; i < nr_pages; i++) {
		page = mempool_alloc(&vc->page_pool, gfp);
		if (!page) {
			vault_free_bounce(vc, clone);
			goto fail;
		}
		len = min_t(unsigned int, size, PAGE_SIZE);
		__bio_add_page(clone, page, len, 0);
		size -= len;
	}
	if (gfp & __GFP_DIRECT_RECLAIM)
		mutex_unlock(&vc->bounce_lock);
	return clone;

fail:
	if (gfp & __GFP_DIRECT_RECLAIM)
		mutex_unlock(&vc->bounce_lock);
	if (!may_block || (gfp & __GFP_DIRECT_RECLAIM))
		return NULL;
	gfp = GFP_NOIO;
	goto retry;
}

static void vault_io_finish(struct vault_io *io)
{
	struct bio *bio = io->bio;

	if (io->write) {
		if (unlikely(io->status)) {
			vault_free_bounce(io->vc, io->out);
			bio->bi_status = io->status;
			bio_endio(bio);
			return;
		}
		dm_submit_bio_remap(bio, io->out);
		return;
	}
	bio->bi_end_io = io->saved_end_io;
	bio->bi_private = io->saved_private;
	if (io->status)
		bio->bi_status = io->status;
	bio_endio(bio);
}

/* Start or resume an io; false if it must be retried from the workqueue. */
static bool vault_io_process(struct vault_io *io, bool in_worker)
{
	if (io->write && !io->out) {
		struct bio *clone = vault_alloc_bounce(io, in_worker);

		if (!clone)
			return false;
		clone->bi_iter.bi_sector = io->vc->start + io->target_sector;
		clone->bi_ioprio = io->bio->bi_ioprio;
		clone->bi_end_io = vault_write_endio;
		clone->bi_private = io;
		io->out = clone;
		io->iter_out = clone->bi_iter;
	}
	if (vault_crypt_run(io, in_worker))
		vault_io_finish(io);
	return true;
}

static void vault_io_work(struct work_struct *work)
{
	struct vault_io *io = container_of(work, struct vault_io, work);

	vault_io_process(io, true);
}

static void vault_io_queue(struct vault_io *io)
{
	queue_work(io->vc->crypt_wq, &io->work);
}

static void vault_crypt_async_done(vault_completion_arg_t arg, int err)
{
	struct vault_io *io = vault_completion_data(arg);

	/* A backlogged request has started; its real completion follows. */
	if (err == -EINPROGRESS)
		return;
	if (err)
		io->status = BLK_STS_IOERR;
	else
		vault_io_advance(io);
	vault_io_queue(io);
}

static void vault_read_endio(struct bio *bio)
{
	struct vault_io *io = bio->bi_private;

	if (unlikely(bio->bi_status)) {
		io->status = bio->bi_status;
		vault_io_finish(io);
		return;
	}
	/* Inline decryption needs a context where a completion may run. */
	if (test_bit(VAULT_F_NO_READ_WQ, &io->vc->flags) &&
	    !in_hardirq() && !irqs_disabled())
		vault_io_process(io, false);
	else
		vault_io_queue(io);
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
	io->iv_sector = sector + vc->iv_offset;
	if (test_bit(VAULT_F_IV_LARGE_SECTORS, &vc->flags))
		io->iv_sector >>= vc->sector_shift;
	io->iter_in = bio->bi_iter;
	INIT_WORK(&io->work, vault_io_work);

	if (bio_op(bio) == REQ_OP_READ) {
		io->write = false;
		io->out = bio;
		io->iter_out = bio->bi_iter;
		io->saved_end_io = bio->bi_end_io;
		io->saved_private = bio->bi_private;
		bio->bi_end_io = vault_read_endio;
		bio->bi_private = io;
		bio_set_dev(bio, vc->dev->bdev);
		bio->bi_iter.bi_sector = vc->start + sector;
		dm_submit_bio_remap(bio, NULL);
		return DM_MAPIO_SUBMITTED;
	}

	io->write = true;
	io->out = NULL;
	if (!test_bit(VAULT_F_NO_WRITE_WQ, &vc->flags) ||
	    !vault_io_process(io, false))
		vault_io_queue(io);
	return DM_MAPIO_SUBMITTED;
}

int vault_io_init(struct vault_c *vc, const char *devname)
{
	unsigned int wq_flags = WQ_MEM_RECLAIM;
	int r;

	mutex_init(&vc->bounce_lock);
	r = mempool_init_page_pool(&vc->page_pool, BIO_MAX_VECS, 0);
	if (r)
		return r;
	r = bioset_init(&vc->bs, VAULT_MIN_IOS, 0, BIOSET_NEED_BVECS);
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
	bioset_exit(&vc->bs);
	mempool_exit(&vc->page_pool);
	mutex_destroy(&vc->bounce_lock);
}
