#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# LUKS2 made by vaultctl, checked by cryptsetup: `vaultctl format` gives a
# header cryptsetup's luksDump reads without complaint, and data written
# through `vaultctl open` (the vault target) reads back intact through
# `cryptsetup open` (dm-crypt).  Cases: pbkdf2 with 4096-byte sectors (the
# default), argon2id with 512-byte sectors and a larger metadata area,
# aes-cbc-essiv with a 256-bit key, and a calibrated (not forced) argon2id.
# Passphrases come from a here-string (stdin not a terminal: one line).
# Also: the dm UUID, the table (offset, sector_size, no iv_large_sectors),
# status, --readonly and --allow-discards.
# one-kernel: vaultctl's LUKS2 header writing (userspace), the same on every kernel; the vault target's data path over these layouts is 10-compat-dmcrypt's, on every kernel
. "${VAULT_REPO:?}/tests/lib/ktap.sh"
. "$VAULT_REPO/tests/lib/luks2.sh"

PASS='correct horse battery staple'
luks2_test_setup t31 24 cryptsetup cmp
cleanup() {
	"$VAULTCTL" close $T >/dev/null 2>&1
	cs close $T-cs >/dev/null 2>&1
}
ktap_defer cleanup
printf '%s' "$PASS" >"$WORK/pass"

head -c $((1 << 20)) /dev/urandom >"$WORK/data"
# has_all FILE PATTERN...: every fixed string is in FILE
has_all() {
	local f=$1 p
	shift
	for p in "$@"; do
		grep -qF -- "$p" "$f" || return 1
	done
}
data_ok() { cmp -s -n $((1 << 20)) "$1" "$WORK/data"; }

