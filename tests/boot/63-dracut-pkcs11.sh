#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# check-extended: four dracut builds and four QEMU boots under TCG (over the 30 s budget)
#
# 62-pkcs11 under dracut: root on vault with a systemd-pkcs11 token (a
# SoftHSM2 token stands in for the smartcard), initramfs from dracut with
# our module (tests/boot/dracut.sh; dracut's shell init, then systemd) and
# a vaulttab entry with pkcs11-uri=auto:
#   - the module put p11-kit's module configs and the modules they name
#     (softhsm2) into the image, not the trust-store module; with pcscd
#     installed, pcscd, libccid and its Info.plist, the USB host controller
#     drivers and usbhid, and /etc/vault/pcscd; an image whose entry has no
#     pkcs11-uri= holds none of them; a systemd initramfs has
#     vault-generator, vault-unlock and dracut's pcsc units instead of
#     /etc/vault/pcscd; without pcscd (hidden) the module warns and adds
#     no pcscd;
#   - with the token in the initramfs (appended as a second cpio archive),
#     vault-dracut-open starts pcscd, the console asks for the token's PIN
#     naming the token and the volume; a wrong PIN is refused with the
#     token's words, asked again, the right PIN boots (none echoed), and
#     pcscd is stopped before the real root;
#   - without the token: the passphrase prompt follows and the passphrase
#     boots;
#   - systemd in the initramfs, with the token: vault@NAME.service
#     (vault-unlock: vaultctl --token-only --token-pin-agent) asks for the
#     PIN through systemd-ask-password (the console agent) naming the token
#     and the volume; a wrong PIN is refused (logged) and asked again, the
#     right PIN boots, no passphrase asked; dracut's pcscd.socket starts
#     pcscd (opensc looks for readers), stopped before the real root;
#   - systemd, without the token: the passphrase is asked through
#     systemd-ask-password and boots.
# A real card behind a reader is not tested (no hardware): SoftHSM2 does
# not use pcscd, so the boots show that pcscd in the image does no harm.
# Skips when dracut or softhsm2 is not installed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/softhsm.sh"

command -v dracut > /dev/null || ktap_skip_dep "dracut is not installed (apt-get install dracut-core)"
need_cmd softhsm2-util pkcs11-tool openssl cpio lsinitrd
[ -e "$SOFTHSM_MODULE" ] || ktap_skip_dep "softhsm2 is not registered with p11-kit"
boot_prepare || ktap_fail_all "the root fs or disk image could not be made"
. "$(dirname "$0")/dracut.sh"

W=$(mktemp -d "$BOOT_KDIR/tmp-dpkcs11.XXXXXX") || ktap_fail_all "mktemp failed"
ktap_defer rm -rf "$W"

tab=$BOOT_KDIR/vaulttab-dracut-pkcs11
echo "$BOOT_NAME /dev/vda none luks,tries=2,initramfs,pkcs11-uri=auto" > "$tab"
img=$(dracut_build pkcs11 "$tab") || ktap_fail_all "dracut could not build the pkcs11 initramfs"
ktap_check "dracut wrote no vault warning" not grep -a 'vault:' "$BOOT_KDIR/dracut-pkcs11.log"
lsinitrd "$img" > "$W/list" 2>/dev/null
# has FILE...: every FILE (a path's end) is in the listing $list
has() {
	local f
	for f in "$@"; do
		grep -Eq "$f( -> .*)?\$" "$list" || { ktap_diag "missing: $f"; return 1; }
	done
}
hasnt() {
	local f
	for f in "$@"; do
		grep -Eq "$f( -> .*)?\$" "$list" && { ktap_diag "present: $f"; return 1; }
	done
	return 0
}
list=$W/list
ktap_check "p11-kit's softhsm2.module and the module it names are in the image, not the trust store" \
	eval 'has usr/share/p11-kit/modules/softhsm2.module "${SOFTHSM_MODULE#/}" &&
		hasnt p11-kit-trust.module'
