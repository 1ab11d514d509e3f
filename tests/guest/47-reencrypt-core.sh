#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Online re-encryption in the target (issue 14, the kernel's part): a table
# with "reencrypt <new_cipher> <new_key> <boundary>" and the message
# "reencrypt step <sectors>".
#   1. oracle: after steps moved the boundary part way, dm-crypt with the
#      NEW key/cipher reads the plaintext below the boundary and dm-crypt
#      with the OLD one reads it above (and each reads garbage on the other
#      side); at the end dm-crypt with the new key reads everything;
#   2. the table re-parses with the boundary it reached; a static-boundary
#      table reads the same; writes and reads crossing the boundary (1 MiB
#      I/O at an unaligned boundary) land on both sides correctly;
#   3. fio verify (writes and reads at unaligned offsets) runs while steps
#      of an odd size move the boundary over the whole device; a verify-only
#      pass afterwards reads every block back;
#   4. key wipe / key set with both keys while suspended; refused messages
#      and table lines, each with its precise reason in the kernel log;
#      status and table never show key bytes;
#   5. failed steps (dm-flakey under vault): failing reads change nothing;
#      failing writes mark the hotzone (its I/O fails with EIO) until the
#      table is loaded again; no oops or warning anywhere;
#   6. a sector size change (new_sector_size:4096 from 512): bad lines
#      refused with their reasons, dm-crypt reads each side with its own
#      sector size, and at the end the lower device equals what dm-crypt
#      writes with the new key and sector_size:4096;
#   7. a read-only table refuses "reencrypt step" (EROFS);
#   8. a step whose writes dm-delay holds: status says "moving", I/O
#      outside the hotzone completes meanwhile, I/O inside it waits until
#      the writes are let go, then reads right;
#   9. "reencrypt hold": hotzone writes wait and the lower device's hotzone
#      stays unchanged until "step <n> held" or "release"; a step held
#      without the matching hold is refused (ESTALE).
# Case pairs: aes-xts-plain64 -> aes-cbc-essiv:sha256 (a cipher change,
# 512-byte sectors), aes-xts-plain64 -> aes-xts-plain64 with 4096-byte
# sectors, an iv_offset and a data offset, and aes-xts-plain64 -> the null cipher
# (decryption in place: the lower device holds plaintext below the
# boundary).
. "${VAULT_REPO:?}/tests/lib/ktap.sh"
. "$VAULT_REPO/tests/lib/oracle.sh"
# KLOG_BAD
. "$VAULT_REPO/tests/lib/kernel-log.sh"
. "$VAULT_REPO/tests/lib/vdev.sh"

vdev_names t47 4

cleanup() {
	local d k
	[ -n "${FIO_PID:-}" ] && kill "$FIO_PID" 2>/dev/null
	for d in $V $T-new $T-old $T-low; do
		dmsetup resume $d >/dev/null 2>&1
		dmsetup remove --retry $d >/dev/null 2>&1
	done
	for k in $T-old $T-new $T-new64 $T-old2; do
		"$VAULTCTL" key remove $k >/dev/null 2>&1
	done
}
ktap_defer cleanup

need_vaultctl
need_cmd dmsetup fio cmp od
vault_setup_module || ktap_fail_all "dm-vault.ko cannot be loaded"
brd_setup 1 $((MIB + 1)) || ktap_fail_all "cannot create a ramdisk"
DEV=/dev/ram0
KLOG0=$(dmesg | wc -l)

head -c 64 /dev/urandom > "$WORK/old"
head -c 32 /dev/urandom > "$WORK/new"
head -c 64 /dev/urandom > "$WORK/new64"
"$VAULTCTL" key add $T-old --key-file "$WORK/old" --key-size 512 &&
"$VAULTCTL" key add $T-new --key-file "$WORK/new" --key-size 256 &&
"$VAULTCTL" key add $T-new64 --key-file "$WORK/new64" --key-size 512 ||
	ktap_fail_all "vaultctl key add"
head -c $((MIB << 20)) /dev/urandom > "$WORK/plain"
head -c $((MIB << 20)) /dev/urandom > "$WORK/plain2"

hex() { od -An -v -tx1 "$1" | tr -d ' \n'; }
write_dev() { dd if="$1" of="$2" bs=1M oflag=direct conv=fsync status=none; }
reenc_status() { dmsetup status $V | awk '{ print $5, $6, $7, $8 }'; }
# same_range FILE DEV FIRST COUNT: sectors [FIRST, FIRST+COUNT) equal
same_range() {
	cmp -s -n $(($4 * 512)) -i $(($3 * 512)) "$1" "$2"
}
# differs_range FILE DEV FIRST COUNT: no 512-byte sector of the range equal
differs_range() {
	python3 - "$@" <<'EOF'
import sys
f, d, first, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
with open(f, "rb") as a, open(d, "rb") as b:
    a.seek(first * 512); b.seek(first * 512)
    x, y = a.read(count * 512), b.read(count * 512)
same = sum(x[i:i + 512] == y[i:i + 512] for i in range(0, len(x), 512))
sys.exit(1 if same or len(x) != count * 512 else 0)
EOF
}

