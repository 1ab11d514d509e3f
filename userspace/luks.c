// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: LUKS2 volumes: format, open, and the header commands (dump,
 * uuid, is-luks, header-backup, header-restore, erase, repair), plus what
 * resume needs.  The on-disk work is the luks2 library's; this file is the
 * command line around it: passphrases, confirmations, messages, exit codes
 * and the vault mapping.
 */
#include <blkid/blkid.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "answer.h"
#include "control.h"
#include "dm.h"
#include "luks.h"
#include "secure_mem.h"
#include "table.h"
#include "tempkey.h"
#include "token/token.h"
#include "token/tpm2.h"
#include "util.h"

/* The library's errors use errno values; -EPERM means "wrong passphrase". */
static int lib_err(int r)
{
	return r == -EPERM ? -EACCES : r;
}

/*
 * Loads DEVICE's header.  INSPECT: for the commands that only show it
 * (dump, is-luks): a header with requirements vaultctl does not meet (a
 * cryptsetup re-encryption in progress) loads too, and the library refuses
 * every use of it but reading.
 */
static int load(const char *device, bool rw, unsigned int flags, struct luks2 **out)
{
	struct luks2 *l = luks2_new();
	int r;

	*out = NULL;
	if (!l) {
		log_err("out of memory");
		return -ENOMEM;
	}
	r = luks2_load(l, device, (rw ? LUKS2_RDWR : 0) | flags);
	if (r) {
		log_err("%s", luks2_error(l));
		luks2_free(l);
		if (r == -ENOENT || r == -ENODEV || r == -ENXIO)
			return -ENODEV;
		return r == -EACCES || r == -EPERM || r == -ENOMEM || r == -EBUSY ? lib_err(r)
										   : -EINVAL;
	}
	if (luks2_health(l)) {
		log_warn("%s: %s", device, luks2_health_text(l));
		if (rw) {
			/* a repair may roll back to the older copy: only on request */
			log_err("%s: refusing to change a header whose two copies disagree; check "
				"'vaultctl dump %s', back it up, then run 'vaultctl repair %s'",
				device, device, device);
			luks2_free(l);
			return -EINVAL;
		} else {
			log_warn("%s: it is repaired by the next command that changes the header, or by 'vaultctl repair %s'",
				 device, device);
		}
	}
	*out = l;
	return 0;
}

int luks_load(const char *device, bool rw, struct luks2 **out)
{
	return load(device, rw, 0, out);
}

int luks_load_inspect(const char *device, struct luks2 **out)
{
	return load(device, false, LUKS2_IGNORE_REQUIREMENTS, out);
}

/* DEVICE's header, or --header FILE's (a detached header: the data is all of DEVICE's). */
static int load_for_open(const struct vault_opts *o, const char *device, struct luks2 **out)
{
	return o->header ? load(o->header, false, LUKS2_DETACHED, out) : luks_load(device, false, out);
}

void luks_pbkdf(const struct vault_opts *o, struct luks2_pbkdf *p)
{
	memset(p, 0, sizeof(*p));
	p->type = LUKS2_KDF_ARGON2ID;
	if (o->pbkdf && !strcmp(o->pbkdf, "argon2i"))
		p->type = LUKS2_KDF_ARGON2I;
	else if (o->pbkdf && !strcmp(o->pbkdf, "pbkdf2"))
		p->type = LUKS2_KDF_PBKDF2;
	p->hash = o->hash;
	p->iter_time_ms = o->iter_time_ms;
	p->iterations = o->pbkdf_iterations;
	p->memory_kb = o->pbkdf_memory_kb;
	p->parallel = o->pbkdf_parallel;
}

unsigned int luks_slot_count(const struct luks2 *l)
{
	return (unsigned int)__builtin_popcount(luks2_keyslots_in_use(l));
}

unsigned int luks_usable_count(struct luks2 *l)
{
	return (unsigned int)__builtin_popcount(luks2_keyslots_usable(l));
}

/* One try of P: KEYSLOT (< 0: any), or with EXCEPT >= 0 any keyslot but it. */
static int try_pass(struct luks2 *l, int keyslot, int except, const struct passphrase *p,
		    void *buf, size_t *len)
{
	if (except >= 0)
		return luks2_unlock_other(l, except, p->buf, p->len, buf, LUKS2_VK_MAX, len);
	return luks2_unlock(l, keyslot, p->buf, p->len, buf, LUKS2_VK_MAX, len);
}

