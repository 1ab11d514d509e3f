#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Host-side tests of vaultctl encrypt (in place, --reduce-device-size) on
# ext4 image files, with cryptsetup 2.6.1 and userspace/luks2/tests/xts-read.py
# as oracles: the header layout equals what cryptsetup reencrypt --encrypt
# writes, the data decrypted with the dumped volume key equals the original
# filesystem shifted by half the reduce size (fsck clean), an interrupted
# job is finished by cryptsetup repair + reencrypt --resume-only and by
# vaultctl encrypt --resume-only, vaultctl finishes cryptsetup's job,
# cryptsetup reencrypt --decrypt gives back the original bytes, and the
# refusals say what is wrong and change nothing.  Prints KTAP.
# Usage: encdec.sh VAULTCTL.  About 30 s.
# shellcheck disable=SC1091,SC2034,SC2086,SC2154 # lib.sh sets rc, reads OUT; FAST: several options

VAULTCTL=${1:?usage: encdec.sh VAULTCTL}
HERE=$(cd "$(dirname "$0")" && pwd)
XTS=$HERE/../luks2/tests/xts-read.py
. "$HERE/lib.sh"
test_dir encdec

need_root_and "in-place encryption tests" "cryptsetup's locking" cryptsetup mkfs.ext4 e2fsck python3

CS="cryptsetup --disable-locks"
check() { name=$1; shift; if "$@"; then ok "$name"; else nok "$name"; fi; }
err_has() { grep -q -- "$1" "$ERR"; }
printf 'in place' >pw
MiB=1048576
SIZE=$((32 * MiB)) FS=$((24 * MiB)) RED=8M SHIFT=$((4 * MiB))

# An ext4 with files, FS bytes, at the start of a SIZE-byte image.
mkdir src && head -c 3000000 /dev/urandom >src/random.bin && echo hello >src/hello.txt &&
	mkdir src/dir && seq 1 20000 >src/dir/numbers.txt
truncate -s $SIZE orig.img && mkfs.ext4 -q -F -d src orig.img $((FS / 1024))k || exit 1
head -c $FS orig.img >orig.fs

# plain IMG OUT: the first FS bytes of IMG's data decrypted with its volume key
plain() {
	rm -f "$1.vk"
	cs luksDump --dump-volume-key --volume-key-file "$1.vk" -q --key-file pw "$1" >/dev/null 2>&1 &&
		python3 "$XTS" "$1.vk" "$1" $SHIFT $FS 512 >"$2"
}
same_plain() { plain "$1" "$1.plain" && cmp -s "$1.plain" orig.fs; }
# the same through vaultctl decrypt (faster than xts-read.py; decrypt is
# checked on its own below, against cryptsetup's encryption)
same_after_decrypt() {
	cp "$1" "$1.dec" && rm -f "$1.dhdr" &&
		"$VAULTCTL" decrypt --batch-mode --key-file pw --header "$1.dhdr" "$1.dec" 2>/dev/null &&
		head -c $FS "$1.dec" | cmp -s - orig.fs
}
# the layout lines of luksDump (no salts, UUIDs, digests or epochs)
layout() {
	cs luksDump "$1" | grep -E 'Version|Metadata area|Keyslots area|offset:|length:|cipher:|sector:|Key:|Area offset|Area length|^  [0-9]: |Requirements'
}
enc() { vc encrypt --batch-mode --key-file pw $FAST "$@"; }

# --- refusals -------------------------------------------------------------------
cp orig.img a.img
enc a.img
check "encrypt without --reduce-device-size: refused, says the size to give and to shrink first" \
	sh -c "[ $rc != 0 ] && grep -q -- '--reduce-device-size 32M' $ERR && grep -q 'resize2fs' $ERR &&
	       cmp -s orig.img a.img"
truncate -s $SIZE big.img && mkfs.ext4 -q -F big.img && cp big.img big.orig
enc --reduce-device-size $RED big.img
check "encrypt of a filesystem not shrunk: refused (shrink it first, resize2fs), unchanged" \
	sh -c "[ $rc != 0 ] && grep -q 'shrink it first' $ERR && grep -q 'resize2fs big.img 24576K' $ERR &&
	       cmp -s big.img big.orig"
