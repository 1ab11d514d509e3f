#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# 20-reencrypt-crash.sh - power cuts during an online re-encryption (issue
# 14), resumed by either tool.  Run by `make check-extended` on the host;
# prints KTAP, exits 0 pass, 4 skip, 1 fail.  For each kernel:
#
#  replay JOB   one guest (tests/extended/reencrypt-crash/guest-replay):
#               dm-log-writes under the LUKS2 volume records JOB's online
#               re-encryption of an ext4; the log is replayed onto a copy to
#               every flush/FUA entry (every checkpoint and every hotzone's
#               data flush) and to plain writes between them; on each state
#               every resumer finishes the job offline and cryptsetup checks
#               every block of plaintext against the reference and
#               e2fsck -fn.  JOB: cryptsetup (the oracle, proving the
#               harness), and vaultctl once its `reencrypt` can resume.
#  kill N       hard QEMU kills: a guest re-encrypts a file-backed disk
#               (cache=writethrough: what the guest saw acknowledged is in
#               the file) and the host kills QEMU with SIGKILL at a random
#               time in the job; a new guest resumes it (resumers taken in
#               turn) and checks as above (guest-kill).
#
# Environment:
#   RC_KERNELS      kernels to run (default: every kernel with
#                   /boot/vmlinuz-KVER and build/KVER/dm-vault.ko)
#   RC_KILLS        kills per kernel (default 3)
#   RC_KILL_HOTZONE hotzone of the killed jobs (default 256K: a longer job)
#   RC_KILL_DATA_MIB data size of the killed jobs' disk (default 48)
#   RC_FLUSHES, RC_WRITES, RC_HOTZONE, RC_DATA_MIB   the replay guest's
#                   flush/FUA stops (all), write stops (4), hotzone (1M) and
#                   data size in MiB (4), passed as VAULT_ENV_RC_*
#   RC_SEED         seed of the kill times (default: random, printed)
#   RC_JOBS         the jobs whose writes are cut (default: cryptsetup vaultctl)
#   RC_GUEST_TIMEOUT  seconds one guest may take (default 2400)
# Logs: build/logs/reencrypt-crash-*.log
{
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$repo/build
logs=$build/logs
work=$build/extended/reencrypt-crash
gdir=$here/reencrypt-crash
kills=${RC_KILLS:-3}
# long enough that a kill 0.5-5.4 s in lands mid-job (16 MiB took under 1.5 s on 6.12)
kill_mib=${RC_KILL_DATA_MIB:-48}
seed=${RC_SEED:-$RANDOM}
RANDOM=$seed
mkdir -p "$logs" "$work"
export VAULT_ENV_RC_FLUSHES=${RC_FLUSHES:-100000}
export VAULT_ENV_RC_WRITES=${RC_WRITES:-4}
export VAULT_ENV_RC_HOTZONE=${RC_HOTZONE:-1M}
export VAULT_ENV_RC_DATA_MIB=${RC_DATA_MIB:-4}
export VAULT_ENV_RC_KILL_HOTZONE=${RC_KILL_HOTZONE:-256K}

kernels=()
if [ -n "${RC_KERNELS:-}" ]; then
	read -ra kernels <<< "$RC_KERNELS"
else
	for d in /lib/modules/*/; do
		k=$(basename "$d")
		[ -r "/boot/vmlinuz-$k" ] && [ -f "$build/$k/dm-vault.ko" ] && kernels+=("$k")
	done
fi
echo "KTAP version 1"
if [ ${#kernels[@]} -eq 0 ] || [ ! -x "$build/vaultctl" ]; then
	echo "1..0 # SKIP no kernel with build/KVER/dm-vault.ko or no build/vaultctl (make module userspace)"
	exit 4
fi

jobs=(cryptsetup)
resumers=(cryptsetup)
if "$build/vaultctl" reencrypt --help 2>&1 | grep -q -- --resume-only; then
	jobs+=(vaultctl)
	resumers+=(vaultctl)
fi
# RC_JOBS: some of the jobs only (e.g. "vaultctl"); both still resume
[ -z "${RC_JOBS:-}" ] || read -ra jobs <<< "$RC_JOBS"
echo "# jobs: ${jobs[*]}; resumers: ${resumers[*]}; kill seed $seed"
echo "1..$((${#kernels[@]} * (${#jobs[@]} + kills)))"

n=0 failed=0
result() {	# STATUS NAME
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2"
		failed=$((failed + 1))
	fi
}

# guest KVER LOG CMD...: run CMD in a guest, its output to LOG (and as "# ").
guest() {
	local k=$1 log=$2
	shift 2
	VAULT_MEMDUMP=0 VAULT_TPM=0 VAULT_GUEST_TIMEOUT=${RC_GUEST_TIMEOUT:-2400} \
		VAULT_CONSOLE_LOG=$log.console nice -n 19 "$repo/tests/vm/run-guest" "$k" -- "$@" \
		> "$log" 2>&1
}

# kill_round KVER I JOB RESUMER: one hard kill and its resume.
kill_round() {
	local k=$1 i=$2 job=$3 who=$4 disk=$work/$1-disk.img ref=$work/$1-ref.img
	local log=$logs/reencrypt-crash-$k-kill$i.log at t pid st
	local drives="-drive file=$disk,format=raw,if=virtio,cache=writethrough"
	drives+=" -drive file=$ref,format=raw,if=virtio,readonly=on"
	cp "$work/$k-pristine.img" "$disk" || return 1
	# tenths of a second after the job's start: 0.5 to 5.4 s
	at=$((RANDOM % 50 + 5))
	at=$((at / 10)).$((at % 10))
	VAULT_QEMU_EXTRA=$drives guest "$k" "$log" "$gdir/guest-kill" job "$job" &
	local gpid=$!
	# wait for the job to start, then for the chosen second
	for ((t = 0; t < 3000; t++)); do
		grep -q JOB-STARTED "$log" 2>/dev/null && break
		kill -0 $gpid 2>/dev/null || break
		sleep 0.2
	done
	sleep "$at"
	# the QEMU of this guest: the one whose command line names this disk
	pid=$(pgrep -f -- "file=$disk,format=raw" | head -n 1)
	KILLED=0
	if grep -q JOB-FINISHED "$log"; then
		echo "# kill $i: the job finished before second $at (no kill)"
	elif [ -n "$pid" ]; then
		kill -9 "$pid" && KILLED=1
		echo "# kill $i: SIGKILL to QEMU $pid at second $at of $job's job"
	fi
	wait $gpid
	VAULT_QEMU_EXTRA=$drives \
		guest "$k" "$log.verify" "$gdir/guest-kill" verify "$who"
	st=$?
	grep -E '^# (not )?ok' "$log.verify" | sed 's/^# /#   /'
	return $st
}

for k in "${kernels[@]}"; do
	for job in "${jobs[@]}"; do
		log=$logs/reencrypt-crash-$k-replay-$job.log
		t=$SECONDS
		guest "$k" "$log" "$gdir/guest-replay" "$job" "${resumers[@]}"
		st=$?
		grep -E '^# (points|log|job took)' "$log"
		grep -c '^# ok - entry' "$log" | sed 's/^/# cells passed: /'
		grep -c '^# TODO ' "$log" | sed 's/^/# cells TODO (finalization window; see the log): /'
		grep '^# not ok' "$log" | head -n 10
		echo "# $k replay $job: $((SECONDS - t)) s (log $log)"
		result $st "$k replay: job $job, resumed by ${resumers[*]}"
	done

	t=$SECONDS
	truncate -s 0 "$work/$k-pristine.img" "$work/$k-ref.img"
	truncate -s $((kill_mib + 4))M "$work/$k-pristine.img"	# + the 4 MiB header
	truncate -s ${kill_mib}M "$work/$k-ref.img"
	if ! VAULT_QEMU_EXTRA="-drive file=$work/$k-pristine.img,format=raw,if=virtio \
-drive file=$work/$k-ref.img,format=raw,if=virtio" \
		guest "$k" "$logs/reencrypt-crash-$k-setup.log" "$gdir/guest-kill" setup; then
		for ((i = 1; i <= kills; i++)); do
			result 1 "$k kill $i: setting up the disk failed (log $logs/reencrypt-crash-$k-setup.log)"
		done
		continue
	fi
	for ((i = 1; i <= kills; i++)); do
		job=${jobs[$(((i - 1) % ${#jobs[@]}))]}
		who=${resumers[$(((i - 1) / ${#jobs[@]} % ${#resumers[@]}))]}
		t=$SECONDS
		KILLED=0
		kill_round "$k" "$i" "$job" "$who"
		st=$?
		echo "# $k kill $i: $((SECONDS - t)) s"
		if [ $KILLED = 1 ]; then
			result $st "$k kill $i: job $job killed, resumed by $who"
		elif [ $st = 0 ]; then
			n=$((n + 1))
			echo "ok $n $k kill $i: job $job # SKIP it finished before the kill"
		else
			result $st "$k kill $i: job $job (not killed), checked by $who"
		fi
	done
	rm -f "$work/$k-disk.img"
done
echo "# $((n - failed)) passed, $failed failed"
[ $failed = 0 ]
exit
}
