#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# PKCS#11 unlock with an EC (P-256) key on a SoftHSM2 token (in the guest's
# /tmp), the format systemd 255 added: `vaultctl enroll` says that
# systemd-cryptsetup 252 cannot unlock with it; `vaultctl open` maps the
# volume with the PIN (ECDH on the token) and the data written reads back
# after a close and a second open; Debian 12's systemd-cryptsetup 252 indeed
# cannot attach it with the token.  The format itself is checked against
# openssl and cryptsetup on the host (userspace/tests/pkcs11.sh).
# check-extended: the host test covers the format; this adds the mapping on a kernel (53 covers PKCS#11 mapping in make check)
. "${VAULT_REPO:?}/tests/lib/ktap.sh"
. "$VAULT_REPO/tests/lib/luks2.sh"
. "$VAULT_REPO/tests/lib/softhsm.sh"

luks2_test_setup t56 20 cryptsetup softhsm2-util pkcs11-tool openssl cmp timeout
SIZE=$((256 << 10))
softhsm_test_setup $SIZE

# A SoftHSM2 token "guest-ec" (user PIN 1234) with a P-256 key that may
# derive (CKA_DERIVE, which ECDH needs) and its certificate.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout k.pem -outform der \
	-out c.der -subj /CN=guest-ec -days 30 2>/dev/null &&
	softhsm2-util --init-token --free --label guest-ec --pin 1234 --so-pin 5678 >/dev/null &&
	pkcs11-tool --module "$MODULE" --token-label guest-ec --login --pin 1234 --write-object k.pem \
		--type privkey --usage-derive --id 01 --label key >/dev/null 2>&1 &&
	pkcs11-tool --module "$MODULE" --token-label guest-ec --login --pin 1234 \
		--write-object c.der --type cert --id 01 --label cert >/dev/null 2>&1 ||
	ktap_fail_all "cannot make the SoftHSM2 token"
rm -f k.pem

cs luksFormat --batch-mode "${FAST[@]}" --key-file pw $DEV &&
	"$VAULTCTL" enroll --pkcs11-token-uri=auto --key-file pw $DEV 2>"$WORK/err"
# shellcheck disable=SC2034 # read by the eval below
st=$?
ktap_check "vaultctl enroll with an EC token, saying systemd-cryptsetup 252 cannot unlock with it" \
	eval '[ $st = 0 ] && grep -q "EC prime256v1" "$WORK/err" &&
	      grep -q "systemd-cryptsetup 252 (Debian 12) cannot unlock with it" "$WORK/err"'
v_open() {
	PIN=1234 timeout 60 "$VAULTCTL" open --token-only $DEV $T </dev/null 2>"$WORK/err" ||
		{ ktap_diag_stream <"$WORK/err"; return 1; }
}
v_write() {
	v_open || return 1
	dd if=data of=/dev/mapper/$T bs=64k oflag=direct conv=fsync status=none
	local r=$?
	"$VAULTCTL" close $T || return 1
	return $r
}
v_read() {
	v_open || return 1
	cmp -s -n $SIZE /dev/mapper/$T data
	local r=$?
	"$VAULTCTL" close $T || return 1
	return $r
}
ktap_check "vaultctl opens it with the PIN (ECDH on the token); data written" v_write
ktap_check "opened again with the token, the data reads back" v_read
# systemd 252 logs in, then looks for an RSA key that decrypts and finds none
sd_refuses() {
	PIN=1234 DM_DISABLE_UDEV=1 timeout 60 $SDC attach ${T}sd $DEV - \
		pkcs11-uri=auto,headless=true,token-timeout=0 </dev/null >"$WORK/err" 2>&1 && return 1
	grep -q "Failed to find selected private key suitable for decryption on token" "$WORK/err" ||
		{ ktap_diag_stream <"$WORK/err"; return 1; }
}
ktap_check "systemd-cryptsetup 252 logs in but finds no key it can use: it cannot attach it (what enrolment says)" \
	sd_refuses

ktap_finish
