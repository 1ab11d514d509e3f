// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vault-fuzz: a bounded random run against dm-vault's kernel interfaces.
 *
 *   vault-fuzz -d LOWER [-s SEED] [-t SECONDS] [-n ITERATIONS] [-w SECONDS]
 *              [-j THREADS] [-g GROUPS] [-k REGEX] [-S MS] [-M] [-v]
 *
 * Groups (-g, default "abcd"), each in its own thread(s):
 *   a  table lines for target "vault", mutated from valid ones (token
 *      deletion, duplication, replacement by boundary numbers, long strings,
 *      raw bytes), loaded with DM_TABLE_LOAD into a new device, sometimes
 *      resumed and queried, then removed;
 *   b  target messages ("key wipe", "key set ...", "reencrypt hold|step ...",
 *      random words) to a live two-target vault device whose second target
 *      re-encrypts, suspended or not;
 *   c  ioctls on /dev/vault-control from -j threads: random command numbers
 *      and sizes, random structure contents, pointers running into a guard
 *      page, descriptors closed while other threads use them;
 *   d  devices created and removed by one thread while another sends them
 *      messages, suspends, resumes and removes them.
 * Every call must return within -w seconds (a watchdog ends the run with
 * exit 3) and fail only with an errno that says "bad input" or "busy"; a
 * thread reading /dev/kmsg stops the run when a kernel line matches -k
 * (run-all's KLOG_BAD) and prints what every thread was doing.  At the end:
 * no fz-* device is left, no fd-scoped key survives its descriptors, the
 * persistent keys the run added are removed, and a new device still
 * encrypts and reads back.
 *
 * Before the run every valid base line must load (the mutations' starting
 * point works).  -M then empties /proc/sys/kernel/modprobe for the run
 * (restored at the end): under TCG each unknown cipher or device name
 * costs seconds of modprobe calls, which would leave the table group a
 * few loads per second.  Slow calls (-S, default 5000 ms) are reported.
 *
 * The seed is printed first; the same seed replays the same inputs per
 * thread (the interleaving of threads is not replayed; -g and -j 1 narrow
 * it down).  Exit: 0 clean, 1 failure, 2 usage or setup, 3 a call hung.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/dm-ioctl.h>
#include <linux/dm-vault.h>
#include <linux/fs.h>
#include <pthread.h>
#include <regex.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#define PREFIX		"fz-"		/* every device and key the run makes */
#define TABLE_LEN	4096		/* sectors of a valid table */
#define MAX_C_THREADS	8
#define NR_SHARED	4		/* descriptors shared by the c threads */
#define HIST		4		/* inputs remembered per thread */
#define DESC_MAX	768

static struct {
	uint64_t seed;
	unsigned int seconds;
	unsigned long max_iters;
	unsigned int watchdog_s;
	const char *lower;
	const char *groups;
	unsigned int threads;
	const char *klog_bad;
	bool verbose;
	unsigned int slow_ms;
	bool no_modprobe;
} opt = { .seconds = 30, .watchdog_s = 60, .groups = "abcd", .threads = 3,
	.slow_ms = 5000 };

static char lower_devt[32];		/* "MAJ:MIN" of the lower device */
static uint64_t lower_sectors;
static atomic_int stop;
static atomic_ulong total_iters;
static atomic_int failures;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&out_lock);
	fputs("# vault-fuzz: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- random numbers: splitmix64, one state per thread ---- */

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t below(struct rng *r, uint64_t n)
{
	return n ? rnd(r) % n : 0;
}

static bool chance(struct rng *r, unsigned int pct)
{
	return below(r, 100) < pct;
}

#define PICK(r, arr) ((arr)[below((r), sizeof(arr) / sizeof((arr)[0]))])

/* ---- workers: what each thread is doing, for the watchdog and reports ---- */

struct worker {
	char name[16];
	struct rng rng;
	pthread_t thread;
	void *(*fn)(void *);
	atomic_ullong call_start;	/* ms, 0 when no call is in flight */
	const char *_Atomic call;
	unsigned long iters;
	unsigned long ok, refused;	/* calls that succeeded / failed cleanly */
	pthread_mutex_t lock;		/* guards hist */
	char hist[HIST][DESC_MAX];
	unsigned int hist_pos;
};

#define MAX_WORKERS (4 + MAX_C_THREADS)
static struct worker workers[MAX_WORKERS];
static int nr_workers;
static struct worker main_worker = { .name = "main", .lock = PTHREAD_MUTEX_INITIALIZER };

/* Printable form of @s (at most @max bytes shown), for logs. */
static void escape(char *out, size_t outsz, const char *s, size_t max)
{
	size_t o = 0, i;

	for (i = 0; s[i] && i < max && o + 5 < outsz; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, outsz - o, "\\x%02x", c);
	}
	if (s[i] && o + 4 < outsz)
		o += (size_t)snprintf(out + o, outsz - o, "...");
	out[o] = '\0';
}

/* Remember the input about to be sent (and print it with -v). */
static void note(struct worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct worker *w, const char *fmt, ...)
{
	va_list ap;
	char *slot;

	pthread_mutex_lock(&w->lock);
	slot = w->hist[w->hist_pos++ % HIST];
	va_start(ap, fmt);
	vsnprintf(slot, DESC_MAX, fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&w->lock);
	if (opt.verbose)
		say("%s: %s", w->name, slot);
}

static void dump_worker(struct worker *w)
{
	unsigned int i;

	pthread_mutex_lock(&w->lock);
	for (i = HIST; i > 0; i--) {
		const char *h = w->hist[(w->hist_pos + HIST - i) % HIST];

		if (*h)
			say("  %s input[-%u]: %s", w->name, i - 1, h);
	}
	pthread_mutex_unlock(&w->lock);
}

static void dump_all(void)
{
	int i;

	say("seed %" PRIu64 "; last inputs of each thread (newest is [-0]):", opt.seed);
	for (i = 0; i < nr_workers; i++)
		dump_worker(&workers[i]);
	dump_worker(&main_worker);
}

static void enter(struct worker *w, const char *call)
{
	w->call = call;
	atomic_store(&w->call_start, now_ms());
}

/* A slow call is not a failure, but worth a line: it may be the next hang. */
static void leave(struct worker *w)
{
	uint64_t took = now_ms() - atomic_exchange(&w->call_start, 0);

	if (took > opt.slow_ms) {
		say("slow: %s took %.1f s in %s; its input:", w->name, took / 1000.0, w->call);
		dump_worker(w);
	}
}

static void fail(struct worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct worker *w, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* a systematic failure repeats: the first ones tell the story */
	if (atomic_fetch_add(&failures, 1) >= 20)
		return;
	say("FAIL %s: %s (seed %" PRIu64 ")", w->name, msg, opt.seed);
	dump_worker(w);
}

static bool count_iter(struct worker *w)
{
	w->iters++;
	if (atomic_fetch_add(&total_iters, 1) + 1 >= opt.max_iters && opt.max_iters)
		atomic_store(&stop, 1);
	return !atomic_load(&stop);
}

static void modprobe_restore(void);

/* Every call must come back: a call in flight longer than -w ends the run. */
static void *watchdog(void *arg)
{
	(void)arg;
	for (;;) {
		uint64_t t = now_ms();
		int i;

		for (i = -1; i < nr_workers; i++) {
			struct worker *w = i < 0 ? &main_worker : &workers[i];
			uint64_t s = atomic_load(&w->call_start);

			if (s && t > s && t - s > (uint64_t)opt.watchdog_s * 1000) {
				say("WATCHDOG: %s stuck in %s for %" PRIu64 " s", w->name,
				    w->call, (t - s) / 1000);
				dump_all();
				modprobe_restore();
				say("WATCHDOG fired: exiting with status 3");
				_exit(3);
			}
		}
		sleep(1);
	}
	return NULL;
}

/* ---- /dev/kmsg: stop at the first kernel report ---- */

static regex_t klog_re;
static int kmsg_fd = -1;
static atomic_int kmsg_reports;
static unsigned long kmsg_missed;

/* Read what the kernel logged; true while more may come. */
static void kmsg_drain(void)
{
	static int context;	/* lines still to show after a report */
	char rec[8192];

	for (;;) {
		ssize_t n = read(kmsg_fd, rec, sizeof(rec) - 1);
		char *msg, *nl, shown[600];

		if (n < 0 && errno == EPIPE) {
			kmsg_missed++;	/* overwritten before we read it */
			continue;
		}
		if (n <= 0)
			return;
		rec[n] = '\0';
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		nl = strchr(msg, '\n');
		if (nl)
			*nl = '\0';
		escape(shown, sizeof(shown), msg, 400);
		if (!regexec(&klog_re, msg, 0, NULL, 0)) {
			if (atomic_fetch_add(&kmsg_reports, 1) == 0) {
				say("KERNEL REPORT: %s", shown);
				dump_all();
				atomic_store(&stop, 1);
				context = 80;
				continue;
			}
		}
		if (context > 0) {
			context--;
			say("kernel: %s", shown);
		}
	}
}

