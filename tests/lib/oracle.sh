# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/lib/oracle.sh - dm-crypt as the oracle for what vault put on disk.
#
# Source it after ktap.sh.  A round trip through vault alone cannot catch a
# bug made the same way on write and read (a wrong IV, a wrong key, no
# encryption at all); reading the lower device through dm-crypt, which
# vault does not control, can.
#
#   oracle_check DESC TABLE KEYFILE EXPECTED [MARKER...]
#       TABLE is the vault table line the test gave dmsetup (not what vault
#       reports back), KEYFILE the raw key the vault key was loaded from.
#       The lower device named in TABLE is mapped read-only through dm-crypt
#       with the same cipher, key, iv_offset, offset, sector_size and
#       iv_large_sectors; then, as ktap checks:
#         "DESC: dm-crypt reads the same" - every sector equals EXPECTED:
#             the vault device (what vault returns), or a file of the
#             plaintext written (compared over the file's length when it
#             is shorter than the volume);
#         "DESC: lower device holds no plaintext" - no 512-byte sector of
#             the lower data area equals its plaintext, and each MARKER
#             (a string the test wrote) is absent from the lower device but
#             present in the plaintext.
#       The vault device may stay mapped; it should be idle.
#   oracle_check_luks DESC LOWER KEYFILE EXPECTED [MARKER...]
#       The same for a LUKS2 volume: cryptsetup opens it (read-only) from
#       its header with the passphrase or key file KEYFILE.
#   oracle_crypt_table TABLE KEYFILE
#       Print the dm-crypt table line for a vault TABLE.
#
# The first oracle_check in a test also runs positive controls on the first
# 256 KiB, which must report a mismatch: the same table with one key bit
# flipped and with iv_offset one encryption sector off (a cipher without an
# IV skips that one), and the plaintext detector fed EXPECTED as the lower
# device.  ORACLE_CONTROLS=0 turns them off, 1 runs them on every call.
# ORACLE_CHUNK=BYTES sets the size of each read (default 1 MiB).

ORACLE_PY=$VAULT_REPO/tests/lib/oracle.py
ORACLE_N=0
: "${ORACLE_CONTROLS:=once}"

oracle_hex() {
	od -An -v -tx1 "$1" | tr -d ' \n'
}

