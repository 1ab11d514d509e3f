#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# vaultctl reencrypt moving the data through dm-vault's "reencrypt step",
# with cryptsetup 2.6's LUKS2 metadata, cryptsetup as the oracle:
#   1. online under fio verify load: every block verifies during and after
#      the job; the new header opened by cryptsetup (dm-crypt) reads the
#      same plaintext; luksDump shows no requirement, one keyslot, and the
#      old volume key decrypts nothing (no 4 KiB block equal);
#   2. vaultctl killed -9 mid-run (--max-rate keeps it slow): the mapping
#      closes, cryptsetup repair + reencrypt --resume-only finish it, the
#      data reads back, the final metadata is the one vaultctl writes; and
#      killed again, vaultctl --resume-only finishes online on the mapping;
#      killed right after a hotzone's hold (and after its header): a write
#      into the hotzone waits, --resume-only finishes, the write lands;
#      with journal resilience, killed with a hotzone named: cryptsetup
#      recovers it from vaultctl's journal and finishes;
#   3. cryptsetup interrupted: its --init-only, and its offline job stopped
#      with a hotzone in flight (writes failing under it, dm-flakey):
#      vaultctl reencrypt --resume-only finishes both (offline, the second
#      from the checksums), the data reads back with cryptsetup;
#   4. tampered re-encryption metadata (CVE-2021-4122): refused, nothing
#      moved;
#   5. revoke --key-slot N (offline: a closed device): refused while a
#      third keyslot exists and with the leaked passphrase; then the old
#      header backup + the leaked passphrase still give the old volume key,
#      which decrypts no 4 KiB block; --resume-only with nothing to resume
#      refused.
# one-kernel: vaultctl's re-encryption job, metadata and recovery; the kernel's reencrypt step runs on every kernel in 47-reencrypt-core
. "${VAULT_REPO:?}/tests/lib/ktap.sh"
. "$VAULT_REPO/tests/lib/luks2.sh"

luks2_test_setup t48 20 cryptsetup fio cmp python3 timeout
V=$T-v
M=/dev/mapper/$V
export DM_DISABLE_UDEV=1
CS=$T-cs
cleanup() {
	[ -n "${JOB:-}" ] && kill -9 "$JOB" 2>/dev/null
	[ -n "${FIO:-}" ] && kill -9 "$FIO" 2>/dev/null
	wait 2>/dev/null
	dmsetup remove --retry $V >/dev/null 2>&1
	dmsetup remove --retry $CS >/dev/null 2>&1
	dmsetup remove --retry $T-low >/dev/null 2>&1
	for d in /dev/mapper/vault-reencrypt-*; do
		[ -e "$d" ] && dmsetup remove --retry "${d#/dev/mapper/}" >/dev/null 2>&1
	done
}
ktap_defer cleanup
cd "$WORK" || exit 1
printf 'reencrypt passphrase' >p1
printf 'not it' >bad
MIB=4
DATA=$((MIB << 20))
CRAFT="python3 $VAULT_REPO/userspace/luks2/tests/craft.py"

