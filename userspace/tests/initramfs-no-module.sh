#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# "Never strand a root-on-vault machine": with the real generators, an
# initramfs for a kernel that has no dm-vault.ko is refused when the root
# (or an `initramfs` entry of the vaulttab) is on dm-vault, with a message
# that names the kernel and says what to do, and the previous image stays.
# For each kernel with headers and an image (it must have no dm_vault
# installed: the host's kernels are that kernel "without the module"):
#   initramfs-tools: update-initramfs -c builds the previous image (with
#     VAULT_MODULE, as if DKMS had built it); update-initramfs -u without
#     it fails, says so, leaves that image byte for byte and no .new file;
#     the same with only an `initramfs` entry; and it succeeds when no
#     entry needs dm-vault (the refusal is about dm-vault, nothing else);
#     and with the module, a root entry vaultctl tab-check refuses is
#     refused too, the previous image kept (these last three cases do
#     not depend on the kernel: on the first kernel only); with the module,
#     a root entry with header= (a detached LUKS2 header) puts the header
#     file into the image as /etc/vault/headers/NAME.hdr (0400, the same
#     bytes) and rewrites the entry to it, and a missing header file is
#     refused naming the entry and the file, the previous image kept;
#   dracut: the same with dracut --force.
# update-initramfs runs in a private mount namespace where
# /etc/initramfs-tools is a temporary copy holding our hook (and a small
# MODULES=list configuration, for speed); its -b puts the images in a
# temporary directory.  dracut takes our module through a private
# dracutbasedir (as tests/boot/dracut.sh) and writes into the same
# temporary directory.  /boot, /etc and /lib/modules are never written.
# Prints KTAP.  Usage: initramfs-no-module.sh [VAULTCTL]
# Environment: VAULT_BUILD (default: VAULTCTL's directory, ../../build),
#              VAULT_NOMOD_KVERS (the kernels; default: each one with
#              VAULT_BUILD/KVER/dm-vault.ko and /lib/modules/KVER)

[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BOOTSRC=$REPO/userspace/boot

if [ "${1:-}" != --inner ]; then
	VAULTCTL=${1:-$REPO/build/vaultctl}
	case $VAULTCTL in /*) ;; *) VAULTCTL=$(pwd)/$VAULTCTL ;; esac
	# The modules are built next to vaultctl: BUILD/KVER/dm-vault.ko.
	VAULT_BUILD=${VAULT_BUILD:-$(dirname "$VAULTCTL")}
	export VAULT_BUILD
	echo "KTAP version 1"
	why="" dep=""
	[ "$(id -u)" = 0 ] || why="needs root"
	for c in update-initramfs mkinitramfs lsinitramfs dracut unshare; do
		command -v "$c" >/dev/null || dep="${dep:-$c is not installed (make deps)}"
	done
	unshare -m --propagation private true 2>/dev/null || why=${why:-"no mount namespaces"}
	[ -x "$VAULTCTL" ] || dep=${dep:-"$VAULTCTL is not built"}
	if [ -n "$why$dep" ]; then
		echo "1..1"
		# A missing declared dependency fails under VAULT_STRICT_DEPS=1.
		if [ -z "$why" ] && [ "${VAULT_STRICT_DEPS:-0}" = 1 ]; then
			echo "not ok 1 initramfs without dm-vault.ko"
			echo "# $dep (a declared dependency, VAULT_STRICT_DEPS=1)"
			exit 1
		fi
		echo "ok 1 initramfs without dm-vault.ko # SKIP ${why:-$dep}"
		exit 0
	fi
	T=$(mktemp -d /tmp/vault-nomod.XXXXXX) || exit 1
	trap 'rm -rf "$T"' EXIT
	unshare -m --propagation private bash "$0" --inner "$T" "$VAULTCTL"
	exit
fi

T=$2 VAULTCTL=$3 BUILD=$VAULT_BUILD
n=0; pass=0; fail=0
ok()  { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n $1"; }
nok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n $1"; }
# check DESC CMD...: ok when CMD succeeds; else nok, and the last run's log.
check() {
	local d=$1
	shift
	if "$@"; then
		ok "$d"
	else
		nok "$d"
		sed 's/^/# /' "$T/log" | tail -n 25
	fi
}

if [ -n "${VAULT_NOMOD_KVERS:-}" ]; then
	read -r -a kvers <<<"$VAULT_NOMOD_KVERS"
else
	kvers=()
	for ko in "$BUILD"/*/dm-vault.ko; do
		[ -e "$ko" ] || continue
		ko=${ko%/dm-vault.ko}
		# A build/<KVER>/ of make check-debug's kernel is not installed
		# here: the generators cannot build an image for it.
		[ -d "/lib/modules/${ko##*/}/kernel" ] || continue
		kvers+=("${ko##*/}")
	done
fi
# Per generator: 13 checks on the first kernel, 4 on each other one.
echo "1..$((26 + (${#kvers[@]} - 1) * 8))"
[ "${#kvers[@]}" -gt 0 ] || { echo "# no build/KVER/dm-vault.ko: make module"; exit 1; }

# /etc/initramfs-tools, private: our hook and local-top script, a small
# image.  And no bootloader hook may run (update-initramfs runs
# /etc/initramfs/post-update.d after a success).
conf=$T/etc-initramfs-tools
mkdir -p "$conf/hooks" "$conf/scripts/local-top" "$conf/conf.d" "$T/empty" "$T/boot" "$T/tmp"
cat > "$conf/initramfs.conf" <<EOF
MODULES=list
BUSYBOX=auto
KEYMAP=n
COMPRESS=gzip
COMPRESSLEVEL=1
DEVICE=
NFSROOT=auto
RUNSIZE=10%
FSTYPE=ext4
RESUME=none
EOF
echo dm-mod > "$conf/modules"
printf 'update_initramfs=yes\nbackup_initramfs=no\n' > "$conf/update-initramfs.conf"
install -m 755 "$BOOTSRC/initramfs-tools/hooks/vault" "$conf/hooks/vault"
install -m 755 "$BOOTSRC/initramfs-tools/scripts/local-top/vault" "$conf/scripts/local-top/vault"
install -m 644 "$BOOTSRC/vault-gettext.sh" "$conf/scripts/vault-gettext"
if ! mount --bind "$conf" /etc/initramfs-tools; then
	echo "# cannot bind-mount over /etc/initramfs-tools"
	exit 1
fi
[ ! -d /etc/initramfs/post-update.d ] || mount --bind "$T/empty" /etc/initramfs/post-update.d

# dracut's modules with ours (tests/boot/dracut.sh does the same).
base=$T/dracut-base
mkdir -p "$base/modules.d" "$T/dracut.conf.d"
for f in /usr/lib/dracut/*; do
	[ "${f##*/}" = modules.d ] || ln -s "$f" "$base/"
