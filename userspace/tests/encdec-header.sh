#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Host-side tests of vaultctl encrypt --header FILE and decrypt --header FILE
# (in place, the header detached, the data left at offset 0) on an ext4
# image file, with cryptsetup 2.6.1 and userspace/luks2/tests/xts-read.py as
# oracles: every byte decrypted with the volume key equals the original
# filesystem (fsck clean), the header equals what cryptsetup reencrypt
# --encrypt --header writes (the job's metadata too), a job interrupted in
# a hotzone (its data written, partly, or not at all) is finished by
# cryptsetup repair + reencrypt --resume-only and by vaultctl, vaultctl
# finishes cryptsetup's job, tampered metadata or a wrong passphrase move
# nothing; decrypt --header gives back the original bytes and leaves the
# header as cryptsetup's reencrypt --decrypt --header does, with the same
# crash and resume checks; the refusals say what is wrong and change
# nothing.  Prints KTAP.
# Usage: encdec-header.sh VAULTCTL.  About 10 s.
# shellcheck disable=SC1091,SC2034,SC2086,SC2154 # lib.sh sets rc, reads OUT; FAST: several options

VAULTCTL=${1:?usage: encdec-header.sh VAULTCTL}
HERE=$(cd "$(dirname "$0")" && pwd)
XTS=$HERE/../luks2/tests/xts-read.py
CRAFT=$HERE/../luks2/tests/craft.py
. "$HERE/lib.sh"
test_dir encdec-header

need_root_and "in-place encryption with a detached header" "cryptsetup's locking" cryptsetup mkfs.ext4 e2fsck python3

check() { name=$1; shift; if "$@"; then ok "$name"; else nok "$name"; fi; }
printf 'detached' >pw
MiB=1048576
SIZE=$((8 * MiB)) HZ=2M

# An ext4 with files filling the whole image: nothing to shrink.
mkdir src && head -c 3000000 /dev/urandom >src/random.bin && echo hello >src/hello.txt &&
	mkdir src/dir && seq 1 20000 >src/dir/numbers.txt
truncate -s $SIZE orig.img && mkfs.ext4 -q -F -d src orig.img || exit 1

enc() { vc encrypt --batch-mode --key-file pw $FAST "$@"; }
# same IMG HDR: every byte of IMG decrypted with HDR's volume key (cryptsetup
# gives the key, xts-read.py decrypts) is the original filesystem
same() {
	rm -f "$2.vk"
	cs luksDump --dump-volume-key --volume-key-file "$2.vk" -q --key-file pw --header "$2" "$1" \
		>/dev/null 2>&1 && python3 "$XTS" "$2.vk" "$1" 0 $SIZE 512 >"$1.plain" &&
		cmp -s "$1.plain" orig.img
}
# JSON metadata without salts, digests, iterations: what is left is the layout
norm() {
	cs luksDump --dump-json-metadata "$1" | python3 -c '
import json, sys
j = json.load(sys.stdin)
for o in list(j["keyslots"].values()) + list(j["digests"].values()):
    for k in ("salt", "digest", "iterations"):
        o.get(k) is not None and o.pop(k)
    o.get("kdf", {}).pop("salt", None)
    o.get("kdf", {}).pop("iterations", None)
print(json.dumps(j, sort_keys=True))'
}
# the job: the reencrypt keyslot, the backup segments, the requirement
job() {
	cs luksDump --dump-json-metadata "$1" | python3 -c '
import json, sys
j = json.load(sys.stdin)
ks = [k for k in j["keyslots"].values() if k["type"] == "reencrypt"]
bk = sorted(json.dumps(s, sort_keys=True) for s in j["segments"].values()
            if set(s.get("flags", [])) & {"backup-previous", "backup-final"})
print(json.dumps([ks, bk, j["config"].get("requirements")], sort_keys=True))'
}
unchanged() { cmp -s "$1" orig.img; }
# done_ok IMG HDR: no job left in HDR, and every byte of IMG is the original;
# finished: the same after a vaultctl run that succeeded (crashed_finished:
# and the run before it was killed)
done_ok() { cryptsetup isLuks "$2" && ! cryptsetup luksDump "$2" | grep -q reencrypt && same "$1" "$2"; }
finished() { [ "$rc" = 0 ] && done_ok "$1" "$2"; }
crashed_finished() { [ "$crc" = 137 ] && finished "$1" "$2"; }
# refused MESSAGE HDR HDR_BEFORE IMG: refusal with MESSAGE, HDR and IMG unchanged
refused() { [ "$rc" != 0 ] && grep -q "$1" "$ERR" && cmp -s "$2" "$3" && unchanged "$4"; }