# a fresh volume on DEV (16 MiB header + 4 MiB of data), random data written
# through cryptsetup; its volume key in vk.old
fresh() {
	rm -f vk.old
	dd if=/dev/zero of="$DEV" bs=1M count=$((16 + MIB)) oflag=direct status=none &&
	cs luksFormat -q --type luks2 "${FAST[@]}" --key-file p1 "$DEV" &&
	cs open --key-file p1 "$DEV" $CS &&
	head -c $DATA /dev/urandom >data &&
	dd if=data of=/dev/mapper/$CS bs=1M oflag=direct conv=fsync status=none &&
	dmsetup remove $CS &&
	cs luksDump -q --dump-volume-key --key-file p1 --volume-key-file vk.old "$DEV" >/dev/null
}
# the plaintext through cryptsetup (dm-crypt) with the header as it is now
cs_read() {
	cs open --readonly --key-file p1 "$DEV" $CS || return 1
	dd if=/dev/mapper/$CS of="$1" bs=1M iflag=direct status=none
	dmsetup remove --retry $CS
}
no_reencrypt() {
	cs luksDump "$DEV" >dump.txt 2>&1 && ! grep -q 'online-reencrypt\|reencrypt' dump.txt &&
	[ "$(grep -c ': luks2' dump.txt)" = 1 ]
}
# starts a slow job on the open mapping V and kills it -9 part way: at
# 1 MiB/s the 4 MiB take 4 s from the init on, and it is killed as soon as
# the header shows the job under way (the requirement and two segments).
# (A fixed 2 s wait after seeing the requirement once let the job finish
# first: each luksDump took over a second in a loaded TCG guest.)
kill_job_midway() {
	"$VAULTCTL" reencrypt --batch-mode "${FAST[@]}" --key-file p1 --hotzone-size 256K \
		--max-rate 1 $V 2>kill.err &
	JOB=$!
	for _ in $(seq 300); do
		cs luksDump "$DEV" >midway.txt 2>/dev/null
		grep -q 'online-reencrypt' midway.txt &&
			[ "$(grep -c 'crypt$' midway.txt)" -ge 2 ] && break
		sleep 0.1
	done
	kill -9 $JOB || sed 's/^/# /' kill.err
	wait $JOB 2>/dev/null
	JOB=
}
# the final metadata without salts, digests and costs
shape() {
	cs luksDump --dump-json-metadata "$DEV" | python3 -c '
import json, sys
j = json.load(sys.stdin)
ks = {k: [v["type"], v["key_size"], v["area"]["offset"], v["area"]["size"]]
      for k, v in j["keyslots"].items()}
dg = {k: [v["keyslots"], v["segments"]] for k, v in j["digests"].items()}
print(json.dumps([ks, dg, j["segments"], j["config"], j["tokens"]], sort_keys=True))'
}
# no 4 KiB block of the data area decrypted with vk.old equals the plaintext
old_key_reads_nothing() {
	cs open --type plain --cipher aes-xts-plain64 --key-size 512 --key-file vk.old \
		--offset 32768 --size $((DATA / 512)) --readonly "$DEV" $CS || return 1
	dd if=/dev/mapper/$CS of=oldview bs=1M iflag=direct status=none
	dmsetup remove --retry $CS
	python3 - "$1" oldview <<'EOF'
import sys
a, b = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
same = sum(a[i:i + 4096] == b[i:i + 4096] for i in range(0, len(a), 4096))
print("# blocks the old key still reads:", same)
sys.exit(1 if same else 0)
EOF
}

# --- 1. online under fio verify load -----------------------------------------
fresh || ktap_fail_all "cryptsetup makes the volume"
"$VAULTCTL" open --key-file p1 "$DEV" $V || ktap_fail_all "vaultctl open"
# the first half stays as written (compared after), fio writes and verifies
# the second half while the job runs
HALF=$((DATA / 2))
FIOARGS=(--name=v "--filename=$M" --direct=1 --ioengine=psync --bs=4k "--offset=$HALF"
	 "--size=$HALF" --verify=crc32c --verify_fatal=1 --verify_backlog=16 --rw=randwrite
	 --time_based --runtime=600 --thread)
fio "${FIOARGS[@]}" >/dev/null 2>&1 &
FIO=$!
start=$(date +%s)
timeout 300 "$VAULTCTL" reencrypt --debug --batch-mode "${FAST[@]}" --key-file p1 $V 2>job.err
rc=$?
end=$(date +%s)
# verify_fatal: fio still running means no block failed its verify so far;
# SIGKILL (one process: --thread), since on SIGINT fio first verifies every
# block it ever wrote
alive=no; kill -0 $FIO 2>/dev/null && alive=yes
kill -9 $FIO 2>/dev/null; wait $FIO 2>/dev/null; FIO=
ktap_diag "online job: $((end - start)) s, fio still running at the end: $alive"
ktap_check "online reencrypt of an open mapping under fio load: exit 0" [ $rc = 0 ]
grep 'hotzone at\|rror' job.err | sed 's/^/# /' | head -8
ktap_check "fio verify (writes read back as it goes, verify_fatal) saw no bad block" \
	[ $alive = yes ]
