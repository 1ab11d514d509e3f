# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/lib/test-sets.sh - which guest tests (tests/guest/run-all) and boot
# cases (tests/boot/run) make check and make check-extended run on a kernel.
#
# A test's header comment (its lines before the first non-comment) may say:
#   "# check-extended: WHY"  too slow for make check: make check-extended
#                            runs it, on every kernel;
#   "# one-kernel: WHY"      what it tests does not depend on the kernel
#                            (vaultctl's parsing, prompts, tokens, the boot
#                            scripts): make check runs it on one kernel,
#                            make check-extended on the others.
# The one-kernel tests are dealt out over the kernels in turn, newest
# first (the first to the newest kernel, the second to the next one, ...),
# so that no kernel's chain of make check carries them all (the kernels run
# side by side: the longest chain is make check's time).  A kernel's SLOT
# "I/N" says it is the I-th of N kernels, 0 the newest; "0/1", the default,
# gives one kernel every one-kernel test.

# test_mark FILE: prints "extended", "one" or nothing.
test_mark() {
	awk '!/^#/ { exit }
		/^# check-extended:/ { print "extended"; exit }
		/^# one-kernel:/ { print "one"; exit }' "$1"
}

# test_set_filter SET SLOT FILE...: prints (one a line) those of FILE...
# that SET runs on the kernel in SLOT: SET "check" (make check), "extended"
# (what make check-extended adds) or "all".  FILE... must be the whole
# directory in order, not a selection: the dealing counts every
# one-kernel test.  Returns 2 on a malformed SLOT.
test_set_filter() {
	local set=$1 slot=${2:-0/1} f mark j=0 mine
	shift 2
	[[ $slot =~ ^([0-9]+)/([1-9][0-9]*)$ ]] &&
		[ "${BASH_REMATCH[1]}" -lt "${BASH_REMATCH[2]}" ] || {
		echo "test_set_filter: kernel slot '$slot' is not I/N with I < N" >&2
		return 2
	}
	local i=${BASH_REMATCH[1]} n=${BASH_REMATCH[2]}
	for f in "$@"; do
		[ -e "$f" ] || continue
		mark=$(test_mark "$f")
		mine=
		if [ "$mark" = one ]; then
			[ $((j % n)) -eq "$i" ] && mine=1
			j=$((j + 1))
		fi
		case $set in
		check) [ -z "$mark" ] || [ -n "$mine" ] || continue ;;
		extended) [ "$mark" = extended ] || { [ "$mark" = one ] && [ -z "$mine" ]; } || continue ;;
		esac
		printf '%s\n' "$f"
	done
}
