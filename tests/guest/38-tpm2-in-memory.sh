#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Key hygiene in RAM after TPM2 and recovery-key unlocks, the method of
# 62-key-in-memory (the host dumps the guest's memory through
# tests/vm/memdump-agent and searches the pages that changed since a
# baseline) on a volume the host
# formatted: vaultctl enrols a systemd-tpm2 token without PIN, one with a
# PIN, and a recovery key; opens it through each token and once through
# the recovery key, closing each time.  Searched for (16-byte pieces, so a
# copy with its first bytes overwritten by a freed block's list pointers
# still shows): the unsealed TPM secrets and their base64 (the keyslot
# passphrase systemd uses), the token keyslots' keys, the PIN as typed and
# SHA-256 of it (the sealed object's authValue), the recovery key's text,
# its 32 random bytes and its keyslot's key; and as in 62 the volume key,
# keyslot 0's key and their AES schedules.
#
# Where the needles come from without the test leaving copies of its own:
#  - the volume key and passphrase: made by the host (as in 62);
#  - the TPM secrets exist only inside vaultctl until every dump that is
#    searched for them was taken: those dumps are kept on the host ("dump
#    LABEL keep"); only then does the test unseal them with tpm2-tools
#    (tpm_token_secret, tests/lib/tpm.sh), send them to the host ("needles")
#    and have the kept dumps searched.  Copies tpm2-tools and bash leave
#    cannot be in dumps taken before they ran;
#  - the PIN is made in the guest by memdump-helper.py mkpin straight into
#    two tmpfs files ("PIN=..." and "NEWPIN=...") and handed to vaultctl by
#    memdump-helper.py execenv, whose execve() points into the file's
#    mapping: no shell variable, pipe or Python object ever holds it;
#  - the recovery key is written by vaultctl itself to a tmpfs file
#    (--recovery-key-file; its stdout goes to /dev/null) and read from there
#    by `vaultctl open --key-file`.
#  So the only expected copies of the PIN and the recovery key are the
#  pages of those three files: the test finds their frames (filepfns) and
#  excuses hits there, and only there.
# Dumps: baseline; "open" while the volume is open through the PIN-less
# token (the positive control for the volume key, as in 62: the cipher
# holds both halves; nothing else may be there); "closed" after the last
# close; "control" after the host wrote every extra needle into a file the
# guest copied to tmpfs (proves the search finds each kind of needle).
. "${VAULT_REPO:?}/tests/lib/ktap.sh"
. "$VAULT_REPO/tests/lib/tpm.sh"
. "$VAULT_REPO/tests/lib/memdump.sh"

T=t38m
HELPER=$VAULT_REPO/tests/lib/memdump-helper.py
export DM_DISABLE_UDEV=1
# The volume key's and keyslot 0's needles (62's), then those added later.
BASE="key half0 half1 q0 q1 q2 q3 hex sched0 sched1 slotkey"
EXTRA="tsec tb64 tslot pin pinauth rk rkraw rslot"

tpm_require
need_vaultctl
need_cmd python3 losetup dmsetup base64 dd
vault_setup_module || ktap_fail_all "dm-vault.ko cannot be loaded"
memdump_connect
read -r _ IMAGE PASS _ <<<"$REPLY"
tpm_reset || ktap_fail_all "cannot reset the TPM"
# vaultctl's tokens bind PCR 15 as zero: 38-tpm2-unlock extends it.
[ "$(tpm_pcr 15)" = "$(printf '%064d' 0)" ] ||
	ktap_fail_all "PCR 15 was extended by an earlier test in this guest: run this test before 38-tpm2-unlock"

WORK=$(mktemp -d /tmp/$T.XXXXXX)
cleanup() {
	"$VAULTCTL" close $T >/dev/null 2>&1
	dmsetup remove $T >/dev/null 2>&1
	[ -n "${DEV:-}" ] && losetup -d "$DEV"
	rm -rf "$WORK"
}
ktap_defer cleanup
cp "$IMAGE" "$WORK/luks2.img" || ktap_fail_all "cannot copy $IMAGE"
DEV=$(losetup --find --show "$WORK/luks2.img") || ktap_fail_all "losetup failed"
printf '%s' "$PASS" >"$WORK/pw"
VC=("$VAULTCTL")

