# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034
#
# tests/boot/lib.sh - shared helpers for the boot tests (bash).
#
# A boot test is tests/boot/NN-name.sh, run by tests/boot/run KVER with
# BOOT_KVER set.  It sources this file first:
#     . "$(dirname "$0")/lib.sh"
# prints diagnostics as "# " lines and exits 0 = pass, 4 = skip, else fail.
# The result helpers are those of tests/lib/ktap.sh (sourced here):
#   ktap_check DESC CMD..., ktap_pass DESC, ktap_fail DESC, ktap_diag MSG,
#   ktap_skip REASON, ktap_fail_all REASON, ktap_finish, not CMD...
#
# Variables (set here; read-only for the tests)
#   BOOT_KVER     the kernel under test (env BOOT_KVER, else $KVER)
#   BOOT_REPO     the repository;  BOOT_BUILD = $BOOT_REPO/build
#   BOOT_DIR      build/boot: artifacts shared by every kernel
#   BOOT_KDIR     build/boot/$BOOT_KVER: this kernel's initramfs images
#   BOOT_LOGS     build/logs: console transcripts boot-KVER-NAME.log
#   BOOT_NAME     the root volume's mapping name (vroot)
#   BOOT_UUID     the LUKS2 UUID of the disk's volume
#   BOOT_PASS     the right passphrase (keyslot 0);  BOOT_WRONG a wrong one
#   BOOT_KEYFILE  a key file that opens keyslot 1 (mode 0600; copy it to
#                 change its mode)
#   BOOT_TOKEN    the random token baked into the root fs's /sbin/init
#   VAULTCTL, VAULT_KO  (as in the guest tests) vaultctl, this kernel's module
#
# Artifacts (each built when missing or when its inputs changed; a stamp
# file next to it holds the inputs' hash; they print progress as "# ")
#   boot_rootfs      build/boot/rootfs.ext4: busybox-static root whose
#                    /sbin/init prints the marker (boot_marker) and powers
#                    off.  Sets BOOT_TOKEN.
#   boot_disk        build/boot/disk.img: raw disk, LUKS2 vault volume
#                    (pbkdf2, 1000 iterations) over all of it, the root fs
#                    written through dm-vault; keyslot 0 = BOOT_PASS,
#                    keyslot 1 = BOOT_KEYFILE.  Made in a guest
#                    (tests/vm/run-guest) by tests/boot/make-disk.
#                    Boot it with snapshot=on (boot_qemu does): never written.
#   boot_mkinitramfs VARIANT TABFILE UMASK [VAR=VALUE...]
#                    build/boot/KVER/initrd-VARIANT.img by Debian's
#                    mkinitramfs -d CONFDIR (MODULES=list, our hook and
#                    local-top script, UMASK as given, "" = mkinitramfs's
#                    default), with VAULTTAB=TABFILE, VAULT_MODULE=$VAULT_KO,
#                    VAULTCTL=$VAULTCTL and the VAR=VALUEs in the hook's
#                    environment.  mkinitramfs's output (warnings) is kept in
#                    build/boot/KVER/initrd-VARIANT.log.  Prints the image.
#                    Debian's dropbear-initramfs, when installed, is left
#                    out (see _boot_mkinitramfs_ns) unless a VAR=VALUE is
#                    BOOT_SSH_ETC=DIR: then the image has its SSH server,
#                    configured from DIR as from /etc/dropbear/initramfs
#                    (authorized_keys, host keys, dropbear.conf), and
#                    virtio_net; boot it with BOOT_QEMU_EXTRA's NIC and ip=.
#   boot_prepare     boot_rootfs + boot_disk (what run does first).
#   boot_unpack INITRD DIR  unpacks INITRD into DIR (emptied first) with
#                    unmkinitramfs and prints the directory of its main
#                    archive (DIR/main when an early cpio comes first).
#   boot_pass_initrd the "pass" variant of boot_mkinitramfs: the root's
#                    entry asks for a passphrase (tries=2), found from the
#                    root's source (VAULT_ROOT), not from `initramfs`.
#   boot_has_plymouth IMAGE  true when Debian's plymouth hook put plymouthd
#                    and its details plugin (the serial console's renderer)
#                    in IMAGE (it does in every image once plymouth is
#                    installed).
#   boot_plymouth_stars PROMPT TEXT  the line plymouth's details renderer
#                    draws for a question once TEXT is typed: PROMPT (as
#                    plymouth shows it: vaultctl's prompt without its
#                    trailing space) and one '*' per character of TEXT.
#
# Booting
#   boot_new_nonce   sets BOOT_NONCE, a fresh random word for one boot; the
#                    root's init prints it back (from vault.nonce=).
#   boot_marker      the line the real root prints: "VAULT-ROOT-OK TOKEN
#                    NONCE root=/dev/mapper/NAME".  Then one line
#                    "VAULT-DM NAME" per device-mapper device open.
#   boot_tr_vi MSGID the build tree's Vietnamese for MSGID (gettext(1);
#                    LANGUAGE=vi under C.UTF-8, as an image has it)
#   boot_console TEXT   TEXT as console.py reads the console (Latin-1: each
#                    UTF-8 byte one character), for an expect step
#   boot_qemu NAME INITRD CMDLINE  < STEPS
#                    boots BOOT_KVER in QEMU (TCG, 2 CPUs, 1 GiB, the disk as
#                    virtio /dev/vda with snapshot=on, serial console on
#                    stdio) with "console=ttyS0 no_timer_check
#                    vault.nonce=$BOOT_NONCE CMDLINE", driven by
#                    tests/boot/console.py with the steps read from stdin
#                    (see console.py: expect SECS TEXT, send TEXT, fail TEXT,
#                    absent TEXT, exit SECS).  Without `splash` (or a
#                    plymouth.* option) in CMDLINE it adds plymouth.enable=0:
#                    plymouthd stays off, vaultctl asks on the console.
#                    Transcript: build/logs/boot-KVER-NAME.log.  Returns console.py's
#                    status.  BOOT_QEMU_EXTRA adds QEMU arguments; BOOT_DISK
#                    boots another disk image (a case's copy of disk.img).
#   BOOT_FAIL_STEPS  steps worth adding to every boot (kernel panic, ...).
#
# The software TPM (each case has its own; tests/boot/run makes BOOT_TPM_DIR,
# a case run by hand gets a temporary one).  Every boot_qemu starts a swtpm
# on the case's TPM state and gives it to the guest as tpm-crb (the kernel's
# /dev/tpm0, /dev/tpmrm0); the state (seeds, sealed objects' parents) lasts
# across the case's boots, PCRs start afresh at each boot (SeaBIOS measures
# into PCRs 0-7).  BOOT_TPM=0: boot without a TPM.
#   BOOT_TPM_DIR     the case's TPM directory: state/ (swtpm's state), log
#                    (every command and response of every boot, as hex,
#                    appended; tests/lib/tpm.sh's tpm_log_* read it when
#                    VAULT_TPM_LOG=$BOOT_TPM_DIR/log)
#   boot_tpm_require skip (fail with VAULT_STRICT_DEPS=1) without swtpm or
#                    tpm2-tools.
#   boot_tpm_host CMD...  run CMD on the host with a swtpm on the case's TPM
#                    (not while a boot runs): TPM2TOOLS_TCTI and BOOT_TPM_TCTI
#                    are "swtpm:path=SOCKET", the TCTI string systemd-cryptenroll
#                    --tpm2-device= and tss2 take.  Its PCRs are those of a TPM
#                    no firmware measured into (0-7 all zeros), unlike a boot's.
#   boot_tpm_guest CMD...  run CMD in a tests/vm/run-guest guest whose TPM is
#                    the case's (VAULT_TPM_STATE): what it seals can be
#                    unsealed by the case's boots.  Returns run-guest's status.
#   boot_tpm2_disk OUT [--with-pin PIN PIN_OUT]  OUT: a copy of disk.img
#                    with a systemd-tpm2 token (PCRs 7+15) enrolled on the
#                    case's TPM in a guest; boot it with BOOT_DISK=OUT.
#                    --with-pin: PIN_OUT too, its token sealed with PIN
#                    (--tpm2-with-pin), in the same guest.  Log: OUT.log.
#
# Environment: BOOT_KVER (or KVER), VAULT_QEMU_ACCEL / VAULT_QEMU_CPU (as
# run-guest), BOOT_RUN_ID (set by run: a failed disk build is not retried
# within one run).

