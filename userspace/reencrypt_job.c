// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl reencrypt: the job.  The kernel moves the data (dm-vault's
 * "reencrypt <new_cipher> key:<new> <boundary>" table words, with
 * "new_sector_size:<n>" when the sector size changes, and the
 * "reencrypt hold|step" messages, Documentation/dm-vault.rst); this
 * file keeps LUKS2's re-encryption metadata in step with it, hotzone by
 * hotzone, in cryptsetup's order (luks2/reencrypt_step.c):
 *
 *   "reencrypt hold": hotzone I/O waits until the step has moved it
 *   resilience data + header naming the hotzone   (luks2_reenc_hotzone_begin)
 *   "reencrypt step <n> held": the data, durable on return
 *   checkpoint: the segments moved past it         (luks2_reenc_hotzone_end)
 *
 * Data, then checkpoint; the checksums are read under the hold, so they
 * describe what the step rewrites.  The step runs in this process's context, so its
 * I/O priority (idle class by default) and cgroup apply to the
 * re-encryption I/O; --max-rate pauses between steps.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include "reencrypt_job.h"
#include "reencrypt_progress.h"
#include "secure_mem.h"
#include "tempkey.h"
#include "util.h"

#define IOPRIO_CLASS_SHIFT	13
#define IOPRIO_CLASS_IDLE	3
#define IOPRIO_WHO_PROCESS	1

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* ---- finding the mapping ------------------------------------------------- */

static int vault_luks2_mapping(const char *name, struct reenc_target *tg, bool quiet)
{
	struct vdm_info info;
	struct vdm_table dt;
	int r;

	r = vdm_info(name, &info);
	if (r || !info.exists)
		return -ENODEV;
	r = vdm_table(name, &dt);
	if (r)
		return r;
	if (dt.count != 1 || strcmp(dt.type, VAULT_TARGET) || dt.start) {
		vdm_table_free(&dt);
		if (!quiet)
			log_err("%s is not a dm-vault mapping", name);
		return -ENODEV;
	}
	memset(&tg->t, 0, sizeof(tg->t));
	r = table_parse_params(dt.params, &tg->t);
	tg->len = dt.len;
	vdm_table_free(&dt);
	if (r || parse_devt(tg->t.device, &tg->major, &tg->minor)) {
		log_err("cannot parse the table of %s", name);
		return -EINVAL;
	}
	if (strncmp(info.uuid, UUID_PREFIX_LUKS2, strlen(UUID_PREFIX_LUKS2))) {
		log_err("%s is not a LUKS2 mapping: only a LUKS2 volume can be re-encrypted", name);
		return -EINVAL;
	}
	if (info.suspended) {
		log_err("%s is suspended: resume it first", name);
		return -EBUSY;
	}
	snprintf(tg->name, sizeof(tg->name), "%s", name);
	snprintf(tg->dm_uuid, sizeof(tg->dm_uuid), "%s", info.uuid);
	blkdev_path_by_devt(tg->major, tg->minor, tg->device, sizeof(tg->device));
	tg->online = true;
	return 0;
}

/* A private mapping a killed offline job left: removed when unused. */
static int drop_stale(const char *name, struct reenc_target *tg)
{
	char path[200];
	struct vdm_info info;
	int fd;

	if (vdm_info(name, &info) || !info.exists)
		return 0;
	/* a running job holds the re-encryption lock of the UUID in the name */
	snprintf(path, sizeof(path), "/run/cryptsetup/LN_LUKS2-reencryption-%s",
		 name + strlen(REENC_PRIVATE_PREFIX));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (info.open_count > 0 || (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB))) {
		if (fd >= 0)
			close(fd);
		log_err("%s is in use by %s: another re-encryption job runs", tg->device, name);
		return -EBUSY;
	}
	if (fd >= 0)
		close(fd);
	log_verbose("Removing %s, left by an interrupted job.", name);
	if (vdm_remove(name)) {
		log_err("cannot remove %s, left by an interrupted job", name);
		return -EBUSY;
	}
	return 0;
}

