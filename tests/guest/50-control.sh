#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Misuse of /dev/vault-control: runs build/tests/control_test (the kselftest
# harness TEST()s of tests/control/control_test.c) with dm-vault loaded and
# reports each of its results as a sub-result.  The same binary's vaultctl
# view is checked too: `vaultctl key list` agrees with the ioctl.
. "${VAULT_REPO:?}/tests/lib/ktap.sh"

T=t50
BIN=${VAULT_BUILD:?}/tests/control_test
WORK=$(mktemp -d /tmp/$T.XXXXXX)

cleanup() {
	"$VAULTCTL" key remove $T-listed >/dev/null 2>&1
	rm -rf "$WORK"
}
ktap_defer cleanup

[ -x "$BIN" ] || ktap_fail_all "$BIN missing (make userspace)"
need_vaultctl
vault_setup_module || ktap_fail_all "dm-vault.ko cannot be loaded"
[ -c /dev/vault-control ] || ktap_fail_all "/dev/vault-control missing after loading the module"

before=$("$VAULTCTL" key list 2>/dev/null | grep -c .)

# The harness prints TAP 13; turn its result lines into sub-results and
# everything else into diagnostics.
timeout 120 "$BIN" > "$WORK/out" 2>&1
rc=$?
n_ok=0
n_skip=0
while IFS= read -r line; do
	case $line in
	"ok "*"# SKIP"*)
		ktap_diag "skipped: ${line#ok }"
		n_skip=$((n_skip + 1))
		;;
	"ok "*)
		name=${line#ok }
		ktap_pass "${name#* }"
		n_ok=$((n_ok + 1))
		;;
	"not ok "*)
		name=${line#not ok }
		ktap_fail "${name#* }"
		;;
	"#  RUN "*|"#"*" OK  "*) ;;	# the harness's own progress lines
	*)
		ktap_diag "$line"
		;;
	esac
done < "$WORK/out"
ktap_check "control_test exit status 0 (was $rc)" [ "$rc" = 0 ]
ktap_check "control_test ran its tests ($n_ok passed, $n_skip skipped)" [ "$n_ok" -ge 20 -a "$n_skip" = 0 ]

# The tests must leave no key behind.
after=$("$VAULTCTL" key list 2>/dev/null | grep -c .)
ktap_check "no keys left by control_test" [ "$before" = "$after" ]

# vaultctl sees what the ioctl sees: a persistent key with its size.
head -c 48 /dev/urandom > "$WORK/key"
if "$VAULTCTL" key add $T-listed --key-file "$WORK/key" --key-size 384; then
	"$VAULTCTL" key list > "$WORK/list" 2>&1
	ktap_check "vaultctl key list shows the key name" grep -q "$T-listed" "$WORK/list"
	ktap_check "vaultctl key list shows its size" \
		grep -qE "$T-listed.*(48|384)" "$WORK/list"
	ktap_check "vaultctl key remove" "$VAULTCTL" key remove $T-listed
	ktap_check "vaultctl key remove of an unknown key fails (exit 4, says so)" \
		fails_with 4 "no key named $T-listed is loaded" timeout 60 "$VAULTCTL" key remove $T-listed
else
	ktap_fail "vaultctl key add"
fi

ktap_finish
