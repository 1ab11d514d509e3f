#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The Debian packages (debian/, make deb): builds them with `make deb` into
# a scratch directory and checks what an administrator gets:
#   - make deb makes exactly dm-vault-dkms_V_all.deb and vaultctl_V_ARCH.deb,
#   - lintian finds no error and no warning in either,
#   - vaultctl holds the tool, man page, boot integration, completion, docs;
#     dm-vault-dkms the module source and a dkms.conf DKMS accepts (dkms add
#     with private trees), nothing from build/ or .git or object files,
#   - a DKMS build for a kernel without headers names the kernel and why,
#   - one version: VERSION = both packages' Version = `vaultctl version`
#     of the packaged binary = modinfo -F version of each built module,
#   - both prerm scripts refuse `remove` on a fake root-on-vault machine
#     (VAULT_ROOT, VAULTTAB: as the initramfs hook) and allow it otherwise,
#     on upgrade, and with VAULT_FORCE_REMOVE=1.
# Prints KTAP and the time it took.  Usage: deb.sh VAULTCTL (unused: the
# packaged vaultctl is the one tested).

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
T=$(mktemp -d /tmp/vault-deb.XXXXXX)
trap 'rm -rf "$T"' EXIT
OUT=$T/out ERR=$T/err
: > "$OUT"; : > "$ERR"
# shellcheck source=userspace/tests/lib.sh
. "$HERE/lib.sh"
start=$(date +%s)
echo "KTAP version 1"

V=$(cat "$REPO/VERSION")
ARCH=$(dpkg --print-architecture 2>/dev/null || echo amd64)
DKMS_DEB=$T/deb/dm-vault-dkms_${V}_all.deb
VCTL_DEB=$T/deb/vaultctl_${V}_${ARCH}.deb

missing=
for c in dpkg-buildpackage dh dh_dkms lintian dkms; do
	command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
done
if [ -n "$missing" ]; then
	skp_dep "make deb" "not installed:$missing (make deps)"
	finish
fi

# --- make deb ----------------------------------------------------------------
t0=$(date +%s)
if make --no-print-directory -C "$REPO" deb DEB_OUT="$T/deb" >"$OUT" 2>"$ERR" &&
   [ -f "$DKMS_DEB" ] && [ -f "$VCTL_DEB" ] &&
   [ "$(find "$T/deb" -name '*.deb' | wc -l)" = 2 ]; then
	ok "make deb makes dm-vault-dkms_${V}_all.deb and vaultctl_${V}_${ARCH}.deb ($(($(date +%s) - t0)) s)"
else
	ls "$T/deb" >> "$OUT" 2>&1
	nok "make deb makes dm-vault-dkms_${V}_all.deb and vaultctl_${V}_${ARCH}.deb"
	finish
fi

# --- lintian -----------------------------------------------------------------
for deb in "$DKMS_DEB" "$VCTL_DEB"; do
	name=${deb##*/}
	lintian --fail-on error,warning "$deb" >"$OUT" 2>"$ERR"
	rc=$?
	if [ $rc = 0 ] && ! grep -q '^[EW]: ' "$OUT"; then
		ok "lintian: no error or warning in $name"
	else
		nok "lintian: no error or warning in $name (exit $rc)"
	fi
done

# --- contents ----------------------------------------------------------------
dpkg-deb -c "$VCTL_DEB" | awk '{ print $6 }' | sed 's|^\./|/|' > "$T/vctl.list"
dpkg-deb -c "$DKMS_DEB" | awk '{ print $6 }' | sed 's|^\./|/|' > "$T/dkms.list"
# has LIST PATH...: every PATH is in LIST; the missing ones go to $ERR.
has() {
	list=$1; shift
	: > "$ERR"
	for p in "$@"; do
		grep -qx "$p" "$list" || echo "missing: $p" >> "$ERR"
	done
	[ ! -s "$ERR" ]
}
: > "$OUT"
if has "$T/vctl.list" /usr/sbin/vaultctl /usr/share/man/man8/vaultctl.8.gz \
	/usr/share/initramfs-tools/hooks/vault \
	/usr/share/initramfs-tools/scripts/local-top/vault \
	/usr/share/initramfs-tools/scripts/vault-gettext /usr/lib/dm-vault/vault-gettext.sh \
	/usr/lib/dracut/modules.d/90vault/module-setup.sh \
	/usr/lib/dracut/modules.d/90vault/vault-settled.sh \
	/usr/lib/dracut/modules.d/90vault/vault-netdev-root.sh \
	/usr/lib/dracut/modules.d/90vault/vault-dracut-open \
	/usr/lib/systemd/system-generators/vault-generator \
	/usr/lib/dm-vault/vault-unlock /usr/lib/dm-vault/root-on-vault \
	/usr/share/bash-completion/completions/vaultctl \
	/usr/share/doc/vaultctl/copyright /usr/share/doc/vaultctl/README.md.gz \
	/usr/share/doc/vaultctl/root-on-vault.rst.gz \
	/usr/share/locale/vi/LC_MESSAGES/vaultctl.mo /usr/share/man/vi/man8/vaultctl.8.gz \
	/usr/share/doc/vaultctl/vi/key-leaked.rst.gz /usr/share/doc/vaultctl/vi/root-on-vault.rst.gz; then
	ok "vaultctl holds the tool, man page, boot integration, completion, docs and catalogues"
else
	nok "vaultctl holds the tool, man page, boot integration, completion, docs and catalogues"
fi
src=/usr/src/dm-vault-$V
set -- "$src/dkms.conf" "$src/Kbuild" "$src/VERSION" "$src/dkms-check" \
	"$src/module/Kbuild" "$src/module/uapi/linux/dm-vault.h" \
	/usr/share/doc/dm-vault-dkms/copyright
for f in "$REPO"/module/*.c "$REPO"/module/*.h; do
	set -- "$@" "$src/module/${f##*/}"
