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
#                        or tpm2-tools fails instead); fail when run-guest
#                        started a TPM but /dev/tpmrm0 is absent.
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
#                        (between FROM and TO), at a byte boundary.
#   tpm_log_commands CC [FROM [TO]]  print how many commands with command code
#                        CC (hex, e.g. 15e for TPM2_Unseal) were logged.
#   tpm_log_unsealed [FROM [TO]]  print, one line each in hex, the data field
#                        of every successful TPM2_Unseal response logged: the
#                        unsealed secret when the session did not encrypt the
#                        response, ciphertext when it did.
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
	[ -c "$TPM_DEVICE" ] ||
		ktap_fail_all "run-guest started a TPM but the guest has no $TPM_DEVICE (tpm_crb)"
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

# _tpm_log_raw [FROM [TO]]: the log's bytes between offsets FROM and TO,
# read past the cache.
_tpm_log_raw() {
	local from=${1:-0} to=${2:-}
	[ -n "${VAULT_TPM_LOG:-}" ] || { ktap_diag "no TPM log (VAULT_TPM_LOG)"; return 1; }
	if [ -n "$to" ]; then
		dd if="$VAULT_TPM_LOG" iflag=direct bs=1M status=none | head -c "$to"
	else
		dd if="$VAULT_TPM_LOG" iflag=direct bs=1M status=none
	fi | tail -c +"$((from + 1))"
}

tpm_log_mark() {
	_tpm_log_raw 0 | wc -c
}

# swtpm (level 4) writes "SWTPM_IO_Read: length N" (a command),
# "SWTPM_IO_Write: length N" (the response) and " Ctrl Cmd: length N", each
# followed by lines of hex bytes; any other line ends the message.
tpm_log_messages() {
	_tpm_log_raw "${1:-0}" "${2:-}" | awk '
		function flush() { if (kind != "") print kind, hex; kind = ""; hex = "" }
		/^ ?SWTPM_IO_Read: length/ { flush(); kind = "C"; next }
		/^ ?SWTPM_IO_Write: length/ { flush(); kind = "R"; next }
		/^ ?Ctrl Cmd: length/ { flush(); kind = "X"; next }
		kind != "" && /^ ([0-9A-Fa-f][0-9A-Fa-f] )*[0-9A-Fa-f][0-9A-Fa-f] ?$/ {
			line = $0; gsub(/ /, "", line); hex = hex tolower(line); next
		}
		{ flush() }
		END { flush() }'
}

tpm_log_contains() {
	local hex=${1:?tpm_log_contains HEX}
	hex=${hex//[[:space:]]/}
	hex=${hex,,}
	[[ $hex =~ ^([0-9a-f][0-9a-f])+$ ]] || { ktap_diag "tpm_log_contains: not hex: $1"; return 2; }
	tpm_log_messages "${2:-0}" "${3:-}" | grep -qE "^[CRX] ([0-9a-f][0-9a-f])*$hex"
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
