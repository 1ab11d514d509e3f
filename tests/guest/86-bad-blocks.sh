#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A few bad blocks below a vault device: exactly the I/O that touches them
# fails with EIO, every other block reads back the right plaintext, and a
# failed write changes nothing.  Each block is read on its own with O_DIRECT
# (tests/lib/block-scan.py) and compared with what was written.
#  - dm-error segments inside the lower table (linear / error / linear ...,
#    any kernel): the bad set is exactly those blocks; a 1 MiB read across
#    one fails, 1 MiB reads beside them return the right data; a write to a
#    bad block fails, a write next to it lands, and after the lower table is
#    healthy again only that one block differs from the original data.
#  - dm-dust (when the kernel has it: the debug kernel), bad blocks added to
#    a live device: the same, and a block that fails writes once heals when
#    written again (dm-dust drops it from its list), after which it reads
#    back the new data.
#  - After each part dm-crypt reads from the ramdisk exactly the expected
#    data (tests/lib/oracle.sh).
. "${VAULT_REPO:?}/tests/lib/ktap.sh"
. "$VAULT_REPO/tests/lib/oracle.sh"
. "$VAULT_REPO/tests/lib/vdev.sh"

SCAN=$VAULT_REPO/tests/lib/block-scan.py
vdev_names t86 8
vdev_lower_setup timeout python3 cmp
head -c $((MIB << 20)) /dev/urandom > "$WORK/data"
head -c 4096 /dev/urandom > "$WORK/block"

vtable() { echo "0 $LEN vault aes-xts-plain64 key:$T-key 0 /dev/mapper/$L 0"; }
healthy() { echo "0 $LEN linear /dev/ram0 0"; }
# scan_is EIO DIFFER: the block scan finds exactly these bad and differing blocks
scan_is() {
	local out
	out=$(timeout 300 python3 -S "$SCAN" $M "$WORK/expect" 2>&1)
	ktap_diag "scan: ${out//$'\n'/; }"
	[ "$out" = "eio $1"$'\n'"differ $2" ]
}
# rd_1m MIB_INDEX / wr_block BLOCK: direct I/O under a time limit (124 = hung)
rd_1m() {
	timeout 60 dd if=$M of="$WORK/got" bs=1M skip="$1" count=1 iflag=direct status=none
}
wr_block() {
	timeout 60 dd if="$WORK/block" of=$M bs=4k seek="$1" count=1 \
		oflag=direct conv=fsync,notrunc status=none
}
same_1m() { cmp -s "$WORK/got" <(tail -c +$(($1 * 1048576 + 1)) "$WORK/data" | head -c 1048576); }
# expect_block BLOCK: the reference gets the new block at BLOCK
expect_block() {
	dd if="$WORK/block" of="$WORK/expect" bs=4k seek="$1" count=1 conv=notrunc status=none
}

dmsetup create $L --table "$(healthy)" || ktap_fail_all "create the lower device"
dmsetup create $V --table "$(vtable)" || ktap_fail_all "create the vault device"
timeout 120 dd if="$WORK/data" of=$M bs=1M oflag=direct status=none ||
	ktap_fail_all "write the data"
cp "$WORK/data" "$WORK/expect"
ktap_check "healthy: every block reads back" scan_is - -

# ---- dm-error segments: blocks 100, 1000-1003 and the last one (2047)
# are bad; 1 MiB = blocks 0-255, 256-511, ... so MiB 0 holds block 100.
segments() {
	local s=0 b n
	for b in 100:1 1000:4 2047:1; do
		n=${b#*:} b=$((${b%:*} * 8))
		[ $b -gt $s ] && echo "$s $((b - s)) linear /dev/ram0 $s"
		echo "$b $((n * 8)) error"
		s=$((b + n * 8))
	done
	[ $s -lt $LEN ] && echo "$s $((LEN - s)) linear /dev/ram0 $s"
}
swap_lower $V $L "$(segments)" || ktap_fail_all "load the lower table with error segments"
ktap_check "error segments: exactly blocks 100, 1000-1003, 2047 fail" \
	scan_is 100,1000-1003,2047 -
ktap_check "error segments: a 1 MiB read across block 100 fails with EIO" \
	fails_eio rd_1m 0
ktap_check "error segments: a 1 MiB read beside it returns the data" \
	eval 'rd_1m 1 && same_1m 1'
ktap_check "error segments: a write to block 1001 fails with EIO" \
	fails_eio wr_block 1001
ktap_check "error segments: a write to block 1004 succeeds" wr_block 1004
expect_block 1004
swap_lower $V $L "$(healthy)" || ktap_fail_all "restore the healthy lower table"
ktap_check "error segments, healed: only block 1004 changed, as written" scan_is - -
# the healthy lower table maps the ramdisk 1:1: dm-crypt reads it there
RAW="0 $LEN vault aes-xts-plain64 key:$T-key 0 /dev/ram0 0"
oracle_check "error segments, healed" "$RAW" "$WORK/key" "$WORK/expect"

# ---- dm-dust: bad blocks on a live device
if ! modprobe dm-dust 2>/dev/null; then
	ktap_diag "dm-dust is not in this kernel: its cases run on the debug kernel"
	ktap_finish
fi
dust() { dmsetup message $L 0 "$@"; }
swap_lower $V $L "0 $LEN dust /dev/ram0 0 4096" || ktap_fail_all "load the dm-dust table"
ktap_check "dust: bad blocks 7 and 300 (fails one write) added" \
	eval 'dust addbadblock 7 && dust addbadblock 300 1 && dust enable'
ktap_check "dust: exactly blocks 7 and 300 fail" scan_is 7,300 -
ktap_check "dust: the first write to block 300 fails with EIO" fails_eio wr_block 300
ktap_check "dust: a failed write changed nothing" scan_is 7,300 -
ktap_check "dust: the second write to block 300 succeeds" wr_block 300
expect_block 300
ktap_check "dust: block 300 healed with the new data; block 7 still bad" scan_is 7 -
ktap_check "dust: disabled, every block reads back" eval 'dust disable && scan_is - -'
oracle_check "dust" "$RAW" "$WORK/key" "$WORK/expect"

ktap_finish
