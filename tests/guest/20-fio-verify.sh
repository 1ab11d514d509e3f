#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Data integrity under concurrent direct I/O: fio writes crc32c-tagged
# blocks (random 4 KiB and 1 MiB, several jobs, deep queues) through a vault
# device over a ramdisk and verifies every block (verify_fatal), for the
# default data path, for no_read_workqueue/no_write_workqueue, and with
# 4096-byte encryption sectors.  Then the whole device is re-read with a
# fresh table to prove the data was really on disk, not only in flight,
# and read through dm-crypt (tests/lib/oracle.sh), which must see the same.
# First, REQ_NOWAIT (io_uring's first try, pwritev2's RWF_NOWAIT): vault
# takes such bios (no io_uring worker needed, unlike dm-crypt) and refuses
# only a large write beside an active reader, writing nothing of it.
. "${VAULT_REPO:?}/tests/lib/ktap.sh"
. "$VAULT_REPO/tests/lib/oracle.sh"

T=t20
MIB=16				# device size
LEN=$((MIB * 2048))
export DM_DISABLE_UDEV=1
WORK=$(mktemp -d /tmp/$T.XXXXXX)
cd "$WORK" || exit 1

cleanup() {
	dmsetup remove --retry $T-v >/dev/null 2>&1
	dmsetup remove --retry $T-c >/dev/null 2>&1
	"$VAULTCTL" key remove $T-key >/dev/null 2>&1
	cd / && rm -rf "$WORK"
}
ktap_defer cleanup

need_vaultctl
vault_setup_module || ktap_fail_all "dm-vault.ko cannot be loaded"
need_cmd fio dmsetup python3
brd_setup 1 "$MIB" || ktap_fail_all "cannot create a ramdisk"
DEV=/dev/ram0

engine=libaio
fio --enghelp=io_uring >/dev/null 2>&1 &&
	[ "$(cat /proc/sys/kernel/io_uring_disabled 2>/dev/null || echo 0)" = 0 ] &&
	engine=io_uring

head -c 64 /dev/urandom > "$WORK/key"
"$VAULTCTL" key add $T-key --key-file "$WORK/key" --key-size 512 ||
	ktap_fail_all "vaultctl key add"

# fio_job NAME BS RW NUMJOBS IODEPTH [ENGINE]: each job owns its own slice
# of the device (offset_increment) so the jobs' verify headers never
# overwrite each other.
fio_job() {
	local name=$1 bs=$2 rw=$3 jobs=$4 depth=$5 eng=${6:-$engine}
	local slice=$(( (MIB / jobs) & ~1 ))M

	timeout 150 fio --name="$name" --filename=/dev/mapper/$T-v \
		--ioengine="$eng" --direct=1 --rw="$rw" --bs="$bs" \
		--iodepth="$depth" --numjobs="$jobs" --size="$slice" \
		--offset_increment="$slice" --verify=crc32c --verify_fatal=1 \
		--verify_backlog=64 --do_verify=1 --randrepeat=0 \
		--verify_state_save=0 \
		--group_reporting --output="$WORK/$name.out" \
		>/dev/null 2>"$WORK/$name.err"
	local rc=$?
	if [ $rc != 0 ]; then
		ktap_diag "fio $name exited $rc"
		tail -n 20 "$WORK/$name.out" "$WORK/$name.err" | ktap_diag_stream
	fi
	return $rc
}

dev_majmin() { printf '%d:%d' "0x$(stat -c %t "$1")" "0x$(stat -c %T "$1")"; }

