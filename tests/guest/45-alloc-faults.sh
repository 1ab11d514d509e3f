#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Allocation failures (debug kernel only: failslab and fail_page_alloc).
#
# The N-th allocation of one task is made to fail with the kernel's per-task
# /proc/PID/fail-nth (it counts failslab and fail_page_alloc points, which
# are set to take GFP_KERNEL allocations and order-0 pages too).
# (a) table load, (b) key add, exactly: tests/lib/fault-sweep.py issues
# DM_TABLE_LOAD of a vault table (VAULT_IOC_KEY_ADD) with the N-th
# allocation inside that ioctl failing, for N = 1, 2, ... until the ioctl
# runs with nothing injected (table load: every N up to 64, then every 4th,
# then every N of the last 4; VAULT_ENV_FAULT_STRIDE=1: every N).  At each N: an error (and no inactive table,
# the key table unchanged), or success with a device that reads back the
# data written before (a key that is listed).
# The tools: `dmsetup create`, `vaultctl open --type plain` and `vaultctl key
# add` are held at their read of stdin while their fail-nth is set to N (so
# exec and start-up do not count), N = 1, 4, 16, ... until nothing is
# injected: each run succeeds with a working device, or exits non-zero with
# a message and leaves no device and no key behind.
# (c) fio write+verify through a vault device while a share of the fio
# tasks' non-blocking allocations fail (see below): no verify error, no
# hang; afterwards, with injection off, the data reads back the same through
# a fresh table, dm-crypt reads the same from the ramdisk
# (tests/lib/oracle.sh), and a new fio run verifies.
# Injected failures are counted from the attributes' `times`; a sweep or run
# that injected nothing fails.  Leaks: run-all's kmemleak check, and a scan
# here that fails on leaked objects allocated by dm-vault.
. "${VAULT_REPO:?}/tests/lib/ktap.sh"
. "$VAULT_REPO/tests/lib/oracle.sh"

T=t45
DBG=/sys/kernel/debug
FS=$DBG/failslab
FP=$DBG/fail_page_alloc
export DM_DISABLE_UDEV=1

if [ ! -d "$FS" ] && [ -d "$DBG" ] && ! grep -q " $DBG debugfs " /proc/mounts; then
	mount -t debugfs debugfs "$DBG" 2>/dev/null
fi
[ -d "$FS" ] && [ -d "$FP" ] && [ -e /proc/self/fail-nth ] ||
	ktap_skip_all "no failslab/fail_page_alloc in this kernel (the debug kernel of make check-debug has them)"

need_vaultctl
vault_setup_module || ktap_fail_all "dm-vault.ko cannot be loaded"
need_cmd dmsetup fio python3

WORK=$(mktemp -d /tmp/$T.XXXXXX)
GATE=$WORK/gate
mkfifo "$GATE" "$WORK/tick" || ktap_fail_all "mkfifo"
exec 8<> "$WORK/tick"
tick() { read -r -t "$1" -u 8 || true; }

# ---- the fault attributes: saved here, restored at exit
ATTR_FILES=(probability interval times verbose task-filter ignore-gfp-wait)
declare -A SAVED
for a in "$FS" "$FP"; do
	for f in "${ATTR_FILES[@]}"; do
		read -r "SAVED[$a/$f]" < "$a/$f"
	done
done
read -r "SAVED[$FP/min-order]" < "$FP/min-order"
read -r "SAVED[$FP/ignore-gfp-highmem]" < "$FP/ignore-gfp-highmem"

fi_restore() {
	local f
	echo 0 > "$FS/probability"
	echo 0 > "$FP/probability"
	for f in "${!SAVED[@]}"; do
		echo "${SAVED[$f]}" > "$f" 2>/dev/null
	done
}

cleanup() {
	echo 0 > /proc/self/make-it-fail 2>/dev/null
	fi_restore
	"$VAULTCTL" close $T-o >/dev/null 2>&1
	dmsetup remove --retry $T-v >/dev/null 2>&1
	dmsetup remove --retry $T-s >/dev/null 2>&1
	dmsetup remove --retry $T-keep >/dev/null 2>&1
	"$VAULTCTL" key remove $T-key >/dev/null 2>&1
	"$VAULTCTL" key remove $T-added >/dev/null 2>&1
	[ -n "${KMSG_PID:-}" ] && kill "$KMSG_PID" 2>/dev/null
	rm -rf "$WORK"
}
ktap_defer cleanup

