#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# LUKS2 header backup, restore and recovery, across both tools:
#   - a header saved by `vaultctl header-backup` and restored after the
#     headers were wiped opens again (with vaultctl and with cryptsetup);
#   - a backup made by cryptsetup restores with vaultctl, and vaultctl's
#     backup restores with cryptsetup;
#   - with the primary header destroyed, `vaultctl open` opens from the
#     secondary copy, says so, and writes nothing; `vaultctl repair` then
#     rewrites the primary, which cryptsetup reads cleanly;
#   - uuid and is-luks agree with cryptsetup; erase makes the volume
#     unopenable for both tools until the backup is restored.
# one-kernel: vaultctl's header backup, restore and repair (userspace), the same on every kernel
. "${VAULT_REPO:?}/tests/lib/ktap.sh"
. "$VAULT_REPO/tests/lib/luks2.sh"

MIB=1
luks2_test_setup t34 20 cryptsetup cmp sha256sum
cleanup() {
	"$VAULTCTL" close $T >/dev/null 2>&1
	cs close $T-cs >/dev/null 2>&1
}
ktap_defer cleanup
cd "$WORK" || exit 1
printf 'header test passphrase' >pass
head -c $((MIB << 20)) /dev/urandom >data
hdr_sum() { head -c $((16 << 20)) $DEV | sha256sum | cut -d' ' -f1; }

v_opens() {
	local r
	"$VAULTCTL" open --key-file pass "$@" $DEV $T 2>err || { sed 's/^/# /' err; return 1; }
	cmp -s -n $((MIB << 20)) /dev/mapper/$T data
	r=$?
	"$VAULTCTL" close $T || return 1
	return $r
}
cs_opens() {
	local r
	cs open --key-file pass $DEV $T-cs || return 1
	cmp -s -n $((MIB << 20)) /dev/mapper/$T-cs data
	r=$?
	cs close $T-cs
	return $r
}
wipe_headers() { dd if=/dev/zero of=$DEV bs=64k count=1 conv=fsync status=none; }

ktap_check "vaultctl format" "$VAULTCTL" format "${FAST[@]}" --key-file pass $DEV
"$VAULTCTL" open --key-file pass $DEV $T &&
	dd if=data of=/dev/mapper/$T bs=1M oflag=direct conv=fsync status=none &&
	"$VAULTCTL" close $T
ktap_check "data written" test $? = 0

ktap_check "uuid agrees with cryptsetup luksUUID" \
	test "$("$VAULTCTL" uuid $DEV)" = "$(cs luksUUID $DEV)"
ktap_check "is-luks: yes" "$VAULTCTL" is-luks $DEV
ktap_check "vaultctl header-backup" "$VAULTCTL" header-backup $DEV v.backup
ktap_check "cryptsetup luksHeaderBackup" cs luksHeaderBackup $DEV --header-backup-file c.backup

wipe_headers
ktap_check "headers wiped: is-luks says no (exit 1)" eval '"$VAULTCTL" is-luks $DEV; [ $? = 1 ]'
"$VAULTCTL" open --key-file pass $DEV $T 2>err
xrc=$?
ktap_check "headers wiped: open fails, says no LUKS2 header" \
	eval '[ $xrc = 1 ] && grep -q "not a LUKS2" err'
ktap_check "vaultctl header-restore (its own backup)" \
	"$VAULTCTL" header-restore --batch-mode $DEV v.backup
ktap_check "restored: vaultctl opens, data intact" v_opens
ktap_check "restored: cryptsetup opens, data intact" cs_opens

wipe_headers
ktap_check "vaultctl header-restore of cryptsetup's backup" \
	"$VAULTCTL" header-restore --batch-mode $DEV c.backup
ktap_check "restored from cryptsetup's backup: vaultctl opens" v_opens
wipe_headers
ktap_check "cryptsetup luksHeaderRestore of vaultctl's backup" \
	cs luksHeaderRestore -q $DEV --header-backup-file v.backup
ktap_check "restored by cryptsetup: vaultctl opens" v_opens
ktap_check "cryptsetup luksDump clean after that" \
	eval 'cs luksDump $DEV >/dev/null 2>dump.err && [ ! -s dump.err ]'

# The primary binary header destroyed: the secondary copy is used.
dd if=/dev/zero of=$DEV bs=4096 count=1 conv=fsync status=none
before=$(hdr_sum)
"$VAULTCTL" open --key-file pass $DEV $T 2>err
xrc=$?
sed 's/^/# stderr: /' err
ktap_check "primary destroyed: vaultctl open works" test $xrc = 0
ktap_check "and says the primary header is damaged" grep -q "primary header is damaged" err
ktap_check "data intact through the secondary header" \
	cmp -s -n $((MIB << 20)) /dev/mapper/$T data
"$VAULTCTL" close $T
ktap_check "open wrote nothing to the device" test "$(hdr_sum)" = "$before"
ktap_check "vaultctl repair" eval '"$VAULTCTL" repair $DEV | grep -q repaired'
ktap_check "after repair: primary magic back, cryptsetup luksDump clean" \
	eval 'head -c 6 $DEV | od -An -c | grep -q "L   U   K   S" && cs luksDump $DEV >/dev/null 2>dump.err && [ ! -s dump.err ]'
ktap_check "after repair: cryptsetup opens" cs_opens

# erase: every keyslot gone for both tools; the backup brings them back
ktap_check "vaultctl erase --batch-mode" "$VAULTCTL" erase --batch-mode $DEV
ktap_check "erased: cryptsetup refuses the passphrase (exit 1, no usable keyslot)" \
	fails_with 1 'No usable keyslot is available' \
	timeout 60 cryptsetup --disable-locks open --test-passphrase --key-file pass $DEV
"$VAULTCTL" open --key-file pass $DEV $T 2>err
xrc=$?
ktap_check "erased: vaultctl open fails (exit 1, as cryptsetup), no usable keyslot" \
	eval '[ $xrc = 1 ] && grep -q "no usable keyslot" err'

ktap_check "restore after erase" "$VAULTCTL" header-restore --batch-mode $DEV v.backup
ktap_check "restored after erase: vaultctl opens, data intact" v_opens
ktap_finish
