#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A detached LUKS2 header at boot: the root's entry says header=FILE and
# its disk holds no header.  The disk is a copy of disk.img whose header
# area is zeroed, its header saved first with cryptsetup luksHeaderBackup
# (the oracle: a header file plus the data at the data offset it records
# is a detached-header volume).  The hook copies the header file to
# /etc/vault/headers/vroot.hdr (mode 0400, entry rewritten, as key files)
# and the root boots from it with its key file, nothing typed; the same
# with dracut's module and its shell init.  A header file that does not
# exist stops mkinitramfs, naming the line and entry.
# check-extended: two more boots (about 45 s under TCG) for what the host test initramfs-no-module.sh checks without booting (the copy into the image) and the guest vaulttab test checks for open --all
. "$(dirname "$0")/lib.sh"

boot_prepare || ktap_fail_all "the root fs or disk image could not be made"
command -v cryptsetup >/dev/null || ktap_skip_dep "cryptsetup (the oracle) is not installed"

hdr=$BOOT_KDIR/detached.hdr
disk=$BOOT_KDIR/disk-detached.img
rm -f "$hdr" "$disk"
cryptsetup --disable-locks luksHeaderBackup "$BOOT_DIR/disk.img" --header-backup-file "$hdr" ||
	ktap_fail_all "cryptsetup luksHeaderBackup of disk.img"
cp --sparse=always "$BOOT_DIR/disk.img" "$disk" || ktap_fail_all "cannot copy disk.img"
# the header area (both copies and the keyslots): what the backup holds
size=$(stat -c %s "$hdr")
dd if=/dev/zero of="$disk" bs=4096 count=$((size / 4096)) conv=notrunc status=none ||
	ktap_fail_all "cannot wipe the copy's header"
ktap_check "the copy holds no LUKS2 header" not cryptsetup --disable-locks isLuks "$disk"
ktap_check "cryptsetup opens it with --header (the key file)" \
	cryptsetup --disable-locks open --test-passphrase --header "$hdr" --key-file "$BOOT_KEYFILE" "$disk"

key=$BOOT_KDIR/key-detached
install -m 0400 "$BOOT_KEYFILE" "$key"
chmod 0400 "$hdr"
tab=$BOOT_KDIR/vaulttab-detached
# /dev/vda: no UUID= (the disk has no header to carry one)
echo "$BOOT_NAME /dev/vda $key header=$hdr,initramfs" > "$tab"
initrd=$(boot_mkinitramfs detached "$tab" 0077 VAULT_ROOT=/dev/nonexistent) ||
	ktap_fail_all "mkinitramfs failed"

# in_image PATH SRC: the image unpacked in $x holds SRC's bytes at PATH, mode 0400
in_image() { [ "$(stat -c %a "$x$1" 2>/dev/null)" = 400 ] && cmp -s "$2" "$x$1"; }
# image_checks GENERATOR IMAGE: the header and the rewritten entry in IMAGE
image_checks() {
	if x=$(boot_unpack "$2" "$BOOT_KDIR/unpacked-detached"); then
		ktap_check "$1: the header file is in the initramfs, mode 0400, its bytes" \
			in_image "/etc/vault/headers/$BOOT_NAME.hdr" "$hdr"
		ktap_check "$1: the entry points to it (and to the key file's copy)" \
			grep -qx "$BOOT_NAME /dev/vda /etc/vault/keys/$BOOT_NAME.key header=/etc/vault/headers/$BOOT_NAME.hdr,initramfs *" \
			"$x/etc/vaulttab"
	else
		ktap_fail "$1: unmkinitramfs $2"
	fi
	rm -rf "$BOOT_KDIR/unpacked-detached"
}
image_checks initramfs-tools "$initrd"

boot_new_nonce
# steps: nothing asked, the device not probed for a header, the root's
# marker (this boot's nonce)
steps() {
	printf '%s\n' "$BOOT_FAIL_STEPS" 'fail not a LUKS2 volume' 'fail vault: cannot unlock' \
		'fail Enter passphrase' 'fail Dropping to debug shell' "expect 240 $(boot_marker)" 'exit 30'
}
BOOT_DISK=$disk boot_qemu 45-detached-header "$initrd" "root=/dev/mapper/$BOOT_NAME panic=-1" < <(steps)
ktap_check "the root boots from the disk without a header, the header in the initramfs" test $? -eq 0

# dracut (its shell init, no systemd), the same entry
if command -v dracut > /dev/null && [ -d /usr/lib/dracut/modules.d/99base ]; then
	. "$(dirname "$0")/dracut.sh"
	if img=$(dracut_build detached "$tab"); then
		image_checks dracut "$img"
		boot_new_nonce
		BOOT_DISK=$disk boot_qemu 45-detached-header-dracut "$img" \
			"root=/dev/mapper/$BOOT_NAME rootfstype=ext4 panic=-1 rd.retry=60" < <(steps)
		ktap_check "dracut: the root boots from the disk without a header" test $? -eq 0
	else
		ktap_fail "dracut could not build the initramfs"
	fi
else
	ktap_diag "dracut is not installed: its boot is left out"
fi

# A header file that does not exist: no image (it could not open the root).
tab=$BOOT_KDIR/vaulttab-nohdr
printf '# a comment\n%s /dev/vda %s header=%s,initramfs\n' \
	"$BOOT_NAME" "$key" "$BOOT_KDIR/no-such.hdr" > "$tab"
# refused: mkinitramfs fails, and says which file, line and entry
refused() {
	! boot_mkinitramfs nohdr "$tab" 0077 VAULT_ROOT=/dev/nonexistent > /dev/null 2>&1 &&
		grep -aq "detached header file $BOOT_KDIR/no-such.hdr ($tab:2, $BOOT_NAME, header=) does not exist" \
			"$BOOT_KDIR/initrd-nohdr.log"
}
ktap_check "mkinitramfs refuses it, naming the header file, the line and the entry" refused
rm -f "$disk"
ktap_finish
