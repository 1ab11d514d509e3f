#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Host-side tests of recovery keys (vaultctl enroll --recovery-key) on image
# files: the key has systemd's format and opens the volume with cryptsetup;
# the keyslot and token are the ones systemd-cryptenroll writes; a key
# systemd-cryptenroll made opens with vaultctl; the escrow file; the QR
# code.  Prints KTAP.  Usage: recovery.sh VAULTCTL.

VAULTCTL=${1:?usage: recovery.sh VAULTCTL}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
test_dir recovery

echo "KTAP version 1"
need_root_and "recovery key host tests" "cryptsetup's locking, as luks.sh" cryptsetup

check() { name=$1; shift; if "$@"; then ok "$name"; else nok "$name"; fi; }
img() { rm -f "$1"; truncate -s "${2:-20M}" "$1"; }
printf 'first pass' >p1
# systemd 252's format: 8 groups of 8 modhex characters
KEY_RE='^[cbdefghijklnrtuv]\{8\}\(-[cbdefghijklnrtuv]\{8\}\)\{7\}$'
# the keyslot lines systemd-cryptenroll's recovery keyslot has (salt and
# area aside)
kdf_lines() { cs luksDump "$1" | sed -n "/^  $2: luks2/,/Digest ID/p" | grep -E 'PBKDF|Hash|Iterations|AF |Cipher|Key:'; }

# --- vaultctl enrols, cryptsetup opens --------------------------------------------
img a.img
vc format $FAST --key-file p1 a.img
vc enroll --recovery-key --key-file p1 a.img
key=$(cat "$OUT")
check "enroll --recovery-key: exit 0, the key alone on stdout in systemd's format" \
	sh -c "[ $rc = 0 ] && [ \$(wc -l <$OUT) = 1 ] && grep -q '$KEY_RE' $OUT"
check "the key is printed once: not on stderr, which has the note" \
	sh -c "! grep -qF -- '$key' $ERR && grep -q 'save this secret recovery key at a secure location' $ERR &&
	       grep -q 'enrolled as key slot 1' $ERR"
check "no QR code when stdout is not a terminal (--qrcode=auto)" sh -c "! grep -q '40;97m' $ERR"
printf '%s' "$key" >key
check "cryptsetup open --test-passphrase accepts the printed key" \
	cs open --test-passphrase --key-file key a.img
check "cryptsetup opens only keyslot 1 with it" \
	cs open --test-passphrase --key-slot 1 --key-file key a.img
cs luksDump a.img >dump
check "cryptsetup luksDump shows the systemd-recovery token of keyslot 1" \
	sh -c "sed -n '/^Tokens:/,/^Digests:/p' dump | grep -qx '  0: systemd-recovery' &&
	       sed -n '/^Tokens:/,/^Digests:/p' dump | grep -qxP '\tKeyslot:    1'"
check "the token is exactly systemd's JSON" \
	sh -c "[ \"\$(cryptsetup --disable-locks token export --token-id 0 a.img)\" = '{\"type\":\"systemd-recovery\",\"keyslots\":[\"1\"]}' ]"
vc open --test-passphrase a.img <key
check "vaultctl open --test-passphrase accepts the key at the passphrase prompt" \
	sh -c "[ $rc = 0 ]"
echo "$key" | tr 'a-z' 'A-Z' >upper
vc open --test-passphrase a.img <upper
check "the key in upper case is refused, as systemd-cryptsetup 252 does (exit 2)" [ "$rc" = 2 ]
printf '%s' "$key" | sed 's/^c/b/; t; s/^./c/' >wrong
vc open --test-passphrase --key-file wrong a.img
check "a key with one character changed: exit 2" [ "$rc" = 2 ]

# --- systemd-cryptenroll's keyslot is the same as ours -------------------------------
if command -v systemd-cryptenroll >/dev/null 2>&1; then
	img s.img
	cs luksFormat -q $FAST s.img p1
	PASSWORD='first pass' systemd-cryptenroll --recovery-key s.img >s.out 2>s.err
	src=$?
	skey=$(cat s.out)
	check "systemd-cryptenroll --recovery-key (the setup)" \
		sh -c "[ $src = 0 ] && grep -q '$KEY_RE' s.out"
	a_l=$(kdf_lines a.img 1); s_l=$(kdf_lines s.img 1)
	same_slot() { [ -n "$s_l" ] && [ "$a_l" = "$s_l" ]; }
	check "our recovery keyslot has systemd's KDF, AF and cipher parameters" same_slot
	check "and the same token" \
		sh -c "[ \"\$(cryptsetup --disable-locks token export --token-id 0 s.img)\" = \"\$(cryptsetup --disable-locks token export --token-id 0 a.img)\" ]"
	vc open --test-passphrase s.img <s.out
	check "vaultctl open --test-passphrase accepts systemd-cryptenroll's key" [ "$rc" = 0 ]
	vc dump s.img
	check "vaultctl dump lists systemd's recovery token" \
		sh -c "[ $rc = 0 ] && grep -qx '  0: systemd-recovery' $OUT"
	cp a.img sw.img
	PASSWORD='first pass' systemd-cryptenroll --wipe-slot=recovery sw.img >sw.out 2>&1
	src=$?
	sd_wiped() { [ $src = 0 ] && ! cryptsetup --disable-locks luksDump sw.img | grep -q systemd-recovery &&
		     ! cryptsetup --disable-locks open --test-passphrase --key-file key sw.img 2>/dev/null &&
		     cryptsetup --disable-locks open --test-passphrase --key-file p1 sw.img; }
	check "systemd-cryptenroll --wipe-slot=recovery finds and removes our recovery keyslot and token" sd_wiped
	printf '%s' "$skey" >skey
	vc add-key $FAST --key-file skey s.img p1
	check "systemd's recovery key unlocks vaultctl add-key" \
		sh -c "[ $rc = 0 ] && cryptsetup --disable-locks open --test-passphrase --key-slot 2 --key-file p1 s.img"
