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

# luks2_sdc_setup: for the tests that also map the volume with systemd's
# systemd-cryptsetup (as ${T}sd, vaultctl's mapping being $T): sets SDC,
# skips without it, and closes both mappings at exit (a failed check may
# leave either open).
luks2_sdc_setup() {
	SDC=/usr/lib/systemd/systemd-cryptsetup
	[ -x $SDC ] || ktap_skip_dep "$SDC is not installed"
	ktap_defer luks2_sdc_cleanup
}
luks2_sdc_cleanup() {
	"$VAULTCTL" close $T >/dev/null 2>&1
	DM_DISABLE_UDEV=1 $SDC detach ${T}sd >/dev/null 2>&1
}

# luks2_write_data DEVICE: DEVICE formatted by vaultctl with ./pw, and ./data
# written through vaultctl's mapping $T (closed again); fails if any step does.
luks2_write_data() {
	"$VAULTCTL" format "${FAST[@]}" --batch-mode --key-file pw "$1" &&
		"$VAULTCTL" open --key-file pw "$1" $T &&
		dd if=data of=/dev/mapper/$T bs=1M oflag=direct conv=fsync status=none &&
		"$VAULTCTL" close $T
}

# luks2_volume_with_data: in the current directory pw (the passphrase) and
# data (1 MiB of random bytes), written to $DEV by luks2_write_data: one check.
luks2_volume_with_data() {
	printf 'the passphrase' >pw
	head -c $((1 << 20)) /dev/urandom >data
	luks2_write_data $DEV
	ktap_check "data written through vaultctl's mapping" test $? = 0
}

# luks2_open_reads SECONDS DEVICE [vaultctl open options...] < input:
# vaultctl open (killed after SECONDS: a token that never answers fails, not
# hangs) maps DEVICE as ${T}b; true when it reads back the 1 MiB of ./data.
# Closed again; vaultctl's errors go to the KTAP diagnostics ($WORK/err).
luks2_open_reads() {
	local secs=$1 dev=$2 r
	shift 2
	timeout "$secs" "$VAULTCTL" open "$@" "$dev" ${T}b 2>"$WORK/err" || {
		ktap_diag_stream <"$WORK/err"
		return 1
	}
	cmp -s -n $((1 << 20)) /dev/mapper/${T}b data
	r=$?
	"$VAULTCTL" close ${T}b
	return $r
}
