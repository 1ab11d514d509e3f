#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tries=2, both passphrases wrong: vaultctl gives up, the local-top script
# says which volume could not be unlocked and initramfs-tools' panic() opens
# the rescue shell (no panic= on the command line), which answers a
# command: a clear error within a bounded time, not a hang.  The image has
# no busybox (BUSYBOX=n: initramfs-tools only recommends it), so no awk or
# grep: the message still names the volume's device.
# one-kernel: the boot scripts' prompts, tries and key files, the same on every kernel (10-passphrase boots each); make check boots it on the newest kernel, make check-extended on the others
. "$(dirname "$0")/lib.sh"

boot_prepare || ktap_fail_all "the root fs or disk image could not be made"
tab=$BOOT_KDIR/vaulttab-pass
echo "$BOOT_NAME /dev/vda none luks,tries=2" > "$tab"
initrd=$(boot_mkinitramfs pass-nobusybox "$tab" 0077 "VAULT_ROOT=/dev/mapper/$BOOT_NAME" \
	BUSYBOX=n) || ktap_fail_all "mkinitramfs failed"
if lsinitramfs "$initrd" | grep -qE '(^|/)bin/(busybox|awk)$'; then
	ktap_fail_all "the BUSYBOX=n image holds busybox or awk"
fi

boot_new_nonce
boot_qemu 30-tries-exhausted "$initrd" "root=/dev/mapper/$BOOT_NAME" <<EOF2
$BOOT_FAIL_STEPS
fail VAULT-ROOT-OK
expect 180 Enter passphrase for $BOOT_NAME (/dev/vda):
send $BOOT_WRONG
expect 60 No key available with this passphrase.
expect 30 Enter passphrase for $BOOT_NAME (/dev/vda):
send $BOOT_WRONG-2
expect 60 No key available with this passphrase.
expect 10 no passphrase matched after 2 tries
expect 30 vault: cannot unlock $BOOT_NAME (/dev/vda)
expect 30 (initramfs)
send echo shell-\$((6 * 7))-$BOOT_NONCE
expect 30 shell-42-$BOOT_NONCE
EOF2
ktap_check "after 2 wrong passphrases: clear error and the rescue shell" test $? -eq 0
ktap_finish
