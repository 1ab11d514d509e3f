#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Host-side tests of vaultctl on LUKS2 volumes in the middle of a
# cryptsetup re-encryption (headers cryptsetup 2.6 wrote on image files):
# dump shows the re-encryption, open and every command that writes refuse
# with the way out (cryptsetup reencrypt --resume-only) and change nothing,
# and once cryptsetup finished the job the volume is an ordinary one again;
# reencrypt --init-only writes what cryptsetup writes, and cryptsetup
# reencrypt --resume-only finishes it offline, the data reading back with
# the new key (also with --sector-size: a smaller one; a larger one on a
# closed volume is refused).  Prints KTAP.  Usage: reencrypt-meta.sh
# VAULTCTL.  $VALGRIND_CMD prefixes vaultctl.  About 25 s.

VAULTCTL=${1:?usage: reencrypt-meta.sh VAULTCTL}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
test_dir reenc
LOOP=
trap '[ -z "$LOOP" ] || losetup -d "$LOOP"; [ -n "$KEEP" ] || rm -rf "$T"' EXIT
. "$HERE/../luks2/tests/reenc-images.sh"

if [ "$(id -u)" != 0 ]; then
	skp "reencryption metadata tests" "needs root (cryptsetup's locking, loop devices)"
	finish
fi
if ! command -v cryptsetup >/dev/null 2>&1; then
	skp_dep "reencryption metadata tests" "cryptsetup is not installed"
	finish
fi

check() { name=$1; shift; if "$@"; then ok "$name"; else nok "$name"; fi; }
out_has() { grep -q -- "$1" "$OUT"; }
printf 'first pass' >p1
WAYOUT="cryptsetup reencrypt --resume-only"

# --- dump ---------------------------------------------------------------------
if ! { reenc_img init.img init p1 && reenc_img mid.img mid p1 && reenc_img enc.img encrypt p1; }; then
	nok "cryptsetup makes the images"
	finish
fi

vc dump init.img
check "dump of a header after reencrypt --init-only: requirement, mode, direction, resilience" \
	sh -c "[ $rc = 0 ] && grep -q 'Requirements:	online-reencrypt-v2' $OUT &&
	       grep -q 'Reencryption:	in progress (keyslot 2)' $OUT &&
	       grep -q 'Mode:       reencrypt' $OUT && grep -q 'Direction:  forward' $OUT &&
	       grep -q 'Resilience: checksum (sha256, 4096-byte blocks)' $OUT"
check "dump: progress 0 before the first hotzone" out_has 'Progress:   0 of 67108864 bytes (0.0%)$'

vc dump mid.img
check "dump of an interrupted reencryption: progress is the new segment's size, hotzone shown" \
	sh -c "[ $rc = 0 ] && grep -q 'Progress:   8388608 of 67108864 bytes (12.5%), a hotzone is being moved' $OUT &&
	       grep -q 'flags : in-reencryption' $OUT"
# the reencrypt keyslot as cryptsetup luksDump prints it (it adds "(unbound)")
keyslot_block() { sed -n '/^  [0-9]*: reencrypt/,/Digest ID/p' "$1" | sed 's/ (unbound)//'; }
cryptsetup luksDump mid.img >cs.dump 2>/dev/null
keyslot_block cs.dump >cs.ks; keyslot_block "$OUT" >our.ks
check "dump: the reencrypt keyslot's lines are cryptsetup luksDump's" \
	sh -c "[ -s cs.ks ] && grep -q 'Hash data:  4096' cs.ks && diff cs.ks our.ks >/dev/null"

vc dump enc.img
check "dump of an encryption in place: mode encrypt, backward, datashift with its shift" \
	sh -c "[ $rc = 0 ] && grep -q 'Mode:       encrypt' $OUT && grep -q 'Direction:  backward' $OUT &&
	       grep -q 'Resilience: datashift (shift 16777216 bytes)' $OUT &&
	       grep -q 'Shift size: 16777216' $OUT"

vc dump --dump-json-metadata mid.img
cryptsetup luksDump --dump-json-metadata mid.img >cs.json 2>/dev/null
check "dump --dump-json-metadata prints what cryptsetup prints" \
	sh -c "[ $rc = 0 ] && cmp -s cs.json $OUT"