done
if has "$T/dkms.list" "$@"; then
	ok "dm-vault-dkms holds dkms.conf and every module source file under $src"
else
	nok "dm-vault-dkms holds dkms.conf and every module source file under $src"
fi
if grep -E '/build/|/\.git|\.o$|\.ko$|\.cmd$|\.mod|~$|\.orig$|/tests/|/debian/' \
	"$T/vctl.list" "$T/dkms.list" > "$OUT"; then
	nok "no build output, .git, tests or debian/ files in the packages"
else
	ok "no build output, .git, tests or debian/ files in the packages"
fi

# --- dkms.conf ---------------------------------------------------------------
mkdir -p "$T/x"
dpkg-deb -x "$DKMS_DEB" "$T/x/dkms" && dpkg-deb -x "$VCTL_DEB" "$T/x/vctl"
conf=$T/x/dkms$src/dkms.conf
# dkms sources dkms.conf with bash: so does this check.
# shellcheck disable=SC2016
if bash -c '. "$1" && [ "$PACKAGE_NAME" = dm-vault ] && [ "$PACKAGE_VERSION" = "$2" ] &&
	[ "$AUTOINSTALL" = yes ] && [ "${BUILT_MODULE_NAME[0]}" = dm-vault ] &&
	[ "${DEST_MODULE_LOCATION[0]}" = /updates/dkms ]' sh "$conf" "$V" >"$OUT" 2>"$ERR"; then
	ok "dkms.conf: dm-vault $V, AUTOINSTALL=yes, dm-vault.ko into /updates/dkms"
else
	cat "$conf" >> "$OUT"
	nok "dkms.conf: dm-vault $V, AUTOINSTALL=yes, dm-vault.ko into /updates/dkms"
fi
if [ "$(id -u)" != 0 ]; then
	skp "dkms add accepts the source tree" "dkms needs root"
	skp "a DKMS build for a kernel without headers names it and says why" "dkms needs root"
else
	tree=$T/dkms-tree
	mkdir -p "$tree" "$T/nohdr/include"
	dk() { dkms "$@" --sourcetree "$T/x/dkms/usr/src" --dkmstree "$tree"; }
	if dk add -m dm-vault -v "$V" >"$OUT" 2>"$ERR" &&
	   dk status -m dm-vault -v "$V" >"$OUT" 2>>"$ERR" &&
	   grep -q "^dm-vault/$V: added" "$OUT"; then
		ok "dkms add accepts the source tree (dkms status: added)"
	else
		nok "dkms add accepts the source tree (dkms status: added)"
	fi
	# A headers directory DKMS lets through (it has include/) but cannot
	# build with: the PRE_BUILD check must say which kernel and why.  A
	# made-up kernel has no sign-file, so DKMS does not make a MOK key in
	# /var/lib/dkms on this host.
	dk build -m dm-vault -v "$V" -k 0.0.0-nohdr --kernelsourcedir "$T/nohdr" \
		>"$OUT" 2>"$ERR"
	rc=$?
	if [ $rc != 0 ] &&
	   grep -q "dm-vault: cannot build for kernel 0.0.0-nohdr: no headers in $T/nohdr (install linux-headers-0.0.0-nohdr)" "$ERR" &&
	   grep -q "module build on kernel: 0.0.0-nohdr" "$ERR"; then
		ok "a DKMS build for a kernel without headers names it and says why"
	else
		nok "a DKMS build for a kernel without headers names it and says why (exit $rc)"
	fi
