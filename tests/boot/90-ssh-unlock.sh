#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# check-extended: two boots with networking and SSH logins (about 2 min under TCG)
#
# Remote unlock over SSH: Debian's dropbear-initramfs in the image (its own
# hook, fed this run's test key through BOOT_SSH_ETC: the host's /etc is
# untouched), QEMU user networking (restrict=on: nothing leaves the guest)
# forwarding a free port on the host's loopback to the guest's port 22,
# ip=dhcp so the initramfs configures the network.  While the console asks
# for the root's passphrase (tries=2), the host logs in with the test key
# (the key's forced command is vault-unlock): a wrong passphrase counts as
# a try (the answer says 1 try left, the console reports it and asks
# again), the right one unlocks the root and the console's prompt goes
# away (nothing more asked, the root boots).  Then once more under
# plymouth's splash: plymouth asks (its details renderer's "PROMPT:", never
# the console's "PROMPT: "), the SSH answer withdraws its question.
. "$(dirname "$0")/lib.sh"

[ -e /usr/share/initramfs-tools/hooks/dropbear ] ||
	ktap_skip_dep "dropbear-initramfs is not installed (make deps)"
need_cmd ssh ssh-keygen dropbearkey unshare
boot_prepare || ktap_fail_all "the root fs or disk image could not be made"

tmp=$(mktemp -d "$BOOT_KDIR/tmp-ssh.XXXXXX")
ktap_defer rm -rf "$tmp"
chmod 700 "$tmp"
etc=$tmp/etc	# stands in for /etc/dropbear/initramfs
mkdir -m 700 "$etc"
ssh-keygen -q -t ed25519 -N '' -C vault-boot-test -f "$tmp/id" ||
	ktap_fail_all "ssh-keygen failed"
dropbearkey -t ed25519 -f "$etc/dropbear_ed25519_host_key" > /dev/null 2>&1 ||
	ktap_fail_all "dropbearkey failed"
# The set-up the documentation advises: a key that can only
# answer the prompt.
echo "no-port-forwarding,no-agent-forwarding,no-X11-forwarding,command=\"/bin/vault-unlock\" $(cat "$tmp/id.pub")" \
	> "$etc/authorized_keys"
printf 'DROPBEAR_OPTIONS="-p 22"\n' > "$etc/dropbear.conf"

tab=$BOOT_KDIR/vaulttab-ssh
echo "$BOOT_NAME /dev/vda none luks,tries=2" > "$tab"
initrd=$(boot_mkinitramfs ssh "$tab" 0077 "VAULT_ROOT=/dev/mapper/$BOOT_NAME" \
	"BOOT_SSH_ETC=$etc") || ktap_fail_all "mkinitramfs failed"
list=$(lsinitramfs "$initrd")
ktap_check "the image holds dropbear and vault-unlock" \
	eval 'grep -qx "usr/sbin/dropbear\|sbin/dropbear" <<< "$list" && grep -qx "bin/vault-unlock\|usr/bin/vault-unlock" <<< "$list"'
ktap_check "the hook wrote no warning" not grep -a 'W: vault\|dropbear: WARNING' "$BOOT_KDIR/initrd-ssh.log"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf '%s\n' "$BOOT_WRONG" > "$tmp/wrong"
printf '%s\n' "$BOOT_PASS" > "$tmp/right"
# answer FILE RC TEXT: logs in (retrying while dropbear is not up yet: ssh
# exits 255), vault-unlock reads the passphrase from FILE; its exit status
# must be RC and its output hold TEXT.
cat > "$tmp/answer" <<EOF
#!/bin/bash
for i in \$(seq 60); do
	ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \\
		-o ConnectTimeout=5 -o LogLevel=ERROR -i "$tmp/id" -p $port root@127.0.0.1 \\
		< "\$1" > "$tmp/out" 2>&1
	rc=\$?
	[ \$rc -ne 255 ] && break
	sleep 2
done
cat "$tmp/out"
echo "ssh: exit \$rc"
[ \$rc -eq \$2 ] && grep -q "\$3" "$tmp/out"
EOF
chmod 700 "$tmp/answer"

boot_new_nonce
BOOT_QEMU_EXTRA="-nic user,restrict=on,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:$port-:22" \
boot_qemu 90-ssh-unlock "$initrd" "root=/dev/mapper/$BOOT_NAME ip=dhcp panic=-1" <<EOF2
$BOOT_FAIL_STEPS
absent $BOOT_PASS
absent $BOOT_WRONG
expect 180 Enter passphrase for $BOOT_NAME (/dev/vda):
run 150 $tmp/answer $tmp/wrong 2 'wrong passphrase (1 try left)'
expect 30 a passphrase came through the answer channel
expect 30 No key available with this passphrase.
expect 30 Enter passphrase for $BOOT_NAME (/dev/vda):
run 90 $tmp/answer $tmp/right 0 '$BOOT_NAME: unlocked'
never Enter passphrase
expect 30 a passphrase came through the answer channel
expect 120 $(boot_marker)
exit 60
EOF2
ktap_check "over SSH: a wrong passphrase counts as a try, the right one boots the root, the console asks no more" \
	test $? -eq 0

# The same under plymouth's splash (`quiet splash`: plymouth asks, on the
# serial console through its details renderer): the answer over SSH
# withdraws plymouth's question (no "cancelled" error) and the root boots.
if command -v plymouthd > /dev/null; then
	boot_new_nonce
	BOOT_QEMU_EXTRA="-nic user,restrict=on,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:$port-:22" \
	boot_qemu 90-ssh-unlock-splash "$initrd" "root=/dev/mapper/$BOOT_NAME ip=dhcp panic=-1 quiet splash" <<EOF2
$BOOT_FAIL_STEPS
fail was cancelled
fail cannot read the answer from plymouth
absent $BOOT_PASS
absent Enter passphrase for $BOOT_NAME (/dev/vda):\x20
expect 180 Enter passphrase for $BOOT_NAME (/dev/vda):
run 150 $tmp/answer $tmp/right 0 '$BOOT_NAME: unlocked'
never Enter passphrase
expect 120 $(boot_marker)
exit 60
EOF2
	ktap_check "under plymouth's splash: the answer over SSH ends plymouth's question, the root boots" \
		test $? -eq 0
else
	ktap_skip "plymouth is not installed: no splash case"
fi
ktap_finish
