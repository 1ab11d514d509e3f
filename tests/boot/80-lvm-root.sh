#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Root on an LVM logical volume inside a vault LUKS2 volume (disk-lvm.img:
# vault volume -> PV -> VG vaultvg -> LV root), initramfs from Debian's
# mkinitramfs with our hook and lvm2's: the passphrase prompt appears, the
# passphrase typed opens the vault volume, the VG is activated after it
# (lvm2's udev rule sees the new PV; the LV is dm-1, the vault volume
# dm-0), and the root LV boots (its init prints the marker).  Then the same
# with dracut (shell init, modules dm, lvm and our 90vault).
# check-extended: two boots and an LVM disk (~60 s a kernel); the hook side
#   of root on LVM is in make check through guest test 44-initramfs-lvm
. "$(dirname "$0")/lib.sh"

command -v lvm > /dev/null || ktap_skip_dep "lvm2 is not installed"
[ -x /usr/share/initramfs-tools/hooks/lvm2 ] || ktap_skip_dep "lvm2's initramfs-tools hook is missing"

boot_prepare || ktap_fail_all "the root fs or disk image could not be made"
boot_lvm_disk || ktap_fail_all "the LVM disk image could not be made"
lvroot=/dev/mapper/$BOOT_LVM_VG-$BOOT_LVM_LV

# Built where the LV is not active (as here, on the host), the hook cannot
# trace the root to the vault volume: without `initramfs` it says so.
tab=$BOOT_KDIR/vaulttab-lvm-untraced
echo "$BOOT_NAME /dev/vda none luks,tries=2" > "$tab"
ktap_check "an untraceable root LV and no initramfs entry: the hook warns, naming the LV" \
	bash -c "VAULTTAB='$tab' VAULT_ROOT='$lvroot' \
		'$BOOT_REPO/userspace/boot/initramfs-tools/hooks/vault' 2>&1 |
		grep -q 'W: vault: the source of the root, $lvroot, is not there to trace'"

tab=$BOOT_KDIR/vaulttab-lvm
echo "$BOOT_NAME /dev/vda none luks,tries=2,initramfs" > "$tab"
initrd=$(boot_mkinitramfs lvm "$tab" 0077 "VAULT_ROOT=$lvroot") ||
	ktap_fail_all "mkinitramfs failed"
ktap_check "the hook wrote no warning" not grep -a 'W: vault' "$BOOT_KDIR/initrd-lvm.log"
# lvm2's hook: the activation is its udev rule's (no local-top script).
ktap_check "the image holds lvm and lvm2's udev rule 69-lvm.rules" \
	bash -c "lsinitramfs '$initrd' | grep -qx 'usr/sbin/lvm' &&
		lsinitramfs '$initrd' | grep -qx 'usr/lib/udev/rules.d/69-lvm.rules'"

boot_new_nonce
BOOT_DISK=$BOOT_DIR/disk-lvm.img boot_qemu 80-lvm-root "$initrd" "root=$lvroot panic=-1" <<EOF
$BOOT_FAIL_STEPS
fail Gave up waiting for root
fail ALERT!
fail is not unlocked
absent $BOOT_PASS
expect 180 Enter passphrase for $BOOT_NAME (/dev/vda):
send $BOOT_PASS
expect 120 VAULT-ROOT-OK $BOOT_TOKEN $BOOT_NONCE root=$lvroot
expect 10 VAULT-DM $BOOT_NAME
expect 10 VAULT-DM $BOOT_LVM_VG-$BOOT_LVM_LV
exit 30
EOF
ktap_check "the passphrase opens the vault volume, then the VG is activated and the root LV boots" \
	test $? -eq 0

# --- the same with dracut (shell init): 90vault opens the volume from the
# initqueue, dracut's 90lvm rule then sees the PV and queues lvm_scan.
if ! command -v dracut > /dev/null || [ ! -d /usr/lib/dracut/modules.d/90lvm ]; then
	ktap_diag "dracut or its lvm module is not installed: the dracut boot is not run"
	ktap_finish
