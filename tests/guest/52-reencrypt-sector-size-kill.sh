#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# check-extended: about 30 s a kernel beside 51-reencrypt-sector-size; make
# check keeps the functional tests within 45 minutes
#
# vaultctl reencrypt --sector-size killed -9 mid-run, online, on a 20 MiB
# ramdisk (4 MiB of random data written through cryptsetup), and finished
# by either tool (the segments carry each side's sector size):
#   1. 512 -> 4096: the mapping closes, cryptsetup repair + reencrypt
#      --resume-only finish it;
#   2. then 4096 -> 512 of the result: vaultctl reencrypt --resume-only NAME
#      finishes it online on the live re-encrypting table (the mapping
#      ends with 512-byte logical blocks).
# Each time the data reads back through the mapping or cryptsetup, whose
# table has the new sector size.
. "${VAULT_REPO:?}/tests/lib/ktap.sh"
. "$VAULT_REPO/tests/lib/luks2.sh"
. "$VAULT_REPO/tests/lib/reenc-sector.sh"

luks2_test_setup t52 20 cryptsetup cmp blockdev
V=$T-v
# shellcheck disable=SC2034 # used by the eval'd checks
M=/dev/mapper/$V
CS=$T-cs
export DM_DISABLE_UDEV=1
cleanup() {
	[ -n "${JOB:-}" ] && kill -9 "$JOB" 2>/dev/null
	wait 2>/dev/null
	dmsetup remove --retry $V >/dev/null 2>&1
	dmsetup remove --retry $CS >/dev/null 2>&1
}
ktap_defer cleanup
cd "$WORK" || exit 1
printf 'sector size passphrase' >p1

cs luksFormat -q --type luks2 --sector-size 512 "${FAST[@]}" --key-file p1 "$DEV" &&
	cs open --key-file p1 "$DEV" $CS && head -c $((4 << 20)) /dev/urandom >data &&
	dd if=data of=/dev/mapper/$CS bs=1M oflag=direct conv=fsync status=none &&
	dmsetup remove $CS || ktap_fail_all "cryptsetup makes a volume with data"

# --- 1. killed, cryptsetup finishes ----------------------------------------------
"$VAULTCTL" open --key-file p1 "$DEV" $V || ktap_fail_all "vaultctl open"
kill_job_midway --sector-size 4096
"$VAULTCTL" close $V
ktap_check "vaultctl (512 -> 4096) killed mid-run: the header is in re-encryption" \
	eval "cs luksDump $DEV | grep -q online-reencrypt-v2"
cs repair -q --key-file p1 "$DEV" >/dev/null 2>&1
ktap_check "cryptsetup repair + reencrypt --resume-only finish it" \
	cs reencrypt --resume-only -q --key-file p1 "$DEV"
ktap_check "... cryptsetup reads the data back with 4096-byte sectors" cs_reads data 4096

# --- 2. killed, vaultctl finishes online -----------------------------------------
"$VAULTCTL" open --key-file p1 "$DEV" $V || ktap_fail_all "vaultctl open"
kill_job_midway --sector-size 512
ktap_check "vaultctl (4096 -> 512) killed: its table is still re-encrypting, 4096-byte blocks" \
	eval 'dmsetup table $V | grep -q "sector_size:4096 reencrypt .* new_sector_size:512" &&
	      [ "$(blockdev --getss $M)" = 4096 ]'
ktap_check "vaultctl --resume-only NAME finishes it online" reenc --resume-only $V
ktap_check "... the mapping reads the data back, with 512-byte logical blocks now" \
	eval 'cmp -s data $M && [ "$(blockdev --getss $M)" = 512 ]'
"$VAULTCTL" close $V
ktap_check "... and so does cryptsetup with the new header" cs_reads data 512

ktap_diag "elapsed: $SECONDS s"
ktap_finish
