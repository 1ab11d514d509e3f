# SPDX-License-Identifier: GPL-2.0-or-later
#
# Sourced by the host test scripts (luks.sh, token.sh, recovery.sh,
# tpm2.sh): KTAP results and counters, and the commands they all run.
# The caller sets VAULTCTL, and OUT and ERR: the files that hold the last
# command's stdout and stderr, which nok shows.

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

# Cheap KDFs: these tests are about formats and tokens, not the KDF cost.
FAST="--pbkdf pbkdf2 --pbkdf-force-iterations 1000"
cs() { cryptsetup --disable-locks "$@"; }
# vc ARGS... [< input]: runs vaultctl; status in $rc
vc() { $VALGRIND_CMD "$VAULTCTL" "$@" >"$OUT" 2>"$ERR"; rc=$?; }
sum() { sha256sum "$1" | cut -d' ' -f1; }
