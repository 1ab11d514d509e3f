#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Malformed table lines: `dmsetup create` must fail for each, the kernel log
# must carry the target's specific reason ("vault: <error>", matched by a
# distinctive, case-insensitive pattern per case), no mapping may be left
# behind, no oops may happen, and the module must work normally afterwards.
. "${VAULT_REPO:?}/tests/lib/ktap.sh"

T=t40
export DM_DISABLE_UDEV=1
WORK=$(mktemp -d /tmp/$T.XXXXXX)

cleanup() {
	local k
	dmsetup remove --retry $T-bad >/dev/null 2>&1
	dmsetup remove --retry $T-ok >/dev/null 2>&1
	for k in $T-k64 $T-k32 $T-k20 $T-k16; do
		"$VAULTCTL" key remove "$k" >/dev/null 2>&1
	done
	rm -rf "$WORK"
}
ktap_defer cleanup

need_vaultctl
vault_setup_module || ktap_fail_all "dm-vault.ko cannot be loaded"
need_cmd dmsetup
brd_setup 1 16 || ktap_fail_all "cannot create a ramdisk"
DEV=/dev/ram0			# 16 MiB = 32768 sectors
DEVSZ=32768

for n in 64 32 20 16; do
	head -c $n /dev/urandom > "$WORK/k$n"
	"$VAULTCTL" key add $T-k$n --key-file "$WORK/k$n" --key-size $((n * 8)) ||
		ktap_fail_all "vaultctl key add $T-k$n"
done
HEXKEY=$(od -An -tx1 -v "$WORK/k64" | tr -d ' \n')
K=key:$T-k64

