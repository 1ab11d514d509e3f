#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Host-side tests of vaultctl's LUKS2 commands that need no kernel module:
# format, add-key, remove-key, change-key, kill-slot, dump, uuid, is-luks,
# header-backup/-restore, erase, repair, on image files, with cryptsetup as
# the oracle (luksDump, open --test-passphrase, luksAddKey, luksFormat).
# Prints KTAP.  Usage: luks.sh VAULTCTL.  $VALGRIND_CMD prefixes vaultctl.

VAULTCTL=${1:?usage: luks.sh VAULTCTL}
CRAFT="python3 $(cd "$(dirname "$0")/.." && pwd)/luks2/tests/craft.py"
HERE=$(cd "$(dirname "$0")" && pwd)
# damaged-but-checksummed headers: the LUKS2 library's test helper
CRAFT="python3 $HERE/../luks2/tests/craft.py"
. "$HERE/lib.sh"
test_dir luks

if [ "$(id -u)" != 0 ]; then
	# Image files need no root, but cryptsetup's locking and the loop
	# device tests do: keep one environment.
	skp "luks2 host tests" "needs root"
	finish
fi
if ! command -v cryptsetup >/dev/null 2>&1; then
	skp_dep "luks2 host tests" "cryptsetup is not installed"
	finish
fi

ARGON="--pbkdf argon2id --pbkdf-force-iterations 4 --pbkdf-memory 32 --pbkdf-parallel 1"
CS_FAST="--pbkdf pbkdf2 --pbkdf-force-iterations 1000"

# check NAME CONDITION...: ok when the shell condition holds
check() { name=$1; shift; if "$@"; then ok "$name"; else nok "$name"; fi; }
img() { rm -f "$1"; truncate -s "${2:-24M}" "$1"; }
# the passphrase files given as key files to cryptsetup
printf 'first pass' >p1; printf 'second pass' >p2; printf 'third pass' >p3
printf 'wrong pass' >bad
cs_ok() { cs open --test-passphrase --key-file "$2" "$1" >/dev/null 2>&1; }
# cs_no IMG KEYFILE: cryptsetup refuses the passphrase: exit 2, "No key
# available" (any other failure is not a refusal)
cs_no() {
	cs open --test-passphrase --key-file "$2" "$1" >/dev/null 2>cs.err
	[ $? = 2 ] && grep -q 'No key available with this passphrase' cs.err
}
cs_clean() { cs luksDump "$1" >dump.out 2>dump.err && [ ! -s dump.err ]; }
grep_err() { grep -q -- "$1" "$ERR"; }

# --- format ----------------------------------------------------------------
img a.img
vc format $FAST a.img <<EOF
first pass
EOF
check "format from a stdin line" [ "$rc" = 0 ]
check "cryptsetup luksDump of our header is clean" cs_clean a.img
check "cryptsetup accepts the passphrase (newline not part of it)" cs_ok a.img p1
check "defaults: aes-xts-plain64, 512-bit key, 4096-byte sectors" \
	sh -c 'grep -q "cipher: aes-xts-plain64" dump.out && grep -q "sector: 4096" dump.out &&
	       grep -q "Key:        512 bits" dump.out'

before=$(sum a.img)
vc format $FAST a.img <<EOF
x
EOF
check "format refuses a LUKS volume without --force" \
	sh -c "[ $rc = 1 ] && grep -q 'holds a crypto_LUKS signature' $ERR && grep -q -- --force $ERR"
check "refused format changed nothing" sh -c "[ $rc = 1 ] && [ $(sum a.img) = $before ]"
vc format $FAST --batch-mode a.img <<EOF
x
EOF
check "--batch-mode does not override the signature check" [ "$rc" = 1 ]

if command -v mkfs.ext4 >/dev/null 2>&1; then
	img fs.img 24M
	mkfs.ext4 -q -F fs.img >/dev/null 2>&1
	vc format $FAST fs.img <<EOF
