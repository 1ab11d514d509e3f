#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Root on an LVM logical volume inside a vault LUKS2 volume (disk-lvm.img:
# vault volume -> PV -> VG vaultvg -> LV root), initramfs from Debian's
# mkinitramfs with our hook and lvm2's: the passphrase prompt appears, the
# passphrase typed opens the vault volume, the VG is activated after it
# (lvm2's udev rule sees the new PV; the LV is dm-1, the vault volume
# dm-0), and the root LV boots (its init prints the marker).
. "$(dirname "$0")/lib.sh"

command -v lvm > /dev/null || ktap_skip_dep "lvm2 is not installed"
[ -x /usr/share/initramfs-tools/hooks/lvm2 ] || ktap_skip_dep "lvm2's initramfs-tools hook is missing"

boot_prepare || ktap_fail_all "the root fs or disk image could not be made"
boot_lvm_disk || ktap_fail_all "the LVM disk image could not be made"
lvroot=/dev/mapper/$BOOT_LVM_VG-$BOOT_LVM_LV

tab=$BOOT_KDIR/vaulttab-lvm
echo "$BOOT_NAME /dev/vda none luks,tries=2,initramfs" > "$tab"
initrd=$(boot_mkinitramfs lvm "$tab" 0077 "VAULT_ROOT=$lvroot") ||
	ktap_fail_all "mkinitramfs failed"
ktap_check "the hook wrote no warning" not grep -a 'W: vault' "$BOOT_KDIR/initrd-lvm.log"

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
ktap_finish
