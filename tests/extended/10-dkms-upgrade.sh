#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# 10-dkms-upgrade.sh - issue 13's guest scenario: real dpkg, real DKMS,
# real update-initramfs and a real bootloader (GRUB in the MBR) on a
# Debian 12 machine whose root is on dm-vault, through a kernel upgrade
# that first fails (no headers) and then succeeds.  Run by
# `make check-extended` on the host; prints KTAP, exits 0 pass, 4 skip,
# 1 fail.  15-20 minutes on a 2-core host (TCG): 927, 1184 and 935 s measured
# on 5 December 2026 beside other helpers' guests (load 4-5).
#
# Steps (each an "ok N name" line with its duration):
#  1 base-image      make deb; a Debian 12 root by mmdebstrap (6.1 kernel + headers,
#                    DKMS, gcc, initramfs-tools, grub-pc, vaultctl's
#                    libraries), cached under /var/cache/dm-vault/
#                    dkms-scenario/, keyed by a hash of its inputs
#  2 purge-clean     in a chroot of that root (a machine without vault
#                    volumes): apt installs build/deb/*.deb, DKMS builds
#                    dm-vault.ko for 6.1, vaultctl runs; apt purges both;
#                    dpkg -L, /lib/modules/*/updates, /etc, /usr/src,
#                    /var/lib/dkms hold nothing of ours
#  3 install-debs    in the same chroot, now configured as a root-on-vault
#                    machine (vaulttab entry with a key file, marked
#                    initramfs): apt installs the two .debs; DKMS builds
#                    for 6.1, update-initramfs puts dm-vault.ko, vaultctl,
#                    the entry and its key in 6.1's initramfs
#  4 make-disk       the disk: /boot (ext4) + a LUKS2 vault volume made by
#                    vaultctl holding the root; GRUB installed in the MBR
#                    by the image's own grub-install/update-grub (in a
#                    tests/vm/run-guest guest, tests/extended/dkms/make-disk)
#  5 boot-6.1        SeaBIOS -> GRUB -> 6.1 -> the initramfs unlocks the
#                    root with the key file -> the system's systemd runs
#                    dmv-step.service, which runs the next parts from a 9p
#                    share (tests/extended/dkms/guest-step) and powers off
#  6 no-headers      apt installs the 6.12 image without headers (the
#                    host's package cache, via 9p; no network): DKMS cannot
#                    build, the hook refuses, the kernel's postinst fails
#                    naming the kernel and why; GRUB keeps 6.1
#  7 reboot-6.1      the machine boots its previous kernel; root unlocks
#  8 headers         apt installs the 6.12 headers, dpkg --configure -a:
#                    DKMS builds for 6.12 (the one compile under TCG),
#                    lsinitramfs shows dm-vault.ko, GRUB defaults to 6.12
#  9 boot-6.12       reboot into 6.12: the root unlocks
# 10 remove-refused  apt remove dm-vault-dkms / vaultctl are refused
#                    ("root file system"), both stay installed
#
# Why this order (the issue lists the purge last, and installing the
# packages in a guest): the purge runs first, in the chroot before it
# becomes a root-on-vault machine, because the packages' prerm refuses
# removal on any machine whose initramfs unlocks a vault volume.  The
# first install runs in that chroot on the host: real apt, dpkg, DKMS and
# update-initramfs, but the 6.1 compile is native, so the only module
# compile under TCG is 6.12's (step 8).  The hook cannot see a vault root
# from the host's chroot; the entry's `initramfs` option brings it in,
# and step 8 runs the hook where the root really is on dm-vault.
#
# Environment:
#   DKMS_FROM=NAME   start at step NAME (boot-6.1, reboot-6.1 or boot-6.12)
#                    with the disk saved before it by an earlier run
#                    (build/extended/dkms/disk-before-NAME.img); earlier
#                    steps are reported as skipped
#   DKMS_NO_BUILD=1  test build/deb/*.deb as they are (default: step 1
#                    runs make deb userspace module KVER=6.1.0-57-amd64)
#   DKMS_BOOT_TIMEOUT  seconds one boot may take (default 1500)
#   DKMS_BOOT_LIMIT  seconds it may take to start its first part (400)
#   DKMS_CACHE       where the base root is cached
#   VAULT_QEMU_ACCEL, VAULT_QEMU_CPU  as for tests/vm/run-guest
# Logs: build/logs/dkms-*.log (each step's output, each boot's console).