x
EOF
	check "format refuses an ext4 filesystem" \
		sh -c "[ $rc = 1 ] && grep -q 'holds a ext4 signature (filesystem)' $ERR"
else
	skp_dep "format refuses an ext4 filesystem" "no mkfs.ext4"
fi
# an MBR with one partition, written by hand (no fdisk needed)
img pt.img 24M
python3 -c '
import struct, sys
mbr = bytearray(512)
mbr[440:444] = b"\x12\x34\x56\x78"
mbr[446:462] = bytes([0, 0x20, 0x21, 0, 0x83, 0x8a, 0x08, 0x02]) + struct.pack("<II", 2048, 20480)
mbr[510:512] = b"\x55\xaa"
with open(sys.argv[1], "r+b") as f:
    f.write(mbr)
' pt.img
vc format $FAST pt.img <<EOF
x
EOF
check "format refuses a partition table" \
	sh -c "[ $rc = 1 ] && grep -q 'holds a dos partition table' $ERR"

old_uuid=$(cs luksUUID a.img)
vc format $ARGON --force --label mylabel --uuid 0123abcd-0000-4000-8000-00000000cafe \
	--sector-size 512 --key-file p1 a.img
check "format --force with argon2id, label, uuid, 512-byte sectors" [ "$rc" = 0 ]
check "cryptsetup sees argon2id, label, uuid and sector size" \
	sh -c 'cryptsetup --disable-locks luksDump a.img >dump.out 2>dump.err && [ ! -s dump.err ] &&
	       grep -q "PBKDF:      argon2id" dump.out && grep -q "Label:.*mylabel" dump.out &&
	       grep -q "sector: 512 \[bytes\]" dump.out'
vc uuid a.img
check "uuid prints the UUID given at format" \
	sh -c "[ $rc = 0 ] && [ \"\$(cat $OUT)\" = 0123abcd-0000-4000-8000-00000000cafe ] &&
	       [ $old_uuid != 0123abcd-0000-4000-8000-00000000cafe ]"
check "a key file is the passphrase, whole (cryptsetup agrees)" cs_ok a.img p1

img m.img 32M
vc format $FAST --luks2-metadata-size 256k --pbkdf pbkdf2 --hash sha512 --key-file p1 \
	--cipher aes-cbc-essiv:sha256 --key-size 256 m.img
check "format with 256 KiB metadata, sha512, aes-cbc-essiv 256" \
	sh -c "[ $rc = 0 ] && cryptsetup --disable-locks luksDump m.img >dump.out 2>dump.err &&
	       [ ! -s dump.err ] && grep -q 'Metadata area: .*262144' dump.out &&
	       grep -q 'cipher: aes-cbc-essiv:sha256' dump.out && grep -q 'Hash:       sha512' dump.out"
check "cryptsetup opens it" cs_ok m.img p1

# --- keys --------------------------------------------------------------------
img k.img
vc format $FAST --key-file p1 k.img
vc add-key $FAST k.img <<EOF
first pass
second pass
EOF
check "add-key with two stdin lines" [ "$rc" = 0 ]
check "cryptsetup accepts the added passphrase" cs_ok k.img p2
check "and still the first" cs_ok k.img p1
vc add-key $FAST --key-file bad k.img p3
check "add-key with a wrong passphrase: exit 2, clear message" \
	sh -c "[ $rc = 2 ] && grep -q 'No key available with this passphrase' $ERR"
check "the failed add-key added nothing" eval "[ $rc = 2 ] && cs_no k.img p3"

cs luksAddKey $CS_FAST --key-file p1 -S 7 k.img p3 >/dev/null 2>&1
vc add-key $FAST --key-file p3 -S 9 k.img bad
check "a passphrase cryptsetup added (slot 7) unlocks for vaultctl" [ "$rc" = 0 ]
check "vaultctl's new keyslot 9 works for cryptsetup" \
	sh -c 'cryptsetup --disable-locks open --test-passphrase -S 9 --key-file bad k.img'

