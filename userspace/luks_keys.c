// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: LUKS2 keyslot commands: add-key, remove-key, change-key,
 * kill-slot.  Every change goes through the luks2 library, which writes
 * new keyslot material before the header naming it and wipes old material
 * after the header that forgot it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "luks.h"
#include "secure_mem.h"
#include "util.h"

/* The new passphrase: from NEW_FILE (whole file) when given, else asked. */
static int read_new_pass(const char *new_file, struct passphrase *p)
{
	return pass_read(new_file, 0, 0, _("Enter new passphrase for key slot: "), true, p);
}

/* The exit code for the library's error R (after its message). */
static int slot_code(int r)
{
	if (r == -ENOMEM || r == -EEXIST || r == -ENOSPC || r == -ESTALE)
		return r == -ENOSPC ? -EINVAL : r;
	return r == -EPERM ? -EACCES : -EINVAL;
}

/* FMT: "cannot ... on %s: %s" (DEVICE, the library's error), a literal */
#define slot_error(l, fmt, device, r) (log_err(fmt, device, luks2_error(l)), slot_code(r))

int cmd_add_key(const struct vault_opts *o, int argc, char **argv)
{
	const char *device = argv[0];
	struct passphrase np = { 0 };
	struct luks2_pbkdf pbkdf;
	struct luks2 *l;
	size_t vk_len;
	void *vk = NULL;
	int r;

	r = luks_load(device, true, &l);
	if (r)
		return r;
	if (o->key_slot >= 0 && (luks2_keyslots_in_use(l) & (1U << o->key_slot))) {
		log_err("keyslot %d of %s is in use", o->key_slot, device);
		r = -EINVAL;
		goto out;
	}
	r = luks_unlock(o, l, device, -1, &vk, &vk_len, NULL);
	if (r < 0)
		goto out;
	r = read_new_pass(argc > 1 ? argv[1] : NULL, &np);
	if (r)
		goto out;
	luks_pbkdf(o, &pbkdf);
	r = luks2_add_keyslot(l, o->key_slot, vk, vk_len, np.buf, np.len, &pbkdf);
	if (r < 0) {
		r = slot_error(l, ("cannot add a keyslot on %s: %s"), device, r);
		goto out;
	}
	log_verbose("Key slot %d created.", r);
	r = 0;
out:
	pass_free(&np);
	secure_free(vk);
	luks2_free(l);
	return r;
}

/* The question before removing SLOT, the last keyslot that opens DEVICE. */
static void last_usable_question(struct luks2 *l, int slot, const char *device,
				 bool kill, char *q, size_t len)
{
	unsigned int unbound = luks_slot_count(l) - luks_usable_count(l);
	int n;

	n = snprintf(q, len, kill ?
		     _("Keyslot %d is the last usable keyslot of %s: after killing it the volume cannot be opened.") :
		     _("Keyslot %d is the last usable keyslot of %s: after removing it the volume cannot be opened."),
		     slot, device);
	if (unbound && n > 0 && (size_t)n < len)
		snprintf(q + n, len - (size_t)n,
			 ngettext(" (%u other keyslot is not bound to the data segment and cannot open it.)",
				  " (%u other keyslots are not bound to the data segment and cannot open it.)",
				  unbound), unbound);
}

int cmd_remove_key(const struct vault_opts *o, int argc, char **argv)
{
	const char *device = argv[0];
	const char *file = argc > 1 ? argv[1] : o->key_file;
	struct vault_opts oo = *o;
	struct passphrase p = { 0 };
	char question[4200];
	struct luks2 *l;
	int r, slot;

	if (argc > 1 && o->key_file) {
		log_err("give the passphrase file either as an argument or with --key-file, not both");
		return -EINVAL;
	}
	oo.key_file = file;
	r = luks_load(device, true, &l);
	if (r)
		return r;
	/* Find the keyslot first: removing the last one needs a confirmation. */
	slot = luks_unlock(&oo, l, device, -1, NULL, NULL, &p);
	if (slot < 0) {
		r = slot;
		goto out;
	}
	/* luks_unlock only opens usable keyslots, so SLOT is one of them */
	if (luks_usable_count(l) == 1) {
		last_usable_question(l, slot, device, false, question, sizeof(question));
		r = luks_confirm(o, question);
		if (r)
			goto out;
	}
	r = luks2_kill_slot(l, slot);
	if (r < 0) {
		r = slot_error(l, ("cannot remove the keyslot on %s: %s"), device, r);
		goto out;
	}
	log_verbose("Key slot %d removed.", slot);
	r = 0;
out:
	pass_free(&p);
	luks2_free(l);
	return r;
}