ktap_check "after the job: the half fio did not touch reads back unchanged through vault" \
	cmp -s -n $HALF data $M
dd if=$M of=through-vault bs=1M iflag=direct status=none
"$VAULTCTL" close $V
ktap_check "cryptsetup (dm-crypt) with the new header reads what vault read" \
	eval 'cs_read through-cs && cmp -s through-vault through-cs'
ktap_check "luksDump: no reencrypt requirement or keyslot, one keyslot left" no_reencrypt
shape >shape.vaultctl
ktap_check "the old volume key decrypts no 4 KiB block of the device" \
	old_key_reads_nothing through-cs

ktap_diag "elapsed: $SECONDS s"
# --- 2. vaultctl killed -9, cryptsetup finishes --------------------------------
fresh || ktap_fail_all "cryptsetup makes the volume"
"$VAULTCTL" open --key-file p1 "$DEV" $V || ktap_fail_all "vaultctl open"
kill_job_midway
progress=$(cs luksDump "$DEV" 2>/dev/null | grep -c 'crypt$')
"$VAULTCTL" close $V
ktap_check "vaultctl killed mid-run: the header is in re-encryption" \
	eval "cs luksDump $DEV | grep -q online-reencrypt-v2"
ktap_diag "segments in the header when killed: $progress"
cs repair -q --key-file p1 "$DEV" >/dev/null 2>&1
ktap_check "cryptsetup reencrypt --resume-only finishes vaultctl's job" \
	cs reencrypt --resume-only -q --key-file p1 "$DEV"
ktap_check "... and the data reads back through cryptsetup" \
	eval 'cs_read after2 && cmp -s data after2 && no_reencrypt'
shape >shape.cryptsetup
ktap_check "the final metadata vaultctl writes is cryptsetup's (keyslots, digests, segments, config)" \
	cmp -s shape.vaultctl shape.cryptsetup
ktap_diag "vaultctl's final metadata: $(cat shape.vaultctl)"


# --- 2b. vaultctl killed -9, vaultctl --resume-only finishes online ------------
fresh || ktap_fail_all "cryptsetup makes the volume"
"$VAULTCTL" open --key-file p1 "$DEV" $V || ktap_fail_all "vaultctl open"
kill_job_midway
ktap_check "vaultctl --resume-only finishes its killed job online (NAME)" \
	"$VAULTCTL" reencrypt --resume-only --batch-mode --key-file p1 $V
ktap_check "... the mapping reads the data back, then cryptsetup with the new header" \
	eval 'cmp -s -n $DATA data $M && "$VAULTCTL" close $V && cs_read after2b &&
	      cmp -s data after2b && no_reencrypt'

