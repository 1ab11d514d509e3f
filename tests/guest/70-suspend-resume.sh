#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Suspend, key wipe, resume:
#  - key messages are refused while the device is live; every refusal is
#    checked for its exit status, errno and kernel-log reason, within 30 s;
#  - after suspend + "key wipe" the status says key_wiped and a resume is
#    refused (non-zero exit) with the device left suspended;
#  - I/O issued while suspended (a background dd write and read) waits and
#    completes after "key set" + resume, with correct data;
#  - "key set" with an unknown key fails and keeps the device unresumable;
#  - "key set" with a different key really switches the key (data reads as
#    garbage), and switching back restores it;
#  - the same through vaultctl suspend / resume --key-file;
#  - after the queued write and at the end, dm-crypt reads the data the
#    test wrote from the lower device (tests/lib/oracle.sh).
. "${VAULT_REPO:?}/tests/lib/ktap.sh"
. "$VAULT_REPO/tests/lib/oracle.sh"
. "$VAULT_REPO/tests/lib/vdev.sh"

vdev_names t70 8

cleanup() {
	local k
	[ -n "${BG:-}" ] && kill "$BG" 2>/dev/null
	dmsetup resume $V >/dev/null 2>&1
	dmsetup remove --retry $V >/dev/null 2>&1
	for k in $T-key $T-other; do
		"$VAULTCTL" key remove $k >/dev/null 2>&1
	done
}
ktap_defer cleanup

need_vaultctl
vault_setup_module || ktap_fail_all "dm-vault.ko cannot be loaded"
need_cmd dmsetup python3
brd_setup 1 "$MIB" || ktap_fail_all "cannot create a ramdisk"

head -c 64 /dev/urandom > "$WORK/key"
head -c 64 /dev/urandom > "$WORK/other"
"$VAULTCTL" key add $T-key --key-file "$WORK/key" --key-size 512 &&
"$VAULTCTL" key add $T-other --key-file "$WORK/other" --key-size 512 ||
	ktap_fail_all "vaultctl key add"
TABLE="0 $LEN vault aes-xts-plain64 key:$T-key 0 /dev/ram0 0"
dmsetup create $V --table "$TABLE" || ktap_fail_all "dmsetup create"

head -c $((MIB << 20)) /dev/urandom > "$WORK/data"
dd if="$WORK/data" of=$M bs=1M oflag=direct status=none || ktap_fail_all "initial write"

suspended() { dmsetup info $V | grep -q 'State: *SUSPENDED'; }
key_state() { dmsetup status $V | awk '{ print $4 }'; }
# (under a time limit: a read of a device left suspended would never return)
same_data() { timeout 60 cmp -s -n $((MIB << 20)) "$WORK/data" $M; }
# refused WHY ERRNO CMD...: CMD (a dmsetup message or resume) exits 1 within
# 30 s saying "failed: ERRNO", and the kernel log gains a line matching WHY.
refused() {
	local why=$1 errno=$2 mark
	shift 2
	mark=$(dmesg | wc -l)
	fails_with 1 "failed: $errno" timeout 30 "$@" || return 1
	dmesg | tail -n +$((mark + 1)) | grep -qE -- "$why" && return 0
	ktap_diag "the kernel log does not say why (/$why/)"
	return 1
}
LIVE='key messages are accepted only while the device is suspended'
UNKNOWN='unrecognised message'
WIPED='aborting resume: the key was wiped'
EINVAL='Invalid argument'
EAGAIN='Resource temporarily unavailable'

# ---- live device: key messages refused
ktap_check "status: key_valid" [ "$(key_state)" = key_valid ]
ktap_check "key wipe refused while not suspended (EINVAL, said why)" \
	refused "$LIVE" "$EINVAL" dmsetup message $V 0 key wipe
ktap_check "key set refused while not suspended (EINVAL, said why)" \
	refused "$LIVE" "$EINVAL" dmsetup message $V 0 key set key:$T-key
ktap_check "unknown message refused (EINVAL, said why)" \
	refused "$UNKNOWN" "$EINVAL" dmsetup message $V 0 frobnicate
ktap_check "device still usable after refused messages" same_data
ktap_check "still key_valid" [ "$(key_state)" = key_valid ]

# ---- suspend + wipe: resume refused
ktap_check "suspend" dmsetup suspend $V
ktap_check "malformed key message refused (EINVAL, said why)" \
	refused "$UNKNOWN" "$EINVAL" dmsetup message $V 0 key frob
ktap_check "key set without a name refused (EINVAL, said why)" \
	refused "$UNKNOWN" "$EINVAL" dmsetup message $V 0 key set
ktap_check "key wipe" dmsetup message $V 0 key wipe
ktap_check "status: key_wiped" [ "$(key_state)" = key_wiped ]
ktap_check "table shows the key name, still" \
	grep -q "key:$T-key" <<<"$(dmsetup table $V)"