# crypt_map NAME CIPHER KEYFILE IVOFF OFF SS: read-only dm-crypt over DEV
crypt_map() {
	local line
	line="0 $LEN crypt $2 $(hex "$3") $4 $DEV $5"
	[ "$6" != 512 ] && line+=" 1 sector_size:$6"
	dmsetup create "$1" --readonly --table "$line"
}

# oracle_split DESC FILE BOUNDARY NEWCIPHER NEWKEY OLDCIPHER IVOFF OFF SS
oracle_split() {
	local desc=$1 file=$2 b=$3 nc=$4 nk=$5 oc=$6 ivoff=$7 off=$8 ss=$9
	oracle_flush $M $DEV
	crypt_map $T-new "$nc" "$nk" "$ivoff" "$off" "$ss" &&
	crypt_map $T-old "$oc" "$WORK/old" "$ivoff" "$off" "$ss" ||
		{ ktap_fail "$desc: dm-crypt mappings"; return; }
	if [ "$b" -gt 0 ]; then
		ktap_check "$desc: dm-crypt, new key, reads [0, $b)" \
			same_range "$file" /dev/mapper/$T-new 0 "$b"
		ktap_check "$desc: dm-crypt, old key, reads garbage in [0, $b)" \
			differs_range "$file" /dev/mapper/$T-old 0 "$b"
	fi
	if [ "$b" -lt $LEN ]; then
		ktap_check "$desc: dm-crypt, old key, reads [$b, $LEN)" \
			same_range "$file" /dev/mapper/$T-old "$b" $((LEN - b))
		ktap_check "$desc: dm-crypt, new key, reads garbage in [$b, $LEN)" \
			differs_range "$file" /dev/mapper/$T-new "$b" $((LEN - b))
	fi
	dmsetup remove $T-new
	dmsetup remove $T-old
}

# ---- 1-2. steps, oracle, static boundary, crossing I/O
# run_case NAME NEWCIPHER NEWKEYNAME NEWKEYFILE IVOFF OFF SS STEP
run_case() {
	local name=$1 nc=$2 nkn=$3 nkf=$4 ivoff=$5 off=$6 ss=$7 step=$8
	local opts=4 b want line t0=$SECONDS
	[ "$ss" != 512 ] && opts=5
	line="0 $LEN vault aes-xts-plain64 key:$T-old $ivoff $DEV $off $opts"
	[ "$ss" != 512 ] && line+=" sector_size:$ss"

	dmsetup create $V --table "$line reencrypt $nc key:$nkn 0" ||
		{ ktap_fail "$name: dmsetup create"; return; }
	ktap_check "$name: status at boundary 0" \
		[ "$(reenc_status)" = "reencrypt 0 $LEN idle" ]
	write_dev "$WORK/plain" $M
	for b in $step $((2 * step)) $((3 * step)); do
		want="$b $LEN idle"
		ktap_check "$name: step to $b replies '$want'" \
			[ "$(dmsetup message $V 0 reencrypt step "$step")" = "$want" ]
	done
	b=$((3 * step))
	ktap_check "$name: status after 3 steps" \
		[ "$(reenc_status)" = "reencrypt $b $LEN idle" ]
	ktap_check "$name: reads back through vault" same_range "$WORK/plain" $M 0 $LEN
	oracle_split "$name, boundary $b" "$WORK/plain" $b "$nc" "$nkf" \
		aes-xts-plain64 "$ivoff" "$off" "$ss"
	ktap_check "$name: table re-parses with the boundary reached" \
		grep -q " reencrypt $nc key:$nkn $b\$" <<<"$(dmsetup table $V)"

	# the table as reported, loaded again: a static boundary
	line=$(dmsetup table $V)
	dmsetup remove $V
	dmsetup create $V --table "$line" ||
		{ ktap_fail "$name: re-create from dmsetup table"; return; }
	ktap_check "$name: static boundary $b reads back" \
		same_range "$WORK/plain" $M 0 $LEN
	# 1 MiB writes and reads that cross the boundary (unaligned to 1 MiB)
	write_dev "$WORK/plain2" $M
	ktap_check "$name: 1 MiB I/O across the boundary reads back" \
		same_range "$WORK/plain2" $M 0 $LEN
	oracle_split "$name, writes across $b" "$WORK/plain2" $b "$nc" "$nkf" \
		aes-xts-plain64 "$ivoff" "$off" "$ss"

	# to the end in one large step, then a step past the end is a no-op
	ktap_check "$name: step to the end" \
		[ "$(dmsetup message $V 0 reencrypt step $LEN)" = "$LEN $LEN idle" ]
	ktap_check "$name: a step past the end changes nothing" \
		[ "$(dmsetup message $V 0 reencrypt step "$step")" = "$LEN $LEN idle" ]
	ktap_check "$name: reads back after the last step" \
		same_range "$WORK/plain2" $M 0 $LEN
	oracle_split "$name, done" "$WORK/plain2" $LEN "$nc" "$nkf" \
		aes-xts-plain64 "$ivoff" "$off" "$ss"
	dmsetup remove $V
	ktap_diag "$name: $((SECONDS - t0)) s"
}

