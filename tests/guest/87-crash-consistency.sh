#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# check-extended: a soak/stress test (about 40-50 s a kernel); make check keeps
# the functional tests within 45 minutes
#
# Crash consistency, the xfstests dm-log-writes method: ext4 on vault on
# dm-log-writes records every write that reached stable storage, in that
# order; replaying the log up to a FLUSH or FUA entry gives a state the disk
# could be in after a power cut.  If vault reordered a write past a flush, or
# completed a write before it reached the lower device, some such state
# would hold a broken file system or lose fsync'd data.
#
#  1. mkfs.ext4 through vault over log-writes (mark "mkfs"), mount, run
#     tests/lib/crash-workload.py: STEPS steps of create / append /
#     overwrite / truncate / rename / unlink, each made durable by fsync
#     (file and directories) between the marks "b-i" and "s-i", plus
#     unsynced noise; a manifest records the fsync'd content.  umount (mark
#     "umount"), remove the devices (log-writes adds "dm-log-writes-end").
#  2. tests/lib/replay-log.py replays the log onto an empty ramdisk and
#     stops at every "s-" mark, at "umount", at the end and at FLUSHES
#     flush/FUA entries after "mkfs" spread evenly over the log (the number of
#     checked points is bounded: STEPS + FLUSHES + 2).  At each stop the image
#     is copied (the check writes: journal recovery), opened with vault,
#     mounted (the journal is recovered), every name fsync'd before that
#     point and not touched since must hold its fsync'd content (or be
#     absent after an unlink or rename), then after umount `e2fsck -fn` must
#     be clean.  The complete replay must equal the data device, and
#     dm-crypt must read from the data device what vault does
#     (tests/lib/oracle.sh).
#  3. Positive controls, proving the checker can fail: the log replayed
#     without the data blocks of the fsync'd file "keep" must fail the
#     content check at its fsync mark, and the log replayed with the
#     on-disk inode of "keep" corrupted must fail fsck at the end.
# Tunables (passed by run-guest): VAULT_ENV_CRASH_STEPS (default 10),
# VAULT_ENV_CRASH_FLUSHES (default 6).  python3 runs with -S: importing
# site costs a second or more per start under TCG.
. "${VAULT_REPO:?}/tests/lib/ktap.sh"
. "$VAULT_REPO/tests/lib/oracle.sh"

T=t87
MIB=32
LEN=$((MIB * 2048))
STEPS=${VAULT_ENV_CRASH_STEPS:-10}
FLUSHES=${VAULT_ENV_CRASH_FLUSHES:-6}
export DM_DISABLE_UDEV=1
WORK=$(mktemp -d /tmp/$T.XXXXXX)
MNT=$WORK/mnt
LIB=$VAULT_REPO/tests/lib
WL=$LIB/crash-workload.py
DATA=/dev/ram0 LOG=/dev/ram1 REPLAY=/dev/ram2 SCRATCH=/dev/ram3
LW=$T-lw V=$T-v C=$T-chk
MC=/dev/mapper/$C

cleanup() {
	mountpoint -q "$MNT" && umount "$MNT"
	dmsetup remove --retry $C >/dev/null 2>&1
	dmsetup remove --retry $V >/dev/null 2>&1
	dmsetup remove --retry $LW >/dev/null 2>&1
	"$VAULTCTL" key remove $T-key >/dev/null 2>&1
	rm -rf "$WORK"
}
ktap_defer cleanup

need_vaultctl
vault_setup_module || ktap_fail_all "dm-vault.ko cannot be loaded"
need_cmd dmsetup mkfs.ext4 e2fsck debugfs python3 cmp
modprobe dm-log-writes 2>/dev/null
vdmsetup targets | grep -q '^log-writes' || ktap_skip_dep "no dm-log-writes target"
brd_setup 4 "$MIB" || ktap_fail_all "cannot create the ramdisks"
mkdir -p "$MNT"

head -c 64 /dev/urandom > "$WORK/key"
"$VAULTCTL" key add $T-key --key-file "$WORK/key" --key-size 512 ||
	ktap_fail_all "vaultctl key add"
vtable() { echo "0 $LEN vault aes-xts-plain64 key:$T-key 0 $1 0"; }
mark() { dmsetup message $LW 0 mark "$1"; }

