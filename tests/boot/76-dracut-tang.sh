#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# check-extended: six dracut boots under TCG with clevis (bash, jose, curl), network drivers and DHCP in the initramfs, several minutes
#
# 75-tang under dracut: root on vault with a clevis token bound to a tang
# server, initramfs from dracut with our module (tests/boot/dracut.sh),
# dracut's shell init first, then systemd in the initramfs.  The tang server (Debian's tangd behind socat)
# listens on the host's loopback only, on a random port; the guest reaches
# it through QEMU's user networking as 10.0.2.2 (nothing leaves the
# machine).  The vaulttab entry has _netdev, so the module pulls in dracut's
# network-legacy, adds clevis, jose, curl and rd.neednet=1, and
# vault-dracut-open waits for DHCP before unlocking; the kernel command
# line has no ip= (the module asks for the network itself):
#   - the image holds clevis's runtime, rd.neednet=1 and no key file;
#     without _netdev the module finds the clevis token in the header;
#   - the server up: the root unlocks over the network with NO console input;
#   - the server down: vaultctl says the tang server could not be reached,
#     the console asks for the passphrase, which boots it;
#   - no network device: the wait for the network ends after 30 s, the
#     console asks, the passphrase boots it (no rd.retry hang).
#   - without _netdev the image's vaulttab entry gets _netdev all the same
#     (the module read the clevis token);
# With systemd in the initramfs (same tab): vault-generator orders
# vault@NAME.service after remote-fs-pre.target, i.e. after dracut's
# initqueue, which waits for rd.neednet=1's DHCP; the module's settled hook
# (vault-netdev-root.sh) keeps the initqueue from also waiting for the root
# device, which only that unit can make appear (both waits would hold the
# boot until rd.retry: "Could not boot"):
#   - the server up: vault-unlock's token step (vaultctl open --token-only)
#     unlocks with NO console input;
#   - the server down: vaultctl says the server could not be reached, the
#     passphrase is asked through systemd-ask-password and boots it.
#   - no network device: the same hook lifts rd.neednet=1's wait after
#     30 s, systemd-ask-password asks, the passphrase boots it.
# Skips when dracut or tang is not installed.
. "$(dirname "$0")/lib.sh"

command -v dracut > /dev/null || ktap_skip_dep "dracut is not installed (apt-get install dracut-core)"
[ -d /usr/lib/dracut/modules.d/35network-legacy ] ||
	ktap_skip_dep "dracut's network-legacy module is not installed (apt-get install dracut-network)"
TANGD=/usr/libexec/tangd
[ -x $TANGD ] || ktap_skip_dep "tang is not installed ($TANGD)"
need_cmd socat curl jose clevis lsinitrd
boot_prepare || ktap_fail_all "the root fs or disk image could not be made"
. "$(dirname "$0")/dracut.sh"

work=$(mktemp -d "$BOOT_KDIR/tmp-dtang.XXXXXX") || ktap_fail_all "mktemp failed"
ktap_defer rm -rf "$work"
WORK=$work
. "$(dirname "$0")/tang-host.sh"
ktap_defer tang_stop
tang_start || ktap_fail_all "the tang server on 127.0.0.1:$PORT did not answer"

# Enrolled on the host: the URL is the guest's view of the host (10.0.2.2).
disk=$BOOT_KDIR/disk-dracut-tang.img
cp --sparse=always "$BOOT_DIR/disk.img" "$disk" || ktap_fail_all "cannot copy the disk"
ktap_defer rm -f "$disk"
"$VAULTCTL" enroll --key-file "$BOOT_DIR/disk.pass" --clevis-trust --clevis tang \
	"{\"url\":\"http://10.0.2.2:$PORT\",\"adv\":\"$work/adv.jws\"}" "$disk" >"$work/enroll.log" 2>&1
ktap_check "vaultctl enroll --clevis tang (url 10.0.2.2:$PORT) on the host" test $? -eq 0 ||
	sed 's/^/# enroll: /' "$work/enroll.log"

