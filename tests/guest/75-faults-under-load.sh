#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# check-extended: a soak/stress test (about 40-50 s a kernel); make check keeps
# the functional tests within 45 minutes
#
# Faults under load: fio writes crc32c-tagged blocks through a vault device
# (2 jobs, 16 KiB random direct I/O, verify_backlog so each block is read
# back and checked while the run goes on, verify_fatal) while, in turn:
#  a) suspend/resume cycles (some with --noflush);
#  b) table reloads + resume: the same table, then tables switching
#     same_cpu_crypt and the workqueue flags;
#  c) suspend, "key wipe", "key set", resume;
#  d) online growth (reload with a larger length) while fio writes within
#     the old size;
#  e) a lower device that errors part of the time: the vault device spans
#     a linear part (fio's region) and a dm-flakey part (up 1 s, down 1 s)
#     that dd reads and rewrites meanwhile.  There, every I/O must either
#     fail with EIO or return the right data; fio on the healthy part must
#     see no error at all.
# After each case: fio ran through all the fault steps and exited 0 with
# no verify error, every fault step succeeded, and the whole region
# verifies (fio verify_only) through a fresh table, so the data really is
# on the disk, and reads the same through dm-crypt (tests/lib/oracle.sh).
# Every command runs under
# `timeout`: a hang fails the check instead of the run.  A last control
# shows the verification can fail: the same blocks under another key.
. "${VAULT_REPO:?}/tests/lib/ktap.sh"
. "$VAULT_REPO/tests/lib/oracle.sh"

T=t75
R=4				# MiB: fio's region
RLEN=$((R * 2048))
export DM_DISABLE_UDEV=1
WORK=$(mktemp -d /tmp/$T.XXXXXX)
V=$T-v
M=/dev/mapper/$V
L=$T-lower

cleanup() {
	[ -n "${FIO:-}" ] && kill "$FIO" 2>/dev/null
	dmsetup resume $V >/dev/null 2>&1
	dmsetup remove --retry $V >/dev/null 2>&1
	dmsetup resume $L >/dev/null 2>&1
	dmsetup remove --retry $L >/dev/null 2>&1
	"$VAULTCTL" key remove $T-key >/dev/null 2>&1
	"$VAULTCTL" key remove $T-other >/dev/null 2>&1
	rm -rf "$WORK"
}
ktap_defer cleanup

need_vaultctl
vault_setup_module || ktap_fail_all "dm-vault.ko cannot be loaded"
need_cmd fio dmsetup timeout blockdev python3
brd_setup 1 $((3 * R)) || ktap_fail_all "cannot create a ramdisk"

head -c 64 /dev/urandom > "$WORK/key"
"$VAULTCTL" key add $T-key --key-file "$WORK/key" --key-size 512 ||
	ktap_fail_all "vaultctl key add"

vtable() {	# vtable LEN [OPTS [LOWER]]
	echo "0 $1 vault aes-xts-plain64 key:$T-key 0 ${3:-/dev/ram0} 0${2:+ $2}"
}
dm() { timeout 30 dmsetup "$@"; }
fresh() {	# fresh [TABLE]: re-create the vault device
	dm remove $V && dm create $V --table "${1:-$(vtable $RLEN)}"
}

FIO_COMMON=("--filename=$M" --ioengine=libaio --direct=1 --bs=16k
	--verify=crc32c --verify_fatal=1 --verify_state_save=0 --group_reporting)

# fio_run NAME ARGS...: fio under a time limit; its output as diagnostics on failure
fio_run() {
	local name=$1 rc
	shift
	timeout 180 fio --name="$name" "${FIO_COMMON[@]}" "$@" \
		--output="$WORK/$name.out" >/dev/null 2>"$WORK/$name.err"
	rc=$?
	if [ $rc != 0 ]; then
		ktap_diag "fio $name exited $rc"
		tail -n 15 "$WORK/$name.out" "$WORK/$name.err" | ktap_diag_stream
	fi
	return $rc
}
# every 16 KiB block of the region holds a header and data that match
verify_region() { fio_run "verify-$1" --rw=read --size=${R}M --iodepth=16 --verify_only=1; }

