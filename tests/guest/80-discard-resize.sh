#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Discards and online resize, over a loop device backed by a tmpfs file
# (which supports discard: punched holes read back as zeros).
#  - Without allow_discards the vault device advertises no discard support,
#    blkdiscard fails and the lower device is unchanged.
#  - With allow_discards a discard of a range reaches the lower device: that
#    range (shifted by the data offset) reads as zeros there, the rest of
#    the lower device is unchanged.
#  - Resize by table reload (grow, shrink), refused growth beyond the lower
#    device, a reload naming a key that is gone, and `vaultctl resize`:
#    the new size is visible (blockdev --getsz) and the data stays intact.
#  - After the discard and after the resizes, dm-crypt reads from the lower
#    device what vault returns (tests/lib/oracle.sh).
. "${VAULT_REPO:?}/tests/lib/ktap.sh"
. "$VAULT_REPO/tests/lib/oracle.sh"

T=t80
export DM_DISABLE_UDEV=1
WORK=$(mktemp -d /tmp/$T.XXXXXX)
V=$T-v
M=/dev/mapper/$V
OFF=2048			# data offset on the lower device (1 MiB)

cleanup() {
	dmsetup remove --retry $V >/dev/null 2>&1
	"$VAULTCTL" key remove $T-key >/dev/null 2>&1
	rm -rf "$WORK"
}
ktap_defer cleanup

need_vaultctl
vault_setup_module || ktap_fail_all "dm-vault.ko cannot be loaded"
need_cmd dmsetup blkdiscard blockdev losetup python3
loop_setup 34 LOWER || ktap_fail_all "cannot create a loop device"
LOWSZ=$(blockdev --getsz "$LOWER")

head -c 64 /dev/urandom > "$WORK/key"
"$VAULTCTL" key add $T-key --key-file "$WORK/key" --key-size 512 ||
	ktap_fail_all "vaultctl key add"

table() { echo "0 $1 vault aes-xts-plain64 key:$T-key 0 $LOWER $OFF${2:+ $2}"; }
sysq() {
	local minor
	minor=$(dmsetup info -c --noheadings -o minor $V | tr -d ' ')
	cat /sys/block/dm-$minor/queue/$1
}
lower_sum() { dd if="$LOWER" bs=1M iflag=direct status=none | sha256sum; }
# lower_range START_SECTOR [COUNT_SECTORS]: that part of the lower device
lower_range() {
	if [ -n "${2:-}" ]; then
		dd if="$LOWER" bs=1M skip=$(($1 * 512)) count=$(($2 * 512)) \
			iflag=direct,skip_bytes,count_bytes status=none
	else
		dd if="$LOWER" bs=1M skip=$(($1 * 512)) \
			iflag=direct,skip_bytes status=none
	fi
}
# lower_zero START_SECTOR COUNT_SECTORS: the lower range reads as zeros
lower_zero() { cmp -s -n $(($2 * 512)) <(lower_range "$1" "$2") /dev/zero; }

LEN=$((16 * 2048))
head -c $((16 << 20)) /dev/urandom > "$WORK/data"
# random bytes everywhere, so "unchanged" and "zeroed" mean something
dd if=/dev/urandom of="$LOWER" bs=1M count=34 oflag=direct status=none

# ---- discards refused by default
dmsetup create $V --table "$(table $LEN)" || ktap_fail_all "dmsetup create"
dd if="$WORK/data" of=$M bs=1M oflag=direct status=none
ktap_check "default: discard_max_bytes is 0" [ "$(sysq discard_max_bytes)" = 0 ]
before=$(lower_sum)
ktap_check "default: blkdiscard fails (exit 1, not supported)" fails_with 1 'Operation not supported' \
	timeout 60 blkdiscard -o $((1 << 20)) -l $((2 << 20)) $M
ktap_check "default: lower device untouched" [ "$(lower_sum)" = "$before" ]
ktap_check "default: data intact" cmp -s -n $((16 << 20)) "$WORK/data" $M
dmsetup remove $V

# ---- discards passed down with allow_discards
dmsetup create $V --table "$(table $LEN "1 allow_discards")" ||
	ktap_fail_all "dmsetup create allow_discards"
