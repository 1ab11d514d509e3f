#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# TPM2 unlock against the guest's software TPM (/dev/tpmrm0), both ways
# with systemd 252: a volume enrolled by `vaultctl enroll --tpm2-device=auto`
# attaches with systemd-cryptsetup (data written through vaultctl's mapping
# reads back through systemd's), one enrolled by systemd-cryptenroll opens
# with `vaultctl open` and no input; then the PCR-cap proof: after vaultctl
# opened the volume through its token, PCR 15 is extended and root's next
# attempt to unseal is refused with a clear message, while the passphrase
# still opens it.
. "${VAULT_REPO:?}/tests/lib/ktap.sh"
. "$VAULT_REPO/tests/lib/luks2.sh"
. "$VAULT_REPO/tests/lib/tpm.sh"

tpm_require
luks2_test_setup t38 20 cryptsetup systemd-cryptenroll python3 cmp timeout
luks2_sdc_setup
tpm_reset || ktap_fail_all "cannot reset the TPM"
brd_setup 2 20 || ktap_fail_all "cannot create two ramdisks"
DEV2=/dev/ram1
cd "$WORK" || exit 1
printf 'the passphrase' >pw
head -c $((1 << 20)) /dev/urandom >data

zeros=$(printf '%064d' 0)
[ "$(tpm_pcr 15)" = "$zeros" ] ||
	ktap_fail_all "PCR 15 was extended by an earlier test in this guest: run 38 before it"

# vaultctl enrols; systemd-cryptsetup attaches.
"$VAULTCTL" format "${FAST[@]}" --batch-mode --key-file pw $DEV &&
	"$VAULTCTL" open --key-file pw $DEV $T &&
	dd if=data of=/dev/mapper/$T bs=1M oflag=direct conv=fsync status=none &&
	"$VAULTCTL" close $T
ktap_check "data written through vaultctl's mapping" test $? = 0
ktap_check "vaultctl enroll --tpm2-device=auto --tpm2-pcrs=7" \
	"$VAULTCTL" enroll --tpm2-device=auto --tpm2-pcrs=7 --key-file pw $DEV
tpm2_token_pcrs() {
	cs luksDump --dump-json-metadata "$1" | python3 -c '
import json, sys
t = [t for t in json.load(sys.stdin)["tokens"].values() if t["type"] == "systemd-tpm2"]
print(" ".join(str(p) for p in t[0]["tpm2-pcrs"]) if len(t) == 1 else "tokens: %d" % len(t))'
}
ktap_check "its systemd-tpm2 token binds PCRs 7 and 15" test "$(tpm2_token_pcrs $DEV)" = "7 15"
sd_attach() {
	DM_DISABLE_UDEV=1 timeout 120 $SDC attach ${T}sd "$1" - tpm2-device=auto,headless=true </dev/null 2>"$WORK/err" ||
		{ ktap_diag_stream <"$WORK/err"; return 1; }
	cmp -s -n $((1 << 20)) /dev/mapper/${T}sd data
	local r=$?
	DM_DISABLE_UDEV=1 $SDC detach ${T}sd || return 1
	return $r
}
ktap_check "systemd-cryptsetup attaches the vaultctl-enrolled volume with the TPM; the data reads back" \
	sd_attach $DEV

# systemd-cryptenroll enrols; vaultctl opens with no input.
cs luksFormat --batch-mode "${FAST[@]}" --key-file pw $DEV2 &&
	PASSWORD='the passphrase' systemd-cryptenroll --tpm2-device=auto --tpm2-pcrs=7 $DEV2 </dev/null >"$WORK/err" 2>&1
ktap_check "systemd-cryptenroll --tpm2-device=auto --tpm2-pcrs=7" test $? = 0
v_open_token() {
	timeout 120 "$VAULTCTL" open "$@" </dev/null 2>"$WORK/err" || { ktap_diag_stream <"$WORK/err"; return 1; }
}
if v_open_token $DEV2 ${T}b; then
	dd if=data of=/dev/mapper/${T}b bs=1M oflag=direct conv=fsync status=none
	"$VAULTCTL" close ${T}b
	cs open --key-file pw $DEV2 ${T}c && cmp -s -n $((1 << 20)) /dev/mapper/${T}c data
	r=$?
	cs close ${T}c
	ktap_check "vaultctl opens the systemd-cryptenroll volume with no input; cryptsetup reads the data" test $r = 0
else
	ktap_fail "vaultctl opens the systemd-cryptenroll volume with no input"
fi
ktap_check "opening a volume whose token does not bind PCR 15 leaves PCR 15 alone" \
	test "$(tpm_pcr 15)" = "$zeros"

# The PCR-cap proof.
v_open_token $DEV $T && cmp -s -n $((1 << 20)) /dev/mapper/$T data
ktap_check "vaultctl opens the vaultctl-enrolled volume through its token" test $? = 0
"$VAULTCTL" close $T
ktap_check "after that open PCR 15 is no longer zero" test "$(tpm_pcr 15)" != "$zeros"
ktap_check "root's second attempt to unseal is refused with the reason" \
	fails_with 1 'PCRs 7\+15 \(sha256\) differ from the values it was sealed to' \
	timeout 120 "$VAULTCTL" open --test-passphrase --token-only $DEV
ktap_check "systemd-cryptsetup cannot unseal it either now" not sd_attach $DEV
ktap_check "the passphrase still opens the volume" \
	"$VAULTCTL" open --test-passphrase --key-file pw $DEV

ktap_finish