static void wrong_pass_msg(const struct vault_opts *o, const char *device, int keyslot,
			   int except)
{
	if (except >= 0)
		log_err("No remaining keyslot of %s opens with this passphrase (keyslot %d, the one to remove, does not count).",
			device, except);
	else if (o->volume)	/* the log context names the volume */
		log_err("No key available with this passphrase.");
	else if (keyslot >= 0)
		log_err("No key available with this passphrase in keyslot %d of %s.", keyslot,
			device);
	else
		log_err("No key available with this passphrase (%s).", device);
}

/*
 * open --all: the passphrases typed for earlier volumes, tried first
 * without asking (systemd's and cryptsetup's cached passphrases).  The
 * slot with the volume key in BUF and a copy of the passphrase in *P;
 * -EPERM when none opens this volume; another error as unlock_core's.
 */
static int try_cached(const struct vault_opts *o, struct luks2 *l, int keyslot, void *buf,
		      size_t *len, struct passphrase *p)
{
	unsigned int i;
	int r = -EPERM;

	for (i = 0; o->pass_cache && i < o->pass_cache->n; i++) {
		r = try_pass(l, keyslot, -1, &o->pass_cache->p[i], buf, len);
		if (r != -EPERM)
			break;
	}
	if (r == -EPERM) {
		if (i)
			log_dbg("no passphrase entered for an earlier volume opens this one");
		return r;
	}
	if (r < 0) {
		log_err("cannot unlock: %s", luks2_error(l));
		return r == -ENOENT ? -EINVAL : lib_err(r);
	}
	log_verbose("Opened with a passphrase entered for an earlier volume.");
	if (pass_copy(p, &o->pass_cache->p[i]))
		log_dbg("cannot copy the passphrase: out of locked memory");
	return r;
}

/* The answer channel's name for a prompt with no volume name: DEVICE's base name. */
static const char *chan_name(const char *device)
{
	const char *b = strrchr(device, '/');

	return b ? b + 1 : device;
}

static int unlock_core(const struct vault_opts *o, struct luks2 *l, const char *device,
		       int keyslot, int except, const struct passphrase *given, void **vk,
		       size_t *vk_len, struct passphrase *kept)
{
	unsigned int tries = pass_source(o->key_file) == PASS_TTY ? o->tries : 1, i;
	struct answer_chan chan = ANSWER_CHAN_INIT;
	struct passphrase p = { 0 };
	uint64_t deadline = 0;
	char prompt[4200];
	void *buf;
	size_t len = 0;
	int r = -EPERM;

	if (vk)
		*vk = NULL;
	buf = secure_alloc(LUKS2_VK_MAX);
	if (!buf) {
		log_err("cannot allocate locked memory for the volume key: %s", strerror(errno));
		return -ENOMEM;
	}
	if (except >= 0)
		snprintf(prompt, sizeof(prompt), _("Enter any remaining passphrase for %s: "), device);
	else if (o->volume)
		snprintf(prompt, sizeof(prompt), _("Enter passphrase for %s (%s): "), o->volume,
			 device);
	else if (keyslot >= 0)
		snprintf(prompt, sizeof(prompt), _("Enter passphrase for %s (keyslot %d): "), device,
			 keyslot);
	else
		snprintf(prompt, sizeof(prompt), _("Enter passphrase for %s: "), device);
	if (given)
		tries = 1;
	if (!given && except < 0 && pass_source(o->key_file) != PASS_KEYFILE) {
		r = try_cached(o, l, keyslot, buf, &len, &p);
		if (r != -EPERM)
			goto done;
		if (o->headless) {
			log_err("not asking for a passphrase (headless), and no key file or token opened %s",
				device);
			secure_free(buf);
			return -ENOKEY;
		}
	}
	if (o->prompt_timeout_us)
		deadline = pass_now_us() + o->prompt_timeout_us;
	/*
	 * A prompt on a terminal (the console at boot) can also be answered
	 * by `vaultctl answer` (over SSH): same tries, same deadline.
	 */
	if (!given && except < 0 && pass_source(o->key_file) == PASS_TTY)
		answer_chan_open(&chan, o->volume ? o->volume : chan_name(device));
	for (i = 0; !tries || i < tries; i++) {
		if (given) {
			r = 0;
		} else {
			pass_set_answer_chan(&chan);
			r = pass_read_until(o->key_file, o->keyfile_offset, o->keyfile_size, prompt,
					    false, deadline, &p);
			pass_set_answer_chan(NULL);
			if (r == -ETIMEDOUT) {
				log_err("no passphrase entered within %llu s (timeout=); giving up",
					(unsigned long long)((o->prompt_timeout_us + 999999) / 1000000));
				break;
			}
			/* Enter alone on a terminal is one more try, not the end. */
			if (r == -ENODATA && tries != 1) {
				r = -EPERM;
				continue;
			}
		}
		if (r)
			break;
		r = try_pass(l, keyslot, except, given ? given : &p, buf, &len);
		if (r >= 0) {
			answer_chan_end(&chan, "unlocked");
			break;
		}
		pass_free(&p);
		if (r != -EPERM) {
			/* e.g. no keyslot left, or --key-slot names an unused one */
			log_err("cannot unlock %s: %s", device, luks2_error(l));
			answer_chan_end(&chan, "error cannot unlock %s: %s", device,
					luks2_error(l));
			r = r == -ENOENT ? -EINVAL : lib_err(r);
			break;
		}
		wrong_pass_msg(o, device, keyslot, except);
		if (!tries)
			answer_chan_verdict(&chan, "wrong -");
		else if (i + 1 < tries)
			answer_chan_verdict(&chan, "wrong %u", tries - i - 1);
		else
			answer_chan_end(&chan, "wrong 0");
	}
	answer_chan_close(&chan);
	if (r == -EPERM && o->volume)
		log_err(ngettext("no passphrase matched after %u try", "no passphrase matched after %u tries", i), i);
	/* open --all: keep what was typed for the next volumes */
	if (r >= 0 && !given && o->pass_cache && pass_source(o->key_file) != PASS_KEYFILE &&
	    pass_cache_add(o->pass_cache, &p))
		log_dbg("cannot keep the passphrase for the next volumes: out of locked memory");
done:
	if (r < 0) {
		secure_free(buf);
		pass_free(&p);
		return r;
	}
	log_verbose("Key slot %d unlocked.", r);
	if (kept)
		*kept = p;
	else
		pass_free(&p);
	if (vk) {
		*vk = buf;
		*vk_len = len;
	} else {
		secure_free(buf);
	}
	return r;
}

