#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A file system on vault survives close and reopen: mkfs.ext4, mount, write
# files of assorted sizes, record their sha256, unmount, remove the mapping,
# map again (a fresh table, the key loaded again from its file), fsck -fn
# must be clean and every checksum must match.  Also checks that the lower
# device holds no plaintext of a file (the file system really is encrypted),
# and that dm-crypt reads the same volume vault does (tests/lib/oracle.sh).
. "${VAULT_REPO:?}/tests/lib/ktap.sh"
. "$VAULT_REPO/tests/lib/oracle.sh"

T=t30
MIB=40
LEN=$((MIB * 2048))
export DM_DISABLE_UDEV=1
WORK=$(mktemp -d /tmp/$T.XXXXXX)
MNT=$WORK/mnt

cleanup() {
	mountpoint -q "$MNT" && umount "$MNT"
	dmsetup remove --retry $T-v >/dev/null 2>&1
	"$VAULTCTL" key remove $T-key >/dev/null 2>&1
	rm -rf "$WORK"
}
ktap_defer cleanup

need_vaultctl
vault_setup_module || ktap_fail_all "dm-vault.ko cannot be loaded"
need_cmd mkfs.ext4 e2fsck sha256sum dmsetup python3
brd_setup 1 "$MIB" || ktap_fail_all "cannot create a ramdisk"
DEV=/dev/ram0
mkdir -p "$MNT"
head -c 32 /dev/urandom > "$WORK/key"

# map [OPTS]: load the key and create the mapping
table() { echo "0 $LEN vault aes-cbc-essiv:sha256 key:$T-key 0 $DEV 0$1"; }
map() {
	"$VAULTCTL" key add $T-key --key-file "$WORK/key" --key-size 256 &&
	dmsetup create $T-v --table "$(table "$1")" &&
	"$VAULTCTL" key remove $T-key	# the table holds the key now
}

fs_round() {
	local tag=$1 opts=$2

	dd if=/dev/zero of=$DEV bs=1M count=$MIB status=none
	map "$opts" || { ktap_fail "$tag: map"; return; }
	ktap_check "$tag: mkfs.ext4" mkfs.ext4 -q -F -b 4096 /dev/mapper/$T-v
	ktap_check "$tag: mount" mount -t ext4 /dev/mapper/$T-v "$MNT" ||
		{ dmsetup remove $T-v; return; }

	# files: empty, tiny, odd-sized, several MiB, many small in a tree,
	# and one of a recognisable pattern to look for on the raw device
	: > "$MNT/empty"
	echo hello > "$MNT/tiny"
	head -c 12345 /dev/urandom > "$MNT/odd"
	head -c $((6 << 20)) /dev/urandom > "$MNT/big"
	mkdir -p "$MNT/tree/a/b" "$MNT/tree/c"
	# 200 small files from one process (each exec is slow under TCG)
	head -c $((200 * 3001)) /dev/urandom | split -b 3001 -a 3 - "$MNT/tree/a/b/f"
	head -c 100000 /dev/urandom | split -b 14286 -a 1 - "$MNT/tree/c/g"
	yes "VAULT-PLAINTEXT-MARKER-$tag" | head -c $((1 << 20)) > "$MNT/marker"
	(cd "$MNT" && find . -type f -print0 | sort -z | xargs -0 sha256sum) > "$WORK/sums"
	ktap_check "$tag: umount" umount "$MNT"
	dmsetup remove $T-v || { ktap_fail "$tag: remove"; return; }

	ktap_check "$tag: no plaintext on the lower device" \
		not grep -q -a "VAULT-PLAINTEXT-MARKER-$tag" $DEV

	map "$opts" || { ktap_fail "$tag: re-map"; return; }
	ktap_check "$tag: fsck -fn clean after reopen" e2fsck -f -n /dev/mapper/$T-v
	if mount -t ext4 -o ro /dev/mapper/$T-v "$MNT"; then
		ktap_check "$tag: checksums equal after reopen" \
			sh -c "cd '$MNT' && sha256sum --quiet -c '$WORK/sums'"
		ktap_check "$tag: file count" \
			[ "$(find "$MNT" -type f | wc -l)" = "$(wc -l < "$WORK/sums")" ]
		umount "$MNT"
	else
		ktap_fail "$tag: mount after reopen"
	fi
	oracle_check "$tag" "$(table "$opts")" "$WORK/key" /dev/mapper/$T-v \
		"VAULT-PLAINTEXT-MARKER-$tag"
	dmsetup remove $T-v
}

fs_round essiv-512 ""
fs_round essiv-4k " 3 sector_size:4096 no_read_workqueue no_write_workqueue"

# A wrong key must not yield the file system: fsck has to fail.
head -c 32 /dev/urandom > "$WORK/key"
if map ""; then
	ktap_check "wrong key: no ext4 visible" not e2fsck -f -n /dev/mapper/$T-v
	dmsetup remove $T-v
else
	ktap_fail "wrong key: map"
fi

ktap_finish
