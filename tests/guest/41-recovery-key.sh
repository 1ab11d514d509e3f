#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Recovery keys both ways through real mappings: a volume vaultctl formatted
# and enrolled (`vaultctl enroll --recovery-key`) is attached by systemd
# 252's own /usr/lib/systemd/systemd-cryptsetup (dm-crypt) with the
# recovery key as key file, and the data dm-vault wrote reads back there;
# systemd-cryptsetup refuses the key in upper case, as vaultctl does.  A
# key systemd-cryptenroll made opens the volume with vaultctl (dm-vault)
# typed at the passphrase prompt.
# one-kernel: recovery-key parsing in vaultctl and systemd; make check runs it on the newest kernel, make check-extended on the others
. "${VAULT_REPO:?}/tests/lib/ktap.sh"
. "$VAULT_REPO/tests/lib/luks2.sh"

SDC=/usr/lib/systemd/systemd-cryptsetup
luks2_test_setup t41 20 cryptsetup cmp timeout
[ -x $SDC ] || ktap_skip_dep "$SDC is not installed (systemd)"
command -v systemd-cryptenroll >/dev/null || ktap_skip_dep "systemd-cryptenroll is not installed"
cleanup() {
	DM_DISABLE_UDEV=1 $SDC detach $T-sd >/dev/null 2>&1
	"$VAULTCTL" close $T >/dev/null 2>&1
}
ktap_defer cleanup
cd "$WORK" || exit 1
umask 077	# key files: systemd-cryptsetup warns about readable ones
printf 'first pass' >p1
head -c $((1 << 20)) /dev/urandom >data

# sd_attach KEYFILE: systemd-cryptsetup maps the volume as $T-sd (no prompt;
# it ignores a relative key file path)
sd_attach() {
	DM_DISABLE_UDEV=1 timeout 120 $SDC attach $T-sd $DEV "$WORK/$1" headless=true,tries=1 2>sd.err
}
# sd_refuses KEYFILE: the attach fails on the key itself (the same call with
# the right key file succeeds above), and leaves no mapping
sd_refuses() {
	not sd_attach "$1" && [ ! -e /dev/mapper/$T-sd ] && grep -q 'Key data incorrect' sd.err
}
sd_reads_data() {
	sd_attach "$1" || { sed 's/^/# /' sd.err; return 1; }
	dmsetup table $T-sd | grep -q ' crypt ' && cmp -s -n $((1 << 20)) /dev/mapper/$T-sd data
	local r=$?
	DM_DISABLE_UDEV=1 $SDC detach $T-sd || return 1
	return $r
}
# v_reads_data: vaultctl maps with the passphrase on stdin, the data is there
v_reads_data() {
	"$VAULTCTL" open $DEV $T 2>v.err || { sed 's/^/# /' v.err; return 1; }
	dmsetup table $T | grep -q ' vault ' && cmp -s -n $((1 << 20)) /dev/mapper/$T data
	local r=$?
	"$VAULTCTL" close $T || return 1
	return $r
}

# --- vaultctl enrols, systemd-cryptsetup attaches ------------------------------------
ktap_check "vaultctl format" "$VAULTCTL" format "${FAST[@]}" --key-file p1 $DEV
"$VAULTCTL" open --key-file p1 $DEV $T &&
	dd if=data of=/dev/mapper/$T bs=1M oflag=direct conv=fsync status=none &&
	"$VAULTCTL" close $T
ktap_check "data written through dm-vault" test $? = 0
"$VAULTCTL" enroll --recovery-key --key-file p1 --recovery-key-file rk $DEV >rk.out 2>rk.err
erc=$?
ktap_check "vaultctl enroll --recovery-key (key file rk)" \
	eval '[ $erc = 0 ] && [ "$(cat rk)" = "$(cat rk.out)" ]'
ktap_check "systemd-cryptsetup attach with the recovery key reads dm-vault's data" \
	sd_reads_data rk
tr 'a-z' 'A-Z' <rk | tr -d '\n' >rk-upper
ktap_check "systemd-cryptsetup refuses the key in upper case (no normalisation in 252)" \
	sd_refuses rk-upper
ktap_check "vaultctl refuses it too (exit 2)" \
	fails_with 2 'No key available' "$VAULTCTL" open --test-passphrase --key-file rk-upper $DEV

# --- systemd-cryptenroll enrols, vaultctl opens -----------------------------------------
PASSWORD='first pass' systemd-cryptenroll --recovery-key $DEV >sk.out 2>sk.err
erc=$?
ktap_check "systemd-cryptenroll --recovery-key on the same volume" \
	eval '[ $erc = 0 ] && grep -q "^[cbdefghijklnrtuv-]\{71\}$" sk.out'
ktap_check "vaultctl open with systemd's key at the prompt: dm-vault reads the data" \
	v_reads_data <sk.out
ktap_check "vaultctl dump lists both systemd-recovery tokens" \
	eval '[ "$("$VAULTCTL" dump $DEV | grep -c "^  [0-9]*: systemd-recovery$")" = 2 ]'

# --- the vaulttab path tries every token, not only token 0 --------------------------
cs token remove --token-id 0 $DEV
printf '%s %s none\n' $T $DEV >tab
"$VAULTCTL" open --all --vaulttab tab <sk.out 2>tab.err
erc=$?
ktap_check "open --all with systemd's key, token 0 gone: opens, no token complaint" \
	eval '[ $erc = 0 ] && ! grep -q token tab.err && cmp -s -n $((1 << 20)) /dev/mapper/$T data'
"$VAULTCTL" close $T

ktap_finish