tab=$BOOT_KDIR/vaulttab-dracut-tang
echo "$BOOT_NAME /dev/vda none luks,_netdev,tries=2,initramfs,token-timeout=10" > "$tab"
img=$(dracut_build tang "$tab") || ktap_fail_all "dracut could not build the tang initramfs"
ktap_check "dracut wrote no vault warning" not grep -a 'vault:' "$BOOT_KDIR/dracut-tang.log"
lsinitrd "$img" > "$work/list" 2>/dev/null
ktap_check "the image holds clevis, its tang pin, jose, curl, bash, dhclient and the network flag" \
	eval 'for f in bin/clevis bin/clevis-decrypt bin/clevis-decrypt-tang bin/jose bin/curl bin/bash \
			sbin/dhclient sbin/ifup etc/vault/network; do
		grep -q "$f\$" "$work/list" || { echo "# missing: $f"; exit 1; }
	done'
ktap_check "... rd.neednet=1 in its cmdline.d and no key file" \
	eval '[ "$(lsinitrd -f etc/cmdline.d/90vault-net.conf "$img" 2>/dev/null)" = rd.neednet=1 ] &&
		! grep -q "etc/vault/keys/." "$work/list"'

# Without _netdev the module finds the clevis token in the header itself
# (the device is there when the image is built: here the disk image file).
tab2=$BOOT_KDIR/vaulttab-dracut-tang-detect
echo "$BOOT_NAME $disk none luks,initramfs" > "$tab2"
if img2=$(dracut_build tang-detect "$tab2") && lsinitrd "$img2" > "$work/detect.list" 2>/dev/null; then
	ktap_check "no _netdev: the module sees the clevis token in the header and adds clevis and the network" \
		sh -c "grep -q 'etc/vault/network\$' '$work/detect.list' && grep -q 'bin/clevis-decrypt-tang\$' '$work/detect.list' &&
			grep -q 'sbin/dhclient\$' '$work/detect.list'"
	ktap_check "... and marks the image's entry _netdev (a systemd initramfs then waits for the network)" \
		test "$(lsinitrd -f etc/vaulttab "$img2" 2>/dev/null)" = "$BOOT_NAME $disk none luks,initramfs,_netdev"
else
	ktap_fail "dracut (tang-detect) or lsinitrd failed"
fi
rm -f "$img2" "$img2.stamp"

cmdline="root=/dev/mapper/$BOOT_NAME rootfstype=ext4 panic=-1 rd.retry=60"
export BOOT_QEMU_EXTRA="-netdev user,id=n0 -device virtio-net-pci,netdev=n0"
boot_new_nonce
BOOT_DISK=$disk boot_qemu 76-dracut-tang-unattended "$img" "$cmdline" <<EOF2
$BOOT_FAIL_STEPS
fail Enter passphrase
fail vault: cannot unlock
fail Dropping to debug shell
expect 300 $(boot_marker)
exit 30
EOF2
ktap_check "dracut, tang up: the root unlocks over the network with no console input" test $? -eq 0

tang_stop
boot_new_nonce
BOOT_DISK=$disk boot_qemu 76-dracut-tang-down "$img" "$cmdline" <<EOF2
$BOOT_FAIL_STEPS
fail Dropping to debug shell
absent $BOOT_PASS
expect 300 the tang server could not be reached
expect 60 Enter passphrase for $BOOT_NAME (/dev/vda):
send $BOOT_PASS
expect 120 $(boot_marker)
exit 30
EOF2
ktap_check "dracut, tang down: vaultctl says so, the console asks, the passphrase boots" test $? -eq 0

# No network device at all: vault-dracut-open stops waiting for the network
# after 30 s, the console asks, and the rd.neednet=1 the module set does not
# hold the boot until rd.retry ("Could not boot").
export BOOT_QEMU_EXTRA=
boot_new_nonce
BOOT_DISK=$disk boot_qemu 76-dracut-tang-nonet "$img" "$cmdline" <<EOF2
$BOOT_FAIL_STEPS
fail Dropping to debug shell
fail Could not boot
absent $BOOT_PASS
expect 300 vault: the network is not up after 30 s; unlocking without it
expect 60 Enter passphrase for $BOOT_NAME (/dev/vda):
send $BOOT_PASS
expect 120 $(boot_marker)
exit 30
EOF2
ktap_check "dracut, no network: after 30 s the console asks, the passphrase boots" test $? -eq 0

