#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Key messages against suspend/resume (issue 11, item 9):
#  - race: "key wipe" sent as fast as possible while another thread
#    suspends, sets the key and resumes in a loop, with a writer running
#    (build/tests/msg_race, which writes a block after each resume, while dd
#    writes elsewhere): no resume may leave the device running with a wiped
#    key, and every block written reads back right through dm-crypt with the
#    same key (no block was encrypted under the random wipe key);
#  - once a resume has begun, key messages are refused: a two-target table
#    whose resume fails in its second target keeps refusing a wipe of its
#    first target (which passed its pre-resume check) until the device was
#    resumed, while the failed target itself still takes "key set";
#  - "key set" refuses a key of another size than the table's, with a
#    message naming both sizes, and leaves the key state as it was;
#  - "key wipe" whose setkey fails (vault-test-async.ko's setkey_errno)
#    fails with that error, the status says key_invalid and resume is
#    refused until a key set.
. "${VAULT_REPO:?}/tests/lib/ktap.sh"

T=t71
MIB=8
LEN=$((MIB * 2048))
PMIB=4				# what the writer writes during the race
RACE_SECONDS=${VAULT_T71_SECONDS:-6}
export DM_DISABLE_UDEV=1
WORK=$(mktemp -d /tmp/$T.XXXXXX)
V=$T-v
M=/dev/mapper/$V
V2=$T-two
MSG_RACE=${VAULT_BUILD:?}/tests/msg_race

cleanup() {
	local d k
	[ -n "${BG:-}" ] && kill "$BG" 2>/dev/null
	for d in $T-crypt $V $V2 $T-async; do
		dmsetup resume $d >/dev/null 2>&1
		dmsetup remove --retry $d >/dev/null 2>&1
	done
	for k in $T-key $T-short; do
		"$VAULTCTL" key remove $k >/dev/null 2>&1
	done
	rm -rf "$WORK"
}
ktap_defer cleanup

need_vaultctl
need_cmd dmsetup od
[ -x "$MSG_RACE" ] || ktap_fail_all "$MSG_RACE missing (make userspace)"
vault_setup_module || ktap_fail_all "dm-vault.ko cannot be loaded"
brd_setup 2 "$MIB" || ktap_fail_all "cannot create ramdisks"

head -c 64 /dev/urandom > "$WORK/key"
head -c 32 /dev/urandom > "$WORK/short"
"$VAULTCTL" key add $T-key --key-file "$WORK/key" --key-size 512 &&
"$VAULTCTL" key add $T-short --key-file "$WORK/short" --key-size 256 ||
	ktap_fail_all "vaultctl key add"
HEXKEY=$(od -An -v -tx1 "$WORK/key" | tr -d ' \n')

key_state() { dmsetup status "$1" | awk '{ print $4; exit }'; }
suspended() { dmsetup info "$1" | grep -q 'State: *SUSPENDED'; }
# klog_since MARK: kernel log lines after line MARK (from klog_mark)
klog_mark() { dmesg | wc -l; }
klog_since() { dmesg | tail -n +"$(($1 + 1))"; }

# ---- 1. the race: msg_race writes one block of "probe" after each resume
# into the first half; dd writes "bulk" into the second half meanwhile.
dmsetup create $V --table "0 $LEN vault aes-xts-plain64 key:$T-key 0 /dev/ram0 0" ||
	ktap_fail_all "dmsetup create $V"
head -c $((PMIB << 20)) /dev/urandom > "$WORK/probe"
head -c $((PMIB << 20)) /dev/urandom > "$WORK/bulk"
dd if="$WORK/bulk" of=$M bs=4k seek=$((PMIB * 256)) oflag=direct status=none &
BG=$!
timeout $((RACE_SECONDS + 120)) "$MSG_RACE" $V $T-key "$RACE_SECONDS" "$WORK/probe" \
	> "$WORK/race" 2>&1
