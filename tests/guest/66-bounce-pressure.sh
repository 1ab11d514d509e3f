#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Bounce pages when memory runs short.  The module parameter max_bounce_pages
# caps the pages writes may take beyond the devices' reserves (bounce_pages
# is the current count, bounce_pages_peak the most seen at once):
#  - cap: concurrent 1 MiB writes use pages beyond the reserve with the
#    default cap (a positive control for the counter), never more than a cap
#    of 64 when set, and give every page back afterwards;
#  - no deadlock: with no pages beyond the reserve (cap 0, what an allocator
#    that has nothing left gives) and every vault workqueue limited to one
#    worker (WQ_SYSFS max_active, as when only the rescuer runs), concurrent
#    large writes over an asynchronous cipher and over a synchronous one
#    (whose large bios are cut into walks on the workqueue) must complete
#    within WAIT_S seconds.  Writers waiting for pages must never hold up the
#    work that gives pages back.  On a time-out (in any part) the blocked
#    tasks are printed and the cap is lifted, which frees the writers;
#  - afterwards dm-crypt, with the same key, reads every byte as written;
#  - an skcipher flagged CRYPTO_ALG_ALLOCATES_MEMORY (per-request
#    allocations, which can fail under memory pressure) is refused, as
#    dm-crypt refuses it.
. "${VAULT_REPO:?}/tests/lib/ktap.sh"
. "$VAULT_REPO/tests/lib/vdev.sh"

vdev_names t66 8
P=/sys/module/dm_vault/parameters
SZ=$((MIB * 2048))
WAIT_S=60
if [ -e /sys/kernel/debug/kmemleak ]; then
	WAIT_S=$((WAIT_S * 4))
fi
OLD_CAP=

vdev_async_setup cryptsetup
# runs first at exit: the cap lifted before the devices go
restore_cap() { [ -n "$OLD_CAP" ] && echo "$OLD_CAP" > $P/max_bounce_pages; }
ktap_defer restore_cap
[ -r /sys/module/vault_test_async ] || insmod "$ASYNC_KO" ||
	ktap_fail_all "insmod vault-test-async.ko"
loop_setup $MIB LOWER || ktap_fail_all "cannot create a loop device"
[ -w $P/max_bounce_pages ] || ktap_fail_all "no $P/max_bounce_pages"
OLD_CAP=$(cat $P/max_bounce_pages)

head -c 64 /dev/urandom > "$WORK/key"
head -c $((MIB << 20)) /dev/urandom > "$WORK/data"
"$VAULTCTL" key add $T-key --key-file "$WORK/key" --key-size 512 ||
	ktap_fail_all "vaultctl key add"

# create SPEC [OPTS]: the vault device over the whole loop device
create() {
	dmsetup create $V --table "0 $SZ vault $1 key:$T-key 0 $LOWER 0${2:+ $2}"
}

# writers: 8 concurrent direct writers, one per MiB of the device, of
# 1 MiB, 512 KiB, 768 KiB or 256 KiB bios; returns at once (pids in WPIDS)
WPIDS=()
writers() {
	local i bs
	local sizes=(1M 512K 1M 768K 1M 256K 512K 1M)
	WPIDS=()
	for i in 0 1 2 3 4 5 6 7; do
		bs=${sizes[i]}
		dd if="$WORK/data" of=/dev/mapper/$V bs=$bs iflag=skip_bytes,count_bytes \
			oflag=direct,seek_bytes skip=$((i << 20)) seek=$((i << 20)) \
			count=$((1 << 20)) conv=notrunc status=none &
		WPIDS+=($!)
	done
}

# finished SECS: wait at most SECS for the writers (a writer stuck in the
# kernel cannot be killed); 0 when all exited with 0 in time
finished() {
	local t p rc=0
	for ((t = 0; t < $1 * 5; t++)); do
		for p in "${WPIDS[@]}"; do
			kill -0 "$p" 2>/dev/null && break
			p=
		done
		[ -z "$p" ] && break
		sleep 0.2
	done
	if [ -n "$p" ]; then
		ktap_diag "writers still blocked after $1 s; bounce_pages $(cat $P/bounce_pages)"
		echo w > /proc/sysrq-trigger
		dmesg | sed -n '/Show Blocked State/,$p' |
			grep -E 'task:|vault|mutex|wait_event|schedule_timeout' |
			head -n 40 | ktap_diag_stream
		return 124
	fi
	for p in "${WPIDS[@]}"; do
		wait "$p" || rc=1
	done
	return $rc
}

