// SPDX-License-Identifier: GPL-2.0-only
/*
 * vault-test-async: a deliberately asynchronous xts(aes), for testing only.
 *
 * Hardware crypto engines complete requests later, from their own context,
 * and refuse work when their queue is full. Virtual machines have none, so
 * this module imitates one: every request completes from a workqueue, and
 * every fourth request that may be backlogged is first answered -EBUSY
 * (backlogged), then -EINPROGRESS, then its result. The work itself is done
 * by the kernel's synchronous xts(aes), so the output is the real cipher's.
 *
 * Its priority is the lowest possible, so only a caller asking for the
 * driver name "xts-aes-vault-test-async" gets it. The same cipher is also
 * registered as "xts-aes-vault-test-allocates", flagged as allocating
 * memory per request, which a storage target must refuse.
 *
 * Module parameters: requests (seen so far), inflight_max (most requests
 * accepted and not yet completed at once; writing resets it).
 */
#include <linux/atomic.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/sysfs.h>
#include <linux/workqueue.h>
#include <crypto/aes.h>
#include <crypto/internal/skcipher.h>

struct vta_ctx {
	struct crypto_skcipher *child;
};

struct vta_req {
	struct work_struct work;
	struct skcipher_request *req;
	bool encrypt;
	bool backlogged;
	struct skcipher_request subreq;	/* last: the child's context follows */
};

static atomic_t vta_counter = ATOMIC_INIT(0);
static atomic_t vta_inflight = ATOMIC_INIT(0);
static atomic_t vta_inflight_max = ATOMIC_INIT(0);
static struct workqueue_struct *vta_wq;

/* Tests read how many requests went through, to prove the path was used. */
static int vta_requests_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&vta_counter));
}

static const struct kernel_param_ops vta_requests_ops = {
	.get = vta_requests_get,
};
module_param_cb(requests, &vta_requests_ops, NULL, 0444);
MODULE_PARM_DESC(requests, "requests seen so far");

/* Tests set it to make every setkey fail, to reach callers' error paths. */
static int setkey_errno;
module_param(setkey_errno, int, 0644);
MODULE_PARM_DESC(setkey_errno, "if 1..4095, setkey fails with -setkey_errno");

/* Tests read how many requests a caller kept in flight at once. */
static int vta_inflight_max_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&vta_inflight_max));
}

static int vta_inflight_max_set(const char *val, const struct kernel_param *kp)
{
	atomic_set(&vta_inflight_max, 0);
	return 0;
}

static const struct kernel_param_ops vta_inflight_max_ops = {
	.get = vta_inflight_max_get,
	.set = vta_inflight_max_set,
};
module_param_cb(inflight_max, &vta_inflight_max_ops, NULL, 0644);
MODULE_PARM_DESC(inflight_max,
		 "most requests in flight at once (write anything to reset)");

static int vta_setkey(struct crypto_skcipher *tfm, const u8 *key,
		      unsigned int keylen)
{
	struct vta_ctx *ctx = crypto_skcipher_ctx(tfm);
	int err = READ_ONCE(setkey_errno);

	if (err > 0 && err < MAX_ERRNO)
		return -err;
	return crypto_skcipher_setkey(ctx->child, key, keylen);
}

static void vta_work(struct work_struct *work)
{
	struct vta_req *rctx = container_of(work, struct vta_req, work);
	struct skcipher_request *req = rctx->req;
	struct vta_ctx *ctx = crypto_skcipher_ctx(crypto_skcipher_reqtfm(req));
	struct skcipher_request *sub = &rctx->subreq;
	int err;

	skcipher_request_set_tfm(sub, ctx->child);
	skcipher_request_set_callback(sub, 0, NULL, NULL);
	skcipher_request_set_crypt(sub, req->src, req->dst, req->cryptlen,
				   req->iv);
	err = rctx->encrypt ? crypto_skcipher_encrypt(sub) :
			      crypto_skcipher_decrypt(sub);

	atomic_dec(&vta_inflight);
	/* Completions run with bottom halves off, as drivers' do. */
	local_bh_disable();
	if (rctx->backlogged)
		skcipher_request_complete(req, -EINPROGRESS);
	skcipher_request_complete(req, err);
	local_bh_enable();
}