static void *kmsg_thread(void *arg)
{
	(void)arg;
	for (;;) {
		kmsg_drain();
		usleep(50000);
	}
	return NULL;
}

/* ---- device-mapper ioctls ---- */

#define DM_DATA 32768
struct dmbuf {
	struct dm_ioctl io;
	char data[DM_DATA];
} __attribute__((aligned(8)));

static void dm_init(struct dmbuf *b, const char *name, size_t data_size)
{
	memset(&b->io, 0, sizeof(b->io));
	b->io.version[0] = DM_VERSION_MAJOR;
	b->io.data_size = (uint32_t)(sizeof(b->io) + data_size);
	b->io.data_start = sizeof(b->io);
	snprintf(b->io.name, sizeof(b->io.name), "%s", name);
}

/* 0 or the errno of the call. */
static int dm_call(struct worker *w, int ctl, unsigned long cmd, struct dmbuf *b,
		   const char *what)
{
	int r;

	enter(w, what);
	r = ioctl(ctl, cmd, &b->io) ? errno : 0;
	leave(w);
	if (r)
		w->refused++;
	else
		w->ok++;
	return r;
}

/*
 * Errors that mean "bad input", "no such thing" or "busy": fine answers.
 * EOVERFLOW is dm core's answer to a MAJ:MIN beyond dev_t's range;
 * ESTALE, the target's to "reencrypt step <n> held" without that hold.
 */
static bool dm_errno_clean(int e)
{
	switch (e) {
	case 0: case EINVAL: case ENXIO: case ENOENT: case ENODEV: case ENOTBLK:
	case ENOKEY: case EBUSY: case EEXIST: case EAGAIN: case ENAMETOOLONG:
	case EOPNOTSUPP: case EOVERFLOW: case ESTALE:
		return true;
	default:
		return false;
	}
}

static int dm_check(struct worker *w, int ctl, unsigned long cmd, struct dmbuf *b,
		    const char *what)
{
	int e = dm_call(w, ctl, cmd, b, what);

	if (!dm_errno_clean(e))
		fail(w, "%s %s: unexpected error %s", what, b->io.name, strerror(e));
	return e;
}

static int dm_simple(struct worker *w, int ctl, unsigned long cmd, const char *name,
		     uint32_t flags, const char *what)
{
	struct dmbuf *b = malloc(sizeof(*b));
	int e;

	if (!b)
		return ENOMEM;
	dm_init(b, name, 1024);
	b->io.flags = flags;
	e = dm_check(w, ctl, cmd, b, what);
	free(b);
	return e;
}

struct target {
	uint64_t start, len;
	const char *params;
};

static int dm_load(struct worker *w, int ctl, const char *name, const struct target *t,
		   int nt)
{
	struct dmbuf *b = malloc(sizeof(*b));
	size_t off = 0;
	int i, e;

	if (!b)
		return ENOMEM;
	dm_init(b, name, DM_DATA);
	for (i = 0; i < nt; i++) {
		struct dm_target_spec *spec = (void *)(b->data + off);
		size_t plen = strlen(t[i].params) + 1;
		size_t next = (sizeof(*spec) + plen + 7) & ~(size_t)7;

		if (off + next > DM_DATA) {
			free(b);
			return E2BIG;
		}
		memset(spec, 0, sizeof(*spec));
		spec->sector_start = t[i].start;
		spec->length = t[i].len;
		strcpy(spec->target_type, "vault");
		memcpy(spec + 1, t[i].params, plen);
		spec->next = (uint32_t)next;
		off += next;
	}
	b->io.target_count = (uint32_t)nt;
	e = dm_check(w, ctl, DM_TABLE_LOAD, b, "DM_TABLE_LOAD");
	free(b);
	return e;
}

/* DM_TABLE_STATUS with a data area of @space bytes (small ones truncate). */
static int dm_status(struct worker *w, int ctl, const char *name, bool table, size_t space)
{
	struct dmbuf *b = malloc(sizeof(*b));
	int e;

	if (!b)
		return ENOMEM;
	dm_init(b, name, space);
	b->io.flags = table ? DM_STATUS_TABLE_FLAG : 0;
	e = dm_check(w, ctl, DM_TABLE_STATUS, b, "DM_TABLE_STATUS");
	free(b);
	return e;
}

static int dm_message(struct worker *w, int ctl, const char *name, uint64_t sector,
		      const char *msg)
{
	struct dmbuf *b = malloc(sizeof(*b));
	struct dm_target_msg *tm;
	size_t len = strlen(msg) + 1;
	int e;

	if (!b)
		return ENOMEM;
	if (len > DM_DATA - sizeof(*tm))
		len = DM_DATA - sizeof(*tm);
	dm_init(b, name, sizeof(*tm) + len);
	tm = (void *)b->data;
	tm->sector = sector;
	memcpy(tm->message, msg, len);
	tm->message[len - 1] = '\0';
	e = dm_check(w, ctl, DM_TARGET_MSG, b, "DM_TARGET_MSG");
	free(b);
	return e;
}

static int dm_open_control(void)
{
	int fd = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		say("cannot open /dev/mapper/control: %s", strerror(errno));
	return fd;
}

/* ---- fuzz input: table lines and messages ---- */

static const char *const base_lines[] = {
	"aes-xts-plain64 key:" PREFIX "k64 0 @ 0",
	"aes-xts-plain64 key:" PREFIX "k32 8 @ 8 1 allow_discards",
	"aes-cbc-essiv:sha256 key:" PREFIX "k32 0 @ 0 2 same_cpu_crypt sector_size:4096",
	"capi:xts(aes)-plain64 key:" PREFIX "k64 0 @ 0 3 sector_size:1024 iv_large_sectors no_read_workqueue",
	"aes-xts-plain64be key:" PREFIX "k64 0 @ 0 2 read_workqueue write_workqueue",
	"aes-cbc-plain key:" PREFIX "k16 0 @ 0",
	"aes-xts-null key:" PREFIX "k32 0 @ 0 1 no_write_workqueue",
	"cipher_null-ecb - 0 @ 0",
	"capi:ecb(cipher_null)-plain64 - 0 @ 0",
	"aes-xts-plain64 key:" PREFIX "k64 0 @ 0 4 reencrypt aes-cbc-essiv:sha256 key:" PREFIX "k32 2048",
	"aes-cbc-essiv:sha256 key:" PREFIX "k32 8 @ 8 5 sector_size:4096 reencrypt capi:ecb(cipher_null)-plain64 - 8",
	"aes-xts-plain64 key:" PREFIX "k64 0 @ 0 5 reencrypt aes-xts-plain64 key:" PREFIX "k32 2048 new_sector_size:4096",
	"aes-xts-plain64 key:" PREFIX "k64 8 @ 8 6 sector_size:4096 new_sector_size:1024 reencrypt aes-cbc-essiv:sha256 key:" PREFIX "k32 8",
};

static const char *const numbers[] = {
	"0", "1", "-1", "-0", "+1", "7", "8", "4095", "4096", "8192", "4294967295",
	"4294967296", "9223372036854775807", "9223372036854775808",
	"18446744073709551615", "18446744073709551616", "99999999999999999999999999",
	"0x10", "010", "1.5", "1e9", "00000000000000000000000000000008",
};

static const char *const cipher_specs[] = {
	"aes", "aes-", "aes--", "-", "--", "aes-xts", "aes-xts-", "aes-xts-plain65",
	"aes:1-xts-plain64", "aes:2-xts-plain64", "aes:-xts-plain64", "aes:0-xts-plain64",
	"aes-ecb", "aes-ecb-null", "aes-ecb-plain64", "aes-cbc-essiv", "aes-cbc-essiv:",
	"aes-cbc-essiv:sha256:x", "aes-cbc-essiv:no-such-hash", "aes-xts-plain64:sha256",
	"aes-cbc-essiv:sha256", "capi:", "capi:-", "capi:-plain64", "capi:xts(aes)",
	"capi:xts(aes)-", "capi:xts(aes)-essiv", "capi:xts(aes)-essiv:",
	"capi:cbc(aes)-essiv:sha256", "capi:essiv(cbc(aes),sha256)-plain64",
	"capi:xts(aes)-plain64:x", "capi:ecb(cipher_null)", "capi:ecb(cipher_null)-null",
	"capi:cbc(cipher_null)-plain64", "xts(aes)-plain64", "des-cbc-plain",
	"des3_ede-cbc-plain64", "twofish-xts-plain64", "serpent-cbc-essiv:sha1",
	"capi:adiantum(xchacha12,aes)-plain64", "xchacha12,aes-adiantum-plain64",
	"capi:authenc(hmac(sha256),xts(aes))-random", "capi:rfc4309(ccm(aes))-plain64",
	"capi:gcm(aes)-plain64", "capi:chacha20-plain64", "capi:ctr(aes)-plain",
	"capi:sha256-plain64", "capi:xts(sha256)-plain64", "capi:xts(xts(aes))-plain64",
	"aes-xts-plain64-extra", "aes-xts-plain64:", "capi:xts(aes)-plain64-",
	"capi:(((((((((((((((((((((((((-plain64", "capi:xts(aes-plain64",
	"cipher_null-ecb-null", "cipher_null-cbc-plain64", "aes-xts-essiv:sha256",
};