printf 'changed pass' >p2.new
vc change-key $FAST --key-file p2 k.img p2.new
check "change-key" [ "$rc" = 0 ]
check "cryptsetup: old passphrase gone, new one works" eval 'cs_no k.img p2 &&
	cryptsetup --disable-locks open --test-passphrase -S 1 --key-file p2.new k.img'

vc remove-key k.img p3
check "remove-key (passphrase file as argument)" [ "$rc" = 0 ]
check "cryptsetup no longer accepts the removed passphrase" cs_no k.img p3
cs luksRemoveKey --key-file bad k.img >/dev/null 2>&1
vc add-key $FAST --key-file bad k.img p3
check "a passphrase cryptsetup removed no longer unlocks for vaultctl" [ "$rc" = 2 ]

vc kill-slot --batch-mode k.img 1 </dev/null
check "kill-slot --batch-mode" eval "[ $rc = 0 ] && cs_no k.img p2.new"
vc kill-slot k.img 1 --key-file p1
check "kill-slot of a free keyslot is an error" sh -c "[ $rc = 1 ] && grep -q 'not in use' $ERR"
vc kill-slot k.img 0 --key-file bad
check "kill-slot without batch mode needs a valid passphrase" \
	sh -c "[ $rc = 2 ] && cryptsetup --disable-locks open --test-passphrase --key-file p1 k.img"
before=$(sum k.img)
vc remove-key --key-file p1 k.img </dev/null
check "removing the last keyslot needs confirming (no terminal: refused)" \
	sh -c "[ $rc = 1 ] && grep -q 'last usable keyslot' $ERR && [ \$(sha256sum k.img | cut -d' ' -f1) = $before ]"

# --- the terminal: prompts without echo, retries, confirmations ---------------
# script(1) gives vaultctl a pseudo-terminal; what is piped in is "typed".
# It keeps running until its input ends, hence the final sleep is short.
# ontty INPUT ARGS...: runs vaultctl on a terminal; output in $OUT, status in $rc
ontty() {
	input=$1; shift
	# Type only once the first prompt shows: vaultctl turns echo off
	# before it prompts, and what a terminal receives while echo is on
	# is echoed at once, whoever reads it later.
	: >"$OUT"
	{ i=0; while [ $i -lt 300 ] && ! grep -q -e 'Enter' -e 'Are you sure' "$OUT"; do
		sleep 0.1; i=$((i + 1)); done
	  printf '%s' "$input"; sleep 1; } |
		script -qec "$VALGRIND_CMD $VAULTCTL $*; r=\$?; echo; echo rc=\$r" /dev/null >"$OUT" 2>&1
	rc=$(sed -n 's/^rc=\([0-9]*\).*/\1/p' "$OUT" | tail -n 1)
	: >"$ERR"
}
if command -v script >/dev/null 2>&1 && script -qec true /dev/null >/dev/null 2>&1; then
	img y.img
	vc format $FAST --key-file p1 y.img
	ontty 'wrong one
first pass
typed new
typed new
' add-key $FAST y.img
	check "terminal: a wrong passphrase, then the right one, then a verified new one" \
		sh -c "[ '$rc' = 0 ] && [ \$(grep -c 'Enter passphrase for y.img' $OUT) = 2 ] &&
		       grep -q 'No key available' $OUT && grep -q 'Verify passphrase' $OUT"
	check "terminal: nothing typed is echoed" \
		sh -c "! grep -q -e 'first pass' -e 'typed new' -e 'wrong one' $OUT"
	printf 'typed new' >tn
	check "the passphrase added on the terminal works for cryptsetup" cs_ok y.img tn
	ontty 'a
b
c
d
' add-key --tries 3 $FAST y.img
	check "terminal: three wrong passphrases give exit 2 after three prompts" \
		sh -c "[ '$rc' = 2 ] && [ \$(grep -c 'Enter passphrase for y.img' $OUT) = 3 ]"
	ontty 'x