int reenc_find_target(const char *arg, struct reenc_target *tg)
{
	char path[300], name[160];
	struct dirent *e;
	struct stat st;
	FILE *f;
	DIR *d;
	int r;

	memset(tg, 0, sizeof(*tg));
	if (!strchr(arg, '/')) {
		r = vault_luks2_mapping(arg, tg, false);
		if (r != -ENODEV)
			return r;
		if (stat(arg, &st)) {
			log_err("%s is neither an active mapping nor a device", arg);
			return -ENODEV;
		}
	} else if (stat(arg, &st)) {
		return device_stat_error(arg, errno);
	}
	if (!S_ISBLK(st.st_mode)) {
		log_err("%s is not a block device (for an image, attach it with losetup first)", arg);
		return -EINVAL;
	}
	snprintf(tg->device, sizeof(tg->device), "%s", arg);
	tg->major = major(st.st_rdev);
	tg->minor = minor(st.st_rdev);
	/* online when a vault LUKS2 mapping holds the device */
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/holders", tg->major, tg->minor);
	d = opendir(path);
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/block/%s/dm/name", e->d_name);
		f = fopen(path, "re");
		if (!f || !fgets(name, sizeof(name), f)) {
			if (f)
				fclose(f);
			closedir(d);
			log_err("%s is in use by %s, which is not a dm-vault mapping", arg, e->d_name);
			return -EBUSY;
		}
		fclose(f);
		name[strcspn(name, "\n")] = '\0';
		closedir(d);
		if (!strncmp(name, REENC_PRIVATE_PREFIX, strlen(REENC_PRIVATE_PREFIX)))
			return drop_stale(name, tg);
		r = vault_luks2_mapping(name, tg, false);
		if (!r)
			snprintf(tg->device, sizeof(tg->device), "%s", arg);
		else if (r == -ENODEV)
			log_err("%s is in use by mapping %s", arg, name);
		return r;
	}
	if (d)
		closedir(d);
	return 0;
}

int reenc_same_volume(const struct reenc_target *tg, struct luks2 *l)
{
	const char *u = luks2_uuid(l), *p = tg->dm_uuid + strlen(UUID_PREFIX_LUKS2);

	for (; *u; u++) {
		if (*u == '-')
			continue;
		if (*p++ != *u)
			goto bad;
	}
	if (*p == '-')
		return 0;
bad:
	log_err("mapping %s was not opened from the LUKS2 volume on %s (UUID %s)", tg->name,
		tg->device, luks2_uuid(l));
	return -EINVAL;
}

/* ---- cryptsetup's re-encryption lock -------------------------------------- */

/*
 * libcryptsetup 2.6 runs a job under the flock() of
 * /run/cryptsetup/LN_LUKS2-reencryption-<uuid> (non-blocking): taking the
 * same lock keeps vaultctl and cryptsetup off each other's running job.
 */
static int reenc_lock(struct luks2 *l)
{
	char path[160];
	struct stat a, b;
	int fd, i;

	if (mkdir("/run/cryptsetup", 0700) && errno != EEXIST)
		return -1;	/* no lock directory: nothing else locks either */
	snprintf(path, sizeof(path), "/run/cryptsetup/LN_LUKS2-reencryption-%s", luks2_uuid(l));
	for (i = 0; i < 5; i++) {
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return -1;
		if (flock(fd, LOCK_EX | LOCK_NB)) {
			close(fd);
			log_err("a re-encryption of this volume is already running (lock %s)", path);
			return -EBUSY;
		}
		/* whoever unlocked may have unlinked it: the path must name our inode */
		if (!fstat(fd, &a) && !stat(path, &b) && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev)
			return fd;
		close(fd);
	}
	return -1;
}

static void reenc_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* ---- tables ---------------------------------------------------------------- */

/*
 * Loads table T (key OLD, plus the reencrypt words when NEW_CIPHER) into
 * TG->name; NEW_SS, when it is not T's sector size, is the new side's
 * (new_sector_size: the mapping's logical block size becomes the larger).
 */
