#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Network-bound unlock through clevis and tang (the core; 58 has the
# interop with clevis's own tools, the other timeouts and sss): a tang
# server runs in a network namespace of the guest (tests/lib/tang.sh).
# `vaultctl enroll --clevis tang` binds a keyslot; `vaultctl open` opens
# the volume with no input while the server answers; with the server
# stopped it says the tang server could not be reached and falls back to
# the passphrase.  (A server that never answers and token-timeout= are in
# 58 and, with a fake clevis, in userspace/tests/clevis.sh: clevis costs
# seconds per run under TCG, and this test stays under 30 s.)
# one-kernel: clevis and tang in userspace, the same on every kernel; make check runs it on the newest kernel, make check-extended on the others
. "${VAULT_REPO:?}/tests/lib/ktap.sh"
. "$VAULT_REPO/tests/lib/luks2.sh"
. "$VAULT_REPO/tests/lib/tang.sh"

luks2_test_setup t57 20 cmp timeout
ktap_defer "$VAULTCTL" close ${T}b
tang_setup 57 "$WORK"
cd "$WORK" || exit 1
tang_start && curl -sfg "$TANG_URL/adv" -o adv.jws
ktap_check "the tang server in the namespace answers over the veth pair" test -s adv.jws

luks2_volume_with_data
"$VAULTCTL" enroll --key-file pw --clevis tang "$TANG_CFG" $DEV >out 2>&1 || ktap_diag_stream <out
ktap_check "vaultctl enroll --clevis tang CONFIG (the server's thp given)" \
	grep -q 'New clevis token (tang) enrolled as key slot 1' out

ktap_check "vaultctl open (no input) unlocks it through clevis and tang; the data reads back" \
	luks2_open_reads 120 $DEV </dev/null

tang_stop
start=$SECONDS
ktap_check "server stopped: vaultctl open falls back to the passphrase on stdin" luks2_open_reads 120 $DEV <pw
ktap_check "... saying the tang server could not be reached, within seconds" \
	sh -c "grep -q 'token 0 (clevis) of $DEV failed: the tang server could not be reached' '$WORK/err' &&
	       [ $((SECONDS - start)) -lt 20 ]"

ktap_finish
