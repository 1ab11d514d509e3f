#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Host-side tests of LUKS2 tokens in vaultctl, on image files (no module):
# every write command keeps the tokens cryptsetup imported byte for byte;
# dump lists them as cryptsetup luksDump does; `enroll --wipe-slot` with
# systemd-cryptenroll's meanings; open --test-passphrase with the token
# options; a malformed token falls back to the passphrase.  cryptsetup is
# the oracle.  Prints KTAP.  Usage: token.sh VAULTCTL.

VAULTCTL=${1:?usage: token.sh VAULTCTL}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
test_dir token
chmod 755 "$T"

echo "KTAP version 1"
if [ "$(id -u)" != 0 ]; then
	skp "token host tests" "needs root (cryptsetup's locking, as luks.sh)"
	finish
fi
if ! command -v cryptsetup >/dev/null 2>&1; then
	skp_dep "token host tests" "cryptsetup is not installed"
	finish
fi

check() { name=$1; shift; if "$@"; then ok "$name"; else nok "$name"; fi; }
img() { rm -f "$1"; truncate -s "${2:-20M}" "$1"; }
grep_err() { grep -q -- "$1" "$ERR"; }
printf 'first pass' >p1; printf 'second pass' >p2; printf 'third pass' >p3
printf 'fourth pass' >p4; printf 'wrong pass' >bad; : >empty
# every token as cryptsetup exports it, one per line, by id
tokens() { for i in $(seq 0 31); do cs token export --token-id "$i" "$1" 2>/dev/null && echo; done; }
# keyslots in use, as cryptsetup sees them ("0 1 3")
slots() { cs luksDump "$1" | sed -n '/^Keyslots:/,/^Tokens:/p' | sed -n 's/^  \([0-9]*\): .*/\1/p' | tr '\n' ' '; }
token_types() { cs luksDump "$1" | sed -n '/^Tokens:/,/^Digests:/p' | sed -n 's/^  \([0-9]*\): \(.*\)/\1:\2/p' | tr '\n' ' '; }

# --- tokens survive every other write ------------------------------------------
img a.img
vc format $FAST --key-file p1 a.img
vc add-key $FAST --key-file p1 a.img p2
cat >tpm2.json <<'EOF'
{"type":"systemd-tpm2","keyslots":["1"],"tpm2-blob":"AAEC","tpm2-pcrs":[7],"tpm2-pcr-bank":"sha256","tpm2-primary-alg":"ecc","tpm2-policy-hash":"00ff","tpm2-pin":false}
EOF
cat >odd.json <<'EOF'
{"type":"x-vendor","keyslots":[],"nested":{"a":[1,2,{"b":"c"}],"e":{}},"big":12345678901234,"s":"a\"b\\c","u":"\u00e9"}
EOF
cs token import --json-file tpm2.json a.img
cs token import --token-id 3 --json-file odd.json a.img
tokens a.img >before
check "cryptsetup imported two tokens (the setup)" [ "$(grep -c type before)" = 2 ]
vc add-key $FAST --key-file p1 a.img p3
tokens a.img >after
check "add-key keeps the tokens byte for byte" sh -c "[ $rc = 0 ] && cmp -s before after"
vc change-key $FAST --key-file p3 a.img p4
tokens a.img >after
check "change-key keeps the tokens" sh -c "[ $rc = 0 ] && cmp -s before after"
vc kill-slot --key-file p1 a.img 2
tokens a.img >after
check "kill-slot of another keyslot keeps the tokens" sh -c "[ $rc = 0 ] && cmp -s before after"
vc add-key $FAST --key-file p1 a.img p3
vc remove-key --key-file p3 a.img
tokens a.img >after
check "remove-key of another keyslot keeps the tokens" sh -c "[ $rc = 0 ] && cmp -s before after"
rm -f bk
vc header-backup a.img bk
cp a.img b.img
dd if=/dev/zero of=b.img bs=1M count=16 conv=notrunc 2>/dev/null
vc header-restore --batch-mode b.img bk
tokens b.img >after
check "header-backup then header-restore keep the tokens" sh -c "[ $rc = 0 ] && cmp -s before after"
printf 'XX' | dd of=a.img bs=1 seek=$((16384 + 4096 + 10)) conv=notrunc 2>/dev/null
vc repair a.img
tokens a.img >after
check "repair of a damaged copy keeps the tokens" sh -c "[ $rc = 0 ] && cmp -s before after"
check "cryptsetup still accepts the header and both passphrases" \
	sh -c "cs() { cryptsetup --disable-locks \"\$@\"; }; cs luksDump a.img >/dev/null &&
	       cs open --test-passphrase --key-file p1 a.img && cs open --test-passphrase --key-file p2 a.img"

