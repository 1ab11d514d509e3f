#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The answer channel (remote unlock) with `vaultctl open --all`, as the
# initramfs runs it (tests/boot/90-ssh-unlock.sh does it at boot): while
# it asks for each vaulttab entry, `vaultctl answer` on another terminal
# (an SSH session's) answers every prompt in turn and the volumes open; the
# channel is named for the entry; timeout= bounds the channel as the
# console (a wrong answer over it does not extend the time), and the
# socket is gone once the prompt gives up.
# one-kernel: the answer channel is vaultctl's userspace, the same on every kernel; make check runs it on the newest kernel, make check-extended on the others
. "${VAULT_REPO:?}/tests/lib/ktap.sh"

FAST=(--pbkdf pbkdf2 --pbkdf-force-iterations 1000)
need_vaultctl
need_cmd python3 timeout
STEPS=(python3 "$VAULT_REPO/userspace/tests/pty-steps.py")
ANSWER_PTY="python3 $VAULT_REPO/userspace/tests/pty-answer.py"
WORK=$(mktemp -d /tmp/t53.XXXXXX) || ktap_fail_all "mktemp failed"
ktap_defer rm -rf "$WORK"
vault_setup_module || ktap_fail_all "dm-vault.ko cannot be loaded"
closeall() {
	local n
	for n in vtA vtB vtT; do
		"$VAULTCTL" close $n >/dev/null 2>&1
	done
	return 0
}
ktap_defer closeall
loop_setup 20 DEV_A || ktap_fail_all "cannot set up a loop device"
loop_setup 20 DEV_B || ktap_fail_all "cannot set up a loop device"
cd "$WORK" || exit 1
printf 'alpha pass' >a
printf 'beta pass' >b
ktap_check "format two volumes with different passphrases" eval '
	"$VAULTCTL" format "${FAST[@]}" --key-file a "$DEV_A" &&
	"$VAULTCTL" format "${FAST[@]}" --key-file b "$DEV_B"' ||
	ktap_fail_all "cannot set up the volumes"
mapped() { [ -b "/dev/mapper/$1" ]; }
dir=/run/vault/answer

# 1. Both prompts answered by one interactive vault-unlock session.
printf '%s\n' "vtA $DEV_A none luks,tries=2" "vtB $DEV_B none luks,tries=2" >tab
"${STEPS[@]}" expect "Enter passphrase for vtA" \
	run "ls -l $dir > ls.out; $ANSWER_PTY 'Passphrase for vtA' 'alpha pass' 'Passphrase for vtB' 'beta pass' -- $VAULTCTL answer > c.out 2>&1" \
	-- "$VAULTCTL" open --all --vaulttab tab > con.out 2>&1
st=$?
sed 's/^/# console: /' con.out; sed 's/^/# ssh: /' c.out
ktap_check "open --all: both volumes open, answered over the channel only" \
	eval '[ "$st" = 0 ] && mapped vtA && mapped vtB'
ktap_check "the channel is named for the vaulttab entry" grep -q ' vtA$' ls.out
ktap_check "vault-unlock went on to the second prompt and ended" \
	eval 'grep -q "vtA: unlocked" c.out && grep -q "vtB: unlocked" c.out &&
	      grep -q "No passphrase prompt is pending any more" c.out'
ktap_check "the console noted both answers" \
	eval '[ "$(grep -c "came through the answer channel" con.out)" = 2 ]'
ktap_check "no channel left" eval '[ -z "$(ls -A $dir)" ]'
closeall

# 2. timeout=10: a wrong answer over the channel 3 s in, then nobody: gives
#    up 10 s after the prompt began.  Were the clock restarted by the answer
#    the prompt would still wait at 11.5 s, when the right passphrase comes.
#    The answers run side by side, timed from the prompt: a slow `vaultctl
#    answer` under TCG load delays only itself (the wrong one has 7 s).
printf '%s\n' "vtT $DEV_A none luks,timeout=10" >tab-timeout
start=$(date +%s.%N)
"${STEPS[@]}" expect "Enter passphrase for vtT" \
	run "(sleep 3; printf 'wrong\n' | $VAULTCTL answer > w.out 2>&1; echo \$? > w.rc) & (sleep 11.5; VAULT_ANSWER_WAIT_MS=300 $VAULTCTL answer < a > late.out 2>&1; echo \$? > late.rc) & wait" \
	-- timeout 40 "$VAULTCTL" open --all --vaulttab tab-timeout > con.out 2>&1
st=$?
took=$(python3 -c "import time; print(round(time.time() - $start, 1))")
sed 's/^/# console: /' con.out; sed 's/^/# ssh: /' w.out late.out
ktap_diag "the prompt ended after $took s"
ktap_check "timeout: the wrong answer counted (exit 2)" \
	eval '[ "$(cat w.rc)" = 2 ] && grep -q "wrong passphrase" w.out'
ktap_check "timeout=10 bounds the channel too: gives up, with the reason" \
	eval '[ "$st" != 0 ] && ! mapped vtT && grep -q "no passphrase entered within 10 s (timeout=)" con.out'
ktap_check "11.5 s in, after it gave up: nothing pending (exit 4), no socket left" \
	eval '[ "$(cat late.rc)" = 4 ] && grep -q "no passphrase prompt is pending" late.out &&
	      [ -z "$(ls -A $dir)" ]'
closeall
ktap_check "no key left loaded" eval '[ -z "$(vault_key_names)" ]'
ktap_finish
