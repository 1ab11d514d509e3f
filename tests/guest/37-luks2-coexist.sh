#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# vaultctl next to a real cryptsetup (locking ON, no --disable-locks) on a
# loop device:
#   - cryptsetup's lock (/run/cryptsetup/L_<major>:<minor>) held by someone
#     else makes vaultctl wait: nothing is written while it is held, and
#     the change is made once it is released;
#   - cryptsetup luksAddKey run while vaultctl add-key waits at its
#     passphrase prompt: vaultctl re-reads the header under the lock, sees
#     it changed, writes nothing (exit 5, says why), and cryptsetup's new
#     keyslot still opens the volume;
#   - a mount attempted while vaultctl format waits at its prompt fails
#     (vaultctl holds the device exclusively from its check to its last
#     write), and the volume vaultctl then writes is sound.
# No dm-vault mapping is needed: only the header tools are under test.
# one-kernel: vaultctl's vaulttab, prompts and locking, the same on every kernel; make check runs it on the newest kernel, make check-extended on the others
. "${VAULT_REPO:?}/tests/lib/ktap.sh"

need_vaultctl
need_cmd cryptsetup flock losetup mkfs.ext4 mount sha256sum
WORK=$(mktemp -d /tmp/t37.XXXXXX) || ktap_fail_all "mktemp failed"
ktap_defer rm -rf "$WORK"
loop_setup 20 DEV || ktap_fail_all "cannot create a loop device"
cd "$WORK" || exit 1
ktap_defer touch "$WORK/release"	# frees the lock holder if a check aborts

# cryptsetup with its own locking (the point of this test); no udev here
csl() { DM_DISABLE_UDEV=1 cryptsetup "$@"; }
FAST=(--pbkdf pbkdf2 --pbkdf-force-iterations 1000)
for i in 1 2 3; do printf 'coexist passphrase %s' $i >p$i; done
LOCK=/run/cryptsetup/L_$((0x$(stat -c %t "$DEV"))):$((0x$(stat -c %T "$DEV")))
# both header copies and the first keyslot areas (slot 1 ends at 528 KiB)
hdr_sum() { head -c $((1 << 20)) "$DEV" | sha256sum | cut -d' ' -f1; }
cs_opens() { csl open --test-passphrase --key-file "$1" "$DEV" 2>/dev/null; }

# wait_stdin PID: until PID blocks reading its standard input (its prompt)
wait_stdin() {
	local i s
	for i in $(seq 600); do
		s=$(cat /proc/"$1"/syscall 2>/dev/null) || return 1
		case $s in "0 0x0 "*) return 0 ;; esac
		sleep 0.1
	done
	return 1
}
# wait_exit PID SECS: PID's exit status, or 124 (and PID killed) after SECS
wait_exit() {
	local i
	for i in $(seq $(($2 * 10))); do
		kill -0 "$1" 2>/dev/null || { wait "$1"; return; }
		sleep 0.1
	done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 124
}
show() { sed 's/^/# /' "$@"; }

ktap_check "vaultctl format" "$VAULTCTL" format -q "${FAST[@]}" --key-file p1 "$DEV"

# 1. cryptsetup's lock held by another process: vaultctl waits for it.
mkdir -p -m 0700 /run/cryptsetup
rm -f locked release
# held until told: the guest is slow, a fixed sleep could end too early
flock -x "$LOCK" -c 'touch locked; while [ ! -e release ]; do sleep 0.1; done' &
holder=$!
for i in $(seq 100); do [ -e locked ] && break; sleep 0.1; done
ktap_check "positive control: cryptsetup itself waits for $LOCK" \
	eval 'timeout 2 cryptsetup luksDump "$DEV" >/dev/null 2>&1; [ $? = 124 ]'
before=$(hdr_sum)
"$VAULTCTL" add-key "${FAST[@]}" --key-file p1 "$DEV" p2 >out 2>err &
pid=$!
sleep 3
running=no
kill -0 $pid 2>/dev/null && running=yes
ktap_check "vaultctl add-key waits while the lock is held" test $running = yes
ktap_check "and has written nothing meanwhile" test "$(hdr_sum)" = "$before"
touch release
wait $holder
wait_exit $pid 60
xrc=$?
[ $xrc = 0 ] || { echo "# add-key exit $xrc"; show err; }
ktap_check "once released, add-key completes" test $xrc = 0
ktap_check "cryptsetup opens with the added passphrase" cs_opens p2

# 2. cryptsetup changes the header while vaultctl waits at its prompt.
mkfifo fifo
"$VAULTCTL" add-key "${FAST[@]}" "$DEV" p3 0<>fifo >out 2>err &
pid=$!
wait_stdin $pid || ktap_diag "vaultctl did not reach its prompt"
ktap_check "meanwhile cryptsetup luksAddKey (locking on) adds a keyslot" \
	csl luksAddKey -q "${FAST[@]}" --key-file p1 "$DEV" p2 -S 5
echo "coexist passphrase 1" >fifo
wait_exit $pid 60
xrc=$?
show err
ktap_check "vaultctl notices the header changed: exit 5, says so" \
	eval '[ $xrc = 5 ] && grep -q "changed on disk since it was read" err'
ktap_check "cryptsetup's new keyslot still opens the volume" \
	csl open --test-passphrase -S 5 --key-file p2 "$DEV"
ktap_check "vaultctl's passphrase was not added" not cs_opens p3
ktap_check "the first passphrase still opens it" cs_opens p1
ktap_check "cryptsetup luksDump is clean" eval 'csl luksDump "$DEV" >/dev/null 2>dump.err && [ ! -s dump.err ]'

# 3. A mount during format's prompt must not succeed (the device is held).
mkfs.ext4 -q -F "$DEV" || ktap_fail_all "mkfs.ext4 failed"
mkdir -p mnt
ktap_defer umount "$WORK/mnt"
"$VAULTCTL" format --force "${FAST[@]}" "$DEV" 0<>fifo >out 2>err &
pid=$!
wait_stdin $pid || ktap_diag "vaultctl format did not reach its prompt"
mount -t ext4 "$DEV" mnt 2>mount.err
mrc=$?
[ $mrc = 0 ] && umount mnt
echo "coexist passphrase 3" >fifo
wait_exit $pid 60
xrc=$?
show err
ktap_check "mount during format's passphrase prompt fails (device busy)" \
	eval '[ $mrc != 0 ] && grep -qi busy mount.err'
ktap_check "format completed (exit 0) on the device it checked" test $xrc = 0
ktap_check "cryptsetup opens the new volume" cs_opens p3
ktap_finish
