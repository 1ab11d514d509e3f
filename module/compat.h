/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-vault: differences between supported kernels. The Kbuild probes the
 * target kernel's headers and defines VAULT_HAVE_* so that the other files
 * carry no version checks.
 */
#ifndef DM_VAULT_COMPAT_H
#define DM_VAULT_COMPAT_H

#include <linux/crypto.h>
#include <linux/interrupt.h>
#include <linux/workqueue.h>

/* Linux 6.3 passed the request's data pointer to completions directly. */
#ifdef VAULT_HAVE_COMPLETION_DATA
#define vault_completion_arg_t void *
static inline void *vault_completion_data(vault_completion_arg_t arg)
{
	return arg;
}
#else
#define vault_completion_arg_t struct crypto_async_request *
static inline void *vault_completion_data(vault_completion_arg_t arg)
{
	return arg->data;
}
#endif

/* Linux 6.5 gave dm tables a blk_mode_t with its own write bit. */
#ifdef VAULT_HAVE_BLK_MODE
#define VAULT_TABLE_MODE_WRITE	BLK_OPEN_WRITE
#else
#define VAULT_TABLE_MODE_WRITE	FMODE_WRITE
#endif

/*
 * Work run in softirq context soon after a hard interrupt queued it (a
 * small read's decryption): Linux 6.9's BH workqueues, a tasklet before
 * (as dm-crypt does on either).
 */
struct vault_bh;
typedef void (*vault_bh_fn)(struct vault_bh *bh);

#ifdef VAULT_HAVE_BH_WQ
struct vault_bh {
	struct work_struct work;
	vault_bh_fn fn;
};

static inline void vault_bh_work(struct work_struct *work)
{
	struct vault_bh *bh = container_of(work, struct vault_bh, work);

	bh->fn(bh);
}

static inline void vault_bh_queue(struct vault_bh *bh, vault_bh_fn fn)
{
	bh->fn = fn;
	INIT_WORK(&bh->work, vault_bh_work);
	queue_work(system_bh_highpri_wq, &bh->work);
}
#else
struct vault_bh {
	struct tasklet_struct tasklet;
	vault_bh_fn fn;
};

static inline void vault_bh_tasklet(struct tasklet_struct *t)
{
	struct vault_bh *bh = from_tasklet(bh, t, tasklet);

	bh->fn(bh);
}

static inline void vault_bh_queue(struct vault_bh *bh, vault_bh_fn fn)
{
	bh->fn = fn;
	tasklet_setup(&bh->tasklet, vault_bh_tasklet);
	tasklet_schedule(&bh->tasklet);
}
#endif

#endif /* DM_VAULT_COMPAT_H */