# --- 2c. vaultctl killed with a hotzone held ("reencrypt hold"): a write
# into it waits, the hotzone on disk stays what the checksums describe, and
# --resume-only finishes (the step when the header names the hotzone, a
# release when it does not yet); the write lands and the data reads back
held_case() {
	local point=$1 rc wpid
	fresh || return 1
	cp data expect
	"$VAULTCTL" open --key-file p1 "$DEV" $V || return 1
	VAULT_TEST_CRASH_AT=$point:2 "$VAULTCTL" reencrypt --batch-mode "${FAST[@]}" \
		--key-file p1 --hotzone-size 256K $V 2>held.err
	rc=$?
	ktap_check "$point: vaultctl killed after the 2nd hotzone's $point (exit $rc)" [ $rc = 137 ]
	ktap_check "$point: the mapping's status says the hotzone is held" \
		eval "dmsetup status $V | grep -q 'reencrypt 512 $((DATA / 512)) held'"
	ktap_check "$point: vaultctl status shows the progress" \
		eval "'$VAULTCTL' status $V | grep -q 'reencryption: 512 of $((DATA / 512)) sectors (6.2%), held'"
	# 64 KiB into the held hotzone [256K, 512K)
	head -c 65536 /dev/urandom >hzpatch
	dd if=hzpatch of=expect bs=64k seek=5 conv=notrunc status=none
	dd if=hzpatch of=$M bs=64k seek=5 oflag=direct status=none &
	wpid=$!
	sleep 1
	ktap_check "$point: a write into the held hotzone waits" kill -0 $wpid
	ktap_check "$point: vaultctl --resume-only finishes online" \
		timeout 300 "$VAULTCTL" reencrypt --resume-only --batch-mode --key-file p1 $V
	ktap_check "$point: the held write completed" timeout 60 tail --pid=$wpid -f /dev/null
	ktap_check "$point: every block reads back (with the write), then through cryptsetup" \
		eval 'cmp -s -n $DATA expect $M && "$VAULTCTL" close $V && cs_read after2c &&
		      cmp -s expect after2c && no_reencrypt'
	"$VAULTCTL" close $V 2>/dev/null
	return 0
}
# journal resilience, killed with the second hotzone named and held: the
# mapping closes, cryptsetup repair + --resume-only recover the hotzone
# from vaultctl's journal and finish
journal_case() {
	local rc
	fresh || return 1
	"$VAULTCTL" open --key-file p1 "$DEV" $V || return 1
	VAULT_TEST_CRASH_AT=header:2 "$VAULTCTL" reencrypt --batch-mode "${FAST[@]}" \
		--key-file p1 --resilience journal --hotzone-size 256K $V 2>journal.err
	rc=$?
	ktap_check "journal: vaultctl killed with a hotzone named in the header (exit $rc)" \
		[ $rc = 137 ]
	ktap_check "journal: the header names the hotzone, resilience journal" \
		eval "cs luksDump $DEV | grep -q 'journal' && cs luksDump $DEV | grep -q 'in-reencryption'"
	ktap_check "journal: the mapping with the held hotzone closes" "$VAULTCTL" close $V
	cs repair -q --key-file p1 "$DEV" >/dev/null 2>&1
	ktap_check "journal: cryptsetup reencrypt --resume-only finishes from the journal" \
		cs reencrypt --resume-only -q --key-file p1 "$DEV"
	ktap_check "journal: the data reads back through cryptsetup" \
		eval 'cs_read afterj && cmp -s data afterj && no_reencrypt'
}
journal_case || ktap_fail "journal: set-up"
held_case header || ktap_fail "header: set-up"
held_case hold || ktap_fail "hold: set-up"

ktap_diag "elapsed: $SECONDS s"
# --- 3. cryptsetup interrupted, vaultctl finishes --------------------------------
fresh || ktap_fail_all "cryptsetup makes the volume"
cs reencrypt --init-only -q --key-file p1 "${FAST[@]}" "$DEV" >/dev/null
ktap_check "vaultctl --resume-only finishes cryptsetup's --init-only (offline)" \
	"$VAULTCTL" reencrypt --resume-only --batch-mode --key-file p1 "$DEV"
ktap_check "... and the data reads back through cryptsetup, no requirement left" \
	eval 'cs_read after3 && cmp -s data after3 && no_reencrypt'
ktap_check "... no private mapping left behind" \
	eval '! ls /dev/mapper/ | grep -q vault-reencrypt'

# cryptsetup stopped with a hotzone in flight: the volume seen through a
# stack whose writes past 2 MiB of data fail (dm-flakey error_writes), so its
# third 1 MiB hotzone fails after the header named it (cryptsetup's fatal
# path); then vaultctl finishes on the device itself
fresh || ktap_fail_all "cryptsetup makes the volume"
cs reencrypt --init-only -q --key-file p1 "${FAST[@]}" "$DEV" >/dev/null
ok=$(((16 + MIB / 2) * 2048)); rest=$((MIB / 2 * 2048))
printf '0 %s linear %s 0\n%s %s flakey %s %s 0 3600 1 error_writes\n' \
	$ok "$DEV" $ok $rest "$DEV" $ok | dmsetup create $T-low
cs reencrypt --resume-only -q --key-file p1 --hotzone-size 1M /dev/mapper/$T-low \
	>cs3.out 2>&1
sed 's/^/# cryptsetup: /' cs3.out | head -5
dmsetup remove --retry $T-low
ktap_check "cryptsetup stopped with a hotzone in flight" \
	eval "cs luksDump $DEV | grep -q in-reencryption"