fi

# The other reasons dkms-check gives, on made-up headers directories.
chk=$T/x/dkms$src/dkms-check
mkdir -p "$T/k"
printf 'all:\n' > "$T/k/Makefile"
: > "$OUT"; bad=0
# why CONFIG EXPECTED: dkms-check on a .config holding CONFIG says EXPECTED.
why() {
	printf '%b' "$1" > "$T/k/.config"
	"$chk" 1.2.3-test "$T/k" >> "$OUT" 2>&1 && bad=1
	grep -qF "dm-vault: cannot build for kernel 1.2.3-test: $2" "$OUT" || bad=1
}
why 'CONFIG_CC_VERSION_TEXT="x86_64-linux-gnu-gcc-99 (Debian 99) 99"\nCONFIG_BLK_DEV_DM=m\n' \
	"its compiler x86_64-linux-gnu-gcc-99 is not installed (install gcc-99)"
why '# CONFIG_BLK_DEV_DM is not set\n' "the kernel is built without device-mapper (CONFIG_BLK_DEV_DM)"
rm -f "$T/k/.config"
"$chk" 1.2.3-test "$T/k" >> "$OUT" 2>&1 && bad=1
grep -qF "$T/k has no .config: the headers are incomplete (reinstall linux-headers-1.2.3-test)" "$OUT" || bad=1
printf 'CONFIG_BLK_DEV_DM=y\n' > "$T/k/.config"
"$chk" 1.2.3-test "$T/k" >> "$OUT" 2>&1 || bad=1
if [ $bad = 0 ]; then
	ok "dkms-check names the missing compiler, device-mapper, .config; passes complete headers"
else
	nok "dkms-check names the missing compiler, device-mapper, .config; passes complete headers"
fi

# --- one version -------------------------------------------------------------
dv=$(dpkg-deb -f "$DKMS_DEB" Version) vv=$(dpkg-deb -f "$VCTL_DEB" Version)
"$T/x/vctl/usr/sbin/vaultctl" version >"$OUT" 2>"$ERR"
tv=$(sed -n 's/^vaultctl //p' "$OUT")
echo "# VERSION $V, dm-vault-dkms $dv, vaultctl $vv, vaultctl version: $tv" > "$OUT"
if [ "$dv" = "$V" ] && [ "$vv" = "$V" ] && [ "$tv" = "$V" ]; then
	ok "one version: VERSION, both packages and vaultctl version say $V"
else
	nok "one version: VERSION, both packages and vaultctl version say $V"
fi
# Only the modules of installed kernels (what `make module` rebuilds): a
# build/<KVER>/ of make check-debug's kernel may be from an older tree.
kos=$(for ko in "$REPO"/build/*/dm-vault.ko; do
	k=${ko%/dm-vault.ko}
	[ -e "/lib/modules/${k##*/}/build" ] && [ -f "$ko" ] && echo "$ko"
done)
if [ -z "$kos" ]; then
	skp "modinfo -F version of the built modules is $V" "no build/<KVER>/dm-vault.ko (make module)"
else
	: > "$OUT"; bad=0
	for ko in $kos; do
		mv=$(modinfo -F version "$ko" 2>>"$ERR")
		echo "$ko: $mv" >> "$OUT"
		[ "$mv" = "$V" ] || bad=1
	done
	if [ $bad = 0 ]; then
		ok "modinfo -F version of the built modules is $V ($(echo "$kos" | wc -l))"
	else
		nok "modinfo -F version of the built modules is $V"
	fi
fi

# --- prerm: refuse removal on a root-on-vault machine ------------------------
# A stand-in dkms records what the dh_dkms part of the prerm would do.
mkdir -p "$T/bin"
# shellcheck disable=SC2016	# $* and $1 are the stand-in's
printf '#!/bin/sh\necho "dkms $*" >> "%s/dkms.calls"\n[ "$1" != status ] || echo "dm-vault/%s: installed"\n' \
	"$T" "$V" > "$T/bin/dkms"