static const char *const key_refs[] = {
	"key:", "key:" PREFIX "k64", "key:" PREFIX "k32", "key:" PREFIX "k16",
	"key:" PREFIX "c0", "key:" PREFIX "c1", "key:nope", "-", "--", "key:-",
	"key:a/b", "key:a b", "key:\xff", "KEY:" PREFIX "k64", "key:key:" PREFIX "k64",
	"key:" PREFIX "k64\\", "key\\:" PREFIX "k64",
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	"0123456789ABCDEF0123456789abcdef", "0", "00",
	":32:logon:foo", ":64:user:x",
};

static const char *const options[] = {
	"allow_discards", "same_cpu_crypt", "no_read_workqueue", "no_write_workqueue",
	"read_workqueue", "write_workqueue", "iv_large_sectors", "sector_size:",
	"sector_size:512", "sector_size:1024", "sector_size:4096", "sector_size:8192",
	"sector_size:0", "sector_size:-512", "sector_size:768", "sector_size:4096x",
	"sector_size:18446744073709551616", "sector_size:4294967808", "sector_size:+512",
	"sector_size", "integrity:32:aead", "submit_from_crypt_cpus", "ALLOW_DISCARDS",
	"allow_discards:1", "reencrypt", "reencrypt:", "REENCRYPT",
	"new_sector_size:", "new_sector_size:512", "new_sector_size:4096",
	"new_sector_size:2048", "new_sector_size:8192", "new_sector_size:768",
	"new_sector_size:0", "new_sector_size:-4096", "new_sector_size:4096x",
	"new_sector_size:18446744073709551616", "new_sector_size", "NEW_SECTOR_SIZE:4096",
};

static const char *const devices[] = {
	"/dev/null", "/dev/vault-control", "/dev/mapper/control", "0:0", "1:99999",
	"4294967295:4294967295", "/nonexistent", "/dev/", "/dev/ram1", "-1:-1", "1:",
	":", "/dev/mapper/" PREFIX "live", "/proc/self/fd/0", "%",
};

struct tokens {
	int n;
	char *t[64];
};

static void tok_free(struct tokens *tk)
{
	while (tk->n)
		free(tk->t[--tk->n]);
}

static void tok_split(struct tokens *tk, const char *line)
{
	char *copy = strdup(line), *save = NULL, *p;

	tk->n = 0;
	for (p = strtok_r(copy, " ", &save); p && tk->n < 64; p = strtok_r(NULL, " ", &save))
		tk->t[tk->n++] = strdup(strcmp(p, "@") ? p : opt.lower);
	free(copy);
}

static char *tok_join(const struct tokens *tk, struct rng *r)
{
	size_t len = 1;
	char *s, *o;
	int i;

	for (i = 0; i < tk->n; i++)
		len += strlen(tk->t[i]) + 3;
	s = o = malloc(len + 4);
	if (chance(r, 3))
		*o++ = chance(r, 50) ? '\t' : ' ';
	for (i = 0; i < tk->n; i++) {
		size_t l = strlen(tk->t[i]);

		if (i)
			*o++ = chance(r, 3) ? '\t' : ' ';
		memcpy(o, tk->t[i], l);
		o += l;
	}
	if (chance(r, 3))
		*o++ = ' ';
	*o = '\0';
	return s;
}

/* A token that is not one of the pools: long, raw bytes or punctuation. */
static char *random_token(struct rng *r)
{
	size_t len, i;
	char *s;

	switch (below(r, 4)) {
	case 0:	/* long, one letter repeated or printable noise */
		len = 1 + below(r, chance(r, 20) ? 12000 : 300);
		s = malloc(len + 1);
		for (i = 0; i < len; i++)
			s[i] = (char)(chance(r, 50) ? 'A' : 0x21 + below(r, 0x5e));
		break;
	case 1:	/* raw bytes, not UTF-8, no NUL */
		len = 1 + below(r, 64);
		s = malloc(len + 1);
		for (i = 0; i < len; i++)
			s[i] = (char)(1 + below(r, 255));
		break;
	case 2:	/* separators and escapes */
		len = 1 + below(r, 8);
		s = malloc(len + 1);
		for (i = 0; i < len; i++)
			s[i] = PICK(r, ((const char[]){ '\\', ':', '-', '(', ')', ',', '\t',
							'\n', ' ', '%', '\x7f', '\xc0' }));
		break;
	default:	/* a valid key name of maximal length, or one too long */
		len = 4 + 59 + below(r, 2);
		s = malloc(len + 1);
		memcpy(s, "key:", 4);
		for (i = 4; i < len; i++)
			s[i] = 'k';
		break;
	}
	s[len] = '\0';
	if (s[0] == '@')
		s[0] = 'x';
	return s;
}

static char *pool_token(struct rng *r)
{
	switch (below(r, 6)) {
	case 0: return strdup(PICK(r, numbers));
	case 1: return strdup(PICK(r, cipher_specs));
	case 2: return strdup(PICK(r, key_refs));
	case 3: return strdup(PICK(r, options));
	case 4: return strdup(chance(r, 50) ? PICK(r, devices) :
			      chance(r, 50) ? lower_devt : opt.lower);
	default: return random_token(r);
	}
}

/* One random change to a token list. */
static void mutate(struct tokens *tk, struct rng *r)
{
	int i = tk->n ? (int)below(r, (uint64_t)tk->n) : 0;
	size_t l;
	char *s;

	switch (below(r, 9)) {
	case 0:	/* delete */
		if (!tk->n)
			return;
		free(tk->t[i]);
		memmove(&tk->t[i], &tk->t[i + 1], (size_t)(tk->n - i - 1) * sizeof(char *));
		tk->n--;
		break;
	case 1:	/* duplicate, possibly many times */
		if (!tk->n)
			return;
		for (l = 1 + below(r, chance(r, 10) ? 40 : 2); l && tk->n < 64; l--) {
			memmove(&tk->t[i + 1], &tk->t[i], (size_t)(tk->n - i) * sizeof(char *));
			tk->t[i + 1] = strdup(tk->t[i]);
			tk->n++;
		}
		break;
	case 2: case 3:	/* replace */
		if (!tk->n)
			return;
		free(tk->t[i]);
		tk->t[i] = pool_token(r);
		break;
	case 4:	/* insert */
		if (tk->n >= 64)
			return;
		i = (int)below(r, (uint64_t)tk->n + 1);
		memmove(&tk->t[i + 1], &tk->t[i], (size_t)(tk->n - i) * sizeof(char *));
		tk->t[i] = pool_token(r);
		tk->n++;
		break;
	case 5:	/* swap two */
		if (tk->n > 1) {
			int j = (int)below(r, (uint64_t)tk->n);

			s = tk->t[i];
			tk->t[i] = tk->t[j];
			tk->t[j] = s;
		}
		break;
	case 6:	/* truncate the line */
		while (tk->n > i)
			free(tk->t[--tk->n]);
		break;
	case 7:	/* flip a bit or cut a token short */
		if (!tk->n || !(l = strlen(tk->t[i])))
			return;
		if (chance(r, 50))
			tk->t[i][below(r, l)] ^= (char)(1 << below(r, 8));
		else
			tk->t[i][below(r, l)] = '\0';
		if (!tk->t[i][0] || tk->t[i][0] == '@')
			tk->t[i][0] = 'x';
		break;
	default:	/* the optional-argument count (or its absence) */
		if (tk->n > 5) {
			free(tk->t[5]);
			tk->t[5] = strdup(PICK(r, numbers));
		} else if (tk->n == 5) {
			tk->t[tk->n++] = strdup(PICK(r, numbers));
		}
		break;
	}
}

/* A table line: a valid one, changed 1-4 times (or not at all, 5%). */
static char *table_line(struct rng *r)
{
	struct tokens tk;
	unsigned int m;
	char *line;

	tok_split(&tk, PICK(r, base_lines));
	if (!chance(r, 5))
		for (m = 1 + below(r, 4); m; m--)
			mutate(&tk, r);
	line = tok_join(&tk, r);
	tok_free(&tk);
	return line;
}

