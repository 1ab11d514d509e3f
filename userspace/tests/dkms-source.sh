# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Sourced by module-signing.sh.
# dkms_source REPO DIR: `make deb` of REPO (into DIR/deb), then the module
# source exactly as dm-vault-dkms ships it, /usr/src/dm-vault-VERSION with
# its dkms.conf, as DIR/dm-vault-VERSION; prints VERSION.  On failure,
# make's output goes to stderr.

dkms_source() {
	local repo=$1 dir=$2 deb src
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		make --no-print-directory -C "$repo" deb DEB_OUT="$dir/deb" \
		> "$dir/deb.log" 2>&1 || { tail -n 30 "$dir/deb.log" >&2; return 1; }
	deb=$(find "$dir/deb" -name 'dm-vault-dkms_*_all.deb' | head -n 1)
	[ -n "$deb" ] || { echo "make deb made no dm-vault-dkms .deb" >&2; return 1; }
	dpkg-deb -x "$deb" "$dir/pkg" || return 1
	src=$(find "$dir/pkg/usr/src" -mindepth 1 -maxdepth 1 -name 'dm-vault-*' | head -n 1)
	[ -f "$src/dkms.conf" ] || { echo "$deb has no /usr/src/dm-vault-*/dkms.conf" >&2; return 1; }
	mv "$src" "$dir/" || return 1
	rm -rf "$dir/pkg" "$dir/deb"
	src=${src##*/}
	echo "${src#dm-vault-}"
}
