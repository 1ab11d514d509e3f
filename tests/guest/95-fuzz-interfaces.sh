#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A bounded random run against the module's kernel interfaces
# (build/vault-fuzz, tests/fuzz/vault-fuzz.c): mutated table lines loaded
# with DM_TABLE_LOAD, target messages to live and suspended devices,
# malformed and racing ioctls on /dev/vault-control (closing descriptors
# while other threads use them), and devices created and removed while
# messages are sent.  Passes when every call returned in time with a clean
# error, no kernel report appeared (the fuzzer watches /dev/kmsg with
# run-all's KLOG_BAD), no fz-* device or key is left, the module's
# reference count is back, and a new device still writes and reads back.
#
# Module autoloading is off during the run (vault-fuzz -M, after every
# valid base table has loaded once): each unknown cipher or device name
# would otherwise cost seconds of modprobe under TCG.
# ~30 s of fuzzing on a stock kernel with a fixed seed; 300 s with a fresh
# seed on the debug kernel (kmemleak present).  VAULT_ENV_FUZZ_SECONDS
# overrides the duration, VAULT_ENV_FUZZ_SEED the seed (printed first).
. "${VAULT_REPO:?}/tests/lib/ktap.sh"
# shellcheck source=tests/lib/kernel-log.sh
. "$VAULT_REPO/tests/lib/kernel-log.sh"

T=t95
BIN=${VAULT_BUILD:?}/vault-fuzz
export DM_DISABLE_UDEV=1
WORK=$(mktemp -d /tmp/$T.XXXXXX)
pid=

modprobe_path=$(cat /proc/sys/kernel/modprobe)
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	# vault-fuzz -M empties it during the run; be sure it is back
	echo "$modprobe_path" > /proc/sys/kernel/modprobe
	rm -rf "$WORK"
}
ktap_defer cleanup

[ -x "$BIN" ] || ktap_fail_all "$BIN missing (make userspace)"
need_vaultctl
need_cmd dmsetup
vault_setup_module || ktap_fail_all "dm-vault.ko cannot be loaded"
brd_setup 2 4 || ktap_fail_all "cannot create ramdisks"

if [ -e /sys/kernel/debug/kmemleak ]; then	# the debug kernel: slower, run longer
	secs=${VAULT_ENV_FUZZ_SECONDS:-300}
	watchdog=180
	slow_ms=30000	# a remove waits 5-20 s for RCU there
else
	secs=${VAULT_ENV_FUZZ_SECONDS:-30}
	watchdog=60
	slow_ms=5000
fi
# make check replays one seed, so that a CI run is not a lottery (threads
# still interleave differently); the debug run explores a fresh seed.
seed_arg=()
if [ -n "${VAULT_ENV_FUZZ_SEED:-}" ]; then
	seed_arg=(-s "$VAULT_ENV_FUZZ_SEED")
elif [ ! -e /sys/kernel/debug/kmemleak ]; then
	seed_arg=(-s 5967723690423044)
fi

# The run floods the kernel log with table errors, which can push earlier
# tests' reports out of the ring buffer before kernel-log-clean reads it.
earlier=$(dmesg | grep -E "$KLOG_BAD")
refcnt_before=$(cat /sys/module/dm_vault/refcnt)

start=$SECONDS
"$BIN" -d /dev/ram0 -M -t "$secs" -w "$watchdog" -S "$slow_ms" -k "$KLOG_BAD" "${seed_arg[@]}" \
	> "$WORK/out" 2>&1 &
pid=$!
# A call stuck in the kernel cannot be killed: do not wait for it for ever.
deadline=$((SECONDS + secs + watchdog + 120))
while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ] &&
	! grep -q 'WATCHDOG fired' "$WORK/out"; do
	sleep 1
done
if kill -0 "$pid" 2>/dev/null; then
	head -n 300 "$WORK/out" | ktap_diag_stream
	ktap_diag "vault-fuzz did not end (a call hangs); blocked tasks:"
	echo w > /proc/sysrq-trigger
	sleep 1
	dmesg | tail -n 80 | ktap_diag_stream
	pid=
	ktap_fail_all "vault-fuzz hung"
fi
wait "$pid"
rc=$?
pid=
ktap_diag "vault-fuzz: exit $rc after $((SECONDS - start)) s"
# Keep the log readable: the start (seed, first failures) and the end (counts).
if [ "$(wc -l < "$WORK/out")" -gt 300 ]; then
	head -n 200 "$WORK/out" | ktap_diag_stream
	ktap_diag "(... fuzzer output cut ...)"
	tail -n 60 "$WORK/out" | ktap_diag_stream
else
	ktap_diag_stream < "$WORK/out"
fi

if [ -n "$earlier" ] && ! dmesg | grep -qF -- "$(printf '%s\n' "$earlier" | head -n 1)"; then
	ktap_diag "earlier kernel reports left the ring buffer; logging them again"
	printf '%s\n' "$earlier" | while IFS= read -r line; do
		printf '<4>%s: kept across the fuzz run: %s\n' "$T" "$line" > /dev/kmsg
	done
fi

ktap_check "fuzz run clean (seed in the first line above)" [ "$rc" = 0 ]
ktap_check "no fz-* device left" not sh -c "dmsetup ls | grep -q '^fz-'"
ktap_check "no fz-* key left" not sh -c "'$VAULTCTL' key list 2>/dev/null | grep -q 'fz-'"
ktap_check "module reference count back to $refcnt_before" \
	[ "$(cat /sys/module/dm_vault/refcnt)" = "$refcnt_before" ]
ktap_finish
