#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Root on a vault LUKS2 volume whose header holds a systemd-tpm2 token
# sealed on the case's software TPM, initramfs from dracut with our module
# (tests/boot/dracut.sh; the images 50-dracut uses):
#   1. dracut's shell init (vault-dracut-open) opens the root with no
#      console input;
#   2. so does systemd in the initramfs (vault-unlock tries the tokens
#      before asking);
#   3. with systemd, a token with a PIN asks for it through
#      systemd-ask-password (vaultctl --token-pin-agent: the question says
#      that a wrong PIN counts against the TPM's dictionary-attack
#      protection and how many tries are left), asks again after a wrong
#      PIN, and the right PIN opens the root; no PIN on the console.
# Its own case (not part of 50-dracut): each case has its own time limit.
# Skips when dracut or swtpm is not installed.
# check-extended: three dracut boots (~90 s a kernel); the TPM path at boot
#   is in make check through 60-tpm2 (initramfs-tools) and the dracut path
#   through 50-dracut
. "$(dirname "$0")/lib.sh"

command -v dracut > /dev/null || ktap_skip_dep "dracut is not installed (apt-get install dracut-core)"
[ -d /usr/lib/dracut/modules.d/99base ] || ktap_skip "dracut's modules are not in /usr/lib/dracut/modules.d"
boot_tpm_require

boot_prepare || ktap_fail_all "the root fs or disk image could not be made"
. "$(dirname "$0")/dracut.sh"

cmdline="root=/dev/mapper/$BOOT_NAME rootfstype=ext4 panic=-1 rd.retry=60"
# The same tabs as 50-dracut's: the same cached images.
echo "$BOOT_NAME /dev/vda none luks,tries=2,initramfs" > "$BOOT_KDIR/vaulttab-dracut-pass"
echo "$BOOT_NAME /dev/vda none luks,tries=3,initramfs" > "$BOOT_KDIR/vaulttab-dracut-systemd"

tpmdisk=$BOOT_KDIR/disk-dracut-tpm2.img
pindisk=$BOOT_KDIR/disk-dracut-tpm2-pin.img
PIN='5820 dracut pin'
WRONG_PIN='3917 not it'
ktap_defer rm -f "$tpmdisk" "$tpmdisk.log" "$pindisk"
if boot_tpm2_disk "$tpmdisk" --with-pin "$PIN" "$pindisk"; then
	img=$(dracut_build pass "$BOOT_KDIR/vaulttab-dracut-pass") &&
	ktap_check "the initramfs holds the TCTI libraries tpm2-tss dlopens" \
		bash -c "lsinitrd '$img' 2>/dev/null | grep -Eq '/libtss2-tcti-device\.so\.0( ->|\$)' &&
			lsinitrd '$img' 2>/dev/null | grep -Eq '/libtss2-tctildr\.so\.0( ->|\$)'"
	boot_new_nonce
	BOOT_DISK=$tpmdisk boot_qemu 55-dracut-tpm2 "$img" "$cmdline" <<EOF
$BOOT_FAIL_STEPS
fail Enter passphrase
fail refused to unlock
fail Dropping to debug shell
expect 240 $(boot_marker)
exit 30
EOF
	ktap_check "dracut: a TPM2 token unlocks the root with no console input" test $? -eq 0
	img=$(dracut_build systemd "$BOOT_KDIR/vaulttab-dracut-systemd" systemd) &&
	boot_new_nonce &&
	BOOT_DISK=$tpmdisk boot_qemu 55-dracut-systemd-tpm2 "$img" \
		"$cmdline SYSTEMD_COLORS=0 systemd.journald.forward_to_console=1" <<EOF
$BOOT_FAIL_STEPS
fail Enter passphrase
fail refused to unlock
fail Entering emergency mode
expect 300 Starting vault@$BOOT_NAME.service
expect 60 Finished vault@$BOOT_NAME.service
expect 120 $(boot_marker)
exit 30
EOF
	ktap_check "dracut + systemd: vault-unlock opens the root with its TPM2 token, nothing asked" \
		test $? -eq 0
	# The PIN through systemd-ask-password (the console agent), typed
	# at a human's pace: what arrives the instant systemd 252's agent
	# shows its question is echoed before it turns echo off (seen on
	# 6.1).  The journal's copy of the refusal may come after the next
	# question: checked in the transcript afterwards.
	da="a wrong PIN counts against the TPM's dictionary-attack protection"
	pinlog=$BOOT_LOGS/boot-$BOOT_KVER-55-dracut-systemd-tpm2-pin.log
	[ -n "$img" ] &&
	boot_new_nonce &&
	BOOT_DISK=$pindisk boot_qemu 55-dracut-systemd-tpm2-pin "$img" \
		"$cmdline SYSTEMD_COLORS=0 systemd.journald.forward_to_console=1" <<EOF
$BOOT_FAIL_STEPS
fail Enter passphrase
fail Entering emergency mode
absent $PIN
absent $WRONG_PIN
expect 300 Starting vault@$BOOT_NAME.service
expect 60 Enter the TPM2 PIN for $BOOT_NAME ($da; 3 of 3 tries left before the TPM locks out):
expect 20 (press TAB for no echo)
pause 2
send $WRONG_PIN
expect 60 Enter the TPM2 PIN for $BOOT_NAME ($da; 2 of 3 tries left before the TPM locks out):
expect 20 (press TAB for no echo)
pause 2
send $PIN
expect 60 Finished vault@$BOOT_NAME.service
expect 120 $(boot_marker)
exit 30
EOF
	ktap_check "dracut + systemd: a PIN token asks through systemd-ask-password (DA warning, tries left), again after a wrong PIN; the PIN opens the root" \
		test $? -eq 0
	ktap_check "... and the wrong PIN's refusal was logged: counted, 2 of 3 tries left" \
		grep -aq "wrong TPM2 PIN; the TPM's dictionary-attack protection counted it: 2 of 3 tries left" "$pinlog"
else
	sed 's/^/# enroll: /' "$tpmdisk.log"
	ktap_fail "vaultctl enroll --tpm2-pcrs=7 in a guest with the case's TPM"
fi
ktap_finish