static int load_table(struct reenc_target *tg, struct vault_table *t, const char *old_key,
		      const char *new_cipher, const char *new_key, uint32_t new_ss,
		      uint64_t boundary, uint64_t len, bool create)
{
	char params[TABLE_PARAMS_MAX];
	int n, r;

	t->nr_extra = 0;
	t->extra[0] = '\0';
	if (new_cipher) {
		/* no-i18n: table parameters */
		n = snprintf(t->extra, sizeof(t->extra), "reencrypt %s key:%s %" PRIu64, new_cipher,
			     new_key, boundary);
		t->nr_extra = 4;
		if (new_ss != t->sector_size && n > 0 && (size_t)n < sizeof(t->extra)) {
			snprintf(t->extra + n, sizeof(t->extra) - (size_t)n, " new_sector_size:%u",
				 new_ss);
			t->nr_extra = 5;
		}
	}
	r = table_build_params(t, old_key, params, sizeof(params));
	if (r) {
		log_err("cannot build the table line: %s", strerror(-r));
		return r;
	}
	log_dbg("table: 0 %" PRIu64 " vault %s", len, params);
	if (create)
		return vdm_create(tg->name, tg->dm_uuid, len, VAULT_TARGET, params, false);
	r = vdm_reload(tg->name, len, VAULT_TARGET, params, false);
	if (r)
		return r;
	r = vdm_resume(tg->name);
	if (r && vdm_clear(tg->name))
		log_err("cannot drop the inactive table of %s", tg->name);
	return r;
}

/* The kernel's "<boundary> <total> <state>" of TG->name; -ENOTSUP: not re-encrypting. */
static int kernel_state(struct reenc_target *tg, uint64_t *boundary, char *state, size_t len)
{
	char reply[128], st[16];
	struct vdm_table vt;
	uint64_t total;
	bool reencrypting;
	int r;

	/* asked only of a re-encrypting table: others log that they are not one */
	if (vdm_table(tg->name, &vt))
		return -ENOTSUP;
	reencrypting = vt.count == 1 && strstr(vt.params, " reencrypt ");
	vdm_table_free(&vt);
	if (!reencrypting)
		return -ENOTSUP;
	r = vdm_message_reply(tg->name, "reencrypt status", reply, sizeof(reply));
	if (r)
		return -ENOTSUP;
	if (sscanf(reply, "%" SCNu64 " %" SCNu64 " %15s", boundary, &total, st) != 3)
		return -EINVAL;
	snprintf(state, len, "%s", st);
	return 0;
}