# round TAG: new data, written by the writers; on a time-out the cap is
# lifted for a while so that the stuck writers drain
round() {
	local cap
	head -c $((MIB << 20)) /dev/urandom > "$WORK/data"
	writers
	ktap_check "$1 concurrent large writes finish within $WAIT_S s" \
		finished $WAIT_S && return 0
	cap=$(cat $P/max_bounce_pages)
	echo 1000000 > $P/max_bounce_pages
	finished 120
	echo "$cap" > $P/max_bounce_pages
	return 1
}

# dmcrypt_equal SS: dm-crypt with the same key reads back $WORK/data
dmcrypt_equal() {
	local rc=0
	cryptsetup open --type plain --cipher aes-xts-plain64 --key-size 512 \
		--key-file "$WORK/key" --sector-size "$1" "$LOWER" $C || return 1
	cmp -s "$WORK/data" <(dd if=/dev/mapper/$C bs=1M iflag=direct status=none) || rc=1
	dmsetup remove --retry $C
	return $rc
}

# workqueues_to_one: every workqueue of $V gets max_active 1
workqueues_to_one() {
	local mm q n=0
	mm=$(dmsetup info -c --noheadings -o major,minor $V | tr -d ' ')
	for q in /sys/devices/virtual/workqueue/kvault*-"$mm"-*; do
		[ -w "$q/max_active" ] || continue
		echo 1 > "$q/max_active" || return 1
		ktap_diag "${q##*/}: max_active $(cat "$q/max_active")"
		n=$((n + 1))
	done
	[ $n -gt 0 ]
}

# ---- the cap on pages beyond the reserve ----
ktap_check "max_bounce_pages defaults to a positive limit ($OLD_CAP)" \
	[ "$OLD_CAP" -gt 64 ]
create aes-xts-plain64 "1 sector_size:4096" || ktap_fail_all "create"
echo 0 > $P/bounce_pages_peak
round "[default cap]"
peak=$(cat $P/bounce_pages_peak)
ktap_check "[default cap] they used pages beyond the reserve (peak $peak)" \
	[ "$peak" -gt 0 ]
ktap_check "[default cap] ... no more than the cap" [ "$peak" -le "$OLD_CAP" ]

echo 64 > $P/max_bounce_pages
echo 0 > $P/bounce_pages_peak
round "[cap 64]"
peak=$(cat $P/bounce_pages_peak)
ktap_check "[cap 64] pages beyond the reserve never exceeded 64 (peak $peak)" \
	[ "$peak" -le 64 ]
ktap_check "[cap 64] vault reads back what was written" \
	cmp -s "$WORK/data" <(dd if=/dev/mapper/$V bs=1M iflag=direct status=none)
dmsetup remove --retry $V
ktap_check "every page beyond the reserve was given back" \
	[ "$(cat $P/bounce_pages)" -eq 0 ]
ktap_check "[cap 64] dm-crypt reads what vault wrote" dmcrypt_equal 4096

# ---- no deadlock with the reserve only and one worker per queue ----
echo 0 > $P/max_bounce_pages
for spec in "capi:xts-aes-vault-test-async-plain64|1 sector_size:4096|4096" \
	    "aes-xts-plain64||512"; do
	IFS='|' read -r cipher opts ss <<< "$spec"
	tag="[${cipher%%-plain64}${opts:+ $opts}]"
	create "$cipher" "$opts" || ktap_fail_all "$tag create"
	ktap_check "$tag workqueues limited to one worker" workqueues_to_one
	round "$tag reserve only:"
	ktap_check "$tag vault reads back what was written" \
		cmp -s "$WORK/data" <(dd if=/dev/mapper/$V bs=1M iflag=direct status=none)
	dmsetup remove --retry $V
	ktap_check "$tag dm-crypt reads what vault wrote" dmcrypt_equal "$ss"
done
echo "$OLD_CAP" > $P/max_bounce_pages
ktap_check "no page beyond the reserve is left in use" \
	[ "$(cat $P/bounce_pages)" -eq 0 ]

# ---- no cipher that allocates memory per request ----
ALLOC=capi:xts-aes-vault-test-allocates-plain64
ktap_check "vault refuses a cipher flagged CRYPTO_ALG_ALLOCATES_MEMORY" \
	not create $ALLOC
dmsetup remove $V >/dev/null 2>&1
ktap_check "... saying why" \
	grep -q "vault: Cipher not available in this kernel without per-request allocations" \
		<(dmesg | tail -n 5)
ktap_check "... as dm-crypt does" \
	not dmsetup create $C --table "0 $SZ crypt $ALLOC $(od -An -tx1 "$WORK/key" | tr -d ' \n') 0 $LOWER 0"
dmsetup remove $C >/dev/null 2>&1
ktap_check "... while the same cipher without the flag is accepted" \
	create capi:xts-aes-vault-test-async-plain64
dmsetup remove --retry $V
ktap_finish