done
for f in /usr/lib/dracut/modules.d/*; do
	ln -s "$f" "$base/modules.d/"
done
ln -s "$BOOTSRC/dracut/90vault" "$base/modules.d/90vault"

# Three vaulttabs: the root's entry (the root is /dev/mapper/vroot), only
# an `initramfs` entry (the root elsewhere), none the initramfs needs.
uuid=0a1b2c3d-1111-2222-3333-444455556666
echo "vroot UUID=$uuid none luks" > "$T/tab-root"
echo "vdata UUID=$uuid none luks,initramfs" > "$T/tab-initramfs"
echo "vhome UUID=$uuid none luks" > "$T/tab-none"
echo "vroot UUID=$uuid none luks,bogus" > "$T/tab-bad"
# header=: any bytes do (the generators copy the file, they do not read it)
head -c 65536 /dev/urandom > "$T/root.hdr"
chmod 0600 "$T/root.hdr"
echo "vroot UUID=$uuid none luks,discard,header=$T/root.hdr" > "$T/tab-header"
echo "vroot UUID=$uuid none luks,header=$T/missing.hdr" > "$T/tab-header-missing"

# gen TOOL TAB ROOT [KO]: builds the image of kernel $k with TOOL
# (update-initramfs -c / -u, or dracut), the vaulttab TAB, the root's
# source ROOT, and KO as the kernel's dm-vault.ko (none: no module).
# Status in $rc, output in $T/log.
gen() {
	local tool=$1 tab=$2 root=$3 ko=${4:-}
	local -a env=(env -u DPKG_MAINTSCRIPT_PACKAGE -u VAULT_MODULE TMPDIR="$T/tmp"
		VAULTTAB="$tab" VAULT_ROOT="$root" VAULTCTL="$VAULTCTL")
	[ -z "$ko" ] || env+=(VAULT_MODULE="$ko")
	case $tool in
	update-initramfs-c) "${env[@]}" update-initramfs -c -k "$k" -b "$T/boot" ;;
	update-initramfs-u) "${env[@]}" update-initramfs -u -k "$k" -b "$T/boot" ;;
	dracut)
		"${env[@]}" dracutbasedir="$base" dracut --force --no-hostonly \
			--no-hostonly-cmdline --conf /dev/null --confdir "$T/dracut.conf.d" \
			--tmpdir "$T/tmp" --modules "bash base vault" --omit "systemd plymouth" \
			--no-early-microcode --compress "gzip -1" \
			--kver "$k" "$T/boot/initrd.img-$k"
		;;
	esac > "$T/log" 2>&1
	rc=$?
}
img_has_module() { lsinitramfs "$img" 2>/dev/null | grep -q '/dm-vault\.ko'; }
built() { [ "$rc" = 0 ] && [ -s "$img" ]; }
# refused: the build failed, the message names the kernel and says what
# to run; nothing but the previous image is left in the directory.
refused() {
	[ "$rc" != 0 ] || { echo "exit status 0" >> "$T/log"; return 1; }
	grep -q "kernel $k" "$T/log" && grep -qF "dkms autoinstall -k $k" "$T/log" &&
		grep -q 'dm-vault-dkms' "$T/log"
}
# has_header: the image holds the header file as /etc/vault/headers/vroot.hdr,
# mode 0400, the same bytes, and its vaulttab entry names that path.
has_header() {
	local x=$T/x root
	rm -rf "$x"
	mkdir "$x"
	unmkinitramfs "$img" "$x" >> "$T/log" 2>&1 || { echo "# unmkinitramfs failed"; return 1; }
	root=$x
	[ ! -d "$x/main" ] || root=$x/main
	cmp -s "$root/etc/vault/headers/vroot.hdr" "$T/root.hdr" || { echo "# no copy of the header"; return 1; }
	[ "$(stat -c %a "$root/etc/vault/headers/vroot.hdr")" = 400 ] || { echo "# mode not 0400"; return 1; }
	grep -qx "vroot UUID=$uuid none luks,discard,header=/etc/vault/headers/vroot.hdr *" "$root/etc/vaulttab" ||
		{ sed 's/^/# vaulttab: /' "$root/etc/vaulttab"; return 1; }
}
unchanged() {
	[ "$(sha256sum < "$img")" = "$prev" ] || { echo "# $img changed"; return 1; }
	local extra
	extra=$(find "$T/boot" -mindepth 1 ! -name "initrd.img-$k")
	[ -z "$extra" ] || { echo "# left in the boot directory: $extra"; return 1; }
}

for k in "${kvers[@]}"; do
	ko=$BUILD/$k/dm-vault.ko
	img=$T/boot/initrd.img-$k
	if modinfo -k "$k" dm_vault >/dev/null 2>&1; then
		per=8
		[ "$k" != "${kvers[0]}" ] || per=26
		for _ in $(seq $per); do
			nok "$k: dm_vault is installed for this kernel: it cannot stand for one without it"
		done
		continue
	fi
	for tool in update-initramfs dracut; do
		rm -rf "${T:?}/boot/"*
		t=$SECONDS
		if [ $tool = dracut ]; then
			gen dracut "$T/tab-root" /dev/mapper/vroot "$ko"
		else
			gen update-initramfs-c "$T/tab-root" /dev/mapper/vroot "$ko"
		fi
		check "$k $tool: with dm-vault.ko, root on vault: the image builds" built
		check "$k $tool: and holds dm-vault.ko" img_has_module
		prev=$(sha256sum < "$img" 2>/dev/null)
		u=update-initramfs-u
		[ $tool = dracut ] && u=dracut
		gen $u "$T/tab-root" /dev/mapper/vroot
		check "$k $tool: without it, root on vault: refused, naming the kernel and what to run" refused
		check "$k $tool: and the previous image stays, alone" unchanged
		# What does not depend on the kernel: on the first one only.
		if [ "$k" != "${kvers[0]}" ]; then
			echo "# $k $tool: $((SECONDS - t)) s"
			continue
		fi
		gen $u "$T/tab-initramfs" /dev/sda1
		check "$k $tool: without it, an initramfs entry: refused too" refused
		check "$k $tool: and the previous image stays, alone" unchanged
		# An entry vaultctl tab-check refuses (dracut ignores install()'s
		# status: the module must stop dracut itself).
		gen $u "$T/tab-bad" /dev/mapper/vroot "$ko"
		# shellcheck disable=SC2016 # eval'd
		check "$k $tool: with it, an invalid root entry: refused" eval \
			'[ "$rc" != 0 ] && grep -q "unknown option .bogus." "$T/log"'
		check "$k $tool: and the previous image stays, alone" unchanged
		gen $u "$T/tab-none" /dev/sda1
		# shellcheck disable=SC2016 # eval'd
		check "$k $tool: without it, no entry needs dm-vault: the image builds" eval \
			'built && [ "$(sha256sum < "$img")" != "$prev" ]'
		gen $u "$T/tab-header" /dev/mapper/vroot "$ko"
		check "$k $tool: with it, a root entry with header=: the image builds" built
		check "$k $tool: and holds the header as /etc/vault/headers/vroot.hdr (0400), the entry rewritten" has_header
		prev=$(sha256sum < "$img" 2>/dev/null)
		gen $u "$T/tab-header-missing" /dev/mapper/vroot "$ko"
		# shellcheck disable=SC2016 # eval'd
		check "$k $tool: a missing header= file: refused, naming the entry and the file" eval \
			'[ "$rc" != 0 ] && grep "$T/missing.hdr" "$T/log" | grep -q vroot'
		check "$k $tool: and the previous image stays, alone" unchanged
		echo "# $k $tool: $((SECONDS - t)) s"
	done
done

echo "# $pass passed, $fail failed"
[ "$fail" = 0 ]
