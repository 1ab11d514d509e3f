#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# check-extended: a soak/stress test (about 40-50 s a kernel); make check keeps
# the functional tests within 45 minutes
#
# Memory pressure: writers held at their memory cgroup's limit make progress
# through vault and nothing deadlocks.  Two vault devices over ramdisks:
#  - swap: a process in a cgroup with memory.max well below its working set
#    (tests/lib/swap-workload.py) fills anonymous memory with a pattern, so
#    most of it must go to swap on vault.  While it is out, the pattern's
#    marker must be readable through the vault device and absent from the
#    ramdisk (swapped pages are encrypted).  Then every page is read back
#    (swap-in through vault, while other pages go out) and must verify;
#  - ext4: at the same time a process in a second small cgroup writes files
#    much larger than its limit (buffered, dirty-page writeback through vault
#    under cgroup pressure) and fsyncs them; after a remount they must equal
#    their source.
# Both cgroups must have hit their limit (memory.events max) without an OOM
# kill; pswpout and pswpin must have grown.  Every wait is bounded: on a
# time-out the blocked tasks (sysrq w) are printed and the check fails.
# Bounce memory: the target reports none, so the test samples the kernel
# memory not in any /proc/meminfo category (bounce pages land there; the
# ramdisks are filled beforehand so that brd's pages do not) and the
# devices' in-flight writes; the growth over the run must stay below
# BOUNCE_MAX_MIB, and must be gone again afterwards (no leak).
# On the debug kernel (kmemleak present) time limits are four times longer.
# VAULT_ENV_MEMPRESSURE_LIMIT (seconds, default 180) sets the limit; a tiny
# one shows what a hang report looks like.
. "${VAULT_REPO:?}/tests/lib/ktap.sh"
. "$VAULT_REPO/tests/lib/oracle.sh"

T=t65
RAM_MIB=64		# each ramdisk: swap device, ext4 device
HOG_MIB=40		# anonymous memory touched ...
HOG_LIMIT=16M		# ... in a cgroup this small
WRITE_MIB=12		# each of WRITE_FILES files written ...
WRITE_FILES=2
WRITE_LIMIT=8M		# ... in a cgroup this small
BOUNCE_MAX_MIB=64	# growth of unaccounted kernel memory allowed during the run
LEAK_MAX_MIB=48		# and left after the devices are gone
LIMIT=${VAULT_ENV_MEMPRESSURE_LIMIT:-180}	# seconds for the workloads
if [ -e /sys/kernel/debug/kmemleak ]; then
	LIMIT=$((LIMIT * 4))
fi
export DM_DISABLE_UDEV=1
WORK=$(mktemp -d /tmp/$T.XXXXXX)
MNT=$WORK/mnt
CGM=$WORK/cgroup
SW=$T-swap FS=$T-fs
CG_SWAP='' CG_WRITE='' CG=''
HUNG=0 SWAPON=0

# bounded SECS CMD...: run CMD, wait at most SECS (a command stuck in the
# kernel cannot be killed, so it is left behind); 124 on a time-out
bounded() {
	local secs=$1 pid t
	shift
	"$@" &
	pid=$!
	for ((t = 0; t < secs * 5; t++)); do
		kill -0 $pid 2>/dev/null || { wait $pid; return; }
		sleep 0.2
	done
	ktap_diag "still running after $secs s: $*"
	return 124
}

cleanup() {
	local c
	touch "$WORK/stop" "$WORK/go" 2>/dev/null
	for c in "$CG_SWAP" "$CG_WRITE"; do
		[ -n "$c" ] && [ -d "$c" ] && echo 1 > "$c/cgroup.kill" 2>/dev/null
	done
	# After a hang these may block for ever: leave them behind.
	if mountpoint -q "$MNT"; then bounded 30 umount "$MNT"; fi
	[ $SWAPON = 1 ] && bounded 60 swapoff /dev/mapper/$SW
	bounded 30 dmsetup remove --retry $FS
	bounded 30 dmsetup remove --retry $SW
	"$VAULTCTL" key remove $T-key >/dev/null 2>&1
	for c in "$CG_SWAP" "$CG_WRITE"; do
		[ -n "$c" ] && [ -d "$c" ] && rmdir "$c"
	done
	mountpoint -q "$CGM" && umount "$CGM"
	rm -rf "$WORK"
}
ktap_defer cleanup

