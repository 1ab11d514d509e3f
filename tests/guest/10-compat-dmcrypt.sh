#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Ciphertext compatibility with dm-crypt, cryptsetup being the oracle.
#
# For each cipher/parameter case, on two ramdisks A and B:
#   1. random plaintext written through vault onto A, read back through
#      `cryptsetup open --type plain` on A: must equal the plaintext;
#   2. the same plaintext written through dm-crypt onto B: the raw bytes of
#      A and B in the data area must be identical (and differ from the
#      plaintext), i.e. both targets produce the same ciphertext;
#   3. B (written by dm-crypt) read through vault: must equal the plaintext.
# One more case maps with `vaultctl open --type plain` instead of dmsetup.
# IV sector numbers beyond 32 bits for every 64-bit IV mode (plain64,
# plain64be, essiv) come from an iv_offset above 2^32.
#
# Then the data path: for each option set (same_cpu_crypt, the workqueue
# options, 4096-byte sectors) large writes (bios vault splits across CPUs)
# and random small writes (unsplit) through vault, read back through
# dm-crypt (tests/lib/oracle.sh) and through vault, in 1 MiB reads (split)
# or in 4 KiB reads.
. "${VAULT_REPO:?}/tests/lib/ktap.sh"
. "$VAULT_REPO/tests/lib/oracle.sh"

T=t10
MIB=4				# data area of each case
LEN=$((MIB * 2048))		# in 512-byte sectors
export DM_DISABLE_UDEV=1
WORK=$(mktemp -d /tmp/$T.XXXXXX)

cleanup() {
	local d
	for d in $T-vault $T-crypt; do
		dmsetup remove --retry "$d" >/dev/null 2>&1
	done
	for d in $(vault_key_names "$T-"); do
		"$VAULTCTL" key remove "$d" >/dev/null 2>&1
	done
	rm -rf "$WORK"
}
ktap_defer cleanup

need_vaultctl
vault_setup_module || ktap_fail_all "dm-vault.ko cannot be loaded"
need_cmd cryptsetup dmsetup cmp fio python3
brd_setup 2 $((MIB + 4)) || ktap_fail_all "cannot create ramdisks"
A=/dev/ram0
B=/dev/ram1

# Process start-up dominates under TCG: each step is one process, and the
# data is compared with cmp rather than hashed.
head -c $((MIB << 20)) /dev/urandom > "$WORK/plain"
write_dev() { dd if="$WORK/plain" of="$1" bs=1M oflag=direct conv=fsync status=none; }
same_as_plain() { cmp -s -n $((MIB << 20)) "$1" "$WORK/plain"; }

# crypt_open DEVICE CIPHER BITS IVOFF OFF SS LARGE
crypt_open() {
	local args=(--type plain --cipher "$2" --key-size "$3" --key-file "$WORK/key"
		    --skip "$4" --offset "$5" --size "$LEN" --batch-mode)
	[ "$6" != 512 ] && args+=(--sector-size "$6")
	[ "$7" = 1 ] && args+=(--iv-large-sectors)
	cryptsetup open "${args[@]}" "$1" $T-crypt
}