# dump LABEL [keep|baseline]: dump (and keep) the guest's memory (answer in R)
dump() {
	local req=dump
	[ "${2:-}" = baseline ] && req=baseline
	if ! memdump_ask 300 $req "$1" ${2:+${2#baseline}}; then
		ktap_fail "$1: memory dump (${REPLY:-no answer})"
		return 1
	fi
	memdump_diag "$1"
}

# clean LABEL [EXPECTED...]: no needle of any kind in the last answer but
# the kinds EXPECTED; PIN and recovery-key hits excused in the pages of
# the test's own files (OWN).
clean() {
	local label=$1 k h bad='' excused=0
	shift
	declare -A skip=() n=()
	for k in "$@"; do skip[$k]=1; done
	for h in ${R[hits]//,/ }; do
		[ "$h" = - ] && continue
		k=${h%@*}
		[ -n "${skip[$k]:-}" ] && continue
		if [[ $k == pin || $k == rk ]] && [ -n "${OWN[$((${h#*@} >> 12))]:-}" ]; then
			excused=$((excused + 1))
			continue
		fi
		n[$k]=$((${n[$k]:-0} + 1))
	done
	for k in $BASE ${EXTRA_SEEN:-}; do
		[ -n "${skip[$k]:-}" ] && continue
		[ -n "${n[$k]:-}" ] && bad+=" $k=${n[$k]}"
	done
	[ "$excused" = 0 ] || ktap_diag "$label: $excused hits of the PIN or recovery key in the test's own files (expected)"
	ktap_check "$label: no secret in memory${bad:+ (found:$bad)}" \
		test -z "$bad" -a "${R[hitsmore]:-0}" = 0
}

# token_ids: the ids of DEV's systemd-tpm2 tokens without and with PIN and
# of its systemd-recovery token (one python3: each costs seconds under TCG)
token_ids() {
	cryptsetup --disable-locks luksDump --dump-json-metadata "$DEV" 2>/dev/null | python3 -c '
import json, sys
tok = json.load(sys.stdin)["tokens"]
def one(typ, pin=None):
    ids = [i for i, t in tok.items() if t["type"] == typ and
           (pin is None or t.get("tpm2-pin", False) == pin)]
    return ids[0] if len(ids) == 1 else "-"
print(one("systemd-tpm2", False), one("systemd-tpm2", True), one("systemd-recovery"))'
}

# ---- 0. baseline: nothing secret exists in the guest yet
dump baseline baseline || ktap_fail_all "no baseline dump"

# ---- 1. enrolment: TPM2 without PIN, with PIN, recovery key
python3 -S "$HELPER" mkpin "$WORK" || ktap_fail_all "cannot make the PIN files"
ktap_check "enroll --tpm2-device=auto --tpm2-pcrs=7" \
	"${VC[@]}" enroll --tpm2-device=auto --tpm2-pcrs=7 --key-file "$WORK/pw" "$DEV"
ktap_check "enroll --tpm2-with-pin (NEWPIN from the PIN file)" \
	python3 -S "$HELPER" execenv "$WORK/NEWPIN" "${VC[@]}" enroll --tpm2-device=auto \
	--tpm2-pcrs=7 --tpm2-with-pin=yes --key-file "$WORK/pw" "$DEV"
enroll_rk() {
	"${VC[@]}" enroll --recovery-key --recovery-key-file "$WORK/rk" --key-file "$WORK/pw" \
		"$DEV" >/dev/null 2>"$WORK/err" || { ktap_diag_stream <"$WORK/err"; return 1; }
}
ktap_check "enroll --recovery-key (into a file; stdout to /dev/null)" enroll_rk
read -r T0 T1 T2 < <(token_ids)
ids_ok() { [[ "${T0:-} ${T1:-} ${T2:-}" =~ ^[0-9]+\ [0-9]+\ [0-9]+$ ]]; }
ktap_check "the three tokens are there (${T0:-}, ${T1:-}, ${T2:-})" ids_ok

# ---- 2. open through each (PCR 15 left alone: the test unseals again)
OPEN=(open --token-only --tpm2-measure-pcr=no)
if ktap_check "open through the TPM2 token without PIN" \
	"${VC[@]}" "${OPEN[@]}" --token-id "$T0" "$DEV" $T </dev/null; then
	dd if=/dev/urandom of=/dev/mapper/$T bs=64k count=16 oflag=direct status=none &&
		dd if=/dev/mapper/$T of=/dev/null bs=64k count=16 iflag=direct status=none ||
		ktap_fail "open: I/O through the mapping"
	if dump open keep; then
		ktap_check "open (detector): both halves of the volume key found" \
			test "${R[half0]}" -gt 0 -a "${R[half1]}" -gt 0
		ktap_check "open: no contiguous copy of the whole volume key" test "${R[key]}" = 0
	fi
	"${VC[@]}" close $T
fi
ktap_check "open through the TPM2 token with PIN (PIN from the PIN file)" \
	python3 -S "$HELPER" execenv "$WORK/PIN" "${VC[@]}" "${OPEN[@]}" --token-id "$T1" \
	"$DEV" $T </dev/null && "${VC[@]}" close $T
ktap_check "open with the recovery key (from its file)" \
	"${VC[@]}" open --disable-tokens --tpm2-measure-pcr=no --key-file "$WORK/rk" "$DEV" $T &&
	"${VC[@]}" close $T
ktap_check "closed: no mapping" eval "! dmsetup info $T >/dev/null 2>&1"
declare -A OWN=()
while read -r p; do OWN[$p]=1; done < <(python3 -S "$HELPER" filepfns "$WORK/PIN" "$WORK/NEWPIN" "$WORK/rk")
ktap_diag "the PIN and recovery-key files are in ${#OWN[@]} pages"
dump closed keep && clean closed

# ---- 3. the needles, now that the dumps that need them are taken
pin=$(tr -d '\0' <"$WORK/PIN") && pin=${pin#PIN=}
s0=$(tpm_token_secret "$DEV" "$T0") && s1=$(tpm_token_secret "$DEV" "$T1" "$pin")
ktap_check "tpm2-tools unseal both tokens' secrets" test ${#s0} = 64 -a ${#s1} = 64 ||
	ktap_fail_all "no needles for the TPM secrets"
for s in "$s0" "$s1"; do
	printf '%b' "$(sed 's/../\\x&/g' <<<"$s")" | base64 -w0 | tr -d '\n' >"$WORK/b64"
	ktap_check "its base64 opens a keyslot (the needles are right)" \
		"$VAULTCTL" open --test-passphrase --disable-tokens --key-file "$WORK/b64" "$DEV"
done
hdr=$(dd if="$DEV" bs=4096 skip=1 count=3 status=none | base64 -w0)
if memdump_ask 120 needles "$hdr" "tpm=$T0:$s0" "tpm=$T1:$s1" "pin=$(tpm_hex "$pin")" \
	"rk=$T2:$(tpm_hex "$(cat "$WORK/rk")")"; then
	ktap_diag "needles: ${REPLY#ok }"
	EXTRA_SEEN=$EXTRA
	for label in open closed; do
		if memdump_ask 120 search $label; then
			memdump_diag "$label (searched again)"
			if [ $label = open ]; then
				clean $label half0 half1 q0 q1 q2 q3 sched0 sched1
			else
				clean $label
			fi
		else
			ktap_fail "$label: search (${REPLY:-no answer})"
		fi
	done
else
	ktap_fail "the host takes the needles (${REPLY:-no answer})"
fi

# ---- 4. positive control: every kind of needle, put there on purpose, is found
if memdump_ask 60 control; then
	cp "${REPLY#ok }" "$WORK/control" && dump control && {
		missing=
		for k in $EXTRA; do
			[ "${R[$k]:-0}" -gt 0 ] || missing+=" $k"
		done
		ktap_check "control (detector): each kind of needle found${missing:+ (not:$missing)}" \
			test -z "$missing"
	}
else
	ktap_fail "control file (${REPLY:-no answer})"
fi

ktap_diag "done at ${SECONDS}s"
ktap_finish
