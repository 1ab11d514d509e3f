#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Errors from the lower device reach the reader/writer as EIO, never hang,
# and leave the vault device removable:
#  - dm-error underneath: reads and writes fail (small and 1 MiB blocks,
#    several in parallel);
#  - dm-flakey underneath, always "down" (up interval 0):
#      no features     reads and writes fail;
#      error_reads     reads fail, writes succeed and land (read back once
#                      the flakey table is replaced by a healthy one);
#      error_writes    writes fail, reads return the old data;
#      drop_writes     writes "succeed" but are dropped: old data stays.
# After each flakey case dm-crypt reads from the ramdisk the data that should
# be there (tests/lib/oracle.sh).
# Every I/O runs under `timeout`: exit 124 (a hang) fails the check.
. "${VAULT_REPO:?}/tests/lib/ktap.sh"
. "$VAULT_REPO/tests/lib/oracle.sh"
. "$VAULT_REPO/tests/lib/vdev.sh"

vdev_names t85 8
vdev_lower_setup timeout python3
modprobe dm-flakey 2>/dev/null
head -c $((MIB << 20)) /dev/urandom > "$WORK/data"
head -c $((MIB << 20)) /dev/urandom > "$WORK/new"

vtable() { echo "0 $LEN vault aes-xts-plain64 key:$T-key 0 /dev/mapper/$L 0"; }
# the same volume straight on the ramdisk, for the dm-crypt oracle
RAW="0 $LEN vault aes-xts-plain64 key:$T-key 0 /dev/ram0 0"

# I/O helpers: status of dd under a time limit (124 = hung)
rd() { timeout 60 dd if=$M of=/dev/null bs="$1" count="$2" iflag=direct status=none; }
wr() { timeout 60 dd if="$WORK/new" of=$M bs="$1" count="$2" oflag=direct conv=fsync status=none; }
parallel_reads_fail() {
	local pids=() p bad=0
	for p in 1 2 3 4; do
		timeout 60 dd if=$M of=/dev/null bs=256k count=8 skip=$((p * 4)) iflag=direct status=none 2>/dev/null &
		pids+=($!)
	done
	for p in "${pids[@]}"; do
		wait "$p"
		case $? in 0) bad=1 ;; 124) bad=1; ktap_diag "parallel read hung" ;; esac
	done
	return $bad
}
healthy() { echo "0 $LEN linear /dev/ram0 0"; }
removable() {
	timeout 60 dmsetup remove $V && timeout 60 dmsetup remove $L
}

# ---- dm-error
dmsetup create $L --table "0 $LEN error" || ktap_fail_all "create dm-error"
dmsetup create $V --table "$(vtable)" || ktap_fail_all "create vault over dm-error"
ktap_check "error: 4k read fails with EIO" fails_eio rd 4k 1
ktap_check "error: 1M read fails with EIO" fails_eio rd 1M 4
ktap_check "error: 4k write fails with EIO" fails_eio wr 4k 1
ktap_check "error: 1M write fails with EIO" fails_eio wr 1M 4
ktap_check "error: parallel reads all fail, none hangs" parallel_reads_fail
ktap_check "error: devices removable" removable

# ---- dm-flakey
flakey() { echo "0 $LEN flakey /dev/ram0 0 0 3600${1:+ $1}"; }
if ! dmsetup create $L --table "$(flakey)"; then
	ktap_dep_missing "dm-flakey unavailable: skipping its cases"
	ktap_finish
fi
dmsetup remove $L

# fresh contents: known data on ram0, written through a healthy mapping
reset_data() {
	dmsetup create $L --table "$(healthy)" &&
	dmsetup create $V --table "$(vtable)" &&
	dd if="$WORK/data" of=$M bs=1M oflag=direct status=none
}

flakey_case() {
	local feat=$1 tag=${1:-no-features}
	tag=${tag#1 }
	reset_data || { ktap_fail "$tag: set up"; return 1; }
	swap_lower $V $L "$(flakey "$feat")" || {
		ktap_diag "$tag: flakey table refused by this kernel"
		removable
		return 2
	}
	return 0
}

if flakey_case ""; then
	ktap_check "flakey down: read fails with EIO" fails_eio rd 64k 4
	ktap_check "flakey down: write fails with EIO" fails_eio wr 64k 4
	ktap_check "flakey down: devices removable" removable
fi

flakey_case "1 error_reads"; rc=$?
if [ $rc = 0 ]; then
	ktap_check "error_reads: read fails with EIO" fails_eio rd 1M 2
	ktap_check "error_reads: write succeeds" wr 1M 2
	swap_lower $V $L "$(healthy)"
	ktap_check "error_reads: the write landed" \
		cmp -s -n $((2 << 20)) "$WORK/new" $M
	ktap_check "error_reads: the rest is the old data" \
		cmp -s -i $((2 << 20)) "$WORK/data" $M
	ktap_check "error_reads: devices removable" removable
	{ head -c $((2 << 20)) "$WORK/new"; tail -c +$(((2 << 20) + 1)) "$WORK/data"; } \
		> "$WORK/expect"
	oracle_check "error_reads" "$RAW" "$WORK/key" "$WORK/expect"
elif [ $rc = 2 ]; then
	ktap_diag "skipped error_reads (added to dm-flakey in a later kernel)"
fi

if flakey_case "1 error_writes"; then
	ktap_check "error_writes: write fails with EIO" fails_eio wr 1M 2
	ktap_check "error_writes: reads return the old data" \
		cmp -s -n $((MIB << 20)) "$WORK/data" $M
	ktap_check "error_writes: devices removable" removable
	oracle_check "error_writes" "$RAW" "$WORK/key" "$WORK/data"
fi

if flakey_case "1 drop_writes"; then
	ktap_check "drop_writes: write reports success" wr 1M 2
	swap_lower $V $L "$(healthy)"
	ktap_check "drop_writes: old data still there" \
		cmp -s -n $((MIB << 20)) "$WORK/data" $M
	ktap_check "drop_writes: devices removable" removable
	oracle_check "drop_writes" "$RAW" "$WORK/key" "$WORK/data"
fi

ktap_finish
