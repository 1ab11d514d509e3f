#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Root on a vault LUKS2 volume, initramfs from Debian's mkinitramfs with our
# hook (the root's entry found from the root's source, not `initramfs`):
# the right passphrase typed on the serial console boots the real root,
# whose init prints this build's token and this boot's nonce.
. "$(dirname "$0")/lib.sh"

boot_prepare || ktap_fail_all "the root fs or disk image could not be made"
initrd=$(boot_pass_initrd) || ktap_fail_all "mkinitramfs failed"
ktap_pass "mkinitramfs with the vault hook"
ktap_check "the hook wrote no warning" not grep -a 'W: vault' "$BOOT_KDIR/initrd-pass.log"

boot_new_nonce
boot_qemu 10-passphrase "$initrd" "root=/dev/mapper/$BOOT_NAME panic=-1" <<EOF2
$BOOT_FAIL_STEPS
absent No key available
absent $BOOT_PASS
expect 180 Enter passphrase for $BOOT_NAME (/dev/vda):
send $BOOT_PASS
expect 120 $(boot_marker)
exit 30
EOF2
ktap_check "the right passphrase boots the root on /dev/mapper/$BOOT_NAME" test $? -eq 0
ktap_finish
