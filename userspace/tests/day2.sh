#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Host-side tests of the day-2 LUKS2 header commands, on image files (no
# module): uuid --uuid, open --test-passphrase, dump --dump-json-metadata,
# dump --dump-volume-key [--volume-key-file], config --label --subsystem,
# token import/export/remove.  Each runs on one copy of an image while
# cryptsetup 2.6 (the oracle) runs on another: the results must be equal as
# cryptsetup sees them, and each has a bad input refused with its message.
# Prints KTAP.  Usage: day2.sh VAULTCTL.

VAULTCTL=${1:?usage: day2.sh VAULTCTL}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
test_dir day2

echo "KTAP version 1"
need_root_and "day-2 host tests" "cryptsetup's locking, as luks.sh" cryptsetup

check() { name=$1; shift; if "$@"; then ok "$name"; else nok "$name"; fi; }
# err_is RC TEXT: the last vc exited RC and said TEXT (a fixed string)
err_is() { [ "$rc" = "$1" ] && grep -qF -- "$2" "$ERR"; }
printf 'first pass' >p1; printf 'wrong pass' >bad
# the binary header fields cryptsetup shows, and its whole view of the JSON
hdr() { cs luksDump "$1" | sed -n '/^Epoch:/,/^Flags:/p'; }
json() { cs luksDump --dump-json-metadata "$1"; }
# same A B: cryptsetup sees the same header fields and JSON (neither empty);
# same_json: the same JSON (cryptsetup's token import --key-slot writes the
# header twice, vaultctl once: the epochs differ)
same_json() { [ -n "$(json "$1")" ] && [ "$(json "$1")" = "$(json "$2")" ]; }
same() { [ -n "$(hdr "$1")" ] && [ "$(hdr "$1")" = "$(hdr "$2")" ] && same_json "$1" "$2"; }
# what cryptsetup reads from the secondary copy alone (primary wiped)
second() {
	cp "$1" 2nd.img
	dd if=/dev/zero of=2nd.img bs=4096 count=1 conv=notrunc 2>/dev/null
	cs luksDump 2nd.img | sed -n '/^UUID:/,/^Subsystem:/p'
}

truncate -s 20M base.img
vc format $FAST --key-file p1 base.img
check "vaultctl formats the image (the setup)" [ "$rc" = 0 ]
echo '{"type":"x-test","keyslots":["0"],"n":{"a":[1,"\u00e9/b"]}}' >t.json
cs token import --token-id 2 --json-file t.json base.img

# --- uuid --uuid -------------------------------------------------------------------
cp base.img a.img; cp base.img b.img
vc uuid -q --uuid 0BADC0DE-1234-5678-9ABC-DEF012345678 a.img
cs -q luksUUID --uuid 0BADC0DE-1234-5678-9ABC-DEF012345678 b.img
check "uuid --uuid: cryptsetup luksUUID reads the new UUID, lower case as its own" \
	eval "[ $rc = 0 ] && [ \"\$(cryptsetup --disable-locks luksUUID a.img)\" = 0badc0de-1234-5678-9abc-def012345678 ]"