BOOT_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BOOT_BUILD=$BOOT_REPO/build
BOOT_KVER=${BOOT_KVER:-${KVER:-}}
[ -n "$BOOT_KVER" ] || { echo "# not ok - BOOT_KVER is not set" >&2; exit 1; }
BOOT_DIR=$BOOT_BUILD/boot
BOOT_KDIR=$BOOT_DIR/$BOOT_KVER
BOOT_LOGS=$BOOT_BUILD/logs
BOOT_NAME=vroot
BOOT_UUID=5a6f1c3e-7d21-4b8e-9c0a-d1e2f3a4b5c6
BOOT_PASS='correct horse vault'
BOOT_WRONG='wrong horse vault'
BOOT_KEYFILE=$BOOT_DIR/disk.key
BOOT_TOKEN=
BOOT_NONCE=
BOOT_RUN_ID=${BOOT_RUN_ID:-$$}
BOOT_FAIL_STEPS='fail Kernel panic
fail BUG:
fail Oops
fail general protection'
export BOOT_KVER BOOT_RUN_ID

VAULT_KVER=$BOOT_KVER
VAULT_BUILD=$BOOT_BUILD
VAULT_REPO=$BOOT_REPO
. "$BOOT_REPO/tests/lib/ktap.sh"

mkdir -p "$BOOT_DIR" "$BOOT_KDIR" "$BOOT_LOGS"

