// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: the vaulttab commands: open --all, close --all and tab-check.
 * Each entry is opened by the same code as "vaultctl open" (luks_open,
 * plain_open); errors carry "FILE:LINE: NAME: " through the log context.
 * One entry failing does not stop the others: boot must get as far as it
 * can, and the exit code is that of the first failure that counts.  A
 * passphrase typed for one entry is tried on the later ones before they
 * ask (one passphrase for root and home).
 */
#include <blkid/blkid.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dm.h"
#include "luks2.h"
#include "passphrase.h"
#include "secure_mem.h"
#include "token/tpm2.h"
#include "util.h"
#include "vaultctl.h"
#include "vaulttab.h"

#define CONTEXT_MAX	(4096 + 160)

static const char *tab_path(const struct vault_opts *o)
{
	return o->vaulttab ? o->vaulttab : VAULTTAB_DEFAULT;
}

static void set_context(char *buf, const struct vaulttab *t, const struct vt_entry *e)
{
	snprintf(buf, CONTEXT_MAX, "%s:%u: %s", t->path, e->line, e->name);
	log_set_context(buf);
}

static void keep_first(int *first, int r)
{
	if (r && !*first)
		*first = r;
}

/*
 * Marks in WANT the entries to act on: with NAMEs exactly those (an unknown
 * one is an error), else every entry (for open: those without noauto).
 * Returns the first error, 0 if none.
 */
static int select_entries(const struct vaulttab *t, int argc, char **argv, bool open, bool *want)
{
	int i, r = 0;
	size_t j;

	for (j = 0; j < t->count; j++)
		want[j] = !argc && (!open || !t->entries[j].noauto);
	for (i = 0; i < argc; i++) {
		const struct vt_entry *e = vaulttab_find(t, argv[i]);

		if (e) {
			want[e - t->entries] = true;
		} else if (vaulttab_is_bad(t, argv[i])) {
			/* its line's error is already printed */
			keep_first(&r, -EINVAL);
		} else {
			log_err("%s: no entry named '%s'", t->path, argv[i]);
			keep_first(&r, -EINVAL);
		}
	}
	return r;
}

/* The device node E->device names (a path or a tag); malloc'ed, or NULL. */
static char *resolve_device(const struct vt_entry *e, blkid_cache *cache)
{
	char *path;

	if (!vt_device_is_tag(e->device))
		return strdup(e->device);
	path = blkid_evaluate_tag(e->device, NULL, cache);
	if (!path)
		log_err("no device with %s found", e->device);
	else
		log_dbg("%s is %s", e->device, path);
	return path;
}

/* The options "vaultctl open" would get for E (ALL: open --all's own). */
static void entry_opts(const struct vault_opts *all, const struct vt_entry *e,
		       struct vault_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->volume = e->name;
	o->key_file = e->key_file;
	o->keyfile_offset = e->keyfile_offset;
	o->sector_size = SECTOR_SIZE;
	o->key_slot = e->key_slot;
	o->token_id = -1;	/* any token */
	o->tries = e->tries;
	o->allow_discards = e->discard;
	o->readonly = e->readonly;
	o->same_cpu_crypt = e->same_cpu_crypt;
	o->no_read_workqueue = e->no_read_workqueue;
	o->no_write_workqueue = e->no_write_workqueue;
	o->headless = e->headless;
	o->prompt_timeout_us = e->timeout_us;
	o->token_timeout_us = e->token_timeout_us;
	o->tpm2_no_measure = all->tpm2_no_measure;
	o->token_only = all->token_only;	/* vault-unlock: the TPM before any question */
	o->token_pin_agent = all->token_pin_agent;	/* ... and its PIN through the agents */
	o->tpm2_device = e->tpm2_device;
	o->header = e->header;	/* header=: the LUKS2 header is in this file, the data all on the device */
	/*
	 * systemd uses these only for a volume whose header has no TPM2
	 * metadata; a systemd-tpm2 token always has it (its PCRs, whether it
	 * needs a PIN), so they only matter to an enrolment.
	 */
	if (e->tpm2_pcrs_set)
		o->tpm2_pcr_mask = e->tpm2_pcrs;
	o->tpm2_with_pin = e->tpm2_pin == 1;
	if (e->type == VT_PLAIN) {
		o->type = "plain";
		o->cipher = e->cipher;
		o->key_bits = e->key_bits;
		o->offset = e->offset;
		o->iv_offset = e->skip;
		if (e->sector_size)
			o->sector_size = e->sector_size;
		o->iv_large_sectors = e->iv_large_sectors;
	} else {
		o->type = "luks2";
		o->keyfile_size = e->keyfile_size;
	}
}