' add-key --tries 1 $FAST y.img
	check "terminal: --tries 1 asks once" \
		sh -c "[ '$rc' = 2 ] && [ \$(grep -c 'Enter passphrase for y.img' $OUT) = 1 ]"
	ontty 'YES
one
two
' format $FAST y.img --force
	check "terminal: format --force still asks YES, then to verify; refuses a mismatch" \
		sh -c "[ '$rc' = 1 ] && grep -q 'do not match' $OUT && cryptsetup --disable-locks open --test-passphrase --key-file p1 y.img"
	before=$(sum y.img)
	ontty 'yes
' format $FAST y.img
	check "terminal: format over a LUKS volume asks; 'yes' is not YES" \
		sh -c "[ '$rc' = 1 ] && grep -q \"Type 'YES'\" $OUT && [ \$(sha256sum y.img | cut -d' ' -f1) = $before ]"
	ontty 'YES
new volume
new volume
' format $FAST y.img
	check "terminal: YES formats it" \
		sh -c "[ '$rc' = 0 ] && [ \$(sha256sum y.img | cut -d' ' -f1) != $before ]"
else
	for c in 1 2 3 4 5 6 7 8; do skp "terminal test $c" "no script(1) or no pseudo-terminal"; done
fi

# --- header commands ------------------------------------------------------------
img h.img
vc format $FAST --key-file p1 h.img
vc header-backup h.img h.backup
check "header-backup" sh -c "[ $rc = 0 ] && [ \$(stat -c %a h.backup) = 600 ]"
vc header-backup h.img h.backup
check "header-backup does not overwrite a file (exit 5)" sh -c "[ $rc = 5 ] && [ -s h.backup ]"
vc erase h.img </dev/null
check "erase without a terminal or --batch-mode is refused" \
	sh -c "[ $rc = 1 ] && cryptsetup --disable-locks open --test-passphrase --key-file p1 h.img"
vc erase --batch-mode h.img
check "erase --batch-mode wipes the keyslots (cryptsetup: exit 1, no usable keyslot)" eval "[ $rc = 0 ] &&
	{ cs open --test-passphrase --key-file p1 h.img 2>cs.err; [ \$? = 1 ]; } &&
	grep -q 'No usable keyslot is available' cs.err"
vc header-restore --batch-mode h.img h.backup
check "header-restore brings the passphrase back" sh -c "[ $rc = 0 ] && cryptsetup --disable-locks open --test-passphrase --key-file p1 h.img"

img o.img
vc format $FAST --key-file p1 o.img
vc header-restore --batch-mode o.img h.backup
check "header-restore over another volume needs --force" \
	sh -c "[ $rc = 5 ] && grep -q 'another UUID' $ERR && grep -q -- --force $ERR"

vc is-luks h.img
r1=$rc
img z.img
vc is-luks z.img
r2=$rc
vc is-luks nonexistent.img
check "is-luks: 0 for LUKS2, 1 for zeros, 4 for no device" [ "$r1.$r2.$rc" = "0.1.4" ]

dd if=/dev/zero of=h.img bs=4096 count=1 conv=notrunc 2>/dev/null
before=$(sum h.img)
vc dump h.img
check "primary header destroyed: dump works from the secondary, with a warning" \
	sh -c "[ $rc = 0 ] && grep -q 'UUID' $OUT && grep -q 'primary header is damaged' $ERR"
check "a read-only command did not write" [ "$(sum h.img)" = "$before" ]
vc repair h.img
check "repair rewrites the primary; cryptsetup luksDump clean" sh -c "[ $rc = 0 ] && grep -q repaired $OUT && cryptsetup --disable-locks luksDump h.img >/dev/null 2>dump.err && [ ! -s dump.err ] && head -c 4 h.img | grep -q LUKS"

