# SPDX-License-Identifier: GPL-2.0-or-later
#
# The common start of the LUKS2 guest tests (31-35), sourced after ktap.sh.

# cs ARGS: cryptsetup as the test oracle, without udev or lock files.
cs() { DM_DISABLE_UDEV=1 cryptsetup --disable-locks "$@"; }

# luks2_test_setup NAME RAMDISK_MIB [COMMAND...]: sets T (mapping name),
# DEV (a fresh ramdisk of RAMDISK_MIB MiB), WORK (scratch directory,
# removed at exit) and FAST (PBKDF options that keep TCG quick); skips
# when vaultctl, dmsetup or a COMMAND is missing; loads dm-vault.
luks2_test_setup() {
	T=$1
	local mib=$2
	shift 2
	DEV=/dev/ram0
	FAST=(--pbkdf pbkdf2 --pbkdf-force-iterations 1000)
	need_vaultctl
	need_cmd dmsetup "$@"
	WORK=$(mktemp -d "/tmp/$T.XXXXXX") || ktap_fail_all "mktemp failed"
	ktap_defer rm -rf "$WORK"
	vault_setup_module || ktap_fail_all "dm-vault.ko cannot be loaded"
	brd_setup 1 "$mib" || ktap_fail_all "cannot create a ramdisk"
}