truncate -s $((10 * MiB)) small.img
enc --reduce-device-size $RED small.img
check "encrypt of a device too small: refused" sh -c "[ $rc != 0 ] && grep -q 'is too small' $ERR"
truncate -s $SIZE luks.img && cs luksFormat -q $FAST --key-file pw luks.img >/dev/null && cp luks.img luks.orig
enc --reduce-device-size $RED luks.img
check "encrypt of a LUKS device: refused (already holds a LUKS header), unchanged" \
	sh -c "[ $rc != 0 ] && grep -q 'already holds a LUKS header' $ERR && cmp -s luks.img luks.orig"
# (a mounted device: tests/guest/49-encrypt-in-place.sh)

# --- encrypt --------------------------------------------------------------------
cp orig.img v.img
enc --reduce-device-size $RED v.img
check "encrypt --reduce-device-size 8M: succeeds" [ "$rc" = 0 ]
check "the result is an ordinary LUKS2 volume: data at 4 MiB, no reencryption left" \
	sh -c "cryptsetup isLuks v.img && $CS luksDump v.img | grep -q 'offset: 4194304 \[bytes\]' &&
	       ! $CS luksDump v.img | grep -q -e reencrypt -e Requirements"
check "the plaintext (volume key + xts-read.py) equals the original filesystem shifted by 4 MiB" \
	same_plain v.img
check "the decrypted filesystem is fsck clean" sh -c "e2fsck -fn v.img.plain >/dev/null 2>&1"
cp orig.img c.img
cs reencrypt --encrypt --reduce-device-size $RED -q --key-file pw $FAST --force-offline-reencrypt \
	c.img >/dev/null 2>&1
layout v.img >v.layout; layout c.img >c.layout
check "the header layout equals cryptsetup reencrypt --encrypt's (offsets, areas, segment)" \
	cmp -s v.layout c.layout
vc open --test-passphrase --key-file pw v.img
check "vaultctl open --test-passphrase accepts the passphrase" [ "$rc" = 0 ]

# --- crash and resume -----------------------------------------------------------
cp orig.img k.img
VAULT_TEST_CRASH_AFTER_DATA=2 enc --reduce-device-size $RED k.img
check "a crash between data and checkpoint leaves a hotzone in the metadata" \
	sh -c "[ $rc = 137 ] && $CS luksDump --dump-json-metadata k.img | grep -q in-reencryption"
cs repair -q --key-file pw k.img >/dev/null 2>&1
if cs luksDump k.img | grep -q online-reencrypt; then
	cs reencrypt --resume-only -q --key-file pw --force-offline-reencrypt k.img >/dev/null 2>&1
fi
check "cryptsetup repair + reencrypt --resume-only finish vaultctl's interrupted job" \
	sh -c "! $CS luksDump k.img | grep -q reencrypt"
check "  ... and the data is the original filesystem" same_after_decrypt k.img
cp orig.img r.img
VAULT_TEST_CRASH_AFTER_DATA=4 enc --reduce-device-size $RED r.img
vc encrypt --resume-only --key-file pw r.img
check "vaultctl encrypt --resume-only finishes its own interrupted job" \
	sh -c "[ $rc = 0 ] && ! $CS luksDump r.img | grep -q reencrypt"
check "  ... and the data is the original filesystem" same_after_decrypt r.img
cp orig.img i.img
cs reencrypt --encrypt --reduce-device-size $RED --init-only -q --key-file pw $FAST i.img >/dev/null 2>&1
vc encrypt --resume-only --key-file pw i.img
check "vaultctl encrypt --resume-only finishes cryptsetup's job (reencrypt --init-only)" \
	sh -c "[ $rc = 0 ] && ! $CS luksDump i.img | grep -q reencrypt"
check "  ... and the data is the original filesystem" same_after_decrypt i.img
cp orig.img w.img
cs reencrypt --encrypt --reduce-device-size $RED --init-only -q --key-file pw $FAST w.img >/dev/null 2>&1
printf 'wrong' >bad
vc encrypt --resume-only --key-file bad w.img
check "resume with a wrong passphrase: refused, nothing moved" \
	sh -c "[ $rc != 0 ] && grep -q 'No key available' $ERR && $CS luksDump w.img | grep -q 'online-reencrypt'"
# CVE-2021-4122: metadata changed without the key (a larger shift, which
# would move data over itself) is refused before anything moves
cp orig.img x.img
cs reencrypt --encrypt --reduce-device-size $RED --init-only -q --key-file pw $FAST x.img >/dev/null 2>&1
python3 "$HERE/../luks2/tests/craft.py" x.img json \
	'j["keyslots"]["1"]["area"]["shift_size"] = str(8 << 20)' >/dev/null && cp x.img x.tampered
