# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# tests/lib/tpm.sh - the software TPM, for guest tests (source after ktap.sh).
#
# tests/vm/run-guest gives every guest boot its own swtpm (QEMU tpm-crb):
# /dev/tpmrm0 in the guest, and VAULT_TPM_LOG, a host file (read over 9p)
# where swtpm writes every command and response it exchanges, as hex.
# Without swtpm on the host the guest has no TPM and VAULT_TPM_MISSING says
# why.  The tools here talk to the TPM through the kernel's resource
# manager (TPM2TOOLS_TCTI=device:/dev/tpmrm0, exported by tpm_require).
#
#   tpm_require          skip the test unless the guest has a TPM and
#                        tpm2-tools (with VAULT_STRICT_DEPS=1 a missing swtpm
#                        or tpm2-tools fails instead), or when the kernel has
#                        no TPM driver at all (the debug kernel); fail when
#                        run-guest started a TPM, the kernel has the driver
#                        and /dev/tpmrm0 is absent.
#   tpm_reset            a fresh TPM for the test: TPM2_Clear (new storage
#                        seed: every key and sealed object made before is
#                        gone; owner/endorsement/lockout auth empty), and the
#                        dictionary-attack counter reset.  PCRs 0-15 are NOT
#                        reset (only a boot resets them): tpm_pcr_extend's
#                        effect lasts for the rest of the guest.
#   tpm_pcr_extend N     extend PCR N (sha1 and sha256 banks) with random
#                        digests: any policy bound to its value breaks.
#   tpm_pcr N            print PCR N of the sha256 bank, 64 lowercase hex digits.
#   tpm_log_mark         print the log's current size; pass it as FROM or TO
#                        below to look only at the traffic after (before) it.
#   tpm_log_messages [FROM [TO]]  print every message logged between offsets
#                        FROM (default 0) and TO (default: the end), one line
#                        each: "C HEX" (a command the TPM received), "R HEX"
#                        (its response), "X HEX" (a control-channel command
#                        from QEMU: init, locality, ...), HEX lowercase, the
#                        whole message.
#   tpm_log_contains HEX [FROM [TO]]  succeed when the byte string HEX (any
#                        case, blanks ignored) occurs in any logged message
#                        (between FROM and TO), at a byte boundary; 1 when it
#                        does not; 125 when the log cannot be read or HEX is
#                        not hex (so that `not tpm_log_contains` fails then).
#   tpm_log_commands CC [FROM [TO]]  print how many commands with command code
#                        CC (hex, e.g. 15e for TPM2_Unseal) were logged.
#   tpm_log_unsealed [FROM [TO]]  print, one line each in hex, the data field
#                        of every successful TPM2_Unseal response logged: the
#                        unsealed secret when the session did not encrypt the
#                        response, ciphertext when it did.
#   tpm_hex STRING       the bytes of STRING as hex.
#
# The bus proof (tests/guest/38-tpm2-bus.sh) and the PCR-cap proof:
#   tpm_token_secret DEV TOKEN_ID [PIN]  unseal the secret of a systemd-tpm2
#                        token with tpm2-tools alone, in a session that
#                        encrypts nothing (so it is in the log), and print it
#                        as hex; base64 of it is the keyslot's passphrase.
#                        Fails (and says why) when the TPM refuses: after the
#                        token's PCR 15 was extended, this is root's attempt
#                        that must fail.
#   tpm_bus_hidden DESC SECRET_HEX PIN FROM TO  ktap checks on the traffic
#                        between two marks: a TPM2_Unseal is in it, and
#                        neither the secret, its base64, PIN nor sha256(PIN).
#
# The log is read with O_DIRECT: the guest mounts the host root with
# cache=loose, and a cached read would return what the file held when the
# guest first read it.

TPM_DEVICE=/dev/tpmrm0