/* Reads LEN bytes of the lower device at OFF, around the page cache. */
static int read_direct(const char *dev, uint64_t off, unsigned char *buf, size_t len)
{
	ssize_t n;
	size_t got = 0;
	int fd = open(dev, O_RDONLY | O_DIRECT | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	while (got < len) {
		n = pread(fd, buf + got, len - got, (off_t)(off + got));
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	return r;
}

/*
 * "reencrypt hold": from here until the step, I/O to the hotzone waits in
 * the kernel, so the ciphertext read for the resilience data is the
 * ciphertext the step rewrites (and a crash in between finds it intact).
 */
static int kernel_hold(struct reenc_target *tg, uint64_t off, uint64_t len)
{
	char msg[64], reply[128];
	int r;

	snprintf(msg, sizeof(msg), "reencrypt hold %" PRIu64, len / 512);	/* no-i18n: dm message */
	r = vdm_message_reply(tg->name, msg, reply, sizeof(reply));
	if (r)
		log_err("the kernel could not hold the hotzone at %" PRIu64 ": %s (the kernel "
			"log says why)", off, strerror(-r));
	return r;
}

/* Ends a hold whose checksums no header names, without a step. */
static int kernel_release(struct reenc_target *tg)
{
	int r = vdm_message(tg->name, "reencrypt release");

	if (r)
		log_err("cannot release the held hotzone of %s: %s", tg->name, strerror(-r));
	return r;
}

/* "reencrypt step": the data moves, durable when it returns. */
static int kernel_step(struct reenc_target *tg, uint64_t off, uint64_t len, bool held)
{
	char msg[64], reply[128];
	int r;

	/* no-i18n: a dm message */
	snprintf(msg, sizeof(msg), "reencrypt step %" PRIu64 "%s", len / 512, held ? " held" : "");
	r = vdm_message_reply(tg->name, msg, reply, sizeof(reply));
	if (r)
		log_err("the kernel could not move the hotzone at %" PRIu64 ": %s; the "
			"header names it, 'vaultctl reencrypt --resume-only' recovers it",
			off, strerror(-r));
	return r;
}

/*
 * A hotzone the header says is in flight.  Online with a live
 * re-encrypting table that is idle, the kernel knows where the data is
 * (the job stopped, the machine did not): its boundary is either the
 * hotzone's start (not moved: the next step moves it again) or its end
 * (moved and flushed: only the checkpoint is missing).  Otherwise (offline,
 * a failed step, a table from elsewhere) the resilience data decides,
 * block by block, as cryptsetup's recovery does.
 */
static int settle_hotzone(struct reenc_target *tg, struct luks2 *l, struct luks2_reenc_job *j,
			  const unsigned char *vk_old, size_t old_len,
			  const unsigned char *vk_new, size_t new_len, bool *suspended)
{
	uint64_t b = 0;
	char state[16] = "";
	/* the live re-encrypting table's boundary and state (a release keeps the boundary) */
	bool live = tg->online && !kernel_state(tg, &b, state, sizeof(state));
	int r;

	if (!j->in_flight) {
		/* held before the header named the hotzone: its checksums are not in use */
		if (live && !strcmp(state, "held") && kernel_release(tg))
			return -EIO;
		/* the live table and the header must agree on where the data is */
		if (live && b * 512 != j->progress) {
			log_err("the live table of %s re-encrypted up to byte %" PRIu64 " but the "
				"header says %" PRIu64 ": refusing to guess; close the mapping and "
				"run --resume-only on the device", tg->name, b * 512, j->progress);
			return -EINVAL;
		}
		return 0;
	}
	if (live && !strcmp(state, "held")) {
		/* a job stopped between its hold and its step: nothing wrote there since */
		if (b * 512 != j->hz_off) {
			log_err("the live table of %s holds the hotzone at byte %" PRIu64 " but "
				"the header names %" PRIu64 ": refusing to guess", tg->name,
				b * 512, j->hz_off);
			return -EINVAL;
		}
		log_verbose("The hotzone at %" PRIu64 " is held: moving it.", j->hz_off);
		r = kernel_step(tg, j->hz_off, j->hz_len, true);
		return r ? r : luks2_reenc_hotzone_end(l, j, j->hz_off, j->hz_len);
	}
	if (live && !strcmp(state, "idle")) {
		if (b * 512 == j->hz_off + j->hz_len) {
			log_verbose("The hotzone at %" PRIu64 " was moved: recording it.", j->hz_off);
			return luks2_reenc_hotzone_end(l, j, j->hz_off, j->hz_len);
		}
		if (b * 512 == j->hz_off) {
			log_verbose("The hotzone at %" PRIu64 " was not moved: moving it again.",
				    j->hz_off);
			j->in_flight = false;
			return 0;
		}
	}
	log_verbose("Recovering the hotzone at %" PRIu64 " (%" PRIu64 " bytes) from its %s data.",
		    j->hz_off, j->hz_len, j->resilience);
	if (tg->online) {
		/* no I/O while blocks change keys under the mapping */
		r = vdm_suspend(tg->name);
		if (r) {
			log_err("cannot suspend %s for the recovery: %s", tg->name, strerror(-r));
			return r;
		}
		*suspended = true;
	}
	r = luks2_reenc_recover(l, j, vk_old, old_len, vk_new, new_len);
	if (r)
		log_err("cannot recover the hotzone: %s", luks2_error(l));
	/* online, the caller's table reload resumes the mapping */
	return r;
}

/* ---- the job ---------------------------------------------------------------- */

static void set_idle_io_priority(void)
{
	/*
	 * Idle class: the steps' reads and writes go to the disk when
	 * foreground I/O leaves it idle (on schedulers that honour classes,
	 * BFQ and mq-deadline); I/O held in the hotzone waits at most one
	 * step, and BFQ still serves an idle queue after its grace period.
	 */
	if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0,
		    IOPRIO_CLASS_IDLE << IOPRIO_CLASS_SHIFT))
		log_dbg("ioprio_set: %s", strerror(errno));
}