vc encrypt --resume-only --key-file pw x.img
check "resume of tampered metadata (shift_size): refused (digest), nothing written" \
	sh -c "[ $rc != 0 ] && grep -q 'digest does not match' $ERR && cmp -s x.img x.tampered"
vc encrypt --resume-only --key-file pw v.img
check "resume without a job in progress: refused" sh -c "[ $rc != 0 ] && grep -q 'nothing to resume' $ERR"

# --- decrypt --------------------------------------------------------------------
plain_back() { head -c $FS "$1" | cmp -s - orig.fs && e2fsck -fn "$1" >/dev/null 2>&1 &&
	       ! cryptsetup isLuks "$1"; }
dec() { vc decrypt --batch-mode --key-file pw "$@"; }
cp v.img d.img
dec d.img
check "decrypt without --header: refused, says why" \
	sh -c "[ $rc != 0 ] && grep -q 'needs --header FILE' $ERR && cmp -s d.img v.img"
echo x >exists.hdr
dec --header exists.hdr d.img
check "decrypt --header over an existing file (no decryption in it): refused" \
	sh -c "[ $rc != 0 ] && grep -q 'give the name of a new file' $ERR && cmp -s d.img v.img"
dec --resume-only --header missing.hdr d.img
check "decrypt --resume-only without the header file: refused" \
	sh -c "[ $rc != 0 ] && grep -q 'no decryption to resume' $ERR && cmp -s d.img v.img"
dec --header d.hdr d.img
check "decrypt --header of vaultctl's volume: the original bytes at offset 0, fsck clean" \
	sh -c "[ $rc = 0 ] && head -c $FS d.img | cmp -s - orig.fs && e2fsck -fn d.img >/dev/null 2>&1"
check "  ... the header file keeps one linear segment and no keyslot, as cryptsetup's" \
	sh -c "$CS luksDump --dump-json-metadata d.hdr | tr -d ' \n' | grep -q '\"keyslots\":{},.*\"segments\":{\"0\":{\"type\":\"linear\",\"offset\":\"0\",\"size\":\"dynamic\"}},\"digests\":{}'"
cp c.img e.img
dec --header e.hdr e.img
check "decrypt of cryptsetup's encrypted volume: the original bytes" \
	sh -c "[ $rc = 0 ] && head -c $FS e.img | cmp -s - orig.fs"
# interrupted after the third hotzone (datashift), and in the last one
# (the first segment decrypted in place: checksums)
for h in 2 6; do
	cp v.img k$h.img; rm -f k$h.hdr
	VAULT_TEST_CRASH_AFTER_DATA=$h dec --header k$h.hdr k$h.img
	cp k$h.img l$h.img; cp k$h.hdr l$h.hdr
	cs repair -q --key-file pw --header k$h.hdr k$h.img >/dev/null 2>&1
	if cs luksDump k$h.hdr | grep -q online-reencrypt; then
		cs reencrypt --resume-only -q --key-file pw --header k$h.hdr --force-offline-reencrypt \
			k$h.img >/dev/null 2>&1
	fi
	check "decrypt interrupted in hotzone $((h + 1)): cryptsetup repair + resume finish it" \
		sh -c "head -c $FS k$h.img | cmp -s - orig.fs"
	dec --header l$h.hdr l$h.img
	check "decrypt interrupted in hotzone $((h + 1)): vaultctl decrypt --header finishes it" \
		sh -c "[ $rc = 0 ] && head -c $FS l$h.img | cmp -s - orig.fs"
done
cp v.img m.img
cs reencrypt --decrypt --header m.hdr --init-only -q --key-file pw $FAST --force-offline-reencrypt m.img >/dev/null 2>&1
dec --resume-only --header m.hdr m.img
check "vaultctl decrypt --resume-only finishes cryptsetup's decryption (--init-only)" \
	sh -c "[ $rc = 0 ] && head -c $FS m.img | cmp -s - orig.fs"

# --- back to plain --------------------------------------------------------------
rm -f v.hdr
cs reencrypt --decrypt --header v.hdr -q --key-file pw $FAST --force-offline-reencrypt v.img >/dev/null 2>&1
check "cryptsetup reencrypt --decrypt of vaultctl's volume gives back the original bytes" \
	sh -c "head -c $FS v.img | cmp -s - orig.fs"
finish
