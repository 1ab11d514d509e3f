#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The boot splash.  Debian's plymouth puts plymouthd in every initramfs
# (its hook) and starts it (scripts/init-premount/plymouth); on a serial
# console plymouthd forces its details renderer, which draws a question as
# "PROMPT:" and one '*' per typed character.
#   1. `quiet splash`: the prompt comes through plymouth (the '*'s are
#      plymouth's, the console prompt "PROMPT: " is never written), a wrong
#      passphrase typed on the console is refused, the prompt comes back and
#      the right one boots; no passphrase is echoed.
#   2. `quiet splash plymouth.ignore-show-splash`: plymouthd runs but shows
#      no splash, so it answers ask-for-password at once without asking
#      (its trace, plymouth.debug, says so): vaultctl asks on the console,
#      which plymouth left raw with its modes locked: the prompt must still
#      edit its line (a typo erased with Delete).
# one-kernel: the boot scripts' prompts, tries and key files, the same on every kernel (10-passphrase boots each); make check boots it on the newest kernel, make check-extended on the others
. "$(dirname "$0")/lib.sh"

need_cmd plymouth plymouthd
boot_prepare || ktap_fail_all "the root fs or disk image could not be made"
initrd=$(boot_pass_initrd) || ktap_fail_all "mkinitramfs failed"
ktap_check "the initramfs holds plymouthd and the details plugin" boot_has_plymouth "$initrd"

prompt="Enter passphrase for $BOOT_NAME (/dev/vda):"
# stars TEXT: plymouth's details renderer's line once TEXT is typed
stars() { boot_plymouth_stars "$prompt" "$1"; }

boot_new_nonce
boot_qemu 65-plymouth-splash "$initrd" "root=/dev/mapper/$BOOT_NAME panic=-1 quiet splash" <<EOF2
$BOOT_FAIL_STEPS
fail vault: cannot unlock
fail was cancelled
absent $BOOT_WRONG
absent $BOOT_PASS
absent $prompt \r\n
expect 180 $prompt
send $BOOT_WRONG
expect 30 $(stars "$BOOT_WRONG")
expect 60 No key available with this passphrase.
expect 30 $prompt
send $BOOT_PASS
expect 30 $(stars "$BOOT_PASS")
expect 120 $(boot_marker)
exit 30
EOF2
ktap_check "quiet splash: plymouth asks; wrong passphrase refused, the right one boots" test $? -eq 0

boot_new_nonce
boot_qemu 65-plymouth-nosplash "$initrd" \
	"root=/dev/mapper/$BOOT_NAME panic=-1 quiet splash plymouth.ignore-show-splash plymouth.debug=stream:/dev/ttyS0" <<EOF2
$BOOT_FAIL_STEPS
fail vault: cannot unlock
fail was cancelled
fail No key available
absent $BOOT_PASS
absent $prompt*
expect 180 show splash called while ignoring show splash calls
expect 120 no splash loaded, replying immediately with no password
expect 30 $prompt
send ${BOOT_PASS}X\x7f
expect 120 $(boot_marker)
exit 30
EOF2
ktap_check "plymouthd without a splash: asked on the console, the passphrase boots" test $? -eq 0
ktap_finish
