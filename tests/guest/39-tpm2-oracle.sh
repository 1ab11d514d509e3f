#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# systemd 252, the TPM2 oracle, works in the guest's software TPM: a LUKS2
# volume (cryptsetup) enrolled with `systemd-cryptenroll --tpm2-device=auto
# --tpm2-pcrs=7` opens with `systemd-cryptsetup attach ... tpm2-device=auto,
# headless=true` and no input, and the data written before reads back; after
# PCR 7 changes the same attach is refused and nothing is mapped, and the
# passphrase still opens the volume.  The baseline the TPM2 tests build on.
# one-kernel: systemd's TPM2 path as the oracle; the kernel's TPM is tested on both kernels by 38-tpm2-*; make check runs it on the newest kernel, make check-extended on the others
. "${VAULT_REPO:?}/tests/lib/ktap.sh"
. "$VAULT_REPO/tests/lib/luks2.sh"
. "$VAULT_REPO/tests/lib/tpm.sh"

SD_CRYPTSETUP=/usr/lib/systemd/systemd-cryptsetup
PASS='tpm oracle passphrase'

tpm_require
need_cmd systemd-cryptenroll "$SD_CRYPTSETUP"
luks2_test_setup t39o 24 cryptsetup
tpm_reset || ktap_fail_all "cannot clear the TPM"
export DM_DISABLE_UDEV=1
cleanup() {
	"$SD_CRYPTSETUP" detach $T >/dev/null 2>&1
	cs close $T >/dev/null 2>&1
}
ktap_defer cleanup
printf '%s' "$PASS" >"$WORK/pass"
head -c $((1 << 20)) /dev/urandom >"$WORK/data"
data_ok() { cmp -s -n $((1 << 20)) /dev/mapper/$T "$WORK/data"; }

cs luksFormat -q --type luks2 "${FAST[@]}" --key-file "$WORK/pass" $DEV ||
	ktap_fail_all "cryptsetup luksFormat"
cs open --key-file "$WORK/pass" $DEV $T &&
	dd if="$WORK/data" of=/dev/mapper/$T bs=1M oflag=direct conv=fsync status=none &&
	cs close $T || ktap_fail_all "writing the data through dm-crypt"

ktap_diag "PCR 7 is $(tpm_pcr 7)"
if PASSWORD=$PASS systemd-cryptenroll --tpm2-device=auto --tpm2-pcrs=7 $DEV >"$WORK/out" 2>&1; then
	ktap_pass "systemd-cryptenroll --tpm2-device=auto --tpm2-pcrs=7 enrols"
else
	ktap_diag_stream <"$WORK/out"
	ktap_fail_all "systemd-cryptenroll --tpm2-device=auto --tpm2-pcrs=7"
fi
ktap_check "the header holds a systemd-tpm2 token" \
	eval 'cs luksDump $DEV | grep -q "systemd-tpm2"'

# attach: systemd-cryptsetup with the TPM and no way to ask anything.
attach() {
	"$SD_CRYPTSETUP" attach $T $DEV - tpm2-device=auto,headless=true </dev/null >"$WORK/out" 2>&1
}
if attach; then
	ktap_pass "systemd-cryptsetup attach unlocks with the TPM, no input"
	ktap_check "the data reads back through the TPM-unlocked mapping" data_ok
	ktap_check "systemd-cryptsetup detach" "$SD_CRYPTSETUP" detach $T
else
	ktap_diag_stream <"$WORK/out"
	ktap_fail "systemd-cryptsetup attach unlocks with the TPM, no input"
fi

tpm_pcr_extend 7 || ktap_fail_all "cannot extend PCR 7"
ktap_diag "PCR 7 is now $(tpm_pcr 7)"
if attach; then
	ktap_fail "systemd-cryptsetup attach is refused after PCR 7 changed"
	"$SD_CRYPTSETUP" detach $T
else
	rc=$?
	ktap_diag_stream <"$WORK/out"
	ktap_pass "systemd-cryptsetup attach is refused after PCR 7 changed (exit $rc)"
fi
ktap_check "nothing is mapped after the refusal" not test -e /dev/mapper/$T
ktap_check "the refusal is the TPM policy's" grep -q "policy digest does not match" "$WORK/out"
ktap_check "the passphrase still opens the volume" \
	cs open --disable-external-tokens --key-file "$WORK/pass" $DEV $T
ktap_check "the data reads back through the passphrase" data_ok
cs close $T
ktap_finish
