# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# common.sh - sourced (after tests/lib/ktap.sh) by the guest halves of
# tests/extended/20-reencrypt-crash.sh: the job and the two resumers.
# JOB / RESUMER is "cryptsetup" or "vaultctl".

export DM_DISABLE_UDEV=1
FAST=(--pbkdf pbkdf2 --pbkdf-force-iterations 1000)
cs() { cryptsetup --disable-locks --batch-mode "$@"; }

# rc_format DEV KEYFILE HDR_MIB: LUKS2, data after HDR_MIB MiB.
rc_format() {
	cs luksFormat --type luks2 "${FAST[@]}" --key-file "$2" \
		--luks2-keyslots-size 2M --offset $(($3 * 2048)) "$1" 2>/dev/null
}

# rc_fill DEV MNT: ext4 on DEV, about 3/8 of it in files, unmounted again.
rc_fill() {
	local dev=$1 mnt=$2 mib i
	mib=$(($(blockdev --getsize64 "$dev") >> 20))
	mkdir -p "$mnt"
	mkfs.ext4 -q -F -b 4096 -E nodiscard,lazy_itable_init=0,lazy_journal_init=0 \
		"$dev" || return 1
	mount -t ext4 -o noinit_itable "$dev" "$mnt" || return 1
	for ((i = 1; i <= mib * 3 / 8; i++)); do
		head -c $((1000 * 1024 + i * 4321)) /dev/urandom > "$mnt/f$i" || break
	done
	seq 1 20000 > "$mnt/numbers"
	umount "$mnt"
}

# rc_open JOB LDEV NAME KEYFILE: open LDEV as NAME with the job's tool.
rc_open() {
	if [ "$1" = vaultctl ]; then
		"$VAULTCTL" open "$2" "$3" --key-file "$4"
	else
		cs open "$2" "$3" --key-file "$4"
	fi
}

rc_close() {
	if [ "$1" = vaultctl ]; then "$VAULTCTL" close "$2"; else cs close "$2"; fi
}

# rc_reencrypt JOB LDEV NAME KEYFILE HOTZONE: an online re-encryption of
# the open NAME (on LDEV) to a new volume key.
rc_reencrypt() {
	if [ "$1" = vaultctl ]; then
		"$VAULTCTL" reencrypt --batch-mode --key-file "$4" --hotzone-size "$5" "$3"
	else
		cs reencrypt "${FAST[@]}" --key-file "$4" --active-name "$3" \
			--resilience checksum --hotzone-size "$5" "$2"
	fi
}

# rc_pending DEV: a re-encryption is recorded in DEV's header.  RC_DUMP
# keeps the header's outline (requirements, keyslots, segments) for the
# report of a failed check.
rc_pending() {
	local dump
	dump=$(cs luksDump "$1" 2>&1)
	RC_DUMP=$(grep -E 'Requirements|^  [0-9]+: |type:|^	mode|Digest ID|Keyslot:' <<< "$dump" |
		tr -s ' \t\n' ' ')
	grep -q 'online-reencrypt' <<< "$dump"
}

# rc_resume WHO DEV KEYFILE: finish an interrupted job offline.  cryptsetup's
# own way after a power cut: `reencrypt --resume-only` refuses a hotzone
# left mid-write ("Device requires reencryption recovery. Run repair
# first."); `repair` recovers it from the resilience data, then
# --resume-only finishes.  Whatever --resume-only refused, repair and a
# second --resume-only are tried (cryptsetup's documented recovery), and
# what it said is kept in CHK_MSG.  vaultctl's --resume-only recovers by itself.
# Sets RC_OUT (the tools' messages) and appends to CHK_MSG.
rc_resume() {
	if [ "$1" = vaultctl ]; then
		RC_OUT=$("$VAULTCTL" reencrypt --resume-only --batch-mode --key-file "$3" "$2" 2>&1)
		return
	fi
	RC_OUT=$(cs reencrypt --resume-only "${FAST[@]}" --key-file "$3" "$2" 2>&1) &&
		return 0
	CHK_MSG+=" (resume-only: ${RC_OUT:-exit $?, no message})"
	RC_OUT=$(cs repair --key-file "$3" "$2" 2>&1) || return 1
	CHK_MSG+=", repair"
	# repair may finish the job itself (a cut in the last hotzone)
	rc_pending "$2" || return 0
	RC_OUT=$(cs reencrypt --resume-only "${FAST[@]}" --key-file "$3" "$2" 2>&1) ||
		return 1
	CHK_MSG+=", resume-only"
}

# rc_check WHO DEV KEYFILE REF MIB CHKNAME: resume DEV with WHO when a
# re-encryption is pending, then open it with cryptsetup (the oracle) as
# CHKNAME: its first MIB MiB of plaintext must equal REF, e2fsck -fn must
# be clean, nothing may be left pending.  CHK_MSG says what happened,
# CHK_OUT what went wrong; returns 0 when all is well.  RC_FINAL=1 when the
# header was in the job's finalization (the requirement still set, but fewer
# than two keyslots bound: the old key's is unbound or gone; the tests use
# one passphrase, in one keyslot per key).
rc_check() {
	local who=$1 dev=$2 key=$3 ref=$4 mib=$5 chk=$6 rc=0 err

	CHK_OUT='' CHK_MSG='' RC_FINAL=0
	if rc_pending "$dev"; then
		local before=$RC_DUMP
		RC_FINAL=0
		# the finalization: fewer than two keyslots bound (old and new key)
		local bound
		bound=$(grep -o 'luks2 Digest ID' <<< "$before" | wc -l)
		# shellcheck disable=SC2034 # read by the caller
		[ "$bound" -ge 2 ] || RC_FINAL=1
		rc_resume "$who" "$dev" "$key" || rc=1
		CHK_MSG="resumed by $who$CHK_MSG"
		[ $rc = 0 ] || { CHK_OUT="resume: ${RC_OUT:-no message}; header was: $before"; return 1; }
		rc_pending "$dev" && { CHK_OUT="still pending after the resume; header: $RC_DUMP"; return 1; }
		CHK_OUT="header before the resume: $before;"
	else
		CHK_MSG="nothing pending"
	fi
	err=$(cs open "$dev" "$chk" --key-file "$key" 2>&1) ||
		{ CHK_OUT+=" cryptsetup open: $err"; return 1; }
	if ! err=$(cmp -n $((mib << 20)) "$ref" "/dev/mapper/$chk" 2>&1); then
		CHK_OUT+=" plaintext differs: ${err:0:200}"
		rc=1
	fi
	if ! err=$(e2fsck -fn "/dev/mapper/$chk" 2>&1); then
		CHK_OUT+=" e2fsck -fn: $(grep -v '^Pass\|^e2fsck' <<< "$err" | head -n 4)"
		rc=1
	fi
	cs close "$chk" || rc=1
	return $rc
}
