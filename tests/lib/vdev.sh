# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# shellcheck disable=SC2034 # the names set here are for the tests that source it
#
# tests/lib/vdev.sh - the start the guest tests of a vault device made with
# dmsetup share (source after ktap.sh), written once so that the names and
# the clean-up stay the same in every test:
#
#   vdev_names NAME [MIB]   T=NAME; WORK, a scratch directory /tmp/NAME.XXXXXX
#                        removed at exit (after the test's own clean-up,
#                        which may still use it); V, the vault device's
#                        dm name, and M its path; L and C, the names of a
#                        lower dm device and of a dm-crypt twin; with MIB,
#                        MIB and LEN (MIB MiB in sectors).  Exports
#                        DM_DISABLE_UDEV=1: the guest runs no udev.
#   vdev_lower_setup COMMAND...   for a vault device $V on a dm device $L
#                        on a MIB-MiB ramdisk (85, 86): removes both and the
#                        key $T-key at exit; skips without vaultctl, dmsetup
#                        or a COMMAND; loads dm-vault; adds the key $T-key
#                        (512 random bits, also in $WORK/key).
#   vdev_async_setup COMMAND...   for a vault device $V on the test cipher of
#                        tests/async-cipher (25, 66): ASYNC_KO (the module,
#                        which the test loads) and SPEC (the cipher spec
#                        that uses it); removes $V, $C, the key $T-key and
#                        the module at exit; skips without vaultctl, dmsetup
#                        or a COMMAND, or when the module is not built;
#                        loads dm-vault.

vdev_names() {
	T=$1
	if [ -n "${2:-}" ]; then
		MIB=$2
		LEN=$((MIB * 2048))
	fi
	export DM_DISABLE_UDEV=1
	WORK=$(mktemp -d "/tmp/$T.XXXXXX") || ktap_fail_all "mktemp failed"
	ktap_defer rm -rf "$WORK"
	V=$T-v
	M=/dev/mapper/$V
	L=$T-lower
	C=$T-c
}

vdev_lower_cleanup() {
	dmsetup remove --retry $V >/dev/null 2>&1
	dmsetup remove --retry $L >/dev/null 2>&1
	"$VAULTCTL" key remove $T-key >/dev/null 2>&1
}

vdev_lower_setup() {
	ktap_defer vdev_lower_cleanup
	need_vaultctl
	vault_setup_module || ktap_fail_all "dm-vault.ko cannot be loaded"
	need_cmd dmsetup "$@"
	brd_setup 1 "$MIB" || ktap_fail_all "cannot create a ramdisk"
	head -c 64 /dev/urandom > "$WORK/key"
	"$VAULTCTL" key add $T-key --key-file "$WORK/key" --key-size 512 ||
		ktap_fail_all "vaultctl key add"
}

vdev_async_cleanup() {
	dmsetup remove --retry $V >/dev/null 2>&1
	dmsetup remove --retry $C >/dev/null 2>&1
	"$VAULTCTL" key remove $T-key >/dev/null 2>&1
	rmmod vault_test_async >/dev/null 2>&1
}

vdev_async_setup() {
	ASYNC_KO=$VAULT_BUILD/$VAULT_KVER/vault-test-async.ko
	SPEC="capi:xts-aes-vault-test-async-plain64"
	ktap_defer vdev_async_cleanup
	need_vaultctl
	need_cmd dmsetup "$@"
	[ -r "$ASYNC_KO" ] || ktap_skip_dep "vault-test-async.ko not built ($ASYNC_KO)"
	vault_setup_module || ktap_fail_all "dm-vault.ko cannot be loaded"
}