int luks_unlock(const struct vault_opts *o, struct luks2 *l, const char *device, int keyslot,
		void **vk, size_t *vk_len, struct passphrase *kept)
{
	return unlock_core(o, l, device, keyslot, -1, NULL, vk, vk_len, kept);
}

int luks_check_pass(const struct vault_opts *o, struct luks2 *l, const char *device, int keyslot,
		    int except, const struct passphrase *given)
{
	return unlock_core(o, l, device, keyslot, except, given, NULL, NULL, NULL);
}

int luks_confirm(const struct vault_opts *o, const char *question)
{
	if (o->batch_mode)	/* as cryptsetup's -q; --force is not an answer */
		return 0;
	if (!isatty(STDIN_FILENO)) {
		log_err("%s", question);
		log_err("standard input is not a terminal, so nobody can confirm: add --batch-mode to do it anyway");
		return -EINVAL;
	}
	return ask_yes(question) ? -EINVAL : 0;
}

/* ---- format ---------------------------------------------------------- */

/*
 * What libblkid finds on DEVICE: a filesystem, a partition table, a LUKS
 * header or another signature.  1 and WHAT filled when something is there,
 * 0 when nothing, negative errno when it cannot tell.
 */
static int find_signatures(int fd, const char *device, char *what, size_t len)
{
	const char *type = NULL, *usage = NULL;
	blkid_probe pr;
	int r;

	*what = '\0';
	/* the descriptor that will be written, not whatever DEVICE names now */
	pr = blkid_new_probe();
	if (!pr || blkid_probe_set_device(pr, fd, 0, 0)) {
		log_err("cannot probe %s for existing signatures", device);
		blkid_free_probe(pr);
		return -EINVAL;
	}
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_USAGE |
					  BLKID_SUBLKS_BADCSUM);
	blkid_probe_enable_partitions(pr, 1);
	r = blkid_do_safeprobe(pr);
	if (r == 0) {
		if (!blkid_probe_lookup_value(pr, "TYPE", &type, NULL)) {
			blkid_probe_lookup_value(pr, "USAGE", &usage, NULL);
			snprintf(what, len, "a %s signature (%s)", type,
				 usage ? usage : _("unknown use"));
		} else if (!blkid_probe_lookup_value(pr, "PTTYPE", &type, NULL)) {
			snprintf(what, len, _("a %s partition table"), type);
		} else {
			snprintf(what, len, _("a signature of unknown type"));
		}
		r = 1;
	} else if (r == -2) {
		snprintf(what, len, _("several conflicting signatures"));
		r = 1;
	} else if (r == 1) {
		r = 0;
	} else {
		log_err("cannot probe %s for existing signatures", device);
		r = -EINVAL;
	}
	blkid_free_probe(pr);
	return r;
}