static int vta_crypt(struct skcipher_request *req, bool encrypt)
{
	struct vta_req *rctx = skcipher_request_ctx(req);
	int n = atomic_inc_return(&vta_inflight);
	int max = atomic_read(&vta_inflight_max);
	bool backlogged = atomic_inc_return(&vta_counter) % 4 == 0 &&
			  (req->base.flags & CRYPTO_TFM_REQ_MAY_BACKLOG);

	while (n > max && !atomic_try_cmpxchg(&vta_inflight_max, &max, n))
		;
	rctx->req = req;
	rctx->encrypt = encrypt;
	rctx->backlogged = backlogged;
	INIT_WORK(&rctx->work, vta_work);
	queue_work(vta_wq, &rctx->work);
	/* The work item may complete and free REQ already: not one access more. */
	return backlogged ? -EBUSY : -EINPROGRESS;
}

static int vta_encrypt(struct skcipher_request *req)
{
	return vta_crypt(req, true);
}

static int vta_decrypt(struct skcipher_request *req)
{
	return vta_crypt(req, false);
}

static int vta_init(struct crypto_skcipher *tfm)
{
	struct vta_ctx *ctx = crypto_skcipher_ctx(tfm);

	/* A synchronous child, so the work item can finish in one go. */
	ctx->child = crypto_alloc_skcipher("xts(aes)", 0, CRYPTO_ALG_ASYNC);
	if (IS_ERR(ctx->child))
		return PTR_ERR(ctx->child);
	crypto_skcipher_set_reqsize(tfm, sizeof(struct vta_req) +
				    crypto_skcipher_reqsize(ctx->child));
	return 0;
}

static void vta_exit(struct crypto_skcipher *tfm)
{
	struct vta_ctx *ctx = crypto_skcipher_ctx(tfm);

	crypto_free_skcipher(ctx->child);
}

#define VTA_ALG(driver, flags) {					\
	.base.cra_name = "xts(aes)",					\
	.base.cra_driver_name = driver,					\
	.base.cra_priority = 1,						\
	.base.cra_flags = CRYPTO_ALG_ASYNC | (flags),			\
	.base.cra_blocksize = AES_BLOCK_SIZE,				\
	.base.cra_ctxsize = sizeof(struct vta_ctx),			\
	.base.cra_module = THIS_MODULE,					\
	.min_keysize = 2 * AES_MIN_KEY_SIZE,				\
	.max_keysize = 2 * AES_MAX_KEY_SIZE,				\
	.ivsize = AES_BLOCK_SIZE,					\
	.setkey = vta_setkey,						\
	.encrypt = vta_encrypt,						\
	.decrypt = vta_decrypt,						\
	.init = vta_init,						\
	.exit = vta_exit,						\
}

static struct skcipher_alg vta_algs[] = {
	VTA_ALG("xts-aes-vault-test-async", 0),
	VTA_ALG("xts-aes-vault-test-allocates", CRYPTO_ALG_ALLOCATES_MEMORY),
};

static int __init vta_mod_init(void)
{
	int r;

	vta_wq = alloc_workqueue("vault-test-async", WQ_UNBOUND, 0);
	if (!vta_wq)
		return -ENOMEM;
	r = crypto_register_skciphers(vta_algs, ARRAY_SIZE(vta_algs));
	if (r)
		destroy_workqueue(vta_wq);
	return r;
}

static void __exit vta_mod_exit(void)
{
	crypto_unregister_skciphers(vta_algs, ARRAY_SIZE(vta_algs));
	destroy_workqueue(vta_wq);
}

module_init(vta_mod_init);
module_exit(vta_mod_exit);

MODULE_DESCRIPTION("dm-vault tests: an asynchronous xts(aes) that completes from a workqueue");
MODULE_LICENSE("GPL");
