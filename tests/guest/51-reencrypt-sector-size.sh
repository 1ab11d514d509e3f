#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# vaultctl reencrypt --sector-size (dm-vault's new_sector_size table word),
# cryptsetup as the oracle, on a 20 MiB ramdisk (4 MiB of data):
#   1. refusals, each with its message and the header unchanged: a size
#      that is not a power of two from 512 to 4096; a larger size on a
#      closed volume (cryptsetup 2.6's rule); online over a mounted ext4
#      with 1 KiB blocks (which keeps working); and, last, a data area the
#      new size does not divide (a device of 18 MiB + 512 bytes);
#   2. online 512 -> 4096 with a cipher change (aes-xts-plain64 ->
#      aes-cbc-essiv:sha256, 256-bit key) of a mounted ext4 with 4 KiB
#      blocks (no journal at this size) under fio verify load: the job's
#      table carries new_sector_size:4096, fio sees no bad block, the
#      mapping ends with 4096-byte logical blocks and a table without
#      reencrypt; cryptsetup opens the new header and reads what vault
#      read; fsck clean, files equal;
#   3. offline 4096 -> 512 (vaultctl's private mapping carries
#      new_sector_size:512): the data reads back through cryptsetup;
#   4. cryptsetup's own 512 -> 4096 job stopped with a hotzone in flight
#      (its writes failing under dm-flakey): vaultctl --resume-only
#      recovers the hotzone from the checksums (old key and sectors in,
#      new ones out) and finishes offline; cryptsetup reads the data back.
# One volume goes through 1-4 (each job starts from the last one's result,
# the reference being what vault read after 2), which keeps the test short
# under TCG.  vaultctl's own jobs killed mid-run and finished by either
# tool: 52-reencrypt-sector-size-kill.
. "${VAULT_REPO:?}/tests/lib/ktap.sh"
. "$VAULT_REPO/tests/lib/luks2.sh"
. "$VAULT_REPO/tests/lib/reenc-sector.sh"

luks2_test_setup t51 20 cryptsetup fio cmp timeout mkfs.ext4 e2fsck mount umount diff blockdev
V=$T-v
M=/dev/mapper/$V
CS=$T-cs
MNT=$WORK/mnt
export DM_DISABLE_UDEV=1
cleanup() {
	[ -n "${FIO:-}" ] && kill -9 "$FIO" 2>/dev/null
	wait 2>/dev/null
	mountpoint -q "$MNT" && umount "$MNT"
	dmsetup remove --retry $V >/dev/null 2>&1
	dmsetup remove --retry $CS >/dev/null 2>&1
	dmsetup remove --retry $T-odd >/dev/null 2>&1
	dmsetup remove --retry $T-low >/dev/null 2>&1
	for d in /dev/mapper/vault-reencrypt-*; do
		[ -e "$d" ] && dmsetup remove --retry "${d#/dev/mapper/}" >/dev/null 2>&1
	done
}
ktap_defer cleanup
cd "$WORK" || exit 1
mkdir -p src "$MNT"
printf 'sector size passphrase' >p1
head -c $((1 << 20)) /dev/urandom >src/random.bin
seq 1 20000 >src/numbers.txt

# --- 1. refusals ----------------------------------------------------------------
cs luksFormat -q --type luks2 --sector-size 512 "${FAST[@]}" --key-file p1 "$DEV" ||
	ktap_fail_all "cryptsetup makes a 512-byte sector volume"
before=$(hdr_sum)
ktap_check "--sector-size 1000: refused (a power of two from 512 to 4096)" \
	fails_with 1 '512, 1024, 2048 or 4096' reenc --sector-size 1000 "$DEV"
ktap_check "--sector-size 4096 of a closed 512-byte volume: refused (cryptsetup's rule)" \
	fails_with 1 'sector size increase on offline device is not supported' \
	reenc --sector-size 4096 "$DEV"
ktap_check "... the header unchanged" [ "$(hdr_sum)" = "$before" ]

"$VAULTCTL" open --key-file p1 "$DEV" $V || ktap_fail_all "vaultctl open"
mkfs.ext4 -q -F -b 1024 $M && mount $M "$MNT" || ktap_fail_all "mkfs.ext4 -b 1024 and mount"
ktap_check "online over a mounted ext4 with 1 KiB blocks: refused, it says why" \
	fails_with 1 'incompatible with ext4 superblock \(block size: 1024 bytes\)' \
	reenc --sector-size 4096 $V
ktap_check "... the header unchanged, the filesystem still writable, 512-byte blocks" \
	eval '[ "$(hdr_sum)" = "$before" ] && cp src/random.bin "$MNT"/ && sync &&
	      cmp -s src/random.bin "$MNT"/random.bin && [ "$(blockdev --getss $M)" = 512 ]'
umount "$MNT"

ktap_diag "elapsed: $SECONDS s"
# --- 2. online 512 -> 4096 + cipher change, ext4 with 4 KiB blocks, fio -------
mkfs.ext4 -q -F -b 4096 -d src $M 2>/dev/null && mount $M "$MNT" ||
	ktap_fail_all "mkfs.ext4 -b 4096 and mount"
fio --name=v "--filename=$MNT/fio.dat" --direct=1 --ioengine=psync --bs=4k --size=1M \
	--verify=crc32c --verify_fatal=1 --verify_backlog=16 --rw=randwrite --time_based \
	--runtime=600 --thread >/dev/null 2>&1 &
FIO=$!
sleep 1
start=$(date +%s)
timeout 300 "$VAULTCTL" reencrypt --debug --batch-mode "${FAST[@]}" --key-file p1 \
	--sector-size 4096 --cipher aes-cbc-essiv:sha256 --key-size 256 $V 2>job.err