ktap_check "resume refused after key wipe (EAGAIN, said why)" \
	refused "$WIPED" "$EAGAIN" dmsetup resume $V
ktap_check "device stays suspended" suspended

# ---- I/O while suspended waits
head -c $((1 << 20)) /dev/urandom > "$WORK/late"
dd if="$WORK/late" of=$M bs=1M seek=$((MIB - 1)) oflag=direct conv=fsync status=none &
BG=$!
sleep 2
ktap_check "write issued while suspended is still waiting" kill -0 $BG

ktap_check "key set with an unknown key refused (ENOKEY, said why)" \
	refused "key set failed: Key not found" 'Required key not available' \
	dmsetup message $V 0 key set key:$T-nosuchkey
ktap_check "still key_wiped after the failed key set" [ "$(key_state)" = key_wiped ]
ktap_check "resume still refused (EAGAIN, said why)" refused "$WIPED" "$EAGAIN" dmsetup resume $V
ktap_check "write still waiting" kill -0 $BG

ktap_check "key set key:$T-key" dmsetup message $V 0 key set key:$T-key
ktap_check "status: key_valid after key set" [ "$(key_state)" = key_valid ]
ktap_check "resume" timeout 30 dmsetup resume $V
ktap_check "not suspended any more" not suspended
timeout 60 tail --pid=$BG -f /dev/null
wait $BG
ktap_check "queued write completed successfully" [ $? = 0 ]
BG=
# the expected contents now: data with the last MiB replaced by "late"
head -c $(((MIB - 1) << 20)) "$WORK/data" > "$WORK/expect"
cat "$WORK/late" >> "$WORK/expect"
cp "$WORK/expect" "$WORK/data"
ktap_check "data intact after resume (incl. the queued write)" same_data
oracle_check "queued write" "$TABLE" "$WORK/key" "$WORK/data"

# a read queued while suspended returns correct data after resume
dmsetup suspend $V && dmsetup message $V 0 key wipe
dd if=$M bs=1M count=2 iflag=direct status=none > "$WORK/readback" &
BG=$!
sleep 2
ktap_check "read issued while suspended is still waiting" kill -0 $BG
dmsetup message $V 0 key set key:$T-key && timeout 30 dmsetup resume $V
timeout 60 tail --pid=$BG -f /dev/null
wait $BG
ktap_check "queued read completed" [ $? = 0 ]
BG=
ktap_check "queued read returned the right data" \
	cmp -s -n $((2 << 20)) "$WORK/readback" "$WORK/data"

# ---- key set really changes the key
dmsetup suspend $V && dmsetup message $V 0 key wipe &&
	dmsetup message $V 0 key set key:$T-other && timeout 30 dmsetup resume $V
ktap_check "other key: table names key:$T-other" grep -q "key:$T-other" <<<"$(dmsetup table $V)"
ktap_check "other key: data does not decrypt" not same_data
dmsetup suspend $V && dmsetup message $V 0 key set key:$T-key && timeout 30 dmsetup resume $V
ktap_check "back to the right key: data intact" same_data

# ---- the key table entry is not needed once the table holds the key
"$VAULTCTL" key remove $T-key
ktap_check "device works after its key left the key table" same_data
ktap_check "suspend" dmsetup suspend $V
ktap_check "key set of a removed key refused (ENOKEY, said why)" \
	refused "key set failed: Key not found" 'Required key not available' \
	dmsetup message $V 0 key set key:$T-key
ktap_check "status still key_valid after the failed key set" [ "$(key_state)" = key_valid ]
if ! ktap_check "the failed key set left the device resumable" timeout 30 dmsetup resume $V; then
	# recover, so that the rest of the test can run
	"$VAULTCTL" key add $T-key --key-file "$WORK/key" --key-size 512
	dmsetup message $V 0 key set key:$T-key
	timeout 30 dmsetup resume $V
	"$VAULTCTL" key remove $T-key
fi
ktap_check "data intact" same_data

# ---- vaultctl suspend / resume
ktap_check "vaultctl suspend" "$VAULTCTL" suspend $V
ktap_check "vaultctl suspend: suspended" suspended
ktap_check "vaultctl suspend: key wiped" [ "$(key_state)" = key_wiped ]
ktap_check "dmsetup resume refused (EAGAIN, said why)" refused "$WIPED" "$EAGAIN" dmsetup resume $V
ktap_check "vaultctl resume --key-file" "$VAULTCTL" resume $V --key-file "$WORK/key"
ktap_check "vaultctl resume: running" not suspended
ktap_check "vaultctl resume: key_valid" [ "$(key_state)" = key_valid ]
ktap_check "vaultctl resume: data intact" same_data
oracle_check "after vaultctl resume" "$TABLE" "$WORK/key" "$WORK/data"

dmsetup remove $V
ktap_check "device removed" fails_with 1 'Device does not exist' dmsetup info $V

ktap_finish