static uint64_t table_length(struct rng *r)
{
	static const uint64_t lens[] = { 0, 1, 2, 7, 8, 9, 4095, 4097, 8192, 8193,
					 1ULL << 40, UINT64_MAX / 512, UINT64_MAX };

	if (chance(r, 80))
		return TABLE_LEN;
	if (chance(r, 50))
		return chance(r, 50) ? lower_sectors : lower_sectors + 8;
	return chance(r, 70) ? PICK(r, lens) : rnd(r);
}

static const char *const msg_words[] = {
	"key", "KEY", "Key", "wipe", "WIPE", "set", "SET", "key:" PREFIX "k64",
	"key:" PREFIX "k32", "key:" PREFIX "k16", "key:" PREFIX "c0", "key:" PREFIX "c1",
	"key:", "-", "key:nope", "0", "-1", "18446744073709551616", "\\", "\"", "''",
	"reencrypt", "step", "status", "8", "2048", "4096", "hold", "held", "release",
};

static const char *const messages[] = {
	"key wipe", "key set key:" PREFIX "k64", "key set key:" PREFIX "k32",
	"key set key:" PREFIX "k16", "key set key:" PREFIX "c0", "key set -",
	"key set key:nope", "key set", "key", "", "key wipe now", "key set key:" PREFIX "k64 x",
	"key  set   key:" PREFIX "k64", "KEY WIPE", "key set key:", "key set key:a/b",
	"key set 00112233445566778899aabbccddeeff", "key wipe wipe", "wipe key",
	"key set key:" PREFIX "k32 key:" PREFIX "k64", "key set key:" PREFIX "k64 key:" PREFIX "k32",
	"reencrypt step 8", "reencrypt step 1024", "reencrypt step 4096", "reencrypt status",
	"reencrypt step", "reencrypt", "reencrypt step 0", "reencrypt step 7",
	"reencrypt step 18446744073709551615", "reencrypt status now", "reencrypt frob",
	"reencrypt hold 8", "reencrypt hold 2048", "reencrypt step 8 held", "reencrypt step 2048 held",
	"reencrypt release", "reencrypt hold", "reencrypt step 8 hold", "reencrypt release 8",
};

/* A message: a known one, words from the pool, or noise. */
static char *message_text(struct rng *r)
{
	struct tokens tk;
	unsigned int n;
	char *s;

	tk.n = 0;
	if (chance(r, 40)) {
		tok_split(&tk, PICK(r, messages));
		if (chance(r, 30))
			mutate(&tk, r);
	} else {
		for (n = below(r, 6); n && tk.n < 64; n--)
			tk.t[tk.n++] = chance(r, 70) ? strdup(PICK(r, msg_words)) :
						       random_token(r);
	}
	s = tok_join(&tk, r);
	tok_free(&tk);
	if (s[0] == '@')	/* "@..." are device-mapper's own messages */
		s[0] = 'x';
	return s;
}

static uint64_t message_sector(struct rng *r)
{
	static const uint64_t sectors[] = { 0, 1, 2047, 2048, 2049, TABLE_LEN - 1,
					    TABLE_LEN, UINT64_MAX };

	return chance(r, 60) ? below(r, TABLE_LEN) : PICK(r, sectors);
}

/* ---- /dev/vault-control helpers ---- */

static int vault_open(void)
{
	return open("/dev/" VAULT_CONTROL_NAME, O_RDWR | O_CLOEXEC);
}

static int key_add(int fd, const char *name, const void *key, uint32_t size, uint32_t flags)
{
	struct vault_key_add ka;

	memset(&ka, 0, sizeof(ka));
	snprintf(ka.name, sizeof(ka.name), "%s", name);
	ka.key_ptr = (uintptr_t)key;
	ka.key_size = size;
	ka.flags = flags;
	return ioctl(fd, VAULT_IOC_KEY_ADD, &ka) ? errno : 0;
}

static int key_remove(int fd, const char *name)
{
	struct vault_key_remove kr;

	memset(&kr, 0, sizeof(kr));
	snprintf(kr.name, sizeof(kr.name), "%s", name);
	return ioctl(fd, VAULT_IOC_KEY_REMOVE, &kr) ? errno : 0;
}

/* Number of keys loaded (filled into @infos, VAULT_KEYS_MAX entries), or -errno. */
static int key_list(int fd, struct vault_key_info *infos)
{
	struct vault_key_list kl;

	memset(&kl, 0, sizeof(kl));
	kl.keys_ptr = (uintptr_t)infos;
	kl.capacity = VAULT_KEYS_MAX;
	if (ioctl(fd, VAULT_IOC_KEY_LIST, &kl))
		return -errno;
	return (int)(kl.count < VAULT_KEYS_MAX ? kl.count : VAULT_KEYS_MAX);
}

/*
 * The ioctl loops are cheap and would take most of the guest's two CPUs
 * from the table loads: a short sleep leaves them a fair share.
 */
static void pace(const struct worker *w)
{
	if (!(w->iters % 8))
		usleep(300);
}

/* ---- group a: table lines ---- */

static void *group_a(void *arg)
{
	struct worker *w = arg;
	struct rng *r = &w->rng;
	unsigned long cycle = 0;
	int ctl = dm_open_control();

	if (ctl < 0)
		return NULL;
	while (!atomic_load(&stop)) {
		char name[64];
		unsigned int loads;
		bool loaded = false;

		snprintf(name, sizeof(name), PREFIX "a%lu", cycle++);
		note(w, "create %s", name);
		if (dm_simple(w, ctl, DM_DEV_CREATE, name, 0, "DM_DEV_CREATE"))
			continue;
		/* many loads per device: a remove waits for RCU, slow under TCG */
		for (loads = 1 + below(r, 24); loads && !atomic_load(&stop); loads--) {
			struct target t[2];
			char *p0 = table_line(r), *p1 = NULL, e0[900], e1[300];
			int nt = 1, e;

			t[0].start = 0;
			t[0].len = table_length(r);
			t[0].params = p0;
			if (chance(r, 10)) {	/* two targets, sometimes overlapping */
				p1 = table_line(r);
				nt = 2;
				t[0].len = TABLE_LEN / 2;
				t[1].start = chance(r, 80) ? TABLE_LEN / 2 : below(r, TABLE_LEN);
				t[1].len = TABLE_LEN / 2;
				t[1].params = p1;
			}
			escape(e0, sizeof(e0), p0, 200);
			escape(e1, sizeof(e1), p1 ? p1 : "", 60);
			note(w, "load %s: 0 %" PRIu64 " vault %s%s%s", name, t[0].len, e0,
			     p1 ? " ;; second target: " : "", e1);
			e = dm_load(w, ctl, name, t, nt);
			free(p0);
			free(p1);
			if (!e) {
				loaded = true;
				if (chance(r, 30))
					dm_status(w, ctl, name, chance(r, 50),
						  chance(r, 30) ? below(r, 64) : 4096);
			}
			if (!count_iter(w))
				break;
		}
		if (loaded && chance(r, 30)) {
			note(w, "resume %s", name);
			if (!dm_simple(w, ctl, DM_DEV_SUSPEND, name, 0, "resume")) {
				dm_status(w, ctl, name, chance(r, 50), chance(r, 30) ? 40 : 4096);
				if (chance(r, 30))
					dm_simple(w, ctl, DM_DEV_SUSPEND, name, DM_SUSPEND_FLAG,
						  "suspend");
			}
		} else if (loaded && chance(r, 20)) {
			dm_simple(w, ctl, DM_TABLE_CLEAR, name, 0, "DM_TABLE_CLEAR");
		}
		note(w, "remove %s", name);
		if (dm_simple(w, ctl, DM_DEV_REMOVE, name, 0, "DM_DEV_REMOVE"))
			fail(w, "could not remove %s, which nothing holds open", name);
	}
	close(ctl);
	return NULL;
}

/* ---- group b: messages to a live device ---- */

static int live_create(struct worker *w, int ctl, const char *name)
{
	char p0[256], p1[256];
	struct target t[2] = {
		{ 0, TABLE_LEN / 2, p0 }, { TABLE_LEN / 2, TABLE_LEN / 2, p1 },
	};

	snprintf(p0, sizeof(p0), "aes-xts-plain64 key:" PREFIX "k64 0 %s 0", opt.lower);
	/*
	 * the second half re-encrypts to 4096-byte sectors: "reencrypt step"
	 * moves data
	 */
	snprintf(p1, sizeof(p1), "aes-cbc-essiv:sha256 key:" PREFIX "k32 0 %s %u "
		 "5 reencrypt aes-xts-plain64 key:" PREFIX "k64 0 new_sector_size:4096",
		 opt.lower, TABLE_LEN / 2);
	if (dm_simple(w, ctl, DM_DEV_CREATE, name, 0, "DM_DEV_CREATE"))
		return -1;
	if (dm_load(w, ctl, name, t, 2) ||
	    dm_simple(w, ctl, DM_DEV_SUSPEND, name, 0, "resume")) {
		dm_simple(w, ctl, DM_DEV_REMOVE, name, 0, "DM_DEV_REMOVE");
		return -1;
	}
	return 0;
}

