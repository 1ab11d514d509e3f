#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# LUKS2 made by cryptsetup, opened by vaultctl: for each luksFormat variant
# (argon2id, argon2i, pbkdf2 with sha256 and sha512; 512- and 4096-byte
# sectors; the key in slot 0, or only in a later slot; a larger
# --luks2-metadata-size with its larger data offset; aes-cbc-essiv), data
# written through dm-crypt must read back intact through `vaultctl open`,
# and the vault table must carry the segment's offset and sector size.
# one-kernel: vaultctl's reading of cryptsetup's headers and KDFs (userspace), the same on every kernel; the vault target's data path over these layouts is 10-compat-dmcrypt's, on every kernel
. "${VAULT_REPO:?}/tests/lib/ktap.sh"
. "$VAULT_REPO/tests/lib/luks2.sh"

PASS='Tr0ub4dor&3 with spaces'
ARGON=(--pbkdf-force-iterations 4 --pbkdf-memory 32 --pbkdf-parallel 1)
PBKDF2=(--pbkdf pbkdf2 --pbkdf-force-iterations 1000)
luks2_test_setup t32 24 cryptsetup cmp
cleanup() {
	"$VAULTCTL" close $T >/dev/null 2>&1
	cs close $T-cs >/dev/null 2>&1
}
ktap_defer cleanup
printf '%s' "$PASS" >"$WORK/pass"
head -c $((1 << 20)) /dev/urandom >"$WORK/data"
data_ok() { cmp -s -n $((1 << 20)) "$1" "$WORK/data"; }

# one NAME SECTOR_SIZE VAULTCTL-OPEN-ARGS -- LUKSFORMAT-ARGS...
one() {
	local name=$1 ss=$2 vargs=() table off_bytes off
	shift 2
	while [ "$1" != -- ]; do vargs+=("$1"); shift; done
	shift
	ktap_diag "case $name: cryptsetup luksFormat $*"
	dd if=/dev/zero of=$DEV bs=1M count=1 status=none
	if ! cs luksFormat -q --type luks2 --key-file "$WORK/pass" "$@" $DEV >"$WORK/out" 2>&1; then
		ktap_diag_stream <"$WORK/out"
		ktap_fail "$name: cryptsetup luksFormat"
		return
	fi
	off_bytes=$(cs luksDump $DEV | sed -n 's/^[[:space:]]*offset: \([0-9]*\) \[bytes\].*/\1/p' | head -n 1)
	off=$((off_bytes / 512))
	cs open --key-file "$WORK/pass" $DEV $T-cs &&
		dd if="$WORK/data" of=/dev/mapper/$T-cs bs=1M oflag=direct conv=fsync status=none &&
		cs close $T-cs
	ktap_check "$name: written through dm-crypt" test $? = 0 || return
	if ! "$VAULTCTL" open "${vargs[@]}" $DEV $T <<<"$PASS" 2>"$WORK/err"; then
		ktap_diag_stream <"$WORK/err"
		ktap_fail "$name: vaultctl open"
		return
	fi
	ktap_pass "$name: vaultctl open"
	table=$(vdmsetup table $T)
	ktap_diag "table: $table"
	set -- $table
	if [ "$ss" = 512 ]; then
		ktap_check "$name: table: offset $off, 512-byte sectors" \
			test "$8" = "$off" -a -z "$(grep -o sector_size <<<"$table")"
	else
		ktap_check "$name: table: offset $off, sector_size:$ss" \
			test "$8" = "$off" -a -n "$(grep -o "sector_size:$ss" <<<"$table")"
	fi
	ktap_check "$name: vault reads what dm-crypt wrote" data_ok /dev/mapper/$T
	ktap_check "$name: vaultctl close" "$VAULTCTL" close $T
	ktap_diag "$name: done at ${SECONDS}s"
}

one "argon2id 4096" 4096 -- --pbkdf argon2id "${ARGON[@]}" --sector-size 4096
one "argon2i 512" 512 -- --pbkdf argon2i "${ARGON[@]}" --sector-size 512
one "pbkdf2 sha256 4096" 4096 -- "${PBKDF2[@]}" --hash sha256 --sector-size 4096
one "pbkdf2 sha512 512" 512 -- "${PBKDF2[@]}" --hash sha512 --sector-size 512
one "key only in slot 5" 4096 -- "${PBKDF2[@]}" --key-slot 5 --sector-size 4096
ktap_check "slot 5: vaultctl open --key-slot 5 too" \
	eval '"$VAULTCTL" open --key-slot 5 --key-file "$WORK/pass" $DEV $T && data_ok /dev/mapper/$T'
"$VAULTCTL" close $T >/dev/null 2>&1
one "metadata 256k, data at 18 MiB" 4096 -- "${PBKDF2[@]}" --luks2-metadata-size 256k \
	--luks2-keyslots-size 8m --offset 36864 --sector-size 4096
one "aes-cbc-essiv 256 512" 512 -- "${PBKDF2[@]}" --cipher aes-cbc-essiv:sha256 --key-size 256 \
	--sector-size 512
one "aes-xts 256-bit key 2048" 2048 -- "${PBKDF2[@]}" --key-size 256 --sector-size 2048

# A passphrase in a later slot only, the first slot killed by cryptsetup.
dd if=/dev/zero of=$DEV bs=1M count=1 status=none
printf 'other passphrase' >"$WORK/pass0"
cs luksFormat -q --type luks2 "${PBKDF2[@]}" --key-file "$WORK/pass0" $DEV &&
	cs luksAddKey "${PBKDF2[@]}" --key-file "$WORK/pass0" -S 3 $DEV "$WORK/pass" &&
	cs luksKillSlot -q $DEV 0 &&
	cs open --key-file "$WORK/pass" $DEV $T-cs &&
	dd if="$WORK/data" of=/dev/mapper/$T-cs bs=1M oflag=direct conv=fsync status=none &&
	cs close $T-cs
ktap_check "slot 0 killed, key in slot 3: set up by cryptsetup" test $? = 0
ktap_check "slot 3 only: vaultctl open --key-file" \
	"$VAULTCTL" open --key-file "$WORK/pass" $DEV $T &&
	ktap_check "slot 3 only: data intact" data_ok /dev/mapper/$T
"$VAULTCTL" close $T >/dev/null 2>&1
ktap_finish
