#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The data path with an asynchronous crypto driver. tests/async-cipher builds
# vault-test-async.ko: an xts(aes) that completes every request later from a
# workqueue and backlogs every fourth (-EBUSY, then -EINPROGRESS, then the
# result), as a hardware engine would. A vault device using it must write
# exactly what dm-crypt (synchronous xts) writes, read back what dm-crypt
# wrote, survive fio verify under concurrency, and must have really sent its
# requests through the asynchronous driver.  A single stream of bios too
# small to be split must still keep several of its sectors' requests in the
# driver at once (the driver's inflight_max), as dm-crypt's crypt_convert
# does, instead of one request at a time.
. "${VAULT_REPO:?}/tests/lib/ktap.sh"
. "$VAULT_REPO/tests/lib/vdev.sh"

vdev_names t25
vdev_async_setup cryptsetup fio
insmod "$ASYNC_KO" || ktap_fail_all "insmod vault-test-async.ko"
loop_setup 12 LOWER || ktap_fail_all "cannot create a loop device"
SZ=$((8 * 2048))

requests() { cat /sys/module/vault_test_async/parameters/requests; }

head -c 64 /dev/urandom > "$WORK/key"
head -c $((8 << 20)) /dev/urandom > "$WORK/data"
"$VAULTCTL" key add $T-key --key-file "$WORK/key" --key-size 512 ||
	ktap_fail_all "vaultctl key add"

for opts in "" "1 sector_size:4096" "2 no_read_workqueue no_write_workqueue"; do
	ss=512
	case "$opts" in *4096*) ss=4096 ;; esac
	tag="[${opts:-defaults}]"

	before=$(requests)
	ktap_check "$tag create over the async driver" \
		dmsetup create $V --table "0 $SZ vault $SPEC key:$T-key 0 $LOWER 0${opts:+ $opts}"
	ktap_check "$tag write 8 MiB (direct, 1M)" \
		dd if="$WORK/data" of=/dev/mapper/$V bs=1M oflag=direct status=none
	ktap_check "$tag rewrite a 4k-aligned range" \
		dd if="$WORK/data" of=/dev/mapper/$V bs=4k skip=100 seek=100 count=300 \
			oflag=direct conv=notrunc status=none
	ktap_check "$tag read back equals written (direct 64k)" \
		cmp -s "$WORK/data" <(dd if=/dev/mapper/$V bs=64k iflag=direct status=none)
	ktap_check "$tag read back equals written (buffered)" \
		cmp -s "$WORK/data" <(dd if=/dev/mapper/$V bs=1M status=none)
	after=$(requests)
	ktap_check "$tag requests went through the async driver ($before -> $after)" \
		[ $((after - before)) -ge $((SZ * 512 / ss)) ]
	dmsetup remove $V

	ktap_check "$tag dm-crypt reads what vault wrote" \
		cryptsetup open --type plain --cipher aes-xts-plain64 --key-size 512 \
			--key-file "$WORK/key" --sector-size $ss "$LOWER" $C
	ktap_check "$tag dm-crypt plaintext equals written" \
		cmp -s "$WORK/data" <(dd if=/dev/mapper/$C bs=1M count=8 iflag=direct status=none)
	# dm-crypt writes a new pattern; vault must read it through the async driver
	head -c $((8 << 20)) /dev/urandom > "$WORK/data2"
	dd if="$WORK/data2" of=/dev/mapper/$C bs=1M oflag=direct status=none
	dmsetup remove $C
	dmsetup create $V --table "0 $SZ vault $SPEC key:$T-key 0 $LOWER 0${opts:+ $opts}"
	ktap_check "$tag vault reads what dm-crypt wrote" \
		cmp -s "$WORK/data2" <(dd if=/dev/mapper/$V bs=256k iflag=direct status=none)
	dmsetup remove $V
done

# One 64 KiB bio at a time (not split into walks): 128 sectors to transform.
inflight_max() { cat /sys/module/vault_test_async/parameters/inflight_max; }
for opts in "" "1 same_cpu_crypt"; do
	tag="[${opts:-defaults}]"
	dmsetup create $V --table "0 $SZ vault $SPEC key:$T-key 0 $LOWER 0${opts:+ $opts}"
	echo 0 > /sys/module/vault_test_async/parameters/inflight_max
	dd if="$WORK/data" of=/dev/mapper/$V bs=64k count=32 oflag=direct status=none
	n=$(inflight_max)
	ktap_check "$tag one writer, 64k bios: requests in flight at once > 1 ($n)" [ "$n" -gt 1 ]
	echo 0 > /sys/module/vault_test_async/parameters/inflight_max
	ktap_check "$tag ... and read back equals written" \
		cmp -s <(head -c $((2 << 20)) "$WORK/data") \
			<(dd if=/dev/mapper/$V bs=64k count=32 iflag=direct status=none)
	n=$(inflight_max)
	ktap_check "$tag one reader, 64k bios: requests in flight at once > 1 ($n)" [ "$n" -gt 1 ]
	dmsetup remove $V
done

dmsetup create $V --table "0 $SZ vault $SPEC key:$T-key 0 $LOWER 0"
ktap_check "fio verify, 4 jobs, QD 16, 4k-1M, over the async driver" \
	fio --name=async --filename=/dev/mapper/$V --direct=1 --ioengine=libaio \
		--iodepth=16 --numjobs=4 --rw=randwrite --bsrange=4k-1m --size=2M \
		--offset_increment=2M --verify_state_save=0 --verify=crc32c --verify_fatal=1 \
		--verify_backlog=32 --output="$WORK/fio.out"
dmsetup remove $V
ktap_check "async module unloads (no request left behind)" rmmod vault_test_async
ktap_finish
