#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# What crosses the TPM bus.  swtpm logs every command and response the guest
# exchanges with its TPM (tests/lib/tpm.sh); the secret that unlocks a
# volume and the PIN must appear in none of vaultctl's.
#
# Controls first, so the search is known to find what is there: a known
# secret unsealed with a password authorization is in the log (and
# tpm_log_unsealed recovers it); a PIN sent as a policy password is in the
# log.
#
# Then, for systemd 252 (the reference, without a PIN) and for vaultctl
# without and with a PIN: enrol, unlock (systemd-cryptsetup attach /
# vaultctl open), then recover the token's secret independently with
# tpm2-tools in an unsalted, unencrypted policy session (tpm_token_secret).
# The recovered secret must be the keyslot's (its base64 opens that keyslot)
# and must be in the log of the recovery (the positive control on the very
# same secret); the unlock's traffic must hold a TPM2_Unseal and neither the
# secret, its base64, the PIN nor sha256(PIN); nor may the enrolment's.
# (systemd 252 passes too: it unseals in a salted, encrypting session since
# v251; systemd#25620 was closed as a duplicate.)
. "${VAULT_REPO:?}/tests/lib/ktap.sh"
. "$VAULT_REPO/tests/lib/luks2.sh"
. "$VAULT_REPO/tests/lib/tpm.sh"

SD_CRYPTSETUP=/usr/lib/systemd/systemd-cryptsetup
PASS='tpm bus passphrase'
PIN='4711 bus pin'

tpm_require
need_cmd tpm2_createprimary tpm2_create tpm2_load tpm2_unseal tpm2_startauthsession \
	tpm2_policypassword tpm2_policypcr tpm2_policyauthvalue \
	tpm2_flushcontext systemd-cryptenroll "$SD_CRYPTSETUP"
luks2_test_setup t39b 24 cryptsetup
tpm_reset || ktap_fail_all "cannot clear the TPM"
export DM_DISABLE_UDEV=1
cleanup() {
	"$SD_CRYPTSETUP" detach $T >/dev/null 2>&1
	"$VAULTCTL" close $T >/dev/null 2>&1
}
ktap_defer cleanup
cd "$WORK" || ktap_fail_all "cd $WORK"
printf '%s' "$PASS" >pass
pinsha=$(printf '%s' "$PIN" | sha256sum | cut -c1-64)
hexof() { od -An -v -tx1 "$1" | tr -d ' \n'; }

# tpm2 CMD ARGS: run a tpm2-tools command, its output shown on failure.
tpm2() {
	"$@" >out 2>&1 && return 0
	ktap_diag "$* failed:"
	ktap_diag_stream <out
	return 1
}

# ---- 1. controls with known secrets (tpm2-tools) ----
tpm2 tpm2_createprimary -Q -C o -G ecc -c prim.ctx || ktap_fail_all "tpm2_createprimary"

# seal NAME [CREATE-ARGS...]: an object sealing 32 random bytes
# (NAME.secret), loaded as NAME.ctx.
seal() {
	local name=$1
	shift
	head -c 32 /dev/urandom >"$name.secret"
	tpm2 tpm2_create -Q -C prim.ctx -i "$name.secret" "$@" -u "$name.pub" -r "$name.priv" &&
		tpm2 tpm2_load -Q -C prim.ctx -u "$name.pub" -r "$name.priv" -c "$name.ctx"
}

seal plain || ktap_fail_all "sealing a known secret"
m0=$(tpm_log_mark)
tpm2 tpm2_unseal -c plain.ctx -o plain.out && cmp -s plain.out plain.secret
ktap_check "tpm2_unseal (password authorization) returns the sealed secret" test $? = 0
m1=$(tpm_log_mark)
ktap_check "the log holds its TPM2_Unseal" test "$(tpm_log_commands 15e "$m0" "$m1")" = 1
ktap_check "control: the secret is in the log of a password-authorized unseal" \
	tpm_log_contains "$(hexof plain.secret)" "$m0" "$m1"
ktap_check "control: tpm_log_unsealed recovers it" \
	test "$(tpm_log_unsealed "$m0" "$m1")" = "$(hexof plain.secret)"

# A policy password (PolicyPassword) sends the auth value as is.
tpm2 tpm2_startauthsession -S trial.ctx && tpm2 tpm2_policypassword -Q -S trial.ctx -L pw.policy &&
	tpm2 tpm2_flushcontext trial.ctx || ktap_fail_all "a PolicyPassword policy"
# pwunseal NAME AUTH: unseal NAME.ctx with the policy password AUTH
pwunseal() {
	tpm2 tpm2_startauthsession --policy-session -S ps.ctx &&
		tpm2 tpm2_policypassword -Q -S ps.ctx &&
		tpm2 tpm2_unseal -c "$1.ctx" -p "session:ps.ctx+$2" -o "$1.out"
	local rc=$?
	tpm2 tpm2_flushcontext ps.ctx
	[ "$rc" = 0 ] && cmp -s "$1.out" "$1.secret"
}
seal pin -p "$PIN" -L pw.policy -a 'fixedtpm|fixedparent' || ktap_fail_all "sealing with a PIN"
m0=$(tpm_log_mark)
ktap_check "unseal with the PIN as a policy password" pwunseal pin "$PIN"
ktap_check "control: the PIN is in the log of that unseal" \
	tpm_log_contains "$(tpm_hex "$PIN")" "$m0"
