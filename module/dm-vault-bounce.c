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
 * Pages beyond the reserves are capped, every device together, at
 * max_bounce_pages (dm-crypt's 2% of RAM by default), and are allocated
 * without touching the emergency reserves (__GFP_NOMEMALLOC): a writer in
 * reclaim must not drain what reclaim itself needs.
 *
 * Forward progress follows the mempool's argument: the reserve covers the
 * largest clone, only one allocation at a time may wait while holding
 * pages (@waiter), and pages coming back refill the reserve before any is
 * freed. The waiter runs on the device's write workqueue, never on the one
 * that runs the walks and completions which give pages back (see
 * dm-vault-io.c), so it never waits for work queued behind it.
 */
#include <linux/bio.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

#include "dm-vault-core.h"

/*
 * Pages beyond the reserves, every device together. Unset, the limit is
 * dm-crypt's: 2% of RAM (it splits that between its devices).
 */
#define VAULT_BOUNCE_LIMIT_AUTO	ULONG_MAX
static unsigned long vault_bounce_limit = VAULT_BOUNCE_LIMIT_AUTO;
static atomic_long_t vault_bounce_extra = ATOMIC_LONG_INIT(0);
static atomic_long_t vault_bounce_peak = ATOMIC_LONG_INIT(0);

static unsigned long vault_bounce_limit_pages(void)
{
	unsigned long limit = READ_ONCE(vault_bounce_limit);

	if (limit == VAULT_BOUNCE_LIMIT_AUTO)
		limit = totalram_pages() / 50;
	return limit;
}

static int vault_bounce_limit_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%lu\n", vault_bounce_limit_pages());
}

static const struct kernel_param_ops vault_bounce_limit_ops = {
	.set = param_set_ulong,
	.get = vault_bounce_limit_get,
};
module_param_cb(max_bounce_pages, &vault_bounce_limit_ops,
		&vault_bounce_limit, 0644);
MODULE_PARM_DESC(max_bounce_pages,
		 "bounce pages beyond the devices' reserves, all devices together (default 2% of RAM)");

static int vault_bounce_count_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(kp->arg));
}

/* Writing anything restarts the peak from the current count. */
static int vault_bounce_peak_set(const char *val, const struct kernel_param *kp)
{
	atomic_long_set(&vault_bounce_peak,
			atomic_long_read(&vault_bounce_extra));
	return 0;
}

static const struct kernel_param_ops vault_bounce_extra_ops = {
	.get = vault_bounce_count_get,
};
module_param_cb(bounce_pages, &vault_bounce_extra_ops, &vault_bounce_extra,
		0444);
MODULE_PARM_DESC(bounce_pages, "bounce pages beyond the reserves now in use");

static const struct kernel_param_ops vault_bounce_peak_ops = {
	.set = vault_bounce_peak_set,
	.get = vault_bounce_count_get,
};
module_param_cb(bounce_pages_peak, &vault_bounce_peak_ops, &vault_bounce_peak,
		0644);
MODULE_PARM_DESC(bounce_pages_peak,
		 "most bounce pages beyond the reserves in use at once (write to reset)");

static void vault_bounce_extra_put(void)
{
	atomic_long_dec(&vault_bounce_extra);
}

/* Count one page beyond the reserve; false when over the limit. */
static bool vault_bounce_extra_get(void)
{
	long n = atomic_long_inc_return(&vault_bounce_extra);
	long peak = atomic_long_read(&vault_bounce_peak);

	if (n > vault_bounce_limit_pages()) {
		vault_bounce_extra_put();
		return false;
	}
	while (n > peak &&
	       !atomic_long_try_cmpxchg(&vault_bounce_peak, &peak, n))
		;
	return true;
}

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
		if (!vault_bounce_extra_get())
			break;
		page = alloc_page(gfp);
		if (!page) {
			vault_bounce_extra_put();
			break;
		}
		len = min_t(unsigned int, size, PAGE_SIZE);
		__bio_add_page(clone, page, len, 0);
		size -= len;
	}
	return size;
}

/*
 * Fill the empty @clone with pages for @size bytes (at most the reserve).
 * Without @may_block nothing waits: false means "not now", and the caller
 * frees the clone. With @may_block it always succeeds.
 */
bool vault_bounce_fill(struct vault_bounce *b, struct bio *clone,
		       unsigned int size, bool may_block)
{
	unsigned int left = size;

	/* While someone waits, returned pages are its: queue up behind it. */
	if (!mutex_is_locked(&b->waiter)) {
		left = vault_bounce_take(b, clone, left);
		left = vault_bounce_alloc(clone, left, GFP_NOWAIT |
					  __GFP_NOWARN | __GFP_NOMEMALLOC);
		if (!left)
			return true;
		/* Hold nothing while queuing for the mutex. */
		vault_bounce_release(b, clone);
		bio_reset(clone, clone->bi_bdev, clone->bi_opf);
		left = size;
	}
	if (!may_block)
		return false;

	mutex_lock(&b->waiter);
	for (;;) {
		left = vault_bounce_take(b, clone, left);
		left = vault_bounce_alloc(clone, left, GFP_NOIO |
					  __GFP_NORETRY | __GFP_NOWARN |
					  __GFP_NOMEMALLOC);
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
			vault_bounce_extra_put();
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