ktap_check "vaultctl --resume-only recovers the hotzone and finishes (offline)" \
	"$VAULTCTL" reencrypt --resume-only --batch-mode --key-file p1 "$DEV"
ktap_check "... and the data reads back through cryptsetup" \
	eval 'cs_read after3b && cmp -s data after3b && no_reencrypt'

ktap_diag "elapsed: $SECONDS s"
# --- 4. tampered metadata -------------------------------------------------------
fresh || ktap_fail_all "cryptsetup makes the volume"
cs reencrypt --init-only -q --key-file p1 "${FAST[@]}" "$DEV" >/dev/null
$CRAFT "$DEV" json 'ks = [v for v in j["keyslots"].values() if v["type"] == "reencrypt"][0]
ks["area"]["hash"] = "sha1"' >/dev/null 2>&1 || $CRAFT "$DEV" json \
	'[v for v in j["keyslots"].values() if v["type"] == "reencrypt"][0]["area"]["hash"] = "sha1"'
sum_data() { dd if="$DEV" bs=1M skip=16 count=$MIB status=none | md5sum; }
before=$(sum_data)
ktap_check "tampered reencryption metadata: refused (the digest does not match)" \
	fails_with 1 'digest does not match' \
	"$VAULTCTL" reencrypt --resume-only --batch-mode --key-file p1 "$DEV"
ktap_check "... and no data moved" \
	[ "$(sum_data)" = "$before" ]

ktap_diag "elapsed: $SECONDS s"
# --- 5. revoke: offline re-encryption of a closed device, and refusals ----------
fresh || ktap_fail_all "cryptsetup makes the volume"
printf 'leaked passphrase' >p2
cs luksAddKey -q "${FAST[@]}" --key-file p1 "$DEV" p2 &&
	cs luksHeaderBackup -q "$DEV" --header-backup-file old.hdr ||
	ktap_fail_all "cryptsetup adds the leaked keyslot and backs up the header"
ktap_check "--resume-only on a volume not in re-encryption: refused" \
	fails_with 1 'not in reencryption' \
	"$VAULTCTL" reencrypt --resume-only --batch-mode --key-file p1 "$DEV"
cp p2 p3
cs luksAddKey -q "${FAST[@]}" --key-file p1 "$DEV" p3 && before=$(cs luksDump "$DEV" | md5sum)
refused_third() {
	fails_with 1 'Remove them first' "$VAULTCTL" revoke --batch-mode "${FAST[@]}" \
		--key-slot 1 --key-file p1 "$DEV" && [ "$(cs luksDump "$DEV" | md5sum)" = "$before" ]
}
ktap_check "revoke with a third keyslot: refused, it says what to do, header unchanged" \
	refused_third
cs luksKillSlot -q "$DEV" 2 </dev/null >/dev/null 2>&1
ktap_check "revoke with the leaked passphrase itself: refused (exit 2)" \
	fails_with 2 'No key available' "$VAULTCTL" revoke --batch-mode "${FAST[@]}" \
	--key-slot 1 --key-file p2 "$DEV"
ktap_check "revoke --key-slot 1 of a closed device (offline re-encryption)" \
	"$VAULTCTL" revoke --batch-mode "${FAST[@]}" --key-slot 1 --key-file p1 "$DEV"
ktap_check "... the data reads back through cryptsetup with the new key, one keyslot" \
	eval 'cs_read after5 && cmp -s data after5 && no_reencrypt'
ktap_check "... the leaked passphrase opens nothing on the device" \
	not cs open --test-passphrase --key-file p2 "$DEV"
cs luksDump -q --header old.hdr --dump-volume-key --key-file p2 --volume-key-file vk.leaked \
	"$DEV" >/dev/null 2>&1
ktap_check "the old header backup + the leaked passphrase still give the old volume key" \
	cmp -s vk.leaked vk.old
ktap_check "... and that key decrypts no 4 KiB block of the device" old_key_reads_nothing data

ktap_diag "elapsed: $SECONDS s"
ktap_finish
