#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Host-side tests of the systemd-pkcs11 token (userspace/token/pkcs11*.c)
# against SoftHSM2 tokens in a temporary directory (found through p11-kit's
# module registry, as a smartcard's opensc-pkcs11 would be), on LUKS2 image
# files, with systemd-cryptenroll 252, cryptsetup (and its systemd-pkcs11
# plugin) and pkcs11-tool as the oracles: a volume systemd enrolled opens
# with the PIN (from $PIN or typed), a wrong PIN is refused with the token's
# words, an absent token falls back to the passphrase, the token vaultctl
# writes has systemd's fields and opens in cryptsetup; "auto" with two
# tokens is refused with a clear message.  EC keys in systemd 255's format
# (ECDH), with openssl (pkeyutl -derive) and cryptsetup as the oracles: no
# systemd 255 is at hand.  Prints KTAP.
# Usage: pkcs11.sh VAULTCTL.  $VALGRIND_CMD prefixes vaultctl.

# shellcheck disable=SC2016
VAULTCTL=${1:?usage: pkcs11.sh VAULTCTL}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
test_dir pkcs11
echo "KTAP version 1"

check() { if eval "$2"; then ok "$1"; else echo "# failed: $2"; nok "$1"; fi; }
need_root_and "pkcs11 host tests" "cryptsetup on image files" \
	softhsm2-util pkcs11-tool p11tool systemd-cryptenroll cryptsetup python3 openssl
MODULE=$(sed -n 's/^module: *//p' /usr/share/p11-kit/modules/softhsm2.module 2>/dev/null)
if [ ! -e "$MODULE" ]; then
	skp_dep "pkcs11 host tests" "softhsm2 is not registered with p11-kit"
	finish
fi

# conf NAME: a SoftHSM2 configuration with its own token directory
conf() {
	mkdir -p "$T/$1.d"
	printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
		"$T/$1.d" >"$T/$1.conf"
}
# token LABEL rsa|ec|ec384|ed [--private|--no-derive]: a token (user PIN 1234)
# with a key pair and its self-signed certificate, both with id 01
# (--private: the certificate visible only after a login, as some cards
# do).  EC keys (P-256, ec384: P-384) are written with CKA_DERIVE, which
# ECDH needs (pkcs11-tool --usage-derive; softhsm2-util --import leaves it
# false, as --no-derive does); their PEM key stays in $T/LABEL-key.pem and
# the certificate in $T/LABEL-cert.pem for the oracles.  ed: an Ed25519
# certificate only.
token() {
	case $2 in
	rsa) openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/k.pem" -out "$T/c.pem" \
		-subj "/CN=$1" -days 30 2>/dev/null ;;
	ec|ec384) openssl req -x509 -newkey ec -pkeyopt "ec_paramgen_curve:$([ "$2" = ec ] && echo P-256 || echo P-384)" \
		-nodes -keyout "$T/k.pem" -out "$T/c.pem" -subj "/CN=$1" -days 30 2>/dev/null ;;
	ed) openssl req -x509 -newkey ed25519 -nodes -keyout "$T/k.pem" -out "$T/c.pem" \
		-subj "/CN=$1" -days 30 2>/dev/null ;;
	esac &&
	openssl pkcs8 -topk8 -nocrypt -in "$T/k.pem" -out "$T/k8.pem" &&
	openssl x509 -in "$T/c.pem" -outform der -out "$T/c.der" &&
	softhsm2-util --init-token --free --label "$1" --pin 1234 --so-pin 5678 >/dev/null &&
	case $2:$3 in
	ed:*) ;;
	rsa:*|*:--no-derive)
		softhsm2-util --import "$T/k8.pem" --token "$1" --label "$1-key" --id 01 --pin 1234 >/dev/null ;;
	*)	pkcs11-tool --module "$MODULE" --token-label "$1" --login --pin 1234 --write-object "$T/k8.pem" \
			--type privkey --usage-derive --id 01 --label "$1-key" >/dev/null 2>&1 ;;
	esac &&
	if [ "$3" = --private ]; then
		# (pkcs11-tool 0.23 drops --private for certificates; p11tool keeps it)
		GNUTLS_PIN=1234 p11tool --provider "$MODULE" --login --write --mark-private \
			--load-certificate "$T/c.pem" --label "$1-cert" --id 01 "pkcs11:token=$1" >/dev/null 2>&1
	else
		pkcs11-tool --module "$MODULE" --token-label "$1" --login --pin 1234 \
			--write-object "$T/c.der" --type cert --id 01 --label "$1-cert" >/dev/null 2>&1
	fi
	rc=$?
	mv "$T/k.pem" "$T/$1-key.pem"; mv "$T/c.pem" "$T/$1-cert.pem"; rm -f "$T/k8.pem"
	return $rc
}
conf one; conf two; conf ec; conf ec384; conf ecnd; conf ed; conf empty; conf priv
export SOFTHSM2_CONF="$T/one.conf"
if ! token vt1 rsa || ! SOFTHSM2_CONF=$T/two.conf token vt2a rsa ||
   ! SOFTHSM2_CONF=$T/two.conf token vt2b rsa || ! SOFTHSM2_CONF=$T/ec.conf token vtec ec ||
   ! SOFTHSM2_CONF=$T/ec384.conf token vtec384 ec384 ||
   ! SOFTHSM2_CONF=$T/ecnd.conf token vtecnd ec --no-derive ||
   ! SOFTHSM2_CONF=$T/ed.conf token vted ed ||
   ! SOFTHSM2_CONF=$T/priv.conf token vtp rsa --private; then
	echo "# SoftHSM2 tokens could not be made"
	nok "SoftHSM2 tokens"
	finish