/* One random operation on device @name: message, suspend, resume, status. */
static void device_op(struct worker *w, int ctl, const char *name, bool may_remove)
{
	struct rng *r = &w->rng;
	unsigned int what = (unsigned int)below(r, 100);

	if (what < 50) {
		char *msg = message_text(r), shown[400];
		uint64_t sector = message_sector(r);

		escape(shown, sizeof(shown), msg, 300);
		note(w, "message %s sector %" PRIu64 ": \"%s\"", name, sector, shown);
		dm_message(w, ctl, name, sector, msg);
		free(msg);
	} else if (what < 65) {
		note(w, "suspend %s", name);
		dm_simple(w, ctl, DM_DEV_SUSPEND, name,
			  DM_SUSPEND_FLAG | (chance(r, 20) ? DM_NOFLUSH_FLAG : 0), "suspend");
	} else if (what < 80) {
		note(w, "resume %s", name);
		dm_simple(w, ctl, DM_DEV_SUSPEND, name, 0, "resume");
	} else if (what < 92) {
		note(w, "status %s", name);
		dm_status(w, ctl, name, chance(r, 50), chance(r, 20) ? below(r, 48) : 4096);
	} else if (may_remove) {
		note(w, "remove %s", name);
		dm_simple(w, ctl, DM_DEV_REMOVE, name,
			  chance(r, 30) ? DM_DEFERRED_REMOVE : 0, "DM_DEV_REMOVE");
	} else {
		/* a valid key sent while suspended: the way back to a usable device */
		note(w, "suspend + key set + resume %s", name);
		dm_simple(w, ctl, DM_DEV_SUSPEND, name, DM_SUSPEND_FLAG, "suspend");
		dm_message(w, ctl, name, 0, "key set key:" PREFIX "k64");
		dm_message(w, ctl, name, TABLE_LEN / 2,
			   "key set key:" PREFIX "k32 key:" PREFIX "k64");
		dm_simple(w, ctl, DM_DEV_SUSPEND, name, 0, "resume");
	}
}

static void *group_b(void *arg)
{
	struct worker *w = arg;
	int ctl = dm_open_control();

	if (ctl < 0)
		return NULL;
	note(w, "create the live device " PREFIX "live");
	if (live_create(w, ctl, PREFIX "live")) {
		fail(w, "cannot create the live device " PREFIX "live");
		close(ctl);
		return NULL;
	}
	do
		device_op(w, ctl, PREFIX "live", false);
	while (count_iter(w));
	note(w, "remove " PREFIX "live");
	if (dm_simple(w, ctl, DM_DEV_REMOVE, PREFIX "live", 0, "DM_DEV_REMOVE"))
		fail(w, "cannot remove " PREFIX "live");
	close(ctl);
	return NULL;
}

/* ---- group d: create/remove racing messages ---- */

#define D_DEVICES 3

static void *group_d_create(void *arg)
{
	struct worker *w = arg;
	struct rng *r = &w->rng;
	int ctl = dm_open_control();

	if (ctl < 0)
		return NULL;
	do {
		char name[32], p[256];
		struct target t = { 0, TABLE_LEN, p };
		const char *base = PICK(r, base_lines);
		struct tokens tk;
		int i;

		snprintf(name, sizeof(name), PREFIX "d%u", (unsigned int)below(r, D_DEVICES));
		tok_split(&tk, base);
		p[0] = '\0';
		for (i = 0; i < tk.n; i++)
			snprintf(p + strlen(p), sizeof(p) - strlen(p), "%s%s", i ? " " : "",
				 tk.t[i]);
		tok_free(&tk);
		note(w, "create+load+resume %s: %s", name, p);
		if (dm_simple(w, ctl, DM_DEV_CREATE, name, 0, "DM_DEV_CREATE"))
			continue;
		if (!dm_load(w, ctl, name, &t, 1))
			dm_simple(w, ctl, DM_DEV_SUSPEND, name, 0, "resume");
		if (chance(r, 30))
			device_op(w, ctl, name, false);
		note(w, "remove %s", name);
		dm_simple(w, ctl, DM_DEV_REMOVE, name, chance(r, 20) ? DM_DEFERRED_REMOVE : 0,
			  "DM_DEV_REMOVE");
	} while (count_iter(w));
	close(ctl);
	return NULL;
}

static void *group_d_msg(void *arg)
{
	struct worker *w = arg;
	int ctl = dm_open_control();

	if (ctl < 0)
		return NULL;
	do {
		char name[32];

		snprintf(name, sizeof(name), PREFIX "d%u",
			 (unsigned int)below(&w->rng, D_DEVICES));
		device_op(w, ctl, name, true);
		pace(w);
	} while (count_iter(w));
	close(ctl);
	return NULL;
}

/* ---- group c: /dev/vault-control ---- */

static atomic_int shared_fd[NR_SHARED];
static long page_size;

/* Three pages: two usable, then one that faults. */
struct arena {
	unsigned char *base;
	unsigned char *guard;
};

static int arena_init(struct arena *a)
{
	a->base = mmap(NULL, (size_t)page_size * 3, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a->base == MAP_FAILED)
		return -1;
	a->guard = a->base + page_size * 2;
	return mprotect(a->guard, (size_t)page_size, PROT_NONE);
}

/* Room for @size bytes, placed at the start or flush against the guard page. */
static void *arena_place(struct arena *a, struct rng *r, size_t size)
{
	if (size > (size_t)page_size * 2)
		size = (size_t)page_size * 2;
	return chance(r, 50) ? a->base : a->guard - size;
}

static void fill_random(struct rng *r, void *p, size_t n)
{
	unsigned char *c = p;

	while (n--)
		*c++ = (unsigned char)rnd(r);
}

/* A user pointer for the kernel to follow: usually good, sometimes not. */
static uint64_t fuzz_ptr(struct arena *a, struct rng *r, size_t size, bool *good)
{
	static const uint64_t bad[] = { 0, 1, 4095, 0xffffffff81000000ULL,
					0xffff888000000000ULL, UINT64_MAX, 0x800000000000ULL };

	*good = chance(r, 80);
	if (*good)
		return (uintptr_t)arena_place(a, r, size);
	if (chance(r, 50))
		return (uintptr_t)(a->guard - below(r, 64));	/* runs into the guard */
	return PICK(r, bad);
}

static void fuzz_name(struct rng *r, char *name)
{
	memset(name, 0, VAULT_KEY_NAME_MAX);
	switch (below(r, 10)) {
	case 0:	/* no NUL at all */
		memset(name, 'n', VAULT_KEY_NAME_MAX);
		break;
	case 1:	/* the longest valid name */
		memset(name, 'm', VAULT_KEY_NAME_MAX - 1);
		memcpy(name, PREFIX, strlen(PREFIX));
		break;
	case 2:	/* empty */
		break;
	case 3:	/* characters outside the set */
		snprintf(name, VAULT_KEY_NAME_MAX, PREFIX "c%u%c", (unsigned int)below(r, 8),
			 PICK(r, ((const char[]){ '/', ' ', '\xff', '\xe9', '*', '\n', '\x7f' })));
		break;
	case 4:	/* random bytes */
		fill_random(r, name, VAULT_KEY_NAME_MAX);
		if (chance(r, 50))
			name[below(r, VAULT_KEY_NAME_MAX)] = '\0';
		break;
	default:	/* a small pool, so adds and removes meet */
		snprintf(name, VAULT_KEY_NAME_MAX, PREFIX "c%u", (unsigned int)below(r, 8));
		break;
	}
}

static uint32_t fuzz_u32(struct rng *r, const uint32_t *common, size_t n)
{
	static const uint32_t edge[] = { 0, 1, 0x7fffffff, 0x80000000, 0xffffffff };

	if (chance(r, 80))
		return common[below(r, n)];
	return chance(r, 50) ? PICK(r, edge) : (uint32_t)rnd(r);
}

static bool vault_errno_clean(int e, bool shared)
{
	switch (e) {
	case 0: case EINVAL: case EFAULT: case ENOTTY: case EEXIST: case ENOSPC:
	case ENOENT:
		return true;
	case EBADF:	/* a shared descriptor another thread closed */
		return shared;
	default:
		return false;
	}
}

/* ioctl on @fd, timed by the watchdog; errno or 0. */
static int vioctl(struct worker *w, int fd, unsigned long cmd, unsigned long arg)
{
	int e;

	enter(w, "vault-control ioctl");
	e = ioctl(fd, cmd, arg) ? errno : 0;
	leave(w);
	if (e)
		w->refused++;
	else
		w->ok++;
	return e;
}

