#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Host-side tests of the clevis token on image files, with clevis's "null"
# pin (no server: the JOSE work is real, the key is in the JWE): the token
# vaultctl writes is clevis luks bind's JSON and its JWE turns back into the
# compact form jose makes; clevis's own tools open what vaultctl enrols and
# vaultctl opens what clevis luks bind writes; dump lines; refusals (bad
# --clevis arguments, unknown pin) before anything is written; a malformed
# token, a failing pin, clevis missing and --token-timeout (a clevis that
# never answers, killed with its process group) fall back to the
# passphrase.  Prints KTAP.  Usage: clevis.sh VAULTCTL.

VAULTCTL=${1:?usage: clevis.sh VAULTCTL}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
test_dir clevis

echo "KTAP version 1"
need_root_and "clevis token host tests" "cryptsetup's locking, as luks.sh" \
	cryptsetup clevis clevis-luks-bind clevis-luks-pass jose python3

check() { name=$1; shift; if "$@"; then ok "$name"; else nok "$name"; fi; }
img() { rm -f "$1"; truncate -s 20M "$1"; }
printf 'first pass' >p1
slots() { cs luksDump "$1" | grep -c '^  [0-9]*: luks2'; }
# the stored JWE, and what jose makes of it: compact, then flattened again
jwe_of() { cs token export --token-id "${2:-0}" "$1" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["jwe"], separators=(",", ":")))'; }

# --- vaultctl enrols; clevis's tools and cryptsetup open ---------------------
img a.img
vc format $FAST --key-file p1 a.img
vc enroll --key-file p1 --clevis null '{}' a.img
check "enroll --clevis null '{}': keyslot 1 and a message" \
	sh -c "[ $rc = 0 ] && grep -q 'New clevis token (null) enrolled as key slot 1' $ERR"
cs token export --token-id 0 a.img >tok.json
check "the token is clevis luks bind's JSON: type, keyslots, jwe (its five members, jose's order)" \
	python3 -c '
import json, sys
t = json.load(open("tok.json"), object_pairs_hook=lambda p: p)
assert [k for k, _ in t] == ["type", "keyslots", "jwe"], t
d = dict(t)
assert d["type"] == "clevis" and d["keyslots"] == ["1"], d
assert [k for k, _ in d["jwe"]] == ["ciphertext", "encrypted_key", "iv", "protected", "tag"], d["jwe"]
'
jwe_of a.img >stored
jose jwe fmt -i- -c <stored >compact
check "jose turns the stored JWE into a five-part compact JWE" \
	sh -c "[ \$(tr -cd . <compact | wc -c) = 4 ]"
jose jwe fmt -i compact | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), separators=(",", ":"), sort_keys=True))' >again
check "... and back to exactly the stored JSON (the round trip is lossless)" \
	sh -c "python3 -c 'import json,sys; print(json.dumps(json.load(open(\"stored\")), separators=(\",\", \":\"), sort_keys=True))' | cmp -s - again"
clevis decrypt <compact >secret 2>"$ERR"
check "clevis decrypt of that compact JWE gives the keyslot passphrase (cryptsetup opens keyslot 1)" \
	cs open --test-passphrase --key-slot 1 --key-file secret a.img
check "the secret is as strong as clevis luks bind's: 43 printable characters, 256 bits" \
	sh -c "[ \$(wc -c <secret) = 43 ] && ! grep -q '[^A-Za-z0-9_-]' secret"
clevis luks pass -d a.img -s 1 >secret2 2>"$ERR"
check "clevis luks pass reads vaultctl's token and gives the same secret" cmp -s secret secret2
cs luksDump a.img >dump
check "cryptsetup luksDump: keyslot 1 is pbkdf2-sha256 with 1000 iterations (clevis luks bind's)" \
	sh -c "sed -n '/^  1: luks2/,/AF stripes/p' dump | grep -q 'Iterations: *1000' &&
	       sed -n '/^  1: luks2/,/AF stripes/p' dump | grep -q 'Hash: *sha256'"
vc open --test-passphrase -v a.img </dev/null
check "vaultctl open --test-passphrase opens it through clevis with no input" \
	sh -c "[ $rc = 0 ] && grep -q 'Key slot 1 unlocked with token 0 (clevis)' $OUT"
vc dump a.img
check "dump shows the token and its policy" \
	sh -c "grep -qx '  0: clevis' $OUT && grep -qxP '\tclevis-policy:    null' $OUT"

# --- clevis luks bind writes; vaultctl opens --------------------------------
img b.img
vc format $FAST --key-file p1 b.img
clevis luks bind -y -k p1 -d b.img sss '{"t":1,"pins":{"null":[{},{}]}}' >/dev/null 2>"$ERR"
check "clevis luks bind -d IMG sss (1 of two null pins)" sh -c "[ $? = 0 ]"
vc open --test-passphrase -v b.img </dev/null
check "vaultctl opens the clevis-bound volume with no input" \
	sh -c "[ $rc = 0 ] && grep -q 'unlocked with token 0 (clevis)' $OUT"
vc dump b.img
check "dump shows the sss policy: sss 1 of [null, null]" \
	grep -qxP '\tclevis-policy:    sss 1 of \[null, null\]' "$OUT"

