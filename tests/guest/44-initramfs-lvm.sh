#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The initramfs-tools hook (userspace/boot/initramfs-tools/hooks/vault) on a
# system whose root is an LVM logical volume inside a vault volume: with
# the root's source named as /dev/mapper/VG-LV (as findmnt and fstab give
# it) and no `initramfs` option, the hook traces the LV down to
# its PV, the vault volume, and puts that entry (only it) into the image's
# /etc/vaulttab and /etc/vault/root-names, so that a failure to unlock it at
# boot is the root's failure.  Runs the hook itself, as mkinitramfs would,
# into a scratch DESTDIR.
# one-kernel: the initramfs-tools hook's tracing of root through LVM (userspace), the same on every kernel
. "${VAULT_REPO:?}/tests/lib/ktap.sh"

FAST=(--pbkdf pbkdf2 --pbkdf-force-iterations 1000)
HOOK=$VAULT_REPO/userspace/boot/initramfs-tools/hooks/vault
need_vaultctl
need_cmd lvm
[ -r /usr/share/initramfs-tools/hook-functions ] ||
	ktap_skip_dep "initramfs-tools is not installed"
WORK=$(mktemp -d /tmp/t44.XXXXXX) || ktap_fail_all "mktemp failed"
ktap_defer rm -rf "$WORK"
vault_setup_module || ktap_fail_all "dm-vault.ko cannot be loaded"
loop_setup 24 DEV || ktap_fail_all "cannot set up a loop device"
loop_setup 8 OTHER || ktap_fail_all "cannot set up a loop device"

# LVM without udev and without writing to the read-only /etc.
export LVM_SYSTEM_DIR=$WORK/lvm LVM_SUPPRESS_FD_WARNINGS=1
mkdir -p "$LVM_SYSTEM_DIR"
cat > "$LVM_SYSTEM_DIR/lvm.conf" <<EOF
devices {
	obtain_device_list_from_udev = 0
	use_devicesfile = 0
	filter = [ "a|^/dev/mapper/vt44root\$|", "r|.*|" ]
}
activation {
	udev_sync = 0
	udev_rules = 0
	verify_udev_operations = 0
	monitoring = 0
}
backup {
	backup = 0
	archive = 0
}
EOF
cleanup() {
	lvm vgchange -q -an vt44vg > /dev/null 2>&1
	"$VAULTCTL" close vt44root > /dev/null 2>&1
}
ktap_defer cleanup

printf 'pass for 44' > "$WORK/pass"
ktap_check "a vault volume holding PV, VG vt44vg and LV root (active)" \
	eval '"$VAULTCTL" format "${FAST[@]}" --key-file "$WORK/pass" "$DEV" &&
	"$VAULTCTL" open --key-file "$WORK/pass" "$DEV" vt44root &&
	lvm pvcreate -q /dev/mapper/vt44root && lvm vgcreate -q -s 1m vt44vg /dev/mapper/vt44root &&
	lvm lvcreate -q -Zn -n root -L 4m vt44vg && [ -b /dev/mapper/vt44vg-root ]' ||
	ktap_fail_all "cannot set up LVM on the vault volume"

# Two entries, neither marked `initramfs`: only the root's may be taken.
cat > "$WORK/tab" <<EOF
vt44root $DEV none luks,tries=2
vt44other $OTHER none luks
EOF

# run_hook ROOT: the hook as mkinitramfs runs it, the root's source ROOT.
run_hook() {
	rm -rf "$WORK/dest"
	mkdir -p "$WORK/dest" "$WORK/conf"
	: > "$WORK/conf/modules"
	env DESTDIR="$WORK/dest" version="$(uname -r)" verbose=n CONFDIR="$WORK/conf" \
		TMPDIR="$WORK" VAULTTAB="$WORK/tab" VAULTCTL="$VAULTCTL" VAULT_MODULE="$VAULT_KO" \
		VAULT_ROOT="$1" sh "$HOOK" > "$WORK/hook.log" 2>&1
}
# One run (the hook execs a lot, slow over 9p under TCG), with the name
# fstab and findmnt give: without udev a device node of its own.
root=/dev/mapper/vt44vg-root
ktap_check "the hook succeeds (root $root)" run_hook "$root" ||
	sed 's/^/# hook: /' "$WORK/hook.log"
ktap_check "the image's vaulttab is the vault volume under the LV, only it" \
	eval '[ "$(cat "$WORK/dest/etc/vaulttab")" = "vt44root $DEV none luks,tries=2" ]'
ktap_check "root-names names it" \
	eval '[ "$(cat "$WORK/dest/etc/vault/root-names")" = vt44root ]'
ktap_finish
