#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Concurrency of the key table and the control device:
#  - build/tests/hammer runs 16 threads issuing VERSION, KEY_ADD,
#    KEY_REMOVE, KEY_LIST (and unknown ioctls, and descriptor reopens that
#    wipe fd-scoped keys) on /dev/vault-control with random valid and
#    invalid arguments for a bounded time; every result must be one the
#    UAPI header allows;
#  - meanwhile a shell loop creates vault devices naming those keys (the
#    key may be there or not, or be of a size the cipher refuses), reads
#    through them, re-keys them while suspended ("key set") and removes them;
#  - afterwards: nothing hung (all under `timeout`), no key of the test is
#    left once every descriptor is closed, neither unreclaimable slab nor
#    pages outside /proc/meminfo's categories have grown (as
#    90-cycles-rmmod.sh measures, with the same positive control), and the
#    module reference count is back where it was;
#  - a key loaded again under a name the hammer raced on encrypts what
#    dm-crypt decrypts with the key file's bytes (tests/lib/oracle.sh).
# VAULT_ENV_HAMMER_SECONDS (default 15) sets the hammer's run time.
. "${VAULT_REPO:?}/tests/lib/ktap.sh"
. "$VAULT_REPO/tests/lib/oracle.sh"
. "$VAULT_REPO/tests/lib/pageleak.sh"

T=t92
SECS=${VAULT_ENV_HAMMER_SECONDS:-15}
THREADS=16
export DM_DISABLE_UDEV=1
WORK=$(mktemp -d /tmp/$T.XXXXXX)
HAMMER=$VAULT_BUILD/tests/hammer

cleanup() {
	local d
	[ -n "${LOOP:-}" ] && kill "$LOOP" 2>/dev/null
	for d in $(dmsetup ls 2>/dev/null | awk -v p="$T-" 'index($1, p) == 1 { print $1 }'); do
		dmsetup resume "$d" >/dev/null 2>&1
		dmsetup remove --retry "$d" >/dev/null 2>&1
	done
	remove_loop_keys
	rm -rf "$WORK"
}
ktap_defer cleanup

need_vaultctl
vault_setup_module || ktap_fail_all "dm-vault.ko cannot be loaded"
need_cmd dmsetup timeout python3
[ -x "$HAMMER" ] || ktap_fail_all "$HAMMER missing (make userspace)"
# ram0 for the devices, ram1 for the page check's positive control
PAGE_LIMIT_KB=8192
brd_setup 2 $((2 * PAGE_LIMIT_KB / 1024)) || ktap_fail_all "cannot create the ramdisks"

remove_loop_keys() {
	local k
	for k in $T-h-k0 $T-s0 $T-s1; do
		"$VAULTCTL" key remove $k >/dev/null 2>&1
	done
}
refcnt() { cat /sys/module/dm_vault/refcnt; }
sunreclaim() { awk '/^SUnreclaim:/ { print $2 }' /proc/meminfo; }

# One device's life: create naming a random key, read, re-key while
# suspended, remove.  Only hangs and leftovers are failures here: whether
# the key exists (and fits) at that moment is up to the hammer.  Half the
# time the key is the loop's own ($T-s*, added here), so that devices
# really get created; the re-key names one of the hammer's ($T-h-k*).
device_life() {
	local i=$1 d=$T-d$(($1 % 2)) k=$T-h-k$((RANDOM % 8)) k2=$T-h-k$((RANDOM % 8)) rc
	local table

	if [ $((RANDOM % 2)) = 0 ]; then
		k=$T-s$((RANDOM % 2))
		"$VAULTCTL" key add $k --key-file "$WORK/key" --key-size 512 >/dev/null 2>&1
	fi
	table="0 8192 vault aes-xts-plain64 key:$k 0 /dev/ram0 0"

	timeout 30 dmsetup create "$d" --table "$table" 2>/dev/null
	rc=$?
	[ $rc = 124 ] && { echo "hang: create $d"; return 1; }
	[ $rc = 0 ] || { echo "refused"; return 0; }
	timeout 30 dd if=/dev/mapper/"$d" of=/dev/null bs=4k count=4 iflag=direct status=none ||
		{ echo "hang or error: read $d"; return 1; }
	timeout 30 dmsetup suspend "$d" || { echo "suspend $d failed"; return 1; }
	# may fail (key gone, or a size aes-xts refuses): then the old key stays,
	# or the key is marked invalid and resume is refused
	timeout 30 dmsetup message "$d" 0 key set key:$k2 2>/dev/null
	[ $? = 124 ] && { echo "hang: key set on $d"; return 1; }
	timeout 30 dmsetup resume "$d" 2>/dev/null
	[ $? = 124 ] && { echo "hang: resume $d"; return 1; }
	timeout 30 dmsetup remove "$d" || { echo "remove $d failed"; return 1; }
	echo "created"
}