# The steps are functions called by name (run_step NAME FUNC):
# shellcheck disable=SC2317
# The whole script is one compound command, read before it runs.
{
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$repo/build
work=$build/extended/dkms
logs=$build/logs
share=$work/share
root=$work/root
disk=$work/disk.img
k61=6.1.0-57-amd64
k612=6.12.118+deb12-amd64
uuid=0d6b8a52-3f1e-4c7a-9e25-6a1b0c2d3e4f
boot_timeout=${DKMS_BOOT_TIMEOUT:-1500}
# Seconds from QEMU's start to the first part (GRUB, kernel, unlock, systemd).
boot_limit=${DKMS_BOOT_LIMIT:-400}
from=${DKMS_FROM:-}
mkdir -p "$work" "$logs"
# One run at a time: they share the chroot, the disk and the share.
exec 9> "$work/.lock"
flock -n 9 || { echo "# another run holds $work/.lock"; exit 1; }

steps=(base-image purge-clean install-debs make-disk boot-6.1 no-headers
	reboot-6.1 headers boot-6.12 remove-refused)
echo "KTAP version 1"
echo "1..${#steps[@]}"
n=0 passed=0 failed=0 skipped=0 broken=
t_all=$SECONDS

# report NAME RC LOG SECS: the KTAP line for one step, its log as "# ".
report() {
	local name=$1 rc=$2 log=$3 secs=${4:-0}
	n=$((n + 1))
	[ -f "$log" ] && sed '/^# /!s/^/# /' "$log"
	echo "# $name: $secs s"
	durations+="$name=${secs}s "
	case $rc in
	0) passed=$((passed + 1)); echo "ok $n $name" ;;
	4) skipped=$((skipped + 1))
	   echo "ok $n $name # SKIP $(sed -n 's/^# SKIP //p' "$log" | tail -n 1)" ;;
	*) failed=$((failed + 1)); echo "not ok $n $name" ;;
	esac
}
durations=

# not_run NAME LOG: after a skip, or a failure that leaves nothing to run
# on (no root, no packages, no disk, a boot that did not come up), the
# later steps skip or fail, saying which step stopped them.  A failed
# check in a part that ran does not stop the next parts.
broken_skip=
not_run() {
	if [ -n "$broken_skip" ]; then
		echo "# SKIP step $broken_skip skipped" > "$2"
		report "$1" 4 "$2" 0
	elif [ -n "$broken" ]; then
		echo "# not run: step $broken failed" > "$2"
		report "$1" 1 "$2" 0
	else
		return 1
	fi
	return 0
}

# run_step NAME FUNC: FUNC's output to build/logs/dkms-NAME.log, then report.
# After a failure the later steps cannot run: they fail, saying which one.
run_step() {
	local name=$1 t=$SECONDS rc log=$logs/dkms-$1.log
	not_run "$name" "$log" && return
	# (a subshell: ktap_finish exits)
	("$2") > "$log" 2>&1 < /dev/null
	rc=$?
	report "$name" "$rc" "$log" $((SECONDS - t))
	# Without the tools or the packages nothing can run: skip the rest;
	# without the root, the packages or the disk, the rest fails.
	case $rc in
	0) ;;
	4) broken_skip=$name ;;
	*) [ "$name" = purge-clean ] || broken=$name ;;
	esac
}