/*
 * Opens DEVICE to rewrite its header: an image file, or a block device
 * opened with O_EXCL, which fails while it is mounted, mapped or claimed
 * and, while this descriptor stays open, keeps anyone else from claiming
 * it.  Every check and every write goes through this one descriptor, so
 * the device written is the device checked.  Returns it, or -errno.
 */
static int open_for_rewrite(const char *device)
{
	struct stat st;
	int fd, r;

	fd = open(device, O_RDWR | O_EXCL | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = errno;
		if (r == EBUSY) {
			log_err("device %s is in use (mounted, mapped or held exclusively)", device);
			return -EBUSY;
		}
		if (r == EROFS) {
			log_err("device %s is read-only", device);
			return -EINVAL;
		}
		return device_stat_error(device, r);
	}
	if (fstat(fd, &st)) {
		r = device_stat_error(device, errno);
		close(fd);
		return r;
	}
	if (S_ISREG(st.st_mode))
		return fd;
	if (!S_ISBLK(st.st_mode)) {
		log_err("%s is not a block device or an image file", device);
		close(fd);
		return -ENOTBLK;
	}
	r = blkdev_holders(major(st.st_rdev), minor(st.st_rdev));
	if (r > 0) {
		log_err("device %s is in use by another mapping (see /sys/dev/block/%u:%u/holders)",
			device, major(st.st_rdev), minor(st.st_rdev));
		close(fd);
		return -EBUSY;
	}
	return fd;
}

int cmd_format(const struct vault_opts *o, int argc, char **argv)
{
	const char *device = argv[0];
	struct luks2_format_params fp;
	struct passphrase p = { 0 };
	char what[256], question[600], err[1024], prompt[4200];
	int fd, r;

	(void)argc;
	if (o->type && strcmp(o->type, "luks2") && strcmp(o->type, "luks")) {
		log_err("format makes LUKS2 volumes only (--type luks2), not '%s'", o->type);
		return -EINVAL;
	}
	/* held from the checks to the last byte written */
	fd = open_for_rewrite(device);
	if (fd < 0)
		return fd;
	r = find_signatures(fd, device, what, sizeof(what));
	if (r < 0)
		goto out;
	if (r) {
		snprintf(question, sizeof(question),
			 _("%s holds %s: formatting destroys it and the data on it."), device, what);
		r = -EINVAL;
		if (!o->force && (o->batch_mode || !isatty(STDIN_FILENO))) {
			log_err("%s", question);
			log_err("refusing to format it: add --force to overwrite it anyway");
			goto out;
		}
		/* --force allows it; only --batch-mode answers the question */
		if (!o->batch_mode && isatty(STDIN_FILENO) && ask_yes(question))
			goto out;
		if (o->force)
			log_verbose("Overwriting %s on %s (--force).", what, device);
	} else if (!o->batch_mode && isatty(STDIN_FILENO)) {
		snprintf(question, sizeof(question), _("This will overwrite data on %s irrevocably."),
			 device);
		r = -EINVAL;
		if (ask_yes(question))
			goto out;
	}

	memset(&fp, 0, sizeof(fp));
	fp.cipher = o->cipher ? o->cipher : DEFAULT_CIPHER;
	fp.key_size = (o->key_bits ? o->key_bits : DEFAULT_KEY_BITS) / 8;
	if (o->set & OPTB(OPT_SECTOR_SIZE))
		fp.sector_size = o->sector_size;
	fp.metadata_size = o->metadata_size;
	fp.label = o->label;
	fp.uuid = o->uuid;
	fp.keyslot = o->key_slot;
	luks_pbkdf(o, &fp.pbkdf);

	snprintf(prompt, sizeof(prompt), _("Enter passphrase for %s: "), device);
	r = pass_read(o->key_file, o->keyfile_offset, o->keyfile_size, prompt, true, &p);
	if (r)
		goto out;
	r = luks2_format_fd(fd, device, &fp, NULL, 0, p.buf, p.len, NULL, err, sizeof(err));
	pass_free(&p);
	if (r) {
		log_err("cannot format %s: %s", device, err);
		r = r == -ENOMEM || r == -EBUSY ? r : r == -ENOENT || r == -ENODEV ? -ENODEV : -EINVAL;
		goto out;
	}
	log_verbose("%s is now a LUKS2 volume; key slot %d created.", device,
		    o->key_slot >= 0 ? o->key_slot : 0);
out:
	close(fd);
	return r;
}