fi

printf pw >pw
newimg() { truncate -s 20M "$1" && cs luksFormat --batch-mode $FAST --key-file pw "$1"; }
# field IMG ID NAME: a token's JSON field
field() {
	cs luksDump --dump-json-metadata "$1" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens"][sys.argv[1]][sys.argv[2]])' "$2" "$3"
}
# decrypted IMG ID: pkcs11-tool decrypts the token's pkcs11-key on token vt1 into $T/secret
decrypted() {
	field "$1" "$2" pkcs11-key | base64 -d >"$T/enc" &&
	pkcs11-tool --module "$MODULE" --token-label vt1 --login --pin 1234 --decrypt -m RSA-PKCS \
		--id 01 -i "$T/enc" -o "$T/secret" >/dev/null 2>&1
}

# --- a volume systemd-cryptenroll enrolled ---
newimg sd.img
PASSWORD=pw PIN=1234 systemd-cryptenroll --pkcs11-token-uri=auto sd.img >"$OUT" 2>"$ERR" </dev/null
check "systemd-cryptenroll 252 enrols the SoftHSM token (the oracle works)" \
	'grep -q "New PKCS#11 token enrolled as key slot 1" "$ERR"'
PIN=1234 vc open --test-passphrase -v sd.img </dev/null
check "vaultctl open unlocks systemd's volume with \$PIN, no passphrase" \
	'[ $rc = 0 ] && grep -q "Key slot 1 unlocked with token 0 (systemd-pkcs11)" "$OUT"'
python3 "$HERE/pty-answer.py" "security token" 1234 \
	"$VAULTCTL" open --test-passphrase sd.img >"$OUT" 2>"$ERR"
rc=$?
check "the PIN prompt names the token and the volume; the typed PIN unlocks, no passphrase asked" \
	'[ $rc = 0 ] && grep -q "Please enter PIN for security token .vt1. to unlock sd.img: " "$OUT" &&
	 ! grep -q "Enter passphrase" "$OUT"'
python3 "$HERE/pty-answer.py" "security token" 1111 "security token" 1234 -- \
	"$VAULTCTL" open --test-passphrase sd.img >"$OUT" 2>"$ERR"