# --- refusals -------------------------------------------------------------------
cp orig.img a.img
enc --header a.hdr --reduce-device-size 8M a.img
check "--header with --reduce-device-size: refused (the data needs no room), nothing written" \
	sh -c "[ $rc != 0 ] && grep -q 'reduce-device-size with --header: not supported' $ERR &&
	       grep -q 'needs no room' $ERR && [ ! -e a.hdr ] && cmp -s a.img orig.img"
echo 'not a header' >exists.hdr && cp exists.hdr exists.orig
enc --header exists.hdr a.img
check "--header FILE that exists (not a LUKS2 header): refused, FILE and device unchanged" \
	sh -c "[ $rc != 0 ] && grep -q 'exists and holds no encryption in progress' $ERR &&
	       cmp -s exists.hdr exists.orig && cmp -s a.img orig.img"
enc --resume-only --header missing.hdr a.img
check "--resume-only without FILE: refused (no encryption to resume)" \
	sh -c "[ $rc != 0 ] && grep -q 'missing.hdr does not exist: no encryption to resume' $ERR &&
	       [ ! -e missing.hdr ] && cmp -s a.img orig.img"
truncate -s $SIZE luks.img && cs luksFormat -q $FAST --key-file pw luks.img >/dev/null && cp luks.img luks.orig
enc --header l.hdr luks.img
check "a device holding a LUKS header: refused, no FILE, device unchanged" \
	sh -c "[ $rc != 0 ] && grep -q 'already holds a LUKS header' $ERR && [ ! -e l.hdr ] &&
	       cmp -s luks.img luks.orig"
cp orig.img odd.img && truncate -s +512 odd.img && cp odd.img odd.orig
enc --header o.hdr odd.img
check "a device size not a multiple of 4096: refused, FILE removed, device unchanged" \
	sh -c "[ $rc != 0 ] && grep -q 'not a non-zero multiple of 4096' $ERR && [ ! -e o.hdr ] &&
	       cmp -s odd.img odd.orig"
enc --reduce-device-size 8M --hotzone-size 1M a.img
check "--hotzone-size without --header: refused (the datashift hotzone is fixed)" \
	sh -c "[ $rc != 0 ] && grep -q 'hotzone-size is for encrypt --header' $ERR && cmp -s a.img orig.img"
# (a mounted device: encdec_open_device's O_EXCL, tests/guest/49-encrypt-in-place.sh)

# --- encrypt --------------------------------------------------------------------
cp orig.img v.img
enc --header v.hdr v.img
check "encrypt --header: succeeds, FILE a 16 MiB LUKS2 header (mode 0600), none on the device" \
	sh -c "[ $rc = 0 ] && cryptsetup isLuks v.hdr && ! cryptsetup isLuks v.img &&
	       [ \$(stat -c %a.%s v.hdr) = 600.$((16 * MiB)) ]"
check "every byte decrypted with the volume key (xts-read.py) is the original filesystem" same v.img v.hdr
check "  ... fsck clean" sh -c "e2fsck -fn v.img.plain >/dev/null 2>&1"
cp orig.img c.img
cs reencrypt --encrypt --type luks2 --header c.hdr -q --key-file pw $FAST c.img >/dev/null 2>&1
norm v.hdr >v.norm; norm c.hdr >c.norm
check "the header equals cryptsetup reencrypt --encrypt --header's (keyslot, segment, areas)" \
	sh -c "[ -s v.norm ] && cmp -s v.norm c.norm"
check "cryptsetup accepts the passphrase (open --test-passphrase --header)" \
	cs open --test-passphrase --key-file pw --header v.hdr v.img
vc open --test-passphrase --key-file pw --header v.hdr v.img
check "vaultctl open --test-passphrase --header: the passphrase opens the volume (exit 0)" \
	[ "$rc" = 0 ]
printf 'wrong' >wrong.pw
vc open --test-passphrase --key-file wrong.pw --header v.hdr v.img
cs open --test-passphrase --key-file wrong.pw --header v.hdr v.img 2>/dev/null; want=$?
check "  ... a wrong passphrase: exit $want as cryptsetup's" [ "$rc" = "$want" ]
vc open --test-passphrase --key-file pw v.img
check "  ... without --header: 'not a LUKS2 volume'" \
	sh -c "[ $rc != 0 ] && grep -q 'is not a LUKS2 volume' $ERR"