/* ---- open ------------------------------------------------------------ */

/* Options that only plain mode takes. */
#define OPTS_PLAIN_ONLY (OPTB(OPT_CIPHER) | OPTB(OPT_KEY_SIZE) | OPTB(OPT_OFFSET) |	\
			 OPTB(OPT_IV_OFFSET) | OPTB(OPT_SECTOR_SIZE) |			\
			 OPTB(OPT_IV_LARGE_SECTORS) | OPTB(OPT_SIZE))

static const char *const plain_only_names[] = {
	[OPT_CIPHER] = "--cipher", [OPT_KEY_SIZE] = "--key-size", [OPT_OFFSET] = "--offset",
	[OPT_IV_OFFSET] = "--iv-offset", [OPT_SECTOR_SIZE] = "--sector-size",
	[OPT_IV_LARGE_SECTORS] = "--iv-large-sectors", [OPT_SIZE] = "--size",
};

/*
 * The volume key for open: the tokens first (token/token.h), unless
 * --disable-tokens, or a --key-file says where the passphrase is and no
 * token option asks for tokens; then, unless --token-only, the passphrase
 * (a recovery key is one).  Returns the keyslot.
 */
static int open_key(const struct vault_opts *o, struct luks2 *l, const char *device, void **vk,
		    size_t *vk_len)
{
	bool tokens = !o->disable_tokens &&
		      (!o->key_file || o->token_only || o->token_id >= 0 || o->token_type);
	struct token_ctx ctx = { .o = o, .l = l, .device = device };
	int r;

	if (tokens) {
		r = token_unlock_volume(&ctx, vk, vk_len);
		if (r >= 0 || r != -ENOENT)
			return r;
		if (o->token_only) {
			/* cryptsetup's words and exit status (1) */
			log_err("No usable token is available for %s.", device);
			return -EINVAL;
		}
	}
	return luks_unlock(o, l, device, o->key_slot, vk, vk_len, NULL);
}

int luks_test_passphrase(const struct vault_opts *o, const char *device)
{
	struct luks2 *l;
	size_t vk_len;
	void *vk = NULL;
	int r;

	r = load_for_open(o, device, &l);
	if (r) {
		if (!o->header && !luks2_probe(device))
			log_err("%s is not a LUKS2 volume; if its header is detached give it with "
				"--header FILE", device);
		return r;
	}
	r = open_key(o, l, device, &vk, &vk_len);
	secure_free(vk);
	luks2_free(l);
	return r < 0 ? r : 0;
}

/* "VAULT-LUKS2-<uuid without dashes>-<name>", like cryptsetup's CRYPT-LUKS2-... */
static int luks_dm_uuid(const char *luks_uuid, const char *name, char *out, size_t len)
{
	char hex[40];
	size_t i, n = 0;

	for (i = 0; luks_uuid[i] && n < sizeof(hex) - 1; i++)
		if (luks_uuid[i] != '-')
			hex[n++] = luks_uuid[i];
	hex[n] = '\0';
	if ((size_t)snprintf(out, len, "%s%s-%s", UUID_PREFIX_LUKS2, hex, name) >= len)
		return -ENAMETOOLONG;
	return 0;
}