need_vaultctl
need_cmd dmsetup mkswap swapon swapoff mkfs.ext4 python3 cmp grep od
vault_setup_module || ktap_fail_all "dm-vault.ko cannot be loaded"
[ -r /proc/swaps ] || ktap_skip_all "kernel without swap support"

# ---- cgroup v2 with the memory controller
if [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]; then
	CG=/sys/fs/cgroup
else
	mkdir -p "$CGM" && mount -t cgroup2 none "$CGM" ||
		ktap_skip_all "cannot mount cgroup2"
	CG=$CGM
fi
grep -qw memory "$CG/cgroup.controllers" ||
	ktap_skip_all "no memory controller in cgroup v2"
grep -qw memory "$CG/cgroup.subtree_control" ||
	echo +memory > "$CG/cgroup.subtree_control" ||
	ktap_fail_all "cannot enable the memory controller"
# io too, when there is one: cgroup writeback then follows the writer.
grep -qw io "$CG/cgroup.controllers" && echo +io > "$CG/cgroup.subtree_control"
CG_SWAP=$CG/$T-swap CG_WRITE=$CG/$T-write
mkdir "$CG_SWAP" "$CG_WRITE" &&
	echo $HOG_LIMIT > "$CG_SWAP/memory.max" &&
	echo $WRITE_LIMIT > "$CG_WRITE/memory.max" ||
	ktap_fail_all "cannot set up the cgroups"

# ---- devices: ramdisks filled first, so their pages stay constant later
ts=$SECONDS
brd_setup 2 $RAM_MIB || ktap_fail_all "cannot create the ramdisks"
for d in /dev/ram0 /dev/ram1; do
	dd if=/dev/zero of=$d bs=1M count=$RAM_MIB oflag=direct status=none ||
		ktap_fail_all "cannot fill $d"
done
head -c 64 /dev/urandom > "$WORK/key"
"$VAULTCTL" key add $T-key --key-file "$WORK/key" --key-size 512 ||
	ktap_fail_all "vaultctl key add"
FS_TABLE="0 $((RAM_MIB * 2048)) vault aes-xts-plain64 key:$T-key 0 /dev/ram1 0"
dmsetup create $SW --table "0 $((RAM_MIB * 2048)) vault aes-xts-plain64 key:$T-key 0 /dev/ram0 0" &&
dmsetup create $FS --table "$FS_TABLE" ||
	ktap_fail_all "dmsetup create"
other_swap=$(tail -n +2 /proc/swaps)
[ -z "$other_swap" ] || ktap_diag "other swap already active: $other_swap"
mkswap -q /dev/mapper/$SW >/dev/null && swapon /dev/mapper/$SW ||
	ktap_fail_all "mkswap/swapon on vault"
SWAPON=1
mkdir -p "$MNT"
mkfs.ext4 -q -F -b 4096 -E nodiscard,lazy_itable_init=0,lazy_journal_init=0 \
	/dev/mapper/$FS && mount -t ext4 /dev/mapper/$FS "$MNT" ||
	ktap_fail_all "mkfs.ext4/mount on vault"
head -c $((WRITE_MIB << 20)) /dev/urandom > "$WORK/data" ||
	ktap_fail_all "cannot make the data to write"
sync
ktap_diag "set-up took $((SECONDS - ts)) s"

# ---- sampling: kernel memory outside every /proc/meminfo category (bounce
# pages are there) and each vault device's in-flight writes
dm_name() { echo "dm-$(dmsetup info -c --noheadings -o minor "$1" | tr -d ' ')"; }
unaccounted_kb() {
	awk '{ v[$1] = $2 }
	END {
		n = v["MemTotal:"] - v["MemFree:"] - v["Buffers:"] - v["Cached:"] \
		    - v["SwapCached:"] - v["AnonPages:"] - v["Slab:"] \
		    - v["KernelStack:"] - v["PageTables:"] - v["SecPageTables:"] \
		    - v["VmallocUsed:"] - v["Percpu:"]
		print n
	}' /proc/meminfo
}
SW_DM=$(dm_name $SW) FS_DM=$(dm_name $FS)
sampler() {
	local sw fs
	while [ ! -e "$WORK/stop" ]; do
		read -r _ sw < /sys/block/$SW_DM/inflight
		read -r _ fs < /sys/block/$FS_DM/inflight
		echo "$(unaccounted_kb) $sw $fs"
		sleep 0.5
	done
}
# settle: drop clean caches and compact (drains per-CPU lists) before a
# measurement that is compared with another
settle() {
	sync
	echo 3 > /proc/sys/vm/drop_caches
	[ -w /proc/sys/vm/compact_memory ] && echo 1 > /proc/sys/vm/compact_memory
	sleep 0.5
}
vmstat_val() { awk -v k="$1" '$1 == k { print $2 }' /proc/vmstat; }
event() { awk -v k="$2" '$1 == k { print $2 }' "$1/memory.events"; }

