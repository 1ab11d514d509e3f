#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# check-extended: two boots under TCG with clevis (bash, jose, curl) and the network in the initramfs, several minutes
#
# Root on vault with a clevis token bound to a tang server, initramfs from
# Debian's mkinitramfs with our hook: the tang server (Debian's tangd behind
# socat) listens on the host's loopback only, on a random port; the guest
# reaches it through QEMU's user networking as 10.0.2.2 (nothing leaves the
# machine).  The vaulttab entry has _netdev, so the hook adds clevis, jose,
# curl and the network drivers and local-top brings the network up (ip=dhcp):
#   - the image holds clevis's runtime and no key file; without _netdev the
#     hook finds the clevis token in the header (the disk image) itself;
#   - the server up: the root unlocks over the network with NO console input;
#   - the server down: vaultctl says the tang server could not be reached,
#     the console asks for the passphrase, which boots it.
. "$(dirname "$0")/lib.sh"

TANGD=/usr/libexec/tangd
[ -x $TANGD ] || ktap_skip_dep "tang is not installed ($TANGD)"
need_cmd socat curl jose clevis unmkinitramfs lsinitramfs
boot_prepare || ktap_fail_all "the root fs or disk image could not be made"

work=$(mktemp -d "$BOOT_KDIR/tmp-tang.XXXXXX") || ktap_fail_all "mktemp failed"
ktap_defer rm -rf "$work"
WORK=$work
. "$(dirname "$0")/tang-host.sh"
ktap_defer tang_stop
tang_start || ktap_fail_all "the tang server on 127.0.0.1:$PORT did not answer"

# Enrolled on the host: the URL is the guest's view of the host (10.0.2.2),
# the advertisement fetched here through the loopback (clevis's "adv").
disk=$BOOT_KDIR/disk-tang.img
cp --sparse=always "$BOOT_DIR/disk.img" "$disk" || ktap_fail_all "cannot copy the disk"
ktap_defer rm -f "$disk"
"$VAULTCTL" enroll --key-file "$BOOT_DIR/disk.pass" --clevis-trust --clevis tang \
	"{\"url\":\"http://10.0.2.2:$PORT\",\"adv\":\"$work/adv.jws\"}" "$disk" >"$work/enroll.log" 2>&1
ktap_check "vaultctl enroll --clevis tang (url 10.0.2.2:$PORT) on the host" test $? -eq 0 ||
	sed 's/^/# enroll: /' "$work/enroll.log"

tab=$BOOT_KDIR/vaulttab-tang
echo "$BOOT_NAME /dev/vda none luks,_netdev,tries=2" > "$tab"
initrd=$(boot_mkinitramfs tang "$tab" 0077 "VAULT_ROOT=/dev/mapper/$BOOT_NAME") ||
	ktap_fail_all "mkinitramfs failed"
ktap_check "the hook wrote no warning" not grep -a 'W: vault' "$BOOT_KDIR/initrd-tang.log"
x=$work/unpacked
if unmkinitramfs "$initrd" "$x" 2>/dev/null; then
	[ -d "$x/main" ] && x=$x/main
	ktap_check "the image holds clevis, its tang pin, jose, curl, bash and the network flag" \
		eval 'for f in clevis clevis-decrypt clevis-decrypt-tang jose curl bash; do
			[ -n "$(find "$x" -name "$f" -type f)" ] || { echo "# missing: $f"; exit 1; }
		done; [ -e "$x/etc/vault/network" ]'
	ktap_check "... and no key file" eval '[ -z "$(find "$x/etc/vault" -type f -path "*keys*")" ]'
else
	ktap_fail "unmkinitramfs $initrd"
fi

# Without _netdev the hook finds the clevis token in the header itself
# (the device is there when the image is built: here the disk image file).
tab2=$BOOT_KDIR/vaulttab-tang-detect
echo "$BOOT_NAME $disk none luks" > "$tab2"
initrd2=$(boot_mkinitramfs tang-detect "$tab2" 0077 "VAULT_ROOT=/dev/mapper/$BOOT_NAME")
if [ -n "$initrd2" ] && lsinitramfs "$initrd2" > "$work/detect.list" 2>/dev/null; then
	ktap_check "no _netdev: the hook sees the clevis token in the header and adds clevis and the network" \
		sh -c "grep -q 'etc/vault/network\$' '$work/detect.list' && grep -q 'bin/clevis-decrypt-tang\$' '$work/detect.list'"
else
	ktap_fail "mkinitramfs (tang-detect) or lsinitramfs failed"
fi
rm -f "$initrd2" "$initrd2.stamp"

export BOOT_QEMU_EXTRA="-netdev user,id=n0 -device virtio-net-pci,netdev=n0"
boot_new_nonce
BOOT_DISK=$disk boot_qemu 75-tang-unattended "$initrd" "root=/dev/mapper/$BOOT_NAME panic=-1 ip=dhcp" <<EOF2
$BOOT_FAIL_STEPS
fail Enter passphrase
fail vault: cannot unlock
expect 300 $(boot_marker)
exit 30
EOF2
ktap_check "tang up: the root unlocks over the network with no console input" test $? -eq 0

tang_stop
boot_new_nonce
BOOT_DISK=$disk boot_qemu 75-tang-down "$initrd" "root=/dev/mapper/$BOOT_NAME panic=-1 ip=dhcp" <<EOF2
$BOOT_FAIL_STEPS
absent $BOOT_PASS
expect 300 the tang server could not be reached
expect 60 Enter passphrase for $BOOT_NAME (/dev/vda):
send $BOOT_PASS
expect 120 $(boot_marker)
exit 30
EOF2
ktap_check "tang down: vaultctl says so, the console asks, the passphrase boots" test $? -eq 0
ktap_finish