# oracle_crypt_table TABLE KEYFILE: the dm-crypt line for a vault TABLE
oracle_crypt_table() {
	local -a f keep=()
	local key=- opt i
	read -r -a f <<< "$1"
	if [ "${f[2]}" != vault ]; then
		echo "oracle: not a vault table: $1" >&2
		return 1
	fi
	if [ "${f[4]}" != - ]; then
		key=$(oracle_hex "$2") || return 1
		[ -n "$key" ] || return 1
	fi
	# only what decides the ciphertext; the data-path options do not
	for ((i = 9; i < ${#f[@]}; i++)); do
		opt=${f[i]}
		case $opt in sector_size:* | iv_large_sectors) keep+=("$opt") ;; esac
	done
	printf '%s %s crypt %s %s %s %s %s' "${f[0]}" "${f[1]}" "${f[3]}" \
		"$key" "${f[5]}" "${f[6]}" "${f[7]}"
	[ ${#keep[@]} -gt 0 ] && printf ' %d %s' ${#keep[@]} "${keep[*]}"
	echo
}

# oracle_mutate CRYPT_LINE KEY_XOR IV_DELTA: the line with the first key
# byte XORed and iv_offset moved (controls that must fail)
oracle_mutate() {
	local -a f
	read -r -a f <<< "$1"
	[ "$2" != 0 ] && [ "${f[4]}" != - ] &&
		f[4]=$(printf '%02x' $((0x${f[4]:0:2} ^ $2)))${f[4]:2}
	f[5]=$((f[5] + $3))
	echo "${f[*]}"
}

# oracle_sector TABLE: the encryption sector size in 512-byte units
oracle_sector() {
	local ss=512 w
	for w in $1; do
		case $w in sector_size:*) ss=${w#sector_size:} ;; esac
	done
	echo $((ss / 512))
}

# oracle_lower TABLE: "DEVICE OFFSET_BYTES LENGTH_BYTES"
oracle_lower() {
	local -a f
	local dev
	read -r -a f <<< "$1"
	dev=${f[6]}
	# no udev in the guest, so no /dev/block links
	[[ $dev == *:* ]] &&
		dev=/dev/$(sed -n 's/^DEVNAME=//p' "/sys/dev/block/$dev/uevent")
	echo "$dev $((f[7] * 512)) $((f[1] * 512))"
}

# oracle_run VIEW EXPECTED LOWER OFF LEN [MARKER...]: oracle.py's output
oracle_run() {
	python3 "$ORACLE_PY" "$@" 2>&1
}

# oracle_field OUTPUT KEY: the first number after KEY
oracle_field() {
	awk -v k="$2" '$1 == k { print $2; exit }' <<< "$1"
}

# oracle_map NAME CRYPT_LINE: a read-only dm-crypt mapping
oracle_map() {
	DM_DISABLE_UDEV=1 dmsetup create "$1" --readonly --table "$2" \
		>/dev/null || return 1
	ktap_defer oracle_unmap "$1"
}

oracle_unmap() {
	DM_DISABLE_UDEV=1 dmsetup remove --retry "$1" >/dev/null 2>&1
}

# oracle_flush DEV...: written data on the device, page cache dropped
oracle_flush() {
	local d
	sync
	for d in "$@"; do
		[ -b "$d" ] && blockdev --flushbufs "$d" 2>/dev/null
	done
	return 0
}

# oracle_controls CRYPT_LINE EXPECTED LOWER OFF LEN: each control must bite
oracle_controls() {
	local line=$1 exp=$2 low=$3 off=$4 len=$5 name=oracle-$$-ctl out n ok=1
	local -a f
	read -r -a f <<< "$line"
	[ "$len" -gt $((256 << 10)) ] && len=$((256 << 10))

	if [ "${f[4]}" != - ]; then
		oracle_map $name "$(oracle_mutate "$line" 1 0)" || return 1
		out=$(oracle_run /dev/mapper/$name "$exp" "$low" "$off" "$len")
		oracle_unmap $name
		n=$(oracle_field "$out" mismatch)
		[ "${n:-0}" -gt 0 ] || { ktap_diag "control: a wrong key went unnoticed"; ok=0; }
	fi
	case ${f[3]} in
	*-ecb* | *ecb\(* | *cipher_null*) ;;	# no IV to get wrong
	*)
		oracle_map $name "$(oracle_mutate "$line" 0 "$(oracle_sector "$line")")" ||
			return 1
		out=$(oracle_run /dev/mapper/$name "$exp" "$low" "$off" "$len")
		oracle_unmap $name
		n=$(oracle_field "$out" mismatch)
		[ "${n:-0}" -gt 0 ] ||
			{ ktap_diag "control: iv_offset one sector off went unnoticed"; ok=0; }
		;;
	esac
	# plaintext where the lower device should be must be found
	out=$(oracle_run "$exp" "$exp" "$exp" 0 "$len")
	n=$(oracle_field "$out" plain)
	[ "${n:-0}" -gt 0 ] || { ktap_diag "control: plaintext went unnoticed"; ok=0; }
	[ $ok = 1 ]
}

# oracle_controls_once DESC CRYPT_LINE EXPECTED LOWER OFF LEN
oracle_controls_once() {
	local desc=$1
	shift
	[ "$ORACLE_CONTROLS" = 0 ] && return 0
	[ "$ORACLE_CONTROLS" = once ] && ORACLE_CONTROLS=0
	if oracle_controls "$@"; then
		ktap_pass "$desc: oracle controls (wrong key, wrong IV, plaintext) caught"
	else
		ktap_fail "$desc: oracle controls (wrong key, wrong IV, plaintext) caught"
	fi
}

# oracle_compare DESC VIEW EXPECTED LOWER OFF LEN [MARKER...]
oracle_compare() {
	local desc=$1 view=$2 exp=$3 low=$4 off=$5 len=$6 out n m ok=1
	shift 6
	out=$(oracle_run "$view" "$exp" "$low" "$off" "$len" "$@")
	n=$(oracle_field "$out" mismatch)
	if [ -z "$n" ]; then
		ktap_fail "$desc: oracle.py failed"
		ktap_diag_stream <<< "$out"
		return 1
	fi
	if [ "$n" = 0 ]; then
		ktap_pass "$desc: dm-crypt reads the same ($(oracle_field "$out" length) bytes)"
	else
		ktap_fail "$desc: dm-crypt reads the same"
		ktap_diag "$(grep '^mismatch' <<< "$out") (512-byte sectors differing, first ones)"
		ok=0
	fi
	n=$(oracle_field "$out" plain)
	if [ "$n" != 0 ]; then
		ktap_diag "$(grep '^plain' <<< "$out") (sectors stored in plaintext)"
		ok=2
	fi
	while read -r _ m lo pl; do
		if [ "$lo" != 0 ] || [ "$pl" = 0 ]; then
			ktap_diag "marker $m: $lo on the lower device, $pl in the plaintext"
			ok=2
		fi
	done < <(grep '^marker' <<< "$out")
	if [ $ok = 2 ]; then
		ktap_fail "$desc: lower device holds no plaintext"
		return 1
	fi
	ktap_pass "$desc: lower device holds no plaintext"
	[ $ok = 1 ]
}

oracle_check() {
	local desc=$1 table=$2 keyf=$3 exp=$4 low off len line rc
	local name=oracle-$$-$((ORACLE_N += 1))
	shift 4
	read -r low off len <<< "$(oracle_lower "$table")"
	if ! line=$(oracle_crypt_table "$table" "$keyf"); then
		ktap_fail "$desc: dm-crypt table for the vault table"
		return 1
	fi
	oracle_flush "$exp" "$low"
	oracle_controls_once "$desc" "$line" "$exp" "$low" "$off" "$len"
	if ! oracle_map "$name" "$line"; then
		ktap_fail "$desc: dm-crypt mapping of the lower device"
		return 1
	fi
	oracle_compare "$desc" /dev/mapper/$name "$exp" "$low" "$off" "$len" "$@"
	rc=$?
	oracle_unmap "$name"
	return $rc
}

oracle_check_luks() {
	local desc=$1 low=$2 keyf=$3 exp=$4 line off len rc
	local name=oracle-$$-$((ORACLE_N += 1))
	shift 4
	oracle_flush "$exp" "$low"
	if ! cryptsetup open --readonly --disable-keyring --key-file "$keyf" "$low" "$name"; then
		ktap_fail "$desc: cryptsetup open of the LUKS2 volume"
		return 1
	fi
	ktap_defer cryptsetup close "$name"
	# cryptsetup's own reading of the header gives the data area and key
	line=$(DM_DISABLE_UDEV=1 dmsetup table --showkeys "$name")
	len=$(($(awk '{ print $2 }' <<< "$line") * 512))
	off=$(($(awk '{ print $8 }' <<< "$line") * 512))
	oracle_controls_once "$desc" "$line" "$exp" "$low" "$off" "$len"
	oracle_compare "$desc" /dev/mapper/$name "$exp" "$low" "$off" "$len" "$@"
	rc=$?
	cryptsetup close "$name"
	return $rc
}
