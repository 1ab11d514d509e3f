#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# demo.sh - what `make demo` runs: encrypt a 64 MiB ramdisk with dm-vault in a
# QEMU guest, write and read data through it, show that the disk holds only
# ciphertext and that no key appears in the device-mapper table.  Then the
# same ramdisk as a LUKS2 volume: vaultctl formats and opens it with a
# passphrase, and cryptsetup (dm-crypt) opens the same volume and reads the
# data written through dm-vault.
#
# On the host:   tests/demo.sh      (KVER=<kernel> to choose; default: the
#                                    Debian 12 6.1 kernel, else the newest)
# In the guest:  tests/demo.sh --guest   (run by the host side)

# The whole script is one compound command, read before it runs: editing
# the file while it runs (a long guest run) cannot derail it.
{
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)

step() { printf '\n==> %s\n' "$*"; }
die() { printf '\nDEMO FAILED: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- host side
host() {
	local k kver=${KVER:-}

	if [ -z "$kver" ]; then
		for k in $(ls /lib/modules | sort -V); do
			[ -r "/boot/vmlinuz-$k" ] && [ -e "/lib/modules/$k/build/Makefile" ] || continue
			case $k in 6.1.*) kver=$k; break ;; esac
			kver=$k		# the newest, unless a 6.1 kernel turns up
		done
	fi
	[ -n "$kver" ] || die "no kernel with headers installed (make deps)"

	step "building dm-vault.ko for $kver and vaultctl"
	make --no-print-directory -C "$repo" module KVER="$kver" ||
		die "the module does not build for $kver"
	make --no-print-directory -C "$repo" userspace || die "vaultctl does not build"

	step "booting $kver in QEMU (TCG; about 15 s)"
	"$repo/tests/vm/run-guest" "$kver" -- "$repo/tests/demo.sh" --guest
}