static void c_key_add(struct worker *w, struct arena *a, int fd, bool shared)
{
	static const uint32_t sizes[] = { 16, 32, 64, 128, 1, 0, 129, 4096 };
	struct rng *r = &w->rng;
	struct vault_key_add *ka = arena_place(a, r, sizeof(*ka));
	char shown[200];
	bool good;
	int e;

	memset(ka, 0, sizeof(*ka));
	fuzz_name(r, ka->name);
	ka->key_size = fuzz_u32(r, sizes, sizeof(sizes) / sizeof(sizes[0]));
	ka->key_ptr = fuzz_ptr(a, r, ka->key_size, &good);
	ka->flags = chance(r, 70) ? 0 : chance(r, 70) ? VAULT_KEY_PERSISTENT : (uint32_t)rnd(r);
	if (chance(r, 10))
		ka->reserved[below(r, 2)] = rnd(r) | 1;
	escape(shown, sizeof(shown), ka->name, VAULT_KEY_NAME_MAX);
	note(w, "KEY_ADD fd %d name \"%s\" ptr 0x%" PRIx64 " size %u flags 0x%x res %#" PRIx64
	     ",%#" PRIx64, fd, shown, (uint64_t)ka->key_ptr, ka->key_size, ka->flags,
	     (uint64_t)ka->reserved[0], (uint64_t)ka->reserved[1]);
	e = vioctl(w, fd, VAULT_IOC_KEY_ADD, (uintptr_t)ka);
	if (!vault_errno_clean(e, shared))
		fail(w, "KEY_ADD: unexpected error %s", strerror(e));
}

static void c_key_remove(struct worker *w, struct arena *a, int fd, bool shared)
{
	struct rng *r = &w->rng;
	struct vault_key_remove *kr = arena_place(a, r, sizeof(*kr));
	char shown[200];
	int e;

	memset(kr, 0, sizeof(*kr));
	fuzz_name(r, kr->name);
	if (chance(r, 10))
		kr->flags = (uint32_t)rnd(r);
	if (chance(r, 10))
		kr->reserved = (uint32_t)rnd(r) | 1;
	escape(shown, sizeof(shown), kr->name, VAULT_KEY_NAME_MAX);
	note(w, "KEY_REMOVE fd %d name \"%s\" flags 0x%x res 0x%x", fd, shown, kr->flags,
	     kr->reserved);
	e = vioctl(w, fd, VAULT_IOC_KEY_REMOVE, (uintptr_t)kr);
	if (!vault_errno_clean(e, shared))
		fail(w, "KEY_REMOVE: unexpected error %s", strerror(e));
}

static void c_key_list(struct worker *w, struct arena *a, int fd, bool shared)
{
	static const uint32_t caps[] = { 0, 1, 2, 8, 63, 64, 65, 1000 };
	struct rng *r = &w->rng;
	struct vault_key_list *kl = (void *)a->base;
	struct vault_key_info *infos;
	uint32_t room, i, filled;
	bool good = true;
	int e;

	memset(kl, 0, sizeof(*kl));
	kl->capacity = fuzz_u32(r, caps, sizeof(caps) / sizeof(caps[0]));
	/* the array may hold fewer entries than capacity says: ends at the guard */
	room = (uint32_t)below(r, (uint64_t)(page_size / sizeof(*infos)) + 1);
	infos = (void *)(a->guard - room * sizeof(*infos));
	if (chance(r, 80))
		kl->keys_ptr = (uintptr_t)infos;
	else
		kl->keys_ptr = fuzz_ptr(a, r, 0, &good);
	if (chance(r, 8))
		kl->flags = (uint32_t)rnd(r);
	if (chance(r, 8))
		kl->reserved[below(r, 3)] = (uint32_t)rnd(r) | 1;
	kl->count = (uint32_t)rnd(r);	/* out only: must be ignored */
	fill_random(r, infos, room * sizeof(*infos));
	note(w, "KEY_LIST fd %d capacity %u room %u ptr 0x%" PRIx64 " flags 0x%x", fd,
	     kl->capacity, room, (uint64_t)kl->keys_ptr, kl->flags);
	e = vioctl(w, fd, VAULT_IOC_KEY_LIST, (uintptr_t)kl);
	if (!vault_errno_clean(e, shared)) {
		fail(w, "KEY_LIST: unexpected error %s", strerror(e));
		return;
	}
	if (e)
		return;
	if (kl->count > VAULT_KEYS_MAX)
		fail(w, "KEY_LIST: count %u above VAULT_KEYS_MAX", kl->count);
	filled = kl->count < kl->capacity ? kl->count : kl->capacity;
	if (kl->keys_ptr != (uintptr_t)infos)
		return;		/* the entries went elsewhere (over *kl, say) */
	if (filled > room) {	/* the copy should have faulted on the guard page */
		fail(w, "KEY_LIST: %u entries filled into room for %u", filled, room);
		return;
	}
	for (i = 0; i < filled; i++)
		if (!memchr(infos[i].name, '\0', sizeof(infos[i].name)) ||
		    infos[i].reserved[0] || infos[i].reserved[1] ||
		    infos[i].flags & ~VAULT_KEY_FLAGS_ALL ||
		    !infos[i].key_size || infos[i].key_size > VAULT_KEY_SIZE_MAX)
			fail(w, "KEY_LIST: entry %u is malformed", i);
}

/* Command numbers: ours with wrong sizes or directions, others of our type, noise. */
static unsigned long fuzz_cmd(struct rng *r)
{
	static const unsigned long ours[] = { VAULT_IOC_VERSION, VAULT_IOC_KEY_ADD,
					      VAULT_IOC_KEY_REMOVE, VAULT_IOC_KEY_LIST };
	unsigned long dir = below(r, 4), nr, size;

	switch (below(r, 4)) {
	case 0:
		return PICK(r, ours);
	case 1:	/* right number, wrong size or direction */
		nr = _IOC_NR(PICK(r, ours));
		size = chance(r, 50) ? below(r, 256) : below(r, 1 << _IOC_SIZEBITS);
		return _IOC(dir, VAULT_IOCTL_MAGIC, nr, size);
	case 2:	/* our type, numbers in and out of the used range */
		nr = chance(r, 50) ? below(r, 8) : below(r, 256);
		return _IOC(dir, VAULT_IOCTL_MAGIC, nr, below(r, 1 << _IOC_SIZEBITS));
	default:	/* anything, but not the VFS's own 'X' (FIFREEZE ...) commands */
		nr = rnd(r) & 0xffffffff;
		if (_IOC_TYPE(nr) == 'X')
			nr ^= 1 << _IOC_TYPESHIFT;
		return nr;
	}
}

static void c_random_ioctl(struct worker *w, struct arena *a, int fd, bool shared)
{
	struct rng *r = &w->rng;
	unsigned long cmd = fuzz_cmd(r), arg;
	size_t size = _IOC_SIZE(cmd);
	void *buf = arena_place(a, r, size);
	int e;

	fill_random(r, buf, size < (size_t)page_size * 2 ? size : (size_t)page_size * 2);
	if (chance(r, 15)) {
		bool good;

		arg = (unsigned long)fuzz_ptr(a, r, size, &good);
	} else {
		arg = (uintptr_t)buf;
	}
	note(w, "ioctl fd %d cmd 0x%lx (dir %lu type 0x%lx nr 0x%lx size %zu) arg 0x%lx", fd,
	     cmd, (unsigned long)_IOC_DIR(cmd), (unsigned long)_IOC_TYPE(cmd),
	     (unsigned long)_IOC_NR(cmd), size, arg);
	e = vioctl(w, fd, cmd, arg);
	/* other types may be the VFS's own generic commands: any answer will do */
	if (_IOC_TYPE(cmd) == VAULT_IOCTL_MAGIC && !vault_errno_clean(e, shared))
		fail(w, "ioctl 0x%lx: unexpected error %s", cmd, strerror(e));
}

static void *group_c(void *arg)
{
	struct worker *w = arg;
	struct rng *r = &w->rng;
	struct arena a;
	int own = vault_open();

	if (own < 0 || arena_init(&a)) {
		fail(w, "cannot open /dev/vault-control or map the arena");
		return NULL;
	}
	do {
		unsigned int what = (unsigned int)below(r, 100);
		bool shared = chance(r, 25);
		int slot = (int)below(r, NR_SHARED);
		int fd = shared ? atomic_load(&shared_fd[slot]) : own;

		if (what < 30) {
			c_key_add(w, &a, fd, shared);
		} else if (what < 48) {
			c_key_remove(w, &a, fd, shared);
		} else if (what < 63) {
			c_key_list(w, &a, fd, shared);
		} else if (what < 85) {
			c_random_ioctl(w, &a, fd, shared);
		} else if (what < 93) {
			/* close our own descriptor: its fd-scoped keys go */
			note(w, "close own fd %d and reopen", own);
			close(own);
			own = vault_open();
			if (own < 0) {
				fail(w, "cannot reopen /dev/vault-control: %s", strerror(errno));
				break;
			}
		} else {
			/* close a shared one while other threads may be in an ioctl on it */
			int nfd = vault_open(), old;

			if (nfd < 0) {
				fail(w, "cannot open /dev/vault-control: %s", strerror(errno));
				break;
			}
			old = atomic_exchange(&shared_fd[slot], nfd);
			note(w, "close shared fd %d (slot %d), new %d", old, slot, nfd);
			close(old);
		}
		pace(w);
	} while (count_iter(w));
	close(own);
	munmap(a.base, (size_t)page_size * 3);
	return NULL;
}

