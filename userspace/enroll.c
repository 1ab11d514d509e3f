// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: the enroll command, as systemd-cryptenroll runs it: unlock the
 * volume key with an existing passphrase, add what the options ask for
 * (each token method's enroll(), token/token.h), then --wipe-slot, never
 * removing what was just added nor the last keyslot that opens the volume.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "luks.h"
#include "secure_mem.h"
#include "token/token.h"
#include "util.h"

/* --wipe-slot names of systemd's token types (systemd-cryptenroll(1)). */
static const struct {
	const char *name;
	const char *type;
} wipe_types[] = {
	{ "recovery", "systemd-recovery" },
	{ "tpm2", "systemd-tpm2" },
	{ "pkcs11", "systemd-pkcs11" },
	{ "fido2", "systemd-fido2" },
};

#define NR_WIPE_TYPES (sizeof(wipe_types) / sizeof(wipe_types[0]))

struct wipe_req {
	uint32_t slots;		/* explicit keyslot numbers */
	bool all, empty, password;
	unsigned int types;	/* bit i: wipe_types[i] */
};

static int parse_wipe(const char *list, struct wipe_req *w)
{
	char *copy = strdup(list), *save = NULL, *tok;
	unsigned int n;
	size_t i;
	int r = 0;

	memset(w, 0, sizeof(*w));
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "all")) {
			w->all = true;
		} else if (!strcmp(tok, "empty")) {
			w->empty = true;
		} else if (!strcmp(tok, "password")) {
			w->password = true;
		} else if (!parse_uint(tok, &n)) {
			if (n >= LUKS2_KEYSLOTS_MAX) {
				log_err("invalid --wipe-slot entry '%s': keyslots are 0 to %d", tok,
					LUKS2_KEYSLOTS_MAX - 1);
				r = -EINVAL;
				break;
			}
			w->slots |= 1U << n;
		} else {
			for (i = 0; i < NR_WIPE_TYPES && strcmp(tok, wipe_types[i].name); i++)
				;
			if (i == NR_WIPE_TYPES) {
				log_err("invalid --wipe-slot entry '%s': all, empty, password, recovery, tpm2, pkcs11, fido2 or a keyslot number",
					tok);
				r = -EINVAL;
				break;
			}
			w->types |= 1U << i;
		}
	}
	if (!r && !w->slots && !w->all && !w->empty && !w->password && !w->types) {
		log_err("--wipe-slot needs at least one entry");
		r = -EINVAL;
	}
	free(copy);
	return r;
}

/* Keyslots that open with an empty passphrase (--wipe-slot=empty). */
static uint32_t empty_pass_slots(struct luks2 *l, uint32_t in_use)
{
	void *buf = secure_alloc(LUKS2_VK_MAX);
	uint32_t found = 0;
	size_t len;
	int slot;

	if (!buf)
		return 0;
	for (slot = 0; slot < LUKS2_KEYSLOTS_MAX; slot++)
		if ((in_use & (1U << slot)) && luks2_unlock(l, slot, "", 0, buf, LUKS2_VK_MAX, &len) >= 0)
			found |= 1U << slot;
	secure_free(buf);
	return found;
}

static int type_index(const char *type)
{
	size_t i;

	for (i = 0; type && i < NR_WIPE_TYPES; i++)
		if (!strcmp(type, wipe_types[i].type))
			return (int)i;
	return -1;
}

/*
 * What --wipe-slot removes, systemd-cryptenroll's way: the keyslots named
 * by number, scope (all, empty) and token type; "password" keyslots are
 * those no token names.  A token goes with its keyslots, unless one of them
 * is kept (then the token and all its keyslots stay).  KEEP: just enrolled.
 */
static void plan_wipe(struct luks2 *l, const struct wipe_req *w, uint32_t keep,
		      uint32_t *wipe_out, uint64_t *tokens_out)
{
	uint32_t in_use = luks2_keyslots_in_use(l), wipe = w->slots, listed = 0, ks;
	uint64_t tokens = 0;
	int id, t;

	if (w->all)
		wipe |= in_use;
	if (w->empty)
		wipe |= empty_pass_slots(l, in_use & ~keep & ~wipe);
	luks2_token_foreach(l, id) {
		ks = luks2_token_keyslots(l, id);
		t = type_index(luks2_token_type(l, id));
		if (t >= 0 && (w->types & (1U << t)))
			wipe |= ks;
		listed |= ks;
	}
	if (w->password)
		wipe |= in_use & ~listed;
	wipe &= ~keep;
	luks2_token_foreach(l, id) {
		ks = luks2_token_keyslots(l, id);
		if (ks & keep)
			keep |= ks;
		else if (ks & wipe && id < 64) {
			wipe |= ks;
			tokens |= 1ULL << id;
		}
	}
	*wipe_out = wipe & ~keep & in_use;
	*tokens_out = tokens;
}

