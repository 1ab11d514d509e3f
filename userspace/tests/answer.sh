#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Host tests of the answer channel (answer.h): a passphrase prompt waiting
# on a pseudo-terminal (vaultctl open --test-passphrase on an image file) is
# answered by `vaultctl answer`, as vault-unlock does over SSH at boot: a
# right answer ends the prompt and the volume's passphrase test succeeds, a
# wrong one counts as a try and the prompt asks again, the last wrong one
# ends it; nothing pending is a clear error; the socket lives only while
# the prompt does, and only root may answer.  Prints KTAP.
# Usage: answer.sh VAULTCTL.  $VALGRIND_CMD prefixes vaultctl.

VAULTCTL=${1:?usage: answer.sh VAULTCTL}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
test_dir answer

if [ "$(id -u)" != 0 ]; then
	skp "answer channel host tests" "needs root (the channel is root's)"
	finish
fi

check() { name=$1; shift; if "$@"; then ok "$name"; else nok "$name"; fi; }
# A private channel directory, as the initramfs's /run/vault/answer.
export VAULT_ANSWER_DIR="$T/answer"
export VAULT_ANSWER_WAIT_MS=1500
VC="$VALGRIND_CMD $VAULTCTL"
STEPS="python3 $HERE/pty-steps.py"

truncate -s 20M vol.img
printf 'right horse' | $VC format -q $FAST --key-file - vol.img >"$OUT" 2>"$ERR"
check "format the test volume" test $? -eq 0
printf 'right horse\n' > right
printf 'wrong horse\n' > wrong

# 1. nothing pending: a clear message, exit 4, after the short wait
$VC answer < right >"$OUT" 2>"$ERR"; rc=$?
check "nothing pending: exit 4" test $rc -eq 4
check "nothing pending: says so" grep -q "no passphrase prompt is pending" "$ERR"

# 1b. a socket file a killed vaultctl left behind is no pending prompt
mkdir -p -m 700 "$VAULT_ANSWER_DIR"
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' \
	"$VAULT_ANSWER_DIR/stale"
$VC answer < right >"$OUT" 2>"$ERR"; rc=$?
check "a stale socket is not taken for a prompt (exit 4)" \
	sh -c "[ $rc -eq 4 ] && [ -S '$VAULT_ANSWER_DIR/stale' ]"
rm -f "$VAULT_ANSWER_DIR/stale"

# 2. wrong then right, through the channel only (nothing typed)
$STEPS expect "Enter passphrase for vol.img" \
	run "$VC answer < wrong > a1.out 2> a1.err" \
	expect "Enter passphrase for vol.img" \
	run "ls -l '$VAULT_ANSWER_DIR' > ls.out; $VC answer < right > a2.out 2> a2.err" \
	-- $VC open --test-passphrase --tries 3 vol.img > "$OUT" 2>&1; rc=$?
check "right answer: the passphrase test succeeds" test $rc -eq 0
check "wrong answer: exit 2 and tries left" \
	grep -q "run 1: status 2 " "$OUT"
check "wrong answer: the answer says 2 tries left" grep -q "wrong passphrase (2 tries left)" a1.err
check "wrong answer: the prompt reports it and asks again" \
	sh -c "grep -q 'No key available with this passphrase' '$OUT' &&
		[ \$(grep -c 'Enter passphrase for vol.img' '$OUT') -eq 2 ]"
check "the prompt notes where the answer came from" \
	grep -q "came through the answer channel" "$OUT"
check "right answer: exit 0, unlocked" \
	sh -c "grep -q 'run 2: status 0 ' '$OUT' && grep -qx 'vol.img: unlocked' a2.out"
check "the socket is root's alone while pending (0600 in a 0700 dir)" \
	sh -c "grep -q '^srw------- .* vol.img$' ls.out &&
		[ \$(stat -c %a '$VAULT_ANSWER_DIR') = 700 ]"
check "the socket is gone once the prompt ends" \
	sh -c "[ -z \"\$(ls -A '$VAULT_ANSWER_DIR')\" ]"

# 3. every try wrong through the channel: the prompt gives up
$STEPS expect "Enter passphrase" run "$VC answer < wrong > b1.out 2> b1.err" \
	expect "Enter passphrase" run "$VC answer < wrong > b2.out 2> b2.err" \
	-- $VC open --test-passphrase --tries 2 vol.img > "$OUT" 2>&1; rc=$?
check "two wrong answers with tries=2: the prompt fails (exit 2)" test $rc -eq 2
check "the last wrong answer: no tries left" grep -q "no tries left" b2.err

# 4. typed on the terminal: the channel closes with the prompt
$STEPS expect "Enter passphrase" type "right horse" \
	-- $VC open --test-passphrase vol.img > "$OUT" 2>&1; rc=$?
check "typed on the terminal: still opens" test $rc -eq 0
$VC answer < right >"$OUT" 2>"$ERR"; rc=$?
check "after the prompt ended: nothing pending" test $rc -eq 4

# 5. interactive: vault-unlock on its own terminal (SSH's), no echo
$STEPS expect "Enter passphrase" \
	run "python3 $HERE/pty-answer.py 'Passphrase for vol.img' 'right horse' -- $VC answer > c.out 2>&1" \
	-- $VC open --test-passphrase vol.img > "$OUT" 2>&1; rc=$?
check "interactive answer: the prompt ends, the test succeeds" test $rc -eq 0
check "interactive: lists the pending prompt" grep -q "Pending passphrase prompt(s): vol.img" c.out
check "interactive: unlocked, then nothing pending" \
	sh -c "grep -q 'vol.img: unlocked' c.out && grep -q 'No passphrase prompt is pending any more' c.out"
check "interactive: the passphrase is not echoed" sh -c "! grep -q 'right horse' c.out"

# 6. only root: another user cannot see or answer the prompt
if command -v setpriv >/dev/null 2>&1; then
	$STEPS expect "Enter passphrase" \
		run "setpriv --reuid=65534 --regid=65534 --clear-groups $VC answer < right > d.out 2>&1; echo \$? > d.rc" \
		type "right horse" \
		-- $VC open --test-passphrase vol.img > "$OUT" 2>&1
	check "another user: refused (exit 2, the prompts are root's)" \
		sh -c "[ \$(cat d.rc) = 2 ] && grep -q \"the prompts are root's\" d.out"
else
	skp "another user is refused" "setpriv is not installed"
fi
finish
