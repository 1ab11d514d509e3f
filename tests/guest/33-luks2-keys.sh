#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Keyslots changed by one tool work (or are gone) in the other: add-key,
# change-key, remove-key and kill-slot by vaultctl checked with cryptsetup,
# and luksAddKey, luksChangeKey, luksRemoveKey and luksKillSlot by
# cryptsetup checked with `vaultctl open` on real mappings.  Then --key-slot,
# and suspend / resume with a passphrase (`key wipe`, then `key set`).
# one-kernel: keyslot changes by vaultctl and cryptsetup (userspace), the same on every kernel; the kernel's key wipe and set are 70-suspend-resume's, on every kernel
. "${VAULT_REPO:?}/tests/lib/ktap.sh"
. "$VAULT_REPO/tests/lib/luks2.sh"

luks2_test_setup t33 20 cryptsetup cmp timeout
cleanup() {
	"$VAULTCTL" resume $T --key-file "$WORK/p1" >/dev/null 2>&1
	"$VAULTCTL" close $T >/dev/null 2>&1
}
ktap_defer cleanup
cd "$WORK" || exit 1
for i in 1 2 3 4 5 6; do printf 'passphrase number %s' $i >p$i; done
printf 'not a passphrase' >bad
head -c $((1 << 20)) /dev/urandom >data

cs_ok() { cs open --test-passphrase --key-file "$1" $DEV 2>/dev/null; }
# cs_refuses PASSFILE: cryptsetup says exit 2, "No key available" (not a hang)
cs_refuses() {
	fails_with 2 'No key available with this passphrase' \
		timeout 60 cryptsetup --disable-locks open --test-passphrase --key-file "$1" $DEV
}
cs_slot_ok() { cs open --test-passphrase -S "$2" --key-file "$1" $DEV 2>/dev/null; }
# v_opens PASSFILE [ARGS]: vaultctl maps the volume with it and the data is there
v_opens() {
	local f=$1 r
	shift
	"$VAULTCTL" open --key-file "$f" "$@" $DEV $T 2>err || { cat err >&2; return 1; }
	cmp -s -n $((1 << 20)) /dev/mapper/$T data
	r=$?
	"$VAULTCTL" close $T || return 1
	return $r
}
# v_refuses PASSFILE [ARGS]: exit 2, the message, and no mapping left
v_refuses() {
	local f=$1 rc
	shift
	"$VAULTCTL" open --key-file "$f" "$@" $DEV $T 2>err
	rc=$?
	[ $rc = 2 ] && grep -q "No key available with this passphrase" err &&
		[ ! -e /dev/mapper/$T ] && return 0
	echo "# exit $rc: $(cat err)"
	return 1
}

ktap_check "vaultctl format (key in slot 0)" "$VAULTCTL" format "${FAST[@]}" --key-file p1 $DEV
"$VAULTCTL" open --key-file p1 $DEV $T &&
	dd if=data of=/dev/mapper/$T bs=1M oflag=direct conv=fsync status=none &&
	"$VAULTCTL" close $T
ktap_check "data written through vault" test $? = 0

# vaultctl changes, cryptsetup checks
ktap_check "vaultctl add-key p2" "$VAULTCTL" add-key "${FAST[@]}" --key-file p1 $DEV p2
ktap_check "cryptsetup accepts p2" cs_ok p2
ktap_check "vaultctl add-key -S 6 p3 (existing one on stdin)" \
	"$VAULTCTL" add-key "${FAST[@]}" -S 6 $DEV p3 <<<"passphrase number 2"
ktap_check "cryptsetup accepts p3 in slot 6" cs_slot_ok p3 6
ktap_check "cryptsetup maps with p3 and reads the data" \
	eval 'cs open --key-file p3 $DEV $T-cs && cmp -s -n $((1 << 20)) /dev/mapper/$T-cs data; r=$?; cs close $T-cs; [ $r = 0 ]'
ktap_check "vaultctl change-key p2 -> p4" "$VAULTCTL" change-key "${FAST[@]}" --key-file p2 $DEV p4
ktap_check "cryptsetup: p2 gone (exit 2, no key)" cs_refuses p2
ktap_check "cryptsetup: p4 works" cs_ok p4
ktap_check "vaultctl remove-key p4" "$VAULTCTL" remove-key $DEV p4
ktap_check "cryptsetup: p4 gone (exit 2, no key)" cs_refuses p4
ktap_check "vaultctl kill-slot 6 --batch-mode" "$VAULTCTL" kill-slot --batch-mode $DEV 6 </dev/null
ktap_check "cryptsetup: p3 (slot 6) gone (exit 2, no key)" cs_refuses p3
ktap_check "cryptsetup luksDump still clean" eval 'cs luksDump $DEV >/dev/null 2>dump.err && [ ! -s dump.err ]'

# cryptsetup changes, vaultctl checks (by mapping and reading)
ktap_check "cryptsetup luksAddKey p5 (slot 2)" cs luksAddKey "${FAST[@]}" -S 2 --key-file p1 $DEV p5
ktap_check "vaultctl opens with p5" v_opens p5
ktap_check "cryptsetup luksChangeKey p5 -> p6" cs luksChangeKey "${FAST[@]}" --key-file p5 $DEV p6
ktap_check "vaultctl: p5 refused (exit 2)" v_refuses p5
ktap_check "vaultctl opens with p6" v_opens p6
ktap_check "vaultctl open --key-slot 2 with p6" v_opens p6 --key-slot 2
ktap_check "vaultctl open --key-slot 0 with p6 is refused" v_refuses p6 --key-slot 0
ktap_check "cryptsetup luksRemoveKey p6" cs luksRemoveKey --key-file p6 $DEV
ktap_check "vaultctl: p6 refused" v_refuses p6
ktap_check "cryptsetup luksAddKey p2 (slot 4), luksKillSlot 4" \
	eval 'cs luksAddKey "${FAST[@]}" -S 4 --key-file p1 $DEV p2 && cs luksKillSlot -q $DEV 4'
ktap_check "vaultctl: p2 refused" v_refuses p2
ktap_check "vaultctl still opens with p1" v_opens p1

# suspend / resume with a passphrase
"$VAULTCTL" open --key-file p1 $DEV $T
ktap_check "suspend" "$VAULTCTL" suspend $T
ktap_check "status: suspended" eval '"$VAULTCTL" status $T | grep -q "(suspended)"'
"$VAULTCTL" resume $T <<<"wrong passphrase" 2>err
xrc=$?
ktap_check "resume with a wrong passphrase: exit 2, still suspended" \
	eval '[ $xrc = 2 ] && grep -q "No key available" err && "$VAULTCTL" status $T | grep -q "(suspended)"'
ktap_check "resume with the passphrase on stdin" "$VAULTCTL" resume $T <<<"passphrase number 1"
ktap_check "data readable after resume" \
	timeout 60 cmp -s -n $((1 << 20)) /dev/mapper/$T data
ktap_check "no temporary key left" test -z "$(vault_key_names vaultctl-$T)"
ktap_check "close" "$VAULTCTL" close $T
ktap_finish