# report_part NAME: a part guest-step ran in the last boot.
report_part() {
	local name=$1 part=$2 rc log=$logs/dkms-$1.log
	not_run "$name" "$log" && return
	if [ -f "$share/out/$part.rc" ]; then
		rc=$(cat "$share/out/$part.rc")
		cp "$share/out/$part.log" "$log"
	else
		echo "# not ok - part $part did not run in the guest (console: $console)" > "$log"
		rc=1
		broken=$name
	fi
	report "$name" "$rc" "$log" "$(cat "$share/out/$part.secs" 2>/dev/null)"
}

# --- the steps ---------------------------------------------------------

. "$repo/tests/lib/ktap.sh"

# chroot_run CMD...: CMD in the chroot, in a private mount namespace with
# /proc, /sys, /dev and a /run tmpfs (gone when it exits).
chroot_run() {
	# shellcheck disable=SC2016 # expanded by the inner sh
	unshare -m --propagation private sh -c '
		r=$1; shift
		mount -t proc proc "$r/proc" && mount -t sysfs sysfs "$r/sys" &&
		mount --rbind /dev "$r/dev" && mount -t tmpfs tmpfs "$r/run" &&
		mount -t tmpfs tmpfs "$r/tmp" || exit 125
		exec chroot "$r" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			DEBIAN_FRONTEND=noninteractive HOME=/root LC_ALL=C.UTF-8 "$@"
	' chroot_run "$root" "$@"
}

step_base_image() {
	local base
	# The packages under test are this tree's: build them (make deb is
	# about a minute); vaultctl and 6.1's module make the disk.
	if [ "${DKMS_NO_BUILD:-0}" != 1 ]; then
		nice -n 19 make -C "$repo" --no-print-directory deb userspace module KVER="$k61" \
			> "$logs/dkms-build.log" 2>&1 ||
			{ tail -n 20 "$logs/dkms-build.log" | ktap_diag_stream
			  ktap_fail_all "make deb userspace module failed ($logs/dkms-build.log)"; }
	fi
	for f in "$build/vaultctl" "$build"/deb/dm-vault-dkms_*_all.deb "$build"/deb/vaultctl_*_amd64.deb; do
		[ -e "$f" ] || ktap_fail_all "$f is missing (make userspace deb)"
	done
	need_cmd mmdebstrap qemu-system-x86_64 mke2fs
	base=$("$here/dkms/base-image" "$build/vaultctl") || ktap_fail_all "mmdebstrap failed"
	ktap_diag "base root: $base ($(du -sh "$base" | cut -f1))"
	rm -rf "$root"
	cp -a "$base" "$root" || ktap_fail_all "cannot copy $base"
	ktap_check "the base root has 6.1's image and headers" \
		test -e "$root/boot/vmlinuz-$k61" -a -e "$root/lib/modules/$k61/build/Makefile"
	ktap_check "... and no 6.12 kernel yet" not test -e "$root/boot/vmlinuz-$k612"
	# The share the booted system reads its steps and packages from.
	rm -rf "$share"
	mkdir -p "$share/lib" "$share/debs" "$share/k612" "$share/k612h" "$share/out"
	cp "$build"/deb/dm-vault-dkms_*_all.deb "$build"/deb/vaultctl_*_amd64.deb "$share/debs/"
	local p f
	for p in "linux-image-$k612" "linux-headers-$k612" "linux-headers-${k612%-amd64}-common" \
		"linux-kbuild-${k612%-amd64}"; do
		f=$(find /var/cache/apt/archives -maxdepth 1 -name "${p}_*.deb" | sort | tail -n 1)
		if [ -z "$f" ]; then
			(cd "$work" && apt-get download -q "$p") || ktap_fail_all "no .deb for $p"
			f=$(find "$work" -maxdepth 1 -name "${p}_*.deb" | sort | tail -n 1)
		fi
		case $p in
		linux-image-*) cp "$f" "$share/k612/" ;;
		*) cp "$f" "$share/k612h/" ;;
		esac
	done
	ktap_diag "6.12 packages: $(cd "$share" && echo k612/* k612h/*)"
	ktap_finish
}