# both copies damaged: clear message, exit 1, nothing written
img d.img
vc format $FAST --key-file p1 d.img
printf 'XX' | dd of=d.img bs=1 seek=$((4096 + 10)) conv=notrunc 2>/dev/null
printf 'XX' | dd of=d.img bs=1 seek=$((16384 + 4096 + 10)) conv=notrunc 2>/dev/null
before=$(sum d.img)
vc dump d.img
r1=$rc
vc add-key $FAST --key-file p1 d.img p2
check "both JSON areas damaged: dump and add-key fail with a message" \
	sh -c "[ $r1 = 1 ] && [ $rc = 1 ] && grep -qi 'checksum\|json' $ERR"
check "and the device bytes are unchanged" [ "$(sum d.img)" = "$before" ]

# --- header-restore and repair are deliberate -----------------------------------
img r.img
vc format $FAST --key-file p1 r.img
vc header-backup r.img r.backup
vc add-key $FAST --key-file p1 r.img p2
before=$(sum r.img)
vc header-restore --force r.img r.backup </dev/null
check "header-restore --force still needs the question answered (no terminal: refused)" \
	sh -c "[ $rc = 1 ] && grep -q 'not a terminal' $ERR && [ \$(sha256sum r.img | cut -d' ' -f1) = $before ]"
# same UUID, another layout: the data would move
uuid=$(cs luksUUID r.img)
vc format $FAST --force --uuid "$uuid" --luks2-metadata-size 64k --key-file p1 r.img
before=$(sum r.img)
vc header-restore --batch-mode r.img r.backup
check "header-restore over the same UUID with another layout: exit 5, says so, unchanged" \
	sh -c "[ $rc = 5 ] && grep -q 'another layout' $ERR && [ \$(sha256sum r.img | cut -d' ' -f1) = $before ]"
vc header-restore r.img r.backup </dev/null
check "header-restore checks before it asks: the layout refusal comes first (exit 5, no question)" \
	sh -c "[ $rc = 5 ] && grep -q 'another layout' $ERR && ! grep -q 'not a terminal' $ERR && [ \$(sha256sum r.img | cut -d' ' -f1) = $before ]"
# a backup whose data segment starts at 0, over its own header (detached-header style)
cp r.backup bad.backup
$CRAFT bad.backup json 'j["segments"]["0"]["offset"]="0"' --copies both
img r2.img
before=$(sum r2.img)
vc header-restore --batch-mode r2.img bad.backup
check "header-restore of a backup whose data overlaps its keyslots: refused, unchanged" \
	sh -c "[ $rc = 1 ] && grep -q 'overlap' $ERR && [ \$(sha256sum r2.img | cut -d' ' -f1) = $before ]"
# a damaged copy: read-write commands say so and leave the repair to 'repair'
img q.img
vc format $FAST --key-file p1 q.img
printf 'XX' | dd of=q.img bs=1 seek=$((16384 + 4096 + 10)) conv=notrunc 2>/dev/null
before=$(sum q.img)
vc add-key $FAST --key-file p1 q.img p2
check "add-key with a damaged secondary copy: refused, names the copy and 'vaultctl repair'" \
	sh -c "[ $rc = 1 ] && grep -q 'secondary header is damaged' $ERR && grep -q 'vaultctl repair' $ERR"
check "and wrote nothing (no silent repair)" [ "$(sum q.img)" = "$before" ]
vc repair q.img
check "repair says what it found and fixes it" \
	sh -c "[ $rc = 0 ] && grep -q 'secondary header is damaged' $OUT && grep -q repaired $OUT"
vc add-key $FAST --key-file p1 q.img p2
check "after the repair add-key works" sh -c "[ $rc = 0 ] && cryptsetup open --test-passphrase --key-file p2 q.img"

