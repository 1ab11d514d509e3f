#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# PKCS#11 unlock against a SoftHSM2 token (in the guest's /tmp: the host
# root is read-only), both ways with systemd 252 on one volume (one data
# write: the test stays under 30 s on TCG): systemd-cryptenroll enrols it
# and `vaultctl open` maps it with the PIN from $PIN (data written through
# that mapping); then systemd's token is replaced by one from `vaultctl
# enroll --pkcs11-token-uri=auto`, and `systemd-cryptsetup attach ...
# pkcs11-uri=auto` opens it with the PIN and reads the data back.
# one-kernel: p11-kit, SoftHSM2 and systemd in userspace, the same on every kernel; make check runs it on the newest kernel, make check-extended on the others
. "${VAULT_REPO:?}/tests/lib/ktap.sh"
. "$VAULT_REPO/tests/lib/luks2.sh"
. "$VAULT_REPO/tests/lib/softhsm.sh"

luks2_test_setup t53 20 cryptsetup systemd-cryptenroll softhsm2-util pkcs11-tool openssl cmp timeout python3
SIZE=$((256 << 10))
softhsm_test_setup $SIZE

# A SoftHSM2 token "guest" (user PIN 1234) with an RSA key (PKCS#8, as
# OpenSSL 3 writes it) and its certificate.  RSA-1024: a 2048-bit key takes
# seconds to generate on TCG; the format is the same (the host test,
# userspace/tests/pkcs11.sh, uses RSA-2048).
openssl req -x509 -newkey rsa:1024 -nodes -keyout k.pem -outform der -out c.der -subj /CN=guest \
	-days 30 2>/dev/null &&
	softhsm2-util --init-token --free --label guest --pin 1234 --so-pin 5678 >/dev/null &&
	softhsm2-util --import k.pem --token guest --label key --id 01 --pin 1234 >/dev/null &&
	pkcs11-tool --module "$MODULE" --token-label guest --login --pin 1234 \
		--write-object c.der --type cert --id 01 --label cert >/dev/null 2>&1 ||
	ktap_fail_all "cannot make the SoftHSM2 token"
rm -f k.pem

# systemd-cryptenroll enrols; vaultctl opens with the PIN and writes the data.
cs luksFormat --batch-mode "${FAST[@]}" --key-file pw $DEV &&
	PASSWORD='the passphrase' PIN=1234 systemd-cryptenroll --pkcs11-token-uri=auto $DEV \
		</dev/null >"$WORK/err" 2>&1
ktap_check "systemd-cryptenroll --pkcs11-token-uri=auto" test $? = 0
v_open() {
	PIN=1234 timeout 60 "$VAULTCTL" open --token-only $DEV $T </dev/null 2>"$WORK/err" ||
		{ ktap_diag_stream <"$WORK/err"; return 1; }
	dd if=data of=/dev/mapper/$T bs=64k oflag=direct conv=fsync status=none
	local r=$?
	"$VAULTCTL" close $T || return 1
	return $r
}
ktap_check "vaultctl opens the systemd-cryptenroll volume with the token's PIN; data written" v_open
# systemd's token and keyslot go; vaultctl enrols; systemd-cryptsetup attaches.
token_types() {
	cs luksDump --dump-json-metadata "$1" |
		python3 -c 'import json,sys; print(" ".join(t["type"] for t in json.load(sys.stdin)["tokens"].values()))'
}
cs token remove --token-id 0 $DEV && cs luksKillSlot --batch-mode $DEV 1 &&
	"$VAULTCTL" enroll --pkcs11-token-uri=auto --key-file pw $DEV 2>"$WORK/err"
# shellcheck disable=SC2034 # read by the eval below
st=$?
ktap_check "vaultctl enroll --pkcs11-token-uri=auto in place of systemd's token" \
	eval '[ $st = 0 ] && [ "$(token_types $DEV)" = systemd-pkcs11 ]'
sd_attach() {
	PIN=1234 DM_DISABLE_UDEV=1 timeout 60 $SDC attach ${T}sd "$1" - pkcs11-uri=auto,headless=true \
		</dev/null 2>"$WORK/err" || { ktap_diag_stream <"$WORK/err"; return 1; }
	cmp -s -n $SIZE /dev/mapper/${T}sd data
	local r=$?
	DM_DISABLE_UDEV=1 $SDC detach ${T}sd || return 1
	return $r
}
ktap_check "systemd-cryptsetup attaches vaultctl's enrolment with the PIN (\$PIN); the data reads back" \
	sd_attach $DEV

ktap_finish