chmod +x "$T/bin/dkms"
printf '# a comment\nroot UUID=0d7e2d5b-7e1c-4a4b-9a53-d0c5d4b3a201 none luks,discard\nhome /dev/sdb1 /etc/vault/home.key luks,nofail\n' > "$T/tab.root"
printf 'swap /dev/sdc1 /etc/vault/swap.key luks,initramfs\n' > "$T/tab.initramfs"
printf 'home /dev/sdb1 /etc/vault/home.key luks,nofail\n' > "$T/tab.other"
# prerm PKG ROOT TAB ARGS...: runs PKG's prerm from its .deb; status in $rc.
prerm() {
	pkg=$1 root=$2 tab=$3; shift 3
	rm -f "$T/dkms.calls"
	env PATH="$T/bin:$PATH" VAULT_LIB="$T/x/vctl/usr/lib/dm-vault" \
		VAULT_ROOT="$root" VAULTTAB="$tab" sh "$T/ctl/$pkg/prerm" "$@" \
		>"$OUT" 2>"$ERR"
	rc=$?
}
# The helper finds the root as the initramfs hook does: the same functions.
fn() { awk -v f="$1() {" '$0 == f { p = 1 } p { print } p && /^}/ { exit }' "$2"; }
helper=$T/x/vctl/usr/lib/dm-vault/root-on-vault
: > "$OUT"
for f in dm_names dm_names_sys root_source; do
	fn "$f" "$REPO/userspace/boot/initramfs-tools/hooks/vault" > "$T/fn.hook"
	fn "$f" "$helper" > "$T/fn.helper"
	{ [ -s "$T/fn.hook" ] && diff -u "$T/fn.hook" "$T/fn.helper"; } >> "$OUT" ||
		echo "$f differs" >> "$OUT"
done
if ! grep -q differs "$OUT"; then
	ok "root-on-vault finds the root as the initramfs hook does (dm_names, dm_names_sys, root_source)"
else
	nok "root-on-vault finds the root as the initramfs hook does (dm_names, dm_names_sys, root_source)"
fi
# This host's own root (findmnt) is not on a vault volume.
VAULTTAB=$T/tab.root "$helper" >"$OUT" 2>"$ERR"
rc=$?
if [ $rc = 1 ] && [ ! -s "$OUT" ]; then
	ok "root-on-vault: this host's root ($(findmnt -n -o SOURCE /)) is on no vault volume"
else
	nok "root-on-vault: this host's root is on no vault volume (exit $rc)"
fi

for pkg in vaultctl dm-vault-dkms; do
	deb=$VCTL_DEB
	[ "$pkg" = vaultctl ] || deb=$DKMS_DEB
	mkdir -p "$T/ctl"
	dpkg-deb -e "$deb" "$T/ctl/$pkg"

	prerm "$pkg" /dev/mapper/root "$T/tab.root" remove
	if [ $rc != 0 ] && grep -q 'root file system' "$ERR" &&
	   grep -q "^  root: the root file system is on it" "$ERR" &&
	   grep -q "VAULT_FORCE_REMOVE=1 apt remove $pkg" "$ERR" &&
	   [ ! -e "$T/dkms.calls" ]; then
		ok "$pkg prerm refuses remove when the root is on vault volume root"
	else
		nok "$pkg prerm refuses remove when the root is on vault volume root (exit $rc)"
	fi
	prerm "$pkg" /dev/sda2 "$T/tab.initramfs" remove
	if [ $rc != 0 ] && grep -q "^  swap: marked initramfs" "$ERR" &&
	   grep -q 'root file system' "$ERR"; then
		ok "$pkg prerm refuses remove when a vaulttab entry is marked initramfs"
	else
		nok "$pkg prerm refuses remove when a vaulttab entry is marked initramfs (exit $rc)"
	fi
	prerm "$pkg" /dev/sda2 "$T/tab.other" remove
	if [ $rc = 0 ] && [ ! -s "$ERR" ]; then
		ok "$pkg prerm allows remove when no initramfs volume is on vault"
	else
		nok "$pkg prerm allows remove when no initramfs volume is on vault (exit $rc)"
	fi
	prerm "$pkg" /dev/mapper/root "$T/tab.root" upgrade "$V"
	if [ $rc = 0 ]; then
		ok "$pkg prerm allows upgrade on a root-on-vault machine"
	else
		nok "$pkg prerm allows upgrade on a root-on-vault machine (exit $rc)"
	fi
	VAULT_FORCE_REMOVE=1 prerm "$pkg" /dev/mapper/root "$T/tab.root" remove
	if [ $rc = 0 ] && { [ "$pkg" = vaultctl ] ||
	   grep -q "^dkms remove -m dm-vault -v $V --all" "$T/dkms.calls"; }; then
		ok "$pkg prerm removes with VAULT_FORCE_REMOVE=1$([ "$pkg" = vaultctl ] || echo ' (and runs dkms remove)')"
	else
		nok "$pkg prerm removes with VAULT_FORCE_REMOVE=1 (exit $rc)"
	fi
done

echo "# deb.sh took $(($(date +%s) - start)) s"
finish