check "uuid --uuid: luksDump's header and JSON equal cryptsetup's luksUUID result (epoch + 1)" \
	eval "same a.img b.img &&
	       [ \"\$(hdr a.img | sed -n 's/^Epoch:[[:space:]]*//p')\" = \$((\$(hdr base.img | sed -n 's/^Epoch:[[:space:]]*//p') + 1)) ]"
check "uuid --uuid: the secondary header copy has it too, with a valid checksum" \
	eval "second a.img | grep -q '0badc0de-1234-5678-9abc-def012345678'"
vc uuid a.img
check "uuid prints the new UUID" eval "[ $rc = 0 ] && grep -qx 0badc0de-1234-5678-9abc-def012345678 $OUT"
vc uuid -q --uuid 0badc0de-1234-5678-9abc-def01234567 a.img
check "uuid --uuid with a malformed UUID: refused, exit 1, with the format it needs" \
	err_is 1 "invalid value '0badc0de-1234-5678-9abc-def01234567' for --uuid: a UUID like 12345678-9abc-def0-1234-56789abcdef0 (hexadecimal digits in groups 8-4-4-4-12)"
vc uuid --uuid 11111111-2222-3333-4444-555555555555 a.img </dev/null
check "uuid --uuid without a terminal and without --batch-mode: refused, UUID unchanged" \
	eval "err_is 1 'nobody can confirm' && [ \"\$(cryptsetup --disable-locks luksUUID a.img)\" = 0badc0de-1234-5678-9abc-def012345678 ]"

# --- open --test-passphrase: cryptsetup's exit status ------------------------------
truncate -s 1M zero.img
for c in "p1 base.img right" "bad base.img wrong" "p1 missing.img missing" "p1 zero.img not-LUKS"; do
	# shellcheck disable=SC2086 # three words
	set -- $c
	vc open --test-passphrase --key-file "$1" "$2"
	cs open --test-passphrase --key-file "$1" "$2" 2>/dev/null; want=$?
	check "open --test-passphrase, $3 ($2): exit $want as cryptsetup's" [ "$rc" = "$want" ]
done

# --- dump --dump-json-metadata ---------------------------------------------------
vc dump --dump-json-metadata base.img
json base.img >theirs
check "dump --dump-json-metadata is byte for byte cryptsetup's (a token with UTF-8 and '/')" \
	eval "[ $rc = 0 ] && cmp -s $OUT theirs"
vc dump --dump-json-metadata --dump-volume-key base.img
check "dump --dump-json-metadata --dump-volume-key: refused" \
	err_is 1 "--dump-json-metadata and --dump-volume-key cannot be combined"

# --- dump --dump-volume-key --------------------------------------------------------
vc dump -q --dump-volume-key --key-file p1 base.img
cs -q luksDump --dump-volume-key --key-file p1 base.img >theirs
check "dump --dump-volume-key -q prints what cryptsetup luksDump --dump-volume-key prints" \
	eval "[ $rc = 0 ] && grep -q '^MK dump:' $OUT && cmp -s $OUT theirs"
vc dump -q --dump-volume-key --key-file p1 --volume-key-file vk.ours base.img
cs -q luksDump --dump-volume-key --key-file p1 --volume-key-file vk.theirs base.img >/dev/null
check "--volume-key-file: the same key bytes as cryptsetup's, a new file of mode 0600, not printed" \
	eval "[ $rc = 0 ] && cmp -s vk.ours vk.theirs && [ \"\$(stat -c %a vk.ours)\" = 600 ] &&
	       grep -qx 'Key stored to file vk.ours.' $OUT && ! grep -q 'MK dump' $OUT"
vc dump -q --dump-volume-key --key-file p1 --volume-key-file vk.ours base.img
check "--volume-key-file over an existing file: refused, exit 1" \
	err_is 1 "cannot create the volume key file vk.ours: File exists (refusing to overwrite it)"
vc dump -q --dump-volume-key --key-file bad base.img
check "dump --dump-volume-key with a wrong passphrase: exit 2, no key" \
	eval "err_is 2 'No key available with this passphrase' && ! grep -q 'MK' $OUT"
vc dump --dump-volume-key --key-file p1 base.img </dev/null
check "dump --dump-volume-key without a terminal and without --batch-mode: refused, no key" \
	eval "err_is 1 'nobody can confirm' && ! grep -q 'MK' $OUT"
python3 "$HERE/pty-answer.py" "capital letters" "YES" "Enter passphrase" "first pass" -- \
	"$VAULTCTL" dump --dump-volume-key base.img >"$OUT" 2>"$ERR"; rc=$?
check "dump --dump-volume-key on a terminal: YES typed, then the passphrase, then the key" \
	eval "[ $rc = 0 ] && grep -q 'sensitive information' $OUT &&
	       grep -qF \"\$(grep '^MK dump:' theirs | tr -d '\\t\\r')\" \"\$(tr -d '\\t\\r' <$OUT >pty.out; echo pty.out)\""
python3 "$HERE/pty-answer.py" "capital letters" "yes" -- \
	"$VAULTCTL" dump --dump-volume-key base.img >"$OUT" 2>"$ERR"; rc=$?
check "dump --dump-volume-key on a terminal, \"yes\" typed: not confirmed, no passphrase asked" \
	eval "[ $rc = 1 ] && grep -q 'not confirmed: nothing done' $OUT && ! grep -q 'Enter passphrase' $OUT"

# --- config --label --subsystem ---------------------------------------------------
cp base.img a.img; cp base.img b.img
vc config --label 'data disk' --subsystem backup a.img
cs config --label 'data disk' --subsystem backup b.img
check "config --label --subsystem: luksDump equals cryptsetup config's result" \
	eval "[ $rc = 0 ] && same a.img b.img"
check "config: blkid shows LABEL and SUBSYSTEM, in both header copies" \
	eval "blkid -p a.img | grep -q 'LABEL=\"data disk\" SUBSYSTEM=\"backup\"' &&
	       second a.img | grep -qx 'Subsystem:[[:space:]]*backup'"
vc config --label other a.img
cs config --label other b.img
check "config --label alone clears the subsystem, as cryptsetup's config" \
	eval "[ $rc = 0 ] && same a.img b.img && hdr a.img | grep -qx 'Subsystem:[[:space:]]*(no subsystem)'"
# cryptsetup's lock: for an image file, flock() on the file itself
flock -x a.img sleep 1.5 & lk=$!
sleep 0.3
t0=$(date +%s%N); vc config --label locked a.img; t1=$(date +%s%N)
wait $lk
check "config waits while another program holds cryptsetup's lock, then writes" \
	eval "[ $rc = 0 ] && [ $(((t1 - t0) / 1000000)) -ge 900 ] && hdr a.img | grep -qx 'Label:[[:space:]]*locked'"
vc config --label 123456789012345678901234567890123456789012345678 a.img
check "config with a 48-byte label: refused, exit 1" \
	err_is 1 "invalid value '123456789012345678901234567890123456789012345678' for --label: at most 47 bytes"
vc config a.img
check "config without --label or --subsystem: refused" \
	err_is 1 "'config' needs --label or --subsystem (or both)"

# --- token import / export / remove -------------------------------------------------
cp base.img a.img; cp base.img b.img
echo '{"type":"x-new","keyslots":[],"k":"v/\u00e9"}' >n.json
vc token import --json-file n.json --key-slot 0 a.img
cs token import --json-file n.json --key-slot 0 b.img
check "token import --key-slot: the lowest free id, keyslot added; equal to cryptsetup's" \
	eval "[ $rc = 0 ] && same_json a.img b.img &&
	       [ \"\$(cryptsetup --disable-locks token export --token-id 0 a.img)\" = '{\"type\":\"x-new\",\"keyslots\":[\"0\"],\"k\":\"v/é\"}' ]"
vc token import --token-id 7 a.img <n.json
cs token import --token-id 7 b.img <n.json
check "token import --token-id from stdin: equal to cryptsetup's" \
	eval "[ $rc = 0 ] && same_json a.img b.img"
vc token export --token-id 2 a.img
cs token export --token-id 2 a.img >theirs
check "token export prints what cryptsetup token export prints" \
	eval "[ $rc = 0 ] && [ -s theirs ] && cmp -s $OUT theirs"
vc token export --token-id 2 --json-file exp.json a.img
check "token export --json-file: a new 0600 file with the same JSON" \
	eval "[ $rc = 0 ] && cmp -s exp.json theirs && [ \"\$(stat -c %a exp.json)\" = 600 ]"
vc token remove --token-id 7 a.img
cs token remove --token-id 7 b.img
check "token remove: equal to cryptsetup's" \
	eval "[ $rc = 0 ] && same_json a.img b.img && ! cs token export --token-id 7 a.img 2>/dev/null"
sum a.img >before
vc token import --token-id 2 --json-file n.json a.img
check "token import over an existing id: refused, exit 1 (as cryptsetup's)" \
	err_is 1 "cannot import the token into a.img: token 2 is in use"
echo '{"type":"x","keyslots":["3"]}' >ks3.json
vc token import --json-file ks3.json a.img
check "token import naming a keyslot that does not exist: refused" \
	err_is 1 "the token's \"keyslots\" names \"3\", which is not a keyslot of a.img"
echo '{"keyslots":[]}' >notype.json
vc token import --json-file notype.json a.img
check "token import without a \"type\" string: refused" err_is 1 'a token needs a "type" string'
vc token import --key-slot 5 --json-file n.json a.img
check "token import --key-slot of an unused keyslot: refused" \
	err_is 1 "keyslot 5 is not in use"
printf '{"type":"x","keyslots":[]} x' >trail.json
vc token import --json-file trail.json a.img
check "token import of JSON with trailing data: refused" \
	err_is 1 "the token has trailing data after its JSON object"
vc token remove --token-id 9 a.img
check "token remove of an unused id: refused, exit 1" err_is 1 "token 9 of a.img is not in use"
vc token export a.img
check "token export without --token-id: refused" err_is 1 "'token export' needs option --token-id"
check "the refused token commands left the image unchanged" eval "[ \"\$(sum a.img)\" = \"$(cat before)\" ]"

finish