# --- the device checked is the device written -------------------------------------
# wait_stdin PID: until PID blocks reading its standard input (its prompt)
wait_stdin() {
	i=0
	while [ $i -lt 300 ]; do
		case $(cat /proc/"$1"/syscall 2>/dev/null) in "0 0x0 "*) return 0 ;; esac
		sleep 0.1; i=$((i + 1))
	done
	return 1
}
img s1.img; img s2.img
s2=$(sum s2.img)
ln -sf s1.img s.lnk
rm -f fifo; mkfifo fifo
$VALGRIND_CMD "$VAULTCTL" format $FAST s.lnk 0<>fifo >"$OUT" 2>"$ERR" &
pid=$!
wait_stdin $pid
ln -sf s2.img s.lnk
echo 'first pass' >fifo
wait $pid
rc=$?
check "format: the path re-pointed during the prompt; the checked file is the one formatted" \
	sh -c "[ $rc = 0 ] && cryptsetup open --test-passphrase --key-file p1 s1.img &&
	       [ \$(sha256sum s2.img | cut -d' ' -f1) = $s2 ]"

# --- cryptsetup's volumes -----------------------------------------------------------
img c.img
cs luksFormat -q --type luks2 --pbkdf pbkdf2 --hash sha512 --pbkdf-force-iterations 1000 \
	--key-file p1 c.img >/dev/null 2>&1
vc add-key $FAST --key-file p1 c.img p2
check "cryptsetup luksFormat (pbkdf2 sha512): vaultctl unlocks it and adds a key" \
	sh -c "[ $rc = 0 ] && cryptsetup --disable-locks open --test-passphrase --key-file p2 c.img"
img c2.img
cs luksFormat -q --type luks2 --pbkdf argon2i --pbkdf-force-iterations 4 --pbkdf-memory 32 \
	--key-file p1 -S 5 c2.img >/dev/null 2>&1
vc add-key $FAST --key-file p1 c2.img p2
check "cryptsetup luksFormat (argon2i, slot 5 only): vaultctl unlocks it" [ "$rc" = 0 ]

# --- usable keyslots: the last-keyslot guards and kill-slot's passphrase -------
img u.img
vc format $FAST --key-file p1 u.img
cs luksAddKey --unbound -q --key-size 512 $CS_FAST u.img p2 >/dev/null 2>&1
before=$(sum u.img)
vc remove-key --key-file p1 u.img </dev/null
check "remove-key: the last usable keyslot needs confirming even with an unbound one left" \
	sh -c "[ $rc = 1 ] && grep -q 'last usable keyslot' $ERR && [ \$(sha256sum u.img | cut -d' ' -f1) = $before ]"
vc kill-slot --key-file p1 u.img 0 </dev/null
check "kill-slot: the same for the last usable keyslot" \
	sh -c "[ $rc = 1 ] && grep -q 'last usable keyslot' $ERR && [ \$(sha256sum u.img | cut -d' ' -f1) = $before ]"
vc kill-slot --key-file p1 u.img 1
check "kill-slot of the unbound keyslot, verified by the bound one's passphrase" \
	sh -c "[ $rc = 0 ] && cryptsetup --disable-locks open --test-passphrase --key-file p1 u.img &&
	       cryptsetup --disable-locks luksDump u.img >u.dump && ! grep -q '^  1: luks2' u.dump"

img s.img
vc format $FAST --key-file p1 s.img
vc add-key $FAST --key-file p1 s.img p2
before=$(sum s.img)
cs luksKillSlot --key-file p2 s.img 1 >/dev/null 2>&1
csrc=$?
vc kill-slot --key-file p2 s.img 1
check "kill-slot refuses the killed keyslot's own passphrase: exit 2 like cryptsetup ($csrc)" \
	sh -c "[ $rc = 2 ] && [ $csrc = 2 ] && grep -q 'remaining keyslot' $ERR && [ \$(sha256sum s.img | cut -d' ' -f1) = $before ]"
vc kill-slot -q --key-file bad s.img 1
check "kill-slot -q with --key-file still verifies it (exit 2, nothing killed)" \
	sh -c "[ $rc = 2 ] && [ \$(sha256sum s.img | cut -d' ' -f1) = $before ]"
vc kill-slot -q s.img 1 <<EOF
wrong pass
EOF
check "kill-slot -q verifies a passphrase given on standard input (exit 2)" \
	sh -c "[ $rc = 2 ] && [ \$(sha256sum s.img | cut -d' ' -f1) = $before ]"