ktap_check "allow_discards: table shows it" grep -q ' 1 allow_discards$' <<<"$(dmsetup table $V)"
ktap_check "allow_discards: discard_max_bytes > 0" [ "$(sysq discard_max_bytes)" -gt 0 ]
ktap_check "allow_discards: lower range not zero before" not lower_zero $((OFF + 2048)) 4096
# keep the parts outside the discarded range for comparison
lower_range 0 $((OFF + 2048)) > "$WORK/head.before"
lower_range $((OFF + 6144)) > "$WORK/tail.before"
ktap_check "allow_discards: blkdiscard 1M..3M" blkdiscard -o $((1 << 20)) -l $((2 << 20)) $M
ktap_check "allow_discards: lower range zeroed" lower_zero $((OFF + 2048)) 4096
ktap_check "allow_discards: lower before the range unchanged" \
	cmp -s "$WORK/head.before" <(lower_range 0 $((OFF + 2048)))
ktap_check "allow_discards: lower after the range unchanged" \
	cmp -s "$WORK/tail.before" <(lower_range $((OFF + 6144)))
ktap_check "allow_discards: first MiB still decrypts" \
	cmp -s -n $((1 << 20)) "$WORK/data" $M
ktap_check "allow_discards: data after the range still decrypts" \
	cmp -s -i $((3 << 20)) -n $((13 << 20)) "$WORK/data" $M
oracle_check "allow_discards" "$(table $LEN "1 allow_discards")" "$WORK/key" $M
dmsetup remove $V

# ---- online resize
dmsetup create $V --table "$(table $LEN)" || ktap_fail_all "dmsetup create for resize"
dd if="$WORK/data" of=$M bs=1M oflag=direct status=none
ktap_check "resize: initial size" [ "$(blockdev --getsz $M)" = $LEN ]

GROW=$((24 * 2048))
ktap_check "resize: reload with a larger length" dmsetup reload $V --table "$(table $GROW)"
ktap_check "resize: resume" dmsetup resume $V
ktap_check "resize: new size visible" [ "$(blockdev --getsz $M)" = $GROW ]
ktap_check "resize: old data intact" cmp -s -n $((16 << 20)) "$WORK/data" $M
head -c $((8 << 20)) /dev/urandom > "$WORK/more"
dd if="$WORK/more" of=$M bs=1M seek=16 oflag=direct status=none
ktap_check "resize: new area writable and readable" \
	cmp -s -n $((8 << 20)) "$WORK/more" <(dd if=$M bs=1M skip=16 iflag=direct status=none)

ktap_check "resize: growth beyond the lower device refused (EINVAL)" \
	fails_with 1 'reload ioctl on .*failed: Invalid argument' \
	timeout 60 dmsetup reload $V --table "$(table $((LOWSZ - OFF + 8)))"
ktap_check "resize: size unchanged after the refused reload" [ "$(blockdev --getsz $M)" = $GROW ]

SHRINK=$((8 * 2048))
dmsetup reload $V --table "$(table $SHRINK)" && dmsetup resume $V
ktap_check "resize: shrunk size visible" [ "$(blockdev --getsz $M)" = $SHRINK ]
ktap_check "resize: data intact after shrinking" cmp -s -n $((8 << 20)) "$WORK/data" $M

# a reload needs the key in the key table
"$VAULTCTL" key remove $T-key
ktap_check "resize: reload without the key loaded refused (ENOKEY)" \
	fails_with 1 'reload ioctl on .*failed: Required key not available' \
	timeout 60 dmsetup reload $V --table "$(table $LEN)"
ktap_check "resize: device still works" cmp -s -n $((8 << 20)) "$WORK/data" $M

# vaultctl resize loads the key itself for the reload
ktap_check "vaultctl resize --size" \
	"$VAULTCTL" resize $V --size $GROW --key-file "$WORK/key" --key-size 512
ktap_check "vaultctl resize: size" [ "$(blockdev --getsz $M)" = $GROW ]
ktap_check "vaultctl resize: data intact" cmp -s -n $((16 << 20)) "$WORK/data" $M
ktap_check "vaultctl resize: area past 16 MiB intact" \
	cmp -s -n $((8 << 20)) "$WORK/more" <(dd if=$M bs=1M skip=16 iflag=direct status=none)
ktap_check "vaultctl resize to the whole device" \
	"$VAULTCTL" resize $V --key-file "$WORK/key" --key-size 512
ktap_check "vaultctl resize: whole device" [ "$(blockdev --getsz $M)" = $((LOWSZ - OFF)) ]
ktap_check "vaultctl resize: table still names a key" \
	grep -qE "vault aes-xts-plain64 key:[^ ]+ 0 " <<<"$(dmsetup table $V)"
oracle_check "vaultctl resize" "$(table $GROW)" "$WORK/key" $M
dmsetup remove $V

ktap_finish