static void slot_list(uint32_t mask, char *buf, size_t len)
{
	size_t n = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < LUKS2_KEYSLOTS_MAX && n < len; i++)
		if (mask & (1U << i))
			n += (size_t)snprintf(buf + n, len - n, "%s%d", n ? "," : "", i);
}

static int do_wipe(struct luks2 *l, const char *device, const struct wipe_req *w, uint32_t keep)
{
	uint32_t wipe, usable = luks2_keyslots_usable(l);
	uint64_t tokens;
	char list[128];
	int id, slot, r;

	plan_wipe(l, w, keep, &wipe, &tokens);
	if (!wipe && !tokens) {
		log_verbose("No keyslot matches --wipe-slot: nothing to wipe.");
		return 0;
	}
	slot_list(wipe, list, sizeof(list));
	if (!(usable & ~wipe)) {
		log_err(ngettext("refusing to wipe keyslot %s of %s: no keyslot that opens the volume would remain",
				 "refusing to wipe keyslots %s of %s: no keyslot that opens the volume would remain",
				 (unsigned long)__builtin_popcount(wipe)), list, device);
		return -EINVAL;
	}
	/* tokens first: a keyslot without its token is a plain passphrase */
	for (id = 0; id < 64; id++) {
		if (!(tokens & (1ULL << id)))
			continue;
		r = luks2_token_remove(l, id);
		if (r) {
			log_err("cannot remove token %d of %s: %s", id, device, luks2_error(l));
			return r == -ESTALE ? r : -EINVAL;
		}
		log_verbose("Token %d removed.", id);
	}
	for (slot = 0; slot < LUKS2_KEYSLOTS_MAX; slot++) {
		if (!(wipe & (1U << slot)))
			continue;
		r = luks2_kill_slot(l, slot);
		if (r) {
			log_err("cannot wipe keyslot %d of %s: %s", slot, device, luks2_error(l));
			return r == -ESTALE ? r : -EINVAL;
		}
		log_verbose("Key slot %d wiped.", slot);
	}
	fprintf(stderr, ngettext("Wiped keyslot %s.\n", "Wiped keyslots %s.\n",
				 (unsigned long)__builtin_popcount(wipe)), list);
	return 0;
}

int cmd_enroll(const struct vault_opts *o, int argc, char **argv)
{
	const char *device = argv[0];
	struct token_ctx ctx = { .o = o, .device = device };
	struct wipe_req w;
	struct luks2 *l = NULL;
	struct stat st;
	uint32_t keep = 0, missing;
	size_t vk_len = 0, i, wanted = 0;
	void *vk = NULL;
	char list[128];
	int r;

	(void)argc;
	for (i = 0; token_methods[i]; i++)
		if (token_methods[i]->wanted && token_methods[i]->wanted(o))
			wanted++;
	if (!wanted && !o->wipe_slot) {
		log_err("nothing to enroll: give --recovery-key, --tpm2-device, --pkcs11-token-uri or --clevis PIN CONFIG (and/or --wipe-slot=...)");
		return -EINVAL;
	}
	if (o->wipe_slot) {
		r = parse_wipe(o->wipe_slot, &w);
		if (r)
			return r;
	}
	/* refused before any prompt; created with O_EXCL at enrolment */
	if (o->recovery_key_file && !lstat(o->recovery_key_file, &st)) {
		log_err("%s already exists: refusing to overwrite it with a recovery key",
			o->recovery_key_file);
		return -EEXIST;
	}
	r = luks_load(device, true, &l);
	if (r)
		return r;
	ctx.l = l;
	missing = o->wipe_slot ? w.slots & ~luks2_keyslots_in_use(l) : 0;
	if (missing) {
		slot_list(missing, list, sizeof(list));
		log_err("--wipe-slot: keyslot %s of %s is not in use", list, device);
		r = -EINVAL;
		goto out;
	}
	r = luks_unlock(o, l, device, -1, &vk, &vk_len, NULL);
	if (r < 0)
		goto out;
	for (i = 0; token_methods[i]; i++) {
		const struct token_method *m = token_methods[i];

		if (!m->wanted || !m->wanted(o))
			continue;
		ctx.why[0] = '\0';
		r = m->enroll(&ctx, vk, vk_len);
		if (r < 0) {
			if (r != -EINTR)
				log_err("cannot enroll %s on %s: %s", m->type, device,
					ctx.why[0] ? ctx.why : strerror(-r));
			goto out;
		}
		keep |= 1U << r;
	}
	r = o->wipe_slot ? do_wipe(l, device, &w, keep) : 0;
out:
	secure_free(vk);
	luks2_free(l);
	return r < 0 ? r : 0;
}
