#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The PCR 15 cap: after vaultctl has unlocked a volume with its TPM2 token,
# nobody on the running system can unseal that token's secret again.
# vaultctl enroll binds PCR 15 (computed as zero) besides PCR 7; before the
# unlock, root unseals the secret with tpm2-tools alone (tpm_token_secret:
# the control, its base64 opens the keyslot); vaultctl open (default
# --tpm2-measure-pcr=yes) maps the volume with no input and extends PCR 15;
# then root's tpm2-tools attempt is refused by the TPM for the policy, as are
# systemd-cryptsetup attach and vaultctl's own token, while the passphrase
# still opens the volume.
#
# It leaves PCR 15 extended until the guest reboots: TPM tests that seal to
# PCR 15 must run before this one.
. "${VAULT_REPO:?}/tests/lib/ktap.sh"
. "$VAULT_REPO/tests/lib/luks2.sh"
. "$VAULT_REPO/tests/lib/tpm.sh"

SD_CRYPTSETUP=/usr/lib/systemd/systemd-cryptsetup
PASS='tpm pcr cap passphrase'
ZERO=0000000000000000000000000000000000000000000000000000000000000000

tpm_require
need_cmd tpm2_createprimary tpm2_load tpm2_unseal tpm2_startauthsession tpm2_policypcr \
	"$SD_CRYPTSETUP"
luks2_test_setup t39c 24 cryptsetup
"$VAULTCTL" enroll --help 2>&1 | grep -q -- --tpm2-device ||
	ktap_fail_all "this vaultctl has no enroll --tpm2-device"
[ "$(tpm_pcr 15)" = $ZERO ] ||
	ktap_fail_all "PCR 15 is not zero: an earlier test extended it (this test must run after every TPM test that seals to PCR 15)"
tpm_reset || ktap_fail_all "cannot clear the TPM"
export DM_DISABLE_UDEV=1
cleanup() {
	"$SD_CRYPTSETUP" detach $T >/dev/null 2>&1
	"$VAULTCTL" close $T >/dev/null 2>&1
}
ktap_defer cleanup
cd "$WORK" || ktap_fail_all "cd $WORK"
printf '%s' "$PASS" >pass
head -c $((1 << 20)) /dev/urandom >data
data_ok() { cmp -s -n $((1 << 20)) /dev/mapper/$T data; }
b64() { /usr/bin/python3 -c 'import base64, sys; sys.stdout.write(base64.b64encode(bytes.fromhex(sys.argv[1])).decode())' "$1"; }

cs luksFormat -q --type luks2 "${FAST[@]}" --key-file pass $DEV || ktap_fail_all "luksFormat"
cs open --key-file pass $DEV $T &&
	dd if=data of=/dev/mapper/$T bs=1M oflag=direct conv=fsync status=none &&
	cs close $T || ktap_fail_all "writing the data through dm-crypt"
if "$VAULTCTL" enroll --tpm2-device=auto --tpm2-pcrs=7 --key-file pass $DEV </dev/null >out 2>&1; then
	ktap_pass "vaultctl enroll --tpm2-pcrs=7 (PCR 15 added)"
else
	ktap_diag_stream <out
	ktap_fail_all "vaultctl enroll --tpm2-device=auto --tpm2-pcrs=7"
fi
ktap_check "the token binds PCRs 7 and 15" \
	eval 'cs token export --token-id 0 $DEV | grep -q "\"tpm2-pcrs\":\[7,15\]"'

# Control: before the unlock, root can unseal it, and it is the keyslot's.
secret=$(tpm_token_secret $DEV 0)
ktap_check "before the unlock, root unseals the token's secret with tpm2-tools" test ${#secret} -ge 32
b64 "$secret" >secret.b64
ktap_check "... and it opens the token's keyslot" \
	cs open --test-passphrase --disable-external-tokens --key-file secret.b64 $DEV

if "$VAULTCTL" open --token-only $DEV $T </dev/null >out 2>&1; then
	ktap_pass "vaultctl open unlocks with the TPM, no input"
	ktap_check "the data reads back" data_ok
	"$VAULTCTL" close $T
else
	ktap_diag_stream <out
	ktap_fail "vaultctl open unlocks with the TPM, no input"
fi
pcr15=$(tpm_pcr 15)
ktap_diag "PCR 15 after the unlock: $pcr15"
ktap_check "vaultctl open extended PCR 15" test "$pcr15" != $ZERO

# After the unlock: root's attempt, systemd's and vaultctl's token all refused.
if secret2=$(tpm_token_secret $DEV 0 2>err); then
	ktap_fail "after the unlock, root's tpm2-tools unseal is refused"
	ktap_check "(it even returned the secret)" test "$secret2" != "$secret"
else
	sed 's/^# //' err | ktap_diag_stream
	ktap_pass "after the unlock, root's tpm2-tools unseal is refused"
	ktap_check "the refusal is the TPM's policy check (TPM_RC_POLICY_FAIL)" \
		grep -qiE 'policy check failed|policy.?fail|0x99d' err
fi
ktap_check "systemd-cryptsetup attach with the TPM is refused" \
	not "$SD_CRYPTSETUP" attach $T $DEV - tpm2-device=auto,headless=true </dev/null
ktap_check "nothing is mapped" not test -e /dev/mapper/$T
ktap_check "vaultctl open --token-only is refused (exit 1): PCRs 7+15 differ" \
	fails_with 1 "PCRs 7\+15 \(sha256\) differ" \
	"$VAULTCTL" open --token-only --tpm2-measure-pcr=no $DEV $T </dev/null
ktap_check "the passphrase still opens the volume" \
	"$VAULTCTL" open --disable-tokens --key-file pass $DEV $T
ktap_check "the data reads back" data_ok
"$VAULTCTL" close $T
ktap_finish