vc kill-slot --key-file p1 s.img 1
check "kill-slot with a remaining keyslot's passphrase" \
	sh -c "[ $rc = 0 ] && ! cryptsetup --disable-locks open --test-passphrase --key-file p2 s.img 2>/dev/null &&
	       cryptsetup --disable-locks open --test-passphrase --key-file p1 s.img"

# --- data segments never over the header -----------------------------------------
# a detached header (cryptsetup --header) has its data segment at offset 0
img data.img 8M
rm -f det.hdr det.bak
cs luksFormat -q --type luks2 $CS_FAST --header det.hdr --key-file p1 data.img >/dev/null 2>&1
cs luksHeaderBackup det.hdr --header-backup-file det.bak >/dev/null 2>&1
vc dump det.hdr
check "dump refuses a detached header: segment at offset 0 over the metadata" \
	sh -c "[ $rc = 1 ] && grep -q 'data segment 0 (bytes 0 to the end of the device) overlaps the metadata (bytes 0-32767' $ERR"
img r.img
before=$(sum r.img)
vc header-restore --batch-mode r.img det.bak
check "header-restore of a detached-header backup is refused, the device unchanged" \
	sh -c "[ $rc = 1 ] && grep -q 'det.bak: .*data segment 0 .*overlaps the metadata' $ERR &&
	       [ \$(sha256sum r.img | cut -d' ' -f1) = $before ]"
img g.img
vc format $FAST --key-file p1 g.img
$CRAFT g.img json 'j["segments"]["0"]["offset"]="0"'
before=$(sum g.img)
vc repair g.img
check "repair refuses a header whose segment starts at 0, the device unchanged" \
	sh -c "[ $rc = 1 ] && grep -q 'data segment 0 .*overlaps the metadata' $ERR &&
	       [ \$(sha256sum g.img | cut -d' ' -f1) = $before ]"
vc add-key $FAST --key-file p1 g.img p2
check "add-key refuses it too" sh -c "[ $rc = 1 ] && grep -q 'overlaps the metadata' $ERR"
img g2.img
vc format $FAST --key-file p1 g2.img
$CRAFT g2.img json 'j["segments"]["0"]["offset"]="16384"; j["segments"]["0"]["size"]="4096"'
vc dump g2.img
check "a sized segment inside the second header copy is refused with its offsets" \
	sh -c "[ $rc = 1 ] && grep -q 'data segment 0 (bytes 16384-20479) overlaps the metadata' $ERR"
img g3.img
vc format $FAST --key-file p1 g3.img
$CRAFT g3.img json 'j["segments"]["0"]["offset"]="40960"; j["segments"]["0"]["size"]="4096"'
vc dump g3.img
check "a segment over keyslot 0's area is refused, naming the keyslot" \
	sh -c "[ $rc = 1 ] && grep -q \"data segment 0 (bytes 40960-45055) overlaps keyslot 0's area (bytes 32768-\" $ERR"

# --- dump and uuid show header strings escaped --------------------------------------
img e.img
vc format $FAST --key-file p1 e.img
ESC=$(printf '\033')
BEL=$(printf '\007')
$CRAFT e.img field label "${ESC}]0;owned${BEL}"
$CRAFT e.img field uuid "${ESC}[2J"
$CRAFT e.img json 'j["tokens"]["3"]={"type":"\x1b[31mred\x9b","keyslots":["0"]}; j["config"]["flags"]=["a\x1bb"]'
vc dump e.img
check "dump prints no escape or bell character from the header" \
	sh -c "[ $rc = 0 ] && ! grep -q '$ESC' $OUT && ! grep -q '$BEL' $OUT"
check "dump shows them escaped instead" \
	sh -c "grep -q 'Label:.*\\\\x1b]0;owned\\\\x07' $OUT && grep -q '3: \\\\x1b\\[31mred\\\\xc2\\\\x9b' $OUT &&
	       grep -q 'Flags:.*a\\\\x1bb' $OUT && grep -q 'UUID:.*\\\\x1b\\[2J' $OUT"