/* ---- setup and final checks ---- */

#define MODPROBE "/proc/sys/kernel/modprobe"
static char modprobe_saved[256];

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* No module autoloading during the run: an empty path fails request_module() at once. */
static int modprobe_disable(void)
{
	int fd = open(MODPROBE, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, modprobe_saved, sizeof(modprobe_saved) - 1);

	if (fd >= 0)
		close(fd);
	if (n <= 1 || write_file(MODPROBE, "\n")) {
		say("cannot read or empty " MODPROBE);
		modprobe_saved[0] = '\0';
		return -1;
	}
	modprobe_saved[n] = '\0';
	return 0;
}

static void modprobe_restore(void)
{
	if (modprobe_saved[0] && write_file(MODPROBE, modprobe_saved))
		say("FAIL: cannot restore " MODPROBE " to %s", modprobe_saved);
}

/*
 * Every valid base line loads: the starting point of the mutations works
 * (and the crypto modules they need are loaded before -M stops autoloading).
 */
static int warm_up(int ctl)
{
	struct worker *w = &main_worker;
	unsigned int i;
	int bad = 0;

	for (i = 0; i < sizeof(base_lines) / sizeof(base_lines[0]); i++) {
		struct tokens tk;
		char p[256] = "";
		struct target t = { 0, TABLE_LEN, p };
		int j, e;

		tok_split(&tk, base_lines[i]);
		for (j = 0; j < tk.n; j++)
			snprintf(p + strlen(p), sizeof(p) - strlen(p), "%s%s", j ? " " : "",
				 tk.t[j]);
		tok_free(&tk);
		note(w, "warm-up: load %s", p);
		if (dm_simple(w, ctl, DM_DEV_CREATE, PREFIX "warm", 0, "DM_DEV_CREATE"))
			return -1;
		e = dm_load(w, ctl, PREFIX "warm", &t, 1);
		if (e) {
			say("FAIL: the valid line \"%s\" does not load: %s", p, strerror(e));
			bad++;
		}
		dm_simple(w, ctl, DM_DEV_REMOVE, PREFIX "warm", 0, "DM_DEV_REMOVE");
	}
	return bad ? -1 : 0;
}

struct key_set {
	int n;
	struct vault_key_info k[VAULT_KEYS_MAX];
};

static bool key_set_has(const struct key_set *s, const char *name)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (!strncmp(s->k[i].name, name, VAULT_KEY_NAME_MAX))
			return true;
	return false;
}

/* Remove every device-mapper device whose name starts with PREFIX. */
static int remove_leftover_devices(int ctl, bool report)
{
	struct worker *w = &main_worker;
	struct dmbuf *b = malloc(sizeof(*b));
	char names[32][DM_NAME_LEN];
	int n = 0, i, left = 0;

	if (!b)
		return -1;
	dm_init(b, "", DM_DATA);
	if (dm_call(w, ctl, DM_LIST_DEVICES, b, "DM_LIST_DEVICES") == 0) {
		struct dm_name_list *nl = (void *)((char *)&b->io + b->io.data_start);

		while (nl->dev && n < 32) {
			if (!strncmp(nl->name, PREFIX, strlen(PREFIX)))
				snprintf(names[n++], DM_NAME_LEN, "%s", nl->name);
			if (!nl->next)
				break;
			nl = (void *)((char *)nl + nl->next);
		}
	}
	free(b);
	for (i = 0; i < n; i++) {
		if (report)
			say("device %s was left behind; removing it", names[i]);
		note(w, "remove leftover %s", names[i]);
		if (dm_simple(w, ctl, DM_DEV_REMOVE, names[i], 0, "DM_DEV_REMOVE"))
			left++;
	}
	return left;
}

/* Write and read back through a new vault device: the module still works. */
static int sanity_check(int ctl)
{
	struct worker *w = &main_worker;
	const size_t len = 65536;
	unsigned char key[64], *data = NULL, *back = NULL;
	char params[256], node[64];
	struct target t = { 0, TABLE_LEN, params };
	struct vault_version v;
	struct dmbuf *b;
	int kfd, fd = -1, ok = -1, e;
	dev_t dev = 0;

	kfd = vault_open();
	if (kfd < 0) {
		say("sanity: cannot open /dev/vault-control: %s", strerror(errno));
		return -1;
	}
	memset(&v, 0, sizeof(v));
	if (ioctl(kfd, VAULT_IOC_VERSION, &v) || v.major != VAULT_VERSION_MAJOR) {
		say("sanity: VAULT_IOC_VERSION failed or wrong major");
		close(kfd);
		return -1;
	}
	fill_random(&w->rng, key, sizeof(key));
	e = key_add(kfd, PREFIX "sanity", key, sizeof(key), 0);
	explicit_bzero(key, sizeof(key));
	if (e) {
		say("sanity: KEY_ADD: %s", strerror(e));
		close(kfd);
		return -1;
	}
	snprintf(params, sizeof(params), "aes-xts-plain64 key:" PREFIX "sanity 0 %s 0",
		 opt.lower);
	note(w, "sanity: create " PREFIX "sanity: %s", params);
	b = malloc(sizeof(*b));
	if (!b || dm_simple(w, ctl, DM_DEV_CREATE, PREFIX "sanity", 0, "DM_DEV_CREATE")) {
		say("sanity: cannot create " PREFIX "sanity");
		goto out;
	}
	if (dm_load(w, ctl, PREFIX "sanity", &t, 1) ||
	    dm_simple(w, ctl, DM_DEV_SUSPEND, PREFIX "sanity", 0, "resume")) {
		say("sanity: cannot load and resume " PREFIX "sanity");
		goto remove;
	}
	dm_init(b, PREFIX "sanity", 1024);
	if (dm_call(w, ctl, DM_DEV_STATUS, b, "DM_DEV_STATUS")) {
		say("sanity: DM_DEV_STATUS failed");
		goto remove;
	}
	dev = (dev_t)b->io.dev;
	snprintf(node, sizeof(node), "/tmp/vault-fuzz.%d", (int)getpid());
	unlink(node);
	if (mknod(node, S_IFBLK | 0600, dev)) {
		say("sanity: mknod %s: %s", node, strerror(errno));
		goto remove;
	}
	fd = open(node, O_RDWR | O_DIRECT | O_CLOEXEC);
	unlink(node);
	if (fd < 0 || posix_memalign((void **)&data, 4096, len) ||
	    posix_memalign((void **)&back, 4096, len)) {
		say("sanity: cannot open the device or allocate buffers");
		goto remove;
	}
	fill_random(&w->rng, data, len);
	enter(w, "sanity I/O");
	if (pwrite(fd, data, len, 0) != (ssize_t)len || fsync(fd) ||
	    pread(fd, back, len, 0) != (ssize_t)len) {
		leave(w);
		say("sanity: I/O on the vault device failed: %s", strerror(errno));
		goto remove;
	}
	leave(w);
	if (memcmp(data, back, len)) {
		say("sanity: data read back differs from data written");
		goto remove;
	}
	ok = 0;
remove:
	if (fd >= 0)
		close(fd);
	if (dm_simple(w, ctl, DM_DEV_REMOVE, PREFIX "sanity", 0, "DM_DEV_REMOVE")) {
		say("sanity: cannot remove " PREFIX "sanity");
		ok = -1;
	}
out:
	free(b);
	free(data);
	free(back);
	close(kfd);
	return ok;
}

static int lower_setup(void)
{
	struct stat st;
	uint64_t bytes;
	int fd;

	if (stat(opt.lower, &st) || !S_ISBLK(st.st_mode)) {
		say("%s is not a block device", opt.lower);
		return -1;
	}
	snprintf(lower_devt, sizeof(lower_devt), "%u:%u", major(st.st_rdev),
		 minor(st.st_rdev));
	fd = open(opt.lower, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, BLKGETSIZE64, &bytes)) {
		say("cannot get the size of %s", opt.lower);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	lower_sectors = bytes >> 9;
	if (lower_sectors < TABLE_LEN + 8) {
		say("%s is too small: %u sectors needed", opt.lower, TABLE_LEN + 8);
		return -1;
	}
	return 0;
}