# the deepest token cryptsetup still loads (json-c's depth limit, 32) loads here
# too: vaultctl must not refuse a header cryptsetup accepts
cp a.img deep.img
python3 -c 'import json
d = "x"
for i in range(28): d = {"a": d}
print(json.dumps({"type": "x-deep", "keyslots": [], "d": d}))' >deep.json
cs token import --token-id 9 --json-file deep.json deep.img
cs token export --token-id 9 deep.img >deep.before
vc add-key $FAST --key-file p1 deep.img p3
cs token export --token-id 9 deep.img >deep.after
check "a token nested as deep as cryptsetup loads: add-key works and keeps it" \
	sh -c "[ $rc = 0 ] && [ -s deep.before ] && cmp -s deep.before deep.after"

# --- dump lists tokens as cryptsetup luksDump does -------------------------------
img d.img
vc format $FAST --key-file p1 d.img
vc add-key $FAST --key-file p1 d.img p2
echo '{"type":"systemd-recovery","keyslots":["1"]}' >rec.json
cs token import --json-file rec.json d.img
cs token import --token-id 3 --json-file odd.json d.img
vc dump d.img
sed -n '/^Tokens:/,/^Digests:/p' "$OUT" >ours
cs luksDump d.img | sed -n '/^Tokens:/,/^Digests:/p' >theirs
check "dump's Tokens section is cryptsetup luksDump's" sh -c "[ $rc = 0 ] && cmp -s ours theirs"
check "dump names the systemd-recovery token and its keyslot" \
	sh -c "grep -qx '  0: systemd-recovery' ours && grep -qxP '\tKeyslot:    1' ours"

# killing a token's keyslot leaves the token with no keyslots, as luksKillSlot
cp d.img k.img
vc kill-slot --key-file p1 k.img 1
check "kill-slot of a token's keyslot: the token stays with \"keyslots\":[] (cryptsetup's way)" \
	sh -c "[ $rc = 0 ] && [ \"\$(cryptsetup --disable-locks token export --token-id 0 k.img)\" = '{\"type\":\"systemd-recovery\",\"keyslots\":[]}' ]"
# a token type is untrusted text: escaped in dump, defanged in messages
printf '{"type":"x\\u001b[31mred","keyslots":["0"]}' >esc.json
cs token import --token-id 7 --json-file esc.json k.img
vc dump k.img
check "dump escapes control characters of a token type" \
	sh -c "[ $rc = 0 ] && grep -qxF '  7: x\\x1b[31mred' $OUT && ! grep -q \"\$(printf '\\033')\" $OUT"
vc open --test-passphrase -v k.img <p1
check "open's messages about it carry no escape character" \
	sh -c "[ $rc = 0 ] && grep -q 'Token 7 (x?\[31mred)' $OUT && ! grep -q \"\$(printf '\\033')\" $OUT $ERR"

# --- open --test-passphrase and the token options ---------------------------------
vc open --test-passphrase --key-file p1 d.img
check "--test-passphrase: the passphrase opens a keyslot of an image file, no NAME" [ "$rc" = 0 ]
vc open --test-passphrase --key-file bad d.img
check "--test-passphrase with a wrong passphrase: exit 2, cryptsetup's message" \
	sh -c "[ $rc = 2 ] && grep -q 'No key available with this passphrase' $ERR"
vc open --key-file p1 d.img
check "open without NAME and without --test-passphrase: exit 1" \
	sh -c "[ $rc = 1 ] && grep -q 'needs DEVICE NAME' $ERR"
chmod 644 d.img
if setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all true 2>/dev/null; then
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$VAULTCTL" open --test-passphrase --key-file p1 d.img >"$OUT" 2>"$ERR"
	rc=$?
	check "--test-passphrase needs no root privileges" [ "$rc" = 0 ]
else
	skp "--test-passphrase needs no root privileges" "setpriv cannot drop privileges here"
fi
vc open --test-passphrase --token-only d.img </dev/null
check "--token-only with no token that unlocks by itself: exit 1, cryptsetup's message" \
	sh -c "[ $rc = 1 ] && grep -q 'No usable token is available' $ERR"
vc open --test-passphrase --token-only --disable-tokens d.img
check "--token-only with --disable-tokens is refused" \
	sh -c "[ $rc = 1 ] && grep -q 'contradict' $ERR"
vc open --test-passphrase --token-id 7 d.img <p2
check "--token-id of a missing token: says so, then the passphrase" \
	sh -c "[ $rc = 0 ] && grep -q 'token 7 does not exist' $ERR"
vc open --test-passphrase --type plain --key-file p1 d.img
check "--test-passphrase is for LUKS2, not plain mode" \
	sh -c "[ $rc = 1 ] && grep -q 'not plain mode' $ERR"
echo '{"type":"systemd-recovery","keyslots":["0","1"]}' >bad-rec.json
cs token import --token-id 5 --json-file bad-rec.json d.img
vc open --test-passphrase d.img <p1
check "a malformed token: a clear message, then the passphrase opens" \
	sh -c "[ $rc = 0 ] && grep -q 'token 5 (systemd-recovery) of d.img is malformed: a systemd-recovery token names exactly one keyslot' $ERR"