fi
module=$BOOT_REPO/userspace/boot/dracut/90vault
# _dracut_lvm_build TAB: build/boot/KVER/dracut-lvm.img (cached), from a
# private dracut base directory (the system's modules and ours, symlinked).
_dracut_lvm_build() {
	local tab=$1 out=$BOOT_KDIR/dracut-lvm.img log=$BOOT_KDIR/dracut-lvm.log h base f rc
	h=$(_boot_hash "$(declare -f _dracut_lvm_build)" "$module"/* "$BOOT_REPO/userspace/boot/vault-gettext.sh" \
		"$tab" "$VAULTCTL" \
		"$VAULT_KO" "/lib/modules/$BOOT_KVER/modules.dep" "$(command -v dracut)")
	if _boot_fresh "$out" "$h"; then
		echo "$out"
		return 0
	fi
	base=$BOOT_KDIR/dracut-lvm-base
	rm -rf "$base" "$out"
	mkdir -p "$base/modules.d" "$BOOT_KDIR/dracut-conf.d" "$BOOT_KDIR/tmp"
	for f in /usr/lib/dracut/*; do
		[ "${f##*/}" = modules.d ] || ln -s "$f" "$base/"
	done
	for f in /usr/lib/dracut/modules.d/*; do
		ln -s "$f" "$base/modules.d/"
	done
	ln -s "$module" "$base/modules.d/90vault"
	env dracutbasedir="$base" VAULTTAB="$tab" VAULT_MODULE="$VAULT_KO" VAULTCTL="$VAULTCTL" \
		dracut --force --no-hostonly --no-hostonly-cmdline \
		--conf /dev/null --confdir "$BOOT_KDIR/dracut-conf.d" --tmpdir "$BOOT_KDIR/tmp" \
		--modules "bash base fs-lib rootfs-block dm lvm udev-rules vault" \
		--omit "systemd plymouth" --drivers "virtio_pci virtio_blk ext4" \
		--no-early-microcode --compress "gzip -1" \
		--kver "$BOOT_KVER" "$out" > "$log" 2>&1
	rc=$?
	if [ "$rc" -ne 0 ] || [ ! -s "$out" ]; then
		ktap_diag "dracut failed (exit $rc):"
		sed 's/^/#   /' "$log"
		rm -f "$out"
		return 1
	fi
	echo "$h" > "$out.stamp"
	echo "$out"
}
if img=$(_boot_locked _dracut_lvm_build "$tab"); then
	ktap_check "dracut's image holds lvm and its rule" \
		bash -c "lsinitrd '$img' 2>/dev/null | grep -q 'sbin/lvm\$' &&
			lsinitrd '$img' 2>/dev/null | grep -q '64-lvm.rules\$'"
	boot_new_nonce
	BOOT_DISK=$BOOT_DIR/disk-lvm.img boot_qemu 80-lvm-root-dracut "$img" \
		"root=$lvroot rootfstype=ext4 panic=-1 rd.retry=60" <<EOF
$BOOT_FAIL_STEPS
fail Dropping to debug shell
fail could not be unlocked
fail is not unlocked
absent $BOOT_PASS
expect 240 Enter passphrase for $BOOT_NAME (/dev/vda):
send $BOOT_PASS
expect 120 VAULT-ROOT-OK $BOOT_TOKEN $BOOT_NONCE root=$lvroot
expect 10 VAULT-DM $BOOT_NAME
expect 10 VAULT-DM $BOOT_LVM_VG-$BOOT_LVM_LV
exit 30
EOF
	ktap_check "dracut: the passphrase opens the vault volume, then the VG is activated and the root LV boots" \
		test $? -eq 0
else
	ktap_fail "dracut could not build the initramfs"
fi
ktap_finish