# _boot_hash ITEM...: a hash of files' contents (and modes) and words.
# The builders hash their own text (declare -f), not all of lib.sh: an
# edit elsewhere in this file does not rebuild the disk.
_boot_hash() {
	local i
	for i in "$@"; do
		if [ -f "$i" ]; then
			printf '%s %s ' "$i" "$(stat -c %a "$i")"
			sha256sum < "$i"
		else
			printf 'word %s\n' "$i"
		fi
	done | sha256sum | cut -c1-32
}

# _boot_fresh OUT HASH: OUT exists and was built from inputs hashing to HASH.
_boot_fresh() {
	[ -s "$1" ] && [ "$(cat "$1.stamp" 2>/dev/null)" = "$2" ]
}

# _boot_locked CMD...: run CMD under build/boot/.lock (kernels' runs may
# overlap when started by hand).
_boot_locked() {
	(
		flock 9
		"$@"
	) 9> "$BOOT_DIR/.lock"
}

_boot_rootfs_build() {
	local out=$BOOT_DIR/rootfs.ext4 dir token a h
	local busybox=/bin/busybox
	[ -x "$busybox" ] || { ktap_diag "busybox-static is not installed ($busybox)"; return 1; }
	h=$(_boot_hash "$(declare -f _boot_rootfs_build)" "$busybox")
	if _boot_fresh "$out" "$h"; then
		return 0
	fi
	ktap_diag "building the root fs $out"
	dir=$BOOT_DIR/rootfs.d
	rm -rf "$dir" "$out" "$out.token"
	mkdir -p "$dir"/{bin,sbin,dev,proc,sys,run,tmp,etc,root}
	cp "$busybox" "$dir/bin/busybox"
	for a in sh mount umount cat echo sed awk sync poweroff sleep ls; do
		ln -s busybox "$dir/bin/$a"
	done
	token=$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')
	# The real root's init: prove it ran (token baked in at build time,
	# nonce from this boot's command line), say what / is, power off.
	cat > "$dir/sbin/init" <<-EOF
	#!/bin/sh
	export PATH=/bin
	mount -t proc proc /proc
	nonce=\$(sed -n 's/.*vault\\.nonce=\\([^ ]*\\).*/\\1/p' /proc/cmdline)
	root=\$(awk '\$2 == "/" { r = \$1 } END { print r }' /proc/mounts)
	echo "VAULT-ROOT-OK $token \$nonce root=\$root"
	# the device-mapper devices the initramfs left open, one a line
	# (initramfs-tools moves its /sys here; dracut may not)
	[ -d /sys/block ] || mount -t sysfs sysfs /sys
	for d in /sys/block/dm-*/dm/name; do
		[ -r "\$d" ] && echo "VAULT-DM \$(cat "\$d")"
	done
	sync
	poweroff -f
	echo o > /proc/sysrq-trigger
	sleep 10
	EOF
	chmod 755 "$dir/sbin/init"
	echo "/dev/mapper/$BOOT_NAME / ext4 defaults 0 1" > "$dir/etc/fstab"
	# systemd (dracut's initramfs) switches only into an OS tree.
	printf 'ID=vault-test\nNAME="dm-vault boot test root"\n' > "$dir/etc/os-release"
	mke2fs -q -F -t ext4 -b 4096 -L vaultroot -d "$dir" "$out" 16M || return 1
	echo "$token" > "$out.token"
	echo "$h" > "$out.stamp"
}

