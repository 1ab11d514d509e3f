# SPDX-License-Identifier: GPL-2.0-or-later
#
# Sourced by the host test scripts (luks.sh, token.sh, recovery.sh,
# tpm2.sh, ...): KTAP results and counters, the prologue they share and the
# commands they all run.  The caller sets VAULTCTL, and OUT and ERR (or has
# test_dir set them): the files that hold the last command's stdout and
# stderr, which nok shows.

n=0; pass=0; fail=0; skip=0

ok()   { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n $1"; }
nok()  { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n $1"
	 sed 's/^/# stdout: /' "$OUT"; sed 's/^/# stderr: /' "$ERR"; }
skp()  { n=$((n + 1)); skip=$((skip + 1)); echo "ok $n $1 # SKIP $2"; }
# skp_dep NAME REASON: a declared dependency is missing: a skip, but a
# failure under VAULT_STRICT_DEPS=1 (make check, .ci/run)
skp_dep() {
	if [ "${VAULT_STRICT_DEPS:-0}" = 1 ]; then
		n=$((n + 1)); fail=$((fail + 1))
		echo "not ok $n $1"; echo "# $2 (a declared dependency, VAULT_STRICT_DEPS=1)"
	else
		skp "$@"
	fi
}
finish() {
	echo "# $pass passed, $fail failed${skip:+, $skip skipped}" | sed 's/, 0 skipped//'
	[ "$fail" = 0 ]
	exit
}

# test_dir NAME: the prologue every image-file test shares: VAULTCTL made
# absolute (the test leaves the caller's directory), a scratch directory
# $T (/tmp/vaultctl-NAME.XXXXXX) entered and removed at exit unless KEEP is
# set (to look at what a failure left), and OUT and ERR in it, empty.  A
# test with more to clean up sets its own EXIT trap afterwards.
test_dir() {
	case $VAULTCTL in /*) ;; *) VAULTCTL=$(pwd)/$VAULTCTL ;; esac
	T=$(mktemp -d "/tmp/vaultctl-$1.XXXXXX") || exit 1
	trap '[ -n "$KEEP" ] || rm -rf "$T"' EXIT
	cd "$T" || exit 1
	OUT=$T/out; ERR=$T/err
	: >"$OUT"; : >"$ERR"
}

# need_root_and WHAT WHY TOOL...: the whole test (WHAT) is skipped unless it
# runs as root (WHY: what for) and finds every TOOL; a missing TOOL is a
# declared dependency (skp_dep).
need_root_and() {
	if [ "$(id -u)" != 0 ]; then
		skp "$1" "needs root ($2)"
		finish
	fi
	_what=$1; shift 2
	for _tool; do
		if ! command -v "$_tool" >/dev/null 2>&1; then
			skp_dep "$_what" "$_tool is not installed"
			finish
		fi
	done
}

# Cheap KDFs: these tests are about formats and tokens, not the KDF cost.
FAST="--pbkdf pbkdf2 --pbkdf-force-iterations 1000"
cs() { cryptsetup --disable-locks "$@"; }
# vc ARGS... [< input]: runs vaultctl; status in $rc
vc() { $VALGRIND_CMD "$VAULTCTL" "$@" >"$OUT" 2>"$ERR"; rc=$?; }
sum() { sha256sum "$1" | cut -d' ' -f1; }