int luks_open(const struct vault_opts *o, const char *device, const char *name)
{
	char uuid[VDM_UUID_MAX], luks_uuid[40];
	bool measure;
	struct luks2_segment seg;
	struct vault_table t;
	struct luks2 *l = NULL;
	struct blkdev dev;
	uint64_t size;
	size_t vk_len = 0;
	void *vk = NULL;
	unsigned int i;
	int r, slot;

	if (dm_name_valid(name)) {
		log_err("invalid device name '%s': %s", name, dm_name_problem(name));
		return -EINVAL;
	}
	for (i = 0; i < OPT_COUNT; i++) {
		if ((OPTS_PLAIN_ONLY & OPTB(i)) && (o->set & OPTB(i))) {
			log_err("%s is for plain mode only: a LUKS2 header says how %s is encrypted",
				plain_only_names[i], device);
			return -EINVAL;
		}
	}
	r = blkdev_probe(device, o->readonly, &dev);
	if (r)
		return r;
	r = load_for_open(o, device, &l);
	if (r) {
		if (!o->type && !o->header && !luks2_probe(device))
			log_err("%s is not a LUKS2 volume; if its header is detached give it with "
				"--header FILE; to map it without a header use --type plain --key-file FILE",
				device);
		return r;
	}
	r = luks_dm_uuid(luks2_uuid(l), name, uuid, sizeof(uuid));
	if (r) {
		log_err("the name '%s' is too long for a LUKS2 mapping (its dm UUID would exceed %d characters)",
			name, VDM_UUID_MAX - 1);
		r = -EINVAL;
		goto out;
	}
	r = luks2_get_segment(l, &seg);
	if (r) {
		log_err("cannot open %s: %s", device, luks2_error(l));
		r = -EINVAL;
		goto out;
	}
	/* the header's validation refuses this; never map over the header regardless */
	if (!o->header && seg.offset * 512 < luks2_header_area_size(l)) {
		log_err("cannot open %s: its data segment starts at byte %" PRIu64
			", inside the header area (%" PRIu64 " bytes)", device, seg.offset * 512,
			luks2_header_area_size(l));
		r = -EINVAL;
		goto out;
	}
	r = table_mapping_size(device, dev.sectors, seg.offset, seg.size, seg.sector_size, &size);
	if (r)
		goto out;
	/* Before the passphrase: a taken name is known without it. */
	r = vdm_require_absent(name);
	if (r)
		goto out;

	slot = open_key(o, l, device, &vk, &vk_len);
	if (slot < 0) {
		r = slot;
		goto out;
	}
	if (vk_len > VAULT_KEY_SIZE_MAX) {
		log_err("the volume key of %s has %zu bytes; dm-vault takes at most %u", device,
			vk_len, VAULT_KEY_SIZE_MAX);
		r = -EINVAL;
		goto out;
	}
	measure = !o->test_passphrase && tpm2_measure_wanted(o, l);
	snprintf(luks_uuid, sizeof(luks_uuid), "%s", luks2_uuid(l));
	luks2_free(l);
	l = NULL;
	/*
	 * Not before the KDF: argon2's working memory (up to 1 GiB) is better
	 * not forced resident.  From here on libdevmapper's buffers are locked.
	 */
	secure_lock_all();

	memset(&t, 0, sizeof(t));
	snprintf(t.cipher, sizeof(t.cipher), "%s", seg.cipher);
	snprintf(t.device, sizeof(t.device), "%u:%u", dev.major, dev.minor);
	t.iv_offset = seg.iv_tweak;
	t.offset = seg.offset;
	t.sector_size = seg.sector_size;
	t.iv_large_sectors = false;	/* LUKS2 never sets it */
	t.allow_discards = o->allow_discards;
	t.same_cpu_crypt = o->same_cpu_crypt;
	t.no_read_workqueue = o->no_read_workqueue;
	t.no_write_workqueue = o->no_write_workqueue;
	r = vault_map(name, uuid, &t, size, vk, vk_len, o->readonly);
	if (!r && measure)
		tpm2_measure_open(o, name, luks_uuid);
out:
	secure_free(vk);
	luks2_free(l);
	return r;
}

/* Checks that DEVICE's header is the volume DM_UUID was opened from. */
static int same_volume(struct luks2 *l, const char *device, const char *dm_uuid)
{
	char want[VDM_UUID_MAX];
	const char *dash;
	int r;

	/* The mapping's UUID is VAULT-LUKS2-<hex>-<name>: compare the <hex> part. */
	r = luks_dm_uuid(luks2_uuid(l), "", want, sizeof(want));
	dash = strrchr(want, '-');
	if (r || !dash || strncmp(dm_uuid, want, (size_t)(dash - want + 1))) {
		log_err("%s no longer holds the LUKS2 volume this mapping was opened from (UUID %s)",
			device, luks2_uuid(l));
		return -EINVAL;
	}
	return 0;
}

/* DEVICE's header, when it still holds the volume the mapping DM_UUID was opened from. */
static int load_same_volume(const char *device, const char *dm_uuid, struct luks2 **l)
{
	int r;

	r = luks_load(device, false, l);
	if (r)
		return r;
	r = same_volume(*l, device, dm_uuid);
	if (r)
		luks2_free(*l);
	return r;
}