boot_unpack() {
	rm -rf "$2"
	unmkinitramfs "$1" "$2" 2>/dev/null || return 1
	if [ -d "$2/main" ]; then echo "$2/main"; else echo "$2"; fi
}

boot_rootfs() {
	_boot_locked _boot_rootfs_build || return 1
	BOOT_TOKEN=$(cat "$BOOT_DIR/rootfs.ext4.token")
}

_boot_disk_build() {
	local out=$BOOT_DIR/disk.img h rc t
	local pass=$BOOT_DIR/disk.pass failed=$BOOT_DIR/disk.failed
	printf '%s' "$BOOT_PASS" > "$pass"
	if [ ! -s "$BOOT_KEYFILE" ]; then
		head -c 64 /dev/urandom > "$BOOT_KEYFILE"
	fi
	chmod 600 "$pass" "$BOOT_KEYFILE"
	# Not vaultctl: the disk is a fixture, a new vaultctl build does not
	# make it stale (the boots test the vaultctl in the initramfs).
	h=$(_boot_hash "$(declare -f _boot_disk_build)" "$BOOT_REPO/tests/boot/make-disk" \
		"$BOOT_DIR/rootfs.ext4" "$pass" "$BOOT_KEYFILE" "$BOOT_UUID")
	if _boot_fresh "$out" "$h"; then
		return 0
	fi
	if [ "$(cat "$failed" 2>/dev/null)" = "$BOOT_RUN_ID $h" ]; then
		ktap_diag "the disk image could not be made earlier in this run"
		return 1
	fi
	[ -f "$VAULT_KO" ] || { ktap_diag "no module $VAULT_KO (make module)"; return 1; }
	[ -x "$VAULTCTL" ] || { ktap_diag "no $VAULTCTL (make userspace)"; return 1; }
	ktap_diag "making the disk image $out in a $BOOT_KVER guest"
	rm -f "$out" "$out.stamp"
	truncate -s 40M "$out.new"
	t=$SECONDS
	VAULT_QEMU_EXTRA="-drive file=$out.new,format=raw,if=virtio" \
	VAULT_GUEST_TIMEOUT=300 VAULT_CONSOLE_LOG=$BOOT_LOGS/boot-disk-console.log \
		"$BOOT_REPO/tests/vm/run-guest" "$BOOT_KVER" -- \
		"$BOOT_REPO/tests/boot/make-disk" /dev/vda "$BOOT_DIR/rootfs.ext4" \
		"$pass" "$BOOT_KEYFILE" "$BOOT_UUID" > "$BOOT_LOGS/boot-disk.log" 2>&1
	rc=$?
	sed 's/^/#   /' "$BOOT_LOGS/boot-disk.log"
	if [ "$rc" -ne 0 ]; then
		ktap_diag "making the disk failed (exit $rc; log $BOOT_LOGS/boot-disk.log)"
		echo "$BOOT_RUN_ID $h" > "$failed"
		rm -f "$out.new"
		return 1
	fi
	mv "$out.new" "$out"
	echo "$h" > "$out.stamp"
	ktap_diag "disk image made in $((SECONDS - t)) s"
}

boot_disk() {
	boot_rootfs || return 1
	_boot_locked _boot_disk_build
}

boot_prepare() {
	boot_disk
}