static long elapsed_us(const struct timespec *a, const struct timespec *b)
{
	return (long)((b->tv_sec - a->tv_sec) * 1000000 + (b->tv_nsec - a->tv_nsec) / 1000);
}

/*
 * Tests only: VAULT_TEST_CRASH_AT=hold:N or header:N kills this process
 * (SIGKILL, as a crash of vaultctl) right after the N-th hotzone's hold or
 * header write, so that a resume meets a held hotzone.
 */
static void test_crash_point(const char *point, unsigned int n)
{
	const char *t = getenv("VAULT_TEST_CRASH_AT");
	size_t len = strlen(point);

	if (t && !strncmp(t, point, len) && t[len] == ':' && (unsigned int)atoi(t + len + 1) == n)
		raise(SIGKILL);
}

static int move_data(const struct vault_opts *o, struct reenc_target *tg, struct luks2 *l,
		     struct luks2_reenc_job *j)
{
	uint64_t hz = o->hotzone_size ? o->hotzone_size : REENC_DEFAULT_HOTZONE;
	unsigned char *buf = NULL, *prot = NULL;
	struct reenc_progress p;
	struct timespec t0, t1, t2;
	unsigned int nr_hotzones = 0;
	size_t prot_len;
	int r = 0;

	if (hz > j->max_hotzone)
		hz = j->max_hotzone;
	hz -= hz % j->block;
	if (posix_memalign((void **)&buf, 4096, hz) || posix_memalign((void **)&prot, 4096, hz)) {
		free(buf);
		return -ENOMEM;
	}
	reenc_progress_init(&p, j->data_size, j->progress, o->progress_frequency, o->batch_mode,
			    o->max_rate_mib);
	while (j->progress < j->data_size) {
		uint64_t off = j->progress, len = j->data_size - off < hz ? j->data_size - off : hz;

		if (stop_requested) {
			r = -EINTR;
			break;
		}
		/* 0. hotzone I/O waits from now until the step has moved it */
		clock_gettime(CLOCK_MONOTONIC, &t0);
		r = kernel_hold(tg, off, len);
		if (r)
			break;
		test_crash_point("hold", ++nr_hotzones);
		/* the old ciphertext, for the resilience data */
		r = read_direct(tg->device, j->data_offset + off, buf, len);
		if (!r)
			r = luks2_reenc_protect(j, buf, len, prot, &prot_len);
		if (r) {
			log_err("cannot read the hotzone at %" PRIu64 ": %s", off, strerror(-r));
			kernel_release(tg);	/* no header names it yet */
			break;
		}
		/* 1. resilience data, then the header naming the hotzone */
		r = luks2_reenc_hotzone_begin(l, j, off, len, prot, prot_len);
		if (r) {
			/* the header may name it: its I/O waits for --resume-only */
			log_err("cannot write the hotzone's metadata: %s; I/O to the hotzone "
				"waits until 'vaultctl reencrypt --resume-only %s' moves it",
				luks2_error(l), tg->name);
			break;
		}
		test_crash_point("header", nr_hotzones);
		/* 2. the data: the kernel moves the hotzone, durable when it returns */
		clock_gettime(CLOCK_MONOTONIC, &t1);
		r = kernel_step(tg, off, len, true);
		if (r)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t2);
		log_dbg("hotzone at %" PRIu64 ": held %ld us (I/O to it waited at most this), "
			"of which the step %ld us", off, elapsed_us(&t0, &t2), elapsed_us(&t1, &t2));
		/* 3. then the checkpoint */
		r = luks2_reenc_hotzone_end(l, j, off, len);
		if (r) {
			log_err("cannot write the checkpoint: %s", luks2_error(l));
			break;
		}
		reenc_progress_update(&p, j->progress);
	}
	reenc_progress_end(&p, j->progress);
	secure_wipe(buf, hz);
	free(buf);
	free(prot);
	return r;
}