vc is-luks mid.img
check "is-luks: a volume in reencryption is LUKS2 (as cryptsetup isLuks)" [ "$rc" = 0 ]

# --- refusals -----------------------------------------------------------------
# refused NAME ARGS...: exit 1, the way out in the message, image unchanged
before=$(sum mid.img)
refused() {
	name=$1; shift
	vc "$@" </dev/null
	check "$name" sh -c "[ $rc = 1 ] && grep -q 'an online reencryption is in progress' $ERR &&
			     grep -q '$WAYOUT mid.img' $ERR && [ $(sum mid.img) = $before ]"
}
refused "open --test-passphrase refuses, naming cryptsetup reencrypt --resume-only" \
	open --test-passphrase --key-file p1 mid.img
refused "add-key refuses and changes nothing" add-key --key-file p1 mid.img p1
refused "remove-key refuses" remove-key --key-file p1 mid.img
refused "change-key refuses" change-key --key-file p1 mid.img p1
refused "kill-slot refuses" kill-slot --key-file p1 mid.img 1
refused "config --label refuses" config --label x mid.img
refused "uuid --uuid refuses" uuid --uuid 01234567-89ab-cdef-0123-456789abcdef mid.img
refused "erase refuses" erase --batch-mode mid.img
refused "repair refuses" repair mid.img
refused "token remove refuses" token remove --token-id 0 mid.img
refused "dump --dump-volume-key refuses (the keys are in transition)" \
	dump --dump-volume-key --batch-mode --key-file p1 mid.img
refused "header-backup refuses" header-backup mid.img hb.img

cp --sparse=always reenc-plain.cache plain.img 2>/dev/null || reenc_img plain.img plain p1
cryptsetup luksHeaderBackup plain.img --header-backup-file plain.hdr
vc header-restore --batch-mode mid.img plain.hdr
check "header-restore over a reencryption half done needs --force" \
	sh -c "[ $rc = 5 ] && grep -q 'in the middle of a reencryption' $ERR &&
	       grep -q '$WAYOUT mid.img' $ERR && [ $(sum mid.img) = $before ]"

truncate -s 80M loop.img
LOOP=$(losetup -f --show loop.img 2>/dev/null) || LOOP=
if [ -n "$LOOP" ]; then
	cp --sparse=always mid.img loop.img
	vc open --key-file p1 "$LOOP" reenc-test
	check "open of a block device in reencryption refuses before mapping anything" \
		sh -c "[ $rc = 1 ] && grep -q '$WAYOUT $LOOP' $ERR && [ ! -e /dev/mapper/reenc-test ]"
else
	skp "open of a block device in reencryption refuses before mapping anything" "no loop device"
fi

# --- negative control: finished by cryptsetup, an ordinary volume again -------
# the interrupted hotzone is recovered from its checksums first (repair)
cp --sparse=always mid.img done.img
if cryptsetup repair -q --key-file p1 done.img >/dev/null 2>&1 &&
   cryptsetup reencrypt --resume-only --force-offline-reencrypt -q --key-file p1 done.img \
	>/dev/null 2>&1; then
	vc dump done.img
	check "after cryptsetup finished: no reencryption in dump" \
		sh -c "[ $rc = 0 ] && ! grep -q 'Reencryption\|Requirements' $OUT"
	vc open --test-passphrase --key-file p1 done.img
	check "after cryptsetup finished: the passphrase opens the new volume key" [ "$rc" = 0 ]
	printf 'second pass' >p2
	vc add-key --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file p1 done.img p2
	check "after cryptsetup finished: add-key works (the refusals were about the state)" \
		sh -c "[ $rc = 0 ] && cryptsetup open --test-passphrase --key-file p2 done.img"
else
	nok "cryptsetup finishes the interrupted reencryption offline"
fi

# --- reencrypt --init-only: our metadata, cryptsetup moves the data ------------
XTS="python3 $HERE/../luks2/tests/xts-read.py"
# the metadata both tools write, without salts, digests and costs
shape() {
	cryptsetup luksDump --dump-json-metadata "$1" 2>/dev/null | python3 -c '
import json, sys
j = json.load(sys.stdin)
ks = {k: v for k, v in j["keyslots"].items() if v["type"] == "reencrypt"}
dg = sorted((sorted(v["keyslots"]), sorted(v["segments"])) for v in j["digests"].values())
print(json.dumps([ks, j["segments"], dg, j["config"].get("requirements")], sort_keys=True))'
}
if ! python3 -c 'import cryptography' 2>/dev/null; then
	skp_dep "reencrypt --init-only, finished by cryptsetup" "python3-cryptography is not installed"
	finish