rc=$?
check "a wrong PIN typed: the token's refusal is shown, the PIN asked again, the right one unlocks" \
	'[ $rc = 0 ] && grep -q "wrong PIN for token .vt1." "$OUT" &&
	 [ "$(grep -c "security token .vt1." "$OUT")" = 2 ] && ! grep -q "Enter passphrase" "$OUT"'
python3 "$HERE/pty-answer.py" "security token" "" "Enter passphrase" pw -- \
	"$VAULTCTL" open --test-passphrase sd.img >"$OUT" 2>"$ERR"
rc=$?
check "Enter alone at the PIN prompt: the message says no PIN (not passphrase), the passphrase opens it" \
	'[ $rc = 0 ] && grep -q "no PIN given (empty input)" "$OUT" &&
	 ! grep -q "no passphrase given" "$OUT" && grep -q "Enter passphrase" "$OUT"'
PIN=0000 vc open --test-passphrase --token-only sd.img </dev/null
check "a wrong \$PIN: refused, the message says wrong PIN and names the token" \
	'[ $rc != 0 ] && grep -q "token 0 (systemd-pkcs11) of sd.img refused to unlock: wrong PIN for token .vt1." "$ERR"'
PIN=1234 vc open --test-passphrase --token-only sd.img </dev/null
check "after a wrong PIN the right one still unlocks (the token keeps no lock-out at one failure)" '[ $rc = 0 ]'
vc dump sd.img
check "dump shows the token's URI as cryptsetup luksDump does" \
	'[ $rc = 0 ] && grep -q "systemd-pkcs11" "$OUT" &&
	 grep -q "	pkcs11-uri: pkcs11:model=SoftHSM%20v2;manufacturer=SoftHSM%20project;serial=.*;token=vt1" "$OUT"'

# --- the token absent ---
SOFTHSM2_CONF=$T/empty.conf vc open --test-passphrase -v sd.img <pw
check "token absent (no SoftHSM token): falls back to the passphrase, which opens" \
	'[ $rc = 0 ] && cat "$OUT" "$ERR" | grep -q "not usable here: no PKCS#11 token matching"'
SOFTHSM2_CONF=$T/empty.conf vc open --test-passphrase --token-only sd.img </dev/null
check "token absent with --token-only: fails, no PIN asked" \
	'[ $rc != 0 ] && ! grep -q "security token" "$ERR"'

# --- vaultctl enrolls ---
newimg v.img
vc enroll --pkcs11-token-uri=auto --key-file pw v.img
check "vaultctl enroll --pkcs11-token-uri=auto says which keyslot and token" \
	'[ $rc = 0 ] && grep -q "New PKCS#11 token enrolled as key slot 1 (token .vt1., RSA-2048)" "$ERR"'
check "its token has systemd 252's fields and order and the token URI systemd stores; keyslot pbkdf2-sha512, 1000 iterations" \
	'cs luksDump --dump-json-metadata v.img | python3 -c "
