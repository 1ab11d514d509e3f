# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/lib/ktap.sh - helpers for the guest tests (tests/guest/NN-name.sh).
#
# Source it first thing:   . "${VAULT_REPO:?}/tests/lib/ktap.sh"
#
# A guest test is one KTAP test of tests/guest/run-all: it prints diagnostics
# as lines starting with "# " (run-all prefixes other lines itself) and exits
# 0 = pass, 4 = skip, anything else = fail.  Inside, it counts sub-checks:
#
# Results
#   ktap_check DESC CMD [ARG...]  run CMD; print "# ok - DESC" or
#                                 "# not ok - DESC (exit N)"; count it; return
#                                 CMD's success (0) or 1, so `|| ...` works.
#   ktap_pass DESC / ktap_fail DESC   count a check decided by the caller.
#   not CMD [ARG...]              succeed when CMD fails with a status of
#                                 1..123 (for ktap_check).  A time-out (124,
#                                 137), a command not found (126, 127) or a
#                                 signal (>128) is not "false": it fails.
#   fails_with STATUS ERE CMD...  a refusal: succeed only when CMD exits with
#                                 exactly STATUS and its stdout+stderr match
#                                 the extended regex ERE (ERE "" matches any
#                                 message).  A time-out or any other status
#                                 fails, printing what CMD said.
#   ktap_finish                   print the tally and exit: 1 when any check
#                                 failed or when no check ran at all, else 0.
#   ktap_skip REASON              (alias ktap_skip_all) print "# SKIP REASON",
#                                 exit 4.  The reason shows in run-all's line.
#   ktap_fail_all REASON          print "# not ok - REASON", exit 1 (a setup
#                                 step failed, nothing else can be checked).
#   ktap_diag MSG...              print "# MSG".
#   ktap_diag_stream              copy stdin as "# " lines (e.g. a log tail).
#
# Requirements
#   need_cmd CMD...               (alias require_cmd) skip unless every CMD is
#                                 in PATH.
#   need_vaultctl                 skip unless $VAULTCTL is built.
#   ktap_skip_dep REASON          skip because a declared dependency (one
#                                 `make deps` installs) is missing; with
#                                 VAULT_STRICT_DEPS=1 (make check, .ci/run)
#                                 fail instead.  need_cmd and need_vaultctl
#                                 use it.
#   ktap_dep_missing REASON       the same for a dependency that only some
#                                 cases need: a failed check with
#                                 VAULT_STRICT_DEPS=1, else a diagnostic.
#   vault_setup_module            (alias load_vault) load dm-mod, then insmod
#                                 $VAULT_KO unless dm_vault is loaded; wait
#                                 for /dev/vault-control.  Returns non-zero
#                                 (and prints why) if it cannot.
#   vault_unload_module           rmmod dm_vault (returns rmmod's status).
#   vault_key_names [PREFIX]      names of loaded keys (vaultctl key list)
#                                 that start with PREFIX.
#
# Block devices
#   brd_setup COUNT MIB           (re)load brd with COUNT ramdisks of MIB MiB:
#                                 /dev/ram0 .. /dev/ram$((COUNT-1)).  Fails if
#                                 brd is busy.  brd_teardown unloads it.
#   loop_setup MIB VAR            a loop device over a new sparse file in /tmp,
#                                 its path stored in VAR, its removal
#                                 registered with ktap_defer.  (Without VAR it
#                                 prints the path; then, run in $(...), no
#                                 removal is registered: detach it yourself.)
#   vdmsetup ARGS...              dmsetup with DM_DISABLE_UDEV=1 (no udev in
#                                 the guest: libdevmapper makes the nodes).
#
# Cleanup
#   ktap_defer CMD [ARG...]       run CMD at exit, last registered first.
#                                 ktap.sh installs `trap ktap_cleanup EXIT`; a
#                                 test that sets its own EXIT trap should call
#                                 ktap_cleanup from it.
#
# Environment (set by tests/vm/run-guest): VAULT_REPO, VAULT_KVER, VAULT_KO,
# VAULTCTL, VAULT_BUILD.  Defaults are derived here when a test is run by
# hand in a guest started some other way.

