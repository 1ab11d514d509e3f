# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# tests/vm/kernels.sh - which kernels `make check` must test, sourced by
# tests/vm/check-all (and by tests/ci/run, which tests it).
#
# The expected set is the Makefile's KERNEL_SERIES (next to DEPS_PKGS, whose
# kernel packages install them): a series such as "6.1" is tested when a
# guest ran on an installed kernel "6.1.*" (6.1.0-57-amd64, but not 6.12.x).
#
#   kernels_series REPO        print KERNEL_SERIES from REPO/Makefile
#   kernels_find MODDIR BOOTDIR
#                              print each kernel with headers
#                              (MODDIR/K/build/Makefile) and an image
#                              (BOOTDIR/vmlinuz-K); say on stderr which half
#                              is missing for a kernel that has only one
#   kernels_untested SERIES -- KVER...
#                              print each series (space separated in SERIES)
#                              that no KVER belongs to; return 1 if any

kernels_series() {
	sed -n 's/^KERNEL_SERIES[[:space:]]*:=[[:space:]]*//p' "$1/Makefile"
}

kernels_find() {
	local moddir=$1 bootdir=$2 d k
	for d in "$moddir"/*/; do
		[ -d "$d" ] || continue
		k=$(basename "$d")
		if [ -e "$d/build/Makefile" ] && [ -r "$bootdir/vmlinuz-$k" ]; then
			echo "$k"
		elif [ -e "$d/build/Makefile" ]; then
			echo "kernel $k: headers but no image ($bootdir/vmlinuz-$k)" >&2
		elif [ -r "$bootdir/vmlinuz-$k" ]; then
			echo "kernel $k: image but no headers ($d""build)" >&2
		fi
	done
}

kernels_untested() {
	local series=$1 s k found rc=0
	shift
	[ "${1:-}" = -- ] && shift
	for s in $series; do
		found=0
		for k in "$@"; do
			case $k in "$s"|"$s".*|"$s"-*) found=1 ;; esac
		done
		[ $found = 1 ] || { echo "$s"; rc=1; }
	done
	return $rc
}