# --- systemd in the initramfs ------------------------------------------------
# The same tab, dracut's systemd init: vault-generator writes
# vault@NAME.service (the entry has _netdev: after remote-fs-pre.target,
# which dracut orders after its initqueue, which waits for
# network-legacy's DHCP since rd.neednet=1); vault-unlock runs the clevis
# token (vaultctl open --token-only), then asks through
# systemd-ask-password.  The server is started again on the same port.
tang_start || ktap_fail_all "the tang server on 127.0.0.1:$PORT did not start again"
sd_cmdline="$cmdline SYSTEMD_COLORS=0 systemd.journald.forward_to_console=1"
export BOOT_QEMU_EXTRA="-netdev user,id=n0 -device virtio-net-pci,netdev=n0"
if sdimg=$(dracut_build tang-systemd "$tab" systemd) && lsinitrd "$sdimg" > "$work/sd.list" 2>/dev/null; then
	ktap_check "systemd image: vault-generator, vault-unlock, clevis-decrypt-tang, dhclient, rd.neednet=1, the root-wait hook" \
		eval 'for f in system-generators/vault-generator usr/lib/dm-vault/vault-unlock \
				bin/clevis-decrypt-tang sbin/dhclient etc/cmdline.d/90vault-net.conf \
				lib/dracut/hooks/initqueue/settled/50-vault-netdev-root.sh; do
			grep -q "$f\$" "$work/sd.list" || { echo "# missing: $f"; exit 1; }
		done'
	boot_new_nonce
	BOOT_DISK=$disk boot_qemu 76-dracut-systemd-tang-unattended "$sdimg" "$sd_cmdline" <<EOF2
$BOOT_FAIL_STEPS
fail Enter passphrase
fail Entering emergency mode
fail Could not boot
expect 300 Starting vault@$BOOT_NAME.service
expect 120 Finished vault@$BOOT_NAME.service
expect 120 $(boot_marker)
exit 30
EOF2
	ktap_check "dracut + systemd, tang up: vault@$BOOT_NAME.service waits for the network and unlocks with no console input" \
		test $? -eq 0

	tang_stop
	boot_new_nonce
	BOOT_DISK=$disk boot_qemu 76-dracut-systemd-tang-down "$sdimg" "$sd_cmdline" <<EOF2
$BOOT_FAIL_STEPS
fail Entering emergency mode
fail Could not boot
absent $BOOT_PASS
expect 300 Starting vault@$BOOT_NAME.service
expect 120 the tang server could not be reached
expect 60 Enter passphrase for $BOOT_NAME (/dev/vda):
expect 20 (press TAB for no echo)
pause 2
send $BOOT_PASS
expect 60 Finished vault@$BOOT_NAME.service
expect 120 $(boot_marker)
exit 30
EOF2
	ktap_check "dracut + systemd, tang down: vaultctl says so, systemd-ask-password asks, the passphrase boots" \
		test $? -eq 0

	# No network device: the module's settled hook lifts rd.neednet=1's
	# wait after 30 s, the unit runs, the token fails, systemd-ask-password
	# asks (not dracut's "Could not boot" after rd.retry).
	export BOOT_QEMU_EXTRA=
	boot_new_nonce
	BOOT_DISK=$disk boot_qemu 76-dracut-systemd-tang-nonet "$sdimg" "$sd_cmdline" <<EOF2
$BOOT_FAIL_STEPS
fail Entering emergency mode
fail Could not boot
absent $BOOT_PASS
expect 300 vault: the network is not up after 30 s; unlocking without it
expect 120 Starting vault@$BOOT_NAME.service
expect 120 Enter passphrase for $BOOT_NAME (/dev/vda):
expect 20 (press TAB for no echo)
pause 2
send $BOOT_PASS
expect 60 Finished vault@$BOOT_NAME.service
expect 120 $(boot_marker)
exit 30
EOF2
	ktap_check "dracut + systemd, no network: after 30 s systemd-ask-password asks, the passphrase boots" \
		test $? -eq 0
else
	ktap_fail "dracut could not build the systemd tang initramfs"
	ktap_fail "dracut + systemd, tang up: (no image)"
	ktap_fail "dracut + systemd, tang down: (no image)"
	ktap_fail "dracut + systemd, no network: (no image)"
fi
ktap_finish
