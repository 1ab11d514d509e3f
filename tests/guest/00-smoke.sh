#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Smoke test: dm-vault.ko loads, registers /dev/vault-control and the "vault"
# device-mapper target, and unloads cleanly.
. "${VAULT_REPO:?}/tests/lib/ktap.sh"

need_cmd dmsetup insmod rmmod

if [ ! -f "$VAULT_KO" ]; then
	ktap_fail_all "$VAULT_KO is missing: the module did not build for $VAULT_KVER"
fi
if [ -d /sys/module/dm_vault ]; then
	ktap_check "unload a module left loaded" rmmod dm_vault
fi

ktap_check "modprobe dm-mod" modprobe dm-mod
ktap_check "insmod dm-vault.ko" insmod "$VAULT_KO" ||
	{ dmesg | tail -n 10 | ktap_diag_stream; ktap_finish; }
ktap_check "module listed in /proc/modules" grep -q '^dm_vault ' /proc/modules
ktap_check "/dev/vault-control is a character device" test -c /dev/vault-control
ktap_check "control device is a misc device" \
	sh -c 'grep -qw vault-control /proc/misc'
ktap_check "dmsetup targets lists vault" \
	sh -c 'DM_DISABLE_UDEV=1 dmsetup targets | grep -q "^vault "'
DM_DISABLE_UDEV=1 dmsetup targets | grep '^vault ' | ktap_diag_stream
if [ -x "$VAULTCTL" ]; then
	ktap_check "vaultctl version talks to the module" "$VAULTCTL" version
fi
ktap_check "rmmod dm_vault" rmmod dm_vault
ktap_check "/dev/vault-control gone after rmmod" not test -e /dev/vault-control
ktap_check "reload after unload" insmod "$VAULT_KO"
ktap_check "rmmod again" rmmod dm_vault
ktap_finish
