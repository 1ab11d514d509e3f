#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Bad input to `vaultctl open` on LUKS2: a wrong passphrase (stdin, key
# file, wrong --key-slot) gives exit 2 and a clear message; damaged or
# hostile headers (both JSON areas flipped, a bad checksum on one copy and
# the other wiped, an unknown mandatory requirement, cipher_null in the
# segment, a segment beyond the end of the device, a data segment over the
# header copies, a non-LUKS device) give exit 1 and a message saying what is
# wrong; names device-mapper reserves (control, ".", "..") are refused by
# vaultctl itself, whatever the kernel would accept.  In every case no mapping and no key is left behind and the
# device bytes are unchanged (sha256 before/after).  Damaged headers are
# made with the LUKS2 library's own test helper,
# userspace/luks2/tests/craft.py, which rewrites JSON with valid checksums.
# one-kernel: vaultctl's header checks refuse before any mapping is made, the same on every kernel
. "${VAULT_REPO:?}/tests/lib/ktap.sh"
. "$VAULT_REPO/tests/lib/luks2.sh"

CRAFT=(python3 "$VAULT_REPO/userspace/luks2/tests/craft.py")
luks2_test_setup t35 20 sha256sum python3
cleanup() {
	"$VAULTCTL" close $T >/dev/null 2>&1
}
ktap_defer cleanup
cd "$WORK" || exit 1
printf 'the right passphrase' >pass
printf 'the wrong passphrase' >bad
dev_sum() { sha256sum <$DEV | cut -d' ' -f1; }

fresh() {
	dd if=/dev/zero of=$DEV bs=64k count=1 status=none
	"$VAULTCTL" format "${FAST[@]}" --key-file pass $DEV >/dev/null 2>&1
}

# refused NAME RC PATTERN OPEN-ARGS... (the device is the last argument
# added here): open exits RC with PATTERN (not empty) on stderr, leaves no mapping or key, and does not change the device.
refused() {
	local name=$1 want=$2 pat=$3 before rc ok=1
	shift 3
	before=$(dev_sum)
	"$VAULTCTL" open "$@" $DEV $T >out 2>err
	rc=$?
	sed 's/^/# stderr: /' err
	[ $rc = "$want" ] || { ktap_diag "exit $rc$(ktap_rc_meaning $rc), wanted $want"; ok=0; }
	[ -n "$pat" ] && grep -q -- "$pat" err || { ktap_diag "no '$pat' in the message"; ok=0; }
	[ ! -e /dev/mapper/$T ] || { ktap_diag "a mapping was left"; ok=0; "$VAULTCTL" close $T; }
	[ -z "$(vault_key_names vaultctl-$T)" ] || { ktap_diag "a key was left"; ok=0; }
	[ "$(dev_sum)" = "$before" ] || { ktap_diag "the device changed"; ok=0; }
	if [ $ok = 1 ]; then ktap_pass "$name"; else ktap_fail "$name"; fi
}

fresh || ktap_fail_all "vaultctl format failed"
refused "wrong passphrase on stdin: exit 2" 2 "No key available with this passphrase" \
	<<<"the wrong passphrase"
refused "wrong passphrase in a key file: exit 2" 2 "No key available with this passphrase" \
	--key-file bad
refused "right passphrase, unused --key-slot: exit 1 (as cryptsetup)" 1 "keyslot 3 is not in use" \
	--key-file pass --key-slot 3
refused "empty passphrase: exit 1" 1 "no passphrase given" </dev/null

printf 'XXXX' | dd of=$DEV bs=1 seek=$((4096 + 20)) conv=notrunc status=none
printf 'XXXX' | dd of=$DEV bs=1 seek=$((16384 + 4096 + 20)) conv=notrunc status=none
refused "both JSON areas damaged" 1 "checksum" --key-file pass

fresh
printf '\xff' | dd of=$DEV bs=1 seek=450 conv=notrunc status=none
dd if=/dev/zero of=$DEV bs=4096 seek=4 count=1 conv=notrunc status=none
refused "bad checksum on the primary, secondary wiped" 1 "checksum" --key-file pass

fresh
"${CRAFT[@]}" $DEV json 'j["config"]["requirements"]={"mandatory":["online-reencrypt-v2"]}'
refused "unknown mandatory requirement (reencryption)" 1 "requirement" --key-file pass

fresh
"${CRAFT[@]}" $DEV json 'j["segments"]["0"]["encryption"]="cipher_null-ecb"'
refused "cipher_null in the segment" 1 "cipher_null" --key-file pass

fresh
"${CRAFT[@]}" $DEV json 'j["segments"]["0"]["size"]="1073741824"'
refused "segment beyond the end of the device" 1 "is larger than device" --key-file pass

fresh
"${CRAFT[@]}" $DEV json 'j["segments"]["0"]["size"]="18446744073692774400"'
refused "segment size overflowing offset + size" 1 "offset + size overflows" --key-file pass

fresh
"${CRAFT[@]}" $DEV json 'j["segments"]["0"]["offset"]="0"'
refused "data segment at offset 0 (over both header copies): exit 1" 1 \
	"data segment 0 (bytes 0 to the end of the device) overlaps the metadata" --key-file pass

# Names device-mapper reserves: refused before any key or device is made,
# on 6.1 (whose kernel would create "control") as on 6.12 (which refuses it).
fresh
head -c 64 /dev/urandom >plainkey
for name in control . ..; do
	for type in luks2 plain; do
		args=(--key-file pass)
		[ $type = plain ] && args=(--type plain --cipher aes-xts-plain64 --key-size 512 --key-file plainkey)
		before=$(dev_sum)
		"$VAULTCTL" open "${args[@]}" $DEV "$name" >out 2>err
		rc=$?
		sed 's/^/# stderr: /' err
		ok=1
		[ $rc = 1 ] || { ktap_diag "exit $rc, wanted 1"; ok=0; }
		grep -q "invalid device name '$name': .*reserved by device-mapper" err ||
			{ ktap_diag "no 'reserved by device-mapper' message"; ok=0; }
		vdmsetup info -- "$name" >/dev/null 2>&1 && { ktap_diag "a device '$name' exists"; ok=0; }
		[ -c /dev/mapper/control ] || { ktap_diag "/dev/mapper/control is gone"; ok=0; }
		[ -z "$(vault_key_names "vaultctl-")" ] || { ktap_diag "a key was left"; ok=0; }
		[ "$(dev_sum)" = "$before" ] || { ktap_diag "the device changed"; ok=0; }
		if [ $ok = 1 ]; then ktap_pass "open ($type) refuses the name '$name', nothing made"
		else ktap_fail "open ($type) refuses the name '$name', nothing made"; fi
	done
done

dd if=/dev/zero of=$DEV bs=64k count=1 status=none
refused "no LUKS2 header, no --type" 1 "use --type plain" --key-file pass
refused "--type luks2 on a plain device" 1 "not a LUKS2 device" --type luks2 --key-file pass
ktap_finish
