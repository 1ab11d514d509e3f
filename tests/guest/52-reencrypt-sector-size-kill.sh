#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# check-extended: its two kills repeat what 48 (held hotzone, journal resumed by
# cryptsetup) and 51 (sector-size jobs) check in make check; about 30 s a kernel
#
# vaultctl reencrypt --sector-size killed (SIGKILL, VAULT_TEST_CRASH_AT)
# right after the header named its second 256 KiB hotzone, online, on a
# 20 MiB ramdisk (4 MiB of random data written through cryptsetup), and
# finished by either tool (the segments carry each side's sector size):
#   1. 512 -> 4096 with journal resilience: the mapping (its hotzone held)
#      closes, cryptsetup repair + reencrypt --resume-only recover the
#      hotzone from vaultctl's journal (blocks of 4096 bytes: the larger
#      size) and finish;
#   2. then 4096 -> 512 of the result, checksum resilience: vaultctl
#      reencrypt --resume-only NAME moves the held hotzone and finishes
#      online (the mapping ends with 512-byte logical blocks).
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

# crash SIZE [OPTIONS]: the job on V killed after its 2nd hotzone's header
crash() {
	VAULT_TEST_CRASH_AT=header:2 "$VAULTCTL" reencrypt --batch-mode "${FAST[@]}" \
		--key-file p1 --hotzone-size 256K --sector-size "$@" $V 2>crash.err
}

# --- 1. killed, cryptsetup finishes ----------------------------------------------
"$VAULTCTL" open --key-file p1 "$DEV" $V || ktap_fail_all "vaultctl open"
crash 4096 --resilience journal
rc=$?
ktap_check "vaultctl (512 -> 4096, journal) killed with its 2nd hotzone named (exit $rc)" \
	eval "[ $rc = 137 ] && cs luksDump $DEV | grep -q in-reencryption"
ktap_check "... the mapping, its hotzone held, closes" "$VAULTCTL" close $V
cs repair -q --key-file p1 "$DEV" >/dev/null 2>&1
ktap_check "cryptsetup repair + reencrypt --resume-only finish it (from the journal)" \
	cs reencrypt --resume-only -q --key-file p1 "$DEV"
ktap_check "... cryptsetup reads the data back with 4096-byte sectors" cs_reads data 4096

# --- 2. killed, vaultctl finishes online -----------------------------------------
"$VAULTCTL" open --key-file p1 "$DEV" $V || ktap_fail_all "vaultctl open"
crash 512
rc=$?
ktap_check "vaultctl (4096 -> 512) killed with its 2nd hotzone named (exit $rc)" [ $rc = 137 ]
ktap_check "... its table still re-encrypts, the hotzone held, 4096-byte logical blocks" \
	eval 'dmsetup table $V | grep -q "sector_size:4096 reencrypt .* new_sector_size:512" &&
	      dmsetup status $V | grep -q " held" && [ "$(blockdev --getss $M)" = 4096 ]'
ktap_check "vaultctl --resume-only NAME finishes it online" reenc --resume-only $V
ktap_check "... the mapping reads the data back, with 512-byte logical blocks now" \
	eval 'cmp -s data $M && [ "$(blockdev --getss $M)" = 512 ]'
"$VAULTCTL" close $V
ktap_check "... and so does cryptsetup with the new header" cs_reads data 512

ktap_diag "elapsed: $SECONDS s"
ktap_finish
