#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Key material never leaks: with mappings made by dmsetup (key loaded by
# `vaultctl key add`) and by `vaultctl open`, neither the key's hex (either
# case) nor its raw bytes appear in `dmsetup table --showkeys`, `dmsetup
# status`, `dmsetup info`, `vaultctl status`, `vaultctl key list`, the
# kernel log, or any process's command line or environment.  A positive
# control proves the detector works: a dm-crypt mapping with the same key
# does show it in `dmsetup table --showkeys`.
. "${VAULT_REPO:?}/tests/lib/ktap.sh"

T=t60
export DM_DISABLE_UDEV=1
WORK=$(mktemp -d /tmp/$T.XXXXXX)

cleanup() {
	local d
	for d in $T-dm $T-ctl $T-crypt; do
		dmsetup remove --retry $d >/dev/null 2>&1
	done
	"$VAULTCTL" key remove $T-key >/dev/null 2>&1
	rm -rf "$WORK"
}
ktap_defer cleanup

need_vaultctl
vault_setup_module || ktap_fail_all "dm-vault.ko cannot be loaded"
need_cmd dmsetup cryptsetup od
brd_setup 2 8 || ktap_fail_all "cannot create ramdisks"

head -c 64 /dev/urandom > "$WORK/key"
KEYHEX=$(od -An -tx1 -v "$WORK/key" | tr -d ' \n')
# Windows of 12 key bytes: a leak of any 12 consecutive bytes is caught.
WIN=24

# hexdump FILE: the file as one line of lowercase hex pairs
hexdump1() { od -An -tx1 -v "$1" | tr -d ' \n'; }

# Every window of the key as a fixed-string pattern, for one grep per file.
for ((i = 0; i + WIN <= ${#KEYHEX}; i += 2)); do
	echo "${KEYHEX:i:WIN}"
done > "$WORK/windows"

# leaks FILE: true when any window of the key appears in FILE, as hex text
# (either case, line breaks ignored) or as raw bytes (searched in FILE's hex
# dump; a match off a byte boundary is only a false alarm, never a miss).
leaks() {
	tr -d '\n' < "$1" > "$WORK/leak.text"
	hexdump1 "$1" > "$WORK/leak.hex"
	grep -qiF -f "$WORK/windows" "$WORK/leak.text" "$WORK/leak.hex"
}

# collect NAME CMD...: run CMD, keep its output (stdout+stderr) for checking
collect() {
	local name=$1
	shift
	"$@" > "$WORK/out.$name" 2>&1
}

# positive controls for the detector
cp "$WORK/key" "$WORK/out.rawkey"
ktap_check "detector finds the raw key" leaks "$WORK/out.rawkey"
echo "xx ${KEYHEX^^} yy" > "$WORK/out.hexkey"
ktap_check "detector finds the hex key (upper case)" leaks "$WORK/out.hexkey"
head -c 256 /dev/urandom > "$WORK/out.random"
ktap_check "detector quiet on random data" not leaks "$WORK/out.random"

ktap_check "vaultctl key add" \
	"$VAULTCTL" key add $T-key --key-file "$WORK/key" --key-size 512
ktap_check "dmsetup create with key:$T-key" \
	dmsetup create $T-dm --table "0 8192 vault aes-xts-plain64 key:$T-key 0 /dev/ram0 0"
ktap_check "vaultctl open" \
	"$VAULTCTL" open --type plain --cipher aes-xts-plain64 --key-size 512 \
	--key-file "$WORK/key" /dev/ram1 $T-ctl
# some I/O, so that any debug print on the data path would have happened
dd if=/dev/urandom of=/dev/mapper/$T-dm bs=64k count=4 oflag=direct status=none
dd if=/dev/mapper/$T-ctl of=/dev/null bs=64k count=4 iflag=direct status=none
# and a suspend/wipe/set/resume round trip
dmsetup suspend $T-dm && dmsetup message $T-dm 0 key wipe &&
	dmsetup message $T-dm 0 key set key:$T-key && dmsetup resume $T-dm ||
	ktap_fail "suspend/key wipe/key set/resume round trip"
"$VAULTCTL" suspend $T-ctl && "$VAULTCTL" resume $T-ctl --key-file "$WORK/key" ||
	ktap_fail "vaultctl suspend/resume round trip"

collect table-showkeys dmsetup table --showkeys
collect table dmsetup table
collect status dmsetup status
collect info dmsetup info
collect ls dmsetup ls --tree
collect vaultctl-status-dm "$VAULTCTL" status $T-dm
collect vaultctl-status-ctl "$VAULTCTL" status $T-ctl
collect vaultctl-keys "$VAULTCTL" key list
collect dmesg dmesg
cat /proc/[0-9]*/cmdline > "$WORK/out.cmdline" 2>/dev/null
cat /proc/[0-9]*/environ > "$WORK/out.environ" 2>/dev/null
cat /sys/block/dm-*/dm/name /sys/block/dm-*/dm/uuid > "$WORK/out.sysfs" 2>/dev/null

for f in table-showkeys table status info ls vaultctl-status-dm \
	 vaultctl-status-ctl vaultctl-keys dmesg cmdline environ sysfs; do
	ktap_check "no key material in $f" not leaks "$WORK/out.$f"
done

ktap_check "table names the key, not its bytes" \
	grep -q "vault aes-xts-plain64 key:$T-key 0 " "$WORK/out.table-showkeys"
ktap_check "vaultctl open's table holds a key reference" \
	grep -qE "^$T-ctl: 0 [0-9]+ vault aes-xts-plain64 (key:[A-Za-z0-9._:-]+|-) " \
	"$WORK/out.table-showkeys"
ktap_check "key list shows the name" grep -q "$T-key" "$WORK/out.vaultctl-keys"

# Positive control: dm-crypt with the same key shows it with --showkeys.
dmsetup remove $T-dm
if cryptsetup open --type plain --cipher aes-xts-plain64 --key-size 512 \
	--key-file "$WORK/key" --size 8192 /dev/ram0 $T-crypt; then
	collect crypt-showkeys dmsetup table --showkeys $T-crypt
	ktap_check "detector sees dm-crypt's --showkeys key" leaks "$WORK/out.crypt-showkeys"
	cryptsetup close $T-crypt
else
	ktap_fail "cryptsetup open for the positive control"
fi

ktap_finish