# --- refusals before anything is written ------------------------------------
img c.img
vc format $FAST --key-file p1 c.img
nslots=$(slots c.img)
refused() { [ "$rc" != 0 ] && grep -q -- "$1" "$ERR" && [ "$(slots c.img)" = "$nslots" ]; }
vc enroll --key-file p1 --clevis nosuchpin '{}' c.img
check "an unknown pin is refused, naming it" refused "invalid value 'nosuchpin' for --clevis: an installed clevis pin"
vc enroll --key-file p1 --clevis ../../bin/sh '{}' c.img
check "a pin that is a path is refused" refused "invalid value '../../bin/sh' for --clevis"
vc enroll --key-file p1 --clevis null '{"url":' c.img
check "a configuration that is not JSON is refused" refused "invalid --clevis configuration"
vc enroll --key-file p1 --clevis null '[1]' c.img
check "a configuration that is not a JSON object is refused" refused "it must be a JSON object"
vc enroll --key-file p1 c.img --clevis null
check "--clevis without its configuration is refused" refused "needs a pin and its JSON configuration"
vc enroll --key-file p1 --clevis tang '{}' c.img
check "a configuration clevis rejects: clevis's reason, no keyslot left behind" \
	refused "cannot enroll clevis on c.img: clevis encrypt tang failed: Missing the required 'url' property"
vc open --token-timeout soon --test-passphrase c.img
check "--token-timeout with a bad value is refused" refused "invalid value 'soon' for --token-timeout"
vc open --clevis null '{}' --test-passphrase c.img
check "--clevis is an enroll option only" refused "option --clevis is not valid for 'open'"

# --- failures fall back to the passphrase -----------------------------------
cp a.img d.img
python3 - <<'PY'
import json, subprocess
t = json.loads(subprocess.check_output(["cryptsetup", "--disable-locks", "token", "export", "--token-id", "0", "d.img"]))
t["jwe"]["ciphertext"] = "A" + t["jwe"]["ciphertext"][1:] if t["jwe"]["ciphertext"][0] != "A" else "B" + t["jwe"]["ciphertext"][1:]
open("bad-ct.json", "w").write(json.dumps(t))
t["jwe"]["iv"] = "not.base64url"
open("bad-iv.json", "w").write(json.dumps(t))
PY
cs token remove --token-id 0 d.img
cs token import --json-file bad-ct.json --token-id 0 d.img
vc open --test-passphrase -v d.img <p1
check "a JWE clevis cannot decrypt: the token fails with clevis's reason, the passphrase opens" \
	sh -c "[ $rc = 0 ] && grep -q 'token 0 (clevis) of d.img failed: clevis decrypt failed (null)' $ERR"
cs token remove --token-id 0 d.img
cs token import --json-file bad-iv.json --token-id 0 d.img
vc open --test-passphrase d.img <p1
check "a malformed JWE: the token is reported malformed, the passphrase opens" \
	sh -c "[ $rc = 0 ] && grep -q 'token 0 (clevis) of d.img is malformed: a JWE member is not a base64url string' $ERR"
vc dump d.img
check "dump says why that token is unusable" \
	grep -qxP '\tunusable: a JWE member is not a base64url string' "$OUT"
PATH=/nonexistent vc open --test-passphrase -v a.img <p1
check "clevis not installed: said with -v, the passphrase opens" \
	sh -c "[ $rc = 0 ] && grep -q 'Token 0 (clevis) is not usable here: clevis is not installed' $OUT"

# a clevis that never answers, with a child of its own (as clevis runs curl)
mkdir fake
cat >fake/clevis <<'SH'
#!/bin/sh
cat >/dev/null
echo $$ >"${0%/*}/pid"
sleep 30 &
echo $! >"${0%/*}/child"
wait
SH
chmod +x fake/clevis
start=$(date +%s)
PATH=$T/fake:$PATH vc open --test-passphrase --token-timeout=1s a.img <p1
took=$(($(date +%s) - start))
check "a clevis that never answers: --token-timeout=1s gives up (took $took s), the passphrase opens" \
	sh -c "[ $rc = 0 ] && [ $took -le 5 ] &&
	       grep -q 'clevis decrypt gave no answer within 1 s (token-timeout=)' $ERR"
sleep 0.2
# gone or a zombie (a container's init may be slow to reap the orphan)
running() { s=$(ps -o stat= -p "$1" 2>/dev/null) && [ -n "$s" ] && [ "${s#Z}" = "$s" ]; }
gone() { ! running "$(cat fake/pid)" && ! running "$(cat fake/child)"; }
check "... its whole process group is gone (clevis and its child)" gone
rm -f fake/pid fake/child
PATH=$T/fake:$PATH "$VAULTCTL" open --test-passphrase --token-timeout=0 a.img <p1 >"$OUT" 2>"$ERR" &
vpid=$!
for _ in $(seq 50); do [ -s fake/child ] && break; sleep 0.1; done
kill -TERM $vpid
wait $vpid
rc=$?
sleep 0.2
interrupted() { [ "$rc" = 143 ] && [ -s fake/child ] && gone; }
# (SIGTERM: a background job of a script ignores SIGINT)
check "stopped (SIGTERM) while clevis runs: vaultctl ends by SIGTERM, clevis's group is killed" interrupted

finish