device_loop() {
	local i=0 out
	while [ -e "$WORK/run" ]; do
		out=$(device_life $i) || { echo "fail $i: $out"; return 1; }
		echo "$out"
		i=$((i + 1))
	done
	return 0
}

# warm up slab caches (a key, a device) before measuring
"$HAMMER" $T-h 2 4 >/dev/null
head -c 64 /dev/urandom > "$WORK/key"
"$VAULTCTL" key add $T-h-k0 --key-file "$WORK/key" --key-size 512 &&
	device_life 0 >/dev/null
remove_loop_keys
sync; echo 3 > /proc/sys/vm/drop_caches
slab_before=$(sunreclaim)
page_before=$(pageleak_measure)
ref_before=$(refcnt)

touch "$WORK/run"
device_loop > "$WORK/loop.out" 2>&1 &
LOOP=$!
start=$SECONDS
timeout -k 5 $((SECS + 60)) "$HAMMER" $T-h "$SECS" $THREADS > "$WORK/hammer.out" 2>&1
hrc=$?
rm -f "$WORK/run"
timeout 120 tail --pid=$LOOP -f /dev/null
kill -0 $LOOP 2>/dev/null && { kill $LOOP; ktap_diag "device loop did not stop"; }
wait $LOOP
lrc=$?
LOOP=
remove_loop_keys
ktap_diag_stream < "$WORK/hammer.out"
ktap_diag "device loop: $(grep -c '^created' "$WORK/loop.out") devices created," \
	"$(grep -c '^refused' "$WORK/loop.out") refused, in $((SECONDS - start)) s"
grep -v -E '^(created|refused)$' "$WORK/loop.out" | head -n 10 | ktap_diag_stream

ktap_check "hammer: every ioctl result as documented, no key left (exit $hrc)" [ $hrc = 0 ]
ktap_check "device loop: no hang, every device removed" [ $lrc = 0 ]
ktap_check "devices were created while hammering" grep -q '^created' "$WORK/loop.out"
ktap_check "no $T device left" not sh -c "dmsetup ls | grep -q '^$T-'"
ktap_check "no $T key left (vaultctl key list)" \
	not sh -c "'$VAULTCTL' key list | grep -q '^$T-'"

sync; echo 3 > /proc/sys/vm/drop_caches
slab_after=$(sunreclaim)
ktap_diag "SUnreclaim: $slab_before kB before, $slab_after kB after"
ktap_check "module reference count back to $ref_before" [ "$(refcnt)" = "$ref_before" ]
ktap_check "unreclaimable slab grew less than 4 MiB" [ $((slab_after - slab_before)) -lt 4096 ]
pageleak_check "hammer" "$page_before" $PAGE_LIMIT_KB
pageleak_control $PAGE_LIMIT_KB /dev/ram1

# the key table still maps a name to the bytes loaded under it
TABLE="0 8192 vault aes-xts-plain64 key:$T-s0 0 /dev/ram0 0"
head -c $((1 << 20)) /dev/urandom > "$WORK/data"
if "$VAULTCTL" key add $T-s0 --key-file "$WORK/key" --key-size 512 &&
	dmsetup create $T-d0 --table "$TABLE" &&
	dd if="$WORK/data" of=/dev/mapper/$T-d0 bs=1M oflag=direct status=none; then
	oracle_check "after the hammer" "$TABLE" "$WORK/key" "$WORK/data"
else
	ktap_fail "after the hammer: a device with a key loaded again"
fi
dmsetup remove $T-d0
remove_loop_keys

ktap_finish