vc uuid e.img
check "uuid prints the UUID escaped" sh -c "[ $rc = 0 ] && ! grep -q '$ESC' $OUT && grep -q '^\\\\x1b\\[2J$' $OUT"

# --- names device-mapper reserves ------------------------------------------------------
img n.img
vc format $FAST --key-file p1 n.img
for name in control . .. a/b; do
	vc open --key-file p1 n.img "$name"
	check "open refuses the name '$name' before anything else" \
		sh -c "[ $rc = 1 ] && grep -q \"invalid device name '$name'\" $ERR"
done
vc open --key-file p1 n.img control
check "the message for 'control' says device-mapper reserves it" grep_err "reserved by device-mapper"

# --- Ctrl-C at a passphrase prompt --------------------------------------------------------
if python3 -c 'import pty' 2>/dev/null; then
	img i.img
	vc format $FAST --key-file p1 i.img
	before=$(sum i.img)
	python3 "$HERE/sigint-prompt.py" "$VAULTCTL" add-key $FAST i.img >"$OUT" 2>"$ERR"
	rc=$?
	check "Ctrl-C at the passphrase prompt ends vaultctl at once by SIGINT, echo restored" \
		sh -c "[ $rc = 0 ] && grep -q 'ended by SIGINT' $OUT"
	check "and nothing was written" [ "$(sum i.img)" = "$before" ]
else
	skp "Ctrl-C at the passphrase prompt" "no python3 pty module"
	skp "and nothing was written" "no python3 pty module"
fi

# --- open's checks before any device-mapper work (no module here) ------------
vc open --key-file p1 nonexistent.img name
check "open of a missing device: exit 4" sh -c "[ $rc = 4 ] && grep -q 'does not exist' $ERR"
vc open --cipher aes-cbc-plain --key-file p1 /dev/null name
check "open LUKS2 refuses plain-only options" sh -c "[ $rc = 1 ] && grep -q 'plain mode only' $ERR"
LOOP=
truncate -s 20M loop.img
LOOP=$(losetup -f --show loop.img 2>/dev/null) || LOOP=
if [ -n "$LOOP" ]; then
	vc open --key-file p1 "$LOOP" name
	check "open without --type of a non-LUKS device says to use --type plain" \
		sh -c "[ $rc = 1 ] && grep -q 'not a LUKS2 volume; if its header is detached give it with --header FILE; to map it without a header use --type plain' $ERR"
	vc format $FAST --key-file p1 "$LOOP"
	$CRAFT "$LOOP" json 'j["segments"]["0"]["offset"]="0"'
	before=$(sha256sum <"$LOOP" | cut -d' ' -f1)
	vc open --key-file p1 "$LOOP" name
	check "open refuses a data segment over the header before mapping anything" \
		sh -c "[ $rc = 1 ] && grep -q 'data segment 0 .*overlaps the metadata' $ERR &&
		       [ \$(sha256sum <$LOOP | cut -d' ' -f1) = $before ]"
	losetup -d "$LOOP"
else
	skp "open without --type of a non-LUKS device says to use --type plain" "no loop device"
	skp "open refuses a data segment over the header before mapping anything" "no loop device"
fi

# --- a terminal left raw and locked (plymouth's serial console) -------------
# The prompt cannot turn canonical mode on: it edits the line itself
# (Ctrl-U, Delete) and ends it with a newline.
img tty.img
vc format $FAST --key-file p1 tty.img
PTY_LOCKED_RAW=1 python3 "$HERE/pty-answer.py" "Enter passphrase" 'junk\x15first pasX\x7fs' \
	$VALGRIND_CMD "$VAULTCTL" open --test-passphrase --tries 1 tty.img >"$OUT" 2>&1
rc=$?
check "a raw, locked terminal: the prompt erases (Ctrl-U, Delete) and ends its line" \
	sh -c "[ $rc = 0 ] && grep -q 'Enter passphrase for tty.img: .\$' $OUT"

finish