# under_load NAME STEP COUNT: fio's random writes with running verification
# (time-based, stopped with SIGTERM once the steps are done; rate-limited,
# as under TCG an unlimited fio leaves dmsetup no CPU); meanwhile
# STEP 0 .. STEP COUNT-1 run one after the other.  Then the checks.
under_load() {
	local name=$1 step=$2 count=$3 n bad=0 t0=$SECONDS
	local out=$WORK/load-$name.out err=$WORK/load-$name.err
	timeout 660 fio --name="load-$name" "${FIO_COMMON[@]}" --rw=randwrite \
		--numjobs=2 --size=$((R / 2))M --offset_increment=$((R / 2))M \
		--iodepth=8 --verify_backlog=16 --rate_iops=64 --randrepeat=0 \
		--time_based --runtime=600 --output="$out" >/dev/null 2>"$err" &
	FIO=$!
	sleep 1
	for ((n = 0; n < count; n++)); do
		"$step" $n || { bad=$((bad + 1)); ktap_diag "$name: step $n failed"; }
	done
	kill -0 $FIO 2>/dev/null
	ktap_check "$name: fio still running after $count fault steps" [ $? = 0 ]
	# fio stops cleanly on SIGTERM (timeout passes it on); its exit
	# status is then not 0, so judge by what it reports
	kill -TERM $FIO 2>/dev/null
	wait $FIO
	FIO=
	if ! ktap_check "$name: fio verified every block it wrote, no I/O error" \
		sh -c "grep -q 'err= 0' '$out' && ! grep -qiE 'verify|error' '$err'"; then
		tail -n 15 "$out" "$err" | ktap_diag_stream
	fi
	ktap_check "$name: every fault step succeeded" [ $bad = 0 ]
	ktap_diag "$name: $count steps under load in $((SECONDS - t0)) s"
}
# after under_load: the same through a fresh table
verify_fresh() {
	local table=${2:-$(vtable $RLEN)}
	if fresh "$table"; then
		ktap_check "$1: region verifies through a fresh table" verify_region "$1-fresh"
		oracle_check "$1" "$table" "$WORK/key" $M
	else
		ktap_fail "$1: re-create the device"
	fi
}

dm create $V --table "$(vtable $RLEN)" || ktap_fail_all "dmsetup create"
t0=$SECONDS
ktap_check "prefill: every block written and verified" \
	fio_run prefill --rw=write --size=${R}M --iodepth=16 --do_verify=1
ktap_diag "prefill: $((SECONDS - t0)) s"

# ---- a) suspend / resume
step_suspend() {
	local nf=
	[ $(($1 % 3)) = 2 ] && nf=--noflush
	dm suspend $nf $V && sleep 0.2 && dm resume $V
}
under_load suspend step_suspend 3
verify_fresh suspend

# ---- b) reloads: the same table, then switching options
OPTS=("" "1 same_cpu_crypt" "2 read_workqueue write_workqueue"
	"3 same_cpu_crypt no_write_workqueue read_workqueue")