# ---- 1. the recorded workload
t0=$SECONDS
dmsetup create $LW --table "0 $LEN log-writes $DATA $LOG" ||
	ktap_fail_all "create the log-writes device"
dmsetup create $V --table "$(vtable /dev/mapper/$LW)" ||
	ktap_fail_all "create vault over log-writes"
# Everything written up front: no lazy init thread writing behind the marks.
mkfs.ext4 -q -F -b 4096 -E nodiscard,lazy_itable_init=0,lazy_journal_init=0 \
	/dev/mapper/$V || ktap_fail_all "mkfs.ext4"
mark mkfs || ktap_fail_all "log-writes mark"
mount -t ext4 -o noinit_itable /dev/mapper/$V "$MNT" || ktap_fail_all "mount"
ktap_check "workload of $STEPS fsync'd steps ran" \
	python3 -S "$WL" run "$MNT" --dm $LW --manifest "$WORK/manifest" --steps "$STEPS"
ktap_check "umount after the workload" umount "$MNT"
mark umount
ktap_diag "log-writes status: $(dmsetup status $LW)"
dmsetup remove $V || ktap_fail_all "remove vault"
dmsetup remove $LW || ktap_fail_all "remove the log-writes device"
ktap_diag "workload recorded in $((SECONDS - t0)) s"

python3 -S "$LIB/replay-log.py" --log $LOG --list > "$WORK/entries" ||
	ktap_fail_all "replay-log.py cannot read the log"
ktap_diag "log: $(wc -l < "$WORK/entries") entries," \
	"$(grep -c -E ' (flush|fua|flush\+fua) ' "$WORK/entries") flush/FUA," \
	"$(grep -c ' mark ' "$WORK/entries") marks"
ktap_check "the log holds every mark (logging never stopped)" \
	[ "$(grep -c -E ' mark [0-9]+ [0-9]+ [bs]-[0-9]+$' "$WORK/entries")" = $((2 * STEPS)) ] ||
	ktap_fail_all "the log is incomplete: nothing to replay"
mark_index() { awk -v m="$1" '$2 == "mark" && $5 == m { print $1; exit }' "$WORK/entries"; }

# Where "keep" lives, for the positive controls (read from the final state).
dmsetup create $C --table "$(vtable $DATA)" || ktap_fail_all "open the data device"
KEEP_BLOCKS=$(debugfs -R "blocks /keep" $MC 2>/dev/null)
KEEP_INODE=$(debugfs -R "imap /keep" $MC 2>/dev/null |
	sed -n 's/.*located at block \([0-9]*\), offset \(0x[0-9a-f]*\).*/\1 \2/p')
# what vault wrote through log-writes, read back through dm-crypt
oracle_check "data device after the workload" "$(vtable $DATA)" "$WORK/key" $MC
dmsetup remove $C

