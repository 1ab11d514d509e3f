# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Sourced by the guest tests of vaultctl reencrypt --sector-size (51, 52),
# after luks2.sh.  The caller sets DEV, CS (cryptsetup's mapping name) and
# a passphrase file p1 in the current directory.

# cs_reads FILE SS: cryptsetup (dm-crypt) opens the header as it is now
# as one crypt target (no re-encryption left) with SS-byte sectors, and
# reads FILE; its table line is left in cs.table
cs_reads() {
	local want=" sector_size:$2" rc
	[ "$2" = 512 ] && want=''
	cs open --readonly --key-file p1 "$DEV" $CS || return 1
	dmsetup table $CS >cs.table
	if [ "$(wc -l <cs.table)" = 1 ] && grep -q " crypt .*$want" cs.table &&
	   { [ -n "$want" ] || ! grep -q sector_size: cs.table; }; then
		cmp -s "$1" /dev/mapper/$CS
		rc=$?
	else
		sed 's/ [0-9a-f]\{32,\} / <key> /' cs.table | ktap_diag_stream
		rc=1
	fi
	dmsetup remove --retry $CS
	return $rc
}
# the LUKS2 area (headers and keyslots)
hdr_sum() { dd if="$DEV" bs=1M count=16 iflag=direct status=none | md5sum; }
reenc() { "$VAULTCTL" reencrypt --batch-mode "${FAST[@]}" --key-file p1 "$@"; }
