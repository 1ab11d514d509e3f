// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * luks2: passphrase key derivation (pbkdf2, argon2i, argon2id) and the cost
 * calibration for new keyslots.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <argon2.h>
#include <openssl/evp.h>

#include "luks2_internal.h"

#define DEFAULT_ITER_TIME_MS	2000
#define DEFAULT_ARGON2_MEMORY	(1024 * 1024)	/* KiB */
#define MIN_ARGON2_MEMORY	32
#define MIN_ARGON2_TIME		4
#define MIN_PBKDF2_ITERATIONS	1000

const char *l2_kdf_name(enum luks2_kdf_type t)
{
	switch (t) {
	case LUKS2_KDF_PBKDF2:
		return "pbkdf2";
	case LUKS2_KDF_ARGON2I:
		return "argon2i";
	case LUKS2_KDF_ARGON2ID:
		return "argon2id";
	}
	return "?";
}

int l2_kdf_derive(const struct l2_kdf *k, const char *pass, size_t pass_len,
		  const unsigned char *salt, size_t salt_len, unsigned char *out, size_t out_len)
{
	const EVP_MD *md;
	int r;

	if (pass_len > INT32_MAX || salt_len > INT32_MAX || out_len > INT32_MAX)
		return -EINVAL;
	switch (k->type) {
	case LUKS2_KDF_PBKDF2:
		md = (const EVP_MD *)l2_hash(k->hash);
		if (!md)
			return -EINVAL;
		/* OpenSSL takes an int count */
		if (!k->iterations || k->iterations > INT32_MAX)
			return -EINVAL;
		if (PKCS5_PBKDF2_HMAC(pass, (int)pass_len, salt, (int)salt_len,
				      (int)k->iterations, md, (int)out_len, out) != 1)
			return -EIO;
		return 0;
	case LUKS2_KDF_ARGON2I:
	case LUKS2_KDF_ARGON2ID:
		r = argon2_hash(k->iterations, k->memory_kb, k->parallel, pass, pass_len,
				salt, salt_len, out, out_len, NULL, 0,
				k->type == LUKS2_KDF_ARGON2I ? Argon2_i : Argon2_id,
				ARGON2_VERSION_13);
		if (r == ARGON2_MEMORY_ALLOCATION_ERROR)
			return -ENOMEM;
		return r == ARGON2_OK ? 0 : -EINVAL;
	}
	return -EINVAL;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* Time one derivation with a fixed test passphrase (no secret involved). */
static double time_kdf(const struct l2_kdf *k, size_t key_len)
{
	static const unsigned char salt[L2_SALT_SIZE];
	unsigned char out[LUKS2_VK_MAX];
	double t0 = now_ms();

	if (l2_kdf_derive(k, "calibration", 11, salt, sizeof(salt), out, key_len))
		return -1;
	return now_ms() - t0;
}

uint32_t l2_pbkdf2_calibrate(const char *hash, size_t key_len, uint32_t ms)
{
	struct l2_kdf k = { .type = LUKS2_KDF_PBKDF2, .iterations = MIN_PBKDF2_ITERATIONS };
	double t, it;

	snprintf(k.hash, sizeof(k.hash), "%s", hash);
	for (;;) {
		t = time_kdf(&k, key_len);
		if (t < 0)
			return MIN_PBKDF2_ITERATIONS;
		if (t >= 50 || k.iterations >= (1U << 30))
			break;
		k.iterations *= 2;
	}
	it = (double)k.iterations * ms / (t > 0.001 ? t : 0.001);
	if (it < MIN_PBKDF2_ITERATIONS)
		return MIN_PBKDF2_ITERATIONS;
	if (it > INT32_MAX)
		return INT32_MAX;
	return (uint32_t)it;
}

static uint32_t memory_cap_kb(uint32_t want)
{
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	uint64_t half;

	if (!want)
		want = DEFAULT_ARGON2_MEMORY;
	if (want > L2_ARGON2_MAX_MEMORY)
		want = L2_ARGON2_MAX_MEMORY;
	if (pages > 0 && psize > 0) {
		half = (uint64_t)pages * (uint64_t)psize / 2048;
		if (half < want)
			want = (uint32_t)half;
	}
	return want < MIN_ARGON2_MEMORY ? MIN_ARGON2_MEMORY : want;
}

int l2_kdf_choose(const struct luks2_pbkdf *p, size_t key_len, struct l2_kdf *k)
{
	struct luks2_pbkdf def = { .type = LUKS2_KDF_ARGON2ID };
	uint32_t ms;

	if (!p)
		p = &def;
	memset(k, 0, sizeof(*k));
	k->type = p->type;
	ms = p->iter_time_ms ? p->iter_time_ms : DEFAULT_ITER_TIME_MS;
	if (k->type == LUKS2_KDF_PBKDF2) {
		snprintf(k->hash, sizeof(k->hash), "%s", p->hash ? p->hash : "sha256");
		if (!l2_hash(k->hash))
			return -EINVAL;
		k->iterations = p->iterations ? p->iterations :
				l2_pbkdf2_calibrate(k->hash, key_len, ms);
		return k->iterations > INT32_MAX ? -EINVAL : 0;
	}
	if (k->type != LUKS2_KDF_ARGON2I && k->type != LUKS2_KDF_ARGON2ID)
		return -EINVAL;
	if (p->parallel) {
		k->parallel = p->parallel;
	} else {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		k->parallel = cpus > 4 ? 4 : cpus < 1 ? 1 : (uint32_t)cpus;
	}
	if (k->parallel > L2_ARGON2_MAX_THREADS)
		return -EINVAL;
	k->memory_kb = memory_cap_kb(p->memory_kb);
	if (p->memory_kb && p->memory_kb < MIN_ARGON2_MEMORY)
		return -EINVAL;
	if (k->memory_kb < 8 * k->parallel)
		k->memory_kb = 8 * k->parallel;
	if (p->iterations) {
		k->iterations = p->iterations;
		return 0;
	}
	{
		/*
		 * Cost is about linear in time * memory: measure one pass over a
		 * smaller block, then pick the time cost for the full memory, or,
		 * when even the minimum time cost is too slow, less memory.
		 */
		struct l2_kdf probe = *k;
		double t, per;		/* ms per (pass * KiB) */

		probe.iterations = 1;
		probe.memory_kb = k->memory_kb < 65536 ? k->memory_kb : 65536;
		t = time_kdf(&probe, key_len);
		if (t < 0)
			return -ENOMEM;
		per = (t > 0.01 ? t : 0.01) / probe.memory_kb;
		k->iterations = (uint32_t)(ms / (per * k->memory_kb));
		if (k->iterations < MIN_ARGON2_TIME) {
			double m = ms / (per * MIN_ARGON2_TIME);

			k->iterations = MIN_ARGON2_TIME;
			if (m < k->memory_kb)
				k->memory_kb = m < MIN_ARGON2_MEMORY ? MIN_ARGON2_MEMORY : (uint32_t)m;
			if (k->memory_kb < 8 * k->parallel)
				k->memory_kb = 8 * k->parallel;
		}
		if (k->iterations > 1000000)
			k->iterations = 1000000;
	}
	return 0;
}