#        name   new cipher            new key  key file       ivoff off ss   step
run_case essiv  aes-cbc-essiv:sha256  $T-new   "$WORK/new"    0     0   512  1000
run_case xts-4k aes-xts-plain64       $T-new64 "$WORK/new64"  64    16  4096 1536

# decryption in place: the new side is the null cipher with the empty key,
# so below the boundary the lower device holds the plaintext itself
t0=$SECONDS
dmsetup create $V --table \
	"0 $LEN vault aes-xts-plain64 key:$T-old 0 $DEV 0 4 reencrypt capi:ecb(cipher_null)-plain64 - 0" ||
	ktap_fail_all "decrypt: dmsetup create"
write_dev "$WORK/plain" $M
dmsetup message $V 0 reencrypt step 2048 >/dev/null
ktap_check "decrypt: two steps" \
	[ "$(dmsetup message $V 0 reencrypt step 2048)" = "4096 $LEN idle" ]
ktap_check "decrypt: reads back through vault" same_range "$WORK/plain" $M 0 $LEN
oracle_flush $M $DEV
ktap_check "decrypt: the lower device holds the plaintext below the boundary" \
	same_range "$WORK/plain" $DEV 0 4096
ktap_check "decrypt: ... and no plaintext sector above it" \
	differs_range "$WORK/plain" $DEV 4096 $((LEN - 4096))
crypt_map $T-old aes-xts-plain64 "$WORK/old" 0 0 512 &&
ktap_check "decrypt: dm-crypt, old key, reads above the boundary" \
	same_range "$WORK/plain" /dev/mapper/$T-old 4096 $((LEN - 4096))
dmsetup remove $T-old
dmsetup remove $V
ktap_diag "decrypt: $((SECONDS - t0)) s"

# ---- 3. fio verify while steps move the boundary
FIO_ARGS=(--name=reenc "--filename=$M" --ioengine=libaio --direct=1
	  --rw=randwrite --bssplit=4k/40:16k/30:64k/30 --iodepth=8
	  --size=$((MIB << 20)) --verify=crc32c --verify_fatal=1
	  --verify_state_save=0 --randseed=4747)
t0=$SECONDS
dmsetup create $V --table \
	"0 $LEN vault aes-xts-plain64 key:$T-old 0 $DEV 0 4 reencrypt aes-cbc-essiv:sha256 key:$T-new 0" ||
	ktap_fail_all "fio: dmsetup create"
# verify_backlog: blocks are read back and checked while writing goes on
timeout 120 fio "${FIO_ARGS[@]}" --do_verify=1 --verify_backlog=32 --rate=2m \
	--output="$WORK/fio.out" >/dev/null 2>"$WORK/fio.err" &
FIO_PID=$!
steps=0
while kill -0 $FIO_PID 2>/dev/null; do
	out=$(dmsetup message $V 0 reencrypt step 680) ||
		{ ktap_fail "fio: step failed: $out"; break; }
	steps=$((steps + 1))
	[ "${out%% *}" = $LEN ] && break
done
ktap_diag "fio: $steps steps while fio ran, now at $(reenc_status)"
wait $FIO_PID
rc=$?
FIO_PID=
[ $rc = 0 ] || tail -n 20 "$WORK/fio.out" "$WORK/fio.err" | ktap_diag_stream
ktap_check "fio: verify passed while the boundary moved (exit $rc)" [ $rc = 0 ]
ktap_check "fio: steps were taken while fio ran" [ $steps -ge 3 ]
while out=$(dmsetup message $V 0 reencrypt step 8192) && [ "${out%% *}" != $LEN ]; do :; done
ktap_check "fio: boundary at the end" [ "$(reenc_status)" = "reencrypt $LEN $LEN idle" ]
timeout 120 fio "${FIO_ARGS[@]}" --verify_only --output="$WORK/fio2.out" \
	>/dev/null 2>"$WORK/fio2.err"
rc=$?
[ $rc = 0 ] || tail -n 20 "$WORK/fio2.out" "$WORK/fio2.err" | ktap_diag_stream
ktap_check "fio: every block verifies after re-encryption (exit $rc)" [ $rc = 0 ]
dd if=$M of="$WORK/fio-image" bs=1M iflag=direct status=none
oracle_split "fio" "$WORK/fio-image" $LEN aes-cbc-essiv:sha256 "$WORK/new" \
	aes-xts-plain64 0 0 512