# roundtrip NAME EXPECTED_SECTOR_SIZE EXPECTED_OFFSET_SECTORS FORMAT-ARGS...
roundtrip() {
	local name=$1 ss=$2 off=$3 uuid hex table
	shift 3
	ktap_diag "case $name: vaultctl format $*"
	dd if=/dev/zero of=$DEV bs=1M count=1 status=none
	if ! "$VAULTCTL" format "$@" $DEV <<<"$PASS" >"$WORK/out" 2>&1; then
		ktap_diag_stream <"$WORK/out"
		ktap_fail "$name: vaultctl format"
		return
	fi
	ktap_pass "$name: vaultctl format"
	cs luksDump $DEV >"$WORK/dump" 2>"$WORK/dump.err"
	ktap_check "$name: cryptsetup luksDump exits 0, nothing on stderr" \
		test $? = 0 -a ! -s "$WORK/dump.err" || ktap_diag_stream <"$WORK/dump.err"
	ktap_check "$name: luksDump shows sector size $ss" grep -q "sector: $ss \[bytes\]" "$WORK/dump"

	ktap_check "$name: vaultctl open (passphrase from a here-string)" \
		"$VAULTCTL" open $DEV $T <<<"$PASS" || return
	uuid=$(cs luksUUID $DEV)
	hex=${uuid//-/}
	ktap_check "$name: dm UUID is VAULT-LUKS2-<uuid>-<name>" \
		test "$(vdmsetup info -c --noheadings -o uuid $T)" = "VAULT-LUKS2-$hex-$T"
	table=$(vdmsetup table $T)
	ktap_diag "table: $table"
	# <start> <len> vault <cipher> <key> <iv_offset> <dev> <offset> [opts]
	set -- $table
	ktap_check "$name: table: iv_offset 0, data offset $off" test "$6.$8" = "0.$off"
	if [ "$ss" = 512 ]; then
		ktap_check "$name: table: no sector_size option" not grep -q sector_size <<<"$table"
	else
		ktap_check "$name: table: sector_size:$ss" grep -q "sector_size:$ss" <<<"$table"
	fi
	ktap_check "$name: table: no iv_large_sectors" not grep -q iv_large_sectors <<<"$table"
	"$VAULTCTL" status $T >"$WORK/status" 2>&1
	ktap_check "$name: status says LUKS2, sector size and offset" \
		has_all "$WORK/status" "type:    LUKS2" "sector size:  $ss" "offset:  $off sectors" ||
		ktap_diag_stream <"$WORK/status"
	ktap_check "$name: write through vault" \
		dd if="$WORK/data" of=/dev/mapper/$T bs=1M oflag=direct conv=fsync status=none
	ktap_check "$name: vaultctl close" "$VAULTCTL" close $T
	ktap_check "$name: the raw device holds no plaintext (cmp: exit 1, differ)" \
		fails_with 1 '' cmp -s -n $((1 << 20)) -i $((off * 512)):0 $DEV "$WORK/data"
	ktap_check "$name: cryptsetup open with the same passphrase" \
		cs open --key-file "$WORK/pass" $DEV $T-cs || return
	ktap_check "$name: dm-crypt reads what vault wrote" data_ok /dev/mapper/$T-cs
	cs close $T-cs
	ktap_diag "$name: done at ${SECONDS}s"
}

roundtrip "pbkdf2 defaults" 4096 32768 "${FAST[@]}"
roundtrip "argon2id 512-byte sectors 64k metadata" 512 32768 \
	--pbkdf argon2id --pbkdf-force-iterations 4 --pbkdf-memory 64 --pbkdf-parallel 1 \
	--sector-size 512 --luks2-metadata-size 64k --label t31-label
ktap_check "label visible to cryptsetup" grep -q "Label:.*t31-label" "$WORK/dump"
roundtrip "aes-cbc-essiv 256-bit" 4096 32768 "${FAST[@]}" --cipher aes-cbc-essiv:sha256 --key-size 256
roundtrip "argon2id calibrated (--iter-time 200, 16 MiB)" 4096 32768 \
	--iter-time 200 --pbkdf-memory 16384 --pbkdf-parallel 1
ktap_check "calibrated keyslot is argon2id" grep -q "PBKDF:      argon2id" "$WORK/dump"

# --readonly and --allow-discards on the last volume
ktap_check "open --readonly --allow-discards" \
	"$VAULTCTL" open --readonly --allow-discards --key-file "$WORK/pass" $DEV $T
"$VAULTCTL" status $T >"$WORK/status" 2>&1
ktap_check "status: readonly mode, allow_discards" \
	has_all "$WORK/status" "mode:    readonly" allow_discards
ktap_check "a read-only mapping refuses writes (dd: exit 1, read-only)" \
	fails_with 1 'Read-only file system|Permission denied|Operation not permitted' \
	timeout 60 dd if=/dev/zero of=/dev/mapper/$T bs=4096 count=1 oflag=direct status=none
ktap_check "and reads the data" data_ok /dev/mapper/$T
ktap_check "no temporary key is left loaded" test -z "$(vault_key_names vaultctl-$T)"

# A taken name: refused before the passphrase is read (stdin is empty), in
# both modes, with a message naming it; the open mapping is untouched.  The
# second volume is on another device, so only the name is in the way.
loop_setup 20 OTHER || ktap_fail_all "cannot set up a loop device"
"$VAULTCTL" format "${FAST[@]}" --batch-mode $OTHER <<<"$PASS" >/dev/null 2>&1 ||
	ktap_fail "format a second volume"
"$VAULTCTL" open $OTHER $T </dev/null >"$WORK/out" 2>&1
rc=$?
ktap_check "LUKS2 open of a taken name: exit 5, 'device $T already exists'" \
	test $rc = 5 -a "$(grep -c "device $T already exists" "$WORK/out")" = 1 ||
	ktap_diag_stream <"$WORK/out"
head -c 64 /dev/urandom >"$WORK/plainkey"
"$VAULTCTL" open --type plain --key-file "$WORK/plainkey" $OTHER $T >"$WORK/out" 2>&1
rc=$?
ktap_check "plain open of a taken name: exit 5, 'device $T already exists'" \
	test $rc = 5 -a "$(grep -c "device $T already exists" "$WORK/out")" = 1 ||
	ktap_diag_stream <"$WORK/out"
ktap_check "the open mapping still reads the data" data_ok /dev/mapper/$T
ktap_check "and no temporary key is left loaded" test -z "$(vault_key_names vaultctl-$T)"
"$VAULTCTL" close $T
ktap_finish
