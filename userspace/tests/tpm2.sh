#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Host-side tests of the TPM2 token (userspace/token/tpm2*.c) against a
# software TPM (swtpm, TCTI "swtpm:path=..."), on LUKS2 image files, with
# systemd-cryptenroll 252, cryptsetup and tpm2-tools as the oracles:
# tokens systemd wrote unseal with our code (with and without PIN), tokens
# we write carry systemd's fields and policy digest, a wrong PIN is counted
# by the TPM's dictionary-attack protection, an extended PCR 7 or 15 makes
# the TPM refuse while the passphrase still works.  Prints KTAP.
# Usage: tpm2.sh VAULTCTL (tpm2_tool is found next to the unit tests).
# $VALGRIND_CMD prefixes vaultctl and tpm2_tool.

# shellcheck disable=SC2016
VAULTCTL=${1:?usage: tpm2.sh VAULTCTL}
case $VAULTCTL in /*) ;; *) VAULTCTL=$(pwd)/$VAULTCTL ;; esac
TOOL=${TPM2_TOOL:-$(dirname "$VAULTCTL")/userspace/tests/tpm2_tool}
HERE=$(cd "$(dirname "$0")" && pwd)
# damaged-but-checksummed headers: the LUKS2 library's test helper
CRAFT="python3 $HERE/../luks2/tests/craft.py"
. "$HERE/lib.sh"
test_dir tpm2
SWTPM_PID=
cleanup() {
	[ -z "$SWTPM_PID" ] || kill "$SWTPM_PID" 2>/dev/null
	[ -n "$KEEP" ] || rm -rf "$T"
}
trap cleanup EXIT
echo "KTAP version 1"

check() { if eval "$2"; then ok "$1"; else echo "# failed: $2"; nok "$1"; fi; }
need_root_and "tpm2 host tests" "cryptsetup on image files" \
	swtpm tpm2_pcrextend tpm2_getcap systemd-cryptenroll cryptsetup python3 openssl

# A fresh software TPM; restarted (same state) by tpm_restart, because
# systemd-cryptenroll 252 leaves sessions loaded on a TPM without a
# resource manager and the next command would find no session slot.
SOCK=$T/swtpm.sock
TCTI=swtpm:path=$SOCK
export TPM2TOOLS_TCTI=$TCTI
mkdir "$T/tpmstate"
tpm_start() {
	swtpm socket --tpm2 --tpmstate dir="$T/tpmstate" --server type=unixio,path="$SOCK" \
		--ctrl type=unixio,path="$SOCK.ctrl" --flags startup-clear,not-need-init \
		--daemon --pid file="$T/swtpm.pid" $SWTPM_LOG 2>"$T/swtpm.err" || return 1
	SWTPM_PID=$(cat "$T/swtpm.pid")
	i=0
	while [ ! -S "$SOCK" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
}
# An orderly TPM2_Shutdown first: after a disorderly one the TPM's
# dictionary-attack logic locks out at the first failed authorization.
tpm_restart() {
	tpm2_shutdown >/dev/null 2>&1
	kill "$SWTPM_PID"
	while kill -0 "$SWTPM_PID" 2>/dev/null; do sleep 0.05; done
	rm -f "$SOCK" "$SOCK.ctrl"
	tpm_start
}
if ! tpm_start; then
	echo "# swtpm did not start: $(cat "$T/swtpm.err")"
	nok "swtpm starts"
	finish
fi

printf pw >pw
newimg() { truncate -s 20M "$1" && cryptsetup --disable-locks luksFormat --batch-mode $FAST --key-file pw "$1"; }
# token IMG [ID]: the token's JSON (one line)
token() {
	cryptsetup --disable-locks luksDump --dump-json-metadata "$1" |
		python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["tokens"][sys.argv[1]]))' "${2:-0}"
}
# t ARGS... [< input]: runs tpm2_tool; status in $rc
t() { $VALGRIND_CMD "$TOOL" "$@" >"$OUT" 2>"$ERR"; rc=$?; }
# passphrase_opens IMG: tpm2_tool's output opens IMG in cryptsetup
passphrase_opens() {
	tr -d '\n' <"$OUT" >"$T/pass"
	cryptsetup --disable-locks open --test-passphrase --key-file "$T/pass" "$1"
}
da_counter() { printf '%d' "$(tpm2_getcap properties-variable | awk '/TPM2_PT_LOCKOUT_COUNTER/ { print $2 }')"; }

# --- systemd-cryptenroll wrote it, we unseal ---
newimg sd.img
PASSWORD=pw systemd-cryptenroll --tpm2-device="$TCTI" --tpm2-pcrs=7 sd.img >"$OUT" 2>"$ERR" </dev/null
tpm_restart
token sd.img >sd.tok
t unseal "$TCTI" <sd.tok
check "a systemd-cryptenroll token (PCR 7) unseals to its keyslot's passphrase" \
	'[ $rc = 0 ] && passphrase_opens sd.img'

newimg sdpin.img
NEWPIN=2468 PASSWORD=pw systemd-cryptenroll --tpm2-device="$TCTI" --tpm2-pcrs=7 \
	--tpm2-with-pin=yes sdpin.img >"$OUT" 2>"$ERR" </dev/null
tpm_restart
token sdpin.img >sdpin.tok
t unseal "$TCTI" 2468 <sdpin.tok
check "a systemd-cryptenroll token with a PIN unseals with that PIN" \
	'[ $rc = 0 ] && passphrase_opens sdpin.img'

t unseal "$TCTI" 1357 <sdpin.tok
check "a wrong PIN is refused, counted by the TPM, and the tries left are said" \
	'[ $rc = 12 ] && grep -q "2 of 3 tries left before the TPM locks out" "$ERR" && [ "$(da_counter)" = 1 ]'
tpm2_dictionarylockout -c >/dev/null 2>&1

# --- we seal; the token is systemd's ---
newimg our.img
t seal "$TCTI" 7
head -n 1 "$OUT" >our.tok
sed -n 2p "$OUT" | tr -d '\n' >our.pass
check "seal writes systemd 252's token fields, PCR 15 added, a 44-character base64 passphrase" \
	'[ $rc = 0 ] && python3 - our.tok our.pass <<"PY"
import json, sys, base64, re
t = json.load(open(sys.argv[1]))
assert list(t) == ["type", "keyslots", "tpm2-blob", "tpm2-pcrs", "tpm2-pcr-bank",
                   "tpm2-primary-alg", "tpm2-policy-hash", "tpm2-pin"], list(t)
assert t["type"] == "systemd-tpm2" and t["keyslots"] == ["1"]
assert t["tpm2-pcrs"] == [7, 15] and t["tpm2-pcr-bank"] == "sha256"
assert t["tpm2-primary-alg"] == "ecc" and t["tpm2-pin"] is False
assert re.fullmatch("[0-9a-f]{64}", t["tpm2-policy-hash"])
blob = base64.b64decode(t["tpm2-blob"], validate=True)
priv = int.from_bytes(blob[:2], "big")
pub = int.from_bytes(blob[2 + priv:4 + priv], "big")
assert len(blob) == 4 + priv + pub
assert blob[4 + priv:6 + priv] == b"\x00\x08"   # TPM2_ALG_KEYEDHASH
assert len(base64.b64decode(open(sys.argv[2]).read(), validate=True)) == 32
PY'

# Our computed-zero PCR 15 gives the digest systemd reads from a zero PCR 15.
newimg sd15.img
PASSWORD=pw systemd-cryptenroll --tpm2-device="$TCTI" --tpm2-pcrs=7+15 sd15.img >"$OUT" 2>"$ERR" </dev/null
tpm_restart
sd15=$(token sd15.img | python3 -c 'import json,sys; print(json.load(sys.stdin)["tpm2-policy-hash"])')
ours=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tpm2-policy-hash"])' our.tok)
check "the policy digest of PCR 7 + computed-zero PCR 15 equals systemd-cryptenroll's for 7+15" \
	'[ -n "$sd15" ] && [ "$sd15" = "$ours" ]'

cryptsetup --disable-locks luksAddKey --batch-mode $FAST --hash sha512 --key-file pw our.img our.pass &&
	cryptsetup --disable-locks token import --json-file our.tok --token-id 0 --key-slot 1 our.img
t unseal "$TCTI" <our.tok
check "our token unseals to the passphrase of its keyslot" \
	'[ $rc = 0 ] && passphrase_opens our.img && [ "$(tr -d "\n" <"$OUT")" = "$(cat our.pass)" ]'

t seal "$TCTI" 7 1234
head -n 1 "$OUT" >ourpin.tok
t unseal "$TCTI" 1234 <ourpin.tok
check "our PIN token unseals with the PIN" '[ $rc = 0 ]'
t unseal "$TCTI" 4321 <ourpin.tok
check "our PIN token refuses a wrong PIN as a counted failure" \
	'[ $rc = 12 ] && grep -q "tries left before the TPM locks out" "$ERR"'
tpm2_dictionarylockout -c >/dev/null 2>&1

# --- what crosses the bus: swtpm logs every command and response ---
SWTPM_LOG="--log file=$T/bus.log,level=20" tpm_restart
t unseal "$TCTI" 1234 <ourpin.tok
tr -d '\n' <"$OUT" >ourpin.pass
SWTPM_LOG= tpm_restart
check "the PIN token's unseal sends neither the secret, the PIN nor its hash in the clear (the log sees the policy digest)" \
	'[ $rc = 0 ] && python3 - "$T/bus.log" ourpin.pass ourpin.tok <<"PY"
import base64, hashlib, json, re, sys
stream = bytearray()
for line in open(sys.argv[1], errors="replace"):
    if re.fullmatch(r"( [0-9A-F]{2})+ ?", line.rstrip("\n")):
        stream += bytes.fromhex(line.replace(" ", ""))
secret = base64.b64decode(open(sys.argv[2]).read())
policy = bytes.fromhex(json.load(open(sys.argv[3]))["tpm2-policy-hash"])
assert policy in stream, "the log does not show the traffic"
assert len(secret) == 32 and secret[:16] not in stream and secret[16:] not in stream, "secret seen"
assert b"1234" not in stream and hashlib.sha256(b"1234").digest()[:16] not in stream, "PIN seen"
PY'

# --- malformed and unsupported tokens ---
echo '{"type":"systemd-tpm2","keyslots":["0"],"tpm2-pcrs":[7],"tpm2-blob":"!!!","tpm2-policy-hash":"00"}' >bad.tok
t unseal "$TCTI" <bad.tok
check "a token with a broken tpm2-blob is refused with the reason" \
	'[ $rc = 14 ] && grep -q "tpm2-blob. is not valid base64" "$ERR"'
python3 -c 'import json,sys; t=json.load(open(sys.argv[1])); t["tpm2-pcrs"]=[7,99]; print(json.dumps(t))' sd.tok >bad2.tok
t unseal "$TCTI" <bad2.tok
check "a token with PCR 99 is refused with the reason" \
	'[ $rc = 14 ] && grep -q "tpm2-pcrs. is not an array of PCR numbers" "$ERR"'
python3 -c 'import json,sys; t=json.load(open(sys.argv[1])); t["tpm2-blob"]="AAAA"; print(json.dumps(t))' sd.tok >bad3.tok
t unseal "$TCTI" <bad3.tok
check "a token whose blob is no sealed object is refused with the reason" \
	'[ $rc = 14 ] && grep -q "not a sealed TPM2 object" "$ERR"'
python3 -c 'import json,sys; t=json.load(open(sys.argv[1])); t["tpm2_pubkey_pcrs"]=[11]; t["tpm2_pubkey"]="AAAA"; print(json.dumps(t))' sd.tok >signed.tok
t unseal "$TCTI" <signed.tok
check "a signed-policy token says signed PCR policies are not supported" \
	'[ $rc = 14 ] && grep -q "signed PCR policies are not supported" "$ERR"'

# --- vaultctl open and enroll ---
# v ARGS... [< input]: runs vaultctl; status in $rc
v() { $VALGRIND_CMD "$VAULTCTL" "$@" >"$OUT" 2>"$ERR"; rc=$?; }
v open --test-passphrase -v --tpm2-device="$TCTI" sd.img </dev/null
check "vaultctl open unlocks a systemd-cryptenroll volume through its token, no input" \
	'[ $rc = 0 ] && grep -q "Key slot 1 unlocked with token 0 (systemd-tpm2)" "$OUT"'
PIN=2468 v open --test-passphrase --tpm2-device="$TCTI" sdpin.img </dev/null
check "vaultctl open unlocks a systemd-cryptenroll PIN volume with \$PIN" '[ $rc = 0 ]'
python3 "$HERE/pty-answer.py" "TPM2 PIN" 2468 \
	"$VAULTCTL" open --test-passphrase --tpm2-device="$TCTI" sdpin.img >"$OUT" 2>"$ERR"
rc=$?
check "the PIN prompt names the volume and the tries the TPM has left; the typed PIN unlocks" \
	'[ $rc = 0 ] && grep -q "Enter the TPM2 PIN for sdpin.img (a wrong PIN counts against the TPM.s dictionary-attack protection; 3 of 3 tries left before the TPM locks out)" "$OUT"'
python3 "$HERE/pty-answer.py" "TPM2 PIN" 1357 "TPM2 PIN" 2468 -- \
	"$VAULTCTL" open --test-passphrase --tpm2-device="$TCTI" sdpin.img >"$OUT" 2>"$ERR"
rc=$?
check "a wrong PIN typed: the TPM counted it, the PIN is asked again (tries left said), the right one unlocks" \
	'[ $rc = 0 ] && grep -q "vaultctl: wrong TPM2 PIN; the TPM.s dictionary-attack protection counted it: 2 of 3 tries left before the TPM locks out" "$OUT" &&
	 grep -q "protection; 2 of 3 tries left before the TPM locks out): " "$OUT" && ! grep -q "Enter passphrase" "$OUT"'
python3 "$HERE/pty-answer.py" "TPM2 PIN" 1357 "Enter passphrase" pw -- \
	"$VAULTCTL" open --test-passphrase --tries=1 --tpm2-device="$TCTI" sdpin.img >"$OUT" 2>"$ERR"
rc=$?
check "--tries=1: after one wrong PIN the token is refused and the passphrase prompt opens it" \
	'[ $rc = 0 ] && grep -q "refused to unlock: wrong TPM2 PIN" "$OUT" && [ "$(grep -c "TPM2 PIN for" "$OUT")" = 1 ]'
python3 "$HERE/pty-answer.py" "TPM2 PIN" "" "Enter passphrase" pw -- \
	"$VAULTCTL" open --test-passphrase --tpm2-device="$TCTI" sdpin.img >"$OUT" 2>"$ERR"
rc=$?
check "Enter alone at the PIN prompt goes to the passphrase prompt; no failure counted" \
	'[ $rc = 0 ] && [ "$(da_counter)" = 2 ]'
tpm2_dictionarylockout -c >/dev/null 2>&1

newimg v.img
v enroll --tpm2-device="$TCTI" --tpm2-pcrs=7 --key-file pw v.img
check "vaultctl enroll --tpm2-pcrs=7 says which keyslot and PCRs" \
	'[ $rc = 0 ] && grep -q "New TPM2 token enrolled as key slot 1 (PCRs 7+15, sha256)" "$ERR"'
check "its token has systemd 252's fields and order; its keyslot pbkdf2-sha512, 1000 iterations" \
	'cryptsetup --disable-locks luksDump --dump-json-metadata v.img | python3 -c "
import json, sys
d = json.load(sys.stdin)
t = d[\"tokens\"][\"0\"]
assert list(t) == [\"type\", \"keyslots\", \"tpm2-blob\", \"tpm2-pcrs\", \"tpm2-pcr-bank\",
                   \"tpm2-primary-alg\", \"tpm2-policy-hash\", \"tpm2-pin\"], list(t)
assert t[\"keyslots\"] == [\"1\"] and t[\"tpm2-pcrs\"] == [7, 15] and t[\"tpm2-pin\"] is False
k = d[\"keyslots\"][\"1\"][\"kdf\"]
assert (k[\"type\"], k[\"hash\"], k[\"iterations\"]) == (\"pbkdf2\", \"sha512\", 1000), k
"'
check "cryptsetup's systemd-tpm2 plugin accepts the token (luksDump shows its PCRs)" \
	'cryptsetup --disable-locks luksDump v.img | grep -q "tpm2-hash-pcrs:   7+15"'
v open --test-passphrase --tpm2-device="$TCTI" v.img </dev/null
check "vaultctl open unlocks the vaultctl-enrolled volume through its token" '[ $rc = 0 ]'
v dump v.img
check "dump shows the token's PCRs, bank and PIN" \
	'[ $rc = 0 ] && grep -q "tpm2-pcrs:        7+15" "$OUT" && grep -q "tpm2-pin:         false" "$OUT"'

NEWPIN=1470 v enroll --tpm2-device="$TCTI" --tpm2-with-pin --key-file pw v.img
check "vaultctl enroll --tpm2-with-pin (\$NEWPIN) adds a second token with tpm2-pin true" \
	'[ $rc = 0 ] && [ "$(token v.img 1 | python3 -c "import json,sys; print(json.load(sys.stdin)[\"tpm2-pin\"])")" = True ]'
PIN=0000 v open --test-passphrase --token-only --token-id 1 --tpm2-device="$TCTI" v.img </dev/null
check "a wrong PIN: refused, and the message says the TPM counted it and how many tries are left" \
	'[ $rc = 1 ] && grep -q "refused to unlock: wrong TPM2 PIN; the TPM.s dictionary-attack protection counted it: 2 of 3 tries left before the TPM locks out" "$ERR"'
PIN=1470 v open --test-passphrase --token-only --token-id 1 --tpm2-device="$TCTI" v.img </dev/null
check "the right PIN unlocks" '[ $rc = 0 ]'
tpm2_dictionarylockout -c >/dev/null 2>&1
v open --test-passphrase --token-only --token-id 1 --tpm2-device="$TCTI" v.img </dev/null
check "without a terminal or \$PIN the PIN token is not tried (no counted failure)" \
	'[ $rc = 1 ] && [ "$(da_counter)" = 0 ]'
v enroll --tpm2-device="$TCTI" --tpm2-pcrs=7+99 --key-file pw v.img
check "--tpm2-pcrs=7+99 is refused with the accepted syntax" \
	'[ $rc = 1 ] && grep -q "PCR numbers 0-23" "$ERR"'

newimg bad.img
# (cryptsetup's systemd plugin refuses to import it: write the JSON directly)
$CRAFT bad.img json "j['tokens']['0'] = $(cat bad.tok)"
v open --test-passphrase --tpm2-device="$TCTI" bad.img <pw
check "a malformed systemd-tpm2 token: a clear message, then the passphrase opens" \
	'[ $rc = 0 ] && grep -q "token 0 (systemd-tpm2) of bad.img is malformed: .tpm2-blob. is not valid base64" "$ERR"'
v open --test-passphrase -v --tpm2-device=swtpm:path="$T/no-such-socket" v.img <pw
check "no TPM: the token is skipped and the passphrase opens" \
	'[ $rc = 0 ] && grep -q "Token 0 (systemd-tpm2) is not usable here: cannot open TPM2 device" "$OUT"'

newimg sig.img
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out pcr-sign.pem 2>/dev/null &&
	openssl pkey -in pcr-sign.pem -pubout -out pcr-pub.pem &&
	PASSWORD=pw systemd-cryptenroll --tpm2-device="$TCTI" --tpm2-public-key=pcr-pub.pem \
		--tpm2-public-key-pcrs=11 --tpm2-pcrs=7 sig.img >/dev/null 2>&1 </dev/null
tpm_restart
v open --test-passphrase --tpm2-device="$TCTI" sig.img <pw
check "systemd-cryptenroll's signed-policy token: 'signed PCR policies are not supported', the passphrase opens" \
	'[ $rc = 0 ] && grep -q "token 0 (systemd-tpm2) of sig.img failed: signed PCR policies are not supported" "$ERR"'

# --- PCRs change: the TPM refuses, the passphrase still works ---
tpm2_pcrextend 15:sha256=$(printf x | sha256sum | cut -d" " -f1) >/dev/null
t unseal "$TCTI" <our.tok
check "after PCR 15 is extended our token is refused (policy)" '[ $rc = 11 ]'
t unseal "$TCTI" <sd.tok
check "a PCR-7-only token still unseals after PCR 15 is extended" '[ $rc = 0 ]'
t seal "$TCTI" 7
ours2=$(head -n 1 "$OUT" | python3 -c 'import json,sys; print(json.load(sys.stdin)["tpm2-policy-hash"])')
check "sealing after PCR 15 was extended still binds PCR 15 to zero (computed, not read)" \
	'[ "$ours2" = "$sd15" ]'
tpm2_pcrextend 7:sha256=$(printf y | sha256sum | cut -d" " -f1) >/dev/null
t unseal "$TCTI" <sd.tok
check "after PCR 7 is extended the systemd token is refused (policy)" '[ $rc = 11 ]'
check "the passphrase still opens the volume" \
	'cryptsetup --disable-locks open --test-passphrase --key-file pw sd.img'
v open --test-passphrase --tpm2-device="$TCTI" v.img <pw
check "vaultctl open says why the TPM refused, then the passphrase opens" \
	'[ $rc = 0 ] && grep -q "token 0 (systemd-tpm2) of v.img refused to unlock: the TPM refuses to unseal it: PCRs 7+15 (sha256) differ from the values it was sealed to" "$ERR"'
v enroll --wipe-slot=tpm2 --tpm2-device="$TCTI" --tpm2-pcrs=7 --key-file pw v.img
check "re-enrol with --wipe-slot=tpm2: one systemd-tpm2 token left" \
	'[ $rc = 0 ] && [ "$(cryptsetup --disable-locks luksDump --dump-json-metadata v.img |
		python3 -c "import json,sys; print(sum(t[\"type\"] == \"systemd-tpm2\" for t in json.load(sys.stdin)[\"tokens\"].values()))")" = 1 ]'
v open --test-passphrase --token-only --tpm2-device="$TCTI" v.img </dev/null
check "the re-sealed token does not unseal on this boot: PCR 15 is extended, the policy binds it to zero" \
	'[ $rc = 1 ] && grep -q "PCRs 7+15 (sha256) differ" "$ERR"'
# The next boot of the updated machine: PCRs reset, the new firmware measures the same PCR 7.
tpm_restart
tpm2_pcrextend 7:sha256=$(printf y | sha256sum | cut -d" " -f1) >/dev/null
v open --test-passphrase --token-only --tpm2-device="$TCTI" v.img </dev/null
check "on the next boot with the new PCR 7 the re-sealed token unlocks" '[ $rc = 0 ]'

finish