int luks_resume_key(const struct vault_opts *o, const char *device, const char *dm_uuid,
		    void **vk, size_t *vk_len)
{
	struct luks2 *l;
	int r;

	*vk = NULL;
	r = load_same_volume(device, dm_uuid, &l);
	if (r)
		return r;
	r = luks_unlock(o, l, device, o->key_slot, vk, vk_len, NULL);
	luks2_free(l);
	return r < 0 ? r : 0;
}

int luks_mapping_key(const struct vault_opts *o, const char *device, const char *dm_uuid,
		     void **vk, size_t *vk_len)
{
	struct luks2_segment seg;
	struct luks2 *l;
	int r;

	*vk = NULL;
	r = load_same_volume(device, dm_uuid, &l);
	if (r)
		return r;
	/* as cryptsetup: a segment of fixed size (reencryption) is not resized */
	r = luks2_get_segment(l, &seg);
	if (r || seg.size) {
		log_err("cannot resize %s: %s", device,
			r ? luks2_error(l) : _("its LUKS2 data segment has a fixed size"));
		luks2_free(l);
		return -EINVAL;
	}
	r = open_key(o, l, device, vk, vk_len);
	luks2_free(l);
	return r < 0 ? r : 0;
}

/* ---- header commands --------------------------------------------------- */

/* The options that say where a passphrase comes from. */
#define OPTS_PASS_BITS	(OPTB(OPT_KEY_FILE) | OPTB(OPT_KEYFILE_OFFSET) | OPTB(OPT_KEYFILE_SIZE) | \
			 OPTB(OPT_TRIES))

int cmd_dump(const struct vault_opts *o, int argc, char **argv)
{
	struct luks2 *l;
	int r;

	(void)argc;
	if (o->dump_json && o->dump_volume_key) {
		log_err("--dump-json-metadata and --dump-volume-key cannot be combined");
		return -EINVAL;
	}
	if (o->volume_key_file && !o->dump_volume_key) {
		log_err("--volume-key-file is for --dump-volume-key");
		return -EINVAL;
	}
	if (o->set & (OPTS_PASS_BITS | OPTB(OPT_KEY_SLOT) | OPTB(OPT_BATCH_MODE)) &&
	    !o->dump_volume_key) {
		log_err("the passphrase options and --batch-mode are for --dump-volume-key");
		return -EINVAL;
	}
	if (o->dump_json)
		return luks_dump_json(o, argv[0]);
	if (o->dump_volume_key)
		return luks_dump_volume_key(o, argv[0]);
	r = luks_load_inspect(argv[0], &l);
	if (r)
		return r;
	r = luks2_dump_ex(l, stdout, token_describe);
	if (r)
		log_err("cannot dump %s: %s", argv[0], luks2_error(l));
	luks2_free(l);
	return r ? -EINVAL : 0;
}

int cmd_uuid(const struct vault_opts *o, int argc, char **argv)
{
	struct luks2 *l;
	int r;

	(void)argc;
	if (o->uuid)
		return luks_set_uuid(o, argv[0]);
	if (o->batch_mode) {
		log_err("--batch-mode is for 'uuid --uuid' (printing asks nothing)");
		return -EINVAL;
	}
	r = luks_load(argv[0], false, &l);
	if (r)
		return r;
	luks2_fputs_escaped(stdout, luks2_uuid(l));	/* untrusted bytes */
	putchar('\n');
	luks2_free(l);
	return 0;
}

int cmd_is_luks(const struct vault_opts *o, int argc, char **argv)
{
	struct luks2 *l = luks2_new();
	struct stat st;
	int r;

	(void)o;
	(void)argc;
	if (!l)
		return -ENOMEM;
	if (stat(argv[0], &st)) {
		r = device_stat_error(argv[0], errno);
		luks2_free(l);
		return r;
	}
	/* as cryptsetup isLuks: a header in re-encryption is still LUKS2 */
	r = luks2_load(l, argv[0], LUKS2_IGNORE_REQUIREMENTS);
	if (r)
		log_verbose("%s is not a LUKS2 volume: %s", argv[0], luks2_error(l));
	else
		log_verbose("%s is a LUKS2 volume.", argv[0]);
	luks2_free(l);
	return r ? -EINVAL : 0;
}

