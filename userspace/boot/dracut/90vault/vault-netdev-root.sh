#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# dracut initqueue/settled hook, systemd in the initramfs, an entry that
# needs the network (sourced by dracut-initqueue on every round).
#
# vault-generator orders a `_netdev` entry's vault@NAME.service after
# remote-fs-pre.target, as systemd-cryptsetup-generator does: there, after
# dracut-initqueue.service, which ends once rd.neednet=1's DHCP is done, so
# the clevis token runs with the network up.  But dracut's rootfs-generator
# also makes the initqueue wait for the root device, which only appears
# once that unit has run: neither would go on until rd.retry ends the boot
# ("Could not boot").  dracut lifts that wait itself only for
# systemd-cryptsetup@*.service units ordered so (the condition in its hook
# file); this does the same for ours: the root's hook (the one naming
# remote-fs-pre.target) is removed, and systemd still waits for the root
# device (sysroot.mount, initrd.target).
#
# No network at all (no device, no DHCP answer): as vault-dracut-open does
# with the shell init, the wait ends 30 s after the first round: the
# rd.neednet=1 wait is lifted, so the units run, the clevis token fails and
# the passphrase is asked, instead of dracut's "Could not boot" after
# rd.retry.
#
# Environment (tests): VAULT_GENERATOR_DIR (default /run/systemd/generator),
# VAULT_STATE (default /run/vault), VAULT_GETTEXT (default
# /usr/lib/dm-vault/vault-gettext.sh).

# shellcheck disable=SC2154 # dracut-initqueue sets hookdir
if grep -qs '^After=remote-fs-pre\.target' "${VAULT_GENERATOR_DIR:-/run/systemd/generator}"/vault@*.service; then
	for vault_f in "$hookdir"/initqueue/finished/devexists-*.sh; do
		grep -qs 'remote-fs-pre\.target' "$vault_f" && rm -f "$vault_f"
	done
	unset vault_f
fi

vault_state=${VAULT_STATE:-/run/vault}
if [ ! -e "$vault_state/net-done" ] && mkdir -p "$vault_state"; then
	for vault_f in /tmp/net.*.did-setup; do
		[ -e "$vault_f" ] && : >"$vault_state/net-done"
	done
	read -r vault_now _ </proc/uptime
	vault_now=${vault_now%.*}
	[ -e "$vault_state/net-since" ] || echo "$vault_now" >"$vault_state/net-since"
	read -r vault_since <"$vault_state/net-since"
	if [ ! -e "$vault_state/net-done" ] && [ $((vault_now - vault_since)) -ge 30 ]; then
		# in a subshell: vault-gettext.sh's exports must not reach
		# dracut-initqueue (the same message as vault-dracut-open's)
		(
			NET_WAIT=30
			. "${VAULT_GETTEXT:-/usr/lib/dm-vault/vault-gettext.sh}"
			echo "$(eval_gettext 'vault: the network is not up after $NET_WAIT s; unlocking without it')"
		) >&2
		rm -f "$hookdir/initqueue/finished/wait-network.sh"
		: >"$vault_state/net-done"
	fi
	unset vault_f vault_now vault_since
fi
unset vault_state