fi
reenc_img ours.img plain p1 && cp --sparse=always ours.img theirs.img
dd if=/dev/urandom of=ours.img bs=1M seek=16 count=8 conv=notrunc status=none
cs luksDump --dump-volume-key -q --key-file p1 --volume-key-file vk.old ours.img >/dev/null
$XTS vk.old ours.img 16777216 67108864 4096 >plain.before
before0=$(sum ours.img)
vc reencrypt --key-file p1 ours.img
check "reencrypt (moving data) of an image file: refused, attach it first, nothing written" \
	sh -c "[ $rc = 1 ] && grep -q 'not a block device (for an image, attach it with losetup' $ERR &&
	       [ $(sum ours.img) = $before0 ]"
vc reencrypt --key-file p1 --sector-size 8192 ours.img
check "reencrypt --sector-size 8192: refused (512 to 4096), nothing written" \
	sh -c "[ $rc = 1 ] && grep -q '512, 1024, 2048 or 4096' $ERR && [ $(sum ours.img) = $before0 ]"
vc reencrypt --key-file p1 --resilience none ours.img
check "reencrypt --resilience none (moving data): refused, nothing written" \
	sh -c "[ $rc = 1 ] && grep -q 'leaves nothing to recover' $ERR && [ $(sum ours.img) = $before0 ]"
before=$(sum ours.img)
printf 'wrong pass' >bad
vc reencrypt --init-only --key-file bad ours.img
check "reencrypt --init-only with a wrong passphrase: exit 2, nothing written" \
	sh -c "[ $rc = 2 ] && [ $(sum ours.img) = $before ]"
# shellcheck disable=SC2086 # FAST: several options
vc reencrypt --init-only --key-file p1 $FAST ours.img
# shellcheck disable=SC2086
cryptsetup reencrypt --init-only -q --key-file p1 $FAST theirs.img >/dev/null 2>&1
shape ours.img >ours.shape; shape theirs.img >theirs.shape
check "reencrypt --init-only writes the metadata cryptsetup writes" \
	sh -c "[ $rc = 0 ] && grep -q online-reencrypt-v2 ours.shape && cmp -s ours.shape theirs.shape"
# a cipher and key size change: the same metadata as cryptsetup's
reenc_img ours2.img plain p1 && cp --sparse=always ours2.img theirs2.img
# shellcheck disable=SC2086
vc reencrypt --init-only --key-file p1 $FAST --cipher aes-cbc-essiv:sha256 --key-size 256 ours2.img
# shellcheck disable=SC2086
cryptsetup reencrypt --init-only -q --key-file p1 $FAST --cipher aes-cbc-essiv:sha256 \
	--key-size 256 theirs2.img >/dev/null 2>&1
shape ours2.img >ours2.shape; shape theirs2.img >theirs2.shape
check "reencrypt --init-only --cipher --key-size writes the metadata cryptsetup writes" \
	sh -c "[ $rc = 0 ] && grep -q aes-cbc-essiv ours2.shape && cmp -s ours2.shape theirs2.shape"
# a smaller sector size (4096 -> 1024) with a cipher change: cryptsetup's metadata
reenc_img ours3.img plain p1 && cp --sparse=always ours3.img theirs3.img
# shellcheck disable=SC2086
vc reencrypt --init-only --key-file p1 $FAST --cipher aes-cbc-essiv:sha256 --key-size 256 \
	--sector-size 1024 ours3.img
# shellcheck disable=SC2086
cryptsetup reencrypt --init-only -q --key-file p1 $FAST --cipher aes-cbc-essiv:sha256 \
	--key-size 256 --sector-size 1024 theirs3.img >/dev/null 2>&1
shape ours3.img >ours3.shape; shape theirs3.img >theirs3.shape
check "reencrypt --init-only --sector-size 1024 --cipher writes the metadata cryptsetup writes" \
	sh -c "[ $rc = 0 ] && grep -q '\"sector_size\": 1024' ours3.shape && cmp -s ours3.shape theirs3.shape"