# --------------------------------------------------------------- guest side
# Globals: the EXIT trap runs after guest() has returned.
name=demo
work=
guest() {
	local dev raw_hits keyhex
	local text="dm-vault demo: attack at dawn, bring the blue folder"

	export DM_DISABLE_UDEV=1	# for dmsetup only; vaultctl copes itself
	work=$(mktemp -d /tmp/demo.XXXXXX)
	cleanup() {
		"$VAULTCTL" close "$name" >/dev/null 2>&1 || true
		cryptsetup --disable-locks close "$name-cs" >/dev/null 2>&1 || true
		rmmod dm_vault 2>/dev/null || true
		rmmod brd 2>/dev/null || true
		[ -z "$work" ] || rm -rf "$work"
	}
	trap cleanup EXIT

	echo "kernel $(uname -r)"
	[ -x "$VAULTCTL" ] || die "$VAULTCTL is not built"
	[ -f "$VAULT_KO" ] || die "$VAULT_KO is not built"

	step "loading dm-vault"
	modprobe dm-mod
	[ -d /sys/module/dm_vault ] || insmod "$VAULT_KO" || die "insmod $VAULT_KO"
	"$VAULTCTL" version

	step "a 64 MiB ramdisk"
	modprobe brd rd_nr=1 rd_size=65536 max_part=0 || die "modprobe brd"
	dev=/dev/ram0
	[ -b $dev ] || die "$dev did not appear"
	echo "$dev: $(blockdev --getsize64 $dev) bytes"

	step "a random 512-bit key in a file (its bytes are never shown)"
	(umask 077 && head -c 64 /dev/urandom > "$work/key")
	ls -l "$work/key"

	step "vaultctl open --type plain --cipher aes-xts-plain64 --key-size 512 --key-file KEY $dev $name"
	"$VAULTCTL" open --type plain --cipher aes-xts-plain64 --key-size 512 \
		--key-file "$work/key" "$dev" "$name" || die "vaultctl open"
	[ -b /dev/mapper/$name ] || die "/dev/mapper/$name did not appear"
	ls -l /dev/mapper/$name

	step "writing a known text and 4 MiB of random data through /dev/mapper/$name"
	{
		printf '%s\n' "$text"
		head -c $((1024 * 1024 - ${#text} - 1)) /dev/zero
		head -c $((4 * 1024 * 1024)) /dev/urandom
	} > "$work/plain"
	dd if="$work/plain" of=/dev/mapper/$name bs=1M oflag=direct conv=fsync status=none ||
		die "write through /dev/mapper/$name"
	echo "wrote $(stat -c %s "$work/plain") bytes, sha256 $(sha256sum < "$work/plain" | cut -c1-16)..."

	step "reading it back through /dev/mapper/$name (direct I/O, so from the disk)"
	echo 3 > /proc/sys/vm/drop_caches
	dd if=/dev/mapper/$name of="$work/back" bs=1M count=5 iflag=direct status=none ||
		die "read back"
	cmp "$work/plain" "$work/back" || die "the data read back differs from the data written"
	echo "read back $(stat -c %s "$work/back") bytes: identical"
	echo "first bytes through the mapping:"
	hexdump -C -n 64 /dev/mapper/$name

	step "the raw disk $dev holds only ciphertext"
	echo "first bytes of $dev itself:"
	hexdump -C -n 64 $dev
	raw_hits=$(dd if=$dev bs=1M count=5 iflag=direct status=none | grep -a -c -F "$text" || true)
	echo "occurrences of the text on $dev: $raw_hits"
	[ "$raw_hits" = 0 ] || die "the plaintext is on the raw device"
	dd if=$dev of="$work/raw" bs=1M count=5 iflag=direct status=none
	if cmp -s "$work/plain" "$work/raw"; then
		die "the raw device holds the plaintext"
	fi
	echo "the raw device differs from the plaintext: ok"

	step "vaultctl status $name"
	"$VAULTCTL" status "$name" || die "vaultctl status"

	step "dmsetup table $name (names a key, holds no key bytes)"
	dmsetup table "$name" | tee "$work/table" || die "dmsetup table"
	keyhex=$(od -An -tx1 -v "$work/key" | tr -d ' \n')
	if grep -qi -e "$keyhex" -e "${keyhex:0:32}" -e "${keyhex:64:32}" "$work/table"; then
		die "key bytes appear in the table"
	fi
	dmsetup table --showkeys "$name" > "$work/table-showkeys" 2>/dev/null || true
	if grep -qi -e "$keyhex" -e "${keyhex:0:32}" "$work/table-showkeys"; then
		die "key bytes appear in dmsetup table --showkeys"
	fi
	keyhex=
	echo "no key bytes in the table, even with --showkeys: ok"

	step "vaultctl close $name"
	"$VAULTCTL" close "$name" || die "vaultctl close"
	[ ! -e /dev/mapper/$name ] || die "/dev/mapper/$name still exists"
	dmsetup ls

	step "reopening with the same key gives the data back"
	"$VAULTCTL" open --type plain --cipher aes-xts-plain64 --key-size 512 \
		--key-file "$work/key" "$dev" "$name" || die "vaultctl open (again)"
	dd if=/dev/mapper/$name bs=1M count=5 iflag=direct status=none | cmp - "$work/plain" ||
		die "data differs after reopening"
	head -n 1 /dev/mapper/$name
	"$VAULTCTL" close "$name" || die "vaultctl close (again)"

	luks2_demo "$dev" "$text"

	printf '\nDEMO OK: data written through dm-vault (aes-xts-plain64, 512-bit key) read back intact; the disk holds only ciphertext; no key in the table; a LUKS2 volume made and written by vaultctl opens and reads back with cryptsetup.\n'
}

# ------------------------------------------------------- LUKS2 (guest side)
luks2_demo() {
	local dev=$1 text=$2 pass="demo passphrase: correct horse battery staple"

	step "LUKS2: vaultctl format $dev (argon2id; the passphrase comes on stdin)"
	# A short KDF time and 64 MiB keep the demo quick under TCG; without
	# these options format calibrates argon2id to about 2 s, up to 1 GiB.
	dd if=/dev/zero of="$dev" bs=1M count=1 oflag=direct status=none
	"$VAULTCTL" format --verbose --pbkdf argon2id --iter-time 500 --pbkdf-memory 65536 \
		"$dev" <<<"$pass" || die "vaultctl format"

	step "LUKS2: cryptsetup luksDump $dev reads vaultctl's header"
	cryptsetup --disable-locks luksDump "$dev" | sed -n '1,/^Tokens:/p' | grep -v '^[[:space:]]*[0-9a-f][0-9a-f] ' ||
		die "cryptsetup luksDump"

	step "LUKS2: vaultctl open $dev $name (passphrase on stdin)"
	"$VAULTCTL" open "$dev" "$name" <<<"$pass" || die "vaultctl open (LUKS2)"
	"$VAULTCTL" status "$name" || die "vaultctl status"
	echo "dm UUID: $(dmsetup info -c --noheadings -o uuid "$name")"
	echo "table:   $(dmsetup table "$name")"

	step "LUKS2: writing the text and 4 MiB of random data through dm-vault"
	dd if="$work/plain" of=/dev/mapper/$name bs=1M oflag=direct conv=fsync status=none ||
		die "write through /dev/mapper/$name"
	"$VAULTCTL" close "$name" || die "vaultctl close"

	step "LUKS2: cryptsetup open $dev $name-cs (dm-crypt, the same passphrase)"
	cryptsetup --disable-locks open "$dev" "$name-cs" <<<"$pass" || die "cryptsetup open"
	dmsetup table "$name-cs" | sed 's/ [0-9a-f]\{32,\} / <key> /'
	dd if=/dev/mapper/$name-cs bs=1M count=5 iflag=direct status=none | cmp - "$work/plain" ||
		die "dm-crypt reads something else than dm-vault wrote"
	echo "dm-crypt reads back exactly what dm-vault wrote:"
	head -n 1 /dev/mapper/$name-cs
	cryptsetup --disable-locks close "$name-cs" || die "cryptsetup close"

	step "LUKS2: a wrong passphrase is refused (exit 2)"
	local rc=0
	"$VAULTCTL" open "$dev" "$name" <<<"not the passphrase" || rc=$?
	[ "$rc" = 2 ] || die "a wrong passphrase gave exit $rc, not 2"
	echo "exit code $rc"
}

case ${1:-} in
--guest) guest ;;
"") host ;;
*) echo "usage: $0 [--guest]" >&2; exit 2 ;;
esac
exit
}
