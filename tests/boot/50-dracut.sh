#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Root on a vault LUKS2 volume, initramfs from dracut with our module
# (userspace/boot/dracut/90vault); 1-3 with dracut's own shell init (no
# systemd in the initramfs: vaultctl asks on the console), 4 with systemd:
#   1. a wrong passphrase is refused, the prompt returns, the right one
#      boots the real root (its init prints the marker);
#   2. `tries` wrong passphrases end in dracut's emergency shell with a
#      message naming the volume, not a hang;
#   3. a key file copied into the initramfs unlocks without typing (the
#      entry names the device by UUID=);
#   4. with systemd in the initramfs (dracut's default on Debian), the
#      units of vault-generator ask through systemd-ask-password, again
#      after a wrong passphrase, and open the root; `tries` wrong ones
#      start emergency mode at once;
# (5, a TPM2 token with both inits, is 55-dracut-tpm2.sh.)
# The module is used from the repository through a private dracut base
# directory (symlinks to /usr/lib/dracut plus 90vault): nothing is
# installed under /usr/lib.  Skips when dracut is not installed.
# one-kernel: the dracut module and its scripts (userspace), the same on every kernel; booting from an initramfs that loads dm-vault is 10-passphrase's, on every kernel
. "$(dirname "$0")/lib.sh"

command -v dracut > /dev/null || ktap_skip_dep "dracut is not installed (apt-get install dracut-core)"
[ -d /usr/lib/dracut/modules.d/99base ] || ktap_skip "dracut's modules are not in /usr/lib/dracut/modules.d"

boot_prepare || ktap_fail_all "the root fs or disk image could not be made"
. "$(dirname "$0")/dracut.sh"

cmdline="root=/dev/mapper/$BOOT_NAME rootfstype=ext4 panic=-1 rd.retry=60"

# --- 1 and 2: passphrase -----------------------------------------------------
tab=$BOOT_KDIR/vaulttab-dracut-pass
echo "$BOOT_NAME /dev/vda none luks,tries=2,initramfs" > "$tab"
img=$(dracut_build pass "$tab") || ktap_fail_all "dracut could not build the initramfs"
ktap_pass "dracut builds an initramfs with the vault module"
ktap_check "it holds vaultctl, dm-vault.ko and the hook" \
	bash -c "lsinitrd '$img' 2>/dev/null | grep -q 'usr/sbin/vaultctl\$' &&
		lsinitrd '$img' 2>/dev/null | grep -q 'updates/dm-vault.ko' &&
		lsinitrd '$img' 2>/dev/null | grep -q 'initqueue/settled/50-vault-settled.sh\$'"
ktap_check "its /etc/vaulttab is the root's entry" \
	bash -c "[ \"\$(lsinitrd -f etc/vaulttab '$img' 2>/dev/null)\" = '$BOOT_NAME /dev/vda none luks,tries=2,initramfs' ]"
ktap_check "dracut wrote no vault warning" not grep -a 'vault:' "$BOOT_KDIR/dracut-pass.log"

boot_new_nonce
boot_qemu 50-dracut-pass "$img" "$cmdline" <<EOF
$BOOT_FAIL_STEPS
fail Dropping to debug shell
absent $BOOT_PASS
absent $BOOT_WRONG
expect 240 Enter passphrase for $BOOT_NAME (/dev/vda):
send $BOOT_WRONG
expect 60 No key available with this passphrase
expect 60 Enter passphrase for $BOOT_NAME (/dev/vda):
send $BOOT_PASS
expect 120 $(boot_marker)
exit 30
EOF
ktap_check "dracut: wrong passphrase refused, prompt again, right one boots the root" test $? -eq 0