# boot_lvm_disk (after boot_prepare): build/boot/disk-lvm.img, a disk whose
# LUKS2 vault volume (keyslot 0 = BOOT_PASS, pbkdf2 1000 iterations) holds
# an LVM PV, VG $BOOT_LVM_VG, LV $BOOT_LVM_LV carrying the root fs, made in
# a guest by tests/boot/make-lvm-disk (log: build/logs/boot-lvm-disk.log).
# Boot it with BOOT_DISK=$BOOT_DIR/disk-lvm.img.
BOOT_LVM_VG=vaultvg
BOOT_LVM_LV=root
_boot_lvm_disk_build() {
	local out=$BOOT_DIR/disk-lvm.img pass=$BOOT_DIR/disk.pass h rc t
	local failed=$BOOT_DIR/disk-lvm.failed script=$BOOT_REPO/tests/boot/make-lvm-disk
	h=$(_boot_hash "$(declare -f _boot_lvm_disk_build)" "$script" \
		"$BOOT_DIR/rootfs.ext4" "$pass" "$BOOT_UUID" "$BOOT_LVM_VG" "$BOOT_LVM_LV")
	_boot_fresh "$out" "$h" && return 0
	if [ "$(cat "$failed" 2>/dev/null)" = "$BOOT_RUN_ID $h" ]; then
		ktap_diag "the LVM disk image could not be made earlier in this run"
		return 1
	fi
	ktap_diag "making the LVM disk image $out in a $BOOT_KVER guest"
	rm -f "$out" "$out.stamp"
	truncate -s 40M "$out.new"
	t=$SECONDS
	VAULT_QEMU_EXTRA="-drive file=$out.new,format=raw,if=virtio" VAULT_MEMDUMP=0 \
	VAULT_GUEST_TIMEOUT=300 VAULT_CONSOLE_LOG=$BOOT_LOGS/boot-lvm-disk-console.log \
		"$BOOT_REPO/tests/vm/run-guest" "$BOOT_KVER" -- "$script" /dev/vda \
		"$BOOT_DIR/rootfs.ext4" "$pass" "$BOOT_UUID" "$BOOT_LVM_VG" "$BOOT_LVM_LV" \
		> "$BOOT_LOGS/boot-lvm-disk.log" 2>&1
	rc=$?
	sed 's/^/#   /' "$BOOT_LOGS/boot-lvm-disk.log"
	if [ "$rc" -ne 0 ]; then
		ktap_diag "making the LVM disk failed (exit $rc; log $BOOT_LOGS/boot-lvm-disk.log)"
		echo "$BOOT_RUN_ID $h" > "$failed"
		rm -f "$out.new"
		return 1
	fi
	mv "$out.new" "$out"
	echo "$h" > "$out.stamp"
	ktap_diag "LVM disk image made in $((SECONDS - t)) s"
}

boot_lvm_disk() {
	boot_disk || return 1
	_boot_locked _boot_lvm_disk_build
}

# Debian's dropbear-initramfs reaches into EVERY mkinitramfs image, -d
# CONFDIR or not (its files are under /usr/share): its conf-hook forces
# BUSYBOX=y and UMASK=0077 after CONFDIR's initramfs.conf (30's BUSYBOX=n and
# 40's default-umask images would change), its hook copies dropbear in, and
# at boot its scripts configure the network in the background and make
# init-bottom wait up to 60 s for dropbear (our guests have no NIC).  So
# mkinitramfs runs in a private mount namespace: for an image without SSH
# the package's four files are hidden behind an empty script (the image is
# what it was without the package); with SSH, BOOT_SSH_ETC (a directory
# made per run) stands in for /etc/dropbear/initramfs, which the package's
# own hook reads: the host's /etc is never written.
_BOOT_DROPBEAR_FILES="conf-hooks.d/dropbear hooks/dropbear scripts/init-premount/dropbear
	scripts/init-bottom/dropbear"

# _boot_mkinitramfs_ns SSH_ETC CMD...: runs CMD so (SSH_ETC "" = no SSH).
_boot_mkinitramfs_ns() {
	local ssh_etc=$1 empty
	shift
	if [ ! -e /usr/share/initramfs-tools/hooks/dropbear ]; then
		if [ -n "$ssh_etc" ]; then
			echo "dropbear-initramfs is not installed (make deps)"
			return 1
		fi
		"$@"
		return
	fi
	empty=$BOOT_KDIR/empty-script
	[ -x "$empty" ] || { printf '#!/bin/sh\n' > "$empty" && chmod 755 "$empty"; }
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare -m --propagation private sh -c '
		ssh_etc=$1 empty=$2 files=$3
		shift 3
		if [ -n "$ssh_etc" ]; then
			mount --bind "$ssh_etc" /etc/dropbear/initramfs || exit 1
		else
			for f in $files; do
				f=/usr/share/initramfs-tools/$f
				[ ! -e "$f" ] || mount --bind "$empty" "$f" || exit 1
			done
		fi
		exec "$@"' sh "$ssh_etc" "$empty" "$_BOOT_DROPBEAR_FILES" "$@"
}

