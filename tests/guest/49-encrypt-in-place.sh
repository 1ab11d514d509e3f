#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# vaultctl encrypt in place on a real block device: an ext4 with files on a
# 24 MiB ramdisk (filesystem 16 MiB, --reduce-device-size 8M) becomes LUKS2;
# a mounted device is refused; cryptsetup opens the result and vaultctl
# opens it (through dm-vault): fsck clean, every file equal; vaultctl
# decrypt --header gives back a plain ext4 (fsck clean, files equal, no
# mapping).  Then an interrupted job (vaultctl stopped as by kill -9 after a
# hotzone's data and before its checkpoint: VAULT_TEST_CRASH_AFTER_DATA) is
# finished by cryptsetup repair + reencrypt --resume-only, with the same
# checks (cryptsetup reencrypt --decrypt of vaultctl's volume: encdec.sh,
# on the host).  Last, encrypt --header FILE (the data in place): refused
# while mounted, then cryptsetup open --header reads it (fsck clean, files
# equal), vaultctl open --header maps it (a file written through it is read
# by cryptsetup) and vaultctl decrypt --header FILE gives the plain ext4 back
# (encdec-header.sh has the rest, on the host).  About 40 s under TCG on an
# idle machine.
. "${VAULT_REPO:?}/tests/lib/ktap.sh"
. "$VAULT_REPO/tests/lib/luks2.sh"

luks2_test_setup t49 24 cryptsetup mkfs.ext4 e2fsck mount umount diff
V=$T-v
MNT=$WORK/mnt
cleanup() {
	mountpoint -q "$MNT" && umount "$MNT"
	"$VAULTCTL" close $V >/dev/null 2>&1
	"$VAULTCTL" close $T-v >/dev/null 2>&1
	dmsetup remove --retry $T-cs >/dev/null 2>&1
}
ktap_defer cleanup
cd "$WORK" || exit 1
mkdir -p src/dir "$MNT"
printf 'in place' >p1
head -c $((3 << 20)) /dev/urandom >src/random.bin
seq 1 50000 >src/dir/numbers.txt
echo hello >src/hello.txt

fresh_fs() { mkfs.ext4 -q -F -d src "$DEV" 16384k; }
# files_equal DEV: DEV mounts (read-only) and holds exactly src's files
files_equal() {
	local rc

	mount -o ro "$1" "$MNT" || return 1
	diff -r src "$MNT" -x lost+found >/dev/null
	rc=$?
	umount "$MNT"
	return $rc
}
# opens_clean: cryptsetup and vaultctl open it; fsck clean, files equal
opens_clean() {
	cs open --readonly --key-file p1 "$DEV" $T-cs || return 1
	e2fsck -fn /dev/mapper/$T-cs >/dev/null 2>&1 && files_equal /dev/mapper/$T-cs
	local rc=$?
	cs close $T-cs
	[ $rc = 0 ] || return 1
	"$VAULTCTL" open --readonly --key-file p1 "$DEV" $V || return 1
	files_equal /dev/mapper/$V
	rc=$?
	"$VAULTCTL" close $V
	return $rc
}
enc() { "$VAULTCTL" encrypt --batch-mode --key-file p1 "${FAST[@]}" "$@"; }

fresh_fs || ktap_fail_all "mkfs.ext4"
mount "$DEV" "$MNT"
ktap_check "encrypt of a mounted device: refused (in use), nothing written" \
	fails_with 5 'is in use' enc --reduce-device-size 8M "$DEV"
umount "$MNT"
ktap_check "  ... the filesystem is still plain and clean" \
	eval '! cryptsetup isLuks "$DEV" && e2fsck -fn "$DEV" >/dev/null 2>&1'

ktap_check "encrypt --reduce-device-size 8M of the unmounted ext4" enc --reduce-device-size 8M "$DEV"
ktap_check "LUKS2, data at 4 MiB, no reencryption left" \
	eval 'cs luksDump "$DEV" | grep -q "offset: 4194304 \[bytes\]" && ! cs luksDump "$DEV" | grep -q reencrypt'
ktap_diag "encrypted after ${SECONDS}s"
ktap_check "cryptsetup open and vaultctl open: fsck clean, every file equal" opens_clean
ktap_diag "opened and checked after ${SECONDS}s"