boot_new_nonce
boot_qemu 50-dracut-tries "$img" "$cmdline" <<EOF
$BOOT_FAIL_STEPS
fail VAULT-ROOT-OK
absent $BOOT_WRONG
expect 240 Enter passphrase for $BOOT_NAME (/dev/vda):
send $BOOT_WRONG
expect 60 Enter passphrase for $BOOT_NAME (/dev/vda):
send $BOOT_WRONG
expect 60 $BOOT_NAME: no passphrase matched after 2 tries
expect 30 vault: $BOOT_NAME (/dev/vda) is not unlocked (vaultctl exited with status
expect 30 dm-vault: a volume the root needs could not be unlocked
expect 60 Dropping to debug shell.
expect 30 vault:/#
send echo o > /proc/sysrq-trigger
exit 60
EOF
ktap_check "dracut: after tries wrong passphrases, an emergency shell naming the volume" \
	test $? -eq 0

# --- 3: key file ------------------------------------------------------------
key=$BOOT_KDIR/dracut-key
cp "$BOOT_KEYFILE" "$key"
chmod 0400 "$key"
tab=$BOOT_KDIR/vaulttab-dracut-key
echo "$BOOT_NAME UUID=$BOOT_UUID $key luks,initramfs" > "$tab"
img=$(dracut_build key "$tab") || ktap_fail_all "dracut could not build the key file initramfs"
ktap_check "the key file is in the initramfs, mode 0400, and the entry points there" \
	bash -c "lsinitrd '$img' 2>/dev/null | grep -q '^-r-------- .* etc/vault/keys/$BOOT_NAME.key\$' &&
		[ \"\$(lsinitrd -f etc/vaulttab '$img' 2>/dev/null)\" = '$BOOT_NAME UUID=$BOOT_UUID /etc/vault/keys/$BOOT_NAME.key luks,initramfs' ]"
ktap_check "a key file readable by root only gives no warning" \
	not grep -a 'vault:' "$BOOT_KDIR/dracut-key.log"

boot_new_nonce
boot_qemu 50-dracut-key "$img" "$cmdline" <<EOF
$BOOT_FAIL_STEPS
fail Enter passphrase
fail Dropping to debug shell
expect 240 $(boot_marker)
exit 30
EOF
ktap_check "dracut: the key file in the initramfs unlocks the root without typing" test $? -eq 0

# The module warns about a key file others may read (no boot needed).
loose=$BOOT_KDIR/dracut-key-loose
cp "$BOOT_KEYFILE" "$loose"
chmod 0644 "$loose"
tab=$BOOT_KDIR/vaulttab-dracut-loose
echo "$BOOT_NAME UUID=$BOOT_UUID $loose luks,initramfs" > "$tab"
if img=$(dracut_build loose "$tab"); then
	ktap_check "a key file with mode 0644: dracut warns, naming it" \
		grep -aq "vault: $BOOT_NAME: key file $loose has mode 644" "$BOOT_KDIR/dracut-loose.log"
	ktap_check "the copy in the initramfs is still 0400" \
		bash -c "lsinitrd '$img' 2>/dev/null | grep -q '^-r-------- .* etc/vault/keys/$BOOT_NAME.key\$'"
else
	ktap_fail "dracut could not build the loose key file initramfs"
fi

# --- 4: systemd in the initramfs ---------------------------------------------
# dracut's default on a systemd machine: vault-generator writes
# vault@vroot.service, vault-unlock asks through systemd-ask-password (the
# console agent).  Passphrases are typed only once the agent has turned
# echo off ("press TAB").  systemd only switches into a root that holds an
# os-release file: the test root fs has one.
tab=$BOOT_KDIR/vaulttab-dracut-systemd
echo "$BOOT_NAME /dev/vda none luks,tries=3,initramfs" > "$tab"
if img=$(dracut_build systemd "$tab" systemd); then
	ktap_check "the systemd initramfs holds vault-generator and vault-unlock" \
		bash -c "lsinitrd '$img' 2>/dev/null | grep -q 'system-generators/vault-generator\$' &&
			lsinitrd '$img' 2>/dev/null | grep -q 'usr/lib/dm-vault/vault-unlock\$'"
	# sd_answer TEXT: the steps answering one systemd-ask-password prompt.
	sd_answer() {
		printf 'expect 60 Enter passphrase for %s (/dev/vda):\n' "$BOOT_NAME"
		printf 'expect 20 (press TAB for no echo)\nsend %s\n' "$1"
	}
	sd_cmdline="$cmdline SYSTEMD_COLORS=0 systemd.journald.forward_to_console=1"
	boot_new_nonce
	boot_qemu 50-dracut-systemd "$img" "$sd_cmdline" <<EOF
$BOOT_FAIL_STEPS
fail vault-unlock: $BOOT_NAME: no passphrase matched
expect 300 Starting vault@$BOOT_NAME.service
$(sd_answer "$BOOT_WRONG")
$(sd_answer "$BOOT_PASS")
expect 60 Finished vault@$BOOT_NAME.service
expect 120 $(boot_marker)
exit 30
EOF
	ktap_check "dracut + systemd: vault@$BOOT_NAME.service asks again after a wrong passphrase, then opens the root" \
		test $? -eq 0
	boot_new_nonce
	boot_qemu 50-dracut-systemd-tries "$img" "$sd_cmdline" <<EOF
$BOOT_FAIL_STEPS
fail Finished vault@$BOOT_NAME.service
expect 300 Starting vault@$BOOT_NAME.service
$(sd_answer "$BOOT_WRONG")
$(sd_answer "$BOOT_WRONG")
$(sd_answer "$BOOT_WRONG")
expect 60 vault-unlock: $BOOT_NAME: no passphrase matched after 3 tries
expect 60 Failed to start vault@$BOOT_NAME.service
expect 60 Entering emergency mode
EOF
	ktap_check "dracut + systemd: after tries wrong passphrases, emergency mode at once, naming the volume" \
		test $? -eq 0
else
	ktap_fail "dracut could not build the systemd initramfs"
fi

ktap_finish
