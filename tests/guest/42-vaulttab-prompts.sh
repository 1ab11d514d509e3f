#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# vaulttab prompts in `vaultctl open --all` (what the initramfs runs):
# one typed passphrase opens every later volume it fits (root and home with
# one prompt, on a terminal and on a pipe) and a volume with another
# passphrase still gets its own prompt; a wrong passphrase is not reused;
# timeout= gives up a prompt nobody answers, with a message; headless never
# asks (fails with a message, or opens with the passphrase already typed).
# one-kernel: vaultctl's vaulttab, prompts and locking, the same on every kernel; make check runs it on the newest kernel, make check-extended on the others
. "${VAULT_REPO:?}/tests/lib/ktap.sh"

FAST=(--pbkdf pbkdf2 --pbkdf-force-iterations 1000)
need_vaultctl
need_cmd script setsid timeout
WORK=$(mktemp -d /tmp/t38.XXXXXX) || ktap_fail_all "mktemp failed"
ktap_defer rm -rf "$WORK"
vault_setup_module || ktap_fail_all "dm-vault.ko cannot be loaded"
closeall() {
	local n
	for n in vtR vtH vtO; do
		"$VAULTCTL" close $n >/dev/null 2>&1
	done
	return 0
}
ktap_defer closeall
for v in R H O; do
	loop_setup 20 "DEV_$v" || ktap_fail_all "cannot set up a loop device"
done
cd "$WORK" || exit 1

printf 'one for all' >same
printf 'another one' >other
ktap_check "format root, home (same passphrase) and other" eval '
	"$VAULTCTL" format "${FAST[@]}" --key-file same "$DEV_R" &&
	"$VAULTCTL" format "${FAST[@]}" --key-file same "$DEV_H" &&
	"$VAULTCTL" format "${FAST[@]}" --key-file other "$DEV_O"' ||
	ktap_fail_all "cannot set up the volumes"

mapped() { [ -b "/dev/mapper/$1" ]; }
prompts() { grep -c "Enter passphrase for $1" tty.out; }

# ontty INPUT CMD: runs CMD under script(1) (a terminal, as the console is
# at boot); types INPUT once a prompt shows.  Status in st.
ontty() {
	local input=$1 i=0
	shift
	: >tty.out
	{ while [ $i -lt 300 ] && ! grep -q -e 'Enter passphrase' -e 'rc=' tty.out; do
		sleep 0.1; i=$((i + 1)); done
	  printf '%s' "$input"; sleep 2; } |
		script -qec "$*; echo rc=\$?" /dev/null >tty.out 2>&1
	sed 's/^/# tty: /' tty.out
	st=$(sed -n 's/.*rc=\([0-9]*\).*/\1/p' tty.out | tail -n 1)
}

printf '%s\n' "vtR $DEV_R none luks" "vtH $DEV_H none luks" >tab-same
# setsid: no controlling terminal, the console on stdin (an initramfs)
ontty 'one for all
' setsid -w "$VAULTCTL" open --all --vaulttab tab-same
ktap_check "same passphrase: both open" eval '[ "$st" = 0 ] && mapped vtR && mapped vtH'
ktap_check "same passphrase: one prompt (root's), none for home" \
	eval '[ "$(prompts vtR)" = 1 ] && [ "$(prompts vtH)" = 0 ]'
ktap_check "same passphrase: nothing typed is echoed" not grep -q 'one for all' tty.out
closeall

printf '%s\n' "vtR $DEV_R none luks" "vtO $DEV_O none luks" "vtH $DEV_H none luks" >tab-mixed
ontty 'one for all
another one
' setsid -w "$VAULTCTL" open --all --vaulttab tab-mixed
ktap_check "different passphrases: all three open" \
	eval '[ "$st" = 0 ] && mapped vtR && mapped vtO && mapped vtH'
ktap_check "different passphrases: the second volume asks, the third does not" \
	eval '[ "$(prompts vtR)" = 1 ] && [ "$(prompts "vtO ($DEV_O)")" = 1 ] && [ "$(prompts vtH)" = 0 ]'
ktap_check "a passphrase that does not fit is not reported as wrong" \
	not grep -q 'No key available' tty.out
closeall

# A wrong first try is not kept: home asks too.
ontty 'not it
one for all
one for all
' setsid -w "$VAULTCTL" open --all --vaulttab tab-same
ktap_check "a wrong passphrase is not reused, the right one is" \
	eval '[ "$st" = 0 ] && mapped vtR && mapped vtH && [ "$(prompts vtR)" = 2 ] &&
	      [ "$(prompts vtH)" = 0 ]'
closeall

# A pipe carries one line: without reuse home would meet the end of input.
"$VAULTCTL" open --all --vaulttab tab-same <<<"one for all" 2>err
st=$?
sed 's/^/# err: /' err
ktap_check "one line on a pipe opens root and home" eval '[ "$st" = 0 ] && mapped vtR && mapped vtH'
closeall

# timeout=: nobody types (a pipe kept open, then a terminal).
printf '%s\n' "vtR $DEV_R none luks,timeout=2" >tab-timeout
start=$(date +%s)
# (a process substitution: bash does not wait for its writer)
"$VAULTCTL" open --all --vaulttab tab-timeout 2>err < <(sleep 20)
st=$?
took=$(($(date +%s) - start))
sed 's/^/# err: /' err
ktap_diag "gave up after ${took}s (the pipe's writer lives 20 s)"
ktap_check "timeout=2: gives up, with the reason" \
	eval '[ "$st" != 0 ] && ! mapped vtR &&
	      grep -q "tab-timeout:1: vtR: no passphrase entered within 2 s (timeout=); giving up" err'
ktap_check "timeout=2: after 2 s, not at once nor at the end of input" \
	eval '[ "$took" -ge 2 ] && [ "$took" -lt 15 ]'
ontty '' setsid -w timeout 30 "$VAULTCTL" open --all --vaulttab tab-timeout
ktap_check "timeout=2 on a terminal: one prompt, then gives up" \
	eval '[ "$st" = 1 ] && [ "$(prompts vtR)" = 1 ] && grep -q "within 2 s (timeout=)" tty.out && ! mapped vtR'

# headless: never a prompt.
printf '%s\n' "vtH $DEV_H none luks,headless=yes" >tab-headless
ontty 'one for all
' setsid -w timeout 30 "$VAULTCTL" open --all --vaulttab tab-headless
ktap_check "headless without key file or token: fails at once, no prompt, says why" \
	eval '[ "$st" = 1 ] && [ "$(prompts vtH)" = 0 ] && ! mapped vtH &&
	      grep -q "tab-headless:1: vtH: not asking for a passphrase (headless), and no key file or token opened $DEV_H" tty.out'
printf '%s\n' "vtR $DEV_R none luks" "vtH $DEV_H none luks,headless" >tab-headless2
ontty 'one for all
' setsid -w timeout 30 "$VAULTCTL" open --all --vaulttab tab-headless2
ktap_check "headless opens with the passphrase typed for an earlier volume" \
	eval '[ "$st" = 0 ] && mapped vtR && mapped vtH && [ "$(prompts vtH)" = 0 ]'
closeall
ktap_check "tab-check accepts the files" eval '"$VAULTCTL" tab-check --vaulttab tab-mixed &&
	"$VAULTCTL" tab-check --vaulttab tab-timeout && "$VAULTCTL" tab-check --vaulttab tab-headless2'

ktap_check "no key left loaded" eval '[ -z "$(vault_key_names)" ]'
ktap_finish