import json, sys
d = json.load(sys.stdin)
t = d[\"tokens\"][\"0\"]
assert list(t) == [\"type\", \"keyslots\", \"pkcs11-uri\", \"pkcs11-key\"], list(t)
assert t[\"type\"] == \"systemd-pkcs11\" and t[\"keyslots\"] == [\"1\"], t
assert t[\"pkcs11-uri\"] == sys.argv[1], (t[\"pkcs11-uri\"], sys.argv[1])
k = d[\"keyslots\"][\"1\"][\"kdf\"]
assert (k[\"type\"], k[\"hash\"], k[\"iterations\"]) == (\"pbkdf2\", \"sha512\", 1000), k
" "$(field sd.img 0 pkcs11-uri)"'
check "pkcs11-tool decrypts its key on the token: a 128-byte secret (RSA-2048 / 16), as systemd's" \
	'decrypted v.img 0 && [ "$(wc -c <"$T/secret")" = 128 ]'
check "cryptsetup (oracle) opens keyslot 1 with the base64 text of that secret" \
	'base64 -w0 "$T/secret" >"$T/secret.b64" &&
	 cs open --test-passphrase --key-slot 1 --key-file "$T/secret.b64" v.img'
check "cryptsetup's systemd-pkcs11 plugin unlocks vaultctl's token with the PIN" \
	'echo 1234 | cs open --test-passphrase --token-only v.img >"$OUT" 2>"$ERR"'
PIN=1234 vc open --test-passphrase -v v.img </dev/null
check "vaultctl open unlocks its own enrolment" \
	'[ $rc = 0 ] && grep -q "Key slot 1 unlocked with token 0 (systemd-pkcs11)" "$OUT"'

# --- choosing the token ---
SOFTHSM2_CONF=$T/two.conf vc enroll --pkcs11-token-uri=auto --key-file pw v.img
check "auto with two tokens: refused, naming both and how to choose" \
	'[ $rc != 0 ] && grep -q "2 PKCS#11 tokens with a certificate found (.vt2[ab]., .vt2[ab].)" "$ERR" &&
	 grep -q "vt2a" "$ERR" && grep -q "vt2b" "$ERR" &&
	 grep -q "pkcs11:token=LABEL" "$ERR"'
SOFTHSM2_CONF=$T/empty.conf vc enroll --pkcs11-token-uri=auto --key-file pw v.img
check "auto with no token: refused, saying none was found" \
	'[ $rc != 0 ] && grep -q "no PKCS#11 token with an X.509 certificate found" "$ERR"'
SOFTHSM2_CONF=$T/two.conf vc enroll --pkcs11-token-uri="pkcs11:token=vt2b;id=%01;type=cert" --key-file pw v.img
check "an object URI with type=cert picks one of two tokens; stored with type=private" \
	'[ $rc = 0 ] && grep -q "token .vt2b." "$ERR" &&
	 [ "$(field v.img 1 pkcs11-uri)" = "pkcs11:token=vt2b;id=%01;type=private" ]'
PIN=1234 SOFTHSM2_CONF=$T/two.conf vc open --test-passphrase --token-only --token-id 1 v.img </dev/null
check "vaultctl unlocks through that object URI" '[ $rc = 0 ]'
check "cryptsetup's systemd-pkcs11 plugin (systemd 252) accepts that URI too" \
	'echo 1234 | SOFTHSM2_CONF=$T/two.conf cs open --test-passphrase --token-only --token-id 1 v.img >"$OUT" 2>"$ERR"'
vc enroll --pkcs11-token-uri=nonsense --key-file pw v.img
check "--pkcs11-token-uri takes auto or a pkcs11: URI" \
	'[ $rc != 0 ] && grep -q "auto or a pkcs11: URI" "$ERR"'
SOFTHSM2_CONF=$T/ed.conf vc enroll --pkcs11-token-uri=auto --key-file pw v.img
check "an Ed25519 certificate: refused, saying RSA or EC is needed; no keyslot added" \
	'[ $rc != 0 ] && grep -q "holds a ED25519 key: the systemd-pkcs11 token needs RSA or EC" "$ERR" &&
	 [ "$(cs luksDump --dump-json-metadata v.img | python3 -c "import json,sys; print(len(json.load(sys.stdin)[\"keyslots\"]))")" = 3 ]'

# --- EC keys, in the format systemd 255 writes (ECDH) ---
# ecsecret IMG ID LABEL: the secret systemd 255 derives for token ID of IMG,
# computed by openssl alone from the saved point and the key's PEM into
# $T/ecsecret: the point is wrapped in the SubjectPublicKeyInfo header of
# the certificate's own key (same curve) and derived against (no KDF)
ecsecret() {
	field "$1" "$2" pkcs11-key | base64 -d >"$T/point" &&
	openssl x509 -in "$T/$3-cert.pem" -pubkey -noout | openssl pkey -pubin -outform DER >"$T/spki" &&
	head -c $(($(wc -c <"$T/spki") - $(wc -c <"$T/point"))) "$T/spki" >"$T/peer.der" &&
	cat "$T/point" >>"$T/peer.der" &&
	openssl pkeyutl -derive -inkey "$T/$3-key.pem" -peerkey "$T/peer.der" -peerform DER \
		-out "$T/ecsecret" 2>/dev/null
}
newimg ec.img
SOFTHSM2_CONF=$T/ec.conf vc enroll --pkcs11-token-uri=auto --key-file pw ec.img
check "an EC (P-256) certificate: enrolled, saying which keyslot, token and curve" \
	'[ $rc = 0 ] && grep -q "New PKCS#11 token enrolled as key slot 1 (token .vtec., EC prime256v1)" "$ERR"'
check "... with one notice that systemd-cryptsetup 252 (Debian 12) cannot unlock with it and 255 can" \
	'[ "$(grep -c "Note: this token.s key is EC: systemd-cryptsetup 252 (Debian 12) cannot unlock with it (systemd 255 or later can; vaultctl, its initramfs hooks and generator can)" "$ERR")" = 1 ]'
check "its token has systemd's fields and order; pkcs11-key is an uncompressed P-256 point (65 bytes, 04 ...)" \
	'cs luksDump --dump-json-metadata ec.img | python3 -c "
import base64, json, sys
t = json.load(sys.stdin)[\"tokens\"][\"0\"]
assert list(t) == [\"type\", \"keyslots\", \"pkcs11-uri\", \"pkcs11-key\"], list(t)
k = base64.b64decode(t[\"pkcs11-key\"], validate=True)
assert len(k) == 65 and k[0] == 4, (len(k), k[:1])
"'
check "openssl (oracle) derives a 32-byte secret from that point and the key's PEM" \
	'ecsecret ec.img 0 vtec && [ "$(wc -c <"$T/ecsecret")" = 32 ]'
check "cryptsetup (oracle) opens keyslot 1 with the base64 text of that secret" \
	'base64 -w0 "$T/ecsecret" >"$T/ecsecret.b64" &&
	 cs open --test-passphrase --key-slot 1 --key-file "$T/ecsecret.b64" ec.img'
PIN=1234 SOFTHSM2_CONF=$T/ec.conf vc open --test-passphrase --token-only -v ec.img </dev/null
check "vaultctl open unlocks its EC enrolment with the PIN (ECDH on the token)" \
	'[ $rc = 0 ] && grep -q "Key slot 1 unlocked with token 0 (systemd-pkcs11)" "$OUT"'
PIN=0000 SOFTHSM2_CONF=$T/ec.conf vc open --test-passphrase --token-only ec.img </dev/null
check "a wrong \$PIN on an EC token: refused, the message says wrong PIN and names the token" \
	'[ $rc != 0 ] && grep -q "token 0 (systemd-pkcs11) of ec.img refused to unlock: wrong PIN for token .vtec." "$ERR"'
check "cryptsetup's systemd-pkcs11 plugin (systemd 252) cannot unlock the EC token (what the notice says)" \
	'! echo 1234 | SOFTHSM2_CONF=$T/ec.conf cs open --test-passphrase --token-only ec.img >"$OUT" 2>"$ERR"'
# a token as systemd 255 enrols it, built by openssl and cryptsetup alone:
# an ephemeral key on the certificate's curve, the base64 of its ECDH secret
# with the certificate's key as a keyslot's passphrase, its point saved
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/eph.pem" 2>/dev/null &&
	openssl x509 -in "$T/vtec-cert.pem" -pubkey -noout >"$T/vtec-pub.pem" &&
	openssl pkeyutl -derive -inkey "$T/eph.pem" -peerkey "$T/vtec-pub.pem" -out "$T/s255" 2>/dev/null &&
	base64 -w0 "$T/s255" >"$T/s255.b64" &&
	cs luksAddKey --batch-mode $FAST --key-file pw --new-keyfile "$T/s255.b64" ec.img &&
	printf '{"type":"systemd-pkcs11","keyslots":["2"],"pkcs11-uri":"pkcs11:token=vtec","pkcs11-key":"%s"}' \
		"$(openssl pkey -in "$T/eph.pem" -pubout -outform DER | tail -c 65 | base64 -w0)" |
	cs token import ec.img
PIN=1234 SOFTHSM2_CONF=$T/ec.conf vc open --test-passphrase --token-only --token-id 1 -v ec.img </dev/null
check "vaultctl unlocks a token in systemd 255's EC format made by openssl and cryptsetup alone" \
	'[ $rc = 0 ] && grep -q "Key slot 2 unlocked with token 1 (systemd-pkcs11)" "$OUT"'
newimg ec384.img
SOFTHSM2_CONF=$T/ec384.conf vc enroll --pkcs11-token-uri=auto --key-file pw ec384.img
check "P-384: enrolled (EC secp384r1); openssl derives 48 bytes whose base64 opens the keyslot in cryptsetup" \
	'[ $rc = 0 ] && grep -q "(token .vtec384., EC secp384r1)" "$ERR" &&
	 ecsecret ec384.img 0 vtec384 && [ "$(wc -c <"$T/ecsecret")" = 48 ] &&
	 base64 -w0 "$T/ecsecret" >"$T/ecsecret.b64" &&
	 cs open --test-passphrase --key-slot 1 --key-file "$T/ecsecret.b64" ec384.img'
PIN=1234 SOFTHSM2_CONF=$T/ec384.conf vc open --test-passphrase --token-only ec384.img </dev/null
check "... and vaultctl open unlocks it with the PIN" '[ $rc = 0 ]'
newimg ecnd.img
SOFTHSM2_CONF=$T/ecnd.conf vc enroll --pkcs11-token-uri=auto --key-file pw ecnd.img
PIN=1234 SOFTHSM2_CONF=$T/ecnd.conf vc open --test-passphrase --token-only ecnd.img </dev/null
check "an EC private key without CKA_DERIVE (softhsm2-util --import): unlock refused, the message names CKA_DERIVE" \
	'[ $rc != 0 ] && grep -q "token .vtecnd. holds no private key for decryption (RSA) or derivation (EC, CKA_DERIVE)" "$ERR"'
PIN=1234 SOFTHSM2_CONF=$T/ecnd.conf vc open --test-passphrase -v ecnd.img <pw
check "... and the passphrase still opens it" '[ $rc = 0 ] && grep -q "Key slot 0 unlocked" "$OUT"'

# --- a card that shows its certificate only after a login ---
newimg p.img
SOFTHSM2_CONF=$T/priv.conf vc enroll --pkcs11-token-uri="pkcs11:token=vtp" --key-file pw p.img </dev/null
check "a private certificate and no PIN at hand: the enrolment stops, saying a PIN is needed" \
	'[ $rc != 0 ] && grep -q "needs a PIN" "$ERR" && [ "$(cs luksDump --dump-json-metadata p.img | python3 -c "import json,sys; print(len(json.load(sys.stdin)[\"tokens\"]))")" = 0 ]'
PIN=1234 SOFTHSM2_CONF=$T/priv.conf vc enroll --pkcs11-token-uri="pkcs11:token=vtp" --key-file pw p.img </dev/null
check "... with \$PIN it logs in, reads the certificate and enrols" \
	'[ $rc = 0 ] && grep -q "New PKCS#11 token enrolled as key slot 1 (token .vtp." "$ERR"'
PIN=1234 SOFTHSM2_CONF=$T/priv.conf vc open --test-passphrase --token-only p.img </dev/null
check "... and the token unlocks it" '[ $rc = 0 ]'

finish