dmsetup remove $V
ktap_diag "fio: $((SECONDS - t0)) s"

# ---- 4. keys, refused messages and table lines (and 6-8 below use these)
# The kernel log is followed by a background reader of /dev/kmsg and read
# with bash builtins: process start-up dominates under TCG.
cat /dev/kmsg > "$WORK/kmsg" 2>/dev/null &
ktap_defer kill $!
KL=()
klog_read() { mapfile -t KL < "$WORK/kmsg"; }
# refused WHY ERRNO CMD...: CMD fails saying ERRNO; within 3 s the kernel
# log gains a line matching WHY
refused() {
	local why=$1 errno=$2
	shift 2
	klog_read
	KL_MARK=${#KL[@]}
	fails_with 1 "$errno" timeout 30 "$@" || return 1
	klog_gained "$why"
}
# klog_gained WHY: within 3 s the kernel log gains (from KL_MARK) a line matching WHY
klog_gained() {
	local i j
	for ((i = 0; i < 30; i++)); do
		klog_read
		for ((j = KL_MARK; j < ${#KL[@]}; j++)); do
			[[ ${KL[j]} =~ $1 ]] && return 0
		done
		read -r -t 0.1 <> <(:) 2>/dev/null
	done
	ktap_diag "the kernel log does not say why (/$1/)"
	return 1
}
# logged WHY CMD...: CMD succeeds and the kernel log gains a line matching WHY
logged() {
	local why=$1
	shift
	klog_read
	KL_MARK=${#KL[@]}
	timeout 30 "$@" >/dev/null || return 1
	klog_gained "$why"
}
EINVAL='Invalid argument'
BASE="0 $LEN vault aes-xts-plain64 key:$T-old 0 $DEV 0"
# bad_line WHY LINE: dmsetup create refused, the reason logged
bad_line() {
	refused "vault: .*$1" "$EINVAL|failed" dmsetup create $T-bad --table "$2" &&
		! dmsetup info $T-bad >/dev/null 2>&1 && return 0
	dmsetup remove $T-bad >/dev/null 2>&1
	return 1
}
# bad_table WHY OPTS...: the same for BASE with optional arguments OPTS
bad_table() {
	local why=$1
	shift
	bad_line "$why" "$BASE $*"
}
ktap_check "table: reencrypt without its arguments" \
	bad_table "reencrypt takes three arguments" 2 reencrypt aes-xts-plain64
ktap_check "table: boundary not a number" \
	bad_table "Invalid reencrypt boundary" 4 reencrypt aes-xts-plain64 key:$T-new64 x
ktap_check "table: boundary beyond the end" \
	bad_table "boundary beyond the end" 4 reencrypt aes-xts-plain64 key:$T-new64 $((LEN + 8))
ktap_check "table: boundary not a multiple of sector_size" \
	bad_table "not a multiple of sector_size" 5 sector_size:4096 reencrypt aes-xts-plain64 key:$T-new64 7
ktap_check "table: new key not loaded" \
	bad_table "Key not found" 4 reencrypt aes-xts-plain64 key:$T-nosuch 0
ktap_check "table: new key as hex bytes" \
	bad_table "Keys are not accepted on the table line" 4 reencrypt aes-xts-plain64 "$(hex "$WORK/new64")" 0
ktap_check "table: new key of the wrong size for the new cipher" \
	bad_table "Key does not fit the cipher" 4 reencrypt aes-cbc-essiv:sha256 key:$T-new64 0
ktap_check "table: bad new cipher" \
	bad_table "IV mechanism required" 4 reencrypt aes-cbc key:$T-new 0
ktap_check "table: reencrypt given twice" \
	bad_table "reencrypt given twice" 8 reencrypt aes-xts-plain64 key:$T-new64 0 reencrypt aes-xts-plain64 key:$T-new64 0

dmsetup create $V --table "$BASE" || ktap_fail_all "dmsetup create (plain table)"
ktap_check "message: reencrypt step on a table that does not re-encrypt" \
	refused "does not re-encrypt" "$EINVAL" dmsetup message $V 0 reencrypt step 8
dmsetup remove $V
dmsetup create $V --table "$BASE 5 sector_size:4096 reencrypt aes-cbc-essiv:sha256 key:$T-new 0" ||
	ktap_fail_all "dmsetup create (reencrypt table)"
write_dev "$WORK/plain" $M
ktap_check "message: step of 0 sectors" \
	refused "expected a positive number" "$EINVAL" dmsetup message $V 0 reencrypt step 0
ktap_check "message: step not a number" \
	refused "expected a positive number" "$EINVAL" dmsetup message $V 0 reencrypt step 1x
ktap_check "message: step not a multiple of sector_size" \
	refused "not a multiple of sector_size" "$EINVAL" dmsetup message $V 0 reencrypt step 12
ktap_check "message: step above the largest hotzone" \
	refused "above the largest hotzone" "$EINVAL" dmsetup message $V 0 reencrypt step 1000000000
ktap_check "message: unknown reencrypt message" \
	refused "unrecognised message" "$EINVAL" dmsetup message $V 0 reencrypt frob
ktap_check "message: step 2048" \
	[ "$(dmsetup message $V 0 reencrypt step 2048)" = "2048 $LEN idle" ]
ktap_check "message: reencrypt status" \
	[ "$(dmsetup message $V 0 reencrypt status)" = "2048 $LEN idle" ]
ktap_check "suspend" dmsetup suspend $V
ktap_check "message: step while suspended" \
	refused "suspended: resume it first" "Device or resource busy" \
	dmsetup message $V 0 reencrypt step 8
ktap_check "key wipe wipes both keys" dmsetup message $V 0 key wipe
ktap_check "status: key_wiped" [ "$(dmsetup status $V | awk '{ print $4 }')" = key_wiped ]
ktap_check "key set with one key refused on a re-encrypting table" \
	refused "takes two keys" "$EINVAL" dmsetup message $V 0 key set key:$T-old
ktap_check "key set with the keys swapped refused (sizes differ)" \
	refused "Key size differs" "$EINVAL" dmsetup message $V 0 key set key:$T-new key:$T-old
ktap_check "resume refused while wiped" not dmsetup resume $V
ktap_check "key set key:old key:new" dmsetup message $V 0 key set key:$T-old key:$T-new
ktap_check "resume" dmsetup resume $V
ktap_check "both keys work again: reads back" same_range "$WORK/plain" $M 0 $LEN
oracle_split "after key wipe/set" "$WORK/plain" 2048 aes-cbc-essiv:sha256 \
	"$WORK/new" aes-xts-plain64 0 0 4096
ktap_check "table and status hold no key bytes" \
	not grep -qiE "$(hex "$WORK/old")|$(hex "$WORK/new")" \
	<<<"$(dmsetup table --showkeys $V; dmsetup status $V)"
dmsetup remove $V

# ---- 5. a step that fails: before writing (lower reads fail: nothing
# changes), after (lower writes fail: the hotzone's I/O fails, steps are
# refused, until the table is loaded again)
LOW=$T-low
LINEAR="0 $LEN linear $DEV 0"
dmsetup create $LOW --table "$LINEAR" || ktap_fail_all "dmsetup create $LOW"
dmsetup create $V --table \
	"0 $LEN vault aes-xts-plain64 key:$T-old 0 /dev/mapper/$LOW 0 4 reencrypt aes-cbc-essiv:sha256 key:$T-new 0" ||
	ktap_fail_all "dmsetup create over $LOW"
write_dev "$WORK/plain" $M
ktap_check "failures: step 2048" \
	[ "$(dmsetup message $V 0 reencrypt step 2048)" = "2048 $LEN idle" ]
ktap_check "failures: lower device fails all I/O (dm-flakey)" \
	swap_lower $V $LOW "0 $LEN flakey $DEV 0 0 3600"
ktap_check "failures: step whose reads fail is refused (EIO, nothing changed)" \
	refused "failed \(-5\) before writing: nothing changed" "Input/output error" \
	dmsetup message $V 0 reencrypt step 2048
ktap_check "failures: status still at 2048, idle" \
	[ "$(reenc_status)" = "reencrypt 2048 $LEN idle" ]
ktap_check "failures: lower device fails writes only (dm-flakey error_writes)" \
	swap_lower $V $LOW "0 $LEN flakey $DEV 0 0 3600 1 error_writes"
ktap_check "failures: step whose writes fail (EIO, the hotzone is marked)" \
	refused "may hold sectors under either key" "Input/output error" \
	dmsetup message $V 0 reencrypt step 2048
ktap_check "failures: status says failed at 2048" \
	[ "$(reenc_status)" = "reencrypt 2048 $LEN failed" ]
ktap_check "failures: reads in the hotzone fail with EIO" \
	fails_eio timeout 30 dd if=$M of=/dev/null bs=4k skip=300 count=1 iflag=direct
ktap_check "failures: a further step is refused" \
	refused "an earlier step failed" "Input/output error" \
	dmsetup message $V 0 reencrypt step 2048
ktap_check "failures: lower device back to linear" swap_lower $V $LOW "$LINEAR"
ktap_check "failures: reads below the hotzone work (new key)" \
	same_range "$WORK/plain" $M 0 2048
ktap_check "failures: reads above the hotzone work (old key)" \
	same_range "$WORK/plain" $M 4096 $((LEN - 4096))
line=$(dmsetup table $V)
dmsetup remove $V
ktap_check "failures: the table loaded again (boundary 2048)" \
	dmsetup create $V --table "$line"
ktap_check "failures: everything reads back (the failed writes changed nothing)" \
	same_range "$WORK/plain" $M 0 $LEN
ktap_check "failures: steps work again" \
	[ "$(dmsetup message $V 0 reencrypt step 4096)" = "6144 $LEN idle" ]
ktap_check "failures: reads back after the step" same_range "$WORK/plain" $M 0 $LEN
dmsetup remove $V
dmsetup remove $LOW

# ---- 6. a sector size change: the new side uses new_sector_size
# (cryptsetup reencrypt --sector-size: each LUKS2 segment has its own size,
# the IV still counts 512-byte sectors)
NEWSS_RE="reencrypt aes-xts-plain64 key:$T-new64"
ktap_check "table: new_sector_size without reencrypt" \
	bad_table "new_sector_size is valid only with reencrypt" 1 new_sector_size:4096
ktap_check "table: new_sector_size not a power of two" \
	bad_table "Invalid new_sector_size: a power of two from 512 to 4096" \
	5 $NEWSS_RE 0 new_sector_size:768
ktap_check "table: new_sector_size above 4096" \
	bad_table "Invalid new_sector_size: a power of two from 512 to 4096" \
	5 $NEWSS_RE 0 new_sector_size:8192
ktap_check "table: new_sector_size given twice" \
	bad_table "new_sector_size given twice" \
	6 new_sector_size:4096 $NEWSS_RE 0 new_sector_size:4096
ktap_check "table: boundary not a multiple of new_sector_size" \
	bad_table "boundary is not a multiple of new_sector_size" \
	5 $NEWSS_RE 1028 new_sector_size:4096
ktap_check "table: length not a multiple of new_sector_size" \
	bad_line "Device length is not a multiple of new_sector_size" \
	"0 $((LEN - 4)) vault aes-xts-plain64 key:$T-old 0 $DEV 0 5 $NEWSS_RE 0 new_sector_size:4096"
ktap_check "table: iv_offset not a multiple of new_sector_size" \
	bad_line "Invalid iv_offset: not a multiple of new_sector_size" \
	"0 $LEN vault aes-xts-plain64 key:$T-old 4 $DEV 0 5 $NEWSS_RE 0 new_sector_size:4096"

# One case, 512 -> 4096 (the way the unit grows; the code is the same both
# ways round, and 47 must stay short)
ss_case() {
	local name="ss 512->4096" line b t0=$SECONDS
	dmsetup create $V --table \
		"0 $LEN vault aes-xts-plain64 key:$T-old 0 $DEV 0 5 $NEWSS_RE 0 new_sector_size:4096" ||
		{ ktap_fail "$name: dmsetup create"; return; }
	ktap_check "$name: logical block size is the larger one" \
		[ "$(blockdev --getss $M)" = 4096 ]
	ktap_check "$name: the table shows new_sector_size:4096" \
		grep -q " $NEWSS_RE 0 new_sector_size:4096\$" <<<"$(dmsetup table $V)"
	write_dev "$WORK/plain" $M
	ktap_check "$name: step not a multiple of new_sector_size refused" \
		refused "not a multiple of new_sector_size" "$EINVAL" \
		dmsetup message $V 0 reencrypt step 1540
	b=3072
	ktap_check "$name: a step reaches $b" \
		[ "$(dmsetup message $V 0 reencrypt step $b)" = "$b $LEN idle" ]
	ktap_check "$name: reads back through vault" same_range "$WORK/plain" $M 0 $LEN
	oracle_flush $M $DEV
	crypt_map $T-new aes-xts-plain64 "$WORK/new64" 0 0 4096 &&
	crypt_map $T-old aes-xts-plain64 "$WORK/old" 0 0 512 &&
	ktap_check "$name: dm-crypt, new key, sector_size:4096, reads [0, $b)" \
		same_range "$WORK/plain" /dev/mapper/$T-new 0 $b &&
	ktap_check "$name: dm-crypt, old key, 512-byte sectors, reads [$b, $LEN)" \
		same_range "$WORK/plain" /dev/mapper/$T-old $b $((LEN - b)) ||
		ktap_fail "$name: dm-crypt oracle"
	dmsetup remove $T-new
	dmsetup remove $T-old

	# the reported table re-parses to the same mapping
	line=$(dmsetup table $V)
	dmsetup remove $V
	dmsetup create $V --table "$line" ||
		{ ktap_fail "$name: re-create from dmsetup table"; return; }
	ktap_check "$name: re-created table reports the same line" \
		[ "$(dmsetup table $V)" = "$line" ]
	ktap_check "$name: step to the end" \
		[ "$(dmsetup message $V 0 reencrypt step $LEN)" = "$LEN $LEN idle" ]
	ktap_check "$name: reads back after the last step" \
		same_range "$WORK/plain" $M 0 $LEN
	dmsetup remove $V

	# the lower device holds what dm-crypt writes with sector_size:4096
	dd if=$DEV of="$WORK/raw-vault" bs=1M count=$MIB iflag=direct status=none
	dmsetup create $T-new --table \
		"0 $LEN crypt aes-xts-plain64 $(hex "$WORK/new64") 0 $DEV 0 1 sector_size:4096" &&
		write_dev "$WORK/plain" /dev/mapper/$T-new &&
		dmsetup remove $T-new
	ktap_check "$name: ciphertext equals dm-crypt's (sector_size:4096, new key)" \
		cmp -s -n $((MIB << 20)) "$WORK/raw-vault" $DEV
	ktap_diag "$name: $((SECONDS - t0)) s"
}
ss_case

# ---- 7. a read-only table: reads work, a step (which writes) is refused
dmsetup create $V --readonly --table "$BASE 4 reencrypt aes-cbc-essiv:sha256 key:$T-new 0" ||
	ktap_fail_all "dmsetup create --readonly"
ktap_check "read-only: reads work" \
	dd if=$M of=/dev/null bs=4k count=16 iflag=direct status=none
ktap_check "read-only: reencrypt step refused (EROFS, the reason logged)" \
	refused "reencrypt step: refused on a read-only table" "Read-only file system" \
	dmsetup message $V 0 reencrypt step 8
ktap_check "read-only: reencrypt status works, nothing moved" \
	[ "$(dmsetup message $V 0 reencrypt status)" = "0 $LEN idle" ]
dmsetup remove $V

# ---- 8. while a step moves: status says "moving", I/O outside the
# hotzone completes, I/O inside it waits and then returns the right data.
# The step's writes are held by dm-delay (reads are not delayed) until the
# test releases them, by replacing the delay table (its suspend sends the
# delayed bios down at once): no timing assumption.
us() { echo "${EPOCHREALTIME/./}"; }
HZ0=2048 HZ=4096
dmsetup create $LOW --table "$LINEAR" || ktap_fail_all "dmsetup create $LOW"
dmsetup create $V --table \
	"0 $LEN vault aes-xts-plain64 key:$T-old 0 /dev/mapper/$LOW 0 4 reencrypt aes-cbc-essiv:sha256 key:$T-new $HZ0" ||
	ktap_fail_all "moving: dmsetup create"
write_dev "$WORK/plain" $M
modprobe dm-delay 2>/dev/null
if ! swap_lower $V $LOW "0 $LEN delay $DEV 0 0 $DEV 0 60000"; then
	ktap_fail "moving: lower device's writes held by dm-delay"
else
	t_step=$(us)
	dmsetup message $V 0 reencrypt step $HZ > "$WORK/step.out" &
	STEP_PID=$!
	for ((i = 0; i < 200; i++)); do
		[ "$(reenc_status)" = "reencrypt $HZ0 $LEN moving" ] && break
		read -r -t 0.05 <> <(:) 2>/dev/null
	done
	ktap_check "moving: dmsetup status says moving" \
		[ "$(reenc_status)" = "reencrypt $HZ0 $LEN moving" ]
	ktap_check "moving: reencrypt status says moving" \
		[ "$(dmsetup message $V 0 reencrypt status)" = "$HZ0 $LEN moving" ]
	# a read in the hotzone, started first, then reads either side of it
	(dd if=$M of="$WORK/hz" bs=4k skip=$(((HZ0 + 1024) / 8)) count=64 \
		iflag=direct status=none; us > "$WORK/hz.t") &
	HZ_PID=$!
	t0=$(us)
	timeout 60 dd if=$M of="$WORK/below" bs=4k skip=64 count=64 \
		iflag=direct status=none
	timeout 60 dd if=$M of="$WORK/above" bs=4k skip=$(((HZ0 + HZ + 256) / 8)) \
		count=64 iflag=direct status=none
	t1=$(us)
	ktap_check "moving: the step still moves after the reads outside" \
		[ "$(reenc_status)" = "reencrypt $HZ0 $LEN moving" ]
	ktap_check "moving: the read in the hotzone still waits" \
		kill -0 $HZ_PID
	t2=$(us)
	# release the step's writes
	dmsetup reload $LOW --table "$LINEAR" && dmsetup resume $LOW
	wait $STEP_PID
	step_rc=$?
	t_end=$(us)
	wait $HZ_PID
	ktap_diag "moving: reads outside took $(((t1 - t0) / 1000)) ms; the step $(((t_end - t_step) / 1000)) ms, released after $(((t2 - t_step) / 1000)) ms"
	ktap_check "moving: the step completed once its writes went down" \
		[ $step_rc = 0 ] && [ "$(cat "$WORK/step.out")" = "$((HZ0 + HZ)) $LEN idle" ]
	ktap_check "moving: the hotzone read returned only after the release" \
		[ "$(cat "$WORK/hz.t")" -gt "$t2" ]
	ktap_check "moving: reads below the hotzone return the right data" \
		cmp -s -n $((64 * 4096)) -i $((64 * 4096)):0 "$WORK/plain" "$WORK/below"
	ktap_check "moving: reads above the hotzone return the right data" \
		cmp -s -n $((64 * 4096)) -i $(((HZ0 + HZ + 256) * 512)):0 "$WORK/plain" "$WORK/above"
	ktap_check "moving: the held hotzone read returns the right data" \
		cmp -s -n $((64 * 4096)) -i $(((HZ0 + 1024) * 512)):0 "$WORK/plain" "$WORK/hz"
	ktap_check "moving: everything reads back" same_range "$WORK/plain" $M 0 $LEN
fi
dmsetup remove $V
dmsetup remove $LOW

# ---- 9. "reencrypt hold": hotzone I/O waits from the hold (before the
# caller reads the data its checksums protect) until "step ... held" or
# "release"; the lower device's hotzone does not change meanwhile.
dmsetup create $V --table "$BASE 4 reencrypt aes-cbc-essiv:sha256 key:$T-new 0" ||
	ktap_fail_all "hold: dmsetup create"
write_dev "$WORK/plain" $M
cp "$WORK/plain" "$WORK/expect"
dd if=$DEV of="$WORK/raw0" bs=1M count=1 iflag=direct status=none
# hold_write SECTOR: write 64 KiB of plain2 there in the background
hold_write() {
	dd if="$WORK/plain2" of="$WORK/expect" bs=512 skip="$1" seek="$1" count=128 \
		conv=notrunc status=none
	dd if="$WORK/plain2" of=$M bs=512 skip="$1" seek="$1" count=128 \
		oflag=direct status=none &
	HW_PID=$!
}
ktap_check "hold: hold 2048 replies held" \
	[ "$(dmsetup message $V 0 reencrypt hold 2048)" = "0 $LEN held" ]
ktap_check "hold: dmsetup status says held" [ "$(reenc_status)" = "reencrypt 0 $LEN held" ]
hold_write 512
ktap_check "hold: I/O above the hotzone completes" \
	timeout 60 dd if="$WORK/plain" of=$M bs=4k skip=1024 seek=1024 count=16 \
	oflag=direct status=none
read -r -t 0.5 <> <(:) 2>/dev/null
ktap_check "hold: a write in the hotzone waits" kill -0 $HW_PID
ktap_check "hold: the lower device's hotzone is unchanged" \
	cmp -s -n $((1 << 20)) "$WORK/raw0" $DEV
ktap_check "hold: holding the same hotzone again is accepted" \
	[ "$(dmsetup message $V 0 reencrypt hold 2048)" = "0 $LEN held" ]
ktap_check "hold: holding another size is refused (EBUSY)" \
	refused "are held; step or release" "Device or resource busy" \
	dmsetup message $V 0 reencrypt hold 4096
ktap_check "hold: step of another size, held, is refused (ESTALE)" \
	refused "not the held hotzone" "Stale file handle" \
	dmsetup message $V 0 reencrypt step 4096 held
ktap_check "hold: step 2048 held moves the held hotzone" \
	[ "$(dmsetup message $V 0 reencrypt step 2048 held)" = "2048 $LEN idle" ]
ktap_check "hold: the held write completed after the step" \
	timeout 60 tail --pid=$HW_PID -f /dev/null
ktap_check "hold: step held with no hold is refused (ESTALE)" \
	refused "not the held hotzone" "Stale file handle" \
	dmsetup message $V 0 reencrypt step 2048 held
ktap_check "hold: hold the next hotzone" \
	[ "$(dmsetup message $V 0 reencrypt hold 2048)" = "2048 $LEN held" ]
hold_write 2560
read -r -t 0.5 <> <(:) 2>/dev/null
ktap_check "hold: a write in the next hotzone waits" kill -0 $HW_PID
ktap_check "hold: release ends the hold without a step (logged)" \
	logged "released without a step" dmsetup message $V 0 reencrypt release
ktap_check "hold: status idle at 2048 after the release" \
	[ "$(reenc_status)" = "reencrypt 2048 $LEN idle" ]
ktap_check "hold: the released write completed" \
	timeout 60 tail --pid=$HW_PID -f /dev/null
ktap_check "hold: release with nothing held changes nothing" \
	[ "$(dmsetup message $V 0 reencrypt release)" = "2048 $LEN idle" ]
ktap_check "hold: everything reads back (both writes landed)" \
	same_range "$WORK/expect" $M 0 $LEN
dmsetup remove $V

bad=$(dmesg | tail -n +$((KLOG0 + 1)) | grep -E "$KLOG_BAD")
ktap_check "kernel log: no warning, BUG or oops" [ -z "$bad" ]
[ -z "$bad" ] || ktap_diag_stream <<<"$bad"
ktap_finish