rc=$?
end=$(date +%s)
alive=no; kill -0 $FIO 2>/dev/null && alive=yes
kill -9 $FIO 2>/dev/null; wait $FIO 2>/dev/null; FIO=
ktap_diag "online job: $((end - start)) s, fio still running at the end: $alive"
ktap_check "online --sector-size 4096 --cipher aes-cbc-essiv:sha256 under fio: exit 0" [ $rc = 0 ]
grep 'rror' job.err | head -5 | ktap_diag_stream
ktap_check "the job's table carried new_sector_size:4096 (and the new cipher)" \
	grep -q 'reencrypt aes-cbc-essiv:sha256 key:[^ ]* 0 new_sector_size:4096' job.err
ktap_check "fio verify (verify_fatal) saw no bad block" [ $alive = yes ]
ktap_check "the mapping now has 4096-byte logical blocks and the new cipher alone" \
	eval '[ "$(blockdev --getss $M)" = 4096 ] && dmsetup table $V | grep -q "aes-cbc-essiv:sha256 .*sector_size:4096" &&
	      ! dmsetup table $V | grep -q reencrypt'
umount "$MNT"
ktap_check "fsck clean after the job" eval 'e2fsck -fn $M >fsck.out 2>&1 || { ktap_diag_stream <fsck.out; false; }'
# the reference for the rest of the test
dd if=$M of=ref bs=1M iflag=direct status=none
"$VAULTCTL" close $V
ktap_check "cryptsetup (dm-crypt, 4096-byte sectors) reads what vault read" cs_reads ref 4096
ktap_check "... its cipher is aes-cbc-essiv:sha256" grep -q ' crypt aes-cbc-essiv:sha256 ' cs.table
files_equal() {
	cs open --readonly --key-file p1 "$DEV" $CS || return 1
	mount -o ro /dev/mapper/$CS "$MNT" &&
	diff -r src "$MNT" -x lost+found -x fio.dat >/dev/null
	local rc=$?
	umount "$MNT"
	dmsetup remove --retry $CS
	return $rc
}
ktap_check "... and the files written before the job are equal" files_equal

ktap_diag "elapsed: $SECONDS s"
# --- 3. offline 4096 -> 512 ------------------------------------------------------
reenc --debug --sector-size 512 "$DEV" 2>job3.err
rc=$?
ktap_check "offline --sector-size 512 of the closed 4096-byte volume: exit 0" [ $rc = 0 ]
ktap_check "... its private mapping carried new_sector_size:512" \
	grep -q 'sector_size:4096 reencrypt aes-cbc-essiv:sha256 key:[^ ]* 0 new_sector_size:512' job3.err
ktap_check "... cryptsetup reads the data back with 512-byte sectors" cs_reads ref 512

ktap_diag "elapsed: $SECONDS s"
# --- 4. cryptsetup's interrupted job, finished by vaultctl ----------------------
# cryptsetup's own 512 -> 4096 job stopped with a hotzone in flight: its
# writes past 2 MiB of data fail (dm-flakey error_writes), so its third
# 1 MiB hotzone fails after the header named it; vaultctl recovers that
# hotzone from the checksums (old key and 512-byte sectors in, new key and
# 4096-byte sectors out) and finishes offline
cs reencrypt --init-only -q --force-offline-reencrypt --key-file p1 "${FAST[@]}" \
	--sector-size 4096 "$DEV" >/dev/null
ok=$((18 * 2048)); rest=$((2 * 2048))
printf '0 %s linear %s 0\n%s %s flakey %s %s 0 3600 1 error_writes\n' \
	$ok "$DEV" $ok $rest "$DEV" $ok | dmsetup create $T-low
cs reencrypt --resume-only -q --key-file p1 --hotzone-size 1M /dev/mapper/$T-low >cs4.out 2>&1
head -3 cs4.out | ktap_diag_stream
dmsetup remove --retry $T-low
ktap_check "cryptsetup (512 -> 4096) stopped with a hotzone in flight" \
	eval "cs luksDump $DEV | grep -q in-reencryption"
ktap_check "vaultctl --resume-only recovers the hotzone and finishes (offline)" \
	reenc --resume-only "$DEV"
ktap_check "... cryptsetup reads the data back with 4096-byte sectors" cs_reads ref 4096

ktap_diag "elapsed: $SECONDS s"
# --- 5. a data area of 2 MiB + 512 bytes: 4096-byte sectors do not divide it ----
dmsetup create $T-odd --table "0 $((18 * 2048 + 1)) linear $DEV 0" &&
cs luksFormat -q --type luks2 --sector-size 512 "${FAST[@]}" --key-file p1 /dev/mapper/$T-odd &&
"$VAULTCTL" open --key-file p1 /dev/mapper/$T-odd $V || ktap_fail_all "a volume of 18 MiB + 512 bytes"
odd_before=$(dd if=/dev/mapper/$T-odd bs=1M count=16 iflag=direct status=none | md5sum)
ktap_check "a data area not a multiple of the new size: refused, it says why" \
	fails_with 1 'not aligned to the requested encryption sector size \(4096 bytes\)' \
	reenc --sector-size 4096 $V
ktap_check "... the header unchanged" \
	[ "$(dd if=/dev/mapper/$T-odd bs=1M count=16 iflag=direct status=none | md5sum)" = "$odd_before" ]
"$VAULTCTL" close $V
dmsetup remove $T-odd

ktap_diag "elapsed: $SECONDS s"
ktap_finish