vc open --type plain --key-file pw --header v.hdr v.img x
check "  ... --header with --type plain: refused (LUKS2 only)" \
	sh -c "[ $rc != 0 ] && grep -q 'header are for LUKS2, not plain mode' $ERR"
# no_csums IMG HDR: none of the sha256 of IMG's 4096-byte blocks is left in HDR
no_csums() {
	python3 - "$1" "$2" <<'PY'
import hashlib, sys
img = open(sys.argv[1], "rb").read()
hdr = open(sys.argv[2], "rb").read()
have = {hdr[i:i + 32] for i in range(0, len(hdr) - 31, 32)}
sys.exit(any(hashlib.sha256(img[i:i + 4096]).digest() in have
             for i in range(0, len(img), 4096) if any(img[i:i + 4096])))
PY
}
check "  ... the hotzone checksums (hashes of plaintext) are wiped from FILE" no_csums orig.img v.hdr

# --- crash and resume -----------------------------------------------------------
# VAULT_TEST_CRASH_AFTER_DATA=1: killed after the data of hotzone 2 ([2M, 4M)),
# before its checkpoint; then the data put back as if the writes had reached
# the disk partly (the second half still plain) or not at all
crash() {
	cp orig.img "$1.img"; rm -f "$1.hdr"
	VAULT_TEST_CRASH_AFTER_DATA=1 enc --header "$1.hdr" --hotzone-size $HZ "$1.img"
	crc=$rc
	case $2 in
	half) dd if=orig.img of="$1.img" bs=1M skip=3 seek=3 count=1 conv=notrunc status=none ;;
	none) dd if=orig.img of="$1.img" bs=1M skip=2 seek=2 count=2 conv=notrunc status=none ;;
	esac
}
crash k half
cp orig.img i.img
cs reencrypt --encrypt --type luks2 --header i.hdr --init-only -q --key-file pw $FAST i.img >/dev/null 2>&1
job k.hdr >k.job; job i.hdr >i.job
check "a crash between data and checkpoint leaves the hotzone in FILE" \
	sh -c "[ $crc = 137 ] && cryptsetup luksDump --dump-json-metadata k.hdr | grep -q in-reencryption"
check "  ... the job's metadata (reencrypt keyslot, backups, requirement) equals cryptsetup's" \
	sh -c "[ -s k.job ] && cmp -s k.job i.job"
cp k.img k2.img; cp k.hdr k2.hdr
cs repair -q --key-file pw --header k.hdr k.img >/dev/null 2>&1
cs reencrypt --resume-only -q --key-file pw --header k.hdr --force-offline-reencrypt k.img >/dev/null 2>&1
check "hotzone half written: cryptsetup repair + reencrypt --resume-only finish it, every byte" \
	done_ok k.img k.hdr
vc encrypt --key-file pw --header k2.hdr k2.img
check "hotzone half written: vaultctl encrypt --header (again) finishes it, every byte" \
	finished k2.img k2.hdr
crash n none
vc encrypt --resume-only --key-file pw --header n.hdr n.img
check "hotzone not written at all: vaultctl encrypt --resume-only finishes it, every byte" \
	crashed_finished n.img n.hdr
cp i.img w.img; cp i.hdr w.hdr
printf 'wrong' >bad
vc encrypt --resume-only --key-file bad --header w.hdr w.img
check "resume with a wrong passphrase: refused, nothing written" \
	refused 'No key available' w.hdr i.hdr w.img
# CVE-2021-4122: metadata changed without the key is refused before anything moves
python3 "$CRAFT" w.hdr json 'j["keyslots"]["1"]["area"]["sector_size"] = 512' >/dev/null &&
	cp w.hdr w.tampered
vc encrypt --resume-only --key-file pw --header w.hdr w.img
check "resume of tampered metadata (checksum block size): refused (digest), nothing written" \
	refused 'digest does not match' w.hdr w.tampered w.img
vc encrypt --resume-only --key-file pw --header i.hdr i.img
check "vaultctl finishes cryptsetup's job (reencrypt --encrypt --header --init-only), every byte" \
	finished i.img i.hdr
