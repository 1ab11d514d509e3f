# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Sourced by module-signing.sh (and whoever else builds with DKMS).
# dkms_source REPO DIR: makes DIR/dm-vault-VERSION, the tree dm-vault-dkms
# installs as /usr/src/dm-vault-VERSION (Kbuild, module/, dkms.conf), and
# prints VERSION.

dkms_source() {
	local repo=$1 dir=$2 ver src
	ver=$(sed -n 's/^#define VAULT_VERSION_MAJOR[[:space:]]*\([0-9]*\).*/\1/p' \
		"$repo/module/uapi/linux/dm-vault.h")
	ver=$ver.$(sed -n 's/^#define VAULT_VERSION_MINOR[[:space:]]*\([0-9]*\).*/\1/p' \
		"$repo/module/uapi/linux/dm-vault.h")
	src=$dir/dm-vault-$ver
	mkdir -p "$src" && cp -r "$repo/Kbuild" "$repo/module" "$src/" || return 1
	# Until debian/ ships its dkms.conf: one as dh-dkms would install.
	cat > "$src/dkms.conf" <<EOC || return 1
PACKAGE_NAME="dm-vault"
PACKAGE_VERSION="$ver"
BUILT_MODULE_NAME[0]="dm-vault"
BUILT_MODULE_LOCATION[0]="module/"
DEST_MODULE_LOCATION[0]="/updates/dkms"
MAKE[0]="make -C \${kernel_source_dir} M=\${dkms_tree}/\${PACKAGE_NAME}/\${PACKAGE_VERSION}/build modules"
CLEAN="true"
AUTOINSTALL="yes"
EOC
	echo "$ver"
}
