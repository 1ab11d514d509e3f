# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# tests/boot/dracut.sh - dracut initramfs images for the boot tests
# (50-dracut, 55-dracut-tpm2), sourced after lib.sh:
#   dracut_build VARIANT TAB [systemd]  prints build/boot/KVER/dracut-VARIANT.img,
#                    built by dracut with our module (cached; the cache key
#                    holds the module, the tab, its key and header files,
#                    vaultctl, this file, ...).
# The module is used from the repository through a private dracut base
# directory (symlinks to /usr/lib/dracut plus 90vault): nothing is
# installed under /usr/lib.

module=$BOOT_REPO/userspace/boot/dracut/90vault

# A dracut base directory whose modules.d holds the system's modules and ours.
dracut_base() {
	local base=$BOOT_DIR/dracut-base f
	rm -rf "$base.new"
	mkdir -p "$base.new/modules.d"
	for f in /usr/lib/dracut/*; do
		[ "${f##*/}" = modules.d ] || ln -s "$f" "$base.new/"
	done
	for f in /usr/lib/dracut/modules.d/*; do
		ln -s "$f" "$base.new/modules.d/"
	done
	ln -s "$module" "$base.new/modules.d/90vault"
	rm -rf "$base" && mv "$base.new" "$base"
	echo "$base"
}

# _dracut_build VARIANT TAB [systemd]: build/boot/KVER/dracut-VARIANT.img
# (cached); with "systemd", an initramfs run by systemd (vault-generator's
# units unlock the root) instead of dracut's shell init.  VAULT_LOCALE_CONF
# and VAULT_LOCALEDIR, when exported, reach module-setup.sh (the language).
_dracut_build() {
	local variant=$1 tab=$2 mode=${3:-shell} out log h base k keys=() rc mods omit
	out=$BOOT_KDIR/dracut-$variant.img
	log=$BOOT_KDIR/dracut-$variant.log
	# the files the image copies: key files, and header= (detached LUKS2 headers)
	while read -r _ _ k o; do
		[ -f "$k" ] && keys+=("$k")
		[[ ,$o, =~ ,header=([^,]*), && -f ${BASH_REMATCH[1]} ]] && keys+=("${BASH_REMATCH[1]}")
	done < <(grep -v '^[[:space:]]*#' "$tab")
	h=$(_boot_hash "$BOOT_REPO/tests/boot/dracut.sh" "$module"/* "$BOOT_REPO/userspace/boot/systemd"/* \
		"$BOOT_REPO/userspace/boot/vault-gettext.sh" \
		"$tab" "${keys[@]}" "$VAULTCTL" "$VAULT_KO" "/lib/modules/$BOOT_KVER/modules.dep" \
		"$(command -v dracut)" "$mode" "${VAULT_LOCALE_CONF:-}" "${VAULT_LOCALEDIR:-}")
	if _boot_fresh "$out" "$h"; then
		echo "$out"
		return 0
	fi
	base=$(dracut_base)
	mods="bash base fs-lib rootfs-block dm udev-rules vault"
	omit="systemd plymouth"
	if [ "$mode" = systemd ]; then
		mods="systemd systemd-initrd systemd-ask-password systemd-udevd systemd-journald dracut-systemd $mods"
		omit=plymouth
	fi
	mkdir -p "$BOOT_KDIR/dracut-conf.d" "$BOOT_KDIR/tmp"
	rm -f "$out"
	env dracutbasedir="$base" VAULTTAB="$tab" VAULT_MODULE="$VAULT_KO" VAULTCTL="$VAULTCTL" \
		dracut --force --no-hostonly --no-hostonly-cmdline \
		--conf /dev/null --confdir "$BOOT_KDIR/dracut-conf.d" --tmpdir "$BOOT_KDIR/tmp" \
		--modules "$mods" --omit "$omit" \
		--drivers "virtio_pci virtio_blk ext4" \
		--no-early-microcode --compress "gzip -1" \
		--kver "$BOOT_KVER" "$out" > "$log" 2>&1
	rc=$?
	if [ "$rc" -ne 0 ] || [ ! -s "$out" ]; then
		ktap_diag "dracut for $variant failed (exit $rc):"
		sed 's/^/#   /' "$log"
		rm -f "$out"
		return 1
	fi
	echo "$h" > "$out.stamp"
	echo "$out"
}

dracut_build() {
	_boot_locked _dracut_build "$@"
}
