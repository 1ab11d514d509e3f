#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# check-extended: four QEMU boots (11 to 30 s each on TCG: 1 to 2 minutes; over the 30 s budget)
#
# Root on vault with a systemd-pkcs11 token (a SoftHSM2 token stands in for
# the smartcard), initramfs from Debian's mkinitramfs with our hook and a
# vaulttab entry with pkcs11-uri=auto:
#   - the hook put p11-kit's module configs and the modules they name
#     (softhsm2) into the image, not the trust-store module; with pcscd
#     installed, pcscd, libpcsclite, libccid and its Info.plist, the USB
#     host controller drivers and usbhid; the image of an entry without
#     pkcs11-uri= holds none of them;
#   - with the token in the initramfs (appended as a second cpio archive:
#     SoftHSM2's config and token directory, as a card would be plugged
#     in), the console asks for the token's PIN naming the token and the
#     volume; a wrong PIN is refused with the token's words, asked again,
#     the right PIN boots; no PIN is echoed; pcscd (when installed) is
#     started before the prompt and stopped after (no card behind a reader
#     is tested: SoftHSM2 does not use pcscd);
#   - the same image under `quiet splash` (Debian's plymouth hook put
#     plymouthd in it): plymouth asks for the PIN (its details renderer's
#     "PROMPT:" and one '*' per digit on the serial console, never the
#     console's "PROMPT: "), naming the token and the volume; a wrong PIN
#     is refused (the token's words on the console) and plymouth asks
#     again saying so; its answer logs in and boots; no PIN echoed; in
#     another boot Enter alone skips the token and plymouth (not the
#     hidden console) asks for the passphrase, which boots;
#   - without the token (the plain image): the passphrase prompt follows
#     and the passphrase boots.
. "$(dirname "$0")/lib.sh"

need_cmd softhsm2-util pkcs11-tool openssl cpio unmkinitramfs
. "$(dirname "$0")/softhsm.sh"
[ -e "$SOFTHSM_MODULE" ] || ktap_skip_dep "softhsm2 is not registered with p11-kit"
boot_prepare || ktap_fail_all "the root fs or disk image could not be made"

tab=$BOOT_KDIR/vaulttab-pkcs11
echo "$BOOT_NAME /dev/vda none luks,tries=2,pkcs11-uri=auto" > "$tab"
initrd=$(boot_mkinitramfs pkcs11 "$tab" 0077 "VAULT_ROOT=/dev/mapper/$BOOT_NAME") ||
	ktap_fail_all "mkinitramfs failed"
ktap_check "the hook wrote no warning" not grep -a 'W: vault' "$BOOT_KDIR/initrd-pkcs11.log"

# pcscd_in DIR: the unpacked image DIR holds what a card behind a reader
# needs (hooks/vault's pcscd block).
pcscd_in() {
	local f
	for f in usr/sbin/pcscd usr/lib/pcsc/drivers/ifd-ccid.bundle/Contents/Linux/libccid.so \
		usr/lib/pcsc/drivers/ifd-ccid.bundle/Contents/Info.plist etc/libccid_Info.plist etc/vault/pcscd; do
		[ -e "$1/$f" ] || { ktap_diag "missing: $f"; return 1; }
	done
	for f in 'libpcsclite.so.1' 'xhci-pci.ko*' 'ehci-pci.ko*' 'usbhid.ko*'; do
		[ -n "$(find "$1" -name "$f")" ] || { ktap_diag "missing: $f"; return 1; }
	done
}