else
	skp_dep "systemd-cryptenroll --recovery-key interop" "systemd-cryptenroll is not installed"
fi

# --- the escrow file ------------------------------------------------------------
img f.img
vc format $FAST --key-file p1 f.img
vc enroll --recovery-key --recovery-key-file esc f.img <p1
check "--recovery-key-file: mode 0600, exactly the printed key, no newline" \
	sh -c "[ $rc = 0 ] && [ \$(stat -c %a esc) = 600 ] && [ \"\$(cat esc)\" = \"\$(cat $OUT)\" ] &&
	       [ \$(wc -c <esc) = 71 ]"
check "the escrow file is a key file cryptsetup accepts" \
	cs open --test-passphrase --key-file esc f.img
check "and the note names the file" grep -q 'also written to esc (mode 0600)' "$ERR"
before=$(sum f.img)
vc enroll --recovery-key --recovery-key-file esc f.img </dev/null
check "an existing escrow file is refused before the passphrase (exit 5), image unchanged" \
	sh -c "[ $rc = 5 ] && grep -q 'esc already exists' $ERR && [ \$(sha256sum f.img | cut -d' ' -f1) = $before ]"
ln -s nowhere dangling
vc enroll --recovery-key --recovery-key-file dangling --key-file p1 f.img
check "a dangling symlink as escrow file is refused too, nothing created" \
	sh -c "[ $rc = 5 ] && [ ! -e nowhere ] && [ \$(sha256sum f.img | cut -d' ' -f1) = $before ]"
vc enroll --recovery-key --recovery-key-file nodir/esc --key-file p1 f.img
check "an escrow file that cannot be created: exit 1, no keyslot added" \
	sh -c "[ $rc != 0 ] && grep -q 'cannot create nodir/esc' $ERR && [ \$(sha256sum f.img | cut -d' ' -f1) = $before ]"
vc enroll --recovery-key --key-file wrong f.img
check "a wrong passphrase: exit 2, no key printed, nothing written" \
	sh -c "[ $rc = 2 ] && [ ! -s $OUT ] && [ \$(sha256sum f.img | cut -d' ' -f1) = $before ]"

# --- the QR code ----------------------------------------------------------------
vc enroll --recovery-key --qrcode=always --key-file p1 f.img
cp "$ERR" qr.err
check "--qrcode=always draws a QR code: quiet zone, finders, timing, format (level L)" \
	sh -c "[ $rc = 0 ] && python3 '$HERE/qrcheck.py' qr.err | grep -qx 'ok 4'"
check "the QR check fails on a code with one format module flipped (control)" \
	sh -c "! python3 '$HERE/qrcheck.py' --control qr.err >/dev/null"
vc enroll --recovery-key --qrcode=never --key-file p1 f.img
check "--qrcode=never draws none" sh -c "[ $rc = 0 ] && ! grep -q '40;97m' $ERR"

# --- with --wipe-slot ------------------------------------------------------------
img w.img
vc format $FAST --key-file p1 w.img
vc enroll --recovery-key --wipe-slot=password --key-file p1 w.img
printf '%s' "$(cat "$OUT")" >wkey
check "--recovery-key --wipe-slot=password: the passphrase keyslot goes, the new key stays" \
	sh -c "[ $rc = 0 ] && cryptsetup --disable-locks open --test-passphrase --key-file wkey w.img &&
	       ! cryptsetup --disable-locks open --test-passphrase --key-file p1 w.img 2>/dev/null"
vc enroll --recovery-key --wipe-slot=recovery --key-file wkey w.img
printf '%s' "$(cat "$OUT")" >wkey2
check "--recovery-key --wipe-slot=recovery replaces the old recovery key (its token too)" \
	sh -c "[ $rc = 0 ] && cryptsetup --disable-locks open --test-passphrase --key-file wkey2 w.img &&
	       ! cryptsetup --disable-locks open --test-passphrase --key-file wkey w.img 2>/dev/null &&
	       [ \$(cryptsetup --disable-locks luksDump w.img | grep -c 'systemd-recovery') = 1 ]"
finish