step_reload() {
	dm reload $V --table "$(vtable $RLEN "${OPTS[$1]}")" && dm resume $V
}
under_load reload step_reload ${#OPTS[@]}
ktap_check "reload: the last table's options are live" \
	[ "$(dm table $V | cut -d' ' -f9-)" = "${OPTS[-1]}" ]
verify_fresh reload

# ---- c) key wipe + key set while suspended
step_rekey() {
	dm suspend $V && dm message $V 0 key wipe &&
		{ [ $1 != 0 ] || dm status $V | grep -q key_wiped; } &&
		dm message $V 0 key set key:$T-key && dm resume $V
}
under_load rekey step_rekey 2
verify_fresh rekey

# ---- d) online growth; fio stays in the old size
SIZES=($((RLEN * 2)) $((RLEN * 3)))
step_grow() {
	local s=${SIZES[$1]}
	dm reload $V --table "$(vtable "$s")" && dm resume $V &&
		[ "$(blockdev --getsz $M)" = "$s" ]
}
under_load grow step_grow ${#SIZES[@]}
ktap_check "grow: final size $((RLEN * 3)) sectors" [ "$(blockdev --getsz $M)" = $((RLEN * 3)) ]
verify_fresh grow "$(vtable $((RLEN * 3)))"

# ---- e) a lower device failing part of the time, beside fio's region
dm remove $V
if ! modprobe dm-flakey 2>/dev/null && ! dmsetup targets | grep -q '^flakey '; then
	ktap_dep_missing "dm-flakey unavailable: skipping the lower-error case"
	ktap_finish
fi
healthy="0 $((2 * RLEN)) linear /dev/ram0 0"
flaky="0 $RLEN linear /dev/ram0 0
$RLEN $RLEN flakey /dev/ram0 $RLEN 1 1"
dm create $L --table "$healthy" || ktap_fail_all "create the lower device"
dm create $V --table "$(vtable $((2 * RLEN)) "" /dev/mapper/$L)" ||
	ktap_fail_all "create vault over the lower device"
head -c $((R << 20)) /dev/urandom > "$WORK/b"
dd if="$WORK/b" of=$M bs=1M seek=$R oflag=direct status=none ||
	ktap_fail_all "write the flaky region"
swap_lower() {
	dm suspend $V && dm reload $L --table "$1" && dm resume $L && dm resume $V
}
ktap_check "flakey: lower table swapped under the vault device" swap_lower "$flaky"
# A read or rewrite of 1 MiB in the flaky half: EIO or correct data.
EIO=0 GOOD=0
step_flaky() {
	local mb=$((RANDOM % R)) rc
	if [ $(($1 % 2)) = 0 ]; then
		timeout 30 dd if=$M of="$WORK/got" bs=1M skip=$((R + mb)) count=1 \
			iflag=direct status=none 2>"$WORK/dd.err"
	else
		timeout 30 dd if="$WORK/b" of=$M bs=1M skip=$mb seek=$((R + mb)) count=1 \
			oflag=direct status=none 2>"$WORK/dd.err"
	fi
	rc=$?
	if [ $rc = 0 ]; then
		if [ $(($1 % 2)) = 0 ] &&
		   ! cmp -s "$WORK/got" <(dd if="$WORK/b" bs=1M skip=$mb count=1 status=none); then
			ktap_diag "read of MiB $mb of the flaky half returned wrong data"
			return 1
		fi
		GOOD=$((GOOD + 1))
		return 0
	fi
	grep -qi 'input/output error' "$WORK/dd.err" ||
		{ ktap_diag "dd exit $rc, not EIO: $(cat "$WORK/dd.err")"; return 1; }
	EIO=$((EIO + 1))
	return 0
}
under_load flaky step_flaky 6
ktap_diag "flaky half: $EIO I/Os failed with EIO, $GOOD succeeded"
ktap_check "flakey: some I/O in the flaky half failed with EIO" [ $EIO -gt 0 ]
ktap_check "flakey: lower table healthy again" swap_lower "$healthy"
ktap_check "flakey: the flaky half holds its data" \
	sh -c "timeout 60 cmp -s -i 0:$((R << 20)) -n $((R << 20)) '$WORK/b' $M"
verify_fresh flaky "$(vtable $((2 * RLEN)) "" /dev/mapper/$L)"
ktap_check "flakey: the flaky half holds its data through a fresh table" \
	sh -c "timeout 60 cmp -s -i 0:$((R << 20)) -n $((R << 20)) '$WORK/b' $M"
dm remove $V && dm remove $L

# ---- positive control: the verification can fail (same blocks, wrong key)
head -c 64 /dev/urandom > "$WORK/other"
if "$VAULTCTL" key add $T-other --key-file "$WORK/other" --key-size 512 &&
	dm create $V --table "0 $RLEN vault aes-xts-plain64 key:$T-other 0 /dev/ram0 0"; then
	ktap_check "control: the region does not verify under another key" \
		not verify_region wrong-key >/dev/null
	dm remove $V
else
	ktap_fail "control: set up a device with another key"
fi

ktap_finish