# ---- 2. replay and check
# content_ok INDEX: the mounted file system holds what INDEX.sums and
# INDEX.absent (crash-workload.py expect) say; CHK_MSG counts them.
content_ok() {
	local e=$WORK/expect/$1 name sums absent rc=0

	mapfile -t sums < "$e.sums"
	mapfile -t absent < "$e.absent"
	if [ ${#sums[@]} -gt 0 ]; then
		(cd "$MNT" && sha256sum --quiet --strict -c "$e.sums") 2>&1 || rc=1
	fi
	for name in "${absent[@]}"; do
		[ -e "$MNT/$name" ] || continue
		echo "$name: exists, but was removed and synced"
		rc=1
	done
	CHK_MSG="${#sums[@]} fsync'd files intact, ${#absent[@]} removed names absent"
	return $rc
}

# check_point INDEX: check the image replayed up to entry INDEX, on a copy
# (mount recovers the journal: it writes).  Returns a bit mask: 1 mount or
# umount failed, 2 fsync'd content wrong, 4 fsck not clean, 8 set-up failed.
# CHK_OUT collects what went wrong.
check_point() {
	local at=$1 rc=0

	CHK_OUT='' CHK_MSG=''
	dd if=$REPLAY of=$SCRATCH bs=4M count=$((MIB / 4)) oflag=direct status=none &&
		dmsetup create $C --table "$(vtable $SCRATCH)" || return 8
	if mount -t ext4 -o noinit_itable $MC "$MNT" 2>"$WORK/mount.err"; then
		content_ok "$at" > "$WORK/content.out" || rc=2
		CHK_OUT=$(< "$WORK/content.out")
		umount "$MNT" || rc=$((rc | 1))
	else
		CHK_OUT="mount failed: $(cat "$WORK/mount.err")"
		rc=1
	fi
	if ! e2fsck -fn $MC > "$WORK/fsck.out" 2>&1; then
		rc=$((rc | 4))
		CHK_OUT+=$'\n'"e2fsck -fn: $(grep -v '^Pass\|^e2fsck' "$WORK/fsck.out" | head -n 8)"
	fi
	dmsetup remove $C || rc=$((rc | 8))
	return $rc
}

zero_replay() { dd if=/dev/zero of=$REPLAY bs=1M count=$MIB oflag=direct status=none; }
same_as_data() {
	cmp <(dd if=$DATA bs=1M count=$MIB iflag=direct status=none) \
		<(dd if=$REPLAY bs=1M count=$MIB iflag=direct status=none)
}

t0=$SECONDS
REPLAY_STOPS=(--stop-mark s- --stop-mark umount --stop-flushes "$FLUSHES" --after-mark mkfs)
stops=$(python3 -S "$LIB/replay-log.py" --log $LOG --plan "${REPLAY_STOPS[@]}") &&
	mkdir "$WORK/expect" &&
	python3 -S "$WL" expect --manifest "$WORK/manifest" --entries "$WORK/entries" \
		--out "$WORK/expect" $stops ||
	ktap_fail_all "cannot work out what each stop must hold"
zero_replay
points=0
coproc RP { exec python3 -S "$LIB/replay-log.py" --log $LOG --replay $REPLAY \
	--interactive "${REPLAY_STOPS[@]}"; }
# Own copies of the pipes: bash drops RP once the replayer has exited.
rp_pid=$RP_PID
exec {rp_out}<&"${RP[0]}" {rp_in}>&"${RP[1]}"
while read -r -u $rp_out word at kind name; do
	[ "$word" = stop ] || break
	points=$((points + 1))
	check_point "$at"
	rc=$?
	[ "$name" = - ] && name= || name=" $name"
	if [ $rc = 0 ]; then
		ktap_pass "entry $at ($kind$name): $CHK_MSG, fsck clean"
	else
		ktap_fail "entry $at ($kind$name): check failed (mask $rc)"
		printf '%s\n' "$CHK_OUT" | ktap_diag_stream
	fi
	if [ "$kind" = end ]; then
		ktap_check "the complete replay equals the data device" same_as_data
	fi
	echo next >&$rp_in
done
exec {rp_in}>&- {rp_out}<&-
wait "$rp_pid"
ktap_check "replay-log.py ran to the end" [ "$?:$word" = 0:done ]
ktap_check "checked the marks and sampled flushes ($points points, at most $((STEPS + FLUSHES + 2)))" \
	[ "$points" -ge $((STEPS + 2)) ]
ktap_diag "replay and checks took $((SECONDS - t0)) s"

# ---- 3. positive controls
# control NAME MASKBIT END-MARK [FAULT...]: replay to END-MARK with the
# faults, check there; the check must fail with MASKBIT set.
control() {
	local what=$1 bit=$2 end=$3 at
	shift 3
	at=$(mark_index "$end")
	if ! zero_replay ||
		! python3 -S "$LIB/replay-log.py" --log $LOG --replay $REPLAY --end-mark "$end" "$@"; then
		ktap_fail "$what: replay"
		return
	fi
	check_point "$at"
	local rc=$?
	printf '%s\n' "$CHK_OUT" | ktap_diag_stream
	ktap_check "$what (mask $rc)" [ $((rc & bit)):$((rc & 8)) = $bit:0 ]
}

drops=()
for b in $KEEP_BLOCKS; do drops+=(--drop "$((b * 8)):8"); done
if [ ${#drops[@]} -ge 2 ]; then
	control "control: keep's data blocks dropped -> content check fails at s-00" 2 s-00 \
		"${drops[@]}"
else
	ktap_fail "control: no data blocks found for keep"
fi
if [ -n "$KEEP_INODE" ]; then
	read -r blk off <<< "$KEEP_INODE"
	control "control: keep's inode sector corrupted -> fsck fails at the end" 4 \
		dm-log-writes-end --corrupt "$((blk * 8 + off / 512)):1"
else
	ktap_fail "control: no inode location found for keep"
fi

ktap_finish