tpm_require() {
	if [ -n "${VAULT_TPM_MISSING:-}" ]; then
		ktap_skip_dep "the guest has no TPM: $VAULT_TPM_MISSING"
	fi
	if [ -z "${VAULT_TPM_LOG:-}" ]; then
		ktap_skip "the guest has no TPM (run-guest with VAULT_TPM=0)"
	fi
	if [ ! -c "$TPM_DEVICE" ]; then
		# A kernel built without TPM support (the debug kernel of make
		# check-debug) cannot use it: not a failure of the TPM path.
		if [ ! -d /sys/class/tpm ] && ! modinfo tpm_crb >/dev/null 2>&1; then
			ktap_skip "this kernel has no TPM driver (CONFIG_TCG_TPM, CONFIG_TCG_CRB)"
		fi
		ktap_fail_all "run-guest started a TPM but the guest has no $TPM_DEVICE (tpm_crb)"
	fi
	need_cmd tpm2_clear tpm2_pcrextend tpm2_pcrread tpm2_dictionarylockout
	export TPM2TOOLS_TCTI=device:$TPM_DEVICE
}

tpm_reset() {
	TPM2TOOLS_TCTI=device:$TPM_DEVICE tpm2_clear -c l >/dev/null || {
		ktap_diag "tpm2_clear failed"
		return 1
	}
	TPM2TOOLS_TCTI=device:$TPM_DEVICE tpm2_dictionarylockout -c >/dev/null || {
		ktap_diag "tpm2_dictionarylockout -c failed"
		return 1
	}
}

tpm_pcr_extend() {
	local n=${1:?tpm_pcr_extend N} s1 s256
	s1=$(od -An -N20 -tx1 /dev/urandom | tr -d ' \n')
	s256=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
	TPM2TOOLS_TCTI=device:$TPM_DEVICE tpm2_pcrextend "$n:sha1=$s1,sha256=$s256"
}

tpm_pcr() {
	local n=${1:?tpm_pcr N} v
	v=$(TPM2TOOLS_TCTI=device:$TPM_DEVICE tpm2_pcrread "sha256:$n" |
		sed -n 's/^ *[0-9]* *: *0x\([0-9A-Fa-f]*\)$/\1/p')
	[ ${#v} -eq 64 ] || { ktap_diag "cannot read PCR $n"; return 1; }
	echo "${v,,}"
}

# _tpm_log_raw: the whole log, read past the cache (O_DIRECT).
_tpm_log_raw() {
	[ -r "${VAULT_TPM_LOG:-}" ] || { ktap_diag "no TPM log (VAULT_TPM_LOG=${VAULT_TPM_LOG:-})"; return 125; }
	dd if="$VAULT_TPM_LOG" iflag=direct bs=1M status=none
}

# Few processes: each costs a lot under TCG.
tpm_log_mark() {
	local out
	[ -r "${VAULT_TPM_LOG:-}" ] || { ktap_diag "no TPM log (VAULT_TPM_LOG=${VAULT_TPM_LOG:-})"; return 125; }
	out=$(dd if="$VAULT_TPM_LOG" iflag=direct bs=1M of=/dev/null 2>&1) || return 125
	[[ $out =~ ([0-9]+)\ bytes ]] || return 125
	echo "${BASH_REMATCH[1]}"
}

# swtpm (level 4) writes "SWTPM_IO_Read: length N" (a command),
# "SWTPM_IO_Write: length N" (the response) and " Ctrl Cmd: length N", each
# followed by lines of hex bytes; any other line ends the message.  Marks
# fall between lines (the TPM is idle when a test takes one): the lines
# starting in [FROM, TO) count.
tpm_log_messages() {
	local ps
	_tpm_log_raw | LC_ALL=C awk -v from="${1:-0}" -v to="${2:--1}" '
		function flush() { if (kind != "") print kind, hex; kind = ""; hex = "" }
		{ start = pos; pos += length($0) + 1 }
		start < from { next }
		to >= 0 && start >= to { exit }
		/^ ?SWTPM_IO_Read: length/ { flush(); kind = "C"; next }
		/^ ?SWTPM_IO_Write: length/ { flush(); kind = "R"; next }
		/^ ?Ctrl Cmd: length/ { flush(); kind = "X"; next }
		kind != "" && /^ ([0-9A-Fa-f][0-9A-Fa-f] )*[0-9A-Fa-f][0-9A-Fa-f] ?$/ {
			line = $0; gsub(/ /, "", line); hex = hex tolower(line); next
		}
		{ flush() }
		END { flush() }'
	ps=("${PIPESTATUS[@]}")
	# dd ends with SIGPIPE (141) when awk stops at TO
	case ${ps[0]} in 0|141) ;; *) return 125 ;; esac
	return "${ps[1]}"
}