int reenc_run(const struct vault_opts *o, struct reenc_target *tg, struct luks2 *l,
	      struct luks2_reenc_job *j, const unsigned char *vk_old, size_t old_len,
	      const unsigned char *vk_new, size_t new_len)
{
	struct tempkey tk_old = { .fd = -1 }, tk_new = { .fd = -1 };
	struct sigaction sa = { .sa_handler = on_signal }, old_int, old_term;
	bool created = false, suspended = false;
	struct vault_table t;
	uint64_t sectors = j->data_size / 512;
	int lock, r;

	lock = reenc_lock(l);
	if (lock == -EBUSY)
		return -EBUSY;
	if (tg->online) {
		t = tg->t;
		if (tg->len != sectors || t.offset * 512 != j->data_offset ||
		    t.sector_size != j->old_ss || t.iv_offset != j->iv_tweak) {
			log_err("mapping %s (%" PRIu64 " sectors from sector %" PRIu64 ") does not "
				"cover the volume's data (%" PRIu64 " sectors from %" PRIu64 "): "
				"resize it to the whole device, or close it and re-encrypt offline",
				tg->name, tg->len, t.offset, sectors, j->data_offset / 512);
			r = -EINVAL;
			goto out;
		}
	} else {
		memset(&t, 0, sizeof(t));
		snprintf(t.cipher, sizeof(t.cipher), "%s", j->old_cipher);
		snprintf(t.device, sizeof(t.device), "%u:%u", tg->major, tg->minor);
		t.offset = j->data_offset / 512;
		t.iv_offset = j->iv_tweak;
		t.sector_size = j->old_ss;
		snprintf(tg->name, sizeof(tg->name), "%s%s", REENC_PRIVATE_PREFIX, luks2_uuid(l));
		snprintf(tg->dm_uuid, sizeof(tg->dm_uuid), "%sREENC-%s", UUID_PREFIX, luks2_uuid(l));
		r = vdm_require_absent(tg->name);
		if (r)
			goto out;
	}
	snprintf(t.cipher, sizeof(t.cipher), "%s", j->old_cipher);
	r = tempkey_load(&tk_old, tg->name, vk_old, old_len);
	if (!r)
		r = tempkey_load(&tk_new, tg->name, vk_new, new_len);
	if (r)
		goto out;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	set_idle_io_priority();

	r = settle_hotzone(tg, l, j, vk_old, old_len, vk_new, new_len, &suspended);
	if (r) {
		if (suspended)	/* its table no longer says where the data is */
			log_err("%s stays suspended: run 'vaultctl reencrypt --resume-only %s' again",
				tg->name, tg->name);
		goto restore;
	}
	/* the table the metadata describes: new key below the boundary, old above */
	r = load_table(tg, &t, tk_old.name, j->new_cipher, tk_new.name, j->new_ss,
		       j->progress / 512, sectors, !tg->online);
	if (r) {
		log_err("cannot load the re-encrypting table of %s: %s (the kernel log says why)",
			tg->name, strerror(-r));
		if (suspended)
			log_err("%s stays suspended: run 'vaultctl reencrypt --resume-only %s' again",
				tg->name, tg->name);
		goto restore;
	}
	created = !tg->online;
	r = move_data(o, tg, l, j);
	if (r)
		goto restore;
	if (tg->online) {
		/* as cryptsetup: the new key alone in the live table, then the metadata */
		snprintf(t.cipher, sizeof(t.cipher), "%s", j->new_cipher);
		t.sector_size = j->new_ss;
		r = load_table(tg, &t, tk_new.name, NULL, NULL, 0, 0, sectors, false);
		if (r) {
			log_err("cannot load the final table of %s: %s", tg->name, strerror(-r));
			goto restore;
		}
	}
	r = luks2_reenc_finish(l, j);
	if (r)
		log_err("cannot write the final metadata: %s", luks2_error(l));
restore:
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
out:
	if (created && vdm_remove(tg->name))
		log_err("cannot remove the job's mapping %s", tg->name);
	/* the keys leave the kernel's key table (the live table keeps its ciphers) */
	tempkey_unload(&tk_old);
	tempkey_unload(&tk_new);
	reenc_unlock(lock);
	if (r == -EINTR)
		log_err("Re-encryption interrupted at a checkpoint (%" PRIu64 " of %" PRIu64
			" bytes); finish it with 'vaultctl reencrypt --resume-only'.", j->progress,
			j->data_size);
	return r;
}