rm -f hdr
ktap_check "vaultctl decrypt --header FILE gives back the plain ext4" \
	"$VAULTCTL" decrypt --batch-mode --header hdr --key-file p1 "$DEV"
ktap_check "  ... fsck clean and every file equal, without any mapping" \
	eval '! cryptsetup isLuks "$DEV" && e2fsck -fn "$DEV" >/dev/null 2>&1 && files_equal "$DEV"'

ktap_diag "decrypted and checked after ${SECONDS}s"
# interrupted after the second hotzone's data, before its checkpoint
fresh_fs || ktap_fail_all "mkfs.ext4"
VAULT_TEST_CRASH_AFTER_DATA=1 enc --reduce-device-size 8M "$DEV"
crc=$?
interrupted() { [ "$crc" = 137 ] && cs luksDump --dump-json-metadata "$DEV" | grep -q in-reencryption; }
ktap_check "an interrupted encrypt leaves a hotzone in the metadata" interrupted
cs repair -q --key-file p1 "$DEV" >/dev/null 2>&1
if cs luksDump "$DEV" | grep -q online-reencrypt; then
	cs reencrypt --resume-only -q --key-file p1 "$DEV" >/dev/null 2>&1
fi
ktap_check "cryptsetup repair + reencrypt --resume-only finish it" \
	eval '! cs luksDump "$DEV" | grep -q reencrypt'
ktap_check "  ... fsck clean, every file equal (cryptsetup and vaultctl)" opens_clean

ktap_diag "resumed and checked after ${SECONDS}s"
# the header in a file, the data left in place (encrypt --header)
fresh_fs || ktap_fail_all "mkfs.ext4"
rm -f dhdr
mount "$DEV" "$MNT"
ktap_check "encrypt --header of a mounted device: refused (in use), no header file" \
	eval 'fails_with 5 "is in use" enc --header dhdr "$DEV" && [ ! -e dhdr ]'
umount "$MNT"
ktap_check "encrypt --header FILE of the unmounted ext4" enc --header dhdr "$DEV"
# opens_detached: cryptsetup opens it with FILE: fsck clean, files equal
opens_detached() {
	cs open --readonly --header dhdr --key-file p1 "$DEV" $T-cs || return 1
	e2fsck -fn /dev/mapper/$T-cs >/dev/null 2>&1 && files_equal /dev/mapper/$T-cs
	local rc=$?
	cs close $T-cs
	return $rc
}
ktap_check "  ... no header on the device; cryptsetup open --header: fsck clean, every file equal" \
	eval '! cryptsetup isLuks "$DEV" && opens_detached'
# vaultopens_detached: vaultctl open --header maps it: fsck clean, files equal,
# and it mounts and takes a new file that cryptsetup then reads
vaultopens_detached() {
	"$VAULTCTL" open --header dhdr --key-file p1 "$DEV" $T-v || return 1
	e2fsck -fn /dev/mapper/$T-v >/dev/null 2>&1 && files_equal /dev/mapper/$T-v &&
		mount /dev/mapper/$T-v "$MNT" && echo written-by-vault >"$MNT/new.txt" &&
		umount "$MNT" && echo written-by-vault >src/new.txt	# now part of the reference
	local rc=$?
	"$VAULTCTL" close $T-v || return 1
	[ $rc = 0 ] && cs open --readonly --header dhdr --key-file p1 "$DEV" $T-cs || return 1
	mount -o ro /dev/mapper/$T-cs "$MNT" && grep -qx written-by-vault "$MNT/new.txt"
	rc=$?
	umount "$MNT"
	cs close $T-cs
	return $rc
}
ktap_check "  ... vaultctl open --header: fsck clean, every file equal; a file it writes cryptsetup reads" \
	vaultopens_detached
ktap_check "vaultctl decrypt --header FILE (its own header): the plain ext4 in place" \
	"$VAULTCTL" decrypt --batch-mode --header dhdr --key-file p1 "$DEV"
ktap_check "  ... fsck clean and every file equal, without any mapping" \
	eval 'e2fsck -fn "$DEV" >/dev/null 2>&1 && files_equal "$DEV"'

ktap_diag "elapsed: ${SECONDS}s"
ktap_finish