int cmd_header_backup(const struct vault_opts *o, int argc, char **argv)
{
	struct luks2 *l;
	int r;

	(void)o;
	(void)argc;
	r = luks_load(argv[0], false, &l);
	if (r)
		return r;
	if (luks2_health(l)) {
		log_err("refusing to back up a damaged header: repair %s first (vaultctl repair)",
			argv[0]);
		luks2_free(l);
		return -EINVAL;
	}
	r = luks2_header_backup(l, argv[1]);
	if (r)
		log_err("cannot back up the header of %s: %s", argv[0], luks2_error(l));
	else
		log_verbose("Header of %s saved to %s.", argv[0], argv[1]);
	luks2_free(l);
	return r ? (r == -EEXIST || r == -ESTALE ? r : -EINVAL) : 0;
}

struct restore_confirm {
	const struct vault_opts *o;
	char question[8400];
	int refused;		/* what luks_confirm() answered, when it refused */
};

static int restore_confirm(void *ctx)
{
	struct restore_confirm *rc = ctx;
	int r = luks_confirm(rc->o, rc->question);

	if (r)
		rc->refused = r;
	return r;
}

int cmd_header_restore(const struct vault_opts *o, int argc, char **argv)
{
	struct restore_confirm rc = { 0 };
	struct luks2 *l;
	int fd, r;

	(void)argc;
	if (access(argv[1], R_OK)) {
		log_err("cannot read the backup %s: %s", argv[1], strerror(errno));
		return -EINVAL;
	}
	/* held from the check to the last byte written */
	fd = open_for_rewrite(argv[0]);
	if (fd < 0)
		return fd;
	snprintf(rc.question, sizeof(rc.question),
		 _("The header and keyslots of %s will be replaced by those in %s."), argv[0],
		 argv[1]);
	rc.o = o;
	l = luks2_new();
	if (!l) {
		close(fd);
		return -ENOMEM;
	}
	/* the question comes after the checks: no refusal after a "YES" */
	r = luks2_header_restore_fd(l, fd, argv[0], argv[1], o->force, restore_confirm, &rc);
	close(fd);
	if (r == -EEXIST && r != rc.refused)	/* luks_confirm() explains its own refusal */
		log_err("cannot restore the header of %s: %s (--force overrides)", argv[0],
			luks2_error(l));
	else if (r && r != rc.refused)
		log_err("cannot restore the header of %s: %s", argv[0], luks2_error(l));
	else if (!r)
		log_verbose("Header of %s restored from %s.", argv[0], argv[1]);
	luks2_free(l);
	if (!r || r == -EEXIST || r == -ENOMEM || r == -ESTALE)
		return r;
	return r == -EACCES || r == -EPERM ? -EACCES : -EINVAL;
}

int cmd_erase(const struct vault_opts *o, int argc, char **argv)
{
	char question[4200];
	struct luks2 *l;
	int r;

	(void)argc;
	r = luks_load(argv[0], true, &l);
	if (r)
		return r;
	snprintf(question, sizeof(question),
		 _("This wipes every keyslot of %s (%u in use): the data cannot be opened again without a header backup."),
		 argv[0], luks_slot_count(l));
	r = luks_confirm(o, question);
	if (!r) {
		r = luks2_erase(l);
		if (r)
			log_err("cannot erase %s: %s", argv[0], luks2_error(l));
		else
			log_verbose("Every keyslot of %s is wiped.", argv[0]);
		r = r ? lib_err(r) : 0;
	}
	luks2_free(l);
	return r;
}

int cmd_repair(const struct vault_opts *o, int argc, char **argv)
{
	struct luks2 *l = luks2_new();
	int r;

	(void)o;
	(void)argc;
	if (!l)
		return -ENOMEM;
	r = luks2_load(l, argv[0], LUKS2_RDWR);
	if (r) {
		log_err("%s", luks2_error(l));
		luks2_free(l);
		return r == -ENOENT ? -ENODEV : -EINVAL;
	}
	if (luks2_health(l))
		printf("%s: %s\n", argv[0], luks2_health_text(l));
	r = luks2_repair(l);
	if (r < 0)
		log_err("cannot repair %s: %s", argv[0], luks2_error(l));
	else if (r)
		printf("%s: repaired (%s)\n", argv[0], luks2_health_text(l));
	else
		printf(_("%s: both header copies are valid; nothing to repair\n"), argv[0]);
	luks2_free(l);
	return r < 0 ? lib_err(r) : 0;
}