x=$BOOT_KDIR/unpacked-pkcs11
rm -rf "$x"
if unmkinitramfs "$initrd" "$x" 2>/dev/null; then
	[ -d "$x/main" ] && x=$x/main
	ktap_check "p11-kit's softhsm2.module and the module it names are in the initramfs" eval \
		'[ -f "$x/usr/share/p11-kit/modules/softhsm2.module" ] &&
		 [ -n "$(find "$x" -name "${SOFTHSM_MODULE##*/}")" ]'
	ktap_check "... the trust-store module is not" eval \
		'[ ! -e "$x/usr/share/p11-kit/modules/p11-kit-trust.module" ]'
	if [ -x /usr/sbin/pcscd ] && [ -d /usr/lib/pcsc/drivers ]; then
		ktap_check "pcscd, libpcsclite, libccid, its Info.plist, the USB drivers and etc/vault/pcscd are in it" \
			pcscd_in "$x"
	else
		ktap_dep_missing "pcscd or libccid is not installed (apt-get install pcscd libccid): pcscd in the image not checked"
	fi
else
	ktap_fail "unmkinitramfs $initrd"
fi
rm -rf "$BOOT_KDIR/unpacked-pkcs11"
# The image of the same entry without pkcs11-uri= (boot_pass_initrd's)
# holds none of it.
x=$BOOT_KDIR/unpacked-pkcs11-pass
rm -rf "$x"
if pass_initrd=$(boot_pass_initrd) && unmkinitramfs "$pass_initrd" "$x" 2>/dev/null; then
	[ -d "$x/main" ] && x=$x/main
	ktap_check "an entry without pkcs11-uri=: no p11-kit module, no pcscd, no reader or USB driver" \
		eval '[ -z "$(find "$x" \( -name "*.module" -o -name pcscd -o -name "libpcsclite.so*" \
			-o -name libccid.so -o -name "xhci-pci.ko*" -o -name "usbhid.ko*" \))" ]'
else
	ktap_fail "mkinitramfs or unmkinitramfs of the pass image"
fi
rm -rf "$BOOT_KDIR/unpacked-pkcs11-pass"

# Without pcscd (hidden in a private mount namespace; the image's config
# is the pkcs11 variant's): the hook warns that a card behind a reader
# will not work at boot, and adds no pcscd and no reader driver; the
# PKCS#11 modules are still there (software tokens work).
nop=$BOOT_KDIR/initrd-pkcs11-nopcscd
x=$BOOT_KDIR/unpacked-pkcs11-nopcscd
rm -rf "$x" "$nop.img"
if [ -x /usr/sbin/pcscd ]; then
	unshare -m sh -c 'mount --bind /dev/null /usr/sbin/pcscd && exec "$@"' sh \
		env TMPDIR="$BOOT_KDIR/tmp" VAULTTAB="$tab" VAULT_MODULE="$VAULT_KO" VAULTCTL="$VAULTCTL" \
		VAULT_ROOT="/dev/mapper/$BOOT_NAME" \
		mkinitramfs -d "$BOOT_KDIR/conf-pkcs11" -o "$nop.img" "$BOOT_KVER" > "$nop.log" 2>&1
	if [ $? -eq 0 ] && unmkinitramfs "$nop.img" "$x" 2>/dev/null; then
		[ -d "$x/main" ] && x=$x/main
		ktap_check "no pcscd: the hook warns that readers will not work at boot" \
			grep -aq 'W: vault: .* has pkcs11-uri= but pcscd is not installed: smartcards and USB tokens behind a reader will not work at boot' "$nop.log"
		ktap_check "... and adds no pcscd, reader or USB driver, but softhsm2.module" eval \
			'[ -f "$x/usr/share/p11-kit/modules/softhsm2.module" ] &&
			 [ -z "$(find "$x" \( -name pcscd -o -name libccid.so -o -name "usbhid.ko*" \))" ]'
	else
		ktap_fail "mkinitramfs without pcscd (log: $nop.log)"
	fi
	rm -rf "$BOOT_KDIR/unpacked-pkcs11-nopcscd" "$nop.img"
fi

# The token: SoftHSM2 with an RSA key and certificate, its files under etc/
# of an archive appended to the initramfs (paths as the guest sees them).
W=$(mktemp -d "$BOOT_KDIR/tmp-pkcs11.XXXXXX") || ktap_fail_all "mktemp failed"
ktap_defer rm -rf "$W"
# Eight digits: a four-digit PIN turned up in kernel timestamps
# ("[    1.164821]") and failed its `absent` step.
PIN='48213697'
WRONG_PIN='99990573'
softhsm_token "$W" "$PIN" || ktap_fail_all "cannot make the SoftHSM2 token"

disk=$BOOT_KDIR/disk-pkcs11.img
cp --sparse=always "$BOOT_DIR/disk.img" "$disk" || ktap_fail_all "cannot copy the disk"
ktap_defer rm -f "$disk"
ktap_check "vaultctl enroll --pkcs11-token-uri=auto on the host" \
	"$VAULTCTL" enroll --pkcs11-token-uri=auto --key-file "$BOOT_DIR/disk.pass" "$disk"

with_token=$W/initrd-with-token
softhsm_append "$initrd" "$W" "$with_token" || ktap_fail_all "cannot append the token to the initramfs"

boot_new_nonce
# With pcscd in the image, local-top starts it before vaultctl and stops
# it after (the SoftHSM2 token does not use it: it must do no harm).
pcscd_steps=
[ -x /usr/sbin/pcscd ] && pcscd_steps="expect 240 vault: pcscd started (pid"
BOOT_DISK=$disk boot_qemu 62-pkcs11-pin "$with_token" "root=/dev/mapper/$BOOT_NAME panic=-1" <<EOF2
$BOOT_FAIL_STEPS
fail Enter passphrase
fail pcscd did not start
absent $PIN
absent $WRONG_PIN
$pcscd_steps
expect 240 Please enter PIN for security token 'boot' to unlock $BOOT_NAME:
send $WRONG_PIN
expect 60 wrong PIN for token 'boot'
expect 60 Please enter PIN for security token 'boot' to unlock $BOOT_NAME (a wrong PIN was entered before):
send $PIN
${pcscd_steps:+expect 60 vault: pcscd stopped}
expect 120 $(boot_marker)
exit 30
EOF2
ktap_check "PIN: ${pcscd_steps:+pcscd started, }the console asks naming the token, a wrong PIN is refused, the PIN boots, none echoed${pcscd_steps:+, pcscd stopped}" \
	test $? -eq 0

# The same under `quiet splash`: plymouth asks (the serial console shows
# its details renderer's "PROMPT:" and one '*' per digit, never the
# console's "PROMPT: "), the refusal of a wrong PIN is on the console and
# plymouth asks again, its answer logs in.  pcscd's steps are the console
# boot's (quiet hides them).
if boot_has_plymouth "$with_token"; then
	ask="Please enter PIN for security token 'boot' to unlock $BOOT_NAME:"
	again="Please enter PIN for security token 'boot' to unlock $BOOT_NAME (a wrong PIN was entered before):"
	boot_new_nonce
	BOOT_DISK=$disk boot_qemu 62-pkcs11-pin-splash "$with_token" \
		"root=/dev/mapper/$BOOT_NAME panic=-1 quiet splash" <<EOF2
$BOOT_FAIL_STEPS
fail Enter passphrase
fail was cancelled
fail cannot read the answer from plymouth
absent $PIN
absent $WRONG_PIN
absent $ask\x20
absent $again\x20
expect 240 $ask
send $WRONG_PIN
expect 30 $(boot_plymouth_stars "$ask" "$WRONG_PIN")
expect 60 wrong PIN for token 'boot'
expect 60 $again
send $PIN
expect 30 $(boot_plymouth_stars "$again" "$PIN")
expect 120 $(boot_marker)
exit 30
EOF2
	ktap_check "quiet splash: plymouth asks for the PIN naming the token, a wrong PIN is refused and asked again there, the PIN boots, none echoed" \
		test $? -eq 0
	# Enter alone at plymouth's PIN question skips the token: plymouth
	# (not the hidden console) asks for the passphrase next.
	pass_ask="Enter passphrase for $BOOT_NAME (/dev/vda):"
	boot_new_nonce
	BOOT_DISK=$disk boot_qemu 62-pkcs11-pin-splash-skip "$with_token" \
		"root=/dev/mapper/$BOOT_NAME panic=-1 quiet splash" <<EOF2
$BOOT_FAIL_STEPS
fail was cancelled
fail cannot read the answer from plymouth
absent $BOOT_PASS
absent $pass_ask\x20
expect 240 $ask
send
expect 60 $pass_ask
send $BOOT_PASS
expect 30 $(boot_plymouth_stars "$pass_ask" "$BOOT_PASS")
expect 120 $(boot_marker)
exit 30
EOF2
	ktap_check "quiet splash: Enter alone at plymouth's PIN question skips the token, plymouth asks for the passphrase, it boots" \
		test $? -eq 0
else
	ktap_dep_missing "plymouth is not in the initramfs (apt-get install plymouth): no splash case"
fi

boot_new_nonce
BOOT_DISK=$disk boot_qemu 62-pkcs11-absent "$initrd" "root=/dev/mapper/$BOOT_NAME panic=-1" <<EOF2
$BOOT_FAIL_STEPS
absent security token
expect 240 Enter passphrase for $BOOT_NAME (/dev/vda):
send $BOOT_PASS
expect 120 $(boot_marker)
exit 30
EOF2
ktap_check "token absent: the passphrase prompt follows and the passphrase boots" test $? -eq 0
ktap_finish