# The kernel log is followed by a background reader of /dev/kmsg, so a case
# costs one dmsetup process and bash builtins (process start-up dominates
# under TCG).  KLOG_SEEN counts the lines already looked at.
cat /dev/kmsg > "$WORK/kmsg" 2>/dev/null &
KMSG_PID=$!
ktap_defer kill $KMSG_PID
KLOG_SEEN=0
KLOG_NEW=()
# klog_wait PATTERN: collect new kernel log lines into KLOG_NEW until one
# matches PATTERN (extended regex, case-insensitive) or 3 s have passed.
klog_wait() {
	local pattern=$1 i l lines
	KLOG_NEW=()
	shopt -s nocasematch
	for ((i = 0; i < 30; i++)); do
		mapfile -t -s "$KLOG_SEEN" lines < "$WORK/kmsg"
		KLOG_SEEN=$((KLOG_SEEN + ${#lines[@]}))
		KLOG_NEW+=("${lines[@]}")
		for l in "${lines[@]}"; do
			if [[ $l =~ vault:\ .*($pattern) ]]; then
				shopt -u nocasematch
				return 0
			fi
		done
		read -r -t 0.1 <> <(:) 2>/dev/null
	done
	shopt -u nocasematch
	return 1
}
klog_wait 'no such line ever' # skip what is already in the log

# bad NAME PATTERN LEN TABLE-ARGS...: the table (after "<start> <len> vault")
# is given as separate words so that tricky ones need no quoting games.
# dmsetup create must exit 1 within 30 s with the table load refused, and
# the kernel log say why (PATTERN).
bad() {
	local name=$1 pattern=$2 len=$3
	shift 3
	local line="0 $len vault $*" rc

	timeout 30 dmsetup create $T-bad --table "$line" >"$WORK/out" 2>&1
	rc=$?
	if [ $rc = 0 ]; then
		ktap_fail "$name: accepted: $line"
		dmsetup remove $T-bad
		return
	fi
	# refused by the kernel (the table load), not by dmsetup or a time-out
	if [ $rc != 1 ] || ! [[ $(<"$WORK/out") =~ ioctl\ on\ $T-bad\ .*failed ]]; then
		ktap_diag "$name: table: $line"
		ktap_diag "$name: exit $rc$(ktap_rc_meaning $rc), wanted 1 and a failed ioctl:"
		ktap_diag_stream <"$WORK/out"
		ktap_fail "$name"
		return
	fi
	if ! klog_wait "$pattern"; then
		ktap_diag "$name: table: $line"
		ktap_diag "$name: expected /$pattern/ in the kernel log, got:"
		printf '%s\n' "${KLOG_NEW[@]}" | ktap_diag_stream
		ktap_fail "$name"
		return
	fi
	ktap_pass "$name"
}

xts="aes-xts-plain64"

# ---- argument count
bad no-args			'not enough arg'		1024
bad one-arg			'not enough arg'		1024 $xts
bad four-args			'not enough arg'		1024 $xts $K 0 $DEV

# ---- cipher specification
bad cipher-only-name		'expected cipher-chainmode|bad cipher spec'	1024 aes $K 0 $DEV 0
bad cipher-no-ivmode		'IV mechanism required|iv mode'	1024 aes-xts $K 0 $DEV 0
bad cipher-empty-chain		'expected cipher-chainmode|bad cipher spec'	1024 aes--plain64 $K 0 $DEV 0
bad cipher-empty-name		'expected cipher-chainmode|bad cipher spec'	1024 -xts-plain64 $K 0 $DEV 0
bad ivmode-unknown		'unsupported iv mode|unknown iv'	1024 aes-xts-frob $K 0 $DEV 0
bad ivmode-benbi		'unsupported iv mode|unknown iv'	1024 aes-xts-benbi $K 0 $DEV 0
bad ivmode-lmk			'unsupported iv mode|unknown iv'	1024 aes-cbc-lmk $K 0 $DEV 0
bad cipher-unknown		'not available|allocating crypto'	1024 nosuchcipher-xts-plain64 $K 0 $DEV 0
bad chainmode-unknown		'not available|allocating crypto'	1024 aes-nosuchmode-plain64 $K 0 $DEV 0
bad capi-unknown		'not available|allocating crypto'	1024 'capi:frob(aes)-plain64' $K 0 $DEV 0
bad capi-empty			'empty crypto api name'		1024 capi:-plain64 $K 0 $DEV 0
bad api-name-without-capi	'capi'				1024 'xts(aes)-plain64' $K 0 $DEV 0
bad keycount-2			'key count'			1024 aes:2-xts-plain64 $K 0 $DEV 0
bad keycount-junk		'key count'			1024 aes:x-xts-plain64 $K 0 $DEV 0
bad essiv-no-hash		'digest algorithm missing|essiv'	1024 aes-cbc-essiv key:$T-k32 0 $DEV 0
bad essiv-empty-hash		'digest algorithm missing|essiv'	1024 aes-cbc-essiv: key:$T-k32 0 $DEV 0
bad essiv-unknown-hash		'not available|allocating crypto'	1024 aes-cbc-essiv:nosuchhash key:$T-k32 0 $DEV 0
bad ivopts-without-essiv	'only valid with essiv|iv option'	1024 aes-xts-plain64:sha256 $K 0 $DEV 0
bad cbc-without-iv-mode		'IV mechanism required|needs an iv'	1024 'capi:cbc(aes)' key:$T-k32 0 $DEV 0
bad cipher-too-long		'too long|not available|allocating'	1024 "$(printf 'a%.0s' $(seq 200))-xts-plain64" $K 0 $DEV 0

# ---- key
bad hex-key-on-line		'vault-control'			1024 $xts "$HEXKEY" 0 $DEV 0
bad hex-key-short		'vault-control'			1024 $xts 00112233445566778899aabbccddeeff 0 $DEV 0
bad key-ref-garbage		'invalid key reference|key:<name>'	1024 $xts nonsense 0 $DEV 0
bad key-ref-keyring		'invalid key reference|key:<name>'	1024 $xts :64:logon:foo 0 $DEV 0
bad key-name-empty		'invalid key name'		1024 $xts key: 0 $DEV 0
bad key-name-bad-char		'invalid key name'		1024 $xts 'key:a/b' 0 $DEV 0
bad key-name-too-long		'invalid key name'		1024 $xts "key:$(printf 'n%.0s' $(seq 64))" 0 $DEV 0
bad key-unknown			'key not found'			1024 $xts key:$T-nosuchkey 0 $DEV 0
bad key-size-xts-20		'does not fit|key size'		1024 $xts key:$T-k20 0 $DEV 0
bad key-size-xts-16		'does not fit|key size'		1024 $xts key:$T-k16 0 $DEV 0
bad key-size-cbc-64		'does not fit|key size'		1024 aes-cbc-essiv:sha256 $K 0 $DEV 0
bad key-size-adiantum-64	'does not fit|key size'		1024 xchacha12,aes-adiantum-plain64 $K 0 $DEV 0
bad key-empty-for-aes		'does not fit|key size'		1024 $xts - 0 $DEV 0

# ---- iv_offset, device, offset
bad iv-offset-text		'invalid iv_offset'		1024 $xts $K abc $DEV 0
bad iv-offset-negative		'invalid iv_offset'		1024 $xts $K -1 $DEV 0
bad iv-offset-overflow		'invalid iv_offset'		1024 $xts $K 18446744073709551616 $DEV 0
bad iv-offset-trailing		'invalid iv_offset'		1024 $xts $K 12x $DEV 0
bad device-missing		'device lookup failed'		1024 $xts $K 0 /dev/nonexistent 0
bad device-bad-majmin		'device lookup failed'		1024 $xts $K 0 250:250 0
bad device-not-block		'device lookup failed'		1024 $xts $K 0 /dev/null 0
bad offset-text			'invalid device offset'		1024 $xts $K 0 $DEV xyz
bad offset-negative		'invalid device offset'		1024 $xts $K 0 $DEV -8
bad offset-overflow		'invalid device offset|too small'	1024 $xts $K 0 $DEV 18446744073709551615
bad offset-beyond-device	'too small'			1024 $xts $K 0 $DEV $DEVSZ
bad offset-plus-len-beyond	'too small'			1024 $xts $K 0 $DEV $((DEVSZ - 1023))
bad len-beyond-device		'too small'			$((DEVSZ + 8)) $xts $K 0 $DEV 0

# ---- optional arguments
bad opt-unknown			'unknown optional'		1024 $xts $K 0 $DEV 0 1 frobnicate
bad opt-integrity		'unknown optional'		1024 $xts $K 0 $DEV 0 1 integrity:28:aead
bad opt-dmcrypt-only		'unknown optional'		1024 $xts $K 0 $DEV 0 1 submit_from_crypt_cpus
bad opt-count-text		'number of optional'		1024 $xts $K 0 $DEV 0 x allow_discards
bad opt-count-high		'fewer optional'		1024 $xts $K 0 $DEV 0 2 allow_discards
bad opt-count-low		'more arguments'		1024 $xts $K 0 $DEV 0 1 allow_discards same_cpu_crypt
bad opt-count-zero-extra	'more arguments'		1024 $xts $K 0 $DEV 0 0 allow_discards
bad opt-count-negative		'number of optional|fewer'	1024 $xts $K 0 $DEV 0 -1
bad sector-size-1000		'invalid sector_size'		1024 $xts $K 0 $DEV 0 1 sector_size:1000
bad sector-size-256		'invalid sector_size'		1024 $xts $K 0 $DEV 0 1 sector_size:256
bad sector-size-8192		'invalid sector_size'		1024 $xts $K 0 $DEV 0 1 sector_size:8192
bad sector-size-0		'invalid sector_size'		1024 $xts $K 0 $DEV 0 1 sector_size:0
bad sector-size-empty		'invalid sector_size'		1024 $xts $K 0 $DEV 0 1 sector_size:
bad sector-size-text		'invalid sector_size'		1024 $xts $K 0 $DEV 0 1 sector_size:4k
bad len-not-multiple-4096	'not a multiple of sector_size'	1004 $xts $K 0 $DEV 0 1 sector_size:4096
bad len-not-multiple-1024	'not a multiple of sector_size'	1025 $xts $K 0 $DEV 0 1 sector_size:1024
bad iv-large-without-ss		'iv_large_sectors'		1024 $xts $K 0 $DEV 0 1 iv_large_sectors
bad iv-large-bad-iv-offset	'invalid iv_offset'		1024 $xts $K 3 $DEV 0 2 sector_size:4096 iv_large_sectors
bad iv-offset-not-multiple	'invalid iv_offset'		1024 $xts $K 4 $DEV 0 1 sector_size:4096
bad read-wq-conflict		'conflicting options'		1024 $xts $K 0 $DEV 0 2 read_workqueue no_read_workqueue
bad write-wq-conflict		'conflicting options'		1024 $xts $K 0 $DEV 0 2 no_write_workqueue write_workqueue

# ---- nothing broke
ktap_check "no oops or warning in the kernel log" \
	not grep -qE 'BUG:|WARNING:|Oops|KASAN|UBSAN|refcount_t' <<<"$(dmesg)"

head -c $((2 << 20)) /dev/urandom > "$WORK/data"
if dmsetup create $T-ok --table "0 4096 vault $xts $K 0 $DEV 0"; then
	dd if="$WORK/data" of=/dev/mapper/$T-ok bs=1M oflag=direct status=none
	dmsetup remove $T-ok
	dmsetup create $T-ok --table "0 4096 vault $xts $K 0 $DEV 0"
	ktap_check "module still works after the bad tables" \
		cmp -s -n $((2 << 20)) "$WORK/data" /dev/mapper/$T-ok
	dmsetup remove $T-ok
else
	ktap_fail "module still works after the bad tables: create"
fi

# ---- every option: the table line shown re-parses into the same table
ALL="6 allow_discards same_cpu_crypt read_workqueue write_workqueue sector_size:4096 iv_large_sectors"
if dmsetup create $T-ok --table "0 4096 vault $xts $K 8 $DEV 16 $ALL"; then
	shown=$(dmsetup table $T-ok)
	dmsetup remove $T-ok
	ktap_check "table shows every option: $shown" \
		[ "$shown" = "0 4096 vault $xts $K 8 1:0 16 $ALL" ]
	ktap_check "the shown table re-parses" \
		dmsetup create $T-ok --table "$shown"
	ktap_check "and shows the same line again" \
		[ "$(dmsetup table $T-ok)" = "$shown" ]
	dmsetup remove $T-ok
else
	ktap_fail "create with every option"
fi
ktap_check "no mapping left behind" not sh -c "dmsetup ls | grep -q '^$T-'"

ktap_finish
