#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# vaulttab's TPM2 options reach the TPM2 token (the guest's software TPM):
# a volume enrolled by systemd-cryptenroll --tpm2-device=auto opens through
# `open --all` with tpm2-device=auto and headless=yes, nothing read from
# stdin; tpm2-device= naming a TPM that does not exist makes the volume
# wait token-timeout= for it, say so, and fall back to the passphrase; with
# headless=yes it fails instead, saying why.  (--tpm2-measure-pcr=no keeps
# PCR 15 as the token was sealed to, for the next open.)
# one-kernel: vaultctl's vaulttab, prompts and locking, the same on every kernel; make check runs it on the newest kernel, make check-extended on the others
. "${VAULT_REPO:?}/tests/lib/ktap.sh"
. "$VAULT_REPO/tests/lib/tpm.sh"

FAST=(--pbkdf pbkdf2 --pbkdf-force-iterations 1000)
need_vaultctl
need_cmd systemd-cryptenroll
tpm_require
WORK=$(mktemp -d /tmp/t39.XXXXXX) || ktap_fail_all "mktemp failed"
ktap_defer rm -rf "$WORK"
vault_setup_module || ktap_fail_all "dm-vault.ko cannot be loaded"
ktap_defer "$VAULTCTL" close vtT
loop_setup 20 DEV || ktap_fail_all "cannot set up a loop device"
cd "$WORK" || exit 1
tpm_reset

printf 'tpm volume pass' >pass
# systemd-cryptenroll's token binds PCR 7 only: what earlier tests in this
# guest did to PCR 15 does not matter (vaultctl's would bind it too).
ktap_check "format, and enroll a TPM2 token (PCR 7) with systemd-cryptenroll" eval '
	"$VAULTCTL" format "${FAST[@]}" --key-file pass "$DEV" &&
	PASSWORD="tpm volume pass" systemd-cryptenroll --tpm2-device=auto --tpm2-pcrs=7 "$DEV" </dev/null' ||
	ktap_fail_all "cannot set up the volume"

mapped() { [ -b "/dev/mapper/$1" ]; }
# open_all TAB [ARGS]: open --all -v without PCR 15 measurement; status in st, output in err
open_all() {
	local tab=$1
	shift
	"$VAULTCTL" open --all -v --tpm2-measure-pcr=no --vaulttab "$tab" "$@" >err 2>&1
	st=$?
	sed 's/^/# err: /' err
}

echo "vtT $DEV none luks,headless=yes,tpm2-device=auto" >tab-auto
ktap_check "tab-check -v shows the options" \
	eval '[ "$("$VAULTCTL" tab-check -v --vaulttab tab-auto)" = "vtT $DEV none luks,headless,tpm2-device=auto" ]'
open_all tab-auto </dev/null
ktap_check "tpm2-device=auto, headless=yes: the token opens it, nothing read" \
	eval '[ "$st" = 0 ] && mapped vtT && grep -q "Key slot 1 unlocked with token 0 (systemd-tpm2)" err'
"$VAULTCTL" close vtT

echo "vtT $DEV none luks,tpm2-device=device:/dev/tpmrm0" >tab-tcti
open_all tab-tcti </dev/null
ktap_check "tpm2-device=device:/dev/tpmrm0 (a TCTI): opens with nothing read" \
	eval '[ "$st" = 0 ] && mapped vtT && grep -q "Key slot 1 unlocked with token 0 (systemd-tpm2)" err'
"$VAULTCTL" close vtT

echo "vtT $DEV none luks,tpm2-device=/dev/vault-t39-no-tpm,token-timeout=2" >tab-missing
start=$(date +%s)
open_all tab-missing <<<"tpm volume pass"
took=$(($(date +%s) - start))
ktap_diag "took ${took}s"
ktap_check "a missing TPM: waits token-timeout=2, says so, then the passphrase opens it" \
	eval '[ "$st" = 0 ] && mapped vtT && [ "$took" -ge 2 ] && ! grep -q "with token" err &&
	      grep -q "Key slot 0 unlocked\." err &&
	      grep -q "tab-missing:1: vtT: .*waiting up to 2 s for the TPM2 device /dev/vault-t39-no-tpm (token-timeout=)" err &&
	      grep -q "no TPM2 device after 2 s (token-timeout=)" err'
"$VAULTCTL" close vtT

echo "vtT $DEV none luks,headless,tpm2-device=/dev/vault-t39-no-tpm,token-timeout=1" >tab-headless
open_all tab-headless <<<"tpm volume pass"
ktap_check "headless with a missing TPM: fails, saying why, the passphrase on stdin unread" \
	eval '[ "$st" != 0 ] && ! mapped vtT &&
	      grep -q "not asking for a passphrase (headless), and no key file or token opened $DEV" err'

ktap_check "no key left loaded" eval '[ -z "$(vault_key_names)" ]'
ktap_finish
