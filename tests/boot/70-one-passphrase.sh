#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Root and home on vault, both opened by the initramfs (home marked
# `initramfs`, on a second disk /dev/vdb), initramfs-tools with our hook:
#   - same passphrase: one prompt (root's); home opens with the passphrase
#     typed for the root, nothing more is asked;
#   - home with another passphrase: after the root's, home's own prompt
#     appears, and its passphrase opens it.
# one-kernel: the boot scripts' prompts, tries and key files, the same on every kernel (10-passphrase boots each); make check boots it on the newest kernel, make check-extended on the others
. "$(dirname "$0")/lib.sh"

boot_prepare || ktap_fail_all "the root fs or disk image could not be made"

# home_disk FILE PASSPHRASE: a small LUKS2 image made on the host.
home_disk() {
	local f=$1 p=$BOOT_KDIR/home-pass.$$ rc
	rm -f "$f"
	truncate -s 20M "$f" || return 1
	printf '%s' "$2" > "$p"
	"$VAULTCTL" format --batch-mode --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
		--key-file "$p" "$f" > /dev/null
	rc=$?
	rm -f "$p"
	return $rc
}
same=$BOOT_KDIR/home-same.img
other=$BOOT_KDIR/home-other.img
ktap_defer rm -f "$same" "$other"
ktap_check "home disks: one with the root's passphrase, one with another" \
	eval 'home_disk "$same" "$BOOT_PASS" && home_disk "$other" "another home passphrase"' ||
	ktap_fail_all "cannot make the home disks"

tab=$BOOT_KDIR/vaulttab-home
printf '%s\n' "$BOOT_NAME /dev/vda none luks,tries=2" "vhome /dev/vdb none luks,tries=2,initramfs" > "$tab"
initrd=$(boot_mkinitramfs home "$tab" 0077 "VAULT_ROOT=/dev/mapper/$BOOT_NAME") ||
	ktap_fail_all "mkinitramfs failed"
ktap_check "the hook wrote no warning" not grep -a 'W: vault' "$BOOT_KDIR/initrd-home.log"

boot_new_nonce
BOOT_QEMU_EXTRA="-drive file=$same,format=raw,if=virtio,snapshot=on" \
	boot_qemu 70-one-passphrase-same "$initrd" "root=/dev/mapper/$BOOT_NAME panic=-1" <<EOF2
$BOOT_FAIL_STEPS
fail Enter passphrase for vhome
fail is not unlocked
absent $BOOT_PASS
absent another home passphrase
expect 180 Enter passphrase for $BOOT_NAME (/dev/vda):
send $BOOT_PASS
expect 120 $(boot_marker)
expect 10 VAULT-DM vhome
exit 30
EOF2
ktap_check "same passphrase: one prompt opens root and home" test $? -eq 0

boot_new_nonce
BOOT_QEMU_EXTRA="-drive file=$other,format=raw,if=virtio,snapshot=on" \
	boot_qemu 70-one-passphrase-other "$initrd" "root=/dev/mapper/$BOOT_NAME panic=-1" <<EOF2
$BOOT_FAIL_STEPS
fail is not unlocked
fail No key available
absent $BOOT_PASS
absent another home passphrase
expect 180 Enter passphrase for $BOOT_NAME (/dev/vda):
send $BOOT_PASS
expect 60 Enter passphrase for vhome (/dev/vdb):
send another home passphrase
expect 120 $(boot_marker)
expect 10 VAULT-DM vhome
exit 30
EOF2
ktap_check "another passphrase: home's own prompt appears and its passphrase opens it" test $? -eq 0
ktap_finish
