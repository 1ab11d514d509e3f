#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A wrong passphrase is refused with cryptsetup's message, the prompt comes
# back, and the right one then boots the real root (tries=2).
# one-kernel: the boot scripts' prompts, tries and key files, the same on every kernel (10-passphrase boots each); make check boots it on the newest kernel, make check-extended on the others
. "$(dirname "$0")/lib.sh"

boot_prepare || ktap_fail_all "the root fs or disk image could not be made"
initrd=$(boot_pass_initrd) || ktap_fail_all "mkinitramfs failed"

boot_new_nonce
boot_qemu 20-wrong-passphrase "$initrd" "root=/dev/mapper/$BOOT_NAME panic=-1" <<EOF2
$BOOT_FAIL_STEPS
fail vault: cannot unlock
absent $BOOT_WRONG
expect 180 Enter passphrase for $BOOT_NAME (/dev/vda):
send $BOOT_WRONG
expect 60 No key available with this passphrase.
expect 30 Enter passphrase for $BOOT_NAME (/dev/vda):
send $BOOT_PASS
expect 120 $(boot_marker)
exit 30
EOF2
ktap_check "wrong passphrase refused, prompt again, right one boots" test $? -eq 0
ktap_finish
