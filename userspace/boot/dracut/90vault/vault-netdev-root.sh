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
# Environment (tests): VAULT_GENERATOR_DIR (default /run/systemd/generator).

# shellcheck disable=SC2154 # dracut-initqueue sets hookdir
if grep -qs '^After=remote-fs-pre\.target' "${VAULT_GENERATOR_DIR:-/run/systemd/generator}"/vault@*.service; then
	for vault_f in "$hookdir"/initqueue/finished/devexists-*.sh; do
		grep -qs 'remote-fs-pre\.target' "$vault_f" && rm -f "$vault_f"
	done
	unset vault_f
fi
