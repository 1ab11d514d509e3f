#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Online resize of an open LUKS2 mapping with cryptsetup's semantics: the
# volume key is not readable back from the kernel, so `vaultctl resize`
# asks for it again (a key file, or a line of stdin; a wrong one: exit 2,
# size unchanged).  Shrink with --size, grow to the whole device after the
# loop device under it grew, --device-size in bytes; the data written
# before reads back after each step (a wrong key would read garbage); a
# size that does not fit is refused before any passphrase is asked.  At
# the end cryptsetup opens the volume and reads the same data.
. "${VAULT_REPO:?}/tests/lib/ktap.sh"
. "$VAULT_REPO/tests/lib/luks2.sh"

luks2_test_setup t46 1 cryptsetup losetup blockdev cmp timeout
V=$T-v
M=/dev/mapper/$V
cleanup() {
	"$VAULTCTL" close $V >/dev/null 2>&1
	dmsetup remove --retry $T-cs >/dev/null 2>&1
	[ -n "${LOOP:-}" ] && losetup -d "$LOOP"
}
ktap_defer cleanup
cd "$WORK" || exit 1
printf 'resize passphrase' >p1
printf 'not the passphrase' >bad
head -c $((8 << 20)) /dev/urandom >data

# a loop device over a file that can grow (the data starts at 16 MiB)
truncate -s 40M lower.img
LOOP=$(losetup --find --show lower.img) || ktap_fail_all "losetup"
size() { blockdev --getsz $M; }
same_data() { timeout 60 cmp -s -n $((8 << 20)) data "$1"; }

"$VAULTCTL" format "${FAST[@]}" --key-file p1 "$LOOP" &&
	"$VAULTCTL" open --key-file p1 "$LOOP" $V &&
	dd if=data of=$M bs=1M oflag=direct conv=fsync status=none
setup=$?
ktap_check "format, open, 8 MiB written (24 MiB mapping)" \
	eval "[ $setup = 0 ] && [ \"\$(size)\" = $((24 * 2048)) ]"

ktap_check "resize --size shrinks the open mapping (16 MiB)" \
	"$VAULTCTL" resize --size $((16 * 2048)) --key-file p1 $V
ktap_check "shrunk: new size visible, data intact" \
	eval '[ "$(size)" = $((16 * 2048)) ] && same_data $M'

ktap_check "resize with a wrong passphrase: exit 2, cryptsetup's message" \
	fails_with 2 'No key available with this passphrase' \
	timeout 60 "$VAULTCTL" resize --size $((20 * 2048)) --key-file bad $V
ktap_check "size unchanged after the refusal" [ "$(size)" = $((16 * 2048)) ]

ktap_check "a size past the device: refused before any passphrase is asked" \
	fails_with 1 'is larger than device .* after the offset' timeout 60 "$VAULTCTL" resize --size $((30 * 2048)) $V </dev/null
ktap_check "--size and --device-size together: refused" \
	fails_with 1 '--size and --device-size cannot be combined' \
	"$VAULTCTL" resize --size 2048 --device-size 1M --key-file p1 $V

# the device under it grows; resize without a size takes all of it
truncate -s 64M lower.img && losetup -c "$LOOP"
ktap_check "resize after the lower device grew (passphrase on stdin)" \
	"$VAULTCTL" resize $V <p1
ktap_check "grown: the whole device (48 MiB), data intact" \
	eval '[ "$(size)" = $((48 * 2048)) ] && same_data $M'
head -c $((8 << 20)) /dev/urandom >more.bin
dd if=more.bin of=$M bs=1M seek=40 oflag=direct conv=fsync status=none
ktap_check "the new area is writable and reads back" \
	cmp -s -n $((8 << 20)) more.bin <(dd if=$M bs=1M skip=40 iflag=direct status=none)

ktap_check "resize --device-size 32M (bytes, as cryptsetup's)" \
	"$VAULTCTL" resize --device-size 32M --key-file p1 $V
ktap_check "--device-size: 65536 sectors, data intact" \
	eval '[ "$(size)" = 65536 ] && same_data $M'
ktap_check "--device-size not a multiple of 512: refused" \
	fails_with 1 'a multiple of 512' "$VAULTCTL" resize --device-size 1000 --key-file p1 $V

# cryptsetup opens the same volume and reads what vault wrote
"$VAULTCTL" close $V
cs open --readonly --key-file p1 "$LOOP" $T-cs
ktap_check "cryptsetup opens it: the data and the new area read back" \
	eval 'same_data /dev/mapper/$T-cs &&
	      cmp -s -n $((8 << 20)) more.bin <(dd if=/dev/mapper/$T-cs bs=1M skip=40 iflag=direct status=none)'
cs close $T-cs

ktap_finish
