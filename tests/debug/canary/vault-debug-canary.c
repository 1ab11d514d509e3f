// SPDX-License-Identifier: GPL-2.0-only
/*
 * Positive control for `make check-debug` (tests/debug/selftest): loading it
 * makes the debug kernel report one bug of each kind kernel-log-clean must
 * catch.  Never load it anywhere else.
 *
 * Order matters: a KASAN report taints the kernel and that turns lockdep
 * off, so the lock inversion comes first and the KASAN read last.
 */
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>

static DEFINE_MUTEX(canary_a);
static DEFINE_MUTEX(canary_b);
/* Parameters, so that the compiler cannot see through the bugs and drop them. */
static int canary_shift = 40;
module_param(canary_shift, int, 0444);
static int canary_index = 16;
module_param(canary_index, int, 0444);
static void *canary_ptr;

static int __init canary_init(void)
{
	char *buf;

	/* lockdep: a -> b, then b -> a ("possible circular locking"). */
	mutex_lock(&canary_a);
	mutex_lock(&canary_b);
	mutex_unlock(&canary_b);
	mutex_unlock(&canary_a);
	mutex_lock(&canary_b);
	mutex_lock(&canary_a);
	mutex_unlock(&canary_a);
	mutex_unlock(&canary_b);

	/* UBSAN: shift-out-of-bounds. */
	pr_info("vault-debug-canary: 1 << %d = %d\n", canary_shift, 1 << canary_shift);

	/* kmemleak: the only reference is dropped. */
	WRITE_ONCE(canary_ptr, kmalloc(1000, GFP_KERNEL));
	WRITE_ONCE(canary_ptr, NULL);

	/* KASAN: one byte past a 16-byte object. */
	buf = kmalloc(16, GFP_KERNEL);
	if (buf) {
		pr_info("vault-debug-canary: read %d\n", READ_ONCE(buf[canary_index]));
		kfree(buf);
	}
	return 0;
}

static void __exit canary_exit(void)
{
}

module_init(canary_init);
module_exit(canary_exit);
MODULE_DESCRIPTION("dm-vault debug-kernel self-test: makes one report of each kind");
MODULE_LICENSE("GPL");