vc encrypt --key-file pw --header v.hdr v.img
check "--header FILE of a finished encryption: refused (nothing in progress)" \
	sh -c "[ $rc != 0 ] && grep -q 'exists and holds no encryption in progress' $ERR"

# --- decrypt (the data in place, FILE the header) -------------------------------
dec() { vc decrypt --batch-mode --key-file pw "$@"; }
# decrypted IMG HDR: the original bytes in place, HDR left as cryptsetup leaves it
decrypted() { [ "$rc" = 0 ] && unchanged "$1" && norm "$2" >"$2.norm" && cmp -s "$2.norm" cd.norm; }
cp v.img cd.img; cp v.hdr cd.hdr
cs reencrypt --decrypt --header cd.hdr -q --key-file pw --force-offline-reencrypt cd.img >/dev/null 2>&1
norm cd.hdr >cd.norm
check "cryptsetup reencrypt --decrypt --header of vaultctl's volume gives back the original bytes" \
	unchanged cd.img
cp v.img d.img; cp v.hdr d.hdr
dec --header d.hdr d.img
check "decrypt --header of vaultctl's volume: the original bytes, FILE as cryptsetup leaves it" \
	decrypted d.img d.hdr
# no_material HDR BEFORE: no 4096-byte block of BEFORE's keyslot 0 area is left in HDR
no_material() {
	python3 - "$1" "$2" <<'PY'
import sys
new, old = (open(f, "rb").read()[32768:290816] for f in sys.argv[1:3])
sys.exit(any(new[i:i + 4096] == old[i:i + 4096] for i in range(0, len(old), 4096)))
PY
}
check "  ... the keyslot material is overwritten in FILE" no_material d.hdr v.hdr
cp c.img e.img; cp c.hdr e.hdr
dec --header e.hdr e.img
check "decrypt --header of cryptsetup's volume: the original bytes" decrypted e.img e.hdr
# killed after the data of hotzone 2 (backward: [4M, 6M)), before its checkpoint;
# its second half put back encrypted (writes that did not reach the disk)
cp v.img f.img; cp v.hdr f.hdr
VAULT_TEST_CRASH_AFTER_DATA=1 dec --header f.hdr --hotzone-size $HZ f.img
crc=$rc
dd if=v.img of=f.img bs=1M skip=5 seek=5 count=1 conv=notrunc status=none
cp f.img g.img; cp f.hdr g.hdr
cp v.img h.img; cp v.hdr h.hdr
cs reencrypt --decrypt --header h.hdr --init-only -q --key-file pw --force-offline-reencrypt h.img \
	>/dev/null 2>&1
job f.hdr >f.job; job h.hdr >h.job
crashed_same() { [ "$crc" = 137 ] && [ -s "$1" ] && cmp -s "$1" "$2"; }
check "decrypt killed in a hotzone: the job's metadata equals cryptsetup's --init-only" \
	crashed_same f.job h.job
cs repair -q --key-file pw --header f.hdr f.img >/dev/null 2>&1
cs reencrypt --resume-only -q --key-file pw --header f.hdr --force-offline-reencrypt f.img >/dev/null 2>&1
check "  ... cryptsetup repair + reencrypt --resume-only finish it: the original bytes" unchanged f.img
dec --header g.hdr g.img
check "  ... vaultctl decrypt --header (again) finishes it: the original bytes" decrypted g.img g.hdr
dec --resume-only --header h.hdr h.img
check "vaultctl decrypt --resume-only finishes cryptsetup's decryption (--init-only)" \
	decrypted h.img h.hdr
cp v.img w.img; cp v.hdr w.hdr
vc decrypt --batch-mode --key-file bad --header w.hdr w.img
check "decrypt with a wrong passphrase: refused, nothing written" \
	sh -c "[ $rc != 0 ] && grep -q 'No key' $ERR && cmp -s w.hdr v.hdr && cmp -s w.img v.img"
dec --resume-only --header w.hdr w.img
check "decrypt --resume-only of a volume not in decryption: refused" \
	sh -c "[ $rc != 0 ] && grep -q 'holds no decryption in progress' $ERR && cmp -s w.hdr v.hdr"
cs luksHeaderBackup --header-backup-file onhdr.bak luks.img
dec --header onhdr.bak luks.img
check "decrypt --header FILE whose data does not start at 0 (a header backup): refused" \
	sh -c "[ $rc != 0 ] && grep -q 'segment at offset 0' $ERR && cmp -s luks.img luks.orig"

finish