rc=$?
ktap_diag_stream < "$WORK/race"
ktap_check "race: no resume left the device running with a wiped key (exit $rc)" [ $rc = 0 ]
ktap_check "race: wipes were accepted while suspended" \
	grep -qE ' [1-9][0-9]* wipes accepted' "$WORK/race"
nprobe=$(sed -n 's/.*blocks written: \([0-9]*\).*/\1/p' "$WORK/race")
ktap_check "race: blocks were written between resumes (${nprobe:-none})" [ "${nprobe:-0}" -gt 0 ]
timeout 300 tail --pid=$BG -f /dev/null
wait $BG
ktap_check "race: the writer completed" [ $? = 0 ]
BG=
ktap_check "race: the device runs with key_valid" [ "$(key_state $V)" = key_valid ]
dmsetup create $T-crypt --readonly \
	--table "0 $LEN crypt aes-xts-plain64 $HEXKEY 0 /dev/ram0 0" ||
	ktap_fail_all "dmsetup create $T-crypt"
C=/dev/mapper/$T-crypt
# differing 4 KiB blocks among the first COUNT of FILE and DEV at OFFSET MiB
bad_blocks() {
	local file=$1 dev=$2 mib=$3 count=$4
	cmp -l -n $((count * 4096)) "$file" <(dd if="$dev" bs=1M skip="$mib" \
		iflag=direct status=none) | awk '{ print int(($1 - 1) / 4096) }' | uniq | wc -l
}
n=$(bad_blocks "$WORK/probe" $C 0 "${nprobe:-0}")
ktap_check "race: each block written between resumes decrypts right through dm-crypt ($n bad)" [ "$n" = 0 ]
n=$(bad_blocks "$WORK/bulk" $C $PMIB $((PMIB * 256)))
ktap_check "race: the concurrent writer's data decrypts right through dm-crypt ($n bad)" [ "$n" = 0 ]
dmsetup remove $T-crypt
ktap_check "race: data reads back through vault" \
	timeout 60 cmp -s -n $((PMIB << 20)) "$WORK/bulk" <(dd if=$M bs=1M skip=$PMIB iflag=direct status=none)
ktap_check "race: the lower device holds no plaintext" \
	not cmp -s -n $((PMIB << 20)) "$WORK/bulk" <(dd if=/dev/ram0 bs=1M skip=$PMIB status=none)

# ---- 2. a resume that began refuses key messages, even when it failed
HALF=$((LEN / 2))
printf '%s\n%s\n' \
	"0 $HALF vault aes-xts-plain64 key:$T-key 0 /dev/ram1 0" \
	"$HALF $HALF vault aes-xts-plain64 key:$T-key 0 /dev/ram1 $HALF" > "$WORK/two"
dmsetup create $V2 < "$WORK/two" || ktap_fail_all "dmsetup create $V2"
head -c $((MIB << 20)) /dev/urandom > "$WORK/data2"
dd if="$WORK/data2" of=/dev/mapper/$V2 bs=1M oflag=direct status=none ||
	ktap_fail_all "write $V2"
ktap_check "two targets: suspend" dmsetup suspend $V2
ktap_check "two targets: wipe the second target" dmsetup message $V2 $HALF key wipe
ktap_check "two targets: resume refused (second target has no key)" \
	not timeout 30 dmsetup resume $V2
ktap_check "two targets: still suspended" suspended $V2
mark=$(klog_mark)
ktap_check "two targets: first target, past its pre-resume check, refuses key wipe" \
	not dmsetup message $V2 0 key wipe ||
	dmsetup message $V2 0 key set key:$T-key	# (so that the rest can run)
ktap_check "two targets: the refusal says a resume began" \
	grep -qi 'vault: .*resume .*began' <<<"$(klog_since "$mark")"
ktap_check "two targets: second target still takes key set" \
	dmsetup message $V2 $HALF key set key:$T-key
ktap_check "two targets: resume" timeout 30 dmsetup resume $V2
ktap_check "two targets: data intact" \
	timeout 60 cmp -s -n $((MIB << 20)) "$WORK/data2" /dev/mapper/$V2
