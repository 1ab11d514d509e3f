# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# tests/lib/kernel-log.sh - the kernel-log check behind run-all's last test,
# kernel-log-clean; tests/debug/selftest proves it catches each kind of report.
#
#   KLOG_BAD            extended regex: kernel log lines that fail a run
#   kmemleak_begin      on a kernel with kmemleak (the debug kernel): scan and
#                       clear what is already leaked, so that kernel_log_check
#                       reports only what leaks afterwards.  Sets kmemleak_on.
#   kernel_log_check    print every bad log line and every leaked object as
#                       "# " lines; return 1 when there was any (or when
#                       kmemleak stopped working), else 0.
#
# kmemleak reports an object once it was unreferenced in a scan and is older
# than 5 s; the second scan of kernel_log_check drops transient false
# positives (pointers that were only in registers or in flight).

# Lockdep and DEBUG_ATOMIC_SLEEP say "WARNING: possible ...", "BUG: sleeping
# function ..." or "INFO: ..."; KASAN "BUG: KASAN: ...".  BUG_ON() says
# "kernel BUG at FILE:LINE!" and then, on 6.1, "invalid opcode: 0000 [#1]"
# (6.12: "Oops: invalid opcode"; a user program's SIGILL says "trap invalid
# opcode ip:..." and is not matched).  The hung-task detector says "INFO:
# task NAME:PID blocked for more than N seconds."; RCU "rcu: INFO: rcu_sched
# detected stalls on CPUs/tasks:" or "rcu_preempt self-detected stall on
# CPU" (and "detected expedited stalls"); the NMI watchdog "hard LOCKUP".
KLOG_BAD='WARNING:|BUG:|Oops|KASAN|UBSAN|refcount_t|general protection'
KLOG_BAD+='|INFO: (possible|trying to register non-static key)'
KLOG_BAD+='|kernel BUG at|invalid opcode: [0-9a-f]+|INFO: task .* blocked for more than'
KLOG_BAD+='|detected (expedited )?stalls|self-detected stall|hard LOCKUP'
KMEMLEAK=/sys/kernel/debug/kmemleak
kmemleak_on=0

kmemleak_begin() {
	local t0=$SECONDS
	[ -e "$KMEMLEAK" ] || return 0
	if echo scan > "$KMEMLEAK" && echo clear > "$KMEMLEAK"; then
		kmemleak_on=1
		echo "# kmemleak: earlier leaks cleared ($((SECONDS - t0)) s)"
	else
		echo "# kmemleak: $KMEMLEAK does not take commands (disabled?); leaks are not checked"
	fi
}

kernel_log_check() {
	local bad leaks='' broken='' t0=$SECONDS
	if [ "$kmemleak_on" = 1 ]; then
		if echo scan > "$KMEMLEAK" && sleep 6 && echo scan > "$KMEMLEAK"; then
			leaks=$(cat "$KMEMLEAK")
			echo "# kmemleak: two scans ($((SECONDS - t0)) s)"
		else
			broken="kmemleak stopped taking commands (it disables itself on an internal error)"
		fi
	fi
	bad=$(dmesg 2>/dev/null | grep -E "$KLOG_BAD")
	[ -z "$bad" ] && [ -z "$leaks" ] && [ -z "$broken" ] && return 0
	if [ -n "$bad" ]; then
		echo "# the kernel log holds warnings or errors:"
		printf '%s\n' "$bad" | sed 's/^/# /'
	fi
	if [ -n "$leaks" ]; then
		# A frame in a module since unloaded, or in a freed __init
		# section, prints as a bare address or as whatever module
		# reused the address.
		echo "# kmemleak: $(printf '%s\n' "$leaks" | grep -c '^unreferenced object')" \
			"leaked object(s) (module frames may be stale: modules were unloaded):"
		printf '%s\n' "$leaks" | head -n 400 | sed 's/^/# /'
	fi
	[ -z "$broken" ] || echo "# $broken"
	return 1
}