static void add_worker(const char *name, void *(*fn)(void *))
{
	struct worker *w = &workers[nr_workers];

	snprintf(w->name, sizeof(w->name), "%s", name);
	w->fn = fn;
	/* each thread's inputs depend on the seed and its slot only */
	w->rng.s = opt.seed ^ (0x632be59bd9b4e019ULL * (uint64_t)(nr_workers + 1));
	pthread_mutex_init(&w->lock, NULL);
	nr_workers++;
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s -d LOWER_BLOCK_DEVICE [-s SEED] [-t SECONDS] [-n ITERATIONS]\n"
		"       [-w WATCHDOG_SECONDS] [-j C_THREADS] [-g GROUPS(abcd)] [-k KLOG_REGEX]\n"
		"       [-S SLOW_CALL_MS] [-M] [-v]\n",
		argv0);
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	bool seeded = false;
	int c;

	while ((c = getopt(argc, argv, "d:s:t:n:w:j:g:k:S:Mv")) != -1) {
		switch (c) {
		case 'd': opt.lower = optarg; break;
		case 's': opt.seed = strtoull(optarg, NULL, 0); seeded = true; break;
		case 't': opt.seconds = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'n': opt.max_iters = strtoul(optarg, NULL, 0); break;
		case 'w': opt.watchdog_s = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'j': opt.threads = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'g': opt.groups = optarg; break;
		case 'k': opt.klog_bad = optarg; break;
		case 'S': opt.slow_ms = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'M': opt.no_modprobe = true; break;
		case 'v': opt.verbose = true; break;
		default: usage(argv[0]);
		}
	}
	if (!opt.lower || optind != argc || !opt.watchdog_s || opt.threads > MAX_C_THREADS ||
	    strspn(opt.groups, "abcd") != strlen(opt.groups))
		usage(argv[0]);
	if (!seeded) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		opt.seed = ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)ts.tv_nsec ^
			   ((uint64_t)getpid() << 40);
	}
	main_worker.rng.s = opt.seed;
}

static void kmsg_setup(void)
{
	if (!opt.klog_bad)
		return;
	if (regcomp(&klog_re, opt.klog_bad, REG_EXTENDED | REG_NOSUB)) {
		say("bad -k regular expression");
		exit(2);
	}
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd < 0 || lseek(kmsg_fd, 0, SEEK_END) < 0) {
		say("cannot read /dev/kmsg: %s", strerror(errno));
		exit(2);
	}
}

/* Persistent PREFIX keys of an earlier run that did not finish. */
static void remove_leftover_keys(int kfd)
{
	struct key_set s;
	int i;

	s.n = key_list(kfd, s.k);
	for (i = 0; i < s.n; i++)
		if (!strncmp(s.k[i].name, PREFIX, strlen(PREFIX)) &&
		    memchr(s.k[i].name, '\0', sizeof(s.k[i].name))) {
			say("key %s was left behind; removing it", s.k[i].name);
			key_remove(kfd, s.k[i].name);
		}
}

/* Keys left once every descriptor is closed: fd-scoped ones are a bug. */
static void check_keys(int kfd, const struct key_set *before)
{
	struct key_set now;
	int i;

	now.n = key_list(kfd, now.k);
	if (now.n < 0) {
		say("KEY_LIST failed: %s", strerror(-now.n));
		atomic_fetch_add(&failures, 1);
		return;
	}
	for (i = 0; i < now.n; i++) {
		const struct vault_key_info *k = &now.k[i];
		char shown[200];

		if (key_set_has(before, k->name))
			continue;
		escape(shown, sizeof(shown), k->name, VAULT_KEY_NAME_MAX);
		if (!(k->flags & VAULT_KEY_PERSISTENT)) {
			say("FAIL: fd-scoped key \"%s\" outlived every descriptor", shown);
			atomic_fetch_add(&failures, 1);
		}
		if (key_remove(kfd, k->name)) {
			say("FAIL: cannot remove key \"%s\"", shown);
			atomic_fetch_add(&failures, 1);
		}
	}
}

int main(int argc, char **argv)
{
	static const unsigned char k64[64] = { 1, 2, 3 }, k32[32] = { 4 }, k16[16] = { 5 };
	struct key_set before;
	pthread_t wd, km;
	uint64_t t0, elapsed;
	int ctl, kfd, i;
	unsigned int j;

	setvbuf(stdout, NULL, _IOLBF, 0);
	parse_args(argc, argv);
	page_size = sysconf(_SC_PAGESIZE);
	say("seed %" PRIu64 " (replay: -s %" PRIu64 " -g %s -j %u), %u s, watchdog %u s",
	    opt.seed, opt.seed, opt.groups, opt.threads, opt.seconds, opt.watchdog_s);
	if (lower_setup())
		return 2;
	ctl = dm_open_control();
	kfd = vault_open();
	if (ctl < 0 || kfd < 0) {
		say("cannot open /dev/mapper/control or /dev/" VAULT_CONTROL_NAME);
		return 2;
	}
	remove_leftover_devices(ctl, true);
	remove_leftover_keys(kfd);
	before.n = key_list(kfd, before.k);
	if (before.n < 0) {
		say("KEY_LIST: %s", strerror(-before.n));
		return 2;
	}
	/* the keys valid table lines name; persistent, removed at the end */
	if (key_add(kfd, PREFIX "k64", k64, 64, VAULT_KEY_PERSISTENT) ||
	    key_add(kfd, PREFIX "k32", k32, 32, VAULT_KEY_PERSISTENT) ||
	    key_add(kfd, PREFIX "k16", k16, 16, VAULT_KEY_PERSISTENT)) {
		say("cannot add the " PREFIX "k* keys (left over from an earlier run?)");
		return 2;
	}
	for (j = 0; j < NR_SHARED; j++) {
		atomic_store(&shared_fd[j], vault_open());
		if (atomic_load(&shared_fd[j]) < 0)
			return 2;
	}
	kmsg_setup();
	if (warm_up(ctl))
		return 2;
	if (opt.no_modprobe && modprobe_disable())
		return 2;

	if (strchr(opt.groups, 'a'))
		add_worker("a-tables", group_a);
	if (strchr(opt.groups, 'b'))
		add_worker("b-messages", group_b);
	if (strchr(opt.groups, 'c'))
		for (j = 0; j < opt.threads; j++) {
			char name[24];

			snprintf(name, sizeof(name), "c-ioctl%u", j % 100);
			add_worker(name, group_c);
		}
	if (strchr(opt.groups, 'd')) {
		add_worker("d-create", group_d_create);
		add_worker("d-messages", group_d_msg);
	}
	pthread_create(&wd, NULL, watchdog, NULL);
	if (kmsg_fd >= 0)
		pthread_create(&km, NULL, kmsg_thread, NULL);
	t0 = now_ms();
	for (i = 0; i < nr_workers; i++)
		pthread_create(&workers[i].thread, NULL, workers[i].fn, &workers[i]);
	while (!atomic_load(&stop) && now_ms() - t0 < (uint64_t)opt.seconds * 1000)
		usleep(100000);
	atomic_store(&stop, 1);
	for (i = 0; i < nr_workers; i++)
		pthread_join(workers[i].thread, NULL);
	elapsed = now_ms() - t0;
	if (!elapsed)
		elapsed = 1;
	modprobe_restore();
	for (i = 0; i < nr_workers; i++)
		say("%-11s %7lu iterations (%.1f/s); calls: %lu succeeded, %lu refused",
		    workers[i].name, workers[i].iters, workers[i].iters * 1000.0 / elapsed,
		    workers[i].ok, workers[i].refused);

	/* end state: devices gone, descriptors closed, then what is left */
	if (remove_leftover_devices(ctl, false)) {
		say("FAIL: some " PREFIX "* devices could not be removed");
		atomic_fetch_add(&failures, 1);
	}
	for (j = 0; j < NR_SHARED; j++)
		close(atomic_load(&shared_fd[j]));
	check_keys(kfd, &before);	/* also removes our persistent keys */
	close(kfd);
	if (sanity_check(ctl)) {
		say("FAIL: the module does not work after the run");
		atomic_fetch_add(&failures, 1);
	}
	kfd = vault_open();
	if (kfd >= 0) {
		check_keys(kfd, &before);	/* the sanity key went with its fd */
		close(kfd);
	}
	if (remove_leftover_devices(ctl, true))
		atomic_fetch_add(&failures, 1);
	close(ctl);
	if (kmsg_fd >= 0) {
		usleep(300000);		/* let late reports arrive */
		kmsg_drain();
		if (kmsg_missed)
			say("note: %lu kernel log records were overwritten before being read",
			    kmsg_missed);
	}
	say("%lu iterations in %.1f s, %d failure(s), %d kernel report line(s); seed %" PRIu64,
	    (unsigned long)atomic_load(&total_iters), elapsed / 1000.0,
	    atomic_load(&failures), atomic_load(&kmsg_reports), opt.seed);
	return atomic_load(&failures) || atomic_load(&kmsg_reports) ? 1 : 0;
}