/* The device node a tpm2-device= value names (auto: NULL, any TPM), or "" for another TCTI. */
static const char *tpm_node(const char *spec)
{
	if (!spec || !strcmp(spec, "auto"))
		return NULL;
	if (spec[0] == '/')
		return spec;
	if (!strncmp(spec, "device:", 7) && spec[7] == '/')
		return spec + 7;
	return "";
}

static bool tpm_present(const char *node)
{
	if (!node)
		return !access("/dev/tpmrm0", F_OK) || !access("/dev/tpm0", F_OK);
	return !*node || !access(node, F_OK);
}

/*
 * token-timeout=: a volume whose header holds a systemd-tpm2 token waits
 * for its TPM to show up (a driver still probing at boot) up to the
 * entry's token-timeout (0: for ever), polling, before its tokens run.
 * After that the token reports the missing device and the passphrase is
 * asked, as systemd-cryptsetup does.
 */
static void wait_for_tpm(const struct vt_entry *e, const char *dev)
{
	const char *node = tpm_node(e->tpm2_device);
	struct luks2 *l;
	bool has = false;
	uint64_t end;
	int id;

	if (e->type == VT_PLAIN || e->key_file || tpm_present(node))
		return;
	l = luks2_new();
	if (!l)
		return;
	/* header=: the tokens are in the detached header, the device has none */
	if (!luks2_load(l, e->header ? e->header : dev, e->header ? LUKS2_DETACHED : 0)) {
		luks2_token_foreach(l, id) {
			const char *type = luks2_token_type(l, id);

			if (type && !strcmp(type, "systemd-tpm2"))
				has = true;
		}
	}
	luks2_free(l);
	if (!has)
		return;
	if (e->token_timeout_us)
		log_warn("waiting up to %llu s for the TPM2 device %s (token-timeout=)",
			 (unsigned long long)(e->token_timeout_us / 1000000), node ? node : "/dev/tpmrm0");
	else
		log_warn("waiting %llu s for the TPM2 device %s (token-timeout=)",
			 (unsigned long long)(e->token_timeout_us / 1000000), node ? node : "/dev/tpmrm0");
	end = pass_now_us() + e->token_timeout_us;
	while (!tpm_present(node)) {
		if (e->token_timeout_us && pass_now_us() >= end) {
			log_warn("no TPM2 device after %llu s (token-timeout=)",
				 (unsigned long long)(e->token_timeout_us / 1000000));
			return;
		}
		usleep(100000);
	}
}

static int open_entry(const struct vault_opts *all, const struct vt_entry *e, blkid_cache *cache,
		      struct pass_cache *typed)
{
	struct vault_opts o;
	struct vdm_info info;
	char *dev;
	int r;

	r = vdm_info(e->name, &info);
	if (r) {
		log_err("cannot query device-mapper: %s", strerror(-r));
		return r;
	}
	if (info.exists) {
		log_verbose("%s is already open.", e->name);
		return 0;
	}
	dev = resolve_device(e, cache);
	if (!dev)
		return -ENODEV;
	entry_opts(all, e, &o);
	o.pass_cache = typed;
	if (e->header && access(e->header, R_OK)) {
		r = -errno;
		/* the context names the vaulttab line and the entry */
		log_err("detached header file %s (header=): %s", e->header, strerror(-r));
		free(dev);
		return r;
	}
	/* with header=, the device holds no header to recognise: it is LUKS2 */
	if (e->type == VT_AUTO && !e->header) {
		if (access(dev, F_OK)) {
			log_err("device %s does not exist", dev);
			free(dev);
			return -ENODEV;
		}
		if (!luks2_probe(dev)) {
			log_err("%s is not a LUKS2 volume; add 'plain' and its parameters", dev);
			free(dev);
			return -EINVAL;
		}
	}
	wait_for_tpm(e, dev);
	if (e->type == VT_PLAIN)
		r = plain_open(&o, dev, e->name);
	else
		r = luks_open(&o, dev, e->name);
	/* luks_open locks all memory after its KDF; the next entry's KDF must not be */
	secure_unlock_all();
	free(dev);
	return r;
}

static int need_admin(const char *what)
{
	if (have_cap_sys_admin())
		return 0;
	log_err("'%s' needs root privileges (CAP_SYS_ADMIN)", what);
	return -EPERM;
}

/*
 * The start of open --all and close --all: loads the tab into T and marks
 * in *WANT the entries to act on (needs root only when there is one).
 * Returns 0 or the error that stops the command; *FIRST gets the first
 * error that does not (bad lines, unknown names).  *WANT must be freed.
 */
static int load_selection(const struct vault_opts *o, int argc, char **argv, bool open,
			  struct vaulttab *t, bool **want, int *first)
{
	size_t i, n = 0;
	int r;

	*want = NULL;
	r = vaulttab_load(tab_path(o), t);
	if (r)
		return r;
	if (t->errors)
		*first = -EINVAL;
	*want = calloc(t->count + 1, sizeof(**want));
	if (!*want)
		return -ENOMEM;
	keep_first(first, select_entries(t, argc, argv, open, *want));
	for (i = 0; i < t->count; i++)
		n += (*want)[i];
	return n ? need_admin(open ? "open --all" : "close --all") : 0;
}

