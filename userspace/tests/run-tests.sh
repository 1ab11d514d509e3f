#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Runs vaultctl's host-side unit tests and prints one flat KTAP list:
#   KTAP version 1 / 1..N / ok N binary.case ... / # N passed, N failed
# Usage: run-tests.sh TESTDIR VAULTCTL TEST...   (TEST: a binary in TESTDIR,
# or NAME.sh, a script next to this one).  VALGRIND=1 runs everything under
# valgrind; a valgrind error fails the test binary that caused it.

TESTDIR=$1 VAULTCTL=$2
shift 2
HERE=$(dirname "$0")
TMP=$(mktemp -d /tmp/vaultctl-check.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

VG=
if [ -n "$VALGRIND" ] && [ "$VALGRIND" != 0 ]; then
	command -v valgrind >/dev/null 2>&1 || { echo "valgrind is not installed" >&2; exit 1; }
	VG="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite"
fi

# Run each test; keep its output and status.
for t in "$@"; do
	case $t in
	*.sh) VALGRIND_CMD=$VG sh "$HERE/$t" "$VAULTCTL" >"$TMP/$t.out" 2>"$TMP/$t.err" ;;
	*) $VG "$TESTDIR/$t" >"$TMP/$t.out" 2>"$TMP/$t.err" ;;
	esac
	echo $? >"$TMP/$t.rc"
done

# Flatten: every "ok"/"not ok" line becomes one numbered line; a test that
# failed without saying which case failed adds a line of its own.
for t in "$@"; do
	rc=$(cat "$TMP/$t.rc")
	name=${t%.sh}
	awk -v name="$name" '
		/^(not )?ok [0-9]+ / {
			not = ($1 == "not")
			sub(/^(not )?ok [0-9]+ /, "")
			print (not ? "not ok" : "ok") "\t" name "." $0
			next
		}
		/^# [0-9]+ passed/ || /^KTAP version/ || /^1\.\./ { next }
		{ print "diag\t" $0 }
	' "$TMP/$t.out"
	nfail=$(grep -c '^not ok ' "$TMP/$t.out")
	if [ "$rc" != 0 ] && [ "$nfail" = 0 ]; then
		printf 'not ok\t%s (exit status %s%s)\n' "$name" "$rc" \
			"$([ "$rc" = 99 ] && echo ', valgrind errors')"
		sed 's/^/diag\t# stderr: /' "$TMP/$t.err"
	elif [ -s "$TMP/$t.err" ] && [ -n "$VG" ]; then
		sed 's/^/diag\t# stderr: /' "$TMP/$t.err"
	fi
done >"$TMP/all"

total=$(grep -c -e '^ok	' -e '^not ok	' "$TMP/all")
echo "KTAP version 1"
echo "1..$total"
awk -F '\t' '
	$1 == "diag" { sub(/^diag\t/, ""); print; next }
	{ n++; line = $0; sub(/^[^\t]*\t/, "", line); print $1 " " n " " line
	  if ($1 == "not ok") f++; else if (line ~ / # SKIP /) s++; else p++ }
	END { printf "# %d passed, %d failed", p, f; if (s) printf ", %d skipped", s; printf "\n"
	      exit f ? 1 : 0 }
' "$TMP/all"