# fi_set ATTR-DIR FILE=VALUE...
fi_set() {
	local dir=$1 kv
	shift
	for kv in "$@"; do
		echo "${kv#*=}" > "$dir/${kv%%=*}" ||
			ktap_fail_all "cannot set $dir/${kv%%=*} to ${kv#*=}"
	done
}

# Failures injected so far, from both attributes' `times` (set to TIMES0).
TIMES0=1000000
fi_injected() {
	local s p
	read -r s < "$FS/times"
	read -r p < "$FP/times"
	echo $(((TIMES0 - s) + (TIMES0 - p)))
}

# The kernel log, followed without a process per look (see 40-bad-tables).
cat /dev/kmsg > "$WORK/kmsg" 2>/dev/null &
KMSG_PID=$!
KLOG_SEEN=0
# klog_new: the lines logged since the last call, in KLOG_NEW.
klog_new() {
	mapfile -t -s "$KLOG_SEEN" KLOG_NEW < "$WORK/kmsg"
	KLOG_SEEN=$((KLOG_SEEN + ${#KLOG_NEW[@]}))
}

# ---- a disk, a key, data written before the faults
brd_setup 2 16 || ktap_fail_all "cannot create the ramdisks"
DEV=/dev/ram0
LEN=$((16 * 2048))
# A printable key (no NUL for bash), fed to the tools on stdin.
KEYTXT=$(head -c 48 /dev/urandom | base64 -w0)
printf '%s' "$KEYTXT" > "$WORK/key"
"$VAULTCTL" key add $T-key --key-file "$WORK/key" --key-size 512 ||
	ktap_fail_all "vaultctl key add $T-key"
TABLE="0 $LEN vault aes-xts-plain64 key:$T-key 0 $DEV 0"
OPEN=(open --type plain --key-file - --key-size 512 "$DEV" "$T-o")
CHECK_BYTES=$((256 << 10))
head -c "$CHECK_BYTES" /dev/urandom > "$WORK/data"

# The same key and device as dmsetup's table: one data check for both.
dmsetup create $T-v --table "$TABLE" &&
	dd if="$WORK/data" of=/dev/mapper/$T-v bs=64k oflag=direct status=none &&
	dmsetup remove $T-v || ktap_fail_all "writing the reference data"
KEYS0=$("$VAULTCTL" key list 2>&1) || ktap_fail_all "vaultctl key list"

# A device with the same table kind stays up during the sweeps, so that dm
# core's per-table bio slab ("bio-<size>") exists and is only referenced,
# never created: a failure inside kmem_cache_create() leaks the cache's
# kobject name in 6.12 (sysfs_slab_add() skips kobject_put() on error), a
# kernel bug outside dm-vault that kmemleak would report.
dmsetup create --readonly $T-keep --table "0 $LEN vault aes-xts-plain64 key:$T-key 0 /dev/ram1 0" ||
	ktap_fail_all "dmsetup create $T-keep"

# dm_exists NAME: a mapping NAME exists (sysfs: no process).
dm_exists() {
	local f n
	for f in /sys/block/dm-*/dm/name; do
		[ -e "$f" ] || continue
		read -r n < "$f"
		[ "$n" = "$1" ] && return 0
	done
	return 1
}

# gated N INPUT CMD...: run CMD with INPUT on its stdin; CMD is held at its
# first read of stdin while its fail-nth is set to N (0: no injection).
# Output in $WORK/out; status in RC; 124 when CMD hung (killed after 300 s:
# a vaultctl run took over 60 s on a loaded machine's debug guest).
gated() {
	local n=$1 input=$2 pid i sc
	shift 2
	(read -r _ < "$GATE"; printf '%s' "$input") | "$@" > "$WORK/out" 2>&1 &
	pid=$!
	# /proc/PID/syscall: "0 0x0 ..." is read(0, ...).
	for ((i = 0; i < 3000; i++)); do
		sc=
		read -r sc < /proc/$pid/syscall 2>/dev/null
		[[ $sc == "0 0x0 "* ]] && break
		kill -0 $pid 2>/dev/null || break
		tick 0.02
	done
	[ "$n" -gt 0 ] && echo "$n" 2>/dev/null > /proc/$pid/fail-nth
	echo > "$GATE"
	for ((i = 0; i < 15000; i++)); do
		kill -0 $pid 2>/dev/null || break
		tick 0.02
	done
	if kill -0 $pid 2>/dev/null; then
		ktap_diag "$* hung; its state and kernel stack:"
		ktap_diag_stream < /proc/$pid/stat
		ktap_diag_stream < /proc/$pid/syscall
		ktap_diag_stream < /proc/$pid/stack
		kill -9 $pid
		wait $pid
		RC=124
		return
	fi
	wait $pid
	RC=$?
}

# Checks after one run (ok_* after success, failed_* after a failure):
# they print what is wrong and return non-zero.
data_ok() {
	cmp -s -n "$CHECK_BYTES" "$WORK/data" "$1" ||
		{ ktap_diag "$1 does not read back the reference data"; return 1; }
}
keys_unchanged() {
	local now
	now=$("$VAULTCTL" key list 2>&1)
	[ "$now" = "$KEYS0" ] && return 0
	ktap_diag "the key table changed:"
	ktap_diag_stream <<<"$now"
	return 1
}
no_device() {
	dm_exists "$1" || return 0
	ktap_diag "a device $1 was left behind"
	dmsetup remove --retry "$1" >/dev/null 2>&1
	return 1
}

# (The key table is compared once per sweep: a key left behind stays.)
ok_create() {
	data_ok /dev/mapper/$T-v || { dmsetup remove $T-v; return 1; }
	dmsetup remove $T-v || { ktap_diag "dmsetup remove $T-v"; return 1; }
}
failed_create() { no_device $T-v; }

# dmsetup removes: cheaper than a vaultctl process, and close is not tested.
ok_open() {
	data_ok /dev/mapper/$T-o || { dmsetup remove $T-o; return 1; }
	dmsetup remove $T-o || { ktap_diag "dmsetup remove $T-o"; return 1; }
}
failed_open() { no_device $T-o; }

ok_keyadd() {
	"$VAULTCTL" key remove $T-added ||
		{ ktap_diag "the added key is not there"; return 1; }
}
failed_keyadd() {
	! "$VAULTCTL" key remove $T-added >/dev/null 2>&1 ||
		{ ktap_diag "the key was added although key add failed"; return 1; }
}

# fi_sweep_mode: fail-nth alone decides; every allocation counts.
fi_sweep_mode() {
	fi_set "$FS" probability=0 interval=1 times=$TIMES0 verbose=1 \
		task-filter=N ignore-gfp-wait=N
	fi_set "$FP" probability=0 interval=1 times=$TIMES0 verbose=1 \
		task-filter=N ignore-gfp-wait=N min-order=0 ignore-gfp-highmem=Y
}

# ---- (a), (b) in the kernel: every N of one ioctl
# The table-load sweep tries every N up to 64, then every STRIDE-th, then
# every N of the last STRIDE (VAULT_ENV_FAULT_STRIDE=1: every N; that was
# 666 points, 420 s on a debug guest of a loaded machine).
STRIDE=${VAULT_ENV_FAULT_STRIDE:-4}
# kernel_sweep NAME ARGS...: run fault-sweep.py, turn its result into checks.
kernel_sweep() {
	local name=$1 rc res inj t0=$SECONDS l
	shift
	fi_sweep_mode
	klog_new
	FAULT_SWEEP_STRIDE=$STRIDE timeout 1200 \
		python3 "$VAULT_REPO/tests/lib/fault-sweep.py" "$@" > "$WORK/sweep.out" 2>&1
	rc=$?
	inj=$(fi_injected)
	klog_new
	grep -v '^step ' "$WORK/sweep.out" | ktap_diag_stream
	res=$(grep '^result ' "$WORK/sweep.out")
	ktap_diag "$name: $res; times: $inj injected; $((SECONDS - t0)) s"
	ktap_diag "$name: results: $(sed -n 's/^step .*result=//p' "$WORK/sweep.out" | sort | uniq -c | tr -s ' \n' ' ')"
	# What the kernel said about the failures (distinct lines).
	for l in "${KLOG_NEW[@]}"; do
		case $l in *vault:*|*device-mapper:*) echo "${l#*;}" ;; esac
	done | sort | uniq -c | head -n 20 | sed "s/^/$name: kernel: /" | ktap_diag_stream
	ktap_check "$name: every injected failure was an error or a working result (exit $rc)" \
		[ "$rc" = 0 ]
	local steps errs
	steps=$(sed -n 's/.* injected=\([0-9]*\) .*/\1/p' <<<"$res")
	errs=$(sed -n 's/.* errors=\([0-9]*\) .*/\1/p' <<<"$res")
	ktap_check "$name: failures were injected (${steps:-0} by fail-nth, $inj counted in times)" \
		test "${steps:-0}" -gt 0 -a "$inj" = "${steps:-0}"
	ktap_check "$name: some failed the ioctl (${errs:-0})" [ "${errs:-0}" -gt 0 ]
	KERNEL_LOG_SWEEP=("${KLOG_NEW[@]}")
}

kernel_sweep "table load" table-load $T-s "$TABLE" "$WORK/data"
ktap_check "table load: dm-vault reported allocation failures (vault: ... lines)" \
	grep -q 'vault: ' <<<"$(printf '%s\n' "${KERNEL_LOG_SWEEP[@]}")"
kernel_sweep "key add" key-add $T-added "$WORK/key"
ktap_check "key table as before the sweeps" keys_unchanged

# ---- (a), (b) through the tools
# tool_sweep NAME CHECKS INPUT CMD...: N = 1, 4, 16, ... until a run has
# nothing injected (it must then succeed).  CHECKS: the suffix of the ok_/
# failed_ functions.
tool_sweep() {
	local name=$1 checks=$2 input=$3 n=1 steps=0 before inj bad=0 nfail=0 nok=0
	local t0=$SECONDS msg
	shift 3
	fi_sweep_mode
	while :; do
		steps=$((steps + 1))
		before=$(fi_injected)
		gated "$n" "$input" "$@"
		inj=$(($(fi_injected) - before))
		msg=
		read -r msg < "$WORK/out"
		if [ "$inj" = 0 ]; then
			if [ "$RC" = 0 ] && "ok_$checks"; then
				ktap_pass "$name: ended at N=$n after $steps runs ($nfail failed cleanly, $nok succeeded despite the failure; $((SECONDS - t0)) s)"
			else
				ktap_diag "N=$n: nothing injected, exit $RC: $msg"
				ktap_fail "$name: completes without injection at N=$n"
			fi
			break
		fi
		ktap_diag "$name: N=$n: exit $RC${msg:+: $msg}"
		if [ "$RC" = 124 ]; then
			bad=$((bad + 1))
			"failed_$checks" >/dev/null
		elif [ "$RC" = 0 ]; then
			nok=$((nok + 1))
			"ok_$checks" || { ktap_diag "N=$n: succeeded, but the result is wrong"; bad=$((bad + 1)); }
		elif [ -z "$msg" ]; then
			ktap_diag "N=$n: exit $RC without a message"
			bad=$((bad + 1))
			"failed_$checks"
		else
			nfail=$((nfail + 1))
			"failed_$checks" || { ktap_diag "N=$n: failed, but left something behind"; bad=$((bad + 1)); }
		fi
		if [ "$steps" -ge 12 ]; then
			ktap_fail "$name: no end after $steps runs (last N=$n)"
			break
		fi
		n=$((n * 4))
	done
	ktap_check "$name: every injected failure was an error with a message or a working result" [ "$bad" = 0 ]
	ktap_check "$name: failures were injected ($nfail errors, $nok absorbed)" [ $((nfail + nok)) -gt 0 ]
	ktap_check "$name: key table unchanged" keys_unchanged
}

tool_sweep "dmsetup create" create "$TABLE" dmsetup create $T-v
tool_sweep "vaultctl open" open "$KEYTXT" "$VAULTCTL" "${OPEN[@]}"
tool_sweep "vaultctl key add" keyadd "$KEYTXT" \
	"$VAULTCTL" key add $T-added --key-file - --key-size 512

# ---- (c) the data path under load
# Failing every allocation system-wide would break the guest itself (fork,
# 9p); blocking (GFP_KERNEL/NOIO) allocations of the fio tasks would fail
# io_submit, not reach dm-vault.  So: the fio tasks only (task-filter and
# make-it-fail, inherited by its job processes), non-blocking allocations
# only (ignore-gfp-wait=Y): the GFP_NOWAIT bio clone, bounce pages and walks
# dm-vault takes in the submitter's context.  They must fall back to the
# mempool reserves and to the workqueue, never fail the I/O.  The
# workqueue's own blocking allocations are not failed (not the fio task).
PCT=${VAULT_ENV_FAULT_PERCENT:-20}

# fio_verify NAME [FAIL]: write+verify through $T-v; with FAIL the fio
# process runs with make-it-fail set.
fio_verify() {
	local name=$1 fail=${2:-0} pid i
	(
		[ "$fail" = 1 ] && echo 1 > /proc/self/make-it-fail
		exec fio --name="$name" --filename=/dev/mapper/$T-v \
			--ioengine=libaio --direct=1 --rw=randwrite \
			--bssplit=4k/40:64k/30:256k/30 --iodepth=16 --numjobs=2 \
			--size=4M --offset_increment=4M --verify=crc32c \
			--verify_fatal=1 --do_verify=1 --randrepeat=0 \
			--verify_state_save=0 --group_reporting \
			--output="$WORK/$name.out"
	) > "$WORK/$name.err" 2>&1 &
	pid=$!
	for ((i = 0; i < 15000; i++)); do
		kill -0 $pid 2>/dev/null || break
		tick 0.02
	done
	if kill -0 $pid 2>/dev/null; then
		ktap_diag "fio $name hung (300 s); blocked tasks:"
		echo w > /proc/sysrq-trigger
		pkill -9 -P $pid 2>/dev/null
		kill -9 $pid
		wait $pid
		return 124
	fi
	wait $pid
	i=$?
	if [ $i != 0 ]; then
		ktap_diag "fio $name exited $i"
		tail -n 20 "$WORK/$name.out" "$WORK/$name.err" | ktap_diag_stream
	fi
	return $i
}

dev_sum() { dd if=/dev/mapper/$T-v bs=1M iflag=direct status=none | sha256sum; }

if dmsetup create $T-v --table "$TABLE"; then
	fi_set "$FS" probability=0 interval=1 times=$TIMES0 verbose=1 \
		task-filter=Y ignore-gfp-wait=Y
	fi_set "$FP" probability=0 interval=1 times=$TIMES0 verbose=1 \
		task-filter=Y ignore-gfp-wait=Y min-order=0 ignore-gfp-highmem=Y
	fi_set "$FS" probability="$PCT"
	fi_set "$FP" probability="$PCT"
	t0=$SECONDS
	fio_verify faults 1
	rc=$?
	fi_set "$FS" probability=0
	fi_set "$FP" probability=0
	inj=$(fi_injected)
	ktap_diag "fio with $PCT% of its non-blocking allocations failing: exit $rc, $inj failures injected, $((SECONDS - t0)) s"
	ktap_check "I/O under allocation failures: fio write+verify passes" [ "$rc" = 0 ]
	ktap_check "no verify error" not grep -qiE 'verify.*(fail|bad)|crc32c' "$WORK/faults.out" "$WORK/faults.err"
	ktap_check "failures were injected into the I/O path ($inj)" [ "$inj" -gt 0 ]

	before=$(dev_sum)
	dmsetup remove $T-v
	if dmsetup create $T-v --table "$TABLE"; then
		ktap_check "after the faults: contents stable across a fresh table" \
			[ "$before" = "$(dev_sum)" ]
		oracle_check "after the faults" "$TABLE" "$WORK/key" /dev/mapper/$T-v
		ktap_check "after the faults: fio write+verify passes" fio_verify clean
		dmsetup remove $T-v
	else
		ktap_fail "after the faults: dmsetup create"
	fi
else
	ktap_fail "dmsetup create for the I/O test"
fi
fi_restore

ktap_check "remove $T-keep" dmsetup remove $T-keep

# ---- everything works again
if dmsetup create $T-v --table "$TABLE"; then
	dd if="$WORK/data" of=/dev/mapper/$T-v bs=64k oflag=direct status=none
	dmsetup remove $T-v
else
	ktap_fail "a fresh dmsetup create"
fi
if "$VAULTCTL" "${OPEN[@]}" < "$WORK/key"; then
	ktap_check "a fresh vaultctl open reads the data written before" data_ok /dev/mapper/$T-o
	ktap_check "vaultctl close" "$VAULTCTL" close $T-o
else
	ktap_fail "a fresh vaultctl open"
fi
ktap_check "key table as before the faults" keys_unchanged
ktap_check "no mapping left behind" not dm_exists $T-v
ktap_check "no open mapping left behind" not dm_exists $T-o

# ---- leaks: kmemleak (debug kernel) on objects dm-vault allocated
KML=$DBG/kmemleak
if [ -w "$KML" ]; then
	# Objects younger than 5 s are not reported yet.
	tick 6
	echo scan > "$KML"
	leaks=$(awk '/^unreferenced object/ { if (obj ~ /dm_vault|vault_/) print obj; obj = "" }
		{ obj = obj $0 "\n" } END { if (obj ~ /dm_vault|vault_/) print obj }' "$KML")
	if [ -n "$leaks" ]; then
		printf '%b' "$leaks" | head -n 60 | ktap_diag_stream
	fi
	ktap_check "kmemleak: no object leaked from dm-vault's allocations" [ -z "$leaks" ]
else
	ktap_diag "no kmemleak: leaks are not checked here"
fi

klog_new
ktap_diag "FAULT_INJECTION reports in the kernel log during the test: $(grep -c 'FAULT_INJECTION' "$WORK/kmsg")"

ktap_finish