# A table load followed by the same fio runs.
run_variant() {
	local vname=$1 opts=$2
	local line="0 $LEN vault aes-xts-plain64 key:$T-key 0 $DEV 0${opts:+ $opts}"

	dmsetup create $T-v --table "$line" ||
		{ ktap_fail "$vname: dmsetup create"; return; }
	ktap_check "$vname: table reads back" \
		[ "$(dmsetup table $T-v | cut -d' ' -f4-)" = "$(echo "$line" | cut -d' ' -f4- | sed "s# $DEV # $(dev_majmin $DEV) #")" ]
	ktap_check "$vname: randwrite 4k x4 qd16 $engine" fio_job "$vname-4k" 4k randwrite 4 16
	ktap_check "$vname: randwrite 1M x2 qd16 $engine" fio_job "$vname-1m" 1M randwrite 2 16
	ktap_check "$vname: mixed randrw 64k x3 qd32 libaio" fio_job "$vname-rw" 64k randrw 3 32 libaio

	# everything fio left must read back identically after a fresh table
	local before after
	before=$(dd if=/dev/mapper/$T-v bs=1M iflag=direct status=none | sha256sum)
	dmsetup remove $T-v
	dmsetup create $T-v --table "$line" ||
		{ ktap_fail "$vname: dmsetup re-create"; return; }
	after=$(dd if=/dev/mapper/$T-v bs=1M iflag=direct status=none | sha256sum)
	ktap_check "$vname: contents stable across table reload" [ "$before" = "$after" ]
	oracle_check "$vname" "$line" "$WORK/key" /dev/mapper/$T-v
	dmsetup remove $T-v
}

# io_uring first tries every I/O with REQ_NOWAIT, inline, and hands it to
# one of its worker threads (iou-wrk-*) only when the mapping does not take
# such bios.  vault takes them (target 1.4.0) when its lower device does:
# reads from vault over the ramdisk need no worker; the same reads from
# dm-crypt, which does not take them, do (the control: the probe sees
# workers when there are some).
# iowq_workers DEV: the most io_uring workers seen during 4 s of reads.
iowq_workers() {
	local pid most=0 n
	fio --name=nowait --filename="$1" --ioengine=io_uring --direct=1 \
		--rw=randread --bs=4k --iodepth=8 --time_based --runtime=4 \
		--output=/dev/null >/dev/null 2>&1 &
	pid=$!
	while kill -0 $pid 2>/dev/null; do
		n=$(cat /proc/[0-9]*/task/*/comm 2>/dev/null | grep -c '^iou-wrk')
		[ "$n" -gt "$most" ] && most=$n
		sleep 0.5
	done
	wait $pid
	echo "$most"
}
# A large write beside an active reader (design.rst, "A reader beside a
# writer"): a REQ_NOWAIT try of it may not yield, so map() refuses it
# (BLK_STS_AGAIN: pwritev2(RWF_NOWAIT) fails with EAGAIN, and io_uring
# makes it again from a worker) and writes nothing; a small one, or one
# with no read in the last 100 ms, or one that may wait, is written.
# nowait-probe.py DEV prints one word per case (ok, EAGAIN, ...).
cat > "$WORK/nowait-probe.py" <<'PY'
import errno, mmap, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_DIRECT)
buf = mmap.mmap(-1, 1 << 20)
def write(size, off, fill, flags=0):
    buf[:size] = bytes([fill]) * size
    try:
        return "ok" if os.pwritev(fd, [memoryview(buf)[:size]], off, flags) == size else "short"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
def read_back(size, off):
    os.preadv(fd, [memoryview(buf)[:size]], off)
    return bytes(buf[:size])
def reader_then_write(size, off, fill):
    os.preadv(fd, [memoryview(buf)[:4096]], 8 << 20)    # a reader, just now
    return write(size, off, fill, os.RWF_NOWAIT)
big, small = 128 << 10, 64 << 10
time.sleep(0.3)                                         # no read in the window
print("idle-big", write(big, 0, 1, os.RWF_NOWAIT), read_back(big, 0) == bytes([1]) * big)
# up to 5 tries: each read and write are microseconds apart, far inside
# the 100 ms window, unless the vCPU stalls in between
for _ in range(5):
    r = reader_then_write(big, 0, 2)
    if r == "EAGAIN":
        break
print("reader-big", r, read_back(big, 0) == bytes([1]) * big)
print("reader-small", reader_then_write(small, big, 3), read_back(small, big) == bytes([3]) * small)
os.preadv(fd, [memoryview(buf)[:4096]], 8 << 20)
print("reader-big-wait", write(big, 0, 4), read_back(big, 0) == bytes([4]) * big)
PY
nowait_write_checks() {
	local out
	out=$(python3 "$WORK/nowait-probe.py" "$1" 2>&1)
	printf '%s\n' "$out" | ktap_diag_stream
	ktap_check "nowait: a 128 KiB RWF_NOWAIT write with no reader active is written" \
		grep -qx 'idle-big ok True' <<< "$out"
	ktap_check "nowait: right after a read, a 128 KiB RWF_NOWAIT write is refused with EAGAIN and writes nothing" \
		grep -qx 'reader-big EAGAIN True' <<< "$out"
	ktap_check "nowait: right after a read, a 64 KiB RWF_NOWAIT write is written" \
		grep -qx 'reader-small ok True' <<< "$out"
	ktap_check "nowait: right after a read, the 128 KiB write that may wait is written" \
		grep -qx 'reader-big-wait ok True' <<< "$out"
}
nowait_checks() {
	local keyhex
	if [ "$engine" != io_uring ]; then
		ktap_diag "nowait: no io_uring on this kernel; not checked"
		return
	fi
	dmsetup create $T-v --table "0 $LEN vault aes-xts-plain64 key:$T-key 0 $DEV 0" ||
		{ ktap_fail "nowait: dmsetup create"; return; }
	ktap_check "nowait: io_uring reads from vault over $DEV need no io-wq worker" \
		[ "$(iowq_workers /dev/mapper/$T-v)" = 0 ]
	nowait_write_checks /dev/mapper/$T-v
	dmsetup remove $T-v
	keyhex=$(od -An -v -tx1 "$WORK/key" | tr -d ' \n')
	printf '0 %s crypt aes-xts-plain64 %s 0 %s 0\n' "$LEN" "$keyhex" "$DEV" |
		dmsetup create $T-c || { ktap_fail "nowait: dm-crypt create"; return; }
	unset keyhex
	ktap_check "nowait: (control) the same reads from dm-crypt do" \
		[ "$(iowq_workers /dev/mapper/$T-c)" -gt 0 ]
	dmsetup remove $T-c
}
nowait_checks

run_variant default ""
run_variant no-workqueues "2 no_read_workqueue no_write_workqueue"
run_variant sector4096 "1 sector_size:4096"
run_variant all-options "4 same_cpu_crypt no_read_workqueue no_write_workqueue sector_size:4096"

ktap_finish