: "${VAULT_REPO:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${VAULT_KVER:=$(uname -r)}"
: "${VAULT_BUILD:=$VAULT_REPO/build}"
: "${VAULT_KO:=$VAULT_BUILD/$VAULT_KVER/dm-vault.ko}"
: "${VAULTCTL:=$VAULT_BUILD/vaultctl}"
export VAULT_REPO VAULT_KVER VAULT_BUILD VAULT_KO VAULTCTL

KTAP_PASSED=0
KTAP_FAILED=0
KTAP_DEFERRED=()

ktap_diag() {
	echo "# $*"
}

ktap_diag_stream() {
	local line
	while IFS= read -r line || [ -n "$line" ]; do
		echo "# $line"
	done
}

ktap_pass() {
	KTAP_PASSED=$((KTAP_PASSED + 1))
	echo "# ok - $*"
}

ktap_fail() {
	KTAP_FAILED=$((KTAP_FAILED + 1))
	echo "# not ok - $*"
}

not() {
	local rc
	"$@"
	rc=$?
	[ "$rc" -ge 1 ] && [ "$rc" -le 123 ] && return 0
	[ "$rc" -eq 0 ] || ktap_diag "not: '$*' did not fail cleanly: exit $rc$(ktap_rc_meaning "$rc")"
	return 1
}

# ktap_rc_meaning RC: what an exit status above 123 means, for messages.
ktap_rc_meaning() {
	case $1 in
	124) echo " (timed out)" ;;
	126|127) echo " (could not be run)" ;;
	137) echo " (killed: timed out?)" ;;
	*) [ "$1" -gt 128 ] && echo " (killed by signal $(($1 - 128)))" ;;
	esac
}

fails_with() {
	local want=$1 ere=$2 out rc
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" = "$want" ] && grep -qE -- "$ere" <<<"$out"; then
		return 0
	fi
	if [ "$rc" != "$want" ]; then
		ktap_diag "exit $rc$(ktap_rc_meaning "$rc"), wanted $want: $*"
	else
		ktap_diag "message does not match /$ere/: $*"
	fi
	[ -z "$out" ] || printf '%s\n' "$out" | head -n 20 | ktap_diag_stream
	return 1
}

ktap_check() {
	local desc=$1 rc
	shift
	"$@"
	rc=$?
	if [ "$rc" -eq 0 ]; then
		ktap_pass "$desc"
		return 0
	fi
	ktap_fail "$desc (exit $rc)"
	return 1
}

ktap_finish() {
	local total=$((KTAP_PASSED + KTAP_FAILED))

	if [ "$total" -eq 0 ]; then
		echo "# not ok - no check ran"
		exit 1
	fi
	echo "# checks: $KTAP_PASSED passed, $KTAP_FAILED failed"
	[ "$KTAP_FAILED" -eq 0 ] || exit 1
	exit 0
}

ktap_skip() {
	echo "# SKIP $*"
	exit 4
}

ktap_skip_all() {
	ktap_skip "$@"
}

ktap_fail_all() {
	ktap_fail "$*"
	exit 1
}

ktap_skip_dep() {
	[ "${VAULT_STRICT_DEPS:-0}" = 1 ] &&
		ktap_fail_all "$* (a declared dependency, VAULT_STRICT_DEPS=1: not a skip)"
	ktap_skip "$@"
}

ktap_dep_missing() {
	if [ "${VAULT_STRICT_DEPS:-0}" = 1 ]; then
		ktap_fail "$* (a declared dependency, VAULT_STRICT_DEPS=1)"
	else
		ktap_diag "$*"
	fi
}

need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || ktap_skip_dep "$c is not installed"
	done
}

require_cmd() {
	need_cmd "$@"
}

need_vaultctl() {
	[ -x "$VAULTCTL" ] || ktap_skip_dep "vaultctl is not built ($VAULTCTL)"
}