_boot_mkinitramfs_build() {
	local variant=$1 tab=$2 umask=$3 h conf out log rc a ssh_etc="" ssh_files=()
	shift 3
	for a in "$@"; do
		case $a in BOOT_SSH_ETC=*) ssh_etc=${a#BOOT_SSH_ETC=} ;; esac
	done
	# its files (a new test key each run) make a new image
	[ -n "$ssh_etc" ] && ssh_files=("$ssh_etc"/*)
	conf=$BOOT_KDIR/conf-$variant
	out=$BOOT_KDIR/initrd-$variant.img
	log=$BOOT_KDIR/initrd-$variant.log
	local hook=$BOOT_REPO/userspace/boot/initramfs-tools/hooks/vault
	local script=$BOOT_REPO/userspace/boot/initramfs-tools/scripts/local-top/vault
	local keys=()
	# Key files named in the tab: their content and mode change the image
	# and the hook's warnings.
	while read -r _ _ k _; do
		[ -f "$k" ] && keys+=("$k")
	done < <(grep -v '^[[:space:]]*#' "$tab")
	h=$(_boot_hash "$(declare -f _boot_mkinitramfs_build)" "$hook" "$script" \
		"$BOOT_REPO/userspace/boot/vault-gettext.sh" "$tab" \
		"${keys[@]}" "$VAULTCTL" "$VAULT_KO" "/lib/modules/$BOOT_KVER/modules.dep" \
		/usr/sbin/mkinitramfs "umask=$umask" "$@" "${ssh_files[@]}")
	if _boot_fresh "$out" "$h"; then
		echo "$out"
		return 0
	fi
	rm -rf "$conf" "$out"
	mkdir -p "$conf/hooks" "$conf/scripts/local-top" "$conf/conf.d"
	cat > "$conf/initramfs.conf" <<-EOF
	MODULES=list
	BUSYBOX=\${BUSYBOX:-auto}
	KEYMAP=n
	COMPRESS=gzip
	COMPRESSLEVEL=1
	DEVICE=
	NFSROOT=auto
	RUNSIZE=10%
	FSTYPE=ext4
	RESUME=none
	EOF
	[ -n "$umask" ] && echo "UMASK=$umask" >> "$conf/initramfs.conf"
	printf '%s\n' virtio_pci virtio_blk virtio_console ext4 crc32c_generic dm-mod \
		> "$conf/modules"
	[ -n "$ssh_etc" ] && echo virtio_net >> "$conf/modules"
	install -m 755 "$hook" "$conf/hooks/vault"
	install -m 755 "$script" "$conf/scripts/local-top/vault"
	install -m 644 "$BOOT_REPO/userspace/boot/vault-gettext.sh" "$conf/scripts/vault-gettext"
	mkdir -p "$BOOT_KDIR/tmp"
	_boot_mkinitramfs_ns "$ssh_etc" \
		env TMPDIR="$BOOT_KDIR/tmp" VAULTTAB="$tab" VAULT_MODULE="$VAULT_KO" \
		VAULTCTL="$VAULTCTL" "$@" \
		mkinitramfs -d "$conf" -o "$out" "$BOOT_KVER" > "$log" 2>&1
	rc=$?
	if [ "$rc" -ne 0 ] || [ ! -s "$out" ]; then
		ktap_diag "mkinitramfs for $variant failed (exit $rc):" >&2
		sed 's/^/#   /' "$log" >&2
		rm -f "$out"
		return 1
	fi
	echo "$h" > "$out.stamp"
	echo "$out"
}

boot_mkinitramfs() {
	[ $# -ge 3 ] || { ktap_diag "usage: boot_mkinitramfs VARIANT TAB UMASK [VAR=VAL...]" >&2; return 1; }
	[ -x "$VAULTCTL" ] || { ktap_diag "no $VAULTCTL (make userspace)" >&2; return 1; }
	[ -f "$VAULT_KO" ] || { ktap_diag "no module $VAULT_KO (make module)" >&2; return 1; }
	_boot_locked _boot_mkinitramfs_build "$@"
}

# boot_pass_initrd (after boot_prepare): prints the path of the initramfs
# whose root entry asks for a passphrase (tries=2), found from the root's
# source (VAULT_ROOT), not from an `initramfs` option.
boot_pass_initrd() {
	local tab=$BOOT_KDIR/vaulttab-pass

	echo "$BOOT_NAME /dev/vda none luks,tries=2" > "$tab"
	boot_mkinitramfs pass "$tab" 0077 "VAULT_ROOT=/dev/mapper/$BOOT_NAME"
}

boot_has_plymouth() {
	local files
	files=$(lsinitramfs "$1") || return 1
	grep -q 'usr/sbin/plymouthd$' <<< "$files" && grep -q 'plymouth/details\.so$' <<< "$files"
}

boot_plymouth_stars() {
	printf '%s' "$1"
	printf '%*s' "${#2}" '' | tr ' ' '*'
}

boot_new_nonce() {
	BOOT_NONCE=$(od -An -N6 -tx8 /dev/urandom | tr -d ' ')
}

boot_marker() {
	echo "VAULT-ROOT-OK $BOOT_TOKEN $BOOT_NONCE root=/dev/mapper/$BOOT_NAME"
}

boot_tr_vi() {
	LC_ALL=C.UTF-8 LANGUAGE=vi TEXTDOMAINDIR=$BOOT_BUILD/locale gettext -d vaultctl -- "$1"
}

boot_console() {
	printf '%s' "$1" | iconv -f latin1 -t utf-8
}

# The case's TPM directory (tests/boot/run makes one per case).
if [ -z "${BOOT_TPM_DIR:-}" ]; then
	BOOT_TPM_DIR=$(mktemp -d "$BOOT_KDIR/tmp-tpm.XXXXXX")
	ktap_defer rm -rf "$BOOT_TPM_DIR"
fi
mkdir -p "$BOOT_TPM_DIR/state"
chmod 700 "$BOOT_TPM_DIR" "$BOOT_TPM_DIR/state"
_boot_tpm_pid=
ktap_defer _boot_tpm_stop

_boot_tpm_missing() {
	[ "${BOOT_TPM:-1}" = 0 ] && { echo "BOOT_TPM=0"; return 0; }
	[ -x "$(command -v swtpm)" ] || { echo "swtpm is not installed (make deps)"; return 0; }
	return 1
}

boot_tpm_require() {
	local why
	if why=$(_boot_tpm_missing); then
		ktap_skip_dep "no software TPM: $why"
	fi
	need_cmd tpm2_pcrread
}

# _boot_tpm_start MODE: a swtpm on the case's state; MODE qemu (control
# socket only: QEMU hands it the data channel) or host (a data socket
# $BOOT_TPM_DIR/sock too).  Its pid in _boot_tpm_pid.
_boot_tpm_start() {
	local mode=$1 i args=(--flags startup-clear --terminate)
	rm -f "$BOOT_TPM_DIR/sock" "$BOOT_TPM_DIR/sock.ctrl"
	if [ "$mode" = host ]; then
		# Each tss2 client opens and closes the control socket: no --terminate.
		# shellcheck disable=SC2054 # option strings, not array elements
		args=(--server "type=unixio,path=$BOOT_TPM_DIR/sock" --flags startup-clear,not-need-init)
	fi
	swtpm socket --tpm2 --tpmstate "dir=$BOOT_TPM_DIR/state" \
		--ctrl "type=unixio,path=$BOOT_TPM_DIR/sock.ctrl" "${args[@]}" \
		--log "file=$BOOT_TPM_DIR/log,level=4" < /dev/null 2> "$BOOT_TPM_DIR/err" &
	_boot_tpm_pid=$!
	for ((i = 0; i < 100; i++)); do
		[ -S "$BOOT_TPM_DIR/sock.ctrl" ] && { [ "$mode" = qemu ] || [ -S "$BOOT_TPM_DIR/sock" ]; } &&
			return 0
		kill -0 "$_boot_tpm_pid" 2>/dev/null || break
		sleep 0.05
	done
	ktap_diag "swtpm did not start:"
	sed 's/^/#   /' "$BOOT_TPM_DIR/err"
	_boot_tpm_stop
	return 1
}

_boot_tpm_stop() {
	[ -n "$_boot_tpm_pid" ] || return 0
	kill "$_boot_tpm_pid" 2>/dev/null
	wait "$_boot_tpm_pid" 2>/dev/null
	_boot_tpm_pid=
}

boot_tpm_host() {
	local rc
	boot_tpm_require
	_boot_tpm_start host || return 1
	BOOT_TPM_TCTI=swtpm:path=$BOOT_TPM_DIR/sock TPM2TOOLS_TCTI=swtpm:path=$BOOT_TPM_DIR/sock "$@"
	rc=$?
	_boot_tpm_stop
	return "$rc"
}

boot_tpm_guest() {
	boot_tpm_require
	VAULT_TPM_STATE=$BOOT_TPM_DIR/state "$BOOT_REPO/tests/vm/run-guest" "$BOOT_KVER" -- "$@"
}

# boot_tpm2_disk OUT [--with-pin PIN PIN_OUT]: OUT becomes a copy of
# disk.img with a systemd-tpm2 token (vaultctl enroll --tpm2-pcrs=7) sealed
# in a run-guest guest on the case's TPM, so to the PCR 7 SeaBIOS measures
# in the case's boots (PCR 15 computed as zero).  With --with-pin, PIN_OUT
# too, in the same guest (one guest boot less), its token sealed with the
# PIN (--tpm2-with-pin).  Their output in OUT.log.  Returns enroll's status.
boot_tpm2_disk() {
	local out=$1 pin="" pinout="" drives
	if [ "${2:-}" = --with-pin ]; then
		pin=$3 pinout=$4
	fi
	boot_tpm_require
	cp --sparse=always "$BOOT_DIR/disk.img" "$out" || return 1
	drives="-drive file=$out,format=raw,if=virtio"
	if [ -n "$pinout" ]; then
		cp --sparse=always "$BOOT_DIR/disk.img" "$pinout" || return 1
		drives="$drives -drive file=$pinout,format=raw,if=virtio"
	fi
	# shellcheck disable=SC2016 # expanded by the guest's shell
	VAULT_QEMU_EXTRA=$drives VAULT_MEMDUMP=0 \
		boot_tpm_guest sh -c 'modprobe virtio_blk; modprobe tpm_crb
			i=0; while [ ! -b /dev/vda ] || [ ! -e /dev/tpmrm0 ] ||
				{ [ -n "$2" ] && [ ! -b /dev/vdb ]; }; do
				i=$((i + 1)); [ $i -lt 100 ] || break; sleep 0.1; done
			"$0" enroll --tpm2-device=auto --tpm2-pcrs=7 --key-file "$1" /dev/vda || exit
			[ -z "$2" ] || NEWPIN=$2 "$0" enroll --tpm2-device=auto --tpm2-pcrs=7 \
				--tpm2-with-pin --key-file "$1" /dev/vdb' \
			"$VAULTCTL" "$BOOT_DIR/disk.pass" "$pin" > "$out.log" 2>&1
}

# _boot_splash_args CMDLINE: CMDLINE, plus plymouth.enable=0 unless it asks
# for the splash or sets a plymouth option.  Debian's plymouth (in every
# mkinitramfs image once installed) starts plymouthd on every boot but
# `nosplash`/`plymouth.enable=0` (its init-premount script), and on a serial
# console plymouthd then asks every question itself (details renderer): the
# console prompt would go untested.  Cases with `splash` test plymouth.
_boot_splash_args() {
	case " $1 " in
	*" splash "* | *" plymouth."*) echo "$1" ;;
	*) echo "$1 plymouth.enable=0" ;;
	esac
}

boot_qemu() {
	local name=$1 initrd=$2 cmdline=$3 steps log extra tpm=() why
	cmdline=$(_boot_splash_args "$cmdline")
	steps=$(mktemp "$BOOT_KDIR/tmp-steps.XXXXXX")
	cat > "$steps"
	log=$BOOT_LOGS/boot-$BOOT_KVER-$name.log
	read -r -a extra <<< "${BOOT_QEMU_EXTRA:-}"
	if why=$(_boot_tpm_missing); then
		[ "$why" = BOOT_TPM=0 ] || ktap_diag "booting without a TPM: $why"
	elif _boot_tpm_start qemu; then
		# shellcheck disable=SC2054 # QEMU option strings, not array elements
		tpm=(-chardev "socket,id=chrtpm,path=$BOOT_TPM_DIR/sock.ctrl"
			-tpmdev emulator,id=tpm0,chardev=chrtpm -device tpm-crb,tpmdev=tpm0)
	else
		rm -f "$steps"
		return 1
	fi
	python3 "$BOOT_REPO/tests/boot/console.py" --log "$log" --steps "$steps" -- \
		qemu-system-x86_64 \
		-accel "${VAULT_QEMU_ACCEL:-tcg,thread=multi}" -cpu "${VAULT_QEMU_CPU:-max}" \
		-smp 2 -m 1G -display none -nodefaults -no-reboot -monitor none \
		-serial stdio -device virtio-rng-pci \
		-drive "file=${BOOT_DISK:-$BOOT_DIR/disk.img},format=raw,if=virtio,snapshot=on" \
		"${extra[@]}" "${tpm[@]}" \
		-kernel "/boot/vmlinuz-$BOOT_KVER" -initrd "$initrd" \
		-append "console=ttyS0 no_timer_check vault.nonce=$BOOT_NONCE $cmdline"
	local rc=$?
	_boot_tpm_stop
	rm -f "$steps"
	ktap_diag "console transcript: $log"
	return "$rc"
}
