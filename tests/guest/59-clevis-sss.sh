#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# check-extended: clevis sss over tang and tpm2 runs jose and tpm2-tools in shell scripts; under TCG each unlock takes 10-30 s
#
# "The office network AND this machine": `vaultctl enroll --clevis sss`
# with threshold 2 of (tang, tpm2) (tests/lib/tang.sh's server, the guest's
# software TPM).  vaultctl open needs no input while both answer; with the
# tang server stopped, or with the TPM cleared (a new storage seed: the
# sealed share cannot load), the token fails and the passphrase opens.
. "${VAULT_REPO:?}/tests/lib/ktap.sh"
. "$VAULT_REPO/tests/lib/luks2.sh"
. "$VAULT_REPO/tests/lib/tpm.sh"
. "$VAULT_REPO/tests/lib/tang.sh"

tpm_require
luks2_test_setup t59 20 clevis-encrypt-tpm2 clevis-encrypt-sss tpm2_createprimary cmp timeout
ktap_defer "$VAULTCTL" close ${T}b
tpm_reset || ktap_fail_all "cannot reset the TPM"
tang_setup 59 "$WORK"
cd "$WORK" || exit 1
tang_start || ktap_fail_all "the tang server did not start"

luks2_volume_with_data
SSS="{\"t\":2,\"pins\":{\"tang\":[$TANG_CFG],\"tpm2\":{\"pcr_ids\":\"7\"}}}"
"$VAULTCTL" enroll --key-file pw --clevis sss "$SSS" $DEV >out 2>&1 || ktap_diag_stream <out
ktap_check "vaultctl enroll --clevis sss (t=2 of tang, tpm2)" \
	grep -q 'New clevis token (sss) enrolled' out
"$VAULTCTL" dump $DEV >dump 2>&1
ktap_check "dump shows the policy: sss 2 of [tang (URL), tpm2]" \
	grep -qF "clevis-policy:    sss 2 of [tang ($TANG_URL), tpm2]" dump
ktap_check "tang and the TPM both answer: vaultctl open needs no input; the data reads back" \
	luks2_open_reads 180 $DEV --token-timeout=120s </dev/null
tang_stop
ktap_check "tang stopped: the token fails (one share of two), the passphrase opens" \
	sh -c "'$VAULTCTL' open --token-timeout=120s $DEV ${T}b <pw 2>'$WORK/err' &&
	       grep -q 'token 0 (clevis) of $DEV failed' '$WORK/err' && '$VAULTCTL' close ${T}b"
tang_start && tpm_reset
ktap_check "the TPM cleared: the token fails with tang up, the passphrase opens" \
	sh -c "'$VAULTCTL' open --token-timeout=120s $DEV ${T}b <pw 2>'$WORK/err' &&
	       grep -q 'token 0 (clevis) of $DEV failed' '$WORK/err' && '$VAULTCTL' close ${T}b"
[ "$KTAP_FAILED" = 0 ] || ktap_diag_stream <"$WORK/err"
ktap_finish