# Every name in the root, one a line, but logs, caches, dpkg's and apt's
# own records and the initramfs images (rebuilt, by name the same), and
# DKMS's machine signing key (/var/lib/dkms/mok.key, mok.pub): DKMS makes
# it at the first signed build and signs every DKMS module with it; it may
# be enrolled in the firmware (mokutil), so a purge of ours keeps it.
leftovers_list() {
	(cd "$root" && find . -xdev \( -path ./var/log -o -path ./var/cache \
		-o -path ./var/lib/dpkg -o -path ./var/lib/apt -o -path ./tmp \
		-o -path ./var/tmp -o -path ./proc -o -path ./sys -o -path ./dev \
		-o -path ./run -o -path ./var/lib/dkms/mok.key \
		-o -path ./var/lib/dkms/mok.pub \) -prune -o -print | sort)
}

initramfs_has_vault() {
	local i
	for i in "$root"/boot/initrd.img-*; do
		lsinitramfs "$i" | grep -q dm-vault && return 0
	done
	return 1
}

step_purge_clean() {
	local before=$work/names-before after=$work/names-after rc
	leftovers_list > "$before"
	mkdir -p "$root/var/tmp/debs"
	cp "$share"/debs/*.deb "$root/var/tmp/debs/"
	chroot_run sh -c 'apt-get install -y /var/tmp/debs/*.deb' > "$work/purge-install.log" 2>&1
	rc=$?
	sed 's/^/#   | /' "$work/purge-install.log"
	ktap_check "apt-get install ./dm-vault-dkms*.deb ./vaultctl*.deb" test "$rc" -eq 0
	ktap_check "DKMS built dm-vault.ko for $k61" \
		sh -c "ls $root/lib/modules/$k61/updates/dkms/dm-vault.ko*"
	ktap_check "vaultctl runs" chroot_run vaultctl version
	chroot_run apt-get purge -y dm-vault-dkms vaultctl > "$work/purge.log" 2>&1
	rc=$?
	sed 's/^/#   | /' "$work/purge.log"
	ktap_check "apt-get purge dm-vault-dkms vaultctl (no vault volume here)" test "$rc" -eq 0
	ktap_check "dpkg -L dm-vault-dkms: not installed" not chroot_run dpkg -L dm-vault-dkms
	ktap_check "dpkg -L vaultctl: not installed" not chroot_run dpkg -L vaultctl
	ktap_check "dpkg forgot both (no status entry)" \
		not grep -qE '^Package: (vaultctl|dm-vault-dkms)$' "$root/var/lib/dpkg/status"
	ktap_check "no module left in /lib/modules/*/updates" \
		test -z "$(find "$root"/lib/modules/*/updates -type f 2>/dev/null)"
	ktap_check "nothing in /usr/src or /var/lib/dkms" \
		test -z "$(find "$root/usr/src" "$root/var/lib/dkms" -iname '*vault*' 2>/dev/null)"
	ktap_check "nothing named *vault* in /etc" test -z "$(find "$root/etc" -iname '*vault*')"
	leftovers_list > "$after"
	ktap_check "every file and directory is as before the install (by name; logs, caches, dpkg and apt records aside)" \
		diff -u "$before" "$after"
	ktap_check "no initramfs holds dm-vault any more" not initramfs_has_vault
	rm -rf "$root/var/tmp/debs"
	ktap_finish
}

# The machine's configuration, as its administrator would write it.
configure_root() {
	local key=$root/etc/vault/root.key
	echo dmvault-test > "$root/etc/hostname"
	cat > "$root/etc/fstab" <<-EOF
	/dev/mapper/vroot / ext4 errors=remount-ro 0 1
	LABEL=dvboot /boot ext4 defaults 0 2
	EOF
	mkdir -p "$root/etc/vault"
	chmod 700 "$root/etc/vault"
	head -c 64 /dev/urandom > "$key"
	chmod 400 "$key"
	cp "$key" "$work/root.key"
	echo "vroot UUID=$uuid /etc/vault/root.key luks,initramfs" > "$root/etc/vaulttab"
	# A small initramfs (TCG is slow at compressing); keys need UMASK=0077.
	sed -i 's/^MODULES=.*/MODULES=list/' "$root/etc/initramfs-tools/initramfs.conf"
	echo UMASK=0077 >> "$root/etc/initramfs-tools/initramfs.conf"
	printf '%s\n' virtio_pci virtio_blk ext4 crc32c_generic dm-mod \
		>> "$root/etc/initramfs-tools/modules"
	cat >> "$root/etc/default/grub" <<-EOF
	GRUB_TIMEOUT=1
	GRUB_CMDLINE_LINUX_DEFAULT=""
	GRUB_CMDLINE_LINUX="console=ttyS0,115200 no_timer_check panic=10"
	GRUB_TERMINAL="serial console"
	GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"
	GRUB_DISABLE_LINUX_UUID=true
	GRUB_DISABLE_RECOVERY=true
	GRUB_DISABLE_OS_PROBER=true
	GRUB_DISABLE_SUBMENU=y
	EOF
	install -m 755 "$here/dkms/dmv-step" "$root/usr/local/sbin/dmv-step"
	install -m 644 "$here/dkms/dmv-step.service" "$root/etc/systemd/system/dmv-step.service"
	ln -sf /etc/systemd/system/dmv-step.service \
		"$root/etc/systemd/system/multi-user.target.wants/dmv-step.service"
	# No network here: timers that would reach for it only slow the boots.
	for t in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer; do
		ln -sf /dev/null "$root/etc/systemd/system/$t"
	done
}

step_install_debs() {
	local rc x
	configure_root
	mkdir -p "$root/var/tmp/debs"
	cp "$share"/debs/*.deb "$root/var/tmp/debs/"
	chroot_run sh -c 'apt-get install -y /var/tmp/debs/*.deb' > "$work/install.log" 2>&1
	rc=$?
	sed 's/^/#   | /' "$work/install.log"
	rm -rf "$root/var/tmp/debs"
	ktap_check "apt-get install of both packages on the root-on-vault machine" test "$rc" -eq 0
	ktap_check "DKMS built dm-vault.ko for $k61" \
		sh -c "ls $root/lib/modules/$k61/updates/dkms/dm-vault.ko*"
	x=$work/lsinitramfs-61
	lsinitramfs "$root/boot/initrd.img-$k61" > "$x" 2>&1
	ktap_check "6.1's initramfs holds dm-vault.ko" grep -q 'dm-vault.ko' "$x"
	ktap_check "... vaultctl" grep -q 'sbin/vaultctl$' "$x"
	ktap_check "... the vaulttab entry and its key" \
		sh -c "grep -q 'etc/vaulttab$' $x && grep -q 'etc/vault/keys/vroot.key$' $x"
	ktap_finish
}

# mbr DISK START1 SECTORS1: an MS-DOS partition table, partition 1 (active)
# at START1 for SECTORS1 sectors, partition 2 from there to the end, both
# type 83 (Linux).
mbr() {
	python3 - "$@" <<-'EOF'
	import os, struct, sys
	path, start1, len1 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
	total = os.path.getsize(path) // 512
	start2 = start1 + len1
	def entry(boot, start, count):
	    return struct.pack("<B3sB3sII", boot, b"\xfe\xff\xff", 0x83,
	                       b"\xfe\xff\xff", start, count)
	table = (entry(0x80, start1, len1) + entry(0, start2, total - start2) +
	         bytes(32) + b"\x55\xaa")
	with open(path, "r+b") as f:
	    f.seek(440)
	    f.write(os.urandom(4) + bytes(2) + table)
	EOF
}

step_make_disk() {
	local bootdir=$work/bootfs rc
	# /boot and / as ext4 images (made on the host: fast), then written to
	# the disk by the guest (the root through dm-vault).
	rm -rf "$bootdir" "$work/boot.ext4" "$work/root.ext4" "$disk"
	{ mv "$root/boot" "$bootdir" && mkdir "$root/boot"; } || ktap_fail_all "cannot split /boot"
	mke2fs -q -F -t ext4 -L dvboot -d "$bootdir" "$work/boot.ext4" 256M &&
		mke2fs -q -F -t ext4 -L dvroot -d "$root" "$work/root.ext4" 3G
	rc=$?
	rmdir "$root/boot" && mv "$bootdir" "$root/boot"
	[ "$rc" -eq 0 ] || ktap_fail_all "mke2fs -d failed"
	truncate -s 4G "$disk"
	mbr "$disk" 2048 $((256 * 2048)) || ktap_fail_all "cannot write the MBR"
	VAULT_QEMU_EXTRA="-drive file=$disk,format=raw,if=virtio" VAULT_MEMDUMP=0 VAULT_TPM=0 \
	VAULT_GUEST_TIMEOUT=900 VAULT_CONSOLE_LOG=$logs/dkms-make-disk-console.log \
		nice -n 19 "$repo/tests/vm/run-guest" "$k61" -- "$here/dkms/make-disk" /dev/vda \
		"$work/root.ext4" "$work/boot.ext4" "$work/root.key" "$uuid" 2>&1 | sed 's/^/# /'
	rc=${PIPESTATUS[0]}
	rm -f "$work/boot.ext4" "$work/root.ext4"
	ktap_check "make-disk in a $k61 guest" test "$rc" -eq 0 && save_disk boot-6.1
	ktap_finish
}

# save_disk NAME: keep the disk as it is before step NAME (DKMS_FROM=NAME).
save_disk() {
	cp --sparse=always "$disk" "$work/disk-before-$1.img"
}

# boot_disk NAME PART...: boot the disk (its own GRUB, kernel, initramfs
# and systemd), dmv-step runs each PART ("name arg") from the share and
# powers off.  Each part's time goes to out/NAME.secs.
console=
boot_disk() {
	local name=$1 t=$SECONDS rc
	shift
	console=$logs/dkms-console-$name.log
	# The guest runs this tree's guest-step (also after DKMS_FROM=).
	install -m 755 "$here/dkms/guest-step" "$share/guest-step"
	install -D -m 644 "$repo/tests/lib/ktap.sh" "$share/lib/ktap.sh"
	rm -rf "$share/out"
	mkdir -p "$share/out"
	printf '%s\n' "$@" > "$share/parts"
	: > "$console"
	nice -n 19 timeout -k 10 "$boot_timeout" qemu-system-x86_64 \
		-accel "${VAULT_QEMU_ACCEL:-tcg,thread=multi}" -cpu "${VAULT_QEMU_CPU:-max}" \
		-smp 2 -m 2G -display none -nodefaults -no-reboot -monitor none \
		-serial "file:$console" -device virtio-rng-pci \
		-drive "file=$disk,format=raw,if=virtio" \
		-fsdev "local,id=scn,path=$share,security_model=none" \
		-device virtio-9p-pci,fsdev=scn,mount_tag=scn < /dev/null &
	local qpid=$! why=
	# A boot that went wrong waits for ever (an initramfs shell, a
	# prompt): stop it as soon as the console shows it.
	while kill -0 "$qpid" 2>/dev/null; do
		sleep 2
		if grep -aq 'Kernel panic' "$console"; then
			why="the kernel panicked"
		elif grep -aq 'dmv-step: part' "$console"; then
			continue
		elif grep -aqE '\(initramfs\)|Gave up waiting|cannot unlock|Enter passphrase' "$console"; then
			why="the root was not unlocked and mounted"
		elif [ $((SECONDS - t)) -gt "$boot_limit" ]; then
			why="no step started within $boot_limit s"
		fi
		if [ -n "$why" ]; then
			echo "# boot $name: $why; stopping it"
			kill "$qpid" 2>/dev/null
			sleep 3
			pkill -P "$qpid" 2>/dev/null
			break
		fi
	done
	wait "$qpid"
	rc=$?
	echo "# boot $name: qemu exit $rc after $((SECONDS - t)) s, console $console"
	durations+="(boot $name: $((SECONDS - t))s) "
	[ "$rc" -eq 124 ] && echo "# boot $name: timed out after $boot_timeout s"
	# Each part's duration from the console's timestamps is not reliable
	# (TCG): guest-step says it; the boot's own is the boot's time.
	local p
	for p in "$@"; do
		p=${p%% *}
		sed -n 's/^# part took \([0-9]*\) s$/\1/p' "$share/out/$p.log" 2>/dev/null |
			tail -n 1 > "$share/out/$p.secs"
	done
	if [ ! -f "$share/out/done" ]; then
		echo "# the system did not finish its steps; console tail:"
		grep -av '^\s*$' "$console" | tail -n 40 | sed 's/^/#   | /'
	fi
}

# --- run ---------------------------------------------------------------

start=0
if [ -n "$from" ]; then
	case $from in
	boot-6.1|reboot-6.1|boot-6.12) ;;
	*) echo "# DKMS_FROM=$from: expected boot-6.1, reboot-6.1 or boot-6.12"; exit 2 ;;
	esac
	[ -f "$work/disk-before-$from.img" ] ||
		{ echo "# DKMS_FROM=$from: no $work/disk-before-$from.img (run everything once)"; exit 2; }
	for s in "${steps[@]}"; do
		[ "$s" = "$from" ] && break
		echo "# SKIP DKMS_FROM=$from" > "$logs/dkms-$s.log"
		report "$s" 4 "$logs/dkms-$s.log" 0
	done
	cp --sparse=always "$work/disk-before-$from.img" "$disk"
	start=1
fi

if [ "$start" = 0 ]; then
	run_step base-image step_base_image
	run_step purge-clean step_purge_clean
	run_step install-debs step_install_debs
	run_step make-disk step_make_disk
fi

case ${from:-boot-6.1} in
boot-6.1)
	if [ -z "$broken$broken_skip" ]; then
		boot_disk boot-6.1 "root $k61" no-headers > "$logs/dkms-boot-6.1-qemu.log" 2>&1
		cat "$logs/dkms-boot-6.1-qemu.log"
		save_disk reboot-6.1
	fi
	report_part boot-6.1 root
	report_part no-headers no-headers
	;&
reboot-6.1)
	if [ -z "$broken$broken_skip" ]; then
		boot_disk reboot-6.1 "root $k61" headers > "$logs/dkms-reboot-6.1-qemu.log" 2>&1
		cat "$logs/dkms-reboot-6.1-qemu.log"
		save_disk boot-6.12
	fi
	report_part reboot-6.1 root
	report_part headers headers
	;&
boot-6.12)
	if [ -z "$broken$broken_skip" ]; then
		boot_disk boot-6.12 "root $k612" remove-refused > "$logs/dkms-boot-6.12-qemu.log" 2>&1
		cat "$logs/dkms-boot-6.12-qemu.log"
	fi
	report_part boot-6.12 root
	report_part remove-refused remove-refused
	;;
esac

echo "# durations: $durations"
echo "# DKMS scenario: $((SECONDS - t_all)) s in total"
line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line+=", $skipped skipped"
echo "$line"
[ "$failed" -eq 0 ] || exit 1
[ "$passed" -gt 0 ] || exit 4
exit 0
}