vc open --test-passphrase --disable-tokens d.img <p1
check "--disable-tokens: the malformed token is not even read" \
	sh -c "[ $rc = 0 ] && ! grep -q 'malformed' $ERR"

# --- enroll --wipe-slot -------------------------------------------------------
# w.img: keyslot 0 p1 (password), 1 p2 (systemd-recovery token 0),
# 2 p3 (systemd-tpm2-like token 1), 3 the empty passphrase (password)
img w.img
vc format $FAST --key-file p1 w.img
vc add-key $FAST --key-file p1 w.img p2
vc add-key $FAST --key-file p1 w.img p3
cs luksAddKey $FAST --key-file p1 w.img empty
cs token import --json-file rec.json w.img
sed 's/"keyslots":\["1"\]/"keyslots":["2"]/' tpm2.json >tpm2-2.json
cs token import --json-file tpm2-2.json w.img
check "wipe fixture: keyslots 0-3, recovery and tpm2 tokens" \
	sh -c "[ '$(slots w.img)' = '0 1 2 3 ' ] && [ '$(token_types w.img)' = '0:systemd-recovery 1:systemd-tpm2 ' ]"

cp w.img x.img
vc enroll --wipe-slot=recovery --key-file p1 x.img
check "--wipe-slot=recovery: its keyslot and token go, the rest stays" \
	sh -c "[ $rc = 0 ] && [ '$(slots x.img)' = '0 2 3 ' ] && [ '$(token_types x.img)' = '1:systemd-tpm2 ' ]"
cp w.img x.img
vc enroll --wipe-slot=tpm2 --key-file p1 x.img
check "--wipe-slot=tpm2: keyslot 2 and the systemd-tpm2 token go" \
	sh -c "[ $rc = 0 ] && [ '$(slots x.img)' = '0 1 3 ' ] && [ '$(token_types x.img)' = '0:systemd-recovery ' ]"
cp w.img x.img
vc enroll --wipe-slot=password --key-file p2 x.img
check "--wipe-slot=password: the keyslots no token names (0, 3) go" \
	sh -c "[ $rc = 0 ] && [ '$(slots x.img)' = '1 2 ' ] && [ '$(token_types x.img)' = '0:systemd-recovery 1:systemd-tpm2 ' ]"
cp w.img x.img
vc enroll --wipe-slot=empty --key-file p1 x.img
check "--wipe-slot=empty: only the empty-passphrase keyslot goes" \
	sh -c "[ $rc = 0 ] && [ '$(slots x.img)' = '0 1 2 ' ]"
cp w.img x.img
vc enroll --wipe-slot=0,2 --key-file p2 x.img
check "--wipe-slot=0,2: those keyslots and the token of keyslot 2" \
	sh -c "[ $rc = 0 ] && [ '$(slots x.img)' = '1 3 ' ] && [ '$(token_types x.img)' = '0:systemd-recovery ' ]"
check "cryptsetup accepts the header after the wipes" \
	sh -c "cryptsetup --disable-locks open --test-passphrase --key-file p2 x.img"
cp w.img x.img
before=$(sum x.img)
vc enroll --wipe-slot=all --key-file p1 x.img
check "--wipe-slot=all without a new enrolment: refused, exit 1, nothing written" \
	sh -c "[ $rc = 1 ] && grep -q 'no keyslot that opens the volume would remain' $ERR &&
	       [ \$(sha256sum x.img | cut -d' ' -f1) = $before ]"
vc enroll --wipe-slot=password,recovery,tpm2 --key-file p1 x.img
check "--wipe-slot covering every keyslot by type: refused, nothing written" \
	sh -c "[ $rc = 1 ] && grep -q 'would remain' $ERR && [ \$(sha256sum x.img | cut -d' ' -f1) = $before ]"
vc enroll --wipe-slot=9 --key-file p1 x.img
check "--wipe-slot of a keyslot not in use: refused before the passphrase" \
	sh -c "[ $rc = 1 ] && grep -q 'keyslot 9 of x.img is not in use' $ERR"
vc enroll --wipe-slot=bogus --key-file p1 x.img
check "--wipe-slot with an unknown entry: exit 1, lists the valid ones" \
	sh -c "[ $rc = 1 ] && grep -q \"invalid --wipe-slot entry 'bogus'\" $ERR"
vc enroll --wipe-slot=1 --key-file bad x.img
check "enroll with a wrong passphrase: exit 2, nothing written" \
	sh -c "[ $rc = 2 ] && [ \$(sha256sum x.img | cut -d' ' -f1) = $before ]"
vc enroll --key-file p1 x.img
check "enroll with nothing to do: exit 1" sh -c "[ $rc = 1 ] && grep -q 'nothing to enroll' $ERR"

finish