int cmd_open_all(const struct vault_opts *o, int argc, char **argv)
{
	/* passphrases typed, for all the volumes they open (wiped below) */
	struct pass_cache typed = { 0 };
	char ctx[CONTEXT_MAX];
	blkid_cache cache = NULL;
	struct vaulttab t;
	bool *want;
	int first = 0, r;
	size_t i;

	r = load_selection(o, argc, argv, true, &t, &want, &first);
	if (r)
		goto out;
	/* PCR 15 once every volume had its turn at the TPM */
	tpm2_measure_batch(true, o->tpm2_no_measure);
	for (i = 0; i < t.count; i++) {
		const struct vt_entry *e = &t.entries[i];

		if (!want[i])
			continue;
		set_context(ctx, &t, e);
		r = open_entry(o, e, &cache, &typed);
		if (pass_interrupted()) {	/* Ctrl-C at a prompt stops them all */
			log_set_context(NULL);
			first = r;
			break;
		}
		if (r && e->nofail)
			log_warn("not opened; going on (nofail)");
		else
			keep_first(&first, r);
		log_set_context(NULL);
	}
	tpm2_measure_batch(false, false);
	r = first;
out:
	pass_cache_free(&typed);
	if (cache)
		blkid_put_cache(cache);
	free(want);
	vaulttab_free(&t);
	return r;
}

int cmd_close_all(const struct vault_opts *o, int argc, char **argv)
{
	char ctx[CONTEXT_MAX];
	struct vdm_info info;
	struct vaulttab t;
	bool *want;
	int first = 0, r;
	size_t i;

	r = load_selection(o, argc, argv, false, &t, &want, &first);
	if (r)
		goto out;
	/* Reverse order: a volume listed later may live on one listed earlier. */
	for (i = t.count; i-- > 0;) {
		const struct vt_entry *e = &t.entries[i];
		char *args[1] = { e->name };

		if (!want[i])
			continue;
		set_context(ctx, &t, e);
		r = vdm_info(e->name, &info);
		if (r)
			log_err("cannot query device-mapper: %s", strerror(-r));
		else if (!info.exists)
			log_verbose("%s is not open.", e->name);
		else
			r = cmd_close(o, 1, args);
		if (!r)
			log_verbose("%s is closed.", e->name);
		keep_first(&first, r);
		log_set_context(NULL);
	}
	r = first;
out:
	free(want);
	vaulttab_free(&t);
	return r;
}

/* Warnings about a key file that cannot work, or that others can read. */
static void check_key_file(const struct vt_entry *e)
{
	struct stat st;

	if (!e->key_file)
		return;
	if (stat(e->key_file, &st)) {
		log_warn("key file %s: %s", e->key_file, strerror(errno));
		return;
	}
	if (S_ISREG(st.st_mode) && (st.st_mode & 0077))
		log_warn("key file %s can be read or written by others (mode %04o): use chmod 0400",
			 e->key_file, (unsigned int)(st.st_mode & 07777));
}

/* header=: a detached header file that cannot be read cannot open its volume. */
static void check_header(const struct vt_entry *e)
{
	if (e->header && access(e->header, R_OK))
		log_warn("detached header file %s (header=): %s", e->header, strerror(errno));
}

int cmd_tab_check(const struct vault_opts *o, int argc, char **argv)
{
	char ctx[CONTEXT_MAX], line[VAULTTAB_LINE_MAX + 512];
	struct vaulttab t;
	size_t i;
	int r;

	(void)argc;
	(void)argv;
	r = vaulttab_load(tab_path(o), &t);
	if (r) {
		vaulttab_free(&t);
		return r == -ENOMEM ? r : -EINVAL;
	}
	for (i = 0; i < t.count; i++) {
		const struct vt_entry *e = &t.entries[i];

		set_context(ctx, &t, e);
		check_key_file(e);
		check_header(e);
		log_set_context(NULL);
		if (!log_verbose_level)
			continue;
		if (vt_entry_format(e, line, sizeof(line)))
			log_err("%s:%u: cannot format the entry", t.path, e->line);
		else
			printf("%s\n", line);
	}
	if (t.errors)
		/* one plural per number: the form of each sentence is chosen whole */
		fprintf(stderr, t.count == 1 ?
			ngettext("%s: %u error, %zu good entry\n", "%s: %u errors, %zu good entry\n",
				 t.errors) :
			ngettext("%s: %u error, %zu good entries\n", "%s: %u errors, %zu good entries\n",
				 t.errors), t.path, t.errors, t.count);
	r = t.errors ? -EINVAL : 0;
	vaulttab_free(&t);
	return r;
}
