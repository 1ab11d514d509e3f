#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A key file in the initramfs: an `initramfs`-marked entry (device given as
# UUID=) whose key file the hook copies to /etc/vault/keys/ (mode 0400,
# entry rewritten) unlocks the root with nothing typed.  The hook's
# permission warnings: none for a 0400 key file and UMASK=0077; both (key
# file mode, initramfs umask) for a 0644 key file and the default umask;
# a needed entry with an error stops mkinitramfs.
# one-kernel: the boot scripts' prompts, tries and key files, the same on every kernel (10-passphrase boots each); make check boots it on the newest kernel, make check-extended on the others
. "$(dirname "$0")/lib.sh"

boot_prepare || ktap_fail_all "the root fs or disk image could not be made"

# Strict: key file 0400, UMASK=0077.  VAULT_ROOT names no vault volume, so
# only the `initramfs` option brings the entry in.
strict=$BOOT_KDIR/key-strict
install -m 0400 "$BOOT_KEYFILE" "$strict"
tab=$BOOT_KDIR/vaulttab-key
echo "$BOOT_NAME UUID=$BOOT_UUID $strict luks,initramfs" > "$tab"
initrd=$(boot_mkinitramfs key "$tab" 0077 VAULT_ROOT=/dev/nonexistent) ||
	ktap_fail_all "mkinitramfs failed"
log=$BOOT_KDIR/initrd-key.log
ktap_check "no warning for a 0400 key file and UMASK=0077" not grep -a 'W: vault' "$log"

x=$BOOT_KDIR/unpacked-key
rm -rf "$x"
if unmkinitramfs "$initrd" "$x" 2>/dev/null; then
	[ -d "$x/main" ] && x=$x/main
	ktap_check "the key file is in the initramfs, mode 0400" \
		test "$(stat -c %a "$x/etc/vault/keys/$BOOT_NAME.key" 2>/dev/null)" = 400
	ktap_check "... with the key's bytes" cmp -s "$BOOT_KEYFILE" "$x/etc/vault/keys/$BOOT_NAME.key"
	ktap_check "the entry points to it" \
		grep -qx "$BOOT_NAME UUID=$BOOT_UUID /etc/vault/keys/$BOOT_NAME.key luks,initramfs" \
		"$x/etc/vaulttab"
	ktap_check "the initramfs holds dm-vault.ko" \
		test -n "$(find "$x/usr/lib/modules/$BOOT_KVER" -name 'dm-vault.ko*' 2>/dev/null)"
else
	ktap_fail "unmkinitramfs $initrd"
fi
rm -rf "$BOOT_KDIR/unpacked-key"

boot_new_nonce
boot_qemu 40-keyfile "$initrd" "root=/dev/mapper/$BOOT_NAME panic=-1" <<EOF2
$BOOT_FAIL_STEPS
fail Enter passphrase
fail vault: cannot unlock
absent vault: waiting for
expect 180 $(boot_marker)
exit 30
EOF2
ktap_check "the key file in the initramfs boots the root, nothing typed" test $? -eq 0

# Loose: the same key file readable by all, mkinitramfs's default umask.
loose=$BOOT_KDIR/key-loose
install -m 0644 "$BOOT_KEYFILE" "$loose"
tab=$BOOT_KDIR/vaulttab-loose
echo "$BOOT_NAME UUID=$BOOT_UUID $loose luks,initramfs" > "$tab"
if boot_mkinitramfs loose "$tab" "" VAULT_ROOT=/dev/nonexistent > /dev/null; then
	log=$BOOT_KDIR/initrd-loose.log
	sed -n 's/^/# mkinitramfs: /p' "$log" | grep -a 'vault'
	ktap_check "warning: key file readable by others" \
		grep -aq "^W: vault: key file $loose .*mode 644" "$log"
	ktap_check "warning: initramfs created readable by others" \
		grep -aq '^W: vault: the initramfs holds 1 key file but is created with umask 0022' "$log"
else
	ktap_fail "mkinitramfs with a loose key file (a warning, not an error)"
fi
# A needed entry with an error: the hook's tab-check stops mkinitramfs
# and names the line (an initramfs that cannot unlock the root is worse).
tab=$BOOT_KDIR/vaulttab-bad
printf '# a comment\n%s UUID=%s %s luks,initramfs,no-such-option\n' \
	"$BOOT_NAME" "$BOOT_UUID" "$strict" > "$tab"
if boot_mkinitramfs bad "$tab" 0077 VAULT_ROOT=/dev/nonexistent > /dev/null 2>&1; then
	ktap_fail "mkinitramfs accepted a vaulttab with an unknown option"
else
	ktap_check "the error names the vaulttab line" \
		grep -aq "$tab:2: .*no-such-option" "$BOOT_KDIR/initrd-bad.log"
fi
ktap_finish