settle
base_kb=$(for i in 1 2 3; do unaccounted_kb; sleep 0.3; done | sort -n | sed -n 2p)
pswpout0=$(vmstat_val pswpout) pswpin0=$(vmstat_val pswpin)

# ---- the workloads, at the same time
# in_cg CGROUP CMD...: CMD as a member of CGROUP
in_cg() { sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$@"; }
writer() {
	local i
	for ((i = 1; i <= WRITE_FILES; i++)); do
		dd if="$WORK/data" of="$MNT/f$i" bs=1M conv=fsync status=none || return 1
	done
}
sampler > "$WORK/samples" &
SAMPLER=$!
t0=$SECONDS
MARKER="t65-swap-marker-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
( in_cg "$CG_SWAP" python3 -S "$VAULT_REPO/tests/lib/swap-workload.py" \
	$HOG_MIB "$MARKER" "$WORK/ready" "$WORK/go" $LIMIT > "$WORK/swap.out" 2>&1
  echo $? > "$WORK/swap.rc" ) &
( in_cg "$CG_WRITE" bash -c "$(declare -f writer); WORK=$WORK MNT=$MNT WRITE_FILES=$WRITE_FILES writer" \
	> "$WORK/write.out" 2>&1
  echo $? > "$WORK/write.rc" ) &

# hang_dump WHAT: the blocked tasks and our workloads' kernel stacks
hang_dump() {
	local mark p
	HUNG=1
	ktap_diag "$1 did not finish in $LIMIT s: blocked tasks (sysrq w):"
	mark=$(dmesg | wc -l)
	echo w > /proc/sysrq-trigger
	sleep 1
	dmesg | tail -n +"$((mark + 1))" | head -n 150 | ktap_diag_stream
	for p in $(cat "$CG_SWAP/cgroup.procs" "$CG_WRITE/cgroup.procs" 2>/dev/null); do
		ktap_diag "stack of $p ($(cat /proc/$p/comm 2>/dev/null)):"
		ktap_diag_stream < /proc/$p/stack
	done
}
# has_marker DEV: 0 when DEV holds MARKER, 1 when not, 124 when hung
has_marker() {
	bounded 60 sh -c "dd if=$1 bs=1M iflag=direct status=none |
		grep -a -q -F '$MARKER'"
}
# wait_for DEADLINE FILE...: until one FILE exists or SECONDS reaches DEADLINE
wait_for() {
	local deadline=$1 f
	shift
	while :; do
		for f in "$@"; do
			[ -e "$f" ] && return 0
		done
		[ $SECONDS -lt "$deadline" ] || return 1
		sleep 0.2
	done
}
deadline=$((t0 + LIMIT))

if wait_for $deadline "$WORK/ready" "$WORK/swap.rc" && [ -e "$WORK/ready" ]; then
	ktap_diag "swap workload filled $HOG_MIB MiB in $((SECONDS - t0)) s;" \
		"cgroup swap use $(($(cat "$CG_SWAP/memory.swap.current" 2>/dev/null || echo 0) >> 20)) MiB"
	has_marker /dev/mapper/$SW
	ktap_check "swapped pages are on the vault device (marker found)" [ $? = 0 ]
	has_marker /dev/ram0
	ktap_check "swapped pages are encrypted (no marker on the ramdisk)" [ $? = 1 ]
else
	ktap_fail "swap workload did not fill its memory in $LIMIT s"
	[ -e "$WORK/swap.rc" ] || hang_dump "the swap workload"
fi
touch "$WORK/go"

# await RC_FILE WHO CHECK: WHO's exit status in RC_FILE by the deadline, 0
await() {
	wait_for $deadline "$1"
	if [ ! -e "$1" ]; then
		ktap_fail "$2 did not finish in $LIMIT s"
		[ $HUNG = 1 ] || hang_dump "the $2"
	else
		ktap_check "$3" [ "$(cat "$1")" = 0 ]
	fi
}
await "$WORK/write.rc" "buffered writer" \
	"buffered writer ($WRITE_FILES x $WRITE_MIB MiB, fsync, in $WRITE_LIMIT) finished"
ktap_diag "writer done after $((SECONDS - t0)) s"
await "$WORK/swap.rc" "swap workload" \
	"swap workload ($HOG_MIB MiB in $HOG_LIMIT) read back every page intact"
ktap_diag "workloads done after $((SECONDS - t0)) s"
ktap_diag_stream < "$WORK/swap.out"
ktap_diag_stream < "$WORK/write.out"
touch "$WORK/stop"
wait $SAMPLER
if [ $HUNG = 1 ]; then
	echo 1 > "$CG_SWAP/cgroup.kill" 2>/dev/null
	echo 1 > "$CG_WRITE/cgroup.kill" 2>/dev/null
	ktap_finish
fi

# ---- what the kernel counted
out=$(($(vmstat_val pswpout) - pswpout0)) in=$(($(vmstat_val pswpin) - pswpin0))
ktap_diag "pswpout +$out pages, pswpin +$in pages"
min_out=$(((HOG_MIB - ${HOG_LIMIT%M}) * 256 / 2))
ktap_check "pages went out to swap (pswpout +$out >= $min_out)" [ $out -ge $min_out ]
ktap_check "pages came back from swap (pswpin +$in >= $min_out)" [ $in -ge $min_out ]
# pressed CGROUP: the cgroup reached its limit, and nothing was OOM-killed
pressed() { [ "$(event "$1" max)" -gt 0 ] && [ "$(event "$1" oom_kill)" = 0 ]; }
for c in "$CG_SWAP" "$CG_WRITE"; do
	ktap_diag "$(basename "$c") memory.events: $(tr '\n' ' ' < "$c/memory.events")"
	ktap_check "$(basename "$c"): at its limit (max events), no OOM kill" pressed "$c"
done

# ---- bounce memory
read -r peak_kb sw_peak fs_peak < <(awk '
	$1 > p { p = $1 } $2 > s { s = $2 } $3 > f { f = $3 }
	END { print p + 0, s + 0, f + 0 }' "$WORK/samples")
ktap_diag "unaccounted kernel memory: $((base_kb >> 10)) MiB before, peak" \
	"+$(((peak_kb - base_kb) >> 10)) MiB over $(wc -l < "$WORK/samples") samples;" \
	"peak in-flight writes: swap $sw_peak, ext4 $fs_peak"
ktap_check "bounce memory bounded (unaccounted peak growth < $BOUNCE_MAX_MIB MiB)" \
	[ $(((peak_kb - base_kb) >> 10)) -lt $BOUNCE_MAX_MIB ]

# ---- the data written under pressure, after a remount
ktap_check "umount ext4" bounded 60 umount "$MNT"
ktap_check "mount ext4 again" mount -t ext4 /dev/mapper/$FS "$MNT"
same_files() {
	local i
	for ((i = 1; i <= WRITE_FILES; i++)); do
		cmp "$WORK/data" "$MNT/f$i" || return 1
	done
}
ktap_check "written files read back intact" bounded 120 same_files
ktap_check "umount ext4" bounded 60 umount "$MNT"
oracle_check "ext4 written under pressure" "$FS_TABLE" "$WORK/key" /dev/mapper/$FS
ktap_check "swapoff" bounded 60 swapoff /dev/mapper/$SW && SWAPON=0
removable() { dmsetup remove $FS && dmsetup remove $SW; }
ktap_check "devices removable" removable
# (the ramdisks keep their pages: only what vault did not free remains)
settle
after_kb=$(unaccounted_kb)
ktap_diag "unaccounted kernel memory after removal: $(((after_kb - base_kb) >> 10)) MiB over the start"
ktap_check "no bounce memory left behind (< $LEAK_MAX_MIB MiB)" \
	[ $(((after_kb - base_kb) >> 10)) -lt $LEAK_MAX_MIB ]
ktap_diag "test body took $((SECONDS - t0)) s"
ktap_finish