ktap_check "two targets: suspend again" dmsetup suspend $V2
ktap_check "two targets: after a new suspend the first target takes key wipe" \
	dmsetup message $V2 0 key wipe
ktap_check "two targets: key set" dmsetup message $V2 0 key set key:$T-key
ktap_check "two targets: resume" timeout 30 dmsetup resume $V2
dmsetup remove $V2

# ---- 3. key set refuses a key of another size
ktap_check "size: suspend" dmsetup suspend $V
mark=$(klog_mark)
ktap_check "size: key set of a 32-byte key on a 64-byte table refused" \
	not dmsetup message $V 0 key set key:$T-short
ktap_check "size: the kernel log names both sizes" \
	grep -qiE "vault: .*key:$T-short.* 32 bytes.* 64" <<<"$(klog_since "$mark")"
ktap_check "size: status still key_valid" [ "$(key_state $V)" = key_valid ]
ktap_check "size: table still names key:$T-key" grep -q "key:$T-key " <<<"$(dmsetup table $V)"
ktap_check "size: key wipe" dmsetup message $V 0 key wipe
ktap_check "size: after a wipe, the 32-byte key is refused too" \
	not dmsetup message $V 0 key set key:$T-short
ktap_check "size: status still key_wiped" [ "$(key_state $V)" = key_wiped ]
ktap_check "size: resume still refused" not timeout 30 dmsetup resume $V
ktap_check "size: key set of the right key" dmsetup message $V 0 key set key:$T-key
ktap_check "size: resume" timeout 30 dmsetup resume $V
ktap_check "size: data intact" \
	timeout 60 cmp -s -n $((PMIB << 20)) "$WORK/bulk" <(dd if=$M bs=1M skip=$PMIB iflag=direct status=none)

# ---- 4. key wipe returns the cipher's error (vault-test-async.ko's
# setkey_errno makes its setkey fail)
ASYNC_KO=$VAULT_BUILD/$VAULT_KVER/vault-test-async.ko
KNOB=/sys/module/vault_test_async/parameters/setkey_errno
V3=$T-async
loaded_async=
if [ ! -d /sys/module/vault_test_async ]; then
	insmod "$ASYNC_KO" && loaded_async=1
fi
if [ -w $KNOB ]; then
	dmsetup create $V3 --table \
		"0 $LEN vault capi:xts-aes-vault-test-async-plain64 key:$T-key 0 /dev/ram1 0" ||
		ktap_fail_all "dmsetup create $V3"
	head -c $((1 << 20)) /dev/urandom > "$WORK/data3"
	dd if="$WORK/data3" of=/dev/mapper/$V3 bs=1M oflag=direct status=none ||
		ktap_fail_all "write $V3"
	ktap_check "wipe error: suspend" dmsetup suspend $V3
	mark=$(klog_mark)
	echo 5 > $KNOB
	ktap_check "wipe error: key wipe fails when the cipher refuses the random key" \
		not dmsetup message $V3 0 key wipe
	echo 0 > $KNOB
	ktap_check "wipe error: the kernel log says the wipe failed, with the error" \
		grep -qiE 'vault: .*key wipe failed \(-5\)' <<<"$(klog_since "$mark")"
	ktap_check "wipe error: status key_invalid, not key_wiped" \
		[ "$(key_state $V3)" = key_invalid ]
	ktap_check "wipe error: resume refused" not timeout 30 dmsetup resume $V3
	ktap_check "wipe error: key set" dmsetup message $V3 0 key set key:$T-key
	ktap_check "wipe error: resume" timeout 30 dmsetup resume $V3
	ktap_check "wipe error: data intact" \
		timeout 60 cmp -s -n $((1 << 20)) "$WORK/data3" /dev/mapper/$V3
	dmsetup remove $V3
else
	ktap_fail "wipe error: cannot load $ASYNC_KO with its setkey_errno knob (make module)"
fi
[ -n "$loaded_async" ] && rmmod vault_test_async

dmsetup remove $V
ktap_check "devices removed" not dmsetup info $V

ktap_finish