# vault_table DEVICE CIPHER KEYNAME IVOFF OFF SS LARGE
vault_table() {
	local opts=()
	[ "$6" != 512 ] && opts+=("sector_size:$6")
	[ "$7" = 1 ] && opts+=(iv_large_sectors)
	local line="0 $LEN vault $2 key:$3 $4 $1 $5"
	[ ${#opts[@]} -gt 0 ] && line+=" ${#opts[@]} ${opts[*]}"
	echo "$line"
}

# run_case NAME CIPHER BITS IVOFF OFF SS LARGE [vaultctl]
run_case() {
	local name=$1 cipher=$2 bits=$3 ivoff=$4 off=$5 ss=$6 large=$7 via=${8:-dmsetup}
	local key=$T-$name bytes=$((LEN * 512)) skip=$(($5 * 512))
	local vopts=() t0=$SECONDS

	# A fresh random key per case: ciphertext left by an earlier case can
	# never make a comparison pass, so the disks need no wiping.
	head -c $((bits / 8)) /dev/urandom > "$WORK/key"

	# 1. vault writes A, dm-crypt reads A
	if [ "$via" = vaultctl ]; then
		vopts=(--type plain --cipher "$cipher" --key-size "$bits"
		       --key-file "$WORK/key" --iv-offset "$ivoff" --offset "$off"
		       --size "$LEN")
		[ "$ss" != 512 ] && vopts+=(--sector-size "$ss")
		[ "$large" = 1 ] && vopts+=(--iv-large-sectors)
		"$VAULTCTL" open "${vopts[@]}" $A $T-vault ||
			{ ktap_fail "$name: vaultctl open"; return; }
	else
		"$VAULTCTL" key add "$key" --key-file "$WORK/key" --key-size "$bits" ||
			{ ktap_fail "$name: vaultctl key add"; return; }
		dmsetup create $T-vault --table "$(vault_table $A "$cipher" "$key" "$ivoff" "$off" "$ss" "$large")" ||
			{ ktap_fail "$name: dmsetup create vault"; return; }
	fi
	write_dev /dev/mapper/$T-vault || { ktap_fail "$name: write through vault"; return; }
	dmsetup remove $T-vault || { ktap_fail "$name: remove vault"; return; }
	crypt_open $A "$cipher" "$bits" "$ivoff" "$off" "$ss" "$large" ||
		{ ktap_fail "$name: cryptsetup open (A)"; return; }
	ktap_check "$name: written by vault, read by dm-crypt" same_as_plain /dev/mapper/$T-crypt
	cryptsetup close $T-crypt

	# 2. dm-crypt writes B; the ciphertext areas must be identical
	crypt_open $B "$cipher" "$bits" "$ivoff" "$off" "$ss" "$large" ||
		{ ktap_fail "$name: cryptsetup open (B)"; return; }
	write_dev /dev/mapper/$T-crypt
	cryptsetup close $T-crypt
	ktap_check "$name: ciphertext on disk identical" \
		cmp -s -n "$bytes" -i "$skip" $A $B
	ktap_check "$name: ciphertext differs from plaintext" \
		not cmp -s -n "$bytes" -i "$skip:0" $A "$WORK/plain"

	# 3. vault reads B (written by dm-crypt)
	if [ "$via" = vaultctl ]; then
		"$VAULTCTL" open "${vopts[@]}" $B $T-vault ||
			{ ktap_fail "$name: vaultctl open (B)"; return; }
	else
		dmsetup create $T-vault --table "$(vault_table $B "$cipher" "$key" "$ivoff" "$off" "$ss" "$large")" ||
			{ ktap_fail "$name: dmsetup create vault (B)"; return; }
	fi
	ktap_check "$name: written by dm-crypt, read by vault" same_as_plain /dev/mapper/$T-vault
	dmsetup remove $T-vault
	[ "$via" = vaultctl ] || "$VAULTCTL" key remove "$key"
	ktap_diag "$name: $((SECONDS - t0)) s"
}

#        name            cipher                          bits ivoff       off ss   large
run_case xts-512         aes-xts-plain64                 512  0           0   512  0
run_case xts-512-offsets aes-xts-plain64                 512  12345       7   512  0
run_case xts-4k-offsets  aes-xts-plain64                 512  24          16  4096 0
run_case xts-4k-large    aes-xts-plain64                 512  0           0   4096 1
run_case xts-4k-large-off aes-xts-plain64                512  4096        8   4096 1
run_case xts-1k          aes-xts-plain64                 256  2           0   1024 0
run_case capi-xts        'capi:xts(aes)-plain64'         512  0           0   512  0
run_case cbc-essiv       aes-cbc-essiv:sha256            256  0           0   512  0
run_case cbc-essiv-4k    aes-cbc-essiv:sha256            256  64          8   4096 0
run_case adiantum        xchacha12,aes-adiantum-plain64  256  0           0   512  0
run_case cbc-plain64be   aes-cbc-plain64be               256  77          0   512  0
# plain is the low 32 bits of the sector: start just below 2^32 to wrap
run_case cbc-plain-wrap  aes-cbc-plain                   256  4294967200  0   512  0
run_case vaultctl-open   aes-xts-plain64                 512  40          8   4096 0 vaultctl
# 64-bit IVs: the sector number crosses 2^32 inside the volume, or is
# beyond 2^37 (counted in 4096-byte units)
run_case xts-iv32        aes-xts-plain64                 512  4294967200  0   512  0
run_case xts-iv40-4k     aes-xts-plain64                 512  1099511627000 8 4096 1
run_case plain64be-iv32  aes-cbc-plain64be               256  4294967200  0   512  0
run_case essiv-iv32-4k   aes-cbc-essiv:sha256            256  4294967200  8   4096 0

# ---- the data path against dm-crypt: every option, split and unsplit bios
head -c 64 /dev/urandom > "$WORK/key"
"$VAULTCTL" key add $T-dp --key-file "$WORK/key" --key-size 512 ||
	ktap_fail_all "vaultctl key add $T-dp"
# datapath NAME OPTS MINBS CHUNK: CHUNK is the size of the oracle's reads
datapath() {
	local name=$1 opts=$2 min=$3 chunk=$4 t0=$SECONDS
	local table="0 $LEN vault aes-xts-plain64 key:$T-dp 0 $A 0${opts:+ $opts}"
	dmsetup create $T-vault --table "$table" ||
		{ ktap_fail "$name: dmsetup create"; return; }
	# 1 MiB writes: vault cuts them into pieces for other CPUs (unless
	# same_cpu_crypt); then random writes of MINBS..256 KiB, most small
	write_dev /dev/mapper/$T-vault
	timeout 120 fio --name=small --filename=/dev/mapper/$T-vault \
		--ioengine=libaio --direct=1 --rw=randwrite --iodepth=8 \
		--bssplit="$min/40:16k/30:64k/20:256k/10" --number_ios=400 \
		--size=$((MIB << 20)) --randrepeat=0 --output=/dev/null ||
		ktap_fail "$name: fio random small writes"
	ORACLE_CHUNK=$chunk oracle_check "$name, $chunk-byte reads" "$table" \
		"$WORK/key" /dev/mapper/$T-vault
	dmsetup remove $T-vault
	ktap_diag "$name: $((SECONDS - t0)) s"
}
# (the default is no_read_workqueue no_write_workqueue)
datapath default      ""                                  512 1048576
datapath same-cpu     "1 same_cpu_crypt"                  512 4096
datapath workqueues   "2 read_workqueue write_workqueue"  512 1048576
datapath 4k-same-cpu-workqueues \
	"4 sector_size:4096 same_cpu_crypt read_workqueue write_workqueue" 4k 4096
"$VAULTCTL" key remove $T-dp

ktap_finish
