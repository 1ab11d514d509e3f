#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# check-extended: clevis is a shell script over jose; under TCG each bind or unlock takes 5-15 s (57 covers the core in make check)
#
# clevis interop both ways, with the tang server of tests/lib/tang.sh: a
# volume bound by `clevis luks bind` (clevis's own tool, through
# cryptsetup) opens with `vaultctl open` and no input; one enrolled by
# `vaultctl enroll --clevis tang` opens with `clevis luks unlock`, and its
# keyslot has clevis luks bind's KDF; enroll without a thumbprint refuses
# with no terminal and binds with --clevis-trust; a server that accepts but
# never answers is given up after the vaulttab's token-timeout=, the
# passphrase opens, and no clevis or curl is left behind.
. "${VAULT_REPO:?}/tests/lib/ktap.sh"
. "$VAULT_REPO/tests/lib/luks2.sh"
. "$VAULT_REPO/tests/lib/tang.sh"

luks2_test_setup t58 20 cryptsetup clevis-luks-bind clevis-luks-unlock setsid pgrep cmp timeout
brd_setup 2 20 || ktap_fail_all "cannot create two ramdisks"
DEV2=/dev/ram1
cleanup() {
	"$VAULTCTL" close ${T}b >/dev/null 2>&1
	cs close ${T}c >/dev/null 2>&1
}
ktap_defer cleanup
tang_setup 58 "$WORK"
cd "$WORK" || exit 1
tang_start || ktap_fail_all "the tang server did not start"

# --- clevis luks bind; vaultctl opens with no input ----------------------------
luks2_volume_with_data
DM_DISABLE_UDEV=1 clevis luks bind -k pw -d $DEV tang "$TANG_CFG" >bind.log 2>&1 ||
	ktap_diag_stream <bind.log
cs luksDump $DEV >dump0 2>&1
ktap_check "clevis luks bind -d DEV tang CONFIG" grep -q '^  0: clevis' dump0
ktap_check "vaultctl open (no input) unlocks the clevis-bound volume; the data reads back" \
	luks2_open_reads 120 $DEV </dev/null
"$VAULTCTL" dump $DEV >dump 2>&1
ktap_check "vaultctl dump shows the clevis policy with the tang URL" \
	grep -qF "clevis-policy:    tang ($TANG_URL)" dump

# --- vaultctl enroll --clevis; clevis luks unlock (the oracle) opens ------------
luks2_write_data $DEV2
ktap_check "vaultctl enroll --clevis tang CONFIG" \
	"$VAULTCTL" enroll --key-file pw --clevis tang "$TANG_CFG" $DEV2
clevis_unlock() {
	DM_DISABLE_UDEV=1 timeout 120 clevis luks unlock -d $DEV2 -n ${T}c </dev/null 2>"$WORK/err" ||
		{ ktap_diag_stream <"$WORK/err"; return 1; }
	cmp -s -n $((1 << 20)) /dev/mapper/${T}c data
	local r=$?
	cs close ${T}c
	return $r
}
ktap_check "clevis luks unlock opens the vaultctl-enrolled volume; the data reads back" clevis_unlock
cs luksDump $DEV2 | sed -n '/^  1: luks2/,/AF stripes/p' >slot1
ktap_check "its keyslot has clevis luks bind's KDF (pbkdf2, sha256, 1000 iterations)" \
	sh -c "grep -q 'PBKDF: *pbkdf2' slot1 && grep -q 'Hash: *sha256' slot1 && grep -q 'Iterations: *1000' slot1"
setsid "$VAULTCTL" enroll --key-file pw --clevis tang "{\"url\":\"$TANG_URL\"}" $DEV2 </dev/null >out 2>&1
ktap_check "no thp, no --clevis-trust, no terminal: enroll refuses and says how to trust the key" \
	sh -c "! grep -q 'enrolled' out && grep -q -- '--clevis-trust' out" || ktap_diag_stream <out
ktap_check "enroll --clevis tang --clevis-trust (no thp) binds another keyslot" \
	"$VAULTCTL" enroll --key-file pw --clevis-trust --clevis tang "{\"url\":\"$TANG_URL\"}" $DEV2

# --- a server that accepts but never answers: vaulttab token-timeout=2s --------
tang_start "sleep 60"
echo "${T}b $DEV none luks,token-timeout=2s" >tab
start=$SECONDS
timeout 120 "$VAULTCTL" open --all --vaulttab tab ${T}b <pw 2>"$WORK/err"
rc=$?
took=$((SECONDS - start))
cmp -s -n $((1 << 20)) /dev/mapper/${T}b data
ktap_check "a server that never answers: open --all (vaulttab token-timeout=2s) uses the passphrase; data reads back" \
	test $rc = 0 -a $? = 0
"$VAULTCTL" close ${T}b
left=$(pgrep -a -x curl; pgrep -a -f '[c]levis-decrypt')
[ -z "$left" ] || ktap_diag "left running: $left"
ktap_check "... after 2 s (took $took s), with the reason, no clevis or curl left running" \
	sh -c "[ $took -ge 2 ] && [ $took -lt 20 ] && grep -q 'within 2 s (token-timeout=)' '$WORK/err' &&
	       [ -z '$left' ]"
ktap_finish