ktap_defer() {
	local q
	printf -v q '%q ' "$@"
	KTAP_DEFERRED+=("$q")
}

ktap_cleanup() {
	local i
	for ((i = ${#KTAP_DEFERRED[@]} - 1; i >= 0; i--)); do
		eval "${KTAP_DEFERRED[i]}" >/dev/null 2>&1
	done
	KTAP_DEFERRED=()
}
trap ktap_cleanup EXIT

vdmsetup() {
	DM_DISABLE_UDEV=1 dmsetup "$@"
}

vault_setup_module() {
	local i

	if [ ! -d /sys/module/dm_vault ]; then
		if [ ! -f "$VAULT_KO" ]; then
			ktap_diag "no module at $VAULT_KO (make module)"
			return 1
		fi
		modprobe dm-mod || { ktap_diag "modprobe dm-mod failed"; return 1; }
		if ! insmod "$VAULT_KO"; then
			ktap_diag "insmod $VAULT_KO failed; kernel log:"
			dmesg | tail -n 5 | ktap_diag_stream
			return 1
		fi
	fi
	for i in $(seq 50); do
		[ -c /dev/vault-control ] && return 0
		sleep 0.1
	done
	ktap_diag "/dev/vault-control did not appear"
	return 1
}

load_vault() {
	vault_setup_module "$@"
}

vault_unload_module() {
	[ -d /sys/module/dm_vault ] || return 0
	rmmod dm_vault
}

# swap_lower VAULT LOWER TABLE: a new table for the mapping LOWER while the
# vault mapping VAULT stacked on it is suspended.
swap_lower() {
	dmsetup suspend "$1" && dmsetup reload "$2" --table "$3" &&
		dmsetup resume "$2" && dmsetup resume "$1"
}

# fails_eio CMD...: CMD must fail with EIO, and not by timing out (124).
fails_eio() {
	local err rc
	err=$("$@" 2>&1 >/dev/null)
	rc=$?
	[ $rc = 124 ] && { ktap_diag "I/O hung: $*"; return 1; }
	[ $rc = 0 ] && { ktap_diag "I/O succeeded: $*"; return 1; }
	grep -qi 'input/output error' <<< "$err" ||
		{ ktap_diag "not EIO: $err"; return 1; }
}

vault_key_names() {
	local prefix=${1:-} name _
	[ -x "$VAULTCTL" ] || return 0
	"$VAULTCTL" key list 2>/dev/null | while read -r name _; do
		case $name in "$prefix"*) echo "$name" ;; esac
	done
}

brd_teardown() {
	[ -d /sys/module/brd ] || return 0
	rmmod brd
}

brd_setup() {
	local count=${1:?brd_setup COUNT MIB} mib=${2:?brd_setup COUNT MIB} last

	if [ -d /sys/module/brd ] && ! rmmod brd; then
		ktap_diag "brd is busy (a ramdisk is still in use)"
		return 1
	fi
	modprobe brd rd_nr="$count" rd_size=$((mib * 1024)) max_part=0 || return 1
	last=/dev/ram$((count - 1))
	if [ ! -b "$last" ]; then
		ktap_diag "$last did not appear"
		return 1
	fi
	if [ "$(blockdev --getsize64 "$last")" != $((mib << 20)) ]; then
		ktap_diag "$last has the wrong size"
		return 1
	fi
	return 0
}

loop_setup() {
	local mib=${1:?loop_setup MIB [VAR]} file dev

	file=$(mktemp /tmp/vault-loop.XXXXXX) || return 1
	if ! truncate -s "${mib}M" "$file"; then
		rm -f "$file"
		return 1
	fi
	if ! dev=$(losetup --find --show "$file"); then
		rm -f "$file"
		return 1
	fi
	# The file can go now: the loop device holds it open.
	rm -f "$file"
	ktap_defer losetup -d "$dev"
	if [ -n "${2:-}" ]; then
		printf -v "$2" '%s' "$dev"
	else
		echo "$dev"
	fi
}