tpm_log_contains() {
	local ps
	tpm_log_messages "${2:-0}" "${3:-}" | _tpm_messages_contain "${1:?tpm_log_contains HEX}"
	ps=("${PIPESTATUS[@]}")
	# found: grep stopped reading (the reader may have died of SIGPIPE);
	# not found counts only when the whole log was read
	[ "${ps[1]}" = 0 ] && return 0
	[ "${ps[0]}" = 0 ] || return 125
	return "${ps[1]}"
}

# _tpm_messages_contain HEX < MESSAGES (tpm_log_messages' output)
_tpm_messages_contain() {
	local hex=${1//[[:space:]]/}
	hex=${hex,,}
	local rc
	# 125, not 1 or 2: a broken search must not pass as "not found" (not)
	[[ $hex =~ ^([0-9a-f][0-9a-f])+$ ]] || { ktap_diag "tpm_log_contains: not hex: $1"; return 125; }
	grep -qE "^[CRX] ([0-9a-f][0-9a-f])*$hex"
	rc=$?
	[ "$rc" -le 1 ] || return 125
	return "$rc"
}

tpm_log_commands() {
	local cc=${1:?tpm_log_commands CC}
	cc=$(printf '%08x' "$((16#$cc))")
	# header: tag (4 hex digits), size (8), command code (8)
	tpm_log_messages "${2:-0}" "${3:-}" | grep -cE "^C [0-9a-f]{12}$cc" || true
}

# The response after a TPM2_Unseal command (0x15e) is its own: the kernel's
# resource manager sends its context loads and saves before and after it.
# Response: tag, size, rc (0 = success); with sessions (tag 8002) the
# parameter size; then TPM2B_SENSITIVE_DATA (2-byte size, data).
tpm_log_unsealed() {
	tpm_log_messages "${1:-0}" "${2:-}" | awk '
		$1 == "C" { unseal = (substr($2, 13, 8) == "0000015e"); next }
		$1 == "R" && unseal {
			unseal = 0
			h = $2
			if (substr(h, 13, 8) != "00000000") next
			at = substr(h, 1, 4) == "8002" ? 29 : 21
			n = 0
			for (i = 0; i < 4; i++)
				n = n * 16 + index("0123456789abcdef", substr(h, at + i, 1)) - 1
			if (n > 0) print substr(h, at + 4, 2 * n)
		}'
}

# tpm_token_secret DEV TOKEN_ID [PIN]: unseal the secret of DEV's systemd-tpm2
# token TOKEN_ID with tpm2-tools, independently of vaultctl and systemd, and
# print it as hex.  The object (tpm2-blob: TPM2B_PRIVATE then TPM2B_PUBLIC)
# is loaded under the primary key systemd derives for tpm2-primary-alg "ecc"
# (tpm2-tools' default ECC template is the same), and unsealed in an
# unsalted policy session that encrypts nothing: PolicyPCR over the token's
# PCRs as they are now, then PolicyAuthValue with sha256(PIN) when the token
# has a PIN, as systemd 252 builds its policy.  So its TPM2_Unseal response
# carries the secret in the clear: a positive control for the bus log, and,
# run on a running system whose PCR 15 was extended after unlocking, the
# attempt that must fail.  Returns non-zero (and says why) when the TPM
# refuses.  The keyslot's passphrase is base64 of the secret.
tpm_token_secret() {
	local dev=${1:?tpm_token_secret DEV TOKEN_ID [PIN]} id=${2:?} pin=${3-} d rc=1 sel auth
	d=$(mktemp -d /tmp/tpm-token.XXXXXX) || return 1
	(
		# diagnostics on stderr: stdout is the secret
		exec 3>&1 1>&2
		cd "$d" || exit 1
		DM_DISABLE_UDEV=1 cryptsetup --disable-locks token export --token-id "$id" "$dev" >tok.json ||
			{ ktap_diag "cannot export token $id of $dev"; exit 1; }
		sel=$(/usr/bin/python3 -c '
import base64, json, sys
t = json.load(open("tok.json"))
if t.get("type") != "systemd-tpm2": sys.exit("not a systemd-tpm2 token")
if t.get("tpm2-primary-alg", "ecc") != "ecc": sys.exit("only tpm2-primary-alg ecc is handled")
b = base64.b64decode(t["tpm2-blob"])
n = int.from_bytes(b[:2], "big")
open("priv", "wb").write(b[:2 + n])
open("pub", "wb").write(b[2 + n:])
print("%s:%s %s" % (t.get("tpm2-pcr-bank", "sha256"),
                    ",".join(str(p) for p in t["tpm2-pcrs"]), int(bool(t.get("tpm2-pin")))))
') || { ktap_diag "token $id of $dev cannot be read"; exit 1; }
		auth=session:ps.ctx
		if [ "${sel#* }" = 1 ]; then
			[ -n "$pin" ] || { ktap_diag "token $id has a PIN: give it"; exit 1; }
			auth+="+hex:$(printf '%s' "$pin" | sha256sum | cut -c1-64)"
		fi
		sel=${sel% *}
		export TPM2TOOLS_TCTI=device:$TPM_DEVICE
		tpm2_createprimary -Q -C o -G ecc256:aes128cfb -c prim.ctx >out 2>&1 &&
			tpm2_load -Q -C prim.ctx -u pub -r priv -c obj.ctx >>out 2>&1 &&
			tpm2_startauthsession --policy-session -S ps.ctx >>out 2>&1 || {
			ktap_diag "cannot load token $id's object:"
			ktap_diag_stream <out
			exit 1
		}
		{ [ -z "${sel#*:}" ] || tpm2_policypcr -Q -S ps.ctx -l "$sel" >>out 2>&1; } &&
			{ [ "$auth" = session:ps.ctx ] || tpm2_policyauthvalue -Q -S ps.ctx >>out 2>&1; } &&
			tpm2_unseal -c obj.ctx -p "$auth" -o secret >>out 2>&1
		rc=$?
		tpm2_flushcontext ps.ctx >/dev/null 2>&1
		if [ "$rc" != 0 ]; then
			ktap_diag "the TPM refuses to unseal token $id ($sel):"
			ktap_diag_stream <out
			exit 1
		fi
		od -An -v -tx1 secret | tr -d ' \n' >&3
	)
	rc=$?
	rm -rf "$d"
	return "$rc"
}

# tpm_hex STRING: the bytes of STRING as hex (for tpm_log_contains).
tpm_hex() {
	printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'
}

# tpm_bus_hidden DESC SECRET_HEX PIN FROM TO: the checks of the bus proof
# on the traffic between two marks: it holds a TPM2_Unseal (the unseal went
# through the logged TPM), and neither the secret, its base64 (the keyslot
# passphrase), the PIN nor sha256(PIN) (PIN "" when there is none).
tpm_bus_hidden() {
	local desc=$1 secret=$2 pin=$3 from=$4 to=$5 b64 m
	b64=$(printf '%s' "$secret" | /usr/bin/python3 -c '
import base64, sys; sys.stdout.write(base64.b64encode(bytes.fromhex(sys.stdin.read())).decode())')
	m=$(mktemp /tmp/tpm-messages.XXXXXX) || return 1
	tpm_log_messages "$from" "$to" >"$m"
	ktap_check "$desc: its traffic holds a TPM2_Unseal" \
		grep -qE '^C [0-9a-f]{12}0000015e' "$m"
	ktap_check "$desc: the secret is not in its traffic" \
		not _tpm_messages_contain "$secret" <"$m"
	ktap_check "$desc: nor its base64 (the keyslot passphrase)" \
		not _tpm_messages_contain "$(tpm_hex "$b64")" <"$m"
	if [ -n "$pin" ]; then
		ktap_check "$desc: nor the PIN" \
			not _tpm_messages_contain "$(tpm_hex "$pin")" <"$m"
		ktap_check "$desc: nor sha256(PIN)" \
			not _tpm_messages_contain "$(printf '%s' "$pin" | sha256sum | cut -c1-64)" <"$m"
	fi
	rm -f "$m"
}