tpm2 tpm2_flushcontext -t
ktap_diag "controls done at ${SECONDS}s"

# ---- 2. a volume's token: enrol, unlock, recover, search ----
# newest_token: the highest token id of $DEV and its keyslot, "ID SLOT"
newest_token() {
	cs luksDump --dump-json-metadata $DEV | /usr/bin/python3 -c '
import json, sys
t = json.load(sys.stdin)["tokens"]
i = max(t, key=int)
print(i, t[i]["keyslots"][0])'
}

# proof WHO PIN ENROL-CMD -- UNLOCK-CMD: ENROL-CMD adds a token to $DEV,
# UNLOCK-CMD maps $T with it (no input) and unmaps it.
proof() {
	local who=$1 pin=$2 enrol=() unlock=() e0 e1 u0 u1 r0 r1 id slot secret
	shift 2
	while [ "$1" != -- ]; do enrol+=("$1"); shift; done
	shift
	unlock=("$@")
	e0=$(tpm_log_mark)
	"${enrol[@]}" </dev/null >out 2>&1 || {
		ktap_diag_stream <out
		ktap_fail "$who: enrols"
		return
	}
	e1=$(tpm_log_mark)
	read -r id slot < <(newest_token)
	ktap_pass "$who: enrols (token $id, keyslot $slot)"
	u0=$(tpm_log_mark)
	if "${unlock[@]}" </dev/null >out 2>&1; then
		ktap_pass "$who: unlocks with the TPM, no input"
	else
		ktap_diag_stream <out
		ktap_fail "$who: unlocks with the TPM, no input"
	fi
	u1=$(tpm_log_mark)
	ktap_check "$who: unmapped again" not test -e /dev/mapper/$T
	r0=$(tpm_log_mark)
	secret=$(tpm_token_secret $DEV "$id" "$pin")
	r1=$(tpm_log_mark)
	if [ ${#secret} -lt 32 ]; then
		ktap_fail "$who: tpm2-tools recovers the token's secret"
		return
	fi
	/usr/bin/python3 -c 'import base64, sys; sys.stdout.write(base64.b64encode(bytes.fromhex(sys.argv[1])).decode())' \
		"$secret" >secret.b64
	ktap_check "$who: the secret tpm2-tools unsealed is the keyslot's (its base64 opens keyslot $slot)" \
		cs open --test-passphrase --disable-external-tokens --key-slot "$slot" --key-file secret.b64 $DEV
	ktap_check "$who: control: the secret is in the log of that unencrypted unseal" \
		tpm_log_contains "$secret" "$r0" "$r1"
	tpm_bus_hidden "$who: unlock" "$secret" "$pin" "$u0" "$u1"
	ktap_check "$who: enrolment: the secret is not in its traffic" \
		not tpm_log_contains "$secret" "$e0" "$e1"
	if [ -n "$pin" ]; then
		ktap_check "$who: enrolment: nor the PIN" not tpm_log_contains "$(tpm_hex "$pin")" "$e0" "$e1"
		ktap_check "$who: enrolment: nor sha256(PIN)" not tpm_log_contains "$pinsha" "$e0" "$e1"
	fi
	ktap_diag "$who: done at ${SECONDS}s (log $(tpm_log_mark) bytes)"
}

# Each proof on a new volume: one token, so the unlock uses that one.
fresh() {
	cs luksFormat -q --type luks2 "${FAST[@]}" --key-file pass $DEV || ktap_fail_all "luksFormat"
}
sd_attach() {
	"$SD_CRYPTSETUP" attach $T $DEV - tpm2-device=auto,headless=true &&
		"$SD_CRYPTSETUP" detach $T
}
fresh
proof "systemd 252" "" \
	env PASSWORD="$PASS" systemd-cryptenroll --tpm2-device=auto --tpm2-pcrs=7 $DEV -- sd_attach

if ! "$VAULTCTL" enroll --help 2>&1 | grep -q -- --tpm2-device; then
	ktap_diag "this vaultctl has no enroll --tpm2-device: its bus proof is not run"
	ktap_finish
fi
# vaultctl open extends PCR 15 after unlocking (the token binds it);
# --tpm2-measure-pcr=no keeps PCR 15 for the tests after this one.
vc_open() {
	"$VAULTCTL" open --tpm2-measure-pcr=no --token-only $DEV $T && "$VAULTCTL" close $T
}
vc_open_pin() {
	PIN=$PIN "$VAULTCTL" open --tpm2-measure-pcr=no --token-only $DEV $T && "$VAULTCTL" close $T
}
fresh
proof "vaultctl" "" \
	"$VAULTCTL" enroll --tpm2-device=auto --tpm2-pcrs=7 --key-file pass $DEV -- vc_open
fresh
proof "vaultctl with a PIN" "$PIN" \
	env NEWPIN="$PIN" "$VAULTCTL" enroll --tpm2-device=auto --tpm2-pcrs=7 --tpm2-with-pin \
	--key-file pass $DEV -- vc_open_pin
ktap_finish