# a larger one on a closed volume: refused before anything is written, as
# cryptsetup 2.6 does without --force-offline-reencrypt
rm -f ss512.img; truncate -s 80M ss512.img
# shellcheck disable=SC2086
cryptsetup luksFormat -q --type luks2 --sector-size 512 --key-file p1 $FAST ss512.img
before=$(sum ss512.img)
vc reencrypt --init-only --key-file p1 --sector-size 4096 ss512.img
check "reencrypt --init-only --sector-size 4096 of a closed 512-byte volume: refused, nothing written" \
	sh -c "[ $rc = 1 ] && grep -q 'sector size increase on offline device is not supported' $ERR &&
	       [ $(sum ss512.img) = $before ]"
vc dump ours.img
check "dump after our init: reencryption, checksum resilience, progress 0" \
	sh -c "[ $rc = 0 ] && grep -q 'Resilience: checksum (sha256, 4096-byte blocks)' $OUT &&
	       grep -q 'Progress:   0 of 67108864 bytes' $OUT"
# cryptsetup checks the metadata digest before it unlocks (a tampered one
# fails: luks2/tests/run's reenc_tamper_* tests)
cryptsetup open --test-passphrase --key-file p1 ours.img >/dev/null 2>cs.err
cs_rc=$?
check "cryptsetup verifies our reencryption metadata digest (CVE-2021-4122 check)" \
	sh -c "[ $cs_rc = 0 ] && ! grep -q 'Reencryption metadata is invalid' cs.err"
if cryptsetup reencrypt --resume-only --force-offline-reencrypt -q --key-file p1 ours.img \
	>/dev/null 2>cs.err; then
	cs luksDump --dump-volume-key -q --key-file p1 --volume-key-file vk.new ours.img >/dev/null
	$XTS vk.new ours.img 16777216 67108864 4096 >plain.after
	$XTS vk.old ours.img 16777216 67108864 4096 >plain.oldkey
	check "cryptsetup --resume-only finishes our init: every byte reads back with the new key" \
		sh -c "! cmp -s vk.old vk.new && cmp -s plain.before plain.after"
	check "control: the old key no longer reads the data" sh -c "! cmp -s plain.before plain.oldkey"
else
	sed 's/^/# /' cs.err
	nok "cryptsetup --resume-only finishes our init: every byte reads back with the new key"
	nok "control: the old key no longer reads the data"
fi
# --sector-size 512 (from 4096): our init, cryptsetup moves the data; the
# result read as dm-crypt reads 512-byte sectors
reenc_img ours4.img plain p1
dd if=/dev/urandom of=ours4.img bs=1M seek=16 count=8 conv=notrunc status=none
cs luksDump --dump-volume-key -q --key-file p1 --volume-key-file vk4.old ours4.img >/dev/null
$XTS vk4.old ours4.img 16777216 67108864 4096 >plain4.before
# shellcheck disable=SC2086
vc reencrypt --init-only --key-file p1 $FAST --sector-size 512 ours4.img
if [ "$rc" = 0 ] && cryptsetup reencrypt --resume-only --force-offline-reencrypt -q \
	--key-file p1 ours4.img >/dev/null 2>cs.err; then
	cs luksDump --dump-volume-key -q --key-file p1 --volume-key-file vk4.new ours4.img >/dev/null
	$XTS vk4.new ours4.img 16777216 67108864 512 >plain4.after
	check "cryptsetup finishes our --sector-size 512 init: every byte reads back in 512-byte sectors" \
		sh -c "cryptsetup luksDump ours4.img | grep -q 'sector: 512 ' &&
		       cmp -s plain4.before plain4.after"
else
	sed 's/^/# /' "$ERR" cs.err
	nok "cryptsetup finishes our --sector-size 512 init: every byte reads back in 512-byte sectors"
fi
reenc_img two.img plain p1
# shellcheck disable=SC2086
cs luksAddKey -q $FAST --key-file p1 two.img p1 >/dev/null 2>&1
before=$(sum two.img)
# shellcheck disable=SC2086
vc reencrypt --init-only --key-file p1 $FAST two.img
check "reencrypt --init-only refuses a volume whose other keyslots would be lost" \
	sh -c "[ $rc = 1 ] && grep -q 'other keyslots exist' $ERR && [ $(sum two.img) = $before ]"

finish