# dracut-install resolves the libraries of executables only: the module's
# (libstdc++ for softhsm2) must be there too.
# libs_of SO: every library ldd lists for SO is in the listing $list.
libs_of() {
	local l
	for l in $(ldd "$1" | awk '$3 ~ /^\// { print $3 }'); do
		l=${l##*/}
		grep -Fq "/$l" "$list" || { ktap_diag "missing: $l"; return 1; }
	done
}
ktap_check "... with the libraries it needs" libs_of "$SOFTHSM_MODULE"
if [ -x /usr/sbin/pcscd ] && [ -d /usr/lib/pcsc/drivers ]; then
	ktap_check "pcscd, libpcsclite, libccid, its Info.plist, the USB drivers and /etc/vault/pcscd are in the image" \
		has usr/sbin/pcscd 'libpcsclite\.so\.1' ifd-ccid.bundle/Contents/Linux/libccid.so \
		ifd-ccid.bundle/Contents/Info.plist etc/libccid_Info.plist \
		'xhci-pci.ko[.a-z]*' 'ehci-pci.ko[.a-z]*' 'usbhid.ko[.a-z]*' etc/vault/pcscd
	ktap_check "... with the libraries libccid needs (libusb)" \
		libs_of /usr/lib/pcsc/drivers/ifd-ccid.bundle/Contents/Linux/libccid.so
else
	ktap_dep_missing "pcscd or libccid is not installed (apt-get install pcscd libccid): pcscd in the image not checked"
fi
# With systemd in the initramfs: vault-generator and vault-unlock, and
# dracut's `pcsc` module (its socket unit) runs pcscd, the module adds the
# reader driver pcsc leaves out on Debian.  Booted below.
imgs=
if imgs=$(dracut_build pkcs11-systemd "$tab" systemd) && lsinitrd "$imgs" > "$W/lists" 2>/dev/null; then
	ktap_defer rm -f "$imgs" "$imgs.stamp"
	list=$W/lists
	ktap_check "systemd initramfs: vault-generator, vault-unlock, systemd-ask-password and softhsm2.module" \
		has system-generators/vault-generator usr/lib/dm-vault/vault-unlock usr/bin/systemd-ask-password \
			usr/share/p11-kit/modules/softhsm2.module
	if [ -x /usr/sbin/pcscd ] && [ -d /usr/lib/dracut/modules.d/91pcsc ]; then
		ktap_check "systemd initramfs: dracut's pcscd.socket enabled, pcscd, libccid; no /etc/vault/pcscd" \
			eval 'has sockets.target.wants/pcscd.socket usr/sbin/pcscd ifd-ccid.bundle/Contents/Linux/libccid.so &&
				hasnt etc/vault/pcscd'
	fi
else
	ktap_fail "dracut (pkcs11-systemd) or lsinitrd failed"
	imgs=
fi
# Without pcscd (hidden in a private mount namespace): the module warns
# that a card behind a reader will not work at boot and adds no pcscd and
# no reader driver; the PKCS#11 modules are still there.
if [ -x /usr/sbin/pcscd ]; then
	# shellcheck disable=SC2016 # expanded by the inner bash
	if imgn=$(unshare -m bash -c 'mount --bind /dev/null /usr/sbin/pcscd &&
			. "$1/lib.sh" && . "$1/dracut.sh" && dracut_build pkcs11-nopcscd "$2"' \
			bash "$(dirname "$0")" "$tab") && lsinitrd "$imgn" > "$W/listn" 2>/dev/null; then
		list=$W/listn
		ktap_check "no pcscd: the module warns that readers will not work at boot" \
			grep -aq 'vault: an entry of .* has pkcs11-uri= but pcscd is not installed: smartcards and USB tokens behind a reader will not work at boot' \
			"$BOOT_KDIR/dracut-pkcs11-nopcscd.log"
		ktap_check "... and adds no pcscd, reader or USB driver, but softhsm2.module" \
			eval 'has usr/share/p11-kit/modules/softhsm2.module &&
				hasnt usr/sbin/pcscd libccid.so etc/vault/pcscd "usbhid.ko[.a-z]*"'
	else
		ktap_fail "dracut without pcscd or lsinitrd failed"
	fi
	rm -f "$imgn" "$imgn.stamp"
fi
# The 50-dracut image (the same entry without pkcs11-uri=; cached).
tab0=$BOOT_KDIR/vaulttab-dracut-pass
echo "$BOOT_NAME /dev/vda none luks,tries=2,initramfs" > "$tab0"
if img0=$(dracut_build pass "$tab0") && lsinitrd "$img0" > "$W/list0" 2>/dev/null; then
	list=$W/list0
	ktap_check "an entry without pkcs11-uri=: no p11-kit module, no pcscd, no reader or USB driver" \
		hasnt softhsm2.module opensc-pkcs11.module usr/sbin/pcscd 'libpcsclite\.so\.1' libccid.so etc/vault/pcscd \
		'xhci-pci.ko[.a-z]*' 'usbhid.ko[.a-z]*'
else
	ktap_fail "dracut (pass) or lsinitrd failed"
fi

# Not digits alone: `absent` would find them in a console timestamp.
PIN='p4821x'
WRONG_PIN='w9999x'
softhsm_token "$W" "$PIN" || ktap_fail_all "cannot make the SoftHSM2 token"
disk=$BOOT_KDIR/disk-dracut-pkcs11.img
cp --sparse=always "$BOOT_DIR/disk.img" "$disk" || ktap_fail_all "cannot copy the disk"
ktap_defer rm -f "$disk"
ktap_check "vaultctl enroll --pkcs11-token-uri=auto on the host" \
	"$VAULTCTL" enroll --pkcs11-token-uri=auto --key-file "$BOOT_DIR/disk.pass" "$disk"
softhsm_append "$img" "$W" "$W/img-with-token" ||
	ktap_fail_all "cannot append the token to the initramfs"

cmdline="root=/dev/mapper/$BOOT_NAME rootfstype=ext4 panic=-1 rd.retry=60"
pcscd_steps=
if [ -x /usr/sbin/pcscd ]; then
	pcscd_steps="expect 240 vault: pcscd started (pid"
fi
boot_new_nonce
BOOT_DISK=$disk boot_qemu 63-dracut-pkcs11-pin "$W/img-with-token" "$cmdline" <<EOF2
$BOOT_FAIL_STEPS
fail Enter passphrase
fail Dropping to debug shell
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
ktap_check "dracut, PIN: pcscd started, the console asks naming the token, a wrong PIN is refused, the PIN boots, pcscd stopped" \
	test $? -eq 0

boot_new_nonce
BOOT_DISK=$disk boot_qemu 63-dracut-pkcs11-absent "$img" "$cmdline" <<EOF2
$BOOT_FAIL_STEPS
fail Dropping to debug shell
absent security token
expect 240 Enter passphrase for $BOOT_NAME (/dev/vda):
send $BOOT_PASS
expect 120 $(boot_marker)
exit 30
EOF2
ktap_check "dracut, token absent: the passphrase prompt follows and the passphrase boots" test $? -eq 0

# --- systemd in the initramfs -------------------------------------------------
# in_order FILE TEXT...: each TEXT's first line in FILE comes after the
# previous TEXT's.
in_order() {
	local file=$1 t n last=0
	shift
	for t in "$@"; do
		n=$(grep -anF -m1 -- "$t" "$file" | cut -d: -f1)
		if [ -z "$n" ] || [ "$n" -le "$last" ]; then
			ktap_diag "'$t' missing or out of order in $file"
			return 1
		fi
		last=$n
	done
}
# vault@NAME.service runs vault-unlock: `vaultctl open --token-only
# --token-pin-agent` asks for the token's PIN through systemd-ask-password
# (the console agent), then the passphrase is asked the same way.  Answers
# are typed once the agent has turned echo off ("press TAB"), at a human's
# pace (see 55-dracut-tpm2).  pcscd.socket is enabled in this image: a
# failing pcscd would show.
if [ -n "$imgs" ]; then
	sd_cmdline="$cmdline SYSTEMD_COLORS=0 systemd.journald.forward_to_console=1"
	sd_fail="fail Entering emergency mode
fail Failed to start pcscd
fail Failed to listen on pcscd"
	softhsm_append "$imgs" "$W" "$W/imgs-with-token" ||
		ktap_fail_all "cannot append the token to the systemd initramfs"
	pinlog=$BOOT_LOGS/boot-$BOOT_KVER-63-dracut-systemd-pkcs11-pin.log
	boot_new_nonce
	BOOT_DISK=$disk boot_qemu 63-dracut-systemd-pkcs11-pin "$W/imgs-with-token" "$sd_cmdline" <<EOF2
$BOOT_FAIL_STEPS
$sd_fail
fail Enter passphrase
absent $PIN
absent $WRONG_PIN
expect 300 Starting vault@$BOOT_NAME.service
expect 60 Please enter PIN for security token 'boot' to unlock $BOOT_NAME:
expect 20 (press TAB for no echo)
pause 2
send $WRONG_PIN
expect 60 Please enter PIN for security token 'boot' to unlock $BOOT_NAME (a wrong PIN was entered before):
expect 20 (press TAB for no echo)
pause 2
send $PIN
expect 60 Finished vault@$BOOT_NAME.service
expect 120 $(boot_marker)
exit 30
EOF2
	ktap_check "dracut + systemd: systemd-ask-password asks for the token's PIN naming the token, again after a wrong PIN; the PIN boots, no passphrase asked" \
		test $? -eq 0
	ktap_check "... and the wrong PIN's refusal was logged with the token's words" \
		grep -aq "wrong PIN for token 'boot'" "$pinlog"
	# opensc-pkcs11 (p11-kit loads every registered module) asks pcscd
	# for readers: the socket starts pcscd, which must not run on into
	# the real root.
	if [ -x /usr/sbin/pcscd ] && grep -Eq 'opensc-pkcs11\.module$' "$W/lists"; then
		ktap_check "... pcscd was started by its socket and stopped before the switch to the real root" \
			in_order "$pinlog" "Listening on pcscd.socket" "Started pcscd.service" \
				"Stopped pcscd.service" "Switching root."
	fi

	boot_new_nonce
	BOOT_DISK=$disk boot_qemu 63-dracut-systemd-pkcs11-absent "$imgs" "$sd_cmdline" <<EOF2
$BOOT_FAIL_STEPS
$sd_fail
absent security token
expect 300 Starting vault@$BOOT_NAME.service
expect 120 Enter passphrase for $BOOT_NAME (/dev/vda):
expect 20 (press TAB for no echo)
pause 2
send $BOOT_PASS
expect 60 Finished vault@$BOOT_NAME.service
expect 120 $(boot_marker)
exit 30
EOF2
	ktap_check "dracut + systemd, token absent: the passphrase is asked through systemd-ask-password and boots" \
		test $? -eq 0
fi
ktap_finish