int cmd_change_key(const struct vault_opts *o, int argc, char **argv)
{
	const char *device = argv[0];
	struct passphrase old = { 0 }, np = { 0 };
	struct luks2_pbkdf pbkdf;
	struct luks2 *l;
	int r, slot;

	r = luks_load(device, true, &l);
	if (r)
		return r;
	slot = luks_unlock(o, l, device, o->key_slot, NULL, NULL, &old);
	if (slot < 0) {
		r = slot;
		goto out;
	}
	r = read_new_pass(argc > 1 ? argv[1] : NULL, &np);
	if (r)
		goto out;
	luks_pbkdf(o, &pbkdf);
	r = luks2_change_key(l, slot, old.buf, old.len, np.buf, np.len, &pbkdf);
	if (r < 0) {
		r = slot_error(l, ("cannot change the passphrase on %s: %s"), device, r);
		goto out;
	}
	log_verbose("Key slot %d has a new passphrase.", r);
	r = 0;
out:
	pass_free(&old);
	pass_free(&np);
	luks2_free(l);
	return r;
}

/*
 * Who may kill a keyslot, as cryptsetup's luksKillSlot: a passphrase is
 * checked unless --batch-mode is given without --key-file on a terminal.
 * It must open a keyslot that stays; only when SLOT is the last usable one
 * is its own passphrase the proof (and removing it is confirmed).  In batch
 * mode, standard input that is not a terminal may carry that passphrase;
 * when it is empty nothing is checked (cryptsetup -q does the same).
 */
static int kill_slot_allowed(const struct vault_opts *o, struct luks2 *l, const char *device,
			     unsigned int slot)
{
	uint32_t usable = luks2_keyslots_usable(l);
	bool last = usable == (1U << slot);
	struct passphrase p = { 0 }, *given = NULL;
	char question[4200];
	int r;

	if (o->batch_mode && !o->key_file) {
		if (isatty(STDIN_FILENO))
			return 0;
		r = pass_read_optional(&p);
		if (r)
			return r;
		if (!p.len) {
			log_verbose("No passphrase on standard input: keyslot %u is killed unchecked (--batch-mode).",
				    slot);
			return 0;
		}
		given = &p;
	}
	if (!(usable & ~(1U << slot)) && !last) {
		log_err("no usable keyslot of %s other than %u can confirm this passphrase; use --batch-mode to kill keyslot %u anyway",
			device, slot, slot);
		pass_free(&p);
		return -EINVAL;
	}
	if (last) {
		/* nothing else opens the volume: the slot's own passphrase */
		r = luks_check_pass(o, l, device, (int)slot, -1, given);
	} else {
		r = luks_check_pass(o, l, device, -1, (int)slot, given);
	}
	pass_free(&p);
	if (r < 0)
		return r;
	if (last && !o->batch_mode) {
		last_usable_question(l, (int)slot, device, true, question, sizeof(question));
		return luks_confirm(o, question);
	}
	return 0;
}

int cmd_kill_slot(const struct vault_opts *o, int argc, char **argv)
{
	const char *device = argv[0];
	unsigned int slot;
	struct luks2 *l;
	int r;

	(void)argc;
	if (parse_uint(argv[1], &slot) || slot >= LUKS2_KEYSLOTS_MAX) {
		log_err("invalid keyslot '%s': a number from 0 to %d", argv[1],
			LUKS2_KEYSLOTS_MAX - 1);
		return -EINVAL;
	}
	r = luks_load(device, true, &l);
	if (r)
		return r;
	if (!(luks2_keyslots_in_use(l) & (1U << slot))) {
		log_err("keyslot %u of %s is not in use", slot, device);
		r = -EINVAL;
		goto out;
	}
	r = kill_slot_allowed(o, l, device, slot);
	if (r)
		goto out;
	r = luks2_kill_slot(l, (int)slot);
	if (r < 0) {
		r = slot_error(l, ("cannot kill the keyslot on %s: %s"), device, r);
		goto out;
	}
	log_verbose("Key slot %u removed.", slot);
	r = 0;
out:
	luks2_free(l);
	return r;
}
