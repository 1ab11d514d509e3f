// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-vault: bounce pages for writes.
 *
 * Every write is encrypted into pages of its own. A device keeps a reserve
 * of pages, allocated when the table is loaded, and takes from it first: a
 * steady stream of writes reuses the same pages and never calls the page
 * allocator. (A mempool does the opposite: it allocates every time and
 * touches its reserve only when the allocator fails; under TCG the 256
 * allocations and frees of a 1 MiB write cost a quarter of its time.)
 * Pages needed beyond the reserve come from the allocator and go back to
 * it, so an idle device holds exactly its reserve.
 *
 * Forward progress follows the mempool's argument: the reserve covers the
 * largest clone, only one allocation at a time may wait while holding
 * pages (@waiter), and pages coming back refill the reserve before any is
 * freed.
 */
#include <linux/bio.h>
#include <linux/gfp.h>
#include <linux/slab.h>

#include "dm-vault-core.h"

/* Reserved pages into @clone until @size bytes are covered; the rest. */
static unsigned int vault_bounce_take(struct vault_bounce *b,
				      struct bio *clone, unsigned int size)
{
	unsigned long flags;
	unsigned int len;

	spin_lock_irqsave(&b->lock, flags);
	while (size && b->nr_free) {
		len = min_t(unsigned int, size, PAGE_SIZE);
		__bio_add_page(clone, b->free[--b->nr_free], len, 0);
		size -= len;
	}
	spin_unlock_irqrestore(&b->lock, flags);
	return size;
}

/* Pages from the allocator into @clone; the bytes still uncovered. */
static unsigned int vault_bounce_alloc(struct bio *clone, unsigned int size,
				       gfp_t gfp)
{
	struct page *page;
	unsigned int len;

	while (size) {
		page = alloc_page(gfp);
		if (!page)
			break;
		len = min_t(unsigned int, size, PAGE_SIZE);
		__bio_add_page(clone, page, len, 0);
		size -= len;
	}
	return size;
}

/*
 * Fill the empty @clone with pages for @size bytes (at most the reserve).
 * Without @may_block nothing waits: false means "not now", and the caller
 * frees the clone with what it holds. With @may_block it always succeeds.
 */
bool vault_bounce_fill(struct vault_bounce *b, struct bio *clone,
		       unsigned int size, bool may_block)
{
	unsigned int left;

	left = vault_bounce_take(b, clone, size);
	left = vault_bounce_alloc(clone, left, GFP_NOWAIT | __GFP_NOWARN);
	if (!left)
		return true;
	if (!may_block)
		return false;

	/* Wait holding nothing, then fill again as the only waiter. */
	vault_bounce_release(b, clone);
	bio_reset(clone, clone->bi_bdev, clone->bi_opf);
	left = size;
	mutex_lock(&b->waiter);
	for (;;) {
		left = vault_bounce_take(b, clone, left);
		left = vault_bounce_alloc(clone, left, GFP_NOIO |
					  __GFP_NORETRY | __GFP_NOWARN);
		if (!left)
			break;
		/* Pages in flight come back to the reserve first. */
		wait_event_timeout(b->wait, READ_ONCE(b->nr_free), HZ / 10);
	}
	mutex_unlock(&b->waiter);
	return true;
}

/* Give @clone's pages back: to the reserve while it has room. */
void vault_bounce_release(struct vault_bounce *b, struct bio *clone)
{
	struct bvec_iter_all iter_all;
	struct bio_vec *bv;
	unsigned long flags;
	bool refilled = false;

	spin_lock_irqsave(&b->lock, flags);
	bio_for_each_segment_all(bv, clone, iter_all) {
		if (b->nr_free < b->size) {
			b->free[b->nr_free++] = bv->bv_page;
			refilled = true;
		} else {
			__free_page(bv->bv_page);
		}
	}
	spin_unlock_irqrestore(&b->lock, flags);
	if (refilled && wq_has_sleeper(&b->wait))
		wake_up(&b->wait);
}

int vault_bounce_init(struct vault_bounce *b, unsigned int pages)
{
	spin_lock_init(&b->lock);
	init_waitqueue_head(&b->wait);
	mutex_init(&b->waiter);
	b->nr_free = 0;
	b->size = 0;
	b->free = kcalloc(pages, sizeof(*b->free), GFP_KERNEL);
	if (!b->free)
		return -ENOMEM;
	b->size = pages;
	while (b->nr_free < pages) {
		struct page *page = alloc_page(GFP_KERNEL);

		if (!page)
			return -ENOMEM;
		b->free[b->nr_free++] = page;
	}
	return 0;
}

/* Every page is back by now: the device has no I/O in flight. */
void vault_bounce_exit(struct vault_bounce *b)
{
	while (b->nr_free)
		__free_page(b->free[--b->nr_free]);
	kfree(b->free);
	b->free = NULL;
	b->size = 0;
	mutex_destroy(&b->waiter);
}
